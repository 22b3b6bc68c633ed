/*
 * test_request.c: decision requests (docs/rbacctl.md §5) from JSON to
 * decision:
 * role resolution (request custom roles, catalog variants per option and
 * per org sharing mode, unknown names), scopes, ACL values, deprecation,
 * unknown names, field errors, the bounds of docs/security.md §7, and every
 * allocation failing in turn (ours and cJSON's).
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
#include "rbac_request.h"
#include "testutil.h"


static rbac_catalog_t  *cat;
static char             reason[256];


static int
setup(void **state)
{
    rbac_err_t  err;

    return rbac_catalog_load((const char *) rbac_builtin_catalog,
                             rbac_builtin_catalog_len, &rbac_malloc_allocator,
                             &cat, &err) == RBAC_OK ? 0 : -1;
}


static int
teardown(void **state)
{
    rbac_catalog_free(cat, &rbac_malloc_allocator);
    return 0;
}


static rbac_request_t *
parse(const char *json)
{
    rbac_rc_t        rc;
    rbac_err_t       err;
    rbac_request_t  *req;

    memset(&err, 0, sizeof(err));
    rc = rbac_request_parse(json, strlen(json), cat, &rbac_malloc_allocator,
                            &req, &err);
    if (rc != RBAC_OK) {
        fprintf(stderr, "parse: %s\n", err.msg);
    }

    assert_int_equal(rc, RBAC_OK);
    assert_non_null(req);

    return req;
}


/* Parses and decides; returns allow, leaves the reason in `reason`. */
static int
eval(const char *json)
{
    int               allow;
    rbac_request_t   *req;
    rbac_decision_t   d;

    req = parse(json);
    rbac_decide(&req->subject, &req->object, req->action, &d);
    rbac_decision_reason(&d, &req->subject, &req->object, reason,
                         sizeof(reason));
    allow = d.allow;
    rbac_request_free(req, &rbac_malloc_allocator);

    return allow;
}


static void
fails(const char *json, rbac_rc_t want, const char *msg)
{
    rbac_rc_t        rc;
    rbac_err_t       err;
    rbac_request_t  *req;

    memset(&err, 0, sizeof(err));
    req = (rbac_request_t *) &err;     /* must be reset to NULL */
    rc = rbac_request_parse(json, strlen(json), cat, &rbac_malloc_allocator,
                            &req, &err);
    assert_null(req);

    if (rc != want || (msg != NULL && strcmp(err.msg, msg) != 0)) {
        fprintf(stderr, "rc %d (%s), want %d (%s)\n", rc, err.msg, want,
                msg != NULL ? msg : "");
    }

    assert_int_equal(rc, want);

    if (msg != NULL) {
        assert_string_equal(err.msg, msg);
    }
}


/* A request, whether it is allowed, and the reason (NULL: not checked). */
typedef struct {
    const char  *json;
    int          allow;
    const char  *reason;
} eval_case_t;

#define assert_evals(cases)                                                   \
    assert_evals_n(cases, sizeof(cases) / sizeof((cases)[0]))

static void
assert_evals_n(const eval_case_t *c, size_t n)
{
    int     allow;
    size_t  i;

    for (i = 0; i < n; i++) {
        allow = eval(c[i].json);
        if ((allow != 0) != c[i].allow) {
            fprintf(stderr, "case %zu: allow %d, want %d: %s\n", i, allow,
                    c[i].allow, c[i].json);
        }

        if (c[i].allow) {
            assert_true(allow);
        } else {
            assert_false(allow);
        }

        if (c[i].reason != NULL) {
            assert_string_equal(reason, c[i].reason);
        }
    }
}


/* A request refused, with its code and message. */
typedef struct {
    const char  *json;
    rbac_rc_t    rc;
    const char  *msg;
} fail_case_t;


#define SUBJ(roles, orgs)                                                     \
    "\"subject\":{\"id\":\"u1\",\"site_roles\":" roles ",\"orgs\":" orgs      \
    ",\"groups\":[],\"scope\":\"all\"}"

#define OBJ(type, id, org, owner)                                             \
    "\"object\":{\"type\":\"" type "\",\"id\":\"" id "\",\"org\":\"" org      \
    "\",\"owner\":\"" owner "\",\"acl_users\":{},\"acl_groups\":{}}"


/* ---- the bundle ---- */

static void
test_fields(void **state)
{
    rbac_request_t  *req;

    req = parse("{\"name\":\"n1\",\"subject\":{\"id\":\"u1\","
                "\"kind\":\"service_account\",\"status\":\"dormant\","
                "\"site_roles\":[\"member\",\"nope\"],"
                "\"orgs\":{\"orgA\":[],\"orgB\":[\"organization-admin\"]},"
                "\"groups\":[\"g1\",\"g2\"],\"type\":\"db_purge\"},"
                "\"object\":{\"type\":\"workspace\",\"id\":\"w\","
                "\"org\":\"orgB\",\"owner\":\"u2\","
                "\"acl_users\":{\"u1\":\"use\",\"u3\":[\"read\",\"bogus\"]},"
                "\"acl_groups\":{\"g1\":[\"*\"]},"
                "\"deprecated\":{\"message\":\"m\",\"link\":\"l\"}},"
                "\"action\":\"ssh\",\"allow\":false,\"label\":\"x\","
                "\"source\":\"ignored\"}");

    assert_string_equal(req->name.data, "n1");
    assert_true(rbac_str_eq_cstr(req->subject.id, "u1"));
    assert_int_equal(req->subject.kind, RBAC_KIND_SERVICE_ACCOUNT);
    assert_int_equal(req->subject.status, RBAC_STATUS_DORMANT);

    /* unknown role names contribute nothing */
    assert_int_equal(req->subject.nsite_roles, 1);
    assert_string_equal(req->subject.site_roles[0]->name, "member");

    /* an org with no roles is still a membership */
    assert_int_equal(req->subject.norgs, 2);
    assert_true(rbac_str_eq_cstr(req->subject.orgs[0].org, "orgA"));
    assert_int_equal(req->subject.orgs[0].nroles, 0);
    assert_int_equal(req->subject.orgs[1].nroles, 1);

    assert_int_equal(req->subject.ngroups, 2);
    assert_true(rbac_str_eq_cstr(req->subject.groups[1], "g2"));
    assert_null(req->subject.scope);

    assert_int_equal(req->object.type, RBAC_T_WORKSPACE);
    assert_true(rbac_str_eq_cstr(req->object.owner, "u2"));
    assert_int_equal(req->object.nacl_users, 2);
    assert_int_equal(req->object.acl_users[0].actions,
                     RBAC_AM(READ) | RBAC_AM(SSH) | RBAC_AM(START)
                     | RBAC_AM(STOP) | RBAC_AM(APPLICATION_CONNECT));
    assert_int_equal(req->object.acl_users[1].actions, RBAC_AM(READ));
    assert_int_equal(req->object.acl_groups[0].actions, RBAC_AMASK_ALL);
    assert_int_equal(req->object.deprecated, 1);
    assert_true(rbac_str_eq_cstr(req->object.deprecated_message, "m"));
    assert_true(rbac_str_eq_cstr(req->object.deprecated_link, "l"));

    assert_int_equal(req->action, RBAC_A_SSH);
    assert_int_equal(req->has_allow, 1);
    assert_int_equal(req->allow, 0);

    rbac_request_free(req, &rbac_malloc_allocator);

    /* defaults */
    req = parse("{\"subject\":{},\"object\":{\"type\":\"bogus_type\"},"
                "\"action\":\"fly\"}");
    assert_string_equal(req->name.data, "");
    assert_int_equal(req->subject.kind, RBAC_KIND_USER);
    assert_int_equal(req->subject.status, RBAC_STATUS_ACTIVE);
    assert_int_equal(req->object.type, RBAC_T_OTHER);
    assert_true(rbac_str_eq_cstr(req->object.type_name, "bogus_type"));
    assert_int_equal(req->object.org.len, 0);
    assert_int_equal(req->action, RBAC_A_OTHER);
    assert_true(rbac_str_eq_cstr(req->action_name, "fly"));
    assert_int_equal(req->has_allow, 0);
    rbac_request_free(req, &rbac_malloc_allocator);

    rbac_request_free(NULL, &rbac_malloc_allocator);
}


static void
test_unknown_names_only_match_wildcards(void **state)
{
    static const eval_case_t  cases[] = {
        /* an unknown action: only "*" matches */
        { "{" SUBJ("[\"owner\"]", "{}") ","
          OBJ("workspace", "w", "orgA", "u2")
          ",\"action\":\"fly\"}",
          0, NULL },
        { "{" SUBJ("[\"all\"]", "{}") ","
          OBJ("workspace", "w", "orgA", "u2")
          ",\"action\":\"fly\",\"custom_roles\":{\"all\":"
          "{\"site\":[{\"resource_type\":\"*\",\"action\":\"*\"}]}"
          "}}",
          1, "site role all grants workspace:other" },

        /*
         * an unknown type: only "*" matches; a perm naming it matches
         * nothing
         */
        { "{" SUBJ("[\"all\"]", "{}") ","
          OBJ("random", "w", "", "")
          ",\"action\":\"read\",\"custom_roles\":{\"all\":"
          "{\"site\":[{\"resource_type\":\"*\",\"action\":\"read\"}"
          "]}}}",
          1, "site role all grants random:read" },
        { "{" SUBJ("[\"r\"]", "{}") ","
          OBJ("random", "w", "", "")
          ",\"action\":\"read\",\"custom_roles\":{\"r\":"
          "{\"site\":[{\"resource_type\":\"random\","
          "\"action\":\"read\"}]}}}",
          0, NULL },
    };

    assert_evals(cases);
}


/* ---- roles ---- */

static void
test_custom_roles(void **state)
{
    static const eval_case_t  cases[] = {
        /* request custom roles come first, even over built-in names */
        { "{" SUBJ("[\"owner\"]", "{}") ","
          OBJ("template", "t", "orgA", "")
          ",\"action\":\"read\",\"custom_roles\":{\"owner\":"
          "{\"site\":[{\"resource_type\":\"file\","
          "\"action\":\"read\"}]}}}",
          0, NULL },

        /* negation and wildcards are accepted; site negation wins */
        { "{" SUBJ("[\"owner\",\"deny-all\"]", "{}") ","
          OBJ("template", "t", "orgA", "")
          ",\"action\":\"read\",\"custom_roles\":{\"deny-all\":"
          "{\"site\":[{\"negate\":true,\"resource_type\":\"*\","
          "\"action\":\"*\"}]}}}",
          0, "site role deny-all denies template:read" },

        /* in site_roles only the site and user parts count */
        { "{" SUBJ("[\"mixed\"]", "{\"orgA\":[]}") ","
          OBJ("template", "t", "orgA", "")
          ",\"action\":\"read\",\"custom_roles\":{\"mixed\":"
          "{\"org\":[{\"resource_type\":\"template\","
          "\"action\":\"read\"}]}}}",
          0, NULL },

        /* under an org: org part there, user part everywhere */
        { "{" SUBJ("[]", "{\"orgA\":[\"ro\"]}") ","
          OBJ("template", "t", "orgA", "")
          ",\"action\":\"read\",\"custom_roles\":{\"ro\":"
          "{\"user\":[{\"resource_type\":\"*\",\"action\":\"read\"}"
          "],\"org\":[{\"resource_type\":\"*\",\"action\":\"read\"}"
          "]}}}",
          1, "org role ro in orgA grants template:read" },
        { "{" SUBJ("[]", "{\"orgA\":[\"ro\"]}") ","
          OBJ("file", "f", "", "u1")
          ",\"action\":\"read\",\"custom_roles\":{\"ro\":"
          "{\"user\":[{\"resource_type\":\"*\",\"action\":\"read\"}"
          "],\"org\":[{\"resource_type\":\"*\",\"action\":\"read\"}"
          "]}}}",
          1, "user role ro grants file:read on own object" },
        { "{" SUBJ("[]", "{\"orgA\":[\"ro\"]}") ","
          OBJ("template", "t", "orgB", "")
          ",\"action\":\"read\",\"custom_roles\":{\"ro\":"
          "{\"org\":[{\"resource_type\":\"*\",\"action\":\"read\"}"
          "]}}}",
          0, NULL },
    };

    assert_evals(cases);
}


/* A member of orgA sharing u1's workspace, with org's sharing mode. */
#define SHARE(org, mode)                                                      \
    "{" SUBJ("[\"member\"]", "{\"orgA\":[\"organization-member\","            \
             "\"organization-workspace-access\"]}")                           \
    "," OBJ("workspace", "w", "orgA", "u1")                                   \
    ",\"action\":\"share\",\"org_settings\":{\"" org "\":"                    \
    "{\"shareable_workspace_owners\":\"" mode "\"}}}"

static void
test_sharing_and_options(void **state)
{
    static const eval_case_t  cases[] = {
        { SHARE("orgA", "everyone"), 1, NULL },
        { SHARE("orgA", "service_accounts"), 0, NULL },
        { SHARE("orgA", "none"),
          0, "org role organization-member in orgA denies workspace:share" },

        /* the default mode is everyone; other orgs' settings do not apply */
        { SHARE("orgB", "none"), 1, NULL },

        /* deployment options pick the catalog variant */
        { "{" SUBJ("[\"member\",\"owner\"]", "{}") ","
          OBJ("workspace", "w", "orgA", "u2")
          ",\"action\":\"ssh\",\"options\":"
          "{\"no_owner_workspace_exec\":true}}",
          0, NULL },
        { "{" SUBJ("[\"member\",\"owner\"]", "{}") ","
          OBJ("workspace", "w", "orgA", "u2")
          ",\"action\":\"ssh\",\"options\":"
          "{\"no_owner_workspace_exec\":false}}",
          1, NULL },
        { "{" SUBJ("[\"member\",\"owner\"]", "{}") ","
          OBJ("workspace", "w", "orgA", "u2")
          ",\"action\":\"share\",\"options\":"
          "{\"no_workspace_sharing\":true}}",
          0, "site role member denies workspace:share" },
    };

    assert_evals(cases);
}


/* ---- scopes ---- */

static void
test_scopes(void **state)
{
    rbac_request_t  *req;

    static const eval_case_t  cases[] = {
        { "{\"subject\":{\"id\":\"u1\",\"site_roles\":"
          "[\"owner\"],\"scope\":\"application_connect\"},"
          OBJ("workspace", "w", "orgA", "u2")
          ",\"action\":\"read\"}",
          0, "scope application_connect does not grant "
             "workspace:read" },

        /* a list of scopes is their union */
        { "{\"subject\":{\"id\":\"u1\",\"site_roles\":"
          "[\"owner\"],\"scope\":[\"application_connect\","
          "\"workspace:read\"]},"
          OBJ("workspace", "w", "orgA", "u2")
          ",\"action\":\"read\"}",
          1, NULL },

        /* an empty allow list allows nothing */
        { "{\"subject\":{\"id\":\"u1\",\"site_roles\":"
          "[\"owner\"],\"scope\":{\"name\":\"s\",\"site\":"
          "[{\"resource_type\":\"*\",\"action\":\"*\"}],"
          "\"allow_list\":[]}},"
          OBJ("workspace", "w", "orgA", "u2")
          ",\"action\":\"read\"}",
          0, "workspace w not in the scope allow list" },

        /* allow-list entries: type and id, "*" for either, "" for none */
        { "{\"subject\":{\"id\":\"u1\",\"site_roles\":"
          "[\"owner\"],\"scope\":{\"name\":\"s\",\"site\":"
          "[{\"resource_type\":\"*\",\"action\":\"*\"}],"
          "\"allow_list\":[{\"type\":\"template\",\"id\":\"*\"},"
          "{\"type\":\"workspace\",\"id\":\"\"}]}},"
          OBJ("workspace", "", "orgA", "*")
          ",\"action\":\"create\"}",
          1, NULL },
        { "{\"subject\":{\"id\":\"u1\",\"site_roles\":"
          "[\"owner\"],\"scope\":{\"name\":\"s\",\"site\":"
          "[{\"resource_type\":\"*\",\"action\":\"*\"}],"
          "\"allow_list\":[{\"type\":\"template\",\"id\":\"*\"},"
          "{\"type\":\"workspace\",\"id\":\"\"}]}},"
          OBJ("workspace", "w2", "orgA", "u2")
          ",\"action\":\"read\"}",
          0, NULL },
    };

    assert_evals(cases);

    /* scope object: absent allow_list = everything */
    req = parse("{\"subject\":{\"id\":\"u1\",\"scope\":{\"name\":\"s\","
                "\"site\":[{\"resource_type\":\"workspace\","
                "\"action\":\"read\"}],\"orgs\":{\"orgA\":{\"org\":"
                "[{\"resource_type\":\"template\",\"action\":\"read\"}]}}}},"
                OBJ("workspace", "w", "orgA", "u2") ",\"action\":\"read\"}");
    assert_non_null(req->subject.scope);
    assert_string_equal(req->subject.scope->name, "s");
    assert_int_equal(req->subject.scope->nallow, 1);
    assert_true(req->subject.scope->allow[0].any_type);
    assert_true(req->subject.scope->allow[0].any_id);
    assert_int_equal(req->subject.scope->norgs, 1);
    assert_string_equal(req->subject.scope->orgs[0].org, "orgA");
    rbac_request_free(req, &rbac_malloc_allocator);

    /* "all" means everything even without a catalog */
    {
        rbac_rc_t         rc;
        rbac_err_t        e;
        rbac_decision_t   d;
        const char       *j;

        j = "{\"subject\":{\"id\":\"u1\",\"site_roles\":[\"r\"],"
            "\"scope\":\"all\"},\"object\":{\"type\":\"file\"},"
            "\"action\":\"read\",\"custom_roles\":{\"r\":{\"site\":"
            "[{\"resource_type\":\"file\",\"action\":\"read\"}]}}}";
        rc = rbac_request_parse(j, strlen(j), NULL, &rbac_malloc_allocator,
                                &req, &e);
        assert_int_equal(rc, RBAC_OK);
        assert_non_null(req->subject.scope);
        rbac_decide(&req->subject, &req->object, req->action, &d);
        assert_int_equal(d.allow, 1);
        rbac_request_free(req, &rbac_malloc_allocator);

        j = "{\"subject\":{\"scope\":\"application_connect\"},"
            "\"object\":{\"type\":\"file\"},\"action\":\"read\"}";
        rc = rbac_request_parse(j, strlen(j), NULL, &rbac_malloc_allocator,
                                &req, &e);
        assert_int_equal(rc, RBAC_EUNKNOWN);
        assert_null(req);
    }

    /* no scope and an empty list of scopes mean all */
    req = parse("{\"subject\":{\"id\":\"u1\",\"scope\":[]},"
                OBJ("workspace", "w", "orgA", "u2") ",\"action\":\"read\"}");
    assert_null(req->subject.scope);
    rbac_request_free(req, &rbac_malloc_allocator);
}


/* ---- object details ---- */

static void
test_acl_and_deprecated(void **state)
{
    static const eval_case_t  cases[] = {
        { "{" SUBJ("[]", "{\"orgA\":[]}") ","
          "\"object\":{\"type\":\"workspace\",\"id\":\"w\","
          "\"org\":\"orgA\",\"owner\":\"u2\",\"acl_users\":"
          "{\"u1\":\"admin\"}},\"action\":\"share\"}",
          1, "acl user u1 grants workspace:share" },
        { "{" SUBJ("[]", "{\"orgA\":[]}") ","
          "\"object\":{\"type\":\"workspace\",\"id\":\"w\","
          "\"org\":\"orgA\",\"owner\":\"u2\",\"acl_users\":"
          "{\"u1\":\"admin\"}},\"action\":\"delete\"}",
          0, NULL },
        { "{\"subject\":{\"id\":\"u1\",\"orgs\":{\"orgA\":[]},"
          "\"groups\":[\"g7\"]},"
          "\"object\":{\"type\":\"template\",\"id\":\"t\","
          "\"org\":\"orgA\",\"acl_groups\":{\"g7\":\"use\"}},"
          "\"action\":\"use\"}",
          1, "acl group g7 grants template:use" },
        { "{\"subject\":{\"id\":\"u1\",\"site_roles\":"
          "[\"owner\"]},\"object\":{\"type\":\"template\","
          "\"id\":\"t\",\"org\":\"orgA\",\"deprecated\":true},"
          "\"action\":\"use\"}",
          0, "template deprecated" },
        { "{\"subject\":{\"id\":\"u1\",\"site_roles\":"
          "[\"owner\"]},\"object\":{\"type\":\"template\","
          "\"id\":\"t\",\"org\":\"orgA\",\"deprecated\":"
          "{\"message\":\"moved to t2\",\"link\":\"/t2\"}},"
          "\"action\":\"use\"}",
          0, "template deprecated: moved to t2" },
        { "{\"subject\":{\"id\":\"u1\",\"site_roles\":"
          "[\"owner\"]},\"object\":{\"type\":\"template\","
          "\"id\":\"t\",\"org\":\"orgA\",\"deprecated\":false},"
          "\"action\":\"use\"}",
          1, NULL },
        { "{\"subject\":{\"id\":\"u1\",\"site_roles\":"
          "[\"owner\"],\"status\":\"suspended\"},"
          OBJ("workspace", "w", "orgA", "u1")
          ",\"action\":\"read\"}",
          0, "account suspended" },

        /* any_org: the object's org is dropped, as AnyOrganization() does */
        { "{" SUBJ("[]", "{\"orgB\":[\"organization-admin\"]}")
          ",\"object\":{\"type\":\"template\",\"org\":\"orgA\","
          "\"any_org\":true},\"action\":\"create\"}",
          1, "org role organization-admin in orgB grants "
             "template:create" },
    };

    assert_evals(cases);
}


/* ---- errors ---- */

static void
test_errors(void **state)
{
    size_t  i;

    static const fail_case_t  cases[] = {
        { "",
          RBAC_EPARSE, "request: not valid JSON" },
        { "{\"subject\":",
          RBAC_EPARSE, "request: not valid JSON" },
        { "[1]",
          RBAC_EPARSE, "request: not a JSON object" },
        { "{" OBJ("workspace", "", "", "") ",\"action\":\"read\"}",
          RBAC_EINVAL, "subject: missing" },
        { "{\"subject\":[]," OBJ("workspace", "", "", "")
          ",\"action\":\"read\"}",
          RBAC_EINVAL, "subject: not an object" },
        { "{\"subject\":{}" ",\"action\":\"read\"}",
          RBAC_EINVAL, "object: missing" },
        { "{\"subject\":{},\"object\":{},\"action\":\"read\"}",
          RBAC_EINVAL, "object.type: missing" },
        { "{\"subject\":{},\"object\":{\"type\":3},\"action\":\"read\"}",
          RBAC_EINVAL, "object.type: not a string" },
        { "{\"subject\":{}," OBJ("workspace", "", "", "") "}",
          RBAC_EINVAL, "action: missing" },
        { "{\"subject\":{}," OBJ("workspace", "", "", "")
          ",\"action\":[]}",
          RBAC_EINVAL, "action: not a string" },
        { "{\"subject\":{\"id\":1}," OBJ("workspace", "", "", "")
          ",\"action\":\"read\"}",
          RBAC_EINVAL, "subject.id: not a string" },
        { "{\"subject\":{\"kind\":\"robot\"}," OBJ("workspace", "", "", "")
          ",\"action\":\"read\"}",
          RBAC_EINVAL, "subject.kind: unknown value \"robot\"" },
        { "{\"subject\":{\"status\":\"gone\"},"
          OBJ("workspace", "", "", "") ",\"action\":\"read\"}",
          RBAC_EINVAL, "subject.status: unknown value \"gone\"" },
        { "{\"subject\":{\"orgs\":{\"orgA\":[\"a\",2]}},"
          OBJ("workspace", "", "", "") ",\"action\":\"read\"}",
          RBAC_EINVAL, "subject.orgs.orgA[1]: not a string" },
        { "{\"subject\":{\"orgs\":{\"orgA\":[],\"orgA\":[]}},"
          OBJ("workspace", "", "", "") ",\"action\":\"read\"}",
          RBAC_EINVAL, "subject.orgs.orgA: duplicate org" },
        { "{\"subject\":{\"site_roles\":\"owner\"},"
          OBJ("workspace", "", "", "") ",\"action\":\"read\"}",
          RBAC_EINVAL, "subject.site_roles: not an array" },
        { "{\"subject\":{\"groups\":[true]},"
          OBJ("workspace", "", "", "") ",\"action\":\"read\"}",
          RBAC_EINVAL, "subject.groups[0]: not a string" },
        { "{\"subject\":{\"scope\":\"everything\"},"
          OBJ("workspace", "", "", "") ",\"action\":\"read\"}",
          RBAC_EUNKNOWN, "subject.scope: unknown scope \"everything\"" },
        { "{\"subject\":{\"scope\":[\"all\",\"x:y\"]},"
          OBJ("workspace", "", "", "") ",\"action\":\"read\"}",
          RBAC_EUNKNOWN, "subject.scope[1]: unknown scope \"x:y\"" },
        { "{\"subject\":{\"scope\":5}," OBJ("workspace", "", "", "")
          ",\"action\":\"read\"}",
          RBAC_EINVAL, "subject.scope: not a string, array or object" },
        { "{\"subject\":{\"scope\":{\"allow_list\":[{\"type\":\"*\"}]}},"
          OBJ("workspace", "", "", "") ",\"action\":\"read\"}",
          RBAC_EINVAL,
          "subject.scope.allow_list[0]: type and id must be strings" },
        { "{\"subject\":{\"scope\":{\"site\":[{\"resource_type\":\"*\"}]}},"
          OBJ("workspace", "", "", "") ",\"action\":\"read\"}",
          RBAC_EINVAL,
          "subject.scope.site[0]: resource_type and action must be strings" },
        { "{\"subject\":{},\"object\":{\"type\":\"workspace\","
          "\"acl_users\":{\"u1\":\"owner\"}},\"action\":\"read\"}",
          RBAC_EUNKNOWN,
          "object.acl_users.u1: \"owner\" is not a role of workspace ACLs" },
        { "{\"subject\":{},\"object\":{\"type\":\"workspace\","
          "\"acl_groups\":{\"g\":[1]}},\"action\":\"read\"}",
          RBAC_EINVAL, "object.acl_groups.g: actions must be strings" },
        { "{\"subject\":{},\"object\":{\"type\":\"workspace\","
          "\"acl_groups\":{\"g\":5}},\"action\":\"read\"}",
          RBAC_EINVAL,
          "object.acl_groups.g: not an action list or a role name" },
        { "{\"subject\":{},\"object\":{\"type\":\"template\","
          "\"deprecated\":\"yes\"},\"action\":\"use\"}",
          RBAC_EINVAL, "object.deprecated: not an object or a boolean" },
        { "{\"subject\":{},\"object\":{\"type\":\"template\","
          "\"any_org\":1},\"action\":\"use\"}",
          RBAC_EINVAL, "object.any_org: not a boolean" },
        { "{\"subject\":{}," OBJ("workspace", "", "", "")
          ",\"action\":\"read\",\"options\":{\"no_chat_sharing\":\"y\"}}",
          RBAC_EINVAL, "options.no_chat_sharing: not a boolean" },
        { "{\"subject\":{}," OBJ("workspace", "", "", "")
          ",\"action\":\"read\",\"org_settings\":{\"o\":"
          "{\"shareable_workspace_owners\":\"all\"}}}",
          RBAC_EINVAL,
          "org_settings.o.shareable_workspace_owners: \"all\" is not "
          "everyone, service_accounts or none" },
        { "{\"subject\":{}," OBJ("workspace", "", "", "")
          ",\"action\":\"read\",\"custom_roles\":{\"r\":{\"org\":"
          "[{\"resource_type\":\"*\",\"action\":\"*\",\"negate\":1}]}}}",
          RBAC_EINVAL, "custom_roles.r.org[0]: not a boolean" },
        { "{\"subject\":{}," OBJ("workspace", "", "", "")
          ",\"action\":\"read\",\"allow\":\"yes\"}",
          RBAC_EINVAL, "allow: not a boolean" },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fails(cases[i].json, cases[i].rc, cases[i].msg);
    }
}


/* A request with `n` copies of `item` (comma-separated) at %s. */
static char *
repeat(const char *fmt, const char *item, size_t n)
{
    char    *list, *out;
    size_t   i, len, ilen;

    ilen = strlen(item);
    list = malloc(n * (ilen + 1) + 1);
    assert_non_null(list);
    len = 0;

    for (i = 0; i < n; i++) {
        if (i > 0) {
            list[len++] = ',';
        }

        memcpy(list + len, item, ilen);
        len += ilen;
    }

    list[len] = '\0';
    out = malloc(strlen(fmt) + len + 1);
    assert_non_null(out);
    sprintf(out, fmt, list);
    free(list);

    return out;
}


/* A request with n copies of item in fmt's list, refused as too large. */
typedef struct {
    const char  *fmt;
    const char  *item;
    size_t       n;
    const char  *msg;
} bound_case_t;


static void
test_bounds(void **state)
{
    char    *json;
    size_t   i;

    static const bound_case_t  cases[] = {
        { "{\"subject\":{\"site_roles\":[%s]},"
          OBJ("workspace", "", "", "") ",\"action\":\"read\"}",
          "\"member\"", RBAC_MAX_LIST + 1,
          "subject.site_roles: more than 1024 entries" },
        { "{\"subject\":{\"groups\":[%s]},"
          OBJ("workspace", "", "", "") ",\"action\":\"read\"}",
          "\"g\"", RBAC_MAX_LIST + 1,
          "subject.groups: more than 1024 entries" },

        /* ids over 128 bytes */
        { "{\"subject\":{\"id\":%s},"
          OBJ("workspace", "", "", "") ",\"action\":\"read\"}",
          "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
          "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
          "xxxxxxxxxxxxxxxxx\"", 1,
          "subject.id: longer than 128 bytes" },

        /* scope bounds */
        { "{\"subject\":{\"scope\":{\"allow_list\":[%s]}},"
          OBJ("workspace", "", "", "") ",\"action\":\"read\"}",
          "{\"type\":\"*\",\"id\":\"*\"}", RBAC_SCOPE_MAX_ALLOW + 1,
          "subject.scope.allow_list: more than 16 entries" },
    };

    /* 1024 roles are fine, 1025 are not */
    json = repeat("{\"subject\":{\"site_roles\":[%s]},"
                  OBJ("workspace", "", "", "") ",\"action\":\"read\"}",
                  "\"member\"", RBAC_MAX_LIST);
    rbac_request_free(parse(json), &rbac_malloc_allocator);
    free(json);

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json = repeat(cases[i].fmt, cases[i].item, cases[i].n);
        fails(json, RBAC_EBOUND, cases[i].msg);
        free(json);
    }

    fails("{\"subject\":{\"scope\":{\"orgs\":{\"a\":{},\"b\":{},\"c\":{},"
          "\"d\":{},\"e\":{}}}}," OBJ("workspace", "", "", "")
          ",\"action\":\"read\"}", RBAC_EBOUND,
          "subject.scope.orgs: more than 4 orgs");

    /* the whole line */
    json = malloc(RBAC_MAX_RECORD + 2);
    assert_non_null(json);
    memset(json, ' ', RBAC_MAX_RECORD + 1);
    json[0] = '{';
    json[RBAC_MAX_RECORD] = '}';
    json[RBAC_MAX_RECORD + 1] = '\0';
    fails(json, RBAC_EBOUND, "request: longer than 1048576 bytes");
    free(json);
}


/* ---- allocation failures ---- */

static const char  *big_request =
    "{\"name\":\"alloc\",\"subject\":{\"id\":\"u1\",\"site_roles\":"
    "[\"member\",\"c1\"],\"orgs\":{\"orgA\":[\"organization-member\",\"c2\"],"
    "\"orgB\":[]},\"groups\":[\"g1\",\"g2\"],\"scope\":{\"name\":\"s\","
    "\"site\":[{\"resource_type\":\"*\",\"action\":\"*\"}],\"orgs\":"
    "{\"orgA\":{\"org\":[{\"resource_type\":\"*\",\"action\":\"read\"}]}},"
    "\"allow_list\":[{\"type\":\"workspace\",\"id\":\"w\"}]}},"
    "\"object\":{\"type\":\"workspace\",\"id\":\"w\",\"org\":\"orgA\","
    "\"owner\":\"u1\",\"acl_users\":{\"u1\":\"use\"},\"acl_groups\":"
    "{\"g1\":[\"read\"]},\"deprecated\":{\"message\":\"m\"}},"
    "\"action\":\"read\",\"custom_roles\":{\"c1\":{\"site\":"
    "[{\"resource_type\":\"file\",\"action\":\"read\"}]},\"c2\":{\"member\":"
    "[{\"resource_type\":\"workspace\",\"action\":\"*\"}]}},"
    "\"org_settings\":{\"orgA\":{\"shareable_workspace_owners\":\"none\"}},"
    "\"options\":{\"no_chat_sharing\":true},\"allow\":true}";


static void
test_alloc_failures(void **state)
{
    long               n;
    rbac_rc_t          rc;
    rbac_err_t         err;
    rbac_request_t    *req;
    rbac_decision_t    d;
    testutil_alloc_t   ta;
    rbac_allocator_t   a;

    for (n = 1; n < 10000; n++) {
        testutil_alloc_init(&ta, &a, n);
        rc = rbac_request_parse(big_request, strlen(big_request), cat, &a,
                                &req, &err);

        if (ta.failed == 0) {
            /* every call of this parse succeeded */
            assert_int_equal(rc, RBAC_OK);
            rbac_decide(&req->subject, &req->object, req->action, &d);
            assert_int_equal(d.allow, 1);
            rbac_request_free(req, &a);
            assert_int_equal(ta.live, 0);
            break;
        }

        assert_int_equal(rc, RBAC_ENOMEM);
        assert_null(req);
        assert_int_equal(ta.live, 0);
    }

    /* the parser did allocate, and was failed at least once */
    assert_true(n > 1);
    assert_true(n < 10000);
}


static void
test_cjson_failures(void **state)
{
    long              n, calls;
    rbac_rc_t         rc;
    rbac_err_t        err;
    rbac_request_t   *req;

    testutil_cjson_fail_at(0, 0);
    rc = rbac_request_parse(big_request, strlen(big_request), cat,
                            &rbac_malloc_allocator, &req, &err);
    assert_int_equal(rc, RBAC_OK);
    rbac_request_free(req, &rbac_malloc_allocator);
    calls = testutil_cjson_calls();
    assert_true(calls > 0);
    assert_int_equal(testutil_cjson_live(), 0);

    for (n = 1; n <= calls; n++) {
        testutil_cjson_fail_at(n, 0);
        rc = rbac_request_parse(big_request, strlen(big_request), cat,
                                &rbac_malloc_allocator, &req, &err);
        assert_int_not_equal(rc, RBAC_OK);
        assert_null(req);
        assert_int_equal(testutil_cjson_live(), 0);
    }

    testutil_cjson_reset();
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_unknown_names_only_match_wildcards),
        cmocka_unit_test(test_custom_roles),
        cmocka_unit_test(test_sharing_and_options),
        cmocka_unit_test(test_scopes),
        cmocka_unit_test(test_acl_and_deprecated),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_cjson_failures),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
