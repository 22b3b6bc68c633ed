
/*
 * ngx_http_rbac_sentinel.h: where the Redis master is, asked of Redis
 * Sentinel (rbac_redis sentinel=... master=...) without blocking a worker.
 *
 * Each Redis connection of a worker (ngx_http_rbac_redis_t) owns one of
 * these.  Before every connect it asks the configured sentinels in turn
 * (SENTINEL get-master-addr-by-name) over links on nginx's event loop
 * (ngx_http_rbac_link.h: TLS and the resolver as for Redis itself), one
 * sentinel at a time, each under a timer; the answer may be a numeric
 * address or a host name (resolved by the link).  Once connected, it
 * checks with ROLE that the node is a master, and asks the sentinels
 * again now and then: when they name another master, the connection is
 * told to reconnect.
 */


#ifndef _NGX_HTTP_RBAC_SENTINEL_H_INCLUDED_
#define _NGX_HTTP_RBAC_SENTINEL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <hiredis/hiredis.h>

#include "ngx_http_rbac_link.h"


#define NGX_HTTP_RBAC_SENTINEL_MAX      8

/* a query round asked again at most this often while connected */
#define NGX_HTTP_RBAC_SENTINEL_RECHECK  5000


typedef struct {
    ngx_str_t                 name;         /* ip:port as written */
    ngx_str_t                 host;         /* NUL-terminated; or a name */
    ngx_int_t                 port;
} ngx_http_rbac_sentinel_addr_t;

/* From the configuration (rbac_redis sentinel=... master=...). */
typedef struct {
    ngx_http_rbac_sentinel_addr_t  addrs[NGX_HTTP_RBAC_SENTINEL_MAX];
    ngx_uint_t                     naddrs;
    ngx_str_t                      master;  /* NUL-terminated */
    ngx_str_t                      user;    /* sentinel_user=, or empty */
    ngx_str_t                      password; /* sentinel_password= file */
} ngx_http_rbac_sentinel_conf_t;


typedef struct ngx_http_rbac_sentinel_s  ngx_http_rbac_sentinel_t;

/*
 * What the connection learns, always from an nginx event or timer or from
 * one of its own hiredis callbacks (ROLE), never from inside
 * ngx_http_rbac_sentinel_master():
 *
 *   NGX_OK        the sentinels answered: connect now (the address is
 *                 ready for ngx_http_rbac_sentinel_master());
 *   NGX_ERROR     no sentinel answered: retry after a backoff;
 *   NGX_DECLINED  the sentinels now name another master: reconnect;
 *   NGX_ABORT     the node connected to says it is not a master (ROLE):
 *                 reconnect, slowly.
 */
typedef void (*ngx_http_rbac_sentinel_handler_pt)(void *data, ngx_int_t rc);


/* Per worker, for one connection; timeout bounds each sentinel asked. */
ngx_http_rbac_sentinel_t *ngx_http_rbac_sentinel_create(ngx_cycle_t *cycle,
    ngx_http_rbac_sentinel_conf_t *conf, ngx_msec_t timeout,
    ngx_http_rbac_peer_t *peer, ngx_http_rbac_sentinel_handler_pt handler,
    void *data);

/* From exit_process: closes a query in progress; no handler call after. */
void ngx_http_rbac_sentinel_destroy(ngx_http_rbac_sentinel_t *s);

/*
 * NGX_OK with the master's address (numeric or a host name) when the
 * sentinels have just answered (each answer is used for one connect
 * only); otherwise starts asking them and returns NGX_AGAIN: the handler
 * follows.
 */
ngx_int_t ngx_http_rbac_sentinel_master(ngx_http_rbac_sentinel_t *s,
    ngx_str_t *host, in_port_t *port);

/* Queues ROLE on a new connection to the master (after AUTH, SELECT). */
void ngx_http_rbac_sentinel_role(ngx_http_rbac_sentinel_t *s,
    ngx_http_rbac_link_t *lk);

/* While connected (health timer): asks again if the last round is old. */
void ngx_http_rbac_sentinel_check(ngx_http_rbac_sentinel_t *s);


#endif /* _NGX_HTTP_RBAC_SENTINEL_H_INCLUDED_ */
