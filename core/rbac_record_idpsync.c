/*
 * rbac_record_idpsync.c: rbac:idpsync, the IdP sync settings
 * (docs/authorization.md §12): organization sync, group sync and org-role sync
 * per org, site-role sync.  The proxy only reads: settings that would make it
 * write (auto-created groups) are refused.
 */

#include <string.h>

#include "rbac_record_int.h"


#define RBAC_IDP_GROUPS   0x1       /* regex_filter, auto-create refused */


/* One mapping entry "<claim value>": ["<target>", ...]. */
static rbac_rc_t
rbac_rec_idp_map_entry(rbac_blob_t *b, const cJSON *j, const char *path,
    void *ctx, void *e)
{
    rbac_idp_map_t  *m = e;

    m->value = rbac_blob_bytes(b, j->string, strlen(j->string));

    return rbac_rf_names(b, j, path, &m->targets);
}


/* One sync setting {field, mapping[, regex_filter]}; j NULL = disabled. */
static rbac_rc_t
rbac_rec_idp_sync(rbac_blob_t *b, const cJSON *j, const char *path,
    const char *org, unsigned flags, rbac_idp_sync_t *s)
{
    char          p[RBAC_PATH_LEN];
    uint8_t       autocreate;
    rbac_rc_t     rc;

    if (j != NULL) {
        rc = rbac_rf_object(j, path, b->err);
        if (rc != RBAC_OK) {
            return rc;
        }
    }

    s->org = rbac_blob_bytes(b, org, strlen(org));

    rc = rbac_rf_str(b, j, "field", path, RBAC_RF_NAME, "", &s->field);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_map_span(b, rbac_rf_get(j, "mapping"),
                          rbac_rf_path(p, path, "mapping"),
                          sizeof(rbac_idp_map_t), rbac_rec_idp_map_entry, NULL,
                          &s->mapping);
    if (rc != RBAC_OK) {
        return rc;
    }

    if (!(flags & RBAC_IDP_GROUPS)) {
        s->regex_filter = rbac_blob_bytes(b, "", 0);
        return RBAC_OK;
    }

    rc = rbac_rf_str(b, j, "regex_filter", path, 0, "", &s->regex_filter);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_bool(j, "auto_create_missing_groups", path, 0, &autocreate,
                      b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    if (autocreate) {
        return rbac_err_set(b->err, RBAC_EINVAL,
                            "%s.auto_create_missing_groups: not supported: "
                            "the proxy never writes to the decision table; "
                            "create the groups with rbacctl and map them",
                            path);
    }

    return RBAC_OK;
}


/* One per-org entry "<org>": {sync}; ctx is the flags (unsigned). */
static rbac_rc_t
rbac_rec_idp_org_entry(rbac_blob_t *b, const cJSON *j, const char *path,
    void *ctx, void *e)
{
    return rbac_rec_idp_sync(b, j, path, j->string, *(unsigned *) ctx, e);
}


/* {"<org>": {sync}, ...} into an rbac_idp_sync_t[] sorted by org. */
static rbac_rc_t
rbac_rec_idp_per_org(rbac_blob_t *b, const cJSON *j, const char *key,
    const char *path, unsigned flags, rbac_span_t *out)
{
    char  p[RBAC_PATH_LEN];

    return rbac_rf_map_span(b, rbac_rf_get(j, key), rbac_rf_path(p, path, key),
                            sizeof(rbac_idp_sync_t), rbac_rec_idp_org_entry,
                            &flags, out);
}


rbac_rc_t
rbac_rec_idpsync_parse(rbac_blob_t *b, const cJSON *j, const char *path)
{
    char                 p[RBAC_PATH_LEN], q[RBAC_PATH_LEN];
    uint32_t             off;
    rbac_rc_t            rc;
    const cJSON         *o, *sr;
    rbac_idpsync_rec_t   r;

    memset(&r, 0, sizeof(r));
    off = rbac_blob_reserve(b, sizeof(r));

    rc = rbac_rf_int(j, "version", path, 0, (int64_t) 1 << 53, 0, &r.version,
                     b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    rbac_rf_path(p, path, "organization");
    o = rbac_rf_get(j, "organization");

    rc = rbac_rec_idp_sync(b, o, p, "", 0, &r.organization);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_bool(o, "assign_default", p, 1, &r.assign_default, b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_str(b, o, "default_org", p, RBAC_RF_NAME, "",
                     &r.default_org);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rec_idp_per_org(b, j, "groups", path, RBAC_IDP_GROUPS,
                              &r.groups);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rec_idp_per_org(b, j, "org_roles", path, 0, &r.org_roles);
    if (rc != RBAC_OK) {
        return rc;
    }

    rbac_rf_path(p, path, "site_roles");
    sr = rbac_rf_get(j, "site_roles");

    rc = rbac_rec_idp_sync(b, sr, p, "", 0, &r.site_roles);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_names(b, rbac_rf_get(sr, "default"),
                       rbac_rf_path(q, p, "default"), &r.site_default);
    if (rc != RBAC_OK) {
        return rc;
    }

    rbac_blob_put(b, off, &r, sizeof(r));

    return RBAC_OK;
}


static void
rbac_rec_idp_sync_json(rbac_jw_t *w, const void *rec,
    const rbac_idp_sync_t *s)
{
    uint32_t               i;
    const rbac_idp_map_t  *m;

    rbac_jw_key(w, "field");
    rbac_jw_ref(w, rec, s->field);
    rbac_jw_key(w, "mapping");
    rbac_jw_open(w, '{');

    m = rbac_rec_at(rec, s->mapping, rbac_idp_map_t);

    for (i = 0; i < s->mapping.n; i++) {
        rbac_jw_key_ref(w, rec, m[i].value);
        rbac_jw_refs(w, rec, m[i].targets);
    }

    rbac_jw_close(w, '}');
}


static void
rbac_rec_idp_per_org_json(rbac_jw_t *w, const void *rec, rbac_span_t sp,
    int regex)
{
    uint32_t                i;
    const rbac_idp_sync_t  *s;

    s = rbac_rec_at(rec, sp, rbac_idp_sync_t);

    rbac_jw_open(w, '{');

    for (i = 0; i < sp.n; i++) {
        rbac_jw_key_ref(w, rec, s[i].org);
        rbac_jw_open(w, '{');
        rbac_rec_idp_sync_json(w, rec, &s[i]);

        if (regex) {
            rbac_jw_key(w, "regex_filter");
            rbac_jw_ref(w, rec, s[i].regex_filter);
        }

        rbac_jw_close(w, '}');
    }

    rbac_jw_close(w, '}');
}


void
rbac_rec_idpsync_json(rbac_jw_t *w, const void *rec)
{
    const rbac_idpsync_rec_t  *r = rec;

    rbac_jw_open(w, '{');
    rbac_jw_key(w, "version");
    rbac_jw_int(w, r->version);

    rbac_jw_key(w, "organization");
    rbac_jw_open(w, '{');
    rbac_rec_idp_sync_json(w, rec, &r->organization);
    rbac_jw_key(w, "assign_default");
    rbac_jw_bool(w, r->assign_default);
    rbac_jw_key(w, "default_org");
    rbac_jw_ref(w, rec, r->default_org);
    rbac_jw_close(w, '}');

    rbac_jw_key(w, "groups");
    rbac_rec_idp_per_org_json(w, rec, r->groups, 1);
    rbac_jw_key(w, "org_roles");
    rbac_rec_idp_per_org_json(w, rec, r->org_roles, 0);

    rbac_jw_key(w, "site_roles");
    rbac_jw_open(w, '{');
    rbac_rec_idp_sync_json(w, rec, &r->site_roles);
    rbac_jw_key(w, "default");
    rbac_jw_refs(w, rec, r->site_default);
    rbac_jw_close(w, '}');

    rbac_jw_close(w, '}');
}
