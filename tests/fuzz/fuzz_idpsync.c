/*
 * fuzz_idpsync.c: libFuzzer target over IdP sync: the settings parser
 * (rbac_record_parse of rbac:idpsync), the regex filter compiler and the
 * claim walker with every sync rule (rbac_idp_apply).
 *
 * The input is "<settings JSON>\n--\n<claims JSON>"; without the
 * separator it is used as both.  The sync runs for a user without a
 * record and for one with a record in each mode; invariants of the
 * results are checked and any breach aborts.  Corpus:
 * tests/fuzz/corpus/idpsync/.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rbac.h"


static rbac_catalog_t  *fuzz_cat;
static void            *fuzz_og;
static void            *fuzz_users[2];

static const char  fuzz_user_json[2][160] = {
    "{\"id\":\"u1\",\"site_roles\":[\"auditor\"],\"orgs\":{\"orgA\":"
    "[\"organization-admin\"]},\"groups\":[\"g1\",\"x\"]}",
    "{\"id\":\"u1\",\"site_roles\":[\"auditor\"],\"orgs\":{\"orgA\":"
    "[\"organization-admin\"]},\"groups\":[\"g1\"],\"idp_sync\":\"add\"}"
};


/* Orgs whose name starts with "org" exist. */
static rbac_idp_look_t
fuzz_org(void *ud, rbac_str_t org)
{
    return org.len >= 3 && memcmp(org.data, "org", 3) == 0
           ? RBAC_IDP_PRESENT : RBAC_IDP_ABSENT;
}


static rbac_idp_look_t
fuzz_orggroups(void *ud, rbac_str_t org, const rbac_orggroups_rec_t **out)
{
    *out = fuzz_og;
    return org.len & 1 ? RBAC_IDP_PRESENT : RBAC_IDP_ABSENT;
}


/* Custom roles whose name starts with "c" exist. */
static rbac_idp_look_t
fuzz_role(void *ud, rbac_str_t org, rbac_str_t name)
{
    return name.len && name.data[0] == 'c' ? RBAC_IDP_PRESENT
                                           : RBAC_IDP_ABSENT;
}


static void
fuzz_init(void)
{
    int         i;
    rbac_err_t  err;
    static const char  og[] = "{\"eng\":\"g1\",\"ops\":\"g2\"}";

    if (rbac_catalog_load((const char *) rbac_builtin_catalog,
                          rbac_builtin_catalog_len, &rbac_malloc_allocator,
                          &fuzz_cat, &err) != RBAC_OK
        || rbac_record_parse(RBAC_REC_ORGGROUPS, og, sizeof(og) - 1,
                             &rbac_malloc_allocator, &fuzz_og, &err)
           != RBAC_OK)
    {
        abort();
    }

    for (i = 0; i < 2; i++) {
        if (rbac_record_parse(RBAC_REC_USER, fuzz_user_json[i],
                              strlen(fuzz_user_json[i]),
                              &rbac_malloc_allocator, &fuzz_users[i], &err)
            != RBAC_OK)
        {
            abort();
        }
    }
}


static void
fuzz_check(const rbac_idp_result_t *res)
{
    size_t  i;

    if (res->pending) {
        abort();
    }

    for (i = 0; i < res->ngrants; i++) {
        if (res->grants[i].kind > RBAC_IDP_GROUP
            || res->grants[i].name.len == 0
            || res->grants[i].reason.len == 0
            || res->grants[i].name.data[res->grants[i].name.len] != '\0')
        {
            abort();
        }

        if (i && res->grants[i].kind < res->grants[i - 1].kind) {
            abort();
        }
    }

    if (res->user != NULL
        && (res->user->site_roles.n > RBAC_MAX_LIST
            || res->user->orgs.n > RBAC_MAX_LIST
            || res->user->groups.n > RBAC_MAX_LIST))
    {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                 u;
    void               *set;
    size_t              i;
    const char         *sep;
    rbac_rc_t           rc;
    rbac_str_t          settings, claims, sub = rbac_string("u1");
    rbac_err_t          err;
    rbac_idp_rx_t      *rx;
    rbac_idp_lookup_t   lk;
    rbac_idp_result_t   res;

    if (fuzz_cat == NULL) {
        fuzz_init();
    }

    settings.data = (const char *) data;
    settings.len = size;
    claims = settings;

    sep = NULL;

    for (i = 0; i + 4 <= size; i++) {
        if (memcmp(data + i, "\n--\n", 4) == 0) {
            sep = (const char *) data + i;
            break;
        }
    }

    if (sep != NULL) {
        settings.len = sep - (const char *) data;
        claims.data = sep + 4;
        claims.len = size - settings.len - 4;
    }

    rc = rbac_record_parse(RBAC_REC_IDPSYNC, settings.data, settings.len,
                           &rbac_malloc_allocator, &set, &err);
    if (rc != RBAC_OK) {
        if (set != NULL) {
            abort();
        }

        return 0;
    }

    rc = rbac_idp_compile(set, &rbac_malloc_allocator, &rx, &err);
    if (rc != RBAC_OK) {
        if (rc != RBAC_EINVAL && rc != RBAC_EBOUND) {
            abort();
        }

        free(set);
        return 0;
    }

    lk.catalog = fuzz_cat;
    lk.org = fuzz_org;
    lk.orggroups = fuzz_orggroups;
    lk.role = fuzz_role;
    lk.ud = NULL;

    for (u = -1; u < 2; u++) {
        rc = rbac_idp_apply(set, rx, sub, claims,
                            u < 0 ? NULL : fuzz_users[u], &lk,
                            &rbac_malloc_allocator, &res, &err);
        if (rc != RBAC_OK) {
            if (rc != RBAC_EBOUND) {
                abort();
            }

            continue;
        }

        fuzz_check(&res);

        /* a record's status and id survive */
        if (u >= 0 && (res.user == NULL
                       || !rbac_str_eq_cstr(rbac_ref(res.user, res.user->id),
                                            "u1")))
        {
            abort();
        }

        rbac_idp_result_free(&res, &rbac_malloc_allocator);
    }

    rbac_idp_rx_free(rx);
    free(set);

    return 0;
}
