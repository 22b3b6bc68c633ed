/*
 * test_cred.c: opaque credentials (core/rbac_cred.c): `<id>-<secret>`
 * splitting, SHA-256, constant-time comparison against a stored digest,
 * expiry, the Bearer scheme, JWT-or-token classification and the JWT
 * cache key.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rbac_cred.h"
#include "testutil.h"


/* "ok id|secret" or the error detail. */
static const char *
parse(const char *v, rbac_cred_kind_t kind)
{
    rbac_rc_t       rc;
    rbac_err_t      err;
    rbac_cred_t     c;
    static char     out[512];

    memset(&err, 0, sizeof(err));
    rc = rbac_cred_parse(S(v), kind, &c, &err);

    if (rc != RBAC_OK) {
        assert_int_equal(rc, RBAC_ETOKEN);
        assert_int_equal(err.rc, RBAC_ETOKEN);
        snprintf(out, sizeof(out), "%s", err.msg);
        return out;
    }

    snprintf(out, sizeof(out), "ok %.*s|%.*s", (int) c.id.len, c.id.data,
             (int) c.secret.len, c.secret.data);

    return out;
}


static void
test_parse(void **state)
{
    char  v[160];

    assert_string_equal(parse("abc-def", RBAC_CRED_API_TOKEN), "ok abc|def");
    assert_string_equal(parse("T0k3n-s3-cr-et", RBAC_CRED_API_TOKEN),
                        "ok T0k3n|s3-cr-et");
    assert_string_equal(parse("a--", RBAC_CRED_API_TOKEN), "ok a|-");

    assert_string_equal(parse("", RBAC_CRED_API_TOKEN), RBAC_CRED_R_MALFORMED);
    assert_string_equal(parse("abcdef", RBAC_CRED_API_TOKEN),
                        RBAC_CRED_R_MALFORMED);
    assert_string_equal(parse("-secret", RBAC_CRED_API_TOKEN),
                        RBAC_CRED_R_MALFORMED);
    assert_string_equal(parse("abc-", RBAC_CRED_API_TOKEN),
                        RBAC_CRED_R_MALFORMED);
    assert_string_equal(parse("ab_c-def", RBAC_CRED_API_TOKEN),
                        RBAC_CRED_R_MALFORMED);
    assert_string_equal(parse("ab.c-def", RBAC_CRED_API_TOKEN),
                        RBAC_CRED_R_MALFORMED);
    assert_string_equal(parse("abc-de f", RBAC_CRED_API_TOKEN),
                        RBAC_CRED_R_MALFORMED);
    assert_string_equal(parse("abc-de\x01", RBAC_CRED_API_TOKEN),
                        RBAC_CRED_R_MALFORMED);
    assert_string_equal(parse("abc-def", RBAC_CRED_PROVISIONER_KEY),
                        "ok abc|def");
    assert_string_equal(parse("abc", RBAC_CRED_PROVISIONER_KEY),
                        RBAC_CRED_R_PKEY_MALFORMED);

    /* id of 64 characters is the longest */
    memset(v, 'i', 64);
    strcpy(v + 64, "-s");
    assert_string_equal(parse(v, RBAC_CRED_API_TOKEN) + 3 + 64, "|s");
    memset(v, 'i', 65);
    strcpy(v + 65, "-s");
    assert_string_equal(parse(v, RBAC_CRED_API_TOKEN), RBAC_CRED_R_MALFORMED);
}


static void
test_parse_bounds(void **state)
{
    char         big[RBAC_MAX_TOKEN + 2];
    rbac_err_t   err;
    rbac_cred_t  c;
    rbac_str_t   v;

    memset(big, 's', sizeof(big));
    memcpy(big, "id-", 3);

    v.data = big;
    v.len = RBAC_MAX_TOKEN;
    assert_int_equal(rbac_cred_parse(v, RBAC_CRED_API_TOKEN, &c, &err),
                     RBAC_OK);
    assert_int_equal(c.secret.len, RBAC_MAX_TOKEN - 3);

    v.len = RBAC_MAX_TOKEN + 1;
    assert_int_equal(rbac_cred_parse(v, RBAC_CRED_API_TOKEN, &c, &err),
                     RBAC_ETOKEN);

    v.data = NULL;
    v.len = 0;
    assert_int_equal(rbac_cred_parse(v, RBAC_CRED_API_TOKEN, &c, NULL),
                     RBAC_ETOKEN);
}


static void
test_sha256(void **state)
{
    char     hex[65];
    uint8_t  d[RBAC_SHA256_LEN];

    assert_int_equal(rbac_sha256("abc", 3, d), RBAC_OK);
    rbac_sha256_hex(d, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
                             "b00361a396177a9cb410ff61f20015ad");

    assert_int_equal(rbac_sha256("", 0, d), RBAC_OK);
    rbac_sha256_hex(d, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
                             "27ae41e4649b934ca495991b7852b855");
}


/* Coder's bare provisioner keys: the id is the secret's SHA-256 in hex. */
static void
test_parse_bare(void **state)
{
    char          hex[65];
    uint8_t       d[RBAC_SHA256_LEN];
    rbac_err_t    err;
    rbac_cred_t   c;
    const char   *key = "Zm9vLWJhcl9iYXotcXV4LTEyMzQ1Njc4OTAtYWJjZGVm";

    assert_int_equal(rbac_cred_parse_bare(S(key), hex, &c, &err), RBAC_OK);
    assert_int_equal(c.id.len, 64);
    assert_ptr_equal(c.id.data, hex);
    assert_ptr_equal(c.secret.data, key);
    assert_int_equal(c.secret.len, strlen(key));
    assert_int_equal(rbac_sha256(key, strlen(key), d), RBAC_OK);
    assert_int_equal(rbac_cred_verify(&c, RBAC_CRED_PROVISIONER_KEY, d, 0,
                                      0, &err), RBAC_OK);

    /* dashes belong to the secret: no <id>-<secret> split */
    assert_int_equal(rbac_cred_parse_bare(S("ab-cd"), hex, &c, &err),
                     RBAC_OK);
    assert_int_equal(c.secret.len, 5);

    assert_int_equal(rbac_cred_parse_bare(S(""), hex, &c, &err),
                     RBAC_ETOKEN);
    assert_string_equal(err.msg, RBAC_CRED_R_PKEY_MALFORMED);
    assert_int_equal(rbac_cred_parse_bare(S("a b"), hex, &c, &err),
                     RBAC_ETOKEN);
    assert_int_equal(rbac_cred_parse_bare(S("a\x01"), hex, &c, &err),
                     RBAC_ETOKEN);
}


static void
test_digest_eq(void **state)
{
    uint8_t  a[RBAC_SHA256_LEN], b[RBAC_SHA256_LEN];

    assert_int_equal(rbac_sha256("secret", 6, a), RBAC_OK);
    memcpy(b, a, sizeof(a));
    assert_true(rbac_digest_eq(a, b));

    b[RBAC_SHA256_LEN - 1] ^= 0x80;
    assert_false(rbac_digest_eq(a, b));

    memcpy(b, a, sizeof(a));
    b[0] ^= 1;
    assert_false(rbac_digest_eq(a, b));
}


/* Verifies value (split as kind) against the digest of `stored_secret`. */
static const char *
check(const char *value, rbac_cred_kind_t kind, const char *stored_secret,
    int64_t expires_at, int64_t now)
{
    rbac_rc_t    rc;
    uint8_t      d[RBAC_SHA256_LEN];
    rbac_err_t   err;
    rbac_cred_t  c;
    static char  out[RBAC_ERR_LEN];

    assert_int_equal(rbac_sha256(stored_secret, strlen(stored_secret), d),
                     RBAC_OK);

    memset(&err, 0, sizeof(err));
    rc = rbac_cred_parse(S(value), kind, &c, &err);
    if (rc == RBAC_OK) {
        rc = rbac_cred_verify(&c, kind, d, expires_at, now, &err);
    }

    if (rc == RBAC_OK) {
        return "ok";
    }

    assert_int_equal(rc, RBAC_ETOKEN);
    snprintf(out, sizeof(out), "%s", err.msg);

    return out;
}


static void
test_verify(void **state)
{
    const rbac_cred_kind_t  T = RBAC_CRED_API_TOKEN;
    const rbac_cred_kind_t  K = RBAC_CRED_PROVISIONER_KEY;

    /* the digest is of the secret alone, not of the whole value */
    assert_string_equal(check("t1-s3cret", T, "s3cret", 0, 1000), "ok");
    assert_string_equal(check("t1-s3cret", T, "t1-s3cret", 0, 1000),
                        RBAC_CRED_R_UNKNOWN);
    assert_string_equal(check("t1-s3creT", T, "s3cret", 0, 1000),
                        RBAC_CRED_R_UNKNOWN);
    assert_string_equal(check("t1-s3cre", T, "s3cret", 0, 1000),
                        RBAC_CRED_R_UNKNOWN);
    assert_string_equal(check("t1-a-b", T, "a-b", 0, 1000), "ok");

    /* expiry: 0 never, otherwise refused from expires_at on */
    assert_string_equal(check("t1-s", T, "s", 1001, 1000), "ok");
    assert_string_equal(check("t1-s", T, "s", 1000, 1000),
                        RBAC_CRED_R_EXPIRED);
    assert_string_equal(check("t1-s", T, "s", 5, 1000), RBAC_CRED_R_EXPIRED);
    assert_string_equal(check("t1-s", T, "s", 0, INT64_MAX), "ok");

    /* a wrong secret on an expired token says nothing about expiry */
    assert_string_equal(check("t1-x", T, "s", 5, 1000), RBAC_CRED_R_UNKNOWN);

    /* provisioner keys */
    assert_string_equal(check("k1-s", K, "s", 0, 1000), "ok");
    assert_string_equal(check("k1-x", K, "s", 0, 1000),
                        RBAC_CRED_R_PKEY_UNKNOWN);
}


static void
test_unknown(void **state)
{
    rbac_err_t  err;

    assert_int_equal(rbac_cred_unknown(RBAC_CRED_API_TOKEN, &err),
                     RBAC_ETOKEN);
    assert_string_equal(err.msg, RBAC_CRED_R_UNKNOWN);
    assert_int_equal(rbac_cred_unknown(RBAC_CRED_PROVISIONER_KEY, &err),
                     RBAC_ETOKEN);
    assert_string_equal(err.msg, RBAC_CRED_R_PKEY_UNKNOWN);
}


static const char *
bearer(const char *v)
{
    rbac_str_t   out;
    static char  buf[256];

    if (!rbac_cred_bearer(S(v), &out)) {
        return "-";
    }

    snprintf(buf, sizeof(buf), "%.*s", (int) out.len, out.data);

    return buf;
}


static void
test_bearer(void **state)
{
    rbac_str_t  out, none = rbac_null_str;

    assert_string_equal(bearer("Bearer abc.def.ghi"), "abc.def.ghi");
    assert_string_equal(bearer("bearer t1-s"), "t1-s");
    assert_string_equal(bearer("BEARER t1-s"), "t1-s");
    assert_string_equal(bearer("bEaReR t1-s"), "t1-s");
    assert_string_equal(bearer("Bearer    t1-s  "), "t1-s");
    assert_string_equal(bearer("Bearer\tt1-s\t"), "t1-s");

    assert_string_equal(bearer("Basic dXNlcjpwYXNz"), "-");
    assert_string_equal(bearer("Token t1-s"), "-");
    assert_string_equal(bearer("Bearert1-s"), "-");
    assert_string_equal(bearer("Bearer"), "-");
    assert_string_equal(bearer("Bearer "), "-");
    assert_string_equal(bearer("Bearer    "), "-");
    assert_string_equal(bearer("t1-s"), "-");
    assert_string_equal(bearer(" Bearer t1-s"), "-");
    assert_string_equal(bearer(""), "-");
    assert_int_equal(rbac_cred_bearer(none, &out), 0);
}


static void
test_classify(void **state)
{
    assert_int_equal(rbac_cred_classify(S("aaa.bbb.ccc")), RBAC_CRED_JWT);
    assert_int_equal(rbac_cred_classify(S("..")), RBAC_CRED_JWT);
    assert_int_equal(rbac_cred_classify(S("t1-secret")),
                     RBAC_CRED_API_TOKEN);
    assert_int_equal(rbac_cred_classify(S("a.b")), RBAC_CRED_API_TOKEN);
    assert_int_equal(rbac_cred_classify(S("a.b.c.d")), RBAC_CRED_API_TOKEN);
    assert_int_equal(rbac_cred_classify(S("")), RBAC_CRED_API_TOKEN);
}


static void
test_jwt_cache_key(void **state)
{
    uint8_t  id1[RBAC_SHA256_LEN], id2[RBAC_SHA256_LEN];
    uint8_t  k[RBAC_SHA256_LEN], same[RBAC_SHA256_LEN];
    uint8_t  other[RBAC_SHA256_LEN];

    memset(id1, 1, sizeof(id1));
    memset(id2, 2, sizeof(id2));

    assert_int_equal(rbac_jwt_cache_key(S("a.b.c"), id1, k), RBAC_OK);
    assert_int_equal(rbac_jwt_cache_key(S("a.b.c"), id1, same), RBAC_OK);
    assert_memory_equal(k, same, sizeof(k));

    assert_int_equal(rbac_jwt_cache_key(S("a.b.d"), id1, other), RBAC_OK);
    assert_memory_not_equal(k, other, sizeof(k));
    assert_int_equal(rbac_jwt_cache_key(S("a.b.c"), id2, other), RBAC_OK);
    assert_memory_not_equal(k, other, sizeof(k));

    /* not the bare token hash */
    assert_int_equal(rbac_sha256("a.b.c", 5, other), RBAC_OK);
    assert_memory_not_equal(k, other, sizeof(k));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_bounds),
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_parse_bare),
        cmocka_unit_test(test_digest_eq),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_bearer),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_jwt_cache_key),
    };

    return cmocka_run_group_tests_name("cred", tests, NULL, NULL);
}
