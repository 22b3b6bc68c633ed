
/*
 * ngx_http_rbac_link.c: a Redis connection on nginx's event loop (see
 * ngx_http_rbac_link.h).
 *
 * The steps: resolve the host name (nginx's resolver, when the host is
 * not numeric), connect (ngx_event_connect_peer), the TLS handshake
 * (ngx_ssl_create_connection, ngx_ssl_handshake) and the checks of the
 * server's certificate (SSL_get_verify_result, then the host name or the
 * address), then commands out of one buffer and replies through one
 * redisReader.  Reads go on until the socket is empty (nginx's events are
 * edge-triggered).
 *
 * Lifetime: a link is freed by ngx_http_rbac_link_close() or after its
 * failure has been reported; when that happens inside one of its own
 * handlers, the free waits until the handler has returned (busy).
 *
 * Debug messages ("rbac link <address>: ...") go to the owner's log: the
 * connection's own log only keeps nginx's reason of a failure.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>

#include "ngx_http_rbac_link.h"


#define NGX_HTTP_RBAC_LINK_READ  16384
#define NGX_HTTP_RBAC_LINK_WHY   256


typedef struct {
    ngx_queue_t                   queue;
    ngx_http_rbac_link_reply_pt   handler;
    void                         *data;
} ngx_http_rbac_link_cmd_t;


struct ngx_http_rbac_link_s {
    ngx_peer_connection_t         pc;
    ngx_log_t                     log;        /* nginx's messages: why */
    ngx_log_t                    *owner_log;

    ngx_http_rbac_link_state_pt   state;
    void                         *data;
    ngx_http_rbac_link_reply_pt   push;
    void                         *push_data;

    ngx_queue_t                   cmds;
    redisReader                  *reader;

    u_char                       *out;
    size_t                        out_len;
    size_t                        out_sent;
    size_t                        out_size;

    ngx_resolver_ctx_t           *rctx;
    ngx_resolver_t               *resolver;
    ngx_msec_t                    resolver_timeout;
    ngx_event_t                   done;       /* posted: report failure */

    ngx_http_rbac_tls_t          *tls;
    ngx_str_t                     host;       /* NUL-terminated copy */
    in_port_t                     port;
    ngx_str_t                     unix_path;  /* NUL-terminated copy */
    ngx_str_t                     name;       /* the address, for logs */
    u_char                        text[NGX_SOCKADDR_STRLEN];
    ngx_sockaddr_t                sockaddr;

    ngx_uint_t                    busy;
    u_char                        why[NGX_HTTP_RBAC_LINK_WHY];

    unsigned                      up:1;
    unsigned                      failed:1;
    unsigned                      closed:1;
};


static void ngx_http_rbac_link_resolved(ngx_resolver_ctx_t *ctx);
static void ngx_http_rbac_link_connect(ngx_http_rbac_link_t *lk);
static void ngx_http_rbac_link_connecting(ngx_event_t *ev);
static void ngx_http_rbac_link_handshaked(ngx_connection_t *c);
static ngx_int_t ngx_http_rbac_link_verify(ngx_http_rbac_link_t *lk,
    ngx_connection_t *c);
static void ngx_http_rbac_link_ready(ngx_http_rbac_link_t *lk);
static void ngx_http_rbac_link_read(ngx_event_t *ev);
static void ngx_http_rbac_link_write(ngx_event_t *ev);
static ngx_int_t ngx_http_rbac_link_flush(ngx_http_rbac_link_t *lk);
static void ngx_http_rbac_link_replies(ngx_http_rbac_link_t *lk);
static void ngx_http_rbac_link_fail(ngx_http_rbac_link_t *lk,
    const char *why);
static void ngx_http_rbac_link_report(ngx_event_t *ev);
static void ngx_http_rbac_link_shut(ngx_http_rbac_link_t *lk);
static void ngx_http_rbac_link_release(ngx_http_rbac_link_t *lk);
static void ngx_http_rbac_link_log(ngx_log_t *log, ngx_uint_t level,
    u_char *buf, size_t len);


ngx_http_rbac_link_t *
ngx_http_rbac_link_open(ngx_http_rbac_peer_t *peer,
    ngx_http_rbac_link_state_pt handler, void *data, ngx_log_t *log)
{
    u_char                *p;
    ngx_http_rbac_link_t  *lk;
    ngx_resolver_ctx_t    *ctx, temp;

    lk = ngx_calloc(sizeof(ngx_http_rbac_link_t) + peer->host.len + 1
                    + peer->unix_path.len + 1, log);
    if (lk == NULL) {
        return NULL;
    }

    lk->reader = redisReaderCreate();
    if (lk->reader == NULL) {
        ngx_free(lk);
        return NULL;
    }

    p = (u_char *) &lk[1];

    lk->host.data = p;
    lk->host.len = peer->host.len;
    if (peer->host.len) {
        p = ngx_cpymem(p, peer->host.data, peer->host.len);
    }
    *p++ = '\0';

    lk->unix_path.data = p;
    lk->unix_path.len = peer->unix_path.len;
    if (peer->unix_path.len) {
        p = ngx_cpymem(p, peer->unix_path.data, peer->unix_path.len);
    }
    *p = '\0';

    lk->port = peer->port;
    lk->tls = peer->tls;
    lk->resolver = peer->resolver;
    lk->resolver_timeout = peer->resolver_timeout;
    lk->state = handler;
    lk->data = data;
    lk->owner_log = log;
    ngx_queue_init(&lk->cmds);

    /* nginx's own messages on this connection become the reason */
    lk->log.log_level = NGX_LOG_ERR;
    lk->log.file = log->file;
    lk->log.writer = ngx_http_rbac_link_log;
    lk->log.wdata = lk;

    lk->done.handler = ngx_http_rbac_link_report;
    lk->done.data = lk;
    lk->done.log = log;

    lk->name = lk->unix_path.len ? lk->unix_path : lk->host;

    if (lk->unix_path.len) {
        lk->sockaddr.sockaddr_un.sun_family = AF_UNIX;
        (void) ngx_cpystrn((u_char *) lk->sockaddr.sockaddr_un.sun_path,
                           lk->unix_path.data,
                           sizeof(lk->sockaddr.sockaddr_un.sun_path));
        lk->pc.socklen = sizeof(struct sockaddr_un);
        ngx_http_rbac_link_connect(lk);
        return lk;
    }

    if (ngx_http_rbac_link_numeric(lk->host.data, lk->host.len)) {

        if (ngx_inet_addr(lk->host.data, lk->host.len) != INADDR_NONE) {
            lk->sockaddr.sockaddr_in.sin_family = AF_INET;
            lk->sockaddr.sockaddr_in.sin_addr.s_addr =
                                ngx_inet_addr(lk->host.data, lk->host.len);
            lk->pc.socklen = sizeof(struct sockaddr_in);

#if (NGX_HAVE_INET6)
        } else {
            lk->sockaddr.sockaddr_in6.sin6_family = AF_INET6;
            (void) ngx_inet6_addr(lk->host.data, lk->host.len,
                              lk->sockaddr.sockaddr_in6.sin6_addr.s6_addr);
            lk->pc.socklen = sizeof(struct sockaddr_in6);
#endif
        }

        ngx_inet_set_port(&lk->sockaddr.sockaddr, lk->port);
        ngx_http_rbac_link_connect(lk);
        return lk;
    }

    /* a host name: asked anew for every link, the resolver caches */

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0, "rbac link %V: resolving",
                   &lk->host);

    temp.name = lk->host;

    ctx = lk->resolver ? ngx_resolve_start(lk->resolver, &temp)
                       : NGX_NO_RESOLVER;

    if (ctx == NULL) {
        ngx_http_rbac_link_fail(lk, "resolver: out of memory");
        return lk;
    }

    if (ctx == NGX_NO_RESOLVER) {
        (void) ngx_snprintf(lk->why, sizeof(lk->why) - 1,
                            "cannot resolve the host name \"%V\": no "
                            "\"resolver\" in the http block%Z", &lk->host);
        ngx_http_rbac_link_fail(lk, (char *) lk->why);
        return lk;
    }

    ctx->name = lk->host;
    ctx->handler = ngx_http_rbac_link_resolved;
    ctx->data = lk;
    ctx->timeout = lk->resolver_timeout;
    ctx->cancelable = 1;

    lk->rctx = ctx;

    if (ngx_resolve_name(ctx) != NGX_OK) {
        lk->rctx = NULL;
        ngx_http_rbac_link_fail(lk, "resolver failed");
    }

    return lk;
}


ngx_uint_t
ngx_http_rbac_link_numeric(u_char *host, size_t len)
{
#if (NGX_HAVE_INET6)
    u_char  buf[16];
#endif

    if (len && ngx_inet_addr(host, len) != INADDR_NONE) {
        return 1;
    }

#if (NGX_HAVE_INET6)
    if (len && ngx_inet6_addr(host, len, buf) == NGX_OK) {
        return 1;
    }
#endif

    return 0;
}


static void
ngx_http_rbac_link_resolved(ngx_resolver_ctx_t *ctx)
{
    u_char                 msg[NGX_HTTP_RBAC_LINK_WHY], *last;
    ngx_http_rbac_link_t  *lk;

    lk = ctx->data;
    lk->rctx = NULL;

    if (ctx->state || ctx->naddrs == 0) {
        last = ngx_snprintf(msg, sizeof(msg) - 1,
                            "could not resolve \"%V\": %s", &lk->host,
                            ctx->state ? ngx_resolver_strerror(ctx->state)
                                       : "no address");
        *last = '\0';
        ngx_resolve_name_done(ctx);
        ngx_http_rbac_link_fail(lk, (char *) msg);
        return;
    }

    /* the resolver rotates its answers: the first one */
    ngx_memcpy(&lk->sockaddr, ctx->addrs[0].sockaddr,
               ngx_min(ctx->addrs[0].socklen, sizeof(ngx_sockaddr_t)));
    lk->pc.socklen = ctx->addrs[0].socklen;
    ngx_inet_set_port(&lk->sockaddr.sockaddr, lk->port);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, lk->owner_log, 0,
                   "rbac link %V: resolved, %ui address(es)", &lk->host,
                   ctx->naddrs);

    ngx_resolve_name_done(ctx);

    ngx_http_rbac_link_connect(lk);
}


static void
ngx_http_rbac_link_connect(ngx_http_rbac_link_t *lk)
{
    ngx_int_t          rc;
    ngx_connection_t  *c;

    if (lk->unix_path.len == 0) {
        lk->name.data = lk->text;
        lk->name.len = ngx_sock_ntop(&lk->sockaddr.sockaddr, lk->pc.socklen,
                                     lk->text, sizeof(lk->text), 1);
    }

    lk->pc.sockaddr = &lk->sockaddr.sockaddr;
    lk->pc.name = &lk->name;
    lk->pc.get = ngx_event_get_peer;
    lk->pc.log = &lk->log;
    lk->pc.log_error = NGX_ERROR_ERR;
    lk->pc.so_keepalive = lk->unix_path.len == 0;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, lk->owner_log, 0,
                   "rbac link %V: connecting", &lk->name);

    rc = ngx_event_connect_peer(&lk->pc);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        ngx_http_rbac_link_fail(lk, rc == NGX_BUSY ? "no free connection"
                                                   : "connect() failed");
        return;
    }

    c = lk->pc.connection;
    c->data = lk;
    c->read->handler = ngx_http_rbac_link_connecting;
    c->write->handler = ngx_http_rbac_link_connecting;

    /* connected at once (a unix socket): go on from the loop */
    if (rc == NGX_OK) {
        ngx_post_event(c->write, &ngx_posted_events);
    }
}


/* The connect finished (or failed): TLS next, or the link is up. */
static void
ngx_http_rbac_link_connecting(ngx_event_t *ev)
{
    int                    err;
    socklen_t              len;
    ngx_int_t              rc;
    ngx_connection_t      *c;
    ngx_http_rbac_link_t  *lk;

    c = ev->data;
    lk = c->data;

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    if (err) {
        (void) ngx_connection_error(c, err, "connect() failed");
        ngx_http_rbac_link_fail(lk, "connect() failed");
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, lk->owner_log, 0,
                   "rbac link %V: connected%s", &lk->name,
                   lk->tls ? ", TLS handshake" : "");

    if (lk->tls == NULL) {
        ngx_http_rbac_link_ready(lk);
        return;
    }

    c->read->handler = ngx_http_rbac_link_read;
    c->write->handler = ngx_http_rbac_link_write;

    /* ngx_ssl allocates from the connection's pool (destroyed by shut) */
    c->pool = ngx_create_pool(512, c->log);

    if (c->pool == NULL
        || ngx_ssl_create_connection(lk->tls->ssl, c, NGX_SSL_CLIENT)
           != NGX_OK)
    {
        ngx_http_rbac_link_fail(lk, "cannot create an SSL connection");
        return;
    }

#ifdef SSL_CTRL_SET_TLSEXT_HOSTNAME

    /* SNI: a host name only (RFC 6066) */

    if (lk->tls->server_name) {
        if (lk->tls->name.len) {
            (void) SSL_set_tlsext_host_name(c->ssl->connection,
                                            (char *) lk->tls->name.data);

        } else if (lk->host.len
                   && !ngx_http_rbac_link_numeric(lk->host.data,
                                                  lk->host.len))
        {
            (void) SSL_set_tlsext_host_name(c->ssl->connection,
                                            (char *) lk->host.data);
        }
    }

#endif

    lk->busy++;

    rc = ngx_ssl_handshake(c);

    if (rc == NGX_AGAIN) {
        c->ssl->handler = ngx_http_rbac_link_handshaked;

    } else {
        ngx_http_rbac_link_handshaked(c);
    }

    lk->busy--;

    if (lk->closed && lk->busy == 0) {
        ngx_http_rbac_link_release(lk);
    }
}


static void
ngx_http_rbac_link_handshaked(ngx_connection_t *c)
{
    ngx_http_rbac_link_t  *lk;

    lk = c->data;

    if (!c->ssl->handshaked) {
        ngx_http_rbac_link_fail(lk, "SSL handshake failed");
        return;
    }

    if (ngx_http_rbac_link_verify(lk, c) != NGX_OK) {
        return;
    }

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, lk->owner_log, 0,
                   "rbac link %V: TLS handshake done: %s, %s%s", &lk->name,
                   SSL_get_version(c->ssl->connection),
                   SSL_get_cipher_name(c->ssl->connection),
                   lk->tls->verify ? ", certificate verified" : "");

    c->read->handler = ngx_http_rbac_link_read;
    c->write->handler = ngx_http_rbac_link_write;

    ngx_http_rbac_link_ready(lk);
}


/* As proxy_ssl_verify: the chain, then the name (or the address). */
static ngx_int_t
ngx_http_rbac_link_verify(ngx_http_rbac_link_t *lk, ngx_connection_t *c)
{
    long        rc;
    X509       *cert;
    u_char      msg[NGX_HTTP_RBAC_LINK_WHY], *last;
    ngx_int_t   ok;
    ngx_str_t  *name;

    if (!lk->tls->verify) {
        return NGX_OK;
    }

    rc = SSL_get_verify_result(c->ssl->connection);

    if (rc != X509_V_OK) {
        last = ngx_snprintf(msg, sizeof(msg) - 1,
                            "SSL certificate verify error: (%l:%s)",
                            rc, X509_verify_cert_error_string(rc));
        *last = '\0';
        ngx_http_rbac_link_fail(lk, (char *) msg);
        return NGX_ERROR;
    }

    name = lk->tls->name.len ? &lk->tls->name : &lk->host;

    if (name->len == 0) {
        /* a unix socket with no ssl_name: the chain is all there is */
        return NGX_OK;
    }

    if (name == &lk->host && ngx_http_rbac_link_numeric(name->data,
                                                        name->len))
    {
        cert = SSL_get_peer_certificate(c->ssl->connection);
        ok = cert != NULL
             && X509_check_ip_asc(cert, (char *) name->data, 0) == 1;
        X509_free(cert);

    } else {
        ok = ngx_ssl_check_host(c, name) == NGX_OK;
    }

    if (!ok) {
        last = ngx_snprintf(msg, sizeof(msg) - 1,
                            "SSL certificate does not match \"%V\"", name);
        *last = '\0';
        ngx_http_rbac_link_fail(lk, (char *) msg);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_rbac_link_ready(ngx_http_rbac_link_t *lk)
{
    ngx_connection_t  *c;

    c = lk->pc.connection;

    c->read->handler = ngx_http_rbac_link_read;
    c->write->handler = ngx_http_rbac_link_write;

    lk->up = 1;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, lk->owner_log, 0,
                   "rbac link %V: up", &lk->name);

    lk->busy++;
    lk->state(lk, NGX_OK, NULL, lk->data);
    lk->busy--;

    if (lk->closed) {
        if (lk->busy == 0) {
            ngx_http_rbac_link_release(lk);
        }

        return;
    }

    /* what was queued meanwhile, and replies already here */

    if (lk->out_len) {
        ngx_post_event(c->write, &ngx_posted_events);
    }

    if (c->read->ready) {
        ngx_post_event(c->read, &ngx_posted_events);

    } else if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_rbac_link_fail(lk, "cannot watch the connection");
    }
}


void
ngx_http_rbac_link_close(ngx_http_rbac_link_t *lk)
{
    if (lk == NULL || lk->closed) {
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, lk->owner_log, 0,
                   "rbac link %V: closed", &lk->name);

    lk->closed = 1;
    lk->state = NULL;

    if (lk->done.posted) {
        ngx_delete_posted_event(&lk->done);
    }

    ngx_http_rbac_link_shut(lk);

    if (lk->busy == 0) {
        ngx_http_rbac_link_release(lk);
    }
}


ngx_int_t
ngx_http_rbac_link_send(ngx_http_rbac_link_t *lk,
    ngx_http_rbac_link_reply_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen)
{
    int                        len;
    char                      *cmd;
    u_char                    *out;
    size_t                     size;
    ngx_http_rbac_link_cmd_t  *q;

    if (lk->failed || lk->closed) {
        return NGX_ERROR;
    }

    q = ngx_alloc(sizeof(ngx_http_rbac_link_cmd_t), lk->owner_log);
    if (q == NULL) {
        return NGX_ERROR;
    }

    len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
    if (len < 0) {
        ngx_free(q);
        return NGX_ERROR;
    }

    if (lk->out_len + len > lk->out_size) {
        size = ngx_max(2 * lk->out_size, lk->out_len + len);
        size = ngx_max(size, 4096);

        out = ngx_alloc(size, lk->owner_log);
        if (out == NULL) {
            redisFreeCommand(cmd);
            ngx_free(q);
            return NGX_ERROR;
        }

        if (lk->out) {
            ngx_memcpy(out, lk->out + lk->out_sent,
                       lk->out_len - lk->out_sent);
            ngx_free(lk->out);
        }

        lk->out_len -= lk->out_sent;
        lk->out_sent = 0;
        lk->out = out;
        lk->out_size = size;
    }

    lk->out_len = ngx_cpymem(lk->out + lk->out_len, cmd, len) - lk->out;
    redisFreeCommand(cmd);

    q->handler = handler;
    q->data = data;
    ngx_queue_insert_tail(&lk->cmds, &q->queue);

    /* written from the loop: never inside a caller's own handler */
    if (lk->up && !lk->pc.connection->write->posted) {
        ngx_post_event(lk->pc.connection->write, &ngx_posted_events);
    }

    return NGX_OK;
}


/* AUTH [user] password (an ACL user, or the requirepass password). */
ngx_int_t
ngx_http_rbac_link_auth(ngx_http_rbac_link_t *lk, ngx_str_t *user,
    ngx_str_t *password, ngx_http_rbac_link_reply_pt handler, void *data)
{
    int          n;
    size_t       argvlen[3];
    const char  *argv[3];

    n = 0;
    argv[n] = "AUTH";
    argvlen[n++] = 4;

    if (user->len) {
        argv[n] = (const char *) user->data;
        argvlen[n++] = user->len;
    }

    argv[n] = (const char *) password->data;
    argvlen[n++] = password->len;

    return ngx_http_rbac_link_send(lk, handler, data, n, argv, argvlen);
}


void
ngx_http_rbac_link_push(ngx_http_rbac_link_t *lk,
    ngx_http_rbac_link_reply_pt handler, void *data)
{
    lk->push = handler;
    lk->push_data = data;
}


void *
ngx_http_rbac_link_data(ngx_http_rbac_link_t *lk)
{
    return lk->data;
}


static void
ngx_http_rbac_link_write(ngx_event_t *ev)
{
    ngx_connection_t      *c;
    ngx_http_rbac_link_t  *lk;

    c = ev->data;
    lk = c->data;

    if (!lk->up) {
        /* the TLS handshake is in charge until then */
        return;
    }

    if (ngx_http_rbac_link_flush(lk) != NGX_OK) {
        ngx_http_rbac_link_fail(lk, "send failed");
    }
}


static ngx_int_t
ngx_http_rbac_link_flush(ngx_http_rbac_link_t *lk)
{
    ssize_t            n;
    ngx_connection_t  *c;

    c = lk->pc.connection;

    while (lk->out_sent < lk->out_len) {
        n = c->send(c, lk->out + lk->out_sent, lk->out_len - lk->out_sent);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        lk->out_sent += n;
    }

    if (lk->out_sent == lk->out_len) {
        lk->out_sent = 0;
        lk->out_len = 0;
    }

    return ngx_handle_write_event(c->write, 0);
}


static void
ngx_http_rbac_link_read(ngx_event_t *ev)
{
    ssize_t                n;
    ngx_connection_t      *c;
    ngx_http_rbac_link_t  *lk;
    u_char                 buf[NGX_HTTP_RBAC_LINK_READ];

    c = ev->data;
    lk = c->data;

    if (!lk->up) {
        return;
    }

    lk->busy++;

    for ( ;; ) {
        n = c->recv(c, buf, sizeof(buf));

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
                ngx_http_rbac_link_fail(lk, "cannot watch the connection");
            }

            break;
        }

        if (n == 0) {
            ngx_http_rbac_link_fail(lk, "connection closed by the server");
            break;
        }

        if (n == NGX_ERROR) {
            ngx_http_rbac_link_fail(lk, "recv() failed");
            break;
        }

        if (redisReaderFeed(lk->reader, (char *) buf, n) != REDIS_OK) {
            ngx_http_rbac_link_fail(lk, "out of memory");
            break;
        }

        ngx_http_rbac_link_replies(lk);

        if (lk->closed || lk->failed) {
            break;
        }
    }

    lk->busy--;

    if (lk->closed && lk->busy == 0) {
        ngx_http_rbac_link_release(lk);
    }
}


/* Every complete reply to its handler, in order. */
static void
ngx_http_rbac_link_replies(ngx_http_rbac_link_t *lk)
{
    void                         *reply, *data;
    ngx_queue_t                  *q;
    ngx_http_rbac_link_cmd_t     *cmd;
    ngx_http_rbac_link_reply_pt   handler;

    for ( ;; ) {
        if (redisReaderGetReply(lk->reader, &reply) != REDIS_OK) {
            ngx_http_rbac_link_fail(lk, lk->reader->errstr[0]
                                        ? lk->reader->errstr
                                        : "protocol error");
            return;
        }

        if (reply == NULL) {
            return;
        }

        if (!ngx_queue_empty(&lk->cmds)) {
            q = ngx_queue_head(&lk->cmds);
            ngx_queue_remove(q);
            cmd = ngx_queue_data(q, ngx_http_rbac_link_cmd_t, queue);
            handler = cmd->handler;
            data = cmd->data;
            ngx_free(cmd);

        } else {
            handler = lk->push;
            data = lk->push_data;
        }

        if (handler != NULL) {
            handler(lk, reply, data);
        }

        freeReplyObject(reply);

        if (lk->closed || lk->failed) {
            return;
        }
    }
}


/*
 * Something went wrong: the connection is closed now, the handlers hear
 * of it from the loop (the caller may be inside one of them).
 */
static void
ngx_http_rbac_link_fail(ngx_http_rbac_link_t *lk, const char *why)
{
    if (lk->failed || lk->closed) {
        return;
    }

    lk->failed = 1;

    /* nginx's own message says more (the errno, the SSL error) */
    if (lk->why[0] == '\0') {
        (void) ngx_cpystrn(lk->why, (u_char *) why, sizeof(lk->why));
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, lk->owner_log, 0,
                   "rbac link %V: failed: %s", &lk->name, lk->why);

    ngx_http_rbac_link_shut(lk);

    ngx_post_event(&lk->done, &ngx_posted_events);
}


static void
ngx_http_rbac_link_report(ngx_event_t *ev)
{
    ngx_http_rbac_link_t  *lk;

    lk = ev->data;

    lk->busy++;

    if (lk->state != NULL) {
        lk->state(lk, NGX_ERROR, (char *) lk->why, lk->data);
    }

    lk->busy--;

    lk->closed = 1;

    if (lk->busy == 0) {
        ngx_http_rbac_link_release(lk);
    }
}


/* Closes the connection; the handlers of pending commands get NULL. */
static void
ngx_http_rbac_link_shut(ngx_http_rbac_link_t *lk)
{
    ngx_pool_t                *pool;
    ngx_queue_t               *q;
    ngx_connection_t          *c;
    ngx_http_rbac_link_cmd_t  *cmd;

    if (lk->rctx != NULL) {
        ngx_resolve_name_done(lk->rctx);
        lk->rctx = NULL;
    }

    c = lk->pc.connection;

    if (c != NULL) {
        lk->pc.connection = NULL;

        if (c->ssl) {
            c->ssl->no_wait_shutdown = 1;
            c->ssl->no_send_shutdown = 1;
            (void) ngx_ssl_shutdown(c);
        }

        pool = c->pool;
        ngx_close_connection(c);

        if (pool != NULL) {
            ngx_destroy_pool(pool);
        }
    }

    lk->up = 0;

    lk->busy++;

    while (!ngx_queue_empty(&lk->cmds)) {
        q = ngx_queue_head(&lk->cmds);
        ngx_queue_remove(q);
        cmd = ngx_queue_data(q, ngx_http_rbac_link_cmd_t, queue);

        if (cmd->handler != NULL) {
            cmd->handler(lk, NULL, cmd->data);
        }

        ngx_free(cmd);
    }

    lk->busy--;
}


static void
ngx_http_rbac_link_release(ngx_http_rbac_link_t *lk)
{
    if (lk->done.posted) {
        ngx_delete_posted_event(&lk->done);
    }

    redisReaderFree(lk->reader);

    if (lk->out) {
        ngx_free(lk->out);
    }

    ngx_free(lk);
}


/*
 * The log of the link's connection: nginx's messages about it ("connect()
 * failed (111: Connection refused)", "SSL_do_handshake() failed (...)")
 * are kept, the first one, as the reason of the failure, without the
 * time, level and pid.
 */
static void
ngx_http_rbac_link_log(ngx_log_t *log, ngx_uint_t level, u_char *buf,
    size_t len)
{
    u_char                *p, *last;
    ngx_http_rbac_link_t  *lk;

    lk = log->wdata;

    if (lk->why[0] != '\0' || lk->failed || lk->closed) {
        return;
    }

    last = buf + len;

    while (last > buf && (last[-1] == LF || last[-1] == CR)) {
        last--;
    }

    p = ngx_strlchr(buf, last, ']');
    p = p ? ngx_strlchr(p, last, ':') : NULL;

    if (p == NULL || p + 2 > last) {
        return;
    }

    p += 2;

    len = ngx_min((size_t) (last - p), sizeof(lk->why) - 1);
    ngx_memcpy(lk->why, p, len);
    lk->why[len] = '\0';
}
