
/*
 * ngx_http_rbac_sentinel.c: asks Redis Sentinel where the master is.
 *
 * One query round asks the sentinels in turn, starting with the one that
 * answered last, until one gives a usable answer.  Each sentinel gets its
 * own short-lived link (ngx_http_rbac_link.h: TLS, resolver and AUTH as
 * configured) and a cancelable timer.  Nothing runs inside a link's
 * handler but bookkeeping: moving on to the next sentinel, and telling the
 * connection, happen in a posted event.  The answer may be a numeric
 * address or a host name: the master's link resolves it with nginx's
 * resolver, anew at every connect.
 *
 * Logging: a sentinel that stops answering is a warning once, then info
 * until it answers again; a round in which none answered is an error once,
 * then info; a new master address is a notice.  With `error_log ... debug`
 * every round, question, answer and ROLE check is logged too.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_rbac_sentinel.h"


#define NGX_HTTP_RBAC_SENTINEL_HOST     256


#define NGX_HTTP_RBAC_SENTINEL_TIMEOUT  500


struct ngx_http_rbac_sentinel_s {
    ngx_http_rbac_sentinel_conf_t      *conf;
    ngx_log_t                          *log;
    ngx_http_rbac_sentinel_handler_pt   handler;
    void                               *data;

    ngx_http_rbac_link_t               *link;     /* the sentinel asked */
    ngx_http_rbac_peer_t                peer;     /* TLS, resolver */
    ngx_event_t                         timer;    /* its timeout */
    ngx_event_t                         step;     /* posted: move on */
    ngx_msec_t                          timeout;
    ngx_msec_t                          checked;  /* last round started */

    ngx_uint_t                          cur;      /* sentinel asked */
    ngx_uint_t                          tried;    /* in this round */
    ngx_uint_t                          down;     /* bit per sentinel */
    ngx_uint_t                          failures; /* rounds in a row */
    ngx_uint_t                          not_master;

    /* the answer of the sentinel asked */
    u_char                              answer[NGX_HTTP_RBAC_SENTINEL_HOST];
    int                                 answer_port;

    /* the last address the sentinels gave */
    u_char                              host[NGX_HTTP_RBAC_SENTINEL_HOST];
    int                                 port;

    /* the address handed to the connection */
    u_char                              master[NGX_HTTP_RBAC_SENTINEL_HOST];
    int                                 master_port;

    unsigned                            busy:1;     /* a round runs */
    unsigned                            want:1;     /* connect waits */
    unsigned                            fresh:1;    /* host unused yet */
    unsigned                            known:1;    /* host is set */
    unsigned                            answered:1; /* answer is set */
    unsigned                            role_unchecked:1;
};


static void ngx_http_rbac_sentinel_start(ngx_http_rbac_sentinel_t *s);
static void ngx_http_rbac_sentinel_ask(ngx_http_rbac_sentinel_t *s);
static void ngx_http_rbac_sentinel_close(ngx_http_rbac_sentinel_t *s);
static void ngx_http_rbac_sentinel_done(ngx_http_rbac_sentinel_t *s,
    ngx_int_t rc);
static void ngx_http_rbac_sentinel_failed(ngx_http_rbac_sentinel_t *s,
    ngx_uint_t level, const char *fmt, const char *what, size_t len);
static void ngx_http_rbac_sentinel_state(ngx_http_rbac_link_t *lk,
    ngx_int_t rc, const char *why, void *data);
static void ngx_http_rbac_sentinel_reply(ngx_http_rbac_link_t *lk,
    redisReply *rp, void *data);
static ngx_int_t ngx_http_rbac_sentinel_parse(ngx_http_rbac_sentinel_t *s,
    redisReply *rp);
static void ngx_http_rbac_sentinel_role_reply(ngx_http_rbac_link_t *lk,
    redisReply *rp, void *data);
static void ngx_http_rbac_sentinel_timeout(ngx_event_t *ev);
static void ngx_http_rbac_sentinel_step(ngx_event_t *ev);


ngx_http_rbac_sentinel_t *
ngx_http_rbac_sentinel_create(ngx_cycle_t *cycle,
    ngx_http_rbac_sentinel_conf_t *conf, ngx_msec_t timeout,
    ngx_http_rbac_peer_t *peer, ngx_http_rbac_sentinel_handler_pt handler,
    void *data)
{
    ngx_http_rbac_sentinel_t  *s;

    s = ngx_pcalloc(cycle->pool, sizeof(ngx_http_rbac_sentinel_t));
    if (s == NULL) {
        return NULL;
    }

    s->conf = conf;
    s->peer = *peer;
    s->log = cycle->log;
    s->handler = handler;
    s->data = data;
    s->timeout = ngx_max(NGX_HTTP_RBAC_SENTINEL_TIMEOUT, timeout);

    s->timer.handler = ngx_http_rbac_sentinel_timeout;
    s->timer.data = s;
    s->timer.log = cycle->log;
    s->timer.cancelable = 1;

    s->step.handler = ngx_http_rbac_sentinel_step;
    s->step.data = s;
    s->step.log = cycle->log;

    return s;
}


void
ngx_http_rbac_sentinel_destroy(ngx_http_rbac_sentinel_t *s)
{
    if (s == NULL) {
        return;
    }

    if (s->step.posted) {
        ngx_delete_posted_event(&s->step);
    }

    ngx_http_rbac_sentinel_close(s);

    s->busy = 0;
    s->want = 0;
    s->handler = NULL;
}


ngx_int_t
ngx_http_rbac_sentinel_master(ngx_http_rbac_sentinel_t *s, ngx_str_t *host,
    in_port_t *port)
{
    if (s->fresh) {
        s->fresh = 0;

        ngx_memcpy(s->master, s->host, sizeof(s->master));
        s->master_port = s->port;
        s->checked = ngx_current_msec;

        host->data = s->master;
        host->len = ngx_strlen(s->master);
        *port = (in_port_t) s->master_port;

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, s->log, 0,
                       "rbac sentinel: master \"%V\" handed over: %s:%d",
                       &s->conf->master, s->master, s->master_port);

        return NGX_OK;
    }

    s->want = 1;

    if (!s->busy) {
        ngx_http_rbac_sentinel_start(s);
    }

    return NGX_AGAIN;
}


void
ngx_http_rbac_sentinel_role(ngx_http_rbac_sentinel_t *s,
    ngx_http_rbac_link_t *lk)
{
    size_t       argvlen[1];
    const char  *argv[1];

    argv[0] = "ROLE";
    argvlen[0] = 4;

    (void) ngx_http_rbac_link_send(lk, ngx_http_rbac_sentinel_role_reply, s,
                                   1, argv, argvlen);
}


void
ngx_http_rbac_sentinel_check(ngx_http_rbac_sentinel_t *s)
{
    if (s->busy
        || ngx_current_msec - s->checked < NGX_HTTP_RBAC_SENTINEL_RECHECK)
    {
        return;
    }

    ngx_http_rbac_sentinel_start(s);
}


static void
ngx_http_rbac_sentinel_start(ngx_http_rbac_sentinel_t *s)
{
    if (ngx_exiting || ngx_quit || ngx_terminate || s->handler == NULL) {
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, s->log, 0,
                   "rbac sentinel: round for master \"%V\"",
                   &s->conf->master);

    s->busy = 1;
    s->tried = 0;
    s->checked = ngx_current_msec;

    ngx_http_rbac_sentinel_ask(s);
}


/* Asks sentinel s->cur; any failure moves on through the posted step. */
static void
ngx_http_rbac_sentinel_ask(ngx_http_rbac_sentinel_t *s)
{
    size_t                          argvlen[3];
    const char                     *argv[3];
    ngx_http_rbac_peer_t            peer;
    ngx_http_rbac_link_t           *lk;
    ngx_http_rbac_sentinel_addr_t  *a;

    a = &s->conf->addrs[s->cur];
    s->answered = 0;

    peer = s->peer;
    peer.host = a->host;
    peer.port = (in_port_t) a->port;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, s->log, 0,
                   "rbac sentinel %V: asked", &a->name);

    lk = ngx_http_rbac_link_open(&peer, ngx_http_rbac_sentinel_state, s,
                                 s->log);
    if (lk == NULL) {
        ngx_http_rbac_sentinel_failed(s, NGX_LOG_WARN, "%*s", "out of memory",
                                      13);
        goto next;
    }

    s->link = lk;

    if (s->conf->password.len) {
        /* refused: the SENTINEL command then says why (NOAUTH) */
        (void) ngx_http_rbac_link_auth(lk, &s->conf->user,
                                       &s->conf->password, NULL, NULL);
    }

    argv[0] = "SENTINEL";
    argvlen[0] = 8;
    argv[1] = "get-master-addr-by-name";
    argvlen[1] = 23;
    argv[2] = (const char *) s->conf->master.data;
    argvlen[2] = s->conf->master.len;

    if (ngx_http_rbac_link_send(lk, ngx_http_rbac_sentinel_reply, s, 3, argv,
                                argvlen)
        != NGX_OK)
    {
        ngx_http_rbac_sentinel_failed(s, NGX_LOG_WARN, "%*s",
                                      "command refused", 15);
        ngx_http_rbac_sentinel_close(s);
        goto next;
    }

    ngx_add_timer(&s->timer, s->timeout);

    return;

next:

    ngx_post_event(&s->step, &ngx_posted_events);
}


/* Intentional close; inside a link's handler the free is deferred. */
static void
ngx_http_rbac_sentinel_close(ngx_http_rbac_sentinel_t *s)
{
    ngx_http_rbac_link_t  *lk;

    if (s->timer.timer_set) {
        ngx_del_timer(&s->timer);
    }

    lk = s->link;
    if (lk == NULL) {
        return;
    }

    s->link = NULL;

    ngx_http_rbac_link_close(lk);
}


/* The sentinel could not be reached (resolver, connect, TLS) or hung up. */
static void
ngx_http_rbac_sentinel_state(ngx_http_rbac_link_t *lk, ngx_int_t rc,
    const char *why, void *data)
{
    ngx_http_rbac_sentinel_t  *s = data;

    if (rc == NGX_OK || s->link != lk) {
        return;
    }

    /* the link is freed after this returns */
    s->link = NULL;

    if (s->timer.timer_set) {
        ngx_del_timer(&s->timer);
    }

    ngx_http_rbac_sentinel_failed(s, NGX_LOG_WARN, "%*s", why,
                                  ngx_strlen(why));

    ngx_post_event(&s->step, &ngx_posted_events);
}


static void
ngx_http_rbac_sentinel_reply(ngx_http_rbac_link_t *lk, redisReply *rp,
    void *data)
{
    ngx_http_rbac_sentinel_t  *s = data;

    if (rp == NULL || s->link != lk) {
        /* closed by us (timeout, exit), or failed: the state handler */
        return;
    }

    if (s->timer.timer_set) {
        ngx_del_timer(&s->timer);
    }

    if (ngx_http_rbac_sentinel_parse(s, rp) == NGX_OK) {
        s->answered = 1;
    }

    ngx_http_rbac_sentinel_close(s);

    ngx_post_event(&s->step, &ngx_posted_events);
}


/* The reply of SENTINEL get-master-addr-by-name: [host, port] or nil. */
static ngx_int_t
ngx_http_rbac_sentinel_parse(ngx_http_rbac_sentinel_t *s, redisReply *rp)
{
    ngx_int_t     port;
    redisReply   *h, *p;

    if (rp->type == REDIS_REPLY_ERROR) {
        ngx_http_rbac_sentinel_failed(s, NGX_LOG_WARN, "%*s", rp->str,
                                      ngx_min((size_t) rp->len, 200));
        return NGX_ERROR;
    }

    if (rp->type == REDIS_REPLY_NIL) {
        ngx_http_rbac_sentinel_failed(s, NGX_LOG_WARN,
                                      "does not know master \"%*s\"",
                                      (char *) s->conf->master.data,
                                      s->conf->master.len);
        return NGX_ERROR;
    }

    if (rp->type != REDIS_REPLY_ARRAY || rp->elements != 2
        || rp->element[0]->type != REDIS_REPLY_STRING
        || rp->element[1]->type != REDIS_REPLY_STRING)
    {
        ngx_http_rbac_sentinel_failed(s, NGX_LOG_WARN, "%*s",
                                      "unexpected reply", 16);
        return NGX_ERROR;
    }

    h = rp->element[0];
    p = rp->element[1];

    if (h->len == 0 || (size_t) h->len >= NGX_HTTP_RBAC_SENTINEL_HOST
        || ngx_strlchr((u_char *) h->str, (u_char *) h->str + h->len, ' '))
    {
        ngx_http_rbac_sentinel_failed(s, NGX_LOG_WARN,
                                      "gave the invalid host \"%*s\"",
                                      h->str, ngx_min((size_t) h->len, 256));
        return NGX_ERROR;
    }

    port = ngx_atoi((u_char *) p->str, p->len);
    if (port < 1 || port > 65535) {
        ngx_http_rbac_sentinel_failed(s, NGX_LOG_WARN,
                                      "gave the invalid port \"%*s\"",
                                      p->str, ngx_min((size_t) p->len, 32));
        return NGX_ERROR;
    }

    ngx_memcpy(s->answer, h->str, h->len);
    s->answer[h->len] = '\0';
    s->answer_port = (int) port;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, s->log, 0,
                   "rbac sentinel %V: answered %s:%d",
                   &s->conf->addrs[s->cur].name, s->answer, s->answer_port);

    if (s->down & ((ngx_uint_t) 1 << s->cur)) {
        s->down &= ~((ngx_uint_t) 1 << s->cur);
        ngx_log_error(NGX_LOG_NOTICE, s->log, 0,
                      "rbac: sentinel %V answers again",
                      &s->conf->addrs[s->cur].name);
    }

    return NGX_OK;
}


/*
 * One sentinel did not give a usable answer: a warning (or the level
 * given) the first time in a row, info afterwards.
 */
static void
ngx_http_rbac_sentinel_failed(ngx_http_rbac_sentinel_t *s, ngx_uint_t level,
    const char *fmt, const char *what, size_t len)
{
    u_char      msg[512], *last;
    ngx_uint_t  bit;

    bit = (ngx_uint_t) 1 << s->cur;

    if (s->down & bit) {
        level = NGX_LOG_INFO;
    }

    s->down |= bit;

    last = ngx_snprintf(msg, sizeof(msg), fmt, len, what);

    ngx_log_error(level, s->log, 0, "rbac: sentinel %V: %*s",
                  &s->conf->addrs[s->cur].name, last - msg, msg);
}


static void
ngx_http_rbac_sentinel_timeout(ngx_event_t *ev)
{
    ngx_http_rbac_sentinel_t  *s;

    s = ev->data;

    ngx_http_rbac_sentinel_failed(s, NGX_LOG_WARN, "%*s", "timed out", 9);
    ngx_http_rbac_sentinel_close(s);

    ngx_http_rbac_sentinel_step(&s->step);
}


/* After one sentinel: the round is over, or ask the next one. */
static void
ngx_http_rbac_sentinel_step(ngx_event_t *ev)
{
    ngx_http_rbac_sentinel_t  *s;

    s = ev->data;

    if (!s->busy) {
        return;
    }

    if (s->answered) {
        ngx_http_rbac_sentinel_done(s, NGX_OK);
        return;
    }

    s->cur = (s->cur + 1) % s->conf->naddrs;

    if (++s->tried < s->conf->naddrs
        && !(ngx_exiting || ngx_quit || ngx_terminate))
    {
        ngx_http_rbac_sentinel_ask(s);
        return;
    }

    ngx_http_rbac_sentinel_done(s, NGX_ERROR);
}


static void
ngx_http_rbac_sentinel_done(ngx_http_rbac_sentinel_t *s, ngx_int_t rc)
{
    ngx_uint_t  level, moved;

    s->busy = 0;

    if (rc == NGX_OK) {
        if (!s->known || s->port != s->answer_port
            || ngx_strcmp(s->host, s->answer) != 0)
        {
            ngx_log_error(NGX_LOG_NOTICE, s->log, 0,
                          "rbac: sentinel %V: master \"%V\" is at %s:%d",
                          &s->conf->addrs[s->cur].name, &s->conf->master,
                          s->answer, s->answer_port);
        }

        ngx_memcpy(s->host, s->answer, sizeof(s->host));
        s->port = s->answer_port;
        s->known = 1;
        s->failures = 0;

        if (s->want) {
            s->want = 0;
            s->fresh = 1;
            s->handler(s->data, NGX_OK);
            return;
        }

        /* a periodic check while connected */

        moved = s->port != s->master_port
                || ngx_strcmp(s->host, s->master) != 0;

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, s->log, 0,
                       "rbac sentinel: master \"%V\" %s",
                       &s->conf->master, moved ? "changed" : "unchanged");

        if (moved) {
            ngx_log_error(NGX_LOG_NOTICE, s->log, 0,
                          "rbac: master \"%V\" moved from %s:%d to %s:%d, "
                          "reconnecting", &s->conf->master,
                          s->master, s->master_port, s->host, s->port);
            s->fresh = 1;
            s->handler(s->data, NGX_DECLINED);
        }

        return;
    }

    level = s->failures++ ? NGX_LOG_INFO : NGX_LOG_ERR;

    ngx_log_error(level, s->log, 0,
                  "rbac: no sentinel gave the address of master \"%V\"",
                  &s->conf->master);

    if (s->want) {
        s->want = 0;
        s->handler(s->data, NGX_ERROR);
    }
}


/* ROLE on a new master connection: ["master", ...] or it is not one. */
static void
ngx_http_rbac_sentinel_role_reply(ngx_http_rbac_link_t *lk, redisReply *rp,
    void *data)
{
    ngx_http_rbac_sentinel_t  *s = data;

    ngx_uint_t   level;
    redisReply  *role;

    if (rp == NULL || s->handler == NULL) {
        /* the connection is gone: its own callbacks deal with that */
        return;
    }

    if (rp->type != REDIS_REPLY_ARRAY || rp->elements == 0
        || rp->element[0]->type != REDIS_REPLY_STRING)
    {
        /* ROLE refused (an ACL?): the sentinels' word has to do */
        if (!s->role_unchecked) {
            s->role_unchecked = 1;
            ngx_log_error(NGX_LOG_WARN, s->log, 0,
                          "rbac: cannot check the role of %s:%d with ROLE: "
                          "%*s", s->master, s->master_port,
                          rp->type == REDIS_REPLY_ERROR
                          ? ngx_min((size_t) rp->len, 200) : 16,
                          rp->type == REDIS_REPLY_ERROR
                          ? rp->str : "unexpected reply");
        }

        return;
    }

    role = rp->element[0];

    if (role->len == 6 && ngx_strncmp(role->str, "master", 6) == 0) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, s->log, 0,
                       "rbac sentinel: ROLE of %s:%d: master",
                       s->master, s->master_port);

        s->not_master = 0;
        return;
    }

    level = s->not_master++ ? NGX_LOG_INFO : NGX_LOG_ERR;

    ngx_log_error(level, s->log, 0,
                  "rbac: %s:%d, named master \"%V\" by the sentinels, is a "
                  "%*s; reconnecting", s->master, s->master_port,
                  &s->conf->master, (size_t) ngx_min(role->len, 32),
                  role->str);

    s->handler(s->data, NGX_ABORT);
}
