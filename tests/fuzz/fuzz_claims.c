/*
 * fuzz_claims.c: libFuzzer target over the credential parsers of core/:
 * the JWT claim checks (rbac_jwt_check_claims, no signature needed), the
 * compact-form split and header parse (rbac_jwt_parse_header), a full
 * rbac_jwt_verify against an HS256 key set, and the opaque-credential
 * helpers (rbac_cred_parse, rbac_cred_bearer, rbac_cred_classify).
 *
 * The input is used as is for every parser; invariants of the results
 * are checked and any breach aborts.  Corpus: tests/fuzz/corpus/claims/.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rbac_cred.h"
#include "rbac_jwt.h"
#include "fuzz_util.h"


#define FUZZ_NOW  INT64_C(1700000000)

static const char  fuzz_secret[] =
    "fuzz-secret-fuzz-secret-fuzz-secret-0123";


static void
fuzz_claims(rbac_str_t in)
{
    int                pass;
    rbac_rc_t          rc;
    rbac_err_t         err;
    rbac_str_t         iss[2] = { rbac_string("https://idp"),
                                  rbac_string("iss2") };
    rbac_str_t         aud[1] = { rbac_string("coder") };
    rbac_jwt_checks_t  chk;
    rbac_jwt_result_t  res;

    rbac_jwt_checks_init(&chk);

    /* once with no iss/aud checks, once with both */
    for (pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            chk.issuers = iss;
            chk.nissuers = 2;
            chk.audiences = aud;
            chk.naudiences = 1;
        }

        memset(&res, 0, sizeof(res));
        rc = rbac_jwt_check_claims(&chk, in, FUZZ_NOW,
                                   &rbac_malloc_allocator, &res, &err);
        if (rc != RBAC_OK) {
            if (rc != RBAC_ETOKEN && rc != RBAC_ENOMEM) {
                abort();
            }

            continue;
        }

        if (res.sub.len == 0 || res.sub.len > RBAC_MAX_NAME
            || strlen(res.sub.data) != res.sub.len
            || res.claims.len != in.len
            || memcmp(res.claims.data, in.data, in.len) != 0
            || res.exp + RBAC_JWT_LEEWAY_MAX < FUZZ_NOW - 1)
        {
            abort();
        }

        rbac_jwt_result_free(&rbac_malloc_allocator, &res);
    }
}


static void
fuzz_token(rbac_str_t in, const rbac_jwt_keyset_t *ks)
{
    rbac_rc_t          rc;
    rbac_err_t         err;
    rbac_jwt_header_t  hdr;
    rbac_jwt_checks_t  chk;
    rbac_jwt_result_t  res;

    rc = rbac_jwt_parse_header(in, &hdr, &err);
    if (rc == RBAC_OK) {
        if (hdr.alg <= RBAC_JWT_ALG_NONE || hdr.alg > RBAC_JWT_ES512
            || hdr.kid_len > RBAC_JWT_MAX_KID
            || strlen(hdr.kid) != hdr.kid_len)
        {
            abort();
        }
    }

    rbac_jwt_checks_init(&chk);
    memset(&res, 0, sizeof(res));
    rc = rbac_jwt_verify(ks, &chk, in, FUZZ_NOW, &rbac_malloc_allocator,
                         &res, &err);
    if (rc == RBAC_OK) {
        /* only a token signed with fuzz_secret may pass */
        rbac_jwt_result_free(&rbac_malloc_allocator, &res);
    }
}


static void
fuzz_cred(rbac_str_t in)
{
    rbac_err_t   err;
    rbac_cred_t  c;
    rbac_str_t   b;

    if (rbac_cred_parse(in, RBAC_CRED_API_TOKEN, &c, &err) == RBAC_OK) {
        if (c.id.len == 0 || c.id.len > RBAC_CRED_MAX_ID
            || c.secret.len == 0
            || c.id.len + 1 + c.secret.len != in.len
            || c.id.data[c.id.len] != '-')
        {
            abort();
        }
    }

    if (rbac_cred_bearer(in, &b)) {
        if (b.len == 0 || b.data < in.data
            || b.data + b.len > in.data + in.len)
        {
            abort();
        }
    }

    (void) rbac_cred_classify(in);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                      *copy;
    rbac_str_t                 in;
    static rbac_jwt_keyset_t  *ks;

    if (ks == NULL) {
        ks = rbac_jwt_keyset_create(&rbac_malloc_allocator, NULL);
        if (ks == NULL
            || rbac_jwt_keyset_add(ks, RBAC_JWT_HS256, (rbac_str_t)
                                   rbac_null_str,
                                   (const uint8_t *) fuzz_secret,
                                   sizeof(fuzz_secret) - 1, NULL) != RBAC_OK)
        {
            abort();
        }
    }

    copy = fuzz_copy(data, size);
    if (copy == NULL) {
        return 0;
    }

    in.data = copy;
    in.len = size;

    fuzz_claims(in);
    fuzz_token(in, ks);
    fuzz_cred(in);

    free(copy);

    return 0;
}
