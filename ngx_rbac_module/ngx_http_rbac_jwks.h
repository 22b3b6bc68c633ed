
/*
 * ngx_http_rbac_jwks.h: JWT keys from JWKS documents, over
 * core/rbac_jwks.h: rbac_jwt_key_file (a file read at configuration time)
 * and rbac_jwt_key_request (a set fetched by a subrequest, kept in shared
 * memory for every worker, refreshed before it expires and when a token
 * names a kid it lacks).
 */


#ifndef _NGX_HTTP_RBAC_JWKS_H_INCLUDED_
#define _NGX_HTTP_RBAC_JWKS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_rbac_module.h"
#include "rbac_jwks.h"


/*
 * An empty JWT key set in the configuration's pool, freed with it (the
 * set of rbac_jwt_key and rbac_jwt_key_file).  NULL when out of memory.
 */
rbac_jwt_keyset_t *ngx_http_rbac_jwks_keyset(ngx_conf_t *cf);

/* alg=<ALG> (NGX_OK), or an error logged on the directive (NGX_ERROR). */
ngx_int_t ngx_http_rbac_jwks_alg_param(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *v, rbac_jwt_alg_t *alg);

/* rbac_jwt_key_file <file> [alg=<ALG>] */
char *ngx_http_rbac_jwks_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * rbac_jwt_key_request <uri> [alg=<ALG>] [min_refresh=<time>]
 *     [max_refresh=<time>] [max_age=<time>] [kid_refetch=<time>]
 */
char *ngx_http_rbac_jwks_request(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * From the verifier's init: what a server verifies with when it has a
 * rbac_jwt_key_request (jwks): its own keys `base` and the fetched set,
 * the identity computed with chk and catalog (both must outlive the
 * cycle).  NULL when out of memory.
 */
void *ngx_http_rbac_jwks_use(ngx_conf_t *cf, void *jwks,
    rbac_jwt_keyset_t *base, const rbac_jwt_checks_t *chk,
    rbac_str_t catalog);

/*
 * The key set and its identity to verify a request's token with.  NGX_OK;
 * NGX_AGAIN: the set is being fetched, the request is woken (ctx->wake)
 * when it is there; NGX_DECLINED: no usable set (never fetched, or older
 * than max_age and the identity provider unreachable), *reason says so;
 * NGX_ERROR.
 */
ngx_int_t ngx_http_rbac_jwks_keys(ngx_http_request_t *r,
    ngx_http_rbac_ctx_t *ctx, void *use, rbac_jwt_keyset_t **ks,
    const uint8_t **identity, ngx_str_t *reason);

/*
 * A token named a kid the set lacks: NGX_AGAIN when the set is fetched
 * again for it (at most every kid_refetch, at most once per request),
 * NGX_DECLINED otherwise.
 */
ngx_int_t ngx_http_rbac_jwks_unknown_kid(ngx_http_request_t *r,
    ngx_http_rbac_ctx_t *ctx, void *use);

/*
 * For the decision memo's key: *tag 0 without rbac_jwt_key_request, else
 * the generation of the fetched set.  NGX_DECLINED when the set is not to
 * be used as it is (none, older than max_age, or due for a fetch): the
 * memo is then neither read nor written.
 */
ngx_int_t ngx_http_rbac_jwks_memo_tag(ngx_http_rbac_loc_conf_t *lcf,
    ngx_atomic_uint_t *tag);

/* rbac_status: ,"jwks":[...] (JSON) or rbac_jwks_* lines (Prometheus). */
size_t ngx_http_rbac_jwks_status_size(ngx_http_request_t *r);
u_char *ngx_http_rbac_jwks_status(ngx_http_request_t *r, u_char *p,
    ngx_uint_t prometheus);


#endif /* _NGX_HTTP_RBAC_JWKS_H_INCLUDED_ */
