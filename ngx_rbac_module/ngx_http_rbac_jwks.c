
/*
 * ngx_http_rbac_jwks.c: JWT keys from JWKS documents.  rbac_jwt_key_file
 * reads a JWKS at configuration time into the server's key set (the one
 * rbac_jwt_key fills): a key refused fails `nginx -t`, naming its kid.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "rbac_jwks.h"
#include "ngx_http_rbac_jwks.h"


/* What rbac_jwt_key_file reports through: the conf and the file's name. */
typedef struct {
    ngx_conf_t   *cf;
    ngx_str_t    *file;
    ngx_uint_t    refused;
} ngx_http_rbac_jwks_conf_report_t;


static void ngx_http_rbac_jwks_keyset_cleanup(void *data);
static void ngx_http_rbac_jwks_conf_report(void *ud, size_t index,
    rbac_str_t kid, rbac_jwks_verdict_t verdict, const char *why);


rbac_jwt_keyset_t *
ngx_http_rbac_jwks_keyset(ngx_conf_t *cf)
{
    rbac_err_t           err;
    rbac_allocator_t    *a;
    rbac_jwt_keyset_t   *ks;
    ngx_pool_cleanup_t  *cln;

    a = ngx_palloc(cf->pool, sizeof(rbac_allocator_t));
    if (a == NULL) {
        return NULL;
    }

    a->alloc = ngx_http_rbac_palloc;
    a->free = ngx_http_rbac_pfree;
    a->ud = cf->pool;

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    ngx_memzero(&err, sizeof(rbac_err_t));

    ks = rbac_jwt_keyset_create(a, &err);
    if (ks == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_rbac_jwks_keyset_cleanup;
    cln->data = ks;

    return ks;
}


static void
ngx_http_rbac_jwks_keyset_cleanup(void *data)
{
    rbac_jwt_keyset_free(data);
}


ngx_int_t
ngx_http_rbac_jwks_alg_param(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *v, rbac_jwt_alg_t *alg)
{
    rbac_str_t  name;

    if (v->len <= 4 || ngx_strncmp(v->data, "alg=", 4) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid parameter \"%V\"", &cmd->name,
                           v);
        return NGX_ERROR;
    }

    name.data = (const char *) v->data + 4;
    name.len = v->len - 4;

    *alg = rbac_jwt_alg_parse(name);

    if (*alg == RBAC_JWT_ALG_NONE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": unsupported \"%V\" (HS256..HS512, "
                           "RS256..RS512, ES256..ES512)", &cmd->name, v);
        return NGX_ERROR;
    }

    return NGX_OK;
}


char *
ngx_http_rbac_jwks_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rbac_loc_conf_t *rlcf = conf;

    size_t                            added;
    ngx_str_t                        *value, doc;
    rbac_rc_t                         rc;
    rbac_str_t                        text;
    rbac_err_t                        err;
    rbac_jwt_alg_t                    alg;
    ngx_http_rbac_jwks_conf_report_t  rep;

    value = cf->args->elts;
    alg = RBAC_JWT_ALG_NONE;

    if (cf->args->nelts == 3
        && ngx_http_rbac_jwks_alg_param(cf, cmd, &value[2], &alg) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_rbac_read_file(cf, &value[1], RBAC_JWKS_MAX_DOC, &doc)
        != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_jwt_key_file\": cannot read \"%V\" (at "
                           "most %d bytes)", &value[1], RBAC_JWKS_MAX_DOC);
        return NGX_CONF_ERROR;
    }

    if (rlcf->jwt_keys == NULL) {
        rlcf->jwt_keys = ngx_http_rbac_jwks_keyset(cf);
        if (rlcf->jwt_keys == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    rep.cf = cf;
    rep.file = &value[1];
    rep.refused = 0;

    text.data = (const char *) doc.data;
    text.len = doc.len;

    ngx_memzero(&err, sizeof(rbac_err_t));

    rc = rbac_jwks_add(rlcf->jwt_keys, text, alg,
                       ngx_http_rbac_jwks_conf_report, &rep, &added, &err);

    if (rc != RBAC_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_jwt_key_file\": \"%V\": %s", &value[1],
                           err.msg[0] ? err.msg : rbac_strerror(rc));
        return NGX_CONF_ERROR;
    }

    if (rep.refused) {
        return NGX_CONF_ERROR;
    }

    if (added == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_jwt_key_file\": \"%V\" has no signing key "
                           "this module can use", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* A refused key fails the configuration; a skipped one is a warning. */
static void
ngx_http_rbac_jwks_conf_report(void *ud, size_t index, rbac_str_t kid,
    rbac_jwks_verdict_t verdict, const char *why)
{
    ngx_http_rbac_jwks_conf_report_t  *rep = ud;

    ngx_uint_t  level;

    if (verdict == RBAC_JWKS_ADDED) {
        return;
    }

    level = NGX_LOG_WARN;

    if (verdict == RBAC_JWKS_REFUSED) {
        level = NGX_LOG_EMERG;
        rep->refused++;
    }

    if (kid.len > 0) {
        ngx_conf_log_error(level, rep->cf, 0,
                           "\"rbac_jwt_key_file\": \"%V\": key kid=\"%*s\" "
                           "%s: %s", rep->file, kid.len, kid.data,
                           verdict == RBAC_JWKS_REFUSED ? "refused"
                                                        : "skipped", why);
        return;
    }

    ngx_conf_log_error(level, rep->cf, 0,
                       "\"rbac_jwt_key_file\": \"%V\": key #%uz (no kid) "
                       "%s: %s", rep->file, index + 1,
                       verdict == RBAC_JWKS_REFUSED ? "refused" : "skipped",
                       why);
}
