
/*
 * ngx_http_rbac_fetch.c: the records a request needs, by key.  The handler
 * asks for each record it needs (ngx_http_rbac_get: the ones not yet known
 * are noted as wanted), then fetches all the wanted ones at once
 * (ngx_http_rbac_fetch).  Each key is looked up in the shared-memory
 * cache first; the keys it misses go to Redis in one MGET.
 *
 * Misses are coalesced per worker: a key already asked for by another
 * request is not asked again; the request waits on that key's flight.
 * A flight belongs to the worker, not to a request, so a request that
 * goes away never strands the others: the reply fills the cache and every
 * request still waiting gets its own copy of the record.
 *
 * When Redis fails, ngx_http_rbac_fetch_stale serves what the cache holds
 * within its stale window.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_rbac_module.h"


/* One key in flight in this worker. */
typedef struct {
    ngx_str_node_t              sn;           /* the key; bytes follow */
    ngx_queue_t                 waiters;      /* ngx_http_rbac_waiter_t */
    ngx_atomic_uint_t           seq;          /* cache seq when sent */
    unsigned                    detached:1;   /* out of the tree */
} ngx_http_rbac_flight_t;

/* One MGET: its flights, in the order of the command's keys. */
typedef struct {
    ngx_http_rbac_main_conf_t  *rmcf;
    ngx_log_t                  *log;
    ngx_atomic_uint_t           seq;          /* cache, before sending */
    ngx_uint_t                  n;
    ngx_http_rbac_flight_t     *flights[1];
} ngx_http_rbac_batch_t;


static ngx_int_t ngx_http_rbac_want(ngx_http_rbac_ctx_t *ctx,
    ngx_str_t *key);
static ngx_http_rbac_record_t *ngx_http_rbac_find(ngx_http_rbac_ctx_t *ctx,
    ngx_str_t *key);
static ngx_int_t ngx_http_rbac_wait(ngx_http_rbac_ctx_t *ctx,
    ngx_uint_t index, ngx_http_rbac_flight_t *flight);
static ngx_http_rbac_flight_t *ngx_http_rbac_flight(
    ngx_http_rbac_main_conf_t *rmcf, ngx_str_t *key, ngx_atomic_uint_t seq,
    ngx_uint_t create, ngx_log_t *log);
static void ngx_http_rbac_flight_land(ngx_http_rbac_batch_t *batch,
    ngx_http_rbac_flight_t *flight, redisReply *value);
static void ngx_http_rbac_batch_reply(void *data, redisReply *reply);


/* From init_process: this worker's table of keys in flight. */
void
ngx_http_rbac_flights_init(ngx_http_rbac_main_conf_t *rmcf)
{
    ngx_rbtree_init(&rmcf->flights, &rmcf->flight_sentinel,
                    ngx_str_rbtree_insert_value);
}


static ngx_http_rbac_record_t *
ngx_http_rbac_find(ngx_http_rbac_ctx_t *ctx, ngx_str_t *key)
{
    ngx_uint_t               i;
    ngx_http_rbac_record_t  *rec;

    rec = ctx->records.elts;

    for (i = 0; i < ctx->records.nelts; i++) {
        if (rec[i].key.len == key->len
            && ngx_memcmp(rec[i].key.data, key->data, key->len) == 0)
        {
            return &rec[i];
        }
    }

    return NULL;
}


void *
ngx_http_rbac_get(ngx_http_rbac_ctx_t *ctx, ngx_uint_t *state,
    const char *kind, ngx_str_t *a, ngx_str_t *b)
{
    u_char     *p, buf[NGX_HTTP_RBAC_MAX_KEY];
    ngx_str_t   key;

    key.data = buf;
    p = ngx_cpymem(buf, kind, ngx_strlen(kind));

    if (a != NULL) {
        if (a->len > RBAC_MAX_NAME) {
            *state = NGX_HTTP_RBAC_ABSENT;
            return NULL;
        }

        p = ngx_cpymem(p, a->data, a->len);
    }

    if (b != NULL) {
        if (b->len > RBAC_MAX_NAME) {
            *state = NGX_HTTP_RBAC_ABSENT;
            return NULL;
        }

        *p++ = ':';
        p = ngx_cpymem(p, b->data, b->len);
    }

    key.len = p - buf;

    return ngx_http_rbac_get_key(ctx, state, &key);
}


void *
ngx_http_rbac_get_key(ngx_http_rbac_ctx_t *ctx, ngx_uint_t *state,
    ngx_str_t *key)
{
    void        *rec;
    ngx_uint_t   fetched;

    rec = ngx_http_rbac_record(ctx, key, &fetched);

    if (fetched) {
        *state = rec != NULL ? NGX_HTTP_RBAC_PRESENT : NGX_HTTP_RBAC_ABSENT;
        return rec;
    }

    if (ngx_http_rbac_want(ctx, key) != NGX_OK) {
        ctx->failed = 1;
    }

    ctx->need++;
    *state = NGX_HTTP_RBAC_PENDING;

    return NULL;
}


/*
 * Notes that the request needs `key` (without the prefix).  NGX_OK when it
 * is already known or now queued for the next fetch; NGX_ERROR when out of
 * memory or over NGX_HTTP_RBAC_MAX_RECORDS (a record naming too many roles
 * or orgs).
 */
static ngx_int_t
ngx_http_rbac_want(ngx_http_rbac_ctx_t *ctx, ngx_str_t *key)
{
    ngx_http_rbac_record_t  *rec;

    if (ngx_http_rbac_find(ctx, key) != NULL) {
        return NGX_OK;
    }

    if (ctx->records.nelts >= NGX_HTTP_RBAC_MAX_RECORDS) {
        ngx_log_error(NGX_LOG_ERR, ctx->request->connection->log, 0,
                      "rbac: a request needs more than %d records",
                      NGX_HTTP_RBAC_MAX_RECORDS);
        return NGX_ERROR;
    }

    /* made on the first record: a decision from the memo wants none */
    if (ctx->records.nalloc == 0
        && ngx_array_init(&ctx->records, ctx->request->pool, 8,
                          sizeof(ngx_http_rbac_record_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    rec = ngx_array_push(&ctx->records);
    if (rec == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(rec, sizeof(ngx_http_rbac_record_t));

    rec->key.data = ngx_pstrdup(ctx->request->pool, key);
    if (rec->key.data == NULL) {
        return NGX_ERROR;
    }

    rec->key.len = key->len;

    return NGX_OK;
}


/*
 * The parsed record for `key`, or NULL.  *fetched says whether NULL means
 * "absent in Redis" (1) or "not fetched yet" (0).
 */
void *
ngx_http_rbac_record(ngx_http_rbac_ctx_t *ctx, ngx_str_t *key,
    ngx_uint_t *fetched)
{
    ngx_http_rbac_record_t  *rec;

    rec = ngx_http_rbac_find(ctx, key);

    if (rec == NULL) {
        *fetched = 0;
        return NULL;
    }

    *fetched = rec->fetched;

    return rec->rec;
}


/*
 * Gets every wanted key.  NGX_OK: everything was in the cache; NGX_AGAIN:
 * keys are in flight and ctx->wake will be posted (all landed) or fire
 * (timeout); NGX_ERROR: Redis is not usable right now.
 */
ngx_int_t
ngx_http_rbac_fetch(ngx_http_rbac_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ngx_str_t                   value, *keys;
    ngx_msec_t                  fetched;
    ngx_uint_t                  i, n;
    ngx_atomic_uint_t           seq;
    ngx_http_request_t         *r;
    ngx_http_rbac_batch_t      *batch;
    ngx_http_rbac_cache_t      *cache;
    ngx_http_rbac_flight_t     *flight;
    ngx_http_rbac_record_t     *rec;
    ngx_http_rbac_main_conf_t  *rmcf;

    r = ctx->request;
    rmcf = ngx_http_get_module_main_conf(r, ngx_http_rbac_module);
    cache = rmcf->cache;

    /* before any lookup: a value read after this may predate a change */
    seq = cache ? ngx_http_rbac_cache_seq(cache) : 0;

    batch = NULL;
    n = 0;

    for (i = 0; i < ctx->records.nelts; i++) {
        rec = (ngx_http_rbac_record_t *) ctx->records.elts + i;

        if (rec->fetched || rec->waiting) {
            continue;
        }

        if (cache) {
            rc = ngx_http_rbac_cache_get(cache, &rec->key, 0, r->pool, &value,
                                         &fetched);

            if (rc == NGX_HTTP_RBAC_CACHE_FRESH) {
                rec->rec = value.data;
                rec->fetched = 1;
                ctx->used_cache = 1;

                /* the subject cached with a JWT lives ttl from the oldest */
                if ((ngx_msec_int_t) (fetched - ctx->born) < 0) {
                    ctx->born = fetched;
                }

                ngx_http_rbac_stat(NGX_HTTP_RBAC_STAT_HITS);
                ctx->hits++;
                continue;
            }
        }

        ngx_http_rbac_stat(NGX_HTTP_RBAC_STAT_MISSES);
        ctx->misses++;

        flight = ngx_http_rbac_flight(rmcf, &rec->key, seq, 0,
                                      r->connection->log);

        if (flight == NULL) {
            /* nobody asks for it yet: this request's MGET will */
            if (batch == NULL) {
                batch = ngx_alloc(sizeof(ngx_http_rbac_batch_t)
                                  + ctx->records.nelts
                                    * sizeof(ngx_http_rbac_flight_t *),
                                  r->connection->log);
                if (batch == NULL) {
                    goto failed;
                }

                batch->rmcf = rmcf;
                batch->log = ngx_cycle->log;
                batch->seq = seq;
                batch->n = 0;
            }

            flight = ngx_http_rbac_flight(rmcf, &rec->key, seq, 1,
                                          r->connection->log);
            if (flight == NULL) {
                goto failed;
            }

            batch->flights[n++] = flight;
            batch->n = n;
        }

        if (ngx_http_rbac_wait(ctx, i, flight) != NGX_OK) {
            goto failed;
        }
    }

    if (batch != NULL) {
        if (++ctx->rounds > NGX_HTTP_RBAC_MAX_ROUNDS) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "rbac: too many lookups for one request");
            goto failed;
        }

        keys = ngx_palloc(r->pool, n * sizeof(ngx_str_t));
        if (keys == NULL) {
            goto failed;
        }

        for (i = 0; i < n; i++) {
            keys[i] = batch->flights[i]->sn.str;
        }

        if (ngx_http_rbac_redis_mget(rmcf->conn, keys, n,
                                     ngx_http_rbac_batch_reply, batch,
                                     r->connection->log)
            == NULL)
        {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "rbac: redis %V unavailable", &rmcf->redis.name);
            goto failed;
        }
    }

    if (ctx->nwaiting == 0) {
        return NGX_OK;
    }

    if (!ctx->wake.timer_set) {
        ngx_add_timer(&ctx->wake, rmcf->redis.timeout);
    }

    return NGX_AGAIN;

failed:

    ngx_http_rbac_fetch_cancel(ctx);

    if (batch != NULL) {
        /* never sent: its flights have only this request's waiters, gone */
        for (i = 0; i < batch->n; i++) {
            flight = batch->flights[i];
            ngx_rbtree_delete(&rmcf->flights, &flight->sn.node);
            ngx_free(flight);
        }

        ngx_free(batch);
    }

    return NGX_ERROR;
}


static ngx_int_t
ngx_http_rbac_wait(ngx_http_rbac_ctx_t *ctx, ngx_uint_t index,
    ngx_http_rbac_flight_t *flight)
{
    ngx_http_rbac_waiter_t  *w;
    ngx_http_rbac_record_t  *rec;

    w = ngx_palloc(ctx->request->pool, sizeof(ngx_http_rbac_waiter_t));
    if (w == NULL) {
        return NGX_ERROR;
    }

    w->ctx = ctx;
    w->index = index;
    w->linked = 1;
    w->next = ctx->waiters;
    ctx->waiters = w;

    ngx_queue_insert_tail(&flight->waiters, &w->queue);

    rec = ctx->records.elts;
    rec[index].waiting = 1;
    ctx->nwaiting++;

    /* asked of Redis, by this request or another ($rbac_cache "miss") */
    ctx->used_redis = 1;

    return NGX_OK;
}


/*
 * The flight of `key` sent under invalidation sequence `seq`, or NULL;
 * with `create`, a new one when none.  A flight sent before an
 * invalidation may bring the old value: it is left to its waiters and
 * taken out of the tree, so that nobody joins it any more.
 */
static ngx_http_rbac_flight_t *
ngx_http_rbac_flight(ngx_http_rbac_main_conf_t *rmcf, ngx_str_t *key,
    ngx_atomic_uint_t seq, ngx_uint_t create, ngx_log_t *log)
{
    uint32_t                 hash;
    ngx_http_rbac_flight_t  *f;

    hash = ngx_crc32_short(key->data, key->len);

    f = (ngx_http_rbac_flight_t *) ngx_str_rbtree_lookup(&rmcf->flights, key,
                                                         hash);

    if (f != NULL && f->seq != seq) {
        ngx_rbtree_delete(&rmcf->flights, &f->sn.node);
        f->detached = 1;
        f = NULL;
    }

    if (f != NULL || !create) {
        return f;
    }

    f = ngx_alloc(sizeof(ngx_http_rbac_flight_t) + key->len, log);
    if (f == NULL) {
        return NULL;
    }

    f->sn.node.key = hash;
    f->sn.str.data = (u_char *) (f + 1);
    f->sn.str.len = key->len;
    ngx_memcpy(f->sn.str.data, key->data, key->len);
    ngx_queue_init(&f->waiters);
    f->seq = seq;
    f->detached = 0;

    ngx_rbtree_insert(&rmcf->flights, &f->sn.node);

    return f;
}


/* The request went away, or timed out: it waits for nothing any more. */
void
ngx_http_rbac_fetch_cancel(ngx_http_rbac_ctx_t *ctx)
{
    ngx_http_rbac_waiter_t  *w;
    ngx_http_rbac_record_t  *rec;

    rec = ctx->records.elts;

    for (w = ctx->waiters; w; w = w->next) {
        if (w->linked) {
            ngx_queue_remove(&w->queue);
            w->linked = 0;
            rec[w->index].waiting = 0;
        }
    }

    ctx->waiters = NULL;
    ctx->nwaiting = 0;
}


/* In hiredis's callback: every flight of the batch lands. */
static void
ngx_http_rbac_batch_reply(void *data, redisReply *reply)
{
    ngx_http_rbac_batch_t *batch = data;

    ngx_uint_t   i;
    redisReply  *value;

    if (reply != NULL
        && (reply->type != REDIS_REPLY_ARRAY || reply->elements != batch->n))
    {
        ngx_log_error(NGX_LOG_ERR, batch->log, 0,
                      "rbac: unexpected MGET reply from redis");
        reply = NULL;
    }

    for (i = 0; i < batch->n; i++) {
        value = (reply != NULL) ? reply->element[i] : NULL;
        ngx_http_rbac_flight_land(batch, batch->flights[i], value);
    }

    ngx_free(batch);
}


/*
 * One key's value (NULL: Redis failed): parsed once, stored in the cache,
 * copied to every request that waits for it, which wakes when it has all
 * it waited for.
 */
static void
ngx_http_rbac_flight_land(ngx_http_rbac_batch_t *batch,
    ngx_http_rbac_flight_t *flight, redisReply *value)
{
    void                    *blob, *copy;
    size_t                   size;
    rbac_rc_t                rc;
    ngx_str_t                v;
    rbac_str_t               key;
    rbac_err_t               err;
    ngx_uint_t               ok;
    ngx_queue_t             *q;
    rbac_allocator_t         a;
    ngx_http_rbac_ctx_t     *ctx;
    ngx_http_rbac_waiter_t  *w;
    ngx_http_rbac_record_t  *rec;

    blob = NULL;
    size = 0;
    ok = 0;

    if (value == NULL) {
        /* Redis failed: the waiters try the cache's stale entries */

    } else if (value->type == REDIS_REPLY_NIL) {
        ok = 1;

    } else if (value->type != REDIS_REPLY_STRING) {
        ngx_log_error(NGX_LOG_ERR, batch->log, 0,
                      "rbac: redis key \"%V\" is not a string",
                      &flight->sn.str);

    } else {
        key.data = (const char *) flight->sn.str.data;
        key.len = flight->sn.str.len;

        a.alloc = ngx_http_rbac_heap_alloc;
        a.free = ngx_http_rbac_heap_free;
        a.ud = batch->log;

        ngx_memzero(&err, sizeof(rbac_err_t));

        /* the kind, type and id its key names (a member twice: malformed) */
        rc = rbac_record_parse_key(key, value->str, value->len, &a, &blob,
                                   &err);

        if (rc == RBAC_OK) {
            ok = 1;
            size = ((rbac_rec_hdr_t *) blob)->size;

        } else {
            blob = NULL;
            ngx_log_error(NGX_LOG_ERR, batch->log, 0,
                          "rbac: malformed record \"%V\": %s", &flight->sn.str,
                          err.msg[0] ? err.msg : rbac_strerror(rc));
        }
    }

    if (ok && batch->rmcf->cache != NULL) {
        v.data = blob;
        v.len = size;
        ngx_http_rbac_cache_put(batch->rmcf->cache, &flight->sn.str, &v, 0,
                                batch->seq);
    }

    while (!ngx_queue_empty(&flight->waiters)) {
        q = ngx_queue_head(&flight->waiters);
        w = ngx_queue_data(q, ngx_http_rbac_waiter_t, queue);

        ngx_queue_remove(q);
        w->linked = 0;

        ctx = w->ctx;
        rec = (ngx_http_rbac_record_t *) ctx->records.elts + w->index;
        rec->waiting = 0;

        if (!ok) {
            ctx->redis_error = 1;
            ctx->malformed |= (value != NULL);

        } else if (blob == NULL) {
            rec->rec = NULL;
            rec->fetched = 1;

        } else {
            copy = ngx_palloc(ctx->request->pool, size);
            if (copy == NULL) {
                ctx->failed = 1;

            } else {
                ngx_memcpy(copy, blob, size);
                rec->rec = copy;
                rec->fetched = 1;
            }
        }

        if (--ctx->nwaiting == 0) {
            if (ctx->wake.timer_set) {
                ngx_del_timer(&ctx->wake);
            }

            ngx_post_event(&ctx->wake, &ngx_posted_events);
        }
    }

    if (!flight->detached) {
        ngx_rbtree_delete(&batch->rmcf->flights, &flight->sn.node);
    }

    ngx_free(flight);

    if (blob != NULL) {
        ngx_free(blob);
    }
}


/*
 * Redis failed: every record still missing from the cache's entries
 * within the stale window.  NGX_OK when all were there ($rbac_cache is
 * then "stale"), NGX_ERROR otherwise.
 */
ngx_int_t
ngx_http_rbac_fetch_stale(ngx_http_rbac_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ngx_str_t                   value;
    ngx_uint_t                  i;
    ngx_http_rbac_record_t     *rec;
    ngx_http_rbac_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(ctx->request, ngx_http_rbac_module);

    if (rmcf->cache == NULL || ctx->malformed) {
        return NGX_ERROR;
    }

    for (i = 0; i < ctx->records.nelts; i++) {
        rec = (ngx_http_rbac_record_t *) ctx->records.elts + i;

        if (rec->fetched) {
            continue;
        }

        rc = ngx_http_rbac_cache_get(rmcf->cache, &rec->key, 1,
                                     ctx->request->pool, &value, NULL);

        if (rc == NGX_HTTP_RBAC_CACHE_MISS) {
            return NGX_ERROR;
        }

        rec->rec = value.data;
        rec->fetched = 1;
        ctx->used_stale = 1;
        ngx_http_rbac_stat(NGX_HTTP_RBAC_STAT_STALE);
    }

    return NGX_OK;
}


/*
 * A message on <prefix>inv: the Redis key that changed (prefix included),
 * or "*" for everything.  Anything else is taken as "*": when in doubt,
 * forget.
 */
void
ngx_http_rbac_invalidated(ngx_http_rbac_main_conf_t *rmcf, u_char *msg,
    size_t len)
{
    ngx_str_t   key, *prefix;

    ngx_http_rbac_stat(NGX_HTTP_RBAC_STAT_INVALIDATIONS);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "rbac: invalidate \"%*s\"", len, msg);

    if (rmcf->cache == NULL) {
        return;
    }

    prefix = &rmcf->redis.prefix;

    if (len > prefix->len && ngx_strncmp(msg, prefix->data, prefix->len) == 0)
    {
        key.data = msg + prefix->len;
        key.len = len - prefix->len;
        ngx_http_rbac_cache_invalidate(rmcf->cache, &key);
        return;
    }

    ngx_http_rbac_cache_invalidate(rmcf->cache, NULL);
}


/*
 * A request refused (503) or answered stale because Redis was away.  The
 * first one is logged at once; the rest are counted and summed up in at
 * most one line a second per worker, so an outage under load does not
 * write a line per request.
 */
void
ngx_http_rbac_note_down(ngx_http_request_t *r, ngx_uint_t stale)
{
    ngx_http_rbac_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_rbac_module);

    if (stale) {
        rmcf->down_stale++;

    } else {
        rmcf->down_refused++;
    }

    if (rmcf->down_logged != 0
        && ngx_current_msec - rmcf->down_logged < 1000)
    {
        return;
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "rbac: redis %V unavailable: %ui requests refused, "
                  "%ui answered stale since the last such line",
                  &rmcf->redis.name, rmcf->down_refused, rmcf->down_stale);

    rmcf->down_logged = ngx_current_msec;
    rmcf->down_refused = 0;
    rmcf->down_stale = 0;
}
