/*
 * rbac_base.h: the vocabulary every core/ file shares: result codes, the
 * length-carrying string view, the injected allocator and the error detail
 * buffer.
 *
 * Ownership rule for all of core/: a function never keeps a pointer to an
 * argument past its return unless its comment says so; whatever it returns
 * through an allocator belongs to the caller and is freed with the same
 * allocator.  core/ never calls cJSON_InitHooks: cJSON allocates with its
 * hooks (malloc by default) and every cJSON tree core/ builds is freed before
 * the function that built it returns.  Tests install failing hooks to reach
 * cJSON's allocation failures.
 */

#ifndef RBAC_BASE_H
#define RBAC_BASE_H

#include <stddef.h>
#include <stdint.h>


typedef enum {
    RBAC_OK = 0,
    RBAC_ENOMEM,        /* the allocator said no */
    RBAC_EPARSE,        /* not JSON, or not the expected JSON shape */
    RBAC_EINVAL,        /* a field has a wrong type or value */
    RBAC_EBOUND,        /* a bound of docs/security.md §7 */
    RBAC_EUNKNOWN,      /* unknown resource type, action or role name */
    RBAC_ENOTFOUND,     /* a lookup found nothing */
    RBAC_ERESERVED,     /* a custom role uses a reserved or built-in name */
    RBAC_EESCALATION,   /* a custom role grants what its author lacks */
    RBAC_ETOKEN,        /* a credential is malformed, forged or expired */
    RBAC_EEXISTS,       /* a duplicate where one is allowed */
    RBAC_ERC_MAX
} rbac_rc_t;


typedef struct {
    const char  *data;
    size_t       len;
} rbac_str_t;

#define rbac_string(s)   { (s), sizeof(s) - 1 }
#define rbac_null_str    { NULL, 0 }


/*
 * The allocator every allocating function takes.  alloc returns NULL on
 * failure; free(NULL) is allowed.  The nginx glue passes a pool (free is a
 * no-op), rbacctl passes malloc, tests pass one that fails on the Nth call.
 */
typedef struct {
    void   *(*alloc)(void *ud, size_t size);
    void    (*free)(void *ud, void *p);
    void    *ud;
} rbac_allocator_t;


/*
 * Filled by functions that can fail for a reason worth telling a person:
 * the message names the field, role or permission at fault.
 */
#define RBAC_ERR_LEN  256

typedef struct {
    rbac_rc_t    rc;
    char         msg[RBAC_ERR_LEN];
} rbac_err_t;


/* Bounds (docs/security.md §7). */
#define RBAC_MAX_TOKEN       8192
#define RBAC_MAX_CLAIMS      65536
#define RBAC_MAX_RECORD      (1024 * 1024)
#define RBAC_MAX_LIST        1024        /* roles, orgs, groups, acl entries */
#define RBAC_MAX_NAME        128         /* role names, ids */


const char *rbac_strerror(rbac_rc_t rc);

/* Sets err->rc and a printf-style message; returns rc.  err may be NULL. */
rbac_rc_t rbac_err_set(rbac_err_t *err, rbac_rc_t rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The C library's malloc/free as an rbac_allocator_t. */
extern const rbac_allocator_t  rbac_malloc_allocator;

/* The view of the NUL-terminated string s (its bytes before the NUL). */
rbac_str_t rbac_cstr(const char *s);

int rbac_str_eq(rbac_str_t a, rbac_str_t b);
int rbac_str_eq_cstr(rbac_str_t a, const char *s);

/* 1 if s holds a control byte (below 0x20, or 0x7f; NUL included). */
int rbac_str_ctl(rbac_str_t s);


#endif /* RBAC_BASE_H */
