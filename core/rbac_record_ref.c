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
    uint32_t              off;
    rbac_rc_t             rc;
    rbac_reference_rec_t  r;

    memset(&r, 0, sizeof(r));
    off = rbac_blob_reserve(b, sizeof(r));

    rc = rbac_rf_type_id(b, j, path, &r.type, &r.type_name, &r.id);
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
