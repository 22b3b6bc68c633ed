/*
 * rbac_siphash.h: SipHash-2-4 and SipHash-1-3, keyed 64-bit hashes for tables
 * whose keys a client chooses (the module's decision memo): without the key
 * nobody can predict which keys collide.
 */

#ifndef RBAC_SIPHASH_H
#define RBAC_SIPHASH_H

#include <stddef.h>
#include <stdint.h>


typedef struct {
    uint64_t  k0;
    uint64_t  k1;
} rbac_siphash_key_t;


/* The SipHash-2-4 of len bytes at p under key (the key's 16 bytes as two
 * little-endian words). */
uint64_t rbac_siphash(const rbac_siphash_key_t *key, const void *p, size_t len);

/* The same with one compression and three finalization rounds. */
uint64_t rbac_siphash13(const rbac_siphash_key_t *key, const void *p,
    size_t len);


#endif /* RBAC_SIPHASH_H */
