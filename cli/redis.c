/*
 * redis.c: rbacctl's connection to the decision table: URL parsing
 * (redis://[[user]:password@]host:port[/db], unix:///path?db=N&password=P),
 * Sentinel discovery, authentication, and the SCAN and command helpers.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "admin.h"


#define RBACCTL_CONNECT_TIMEOUT  2
#define RBACCTL_CMD_TIMEOUT      10


typedef struct {
    char   host[256];
    int    port;
    char   path[256];           /* unix socket, or "" */
    char   user[128];
    char   password[256];
    int    db;
} rbacctl_url_t;


static int
rbacctl_url_parse(const char *url, rbacctl_url_t *u)
{
    const char  *p, *at, *slash, *colon, *q, *v;
    size_t       n;
    char        *end;
    long         l;

    memset(u, 0, sizeof(*u));
    u->port = 6379;

    if (strncmp(url, "unix://", 7) == 0) {
        p = url + 7;
        q = strchr(p, '?');
        n = q ? (size_t) (q - p) : strlen(p);

        if (n == 0 || n >= sizeof(u->path) || p[0] != '/') {
            return -1;
        }

        memcpy(u->path, p, n);

        while (q) {
            q++;
            v = strchr(q, '=');
            if (v == NULL) {
                return -1;
            }
            v++;
            n = strcspn(v, "&");

            if (strncmp(q, "db=", 3) == 0) {
                l = strtol(v, &end, 10);
                if (end != v + n || n == 0 || l < 0 || l > 100000) {
                    return -1;
                }
                u->db = (int) l;

            } else if (strncmp(q, "password=", 9) == 0) {
                if (n >= sizeof(u->password)) {
                    return -1;
                }
                memcpy(u->password, v, n);

            } else {
                return -1;
            }

            q = strchr(v, '&');
        }

        return 0;
    }

    if (strncmp(url, "redis://", 8) != 0) {
        return -1;
    }

    p = url + 8;
    at = strrchr(p, '@');

    if (at) {
        colon = memchr(p, ':', (size_t) (at - p));

        if (colon) {
            n = (size_t) (colon - p);
            if (n >= sizeof(u->user)) {
                return -1;
            }
            memcpy(u->user, p, n);
            v = colon + 1;

        } else {
            v = p;
        }

        n = (size_t) (at - v);
        if (n >= sizeof(u->password)) {
            return -1;
        }
        memcpy(u->password, v, n);
        p = at + 1;
    }

    slash = strchr(p, '/');
    n = slash ? (size_t) (slash - p) : strlen(p);

    if (n == 0) {
        return -1;
    }

    if (p[0] == '[') {
        /* [v6]:port */
        v = memchr(p, ']', n);
        if (v == NULL || (size_t) (v - p - 1) >= sizeof(u->host)) {
            return -1;
        }
        memcpy(u->host, p + 1, (size_t) (v - p - 1));
        colon = v + 1 < p + n && v[1] == ':' ? v + 1 : NULL;

    } else {
        colon = memchr(p, ':', n);
        if ((colon ? (size_t) (colon - p) : n) >= sizeof(u->host)) {
            return -1;
        }
        memcpy(u->host, p, colon ? (size_t) (colon - p) : n);
    }

    if (colon) {
        l = strtol(colon + 1, &end, 10);
        if (end != p + n || end == colon + 1 || l <= 0 || l > 65535) {
            return -1;
        }
        u->port = (int) l;
    }

    if (u->host[0] == '\0') {
        return -1;
    }

    if (slash && slash[1]) {
        l = strtol(slash + 1, &end, 10);
        if (*end != '\0' || l < 0 || l > 100000) {
            return -1;
        }
        u->db = (int) l;
    }

    return 0;
}


static redisContext *
rbacctl_open(const char *host, int port, const char *path, char *where,
    size_t wsize)
{
    struct timeval   tv;
    redisContext    *c;

    tv.tv_sec = RBACCTL_CONNECT_TIMEOUT;
    tv.tv_usec = 0;

    if (path && path[0]) {
        snprintf(where, wsize, "unix:%s", path);
        c = redisConnectUnixWithTimeout(path, tv);

    } else {
        snprintf(where, wsize, "%s:%d", host, port);
        c = redisConnectWithTimeout(host, port, tv);
    }

    if (c == NULL) {
        fprintf(stderr, "rbacctl: cannot connect to Redis at %s: "
                "out of memory\n", where);
        return NULL;
    }

    if (c->err) {
        fprintf(stderr, "rbacctl: cannot connect to Redis at %s: %s\n",
                where, c->errstr);
        redisFree(c);
        return NULL;
    }

    tv.tv_sec = RBACCTL_CMD_TIMEOUT;
    redisSetTimeout(c, tv);

    return c;
}


static int
rbacctl_numeric(const char *host)
{
    unsigned char  buf[16];

    return inet_pton(AF_INET, host, buf) == 1
           || inet_pton(AF_INET6, host, buf) == 1;
}


/* Asks the sentinels in turn for the master's address. */
static int
rbacctl_sentinel(const char *list, const char *master, rbacctl_url_t *u)
{
    char           buf[512], where[300], *p, *item, *save, *colon, *end;
    long           port;
    redisContext  *c;
    redisReply    *r;

    if (strlen(list) >= sizeof(buf)) {
        fprintf(stderr, "rbacctl: --sentinel: list too long\n");
        return RBACCTL_USAGE;
    }

    strcpy(buf, list);

    for (p = buf; (item = strtok_r(p, ",", &save)) != NULL; p = NULL) {
        colon = strrchr(item, ':');
        if (colon == NULL) {
            fprintf(stderr, "rbacctl: --sentinel: \"%s\" is not ip:port\n",
                    item);
            return RBACCTL_USAGE;
        }

        *colon = '\0';
        port = strtol(colon + 1, &end, 10);
        if (*end || port <= 0 || port > 65535) {
            fprintf(stderr, "rbacctl: --sentinel: bad port in \"%s:%s\"\n",
                    item, colon + 1);
            return RBACCTL_USAGE;
        }

        /* [::1]:26379, as nginx's rbac_redis sentinel= accepts */
        if (item[0] == '[' && colon > item + 1 && colon[-1] == ']') {
            colon[-1] = '\0';
            item++;
        }

        c = rbacctl_open(item, (int) port, NULL, where, sizeof(where));
        if (c == NULL) {
            continue;
        }

        r = redisCommand(c, "SENTINEL get-master-addr-by-name %s", master);

        if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2
            && r->element[0]->type == REDIS_REPLY_STRING
            && r->element[1]->type == REDIS_REPLY_STRING
            && r->element[0]->len < sizeof(u->host)
            && !rbacctl_numeric(r->element[0]->str))
        {
            /* as in nginx (DESIGN 5): a host name answer is refused */
            fprintf(stderr, "rbacctl: sentinel %s named master \"%s\" by "
                    "the host name \"%s\"; refused (numeric addresses "
                    "only)\n", where, master, r->element[0]->str);
            freeReplyObject(r);
            redisFree(c);
            continue;
        }

        if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2
            && r->element[0]->type == REDIS_REPLY_STRING
            && r->element[1]->type == REDIS_REPLY_STRING
            && r->element[0]->len < sizeof(u->host))
        {
            strcpy(u->host, r->element[0]->str);
            u->port = atoi(r->element[1]->str);
            freeReplyObject(r);
            redisFree(c);
            return RBACCTL_OK;
        }

        if (r == NULL) {
            fprintf(stderr, "rbacctl: sentinel %s: %s\n", where, c->errstr);

        } else if (r->type == REDIS_REPLY_ERROR) {
            fprintf(stderr, "rbacctl: sentinel %s: %s\n", where, r->str);

        } else {
            fprintf(stderr, "rbacctl: sentinel %s does not know master "
                    "\"%s\"\n", where, master);
        }

        if (r) {
            freeReplyObject(r);
        }
        redisFree(c);
    }

    fprintf(stderr, "rbacctl: no sentinel of \"%s\" gave the address of "
            "master \"%s\"\n", list, master);

    return RBACCTL_FAIL;
}


static int
rbacctl_check_reply(rbacctl_conn_t *conn, redisReply *r, const char *what)
{
    if (r == NULL) {
        fprintf(stderr, "rbacctl: Redis at %s: %s: %s\n", conn->where, what,
                conn->c->errstr[0] ? conn->c->errstr : "no reply");
        return RBACCTL_FAIL;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        if (strncmp(r->str, "NOAUTH", 6) == 0) {
            fprintf(stderr, "rbacctl: Redis at %s requires a password "
                    "(redis://:PASSWORD@host:port or --password-file): "
                    "%s\n", conn->where, r->str);

        } else if (strncmp(r->str, "WRONGPASS", 9) == 0
                   || strstr(r->str, "invalid password")
                   || strstr(r->str, "invalid username-password"))
        {
            fprintf(stderr, "rbacctl: Redis at %s refused the password: "
                    "%s\n", conn->where, r->str);

        } else {
            fprintf(stderr, "rbacctl: Redis at %s: %s: %s\n",
                    conn->where, what, r->str);
        }

        freeReplyObject(r);
        return RBACCTL_FAIL;
    }

    freeReplyObject(r);
    return RBACCTL_OK;
}


int
rbacctl_connect(const rbacctl_args_t *a, rbacctl_conn_t *conn)
{
    int             rc;
    long            db;
    char           *end, *pw;
    size_t          n;
    const char     *url, *sentinel, *master, *prefix, *pwfile, *dbs;
    rbacctl_url_t   u;
    redisReply     *r;

    memset(conn, 0, sizeof(*conn));

    url = rbacctl_arg(a, "redis");
    if (url == NULL) {
        url = getenv("RBAC_REDIS");
    }
    if (url == NULL || url[0] == '\0') {
        url = "redis://127.0.0.1:6379";
    }

    sentinel = rbacctl_arg(a, "sentinel");
    master = rbacctl_arg(a, "master");
    prefix = rbacctl_arg(a, "prefix");
    pwfile = rbacctl_arg(a, "password-file");
    dbs = rbacctl_arg(a, "db");

    if (prefix == NULL) {
        prefix = "rbac:";
    }

    if (strlen(prefix) >= sizeof(conn->prefix) - 16) {
        return rbacctl_fail(a, RBACCTL_USAGE, "--prefix: too long");
    }
    strcpy(conn->prefix, prefix);

    if (rbacctl_url_parse(url, &u) != 0) {
        return rbacctl_fail(a, RBACCTL_USAGE, "bad Redis URL \"%s\" "
                            "(redis://[:password@]host:port[/db] or "
                            "unix:///path?db=N)", url);
    }

    if ((sentinel == NULL) != (master == NULL)) {
        return rbacctl_fail(a, RBACCTL_USAGE,
                            "--sentinel and --master go together");
    }

    if (sentinel) {
        rc = rbacctl_sentinel(sentinel, master, &u);
        if (rc != RBACCTL_OK) {
            return rc;
        }
        u.path[0] = '\0';
    }

    if (dbs) {
        db = strtol(dbs, &end, 10);
        if (*end || end == dbs || db < 0 || db > 100000) {
            return rbacctl_fail(a, RBACCTL_USAGE, "--db: not a number");
        }
        u.db = (int) db;
    }

    if (pwfile) {
        pw = rbacctl_read_file(pwfile, &n);
        if (pw == NULL) {
            return rbacctl_fail(a, RBACCTL_USAGE, "--password-file %s: %s",
                                pwfile, strerror(errno));
        }
        while (n > 0 && (pw[n - 1] == '\n' || pw[n - 1] == '\r')) {
            pw[--n] = '\0';
        }
        if (n >= sizeof(u.password)) {
            free(pw);
            return rbacctl_fail(a, RBACCTL_USAGE, "--password-file: "
                                "password too long");
        }
        strcpy(u.password, pw);
        free(pw);
    }

    conn->c = rbacctl_open(u.host, u.port, u.path, conn->where,
                           sizeof(conn->where));
    if (conn->c == NULL) {
        return RBACCTL_FAIL;
    }

    if (u.password[0]) {
        if (u.user[0]) {
            r = redisCommand(conn->c, "AUTH %s %s", u.user, u.password);
        } else {
            r = redisCommand(conn->c, "AUTH %s", u.password);
        }

        if (r && r->type == REDIS_REPLY_ERROR
            && strstr(r->str, "without any password"))
        {
            fprintf(stderr, "rbacctl: Redis at %s has no password set, "
                    "but one was given\n", conn->where);
            freeReplyObject(r);
            goto failed;
        }

        if (rbacctl_check_reply(conn, r, "AUTH") != RBACCTL_OK) {
            goto failed;
        }
    }

    if (u.db) {
        r = redisCommand(conn->c, "SELECT %d", u.db);
        if (rbacctl_check_reply(conn, r, "SELECT") != RBACCTL_OK) {
            goto failed;
        }
    }

    r = redisCommand(conn->c, "PING");
    if (rbacctl_check_reply(conn, r, "PING") != RBACCTL_OK) {
        goto failed;
    }

    if (sentinel) {
        /* the sentinel's answer may be stale during a failover */
        r = redisCommand(conn->c, "ROLE");
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements > 0
            && r->element[0]->type == REDIS_REPLY_STRING
            && strcmp(r->element[0]->str, "master") != 0)
        {
            fprintf(stderr, "rbacctl: %s, given by the sentinels as master "
                    "\"%s\", is a %s; retry after the failover\n",
                    conn->where, master, r->element[0]->str);
            freeReplyObject(r);
            goto failed;
        }
        if (r) {
            freeReplyObject(r);
        }
    }

    return RBACCTL_OK;

failed:

    redisFree(conn->c);
    conn->c = NULL;
    return RBACCTL_FAIL;
}


void
rbacctl_disconnect(rbacctl_conn_t *conn)
{
    if (conn->c) {
        redisFree(conn->c);
        conn->c = NULL;
    }
}


redisReply *
rbacctl_cmd(rbacctl_conn_t *conn, int argc, const char **argv)
{
    redisReply  *r;

    r = redisCommandArgv(conn->c, argc, argv, NULL);

    if (r == NULL) {
        fprintf(stderr, "rbacctl: Redis at %s: %s failed: %s\n", conn->where,
                argv[0], conn->c->errstr[0] ? conn->c->errstr : "no reply");
        return NULL;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "rbacctl: Redis at %s: %s failed: %s\n", conn->where,
                argv[0], r->str);
        freeReplyObject(r);
        return NULL;
    }

    return r;
}


int
rbacctl_get(rbacctl_conn_t *conn, const char *key, char **val)
{
    char         full[1024];
    const char  *argv[2];
    redisReply  *r;

    *val = NULL;
    snprintf(full, sizeof(full), "%s%s", conn->prefix, key);
    argv[0] = "GET";
    argv[1] = full;

    r = rbacctl_cmd(conn, 2, argv);
    if (r == NULL) {
        return RBACCTL_FAIL;
    }

    if (r->type == REDIS_REPLY_STRING) {
        *val = strdup(r->str);
        if (*val == NULL) {
            freeReplyObject(r);
            return RBACCTL_FAIL;
        }

    } else if (r->type != REDIS_REPLY_NIL) {
        fprintf(stderr, "rbacctl: %s is not a string value\n", full);
        freeReplyObject(r);
        return RBACCTL_FAIL;
    }

    freeReplyObject(r);
    return RBACCTL_OK;
}


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


void
rbacctl_strv_free(char **v, long n)
{
    long  i;

    for (i = 0; i < n; i++) {
        free(v[i]);
    }

    free(v);
}


void
rbacctl_settle(rbacctl_conn_t *conn, long long heard)
{
    redisReply  *r;
    const char  *argv[1] = { "PING" };

    r = rbacctl_cmd(conn, 1, argv);
    if (r != NULL) {
        freeReplyObject(r);
    }

    if (heard == 0) {
        fprintf(stderr, "rbacctl: warning: the change was written, but its "
                "invalidation on %sinv reached no subscriber: an nginx cut "
                "off from Redis now may serve what it cached until it "
                "reconnects (or, with stale=, while Redis is unreachable); "
                "set stale=0 where a revocation must be final\n",
                conn->prefix);
    }
}
