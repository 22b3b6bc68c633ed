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


/* A role name, and what rbac_custom_check_name says (msg NULL: rc only). */
typedef struct {
    const char  *name;
    rbac_rc_t    rc;
    const char  *msg;
} name_case_t;


/*
 * A custom role (name, org, permissions as P() specs) and what
 * rbac_custom_check_perms says with an author (an index into the actors,
 * -1 for none): rc, and msg unless NULL.
 */
typedef struct {
    const char  *name;
    const char  *org;
    const char  *perms[4];
    int          who;
    rbac_rc_t    rc;
    const char  *msg;
} perm_case_t;

#define assert_perms(cases, actors)                                           \
    assert_perms_n(cases, sizeof(cases) / sizeof((cases)[0]), actors)

static void
assert_perms_n(const perm_case_t *c, size_t n, rbac_request_t **actors)
{
    size_t            i, np;
    rbac_rc_t         rc;
    rbac_role_perm_t  p[4];

    for (i = 0; i < n; i++) {
        for (np = 0; np < 4 && c[i].perms[np] != NULL; np++) {
            p[np] = P(c[i].perms[np]);
        }

        rc = check(c[i].name, c[i].org, p, np,
                   c[i].who >= 0 ? actors[c[i].who] : NULL);

        if (c[i].msg == NULL) {
            assert_int_equal(rc, c[i].rc);

        } else {
            assert_refused(rc, c[i].rc, c[i].msg);
        }
    }
}


static void
test_names(void **state)
{
    size_t     i;
    rbac_rc_t  rc;

    static const name_case_t  cases[] = {
        { "team-lead", RBAC_OK, NULL },
        { "a", RBAC_OK, NULL },
        { "ci2-bot-3", RBAC_OK, NULL },
        { "abcdefghijklmnopqrstuvwxyz012345", RBAC_OK, NULL },

        { "", RBAC_EINVAL, "name: must not be empty" },
        { "abcdefghijklmnopqrstuvwxyz0123456", RBAC_EINVAL,
          "name: \"abcdefghijklmnopqrstuvwxyz0123456\" is longer "
          "than 32 characters" },
        { "Team", RBAC_EINVAL,
          "name: \"Team\" must be lower-case letters and digits "
          "with single hyphens inside" },
        { "a--b", RBAC_EINVAL, NULL },
        { "-ab", RBAC_EINVAL, NULL },
        { "ab-", RBAC_EINVAL, NULL },
        { "a_b", RBAC_EINVAL, NULL },
        { "a:b", RBAC_EINVAL, NULL },

        /* built-in, system, retired and placeholder names */
        { "owner", RBAC_ERESERVED,
          "name: \"owner\" is a built-in or reserved role name" },
        { "organization-admin", RBAC_ERESERVED, NULL },
        { "organization-member", RBAC_ERESERVED, NULL },
        { "provisioner-daemon", RBAC_ERESERVED, NULL },
        { "agents-access", RBAC_ERESERVED, NULL },
        { "custom-organization-role", RBAC_ERESERVED, NULL },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rc = rbac_custom_check_name(cat, S(cases[i].name), &err);

        if (cases[i].msg == NULL) {
            assert_int_equal(rc, cases[i].rc);

        } else {
            assert_refused(rc, cases[i].rc, cases[i].msg);
        }
    }
}


static void
test_levels(void **state)
{
    static const perm_case_t  cases[] = {
        { "lead", "orgA", { "org:template:read",
                            "site:deployment_stats:read" }, -1, RBAC_EINVAL,
          "site_permissions[0]: organization roles may hold only "
          "organization and organization member permissions" },
        { "lead", "orgA", { "org:template:read", "user:api_key:read" }, -1,
          RBAC_EINVAL,
          "user_permissions[0]: organization roles may hold only "
          "organization and organization member permissions" },
        { "health", "", { "site:deployment_stats:read",
                          "org:template:read" }, -1, RBAC_EINVAL,
          "organization_permissions[0]: organization permissions "
          "need an organization_id; site roles may hold only site "
          "and user permissions" },
        { "health", "", { "site:deployment_stats:read",
                          "member:workspace:read" }, -1, RBAC_EINVAL, NULL },

        /* the right levels pass */
        { "lead", "orgA", { "org:template:read", "member:workspace:ssh" },
          -1, RBAC_OK, NULL },
        { "health", "", { "site:deployment_stats:read",
                          "user:api_key:read" }, -1, RBAC_OK, NULL },
    };

    assert_perms(cases, NULL);
}


static void
test_negation_and_wildcards(void **state)
{
    static const perm_case_t  cases[] = {
        /* the index counts within the permission's own list */
        { "ban", "orgA", { "org:template:read", "member:workspace:read",
                           "org:group:read", "org:-workspace:create" },
          -1, RBAC_EINVAL,
          "organization_permissions[2]: negation is not allowed in "
          "custom roles" },
        { "r", "orgA", { "org:template:read", "member:workspace:read",
                         "org:group:read", "org:*:read" },
          -1, RBAC_EINVAL,
          "organization_permissions[2]: wildcard resource_type "
          "\"*\" is not allowed in custom roles" },
        { "r", "orgA", { "org:template:read", "member:workspace:read",
                         "org:group:read", "member:workspace:*" },
          -1, RBAC_EINVAL,
          "organization_member_permissions[1]: wildcard action "
          "\"*\" is not allowed in custom roles" },
        { "r", "", { "site:-*:*" }, -1, RBAC_EINVAL,
          "site_permissions[0]: negation is not allowed in custom "
          "roles" },
    };

    assert_perms(cases, NULL);
}


static void
test_declared_pairs(void **state)
{
    static const perm_case_t  cases[] = {
        { "t", "orgA", { "org:template:use", "org:template:ssh" }, -1,
          RBAC_EUNKNOWN,
          "organization_permissions[1]: ssh is not an action of "
          "template" },
        { "t", "", { "site:file:delete" }, -1, RBAC_EUNKNOWN,
          "site_permissions[0]: delete is not an action of file" },
    };

    assert_perms(cases, NULL);
}


enum { ADMIN, ACCESS, OWNER, MEMBER };

static void
test_escalation(void **state)
{
    size_t           i;
    rbac_request_t  *actors[4];

    static const perm_case_t  cases[] = {
        /* org perms: checked in the role's org */
        { "lead", "orgA", { "org:workspace:read", "org:template:update" },
          ADMIN, RBAC_OK, NULL },
        { "lead", "orgB", { "org:workspace:read", "org:template:update" },
          ADMIN, RBAC_EESCALATION,
          "organization_permissions[0]: cannot grant "
          "workspace:read that the author does not hold (no role "
          "or acl grants workspace:read)" },

        /* an org admin cannot hand out ssh into others' workspaces */
        { "lead", "orgA", { "org:workspace:ssh" }, ADMIN, RBAC_EESCALATION,
          "organization_permissions[0]: cannot grant workspace:ssh "
          "that the author does not hold (no role or acl grants "
          "workspace:ssh)" },

        /* member perms: checked on the author's own object in the org */
        { "lead", "orgA", { "member:workspace:ssh" }, ADMIN,
          RBAC_EESCALATION, NULL },
        { "lead", "orgA", { "member:workspace:ssh" }, ACCESS, RBAC_OK, NULL },

        /* site perms: the bare type, so only site grants count */
        { "health", "", { "site:deployment_stats:read" }, OWNER, RBAC_OK,
          NULL },
        { "health", "", { "site:deployment_stats:read" }, ADMIN,
          RBAC_EESCALATION,
          "site_permissions[0]: cannot grant deployment_stats:read "
          "that the author does not hold (no role or acl grants "
          "deployment_stats:read)" },
        { "health", "", { "site:user_secret:read" }, OWNER,
          RBAC_EESCALATION, NULL },

        /* user perms: the author's own org-less object */
        { "mine", "", { "user:user_secret:read" }, MEMBER, RBAC_OK, NULL },
        { "mine", "", { "user:user_secret:read" }, ADMIN, RBAC_EESCALATION,
          NULL },

        /* static rules are reported before escalation, whatever the order */
        { "lead", "orgA", { "org:workspace:ssh", "org:-template:read" },
          ADMIN, RBAC_EINVAL, NULL },
    };

    /* a suspended author grants nothing */
    static const perm_case_t  suspended[] = {
        { "lead", "orgA", { "org:workspace:read" }, ADMIN, RBAC_EESCALATION,
          "organization_permissions[0]: cannot grant "
          "workspace:read that the author does not hold (account "
          "suspended)" },
    };

    actors[ADMIN] = actor("{\"id\":\"a1\",\"orgs\":{\"orgA\":"
                          "[\"organization-admin\"]}}");
    actors[ACCESS] = actor("{\"id\":\"a2\",\"orgs\":{\"orgA\":"
                           "[\"organization-admin\","
                           "\"organization-workspace-access\"]}}");
    actors[OWNER] = actor("{\"id\":\"o1\",\"site_roles\":[\"owner\"]}");
    actors[MEMBER] = actor("{\"id\":\"m1\",\"site_roles\":[\"member\"]}");

    assert_perms(cases, actors);

    actors[ADMIN]->subject.status = RBAC_STATUS_SUSPENDED;
    assert_perms(suspended, actors);

    for (i = 0; i < 4; i++) {
        rbac_request_free(actors[i], &rbac_malloc_allocator);
    }
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
