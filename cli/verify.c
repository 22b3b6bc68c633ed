/*
 * verify.c: `rbacctl token verify --jwks FILE TOKEN`: a JWT checked
 * offline against a JWKS, with the module's code (rbac_jwks_add, then
 * rbac_jwt_verify with the same claim checks), for an operator debugging
 * a 401.  Keys of the set that the module would refuse or skip are listed
 * on stderr; the token's verdict and, when it is refused, the set's kids
 * are printed on stdout.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "rbac_jwks.h"


#define RBACCTL_VERIFY_MAX  32      /* --iss, --aud values */


static void
rbacctl_verify_report(void *ud, size_t index, rbac_str_t kid,
    rbac_jwks_verdict_t verdict, const char *why)
{
    if (verdict == RBAC_JWKS_ADDED) {
        return;
    }

    fprintf(stderr, "key #%zu kid=\"%.*s\" %s: %s\n", index + 1,
            (int) kid.len, kid.len ? kid.data : "",
            verdict == RBAC_JWKS_REFUSED ? "refused" : "skipped", why);
}


/* Every value of --name into out (at most RBACCTL_VERIFY_MAX). */
static size_t
rbacctl_verify_strs(rbacctl_args_t *a, const char *name, rbac_str_t *out)
{
    size_t       i, n;
    const char  *v[RBACCTL_VERIFY_MAX];

    n = rbacctl_arg_all(a, name, v, RBACCTL_VERIFY_MAX);

    for (i = 0; i < n; i++) {
        out[i].data = v[i];
        out[i].len = strlen(v[i]);
    }

    return n;
}


/* The claim checks from --iss, --aud, --leeway (seconds). */
static int
rbacctl_verify_checks(rbacctl_args_t *a, rbac_jwt_checks_t *chk,
    rbac_str_t *iss, rbac_str_t *aud)
{
    char        *end;
    const char  *leeway;

    rbac_jwt_checks_init(chk);

    chk->issuers = iss;
    chk->nissuers = rbacctl_verify_strs(a, "iss", iss);
    chk->audiences = aud;
    chk->naudiences = rbacctl_verify_strs(a, "aud", aud);

    leeway = rbacctl_arg(a, "leeway");
    if (leeway != NULL) {
        chk->leeway = strtol(leeway, &end, 10);

        if (*leeway == '\0' || *end != '\0' || chk->leeway < 0
            || chk->leeway > RBAC_JWT_LEEWAY_MAX)
        {
            return rbacctl_fail(a, RBACCTL_USAGE, "--leeway: 0..%d seconds",
                                RBAC_JWT_LEEWAY_MAX);
        }
    }

    return RBACCTL_OK;
}


int
rbacctl_token_verify(rbacctl_args_t *a, const char *usage)
{
    int                 rc;
    char               *doc;
    size_t              len, added, i;
    rbac_rc_t           rrc;
    rbac_str_t          text, tok, kid, iss[RBACCTL_VERIFY_MAX];
    rbac_str_t          aud[RBACCTL_VERIFY_MAX], name;
    rbac_err_t          err;
    const char         *file, *alg_name;
    rbac_jwt_alg_t      alg, dflt;
    rbac_jwt_checks_t   chk;
    rbac_jwt_result_t   res;
    rbac_jwt_keyset_t  *ks;

    file = rbacctl_arg(a, "jwks");

    if (file == NULL || a->npos != 2) {
        fprintf(stderr, "usage: rbacctl %s\n", usage);
        return RBACCTL_USAGE;
    }

    dflt = RBAC_JWT_ALG_NONE;
    alg_name = rbacctl_arg(a, "alg");

    if (alg_name != NULL) {
        name.data = alg_name;
        name.len = strlen(alg_name);
        dflt = rbac_jwt_alg_parse(name);

        if (dflt == RBAC_JWT_ALG_NONE) {
            return rbacctl_fail(a, RBACCTL_USAGE, "--alg: HS256..HS512, "
                                "RS256..RS512, ES256..ES512");
        }
    }

    rc = rbacctl_verify_checks(a, &chk, iss, aud);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    doc = rbacctl_read_file(file, &len);
    if (doc == NULL) {
        return rbacctl_fail(a, RBACCTL_FAIL, "cannot read %s", file);
    }

    ks = rbac_jwt_keyset_create(&rbac_malloc_allocator, &err);
    if (ks == NULL) {
        free(doc);
        return rbacctl_fail(a, RBACCTL_FAIL, "out of memory");
    }

    text.data = doc;
    text.len = len;

    rrc = rbac_jwks_add(ks, text, dflt, rbacctl_verify_report, NULL, &added,
                        &err);
    free(doc);

    if (rrc != RBAC_OK) {
        rbac_jwt_keyset_free(ks);
        return rbacctl_fail(a, RBACCTL_FAIL, "%s: %s", file, err.msg);
    }

    tok.data = a->pos[1];
    tok.len = strlen(a->pos[1]);

    memset(&res, 0, sizeof(res));

    rrc = rbac_jwt_verify(ks, &chk, tok, (int64_t) time(NULL),
                          &rbac_malloc_allocator, &res, &err);

    if (rrc == RBAC_OK) {
        printf("valid: sub=%s exp=%lld\nclaims: %s\n", res.sub.data,
               (long long) res.exp, res.claims.data);
        rbac_jwt_result_free(&rbac_malloc_allocator, &res);
        rc = RBACCTL_OK;

    } else if (rrc == RBAC_ETOKEN) {
        printf("invalid: %s\nkeys:", err.msg);

        for (i = 0; rbac_jwt_keyset_get(ks, i, &kid, &alg); i++) {
            printf(" %.*s(%s)", (int) kid.len, kid.len ? kid.data : "-",
                   rbac_jwt_alg_name(alg));
        }

        printf("%s\n", added ? "" : " none");
        rc = RBACCTL_DENIED;

    } else {
        rc = rbacctl_fail(a, RBACCTL_FAIL, "%s", err.msg);
    }

    rbac_jwt_keyset_free(ks);

    return rc;
}
