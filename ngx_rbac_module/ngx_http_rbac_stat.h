
/*
 * ngx_http_rbac_stat.h: the counters (ngx_http_rbac_stat.c), which every
 * file may add to and the rbac_status page reads.
 */


#ifndef _NGX_HTTP_RBAC_STAT_H_INCLUDED_
#define _NGX_HTTP_RBAC_STAT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* counters (the first four in $rbac_decision's order) */
#define NGX_HTTP_RBAC_STAT_ALLOW          0
#define NGX_HTTP_RBAC_STAT_DENY           1
#define NGX_HTTP_RBAC_STAT_SHADOW_DENY    2
#define NGX_HTTP_RBAC_STAT_ERROR          3
#define NGX_HTTP_RBAC_STAT_HITS           4
#define NGX_HTTP_RBAC_STAT_MISSES         5
#define NGX_HTTP_RBAC_STAT_STALE          6
#define NGX_HTTP_RBAC_STAT_EVICTIONS      7
#define NGX_HTTP_RBAC_STAT_INVALIDATIONS  8
#define NGX_HTTP_RBAC_STAT_REFS_RESOLVED  9
#define NGX_HTTP_RBAC_STAT_REFS_MISSING   10
#define NGX_HTTP_RBAC_STAT_REFS_WRONG_TYPE  11
#define NGX_HTTP_RBAC_STAT_IDS_REFUSED    12
#define NGX_HTTP_RBAC_STAT_N              13

/* each worker's Redis state */
#define NGX_HTTP_RBAC_W_PID               0
#define NGX_HTTP_RBAC_W_CONNECTED         1
#define NGX_HTTP_RBAC_W_SUBSCRIBED        2
#define NGX_HTTP_RBAC_W_INFLIGHT          3
#define NGX_HTTP_RBAC_W_N                 4

#define NGX_HTTP_RBAC_MAX_REASONS         32
#define NGX_HTTP_RBAC_REASON_LEN          40
#define NGX_HTTP_RBAC_MAX_WORKERS         64


typedef struct {
    ngx_atomic_t                count[NGX_HTTP_RBAC_STAT_N];
    ngx_atomic_t                nreasons;
    ngx_atomic_t                reason_n[NGX_HTTP_RBAC_MAX_REASONS];
    u_char                      reason[NGX_HTTP_RBAC_MAX_REASONS]
                                      [NGX_HTTP_RBAC_REASON_LEN];
    ngx_atomic_t                worker[NGX_HTTP_RBAC_MAX_WORKERS]
                                      [NGX_HTTP_RBAC_W_N];
} ngx_http_rbac_stats_t;


/* From postconfiguration: the counters' zone, once per configuration. */
ngx_int_t ngx_http_rbac_stats_add(ngx_conf_t *cf);

/* Adds one to a counter (NGX_HTTP_RBAC_STAT_*). */
void ngx_http_rbac_stat(ngx_uint_t which);

/* Adds one to the 401s of this reason. */
void ngx_http_rbac_stat_unauthorized(ngx_str_t *reason);

/* Sets a field (NGX_HTTP_RBAC_W_*) of this worker's Redis state. */
void ngx_http_rbac_stat_worker(ngx_uint_t field, ngx_atomic_uint_t value);

/* The counters, to read; NULL before the zone exists. */
ngx_http_rbac_stats_t *ngx_http_rbac_stats_get(void);


#endif /* _NGX_HTTP_RBAC_STAT_H_INCLUDED_ */
