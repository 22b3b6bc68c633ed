/*
 * bulk.c: reads and writes of many keys without stalling Redis: pipelined
 * MGETs of bounded size, SCAN (both renew the writer lock held over the
 * connection as they go), and a writer that sends SETs and DELs in chunks,
 * each one MULTI/EXEC under the writer lock (lock.c), with the invalidation
 * in proportion: one PUBLISH per key while the change is small, one "*"
 * after the last chunk past RBACCTL_INV_KEYS.  rbac:version moves once, in
 * the last chunk.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"


/* Keys per MGET and MGETs in flight: one MGET stays well under 1 ms. */
#define RBACCTL_MGET_KEYS      250
#define RBACCTL_MGET_INFLIGHT  8

/* A chunk: at most this many writes or bytes of values (about 1 ms). */
#define RBACCTL_CHUNK_KEYS     400
#define RBACCTL_CHUNK_BYTES    (256 * 1024)


/* Appends one MGET of keys [from, to) to the output buffer. */
static int
rbacctl_mget_append(rbacctl_conn_t *conn, size_t from, size_t to,
    rbacctl_key_pt key, void *ud)
{
    int           rc;
    char         *buf, *p;
    size_t        i, n, plen, total, klen[RBACCTL_MGET_KEYS];
    const char   *k[RBACCTL_MGET_KEYS], *argv[RBACCTL_MGET_KEYS + 1];

    n = to - from;
    plen = strlen(conn->prefix);
    total = 0;

    for (i = 0; i < n; i++) {
        k[i] = key(ud, from + i);
        klen[i] = strlen(k[i]);
        total += plen + klen[i] + 1;
    }

    buf = malloc(total ? total : 1);
    if (buf == NULL) {
        fprintf(stderr, "rbacctl: out of memory\n");
        return RBACCTL_FAIL;
    }

    argv[0] = "MGET";
    p = buf;

    for (i = 0; i < n; i++) {
        argv[i + 1] = p;
        memcpy(p, conn->prefix, plen);
        memcpy(p + plen, k[i], klen[i] + 1);
        p += plen + klen[i] + 1;
    }

    rc = rbacctl_send(conn, (int) n + 1, argv);
    free(buf);

    return rc == REDIS_OK ? RBACCTL_OK : RBACCTL_FAIL;
}


int
rbacctl_mget(rbacctl_conn_t *conn, size_t n, rbacctl_key_pt key,
    rbacctl_val_pt val, void *ud, rbacctl_progress_t *prog,
    rbacctl_lock_t *lock)
{
    int           rc;
    size_t        sent, got, i, m;
    redisReply   *r, *e;

    sent = 0;
    got = 0;
    rc = RBACCTL_OK;

    if (lock == NULL) {
        lock = conn->lock;
    }

    while (got < n) {
        /* a long read renews the lock between MGETs, the pipe drained */
        if (lock && got == sent && rbacctl_lock_due(lock)
            && rbacctl_lock_keep(lock) != RBACCTL_OK)
        {
            return RBACCTL_FAIL;
        }

        while (sent < n
               && sent - got < RBACCTL_MGET_KEYS * RBACCTL_MGET_INFLIGHT
               && (lock == NULL || !rbacctl_lock_due(lock)))
        {
            m = n - sent < RBACCTL_MGET_KEYS ? n - sent : RBACCTL_MGET_KEYS;
            if (rbacctl_mget_append(conn, sent, sent + m, key, ud)
                != RBACCTL_OK)
            {
                return RBACCTL_FAIL;
            }
            sent += m;
        }

        if (rbacctl_recv(conn, &r) != 0 || r == NULL) {
            fprintf(stderr, "rbacctl: Redis at %s: MGET failed: %s\n",
                    conn->where,
                    conn->errstr[0] ? conn->errstr : "no reply");
            return RBACCTL_FAIL;
        }

        m = n - got < RBACCTL_MGET_KEYS ? n - got : RBACCTL_MGET_KEYS;

        if (r->type != REDIS_REPLY_ARRAY || r->elements != m) {
            fprintf(stderr, "rbacctl: Redis at %s: MGET failed: %s\n",
                    conn->where, r->type == REDIS_REPLY_ERROR
                                 ? r->str : "unexpected reply");
            freeReplyObject(r);
            return RBACCTL_FAIL;
        }

        /* after a failure the replies still in flight are read and dropped */
        for (i = 0; i < m && rc == RBACCTL_OK; i++) {
            e = r->element[i];
            rc = val(ud, got + i,
                     e->type == REDIS_REPLY_STRING ? e->str : NULL,
                     e->type == REDIS_REPLY_STRING ? e->len : 0);
        }

        freeReplyObject(r);
        got += m;

        if (prog) {
            rbacctl_progress_step(prog, got);
        }
    }

    return rc;
}


/* ---- SCAN ---- */

static int
rbacctl_strcmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}


long
rbacctl_scan(rbacctl_conn_t *conn, const char *pattern, char ***out)
{
    char         cursor[32], match[512], *m, **v, **nv;
    size_t       i, plen;
    long         n, cap;
    const char  *argv[6], *p;
    redisReply  *r, *keys;

    /* escape the prefix's glob characters */
    m = match;
    for (p = conn->prefix; *p && m < match + sizeof(match) / 2; p++) {
        if (strchr("*?[]\\", *p)) {
            *m++ = '\\';
        }
        *m++ = *p;
    }
    snprintf(m, (size_t) (match + sizeof(match) - m), "%s", pattern);

    plen = strlen(conn->prefix);
    strcpy(cursor, "0");
    v = NULL;
    n = 0;
    cap = 0;

    do {
        /* a long listing renews the lock held over conn between calls */
        if (conn->lock != NULL && rbacctl_lock_keep(conn->lock) != RBACCTL_OK)
        {
            goto failed;
        }

        argv[0] = "SCAN";
        argv[1] = cursor;
        argv[2] = "MATCH";
        argv[3] = match;
        argv[4] = "COUNT";
        argv[5] = "1000";

        r = rbacctl_cmd(conn, 6, argv);
        if (r == NULL) {
            goto failed;
        }

        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
            || r->element[0]->type != REDIS_REPLY_STRING
            || r->element[1]->type != REDIS_REPLY_ARRAY
            || r->element[0]->len >= sizeof(cursor))
        {
            fprintf(stderr, "rbacctl: Redis at %s: unexpected SCAN reply\n",
                    conn->where);
            freeReplyObject(r);
            goto failed;
        }

        strcpy(cursor, r->element[0]->str);
        keys = r->element[1];

        for (i = 0; i < keys->elements; i++) {
            if (keys->element[i]->type != REDIS_REPLY_STRING
                || keys->element[i]->len < plen)
            {
                continue;
            }

            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                nv = realloc(v, (size_t) cap * sizeof(char *));
                if (nv == NULL) {
                    freeReplyObject(r);
                    goto failed;
                }
                v = nv;
            }

            v[n] = strdup(keys->element[i]->str + plen);
            if (v[n] == NULL) {
                freeReplyObject(r);
                goto failed;
            }
            n++;
        }

        freeReplyObject(r);

    } while (strcmp(cursor, "0") != 0);

    /* SCAN may return a key twice */
    if (n > 1) {
        qsort(v, (size_t) n, sizeof(char *), rbacctl_strcmp);
        for (i = 1, cap = 1; i < (size_t) n; i++) {
            if (strcmp(v[i], v[cap - 1]) == 0) {
                free(v[i]);
            } else {
                v[cap++] = v[i];
            }
        }
        n = cap;
    }

    *out = v;
    return n;

failed:

    rbacctl_strv_free(v, n);
    *out = NULL;
    return -1;
}


/* ---- an index of strings (apply, transactions, references) ---- */

static uint32_t
rbacctl_hash(const char *s)
{
    uint32_t  h;

    for (h = 2166136261u; *s; s++) {
        h = (h ^ (unsigned char) *s) * 16777619u;
    }

    return h;
}


size_t
rbacctl_index(rbacctl_index_t *ix, const char *key, rbacctl_ixkey_pt get,
    void *ud, size_t add)
{
    size_t     i, j, size;
    uint32_t  *ns, v;

    /* at most two thirds full: short probes, 6 bytes or less a key */
    if (add && (ix->n + 1) * 3 > ix->mask * 2) {
        size = ix->mask ? (ix->mask + 1) * 2 : 1024;
        ns = calloc(size, sizeof(uint32_t));
        if (ns == NULL) {
            return (size_t) -1;
        }

        for (i = 0; ix->mask && i <= ix->mask; i++) {
            v = ix->slot[i];
            if (v) {
                j = rbacctl_hash(get(ud, v - 1)) & (size - 1);
                while (ns[j]) {
                    j = (j + 1) & (size - 1);
                }
                ns[j] = v;
            }
        }

        free(ix->slot);
        ix->slot = ns;
        ix->mask = size - 1;
    }

    if (ix->mask == 0) {
        return 0;
    }

    for (i = rbacctl_hash(key) & ix->mask; ix->slot[i];
         i = (i + 1) & ix->mask)
    {
        if (strcmp(get(ud, ix->slot[i] - 1), key) == 0) {
            return ix->slot[i];
        }
    }

    if (add) {
        ix->slot[i] = (uint32_t) add;
        ix->n++;
    }

    return 0;
}


void
rbacctl_index_free(rbacctl_index_t *ix)
{
    free(ix->slot);
    memset(ix, 0, sizeof(*ix));
}


/* ---- a pool of strings ---- */

/* A block: large enough to be mapped, and unmapped when freed. */
#define RBACCTL_POOL_BLOCK  (1024 * 1024)


char *
rbacctl_pool_dup(rbacctl_pool_t *pool, const char *s, size_t len)
{
    char    *b, *d;
    size_t   size;

    if (len + 1 > pool->left) {
        size = sizeof(void *) + len + 1;
        size = size > RBACCTL_POOL_BLOCK ? size : RBACCTL_POOL_BLOCK;

        b = malloc(size);
        if (b == NULL) {
            fprintf(stderr, "rbacctl: out of memory\n");
            return NULL;
        }

        memcpy(b, &pool->blocks, sizeof(void *));
        pool->blocks = b;
        pool->next = b + sizeof(void *);
        pool->left = size - sizeof(void *);
    }

    d = pool->next;
    memcpy(d, s, len);
    d[len] = '\0';
    pool->next += len + 1;
    pool->left -= len + 1;

    return d;
}


void
rbacctl_pool_free(rbacctl_pool_t *pool)
{
    char  *b, *n;

    for (b = pool->blocks; b; b = n) {
        memcpy(&n, b, sizeof(void *));
        free(b);
    }

    memset(pool, 0, sizeof(*pool));
}


/* ---- the chunked writer ---- */

void
rbacctl_writer_init(rbacctl_writer_t *w, rbacctl_conn_t *conn,
    rbacctl_lock_t *lock, size_t nkeys)
{
    memset(w, 0, sizeof(*w));
    w->conn = conn;
    w->lock = lock;
    w->total = nkeys;
    w->per_key = nkeys <= RBACCTL_INV_KEYS;
    w->heard = -1;
    snprintf(w->chan, sizeof(w->chan), "%sinv", conn->prefix);
}


static int
rbacctl_writer_open(rbacctl_writer_t *w)
{
    const char  *argv[1];

    if (w->lock && rbacctl_lock_watch(w->lock) != RBACCTL_OK) {
        return RBACCTL_FAIL;
    }

    argv[0] = "MULTI";
    rbacctl_send(w->conn, 1, argv);
    w->queued = 1;
    w->keys = 0;
    w->bytes = 0;
    w->open = 1;

    return RBACCTL_OK;
}


/*
 * The fewest subscribers a PUBLISH of this chunk reached, from EXEC's
 * replies: per key, each write's reply is followed by its PUBLISH's; with
 * "*", the last chunk's PUBLISH follows the writes and the INCR.
 */
static void
rbacctl_writer_heard(rbacctl_writer_t *w, redisReply *r, int last)
{
    size_t       k;
    redisReply  *e;

    for (k = 0; k < w->keys + 1; k++) {
        if (w->per_key) {
            if (k == w->keys || 2 * k + 1 >= r->elements) {
                break;
            }
            e = r->element[2 * k + 1];

        } else {
            if (!last || w->keys + 1 >= r->elements) {
                break;
            }
            e = r->element[w->keys + 1];
            k = w->keys;
        }

        if (e->type == REDIS_REPLY_INTEGER
            && (w->heard < 0 || e->integer < w->heard))
        {
            w->heard = e->integer;
        }
    }
}


/* Sends the open chunk (with the version and "*" when `last`). */
static int
rbacctl_writer_flush(rbacctl_writer_t *w, int last)
{
    int           ok;
    char          ver[128];
    size_t        i;
    const char   *argv[3];
    redisReply   *r;

    if (!w->open && rbacctl_writer_open(w) != RBACCTL_OK) {
        return RBACCTL_FAIL;
    }

    if (last) {
        snprintf(ver, sizeof(ver), "%sversion", w->conn->prefix);
        argv[0] = "INCR";
        argv[1] = ver;
        rbacctl_send(w->conn, 2, argv);
        w->queued++;

        if (!w->per_key) {
            argv[0] = "PUBLISH";
            argv[1] = w->chan;
            argv[2] = "*";
            rbacctl_send(w->conn, 3, argv);
            w->queued++;
        }
    }

    if (w->lock) {
        rbacctl_lock_append_renew(w->lock);
        w->queued++;
    }

    argv[0] = "EXEC";
    rbacctl_send(w->conn, 1, argv);
    w->open = 0;
    ok = 1;

    for (i = 0; i <= w->queued; i++) {
        if (rbacctl_recv(w->conn, &r) != 0
            || r == NULL)
        {
            fprintf(stderr, "rbacctl: Redis at %s: connection lost during "
                    "the write (%s)\n", w->conn->where,
                    w->conn->errstr[0] ? w->conn->errstr
                                          : "no reply");
            return RBACCTL_FAIL;
        }

        if (r->type == REDIS_REPLY_ERROR) {
            fprintf(stderr, "rbacctl: Redis at %s refused the write: %s\n",
                    w->conn->where, r->str);
            ok = 0;
        }

        if (i == w->queued && r->type != REDIS_REPLY_ARRAY) {
            if (r->type == REDIS_REPLY_NIL) {
                fprintf(stderr, "rbacctl: the writer lock changed hands "
                        "during the write\n");
            }
            ok = 0;

        } else if (i == w->queued) {
            rbacctl_writer_heard(w, r, last);
        }

        freeReplyObject(r);
    }

    if (!ok) {
        return RBACCTL_FAIL;
    }

    w->written += w->keys;

    return RBACCTL_OK;
}


int
rbacctl_writer_put(rbacctl_writer_t *w, const char *key, const char *val)
{
    int          argc;
    char         full[1024];
    const char  *argv[3];

    if (!w->open && rbacctl_writer_open(w) != RBACCTL_OK) {
        return RBACCTL_FAIL;
    }

    snprintf(full, sizeof(full), "%s%s", w->conn->prefix, key);

    argv[0] = val ? "SET" : "DEL";
    argv[1] = full;
    argv[2] = val;
    argc = val ? 3 : 2;
    rbacctl_send(w->conn, argc, argv);
    w->queued++;

    if (w->per_key) {
        argv[0] = "PUBLISH";
        argv[1] = w->chan;
        argv[2] = full;
        rbacctl_send(w->conn, 3, argv);
        w->queued++;
    }

    w->keys++;
    w->bytes += strlen(full) + (val ? strlen(val) : 0);

    if (w->keys >= RBACCTL_CHUNK_KEYS || w->bytes >= RBACCTL_CHUNK_BYTES) {
        return rbacctl_writer_flush(w, 0);
    }

    return RBACCTL_OK;
}


int
rbacctl_writer_finish(rbacctl_writer_t *w)
{
    if (w->written + w->keys == 0) {
        return RBACCTL_OK;
    }

    if (rbacctl_writer_flush(w, 1) != RBACCTL_OK) {
        return RBACCTL_FAIL;
    }

    rbacctl_settle(w->conn, w->heard);

    return RBACCTL_OK;
}


void
rbacctl_writer_abandon(rbacctl_writer_t *w)
{
    const char  *argv[3];
    redisReply  *r;
    size_t       i;

    if (!w->open) {
        goto publish;
    }

    /* the queued commands are dropped with DISCARD */
    argv[0] = "DISCARD";
    rbacctl_send(w->conn, 1, argv);

    for (i = 0; i <= w->queued; i++) {
        if (rbacctl_recv(w->conn, &r) != 0
            || r == NULL)
        {
            break;
        }
        freeReplyObject(r);
    }

    w->open = 0;

publish:

    /* what was written in "*" mode has not been published yet */
    if (!w->per_key && w->written) {
        argv[0] = "PUBLISH";
        argv[1] = w->chan;
        argv[2] = "*";
        r = rbacctl_call(w->conn, 3, argv);
        if (r) {
            freeReplyObject(r);
        }
    }
}


typedef struct {
    const char  **keys;
    int          *present;
    char        **vals;
} rbacctl_copy_t;


static const char *
rbacctl_copy_key(void *ud, size_t i)
{
    return ((rbacctl_copy_t *) ud)->keys[i];
}


static int
rbacctl_copy_val(void *ud, size_t i, const char *val, size_t len)
{
    rbacctl_copy_t  *c = ud;

    c->present[i] = val != NULL;

    if (c->vals != NULL && val != NULL) {
        c->vals[i] = strndup(val, len);
        if (c->vals[i] == NULL) {
            return RBACCTL_FAIL;
        }
    }

    return RBACCTL_OK;
}


int
rbacctl_mget_copy(rbacctl_conn_t *conn, const char **keys, size_t n,
    int *present, char **vals)
{
    rbacctl_copy_t  c;

    c.keys = keys;
    c.present = present;
    c.vals = vals;

    if (vals != NULL) {
        memset(vals, 0, n * sizeof(char *));
    }

    return rbacctl_mget(conn, n, rbacctl_copy_key, rbacctl_copy_val, &c,
                        NULL, NULL);
}
