
/*
 * ngx_http_rbac_fetch.c: the records a request needs, by key.  The handler
 * says which keys it wants (ngx_http_rbac_want), then asks for them all at
 * once (ngx_http_rbac_fetch): one MGET, one round trip, parsed into the
 * request's pool.  This is the one place where the shared-memory cache
 * will answer before Redis is asked.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_rbac_module.h"


static ngx_http_rbac_record_t *ngx_http_rbac_find(ngx_http_rbac_ctx_t *ctx,
    ngx_str_t *key);
static void ngx_http_rbac_fetch_reply(void *data, redisReply *reply);
static ngx_int_t ngx_http_rbac_fetch_parse(ngx_http_rbac_ctx_t *ctx,
    ngx_http_rbac_record_t *rec, redisReply *value);


void *
ngx_http_rbac_palloc(void *ud, size_t size)
{
    return ngx_palloc(ud, size);
}


void
ngx_http_rbac_pfree(void *ud, void *p)
{
    /* pool memory goes with the request */
}


static ngx_http_rbac_record_t *
ngx_http_rbac_find(ngx_http_rbac_ctx_t *ctx, ngx_str_t *key)
{
    ngx_uint_t               i;
    ngx_http_rbac_record_t  *rec;

    rec = ctx->records.elts;

    for (i = 0; i < ctx->records.nelts; i++) {
        if (rec[i].key.len == key->len
            && ngx_memcmp(rec[i].key.data, key->data, key->len) == 0)
        {
            return &rec[i];
        }
    }

    return NULL;
}


/*
 * Notes that the request needs `key` (without the prefix).  NGX_OK when it
 * is already known or now queued for the next fetch; NGX_ERROR when out of
 * memory or over NGX_HTTP_RBAC_MAX_RECORDS (a record naming too many roles
 * or orgs).
 */
ngx_int_t
ngx_http_rbac_want(ngx_http_rbac_ctx_t *ctx, ngx_str_t *key)
{
    ngx_str_t               *w;
    ngx_http_rbac_record_t  *rec;

    if (ngx_http_rbac_find(ctx, key) != NULL) {
        return NGX_OK;
    }

    if (ctx->records.nelts >= NGX_HTTP_RBAC_MAX_RECORDS) {
        ngx_log_error(NGX_LOG_ERR, ctx->request->connection->log, 0,
                      "rbac: a request needs more than %d records",
                      NGX_HTTP_RBAC_MAX_RECORDS);
        return NGX_ERROR;
    }

    rec = ngx_array_push(&ctx->records);
    if (rec == NULL) {
        return NGX_ERROR;
    }

    rec->key.data = ngx_pstrdup(ctx->request->pool, key);
    if (rec->key.data == NULL) {
        return NGX_ERROR;
    }

    rec->key.len = key->len;
    rec->rec = NULL;
    rec->fetched = 0;

    w = ngx_array_push(&ctx->wanted);
    if (w == NULL) {
        return NGX_ERROR;
    }

    *w = rec->key;

    return NGX_OK;
}


/*
 * The parsed record for `key`, or NULL.  *fetched says whether NULL means
 * "absent in Redis" (1) or "not fetched yet" (0).
 */
void *
ngx_http_rbac_record(ngx_http_rbac_ctx_t *ctx, ngx_str_t *key,
    ngx_uint_t *fetched)
{
    ngx_http_rbac_record_t  *rec;

    rec = ngx_http_rbac_find(ctx, key);

    if (rec == NULL) {
        *fetched = 0;
        return NULL;
    }

    *fetched = rec->fetched;

    return rec->rec;
}


/*
 * Gets every wanted key.  NGX_OK: nothing was wanted (or everything was
 * answered at once); NGX_AGAIN: the command is in flight and ctx->wake
 * will be posted (reply) or fire (timeout); NGX_ERROR: Redis is not usable
 * right now, answer 503.
 */
ngx_int_t
ngx_http_rbac_fetch(ngx_http_rbac_ctx_t *ctx)
{
    ngx_http_request_t         *r;
    ngx_http_rbac_main_conf_t  *rmcf;

    if (ctx->wanted.nelts == 0) {
        return NGX_OK;
    }

    r = ctx->request;
    rmcf = ngx_http_get_module_main_conf(r, ngx_http_rbac_module);

    if (++ctx->rounds > NGX_HTTP_RBAC_MAX_ROUNDS) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "rbac: too many lookups for one request");
        return NGX_ERROR;
    }

    ctx->used_redis = 1;

    ctx->pending = ngx_http_rbac_redis_mget(rmcf->conn, ctx->wanted.elts,
                                            ctx->wanted.nelts,
                                            ngx_http_rbac_fetch_reply, ctx,
                                            r->connection->log);
    if (ctx->pending == NULL) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "rbac: redis %V unavailable", &rmcf->redis.name);
        return NGX_ERROR;
    }

    ngx_add_timer(&ctx->wake, rmcf->redis.timeout);

    return NGX_AGAIN;
}


/* The request went away, or timed out: a late reply will be dropped. */
void
ngx_http_rbac_fetch_cancel(ngx_http_rbac_ctx_t *ctx)
{
    if (ctx->pending != NULL) {
        ngx_http_rbac_redis_detach(ctx->pending);
        ctx->pending = NULL;
    }
}


/* In hiredis's callback: copy what we need, then wake the request. */
static void
ngx_http_rbac_fetch_reply(void *data, redisReply *reply)
{
    ngx_http_rbac_ctx_t *ctx = data;

    ngx_str_t               *w;
    ngx_uint_t               i;
    ngx_http_rbac_record_t  *rec;

    ctx->pending = NULL;

    if (ctx->wake.timer_set) {
        ngx_del_timer(&ctx->wake);
    }

    w = ctx->wanted.elts;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != ctx->wanted.nelts)
    {
        ctx->redis_error = 1;

    } else {
        for (i = 0; i < ctx->wanted.nelts; i++) {
            rec = ngx_http_rbac_find(ctx, &w[i]);

            if (ngx_http_rbac_fetch_parse(ctx, rec, reply->element[i])
                != NGX_OK)
            {
                ctx->redis_error = 1;
                break;
            }
        }
    }

    ctx->wanted.nelts = 0;

    ngx_post_event(&ctx->wake, &ngx_posted_events);
}


static ngx_int_t
ngx_http_rbac_fetch_parse(ngx_http_rbac_ctx_t *ctx,
    ngx_http_rbac_record_t *rec, redisReply *value)
{
    rbac_rc_t         rc;
    rbac_str_t        key;
    rbac_err_t        err;
    rbac_rec_type_t   type;
    rbac_allocator_t  a;

    rec->fetched = 1;

    if (value->type == REDIS_REPLY_NIL) {
        rec->rec = NULL;
        return NGX_OK;
    }

    if (value->type != REDIS_REPLY_STRING) {
        ngx_log_error(NGX_LOG_ERR, ctx->request->connection->log, 0,
                      "rbac: redis key \"%V\" is not a string", &rec->key);
        return NGX_ERROR;
    }

    key.data = (const char *) rec->key.data;
    key.len = rec->key.len;
    type = rbac_record_type_of_key(key);

    a.alloc = ngx_http_rbac_palloc;
    a.free = ngx_http_rbac_pfree;
    a.ud = ctx->request->pool;

    ngx_memzero(&err, sizeof(rbac_err_t));

    rc = rbac_record_parse(type, value->str, value->len, &a, &rec->rec, &err);

    if (rc != RBAC_OK) {
        rec->rec = NULL;
        ngx_log_error(NGX_LOG_ERR, ctx->request->connection->log, 0,
                      "rbac: malformed record \"%V\": %s", &rec->key,
                      err.msg[0] ? err.msg : rbac_strerror(rc));
        return NGX_ERROR;
    }

    return NGX_OK;
}
