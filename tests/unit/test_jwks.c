/*
 * test_jwks.c: JWKS documents read into a key set (core/rbac_jwks.c):
 * RSA, EC and oct keys added and verifying tokens signed by their private
 * halves (made once with Python's cryptography, pasted here), each reason
 * a key is refused or skipped, document errors, and every allocation of
 * the key set failing in turn.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rbac_jwks.h"
#include "testutil.h"


#define NOW  INT64_C(1700000000)

#define RSA_N                                                                 \
    "zxjhl6BmSMUKY-PIglA_ce6A0N5En5hMU6k8EuxcOjpDOo7Jyg8jeEonw-Pdn-1-0EPIL"   \
    "SWKpoeSJic212_6VQANqSIflmTaB2DDLvsRXllmOgNGCUlSPMfo8jSa50cUAGqdhqyYdy"   \
    "DsIvr3uQcy0eGZi3qZUBinh5r9e1Cuj_cz3UroFX2jN4XrgHdd2QsXW6N63s-O66IbcJa"   \
    "CsVR3a2gFzcjQ5sdwWd-uVgoT8C55K4enX_23iSiWYrWMlhaKY4nBQXQYvRfazLvnXaTK"   \
    "y4cxhEKlSNEzDmrry_EjhqP7xpVVSpZVDgD11Fj2fxx0bMyEMXbLyrGlCpyNA-TIKQ"

#define RSA1024_N                                                             \
    "wE8-VB29QmwKYSFHmx-jSeskjAfJQ3BiNUqbYYxLYkW_I543FmV7YGPQxQLs9SFmjkzGA"   \
    "LnzdONhIzjPkkmT8zLY-BfoUTdi28328D-VAlb_NIN_6IHI9K-XfG0u7GlgNUGBT4t2mq"   \
    "FmGEqiPo9WZCJoYz0cZY2PN5GXou3Xj9c"

#define EC_X  "qVV8FHeoywWz0d3YZ-YOjeqokBCa2iqZaHDrK8aivYM"
#define EC_Y  "hv2x4BXSw5zTfXLHnUqq26lUb1OuaYUlDAfgqS1Trnw"
#define EC_Y_OFF  "iv2x4BXSw5zTfXLHnUqq26lUb1OuaYUlDAfgqS1Trnw"

#define RSA_JWK  "{\"kty\":\"RSA\",\"kid\":\"r1\",\"alg\":\"RS256\"," \
                 "\"n\":\"" RSA_N "\",\"e\":\"AQAB\"}"
#define EC_JWK   "{\"kty\":\"EC\",\"kid\":\"e1\",\"crv\":\"P-256\"," \
                 "\"x\":\"" EC_X "\",\"y\":\"" EC_Y "\"}"
#define OCT_JWK  "{\"kty\":\"oct\",\"kid\":\"h1\",\"alg\":\"HS256\"," \
                 "\"k\":\"a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s\"}"

/* {"sub":"u1","exp":1700000300,"iat":1700000000} with kid r1 / e1 */
static const char  rsa_token[] =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6InIxIiwidHlwIjoiSldUIn0."
    "eyJzdWIiOiJ1MSIsImV4cCI6MTcwMDAwMDMwMCwiaWF0IjoxNzAwMDAwMDAwfQ."
    "WWAxRrJgQQO3LIL2N6SObwCFQKDEhxyzBrmEzEAtKogmr4bnk6JWH9T1JgNkX28plvePsS"
    "bmqohXxariU-86_wApxai6sGvgGxF_iyFFwaP83rOk_HvwG5ObXnb6o0kyZceZLBLBYPqx"
    "Q-NxOVaaMgAGO1EbpYAFkjrr0m0dpBaAgZoENovEhO77O8G5GEZ0VQHarroBU2YC8WEJOL"
    "yCdm9HVBnGlm2IQM2ucgR-ibB86MCkyl929yIaLl8W9O6MGs9f-V-v__BNk0h25C0FPBVl"
    "VCmUemXSb1K3PtOaQ9wFn-CooxCt30Ffmrg8kO4OlTfxkteC7rgxYWHo24abEQ";
static const char  ec_token[] =
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImUxIiwidHlwIjoiSldUIn0."
    "eyJzdWIiOiJ1MSIsImV4cCI6MTcwMDAwMDMwMCwiaWF0IjoxNzAwMDAwMDAwfQ."
    "z4v1Vmpws7XnpYF3mu0C-Nxxka2tdb_DEeoZpdjHg02XQbuaaka_dqGyU-fwNGcLhtCZtJ"
    "hyD8d2Ya5cVZeQVg";


/* What the report callback saw, for the last key reported. */
typedef struct {
    size_t               calls;
    rbac_jwks_verdict_t  verdict;
    char                 kid[64];
    char                 why[RBAC_ERR_LEN];
} seen_t;


static void
report(void *ud, size_t index, rbac_str_t kid, rbac_jwks_verdict_t verdict,
    const char *why)
{
    seen_t  *s = ud;

    assert_int_equal(index, s->calls);
    s->calls++;
    s->verdict = verdict;
    snprintf(s->kid, sizeof(s->kid), "%.*s", (int) kid.len,
             kid.len ? kid.data : "");
    snprintf(s->why, sizeof(s->why), "%s", why);
}


/* Reads doc into a fresh set; returns the set, *seen as reported. */
static rbac_jwt_keyset_t *
load(const char *doc, rbac_jwt_alg_t dflt, seen_t *seen, size_t *added)
{
    rbac_err_t          err;
    rbac_jwt_keyset_t  *ks;

    memset(seen, 0, sizeof(*seen));
    ks = rbac_jwt_keyset_create(&rbac_malloc_allocator, &err);
    assert_non_null(ks);
    assert_int_equal(rbac_jwks_add(ks, S(doc), dflt, report, seen, added,
                                   &err), RBAC_OK);
    assert_int_equal(rbac_jwt_keyset_count(ks), *added);

    return ks;
}


static void
verify_ok(const rbac_jwt_keyset_t *ks, const char *tok)
{
    rbac_err_t         err;
    rbac_jwt_checks_t  chk;
    rbac_jwt_result_t  res;

    rbac_jwt_checks_init(&chk);
    memset(&res, 0, sizeof(res));
    assert_int_equal(rbac_jwt_verify(ks, &chk, S(tok), NOW,
                                     &rbac_malloc_allocator, &res, &err),
                     RBAC_OK);
    assert_string_equal(res.sub.data, "u1");
    rbac_jwt_result_free(&rbac_malloc_allocator, &res);
}


static void
test_keys_verify(void **state)
{
    size_t              added;
    seen_t              seen;
    rbac_str_t          kid;
    rbac_err_t          err;
    rbac_jwt_alg_t      alg;
    rbac_jwt_keyset_t  *ks;

    ks = load("{\"keys\":[" RSA_JWK "," EC_JWK "," OCT_JWK "]}",
              RBAC_JWT_ALG_NONE, &seen, &added);
    assert_int_equal(added, 3);
    assert_int_equal(seen.calls, 3);
    assert_int_equal(seen.verdict, RBAC_JWKS_ADDED);

    verify_ok(ks, rsa_token);
    verify_ok(ks, ec_token);

    /* the EC key without "alg" is pinned to its curve's */
    assert_true(rbac_jwt_keyset_get(ks, 1, &kid, &alg));
    assert_int_equal(alg, RBAC_JWT_ES256);
    assert_true(rbac_str_eq_cstr(kid, "e1"));
    assert_true(rbac_jwt_keyset_get(ks, 2, &kid, &alg));
    assert_int_equal(alg, RBAC_JWT_HS256);
    assert_false(rbac_jwt_keyset_get(ks, 3, &kid, &alg));

    /* the RSA token's kid naming the EC key: wrong alg, no fallback */
    {
        rbac_jwt_keyset_t  *ks2;
        rbac_jwt_checks_t   chk;
        rbac_jwt_result_t   res;

        ks2 = load("{\"keys\":[" EC_JWK "]}", RBAC_JWT_ALG_NONE, &seen,
                   &added);
        rbac_jwt_checks_init(&chk);
        assert_int_equal(rbac_jwt_verify(ks2, &chk, S(rsa_token), NOW,
                                         &rbac_malloc_allocator, &res, &err),
                         RBAC_ETOKEN);
        assert_string_equal(err.msg, RBAC_JWT_R_UNKNOWN_KID);

        /* copied into another set, the keys still verify */
        assert_int_equal(rbac_jwt_keyset_add_all(ks2, ks, &err), RBAC_EEXISTS);
        rbac_jwt_keyset_free(ks2);
        ks2 = rbac_jwt_keyset_create(&rbac_malloc_allocator, &err);
        assert_int_equal(rbac_jwt_keyset_add_all(ks2, ks, &err), RBAC_OK);
        verify_ok(ks2, rsa_token);
        rbac_jwt_keyset_free(ks2);
    }

    rbac_jwt_keyset_free(ks);
}


typedef struct {
    const char           *jwk;
    rbac_jwt_alg_t        dflt;
    rbac_jwks_verdict_t   verdict;
    const char           *why;
} bad_case_t;


static void
test_bad_keys(void **state)
{
    size_t              i, added;
    seen_t              seen;
    char                doc[4096];
    rbac_jwt_keyset_t  *ks;

    static const bad_case_t  cases[] = {
        { "{\"kty\":\"RSA\",\"kid\":\"k\",\"alg\":\"RS256\",\"n\":\"" RSA1024_N
          "\",\"e\":\"AQAB\"}", 0, RBAC_JWKS_REFUSED,
          "has 1024 bits, at least 2048 needed" },
        { "{\"kty\":\"EC\",\"kid\":\"k\",\"crv\":\"P-256\",\"x\":\"" EC_X
          "\",\"y\":\"" EC_Y_OFF "\"}", 0, RBAC_JWKS_REFUSED,
          "EC point is not on P-256" },
        { "{\"kty\":\"EC\",\"kid\":\"k\",\"crv\":\"P-384\",\"x\":\"" EC_X
          "\",\"y\":\"" EC_Y "\"}", 0, RBAC_JWKS_REFUSED,
          "\"x\" is 32 bytes, expected 48" },
        { "{\"kty\":\"EC\",\"kid\":\"k\",\"crv\":\"P-256K\",\"x\":\"" EC_X
          "\",\"y\":\"" EC_Y "\"}", 0, RBAC_JWKS_REFUSED,
          "\"crv\" is not P-256, P-384 or P-521" },
        { "{\"kty\":\"EC\",\"kid\":\"k\",\"alg\":\"ES512\",\"crv\":\"P-256\","
          "\"x\":\"" EC_X "\",\"y\":\"" EC_Y "\"}", 0, RBAC_JWKS_REFUSED,
          "alg ES512 does not fit a P-256 key" },
        { "{\"kty\":\"oct\",\"kid\":\"k\",\"alg\":\"HS256\","
          "\"k\":\"c2hvcnQ\"}", 0, RBAC_JWKS_REFUSED,
          "is 5 bytes, at least 32 needed" },
        { "{\"kty\":\"oct\",\"kid\":\"k\",\"alg\":\"HS256\",\"k\":\""
          "LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0gYWFhYWFhYWFhYWFhYWFhYWFh\"}",
          0, RBAC_JWKS_REFUSED, "holds a PEM block" },
        { "{\"kty\":\"oct\",\"kid\":\"k\",\"k\":\"" RSA_N "\"}",
          0, RBAC_JWKS_REFUSED, "no \"alg\" and no default alg=" },
        { "{\"kty\":\"oct\",\"kid\":\"k\",\"k\":\"" RSA_N "\"}",
          RBAC_JWT_RS256, RBAC_JWKS_REFUSED,
          "alg RS256 does not fit a oct key" },
        { "{\"kty\":\"RSA\",\"kid\":\"k\",\"alg\":\"none\",\"n\":\"" RSA_N
          "\",\"e\":\"AQAB\"}", 0, RBAC_JWKS_REFUSED,
          "alg \"none\" is never accepted" },
        { "{\"kty\":\"RSA\",\"kid\":\"k\",\"alg\":\"RS256\",\"n\":\"" RSA_N
          "\",\"e\":\"AQA\"}", 0, RBAC_JWKS_REFUSED,
          "not a valid modulus or exponent" },
        { "{\"kty\":\"RSA\",\"kid\":\"k\",\"alg\":\"RS256\",\"n\":\"" RSA_N
          "=\",\"e\":\"AQAB\"}", 0, RBAC_JWKS_REFUSED,
          "\"n\" is not unpadded base64url" },
        { "{\"kty\":\"RSA\",\"kid\":\"k\",\"alg\":\"RS256\",\"e\":\"AQAB\"}",
          0, RBAC_JWKS_REFUSED, "no \"n\"" },
        { "{\"kty\":\"RSA\",\"kid\":\"\",\"alg\":\"RS256\"}",
          0, RBAC_JWKS_REFUSED, "\"kid\" is not a non-empty string" },
        { "{\"kid\":\"k\"}", 0, RBAC_JWKS_REFUSED, "no \"kty\"" },
        { "[1]", 0, RBAC_JWKS_REFUSED, "not a JSON object" },
        { "{\"kty\":\"RSA\",\"kid\":\"k\",\"alg\":\"PS256\",\"n\":\"" RSA_N
          "\",\"e\":\"AQAB\"}", 0, RBAC_JWKS_SKIPPED,
          "alg \"PS256\" is not supported" },
        { "{\"kty\":\"OKP\",\"kid\":\"k\",\"crv\":\"Ed25519\",\"x\":\"AA\"}",
          0, RBAC_JWKS_SKIPPED, "kty \"OKP\" is not supported" },
        { "{\"kty\":\"RSA\",\"kid\":\"k\",\"use\":\"enc\",\"n\":\"" RSA_N
          "\",\"e\":\"AQAB\"}", 0, RBAC_JWKS_SKIPPED,
          "\"use\" is not \"sig\"" },
        { "{\"kty\":\"RSA\",\"kid\":\"k\",\"key_ops\":[\"encrypt\"],"
          "\"n\":\"" RSA_N "\",\"e\":\"AQAB\"}", 0, RBAC_JWKS_SKIPPED,
          "\"key_ops\" has no \"verify\"" },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(doc, sizeof(doc), "{\"keys\":[%s," EC_JWK "]}",
                 cases[i].jwk);
        ks = load(doc, cases[i].dflt, &seen, &added);

        /* the bad key reported first, the good one still added */
        if (added != 1) {
            fail_msg("case %zu: %zu added", i, added);
        }

        assert_int_equal(seen.calls, 2);
        rbac_jwt_keyset_free(ks);

        snprintf(doc, sizeof(doc), "{\"keys\":[%s]}", cases[i].jwk);
        ks = load(doc, cases[i].dflt, &seen, &added);
        assert_int_equal(added, 0);
        if (seen.verdict != cases[i].verdict
            || strstr(seen.why, cases[i].why) == NULL)
        {
            fail_msg("case %zu: verdict %d, \"%s\"", i, seen.verdict,
                     seen.why);
        }

        rbac_jwt_keyset_free(ks);
    }
}


static void
test_documents(void **state)
{
    size_t              i, added;
    char               *big;
    rbac_err_t          err;
    rbac_jwt_keyset_t  *ks;

    static const char  *bad[] = {
        "", "null", "[]", "{}", "{\"keys\":{}}", "{\"keys\":[]",
        "{\"keys\":[],\"keys\":[]}",
        "{\"keys\":[{\"kid\":\"a\",\"kid\":\"b\"}]}",
    };

    ks = rbac_jwt_keyset_create(&rbac_malloc_allocator, &err);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(rbac_jwks_add(ks, S(bad[i]), RBAC_JWT_ALG_NONE,
                                       NULL, NULL, &added, &err),
                         RBAC_EPARSE);
        assert_int_equal(added, 0);
    }

    big = malloc(RBAC_JWKS_MAX_DOC + 2);
    memset(big, ' ', RBAC_JWKS_MAX_DOC + 1);
    big[RBAC_JWKS_MAX_DOC + 1] = '\0';
    assert_int_equal(rbac_jwks_add(ks, S(big), RBAC_JWT_ALG_NONE, NULL,
                                   NULL, NULL, &err), RBAC_EBOUND);
    free(big);

    /* the same (kid, alg) twice: the second refused */
    assert_int_equal(rbac_jwks_add(ks, S("{\"keys\":[" EC_JWK "," EC_JWK
                                         "]}"), RBAC_JWT_ALG_NONE, NULL,
                                   NULL, &added, &err), RBAC_OK);
    assert_int_equal(added, 1);

    rbac_jwt_keyset_free(ks);
}


static void
test_alloc_failures(void **state)
{
    long                n;
    size_t              added;
    rbac_rc_t           rc;
    rbac_err_t          err;
    rbac_allocator_t    a;
    testutil_alloc_t    ta;
    rbac_jwt_keyset_t  *ks;

    for (n = 1; n < 100; n++) {
        testutil_alloc_init(&ta, &a, n);
        ks = rbac_jwt_keyset_create(&a, &err);
        if (ks == NULL) {
            assert_int_equal(ta.live, 0);
            continue;
        }

        rc = rbac_jwks_add(ks, S("{\"keys\":[" RSA_JWK "," EC_JWK "]}"),
                           RBAC_JWT_ALG_NONE, NULL, NULL, &added, &err);
        assert_true(rc == RBAC_OK || rc == RBAC_ENOMEM);
        rbac_jwt_keyset_free(ks);
        assert_int_equal(ta.live, 0);

        if (rc == RBAC_OK && added == 2) {
            break;
        }
    }

    assert_true(n < 100);

    /* cJSON failing: out of memory, or "not JSON" */
    for (n = 1; n < 200; n++) {
        ks = rbac_jwt_keyset_create(&rbac_malloc_allocator, &err);
        testutil_cjson_fail_at(n, 0);
        rc = rbac_jwks_add(ks, S("{\"keys\":[" RSA_JWK "," EC_JWK "]}"),
                           RBAC_JWT_ALG_NONE, NULL, NULL, &added, &err);
        testutil_cjson_reset();
        rbac_jwt_keyset_free(ks);
        assert_true(rc == RBAC_OK || rc == RBAC_EPARSE || rc == RBAC_ENOMEM);
        if (rc == RBAC_OK && added == 2 && testutil_cjson_calls() < n) {
            break;
        }
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_keys_verify),
        cmocka_unit_test(test_bad_keys),
        cmocka_unit_test(test_documents),
        cmocka_unit_test(test_alloc_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
