/*
 * rbac_jwks.c: a JWKS document read into a JWT key set: each key's alg
 * pinned (rbac_jwks.h), its public key built with OpenSSL 3 from its
 * parameters (the EC point checked on its curve) and added as an SPKI PEM,
 * an oct key as its raw bytes, through rbac_jwt_keyset_add's checks.
 */

#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "rbac_claims.h"
#include "rbac_jwks.h"
#include "rbac_jwt_int.h"


#define RBAC_JWKS_MAX_PARAM  1024      /* decoded bytes of n or k */


typedef struct {
    const char      *crv;
    const char      *group;
    rbac_jwt_alg_t   alg;
    size_t           len;               /* bytes of x and of y */
} rbac_jwks_curve_t;

static const rbac_jwks_curve_t  rbac_jwks_curves[] = {
    { "P-256", "prime256v1", RBAC_JWT_ES256, 32 },
    { "P-384", "secp384r1",  RBAC_JWT_ES384, 48 },
    { "P-521", "secp521r1",  RBAC_JWT_ES512, 66 }
};

#define RBAC_JWKS_NCURVES                                                     \
    (sizeof(rbac_jwks_curves) / sizeof(rbac_jwks_curves[0]))


/* The string member `name` of o, or NULL (absent or not a string). */
static const char *
rbac_jwks_str(const cJSON *o, const char *name)
{
    const cJSON  *item;

    item = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsString(item) ? item->valuestring : NULL;
}


/*
 * The base64url member `name` of o decoded into out: between 1 and max
 * bytes, exactly `exact` when exact is not 0.  RBAC_OK or RBAC_EINVAL.
 */
static rbac_rc_t
rbac_jwks_param(const cJSON *o, const char *name, uint8_t *out, size_t max,
    size_t exact, size_t *len, rbac_err_t *kerr)
{
    size_t       n;
    const char  *s;

    s = rbac_jwks_str(o, name);
    if (s == NULL) {
        return rbac_err_set(kerr, RBAC_EINVAL, "no \"%s\"", name);
    }

    n = strlen(s);

    if (!rbac_jwt_b64_valid(s, n)) {
        return rbac_err_set(kerr, RBAC_EINVAL,
                            "\"%s\" is not unpadded base64url", name);
    }

    if (n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0) > max) {
        return rbac_err_set(kerr, RBAC_EINVAL,
                            "\"%s\" is over %zu bytes", name, max);
    }

    *len = rbac_jwt_b64_decode(s, n, out);

    if (exact != 0 && *len != exact) {
        return rbac_err_set(kerr, RBAC_EINVAL,
                            "\"%s\" is %zu bytes, expected %zu", name, *len,
                            exact);
    }

    return RBAC_OK;
}


/* The SPKI PEM of pkey added to ks under (alg, kid). */
static rbac_rc_t
rbac_jwks_add_pkey(rbac_jwt_keyset_t *ks, rbac_jwt_alg_t alg,
    rbac_str_t kid, EVP_PKEY *pkey, rbac_err_t *kerr)
{
    BIO        *bio;
    long        n;
    char       *pem;
    rbac_rc_t   rc;

    bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        return rbac_err_set(kerr, RBAC_ENOMEM, "out of memory");
    }

    if (PEM_write_bio_PUBKEY(bio, pkey) != 1) {
        BIO_free(bio);
        return rbac_err_set(kerr, RBAC_ENOMEM, "out of memory");
    }

    n = BIO_get_mem_data(bio, &pem);

    rc = rbac_jwt_keyset_add(ks, alg, kid, (const uint8_t *) pem,
                             (size_t) n, kerr);
    BIO_free(bio);

    return rc;
}


/* An RSA public key from n and e; e odd and at least 3, n odd. */
static rbac_rc_t
rbac_jwks_rsa(const cJSON *jk, EVP_PKEY **pkey, rbac_err_t *kerr)
{
    size_t           nlen, elen;
    BIGNUM          *bn, *be;
    uint8_t          n[RBAC_JWKS_MAX_PARAM], e[16];
    rbac_rc_t        rc;
    OSSL_PARAM      *params;
    EVP_PKEY_CTX    *ctx;
    OSSL_PARAM_BLD  *bld;

    rc = rbac_jwks_param(jk, "n", n, sizeof(n), 0, &nlen, kerr);
    if (rc == RBAC_OK) {
        rc = rbac_jwks_param(jk, "e", e, sizeof(e), 0, &elen, kerr);
    }

    if (rc != RBAC_OK) {
        return rc;
    }

    if ((n[nlen - 1] & 1) == 0 || (e[elen - 1] & 1) == 0
        || (elen == 1 && e[0] < 3))
    {
        return rbac_err_set(kerr, RBAC_EINVAL,
                            "RSA \"n\" or \"e\" is not a valid modulus or "
                            "exponent");
    }

    bn = BN_bin2bn(n, (int) nlen, NULL);
    be = BN_bin2bn(e, (int) elen, NULL);
    bld = OSSL_PARAM_BLD_new();
    params = NULL;
    ctx = NULL;
    rc = RBAC_ENOMEM;

    if (bn == NULL || be == NULL || bld == NULL
        || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) != 1
        || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) != 1
        || (params = OSSL_PARAM_BLD_to_param(bld)) == NULL
        || (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL
        || EVP_PKEY_fromdata_init(ctx) != 1)
    {
        goto done;
    }

    rc = RBAC_OK;

    if (EVP_PKEY_fromdata(ctx, pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        rc = RBAC_EINVAL;
    }

done:

    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);

    if (rc == RBAC_ENOMEM) {
        return rbac_err_set(kerr, rc, "out of memory");
    }

    if (rc != RBAC_OK) {
        return rbac_err_set(kerr, rc, "RSA parameters refused by OpenSSL");
    }

    return RBAC_OK;
}


/* An EC public key from x and y, on the curve c. */
static rbac_rc_t
rbac_jwks_ec(const cJSON *jk, const rbac_jwks_curve_t *c, EVP_PKEY **pkey,
    rbac_err_t *kerr)
{
    int            ok;
    size_t         len;
    uint8_t        pub[1 + 2 * 66];
    rbac_rc_t      rc;
    OSSL_PARAM     params[3];
    EVP_PKEY_CTX  *ctx, *check;

    pub[0] = 0x04;      /* uncompressed point */

    rc = rbac_jwks_param(jk, "x", pub + 1, c->len, c->len, &len, kerr);
    if (rc == RBAC_OK) {
        rc = rbac_jwks_param(jk, "y", pub + 1 + c->len, c->len, c->len,
                             &len, kerr);
    }

    if (rc != RBAC_OK) {
        return rc;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                 (char *) c->group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                                  pub, 1 + 2 * c->len);
    params[2] = OSSL_PARAM_construct_end();

    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1) {
        EVP_PKEY_CTX_free(ctx);
        return rbac_err_set(kerr, RBAC_ENOMEM, "out of memory");
    }

    ok = EVP_PKEY_fromdata(ctx, pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
    EVP_PKEY_CTX_free(ctx);

    if (ok) {
        /* the point on the curve, not at infinity, of the right order */
        check = EVP_PKEY_CTX_new_from_pkey(NULL, *pkey, NULL);
        ok = check != NULL && EVP_PKEY_public_check(check) == 1;
        EVP_PKEY_CTX_free(check);
    }

    if (!ok) {
        return rbac_err_set(kerr, RBAC_EINVAL, "EC point is not on %s",
                            c->crv);
    }

    return RBAC_OK;
}


/*
 * The alg of a key of type kty (its "alg", or a default), and for EC its
 * curve.  RBAC_OK; RBAC_ENOTFOUND: the key is skipped (an alg or a curve
 * not implemented); RBAC_EINVAL: refused.
 */
static rbac_rc_t
rbac_jwks_alg(const cJSON *jk, const char *kty, rbac_jwt_alg_t dflt,
    rbac_jwt_alg_t *alg, const rbac_jwks_curve_t **curve, rbac_err_t *kerr)
{
    size_t          i;
    rbac_str_t      s;
    const char     *name, *crv;
    const cJSON    *item;
    rbac_jwt_alg_t  lo, hi;

    item = cJSON_GetObjectItemCaseSensitive(jk, "alg");
    *alg = RBAC_JWT_ALG_NONE;
    *curve = NULL;

    if (item != NULL) {
        if (!cJSON_IsString(item)) {
            return rbac_err_set(kerr, RBAC_EINVAL, "\"alg\" is not a string");
        }

        name = item->valuestring;

        if (strcmp(name, "none") == 0) {
            return rbac_err_set(kerr, RBAC_EINVAL,
                                "alg \"none\" is never accepted");
        }

        s.data = name;
        s.len = strlen(name);
        *alg = rbac_jwt_alg_parse(s);

        if (*alg == RBAC_JWT_ALG_NONE) {
            return rbac_err_set(kerr, RBAC_ENOTFOUND,
                                "alg \"%.32s\" is not supported", name);
        }
    }

    if (strcmp(kty, "EC") == 0) {
        crv = rbac_jwks_str(jk, "crv");

        for (i = 0; crv != NULL && i < RBAC_JWKS_NCURVES; i++) {
            if (strcmp(crv, rbac_jwks_curves[i].crv) == 0) {
                *curve = &rbac_jwks_curves[i];
            }
        }

        if (*curve == NULL) {
            return rbac_err_set(kerr, RBAC_EINVAL,
                                "\"crv\" is not P-256, P-384 or P-521");
        }

        if (*alg == RBAC_JWT_ALG_NONE) {
            *alg = (*curve)->alg;     /* the curve pins it */
        }

        lo = hi = (*curve)->alg;

    } else if (strcmp(kty, "RSA") == 0) {
        lo = RBAC_JWT_RS256;
        hi = RBAC_JWT_RS512;

    } else {
        lo = RBAC_JWT_HS256;
        hi = RBAC_JWT_HS512;
    }

    if (*alg == RBAC_JWT_ALG_NONE) {
        if (dflt == RBAC_JWT_ALG_NONE) {
            return rbac_err_set(kerr, RBAC_EINVAL,
                                "no \"alg\" and no default alg= for a %s "
                                "key", kty);
        }

        *alg = dflt;
    }

    if (*alg < lo || *alg > hi) {
        return rbac_err_set(kerr, RBAC_EINVAL, "alg %s does not fit a %s "
                            "key", rbac_jwt_alg_name(*alg),
                            *curve ? (*curve)->crv : kty);
    }

    return RBAC_OK;
}


/* 1 if the key is meant for signatures ("use", "key_ops"), else 0. */
static int
rbac_jwks_for_sig(const cJSON *jk, rbac_err_t *kerr)
{
    const char   *use;
    const cJSON  *ops, *op;

    use = rbac_jwks_str(jk, "use");
    if (cJSON_GetObjectItemCaseSensitive(jk, "use") != NULL
        && (use == NULL || strcmp(use, "sig") != 0))
    {
        rbac_err_set(kerr, RBAC_ENOTFOUND, "\"use\" is not \"sig\"");
        return 0;
    }

    ops = cJSON_GetObjectItemCaseSensitive(jk, "key_ops");
    if (ops == NULL) {
        return 1;
    }

    cJSON_ArrayForEach(op, ops) {
        if (cJSON_IsString(op) && strcmp(op->valuestring, "verify") == 0) {
            return 1;
        }
    }

    rbac_err_set(kerr, RBAC_ENOTFOUND, "\"key_ops\" has no \"verify\"");
    return 0;
}


/*
 * One key of the document added to ks.  RBAC_OK; RBAC_ENOTFOUND: skipped;
 * RBAC_ENOMEM; any other rc: refused.  kerr says why.
 */
static rbac_rc_t
rbac_jwks_key(rbac_jwt_keyset_t *ks, const cJSON *jk, rbac_jwt_alg_t dflt,
    rbac_str_t *kid, rbac_err_t *kerr)
{
    size_t                    len;
    uint8_t                   k[RBAC_JWKS_MAX_PARAM];
    EVP_PKEY                 *pkey;
    rbac_rc_t                 rc;
    const char               *kty;
    const cJSON              *item;
    rbac_jwt_alg_t            alg;
    const rbac_jwks_curve_t  *curve;

    kid->data = NULL;
    kid->len = 0;

    if (!cJSON_IsObject(jk)) {
        return rbac_err_set(kerr, RBAC_EINVAL, "not a JSON object");
    }

    item = cJSON_GetObjectItemCaseSensitive(jk, "kid");
    if (item != NULL) {
        if (!cJSON_IsString(item) || item->valuestring[0] == '\0') {
            return rbac_err_set(kerr, RBAC_EINVAL,
                                "\"kid\" is not a non-empty string");
        }

        kid->data = item->valuestring;
        kid->len = strlen(item->valuestring);

        if (kid->len > RBAC_JWT_MAX_KID) {
            kid->len = 0;
            return rbac_err_set(kerr, RBAC_EINVAL,
                                "\"kid\" is over %d bytes", RBAC_JWT_MAX_KID);
        }
    }

    if (!rbac_jwks_for_sig(jk, kerr)) {
        return RBAC_ENOTFOUND;
    }

    kty = rbac_jwks_str(jk, "kty");
    if (kty == NULL) {
        return rbac_err_set(kerr, RBAC_EINVAL, "no \"kty\"");
    }

    if (strcmp(kty, "RSA") != 0 && strcmp(kty, "EC") != 0
        && strcmp(kty, "oct") != 0)
    {
        return rbac_err_set(kerr, RBAC_ENOTFOUND,
                            "kty \"%.32s\" is not supported", kty);
    }

    rc = rbac_jwks_alg(jk, kty, dflt, &alg, &curve, kerr);
    if (rc != RBAC_OK) {
        return rc;
    }

    if (kty[0] == 'o') {
        rc = rbac_jwks_param(jk, "k", k, sizeof(k), 0, &len, kerr);
        if (rc == RBAC_OK) {
            rc = rbac_jwt_keyset_add(ks, alg, *kid, k, len, kerr);
        }

        OPENSSL_cleanse(k, sizeof(k));
        return rc;
    }

    pkey = NULL;

    rc = curve ? rbac_jwks_ec(jk, curve, &pkey, kerr)
               : rbac_jwks_rsa(jk, &pkey, kerr);

    if (rc == RBAC_OK) {
        rc = rbac_jwks_add_pkey(ks, alg, *kid, pkey, kerr);
    }

    EVP_PKEY_free(pkey);

    return rc;
}


rbac_rc_t
rbac_jwks_add(rbac_jwt_keyset_t *ks, rbac_str_t doc, rbac_jwt_alg_t dflt,
    rbac_jwks_report_pt report, void *ud, size_t *added, rbac_err_t *err)
{
    size_t               i, n;
    cJSON               *root;
    rbac_rc_t            rc;
    rbac_str_t           kid;
    rbac_err_t           kerr;
    const cJSON         *keys, *jk;
    rbac_jwks_verdict_t  verdict;

    if (added != NULL) {
        *added = 0;
    }

    if (doc.len > RBAC_JWKS_MAX_DOC) {
        return rbac_err_set(err, RBAC_EBOUND, "JWKS is over %d bytes",
                            RBAC_JWKS_MAX_DOC);
    }

    if (doc.data == NULL || doc.len == 0) {
        return rbac_err_set(err, RBAC_EPARSE, "JWKS is empty");
    }

    root = cJSON_ParseWithLength(doc.data, doc.len);
    if (root == NULL) {
        return rbac_err_set(err, RBAC_EPARSE, "JWKS is not JSON");
    }

    keys = cJSON_GetObjectItemCaseSensitive(root, "keys");

    if (!cJSON_IsObject(root) || rbac_claims_dup_members(root)
        || !cJSON_IsArray(keys))
    {
        cJSON_Delete(root);
        return rbac_err_set(err, RBAC_EPARSE,
                            "JWKS is not a JSON object with a \"keys\" array "
                            "and no member name twice");
    }

    n = 0;
    i = 0;
    rc = RBAC_OK;

    cJSON_ArrayForEach(jk, keys) {
        memset(&kerr, 0, sizeof(rbac_err_t));

        rc = rbac_jwks_key(ks, jk, dflt, &kid, &kerr);

        if (rc == RBAC_ENOMEM) {
            rbac_err_set(err, rc, "out of memory reading a JWKS");
            break;
        }

        verdict = rc == RBAC_OK ? RBAC_JWKS_ADDED
                  : (rc == RBAC_ENOTFOUND ? RBAC_JWKS_SKIPPED
                                          : RBAC_JWKS_REFUSED);
        n += (rc == RBAC_OK);

        if (report != NULL) {
            report(ud, i, kid, verdict, rc == RBAC_OK ? "" : kerr.msg);
        }

        rc = RBAC_OK;
        i++;
    }

    cJSON_Delete(root);
    ERR_clear_error();

    if (added != NULL) {
        *added = n;
    }

    return rc;
}


rbac_rc_t
rbac_jwt_keyset_add_all(rbac_jwt_keyset_t *dst, const rbac_jwt_keyset_t *src,
    rbac_err_t *err)
{
    rbac_rc_t              rc;
    rbac_str_t             kid;
    const rbac_jwt_key_t  *k;

    for (k = src ? src->head : NULL; k != NULL; k = k->next) {
        kid.data = k->kid;
        kid.len = k->kid_len;

        rc = rbac_jwt_keyset_add(dst, k->alg, kid, k->key, k->len, err);
        if (rc != RBAC_OK) {
            return rc;
        }
    }

    return RBAC_OK;
}


int
rbac_jwt_keyset_get(const rbac_jwt_keyset_t *ks, size_t i, rbac_str_t *kid,
    rbac_jwt_alg_t *alg)
{
    const rbac_jwt_key_t  *k;

    for (k = ks ? ks->head : NULL; k != NULL && i > 0; k = k->next) {
        i--;
    }

    if (k == NULL) {
        return 0;
    }

    kid->data = k->kid;
    kid->len = k->kid_len;
    *alg = k->alg;

    return 1;
}
