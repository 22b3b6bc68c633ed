
/*
 * ngx_http_rbac_jwt.h: JWTs, over core/rbac_jwt.h: the directives
 * (ngx_http_rbac_jwt_conf.c), the per-location verifier
 * (ngx_http_rbac_jwt.c) and the cache of verified tokens with their
 * subjects (ngx_http_rbac_jwt_cache.c).
 */


#ifndef _NGX_HTTP_RBAC_JWT_H_INCLUDED_
#define _NGX_HTTP_RBAC_JWT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_rbac_module.h"


/* ngx_http_rbac_jwt_conf.c */

/* rbac_jwt_key <file> alg=<ALG> [kid=<kid>] */
char *ngx_http_rbac_jwt_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/* rbac_jwt_issuer / rbac_jwt_audience <value>... */
char *ngx_http_rbac_jwt_strings(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* rbac_jwt_leeway <time>: at most 5m */
char *ngx_http_rbac_jwt_leeway(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


/* ngx_http_rbac_jwt.c */

/* From merge: builds conf->verifier from the merged keys and checks. */
ngx_int_t ngx_http_rbac_jwt_init(ngx_conf_t *cf,
    ngx_http_rbac_loc_conf_t *conf);

/*
 * Verifies the bare JWT ctx->cred, or finds it verified in the cache
 * (rbac_cache_zone: by SHA-256 of the token and of this verifier's keys
 * and checks, never past exp).  NGX_OK with ctx->uid set and either
 * ctx->claims (verified now) or, from the cache, the subject when it is
 * still current (ctx->idp_done); NGX_DECLINED with *reason set to the 401
 * detail; NGX_AGAIN while the keys of rbac_jwt_key_request are fetched
 * (the request is woken and verifies again); NGX_ERROR on a server-side
 * failure.
 */
ngx_int_t ngx_http_rbac_jwt_verify(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *conf, ngx_http_rbac_ctx_t *ctx,
    ngx_str_t *reason);


/* ngx_http_rbac_jwt_cache.c */

/*
 * The bare JWT ctx->cred verified before under `identity` (the digest of
 * the verifier's keys and checks), from the cache zone: NGX_OK with
 * ctx->uid and ctx->jwt_exp set, and the subject (ctx->idp_user,
 * idp_done) when no invalidation arrived since it was built; NGX_DECLINED
 * on a miss (ctx->jwt_key and jwt_seq are then set when the token can be
 * cached by ngx_http_rbac_jwt_store); NGX_ERROR when out of memory.
 */
ngx_int_t ngx_http_rbac_jwt_lookup(ngx_http_request_t *r,
    ngx_http_rbac_ctx_t *ctx, const uint8_t *identity);

/* ctx->claims of a token found in the cache: its payload decoded again. */
ngx_int_t ngx_http_rbac_jwt_claims(ngx_http_request_t *r,
    ngx_http_rbac_ctx_t *ctx);

/*
 * Caches the verified token with its subject (`user`, NULL: unknown),
 * unless a lookup of the request was served stale or an invalidation
 * arrived since the verification.
 */
void ngx_http_rbac_jwt_store(ngx_http_request_t *r, ngx_http_rbac_ctx_t *ctx,
    rbac_user_rec_t *user);

#endif /* _NGX_HTTP_RBAC_JWT_H_INCLUDED_ */
