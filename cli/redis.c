/*
 * redis.c: rbacctl's connection to the decision table: URL parsing
 * (redis[s]://[[user]:password@]host:port[/db],
 * unix:///path?db=N&password=P), TLS (OpenSSL), Sentinel discovery,
 * authentication (ACL users), and the command helpers.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

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
    int    tls;                 /* rediss:// */
} rbacctl_url_t;


static int rbacctl_check_reply(rbacctl_conn_t *conn, redisReply *r,
    const char *what);


/* unix:///path?db=N&password=P, after "unix://". */
static int
rbacctl_url_unix(const char *p, rbacctl_url_t *u)
{
    const char  *q, *v;
    size_t       n;
    char        *end;
    long         l;

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


/* [[user]:password@] at *p: copied into u, *p moved past it. */
static int
rbacctl_url_userinfo(const char **p, rbacctl_url_t *u)
{
    const char  *at, *colon, *v;
    size_t       n;

    at = strrchr(*p, '@');
    if (at == NULL) {
        return 0;
    }

    colon = memchr(*p, ':', (size_t) (at - *p));

    if (colon) {
        n = (size_t) (colon - *p);
        if (n >= sizeof(u->user)) {
            return -1;
        }
        memcpy(u->user, *p, n);
        v = colon + 1;

    } else {
        v = *p;
    }

    n = (size_t) (at - v);
    if (n >= sizeof(u->password)) {
        return -1;
    }
    memcpy(u->password, v, n);
    *p = at + 1;

    return 0;
}


static int
rbacctl_url_parse(const char *url, rbacctl_url_t *u)
{
    const char  *p, *slash, *colon, *v;
    size_t       n;
    char        *end;
    long         l;

    memset(u, 0, sizeof(*u));
    u->port = 6379;

    if (strncmp(url, "unix://", 7) == 0) {
        return rbacctl_url_unix(url + 7, u);
    }

    if (strncmp(url, "rediss://", 9) == 0) {
        u->tls = 1;
        p = url + 9;

    } else if (strncmp(url, "redis://", 8) == 0) {
        p = url + 8;

    } else {
        return -1;
    }

    if (rbacctl_url_userinfo(&p, u) != 0) {
        return -1;
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


/*
 * The connection itself: a socket (TCP or unix), TLS with OpenSSL when
 * asked, commands formatted by hiredis (redisFormatCommandArgv) and
 * replies parsed by its redisReader; hiredis 0.14 has no TLS, so the I/O
 * is ours.
 */


static void
rbacctl_io_error(rbacctl_conn_t *conn, const char *fmt, const char *what)
{
    snprintf(conn->errstr, sizeof(conn->errstr), fmt, what);
}


/* A connected socket (connect under a timeout), or -1 with errstr set. */
static int
rbacctl_dial(rbacctl_conn_t *conn, const char *host, int port,
    const char *path)
{
    int                  fd, rc, err;
    char                 sport[16];
    socklen_t            len;
    struct pollfd        pfd;
    struct timeval       tv;
    struct addrinfo      hints, *res, *ai;
    struct sockaddr_un   sun;

    if (path && path[0]) {
        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);

        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd == -1 || connect(fd, (struct sockaddr *) &sun, sizeof(sun))
                        == -1)
        {
            rbacctl_io_error(conn, "%s", strerror(errno));
            if (fd != -1) {
                close(fd);
            }
            return -1;
        }

        goto done;
    }

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(sport, sizeof(sport), "%d", port);

    rc = getaddrinfo(host, sport, &hints, &res);
    if (rc != 0) {
        rbacctl_io_error(conn, "cannot resolve the host name: %s",
                         gai_strerror(rc));
        return -1;
    }

    fd = -1;
    err = 0;

    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK,
                    ai->ai_protocol);
        if (fd == -1) {
            err = errno;
            continue;
        }

        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }

        err = errno;

        if (err == EINPROGRESS) {
            pfd.fd = fd;
            pfd.events = POLLOUT;

            rc = poll(&pfd, 1, RBACCTL_CONNECT_TIMEOUT * 1000);
            len = sizeof(err);

            if (rc == 1
                && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0
                && err == 0)
            {
                break;
            }

            if (rc == 0) {
                err = ETIMEDOUT;
            }
        }

        close(fd);
        fd = -1;
    }

    freeaddrinfo(res);

    if (fd == -1) {
        rbacctl_io_error(conn, "%s", strerror(err));
        return -1;
    }

    /* blocking from now on, each read and write under a timeout */
    (void) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    rc = 1;
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &rc, sizeof(rc));

done:

    tv.tv_sec = RBACCTL_CMD_TIMEOUT;
    tv.tv_usec = 0;
    (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

    return fd;
}


/* The OpenSSL error queue as one line (the last error), then cleared. */
static void
rbacctl_ssl_error(rbacctl_conn_t *conn, const char *what)
{
    char           buf[200];
    unsigned long  e, last;

    last = 0;
    while ((e = ERR_get_error()) != 0) {
        last = e;
    }

    if (last) {
        ERR_error_string_n(last, buf, sizeof(buf));
        snprintf(conn->errstr, sizeof(conn->errstr), "%s: %s", what, buf);

    } else {
        snprintf(conn->errstr, sizeof(conn->errstr), "%s", what);
    }
}


/*
 * TLS as nginx's rbac_redis ssl does it: the server's chain checked
 * against the CA file (or the system's CAs), then the host name (or
 * --tls-server-name, or the address), SNI sent for a host name; a client
 * certificate when given.
 */
static int
rbacctl_tls_start(rbacctl_conn_t *conn, const rbacctl_tls_t *t,
    const char *host)
{
    long           rc;
    const char    *name;
    unsigned char  buf[16];
    int            numeric;

    conn->ctx = SSL_CTX_new(TLS_client_method());
    if (conn->ctx == NULL) {
        rbacctl_ssl_error(conn, "SSL_CTX_new() failed");
        return -1;
    }

    if (!t->insecure) {
        if ((t->ca ? SSL_CTX_load_verify_locations(conn->ctx, t->ca, NULL)
                   : SSL_CTX_set_default_verify_paths(conn->ctx)) != 1)
        {
            rbacctl_ssl_error(conn, "cannot load the CA certificates");
            return -1;
        }

        SSL_CTX_set_verify(conn->ctx, SSL_VERIFY_PEER, NULL);
    }

    if (t->cert
        && (SSL_CTX_use_certificate_chain_file(conn->ctx, t->cert) != 1
            || SSL_CTX_use_PrivateKey_file(conn->ctx,
                                           t->key ? t->key : t->cert,
                                           SSL_FILETYPE_PEM) != 1))
    {
        rbacctl_ssl_error(conn, "cannot load the client certificate");
        return -1;
    }

    conn->ssl = SSL_new(conn->ctx);
    if (conn->ssl == NULL || SSL_set_fd(conn->ssl, conn->fd) != 1) {
        rbacctl_ssl_error(conn, "SSL_new() failed");
        return -1;
    }

    name = t->server_name ? t->server_name : host;
    numeric = name == host && host != NULL
              && (inet_pton(AF_INET, host, buf) == 1
                  || inet_pton(AF_INET6, host, buf) == 1);

    if (name != NULL && name[0] && !numeric) {
        (void) SSL_set_tlsext_host_name(conn->ssl, name);
    }

    if (!t->insecure && name != NULL && name[0]) {
        if (numeric) {
            (void) X509_VERIFY_PARAM_set1_ip_asc(
                                      SSL_get0_param(conn->ssl), name);
        } else {
            (void) SSL_set1_host(conn->ssl, name);
        }
    }

    if (SSL_connect(conn->ssl) != 1) {
        rc = SSL_get_verify_result(conn->ssl);

        if (!t->insecure && rc != X509_V_OK) {
            snprintf(conn->errstr, sizeof(conn->errstr),
                     "SSL certificate verify error: (%ld:%s)", rc,
                     X509_verify_cert_error_string(rc));
            ERR_clear_error();
            return -1;
        }

        rbacctl_ssl_error(conn, "SSL handshake failed");
        return -1;
    }

    return 0;
}


static void
rbacctl_io_close(rbacctl_conn_t *conn)
{
    if (conn->ssl) {
        (void) SSL_shutdown(conn->ssl);
        SSL_free(conn->ssl);
        conn->ssl = NULL;
    }

    if (conn->ctx) {
        SSL_CTX_free(conn->ctx);
        conn->ctx = NULL;
    }

    if (conn->fd > 0) {
        close(conn->fd);
    }

    conn->fd = -1;

    if (conn->reader) {
        redisReaderFree(conn->reader);
        conn->reader = NULL;
    }

    free(conn->obuf);
    conn->obuf = NULL;
    conn->olen = 0;
    conn->osize = 0;
}


/* Opens conn (where set for messages); prints why and returns -1. */
static int
rbacctl_open(rbacctl_conn_t *conn, const char *host, int port,
    const char *path, const rbacctl_tls_t *tls)
{
    if (path && path[0]) {
        snprintf(conn->where, sizeof(conn->where), "unix:%s", path);

    } else if (strchr(host, ':')) {
        snprintf(conn->where, sizeof(conn->where), "[%s]:%d", host, port);

    } else {
        snprintf(conn->where, sizeof(conn->where), "%s:%d", host, port);
    }

    conn->errstr[0] = '\0';
    conn->fd = rbacctl_dial(conn, host, port, path);
    conn->reader = redisReaderCreate();

    if (conn->fd == -1 || conn->reader == NULL
        || (tls->on && rbacctl_tls_start(conn, tls, path && path[0]
                                                    ? NULL : host) != 0))
    {
        fprintf(stderr, "rbacctl: cannot connect to Redis at %s%s: %s\n",
                tls->on ? "(TLS) " : "", conn->where,
                conn->errstr[0] ? conn->errstr : "out of memory");
        rbacctl_io_close(conn);
        return -1;
    }

    return 0;
}


/*
 * 1 when a TLS read or write of the blocking socket returned `n` because a
 * signal interrupted it: after a stop and SIGCONT (^Z, fg), Linux ends a
 * read or write under SO_RCVTIMEO/SO_SNDTIMEO with EINTR even with no
 * handler.  Such a call is made again; a timeout (EAGAIN) is not.
 */
static int
rbacctl_io_interrupted(rbacctl_conn_t *conn, int n)
{
    int  e;

    e = SSL_get_error(conn->ssl, n);

    return (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE
            || e == SSL_ERROR_SYSCALL)
           && errno == EINTR;
}


/* Writes what rbacctl_send buffered; -1 (connection closed) on failure. */
static int
rbacctl_flush(rbacctl_conn_t *conn)
{
    ssize_t  n;
    size_t   sent;

    for (sent = 0; sent < conn->olen; sent += (size_t) n) {
        if (conn->ssl) {
            errno = 0;      /* a stale EINTR must not read as this one's */
            n = SSL_write(conn->ssl, conn->obuf + sent,
                          (int) (conn->olen - sent));
            if (n <= 0 && rbacctl_io_interrupted(conn, (int) n)) {
                n = 0;
                continue;
            }

            if (n <= 0) {
                rbacctl_ssl_error(conn, "SSL_write() failed");
                break;
            }

        } else {
            n = write(conn->fd, conn->obuf + sent, conn->olen - sent);
            if (n < 0 && errno == EINTR) {
                n = 0;
                continue;
            }

            if (n <= 0) {
                rbacctl_io_error(conn, "%s", n == 0 ? "connection closed"
                                                    : strerror(errno));
                break;
            }
        }
    }

    if (sent < conn->olen) {
        rbacctl_io_close(conn);
        return -1;
    }

    conn->olen = 0;

    return 0;
}


int
rbacctl_send(rbacctl_conn_t *conn, int argc, const char **argv)
{
    int      len;
    char    *cmd, *nb;
    size_t   size;

    if (conn->fd == -1) {
        return -1;
    }

    len = redisFormatCommandArgv(&cmd, argc, argv, NULL);
    if (len < 0) {
        rbacctl_io_error(conn, "%s", "out of memory");
        return -1;
    }

    if (conn->olen + (size_t) len > conn->osize) {
        size = conn->osize ? conn->osize : 65536;
        while (size < conn->olen + (size_t) len) {
            size *= 2;
        }

        nb = realloc(conn->obuf, size);
        if (nb == NULL) {
            redisFreeCommand(cmd);
            rbacctl_io_error(conn, "%s", "out of memory");
            return -1;
        }

        conn->obuf = nb;
        conn->osize = size;
    }

    memcpy(conn->obuf + conn->olen, cmd, (size_t) len);
    conn->olen += (size_t) len;
    redisFreeCommand(cmd);

    return conn->olen >= 65536 ? rbacctl_flush(conn) : 0;
}


int
rbacctl_recv(rbacctl_conn_t *conn, redisReply **reply)
{
    char      buf[16384];
    void     *r;
    ssize_t   n;

    *reply = NULL;

    if (conn->olen && rbacctl_flush(conn) != 0) {
        return -1;
    }

    for ( ;; ) {
        if (conn->reader == NULL) {
            return -1;
        }

        if (redisReaderGetReply(conn->reader, &r) != REDIS_OK) {
            rbacctl_io_error(conn, "%s", "protocol error");
            rbacctl_io_close(conn);
            return -1;
        }

        if (r != NULL) {
            *reply = r;
            return 0;
        }

        if (conn->ssl) {
            errno = 0;      /* a stale EINTR must not read as this one's */
            n = SSL_read(conn->ssl, buf, sizeof(buf));
            if (n <= 0 && rbacctl_io_interrupted(conn, (int) n)) {
                continue;
            }

            if (n <= 0) {
                rbacctl_ssl_error(conn, "connection lost");
            }

        } else {
            n = read(conn->fd, buf, sizeof(buf));
            if (n < 0 && errno == EINTR) {
                continue;
            }

            if (n <= 0) {
                rbacctl_io_error(conn, "%s",
                                 n == 0 ? "connection closed by the server"
                                        : errno == EAGAIN ? "timed out"
                                                          : strerror(errno));
            }
        }

        if (n <= 0) {
            rbacctl_io_close(conn);
            return -1;
        }

        if (redisReaderFeed(conn->reader, buf, (size_t) n) != REDIS_OK) {
            rbacctl_io_error(conn, "%s", "out of memory");
            rbacctl_io_close(conn);
            return -1;
        }
    }
}


redisReply *
rbacctl_call(rbacctl_conn_t *conn, int argc, const char **argv)
{
    redisReply  *r;

    if (rbacctl_send(conn, argc, argv) != 0 || rbacctl_recv(conn, &r) != 0) {
        return NULL;
    }

    return r;
}


/*
 * AUTH [user] password on conn, when there is a password; RBACCTL_OK or
 * RBACCTL_FAIL after printing why (never the password).
 */
static int
rbacctl_auth(rbacctl_conn_t *conn, const char *user, const char *password)
{
    int          n;
    const char  *argv[3];
    redisReply  *r;

    if (password == NULL || password[0] == '\0') {
        return RBACCTL_OK;
    }

    n = 0;
    argv[n++] = "AUTH";
    if (user && user[0]) {
        argv[n++] = user;
    }
    argv[n++] = password;

    r = rbacctl_call(conn, n, argv);

    if (r && r->type == REDIS_REPLY_ERROR
        && strstr(r->str, "without any password"))
    {
        fprintf(stderr, "rbacctl: Redis at %s has no password set, "
                "but one was given\n", conn->where);
        freeReplyObject(r);
        return RBACCTL_FAIL;
    }

    return rbacctl_check_reply(conn, r, "AUTH");
}


/*
 * Asks the sentinels in turn for the master's address (a host name in the
 * answer is followed, as nginx does with a resolver).
 */
static int
rbacctl_sentinel(const char *list, const char *master, rbacctl_url_t *u,
    const rbacctl_tls_t *tls, const char *suser, const char *spass)
{
    char            buf[512], *p, *item, *save, *colon, *end;
    long            port;
    const char     *argv[3];
    redisReply     *r;
    rbacctl_conn_t  c;

    if (strlen(list) >= sizeof(buf)) {
        fprintf(stderr, "rbacctl: --sentinel: list too long\n");
        return RBACCTL_USAGE;
    }

    strcpy(buf, list);

    for (p = buf; (item = strtok_r(p, ",", &save)) != NULL; p = NULL) {
        colon = strrchr(item, ':');
        if (colon == NULL) {
            fprintf(stderr, "rbacctl: --sentinel: \"%s\" is not host:port\n",
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

        memset(&c, 0, sizeof(c));

        if (rbacctl_open(&c, item, (int) port, NULL, tls) != 0) {
            continue;
        }

        if (rbacctl_auth(&c, suser, spass) != RBACCTL_OK) {
            rbacctl_io_close(&c);
            continue;
        }

        argv[0] = "SENTINEL";
        argv[1] = "get-master-addr-by-name";
        argv[2] = master;

        r = rbacctl_call(&c, 3, argv);

        if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2
            && r->element[0]->type == REDIS_REPLY_STRING
            && r->element[1]->type == REDIS_REPLY_STRING
            && r->element[0]->len < sizeof(u->host))
        {
            strcpy(u->host, r->element[0]->str);
            u->port = atoi(r->element[1]->str);
            freeReplyObject(r);
            rbacctl_io_close(&c);
            return RBACCTL_OK;
        }

        if (r == NULL) {
            fprintf(stderr, "rbacctl: sentinel %s: %s\n", c.where,
                    c.errstr);

        } else if (r->type == REDIS_REPLY_ERROR) {
            fprintf(stderr, "rbacctl: sentinel %s: %s\n", c.where, r->str);

        } else {
            fprintf(stderr, "rbacctl: sentinel %s does not know master "
                    "\"%s\"\n", c.where, master);
        }

        if (r) {
            freeReplyObject(r);
        }
        rbacctl_io_close(&c);
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
                conn->errstr[0] ? conn->errstr : "no reply");
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


/* A password file's content, trailing newlines dropped, into out. */
static int
rbacctl_password_file(const rbacctl_args_t *a, const char *opt,
    const char *file, char *out, size_t size)
{
    char    *pw;
    size_t   n;

    pw = rbacctl_read_file(file, &n);
    if (pw == NULL) {
        return rbacctl_fail(a, RBACCTL_USAGE, "--%s %s: %s", opt, file,
                            strerror(errno));
    }

    while (n > 0 && (pw[n - 1] == '\n' || pw[n - 1] == '\r')) {
        pw[--n] = '\0';
    }

    if (n >= size) {
        free(pw);
        return rbacctl_fail(a, RBACCTL_USAGE, "--%s: password too long",
                            opt);
    }

    strcpy(out, pw);
    free(pw);

    return RBACCTL_OK;
}


/* The --tls* options into *tls, checked against each other. */
static int
rbacctl_connect_tls(const rbacctl_args_t *a, const rbacctl_url_t *u,
    rbacctl_tls_t *tls)
{
    memset(tls, 0, sizeof(*tls));
    tls->on = u->tls || rbacctl_flag(a, "tls");
    tls->ca = rbacctl_arg(a, "tls-ca");
    tls->cert = rbacctl_arg(a, "tls-cert");
    tls->key = rbacctl_arg(a, "tls-key");
    tls->server_name = rbacctl_arg(a, "tls-server-name");
    tls->insecure = rbacctl_flag(a, "tls-insecure");

    if (!tls->on && (tls->ca || tls->cert || tls->key || tls->server_name
                     || tls->insecure))
    {
        return rbacctl_fail(a, RBACCTL_USAGE, "--tls-* options need --tls "
                            "or a rediss:// URL");
    }

    if ((tls->key != NULL) != (tls->cert != NULL)) {
        return rbacctl_fail(a, RBACCTL_USAGE,
                            "--tls-cert and --tls-key go together");
    }

    return RBACCTL_OK;
}


/*
 * Where to connect and as whom: the URL in *u completed by the options
 * (--sentinel/--master ask the sentinels for the address; --db,
 * --password-file, --user).
 */
static int
rbacctl_connect_target(const rbacctl_args_t *a, rbacctl_url_t *u,
    const rbacctl_tls_t *tls)
{
    int          rc;
    long         db;
    char        *end, spass[256];
    const char  *sentinel, *master, *pwfile, *dbs, *user;

    sentinel = rbacctl_arg(a, "sentinel");
    master = rbacctl_arg(a, "master");
    pwfile = rbacctl_arg(a, "password-file");
    dbs = rbacctl_arg(a, "db");
    user = rbacctl_arg(a, "user");

    if ((sentinel == NULL) != (master == NULL)) {
        return rbacctl_fail(a, RBACCTL_USAGE,
                            "--sentinel and --master go together");
    }

    spass[0] = '\0';

    if (rbacctl_arg(a, "sentinel-password-file")) {
        rc = rbacctl_password_file(a, "sentinel-password-file",
                                   rbacctl_arg(a, "sentinel-password-file"),
                                   spass, sizeof(spass));
        if (rc != RBACCTL_OK) {
            return rc;
        }
    }

    if (sentinel) {
        rc = rbacctl_sentinel(sentinel, master, u, tls,
                              rbacctl_arg(a, "sentinel-user"), spass);
        if (rc != RBACCTL_OK) {
            return rc;
        }
        u->path[0] = '\0';
    }

    if (dbs) {
        db = strtol(dbs, &end, 10);
        if (*end || end == dbs || db < 0 || db > 100000) {
            return rbacctl_fail(a, RBACCTL_USAGE, "--db: not a number");
        }
        u->db = (int) db;
    }

    if (pwfile) {
        rc = rbacctl_password_file(a, "password-file", pwfile, u->password,
                                   sizeof(u->password));
        if (rc != RBACCTL_OK) {
            return rc;
        }
    }

    if (user) {
        if (strlen(user) >= sizeof(u->user)) {
            return rbacctl_fail(a, RBACCTL_USAGE, "--user: too long");
        }
        strcpy(u->user, user);
    }

    return RBACCTL_OK;
}


/*
 * The session on an open connection: AUTH, SELECT, PING and, for a master
 * the sentinels named (master non-NULL), ROLE.
 */
static int
rbacctl_connect_session(rbacctl_conn_t *conn, const rbacctl_url_t *u,
    const char *master)
{
    const char  *argv[2];
    char         dbbuf[16];
    redisReply  *r;

    if (rbacctl_auth(conn, u->user, u->password) != RBACCTL_OK) {
        return RBACCTL_FAIL;
    }

    if (u->db) {
        snprintf(dbbuf, sizeof(dbbuf), "%d", u->db);
        argv[0] = "SELECT";
        argv[1] = dbbuf;
        r = rbacctl_call(conn, 2, argv);
        if (rbacctl_check_reply(conn, r, "SELECT") != RBACCTL_OK) {
            return RBACCTL_FAIL;
        }
    }

    argv[0] = "PING";
    r = rbacctl_call(conn, 1, argv);
    if (rbacctl_check_reply(conn, r, "PING") != RBACCTL_OK) {
        return RBACCTL_FAIL;
    }

    if (master == NULL) {
        return RBACCTL_OK;
    }

    /* the sentinel's answer may be stale during a failover */
    argv[0] = "ROLE";
    r = rbacctl_call(conn, 1, argv);
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements > 0
        && r->element[0]->type == REDIS_REPLY_STRING
        && strcmp(r->element[0]->str, "master") != 0)
    {
        fprintf(stderr, "rbacctl: %s, given by the sentinels as master "
                "\"%s\", is a %s; retry after the failover\n",
                conn->where, master, r->element[0]->str);
        freeReplyObject(r);
        return RBACCTL_FAIL;
    }
    if (r) {
        freeReplyObject(r);
    }

    return RBACCTL_OK;
}


int
rbacctl_connect(const rbacctl_args_t *a, rbacctl_conn_t *conn)
{
    int             rc;
    const char     *url, *prefix;
    rbacctl_url_t   u;
    rbacctl_tls_t   tls;

    memset(conn, 0, sizeof(*conn));
    conn->fd = -1;

    url = rbacctl_arg(a, "redis");
    if (url == NULL) {
        url = getenv("RBAC_REDIS");
    }
    if (url == NULL || url[0] == '\0') {
        url = "redis://127.0.0.1:6379";
    }

    prefix = rbacctl_arg(a, "prefix");
    if (prefix == NULL) {
        prefix = "rbac:";
    }

    if (strlen(prefix) >= sizeof(conn->prefix) - 16) {
        return rbacctl_fail(a, RBACCTL_USAGE, "--prefix: too long");
    }
    strcpy(conn->prefix, prefix);

    if (rbacctl_url_parse(url, &u) != 0) {
        return rbacctl_fail(a, RBACCTL_USAGE, "bad Redis URL \"%s\" "
                            "(redis[s]://[[user]:password@]host:port[/db] "
                            "or unix:///path?db=N)", url);
    }

    rc = rbacctl_connect_tls(a, &u, &tls);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    rc = rbacctl_connect_target(a, &u, &tls);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    if (rbacctl_open(conn, u.host, u.port, u.path, &tls) != 0) {
        return RBACCTL_FAIL;
    }

    if (rbacctl_connect_session(conn, &u, rbacctl_arg(a, "sentinel")
                                          ? rbacctl_arg(a, "master") : NULL)
        != RBACCTL_OK)
    {
        rbacctl_io_close(conn);
        return RBACCTL_FAIL;
    }

    return RBACCTL_OK;
}


void
rbacctl_disconnect(rbacctl_conn_t *conn)
{
    rbacctl_io_close(conn);
}


redisReply *
rbacctl_cmd(rbacctl_conn_t *conn, int argc, const char **argv)
{
    redisReply  *r;

    r = rbacctl_call(conn, argc, argv);

    if (r == NULL) {
        fprintf(stderr, "rbacctl: Redis at %s: %s failed: %s\n", conn->where,
                argv[0], conn->errstr[0] ? conn->errstr : "no reply");
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
