/*
 * rbac_record_org.c: an organization and its groups: rbac:org:<id> (name,
 * sharing mode, default member roles), rbac:group:<id> and the group name
 * index rbac:orggroups:<org>.
 */

#include <string.h>

#include "rbac_record_int.h"


static const char *const  rbac_org_shares[] = {
    "everyone", "service_accounts", "none", NULL
};

static const char *const  rbac_group_sources[] = {
    "manual", "oidc", NULL
};

#define RBAC_ID  (RBAC_RF_REQUIRED | RBAC_RF_NAME | RBAC_RF_NONEMPTY)


rbac_rc_t
rbac_rec_org_parse(rbac_blob_t *b, const cJSON *j, const char *path)
{
    int             v;
    char            p[RBAC_PATH_LEN];
    uint32_t        off;
    rbac_rc_t       rc;
    rbac_org_rec_t  o;

    memset(&o, 0, sizeof(o));
    off = rbac_blob_reserve(b, sizeof(o));

    rc = rbac_rf_str(b, j, "id", path, RBAC_ID, NULL, &o.id);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_str(b, j, "name", path, RBAC_RF_NAME | RBAC_RF_TEXT, "",
                     &o.name);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_enum(j, "shareable_workspace_owners", path, rbac_org_shares,
                      RBAC_SHARE_EVERYONE, &v, b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    o.share = (uint8_t) v;

    rc = rbac_rf_bool(j, "default", path, 0, &o.is_default, b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_names(b, rbac_rf_get(j, "default_org_member_roles"),
                       rbac_rf_path(p, path, "default_org_member_roles"),
                       &o.default_roles);
    if (rc != RBAC_OK) {
        return rc;
    }

    rbac_blob_put(b, off, &o, sizeof(o));

    return RBAC_OK;
}


void
rbac_rec_org_json(rbac_jw_t *w, const void *rec)
{
    const rbac_org_rec_t  *o = rec;

    rbac_jw_open(w, '{');
    rbac_jw_key(w, "id");
    rbac_jw_ref(w, rec, o->id);
    rbac_jw_key(w, "name");
    rbac_jw_ref(w, rec, o->name);
    rbac_jw_key(w, "shareable_workspace_owners");
    rbac_jw_cstr(w, rbac_org_shares[o->share]);
    rbac_jw_key(w, "default_org_member_roles");
    rbac_jw_refs(w, rec, o->default_roles);

    if (o->is_default) {
        rbac_jw_key(w, "default");
        rbac_jw_bool(w, 1);
    }

    rbac_jw_close(w, '}');
}


rbac_rc_t
rbac_rec_group_parse(rbac_blob_t *b, const cJSON *j, const char *path)
{
    int               v;
    uint32_t          off;
    rbac_rc_t         rc;
    rbac_group_rec_t  g;

    memset(&g, 0, sizeof(g));
    off = rbac_blob_reserve(b, sizeof(g));

    rc = rbac_rf_str(b, j, "id", path, RBAC_ID, NULL, &g.id);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_str(b, j, "org", path, RBAC_ID, NULL, &g.org);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_str(b, j, "name", path, RBAC_ID, NULL, &g.name);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_enum(j, "source", path, rbac_group_sources, 0, &v, b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    g.oidc = (uint8_t) v;

    rbac_blob_put(b, off, &g, sizeof(g));

    return RBAC_OK;
}


void
rbac_rec_group_json(rbac_jw_t *w, const void *rec)
{
    const rbac_group_rec_t  *g = rec;

    rbac_jw_open(w, '{');
    rbac_jw_key(w, "id");
    rbac_jw_ref(w, rec, g->id);
    rbac_jw_key(w, "org");
    rbac_jw_ref(w, rec, g->org);
    rbac_jw_key(w, "name");
    rbac_jw_ref(w, rec, g->name);
    rbac_jw_key(w, "source");
    rbac_jw_cstr(w, rbac_group_sources[g->oidc ? 1 : 0]);
    rbac_jw_close(w, '}');
}


/* One group "<name>": "<id>". */
static rbac_rc_t
rbac_rec_orggroup_entry(rbac_blob_t *b, const cJSON *j, const char *path,
    void *ctx, void *e)
{
    rbac_orggroup_t  *g = e;

    g->name = rbac_blob_bytes(b, j->string, strlen(j->string));

    return rbac_rf_str_val(b, j, path, RBAC_ID, NULL, &g->id);
}


rbac_rc_t
rbac_rec_orggroups_parse(rbac_blob_t *b, const cJSON *j, const char *path)
{
    uint32_t              off;
    rbac_rc_t             rc;
    rbac_orggroups_rec_t  og;

    memset(&og, 0, sizeof(og));
    off = rbac_blob_reserve(b, sizeof(og));

    rc = rbac_rf_map_span(b, j, path, sizeof(rbac_orggroup_t),
                          rbac_rec_orggroup_entry, NULL, &og.groups);
    if (rc != RBAC_OK) {
        return rc;
    }

    rbac_blob_put(b, off, &og, sizeof(og));

    return RBAC_OK;
}


void
rbac_rec_orggroups_json(rbac_jw_t *w, const void *rec)
{
    uint32_t                     i;
    const rbac_orggroup_t       *e;
    const rbac_orggroups_rec_t  *og = rec;

    e = rbac_rec_at(rec, og->groups, rbac_orggroup_t);

    rbac_jw_open(w, '{');

    for (i = 0; i < og->groups.n; i++) {
        rbac_jw_key_ref(w, rec, e[i].name);
        rbac_jw_ref(w, rec, e[i].id);
    }

    rbac_jw_close(w, '}');
}
