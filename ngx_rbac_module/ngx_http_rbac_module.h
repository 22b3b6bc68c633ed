
/*
 * ngx_http_rbac_module.h: types shared by the glue: configuration, the
 * per-request context, and the functions the files call across.
 */


#ifndef _NGX_HTTP_RBAC_MODULE_H_INCLUDED_
#define _NGX_HTTP_RBAC_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "rbac.h"
#include "rbac_cred.h"
#include "rbac_jwt.h"
#include "rbac_body.h"
#include "rbac_hdr.h"
#include "rbac_carrier.h"
#include "ngx_http_rbac_redis.h"
#include "ngx_http_rbac_cache.h"
#include "ngx_http_rbac_stat.h"


#define NGX_HTTP_RBAC_OFF             0
#define NGX_HTTP_RBAC_ON              1
#define NGX_HTTP_RBAC_SHADOW          2

/* rbac_token type= */
#define NGX_HTTP_RBAC_CRED_AUTO       0
#define NGX_HTTP_RBAC_CRED_JWT        1
#define NGX_HTTP_RBAC_CRED_API_TOKEN  2
#define NGX_HTTP_RBAC_CRED_PKEY       3
#define NGX_HTTP_RBAC_CRED_PKEY_BARE  4     /* Coder's: id = SHA-256 hex */

/* rbac_token: what a source reads (every copy of it, for all but VALUE) */
#define NGX_HTTP_RBAC_CARRIER_VALUE   0     /* any other value */
#define NGX_HTTP_RBAC_CARRIER_HEADER  1     /* $http_<name> */
#define NGX_HTTP_RBAC_CARRIER_COOKIE  2     /* $cookie_<name> */
#define NGX_HTTP_RBAC_CARRIER_ARG     3     /* $arg_<name> */

/* rbac_principals: a bit per rbac_kind_t */
#define NGX_HTTP_RBAC_KIND_BIT(k)     ((ngx_uint_t) 1 << (k))

#define NGX_HTTP_RBAC_MAX_ROUNDS      6
#define NGX_HTTP_RBAC_MAX_RECORDS     256
#define NGX_HTTP_RBAC_MAX_KEY         512

typedef struct {
    ngx_http_complex_value_t   value;
    ngx_uint_t                 type;         /* NGX_HTTP_RBAC_CRED_* */
    ngx_uint_t                 carrier;      /* NGX_HTTP_RBAC_CARRIER_* */
    ngx_str_t                  name;         /* of the header, cookie, arg */
    unsigned                   authorization:1;   /* $http_authorization */
} ngx_http_rbac_token_src_t;

typedef struct {
    ngx_str_t                  type_name;
    rbac_type_t                type;
    ngx_http_complex_value_t  *id;
    ngx_http_complex_value_t  *org;
    ngx_http_complex_value_t  *owner;
    rbac_refkind_t             kind[3];      /* per rbac_arg_t: "@kind:" */
    unsigned                   any_org:1;
} ngx_http_rbac_object_conf_t;

/* rbac_also: a further object, with its own action, that must be allowed */
typedef struct {
    ngx_http_rbac_object_conf_t  object;
    ngx_http_complex_value_t    *action;
} ngx_http_rbac_also_conf_t;

typedef struct {
    ngx_http_rbac_redis_conf_t  redis;
    ngx_uint_t                  redis_set;
    ngx_uint_t                  used;        /* some rbac on or shadow */
    ngx_str_t                   roles_file;
    rbac_catalog_t             *catalog;
    ngx_str_t                   catalog_text; /* in the JWT cache key */
    ngx_http_rbac_cache_t      *cache;       /* rbac_cache_zone, or NULL */
    ngx_http_rbac_redis_t      *conn;        /* per worker */
    ngx_http_rbac_redis_t      *sub;         /* per worker: rbac:inv */
    ngx_rbtree_t                flights;     /* per worker: keys in flight */
    ngx_rbtree_node_t           flight_sentinel;
    void                       *memo;        /* per worker: decisions */
    ngx_msec_t                  down_logged; /* per worker: the summary */
    ngx_uint_t                  down_refused;
    ngx_uint_t                  down_stale;
    ngx_array_t                *jwks;        /* ngx_http_rbac_jwks.c */
    ngx_rbtree_t               *classes;     /* configuration: locations */
} ngx_http_rbac_main_conf_t;

typedef struct ngx_http_rbac_carrier_plan_s  ngx_http_rbac_carrier_plan_t;

typedef struct ngx_http_rbac_loc_conf_s  ngx_http_rbac_loc_conf_t;

struct ngx_http_rbac_loc_conf_s {
    ngx_uint_t                  mode;
    ngx_array_t                *tokens;      /* ngx_http_rbac_token_src_t */
    ngx_http_rbac_carrier_plan_t *carrier;   /* tokens, read in one pass */
    rbac_jwt_keyset_t          *jwt_keys;
    ngx_array_t                *issuers;     /* ngx_str_t */
    ngx_array_t                *audiences;   /* ngx_str_t */
    ngx_msec_t                  leeway;
    void                       *verifier;    /* ngx_http_rbac_jwt.c */
    void                       *jwks;        /* rbac_jwt_key_request */
    ngx_http_rbac_object_conf_t *object;
    ngx_http_complex_value_t   *action;
    ngx_uint_t                  principals;  /* 0 = every kind */
    ngx_flag_t                  identity_headers;
    size_t                      json_body;   /* 0 = the body is not read */
    ngx_array_t                *also;        /* ngx_http_rbac_also_conf_t */
    ngx_http_complex_value_t   *app;         /* rbac_app: the app's slug */

    /* locations that decide alike (ngx_http_rbac_memo_classify) */
    ngx_http_rbac_loc_conf_t   *alike;
    ngx_http_rbac_loc_conf_t   *twin;        /* and with the same constants */
};


/* One record fetched for a request: key (no prefix) and parsed record. */
typedef struct {
    ngx_str_t                   key;
    void                       *rec;         /* NULL: the key is absent */
    unsigned                    fetched:1;
    unsigned                    waiting:1;   /* in flight */
} ngx_http_rbac_record_t;

typedef struct ngx_http_rbac_ctx_s  ngx_http_rbac_ctx_t;

/*
 * What a credential was read from (ngx_http_rbac_carrier.c): the query
 * string, and the header lines its sources may read (those of a length
 * one of their names has), folded by where each one's name and value lie,
 * with their number; a line this module adds for the upstream is folded in
 * as it is added.  Found the same after an internal redirect, the same
 * sources give the same credential.
 */
typedef struct {
    uint64_t                    headers;
    ngx_uint_t                  n;
    ngx_str_t                   args;
} ngx_http_rbac_seen_t;

/* Where a request's decision stands (ngx_http_rbac_handler.c). */
typedef enum {
    NGX_HTTP_RBAC_ST_START = 0,      /* nothing read yet but the body */
    NGX_HTTP_RBAC_ST_CREDENTIAL,     /* read, not in the memo: to check */
    NGX_HTTP_RBAC_ST_EVALUATE,       /* checked: passes over the records */
    NGX_HTTP_RBAC_ST_DONE            /* decided: later passes decline */
} ngx_http_rbac_state_e;

/* A request waiting for a key in flight (ngx_http_rbac_fetch.c). */
typedef struct ngx_http_rbac_waiter_s  ngx_http_rbac_waiter_t;

struct ngx_http_rbac_waiter_s {
    ngx_queue_t                 queue;       /* in the flight's waiters */
    ngx_http_rbac_ctx_t        *ctx;
    ngx_uint_t                  index;       /* in ctx->records */
    ngx_http_rbac_waiter_t     *next;        /* the request's waiters */
    unsigned                    linked:1;
};

struct ngx_http_rbac_ctx_s {
    ngx_http_request_t         *request;
    ngx_event_t                 wake;
    ngx_array_t                 records;     /* ngx_http_rbac_record_t, from the */
                                             /* first (ngx_http_rbac_want) */
    ngx_http_rbac_waiter_t     *waiters;
    ngx_uint_t                  nwaiting;    /* keys still in flight */
    ngx_uint_t                  rounds;

    /* credential */
    ngx_uint_t                  cred_type;
    ngx_str_t                   cred;
    ngx_uint_t                  cred_src_type;   /* its source's type= */
    ngx_http_rbac_seen_t        seen;        /* what it was read from */
    ngx_str_t                   cred_id;     /* token or key id */
    ngx_str_t                   cred_secret;
    ngx_str_t                   uid;         /* JWT sub or token's user */
    ngx_str_t                   claims;      /* JWT claims JSON text */
    ngx_str_t                   jwt_key;     /* its cache key */
    ngx_atomic_uint_t           jwt_seq;     /* cache seq when verified */
    int64_t                     jwt_exp;
    void                       *jwks;        /* ngx_http_rbac_jwks.c */
    ngx_msec_t                  born;        /* oldest record's fetch */

    /* records of the principal */
    rbac_token_rec_t           *token;
    rbac_pkey_rec_t            *pkey;
    rbac_user_rec_t            *user;
    ngx_uint_t                  need;        /* keys wanted this pass */

    /* the answer */
    ngx_http_rbac_state_e       state;
    ngx_int_t                   status;      /* 0, 401, 403, 503 */
    ngx_str_t                   reason;
    ngx_str_t                   link;        /* deprecated template */
    unsigned                    authenticated:1;
    unsigned                    waiting:1;   /* until ctx->wake resumes */
    unsigned                    redis_error:1;
    unsigned                    used_redis:1;
    unsigned                    used_stale:1;
    unsigned                    used_cache:1;
    unsigned                    malformed:1;
    unsigned                    failed:1;
    unsigned                    body_waiting:1;
    unsigned                    body_read:1;
    unsigned                    body_inline:1;   /* read in the call */
    unsigned                    hard:1;      /* refused in shadow mode too */
    unsigned                    anonymous:1; /* rbac_app, no credential */

    /* the record of the location's object, once built (rbac_app) */
    void                       *obj_rec;

    /* rbac_json_body: the body's top-level fields */
    rbac_body_t                *body;

    /* for variables and identity headers */
    ngx_str_t                   var_user;
    ngx_str_t                   var_kind;
    ngx_str_t                   var_decision;
    ngx_str_t                   var_org;
    ngx_str_t                   var_roles;

    /* the subject of a JWT: its record, IdP sync applied, once done */
    rbac_user_rec_t            *idp_user;
    unsigned                    idp_done:1;

    /* the decision memo (ngx_http_rbac_memo.c) */
    unsigned                    memo_hit:1;  /* answered from the memo */
    ngx_msec_t                  memo_at;     /* when the allow was made */
    ngx_str_t                   memo_key;    /* empty: not to be kept */
    ngx_str_t                  *memo_args;   /* id=, org=, owner= per object,
                                                as object_ctl read them */
    uint64_t                    memo_hash;
    ngx_atomic_uint_t           memo_seq;    /* cache seq before lookups */
    ngx_uint_t                  hits;        /* zone hits and misses */
    ngx_uint_t                  misses;
};


extern ngx_module_t  ngx_http_rbac_module;


static ngx_inline rbac_str_t
ngx_http_rbac_rstr(ngx_str_t s)
{
    rbac_str_t  r;

    r.data = (const char *) s.data;
    r.len = s.len;

    return r;
}


ngx_int_t ngx_http_rbac_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_rbac_post_read_handler(ngx_http_request_t *r);

/* ngx_http_rbac_util.c: calls no other file of the module */
ngx_int_t ngx_http_rbac_read_file(ngx_conf_t *cf, ngx_str_t *name,
    size_t max, ngx_str_t *out);
void *ngx_http_rbac_palloc(void *ud, size_t size);       /* ud: a pool */
void ngx_http_rbac_pfree(void *ud, void *p);
void *ngx_http_rbac_heap_alloc(void *ud, size_t size);   /* ud: a log */
void ngx_http_rbac_heap_free(void *ud, void *p);

/* ngx_http_rbac_body.c: rbac_json_body */
ngx_int_t ngx_http_rbac_read_body(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_ctx_t *ctx);
ngx_int_t ngx_http_rbac_body_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

/* ngx_http_rbac_carrier.c: the one credential of every rbac_token source */
ngx_int_t ngx_http_rbac_carrier_init(ngx_conf_t *cf,
    ngx_http_rbac_loc_conf_t *conf, ngx_http_rbac_loc_conf_t *prev);
ngx_int_t ngx_http_rbac_carrier(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_str_t *cred, ngx_uint_t *type,
    ngx_http_rbac_seen_t *seen);
ngx_uint_t ngx_http_rbac_carrier_same(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_seen_t *seen);
void ngx_http_rbac_carrier_seen(ngx_http_rbac_loc_conf_t *lcf,
    ngx_http_rbac_seen_t *seen, ngx_table_elt_t *h);

/* ngx_http_rbac_response.c */
ngx_int_t ngx_http_rbac_strip_headers(ngx_http_request_t *r);
ngx_int_t ngx_http_rbac_identity_headers(ngx_http_request_t *r,
    ngx_http_rbac_ctx_t *ctx);
ngx_int_t ngx_http_rbac_send_error(ngx_http_request_t *r,
    ngx_http_rbac_ctx_t *ctx);

/* ngx_http_rbac_fetch.c: records for keys, from the cache or Redis */
#define NGX_HTTP_RBAC_PENDING  0
#define NGX_HTTP_RBAC_PRESENT  1
#define NGX_HTTP_RBAC_ABSENT   2

/*
 * The record of prefix-less key kind [+ a [+ ":" + b]].  *state: PENDING
 * (now wanted, ctx->need counted), PRESENT or ABSENT (a or b over
 * RBAC_MAX_NAME names nothing).
 */
void *ngx_http_rbac_get(ngx_http_rbac_ctx_t *ctx, ngx_uint_t *state,
    const char *kind, ngx_str_t *a, ngx_str_t *b);
/* The same for a whole key (prefix-less, under NGX_HTTP_RBAC_MAX_KEY). */
void *ngx_http_rbac_get_key(ngx_http_rbac_ctx_t *ctx, ngx_uint_t *state,
    ngx_str_t *key);
void *ngx_http_rbac_record(ngx_http_rbac_ctx_t *ctx, ngx_str_t *key,
    ngx_uint_t *fetched);
ngx_int_t ngx_http_rbac_fetch(ngx_http_rbac_ctx_t *ctx);
ngx_int_t ngx_http_rbac_fetch_stale(ngx_http_rbac_ctx_t *ctx);
void ngx_http_rbac_note_down(ngx_http_request_t *r, ngx_uint_t stale);
void ngx_http_rbac_fetch_cancel(ngx_http_rbac_ctx_t *ctx);
void ngx_http_rbac_flights_init(ngx_http_rbac_main_conf_t *rmcf);
void ngx_http_rbac_invalidated(ngx_http_rbac_main_conf_t *rmcf,
    u_char *msg, size_t len);

/* ngx_http_rbac_ref.c: object arguments, references resolved */
ngx_int_t ngx_http_rbac_ids_check(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_ctx_t *ctx);
ngx_int_t ngx_http_rbac_object_args(ngx_http_request_t *r,
    ngx_http_rbac_ctx_t *ctx, ngx_http_rbac_object_conf_t *oc, ngx_str_t *me,
    ngx_str_t *given, ngx_str_t *args, ngx_uint_t final);

/* ngx_http_rbac_idpsync.c: IdP sync settings applied to JWT claims */
ngx_int_t ngx_http_rbac_idpsync(ngx_http_request_t *r,
    ngx_http_rbac_ctx_t *ctx);
void ngx_http_rbac_idpsync_exit(void);     /* exit_process: frees regexes */

/* ngx_http_rbac_memo.c: allows kept per worker while nothing changed */
ngx_int_t ngx_http_rbac_memo_lookup(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_ctx_t *ctx);
void ngx_http_rbac_memo_store(ngx_http_request_t *r,
    ngx_http_rbac_ctx_t *ctx);
ngx_int_t ngx_http_rbac_memo_classify(ngx_conf_t *cf,
    ngx_http_rbac_loc_conf_t *conf);
ngx_int_t ngx_http_rbac_memo_redirect(ngx_http_request_t *r,
    ngx_http_rbac_loc_conf_t *lcf, ngx_http_rbac_ctx_t *ctx);

/* ngx_http_rbac_status.c: the rbac_status handler */
char *ngx_http_rbac_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);


#endif /* _NGX_HTTP_RBAC_MODULE_H_INCLUDED_ */
