/*
 * policy.c: records as rbacctl handles them: canonical JSON through core's
 * parser and writer, the key of a record, custom-role checks, and subjects
 * built from Redis the way the module builds them.
 */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"


/* ---- arena: allocations freed together ---- */

typedef struct rbacctl_chunk_s  rbacctl_chunk_t;

struct rbacctl_chunk_s {
    rbacctl_chunk_t  *next;
    max_align_t       data[];
};

struct rbacctl_arena_s {
    rbac_allocator_t   a;
    rbacctl_chunk_t   *chunks;
};


static void *
rbacctl_arena_alloc(void *ud, size_t size)
{
    rbacctl_arena_t  *ar = ud;
    rbacctl_chunk_t  *c;

    c = malloc(sizeof(rbacctl_chunk_t) + size);
    if (c == NULL) {
        return NULL;
    }

    c->next = ar->chunks;
    ar->chunks = c;

    return c->data;
}


static void
rbacctl_arena_release(void *ud, void *p)
{
    /* freed with the arena */
}


rbacctl_arena_t *
rbacctl_arena_new(void)
{
    rbacctl_arena_t  *ar;

    ar = calloc(1, sizeof(rbacctl_arena_t));
    if (ar) {
        ar->a.alloc = rbacctl_arena_alloc;
        ar->a.free = rbacctl_arena_release;
        ar->a.ud = ar;
    }

    return ar;
}


void
rbacctl_arena_free(rbacctl_arena_t *ar)
{
    rbacctl_chunk_t  *c, *n;

    if (ar == NULL) {
        return;
    }

    for (c = ar->chunks; c; c = n) {
        n = c->next;
        free(c);
    }

    free(ar);
}


const rbac_allocator_t *
rbacctl_arena_allocator(rbacctl_arena_t *ar)
{
    return &ar->a;
}


/* ---- canonical records ---- */

char *
rbacctl_canon_text(rbac_rec_type_t type, const char *json, const char *what)
{
    char        *out;
    void        *rec;
    size_t       len;
    rbac_rc_t    rc;
    rbac_err_t   err;

    memset(&err, 0, sizeof(err));
    rec = NULL;
    out = NULL;

    rc = rbac_record_parse(type, json, strlen(json), &rbac_malloc_allocator,
                           &rec, &err);
    if (rc != RBAC_OK) {
        fprintf(stderr, "rbacctl: %s: %s\n", what,
                err.msg[0] ? err.msg : rbac_strerror(rc));
        return NULL;
    }

    rc = rbac_record_json(rec, &rbac_malloc_allocator, &out, &len, &err);
    free(rec);

    if (rc != RBAC_OK) {
        fprintf(stderr, "rbacctl: %s: %s\n", what,
                err.msg[0] ? err.msg : rbac_strerror(rc));
        return NULL;
    }

    return out;
}


char *
rbacctl_canon(rbac_rec_type_t type, const cJSON *j, const char *what)
{
    char  *text, *out;

    text = cJSON_PrintUnformatted(j);
    if (text == NULL) {
        fprintf(stderr, "rbacctl: %s: out of memory\n", what);
        return NULL;
    }

    out = rbacctl_canon_text(type, text, what);
    cJSON_free(text);

    return out;
}


void *
rbacctl_parse_key(const char *prefix, const char *key, const char *json,
    const rbac_allocator_t *a)
{
    void        *rec;
    rbac_rc_t    rc;
    rbac_err_t   err;
    rbac_str_t   k;

    memset(&err, 0, sizeof(err));
    rec = NULL;
    k.data = key;
    k.len = strlen(key);

    rc = rbac_record_parse_key(k, json, strlen(json),
                               a ? a : &rbac_malloc_allocator, &rec, &err);
    if (rc != RBAC_OK) {
        fprintf(stderr, "rbacctl: malformed record at %s%s: %s\n", prefix,
                key, err.msg[0] ? err.msg : rbac_strerror(rc));
        return NULL;
    }

    return rec;
}


void *
rbacctl_parse_stored(rbac_rec_type_t type, const char *key, const char *json)
{
    void        *rec;
    rbac_rc_t    rc;
    rbac_err_t   err;

    memset(&err, 0, sizeof(err));
    rec = NULL;

    rc = rbac_record_parse(type, json, strlen(json), &rbac_malloc_allocator,
                           &rec, &err);
    if (rc != RBAC_OK) {
        fprintf(stderr, "rbacctl: malformed record at %s: %s\n", key,
                err.msg[0] ? err.msg : rbac_strerror(rc));
        return NULL;
    }

    return rec;
}


static int
rbacctl_alnum_id(rbac_str_t s)
{
    size_t  i;

    if (s.len == 0 || s.len > 64) {
        return 0;
    }

    for (i = 0; i < s.len; i++) {
        if (!isalnum((unsigned char) s.data[i])) {
            return 0;
        }
    }

    return 1;
}


char *
rbacctl_record_key(const void *rec, const char *what)
{
    char                   buf[600];
    const char            *field;
    rbac_str_t             a, b;
    const rbac_rec_hdr_t  *h = rec;

    a.data = "";
    a.len = 0;
    b = a;
    field = "id";

    switch (h->type) {

    case RBAC_REC_USER:
        a = rbac_ref(rec, ((const rbac_user_rec_t *) rec)->id);
        snprintf(buf, sizeof(buf), "user:%.*s", (int) a.len, a.data);
        break;

    case RBAC_REC_ORG:
        a = rbac_ref(rec, ((const rbac_org_rec_t *) rec)->id);
        snprintf(buf, sizeof(buf), "org:%.*s", (int) a.len, a.data);
        break;

    case RBAC_REC_GROUP:
        a = rbac_ref(rec, ((const rbac_group_rec_t *) rec)->id);
        snprintf(buf, sizeof(buf), "group:%.*s", (int) a.len, a.data);
        break;

    case RBAC_REC_ROLE:
        b = rbac_ref(rec, ((const rbac_role_rec_t *) rec)->org);
        a.data = ((const rbac_role_rec_t *) rec)->role.name;
        a.len = strlen(a.data);
        if (!rbacctl_id_ok(b.data, b.len)) {
            fprintf(stderr, "rbacctl: %s: organization_id: \"%.*s\" is not "
                    "a usable id\n", what, (int) b.len, b.data);
            return NULL;
        }
        field = "name";
        snprintf(buf, sizeof(buf), "role:%.*s:%.*s", (int) b.len, b.data,
                 (int) a.len, a.data);
        break;

    case RBAC_REC_SITEROLE:
        a.data = ((const rbac_role_rec_t *) rec)->role.name;
        a.len = strlen(a.data);
        field = "name";
        snprintf(buf, sizeof(buf), "siterole:%.*s", (int) a.len, a.data);
        break;

    case RBAC_REC_OBJ:
        b = rbac_ref(rec, ((const rbac_obj_rec_t *) rec)->type_name);
        a = rbac_ref(rec, ((const rbac_obj_rec_t *) rec)->id);
        snprintf(buf, sizeof(buf), "obj:%.*s:%.*s", (int) b.len, b.data,
                 (int) a.len, a.data);
        break;

    case RBAC_REC_TOKEN:
    case RBAC_REC_PKEY:
        a = rbac_ref(rec, h->type == RBAC_REC_TOKEN
                          ? ((const rbac_token_rec_t *) rec)->id
                          : ((const rbac_pkey_rec_t *) rec)->id);
        if (!rbacctl_alnum_id(a)) {
            fprintf(stderr, "rbacctl: %s: id: \"%.*s\" is not 1 to 64 "
                    "letters and digits\n", what, (int) a.len, a.data);
            return NULL;
        }
        snprintf(buf, sizeof(buf), "%s:%.*s",
                 h->type == RBAC_REC_TOKEN ? "token" : "pkey",
                 (int) a.len, a.data);
        break;

    case RBAC_REC_DEPLOYMENT:
        return strdup("deployment");

    case RBAC_REC_IDPSYNC:
        return strdup("idpsync");

    default:
        fprintf(stderr, "rbacctl: %s: not a record of the policy\n", what);
        return NULL;
    }

    if (!rbacctl_id_ok(a.data, a.len)) {
        fprintf(stderr, "rbacctl: %s: %s: \"%.*s\" is not a usable id "
                "(1 to %d characters, no blanks, ':', '*', '?', '[', ']' "
                "or '\\')\n", what, field, (int) a.len, a.data,
                RBAC_MAX_NAME);
        return NULL;
    }

    return strdup(buf);
}


/* ---- references between records ---- */

int
rbacctl_record_refs(const void *rec, const char *what, rbacctl_ref_pt ref,
    void *ud)
{
    int                          rc;
    char                         field[300];
    size_t                       i;
    rbac_str_t                   s;
    const rbac_ref_t            *refs;
    const rbac_rec_hdr_t        *h = rec;
    const rbac_user_rec_t       *u;
    const rbac_user_org_rec_t   *uo;
    const rbac_obj_rec_t        *o;

    switch (h->type) {

    case RBAC_REC_GROUP:
        return ref(ud, what, "org", "org",
                   rbac_ref(rec, ((const rbac_group_rec_t *) rec)->org));

    case RBAC_REC_ROLE:
        return ref(ud, what, "organization_id", "org",
                   rbac_ref(rec, ((const rbac_role_rec_t *) rec)->org));

    case RBAC_REC_TOKEN:
        return ref(ud, what, "user", "user",
                   rbac_ref(rec, ((const rbac_token_rec_t *) rec)->user));

    case RBAC_REC_PKEY:
        return ref(ud, what, "org", "org",
                   rbac_ref(rec, ((const rbac_pkey_rec_t *) rec)->org));

    case RBAC_REC_OBJ:
        o = rec;
        s = rbac_ref(o, o->org);
        if (s.len == 0) {
            return RBACCTL_OK;
        }
        return ref(ud, what, "org", "org", s);

    case RBAC_REC_USER:
        u = rec;
        uo = rbac_rec_at(u, u->orgs, rbac_user_org_rec_t);

        for (i = 0; i < u->orgs.n; i++) {
            s = rbac_ref(u, uo[i].org);
            snprintf(field, sizeof(field), "orgs.%.*s", (int) s.len, s.data);
            rc = ref(ud, what, field, "org", s);
            if (rc != RBACCTL_OK) {
                return rc;
            }
        }

        refs = rbac_rec_at(u, u->groups, rbac_ref_t);

        for (i = 0; i < u->groups.n; i++) {
            snprintf(field, sizeof(field), "groups[%zu]", i);
            rc = ref(ud, what, field, "group",
                                     rbac_ref(u, refs[i]));
            if (rc != RBACCTL_OK) {
                return rc;
            }
        }

        return RBACCTL_OK;

    default:
        return RBACCTL_OK;
    }
}


const rbac_catalog_t *
rbacctl_catalog(void)
{
    static rbac_catalog_t  *cat;
    rbac_rc_t               rc;
    rbac_err_t              err;

    if (cat) {
        return cat;
    }

    memset(&err, 0, sizeof(err));

    rc = rbac_catalog_load((const char *) rbac_builtin_catalog,
                           rbac_builtin_catalog_len, &rbac_malloc_allocator,
                           &cat, &err);
    if (rc != RBAC_OK) {
        fprintf(stderr, "rbacctl: built-in catalog: %s\n",
                err.msg[0] ? err.msg : rbac_strerror(rc));
        cat = NULL;
    }

    return cat;
}


/* ---- custom roles ---- */

rbac_rec_type_t
rbacctl_role_type(const cJSON *j)
{
    const cJSON  *org;

    org = cJSON_GetObjectItemCaseSensitive(j, "organization_id");

    if (cJSON_IsString(org) && org->valuestring[0] != '\0') {
        return RBAC_REC_ROLE;
    }

    return RBAC_REC_SITEROLE;
}


/* Coder's name rule: letters and digits in runs joined by single '-'. */
/*
 * Custom-role validation is the engine's (core/rbac_custom.c): the same
 * rules for every writer.  A refusal is printed with `what` in front.
 */
int
rbacctl_role_check(const rbac_role_rec_t *rec, const char *what,
    const rbac_subject_t *actor)
{
    rbac_err_t             err;
    const rbac_catalog_t  *cat;

    cat = rbacctl_catalog();
    if (cat == NULL) {
        return RBACCTL_FAIL;
    }

    if (rbac_custom_check(rec, cat, actor, &err) != RBAC_OK) {
        fprintf(stderr, "rbacctl: %s: %s\n", what, err.msg);
        return RBACCTL_USAGE;
    }

    return RBACCTL_OK;
}


/* ---- subjects from Redis ---- */

typedef struct rbacctl_cached_s  rbacctl_cached_t;

struct rbacctl_cached_s {
    rbacctl_cached_t  *next;
    char              *key;
    void              *rec;
};

typedef struct {
    rbacctl_conn_t    *conn;
    rbacctl_tx_t      *tx;
    rbacctl_arena_t   *ar;
    rbacctl_cached_t  *cache;
    int                failed;
} rbacctl_reader_t;


static char *
rbacctl_arena_strdup(rbacctl_arena_t *ar, const char *s)
{
    char    *p;
    size_t   n;

    n = strlen(s) + 1;
    p = rbacctl_arena_alloc(ar, n);
    if (p) {
        memcpy(p, s, n);
    }

    return p;
}


/* The parsed record at key, NULL when absent or on failure (r->failed). */
static void *
rbacctl_read(rbacctl_reader_t *r, rbac_rec_type_t type, const char *key)
{
    char               *val;
    void               *rec;
    const char         *cval;
    rbacctl_cached_t   *c;

    for (c = r->cache; c; c = c->next) {
        if (strcmp(c->key, key) == 0) {
            return c->rec;
        }
    }

    val = NULL;

    if (r->tx) {
        if (rbacctl_tx_get(r->tx, key, &cval) != RBACCTL_OK) {
            r->failed = 1;
            return NULL;
        }

    } else {
        if (rbacctl_get(r->conn, key, &val) != RBACCTL_OK) {
            r->failed = 1;
            return NULL;
        }
        cval = val;
    }

    rec = NULL;

    if (cval) {
        /* the key names the kind: `type` only documents it */
        rec = rbacctl_parse_key(r->conn->prefix, key, cval,
                                rbacctl_arena_allocator(r->ar));
        r->failed |= (rec == NULL);
    }

    free(val);

    c = rbacctl_arena_alloc(r->ar, sizeof(rbacctl_cached_t));
    if (c == NULL || (c->key = rbacctl_arena_strdup(r->ar, key)) == NULL) {
        r->failed = 1;
        return rec;
    }

    c->rec = rec;
    c->next = r->cache;
    r->cache = c;

    return rec;
}


static const rbac_org_rec_t *
rbacctl_resolve_org(void *ud, rbac_str_t org)
{
    char  key[300];

    snprintf(key, sizeof(key), "org:%.*s", (int) org.len, org.data);

    return rbacctl_read(ud, RBAC_REC_ORG, key);
}


static const rbac_role_t *
rbacctl_resolve_role(void *ud, rbac_str_t org, rbac_str_t name)
{
    char                   key[400];
    const rbac_role_rec_t  *rec;

    if (org.len == 0) {
        snprintf(key, sizeof(key), "siterole:%.*s", (int) name.len,
                 name.data);
        rec = rbacctl_read(ud, RBAC_REC_SITEROLE, key);

    } else {
        snprintf(key, sizeof(key), "role:%.*s:%.*s", (int) org.len, org.data,
                 (int) name.len, name.data);
        rec = rbacctl_read(ud, RBAC_REC_ROLE, key);
    }

    return rec ? &rec->role : NULL;
}


static rbac_idp_look_t
rbacctl_idp_org(void *ud, rbac_str_t org)
{
    char                 key[300];
    rbacctl_reader_t    *r = ud;

    snprintf(key, sizeof(key), "org:%.*s", (int) org.len, org.data);

    return rbacctl_read(r, RBAC_REC_ORG, key) ? RBAC_IDP_PRESENT
                                               : RBAC_IDP_ABSENT;
}


static rbac_idp_look_t
rbacctl_idp_orggroups(void *ud, rbac_str_t org,
    const rbac_orggroups_rec_t **out)
{
    char                 key[300];
    rbacctl_reader_t    *r = ud;

    snprintf(key, sizeof(key), "orggroups:%.*s", (int) org.len, org.data);
    *out = rbacctl_read(r, RBAC_REC_ORGGROUPS, key);

    return *out ? RBAC_IDP_PRESENT : RBAC_IDP_ABSENT;
}


static rbac_idp_look_t
rbacctl_idp_role(void *ud, rbac_str_t org, rbac_str_t name)
{
    char                 key[400];
    rbacctl_reader_t    *r = ud;

    snprintf(key, sizeof(key), "role:%.*s:%.*s", (int) org.len, org.data,
             (int) name.len, name.data);

    return rbacctl_read(r, RBAC_REC_ROLE, key) ? RBAC_IDP_PRESENT
                                                : RBAC_IDP_ABSENT;
}


/*
 * IdP sync of `claims` for user `id`: *u becomes the merged record and
 * grants what each membership comes from (empty without settings).
 */
static int
rbacctl_idp(rbacctl_reader_t *r, const rbac_catalog_t *cat, const char *id,
    const char *claims, const rbac_user_rec_t **u, rbac_idp_result_t *res)
{
    rbac_rc_t                  rc;
    rbac_str_t                 sub, cl;
    rbac_err_t                 err;
    rbac_idp_rx_t             *rx;
    rbac_idp_lookup_t          lk;
    const rbac_idpsync_rec_t  *set;

    set = rbacctl_read(r, RBAC_REC_IDPSYNC, "idpsync");
    if (r->failed) {
        return RBACCTL_FAIL;
    }

    if (set == NULL) {
        return RBACCTL_OK;
    }

    memset(&err, 0, sizeof(err));

    rc = rbac_idp_compile(set, &rbac_malloc_allocator, &rx, &err);
    if (rc != RBAC_OK) {
        fprintf(stderr, "rbacctl: malformed record at %sidpsync: %s\n",
                r->conn->prefix, err.msg);
        return RBACCTL_FAIL;
    }

    lk.catalog = cat;
    lk.org = rbacctl_idp_org;
    lk.orggroups = rbacctl_idp_orggroups;
    lk.role = rbacctl_idp_role;
    lk.ud = r;

    sub.data = id;
    sub.len = strlen(id);
    cl.data = claims;
    cl.len = strlen(claims);

    rc = rbac_idp_apply(set, rx, sub, cl, *u, &lk,
                        rbacctl_arena_allocator(r->ar), res, &err);
    rbac_idp_rx_free(rx);

    if (r->failed) {
        return RBACCTL_FAIL;
    }

    if (rc != RBAC_OK) {
        fprintf(stderr, "rbacctl: idp sync: %s\n",
                err.msg[0] ? err.msg : rbac_strerror(rc));
        return rc == RBAC_EBOUND ? RBACCTL_DENIED : RBACCTL_FAIL;
    }

    *u = res->user;

    return RBACCTL_OK;
}


int
rbacctl_subject(rbacctl_conn_t *conn, rbacctl_tx_t *tx, const char *id,
    rbacctl_arena_t *ar, rbac_subject_t *out, unsigned *options)
{
    return rbacctl_subject_claims(conn, tx, id, NULL, ar, out, options,
                                  NULL);
}


int
rbacctl_subject_claims(rbacctl_conn_t *conn, rbacctl_tx_t *tx,
    const char *id, const char *claims, rbacctl_arena_t *ar,
    rbac_subject_t *out, unsigned *options, rbac_idp_result_t *idp)
{
    int                           irc;
    char                          key[300];
    rbac_rc_t                     rc;
    rbacctl_reader_t              r;
    rbac_resolver_t               rs;
    const rbac_user_rec_t        *u;
    const rbac_deployment_rec_t  *dep;

    memset(&r, 0, sizeof(r));
    r.conn = conn;
    r.tx = tx;
    r.ar = ar;

    memset(&rs, 0, sizeof(rs));
    rs.catalog = rbacctl_catalog();
    if (rs.catalog == NULL) {
        return RBACCTL_FAIL;
    }

    dep = rbacctl_read(&r, RBAC_REC_DEPLOYMENT, "deployment");
    if (r.failed) {
        return RBACCTL_FAIL;
    }

    rs.options = dep ? dep->options : 0;
    rs.implicit = 1;
    rs.org = rbacctl_resolve_org;
    rs.custom_role = rbacctl_resolve_role;
    rs.ud = &r;

    if (options) {
        *options = rs.options;
    }

    snprintf(key, sizeof(key), "user:%s", id);
    u = rbacctl_read(&r, RBAC_REC_USER, key);
    if (r.failed) {
        return RBACCTL_FAIL;
    }

    if (claims != NULL) {
        irc = rbacctl_idp(&r, rs.catalog, id, claims, &u, idp);
        if (irc != RBACCTL_OK) {
            return irc;
        }
    }

    if (u == NULL) {
        return RBACCTL_DENIED;
    }

    rc = rbac_subject_build(u, &rs, rbacctl_arena_allocator(ar), out);

    if (r.failed) {
        return RBACCTL_FAIL;
    }

    if (rc != RBAC_OK) {
        fprintf(stderr, "rbacctl: subject of user \"%s\": %s\n", id,
                rbac_strerror(rc));
        return RBACCTL_FAIL;
    }

    return RBACCTL_OK;
}


int
rbacctl_records(rbacctl_conn_t *conn, const char *pattern,
    rbacctl_record_pt each, void *ud)
{
    int     rc;
    long    n, k;
    char  **keys, *val;
    void   *rec;

    n = rbacctl_scan(conn, pattern, &keys);
    if (n < 0) {
        return RBACCTL_FAIL;
    }

    rc = RBACCTL_OK;

    for (k = 0; k < n; k++) {
        if (rbacctl_get(conn, keys[k], &val) != RBACCTL_OK) {
            rc = RBACCTL_FAIL;
            break;
        }

        if (val == NULL) {
            continue;
        }

        rec = rbacctl_parse_key(conn->prefix, keys[k], val, NULL);
        free(val);

        if (rec == NULL) {
            rc = RBACCTL_FAIL;
            break;
        }

        each(ud, rec);
        free(rec);
    }

    rbacctl_strv_free(keys, n);

    return rc;
}
