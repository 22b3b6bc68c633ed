/*
 * apply.c: `rbacctl apply -f policy.json [--dry-run] [--prune]`: the
 * declarative write of a policy file (docs/rbacctl.md §3 and §4), linear
 * in its size:
 *
 *   1. load: the file is walked element by element (no tree of the whole
 *      document); each record is parsed by core, made canonical and kept as
 *      its key and canonical text only; references are collected, once per
 *      key.  Nothing touches Redis before every record is valid.
 *   2. under the writer lock (lock.c): references not in the file checked
 *      with MGET, `orggroups` rebuilt, the stored values read with
 *      pipelined MGETs and compared in memory (no WATCH, no GET per key).
 *   3. the changed keys written in chunks (bulk.c), each a MULTI/EXEC of a
 *      few hundred writes, rbac:version incremented once, invalidation
 *      published per key or as one "*" past RBACCTL_INV_KEYS.
 *
 * What atomicity is kept: every key holds its old or its new value at any
 * moment; writers never lose each other's changes (bulk writers are
 * serialized by the lock, small transactions wait for it and WATCH it); a
 * whole apply is not one transaction: a reader may see some keys new and
 * others old while it runs, and an apply stopped half-way leaves what it
 * wrote (run it again: apply is idempotent).
 */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "rbac_siphash.h"


static const char  rbacctl_apply_usage[] =
    "apply -f FILE [--dry-run] [--prune] [--wait SECONDS] [--redis URL]\n"
    "  [--prefix P]\n"
    "  writes the records of the policy FILE (\"-\" = stdin); prints a\n"
    "  summary per record kind, then \"+ key\", \"~ key\", \"- key\" for\n"
    "  what changes; --dry-run writes nothing; --prune also deletes records\n"
    "  of the policy's kinds that the file does not name; --wait: how long\n"
    "  to wait for another writer's lock (default 60 s).";


enum {
    RBACCTL_SAME = 0,
    RBACCTL_ADDED,
    RBACCTL_CHANGED,
    RBACCTL_REMOVED
};

/*
 * A record of the file keeps its key, where its text is in the file and a
 * digest of its canonical JSON (compared with what Redis holds); what
 * deriving its name references reads and its canonical JSON are made
 * again from the file when it changes.  The memory of a policy is then a
 * fraction of its file.
 */
typedef struct {
    char       *key;                /* in the policy's pools */
    char       *val;                /* canonical JSON; NULL: made again */
    const char *src;                /* the record in the file */
    char       *names;              /* what deriving reads, once changed */
    uint64_t    sum[2];             /* of the canonical JSON (val NULL) */
    uint32_t    len;                /* of src */
    uint8_t     type;
    uint8_t     state;
    uint8_t     named;              /* an org, user, group, object: a name */
} rbacctl_item_t;

/* A name reference that changes (apply_names), written after the items. */
typedef struct {
    char       *key;                /* in the pool `derived` */
    char       *val;
    uint8_t     state;
} rbacctl_nref_t;

/* A record another record names: one entry per key. */
typedef struct {
    char       *key;                /* "org:x" */
    char       *alt;                /* a group may be an org's Everyone */
    char       *where;              /* "what: field" of the first user */
    uint32_t    klen;               /* of the kind in key */
    int         found;
} rbacctl_need_t;

typedef struct {
    char       *org;
    char       *name;
    char       *id;
} rbacctl_grp_t;

typedef struct {
    rbacctl_item_t   *items;
    size_t            n, cap;
    rbacctl_index_t   ix;

    rbacctl_need_t   *needs;
    size_t            nneeds, capneeds;
    rbacctl_index_t   needix;

    rbacctl_grp_t    *grps;
    size_t            ngrps, capgrps;

    char            **dels;         /* keys to delete */
    size_t            ndels, capdels;

    const char       *base;         /* the policy text */
    int               mapped;       /* mmap()ed: read pages are dropped */

    rbacctl_pool_t    pool;         /* items' and needs' strings */
    rbac_siphash_key_t  sumkey[2];  /* random: no collision on purpose */
    rbacctl_pool_t    derived;      /* the name references' strings */
    rbacctl_nref_t   *nrefs;
    size_t            nnrefs, capnrefs;

    cJSON            *idp;          /* idp_sync as written, or NULL */
    long              idp_item;
    int               prune;
    size_t            changed;
    size_t            list_n;       /* elements of the list being read */
} rbacctl_policy_t;


/* The lists of the policy file and their record types. */
static const struct {
    const char       *name;
    rbac_rec_type_t   type;         /* RBAC_REC_NONE: decided per role */
} rbacctl_lists[] = {
    { "organizations", RBAC_REC_ORG },
    { "groups", RBAC_REC_GROUP },
    { "users", RBAC_REC_USER },
    { "roles", RBAC_REC_NONE },
    { "objects", RBAC_REC_OBJ },
    { "tokens", RBAC_REC_TOKEN },
    { "provisioner_keys", RBAC_REC_PKEY },
    { "deployment", RBAC_REC_DEPLOYMENT },
    { "idp_sync", RBAC_REC_IDPSYNC },
    { "references", RBAC_REC_REF },
};

#define RBACCTL_NLISTS  (sizeof(rbacctl_lists) / sizeof(rbacctl_lists[0]))

/* Key prefixes of the kinds a policy manages (for --prune). */
static const char  *rbacctl_managed[] = {
    "org:", "group:", "user:", "role:", "siterole:", "obj:", "token:",
    "pkey:", "deployment", "idpsync", "ref:"
};

#define RBACCTL_NMANAGED  (sizeof(rbacctl_managed) / sizeof(char *))


static const char *
rbacctl_item_key(void *ud, size_t i)
{
    return ((rbacctl_policy_t *) ud)->items[i].key;
}


static const char *
rbacctl_need_key(void *ud, size_t i)
{
    return ((rbacctl_policy_t *) ud)->needs[i].key;
}


static rbacctl_item_t *
rbacctl_policy_find(rbacctl_policy_t *p, const char *key)
{
    size_t  i;

    i = rbacctl_index(&p->ix, key, rbacctl_item_key, p, 0);

    return i ? &p->items[i - 1] : NULL;
}


static void *
rbacctl_grow(void *arr, size_t *cap, size_t n, size_t size)
{
    void    *na;
    size_t   nc;

    if (n < *cap) {
        return arr;
    }

    nc = *cap ? *cap * 2 : 64;
    na = realloc(arr, nc * size);
    if (na == NULL) {
        fprintf(stderr, "rbacctl: out of memory\n");
        return NULL;
    }

    *cap = nc;

    return na;
}


static void
rbacctl_policy_free(rbacctl_policy_t *p)
{
    size_t  i;

    rbacctl_pool_free(&p->pool);
    rbacctl_pool_free(&p->derived);

    for (i = 0; i < p->ngrps; i++) {
        free(p->grps[i].org);
        free(p->grps[i].name);
        free(p->grps[i].id);
    }

    for (i = 0; i < p->ndels; i++) {
        free(p->dels[i]);
    }

    free(p->items);
    free(p->nrefs);
    free(p->ix.slot);
    free(p->needs);
    free(p->needix.slot);
    free(p->grps);
    free(p->dels);
    cJSON_Delete(p->idp);
}


/*
 * Adds key and canonical text (NULL: made again when written) as an item,
 * copied into the policy's pool; RBACCTL_USAGE on a second one.
 */
static int
rbacctl_policy_item(rbacctl_policy_t *p, rbac_rec_type_t type,
    const char *key, const char *canon, const char *what)
{
    rbacctl_item_t  *it;

    if (rbacctl_policy_find(p, key) != NULL) {
        fprintf(stderr, "rbacctl: %s: a second record for key %s\n", what,
                key);
        return RBACCTL_USAGE;
    }

    it = rbacctl_grow(p->items, &p->cap, p->n, sizeof(rbacctl_item_t));
    if (it == NULL) {
        return RBACCTL_FAIL;
    }
    p->items = it;

    it = &p->items[p->n];
    memset(it, 0, sizeof(*it));
    it->key = rbacctl_pool_dup(&p->pool, key, strlen(key));
    it->val = canon ? rbacctl_pool_dup(&p->pool, canon, strlen(canon)) : NULL;

    if (it->key == NULL || (canon != NULL && it->val == NULL)) {
        return RBACCTL_FAIL;
    }

    it->type = (uint8_t) type;
    it->state = RBACCTL_SAME;
    p->n++;

    if (rbacctl_index(&p->ix, it->key, rbacctl_item_key, p, p->n)
        == (size_t) -1)
    {
        fprintf(stderr, "rbacctl: out of memory\n");
        return RBACCTL_FAIL;
    }

    return RBACCTL_OK;
}


/*
 * A mapped file truncated while apply runs raises SIGBUS on a read past its
 * new end.  Every read of the mapping is armed: the load, and each record
 * copied out before it is parsed again; a SIGBUS inside the mapping jumps
 * back to the reader, which fails as for a changed file.  Any other SIGBUS
 * keeps its default action.  Process-wide by nature (one signal handler).
 */
static sigjmp_buf              rbacctl_map_jmp;
static volatile sig_atomic_t   rbacctl_map_armed;
static const char             *rbacctl_map_lo, *rbacctl_map_hi;
static struct sigaction        rbacctl_map_prev;


static void
rbacctl_map_sigbus(int sig, siginfo_t *si, void *uc)
{
    const char  *a = si->si_addr;

    (void) uc;

    if (rbacctl_map_armed && a >= rbacctl_map_lo && a < rbacctl_map_hi) {
        rbacctl_map_armed = 0;
        siglongjmp(rbacctl_map_jmp, 1);
    }

    /* not ours: delivered again with the default action once we return */
    (void) signal(sig, SIG_DFL);
    (void) raise(sig);
}


static void
rbacctl_map_watch(const char *base, size_t len)
{
    struct sigaction  sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = rbacctl_map_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);

    rbacctl_map_lo = base;
    rbacctl_map_hi = base + len;
    (void) sigaction(SIGBUS, &sa, &rbacctl_map_prev);
}


static void
rbacctl_map_unwatch(void)
{
    (void) sigaction(SIGBUS, &rbacctl_map_prev, NULL);
    rbacctl_map_lo = NULL;
    rbacctl_map_hi = NULL;
}


/* The reads of the mapping stay between arm(1) and arm(0). */
static void
rbacctl_map_arm(int on)
{
    atomic_signal_fence(memory_order_seq_cst);
    rbacctl_map_armed = on;
    atomic_signal_fence(memory_order_seq_cst);
}


/* Copies len bytes of the mapping at src: -1 when the file was truncated. */
static int
rbacctl_map_copy(char *dst, const char *src, size_t len)
{
    if (sigsetjmp(rbacctl_map_jmp, 1)) {
        return -1;
    }

    rbacctl_map_arm(1);
    memcpy(dst, src, len);
    rbacctl_map_arm(0);

    return 0;
}


/* A copy of an item's text in the file (malloc), NULL: truncated or ENOMEM */
static char *
rbacctl_item_text(const rbacctl_item_t *it)
{
    char  *s;

    s = malloc((size_t) it->len + 1);
    if (s == NULL) {
        return NULL;
    }

    if (rbacctl_map_copy(s, it->src, it->len) != 0) {
        free(s);
        return NULL;
    }

    s[it->len] = '\0';

    return s;
}


static void
rbacctl_item_sum(rbacctl_policy_t *p, const char *s, size_t len,
    uint64_t *sum)
{
    sum[0] = rbac_siphash(&p->sumkey[0], s, len);
    sum[1] = rbac_siphash(&p->sumkey[1], s, len);
}


/* 1 when canon, made again from the file, is what was read and compared. */
static int
rbacctl_item_same(rbacctl_policy_t *p, const rbacctl_item_t *it,
    const char *canon)
{
    uint64_t  sum[2];

    if (it->val != NULL) {
        return 1;
    }

    rbacctl_item_sum(p, canon, strlen(canon), sum);

    return sum[0] == it->sum[0] && sum[1] == it->sum[1];
}


/*
 * The canonical JSON of an item, made again from the file (malloc); NULL
 * when the file no longer holds a record there.
 */
static char *
rbacctl_item_make(const rbacctl_item_t *it)
{
    char        *src, *key, *canon;
    void        *rec;
    cJSON       *j;
    rbac_err_t   err;

    if (it->val != NULL) {
        return strdup(it->val);
    }

    src = rbacctl_item_text(it);
    if (src == NULL) {
        return NULL;
    }

    canon = NULL;

    if (it->type == RBAC_REC_REF) {
        j = cJSON_ParseWithLength(src, it->len);
        if (j != NULL && rbacctl_ref_item(j, it->key, &key, &canon)
                         == RBACCTL_OK)
        {
            free(key);
        }
        cJSON_Delete(j);
        free(src);
        return canon;
    }

    memset(&err, 0, sizeof(err));
    rec = NULL;

    if (rbac_record_parse(it->type, src, it->len, &rbac_malloc_allocator,
                          &rec, &err) == RBAC_OK)
    {
        (void) rbac_record_json(rec, &rbac_malloc_allocator, &canon, NULL,
                                &err);
    }

    free(rec);
    free(src);

    return canon;
}


/* Adds s (when not empty) as the string member `name` of j. */
static int
rbacctl_names_add(cJSON *j, const char *name, rbac_str_t s)
{
    int    ok;
    char  *z;

    if (s.len == 0) {
        return 1;
    }

    z = strndup(s.data, s.len);
    ok = z != NULL && cJSON_AddStringToObject(j, name, z) != NULL;
    free(z);

    return ok;
}


/*
 * What deriving name references (ref.c) reads of a record: its id, name
 * and parents, as JSON that parses as the same kind of record; NULL for a
 * kind without names, or when that JSON would not parse (deriving is then
 * given the whole canonical JSON).
 */
static char *
rbacctl_item_names(const void *rec, rbac_rec_type_t type)
{
    int                      ok;
    char                    *s;
    void                    *back;
    cJSON                   *j;
    rbac_err_t               err;
    const rbac_org_rec_t    *o = rec;
    const rbac_user_rec_t   *u = rec;
    const rbac_group_rec_t  *g = rec;
    const rbac_obj_rec_t    *b = rec;

    j = cJSON_CreateObject();
    if (j == NULL) {
        return NULL;
    }

    switch (type) {

    case RBAC_REC_ORG:
        ok = rbacctl_names_add(j, "id", rbac_ref(o, o->id))
             && rbacctl_names_add(j, "name", rbac_ref(o, o->name))
             && (!o->is_default || cJSON_AddTrueToObject(j, "default"));
        break;

    case RBAC_REC_USER:
        ok = rbacctl_names_add(j, "id", rbac_ref(u, u->id))
             && rbacctl_names_add(j, "username", rbac_ref(u, u->username));
        break;

    case RBAC_REC_GROUP:
        ok = rbacctl_names_add(j, "id", rbac_ref(g, g->id))
             && rbacctl_names_add(j, "org", rbac_ref(g, g->org))
             && rbacctl_names_add(j, "name", rbac_ref(g, g->name));
        break;

    case RBAC_REC_OBJ:
        ok = rbacctl_names_add(j, "type", rbac_ref(b, b->type_name))
             && rbacctl_names_add(j, "id", rbac_ref(b, b->id))
             && rbacctl_names_add(j, "org", rbac_ref(b, b->org))
             && rbacctl_names_add(j, "owner", rbac_ref(b, b->owner))
             && rbacctl_names_add(j, "name", rbac_ref(b, b->name));
        break;

    default:
        ok = 0;
        break;
    }

    s = ok ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);

    if (s == NULL) {
        return NULL;
    }

    memset(&err, 0, sizeof(err));
    back = NULL;

    if (rbac_record_parse(type, s, strlen(s), &rbac_malloc_allocator, &back,
                          &err) != RBAC_OK)
    {
        free(s);
        s = NULL;
    }

    free(back);

    return s;
}


/* Adds a record of the file: its key, its text at src, a digest. */
static int
rbacctl_policy_record(rbacctl_policy_t *p, rbac_rec_type_t type,
    const char *key, const char *canon, const char *what, const char *src,
    size_t len)
{
    int              rc;
    rbacctl_item_t  *it;

    rc = rbacctl_policy_item(p, type, key, NULL, what);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    it = &p->items[p->n - 1];
    it->src = src;
    it->len = (uint32_t) len;
    rbacctl_item_sum(p, canon, strlen(canon), it->sum);

    it->named = strstr(canon, "name\"") != NULL
                && (type == RBAC_REC_ORG || type == RBAC_REC_USER
                    || type == RBAC_REC_GROUP || type == RBAC_REC_OBJ);

    return RBACCTL_OK;
}


/* ---- references ---- */

/* Notes that `what`.`field` names the record kind:id. */
static int
rbacctl_policy_need(void *ud, const char *what, const char *field,
    const char *kind, rbac_str_t id)
{
    char               key[400], where[400];
    rbacctl_need_t    *nd;
    rbacctl_policy_t  *p = ud;

    snprintf(key, sizeof(key), "%s:%.*s", kind, (int) id.len, id.data);

    if (rbacctl_index(&p->needix, key, rbacctl_need_key, p, 0)) {
        return RBACCTL_OK;
    }

    nd = rbacctl_grow(p->needs, &p->capneeds, p->nneeds,
                      sizeof(rbacctl_need_t));
    if (nd == NULL) {
        return RBACCTL_FAIL;
    }
    p->needs = nd;
    nd = &p->needs[p->nneeds];

    snprintf(where, sizeof(where), "%s: %s", what, field);

    memset(nd, 0, sizeof(*nd));
    nd->key = rbacctl_pool_dup(&p->pool, key, strlen(key));
    nd->where = rbacctl_pool_dup(&p->pool, where, strlen(where));
    nd->klen = (uint32_t) strlen(kind);
    if (strcmp(kind, "group") == 0) {
        /* the Everyone group has the org's id */
        snprintf(key, sizeof(key), "org:%.*s", (int) id.len, id.data);
        nd->alt = rbacctl_pool_dup(&p->pool, key, strlen(key));
    }

    if (nd->key == NULL || nd->where == NULL
        || (strcmp(kind, "group") == 0 && nd->alt == NULL))
    {
        return RBACCTL_FAIL;
    }

    p->nneeds++;

    if (rbacctl_index(&p->needix, nd->key, rbacctl_need_key, p, p->nneeds)
        == (size_t) -1)
    {
        return RBACCTL_FAIL;
    }

    return RBACCTL_OK;
}


static int
rbacctl_policy_group(rbacctl_policy_t *p, const rbac_group_rec_t *g)
{
    rbac_str_t      s[3];
    char           *v[3];
    size_t          i;
    rbacctl_grp_t  *ng;

    ng = rbacctl_grow(p->grps, &p->capgrps, p->ngrps, sizeof(rbacctl_grp_t));
    if (ng == NULL) {
        return RBACCTL_FAIL;
    }
    p->grps = ng;

    s[0] = rbac_ref(g, g->org);
    s[1] = rbac_ref(g, g->name);
    s[2] = rbac_ref(g, g->id);

    for (i = 0; i < 3; i++) {
        v[i] = strndup(s[i].data, s[i].len);
    }

    if (v[0] == NULL || v[1] == NULL || v[2] == NULL) {
        free(v[0]);
        free(v[1]);
        free(v[2]);
        return RBACCTL_FAIL;
    }

    ng[p->ngrps].org = v[0];
    ng[p->ngrps].name = v[1];
    ng[p->ngrps].id = v[2];
    p->ngrps++;

    return RBACCTL_OK;
}


/* ---- loading ---- */

/* Validates one record given as JSON text and adds it. */
/*
 * A reference of the "references" list (docs/references.md): its key
 * spelled by core, its value checked, the object it names needed.
 */
static int
rbacctl_policy_ref(rbacctl_policy_t *p, const char *json, size_t len,
    const char *what)
{
    int          rc;
    char        *key, *canon, target[400], *colon;
    cJSON       *j;
    rbac_str_t   id;

    j = cJSON_ParseWithLength(json, len);
    if (j == NULL) {
        fprintf(stderr, "rbacctl: %s: not JSON\n", what);
        return RBACCTL_USAGE;
    }

    rc = rbacctl_ref_item(j, what, &key, &canon);
    cJSON_Delete(j);

    if (rc != RBACCTL_OK) {
        return rc;
    }

    rc = rbacctl_ref_target(canon, target, sizeof(target));

    if (rc == RBACCTL_OK) {
        /* "org:<id>", "user:<id>", "group:<id>", "obj:<type>:<id>" */
        colon = strchr(target, ':');
        if (strncmp(target, "obj:", 4) == 0) {
            colon = strchr(colon + 1, ':');
        }

        *colon = '\0';
        id.data = colon + 1;
        id.len = strlen(id.data);

        rc = rbacctl_policy_need(p, what, "id", target, id);
    }

    if (rc == RBACCTL_OK) {
        rc = rbacctl_policy_record(p, RBAC_REC_REF, key, canon, what, json,
                                   len);
    }

    free(key);
    free(canon);

    return rc;
}


static int
rbacctl_policy_add(rbacctl_policy_t *p, rbac_rec_type_t type,
    const char *json, size_t len, const char *what)
{
    int          rc;
    char        *canon, *key;
    void        *rec;
    cJSON       *j;
    rbac_err_t   err;

    if (json[0] != '{') {
        fprintf(stderr, "rbacctl: %s: not a JSON object\n", what);
        return RBACCTL_USAGE;
    }

    if (type == RBAC_REC_REF) {
        return rbacctl_policy_ref(p, json, len, what);
    }

    if (type == RBAC_REC_NONE || type == RBAC_REC_IDPSYNC) {
        j = cJSON_ParseWithLength(json, len);
        if (j == NULL) {
            fprintf(stderr, "rbacctl: %s: not JSON\n", what);
            return RBACCTL_USAGE;
        }

        if (type == RBAC_REC_NONE) {
            type = rbacctl_role_type(j);
            cJSON_Delete(j);

        } else {
            cJSON_Delete(p->idp);
            p->idp = j;
            p->idp_item = (long) p->n;
        }
    }

    memset(&err, 0, sizeof(err));
    rec = NULL;
    canon = NULL;

    if (rbac_record_parse(type, json, len, &rbac_malloc_allocator, &rec,
                          &err) != RBAC_OK
        || rbac_record_json(rec, &rbac_malloc_allocator, &canon, NULL, &err)
           != RBAC_OK)
    {
        fprintf(stderr, "rbacctl: %s: %s\n", what,
                err.msg[0] ? err.msg : "not a valid record");
        free(rec);
        return RBACCTL_USAGE;
    }

    rc = RBACCTL_USAGE;
    key = rbacctl_record_key(rec, what);
    if (key == NULL) {
        goto done;
    }

    if (type == RBAC_REC_ROLE || type == RBAC_REC_SITEROLE) {
        rc = rbacctl_role_check(rec, what, NULL);
        if (rc != RBACCTL_OK) {
            goto done;
        }
    }

    rc = rbacctl_record_refs(rec, what, rbacctl_policy_need, p);

    if (rc == RBACCTL_OK && type == RBAC_REC_GROUP) {
        rc = rbacctl_policy_group(p, rec);
    }

    if (rc == RBACCTL_OK) {
        rc = rbacctl_policy_record(p, type, key, canon, what, json, len);
    }

done:

    free(key);
    free(canon);
    free(rec);

    return rc;
}


/* The JSON text walker: spans of values, no tree. */

static const char *
rbacctl_js_ws(const char *s, const char *e)
{
    while (s < e && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
        s++;
    }

    return s;
}


/* s at '"': past the closing quote, or NULL. */
static const char *
rbacctl_js_string(const char *s, const char *e)
{
    for (s++; s < e; s++) {
        if (*s == '\\') {
            s++;
        } else if (*s == '"') {
            return s + 1;
        }
    }

    return NULL;
}


/* Past one value starting at s, or NULL (its inside is core's to check). */
static const char *
rbacctl_js_value(const char *s, const char *e)
{
    size_t  depth;

    if (s >= e) {
        return NULL;
    }

    if (*s == '"') {
        return rbacctl_js_string(s, e);
    }

    if (*s != '{' && *s != '[') {
        while (s < e && strchr(",}] \t\r\n", *s) == NULL) {
            s++;
        }
        return s;
    }

    depth = 0;

    while (s < e) {
        if (*s == '"') {
            s = rbacctl_js_string(s, e);
            if (s == NULL) {
                return NULL;
            }
            continue;
        }

        if (*s == '{' || *s == '[') {
            depth++;

        } else if (*s == '}' || *s == ']') {
            if (--depth == 0) {
                return s + 1;
            }
        }

        s++;
    }

    return NULL;
}


/*
 * A mapped policy file: the pages before `upto` are read and done with;
 * dropping them keeps the file out of the peak memory (the canonical
 * records are what stays).
 */
static void
rbacctl_policy_forget(rbacctl_policy_t *p, const char *upto)
{
    size_t  n, page;

    if (!p->mapped) {
        return;
    }

    page = (size_t) sysconf(_SC_PAGESIZE);
    n = (size_t) (upto - p->base) & ~(page - 1);

    if (n) {
        (void) madvise((void *) p->base, n, MADV_DONTNEED);
    }
}


/* One member of the policy object: v .. *end is its value. */
static int
rbacctl_policy_member(rbacctl_policy_t *p, const char *name, size_t nlen,
    const char *v, const char *e, const char **end, rbacctl_progress_t *pr)
{
    int           rc;
    char          what[96];
    size_t        i, n;
    const char   *s, *x;

    for (i = 0; i < RBACCTL_NLISTS; i++) {
        if (strlen(rbacctl_lists[i].name) == nlen
            && memcmp(rbacctl_lists[i].name, name, nlen) == 0)
        {
            break;
        }
    }

    if (i == RBACCTL_NLISTS) {
        fprintf(stderr, "rbacctl apply: %.*s: not a part of a policy file "
                "(organizations groups users roles objects tokens "
                "provisioner_keys deployment idp_sync references)\n",
                (int) nlen, name);
        return RBACCTL_USAGE;
    }

    x = rbacctl_js_value(v, e);
    if (x == NULL) {
        return -1;
    }
    *end = x;

    if (x - v == 4 && memcmp(v, "null", 4) == 0) {
        return RBACCTL_OK;
    }

    if (rbacctl_lists[i].type == RBAC_REC_DEPLOYMENT
        || rbacctl_lists[i].type == RBAC_REC_IDPSYNC)
    {
        return rbacctl_policy_add(p, rbacctl_lists[i].type, v,
                                  (size_t) (x - v), rbacctl_lists[i].name);
    }

    if (*v != '[') {
        fprintf(stderr, "rbacctl: %s: must be a list\n",
                rbacctl_lists[i].name);
        return RBACCTL_USAGE;
    }

    s = rbacctl_js_ws(v + 1, x);
    n = 0;

    while (s < x - 1) {
        v = rbacctl_js_value(s, x);
        if (v == NULL) {
            return -1;
        }

        snprintf(what, sizeof(what), "%s[%zu]", rbacctl_lists[i].name, n++);
        rc = rbacctl_policy_add(p, rbacctl_lists[i].type, s,
                                (size_t) (v - s), what);
        if (rc != RBACCTL_OK) {
            return rc;
        }

        if ((p->n & 4095) == 0) {
            rbacctl_progress_step(pr, p->n);
            rbacctl_policy_forget(p, s);
        }

        s = rbacctl_js_ws(v, x);
        if (*s == ',') {
            s = rbacctl_js_ws(s + 1, x);
        } else if (s != x - 1) {
            return -1;
        }
    }

    return RBACCTL_OK;
}


static int
rbacctl_policy_load(rbacctl_policy_t *p, const char *text, size_t len)
{
    int                  rc;
    const char          *s, *e, *name, *v, *end;
    rbacctl_progress_t   pr;

    rbacctl_progress_init(&pr, "reading", 0);
    s = text;
    e = text + len;
    p->idp_item = -1;

    s = rbacctl_js_ws(s, e);
    if (s == e || *s != '{') {
        if (s < e && (*s == '[' || *s == '"')) {
            fprintf(stderr, "rbacctl apply: the policy file must be a JSON "
                    "object\n");
            return RBACCTL_USAGE;
        }
        goto nojson;
    }

    s = rbacctl_js_ws(s + 1, e);

    while (s < e && *s != '}') {
        if (*s != '"') {
            goto nojson;
        }

        name = s + 1;
        v = rbacctl_js_string(s, e);
        if (v == NULL) {
            goto nojson;
        }

        s = rbacctl_js_ws(v, e);
        if (s == e || *s != ':') {
            goto nojson;
        }

        s = rbacctl_js_ws(s + 1, e);
        rc = rbacctl_policy_member(p, name, (size_t) (v - 1 - name), s, e,
                                   &end, &pr);
        if (rc < 0) {
            goto nojson;
        }
        if (rc != RBACCTL_OK) {
            rbacctl_progress_end(&pr);
            return rc;
        }

        s = rbacctl_js_ws(end, e);
        if (s < e && *s == ',') {
            s = rbacctl_js_ws(s + 1, e);
            if (s < e && *s == '}') {
                goto nojson;
            }
        } else if (s == e || *s != '}') {
            goto nojson;
        }
    }

    if (s == e || rbacctl_js_ws(s + 1, e) != e) {
        goto nojson;
    }

    rbacctl_progress_end(&pr);

    return RBACCTL_OK;

nojson:

    rbacctl_progress_end(&pr);
    fprintf(stderr, "rbacctl apply: the policy file is not JSON (near byte "
            "%zu)\n", (size_t) (s - text));

    return RBACCTL_USAGE;
}


/* ---- checks against Redis ---- */

/* Every record named must be in the policy or (without --prune) Redis. */
static int
rbacctl_apply_needs(rbacctl_conn_t *conn, rbacctl_policy_t *p)
{
    int              rc, *present;
    size_t           i, n;
    const char     **keys;
    rbacctl_need_t  *nd;

    keys = calloc(2 * p->nneeds + 1, sizeof(char *));
    present = calloc(2 * p->nneeds + 1, sizeof(int));
    if (keys == NULL || present == NULL) {
        free(keys);
        free(present);
        return RBACCTL_FAIL;
    }

    n = 0;

    for (i = 0; i < p->nneeds; i++) {
        nd = &p->needs[i];
        nd->found = rbacctl_policy_find(p, nd->key) != NULL
                    || (nd->alt && rbacctl_policy_find(p, nd->alt) != NULL);

        if (!nd->found && !p->prune) {
            keys[n++] = nd->key;
            if (nd->alt) {
                keys[n++] = nd->alt;
            }
        }
    }

    rc = n ? rbacctl_mget_copy(conn, keys, n, present, NULL) : RBACCTL_OK;

    for (i = 0, n = 0; i < p->nneeds && rc == RBACCTL_OK; i++) {
        nd = &p->needs[i];

        if (!nd->found && !p->prune) {
            nd->found = present[n++];
            if (nd->alt) {
                nd->found |= present[n++];
            }
        }

        if (!nd->found) {
            fprintf(stderr, "rbacctl: %s: no %.*s \"%s\" in the policy%s\n",
                    nd->where,
                    (int) (strncmp(nd->key, "org:", 4) == 0 ? 12 : nd->klen),
                    strncmp(nd->key, "org:", 4) == 0 ? "organization"
                                                     : nd->key,
                    nd->key + nd->klen + 1, p->prune ? "" : " or in Redis");
            rc = RBACCTL_USAGE;
        }
    }

    free(keys);
    free(present);

    return rc;
}


/* IdP sync settings carry a version that rbacctl bumps on every change. */
static int
rbacctl_apply_idpsync(rbacctl_conn_t *conn, rbacctl_policy_t *p)
{
    int              rc;
    char            *canon, *stored;
    void            *rec;
    double           ver;
    cJSON           *old, *v;
    rbac_err_t       err;
    rbac_idp_rx_t   *rx;
    rbacctl_item_t  *it;

    if (p->idp_item < 0) {
        return RBACCTL_OK;
    }

    it = &p->items[p->idp_item];

    if (rbacctl_get(conn, "idpsync", &stored) != RBACCTL_OK) {
        return RBACCTL_FAIL;
    }

    ver = 0;

    if (stored) {
        old = cJSON_Parse(stored);
        v = old ? cJSON_GetObjectItemCaseSensitive(old, "version") : NULL;
        if (cJSON_IsNumber(v)) {
            ver = v->valuedouble;
        }
        cJSON_Delete(old);
    }

    cJSON_DeleteItemFromObjectCaseSensitive(p->idp, "version");
    if (cJSON_AddNumberToObject(p->idp, "version", stored ? ver : 1)
        == NULL)
    {
        free(stored);
        return RBACCTL_FAIL;
    }

    canon = rbacctl_canon(RBAC_REC_IDPSYNC, p->idp, "idp_sync");

    if (canon && stored && strcmp(canon, stored) != 0) {
        free(canon);
        cJSON_DeleteItemFromObjectCaseSensitive(p->idp, "version");
        canon = cJSON_AddNumberToObject(p->idp, "version", ver + 1)
                ? rbacctl_canon(RBAC_REC_IDPSYNC, p->idp, "idp_sync") : NULL;
    }

    free(stored);

    if (canon == NULL) {
        return RBACCTL_USAGE;
    }

    /* the regex filters must compile as the module compiles them */
    memset(&err, 0, sizeof(err));
    rec = NULL;
    rx = NULL;
    rc = RBACCTL_OK;

    if (rbac_record_parse(RBAC_REC_IDPSYNC, canon, strlen(canon),
                          &rbac_malloc_allocator, &rec, &err) != RBAC_OK
        || rbac_idp_compile(rec, &rbac_malloc_allocator, &rx, &err)
           != RBAC_OK)
    {
        fprintf(stderr, "idp_sync: %s\n", err.msg);
        rc = RBACCTL_USAGE;
    }

    rbac_idp_rx_free(rx);
    free(rec);

    if (rc == RBACCTL_OK) {
        it->val = rbacctl_pool_dup(&p->pool, canon, strlen(canon));
        rc = it->val ? RBACCTL_OK : RBACCTL_FAIL;
    }

    free(canon);

    return rc;
}


static int
rbacctl_grp_cmp(const void *a, const void *b)
{
    const rbacctl_grp_t  *x = a, *y = b;
    int                   c;

    c = strcmp(x->org, y->org);

    return c ? c : strcmp(x->name, y->name);
}


static int
rbacctl_policy_del(rbacctl_policy_t *p, const char *key)
{
    char  **nd;

    nd = rbacctl_grow(p->dels, &p->capdels, p->ndels, sizeof(char *));
    if (nd == NULL) {
        return RBACCTL_FAIL;
    }
    p->dels = nd;

    p->dels[p->ndels] = strdup(key);
    if (p->dels[p->ndels] == NULL) {
        return RBACCTL_FAIL;
    }
    p->ndels++;

    return RBACCTL_OK;
}


/* The groups in Redis that the file does not name (without --prune). */
static int
rbacctl_apply_stored_groups(rbacctl_conn_t *conn, rbacctl_policy_t *p,
    char **gkeys, long ng)
{
    int                      rc, *present;
    long                     k;
    char                   **vals;
    size_t                   n;
    void                    *rec;
    const char             **keys;

    keys = calloc((size_t) ng + 1, sizeof(char *));
    vals = calloc((size_t) ng + 1, sizeof(char *));
    present = calloc((size_t) ng + 1, sizeof(int));
    rc = keys && vals && present ? RBACCTL_OK : RBACCTL_FAIL;
    n = 0;

    for (k = 0; k < ng && rc == RBACCTL_OK; k++) {
        if (rbacctl_policy_find(p, gkeys[k]) == NULL) {
            keys[n++] = gkeys[k];
        }
    }

    if (rc == RBACCTL_OK && n) {
        rc = rbacctl_mget_copy(conn, keys, n, present, vals);
    }

    for (k = 0; k < (long) n && rc == RBACCTL_OK; k++) {
        if (vals[k] == NULL) {
            continue;           /* deleted since the SCAN */
        }

        rec = rbacctl_parse_key(conn->prefix, keys[k], vals[k], NULL);
        if (rec == NULL) {
            rc = RBACCTL_FAIL;
            break;
        }

        rc = rbacctl_policy_group(p, rec);
        free(rec);
    }

    for (k = 0; vals && k < (long) n; k++) {
        free(vals[k]);
    }

    free(keys);
    free(vals);
    free(present);

    return rc;
}


/* rbac:orggroups:<org> for every org, from the groups the write leaves. */
static int
rbacctl_apply_orggroups(rbacctl_conn_t *conn, rbacctl_policy_t *p)
{
    int             rc;
    long            na, ng, no, k;
    char          **all, **gkeys, **okeys, key[400], *canon;
    size_t          i, j;
    cJSON          *idx;
    rbacctl_grp_t  *g;

    /* one pass over the keyspace for group:* and orggroups:* */
    na = rbacctl_scan(conn, "*group*", &all);
    if (na < 0) {
        return RBACCTL_FAIL;
    }

    gkeys = calloc((size_t) na + 1, sizeof(char *));
    okeys = calloc((size_t) na + 1, sizeof(char *));
    ng = 0;
    no = 0;

    for (k = 0; gkeys && okeys && k < na; k++) {
        if (strncmp(all[k], "group:", 6) == 0) {
            gkeys[ng++] = all[k];
        } else if (strncmp(all[k], "orggroups:", 10) == 0) {
            okeys[no++] = all[k];
        }
    }

    rc = gkeys && okeys ? RBACCTL_OK : RBACCTL_FAIL;

    if (rc == RBACCTL_OK && !p->prune) {
        rc = rbacctl_apply_stored_groups(conn, p, gkeys, ng);
    }

    g = p->grps;
    qsort(g, p->ngrps, sizeof(rbacctl_grp_t), rbacctl_grp_cmp);

    for (i = 0; i < p->ngrps && rc == RBACCTL_OK; i = j) {
        idx = cJSON_CreateObject();
        if (idx == NULL) {
            rc = RBACCTL_FAIL;
            break;
        }

        for (j = i; j < p->ngrps && strcmp(g[j].org, g[i].org) == 0; j++) {
            if (j > i && strcmp(g[j].name, g[j - 1].name) == 0) {
                fprintf(stderr, "rbacctl: groups: \"%s\" and \"%s\" have the "
                        "same name \"%s\" in organization \"%s\"\n",
                        g[j - 1].id, g[j].id, g[j].name, g[j].org);
                rc = RBACCTL_USAGE;
                break;
            }

            if (cJSON_AddStringToObject(idx, g[j].name, g[j].id) == NULL) {
                rc = RBACCTL_FAIL;
                break;
            }
        }

        snprintf(key, sizeof(key), "orggroups:%s", g[i].org);
        canon = rc == RBACCTL_OK ? rbacctl_canon(RBAC_REC_ORGGROUPS, idx, key)
                                 : NULL;
        cJSON_Delete(idx);

        if (rc == RBACCTL_OK) {
            rc = canon ? rbacctl_policy_item(p, RBAC_REC_ORGGROUPS, key, canon,
                                             key)
                       : RBACCTL_FAIL;
        }

        free(canon);
    }

    /* indexes of orgs that no longer have groups */
    for (k = 0; k < no && rc == RBACCTL_OK; k++) {
        if (rbacctl_policy_find(p, okeys[k]) == NULL) {
            rc = rbacctl_policy_del(p, okeys[k]);
        }
    }

    free(gkeys);
    free(okeys);
    rbacctl_strv_free(all, na);

    return rc;
}


/* --prune: every managed key that the file does not name. */
/* 1 for a reference rbacctl derived from a name (it follows the name). */
static int
rbacctl_apply_derived(rbacctl_conn_t *conn, const char *key)
{
    int                    d;
    char                  *val;
    rbac_reference_rec_t  *rec;

    if (strncmp(key, "ref:", 4) != 0
        || rbacctl_get(conn, key, &val) != RBACCTL_OK || val == NULL)
    {
        return 0;
    }

    rec = rbacctl_parse_stored(RBAC_REC_REF, key, val);
    free(val);

    d = rec != NULL && rec->derived;
    free(rec);

    return d;
}


static int
rbacctl_apply_prune(rbacctl_conn_t *conn, rbacctl_policy_t *p)
{
    int     rc;
    long    nk, k;
    char  **keys;
    size_t  m;

    nk = rbacctl_scan(conn, "*", &keys);
    if (nk < 0) {
        return RBACCTL_FAIL;
    }

    rc = RBACCTL_OK;

    for (k = 0; k < nk && rc == RBACCTL_OK; k++) {
        for (m = 0; m < RBACCTL_NMANAGED; m++) {
            if (strncmp(keys[k], rbacctl_managed[m],
                        strlen(rbacctl_managed[m])) == 0)
            {
                break;
            }
        }

        if (m == RBACCTL_NMANAGED
            || (strchr(rbacctl_managed[m], ':') == NULL
                && strcmp(keys[k], rbacctl_managed[m]) != 0))
        {
            continue;
        }

        /* a GET per stored reference: the lock held over conn renewed */
        if (conn->lock != NULL && rbacctl_lock_keep(conn->lock) != RBACCTL_OK)
        {
            rc = RBACCTL_FAIL;
            break;
        }

        if (rbacctl_policy_find(p, keys[k]) == NULL
            && !rbacctl_apply_derived(conn, keys[k]))
        {
            rc = rbacctl_policy_del(p, keys[k]);
        }
    }

    rbacctl_strv_free(keys, nk);

    return rc;
}


/* ---- the diff ---- */

static int
rbacctl_diff_val(void *ud, size_t i, const char *val, size_t len)
{
    uint64_t           sum[2];
    rbacctl_policy_t  *p = ud;
    rbacctl_item_t    *it = &p->items[i];

    if (val != NULL && it->val == NULL) {
        rbacctl_item_sum(p, val, len, sum);
    }

    if (val == NULL) {
        it->state = RBACCTL_ADDED;

    } else if (it->val == NULL
               ? sum[0] != it->sum[0] || sum[1] != it->sum[1]
               : len != strlen(it->val) || memcmp(val, it->val, len) != 0)
    {
        it->state = RBACCTL_CHANGED;

        /* a reference set by hand over one a name gives (ref.c) */
        if (strncmp(it->key, "ref:", 4) == 0 && rbacctl_ref_derived(val, len)) {
            fprintf(stderr, "rbacctl: %s: a name gives this reference "
                    "(%.*s); the file would replace it by hand: rename or "
                    "delete the object instead; nothing was written\n",
                    it->key, (int) len, val);
            return RBACCTL_USAGE;
        }

    } else {
        it->state = RBACCTL_SAME;
        return RBACCTL_OK;
    }

    p->changed++;

    return RBACCTL_OK;
}


/* The records whose name references apply_names derives. */
typedef struct {
    rbacctl_policy_t  *p;
    size_t            *sel;         /* < p->n: an item; else a delete */
    size_t             n;
} rbacctl_named_t;


static const char *
rbacctl_named_key(void *ud, size_t i)
{
    rbacctl_named_t  *nm = ud;
    size_t            k = nm->sel[i];

    return k < nm->p->n ? nm->p->items[k].key : nm->p->dels[k - nm->p->n];
}


static const char *
rbacctl_named_val(void *ud, size_t i)
{
    rbacctl_named_t  *nm = ud;
    size_t            k = nm->sel[i];

    return k < nm->p->n ? nm->p->items[k].names : NULL;
}


/*
 * Gives deriving (it->names) what it reads of an item made again from the
 * file: its names, or its whole canonical JSON.
 */
static int
rbacctl_item_derivable(rbacctl_policy_t *p, rbacctl_item_t *it)
{
    char        *s, *src;
    void        *rec;
    rbac_err_t   err;

    s = NULL;
    rec = NULL;
    memset(&err, 0, sizeof(err));

    if (it->named && it->val == NULL) {
        src = rbacctl_item_text(it);
        if (src != NULL
            && rbac_record_parse(it->type, src, it->len,
                                 &rbac_malloc_allocator, &rec, &err)
               == RBAC_OK)
        {
            s = rbacctl_item_names(rec, it->type);
        }

        free(src);
    }

    free(rec);

    if (s == NULL) {
        s = rbacctl_item_make(it);
        if (s == NULL) {
            fprintf(stderr, "rbacctl: %s: the policy file changed while it "
                    "was applied\n", it->key);
            return RBACCTL_FAIL;
        }
    }

    it->names = rbacctl_pool_dup(&p->pool, s, strlen(s));
    free(s);

    return it->names ? RBACCTL_OK : RBACCTL_FAIL;
}


/* A name reference to write: kept in tx's pool, which p takes over. */
static int
rbacctl_policy_nref(rbacctl_policy_t *p, const rbacctl_ent_t *e)
{
    rbacctl_nref_t  *nr;

    nr = rbacctl_grow(p->nrefs, &p->capnrefs, p->nnrefs,
                      sizeof(rbacctl_nref_t));
    if (nr == NULL) {
        return RBACCTL_FAIL;
    }

    p->nrefs = nr;
    nr = &p->nrefs[p->nnrefs++];
    nr->key = e->key;
    nr->val = e->val;
    nr->state = e->old ? RBACCTL_CHANGED : RBACCTL_ADDED;
    p->changed++;

    return RBACCTL_OK;
}


/*
 * The name references of what changes (ref.c, docs/references.md): the
 * changed organizations, users, groups and objects go through a
 * transaction view (old value from Redis, new one from the file), whose
 * derived references are added to the write.  Every read is batched
 * (rbacctl_refs_stage).  Under the writer lock.
 */
static int
rbacctl_apply_names(rbacctl_conn_t *conn, rbacctl_lock_t *lock,
    rbacctl_policy_t *p)
{
    int              rc;
    size_t           i, n;
    const char      *key;
    rbac_str_t       k;
    rbacctl_tx_t     tx;
    rbacctl_ent_t   *e;
    rbacctl_item_t  *it;
    rbac_rec_type_t  t;
    rbacctl_named_t  nm;

    memset(&tx, 0, sizeof(tx));
    tx.conn = conn;
    n = p->n;

    nm.p = p;
    nm.n = 0;
    nm.sel = malloc((n + p->ndels + 1) * sizeof(size_t));
    if (nm.sel == NULL) {
        return RBACCTL_FAIL;
    }

    for (i = 0; i < n + p->ndels; i++) {
        key = i < n ? p->items[i].key : p->dels[i - n];

        if (i < n && p->items[i].state == RBACCTL_SAME) {
            continue;
        }

        /* a new record without a name derives no reference */
        if (i < n && p->items[i].state == RBACCTL_ADDED
            && !p->items[i].named)
        {
            continue;
        }

        k.data = key;
        k.len = strlen(key);
        t = rbac_record_type_of_key(k);

        if (t != RBAC_REC_ORG && t != RBAC_REC_USER && t != RBAC_REC_GROUP
            && t != RBAC_REC_OBJ)
        {
            continue;
        }

        if (i < n && rbacctl_item_derivable(p, &p->items[i]) != RBACCTL_OK) {
            free(nm.sel);
            return RBACCTL_FAIL;
        }

        /* the file's pages are read again: dropped once done with */
        if (i < n && (i & 4095) == 0 && p->items[i].src) {
            rbacctl_policy_forget(p, p->items[i].src);
        }

        /* a long selection renews the lock (nothing is in flight) */
        if ((nm.n & 1023) == 0 && rbacctl_lock_keep(lock) != RBACCTL_OK) {
            free(nm.sel);
            return RBACCTL_FAIL;
        }

        nm.sel[nm.n++] = i;
    }

    rc = nm.n ? rbacctl_refs_stage(&tx, nm.n, rbacctl_named_key,
                                   rbacctl_named_val, &nm, lock)
              : RBACCTL_OK;
    free(nm.sel);

    /* no more lookups in tx: its index goes before the copy grows */
    rbacctl_index_free(&tx.ix);

    for (i = 0; i < tx.n && rc == RBACCTL_OK; i++) {
        e = &tx.ents[i];

        if (strncmp(e->key, "ref:", 4) != 0 || !e->staged
            || (e->old == NULL && e->val == NULL)
            || (e->old && e->val && strcmp(e->old, e->val) == 0))
        {
            continue;
        }

        it = rbacctl_policy_find(p, e->key);

        if (it != NULL) {
            fprintf(stderr, "rbacctl: %s: the file sets this reference by "
                    "hand, and a name needs it; nothing was written\n",
                    e->key);
            rc = RBACCTL_USAGE;

        } else if (e->val == NULL) {
            rc = rbacctl_policy_del(p, e->key);

        } else {
            rc = rbacctl_policy_nref(p, e);
        }
    }

    p->derived = tx.pool;
    memset(&tx.pool, 0, sizeof(tx.pool));
    rbacctl_tx_clear(&tx);

    return rc;
}


/* The kind of a key, for the summary: what comes before the first ':'. */
static size_t
rbacctl_kind_len(const char *key)
{
    return strcspn(key, ":");
}


typedef struct {
    char    kind[32];
    size_t  n[4];
} rbacctl_count_t;


static void
rbacctl_count(rbacctl_count_t *c, size_t *nc, const char *key, int state)
{
    size_t  i, kl;

    kl = rbacctl_kind_len(key);
    if (kl >= sizeof(c[0].kind)) {
        kl = sizeof(c[0].kind) - 1;
    }

    for (i = 0; i < *nc; i++) {
        if (strlen(c[i].kind) == kl && memcmp(c[i].kind, key, kl) == 0) {
            break;
        }
    }

    if (i == *nc) {
        if (*nc == 16) {
            return;
        }
        memset(&c[i], 0, sizeof(c[i]));
        memcpy(c[i].kind, key, kl);
        (*nc)++;
    }

    c[i].n[state]++;
}


/* "# user: 3 added, 1 changed, 0 removed" for each kind that changes. */
static void
rbacctl_diff_summary(rbacctl_policy_t *p, FILE *f)
{
    size_t           i, nc;
    rbacctl_count_t  c[16];

    nc = 0;

    for (i = 0; i < p->n; i++) {
        if (p->items[i].state != RBACCTL_SAME) {
            rbacctl_count(c, &nc, p->items[i].key, p->items[i].state);
        }
    }

    for (i = 0; i < p->nnrefs; i++) {
        rbacctl_count(c, &nc, p->nrefs[i].key, p->nrefs[i].state);
    }

    for (i = 0; i < p->ndels; i++) {
        rbacctl_count(c, &nc, p->dels[i], RBACCTL_REMOVED);
    }

    for (i = 0; i < nc; i++) {
        fprintf(f, "# %s: %zu added, %zu changed, %zu removed\n", c[i].kind,
                c[i].n[RBACCTL_ADDED], c[i].n[RBACCTL_CHANGED],
                c[i].n[RBACCTL_REMOVED]);
    }
}


static void
rbacctl_diff_print(rbacctl_conn_t *conn, rbacctl_policy_t *p, FILE *f)
{
    size_t  i;

    for (i = 0; i < p->n; i++) {
        if (p->items[i].state != RBACCTL_SAME) {
            fprintf(f, "%c %s%s\n",
                    p->items[i].state == RBACCTL_ADDED ? '+' : '~',
                    conn->prefix, p->items[i].key);
        }
    }

    for (i = 0; i < p->nnrefs; i++) {
        fprintf(f, "%c %s%s\n", p->nrefs[i].state == RBACCTL_ADDED ? '+' : '~',
                conn->prefix, p->nrefs[i].key);
    }

    for (i = 0; i < p->ndels; i++) {
        fprintf(f, "- %s%s\n", conn->prefix, p->dels[i]);
    }

    fflush(f);
}


/* ---- the write ---- */

static int
rbacctl_apply_write(rbacctl_conn_t *conn, rbacctl_lock_t *lock,
    rbacctl_policy_t *p, const char *cmd)
{
    int                  rc;
    char                *canon;
    size_t               i, total;
    rbacctl_item_t      *it;
    rbacctl_writer_t     w;
    rbacctl_progress_t   pr;

    total = p->changed + p->ndels;
    rbacctl_writer_init(&w, conn, lock, total);
    rbacctl_progress_init(&pr, "writing", total);

    for (i = 0; i < p->n; i++) {
        if (p->items[i].state == RBACCTL_SAME) {
            continue;
        }

        it = &p->items[i];
        canon = it->val ? it->val : rbacctl_item_make(it);
        if (canon == NULL || !rbacctl_item_same(p, it, canon)) {
            fprintf(stderr, "rbacctl %s: %s: the policy file changed while "
                    "it was applied\n", cmd, it->key);
            free(canon);
            goto failed;
        }

        rc = rbacctl_writer_put(&w, it->key, canon);

        if (canon != it->val) {
            free(canon);
        }

        if (rc != RBACCTL_OK) {
            goto failed;
        }

        rbacctl_progress_step(&pr, w.written);

        /* the file's pages are read again: dropped once written */
        if ((i & 4095) == 0 && it->src) {
            rbacctl_policy_forget(p, it->src);
        }
    }

    for (i = 0; i < p->nnrefs; i++) {
        if (rbacctl_writer_put(&w, p->nrefs[i].key, p->nrefs[i].val)
            != RBACCTL_OK)
        {
            goto failed;
        }

        rbacctl_progress_step(&pr, w.written);
    }

    for (i = 0; i < p->ndels; i++) {
        if (rbacctl_writer_put(&w, p->dels[i], NULL) != RBACCTL_OK) {
            goto failed;
        }
    }

    if (rbacctl_writer_finish(&w) != RBACCTL_OK) {
        goto failed;
    }

    rbacctl_progress_end(&pr);

    return RBACCTL_OK;

failed:

    rbacctl_writer_abandon(&w);
    rbacctl_progress_end(&pr);

    if (w.written) {
        fprintf(stderr, "rbacctl %s: stopped after %zu of %zu key(s) were "
                "written; each key holds its old or its new value: run the "
                "command again to finish\n", cmd, w.written, total);
    }

    return RBACCTL_FAIL;
}


/* Everything after loading: checks, diff and write, under the lock. */
static int
rbacctl_apply_run(rbacctl_args_t *a, const char *cmd, rbacctl_policy_t *p)
{
    int                  rc, dry;
    char                *end;
    double               wait;
    const char          *ws;
    rbacctl_conn_t       conn;
    rbacctl_lock_t       lock;
    rbacctl_progress_t   pr;

    dry = rbacctl_flag(a, "dry-run");
    wait = RBACCTL_LOCK_WAIT;
    ws = rbacctl_arg(a, "wait");

    if (ws) {
        wait = strtod(ws, &end);
        if (*ws == '\0' || *end != '\0' || wait < 0 || wait > 86400) {
            fprintf(stderr, "rbacctl %s: --wait: \"%s\" is not a number of "
                    "seconds\n", cmd, ws);
            return RBACCTL_USAGE;
        }
    }

    rc = rbacctl_connect(a, &conn);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    memset(&lock, 0, sizeof(lock));

    if (!dry) {
        rc = rbacctl_lock_take(&lock, &conn, cmd, wait);
    }

    if (rc == RBACCTL_OK) {
        rc = rbacctl_apply_idpsync(&conn, p);
    }

    /* between the reads, the lock is renewed when it is due */
    if (rc == RBACCTL_OK) {
        rc = rbacctl_apply_needs(&conn, p);
    }

    if (rc == RBACCTL_OK) {
        rc = rbacctl_lock_keep(&lock);
    }

    if (rc == RBACCTL_OK) {
        rc = rbacctl_apply_orggroups(&conn, p);
    }

    if (rc == RBACCTL_OK) {
        rc = rbacctl_lock_keep(&lock);
    }

    if (rc == RBACCTL_OK && p->prune) {
        rc = rbacctl_apply_prune(&conn, p);
    }

    if (rc == RBACCTL_OK) {
        rc = rbacctl_lock_keep(&lock);
    }

    if (rc == RBACCTL_OK) {
        rbacctl_progress_init(&pr, "comparing", p->n);
        rc = rbacctl_mget(&conn, p->n, rbacctl_item_key, rbacctl_diff_val, p,
                          &pr, &lock);
        rbacctl_progress_end(&pr);
    }

    if (rc == RBACCTL_OK) {
        rc = rbacctl_apply_names(&conn, &lock, p);
    }

    if (rc == RBACCTL_OK && !dry && p->changed + p->ndels) {
        rc = rbacctl_lock_keep(&lock);
        if (rc == RBACCTL_OK) {
            rc = rbacctl_apply_write(&conn, &lock, p, cmd);
        }
    }

    rbacctl_lock_release(&lock);

    if (rc != RBACCTL_OK) {
        fprintf(stderr, "rbacctl %s: nothing more was written\n", cmd);

    } else if (p->changed + p->ndels == 0) {
        fprintf(stderr, "rbacctl %s: no changes\n", cmd);

    } else {
        rbacctl_diff_summary(p, stdout);
        rbacctl_diff_print(&conn, p, stdout);

        if (dry) {
            fprintf(stderr, "rbacctl %s: dry run, %zu key(s) would change; "
                    "nothing was written\n", cmd, p->changed + p->ndels);
        } else {
            fprintf(stderr, "rbacctl %s: %zu key(s) written\n", cmd,
                    p->changed + p->ndels);
        }
    }

    rbacctl_disconnect(&conn);

    return rc;
}


/*
 * The policy file: a regular file is mapped (no size limit, and its pages
 * are dropped as they are read); stdin is read whole (rbacctl_read_file's
 * limit).  *mapped says which; NULL with errno set.
 */
static char *
rbacctl_apply_open(const char *path, size_t *len, int *mapped)
{
    int           fd;
    void         *m;
    struct stat   st;

    *mapped = 0;

    if (strcmp(path, "-") != 0) {
        fd = open(path, O_RDONLY);
        if (fd < 0) {
            return NULL;
        }

        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
            m = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd,
                     0);
            close(fd);
            if (m == MAP_FAILED) {
                return NULL;
            }

            (void) madvise(m, (size_t) st.st_size, MADV_SEQUENTIAL);
            *len = (size_t) st.st_size;
            *mapped = 1;
            return m;
        }

        close(fd);
    }

    return rbacctl_read_file(path, len);
}


/* Loads the policy text and writes what differs. */
/* A random key for the digests of the records. */
static void
rbacctl_apply_sumkey(rbacctl_policy_t *p)
{
    uint64_t  r[4];

    if (getrandom(r, sizeof(r), 0) != (ssize_t) sizeof(r)) {
        r[0] = (uint64_t) getpid() * 0x9e3779b97f4a7c15ULL;
        r[1] = (uint64_t) rbacctl_now() * 1e9;
        r[2] = r[0] ^ 0x5851f42d4c957f2dULL;
        r[3] = r[1] ^ 0x14057b7ef767814fULL;
    }

    p->sumkey[0].k0 = r[0];
    p->sumkey[0].k1 = r[1];
    p->sumkey[1].k0 = r[2];
    p->sumkey[1].k1 = r[3];
}


/* The load of a mapped file, armed against its truncation (above). */
static int
rbacctl_policy_load_mapped(rbacctl_policy_t *p, const char *text, size_t len)
{
    int  rc;

    if (sigsetjmp(rbacctl_map_jmp, 1)) {
        fprintf(stderr, "%srbacctl apply: the policy file changed while it "
                "was read\n", isatty(STDERR_FILENO) ? "\r\033[K" : "");
        return RBACCTL_FAIL;
    }

    rbacctl_map_arm(1);
    rc = rbacctl_policy_load(p, text, len);
    rbacctl_map_arm(0);

    return rc;
}


static int
rbacctl_apply_text(rbacctl_args_t *a, const char *cmd, char *text,
    size_t len, int prune, int mapped)
{
    int               rc;
    rbacctl_policy_t  p;

    memset(&p, 0, sizeof(p));
    p.prune = prune;
    p.base = text;
    p.mapped = mapped;

    rbacctl_apply_sumkey(&p);

    if (mapped) {
        rbacctl_map_watch(text, len);
        rc = rbacctl_policy_load_mapped(&p, text, len);

    } else {
        rc = rbacctl_policy_load(&p, text, len);
    }

    if (rc != RBACCTL_OK) {
        fprintf(stderr, "rbacctl %s: nothing was written\n", cmd);

    } else {
        rc = rbacctl_apply_run(a, cmd, &p);
    }

    /* the records' text is read again when they are written */
    if (mapped) {
        rbacctl_map_unwatch();
        munmap(text, len);
    } else {
        free(text);
    }

    rbacctl_policy_free(&p);

    return rc;
}


int
rbacctl_apply(int argc, char **argv)
{
    int              rc, mapped;
    char            *text;
    size_t           len;
    const char      *file;
    rbacctl_args_t   a;

    rc = rbacctl_args_parse(&a, "apply", argc - 1, argv + 1,
                            "file= dry-run prune wait=", rbacctl_apply_usage);
    if (rc != RBACCTL_OK || a.help) {
        return rc;
    }

    file = rbacctl_arg(&a, "file");
    if (file == NULL || a.npos) {
        fprintf(stderr, "usage: rbacctl %s\n", rbacctl_apply_usage);
        return RBACCTL_USAGE;
    }

    text = rbacctl_apply_open(file, &len, &mapped);
    if (text == NULL) {
        return rbacctl_fail(&a, RBACCTL_USAGE, "%s: %s", file,
                            strerror(errno));
    }

    return rbacctl_apply_text(&a, "apply", text, len,
                              rbacctl_flag(&a, "prune"), mapped);
}


static const char  rbacctl_idpsync_usage[] =
    "idpsync show | idpsync set -f FILE [--dry-run]\n"
    "  show prints the IdP sync settings (rbac:idpsync); set validates the\n"
    "  settings object in FILE (the \"idp_sync\" of a policy file), writes\n"
    "  it with a new version and publishes it.  Groups are never created\n"
    "  by the proxy: create them with \"rbacctl group create\" and map them.";


int
rbacctl_idpsync(int argc, char **argv)
{
    int              rc;
    char            *text, *doc, *val;
    size_t           len;
    const char      *file;
    rbacctl_args_t   a;
    rbacctl_conn_t   conn;

    rc = rbacctl_args_parse(&a, "idpsync", argc - 1, argv + 1,
                            "file= dry-run", rbacctl_idpsync_usage);
    if (rc != RBACCTL_OK || a.help) {
        return rc;
    }

    file = rbacctl_arg(&a, "file");

    if (a.npos == 1 && strcmp(a.pos[0], "show") == 0 && file == NULL) {
        rc = rbacctl_connect(&a, &conn);
        if (rc != RBACCTL_OK) {
            return rc;
        }

        rc = rbacctl_get(&conn, "idpsync", &val);
        rbacctl_disconnect(&conn);

        if (rc == RBACCTL_OK) {
            printf("%s\n", val ? val : "no IdP sync settings");
            free(val);
        }

        return rc;
    }

    if (a.npos != 1 || strcmp(a.pos[0], "set") != 0 || file == NULL) {
        fprintf(stderr, "usage: rbacctl %s\n", rbacctl_idpsync_usage);
        return RBACCTL_USAGE;
    }

    text = rbacctl_read_file(file, &len);
    if (text == NULL) {
        return rbacctl_fail(&a, RBACCTL_USAGE, "%s: %s", file,
                            strerror(errno));
    }

    /* the settings object, as the "idp_sync" of a policy */
    doc = malloc(len + sizeof("{\"idp_sync\":\n}"));
    if (doc == NULL) {
        free(text);
        return RBACCTL_FAIL;
    }

    len = sprintf(doc, "{\"idp_sync\":%.*s\n}", (int) len, text);
    free(text);

    return rbacctl_apply_text(&a, "idpsync set", doc, len, 0, 0);
}
