
/*
 * ngx_http_rbac_hiredis.c: the hiredis 0.14 async adapter for nginx's event
 * loop.  Level-triggered events (hiredis reads at most 16 KB per call, so an
 * edge-triggered fd would stall on a large reply); the fd is owned by the
 * nginx connection and closed exactly once, in the cleanup hook.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_rbac_hiredis.h"


static void ngx_http_rbac_hiredis_read(ngx_event_t *ev);
static void ngx_http_rbac_hiredis_write(ngx_event_t *ev);
static void ngx_http_rbac_hiredis_add_read(void *privdata);
static void ngx_http_rbac_hiredis_del_read(void *privdata);
static void ngx_http_rbac_hiredis_add_write(void *privdata);
static void ngx_http_rbac_hiredis_del_write(void *privdata);
static void ngx_http_rbac_hiredis_cleanup(void *privdata);


ngx_int_t
ngx_http_rbac_hiredis_attach(redisAsyncContext *ac, ngx_log_t *log)
{
    ngx_connection_t  *c;

    if (ac->ev.data != NULL) {
        return NGX_ERROR;
    }

    c = ngx_get_connection(ac->c.fd, log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    /* ngx_get_connection() zeroes the events; epoll's debug code logs */
    c->read->log = c->log;
    c->write->log = c->log;

    c->read->handler = ngx_http_rbac_hiredis_read;
    c->write->handler = ngx_http_rbac_hiredis_write;
    c->data = ac;

    ac->ev.addRead = ngx_http_rbac_hiredis_add_read;
    ac->ev.delRead = ngx_http_rbac_hiredis_del_read;
    ac->ev.addWrite = ngx_http_rbac_hiredis_add_write;
    ac->ev.delWrite = ngx_http_rbac_hiredis_del_write;
    ac->ev.cleanup = ngx_http_rbac_hiredis_cleanup;
    ac->ev.data = c;

    return NGX_OK;
}


static void
ngx_http_rbac_hiredis_read(ngx_event_t *ev)
{
    ngx_connection_t  *c;

    c = ev->data;

    /* the context, and c, may be gone afterwards: touch nothing */
    redisAsyncHandleRead(c->data);
}


static void
ngx_http_rbac_hiredis_write(ngx_event_t *ev)
{
    ngx_connection_t  *c;

    c = ev->data;

    redisAsyncHandleWrite(c->data);
}


static void
ngx_http_rbac_hiredis_add_read(void *privdata)
{
    ngx_connection_t  *c;

    c = privdata;

    if (!c->read->active) {
        (void) ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT);
    }
}


static void
ngx_http_rbac_hiredis_del_read(void *privdata)
{
    ngx_connection_t  *c;

    c = privdata;

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT);
    }
}


static void
ngx_http_rbac_hiredis_add_write(void *privdata)
{
    ngx_connection_t  *c;

    c = privdata;

    if (!c->write->active) {
        (void) ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT);
    }
}


static void
ngx_http_rbac_hiredis_del_write(void *privdata)
{
    ngx_connection_t  *c;

    c = privdata;

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT);
    }
}


static void
ngx_http_rbac_hiredis_cleanup(void *privdata)
{
    ngx_connection_t   *c;
    redisAsyncContext  *ac;

    c = privdata;
    ac = c->data;

    /* nginx closes the fd; redisFree() must not close it again */
    ac->c.fd = -1;
    ac->ev.data = NULL;

    ngx_close_connection(c);
}
