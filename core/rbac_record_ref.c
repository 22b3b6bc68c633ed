/*
 * rbac_record_ref.c: rbac:ref:<kind>:<key>, a reference
 * (docs/references.md): the type and id of the object a name or a child
 * id stands for, and whether rbacctl derived it from a name.
 */

#include <string.h>

#include "rbac_record_int.h"


rbac_rc_t
rbac_rec_ref_parse(rbac_blob_t *b, const cJSON *j, const char *path)
{
    char                  p[RBAC_PATH_LEN];
    uint32_t              off;
    rbac_rc_t             rc;
    rbac_str_t            s;
    const char           *name;
    rbac_reference_rec_t  r;

    memset(&r, 0, sizeof(r));
    off = rbac_blob_reserve(b, sizeof(r));

    rc = rbac_rf_check_str(rbac_rf_get(j, "type"),
                           rbac_rf_path(p, path, "type"),
                           RBAC_RF_REQUIRED | RBAC_RF_NAME | RBAC_RF_NONEMPTY,
                           NULL, &name, b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    s.data = name;
    s.len = strlen(name);
    r.type = (uint8_t) rbac_type_from_name(s);

    if (r.type == RBAC_T_OTHER) {
        return rbac_err_set(b->err, RBAC_EUNKNOWN,
                            "%s: unknown resource type \"%s\"", p, name);
    }

    r.type_name = rbac_blob_bytes(b, s.data, s.len);

    rc = rbac_rf_str(b, j, "id", path,
                     RBAC_RF_REQUIRED | RBAC_RF_NAME | RBAC_RF_NONEMPTY, NULL,
                     &r.id);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_bool(j, "auto", path, 0, &r.derived, b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    rbac_blob_put(b, off, &r, sizeof(r));

    return RBAC_OK;
}


void
rbac_rec_ref_json(rbac_jw_t *w, const void *rec)
{
    const rbac_reference_rec_t  *r = rec;

    rbac_jw_open(w, '{');
    rbac_jw_key(w, "type");
    rbac_jw_ref(w, rec, r->type_name);
    rbac_jw_key(w, "id");
    rbac_jw_ref(w, rec, r->id);

    if (r->derived) {
        rbac_jw_key(w, "auto");
        rbac_jw_bool(w, 1);
    }

    rbac_jw_close(w, '}');
}


rbac_rc_t
rbac_reference_resolve(const rbac_reference_rec_t *rec, rbac_refkind_t k,
    rbac_str_t *id)
{
    if (rec->type != rbac_refkind_target(k)) {
        return RBAC_EINVAL;
    }

    *id = rbac_ref(rec, rec->id);

    return RBAC_OK;
}
