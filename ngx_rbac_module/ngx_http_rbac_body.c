
/*
 * ngx_http_rbac_body.c: rbac_json_body.  The request body is read in the
 * access phase with nginx's own body reading (no blocking: the request
 * waits on the event loop, client_body_timeout applies), and left in
 * r->request_body for the upstream, which sends it unchanged.  Its
 * top-level scalar fields become $rbac_body_<field>.
 *
 * The body is decided on in memory only: a worker never reads a file on
 * the request path.  rbac_json_body raises the location's
 * client_body_buffer_size to twice its size, room for the body and its
 * chunk framing; a body that nginx wrote to a temporary file anyway
 * (framing larger than the body, client_body_in_file_only) is a 413.
 * A request without a body has no fields: every $rbac_body_ is empty.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_rbac_module.h"


static void ngx_http_rbac_body_handler(ngx_http_request_t *r);
static void ngx_http_rbac_body_parse(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_ctx_t *ctx);
static void ngx_http_rbac_body_refuse(ngx_http_request_t *r,
    ngx_http_rbac_ctx_t *ctx, ngx_int_t status, const char *fmt, ...);


/*
 * Reads the body, or starts reading it.  NGX_OK: the body was all there
 * (read and parsed in the call: the decision goes on in this pass) or was
 * refused (ctx->status says why); NGX_DONE: the request waits for the rest
 * of it (the body handler runs the phases again); >= 300: nginx's own
 * answer (such as client_max_body_size).
 */
ngx_int_t
ngx_http_rbac_read_body(ngx_http_request_t *r, ngx_http_rbac_loc_conf_t *lcf,
    ngx_http_rbac_ctx_t *ctx)
{
    ngx_int_t  rc;

    if (r->headers_in.content_length_n > (off_t) lcf->json_body) {
        ctx->body_read = 1;

        if (lcf->mode == NGX_HTTP_RBAC_ON) {
            /*
             * as for client_max_body_size: no "100 Continue" for a body
             * that is refused anyway (in shadow mode it goes upstream)
             */
            r->expect_tested = 1;
        }

        ngx_http_rbac_body_refuse(r, ctx, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                  "body over %uz bytes", lcf->json_body);
        return NGX_OK;
    }

    ctx->body_waiting = 1;
    ctx->body_inline = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_rbac_body_handler);

    ctx->body_inline = 0;

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        ctx->body_waiting = 0;
        return rc;
    }

    /* balances the count that ngx_http_read_client_request_body took */
    ngx_http_finalize_request(r, NGX_DONE);

    /*
     * the body was all in (the usual small body, read with the header):
     * the handler ran in the call and left the phases to this pass
     */
    return ctx->body_read ? NGX_OK : NGX_DONE;
}


static void
ngx_http_rbac_body_handler(ngx_http_request_t *r)
{
    ngx_http_rbac_ctx_t       *ctx;
    ngx_http_rbac_loc_conf_t  *lcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_rbac_module);
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_rbac_module);

    ctx->body_waiting = 0;
    ctx->body_read = 1;

    ngx_http_rbac_body_parse(r, lcf, ctx);

    r->preserve_body = 1;

    if (ctx->body_inline) {
        /* in ngx_http_rbac_read_body's call: it goes on with the phase */
        return;
    }

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
}


static void
ngx_http_rbac_body_parse(ngx_http_request_t *r, ngx_http_rbac_loc_conf_t *lcf,
    ngx_http_rbac_ctx_t *ctx)
{
    u_char            *p, *last;
    size_t             len;
    rbac_err_t         err;
    ngx_chain_t       *cl;
    rbac_body_t       *body;
    rbac_allocator_t   a;

    if (r->request_body == NULL) {
        /* discarded before we came: there is no body to see */
        return;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        if (cl->buf->in_file || r->request_body->temp_file) {
            ngx_http_rbac_body_refuse(r, ctx,
                                      NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                      "body over %uz bytes with its framing",
                                      lcf->json_body);
            return;
        }

        len += cl->buf->last - cl->buf->pos;
    }

    if (len > lcf->json_body) {
        ngx_http_rbac_body_refuse(r, ctx, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                  "body over %uz bytes", lcf->json_body);
        return;
    }

    if (len == 0) {
        return;
    }

    body = ngx_pcalloc(r->pool, sizeof(rbac_body_t));
    if (body == NULL) {
        ctx->failed = 1;
        return;
    }

    /* in one buffer, the usual case: read where it is (and left as it is) */
    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        if ((size_t) (cl->buf->last - cl->buf->pos) == len) {
            p = cl->buf->pos;
            last = cl->buf->last;
            goto parse;
        }
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        ctx->failed = 1;
        return;
    }

    last = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        if (cl->buf->last > cl->buf->pos) {
            last = ngx_cpymem(last, cl->buf->pos,
                              cl->buf->last - cl->buf->pos);
        }
    }

parse:

    a.alloc = ngx_http_rbac_palloc;
    a.free = ngx_http_rbac_pfree;
    a.ud = r->pool;

    if (rbac_body_parse((char *) p, last - p, &a, body, &err) != RBAC_OK) {
        if (err.rc == RBAC_ENOMEM) {
            ctx->failed = 1;
            return;
        }

        ngx_http_rbac_body_refuse(r, ctx, NGX_HTTP_BAD_REQUEST, "%s",
                                  err.msg);
        return;
    }

    ctx->body = body;
}


static void
ngx_http_rbac_body_refuse(ngx_http_request_t *r, ngx_http_rbac_ctx_t *ctx,
    ngx_int_t status, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    p = ngx_pnalloc(r->pool, NGX_MAX_ERROR_STR);
    if (p == NULL) {
        ctx->failed = 1;
        return;
    }

    va_start(args, fmt);
    ctx->reason.len = ngx_vslprintf(p, p + NGX_MAX_ERROR_STR, fmt, args) - p;
    va_end(args);

    ctx->reason.data = p;
    ctx->status = status;
}


/* $rbac_body_<field>: empty when the body has no such field. */
ngx_int_t
ngx_http_rbac_body_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t            *name = (ngx_str_t *) data;

    rbac_str_t            field;
    const rbac_str_t     *value;
    ngx_http_rbac_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_rbac_module);

    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->len = 0;
    v->data = (u_char *) "";

    if (ctx == NULL || ctx->body == NULL) {
        return NGX_OK;
    }

    field.data = (const char *) name->data + sizeof("rbac_body_") - 1;
    field.len = name->len - (sizeof("rbac_body_") - 1);

    value = rbac_body_get(ctx->body, field);

    if (value != NULL) {
        v->data = (u_char *) value->data;
        v->len = value->len;
    }

    return NGX_OK;
}
