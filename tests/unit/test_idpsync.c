/*
 * test_idpsync.c: IdP sync (core/rbac_idpsync.h, docs/authorization.md §12):
 * each rule of the organization, group, org-role and site-role syncs, the
 * claim walker (string, array, dotted path, missing, malformed), replace
 * and add, users without a record, pending lookups, bounds, regex filters
 * and allocation failures.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rbac.h"
#include "testutil.h"


static rbac_catalog_t  *cat;
static int              pending_mode;
static int              lookups;
static long             cjson_fail;     /* in rbac_idp_apply only */


/* ---- the decision table the lookups see ---- */

static const char *const  existing_orgs[] = { "orgA", "orgB", "megaco",
                                              NULL };

static void  *og_a, *og_b;


static rbac_idp_look_t
look_org(void *ud, rbac_str_t org)
{
    int  i;

    lookups++;

    if (pending_mode) {
        return RBAC_IDP_PENDING;
    }

    for (i = 0; existing_orgs[i]; i++) {
        if (rbac_str_eq_cstr(org, existing_orgs[i])) {
            return RBAC_IDP_PRESENT;
        }
    }

    return RBAC_IDP_ABSENT;
}


static rbac_idp_look_t
look_orggroups(void *ud, rbac_str_t org, const rbac_orggroups_rec_t **out)
{
    lookups++;

    if (pending_mode) {
        return RBAC_IDP_PENDING;
    }

    if (rbac_str_eq_cstr(org, "orgA")) {
        *out = og_a;
        return RBAC_IDP_PRESENT;
    }

    if (rbac_str_eq_cstr(org, "orgB")) {
        *out = og_b;
        return RBAC_IDP_PRESENT;
    }

    return RBAC_IDP_ABSENT;
}


static rbac_idp_look_t
look_role(void *ud, rbac_str_t org, rbac_str_t name)
{
    lookups++;

    if (pending_mode) {
        return RBAC_IDP_PENDING;
    }

    return rbac_str_eq_cstr(org, "orgA") && rbac_str_eq_cstr(name, "banking-auditor")
           ? RBAC_IDP_PRESENT : RBAC_IDP_ABSENT;
}


static void *
parse(rbac_rec_type_t type, const char *json)
{
    void        *rec;
    rbac_err_t   e;

    memset(&e, 0, sizeof(e));
    if (rbac_record_parse(type, json, strlen(json), &rbac_malloc_allocator,
                          &rec, &e)
        != RBAC_OK)
    {
        fail_msg("parse %s: %s", json, e.msg);
    }

    return rec;
}


static int
setup(void **state)
{
    rbac_err_t  e;

    og_a = parse(RBAC_REC_ORGGROUPS, "{\"eng\":\"gA-eng\",\"ops\":\"gA-ops\","
                 "\"sre\":\"gA-sre\"}");
    og_b = parse(RBAC_REC_ORGGROUPS, "{\"eng\":\"gB-eng\"}");

    return rbac_catalog_load((const char *) rbac_builtin_catalog,
                             rbac_builtin_catalog_len, &rbac_malloc_allocator,
                             &cat, &e) == RBAC_OK ? 0 : -1;
}


static int
teardown(void **state)
{
    free(og_a);
    free(og_b);
    rbac_catalog_free(cat, &rbac_malloc_allocator);
    return 0;
}


/* ---- running a sync ---- */

typedef struct {
    rbac_rc_t           rc;
    rbac_err_t          err;
    rbac_idp_result_t   res;
    char                text[4096];     /* "site:owner org:orgA ..." */
} run_t;


static void
render(run_t *r)
{
    char                        *p, *end;
    size_t                       i, k;
    const rbac_ref_t            *refs;
    const rbac_user_rec_t       *u;
    const rbac_user_org_rec_t   *uo;

    p = r->text;
    end = r->text + sizeof(r->text);
    *p = '\0';
    u = r->res.user;

    if (u == NULL) {
        snprintf(p, end - p, "%s", r->res.pending ? "pending" : "none");
        return;
    }

    refs = rbac_rec_at(u, u->site_roles, rbac_ref_t);
    for (i = 0; i < u->site_roles.n; i++) {
        p += snprintf(p, end - p, "site:%s ", rbac_ref(u, refs[i]).data);
    }

    uo = rbac_rec_at(u, u->orgs, rbac_user_org_rec_t);
    for (i = 0; i < u->orgs.n; i++) {
        p += snprintf(p, end - p, "org:%s[", rbac_ref(u, uo[i].org).data);
        refs = rbac_rec_at(u, uo[i].roles, rbac_ref_t);
        for (k = 0; k < uo[i].roles.n; k++) {
            p += snprintf(p, end - p, "%s%s", k ? "," : "",
                          rbac_ref(u, refs[k]).data);
        }
        p += snprintf(p, end - p, "] ");
    }

    refs = rbac_rec_at(u, u->groups, rbac_ref_t);
    for (i = 0; i < u->groups.n; i++) {
        p += snprintf(p, end - p, "group:%s ", rbac_ref(u, refs[i]).data);
    }

    if (p > r->text && p[-1] == ' ') {
        p[-1] = '\0';
    }
}


static void
run_with(run_t *r, const char *settings, const char *claims,
    const char *user, const rbac_allocator_t *a)
{
    void               *set, *u;
    rbac_rc_t           rc;
    rbac_idp_rx_t      *rx;
    rbac_idp_lookup_t   lk;

    memset(r, 0, sizeof(*r));

    set = parse(RBAC_REC_IDPSYNC, settings);
    u = user ? parse(RBAC_REC_USER, user) : NULL;

    rc = rbac_idp_compile(set, &rbac_malloc_allocator, &rx, &r->err);
    assert_int_equal(rc, RBAC_OK);

    lk.catalog = cat;
    lk.org = look_org;
    lk.orggroups = look_orggroups;
    lk.role = look_role;
    lk.ud = NULL;

    if (cjson_fail) {
        testutil_cjson_fail_at(cjson_fail, 0);
    }

    r->rc = rbac_idp_apply(set, rx, S("sub1"), S(claims), u, &lk, a,
                           &r->res, &r->err);

    if (cjson_fail) {
        testutil_cjson_reset();
    }

    if (r->rc == RBAC_OK) {
        render(r);
    }

    rbac_idp_rx_free(rx);
    free(set);
    free(u);
}


static void
run(run_t *r, const char *settings, const char *claims, const char *user)
{
    run_with(r, settings, claims, user, &rbac_malloc_allocator);
    assert_int_equal(r->rc, RBAC_OK);
}


static void
done(run_t *r)
{
    rbac_idp_result_free(&r->res, &rbac_malloc_allocator);
}


/* The reason of grant (kind, name), or "" when there is none. */
static const char *
reason(run_t *r, rbac_idp_kind_t kind, const char *name)
{
    size_t  i;

    for (i = 0; i < r->res.ngrants; i++) {
        if (r->res.grants[i].kind == kind
            && rbac_str_eq_cstr(r->res.grants[i].name, name))
        {
            return r->res.grants[i].reason.data;
        }
    }

    return "";
}


#define expect(settings, claims, user, want)                                  \
    do {                                                                      \
        run_t  r_;                                                            \
        run(&r_, settings, claims, user);                                     \
        assert_string_equal(r_.text, want);                                   \
        done(&r_);                                                            \
    } while (0)


/* ---- settings used below ---- */

#define ORGSYNC                                                               \
    "{\"organization\":{\"field\":\"memberOf\",\"mapping\":{"                 \
    "\"a-team\":[\"orgA\"],\"b-team\":[\"orgB\",\"ghost\"],"                  \
    "\"both\":[\"orgA\",\"orgB\"]},"                                          \
    "\"assign_default\":true,\"default_org\":\"megaco\"}}"

#define ORGSYNC_NODEF                                                         \
    "{\"organization\":{\"field\":\"memberOf\",\"mapping\":{"                 \
    "\"a-team\":[\"orgA\"]},\"assign_default\":false,"                        \
    "\"default_org\":\"megaco\"}}"

#define GROUPSYNC(re)                                                         \
    "{\"organization\":{\"field\":\"memberOf\",\"mapping\":{"                 \
    "\"a-team\":[\"orgA\"],\"b-team\":[\"orgB\"]},\"assign_default\":false},"  \
    "\"groups\":{\"orgA\":{\"field\":\"groups\",\"mapping\":{"                \
    "\"platform\":[\"gA-ops\",\"gB-eng\"]},\"regex_filter\":\"" re "\"},"     \
    "\"orgB\":{\"field\":\"groups\"}}}"

#define ROLESYNC                                                              \
    "{\"org_roles\":{\"orgA\":{\"field\":\"roles\",\"mapping\":{"             \
    "\"admins\":[\"organization-admin\",\"owner\"]}}}}"

#define SITESYNC                                                              \
    "{\"site_roles\":{\"field\":\"roles\",\"mapping\":{"                      \
    "\"admins\":[\"owner\",\"organization-admin\",\"nope\"]},"                \
    "\"default\":[\"auditor\"]}}"

#define USER_A                                                                \
    "{\"id\":\"sub1\",\"site_roles\":[\"template-admin\"],"                   \
    "\"orgs\":{\"orgA\":[\"organization-auditor\"],\"orgB\":[]},"             \
    "\"groups\":[\"gA-eng\",\"gB-eng\"]}"

#define USER_A_ADD                                                            \
    "{\"id\":\"sub1\",\"site_roles\":[\"template-admin\"],"                   \
    "\"orgs\":{\"orgA\":[\"organization-auditor\"],\"orgB\":[]},"             \
    "\"groups\":[\"gA-eng\",\"gB-eng\"],\"idp_sync\":\"add\"}"


/* ---- the claim walker ---- */

static void
test_claim_string_or_array(void **state)
{
    expect(ORGSYNC_NODEF, "{\"memberOf\":\"a-team\"}", NULL, "org:orgA[]");
    expect(ORGSYNC_NODEF, "{\"memberOf\":[\"x\",\"a-team\"]}", NULL,
           "org:orgA[]");
    expect(ORGSYNC_NODEF, "{\"memberOf\":[]}", NULL, "none");

    /* a value holding a control byte is never a name: skipped */
    expect(ORGSYNC_NODEF, "{\"memberOf\":\"a-team\\n\"}", NULL, "none");
    expect(ORGSYNC_NODEF, "{\"memberOf\":[\"a\\u0001\",\"a-team\"]}", NULL,
           "org:orgA[]");
}


static void
test_claim_dotted_path(void **state)
{
    static const char  set[] =
        "{\"organization\":{\"field\":\"realm_access.roles\",\"mapping\":{"
        "\"a-team\":[\"orgA\"]},\"assign_default\":false}}";
    static const char  url[] =
        "{\"organization\":{\"field\":\"https://idp.example/groups\","
        "\"mapping\":{\"a-team\":[\"orgA\"]},\"assign_default\":false}}";

    expect(set, "{\"realm_access\":{\"roles\":[\"a-team\"]}}", NULL,
           "org:orgA[]");
    expect(set, "{\"realm_access\":[\"a-team\"]}", NULL, "none");
    expect(set, "{\"realm_access\":{\"other\":1}}", NULL, "none");
    expect(set, "{\"realm_access.roles\":\"a-team\"}", NULL, "org:orgA[]");

    /* a claim named with dots (a URL) is found as one name */
    expect(url, "{\"https://idp.example/groups\":[\"a-team\"]}", NULL,
           "org:orgA[]");
}


static void
test_claim_missing_or_malformed_grants_nothing(void **state)
{
    /* replace: the record's orgs go, a missing claim grants none */
    expect(ORGSYNC_NODEF, "{}", USER_A, "site:template-admin group:gA-eng "
           "group:gB-eng");

    /* malformed: never more than missing */
    expect(ORGSYNC_NODEF, "{\"memberOf\":7}", USER_A,
           "site:template-admin group:gA-eng group:gB-eng");
    expect(ORGSYNC_NODEF, "{\"memberOf\":[\"a-team\",7]}", NULL, "none");
    expect(ORGSYNC_NODEF, "{\"memberOf\":{\"a-team\":1}}", NULL, "none");
    expect(ORGSYNC_NODEF, "{\"memberOf\":\"a-team\",\"memberOf\":\"x\"}",
           NULL, "none");
    expect(ORGSYNC_NODEF, "{\"memberOf\":null}", NULL, "none");
    expect(ORGSYNC_NODEF, "not json", NULL, "none");
    expect(ORGSYNC_NODEF, "[\"a-team\"]", NULL, "none");
}


/* ---- organization sync ---- */

static void
test_org_sync(void **state)
{
    run_t  r;

    /* mapped, unmapped ignored, a mapped org that does not exist dropped,
     * the default org added */
    run(&r, ORGSYNC, "{\"memberOf\":[\"b-team\",\"unmapped\"]}", NULL);
    assert_string_equal(r.text, "org:megaco[] org:orgB[]");
    assert_string_equal(reason(&r, RBAC_IDP_ORG, "orgB"),
                        "claim memberOf: \"b-team\" mapped");
    assert_string_equal(reason(&r, RBAC_IDP_ORG, "megaco"),
                        "default org (assign_default)");
    done(&r);

    expect(ORGSYNC, "{}", NULL, "org:megaco[]");
    expect(ORGSYNC_NODEF, "{\"memberOf\":[\"b-team\"]}", NULL, "none");

    /* replace: exactly the synced orgs; a kept org keeps its roles */
    run(&r, ORGSYNC, "{\"memberOf\":[\"a-team\"]}", USER_A);
    assert_string_equal(r.text, "site:template-admin org:megaco[] "
                        "org:orgA[organization-auditor] "
                        "group:gA-eng group:gB-eng");
    assert_string_equal(reason(&r, RBAC_IDP_ORG, "orgA"),
                        "claim memberOf: \"a-team\" mapped");
    assert_string_equal(reason(&r, RBAC_IDP_ORG_ROLE,
                               "organization-auditor"), "user record");
    done(&r);

    /* add: the union */
    expect(ORGSYNC, "{\"memberOf\":[\"a-team\"]}", USER_A_ADD,
           "site:template-admin org:megaco[] org:orgA[organization-auditor] "
           "org:orgB[] group:gA-eng group:gB-eng");
}


/* ---- group sync ---- */

static void
test_group_sync(void **state)
{
    run_t  r;

    /* mapped (own org's group only), unmapped by name, unknown ignored,
     * Everyone always */
    run(&r, GROUPSYNC(""), "{\"memberOf\":\"a-team\","
        "\"groups\":[\"platform\",\"eng\",\"nosuch\"]}", NULL);
    assert_string_equal(r.text, "org:orgA[] group:gA-ops group:gA-eng "
                        "group:orgA");
    assert_string_equal(reason(&r, RBAC_IDP_GROUP, "gA-ops"),
                        "claim groups: \"platform\" mapped");
    assert_string_equal(reason(&r, RBAC_IDP_GROUP, "gA-eng"),
                        "claim groups: \"eng\" (unmapped, the group's name)");
    assert_string_equal(reason(&r, RBAC_IDP_GROUP, "orgA"),
                        "Everyone group (always kept)");
    done(&r);

    /* one org's names resolve in that org only */
    expect(GROUPSYNC(""), "{\"memberOf\":[\"a-team\",\"b-team\"],"
           "\"groups\":\"eng\"}", NULL,
           "org:orgA[] org:orgB[] group:gA-eng group:orgA group:gB-eng "
           "group:orgB");

    /* no claim: Everyone only */
    expect(GROUPSYNC(""), "{\"memberOf\":\"a-team\"}", NULL,
           "org:orgA[] group:orgA");

    /* group sync only in orgs the user is a member of */
    expect(GROUPSYNC(""), "{\"groups\":[\"eng\"]}", NULL, "none");
}


static void
test_group_regex_filter(void **state)
{
    expect(GROUPSYNC("^(eng|plat)"), "{\"memberOf\":\"a-team\","
           "\"groups\":[\"platform\",\"eng\",\"ops\",\"sre\"]}", NULL,
           "org:orgA[] group:gA-ops group:gA-eng group:orgA");

    /* unanchored, as Go's MatchString */
    expect(GROUPSYNC("ps$"), "{\"memberOf\":\"a-team\","
           "\"groups\":[\"eng\",\"ops\"]}", NULL,
           "org:orgA[] group:gA-ops group:orgA");

    /* a pathological pattern ends on its limits, and drops the value */
    expect(GROUPSYNC("^(\\\\w+\\\\s?)*$"), "{\"memberOf\":\"a-team\","
           "\"groups\":[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\","
           "\"eng\"]}", NULL, "org:orgA[] group:gA-eng group:orgA");
}


static void
test_group_replace_and_add(void **state)
{
    /* replace: the record's groups of orgA go, orgB's stay */
    expect(GROUPSYNC(""), "{\"memberOf\":[\"a-team\",\"b-team\"],"
           "\"groups\":[\"ops\"]}",
           "{\"id\":\"sub1\",\"groups\":[\"gA-eng\",\"gB-eng\",\"other\"]}",
           "org:orgA[] org:orgB[] group:other group:gA-ops group:orgA "
           "group:orgB");

    expect(GROUPSYNC(""), "{\"memberOf\":[\"a-team\"],"
           "\"groups\":[\"ops\"]}",
           "{\"id\":\"sub1\",\"groups\":[\"gA-eng\"],\"idp_sync\":\"add\"}",
           "org:orgA[] group:gA-eng group:gA-ops group:orgA");
}


/* ---- org role sync ---- */

static void
test_org_role_sync(void **state)
{
    run_t  r;

    /* mapped values replace the claim, site roles among them dropped */
    run(&r, ROLESYNC, "{\"roles\":[\"admins\"]}", USER_A);
    assert_string_equal(r.text, "site:template-admin "
                        "org:orgA[organization-admin] org:orgB[] "
                        "group:gA-eng group:gB-eng");
    done(&r);

    /* unmapped used verbatim: built-in org role, custom role of the org,
     * unknown dropped, organization-member ignored */
    run(&r, ROLESYNC, "{\"roles\":[\"organization-template-admin\","
        "\"banking-auditor\",\"made-up\",\"organization-member\",\"owner\"]}",
        USER_A);
    assert_string_equal(r.text, "site:template-admin "
                        "org:orgA[organization-template-admin,banking-auditor] "
                        "org:orgB[] group:gA-eng group:gB-eng");
    assert_string_equal(reason(&r, RBAC_IDP_ORG_ROLE, "banking-auditor"),
                        "claim roles: \"banking-auditor\" (unmapped, the "
                        "role's name)");
    done(&r);

    /* a missing claim: no roles (replace); add keeps the record's */
    expect(ROLESYNC, "{}", USER_A, "site:template-admin org:orgA[] "
           "org:orgB[] group:gA-eng group:gB-eng");
    expect(ROLESYNC, "{\"roles\":\"admins\"}", USER_A_ADD,
           "site:template-admin "
           "org:orgA[organization-auditor,organization-admin] org:orgB[] "
           "group:gA-eng group:gB-eng");

    /* the custom role exists in orgA only */
    expect("{\"org_roles\":{\"orgB\":{\"field\":\"roles\"}}}",
           "{\"roles\":[\"banking-auditor\",\"organization-admin\"]}", USER_A,
           "site:template-admin org:orgA[organization-auditor] "
           "org:orgB[organization-admin] group:gA-eng group:gB-eng");
}


/* ---- site role sync ---- */

static void
test_site_role_sync(void **state)
{
    run_t  r;

    run(&r, SITESYNC, "{\"roles\":[\"admins\",\"user-admin\",\"bogus\","
        "\"organization-admin\"]}", NULL);
    assert_string_equal(r.text, "site:auditor site:owner site:user-admin");
    assert_string_equal(reason(&r, RBAC_IDP_SITE_ROLE, "auditor"),
                        "site_roles.default");
    assert_string_equal(reason(&r, RBAC_IDP_SITE_ROLE, "owner"),
                        "claim roles: \"admins\" mapped");
    done(&r);

    /* replace vs add */
    expect(SITESYNC, "{}", USER_A, "site:auditor org:orgA[organization-"
           "auditor] org:orgB[] group:gA-eng group:gB-eng");
    expect(SITESYNC, "{}", USER_A_ADD, "site:template-admin site:auditor "
           "org:orgA[organization-auditor] org:orgB[] group:gA-eng "
           "group:gB-eng");
}


/* ---- who is synced ---- */

static void
test_not_synced(void **state)
{
    run_t  r;

    /* password users and service accounts: the record as it is */
    run(&r, ORGSYNC, "{\"memberOf\":\"a-team\"}",
        "{\"id\":\"sub1\",\"login\":\"password\",\"orgs\":{\"orgB\":[]}}");
    assert_int_equal(r.res.synced, 0);
    assert_string_equal(r.text, "org:orgB[]");
    assert_int_equal(r.res.user->login, RBAC_LOGIN_PASSWORD);
    done(&r);

    run(&r, ORGSYNC, "{\"memberOf\":\"a-team\"}",
        "{\"id\":\"sub1\",\"kind\":\"service_account\",\"login\":\"none\"}");
    assert_int_equal(r.res.synced, 0);
    assert_int_equal(r.res.user->kind, RBAC_KIND_SERVICE_ACCOUNT);
    done(&r);
}


static void
test_status_kept(void **state)
{
    run_t  r;

    run(&r, ORGSYNC, "{\"memberOf\":\"a-team\"}",
        "{\"id\":\"sub1\",\"status\":\"suspended\"}");
    assert_string_equal(r.text, "org:megaco[] org:orgA[]");
    assert_int_equal(r.res.user->status, RBAC_STATUS_SUSPENDED);
    done(&r);
}


static void
test_no_record(void **state)
{
    run_t  r;

    run(&r, ORGSYNC, "{\"memberOf\":\"a-team\"}", NULL);
    assert_non_null(r.res.user);
    assert_string_equal(rbac_ref(r.res.user, r.res.user->id).data, "sub1");
    assert_int_equal(r.res.user->status, RBAC_STATUS_ACTIVE);
    assert_int_equal(r.res.user->kind, RBAC_KIND_USER);
    done(&r);

    /* no settings enabled: nothing granted, still unknown */
    expect("{}", "{\"memberOf\":\"a-team\"}", NULL, "none");
}


static void
test_pending_asks_everything_at_once(void **state)
{
    run_t  r;

    pending_mode = 1;
    lookups = 0;

    run(&r, "{\"organization\":{\"field\":\"memberOf\",\"mapping\":{"
        "\"a-team\":[\"orgA\"]}},\"groups\":{\"orgA\":{\"field\":\"g\"}},"
        "\"org_roles\":{\"orgA\":{\"field\":\"r\"}}}",
        "{\"memberOf\":\"a-team\",\"r\":\"custom\"}", NULL);

    pending_mode = 0;

    assert_int_equal(r.res.pending, 1);
    assert_null(r.res.user);
    /* org, orggroups and the custom role, in the same pass */
    assert_int_equal(lookups, 3);
    done(&r);
}


/* ---- bounds, errors ---- */

static void
test_bounds(void **state)
{
    int            i;
    char          *big, *p;
    void          *set;
    run_t          r;
    rbac_err_t     e;
    rbac_idp_rx_t *rx;

    /* claims over 64 KiB */
    big = malloc(RBAC_MAX_CLAIMS + 64);
    p = big + sprintf(big, "{\"memberOf\":\"");
    memset(p, 'x', RBAC_MAX_CLAIMS);
    strcpy(p + RBAC_MAX_CLAIMS, "\"}");
    run_with(&r, ORGSYNC, big, NULL, &rbac_malloc_allocator);
    assert_int_equal(r.rc, RBAC_EBOUND);
    free(big);

    /* more than RBAC_MAX_LIST orgs */
    big = malloc(64 * 1024);
    p = big + sprintf(big, "{\"organization\":{\"field\":\"m\",\"mapping\":"
                      "{\"x\":[");
    for (i = 0; i < 700; i++) {
        p += sprintf(p, "%s\"x%d\"", i ? "," : "", i);
    }
    p += sprintf(p, "],\"y\":[");
    for (i = 0; i < 700; i++) {
        p += sprintf(p, "%s\"y%d\"", i ? "," : "", i);
    }
    sprintf(p, "]},\"assign_default\":false}}");

    {
        rbac_idp_lookup_t  lk;
        rbac_idp_result_t  res;

        set = parse(RBAC_REC_IDPSYNC, big);
        memset(&lk, 0, sizeof(lk));
        lk.catalog = cat;           /* no org lookup: every org exists */
        memset(&e, 0, sizeof(e));

        assert_int_equal(rbac_idp_apply(set, NULL, S("sub1"),
                                        S("{\"m\":[\"x\",\"y\"]}"), NULL, &lk,
                                        &rbac_malloc_allocator, &res, &e),
                         RBAC_EBOUND);
        assert_non_null(strstr(e.msg, "memberships"));
        free(set);
    }

    free(big);

    /* regex size and syntax, refused with the field named */
    big = malloc(1024);
    p = big + sprintf(big, "{\"groups\":{\"orgA\":{\"field\":\"g\","
                      "\"regex_filter\":\"");
    memset(p, 'a', RBAC_IDP_MAX_REGEX + 1);
    strcpy(p + RBAC_IDP_MAX_REGEX + 1, "\"}}}");
    set = parse(RBAC_REC_IDPSYNC, big);
    memset(&e, 0, sizeof(e));
    assert_int_equal(rbac_idp_compile(set, &rbac_malloc_allocator, &rx, &e),
                     RBAC_EBOUND);
    assert_null(rx);
    assert_non_null(strstr(e.msg, "groups.orgA.regex_filter"));
    free(set);
    free(big);

    set = parse(RBAC_REC_IDPSYNC, "{\"groups\":{\"orgA\":{\"field\":\"g\","
                "\"regex_filter\":\"(unclosed\"}}}");
    memset(&e, 0, sizeof(e));
    assert_int_equal(rbac_idp_compile(set, &rbac_malloc_allocator, &rx, &e),
                     RBAC_EINVAL);
    assert_non_null(strstr(e.msg, "groups.orgA.regex_filter"));

    /* regexes not compiled, or compiled from other settings */
    {
        rbac_idp_lookup_t  lk;
        rbac_idp_result_t  res;
        void              *other;

        memset(&lk, 0, sizeof(lk));
        lk.catalog = cat;
        assert_int_equal(rbac_idp_apply(set, NULL, S("sub1"), S("{}"), NULL,
                                        &lk, &rbac_malloc_allocator, &res,
                                        &e),
                         RBAC_EINVAL);

        other = parse(RBAC_REC_IDPSYNC, "{\"version\":3,\"groups\":{"
                      "\"orgA\":{\"field\":\"g\",\"regex_filter\":\"a\"}}}");
        assert_int_equal(rbac_idp_compile(other, &rbac_malloc_allocator, &rx,
                                          &e), RBAC_OK);
        assert_int_equal(rbac_idp_rx_version(rx), 3);
        free(set);
        set = parse(RBAC_REC_IDPSYNC, "{\"version\":3,\"groups\":{"
                    "\"orgA\":{\"field\":\"g\",\"regex_filter\":\"b\"}}}");
        assert_int_equal(rbac_idp_apply(set, rx, S("sub1"), S("{}"), NULL,
                                        &lk, &rbac_malloc_allocator, &res,
                                        &e),
                         RBAC_EINVAL);
        rbac_idp_rx_free(rx);
        free(other);
    }

    free(set);
}


static void
test_allocation_failures(void **state)
{
    long               n;
    run_t              r;
    rbac_allocator_t   a;
    testutil_alloc_t   ta;

    for (n = 1; ; n++) {
        testutil_alloc_init(&ta, &a, n);
        run_with(&r, GROUPSYNC("^e"), "{\"memberOf\":[\"a-team\","
                 "\"b-team\"],\"groups\":[\"eng\",\"platform\"]}", USER_A,
                 &a);

        if (r.rc == RBAC_OK) {
            assert_string_equal(r.text, "site:template-admin org:orgA["
                                "organization-auditor] org:orgB[] "
                                "group:gA-eng group:orgA group:gB-eng "
                                "group:orgB");
            rbac_idp_result_free(&r.res, &a);
            assert_int_equal(ta.live, 0);
            break;
        }

        assert_int_equal(r.rc, RBAC_ENOMEM);
        assert_int_equal(ta.live, 0);
    }

    assert_true(n > 3);

    /*
     * cJSON's own failures: an error, or claims that could not be read
     * (fewer memberships, never more); nothing leaked either way
     */
    for (n = 1; n < 200; n++) {
        cjson_fail = n;
        run_with(&r, ORGSYNC, "{\"memberOf\":\"a-team\"}", NULL,
                 &rbac_malloc_allocator);
        cjson_fail = 0;

        if (r.rc == RBAC_OK) {
            assert_true(strcmp(r.text, "org:megaco[] org:orgA[]") == 0
                        || strcmp(r.text, "org:megaco[]") == 0);
            done(&r);

        } else {
            assert_int_equal(r.rc, RBAC_ENOMEM);
        }

        assert_int_equal(testutil_cjson_live(), 0);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_claim_string_or_array),
        cmocka_unit_test(test_claim_dotted_path),
        cmocka_unit_test(test_claim_missing_or_malformed_grants_nothing),
        cmocka_unit_test(test_org_sync),
        cmocka_unit_test(test_group_sync),
        cmocka_unit_test(test_group_regex_filter),
        cmocka_unit_test(test_group_replace_and_add),
        cmocka_unit_test(test_org_role_sync),
        cmocka_unit_test(test_site_role_sync),
        cmocka_unit_test(test_not_synced),
        cmocka_unit_test(test_status_kept),
        cmocka_unit_test(test_no_record),
        cmocka_unit_test(test_pending_asks_everything_at_once),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_allocation_failures),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
