
/*
 * ngx_http_rbac_module.c: the module definition: directives, configuration
 * (create, merge, checks that make `nginx -t` fail with a clear message),
 * the access-phase registration, per-worker Redis lifecycle and the $rbac_*
 * variables.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_rbac_module.h"
#include "ngx_http_rbac_jwt.h"
#include "ngx_http_rbac_jwks.h"


static ngx_int_t ngx_http_rbac_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_rbac_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_rbac_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_rbac_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_rbac_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_rbac_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_rbac_init_process(ngx_cycle_t *cycle);
static void ngx_http_rbac_exit_process(ngx_cycle_t *cycle);
static void ngx_http_rbac_on_message(void *data, u_char *msg, size_t len);

static char *ngx_http_rbac_roles(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_rbac_token(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_rbac_object(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_rbac_also(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_rbac_object_parse(ngx_conf_t *cf, const char *name,
    ngx_http_rbac_object_conf_t *obj, ngx_http_complex_value_t **action);
static char *ngx_http_rbac_principals(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_rbac_load_catalog(ngx_conf_t *cf,
    ngx_http_rbac_main_conf_t *rmcf, const char *json, size_t len,
    ngx_str_t *what);
static void ngx_http_rbac_free_catalog(void *data);
static ngx_int_t ngx_http_rbac_token_src(ngx_conf_t *cf, ngx_str_t *value,
    ngx_uint_t type, ngx_http_rbac_token_src_t *src);
static ngx_int_t ngx_http_rbac_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_rbac_reason_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_rbac_cache_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_conf_enum_t  ngx_http_rbac_modes[] = {
    { ngx_string("off"), NGX_HTTP_RBAC_OFF },
    { ngx_string("on"), NGX_HTTP_RBAC_ON },
    { ngx_string("shadow"), NGX_HTTP_RBAC_SHADOW },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_rbac_commands[] = {

    { ngx_string("rbac"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_rbac_loc_conf_t, mode),
      &ngx_http_rbac_modes },

    { ngx_string("rbac_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_rbac_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rbac_roles"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_rbac_roles,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rbac_token"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_rbac_token,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rbac_jwt_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_2MORE,
      ngx_http_rbac_jwt_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rbac_jwt_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE12,
      ngx_http_rbac_jwks_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rbac_jwt_key_request"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_1MORE,
      ngx_http_rbac_jwks_request,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rbac_jwt_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_1MORE,
      ngx_http_rbac_jwt_strings,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_rbac_loc_conf_t, issuers),
      NULL },

    { ngx_string("rbac_jwt_audience"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_1MORE,
      ngx_http_rbac_jwt_strings,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_rbac_loc_conf_t, audiences),
      NULL },

    { ngx_string("rbac_jwt_leeway"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_http_rbac_jwt_leeway,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_rbac_loc_conf_t, leeway),
      NULL },

    { ngx_string("rbac_object"),
      NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_rbac_object,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rbac_action"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_rbac_loc_conf_t, action),
      NULL },

    { ngx_string("rbac_app"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_rbac_loc_conf_t, app),
      NULL },

    { ngx_string("rbac_principals"),
      NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_rbac_principals,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rbac_identity_headers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_rbac_loc_conf_t, identity_headers),
      NULL },

    { ngx_string("rbac_also"),
      NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_rbac_also,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rbac_json_body"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_rbac_loc_conf_t, json_body),
      NULL },

    { ngx_string("rbac_cache_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE123,
      ngx_http_rbac_cache_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rbac_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_rbac_status,
      0,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_rbac_module_ctx = {
    ngx_http_rbac_preconfiguration,        /* preconfiguration */
    ngx_http_rbac_postconfiguration,       /* postconfiguration */

    ngx_http_rbac_create_main_conf,        /* create main configuration */
    ngx_http_rbac_init_main_conf,          /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_rbac_create_loc_conf,         /* create location configuration */
    ngx_http_rbac_merge_loc_conf           /* merge location configuration */
};


ngx_module_t  ngx_http_rbac_module = {
    NGX_MODULE_V1,
    &ngx_http_rbac_module_ctx,             /* module context */
    ngx_http_rbac_commands,                /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_rbac_init_process,            /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_rbac_exit_process,            /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_rbac_vars[] = {

    { ngx_string("rbac_user"), NULL, ngx_http_rbac_variable,
      offsetof(ngx_http_rbac_ctx_t, var_user), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("rbac_kind"), NULL, ngx_http_rbac_variable,
      offsetof(ngx_http_rbac_ctx_t, var_kind), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("rbac_decision"), NULL, ngx_http_rbac_variable,
      offsetof(ngx_http_rbac_ctx_t, var_decision),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("rbac_reason"), NULL, ngx_http_rbac_reason_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("rbac_cache"), NULL, ngx_http_rbac_cache_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("rbac_org"), NULL, ngx_http_rbac_variable,
      offsetof(ngx_http_rbac_ctx_t, var_org), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("rbac_roles"), NULL, ngx_http_rbac_variable,
      offsetof(ngx_http_rbac_ctx_t, var_roles),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("rbac_body_"), NULL, ngx_http_rbac_body_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

      ngx_http_null_variable
};


static ngx_int_t
ngx_http_rbac_preconfiguration(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_rbac_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_rbac_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    /* a dynamic module's handler runs first in the access phase */
    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_rbac_handler;

    /* client copies of X-Rbac-* go before the rewrite phases */
    h = ngx_array_push(&cmcf->phases[NGX_HTTP_POST_READ_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_rbac_post_read_handler;

    return ngx_http_rbac_stats_add(cf);
}


static void *
ngx_http_rbac_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_rbac_main_conf_t  *rmcf;

    rmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_rbac_main_conf_t));
    if (rmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     rmcf->redis_set = 0;
     *     rmcf->catalog = NULL;
     *     rmcf->catalog_text = { 0, NULL };
     *     rmcf->cache = NULL;
     *     rmcf->conn = NULL;
     *     rmcf->sub = NULL;
     */

    return rmcf;
}


static char *
ngx_http_rbac_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_rbac_main_conf_t *rmcf = conf;

    ngx_str_t  what = ngx_string("the built-in catalog");

    if (rmcf->cache != NULL) {
        ngx_http_rbac_cache_source(rmcf->cache, &rmcf->redis);
    }

    if (rmcf->redis_set
        && ngx_http_rbac_redis_resolver(cf, &rmcf->redis) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (rmcf->catalog != NULL) {
        return NGX_CONF_OK;
    }

    return ngx_http_rbac_load_catalog(cf, rmcf,
                                      (const char *) rbac_builtin_catalog,
                                      rbac_builtin_catalog_len, &what);
}


static void *
ngx_http_rbac_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_rbac_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_rbac_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->tokens = NULL;
     *     conf->jwt_keys = NULL;
     *     conf->verifier = NULL;
     *     conf->object = NULL;
     *     conf->action = NULL;
     *     conf->app = NULL;
     *     conf->principals = 0;
     *     conf->alike = NULL;
     *     conf->twin = NULL;
     */

    conf->mode = NGX_CONF_UNSET_UINT;
    conf->issuers = NGX_CONF_UNSET_PTR;
    conf->audiences = NGX_CONF_UNSET_PTR;
    conf->leeway = NGX_CONF_UNSET_MSEC;
    conf->identity_headers = NGX_CONF_UNSET;
    conf->json_body = NGX_CONF_UNSET_SIZE;

    return conf;
}


static char *
ngx_http_rbac_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_rbac_loc_conf_t *prev = parent;
    ngx_http_rbac_loc_conf_t *conf = child;

    static ngx_str_t  defaults[] = {
        ngx_string("$http_authorization"),
        ngx_string("$http_coder_session_token"),
        ngx_string("$cookie_coder_session_token"),
        ngx_string("$arg_coder_session_token")
    };

    ngx_uint_t                  i;
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_rbac_main_conf_t  *rmcf;
    ngx_http_rbac_token_src_t  *src;

    ngx_conf_merge_uint_value(conf->mode, prev->mode, NGX_HTTP_RBAC_OFF);
    ngx_conf_merge_ptr_value(conf->issuers, prev->issuers, NULL);
    ngx_conf_merge_ptr_value(conf->audiences, prev->audiences, NULL);
    ngx_conf_merge_msec_value(conf->leeway, prev->leeway, 30000);
    ngx_conf_merge_value(conf->identity_headers, prev->identity_headers, 1);
    ngx_conf_merge_size_value(conf->json_body, prev->json_body, 0);

    /*
     * A nested location decides like the one around it unless it says
     * otherwise: it must never lose its object or action silently.
     */
    if (conf->object == NULL) {
        conf->object = prev->object;
    }

    if (conf->action == NULL) {
        conf->action = prev->action;
    }

    if (conf->also == NULL) {
        conf->also = prev->also;
    }

    if (conf->app == NULL) {
        conf->app = prev->app;
    }

    if (conf->app != NULL
        && (conf->object == NULL || conf->object->type != RBAC_T_WORKSPACE))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_app\" needs \"rbac_object workspace\" "
                           "in the same location");
        return NGX_CONF_ERROR;
    }

    if (conf->principals == 0) {
        conf->principals = prev->principals;
    }

    if (conf->tokens == NULL) {

        if (prev->tokens == NULL) {
            prev->tokens = ngx_array_create(cf->pool, 4,
                                            sizeof(ngx_http_rbac_token_src_t));
            if (prev->tokens == NULL) {
                return NGX_CONF_ERROR;
            }

            for (i = 0; i < sizeof(defaults) / sizeof(ngx_str_t); i++) {
                src = ngx_array_push(prev->tokens);
                if (src == NULL) {
                    return NGX_CONF_ERROR;
                }

                if (ngx_http_rbac_token_src(cf, &defaults[i],
                                            NGX_HTTP_RBAC_CRED_AUTO, src)
                    != NGX_OK)
                {
                    return NGX_CONF_ERROR;
                }
            }
        }

        conf->tokens = prev->tokens;
    }

    if (ngx_http_rbac_carrier_init(cf, conf, prev) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (conf->jwt_keys == NULL) {
        conf->jwt_keys = prev->jwt_keys;
    }

    if (conf->jwks == NULL) {
        conf->jwks = prev->jwks;
    }

    if (prev->verifier != NULL && conf->jwt_keys == prev->jwt_keys
        && conf->jwks == prev->jwks
        && conf->issuers == prev->issuers && conf->audiences == prev->audiences
        && conf->leeway == prev->leeway)
    {
        conf->verifier = prev->verifier;

    } else if (ngx_http_rbac_jwt_init(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (conf->mode == NGX_HTTP_RBAC_OFF) {
        return NGX_CONF_OK;
    }

    rmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_rbac_module);

    if (!rmcf->redis_set) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac\" is enabled but no \"rbac_redis\" "
                           "is configured");
        return NGX_CONF_ERROR;
    }

    /* workers reach Redis only when some location decides */
    rmcf->used = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->satisfy == NGX_HTTP_SATISFY_ANY) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac\" cannot be enabled with \"satisfy any\" "
                           "in location \"%V\"", &clcf->name);
        return NGX_CONF_ERROR;
    }

    if (conf->also != NULL && conf->object == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_also\" requires \"rbac_object\" "
                           "in location \"%V\"", &clcf->name);
        return NGX_CONF_ERROR;
    }

    /*
     * rbac_json_body decides on a body held in memory, never in a file:
     * room for the body and for its chunk framing
     */
    if (clcf->client_body_buffer_size < 2 * conf->json_body) {
        clcf->client_body_buffer_size = 2 * conf->json_body;
    }

    /* which locations a decision carries over to after a redirect */
    return ngx_http_rbac_memo_classify(cf, conf) == NGX_OK ? NGX_CONF_OK
                                                         : NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_rbac_init_process(ngx_cycle_t *cycle)
{
    ngx_http_rbac_main_conf_t  *rmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    rmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_rbac_module);
    if (rmcf == NULL || !rmcf->redis_set || !rmcf->used) {
        return NGX_OK;
    }

    ngx_http_rbac_stat_worker(NGX_HTTP_RBAC_W_PID, ngx_pid);
    ngx_http_rbac_flights_init(rmcf);

    rmcf->conn = ngx_http_rbac_redis_create(cycle, &rmcf->redis);
    if (rmcf->conn == NULL) {
        return NGX_ERROR;
    }

    if (rmcf->cache != NULL) {
        rmcf->sub = ngx_http_rbac_redis_subscribe(cycle, &rmcf->redis,
                                                  ngx_http_rbac_on_message,
                                                  rmcf);
        if (rmcf->sub == NULL) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* The subscriber: a key changed, or messages may have been lost (NULL). */
static void
ngx_http_rbac_on_message(void *data, u_char *msg, size_t len)
{
    ngx_http_rbac_main_conf_t *rmcf = data;

    if (msg == NULL) {
        if (rmcf->cache != NULL) {
            ngx_http_rbac_cache_invalidate(rmcf->cache, NULL);
        }

        return;
    }

    ngx_http_rbac_invalidated(rmcf, msg, len);
}


static void
ngx_http_rbac_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_rbac_main_conf_t  *rmcf;

    ngx_http_rbac_idpsync_exit();

    rmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_rbac_module);
    if (rmcf == NULL || rmcf->conn == NULL) {
        return;
    }

    ngx_http_rbac_stat_worker(NGX_HTTP_RBAC_W_PID, 0);

    ngx_http_rbac_redis_destroy(rmcf->sub);
    rmcf->sub = NULL;

    ngx_http_rbac_redis_destroy(rmcf->conn);
    rmcf->conn = NULL;
}


static char *
ngx_http_rbac_roles(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rbac_main_conf_t *rmcf = conf;

    ngx_str_t  *value, json;

    if (rmcf->catalog != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    rmcf->roles_file = value[1];

    if (ngx_http_rbac_read_file(cf, &rmcf->roles_file, RBAC_MAX_RECORD * 16,
                                &json)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return ngx_http_rbac_load_catalog(cf, rmcf, (const char *) json.data,
                                      json.len, &rmcf->roles_file);
}


static char *
ngx_http_rbac_load_catalog(ngx_conf_t *cf, ngx_http_rbac_main_conf_t *rmcf,
    const char *json, size_t len, ngx_str_t *what)
{
    rbac_rc_t            rc;
    rbac_err_t           err;
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&err, sizeof(rbac_err_t));

    rc = rbac_catalog_load(json, len, &rbac_malloc_allocator, &rmcf->catalog,
                           &err);
    if (rc != RBAC_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_roles\": invalid catalog %V: %s (%s)",
                           what, err.msg, rbac_strerror(rc));
        rmcf->catalog = NULL;
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_rbac_free_catalog;
    cln->data = rmcf->catalog;

    rmcf->catalog_text.data = (u_char *) json;
    rmcf->catalog_text.len = len;

    return NGX_CONF_OK;
}


static void
ngx_http_rbac_free_catalog(void *data)
{
    rbac_catalog_free(data, &rbac_malloc_allocator);
}


static ngx_int_t
ngx_http_rbac_token_src(ngx_conf_t *cf, ngx_str_t *value, ngx_uint_t type,
    ngx_http_rbac_token_src_t *src)
{
    u_char                             c;
    ngx_uint_t                         i, j;
    ngx_http_compile_complex_value_t   ccv;

    /* in the order of NGX_HTTP_RBAC_CARRIER_HEADER, _COOKIE, _ARG */
    static ngx_str_t  prefix[] = {
        ngx_string("$http_"),
        ngx_string("$cookie_"),
        ngx_string("$arg_")
    };

    ngx_memzero(src, sizeof(ngx_http_rbac_token_src_t));
    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = value;
    ccv.complex_value = &src->value;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_ERROR;
    }

    src->type = type;

    /* a header, cookie or argument alone: every copy of it is read */
    for (i = 0; i < sizeof(prefix) / sizeof(ngx_str_t); i++) {
        if (value->len <= prefix[i].len
            || ngx_strncasecmp(value->data, prefix[i].data, prefix[i].len)
               != 0)
        {
            continue;
        }

        for (j = prefix[i].len; j < value->len; j++) {
            c = value->data[j] | 0x20;

            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                  || value->data[j] == '_'))
            {
                break;
            }
        }

        if (j == value->len) {
            src->carrier = i + 1;
            src->name.data = value->data + prefix[i].len;
            src->name.len = value->len - prefix[i].len;
        }

        break;
    }

    src->authorization = (src->carrier == NGX_HTTP_RBAC_CARRIER_HEADER
                          && src->name.len == sizeof("authorization") - 1
                          && ngx_strncasecmp(src->name.data,
                                             (u_char *) "authorization",
                                             src->name.len)
                             == 0);

    return NGX_OK;
}


static char *
ngx_http_rbac_token(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rbac_loc_conf_t *rlcf = conf;

    ngx_str_t                  *value;
    ngx_uint_t                  type;
    ngx_http_rbac_token_src_t  *src;

    value = cf->args->elts;
    type = NGX_HTTP_RBAC_CRED_AUTO;

    if (cf->args->nelts == 3) {
        if (ngx_strcmp(value[2].data, "type=jwt") == 0) {
            type = NGX_HTTP_RBAC_CRED_JWT;

        } else if (ngx_strcmp(value[2].data, "type=api_token") == 0) {
            type = NGX_HTTP_RBAC_CRED_API_TOKEN;

        } else if (ngx_strcmp(value[2].data, "type=provisioner_key") == 0) {
            type = NGX_HTTP_RBAC_CRED_PKEY;

        } else if (ngx_strcmp(value[2].data, "type=coder_provisioner_key")
                   == 0)
        {
            type = NGX_HTTP_RBAC_CRED_PKEY_BARE;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"rbac_token\": invalid parameter \"%V\" "
                               "(type=jwt|api_token|provisioner_key"
                               "|coder_provisioner_key)",
                               &value[2]);
            return NGX_CONF_ERROR;
        }
    }

    if (rlcf->tokens == NULL) {
        rlcf->tokens = ngx_array_create(cf->pool, 2,
                                        sizeof(ngx_http_rbac_token_src_t));
        if (rlcf->tokens == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    src = ngx_array_push(rlcf->tokens);
    if (src == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_rbac_token_src(cf, &value[1], type, src) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_rbac_object(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rbac_loc_conf_t *rlcf = conf;

    char                         *rv;
    ngx_http_rbac_object_conf_t  *obj;

    if (rlcf->object != NULL) {
        return "is duplicate";
    }

    obj = ngx_pcalloc(cf->pool, sizeof(ngx_http_rbac_object_conf_t));
    if (obj == NULL) {
        return NGX_CONF_ERROR;
    }

    rv = ngx_http_rbac_object_parse(cf, "rbac_object", obj, NULL);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    rlcf->object = obj;

    return NGX_CONF_OK;
}


static char *
ngx_http_rbac_also(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rbac_loc_conf_t *rlcf = conf;

    char                       *rv;
    ngx_http_rbac_also_conf_t  *also;

    if (rlcf->also == NULL) {
        rlcf->also = ngx_array_create(cf->pool, 2,
                                      sizeof(ngx_http_rbac_also_conf_t));
        if (rlcf->also == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    also = ngx_array_push(rlcf->also);
    if (also == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(also, sizeof(ngx_http_rbac_also_conf_t));

    rv = ngx_http_rbac_object_parse(cf, "rbac_also", &also->object,
                                    &also->action);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (also->action == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_also\": \"action=\" is required");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The arguments of rbac_object and rbac_also: a resource type, then id=,
 * org=, owner= (variables allowed), any_org, and for rbac_also action=.
 */
static char *
ngx_http_rbac_object_parse(ngx_conf_t *cf, const char *name,
    ngx_http_rbac_object_conf_t *obj, ngx_http_complex_value_t **action)
{
    ngx_str_t                          *value, s;
    ngx_uint_t                          i;
    rbac_rc_t                           rc;
    rbac_str_t                          type, arg, rest;
    rbac_arg_t                          which;
    rbac_refkind_t                      kind;
    ngx_http_complex_value_t          **cvp;
    ngx_http_compile_complex_value_t    ccv;

    value = cf->args->elts;

    type.data = (const char *) value[1].data;
    type.len = value[1].len;

    obj->type_name = value[1];
    obj->type = rbac_type_from_name(type);

    if (obj->type == RBAC_T_OTHER) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\": unknown resource type \"%V\"", name,
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strcmp(value[i].data, "any_org") == 0) {
            obj->any_org = 1;
            continue;
        }

        which = RBAC_ARG_ID;

        if (ngx_strncmp(value[i].data, "id=", 3) == 0) {
            cvp = &obj->id;
            s.data = value[i].data + 3;
            s.len = value[i].len - 3;

        } else if (ngx_strncmp(value[i].data, "org=", 4) == 0) {
            cvp = &obj->org;
            which = RBAC_ARG_ORG;
            s.data = value[i].data + 4;
            s.len = value[i].len - 4;

        } else if (ngx_strncmp(value[i].data, "owner=", 6) == 0) {
            cvp = &obj->owner;
            which = RBAC_ARG_OWNER;
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

        } else if (action != NULL
                   && ngx_strncmp(value[i].data, "action=", 7) == 0)
        {
            cvp = action;
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%s\": invalid parameter \"%V\"", name,
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        if (*cvp != NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%s\": duplicate \"%V\"", name, &value[i]);
            return NGX_CONF_ERROR;
        }

        if (cvp != action) {
            /* "@kind:value": a reference (docs/references.md) */
            arg.data = (const char *) s.data;
            arg.len = s.len;

            rc = rbac_refarg_split(arg, &kind, &rest);

            if (rc != RBAC_OK) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%s\": %s in \"%V\" (references are "
                                   "@<kind>:<value>)", name,
                                   rc == RBAC_EUNKNOWN
                                   ? "unknown kind of reference"
                                   : "no \":\" after the kind",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            if (!rbac_refkind_fits(kind, obj->type, which)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%s\": \"%V\": a reference of kind "
                                   "\"%s\" names a %s, not the %s this "
                                   "argument names", name, &value[i],
                                   rbac_refkind_name(kind),
                                   rbac_type_name(rbac_refkind_target(kind)),
                                   which == RBAC_ARG_ORG ? "organization"
                                   : which == RBAC_ARG_OWNER ? "user"
                                   : (char *) obj->type_name.data);
                return NGX_CONF_ERROR;
            }

            if (kind != RBAC_RK_NONE && rest.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%s\": \"%V\": nothing after the "
                                   "kind", name, &value[i]);
                return NGX_CONF_ERROR;
            }

            obj->kind[which] = kind;
            s.data = (u_char *) rest.data;
            s.len = rest.len;
        }

        *cvp = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
        if (*cvp == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &s;
        ccv.complex_value = *cvp;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (obj->any_org && obj->id != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\": \"any_org\" names no object, it cannot "
                           "be used with \"id=\"", name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_rbac_principals(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rbac_loc_conf_t *rlcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (rlcf->principals) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strcmp(value[i].data, "user") == 0) {
            rlcf->principals |= NGX_HTTP_RBAC_KIND_BIT(RBAC_KIND_USER);

        } else if (ngx_strcmp(value[i].data, "service_account") == 0) {
            rlcf->principals |=
                NGX_HTTP_RBAC_KIND_BIT(RBAC_KIND_SERVICE_ACCOUNT);

        } else if (ngx_strcmp(value[i].data, "provisioner") == 0) {
            rlcf->principals |= NGX_HTTP_RBAC_KIND_BIT(RBAC_KIND_PROVISIONER);

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"rbac_principals\": unknown kind \"%V\" "
                               "(user|service_account|provisioner)",
                               &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_rbac_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    ngx_str_t            *s;
    ngx_http_rbac_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_rbac_module);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = (ngx_str_t *) ((u_char *) ctx + data);

    if (s->data == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = s->len;
    v->data = s->data;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_rbac_reason_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    return ngx_http_rbac_variable(r, v,
                                  offsetof(ngx_http_rbac_ctx_t, reason));
}


static ngx_int_t
ngx_http_rbac_cache_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_rbac_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_rbac_module);

    if (ctx == NULL || !(ctx->used_redis || ctx->used_stale
                         || ctx->used_cache))
    {
        v->not_found = 1;
        return NGX_OK;
    }

    /* the worst of the request's lookups */
    if (ctx->used_stale) {
        ngx_str_set(v, "stale");

    } else if (ctx->used_redis) {
        ngx_str_set(v, "miss");

    } else {
        ngx_str_set(v, "hit");
    }
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}
