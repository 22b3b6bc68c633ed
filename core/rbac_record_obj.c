/*
 * rbac_record_obj.c: rbac:obj:<type>:<id>, an object that lives in Redis
 * (workspace, template, group): its org, owner, ACLs (role names expanded
 * per type with rbac_acl_role_actions, action lists as masks), dormancy,
 * deprecation and a workspace's apps with their share levels.
 */

#include <assert.h>
#include <string.h>

#include "rbac_record_int.h"


/* An ACL value: a role name ("use", "admin") or a list of actions. */
static rbac_rc_t
rbac_rec_acl_value(rbac_blob_t *b, rbac_type_t type, const cJSON *v,
    const char *path, rbac_acl_rec_t *e)
{
    char           p[RBAC_PATH_LEN];
    size_t         i, n;
    rbac_rc_t      rc;
    rbac_str_t     s;
    rbac_action_t  act;
    const cJSON   *items[RBAC_MAX_LIST];

    if (cJSON_IsString(v)) {
        s.data = v->valuestring;
        s.len = strlen(v->valuestring);

        e->actions = rbac_acl_role_actions(type, s);

        if (e->actions == 0) {
            return rbac_err_set(b->err, RBAC_EUNKNOWN,
                                "%s: \"%.64s\" is not an ACL role of %s",
                                path, v->valuestring, rbac_type_name(type));
        }

        e->role = rbac_blob_bytes(b, s.data, s.len);

        return RBAC_OK;
    }

    if (!cJSON_IsArray(v)) {
        return rbac_err_set(b->err, RBAC_EINVAL,
                            "%s: not a role name or a list of actions", path);
    }

    rc = rbac_rf_array(v, path, items, &n, b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    for (i = 0; i < n; i++) {
        if (!cJSON_IsString(items[i])) {
            return rbac_err_set(b->err, RBAC_EINVAL, "%s: not a string",
                                rbac_rf_index(p, path, i));
        }

        if (strcmp(items[i]->valuestring, "*") == 0) {
            e->actions = RBAC_AMASK_ALL;
            continue;
        }

        s.data = items[i]->valuestring;
        s.len = strlen(items[i]->valuestring);
        act = rbac_action_from_name(s);

        if (act == RBAC_A_OTHER) {
            return rbac_err_set(b->err, RBAC_EUNKNOWN,
                                "%s: unknown action \"%.64s\"",
                                rbac_rf_index(p, path, i), s.data);
        }

        e->actions |= RBAC_ABIT(act);
    }

    e->role = rbac_blob_bytes(b, "", 0);

    return RBAC_OK;
}


/* One ACL entry "<id>": value; ctx is the object's rbac_type_t. */
static rbac_rc_t
rbac_rec_acl_entry(rbac_blob_t *b, const cJSON *j, const char *path,
    void *ctx, void *e)
{
    rbac_acl_rec_t  *a = e;

    a->id = rbac_blob_bytes(b, j->string, strlen(j->string));

    return rbac_rec_acl_value(b, *(rbac_type_t *) ctx, j, path, a);
}


static rbac_rc_t
rbac_rec_acl(rbac_blob_t *b, const cJSON *j, const char *key,
    const char *path, rbac_type_t type, rbac_span_t *out)
{
    char  p[RBAC_PATH_LEN];

    return rbac_rf_map_span(b, rbac_rf_get(j, key), rbac_rf_path(p, path, key),
                            sizeof(rbac_acl_rec_t), rbac_rec_acl_entry, &type,
                            out);
}


static const char  *rbac_app_shares[] = {
    "owner", "authenticated", "organization", "public"
};


typedef struct {
    rbac_type_t      type;          /* the object's */
    const char      *path;          /* of "apps" */
} rbac_rec_apps_ctx_t;


/* One app "<slug>": "owner"|"authenticated"|"organization"|"public". */
static rbac_rc_t
rbac_rec_app_entry(rbac_blob_t *b, const cJSON *j, const char *path,
    void *ctx, void *e)
{
    size_t                k;
    rbac_app_rec_t       *a = e;
    rbac_rec_apps_ctx_t  *x = ctx;

    if (x->type != RBAC_T_WORKSPACE) {
        return rbac_err_set(b->err, RBAC_EINVAL,
                            "%s: only a workspace has apps", x->path);
    }

    for (k = 0; k < 4; k++) {
        if (cJSON_IsString(j)
            && strcmp(j->valuestring, rbac_app_shares[k]) == 0)
        {
            break;
        }
    }

    if (k == 4) {
        return rbac_err_set(b->err, RBAC_EINVAL,
                            "%s: not owner, authenticated, organization "
                            "or public", path);
    }

    a->slug = rbac_blob_bytes(b, j->string, strlen(j->string));
    a->share = (uint32_t) k;

    return RBAC_OK;
}


/* "apps": {"<slug>": share, ...}; only a workspace has any. */
static rbac_rc_t
rbac_rec_apps(rbac_blob_t *b, const cJSON *j, const char *path,
    rbac_type_t type, rbac_span_t *out)
{
    char                 p[RBAC_PATH_LEN];
    rbac_rec_apps_ctx_t  x;

    x.type = type;
    x.path = rbac_rf_path(p, path, "apps");

    return rbac_rf_map_span(b, rbac_rf_get(j, "apps"), p,
                            sizeof(rbac_app_rec_t), rbac_rec_app_entry, &x,
                            out);
}


rbac_app_share_t
rbac_obj_app_share(const rbac_obj_rec_t *o, rbac_str_t slug)
{
    uint32_t               i;
    rbac_str_t             s;
    const rbac_app_rec_t  *e;

    assert(o != NULL);

    e = rbac_rec_at(o, o->apps, rbac_app_rec_t);

    for (i = 0; i < o->apps.n; i++) {
        s = rbac_ref(o, e[i].slug);

        if (s.len == slug.len && memcmp(s.data, slug.data, s.len) == 0) {
            return (rbac_app_share_t) e[i].share;
        }
    }

    return RBAC_APP_OWNER;
}


const char *
rbac_app_share_name(rbac_app_share_t share)
{
    return share <= RBAC_APP_PUBLIC ? rbac_app_shares[share] : "owner";
}


int
rbac_app_share_allows(rbac_app_share_t share, const rbac_subject_t *s,
    rbac_str_t org)
{
    size_t  i;

    if (share == RBAC_APP_PUBLIC) {
        return 1;
    }

    if (s == NULL || s->status != RBAC_STATUS_ACTIVE) {
        return 0;
    }

    if (share == RBAC_APP_AUTHENTICATED) {
        return 1;
    }

    if (share != RBAC_APP_ORGANIZATION) {
        return 0;
    }

    for (i = 0; i < s->norgs; i++) {
        if (rbac_str_eq(s->orgs[i].org, org)) {
            return 1;
        }
    }

    return 0;
}


rbac_rc_t
rbac_rec_obj_parse(rbac_blob_t *b, const cJSON *j, const char *path)
{
    char            p[RBAC_PATH_LEN];
    unsigned        flags;
    uint32_t        off;
    rbac_rc_t       rc;
    const cJSON    *d;
    rbac_obj_rec_t  o;

    memset(&o, 0, sizeof(o));
    off = rbac_blob_reserve(b, sizeof(o));

    rc = rbac_rf_type_id(b, j, path, &o.type, &o.type_name, &o.id);
    if (rc != RBAC_OK) {
        return rc;
    }

    /* workspaces, templates and groups belong to exactly one org */
    flags = RBAC_RF_NAME;

    if (o.type == RBAC_T_WORKSPACE || o.type == RBAC_T_TEMPLATE
        || o.type == RBAC_T_GROUP)
    {
        flags |= RBAC_RF_REQUIRED | RBAC_RF_NONEMPTY;
    }

    rc = rbac_rf_str(b, j, "org", path, flags, "", &o.org);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_str(b, j, "owner", path, RBAC_RF_NAME, "", &o.owner);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_str(b, j, "name", path, RBAC_RF_NAME, "", &o.name);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rec_acl(b, j, "acl_users", path, o.type, &o.acl_users);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rec_acl(b, j, "acl_groups", path, o.type, &o.acl_groups);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_bool(j, "dormant", path, 0, &o.dormant, b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    /* deprecated: absent, null or false; true; or {message, link} */
    d = rbac_rf_get(j, "deprecated");
    rbac_rf_path(p, path, "deprecated");

    if (d == NULL || cJSON_IsFalse(d)) {
        o.deprecated = 0;

    } else if (cJSON_IsTrue(d) || cJSON_IsObject(d)) {
        o.deprecated = 1;

    } else {
        return rbac_err_set(b->err, RBAC_EINVAL,
                            "%s: not an object or a boolean", p);
    }

    if (o.deprecated && cJSON_IsObject(d)) {
        rc = rbac_rf_str(b, d, "message", p, 0, "", &o.deprecated_message);
        if (rc != RBAC_OK) {
            return rc;
        }

        rc = rbac_rf_str(b, d, "link", p, 0, "", &o.deprecated_link);
        if (rc != RBAC_OK) {
            return rc;
        }

    } else {
        o.deprecated_message = rbac_blob_bytes(b, "", 0);
        o.deprecated_link = rbac_blob_bytes(b, "", 0);
    }

    rc = rbac_rec_apps(b, j, path, (rbac_type_t) o.type, &o.apps);
    if (rc != RBAC_OK) {
        return rc;
    }

    rbac_blob_put(b, off, &o, sizeof(o));

    return RBAC_OK;
}


static void
rbac_rec_acl_json(rbac_jw_t *w, const void *rec, rbac_span_t acl)
{
    uint32_t               i, k;
    const rbac_acl_rec_t  *e;

    e = rbac_rec_at(rec, acl, rbac_acl_rec_t);

    rbac_jw_open(w, '{');

    for (i = 0; i < acl.n; i++) {
        rbac_jw_key_ref(w, rec, e[i].id);

        if (e[i].role.len > 0) {
            rbac_jw_ref(w, rec, e[i].role);
            continue;
        }

        rbac_jw_open(w, '[');

        if (e[i].actions == RBAC_AMASK_ALL) {
            rbac_jw_cstr(w, "*");

        } else {
            for (k = 0; k < RBAC_NACTIONS; k++) {
                if (e[i].actions & RBAC_ABIT(k)) {
                    rbac_jw_cstr(w, rbac_action_name((rbac_action_t) k));
                }
            }
        }

        rbac_jw_close(w, ']');
    }

    rbac_jw_close(w, '}');
}


void
rbac_rec_obj_json(rbac_jw_t *w, const void *rec)
{
    uint32_t               i;
    const rbac_app_rec_t  *e;
    const rbac_obj_rec_t  *o = rec;

    rbac_jw_open(w, '{');
    rbac_jw_key(w, "type");
    rbac_jw_ref(w, rec, o->type_name);
    rbac_jw_key(w, "id");
    rbac_jw_ref(w, rec, o->id);
    rbac_jw_key(w, "org");
    rbac_jw_ref(w, rec, o->org);
    rbac_jw_key(w, "owner");
    rbac_jw_ref(w, rec, o->owner);

    if (o->name.len) {
        rbac_jw_key(w, "name");
        rbac_jw_ref(w, rec, o->name);
    }
    rbac_jw_key(w, "acl_users");
    rbac_rec_acl_json(w, rec, o->acl_users);
    rbac_jw_key(w, "acl_groups");
    rbac_rec_acl_json(w, rec, o->acl_groups);
    rbac_jw_key(w, "dormant");
    rbac_jw_bool(w, o->dormant);

    if (o->deprecated) {
        rbac_jw_key(w, "deprecated");
        rbac_jw_open(w, '{');
        rbac_jw_key(w, "message");
        rbac_jw_ref(w, rec, o->deprecated_message);
        rbac_jw_key(w, "link");
        rbac_jw_ref(w, rec, o->deprecated_link);
        rbac_jw_close(w, '}');
    }

    if (o->apps.n > 0) {
        e = rbac_rec_at(rec, o->apps, rbac_app_rec_t);

        rbac_jw_key(w, "apps");
        rbac_jw_open(w, '{');

        for (i = 0; i < o->apps.n; i++) {
            rbac_jw_key_ref(w, rec, e[i].slug);
            rbac_jw_cstr(w, rbac_app_share_name(
                                (rbac_app_share_t) e[i].share));
        }

        rbac_jw_close(w, '}');
    }

    rbac_jw_close(w, '}');
}
