
/*
 * ngx_http_rbac_memo.c: the decision memo, one per worker and per
 * configuration cycle.  An allow decided entirely from the cache zone is
 * kept under everything the decision was made of in the request: the
 * location (its configuration), the method, the credential sources the
 * handler reads, and the arguments and actions of rbac_object and
 * rbac_also.  The next request with the same bytes is answered from the
 * memo, without verifying the credential again, copying records out of
 * the zone or running the engine.
 *
 * An entry never outlives what it was decided from: it holds while the zone's
 * invalidation sequence is the one read before the first record was looked up
 * (any publish, any new epoch ends every entry), no longer than ttl from the
 * fetch of its oldest record, and no longer than the JWT's exp or the API
 * token's expiry; with rbac_jwt_key_request, only while the fetched key set is
 * the one it was decided with and serves as it is (not due for a fetch, not
 * older than max_age).  The memo lives in the cycle's pool, so a reload (new
 * catalog, keys, locations) starts with an empty one.
 *
 * Slots are direct-mapped by a SipHash of the key under a key drawn per
 * worker (a client cannot aim at a slot); a hit compares the whole key in
 * constant time.  Denials are never kept.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/rand.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#define NGX_HAVE_SSE2_MEMO  1
#else
#define NGX_HAVE_SSE2_MEMO  0
#endif

#include "ngx_http_rbac_module.h"
#include "ngx_http_rbac_jwks.h"
#include "rbac_siphash.h"


#define NGX_HTTP_RBAC_MEMO_SLOTS  1024         /* a power of two */
#define NGX_HTTP_RBAC_MEMO_SIZE   2048         /* bytes per slot */
#define NGX_HTTP_RBAC_MEMO_KEY    1536         /* longest key kept */


typedef struct {
    uint64_t                    hash;
    ngx_atomic_uint_t           seq;
    ngx_msec_t                  expire;
    ngx_uint_t                  hits;         /* zone hits it replaces */
    ngx_str_t                   kind;         /* static */
    uint16_t                    key;          /* lengths of what follows */
    uint16_t                    user;
    uint16_t                    org;
    uint16_t                    roles;
    uint16_t                    reason;
    unsigned                    used:1;
    unsigned                    authenticated:1;
    unsigned                    org_set:1;    /* $rbac_org found */
} ngx_http_rbac_memo_slot_t;

typedef struct {
    rbac_siphash_key_t          key;
    u_char                     *slots;
} ngx_http_rbac_memo_t;

/* The start of every key: what is not a string (no padding to leave). */
typedef struct {
    ngx_http_rbac_loc_conf_t   *lcf;
    ngx_uint_t                  method;
    ngx_atomic_uint_t           keys;
    ngx_uint_t                  src_type;
} ngx_http_rbac_memo_fixed_t;


/* A class of locations, at configuration (ngx_http_rbac_memo_classify). */
typedef struct {
    ngx_rbtree_node_t           node;        /* key: the class's hash */
    ngx_http_rbac_loc_conf_t   *lcf;         /* its first location */
    ngx_uint_t                  twin;        /* 0: alike, 1: twins */
} ngx_http_rbac_memo_class_t;


#define ngx_http_rbac_memo_data(s)  ((u_char *) (s)                          \
                                     + sizeof(ngx_http_rbac_memo_slot_t))


static ngx_http_rbac_memo_t *ngx_http_rbac_memo_get(
    ngx_http_rbac_main_conf_t *rmcf, ngx_log_t *log);
static u_char *ngx_http_rbac_memo_put(u_char *p, u_char *end, void *data,
    size_t len);
static u_char *ngx_http_rbac_memo_cv(ngx_http_request_t *r, u_char *p,
    u_char *end, ngx_http_complex_value_t *cv);
static ngx_int_t ngx_http_rbac_memo_key(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_str_t *cred, ngx_uint_t src_type,
    ngx_uint_t args, ngx_str_t *values, u_char *buf, ngx_str_t *key);
static ngx_msec_int_t ngx_http_rbac_memo_left(int64_t sec);
static u_char *ngx_http_rbac_memo_copy(u_char *p, ngx_str_t *s);
static ngx_uint_t ngx_http_rbac_memo_eq(u_char *a, u_char *b, size_t len);
static ngx_http_rbac_loc_conf_t *ngx_http_rbac_memo_class(ngx_conf_t *cf,
    ngx_rbtree_t *tree, ngx_http_rbac_loc_conf_t *conf, ngx_uint_t twin);
static uint64_t ngx_http_rbac_memo_class_hash(ngx_http_rbac_loc_conf_t *conf,
    ngx_uint_t twin);
static uint64_t ngx_http_rbac_memo_mix(uint64_t h, uint64_t v);
static uint64_t ngx_http_rbac_memo_mix_cv(uint64_t h,
    ngx_http_complex_value_t *cv);
static ngx_uint_t ngx_http_rbac_memo_same(ngx_http_rbac_loc_conf_t *a,
    ngx_http_rbac_loc_conf_t *b);
static ngx_uint_t ngx_http_rbac_memo_same_object(
    ngx_http_rbac_object_conf_t *a, ngx_http_rbac_object_conf_t *b);
static ngx_uint_t ngx_http_rbac_memo_same_args(ngx_http_rbac_loc_conf_t *a,
    ngx_http_rbac_loc_conf_t *b);
static ngx_uint_t ngx_http_rbac_memo_same_cv(ngx_http_complex_value_t *a,
    ngx_http_complex_value_t *b);


/* The worker's memo, made on first use; NULL when out of memory. */
static ngx_http_rbac_memo_t *
ngx_http_rbac_memo_get(ngx_http_rbac_main_conf_t *rmcf, ngx_log_t *log)
{
    ngx_http_rbac_memo_t  *m;

    if (rmcf->memo != NULL) {
        return rmcf->memo;
    }

    m = ngx_palloc(ngx_cycle->pool, sizeof(ngx_http_rbac_memo_t));
    if (m == NULL) {
        return NULL;
    }

    if (RAND_bytes((unsigned char *) &m->key, sizeof(m->key)) != 1) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "rbac: no random key for the decision memo");
        return NULL;
    }

    m->slots = ngx_pcalloc(ngx_cycle->pool,
                           NGX_HTTP_RBAC_MEMO_SLOTS * NGX_HTTP_RBAC_MEMO_SIZE);
    if (m->slots == NULL) {
        return NULL;
    }

    rmcf->memo = m;

    return m;
}


/* len, then the bytes; NULL once the key would not fit. */
static u_char *
ngx_http_rbac_memo_put(u_char *p, u_char *end, void *data, size_t len)
{
    if (p == NULL || (size_t) (end - p) < len + 2) {
        return NULL;
    }

    *p++ = (u_char) (len >> 8);
    *p++ = (u_char) len;

    return len ? ngx_cpymem(p, data, len) : p;
}


static u_char *
ngx_http_rbac_memo_cv(ngx_http_request_t *r, u_char *p, u_char *end,
    ngx_http_complex_value_t *cv)
{
    ngx_str_t  v;

    if (p == NULL || end - p < 2) {
        return NULL;
    }

    if (cv == NULL) {
        /* an argument not given: an empty value */
        *p++ = 0;
        *p++ = 0;
        return p;
    }

    if (cv->lengths == NULL) {
        /* a constant */
        return ngx_http_rbac_memo_put(p, end, cv->value.data, cv->value.len);
    }

    if (ngx_http_complex_value(r, cv, &v) != NGX_OK) {
        return NULL;
    }

    return ngx_http_rbac_memo_put(p, end, v.data, v.len);
}


/*
 * What the decision depends on in this request, in buf.  The credential is
 * the one ngx_http_rbac_carrier found in every source (two different ones
 * were refused before), with its source's type=.  Without args, only the
 * head of the key: all but the arguments and actions of rbac_object and
 * rbac_also, which come last.  Their id=, org= and owner= are values[]
 * when given (as ngx_http_rbac_object_ctl read them in this pass), or are
 * evaluated here.  NGX_OK, or NGX_DECLINED (too long to keep, or a
 * variable failed).
 */
static ngx_int_t
ngx_http_rbac_memo_key(ngx_http_request_t *r, ngx_http_rbac_loc_conf_t *lcf,
    ngx_str_t *cred, ngx_uint_t src_type, ngx_uint_t args, ngx_str_t *values,
    u_char *buf, ngx_str_t *key)
{
    u_char                      *p, *end;
    ngx_uint_t                   i, n;
    ngx_atomic_uint_t            keys;
    ngx_http_rbac_memo_fixed_t   fixed;
    ngx_http_rbac_also_conf_t   *ac;
    ngx_http_rbac_object_conf_t *oc;

    end = buf + NGX_HTTP_RBAC_MEMO_KEY;

    /* keys from rbac_jwt_key_request: the set's generation, if it serves */
    if (ngx_http_rbac_jwks_memo_tag(lcf, &keys) != NGX_OK) {
        return NGX_DECLINED;
    }

    /* the fixed-size part first, then each value with its length */
    fixed.lcf = lcf;
    fixed.method = r->method;
    fixed.keys = keys;
    fixed.src_type = src_type;

    p = ngx_cpymem(buf, &fixed, sizeof(fixed));
    p = ngx_http_rbac_memo_put(p, end, cred->data, cred->len);

    n = lcf->also != NULL ? lcf->also->nelts : 0;
    ac = n ? lcf->also->elts : NULL;

    if (args && lcf->object != NULL) {
        p = ngx_http_rbac_memo_cv(r, p, end, lcf->action);

        for (i = 0; i <= n; i++) {
            oc = (i == 0) ? lcf->object : &ac[i - 1].object;

            if (values != NULL) {
                /* an argument not given: an empty value there too */
                p = ngx_http_rbac_memo_put(p, end, values[3 * i].data,
                                           values[3 * i].len);
                p = ngx_http_rbac_memo_put(p, end, values[3 * i + 1].data,
                                           values[3 * i + 1].len);
                p = ngx_http_rbac_memo_put(p, end, values[3 * i + 2].data,
                                           values[3 * i + 2].len);

            } else {
                p = ngx_http_rbac_memo_cv(r, p, end, oc->id);
                p = ngx_http_rbac_memo_cv(r, p, end, oc->org);
                p = ngx_http_rbac_memo_cv(r, p, end, oc->owner);
            }

            if (i > 0) {
                p = ngx_http_rbac_memo_cv(r, p, end, ac[i - 1].action);
            }
        }
    }

    if (p == NULL) {
        return NGX_DECLINED;
    }

    key->data = buf;
    key->len = p - buf;

    return NGX_OK;
}


/*
 * A decision kept for this request's key: NGX_OK with ctx filled as the
 * decision left it (an allow); NGX_DECLINED otherwise, the key noted in ctx
 * for ngx_http_rbac_memo_store; NGX_ERROR when out of memory.
 */
ngx_int_t
ngx_http_rbac_memo_lookup(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_ctx_t *ctx)
{
    u_char                     *d, *p, buf[NGX_HTTP_RBAC_MEMO_KEY];
    uint64_t                    hash;
    ngx_str_t                   key;
    ngx_uint_t                  i;
    ngx_http_rbac_memo_t       *m;
    ngx_http_rbac_memo_slot_t  *s;
    ngx_http_rbac_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_rbac_module);

    if (rmcf->cache == NULL) {
        return NGX_DECLINED;
    }

    /* before any lookup: what is read after this may predate a change */
    ctx->memo_seq = ngx_http_rbac_cache_seq(rmcf->cache);

    m = ngx_http_rbac_memo_get(rmcf, r->connection->log);
    if (m == NULL) {
        return NGX_DECLINED;
    }

    if (ngx_http_rbac_memo_key(r, lcf, &ctx->cred, ctx->cred_src_type, 1,
                               ctx->memo_args, buf, &key)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    hash = rbac_siphash13(&m->key, key.data, key.len);

    s = (ngx_http_rbac_memo_slot_t *)
        (m->slots + (hash & (NGX_HTTP_RBAC_MEMO_SLOTS - 1))
                    * NGX_HTTP_RBAC_MEMO_SIZE);
    d = ngx_http_rbac_memo_data(s);

    if (s->used && s->hash == hash && s->key == key.len
        && s->seq == ctx->memo_seq
        && (ngx_msec_int_t) (s->expire - ngx_current_msec) > 0
        && ngx_http_rbac_memo_eq(d, key.data, key.len))
    {
        /*
         * a copy: the slot may be taken by another request meanwhile; the
         * key too, for an internal redirect (ngx_http_rbac_memo_redirect)
         */
        p = ngx_pnalloc(r->pool, key.len + s->user + s->org + s->roles
                                 + s->reason + 1);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ctx->memo_key.data = p;
        ctx->memo_key.len = key.len;
        ctx->memo_hit = 1;
        p = ngx_cpymem(p, key.data, key.len);

        d += s->key;

        ctx->var_user.data = p;
        ctx->var_user.len = s->user;
        p = ngx_cpymem(p, d, s->user);
        d += s->user;

        if (s->org_set) {
            ctx->var_org.data = p;
            ctx->var_org.len = s->org;
            p = ngx_cpymem(p, d, s->org);
            d += s->org;
        }

        if (s->roles) {
            ctx->var_roles.data = p;
            ctx->var_roles.len = s->roles;
            p = ngx_cpymem(p, d, s->roles);
            d += s->roles;
        }

        ctx->reason.data = p;
        ctx->reason.len = s->reason;
        ngx_memcpy(p, d, s->reason);      /* d and p are never NULL */

        ctx->var_kind = s->kind;
        ctx->authenticated = s->authenticated;
        ctx->status = 0;
        ctx->used_cache = 1;

        for (i = 0; i < s->hits; i++) {
            ngx_http_rbac_stat(NGX_HTTP_RBAC_STAT_HITS);
        }

        return NGX_OK;
    }

    ctx->memo_key.data = ngx_pnalloc(r->pool, key.len);
    if (ctx->memo_key.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ctx->memo_key.data, key.data, key.len);
    ctx->memo_key.len = key.len;
    ctx->memo_hash = hash;

    return NGX_DECLINED;
}


/*
 * 1 if the len bytes are equal, in time that depends on len only: sixteen
 * bytes (SSE2) or a word at a time, the differences or'ed together.
 */
static ngx_uint_t
ngx_http_rbac_memo_eq(u_char *a, u_char *b, size_t len)
{
    size_t    i;
    uint64_t  x, y, diff;

    diff = 0;
    i = 0;

#if (NGX_HAVE_SSE2_MEMO)
    {
        __m128i  acc;

        acc = _mm_setzero_si128();

        for ( /* void */ ; i + 16 <= len; i += 16) {
            acc = _mm_or_si128(acc, _mm_xor_si128(
                      _mm_loadu_si128((const __m128i *) (void *) (a + i)),
                      _mm_loadu_si128((const __m128i *) (void *) (b + i))));
        }

        diff = (uint64_t) _mm_movemask_epi8(
                   _mm_cmpeq_epi8(acc, _mm_setzero_si128())) ^ 0xffff;
    }
#endif

    for ( /* void */ ; i + 8 <= len; i += 8) {
        ngx_memcpy(&x, a + i, 8);
        ngx_memcpy(&y, b + i, 8);
        diff |= x ^ y;
    }

    for ( /* void */ ; i < len; i++) {
        diff |= a[i] ^ b[i];
    }

    return diff == 0;
}


/* Milliseconds from now to the second `sec` of the epoch (wall clock). */
static ngx_msec_int_t
ngx_http_rbac_memo_left(int64_t sec)
{
    int64_t      left;
    ngx_time_t  *tp;

    tp = ngx_timeofday();
    left = (sec - (int64_t) tp->sec) * 1000 - (int64_t) tp->msec;

    if (left > NGX_MAX_INT32_VALUE) {
        left = NGX_MAX_INT32_VALUE;
    }

    return left < 0 ? 0 : (ngx_msec_int_t) left;
}


/* Keeps the allow just decided, when everything it used came warm. */
void
ngx_http_rbac_memo_store(ngx_http_request_t *r, ngx_http_rbac_ctx_t *ctx)
{
    u_char                     *p;
    size_t                      size;
    ngx_msec_int_t              left, t;
    ngx_http_rbac_memo_t       *m;
    ngx_http_rbac_memo_slot_t  *s;
    ngx_http_rbac_main_conf_t  *rmcf;

    /* the allow holds for the rest of this tick (an internal redirect) */
    ctx->memo_at = ngx_current_msec;

    if (ctx->memo_key.len == 0 || ctx->memo_hit || ctx->status != 0
        || !ctx->used_cache || ctx->used_redis || ctx->used_stale
        || ctx->misses)
    {
        return;
    }

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_rbac_module);
    m = rmcf->memo;

    if (m == NULL || ngx_http_rbac_cache_seq(rmcf->cache) != ctx->memo_seq) {
        return;
    }

    size = ctx->memo_key.len + ctx->var_user.len + ctx->var_org.len
           + ctx->var_roles.len + ctx->reason.len;

    if (size > NGX_HTTP_RBAC_MEMO_SIZE - sizeof(ngx_http_rbac_memo_slot_t)) {
        return;
    }

    /* ttl from the oldest record; the credential's own end */

    left = (ngx_msec_int_t) (ctx->born + rmcf->cache->ttl - ngx_current_msec);

    if (ctx->cred_type == NGX_HTTP_RBAC_CRED_JWT) {
        t = ngx_http_rbac_memo_left(ctx->jwt_exp);
        left = ngx_min(left, t);
    }

    if (ctx->token != NULL && ctx->token->expires_at != 0) {
        t = ngx_http_rbac_memo_left(ctx->token->expires_at);
        left = ngx_min(left, t);
    }

    if (left <= 0) {
        return;
    }

    s = (ngx_http_rbac_memo_slot_t *)
        (m->slots + (ctx->memo_hash & (NGX_HTTP_RBAC_MEMO_SLOTS - 1))
                    * NGX_HTTP_RBAC_MEMO_SIZE);

    s->used = 1;
    s->hash = ctx->memo_hash;
    s->seq = ctx->memo_seq;
    s->expire = ngx_current_msec + (ngx_msec_t) left;
    s->hits = ctx->hits;
    s->kind = ctx->var_kind;
    s->authenticated = ctx->authenticated;
    s->org_set = (ctx->var_org.data != NULL);
    s->key = (uint16_t) ctx->memo_key.len;
    s->user = (uint16_t) ctx->var_user.len;
    s->org = (uint16_t) ctx->var_org.len;
    s->roles = (uint16_t) ctx->var_roles.len;
    s->reason = (uint16_t) ctx->reason.len;

    p = ngx_http_rbac_memo_data(s);
    p = ngx_http_rbac_memo_copy(p, &ctx->memo_key);
    p = ngx_http_rbac_memo_copy(p, &ctx->var_user);
    p = ngx_http_rbac_memo_copy(p, &ctx->var_org);
    p = ngx_http_rbac_memo_copy(p, &ctx->var_roles);
    (void) ngx_http_rbac_memo_copy(p, &ctx->reason);
}


static u_char *
ngx_http_rbac_memo_copy(u_char *p, ngx_str_t *s)
{
    return s->len ? ngx_cpymem(p, s->data, s->len) : p;
}


/*
 * After an internal redirect (index, try_files, error_page, rewrite ... last),
 * nginx has dropped every module's context; the handler finds the one of this
 * request's decision again by its pool cleanup and passes it here (NULL:
 * none).  Its allow answers the new location too when everything it was
 * decided from is the same there: a location that decides alike (same mode,
 * credential sources, keys, issuers, principals, object and rbac_also
 * declarations, identity headers, body size: ngx_http_rbac_memo_classify
 * found that at configuration), the same credential (the
 * sources read it from the same header lines and query string, or read again
 * give the same one), the same key (method, credential and its source's type=,
 * object arguments and actions as they evaluate now), in the same tick and
 * with no change to the zone since.  Its identity headers are in place
 * already.  NGX_OK: it answers (the context is the request's again);
 * NGX_DECLINED: decide.
 *
 * When the arguments and actions of both locations are the same constants
 * (twins: the same location, or one declared alike with the same words),
 * the tail of the key, which holds them, is the same bytes as the one kept:
 * only the head is built again and compared (the credential among it,
 * against the copy kept in the key, not against the request's header).
 * With the same credential too, only the method and the key set's
 * generation are.
 */
ngx_int_t
ngx_http_rbac_memo_redirect(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_ctx_t *ctx)
{
    u_char                      buf[NGX_HTTP_RBAC_MEMO_KEY];
    size_t                      head;
    ngx_str_t                   key, cred;
    ngx_uint_t                  type, args, same;
    ngx_atomic_uint_t           keys;
    ngx_http_rbac_seen_t        seen;
    ngx_http_rbac_loc_conf_t   *prev;
    ngx_http_rbac_memo_fixed_t  fixed;
    ngx_http_rbac_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_rbac_module);

    if (ctx == NULL || ctx->state != NGX_HTTP_RBAC_ST_DONE
        || ctx->status != 0 || ctx->anonymous
        || ctx->memo_key.len < sizeof(ngx_http_rbac_memo_fixed_t)
        || ctx->memo_at != ngx_current_msec || rmcf->cache == NULL
        || ngx_http_rbac_cache_seq(rmcf->cache) != ctx->memo_seq)
    {
        return NGX_DECLINED;
    }

    /* the key starts with the location it was decided in */
    ngx_memcpy(&fixed, ctx->memo_key.data, sizeof(fixed));
    prev = fixed.lcf;

    if (lcf->alike == NULL || lcf->alike != prev->alike) {
        return NGX_DECLINED;
    }

    same = ngx_http_rbac_carrier_same(r, lcf, &ctx->seen);

    /* only the head when the tail is the same constants */
    args = (lcf->twin == NULL || lcf->twin != prev->twin);

    if (same && !args) {
        /* the same credential, arguments and actions: the rest of the head */
        if (r->method != fixed.method
            || ngx_http_rbac_jwks_memo_tag(lcf, &keys) != NGX_OK
            || keys != fixed.keys)
        {
            return NGX_DECLINED;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_rbac_module);
        return NGX_OK;
    }

    if (same) {
        /* the lines and query string it was read from: the same one */
        cred = ctx->cred;
        type = ctx->cred_src_type;

    } else if (ngx_http_rbac_carrier(r, lcf, &cred, &type, &seen) != NGX_OK) {
        /* the credential as this location's sources give it now */
        return NGX_DECLINED;
    }

    /* $rbac_body_* as this request's body gives them */
    ngx_http_set_ctx(r, ctx, ngx_http_rbac_module);

    head = sizeof(prev);

    if (ngx_http_rbac_memo_key(r, lcf, &cred, type, args, NULL, buf, &key)
        != NGX_OK
        || (args ? key.len != ctx->memo_key.len
                 : key.len > ctx->memo_key.len)
        || ngx_memcmp(key.data + head, ctx->memo_key.data + head,
                      key.len - head)
           != 0)
    {
        ngx_http_set_ctx(r, NULL, ngx_http_rbac_module);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * Once conf is merged (a location that decides, or a level above one):
 * conf->alike is the first location merged that decides alike
 * (ngx_http_rbac_memo_same), conf->twin the first that also has the same
 * constant arguments and actions (NULL: some are variables).  NULL alike:
 * none carries a decision after a redirect (rbac_app's, whose object is
 * built per request).  Each class is found by a hash of what it compares,
 * in a tree: configurations of many thousand locations class in linear
 * time.  Two classes whose hashes meet leave the second location a class
 * of its own: it takes fewer decisions over, never a wrong one.
 */
ngx_int_t
ngx_http_rbac_memo_classify(ngx_conf_t *cf, ngx_http_rbac_loc_conf_t *conf)
{
    ngx_rbtree_node_t          *sentinel;
    ngx_http_rbac_main_conf_t  *rmcf;

    if (conf->app != NULL) {
        return NGX_OK;
    }

    rmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_rbac_module);

    if (rmcf->classes == NULL) {
        rmcf->classes = ngx_palloc(cf->pool, sizeof(ngx_rbtree_t));
        sentinel = ngx_palloc(cf->pool, sizeof(ngx_rbtree_node_t));

        if (rmcf->classes == NULL || sentinel == NULL) {
            return NGX_ERROR;
        }

        ngx_rbtree_init(rmcf->classes, sentinel, ngx_rbtree_insert_value);
    }

    conf->alike = ngx_http_rbac_memo_class(cf, rmcf->classes, conf, 0);
    if (conf->alike == NULL) {
        return NGX_ERROR;
    }

    /* same_args(conf, conf): every argument and action a constant */
    if (ngx_http_rbac_memo_same_args(conf, conf)) {
        conf->twin = ngx_http_rbac_memo_class(cf, rmcf->classes, conf, 1);
        if (conf->twin == NULL) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * The first location of conf's class (alike, or with twin its twins: conf
 * itself for a new class); NULL when out of memory.
 */
static ngx_http_rbac_loc_conf_t *
ngx_http_rbac_memo_class(ngx_conf_t *cf, ngx_rbtree_t *tree,
    ngx_http_rbac_loc_conf_t *conf, ngx_uint_t twin)
{
    uint64_t                     hash;
    ngx_uint_t                   same;
    ngx_rbtree_node_t           *node;
    ngx_http_rbac_memo_class_t  *c;

    hash = ngx_http_rbac_memo_class_hash(conf, twin);

    for (node = tree->root; node != tree->sentinel; /* void */) {

        if (hash != node->key) {
            node = (hash < node->key) ? node->left : node->right;
            continue;
        }

        c = (ngx_http_rbac_memo_class_t *) node;

        same = (c->twin == twin)
               && (twin ? c->lcf->alike == conf->alike
                          && ngx_http_rbac_memo_same_args(c->lcf, conf)
                        : ngx_http_rbac_memo_same(c->lcf, conf));

        return same ? c->lcf : conf;
    }

    c = ngx_palloc(cf->pool, sizeof(ngx_http_rbac_memo_class_t));
    if (c == NULL) {
        return NULL;
    }

    c->node.key = (ngx_rbtree_key_t) hash;
    c->lcf = conf;
    c->twin = twin;

    ngx_rbtree_insert(tree, &c->node);

    return conf;
}


/*
 * A hash of what ngx_http_rbac_memo_same compares (twin unset), or of the
 * class alike and the constant words ngx_http_rbac_memo_same_args compares
 * (twin set): locations it finds alike, or twins, hash the same.
 */
static uint64_t
ngx_http_rbac_memo_class_hash(ngx_http_rbac_loc_conf_t *conf, ngx_uint_t twin)
{
    uint64_t                      h;
    ngx_uint_t                    i, n;
    ngx_http_rbac_also_conf_t    *ac;
    ngx_http_rbac_object_conf_t  *oc;

    n = conf->also != NULL ? conf->also->nelts : 0;
    ac = n ? conf->also->elts : NULL;

    if (twin) {
        h = ngx_http_rbac_memo_mix(1, (uintptr_t) conf->alike);
        h = ngx_http_rbac_memo_mix_cv(h, conf->action);

        for (i = 0; conf->object != NULL && i <= n; i++) {
            oc = (i == 0) ? conf->object : &ac[i - 1].object;

            h = ngx_http_rbac_memo_mix_cv(h, oc->id);
            h = ngx_http_rbac_memo_mix_cv(h, oc->org);
            h = ngx_http_rbac_memo_mix_cv(h, oc->owner);
            h = ngx_http_rbac_memo_mix_cv(h, i ? ac[i - 1].action : NULL);
        }

        return h;
    }

    h = ngx_http_rbac_memo_mix(2, conf->mode);
    h = ngx_http_rbac_memo_mix(h, (uintptr_t) conf->tokens);
    h = ngx_http_rbac_memo_mix(h, (uintptr_t) conf->jwt_keys);
    h = ngx_http_rbac_memo_mix(h, (uintptr_t) conf->issuers);
    h = ngx_http_rbac_memo_mix(h, (uintptr_t) conf->audiences);
    h = ngx_http_rbac_memo_mix(h, conf->leeway);
    h = ngx_http_rbac_memo_mix(h, (uintptr_t) conf->verifier);
    h = ngx_http_rbac_memo_mix(h, (uintptr_t) conf->jwks);
    h = ngx_http_rbac_memo_mix(h, conf->principals);
    h = ngx_http_rbac_memo_mix(h, conf->identity_headers);
    h = ngx_http_rbac_memo_mix(h, conf->json_body);
    h = ngx_http_rbac_memo_mix(h, conf->action == NULL);
    h = ngx_http_rbac_memo_mix(h, n);

    for (i = 0; i <= n; i++) {
        oc = (i == 0) ? conf->object : &ac[i - 1].object;

        if (oc == NULL) {
            h = ngx_http_rbac_memo_mix(h, 0);
            continue;
        }

        h = ngx_http_rbac_memo_mix(h, oc->type);
        h = ngx_http_rbac_memo_mix(h, oc->any_org);
        h = ngx_http_rbac_memo_mix(h, oc->kind[0]);
        h = ngx_http_rbac_memo_mix(h, oc->kind[1]);
        h = ngx_http_rbac_memo_mix(h, oc->kind[2]);
        h = ngx_http_rbac_memo_mix(h, (oc->id != NULL)
                                      | (oc->org != NULL) << 1
                                      | (oc->owner != NULL) << 2
                                      | (i && ac[i - 1].action != NULL) << 3);
    }

    return h;
}


static uint64_t
ngx_http_rbac_memo_mix(uint64_t h, uint64_t v)
{
    h = (h ^ v) * 0x9e3779b97f4a7c15ULL;

    return h ^ (h >> 29);
}


/* A constant's words (or that it is absent) mixed into h. */
static uint64_t
ngx_http_rbac_memo_mix_cv(uint64_t h, ngx_http_complex_value_t *cv)
{
    size_t  i;

    if (cv == NULL) {
        return ngx_http_rbac_memo_mix(h, 0);
    }

    h = ngx_http_rbac_memo_mix(h, cv->value.len + 1);

    for (i = 0; i < cv->value.len; i++) {
        h = ngx_http_rbac_memo_mix(h, cv->value.data[i]);
    }

    return h;
}


/* 1 if locations a and b decide alike on the same request. */
static ngx_uint_t
ngx_http_rbac_memo_same(ngx_http_rbac_loc_conf_t *a,
    ngx_http_rbac_loc_conf_t *b)
{
    ngx_uint_t                  i;
    ngx_http_rbac_also_conf_t  *aa, *ba;

    if (a->mode != b->mode || a->tokens != b->tokens
        || a->jwt_keys != b->jwt_keys || a->issuers != b->issuers
        || a->audiences != b->audiences || a->leeway != b->leeway
        || a->verifier != b->verifier || a->jwks != b->jwks
        || a->principals != b->principals
        || a->identity_headers != b->identity_headers
        || a->json_body != b->json_body
        || a->app != NULL || b->app != NULL
        || (a->action == NULL) != (b->action == NULL)
        || (a->also == NULL) != (b->also == NULL)
        || !ngx_http_rbac_memo_same_object(a->object, b->object))
    {
        return 0;
    }

    if (a->also == NULL) {
        return 1;
    }

    if (a->also->nelts != b->also->nelts) {
        return 0;
    }

    aa = a->also->elts;
    ba = b->also->elts;

    for (i = 0; i < a->also->nelts; i++) {
        if ((aa[i].action == NULL) != (ba[i].action == NULL)
            || !ngx_http_rbac_memo_same_object(&aa[i].object,
                                               &ba[i].object))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * 1 if two rbac_object (or rbac_also) declarations are alike but for the
 * values of their arguments, which the key holds.
 */
static ngx_uint_t
ngx_http_rbac_memo_same_object(ngx_http_rbac_object_conf_t *a,
    ngx_http_rbac_object_conf_t *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }

    return a->type == b->type
           && a->any_org == b->any_org
           && ngx_memcmp(a->kind, b->kind, sizeof(a->kind)) == 0
           && (a->id == NULL) == (b->id == NULL)
           && (a->org == NULL) == (b->org == NULL)
           && (a->owner == NULL) == (b->owner == NULL);
}


/*
 * 1 if the arguments and actions of rbac_object and rbac_also are the same
 * constants in a and b, two locations that decide alike (or the same one):
 * no variable among them, each the same words.
 */
static ngx_uint_t
ngx_http_rbac_memo_same_args(ngx_http_rbac_loc_conf_t *a,
    ngx_http_rbac_loc_conf_t *b)
{
    ngx_uint_t                    i, n;
    ngx_http_rbac_also_conf_t    *aa, *ba;
    ngx_http_rbac_object_conf_t  *ao, *bo;

    if (a->object == NULL || b->object == NULL) {
        /* no object: the key has no arguments (a->object == b->object) */
        return a->object == b->object;
    }

    if (!ngx_http_rbac_memo_same_cv(a->action, b->action)) {
        return 0;
    }

    n = a->also != NULL ? a->also->nelts : 0;
    aa = n ? a->also->elts : NULL;
    ba = n ? b->also->elts : NULL;

    for (i = 0; i <= n; i++) {
        ao = (i == 0) ? a->object : &aa[i - 1].object;
        bo = (i == 0) ? b->object : &ba[i - 1].object;

        if (!ngx_http_rbac_memo_same_cv(ao->id, bo->id)
            || !ngx_http_rbac_memo_same_cv(ao->org, bo->org)
            || !ngx_http_rbac_memo_same_cv(ao->owner, bo->owner)
            || (i > 0 && !ngx_http_rbac_memo_same_cv(aa[i - 1].action,
                                                     ba[i - 1].action)))
        {
            return 0;
        }
    }

    return 1;
}


/* 1 if a and b are both absent, or the same constant words. */
static ngx_uint_t
ngx_http_rbac_memo_same_cv(ngx_http_complex_value_t *a,
    ngx_http_complex_value_t *b)
{
    if (a == NULL || b == NULL || a == b) {
        return a == b && (a == NULL || a->lengths == NULL);
    }

    return a->lengths == NULL && b->lengths == NULL
           && a->value.len == b->value.len
           && ngx_memcmp(a->value.data, b->value.data, a->value.len) == 0;
}
