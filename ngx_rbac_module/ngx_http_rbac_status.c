
/*
 * ngx_http_rbac_status.c: the rbac_status handler.  It only reads: the
 * counters (ngx_http_rbac_stat.c), the cache zone's bytes and the JWKS
 * sets' state, shown as JSON or as Prometheus text (?format=prometheus).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_rbac_module.h"
#include "ngx_http_rbac_jwks.h"


static ngx_int_t ngx_http_rbac_status_handler(ngx_http_request_t *r);
static u_char *ngx_http_rbac_status_json(u_char *p,
    ngx_http_rbac_stats_t *st, size_t used, size_t total);
static u_char *ngx_http_rbac_status_prometheus(u_char *p,
    ngx_http_rbac_stats_t *st, size_t used, size_t total);


static const char  *ngx_http_rbac_decisions[] = {
    "allow", "deny", "shadow_deny", "error"
};


char *
ngx_http_rbac_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_rbac_status_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_rbac_status_handler(ngx_http_request_t *r)
{
    size_t                      size, used, total;
    ngx_int_t                   rc;
    ngx_str_t                   format;
    ngx_buf_t                  *b;
    ngx_uint_t                  prometheus;
    ngx_chain_t                 out;
    ngx_http_rbac_stats_t      *st;
    ngx_http_rbac_main_conf_t  *rmcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    st = ngx_http_rbac_stats_get();
    if (st == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_rbac_module);

    used = 0;
    total = 0;

    if (rmcf->cache != NULL) {
        ngx_http_rbac_cache_bytes(rmcf->cache, &used, &total);
    }

    prometheus = (ngx_http_arg(r, (u_char *) "format", 6, &format) == NGX_OK
                  && format.len == 10
                  && ngx_strncmp(format.data, "prometheus", 10) == 0);

    size = 4096 + NGX_HTTP_RBAC_MAX_REASONS * (NGX_HTTP_RBAC_REASON_LEN + 80)
           + NGX_HTTP_RBAC_MAX_WORKERS * 200
           + ngx_http_rbac_jwks_status_size(r);

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (prometheus) {
        b->last = ngx_http_rbac_status_prometheus(b->last, st, used,
                                                  total);
        b->last = ngx_http_rbac_jwks_status(r, b->last, 1);
        ngx_str_set(&r->headers_out.content_type,
                    "text/plain; version=0.0.4");

    } else {
        b->last = ngx_http_rbac_status_json(b->last, st, used, total);
        b->last = ngx_http_rbac_jwks_status(r, b->last, 0);
        b->last = ngx_cpymem(b->last, "}\n", 2);
        ngx_str_set(&r->headers_out.content_type, "application/json");
    }

    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static u_char *
ngx_http_rbac_status_json(u_char *p, ngx_http_rbac_stats_t *st, size_t used,
    size_t total)
{
    ngx_uint_t     i, n;
    ngx_atomic_t  *w;

    p = ngx_sprintf(p, "{\"decisions\":{");

    for (i = 0; i < 4; i++) {
        p = ngx_sprintf(p, "%s\"%s\":%uA", i ? "," : "",
                        ngx_http_rbac_decisions[i], st->count[i]);
    }

    p = ngx_sprintf(p, "},\"unauthorized\":{");

    n = ngx_min(st->nreasons, NGX_HTTP_RBAC_MAX_REASONS);

    for (i = 0; i < n; i++) {
        p = ngx_sprintf(p, "%s\"%s\":%uA", i ? "," : "", st->reason[i],
                        st->reason_n[i]);
    }

    p = ngx_sprintf(p, "},\"cache\":{\"hits\":%uA,\"misses\":%uA,"
                    "\"stale\":%uA,\"evictions\":%uA,\"bytes_used\":%uz,"
                    "\"bytes_total\":%uz},\"redis\":[",
                    st->count[NGX_HTTP_RBAC_STAT_HITS],
                    st->count[NGX_HTTP_RBAC_STAT_MISSES],
                    st->count[NGX_HTTP_RBAC_STAT_STALE],
                    st->count[NGX_HTTP_RBAC_STAT_EVICTIONS], used, total);

    n = 0;

    for (i = 0; i < NGX_HTTP_RBAC_MAX_WORKERS; i++) {
        w = st->worker[i];

        if (w[NGX_HTTP_RBAC_W_PID] == 0) {
            continue;
        }

        p = ngx_sprintf(p, "%s{\"pid\":%uA,\"connected\":%s,"
                        "\"subscribed\":%s,\"inflight\":%uA}",
                        n++ ? "," : "", w[NGX_HTTP_RBAC_W_PID],
                        w[NGX_HTTP_RBAC_W_CONNECTED] ? "true" : "false",
                        w[NGX_HTTP_RBAC_W_SUBSCRIBED] ? "true" : "false",
                        w[NGX_HTTP_RBAC_W_INFLIGHT]);
    }

    return ngx_sprintf(p, "],\"invalidations\":%uA,\"references\":{"
                       "\"resolved\":%uA,\"missing\":%uA,"
                       "\"wrong_type\":%uA},\"ids_refused\":%uA",
                       st->count[NGX_HTTP_RBAC_STAT_INVALIDATIONS],
                       st->count[NGX_HTTP_RBAC_STAT_REFS_RESOLVED],
                       st->count[NGX_HTTP_RBAC_STAT_REFS_MISSING],
                       st->count[NGX_HTTP_RBAC_STAT_REFS_WRONG_TYPE],
                       st->count[NGX_HTTP_RBAC_STAT_IDS_REFUSED]);
}


static u_char *
ngx_http_rbac_status_prometheus(u_char *p, ngx_http_rbac_stats_t *st,
    size_t used, size_t total)
{
    ngx_uint_t     i, n;
    ngx_atomic_t  *w;

    p = ngx_sprintf(p, "# TYPE rbac_decisions_total counter\n");

    for (i = 0; i < 4; i++) {
        p = ngx_sprintf(p, "rbac_decisions_total{decision=\"%s\"} %uA\n",
                        ngx_http_rbac_decisions[i], st->count[i]);
    }

    p = ngx_sprintf(p, "# TYPE rbac_unauthorized_total counter\n");

    n = ngx_min(st->nreasons, NGX_HTTP_RBAC_MAX_REASONS);

    for (i = 0; i < n; i++) {
        p = ngx_sprintf(p, "rbac_unauthorized_total{reason=\"%s\"} %uA\n",
                        st->reason[i], st->reason_n[i]);
    }

    p = ngx_sprintf(p,
                    "# TYPE rbac_cache_hits_total counter\n"
                    "rbac_cache_hits_total %uA\n"
                    "# TYPE rbac_cache_misses_total counter\n"
                    "rbac_cache_misses_total %uA\n"
                    "# TYPE rbac_cache_stale_total counter\n"
                    "rbac_cache_stale_total %uA\n"
                    "# TYPE rbac_cache_evictions_total counter\n"
                    "rbac_cache_evictions_total %uA\n"
                    "# TYPE rbac_cache_bytes gauge\n"
                    "rbac_cache_bytes{state=\"used\"} %uz\n"
                    "rbac_cache_bytes{state=\"total\"} %uz\n"
                    "# TYPE rbac_redis_connected gauge\n",
                    st->count[NGX_HTTP_RBAC_STAT_HITS],
                    st->count[NGX_HTTP_RBAC_STAT_MISSES],
                    st->count[NGX_HTTP_RBAC_STAT_STALE],
                    st->count[NGX_HTTP_RBAC_STAT_EVICTIONS], used, total);

    for (i = 0; i < NGX_HTTP_RBAC_MAX_WORKERS; i++) {
        w = st->worker[i];

        if (w[NGX_HTTP_RBAC_W_PID] != 0) {
            p = ngx_sprintf(p, "rbac_redis_connected{pid=\"%uA\"} %d\n",
                            w[NGX_HTTP_RBAC_W_PID],
                            w[NGX_HTTP_RBAC_W_CONNECTED] ? 1 : 0);
        }
    }

    return ngx_sprintf(p, "# TYPE rbac_invalidations_total counter\n"
                       "rbac_invalidations_total %uA\n"
                       "# TYPE rbac_references_total counter\n"
                       "rbac_references_total{result=\"resolved\"} %uA\n"
                       "rbac_references_total{result=\"missing\"} %uA\n"
                       "rbac_references_total{result=\"wrong_type\"} %uA\n"
                       "# TYPE rbac_ids_refused_total counter\n"
                       "rbac_ids_refused_total %uA\n",
                       st->count[NGX_HTTP_RBAC_STAT_INVALIDATIONS],
                       st->count[NGX_HTTP_RBAC_STAT_REFS_RESOLVED],
                       st->count[NGX_HTTP_RBAC_STAT_REFS_MISSING],
                       st->count[NGX_HTTP_RBAC_STAT_REFS_WRONG_TYPE],
                       st->count[NGX_HTTP_RBAC_STAT_IDS_REFUSED]);
}
