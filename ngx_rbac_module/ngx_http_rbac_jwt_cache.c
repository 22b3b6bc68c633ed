
/*
 * ngx_http_rbac_jwt_cache.c: verified JWTs kept in the cache zone with
 * their subjects, so a token seen again is neither verified nor synced
 * from its IdP claims again while nothing it was built from changed.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_rbac_jwt.h"


/* A verified JWT in the cache: "\1jwt" and the cache key's digest. */
#define NGX_HTTP_RBAC_JWT_KEY_LEN  (4 + RBAC_SHA256_LEN)


/*
 * Its value: this header, the subject's user record (IdP sync applied;
 * `subject` bytes, none when the user is unknown), then sub.  The subject
 * holds while the cache's invalidation sequence is still `seq`: any
 * change published since may have changed a record it was built from.
 */
typedef struct {
    uint64_t            seq;
    int64_t             exp;
    uint32_t            subject;
    uint32_t            age;      /* ms from the subject's oldest record */
} ngx_http_rbac_jwt_entry_t;


static ngx_int_t ngx_http_rbac_jwt_entry_ok(ngx_str_t *value);
static ngx_int_t ngx_http_rbac_jwt_cached(ngx_http_request_t *r,
    ngx_http_rbac_cache_t *cache, ngx_http_rbac_ctx_t *ctx);


ngx_int_t
ngx_http_rbac_jwt_lookup(ngx_http_request_t *r, ngx_http_rbac_ctx_t *ctx,
    const uint8_t *identity)
{
    uint8_t                     digest[RBAC_SHA256_LEN];
    rbac_str_t                  t;
    ngx_http_rbac_cache_t      *cache;
    ngx_http_rbac_main_conf_t  *rmcf;

    t.data = (const char *) ctx->cred.data;
    t.len = ctx->cred.len;

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_rbac_module);
    cache = rmcf->cache;

    if (cache == NULL
        || t.len > RBAC_MAX_TOKEN
        || rbac_jwt_cache_key(t, identity, digest) != RBAC_OK)
    {
        return NGX_DECLINED;
    }

    ctx->jwt_key.data = ngx_pnalloc(r->pool, NGX_HTTP_RBAC_JWT_KEY_LEN);
    if (ctx->jwt_key.data == NULL) {
        return NGX_ERROR;
    }

    ctx->jwt_key.len = NGX_HTTP_RBAC_JWT_KEY_LEN;
    ngx_memcpy(ngx_cpymem(ctx->jwt_key.data, "\1jwt", 4), digest,
               sizeof(digest));

    /* read before any record: the subject is built under it */
    ctx->jwt_seq = ngx_http_rbac_cache_seq(cache);

    return ngx_http_rbac_jwt_cached(r, cache, ctx);
}


/*
 * 1 if a cached entry holds its header, a subject whose own header gives
 * its size (or none), then a sub of at least one byte.
 */
static ngx_int_t
ngx_http_rbac_jwt_entry_ok(ngx_str_t *value)
{
    size_t                      size;
    rbac_user_rec_t            *user;
    ngx_http_rbac_jwt_entry_t  *e;

    if (value->len <= sizeof(ngx_http_rbac_jwt_entry_t)) {
        return 0;
    }

    e = (ngx_http_rbac_jwt_entry_t *) value->data;
    user = (rbac_user_rec_t *) (value->data
                                + sizeof(ngx_http_rbac_jwt_entry_t));
    size = value->len - sizeof(ngx_http_rbac_jwt_entry_t);

    if (e->subject == 0) {
        return 1;
    }

    return e->subject < size && e->subject >= sizeof(rbac_user_rec_t)
           && user->hdr.size == e->subject;
}


/*
 * A token verified before: NGX_OK with ctx->uid and ctx->jwt_exp set, and
 * its subject (ctx->idp_user, idp_done) when no invalidation arrived since
 * it was built; NGX_DECLINED on a miss.
 */
static ngx_int_t
ngx_http_rbac_jwt_cached(ngx_http_request_t *r, ngx_http_rbac_cache_t *cache,
    ngx_http_rbac_ctx_t *ctx)
{
    u_char                      *p;
    size_t                       size;
    ngx_str_t                    value;
    ngx_msec_t                   fetched;
    ngx_http_rbac_jwt_entry_t   *e;

    if (ngx_http_rbac_cache_get(cache, &ctx->jwt_key, 0, r->pool, &value,
                                &fetched)
        != NGX_HTTP_RBAC_CACHE_FRESH
        || !ngx_http_rbac_jwt_entry_ok(&value))
    {
        ngx_http_rbac_stat(NGX_HTTP_RBAC_STAT_MISSES);
        ctx->misses++;
        return NGX_DECLINED;
    }

    ngx_http_rbac_stat(NGX_HTTP_RBAC_STAT_HITS);
    ctx->hits++;
    ctx->used_cache = 1;

    e = (ngx_http_rbac_jwt_entry_t *) value.data;
    p = value.data + sizeof(ngx_http_rbac_jwt_entry_t);
    size = value.len - sizeof(ngx_http_rbac_jwt_entry_t);

    ctx->jwt_exp = e->exp;
    ctx->uid.data = p + e->subject;
    ctx->uid.len = size - e->subject;

    if (e->seq == ctx->jwt_seq) {
        ctx->idp_user = e->subject ? (rbac_user_rec_t *) p : NULL;
        ctx->idp_done = 1;

        /* what is decided from this subject holds no longer than it */
        fetched -= e->age;

        if ((ngx_msec_int_t) (fetched - ctx->born) < 0) {
            ctx->born = fetched;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_rbac_jwt_claims(ngx_http_request_t *r, ngx_http_rbac_ctx_t *ctx)
{
    u_char     *dot;
    ngx_str_t   src;

    if (ctx->claims.data != NULL) {
        return NGX_OK;
    }

    /* header.payload.signature, verified when it was cached */

    dot = ngx_strlchr(ctx->cred.data, ctx->cred.data + ctx->cred.len, '.');
    if (dot == NULL) {
        return NGX_ERROR;
    }

    src.data = dot + 1;
    dot = ngx_strlchr(src.data, ctx->cred.data + ctx->cred.len, '.');
    if (dot == NULL) {
        return NGX_ERROR;
    }

    src.len = dot - src.data;

    ctx->claims.data = ngx_pnalloc(r->pool,
                                   ngx_base64_decoded_length(src.len));
    if (ctx->claims.data == NULL) {
        return NGX_ERROR;
    }

    return ngx_decode_base64url(&ctx->claims, &src);
}


void
ngx_http_rbac_jwt_store(ngx_http_request_t *r, ngx_http_rbac_ctx_t *ctx,
    rbac_user_rec_t *user)
{
    u_char                      *p;
    int64_t                      left;
    ngx_str_t                    value;
    ngx_time_t                  *tp;
    ngx_msec_int_t               room;
    ngx_http_rbac_cache_t       *cache;
    ngx_http_rbac_main_conf_t   *rmcf;
    ngx_http_rbac_jwt_entry_t   *e;

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_rbac_module);
    cache = rmcf->cache;

    if (cache == NULL || ctx->jwt_key.len == 0 || ctx->used_stale) {
        return;
    }

    /* until exp to the millisecond (nginx's seconds are rounded down) */

    tp = ngx_timeofday();
    left = (ctx->jwt_exp - (int64_t) tp->sec) * 1000 - (int64_t) tp->msec;

    /*
     * no longer than ttl from the fetch of the oldest record the subject
     * may be built of (ctx->born: the request's start, or older for a
     * record from the cache): a change never published is seen within ttl,
     * as for the records themselves
     */

    room = (ngx_msec_int_t) (ctx->born + cache->ttl - ngx_current_msec);

    if (left > room) {
        left = room;
    }

    if (left <= 0) {
        return;
    }

    value.len = sizeof(ngx_http_rbac_jwt_entry_t) + ctx->uid.len
                + (user ? user->hdr.size : 0);
    value.data = ngx_palloc(r->pool, value.len);
    if (value.data == NULL) {
        return;
    }

    e = (ngx_http_rbac_jwt_entry_t *) value.data;
    e->seq = ctx->jwt_seq;
    e->exp = ctx->jwt_exp;
    e->subject = user ? user->hdr.size : 0;
    e->age = (uint32_t) ngx_min(ngx_current_msec - ctx->born,
                                NGX_MAX_UINT32_VALUE);

    p = value.data + sizeof(ngx_http_rbac_jwt_entry_t);

    if (user != NULL) {
        p = ngx_cpymem(p, user, e->subject);
    }

    ngx_memcpy(p, ctx->uid.data, ctx->uid.len);

    ngx_http_rbac_cache_put(cache, &ctx->jwt_key, &value,
                            ngx_current_msec + (ngx_msec_t) left,
                            ctx->jwt_seq);
}
