
/*
 * ngx_http_rbac_idpsync.c: IdP sync in the module.  When a JWT was
 * verified and rbac:idpsync holds settings, the subject is built from the
 * claims and the user's record (core/rbac_idpsync.h) instead of the record
 * alone.  The records the rules need (rbac:idpsync, rbac:org:<org>,
 * rbac:orggroups:<org>, rbac:role:<org>:<name>) come through the request's
 * fetch like every other record, so a change made with rbacctl applies to
 * the next request, without a reload.  The regex filters are compiled once
 * per worker and per settings (recompiled when the record changes).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_rbac_module.h"
#include "ngx_http_rbac_jwt.h"


static void *ngx_http_rbac_idp_get(ngx_http_rbac_ctx_t *ctx,
    ngx_uint_t *state, const char *kind, rbac_str_t *a, rbac_str_t *b);
static rbac_idp_look_t ngx_http_rbac_idp_look(ngx_uint_t state);
static rbac_idp_look_t ngx_http_rbac_idp_org(void *ud, rbac_str_t org);
static rbac_idp_look_t ngx_http_rbac_idp_orggroups(void *ud, rbac_str_t org,
    const rbac_orggroups_rec_t **out);
static rbac_idp_look_t ngx_http_rbac_idp_role(void *ud, rbac_str_t org,
    rbac_str_t name);
static rbac_idp_rx_t *ngx_http_rbac_idp_rx(ngx_http_request_t *r,
    rbac_idpsync_rec_t *set);


/* Per worker: the regex filters of the last settings seen. */
static rbac_idp_rx_t  *ngx_http_rbac_idp_compiled;
static u_char         *ngx_http_rbac_idp_settings;
static size_t          ngx_http_rbac_idp_settings_len;


/*
 * Called on every pass for a JWT, right after the user's record was asked
 * for.  NGX_OK: ctx->user is the subject's record (or the pass waits for
 * records: ctx->need); NGX_DONE: decided (ctx->status); NGX_ERROR.
 */
ngx_int_t
ngx_http_rbac_idpsync(ngx_http_request_t *r, ngx_http_rbac_ctx_t *ctx)
{
    u_char                  buf[NGX_HTTP_RBAC_MAX_KEY], *p;
    ngx_str_t               key;
    ngx_uint_t              state, fetched;
    rbac_rc_t               rc;
    rbac_str_t              sub, claims;
    rbac_err_t              err;
    rbac_idp_rx_t          *rx;
    rbac_allocator_t        a;
    rbac_user_rec_t        *user;
    rbac_idp_lookup_t       lk;
    rbac_idp_result_t       res;
    rbac_idpsync_rec_t     *set;
    ngx_http_rbac_main_conf_t  *rmcf;

    if (ctx->idp_done) {
        ctx->user = ctx->idp_user;
        return NGX_OK;
    }

    set = ngx_http_rbac_idp_get(ctx, &state, "idpsync", NULL, NULL);

    if (state == NGX_HTTP_RBAC_PENDING) {
        return NGX_OK;
    }

    if (ctx->uid.len > RBAC_MAX_NAME) {
        return NGX_OK;
    }

    /* the user's record: asked for by the caller in this pass */
    p = ngx_cpymem(buf, "user:", sizeof("user:") - 1);
    p = ngx_cpymem(p, ctx->uid.data, ctx->uid.len);
    key.data = buf;
    key.len = p - buf;

    user = ngx_http_rbac_record(ctx, &key, &fetched);

    if (!fetched) {
        return NGX_OK;
    }

    if (set == NULL) {
        /* no settings: the record alone */
        ctx->idp_done = 1;
        ctx->idp_user = user;
        ngx_http_rbac_jwt_store(r, ctx, user);
        return NGX_OK;
    }

    if (ngx_http_rbac_jwt_claims(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    rx = ngx_http_rbac_idp_rx(r, set);
    if (rx == NULL) {
        ctx->status = NGX_HTTP_SERVICE_UNAVAILABLE;
        ngx_str_set(&ctx->reason, "authorization unavailable");
        return NGX_DONE;
    }

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_rbac_module);

    lk.catalog = rmcf->catalog;
    lk.org = ngx_http_rbac_idp_org;
    lk.orggroups = ngx_http_rbac_idp_orggroups;
    lk.role = ngx_http_rbac_idp_role;
    lk.ud = ctx;

    a.alloc = ngx_http_rbac_palloc;
    a.free = ngx_http_rbac_pfree;
    a.ud = r->pool;

    sub.data = (const char *) ctx->uid.data;
    sub.len = ctx->uid.len;
    claims.data = (const char *) ctx->claims.data;
    claims.len = ctx->claims.len;

    ngx_memzero(&err, sizeof(rbac_err_t));

    rc = rbac_idp_apply(set, rx, sub, claims, user, &lk, &a, &res, &err);

    if (rc == RBAC_EBOUND) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "rbac: user \"%V\": %s", &ctx->uid, err.msg);
        ctx->status = NGX_HTTP_FORBIDDEN;
        ngx_str_set(&ctx->reason, "idp sync: too many memberships");
        return NGX_DONE;
    }

    if (rc != RBAC_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "rbac: idp sync of user \"%V\" failed: %s (%s)",
                      &ctx->uid, err.msg, rbac_strerror(rc));
        return NGX_ERROR;
    }

    if (res.pending) {
        /* the lookups asked for their records: the next pass has them */
        return NGX_OK;
    }

    ctx->idp_done = 1;
    ctx->idp_user = res.user;
    ctx->user = res.user;
    ngx_http_rbac_jwt_store(r, ctx, res.user);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "rbac: idp sync of \"%V\": %uz memberships, synced %d",
                   &ctx->uid, res.ngrants, res.synced);

    return NGX_OK;
}


/* ngx_http_rbac_get() for the names core hands over. */
static void *
ngx_http_rbac_idp_get(ngx_http_rbac_ctx_t *ctx, ngx_uint_t *state,
    const char *kind, rbac_str_t *a, rbac_str_t *b)
{
    ngx_str_t  sa, sb;

    if (a != NULL) {
        sa.data = (u_char *) a->data;
        sa.len = a->len;
    }

    if (b != NULL) {
        sb.data = (u_char *) b->data;
        sb.len = b->len;
    }

    return ngx_http_rbac_get(ctx, state, kind, (a != NULL) ? &sa : NULL,
                             (b != NULL) ? &sb : NULL);
}


static rbac_idp_look_t
ngx_http_rbac_idp_look(ngx_uint_t state)
{
    switch (state) {

    case NGX_HTTP_RBAC_PENDING:
        return RBAC_IDP_PENDING;

    case NGX_HTTP_RBAC_PRESENT:
        return RBAC_IDP_PRESENT;

    default:
        return RBAC_IDP_ABSENT;
    }
}


static rbac_idp_look_t
ngx_http_rbac_idp_org(void *ud, rbac_str_t org)
{
    ngx_uint_t  state;

    (void) ngx_http_rbac_idp_get(ud, &state, "org:", &org, NULL);

    return ngx_http_rbac_idp_look(state);
}


static rbac_idp_look_t
ngx_http_rbac_idp_orggroups(void *ud, rbac_str_t org,
    const rbac_orggroups_rec_t **out)
{
    ngx_uint_t  state;

    *out = ngx_http_rbac_idp_get(ud, &state, "orggroups:", &org, NULL);

    return ngx_http_rbac_idp_look(state);
}


static rbac_idp_look_t
ngx_http_rbac_idp_role(void *ud, rbac_str_t org, rbac_str_t name)
{
    ngx_uint_t  state;

    (void) ngx_http_rbac_idp_get(ud, &state, "role:", &org, &name);

    return ngx_http_rbac_idp_look(state);
}


/*
 * The compiled regex filters of `set`: this worker's, recompiled when the
 * settings differ from the last ones seen (records are byte-stable, so
 * equal bytes are equal settings).  NULL after logging when they do not
 * compile or memory runs out.
 */
static rbac_idp_rx_t *
ngx_http_rbac_idp_rx(ngx_http_request_t *r, rbac_idpsync_rec_t *set)
{
    u_char            *copy;
    rbac_rc_t          rc;
    rbac_err_t         err;
    rbac_idp_rx_t     *rx;
    rbac_allocator_t   a;

    if (ngx_http_rbac_idp_compiled != NULL
        && ngx_http_rbac_idp_settings_len == set->hdr.size
        && ngx_memcmp(ngx_http_rbac_idp_settings, set, set->hdr.size) == 0)
    {
        return ngx_http_rbac_idp_compiled;
    }

    a.alloc = ngx_http_rbac_heap_alloc;
    a.free = ngx_http_rbac_heap_free;
    a.ud = ngx_cycle->log;

    ngx_memzero(&err, sizeof(rbac_err_t));

    rc = rbac_idp_compile(set, &a, &rx, &err);
    if (rc != RBAC_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "rbac: malformed record \"idpsync\": %s",
                      err.msg[0] ? err.msg : rbac_strerror(rc));
        return NULL;
    }

    copy = ngx_alloc(set->hdr.size, ngx_cycle->log);
    if (copy == NULL) {
        rbac_idp_rx_free(rx);
        return NULL;
    }

    ngx_memcpy(copy, set, set->hdr.size);

    if (ngx_http_rbac_idp_compiled != NULL) {
        rbac_idp_rx_free(ngx_http_rbac_idp_compiled);
        ngx_free(ngx_http_rbac_idp_settings);
    }

    ngx_http_rbac_idp_compiled = rx;
    ngx_http_rbac_idp_settings = copy;
    ngx_http_rbac_idp_settings_len = set->hdr.size;

    return rx;
}


void
ngx_http_rbac_idpsync_exit(void)
{
    if (ngx_http_rbac_idp_compiled != NULL) {
        rbac_idp_rx_free(ngx_http_rbac_idp_compiled);
        ngx_free(ngx_http_rbac_idp_settings);

        ngx_http_rbac_idp_compiled = NULL;
        ngx_http_rbac_idp_settings = NULL;
        ngx_http_rbac_idp_settings_len = 0;
    }
}
