
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


static ngx_http_rbac_sentinel_conf_t *ngx_http_rbac_sentinels(ngx_conf_t *cf,
    ngx_str_t *list);
static ngx_int_t ngx_http_rbac_parse_inet(ngx_conf_t *cf, ngx_str_t *addr,
    ngx_str_t *host, ngx_int_t *port);
static ngx_int_t ngx_http_rbac_secret(ngx_conf_t *cf, ngx_str_t *value,
    size_t skip, ngx_str_t *secret);
static char *ngx_http_rbac_redis_ssl(ngx_conf_t *cf,
    ngx_http_rbac_redis_conf_t *rc, ngx_array_t *params);


char *
ngx_http_rbac_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rbac_main_conf_t *rmcf = conf;

    u_char                         *p;
    ngx_int_t                       n;
    ngx_str_t                      *value, *v, s, list, master;
    ngx_str_t                       suser, spassword;
    ngx_uint_t                      i;
    ngx_array_t                    *ssl;
    ngx_http_rbac_redis_conf_t     *rc;
    ngx_http_rbac_sentinel_conf_t  *sc;

    if (rmcf->redis_set) {
        return "is duplicate";
    }

    ssl = ngx_array_create(cf->temp_pool, 8, sizeof(ngx_str_t));
    if (ssl == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_str_null(&suser);
    ngx_str_null(&spassword);

    value = cf->args->elts;
    rc = &rmcf->redis;

    rc->name = value[1];
    rc->timeout = 50;
    ngx_str_set(&rc->prefix, "rbac:");

    ngx_str_null(&list);
    ngx_str_null(&master);

    i = 1;

    if (ngx_strncmp(value[1].data, "sentinel=", 9) == 0
        || ngx_strncmp(value[1].data, "master=", 7) == 0)
    {
        /* no address: the sentinels give it */

    } else if (ngx_strncmp(value[1].data, "unix:", 5) == 0) {
        if (value[1].len == 5 || value[1].data[5] != '/') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"rbac_redis\": invalid unix socket \"%V\" "
                               "(an absolute path is needed)", &value[1]);
            return NGX_CONF_ERROR;
        }

        rc->unix_path.len = value[1].len - 5;
        rc->unix_path.data = value[1].data + 5;    /* NUL-terminated */
        i = 2;

    } else {
        if (ngx_http_rbac_parse_inet(cf, &value[1], &rc->host, &rc->port)
            != NGX_OK)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"rbac_redis\": invalid address \"%V\" "
                               "(expected host:port, ip:port or "
                               "unix:/path)", &value[1]);
            return NGX_CONF_ERROR;
        }

        i = 2;
    }

    for ( /* void */ ; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "sentinel=", 9) == 0) {
            if (rc->port || rc->unix_path.len) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"rbac_redis\": an address and "
                                   "\"sentinel=\" exclude each other");
                return NGX_CONF_ERROR;
            }

            if (list.data != NULL) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"rbac_redis\": duplicate \"sentinel=\"");
                return NGX_CONF_ERROR;
            }

            list.len = value[i].len - 9;
            list.data = value[i].data + 9;
            continue;
        }

        if (ngx_strncmp(value[i].data, "master=", 7) == 0) {
            if (master.data != NULL) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"rbac_redis\": duplicate \"master=\"");
                return NGX_CONF_ERROR;
            }

            master.len = value[i].len - 7;
            master.data = value[i].data + 7;        /* NUL-terminated */

            if (master.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"rbac_redis\": empty \"master=\"");
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            n = ngx_atoi(value[i].data + 3, value[i].len - 3);
            if (n == NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"rbac_redis\": invalid \"%V\"",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            rc->db = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "password=", 9) == 0) {
            if (ngx_http_rbac_secret(cf, &value[i], 9, &rc->password)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "sentinel_password=", 18) == 0) {
            if (ngx_http_rbac_secret(cf, &value[i], 18, &spassword)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "user=", 5) == 0
            && value[i].len > 5)
        {
            rc->user.len = value[i].len - 5;
            rc->user.data = value[i].data + 5;
            continue;
        }

        if (ngx_strncmp(value[i].data, "sentinel_user=", 14) == 0
            && value[i].len > 14)
        {
            suser.len = value[i].len - 14;
            suser.data = value[i].data + 14;
            continue;
        }

        if (ngx_strncmp(value[i].data, "ssl", 3) == 0
            && (value[i].len == 3 || value[i].data[3] == '_'))
        {
            v = ngx_array_push(ssl);
            if (v == NULL) {
                return NGX_CONF_ERROR;
            }

            *v = value[i];
            continue;
        }

        if (ngx_strncmp(value[i].data, "prefix=", 7) == 0) {
            rc->prefix.len = value[i].len - 7;
            rc->prefix.data = value[i].data + 7;
            continue;
        }

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            s.len = value[i].len - 8;
            s.data = value[i].data + 8;

            rc->timeout = ngx_parse_time(&s, 0);
            if (rc->timeout == (ngx_msec_t) NGX_ERROR || rc->timeout == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"rbac_redis\": invalid \"%V\"",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_redis\": invalid parameter \"%V\"",
                           &value[i]);
        return NGX_CONF_ERROR;
    }

    if (rc->user.len && rc->password.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_redis\": \"user=\" needs \"password=\"");
        return NGX_CONF_ERROR;
    }

    if (ssl->nelts) {
        if (ngx_http_rbac_redis_ssl(cf, rc, ssl) != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if ((list.data == NULL) != (master.data == NULL)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_redis\": \"sentinel=\" and \"master=\" "
                           "go together");
        return NGX_CONF_ERROR;
    }

    if (list.data != NULL) {
        sc = ngx_http_rbac_sentinels(cf, &list);
        if (sc == NULL) {
            return NGX_CONF_ERROR;
        }

        sc->master = master;
        sc->user = suser;
        sc->password = spassword;
        rc->sentinel = sc;

        if (sc->user.len && sc->password.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"rbac_redis\": \"sentinel_user=\" needs "
                               "\"sentinel_password=\"");
            return NGX_CONF_ERROR;
        }

        /* for logs: "rbac: redis master <name> connect failed: ..." */
        rc->name.len = sizeof("master ") - 1 + master.len;
        rc->name.data = ngx_pnalloc(cf->pool, rc->name.len);
        if (rc->name.data == NULL) {
            return NGX_CONF_ERROR;
        }

        p = ngx_cpymem(rc->name.data, "master ", sizeof("master ") - 1);
        ngx_memcpy(p, master.data, master.len);

    } else if (suser.len || spassword.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_redis\": \"sentinel_user=\" and "
                           "\"sentinel_password=\" need \"sentinel=\"");
        return NGX_CONF_ERROR;
    }

    rmcf->redis_set = 1;

    return NGX_CONF_OK;
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
    u_char               *p, *last, *comma;
    ngx_str_t            *value, v, trusted, cert, key, ciphers, item;
    ngx_int_t             depth;
    ngx_uint_t            i, on, protocols;
    ngx_pool_cleanup_t   *cln;
    ngx_http_rbac_tls_t  *tls;

    tls = ngx_pcalloc(cf->pool, sizeof(ngx_http_rbac_tls_t));
    if (tls == NULL) {
        return NGX_CONF_ERROR;
    }

    tls->verify = 1;
    tls->server_name = 1;
    depth = 100;
    protocols = NGX_SSL_TLSv1|NGX_SSL_TLSv1_1|NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3;
    on = 0;

    ngx_str_null(&trusted);
    ngx_str_null(&cert);
    ngx_str_null(&key);
    ngx_str_null(&ciphers);

    value = params->elts;

    for (i = 0; i < params->nelts; i++) {
        p = ngx_strlchr(value[i].data, value[i].data + value[i].len, '=');

        if (p == NULL) {
            if (value[i].len == 3) {
                on = 1;
                continue;
            }

            goto invalid;
        }

        v.data = p + 1;
        v.len = value[i].data + value[i].len - v.data;

        if (v.len == 0) {
            goto invalid;
        }

#define ngx_http_rbac_param(name)                                            \
        ((size_t) (p - value[i].data) == sizeof(name) - 1                    \
         && ngx_strncmp(value[i].data, name, sizeof(name) - 1) == 0)

#define ngx_http_rbac_onoff(flag)                                            \
        if (v.len == 2 && ngx_strncmp(v.data, "on", 2) == 0) {               \
            flag = 1;                                                        \
        } else if (v.len == 3 && ngx_strncmp(v.data, "off", 3) == 0) {       \
            flag = 0;                                                        \
        } else {                                                             \
            goto invalid;                                                    \
        }

        if (ngx_http_rbac_param("ssl_trusted_certificate")) {
            trusted = v;

        } else if (ngx_http_rbac_param("ssl_certificate")) {
            cert = v;

        } else if (ngx_http_rbac_param("ssl_certificate_key")) {
            key = v;

        } else if (ngx_http_rbac_param("ssl_verify")) {
            ngx_http_rbac_onoff(tls->verify);

        } else if (ngx_http_rbac_param("ssl_server_name")) {
            ngx_http_rbac_onoff(tls->server_name);

        } else if (ngx_http_rbac_param("ssl_name")) {
            tls->name = v;                          /* NUL-terminated */

        } else if (ngx_http_rbac_param("ssl_ciphers")) {
            ciphers = v;

        } else if (ngx_http_rbac_param("ssl_verify_depth")) {
            depth = ngx_atoi(v.data, v.len);
            if (depth < 1) {
                goto invalid;
            }

        } else if (ngx_http_rbac_param("ssl_protocols")) {
            protocols = 0;
            p = v.data;
            last = v.data + v.len;

            for ( ;; ) {
                comma = ngx_strlchr(p, last, ',');
                item.data = p;
                item.len = (comma ? comma : last) - p;

                if (item.len == 7
                    && ngx_strncmp(item.data, "TLSv1.2", 7) == 0)
                {
                    protocols |= NGX_SSL_TLSv1_2;

                } else if (item.len == 7
                           && ngx_strncmp(item.data, "TLSv1.3", 7) == 0)
                {
                    protocols |= NGX_SSL_TLSv1_3;

                } else {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "\"rbac_redis\": unknown protocol "
                                       "\"%V\" in \"%V\" (TLSv1.2, TLSv1.3)",
                                       &item, &value[i]);
                    return NGX_CONF_ERROR;
                }

                if (comma == NULL) {
                    break;
                }

                p = comma + 1;
            }

        } else {
            goto invalid;
        }

#undef ngx_http_rbac_param
#undef ngx_http_rbac_onoff
    }

    if (!on) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_redis\": \"%V\" needs \"ssl\"",
                           &value[0]);
        return NGX_CONF_ERROR;
    }

    if (cert.len && key.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_redis\": no \"ssl_certificate_key=\" "
                           "for \"ssl_certificate=%V\"", &cert);
        return NGX_CONF_ERROR;
    }

    if (key.len && cert.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_redis\": \"ssl_certificate_key=\" "
                           "needs \"ssl_certificate=\"");
        return NGX_CONF_ERROR;
    }

    tls->ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (tls->ssl == NULL) {
        return NGX_CONF_ERROR;
    }

    tls->ssl->log = cf->log;

    if (ngx_ssl_create(tls->ssl, protocols, NULL) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(tls->ssl);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = tls->ssl;

    if (ciphers.len
        && ngx_ssl_ciphers(cf, tls->ssl, &ciphers, 0) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (cert.len
        && ngx_ssl_certificate(cf, tls->ssl, &cert, &key, NULL) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (tls->verify) {
        if (ngx_ssl_trusted_certificate(cf, tls->ssl, &trusted, depth)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        if (trusted.len == 0
            && SSL_CTX_set_default_verify_paths(tls->ssl->ctx) != 1)
        {
            ngx_ssl_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"rbac_redis\": cannot load the system's CA "
                          "certificates (set \"ssl_trusted_certificate=\")");
            return NGX_CONF_ERROR;
        }
    }

    rc->tls = tls;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"rbac_redis\": invalid parameter \"%V\"",
                       &value[i]);
    return NGX_CONF_ERROR;
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
