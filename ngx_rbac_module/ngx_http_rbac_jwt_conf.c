
/*
 * ngx_http_rbac_jwt_conf.c: the directives rbac_jwt_key, rbac_jwt_issuer,
 * rbac_jwt_audience and rbac_jwt_leeway.  Keys are checked when the
 * directive is read, so a key that does not fit its alg fails `nginx -t`
 * on its line.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_rbac_jwt.h"
#include "ngx_http_rbac_jwks.h"


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
