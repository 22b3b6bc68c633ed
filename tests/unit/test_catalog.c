/*
 * test_catalog.c: the role catalog: the embedded catalog against Coder's roles
 * at 007f4fc (docs/authorization.md §5 and §9), the catalog format's
 * conditions and errors, scope expansion, and allocation failures.
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


/* ---- helpers ---- */



static rbac_catalog_t *
builtin(void)
{
    rbac_rc_t        rc;
    rbac_err_t       err;
    rbac_catalog_t  *cat;

    memset(&err, 0, sizeof(err));
    rc = rbac_catalog_load((const char *) rbac_builtin_catalog,
                           rbac_builtin_catalog_len, &rbac_malloc_allocator,
                           &cat, &err);
    if (rc != RBAC_OK) {
        fprintf(stderr, "builtin catalog: %s\n", err.msg);
    }

    assert_int_equal(rc, RBAC_OK);
    assert_non_null(cat);

    return cat;
}


static const rbac_role_t *
role(const rbac_catalog_t *cat, const char *name, unsigned opts,
    rbac_share_t share)
{
    const rbac_role_t  *r;

    r = rbac_catalog_role(cat, S(name), opts, share);
    if (r == NULL) {
        fprintf(stderr, "no role %s\n", name);
    }

    assert_non_null(r);

    return r;
}


/* The vote of a role's level on "type:action" given by name. */
static int
vote(const rbac_role_t *r, rbac_level_t l, const char *type,
    const char *action)
{
    rbac_type_t    t;
    rbac_action_t  a;

    t = rbac_type_from_name(S(type));
    a = rbac_action_from_name(S(action));

    return rbac_permset_vote(&r->lvl[l], t, a);
}


/* The vote a role's level is expected to give on "type:action". */
typedef struct {
    rbac_level_t   level;
    const char    *type;
    const char    *action;
    int            vote;
} vote_case_t;

#define assert_votes(r, cases)                                                \
    assert_votes_n(r, cases, sizeof(cases) / sizeof((cases)[0]))

static void
assert_votes_n(const rbac_role_t *r, const vote_case_t *c, size_t n)
{
    int     got;
    size_t  i;

    for (i = 0; i < n; i++) {
        got = vote(r, c[i].level, c[i].type, c[i].action);
        if (got != c[i].vote) {
            fprintf(stderr, "%s: level %d %s:%s votes %d, not %d\n", r->name,
                    (int) c[i].level, c[i].type, c[i].action, got, c[i].vote);
        }

        assert_int_equal(got, c[i].vote);
    }
}


static int
level_empty(const rbac_permset_t *ps)
{
    int  t;

    for (t = 0; t < RBAC_NTYPES; t++) {
        if (ps->pos[t] != 0 || ps->neg[t] != 0) {
            return 0;
        }
    }

    return 1;
}


/* Loads `json`, expects rc, and (if msg) the exact message. */
static void
load_fails(const char *json, rbac_rc_t rc, const char *msg)
{
    rbac_rc_t        got;
    rbac_err_t       err;
    rbac_catalog_t  *cat;

    memset(&err, 0, sizeof(err));
    cat = (rbac_catalog_t *) &err;      /* must be reset to NULL */

    got = rbac_catalog_load(json, strlen(json), &rbac_malloc_allocator, &cat,
                            &err);
    if (got != rc || (msg != NULL && strcmp(err.msg, msg) != 0)) {
        fprintf(stderr, "catalog %s\n  got rc %d \"%s\"\n  want rc %d \"%s\"\n",
                json, got, err.msg, rc, msg ? msg : "");
    }

    assert_int_equal(got, rc);
    assert_null(cat);
    assert_int_equal(err.rc, rc);

    if (msg != NULL) {
        assert_string_equal(err.msg, msg);
    }
}


static rbac_catalog_t *
load_ok(const char *json)
{
    rbac_rc_t        rc;
    rbac_err_t       err;
    rbac_catalog_t  *cat;

    memset(&err, 0, sizeof(err));
    rc = rbac_catalog_load(json, strlen(json), &rbac_malloc_allocator, &cat,
                           &err);
    if (rc != RBAC_OK) {
        fprintf(stderr, "catalog %s: %s\n", json, err.msg);
    }

    assert_int_equal(rc, RBAC_OK);

    return cat;
}


/* ---- the embedded catalog: names ---- */

static const char  *site_roles[] = {
    "owner", "member", "auditor", "template-admin", "user-admin"
};

static const char  *org_roles[] = {
    "organization-admin", "organization-auditor", "organization-user-admin",
    "organization-template-admin", "organization-workspace-creation-ban",
    "organization-workspace-access", "organization-member",
    "organization-service-account", "provisioner-daemon"
};


static void
test_builtin_names(void **state)
{
    size_t           i;
    unsigned         o;
    int              s;
    rbac_catalog_t  *cat;

    cat = builtin();

    for (i = 0; i < sizeof(site_roles) / sizeof(site_roles[0]); i++) {
        for (o = 0; o <= RBAC_OPT_ALL; o++) {
            for (s = 0; s < RBAC_NSHARE; s++) {
                const rbac_role_t *r = role(cat, site_roles[i], o,
                                            (rbac_share_t) s);
                assert_string_equal(r->name, site_roles[i]);
                assert_int_equal(r->kind, RBAC_ROLE_SITE);
                assert_int_equal(r->builtin, 1);
                assert_true(level_empty(&r->lvl[RBAC_LVL_ORG]));
                assert_true(level_empty(&r->lvl[RBAC_LVL_MEMBER]));
            }
        }

        assert_true(rbac_catalog_reserved(cat, S(site_roles[i])));
    }

    for (i = 0; i < sizeof(org_roles) / sizeof(org_roles[0]); i++) {
        for (o = 0; o <= RBAC_OPT_ALL; o++) {
            for (s = 0; s < RBAC_NSHARE; s++) {
                const rbac_role_t *r = role(cat, org_roles[i], o,
                                            (rbac_share_t) s);
                assert_string_equal(r->name, org_roles[i]);
                assert_int_equal(r->kind, RBAC_ROLE_ORG);
            }
        }

        assert_true(rbac_catalog_reserved(cat, S(org_roles[i])));
    }

    assert_string_equal(role(cat, "owner", 0, 0)->display_name, "Owner");
    assert_string_equal(role(cat, "organization-admin", 0, 0)->display_name,
                        "Organization Admin");

    /* Reserved names that expand to nothing. */
    assert_true(rbac_catalog_reserved(cat, S("agents-access")));
    assert_true(rbac_catalog_reserved(cat, S("custom-site-role")));
    assert_true(rbac_catalog_reserved(cat, S("custom-organization-role")));
    assert_null(rbac_catalog_role(cat, S("agents-access"), 0, 0));
    assert_null(rbac_catalog_role(cat, S("custom-site-role"), 0, 0));

    /* Unknown names, prefixes, case. */
    assert_false(rbac_catalog_reserved(cat, S("admin")));
    assert_false(rbac_catalog_reserved(cat, S("Owner")));
    assert_false(rbac_catalog_reserved(cat, S("owne")));
    assert_false(rbac_catalog_reserved(cat, S("")));
    assert_null(rbac_catalog_role(cat, S("owners"), 0, 0));
    assert_null(rbac_catalog_role(cat, S("task"), 0, 0));

    /* Lengths count, not NUL bytes. */
    {
        rbac_str_t  n = { "ownerX", 5 };
        assert_string_equal(rbac_catalog_role(cat, n, 0, 0)->name, "owner");
    }

    /* A sharing mode outside the enum resolves nothing. */
    assert_null(rbac_catalog_role(cat, S("owner"), 0, (rbac_share_t) 3));

    /* System roles. */
    assert_true(rbac_catalog_system(cat, S("organization-member")));
    assert_true(rbac_catalog_system(cat, S("organization-service-account")));
    assert_true(rbac_catalog_system(cat, S("provisioner-daemon")));
    assert_false(rbac_catalog_system(cat, S("organization-admin")));
    assert_false(rbac_catalog_system(cat, S("owner")));
    assert_false(rbac_catalog_system(cat, S("agents-access")));

    rbac_catalog_free(cat, &rbac_malloc_allocator);
}


/* ---- the embedded catalog: docs/authorization.md §5, role by role ---- */

static const vote_case_t  owner_votes[] = {
    { RBAC_LVL_SITE, "organization", "create", 1 },
    { RBAC_LVL_SITE, "user", "delete", 1 },
    { RBAC_LVL_SITE, "chat", "share", 1 },
    /* Excluded types. */
    { RBAC_LVL_SITE, "user_secret", "read", 0 },
    { RBAC_LVL_SITE, "usage_event", "read", 0 },
    { RBAC_LVL_SITE, "boundary_usage", "read", 0 },
    { RBAC_LVL_SITE, "ai_seat", "read", 0 },
    /* Specific lists. */
    { RBAC_LVL_SITE, "workspace", "ssh", 1 },
    { RBAC_LVL_SITE, "workspace", "application_connect", 1 },
    { RBAC_LVL_SITE, "workspace", "share", 1 },
    { RBAC_LVL_SITE, "workspace", "delete", 1 },
    { RBAC_LVL_SITE, "workspace", "use", 0 },
    { RBAC_LVL_SITE, "workspace_dormant", "read", 1 },
    { RBAC_LVL_SITE, "workspace_dormant", "stop", 1 },
    { RBAC_LVL_SITE, "workspace_dormant", "update_agent", 1 },
    { RBAC_LVL_SITE, "workspace_dormant", "ssh", 0 },
    { RBAC_LVL_SITE, "workspace_dormant", "start", 0 },
    { RBAC_LVL_SITE, "workspace_dormant", "share", 0 },
    { RBAC_LVL_SITE, "workspace_dormant", "application_connect", 0 },
    { RBAC_LVL_SITE, "user_skill", "read", 1 },
    { RBAC_LVL_SITE, "user_skill", "delete", 1 },
    { RBAC_LVL_SITE, "user_skill", "create", 0 },
    { RBAC_LVL_SITE, "user_skill", "update", 0 },
    { RBAC_LVL_SITE, "ai_gateway_key", "create", 1 },
    { RBAC_LVL_SITE, "ai_gateway_key", "update", 0 },
    { RBAC_LVL_SITE, "prebuilt_workspace", "update", 1 },
    { RBAC_LVL_SITE, "boundary_log", "read", 1 },
    { RBAC_LVL_SITE, "boundary_log", "create", 0 },
    { RBAC_LVL_SITE, "boundary_log", "delete", 0 },
};


static const vote_case_t  owner_noexec_votes[] = {
    { RBAC_LVL_SITE, "workspace", "ssh", 0 },
    { RBAC_LVL_SITE, "workspace", "application_connect", 0 },
    { RBAC_LVL_SITE, "workspace", "start", 1 },
};


static void
test_owner(void **state)
{
    int                 t;
    rbac_catalog_t     *cat;
    const rbac_role_t  *r, *noexec;

    cat = builtin();
    r = role(cat, "owner", 0, RBAC_SHARE_EVERYONE);
    noexec = role(cat, "owner", RBAC_OPT_NO_OWNER_WORKSPACE_EXEC,
                  RBAC_SHARE_EVERYONE);

    assert_true(level_empty(&r->lvl[RBAC_LVL_USER]));

    /* Per-type "*": undeclared actions too, but no "*" resource. */
    assert_int_equal(vote(r, RBAC_LVL_SITE, "template", "ssh"), 1);
    assert_int_equal(rbac_permset_vote(&r->lvl[RBAC_LVL_SITE],
                                       RBAC_T_TEMPLATE, RBAC_A_OTHER), 1);
    assert_int_equal(rbac_permset_vote(&r->lvl[RBAC_LVL_SITE],
                                       RBAC_T_OTHER, RBAC_A_READ), 0);
    assert_votes(r, owner_votes);
    assert_votes(noexec, owner_noexec_votes);

    /* No negation anywhere in owner; the other options change nothing. */
    for (t = 0; t < RBAC_NTYPES; t++) {
        assert_int_equal(r->lvl[RBAC_LVL_SITE].neg[t], 0);
    }

    assert_memory_equal(r->lvl, role(cat, "owner", RBAC_OPT_NO_CHAT_SHARING
                                     | RBAC_OPT_NO_WORKSPACE_SHARING, 2)->lvl,
                        sizeof(r->lvl));
    assert_memory_equal(noexec->lvl, role(cat, "owner", RBAC_OPT_ALL, 0)->lvl,
                        sizeof(r->lvl));

    rbac_catalog_free(cat, &rbac_malloc_allocator);
}


static const vote_case_t  member_votes[] = {
    { RBAC_LVL_SITE, "assign_role", "read", 1 },
    { RBAC_LVL_SITE, "oauth2_app", "read", 1 },
    { RBAC_LVL_SITE, "workspace_proxy", "read", 1 },
    { RBAC_LVL_SITE, "oauth2_app", "update", 0 },
    { RBAC_LVL_SITE, "workspace", "share", 0 },
    /* User level: ALL - {...} with "*", and the specific lists. */
    { RBAC_LVL_USER, "user_secret", "create", 1 },
    { RBAC_LVL_USER, "api_key", "delete", 1 },
    { RBAC_LVL_USER, "chat_project", "share", 1 },
    { RBAC_LVL_USER, "file", "create", 1 },
    { RBAC_LVL_USER, "user", "read", 1 },
    { RBAC_LVL_USER, "user", "read_personal", 1 },
    { RBAC_LVL_USER, "user", "update_personal", 1 },
    { RBAC_LVL_USER, "user", "update", 0 },
    { RBAC_LVL_USER, "user", "delete", 0 },
    { RBAC_LVL_USER, "organization_member", "read", 0 },
    { RBAC_LVL_USER, "chat", "read", 0 },
    { RBAC_LVL_USER, "ai_seat", "read", 0 },
    { RBAC_LVL_USER, "boundary_usage", "read", 0 },
    { RBAC_LVL_USER, "boundary_log", "create", 1 },
    { RBAC_LVL_USER, "boundary_log", "read", 0 },
    { RBAC_LVL_USER, "aibridge_interception", "create", 1 },
    { RBAC_LVL_USER, "aibridge_interception", "update", 1 },
    { RBAC_LVL_USER, "aibridge_interception", "read", 0 },
    { RBAC_LVL_USER, "provisioner_daemon", "create", 1 },
};


static const vote_case_t  member_nochat_votes[] = {
    { RBAC_LVL_SITE, "chat", "share", -1 },
    { RBAC_LVL_SITE, "chat_project", "share", -1 },
    { RBAC_LVL_SITE, "workspace", "share", 0 },
    { RBAC_LVL_SITE, "chat_model_config", "share", 0 },
};


static void
test_member(void **state)
{
    int                 l;
    rbac_catalog_t     *cat;
    const rbac_role_t  *r, *nows, *nochat;

    cat = builtin();
    r = role(cat, "member", 0, RBAC_SHARE_EVERYONE);
    nows = role(cat, "member", RBAC_OPT_NO_WORKSPACE_SHARING, 0);
    nochat = role(cat, "member", RBAC_OPT_NO_CHAT_SHARING, 0);

    assert_votes(r, member_votes);

    /* No workspace rights at all. */
    for (l = 0; l < RBAC_NLEVELS; l++) {
        assert_int_equal(r->lvl[l].pos[RBAC_T_WORKSPACE], 0);
        assert_int_equal(r->lvl[l].pos[RBAC_T_WORKSPACE_DORMANT], 0);
        assert_int_equal(r->lvl[l].pos[RBAC_T_PREBUILT_WORKSPACE], 0);
    }

    assert_int_equal(rbac_permset_vote(&r->lvl[RBAC_LVL_USER], RBAC_T_OTHER,
                                       RBAC_A_READ), 0);

    /* Conditional site negations. */
    assert_int_equal(vote(nows, RBAC_LVL_SITE, "workspace", "share"), -1);
    assert_int_equal(vote(nows, RBAC_LVL_SITE, "chat", "share"), 0);
    assert_votes(nochat, member_nochat_votes);
    r = role(cat, "member", RBAC_OPT_ALL, RBAC_SHARE_NONE);
    assert_int_equal(vote(r, RBAC_LVL_SITE, "workspace", "share"), -1);
    assert_int_equal(vote(r, RBAC_LVL_SITE, "chat", "share"), -1);
    r = role(cat, "member", RBAC_OPT_NO_OWNER_WORKSPACE_EXEC, 0);
    assert_int_equal(vote(r, RBAC_LVL_SITE, "workspace", "share"), 0);

    rbac_catalog_free(cat, &rbac_malloc_allocator);
}


static const vote_case_t  auditor_votes[] = {
    { RBAC_LVL_SITE, "audit_log", "read", 1 },
    { RBAC_LVL_SITE, "connection_log", "read", 1 },
    { RBAC_LVL_SITE, "template", "view_insights", 1 },
    { RBAC_LVL_SITE, "template", "use", 0 },
    { RBAC_LVL_SITE, "boundary_log", "read", 1 },
    { RBAC_LVL_SITE, "aibridge_interception", "read", 1 },
    { RBAC_LVL_SITE, "chat_model_config", "read", 1 },
    { RBAC_LVL_SITE, "workspace", "read", 0 },
    { RBAC_LVL_SITE, "audit_log", "create", 0 },
};


static const vote_case_t  template_admin_votes[] = {
    { RBAC_LVL_SITE, "file", "create", 1 },
    { RBAC_LVL_SITE, "workspace", "read", 1 },
    { RBAC_LVL_SITE, "workspace", "update", 0 },
    { RBAC_LVL_SITE, "workspace_dormant", "read", 1 },
    { RBAC_LVL_SITE, "prebuilt_workspace", "delete", 1 },
    { RBAC_LVL_SITE, "provisioner_daemon", "delete", 1 },
    { RBAC_LVL_SITE, "provisioner_jobs", "read", 0 },
    { RBAC_LVL_SITE, "assign_org_role", "read", 1 },
    { RBAC_LVL_SITE, "organization_member", "read", 1 },
    { RBAC_LVL_SITE, "user", "update", 0 },
};


static const vote_case_t  user_admin_votes[] = {
    { RBAC_LVL_SITE, "user", "delete", 1 },
    { RBAC_LVL_SITE, "user", "read_personal", 1 },
    { RBAC_LVL_SITE, "assign_role", "assign", 1 },
    { RBAC_LVL_SITE, "assign_org_role", "unassign", 1 },
    { RBAC_LVL_SITE, "assign_org_role", "create", 0 },
    { RBAC_LVL_SITE, "group", "delete", 1 },
    { RBAC_LVL_SITE, "organization_member", "create", 1 },
    { RBAC_LVL_SITE, "organization", "update", 0 },
    { RBAC_LVL_SITE, "idpsync_settings", "update", 1 },
    { RBAC_LVL_SITE, "template", "read", 0 },
};


static void
test_site_admins(void **state)
{
    rbac_catalog_t     *cat;
    const rbac_role_t  *r;

    cat = builtin();

    r = role(cat, "auditor", 0, 0);
    assert_votes(r, auditor_votes);

    r = role(cat, "template-admin", 0, 0);
    assert_int_equal(vote(r, RBAC_LVL_SITE, "template", "view_insights"), 1);
    assert_int_equal(vote(r, RBAC_LVL_SITE, "template", "delete"), 1);
    /* All six declared actions, not "*". */
    assert_int_equal(rbac_permset_vote(&r->lvl[RBAC_LVL_SITE],
                                       RBAC_T_TEMPLATE, RBAC_A_OTHER), 0);
    assert_votes(r, template_admin_votes);

    r = role(cat, "user-admin", 0, 0);
    assert_votes(r, user_admin_votes);

    rbac_catalog_free(cat, &rbac_malloc_allocator);
}


static const vote_case_t  organization_admin_votes[] = {
    { RBAC_LVL_SITE, "user", "read", 1 },
    { RBAC_LVL_SITE, "user", "update", 0 },
    { RBAC_LVL_ORG, "workspace", "create", 1 },
    { RBAC_LVL_ORG, "workspace", "share", 1 },
    { RBAC_LVL_ORG, "workspace", "ssh", 0 },
    { RBAC_LVL_ORG, "workspace", "application_connect", 0 },
    { RBAC_LVL_ORG, "workspace_dormant", "start", 0 },
    { RBAC_LVL_ORG, "workspace_dormant", "delete", 1 },
    { RBAC_LVL_ORG, "prebuilt_workspace", "update", 1 },
    { RBAC_LVL_ORG, "assign_role", "assign", 0 },
    { RBAC_LVL_ORG, "user_secret", "read", 0 },
    { RBAC_LVL_ORG, "boundary_log", "read", 0 },
    { RBAC_LVL_ORG, "workspace_build_orchestration", "read", 0 },
    { RBAC_LVL_ORG, "assign_org_role", "create", 1 },
    { RBAC_LVL_ORG, "organization_member", "delete", 1 },
    { RBAC_LVL_ORG, "user_skill", "create", 1 },
    { RBAC_LVL_ORG, "template", "use", 1 },
};


static const vote_case_t  organization_auditor_votes[] = {
    { RBAC_LVL_ORG, "audit_log", "read", 1 },
    { RBAC_LVL_ORG, "template", "view_insights", 1 },
    { RBAC_LVL_ORG, "chat_model_config", "read", 1 },
    { RBAC_LVL_ORG, "boundary_log", "read", 0 },
    { RBAC_LVL_ORG, "workspace", "read", 0 },
};


static const vote_case_t  organization_user_admin_votes[] = {
    { RBAC_LVL_SITE, "user", "read", 1 },
    { RBAC_LVL_ORG, "assign_org_role", "assign", 1 },
    { RBAC_LVL_ORG, "assign_org_role", "create", 0 },
    { RBAC_LVL_ORG, "group", "delete", 1 },
    { RBAC_LVL_ORG, "group_member", "read", 1 },
    { RBAC_LVL_ORG, "organization_member", "create", 1 },
    { RBAC_LVL_ORG, "idpsync_settings", "update", 1 },
    { RBAC_LVL_ORG, "organization", "update", 0 },
};


static const vote_case_t  organization_template_admin_votes[] = {
    { RBAC_LVL_ORG, "template", "use", 1 },
    { RBAC_LVL_ORG, "file", "create", 1 },
    { RBAC_LVL_ORG, "workspace", "read", 1 },
    { RBAC_LVL_ORG, "workspace", "update", 0 },
    { RBAC_LVL_ORG, "provisioner_jobs", "create", 1 },
    { RBAC_LVL_ORG, "provisioner_daemon", "delete", 1 },
    { RBAC_LVL_ORG, "group", "update", 0 },
};


static const vote_case_t  organization_workspace_creation_ban_votes[] = {
    { RBAC_LVL_ORG, "workspace", "create", -1 },
    { RBAC_LVL_ORG, "workspace", "delete", -1 },
    { RBAC_LVL_ORG, "workspace", "create_agent", -1 },
    { RBAC_LVL_ORG, "workspace", "delete_agent", -1 },
    { RBAC_LVL_ORG, "workspace", "update", 0 },
    { RBAC_LVL_ORG, "workspace", "read", 0 },
};


static const vote_case_t  organization_workspace_access_votes[] = {
    { RBAC_LVL_MEMBER, "workspace", "ssh", 1 },
    { RBAC_LVL_MEMBER, "workspace", "share", 1 },
    { RBAC_LVL_MEMBER, "workspace", "delete", 1 },
    { RBAC_LVL_MEMBER, "workspace_dormant", "stop", 1 },
    { RBAC_LVL_MEMBER, "workspace_dormant", "start", 0 },
    { RBAC_LVL_MEMBER, "workspace_dormant", "share", 0 },
    { RBAC_LVL_MEMBER, "file", "read", 1 },
    { RBAC_LVL_MEMBER, "provisioner_daemon", "read", 1 },
    { RBAC_LVL_MEMBER, "provisioner_daemon", "delete", 0 },
    { RBAC_LVL_MEMBER, "template", "read", 0 },
};


static const vote_case_t  provisioner_daemon_votes[] = {
    { RBAC_LVL_ORG, "provisioner_daemon", "read", 1 },
    { RBAC_LVL_ORG, "provisioner_daemon", "update", 1 },
    { RBAC_LVL_ORG, "provisioner_daemon", "create", 0 },
    { RBAC_LVL_ORG, "provisioner_daemon", "delete", 0 },
    { RBAC_LVL_ORG, "provisioner_jobs", "create", 1 },
    { RBAC_LVL_ORG, "provisioner_jobs", "update", 1 },
    { RBAC_LVL_ORG, "template", "read", 0 },
};


static void
test_org_roles(void **state)
{
    rbac_catalog_t     *cat;
    const rbac_role_t  *r;

    cat = builtin();

    r = role(cat, "organization-admin", 0, 0);
    assert_true(level_empty(&r->lvl[RBAC_LVL_MEMBER]));
    assert_true(level_empty(&r->lvl[RBAC_LVL_USER]));
    assert_votes(r, organization_admin_votes);

    r = role(cat, "organization-auditor", 0, 0);
    assert_true(level_empty(&r->lvl[RBAC_LVL_SITE]));
    assert_votes(r, organization_auditor_votes);

    r = role(cat, "organization-user-admin", 0, 0);
    assert_votes(r, organization_user_admin_votes);

    r = role(cat, "organization-template-admin", 0, 0);
    assert_true(level_empty(&r->lvl[RBAC_LVL_SITE]));
    assert_votes(r, organization_template_admin_votes);

    r = role(cat, "organization-workspace-creation-ban", 0, 0);
    assert_votes(r, organization_workspace_creation_ban_votes);
    assert_true(level_empty(&r->lvl[RBAC_LVL_MEMBER]));

    r = role(cat, "organization-workspace-access", 0, 0);
    assert_true(level_empty(&r->lvl[RBAC_LVL_ORG]));
    assert_votes(r, organization_workspace_access_votes);

    r = role(cat, "provisioner-daemon", 0, 0);
    assert_true(level_empty(&r->lvl[RBAC_LVL_SITE]));
    assert_true(level_empty(&r->lvl[RBAC_LVL_MEMBER]));
    assert_votes(r, provisioner_daemon_votes);

    rbac_catalog_free(cat, &rbac_malloc_allocator);
}


static const vote_case_t  organization_member_votes[] = {
    { RBAC_LVL_ORG, "provisioner_daemon", "read", 1 },
    { RBAC_LVL_ORG, "organization", "read", 1 },
    { RBAC_LVL_ORG, "assign_org_role", "read", 1 },
    { RBAC_LVL_ORG, "chat_project", "create", 1 },
    { RBAC_LVL_ORG, "chat_project", "read", 0 },
    { RBAC_LVL_MEMBER, "api_key", "delete", 1 },
    { RBAC_LVL_MEMBER, "chat", "share", 1 },
    { RBAC_LVL_MEMBER, "chat", "delete", 0 },
    { RBAC_LVL_MEMBER, "chat_project", "delete", 1 },
    { RBAC_LVL_MEMBER, "chat_project", "create", 0 },
    { RBAC_LVL_MEMBER, "notification_message", "delete", 0 },
    { RBAC_LVL_MEMBER, "inbox_notification", "create", 1 },
    { RBAC_LVL_MEMBER, "group_member", "read", 1 },
    { RBAC_LVL_MEMBER, "aibridge_interception", "read", 0 },
};


static const vote_case_t  organization_member_ev_votes[] = {
    { RBAC_LVL_ORG, "organization_member", "read", 1 },
    { RBAC_LVL_ORG, "group", "read", 1 },
    { RBAC_LVL_ORG, "workspace", "share", 0 },
    { RBAC_LVL_MEMBER, "workspace", "share", 0 },
};


static const vote_case_t  organization_member_sa_votes[] = {
    { RBAC_LVL_ORG, "organization_member", "read", 1 },
    { RBAC_LVL_ORG, "group", "read", 0 },
    { RBAC_LVL_ORG, "workspace", "share", 0 },
    { RBAC_LVL_MEMBER, "workspace", "share", -1 },
};


static const vote_case_t  organization_member_no_votes[] = {
    { RBAC_LVL_ORG, "organization_member", "read", 0 },
    { RBAC_LVL_ORG, "group", "read", 0 },
    { RBAC_LVL_ORG, "workspace", "share", -1 },
    { RBAC_LVL_MEMBER, "workspace", "share", -1 },
    { RBAC_LVL_MEMBER, "organization_member", "read", 1 },
};


static void
test_org_member_variants(void **state)
{
    int                 l, s;
    rbac_catalog_t     *cat;
    const rbac_role_t  *ev, *sa, *no, *r;

    cat = builtin();
    ev = role(cat, "organization-member", 0, RBAC_SHARE_EVERYONE);
    sa = role(cat, "organization-member", 0, RBAC_SHARE_SERVICE_ACCOUNTS);
    no = role(cat, "organization-member", 0, RBAC_SHARE_NONE);

    /* Floor, in every mode. */
    for (s = 0; s < RBAC_NSHARE; s++) {
        r = role(cat, "organization-member", 0, (rbac_share_t) s);
        assert_votes(r, organization_member_votes);

        /* No workspace grants. */
        for (l = 0; l < RBAC_NLEVELS; l++) {
            assert_int_equal(r->lvl[l].pos[RBAC_T_WORKSPACE], 0);
            assert_int_equal(r->lvl[l].pos[RBAC_T_WORKSPACE_DORMANT], 0);
        }

        /* Options change nothing. */
        assert_ptr_equal(r, role(cat, "organization-member", RBAC_OPT_ALL,
                                 (rbac_share_t) s));
    }

    assert_votes(ev, organization_member_ev_votes);

    assert_votes(sa, organization_member_sa_votes);

    assert_votes(no, organization_member_no_votes);

    rbac_catalog_free(cat, &rbac_malloc_allocator);
}


static const vote_case_t  organization_service_account_votes[] = {
    { RBAC_LVL_ORG, "organization", "read", 1 },
    { RBAC_LVL_MEMBER, "api_key", "create", 1 },
    { RBAC_LVL_MEMBER, "notification_preference", "update", 1 },
};


static const vote_case_t  organization_service_account_sa_votes[] = {
    { RBAC_LVL_ORG, "group", "read", 1 },
    { RBAC_LVL_ORG, "organization_member", "read", 1 },
    { RBAC_LVL_ORG, "workspace", "share", 0 },
    { RBAC_LVL_MEMBER, "workspace", "share", 0 },
};


static const vote_case_t  organization_service_account_no_votes[] = {
    { RBAC_LVL_ORG, "group", "read", 0 },
    { RBAC_LVL_ORG, "organization_member", "read", 0 },
    { RBAC_LVL_ORG, "workspace", "share", -1 },
};


static void
test_org_service_account_variants(void **state)
{
    int                 l, s;
    rbac_catalog_t     *cat;
    const rbac_role_t  *ev, *sa, *no, *r;

    cat = builtin();
    ev = role(cat, "organization-service-account", 0, RBAC_SHARE_EVERYONE);
    sa = role(cat, "organization-service-account", 0,
              RBAC_SHARE_SERVICE_ACCOUNTS);
    no = role(cat, "organization-service-account", 0, RBAC_SHARE_NONE);

    for (s = 0; s < RBAC_NSHARE; s++) {
        r = role(cat, "organization-service-account", 0, (rbac_share_t) s);

        /* No chat, no member-level share negation. */
        for (l = 0; l < RBAC_NLEVELS; l++) {
            assert_int_equal(r->lvl[l].pos[RBAC_T_CHAT], 0);
            assert_int_equal(r->lvl[l].pos[RBAC_T_CHAT_PROJECT], 0);
            assert_int_equal(r->lvl[l].pos[RBAC_T_WORKSPACE], 0);
        }

        assert_int_equal(r->lvl[RBAC_LVL_MEMBER].neg[RBAC_T_WORKSPACE], 0);
        assert_votes(r, organization_service_account_votes);
    }

    assert_int_equal(vote(ev, RBAC_LVL_ORG, "group", "read"), 1);
    assert_int_equal(vote(ev, RBAC_LVL_ORG, "organization_member", "read"), 1);
    assert_votes(sa, organization_service_account_sa_votes);
    assert_votes(no, organization_service_account_no_votes);

    rbac_catalog_free(cat, &rbac_malloc_allocator);
}


/* ---- scopes ---- */

static int
svote(const rbac_scope_t *sc, const char *type, const char *action)
{
    return rbac_permset_vote(&sc->site, rbac_type_from_name(S(type)),
                             rbac_action_from_name(S(action)));
}


static void
assert_allow_all(const rbac_scope_t *sc)
{
    assert_int_equal(sc->nallow, 1);
    assert_true(sc->allow[0].any_type);
    assert_true(sc->allow[0].any_id);
}


static void
test_scopes(void **state)
{
    rbac_rc_t        rc;
    rbac_err_t       err;
    rbac_scope_t     sc, sc2;
    rbac_catalog_t  *cat;

    cat = builtin();

    memset(&sc, 0, sizeof(sc));
    assert_int_equal(rbac_catalog_scope_add(cat, S("all"), &sc, &err),
                     RBAC_OK);
    assert_int_equal(rbac_permset_vote(&sc.site, RBAC_T_OTHER, RBAC_A_OTHER),
                     1);
    assert_int_equal(svote(&sc, "user_secret", "read"), 1);
    assert_true(level_empty(&sc.user));
    assert_int_equal(sc.norgs, 0);
    assert_allow_all(&sc);
    assert_string_equal(sc.name, "all");

    memset(&sc2, 0, sizeof(sc2));
    assert_int_equal(rbac_catalog_scope_add(cat, S("coder:all"), &sc2, &err),
                     RBAC_OK);
    assert_memory_equal(&sc.site, &sc2.site, sizeof(sc.site));

    memset(&sc, 0, sizeof(sc));
    assert_int_equal(rbac_catalog_scope_add(cat, S("application_connect"),
                                            &sc, &err), RBAC_OK);
    assert_int_equal(svote(&sc, "workspace", "application_connect"), 1);
    assert_int_equal(svote(&sc, "workspace", "read"), 0);
    assert_allow_all(&sc);
    memset(&sc2, 0, sizeof(sc2));
    assert_int_equal(rbac_catalog_scope_add(cat,
                                            S("coder:application_connect"),
                                            &sc2, &err), RBAC_OK);
    assert_memory_equal(&sc.site, &sc2.site, sizeof(sc.site));

    memset(&sc, 0, sizeof(sc));
    assert_int_equal(rbac_catalog_scope_add(cat, S("no_user_data"), &sc, &err),
                     RBAC_OK);
    assert_int_equal(svote(&sc, "user", "read"), 0);
    assert_int_equal(svote(&sc, "user", "read_personal"), 0);
    assert_int_equal(svote(&sc, "workspace", "ssh"), 1);
    assert_int_equal(svote(&sc, "user_secret", "read"), 1);
    assert_allow_all(&sc);

    /* Composite scopes, unioned; the allow list stays one *:*. */
    memset(&sc, 0, sizeof(sc));
    assert_int_equal(rbac_catalog_scope_add(cat, S("coder:workspaces.create"),
                                            &sc, &err), RBAC_OK);
    assert_int_equal(svote(&sc, "template", "use"), 1);
    assert_int_equal(svote(&sc, "template", "update"), 0);
    assert_int_equal(svote(&sc, "workspace", "create"), 1);
    assert_int_equal(svote(&sc, "workspace", "delete"), 0);
    assert_int_equal(rbac_catalog_scope_add(cat, S("coder:workspaces.delete"),
                                            &sc, &err), RBAC_OK);
    assert_int_equal(svote(&sc, "workspace", "delete"), 1);
    assert_int_equal(svote(&sc, "workspace", "ssh"), 0);
    assert_int_equal(rbac_catalog_scope_add(cat, S("coder:workspaces.access"),
                                            &sc, &err), RBAC_OK);
    assert_int_equal(svote(&sc, "workspace", "ssh"), 1);
    assert_allow_all(&sc);
    assert_string_equal(sc.name, "coder:workspaces.create,"
                        "coder:workspaces.delete,coder:workspaces.access");

    memset(&sc, 0, sizeof(sc));
    assert_int_equal(rbac_catalog_scope_add(cat, S("coder:workspaces.operate"),
                                            &sc, &err), RBAC_OK);
    assert_int_equal(svote(&sc, "workspace", "update"), 1);
    assert_int_equal(svote(&sc, "workspace", "create"), 0);

    memset(&sc, 0, sizeof(sc));
    assert_int_equal(rbac_catalog_scope_add(cat, S("coder:templates.build"),
                                            &sc, &err), RBAC_OK);
    assert_int_equal(svote(&sc, "provisioner_jobs", "read"), 1);
    assert_int_equal(svote(&sc, "file", "create"), 1);
    assert_int_equal(svote(&sc, "template", "create"), 0);

    memset(&sc, 0, sizeof(sc));
    assert_int_equal(rbac_catalog_scope_add(cat, S("coder:templates.author"),
                                            &sc, &err), RBAC_OK);
    assert_int_equal(svote(&sc, "template", "view_insights"), 1);
    assert_int_equal(svote(&sc, "template", "use"), 0);
    assert_int_equal(svote(&sc, "provisioner_jobs", "read"), 0);

    memset(&sc, 0, sizeof(sc));
    assert_int_equal(rbac_catalog_scope_add(cat, S("coder:apikeys.manage_self"),
                                            &sc, &err), RBAC_OK);
    assert_int_equal(svote(&sc, "api_key", "delete"), 1);
    assert_int_equal(svote(&sc, "user", "read"), 0);

    /* Low-level scopes. */
    memset(&sc, 0, sizeof(sc));
    assert_int_equal(rbac_catalog_scope_add(cat, S("workspace:read"), &sc,
                                            &err), RBAC_OK);
    assert_int_equal(svote(&sc, "workspace", "read"), 1);
    assert_int_equal(svote(&sc, "workspace", "update"), 0);
    assert_int_equal(svote(&sc, "template", "read"), 0);
    assert_allow_all(&sc);
    assert_int_equal(rbac_catalog_scope_add(cat, S("template:*"), &sc, &err),
                     RBAC_OK);
    assert_int_equal(svote(&sc, "template", "view_insights"), 1);
    assert_int_equal(rbac_permset_vote(&sc.site, RBAC_T_TEMPLATE,
                                       RBAC_A_OTHER), 1);
    assert_int_equal(svote(&sc, "workspace", "update"), 0);
    assert_allow_all(&sc);
    assert_string_equal(sc.name, "workspace:read,template:*");

    /* Names meaning nothing leave the scope as it was. */
    memcpy(&sc2, &sc, sizeof(sc));
    memset(&err, 0, sizeof(err));
    rc = rbac_catalog_scope_add(cat, S("workspace:reed"), &sc, &err);
    assert_int_equal(rc, RBAC_EUNKNOWN);
    assert_string_equal(err.msg, "unknown scope \"workspace:reed\"");
    assert_int_equal(rbac_catalog_scope_add(cat, S("workspace:use"), &sc,
                                            &err), RBAC_EUNKNOWN);
    assert_int_equal(rbac_catalog_scope_add(cat, S("task:*"), &sc, &err),
                     RBAC_EUNKNOWN);
    assert_int_equal(rbac_catalog_scope_add(cat, S("*:*"), &sc, &err),
                     RBAC_EUNKNOWN);
    assert_int_equal(rbac_catalog_scope_add(cat, S("coder:nothing"), &sc,
                                            &err), RBAC_EUNKNOWN);
    assert_int_equal(rbac_catalog_scope_add(cat, S("All"), &sc, &err),
                     RBAC_EUNKNOWN);
    assert_int_equal(rbac_catalog_scope_add(cat, S("workspace"), &sc, &err),
                     RBAC_EUNKNOWN);
    assert_int_equal(rbac_catalog_scope_add(cat, S(""), &sc, &err),
                     RBAC_EUNKNOWN);
    assert_int_equal(rbac_catalog_scope_add(cat, S("workspace:read:x"), &sc,
                                            &err), RBAC_EUNKNOWN);
    assert_memory_equal(&sc, &sc2, sizeof(sc));

    rbac_catalog_free(cat, &rbac_malloc_allocator);
}


static void
test_scope_allow_bound(void **state)
{
    rbac_err_t       err;
    rbac_scope_t     sc, before;
    rbac_catalog_t  *cat;

    cat = load_ok(
        "{\"roles\": [], \"scopes\": ["
        " {\"name\": \"sixteen\", \"site\": [{\"resource_type\": \"workspace\","
        "   \"action\": \"read\"}], \"allow_list\": ["
        "   {\"type\": \"workspace\", \"id\": \"w1\"},"
        "   {\"type\": \"workspace\", \"id\": \"w2\"},"
        "   {\"type\": \"workspace\", \"id\": \"w3\"},"
        "   {\"type\": \"workspace\", \"id\": \"w4\"},"
        "   {\"type\": \"workspace\", \"id\": \"w5\"},"
        "   {\"type\": \"workspace\", \"id\": \"w6\"},"
        "   {\"type\": \"workspace\", \"id\": \"w7\"},"
        "   {\"type\": \"workspace\", \"id\": \"w8\"},"
        "   {\"type\": \"workspace\", \"id\": \"w9\"},"
        "   {\"type\": \"workspace\", \"id\": \"w10\"},"
        "   {\"type\": \"workspace\", \"id\": \"w11\"},"
        "   {\"type\": \"workspace\", \"id\": \"w12\"},"
        "   {\"type\": \"workspace\", \"id\": \"w13\"},"
        "   {\"type\": \"workspace\", \"id\": \"w14\"},"
        "   {\"type\": \"*\", \"id\": \"\"},"
        "   {\"type\": \"template\", \"id\": \"*\"}]},"
        " {\"name\": \"one\", \"allow_list\": ["
        "   {\"type\": \"workspace\", \"id\": \"w1\"}]},"
        " {\"name\": \"other\", \"allow_list\": ["
        "   {\"type\": \"user\", \"id\": \"w1\"}]}]}");

    memset(&sc, 0, sizeof(sc));
    assert_int_equal(rbac_catalog_scope_add(cat, S("sixteen"), &sc, &err),
                     RBAC_OK);
    assert_int_equal(sc.nallow, 16);
    assert_false(sc.allow[0].any_type);
    assert_int_equal(sc.allow[0].type, RBAC_T_WORKSPACE);
    assert_string_equal(sc.allow[0].id, "w1");
    assert_true(sc.allow[14].any_type);
    assert_false(sc.allow[14].any_id);
    assert_string_equal(sc.allow[14].id, "");
    assert_true(sc.allow[15].any_id);
    assert_int_equal(sc.allow[15].type, RBAC_T_TEMPLATE);

    /* An entry already there costs nothing; a new one is over the bound. */
    assert_int_equal(rbac_catalog_scope_add(cat, S("one"), &sc, &err),
                     RBAC_OK);
    assert_int_equal(sc.nallow, 16);
    memcpy(&before, &sc, sizeof(sc));
    assert_int_equal(rbac_catalog_scope_add(cat, S("other"), &sc, &err),
                     RBAC_EBOUND);
    assert_memory_equal(&sc, &before, sizeof(sc));
    assert_int_equal(rbac_catalog_scope_add(cat, S("workspace:read"), &sc,
                                            &err), RBAC_EBOUND);

    /* A scope with an empty allow list allows nothing, and adds nothing. */
    rbac_catalog_free(cat, &rbac_malloc_allocator);
    cat = load_ok("{\"roles\": [], \"scopes\": [{\"name\": \"none\","
                  " \"site\": [{\"resource_type\": \"*\", \"action\": \"*\"}],"
                  " \"allow_list\": []}]}");
    memset(&sc, 0, sizeof(sc));
    assert_int_equal(rbac_catalog_scope_add(cat, S("none"), &sc, &err),
                     RBAC_OK);
    assert_int_equal(sc.nallow, 0);
    assert_int_equal(svote(&sc, "workspace", "read"), 1);

    rbac_catalog_free(cat, &rbac_malloc_allocator);
}


/* ---- the format: conditions ---- */

static void
test_conditions(void **state)
{
    unsigned            o;
    int                 s;
    rbac_catalog_t     *cat;
    const rbac_role_t  *r;

    cat = load_ok(
        "{\"roles\": ["
        " {\"name\": \"opt\", \"kind\": \"site\", \"site\": ["
        "  {\"resource_type\": \"workspace\", \"action\": \"ssh\","
        "   \"when\": \"no_owner_workspace_exec\"},"
        "  {\"resource_type\": \"workspace\", \"action\": \"read\","
        "   \"when\": \"!no_owner_workspace_exec\"},"
        "  {\"resource_type\": \"chat\", \"action\": \"read\","
        "   \"when\": \"!no_chat_sharing\"},"
        "  {\"resource_type\": \"chat\", \"action\": \"share\","
        "   \"when\": \"no_workspace_sharing\", \"negate\": true}]},"
        " {\"name\": \"sh\", \"kind\": \"org\", \"org\": ["
        "  {\"resource_type\": \"group\", \"action\": \"read\","
        "   \"when\": \"sharing!=service_accounts\"},"
        "  {\"resource_type\": \"group\", \"action\": \"update\","
        "   \"when\": \"sharing=service_accounts\"}],"
        "  \"member\": [{\"resource_type\": \"file\", \"action\": \"read\"}]},"
        " {\"name\": \"both\", \"kind\": \"org\", \"org\": ["
        "  {\"resource_type\": \"user\", \"action\": \"read\","
        "   \"when\": \"sharing=none\"},"
        "  {\"resource_type\": \"user\", \"action\": \"update\","
        "   \"when\": \"no_chat_sharing\"}]},"
        " {\"name\": \"plain\", \"kind\": \"site\", \"display_name\": \"P\"}"
        "]}");

    for (o = 0; o <= RBAC_OPT_ALL; o++) {
        for (s = 0; s < RBAC_NSHARE; s++) {
            r = role(cat, "opt", o, (rbac_share_t) s);
            assert_int_equal(vote(r, RBAC_LVL_SITE, "workspace", "ssh"),
                             (o & RBAC_OPT_NO_OWNER_WORKSPACE_EXEC) ? 1 : 0);
            assert_int_equal(vote(r, RBAC_LVL_SITE, "workspace", "read"),
                             (o & RBAC_OPT_NO_OWNER_WORKSPACE_EXEC) ? 0 : 1);
            assert_int_equal(vote(r, RBAC_LVL_SITE, "chat", "read"),
                             (o & RBAC_OPT_NO_CHAT_SHARING) ? 0 : 1);
            assert_int_equal(vote(r, RBAC_LVL_SITE, "chat", "share"),
                             (o & RBAC_OPT_NO_WORKSPACE_SHARING) ? -1 : 0);

            r = role(cat, "sh", o, (rbac_share_t) s);
            assert_int_equal(vote(r, RBAC_LVL_ORG, "group", "read"),
                             s == RBAC_SHARE_SERVICE_ACCOUNTS ? 0 : 1);
            assert_int_equal(vote(r, RBAC_LVL_ORG, "group", "update"),
                             s == RBAC_SHARE_SERVICE_ACCOUNTS ? 1 : 0);
            assert_int_equal(vote(r, RBAC_LVL_MEMBER, "file", "read"), 1);

            r = role(cat, "both", o, (rbac_share_t) s);
            assert_int_equal(vote(r, RBAC_LVL_ORG, "user", "read"),
                             s == RBAC_SHARE_NONE ? 1 : 0);
            assert_int_equal(vote(r, RBAC_LVL_ORG, "user", "update"),
                             (o & RBAC_OPT_NO_CHAT_SHARING) ? 1 : 0);

            r = role(cat, "plain", o, (rbac_share_t) s);
            assert_string_equal(r->display_name, "P");
            assert_ptr_equal(r, role(cat, "plain", 0, 0));
        }
    }

    /* Options above the three known bits are ignored. */
    assert_ptr_equal(role(cat, "opt", 0x8 | RBAC_OPT_NO_CHAT_SHARING, 0),
                     role(cat, "opt", RBAC_OPT_NO_CHAT_SHARING, 0));

    rbac_catalog_free(cat, &rbac_malloc_allocator);
}


/* ---- the format: errors ---- */

static void
test_errors_names(void **state)
{
    /* Unknown names: the message names the role, level and position. */
    load_fails("{\"roles\": [{\"name\": \"owner\", \"kind\": \"site\","
               " \"site\": [{\"resource_type\": \"user\","
               " \"action\": \"read\"},"
               " {\"resource_type\": \"nope\", \"action\": \"read\"}]}]}",
               RBAC_EUNKNOWN,
               "role owner: site permission 2: unknown resource_type "
               "\"nope\"");
    load_fails("{\"roles\": [{\"name\": \"owner\", \"kind\": \"site\","
               " \"user\": [{\"resource_type\": \"user\", \"action\": \"reed\"}"
               "]}]}",
               RBAC_EUNKNOWN,
               "role owner: user permission 1: unknown action \"reed\"");
    load_fails("{\"roles\": [{\"name\": \"x\", \"kind\": \"org\","
               " \"member\": [{\"resource_type\": [\"user\", \"task\"],"
               " \"action\": \"read\"}]}]}",
               RBAC_EUNKNOWN,
               "role x: member permission 1: unknown resource_type "
               "\"task\"");
    load_fails("{\"roles\": [{\"name\": \"x\", \"kind\": \"org\","
               " \"org\": [{\"resource_type\": {\"all_except\": [\"chatt\"]},"
               " \"action\": \"*\"}]}]}",
               RBAC_EUNKNOWN,
               "role x: org permission 1: unknown resource_type \"chatt\"");
    load_fails("{\"roles\": [{\"name\": \"x\", \"kind\": \"org\","
               " \"org\": [{\"resource_type\": \"*\","
               " \"action\": [\"read\", \"use_shared\", \"fly\"]}]}]}",
               RBAC_EUNKNOWN,
               "role x: org permission 1: unknown action \"fly\"");

    /* Declared pairs. */
    load_fails("{\"roles\": [{\"name\": \"x\", \"kind\": \"site\","
               " \"site\": [{\"resource_type\": \"template\","
               " \"action\": [\"read\", \"ssh\"]}]}]}",
               RBAC_EINVAL,
               "role x: site permission 1: action \"ssh\" is not declared "
               "for resource_type \"template\"");
    load_fails("{\"roles\": [{\"name\": \"x\", \"kind\": \"site\","
               " \"site\": [{\"resource_type\": [\"workspace\", \"file\"],"
               " \"action\": \"update\"}]}]}",
               RBAC_EINVAL,
               "role x: site permission 1: action \"update\" is not declared "
               "for resource_type \"file\"");
    load_fails("{\"roles\": [{\"name\": \"x\", \"kind\": \"site\","
               " \"site\": [{\"resource_type\": {\"all_except\": []},"
               " \"action\": \"read\"}]}]}",
               RBAC_EINVAL,
               "role x: site permission 1: action \"read\" is not declared "
               "for resource_type \"prebuilt_workspace\"");

    /* But "*" goes anywhere, and "*" types take any declared action. */
    rbac_catalog_free(load_ok(
        "{\"roles\": [{\"name\": \"x\", \"kind\": \"site\", \"site\": ["
        " {\"resource_type\": \"template\", \"action\": \"*\"},"
        " {\"resource_type\": \"*\", \"action\": \"use_shared\"},"
        " {\"resource_type\": {\"all_except\": [\"user\"]}, \"action\": \"*\","
        "  \"negate\": true, \"comment\": \"deny\"}]}]}"),
        &rbac_malloc_allocator);
}


static void
test_errors_shape(void **state)
{
    /* Conditions. */
    load_fails("{\"roles\": [{\"name\": \"m\", \"kind\": \"site\","
               " \"site\": [{\"resource_type\": \"user\", \"action\": \"read\","
               " \"when\": \"sharing=all\"}]}]}",
               RBAC_EINVAL,
               "role m: site permission 1: unknown condition \"sharing=all\"");
    load_fails("{\"roles\": [{\"name\": \"m\", \"kind\": \"site\","
               " \"site\": [{\"resource_type\": \"user\", \"action\": \"read\","
               " \"when\": \"!sharing=none\"}]}]}",
               RBAC_EINVAL,
               "role m: site permission 1: unknown condition "
               "\"!sharing=none\"");
    load_fails("{\"roles\": [{\"name\": \"m\", \"kind\": \"site\","
               " \"site\": [{\"resource_type\": \"user\", \"action\": \"read\","
               " \"when\": [\"no_chat_sharing\"]}]}]}",
               RBAC_EINVAL,
               "role m: site permission 1: \"when\" must be a string");
    load_fails("{\"roles\": [], \"scopes\": [{\"name\": \"s\", \"site\": ["
               " {\"resource_type\": \"user\", \"action\": \"read\","
               " \"when\": \"no_chat_sharing\"}], \"allow_list\": []}]}",
               RBAC_EINVAL,
               "scope s: site permission 1: \"when\" is not allowed here");

    /* Duplicates. */
    load_fails("{\"roles\": [{\"name\": \"a\", \"kind\": \"site\"},"
               " {\"name\": \"b\", \"kind\": \"site\"},"
               " {\"name\": \"a\", \"kind\": \"org\"}]}",
               RBAC_EEXISTS, "role a: duplicate role or reserved name");
    load_fails("{\"reserved\": [\"b\"], \"roles\": [{\"name\": \"a\","
               " \"kind\": \"site\"}, {\"name\": \"b\", \"kind\": \"site\"}]}",
               RBAC_EEXISTS, "role b: duplicate role or reserved name");
    load_fails("{\"roles\": [], \"scopes\": ["
               " {\"name\": \"s\", \"aliases\": [\"t\"], \"allow_list\": []},"
               " {\"name\": \"t\", \"allow_list\": []}]}",
               RBAC_EEXISTS, "scope t: duplicate scope name or alias");

    /* Malformed JSON and shapes. */
    load_fails("{\"roles\": [", RBAC_EPARSE, NULL);
    load_fails("{\"roles\": []} x", RBAC_EPARSE,
               "catalog: trailing characters at byte 14");
    load_fails("[]", RBAC_EPARSE, "catalog: not a JSON object");
    load_fails("", RBAC_EPARSE, "catalog: empty");
    load_fails("{}", RBAC_EINVAL, "catalog: \"roles\" is required");
    load_fails("{\"roles\": {}}", RBAC_EINVAL,
               "catalog: \"roles\" must be an array");
    load_fails("{\"roles\": [], \"role\": []}", RBAC_EINVAL,
               "catalog: unknown field \"role\"");
    load_fails("{\"roles\": [{\"kind\": \"site\"}]}", RBAC_EINVAL,
               "role 1: name must be a string");
    load_fails("{\"roles\": [{\"name\": \"\", \"kind\": \"site\"}]}",
               RBAC_EINVAL, "role 1: name must have 1 to 128 bytes");
    load_fails("{\"roles\": [{\"name\": \"a:b\", \"kind\": \"site\"}]}",
               RBAC_EINVAL, "role 1: invalid character in name \"a:b\"");
    load_fails("{\"roles\": [{\"name\": \"a\"}]}", RBAC_EINVAL,
               "role a: kind must be \"site\" or \"org\"");
    load_fails("{\"roles\": [{\"name\": \"a\", \"kind\": \"site\","
               " \"org\": []}]}", RBAC_EINVAL,
               "role a: a site role has no org permissions");
    load_fails("{\"roles\": [{\"name\": \"a\", \"kind\": \"site\","
               " \"sight\": []}]}", RBAC_EINVAL,
               "role a: unknown field \"sight\"");
    load_fails("{\"roles\": [{\"name\": \"a\", \"kind\": \"site\","
               " \"system\": 1}]}", RBAC_EINVAL,
               "role a: system must be a boolean");
    load_fails("{\"roles\": [{\"name\": \"a\", \"kind\": \"site\","
               " \"site\": {}}]}", RBAC_EINVAL,
               "role a: site permissions must be an array");
    load_fails("{\"roles\": [{\"name\": \"a\", \"kind\": \"site\","
               " \"site\": [{\"resource_type\": \"user\", \"action\": \"read\","
               " \"negated\": true}]}]}", RBAC_EINVAL,
               "role a: site permission 1: unknown field \"negated\"");
    load_fails("{\"roles\": [{\"name\": \"a\", \"kind\": \"site\","
               " \"site\": [{\"resource_type\": \"user\", \"action\": \"read\","
               " \"negate\": \"yes\"}]}]}", RBAC_EINVAL,
               "role a: site permission 1: negate must be a boolean");
    load_fails("{\"roles\": [{\"name\": \"a\", \"kind\": \"site\","
               " \"site\": [{\"resource_type\": \"user\"}]}]}", RBAC_EINVAL,
               "role a: site permission 1: resource_type and action are "
               "required");
    load_fails("{\"roles\": [{\"name\": \"a\", \"kind\": \"site\","
               " \"site\": [{\"resource_type\": [], \"action\": \"read\"}]}]}",
               RBAC_EINVAL,
               "role a: site permission 1: resource_type list is empty");
    load_fails("{\"roles\": [{\"name\": \"a\", \"kind\": \"site\","
               " \"site\": [{\"resource_type\": [\"*\"],"
               " \"action\": \"*\"}]}]}",
               RBAC_EINVAL,
               "role a: site permission 1: \"*\" cannot be listed in "
               "resource_type");
    load_fails("{\"roles\": [{\"name\": \"a\", \"kind\": \"site\","
               " \"site\": [{\"resource_type\": {\"all_except\": [\"user\"],"
               " \"x\": 1}, \"action\": \"*\"}]}]}", RBAC_EINVAL,
               "role a: site permission 1: resource_type must be a name, a "
               "list of names or {\"all_except\": [names]}");
    load_fails("{\"roles\": [{\"name\": \"a\", \"kind\": \"site\","
               " \"site\": [{\"resource_type\": \"user\", \"action\": []}]}]}",
               RBAC_EINVAL, "role a: site permission 1: action list is empty");
    load_fails("{\"roles\": [{\"name\": \"a\", \"kind\": \"site\","
               " \"site\": [7]}]}", RBAC_EINVAL,
               "role a: site permission 1: not an object");
    load_fails("{\"reserved\": [\"ok\", 3], \"roles\": []}", RBAC_EINVAL,
               "reserved name 2: name must be a string");

    /* Scopes. */
    load_fails("{\"roles\": [], \"scopes\": [{\"name\": \"s\"}]}",
               RBAC_EINVAL, "scope s: \"allow_list\" is required");
    load_fails("{\"roles\": [], \"scopes\": [{\"name\": \"s\", \"allow_list\":"
               " [{\"type\": \"wrkspace\", \"id\": \"*\"}]}]}", RBAC_EUNKNOWN,
               "scope s: allow_list entry 1: unknown type \"wrkspace\"");
    load_fails("{\"roles\": [], \"scopes\": [{\"name\": \"s\", \"allow_list\":"
               " [{\"type\": \"*\"}]}]}", RBAC_EINVAL,
               "scope s: allow_list entry 1: type and id must be strings");
    load_fails("{\"roles\": [], \"scopes\": [{\"name\": \"s\", \"org\": [],"
               " \"allow_list\": []}]}", RBAC_EINVAL,
               "scope s: unknown field \"org\"");
    load_fails("{\"roles\": [], \"scopes\": [{\"name\": \"s\", \"allow_list\":"
               " [], \"user\": [{\"resource_type\": \"usr\", \"action\": \"*\"}"
               "]}]}", RBAC_EUNKNOWN,
               "scope s: user permission 1: unknown resource_type \"usr\"");
}


/* A NUL-terminated length and a buffer without a NUL both load. */
static void
test_lengths(void **state)
{
    char            *copy;
    rbac_err_t       err;
    rbac_catalog_t  *cat;

    assert_int_equal(rbac_catalog_load((const char *) rbac_builtin_catalog,
                                       rbac_builtin_catalog_len + 1,
                                       &rbac_malloc_allocator, &cat, &err),
                     RBAC_OK);
    rbac_catalog_free(cat, &rbac_malloc_allocator);

    copy = malloc(rbac_builtin_catalog_len);
    assert_non_null(copy);
    memcpy(copy, rbac_builtin_catalog, rbac_builtin_catalog_len);
    assert_int_equal(rbac_catalog_load(copy, rbac_builtin_catalog_len,
                                       &rbac_malloc_allocator, &cat, &err),
                     RBAC_OK);
    rbac_catalog_free(cat, &rbac_malloc_allocator);

    /* Cut short: not JSON. */
    assert_int_equal(rbac_catalog_load(copy, rbac_builtin_catalog_len / 2,
                                       &rbac_malloc_allocator, &cat, &err),
                     RBAC_EPARSE);
    assert_null(cat);
    free(copy);

    rbac_catalog_free(NULL, &rbac_malloc_allocator);
}


/* ---- allocation failures ---- */

typedef struct {
    long    countdown;      /* fail when it reaches 0 */
    long    live;
    long    calls;
} cat_failer_t;


static void *
cat_fail_alloc(void *ud, size_t size)
{
    void          *p;
    cat_failer_t  *f = ud;

    f->calls++;

    if (f->countdown-- == 0) {
        return NULL;
    }

    p = malloc(size);
    f->live += (p != NULL);

    return p;
}


static void
cat_fail_free(void *ud, void *p)
{
    cat_failer_t  *f = ud;

    if (p != NULL) {
        f->live--;
        free(p);
    }
}


static void
test_alloc_failures(void **state)
{
    long               n;
    rbac_rc_t          rc;
    rbac_err_t         err;
    cat_failer_t       f;
    rbac_catalog_t    *cat;
    rbac_allocator_t   a = { cat_fail_alloc, cat_fail_free, &f };

    for (n = 0; n < 100; n++) {
        memset(&f, 0, sizeof(f));
        f.countdown = n;

        rc = rbac_catalog_load((const char *) rbac_builtin_catalog,
                               rbac_builtin_catalog_len, &a, &cat, &err);
        if (rc == RBAC_OK) {
            assert_non_null(cat);
            assert_non_null(rbac_catalog_role(cat, S("owner"), 0, 0));
            rbac_catalog_free(cat, &a);
            assert_int_equal(f.live, 0);
            break;
        }

        assert_int_equal(rc, RBAC_ENOMEM);
        assert_null(cat);
        assert_int_equal(f.live, 0);
    }

    /* It did succeed, after failing each allocation in turn. */
    assert_true(n > 0);
    assert_true(n < 100);
}


/* cJSON's own allocations (its global hooks) failing in turn. */
static void
test_cjson_alloc_failures(void **state)
{
    long             n;
    rbac_rc_t        rc;
    rbac_err_t       err;
    rbac_catalog_t  *cat;
    const char      *json =
        "{\"reserved\": [\"r\"], \"roles\": [{\"name\": \"a\","
        " \"kind\": \"org\","
        " \"org\": [{\"resource_type\": [\"user\", \"group\"],"
        " \"action\": \"read\", \"when\": \"sharing=none\"}]}],"
        " \"scopes\": [{\"name\": \"s\", \"aliases\": [\"t\"],"
        " \"allow_list\": [{\"type\": \"*\", \"id\": \"*\"}]}]}";

    for (n = 0; n < 1000; n++) {
        testutil_cjson_fail_at(n + 1, 0);
        rc = rbac_catalog_load(json, strlen(json), &rbac_malloc_allocator,
                               &cat, &err);
        if (rc == RBAC_OK) {
            break;
        }

        assert_int_equal(rc, RBAC_EPARSE);
        assert_null(cat);
    }

    testutil_cjson_reset();

    assert_true(n > 10);
    assert_true(n < 1000);
    assert_non_null(rbac_catalog_role(cat, S("a"), 0, RBAC_SHARE_NONE));
    rbac_catalog_free(cat, &rbac_malloc_allocator);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_builtin_names),
        cmocka_unit_test(test_owner),
        cmocka_unit_test(test_member),
        cmocka_unit_test(test_site_admins),
        cmocka_unit_test(test_org_roles),
        cmocka_unit_test(test_org_member_variants),
        cmocka_unit_test(test_org_service_account_variants),
        cmocka_unit_test(test_scopes),
        cmocka_unit_test(test_scope_allow_bound),
        cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_errors_names),
        cmocka_unit_test(test_errors_shape),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_cjson_alloc_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
