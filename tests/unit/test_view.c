/*
 * test_view.c: the views the engine decides on: subjects built from user
 * records (implicit roles, org default roles, sharing variants, missing org
 * records, custom roles, names that resolve to nothing) and objects built
 * from object records (a dormant workspace loses its ACL).
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


/* ---- a small decision table behind the resolver ---- */

typedef struct {
    rbac_catalog_t   *cat;
    void             *orgs[3];      /* rbac_org_rec_t */
    void             *roles[3];     /* rbac_role_rec_t */
    int               org_calls;
    int               role_calls;
} table_t;

static const rbac_org_rec_t *
table_org(void *ud, rbac_str_t org)
{
    int                    i;
    table_t               *t = ud;
    const rbac_org_rec_t  *o;

    t->org_calls++;

    for (i = 0; i < 3; i++) {
        o = t->orgs[i];
        if (rbac_str_eq(rbac_ref(o, o->id), org)) {
            return o;
        }
    }

    return NULL;
}

static const rbac_role_t *
table_role(void *ud, rbac_str_t org, rbac_str_t name)
{
    int                     i;
    table_t                *t = ud;
    const rbac_role_rec_t  *r;

    t->role_calls++;

    for (i = 0; i < 3; i++) {
        r = t->roles[i];
        if (rbac_str_eq(rbac_ref(r, r->org), org)
            && rbac_str_eq_cstr(name, r->role.name))
        {
            return &r->role;
        }
    }

    return NULL;
}

static int
setup(void **state)
{
    rbac_rc_t   rc;
    rbac_err_t  err;
    table_t    *t;

    t = calloc(1, sizeof(*t));
    rc = rbac_catalog_load((const char *) rbac_builtin_catalog,
                           rbac_builtin_catalog_len, &rbac_malloc_allocator,
                           &t->cat, &err);
    assert_int_equal(rc, RBAC_OK);

    t->orgs[0] = testutil_parse_ok(RBAC_REC_ORG,
        "{\"id\":\"orgA\",\"default_org_member_roles\":"
        "[\"organization-workspace-access\",\"organization-auditor\"]}");
    t->orgs[1] = testutil_parse_ok(RBAC_REC_ORG,
        "{\"id\":\"orgN\",\"shareable_workspace_owners\":\"none\"}");
    t->orgs[2] = testutil_parse_ok(RBAC_REC_ORG,
        "{\"id\":\"orgS\",\"shareable_workspace_owners\":"
        "\"service_accounts\"}");

    t->roles[0] = testutil_parse_ok(RBAC_REC_ROLE,
        "{\"name\":\"team-lead\",\"organization_id\":\"orgA\","
        "\"organization_permissions\":[{\"resource_type\":\"template\","
        "\"action\":\"read\"}]}");
    t->roles[1] = testutil_parse_ok(RBAC_REC_SITEROLE,
        "{\"name\":\"health-check\",\"site_permissions\":"
        "[{\"resource_type\":\"deployment_stats\",\"action\":\"read\"}]}");
    /* the same name in another org: must not leak into orgA */
    t->roles[2] = testutil_parse_ok(RBAC_REC_ROLE,
        "{\"name\":\"ci\",\"organization_id\":\"orgN\"}");

    *state = t;

    return 0;
}

static int
teardown(void **state)
{
    int       i;
    table_t  *t = *state;

    for (i = 0; i < 3; i++) {
        free(t->orgs[i]);
        free(t->roles[i]);
    }

    rbac_catalog_free(t->cat, &rbac_malloc_allocator);
    free(t);

    return 0;
}

static rbac_resolver_t
resolver(table_t *t, unsigned options, int implicit)
{
    rbac_resolver_t  rs;

    memset(&rs, 0, sizeof(rs));
    rs.catalog = t->cat;
    rs.options = options;
    rs.implicit = implicit;
    rs.org = table_org;
    rs.custom_role = table_role;
    rs.ud = t;

    return rs;
}

static const rbac_role_t *
builtin(table_t *t, const char *name, unsigned options, rbac_share_t share)
{
    const rbac_role_t  *r;

    r = rbac_catalog_role(t->cat, S(name), options, share);
    assert_non_null(r);

    return r;
}

/* 1 if role r is among the n roles. */
static int
holds(const rbac_role_t *const *roles, size_t n, const rbac_role_t *r)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (roles[i] == r) {
            return 1;
        }
    }

    return 0;
}

static const rbac_subject_org_t *
org_of(const rbac_subject_t *s, const char *org)
{
    size_t  i;

    for (i = 0; i < s->norgs; i++) {
        if (rbac_str_eq_cstr(s->orgs[i].org, org)) {
            return &s->orgs[i];
        }
    }

    return NULL;
}

static void
build(table_t *t, const rbac_user_rec_t *u, unsigned options, int implicit,
    rbac_subject_t *s)
{
    rbac_rc_t        rc;
    rbac_resolver_t  rs;

    rs = resolver(t, options, implicit);
    rc = rbac_subject_build(u, &rs, &rbac_malloc_allocator, s);
    assert_int_equal(rc, RBAC_OK);
}


/* ---- subjects ---- */

static void
test_implicit_roles(void **state)
{
    table_t                   *t = *state;
    rbac_subject_t             s;
    rbac_user_rec_t           *u;
    const rbac_subject_org_t  *o;

    u = testutil_parse_ok(RBAC_REC_USER,
        "{\"id\":\"u1\",\"orgs\":{\"orgN\":[],\"orgS\":[]},"
        "\"groups\":[\"g1\",\"orgN\"],\"status\":\"suspended\"}");

    build(t, u, 0, 1, &s);

    assert_true(rbac_str_eq_cstr(s.id, "u1"));
    assert_int_equal(s.kind, RBAC_KIND_USER);
    assert_int_equal(s.status, RBAC_STATUS_SUSPENDED);
    assert_int_equal(s.ngroups, 2);
    assert_true(rbac_str_eq_cstr(s.groups[1], "orgN"));
    assert_null(s.scope);

    assert_int_equal(s.nsite_roles, 1);
    assert_ptr_equal(s.site_roles[0],
                     builtin(t, "member", 0, RBAC_SHARE_EVERYONE));

    /* organization-member, in each org's sharing variant */
    assert_int_equal(s.norgs, 2);
    o = org_of(&s, "orgN");
    assert_int_equal(o->nroles, 1);
    assert_ptr_equal(o->roles[0],
                     builtin(t, "organization-member", 0, RBAC_SHARE_NONE));
    o = org_of(&s, "orgS");
    assert_int_equal(o->nroles, 1);
    assert_ptr_equal(o->roles[0],
                     builtin(t, "organization-member", 0,
                             RBAC_SHARE_SERVICE_ACCOUNTS));
    rbac_subject_free(&s, &rbac_malloc_allocator);

    /* without `implicit` nothing is implied, membership stays */
    build(t, u, 0, 0, &s);
    assert_int_equal(s.nsite_roles, 0);
    assert_int_equal(s.norgs, 2);
    assert_int_equal(s.orgs[0].nroles, 0);
    assert_int_equal(s.orgs[1].nroles, 0);
    rbac_subject_free(&s, &rbac_malloc_allocator);
    free(u);

    /* a service account holds organization-service-account instead */
    u = testutil_parse_ok(RBAC_REC_USER,
                          "{\"id\":\"sa\",\"kind\":\"service_account\","
                          "\"orgs\":{\"orgS\":[]}}");
    build(t, u, RBAC_OPT_NO_WORKSPACE_SHARING, 1, &s);
    assert_int_equal(s.kind, RBAC_KIND_SERVICE_ACCOUNT);
    assert_int_equal(s.orgs[0].nroles, 1);
    assert_ptr_equal(s.orgs[0].roles[0],
                     builtin(t, "organization-service-account",
                             RBAC_OPT_NO_WORKSPACE_SHARING,
                             RBAC_SHARE_SERVICE_ACCOUNTS));
    assert_false(holds(s.orgs[0].roles, s.orgs[0].nroles,
                       builtin(t, "organization-member",
                               RBAC_OPT_NO_WORKSPACE_SHARING,
                               RBAC_SHARE_SERVICE_ACCOUNTS)));
    rbac_subject_free(&s, &rbac_malloc_allocator);
    free(u);
}


static void
test_defaults_and_dedup(void **state)
{
    table_t                   *t = *state;
    rbac_subject_t             s;
    rbac_user_rec_t           *u;
    const rbac_subject_org_t  *o;

    /* listed + default roles, each once; options select the variant */
    u = testutil_parse_ok(RBAC_REC_USER,
        "{\"id\":\"u1\",\"site_roles\":[\"member\",\"auditor\","
        "\"member\"],\"orgs\":{\"orgA\":[\"organization-auditor\","
        "\"organization-member\",\"organization-admin\","
        "\"organization-admin\"]}}");
    build(t, u, RBAC_OPT_NO_OWNER_WORKSPACE_EXEC, 1, &s);

    assert_int_equal(s.nsite_roles, 2);
    assert_ptr_equal(s.site_roles[0],
                     builtin(t, "member", RBAC_OPT_NO_OWNER_WORKSPACE_EXEC,
                             RBAC_SHARE_EVERYONE));
    assert_ptr_equal(s.site_roles[1],
                     builtin(t, "auditor", RBAC_OPT_NO_OWNER_WORKSPACE_EXEC,
                             RBAC_SHARE_EVERYONE));

    o = org_of(&s, "orgA");
    assert_int_equal(o->nroles, 4);
    assert_true(holds(o->roles, o->nroles,
                      builtin(t, "organization-workspace-access",
                              RBAC_OPT_NO_OWNER_WORKSPACE_EXEC,
                              RBAC_SHARE_EVERYONE)));
    assert_true(holds(o->roles, o->nroles,
                      builtin(t, "organization-admin",
                              RBAC_OPT_NO_OWNER_WORKSPACE_EXEC,
                              RBAC_SHARE_EVERYONE)));
    assert_true(holds(o->roles, o->nroles,
                      builtin(t, "organization-member",
                              RBAC_OPT_NO_OWNER_WORKSPACE_EXEC,
                              RBAC_SHARE_EVERYONE)));
    rbac_subject_free(&s, &rbac_malloc_allocator);
    free(u);
}


static void
test_missing_org_and_custom(void **state)
{
    table_t                   *t = *state;
    rbac_subject_t             s;
    rbac_user_rec_t           *u;
    const rbac_subject_org_t  *o;

    u = testutil_parse_ok(RBAC_REC_USER,
        "{\"id\":\"u1\",\"site_roles\":[\"health-check\","
        "\"organization-admin\",\"nope\",\"team-lead\"],"
        "\"orgs\":{\"ghost\":[\"organization-admin\",\"team-lead\"],"
        "\"orgA\":[\"team-lead\",\"owner\",\"ci\",\"retired\","
        "\"health-check\"]}}");
    build(t, u, 0, 1, &s);

    /* custom site role kept; an org role, an unknown name and an org
     * custom role listed as site roles resolve to nothing */
    assert_int_equal(s.nsite_roles, 2);
    assert_ptr_equal(s.site_roles[0], &((rbac_role_rec_t *) t->roles[1])->role);
    assert_ptr_equal(s.site_roles[1],
                     builtin(t, "member", 0, RBAC_SHARE_EVERYONE));

    /* an org without a record: membership kept, sharing everyone, no
     * defaults, and orgA's custom role does not apply there */
    o = org_of(&s, "ghost");
    assert_non_null(o);
    assert_int_equal(o->nroles, 2);
    assert_ptr_equal(o->roles[0],
                     builtin(t, "organization-admin", 0,
                             RBAC_SHARE_EVERYONE));
    assert_ptr_equal(o->roles[1],
                     builtin(t, "organization-member", 0,
                             RBAC_SHARE_EVERYONE));

    /* orgA: the custom org role, its defaults, organization-member; "owner"
     * (a site role), "ci" (orgN's), "retired" and a site custom role are
     * skipped */
    o = org_of(&s, "orgA");
    assert_int_equal(o->nroles, 4);
    assert_ptr_equal(o->roles[0], &((rbac_role_rec_t *) t->roles[0])->role);
    assert_false(holds(o->roles, o->nroles,
                       builtin(t, "owner", 0, RBAC_SHARE_EVERYONE)));
    assert_false(holds(o->roles, o->nroles,
                       &((rbac_role_rec_t *) t->roles[2])->role));
    assert_true(holds(o->roles, o->nroles,
                      builtin(t, "organization-auditor", 0,
                              RBAC_SHARE_EVERYONE)));

    rbac_subject_free(&s, &rbac_malloc_allocator);
    free(u);
}


static void
test_subject_decides(void **state)
{
    table_t          *t = *state;
    rbac_object_t     o;
    rbac_subject_t    s;
    rbac_decision_t   d;
    rbac_user_rec_t  *u;

    u = testutil_parse_ok(RBAC_REC_USER,
                          "{\"id\":\"u1\",\"orgs\":{\"orgN\":[],\"orgA\":[]}}");

    /* the implicit organization-member lets a member read its org */
    memset(&o, 0, sizeof(o));
    o.type = RBAC_T_ORGANIZATION;
    o.type_name = S("organization");
    o.id = S("orgN");
    o.org = S("orgN");

    build(t, u, 0, 1, &s);
    rbac_decide(&s, &o, RBAC_A_READ, &d);
    assert_true(d.allow);
    rbac_subject_free(&s, &rbac_malloc_allocator);

    build(t, u, 0, 0, &s);
    rbac_decide(&s, &o, RBAC_A_READ, &d);
    assert_false(d.allow);

    /* orgA's default organization-workspace-access lets the owner read its
     * workspace there, even without implicit roles; orgN has no defaults */
    o.type = RBAC_T_WORKSPACE;
    o.type_name = S("workspace");
    o.id = S("w1");
    o.org = S("orgA");
    o.owner = S("u1");
    rbac_decide(&s, &o, RBAC_A_READ, &d);
    assert_true(d.allow);

    o.org = S("orgN");
    rbac_decide(&s, &o, RBAC_A_READ, &d);
    assert_false(d.allow);

    rbac_subject_free(&s, &rbac_malloc_allocator);
    free(u);
}


static void
test_subject_alloc_failures(void **state)
{
    long               i;
    table_t           *t = *state;
    rbac_rc_t          rc;
    rbac_subject_t     s;
    rbac_user_rec_t   *u;
    rbac_resolver_t    rs;
    rbac_allocator_t   a;
    testutil_alloc_t   f;

    u = testutil_parse_ok(RBAC_REC_USER,
                          "{\"id\":\"u1\",\"site_roles\":[\"owner\"],"
                          "\"orgs\":{\"orgA\":[]},\"groups\":[\"g\"]}");
    rs = resolver(t, 0, 1);

    for (i = 1; ; i++) {
        testutil_alloc_init(&f, &a, i);
        rc = rbac_subject_build(u, &rs, &a, &s);

        if (rc == RBAC_OK) {
            break;
        }

        assert_int_equal(rc, RBAC_ENOMEM);
        assert_int_equal(f.live, 0);
        assert_int_equal(s.norgs, 0);
    }

    assert_int_equal(i, 3);
    assert_int_equal(s.nsite_roles, 2);
    rbac_subject_free(&s, &a);
    assert_int_equal(f.live, 0);
    free(u);
}


/* ---- objects ---- */

static void
test_object_view(void **state)
{
    rbac_rc_t          rc;
    rbac_object_t      o;
    testutil_alloc_t   f;
    rbac_obj_rec_t    *rec;
    rbac_allocator_t   a;
    static const char  json[] =
        "{\"type\":\"workspace\",\"id\":\"w1\",\"org\":\"orgA\","
        "\"owner\":\"u1\",\"acl_users\":{\"u2\":\"use\"},"
        "\"acl_groups\":{\"g1\":[\"read\"],\"orgA\":\"admin\"}%s}";
    char               doc[sizeof(json) + 64];

    snprintf(doc, sizeof(doc), json, "");
    rec = testutil_parse_ok(RBAC_REC_OBJ, doc);

    rc = rbac_object_view(rec, &rbac_malloc_allocator, &o);
    assert_int_equal(rc, RBAC_OK);
    assert_int_equal(o.type, RBAC_T_WORKSPACE);
    assert_true(rbac_str_eq_cstr(o.type_name, "workspace"));
    assert_true(rbac_str_eq_cstr(o.id, "w1"));
    assert_true(rbac_str_eq_cstr(o.org, "orgA"));
    assert_true(rbac_str_eq_cstr(o.owner, "u1"));
    assert_int_equal(o.nacl_users, 1);
    assert_true(rbac_str_eq_cstr(o.acl_users[0].id, "u2"));
    assert_int_equal(o.acl_users[0].actions,
                     rbac_acl_role_actions(RBAC_T_WORKSPACE, S("use")));
    assert_int_equal(o.nacl_groups, 2);
    assert_int_equal(o.acl_groups[0].actions, RBAC_AM(READ));
    assert_true(rbac_str_eq_cstr(o.acl_groups[1].id, "orgA"));
    assert_int_equal(o.deprecated, 0);
    rbac_object_view_free(&o, &rbac_malloc_allocator);

    /* allocation failure */
    testutil_alloc_init(&f, &a, 1);
    rc = rbac_object_view(rec, &a, &o);
    assert_int_equal(rc, RBAC_ENOMEM);
    free(rec);

    /* dormant: another type, no ACL, nothing allocated */
    snprintf(doc, sizeof(doc), json,
             ",\"dormant\":true,\"deprecated\":{\"message\":\"m\"}");
    rec = testutil_parse_ok(RBAC_REC_OBJ, doc);
    testutil_alloc_init(&f, &a, 1);
    rc = rbac_object_view(rec, &a, &o);
    assert_int_equal(rc, RBAC_OK);
    assert_int_equal(o.type, RBAC_T_WORKSPACE_DORMANT);
    assert_true(rbac_str_eq_cstr(o.type_name, "workspace_dormant"));
    assert_int_equal(o.nacl_users, 0);
    assert_int_equal(o.nacl_groups, 0);
    assert_null(o.acl_users);
    assert_null(o.acl_groups);
    assert_true(rbac_str_eq_cstr(o.owner, "u1"));
    assert_int_equal(o.deprecated, 1);
    assert_true(rbac_str_eq_cstr(o.deprecated_message, "m"));
    assert_int_equal(f.calls, 0);
    free(rec);

    /* a deprecated template keeps its fields */
    rec = testutil_parse_ok(RBAC_REC_OBJ,
        "{\"type\":\"template\",\"id\":\"t1\",\"org\":\"o\","
        "\"dormant\":true,\"deprecated\":{\"message\":\"old\","
        "\"link\":\"https://l\"}}");
    rc = rbac_object_view(rec, &rbac_malloc_allocator, &o);
    assert_int_equal(rc, RBAC_OK);
    assert_int_equal(o.type, RBAC_T_TEMPLATE);
    assert_int_equal(o.deprecated, 1);
    assert_true(rbac_str_eq_cstr(o.deprecated_link, "https://l"));
    rbac_object_view_free(&o, &rbac_malloc_allocator);
    free(rec);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_implicit_roles),
        cmocka_unit_test(test_defaults_and_dedup),
        cmocka_unit_test(test_missing_org_and_custom),
        cmocka_unit_test(test_subject_decides),
        cmocka_unit_test(test_subject_alloc_failures),
        cmocka_unit_test(test_object_view),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
