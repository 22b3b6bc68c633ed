/*
 * rbac_jwks.h: JSON Web Key Sets (RFC 7517/7518) read into a JWT key set
 * (rbac_jwt.h): RSA (n, e), EC (crv P-256/P-384/P-521, x, y) and oct (k)
 * keys, each pinned to one alg, selected by kid.
 *
 * Each key is built with OpenSSL 3 (the EC point checked on its curve),
 * exported as an SPKI PEM (the HMAC secret as its raw bytes) and added
 * with rbac_jwt_keyset_add, so a key from a JWKS passes exactly the checks
 * of a key file: at least 2048 bits for RSA, the alg's curve for EC, the
 * hash size for oct, no PEM block as an HMAC secret.
 *
 * The alg of a key: its "alg" member; without one, the curve's for an EC
 * key, else the caller's default (dflt), else the key is refused.  "alg":
 * "none" is refused.  Keys with a "use" other than "sig", or "key_ops"
 * without "verify", are skipped (not signing keys); so are keys of a kty or
 * an alg this verifier does not implement (OKP, PS256, ...).
 */

#ifndef RBAC_JWKS_H
#define RBAC_JWKS_H

#include "rbac_jwt.h"


#define RBAC_JWKS_MAX_DOC  (64 * 1024)     /* bytes of one JWKS document */


/* What became of one key of the document. */
typedef enum {
    RBAC_JWKS_ADDED = 0,
    RBAC_JWKS_SKIPPED,      /* not a signing key, or one not implemented */
    RBAC_JWKS_REFUSED       /* malformed, weak, or its alg does not fit */
} rbac_jwks_verdict_t;

/*
 * Called once per key of the document, in order: its index, its kid (len
 * 0: none), the verdict and, unless RBAC_JWKS_ADDED, why ("RSA key has
 * 1024 bits, at least 2048 needed", "EC point is not on P-256", ...).
 */
typedef void (*rbac_jwks_report_pt)(void *ud, size_t index, rbac_str_t kid,
    rbac_jwks_verdict_t verdict, const char *why);

/*
 * Adds the keys of the JWKS document `doc` to ks.  dflt: the alg of keys
 * without one (RBAC_JWT_ALG_NONE: none).  report may be NULL.  A key that
 * is refused or skipped does not stop the others; *added (may be NULL)
 * counts the keys added.
 *
 * Returns RBAC_OK when the document is a JWKS ({"keys": [...]}, at most
 * RBAC_JWKS_MAX_DOC bytes, no member name twice in any object), whatever
 * became of its keys; RBAC_EPARSE or RBAC_EBOUND (the document) with err
 * set; RBAC_ENOMEM.
 */
rbac_rc_t rbac_jwks_add(rbac_jwt_keyset_t *ks, rbac_str_t doc,
    rbac_jwt_alg_t dflt, rbac_jwks_report_pt report, void *ud,
    size_t *added, rbac_err_t *err);

/*
 * Adds every key of src to dst (as rbac_jwt_keyset_add: same checks,
 * copies).  Returns as rbac_jwt_keyset_add.
 */
rbac_rc_t rbac_jwt_keyset_add_all(rbac_jwt_keyset_t *dst,
    const rbac_jwt_keyset_t *src, rbac_err_t *err);

/*
 * The i-th key of ks (in order added): its kid (len 0: none) and alg.
 * Returns 0 when i is past the last key.
 */
int rbac_jwt_keyset_get(const rbac_jwt_keyset_t *ks, size_t i,
    rbac_str_t *kid, rbac_jwt_alg_t *alg);


#endif /* RBAC_JWKS_H */
