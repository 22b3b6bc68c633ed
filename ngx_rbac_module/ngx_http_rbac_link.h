
/*
 * ngx_http_rbac_link.h: one connection to a Redis server (or a sentinel)
 * on nginx's own event loop: host name resolved with nginx's resolver,
 * ngx_event_connect_peer(), TLS with ngx_ssl (as proxy_ssl_* does), and
 * hiredis for what it does without I/O: redisFormatCommandArgv() and the
 * redisReader parser.
 *
 * Commands may be sent before the link is up: they go out once it is.
 * Replies come back in order, each to the handler of its command; a
 * reply that answers no command (a pub/sub message) goes to the push
 * handler.  What goes wrong (resolving, connecting, the TLS handshake or
 * the server's certificate, the connection later) is reported once, with
 * the reason, through the state handler, from a posted event; nginx's own
 * messages about the connection are not written to the error log but
 * kept as that reason, so that the owner logs it at the level it chooses.
 */


#ifndef _NGX_HTTP_RBAC_LINK_H_INCLUDED_
#define _NGX_HTTP_RBAC_LINK_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <hiredis/hiredis.h>


/* TLS towards Redis, from the configuration (rbac_redis ssl ...). */
typedef struct {
    ngx_ssl_t                *ssl;
    ngx_str_t                 name;         /* ssl_name=, or empty: host */
    ngx_flag_t                verify;       /* ssl_verify= (on) */
    ngx_flag_t                server_name;  /* ssl_server_name= (on) */
} ngx_http_rbac_tls_t;


/* Where to connect; the strings are copied by ngx_http_rbac_link_open(). */
typedef struct {
    ngx_str_t                 host;         /* numeric or a host name */
    in_port_t                 port;
    ngx_str_t                 unix_path;    /* or empty */
    ngx_http_rbac_tls_t      *tls;          /* or NULL: clear text */
    ngx_resolver_t           *resolver;     /* for a host name */
    ngx_msec_t                resolver_timeout;
} ngx_http_rbac_peer_t;


typedef struct ngx_http_rbac_link_s  ngx_http_rbac_link_t;

/*
 * The reply to a command (freed when the handler returns), or NULL when
 * the link closed or failed before it came.
 */
typedef void (*ngx_http_rbac_link_reply_pt)(ngx_http_rbac_link_t *lk,
    redisReply *reply, void *data);

/*
 * NGX_OK: the link is up (connected, TLS verified).  NGX_ERROR: it failed
 * or was lost, why says why; the link is freed when the handler returns
 * (the handlers of pending commands have had NULL before).
 */
typedef void (*ngx_http_rbac_link_state_pt)(ngx_http_rbac_link_t *lk,
    ngx_int_t rc, const char *why, void *data);


/* NULL only when out of memory; otherwise the state handler follows. */
ngx_http_rbac_link_t *ngx_http_rbac_link_open(ngx_http_rbac_peer_t *peer,
    ngx_http_rbac_link_state_pt handler, void *data, ngx_log_t *log);

/*
 * Intentional close, from anywhere (also from a handler of this link):
 * the handlers of pending commands get NULL at once, the state handler
 * is not called.
 */
void ngx_http_rbac_link_close(ngx_http_rbac_link_t *lk);

/* Queues a command; NGX_ERROR when the link failed or out of memory. */
ngx_int_t ngx_http_rbac_link_send(ngx_http_rbac_link_t *lk,
    ngx_http_rbac_link_reply_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen);

/* Queues AUTH [user] password. */
ngx_int_t ngx_http_rbac_link_auth(ngx_http_rbac_link_t *lk, ngx_str_t *user,
    ngx_str_t *password, ngx_http_rbac_link_reply_pt handler, void *data);

/* The handler of replies that answer no command (SUBSCRIBE messages). */
void ngx_http_rbac_link_push(ngx_http_rbac_link_t *lk,
    ngx_http_rbac_link_reply_pt handler, void *data);

/* The data given to ngx_http_rbac_link_open(). */
void *ngx_http_rbac_link_data(ngx_http_rbac_link_t *lk);

/* 1 when the host is a numeric IPv4 or IPv6 address. */
ngx_uint_t ngx_http_rbac_link_numeric(u_char *host, size_t len);


#endif /* _NGX_HTTP_RBAC_LINK_H_INCLUDED_ */
