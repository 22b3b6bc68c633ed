/*
 * rbac_record_user.c: rbac:user:<id>, a user or service account: kind,
 * status, login, site roles, org memberships with their roles, groups and
 * the IdP sync mode.
 */

#include <string.h>

#include "rbac_record_int.h"


static const char *const  rbac_user_kinds[] = {
    "user", "service_account", NULL
};

static const char *const  rbac_user_statuses[] = {
    "active", "suspended", "dormant", NULL
};

static const char *const  rbac_user_logins[] = {
    "oidc", "password", "none", NULL
};

static const char *const  rbac_user_idp_modes[] = {
    "replace", "add", NULL
};


/* One membership "<org>": ["<role>", ...]. */
static rbac_rc_t
rbac_rec_user_org_entry(rbac_blob_t *b, const cJSON *j, const char *path,
    void *ctx, void *e)
{
    rbac_user_org_rec_t  *uo = e;

    uo->org = rbac_blob_bytes(b, j->string, strlen(j->string));

    return rbac_rf_names(b, j, path, &uo->roles);
}


rbac_rc_t
rbac_rec_user_parse(rbac_blob_t *b, const cJSON *j, const char *path)
{
    int                   v;
    char                  p[RBAC_PATH_LEN];
    uint32_t              off;
    rbac_rc_t             rc;
    rbac_user_rec_t       u;

    memset(&u, 0, sizeof(u));
    off = rbac_blob_reserve(b, sizeof(u));

    rc = rbac_rf_str(b, j, "id", path,
                     RBAC_RF_REQUIRED | RBAC_RF_NAME | RBAC_RF_NONEMPTY, NULL,
                     &u.id);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_str(b, j, "username", path, RBAC_RF_NAME, "", &u.username);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_enum(j, "kind", path, rbac_user_kinds, RBAC_KIND_USER, &v,
                      b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    u.kind = (uint8_t) v;

    rc = rbac_rf_enum(j, "status", path, rbac_user_statuses,
                      RBAC_STATUS_ACTIVE, &v, b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    u.status = (uint8_t) v;

    rc = rbac_rf_enum(j, "login", path, rbac_user_logins, RBAC_LOGIN_OIDC,
                      &v, b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    u.login = (uint8_t) v;

    rc = rbac_rf_enum(j, "idp_sync", path, rbac_user_idp_modes,
                      RBAC_IDP_REPLACE, &v, b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    u.idp_sync = (uint8_t) v;

    rc = rbac_rf_names(b, rbac_rf_get(j, "site_roles"),
                       rbac_rf_path(p, path, "site_roles"), &u.site_roles);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_map_span(b, rbac_rf_get(j, "orgs"),
                          rbac_rf_path(p, path, "orgs"),
                          sizeof(rbac_user_org_rec_t), rbac_rec_user_org_entry,
                          NULL, &u.orgs);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_names(b, rbac_rf_get(j, "groups"),
                       rbac_rf_path(p, path, "groups"), &u.groups);
    if (rc != RBAC_OK) {
        return rc;
    }

    rbac_blob_put(b, off, &u, sizeof(u));

    return RBAC_OK;
}


void
rbac_rec_user_json(rbac_jw_t *w, const void *rec)
{
    uint32_t                    i;
    const rbac_user_rec_t      *u = rec;
    const rbac_user_org_rec_t  *uo;

    rbac_jw_open(w, '{');

    rbac_jw_key(w, "id");
    rbac_jw_ref(w, rec, u->id);

    if (u->username.len) {
        rbac_jw_key(w, "username");
        rbac_jw_ref(w, rec, u->username);
    }
    rbac_jw_key(w, "kind");
    rbac_jw_cstr(w, rbac_user_kinds[u->kind]);
    rbac_jw_key(w, "status");
    rbac_jw_cstr(w, rbac_user_statuses[u->status]);
    rbac_jw_key(w, "login");
    rbac_jw_cstr(w, rbac_user_logins[u->login]);
    rbac_jw_key(w, "site_roles");
    rbac_jw_refs(w, rec, u->site_roles);

    rbac_jw_key(w, "orgs");
    rbac_jw_open(w, '{');

    uo = rbac_rec_at(rec, u->orgs, rbac_user_org_rec_t);

    for (i = 0; i < u->orgs.n; i++) {
        rbac_jw_key_ref(w, rec, uo[i].org);
        rbac_jw_refs(w, rec, uo[i].roles);
    }

    rbac_jw_close(w, '}');

    rbac_jw_key(w, "groups");
    rbac_jw_refs(w, rec, u->groups);
    rbac_jw_key(w, "idp_sync");
    rbac_jw_cstr(w, rbac_user_idp_modes[u->idp_sync]);

    rbac_jw_close(w, '}');
}
