
/*
 * ngx_http_rbac_stat.c: the counters every worker adds to (decisions, 401
 * reasons, cache hits and misses, invalidations, references, each
 * worker's Redis state), held in a small shared-memory zone of their own
 * that survives reloads.  It calls no other file of the module; the
 * rbac_status page (ngx_http_rbac_status.c) reads them.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_rbac_module.h"


static ngx_int_t ngx_http_rbac_stats_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);


/* In this process: set by the zone's init, before workers fork. */
static ngx_http_rbac_stats_t   *ngx_http_rbac_stats;
static ngx_slab_pool_t         *ngx_http_rbac_stats_pool;


/* From postconfiguration: the zone, once per configuration. */
ngx_int_t
ngx_http_rbac_stats_add(ngx_conf_t *cf)
{
    ngx_str_t        name = ngx_string("ngx_http_rbac_counters");
    ngx_shm_zone_t  *shm_zone;

    shm_zone = ngx_shared_memory_add(cf, &name, 16 * ngx_pagesize,
                                     &ngx_http_rbac_module);
    if (shm_zone == NULL) {
        return NGX_ERROR;
    }

    shm_zone->init = ngx_http_rbac_stats_init_zone;
    shm_zone->data = (void *) 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_rbac_stats_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t  *shpool;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (data == NULL || shpool->data == NULL) {
        shpool->data = ngx_slab_calloc(shpool, sizeof(ngx_http_rbac_stats_t));
        if (shpool->data == NULL) {
            return NGX_ERROR;
        }
    }

    /* a reload keeps the counts: Prometheus counters only go up */
    ngx_http_rbac_stats = shpool->data;
    ngx_http_rbac_stats_pool = shpool;

    return NGX_OK;
}


void
ngx_http_rbac_stat(ngx_uint_t which)
{
    if (ngx_http_rbac_stats != NULL) {
        (void) ngx_atomic_fetch_add(&ngx_http_rbac_stats->count[which], 1);
    }
}


/* A 401, by its reason (a closed set of short strings). */
void
ngx_http_rbac_stat_unauthorized(ngx_str_t *reason)
{
    size_t                  len;
    ngx_uint_t              i, n;
    ngx_http_rbac_stats_t  *st;

    st = ngx_http_rbac_stats;
    if (st == NULL) {
        return;
    }

    len = ngx_min(reason->len, NGX_HTTP_RBAC_REASON_LEN - 1);
    n = st->nreasons;

    for (i = 0; i < n; i++) {
        if (ngx_strncmp(st->reason[i], reason->data, len) == 0
            && st->reason[i][len] == '\0')
        {
            (void) ngx_atomic_fetch_add(&st->reason_n[i], 1);
            return;
        }
    }

    ngx_shmtx_lock(&ngx_http_rbac_stats_pool->mutex);

    for (i = 0; i < st->nreasons; i++) {
        if (ngx_strncmp(st->reason[i], reason->data, len) == 0
            && st->reason[i][len] == '\0')
        {
            break;
        }
    }

    if (i == st->nreasons && i < NGX_HTTP_RBAC_MAX_REASONS) {
        ngx_memcpy(st->reason[i], reason->data, len);
        st->reason[i][len] = '\0';
        ngx_memory_barrier();
        st->nreasons = i + 1;
    }

    ngx_shmtx_unlock(&ngx_http_rbac_stats_pool->mutex);

    if (i < NGX_HTTP_RBAC_MAX_REASONS) {
        (void) ngx_atomic_fetch_add(&st->reason_n[i], 1);
    }
}


/*
 * This worker's Redis state (NGX_HTTP_RBAC_W_*), in the slot of its
 * number.  After a reload an old worker shares its number with a new one:
 * only the process whose pid is in the slot writes to it.
 */
void
ngx_http_rbac_stat_worker(ngx_uint_t field, ngx_atomic_uint_t value)
{
    ngx_atomic_t  *w;

    if (ngx_http_rbac_stats == NULL || ngx_worker >= NGX_HTTP_RBAC_MAX_WORKERS
        || (ngx_process != NGX_PROCESS_WORKER
            && ngx_process != NGX_PROCESS_SINGLE))
    {
        return;
    }

    w = ngx_http_rbac_stats->worker[ngx_worker];

    if (field == NGX_HTTP_RBAC_W_PID && value != 0) {
        w[NGX_HTTP_RBAC_W_CONNECTED] = 0;
        w[NGX_HTTP_RBAC_W_SUBSCRIBED] = 0;
        w[NGX_HTTP_RBAC_W_INFLIGHT] = 0;
        w[NGX_HTTP_RBAC_W_PID] = value;
        return;
    }

    if (w[NGX_HTTP_RBAC_W_PID] == (ngx_atomic_uint_t) ngx_pid) {
        w[field] = value;
    }
}


ngx_http_rbac_stats_t *
ngx_http_rbac_stats_get(void)
{
    return ngx_http_rbac_stats;
}
