
/*
 * ngx_http_rbac_jwks.h: JWT keys from JWKS documents: rbac_jwt_key_file
 * (a file read at configuration time) over core/rbac_jwks.h.
 */


#ifndef _NGX_HTTP_RBAC_JWKS_H_INCLUDED_
#define _NGX_HTTP_RBAC_JWKS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_rbac_module.h"


/*
 * An empty JWT key set in the configuration's pool, freed with it (the
 * set of rbac_jwt_key and rbac_jwt_key_file).  NULL when out of memory.
 */
rbac_jwt_keyset_t *ngx_http_rbac_jwks_keyset(ngx_conf_t *cf);

/* rbac_jwt_key_file <file> [alg=<ALG>] */
char *ngx_http_rbac_jwks_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_RBAC_JWKS_H_INCLUDED_ */
