/*
 * lock.c: the writer lock that serializes bulk writers (apply, feed) over
 * one decision table, and the check that small transactions (tx.c) make
 * against it.
 *
 * The lock is the key <prefix>lock, taken with SET NX PX: its value is an
 * owner token (random, with the pid, host and command for messages) and it
 * expires RBACCTL_LOCK_TTL_MS after the last renewal, so a writer that dies
 * frees it.  Every chunk that a bulk writer sends is a MULTI/EXEC under
 * WATCH of the lock, after a GET that found its own token, and renews the
 * expiry inside that transaction: a writer whose lock expired or was taken
 * over cannot write another chunk.  A small transaction WATCHes the lock
 * and goes on only while nobody holds it, so its EXEC fails (and it reads
 * again) when a bulk writer took the lock in between.
 */

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"


#define RBACCTL_LOCK_POLL_MS  50


/* The readable part of an owner token: after the 16 hex digits. */
static const char *
rbacctl_lock_owner(const char *v)
{
    return strlen(v) > 17 ? v + 17 : v[0] ? v : "just released";
}


static void
rbacctl_sleep_ms(long ms)
{
    struct timespec  ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}


static void
rbacctl_lock_token(char *buf, size_t size, const char *what)
{
    int            fd;
    char           host[64];
    size_t         i;
    unsigned char  rnd[8];

    memset(rnd, 0, sizeof(rnd));
    fd = open("/dev/urandom", O_RDONLY);
    if (fd >= 0) {
        if (read(fd, rnd, sizeof(rnd)) != (ssize_t) sizeof(rnd)) {
            memset(rnd, 0, sizeof(rnd));
        }
        close(fd);
    }

    if (gethostname(host, sizeof(host)) != 0) {
        strcpy(host, "?");
    }
    host[sizeof(host) - 1] = '\0';

    for (i = 0; i < sizeof(rnd); i++) {
        snprintf(buf + 2 * i, 3, "%02x", rnd[i]);
    }

    snprintf(buf + 16, size - 16, " rbacctl %s, pid %ld on %s, since %ld",
             what, (long) getpid(), host, (long) time(NULL));
}


/* GET of the lock key: 1 held by `token` (or by anyone with token NULL), 0
 * free or held by another, -1 on failure; the owner is copied to `owner`. */
static int
rbacctl_lock_get(rbacctl_conn_t *conn, const char *key, const char *token,
    char *owner, size_t size)
{
    int          rc;
    const char  *argv[2];
    redisReply  *r;

    argv[0] = "GET";
    argv[1] = key;
    r = rbacctl_cmd(conn, 2, argv);
    if (r == NULL) {
        return -1;
    }

    if (owner) {
        snprintf(owner, size, "%s",
                 r->type == REDIS_REPLY_STRING ? r->str : "");
    }

    if (r->type != REDIS_REPLY_STRING) {
        rc = 0;

    } else {
        rc = token == NULL || strcmp(r->str, token) == 0;
    }

    freeReplyObject(r);

    return rc;
}


static int
rbacctl_lock_simple(rbacctl_conn_t *conn, int argc, const char **argv)
{
    redisReply  *r;

    r = rbacctl_cmd(conn, argc, argv);
    if (r == NULL) {
        return RBACCTL_FAIL;
    }

    freeReplyObject(r);

    return RBACCTL_OK;
}


int
rbacctl_lock_take(rbacctl_lock_t *l, rbacctl_conn_t *conn, const char *what,
    double wait)
{
    char         ttl[32], owner[300];
    double       start;
    int          said;
    const char  *argv[6];
    redisReply  *r;

    memset(l, 0, sizeof(*l));
    l->conn = conn;
    snprintf(l->key, sizeof(l->key), "%slock", conn->prefix);
    rbacctl_lock_token(l->token, sizeof(l->token), what);
    snprintf(ttl, sizeof(ttl), "%d", RBACCTL_LOCK_TTL_MS);

    start = rbacctl_now();
    said = 0;

    for ( ;; ) {
        argv[0] = "SET";
        argv[1] = l->key;
        argv[2] = l->token;
        argv[3] = "NX";
        argv[4] = "PX";
        argv[5] = ttl;

        r = rbacctl_cmd(conn, 6, argv);
        if (r == NULL) {
            return RBACCTL_FAIL;
        }

        if (r->type == REDIS_REPLY_STATUS) {
            freeReplyObject(r);
            l->held = 1;
            l->renewed = rbacctl_now();
            conn->lock = l;
            return RBACCTL_OK;
        }

        freeReplyObject(r);

        if (rbacctl_lock_get(conn, l->key, NULL, owner, sizeof(owner)) < 0) {
            return RBACCTL_FAIL;
        }

        if (rbacctl_now() - start >= wait) {
            fprintf(stderr, "rbacctl %s: another writer holds %s (%s) and "
                    "did not finish within %.0f s; nothing was written "
                    "(--wait SECONDS waits longer)\n", what, l->key,
                    rbacctl_lock_owner(owner), wait);
            return RBACCTL_FAIL;
        }

        if (!said && owner[0]) {
            fprintf(stderr, "rbacctl %s: waiting for %s (%s)\n", what,
                    l->key, rbacctl_lock_owner(owner));
            said = 1;
        }

        rbacctl_sleep_ms(RBACCTL_LOCK_POLL_MS);
    }
}


/* WATCH and check; `say`: a lock that is no longer ours is reported. */
static int
rbacctl_lock_check(rbacctl_lock_t *l, int say)
{
    int          rc;
    const char  *argv[2];

    argv[0] = "WATCH";
    argv[1] = l->key;
    if (rbacctl_lock_simple(l->conn, 2, argv) != RBACCTL_OK) {
        return RBACCTL_FAIL;
    }

    rc = rbacctl_lock_get(l->conn, l->key, l->token, NULL, 0);
    if (rc < 0) {
        return RBACCTL_FAIL;
    }

    if (rc == 0) {
        if (say) {
            fprintf(stderr, "rbacctl: the writer lock %s expired or was "
                    "taken over (a stall of more than %d ms)\n", l->key,
                    RBACCTL_LOCK_TTL_MS);
        }
        argv[0] = "UNWATCH";
        rbacctl_lock_simple(l->conn, 1, argv);
        return RBACCTL_FAIL;
    }

    return RBACCTL_OK;
}


int
rbacctl_lock_watch(rbacctl_lock_t *l)
{
    return rbacctl_lock_check(l, 1);
}


void
rbacctl_lock_append_renew(rbacctl_lock_t *l)
{
    char         ttl[32];
    const char  *argv[3];

    snprintf(ttl, sizeof(ttl), "%d", RBACCTL_LOCK_TTL_MS);
    argv[0] = "PEXPIRE";
    argv[1] = l->key;
    argv[2] = ttl;
    rbacctl_send(l->conn, 3, argv);
    l->renewed = rbacctl_now();
}


/* WATCH, check, MULTI, `cmd` on the lock key, EXEC. */
static int
rbacctl_lock_guarded(rbacctl_lock_t *l, int del)
{
    int          ok;
    size_t       i;
    const char  *argv[2];
    redisReply  *r;

    /* on release a lock no longer ours is left alone without a word */
    if (rbacctl_lock_check(l, !del) != RBACCTL_OK) {
        return RBACCTL_FAIL;
    }

    argv[0] = "MULTI";
    rbacctl_send(l->conn, 1, argv);

    if (del) {
        argv[0] = "DEL";
        argv[1] = l->key;
        rbacctl_send(l->conn, 2, argv);

    } else {
        rbacctl_lock_append_renew(l);
    }

    argv[0] = "EXEC";
    rbacctl_send(l->conn, 1, argv);

    ok = 1;

    for (i = 0; i < 3; i++) {
        if (rbacctl_recv(l->conn, &r) != 0
            || r == NULL)
        {
            return RBACCTL_FAIL;
        }

        if (i == 2 && r->type != REDIS_REPLY_ARRAY) {
            ok = 0;
        }

        freeReplyObject(r);
    }

    return ok ? RBACCTL_OK : RBACCTL_FAIL;
}


int
rbacctl_lock_due(rbacctl_lock_t *l)
{
    return l->held
           && rbacctl_now() - l->renewed >= RBACCTL_LOCK_TTL_MS / 4000.0;
}


int
rbacctl_lock_keep(rbacctl_lock_t *l)
{
    if (!rbacctl_lock_due(l)) {
        return RBACCTL_OK;
    }

    return rbacctl_lock_guarded(l, 0);
}


void
rbacctl_lock_release(rbacctl_lock_t *l)
{
    if (l->held) {
        (void) rbacctl_lock_guarded(l, 1);
        l->held = 0;
        l->conn->lock = NULL;
    }
}


int
rbacctl_lock_wait_free(rbacctl_conn_t *conn, double wait)
{
    int          rc;
    char         key[128], owner[300];
    double       start;
    const char  *argv[2];

    snprintf(key, sizeof(key), "%slock", conn->prefix);
    start = rbacctl_now();

    for ( ;; ) {
        argv[0] = "WATCH";
        argv[1] = key;
        if (rbacctl_lock_simple(conn, 2, argv) != RBACCTL_OK) {
            return RBACCTL_FAIL;
        }

        rc = rbacctl_lock_get(conn, key, NULL, owner, sizeof(owner));
        if (rc <= 0) {
            return rc < 0 ? RBACCTL_FAIL : RBACCTL_OK;
        }

        argv[0] = "UNWATCH";
        rbacctl_lock_simple(conn, 1, argv);

        if (rbacctl_now() - start >= wait) {
            fprintf(stderr, "rbacctl: a bulk writer holds %s (%s) and did "
                    "not finish within %.0f s; nothing was written\n", key,
                    rbacctl_lock_owner(owner), wait);
            return RBACCTL_FAIL;
        }

        rbacctl_sleep_ms(RBACCTL_LOCK_POLL_MS);
    }
}
