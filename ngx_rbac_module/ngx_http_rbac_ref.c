
/*
 * ngx_http_rbac_ref.c: the arguments of rbac_object and rbac_also as the
 * request gives them (docs/references.md): "me", ids declared as UUIDs in
 * their canonical spelling, and references (rbac:ref:<kind>:<key>) read
 * through the request's fetch and resolved to the id they name.  The
 * spelling rules are core's (rbac_refarg_eval), as in rbacctl check.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_rbac_module.h"


static ngx_int_t ngx_http_rbac_ref_deny(ngx_http_rbac_ctx_t *ctx,
    ngx_int_t status, ngx_str_t *what, const char *why, ngx_str_t *key,
    const char *type);


static const char  *ngx_http_rbac_arg_names[3] = { "id", "org", "owner" };


/*
 * Before anything is looked up: every argument that declares a kind must
 * be well formed (a UUID where one is declared).  NGX_OK: carry on;
 * NGX_DECLINED: refused (400, ctx says why); NGX_ERROR.
 */
ngx_int_t
ngx_http_rbac_ids_check(ngx_http_request_t *r, ngx_http_rbac_loc_conf_t *lcf,
    ngx_http_rbac_ctx_t *ctx)
{
    int                           is_key;
    u_char                        buf[RBAC_REF_KEY_MAX];
    ngx_str_t                     v;
    rbac_rc_t                     rc;
    ngx_uint_t                    i, j, n;
    rbac_str_t                    val, out;
    const char                   *why;
    ngx_http_complex_value_t     *cv[3];
    ngx_http_rbac_also_conf_t    *ac;
    ngx_http_rbac_object_conf_t  *oc;

    static rbac_str_t  someone = rbac_string("-");

    if (lcf->object == NULL) {
        return NGX_OK;
    }

    n = lcf->also != NULL ? lcf->also->nelts : 0;
    ac = lcf->also != NULL ? lcf->also->elts : NULL;

    for (j = 0; j <= n; j++) {
        oc = (j == 0) ? lcf->object : &ac[j - 1].object;

        cv[0] = oc->id;
        cv[1] = oc->org;
        cv[2] = oc->owner;

        for (i = 0; i < 3; i++) {
            if (cv[i] == NULL || oc->kind[i] == RBAC_RK_NONE) {
                continue;
            }

            /* as ngx_http_rbac_object_ctl read it */
            v = ctx->memo_args[3 * j + i];

            val.data = (const char *) v.data;
            val.len = v.len;

            rc = rbac_refarg_eval(oc->kind[i], val, someone, (char *) buf,
                                  &out, &is_key, &why);
            if (rc == RBAC_OK) {
                continue;
            }

            ngx_http_rbac_stat(NGX_HTTP_RBAC_STAT_IDS_REFUSED);

            return ngx_http_rbac_ref_deny(ctx, NGX_HTTP_BAD_REQUEST,
                                          &oc->type_name, why, NULL,
                                          ngx_http_rbac_arg_names[i])
                   == NGX_OK ? NGX_DECLINED : NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * The three arguments (id, org, owner) of one object as they name it, from
 * their values given[] (read once per request by the handler): args[i]
 * has data NULL for an argument not given.  An argument "@kind:" is replaced
 * by the id it names ("me" of @username and a parent is the caller), reading
 * its reference; plain ones are left for the resolver.  With `final` unset,
 * only the references are wanted, and NGX_DECLINED says that one names nothing
 * (no deny yet).  NGX_OK: args ready; NGX_AGAIN: references still wanted;
 * NGX_DONE: denied (ctx says why); NGX_ERROR.
 */
ngx_int_t
ngx_http_rbac_object_args(ngx_http_request_t *r, ngx_http_rbac_ctx_t *ctx,
    ngx_http_rbac_object_conf_t *oc, ngx_str_t *me, ngx_str_t *given,
    ngx_str_t *args, ngx_uint_t final)
{
    int                        is_key;
    u_char                    *buf;
    ngx_int_t                  rc;
    ngx_str_t                  key;
    ngx_uint_t                 i, state, pending, unresolved;
    rbac_str_t                 val, caller, out, id;
    const char                *why;
    rbac_reference_rec_t      *ref;
    ngx_http_complex_value_t  *cv[3];

    cv[0] = oc->id;
    cv[1] = oc->org;
    cv[2] = oc->owner;

    caller.data = (const char *) me->data;
    caller.len = me->len;

    pending = 0;
    unresolved = 0;

    for (i = 0; i < 3; i++) {
        ngx_str_null(&args[i]);

        if (cv[i] == NULL) {
            continue;
        }

        args[i] = given[i];

        if (oc->kind[i] == RBAC_RK_NONE) {
            continue;               /* as written ("me": the resolver's) */
        }

        buf = ngx_pnalloc(r->pool, RBAC_REF_KEY_MAX);
        if (buf == NULL) {
            return NGX_ERROR;
        }

        val.data = (const char *) args[i].data;
        val.len = args[i].len;

        if (rbac_refarg_eval(oc->kind[i], val, caller, (char *) buf, &out,
                             &is_key, &why)
            != RBAC_OK)
        {
            /* "me" with no caller yet; malformed values were refused */
            if (!final) {
                unresolved = 1;
                continue;
            }

            rc = ngx_http_rbac_ref_deny(ctx, NGX_HTTP_FORBIDDEN,
                                        &oc->type_name, why, NULL,
                                        ngx_http_rbac_arg_names[i]);
            return rc == NGX_OK ? NGX_DONE : NGX_ERROR;
        }

        args[i].data = (u_char *) out.data;
        args[i].len = out.len;

        if (!is_key) {
            continue;
        }

        key.len = sizeof("ref:") - 1 + out.len;
        key.data = ngx_pnalloc(r->pool, key.len);
        if (key.data == NULL) {
            return NGX_ERROR;
        }

        ngx_sprintf(key.data, "ref:%*s", out.len, out.data);

        ref = ngx_http_rbac_get_key(ctx, &state, &key);

        if (state == NGX_HTTP_RBAC_PENDING) {
            pending = 1;
            continue;
        }

        if (state == NGX_HTTP_RBAC_ABSENT) {
            if (!final) {
                unresolved = 1;
                continue;
            }

            ngx_http_rbac_stat(NGX_HTTP_RBAC_STAT_REFS_MISSING);

            rc = ngx_http_rbac_ref_deny(ctx, NGX_HTTP_FORBIDDEN, NULL,
                                        "not found", &args[i], NULL);
            return rc == NGX_OK ? NGX_DONE : NGX_ERROR;
        }

        if (rbac_reference_resolve(ref, oc->kind[i], &id) != RBAC_OK) {
            if (!final) {
                unresolved = 1;
                continue;
            }

            ngx_http_rbac_stat(NGX_HTTP_RBAC_STAT_REFS_WRONG_TYPE);

            rc = ngx_http_rbac_ref_deny(ctx, NGX_HTTP_FORBIDDEN, NULL,
                                        rbac_type_name(ref->type), &args[i],
                                        rbac_type_name(rbac_refkind_target(
                                                           oc->kind[i])));
            return rc == NGX_OK ? NGX_DONE : NGX_ERROR;
        }

        if (final) {
            ngx_http_rbac_stat(NGX_HTTP_RBAC_STAT_REFS_RESOLVED);
        }

        args[i].data = (u_char *) id.data;
        args[i].len = id.len;
    }

    return pending ? NGX_AGAIN : (unresolved ? NGX_DECLINED : NGX_OK);
}


/*
 * ctx->status and the reason: with key NULL, "<what> <type> <why>" (400
 * "workspace id is not a UUID"); with key and type NULL, "reference <key>
 * <why>" ("... not found"); with both, "reference <key> names a <why>, not
 * a <type>".  The key holds only what the request wrote (its control
 * bytes, if any, are the response writer's to escape).
 */
static ngx_int_t
ngx_http_rbac_ref_deny(ngx_http_rbac_ctx_t *ctx, ngx_int_t status,
    ngx_str_t *what, const char *why, ngx_str_t *key, const char *type)
{
    size_t     len;
    u_char    *p;
    ngx_str_t  s;

    len = sizeof("reference  names a , not a ") + ngx_strlen(why) + 64
          + (what ? what->len : 0) + (key ? key->len : 0)
          + (type ? ngx_strlen(type) : 0);

    p = ngx_pnalloc(ctx->request->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    s.data = p;

    if (key == NULL) {
        p = ngx_sprintf(p, "%V %s %s", what, type, why);

    } else if (type == NULL) {
        p = ngx_sprintf(p, "reference %V %s", key, why);

    } else {
        p = ngx_sprintf(p, "reference %V names a %s, not a %s", key, why,
                        type);
    }

    s.len = p - s.data;

    ctx->status = status;
    ctx->reason = s;

    return NGX_OK;
}
