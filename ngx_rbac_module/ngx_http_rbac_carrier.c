
/*
 * ngx_http_rbac_carrier.c: the one credential of a request, from every
 * rbac_token source.  A source that is a header, cookie or query argument
 * variable ($http_X, $cookie_X, $arg_X) is read in every copy the request
 * holds (every header line whose name matches as nginx's $http_X matches,
 * every cookie of every Cookie line, every argument, percent-decoded as the
 * upstream decodes it), not only in the first one nginx's variable would
 * give: an upstream that takes another copy, or another source, must find
 * the same credential.  Two different credentials are ambiguous.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_rbac_module.h"


typedef struct {
    ngx_http_request_t  *request;
    ngx_str_t           *cred;
    ngx_uint_t          *type;
    ngx_uint_t           src_type;
    unsigned             ambiguous:1;
} ngx_http_rbac_carrier_t;


static void ngx_http_rbac_carrier_add(ngx_http_rbac_carrier_t *st,
    ngx_str_t *v);
static ngx_int_t ngx_http_rbac_carrier_headers(ngx_http_rbac_carrier_t *st,
    ngx_http_rbac_token_src_t *src);
static ngx_int_t ngx_http_rbac_carrier_args(ngx_http_rbac_carrier_t *st,
    ngx_http_rbac_token_src_t *src);
static ngx_int_t ngx_http_rbac_carrier_unescape(ngx_http_request_t *r,
    rbac_str_t *s);


static ngx_str_t  ngx_http_rbac_cookie = ngx_string("cookie");


/*
 * NGX_OK: *cred is the credential (empty: none) and *type its source's
 * type=; NGX_DECLINED: two different credentials; NGX_ERROR.
 */
ngx_int_t
ngx_http_rbac_carrier(ngx_http_request_t *r, ngx_http_rbac_loc_conf_t *lcf,
    ngx_str_t *cred, ngx_uint_t *type)
{
    ngx_str_t                   v;
    ngx_uint_t                  i;
    ngx_http_rbac_carrier_t     st;
    ngx_http_rbac_token_src_t  *src;

    ngx_str_null(cred);
    *type = NGX_HTTP_RBAC_CRED_AUTO;

    st.request = r;
    st.cred = cred;
    st.type = type;
    st.ambiguous = 0;

    src = lcf->tokens->elts;

    for (i = 0; i < lcf->tokens->nelts; i++) {
        st.src_type = src[i].type;

        switch (src[i].carrier) {

        case NGX_HTTP_RBAC_CARRIER_HEADER:
        case NGX_HTTP_RBAC_CARRIER_COOKIE:
            if (ngx_http_rbac_carrier_headers(&st, &src[i]) != NGX_OK) {
                return NGX_ERROR;
            }

            break;

        case NGX_HTTP_RBAC_CARRIER_ARG:
            if (ngx_http_rbac_carrier_args(&st, &src[i]) != NGX_OK) {
                return NGX_ERROR;
            }

            break;

        default:
            if (ngx_http_complex_value(r, &src[i].value, &v) != NGX_OK) {
                return NGX_ERROR;
            }

            ngx_http_rbac_carrier_add(&st, &v);
            break;
        }
    }

    return st.ambiguous ? NGX_DECLINED : NGX_OK;
}


/* One copy found: the first is the credential, any other must equal it. */
static void
ngx_http_rbac_carrier_add(ngx_http_rbac_carrier_t *st, ngx_str_t *v)
{
    if (v->len == 0) {
        return;
    }

    if (st->cred->len == 0) {
        *st->cred = *v;
        *st->type = st->src_type;
        return;
    }

    if (v->len != st->cred->len
        || ngx_memcmp(v->data, st->cred->data, v->len) != 0)
    {
        st->ambiguous = 1;
    }
}


/* Every header line of a $http_X source, or every cookie of $cookie_X. */
static ngx_int_t
ngx_http_rbac_carrier_headers(ngx_http_rbac_carrier_t *st,
    ngx_http_rbac_token_src_t *src)
{
    ngx_str_t         v;
    ngx_uint_t        i, cookie;
    rbac_str_t        name, want, rest, cn, cv, out;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    cookie = (src->carrier == NGX_HTTP_RBAC_CARRIER_COOKIE);
    want = cookie ? ngx_http_rbac_rstr(ngx_http_rbac_cookie)
                  : ngx_http_rbac_rstr(src->name);

    part = &st->request->headers_in.headers.part;
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

        name = ngx_http_rbac_rstr(h[i].key);

        if (!rbac_carrier_name_eq(name, want, 1)) {
            continue;
        }

        rest = ngx_http_rbac_rstr(h[i].value);

        if (!cookie) {
            if (src->authorization && !rbac_cred_bearer(rest, &rest)) {
                continue;
            }

            v.data = (u_char *) rest.data;
            v.len = rest.len;
            ngx_http_rbac_carrier_add(st, &v);
            continue;
        }

        while (rbac_carrier_cookie_next(&rest, &cn, &cv)) {
            if (rbac_carrier_name_eq(cn, ngx_http_rbac_rstr(src->name), 0)) {
                out = cv;
                v.data = (u_char *) out.data;
                v.len = out.len;
                ngx_http_rbac_carrier_add(st, &v);
            }
        }
    }

    return NGX_OK;
}


/* Every query argument of an $arg_X source, name and value decoded. */
static ngx_int_t
ngx_http_rbac_carrier_args(ngx_http_rbac_carrier_t *st,
    ngx_http_rbac_token_src_t *src)
{
    ngx_str_t   v;
    ngx_int_t   rc;
    rbac_str_t  rest, name, value;

    rest = ngx_http_rbac_rstr(st->request->args);

    while (rbac_carrier_arg_next(&rest, &name, &value)) {

        rc = ngx_http_rbac_carrier_unescape(st->request, &name);
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED
            || !rbac_carrier_name_eq(name, ngx_http_rbac_rstr(src->name), 0))
        {
            continue;
        }

        /* a value that does not decode counts as it is (it differs) */
        if (ngx_http_rbac_carrier_unescape(st->request, &value)
            == NGX_ERROR)
        {
            return NGX_ERROR;
        }

        v.data = (u_char *) value.data;
        v.len = value.len;
        ngx_http_rbac_carrier_add(st, &v);
    }

    return NGX_OK;
}


/*
 * *s percent-decoded ('+' a space), in the pool only when it holds '%' or
 * '+'.  NGX_OK; NGX_DECLINED: a bad escape, *s unchanged; NGX_ERROR.
 */
static ngx_int_t
ngx_http_rbac_carrier_unescape(ngx_http_request_t *r, rbac_str_t *s)
{
    char    *p;
    size_t   n;

    if (memchr(s->data, '%', s->len) == NULL
        && memchr(s->data, '+', s->len) == NULL)
    {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, s->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    n = rbac_carrier_unescape(*s, p);

    if (n == (size_t) -1) {
        return NGX_DECLINED;
    }

    s->data = p;
    s->len = n;

    return NGX_OK;
}
