/*
 * rbac_base.c: result-code names, error details, the malloc allocator and
 * the small string helpers every core/ file uses.
 */

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbac_base.h"


static const char  *rbac_rc_names[RBAC_ERC_MAX] = {
    "ok",
    "out of memory",
    "malformed JSON",
    "invalid value",
    "bound exceeded",
    "unknown name",
    "not found",
    "reserved name",
    "privilege escalation",
    "invalid credential",
    "already exists",
};


const char *
rbac_strerror(rbac_rc_t rc)
{
    if ((unsigned) rc >= RBAC_ERC_MAX) {
        return "unknown error";
    }

    return rbac_rc_names[rc];
}


rbac_rc_t
rbac_err_set(rbac_err_t *err, rbac_rc_t rc, const char *fmt, ...)
{
    va_list  ap;

    assert(fmt != NULL);

    if (err == NULL) {
        return rc;
    }

    err->rc = rc;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);

    return rc;
}


static void *
rbac_malloc_alloc(void *ud, size_t size)
{
    (void) ud;
    return malloc(size);
}


static void
rbac_malloc_free(void *ud, void *p)
{
    (void) ud;
    free(p);
}


const rbac_allocator_t  rbac_malloc_allocator = {
    rbac_malloc_alloc, rbac_malloc_free, NULL
};


rbac_str_t
rbac_cstr(const char *s)
{
    rbac_str_t  r;

    assert(s != NULL);

    r.data = s;
    r.len = strlen(s);

    return r;
}


int
rbac_str_eq(rbac_str_t a, rbac_str_t b)
{
    assert(a.data != NULL || a.len == 0);
    assert(b.data != NULL || b.len == 0);

    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}


int
rbac_str_eq_cstr(rbac_str_t a, const char *s)
{
    size_t  n;

    assert(a.data != NULL || a.len == 0);
    assert(s != NULL);

    n = strlen(s);

    return a.len == n && (n == 0 || memcmp(a.data, s, n) == 0);
}


int
rbac_str_ctl(rbac_str_t s)
{
    size_t  i;

    assert(s.data != NULL || s.len == 0);

    for (i = 0; i < s.len; i++) {
        if ((unsigned char) s.data[i] < 0x20
            || (unsigned char) s.data[i] == 0x7f)
        {
            return 1;
        }
    }

    return 0;
}
