/*
 * rbac_request.c: parsing decision requests (docs/rbacctl.md §5) into a
 * subject view, an object view and an action, with roles resolved, the scope
 * compiled and ACL role names expanded.  Memory comes from a small block arena
 * over the caller's allocator; the cJSON tree is freed before returning.
 */

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rbac_request.h"


#define RBAC_RQ_BLOCK  32768
#define RBAC_RQ_ALIGN  16

struct rbac_rq_block_s {
    rbac_rq_block_t  *next;
    size_t            size;     /* usable bytes after the header */
    size_t            used;
    size_t            pad;
};

typedef struct {
    rbac_str_t      org;
    rbac_share_t    share;
} rbac_rq_share_t;

typedef struct {
    rbac_str_t      name;
    rbac_role_t    *role;
} rbac_rq_custom_t;

typedef struct {
    const rbac_allocator_t  *a;
    const rbac_catalog_t    *cat;
    rbac_err_t              *err;
    rbac_request_t          *req;
    rbac_rq_block_t         *blocks;
    rbac_rq_share_t         *shares;
    size_t                   nshares;
    rbac_rq_custom_t        *customs;
    size_t                   ncustoms;
} rbac_rq_t;


/* ---- arena ---- */

static void *
rbac_rq_alloc(rbac_rq_t *c, size_t size)
{
    size_t            bsize;
    rbac_rq_block_t  *b;
    char             *p;

    size = (size + RBAC_RQ_ALIGN - 1) & ~((size_t) RBAC_RQ_ALIGN - 1);
    b = c->blocks;

    if (b == NULL || b->size - b->used < size) {
        bsize = size > RBAC_RQ_BLOCK ? size : RBAC_RQ_BLOCK;
        b = c->a->alloc(c->a->ud, sizeof(rbac_rq_block_t) + bsize);

        if (b == NULL) {
            return NULL;
        }

        b->size = bsize;
        b->used = 0;

        if (c->blocks != NULL && size > RBAC_RQ_BLOCK) {
            /* a big one-off: keep filling the current block */
            b->used = bsize;
            b->next = c->blocks->next;
            c->blocks->next = b;
            p = (char *) (b + 1);
            memset(p, 0, size);
            return p;
        }

        b->next = c->blocks;
        c->blocks = b;
    }

    p = (char *) (b + 1) + b->used;
    b->used += size;
    memset(p, 0, size);

    return p;
}


static void
rbac_rq_blocks_free(rbac_rq_block_t *b, const rbac_allocator_t *a)
{
    rbac_rq_block_t  *next;

    while (b != NULL) {
        next = b->next;
        a->free(a->ud, b);
        b = next;
    }
}


static rbac_rc_t
rbac_rq_nomem(rbac_rq_t *c, const char *field)
{
    return rbac_err_set(c->err, RBAC_ENOMEM, "%s: out of memory", field);
}


/* ---- scalar fields ---- */

/*
 * Copies the string j into the arena (NUL-terminated).  max 0 = only the
 * record bound.
 */
static rbac_rc_t
rbac_rq_str(rbac_rq_t *c, const cJSON *j, const char *field, size_t max,
    rbac_str_t *out)
{
    size_t   len;
    char    *p;

    if (!cJSON_IsString(j) || j->valuestring == NULL) {
        return rbac_err_set(c->err, RBAC_EINVAL, "%s: not a string", field);
    }

    len = strlen(j->valuestring);

    if (max > 0 && len > max) {
        return rbac_err_set(c->err, RBAC_EBOUND, "%s: longer than %zu bytes",
                            field, max);
    }

    p = rbac_rq_alloc(c, len + 1);
    if (p == NULL) {
        return rbac_rq_nomem(c, field);
    }

    memcpy(p, j->valuestring, len + 1);
    out->data = p;
    out->len = len;

    return RBAC_OK;
}


/* An optional string field of `obj`: absent or null leaves "". */
static rbac_rc_t
rbac_rq_opt_str(rbac_rq_t *c, const cJSON *obj, const char *key,
    const char *field, size_t max, rbac_str_t *out)
{
    const cJSON  *j;

    out->data = "";
    out->len = 0;
    j = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (j == NULL || cJSON_IsNull(j)) {
        return RBAC_OK;
    }

    return rbac_rq_str(c, j, field, max, out);
}


static rbac_rc_t
rbac_rq_opt_bool(rbac_rq_t *c, const cJSON *obj, const char *key,
    const char *field, int *out)
{
    const cJSON  *j;

    j = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (j == NULL || cJSON_IsNull(j)) {
        return RBAC_OK;
    }

    if (!cJSON_IsBool(j)) {
        return rbac_err_set(c->err, RBAC_EINVAL, "%s: not a boolean", field);
    }

    *out = cJSON_IsTrue(j);

    return RBAC_OK;
}


/* An array or object of at most RBAC_MAX_LIST members. */
static rbac_rc_t
rbac_rq_list(rbac_rq_t *c, const cJSON *j, int object, const char *field,
    size_t *n)
{
    if (object ? !cJSON_IsObject(j) : !cJSON_IsArray(j)) {
        return rbac_err_set(c->err, RBAC_EINVAL, "%s: not an %s", field,
                            object ? "object" : "array");
    }

    *n = (size_t) cJSON_GetArraySize(j);

    if (*n > RBAC_MAX_LIST) {
        return rbac_err_set(c->err, RBAC_EBOUND, "%s: more than %d entries",
                            field, RBAC_MAX_LIST);
    }

    return RBAC_OK;
}


/* A member key of an object, bounded like any id. */
static rbac_rc_t
rbac_rq_key(rbac_rq_t *c, const cJSON *j, const char *field,
    rbac_str_t *out)
{
    size_t   len;
    char    *p;

    len = strlen(j->string);

    if (len > RBAC_MAX_NAME) {
        return rbac_err_set(c->err, RBAC_EBOUND,
                            "%s: key longer than %d bytes", field,
                            RBAC_MAX_NAME);
    }

    p = rbac_rq_alloc(c, len + 1);
    if (p == NULL) {
        return rbac_rq_nomem(c, field);
    }

    memcpy(p, j->string, len + 1);
    out->data = p;
    out->len = len;

    return RBAC_OK;
}


/* ---- permissions (unvalidated: negation and wildcards allowed) ---- */

/*
 * Adds a permission list to ps.  A resource type or action outside the
 * vocabulary matches nothing (an object or action outside it is OTHER, which
 * only "*" matches), so such a permission is left out.
 */
static rbac_rc_t
rbac_rq_perms(rbac_rq_t *c, const cJSON *list, const char *field,
    rbac_permset_t *ps)
{
    int           neg;
    char          f[RBAC_ERR_LEN];
    size_t        n, i;
    rbac_rc_t     rc;
    rbac_perm_t   p;
    const cJSON  *j, *rt, *ac;

    if (list == NULL || cJSON_IsNull(list)) {
        return RBAC_OK;
    }

    rc = rbac_rq_list(c, list, 0, field, &n);
    if (rc != RBAC_OK) {
        return rc;
    }

    i = 0;

    cJSON_ArrayForEach(j, list) {
        snprintf(f, sizeof(f), "%.200s[%zu]", field, i++);

        if (!cJSON_IsObject(j)) {
            return rbac_err_set(c->err, RBAC_EINVAL, "%s: not an object", f);
        }

        rt = cJSON_GetObjectItemCaseSensitive(j, "resource_type");
        ac = cJSON_GetObjectItemCaseSensitive(j, "action");

        if (!cJSON_IsString(rt) || !cJSON_IsString(ac)) {
            return rbac_err_set(c->err, RBAC_EINVAL,
                                "%s: resource_type and action must be "
                                "strings", f);
        }

        neg = 0;
        rc = rbac_rq_opt_bool(c, j, "negate", f, &neg);
        if (rc != RBAC_OK) {
            return rc;
        }

        memset(&p, 0, sizeof(p));
        p.negate = (uint8_t) neg;

        if (strcmp(rt->valuestring, "*") == 0) {
            p.any_type = 1;
            p.type = RBAC_T_OTHER;

        } else {
            p.type = rbac_type_from_name(rbac_cstr(rt->valuestring));

            if (p.type == RBAC_T_OTHER) {
                continue;
            }
        }

        if (strcmp(ac->valuestring, "*") == 0) {
            p.any_action = 1;
            p.action = RBAC_A_OTHER;

        } else {
            p.action = rbac_action_from_name(rbac_cstr(ac->valuestring));

            if (p.action == RBAC_A_OTHER) {
                continue;
            }
        }

        rbac_permset_add(ps, &p);
    }

    return RBAC_OK;
}


/* ---- options, sharing modes, custom roles ---- */

static rbac_rc_t
rbac_rq_options(rbac_rq_t *c, const cJSON *root)
{
    int           v;
    size_t        i;
    rbac_rc_t     rc;
    const cJSON  *o;

    static const struct {
        const char  *key;
        const char  *field;
        unsigned     bit;
    } opts[] = {
        { "no_owner_workspace_exec", "options.no_owner_workspace_exec",
          RBAC_OPT_NO_OWNER_WORKSPACE_EXEC },
        { "no_workspace_sharing", "options.no_workspace_sharing",
          RBAC_OPT_NO_WORKSPACE_SHARING },
        { "no_chat_sharing", "options.no_chat_sharing",
          RBAC_OPT_NO_CHAT_SHARING },
    };

    o = cJSON_GetObjectItemCaseSensitive(root, "options");

    if (o == NULL || cJSON_IsNull(o)) {
        return RBAC_OK;
    }

    if (!cJSON_IsObject(o)) {
        return rbac_err_set(c->err, RBAC_EINVAL, "options: not an object");
    }

    for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        v = 0;
        rc = rbac_rq_opt_bool(c, o, opts[i].key, opts[i].field, &v);
        if (rc != RBAC_OK) {
            return rc;
        }

        if (v) {
            c->req->options |= opts[i].bit;
        }
    }

    return RBAC_OK;
}


static rbac_rc_t
rbac_rq_org_settings(rbac_rq_t *c, const cJSON *root)
{
    char             f[RBAC_ERR_LEN];
    size_t           n;
    rbac_rc_t        rc;
    rbac_str_t       mode;
    const cJSON     *os, *j, *m;
    rbac_rq_share_t *e;

    os = cJSON_GetObjectItemCaseSensitive(root, "org_settings");

    if (os == NULL || cJSON_IsNull(os)) {
        return RBAC_OK;
    }

    rc = rbac_rq_list(c, os, 1, "org_settings", &n);
    if (rc != RBAC_OK) {
        return rc;
    }

    c->shares = rbac_rq_alloc(c, (n + 1) * sizeof(rbac_rq_share_t));
    if (c->shares == NULL) {
        return rbac_rq_nomem(c, "org_settings");
    }

    cJSON_ArrayForEach(j, os) {
        snprintf(f, sizeof(f), "org_settings.%.128s", j->string);
        e = &c->shares[c->nshares++];

        rc = rbac_rq_key(c, j, f, &e->org);
        if (rc != RBAC_OK) {
            return rc;
        }

        if (!cJSON_IsObject(j)) {
            return rbac_err_set(c->err, RBAC_EINVAL, "%s: not an object", f);
        }

        m = cJSON_GetObjectItemCaseSensitive(j, "shareable_workspace_owners");
        e->share = RBAC_SHARE_EVERYONE;

        if (m == NULL || cJSON_IsNull(m)) {
            continue;
        }

        if (!cJSON_IsString(m)) {
            return rbac_err_set(c->err, RBAC_EINVAL,
                                "%s.shareable_workspace_owners: not a string",
                                f);
        }

        mode = rbac_cstr(m->valuestring);

        if (rbac_str_eq_cstr(mode, "everyone")) {
            e->share = RBAC_SHARE_EVERYONE;

        } else if (rbac_str_eq_cstr(mode, "service_accounts")) {
            e->share = RBAC_SHARE_SERVICE_ACCOUNTS;

        } else if (rbac_str_eq_cstr(mode, "none")) {
            e->share = RBAC_SHARE_NONE;

        } else {
            return rbac_err_set(c->err, RBAC_EINVAL,
                                "%s.shareable_workspace_owners: \"%.64s\" is "
                                "not everyone, service_accounts or none", f,
                                m->valuestring);
        }
    }

    return RBAC_OK;
}


static rbac_share_t
rbac_rq_share_of(rbac_rq_t *c, rbac_str_t org)
{
    size_t  i;

    for (i = 0; i < c->nshares; i++) {
        if (rbac_str_eq(c->shares[i].org, org)) {
            return c->shares[i].share;
        }
    }

    return RBAC_SHARE_EVERYONE;
}


static rbac_rc_t
rbac_rq_custom_roles(rbac_rq_t *c, const cJSON *root)
{
    char               f[RBAC_ERR_LEN], g[RBAC_ERR_LEN];
    size_t             n, l;
    rbac_rc_t          rc;
    rbac_role_t       *r;
    const cJSON       *cr, *j, *lv;
    rbac_rq_custom_t  *e;

    static const char  *levels[RBAC_NLEVELS] = {
        "site", "user", "org", "member"
    };

    cr = cJSON_GetObjectItemCaseSensitive(root, "custom_roles");

    if (cr == NULL || cJSON_IsNull(cr)) {
        return RBAC_OK;
    }

    rc = rbac_rq_list(c, cr, 1, "custom_roles", &n);
    if (rc != RBAC_OK) {
        return rc;
    }

    c->customs = rbac_rq_alloc(c, (n + 1) * sizeof(rbac_rq_custom_t));
    if (c->customs == NULL) {
        return rbac_rq_nomem(c, "custom_roles");
    }

    cJSON_ArrayForEach(j, cr) {
        snprintf(f, sizeof(f), "custom_roles.%.128s", j->string);
        e = &c->customs[c->ncustoms++];

        rc = rbac_rq_key(c, j, f, &e->name);
        if (rc != RBAC_OK) {
            return rc;
        }

        if (!cJSON_IsObject(j)) {
            return rbac_err_set(c->err, RBAC_EINVAL, "%s: not an object", f);
        }

        r = rbac_rq_alloc(c, sizeof(rbac_role_t));
        if (r == NULL) {
            return rbac_rq_nomem(c, f);
        }

        memcpy(r->name, e->name.data, e->name.len);
        memcpy(r->display_name, e->name.data, e->name.len);
        r->kind = RBAC_ROLE_SITE;

        for (l = 0; l < RBAC_NLEVELS; l++) {
            snprintf(g, sizeof(g), "%.200s.%s", f, levels[l]);
            lv = cJSON_GetObjectItemCaseSensitive(j, levels[l]);

            rc = rbac_rq_perms(c, lv, g, &r->lvl[l]);
            if (rc != RBAC_OK) {
                return rc;
            }

            if (l >= RBAC_LVL_ORG && lv != NULL && cJSON_GetArraySize(lv) > 0)
            {
                r->kind = RBAC_ROLE_ORG;
            }
        }

        e->role = r;
    }

    return RBAC_OK;
}


/*
 * A role name: the request's custom roles first, then the catalog variant
 * for the options and `share`; NULL when the name means nothing.
 */
static const rbac_role_t *
rbac_rq_resolve(rbac_rq_t *c, rbac_str_t name, rbac_share_t share)
{
    size_t  i;

    for (i = 0; i < c->ncustoms; i++) {
        if (rbac_str_eq(c->customs[i].name, name)) {
            return c->customs[i].role;
        }
    }

    if (c->cat == NULL) {
        return NULL;
    }

    return rbac_catalog_role(c->cat, name, c->req->options, share);
}


/* An array of role names into resolved roles (unknown names dropped). */
static rbac_rc_t
rbac_rq_roles(rbac_rq_t *c, const cJSON *list, const char *field,
    rbac_share_t share, const rbac_role_t *const **out, size_t *nout)
{
    char                 f[RBAC_ERR_LEN];
    size_t               n, i;
    rbac_rc_t            rc;
    rbac_str_t           name;
    const cJSON         *j;
    const rbac_role_t   *r, **roles;

    *out = NULL;
    *nout = 0;

    if (list == NULL || cJSON_IsNull(list)) {
        return RBAC_OK;
    }

    rc = rbac_rq_list(c, list, 0, field, &n);
    if (rc != RBAC_OK) {
        return rc;
    }

    roles = rbac_rq_alloc(c, (n + 1) * sizeof(rbac_role_t *));
    if (roles == NULL) {
        return rbac_rq_nomem(c, field);
    }

    i = 0;

    cJSON_ArrayForEach(j, list) {
        snprintf(f, sizeof(f), "%.200s[%zu]", field, i++);

        if (!cJSON_IsString(j)) {
            return rbac_err_set(c->err, RBAC_EINVAL, "%s: not a string", f);
        }

        name = rbac_cstr(j->valuestring);

        if (name.len > RBAC_MAX_NAME) {
            return rbac_err_set(c->err, RBAC_EBOUND,
                                "%s: longer than %d bytes", f, RBAC_MAX_NAME);
        }

        r = rbac_rq_resolve(c, name, share);

        if (r != NULL) {
            roles[(*nout)++] = r;
        }
    }

    *out = roles;

    return RBAC_OK;
}


/* ---- scope ---- */

static rbac_rc_t
rbac_rq_allow_entry(rbac_rq_t *c, const cJSON *j, const char *field,
    rbac_allow_t *e)
{
    size_t        len;
    const cJSON  *t, *id;

    if (!cJSON_IsObject(j)) {
        return rbac_err_set(c->err, RBAC_EINVAL, "%s: not an object", field);
    }

    t = cJSON_GetObjectItemCaseSensitive(j, "type");
    id = cJSON_GetObjectItemCaseSensitive(j, "id");

    if (!cJSON_IsString(t) || !cJSON_IsString(id)) {
        return rbac_err_set(c->err, RBAC_EINVAL,
                            "%s: type and id must be strings", field);
    }

    memset(e, 0, sizeof(*e));

    if (strcmp(t->valuestring, "*") == 0) {
        e->any_type = 1;
        e->type = RBAC_T_OTHER;

    } else {
        e->type = rbac_type_from_name(rbac_cstr(t->valuestring));
    }

    if (strcmp(id->valuestring, "*") == 0) {
        e->any_id = 1;
        return RBAC_OK;
    }

    len = strlen(id->valuestring);

    if (len > RBAC_MAX_NAME) {
        return rbac_err_set(c->err, RBAC_EBOUND,
                            "%s.id: longer than %d bytes", field,
                            RBAC_MAX_NAME);
    }

    memcpy(e->id, id->valuestring, len + 1);

    return RBAC_OK;
}


static rbac_rc_t
rbac_rq_scope_object(rbac_rq_t *c, const cJSON *j, rbac_scope_t *sc)
{
    char               f[RBAC_ERR_LEN];
    size_t             n, i;
    rbac_rc_t          rc;
    const cJSON       *nm, *orgs, *al, *e;
    rbac_scope_org_t  *so;

    nm = cJSON_GetObjectItemCaseSensitive(j, "name");

    if (nm != NULL && !cJSON_IsNull(nm)) {
        if (!cJSON_IsString(nm)) {
            return rbac_err_set(c->err, RBAC_EINVAL,
                                "subject.scope.name: not a string");
        }

        snprintf(sc->name, sizeof(sc->name), "%s", nm->valuestring);
    }

    rc = rbac_rq_perms(c, cJSON_GetObjectItemCaseSensitive(j, "site"),
                       "subject.scope.site", &sc->site);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rq_perms(c, cJSON_GetObjectItemCaseSensitive(j, "user"),
                       "subject.scope.user", &sc->user);
    if (rc != RBAC_OK) {
        return rc;
    }

    orgs = cJSON_GetObjectItemCaseSensitive(j, "orgs");

    if (orgs != NULL && !cJSON_IsNull(orgs)) {
        rc = rbac_rq_list(c, orgs, 1, "subject.scope.orgs", &n);
        if (rc != RBAC_OK) {
            return rc;
        }

        if (n > RBAC_SCOPE_MAX_ORGS) {
            return rbac_err_set(c->err, RBAC_EBOUND,
                                "subject.scope.orgs: more than %d orgs",
                                RBAC_SCOPE_MAX_ORGS);
        }

        cJSON_ArrayForEach(e, orgs) {
            snprintf(f, sizeof(f), "subject.scope.orgs.%.128s", e->string);

            if (strlen(e->string) > RBAC_MAX_NAME) {
                return rbac_err_set(c->err, RBAC_EBOUND,
                                    "%s: key longer than %d bytes", f,
                                    RBAC_MAX_NAME);
            }

            if (!cJSON_IsObject(e)) {
                return rbac_err_set(c->err, RBAC_EINVAL, "%s: not an object",
                                    f);
            }

            so = &sc->orgs[sc->norgs++];
            snprintf(so->org, sizeof(so->org), "%s", e->string);

            rc = rbac_rq_perms(c, cJSON_GetObjectItemCaseSensitive(e, "org"),
                               "subject.scope.orgs.org", &so->org_ps);
            if (rc != RBAC_OK) {
                return rc;
            }

            rc = rbac_rq_perms(c,
                               cJSON_GetObjectItemCaseSensitive(e, "member"),
                               "subject.scope.orgs.member", &so->member_ps);
            if (rc != RBAC_OK) {
                return rc;
            }
        }
    }

    al = cJSON_GetObjectItemCaseSensitive(j, "allow_list");

    if (al == NULL || cJSON_IsNull(al)) {
        /* absent: everything */
        sc->nallow = 1;
        sc->allow[0].any_type = 1;
        sc->allow[0].any_id = 1;
        sc->allow[0].type = RBAC_T_OTHER;
        return RBAC_OK;
    }

    rc = rbac_rq_list(c, al, 0, "subject.scope.allow_list", &n);
    if (rc != RBAC_OK) {
        return rc;
    }

    if (n > RBAC_SCOPE_MAX_ALLOW) {
        return rbac_err_set(c->err, RBAC_EBOUND,
                            "subject.scope.allow_list: more than %d entries",
                            RBAC_SCOPE_MAX_ALLOW);
    }

    i = 0;

    cJSON_ArrayForEach(e, al) {
        snprintf(f, sizeof(f), "subject.scope.allow_list[%zu]", i);

        rc = rbac_rq_allow_entry(c, e, f, &sc->allow[i++]);
        if (rc != RBAC_OK) {
            return rc;
        }
    }

    sc->nallow = (uint32_t) n;

    return RBAC_OK;
}


static rbac_rc_t
rbac_rq_scope_name(rbac_rq_t *c, const cJSON *j, const char *field,
    rbac_scope_t *sc)
{
    char           msg[RBAC_ERR_LEN];
    rbac_rc_t      rc;
    rbac_str_t     name;
    rbac_perm_t    p;
    rbac_allow_t  *e;

    if (!cJSON_IsString(j)) {
        return rbac_err_set(c->err, RBAC_EINVAL, "%s: not a string", field);
    }

    name = rbac_cstr(j->valuestring);

    if (name.len > RBAC_MAX_NAME) {
        return rbac_err_set(c->err, RBAC_EBOUND, "%s: longer than %d bytes",
                            field, RBAC_MAX_NAME);
    }

    rc = RBAC_EUNKNOWN;

    if (c->cat != NULL) {
        rc = rbac_catalog_scope_add(c->cat, name, sc, c->err);
    }

    if (rc == RBAC_EUNKNOWN
        && (rbac_str_eq_cstr(name, "all")
            || rbac_str_eq_cstr(name, "coder:all")))
    {
        /* a catalog without scopes: "all" still means everything */
        memset(&p, 0, sizeof(p));
        p.any_type = 1;
        p.any_action = 1;
        p.type = RBAC_T_OTHER;
        p.action = RBAC_A_OTHER;
        rbac_permset_add(&sc->site, &p);

        if (sc->nallow < RBAC_SCOPE_MAX_ALLOW) {
            e = &sc->allow[sc->nallow++];
            memset(e, 0, sizeof(*e));
            e->any_type = 1;
            e->any_id = 1;
            e->type = RBAC_T_OTHER;
        }

        if (sc->name[0] == '\0') {
            snprintf(sc->name, sizeof(sc->name), "%s", j->valuestring);
        }

        return RBAC_OK;
    }

    if (c->cat == NULL) {
        return rbac_err_set(c->err, RBAC_EUNKNOWN,
                            "%s: unknown scope \"%.64s\" (no catalog)", field,
                            j->valuestring);
    }

    if (rc != RBAC_OK && c->err != NULL) {
        memcpy(msg, c->err->msg, sizeof(msg));
        rbac_err_set(c->err, rc, "%s: %.200s", field, msg);
    }

    return rc;
}


static rbac_rc_t
rbac_rq_scope(rbac_rq_t *c, const cJSON *subj)
{
    char           f[RBAC_ERR_LEN];
    size_t         n, i;
    rbac_rc_t      rc;
    const cJSON   *j, *e;
    rbac_scope_t  *sc;

    j = cJSON_GetObjectItemCaseSensitive(subj, "scope");

    if (j == NULL || cJSON_IsNull(j)) {
        return RBAC_OK;                 /* no scope: all */
    }

    if (cJSON_IsArray(j) && cJSON_GetArraySize(j) == 0) {
        return RBAC_OK;                 /* no scopes means all */
    }

    sc = rbac_rq_alloc(c, sizeof(rbac_scope_t));
    if (sc == NULL) {
        return rbac_rq_nomem(c, "subject.scope");
    }

    if (cJSON_IsString(j)) {
        rc = rbac_rq_scope_name(c, j, "subject.scope", sc);

    } else if (cJSON_IsArray(j)) {
        rc = rbac_rq_list(c, j, 0, "subject.scope", &n);
        i = 0;

        cJSON_ArrayForEach(e, j) {
            if (rc != RBAC_OK) {
                break;
            }

            snprintf(f, sizeof(f), "subject.scope[%zu]", i++);
            rc = rbac_rq_scope_name(c, e, f, sc);
        }

    } else if (cJSON_IsObject(j)) {
        rc = rbac_rq_scope_object(c, j, sc);

    } else {
        rc = rbac_err_set(c->err, RBAC_EINVAL,
                          "subject.scope: not a string, array or object");
    }

    if (rc != RBAC_OK) {
        return rc;
    }

    c->req->subject.scope = sc;

    return RBAC_OK;
}


/* ---- subject ---- */

static rbac_rc_t
rbac_rq_enum(rbac_rq_t *c, const cJSON *obj, const char *key,
    const char *field, const char *const *names, int *out)
{
    int           i;
    const cJSON  *j;

    j = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (j == NULL || cJSON_IsNull(j)) {
        return RBAC_OK;
    }

    if (!cJSON_IsString(j)) {
        return rbac_err_set(c->err, RBAC_EINVAL, "%s: not a string", field);
    }

    for (i = 0; names[i] != NULL; i++) {
        if (strcmp(j->valuestring, names[i]) == 0) {
            *out = i;
            return RBAC_OK;
        }
    }

    return rbac_err_set(c->err, RBAC_EINVAL, "%s: unknown value \"%.64s\"",
                        field, j->valuestring);
}


static rbac_rc_t
rbac_rq_subject(rbac_rq_t *c, const cJSON *root)
{
    int                  kind, status;
    char                 f[RBAC_ERR_LEN];
    size_t               n, i, k;
    rbac_rc_t            rc;
    rbac_str_t          *groups;
    const cJSON         *subj, *orgs, *j, *g;
    rbac_subject_t      *s;
    rbac_subject_org_t  *so;

    static const char  *kinds[] = {
        "user", "service_account", "provisioner", NULL
    };
    static const char  *statuses[] = {
        "active", "suspended", "dormant", NULL
    };

    s = &c->req->subject;
    subj = cJSON_GetObjectItemCaseSensitive(root, "subject");

    if (subj == NULL) {
        return rbac_err_set(c->err, RBAC_EINVAL, "subject: missing");
    }

    if (!cJSON_IsObject(subj)) {
        return rbac_err_set(c->err, RBAC_EINVAL, "subject: not an object");
    }

    rc = rbac_rq_opt_str(c, subj, "id", "subject.id", RBAC_MAX_NAME, &s->id);
    if (rc != RBAC_OK) {
        return rc;
    }

    kind = RBAC_KIND_USER;
    status = RBAC_STATUS_ACTIVE;

    rc = rbac_rq_enum(c, subj, "kind", "subject.kind", kinds, &kind);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rq_enum(c, subj, "status", "subject.status", statuses, &status);
    if (rc != RBAC_OK) {
        return rc;
    }

    s->kind = (rbac_kind_t) kind;
    s->status = (rbac_status_t) status;

    rc = rbac_rq_roles(c, cJSON_GetObjectItemCaseSensitive(subj, "site_roles"),
                       "subject.site_roles", RBAC_SHARE_EVERYONE,
                       &s->site_roles, &s->nsite_roles);
    if (rc != RBAC_OK) {
        return rc;
    }

    orgs = cJSON_GetObjectItemCaseSensitive(subj, "orgs");

    if (orgs != NULL && !cJSON_IsNull(orgs)) {
        rc = rbac_rq_list(c, orgs, 1, "subject.orgs", &n);
        if (rc != RBAC_OK) {
            return rc;
        }

        so = rbac_rq_alloc(c, (n + 1) * sizeof(rbac_subject_org_t));
        if (so == NULL) {
            return rbac_rq_nomem(c, "subject.orgs");
        }

        i = 0;

        cJSON_ArrayForEach(j, orgs) {
            snprintf(f, sizeof(f), "subject.orgs.%.128s", j->string);

            rc = rbac_rq_key(c, j, f, &so[i].org);
            if (rc != RBAC_OK) {
                return rc;
            }

            for (k = 0; k < i; k++) {
                if (rbac_str_eq(so[k].org, so[i].org)) {
                    return rbac_err_set(c->err, RBAC_EINVAL,
                                        "%s: duplicate org", f);
                }
            }

            rc = rbac_rq_roles(c, j, f, rbac_rq_share_of(c, so[i].org),
                               &so[i].roles, &so[i].nroles);
            if (rc != RBAC_OK) {
                return rc;
            }

            i++;
        }

        s->orgs = so;
        s->norgs = i;
    }

    g = cJSON_GetObjectItemCaseSensitive(subj, "groups");

    if (g != NULL && !cJSON_IsNull(g)) {
        rc = rbac_rq_list(c, g, 0, "subject.groups", &n);
        if (rc != RBAC_OK) {
            return rc;
        }

        groups = rbac_rq_alloc(c, (n + 1) * sizeof(rbac_str_t));
        if (groups == NULL) {
            return rbac_rq_nomem(c, "subject.groups");
        }

        i = 0;

        cJSON_ArrayForEach(j, g) {
            snprintf(f, sizeof(f), "subject.groups[%zu]", i);

            rc = rbac_rq_str(c, j, f, RBAC_MAX_NAME, &groups[i++]);
            if (rc != RBAC_OK) {
                return rc;
            }
        }

        s->groups = groups;
        s->ngroups = n;
    }

    return rbac_rq_scope(c, subj);
}


/* ---- object ---- */

static rbac_rc_t
rbac_rq_acl(rbac_rq_t *c, const cJSON *obj, const char *key,
    const char *field, const rbac_acl_entry_t **out, size_t *nout)
{
    char               f[RBAC_ERR_LEN];
    size_t             n, i;
    rbac_rc_t          rc;
    rbac_str_t         role;
    rbac_action_t      a;
    const cJSON       *acl, *j, *e;
    rbac_acl_entry_t  *entries;

    *out = NULL;
    *nout = 0;
    acl = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (acl == NULL || cJSON_IsNull(acl)) {
        return RBAC_OK;
    }

    rc = rbac_rq_list(c, acl, 1, field, &n);
    if (rc != RBAC_OK) {
        return rc;
    }

    entries = rbac_rq_alloc(c, (n + 1) * sizeof(rbac_acl_entry_t));
    if (entries == NULL) {
        return rbac_rq_nomem(c, field);
    }

    i = 0;

    cJSON_ArrayForEach(j, acl) {
        snprintf(f, sizeof(f), "%s.%.128s", field, j->string);

        rc = rbac_rq_key(c, j, f, &entries[i].id);
        if (rc != RBAC_OK) {
            return rc;
        }

        if (cJSON_IsString(j)) {
            role = rbac_cstr(j->valuestring);
            entries[i].actions = rbac_acl_role_actions(c->req->object.type,
                                                       role);

            if (entries[i].actions == 0 && role.len > 0) {
                return rbac_err_set(c->err, RBAC_EUNKNOWN,
                                    "%s: \"%.64s\" is not a role of %.64s "
                                    "ACLs", f, j->valuestring,
                                    c->req->object.type_name.data);
            }

        } else if (cJSON_IsArray(j)) {
            if (cJSON_GetArraySize(j) > RBAC_MAX_LIST) {
                return rbac_err_set(c->err, RBAC_EBOUND,
                                    "%s: more than %d actions", f,
                                    RBAC_MAX_LIST);
            }

            cJSON_ArrayForEach(e, j) {
                if (!cJSON_IsString(e)) {
                    return rbac_err_set(c->err, RBAC_EINVAL,
                                        "%s: actions must be strings", f);
                }

                if (strcmp(e->valuestring, "*") == 0) {
                    entries[i].actions = RBAC_AMASK_ALL;
                    continue;
                }

                /* an action outside the vocabulary matches nothing */
                a = rbac_action_from_name(rbac_cstr(e->valuestring));

                if (a != RBAC_A_OTHER) {
                    entries[i].actions |= RBAC_ABIT(a);
                }
            }

        } else {
            return rbac_err_set(c->err, RBAC_EINVAL,
                                "%s: not an action list or a role name", f);
        }

        i++;
    }

    *out = entries;
    *nout = n;

    return RBAC_OK;
}


static rbac_rc_t
rbac_rq_object(rbac_rq_t *c, const cJSON *root)
{
    int             any;
    rbac_rc_t       rc;
    const cJSON    *obj, *t, *dep;
    rbac_object_t  *o;

    o = &c->req->object;
    obj = cJSON_GetObjectItemCaseSensitive(root, "object");

    if (obj == NULL) {
        return rbac_err_set(c->err, RBAC_EINVAL, "object: missing");
    }

    if (!cJSON_IsObject(obj)) {
        return rbac_err_set(c->err, RBAC_EINVAL, "object: not an object");
    }

    t = cJSON_GetObjectItemCaseSensitive(obj, "type");

    if (t == NULL) {
        return rbac_err_set(c->err, RBAC_EINVAL, "object.type: missing");
    }

    rc = rbac_rq_str(c, t, "object.type", RBAC_MAX_NAME, &o->type_name);
    if (rc != RBAC_OK) {
        return rc;
    }

    o->type = rbac_type_from_name(o->type_name);

    rc = rbac_rq_opt_str(c, obj, "id", "object.id", RBAC_MAX_NAME, &o->id);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rq_opt_str(c, obj, "org", "object.org", RBAC_MAX_NAME, &o->org);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rq_opt_str(c, obj, "owner", "object.owner", RBAC_MAX_NAME,
                         &o->owner);
    if (rc != RBAC_OK) {
        return rc;
    }

    any = 0;
    rc = rbac_rq_opt_bool(c, obj, "any_org", "object.any_org", &any);
    if (rc != RBAC_OK) {
        return rc;
    }

    o->any_org = (uint8_t) any;

    if (any) {
        /* Coder's AnyOrganization(): the object has no org of its own */
        o->org.data = "";
        o->org.len = 0;
    }

    rc = rbac_rq_acl(c, obj, "acl_users", "object.acl_users", &o->acl_users,
                     &o->nacl_users);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rq_acl(c, obj, "acl_groups", "object.acl_groups",
                     &o->acl_groups, &o->nacl_groups);
    if (rc != RBAC_OK) {
        return rc;
    }

    o->deprecated_message.data = "";
    o->deprecated_link.data = "";
    dep = cJSON_GetObjectItemCaseSensitive(obj, "deprecated");

    if (dep == NULL || cJSON_IsNull(dep) || cJSON_IsFalse(dep)) {
        return RBAC_OK;
    }

    if (cJSON_IsTrue(dep)) {
        o->deprecated = 1;
        return RBAC_OK;
    }

    if (!cJSON_IsObject(dep)) {
        return rbac_err_set(c->err, RBAC_EINVAL,
                            "object.deprecated: not an object or a boolean");
    }

    o->deprecated = 1;

    rc = rbac_rq_opt_str(c, dep, "message", "object.deprecated.message", 0,
                         &o->deprecated_message);
    if (rc != RBAC_OK) {
        return rc;
    }

    return rbac_rq_opt_str(c, dep, "link", "object.deprecated.link", 0,
                           &o->deprecated_link);
}


/* ---- the request ---- */

static rbac_rc_t
rbac_rq_fields(rbac_rq_t *c, const cJSON *root)
{
    int           allow;
    rbac_rc_t     rc;
    const cJSON  *j;

    rc = rbac_rq_opt_str(c, root, "name", "name", 0, &c->req->name);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rq_options(c, root);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rq_org_settings(c, root);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rq_custom_roles(c, root);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rq_object(c, root);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rq_subject(c, root);
    if (rc != RBAC_OK) {
        return rc;
    }

    j = cJSON_GetObjectItemCaseSensitive(root, "action");

    if (j == NULL) {
        return rbac_err_set(c->err, RBAC_EINVAL, "action: missing");
    }

    rc = rbac_rq_str(c, j, "action", RBAC_MAX_NAME, &c->req->action_name);
    if (rc != RBAC_OK) {
        return rc;
    }

    c->req->action = rbac_action_from_name(c->req->action_name);

    j = cJSON_GetObjectItemCaseSensitive(root, "allow");

    if (j != NULL && !cJSON_IsNull(j)) {
        allow = 0;
        rc = rbac_rq_opt_bool(c, root, "allow", "allow", &allow);
        if (rc != RBAC_OK) {
            return rc;
        }

        c->req->has_allow = 1;
        c->req->allow = allow;
    }

    return RBAC_OK;
}


rbac_rc_t
rbac_request_parse(const char *json, size_t len, const rbac_catalog_t *cat,
    const rbac_allocator_t *a, rbac_request_t **out, rbac_err_t *err)
{
    cJSON      *root;
    rbac_rc_t   rc;
    rbac_rq_t   c;

    assert(json != NULL || len == 0);
    assert(a != NULL && out != NULL);

    *out = NULL;

    if (len > RBAC_MAX_RECORD) {
        return rbac_err_set(err, RBAC_EBOUND,
                            "request: longer than %d bytes", RBAC_MAX_RECORD);
    }

    root = cJSON_ParseWithLength(json, len);

    if (root == NULL) {
        return rbac_err_set(err, RBAC_EPARSE, "request: not valid JSON");
    }

    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return rbac_err_set(err, RBAC_EPARSE, "request: not a JSON object");
    }

    memset(&c, 0, sizeof(c));
    c.a = a;
    c.cat = cat;
    c.err = err;

    c.req = rbac_rq_alloc(&c, sizeof(rbac_request_t));

    if (c.req == NULL) {
        rc = rbac_rq_nomem(&c, "request");

    } else {
        c.req->name.data = "";
        rc = rbac_rq_fields(&c, root);
    }

    cJSON_Delete(root);

    if (rc != RBAC_OK) {
        rbac_rq_blocks_free(c.blocks, a);
        return rc;
    }

    c.req->blocks = c.blocks;
    *out = c.req;

    return RBAC_OK;
}


void
rbac_request_free(rbac_request_t *req, const rbac_allocator_t *a)
{
    assert(a != NULL);

    if (req != NULL) {
        rbac_rq_blocks_free(req->blocks, a);
    }
}
