
/*
 * ngx_http_rbac_redis_conf.c: the rbac_redis directive: the address (or
 * the sentinels and the master's name), db, ACL user and password files,
 * prefix, timeout and the ssl* parameters, checked so that `nginx -t`
 * names the parameter at fault; and, from init_main_conf, nginx's
 * resolver for the host names it gives.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_rbac_module.h"


/* What rbac_redis's parameters give besides ngx_http_rbac_redis_conf_t. */
typedef struct {
    ngx_str_t                   list;        /* sentinel= */
    ngx_str_t                   master;      /* master= */
    ngx_str_t                   user;        /* sentinel_user= */
    ngx_str_t                   password;    /* sentinel_password= (read) */
    ngx_array_t                *ssl;         /* the ssl* parameters */
} ngx_http_rbac_redis_args_t;

/* What the ssl* parameters give besides ngx_http_rbac_tls_t. */
typedef struct {
    ngx_str_t                   trusted;     /* ssl_trusted_certificate= */
    ngx_str_t                   cert;        /* ssl_certificate= */
    ngx_str_t                   key;         /* ssl_certificate_key= */
    ngx_str_t                   ciphers;     /* ssl_ciphers= */
    ngx_int_t                   depth;       /* ssl_verify_depth= (100) */
    ngx_uint_t                  protocols;   /* ssl_protocols= */
    ngx_uint_t                  on;          /* ssl */
} ngx_http_rbac_ssl_args_t;


static ngx_int_t ngx_http_rbac_redis_addr(ngx_conf_t *cf,
    ngx_http_rbac_redis_conf_t *rc, ngx_str_t *value);
static ngx_int_t ngx_http_rbac_redis_param(ngx_conf_t *cf,
    ngx_http_rbac_redis_conf_t *rc, ngx_http_rbac_redis_args_t *args,
    ngx_str_t *value);
static ngx_int_t ngx_http_rbac_param_done(ngx_conf_t *cf, ngx_int_t rv,
    ngx_str_t *value);
static ngx_int_t ngx_http_rbac_redis_sentinel(ngx_conf_t *cf,
    ngx_http_rbac_redis_conf_t *rc, ngx_http_rbac_redis_args_t *args);
static ngx_http_rbac_sentinel_conf_t *ngx_http_rbac_sentinels(ngx_conf_t *cf,
    ngx_str_t *list);
static ngx_int_t ngx_http_rbac_parse_inet(ngx_conf_t *cf, ngx_str_t *addr,
    ngx_str_t *host, ngx_int_t *port);
static ngx_int_t ngx_http_rbac_secret(ngx_conf_t *cf, ngx_str_t *value,
    size_t skip, ngx_str_t *secret);
static char *ngx_http_rbac_redis_ssl(ngx_conf_t *cf,
    ngx_http_rbac_redis_conf_t *rc, ngx_array_t *params);
static ngx_int_t ngx_http_rbac_ssl_param(ngx_conf_t *cf,
    ngx_http_rbac_tls_t *tls, ngx_http_rbac_ssl_args_t *args,
    ngx_str_t *value);
static ngx_int_t ngx_http_rbac_onoff(ngx_str_t *v, ngx_flag_t *flag);
static ngx_int_t ngx_http_rbac_ssl_protocols(ngx_conf_t *cf, ngx_str_t *v,
    ngx_str_t *value, ngx_uint_t *protocols);
static ngx_int_t ngx_http_rbac_ssl_create(ngx_conf_t *cf,
    ngx_http_rbac_tls_t *tls, ngx_http_rbac_ssl_args_t *args);


char *
ngx_http_rbac_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rbac_main_conf_t *rmcf = conf;

    ngx_int_t                    rv;
    ngx_str_t                   *value;
    ngx_uint_t                   i;
    ngx_http_rbac_redis_conf_t  *rc;
    ngx_http_rbac_redis_args_t   args;

    if (rmcf->redis_set) {
        return "is duplicate";
    }

    ngx_memzero(&args, sizeof(ngx_http_rbac_redis_args_t));

    args.ssl = ngx_array_create(cf->temp_pool, 8, sizeof(ngx_str_t));
    if (args.ssl == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;
    rc = &rmcf->redis;

    rc->name = value[1];
    rc->timeout = 50;
    ngx_str_set(&rc->prefix, "rbac:");

    rv = ngx_http_rbac_redis_addr(cf, rc, &value[1]);
    if (rv == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    /* NGX_DECLINED: no address, the sentinels give it */

    for (i = (rv == NGX_OK) ? 2 : 1; i < cf->args->nelts; i++) {

        rv = ngx_http_rbac_redis_param(cf, rc, &args, &value[i]);

        if (ngx_http_rbac_param_done(cf, rv, &value[i]) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (rc->user.len && rc->password.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_redis\": \"user=\" needs \"password=\"");
        return NGX_CONF_ERROR;
    }

    if (args.ssl->nelts) {
        if (ngx_http_rbac_redis_ssl(cf, rc, args.ssl) != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_rbac_redis_sentinel(cf, rc, &args) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    rmcf->redis_set = 1;

    return NGX_CONF_OK;
}


/*
 * What one parameter's function returned (ngx_http_rbac_redis_param or
 * ngx_http_rbac_ssl_param): NGX_OK, or NGX_ERROR after saying, for
 * NGX_DECLINED, that the parameter is invalid.  The ssl* parameters are
 * read in a second pass, after all the others: of two mistakes on one
 * line, nginx -t names the non-ssl one.
 */
static ngx_int_t
ngx_http_rbac_param_done(ngx_conf_t *cf, ngx_int_t rv, ngx_str_t *value)
{
    if (rv == NGX_DECLINED) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_redis\": invalid parameter \"%V\"",
                           value);
    }

    return (rv == NGX_OK) ? NGX_OK : NGX_ERROR;
}


/*
 * The first parameter: NGX_OK for host:port, ip:port or unix:/path (set in
 * rc), NGX_DECLINED when it is sentinel= or master= (no address: the
 * sentinels give it), NGX_ERROR after saying what is wrong.
 */
static ngx_int_t
ngx_http_rbac_redis_addr(ngx_conf_t *cf, ngx_http_rbac_redis_conf_t *rc,
    ngx_str_t *value)
{
    if (ngx_strncmp(value->data, "sentinel=", 9) == 0
        || ngx_strncmp(value->data, "master=", 7) == 0)
    {
        return NGX_DECLINED;
    }

    if (ngx_strncmp(value->data, "unix:", 5) == 0) {
        if (value->len == 5 || value->data[5] != '/') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"rbac_redis\": invalid unix socket \"%V\" "
                               "(an absolute path is needed)", value);
            return NGX_ERROR;
        }

        rc->unix_path.len = value->len - 5;
        rc->unix_path.data = value->data + 5;      /* NUL-terminated */

        return NGX_OK;
    }

    if (ngx_http_rbac_parse_inet(cf, value, &rc->host, &rc->port) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_redis\": invalid address \"%V\" "
                           "(expected host:port, ip:port or "
                           "unix:/path)", value);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * One parameter after the address, into rc or args: NGX_OK, NGX_DECLINED
 * when it is none of rbac_redis's, NGX_ERROR after saying what is wrong.
 */
static ngx_int_t
ngx_http_rbac_redis_param(ngx_conf_t *cf, ngx_http_rbac_redis_conf_t *rc,
    ngx_http_rbac_redis_args_t *args, ngx_str_t *value)
{
    ngx_int_t   n;
    ngx_str_t  *v, s;

    if (ngx_strncmp(value->data, "sentinel=", 9) == 0) {
        if (rc->port || rc->unix_path.len) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"rbac_redis\": an address and "
                               "\"sentinel=\" exclude each other");
            return NGX_ERROR;
        }

        if (args->list.data != NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"rbac_redis\": duplicate \"sentinel=\"");
            return NGX_ERROR;
        }

        args->list.len = value->len - 9;
        args->list.data = value->data + 9;
        return NGX_OK;
    }

    if (ngx_strncmp(value->data, "master=", 7) == 0) {
        if (args->master.data != NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"rbac_redis\": duplicate \"master=\"");
            return NGX_ERROR;
        }

        args->master.len = value->len - 7;
        args->master.data = value->data + 7;      /* NUL-terminated */

        if (args->master.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"rbac_redis\": empty \"master=\"");
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (ngx_strncmp(value->data, "db=", 3) == 0) {
        n = ngx_atoi(value->data + 3, value->len - 3);
        if (n == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"rbac_redis\": invalid \"%V\"", value);
            return NGX_ERROR;
        }

        rc->db = n;
        return NGX_OK;
    }

    if (ngx_strncmp(value->data, "password=", 9) == 0) {
        return ngx_http_rbac_secret(cf, value, 9, &rc->password);
    }

    if (ngx_strncmp(value->data, "sentinel_password=", 18) == 0) {
        return ngx_http_rbac_secret(cf, value, 18, &args->password);
    }

    if (ngx_strncmp(value->data, "user=", 5) == 0 && value->len > 5) {
        rc->user.len = value->len - 5;
        rc->user.data = value->data + 5;
        return NGX_OK;
    }

    if (ngx_strncmp(value->data, "sentinel_user=", 14) == 0
        && value->len > 14)
    {
        args->user.len = value->len - 14;
        args->user.data = value->data + 14;
        return NGX_OK;
    }

    if (ngx_strncmp(value->data, "ssl", 3) == 0
        && (value->len == 3 || value->data[3] == '_'))
    {
        v = ngx_array_push(args->ssl);
        if (v == NULL) {
            return NGX_ERROR;
        }

        *v = *value;
        return NGX_OK;
    }

    if (ngx_strncmp(value->data, "prefix=", 7) == 0) {
        rc->prefix.len = value->len - 7;
        rc->prefix.data = value->data + 7;
        return NGX_OK;
    }

    if (ngx_strncmp(value->data, "timeout=", 8) == 0) {
        s.len = value->len - 8;
        s.data = value->data + 8;

        rc->timeout = ngx_parse_time(&s, 0);
        if (rc->timeout == (ngx_msec_t) NGX_ERROR || rc->timeout == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"rbac_redis\": invalid \"%V\"", value);
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    return NGX_DECLINED;
}


/* sentinel=, master= and their credentials, checked together. */
static ngx_int_t
ngx_http_rbac_redis_sentinel(ngx_conf_t *cf, ngx_http_rbac_redis_conf_t *rc,
    ngx_http_rbac_redis_args_t *args)
{
    u_char                         *p;
    ngx_http_rbac_sentinel_conf_t  *sc;

    if ((args->list.data == NULL) != (args->master.data == NULL)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_redis\": \"sentinel=\" and \"master=\" "
                           "go together");
        return NGX_ERROR;
    }

    if (args->list.data == NULL) {
        if (args->user.len || args->password.len) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"rbac_redis\": \"sentinel_user=\" and "
                               "\"sentinel_password=\" need \"sentinel=\"");
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    sc = ngx_http_rbac_sentinels(cf, &args->list);
    if (sc == NULL) {
        return NGX_ERROR;
    }

    sc->master = args->master;
    sc->user = args->user;
    sc->password = args->password;
    rc->sentinel = sc;

    if (sc->user.len && sc->password.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_redis\": \"sentinel_user=\" needs "
                           "\"sentinel_password=\"");
        return NGX_ERROR;
    }

    /* for logs: "rbac: redis master <name> connect failed: ..." */
    rc->name.len = sizeof("master ") - 1 + args->master.len;
    rc->name.data = ngx_pnalloc(cf->pool, rc->name.len);
    if (rc->name.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(rc->name.data, "master ", sizeof("master ") - 1);
    ngx_memcpy(p, args->master.data, args->master.len);

    return NGX_OK;
}


/* sentinel=<host:port>[,<host:port>...]. */
static ngx_http_rbac_sentinel_conf_t *
ngx_http_rbac_sentinels(ngx_conf_t *cf, ngx_str_t *list)
{
    u_char                         *p, *last, *comma;
    ngx_str_t                       item;
    ngx_http_rbac_sentinel_addr_t  *a;
    ngx_http_rbac_sentinel_conf_t  *sc;

    sc = ngx_pcalloc(cf->pool, sizeof(ngx_http_rbac_sentinel_conf_t));
    if (sc == NULL) {
        return NULL;
    }

    p = list->data;
    last = p + list->len;

    for ( ;; ) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        item.data = p;
        item.len = comma - p;

        if (sc->naddrs == NGX_HTTP_RBAC_SENTINEL_MAX) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"rbac_redis\": more than %d sentinels",
                               NGX_HTTP_RBAC_SENTINEL_MAX);
            return NULL;
        }

        a = &sc->addrs[sc->naddrs];

        if (item.len == 0
            || ngx_http_rbac_parse_inet(cf, &item, &a->host, &a->port)
               != NGX_OK)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"rbac_redis\": invalid sentinel address "
                               "\"%V\" in \"sentinel=%V\" (expected a "
                               "comma-separated list of host:port or "
                               "ip:port)", &item, list);
            return NULL;
        }

        a->name = item;
        sc->naddrs++;

        if (comma == last) {
            break;
        }

        p = comma + 1;
    }

    return sc;
}


/*
 * A password file (password=, sentinel_password=): read now, trailing
 * newlines dropped, never logged.
 */
static ngx_int_t
ngx_http_rbac_secret(ngx_conf_t *cf, ngx_str_t *value, size_t skip,
    ngx_str_t *secret)
{
    ngx_str_t  file, s;

    file.len = value->len - skip;
    file.data = value->data + skip;

    if (ngx_http_rbac_read_file(cf, &file, 4096, &s) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_redis\": cannot read the password file");
        return NGX_ERROR;
    }

    while (s.len && (s.data[s.len - 1] == '\n' || s.data[s.len - 1] == '\r'))
    {
        s.len--;
    }

    if (s.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_redis\": password file \"%V\" is empty",
                           &file);
        return NGX_ERROR;
    }

    *secret = s;

    return NGX_OK;
}


/*
 * The ssl* parameters of rbac_redis, as proxy_ssl_* means them: ssl,
 * ssl_trusted_certificate= (else the system's CAs), ssl_verify=on|off,
 * ssl_verify_depth=, ssl_name=, ssl_server_name=on|off, ssl_certificate=
 * and ssl_certificate_key= (mutual TLS), ssl_protocols=, ssl_ciphers=.
 */
static char *
ngx_http_rbac_redis_ssl(ngx_conf_t *cf, ngx_http_rbac_redis_conf_t *rc,
    ngx_array_t *params)
{
    ngx_int_t                  rv;
    ngx_str_t                 *value;
    ngx_uint_t                 i;
    ngx_http_rbac_tls_t       *tls;
    ngx_http_rbac_ssl_args_t   args;

    tls = ngx_pcalloc(cf->pool, sizeof(ngx_http_rbac_tls_t));
    if (tls == NULL) {
        return NGX_CONF_ERROR;
    }

    tls->verify = 1;
    tls->server_name = 1;

    ngx_memzero(&args, sizeof(ngx_http_rbac_ssl_args_t));
    args.depth = 100;
    args.protocols = NGX_SSL_TLSv1|NGX_SSL_TLSv1_1|NGX_SSL_TLSv1_2
                     |NGX_SSL_TLSv1_3;

    value = params->elts;

    for (i = 0; i < params->nelts; i++) {

        rv = ngx_http_rbac_ssl_param(cf, tls, &args, &value[i]);

        if (ngx_http_rbac_param_done(cf, rv, &value[i]) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (!args.on) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_redis\": \"%V\" needs \"ssl\"",
                           &value[0]);
        return NGX_CONF_ERROR;
    }

    if (args.cert.len && args.key.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_redis\": no \"ssl_certificate_key=\" "
                           "for \"ssl_certificate=%V\"", &args.cert);
        return NGX_CONF_ERROR;
    }

    if (args.key.len && args.cert.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_redis\": \"ssl_certificate_key=\" "
                           "needs \"ssl_certificate=\"");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_rbac_ssl_create(cf, tls, &args) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    rc->tls = tls;

    return NGX_CONF_OK;
}


/*
 * One ssl* parameter, into tls or args: NGX_OK, NGX_DECLINED when it is
 * none of them or its value is invalid, NGX_ERROR after saying what is
 * wrong.
 */
static ngx_int_t
ngx_http_rbac_ssl_param(ngx_conf_t *cf, ngx_http_rbac_tls_t *tls,
    ngx_http_rbac_ssl_args_t *args, ngx_str_t *value)
{
    u_char     *p;
    ngx_str_t   v;

    p = ngx_strlchr(value->data, value->data + value->len, '=');

    if (p == NULL) {
        if (value->len == 3) {
            args->on = 1;
            return NGX_OK;
        }

        return NGX_DECLINED;
    }

    v.data = p + 1;
    v.len = value->data + value->len - v.data;

    if (v.len == 0) {
        return NGX_DECLINED;
    }

#define ngx_http_rbac_param(name)                                            \
    ((size_t) (p - value->data) == sizeof(name) - 1                          \
     && ngx_strncmp(value->data, name, sizeof(name) - 1) == 0)

    if (ngx_http_rbac_param("ssl_trusted_certificate")) {
        args->trusted = v;

    } else if (ngx_http_rbac_param("ssl_certificate")) {
        args->cert = v;

    } else if (ngx_http_rbac_param("ssl_certificate_key")) {
        args->key = v;

    } else if (ngx_http_rbac_param("ssl_verify")) {
        return ngx_http_rbac_onoff(&v, &tls->verify);

    } else if (ngx_http_rbac_param("ssl_server_name")) {
        return ngx_http_rbac_onoff(&v, &tls->server_name);

    } else if (ngx_http_rbac_param("ssl_name")) {
        tls->name = v;                              /* NUL-terminated */

    } else if (ngx_http_rbac_param("ssl_ciphers")) {
        args->ciphers = v;

    } else if (ngx_http_rbac_param("ssl_verify_depth")) {
        args->depth = ngx_atoi(v.data, v.len);
        if (args->depth < 1) {
            return NGX_DECLINED;
        }

    } else if (ngx_http_rbac_param("ssl_protocols")) {
        return ngx_http_rbac_ssl_protocols(cf, &v, value, &args->protocols);

    } else {
        return NGX_DECLINED;
    }

#undef ngx_http_rbac_param

    return NGX_OK;
}


/* on or off: NGX_DECLINED for anything else. */
static ngx_int_t
ngx_http_rbac_onoff(ngx_str_t *v, ngx_flag_t *flag)
{
    if (v->len == 2 && ngx_strncmp(v->data, "on", 2) == 0) {
        *flag = 1;
        return NGX_OK;
    }

    if (v->len == 3 && ngx_strncmp(v->data, "off", 3) == 0) {
        *flag = 0;
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/* ssl_protocols=TLSv1.2[,TLSv1.3]: NGX_ERROR after naming the unknown. */
static ngx_int_t
ngx_http_rbac_ssl_protocols(ngx_conf_t *cf, ngx_str_t *v, ngx_str_t *value,
    ngx_uint_t *protocols)
{
    u_char     *p, *last, *comma;
    ngx_str_t   item;

    *protocols = 0;
    p = v->data;
    last = v->data + v->len;

    for ( ;; ) {
        comma = ngx_strlchr(p, last, ',');
        item.data = p;
        item.len = (comma ? comma : last) - p;

        if (item.len == 7 && ngx_strncmp(item.data, "TLSv1.2", 7) == 0) {
            *protocols |= NGX_SSL_TLSv1_2;

        } else if (item.len == 7
                   && ngx_strncmp(item.data, "TLSv1.3", 7) == 0)
        {
            *protocols |= NGX_SSL_TLSv1_3;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"rbac_redis\": unknown protocol "
                               "\"%V\" in \"%V\" (TLSv1.2, TLSv1.3)",
                               &item, value);
            return NGX_ERROR;
        }

        if (comma == NULL) {
            return NGX_OK;
        }

        p = comma + 1;
    }
}


/* nginx's SSL context for the connections to Redis and the sentinels. */
static ngx_int_t
ngx_http_rbac_ssl_create(ngx_conf_t *cf, ngx_http_rbac_tls_t *tls,
    ngx_http_rbac_ssl_args_t *args)
{
    ngx_pool_cleanup_t  *cln;

    tls->ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (tls->ssl == NULL) {
        return NGX_ERROR;
    }

    tls->ssl->log = cf->log;

    if (ngx_ssl_create(tls->ssl, args->protocols, NULL) != NGX_OK) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(tls->ssl);
        return NGX_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = tls->ssl;

    if (args->ciphers.len
        && ngx_ssl_ciphers(cf, tls->ssl, &args->ciphers, 0) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (args->cert.len
        && ngx_ssl_certificate(cf, tls->ssl, &args->cert, &args->key, NULL)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (!tls->verify) {
        return NGX_OK;
    }

    if (ngx_ssl_trusted_certificate(cf, tls->ssl, &args->trusted,
                                    args->depth)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (args->trusted.len == 0
        && SSL_CTX_set_default_verify_paths(tls->ssl->ctx) != 1)
    {
        ngx_ssl_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"rbac_redis\": cannot load the system's CA "
                      "certificates (set \"ssl_trusted_certificate=\")");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Host names (of Redis or of the sentinels) are resolved in the workers
 * by the "resolver" of the http block, at every connect.
 */
char *
ngx_http_rbac_redis_resolver(ngx_conf_t *cf, ngx_http_rbac_redis_conf_t *rc)
{
    ngx_str_t                 *name;
    ngx_uint_t                 i;
    ngx_http_core_loc_conf_t  *clcf;

    name = NULL;

    if (rc->host.len
        && !ngx_http_rbac_link_numeric(rc->host.data, rc->host.len))
    {
        name = &rc->host;
    }

    for (i = 0; rc->sentinel != NULL && i < rc->sentinel->naddrs; i++) {
        if (!ngx_http_rbac_link_numeric(rc->sentinel->addrs[i].host.data,
                                        rc->sentinel->addrs[i].host.len))
        {
            name = &rc->sentinel->addrs[i].host;
        }
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->resolver != NULL && clcf->resolver->connections.nelts) {
        rc->resolver = clcf->resolver;
        rc->resolver_timeout = clcf->resolver_timeout
                               == NGX_CONF_UNSET_MSEC
                               ? 30000 : clcf->resolver_timeout;
        return NGX_CONF_OK;
    }

    if (name != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_redis\": \"%V\" is a host name, and "
                           "no \"resolver\" is set in the http block: "
                           "workers resolve it with nginx's resolver at "
                           "every connect (add e.g. \"resolver 127.0.0.53 "
                           "valid=10s;\"), or give a numeric address", name);
        return NGX_CONF_ERROR;
    }

    /* sentinels may still name the master by a host name: said then */

    return NGX_CONF_OK;
}


/*
 * host:port, ip:port or [ipv6]:port; host is a NUL-terminated copy without
 * the brackets.  NGX_DECLINED for anything else.
 */
static ngx_int_t
ngx_http_rbac_parse_inet(ngx_conf_t *cf, ngx_str_t *addr, ngx_str_t *host,
    ngx_int_t *port)
{
    u_char               *p, *last, c;
    ngx_int_t             n;
    ngx_str_t             h;
    ngx_uint_t            i;
    struct sockaddr_in6   sin6;

    p = addr->data;
    last = p + addr->len;

    if (p == last) {
        return NGX_DECLINED;
    }

    if (*p == '[') {
        p = ngx_strlchr(p, last, ']');
        if (p == NULL || p + 1 == last || p[1] != ':') {
            return NGX_DECLINED;
        }

        h.data = addr->data + 1;
        h.len = p - h.data;
        p++;

        if (ngx_inet6_addr(h.data, h.len, sin6.sin6_addr.s6_addr) != NGX_OK) {
            return NGX_DECLINED;
        }

    } else {
        for (p = last - 1; p > addr->data && *p != ':'; p--) {
            /* void */
        }

        if (*p != ':') {
            return NGX_DECLINED;
        }

        h.data = addr->data;
        h.len = p - h.data;

        /* a host name: resolved by nginx's resolver in the workers */
        if (h.len == 0 || h.len > 253) {
            return NGX_DECLINED;
        }

        for (i = 0; i < h.len; i++) {
            c = h.data[i];

            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                  || (c >= '0' && c <= '9') || c == '-' || c == '.'
                  || c == '_'))
            {
                return NGX_DECLINED;
            }
        }
    }

    n = ngx_atoi(p + 1, last - p - 1);
    if (n < 1 || n > 65535) {
        return NGX_DECLINED;
    }

    *port = n;

    host->len = h.len;
    host->data = ngx_pnalloc(cf->pool, h.len + 1);
    if (host->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(host->data, h.data, h.len);
    host->data[h.len] = '\0';

    return NGX_OK;
}
