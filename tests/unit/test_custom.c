/*
 * test_custom.c: custom-role validation (docs/authorization.md §8):
 * each rule refused with its code and a message naming the field, the
 * anti-escalation rule per level, and the parsed-record entry point.
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
#include "rbac_custom.h"
#include "rbac_request.h"
#include "testutil.h"


static rbac_catalog_t  *cat;
static rbac_err_t       err;


static int
setup(void **state)
{
    rbac_err_t  e;

    return rbac_catalog_load((const char *) rbac_builtin_catalog,
                             rbac_builtin_catalog_len, &rbac_malloc_allocator,
                             &cat, &e) == RBAC_OK ? 0 : -1;
}


static int
teardown(void **state)
{
    rbac_catalog_free(cat, &rbac_malloc_allocator);
    return 0;
}


/* "org:workspace:read" / "member:-*:*" style permission. */
static rbac_role_perm_t
P(const char *spec)
{
    int               l;
    char              buf[128], *ty, *ac;
    rbac_role_perm_t  rp;

    static const char  *levels[] = { "site", "user", "org", "member" };

    snprintf(buf, sizeof(buf), "%s", spec);
    memset(&rp, 0, sizeof(rp));

    ty = strchr(buf, ':');
    assert_non_null(ty);
    *ty++ = '\0';
    ac = strchr(ty, ':');
    assert_non_null(ac);
    *ac++ = '\0';

    for (l = 0; l < 4 && strcmp(buf, levels[l]) != 0; l++) {
        /* void */
    }

    assert_true(l < 4);
    rp.level = (uint8_t) l;

    if (*ty == '-') {
        rp.perm.negate = 1;
        ty++;
    }

    if (strcmp(ty, "*") == 0) {
        rp.perm.any_type = 1;
        rp.perm.type = RBAC_T_OTHER;

    } else {
        rp.perm.type = rbac_type_from_name(S(ty));
    }

    if (strcmp(ac, "*") == 0) {
        rp.perm.any_action = 1;
        rp.perm.action = RBAC_A_OTHER;

    } else {
        rp.perm.action = rbac_action_from_name(S(ac));
    }

    return rp;
}


/* An actor from a decision-request subject. */
static rbac_request_t *
actor(const char *subject)
{
    char             json[1024];
    rbac_rc_t        rc;
    rbac_request_t  *req;

    snprintf(json, sizeof(json), "{\"subject\":%s,\"object\":{\"type\":"
             "\"workspace\"},\"action\":\"read\"}", subject);
    rc = rbac_request_parse(json, strlen(json), cat, &rbac_malloc_allocator,
                            &req, &err);
    assert_int_equal(rc, RBAC_OK);

    return req;
}


static rbac_rc_t
check(const char *name, const char *org, const rbac_role_perm_t *perms,
    size_t n, const rbac_request_t *who)
{
    memset(&err, 0, sizeof(err));

    return rbac_custom_check_perms(cat, S(name), S(org), perms, n,
                                   who != NULL ? &who->subject : NULL, &err);
}


#define assert_refused(rc, want, text)                                        \
    do {                                                                      \
        rbac_rc_t  rc_ = (rc);                                                \
        if (rc_ != (want)) {                                                  \
            fprintf(stderr, "got %d: %s\n", rc_, err.msg);                    \
        }                                                                     \
        assert_int_equal(rc_, want);                                          \
        assert_string_equal(err.msg, text);                                   \
    } while (0)


static void
test_names(void **state)
{
    assert_int_equal(rbac_custom_check_name(cat, S("team-lead"), &err),
                     RBAC_OK);
    assert_int_equal(rbac_custom_check_name(cat, S("a"), &err), RBAC_OK);
    assert_int_equal(rbac_custom_check_name(cat, S("ci2-bot-3"), &err),
                     RBAC_OK);
    assert_int_equal(rbac_custom_check_name(cat,
                         S("abcdefghijklmnopqrstuvwxyz012345"), &err),
                     RBAC_OK);

    assert_refused(rbac_custom_check_name(cat, S(""), &err), RBAC_EINVAL,
                   "name: must not be empty");
    assert_refused(rbac_custom_check_name(cat,
                       S("abcdefghijklmnopqrstuvwxyz0123456"), &err),
                   RBAC_EINVAL,
                   "name: \"abcdefghijklmnopqrstuvwxyz0123456\" is longer "
                   "than 32 characters");
    assert_refused(rbac_custom_check_name(cat, S("Team"), &err), RBAC_EINVAL,
                   "name: \"Team\" must be lower-case letters and digits "
                   "with single hyphens inside");
    assert_int_equal(rbac_custom_check_name(cat, S("a--b"), &err),
                     RBAC_EINVAL);
    assert_int_equal(rbac_custom_check_name(cat, S("-ab"), &err),
                     RBAC_EINVAL);
    assert_int_equal(rbac_custom_check_name(cat, S("ab-"), &err),
                     RBAC_EINVAL);
    assert_int_equal(rbac_custom_check_name(cat, S("a_b"), &err),
                     RBAC_EINVAL);
    assert_int_equal(rbac_custom_check_name(cat, S("a:b"), &err),
                     RBAC_EINVAL);

    /* built-in, system, retired and placeholder names */
    assert_refused(rbac_custom_check_name(cat, S("owner"), &err),
                   RBAC_ERESERVED,
                   "name: \"owner\" is a built-in or reserved role name");
    assert_int_equal(rbac_custom_check_name(cat, S("organization-admin"),
                                            &err), RBAC_ERESERVED);
    assert_int_equal(rbac_custom_check_name(cat, S("organization-member"),
                                            &err), RBAC_ERESERVED);
    assert_int_equal(rbac_custom_check_name(cat, S("provisioner-daemon"),
                                            &err), RBAC_ERESERVED);
    assert_int_equal(rbac_custom_check_name(cat, S("agents-access"), &err),
                     RBAC_ERESERVED);
    assert_int_equal(rbac_custom_check_name(cat,
                                            S("custom-organization-role"),
                                            &err), RBAC_ERESERVED);
}


static void
test_levels(void **state)
{
    rbac_role_perm_t  p[2];

    p[0] = P("org:template:read");
    p[1] = P("site:deployment_stats:read");
    assert_refused(check("lead", "orgA", p, 2, NULL), RBAC_EINVAL,
                   "site_permissions[0]: organization roles may hold only "
                   "organization and organization member permissions");

    p[1] = P("user:api_key:read");
    assert_refused(check("lead", "orgA", p, 2, NULL), RBAC_EINVAL,
                   "user_permissions[0]: organization roles may hold only "
                   "organization and organization member permissions");

    p[0] = P("site:deployment_stats:read");
    p[1] = P("org:template:read");
    assert_refused(check("health", "", p, 2, NULL), RBAC_EINVAL,
                   "organization_permissions[0]: organization permissions "
                   "need an organization_id; site roles may hold only site "
                   "and user permissions");

    p[1] = P("member:workspace:read");
    assert_int_equal(check("health", "", p, 2, NULL), RBAC_EINVAL);

    /* the right levels pass */
    p[0] = P("org:template:read");
    p[1] = P("member:workspace:ssh");
    assert_int_equal(check("lead", "orgA", p, 2, NULL), RBAC_OK);
    p[0] = P("site:deployment_stats:read");
    p[1] = P("user:api_key:read");
    assert_int_equal(check("health", "", p, 2, NULL), RBAC_OK);
}


static void
test_negation_and_wildcards(void **state)
{
    rbac_role_perm_t  p[4];

    /* the index counts within the permission's own list */
    p[0] = P("org:template:read");
    p[1] = P("member:workspace:read");
    p[2] = P("org:group:read");
    p[3] = P("org:-workspace:create");
    assert_refused(check("ban", "orgA", p, 4, NULL), RBAC_EINVAL,
                   "organization_permissions[2]: negation is not allowed in "
                   "custom roles");

    p[3] = P("org:*:read");
    assert_refused(check("r", "orgA", p, 4, NULL), RBAC_EINVAL,
                   "organization_permissions[2]: wildcard resource_type "
                   "\"*\" is not allowed in custom roles");

    p[3] = P("member:workspace:*");
    assert_refused(check("r", "orgA", p, 4, NULL), RBAC_EINVAL,
                   "organization_member_permissions[1]: wildcard action "
                   "\"*\" is not allowed in custom roles");

    p[0] = P("site:-*:*");
    assert_refused(check("r", "", p, 1, NULL), RBAC_EINVAL,
                   "site_permissions[0]: negation is not allowed in custom "
                   "roles");
}


static void
test_declared_pairs(void **state)
{
    rbac_role_perm_t  p[2];

    p[0] = P("org:template:use");
    p[1] = P("org:template:ssh");
    assert_refused(check("t", "orgA", p, 2, NULL), RBAC_EUNKNOWN,
                   "organization_permissions[1]: ssh is not an action of "
                   "template");

    p[0] = P("site:file:delete");
    assert_refused(check("t", "", p, 1, NULL), RBAC_EUNKNOWN,
                   "site_permissions[0]: delete is not an action of file");
}


static void
test_escalation(void **state)
{
    rbac_request_t    *admin, *access, *owner, *member;
    rbac_role_perm_t   p[3];

    admin = actor("{\"id\":\"a1\",\"orgs\":{\"orgA\":"
                  "[\"organization-admin\"]}}");
    access = actor("{\"id\":\"a2\",\"orgs\":{\"orgA\":"
                   "[\"organization-admin\","
                   "\"organization-workspace-access\"]}}");
    owner = actor("{\"id\":\"o1\",\"site_roles\":[\"owner\"]}");
    member = actor("{\"id\":\"m1\",\"site_roles\":[\"member\"]}");

    /* org perms: checked in the role's org */
    p[0] = P("org:workspace:read");
    p[1] = P("org:template:update");
    assert_int_equal(check("lead", "orgA", p, 2, admin), RBAC_OK);
    assert_refused(check("lead", "orgB", p, 2, admin), RBAC_EESCALATION,
                   "organization_permissions[0]: cannot grant "
                   "workspace:read that the author does not hold (no role "
                   "or acl grants workspace:read)");

    /* an org admin cannot hand out ssh into others' workspaces */
    p[0] = P("org:workspace:ssh");
    assert_refused(check("lead", "orgA", p, 1, admin), RBAC_EESCALATION,
                   "organization_permissions[0]: cannot grant workspace:ssh "
                   "that the author does not hold (no role or acl grants "
                   "workspace:ssh)");

    /* member perms: checked on the author's own object in the org */
    p[0] = P("member:workspace:ssh");
    assert_int_equal(check("lead", "orgA", p, 1, admin), RBAC_EESCALATION);
    assert_int_equal(check("lead", "orgA", p, 1, access), RBAC_OK);

    /* site perms: the bare type, so only site grants count */
    p[0] = P("site:deployment_stats:read");
    assert_int_equal(check("health", "", p, 1, owner), RBAC_OK);
    assert_refused(check("health", "", p, 1, admin), RBAC_EESCALATION,
                   "site_permissions[0]: cannot grant deployment_stats:read "
                   "that the author does not hold (no role or acl grants "
                   "deployment_stats:read)");
    p[0] = P("site:user_secret:read");
    assert_int_equal(check("health", "", p, 1, owner), RBAC_EESCALATION);

    /* user perms: the author's own org-less object */
    p[0] = P("user:user_secret:read");
    assert_int_equal(check("mine", "", p, 1, member), RBAC_OK);
    assert_int_equal(check("mine", "", p, 1, admin), RBAC_EESCALATION);

    /* static rules are reported before escalation, whatever the order */
    p[0] = P("org:workspace:ssh");
    p[1] = P("org:-template:read");
    assert_int_equal(check("lead", "orgA", p, 2, admin), RBAC_EINVAL);

    /* a suspended author grants nothing */
    p[0] = P("org:workspace:read");
    admin->subject.status = RBAC_STATUS_SUSPENDED;
    assert_refused(check("lead", "orgA", p, 1, admin), RBAC_EESCALATION,
                   "organization_permissions[0]: cannot grant "
                   "workspace:read that the author does not hold (account "
                   "suspended)");

    rbac_request_free(admin, &rbac_malloc_allocator);
    rbac_request_free(access, &rbac_malloc_allocator);
    rbac_request_free(owner, &rbac_malloc_allocator);
    rbac_request_free(member, &rbac_malloc_allocator);
}


static void
test_record(void **state)
{
    void             *rec;
    rbac_rc_t         rc;
    rbac_request_t   *admin;
    const char       *json;

    admin = actor("{\"id\":\"a1\",\"orgs\":{\"orgA\":"
                  "[\"organization-admin\"]}}");

    json = "{\"name\":\"team-lead\",\"organization_id\":\"orgA\","
           "\"display_name\":\"Team Lead\",\"organization_permissions\":"
           "[{\"resource_type\":\"workspace\",\"action\":\"read\"},"
           "{\"resource_type\":\"template\",\"action\":\"update\"}],"
           "\"organization_member_permissions\":[]}";
    rc = rbac_record_parse(RBAC_REC_ROLE, json, strlen(json),
                           &rbac_malloc_allocator, &rec, &err);
    assert_int_equal(rc, RBAC_OK);
    assert_int_equal(rbac_custom_check(rec, cat, &admin->subject, &err),
                     RBAC_OK);
    free(rec);

    json = "{\"name\":\"team-lead\",\"organization_id\":\"orgA\","
           "\"organization_permissions\":"
           "[{\"resource_type\":\"workspace\",\"action\":\"read\"},"
           "{\"resource_type\":\"workspace\",\"action\":\"create\","
           "\"negate\":true}]}";
    rc = rbac_record_parse(RBAC_REC_ROLE, json, strlen(json),
                           &rbac_malloc_allocator, &rec, &err);
    assert_int_equal(rc, RBAC_OK);
    assert_refused(rbac_custom_check(rec, cat, &admin->subject, &err),
                   RBAC_EINVAL,
                   "organization_permissions[1]: negation is not allowed in "
                   "custom roles");
    free(rec);

    json = "{\"name\":\"health-check\",\"organization_id\":\"\","
           "\"site_permissions\":"
           "[{\"resource_type\":\"deployment_stats\",\"action\":\"read\"}]}";
    rc = rbac_record_parse(RBAC_REC_SITEROLE, json, strlen(json),
                           &rbac_malloc_allocator, &rec, &err);
    assert_int_equal(rc, RBAC_OK);
    assert_int_equal(rbac_custom_check(rec, cat, NULL, &err), RBAC_OK);
    assert_refused(rbac_custom_check(rec, cat, &admin->subject, &err),
                   RBAC_EESCALATION,
                   "site_permissions[0]: cannot grant deployment_stats:read "
                   "that the author does not hold (no role or acl grants "
                   "deployment_stats:read)");
    free(rec);

    rbac_request_free(admin, &rbac_malloc_allocator);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_negation_and_wildcards),
        cmocka_unit_test(test_declared_pairs),
        cmocka_unit_test(test_escalation),
        cmocka_unit_test(test_record),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
