
/*
 * ngx_http_rbac_jwt.c: the verifier each location uses, built at merge
 * from its keys (rbac_jwt_key, or the set of rbac_jwt_key_request) and
 * checks (issuers, audiences, leeway), and run on the bare JWT of a
 * request.  A token verified before is taken from the cache
 * (ngx_http_rbac_jwt_cache.c) without verifying it again.
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


static rbac_rc_t ngx_http_rbac_jwt_strs(ngx_conf_t *cf, ngx_array_t *a,
    const rbac_str_t **out, size_t *n);


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
    ngx_int_t                      nrc;
    rbac_rc_t                      rc;
    rbac_str_t                     t;
    rbac_err_t                     err;
    const uint8_t                 *identity;
    rbac_allocator_t               a;
    rbac_jwt_result_t              res;
    rbac_jwt_keyset_t             *ks;
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

    nrc = ngx_http_rbac_jwt_lookup(r, ctx, identity);
    if (nrc != NGX_DECLINED) {
        return nrc;             /* verified before, or NGX_ERROR */
    }

    t.data = (const char *) ctx->cred.data;
    t.len = ctx->cred.len;

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
