/*
 * rbac_jwt_claims.c: the claim checks of docs/security.md §3 (exp, nbf, iat,
 * iss, aud, sub) on a claims JSON text, read with cJSON against an injected
 * clock, and the result they produce.
 */

#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rbac_claims.h"
#include "rbac_jwt.h"


static rbac_rc_t
rbac_jwt_reject(rbac_err_t *err, const char *reason)
{
    return rbac_err_set(err, RBAC_ETOKEN, "%s", reason);
}


/* 1 if the text holds a "\u0000" escape (cJSON would cut the string). */
static int
rbac_jwt_has_nul_escape(const char *p, size_t len)
{
    size_t  i;

    for (i = 0; i + 6 <= len; i++) {
        if (p[i] == '\\' && (p[i + 1] == 'u' || p[i + 1] == 'U')
            && memcmp(p + i + 2, "0000", 4) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static int
rbac_jwt_str_in(const char *s, const rbac_str_t *set, size_t n)
{
    size_t  i, len;

    len = strlen(s);

    for (i = 0; i < n; i++) {
        if (set[i].len == len
            && (len == 0 || memcmp(set[i].data, s, len) == 0))
        {
            return 1;
        }
    }

    return 0;
}


static int
rbac_jwt_aud_ok(const cJSON *aud, const rbac_jwt_checks_t *chk)
{
    const cJSON  *it;

    if (cJSON_IsString(aud)) {
        return rbac_jwt_str_in(aud->valuestring, chk->audiences,
                               chk->naudiences);
    }

    if (!cJSON_IsArray(aud)) {
        return 0;
    }

    cJSON_ArrayForEach(it, aud) {
        if (cJSON_IsString(it)
            && rbac_jwt_str_in(it->valuestring, chk->audiences,
                               chk->naudiences))
        {
            return 1;
        }
    }

    return 0;
}


static int64_t
rbac_jwt_clamp(double v)
{
    if (v >= 4611686018427387904.0) {          /* 2^62 */
        return INT64_C(4611686018427387904);
    }

    if (v <= -4611686018427387904.0) {
        return -INT64_C(4611686018427387904);
    }

    return (int64_t) v;
}


/* 1 if sub is a usable subject: 1..RBAC_MAX_NAME bytes, no control char. */
/*
 * An optional time claim (nbf, iat) that must not be after `latest` (now
 * plus the leeway); its value, clamped, in *out when out is not NULL.
 * NULL when it holds (or is absent), else the reason for the refusal.
 */
static const char *
rbac_jwt_not_after(const cJSON *root, const char *name, double latest,
    int64_t *out)
{
    const cJSON  *item;

    item = cJSON_GetObjectItemCaseSensitive(root, name);
    if (item == NULL) {
        return NULL;
    }

    if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble)) {
        return RBAC_JWT_R_MALFORMED;
    }

    if (latest < item->valuedouble) {
        return RBAC_JWT_R_NOT_YET_VALID;
    }

    if (out != NULL) {
        *out = rbac_jwt_clamp(item->valuedouble);
    }

    return NULL;
}


static int
rbac_jwt_sub_ok(const cJSON *sub, size_t *len)
{
    size_t               i, n;
    const unsigned char  *s;

    if (!cJSON_IsString(sub) || sub->valuestring == NULL) {
        return 0;
    }

    s = (const unsigned char *) sub->valuestring;
    n = strlen(sub->valuestring);

    if (n == 0 || n > RBAC_MAX_NAME) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f) {
            return 0;
        }
    }

    *len = n;

    return 1;
}


rbac_rc_t
rbac_jwt_check_claims(const rbac_jwt_checks_t *chk, rbac_str_t claims,
    int64_t now, const rbac_allocator_t *a, rbac_jwt_result_t *res,
    rbac_err_t *err)
{
    char          *p;
    cJSON         *root;
    double         t, dnow, leeway;
    size_t         sub_len;
    int64_t        exp, iat;
    rbac_rc_t      rc;
    const char    *reason;
    const cJSON   *item, *sub;

    if (chk->leeway < 0 || chk->leeway > RBAC_JWT_LEEWAY_MAX
        || (chk->nissuers > 0 && chk->issuers == NULL)
        || (chk->naudiences > 0 && chk->audiences == NULL))
    {
        return rbac_err_set(err, RBAC_EINVAL,
                            "JWT checks: leeway must be 0..%d seconds",
                            RBAC_JWT_LEEWAY_MAX);
    }

    if (claims.len > RBAC_MAX_CLAIMS) {
        return rbac_jwt_reject(err, RBAC_JWT_R_OVERSIZE);
    }

    if (claims.data == NULL || claims.len == 0
        || rbac_jwt_has_nul_escape(claims.data, claims.len))
    {
        return rbac_jwt_reject(err, RBAC_JWT_R_MALFORMED);
    }

    root = cJSON_ParseWithLength(claims.data, claims.len);
    if (root == NULL) {
        /* cJSON does not tell a parse error from an allocation failure */
        return rbac_jwt_reject(err, RBAC_JWT_R_MALFORMED);
    }

    dnow = (double) now;
    leeway = (double) chk->leeway;
    iat = 0;

    if (!cJSON_IsObject(root) || rbac_claims_dup_members(root)) {
        rc = rbac_jwt_reject(err, RBAC_JWT_R_MALFORMED);
        goto done;
    }

    item = cJSON_GetObjectItemCaseSensitive(root, "exp");
    if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble)) {
        rc = rbac_jwt_reject(err, RBAC_JWT_R_NO_EXP);
        goto done;
    }

    t = item->valuedouble;
    if (dnow >= t + leeway) {
        rc = rbac_jwt_reject(err, RBAC_JWT_R_EXPIRED);
        goto done;
    }

    exp = rbac_jwt_clamp(t);

    reason = rbac_jwt_not_after(root, "nbf", dnow + leeway, NULL);
    if (reason == NULL) {
        reason = rbac_jwt_not_after(root, "iat", dnow + leeway, &iat);
    }

    if (reason != NULL) {
        rc = rbac_jwt_reject(err, reason);
        goto done;
    }

    if (chk->nissuers > 0) {
        item = cJSON_GetObjectItemCaseSensitive(root, "iss");

        if (!cJSON_IsString(item)
            || !rbac_jwt_str_in(item->valuestring, chk->issuers,
                                chk->nissuers))
        {
            rc = rbac_jwt_reject(err, RBAC_JWT_R_WRONG_ISSUER);
            goto done;
        }
    }

    if (chk->naudiences > 0) {
        item = cJSON_GetObjectItemCaseSensitive(root, "aud");

        if (!rbac_jwt_aud_ok(item, chk)) {
            rc = rbac_jwt_reject(err, RBAC_JWT_R_WRONG_AUDIENCE);
            goto done;
        }
    }

    sub = cJSON_GetObjectItemCaseSensitive(root, "sub");
    sub_len = 0;
    if (!rbac_jwt_sub_ok(sub, &sub_len)) {
        rc = rbac_jwt_reject(err, RBAC_JWT_R_NO_SUB);
        goto done;
    }

    p = a->alloc(a->ud, sub_len + 1 + claims.len + 1);
    if (p == NULL) {
        rc = rbac_err_set(err, RBAC_ENOMEM, "out of memory for JWT claims");
        goto done;
    }

    memcpy(p, sub->valuestring, sub_len);
    p[sub_len] = '\0';
    memcpy(p + sub_len + 1, claims.data, claims.len);
    p[sub_len + 1 + claims.len] = '\0';

    res->mem = p;
    res->sub.data = p;
    res->sub.len = sub_len;
    res->claims.data = p + sub_len + 1;
    res->claims.len = claims.len;
    res->exp = exp;
    res->iat = iat;

    rc = RBAC_OK;

done:

    cJSON_Delete(root);

    return rc;
}


void
rbac_jwt_result_free(const rbac_allocator_t *a, rbac_jwt_result_t *res)
{
    if (res == NULL || res->mem == NULL) {
        return;
    }

    a->free(a->ud, res->mem);
    res->mem = NULL;
    res->sub.data = NULL;
    res->sub.len = 0;
    res->claims.data = NULL;
    res->claims.len = 0;
}
