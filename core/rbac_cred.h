/*
 * rbac_cred.h: opaque credentials (API tokens and provisioner keys,
 * `<id>-<secret>`, docs/records.md §6) and the helpers the credential
 * sources of `rbac_token` need (docs/directives.md §5): the Bearer scheme,
 * JWT-or-token classification, SHA-256 digests and the JWT cache key
 * (docs/cache.md §6).
 *
 * Nothing here allocates or keeps a pointer past its return, except the
 * rbac_str_t views of rbac_cred_parse, which point into its input.
 *
 * 401 details: when a function below returns RBAC_ETOKEN, err->msg is
 * exactly one of the RBAC_CRED_R_* strings (a closed set, safe to use as a
 * metrics label and as the "detail" of the 401 body); it never contains any
 * part of the credential.
 */

#ifndef RBAC_CRED_H
#define RBAC_CRED_H

#include "rbac_base.h"


#define RBAC_SHA256_LEN       32
#define RBAC_CRED_MAX_ID      64        /* id is [A-Za-z0-9]{1,64} */

/* 401 details for opaque credentials (err->msg when rc is RBAC_ETOKEN). */
#define RBAC_CRED_R_MALFORMED     "malformed token"   /* not <id>-<secret> */
#define RBAC_CRED_R_UNKNOWN       "unknown token"     /* no rbac:token:<id>
                                                       * (revoked or never
                                                       * issued) or wrong
                                                       * secret: one text, so
                                                       * ids are not
                                                       * confirmed */
#define RBAC_CRED_R_EXPIRED       "expired token"     /* expires_at passed */
#define RBAC_CRED_R_PKEY_MALFORMED "malformed provisioner key"
#define RBAC_CRED_R_PKEY_UNKNOWN  "unknown provisioner key"


typedef enum {
    RBAC_CRED_API_TOKEN = 0,        /* rbac:token:<id> */
    RBAC_CRED_PROVISIONER_KEY,      /* rbac:pkey:<id>  */
    RBAC_CRED_JWT
} rbac_cred_kind_t;


/* An opaque credential split at its first '-'; views into the input. */
typedef struct {
    rbac_str_t  id;
    rbac_str_t  secret;
} rbac_cred_t;


/*
 * Splits `value` (an API token or a provisioner key, per `kind`) at its first
 * '-': id must be [A-Za-z0-9]{1,64}, secret non-empty (any bytes but NUL,
 * whitespace and control characters), whole value at most RBAC_MAX_TOKEN.
 * On success out->id and out->secret point into value.  Returns RBAC_OK, or
 * RBAC_ETOKEN with err->msg RBAC_CRED_R_MALFORMED (token) or
 * RBAC_CRED_R_PKEY_MALFORMED (key).
 */
rbac_rc_t rbac_cred_parse(rbac_str_t value, rbac_cred_kind_t kind,
    rbac_cred_t *out, rbac_err_t *err);

/*
 * A provisioner key as Coder issues it: a bare secret (43 characters of
 * base64url, '-' and '_' included), which Coder stores as its SHA-256 only.
 * The key's id in the decision table is that digest in lowercase hex, so
 * the record (rbac:pkey:<hex>) is found from the secret alone.  On success
 * hex holds the id, out->id points at hex and out->secret at value.
 * Returns RBAC_OK; RBAC_ETOKEN (RBAC_CRED_R_PKEY_MALFORMED) for a value that
 * is empty, over RBAC_MAX_TOKEN or holds a space or control byte;
 * RBAC_ENOMEM if hashing failed.
 */
rbac_rc_t rbac_cred_parse_bare(rbac_str_t value, char hex[65],
    rbac_cred_t *out, rbac_err_t *err);

/*
 * SHA-256 of len bytes at p (OpenSSL EVP) into out.  Returns RBAC_OK, or
 * RBAC_ENOMEM when OpenSSL fails (it allocates internally).
 */
rbac_rc_t rbac_sha256(const void *p, size_t len,
    uint8_t out[RBAC_SHA256_LEN]);

/* Lowercase hex of a digest, NUL-terminated (65 bytes). */
void rbac_sha256_hex(const uint8_t d[RBAC_SHA256_LEN], char hex[65]);

/* 1 if the two digests are equal, compared in constant time (CRYPTO_memcmp). */
int rbac_digest_eq(const uint8_t a[RBAC_SHA256_LEN],
    const uint8_t b[RBAC_SHA256_LEN]);

/*
 * Checks a parsed credential against its stored record: SHA-256 of
 * cred->secret compared in constant time with `stored` (the record's
 * secret_sha256), then expiry: expires_at 0 means never, otherwise the
 * credential is refused when now >= expires_at.  For provisioner keys pass
 * expires_at 0.  Returns RBAC_OK; RBAC_ETOKEN with RBAC_CRED_R_UNKNOWN /
 * RBAC_CRED_R_PKEY_UNKNOWN (wrong secret) or RBAC_CRED_R_EXPIRED; RBAC_ENOMEM
 * if hashing failed.  A missing record is the caller's case: use
 * rbac_cred_unknown() for its detail.
 */
rbac_rc_t rbac_cred_verify(const rbac_cred_t *cred, rbac_cred_kind_t kind,
    const uint8_t stored[RBAC_SHA256_LEN], int64_t expires_at, int64_t now,
    rbac_err_t *err);

/*
 * Sets err to the 401 of a credential whose record does not exist (revoked,
 * never issued) and returns RBAC_ETOKEN.
 */
rbac_rc_t rbac_cred_unknown(rbac_cred_kind_t kind, rbac_err_t *err);

/*
 * The credential in an Authorization header value: if `value` starts with
 * the scheme "Bearer" (any case) followed by at least one space or tab,
 * *out is set to what follows, with surrounding spaces and tabs removed,
 * and 1 is returned when that is non-empty.  Any other scheme (Basic,
 * Token, "Bearerx ..."), a bare "Bearer", or an empty value returns 0 and
 * the next rbac_token source should be tried.  *out points into value.
 */
int rbac_cred_bearer(rbac_str_t value, rbac_str_t *out);

/*
 * Kind of a credential from a source without type=: exactly two '.' makes
 * a JWT (RBAC_CRED_JWT), anything else an API token (RBAC_CRED_API_TOKEN).
 * Provisioner keys are never guessed.
 */
rbac_cred_kind_t rbac_cred_classify(rbac_str_t value);

/*
 * The JWT cache key (docs/cache.md §6): SHA-256 over a domain tag, the key-set
 * identity (rbac_jwt_identity(), which covers keys, issuers, audiences,
 * leeway and the role catalog) and the whole token.  The IdP sync settings
 * are not in it: the subject cached beside the token holds only until the
 * next published change, a settings change included.  Returns RBAC_OK or
 * RBAC_ENOMEM.
 */
rbac_rc_t rbac_jwt_cache_key(rbac_str_t token,
    const uint8_t identity[RBAC_SHA256_LEN], uint8_t out[RBAC_SHA256_LEN]);


#endif /* RBAC_CRED_H */
