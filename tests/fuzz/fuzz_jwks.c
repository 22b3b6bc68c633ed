/*
 * fuzz_jwks.c: libFuzzer target over the JWKS reader (rbac_jwks_add):
 * the input as a JWKS document, read once with no default alg and once
 * with RS256.  Invariants: every key is reported once, in order, with a
 * kid of at most RBAC_JWT_MAX_KID bytes; the keys counted as added are
 * the keys in the set, each pinned to one of the nine algs.
 * Corpus: tests/fuzz/corpus/jwks/.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rbac_jwks.h"
#include "fuzz_util.h"


typedef struct {
    size_t  calls;
    size_t  added;
} fuzz_seen_t;


static void
fuzz_report(void *ud, size_t index, rbac_str_t kid,
    rbac_jwks_verdict_t verdict, const char *why)
{
    fuzz_seen_t  *s = ud;

    if (index != s->calls || kid.len > RBAC_JWT_MAX_KID || why == NULL
        || (verdict == RBAC_JWKS_ADDED) != (why[0] == '\0'))
    {
        abort();
    }

    s->calls++;
    s->added += (verdict == RBAC_JWKS_ADDED);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                 pass;
    char               *copy;
    size_t              i, added;
    rbac_rc_t           rc;
    rbac_str_t          in, kid;
    rbac_err_t          err;
    fuzz_seen_t         seen;
    rbac_jwt_alg_t      alg;
    rbac_jwt_keyset_t  *ks;

    copy = fuzz_copy(data, size);
    if (copy == NULL) {
        return 0;
    }

    in.data = copy;
    in.len = size;

    for (pass = 0; pass < 2; pass++) {
        ks = rbac_jwt_keyset_create(&rbac_malloc_allocator, &err);
        if (ks == NULL) {
            break;
        }

        memset(&seen, 0, sizeof(seen));

        rc = rbac_jwks_add(ks, in, pass ? RBAC_JWT_RS256 : RBAC_JWT_ALG_NONE,
                           fuzz_report, &seen, &added, &err);

        if (rc == RBAC_OK
            && (added != seen.added
                || rbac_jwt_keyset_count(ks) != added))
        {
            abort();
        }

        if (rc != RBAC_OK && rc != RBAC_EPARSE && rc != RBAC_EBOUND
            && rc != RBAC_ENOMEM)
        {
            abort();
        }

        for (i = 0; rbac_jwt_keyset_get(ks, i, &kid, &alg); i++) {
            if (alg <= RBAC_JWT_ALG_NONE || alg > RBAC_JWT_ES512
                || kid.len > RBAC_JWT_MAX_KID)
            {
                abort();
            }
        }

        if (i != rbac_jwt_keyset_count(ks)) {
            abort();
        }

        rbac_jwt_keyset_free(ks);
    }

    free(copy);

    return 0;
}
