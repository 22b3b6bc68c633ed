/*
 * rbac_jwt_key.c: the JWT key set: alg names, keys pinned to one alg and
 * validated with OpenSSL when added (configuration time), and the set's
 * identity for the JWT cache key.
 */

#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "rbac_jwt_int.h"


static const char  *rbac_jwt_alg_names[] = {
    "none",
    "HS256", "HS384", "HS512",
    "RS256", "RS384", "RS512",
    "ES256", "ES384", "ES512"
};

#define RBAC_JWT_NALGS  (sizeof(rbac_jwt_alg_names) / sizeof(char *))


rbac_jwt_alg_t
rbac_jwt_alg_parse(rbac_str_t name)
{
    size_t  i;

    for (i = 1; i < RBAC_JWT_NALGS; i++) {
        if (rbac_str_eq_cstr(name, rbac_jwt_alg_names[i])) {
            return (rbac_jwt_alg_t) i;
        }
    }

    return RBAC_JWT_ALG_NONE;
}


const char *
rbac_jwt_alg_name(rbac_jwt_alg_t alg)
{
    if ((size_t) alg >= RBAC_JWT_NALGS) {
        return "none";
    }

    return rbac_jwt_alg_names[alg];
}


rbac_jwt_keyset_t *
rbac_jwt_keyset_create(const rbac_allocator_t *a, rbac_err_t *err)
{
    rbac_jwt_keyset_t  *ks;

    ks = a->alloc(a->ud, sizeof(rbac_jwt_keyset_t));
    if (ks == NULL) {
        rbac_err_set(err, RBAC_ENOMEM, "out of memory for the JWT key set");
        return NULL;
    }

    ks->alloc = *a;
    ks->head = NULL;
    ks->tail = NULL;
    ks->n = 0;

    return ks;
}


size_t
rbac_jwt_keyset_count(const rbac_jwt_keyset_t *ks)
{
    return ks == NULL ? 0 : ks->n;
}


void
rbac_jwt_keyset_free(rbac_jwt_keyset_t *ks)
{
    rbac_jwt_key_t  *k, *next;

    if (ks == NULL) {
        return;
    }

    for (k = ks->head; k != NULL; k = next) {
        next = k->next;
        ks->alloc.free(ks->alloc.ud, k);
    }

    ks->alloc.free(ks->alloc.ud, ks);
}


static int
rbac_jwt_has_pem(const uint8_t *p, size_t len)
{
    size_t             i;
    static const char  begin[] = "-----BEGIN";

    for (i = 0; i + sizeof(begin) - 1 <= len; i++) {
        if (memcmp(p + i, begin, sizeof(begin) - 1) == 0) {
            return 1;
        }
    }

    return 0;
}


/* Checks that key is an SPKI PEM public key fitting alg (RS* or ES*). */
static rbac_rc_t
rbac_jwt_check_pem(rbac_jwt_alg_t alg, const uint8_t *key, size_t len,
    rbac_err_t *err)
{
    int          bits, id;
    BIO         *bio;
    char         group[64];
    size_t       glen;
    EVP_PKEY    *pkey;
    rbac_rc_t    rc;
    const char  *name, *want, *want_name;

    name = rbac_jwt_alg_name(alg);

    bio = BIO_new_mem_buf(key, (int) len);
    if (bio == NULL) {
        ERR_clear_error();
        return rbac_err_set(err, RBAC_ENOMEM,
                            "out of memory reading the alg=%s key", name);
    }

    pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);

    if (pkey == NULL) {
        ERR_clear_error();
        return rbac_err_set(err, RBAC_EINVAL,
                            "alg=%s key is not a PEM public key "
                            "(\"-----BEGIN PUBLIC KEY-----\", SPKI)", name);
    }

    rc = RBAC_OK;
    id = EVP_PKEY_get_base_id(pkey);

    if (alg <= RBAC_JWT_RS512) {
        if (id != EVP_PKEY_RSA) {
            rc = rbac_err_set(err, RBAC_EINVAL,
                              "alg=%s key is not an RSA key (%s)", name,
                              id == EVP_PKEY_EC ? "it is an EC key"
                                                : "other key type");
            goto done;
        }

        bits = EVP_PKEY_get_bits(pkey);
        if (bits < 2048) {
            rc = rbac_err_set(err, RBAC_EINVAL,
                              "alg=%s key has %d bits, at least 2048 needed",
                              name, bits);
        }

        goto done;
    }

    if (id != EVP_PKEY_EC) {
        rc = rbac_err_set(err, RBAC_EINVAL,
                          "alg=%s key is not an EC key (%s)", name,
                          id == EVP_PKEY_RSA ? "it is an RSA key"
                                             : "other key type");
        goto done;
    }

    switch (alg) {
    case RBAC_JWT_ES256:
        want = "prime256v1";
        want_name = "P-256";
        break;
    case RBAC_JWT_ES384:
        want = "secp384r1";
        want_name = "P-384";
        break;
    default:
        want = "secp521r1";
        want_name = "P-521";
        break;
    }

    glen = 0;
    if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen) != 1) {
        rc = rbac_err_set(err, RBAC_EINVAL,
                          "alg=%s key has no named curve, expected %s",
                          name, want_name);
        goto done;
    }

    if (strcmp(group, want) != 0) {
        rc = rbac_err_set(err, RBAC_EINVAL,
                          "alg=%s key is on curve %s, expected %s",
                          name, group, want_name);
    }

done:

    EVP_PKEY_free(pkey);
    ERR_clear_error();

    return rc;
}


rbac_rc_t
rbac_jwt_keyset_add(rbac_jwt_keyset_t *ks, rbac_jwt_alg_t alg,
    rbac_str_t kid, const uint8_t *key, size_t len, rbac_err_t *err)
{
    char            *p;
    size_t           min;
    rbac_rc_t        rc;
    const char      *name;
    rbac_jwt_key_t  *k;

    if (alg <= RBAC_JWT_ALG_NONE || (size_t) alg >= RBAC_JWT_NALGS) {
        return rbac_err_set(err, RBAC_EINVAL,
                            "alg must be one of HS256, HS384, HS512, RS256, "
                            "RS384, RS512, ES256, ES384, ES512");
    }

    name = rbac_jwt_alg_name(alg);

    if (ks->n >= RBAC_JWT_MAX_KEYS) {
        return rbac_err_set(err, RBAC_EBOUND, "more than %d JWT keys",
                            RBAC_JWT_MAX_KEYS);
    }

    if (kid.len > RBAC_JWT_MAX_KID) {
        return rbac_err_set(err, RBAC_EBOUND,
                            "kid longer than %d bytes", RBAC_JWT_MAX_KID);
    }

    if (key == NULL || len == 0) {
        return rbac_err_set(err, RBAC_EINVAL, "alg=%s key file is empty",
                            name);
    }

    if (len > RBAC_JWT_MAX_KEY_FILE) {
        return rbac_err_set(err, RBAC_EBOUND,
                            "alg=%s key file is over %d bytes", name,
                            RBAC_JWT_MAX_KEY_FILE);
    }

    if (kid.len > 0) {
        for (k = ks->head; k != NULL; k = k->next) {
            if (k->alg == alg && k->kid_len == kid.len
                && memcmp(k->kid, kid.data, kid.len) == 0)
            {
                return rbac_err_set(err, RBAC_EEXISTS,
                                    "duplicate key alg=%s kid=%.*s", name,
                                    (int) kid.len, kid.data);
            }
        }
    }

    if (alg <= RBAC_JWT_HS512) {
        if (rbac_jwt_has_pem(key, len)) {
            return rbac_err_set(err, RBAC_EINVAL,
                                "alg=%s key file holds a PEM block: an HMAC "
                                "key is the secret's raw bytes (a PEM here "
                                "allows alg-confusion forgeries)", name);
        }

        min = alg == RBAC_JWT_HS256 ? 32 : (alg == RBAC_JWT_HS384 ? 48 : 64);

        if (len < min) {
            return rbac_err_set(err, RBAC_EINVAL,
                                "alg=%s key is %zu bytes, at least %zu "
                                "needed", name, len, min);
        }

    } else {
        rc = rbac_jwt_check_pem(alg, key, len, err);
        if (rc != RBAC_OK) {
            return rc;
        }
    }

    p = ks->alloc.alloc(ks->alloc.ud,
                        sizeof(rbac_jwt_key_t) + kid.len + 1 + len + 1);
    if (p == NULL) {
        return rbac_err_set(err, RBAC_ENOMEM,
                            "out of memory adding the alg=%s key", name);
    }

    k = (rbac_jwt_key_t *) (void *) p;
    p += sizeof(rbac_jwt_key_t);

    k->next = NULL;
    k->alg = alg;
    k->kid_len = kid.len;
    k->kid = p;
    if (kid.len > 0) {
        memcpy(p, kid.data, kid.len);
    }
    p[kid.len] = '\0';
    p += kid.len + 1;

    k->len = len;
    k->key = (const uint8_t *) p;
    memcpy(p, key, len);
    p[len] = '\0';

    if (ks->tail == NULL) {
        ks->head = k;
    } else {
        ks->tail->next = k;
    }

    ks->tail = k;
    ks->n++;

    return RBAC_OK;
}


void
rbac_jwt_checks_init(rbac_jwt_checks_t *chk)
{
    chk->issuers = NULL;
    chk->nissuers = 0;
    chk->audiences = NULL;
    chk->naudiences = 0;
    chk->leeway = RBAC_JWT_LEEWAY_DEFAULT;
}


/* Feeds a 64-bit big-endian length or number to the digest. */
static int
rbac_jwt_digest_u64(EVP_MD_CTX *ctx, uint64_t v)
{
    int      i;
    uint8_t  b[8];

    for (i = 0; i < 8; i++) {
        b[i] = (uint8_t) (v >> (56 - 8 * i));
    }

    return EVP_DigestUpdate(ctx, b, sizeof(b)) == 1;
}


static int
rbac_jwt_digest_bytes(EVP_MD_CTX *ctx, const void *p, size_t len)
{
    return rbac_jwt_digest_u64(ctx, len)
           && (len == 0 || EVP_DigestUpdate(ctx, p, len) == 1);
}


static int
rbac_jwt_digest_strs(EVP_MD_CTX *ctx, const rbac_str_t *s, size_t n)
{
    size_t  i;

    if (!rbac_jwt_digest_u64(ctx, n)) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (!rbac_jwt_digest_bytes(ctx, s[i].data, s[i].len)) {
            return 0;
        }
    }

    return 1;
}


rbac_rc_t
rbac_jwt_identity(const rbac_jwt_keyset_t *ks, const rbac_jwt_checks_t *chk,
    rbac_str_t catalog, uint8_t out[32])
{
    int                    ok;
    unsigned int           n;
    EVP_MD_CTX            *ctx;
    const rbac_jwt_key_t  *k;
    static const char      tag[] = "rbac-jwt-identity-v2";

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        return RBAC_ENOMEM;
    }

    ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1
         && EVP_DigestUpdate(ctx, tag, sizeof(tag)) == 1
         && rbac_jwt_digest_u64(ctx, rbac_jwt_keyset_count(ks));

    for (k = ks ? ks->head : NULL; ok && k != NULL; k = k->next) {
        ok = rbac_jwt_digest_u64(ctx, (uint64_t) k->alg)
             && rbac_jwt_digest_bytes(ctx, k->kid, k->kid_len)
             && rbac_jwt_digest_bytes(ctx, k->key, k->len);
    }

    ok = ok
         && rbac_jwt_digest_strs(ctx, chk->issuers, chk->nissuers)
         && rbac_jwt_digest_strs(ctx, chk->audiences, chk->naudiences)
         && rbac_jwt_digest_u64(ctx, (uint64_t) chk->leeway)
         && rbac_jwt_digest_bytes(ctx, catalog.data, catalog.len)
         && EVP_DigestFinal_ex(ctx, out, &n) == 1
         && n == 32;

    EVP_MD_CTX_free(ctx);

    return ok ? RBAC_OK : RBAC_ENOMEM;
}
