
/*
 * ngx_http_rbac_cache.h: the shared-memory cache (rbac_cache_zone,
 * docs/cache.md §2): records in their parsed, compact form (or their absence)
 * and verified JWTs, by key, shared by every worker and kept across reloads.
 */


#ifndef _NGX_HTTP_RBAC_CACHE_H_INCLUDED_
#define _NGX_HTTP_RBAC_CACHE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_rbac_redis.h"


/* ngx_http_rbac_cache_get() */
#define NGX_HTTP_RBAC_CACHE_MISS    0
#define NGX_HTTP_RBAC_CACHE_FRESH   1
#define NGX_HTTP_RBAC_CACHE_STALE   2


typedef struct ngx_http_rbac_cache_sh_s  ngx_http_rbac_cache_sh_t;

typedef struct {
    ngx_http_rbac_cache_sh_t  *sh;
    ngx_slab_pool_t           *shpool;
    ngx_shm_zone_t            *shm_zone;
    ngx_msec_t                 ttl;
    ngx_msec_t                 stale;
    uint32_t                   source;      /* ngx_http_rbac_cache_source */
} ngx_http_rbac_cache_t;


/* rbac_cache_zone <name>:<size> [ttl=60s] [stale=300s] */
char *ngx_http_rbac_cache_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * Where the values come from (the Redis address, or the Sentinel master
 * name and sentinels; db; prefix), as a tag every entry carries: after a
 * reload to another source the old entries are misses, while old workers
 * still draining see only theirs.  Called once the http block is parsed.
 */
void ngx_http_rbac_cache_source(ngx_http_rbac_cache_t *cache,
    ngx_http_rbac_redis_conf_t *rc);

/*
 * Looks `key` up.  FRESH: younger than ttl and of the current epoch;
 * STALE (only when `stale` is set): older, or of an older epoch, but
 * younger than the stale window.  On FRESH or STALE *value is a copy in
 * `pool` (data NULL: the key is known to be absent) and *fetched, unless
 * NULL, when it was fetched (ngx_current_msec).  MISS otherwise, also when
 * the pool is out of memory.
 */
ngx_int_t ngx_http_rbac_cache_get(ngx_http_rbac_cache_t *cache,
    ngx_str_t *key, ngx_uint_t stale, ngx_pool_t *pool, ngx_str_t *value,
    ngx_msec_t *fetched);

/*
 * Stores `value` (data NULL: absent) under `key`, replacing what was
 * there, unless an invalidation arrived since `seq` was read (the value
 * may predate it).  `expire` (ngx_current_msec scale, 0: none) bounds the
 * entry's life below ttl, as a JWT's exp does.  Under memory pressure the
 * least recently used entries go; when even that fails nothing is stored.
 */
void ngx_http_rbac_cache_put(ngx_http_rbac_cache_t *cache, ngx_str_t *key,
    ngx_str_t *value, ngx_msec_t expire, ngx_atomic_uint_t seq);

/* The invalidation sequence: read before a fetch, given to put. */
ngx_atomic_uint_t ngx_http_rbac_cache_seq(ngx_http_rbac_cache_t *cache);

/* From the subscriber: one key gone (NULL: all, by a new epoch). */
void ngx_http_rbac_cache_invalidate(ngx_http_rbac_cache_t *cache,
    ngx_str_t *key);

/* For rbac_status: bytes held by entries, and the zone's size. */
void ngx_http_rbac_cache_bytes(ngx_http_rbac_cache_t *cache, size_t *used,
    size_t *total);


#endif /* _NGX_HTTP_RBAC_CACHE_H_INCLUDED_ */
