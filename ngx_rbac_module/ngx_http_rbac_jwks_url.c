
/*
 * ngx_http_rbac_jwks_url.c: rbac_jwt_key_request: a JWKS fetched by nginx
 * itself, through a subrequest to a location the operator writes
 * (proxy_pass https://idp/... with proxy_ssl_verify on), as NGINX Plus's
 * auth_jwt_key_request does: no worker ever blocks on it.
 *
 * The document lives in a shared-memory zone of its own (one per URI),
 * for every worker; a worker builds its key set from it again when it
 * changes (a generation number).  One fetch at a time over all workers:
 * the request that claims the fetch waits for its subrequest; a request
 * that needs the set while another's fetch is in flight waits for that
 * one (looking at the zone every few milliseconds).  A request waits for
 * at most one fetch.
 *
 * When: before the first token; when the set is due (Cache-Control
 * max-age, between min_refresh and max_refresh); at once when a token
 * names a kid the set lacks, at most every kid_refetch.  A failed fetch
 * keeps the last good set, which serves until max_age after it was
 * fetched; then tokens get 401 "keys unavailable".
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_rbac_jwks.h"


#define NGX_HTTP_RBAC_JWKS_ERR_LEN  256
#define NGX_HTTP_RBAC_JWKS_POLL     10      /* ms between looks at a fetch */
#define NGX_HTTP_RBAC_JWKS_DEAD     60      /* s: a fetch claimed longer ago
                                             * is taken over */


/* In the zone: the last good document and the state of the fetches. */
typedef struct {
    ngx_atomic_t             gen;           /* bumped by each good fetch */
    ngx_atomic_t             fetching;      /* a fetch is in flight */
    ngx_pid_t                fetcher;       /* by this process */
    time_t                   fetch_start;
    time_t                   fetched;       /* the last good fetch; 0 never */
    time_t                   refresh;       /* due from then on */
    time_t                   kid_attempt;   /* the last for an unknown kid */
    ngx_atomic_t             fetches;
    ngx_atomic_t             failures;
    size_t                   len;
    u_char                   error[NGX_HTTP_RBAC_JWKS_ERR_LEN];
    u_char                   skipped[NGX_HTTP_RBAC_JWKS_ERR_LEN];
    u_char                   text[RBAC_JWKS_MAX_DOC];
} ngx_http_rbac_jwks_sh_t;

/* One rbac_jwt_key_request (one URI, one zone). */
typedef struct {
    ngx_str_t                uri;
    rbac_jwt_alg_t           alg;
    time_t                   min_refresh;
    time_t                   max_refresh;
    time_t                   max_age;
    time_t                   kid_refetch;
    ngx_slab_pool_t         *shpool;
    ngx_http_rbac_jwks_sh_t *sh;
} ngx_http_rbac_jwks_t;

/* A server's verifier with it: this worker's key set, built from gen. */
typedef struct {
    ngx_http_rbac_jwks_t    *jwks;
    rbac_jwt_keyset_t       *base;          /* the server's own keys */
    const rbac_jwt_checks_t *chk;
    rbac_str_t               catalog;
    ngx_atomic_uint_t        gen;           /* 0: not built */
    rbac_jwt_keyset_t       *ks;            /* malloc: base + fetched */
    uint8_t                  identity[RBAC_SHA256_LEN];
} ngx_http_rbac_jwks_use_t;

/* A request's part in a fetch (ctx->jwks). */
typedef struct {
    ngx_http_rbac_ctx_t     *ctx;
    ngx_http_rbac_jwks_t    *jwks;
    ngx_event_t              poll;
    time_t                   until;         /* stop waiting then */
    unsigned                 waited:1;      /* for one fetch: no more */
    unsigned                 owner:1;       /* its subrequest fetches */
} ngx_http_rbac_jwks_req_t;

/* What the keys of a fetched document became, for the log and status. */
typedef struct {
    ngx_log_t               *log;
    ngx_str_t               *uri;
    u_char                  *start;
    u_char                  *p;
    u_char                  *last;
} ngx_http_rbac_jwks_report_t;


static ngx_int_t ngx_http_rbac_jwks_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_rbac_jwks_fetch(ngx_http_request_t *r,
    ngx_http_rbac_ctx_t *ctx, ngx_http_rbac_jwks_t *jk, ngx_uint_t join,
    ngx_uint_t kid);
static ngx_int_t ngx_http_rbac_jwks_subrequest(ngx_http_request_t *r,
    ngx_http_rbac_jwks_req_t *req);
static ngx_int_t ngx_http_rbac_jwks_done(ngx_http_request_t *sr, void *data,
    ngx_int_t rc);
static void ngx_http_rbac_jwks_store(ngx_http_rbac_jwks_t *jk,
    ngx_str_t *text, time_t max_age, u_char *error, u_char *skipped);
static void ngx_http_rbac_jwks_poll(ngx_event_t *ev);
static void ngx_http_rbac_jwks_req_cleanup(void *data);
static void ngx_http_rbac_jwks_report(void *ud, size_t index,
    rbac_str_t kid, rbac_jwks_verdict_t verdict, const char *why);


char *
ngx_http_rbac_jwks_request(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_rbac_loc_conf_t *rlcf = conf;

    time_t                      *t;
    size_t                       size;
    ngx_str_t                   *value, name, v;
    ngx_uint_t                   i;
    ngx_shm_zone_t              *shm_zone;
    ngx_http_rbac_jwks_t        *jk, **slot;
    ngx_http_rbac_main_conf_t   *rmcf;

    if (rlcf->jwks != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len < 2 || value[1].data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_jwt_key_request\": \"%V\" is not the URI "
                           "of a location (one that proxies to the identity "
                           "provider's jwks_uri)", &value[1]);
        return NGX_CONF_ERROR;
    }

    jk = ngx_pcalloc(cf->pool, sizeof(ngx_http_rbac_jwks_t));
    if (jk == NULL) {
        return NGX_CONF_ERROR;
    }

    jk->uri = value[1];
    jk->alg = RBAC_JWT_ALG_NONE;
    jk->min_refresh = 60;
    jk->max_refresh = 3600;
    jk->max_age = 86400;
    jk->kid_refetch = 30;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "alg=", 4) == 0) {
            if (ngx_http_rbac_jwks_alg_param(cf, cmd, &value[i], &jk->alg)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "min_refresh=", 12) == 0) {
            t = &jk->min_refresh;
            v.data = value[i].data + 12;

        } else if (ngx_strncmp(value[i].data, "max_refresh=", 12) == 0) {
            t = &jk->max_refresh;
            v.data = value[i].data + 12;

        } else if (ngx_strncmp(value[i].data, "max_age=", 8) == 0) {
            t = &jk->max_age;
            v.data = value[i].data + 8;

        } else if (ngx_strncmp(value[i].data, "kid_refetch=", 12) == 0) {
            t = &jk->kid_refetch;
            v.data = value[i].data + 12;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"rbac_jwt_key_request\": invalid parameter "
                               "\"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        v.len = value[i].data + value[i].len - v.data;
        *t = ngx_parse_time(&v, 1);

        if (*t == (time_t) NGX_ERROR || *t < 1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"rbac_jwt_key_request\": invalid time in "
                               "\"%V\" (at least 1s)", &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    if (jk->min_refresh > jk->max_refresh || jk->max_refresh > jk->max_age) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_jwt_key_request\": min_refresh <= "
                           "max_refresh <= max_age is required");
        return NGX_CONF_ERROR;
    }

    name.len = sizeof("rbac_jwks:") - 1 + jk->uri.len;
    name.data = ngx_pnalloc(cf->pool, name.len);
    if (name.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(ngx_cpymem(name.data, "rbac_jwks:", sizeof("rbac_jwks:") - 1),
               jk->uri.data, jk->uri.len);

    size = ngx_align(sizeof(ngx_http_rbac_jwks_sh_t), ngx_pagesize)
           + 8 * ngx_pagesize;

    shm_zone = ngx_shared_memory_add(cf, &name, size, &ngx_http_rbac_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rbac_jwt_key_request\": \"%V\" is already "
                           "used by another rbac_jwt_key_request: set it "
                           "once, at the http level, for every server",
                           &jk->uri);
        return NGX_CONF_ERROR;
    }

    shm_zone->init = ngx_http_rbac_jwks_init_zone;
    shm_zone->data = jk;

    rmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_rbac_module);

    if (rmcf->jwks == NULL) {
        rmcf->jwks = ngx_array_create(cf->pool, 1,
                                      sizeof(ngx_http_rbac_jwks_t *));
        if (rmcf->jwks == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    slot = ngx_array_push(rmcf->jwks);
    if (slot == NULL) {
        return NGX_CONF_ERROR;
    }

    *slot = jk;
    rlcf->jwks = jk;

    return NGX_CONF_OK;
}


/* The zone's state is kept across reloads: the set serves at once. */
static ngx_int_t
ngx_http_rbac_jwks_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_rbac_jwks_t  *ojk = data;

    ngx_http_rbac_jwks_t  *jk;

    jk = shm_zone->data;
    jk->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (ojk != NULL) {
        jk->sh = ojk->sh;
        return NGX_OK;
    }

    if (shm_zone->shm.exists) {
        jk->sh = jk->shpool->data;
        return NGX_OK;
    }

    jk->sh = ngx_slab_calloc(jk->shpool, sizeof(ngx_http_rbac_jwks_sh_t));
    if (jk->sh == NULL) {
        return NGX_ERROR;
    }

    jk->shpool->data = jk->sh;

    return NGX_OK;
}


void *
ngx_http_rbac_jwks_use(ngx_conf_t *cf, void *jwks, rbac_jwt_keyset_t *base,
    const rbac_jwt_checks_t *chk, rbac_str_t catalog)
{
    ngx_http_rbac_jwks_use_t  *u;

    u = ngx_pcalloc(cf->pool, sizeof(ngx_http_rbac_jwks_use_t));
    if (u == NULL) {
        return NULL;
    }

    u->jwks = jwks;
    u->base = base;
    u->chk = chk;
    u->catalog = catalog;

    return u;
}


/* This worker's key set again, from the zone's document. */
static ngx_int_t
ngx_http_rbac_jwks_rebuild(ngx_http_request_t *r, ngx_http_rbac_jwks_use_t *u)
{
    size_t                    added;
    uint8_t                   identity[RBAC_SHA256_LEN];
    rbac_rc_t                 rc;
    rbac_str_t                text;
    rbac_err_t                err;
    ngx_atomic_uint_t         gen;
    rbac_jwt_keyset_t        *ks;
    ngx_http_rbac_jwks_t     *jk;

    jk = u->jwks;

    text.data = ngx_pnalloc(r->pool, RBAC_JWKS_MAX_DOC);
    if (text.data == NULL) {
        return NGX_ERROR;
    }

    ngx_shmtx_lock(&jk->shpool->mutex);

    gen = jk->sh->gen;
    text.len = jk->sh->len;
    ngx_memcpy((u_char *) text.data, jk->sh->text, text.len);

    ngx_shmtx_unlock(&jk->shpool->mutex);

    ngx_memzero(&err, sizeof(rbac_err_t));

    ks = rbac_jwt_keyset_create(&rbac_malloc_allocator, &err);
    if (ks == NULL) {
        return NGX_ERROR;
    }

    /* the server's own keys first; a fetched key naming one is dropped */
    rc = rbac_jwt_keyset_add_all(ks, u->base, &err);

    if (rc == RBAC_OK) {
        rc = rbac_jwks_add(ks, text, jk->alg, NULL, NULL, &added, &err);
    }

    if (rc == RBAC_OK) {
        rc = rbac_jwt_identity(ks, u->chk, u->catalog, identity);
    }

    if (rc != RBAC_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "rbac: JWKS of \"%V\": %s", &jk->uri,
                      err.msg[0] ? err.msg : rbac_strerror(rc));
        rbac_jwt_keyset_free(ks);
        return NGX_ERROR;
    }

    rbac_jwt_keyset_free(u->ks);

    u->ks = ks;
    u->gen = gen;
    ngx_memcpy(u->identity, identity, sizeof(identity));

    return NGX_OK;
}


ngx_int_t
ngx_http_rbac_jwks_keys(ngx_http_request_t *r, ngx_http_rbac_ctx_t *ctx,
    void *use, rbac_jwt_keyset_t **ks, const uint8_t **identity,
    ngx_str_t *reason)
{
    ngx_http_rbac_jwks_use_t *u = use;

    time_t                     now;
    ngx_int_t                  rc;
    ngx_uint_t                 usable;
    ngx_http_rbac_jwks_t      *jk;
    ngx_http_rbac_jwks_sh_t   *sh;

    jk = u->jwks;
    sh = jk->sh;
    now = ngx_time();

    usable = (sh->gen != 0 && now - sh->fetched < jk->max_age);

    if (now >= sh->refresh) {
        /* due: this request fetches, or waits for a fetch if it must */
        rc = ngx_http_rbac_jwks_fetch(r, ctx, jk, !usable, 0);

        if (rc != NGX_DECLINED) {
            return rc;
        }

        usable = (sh->gen != 0 && now - sh->fetched < jk->max_age);
    }

    if (!usable) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "rbac: no JWKS from \"%V\" younger than max_age "
                      "(last fetch: %s)", &jk->uri,
                      sh->error[0] ? (char *) sh->error : "none");
        ngx_str_set(reason, "keys unavailable");
        return NGX_DECLINED;
    }

    if (u->gen != sh->gen && ngx_http_rbac_jwks_rebuild(r, u) != NGX_OK) {
        return NGX_ERROR;
    }

    *ks = u->ks;
    *identity = u->identity;

    return NGX_OK;
}


ngx_int_t
ngx_http_rbac_jwks_unknown_kid(ngx_http_request_t *r,
    ngx_http_rbac_ctx_t *ctx, void *use)
{
    ngx_http_rbac_jwks_use_t *u = use;

    return ngx_http_rbac_jwks_fetch(r, ctx, u->jwks, 1, 1) == NGX_AGAIN
           ? NGX_AGAIN : NGX_DECLINED;
}


ngx_int_t
ngx_http_rbac_jwks_memo_tag(ngx_http_rbac_loc_conf_t *lcf,
    ngx_atomic_uint_t *tag)
{
    time_t                    now;
    ngx_http_rbac_jwks_t     *jk;
    ngx_http_rbac_jwks_sh_t  *sh;

    *tag = 0;
    jk = lcf->jwks;

    if (jk == NULL) {
        return NGX_OK;
    }

    sh = jk->sh;
    now = ngx_time();

    if (sh->gen == 0 || now - sh->fetched >= jk->max_age
        || now >= sh->refresh)
    {
        return NGX_DECLINED;
    }

    *tag = sh->gen;

    return NGX_OK;
}


/* The request's part in fetches, made on first use. */
static ngx_http_rbac_jwks_req_t *
ngx_http_rbac_jwks_req(ngx_http_request_t *r, ngx_http_rbac_ctx_t *ctx,
    ngx_http_rbac_jwks_t *jk)
{
    ngx_pool_cleanup_t        *cln;
    ngx_http_rbac_jwks_req_t  *req;

    if (ctx->jwks != NULL) {
        return ctx->jwks;
    }

    req = ngx_pcalloc(r->pool, sizeof(ngx_http_rbac_jwks_req_t));
    if (req == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    req->ctx = ctx;
    req->jwks = jk;
    req->poll.handler = ngx_http_rbac_jwks_poll;
    req->poll.data = req;
    req->poll.log = r->connection->log;

    cln->handler = ngx_http_rbac_jwks_req_cleanup;
    cln->data = req;

    ctx->jwks = req;

    return req;
}


/*
 * Starts a fetch, or with `join` waits for the one in flight.  kid: for a
 * kid the set lacks (at most every kid_refetch), else because the set is
 * due.  NGX_AGAIN: the request waits; NGX_DECLINED: nothing to wait for;
 * NGX_ERROR.
 */
static ngx_int_t
ngx_http_rbac_jwks_fetch(ngx_http_request_t *r, ngx_http_rbac_ctx_t *ctx,
    ngx_http_rbac_jwks_t *jk, ngx_uint_t join, ngx_uint_t kid)
{
    time_t                     now;
    u_char                     error[NGX_HTTP_RBAC_JWKS_ERR_LEN];
    ngx_http_rbac_jwks_sh_t   *sh;
    ngx_http_rbac_jwks_req_t  *req;

    req = ngx_http_rbac_jwks_req(r, ctx, jk);
    if (req == NULL) {
        return NGX_ERROR;
    }

    if (req->waited) {
        return NGX_DECLINED;
    }

    sh = jk->sh;
    now = ngx_time();

    ngx_shmtx_lock(&jk->shpool->mutex);

    if (sh->fetching && now - sh->fetch_start < NGX_HTTP_RBAC_JWKS_DEAD) {
        req->until = sh->fetch_start + NGX_HTTP_RBAC_JWKS_DEAD;
        ngx_shmtx_unlock(&jk->shpool->mutex);

        if (!join) {
            return NGX_DECLINED;
        }

        ngx_add_timer(&req->poll, NGX_HTTP_RBAC_JWKS_POLL);
        return NGX_AGAIN;
    }

    if (kid ? sh->kid_attempt != 0 && now - sh->kid_attempt < jk->kid_refetch
            : now < sh->refresh)
    {
        ngx_shmtx_unlock(&jk->shpool->mutex);
        return NGX_DECLINED;
    }

    sh->fetching = 1;
    sh->fetcher = ngx_pid;
    sh->fetch_start = now;
    sh->fetches++;

    if (kid) {
        sh->kid_attempt = now;
    }

    ngx_shmtx_unlock(&jk->shpool->mutex);

    req->owner = 1;

    if (ngx_http_rbac_jwks_subrequest(r, req) != NGX_OK) {
        req->owner = 0;
        ngx_sprintf(error, "no subrequest to \"%V\"%Z", &jk->uri);
        ngx_http_rbac_jwks_store(jk, NULL, 0, error, NULL);
        return NGX_ERROR;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "rbac: fetching the JWKS from \"%V\"", &jk->uri);

    return NGX_AGAIN;
}


/* A GET of its own: none of the client's headers (its token) nor body. */
static ngx_int_t
ngx_http_rbac_jwks_subrequest(ngx_http_request_t *r,
    ngx_http_rbac_jwks_req_t *req)
{
    ngx_table_elt_t             *host;
    ngx_http_request_t          *sr;
    ngx_http_post_subrequest_t  *ps;

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        return NGX_ERROR;
    }

    ps->handler = ngx_http_rbac_jwks_done;
    ps->data = req;

    if (ngx_http_subrequest(r, &req->jwks->uri, NULL, &sr, ps,
                            NGX_HTTP_SUBREQUEST_WAITED
                            |NGX_HTTP_SUBREQUEST_IN_MEMORY)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sr->method = NGX_HTTP_GET;
    sr->method_name = ngx_http_core_get_method;
    sr->header_only = 0;
    sr->request_body = NULL;

    host = r->headers_in.host;

    ngx_memzero(&sr->headers_in, sizeof(ngx_http_headers_in_t));

    if (ngx_list_init(&sr->headers_in.headers, r->pool, 1,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sr->headers_in.host = host;
    sr->headers_in.server = r->headers_in.server;
    sr->headers_in.content_length_n = -1;
    sr->headers_in.keep_alive_n = -1;

    return NGX_OK;
}


/* max-age of the answer's Cache-Control, or -1. */
static time_t
ngx_http_rbac_jwks_max_age(ngx_http_request_t *sr)
{
    u_char           *p, *last;
    time_t            n;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &sr->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return -1;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0 || h[i].key.len != 13
            || ngx_strncasecmp(h[i].key.data, (u_char *) "Cache-Control", 13)
               != 0)
        {
            continue;
        }

        last = h[i].value.data + h[i].value.len;
        p = ngx_strlcasestrn(h[i].value.data, last, (u_char *) "max-age=",
                             8 - 1);
        if (p == NULL) {
            continue;
        }

        n = 0;

        for (p += 8; p < last && *p >= '0' && *p <= '9'; p++) {
            if (n < 10 * 365 * 86400) {
                n = n * 10 + (*p - '0');
            }
        }

        return n;
    }
}


/* The subrequest is over: the document checked and kept, or the error. */
static ngx_int_t
ngx_http_rbac_jwks_done(ngx_http_request_t *sr, void *data, ngx_int_t rc)
{
    ngx_http_rbac_jwks_req_t *req = data;

    size_t                        added;
    u_char                        error[NGX_HTTP_RBAC_JWKS_ERR_LEN];
    u_char                        skipped[NGX_HTTP_RBAC_JWKS_ERR_LEN];
    ngx_buf_t                    *b;
    ngx_str_t                     text;
    rbac_rc_t                     rrc;
    rbac_str_t                    doc;
    rbac_err_t                    err;
    ngx_uint_t                    status;
    rbac_jwt_keyset_t            *ks;
    ngx_http_rbac_jwks_t         *jk;
    ngx_http_rbac_jwks_report_t   rep;

    if (!req->owner) {
        return rc;
    }

    jk = req->jwks;
    req->owner = 0;
    req->waited = 1;

    status = sr->headers_out.status;

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        status = rc;       /* the proxy's own 502, 504 */
    }

    ngx_str_null(&text);

    if (sr->out != NULL && sr->out->buf != NULL) {
        b = sr->out->buf;
        text.data = b->pos;
        text.len = b->last - b->pos;

    } else if (sr->upstream != NULL) {
        b = &sr->upstream->buffer;
        text.data = b->pos;
        text.len = b->last - b->pos;
    }

    if (rc == NGX_ERROR || rc >= NGX_HTTP_SPECIAL_RESPONSE
        || status != NGX_HTTP_OK)
    {
        ngx_sprintf(error, "\"%V\" answered %ui%s%Z", &jk->uri, status,
                    rc == NGX_ERROR ? " (failed; a document over "
                                      "subrequest_output_buffer_size?)"
                                    : "");
        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "rbac: JWKS not fetched: %s", error);
        ngx_http_rbac_jwks_store(jk, NULL, 0, error, NULL);
        goto wake;
    }

    rep.log = sr->connection->log;
    rep.uri = &jk->uri;
    rep.start = skipped;
    rep.p = skipped;
    rep.last = skipped + sizeof(skipped) - 1;

    doc.data = (const char *) text.data;
    doc.len = text.len;
    added = 0;

    ngx_memzero(&err, sizeof(rbac_err_t));

    ks = rbac_jwt_keyset_create(&rbac_malloc_allocator, &err);
    rrc = ks ? rbac_jwks_add(ks, doc, jk->alg, ngx_http_rbac_jwks_report,
                             &rep, &added, &err)
             : RBAC_ENOMEM;
    rbac_jwt_keyset_free(ks);

    *rep.p = '\0';

    if (rrc != RBAC_OK || added == 0) {
        ngx_sprintf(error, "\"%V\": %s%Z", &jk->uri,
                    rrc != RBAC_OK ? err.msg : "no usable signing key");
        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "rbac: JWKS refused, the last set kept: %s", error);
        ngx_http_rbac_jwks_store(jk, NULL, 0, error, NULL);
        goto wake;
    }

    ngx_http_rbac_jwks_store(jk, &text, ngx_http_rbac_jwks_max_age(sr), NULL,
                             skipped);

wake:

    ngx_post_event(&req->ctx->wake, &ngx_posted_events);

    return rc;
}


/* Each key refused or skipped: logged, and listed for rbac_status. */
static void
ngx_http_rbac_jwks_report(void *ud, size_t index, rbac_str_t kid,
    rbac_jwks_verdict_t verdict, const char *why)
{
    ngx_http_rbac_jwks_report_t  *rep = ud;

    ngx_uint_t  level;

    if (verdict == RBAC_JWKS_ADDED) {
        return;
    }

    level = verdict == RBAC_JWKS_REFUSED ? NGX_LOG_ERR : NGX_LOG_WARN;

    ngx_log_error(level, rep->log, 0,
                  "rbac: JWKS of \"%V\": key #%uz kid=\"%*s\" %s: %s",
                  rep->uri, index + 1, kid.len, kid.data,
                  verdict == RBAC_JWKS_REFUSED ? "refused" : "skipped", why);

    rep->p = ngx_slprintf(rep->p, rep->last, "%skid=\"%*s\" %s: %s",
                          rep->p == rep->start ? "" : "; ", kid.len, kid.data,
                          verdict == RBAC_JWKS_REFUSED ? "refused"
                                                       : "skipped", why);
}


/*
 * The outcome of a fetch into the zone: a good document (text, with the
 * answer's max-age, -1 none) or an error; the fetch released.
 */
static void
ngx_http_rbac_jwks_store(ngx_http_rbac_jwks_t *jk, ngx_str_t *text,
    time_t max_age, u_char *error, u_char *skipped)
{
    time_t                    now;
    ngx_http_rbac_jwks_sh_t  *sh;

    sh = jk->sh;
    now = ngx_time();

    if (max_age < 0) {
        max_age = jk->max_refresh;
    }

    max_age = ngx_max(max_age, jk->min_refresh);
    max_age = ngx_min(max_age, jk->max_refresh);

    ngx_shmtx_lock(&jk->shpool->mutex);

    if (text != NULL) {
        ngx_memcpy(sh->text, text->data, text->len);
        sh->len = text->len;
        sh->fetched = now;
        sh->refresh = now + max_age;
        sh->error[0] = '\0';
        ngx_cpystrn(sh->skipped, skipped, NGX_HTTP_RBAC_JWKS_ERR_LEN);
        ngx_memory_barrier();
        sh->gen++;

    } else {
        /* tried again after kid_refetch, or by a token's unknown kid */
        sh->failures++;
        sh->refresh = now + jk->kid_refetch;
        ngx_cpystrn(sh->error, error, NGX_HTTP_RBAC_JWKS_ERR_LEN);
    }

    sh->fetching = 0;

    ngx_shmtx_unlock(&jk->shpool->mutex);
}


/* Another's fetch: looked at until it is over, then the request runs. */
static void
ngx_http_rbac_jwks_poll(ngx_event_t *ev)
{
    ngx_http_rbac_jwks_req_t  *req = ev->data;

    if (req->jwks->sh->fetching && ngx_time() < req->until) {
        ngx_add_timer(ev, NGX_HTTP_RBAC_JWKS_POLL);
        return;
    }

    req->waited = 1;
    ngx_post_event(&req->ctx->wake, &ngx_posted_events);
}


/* The request ends: its timer gone, its fetch (if unfinished) released. */
static void
ngx_http_rbac_jwks_req_cleanup(void *data)
{
    ngx_http_rbac_jwks_req_t  *req = data;

    ngx_http_rbac_jwks_sh_t  *sh;

    if (req->poll.timer_set) {
        ngx_del_timer(&req->poll);
    }

    if (!req->owner) {
        return;
    }

    sh = req->jwks->sh;

    ngx_shmtx_lock(&req->jwks->shpool->mutex);

    if (sh->fetching && sh->fetcher == ngx_pid) {
        sh->fetching = 0;
        sh->refresh = ngx_time() + req->jwks->kid_refetch;
        ngx_cpystrn(sh->error, (u_char *) "the fetching request ended first",
                    NGX_HTTP_RBAC_JWKS_ERR_LEN);
    }

    ngx_shmtx_unlock(&req->jwks->shpool->mutex);
}


/* Bytes one JWKS may take in rbac_status (kids escaped at most 6 times). */
#define NGX_HTTP_RBAC_JWKS_STATUS_LEN                                         \
    (1024 + 2 * 6 * NGX_HTTP_RBAC_JWKS_ERR_LEN                                \
     + RBAC_JWT_MAX_KEYS * (6 * RBAC_JWT_MAX_KID + 64))


size_t
ngx_http_rbac_jwks_status_size(ngx_http_request_t *r)
{
    ngx_http_rbac_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_rbac_module);

    return rmcf->jwks == NULL
           ? 0 : rmcf->jwks->nelts * NGX_HTTP_RBAC_JWKS_STATUS_LEN;
}


/* A snapshot of one zone: its document parsed into a set for the kids. */
typedef struct {
    time_t                   age;           /* -1: never fetched */
    time_t                   refresh_in;
    ngx_uint_t               fetches;
    ngx_uint_t               failures;
    ngx_uint_t               fetching;
    u_char                   error[NGX_HTTP_RBAC_JWKS_ERR_LEN];
    u_char                   skipped[NGX_HTTP_RBAC_JWKS_ERR_LEN];
    rbac_jwt_keyset_t       *ks;
} ngx_http_rbac_jwks_snap_t;


static ngx_int_t
ngx_http_rbac_jwks_snap(ngx_http_request_t *r, ngx_http_rbac_jwks_t *jk,
    ngx_http_rbac_jwks_snap_t *s)
{
    time_t                    now;
    rbac_str_t                text;
    rbac_err_t                err;
    ngx_http_rbac_jwks_sh_t  *sh;

    sh = jk->sh;
    now = ngx_time();

    text.data = ngx_pnalloc(r->pool, RBAC_JWKS_MAX_DOC);
    if (text.data == NULL) {
        return NGX_ERROR;
    }

    ngx_shmtx_lock(&jk->shpool->mutex);

    s->age = sh->gen ? now - sh->fetched : -1;
    s->refresh_in = sh->refresh > now ? sh->refresh - now : 0;
    s->fetches = sh->fetches;
    s->failures = sh->failures;
    s->fetching = sh->fetching;
    ngx_memcpy(s->error, sh->error, NGX_HTTP_RBAC_JWKS_ERR_LEN);
    ngx_memcpy(s->skipped, sh->skipped, NGX_HTTP_RBAC_JWKS_ERR_LEN);
    text.len = sh->len;
    ngx_memcpy((u_char *) text.data, sh->text, text.len);

    ngx_shmtx_unlock(&jk->shpool->mutex);

    s->error[NGX_HTTP_RBAC_JWKS_ERR_LEN - 1] = '\0';
    s->skipped[NGX_HTTP_RBAC_JWKS_ERR_LEN - 1] = '\0';

    ngx_memzero(&err, sizeof(rbac_err_t));

    s->ks = rbac_jwt_keyset_create(&rbac_malloc_allocator, &err);
    if (s->ks == NULL) {
        return NGX_ERROR;
    }

    if (text.len > 0) {
        (void) rbac_jwks_add(s->ks, text, jk->alg, NULL, NULL, NULL, &err);
    }

    return NGX_OK;
}


static u_char *
ngx_http_rbac_jwks_json(u_char *p, u_char *s)
{
    *p++ = '"';
    p = (u_char *) ngx_escape_json(p, s, ngx_strlen(s));
    *p++ = '"';

    return p;
}


u_char *
ngx_http_rbac_jwks_status(ngx_http_request_t *r, u_char *p,
    ngx_uint_t prometheus)
{
    size_t                       i, k;
    rbac_str_t                   kid;
    rbac_jwt_alg_t               alg;
    ngx_http_rbac_jwks_t       **jks, *jk;
    ngx_http_rbac_jwks_snap_t    s;
    ngx_http_rbac_main_conf_t   *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_rbac_module);

    if (rmcf->jwks == NULL) {
        return p;
    }

    if (!prometheus) {
        p = ngx_sprintf(p, ",\"jwks\":[");
    }

    jks = rmcf->jwks->elts;

    for (i = 0; i < rmcf->jwks->nelts; i++) {
        jk = jks[i];

        if (ngx_http_rbac_jwks_snap(r, jk, &s) != NGX_OK) {
            break;
        }

        if (prometheus) {
            p = ngx_sprintf(p, "rbac_jwks_age_seconds{uri=\"%V\"} %T\n"
                            "rbac_jwks_keys{uri=\"%V\"} %uz\n"
                            "rbac_jwks_fetches_total{uri=\"%V\"} %ui\n"
                            "rbac_jwks_fetch_failures_total{uri=\"%V\"} "
                            "%ui\n", &jk->uri, s.age, &jk->uri,
                            rbac_jwt_keyset_count(s.ks), &jk->uri,
                            s.fetches, &jk->uri, s.failures);
            rbac_jwt_keyset_free(s.ks);
            continue;
        }

        p = ngx_sprintf(p, "%s{\"uri\":", i ? "," : "");
        *p++ = '"';
        p = (u_char *) ngx_escape_json(p, jk->uri.data, jk->uri.len);
        *p++ = '"';

        if (s.age < 0) {
            p = ngx_sprintf(p, ",\"age\":null");

        } else {
            p = ngx_sprintf(p, ",\"age\":%T", s.age);
        }

        p = ngx_sprintf(p, ",\"refresh_in\":%T,\"fetching\":%s,"
                        "\"fetches\":%ui,\"failures\":%ui,\"kids\":[",
                        s.refresh_in, s.fetching ? "true" : "false",
                        s.fetches, s.failures);

        for (k = 0; rbac_jwt_keyset_get(s.ks, k, &kid, &alg); k++) {
            p = ngx_sprintf(p, "%s{\"kid\":\"", k ? "," : "");
            p = (u_char *) ngx_escape_json(p, (u_char *) kid.data, kid.len);
            p = ngx_sprintf(p, "\",\"alg\":\"%s\"}", rbac_jwt_alg_name(alg));
        }

        p = ngx_sprintf(p, "],\"last_error\":");
        p = ngx_http_rbac_jwks_json(p, s.error);
        p = ngx_sprintf(p, ",\"skipped\":");
        p = ngx_http_rbac_jwks_json(p, s.skipped);
        *p++ = '}';

        rbac_jwt_keyset_free(s.ks);
    }

    if (!prometheus) {
        *p++ = ']';
    }

    return p;
}
