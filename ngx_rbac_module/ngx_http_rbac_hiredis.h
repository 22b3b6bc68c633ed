
/*
 * ngx_http_rbac_hiredis.h: the hiredis 0.14 async <-> nginx event loop
 * adapter, and nothing else.
 */


#ifndef _NGX_HTTP_RBAC_HIREDIS_H_INCLUDED_
#define _NGX_HTTP_RBAC_HIREDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>


/*
 * Wraps ac->c.fd in an nginx connection and installs level-triggered
 * read/write hooks.  Call it right after redisAsyncConnect*, before any
 * redisAsyncSet*Callback.  From then on the fd belongs to nginx: it is
 * closed exactly once, by ngx_close_connection() in the cleanup hook that
 * hiredis calls when the context is freed.  NGX_ERROR when the context
 * already has an adapter or worker_connections are exhausted (the caller
 * then frees the context itself).
 */
ngx_int_t ngx_http_rbac_hiredis_attach(redisAsyncContext *ac, ngx_log_t *log);


#endif /* _NGX_HTTP_RBAC_HIREDIS_H_INCLUDED_ */
