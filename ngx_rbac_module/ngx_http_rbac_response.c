
/*
 * ngx_http_rbac_response.c: what the client and the upstream see: the
 * removal of client copies of X-Rbac-*, the identity headers, and the JSON
 * bodies of 401, 403 and 503 (docs/directives.md §17).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_rbac_module.h"


static u_char *ngx_http_rbac_json_escape(u_char *dst, ngx_str_t *s);
static size_t ngx_http_rbac_json_len(ngx_str_t *s);


/* An X-Rbac-* header in any spelling (X_Rbac_User, x-RBAC_roles, ...). */
static ngx_inline ngx_uint_t
ngx_http_rbac_identity_name(ngx_table_elt_t *h)
{
    rbac_str_t  name;

    name.data = (const char *) h->key.data;
    name.len = h->key.len;

    return rbac_hdr_is_identity(name);
}


/*
 * Rebuilds r->headers_in.headers without any X-Rbac-* header, in any
 * spelling, so that only the identity headers this module sets ever reach
 * the upstream.  The list is left alone (no allocation) when no such
 * header is present.
 */
ngx_int_t
ngx_http_rbac_strip_headers(ngx_http_request_t *r)
{
    ngx_uint_t        i, found;
    ngx_list_t        headers;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *nh;

    found = 0;
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (ngx_http_rbac_identity_name(&h[i])) {
            found = 1;
            break;
        }
    }

    if (!found) {
        return NGX_OK;
    }

    /* the old parts stay in the pool; walk them from a copy of the head */
    headers = r->headers_in.headers;

    if (ngx_list_init(&r->headers_in.headers, r->pool, 20,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    part = &headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (ngx_http_rbac_identity_name(&h[i])) {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "rbac: removed client header \"%V\"", &h[i].key);
            continue;
        }

        nh = ngx_list_push(&r->headers_in.headers);
        if (nh == NULL) {
            return NGX_ERROR;
        }

        *nh = h[i];
    }

    return NGX_OK;
}


/*
 * The identity headers, their lower-case names and hashes known before any
 * request: nginx's proxy and variables find a header by both.
 */
typedef struct {
    ngx_str_t                   name;
    ngx_str_t                   lowcase;
    ngx_uint_t                  hash;
} ngx_http_rbac_hdr_name_t;

#define ngx_http_rbac_hdr_name(n, l)  { ngx_string(n), ngx_string(l), 0 }

static ngx_http_rbac_hdr_name_t  ngx_http_rbac_hdr_names[] = {
    ngx_http_rbac_hdr_name("X-Rbac-User", "x-rbac-user"),
    ngx_http_rbac_hdr_name("X-Rbac-Kind", "x-rbac-kind"),
    ngx_http_rbac_hdr_name("X-Rbac-Org", "x-rbac-org"),
    ngx_http_rbac_hdr_name("X-Rbac-Roles", "x-rbac-roles")
};

#define NGX_HTTP_RBAC_HDR_USER   0
#define NGX_HTTP_RBAC_HDR_KIND   1
#define NGX_HTTP_RBAC_HDR_ORG    2
#define NGX_HTTP_RBAC_HDR_ROLES  3


/* The names' hashes, once per process (a constant of each name). */
static void
ngx_http_rbac_hdr_names_init(void)
{
    ngx_uint_t                 i;
    ngx_http_rbac_hdr_name_t  *hn;

    for (i = 0; i < sizeof(ngx_http_rbac_hdr_names)
                    / sizeof(ngx_http_rbac_hdr_names[0]); i++)
    {
        hn = &ngx_http_rbac_hdr_names[i];
        hn->hash = ngx_hash_key(hn->lowcase.data, hn->lowcase.len);
    }
}


/*
 * Adds a request header for the upstream (client copies already gone).
 * With encode, the value is written as rbac_hdr_encode writes one value;
 * without, it must be a list already encoded element by element.
 */
static ngx_int_t
ngx_http_rbac_add_header(ngx_http_request_t *r, ngx_http_rbac_ctx_t *ctx,
    ngx_uint_t which, ngx_str_t *value, ngx_uint_t encode)
{
    rbac_str_t                 v;
    ngx_table_elt_t           *h;
    ngx_http_rbac_hdr_name_t  *hn;

    hn = &ngx_http_rbac_hdr_names[which];

    if (hn->hash == 0) {
        ngx_http_rbac_hdr_names_init();
    }

    h = ngx_list_push(&r->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->key = hn->name;
    h->lowcase_key = hn->lowcase.data;
    h->hash = hn->hash;
    h->value = *value;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    if (encode) {
        v.data = (const char *) value->data;
        v.len = value->len;

        h->value.len = rbac_hdr_encode(v, NULL);

        if (h->value.len != value->len) {
            h->value.data = ngx_pnalloc(r->pool, h->value.len);
            if (h->value.data == NULL) {
                return NGX_ERROR;
            }

            (void) rbac_hdr_encode(v, (char *) h->value.data);
        }
    }

    /* the lines the credential was read from, and this one */
    ngx_http_rbac_carrier_seen(
        ngx_http_get_module_loc_conf(r, ngx_http_rbac_module), &ctx->seen, h);

    return NGX_OK;
}


/*
 * The identity headers of an allow: single values encoded here, the roles
 * already encoded name by name.
 */
ngx_int_t
ngx_http_rbac_identity_headers(ngx_http_request_t *r,
    ngx_http_rbac_ctx_t *ctx)
{
    if (ngx_http_rbac_add_header(r, ctx, NGX_HTTP_RBAC_HDR_USER,
                                 &ctx->var_user, 1)
        != NGX_OK
        /* a kind is one of the module's own plain words */
        || ngx_http_rbac_add_header(r, ctx, NGX_HTTP_RBAC_HDR_KIND,
                                    &ctx->var_kind, 0)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ctx->var_org.len
        && ngx_http_rbac_add_header(r, ctx, NGX_HTTP_RBAC_HDR_ORG,
                                    &ctx->var_org, 1)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ctx->var_roles.len
        && ngx_http_rbac_add_header(r, ctx, NGX_HTTP_RBAC_HDR_ROLES,
                                    &ctx->var_roles, 0)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Sends the 401, 403 or 503 of ctx->status with its JSON body and headers
 * and returns what the output chain returned (for ngx_http_finalize_request).
 */
ngx_int_t
ngx_http_rbac_send_error(ngx_http_request_t *r, ngx_http_rbac_ctx_t *ctx)
{
    size_t            len;
    u_char           *p;
    ngx_int_t         rc;
    ngx_buf_t        *b;
    ngx_str_t         message;
    ngx_chain_t       out;
    ngx_table_elt_t  *h;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    switch (ctx->status) {

    case NGX_HTTP_UNAUTHORIZED:
        ngx_str_set(&message, "Unauthorized");
        break;

    case NGX_HTTP_FORBIDDEN:
        ngx_str_set(&message, "Forbidden");
        break;

    case NGX_HTTP_BAD_REQUEST:
        ngx_str_set(&message, "Bad Request");
        break;

    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
        ngx_str_set(&message, "Payload Too Large");
        break;

    default:
        ctx->status = NGX_HTTP_SERVICE_UNAVAILABLE;
        ngx_str_set(&message, "Authorization unavailable");
        break;
    }

    len = sizeof("{\"message\":\"\"}\n") - 1 + message.len;

    if (ctx->status != NGX_HTTP_SERVICE_UNAVAILABLE) {
        len += sizeof(",\"detail\":\"\"") - 1
               + ngx_http_rbac_json_len(&ctx->reason);

        if (ctx->link.len) {
            len += sizeof(",\"link\":\"\"") - 1
                   + ngx_http_rbac_json_len(&ctx->link);
        }
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(b->last, "{\"message\":\"", sizeof("{\"message\":\"") - 1);
    p = ngx_cpymem(p, message.data, message.len);
    *p++ = '"';

    if (ctx->status != NGX_HTTP_SERVICE_UNAVAILABLE) {
        p = ngx_cpymem(p, ",\"detail\":\"", sizeof(",\"detail\":\"") - 1);
        p = ngx_http_rbac_json_escape(p, &ctx->reason);
        *p++ = '"';

        if (ctx->link.len) {
            p = ngx_cpymem(p, ",\"link\":\"", sizeof(",\"link\":\"") - 1);
            p = ngx_http_rbac_json_escape(p, &ctx->link);
            *p++ = '"';
        }
    }

    *p++ = '}';
    *p++ = '\n';

    b->last = p;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = ctx->status;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    if (ctx->status == NGX_HTTP_UNAUTHORIZED) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "WWW-Authenticate");

        if (ctx->cred.len == 0) {
            ngx_str_set(&h->value, "Bearer realm=\"rbac\"");

        } else {
            ngx_str_set(&h->value,
                        "Bearer realm=\"rbac\", error=\"invalid_token\"");
        }

        r->headers_out.www_authenticate = h;

    } else if (ctx->status == NGX_HTTP_SERVICE_UNAVAILABLE) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Retry-After");
        ngx_str_set(&h->value, "1");
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static size_t
ngx_http_rbac_json_len(ngx_str_t *s)
{
    size_t      n;
    ngx_uint_t  i;

    n = 0;

    for (i = 0; i < s->len; i++) {
        if (s->data[i] == '"' || s->data[i] == '\\') {
            n += 2;

        } else if (s->data[i] < 0x20) {
            n += 6;

        } else {
            n++;
        }
    }

    return n;
}


static u_char *
ngx_http_rbac_json_escape(u_char *dst, ngx_str_t *s)
{
    ngx_uint_t  i;

    static u_char  hex[] = "0123456789abcdef";

    for (i = 0; i < s->len; i++) {
        if (s->data[i] == '"' || s->data[i] == '\\') {
            *dst++ = '\\';
            *dst++ = s->data[i];

        } else if (s->data[i] < 0x20) {
            dst = ngx_cpymem(dst, "\\u00", 4);
            *dst++ = hex[s->data[i] >> 4];
            *dst++ = hex[s->data[i] & 0xf];

        } else {
            *dst++ = s->data[i];
        }
    }

    return dst;
}
