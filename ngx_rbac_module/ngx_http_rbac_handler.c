
/*
 * ngx_http_rbac_handler.c: the access-phase handler.
 *
 * A request goes: credential (every rbac_token source, one credential) ->
 * principal (JWT, API token or provisioner key) -> subject (rbac:user) ->
 * object (rbac_object, rbac:obj) -> roles (catalog + custom roles) ->
 * rbac_decide -> allow (identity headers) or 401/403/503.
 *
 * The evaluation is written as a pass over what is known: each pass asks
 * for the records it lacks (ngx_http_rbac_get) and, if any, the request
 * is suspended until one MGET brings them all, then the pass runs again.
 * Three passes at most for a JWT (user + object + deployment; orgs and
 * custom roles; the orgs' default roles), one more for an API token.
 *
 * The steps, top to bottom, each a function (docs/architecture.md §5):
 *   ngx_http_rbac_handler    the phase handler: a context, the body
 *                            (rbac_json_body), then the decision;
 *   ngx_http_rbac_decide     control bytes in object arguments (400),
 *                            then once the credential and the memo
 *                            (ngx_http_rbac_begin), then the passes;
 *   ngx_http_rbac_run        passes of ngx_http_rbac_evaluate, records
 *                            fetched between them, stale ones if Redis
 *                            fails;
 *   ngx_http_rbac_evaluate   one pass: the credential checked once
 *                            (ngx_http_rbac_check), the first level of
 *                            records (ngx_http_rbac_first_level), the
 *                            subject's kind, the object, the roles'
 *                            records, then ngx_http_rbac_authorize;
 *   ngx_http_rbac_finish     the counters and log line, then the identity
 *                            headers or the error page.
 *
 * The steps answer an ngx_http_rbac_step_e, one meaning each: NEXT (carry
 * on), DECIDED (ctx->status and ctx->reason are the answer, status 0 an
 * allow), RECORDS (records wanted, ctx->need counts them), WAIT (the
 * request is suspended until ctx->wake resumes it: Redis or the JWKS) and
 * ERROR (500).  Helpers that only succeed or fail answer NGX_OK or
 * NGX_ERROR; the other NGX_* codes appear only where nginx calls in (the
 * phase handler, finish, the wake event) with nginx's meaning, and where
 * another file's answer is translated at the call.
 *
 * ctx->state records the way a request goes, across passes and wakes:
 * START -> CREDENTIAL -> EVALUATE -> DONE (from any of them).  Where
 * rbac_app serves an app, a request without a credential is evaluated as
 * ctx->anonymous: the public app only.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_rbac_module.h"
#include "ngx_http_rbac_jwt.h"


/* What a step of the decision answers (see the top of the file). */
typedef enum {
    NGX_HTTP_RBAC_STEP_NEXT = 0,     /* carry on with the next step */
    NGX_HTTP_RBAC_STEP_DECIDED,      /* ctx->status, ctx->reason */
    NGX_HTTP_RBAC_STEP_RECORDS,      /* records wanted: ctx->need */
    NGX_HTTP_RBAC_STEP_WAIT,         /* suspended until ctx->wake */
    NGX_HTTP_RBAC_STEP_ERROR         /* internal failure: 500 */
} ngx_http_rbac_step_e;

typedef struct {
    ngx_http_rbac_ctx_t        *ctx;
    u_char                      buf[NGX_HTTP_RBAC_MAX_KEY];
} ngx_http_rbac_resolve_t;


static ngx_http_rbac_ctx_t *ngx_http_rbac_ctx_create(ngx_http_request_t *r);
static ngx_int_t ngx_http_rbac_suspend(ngx_http_request_t *r,
    ngx_http_rbac_ctx_t *ctx);
static ngx_http_rbac_step_e ngx_http_rbac_decide(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_ctx_t *ctx);
static ngx_http_rbac_step_e ngx_http_rbac_object_ctl(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_ctx_t *ctx);
static ngx_http_rbac_step_e ngx_http_rbac_begin(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_ctx_t *ctx);
static ngx_http_rbac_step_e ngx_http_rbac_run(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_ctx_t *ctx);
static ngx_int_t ngx_http_rbac_finish(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_ctx_t *ctx);
static void ngx_http_rbac_tally(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_ctx_t *ctx);
static ngx_http_rbac_step_e ngx_http_rbac_evaluate(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_ctx_t *ctx);
static ngx_http_rbac_step_e ngx_http_rbac_check(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_ctx_t *ctx);
static ngx_http_rbac_step_e ngx_http_rbac_credential(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_ctx_t *ctx);
static ngx_http_rbac_step_e ngx_http_rbac_first_level(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_ctx_t *ctx,
    void **deployment);
static ngx_http_rbac_step_e ngx_http_rbac_principal(ngx_http_request_t *r,
    ngx_http_rbac_ctx_t *ctx);
static ngx_http_rbac_step_e ngx_http_rbac_subject(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_ctx_t *ctx);
static ngx_http_rbac_step_e ngx_http_rbac_authenticated(
    ngx_http_rbac_ctx_t *ctx);
static void ngx_http_rbac_roles_wanted(ngx_http_rbac_ctx_t *ctx,
    rbac_catalog_t *cat, ngx_str_t *obj_org);
static void ngx_http_rbac_roles_named(ngx_http_rbac_ctx_t *ctx,
    rbac_catalog_t *cat, const void *rec, rbac_span_t span, ngx_str_t *org);
static ngx_http_rbac_step_e ngx_http_rbac_authorize(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_ctx_t *ctx,
    rbac_object_t *obj, void *deployment);
static ngx_int_t ngx_http_rbac_pkey_subject(ngx_http_request_t *r,
    ngx_http_rbac_ctx_t *ctx, ngx_http_rbac_resolve_t *res,
    unsigned options, rbac_subject_t *subj);
static ngx_http_rbac_step_e ngx_http_rbac_user_subject(ngx_http_request_t *r,
    ngx_http_rbac_ctx_t *ctx, ngx_http_rbac_resolve_t *res,
    unsigned options, rbac_subject_t *subj);
static ngx_http_rbac_step_e ngx_http_rbac_token_scope(ngx_http_request_t *r,
    ngx_http_rbac_ctx_t *ctx, rbac_catalog_t *cat, rbac_subject_t *s);
static ngx_http_rbac_step_e ngx_http_rbac_public_app(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_ctx_t *ctx);
static ngx_http_rbac_step_e ngx_http_rbac_app_share(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_ctx_t *ctx,
    rbac_subject_t *subj, rbac_object_t *obj);
static ngx_http_rbac_step_e ngx_http_rbac_set_reason(ngx_http_request_t *r,
    ngx_http_rbac_ctx_t *ctx, rbac_decision_t *d, rbac_subject_t *subj,
    rbac_object_t *obj);
static ngx_http_rbac_step_e ngx_http_rbac_also_decide(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_ctx_t *ctx,
    rbac_subject_t *subj);
static ngx_http_rbac_step_e ngx_http_rbac_object_build(ngx_http_request_t *r,
    ngx_http_rbac_ctx_t *ctx, ngx_http_rbac_object_conf_t *oc,
    ngx_uint_t which, ngx_str_t *me, rbac_object_t *obj);
static ngx_http_rbac_step_e ngx_http_rbac_object_resolve(
    ngx_http_request_t *r, ngx_http_rbac_ctx_t *ctx, rbac_object_args_t *oa,
    void *rec, rbac_object_t *obj);
static ngx_http_rbac_step_e ngx_http_rbac_action(ngx_http_request_t *r,
    ngx_http_complex_value_t *cv, ngx_http_rbac_ctx_t *ctx,
    rbac_action_t *action);
static ngx_int_t ngx_http_rbac_roles_var(ngx_http_request_t *r,
    ngx_http_rbac_ctx_t *ctx, rbac_subject_t *s, rbac_str_t org);
static void *ngx_http_rbac_peek(ngx_http_rbac_ctx_t *ctx, u_char *buf,
    const char *kind, ngx_str_t *a, ngx_str_t *b);
static const rbac_org_rec_t *ngx_http_rbac_org_cb(void *ud, rbac_str_t org);
static const rbac_role_t *ngx_http_rbac_role_cb(void *ud, rbac_str_t org,
    rbac_str_t name);
static ngx_http_rbac_step_e ngx_http_rbac_deny(ngx_http_rbac_ctx_t *ctx,
    ngx_int_t status, const char *reason);
static ngx_http_rbac_step_e ngx_http_rbac_deny_str(ngx_http_rbac_ctx_t *ctx,
    ngx_int_t status, ngx_str_t *reason);
static void ngx_http_rbac_wake(ngx_event_t *ev);
static ngx_http_rbac_ctx_t *ngx_http_rbac_ctx_find(ngx_http_request_t *r);
static void ngx_http_rbac_cleanup(void *data);


static ngx_str_t  ngx_http_rbac_kinds[] = {
    ngx_string("user"),
    ngx_string("service_account"),
    ngx_string("provisioner")
};



#define ngx_http_rbac_vstr(s)                                                 \
    ngx_http_rbac_mkstr((s).data, (s).len)

static ngx_inline rbac_str_t
ngx_http_rbac_mkstr(u_char *data, size_t len)
{
    rbac_str_t  s;

    s.data = (const char *) data;
    s.len = len;

    return s;
}

static ngx_inline ngx_str_t
ngx_http_rbac_nstr(rbac_str_t s)
{
    ngx_str_t  n;

    n.data = (u_char *) s.data;
    n.len = s.len;

    return n;
}


/*
 * POST_READ: client copies of X-Rbac-* go before any phase can read them
 * ($http_x_rbac_user in set, if, map or return), wherever the server's
 * level has identity headers on; the location is not known yet.  The
 * access handler removes them again for a location that turns them on.
 */
ngx_int_t
ngx_http_rbac_post_read_handler(ngx_http_request_t *r)
{
    ngx_http_rbac_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_rbac_module);

    if (lcf->identity_headers && ngx_http_rbac_strip_headers(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_rbac_handler(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_http_rbac_ctx_t       *ctx, *prev;
    ngx_http_rbac_loc_conf_t  *lcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_rbac_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_rbac_module);

    if (ctx == NULL) {

        /* an internal redirect: the decision made before may hold here */
        prev = r->internal ? ngx_http_rbac_ctx_find(r) : NULL;

        if (prev != NULL
            && ngx_http_rbac_memo_redirect(r, lcf, prev) == NGX_OK)
        {
            return NGX_OK;
        }

        /*
         * every pass of the access phase (ctx is reset on redirects); a
         * location that decides again after a redirect with identity
         * headers off must not pass on those of the first decision
         */
        if (lcf->identity_headers
            || (r->internal && lcf->mode != NGX_HTTP_RBAC_OFF))
        {
            if (ngx_http_rbac_strip_headers(r) != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            /*
             * the identity headers of the decision before are gone: it
             * answers no later location (one with rbac off stays between)
             */
            if (prev != NULL) {
                ngx_str_null(&prev->memo_key);
            }
        }

        if (lcf->mode == NGX_HTTP_RBAC_OFF) {
            return NGX_DECLINED;
        }

        ctx = ngx_http_rbac_ctx_create(r);
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else if (ctx->waiting) {
        /* Redis or the JWKS: ngx_http_rbac_wake runs the phases again */
        return NGX_AGAIN;

    } else if (ctx->body_waiting) {
        /* the body handler runs the phases again */
        return NGX_DONE;

    } else if (ctx->state == NGX_HTTP_RBAC_ST_DONE) {
        return NGX_DECLINED;
    }

    if (lcf->json_body && !ctx->body_read) {
        rc = ngx_http_rbac_read_body(r, lcf, ctx);

        if (rc != NGX_OK) {
            /* NGX_DONE: the body is awaited; >= 300: nginx's own answer */
            return rc;
        }
    }

    if (ctx->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    switch (ngx_http_rbac_decide(r, lcf, ctx)) {

    case NGX_HTTP_RBAC_STEP_WAIT:
        return ngx_http_rbac_suspend(r, ctx);

    case NGX_HTTP_RBAC_STEP_ERROR:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;

    default: /* NGX_HTTP_RBAC_STEP_DECIDED */
        return ngx_http_rbac_finish(r, lcf, ctx);
    }
}


/* The request's context, its wake event and its cleanup; NULL: no memory. */
static ngx_http_rbac_ctx_t *
ngx_http_rbac_ctx_create(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t   *cln;
    ngx_http_rbac_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_rbac_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    ctx->request = r;
    ctx->born = ngx_current_msec;
    ctx->wake.handler = ngx_http_rbac_wake;
    ctx->wake.data = ctx;
    ctx->wake.log = r->connection->log;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_rbac_cleanup;
    cln->data = ctx;

    ngx_http_set_ctx(r, ctx, ngx_http_rbac_module);

    return ctx;
}


/*
 * The request waits until ctx->wake resumes it (ngx_http_rbac_wake):
 * NGX_AGAIN for the phase handler to return, or a 500.
 */
static ngx_int_t
ngx_http_rbac_suspend(ngx_http_request_t *r, ngx_http_rbac_ctx_t *ctx)
{
    ctx->waiting = 1;

    /* notice a client that goes away meanwhile (finalized with 499) */
    if (r->connection->read->ready) {
        ngx_post_event(r->connection->read, &ngx_posted_events);

    } else if (ngx_handle_read_event(r->connection->read, 0) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_request_empty_handler;

    return NGX_AGAIN;
}


/*
 * The decision, on every pass of the access phase that finds it not made
 * yet.  DECIDED, WAIT or ERROR.
 */
static ngx_http_rbac_step_e
ngx_http_rbac_decide(ngx_http_request_t *r, ngx_http_rbac_loc_conf_t *lcf,
    ngx_http_rbac_ctx_t *ctx)
{
    ngx_http_rbac_step_e  step;

    if (ctx->status) {
        /* the body was refused: 400 or 413, nothing else to decide */
        return NGX_HTTP_RBAC_STEP_DECIDED;
    }

    step = ngx_http_rbac_object_ctl(r, lcf, ctx);
    if (step != NGX_HTTP_RBAC_STEP_NEXT) {
        return step;
    }

    if (ctx->state == NGX_HTTP_RBAC_ST_START) {
        step = ngx_http_rbac_begin(r, lcf, ctx);
        if (step != NGX_HTTP_RBAC_STEP_NEXT) {
            return step;
        }
    }

    return ngx_http_rbac_run(r, lcf, ctx);
}


/*
 * The arguments of rbac_object and rbac_also (id=, org=, owner=, whatever
 * variables they hold: captures, query arguments, $rbac_body_* fields) may
 * not hold a control byte: such a value names no object, and would carry
 * whatever follows a CR/LF to the upstream.  Refused with 400 before
 * anything is decided, in shadow mode too.  Read once, on the first pass:
 * the values are kept in ctx->memo_args (id, org, owner of rbac_object,
 * then of each rbac_also) for the memo's key and the UUID check.  NEXT: clean;
 * DECIDED: refused (ctx says why); ERROR.
 */
static ngx_http_rbac_step_e
ngx_http_rbac_object_ctl(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_ctx_t *ctx)
{
    ngx_str_t                     v, *args;
    ngx_uint_t                    i, j, n;
    rbac_str_t                    sv;
    ngx_http_complex_value_t     *cv[3];
    ngx_http_rbac_also_conf_t    *ac;
    ngx_http_rbac_object_conf_t  *oc;

    if (lcf->object == NULL || ctx->memo_args != NULL) {
        /* no object, or read and found clean on an earlier pass */
        return NGX_HTTP_RBAC_STEP_NEXT;
    }

    ac = lcf->also != NULL ? lcf->also->elts : NULL;
    n = lcf->also != NULL ? lcf->also->nelts : 0;

    args = ngx_palloc(r->pool, 3 * (n + 1) * sizeof(ngx_str_t));
    if (args == NULL) {
        return NGX_HTTP_RBAC_STEP_ERROR;
    }

    for (i = 0; i <= n; i++) {
        oc = (i == 0) ? lcf->object : &ac[i - 1].object;

        cv[0] = oc->id;
        cv[1] = oc->org;
        cv[2] = oc->owner;

        for (j = 0; j < 3; j++) {
            if (cv[j] == NULL) {
                ngx_str_null(&args[3 * i + j]);
                continue;
            }

            if (ngx_http_complex_value(r, cv[j], &v) != NGX_OK) {
                return NGX_HTTP_RBAC_STEP_ERROR;
            }

            args[3 * i + j] = v;

            sv = ngx_http_rbac_vstr(v);

            if (rbac_hdr_has_ctl(sv)) {
                ctx->hard = 1;

                return ngx_http_rbac_deny(ctx, NGX_HTTP_BAD_REQUEST,
                                          "control character in object "
                                          "argument");
            }
        }
    }

    ctx->memo_args = args;

    return NGX_HTTP_RBAC_STEP_NEXT;
}


/*
 * Once per request: the one credential of every rbac_token source, every
 * copy (or a 401), then the memo of decisions.  NEXT: the credential is to
 * be checked; DECIDED; ERROR.
 */
static ngx_http_rbac_step_e
ngx_http_rbac_begin(ngx_http_request_t *r, ngx_http_rbac_loc_conf_t *lcf,
    ngx_http_rbac_ctx_t *ctx)
{
    ngx_int_t  rc;

    ctx->state = NGX_HTTP_RBAC_ST_CREDENTIAL;

    rc = ngx_http_rbac_carrier(r, lcf, &ctx->cred, &ctx->cred_src_type,
                              &ctx->seen);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_RBAC_STEP_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_rbac_deny(ctx, NGX_HTTP_UNAUTHORIZED,
                                  "ambiguous credential");
    }

    rc = ngx_http_rbac_memo_lookup(r, lcf, ctx);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_RBAC_STEP_ERROR;
    }

    /* NGX_OK: an allow kept; NGX_DECLINED: none */
    return rc == NGX_OK ? NGX_HTTP_RBAC_STEP_DECIDED
                        : NGX_HTTP_RBAC_STEP_NEXT;
}


/*
 * Passes of ngx_http_rbac_evaluate, each after the records the last one
 * wanted were fetched (from the cache's stale entries once Redis failed).
 * DECIDED, WAIT (Redis or the JWKS) or ERROR.
 */
static ngx_http_rbac_step_e
ngx_http_rbac_run(ngx_http_request_t *r, ngx_http_rbac_loc_conf_t *lcf,
    ngx_http_rbac_ctx_t *ctx)
{
    ngx_int_t             rc;
    ngx_http_rbac_step_e  step;

    for ( ;; ) {

        if (ctx->redis_error) {
            /* stale-if-error: the cache's last answers, within stale */
            if (ngx_http_rbac_fetch_stale(ctx) != NGX_OK) {
                ctx->status = NGX_HTTP_SERVICE_UNAVAILABLE;
                ngx_str_set(&ctx->reason, "authorization unavailable");
                return NGX_HTTP_RBAC_STEP_DECIDED;
            }

            ctx->redis_error = 0;
        }

        ctx->need = 0;

        step = ngx_http_rbac_evaluate(r, lcf, ctx);

        if (step == NGX_HTTP_RBAC_STEP_ERROR || ctx->failed) {
            return NGX_HTTP_RBAC_STEP_ERROR;
        }

        if (step != NGX_HTTP_RBAC_STEP_RECORDS) {
            /* DECIDED, or WAIT: for the JWKS (ngx_http_rbac_jwks.c) */
            return step;
        }

        /* once Redis failed, this request does not wait for it again */
        rc = ctx->used_stale ? NGX_ERROR : ngx_http_rbac_fetch(ctx);

        if (rc == NGX_AGAIN) {
            return NGX_HTTP_RBAC_STEP_WAIT;
        }

        if (rc == NGX_ERROR) {
            ctx->redis_error = 1;
        }
    }
}


/*
 * The answer decided: counted and logged, then the request goes on (the
 * identity headers set) or gets its error page.  For the phase handler:
 * NGX_OK (allow), NGX_DECLINED (shadow mode lets a deny through),
 * NGX_DONE (the error page sent, the request finalized) or a 500.
 */
static ngx_int_t
ngx_http_rbac_finish(ngx_http_request_t *r, ngx_http_rbac_loc_conf_t *lcf,
    ngx_http_rbac_ctx_t *ctx)
{
    ngx_int_t  rc;

    ctx->state = NGX_HTTP_RBAC_ST_DONE;

    ngx_http_rbac_tally(r, lcf, ctx);

    if (ctx->status == 0
        || (lcf->mode == NGX_HTTP_RBAC_SHADOW && !ctx->hard))
    {

        if (lcf->identity_headers && ctx->authenticated
            && ngx_http_rbac_identity_headers(r, ctx) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ctx->status == 0 ? NGX_OK : NGX_DECLINED;
    }

    rc = ngx_http_rbac_send_error(r, ctx);

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


/* $rbac_decision, the rbac_status counters, the log line or summary. */
static void
ngx_http_rbac_tally(ngx_http_request_t *r, ngx_http_rbac_loc_conf_t *lcf,
    ngx_http_rbac_ctx_t *ctx)
{
    if (ctx->status == 0) {
        ngx_str_set(&ctx->var_decision, "allow");
        ngx_http_rbac_stat(NGX_HTTP_RBAC_STAT_ALLOW);
        ngx_http_rbac_memo_store(r, ctx);

    } else if (ctx->status == NGX_HTTP_SERVICE_UNAVAILABLE) {
        ngx_str_set(&ctx->var_decision, "error");
        ngx_http_rbac_stat(NGX_HTTP_RBAC_STAT_ERROR);

    } else if (lcf->mode == NGX_HTTP_RBAC_SHADOW && !ctx->hard) {
        ngx_str_set(&ctx->var_decision, "shadow_deny");
        ngx_http_rbac_stat(NGX_HTTP_RBAC_STAT_SHADOW_DENY);

    } else {
        ngx_str_set(&ctx->var_decision, "deny");
        ngx_http_rbac_stat(NGX_HTTP_RBAC_STAT_DENY);
    }

    if (ctx->status == NGX_HTTP_UNAUTHORIZED) {
        ngx_http_rbac_stat_unauthorized(&ctx->reason);
    }

    if (ctx->status == NGX_HTTP_SERVICE_UNAVAILABLE || ctx->used_stale) {
        /* while Redis is away: a summary a second, not a line a request */
        ngx_http_rbac_note_down(r, ctx->status == 0);

    } else if (ctx->status) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "rbac: %V %i \"%V\" user \"%V\"",
                      &ctx->var_decision, ctx->status, &ctx->reason,
                      &ctx->var_user);
    }
}


/*
 * One pass over what is known.  DECIDED; RECORDS: records wanted; WAIT:
 * the JWKS wanted; ERROR: an internal failure (500).
 */
static ngx_http_rbac_step_e
ngx_http_rbac_evaluate(ngx_http_request_t *r, ngx_http_rbac_loc_conf_t *lcf,
    ngx_http_rbac_ctx_t *ctx)
{
    void                       *deployment;
    rbac_object_t               obj;
    ngx_http_rbac_step_e        step;
    ngx_http_rbac_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_rbac_module);

    if (ctx->state == NGX_HTTP_RBAC_ST_CREDENTIAL) {
        step = ngx_http_rbac_check(r, lcf, ctx);
        if (step != NGX_HTTP_RBAC_STEP_NEXT) {
            return step;
        }
    }

    if (ctx->anonymous) {
        /* no credential where rbac_app serves an app */
        return ngx_http_rbac_public_app(r, lcf, ctx);
    }

    step = ngx_http_rbac_first_level(r, lcf, ctx, &deployment);
    if (step != NGX_HTTP_RBAC_STEP_NEXT) {
        return step;
    }

    step = ngx_http_rbac_subject(r, lcf, ctx);
    if (step != NGX_HTTP_RBAC_STEP_NEXT) {
        return step;
    }

    if (lcf->object == NULL) {
        return ngx_http_rbac_authenticated(ctx);
    }

    /* the object: DECIDED when denied (not found, mismatch) */

    step = ngx_http_rbac_object_build(r, ctx, lcf->object, 0,
                                      &ctx->var_user, &obj);
    if (step != NGX_HTTP_RBAC_STEP_NEXT) {
        return step;
    }

    ctx->var_org = ngx_http_rbac_nstr(obj.org);

    /* second level: orgs, custom roles, default member roles */

    ngx_http_rbac_roles_wanted(ctx, rmcf->catalog, &ctx->var_org);

    if (ctx->need) {
        return NGX_HTTP_RBAC_STEP_RECORDS;
    }

    return ngx_http_rbac_authorize(r, lcf, ctx, &obj, deployment);
}


/*
 * The credential checked, on the passes until it is: the ids declared as
 * UUIDs, then the credential itself.  NEXT: checked (ctx->anonymous for
 * no credential where rbac_app serves an app); DECIDED; WAIT: the JWKS
 * wanted; ERROR.
 */
static ngx_http_rbac_step_e
ngx_http_rbac_check(ngx_http_request_t *r, ngx_http_rbac_loc_conf_t *lcf,
    ngx_http_rbac_ctx_t *ctx)
{
    ngx_int_t             rc;
    ngx_http_rbac_step_e  step;

    /* ids declared as UUIDs: refused before anything is looked up */
    rc = ngx_http_rbac_ids_check(r, lcf, ctx);
    if (rc != NGX_OK) {
        /* NGX_DECLINED: refused with 400 (ctx says why) */
        return rc == NGX_DECLINED ? NGX_HTTP_RBAC_STEP_DECIDED
                                  : NGX_HTTP_RBAC_STEP_ERROR;
    }

    step = ngx_http_rbac_credential(r, lcf, ctx);

    if (step == NGX_HTTP_RBAC_STEP_DECIDED && ctx->cred.len == 0
        && lcf->app != NULL)
    {
        /* no credential where an app is served: public, maybe */
        ctx->anonymous = 1;
        ctx->status = 0;
        step = NGX_HTTP_RBAC_STEP_NEXT;
    }

    if (step == NGX_HTTP_RBAC_STEP_NEXT) {
        ctx->state = NGX_HTTP_RBAC_ST_EVALUATE;
    }

    return step;
}


/*
 * The credential and, for a JWT, its subject.  NEXT: carry on; DECIDED
 * (401); WAIT: for the JWKS, the pass runs again when it is there; ERROR.
 */
static ngx_http_rbac_step_e
ngx_http_rbac_credential(ngx_http_request_t *r, ngx_http_rbac_loc_conf_t *lcf,
    ngx_http_rbac_ctx_t *ctx)
{
    u_char                     *hex;
    rbac_rc_t                   crc;
    ngx_int_t                   rc;
    ngx_str_t                   v, reason;
    rbac_str_t                  sv;
    ngx_uint_t                  type;
    rbac_err_t                  err;
    rbac_cred_t                 cred;

    /* the one credential of every source (ngx_http_rbac_begin) */
    v = ctx->cred;
    type = ctx->cred_src_type;

    if (v.len == 0) {
        return ngx_http_rbac_deny(ctx, NGX_HTTP_UNAUTHORIZED,
                                  "no credential");
    }

    if (v.len > RBAC_MAX_TOKEN) {
        return ngx_http_rbac_deny(ctx, NGX_HTTP_UNAUTHORIZED, "oversize");
    }

    sv = ngx_http_rbac_vstr(v);

    if (type == NGX_HTTP_RBAC_CRED_AUTO) {
        type = rbac_cred_classify(sv) == RBAC_CRED_JWT
               ? NGX_HTTP_RBAC_CRED_JWT : NGX_HTTP_RBAC_CRED_API_TOKEN;
    }

    ctx->cred_type = type;

    if (type == NGX_HTTP_RBAC_CRED_JWT) {
        rc = ngx_http_rbac_jwt_verify(r, lcf, ctx, &reason);

        if (rc == NGX_DECLINED) {
            return ngx_http_rbac_deny_str(ctx, NGX_HTTP_UNAUTHORIZED,
                                          &reason);
        }

        if (rc == NGX_AGAIN) {
            return NGX_HTTP_RBAC_STEP_WAIT;
        }

        return rc == NGX_OK ? NGX_HTTP_RBAC_STEP_NEXT
                            : NGX_HTTP_RBAC_STEP_ERROR;
    }

    ngx_memzero(&err, sizeof(rbac_err_t));

    if (type == NGX_HTTP_RBAC_CRED_PKEY_BARE) {
        /* Coder's bare key: its id is the SHA-256 of the secret */
        ctx->cred_type = NGX_HTTP_RBAC_CRED_PKEY;

        hex = ngx_pnalloc(r->pool, 2 * RBAC_SHA256_LEN + 1);
        if (hex == NULL) {
            return NGX_HTTP_RBAC_STEP_ERROR;
        }

        crc = rbac_cred_parse_bare(sv, (char *) hex, &cred, &err);

    } else {
        crc = rbac_cred_parse(sv, type == NGX_HTTP_RBAC_CRED_PKEY
                                 ? RBAC_CRED_PROVISIONER_KEY
                                 : RBAC_CRED_API_TOKEN,
                             &cred, &err);
    }

    if (crc == RBAC_ENOMEM) {
        return NGX_HTTP_RBAC_STEP_ERROR;
    }

    if (crc != RBAC_OK) {
        return ngx_http_rbac_deny(ctx, NGX_HTTP_UNAUTHORIZED, err.msg);
    }

    ctx->cred_id = ngx_http_rbac_nstr(cred.id);
    ctx->cred_secret = ngx_http_rbac_nstr(cred.secret);

    return NGX_HTTP_RBAC_STEP_NEXT;
}


/*
 * First level, in one round trip: the principal's record, the user's (the
 * subject of a JWT with IdP sync applied), the deployment options and the
 * records of the location's objects.  NEXT: all known, *deployment set;
 * DECIDED; RECORDS; ERROR.
 */
static ngx_http_rbac_step_e
ngx_http_rbac_first_level(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_ctx_t *ctx,
    void **deployment)
{
    ngx_int_t                     rc;
    ngx_uint_t                    i, state;
    ngx_http_rbac_step_e          step;
    ngx_http_rbac_also_conf_t    *ac;
    ngx_http_rbac_object_conf_t  *oc;

    oc = lcf->object;

    step = ngx_http_rbac_principal(r, ctx);
    if (step != NGX_HTTP_RBAC_STEP_NEXT) {
        return step;
    }

    if (ctx->uid.len && ctx->cred_type != NGX_HTTP_RBAC_CRED_PKEY
        && !ctx->idp_done)
    {
        ctx->user = ngx_http_rbac_get(ctx, &state, "user:", &ctx->uid, NULL);
    }

    if (ctx->cred_type == NGX_HTTP_RBAC_CRED_JWT) {
        /* the subject from the record and the claims (IdP sync) */
        rc = ngx_http_rbac_idpsync(r, ctx);
        if (rc != NGX_OK) {
            /* NGX_DONE: decided (ctx->status) */
            return rc == NGX_DONE ? NGX_HTTP_RBAC_STEP_DECIDED
                                  : NGX_HTTP_RBAC_STEP_ERROR;
        }
    }

    *deployment = NULL;

    if (oc != NULL) {
        *deployment = ngx_http_rbac_get(ctx, &state, "deployment", NULL,
                                        NULL);

        /* the object's record, in the same round trip as the principal */
        if (ngx_http_rbac_object_build(r, ctx, oc, 0, &ctx->uid, NULL)
            == NGX_HTTP_RBAC_STEP_ERROR)
        {
            return NGX_HTTP_RBAC_STEP_ERROR;
        }
    }

    if (oc != NULL && lcf->also != NULL) {
        /* the records of rbac_also objects, in the same round trip */
        ac = lcf->also->elts;

        for (i = 0; i < lcf->also->nelts; i++) {
            if (ngx_http_rbac_object_build(r, ctx, &ac[i].object, i + 1,
                                           &ctx->uid, NULL)
                == NGX_HTTP_RBAC_STEP_ERROR)
            {
                return NGX_HTTP_RBAC_STEP_ERROR;
            }
        }
    }

    return ctx->need ? NGX_HTTP_RBAC_STEP_RECORDS : NGX_HTTP_RBAC_STEP_NEXT;
}


/*
 * The record of an API token or provisioner key, checked.  NEXT: carry on
 * (known, or wanted); DECIDED (401); ERROR.
 */
static ngx_http_rbac_step_e
ngx_http_rbac_principal(ngx_http_request_t *r, ngx_http_rbac_ctx_t *ctx)
{
    void              *rec;
    rbac_rc_t          rc;
    ngx_uint_t         state, known;
    rbac_err_t         err;
    rbac_cred_t        cred;
    rbac_cred_kind_t   kind;
    rbac_pkey_rec_t   *pk;
    rbac_token_rec_t  *tok;

    if (ctx->cred_type == NGX_HTTP_RBAC_CRED_JWT) {
        return NGX_HTTP_RBAC_STEP_NEXT;
    }

    cred.id = ngx_http_rbac_vstr(ctx->cred_id);
    cred.secret = ngx_http_rbac_vstr(ctx->cred_secret);

    ngx_memzero(&err, sizeof(rbac_err_t));

    if (ctx->cred_type == NGX_HTTP_RBAC_CRED_PKEY) {
        kind = RBAC_CRED_PROVISIONER_KEY;
        rec = ngx_http_rbac_get(ctx, &state, "pkey:", &ctx->cred_id, NULL);
        known = (ctx->pkey != NULL);

    } else {
        kind = RBAC_CRED_API_TOKEN;
        rec = ngx_http_rbac_get(ctx, &state, "token:", &ctx->cred_id, NULL);
        known = (ctx->token != NULL);
    }

    if (state == NGX_HTTP_RBAC_PENDING || known) {
        return NGX_HTTP_RBAC_STEP_NEXT;
    }

    if (rec == NULL) {
        (void) rbac_cred_unknown(kind, &err);
        return ngx_http_rbac_deny(ctx, NGX_HTTP_UNAUTHORIZED, err.msg);
    }

    if (kind == RBAC_CRED_PROVISIONER_KEY) {
        pk = rec;
        tok = NULL;
        rc = rbac_cred_verify(&cred, kind, pk->secret_sha256, 0,
                              (int64_t) ngx_time(), &err);

    } else {
        pk = NULL;
        tok = rec;
        rc = rbac_cred_verify(&cred, kind, tok->secret_sha256,
                              tok->expires_at, (int64_t) ngx_time(), &err);
    }

    if (rc == RBAC_ETOKEN) {
        return ngx_http_rbac_deny(ctx, NGX_HTTP_UNAUTHORIZED, err.msg);
    }

    if (rc != RBAC_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "rbac: credential check failed: %s", rbac_strerror(rc));
        return NGX_HTTP_RBAC_STEP_ERROR;
    }

    if (pk != NULL) {
        ctx->pkey = pk;

    } else {
        ctx->token = tok;
        ctx->uid = ngx_http_rbac_nstr(rbac_ref(tok, tok->user));
    }

    return NGX_HTTP_RBAC_STEP_NEXT;
}


/*
 * The subject: the kind of principal (a 403 for a user without a record),
 * which rbac_principals must allow here.  NEXT: ctx->authenticated,
 * var_kind and var_user set; DECIDED; ERROR.
 */
static ngx_http_rbac_step_e
ngx_http_rbac_subject(ngx_http_request_t *r, ngx_http_rbac_loc_conf_t *lcf,
    ngx_http_rbac_ctx_t *ctx)
{
    ngx_str_t   s;
    ngx_uint_t  kind;

    if (ctx->cred_type == NGX_HTTP_RBAC_CRED_PKEY) {
        kind = RBAC_KIND_PROVISIONER;

    } else {
        if (ctx->user == NULL) {
            return ngx_http_rbac_deny(ctx, NGX_HTTP_FORBIDDEN,
                                      "unknown user");
        }

        kind = ctx->user->kind;

        if (kind == RBAC_KIND_SERVICE_ACCOUNT
            && ctx->cred_type == NGX_HTTP_RBAC_CRED_JWT)
        {
            return ngx_http_rbac_deny(ctx, NGX_HTTP_FORBIDDEN,
                                      "service accounts authenticate only "
                                      "with API tokens");
        }
    }

    if (kind > RBAC_KIND_PROVISIONER) {
        return ngx_http_rbac_deny(ctx, NGX_HTTP_FORBIDDEN, "unknown kind");
    }

    ctx->authenticated = 1;
    ctx->var_kind = ngx_http_rbac_kinds[kind];
    ctx->var_user = (kind == RBAC_KIND_PROVISIONER) ? ctx->cred_id : ctx->uid;

    if (kind == RBAC_KIND_PROVISIONER) {
        s.len = sizeof("pkey:") - 1 + ctx->cred_id.len;
        s.data = ngx_pnalloc(r->pool, s.len);
        if (s.data == NULL) {
            return NGX_HTTP_RBAC_STEP_ERROR;
        }

        ngx_sprintf(s.data, "pkey:%V", &ctx->cred_id);
        ctx->var_user = s;
    }

    if (lcf->principals
        && !(lcf->principals & NGX_HTTP_RBAC_KIND_BIT(kind)))
    {
        s.len = sizeof("principal kind  not allowed here") - 1
                + ctx->var_kind.len;
        s.data = ngx_pnalloc(r->pool, s.len);
        if (s.data == NULL) {
            return NGX_HTTP_RBAC_STEP_ERROR;
        }

        ngx_sprintf(s.data, "principal kind %V not allowed here",
                    &ctx->var_kind);

        return ngx_http_rbac_deny_str(ctx, NGX_HTTP_FORBIDDEN, &s);
    }

    return NGX_HTTP_RBAC_STEP_NEXT;
}


/*
 * Authentication only: no object, no decision beyond the account's status.
 * DECIDED or ERROR.
 */
static ngx_http_rbac_step_e
ngx_http_rbac_authenticated(ngx_http_rbac_ctx_t *ctx)
{
    if (ctx->user != NULL && ctx->user->status != RBAC_STATUS_ACTIVE) {
        return ngx_http_rbac_deny(ctx, NGX_HTTP_FORBIDDEN,
                                  ctx->user->status == RBAC_STATUS_SUSPENDED
                                  ? "account suspended"
                                  : "account dormant");
    }

    ctx->status = 0;
    ngx_str_set(&ctx->reason, "authenticated");

    return NGX_HTTP_RBAC_STEP_DECIDED;
}


/*
 * Wants the records the subject's roles depend on: each org's record
 * (sharing mode, default member roles) and every role name that is not a
 * built-in one (a custom role, maybe).
 */
static void
ngx_http_rbac_roles_wanted(ngx_http_rbac_ctx_t *ctx, rbac_catalog_t *cat,
    ngx_str_t *obj_org)
{
    ngx_str_t                   org;
    ngx_uint_t                  i, state;
    rbac_org_rec_t             *orec;
    rbac_user_rec_t            *u;
    const rbac_user_org_rec_t  *uo;

    if (obj_org->len) {
        (void) ngx_http_rbac_get(ctx, &state, "org:", obj_org, NULL);
    }

    if (ctx->pkey != NULL) {
        org = ngx_http_rbac_nstr(rbac_ref(ctx->pkey, ctx->pkey->org));
        if (org.len) {
            (void) ngx_http_rbac_get(ctx, &state, "org:", &org, NULL);
        }

        return;
    }

    u = ctx->user;
    if (u == NULL) {
        return;
    }

    ngx_http_rbac_roles_named(ctx, cat, u, u->site_roles, NULL);

    uo = rbac_rec_at(u, u->orgs, rbac_user_org_rec_t);

    for (i = 0; i < u->orgs.n; i++) {
        org = ngx_http_rbac_nstr(rbac_ref(u, uo[i].org));

        ngx_http_rbac_roles_named(ctx, cat, u, uo[i].roles, &org);

        orec = ngx_http_rbac_get(ctx, &state, "org:", &org, NULL);

        if (orec != NULL) {
            ngx_http_rbac_roles_named(ctx, cat, orec, orec->default_roles,
                                      &org);
        }
    }
}


/*
 * The records of the roles a record names (span: its rbac_ref_t[]) that
 * are not built in: site roles with org NULL ("siterole:<name>"), else
 * roles of org ("role:<org>:<name>").
 */
static void
ngx_http_rbac_roles_named(ngx_http_rbac_ctx_t *ctx, rbac_catalog_t *cat,
    const void *rec, rbac_span_t span, ngx_str_t *org)
{
    ngx_str_t          name;
    ngx_uint_t         i, state;
    rbac_str_t         n;
    const rbac_ref_t  *roles;

    roles = rbac_rec_at(rec, span, rbac_ref_t);

    for (i = 0; i < span.n; i++) {
        n = rbac_ref(rec, roles[i]);

        if (rbac_catalog_reserved(cat, n)) {
            continue;
        }

        name = ngx_http_rbac_nstr(n);

        if (org == NULL) {
            (void) ngx_http_rbac_get(ctx, &state, "siterole:", &name, NULL);

        } else {
            (void) ngx_http_rbac_get(ctx, &state, "role:", org, &name);
        }
    }
}


/*
 * The decision on the location's object, then on the objects of rbac_also
 * or the app's share level.  DECIDED; RECORDS: an rbac_also record is
 * still wanted; ERROR.
 */
static ngx_http_rbac_step_e
ngx_http_rbac_authorize(ngx_http_request_t *r, ngx_http_rbac_loc_conf_t *lcf,
    ngx_http_rbac_ctx_t *ctx, rbac_object_t *obj, void *deployment)
{
    unsigned                  options;
    rbac_action_t             action;
    rbac_subject_t            subj;
    rbac_decision_t           d;
    ngx_http_rbac_step_e      step;
    ngx_http_rbac_resolve_t  *res;

    action = RBAC_A_OTHER;

    options = deployment != NULL
              ? ((rbac_deployment_rec_t *) deployment)->options : 0;

    res = ngx_palloc(r->pool, sizeof(ngx_http_rbac_resolve_t));
    if (res == NULL) {
        return NGX_HTTP_RBAC_STEP_ERROR;
    }

    res->ctx = ctx;

    ngx_memzero(&subj, sizeof(rbac_subject_t));

    if (ctx->pkey != NULL) {
        if (ngx_http_rbac_pkey_subject(r, ctx, res, options, &subj)
            != NGX_OK)
        {
            return NGX_HTTP_RBAC_STEP_ERROR;
        }

    } else {
        step = ngx_http_rbac_user_subject(r, ctx, res, options, &subj);
        if (step != NGX_HTTP_RBAC_STEP_NEXT) {
            return step;
        }
    }

    if (ngx_http_rbac_roles_var(r, ctx, &subj, obj->org) != NGX_OK) {
        return NGX_HTTP_RBAC_STEP_ERROR;
    }

    step = ngx_http_rbac_action(r, lcf->action, ctx, &action);
    if (step != NGX_HTTP_RBAC_STEP_NEXT) {
        return step;
    }

    rbac_decide(&subj, obj, action, &d);

    if (ngx_http_rbac_set_reason(r, ctx, &d, &subj, obj)
        == NGX_HTTP_RBAC_STEP_ERROR)
    {
        return NGX_HTTP_RBAC_STEP_ERROR;
    }

    if (!d.allow && lcf->app != NULL && action == RBAC_A_APPLICATION_CONNECT) {
        return ngx_http_rbac_app_share(r, lcf, ctx, &subj, obj);
    }

    if (d.allow && lcf->also != NULL) {
        return ngx_http_rbac_also_decide(r, lcf, ctx, &subj);
    }

    return NGX_HTTP_RBAC_STEP_DECIDED;
}


/*
 * A provisioner key's subject: the provisioner-daemon role in the key's
 * org.  NGX_OK or NGX_ERROR.
 */
static ngx_int_t
ngx_http_rbac_pkey_subject(ngx_http_request_t *r, ngx_http_rbac_ctx_t *ctx,
    ngx_http_rbac_resolve_t *res, unsigned options, rbac_subject_t *subj)
{
    ngx_str_t                   org;
    rbac_share_t                share;
    rbac_org_rec_t             *orec;
    const rbac_role_t          *role;
    rbac_subject_org_t         *sorg;
    const rbac_role_t         **roles;
    ngx_http_rbac_main_conf_t  *rmcf;

    static rbac_str_t  pd = rbac_string("provisioner-daemon");

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_rbac_module);

    org = ngx_http_rbac_nstr(rbac_ref(ctx->pkey, ctx->pkey->org));
    orec = ngx_http_rbac_peek(ctx, res->buf, "org:", &org, NULL);
    share = orec != NULL ? orec->share : RBAC_SHARE_EVERYONE;

    role = rbac_catalog_role(rmcf->catalog, pd, options, share);

    sorg = ngx_pcalloc(r->pool, sizeof(rbac_subject_org_t));
    roles = ngx_palloc(r->pool, sizeof(rbac_role_t *));
    if (sorg == NULL || roles == NULL) {
        return NGX_ERROR;
    }

    roles[0] = role;
    sorg->org = ngx_http_rbac_vstr(org);
    sorg->roles = (const rbac_role_t *const *) roles;
    sorg->nroles = role != NULL ? 1 : 0;

    subj->id = ngx_http_rbac_vstr(ctx->var_user);
    subj->kind = RBAC_KIND_PROVISIONER;
    subj->status = RBAC_STATUS_ACTIVE;
    subj->orgs = sorg;
    subj->norgs = 1;

    return NGX_OK;
}


/*
 * A user's subject: the roles of the record (custom roles and the orgs'
 * defaults from the records fetched), and an API token's scopes.  NEXT;
 * DECIDED (a scope unknown); ERROR.
 */
static ngx_http_rbac_step_e
ngx_http_rbac_user_subject(ngx_http_request_t *r, ngx_http_rbac_ctx_t *ctx,
    ngx_http_rbac_resolve_t *res, unsigned options, rbac_subject_t *subj)
{
    rbac_rc_t                   rc;
    rbac_resolver_t             rs;
    rbac_allocator_t            a;
    ngx_http_rbac_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_rbac_module);

    a.alloc = ngx_http_rbac_palloc;
    a.free = ngx_http_rbac_pfree;
    a.ud = r->pool;

    rs.catalog = rmcf->catalog;
    rs.options = options;
    rs.implicit = 1;
    rs.org = ngx_http_rbac_org_cb;
    rs.custom_role = ngx_http_rbac_role_cb;
    rs.ud = res;

    rc = rbac_subject_build(ctx->user, &rs, &a, subj);
    if (rc != RBAC_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "rbac: cannot build the subject of user \"%V\": %s",
                      &ctx->uid, rbac_strerror(rc));
        return NGX_HTTP_RBAC_STEP_ERROR;
    }

    if (ctx->token != NULL) {
        return ngx_http_rbac_token_scope(r, ctx, rmcf->catalog, subj);
    }

    return NGX_HTTP_RBAC_STEP_NEXT;
}


/*
 * The token's scopes (union) and allow list.  NEXT; DECIDED (a scope
 * unknown); ERROR.
 */
static ngx_http_rbac_step_e
ngx_http_rbac_token_scope(ngx_http_request_t *r, ngx_http_rbac_ctx_t *ctx,
    rbac_catalog_t *cat, rbac_subject_t *s)
{
    size_t                   n;
    ngx_uint_t               i;
    rbac_str_t               name;
    rbac_err_t               err;
    rbac_allow_t            *allow;
    rbac_scope_t            *scope;
    const rbac_ref_t        *scopes;
    rbac_token_rec_t        *tok;
    const rbac_allow_rec_t  *al;

    tok = ctx->token;

    if (tok->scopes.n) {
        scope = ngx_pcalloc(r->pool, sizeof(rbac_scope_t));
        if (scope == NULL) {
            return NGX_HTTP_RBAC_STEP_ERROR;
        }

        scopes = rbac_rec_at(tok, tok->scopes, rbac_ref_t);

        for (i = 0; i < tok->scopes.n; i++) {
            name = rbac_ref(tok, scopes[i]);

            ngx_memzero(&err, sizeof(rbac_err_t));

            if (rbac_catalog_scope_add(cat, name, scope, &err) != RBAC_OK) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "rbac: token \"%V\": %s", &ctx->cred_id,
                              err.msg);
                return ngx_http_rbac_deny(ctx, NGX_HTTP_FORBIDDEN,
                                          "token scope unknown");
            }
        }

        n = ngx_min(sizeof(scope->name) - 1, scopes[0].len);
        ngx_memcpy(scope->name, rbac_ref(tok, scopes[0]).data, n);
        scope->name[n] = '\0';

        s->scope = scope;
    }

    if (tok->allow_list.n) {
        allow = ngx_pcalloc(r->pool, tok->allow_list.n * sizeof(rbac_allow_t));
        if (allow == NULL) {
            return NGX_HTTP_RBAC_STEP_ERROR;
        }

        al = rbac_rec_at(tok, tok->allow_list, rbac_allow_rec_t);

        for (i = 0; i < tok->allow_list.n; i++) {
            allow[i].type = al[i].type;
            allow[i].any_type = al[i].any_type;
            allow[i].any_id = al[i].any_id;

            name = rbac_ref(tok, al[i].id);
            n = ngx_min(RBAC_MAX_NAME, name.len);
            ngx_memcpy(allow[i].id, name.data, n);
            allow[i].id[n] = '\0';
        }

        s->token_allow = allow;
        s->ntoken_allow = tok->allow_list.n;
    }

    return NGX_HTTP_RBAC_STEP_NEXT;
}


/*
 * rbac_app, a caller without a credential: the app opens if the
 * workspace's record says it is public, else the 401 stands.  DECIDED;
 * RECORDS; ERROR.
 */
static ngx_http_rbac_step_e
ngx_http_rbac_public_app(ngx_http_request_t *r, ngx_http_rbac_loc_conf_t *lcf,
    ngx_http_rbac_ctx_t *ctx)
{
    ngx_str_t             slug, none;
    rbac_object_t         obj;
    rbac_app_share_t      share;
    ngx_http_rbac_step_e  step;

    ngx_str_null(&none);

    if (ngx_http_rbac_object_build(r, ctx, lcf->object, 0, &none, NULL)
        == NGX_HTTP_RBAC_STEP_ERROR)
    {
        return NGX_HTTP_RBAC_STEP_ERROR;
    }

    if (ctx->need) {
        return NGX_HTTP_RBAC_STEP_RECORDS;
    }

    ctx->obj_rec = NULL;

    step = ngx_http_rbac_object_build(r, ctx, lcf->object, 0, &none, &obj);
    if (step == NGX_HTTP_RBAC_STEP_RECORDS
        || step == NGX_HTTP_RBAC_STEP_ERROR)
    {
        return step;
    }

    if (ngx_http_complex_value(r, lcf->app, &slug) != NGX_OK) {
        return NGX_HTTP_RBAC_STEP_ERROR;
    }

    share = RBAC_APP_OWNER;

    if (step == NGX_HTTP_RBAC_STEP_NEXT && ctx->obj_rec != NULL) {
        share = rbac_obj_app_share(ctx->obj_rec, ngx_http_rbac_vstr(slug));
    }

    if (!rbac_app_share_allows(share, NULL, obj.org)) {
        return ngx_http_rbac_deny(ctx, NGX_HTTP_UNAUTHORIZED,
                                  "no credential");
    }

    ctx->status = 0;
    ngx_str_set(&ctx->reason, "public app");

    return NGX_HTTP_RBAC_STEP_DECIDED;
}


/*
 * rbac_app, an authenticated caller refused application_connect on the
 * workspace: the app's share level may still let him in.  DECIDED or
 * ERROR.
 */
static ngx_http_rbac_step_e
ngx_http_rbac_app_share(ngx_http_request_t *r, ngx_http_rbac_loc_conf_t *lcf,
    ngx_http_rbac_ctx_t *ctx, rbac_subject_t *subj, rbac_object_t *obj)
{
    ngx_str_t         slug;
    rbac_app_share_t  share;

    if (ctx->obj_rec == NULL) {
        return NGX_HTTP_RBAC_STEP_DECIDED;
    }

    if (ngx_http_complex_value(r, lcf->app, &slug) != NGX_OK) {
        return NGX_HTTP_RBAC_STEP_ERROR;
    }

    share = rbac_obj_app_share(ctx->obj_rec, ngx_http_rbac_vstr(slug));

    if (!rbac_app_share_allows(share, subj, obj->org)) {
        return NGX_HTTP_RBAC_STEP_DECIDED;
    }

    ctx->status = 0;

    if (share == RBAC_APP_ORGANIZATION) {
        ngx_str_set(&ctx->reason, "app shared with the organization");

    } else if (share == RBAC_APP_AUTHENTICATED) {
        ngx_str_set(&ctx->reason, "app shared with authenticated users");

    } else {
        ngx_str_set(&ctx->reason, "public app");
    }

    return NGX_HTTP_RBAC_STEP_DECIDED;
}


/*
 * ctx->status and ctx->reason (and the link of a deprecated template).
 * DECIDED or ERROR.
 */
static ngx_http_rbac_step_e
ngx_http_rbac_set_reason(ngx_http_request_t *r, ngx_http_rbac_ctx_t *ctx,
    rbac_decision_t *d, rbac_subject_t *subj, rbac_object_t *obj)
{
    u_char  *p;
    size_t   len;

    ctx->status = d->allow ? 0 : NGX_HTTP_FORBIDDEN;

    if (!d->allow && d->by == RBAC_BY_DEPRECATED) {
        len = sizeof("template deprecated: ") - 1
              + obj->deprecated_message.len;
        p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            return NGX_HTTP_RBAC_STEP_ERROR;
        }

        ctx->reason.data = p;
        ctx->reason.len = ngx_sprintf(p, "template deprecated: %*s",
                                      obj->deprecated_message.len,
                                      obj->deprecated_message.data)
                          - p;
        ctx->link = ngx_http_rbac_nstr(obj->deprecated_link);

        return NGX_HTTP_RBAC_STEP_DECIDED;
    }

    p = ngx_pnalloc(r->pool, 256);
    if (p == NULL) {
        return NGX_HTTP_RBAC_STEP_ERROR;
    }

    ctx->reason.data = p;
    ctx->reason.len = ngx_min(rbac_decision_reason(d, subj, obj, (char *) p,
                                                   256),
                              255);

    return NGX_HTTP_RBAC_STEP_DECIDED;
}


/*
 * rbac_also: every further object must be allowed too, each with its own
 * action; the first that is not decides the answer.  DECIDED; RECORDS: a
 * record is still wanted (the caller fetches and evaluates again); ERROR.
 */
static ngx_http_rbac_step_e
ngx_http_rbac_also_decide(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_ctx_t *ctx,
    rbac_subject_t *subj)
{
    ngx_uint_t                  i, pending;
    rbac_action_t               action;
    rbac_object_t               obj;
    rbac_decision_t             d;
    ngx_http_rbac_step_e        step;
    ngx_http_rbac_also_conf_t  *ac;

    ac = lcf->also->elts;
    pending = 0;

    /* want every record first, so that one round trip fetches them all */
    for (i = 0; i < lcf->also->nelts; i++) {
        step = ngx_http_rbac_object_build(r, ctx, &ac[i].object, i + 1,
                                          &ctx->var_user, NULL);
        if (step == NGX_HTTP_RBAC_STEP_ERROR) {
            return NGX_HTTP_RBAC_STEP_ERROR;
        }

        pending |= (step == NGX_HTTP_RBAC_STEP_RECORDS);
    }

    if (pending) {
        return NGX_HTTP_RBAC_STEP_RECORDS;
    }

    for (i = 0; i < lcf->also->nelts; i++) {
        step = ngx_http_rbac_object_build(r, ctx, &ac[i].object, i + 1,
                                          &ctx->var_user, &obj);
        if (step != NGX_HTTP_RBAC_STEP_NEXT) {
            return step;
        }

        step = ngx_http_rbac_action(r, ac[i].action, ctx, &action);
        if (step != NGX_HTTP_RBAC_STEP_NEXT) {
            return step;
        }

        rbac_decide(subj, &obj, action, &d);

        if (!d.allow) {
            return ngx_http_rbac_set_reason(r, ctx, &d, subj, &obj);
        }
    }

    return NGX_HTTP_RBAC_STEP_DECIDED;
}


/*
 * The object of rbac_object (which 0) or of one rbac_also (which i + 1 for
 * the i-th), by the core resolver (rbac_object_resolve): its arguments
 * ("me" is the caller; their values as ngx_http_rbac_object_ctl read them)
 * and, for a type kept in Redis, its record.  With obj NULL it only wants
 * the record.
 * NEXT: obj is ready (or, with obj NULL, the record known); RECORDS: the
 * record is still wanted; DECIDED: denied, or the record is not the one
 * asked for (ctx says why); ERROR.
 */
static ngx_http_rbac_step_e
ngx_http_rbac_object_build(ngx_http_request_t *r, ngx_http_rbac_ctx_t *ctx,
    ngx_http_rbac_object_conf_t *oc, ngx_uint_t which, ngx_str_t *me,
    rbac_object_t *obj)
{
    void                      *rec;
    ngx_int_t                  rc;
    ngx_str_t                  id, args[3];
    rbac_str_t                 rid, *oargs[3];
    ngx_uint_t                 i, state;
    rbac_rec_type_t            kind;
    rbac_object_args_t         oa;
    ngx_http_complex_value_t  *cv[3];

    /* the arguments, references resolved (ngx_http_rbac_ref.c) */
    rc = ngx_http_rbac_object_args(r, ctx, oc, me,
                                   ctx->memo_args + 3 * which, args,
                                   obj != NULL);

    switch (rc) {

    case NGX_OK:
        break;

    case NGX_DECLINED:
        /* a reference names nothing, nothing to want */
        return NGX_HTTP_RBAC_STEP_NEXT;

    case NGX_AGAIN:
        return NGX_HTTP_RBAC_STEP_RECORDS;

    case NGX_DONE:
        return NGX_HTTP_RBAC_STEP_DECIDED;

    default:
        return NGX_HTTP_RBAC_STEP_ERROR;
    }

    ngx_memzero(&oa, sizeof(rbac_object_args_t));

    oa.type = oc->type;
    oa.me = ngx_http_rbac_vstr(*me);
    oa.any_org = oc->any_org;

    cv[0] = oc->id;
    cv[1] = oc->org;
    cv[2] = oc->owner;
    oargs[0] = &oa.id;
    oargs[1] = &oa.org;
    oargs[2] = &oa.owner;

    for (i = 0; i < 3; i++) {
        if (cv[i] == NULL) {
            continue;               /* not given: data NULL */
        }

        oargs[i]->data = args[i].data ? (const char *) args[i].data : "";
        oargs[i]->len = args[i].len;
    }

    kind = rbac_object_record(&oa, &rid);
    id = ngx_http_rbac_nstr(rid);

    rec = NULL;
    state = NGX_HTTP_RBAC_PRESENT;

    switch (kind) {

    case RBAC_REC_OBJ:
        rec = ngx_http_rbac_get(ctx, &state, "obj:", &oc->type_name, &id);
        break;

    case RBAC_REC_ORG:
        rec = ngx_http_rbac_get(ctx, &state, "org:", &id, NULL);
        break;

    case RBAC_REC_USER:
        rec = ngx_http_rbac_get(ctx, &state, "user:", &id, NULL);
        break;

    default:
        break;
    }

    if (state == NGX_HTTP_RBAC_PENDING) {
        return NGX_HTTP_RBAC_STEP_RECORDS;
    }

    if (obj == NULL) {
        return NGX_HTTP_RBAC_STEP_NEXT;
    }

    return ngx_http_rbac_object_resolve(r, ctx, &oa, rec, obj);
}


/*
 * The object from its arguments and record (NULL: absent).  NEXT: obj is
 * ready; DECIDED: a 403 (not found, mismatch) or a 503 (malformed
 * record); ERROR.
 */
static ngx_http_rbac_step_e
ngx_http_rbac_object_resolve(ngx_http_request_t *r, ngx_http_rbac_ctx_t *ctx,
    rbac_object_args_t *oa, void *rec, rbac_object_t *obj)
{
    rbac_rc_t         rc;
    rbac_err_t        err;
    rbac_allocator_t  a;

    a.alloc = ngx_http_rbac_palloc;
    a.free = ngx_http_rbac_pfree;
    a.ud = r->pool;

    ngx_memzero(&err, sizeof(rbac_err_t));

    rc = rbac_object_resolve(oa, rec, &a, obj, &err);

    switch (rc) {

    case RBAC_OK:
        ctx->obj_rec = rec;
        return NGX_HTTP_RBAC_STEP_NEXT;

    case RBAC_EINVAL:
    case RBAC_ENOTFOUND:
        return ngx_http_rbac_deny(ctx, NGX_HTTP_FORBIDDEN, err.msg);

    case RBAC_EPARSE:
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "rbac: malformed record: %s", err.msg);

        return ngx_http_rbac_deny(ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                  "authorization unavailable");

    default:
        return NGX_HTTP_RBAC_STEP_ERROR;
    }
}


/*
 * The action: rbac_action, or from the method.  NEXT; DECIDED (none such);
 * ERROR.
 */
static ngx_http_rbac_step_e
ngx_http_rbac_action(ngx_http_request_t *r, ngx_http_complex_value_t *cv,
    ngx_http_rbac_ctx_t *ctx, rbac_action_t *action)
{
    ngx_str_t  v, s;

    if (cv != NULL) {
        if (ngx_http_complex_value(r, cv, &v) != NGX_OK) {
            return NGX_HTTP_RBAC_STEP_ERROR;
        }

    } else if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        ngx_str_set(&v, "read");

    } else if (r->method & NGX_HTTP_POST) {
        ngx_str_set(&v, "create");

    } else if (r->method & (NGX_HTTP_PUT|NGX_HTTP_PATCH)) {
        ngx_str_set(&v, "update");

    } else if (r->method & NGX_HTTP_DELETE) {
        ngx_str_set(&v, "delete");

    } else {
        return ngx_http_rbac_deny(ctx, NGX_HTTP_FORBIDDEN,
                                  "method not mapped to an action");
    }

    *action = rbac_action_from_name(ngx_http_rbac_vstr(v));

    if (*action == RBAC_A_OTHER) {
        s.len = sizeof("unknown action \"\"") - 1 + ngx_min(v.len, 64);
        s.data = ngx_pnalloc(r->pool, s.len);
        if (s.data == NULL) {
            return NGX_HTTP_RBAC_STEP_ERROR;
        }

        ngx_sprintf(s.data, "unknown action \"%*s\"", ngx_min(v.len, 64),
                    v.data);

        return ngx_http_rbac_deny_str(ctx, NGX_HTTP_FORBIDDEN, &s);
    }

    return NGX_HTTP_RBAC_STEP_NEXT;
}


/*
 * $rbac_roles and X-Rbac-Roles: site roles, then the roles held in the
 * object's org, each name encoded by rbac_hdr_encode, joined with ','.
 */
static ngx_int_t
ngx_http_rbac_roles_var(ngx_http_request_t *r, ngx_http_rbac_ctx_t *ctx,
    rbac_subject_t *s, rbac_str_t org)
{
    u_char                    *p;
    size_t                     len;
    ngx_uint_t                 i, j, pass;
    rbac_str_t                 name;
    const rbac_subject_org_t  *so;

    len = 0;
    p = NULL;

    for (pass = 0; pass < 2; pass++) {

        for (i = 0; i < s->nsite_roles + s->norgs; i++) {

            if (i < s->nsite_roles) {
                so = NULL;

            } else {
                so = &s->orgs[i - s->nsite_roles];

                if (org.len == 0 || !rbac_str_eq(so->org, org)) {
                    continue;
                }
            }

            for (j = 0; j < (so != NULL ? so->nroles : 1); j++) {
                name.data = (so != NULL) ? so->roles[j]->name
                                         : s->site_roles[i]->name;
                name.len = ngx_strlen(name.data);

                if (pass == 0) {
                    len += rbac_hdr_encode(name, NULL) + 1;
                    continue;
                }

                if (p != ctx->var_roles.data) {
                    *p++ = ',';
                }

                p += rbac_hdr_encode(name, (char *) p);
            }
        }

        if (pass == 0) {
            if (len == 0) {
                return NGX_OK;
            }

            p = ngx_pnalloc(r->pool, len);
            if (p == NULL) {
                return NGX_ERROR;
            }

            ctx->var_roles.data = p;
        }
    }

    ctx->var_roles.len = p - ctx->var_roles.data;

    return NGX_OK;
}


/* A record already fetched, or NULL; never wants anything. */
static void *
ngx_http_rbac_peek(ngx_http_rbac_ctx_t *ctx, u_char *buf, const char *kind,
    ngx_str_t *a, ngx_str_t *b)
{
    u_char      *p;
    ngx_str_t    key;
    ngx_uint_t   fetched;

    if (a->len > RBAC_MAX_NAME || (b != NULL && b->len > RBAC_MAX_NAME)) {
        return NULL;
    }

    key.data = buf;
    p = ngx_cpymem(buf, kind, ngx_strlen(kind));
    p = ngx_cpymem(p, a->data, a->len);

    if (b != NULL) {
        *p++ = ':';
        p = ngx_cpymem(p, b->data, b->len);
    }

    key.len = p - buf;

    return ngx_http_rbac_record(ctx, &key, &fetched);
}


static const rbac_org_rec_t *
ngx_http_rbac_org_cb(void *ud, rbac_str_t org)
{
    ngx_http_rbac_resolve_t *res = ud;

    ngx_str_t  o;

    o = ngx_http_rbac_nstr(org);

    return ngx_http_rbac_peek(res->ctx, res->buf, "org:", &o, NULL);
}


static const rbac_role_t *
ngx_http_rbac_role_cb(void *ud, rbac_str_t org, rbac_str_t name)
{
    ngx_http_rbac_resolve_t *res = ud;

    ngx_str_t         o, n;
    rbac_role_rec_t  *rec;

    o = ngx_http_rbac_nstr(org);
    n = ngx_http_rbac_nstr(name);

    if (org.len) {
        rec = ngx_http_rbac_peek(res->ctx, res->buf, "role:", &o, &n);

    } else {
        rec = ngx_http_rbac_peek(res->ctx, res->buf, "siterole:", &n, NULL);
    }

    return rec != NULL ? &rec->role : NULL;
}


/* A 401, 403 or 503 (or 400) with its reason: DECIDED, or ERROR. */
static ngx_http_rbac_step_e
ngx_http_rbac_deny(ngx_http_rbac_ctx_t *ctx, ngx_int_t status,
    const char *reason)
{
    ngx_str_t  s;

    s.len = ngx_strlen(reason);
    s.data = ngx_pnalloc(ctx->request->pool, s.len);
    if (s.data == NULL) {
        return NGX_HTTP_RBAC_STEP_ERROR;
    }

    ngx_memcpy(s.data, reason, s.len);

    return ngx_http_rbac_deny_str(ctx, status, &s);
}


static ngx_http_rbac_step_e
ngx_http_rbac_deny_str(ngx_http_rbac_ctx_t *ctx, ngx_int_t status,
    ngx_str_t *reason)
{
    ctx->status = status;
    ctx->reason = *reason;

    return NGX_HTTP_RBAC_STEP_DECIDED;
}


/* Posted by the reply callback, or fired by the timer: resume the request. */
static void
ngx_http_rbac_wake(ngx_event_t *ev)
{
    ngx_connection_t     *c;
    ngx_http_request_t   *r;
    ngx_http_rbac_ctx_t  *ctx;

    ctx = ev->data;
    r = ctx->request;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    if (ev->timedout) {
        ev->timedout = 0;

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                       "rbac: redis did not answer in time");

        ngx_http_rbac_fetch_cancel(ctx);
        ctx->redis_error = 1;
    }

    ctx->waiting = 0;

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        ngx_http_run_posted_requests(c);
        return;
    }

    r->read_event_handler = ngx_http_block_reading;
    r->write_event_handler = ngx_http_core_run_phases;

    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


/*
 * After an internal redirect nginx has dropped the module's context; the
 * pool cleanup that ngx_http_rbac_ctx_create registered still holds it.
 */
static ngx_http_rbac_ctx_t *
ngx_http_rbac_ctx_find(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_rbac_cleanup) {
            return cln->data;
        }
    }

    return NULL;
}


/* The request ends, however: nothing of it may be touched afterwards. */
static void
ngx_http_rbac_cleanup(void *data)
{
    ngx_http_rbac_ctx_t  *ctx = data;

    ngx_http_rbac_fetch_cancel(ctx);

    if (ctx->wake.timer_set) {
        ngx_del_timer(&ctx->wake);
    }

    if (ctx->wake.posted) {
        ngx_delete_posted_event(&ctx->wake);
    }
}
