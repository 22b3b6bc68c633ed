
/*
 * ngx_http_rbac_redis.h: the per-worker command connection to Redis (the
 * decision table): connect, AUTH, SELECT, reconnect with backoff, a cap on
 * commands in flight, and MGET of a batch of keys for one request.
 */


#ifndef _NGX_HTTP_RBAC_REDIS_H_INCLUDED_
#define _NGX_HTTP_RBAC_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <hiredis/hiredis.h>

#include "ngx_http_rbac_link.h"
#include "ngx_http_rbac_sentinel.h"


#define NGX_HTTP_RBAC_REDIS_MAX_INFLIGHT  1024


/* Where Redis is, as parsed from rbac_redis at configuration time. */
typedef struct {
    ngx_str_t                 name;         /* as written, for logs */
    ngx_str_t                 host;         /* NUL-terminated; or a name */
    ngx_int_t                 port;
    ngx_str_t                 unix_path;    /* NUL-terminated, or empty */
    ngx_uint_t                db;
    ngx_str_t                 user;         /* ACL user (user=); or empty */
    ngx_str_t                 password;     /* read from the file; or empty */
    ngx_str_t                 prefix;
    ngx_msec_t                timeout;
    ngx_http_rbac_sentinel_conf_t  *sentinel;  /* or NULL: host, port */
    ngx_http_rbac_tls_t      *tls;          /* or NULL: clear text */
    ngx_resolver_t           *resolver;     /* http's "resolver" */
    ngx_msec_t                resolver_timeout;
} ngx_http_rbac_redis_conf_t;


/*
 * Called once per batch with the MGET reply (an array, one element per key,
 * nil for a missing key), or with NULL when the command failed (connection
 * lost, error reply).  The reply is freed when the handler returns.
 */
typedef void (*ngx_http_rbac_reply_pt)(void *data, redisReply *reply);

/*
 * One command in flight.  Owned by the worker (ngx_alloc), freed by the
 * reply callback.  The request detaches itself by setting data to NULL
 * (ngx_http_rbac_redis_detach) when it ends or times out first; a late
 * reply is then dropped.
 */
typedef struct ngx_http_rbac_redis_s  ngx_http_rbac_redis_t;

typedef struct {
    ngx_http_rbac_reply_pt    handler;
    void                     *data;
    ngx_http_rbac_redis_t    *redis;
} ngx_http_rbac_pending_t;


/*
 * A message on <prefix>inv (the key that changed, prefix included, or
 * "*"), or NULL when the subscriber has just (re)subscribed.
 */
typedef void (*ngx_http_rbac_message_pt)(void *data, u_char *msg,
    size_t len);


/* Per worker, from init_process: allocates the manager and connects. */
ngx_http_rbac_redis_t *ngx_http_rbac_redis_create(ngx_cycle_t *cycle,
    ngx_http_rbac_redis_conf_t *conf);

/* Per worker, from init_process: the subscriber on <prefix>inv. */
ngx_http_rbac_redis_t *ngx_http_rbac_redis_subscribe(ngx_cycle_t *cycle,
    ngx_http_rbac_redis_conf_t *conf, ngx_http_rbac_message_pt handler,
    void *data);

/* From exit_process: closes the connection; pending commands get NULL. */
void ngx_http_rbac_redis_destroy(ngx_http_rbac_redis_t *rd);

/*
 * Sends MGET of prefix + keys[i].  Returns the pending command, or NULL
 * when Redis is not connected (and not connecting), too many commands are
 * in flight, or hiredis refused: the caller answers 503 at once.
 */
ngx_http_rbac_pending_t *ngx_http_rbac_redis_mget(ngx_http_rbac_redis_t *rd,
    ngx_str_t *keys, ngx_uint_t n, ngx_http_rbac_reply_pt handler,
    void *data, ngx_log_t *log);

/* The request no longer waits for this reply. */
#define ngx_http_rbac_redis_detach(p)  ((p)->data = NULL)


/* ngx_http_rbac_redis_conf.c */

/* rbac_redis: conf is the main conf, its `redis` is filled */
char *ngx_http_rbac_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/*
 * From init_main_conf: the http block's resolver for the host names of
 * Redis and of the sentinels; an error when one is a name and none is set.
 */
char *ngx_http_rbac_redis_resolver(ngx_conf_t *cf,
    ngx_http_rbac_redis_conf_t *rc);


#endif /* _NGX_HTTP_RBAC_REDIS_H_INCLUDED_ */
