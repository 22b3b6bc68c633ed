
/*
 * ngx_http_rbac_redis.c: the per-worker command connection to Redis.
 *
 * One link per worker (ngx_http_rbac_link.h: nginx's own connection,
 * resolver and TLS; hiredis only formats commands and parses replies).
 * Connect and reconnect run from cancelable
 * timers (exponential backoff with jitter: first retry within 100 ms,
 * capped at 2 s); AUTH and SELECT are queued right after connecting; a
 * health timer drops a connection that stopped answering.  Requests never
 * own a command: each gets a worker-owned pending struct they can detach
 * from (see ngx_http_rbac_redis.h).
 *
 * The same code runs each worker's subscriber: a second connection that
 * SUBSCRIBEs to <prefix>inv after every connect and hands each message to
 * the cache.  Every (re)subscription is reported too, as a NULL message:
 * messages may have been lost while it was away.
 *
 * With `error_log ... debug` each step is logged: connecting, connected,
 * AUTH and SELECT done, ready (PING answered) or subscribed, closed and
 * why, the next retry, and what the sentinels said.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_rbac_module.h"


#define NGX_HTTP_RBAC_BACKOFF_MIN     100
#define NGX_HTTP_RBAC_BACKOFF_MAX     2000
#define NGX_HTTP_RBAC_CONNECT_TIMEOUT 1000
#define NGX_HTTP_RBAC_HEALTH_PERIOD   1000

/* Which connection a debug message is about. */
#define ngx_http_rbac_redis_role(rd)                                         \
    ((rd)->on_message ? "subscriber" : "commands")


struct ngx_http_rbac_redis_s {
    ngx_http_rbac_redis_conf_t  *conf;
    ngx_http_rbac_link_t        *link;
    ngx_log_t                   *log;
    ngx_event_t                  connect_timer;
    ngx_event_t                  retry_timer;
    ngx_event_t                  health_timer;
    ngx_msec_t                   backoff;
    ngx_msec_t                   progress;     /* last reply, or first send */
    ngx_uint_t                   connected;
    ngx_uint_t                   inflight;
    ngx_uint_t                   failures;
    ngx_http_rbac_message_pt     on_message;   /* subscriber only */
    void                        *msg_data;
    ngx_uint_t                   subscribed;
    ngx_http_rbac_sentinel_t    *sentinel;     /* or NULL */
};


static void ngx_http_rbac_redis_connect(ngx_http_rbac_redis_t *rd);
static void ngx_http_rbac_redis_close(ngx_http_rbac_redis_t *rd);
static void ngx_http_rbac_redis_schedule(ngx_http_rbac_redis_t *rd);
static void ngx_http_rbac_redis_failed(ngx_http_rbac_redis_t *rd,
    const char *what, const char *why);
static void ngx_http_rbac_redis_recovered(ngx_http_rbac_redis_t *rd);
static void ngx_http_rbac_redis_ping_reply(ngx_http_rbac_link_t *lk,
    redisReply *rp, void *data);
static void ngx_http_rbac_redis_on_state(ngx_http_rbac_link_t *lk,
    ngx_int_t rc, const char *why, void *data);
static void ngx_http_rbac_redis_on_connect(ngx_http_rbac_redis_t *rd);
static void ngx_http_rbac_redis_on_disconnect(ngx_http_rbac_redis_t *rd,
    const char *why);
static void ngx_http_rbac_redis_setup_reply(ngx_http_rbac_link_t *lk,
    redisReply *rp, void *data);
static void ngx_http_rbac_redis_reply(ngx_http_rbac_link_t *lk,
    redisReply *rp, void *data);
static void ngx_http_rbac_redis_retry_handler(ngx_event_t *ev);
static void ngx_http_rbac_redis_connect_timeout(ngx_event_t *ev);
static void ngx_http_rbac_redis_health(ngx_event_t *ev);
static void ngx_http_rbac_redis_state(ngx_http_rbac_redis_t *rd,
    ngx_uint_t connected);
static void ngx_http_rbac_redis_message(ngx_http_rbac_link_t *lk,
    redisReply *rp, void *data);
static void ngx_http_rbac_redis_sentinel(void *data, ngx_int_t rc);


ngx_http_rbac_redis_t *
ngx_http_rbac_redis_create(ngx_cycle_t *cycle,
    ngx_http_rbac_redis_conf_t *conf)
{
    return ngx_http_rbac_redis_subscribe(cycle, conf, NULL, NULL);
}


/* With a handler, the subscriber: SUBSCRIBE goes out on every connect. */
ngx_http_rbac_redis_t *
ngx_http_rbac_redis_subscribe(ngx_cycle_t *cycle,
    ngx_http_rbac_redis_conf_t *conf, ngx_http_rbac_message_pt handler,
    void *data)
{
    ngx_http_rbac_peer_t    peer;
    ngx_http_rbac_redis_t  *rd;

    rd = ngx_pcalloc(cycle->pool, sizeof(ngx_http_rbac_redis_t));
    if (rd == NULL) {
        return NULL;
    }

    /* what the sentinels' links share with the master's */
    ngx_memzero(&peer, sizeof(ngx_http_rbac_peer_t));
    peer.tls = conf->tls;
    peer.resolver = conf->resolver;
    peer.resolver_timeout = conf->resolver_timeout;

    rd->conf = conf;
    rd->on_message = handler;
    rd->msg_data = data;
    rd->log = cycle->log;
    rd->backoff = NGX_HTTP_RBAC_BACKOFF_MIN;

    rd->connect_timer.handler = ngx_http_rbac_redis_connect_timeout;
    rd->connect_timer.data = rd;
    rd->connect_timer.log = cycle->log;
    rd->connect_timer.cancelable = 1;

    rd->retry_timer.handler = ngx_http_rbac_redis_retry_handler;
    rd->retry_timer.data = rd;
    rd->retry_timer.log = cycle->log;
    rd->retry_timer.cancelable = 1;

    rd->health_timer.handler = ngx_http_rbac_redis_health;
    rd->health_timer.data = rd;
    rd->health_timer.log = cycle->log;
    rd->health_timer.cancelable = 1;

    if (conf->sentinel != NULL) {
        rd->sentinel = ngx_http_rbac_sentinel_create(cycle, conf->sentinel,
                           conf->timeout, &peer, ngx_http_rbac_redis_sentinel,
                           rd);
        if (rd->sentinel == NULL) {
            return NULL;
        }
    }

    ngx_http_rbac_redis_connect(rd);

    ngx_add_timer(&rd->health_timer, NGX_HTTP_RBAC_HEALTH_PERIOD);

    return rd;
}


/* Up or down, also for rbac_status (this worker's slot). */
static void
ngx_http_rbac_redis_state(ngx_http_rbac_redis_t *rd, ngx_uint_t connected)
{
    rd->connected = connected;

    if (rd->on_message == NULL) {
        ngx_http_rbac_stat_worker(NGX_HTTP_RBAC_W_CONNECTED, connected);
        return;
    }

    if (!connected && rd->subscribed) {
        /* from now on messages are lost: what the cache holds is doubtful */
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                       "rbac redis %V subscriber: unsubscribed",
                       &rd->conf->name);

        rd->subscribed = 0;
        ngx_http_rbac_stat_worker(NGX_HTTP_RBAC_W_SUBSCRIBED, 0);
        rd->on_message(rd->msg_data, NULL, 0);
    }
}

void
ngx_http_rbac_redis_destroy(ngx_http_rbac_redis_t *rd)
{
    if (rd == NULL) {
        return;
    }

    if (rd->retry_timer.timer_set) {
        ngx_del_timer(&rd->retry_timer);
    }

    if (rd->health_timer.timer_set) {
        ngx_del_timer(&rd->health_timer);
    }

    ngx_http_rbac_redis_close(rd);
    ngx_http_rbac_sentinel_destroy(rd->sentinel);
}


static void
ngx_http_rbac_redis_connect(ngx_http_rbac_redis_t *rd)
{
    u_char                       db[NGX_INT_T_LEN];
    size_t                       argvlen[2];
    const char                  *argv[2];
    ngx_http_rbac_peer_t         peer;
    ngx_http_rbac_link_t        *lk;
    ngx_http_rbac_redis_conf_t  *conf;

    conf = rd->conf;

    ngx_memzero(&peer, sizeof(ngx_http_rbac_peer_t));

    peer.host = conf->host;
    peer.port = (in_port_t) conf->port;
    peer.unix_path = conf->unix_path;
    peer.tls = conf->tls;
    peer.resolver = conf->resolver;
    peer.resolver_timeout = conf->resolver_timeout;

    /* every connect asks the sentinels; ngx_http_rbac_redis_sentinel() */
    if (rd->sentinel != NULL
        && ngx_http_rbac_sentinel_master(rd->sentinel, &peer.host, &peer.port)
           != NGX_OK)
    {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                       "rbac redis %V %s: connect waits for the sentinels",
                       &rd->conf->name, ngx_http_rbac_redis_role(rd));
        return;
    }

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                   "rbac redis %V %s: connecting to %V port %d",
                   &rd->conf->name, ngx_http_rbac_redis_role(rd),
                   peer.unix_path.len ? &peer.unix_path : &peer.host,
                   (int) peer.port);

    lk = ngx_http_rbac_link_open(&peer, ngx_http_rbac_redis_on_state, rd,
                                 rd->log);
    if (lk == NULL) {
        ngx_http_rbac_redis_failed(rd, "connect", "out of memory");
        ngx_http_rbac_redis_schedule(rd);
        return;
    }

    rd->link = lk;
    ngx_http_rbac_redis_state(rd, 0);

    /* queued now, sent once connected (and TLS verified) */

    if (conf->password.len) {
        (void) ngx_http_rbac_link_auth(lk, &conf->user, &conf->password,
                                       ngx_http_rbac_redis_setup_reply,
                                       (void *) "AUTH");
    }

    if (conf->db) {
        argv[0] = "SELECT";
        argvlen[0] = 6;
        argv[1] = (const char *) db;
        argvlen[1] = ngx_sprintf(db, "%ui", conf->db) - db;

        (void) ngx_http_rbac_link_send(lk, ngx_http_rbac_redis_setup_reply,
                                       (void *) "SELECT", 2, argv, argvlen);
    }

    if (rd->sentinel != NULL) {
        ngx_http_rbac_sentinel_role(rd->sentinel, lk);
    }

    ngx_add_timer(&rd->connect_timer, ngx_max(NGX_HTTP_RBAC_CONNECT_TIMEOUT,
                                              conf->timeout));
}


/*
 * Intentional close (timers, exit_process, a failed AUTH), also from a
 * handler of the link.  Pending commands get a NULL reply.
 */
static void
ngx_http_rbac_redis_close(ngx_http_rbac_redis_t *rd)
{
    ngx_http_rbac_link_t  *lk;

    if (rd->connect_timer.timer_set) {
        ngx_del_timer(&rd->connect_timer);
    }

    lk = rd->link;
    if (lk == NULL) {
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                   "rbac redis %V %s: closed", &rd->conf->name,
                   ngx_http_rbac_redis_role(rd));

    rd->link = NULL;
    ngx_http_rbac_redis_state(rd, 0);

    ngx_http_rbac_link_close(lk);
}


static void
ngx_http_rbac_redis_schedule(ngx_http_rbac_redis_t *rd)
{
    ngx_msec_t  delay;

    if (ngx_exiting || ngx_quit || ngx_terminate || rd->retry_timer.timer_set)
    {
        return;
    }

    /* jitter: somewhere in the upper half of the current backoff */
    delay = rd->backoff / 2 + (ngx_msec_t) ngx_random() % (rd->backoff / 2 + 1);

    rd->backoff = ngx_min(rd->backoff * 2, NGX_HTTP_RBAC_BACKOFF_MAX);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                   "rbac redis %V %s: next connect in %M ms",
                   &rd->conf->name, ngx_http_rbac_redis_role(rd), delay);

    ngx_add_timer(&rd->retry_timer, delay);
}


/* The first failure in a row is an error; repeats are info (no flood). */
static void
ngx_http_rbac_redis_failed(ngx_http_rbac_redis_t *rd, const char *what,
    const char *why)
{
    ngx_uint_t  level;

    level = rd->failures++ ? NGX_LOG_INFO : NGX_LOG_ERR;

    ngx_log_error(level, rd->log, 0, "rbac: redis %V %s failed: %s",
                  &rd->conf->name, what, why);
}


/* The link is up, or failed (it is freed after this returns). */
static void
ngx_http_rbac_redis_on_state(ngx_http_rbac_link_t *lk, ngx_int_t rc,
    const char *why, void *data)
{
    ngx_http_rbac_redis_t  *rd = data;

    if (rd->link != lk) {
        return;
    }

    if (rc == NGX_OK) {
        ngx_http_rbac_redis_on_connect(rd);
        return;
    }

    ngx_http_rbac_redis_on_disconnect(rd, why);
}


static void
ngx_http_rbac_redis_on_connect(ngx_http_rbac_redis_t *rd)
{
    size_t       argvlen[2];
    const char  *argv[2];
    u_char       channel[256];

    if (rd->connect_timer.timer_set) {
        ngx_del_timer(&rd->connect_timer);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                   "rbac redis %V %s: connected", &rd->conf->name,
                   ngx_http_rbac_redis_role(rd));

    ngx_http_rbac_redis_state(rd, 1);

    /*
     * a connect is not a recovery: a server that accepts and then drops
     * every connection would otherwise reset the backoff and log an error
     * on every retry; the command connection has recovered once Redis
     * answers (a PING queued behind AUTH and SELECT)
     */

    if (rd->on_message == NULL) {
        argv[0] = "PING";
        argvlen[0] = 4;

        if (ngx_http_rbac_link_send(rd->link, ngx_http_rbac_redis_ping_reply,
                                    rd, 1, argv, argvlen)
            != NGX_OK)
        {
            ngx_http_rbac_redis_failed(rd, "PING", "out of memory");
        }

        return;
    }

    /*
     * the subscriber has recovered only once subscribed: a SUBSCRIBE that
     * is refused (an ACL without the channel) makes hiredis drop the
     * connection, and the retries back off as for a failed connect; one
     * that is never confirmed is dropped by the health check
     */

    rd->progress = ngx_current_msec;

    argv[0] = "SUBSCRIBE";
    argvlen[0] = 9;
    argv[1] = (const char *) channel;
    argvlen[1] = ngx_snprintf(channel, sizeof(channel), "%Vinv",
                              &rd->conf->prefix) - channel;

    /* the confirmation answers SUBSCRIBE, the messages answer nothing */
    ngx_http_rbac_link_push(rd->link, ngx_http_rbac_redis_message, rd);

    if (ngx_http_rbac_link_send(rd->link, ngx_http_rbac_redis_message, rd,
                                2, argv, argvlen)
        != NGX_OK)
    {
        ngx_http_rbac_redis_failed(rd, "SUBSCRIBE", "out of memory");
    }
}


static void
ngx_http_rbac_redis_ping_reply(ngx_http_rbac_link_t *lk, redisReply *rp,
    void *data)
{
    ngx_http_rbac_redis_t  *rd = data;

    if (rp != NULL && rp->type != REDIS_REPLY_ERROR && rd->link == lk) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                       "rbac redis %V commands: ready (PING answered)",
                       &rd->conf->name);

        ngx_http_rbac_redis_recovered(rd);
    }
}


static void
ngx_http_rbac_redis_recovered(ngx_http_rbac_redis_t *rd)
{
    if (rd->failures) {
        ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                      "rbac: redis %V connected", &rd->conf->name);
    }

    rd->failures = 0;
    rd->backoff = NGX_HTTP_RBAC_BACKOFF_MIN;
}


/*
 * The subscriber's replies: the confirmation of SUBSCRIBE (messages may
 * have been lost before it: a NULL message), then one per PUBLISH.
 */
static void
ngx_http_rbac_redis_message(ngx_http_rbac_link_t *lk, redisReply *rp,
    void *data)
{
    redisReply             *kind, *msg;
    ngx_http_rbac_redis_t  *rd = data;

    if (rp == NULL || rd->link != lk) {
        return;
    }

    if (rp->type == REDIS_REPLY_ERROR) {
        /* refused (an ACL without the channel): retry, backing off */
        ngx_http_rbac_redis_failed(rd, "SUBSCRIBE", rp->str);
        ngx_http_rbac_redis_close(rd);
        ngx_http_rbac_redis_schedule(rd);
        return;
    }

    if (rp->type != REDIS_REPLY_ARRAY || rp->elements != 3
        || rp->element[0]->type != REDIS_REPLY_STRING)
    {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "rbac: redis %V: unexpected reply to SUBSCRIBE",
                      &rd->conf->name);
        return;
    }

    kind = rp->element[0];
    msg = rp->element[2];

    if (kind->len == 9 && ngx_strncmp(kind->str, "subscribe", 9) == 0) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                       "rbac redis %V subscriber: subscribed to %Vinv",
                       &rd->conf->name, &rd->conf->prefix);

        ngx_http_rbac_redis_recovered(rd);
        rd->subscribed = 1;
        ngx_http_rbac_stat_worker(NGX_HTTP_RBAC_W_SUBSCRIBED, 1);
        rd->on_message(rd->msg_data, NULL, 0);
        return;
    }

    if (kind->len == 7 && ngx_strncmp(kind->str, "message", 7) == 0
        && msg->type == REDIS_REPLY_STRING)
    {
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                       "rbac redis %V subscriber: message \"%*s\"",
                       &rd->conf->name, ngx_min((size_t) msg->len, 200),
                       msg->str);

        rd->on_message(rd->msg_data, (u_char *) msg->str, msg->len);
    }
}


static void
ngx_http_rbac_redis_on_disconnect(ngx_http_rbac_redis_t *rd,
    const char *why)
{
    ngx_uint_t  connected;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                   "rbac redis %V %s: closed: %s", &rd->conf->name,
                   ngx_http_rbac_redis_role(rd), why);

    /* the link is freed after this returns */
    connected = rd->connected;
    rd->link = NULL;
    ngx_http_rbac_redis_state(rd, 0);

    if (rd->connect_timer.timer_set) {
        ngx_del_timer(&rd->connect_timer);
    }

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    ngx_http_rbac_redis_failed(rd, connected ? "connection" : "connect",
                               why);
    ngx_http_rbac_redis_schedule(rd);
}


static void
ngx_http_rbac_redis_setup_reply(ngx_http_rbac_link_t *lk, redisReply *rp,
    void *data)
{
    ngx_http_rbac_redis_t  *rd;

    if (rp == NULL) {
        return;
    }

    rd = ngx_http_rbac_link_data(lk);

    if (rp->type != REDIS_REPLY_ERROR) {
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                       "rbac redis %V %s: %s done", &rd->conf->name,
                       ngx_http_rbac_redis_role(rd), (char *) data);
        return;
    }

    if (rd->link != lk) {
        return;
    }

    /* hiredis ends every reply string with a NUL */
    ngx_http_rbac_redis_failed(rd, data, rp->str);

    /* a wrong password or db stays wrong: retry slowly */
    rd->backoff = NGX_HTTP_RBAC_BACKOFF_MAX;
    ngx_http_rbac_redis_close(rd);
    ngx_http_rbac_redis_schedule(rd);
}


static void
ngx_http_rbac_redis_reply(ngx_http_rbac_link_t *lk, redisReply *rp,
    void *data)
{
    ngx_http_rbac_redis_t    *rd;
    ngx_http_rbac_pending_t  *p;

    p = data;
    rd = p->redis;

    rd->inflight--;
    rd->progress = ngx_current_msec;
    ngx_http_rbac_stat_worker(NGX_HTTP_RBAC_W_INFLIGHT, rd->inflight);

    if (rp != NULL && rp->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "rbac: redis %V MGET failed: %*s",
                      &rd->conf->name, (size_t) rp->len, rp->str);
        rp = NULL;
    }

    if (p->data != NULL) {
        p->handler(p->data, rp);
    }

    ngx_free(p);
}


ngx_http_rbac_pending_t *
ngx_http_rbac_redis_mget(ngx_http_rbac_redis_t *rd, ngx_str_t *keys,
    ngx_uint_t n, ngx_http_rbac_reply_pt handler, void *data, ngx_log_t *log)
{
    ngx_int_t                 rc;
    u_char                   *buf, *b;
    size_t                    size, *argvlen;
    ngx_uint_t                i;
    const char              **argv;
    ngx_http_rbac_pending_t  *p;

    if (rd == NULL || rd->link == NULL) {
        return NULL;
    }

    if (rd->inflight >= NGX_HTTP_RBAC_REDIS_MAX_INFLIGHT) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "rbac: redis %V: %ui commands in flight, refusing more",
                      &rd->conf->name, rd->inflight);
        return NULL;
    }

    size = (n + 1) * (sizeof(char *) + sizeof(size_t));
    for (i = 0; i < n; i++) {
        size += rd->conf->prefix.len + keys[i].len;
    }

    buf = ngx_alloc(size, log);
    if (buf == NULL) {
        return NULL;
    }

    argv = (const char **) buf;
    argvlen = (size_t *) (buf + (n + 1) * sizeof(char *));
    b = buf + (n + 1) * (sizeof(char *) + sizeof(size_t));

    argv[0] = "MGET";
    argvlen[0] = 4;

    for (i = 0; i < n; i++) {
        argv[i + 1] = (const char *) b;
        b = ngx_cpymem(b, rd->conf->prefix.data, rd->conf->prefix.len);
        b = ngx_cpymem(b, keys[i].data, keys[i].len);
        argvlen[i + 1] = rd->conf->prefix.len + keys[i].len;
    }

    p = ngx_alloc(sizeof(ngx_http_rbac_pending_t), log);
    if (p == NULL) {
        ngx_free(buf);
        return NULL;
    }

    p->handler = handler;
    p->data = data;
    p->redis = rd;

    /* the command is formatted into the link's buffer right away */
    rc = ngx_http_rbac_link_send(rd->link, ngx_http_rbac_redis_reply, p,
                                 (int) n + 1, argv, argvlen);
    ngx_free(buf);

    if (rc != NGX_OK) {
        ngx_free(p);
        return NULL;
    }

    if (rd->inflight++ == 0) {
        rd->progress = ngx_current_msec;
    }

    ngx_http_rbac_stat_worker(NGX_HTTP_RBAC_W_INFLIGHT, rd->inflight);

    return p;
}


static void
ngx_http_rbac_redis_retry_handler(ngx_event_t *ev)
{
    ngx_http_rbac_redis_t  *rd;

    rd = ev->data;

    if (rd->link == NULL) {
        ngx_http_rbac_redis_connect(rd);
    }
}


static void
ngx_http_rbac_redis_connect_timeout(ngx_event_t *ev)
{
    ngx_http_rbac_redis_t  *rd;

    rd = ev->data;

    ngx_http_rbac_redis_failed(rd, "connect", "timed out");
    ngx_http_rbac_redis_close(rd);
    ngx_http_rbac_redis_schedule(rd);
}


/*
 * A connection with commands but no reply for long is hung, as is a
 * subscriber whose SUBSCRIBE is not confirmed: replace it.
 */
static void
ngx_http_rbac_redis_health(ngx_event_t *ev)
{
    ngx_msec_t              hung;
    ngx_http_rbac_redis_t  *rd;

    rd = ev->data;

    hung = ngx_max(2000, 20 * rd->conf->timeout);

    if (rd->link != NULL && rd->connected
        && (rd->inflight || (rd->on_message != NULL && !rd->subscribed))
        && ngx_current_msec - rd->progress > hung)
    {
        ngx_http_rbac_redis_failed(rd, "connection", "not answering");
        ngx_http_rbac_redis_close(rd);
        ngx_http_rbac_redis_schedule(rd);
    }

    if (rd->sentinel != NULL && rd->connected) {
        ngx_http_rbac_sentinel_check(rd->sentinel);
    }

    if (!ngx_exiting) {
        ngx_add_timer(ev, NGX_HTTP_RBAC_HEALTH_PERIOD);
    }
}


/* What the sentinels said (ngx_http_rbac_sentinel.h); they log the why. */
static void
ngx_http_rbac_redis_sentinel(void *data, ngx_int_t rc)
{
    ngx_http_rbac_redis_t  *rd = data;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, rd->log, 0,
                   "rbac redis %V %s: the sentinels say: %s",
                   &rd->conf->name, ngx_http_rbac_redis_role(rd),
                   rc == NGX_OK ? "the master's address"
                   : rc == NGX_ERROR ? "none answered"
                   : rc == NGX_ABORT ? "it is not a master"
                   : "the master moved");

    switch (rc) {

    case NGX_OK:
        if (rd->link == NULL && !rd->retry_timer.timer_set) {
            ngx_http_rbac_redis_connect(rd);
        }
        return;

    case NGX_ERROR:
        rd->failures++;
        break;

    case NGX_ABORT:
        /* not a master: stays so until the sentinels catch up */
        rd->failures++;
        ngx_http_rbac_redis_close(rd);
        rd->backoff = NGX_HTTP_RBAC_BACKOFF_MAX;
        break;

    default: /* NGX_DECLINED: a failover, the sentinels name another node */
        ngx_http_rbac_redis_close(rd);
        rd->backoff = NGX_HTTP_RBAC_BACKOFF_MIN;
    }

    ngx_http_rbac_redis_schedule(rd);
}
