/*
 * test_jwt.c: JWT verification (core/rbac_jwt*.c) with tokens built here
 * with OpenSSL: every alg, wrong keys, tampering, libjwt's two forgeries,
 * alg none, kid selection, every claim check, bounds, key validation at
 * add time, the key-set identity, and every allocation failing in turn.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "rbac_jwt.h"
#include "testutil.h"


#define NOW  INT64_C(1700000000)


/* ---------------------------------------------------------------------
 * Fixtures: keys generated once per run.
 */

typedef struct {
    EVP_PKEY  *pkey;
    char      *pem;         /* SPKI PEM of the public key */
    size_t     pem_len;
} keypair_t;

static keypair_t  rsa, rsa2, ec256, ec256b, ec384, ec521, rsa1024;

static const char  hs_secret[] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
static const char  hs_secret2[] =
    "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";


static void
keypair_make(keypair_t *kp, EVP_PKEY *pkey)
{
    BIO   *bio;
    char  *p;
    long   n;

    assert_non_null(pkey);
    kp->pkey = pkey;

    bio = BIO_new(BIO_s_mem());
    assert_non_null(bio);
    assert_int_equal(PEM_write_bio_PUBKEY(bio, pkey), 1);
    n = BIO_get_mem_data(bio, &p);
    assert_true(n > 0);

    kp->pem = malloc((size_t) n + 1);
    assert_non_null(kp->pem);
    memcpy(kp->pem, p, (size_t) n);
    kp->pem[n] = '\0';
    kp->pem_len = (size_t) n;
    BIO_free(bio);
}


static void
keypair_drop(keypair_t *kp)
{
    EVP_PKEY_free(kp->pkey);
    free(kp->pem);
}


static int
setup_keys(void **state)
{
    keypair_make(&rsa, EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048));
    keypair_make(&rsa2, EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048));
    keypair_make(&rsa1024,
                 EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 1024));
    keypair_make(&ec256, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
    keypair_make(&ec256b, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
    keypair_make(&ec384, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"));
    keypair_make(&ec521, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521"));

    return 0;
}


static int
teardown_keys(void **state)
{
    keypair_drop(&rsa);
    keypair_drop(&rsa2);
    keypair_drop(&rsa1024);
    keypair_drop(&ec256);
    keypair_drop(&ec256b);
    keypair_drop(&ec384);
    keypair_drop(&ec521);

    return 0;
}


/* ---------------------------------------------------------------------
 * Token building.
 */

static void
b64url(const uint8_t *p, size_t len, char *out)
{
    size_t             i, n;
    uint32_t           v;
    static const char  a[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    n = 0;

    for (i = 0; i + 2 < len; i += 3) {
        v = (uint32_t) p[i] << 16 | (uint32_t) p[i + 1] << 8 | p[i + 2];
        out[n++] = a[v >> 18];
        out[n++] = a[(v >> 12) & 63];
        out[n++] = a[(v >> 6) & 63];
        out[n++] = a[v & 63];
    }

    if (len - i == 1) {
        v = (uint32_t) p[i] << 16;
        out[n++] = a[v >> 18];
        out[n++] = a[(v >> 12) & 63];

    } else if (len - i == 2) {
        v = (uint32_t) p[i] << 16 | (uint32_t) p[i + 1] << 8;
        out[n++] = a[v >> 18];
        out[n++] = a[(v >> 12) & 63];
        out[n++] = a[(v >> 6) & 63];
    }

    out[n] = '\0';
}


static const EVP_MD *
alg_md(rbac_jwt_alg_t alg)
{
    switch (alg) {
    case RBAC_JWT_HS256: case RBAC_JWT_RS256: case RBAC_JWT_ES256:
        return EVP_sha256();
    case RBAC_JWT_HS384: case RBAC_JWT_RS384: case RBAC_JWT_ES384:
        return EVP_sha384();
    default:
        return EVP_sha512();
    }
}


/*
 * Signs `input` for `alg`: HMAC with (secret, slen) for HS*, `pkey` for
 * RS* and ES* (ECDSA converted to JOSE's raw R || S).  Returns the length.
 */
static size_t
sign(rbac_jwt_alg_t alg, const char *input, const void *secret, size_t slen,
    EVP_PKEY *pkey, uint8_t *sig)
{
    size_t          n, half;
    unsigned int    hn;
    uint8_t         der[1024];
    EVP_MD_CTX     *ctx;
    ECDSA_SIG      *es;
    const BIGNUM   *r, *s;
    const uint8_t  *dp;

    if (alg <= RBAC_JWT_HS512) {
        assert_non_null(HMAC(alg_md(alg), secret, (int) slen,
                             (const uint8_t *) input, strlen(input), sig,
                             &hn));
        return hn;
    }

    ctx = EVP_MD_CTX_new();
    assert_non_null(ctx);
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, alg_md(alg), NULL, pkey),
                     1);
    n = sizeof(der);
    assert_int_equal(EVP_DigestSign(ctx, der, &n, (const uint8_t *) input,
                                    strlen(input)), 1);
    EVP_MD_CTX_free(ctx);

    if (alg <= RBAC_JWT_RS512) {
        memcpy(sig, der, n);
        return n;
    }

    half = alg == RBAC_JWT_ES256 ? 32 : (alg == RBAC_JWT_ES384 ? 48 : 66);
    dp = der;
    es = d2i_ECDSA_SIG(NULL, &dp, (long) n);
    assert_non_null(es);
    ECDSA_SIG_get0(es, &r, &s);
    assert_int_equal(BN_bn2binpad(r, sig, (int) half), (int) half);
    assert_int_equal(BN_bn2binpad(s, sig + half, (int) half), (int) half);
    ECDSA_SIG_free(es);

    return 2 * half;
}


/* header JSON + claims JSON signed as alg; malloc'd, NUL-terminated. */
static char *
token_raw(const char *header, const char *claims, rbac_jwt_alg_t alg,
    const void *secret, size_t slen, EVP_PKEY *pkey)
{
    char     *t;
    size_t    n, hl, cl;
    uint8_t   sig[1024];

    hl = strlen(header);
    cl = strlen(claims);
    t = malloc((hl + cl) * 2 + 2048);
    assert_non_null(t);

    b64url((const uint8_t *) header, hl, t);
    n = strlen(t);
    t[n++] = '.';
    b64url((const uint8_t *) claims, cl, t + n);
    n = strlen(t);

    slen = sign(alg, t, secret, slen, pkey, sig);
    t[n++] = '.';
    b64url(sig, slen, t + n);

    return t;
}


static char *
token(rbac_jwt_alg_t alg, const char *kid, const char *claims,
    const void *secret, size_t slen, EVP_PKEY *pkey)
{
    char  header[512];

    if (kid != NULL) {
        snprintf(header, sizeof(header),
                 "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
                 rbac_jwt_alg_name(alg), kid);
    } else {
        snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"typ\":\"JWT\"}",
                 rbac_jwt_alg_name(alg));
    }

    return token_raw(header, claims, alg, secret, slen, pkey);
}


/* Claims valid at NOW for sub "alice". */
static const char *
good_claims(void)
{
    static char  buf[256];

    snprintf(buf, sizeof(buf),
             "{\"sub\":\"alice\",\"exp\":%lld,\"iat\":%lld}",
             (long long) (NOW + 600), (long long) (NOW - 10));

    return buf;
}


static const rbac_str_t  no_kid = { NULL, 0 };


/* A key set of one key, aborting the test on failure. */
static rbac_jwt_keyset_t *
keyset1(rbac_jwt_alg_t alg, const char *kid, const void *key, size_t len)
{
    rbac_err_t          err;
    rbac_jwt_keyset_t  *ks;

    ks = rbac_jwt_keyset_create(&rbac_malloc_allocator, &err);
    assert_non_null(ks);
    assert_int_equal(rbac_jwt_keyset_add(ks, alg,
                                         kid ? S(kid) : no_kid,
                                         key, len, &err), RBAC_OK);
    return ks;
}


static const void *
alg_key(rbac_jwt_alg_t alg, size_t *len, EVP_PKEY **pkey)
{
    keypair_t  *kp;

    if (alg <= RBAC_JWT_HS512) {
        *len = strlen(hs_secret);
        *pkey = NULL;
        return hs_secret;
    }

    kp = alg <= RBAC_JWT_RS512 ? &rsa
         : alg == RBAC_JWT_ES256 ? &ec256
         : alg == RBAC_JWT_ES384 ? &ec384 : &ec521;

    *len = kp->pem_len;
    *pkey = kp->pkey;

    return kp->pem;
}


/* Verifies tok with ks at NOW and default checks; returns rc, err filled. */
static rbac_rc_t
verify(rbac_jwt_keyset_t *ks, const rbac_jwt_checks_t *chk, const char *tok,
    rbac_err_t *err)
{
    rbac_rc_t          rc;
    rbac_jwt_checks_t  def;
    rbac_jwt_result_t  res;

    if (chk == NULL) {
        rbac_jwt_checks_init(&def);
        chk = &def;
    }

    memset(err, 0, sizeof(*err));
    memset(&res, 0, sizeof(res));

    rc = rbac_jwt_verify(ks, chk, S(tok), NOW, &rbac_malloc_allocator, &res,
                         err);
    if (rc == RBAC_OK) {
        rbac_jwt_result_free(&rbac_malloc_allocator, &res);
    }

    return rc;
}


#define assert_rejected(ks, chk, tok, reason)                                 \
    do {                                                                      \
        rbac_err_t  e_;                                                       \
        assert_int_equal(verify(ks, chk, tok, &e_), RBAC_ETOKEN);             \
        assert_string_equal(e_.msg, reason);                                  \
    } while (0)


/* ---------------------------------------------------------------------
 * Signatures and algorithms.
 */

static void
test_each_alg_verifies(void **state)
{
    int                 a;
    char               *tok;
    size_t              len;
    EVP_PKEY           *pkey;
    rbac_err_t          err;
    const void         *key;
    rbac_jwt_checks_t   chk;
    rbac_jwt_result_t   res;
    rbac_jwt_keyset_t  *ks;

    rbac_jwt_checks_init(&chk);

    for (a = RBAC_JWT_HS256; a <= RBAC_JWT_ES512; a++) {
        key = alg_key((rbac_jwt_alg_t) a, &len, &pkey);
        ks = keyset1((rbac_jwt_alg_t) a, NULL, key, len);
        tok = token((rbac_jwt_alg_t) a, NULL, good_claims(), key, len, pkey);

        memset(&res, 0, sizeof(res));
        memset(&err, 0, sizeof(err));
        assert_int_equal(rbac_jwt_verify(ks, &chk, S(tok), NOW,
                                         &rbac_malloc_allocator, &res, &err),
                         RBAC_OK);
        assert_string_equal(err.msg, "");       /* untouched on success */
        assert_string_equal(res.sub.data, "alice");
        assert_int_equal(res.sub.len, 5);
        assert_int_equal(res.exp, NOW + 600);
        assert_int_equal(res.iat, NOW - 10);
        assert_non_null(strstr(res.claims.data, "\"alice\""));
        assert_int_equal(strlen(res.claims.data), res.claims.len);
        rbac_jwt_result_free(&rbac_malloc_allocator, &res);
        assert_null(res.mem);

        /* the same token against the same alg's other key fails */
        rbac_jwt_keyset_free(ks);
        if (a <= RBAC_JWT_HS512) {
            ks = keyset1((rbac_jwt_alg_t) a, NULL, hs_secret2,
                         strlen(hs_secret2));
        } else if (a <= RBAC_JWT_RS512) {
            ks = keyset1((rbac_jwt_alg_t) a, NULL, rsa2.pem, rsa2.pem_len);
        } else {
            ks = NULL;
        }

        if (ks != NULL) {
            assert_rejected(ks, NULL, tok, RBAC_JWT_R_BAD_SIGNATURE);
            rbac_jwt_keyset_free(ks);
        }

        free(tok);
    }
}


static void
test_wrong_key(void **state)
{
    char               *tok;
    rbac_jwt_keyset_t  *ks;

    ks = keyset1(RBAC_JWT_ES256, NULL, ec256.pem, ec256.pem_len);
    tok = token(RBAC_JWT_ES256, NULL, good_claims(), NULL, 0, ec256b.pkey);
    assert_rejected(ks, NULL, tok, RBAC_JWT_R_BAD_SIGNATURE);
    free(tok);

    /* a token of another alg than the keys': no key to try */
    tok = token(RBAC_JWT_HS256, NULL, good_claims(), hs_secret,
                strlen(hs_secret), NULL);
    assert_rejected(ks, NULL, tok, RBAC_JWT_R_WRONG_ALG);
    free(tok);
    rbac_jwt_keyset_free(ks);

    /* an empty key set refuses everything */
    ks = rbac_jwt_keyset_create(&rbac_malloc_allocator, NULL);
    assert_non_null(ks);
    tok = token(RBAC_JWT_RS256, NULL, good_claims(), NULL, 0, rsa.pkey);
    assert_rejected(ks, NULL, tok, RBAC_JWT_R_WRONG_ALG);
    assert_rejected(NULL, NULL, tok, RBAC_JWT_R_WRONG_ALG);
    free(tok);
    rbac_jwt_keyset_free(ks);
}


static void
test_tampered(void **state)
{
    char               *tok, *forged, *dot1, *dot2;
    size_t              n;
    char                payload[256];
    char                claims[256];
    rbac_jwt_keyset_t  *ks;

    ks = keyset1(RBAC_JWT_RS256, NULL, rsa.pem, rsa.pem_len);
    tok = token(RBAC_JWT_RS256, NULL, good_claims(), NULL, 0, rsa.pkey);

    /* swap the payload for one naming another subject */
    snprintf(claims, sizeof(claims), "{\"sub\":\"admin\",\"exp\":%lld}",
             (long long) (NOW + 600));
    b64url((const uint8_t *) claims, strlen(claims), payload);

    dot1 = strchr(tok, '.');
    dot2 = strchr(dot1 + 1, '.');
    forged = malloc(strlen(tok) + strlen(payload) + 1);
    assert_non_null(forged);
    memcpy(forged, tok, (size_t) (dot1 - tok) + 1);
    forged[dot1 - tok + 1] = '\0';
    strcat(forged, payload);
    strcat(forged, dot2);
    assert_rejected(ks, NULL, forged, RBAC_JWT_R_BAD_SIGNATURE);

    /* one changed signature character (still base64url) */
    strcpy(forged, tok);
    n = strlen(forged) - 5;
    forged[n] = forged[n] == 'A' ? 'B' : 'A';
    assert_rejected(ks, NULL, forged, RBAC_JWT_R_BAD_SIGNATURE);

    /* the untouched token passes: the two above failed for their change */
    assert_int_equal(verify(ks, NULL, tok, &(rbac_err_t) { 0 }), RBAC_OK);

    free(forged);
    free(tok);
    rbac_jwt_keyset_free(ks);
}


/*
 * HS256 signed with the RSA public key's PEM as HMAC secret
 * (docs/security.md §3).
 */
static void
test_forgery_alg_confusion(void **state)
{
    int                 rc;
    char               *tok;
    jwt_t              *jwt;
    rbac_jwt_keyset_t  *ks;

    tok = token(RBAC_JWT_HS256, NULL, good_claims(), rsa.pem, rsa.pem_len,
                NULL);

    /* libjwt alone accepts it: this is the attack the key set stops */
    jwt = NULL;
    rc = jwt_decode(&jwt, tok, (const unsigned char *) rsa.pem,
                    (int) rsa.pem_len);
    assert_int_equal(rc, 0);
    jwt_free(jwt);

    ks = keyset1(RBAC_JWT_RS256, NULL, rsa.pem, rsa.pem_len);
    assert_rejected(ks, NULL, tok, RBAC_JWT_R_WRONG_ALG);
    free(tok);

    /* with the RS256 key's kid: still HS256, still no such key */
    rbac_jwt_keyset_free(ks);
    ks = keyset1(RBAC_JWT_RS256, "k1", rsa.pem, rsa.pem_len);
    tok = token(RBAC_JWT_HS256, "k1", good_claims(), rsa.pem, rsa.pem_len,
                NULL);
    assert_rejected(ks, NULL, tok, RBAC_JWT_R_WRONG_ALG);
    free(tok);

    /*
     * A header naming alg twice: cJSON reads the first, libjwt's jansson
     * the last.  Refused before libjwt sees it.
     */
    tok = token_raw("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"alg\":\"HS256\"}",
                    good_claims(), RBAC_JWT_HS256, rsa.pem, rsa.pem_len,
                    NULL);
    assert_rejected(ks, NULL, tok, RBAC_JWT_R_MALFORMED);
    free(tok);
    rbac_jwt_keyset_free(ks);

    /* and the PEM can never become an HMAC key */
    ks = rbac_jwt_keyset_create(&rbac_malloc_allocator, NULL);
    assert_non_null(ks);
    assert_int_equal(rbac_jwt_keyset_add(ks, RBAC_JWT_HS256, no_kid,
                                         (const uint8_t *) rsa.pem,
                                         rsa.pem_len, NULL), RBAC_EINVAL);
    rbac_jwt_keyset_free(ks);
}


/* HS256 with an empty secret, which libjwt accepts given no key. */
static void
test_forgery_empty_key(void **state)
{
    char               *tok;
    jwt_t              *jwt;
    rbac_err_t          err;
    rbac_jwt_keyset_t  *ks;

    tok = token(RBAC_JWT_HS256, NULL, good_claims(), "", 0, NULL);

    jwt = NULL;
    assert_int_equal(jwt_decode(&jwt, tok, NULL, 0), 0);
    jwt_free(jwt);

    /* no HS256 key configured: nothing is tried */
    ks = keyset1(RBAC_JWT_RS256, NULL, rsa.pem, rsa.pem_len);
    assert_rejected(ks, NULL, tok, RBAC_JWT_R_WRONG_ALG);
    rbac_jwt_keyset_free(ks);

    /* an HS256 key configured: the empty-secret signature does not match */
    ks = keyset1(RBAC_JWT_HS256, NULL, hs_secret, strlen(hs_secret));
    assert_rejected(ks, NULL, tok, RBAC_JWT_R_BAD_SIGNATURE);

    /* an empty key cannot be configured */
    assert_int_equal(rbac_jwt_keyset_add(ks, RBAC_JWT_HS256, S("e"),
                                         (const uint8_t *) "", 0, &err),
                     RBAC_EINVAL);
    assert_non_null(strstr(err.msg, "empty"));
    assert_int_equal(rbac_jwt_keyset_count(ks), 1);

    free(tok);
    rbac_jwt_keyset_free(ks);
}


static void
test_alg_none_and_unknown(void **state)
{
    char               *tok, *t2;
    char                h[64], c[512];
    rbac_jwt_keyset_t  *ks;
    static const char  *algs[] = {
        "none", "None", "hs256", "PS256", "HS1", "EdDSA", ""
    };
    size_t              i;

    ks = keyset1(RBAC_JWT_HS256, NULL, hs_secret, strlen(hs_secret));

    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        snprintf(h, sizeof(h), "{\"alg\":\"%s\",\"typ\":\"JWT\"}", algs[i]);
        tok = token_raw(h, good_claims(), RBAC_JWT_HS256, hs_secret,
                        strlen(hs_secret), NULL);
        assert_rejected(ks, NULL, tok, RBAC_JWT_R_WRONG_ALG);
        free(tok);
    }

    /* the classic unsigned form, empty signature: not even well formed */
    b64url((const uint8_t *) "{\"alg\":\"none\"}", 14, h);
    b64url((const uint8_t *) good_claims(), strlen(good_claims()), c);
    t2 = malloc(strlen(h) + strlen(c) + 3);
    assert_non_null(t2);
    sprintf(t2, "%s.%s.", h, c);
    assert_rejected(ks, NULL, t2, RBAC_JWT_R_MALFORMED);
    free(t2);

    rbac_jwt_keyset_free(ks);
}


static void
test_kid_selection(void **state)
{
    char               *tok;
    rbac_err_t          err;
    rbac_jwt_keyset_t  *ks;

    ks = rbac_jwt_keyset_create(&rbac_malloc_allocator, &err);
    assert_non_null(ks);
    assert_int_equal(rbac_jwt_keyset_add(ks, RBAC_JWT_HS256, S("a"),
                                         (const uint8_t *) hs_secret,
                                         strlen(hs_secret), &err), RBAC_OK);
    assert_int_equal(rbac_jwt_keyset_add(ks, RBAC_JWT_HS256, S("b"),
                                         (const uint8_t *) hs_secret2,
                                         strlen(hs_secret2), &err), RBAC_OK);
    assert_int_equal(rbac_jwt_keyset_add(ks, RBAC_JWT_ES256, S("e"),
                                         (const uint8_t *) ec256.pem,
                                         ec256.pem_len, &err), RBAC_OK);
    assert_int_equal(rbac_jwt_keyset_count(ks), 3);

    /* kid b selects b */
    tok = token(RBAC_JWT_HS256, "b", good_claims(), hs_secret2,
                strlen(hs_secret2), NULL);
    assert_int_equal(verify(ks, NULL, tok, &err), RBAC_OK);
    free(tok);

    /* kid a with b's signature: a only, no fallback to b */
    tok = token(RBAC_JWT_HS256, "a", good_claims(), hs_secret2,
                strlen(hs_secret2), NULL);
    assert_rejected(ks, NULL, tok, RBAC_JWT_R_BAD_SIGNATURE);
    free(tok);

    /* a kid no key has */
    tok = token(RBAC_JWT_HS256, "c", good_claims(), hs_secret2,
                strlen(hs_secret2), NULL);
    assert_rejected(ks, NULL, tok, RBAC_JWT_R_UNKNOWN_KID);
    free(tok);

    /* kid e exists, but pinned to ES256 */
    tok = token(RBAC_JWT_HS256, "e", good_claims(), hs_secret2,
                strlen(hs_secret2), NULL);
    assert_rejected(ks, NULL, tok, RBAC_JWT_R_WRONG_ALG);
    free(tok);

    /* no kid: every HS256 key is tried */
    tok = token(RBAC_JWT_HS256, NULL, good_claims(), hs_secret2,
                strlen(hs_secret2), NULL);
    assert_int_equal(verify(ks, NULL, tok, &err), RBAC_OK);
    free(tok);

    tok = token(RBAC_JWT_ES256, "e", good_claims(), NULL, 0, ec256.pkey);
    assert_int_equal(verify(ks, NULL, tok, &err), RBAC_OK);
    free(tok);

    /* a duplicate (kid, alg) is refused; the same kid on another alg not */
    assert_int_equal(rbac_jwt_keyset_add(ks, RBAC_JWT_HS256, S("a"),
                                         (const uint8_t *) hs_secret2,
                                         strlen(hs_secret2), &err),
                     RBAC_EEXISTS);
    assert_non_null(strstr(err.msg, "kid=a"));
    assert_int_equal(rbac_jwt_keyset_add(ks, RBAC_JWT_HS384, S("a"),
                                         (const uint8_t *) hs_secret2,
                                         strlen(hs_secret2), &err), RBAC_OK);

    rbac_jwt_keyset_free(ks);
}


static void
test_malformed(void **state)
{
    char               *tok, *t;
    char                big[RBAC_MAX_TOKEN + 2];
    rbac_jwt_keyset_t  *ks;
    size_t              i;
    static const char  *bad[] = {
        "", "abc", "a.b", "a.b.c.d", "..", "a..c", ".b.c", "a.b.",
        "a b.c.d", "YQ==.YQ.YQ", "a+b.c/d.e", "e30.e30.e30",
        "W10.e30.e30"            /* header [] */
    };
    static const char  *headers[] = {
        "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}",
        "{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}",
        "{\"alg\":\"HS256\",\"typ\":7}",
        "{\"alg\":\"HS256\",\"kid\":7}",
        "{\"alg\":\"HS256\",\"kid\":\"\"}",
        "{\"alg\":256}",
        "{\"typ\":\"JWT\"}",
        "{\"alg\":\"HS256\"",
        "\"HS256\""
    };

    ks = keyset1(RBAC_JWT_HS256, NULL, hs_secret, strlen(hs_secret));

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_rejected(ks, NULL, bad[i], RBAC_JWT_R_MALFORMED);
    }

    for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        tok = token_raw(headers[i], good_claims(), RBAC_JWT_HS256, hs_secret,
                        strlen(hs_secret), NULL);
        assert_rejected(ks, NULL, tok, RBAC_JWT_R_MALFORMED);
        free(tok);
    }

    /* typ "jwt" in any case, or none at all, is fine */
    tok = token_raw("{\"alg\":\"HS256\",\"typ\":\"jwt\"}", good_claims(),
                    RBAC_JWT_HS256, hs_secret, strlen(hs_secret), NULL);
    assert_int_equal(verify(ks, NULL, tok, &(rbac_err_t) { 0 }), RBAC_OK);
    free(tok);
    tok = token_raw("{\"alg\":\"HS256\"}", good_claims(), RBAC_JWT_HS256,
                    hs_secret, strlen(hs_secret), NULL);
    assert_int_equal(verify(ks, NULL, tok, &(rbac_err_t) { 0 }), RBAC_OK);

    /* a kid longer than any configured one */
    memset(big, 'k', 300);
    big[300] = '\0';
    t = token(RBAC_JWT_HS256, big, good_claims(), hs_secret,
              strlen(hs_secret), NULL);
    assert_rejected(ks, NULL, t, RBAC_JWT_R_UNKNOWN_KID);
    free(t);

    /* oversize: one byte over 8 KiB, whatever it holds */
    memset(big, 'A', sizeof(big));
    big[RBAC_MAX_TOKEN + 1] = '\0';
    big[10] = '.';
    big[20] = '.';
    assert_rejected(ks, NULL, big, RBAC_JWT_R_OVERSIZE);

    /* a payload that is not JSON under a valid signature */
    free(tok);
    tok = token_raw("{\"alg\":\"HS256\"}", "not json", RBAC_JWT_HS256,
                    hs_secret, strlen(hs_secret), NULL);
    assert_int_equal(verify(ks, NULL, tok, &(rbac_err_t) { 0 }), RBAC_ETOKEN);
    free(tok);

    rbac_jwt_keyset_free(ks);
}


/* ---------------------------------------------------------------------
 * Claims, through rbac_jwt_check_claims and once through verify.
 */

/*
 * Runs the claim checks on the printf-formatted claims at NOW: "ok", the
 * 401 detail, or "rc=<n>" for any other failure.
 */
static const char *
claims(const rbac_jwt_checks_t *chk, const char *fmt, ...)
{
    char               buf[1024];
    va_list            ap;
    rbac_rc_t          rc;
    rbac_err_t         err;
    rbac_jwt_checks_t  def;
    rbac_jwt_result_t  res;
    static char        out[RBAC_ERR_LEN + 16];

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);

    if (chk == NULL) {
        rbac_jwt_checks_init(&def);
        chk = &def;
    }

    memset(&res, 0, sizeof(res));
    rc = rbac_jwt_check_claims(chk, S(buf), NOW, &rbac_malloc_allocator,
                               &res, &err);

    if (rc == RBAC_OK) {
        assert_non_null(res.mem);
        rbac_jwt_result_free(&rbac_malloc_allocator, &res);
        return "ok";
    }

    if (rc == RBAC_ETOKEN) {
        snprintf(out, sizeof(out), "%s", err.msg);
    } else {
        snprintf(out, sizeof(out), "rc=%d", (int) rc);
    }

    return out;
}


#define N  ((long long) NOW)

static void
test_claims_exp(void **state)
{
    rbac_jwt_checks_t  chk;

    rbac_jwt_checks_init(&chk);

    assert_string_equal(claims(NULL, "{\"sub\":\"u\"}"), RBAC_JWT_R_NO_EXP);
    assert_string_equal(claims(NULL, "{\"sub\":\"u\",\"exp\":\"%lld\"}",
                               N + 60), RBAC_JWT_R_NO_EXP);
    assert_string_equal(claims(NULL, "{\"sub\":\"u\",\"exp\":true}"),
                        RBAC_JWT_R_NO_EXP);
    assert_string_equal(claims(NULL, "{\"sub\":\"u\",\"exp\":null}"),
                        RBAC_JWT_R_NO_EXP);
    assert_string_equal(claims(NULL, "{\"sub\":\"u\",\"exp\":[%lld]}",
                               N + 60), RBAC_JWT_R_NO_EXP);
    assert_string_equal(claims(NULL, "{\"sub\":\"u\",\"exp\":1e999}"),
                        RBAC_JWT_R_NO_EXP);

    /* within the default 30 s leeway, and the boundary */
    assert_string_equal(claims(NULL, "{\"sub\":\"u\",\"exp\":%lld}", N + 1),
                        "ok");
    assert_string_equal(claims(NULL, "{\"sub\":\"u\",\"exp\":%lld}", N - 29),
                        "ok");
    assert_string_equal(claims(NULL, "{\"sub\":\"u\",\"exp\":%lld}", N - 30),
                        RBAC_JWT_R_EXPIRED);
    assert_string_equal(claims(NULL, "{\"sub\":\"u\",\"exp\":%lld}",
                               N - 3600), RBAC_JWT_R_EXPIRED);
    assert_string_equal(claims(NULL, "{\"sub\":\"u\",\"exp\":0}"),
                        RBAC_JWT_R_EXPIRED);
    assert_string_equal(claims(NULL, "{\"sub\":\"u\",\"exp\":%lld.5}", N),
                        "ok");

    /* no leeway: expiry is exact */
    chk.leeway = 0;
    assert_string_equal(claims(&chk, "{\"sub\":\"u\",\"exp\":%lld}", N),
                        RBAC_JWT_R_EXPIRED);
    assert_string_equal(claims(&chk, "{\"sub\":\"u\",\"exp\":%lld}", N + 1),
                        "ok");

    /* maximum leeway */
    chk.leeway = RBAC_JWT_LEEWAY_MAX;
    assert_string_equal(claims(&chk, "{\"sub\":\"u\",\"exp\":%lld}",
                               N - 299), "ok");
    assert_string_equal(claims(&chk, "{\"sub\":\"u\",\"exp\":%lld}",
                               N - 300), RBAC_JWT_R_EXPIRED);

    /* out of range leeway is the caller's error, not the token's */
    chk.leeway = RBAC_JWT_LEEWAY_MAX + 1;
    assert_string_equal(claims(&chk, "{\"sub\":\"u\",\"exp\":%lld}", N + 60),
                        "rc=3");
    chk.leeway = -1;
    assert_string_equal(claims(&chk, "{\"sub\":\"u\",\"exp\":%lld}", N + 60),
                        "rc=3");
}


static void
test_claims_nbf_iat(void **state)
{
    assert_string_equal(claims(NULL, "{\"sub\":\"u\",\"exp\":%lld,"
                               "\"nbf\":%lld}", N + 600, N + 30), "ok");
    assert_string_equal(claims(NULL, "{\"sub\":\"u\",\"exp\":%lld,"
                               "\"nbf\":%lld}", N + 600, N + 31),
                        RBAC_JWT_R_NOT_YET_VALID);
    assert_string_equal(claims(NULL, "{\"sub\":\"u\",\"exp\":%lld,"
                               "\"nbf\":\"soon\"}", N + 600),
                        RBAC_JWT_R_MALFORMED);
    assert_string_equal(claims(NULL, "{\"sub\":\"u\",\"exp\":%lld,"
                               "\"iat\":%lld}", N + 600, N + 31),
                        RBAC_JWT_R_NOT_YET_VALID);
    assert_string_equal(claims(NULL, "{\"sub\":\"u\",\"exp\":%lld,"
                               "\"iat\":%lld}", N + 600, N + 30), "ok");
    assert_string_equal(claims(NULL, "{\"sub\":\"u\",\"exp\":%lld,"
                               "\"iat\":{}}", N + 600), RBAC_JWT_R_MALFORMED);
}


static void
test_claims_iss_aud(void **state)
{
    rbac_jwt_checks_t  chk;
    rbac_str_t         iss[2], aud[2];

    iss[0] = S("https://idp.one");
    iss[1] = S("https://idp.two");
    aud[0] = S("coder");
    aud[1] = S("api");

    rbac_jwt_checks_init(&chk);

    /* nothing configured: nothing checked */
    assert_string_equal(claims(&chk, "{\"sub\":\"u\",\"exp\":%lld,"
                               "\"iss\":\"x\",\"aud\":5}", N + 60), "ok");

    chk.issuers = iss;
    chk.nissuers = 2;

    assert_string_equal(claims(&chk, "{\"sub\":\"u\",\"exp\":%lld,"
                               "\"iss\":\"https://idp.two\"}", N + 60), "ok");
    assert_string_equal(claims(&chk, "{\"sub\":\"u\",\"exp\":%lld,"
                               "\"iss\":\"https://idp.three\"}", N + 60),
                        RBAC_JWT_R_WRONG_ISSUER);
    assert_string_equal(claims(&chk, "{\"sub\":\"u\",\"exp\":%lld,"
                               "\"iss\":\"https://idp.on\"}", N + 60),
                        RBAC_JWT_R_WRONG_ISSUER);
    assert_string_equal(claims(&chk, "{\"sub\":\"u\",\"exp\":%lld}", N + 60),
                        RBAC_JWT_R_WRONG_ISSUER);
    assert_string_equal(claims(&chk, "{\"sub\":\"u\",\"exp\":%lld,"
                               "\"iss\":[\"https://idp.one\"]}", N + 60),
                        RBAC_JWT_R_WRONG_ISSUER);

    chk.audiences = aud;
    chk.naudiences = 2;

    assert_string_equal(claims(&chk, "{\"sub\":\"u\",\"exp\":%lld,"
                               "\"iss\":\"https://idp.one\",\"aud\":\"api\"}",
                               N + 60), "ok");
    assert_string_equal(claims(&chk, "{\"sub\":\"u\",\"exp\":%lld,"
                               "\"iss\":\"https://idp.one\","
                               "\"aud\":[\"other\",7,\"coder\"]}", N + 60),
                        "ok");
    assert_string_equal(claims(&chk, "{\"sub\":\"u\",\"exp\":%lld,"
                               "\"iss\":\"https://idp.one\","
                               "\"aud\":[\"other\",\"apis\"]}", N + 60),
                        RBAC_JWT_R_WRONG_AUDIENCE);
    assert_string_equal(claims(&chk, "{\"sub\":\"u\",\"exp\":%lld,"
                               "\"iss\":\"https://idp.one\",\"aud\":[]}",
                               N + 60), RBAC_JWT_R_WRONG_AUDIENCE);
    assert_string_equal(claims(&chk, "{\"sub\":\"u\",\"exp\":%lld,"
                               "\"iss\":\"https://idp.one\",\"aud\":\"Api\"}",
                               N + 60), RBAC_JWT_R_WRONG_AUDIENCE);
    assert_string_equal(claims(&chk, "{\"sub\":\"u\",\"exp\":%lld,"
                               "\"iss\":\"https://idp.one\"}", N + 60),
                        RBAC_JWT_R_WRONG_AUDIENCE);
    assert_string_equal(claims(&chk, "{\"sub\":\"u\",\"exp\":%lld,"
                               "\"iss\":\"https://idp.one\",\"aud\":{}}",
                               N + 60), RBAC_JWT_R_WRONG_AUDIENCE);
}


static void
test_claims_sub(void **state)
{
    char  name[RBAC_MAX_NAME + 2];

    assert_string_equal(claims(NULL, "{\"exp\":%lld}", N + 60),
                        RBAC_JWT_R_NO_SUB);
    assert_string_equal(claims(NULL, "{\"sub\":\"\",\"exp\":%lld}", N + 60),
                        RBAC_JWT_R_NO_SUB);
    assert_string_equal(claims(NULL, "{\"sub\":42,\"exp\":%lld}", N + 60),
                        RBAC_JWT_R_NO_SUB);
    assert_string_equal(claims(NULL, "{\"sub\":\"a\\r\\nX-Rbac-User: b\","
                               "\"exp\":%lld}", N + 60), RBAC_JWT_R_NO_SUB);
    assert_string_equal(claims(NULL, "{\"sub\":\"adm\\u0000in\","
                               "\"exp\":%lld}", N + 60),
                        RBAC_JWT_R_MALFORMED);

    memset(name, 'n', sizeof(name));
    name[RBAC_MAX_NAME] = '\0';
    assert_string_equal(claims(NULL, "{\"sub\":\"%s\",\"exp\":%lld}", name,
                               N + 60), "ok");
    name[RBAC_MAX_NAME] = 'n';
    name[RBAC_MAX_NAME + 1] = '\0';
    assert_string_equal(claims(NULL, "{\"sub\":\"%s\",\"exp\":%lld}", name,
                               N + 60), RBAC_JWT_R_NO_SUB);
}


static void
test_claims_shape_and_size(void **state)
{
    char               *big;
    size_t              n;
    rbac_err_t          err;
    rbac_jwt_checks_t   chk;
    rbac_jwt_result_t   res;

    assert_string_equal(claims(NULL, "[]"), RBAC_JWT_R_MALFORMED);
    assert_string_equal(claims(NULL, "{\"sub\":"), RBAC_JWT_R_MALFORMED);
    assert_string_equal(claims(NULL, "\"x\""), RBAC_JWT_R_MALFORMED);

    /* two members of one name, at any depth: cJSON and jansson disagree */
    assert_string_equal(claims(NULL, "{\"sub\":\"u\",\"exp\":%lld,"
                               "\"sub\":\"v\"}", N + 60),
                        RBAC_JWT_R_MALFORMED);
    assert_string_equal(claims(NULL, "{\"sub\":\"u\",\"exp\":%lld,"
                               "\"ra\":{\"roles\":[\"a\"],"
                               "\"roles\":[\"owner\"]}}", N + 60),
                        RBAC_JWT_R_MALFORMED);
    assert_string_equal(claims(NULL, "{\"sub\":\"u\",\"exp\":%lld,"
                               "\"l\":[{\"r\":1},{\"s\":{\"t\":1,"
                               "\"t\":2}}]}", N + 60),
                        RBAC_JWT_R_MALFORMED);

    /* one name in two objects is no duplicate */
    assert_string_equal(claims(NULL, "{\"sub\":\"u\",\"exp\":%lld,"
                               "\"l\":[{\"sub\":1},{\"sub\":1}],"
                               "\"m\":{\"sub\":2}}", N + 60), "ok");

    rbac_jwt_checks_init(&chk);

    /* a claim set just over 64 KiB, otherwise valid */
    big = malloc(RBAC_MAX_CLAIMS + 256);
    assert_non_null(big);
    n = (size_t) snprintf(big, 256, "{\"sub\":\"u\",\"exp\":%lld,\"pad\":\"",
                          N + 60);
    memset(big + n, 'p', RBAC_MAX_CLAIMS - n);
    strcpy(big + RBAC_MAX_CLAIMS - 2, "\"}");
    n = strlen(big);
    assert_int_equal(n, RBAC_MAX_CLAIMS);

    memset(&res, 0, sizeof(res));
    assert_int_equal(rbac_jwt_check_claims(&chk, S(big), NOW,
                                           &rbac_malloc_allocator, &res,
                                           &err), RBAC_OK);
    rbac_jwt_result_free(&rbac_malloc_allocator, &res);

    memmove(big + 30, big + 29, n - 29 + 1);
    assert_int_equal(rbac_jwt_check_claims(&chk, S(big), NOW,
                                           &rbac_malloc_allocator, &res,
                                           &err), RBAC_ETOKEN);
    assert_string_equal(err.msg, RBAC_JWT_R_OVERSIZE);
    free(big);

    /* exp far out is clamped, not wrapped */
    memset(&res, 0, sizeof(res));
    assert_int_equal(rbac_jwt_check_claims(&chk,
                         S("{\"sub\":\"u\",\"exp\":1e300}"), NOW,
                         &rbac_malloc_allocator, &res, &err), RBAC_OK);
    assert_true(res.exp > NOW);
    assert_int_equal(res.iat, 0);
    rbac_jwt_result_free(&rbac_malloc_allocator, &res);
}


/* The claim checks reached through a signed token. */
static void
test_claims_through_verify(void **state)
{
    char                c[256], *tok;
    rbac_err_t          err;
    rbac_jwt_result_t   res;
    rbac_jwt_checks_t   chk;
    rbac_str_t          iss = rbac_string("https://idp");
    rbac_jwt_keyset_t  *ks;

    ks = keyset1(RBAC_JWT_ES384, NULL, ec384.pem, ec384.pem_len);
    rbac_jwt_checks_init(&chk);
    chk.issuers = &iss;
    chk.nissuers = 1;

    snprintf(c, sizeof(c), "{\"sub\":\"u\",\"exp\":%lld,\"iss\":\"x\"}",
             N + 60);
    tok = token(RBAC_JWT_ES384, NULL, c, NULL, 0, ec384.pkey);
    assert_rejected(ks, &chk, tok, RBAC_JWT_R_WRONG_ISSUER);
    free(tok);

    /* jwt_get_grant_int would read this exp as 0; we read "no exp" */
    snprintf(c, sizeof(c), "{\"sub\":\"u\",\"exp\":\"%lld\","
             "\"iss\":\"https://idp\"}", N + 60);
    tok = token(RBAC_JWT_ES384, NULL, c, NULL, 0, ec384.pkey);
    assert_rejected(ks, &chk, tok, RBAC_JWT_R_NO_EXP);
    free(tok);

    snprintf(c, sizeof(c), "{\"sub\":\"u\",\"exp\":%lld,"
             "\"iss\":\"https://idp\"}", N - 31);
    tok = token(RBAC_JWT_ES384, NULL, c, NULL, 0, ec384.pkey);
    assert_rejected(ks, &chk, tok, RBAC_JWT_R_EXPIRED);
    free(tok);

    snprintf(c, sizeof(c), "{\"sub\":\"u\",\"exp\":%lld,"
             "\"iss\":\"https://idp\"}", N + 60);
    tok = token(RBAC_JWT_ES384, NULL, c, NULL, 0, ec384.pkey);
    assert_int_equal(verify(ks, &chk, tok, &(rbac_err_t) { 0 }), RBAC_OK);
    free(tok);

    /* libjwt would hand on the last "groups" alone: the token is refused */
    snprintf(c, sizeof(c), "{\"sub\":\"u\",\"exp\":%lld,"
             "\"iss\":\"https://idp\",\"groups\":[\"dev\"],"
             "\"groups\":[\"admins\"]}", N + 60);
    tok = token(RBAC_JWT_ES384, NULL, c, NULL, 0, ec384.pkey);
    assert_rejected(ks, &chk, tok, RBAC_JWT_R_MALFORMED);
    free(tok);

    /* the claims handed back are the payload as signed, byte for byte */
    snprintf(c, sizeof(c), "{ \"iss\" : \"https://idp\", \"exp\": %lld,"
             "\"sub\":\"u\" }", N + 60);
    tok = token(RBAC_JWT_ES384, NULL, c, NULL, 0, ec384.pkey);
    memset(&res, 0, sizeof(res));
    assert_int_equal(rbac_jwt_verify(ks, &chk, S(tok), NOW,
                                     &rbac_malloc_allocator, &res, &err),
                     RBAC_OK);
    assert_int_equal(res.claims.len, strlen(c));
    assert_memory_equal(res.claims.data, c, strlen(c));
    rbac_jwt_result_free(&rbac_malloc_allocator, &res);
    free(tok);

    rbac_jwt_keyset_free(ks);
}


/* ---------------------------------------------------------------------
 * Keys refused at add time (what makes `nginx -t` fail).
 */

static rbac_rc_t
add(rbac_jwt_alg_t alg, const char *kid, const void *key, size_t len,
    rbac_err_t *err)
{
    rbac_rc_t           rc;
    rbac_jwt_keyset_t  *ks;

    ks = rbac_jwt_keyset_create(&rbac_malloc_allocator, err);
    assert_non_null(ks);
    memset(err, 0, sizeof(*err));
    rc = rbac_jwt_keyset_add(ks, alg, kid ? S(kid) : no_kid, key, len, err);
    assert_int_equal(rbac_jwt_keyset_count(ks), rc == RBAC_OK ? 1 : 0);
    rbac_jwt_keyset_free(ks);

    return rc;
}


static void
test_key_validation(void **state)
{
    char               kid[RBAC_JWT_MAX_KID + 2];
    char              *priv;
    BIO               *bio;
    long               n;
    rbac_err_t         err;
    static const char  pem_secret[] =
        "this secret embeds -----BEGIN PUBLIC KEY----- somewhere in it....";

    /* HS: PEM refused, short refused, long enough accepted */
    assert_int_equal(add(RBAC_JWT_HS256, NULL, pem_secret,
                         strlen(pem_secret), &err), RBAC_EINVAL);
    assert_non_null(strstr(err.msg, "PEM"));
    assert_non_null(strstr(err.msg, "HS256"));
    assert_int_equal(add(RBAC_JWT_HS512, NULL, ec256.pem, ec256.pem_len,
                         &err), RBAC_EINVAL);
    assert_int_equal(add(RBAC_JWT_HS256, NULL, hs_secret, 31, &err),
                     RBAC_EINVAL);
    assert_non_null(strstr(err.msg, "32"));
    assert_int_equal(add(RBAC_JWT_HS256, NULL, hs_secret, 32, &err),
                     RBAC_OK);
    assert_int_equal(add(RBAC_JWT_HS384, NULL, hs_secret, 47, &err),
                     RBAC_EINVAL);
    assert_int_equal(add(RBAC_JWT_HS512, NULL, hs_secret, 64, &err),
                     RBAC_OK);

    /* RS: must be an RSA SPKI PEM of 2048 bits or more */
    assert_int_equal(add(RBAC_JWT_RS256, NULL, ec256.pem, ec256.pem_len,
                         &err), RBAC_EINVAL);
    assert_non_null(strstr(err.msg, "not an RSA key"));
    assert_int_equal(add(RBAC_JWT_RS384, NULL, hs_secret, strlen(hs_secret),
                         &err), RBAC_EINVAL);
    assert_non_null(strstr(err.msg, "PUBLIC KEY"));
    assert_int_equal(add(RBAC_JWT_RS256, NULL, rsa1024.pem,
                         rsa1024.pem_len, &err), RBAC_EINVAL);
    assert_non_null(strstr(err.msg, "1024"));

    /* a private key is not a public key file */
    bio = BIO_new(BIO_s_mem());
    assert_non_null(bio);
    assert_int_equal(PEM_write_bio_PrivateKey(bio, rsa.pkey, NULL, NULL, 0,
                                              NULL, NULL), 1);
    n = BIO_get_mem_data(bio, &priv);
    assert_int_equal(add(RBAC_JWT_RS256, NULL, priv, (size_t) n, &err),
                     RBAC_EINVAL);
    BIO_free(bio);

    /* ES: an EC key on the alg's curve */
    assert_int_equal(add(RBAC_JWT_ES256, NULL, ec384.pem, ec384.pem_len,
                         &err), RBAC_EINVAL);
    assert_non_null(strstr(err.msg, "P-256"));
    assert_non_null(strstr(err.msg, "secp384r1"));
    assert_int_equal(add(RBAC_JWT_ES512, NULL, ec256.pem, ec256.pem_len,
                         &err), RBAC_EINVAL);
    assert_non_null(strstr(err.msg, "P-521"));
    assert_int_equal(add(RBAC_JWT_ES384, NULL, rsa.pem, rsa.pem_len, &err),
                     RBAC_EINVAL);
    assert_non_null(strstr(err.msg, "not an EC key"));
    assert_int_equal(add(RBAC_JWT_ES384, NULL, ec384.pem, ec384.pem_len,
                         &err), RBAC_OK);
    assert_int_equal(add(RBAC_JWT_ES512, NULL, ec521.pem, ec521.pem_len,
                         &err), RBAC_OK);

    /* alg none, bad bounds */
    assert_int_equal(add(RBAC_JWT_ALG_NONE, NULL, hs_secret,
                         strlen(hs_secret), &err), RBAC_EINVAL);
    assert_int_equal(add((rbac_jwt_alg_t) 42, NULL, hs_secret,
                         strlen(hs_secret), &err), RBAC_EINVAL);
    memset(kid, 'k', sizeof(kid));
    kid[RBAC_JWT_MAX_KID + 1] = '\0';
    assert_int_equal(add(RBAC_JWT_HS256, kid, hs_secret, strlen(hs_secret),
                         &err), RBAC_EBOUND);
    kid[RBAC_JWT_MAX_KID] = '\0';
    assert_int_equal(add(RBAC_JWT_HS256, kid, hs_secret, strlen(hs_secret),
                         &err), RBAC_OK);
}


static void
test_alg_names(void **state)
{
    int  a;

    for (a = RBAC_JWT_HS256; a <= RBAC_JWT_ES512; a++) {
        assert_int_equal(rbac_jwt_alg_parse(S(rbac_jwt_alg_name(
                             (rbac_jwt_alg_t) a))), a);
        /* same numbering as libjwt */
        assert_int_equal(jwt_str_alg(rbac_jwt_alg_name((rbac_jwt_alg_t) a)),
                         a);
    }

    assert_int_equal(rbac_jwt_alg_parse(S("none")), RBAC_JWT_ALG_NONE);
    assert_int_equal(rbac_jwt_alg_parse(S("HS2560")), RBAC_JWT_ALG_NONE);
    assert_string_equal(rbac_jwt_alg_name((rbac_jwt_alg_t) 99), "none");
}


static void
test_too_many_keys(void **state)
{
    int                 i;
    char                kid[16];
    rbac_err_t          err;
    rbac_jwt_keyset_t  *ks;

    ks = rbac_jwt_keyset_create(&rbac_malloc_allocator, &err);
    assert_non_null(ks);

    for (i = 0; i < RBAC_JWT_MAX_KEYS; i++) {
        snprintf(kid, sizeof(kid), "k%d", i);
        assert_int_equal(rbac_jwt_keyset_add(ks, RBAC_JWT_HS256, S(kid),
                                             (const uint8_t *) hs_secret,
                                             strlen(hs_secret), &err),
                         RBAC_OK);
    }

    assert_int_equal(rbac_jwt_keyset_add(ks, RBAC_JWT_HS256, S("more"),
                                         (const uint8_t *) hs_secret,
                                         strlen(hs_secret), &err),
                     RBAC_EBOUND);
    rbac_jwt_keyset_free(ks);
}


/* ---------------------------------------------------------------------
 * Identity.
 */

static void
identity_of(const char *kid, const char *secret, const char *iss,
    const char *aud, int64_t leeway, const char *catalog, uint8_t out[32])
{
    rbac_str_t          i, a;
    rbac_jwt_checks_t   chk;
    rbac_jwt_keyset_t  *ks;

    ks = keyset1(RBAC_JWT_HS256, kid, secret, strlen(secret));
    rbac_jwt_checks_init(&chk);
    i = S(iss ? iss : "");
    a = S(aud ? aud : "");
    chk.issuers = &i;
    chk.nissuers = iss ? 1 : 0;
    chk.audiences = &a;
    chk.naudiences = aud ? 1 : 0;
    chk.leeway = leeway;
    assert_int_equal(rbac_jwt_identity(ks, &chk, S(catalog), out), RBAC_OK);
    rbac_jwt_keyset_free(ks);
}


static void
test_identity(void **state)
{
    uint8_t            base[32], again[32], other[32];
    rbac_jwt_checks_t  chk;

    identity_of("k", hs_secret, "i", "a", 30, "{}", base);
    identity_of("k", hs_secret, "i", "a", 30, "{}", again);
    assert_memory_equal(base, again, 32);

    identity_of("k2", hs_secret, "i", "a", 30, "{}", other);
    assert_memory_not_equal(base, other, 32);
    identity_of(NULL, hs_secret, "i", "a", 30, "{}", other);
    assert_memory_not_equal(base, other, 32);
    identity_of("k", hs_secret2, "i", "a", 30, "{}", other);
    assert_memory_not_equal(base, other, 32);
    identity_of("k", hs_secret, "j", "a", 30, "{}", other);
    assert_memory_not_equal(base, other, 32);
    identity_of("k", hs_secret, NULL, "a", 30, "{}", other);
    assert_memory_not_equal(base, other, 32);
    identity_of("k", hs_secret, "i", "b", 30, "{}", other);
    assert_memory_not_equal(base, other, 32);
    /* an issuer is not an audience */
    identity_of("k", hs_secret, "a", "i", 30, "{}", other);
    assert_memory_not_equal(base, other, 32);
    identity_of("k", hs_secret, "i", "a", 31, "{}", other);
    assert_memory_not_equal(base, other, 32);
    identity_of("k", hs_secret, "i", "a", 30, "{ }", other);
    assert_memory_not_equal(base, other, 32);

    rbac_jwt_checks_init(&chk);
    assert_int_equal(rbac_jwt_identity(NULL, &chk, S("{}"), other), RBAC_OK);
    assert_memory_not_equal(base, other, 32);
}


/* ---------------------------------------------------------------------
 * Allocation failures.
 */

typedef struct {
    long    fail_at;        /* the call number that fails; -1 never */
    long    calls;
    long    live;
} fail_alloc_t;


static void *
fail_alloc(void *ud, size_t size)
{
    void          *p;
    fail_alloc_t  *f = ud;

    if (f->calls++ == f->fail_at) {
        return NULL;
    }

    p = malloc(size);
    if (p != NULL) {
        f->live++;
    }

    return p;
}


static void
fail_free(void *ud, void *p)
{
    fail_alloc_t  *f = ud;

    if (p != NULL) {
        f->live--;
        free(p);
    }
}


/*
 * Builds a two-key set and verifies a token with the Nth allocation
 * failing: RBAC_OK once N is past every allocation, RBAC_ENOMEM before,
 * and nothing left allocated either way.
 */
static void
test_alloc_failures(void **state)
{
    long                n, total;
    char               *tok;
    rbac_rc_t           rc;
    rbac_err_t          err;
    fail_alloc_t        f;
    rbac_allocator_t    a;
    rbac_jwt_checks_t   chk;
    rbac_jwt_result_t   res;
    rbac_jwt_keyset_t  *ks;

    tok = token(RBAC_JWT_RS256, "r", good_claims(), NULL, 0, rsa.pkey);
    rbac_jwt_checks_init(&chk);
    a.alloc = fail_alloc;
    a.free = fail_free;
    a.ud = &f;
    total = -1;

    for (n = 0; n < 100 && total < 0; n++) {
        f.fail_at = n;
        f.calls = 0;
        f.live = 0;

        ks = rbac_jwt_keyset_create(&a, &err);
        if (ks == NULL) {
            assert_int_equal(err.rc, RBAC_ENOMEM);
            assert_int_equal(f.live, 0);
            continue;
        }

        rc = rbac_jwt_keyset_add(ks, RBAC_JWT_HS256, S("h"),
                                 (const uint8_t *) hs_secret,
                                 strlen(hs_secret), &err);
        if (rc == RBAC_OK) {
            rc = rbac_jwt_keyset_add(ks, RBAC_JWT_RS256, S("r"),
                                     (const uint8_t *) rsa.pem, rsa.pem_len,
                                     &err);
        }

        if (rc == RBAC_OK) {
            memset(&res, 0, sizeof(res));
            rc = rbac_jwt_verify(ks, &chk, S(tok), NOW, &a, &res, &err);
        }

        if (rc == RBAC_OK) {
            assert_string_equal(res.sub.data, "alice");
            rbac_jwt_result_free(&a, &res);
            total = n;
        } else {
            assert_int_equal(rc, RBAC_ENOMEM);
            assert_int_equal(err.rc, RBAC_ENOMEM);
        }

        rbac_jwt_keyset_free(ks);
        assert_int_equal(f.live, 0);
    }

    /* set, two keys, one result: four allocations, each failed once */
    assert_int_equal(total, 4);
    free(tok);
}


/*
 * cJSON's allocations failing in turn: the token is refused (never
 * accepted on a partial parse) and nothing leaks (ASan checks at exit).
 */
static void
test_cjson_failures(void **state)
{
    long                n;
    char               *tok;
    rbac_rc_t           rc;
    rbac_err_t          err;
    rbac_jwt_checks_t   chk;
    rbac_jwt_result_t   res;
    rbac_jwt_keyset_t  *ks;

    ks = keyset1(RBAC_JWT_HS256, NULL, hs_secret, strlen(hs_secret));
    tok = token(RBAC_JWT_HS256, NULL, good_claims(), hs_secret,
                strlen(hs_secret), NULL);
    rbac_jwt_checks_init(&chk);

    rc = RBAC_ETOKEN;

    for (n = 0; n < 200 && rc != RBAC_OK; n++) {
        testutil_cjson_fail_at(n + 1, 0);
        memset(&res, 0, sizeof(res));
        rc = rbac_jwt_verify(ks, &chk, S(tok), NOW, &rbac_malloc_allocator,
                             &res, &err);

        if (rc == RBAC_OK) {
            rbac_jwt_result_free(&rbac_malloc_allocator, &res);
        } else {
            assert_true(rc == RBAC_ETOKEN || rc == RBAC_ENOMEM);
        }
    }

    testutil_cjson_reset();

    assert_int_equal(rc, RBAC_OK);
    assert_true(n > 2);

    free(tok);
    rbac_jwt_keyset_free(ks);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_each_alg_verifies),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_forgery_alg_confusion),
        cmocka_unit_test(test_forgery_empty_key),
        cmocka_unit_test(test_alg_none_and_unknown),
        cmocka_unit_test(test_kid_selection),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_claims_exp),
        cmocka_unit_test(test_claims_nbf_iat),
        cmocka_unit_test(test_claims_iss_aud),
        cmocka_unit_test(test_claims_sub),
        cmocka_unit_test(test_claims_shape_and_size),
        cmocka_unit_test(test_claims_through_verify),
        cmocka_unit_test(test_key_validation),
        cmocka_unit_test(test_alg_names),
        cmocka_unit_test(test_too_many_keys),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_cjson_failures),
    };

    return cmocka_run_group_tests_name("jwt", tests, setup_keys,
                                       teardown_keys);
}
