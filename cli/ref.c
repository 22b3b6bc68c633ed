/*
 * ref.c: references in rbacctl (docs/references.md): `rbacctl ref`
 * (set, delete, get, key), the arguments of `check` resolved as the module
 * resolves them, the `references` of policy files, and the name references
 * every write derives from organization, user, group and object names
 * (marked "auto"), kept in step by rbacctl_refs_derive in each transaction.
 * Keys are spelled by core (rbac_refarg_eval), as in the module.
 */

#include <stdlib.h>
#include <string.h>

#include "admin.h"


static const char  rbacctl_ref_usage[] =
    "ref set KIND:KEY TYPE:ID | ref delete KIND:KEY | ref get KIND:KEY\n"
    "    | ref key @KIND:VALUE [--caller ID]\n"
    "  a reference rbac:ref:KIND:KEY names the object TYPE:ID; KEY is\n"
    "  spelled as the module spells it (names lower-cased where they are\n"
    "  case-insensitive, UUIDs canonical).  `key` prints what the module\n"
    "  reads for an argument @KIND:VALUE: \"key ref:...\" or \"id ...\".";


/* A reference derived from a name: its key (no prefix) and value. */
typedef struct {
    char  *key;
    char  *json;
} rbacctl_dref_t;

typedef struct {
    rbacctl_dref_t  *v;
    size_t           n;
    size_t           cap;
    rbacctl_index_t  ix;        /* once complete (rbacctl_drefs_index) */
    rbacctl_tx_t    *tx;        /* strings in its pool; NULL: malloc */
} rbacctl_drefs_t;

/* Keys read while prefetching (rbacctl_refs_stage): noted, not sent. */
typedef struct {
    char           **keys;
    size_t           n;
    size_t           cap;
    rbacctl_index_t  ix;
    rbacctl_pool_t   pool;      /* the keys */
} rbacctl_miss_t;


/*
 * An empty list whose strings go to tx's pool, keys already in tx shared
 * (NULL: each string its own malloc).
 */
static void
rbacctl_drefs_init(rbacctl_drefs_t *l, rbacctl_tx_t *tx)
{
    memset(l, 0, sizeof(*l));
    l->tx = tx;
}


/* The list; strings in a pool live as long as the pool. */
static void
rbacctl_drefs_free(rbacctl_drefs_t *l)
{
    size_t          i;
    rbacctl_tx_t   *tx;

    tx = l->tx;

    for (i = 0; tx == NULL && i < l->n; i++) {
        free(l->v[i].key);
        free(l->v[i].json);
    }

    free(l->v);
    rbacctl_index_free(&l->ix);
    rbacctl_drefs_init(l, tx);
}


/* Adds (key, json) to l: copies unless they are in l's pool already. */
static int
rbacctl_drefs_push(rbacctl_drefs_t *l, const char *key, const char *json,
    int copy)
{
    rbacctl_ent_t   *e;
    rbacctl_dref_t  *nv;

    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 8;
        nv = realloc(l->v, l->cap * sizeof(rbacctl_dref_t));
        if (nv == NULL) {
            return RBACCTL_FAIL;
        }
        l->v = nv;
    }

    if (!copy) {
        l->v[l->n].key = (char *) key;
        l->v[l->n].json = (char *) json;

    } else if (l->tx == NULL) {
        l->v[l->n].key = strdup(key);
        l->v[l->n].json = strdup(json);

        if (l->v[l->n].key == NULL || l->v[l->n].json == NULL) {
            free(l->v[l->n].key);
            free(l->v[l->n].json);
            return RBACCTL_FAIL;
        }

    } else {
        e = rbacctl_tx_find(l->tx, key);
        l->v[l->n].key = e ? e->key
                           : rbacctl_pool_dup(&l->tx->pool, key, strlen(key));

        /* an object's references under each spelling of its parent */
        if (l->n && strcmp(l->v[l->n - 1].json, json) == 0) {
            l->v[l->n].json = l->v[l->n - 1].json;

        } else {
            l->v[l->n].json = rbacctl_pool_dup(&l->tx->pool, json,
                                               strlen(json));
        }

        if (l->v[l->n].key == NULL || l->v[l->n].json == NULL) {
            return RBACCTL_FAIL;
        }
    }

    l->n++;

    return RBACCTL_OK;
}


/*
 * The stored reference "<kind>:<value>" of an object, added to l; a value
 * that names no reference (a UUID-shaped name, "me") gives none.
 */
static int
rbacctl_drefs_add(rbacctl_drefs_t *l, const char *kind, rbac_str_t parent,
    rbac_str_t name, rbac_type_t type, rbac_str_t id)
{
    int              rc;
    char             raw[2 * RBAC_MAX_NAME + 40], buf[RBAC_REF_KEY_MAX];
    char            *json, *idz;
    cJSON           *j;
    rbac_str_t       s, out;
    const char      *why;
    rbac_refkind_t   k;

    if (name.len == 0 || name.len > RBAC_MAX_NAME
        || parent.len > RBAC_MAX_NAME)
    {
        return RBACCTL_OK;
    }

    if (parent.data != NULL) {
        snprintf(raw, sizeof(raw), "%s:%.*s/%.*s", kind, (int) parent.len,
                 parent.data, (int) name.len, name.data);
    } else {
        snprintf(raw, sizeof(raw), "%s:%.*s", kind, (int) name.len,
                 name.data);
    }

    s.data = raw;
    s.len = strlen(raw);

    if (rbac_refkey_parse(s, buf, &out, &k, &why) != RBAC_OK) {
        return RBACCTL_OK;
    }

    idz = strndup(id.data, id.len);
    j = cJSON_CreateObject();

    if (idz == NULL || j == NULL
        || cJSON_AddStringToObject(j, "type", rbac_type_name(type)) == NULL
        || cJSON_AddStringToObject(j, "id", idz) == NULL
        || cJSON_AddTrueToObject(j, "auto") == NULL)
    {
        free(idz);
        cJSON_Delete(j);
        return RBACCTL_FAIL;
    }

    free(idz);

    json = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);

    if (json == NULL) {
        return RBACCTL_FAIL;
    }

    snprintf(raw, sizeof(raw), "ref:%.*s", (int) out.len, out.data);

    rc = rbacctl_drefs_push(l, raw, json, 1);
    free(json);

    return rc;
}


/* Adds the entries of src to l (copies unless both share a pool). */
static int
rbacctl_drefs_append(rbacctl_drefs_t *l, const rbacctl_drefs_t *src)
{
    size_t  i;

    for (i = 0; i < src->n; i++) {
        if (rbacctl_drefs_push(l, src->v[i].key, src->v[i].json,
                               l->tx != src->tx)
            != RBACCTL_OK)
        {
            return RBACCTL_FAIL;
        }
    }

    return RBACCTL_OK;
}


static const char *
rbacctl_drefs_key(void *ud, size_t i)
{
    return ((rbacctl_drefs_t *) ud)->v[i].key;
}


/* Indexes a list that is complete: each key to its first entry. */
static int
rbacctl_drefs_index(rbacctl_drefs_t *l)
{
    size_t  i;

    for (i = 0; i < l->n; i++) {
        if (rbacctl_index(&l->ix, l->v[i].key, rbacctl_drefs_key, l, 0) == 0
            && rbacctl_index(&l->ix, l->v[i].key, rbacctl_drefs_key, l, i + 1)
               == (size_t) -1)
        {
            return RBACCTL_FAIL;
        }
    }

    return RBACCTL_OK;
}


/* The first entry of key in l, or NULL. */
static const rbacctl_dref_t *
rbacctl_drefs_find(rbacctl_drefs_t *l, const char *key)
{
    size_t  i;

    if (l->ix.mask) {
        i = rbacctl_index(&l->ix, key, rbacctl_drefs_key, l, 0);
        return i ? &l->v[i - 1] : NULL;
    }

    for (i = 0; i < l->n; i++) {
        if (strcmp(l->v[i].key, key) == 0) {
            return &l->v[i];
        }
    }

    return NULL;
}


static const char *
rbacctl_miss_key(void *ud, size_t i)
{
    return ((rbacctl_miss_t *) ud)->keys[i];
}


/* Notes key as read (once). */
static int
rbacctl_miss_note(rbacctl_miss_t *m, const char *key)
{
    char  **nk;

    if (rbacctl_index(&m->ix, key, rbacctl_miss_key, m, 0)) {
        return RBACCTL_OK;
    }

    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 256;
        nk = realloc(m->keys, m->cap * sizeof(char *));
        if (nk == NULL) {
            return RBACCTL_FAIL;
        }
        m->keys = nk;
    }

    m->keys[m->n] = rbacctl_pool_dup(&m->pool, key, strlen(key));
    if (m->keys[m->n] == NULL) {
        return RBACCTL_FAIL;
    }
    m->n++;

    return rbacctl_index(&m->ix, key, rbacctl_miss_key, m, m->n)
           == (size_t) -1 ? RBACCTL_FAIL : RBACCTL_OK;
}


static void
rbacctl_miss_free(rbacctl_miss_t *m)
{
    rbacctl_pool_free(&m->pool);
    free(m->keys);
    rbacctl_index_free(&m->ix);
    memset(m, 0, sizeof(*m));
}


/*
 * The value of `key` in the table before (after 0) or after the write;
 * *val NULL when absent.  Read through the transaction (watched); while
 * prefetching, a key the transaction lacks is noted and reads as absent.
 */
static int
rbacctl_view(rbacctl_tx_t *tx, const char *key, int after, const char **val)
{
    rbacctl_ent_t  *e;

    e = rbacctl_tx_find(tx, key);

    if (e != NULL) {
        *val = (after && e->staged) ? e->val : e->old;
        return RBACCTL_OK;
    }

    if (tx->pre != NULL) {
        *val = NULL;
        return rbacctl_miss_note(tx->pre, key);
    }

    return rbacctl_tx_get(tx, key, val);
}


/* The parsed record at key in that view; *rec NULL when absent. */
static int
rbacctl_view_rec(rbacctl_tx_t *tx, const char *key, int after, void **rec)
{
    const char       *val;
    rbac_rec_type_t   type;
    rbac_str_t        k;

    *rec = NULL;

    if (rbacctl_view(tx, key, after, &val) != RBACCTL_OK) {
        return RBACCTL_FAIL;
    }

    if (val == NULL) {
        return RBACCTL_OK;
    }

    k.data = key;
    k.len = strlen(key);
    type = rbac_record_type_of_key(k);

    *rec = rbacctl_parse_stored(type, key, val);

    return *rec != NULL ? RBACCTL_OK : RBACCTL_FAIL;
}


/*
 * Every spelling of a parent in that view: the id, and the name of the
 * organization (with "default" for the default one) or the username.
 */
static int
rbacctl_parents(rbacctl_tx_t *tx, const char *kind, rbac_str_t id, int after,
    char **names, size_t *n)
{
    int                     rc;
    char                    key[RBAC_MAX_NAME + 16];
    void                   *rec;
    rbac_str_t              s;
    const rbac_org_rec_t   *o;
    const rbac_user_rec_t  *u;

    *n = 0;

    if (id.len == 0 || id.len > RBAC_MAX_NAME) {
        return RBACCTL_OK;
    }

    names[(*n)++] = strndup(id.data, id.len);

    snprintf(key, sizeof(key), "%s:%.*s", kind, (int) id.len, id.data);

    rc = rbacctl_view_rec(tx, key, after, &rec);
    if (rc != RBACCTL_OK || rec == NULL) {
        return rc;
    }

    if (strcmp(kind, "org") == 0) {
        o = rec;
        s = rbac_ref(o, o->name);
        if (s.len) {
            names[(*n)++] = strndup(s.data, s.len);
        }
        if (o->is_default) {
            names[(*n)++] = strdup("default");
        }

    } else {
        u = rec;
        s = rbac_ref(u, u->username);
        if (s.len) {
            names[(*n)++] = strndup(s.data, s.len);
        }
    }

    free(rec);

    return RBACCTL_OK;
}


/* The name references of the record at key, in that view, added to l. */
static int
rbacctl_derive(rbacctl_tx_t *tx, const char *key, int after,
    rbacctl_drefs_t *l)
{
    int                     rc;
    void                   *rec;
    char                   *parents[3];
    size_t                  i, np;
    rbac_str_t              none = rbac_null_str, name, id, parent;
    const char             *kind, *pkind;
    rbac_type_t             type;
    const rbac_obj_rec_t   *o;
    const rbac_org_rec_t   *org;
    const rbac_user_rec_t  *u;
    const rbac_group_rec_t *g;

    rc = rbacctl_view_rec(tx, key, after, &rec);
    if (rc != RBACCTL_OK || rec == NULL) {
        return rc;
    }

    np = 0;
    kind = NULL;
    pkind = NULL;
    type = RBAC_T_OTHER;
    name = none;
    id = none;
    parent = none;

    switch (((rbac_rec_hdr_t *) rec)->type) {

    case RBAC_REC_ORG:
        org = rec;
        id = rbac_ref(org, org->id);
        rc = rbacctl_drefs_add(l, "orgname", none, rbac_ref(org, org->name),
                               RBAC_T_ORGANIZATION, id);
        if (rc == RBACCTL_OK && org->is_default) {
            name.data = "default";
            name.len = 7;
            rc = rbacctl_drefs_add(l, "orgname", none, name,
                                   RBAC_T_ORGANIZATION, id);
        }
        break;

    case RBAC_REC_USER:
        u = rec;
        rc = rbacctl_drefs_add(l, "username", none, rbac_ref(u, u->username),
                               RBAC_T_USER, rbac_ref(u, u->id));
        break;

    case RBAC_REC_GROUP:
        g = rec;
        kind = "group";
        pkind = "org";
        type = RBAC_T_GROUP;
        name = rbac_ref(g, g->name);
        id = rbac_ref(g, g->id);
        parent = rbac_ref(g, g->org);
        break;

    case RBAC_REC_OBJ:
        o = rec;
        name = rbac_ref(o, o->name);
        id = rbac_ref(o, o->id);

        if (o->type == RBAC_T_WORKSPACE) {
            kind = "workspace";
            pkind = "user";
            type = RBAC_T_WORKSPACE;
            parent = rbac_ref(o, o->owner);

        } else if (o->type == RBAC_T_TEMPLATE) {
            kind = "template";
            pkind = "org";
            type = RBAC_T_TEMPLATE;
            parent = rbac_ref(o, o->org);
        }

        break;

    default:
        break;
    }

    if (rc == RBACCTL_OK && kind != NULL && name.len) {
        rc = rbacctl_parents(tx, pkind, parent, after, parents, &np);

        for (i = 0; i < np; i++) {
            if (rc == RBACCTL_OK && parents[i] != NULL) {
                parent.data = parents[i];
                parent.len = strlen(parents[i]);
                rc = rbacctl_drefs_add(l, kind, parent, name, type, id);
            }

            free(parents[i]);
        }
    }

    free(rec);

    return rc;
}


/*
 * The counter of the children of the parent that the record at key names
 * in that view, into buf: "children:org:<id>" for a template or group,
 * "children:user:<id>" for a workspace; "" for any other record or none.
 */
static int
rbacctl_children_key(rbacctl_tx_t *tx, const char *key, int after,
    char *buf, size_t size)
{
    void                    *rec;
    rbac_str_t               parent = rbac_null_str;
    const char              *kind;
    const rbac_obj_rec_t    *o;
    const rbac_group_rec_t  *g;

    buf[0] = '\0';

    if (rbacctl_view_rec(tx, key, after, &rec) != RBACCTL_OK) {
        return RBACCTL_FAIL;
    }

    if (rec == NULL) {
        return RBACCTL_OK;
    }

    kind = "org";

    if (((rbac_rec_hdr_t *) rec)->type == RBAC_REC_GROUP) {
        g = rec;
        parent = rbac_ref(g, g->org);

    } else if (((rbac_rec_hdr_t *) rec)->type == RBAC_REC_OBJ) {
        o = rec;

        if (o->type == RBAC_T_WORKSPACE) {
            kind = "user";
            parent = rbac_ref(o, o->owner);

        } else if (o->type == RBAC_T_TEMPLATE) {
            parent = rbac_ref(o, o->org);
        }
    }

    if (parent.len && parent.len <= RBAC_MAX_NAME) {
        snprintf(buf, size, "children:%s:%.*s", kind, (int) parent.len,
                 parent.data);
    }

    free(rec);

    return RBACCTL_OK;
}


/*
 * The key of a record whose name references moved (their keys changed):
 * a child (created, renamed, moved, deleted) INCRs its parents' counters,
 * before and after; a renamed parent WATCHes its own, before the SCAN for
 * its children (rbacctl_derive_children).  A child written by another
 * rbacctl after that SCAN thus makes the rename run again, and find it.
 * Not in a bulk write (nowatch): every transaction WATCHes the writer lock
 * that it holds already.
 */
static int
rbacctl_children_guard(rbacctl_tx_t *tx, const char *key,
    rbac_rec_type_t type)
{
    int          after;
    char         ck[RBAC_MAX_NAME + 32];
    const char  *val;

    if (tx->nowatch) {
        return RBACCTL_OK;
    }

    if (type == RBAC_REC_ORG || type == RBAC_REC_USER) {
        snprintf(ck, sizeof(ck), "children:%s", key);
        return rbacctl_tx_get(tx, ck, &val);
    }

    for (after = 0; after < 2; after++) {
        if (rbacctl_children_key(tx, key, after, ck, sizeof(ck))
            != RBACCTL_OK
            || (ck[0] && rbacctl_tx_bump(tx, ck) != RBACCTL_OK))
        {
            return RBACCTL_FAIL;
        }
    }

    return RBACCTL_OK;
}


/* 1 when the values differ (NULL = absent). */
static int
rbacctl_differ(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return a != b;
    }

    return strcmp(a, b) != 0;
}


/* The references derived from key before and after the write. */
static int
rbacctl_derive_pair(rbacctl_tx_t *tx, const char *key, rbacctl_drefs_t *old,
    rbacctl_drefs_t *new)
{
    if (rbacctl_derive(tx, key, 0, old) != RBACCTL_OK
        || rbacctl_derive(tx, key, 1, new) != RBACCTL_OK)
    {
        return RBACCTL_FAIL;
    }

    return RBACCTL_OK;
}


typedef struct {
    rbacctl_tx_t      *tx;
    rbacctl_key_pt     key;
    void              *ud;
    int                copy;        /* the keys go away after the read */
} rbacctl_preload_t;


static const char *
rbacctl_preload_key(void *ud, size_t i)
{
    rbacctl_preload_t  *pl = ud;

    return pl->key(pl->ud, i);
}


static int
rbacctl_preload_val(void *ud, size_t i, const char *val, size_t len)
{
    rbacctl_preload_t  *pl = ud;

    return rbacctl_tx_known(pl->tx, pl->key(pl->ud, i), pl->copy, val, len);
}


/* Reads n keys into tx with pipelined MGETs (no WATCH: under the lock). */
static int
rbacctl_preload(rbacctl_tx_t *tx, size_t n, rbacctl_key_pt key, void *ud,
    int copy, rbacctl_lock_t *lock)
{
    rbacctl_preload_t  pl;

    pl.tx = tx;
    pl.key = key;
    pl.ud = ud;
    pl.copy = copy;

    return rbacctl_mget(tx->conn, n, rbacctl_preload_key,
                        rbacctl_preload_val, &pl, NULL, lock);
}


static const char *
rbacctl_strv_key(void *ud, size_t i)
{
    return ((char **) ud)[i];
}


/* 1 when two lists of references are the same. */
static int
rbacctl_drefs_same(const rbacctl_drefs_t *a, const rbacctl_drefs_t *b)
{
    size_t  i;

    for (i = 0; a->n == b->n && i < a->n; i++) {
        if (strcmp(a->v[i].key, b->v[i].key) != 0
            || strcmp(a->v[i].json, b->v[i].json) != 0)
        {
            return 0;
        }
    }

    return a->n == b->n;
}


/*
 * Reads keys into tx in batches: MGETs in a bulk write (no WATCH), else
 * WATCH and MGET per 250 keys (rbacctl_tx_get_many).
 */
static int
rbacctl_read_many(rbacctl_tx_t *tx, size_t n, rbacctl_key_pt key, void *ud)
{
    if (n == 0) {
        return RBACCTL_OK;
    }

    return tx->nowatch ? rbacctl_preload(tx, n, key, ud, 1, NULL)
                       : rbacctl_tx_get_many(tx, n, key, ud);
}


/* 1 when key is staged with a new value: derived on its own. */
static int
rbacctl_changes(rbacctl_tx_t *tx, const char *key)
{
    rbacctl_ent_t  *e;

    e = rbacctl_tx_find(tx, key);

    return e != NULL && e->staged && rbacctl_differ(e->old, e->val);
}


/* The children's parents (owners, organizations) read in batches. */
static int
rbacctl_children_parents(rbacctl_tx_t *tx, char **keys, long n)
{
    int               rc;
    long              k;
    rbacctl_miss_t    m;
    rbacctl_drefs_t   co, cn;

    rc = RBACCTL_OK;
    memset(&m, 0, sizeof(m));
    tx->pre = &m;

    for (k = 0; k < n && rc == RBACCTL_OK; k++) {
        if (rbacctl_changes(tx, keys[k])) {
            continue;
        }

        rbacctl_drefs_init(&co, NULL);
        rbacctl_drefs_init(&cn, NULL);
        rc = rbacctl_derive_pair(tx, keys[k], &co, &cn);
        rbacctl_drefs_free(&co);
        rbacctl_drefs_free(&cn);
    }

    tx->pre = NULL;

    if (rc == RBACCTL_OK) {
        rc = rbacctl_read_many(tx, m.n, rbacctl_miss_key, &m);
    }

    rbacctl_miss_free(&m);

    return rc;
}


/*
 * The children of renamed parents (`moved`: 1 organizations, 2 users):
 * templates and groups, workspaces, that the write does not touch itself,
 * read once for all the parents, with their own parents and references,
 * in batches; those whose references change are added to old and new.
 */
static int
rbacctl_derive_children(rbacctl_tx_t *tx, int moved, rbacctl_drefs_t *old,
    rbacctl_drefs_t *new)
{
    int               rc, m;
    long              n, k;
    char            **keys;
    size_t            j;
    const char       *key;
    rbacctl_miss_t    miss;
    rbacctl_drefs_t   co, cn;

    static const char  *pats[3] = { "obj:template:*", "group:*",
                                    "obj:workspace:*" };

    rc = RBACCTL_OK;
    memset(&miss, 0, sizeof(miss));

    for (m = 0; m < 3 && rc == RBACCTL_OK; m++) {
        if (!(moved & (m < 2 ? 1 : 2))) {
            continue;
        }

        n = rbacctl_scan(tx->conn, pats[m], &keys);
        if (n < 0) {
            return RBACCTL_FAIL;
        }

        rc = rbacctl_read_many(tx, (size_t) n, rbacctl_strv_key, keys);

        if (rc == RBACCTL_OK) {
            rc = rbacctl_children_parents(tx, keys, n);
        }

        for (k = 0; k < n && rc == RBACCTL_OK; k++) {
            if (rbacctl_changes(tx, keys[k])) {
                continue;           /* derived on its own */
            }

            rbacctl_drefs_init(&co, NULL);
            rbacctl_drefs_init(&cn, NULL);

            rc = rbacctl_derive_pair(tx, keys[k], &co, &cn);

            if (rc == RBACCTL_OK && rbacctl_drefs_same(&co, &cn)) {
                rbacctl_drefs_free(&co);
                rbacctl_drefs_free(&cn);
                continue;
            }

            rc = rc == RBACCTL_OK ? rbacctl_drefs_append(old, &co) : rc;
            rc = rc == RBACCTL_OK ? rbacctl_drefs_append(new, &cn) : rc;

            /* the references that move are read in batches */
            for (j = 0; rc == RBACCTL_OK && j < co.n + cn.n; j++) {
                key = j < co.n ? co.v[j].key : cn.v[j - co.n].key;
                if (rbacctl_tx_find(tx, key) == NULL) {
                    rc = rbacctl_miss_note(&miss, key);
                }
            }

            rbacctl_drefs_free(&co);
            rbacctl_drefs_free(&cn);
        }

        rbacctl_strv_free(keys, n);
    }

    if (rc == RBACCTL_OK) {
        rc = rbacctl_read_many(tx, miss.n, rbacctl_miss_key, &miss);
    }

    rbacctl_miss_free(&miss);

    return rc;
}


/* In a long bulk derive: the writer lock renewed when due. */
static int
rbacctl_refs_keep(rbacctl_tx_t *tx, size_t i)
{
    if ((i & 1023) != 0 || tx->lock == NULL) {
        return RBACCTL_OK;
    }

    return rbacctl_lock_keep(tx->lock);
}


/* The type of entry i when its write may change name references, else 0. */
static rbac_rec_type_t
rbacctl_derives(rbacctl_tx_t *tx, size_t i)
{
    rbac_str_t        k;
    rbac_rec_type_t   type;

    if (!tx->ents[i].staged
        || !rbacctl_differ(tx->ents[i].old, tx->ents[i].val))
    {
        return RBAC_REC_NONE;
    }

    k.data = tx->ents[i].key;
    k.len = strlen(k.data);
    type = rbac_record_type_of_key(k);

    return (type == RBAC_REC_ORG || type == RBAC_REC_USER
            || type == RBAC_REC_GROUP || type == RBAC_REC_OBJ)
           ? type : RBAC_REC_NONE;
}


/*
 * References set by hand in this write (entries below n) over name
 * references that still stand (their object keeps its name: not in old,
 * what this write takes away): refused, as a name over a reference set by
 * hand is.  RBACCTL_OK or RBACCTL_USAGE.
 */
static int
rbacctl_refs_hand(rbacctl_tx_t *tx, size_t n, rbacctl_drefs_t *old)
{
    size_t          i;
    rbacctl_ent_t  *e;

    for (i = 0; i < n; i++) {
        e = &tx->ents[i];

        if (strncmp(e->key, "ref:", 4) != 0 || !e->staged || e->old == NULL
            || e->val == NULL || !rbacctl_differ(e->old, e->val)
            || rbacctl_drefs_find(old, e->key) != NULL
            || !rbacctl_ref_derived(e->old, strlen(e->old)))
        {
            continue;
        }

        fprintf(stderr, "rbacctl: %s: a name gives this reference (%s); "
                "one set by hand (%s) would replace it: rename or delete "
                "the object instead; nothing was written\n", e->key, e->old,
                e->val);

        return RBACCTL_USAGE;
    }

    return RBACCTL_OK;
}


int
rbacctl_refs_derive(rbacctl_tx_t *tx)
{
    int                    rc, d, moved;
    char                  *key, *cur;
    size_t                 i, j, n0;
    const char            *val;
    rbac_rec_type_t        type;
    rbacctl_drefs_t        old, new, po, pn;
    const rbacctl_dref_t  *p;
    rbac_reference_rec_t  *ref;

    rbacctl_drefs_init(&old, tx);
    rbacctl_drefs_init(&new, tx);
    rc = RBACCTL_OK;

    n0 = tx->n;
    moved = 0;

    for (i = 0; i < n0 && rc == RBACCTL_OK; i++) {
        type = rbacctl_derives(tx, i);
        if (type == RBAC_REC_NONE || rbacctl_refs_keep(tx, i) != RBACCTL_OK) {
            rc = type == RBAC_REC_NONE ? RBACCTL_OK : RBACCTL_FAIL;
            continue;
        }

        key = strdup(tx->ents[i].key);
        if (key == NULL) {
            rc = RBACCTL_FAIL;
            break;
        }

        rbacctl_drefs_init(&po, tx);
        rbacctl_drefs_init(&pn, tx);

        rc = rbacctl_derive_pair(tx, key, &po, &pn);

        /* a parent's spellings changed: its children's references move */
        d = (po.n != pn.n);
        for (j = 0; rc == RBACCTL_OK && !d && j < po.n; j++) {
            d = strcmp(po.v[j].key, pn.v[j].key) != 0;
        }

        rc = rc == RBACCTL_OK ? rbacctl_drefs_append(&old, &po) : rc;
        rc = rc == RBACCTL_OK ? rbacctl_drefs_append(&new, &pn) : rc;

        rbacctl_drefs_free(&po);
        rbacctl_drefs_free(&pn);

        if (rc == RBACCTL_OK && d) {
            moved |= type == RBAC_REC_ORG ? 1 : type == RBAC_REC_USER ? 2 : 0;
            rc = rbacctl_children_guard(tx, key, type);
        }

        free(key);
    }

    if (rc == RBACCTL_OK && moved) {
        rc = rbacctl_derive_children(tx, moved, &old, &new);
    }

    if (rc == RBACCTL_OK
        && (rbacctl_drefs_index(&old) != RBACCTL_OK
            || rbacctl_drefs_index(&new) != RBACCTL_OK))
    {
        rc = RBACCTL_FAIL;
    }

    /* two objects claiming one name */
    for (i = 0; i < new.n && rc == RBACCTL_OK; i++) {
        p = rbacctl_drefs_find(&new, new.v[i].key);
        if (strcmp(p->json, new.v[i].json) != 0) {
            fprintf(stderr, "rbacctl: %s: two objects have this name (%s "
                    "and %s); nothing was written\n", new.v[i].key, p->json,
                    new.v[i].json);
            rc = RBACCTL_USAGE;
        }
    }

    if (rc == RBACCTL_OK) {
        rc = rbacctl_refs_hand(tx, n0, &old);
    }

    for (i = 0; i < new.n && rc == RBACCTL_OK; i++) {
        if (rbacctl_drefs_find(&new, new.v[i].key) != &new.v[i]) {
            continue;               /* the same twice */
        }

        rc = rbacctl_view(tx, new.v[i].key, 1, &val);
        if (rc != RBACCTL_OK) {
            break;
        }

        if (val != NULL && strcmp(val, new.v[i].json) == 0) {
            continue;
        }

        if (val != NULL) {
            ref = rbacctl_parse_stored(RBAC_REC_REF, new.v[i].key, val);
            if (ref == NULL) {
                rc = RBACCTL_FAIL;
                break;
            }

            d = ref->derived;
            free(ref);

            if (!d) {
                fprintf(stderr, "rbacctl: %s: the reference set by hand "
                        "(%s) would be replaced by a name (%s); delete one "
                        "of them; nothing was written\n", new.v[i].key, val,
                        new.v[i].json);
                rc = RBACCTL_USAGE;
                break;
            }

            /* another object's name, unless this write takes it away */
            p = rbacctl_drefs_find(&old, new.v[i].key);

            if (p == NULL || strcmp(p->json, val) != 0) {
                fprintf(stderr, "rbacctl: %s: two objects have this name "
                        "(%s and %s); nothing was written\n", new.v[i].key,
                        val, new.v[i].json);
                rc = RBACCTL_USAGE;
                break;
            }
        }

        rc = rbacctl_tx_put_shared(tx, new.v[i].key, new.v[i].json);
    }

    /* names that went away, where they still name the same object */
    for (i = 0; i < old.n && rc == RBACCTL_OK; i++) {
        if (rbacctl_drefs_find(&new, old.v[i].key) != NULL) {
            continue;
        }

        rc = rbacctl_view(tx, old.v[i].key, 1, &val);
        if (rc == RBACCTL_OK && val != NULL
            && strcmp(val, old.v[i].json) == 0)
        {
            cur = strdup(old.v[i].key);
            rc = cur ? rbacctl_tx_put(tx, cur, NULL) : RBACCTL_FAIL;
            free(cur);
        }
    }

    rbacctl_drefs_free(&old);
    rbacctl_drefs_free(&new);

    return rc;
}


/* ---- the same for a bulk write: every read batched ---- */

/*
 * One pass of what rbacctl_refs_derive reads for each record (its parents,
 * its references before and after), with the keys tx lacks noted in m.
 */
static int
rbacctl_prefetch_pass(rbacctl_tx_t *tx, rbacctl_miss_t *m)
{
    int               rc;
    size_t            i, j;
    const char       *val;
    rbacctl_drefs_t   po, pn;

    rc = RBACCTL_OK;
    tx->pre = m;

    for (i = 0; i < tx->n && rc == RBACCTL_OK; i++) {
        if (rbacctl_derives(tx, i) == RBAC_REC_NONE) {
            continue;
        }

        rbacctl_drefs_init(&po, NULL);
        rbacctl_drefs_init(&pn, NULL);

        /* nothing is in flight: the lock may be renewed */
        rc = rbacctl_refs_keep(tx, i);

        if (rc == RBACCTL_OK) {
            rc = rbacctl_derive_pair(tx, tx->ents[i].key, &po, &pn);
        }

        for (j = 0; j < po.n && rc == RBACCTL_OK; j++) {
            rc = rbacctl_view(tx, po.v[j].key, 1, &val);
        }

        for (j = 0; j < pn.n && rc == RBACCTL_OK; j++) {
            rc = rbacctl_view(tx, pn.v[j].key, 1, &val);
        }

        rbacctl_drefs_free(&po);
        rbacctl_drefs_free(&pn);
    }

    tx->pre = NULL;

    return rc;
}


int
rbacctl_refs_stage(rbacctl_tx_t *tx, size_t n, rbacctl_key_pt key,
    rbacctl_key_pt val, void *ud, rbacctl_lock_t *lock)
{
    int              rc, round;
    size_t           i, k;
    rbacctl_miss_t   m;

    /* the records' stored values, then their new ones staged */
    tx->nowatch = 1;
    tx->lock = lock;
    /* the records' keys are the caller's: they outlive tx */
    rc = rbacctl_preload(tx, n, key, ud, 0, lock);

    /* their values outlive tx (the caller's) */
    for (i = 0; i < n && rc == RBACCTL_OK; i++) {
        rc = rbacctl_tx_put_shared(tx, key(ud, i), val(ud, i));
    }

    /*
     * what deriving reads, batched: parents and references by their ids
     * first, then the references under the parents' names; what a third
     * pass would find (nothing, but for a renamed parent's children, which
     * are read in their own batch) is read by rbacctl_refs_derive itself
     */
    for (round = 0; round < 2 && rc == RBACCTL_OK; round++) {
        memset(&m, 0, sizeof(m));

        rc = rbacctl_prefetch_pass(tx, &m);

        if (rc == RBACCTL_OK && m.n) {
            rc = rbacctl_preload(tx, m.n, rbacctl_miss_key, &m, 1, lock);
        }

        k = m.n;
        rbacctl_miss_free(&m);

        if (k == 0) {
            break;
        }
    }

    return rc == RBACCTL_OK ? rbacctl_refs_derive(tx) : rc;
}


int
rbacctl_refs_follow(rbacctl_conn_t *conn, rbacctl_lock_t *lock, size_t n,
    rbacctl_key_pt key, rbacctl_key_pt val, void *ud, rbacctl_emit_pt emit,
    void *eud)
{
    int               rc;
    size_t            i;
    rbacctl_tx_t      tx;
    rbacctl_ent_t    *e;
    rbacctl_index_t   ix;

    memset(&tx, 0, sizeof(tx));
    memset(&ix, 0, sizeof(ix));
    tx.conn = conn;
    rc = RBACCTL_OK;

    /* the keys written anyway */
    for (i = 0; i < n && rc == RBACCTL_OK; i++) {
        if (rbacctl_index(&ix, key(ud, i), key, ud, 0) == 0
            && rbacctl_index(&ix, key(ud, i), key, ud, i + 1) == (size_t) -1)
        {
            rc = RBACCTL_FAIL;
        }
    }

    if (rc == RBACCTL_OK) {
        rc = rbacctl_refs_stage(&tx, n, key, val, ud, lock);
    }

    for (i = 0; i < tx.n && rc == RBACCTL_OK; i++) {
        e = &tx.ents[i];

        if (strncmp(e->key, "ref:", 4) == 0 && e->staged
            && rbacctl_differ(e->old, e->val)
            && rbacctl_index(&ix, e->key, key, ud, 0) == 0)
        {
            rc = emit(eud, e->key, e->val);
        }
    }

    rbacctl_index_free(&ix);
    rbacctl_tx_clear(&tx);

    return rc;
}


/* ---- a reference given by hand: `ref`, policy files, export ---- */

/*
 * The key ("ref:<kind>:<key>", malloc) of a reference written
 * "<kind>:<value>"; *kind its kind.  NULL after a message naming `what`.
 */
static char *
rbacctl_ref_key(const char *s, const char *what, rbac_refkind_t *kind)
{
    char          buf[RBAC_REF_KEY_MAX], *key;
    rbac_str_t    in, out;
    const char   *why;

    in.data = s;
    in.len = strlen(s);

    if (rbac_refkey_parse(in, buf, &out, kind, &why) != RBAC_OK) {
        fprintf(stderr, "rbacctl: %s: \"%s\" %s\n", what, s, why);
        return NULL;
    }

    key = malloc(sizeof("ref:") + out.len);
    if (key != NULL) {
        snprintf(key, sizeof("ref:") + out.len, "ref:%.*s", (int) out.len,
                 out.data);
    }

    return key;
}


/* The canonical value of a reference of `kind`; NULL after a message. */
static char *
rbacctl_ref_value(const cJSON *j, rbac_refkind_t kind, const char *what)
{
    char                  *canon;
    rbac_reference_rec_t  *rec;

    canon = rbacctl_canon(RBAC_REC_REF, j, what);
    if (canon == NULL) {
        return NULL;
    }

    rec = rbacctl_parse_stored(RBAC_REC_REF, what, canon);
    if (rec == NULL) {
        free(canon);
        return NULL;
    }

    if (rec->derived || rec->type != rbac_refkind_target(kind)) {
        fprintf(stderr, "rbacctl: %s: %s\n", what, rec->derived
                ? "\"auto\" references are written by rbacctl from names"
                : "the type does not fit the kind of reference");
        fprintf(stderr, "  (a %s reference names a %s)\n",
                rbac_refkind_name(kind),
                rbac_type_name(rbac_refkind_target(kind)));
        free(rec);
        free(canon);
        return NULL;
    }

    free(rec);

    return canon;
}


int
rbacctl_ref_item(const cJSON *j, const char *what, char **key, char **canon)
{
    const cJSON     *r;
    rbac_refkind_t   kind;

    *key = NULL;
    *canon = NULL;

    r = cJSON_GetObjectItemCaseSensitive(j, "ref");
    if (!cJSON_IsObject(j) || !cJSON_IsString(r)) {
        fprintf(stderr, "rbacctl: %s: a reference is {\"ref\":\"<kind>:"
                "<key>\",\"type\",\"id\"}\n", what);
        return RBACCTL_USAGE;
    }

    *key = rbacctl_ref_key(r->valuestring, what, &kind);
    if (*key == NULL) {
        return RBACCTL_USAGE;
    }

    *canon = rbacctl_ref_value(j, kind, what);
    if (*canon == NULL) {
        free(*key);
        *key = NULL;
        return RBACCTL_USAGE;
    }

    return RBACCTL_OK;
}


int
rbacctl_ref_target(const char *canon, char *buf, size_t len)
{
    rbac_str_t             id;
    rbac_reference_rec_t  *rec;

    rec = rbacctl_parse_stored(RBAC_REC_REF, "reference", canon);
    if (rec == NULL) {
        return RBACCTL_FAIL;
    }

    id = rbac_ref(rec, rec->id);

    switch (rec->type) {

    case RBAC_T_ORGANIZATION:
        snprintf(buf, len, "org:%.*s", (int) id.len, id.data);
        break;

    case RBAC_T_USER:
        snprintf(buf, len, "user:%.*s", (int) id.len, id.data);
        break;

    case RBAC_T_GROUP:
        snprintf(buf, len, "group:%.*s", (int) id.len, id.data);
        break;

    default:
        snprintf(buf, len, "obj:%s:%.*s", rbac_type_name(rec->type),
                 (int) id.len, id.data);
        break;
    }

    free(rec);

    return RBACCTL_OK;
}


int
rbacctl_ref_derived(const char *val, size_t len)
{
    int                    d;
    void                  *rec;
    rbac_err_t             err;

    memset(&err, 0, sizeof(err));
    rec = NULL;

    if (rbac_record_parse(RBAC_REC_REF, val, len, &rbac_malloc_allocator,
                          &rec, &err)
        != RBAC_OK)
    {
        return 0;
    }

    d = ((rbac_reference_rec_t *) rec)->derived;
    free(rec);

    return d;
}


/* ---- `rbacctl check`: an argument as the module reads it ---- */

int
rbacctl_ref_arg(rbacctl_conn_t *conn, rbac_type_t type, rbac_arg_t which,
    const char *value, const char *caller, char **out, char *why,
    size_t whylen)
{
    int                    is_key, rc;
    char                   buf[RBAC_REF_KEY_MAX], key[RBAC_REF_KEY_MAX + 8];
    char                  *val;
    rbac_str_t             v, rest, res, c, id;
    const char            *w;
    rbac_refkind_t         kind;
    rbac_reference_rec_t  *rec;

    static const char  *args[] = { "id", "org", "owner" };

    *out = NULL;
    v.data = value;
    v.len = strlen(value);

    if (rbac_refarg_split(v, &kind, &rest) != RBAC_OK
        || !rbac_refkind_fits(kind, type, which))
    {
        fprintf(stderr, "rbacctl check: --%s: \"%s\": not a kind of "
                "reference that fits (docs/references.md)\n",
                which == RBAC_ARG_ID ? "object" : args[which], value);
        return RBACCTL_USAGE;
    }

    c.data = caller;
    c.len = strlen(caller);

    if (rbac_refarg_eval(kind, rest, c, buf, &res, &is_key, &w) != RBAC_OK) {
        /* the module answers 400 before anything else */
        snprintf(why, whylen, "%s %s %s", rbac_type_name(type), args[which],
                 w);
        return RBACCTL_DENIED;
    }

    if (!is_key) {
        *out = strndup(res.data, res.len);
        return *out ? RBACCTL_OK : RBACCTL_FAIL;
    }

    snprintf(key, sizeof(key), "ref:%.*s", (int) res.len, res.data);

    if (rbacctl_get(conn, key, &val) != RBACCTL_OK) {
        return RBACCTL_FAIL;
    }

    if (val == NULL) {
        snprintf(why, whylen, "reference %s not found", key + 4);
        return RBACCTL_DENIED;
    }

    rec = rbacctl_parse_stored(RBAC_REC_REF, key, val);
    free(val);

    if (rec == NULL) {
        return RBACCTL_FAIL;
    }

    rc = RBACCTL_OK;

    if (rbac_reference_resolve(rec, kind, &id) != RBAC_OK) {
        snprintf(why, whylen, "reference %s names a %s, not a %s", key + 4,
                 rbac_type_name(rec->type),
                 rbac_type_name(rbac_refkind_target(kind)));
        rc = RBACCTL_DENIED;

    } else {
        *out = strndup(id.data, id.len);
        rc = *out ? RBACCTL_OK : RBACCTL_FAIL;
    }

    free(rec);

    return rc;
}


/* ---- the verb ---- */

typedef struct {
    const char  *key;
    const char  *val;           /* NULL: delete */
} rbacctl_ref_write_t;


static int
rbacctl_ref_build(rbacctl_tx_t *tx, void *ud)
{
    rbacctl_ref_write_t  *w = ud;

    return rbacctl_tx_put(tx, w->key, w->val);
}


int
rbacctl_ref(int argc, char **argv)
{
    int                   rc, is_key;
    char                 *key, *canon, *val, buf[RBAC_REF_KEY_MAX];
    cJSON                *j;
    size_t                changed;
    rbac_str_t            v, rest, out, caller;
    const char           *verb, *colon, *why;
    rbac_refkind_t        kind;
    rbacctl_args_t        a;
    rbacctl_conn_t        conn;
    rbacctl_ref_write_t   w;

    rc = rbacctl_args_parse(&a, "ref", argc - 1, argv + 1, "dry-run caller=",
                            rbacctl_ref_usage);
    if (rc != RBACCTL_OK || a.help) {
        return rc;
    }

    verb = a.npos ? a.pos[0] : "";

    if (strcmp(verb, "key") == 0 && a.npos == 2) {
        v.data = a.pos[1];
        v.len = strlen(a.pos[1]);
        caller.data = rbacctl_arg(&a, "caller") ? rbacctl_arg(&a, "caller")
                                                : "";
        caller.len = strlen(caller.data);

        if (rbac_refarg_split(v, &kind, &rest) != RBAC_OK) {
            return rbacctl_fail(&a, RBACCTL_USAGE, "\"%s\": unknown kind",
                                a.pos[1]);
        }

        if (rbac_refarg_eval(kind, rest, caller, buf, &out, &is_key, &why)
            != RBAC_OK)
        {
            printf("refused: %s\n", why);
            return RBACCTL_DENIED;
        }

        printf("%s %s%.*s\n", is_key ? "key" : "id", is_key ? "ref:" : "",
               (int) out.len, out.data);
        return RBACCTL_OK;
    }

    if (!((strcmp(verb, "set") == 0 && a.npos == 3)
          || ((strcmp(verb, "delete") == 0 || strcmp(verb, "get") == 0)
              && a.npos == 2)))
    {
        fprintf(stderr, "usage: rbacctl %s\n", rbacctl_ref_usage);
        return RBACCTL_USAGE;
    }

    key = rbacctl_ref_key(a.pos[1], "ref", &kind);
    if (key == NULL) {
        return RBACCTL_USAGE;
    }

    canon = NULL;

    if (strcmp(verb, "set") == 0) {
        colon = strchr(a.pos[2], ':');
        j = cJSON_CreateObject();

        if (colon == NULL || colon == a.pos[2] || colon[1] == '\0') {
            cJSON_Delete(j);
            free(key);
            return rbacctl_fail(&a, RBACCTL_USAGE, "\"%s\" is not TYPE:ID",
                                a.pos[2]);
        }

        val = strndup(a.pos[2], (size_t) (colon - a.pos[2]));
        if (j == NULL || val == NULL
            || cJSON_AddStringToObject(j, "type", val) == NULL
            || cJSON_AddStringToObject(j, "id", colon + 1) == NULL)
        {
            free(val);
            cJSON_Delete(j);
            free(key);
            return RBACCTL_FAIL;
        }

        free(val);
        canon = rbacctl_ref_value(j, kind, "ref set");
        cJSON_Delete(j);

        if (canon == NULL) {
            free(key);
            return RBACCTL_USAGE;
        }
    }

    rc = rbacctl_connect(&a, &conn);
    if (rc != RBACCTL_OK) {
        free(key);
        free(canon);
        return rc;
    }

    if (strcmp(verb, "get") == 0) {
        rc = rbacctl_get(&conn, key, &val);
        if (rc == RBACCTL_OK) {
            printf("%s\n", val ? val : "absent");
            rc = val ? RBACCTL_OK : RBACCTL_DENIED;
            free(val);
        }

    } else {
        w.key = key;
        w.val = canon;
        changed = 0;

        rc = rbacctl_tx_run(&conn, rbacctl_ref_build, &w,
                            rbacctl_flag(&a, "dry-run"), stdout, &changed);
        if (rc == RBACCTL_OK && changed == 0) {
            fprintf(stderr, "rbacctl ref: no changes\n");
        }
    }

    rbacctl_disconnect(&conn);
    free(key);
    free(canon);

    return rc;
}
