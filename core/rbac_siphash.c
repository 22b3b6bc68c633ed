/*
 * rbac_siphash.c: SipHash (Aumasson and Bernstein), written from the
 * paper's description: four 64-bit words of state, c compression rounds
 * per 8-byte block, d finalization rounds.  SipHash-2-4 is the paper's;
 * SipHash-1-3, half the work per block, is what hash tables keyed per
 * process commonly use (the module's decision memo).
 */

#include <assert.h>
#include <string.h>

#include "rbac_siphash.h"


#define RBAC_ROTL(x, b)  (((x) << (b)) | ((x) >> (64 - (b))))

#define RBAC_SIPROUND(v0, v1, v2, v3)                                        \
    do {                                                                      \
        v0 += v1; v1 = RBAC_ROTL(v1, 13); v1 ^= v0; v0 = RBAC_ROTL(v0, 32);   \
        v2 += v3; v3 = RBAC_ROTL(v3, 16); v3 ^= v2;                           \
        v0 += v3; v3 = RBAC_ROTL(v3, 21); v3 ^= v0;                           \
        v2 += v1; v1 = RBAC_ROTL(v1, 17); v1 ^= v2; v2 = RBAC_ROTL(v2, 32);   \
    } while (0)


/* n (0..8) bytes as a little-endian word: one load for a whole word */
static uint64_t
rbac_le64(const unsigned char *p, size_t n)
{
    size_t    i;
    uint64_t  w;

    if (n == 8) {
        memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        w = __builtin_bswap64(w);
#endif
        return w;
    }

    w = 0;

    for (i = 0; i < n; i++) {
        w |= (uint64_t) p[i] << (8 * i);
    }

    return w;
}


static uint64_t
rbac_siphash_cd(const rbac_siphash_key_t *key, const void *p, size_t len,
    unsigned c, unsigned d)
{
    size_t                i, blocks;
    unsigned              r;
    uint64_t              v0, v1, v2, v3, m;
    const unsigned char  *in;

    assert(key != NULL && (p != NULL || len == 0));

    in = p;
    v0 = key->k0 ^ 0x736f6d6570736575ULL;
    v1 = key->k1 ^ 0x646f72616e646f6dULL;
    v2 = key->k0 ^ 0x6c7967656e657261ULL;
    v3 = key->k1 ^ 0x7465646279746573ULL;

    blocks = len / 8;

    for (i = 0; i < blocks; i++) {
        m = rbac_le64(in + 8 * i, 8);
        v3 ^= m;

        for (r = 0; r < c; r++) {
            RBAC_SIPROUND(v0, v1, v2, v3);
        }

        v0 ^= m;
    }

    /* the last 0..7 bytes, with the length's low byte on top */
    m = rbac_le64(in + 8 * blocks, len % 8) | ((uint64_t) len << 56);

    v3 ^= m;

    for (r = 0; r < c; r++) {
        RBAC_SIPROUND(v0, v1, v2, v3);
    }

    v0 ^= m;

    v2 ^= 0xff;

    for (r = 0; r < d; r++) {
        RBAC_SIPROUND(v0, v1, v2, v3);
    }

    return v0 ^ v1 ^ v2 ^ v3;
}


uint64_t
rbac_siphash(const rbac_siphash_key_t *key, const void *p, size_t len)
{
    return rbac_siphash_cd(key, p, len, 2, 4);
}


/* SipHash-1-3, written out: the module is built with -O, no unrolling */
uint64_t
rbac_siphash13(const rbac_siphash_key_t *key, const void *p, size_t len)
{
    uint64_t              v0, v1, v2, v3, m;
    const unsigned char  *in, *end;

    assert(key != NULL && (p != NULL || len == 0));

    in = p;
    end = in + (len & ~(size_t) 7);
    v0 = key->k0 ^ 0x736f6d6570736575ULL;
    v1 = key->k1 ^ 0x646f72616e646f6dULL;
    v2 = key->k0 ^ 0x6c7967656e657261ULL;
    v3 = key->k1 ^ 0x7465646279746573ULL;

    for ( /* void */ ; in < end; in += 8) {
        memcpy(&m, in, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        m = __builtin_bswap64(m);
#endif
        v3 ^= m;
        RBAC_SIPROUND(v0, v1, v2, v3);
        v0 ^= m;
    }

    m = rbac_le64(in, len % 8) | ((uint64_t) len << 56);

    v3 ^= m;
    RBAC_SIPROUND(v0, v1, v2, v3);
    v0 ^= m;

    v2 ^= 0xff;
    RBAC_SIPROUND(v0, v1, v2, v3);
    RBAC_SIPROUND(v0, v1, v2, v3);
    RBAC_SIPROUND(v0, v1, v2, v3);

    return v0 ^ v1 ^ v2 ^ v3;
}
