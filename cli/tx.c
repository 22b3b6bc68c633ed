/*
 * tx.c: optimistic transactions over the decision table.  A builder reads
 * the keys it depends on (each WATCHed before its GET) and stages writes;
 * the commit compares staged values with what was read, prints the diff and
 * writes the changed keys with MULTI/EXEC, INCR <prefix>version and one
 * PUBLISH <prefix>inv per changed key.  A conflicting writer makes EXEC
 * fail; the builder then runs again from scratch.  The commit also INCRs
 * the counters ref.c asks for (rbacctl_tx_bump).  The writer lock of the
 * bulk writers (lock.c) is watched too: while it is held, a transaction
 * waits for it.
 */

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"


#define RBACCTL_TX_ATTEMPTS  8

/* Keys read per round trip by rbacctl_tx_get_many. */
#define RBACCTL_TX_BATCH     250

/*
 * Key comparisons one WATCH may cost Redis (it compares each new key with
 * every key the client watches already): about a millisecond.
 */
#define RBACCTL_TX_WATCH_COST  (128 * 1024)


static const char *
rbacctl_tx_key(void *ud, size_t i)
{
    return ((rbacctl_tx_t *) ud)->ents[i].key;
}


rbacctl_ent_t *
rbacctl_tx_find(rbacctl_tx_t *tx, const char *key)
{
    size_t  i;

    i = rbacctl_index(&tx->ix, key, rbacctl_tx_key, tx, 0);

    return i ? &tx->ents[i - 1] : NULL;
}


/*
 * A new entry for key (not read yet), indexed; the key copied, or with
 * `copy` 0 kept (it outlives tx).  NULL when out of memory.
 */
static rbacctl_ent_t *
rbacctl_tx_add(rbacctl_tx_t *tx, const char *key, int copy)
{
    rbacctl_ent_t  *e, *ne;

    if (tx->n == tx->cap) {
        tx->cap = tx->cap ? tx->cap * 2 : 32;
        ne = realloc(tx->ents, tx->cap * sizeof(rbacctl_ent_t));
        if (ne == NULL) {
            fprintf(stderr, "rbacctl: out of memory\n");
            return NULL;
        }
        tx->ents = ne;
    }

    e = &tx->ents[tx->n];
    memset(e, 0, sizeof(*e));
    e->key = copy ? rbacctl_pool_dup(&tx->pool, key, strlen(key))
                  : (char *) key;
    if (e->key == NULL) {
        return NULL;
    }
    tx->n++;

    if (rbacctl_index(&tx->ix, key, rbacctl_tx_key, tx, tx->n)
        == (size_t) -1)
    {
        return NULL;
    }

    return e;
}


int
rbacctl_tx_known(rbacctl_tx_t *tx, const char *key, int copy,
    const char *val, size_t len)
{
    rbacctl_ent_t  *e;

    if (rbacctl_tx_find(tx, key) != NULL) {
        return RBACCTL_OK;
    }

    e = rbacctl_tx_add(tx, key, copy);
    if (e == NULL) {
        return RBACCTL_FAIL;
    }

    if (val != NULL) {
        e->old = rbacctl_pool_dup(&tx->pool, val, len);
        if (e->old == NULL) {
            return RBACCTL_FAIL;
        }
    }

    e->read = 1;

    return RBACCTL_OK;
}


static void
rbacctl_tx_reset(rbacctl_tx_t *tx)
{
    rbacctl_pool_free(&tx->pool);
    free(tx->ents);
    tx->ents = NULL;
    tx->n = 0;
    tx->cap = 0;
    free(tx->bump);
    tx->bump = NULL;
    tx->nbump = 0;
    rbacctl_index_free(&tx->ix);
}


int
rbacctl_tx_get(rbacctl_tx_t *tx, const char *key, const char **val)
{
    char             full[1024];
    const char      *argv[2];
    redisReply      *r;
    rbacctl_ent_t   *e;

    e = rbacctl_tx_find(tx, key);
    if (e) {
        *val = e->old;
        return RBACCTL_OK;
    }

    e = rbacctl_tx_add(tx, key, 1);
    if (e == NULL) {
        return RBACCTL_FAIL;
    }

    snprintf(full, sizeof(full), "%s%s", tx->conn->prefix, key);

    argv[0] = "WATCH";
    argv[1] = full;

    if (!tx->nowatch) {
        r = rbacctl_cmd(tx->conn, 2, argv);
        if (r == NULL) {
            return RBACCTL_FAIL;
        }
        freeReplyObject(r);
    }

    argv[0] = "GET";
    r = rbacctl_cmd(tx->conn, 2, argv);
    if (r == NULL) {
        return RBACCTL_FAIL;
    }

    if (r->type == REDIS_REPLY_STRING) {
        e->old = rbacctl_pool_dup(&tx->pool, r->str, r->len);
        if (e->old == NULL) {
            freeReplyObject(r);
            return RBACCTL_FAIL;
        }

    } else if (r->type != REDIS_REPLY_NIL) {
        fprintf(stderr, "rbacctl: %s holds a %s, not a JSON string\n", full,
                r->type == REDIS_REPLY_ARRAY ? "list" : "non-string value");
        freeReplyObject(r);
        return RBACCTL_FAIL;
    }

    freeReplyObject(r);
    e->read = 1;
    *val = e->old;

    return RBACCTL_OK;
}


/*
 * One round trip for the entries idx[0..m) (added, not read): WATCH
 * commands (each of a bounded cost), then one MGET.
 */
static int
rbacctl_tx_batch(rbacctl_tx_t *tx, const size_t *idx, size_t m)
{
    int             rc;
    char           *full[RBACCTL_TX_BATCH];
    size_t          i, k, per, nw, plen;
    const char     *argv[RBACCTL_TX_BATCH + 1];
    redisReply     *r, *v;
    rbacctl_ent_t  *e;

    plen = strlen(tx->conn->prefix);
    rc = RBACCTL_OK;

    for (i = 0; i < m; i++) {
        k = strlen(tx->ents[idx[i]].key);
        full[i] = malloc(plen + k + 1);
        if (full[i] == NULL) {
            while (i-- > 0) {
                free(full[i]);
            }
            return RBACCTL_FAIL;
        }
        memcpy(full[i], tx->conn->prefix, plen);
        memcpy(full[i] + plen, tx->ents[idx[i]].key, k + 1);
    }

    per = RBACCTL_TX_WATCH_COST / (tx->n + 1);
    per = per < 1 ? 1 : per > m ? m : per;
    nw = 0;

    for (i = 0; !tx->nowatch && i < m; i += k) {
        k = m - i < per ? m - i : per;
        argv[0] = "WATCH";
        memcpy(&argv[1], &full[i], k * sizeof(char *));
        rbacctl_send(tx->conn, (int) k + 1, argv);
        nw++;
    }

    argv[0] = "MGET";
    memcpy(&argv[1], full, m * sizeof(char *));
    rbacctl_send(tx->conn, (int) m + 1, argv);

    for (i = 0; i <= nw; i++) {
        if (rbacctl_recv(tx->conn, &r) != 0 || r == NULL) {
            fprintf(stderr, "rbacctl: Redis at %s: %s\n", tx->conn->where,
                    tx->conn->errstr[0] ? tx->conn->errstr : "no reply");
            rc = RBACCTL_FAIL;
            break;
        }

        if (i < nw || rc != RBACCTL_OK) {
            rc = r->type == REDIS_REPLY_ERROR ? RBACCTL_FAIL : rc;
            freeReplyObject(r);
            continue;
        }

        if (r->type != REDIS_REPLY_ARRAY || r->elements != m) {
            rc = RBACCTL_FAIL;
        }

        for (k = 0; rc == RBACCTL_OK && k < m; k++) {
            e = &tx->ents[idx[k]];
            v = r->element[k];
            e->read = 1;

            if (v->type == REDIS_REPLY_STRING) {
                e->old = rbacctl_pool_dup(&tx->pool, v->str, v->len);
                rc = e->old ? RBACCTL_OK : RBACCTL_FAIL;
            }
        }

        freeReplyObject(r);
    }

    for (i = 0; i < m; i++) {
        free(full[i]);
    }

    if (rc != RBACCTL_OK) {
        fprintf(stderr, "rbacctl: Redis at %s: a batched read failed\n",
                tx->conn->where);
    }

    return rc;
}


int
rbacctl_tx_get_many(rbacctl_tx_t *tx, size_t n, rbacctl_key_pt key,
    void *ud)
{
    size_t          i, m, idx[RBACCTL_TX_BATCH];
    const char     *k;
    rbacctl_ent_t  *e;

    m = 0;

    for (i = 0; i < n; i++) {
        k = key(ud, i);
        if (rbacctl_tx_find(tx, k) != NULL) {
            continue;
        }

        e = rbacctl_tx_add(tx, k, 1);
        if (e == NULL) {
            return RBACCTL_FAIL;
        }

        idx[m++] = tx->n - 1;

        if (m == RBACCTL_TX_BATCH || i == n - 1) {
            if (rbacctl_tx_batch(tx, idx, m) != RBACCTL_OK) {
                return RBACCTL_FAIL;
            }
            m = 0;
        }
    }

    return m ? rbacctl_tx_batch(tx, idx, m) : RBACCTL_OK;
}


/* The entry of key, read first if it is not yet. */
static rbacctl_ent_t *
rbacctl_tx_entry(rbacctl_tx_t *tx, const char *key)
{
    const char  *old;

    if (rbacctl_tx_find(tx, key) == NULL
        && rbacctl_tx_get(tx, key, &old) != RBACCTL_OK)
    {
        return NULL;
    }

    return rbacctl_tx_find(tx, key);
}


int
rbacctl_tx_put(rbacctl_tx_t *tx, const char *key, const char *val)
{
    rbacctl_ent_t  *e;

    e = rbacctl_tx_entry(tx, key);
    if (e == NULL) {
        return RBACCTL_FAIL;
    }

    /* a value staged before stays in the pool until the reset */
    e->val = NULL;

    if (val) {
        e->val = rbacctl_pool_dup(&tx->pool, val, strlen(val));
        if (e->val == NULL) {
            return RBACCTL_FAIL;
        }
    }

    e->staged = 1;

    return RBACCTL_OK;
}


int
rbacctl_tx_put_shared(rbacctl_tx_t *tx, const char *key, const char *val)
{
    rbacctl_ent_t  *e;

    e = rbacctl_tx_entry(tx, key);
    if (e == NULL) {
        return RBACCTL_FAIL;
    }

    e->val = (char *) val;
    e->staged = 1;

    return RBACCTL_OK;
}


int
rbacctl_tx_bump(rbacctl_tx_t *tx, const char *key)
{
    char   **b;
    size_t   i;

    for (i = 0; i < tx->nbump; i++) {
        if (strcmp(tx->bump[i], key) == 0) {
            return RBACCTL_OK;
        }
    }

    b = realloc(tx->bump, (tx->nbump + 1) * sizeof(char *));
    if (b == NULL) {
        return RBACCTL_FAIL;
    }

    tx->bump = b;
    b[tx->nbump] = rbacctl_pool_dup(&tx->pool, key, strlen(key));

    return b[tx->nbump++] != NULL ? RBACCTL_OK : RBACCTL_FAIL;
}


static int
rbacctl_ent_changed(const rbacctl_ent_t *e)
{
    if (!e->staged) {
        return 0;
    }

    if (e->old == NULL || e->val == NULL) {
        return e->old != e->val;
    }

    return strcmp(e->old, e->val) != 0;
}


static int
rbacctl_ent_cmp(const void *a, const void *b)
{
    return strcmp(((const rbacctl_ent_t *) a)->key,
                  ((const rbacctl_ent_t *) b)->key);
}


static void
rbacctl_unwatch(rbacctl_conn_t *conn)
{
    const char  *argv[1] = { "UNWATCH" };
    redisReply  *r;

    r = rbacctl_call(conn, 1, argv);
    if (r) {
        freeReplyObject(r);
    }
}


static void
rbacctl_tx_print(rbacctl_tx_t *tx)
{
    size_t           i;
    rbacctl_ent_t   *e;

    for (i = 0; i < tx->n; i++) {
        e = &tx->ents[i];

        if (rbacctl_ent_changed(e)) {
            fprintf(tx->diff, "%c %s%s\n",
                    e->old == NULL ? '+' : e->val == NULL ? '-' : '~',
                    tx->conn->prefix, e->key);
        }
    }

    fflush(tx->diff);
}


/*
 * Sends a command for each changed key: its SET or DEL (chan NULL) or its
 * PUBLISH on chan.  Returns how many were sent.
 */
static size_t
rbacctl_tx_send_keys(rbacctl_tx_t *tx, const char *chan)
{
    char            full[1024];
    size_t          i, sent;
    const char     *argv[3];
    rbacctl_ent_t  *e;

    sent = 0;

    for (i = 0; i < tx->n; i++) {
        e = &tx->ents[i];

        if (!rbacctl_ent_changed(e)) {
            continue;
        }

        snprintf(full, sizeof(full), "%s%s", tx->conn->prefix, e->key);

        if (chan) {
            argv[0] = "PUBLISH";
            argv[1] = chan;
            argv[2] = full;
            (void) rbacctl_send(tx->conn, 3, argv);

        } else if (e->val) {
            argv[0] = "SET";
            argv[1] = full;
            argv[2] = e->val;
            (void) rbacctl_send(tx->conn, 3, argv);

        } else {
            argv[0] = "DEL";
            argv[1] = full;
            (void) rbacctl_send(tx->conn, 2, argv);
        }

        sent++;
    }

    return sent;
}


/*
 * The replies to the `queued` commands before EXEC, then EXEC's:
 * RBACCTL_OK with *heard the fewest subscribers a PUBLISH reached (-1:
 * none said), RBACCTL_FAIL, or -1 when EXEC found a conflict.
 */
static int
rbacctl_tx_replies(rbacctl_tx_t *tx, size_t queued, long long *heard)
{
    size_t       i;
    redisReply  *r;

    for (i = 0; i < queued; i++) {
        if (rbacctl_recv(tx->conn, &r) != 0
            || r == NULL)
        {
            goto lost;
        }

        if (r->type == REDIS_REPLY_ERROR) {
            /* a queued command was refused: EXEC will abort */
            fprintf(stderr, "rbacctl: Redis at %s refused the write: %s\n",
                    tx->conn->where, r->str);
        }

        freeReplyObject(r);
    }

    if (rbacctl_recv(tx->conn, &r) != 0 || r == NULL) {
        goto lost;
    }

    if (r->type == REDIS_REPLY_NIL) {
        freeReplyObject(r);
        return -1;
    }

    if (r->type != REDIS_REPLY_ARRAY) {
        fprintf(stderr, "rbacctl: Redis at %s: EXEC failed: %s; nothing "
                "was written\n", tx->conn->where,
                r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        freeReplyObject(r);
        return RBACCTL_FAIL;
    }

    /* the PUBLISH replies end EXEC's: subscribers each message reached */
    *heard = -1;

    i = r->elements > tx->changed ? r->elements - tx->changed : 0;

    for ( /* void */ ; i < r->elements; i++) {
        if (r->element[i]->type == REDIS_REPLY_INTEGER
            && (*heard < 0 || r->element[i]->integer < *heard))
        {
            *heard = r->element[i]->integer;
        }
    }

    freeReplyObject(r);

    return RBACCTL_OK;

lost:

    fprintf(stderr, "rbacctl: Redis at %s: connection lost during the "
            "write (%s); it happened entirely or not at all: run the "
            "command again to see\n", tx->conn->where,
            tx->conn->errstr[0] ? tx->conn->errstr : "no reply");

    return RBACCTL_FAIL;
}


/* Returns RBACCTL_OK, RBACCTL_FAIL, or -1 when EXEC found a conflict. */
static int
rbacctl_tx_commit(rbacctl_tx_t *tx)
{
    int          rc;
    char         chan[128], ver[128], full[1024];
    size_t       i, queued;
    long long    heard;
    const char  *argv[2];

    qsort(tx->ents, tx->n, sizeof(rbacctl_ent_t), rbacctl_ent_cmp);
    rbacctl_index_free(&tx->ix);        /* the order changed */

    tx->changed = 0;

    for (i = 0; i < tx->n; i++) {
        tx->changed += rbacctl_ent_changed(&tx->ents[i]) != 0;
    }

    if (tx->changed == 0 || tx->dry_run) {
        rbacctl_unwatch(tx->conn);
        return RBACCTL_OK;
    }

    snprintf(chan, sizeof(chan), "%sinv", tx->conn->prefix);
    snprintf(ver, sizeof(ver), "%sversion", tx->conn->prefix);

    /*
     * Pipelined: MULTI, the writes, INCR (the version, then the counters
     * of rbacctl_tx_bump), the PUBLISHes, EXEC; the replies
     * are read afterwards.  Only EXEC's reply says whether it happened.
     */
    argv[0] = "MULTI";
    (void) rbacctl_send(tx->conn, 1, argv);
    queued = 1;

    queued += rbacctl_tx_send_keys(tx, NULL);

    argv[0] = "INCR";
    argv[1] = ver;
    (void) rbacctl_send(tx->conn, 2, argv);
    queued++;

    for (i = 0; i < tx->nbump; i++) {
        snprintf(full, sizeof(full), "%s%s", tx->conn->prefix, tx->bump[i]);
        argv[1] = full;
        (void) rbacctl_send(tx->conn, 2, argv);
        queued++;
    }

    queued += rbacctl_tx_send_keys(tx, chan);

    argv[0] = "EXEC";
    (void) rbacctl_send(tx->conn, 1, argv);

    rc = rbacctl_tx_replies(tx, queued, &heard);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    rbacctl_settle(tx->conn, heard);

    return RBACCTL_OK;
}


/*
 * Test-only (tests/integration/test_rbacctl_rename.py): with the
 * environment variable RBACCTL_TEST_PAUSE set, the first attempt of a write
 * stops just before its commit, says so on stderr and reads one byte of
 * stdin, so that a test can run another write in between.  Not for
 * production use.
 */
static void
rbacctl_tx_test_pause(void)
{
    char  c;

    if (getenv("RBACCTL_TEST_PAUSE") == NULL) {
        return;
    }

    fprintf(stderr, "rbacctl: test pause before the commit\n");
    fflush(stderr);

    if (read(STDIN_FILENO, &c, 1) < 0) {
        return;
    }
}


void
rbacctl_tx_clear(rbacctl_tx_t *tx)
{
    rbacctl_tx_reset(tx);
    rbacctl_unwatch(tx->conn);
}


int
rbacctl_tx_run(rbacctl_conn_t *conn, rbacctl_build_pt build, void *ud,
    int dry_run, FILE *diff, size_t *changed)
{
    int            rc, attempt;
    rbacctl_tx_t   tx;

    memset(&tx, 0, sizeof(tx));
    tx.conn = conn;
    tx.dry_run = dry_run;

    for (attempt = 0; attempt < RBACCTL_TX_ATTEMPTS; attempt++) {
        rbacctl_tx_reset(&tx);

        /* a bulk writer's lock taken after this makes EXEC fail */
        rc = rbacctl_lock_wait_free(conn, RBACCTL_LOCK_WAIT);
        if (rc != RBACCTL_OK) {
            return rc;
        }

        rc = build(&tx, ud);

        if (rc == RBACCTL_OK) {
            /* name references follow the names (ref.c) */
            rc = rbacctl_refs_derive(&tx);
        }

        if (rc != RBACCTL_OK) {
            rbacctl_unwatch(conn);
            rbacctl_tx_reset(&tx);
            return rc;
        }

        if (attempt == 0) {
            rbacctl_tx_test_pause();
        }

        /* the diff is printed only once the commit is final */
        tx.diff = NULL;
        rc = rbacctl_tx_commit(&tx);

        if (rc == -1) {
            continue;
        }

        if (rc == RBACCTL_OK) {
            tx.diff = diff;
            if (diff) {
                rbacctl_tx_print(&tx);
            }
            if (changed) {
                *changed = tx.changed;
            }
        }

        rbacctl_tx_reset(&tx);
        return rc;
    }

    rbacctl_tx_reset(&tx);
    fprintf(stderr, "rbacctl: the keys kept changing under this write (%d "
            "attempts); nothing was written\n", RBACCTL_TX_ATTEMPTS);

    return RBACCTL_FAIL;
}
