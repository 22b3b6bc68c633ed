
/*
 * ngx_http_rbac_cache.c: rbac_cache_zone.  One shared-memory zone per
 * nginx: a slab pool, an rbtree by key and an LRU queue (absences kept at
 * its evicting end), and an epoch in the zone header.  An entry holds one
 * value (a parsed record, the fact that a key is absent, or what a
 * verified JWT said), the time it was fetched, the epoch it was fetched in
 * and the source (Redis, db, prefix) it came from.  Bumping the epoch makes
 * every entry stale at once; the zone and its entries survive "nginx -s
 * reload", but only the entries of the configured source are answers.
 *
 * The mutex is held only to look up, copy out and store; never across I/O.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_rbac_module.h"


struct ngx_http_rbac_cache_sh_s {
    ngx_rbtree_t                rbtree;
    ngx_rbtree_node_t           sentinel;
    ngx_queue_t                 lru;          /* values, then absences */
    ngx_queue_t                 absent;       /* the mark between them */
    ngx_atomic_t                epoch;
    ngx_atomic_t                seq;          /* invalidations so far */
    size_t                      bytes;        /* held by entries */
};

typedef struct {
    ngx_rbtree_node_t           node;         /* key: crc32 of the key */
    ngx_queue_t                 queue;
    ngx_msec_t                  fetched;
    ngx_msec_t                  expire;       /* 0: ttl only */
    uint32_t                    epoch;        /* sh->epoch, truncated */
    uint32_t                    source;       /* cache->source at put */
    uint32_t                    size;         /* of this allocation */
    uint32_t                    vlen;
    uint16_t                    klen;
    uint8_t                     absent;
    u_char                      data[1];      /* key, then the value */
} ngx_http_rbac_cache_node_t;


#define ngx_http_rbac_cache_voff(klen)                                       \
    ngx_align(offsetof(ngx_http_rbac_cache_node_t, data) + (klen), 8)


static ngx_int_t ngx_http_rbac_cache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_rbac_cache_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_http_rbac_cache_node_t *ngx_http_rbac_cache_lookup(
    ngx_http_rbac_cache_t *cache, ngx_str_t *key, uint32_t hash);
static void ngx_http_rbac_cache_remove(ngx_http_rbac_cache_t *cache,
    ngx_http_rbac_cache_node_t *cn);
static void ngx_http_rbac_cache_touch(ngx_http_rbac_cache_t *cache,
    ngx_http_rbac_cache_node_t *cn);
static void *ngx_http_rbac_cache_alloc(ngx_http_rbac_cache_t *cache,
    size_t size);


char *
ngx_http_rbac_cache_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rbac_main_conf_t *rmcf = conf;

    u_char                 *p;
    ssize_t                 size;
    ngx_str_t              *value, name, s;
    ngx_int_t               ms;
    ngx_uint_t              i;
    ngx_http_rbac_cache_t  *cache;

    if (rmcf->cache != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    p = (u_char *) ngx_strchr(value[1].data, ':');
    if (p == NULL || p == value[1].data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_cache_zone\": invalid zone \"%V\" "
                           "(expected name:size)", &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data;
    name.len = p - value[1].data;

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_cache_zone\": invalid size \"%V\"", &s);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_cache_zone\": zone \"%V\" is too small "
                           "(at least %uzk)", &name, 8 * ngx_pagesize / 1024);
        return NGX_CONF_ERROR;
    }

    cache = ngx_pcalloc(cf->pool, sizeof(ngx_http_rbac_cache_t));
    if (cache == NULL) {
        return NGX_CONF_ERROR;
    }

    cache->ttl = 60000;
    cache->stale = 300000;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "ttl=", 4) == 0) {
            s.data = value[i].data + 4;
            s.len = value[i].len - 4;

            ms = ngx_parse_time(&s, 0);
            if (ms == NGX_ERROR || ms == 0) {
                goto invalid;
            }

            cache->ttl = (ngx_msec_t) ms;
            continue;
        }

        if (ngx_strncmp(value[i].data, "stale=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            ms = ngx_parse_time(&s, 0);
            if (ms == NGX_ERROR) {
                goto invalid;
            }

            cache->stale = (ngx_msec_t) ms;
            continue;
        }

        goto invalid;
    }

    cache->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                            &ngx_http_rbac_module);
    if (cache->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (cache->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_cache_zone\": zone \"%V\" is already "
                           "used", &name);
        return NGX_CONF_ERROR;
    }

    cache->shm_zone->init = ngx_http_rbac_cache_init_zone;
    cache->shm_zone->data = cache;

    rmcf->cache = cache;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"rbac_cache_zone\": invalid parameter \"%V\"",
                       &value[i]);
    return NGX_CONF_ERROR;
}


void
ngx_http_rbac_cache_source(ngx_http_rbac_cache_t *cache,
    ngx_http_rbac_redis_conf_t *rc)
{
    uint32_t    crc;
    ngx_uint_t  i;

    /* the name: the address as written, or "master <name>" (sentinels) */

    ngx_crc32_init(crc);
    ngx_crc32_update(&crc, rc->name.data, rc->name.len);

    for (i = 0; rc->sentinel != NULL && i < rc->sentinel->naddrs; i++) {
        ngx_crc32_update(&crc, (u_char *) "\0", 1);
        ngx_crc32_update(&crc, rc->sentinel->addrs[i].name.data,
                         rc->sentinel->addrs[i].name.len);
    }

    ngx_crc32_update(&crc, (u_char *) "\0", 1);
    ngx_crc32_update(&crc, (u_char *) &rc->db, sizeof(rc->db));
    ngx_crc32_update(&crc, rc->prefix.data, rc->prefix.len);
    ngx_crc32_final(crc);

    cache->source = crc;
}


static ngx_int_t
ngx_http_rbac_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_rbac_cache_t  *ocache = data;

    size_t                  len;
    ngx_http_rbac_cache_t  *cache;

    cache = shm_zone->data;

    if (ocache) {
        /* a reload: keep the entries (new subscribers bump the epoch) */
        cache->sh = ocache->sh;
        cache->shpool = ocache->shpool;
        return NGX_OK;
    }

    cache->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        cache->sh = cache->shpool->data;
        return NGX_OK;
    }

    cache->sh = ngx_slab_calloc(cache->shpool,
                                sizeof(ngx_http_rbac_cache_sh_t));
    if (cache->sh == NULL) {
        return NGX_ERROR;
    }

    cache->shpool->data = cache->sh;

    ngx_rbtree_init(&cache->sh->rbtree, &cache->sh->sentinel,
                    ngx_http_rbac_cache_insert_value);
    ngx_queue_init(&cache->sh->lru);
    ngx_queue_insert_tail(&cache->sh->lru, &cache->sh->absent);
    cache->sh->epoch = 1;

    len = sizeof(" in rbac_cache_zone \"\"") + shm_zone->shm.name.len;

    cache->shpool->log_ctx = ngx_slab_alloc(cache->shpool, len);
    if (cache->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(cache->shpool->log_ctx, " in rbac_cache_zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone evicts: that is not worth a log line each time */
    cache->shpool->log_nomem = 0;

    return NGX_OK;
}


static void
ngx_http_rbac_cache_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t           **p;
    ngx_http_rbac_cache_node_t   *cn, *cnt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            cn = (ngx_http_rbac_cache_node_t *) node;
            cnt = (ngx_http_rbac_cache_node_t *) temp;

            p = (ngx_memn2cmp(cn->data, cnt->data, cn->klen, cnt->klen) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


static ngx_http_rbac_cache_node_t *
ngx_http_rbac_cache_lookup(ngx_http_rbac_cache_t *cache, ngx_str_t *key,
    uint32_t hash)
{
    ngx_int_t                    rc;
    ngx_rbtree_node_t           *node, *sentinel;
    ngx_http_rbac_cache_node_t  *cn;

    node = cache->sh->rbtree.root;
    sentinel = cache->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        cn = (ngx_http_rbac_cache_node_t *) node;

        rc = ngx_memn2cmp(key->data, cn->data, key->len, cn->klen);

        if (rc == 0) {
            return cn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


ngx_int_t
ngx_http_rbac_cache_get(ngx_http_rbac_cache_t *cache, ngx_str_t *key,
    ngx_uint_t stale, ngx_pool_t *pool, ngx_str_t *value,
    ngx_msec_t *fetched)
{
    u_char                      *p;
    uint32_t                     hash;
    ngx_int_t                    rc;
    ngx_msec_t                   age;
    ngx_http_rbac_cache_node_t  *cn;

    hash = ngx_crc32_short(key->data, key->len);

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_rbac_cache_lookup(cache, key, hash);

    if (cn == NULL) {
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return NGX_HTTP_RBAC_CACHE_MISS;
    }

    if (cn->source != cache->source) {
        /* another Redis, db or prefix: not this configuration's */
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return NGX_HTTP_RBAC_CACHE_MISS;
    }

    age = ngx_current_msec - cn->fetched;

    if (cn->expire && (ngx_msec_int_t) (cn->expire - ngx_current_msec) <= 0) {
        /* past a JWT's exp: gone for good */
        ngx_http_rbac_cache_remove(cache, cn);
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return NGX_HTTP_RBAC_CACHE_MISS;
    }

    if (age < cache->ttl && cn->epoch == (uint32_t) cache->sh->epoch) {
        rc = NGX_HTTP_RBAC_CACHE_FRESH;

    } else if (stale && age < cache->stale) {
        rc = NGX_HTTP_RBAC_CACHE_STALE;

    } else {
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return NGX_HTTP_RBAC_CACHE_MISS;
    }

    ngx_queue_remove(&cn->queue);
    ngx_http_rbac_cache_touch(cache, cn);

    if (fetched != NULL) {
        *fetched = cn->fetched;
    }

    value->len = cn->vlen;
    value->data = NULL;

    if (!cn->absent) {
        p = ngx_palloc(pool, ngx_max(cn->vlen, 1));
        if (p == NULL) {
            ngx_shmtx_unlock(&cache->shpool->mutex);
            return NGX_HTTP_RBAC_CACHE_MISS;
        }

        ngx_memcpy(p, (u_char *) cn + ngx_http_rbac_cache_voff(cn->klen),
                   cn->vlen);
        value->data = p;
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return rc;
}


void
ngx_http_rbac_cache_put(ngx_http_rbac_cache_t *cache, ngx_str_t *key,
    ngx_str_t *value, ngx_msec_t expire, ngx_atomic_uint_t seq)
{
    size_t                       size, vlen;
    uint32_t                     hash;
    ngx_http_rbac_cache_node_t  *cn;

    if (key->len > 0xffff) {
        return;
    }

    vlen = value->data ? value->len : 0;
    size = ngx_http_rbac_cache_voff(key->len) + vlen;

    /* a value that big would evict much and may still find no room */
    if (size > cache->shm_zone->shm.size / 8) {
        return;
    }

    hash = ngx_crc32_short(key->data, key->len);

    ngx_shmtx_lock(&cache->shpool->mutex);

    /* read again under the lock: an invalidation may have come between */
    if (cache->sh->seq != seq) {
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return;
    }

    cn = ngx_http_rbac_cache_lookup(cache, key, hash);
    if (cn != NULL) {
        ngx_http_rbac_cache_remove(cache, cn);
    }

    cn = ngx_http_rbac_cache_alloc(cache, size);
    if (cn == NULL) {
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return;
    }

    cn->node.key = hash;
    cn->fetched = ngx_current_msec;
    cn->expire = expire;
    cn->epoch = (uint32_t) cache->sh->epoch;
    cn->source = cache->source;
    cn->size = (uint32_t) size;
    cn->vlen = (uint32_t) vlen;
    cn->klen = (uint16_t) key->len;
    cn->absent = (value->data == NULL);

    ngx_memcpy(cn->data, key->data, key->len);

    if (vlen) {
        ngx_memcpy((u_char *) cn + ngx_http_rbac_cache_voff(key->len),
                   value->data, vlen);
    }

    ngx_rbtree_insert(&cache->sh->rbtree, &cn->node);
    ngx_http_rbac_cache_touch(cache, cn);

    cache->sh->bytes += size;

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


/*
 * Under the mutex: cn becomes the most recent of its kind.  Absences are
 * kept after the values, where eviction starts: ids nobody has (a flood of
 * made-up tokens) then evict one another, not the records in use, and an
 * absence in use outlives the made-up ones.
 */
static void
ngx_http_rbac_cache_touch(ngx_http_rbac_cache_t *cache,
    ngx_http_rbac_cache_node_t *cn)
{
    ngx_queue_insert_after(cn->absent ? &cache->sh->absent : &cache->sh->lru,
                           &cn->queue);
}


/*
 * Under the mutex: room for `size` bytes.  The oldest entries go first
 * (counted as evictions); when the zone cannot give the room even empty
 * of its old entries, NULL: the caller stores nothing and still answers.
 */
static void *
ngx_http_rbac_cache_alloc(ngx_http_rbac_cache_t *cache, size_t size)
{
    void                        *p;
    ngx_uint_t                   n;
    ngx_queue_t                 *q;
    ngx_http_rbac_cache_node_t  *cn;

    for (n = 0; n < 64; n++) {
        p = ngx_slab_alloc_locked(cache->shpool, size);
        if (p != NULL) {
            return p;
        }

        q = ngx_queue_last(&cache->sh->lru);

        if (q == &cache->sh->absent) {
            q = ngx_queue_prev(q);
        }

        if (q == &cache->sh->lru) {
            break;
        }

        cn = ngx_queue_data(q, ngx_http_rbac_cache_node_t, queue);

        ngx_http_rbac_cache_remove(cache, cn);
        ngx_http_rbac_stat(NGX_HTTP_RBAC_STAT_EVICTIONS);
    }

    return NULL;
}


static void
ngx_http_rbac_cache_remove(ngx_http_rbac_cache_t *cache,
    ngx_http_rbac_cache_node_t *cn)
{
    ngx_queue_remove(&cn->queue);
    ngx_rbtree_delete(&cache->sh->rbtree, &cn->node);
    cache->sh->bytes -= cn->size;
    ngx_slab_free_locked(cache->shpool, cn);
}


ngx_atomic_uint_t
ngx_http_rbac_cache_seq(ngx_http_rbac_cache_t *cache)
{
    return cache->sh->seq;
}


void
ngx_http_rbac_cache_invalidate(ngx_http_rbac_cache_t *cache, ngx_str_t *key)
{
    ngx_http_rbac_cache_node_t  *cn;

    ngx_shmtx_lock(&cache->shpool->mutex);

    cache->sh->seq++;

    if (key == NULL) {
        cache->sh->epoch++;

    } else {
        cn = ngx_http_rbac_cache_lookup(cache, key,
                                        ngx_crc32_short(key->data, key->len));
        if (cn != NULL) {
            ngx_http_rbac_cache_remove(cache, cn);
        }
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


void
ngx_http_rbac_cache_bytes(ngx_http_rbac_cache_t *cache, size_t *used,
    size_t *total)
{
    *used = cache->sh->bytes;
    *total = cache->shm_zone->shm.size;
}
