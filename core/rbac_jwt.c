/*
 * rbac_jwt.c: JWT verification: the compact form split and its header read
 * with cJSON, the key chosen by (kid, alg) from the pinned key set, the
 * signature checked by libjwt (never without a key, alg re-checked after),
 * then the claims of the payload as signed (rbac_jwt_claims.c).
 */

#include <errno.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <jwt.h>
#include <openssl/err.h>

#include "rbac_claims.h"
#include "rbac_jwt_int.h"


/* The largest decoded part (header or payload): 3/4 of the largest token. */
#define RBAC_JWT_MAX_PART  (RBAC_MAX_TOKEN / 4 * 3 + 3)


static rbac_rc_t
rbac_jwt_reject(rbac_err_t *err, const char *reason)
{
    return rbac_err_set(err, RBAC_ETOKEN, "%s", reason);
}


static int
rbac_jwt_b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == '-') {
        return 62;
    }

    if (c == '_') {
        return 63;
    }

    return -1;
}


int
rbac_jwt_b64_valid(const char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len % 4 == 1) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (rbac_jwt_b64_value((unsigned char) p[i]) < 0) {
            return 0;
        }
    }

    return 1;
}


size_t
rbac_jwt_b64_decode(const char *p, size_t len, uint8_t *out)
{
    size_t    i, n;
    uint32_t  acc;
    int       bits;

    n = 0;
    acc = 0;
    bits = 0;

    for (i = 0; i < len; i++) {
        acc = (acc << 6) | (uint32_t) rbac_jwt_b64_value((unsigned char) p[i]);
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            out[n++] = (uint8_t) (acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }

    return n;
}


rbac_rc_t
rbac_jwt_parse_header(rbac_str_t token, rbac_jwt_header_t *hdr,
    rbac_err_t *err)
{
    size_t         i, dot1, dot2, n, hlen;
    cJSON         *root;
    uint8_t        buf[RBAC_JWT_MAX_PART];
    rbac_str_t     alg;
    const char    *reason;
    const cJSON   *item;

    hdr->alg = RBAC_JWT_ALG_NONE;
    hdr->kid_len = 0;
    hdr->kid[0] = '\0';
    hdr->payload.data = NULL;
    hdr->payload.len = 0;

    if (token.len > RBAC_MAX_TOKEN) {
        return rbac_jwt_reject(err, RBAC_JWT_R_OVERSIZE);
    }

    if (token.data == NULL) {
        return rbac_jwt_reject(err, RBAC_JWT_R_MALFORMED);
    }

    n = 0;
    dot1 = 0;
    dot2 = 0;

    for (i = 0; i < token.len; i++) {
        if (token.data[i] == '.') {
            if (n == 0) {
                dot1 = i;
            } else {
                dot2 = i;
            }

            n++;
        }
    }

    if (n != 2
        || !rbac_jwt_b64_valid(token.data, dot1)
        || !rbac_jwt_b64_valid(token.data + dot1 + 1, dot2 - dot1 - 1)
        || !rbac_jwt_b64_valid(token.data + dot2 + 1,
                               token.len - dot2 - 1))
    {
        return rbac_jwt_reject(err, RBAC_JWT_R_MALFORMED);
    }

    hdr->payload.data = token.data + dot1 + 1;
    hdr->payload.len = dot2 - dot1 - 1;

    hlen = rbac_jwt_b64_decode(token.data, dot1, buf);

    root = cJSON_ParseWithLength((const char *) buf, hlen);
    if (root == NULL) {
        return rbac_jwt_reject(err, RBAC_JWT_R_MALFORMED);
    }

    reason = RBAC_JWT_R_MALFORMED;

    if (!cJSON_IsObject(root) || rbac_claims_dup_members(root)
        || cJSON_GetObjectItemCaseSensitive(root, "crit") != NULL)
    {
        goto done;
    }

    /* libjwt 1.10 refuses any typ but "JWT" (any case): say it first */
    item = cJSON_GetObjectItemCaseSensitive(root, "typ");
    if (item != NULL
        && (!cJSON_IsString(item) || strlen(item->valuestring) != 3
            || (item->valuestring[0] | 0x20) != 'j'
            || (item->valuestring[1] | 0x20) != 'w'
            || (item->valuestring[2] | 0x20) != 't'))
    {
        goto done;
    }

    item = cJSON_GetObjectItemCaseSensitive(root, "kid");
    if (item != NULL) {
        if (!cJSON_IsString(item) || item->valuestring[0] == '\0') {
            goto done;
        }

        n = strlen(item->valuestring);
        if (n > RBAC_JWT_MAX_KID) {
            reason = RBAC_JWT_R_UNKNOWN_KID;
            goto done;
        }

        memcpy(hdr->kid, item->valuestring, n + 1);
        hdr->kid_len = n;
    }

    item = cJSON_GetObjectItemCaseSensitive(root, "alg");
    if (!cJSON_IsString(item)) {
        goto done;
    }

    alg.data = item->valuestring;
    alg.len = strlen(item->valuestring);
    hdr->alg = rbac_jwt_alg_parse(alg);

    if (hdr->alg == RBAC_JWT_ALG_NONE) {
        reason = RBAC_JWT_R_WRONG_ALG;
        goto done;
    }

    reason = NULL;

done:

    cJSON_Delete(root);

    return reason == NULL ? RBAC_OK : rbac_jwt_reject(err, reason);
}


/*
 * Verifies the signature of buf (the NUL-terminated token) with one key.
 * RBAC_OK; RBAC_ETOKEN for a bad signature or an alg that is not the key's;
 * RBAC_ENOMEM.
 */
static rbac_rc_t
rbac_jwt_decode_one(const rbac_jwt_key_t *k, const char *buf)
{
    int     rc, same_alg;
    jwt_t  *jwt;

    /* never without a key: libjwt would then accept anything (10.1) */
    if (k->key == NULL || k->len == 0) {
        return RBAC_ETOKEN;
    }

    jwt = NULL;
    rc = jwt_decode(&jwt, buf, k->key, (int) k->len);

    if (rc != 0) {
        if (jwt != NULL) {
            jwt_free(jwt);
        }

        ERR_clear_error();

        return rc == ENOMEM ? RBAC_ENOMEM : RBAC_ETOKEN;
    }

    same_alg = ((int) jwt_get_alg(jwt) == (int) k->alg);
    jwt_free(jwt);

    return same_alg ? RBAC_OK : RBAC_ETOKEN;
}


rbac_rc_t
rbac_jwt_verify(const rbac_jwt_keyset_t *ks, const rbac_jwt_checks_t *chk,
    rbac_str_t token, int64_t now, const rbac_allocator_t *a,
    rbac_jwt_result_t *res, rbac_err_t *err)
{
    int                    kid_seen, alg_seen;
    char                   buf[RBAC_MAX_TOKEN + 1];
    uint8_t                payload[RBAC_JWT_MAX_PART];
    rbac_rc_t              rc;
    rbac_str_t             text;
    rbac_jwt_header_t      hdr;
    const rbac_jwt_key_t  *k;

    rc = rbac_jwt_parse_header(token, &hdr, err);
    if (rc != RBAC_OK) {
        return rc;
    }

    memcpy(buf, token.data, token.len);
    buf[token.len] = '\0';

    kid_seen = 0;
    alg_seen = 0;
    rc = RBAC_ETOKEN;

    for (k = ks ? ks->head : NULL; k != NULL; k = k->next) {

        if (hdr.kid_len > 0) {
            if (k->kid_len != hdr.kid_len
                || memcmp(k->kid, hdr.kid, hdr.kid_len) != 0)
            {
                continue;
            }

            kid_seen = 1;
        }

        if (k->alg != hdr.alg) {
            continue;
        }

        alg_seen = 1;

        rc = rbac_jwt_decode_one(k, buf);
        if (rc != RBAC_ETOKEN) {
            break;
        }
    }

    if (rc == RBAC_ENOMEM) {
        return rbac_err_set(err, RBAC_ENOMEM,
                            "out of memory verifying a JWT");
    }

    if (rc != RBAC_OK) {
        if (hdr.kid_len > 0 && !kid_seen) {
            return rbac_jwt_reject(err, RBAC_JWT_R_UNKNOWN_KID);
        }

        if (!alg_seen) {
            return rbac_jwt_reject(err, RBAC_JWT_R_WRONG_ALG);
        }

        return rbac_jwt_reject(err, RBAC_JWT_R_BAD_SIGNATURE);
    }

    /*
     * The claims are read from the payload as it was signed, not from
     * libjwt's re-serialization (jansson keeps the last of two members with
     * one name): a cached token's claims, decoded again from the token, then
     * read exactly as they did when it was verified.
     */
    text.data = (char *) payload;
    text.len = rbac_jwt_b64_decode(hdr.payload.data, hdr.payload.len,
                                   payload);

    return rbac_jwt_check_claims(chk, text, now, a, res, err);
}
