/*
 * rbac_cred.c: opaque credentials `<id>-<secret>` and Coder's bare
 * provisioner keys (split or hashed into their id, SHA-256,
 * constant-time comparison, expiry), the Bearer scheme, JWT-or-token
 * classification and the JWT cache key.
 */

#include <assert.h>
#include <string.h>

/*
 * SHA-256 through the low-level SHA256_* calls, deprecated in OpenSSL 3 but
 * kept: they digest on the stack, while EVP_Digest allocates a context and
 * takes the provider lock on every call, twice per request here.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "rbac_cred.h"


static int
rbac_cred_id_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9');
}


rbac_rc_t
rbac_cred_parse(rbac_str_t value, rbac_cred_kind_t kind, rbac_cred_t *out,
    rbac_err_t *err)
{
    size_t          i, dash;
    unsigned char   c;
    const char     *reason;

    reason = (kind == RBAC_CRED_PROVISIONER_KEY) ? RBAC_CRED_R_PKEY_MALFORMED
                                                 : RBAC_CRED_R_MALFORMED;

    if (value.data == NULL || value.len == 0 || value.len > RBAC_MAX_TOKEN) {
        return rbac_err_set(err, RBAC_ETOKEN, "%s", reason);
    }

    dash = value.len;

    for (i = 0; i < value.len; i++) {
        if (value.data[i] == '-') {
            dash = i;
            break;
        }

        if (!rbac_cred_id_char((unsigned char) value.data[i])) {
            return rbac_err_set(err, RBAC_ETOKEN, "%s", reason);
        }
    }

    if (dash == 0 || dash > RBAC_CRED_MAX_ID || dash + 1 >= value.len) {
        return rbac_err_set(err, RBAC_ETOKEN, "%s", reason);
    }

    for (i = dash + 1; i < value.len; i++) {
        c = (unsigned char) value.data[i];

        if (c <= 0x20 || c == 0x7f) {
            return rbac_err_set(err, RBAC_ETOKEN, "%s", reason);
        }
    }

    out->id.data = value.data;
    out->id.len = dash;
    out->secret.data = value.data + dash + 1;
    out->secret.len = value.len - dash - 1;

    return RBAC_OK;
}


rbac_rc_t
rbac_cred_parse_bare(rbac_str_t value, char hex[65], rbac_cred_t *out,
    rbac_err_t *err)
{
    size_t          i;
    uint8_t         d[RBAC_SHA256_LEN];
    unsigned char   c;

    assert(hex != NULL && out != NULL);

    if (value.data == NULL || value.len == 0 || value.len > RBAC_MAX_TOKEN) {
        return rbac_err_set(err, RBAC_ETOKEN, "%s",
                            RBAC_CRED_R_PKEY_MALFORMED);
    }

    for (i = 0; i < value.len; i++) {
        c = (unsigned char) value.data[i];

        if (c <= 0x20 || c == 0x7f) {
            return rbac_err_set(err, RBAC_ETOKEN, "%s",
                                RBAC_CRED_R_PKEY_MALFORMED);
        }
    }

    if (rbac_sha256(value.data, value.len, d) != RBAC_OK) {
        return rbac_err_set(err, RBAC_ENOMEM, "SHA-256 failed");
    }

    rbac_sha256_hex(d, hex);

    out->id.data = hex;
    out->id.len = 2 * RBAC_SHA256_LEN;
    out->secret = value;

    return RBAC_OK;
}


rbac_rc_t
rbac_sha256(const void *p, size_t len, uint8_t out[RBAC_SHA256_LEN])
{
    SHA256_CTX  c;

    if (SHA256_Init(&c) != 1 || SHA256_Update(&c, p, len) != 1
        || SHA256_Final(out, &c) != 1)
    {
        return RBAC_ENOMEM;
    }

    return RBAC_OK;
}


void
rbac_sha256_hex(const uint8_t d[RBAC_SHA256_LEN], char hex[65])
{
    size_t             i;
    static const char  digits[] = "0123456789abcdef";

    for (i = 0; i < RBAC_SHA256_LEN; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 0x0f];
    }

    hex[2 * RBAC_SHA256_LEN] = '\0';
}


int
rbac_digest_eq(const uint8_t a[RBAC_SHA256_LEN],
    const uint8_t b[RBAC_SHA256_LEN])
{
    return CRYPTO_memcmp(a, b, RBAC_SHA256_LEN) == 0;
}


rbac_rc_t
rbac_cred_unknown(rbac_cred_kind_t kind, rbac_err_t *err)
{
    return rbac_err_set(err, RBAC_ETOKEN, "%s",
                        kind == RBAC_CRED_PROVISIONER_KEY
                        ? RBAC_CRED_R_PKEY_UNKNOWN : RBAC_CRED_R_UNKNOWN);
}


rbac_rc_t
rbac_cred_verify(const rbac_cred_t *cred, rbac_cred_kind_t kind,
    const uint8_t stored[RBAC_SHA256_LEN], int64_t expires_at, int64_t now,
    rbac_err_t *err)
{
    uint8_t  d[RBAC_SHA256_LEN];

    if (rbac_sha256(cred->secret.data, cred->secret.len, d) != RBAC_OK) {
        return rbac_err_set(err, RBAC_ENOMEM, "sha256 failed");
    }

    if (!rbac_digest_eq(d, stored)) {
        return rbac_cred_unknown(kind, err);
    }

    if (expires_at != 0 && now >= expires_at) {
        return rbac_err_set(err, RBAC_ETOKEN, "%s", RBAC_CRED_R_EXPIRED);
    }

    return RBAC_OK;
}


int
rbac_cred_bearer(rbac_str_t value, rbac_str_t *out)
{
    size_t       i, end;
    const char  *scheme = "bearer";

    if (value.data == NULL || value.len < 7) {
        return 0;
    }

    for (i = 0; i < 6; i++) {
        if ((value.data[i] | 0x20) != scheme[i]) {
            return 0;
        }
    }

    if (value.data[6] != ' ' && value.data[6] != '\t') {
        return 0;
    }

    i = 7;
    end = value.len;

    while (i < end && (value.data[i] == ' ' || value.data[i] == '\t')) {
        i++;
    }

    while (end > i && (value.data[end - 1] == ' '
                       || value.data[end - 1] == '\t'))
    {
        end--;
    }

    if (i == end) {
        return 0;
    }

    out->data = value.data + i;
    out->len = end - i;

    return 1;
}


rbac_cred_kind_t
rbac_cred_classify(rbac_str_t value)
{
    size_t  i, dots;

    dots = 0;

    for (i = 0; i < value.len; i++) {
        if (value.data[i] == '.') {
            dots++;
        }
    }

    return dots == 2 ? RBAC_CRED_JWT : RBAC_CRED_API_TOKEN;
}


rbac_rc_t
rbac_jwt_cache_key(rbac_str_t token, const uint8_t identity[RBAC_SHA256_LEN],
    uint8_t out[RBAC_SHA256_LEN])
{
    int                 ok;
    SHA256_CTX          c;
    static const char   tag[] = "rbac-jwt-cache-v2";

    ok = SHA256_Init(&c) == 1
         && SHA256_Update(&c, tag, sizeof(tag)) == 1
         && SHA256_Update(&c, identity, RBAC_SHA256_LEN) == 1
         && SHA256_Update(&c, token.data, token.len) == 1
         && SHA256_Final(out, &c) == 1;

    return ok ? RBAC_OK : RBAC_ENOMEM;
}
