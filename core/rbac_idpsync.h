/*
 * rbac_idpsync.h: IdP sync (docs/authorization.md §12; rbac:idpsync,
 * docs/records.md §2):
 * the memberships a verified token's claims grant, merged with the user's
 * record.
 *
 * Input: the parsed settings (rbac:idpsync), their regex filters compiled
 * once (rbac_idp_compile), the token's sub and claims JSON text, the user's
 * record (or NULL) and lookups for the records the rules depend on:
 *   rbac:org:<org>        organization sync keeps only orgs that exist;
 *   rbac:orggroups:<org>  group sync: names of unmapped claim values, and
 *                         the org's group ids (a mapped group id is kept
 *                         only if it is one of that org's groups, so one
 *                         org's settings never grant another org's group);
 *   rbac:role:<org>:<n>   org role sync keeps built-in org roles (catalog)
 *                         and custom roles that exist in that org.
 * A lookup may answer "pending" (the module has asked Redis and will run
 * the sync again): the sync then carries on as if an org existed and a
 * group index or role did not, so that every record it needs is asked for
 * in the same round trip, and returns with result->pending set.
 *
 * Output: a user record (RBAC_REC_USER block, as rbac_record_parse makes
 * it) holding the merged memberships, ready for rbac_subject_build, and
 * one grant per membership saying where it comes from.
 *
 * Rules (docs/authorization.md §12; where Coder is silent, the safer
 * reading):
 *   - sync applies to users (kind user) with login "oidc", or without a
 *     record; other records are used as they are;
 *   - a claim is found by `field` as one member name first (URL-named
 *     claims), else as a dotted path ("realm_access.roles"); its value is a
 *     string or an array of strings; missing, null, a duplicated member
 *     name, another type, an array with a non-string element or more than
 *     RBAC_MAX_LIST elements: no value at all (a malformed claim never
 *     grants more than a missing one); values over RBAC_MAX_NAME bytes or
 *     empty are skipped (they name nothing);
 *   - site roles (field set): default roles, plus per claim value its
 *     mapping or else the value itself; only built-in site roles are kept;
 *   - organizations (field set): per claim value its mapping (unmapped
 *     values ignored), plus default_org with assign_default; only orgs
 *     that exist; a new membership has no roles, an existing one keeps its
 *     record roles;
 *   - org roles (per org the user ends up a member of, field set): per
 *     claim value its mapping or else the value itself; system roles
 *     (organization-member, ...) ignored; kept when a built-in org role or
 *     a custom role of that org;
 *   - groups (per member org, field set): values not matching regex_filter
 *     dropped; mapped values become group ids of that org, unmapped values
 *     are looked up by name in the org's index, the rest ignored; the
 *     org's Everyone group (id = org id) is always kept;
 *   - user idp_sync "replace" (and users without a record): each enabled
 *     sync replaces its part of the record (site roles; orgs; one org's
 *     roles; one org's groups, those of the record found in the org's
 *     index); "add": the union.
 *
 * Bounds (docs/security.md §7): claims text over RBAC_MAX_CLAIMS, more than
 * RBAC_MAX_LIST entries in one list of the result or more than
 * RBAC_IDP_MAX_GRANTS in all: RBAC_EBOUND.  Regex filters are at most
 * RBAC_IDP_MAX_REGEX bytes, matched with match, depth and heap limits; a
 * value whose match fails on a limit is dropped.
 *
 * Memory: everything through the allocators given (PCRE2 too, through a
 * general context); cJSON through its hooks, freed before return.
 */

#ifndef RBAC_IDPSYNC_H
#define RBAC_IDPSYNC_H

#include "rbac_record.h"


#define RBAC_IDP_MAX_REGEX     256         /* bytes of one regex_filter */
#define RBAC_IDP_MAX_GRANTS    4096        /* memberships of one result */
#define RBAC_IDP_MATCH_LIMIT   10000       /* pcre2_set_match_limit */
#define RBAC_IDP_DEPTH_LIMIT   1000        /* pcre2_set_depth_limit */
#define RBAC_IDP_HEAP_LIMIT    256         /* KiB, pcre2_set_heap_limit */


/* The regex filters of one settings record, compiled. */
typedef struct rbac_idp_rx_s  rbac_idp_rx_t;

/*
 * Compiles every groups.<org>.regex_filter of `set`.  The result keeps
 * `a` (copied) and allocates from it until rbac_idp_rx_free; it must not
 * be used by two threads at once (it owns one match block).  Returns
 * RBAC_OK, RBAC_EBOUND (a pattern over RBAC_IDP_MAX_REGEX bytes),
 * RBAC_EINVAL (a pattern PCRE2 refuses; err names the field and says
 * why), RBAC_ENOMEM.
 */
rbac_rc_t rbac_idp_compile(const rbac_idpsync_rec_t *set,
    const rbac_allocator_t *a, rbac_idp_rx_t **out, rbac_err_t *err);

void rbac_idp_rx_free(rbac_idp_rx_t *rx);

/* The settings version it was compiled from. */
int64_t rbac_idp_rx_version(const rbac_idp_rx_t *rx);

/* 1 when rx (NULL: none) was compiled from exactly these settings. */
int rbac_idp_rx_fits(const rbac_idp_rx_t *rx, const rbac_idpsync_rec_t *set);

/*
 * 1 when `value` passes the regex_filter of the set's groups[index] (or
 * it has none); a match that fails on a limit does not pass.
 */
int rbac_idp_rx_match(const rbac_idp_rx_t *rx, size_t index,
    rbac_str_t value);


typedef enum {
    RBAC_IDP_ABSENT = 0,
    RBAC_IDP_PRESENT,
    RBAC_IDP_PENDING
} rbac_idp_look_t;

typedef struct {
    const rbac_catalog_t   *catalog;
    /* rbac:org:<org> */
    rbac_idp_look_t       (*org)(void *ud, rbac_str_t org);
    /* rbac:orggroups:<org>; *out the record when PRESENT */
    rbac_idp_look_t       (*orggroups)(void *ud, rbac_str_t org,
                                       const rbac_orggroups_rec_t **out);
    /* rbac:role:<org>:<name> */
    rbac_idp_look_t       (*role)(void *ud, rbac_str_t org, rbac_str_t name);
    void                   *ud;
} rbac_idp_lookup_t;


typedef enum {
    RBAC_IDP_SITE_ROLE = 0,
    RBAC_IDP_ORG,
    RBAC_IDP_ORG_ROLE,
    RBAC_IDP_GROUP
} rbac_idp_kind_t;

/* One membership of the result and why it is there. */
typedef struct {
    rbac_idp_kind_t   kind;
    rbac_str_t        org;          /* "" for site roles */
    rbac_str_t        name;         /* role, org id or group id */
    rbac_str_t        reason;       /* "claim memberOf: \"x\" mapped" */
} rbac_idp_grant_t;

typedef struct {
    int                 pending;    /* a lookup is pending: run again */
    int                 synced;     /* 0: the record was used as it is */
    rbac_user_rec_t    *user;       /* NULL: pending, or no record and
                                     * no membership granted */
    rbac_idp_grant_t   *grants;     /* in the order site roles, orgs,
                                     * org roles, groups */
    size_t              ngrants;
    void               *mem;        /* the grants' block */
} rbac_idp_result_t;

/*
 * Applies `set` to the claims of a verified token.  `rx` is what
 * rbac_idp_compile made of the same settings (NULL when they have no
 * regex filter); `user` the record of `sub` or NULL.  On RBAC_OK the
 * result's memory comes from `a` (rbac_idp_result_free).  Returns RBAC_OK,
 * RBAC_EBOUND, RBAC_EINVAL (rx compiled from other settings), RBAC_ENOMEM.
 */
rbac_rc_t rbac_idp_apply(const rbac_idpsync_rec_t *set,
    const rbac_idp_rx_t *rx, rbac_str_t sub, rbac_str_t claims,
    const rbac_user_rec_t *user, const rbac_idp_lookup_t *lk,
    const rbac_allocator_t *a, rbac_idp_result_t *out, rbac_err_t *err);

void rbac_idp_result_free(rbac_idp_result_t *res, const rbac_allocator_t *a);

/* "site_role", "org", "org_role", "group". */
const char *rbac_idp_kind_name(rbac_idp_kind_t kind);


#endif /* RBAC_IDPSYNC_H */
