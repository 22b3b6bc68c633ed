/*
 * rbac_jwt.h: JWT verification (rbac_jwt_key, _issuer, _audience and
 * _leeway: docs/directives.md §6; the rules: docs/security.md §3) over
 * libjwt 1.10.2, OpenSSL 3 and cJSON.
 *
 * The algorithm is pinned by the key, never taken from the token: a key set
 * holds keys each pinned to one of nine algs; a token's header alg and kid
 * only select among them.  Claims are read with cJSON from the grants JSON,
 * never with jwt_get_grant_int.
 *
 * Life cycle: the key set is built at configuration time with the allocator
 * given to rbac_jwt_keyset_create (an nginx cycle pool, malloc in tests) and
 * is read-only afterwards, so one set may serve many requests.  The checks
 * (issuers, audiences, leeway) are plain caller-owned data.
 *
 * 401 details: when rbac_jwt_verify or rbac_jwt_check_claims returns
 * RBAC_ETOKEN, err->msg is exactly one of the RBAC_JWT_R_* strings (a closed
 * set, usable as a metrics label and as the "detail" of the 401 body).  Any
 * other non-OK rc (RBAC_ENOMEM, RBAC_EINVAL for bad checks) is a server-side
 * failure, not the client's.
 */

#ifndef RBAC_JWT_H
#define RBAC_JWT_H

#include "rbac_base.h"


/* 401 details (err->msg when rc is RBAC_ETOKEN). */
#define RBAC_JWT_R_OVERSIZE       "oversize"         /* token > 8 KiB,
                                                      * claims > 64 KiB */
#define RBAC_JWT_R_MALFORMED      "malformed token"  /* not 3 base64url parts,
                                                      * header not JSON, bad
                                                      * claim types, crit */
#define RBAC_JWT_R_WRONG_ALG      "wrong alg"        /* none, unknown, or no
                                                      * key pinned to it */
#define RBAC_JWT_R_UNKNOWN_KID    "unknown kid"      /* kid matches no key */
#define RBAC_JWT_R_BAD_SIGNATURE  "bad signature"
#define RBAC_JWT_R_NO_EXP         "no exp"           /* missing/non-numeric */
#define RBAC_JWT_R_EXPIRED        "expired"
#define RBAC_JWT_R_NOT_YET_VALID  "not yet valid"    /* nbf or iat ahead */
#define RBAC_JWT_R_WRONG_ISSUER   "wrong issuer"
#define RBAC_JWT_R_WRONG_AUDIENCE "wrong audience"
#define RBAC_JWT_R_NO_SUB         "no sub"           /* missing, empty, not a
                                                      * string, > 128 bytes,
                                                      * control characters */

#define RBAC_JWT_LEEWAY_DEFAULT   30      /* seconds */
#define RBAC_JWT_LEEWAY_MAX       300
#define RBAC_JWT_MAX_KID          256     /* bytes */
#define RBAC_JWT_MAX_KEYS         64      /* keys in one set */
#define RBAC_JWT_MAX_KEY_FILE     (64 * 1024)


/* Same order and values as libjwt's jwt_alg_t. */
typedef enum {
    RBAC_JWT_ALG_NONE = 0,          /* never accepted */
    RBAC_JWT_HS256,
    RBAC_JWT_HS384,
    RBAC_JWT_HS512,
    RBAC_JWT_RS256,
    RBAC_JWT_RS384,
    RBAC_JWT_RS512,
    RBAC_JWT_ES256,
    RBAC_JWT_ES384,
    RBAC_JWT_ES512
} rbac_jwt_alg_t;

/*
 * "HS256" ... "ES512" (exact case) to its alg; RBAC_JWT_ALG_NONE for
 * anything else, including "none".
 */
rbac_jwt_alg_t rbac_jwt_alg_parse(rbac_str_t name);

/* The alg's name, "none" for RBAC_JWT_ALG_NONE or out of range. */
const char *rbac_jwt_alg_name(rbac_jwt_alg_t alg);


typedef struct rbac_jwt_keyset_s  rbac_jwt_keyset_t;

/*
 * An empty key set whose memory (and that of every key added) comes from
 * `a`; `a` must outlive the set.  Returns NULL with RBAC_ENOMEM in err.
 */
rbac_jwt_keyset_t *rbac_jwt_keyset_create(const rbac_allocator_t *a,
    rbac_err_t *err);

/*
 * Adds a verification key pinned to `alg`, with an optional kid
 * (kid.len == 0: none).  `key` is the key file's content, copied:
 *   HS256/384/512  the bytes verbatim, at least 32/48/64 bytes (RFC 7518
 *                  3.2), refused if they contain a PEM block ("-----BEGIN":
 *                  the alg-confusion key);
 *   RS256/384/512  an SPKI PEM ("BEGIN PUBLIC KEY") RSA key, >= 2048 bits;
 *   ES256/384/512  an SPKI PEM EC key on P-256 / P-384 / P-521 respectively.
 * A (kid, alg) pair may appear once.  Returns RBAC_OK; RBAC_EINVAL with a
 * message naming the problem (meant for `nginx -t`: "alg=RS256 key is an EC
 * key", "alg=ES256 key is on P-384, expected P-256", ...); RBAC_EEXISTS;
 * RBAC_EBOUND (too many keys, kid or file too long); RBAC_ENOMEM.
 */
rbac_rc_t rbac_jwt_keyset_add(rbac_jwt_keyset_t *ks, rbac_jwt_alg_t alg,
    rbac_str_t kid, const uint8_t *key, size_t len, rbac_err_t *err);

/* Number of keys in the set. */
size_t rbac_jwt_keyset_count(const rbac_jwt_keyset_t *ks);

/*
 * Releases the set through its allocator (a no-op for pools).  ks may be
 * NULL.
 */
void rbac_jwt_keyset_free(rbac_jwt_keyset_t *ks);


/*
 * Claim checks, caller-owned; the strings must stay valid while used.
 * nissuers == 0: iss not checked; naudiences == 0: aud not checked.
 * leeway in seconds, 0..RBAC_JWT_LEEWAY_MAX.
 */
typedef struct {
    const rbac_str_t  *issuers;
    size_t             nissuers;
    const rbac_str_t  *audiences;
    size_t             naudiences;
    int64_t            leeway;
} rbac_jwt_checks_t;

/* No issuer, no audience, leeway RBAC_JWT_LEEWAY_DEFAULT. */
void rbac_jwt_checks_init(rbac_jwt_checks_t *chk);

/*
 * A stable 32-byte identity (SHA-256, length-prefixed fields) of the key set
 * (algs, kids, key bytes, in order added), the checks (issuers, audiences,
 * leeway) and the role catalog's text (the subject cached with a token is
 * built with it): the part of the JWT cache key (docs/cache.md §6) that says
 * which server configuration verified a token.  ks may be NULL (no key).
 * Returns RBAC_OK or RBAC_ENOMEM.
 */
rbac_rc_t rbac_jwt_identity(const rbac_jwt_keyset_t *ks,
    const rbac_jwt_checks_t *chk, rbac_str_t catalog, uint8_t out[32]);


/* What a verified token says. */
typedef struct {
    rbac_str_t  sub;        /* NUL-terminated, 1..RBAC_MAX_NAME bytes */
    int64_t     exp;        /* unix seconds (fraction dropped; clamped) */
    int64_t     iat;        /* 0 when absent */
    rbac_str_t  claims;     /* claims JSON text, NUL-terminated (verify:
                             * the payload as signed) */
    void       *mem;        /* the one allocation holding sub and claims */
} rbac_jwt_result_t;

/* Frees what a successful verify or check_claims put in res.  a as given. */
void rbac_jwt_result_free(const rbac_allocator_t *a, rbac_jwt_result_t *res);


/*
 * Verifies `token` (the bare JWT, no "Bearer ") at time `now` (unix
 * seconds):
 *   size <= RBAC_MAX_TOKEN, else "oversize";
 *   exactly three non-empty base64url parts (signature may not be empty),
 *   header a JSON object with string "alg", optional string "kid", no
 *   "crit", no member name twice in any object, else "malformed token";
 *   alg one of the nine (never "none"), else "wrong alg";
 *   with kid: the key with that (kid, alg), "unknown kid" if no key has the
 *   kid, "wrong alg" if none with that alg; without kid: every key pinned to
 *   alg is tried in order, "wrong alg" if there is none;
 *   signature (libjwt, never without a key) and jwt_get_alg == key's alg,
 *   else "bad signature";
 *   then the payload, as signed (never libjwt's re-serialization of it),
 *   through rbac_jwt_check_claims.
 * On RBAC_OK res is filled from `a` (free with rbac_jwt_result_free).
 * Returns RBAC_OK, RBAC_ETOKEN (err->msg one of RBAC_JWT_R_*), RBAC_EINVAL
 * (checks out of range), RBAC_ENOMEM.  Everything libjwt allocates is freed
 * before return.
 */
rbac_rc_t rbac_jwt_verify(const rbac_jwt_keyset_t *ks,
    const rbac_jwt_checks_t *chk, rbac_str_t token, int64_t now,
    const rbac_allocator_t *a, rbac_jwt_result_t *res, rbac_err_t *err);

/*
 * The claim checks alone, on the claims JSON text (no signature involved;
 * fuzzed directly):
 *   text <= RBAC_MAX_CLAIMS, else "oversize"; a JSON object without
 *   "\u0000" escapes and with no two members of one name in any object,
 *   else "malformed token";
 *   exp present and a finite number, else "no exp"; now >= exp + leeway:
 *   "expired";
 *   nbf (if present) a number, else "malformed token"; now + leeway < nbf:
 *   "not yet valid"; likewise iat: now + leeway < iat: "not yet valid";
 *   with issuers: iss a string equal to one of them, else "wrong issuer";
 *   with audiences: aud a string equal to one, or an array with a string
 *   element equal to one, else "wrong audience";
 *   sub a string of 1..RBAC_MAX_NAME bytes without control characters,
 *   else "no sub".
 * On RBAC_OK res is filled from `a`, claims being a copy of `claims`.
 * Returns as rbac_jwt_verify.
 */
rbac_rc_t rbac_jwt_check_claims(const rbac_jwt_checks_t *chk,
    rbac_str_t claims, int64_t now, const rbac_allocator_t *a,
    rbac_jwt_result_t *res, rbac_err_t *err);


/* A token's header, as rbac_jwt_parse_header sees it. */
typedef struct {
    rbac_jwt_alg_t  alg;                        /* NONE: refused */
    size_t          kid_len;                    /* 0: no kid */
    char            kid[RBAC_JWT_MAX_KID + 1];
    rbac_str_t      payload;                    /* base64url, in the token */
} rbac_jwt_header_t;

/*
 * Splits `token` into its three parts and parses the header (no key, no
 * signature check): the first steps of rbac_jwt_verify, exposed for the
 * fuzzer and for logging.  Returns RBAC_OK or RBAC_ETOKEN ("oversize",
 * "malformed token", "wrong alg"), RBAC_ENOMEM.  Allocates only through
 * cJSON, freed before return.
 */
rbac_rc_t rbac_jwt_parse_header(rbac_str_t token, rbac_jwt_header_t *hdr,
    rbac_err_t *err);


#endif /* RBAC_JWT_H */
