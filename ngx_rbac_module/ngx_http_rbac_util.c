
/*
 * ngx_http_rbac_util.c: helpers every other file may call and that call
 * none of them: a file read at configuration time, and the allocators
 * core/ is given (request pool or worker heap).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_rbac_module.h"


/* Reads a whole file at configuration time (name relative to the prefix). */
ngx_int_t
ngx_http_rbac_read_file(ngx_conf_t *cf, ngx_str_t *name, size_t max,
    ngx_str_t *out)
{
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_err_t        err;
    ngx_file_info_t  fi;

    if (ngx_conf_full_name(cf->cycle, name, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    fd = ngx_open_file(name->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", name);
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        err = ngx_errno;
        ngx_close_file(fd);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, err,
                           ngx_fd_info_n " \"%V\" failed", name);
        return NGX_ERROR;
    }

    if ((size_t) ngx_file_size(&fi) > max) {
        ngx_close_file(fd);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "file \"%V\" is larger than %uz bytes", name, max);
        return NGX_ERROR;
    }

    out->len = (size_t) ngx_file_size(&fi);
    out->data = ngx_pnalloc(cf->pool, out->len + 1);
    if (out->data == NULL) {
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    n = ngx_read_fd(fd, out->data, out->len);
    err = ngx_errno;
    ngx_close_file(fd);

    if (n < 0 || (size_t) n != out->len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, n < 0 ? err : 0,
                           ngx_read_fd_n " \"%V\" failed", name);
        return NGX_ERROR;
    }

    out->data[out->len] = '\0';

    return NGX_OK;
}


void *
ngx_http_rbac_palloc(void *ud, size_t size)
{
    return ngx_palloc(ud, size);
}


void
ngx_http_rbac_pfree(void *ud, void *p)
{
    /* pool memory goes with the request */
}


void *
ngx_http_rbac_heap_alloc(void *ud, size_t size)
{
    return ngx_alloc(size, ud);
}


void
ngx_http_rbac_heap_free(void *ud, void *p)
{
    ngx_free(p);
}
