/*
 * rbac_record_role.c: custom roles in Coder's JSON shape: org roles
 * (rbac:role:<org>:<name>, organization and member permissions) and site
 * roles (rbac:siterole:<name>, site and user permissions).  The permissions
 * are compiled into the embedded rbac_role_t and kept as written; whether a
 * role may be written at all (negation, wildcards, escalation) is checked
 * by rbacctl through rbac_custom.c, not here.
 */

#include <string.h>

#include "rbac_record_int.h"


/* The permission lists of a role, in the order they are stored. */
static const struct {
    const char    *key;
    rbac_level_t   level;
} rbac_role_lists[RBAC_NLEVELS] = {
    { "site_permissions", RBAC_LVL_SITE },
    { "user_permissions", RBAC_LVL_USER },
    { "organization_permissions", RBAC_LVL_ORG },
    { "organization_member_permissions", RBAC_LVL_MEMBER },
};


static rbac_rc_t
rbac_rec_role_parse_kind(rbac_blob_t *b, const cJSON *j, const char *path,
    rbac_role_kind_t kind)
{
    char              p[RBAC_PATH_LEN], q[RBAC_PATH_LEN];
    size_t            i, n, total;
    uint32_t          off, k;
    rbac_rc_t         rc;
    rbac_perm_t       perm;
    const char       *s;
    rbac_role_rec_t   r;
    rbac_role_perm_t  rp;
    const cJSON      *items[RBAC_MAX_LIST];

    memset(&r, 0, sizeof(r));
    off = rbac_blob_reserve(b, sizeof(r));

    rc = rbac_rf_check_str(rbac_rf_get(j, "name"),
                           rbac_rf_path(p, path, "name"),
                           RBAC_RF_REQUIRED | RBAC_RF_NAME | RBAC_RF_NONEMPTY,
                           NULL, &s, b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    memcpy(r.role.name, s, strlen(s));

    if (kind == RBAC_ROLE_ORG) {
        rc = rbac_rf_str(b, j, "organization_id", path,
                         RBAC_RF_REQUIRED | RBAC_RF_NAME | RBAC_RF_NONEMPTY,
                         NULL, &r.org);
        if (rc != RBAC_OK) {
            return rc;
        }

    } else {
        rc = rbac_rf_check_str(rbac_rf_get(j, "organization_id"),
                               rbac_rf_path(p, path, "organization_id"), 0,
                               "", &s, b->err);
        if (rc != RBAC_OK) {
            return rc;
        }

        if (s[0] != '\0') {
            return rbac_err_set(b->err, RBAC_EINVAL,
                                "%s: a site role belongs to no organization",
                                p);
        }

        r.org = rbac_blob_bytes(b, "", 0);
    }

    rc = rbac_rf_check_str(rbac_rf_get(j, "display_name"),
                           rbac_rf_path(p, path, "display_name"),
                           RBAC_RF_NAME | RBAC_RF_TEXT,
                           "", &s, b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    memcpy(r.role.display_name, s, strlen(s));
    r.role.kind = (uint8_t) kind;
    r.role.builtin = 0;

    total = 0;

    for (k = 0; k < RBAC_NLEVELS; k++) {
        rc = rbac_rf_array(rbac_rf_get(j, rbac_role_lists[k].key),
                           rbac_rf_path(p, path, rbac_role_lists[k].key),
                           items, &n, b->err);
        if (rc != RBAC_OK) {
            return rc;
        }

        total += n;
    }

    r.perms = rbac_blob_array(b, total, sizeof(rbac_role_perm_t));
    total = 0;

    for (k = 0; k < RBAC_NLEVELS; k++) {
        rbac_rf_path(p, path, rbac_role_lists[k].key);

        (void) rbac_rf_array(rbac_rf_get(j, rbac_role_lists[k].key), p, items,
                             &n, b->err);

        for (i = 0; i < n; i++) {
            rc = rbac_perm_from_json(items[i], &perm,
                                     rbac_rf_index(q, p, i), b->err);
            if (rc != RBAC_OK) {
                return rc;
            }

            rbac_permset_add(&r.role.lvl[rbac_role_lists[k].level], &perm);

            memset(&rp, 0, sizeof(rp));
            rp.level = (uint8_t) rbac_role_lists[k].level;
            memcpy(&rp.perm, &perm, sizeof(perm));

            rbac_blob_put(b, r.perms.off + total * sizeof(rp), &rp,
                          sizeof(rp));
            total++;
        }
    }

    rbac_blob_put(b, off, &r, sizeof(r));

    return RBAC_OK;
}


rbac_rc_t
rbac_rec_role_parse(rbac_blob_t *b, const cJSON *j, const char *path)
{
    return rbac_rec_role_parse_kind(b, j, path, RBAC_ROLE_ORG);
}


rbac_rc_t
rbac_rec_siterole_parse(rbac_blob_t *b, const cJSON *j, const char *path)
{
    return rbac_rec_role_parse_kind(b, j, path, RBAC_ROLE_SITE);
}


static void
rbac_rec_role_list_json(rbac_jw_t *w, const rbac_role_rec_t *r, uint32_t k,
    int always)
{
    uint32_t                 i, n;
    const rbac_role_perm_t  *rp;

    rp = rbac_rec_at(r, r->perms, rbac_role_perm_t);
    n = 0;

    for (i = 0; i < r->perms.n; i++) {
        n += (rp[i].level == rbac_role_lists[k].level);
    }

    if (n == 0 && !always) {
        return;
    }

    rbac_jw_key(w, rbac_role_lists[k].key);
    rbac_jw_open(w, '[');

    for (i = 0; i < r->perms.n; i++) {
        if (rp[i].level != rbac_role_lists[k].level) {
            continue;
        }

        rbac_jw_open(w, '{');
        rbac_jw_key(w, "resource_type");
        rbac_jw_cstr(w, rp[i].perm.any_type
                        ? "*" : rbac_type_name(rp[i].perm.type));
        rbac_jw_key(w, "action");
        rbac_jw_cstr(w, rp[i].perm.any_action
                        ? "*" : rbac_action_name(rp[i].perm.action));
        rbac_jw_key(w, "negate");
        rbac_jw_bool(w, rp[i].perm.negate);
        rbac_jw_close(w, '}');
    }

    rbac_jw_close(w, ']');
}


/*
 * Org roles: organization and member permissions always, site and user
 * permissions only when there are some; site roles the other way round.
 */
void
rbac_rec_role_json(rbac_jw_t *w, const void *rec)
{
    int                     org;
    const rbac_role_rec_t  *r = rec;

    org = (r->hdr.type == RBAC_REC_ROLE);

    rbac_jw_open(w, '{');
    rbac_jw_key(w, "name");
    rbac_jw_cstr(w, r->role.name);
    rbac_jw_key(w, "organization_id");
    rbac_jw_ref(w, rec, r->org);
    rbac_jw_key(w, "display_name");
    rbac_jw_cstr(w, r->role.display_name);

    if (org) {
        rbac_rec_role_list_json(w, r, RBAC_LVL_ORG, 1);
        rbac_rec_role_list_json(w, r, RBAC_LVL_MEMBER, 1);
        rbac_rec_role_list_json(w, r, RBAC_LVL_SITE, 0);
        rbac_rec_role_list_json(w, r, RBAC_LVL_USER, 0);

    } else {
        rbac_rec_role_list_json(w, r, RBAC_LVL_SITE, 1);
        rbac_rec_role_list_json(w, r, RBAC_LVL_USER, 1);
        rbac_rec_role_list_json(w, r, RBAC_LVL_ORG, 0);
        rbac_rec_role_list_json(w, r, RBAC_LVL_MEMBER, 0);
    }

    rbac_jw_close(w, '}');
}
