/*
 * rbac_jwt_int.h: the key set's layout, shared by rbac_jwt_key.c (which
 * builds it) and rbac_jwt.c (which verifies with it).  Not part of the API.
 */

#ifndef RBAC_JWT_INT_H
#define RBAC_JWT_INT_H

#include "rbac_jwt.h"


typedef struct rbac_jwt_key_s  rbac_jwt_key_t;

/* One key: a single allocation holding the node, its kid and its bytes. */
struct rbac_jwt_key_s {
    rbac_jwt_key_t     *next;
    rbac_jwt_alg_t      alg;
    size_t              kid_len;        /* 0: no kid */
    const char         *kid;
    size_t              len;
    const uint8_t      *key;            /* NUL-terminated copy */
};

struct rbac_jwt_keyset_s {
    rbac_allocator_t    alloc;
    rbac_jwt_key_t     *head;
    rbac_jwt_key_t     *tail;
    size_t              n;
};


#endif /* RBAC_JWT_INT_H */
