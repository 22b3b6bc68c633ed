/*
 * test_decide.c: the decision of docs/authorization.md §2 through
 * rbac_decide on hand-built subject and object views: each level, negation
 * precedence, wildcards, the ACL paths and their membership requirement,
 * scopes and allow lists, any_org, the sharing-mode variants of the
 * built-in catalog, account status, deprecated templates and the reasons.
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

static rbac_catalog_t  *cat;


#define NPOOL  32
static rbac_role_t  pool[NPOOL];
static int          npool;

/*
 * A role from a spec: space-separated "level:[-]type:action" with level
 * site, user, org or member and "*" allowed for type and action.
 */
static const rbac_role_t *
mkrole(const char *name, const char *spec)
{
    int           l;
    char          buf[512], *tok, *save, *lv, *ty, *ac;
    rbac_perm_t   p;
    rbac_role_t  *r;

    static const char  *levels[] = { "site", "user", "org", "member" };

    assert_true(npool < NPOOL);
    r = &pool[npool++];
    memset(r, 0, sizeof(*r));
    snprintf(r->name, sizeof(r->name), "%s", name);

    snprintf(buf, sizeof(buf), "%s", spec);

    for (tok = strtok_r(buf, " ", &save); tok != NULL;
         tok = strtok_r(NULL, " ", &save))
    {
        lv = tok;
        ty = strchr(lv, ':');
        assert_non_null(ty);
        *ty++ = '\0';
        ac = strchr(ty, ':');
        assert_non_null(ac);
        *ac++ = '\0';

        memset(&p, 0, sizeof(p));

        if (*ty == '-') {
            p.negate = 1;
            ty++;
        }

        if (strcmp(ty, "*") == 0) {
            p.any_type = 1;
            p.type = RBAC_T_OTHER;

        } else {
            p.type = rbac_type_from_name(S(ty));
            assert_int_not_equal(p.type, RBAC_T_OTHER);
        }

        if (strcmp(ac, "*") == 0) {
            p.any_action = 1;
            p.action = RBAC_A_OTHER;

        } else {
            p.action = rbac_action_from_name(S(ac));
            assert_int_not_equal(p.action, RBAC_A_OTHER);
        }

        for (l = 0; l < RBAC_NLEVELS; l++) {
            if (strcmp(lv, levels[l]) == 0) {
                break;
            }
        }

        assert_true(l < RBAC_NLEVELS);
        rbac_permset_add(&r->lvl[l], &p);
    }

    return r;
}


static const rbac_role_t *
builtin(const char *name, unsigned opts, rbac_share_t share)
{
    const rbac_role_t  *r;

    r = rbac_catalog_role(cat, S(name), opts, share);
    if (r == NULL) {
        fprintf(stderr, "catalog has no role %s\n", name);
    }

    assert_non_null(r);

    return r;
}


typedef struct {
    rbac_subject_t       s;
    const rbac_role_t   *site[8];
    rbac_subject_org_t   orgs[8];
    const rbac_role_t   *oroles[8][8];
    rbac_str_t           groups[8];
    rbac_scope_t         scope;
    rbac_allow_t         token[4];
} subj_t;

static void
subj_init(subj_t *x, const char *id)
{
    memset(x, 0, sizeof(*x));
    x->s.id = S(id);
    x->s.site_roles = x->site;
    x->s.orgs = x->orgs;
    x->s.groups = x->groups;
}


static void
subj_site(subj_t *x, const rbac_role_t *r)
{
    x->site[x->s.nsite_roles++] = r;
}


/* Adds role r (NULL: membership only) in org. */
static void
subj_org(subj_t *x, const char *org, const rbac_role_t *r)
{
    size_t  i;

    for (i = 0; i < x->s.norgs; i++) {
        if (rbac_str_eq_cstr(x->orgs[i].org, org)) {
            break;
        }
    }

    if (i == x->s.norgs) {
        x->orgs[i].org = S(org);
        x->orgs[i].roles = x->oroles[i];
        x->s.norgs++;
    }

    if (r != NULL) {
        x->oroles[i][x->orgs[i].nroles++] = r;
    }
}


static void
subj_group(subj_t *x, const char *g)
{
    x->groups[x->s.ngroups++] = S(g);
}


/* Gives the subject a scope of site perms (spec as mkrole, site only). */
static rbac_scope_t *
subj_scope(subj_t *x, const char *name, const char *site_spec)
{
    const rbac_role_t  *r;

    memset(&x->scope, 0, sizeof(x->scope));
    snprintf(x->scope.name, sizeof(x->scope.name), "%s", name);
    r = mkrole(name, site_spec);
    x->scope.site = r->lvl[RBAC_LVL_SITE];
    x->scope.user = r->lvl[RBAC_LVL_USER];
    x->scope.nallow = 1;
    x->scope.allow[0].any_type = 1;
    x->scope.allow[0].any_id = 1;
    x->s.scope = &x->scope;

    return &x->scope;
}


static rbac_object_t
obj(const char *type, const char *id, const char *org, const char *owner)
{
    rbac_object_t  o;

    memset(&o, 0, sizeof(o));
    o.type = rbac_type_from_name(S(type));
    o.type_name = S(type);
    o.id = S(id);
    o.org = S(org);
    o.owner = S(owner);

    return o;
}


static char  reason[256];

static int
decide(const subj_t *x, const rbac_object_t *o, const char *action)
{
    rbac_decision_t  d;

    rbac_decide(&x->s, o, rbac_action_from_name(S(action)), &d);
    rbac_decision_reason(&d, &x->s, o, reason, sizeof(reason));

    return d.allow;
}


#define assert_allow(x, o, a, why)                                            \
    do {                                                                      \
        assert_int_equal(decide(x, o, a), 1);                                 \
        assert_string_equal(reason, why);                                     \
    } while (0)

#define assert_deny(x, o, a, why)                                             \
    do {                                                                      \
        assert_int_equal(decide(x, o, a), 0);                                 \
        assert_string_equal(reason, why);                                     \
    } while (0)


/* One decision: the object (type, id, org, owner), the action, the answer. */
typedef struct {
    const char  *type;
    const char  *id;
    const char  *org;
    const char  *owner;
    const char  *action;
    int          allow;
    const char  *reason;
} decide_case_t;

#define assert_decisions(x, o, cases)                                         \
    assert_decisions_n(x, o, cases, sizeof(cases) / sizeof((cases)[0]))

/* Each case decided for subject x in turn; *o is left the last object. */
static void
assert_decisions_n(const subj_t *x, rbac_object_t *o, const decide_case_t *c,
    size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        *o = obj(c[i].type, c[i].id, c[i].org, c[i].owner);
        assert_int_equal(decide(x, o, c[i].action), c[i].allow);
        assert_string_equal(reason, c[i].reason);
    }
}


static int
setup(void **state)
{
    rbac_rc_t   rc;
    rbac_err_t  err;

    rc = rbac_catalog_load((const char *) rbac_builtin_catalog,
                           rbac_builtin_catalog_len, &rbac_malloc_allocator,
                           &cat, &err);
    if (rc != RBAC_OK) {
        fprintf(stderr, "catalog: %s\n", err.msg);
    }

    return rc == RBAC_OK ? 0 : -1;
}


static int
teardown(void **state)
{
    rbac_catalog_free(cat, &rbac_malloc_allocator);
    return 0;
}


static int
reset(void **state)
{
    npool = 0;
    return 0;
}


/* ---- levels ---- */

static const decide_case_t  site_level_cases[] = {
    { "workspace", "ws1", "orgA", "u9", "read", 1,
      "site role owner grants workspace:read" },
    /* owner is not all-powerful: nothing on user_secret */
    { "user_secret", "s1", "", "u9", "read", 0,
      "no role or acl grants user_secret:read" },
    /* site grants apply without any org membership */
    { "template", "t1", "orgB", "", "update", 1,
      "site role owner grants template:update" },
};


static void
test_site_level(void **state)
{
    subj_t         x;
    rbac_object_t  o;

    subj_init(&x, "u1");
    subj_site(&x, builtin("owner", 0, RBAC_SHARE_EVERYONE));
    assert_decisions(&x, &o, site_level_cases);
}


static const decide_case_t  user_level_cases[] = {
    { "file", "f1", "", "u1", "read", 1,
      "user role member grants file:read on own object" },
    /* someone else's file */
    { "file", "f1", "", "u2", "read", 0, "no role or acl grants file:read" },
    /* the user level never applies to org-owned objects */
    { "api_key", "k1", "orgA", "u1", "read", 0,
      "no role or acl grants api_key:read" },
    { "api_key", "k1", "", "u1", "read", 1,
      "user role member grants api_key:read on own object" },
    /* member grants no workspace rights at all */
    { "workspace", "ws1", "", "u1", "read", 0,
      "no role or acl grants workspace:read" },
};


static void
test_user_level(void **state)
{
    subj_t         x;
    rbac_object_t  o;

    subj_init(&x, "u1");
    subj_site(&x, builtin("member", 0, RBAC_SHARE_EVERYONE));

    assert_decisions(&x, &o, user_level_cases);
}


static const decide_case_t  org_level_cases[] = {
    { "workspace", "ws1", "orgA", "u2", "update", 1,
      "org role organization-admin in orgA grants workspace:update" },
    /* org admins cannot ssh into others' workspaces */
    { "workspace", "ws1", "orgA", "u2", "ssh", 0,
      "no role or acl grants workspace:ssh" },
    /* nothing in another org */
    { "workspace", "ws1", "orgB", "u2", "update", 0,
      "no role or acl grants workspace:update" },
    /* nor on org-less objects */
    { "workspace", "ws1", "", "u2", "update", 0,
      "no role or acl grants workspace:update" },
};


static void
test_org_level(void **state)
{
    subj_t         x;
    rbac_object_t  o;

    subj_init(&x, "u1");
    subj_org(&x, "orgA", builtin("organization-admin", 0,
                                 RBAC_SHARE_EVERYONE));

    assert_decisions(&x, &o, org_level_cases);
}


static const decide_case_t  member_level_cases[] = {
    { "workspace", "ws1", "orgA", "u1", "ssh", 1,
      "member role organization-workspace-access in orgA grants "
      "workspace:ssh on own object" },
    { "workspace", "ws1", "orgA", "u2", "ssh", 0,
      "no role or acl grants workspace:ssh" },
    /* owner "*" never matches (create for others) */
    { "workspace", "", "orgA", "*", "create", 0,
      "no role or acl grants workspace:create" },
};


static void
test_member_level(void **state)
{
    subj_t         x;
    rbac_object_t  o;

    subj_init(&x, "u1");
    subj_org(&x, "orgA", builtin("organization-workspace-access", 0,
                                 RBAC_SHARE_EVERYONE));

    assert_decisions(&x, &o, member_level_cases);

    /* a subject whose id is "*" does not own "*" objects either */
    subj_init(&x, "*");
    subj_org(&x, "orgA", builtin("organization-workspace-access", 0,
                                 RBAC_SHARE_EVERYONE));
    assert_deny(&x, &o, "create", "no role or acl grants workspace:create");

    /* own object in another org */
    subj_init(&x, "u1");
    subj_org(&x, "orgA", builtin("organization-workspace-access", 0,
                                 RBAC_SHARE_EVERYONE));
    o = obj("workspace", "ws1", "orgB", "u1");
    assert_deny(&x, &o, "read", "no role or acl grants workspace:read");

    /* an empty owner is nobody's */
    subj_init(&x, "");
    subj_org(&x, "orgA", builtin("organization-workspace-access", 0,
                                 RBAC_SHARE_EVERYONE));
    o = obj("workspace", "ws1", "orgA", "");
    assert_deny(&x, &o, "read", "no role or acl grants workspace:read");
}


/* ---- negations ---- */

static void
test_site_negation_wins(void **state)
{
    subj_t         x;
    rbac_object_t  o;

    /* NoWorkspaceSharing: a site negation in member beats everything */
    subj_init(&x, "u1");
    subj_site(&x, builtin("member", RBAC_OPT_NO_WORKSPACE_SHARING,
                          RBAC_SHARE_EVERYONE));
    subj_site(&x, builtin("owner", RBAC_OPT_NO_WORKSPACE_SHARING,
                          RBAC_SHARE_EVERYONE));
    subj_org(&x, "orgA", builtin("organization-admin",
                                 RBAC_OPT_NO_WORKSPACE_SHARING,
                                 RBAC_SHARE_EVERYONE));
    o = obj("workspace", "ws1", "orgA", "u1");

    assert_deny(&x, &o, "share", "site role member denies workspace:share");
    assert_allow(&x, &o, "read", "site role owner grants workspace:read");

    /* a site -1 blocks the user, org and member levels */
    subj_init(&x, "u1");
    subj_site(&x, mkrole("deny-all", "site:-*:*"));
    subj_site(&x, builtin("member", 0, RBAC_SHARE_EVERYONE));
    subj_org(&x, "orgA", builtin("organization-workspace-access", 0,
                                 RBAC_SHARE_EVERYONE));
    subj_org(&x, "orgA", builtin("organization-admin", 0,
                                 RBAC_SHARE_EVERYONE));
    o = obj("workspace", "ws1", "orgA", "u1");
    assert_deny(&x, &o, "read", "site role deny-all denies workspace:read");
    o = obj("file", "f1", "", "u1");
    assert_deny(&x, &o, "read", "site role deny-all denies file:read");
}


static void
test_site_positive_beats_lower_negations(void **state)
{
    subj_t         x;
    rbac_object_t  o;

    /* AdminAlwaysAllow: owner + org-deny + user-deny-all */
    subj_init(&x, "u1");
    subj_site(&x, builtin("owner", 0, RBAC_SHARE_EVERYONE));
    subj_site(&x, mkrole("user-deny-all", "user:-*:*"));
    subj_org(&x, "orgA", mkrole("org-deny", "org:-*:* member:-*:*"));

    o = obj("workspace", "ws1", "orgA", "u1");
    assert_allow(&x, &o, "delete", "site role owner grants workspace:delete");

    o = obj("api_key", "k1", "", "u1");
    assert_allow(&x, &o, "read", "site role owner grants api_key:read");
}


static void
test_negation_within_level(void **state)
{
    subj_t         x;
    rbac_object_t  o;

    /* one role's negation beats another role's grant at the same level */
    subj_init(&x, "u1");
    subj_site(&x, mkrole("reader", "site:template:read"));
    subj_site(&x, mkrole("no-read", "site:-template:read"));
    o = obj("template", "t1", "orgA", "");
    assert_deny(&x, &o, "read", "site role no-read denies template:read");

    /* the same at the user level */
    subj_init(&x, "u1");
    subj_site(&x, builtin("member", 0, RBAC_SHARE_EVERYONE));
    subj_site(&x, mkrole("no-files", "user:-file:*"));
    o = obj("file", "f1", "", "u1");
    assert_deny(&x, &o, "read",
                "user role no-files denies file:read on own object");

    /* a user-level negation leaves other actions alone */
    subj_init(&x, "u1");
    subj_site(&x, builtin("member", 0, RBAC_SHARE_EVERYONE));
    subj_site(&x, mkrole("no-create", "user:-file:create"));
    assert_allow(&x, &o, "read",
                 "user role member grants file:read on own object");
}


static const decide_case_t  org_negation_blocks_member_cases[] = {
    { "workspace", "ws1", "orgA", "u1", "create", 0,
      "org role organization-workspace-creation-ban in orgA denies "
      "workspace:create" },
    { "workspace", "ws1", "orgA", "u1", "delete_agent", 0,
      "org role organization-workspace-creation-ban in orgA denies "
      "workspace:delete_agent" },
    { "workspace", "ws1", "orgA", "u1", "update", 1,
      "member role organization-workspace-access in orgA grants "
      "workspace:update on own object" },
};


static void
test_org_negation_blocks_member(void **state)
{
    subj_t         x;
    rbac_object_t  o;

    subj_init(&x, "u1");
    subj_org(&x, "orgA", builtin("organization-workspace-access", 0,
                                 RBAC_SHARE_EVERYONE));
    subj_org(&x, "orgA", builtin("organization-workspace-creation-ban", 0,
                                 RBAC_SHARE_EVERYONE));
    assert_decisions(&x, &o, org_negation_blocks_member_cases);

    /* it does not block site grants */
    subj_site(&x, builtin("owner", 0, RBAC_SHARE_EVERYONE));
    assert_allow(&x, &o, "create", "site role owner grants workspace:create");

    /* nor grants in another org */
    subj_init(&x, "u1");
    subj_org(&x, "orgA", builtin("organization-workspace-creation-ban", 0,
                                 RBAC_SHARE_EVERYONE));
    subj_org(&x, "orgB", builtin("organization-workspace-access", 0,
                                 RBAC_SHARE_EVERYONE));
    o = obj("workspace", "ws1", "orgB", "u1");
    assert_allow(&x, &o, "create",
                 "member role organization-workspace-access in orgB grants "
                 "workspace:create on own object");

    /* a member-level negation only blocks the member level */
    subj_init(&x, "u1");
    subj_org(&x, "orgA", mkrole("mix", "org:workspace:read "
                                       "member:-workspace:read"));
    o = obj("workspace", "ws1", "orgA", "u1");
    assert_allow(&x, &o, "read",
                 "org role mix in orgA grants workspace:read");
}


/* ---- wildcards ---- */

static void
test_wildcards(void **state)
{
    subj_t           x;
    rbac_object_t    o;
    rbac_decision_t  d;

    subj_init(&x, "u1");
    subj_site(&x, mkrole("all", "site:*:*"));

    /* "*" matches undeclared actions and unknown types */
    o = obj("template", "t1", "orgA", "");
    assert_allow(&x, &o, "start", "site role all grants template:start");

    o = obj("no_such_type", "x", "", "");
    assert_int_equal(o.type, RBAC_T_OTHER);
    rbac_decide(&x.s, &o, RBAC_A_OTHER, &d);
    assert_int_equal(d.allow, 1);

    /* a per-type "*" covers that type only */
    subj_init(&x, "u1");
    subj_site(&x, mkrole("ws", "site:workspace:*"));
    o = obj("workspace", "w", "orgA", "u2");
    rbac_decide(&x.s, &o, RBAC_A_OTHER, &d);
    assert_int_equal(d.allow, 1);
    o = obj("template", "t", "orgA", "");
    assert_deny(&x, &o, "read", "no role or acl grants template:read");

    /* a named action never matches an unknown one, nor a named type */
    subj_init(&x, "u1");
    subj_site(&x, mkrole("r", "site:*:read"));
    o = obj("workspace", "w", "orgA", "u2");
    rbac_decide(&x.s, &o, RBAC_A_OTHER, &d);
    assert_int_equal(d.allow, 0);
    o = obj("no_such_type", "x", "", "");
    assert_allow(&x, &o, "read", "site role r grants no_such_type:read");
}


/* ---- ACLs ---- */

static void
test_acl_user(void **state)
{
    subj_t            x;
    rbac_object_t     o;
    rbac_acl_entry_t  acl[2];

    acl[0].id = S("u0");
    acl[0].actions = RBAC_AMASK_ALL;
    acl[1].id = S("u2");
    acl[1].actions = rbac_acl_role_actions(RBAC_T_WORKSPACE, S("use"));

    o = obj("workspace", "ws1", "orgA", "u1");
    o.acl_users = acl;
    o.nacl_users = 2;

    /* membership with no roles at all is enough */
    subj_init(&x, "u2");
    subj_org(&x, "orgA", NULL);
    assert_allow(&x, &o, "ssh", "acl user u2 grants workspace:ssh");
    assert_deny(&x, &o, "delete", "no role or acl grants workspace:delete");

    /* newest policy: no membership, no user ACL */
    subj_init(&x, "u2");
    subj_org(&x, "orgB", NULL);
    assert_deny(&x, &o, "ssh", "no role or acl grants workspace:ssh");

    /* ACL grants ignore role negations */
    subj_init(&x, "u2");
    subj_site(&x, mkrole("deny-all", "site:-*:*"));
    subj_org(&x, "orgA", NULL);
    assert_allow(&x, &o, "read", "acl user u2 grants workspace:read");

    /* "*" in an ACL mask is every action, undeclared ones included */
    subj_init(&x, "u0");
    subj_org(&x, "orgA", NULL);
    assert_allow(&x, &o, "delete", "acl user u0 grants workspace:delete");
    assert_allow(&x, &o, "view_insights",
                 "acl user u0 grants workspace:view_insights");
}


static void
test_acl_group_and_everyone(void **state)
{
    subj_t            x;
    rbac_object_t     o;
    rbac_acl_entry_t  groups[2];

    groups[0].id = S("g1");
    groups[0].actions = rbac_acl_role_actions(RBAC_T_TEMPLATE, S("use"));
    groups[1].id = S("orgA");
    groups[1].actions = RBAC_AM(READ);

    o = obj("template", "t1", "orgA", "");
    o.acl_groups = groups;
    o.nacl_groups = 2;

    subj_init(&x, "u1");
    subj_group(&x, "g0");
    subj_group(&x, "g1");
    subj_org(&x, "orgA", builtin("organization-member", 0,
                                 RBAC_SHARE_EVERYONE));
    assert_allow(&x, &o, "use", "acl group g1 grants template:use");

    /* Everyone: group key = the object's org */
    subj_init(&x, "u1");
    subj_org(&x, "orgA", NULL);
    assert_allow(&x, &o, "read", "acl Everyone of orgA grants template:read");
    assert_deny(&x, &o, "use", "no role or acl grants template:use");

    /* group and Everyone ACLs need membership of the object's org */
    subj_init(&x, "u1");
    subj_group(&x, "g1");
    subj_org(&x, "orgB", NULL);
    assert_deny(&x, &o, "use", "no role or acl grants template:use");
    assert_deny(&x, &o, "read", "no role or acl grants template:read");

    /* a site owner without org roles is not an org member */
    subj_init(&x, "u1");
    subj_group(&x, "g1");
    subj_site(&x, mkrole("no-templates", "site:-template:*"));
    assert_deny(&x, &o, "use", "site role no-templates denies template:use");
}


static void
test_acl_roles(void **state)
{
    rbac_amask_t  m;

    m = rbac_acl_role_actions(RBAC_T_WORKSPACE, S("use"));
    assert_int_equal(m, RBAC_AM(READ) | RBAC_AM(SSH)
                        | RBAC_AM(APPLICATION_CONNECT) | RBAC_AM(START)
                        | RBAC_AM(STOP));

    m = rbac_acl_role_actions(RBAC_T_WORKSPACE, S("admin"));
    assert_int_equal(m, RBAC_WS12 & ~RBAC_AM(DELETE));
    assert_true(m & RBAC_AM(SHARE));
    assert_false(m & RBAC_AM(DELETE));

    assert_int_equal(rbac_acl_role_actions(RBAC_T_TEMPLATE, S("use")),
                     RBAC_AM(READ) | RBAC_AM(USE));
    assert_int_equal(rbac_acl_role_actions(RBAC_T_TEMPLATE, S("admin")),
                     RBAC_AMASK_ALL);

    assert_int_equal(rbac_acl_role_actions(RBAC_T_TEMPLATE, S("owner")), 0);
    assert_int_equal(rbac_acl_role_actions(RBAC_T_GROUP, S("use")), 0);
    assert_int_equal(rbac_acl_role_actions(RBAC_T_WORKSPACE, S("")), 0);
}


/* ---- scopes and allow lists ---- */

static void
test_scope_intersection(void **state)
{
    subj_t         x;
    rbac_object_t  o;
    rbac_scope_t  *sc;

    subj_init(&x, "u1");
    subj_site(&x, builtin("owner", 0, RBAC_SHARE_EVERYONE));
    o = obj("workspace", "ws1", "orgA", "u2");

    /* no scope = all */
    assert_allow(&x, &o, "read", "site role owner grants workspace:read");

    subj_scope(&x, "application_connect",
               "site:workspace:application_connect");
    assert_deny(&x, &o, "read",
                "scope application_connect does not grant workspace:read");
    assert_allow(&x, &o, "application_connect",
                 "site role owner grants workspace:application_connect");

    /* a scope never adds rights */
    subj_init(&x, "u1");
    subj_scope(&x, "all", "site:*:*");
    assert_deny(&x, &o, "read", "no role or acl grants workspace:read");

    /* a scope negation wins within the scope's site level */
    subj_init(&x, "u1");
    subj_site(&x, builtin("owner", 0, RBAC_SHARE_EVERYONE));
    subj_scope(&x, "no-ws", "site:*:* site:-workspace:delete");
    assert_deny(&x, &o, "delete",
                "scope no-ws does not grant workspace:delete");

    /* scope limits ACL grants too */
    subj_init(&x, "u1");
    subj_org(&x, "orgA", NULL);
    {
        rbac_acl_entry_t  acl = { { "u1", 2 }, RBAC_AMASK_ALL };

        o.acl_users = &acl;
        o.nacl_users = 1;
        assert_allow(&x, &o, "read", "acl user u1 grants workspace:read");
        sc = subj_scope(&x, "app", "site:workspace:application_connect");
        (void) sc;
        assert_deny(&x, &o, "read", "scope app does not grant workspace:read");
        o.acl_users = NULL;
        o.nacl_users = 0;
    }
}


static const decide_case_t  scope_org_levels_cases[] = {
    { "workspace", "ws1", "orgA", "u2", "read", 1,
      "org role organization-admin in orgA grants workspace:read" },
    { "workspace", "ws1", "orgA", "u2", "update", 0,
      "scope orgscope does not grant workspace:update" },
    /* member level of the scope: own objects only */
    { "workspace", "ws1", "orgA", "u2", "ssh", 0,
      "no role or acl grants workspace:ssh" },
    { "workspace", "ws1", "orgA", "u1", "ssh", 1,
      "member role organization-workspace-access in orgA grants "
      "workspace:ssh on own object" },
};


static void
test_scope_org_levels(void **state)
{
    subj_t              x;
    rbac_object_t       o;
    rbac_scope_t       *sc;
    const rbac_role_t  *sr;

    subj_init(&x, "u1");
    subj_org(&x, "orgA", builtin("organization-admin", 0,
                                 RBAC_SHARE_EVERYONE));
    subj_org(&x, "orgA", builtin("organization-workspace-access", 0,
                                 RBAC_SHARE_EVERYONE));
    sc = subj_scope(&x, "orgscope", "");
    sr = mkrole("s", "org:workspace:read member:workspace:ssh");
    sc->norgs = 2;
    snprintf(sc->orgs[0].org, sizeof(sc->orgs[0].org), "orgA");
    sc->orgs[0].org_ps = sr->lvl[RBAC_LVL_ORG];
    sc->orgs[0].member_ps = sr->lvl[RBAC_LVL_MEMBER];
    snprintf(sc->orgs[1].org, sizeof(sc->orgs[1].org), "orgB");
    sc->orgs[1].org_ps = sr->lvl[RBAC_LVL_ORG];

    assert_decisions(&x, &o, scope_org_levels_cases);

    /* scope org perms count only in orgs the subject is a member of */
    subj_site(&x, builtin("owner", 0, RBAC_SHARE_EVERYONE));
    o = obj("workspace", "ws1", "orgB", "u2");
    assert_deny(&x, &o, "read", "scope orgscope does not grant "
                                "workspace:read");
}


static void
test_allow_lists(void **state)
{
    subj_t         x;
    rbac_object_t  o;
    rbac_scope_t  *sc;

    subj_init(&x, "u1");
    subj_site(&x, builtin("owner", 0, RBAC_SHARE_EVERYONE));
    sc = subj_scope(&x, "agent", "site:*:*");
    o = obj("workspace", "ws1", "orgA", "u2");

    /* an empty allow list allows nothing */
    sc->nallow = 0;
    assert_deny(&x, &o, "read", "workspace ws1 not in the scope allow list");

    /* a specific type and id */
    sc->nallow = 1;
    memset(&sc->allow[0], 0, sizeof(sc->allow[0]));
    sc->allow[0].type = RBAC_T_WORKSPACE;
    snprintf(sc->allow[0].id, sizeof(sc->allow[0].id), "ws1");
    assert_allow(&x, &o, "read", "site role owner grants workspace:read");
    o = obj("workspace", "ws2", "orgA", "u2");
    assert_deny(&x, &o, "read", "workspace ws2 not in the scope allow list");
    o = obj("template", "ws1", "orgA", "");
    assert_deny(&x, &o, "read", "template ws1 not in the scope allow list");

    /* type "*" with an id matches that id of any type */
    sc->allow[0].any_type = 1;
    assert_allow(&x, &o, "read", "site role owner grants template:read");

    /* type with id "*" */
    memset(&sc->allow[0], 0, sizeof(sc->allow[0]));
    sc->allow[0].type = RBAC_T_TEMPLATE;
    sc->allow[0].any_id = 1;
    assert_allow(&x, &o, "read", "site role owner grants template:read");
    o = obj("workspace", "ws2", "orgA", "u2");
    assert_deny(&x, &o, "read", "workspace ws2 not in the scope allow list");

    /* id "" matches only objects with an empty id */
    memset(&sc->allow[0], 0, sizeof(sc->allow[0]));
    sc->allow[0].type = RBAC_T_WORKSPACE;
    o = obj("workspace", "", "orgA", "*");
    assert_allow(&x, &o, "create", "site role owner grants workspace:create");
    o = obj("workspace", "ws3", "orgA", "u2");
    assert_deny(&x, &o, "create",
                "workspace ws3 not in the scope allow list");
}


static void
test_token_allow_list(void **state)
{
    subj_t         x;
    rbac_object_t  o;

    subj_init(&x, "u1");
    subj_site(&x, builtin("owner", 0, RBAC_SHARE_EVERYONE));
    o = obj("workspace", "ws1", "orgA", "u2");

    /* no scope: the token's own list still narrows */
    x.token[0].type = RBAC_T_WORKSPACE;
    snprintf(x.token[0].id, sizeof(x.token[0].id), "ws1");
    x.s.token_allow = x.token;
    x.s.ntoken_allow = 1;
    assert_allow(&x, &o, "read", "site role owner grants workspace:read");

    o = obj("workspace", "ws2", "orgA", "u2");
    assert_deny(&x, &o, "read", "workspace ws2 not in the token allow list");

    /* intersection: both the scope's and the token's lists must match */
    subj_scope(&x, "tpl", "site:*:*");
    x.scope.allow[0].any_type = 0;
    x.scope.allow[0].type = RBAC_T_TEMPLATE;
    o = obj("workspace", "ws1", "orgA", "u2");
    assert_deny(&x, &o, "read", "workspace ws1 not in the scope allow list");
    x.scope.allow[0].any_type = 1;
    assert_allow(&x, &o, "read", "site role owner grants workspace:read");
    o = obj("template", "t1", "orgA", "");
    assert_deny(&x, &o, "read", "template t1 not in the token allow list");
}


/* ---- any_org ---- */

static void
test_any_org(void **state)
{
    subj_t         x;
    rbac_object_t  o;

    o = obj("workspace", "", "", "");
    o.any_org = 1;

    /* no org roles: nothing */
    subj_init(&x, "u1");
    subj_site(&x, builtin("member", 0, RBAC_SHARE_EVERYONE));
    assert_deny(&x, &o, "read", "no role or acl grants workspace:read");

    /* a -1 in one org does not hide a +1 in another */
    subj_init(&x, "u1");
    subj_org(&x, "orgA", mkrole("ban", "org:-workspace:create"));
    subj_org(&x, "orgB", mkrole("maker", "org:workspace:create"));
    assert_allow(&x, &o, "create",
                 "org role maker in orgB grants workspace:create");

    /* max of -1 and 0 (an org with no opinion) is 0 */
    subj_init(&x, "u1");
    subj_org(&x, "orgA", mkrole("ban", "org:-workspace:create "
                                       "member:workspace:create"));
    subj_org(&x, "orgB", NULL);
    o.owner = S("u1");
    assert_allow(&x, &o, "create",
                 "member role ban in orgA grants workspace:create on own "
                 "object");

    /* every org -1: the org level is -1 and blocks the member level */
    subj_init(&x, "u1");
    subj_org(&x, "orgA", mkrole("ban", "org:-workspace:create "
                                       "member:workspace:create"));
    assert_deny(&x, &o, "create",
                "org role ban in orgA denies workspace:create");

    /* owned any_org objects: max member vote; not owned: none */
    subj_init(&x, "u1");
    subj_org(&x, "orgA", builtin("organization-workspace-access", 0,
                                 RBAC_SHARE_EVERYONE));
    assert_allow(&x, &o, "create",
                 "member role organization-workspace-access in orgA grants "
                 "workspace:create on own object");
    o.owner = S("u2");
    assert_deny(&x, &o, "create", "no role or acl grants workspace:create");

    /* the user level never applies to any_org objects */
    subj_init(&x, "u1");
    subj_site(&x, builtin("member", 0, RBAC_SHARE_EVERYONE));
    o = obj("file", "", "", "u1");
    o.any_org = 1;
    assert_deny(&x, &o, "read", "no role or acl grants file:read");
}


/* ---- sharing modes through the catalog variants ---- */

static void
share_subject(subj_t *x, const char *id, const char *floor,
    rbac_share_t share)
{
    subj_init(x, id);
    subj_site(x, builtin("member", 0, share));
    subj_org(x, "orgA", builtin(floor, 0, share));
    subj_org(x, "orgA", builtin("organization-workspace-access", 0, share));
}


static void
test_sharing_modes(void **state)
{
    subj_t         x;
    rbac_object_t  o;

    o = obj("workspace", "ws1", "orgA", "u1");

    share_subject(&x, "u1", "organization-member", RBAC_SHARE_EVERYONE);
    assert_allow(&x, &o, "share",
                 "member role organization-workspace-access in orgA grants "
                 "workspace:share on own object");

    /* service_accounts: users' member-level share is negated */
    share_subject(&x, "u1", "organization-member",
                  RBAC_SHARE_SERVICE_ACCOUNTS);
    assert_int_equal(decide(&x, &o, "share"), 0);
    assert_allow(&x, &o, "read",
                 "member role organization-workspace-access in orgA grants "
                 "workspace:read on own object");

    /* ... but service accounts can still share their own workspaces */
    share_subject(&x, "u1", "organization-service-account",
                  RBAC_SHARE_SERVICE_ACCOUNTS);
    assert_allow(&x, &o, "share",
                 "member role organization-workspace-access in orgA grants "
                 "workspace:share on own object");

    /* none: an org-level negation stops everyone in the org */
    share_subject(&x, "u1", "organization-member", RBAC_SHARE_NONE);
    assert_deny(&x, &o, "share",
                "org role organization-member in orgA denies "
                "workspace:share");
    share_subject(&x, "u1", "organization-service-account", RBAC_SHARE_NONE);
    assert_deny(&x, &o, "share",
                "org role organization-service-account in orgA denies "
                "workspace:share");

    /* org admins' org-level share is blocked too in none mode */
    subj_init(&x, "u9");
    subj_org(&x, "orgA", builtin("organization-member", 0, RBAC_SHARE_NONE));
    subj_org(&x, "orgA", builtin("organization-admin", 0, RBAC_SHARE_NONE));
    assert_deny(&x, &o, "share",
                "org role organization-member in orgA denies "
                "workspace:share");

    /* group read depends on the mode */
    o = obj("group", "g1", "orgA", "");
    subj_init(&x, "u1");
    subj_org(&x, "orgA", builtin("organization-member", 0,
                                 RBAC_SHARE_EVERYONE));
    assert_allow(&x, &o, "read",
                 "org role organization-member in orgA grants group:read");
    subj_init(&x, "u1");
    subj_org(&x, "orgA", builtin("organization-member", 0,
                                 RBAC_SHARE_SERVICE_ACCOUNTS));
    assert_deny(&x, &o, "read", "no role or acl grants group:read");
}


static void
test_owner_exec_option(void **state)
{
    subj_t         x;
    rbac_object_t  o;

    o = obj("workspace", "ws1", "orgA", "u2");

    subj_init(&x, "u1");
    subj_site(&x, builtin("owner", RBAC_OPT_NO_OWNER_WORKSPACE_EXEC,
                          RBAC_SHARE_EVERYONE));
    assert_deny(&x, &o, "ssh", "no role or acl grants workspace:ssh");
    assert_allow(&x, &o, "stop", "site role owner grants workspace:stop");

    subj_init(&x, "u1");
    subj_site(&x, builtin("owner", 0, RBAC_SHARE_EVERYONE));
    assert_allow(&x, &o, "ssh", "site role owner grants workspace:ssh");
}


/* ---- status and deprecation ---- */

static void
test_status(void **state)
{
    subj_t         x;
    rbac_object_t  o;

    subj_init(&x, "u1");
    subj_site(&x, builtin("owner", 0, RBAC_SHARE_EVERYONE));
    o = obj("workspace", "ws1", "orgA", "u1");

    x.s.status = RBAC_STATUS_SUSPENDED;
    assert_deny(&x, &o, "read", "account suspended");

    x.s.status = RBAC_STATUS_DORMANT;
    assert_deny(&x, &o, "read", "account dormant");

    /* ACL grants do not survive it either */
    subj_init(&x, "u1");
    subj_org(&x, "orgA", NULL);
    {
        rbac_acl_entry_t  acl = { { "u1", 2 }, RBAC_AMASK_ALL };

        o.acl_users = &acl;
        o.nacl_users = 1;
        assert_allow(&x, &o, "read", "acl user u1 grants workspace:read");
        x.s.status = RBAC_STATUS_SUSPENDED;
        assert_deny(&x, &o, "read", "account suspended");
    }
}


static void
test_deprecated(void **state)
{
    subj_t            x;
    rbac_object_t     o;
    rbac_acl_entry_t  everyone = { { "orgA", 4 }, RBAC_AMASK_ALL };

    subj_init(&x, "u1");
    subj_site(&x, builtin("owner", 0, RBAC_SHARE_EVERYONE));
    o = obj("template", "t1", "orgA", "");
    o.deprecated = 1;
    o.deprecated_message = S("use v2");

    assert_deny(&x, &o, "use", "template deprecated: use v2");
    assert_allow(&x, &o, "read", "site role owner grants template:read");
    assert_allow(&x, &o, "update", "site role owner grants template:update");

    /* ACL use is refused too */
    subj_init(&x, "u2");
    subj_org(&x, "orgA", NULL);
    o.acl_groups = &everyone;
    o.nacl_groups = 1;
    assert_deny(&x, &o, "use", "template deprecated: use v2");

    /* not deprecated: the same ACL allows */
    o.deprecated = 0;
    assert_allow(&x, &o, "use", "acl Everyone of orgA grants template:use");

    /* no message */
    o.deprecated = 1;
    o.deprecated_message = S("");
    assert_deny(&x, &o, "use", "template deprecated");
}


/* ---- the decision record ---- */

static void
test_decision_fields(void **state)
{
    subj_t           x;
    rbac_object_t    o;
    rbac_decision_t  d;
    char             small[8];
    size_t           n;

    subj_init(&x, "u1");
    subj_org(&x, "orgA", builtin("organization-admin", 0,
                                 RBAC_SHARE_EVERYONE));
    o = obj("workspace", "ws1", "orgA", "u2");

    rbac_decide(&x.s, &o, RBAC_A_UPDATE, &d);
    assert_int_equal(d.allow, 1);
    assert_int_equal(d.by, RBAC_BY_ROLE);
    assert_int_equal(d.level, RBAC_LVL_ORG);
    assert_int_equal(d.negated, 0);
    assert_string_equal(d.role->name, "organization-admin");
    assert_true(rbac_str_eq_cstr(d.org, "orgA"));
    assert_int_equal(d.type, RBAC_T_WORKSPACE);
    assert_int_equal(d.action, RBAC_A_UPDATE);

    rbac_decide(&x.s, &o, RBAC_A_SSH, &d);
    assert_int_equal(d.allow, 0);
    assert_int_equal(d.by, RBAC_BY_NONE);

    /* the reason is truncated, NUL-terminated */
    rbac_decide(&x.s, &o, RBAC_A_UPDATE, &d);
    n = rbac_decision_reason(&d, &x.s, &o, small, sizeof(small));
    assert_int_equal(n, 7);
    assert_string_equal(small, "org rol");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup(test_site_level, reset),
        cmocka_unit_test_setup(test_user_level, reset),
        cmocka_unit_test_setup(test_org_level, reset),
        cmocka_unit_test_setup(test_member_level, reset),
        cmocka_unit_test_setup(test_site_negation_wins, reset),
        cmocka_unit_test_setup(test_site_positive_beats_lower_negations,
                               reset),
        cmocka_unit_test_setup(test_negation_within_level, reset),
        cmocka_unit_test_setup(test_org_negation_blocks_member, reset),
        cmocka_unit_test_setup(test_wildcards, reset),
        cmocka_unit_test_setup(test_acl_user, reset),
        cmocka_unit_test_setup(test_acl_group_and_everyone, reset),
        cmocka_unit_test_setup(test_acl_roles, reset),
        cmocka_unit_test_setup(test_scope_intersection, reset),
        cmocka_unit_test_setup(test_scope_org_levels, reset),
        cmocka_unit_test_setup(test_allow_lists, reset),
        cmocka_unit_test_setup(test_token_allow_list, reset),
        cmocka_unit_test_setup(test_any_org, reset),
        cmocka_unit_test_setup(test_sharing_modes, reset),
        cmocka_unit_test_setup(test_owner_exec_option, reset),
        cmocka_unit_test_setup(test_status, reset),
        cmocka_unit_test_setup(test_deprecated, reset),
        cmocka_unit_test_setup(test_decision_fields, reset),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
