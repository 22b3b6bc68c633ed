
/*
 * ngx_http_rbac_carrier.c: the one credential of a request, from every
 * rbac_token source.  A source that is a header, cookie or query argument
 * variable ($http_X, $cookie_X, $arg_X) is read in every copy the request
 * holds (every header line whose name matches as nginx's $http_X matches,
 * every cookie of every Cookie line, every argument, percent-decoded as the
 * upstream decodes it), not only in the first one nginx's variable would
 * give: an upstream that takes another copy, or another source, must find
 * the same credential.  Two different credentials are ambiguous.
 *
 * The header list is walked once for all header and cookie sources, each
 * Cookie line split once for all cookie sources, and the query string once
 * for all argument sources.  The credential's type= is the one of the first
 * source (in rbac_token order) that holds it, as if the sources were read
 * one after the other.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_rbac_module.h"


/* A header, cookie or argument name, folded (rbac_carrier_name_fold). */
typedef struct {
    rbac_str_t                  name;
    ngx_uint_t                  index;       /* in lcf->tokens */
    unsigned                    authorization:1;
} ngx_http_rbac_carrier_name_t;

/*
 * What a location's sources read, made at configuration: the names of its
 * $http_X, $cookie_X and $arg_X sources (names[], in this order), the
 * other sources (values[]), and the lengths of the header lines to look at.
 */
struct ngx_http_rbac_carrier_plan_s {
    ngx_http_rbac_carrier_name_t  *names;
    ngx_uint_t                     headers;  /* names[0 .. headers) */
    ngx_uint_t                     cookies;  /* then cookies of them */
    ngx_uint_t                     args;     /* then args of them */
    ngx_uint_t                    *values;
    ngx_uint_t                     nvalues;
    uint64_t                       lengths;  /* bit n: a line of n bytes */
    unsigned                       long_names:1;   /* 64 bytes or more */
};

typedef struct {
    ngx_http_request_t            *request;
    ngx_http_rbac_carrier_plan_t  *plan;
    ngx_str_t                     *cred;
    ngx_http_rbac_seen_t          *seen;
    ngx_uint_t                     first;    /* source of *cred */
    unsigned                       ambiguous:1;
} ngx_http_rbac_carrier_t;


static void ngx_http_rbac_carrier_add(ngx_http_rbac_carrier_t *st,
    ngx_uint_t i, rbac_str_t v);
static ngx_uint_t ngx_http_rbac_carrier_wanted(
    ngx_http_rbac_carrier_plan_t *plan, size_t len);
static uint64_t ngx_http_rbac_carrier_fold(uint64_t h, ngx_table_elt_t *e);
static void ngx_http_rbac_carrier_headers(ngx_http_rbac_carrier_t *st);
static void ngx_http_rbac_carrier_cookies(ngx_http_rbac_carrier_t *st,
    rbac_str_t rest);
static ngx_int_t ngx_http_rbac_carrier_args(ngx_http_rbac_carrier_t *st);
static ngx_int_t ngx_http_rbac_carrier_unescape(ngx_http_request_t *r,
    rbac_str_t *s);


/* "Cookie", folded */
static rbac_str_t  ngx_http_rbac_cookie = { "cookie", sizeof("cookie") - 1 };


/* conf->carrier, for conf->tokens (prev's when they are prev's). */
ngx_int_t
ngx_http_rbac_carrier_init(ngx_conf_t *cf, ngx_http_rbac_loc_conf_t *conf,
    ngx_http_rbac_loc_conf_t *prev)
{
    char                          *p;
    ngx_uint_t                     i, k, carrier, n;
    ngx_http_rbac_token_src_t     *src;
    ngx_http_rbac_carrier_name_t  *nm;
    ngx_http_rbac_carrier_plan_t  *plan;

    if (conf->tokens == prev->tokens && prev->carrier != NULL) {
        conf->carrier = prev->carrier;
        return NGX_OK;
    }

    src = conf->tokens->elts;
    n = conf->tokens->nelts;

    plan = ngx_pcalloc(cf->pool, sizeof(ngx_http_rbac_carrier_plan_t));
    if (plan == NULL) {
        return NGX_ERROR;
    }

    plan->names = ngx_pcalloc(cf->pool,
                              (n + 1) * sizeof(ngx_http_rbac_carrier_name_t));
    plan->values = ngx_pcalloc(cf->pool, (n + 1) * sizeof(ngx_uint_t));

    if (plan->names == NULL || plan->values == NULL) {
        return NGX_ERROR;
    }

    k = 0;

    /* the headers, then the cookies, then the arguments */
    for (carrier = NGX_HTTP_RBAC_CARRIER_HEADER;
         carrier <= NGX_HTTP_RBAC_CARRIER_ARG;
         carrier++)
    {
        for (i = 0; i < n; i++) {
            if (src[i].carrier != carrier) {
                continue;
            }

            p = ngx_pnalloc(cf->pool, src[i].name.len);
            if (p == NULL) {
                return NGX_ERROR;
            }

            rbac_carrier_name_fold(ngx_http_rbac_rstr(src[i].name), p,
                                   carrier == NGX_HTTP_RBAC_CARRIER_HEADER);

            nm = &plan->names[k++];
            nm->name.data = p;
            nm->name.len = src[i].name.len;
            nm->index = i;
            nm->authorization = src[i].authorization;

            if (carrier == NGX_HTTP_RBAC_CARRIER_HEADER) {
                plan->headers++;

            } else if (carrier == NGX_HTTP_RBAC_CARRIER_COOKIE) {
                plan->cookies++;

            } else {
                plan->args++;
            }
        }
    }

    for (i = 0; i < n; i++) {
        if (src[i].carrier == NGX_HTTP_RBAC_CARRIER_VALUE) {
            plan->values[plan->nvalues++] = i;
        }
    }

    for (i = 0; i <= plan->headers; i++) {
        if (i == plan->headers && plan->cookies == 0) {
            break;
        }

        /* the Cookie line last, for the cookie sources */
        k = (i < plan->headers) ? plan->names[i].name.len
                                : ngx_http_rbac_cookie.len;

        if (k < 64) {
            plan->lengths |= (uint64_t) 1 << k;

        } else {
            plan->long_names = 1;
        }
    }

    conf->carrier = plan;

    return NGX_OK;
}


/*
 * NGX_OK: *cred is the credential (empty: none) and *type its source's
 * type=, *seen what they were read from; NGX_DECLINED: two different
 * credentials; NGX_ERROR.
 */
ngx_int_t
ngx_http_rbac_carrier(ngx_http_request_t *r, ngx_http_rbac_loc_conf_t *lcf,
    ngx_str_t *cred, ngx_uint_t *type, ngx_http_rbac_seen_t *seen)
{
    ngx_str_t                      v;
    ngx_uint_t                     i, k;
    ngx_http_rbac_carrier_t        st;
    ngx_http_rbac_token_src_t     *src;
    ngx_http_rbac_carrier_plan_t  *plan;

    ngx_str_null(cred);

    src = lcf->tokens->elts;
    plan = lcf->carrier;

    st.request = r;
    st.plan = plan;
    st.cred = cred;
    st.seen = seen;
    st.first = lcf->tokens->nelts;
    st.ambiguous = 0;

    seen->headers = 0;
    seen->n = 0;
    seen->args = r->args;

    for (i = 0; i < plan->nvalues; i++) {
        k = plan->values[i];

        if (ngx_http_complex_value(r, &src[k].value, &v) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_http_rbac_carrier_add(&st, k, ngx_http_rbac_rstr(v));
    }

    if (plan->headers || plan->cookies) {
        ngx_http_rbac_carrier_headers(&st);
    }

    if (plan->args && r->args.len
        && ngx_http_rbac_carrier_args(&st) != NGX_OK)
    {
        return NGX_ERROR;
    }

    *type = (st.first < lcf->tokens->nelts) ? src[st.first].type
                                            : NGX_HTTP_RBAC_CRED_AUTO;

    return st.ambiguous ? NGX_DECLINED : NGX_OK;
}


/*
 * 1 if the sources of lcf, which read *seen before (the same rbac_token
 * list), would find the same credential in the request as it is now: none
 * is a variable of another kind, and the query string (if they read it)
 * and the header lines they may read are where they were.
 */
ngx_uint_t
ngx_http_rbac_carrier_same(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_seen_t *seen)
{
    uint64_t                       fold;
    ngx_uint_t                     i, n;
    ngx_list_part_t               *part;
    ngx_table_elt_t               *h;
    ngx_http_rbac_carrier_plan_t  *plan;

    plan = lcf->carrier;

    /* an empty query string may point anywhere (try_files leaves it so) */
    if (plan->nvalues != 0
        || (plan->args != 0
            && (r->args.len != seen->args.len
                || (r->args.len != 0 && r->args.data != seen->args.data))))
    {
        return 0;
    }

    if (plan->headers == 0 && plan->cookies == 0) {
        return 1;
    }

    fold = 0;
    n = 0;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (ngx_http_rbac_carrier_wanted(plan, h[i].key.len)) {
                fold = ngx_http_rbac_carrier_fold(fold, &h[i]);
                n++;
            }
        }
    }

    return n == seen->n && fold == seen->headers;
}


/* A line added to the request after *seen was read, folded in. */
void
ngx_http_rbac_carrier_seen(ngx_http_rbac_loc_conf_t *lcf,
    ngx_http_rbac_seen_t *seen, ngx_table_elt_t *h)
{
    if (ngx_http_rbac_carrier_wanted(lcf->carrier, h->key.len)) {
        seen->headers = ngx_http_rbac_carrier_fold(seen->headers, h);
        seen->n++;
    }
}


/*
 * A copy found by source i: the first is the credential, any other must
 * equal it; the credential's source is the first in rbac_token order.
 */
static void
ngx_http_rbac_carrier_add(ngx_http_rbac_carrier_t *st, ngx_uint_t i,
    rbac_str_t v)
{
    if (v.len == 0) {
        return;
    }

    if (st->cred->len == 0) {
        st->cred->data = (u_char *) v.data;
        st->cred->len = v.len;
        st->first = i;
        return;
    }

    if (v.len != st->cred->len
        || ngx_memcmp(v.data, st->cred->data, v.len) != 0)
    {
        st->ambiguous = 1;
        return;
    }

    if (i < st->first) {
        st->first = i;
    }
}


/* 1 if a header line of len bytes may be one a source reads. */
static ngx_inline ngx_uint_t
ngx_http_rbac_carrier_wanted(ngx_http_rbac_carrier_plan_t *plan, size_t len)
{
    return (len < 64) ? (ngx_uint_t) (plan->lengths >> len) & 1
                      : plan->long_names;
}


/*
 * One header line folded into the fold of the lines before it: where its
 * name and value lie, and their lengths.  Not their bytes: a module that
 * changes a line (headers_more, lua's set_header) gives it new ones, and
 * nginx never rewrites a line where it lies.  Each step is a bijection of
 * h: a line whose name or value moved changes the fold; lines added,
 * removed, replaced or reordered change it too, unless addresses that no
 * client chooses meet a 64-bit coincidence.
 */
static ngx_inline uint64_t
ngx_http_rbac_carrier_fold(uint64_t h, ngx_table_elt_t *e)
{
    h = (h ^ (uintptr_t) e->key.data) * 0x9e3779b97f4a7c15ULL;
    h = (h ^ (uintptr_t) e->value.data) * 0x9e3779b97f4a7c15ULL;
    h = (h ^ e->key.len ^ ((uint64_t) e->value.len << 32))
        * 0x9e3779b97f4a7c15ULL;

    return h ^ (h >> 29);
}


/*
 * One walk of the header lines: each line of a $http_X source's name, and
 * each Cookie line for the $cookie_X sources.
 */
static void
ngx_http_rbac_carrier_headers(ngx_http_rbac_carrier_t *st)
{
    ngx_uint_t                     i, j;
    rbac_str_t                     name, rest;
    ngx_list_part_t               *part;
    ngx_table_elt_t               *h;
    ngx_http_rbac_carrier_name_t  *nm;
    ngx_http_rbac_carrier_plan_t  *plan;

    plan = st->plan;
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

        if (!ngx_http_rbac_carrier_wanted(plan, h[i].key.len)) {
            continue;
        }

        st->seen->headers = ngx_http_rbac_carrier_fold(st->seen->headers,
                                                       &h[i]);
        st->seen->n++;

        name = ngx_http_rbac_rstr(h[i].key);

        for (j = 0; j < plan->headers; j++) {
            nm = &plan->names[j];

            if (nm->name.len != name.len
                || !rbac_carrier_name_is(name, nm->name, 1))
            {
                continue;
            }

            rest = ngx_http_rbac_rstr(h[i].value);

            if (nm->authorization && !rbac_cred_bearer(rest, &rest)) {
                continue;
            }

            ngx_http_rbac_carrier_add(st, nm->index, rest);
        }

        if (plan->cookies && name.len == ngx_http_rbac_cookie.len
            && rbac_carrier_name_is(name, ngx_http_rbac_cookie, 1))
        {
            ngx_http_rbac_carrier_cookies(st, ngx_http_rbac_rstr(h[i].value));
        }
    }
}


/* Every cookie of one Cookie line, split once, for every $cookie_X. */
static void
ngx_http_rbac_carrier_cookies(ngx_http_rbac_carrier_t *st, rbac_str_t rest)
{
    ngx_uint_t                     j;
    rbac_str_t                     cn, cv;
    ngx_http_rbac_carrier_name_t  *nm;
    ngx_http_rbac_carrier_plan_t  *plan;

    plan = st->plan;

    while (rbac_carrier_cookie_next(&rest, &cn, &cv)) {

        for (j = plan->headers; j < plan->headers + plan->cookies; j++) {
            nm = &plan->names[j];

            if (nm->name.len == cn.len
                && rbac_carrier_name_is(cn, nm->name, 0))
            {
                ngx_http_rbac_carrier_add(st, nm->index, cv);
            }
        }
    }
}


/*
 * Every query argument, name and value decoded, for every $arg_X source;
 * a value is decoded once, and only when a source wants it.
 */
static ngx_int_t
ngx_http_rbac_carrier_args(ngx_http_rbac_carrier_t *st)
{
    ngx_int_t                      rc;
    ngx_uint_t                     j, from, decoded;
    rbac_str_t                     rest, name, value;
    ngx_http_rbac_carrier_name_t  *nm;
    ngx_http_rbac_carrier_plan_t  *plan;

    plan = st->plan;
    from = plan->headers + plan->cookies;
    rest = ngx_http_rbac_rstr(st->request->args);

    while (rbac_carrier_arg_next(&rest, &name, &value)) {

        rc = ngx_http_rbac_carrier_unescape(st->request, &name);
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED) {
            continue;
        }

        decoded = 0;

        for (j = from; j < from + plan->args; j++) {
            nm = &plan->names[j];

            if (nm->name.len != name.len
                || !rbac_carrier_name_is(name, nm->name, 0))
            {
                continue;
            }

            /* a value that does not decode counts as it is (it differs) */
            if (!decoded) {
                if (ngx_http_rbac_carrier_unescape(st->request, &value)
                    == NGX_ERROR)
                {
                    return NGX_ERROR;
                }

                decoded = 1;
            }

            ngx_http_rbac_carrier_add(st, nm->index, value);
        }
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
