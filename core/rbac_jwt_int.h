/*
 * rbac_jwt_int.h: the key set's layout, shared by rbac_jwt_key.c (which
 * builds it), rbac_jwks.c (which fills it from a JWKS) and rbac_jwt.c
 * (which verifies with it), and the base64url codec.  Not part of the API.
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


/* 1 if p[0..len) is unpadded base64url of a whole number of bytes. */
int rbac_jwt_b64_valid(const char *p, size_t len);

/* Decodes validated base64url; out has room for len * 3 / 4 bytes. */
size_t rbac_jwt_b64_decode(const char *p, size_t len, uint8_t *out);


#endif /* RBAC_JWT_INT_H */
