
/*
 * ngx_http_rbac_jwt.c: rbac_jwt_key, rbac_jwt_issuer, rbac_jwt_audience
 * and the verifier each server uses.  Keys are checked when the directive
 * is read, so a key that does not fit its alg fails `nginx -t` on its line.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_rbac_jwt.h"
#include "ngx_http_rbac_jwks.h"


typedef struct {
    rbac_jwt_keyset_t  *ks;
    rbac_jwt_checks_t   chk;
    uint8_t             identity[RBAC_SHA256_LEN];
    void               *jwks;       /* rbac_jwt_key_request: its keys */
} ngx_http_rbac_jwt_verifier_t;


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


static ngx_int_t ngx_http_rbac_jwt_cached(ngx_http_request_t *r,
    ngx_http_rbac_cache_t *cache, ngx_http_rbac_ctx_t *ctx);
static rbac_rc_t ngx_http_rbac_jwt_strs(ngx_conf_t *cf, ngx_array_t *a,
    const rbac_str_t **out, size_t *n);


char *
ngx_http_rbac_jwt_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rbac_loc_conf_t *rlcf = conf;

    ngx_str_t        *value, file, key;
    ngx_uint_t        i;
    rbac_rc_t         rc;
    rbac_str_t        kid, name;
    rbac_err_t        err;
    rbac_jwt_alg_t    alg;

    value = cf->args->elts;
    alg = RBAC_JWT_ALG_NONE;
    kid.data = NULL;
    kid.len = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "alg=", 4) == 0) {
            name.data = (const char *) value[i].data + 4;
            name.len = value[i].len - 4;

            alg = rbac_jwt_alg_parse(name);
            if (alg == RBAC_JWT_ALG_NONE) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"rbac_jwt_key\": unsupported \"%V\" "
                                   "(HS256..HS512, RS256..RS512, "
                                   "ES256..ES512)", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "kid=", 4) == 0
            && value[i].len > 4)
        {
            kid.data = (const char *) value[i].data + 4;
            kid.len = value[i].len - 4;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_jwt_key\": invalid parameter \"%V\"",
                           &value[i]);
        return NGX_CONF_ERROR;
    }

    if (alg == RBAC_JWT_ALG_NONE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_jwt_key\": alg= is required");
        return NGX_CONF_ERROR;
    }

    file = value[1];

    if (ngx_http_rbac_read_file(cf, &file, RBAC_JWT_MAX_KEY_FILE, &key)
        != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_jwt_key\": cannot read key file \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (rlcf->jwt_keys == NULL) {
        rlcf->jwt_keys = ngx_http_rbac_jwks_keyset(cf);
        if (rlcf->jwt_keys == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    ngx_memzero(&err, sizeof(rbac_err_t));

    rc = rbac_jwt_keyset_add(rlcf->jwt_keys, alg, kid, key.data, key.len,
                             &err);
    if (rc != RBAC_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_jwt_key\": key file \"%V\": %s",
                           &file, err.msg[0] ? err.msg : rbac_strerror(rc));
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_rbac_jwt_strings(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t     *value, *s;
    ngx_uint_t     i;
    ngx_array_t  **a;

    a = (ngx_array_t **) (p + cmd->offset);

    if (*a != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    *a = ngx_array_create(cf->pool, cf->args->nelts - 1, sizeof(ngx_str_t));
    if (*a == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        s = ngx_array_push(*a);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *s = value[i];
    }

    return NGX_CONF_OK;
}


char *
ngx_http_rbac_jwt_leeway(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rbac_loc_conf_t *rlcf = conf;

    char       *rv;
    ngx_str_t  *value;

    rv = ngx_conf_set_msec_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (rlcf->leeway > RBAC_JWT_LEEWAY_MAX * 1000) {
        value = cf->args->elts;
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_jwt_leeway\": \"%V\" is over the "
                           "maximum of 5m", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static rbac_rc_t
ngx_http_rbac_jwt_strs(ngx_conf_t *cf, ngx_array_t *a,
    const rbac_str_t **out, size_t *n)
{
    ngx_str_t   *s;
    ngx_uint_t   i;
    rbac_str_t  *r;

    *out = NULL;
    *n = 0;

    if (a == NULL || a->nelts == 0) {
        return RBAC_OK;
    }

    r = ngx_palloc(cf->pool, a->nelts * sizeof(rbac_str_t));
    if (r == NULL) {
        return RBAC_ENOMEM;
    }

    s = a->elts;

    for (i = 0; i < a->nelts; i++) {
        r[i].data = (const char *) s[i].data;
        r[i].len = s[i].len;
    }

    *out = r;
    *n = a->nelts;

    return RBAC_OK;
}


ngx_int_t
ngx_http_rbac_jwt_init(ngx_conf_t *cf, ngx_http_rbac_loc_conf_t *conf)
{
    rbac_str_t                     catalog;
    ngx_http_rbac_main_conf_t     *rmcf;
    ngx_http_rbac_jwt_verifier_t  *v;

    v = ngx_pcalloc(cf->pool, sizeof(ngx_http_rbac_jwt_verifier_t));
    if (v == NULL) {
        return NGX_ERROR;
    }

    if (conf->jwt_keys == NULL) {
        /* no key: every JWT is refused ("wrong alg") */
        conf->jwt_keys = ngx_http_rbac_jwks_keyset(cf);
        if (conf->jwt_keys == NULL) {
            return NGX_ERROR;
        }
    }

    v->ks = conf->jwt_keys;

    rbac_jwt_checks_init(&v->chk);

    if (ngx_http_rbac_jwt_strs(cf, conf->issuers, &v->chk.issuers,
                               &v->chk.nissuers)
        != RBAC_OK
        || ngx_http_rbac_jwt_strs(cf, conf->audiences, &v->chk.audiences,
                                  &v->chk.naudiences)
           != RBAC_OK)
    {
        return NGX_ERROR;
    }

    v->chk.leeway = conf->leeway / 1000;

    /* init_main_conf has loaded the catalog: merging comes after it */

    rmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_rbac_module);
    catalog.data = (const char *) rmcf->catalog_text.data;
    catalog.len = rmcf->catalog_text.len;

    if (rbac_jwt_identity(v->ks, &v->chk, catalog, v->identity) != RBAC_OK) {
        return NGX_ERROR;
    }

    if (conf->jwks != NULL) {
        v->jwks = ngx_http_rbac_jwks_use(cf, conf->jwks, v->ks, &v->chk,
                                         catalog);
        if (v->jwks == NULL) {
            return NGX_ERROR;
        }
    }

    conf->verifier = v;

    return NGX_OK;
}


ngx_int_t
ngx_http_rbac_jwt_verify(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *conf, ngx_http_rbac_ctx_t *ctx,
    ngx_str_t *reason)
{
    uint8_t                        digest[RBAC_SHA256_LEN];
    ngx_int_t                      nrc;
    rbac_rc_t                      rc;
    rbac_str_t                     t;
    rbac_err_t                     err;
    const uint8_t                 *identity;
    rbac_allocator_t               a;
    rbac_jwt_result_t              res;
    rbac_jwt_keyset_t             *ks;
    ngx_http_rbac_cache_t         *cache;
    ngx_http_rbac_main_conf_t     *rmcf;
    ngx_http_rbac_jwt_verifier_t  *v;

    v = conf->verifier;
    ks = v->ks;
    identity = v->identity;

    if (v->jwks != NULL) {
        /* the set fetched from the JWKS location, and the server's keys */
        nrc = ngx_http_rbac_jwks_keys(r, ctx, v->jwks, &ks, &identity,
                                      reason);
        if (nrc != NGX_OK) {
            return nrc;
        }
    }

    t.data = (const char *) ctx->cred.data;
    t.len = ctx->cred.len;

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_rbac_module);
    cache = rmcf->cache;

    if (cache != NULL
        && t.len <= RBAC_MAX_TOKEN
        && rbac_jwt_cache_key(t, identity, digest) == RBAC_OK)
    {
        ctx->jwt_key.data = ngx_pnalloc(r->pool, NGX_HTTP_RBAC_JWT_KEY_LEN);
        if (ctx->jwt_key.data == NULL) {
            return NGX_ERROR;
        }

        ctx->jwt_key.len = NGX_HTTP_RBAC_JWT_KEY_LEN;
        ngx_memcpy(ngx_cpymem(ctx->jwt_key.data, "\1jwt", 4), digest,
                   sizeof(digest));

        /* read before any record: the subject is built under it */
        ctx->jwt_seq = ngx_http_rbac_cache_seq(cache);

        if (ngx_http_rbac_jwt_cached(r, cache, ctx) == NGX_OK) {
            return NGX_OK;
        }
    }

    a.alloc = ngx_http_rbac_palloc;
    a.free = ngx_http_rbac_pfree;
    a.ud = r->pool;

    ngx_memzero(&err, sizeof(rbac_err_t));
    ngx_memzero(&res, sizeof(rbac_jwt_result_t));

    rc = rbac_jwt_verify(ks, &v->chk, t, (int64_t) ngx_time(), &a, &res,
                         &err);

    if (rc == RBAC_ETOKEN && v->jwks != NULL
        && ngx_strcmp(err.msg, RBAC_JWT_R_UNKNOWN_KID) == 0
        && ngx_http_rbac_jwks_unknown_kid(r, ctx, v->jwks) == NGX_AGAIN)
    {
        /* the set fetched again, at most every kid_refetch= */
        return NGX_AGAIN;
    }

    if (rc == RBAC_ETOKEN) {
        reason->len = ngx_strlen(err.msg);
        reason->data = ngx_pnalloc(r->pool, reason->len);
        if (reason->data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(reason->data, err.msg, reason->len);

        return NGX_DECLINED;
    }

    if (rc != RBAC_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "rbac: JWT verification failed: %s (%s)",
                      err.msg, rbac_strerror(rc));
        return NGX_ERROR;
    }

    /* res.mem is pool memory: it lives as long as the request */
    ctx->uid.data = (u_char *) res.sub.data;
    ctx->uid.len = res.sub.len;
    ctx->claims.data = (u_char *) res.claims.data;
    ctx->claims.len = res.claims.len;
    ctx->jwt_exp = res.exp;

    return NGX_OK;
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
