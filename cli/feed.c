/*
 * feed.c: `rbacctl feed`: a change feed on stdin, one JSON object a line,
 *
 *   {"op":"upsert","kind":"user","record":{...}}   (kind: org, group, user,
 *                                                  role, obj, token, pkey,
 *                                                  deployment, ref)
 *   {"op":"delete","key":"obj:workspace:ws1"}      (key without the prefix)
 *
 * Each line is validated as apply validates a record; a refused line is
 * reported with its number and reason and the rest go on.  Accepted lines
 * are written in batches (at most RBACCTL_FEED_BATCH lines, or what has
 * arrived when the input pauses), each batch under the writer lock: the
 * records a line names checked in Redis (or earlier in the batch), group
 * name indexes (orggroups) and name references (ref.c) kept in step, the
 * keys written in chunks, rbac:version incremented once and the keys
 * published (bulk.c).
 */

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"


#define RBACCTL_FEED_BATCH  1000
#define RBACCTL_FEED_LINE   (4 * 1024 * 1024)


static const char  rbacctl_feed_usage[] =
    "feed [--wait SECONDS] [--redis URL] [--prefix P]\n"
    "  reads changes from stdin, one JSON object a line:\n"
    "    {\"op\":\"upsert\",\"kind\":\"user\",\"record\":{...}}  kinds: org "
    "group\n"
    "      user role obj token pkey deployment ref\n"
    "    {\"op\":\"delete\",\"key\":\"user:bob\"}\n"
    "  validates each, writes them in batches and publishes their keys;\n"
    "  a refused line is reported (line number and reason) and skipped.\n"
    "  Exit: 0 all applied, 2 some lines refused, 3 Redis failed.";


static const struct {
    const char       *name;
    rbac_rec_type_t   type;         /* RBAC_REC_NONE: a role, per record */
} rbacctl_feed_kinds[] = {
    { "org", RBAC_REC_ORG },
    { "group", RBAC_REC_GROUP },
    { "user", RBAC_REC_USER },
    { "role", RBAC_REC_NONE },
    { "obj", RBAC_REC_OBJ },
    { "token", RBAC_REC_TOKEN },
    { "pkey", RBAC_REC_PKEY },
    { "deployment", RBAC_REC_DEPLOYMENT },
};

#define RBACCTL_FEED_NKINDS  \
    (sizeof(rbacctl_feed_kinds) / sizeof(rbacctl_feed_kinds[0]))


typedef struct {
    size_t            lineno;
    char             *key;
    char             *canon;        /* NULL: delete */
    char             *gorg;         /* a group upsert: its org and name */
    char             *gname;
    int               refused;
} rbacctl_change_t;

typedef struct {
    size_t            line;         /* index into the batch */
    char             *key;
    char             *alt;
    char             *msg;
} rbacctl_fref_t;

typedef struct {
    char             *org;
    cJSON            *idx;          /* name -> group id */
    int               dirty;
} rbacctl_oidx_t;

typedef struct {
    rbacctl_conn_t   *conn;
    double            wait;
    rbacctl_change_t  ch[RBACCTL_FEED_BATCH];
    size_t            n;
    rbacctl_fref_t   *refs;
    size_t            nrefs, caprefs;
    rbacctl_oidx_t   *oidx;
    size_t            noidx;
    rbacctl_index_t   chix;         /* keys of ch, to their first line */
    size_t            chnext[RBACCTL_FEED_BATCH];  /* next, same key */
    size_t            applied;
    size_t            refused;
    size_t            lines;
} rbacctl_feed_t;


/* ---- input ---- */

typedef struct {
    char    *buf;
    size_t   len;           /* bytes in buf */
    size_t   off;           /* start of the next line */
    size_t   cap;
    int      eof;
} rbacctl_lines_t;


/*
 * The next line (NUL-terminated, no newline), or NULL: at the end of the
 * input (r->eof) or, with `block` 0, when no whole line has arrived yet.
 */
static char *
rbacctl_lines_next(rbacctl_lines_t *r, int block)
{
    char           *nl, *nb, *line;
    ssize_t         got;
    struct pollfd   pfd;

    for ( ;; ) {
        nl = memchr(r->buf + r->off, '\n', r->len - r->off);

        if (nl || (r->eof && r->off < r->len)) {
            line = r->buf + r->off;
            if (nl == NULL) {
                nl = r->buf + r->len;
                if (r->len == r->cap) {
                    return NULL;    /* no room for the NUL: cannot be */
                }
            }
            *nl = '\0';
            r->off = (size_t) (nl - r->buf) + 1;
            if (r->off > r->len) {
                r->off = r->len;
            }
            return line;
        }

        if (r->eof) {
            return NULL;
        }

        if (!block) {
            pfd.fd = STDIN_FILENO;
            pfd.events = POLLIN;
            if (poll(&pfd, 1, 0) == 0) {
                return NULL;
            }
        }

        /* keep the partial line, make room */
        if (r->off) {
            memmove(r->buf, r->buf + r->off, r->len - r->off);
            r->len -= r->off;
            r->off = 0;
        }

        if (r->cap - r->len < 65536) {
            if (r->cap >= RBACCTL_FEED_LINE * 2) {
                fprintf(stderr, "rbacctl feed: a line longer than %d "
                        "bytes\n", RBACCTL_FEED_LINE);
                r->eof = 1;
                r->len = 0;
                return NULL;
            }
            nb = realloc(r->buf, r->cap ? r->cap * 2 : 1 << 20);
            if (nb == NULL) {
                r->eof = 1;
                return NULL;
            }
            r->buf = nb;
            r->cap = r->cap ? r->cap * 2 : 1 << 20;
        }

        got = read(STDIN_FILENO, r->buf + r->len, r->cap - r->len - 1);
        if (got < 0 && errno == EINTR) {
            continue;
        }

        if (got <= 0) {
            r->eof = 1;
            continue;
        }

        r->len += (size_t) got;
    }
}


/* ---- one line ---- */

static void
rbacctl_feed_refuse(rbacctl_feed_t *f, size_t lineno, const char *why)
{
    fprintf(stderr, "rbacctl feed: line %zu: %s\n", lineno, why);
    f->refused++;
}


/* A record that line f->n names: checked when the batch is written. */
static int
rbacctl_feed_ref(void *ud, const char *what, const char *field,
    const char *kind, rbac_str_t id)
{
    char             key[400], msg[1200];
    rbacctl_feed_t  *f = ud;
    rbacctl_fref_t  *r;

    if (f->nrefs == f->caprefs) {
        f->caprefs = f->caprefs ? f->caprefs * 2 : 1024;
        r = realloc(f->refs, f->caprefs * sizeof(rbacctl_fref_t));
        if (r == NULL) {
            return RBACCTL_FAIL;
        }
        f->refs = r;
    }

    r = &f->refs[f->nrefs];
    memset(r, 0, sizeof(*r));
    r->line = f->n;

    snprintf(key, sizeof(key), "%s:%.*s", kind, (int) id.len, id.data);
    snprintf(msg, sizeof(msg), "%s: no %s \"%.*s\" in Redis or earlier in "
             "the feed", field,
             strcmp(kind, "org") == 0 ? "organization" : kind,
             (int) id.len, id.data);
    r->key = strdup(key);
    r->msg = strdup(msg);

    if (strcmp(kind, "group") == 0) {
        snprintf(key, sizeof(key), "org:%.*s", (int) id.len, id.data);
        r->alt = strdup(key);
    }

    if (r->key == NULL || r->msg == NULL
        || (strcmp(kind, "group") == 0 && r->alt == NULL))
    {
        free(r->key);
        free(r->msg);
        free(r->alt);
        return RBACCTL_FAIL;
    }

    f->nrefs++;

    return RBACCTL_OK;
}


/* A reference set by hand: {"ref":"<kind>:<key>","type","id"} (ref.c). */
static int
rbacctl_feed_upsert_ref(rbacctl_feed_t *f, rbacctl_change_t *c,
    const cJSON *record, const char *what)
{
    char        target[600], *sep;
    rbac_str_t  id;

    if (rbacctl_ref_item(record, what, &c->key, &c->canon) != RBACCTL_OK) {
        f->refused++;
        return RBACCTL_USAGE;
    }

    /* the object it names: checked as the records a line names */
    if (rbacctl_ref_target(c->canon, target, sizeof(target)) != RBACCTL_OK) {
        return RBACCTL_FAIL;
    }

    sep = strchr(strncmp(target, "obj:", 4) == 0 ? target + 4 : target, ':');
    if (sep == NULL) {
        return RBACCTL_FAIL;
    }

    *sep = '\0';
    id.data = sep + 1;
    id.len = strlen(id.data);

    return rbacctl_feed_ref(f, what, "id", target, id);
}


/* An upsert: the record validated and made canonical. */
static int
rbacctl_feed_upsert(rbacctl_feed_t *f, rbacctl_change_t *c, cJSON *j,
    const char *what)
{
    int                      rc;
    char                    *text;
    void                    *rec;
    size_t                   k;
    cJSON                   *kind, *record;
    rbac_err_t               err;
    rbac_rec_type_t          type;
    const rbac_group_rec_t  *g;
    rbac_str_t               s;

    kind = cJSON_GetObjectItemCaseSensitive(j, "kind");
    record = cJSON_GetObjectItemCaseSensitive(j, "record");

    if (cJSON_IsString(kind) && strcmp(kind->valuestring, "ref") == 0) {
        return rbacctl_feed_upsert_ref(f, c, record, what);
    }

    for (k = 0; cJSON_IsString(kind) && k < RBACCTL_FEED_NKINDS; k++) {
        if (strcmp(kind->valuestring, rbacctl_feed_kinds[k].name) == 0) {
            break;
        }
    }

    if (!cJSON_IsString(kind) || k == RBACCTL_FEED_NKINDS) {
        rbacctl_feed_refuse(f, c->lineno, "\"kind\" must be one of org, "
                            "group, user, role, obj, token, pkey, "
                            "deployment, ref");
        return RBACCTL_USAGE;
    }

    if (!cJSON_IsObject(record)) {
        rbacctl_feed_refuse(f, c->lineno, "\"record\" must be an object");
        return RBACCTL_USAGE;
    }

    type = rbacctl_feed_kinds[k].type;
    if (type == RBAC_REC_NONE) {
        type = rbacctl_role_type(record);
    }

    text = cJSON_PrintUnformatted(record);
    if (text == NULL) {
        return RBACCTL_FAIL;
    }

    memset(&err, 0, sizeof(err));
    rec = NULL;

    if (rbac_record_parse(type, text, strlen(text), &rbac_malloc_allocator,
                          &rec, &err) != RBAC_OK
        || rbac_record_json(rec, &rbac_malloc_allocator, &c->canon, NULL,
                            &err) != RBAC_OK)
    {
        cJSON_free(text);
        free(rec);
        rbacctl_feed_refuse(f, c->lineno, err.msg[0] ? err.msg
                                                     : "not a valid record");
        return RBACCTL_USAGE;
    }

    cJSON_free(text);
    rc = RBACCTL_USAGE;

    c->key = rbacctl_record_key(rec, what);
    if (c->key == NULL) {
        goto refused;
    }

    if ((type == RBAC_REC_ROLE || type == RBAC_REC_SITEROLE)
        && rbacctl_role_check(rec, what, NULL) != RBACCTL_OK)
    {
        goto refused;
    }

    if (type == RBAC_REC_GROUP) {
        g = rec;
        s = rbac_ref(g, g->org);
        c->gorg = strndup(s.data, s.len);
        s = rbac_ref(g, g->name);
        c->gname = strndup(s.data, s.len);
        if (c->gorg == NULL || c->gname == NULL) {
            free(rec);
            return RBACCTL_FAIL;
        }
    }

    rc = rbacctl_record_refs(rec, what, rbacctl_feed_ref, f);
    free(rec);

    return rc;

refused:

    f->refused++;
    free(rec);

    return RBACCTL_USAGE;
}


/* A delete: a key of a kind the feed writes. */
static int
rbacctl_feed_delete(rbacctl_feed_t *f, rbacctl_change_t *c, cJSON *j)
{
    cJSON            *key;
    rbac_str_t        k;
    rbac_rec_type_t   type;

    key = cJSON_GetObjectItemCaseSensitive(j, "key");
    if (!cJSON_IsString(key)) {
        rbacctl_feed_refuse(f, c->lineno, "\"key\" must be a string (the "
                            "key without the prefix, e.g. user:bob)");
        return RBACCTL_USAGE;
    }

    k.data = key->valuestring;
    k.len = strlen(k.data);
    type = rbac_record_type_of_key(k);

    if (type == RBAC_REC_NONE || type == RBAC_REC_ORGGROUPS
        || type == RBAC_REC_IDPSYNC || strpbrk(k.data, " \t*?[]\\") != NULL
        || k.data[k.len - 1] == ':')
    {
        rbacctl_feed_refuse(f, c->lineno, "\"key\": not the key of a record "
                            "the feed writes (org:, group:, user:, role:, "
                            "siterole:, obj:, token:, pkey:, deployment, "
                            "ref:)");
        return RBACCTL_USAGE;
    }

    c->key = strdup(k.data);

    return c->key ? RBACCTL_OK : RBACCTL_FAIL;
}


static void
rbacctl_change_free(rbacctl_change_t *c)
{
    free(c->key);
    free(c->canon);
    free(c->gorg);
    free(c->gname);
    memset(c, 0, sizeof(*c));
}


/* Validates one line into f->ch[f->n]; RBACCTL_FAIL only for memory. */
static int
rbacctl_feed_line(rbacctl_feed_t *f, char *line, size_t lineno)
{
    int                rc;
    char               what[64];
    cJSON             *j, *op;
    size_t             nrefs;
    rbacctl_change_t  *c;

    line += strspn(line, " \t\r");
    if (*line == '\0') {
        return RBACCTL_OK;
    }

    f->lines++;
    c = &f->ch[f->n];
    memset(c, 0, sizeof(*c));
    c->lineno = lineno;
    nrefs = f->nrefs;

    j = cJSON_Parse(line);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        rbacctl_feed_refuse(f, lineno, "not a JSON object");
        return RBACCTL_OK;
    }

    op = cJSON_GetObjectItemCaseSensitive(j, "op");
    snprintf(what, sizeof(what), "line %zu", lineno);

    if (cJSON_IsString(op) && strcmp(op->valuestring, "upsert") == 0) {
        rc = rbacctl_feed_upsert(f, c, j, what);

    } else if (cJSON_IsString(op) && strcmp(op->valuestring, "delete") == 0) {
        rc = rbacctl_feed_delete(f, c, j);

    } else {
        rbacctl_feed_refuse(f, lineno, "\"op\" must be \"upsert\" or "
                            "\"delete\"");
        rc = RBACCTL_USAGE;
    }

    cJSON_Delete(j);

    if (rc == RBACCTL_OK) {
        f->n++;
        return RBACCTL_OK;
    }

    rbacctl_change_free(c);

    while (f->nrefs > nrefs) {
        f->nrefs--;
        free(f->refs[f->nrefs].key);
        free(f->refs[f->nrefs].alt);
        free(f->refs[f->nrefs].msg);
    }

    return rc == RBACCTL_FAIL ? RBACCTL_FAIL : RBACCTL_OK;
}


/* ---- a batch ---- */

static void
rbacctl_feed_clear(rbacctl_feed_t *f)
{
    size_t  i;

    for (i = 0; i < f->n; i++) {
        rbacctl_change_free(&f->ch[i]);
    }

    for (i = 0; i < f->nrefs; i++) {
        free(f->refs[i].key);
        free(f->refs[i].alt);
        free(f->refs[i].msg);
    }

    for (i = 0; i < f->noidx; i++) {
        free(f->oidx[i].org);
        cJSON_Delete(f->oidx[i].idx);
    }

    free(f->oidx);
    f->oidx = NULL;
    f->noidx = 0;
    rbacctl_index_free(&f->chix);
    f->n = 0;
    f->nrefs = 0;
}


static void
rbacctl_feed_drop(rbacctl_feed_t *f, size_t i, const char *why)
{
    f->ch[i].refused = 1;
    rbacctl_feed_refuse(f, f->ch[i].lineno, why);
}


static const char *
rbacctl_feed_chkey(void *ud, size_t i)
{
    return ((rbacctl_feed_t *) ud)->ch[i].key;
}


/*
 * The lines of the batch by key (each key to its first line, chnext to
 * the next line with that key, f->n for none): one pass over the batch.
 */
static int
rbacctl_feed_chindex(rbacctl_feed_t *f)
{
    size_t  i, h, last[RBACCTL_FEED_BATCH];

    rbacctl_index_free(&f->chix);

    for (i = 0; i < f->n; i++) {
        f->chnext[i] = f->n;
        h = rbacctl_index(&f->chix, f->ch[i].key, rbacctl_feed_chkey, f, 0);

        if (h == 0) {
            last[i] = i;
            if (rbacctl_index(&f->chix, f->ch[i].key, rbacctl_feed_chkey, f,
                              i + 1)
                == (size_t) -1)
            {
                return RBACCTL_FAIL;
            }
            continue;
        }

        f->chnext[last[h - 1]] = i;
        last[h - 1] = i;
    }

    return RBACCTL_OK;
}


/*
 * Whether `key` exists after the lines before `upto`: the last of them that
 * writes it decides, else Redis (`stored`).
 */
static int
rbacctl_feed_exists(rbacctl_feed_t *f, size_t upto, const char *key,
    int stored)
{
    size_t  i;

    i = rbacctl_index(&f->chix, key, rbacctl_feed_chkey, f, 0);

    for (i = i ? i - 1 : f->n; i < upto; i = f->chnext[i]) {
        if (!f->ch[i].refused) {
            stored = f->ch[i].canon != NULL;
        }
    }

    return stored;
}


/* Every record a line names exists in Redis or earlier in the batch. */
static int
rbacctl_feed_check_refs(rbacctl_feed_t *f)
{
    int              rc, *present, ok;
    size_t           i, n;
    const char     **keys;
    rbacctl_fref_t  *r;

    if (f->nrefs == 0) {
        return RBACCTL_OK;
    }

    keys = calloc(2 * f->nrefs, sizeof(char *));
    present = calloc(2 * f->nrefs, sizeof(int));
    rc = keys && present ? RBACCTL_OK : RBACCTL_FAIL;

    for (i = 0, n = 0; i < f->nrefs && rc == RBACCTL_OK; i++) {
        keys[n++] = f->refs[i].key;
        keys[n++] = f->refs[i].alt ? f->refs[i].alt : f->refs[i].key;
    }

    if (rc == RBACCTL_OK) {
        rc = rbacctl_feed_chindex(f);
    }

    if (rc == RBACCTL_OK) {
        rc = rbacctl_mget_copy(f->conn, keys, n, present, NULL);
    }

    for (i = 0; i < f->nrefs && rc == RBACCTL_OK; i++) {
        r = &f->refs[i];

        if (f->ch[r->line].refused) {
            continue;
        }

        ok = rbacctl_feed_exists(f, r->line, r->key, present[2 * i]);
        if (!ok && r->alt) {
            ok = rbacctl_feed_exists(f, r->line, r->alt,
                                     present[2 * i + 1]);
        }

        if (!ok) {
            rbacctl_feed_drop(f, r->line, r->msg);
        }
    }

    free(keys);
    free(present);

    return rc;
}


static rbacctl_oidx_t *
rbacctl_feed_oidx(rbacctl_feed_t *f, const char *org)
{
    size_t           i;
    rbacctl_oidx_t  *o;

    for (i = 0; i < f->noidx; i++) {
        if (strcmp(f->oidx[i].org, org) == 0) {
            return &f->oidx[i];
        }
    }

    o = realloc(f->oidx, (f->noidx + 1) * sizeof(rbacctl_oidx_t));
    if (o == NULL) {
        return NULL;
    }
    f->oidx = o;

    o = &f->oidx[f->noidx];
    memset(o, 0, sizeof(*o));
    o->org = strdup(org);
    if (o->org == NULL) {
        return NULL;
    }
    f->noidx++;

    return o;
}


/* The org and name of a stored group record (copies), or 0 if none. */
static int
rbacctl_feed_group_of(const char *val, char **org, char **name)
{
    void                    *rec;
    rbac_str_t               s;
    rbac_err_t               err;
    const rbac_group_rec_t  *g;

    *org = NULL;
    *name = NULL;

    if (val == NULL) {
        return 0;
    }

    memset(&err, 0, sizeof(err));
    rec = NULL;

    if (rbac_record_parse(RBAC_REC_GROUP, val, strlen(val),
                          &rbac_malloc_allocator, &rec, &err) != RBAC_OK)
    {
        return 0;       /* a malformed group: nothing to take out */
    }

    g = rec;
    s = rbac_ref(g, g->org);
    *org = strndup(s.data, s.len);
    s = rbac_ref(g, g->name);
    *name = strndup(s.data, s.len);
    free(rec);

    return *org && *name;
}


/*
 * Reads n keys into *vals: n copies, NULL where a key is absent.  Free
 * with rbacctl_feed_vals_free.
 */
static int
rbacctl_feed_fetch(rbacctl_feed_t *f, const char **keys, size_t n,
    char ***vals)
{
    int  rc, *present;

    present = calloc(n + 1, sizeof(int));
    *vals = calloc(n + 1, sizeof(char *));

    rc = present && *vals ? rbacctl_mget_copy(f->conn, keys, n, present, *vals)
                          : RBACCTL_FAIL;
    free(present);

    return rc;
}


static void
rbacctl_feed_vals_free(char **vals, size_t n)
{
    size_t  i;

    for (i = 0; vals && i < n; i++) {
        free(vals[i]);
    }

    free(vals);
}


/*
 * The stored records of the batch's group lines: gorg[i] and gname[i] the
 * org and name that line i's group has in Redis (NULL: none); every org
 * they or the lines name gets an index (rbacctl_feed_oidx).
 */
static int
rbacctl_feed_groups_stored(rbacctl_feed_t *f, char **gorg, char **gname)
{
    int                rc;
    char             **vals;
    size_t             i, j, n;
    const char       **keys;
    rbacctl_change_t  *c;

    keys = calloc(f->n, sizeof(char *));
    if (keys == NULL) {
        return RBACCTL_FAIL;
    }

    for (i = 0, n = 0; i < f->n; i++) {
        if (strncmp(f->ch[i].key, "group:", 6) == 0) {
            keys[n++] = f->ch[i].key;
        }
    }

    rc = rbacctl_feed_fetch(f, keys, n, &vals);

    for (i = 0, j = 0; i < f->n && rc == RBACCTL_OK; i++) {
        c = &f->ch[i];
        if (strncmp(c->key, "group:", 6) != 0) {
            continue;
        }

        if (rbacctl_feed_group_of(vals[j++], &gorg[i], &gname[i])
            && rbacctl_feed_oidx(f, gorg[i]) == NULL)
        {
            rc = RBACCTL_FAIL;
        }

        if (c->gorg && rbacctl_feed_oidx(f, c->gorg) == NULL) {
            rc = RBACCTL_FAIL;
        }
    }

    rbacctl_feed_vals_free(vals, n);
    free(keys);

    return rc;
}


/*
 * The orggroups indexes of the orgs in f->oidx, read (one not an object
 * is rebuilt from here on).
 */
static int
rbacctl_feed_groups_load(rbacctl_feed_t *f)
{
    int              rc;
    char           **vals, **okeys, key[400];
    size_t           i, n;
    rbacctl_oidx_t  *o;

    n = f->noidx;
    vals = NULL;

    okeys = calloc(n + 1, sizeof(char *));
    rc = okeys ? RBACCTL_OK : RBACCTL_FAIL;

    for (i = 0; i < n && rc == RBACCTL_OK; i++) {
        snprintf(key, sizeof(key), "orggroups:%s", f->oidx[i].org);
        okeys[i] = strdup(key);
        if (okeys[i] == NULL) {
            rc = RBACCTL_FAIL;
        }
    }

    if (rc == RBACCTL_OK) {
        rc = rbacctl_feed_fetch(f, (const char **) okeys, n, &vals);
    }

    for (i = 0; i < n && rc == RBACCTL_OK; i++) {
        o = &f->oidx[i];
        o->idx = vals[i] ? cJSON_Parse(vals[i]) : cJSON_CreateObject();
        if (!cJSON_IsObject(o->idx)) {
            cJSON_Delete(o->idx);
            o->idx = cJSON_CreateObject();      /* rebuilt from here on */
            o->dirty = 1;
        }
        if (o->idx == NULL) {
            rc = RBACCTL_FAIL;
        }
    }

    rbacctl_feed_vals_free(vals, n);
    rbacctl_feed_vals_free(okeys, n);

    return rc;
}


/*
 * Group line i applied to the indexes: refused when its name is another
 * group's in the org; the name its group had before (the last accepted
 * line before it, else the stored record: sorg, sname) taken out.
 */
static int
rbacctl_feed_group_line(rbacctl_feed_t *f, size_t i, const char *sorg,
    const char *sname)
{
    char               msg[600];
    size_t             j;
    cJSON             *id;
    rbacctl_oidx_t    *o;
    rbacctl_change_t  *c;

    c = &f->ch[i];

    if (c->gorg) {
        o = rbacctl_feed_oidx(f, c->gorg);
        id = cJSON_GetObjectItemCaseSensitive(o->idx, c->gname);
        if (cJSON_IsString(id) && strcmp(id->valuestring, c->key + 6)) {
            snprintf(msg, sizeof(msg), "name: \"%s\" is already the "
                     "name of group \"%s\" in organization \"%s\"",
                     c->gname, id->valuestring, c->gorg);
            rbacctl_feed_drop(f, i, msg);
            return RBACCTL_OK;
        }
    }

    /* the earlier state of this group: the last accepted line before */
    for (j = i; j-- > 0; ) {
        if (!f->ch[j].refused && strcmp(f->ch[j].key, c->key) == 0) {
            break;
        }
    }

    if (j != (size_t) -1) {
        if (f->ch[j].gorg) {
            o = rbacctl_feed_oidx(f, f->ch[j].gorg);
            cJSON_DeleteItemFromObjectCaseSensitive(o->idx, f->ch[j].gname);
            o->dirty = 1;
        }

    } else if (sorg) {
        o = rbacctl_feed_oidx(f, sorg);
        id = cJSON_GetObjectItemCaseSensitive(o->idx, sname);
        if (cJSON_IsString(id) && strcmp(id->valuestring, c->key + 6) == 0) {
            cJSON_DeleteItemFromObjectCaseSensitive(o->idx, sname);
            o->dirty = 1;
        }
    }

    if (c->gorg) {
        o = rbacctl_feed_oidx(f, c->gorg);
        o->dirty = 1;
        if (cJSON_AddStringToObject(o->idx, c->gname, c->key + 6) == NULL) {
            return RBACCTL_FAIL;
        }
    }

    return RBACCTL_OK;
}


/*
 * The orggroups indexes of the orgs that the batch's group lines touch:
 * read, changed line by line (a name taken by another group in the org
 * refuses the line), and left dirty for the write.
 */
static int
rbacctl_feed_groups(rbacctl_feed_t *f)
{
    int                rc;
    char             **gorg, **gname;
    size_t             i, ng;
    rbacctl_change_t  *c;

    ng = 0;
    for (i = 0; i < f->n; i++) {
        ng += strncmp(f->ch[i].key, "group:", 6) == 0;
    }

    if (ng == 0) {
        return RBACCTL_OK;
    }

    gorg = calloc(f->n, sizeof(char *));
    gname = calloc(f->n, sizeof(char *));
    rc = gorg && gname ? RBACCTL_OK : RBACCTL_FAIL;

    /* the group records as stored, then the indexes of their orgs */
    if (rc == RBACCTL_OK) {
        rc = rbacctl_feed_groups_stored(f, gorg, gname);
    }

    if (rc == RBACCTL_OK) {
        rc = rbacctl_feed_groups_load(f);
    }

    /* the lines in order: the stored group as the earlier lines left it */
    for (i = 0; i < f->n && rc == RBACCTL_OK; i++) {
        c = &f->ch[i];
        if (!c->refused && strncmp(c->key, "group:", 6) == 0) {
            rc = rbacctl_feed_group_line(f, i, gorg[i], gname[i]);
        }
    }

    for (i = 0; i < f->n; i++) {
        free(gorg ? gorg[i] : NULL);
        free(gname ? gname[i] : NULL);
    }

    free(gorg);
    free(gname);

    return rc;
}


/* The accepted lines of a batch and the name references they move. */
typedef struct {
    rbacctl_feed_t   *f;
    size_t            sel[RBACCTL_FEED_BATCH];
    size_t            n;
    char            **key;
    char            **val;          /* NULL: delete */
    size_t            nd, cap;
} rbacctl_fnames_t;


static const char *
rbacctl_fnames_key(void *ud, size_t i)
{
    rbacctl_fnames_t  *nm = ud;

    return nm->f->ch[nm->sel[i]].key;
}


static const char *
rbacctl_fnames_val(void *ud, size_t i)
{
    rbacctl_fnames_t  *nm = ud;

    return nm->f->ch[nm->sel[i]].canon;
}


static int
rbacctl_fnames_emit(void *ud, const char *key, const char *val)
{
    char              **nk, **nv;
    rbacctl_fnames_t   *nm = ud;

    if (nm->nd == nm->cap) {
        nm->cap = nm->cap ? 2 * nm->cap : 256;
        nk = realloc(nm->key, nm->cap * sizeof(char *));
        if (nk != NULL) {
            nm->key = nk;
        }
        nv = realloc(nm->val, nm->cap * sizeof(char *));
        if (nv != NULL) {
            nm->val = nv;
        }
        if (nk == NULL || nv == NULL) {
            return RBACCTL_FAIL;
        }
    }

    nm->key[nm->nd] = strdup(key);
    nm->val[nm->nd] = val ? strdup(val) : NULL;
    nm->nd++;

    return nm->key[nm->nd - 1] && (val == NULL || nm->val[nm->nd - 1])
           ? RBACCTL_OK : RBACCTL_FAIL;
}


/*
 * The name references (ref.c) that the accepted lines move: written after
 * them; two objects claiming one name stop the feed (exit 2).
 */
static int
rbacctl_feed_names(rbacctl_feed_t *f, rbacctl_lock_t *lock,
    rbacctl_fnames_t *nm)
{
    size_t  i;

    nm->f = f;

    for (i = 0; i < f->n; i++) {
        if (!f->ch[i].refused) {
            nm->sel[nm->n++] = i;
        }
    }

    return rbacctl_refs_follow(f->conn, lock, nm->n, rbacctl_fnames_key,
                               rbacctl_fnames_val, nm, rbacctl_fnames_emit,
                               nm);
}


/* The accepted lines of the batch and the dirty indexes, under the lock. */
static int
rbacctl_feed_write(rbacctl_feed_t *f)
{
    int                rc;
    char               key[400], *canon;
    size_t             i, n, refused;
    cJSON             *idx;
    rbacctl_lock_t     lock;
    rbacctl_writer_t   w;
    rbacctl_fnames_t   nm;

    rc = rbacctl_lock_take(&lock, f->conn, "feed", f->wait);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    rc = rbacctl_feed_check_refs(f);

    if (rc == RBACCTL_OK) {
        refused = f->refused;
        rc = rbacctl_feed_groups(f);

        /* a line may name a group that the index refused */
        if (rc == RBACCTL_OK && f->refused != refused) {
            rc = rbacctl_feed_check_refs(f);
        }
    }

    memset(&nm, 0, sizeof(nm));

    if (rc == RBACCTL_OK) {
        rc = rbacctl_feed_names(f, &lock, &nm);
    }

    n = nm.nd;
    for (i = 0; i < f->n; i++) {
        n += !f->ch[i].refused;
    }

    for (i = 0; i < f->noidx; i++) {
        n += f->oidx[i].dirty;
    }

    rbacctl_writer_init(&w, f->conn, &lock, n);

    for (i = 0; i < f->n && rc == RBACCTL_OK; i++) {
        if (!f->ch[i].refused) {
            rc = rbacctl_writer_put(&w, f->ch[i].key, f->ch[i].canon);
        }
    }

    for (i = 0; i < nm.nd; i++) {
        rc = rc == RBACCTL_OK ? rbacctl_writer_put(&w, nm.key[i], nm.val[i])
                              : rc;
        free(nm.key[i]);
        free(nm.val[i]);
    }

    free(nm.key);
    free(nm.val);

    for (i = 0; i < f->noidx && rc == RBACCTL_OK; i++) {
        if (!f->oidx[i].dirty) {
            continue;
        }

        snprintf(key, sizeof(key), "orggroups:%s", f->oidx[i].org);
        idx = f->oidx[i].idx;

        if (cJSON_GetArraySize(idx) == 0) {
            rc = rbacctl_writer_put(&w, key, NULL);
            continue;
        }

        canon = rbacctl_canon(RBAC_REC_ORGGROUPS, idx, key);
        rc = canon ? rbacctl_writer_put(&w, key, canon) : RBACCTL_FAIL;
        free(canon);
    }

    if (rc == RBACCTL_OK) {
        rc = rbacctl_writer_finish(&w);
    }

    if (rc != RBACCTL_OK) {
        rbacctl_writer_abandon(&w);
    }

    rbacctl_lock_release(&lock);

    if (rc == RBACCTL_OK) {
        for (i = 0; i < f->n; i++) {
            f->applied += !f->ch[i].refused;
        }
    }

    rbacctl_feed_clear(f);

    return rc;
}


int
rbacctl_feed(int argc, char **argv)
{
    int                  rc;
    char                *line, *end;
    size_t               lineno;
    const char          *ws;
    rbacctl_args_t       a;
    rbacctl_feed_t      *f;
    rbacctl_conn_t       conn;
    rbacctl_lines_t      in;
    rbacctl_progress_t   pr;

    rc = rbacctl_args_parse(&a, "feed", argc - 1, argv + 1, "wait=",
                            rbacctl_feed_usage);
    if (rc != RBACCTL_OK || a.help) {
        return rc;
    }

    if (a.npos) {
        fprintf(stderr, "usage: rbacctl %s\n", rbacctl_feed_usage);
        return RBACCTL_USAGE;
    }

    f = calloc(1, sizeof(rbacctl_feed_t));
    if (f == NULL) {
        return RBACCTL_FAIL;
    }

    f->wait = RBACCTL_LOCK_WAIT;
    ws = rbacctl_arg(&a, "wait");

    if (ws) {
        f->wait = strtod(ws, &end);
        if (*ws == '\0' || *end != '\0' || f->wait < 0 || f->wait > 86400) {
            free(f);
            return rbacctl_fail(&a, RBACCTL_USAGE, "--wait: \"%s\" is not a "
                                "number of seconds", ws);
        }
    }

    rc = rbacctl_connect(&a, &conn);
    if (rc != RBACCTL_OK) {
        free(f);
        return rc;
    }

    f->conn = &conn;
    memset(&in, 0, sizeof(in));
    lineno = 0;
    rbacctl_progress_init(&pr, "feed", 0);

    while (rc == RBACCTL_OK) {
        /* write what has come before waiting for more */
        line = rbacctl_lines_next(&in, f->n == 0);

        if (line == NULL) {
            if (f->n) {
                rc = rbacctl_feed_write(f);
                rbacctl_progress_step(&pr, f->lines);
                continue;
            }

            if (in.eof) {
                break;
            }

            continue;
        }

        rc = rbacctl_feed_line(f, line, ++lineno);

        if (rc == RBACCTL_OK && f->n == RBACCTL_FEED_BATCH) {
            rc = rbacctl_feed_write(f);
            rbacctl_progress_step(&pr, f->lines);
        }
    }

    rbacctl_progress_end(&pr);

    if (rc != RBACCTL_OK) {
        fprintf(stderr, "rbacctl feed: stopped at line %zu: %zu change(s) "
                "applied before it, the batch in progress was not "
                "completed\n", lineno, f->applied);

    } else {
        fprintf(stderr, "rbacctl feed: %zu change(s) applied, %zu line(s) "
                "refused\n", f->applied, f->refused);
        rc = f->refused ? RBACCTL_USAGE : RBACCTL_OK;
    }

    rbacctl_feed_clear(f);
    free(f->refs);
    free(f);
    free(in.buf);
    rbacctl_disconnect(&conn);

    return rc;
}
