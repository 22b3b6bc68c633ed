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
    /* an unknown action: only "*" matches */
    assert_false(eval("{" SUBJ("[\"owner\"]", "{}") ","
                      OBJ("workspace", "w", "orgA", "u2")
                      ",\"action\":\"fly\"}"));
    assert_true(eval("{" SUBJ("[\"all\"]", "{}") ","
                     OBJ("workspace", "w", "orgA", "u2")
                     ",\"action\":\"fly\",\"custom_roles\":{\"all\":"
                     "{\"site\":[{\"resource_type\":\"*\",\"action\":\"*\"}]}"
                     "}}"));
    assert_string_equal(reason, "site role all grants workspace:other");

    /* an unknown type: only "*" matches; a perm naming it matches nothing */
    assert_true(eval("{" SUBJ("[\"all\"]", "{}") ","
                     OBJ("random", "w", "", "")
                     ",\"action\":\"read\",\"custom_roles\":{\"all\":"
                     "{\"site\":[{\"resource_type\":\"*\",\"action\":\"read\"}"
                     "]}}}"));
    assert_string_equal(reason, "site role all grants random:read");
    assert_false(eval("{" SUBJ("[\"r\"]", "{}") ","
                      OBJ("random", "w", "", "")
                      ",\"action\":\"read\",\"custom_roles\":{\"r\":"
                      "{\"site\":[{\"resource_type\":\"random\","
                      "\"action\":\"read\"}]}}}"));
}


/* ---- roles ---- */

static void
test_custom_roles(void **state)
{
    /* request custom roles come first, even over built-in names */
    assert_false(eval("{" SUBJ("[\"owner\"]", "{}") ","
                      OBJ("template", "t", "orgA", "")
                      ",\"action\":\"read\",\"custom_roles\":{\"owner\":"
                      "{\"site\":[{\"resource_type\":\"file\","
                      "\"action\":\"read\"}]}}}"));

    /* negation and wildcards are accepted; site negation wins */
    assert_false(eval("{" SUBJ("[\"owner\",\"deny-all\"]", "{}") ","
                      OBJ("template", "t", "orgA", "")
                      ",\"action\":\"read\",\"custom_roles\":{\"deny-all\":"
                      "{\"site\":[{\"negate\":true,\"resource_type\":\"*\","
                      "\"action\":\"*\"}]}}}"));
    assert_string_equal(reason, "site role deny-all denies template:read");

    /* in site_roles only the site and user parts count */
    assert_false(eval("{" SUBJ("[\"mixed\"]", "{\"orgA\":[]}") ","
                      OBJ("template", "t", "orgA", "")
                      ",\"action\":\"read\",\"custom_roles\":{\"mixed\":"
                      "{\"org\":[{\"resource_type\":\"template\","
                      "\"action\":\"read\"}]}}}"));

    /* under an org: org part there, user part everywhere */
    assert_true(eval("{" SUBJ("[]", "{\"orgA\":[\"ro\"]}") ","
                     OBJ("template", "t", "orgA", "")
                     ",\"action\":\"read\",\"custom_roles\":{\"ro\":"
                     "{\"user\":[{\"resource_type\":\"*\",\"action\":\"read\"}"
                     "],\"org\":[{\"resource_type\":\"*\",\"action\":\"read\"}"
                     "]}}}"));
    assert_string_equal(reason, "org role ro in orgA grants template:read");
    assert_true(eval("{" SUBJ("[]", "{\"orgA\":[\"ro\"]}") ","
                     OBJ("file", "f", "", "u1")
                     ",\"action\":\"read\",\"custom_roles\":{\"ro\":"
                     "{\"user\":[{\"resource_type\":\"*\",\"action\":\"read\"}"
                     "],\"org\":[{\"resource_type\":\"*\",\"action\":\"read\"}"
                     "]}}}"));
    assert_string_equal(reason,
                        "user role ro grants file:read on own object");
    assert_false(eval("{" SUBJ("[]", "{\"orgA\":[\"ro\"]}") ","
                      OBJ("template", "t", "orgB", "")
                      ",\"action\":\"read\",\"custom_roles\":{\"ro\":"
                      "{\"org\":[{\"resource_type\":\"*\",\"action\":\"read\"}"
                      "]}}}"));
}


static void
test_sharing_and_options(void **state)
{
    const char  *share;

    share = "{" SUBJ("[\"member\"]",
                     "{\"orgA\":[\"organization-member\","
                     "\"organization-workspace-access\"]}")
            "," OBJ("workspace", "w", "orgA", "u1")
            ",\"action\":\"share\",\"org_settings\":{\"orgA\":"
            "{\"shareable_workspace_owners\":\"%s\"}}}";

    {
        char  buf[1024];

        snprintf(buf, sizeof(buf), share, "everyone");
        assert_true(eval(buf));
        snprintf(buf, sizeof(buf), share, "service_accounts");
        assert_false(eval(buf));
        snprintf(buf, sizeof(buf), share, "none");
        assert_false(eval(buf));
        assert_string_equal(reason, "org role organization-member in orgA "
                                    "denies workspace:share");
    }

    /* the default mode is everyone; other orgs' settings do not apply */
    assert_true(eval("{" SUBJ("[\"member\"]",
                              "{\"orgA\":[\"organization-member\","
                              "\"organization-workspace-access\"]}")
                     "," OBJ("workspace", "w", "orgA", "u1")
                     ",\"action\":\"share\",\"org_settings\":{\"orgB\":"
                     "{\"shareable_workspace_owners\":\"none\"}}}"));

    /* deployment options pick the catalog variant */
    assert_false(eval("{" SUBJ("[\"member\",\"owner\"]", "{}") ","
                      OBJ("workspace", "w", "orgA", "u2")
                      ",\"action\":\"ssh\",\"options\":"
                      "{\"no_owner_workspace_exec\":true}}"));
    assert_true(eval("{" SUBJ("[\"member\",\"owner\"]", "{}") ","
                     OBJ("workspace", "w", "orgA", "u2")
                     ",\"action\":\"ssh\",\"options\":"
                     "{\"no_owner_workspace_exec\":false}}"));
    assert_false(eval("{" SUBJ("[\"member\",\"owner\"]", "{}") ","
                      OBJ("workspace", "w", "orgA", "u2")
                      ",\"action\":\"share\",\"options\":"
                      "{\"no_workspace_sharing\":true}}"));
    assert_string_equal(reason, "site role member denies workspace:share");
}


/* ---- scopes ---- */

static void
test_scopes(void **state)
{
    rbac_request_t  *req;

    assert_false(eval("{\"subject\":{\"id\":\"u1\",\"site_roles\":"
                      "[\"owner\"],\"scope\":\"application_connect\"},"
                      OBJ("workspace", "w", "orgA", "u2")
                      ",\"action\":\"read\"}"));
    assert_string_equal(reason, "scope application_connect does not grant "
                                "workspace:read");

    /* a list of scopes is their union */
    assert_true(eval("{\"subject\":{\"id\":\"u1\",\"site_roles\":"
                     "[\"owner\"],\"scope\":[\"application_connect\","
                     "\"workspace:read\"]},"
                     OBJ("workspace", "w", "orgA", "u2")
                     ",\"action\":\"read\"}"));

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

    /* an empty allow list allows nothing */
    assert_false(eval("{\"subject\":{\"id\":\"u1\",\"site_roles\":"
                      "[\"owner\"],\"scope\":{\"name\":\"s\",\"site\":"
                      "[{\"resource_type\":\"*\",\"action\":\"*\"}],"
                      "\"allow_list\":[]}},"
                      OBJ("workspace", "w", "orgA", "u2")
                      ",\"action\":\"read\"}"));
    assert_string_equal(reason, "workspace w not in the scope allow list");

    /* allow-list entries: type and id, "*" for either, "" for none */
    assert_true(eval("{\"subject\":{\"id\":\"u1\",\"site_roles\":"
                     "[\"owner\"],\"scope\":{\"name\":\"s\",\"site\":"
                     "[{\"resource_type\":\"*\",\"action\":\"*\"}],"
                     "\"allow_list\":[{\"type\":\"template\",\"id\":\"*\"},"
                     "{\"type\":\"workspace\",\"id\":\"\"}]}},"
                     OBJ("workspace", "", "orgA", "*")
                     ",\"action\":\"create\"}"));
    assert_false(eval("{\"subject\":{\"id\":\"u1\",\"site_roles\":"
                      "[\"owner\"],\"scope\":{\"name\":\"s\",\"site\":"
                      "[{\"resource_type\":\"*\",\"action\":\"*\"}],"
                      "\"allow_list\":[{\"type\":\"template\",\"id\":\"*\"},"
                      "{\"type\":\"workspace\",\"id\":\"\"}]}},"
                      OBJ("workspace", "w2", "orgA", "u2")
                      ",\"action\":\"read\"}"));

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
    assert_true(eval("{" SUBJ("[]", "{\"orgA\":[]}") ","
                     "\"object\":{\"type\":\"workspace\",\"id\":\"w\","
                     "\"org\":\"orgA\",\"owner\":\"u2\",\"acl_users\":"
                     "{\"u1\":\"admin\"}},\"action\":\"share\"}"));
    assert_string_equal(reason, "acl user u1 grants workspace:share");
    assert_false(eval("{" SUBJ("[]", "{\"orgA\":[]}") ","
                      "\"object\":{\"type\":\"workspace\",\"id\":\"w\","
                      "\"org\":\"orgA\",\"owner\":\"u2\",\"acl_users\":"
                      "{\"u1\":\"admin\"}},\"action\":\"delete\"}"));

    assert_true(eval("{\"subject\":{\"id\":\"u1\",\"orgs\":{\"orgA\":[]},"
                     "\"groups\":[\"g7\"]},"
                     "\"object\":{\"type\":\"template\",\"id\":\"t\","
                     "\"org\":\"orgA\",\"acl_groups\":{\"g7\":\"use\"}},"
                     "\"action\":\"use\"}"));
    assert_string_equal(reason, "acl group g7 grants template:use");

    assert_false(eval("{\"subject\":{\"id\":\"u1\",\"site_roles\":"
                      "[\"owner\"]},\"object\":{\"type\":\"template\","
                      "\"id\":\"t\",\"org\":\"orgA\",\"deprecated\":true},"
                      "\"action\":\"use\"}"));
    assert_string_equal(reason, "template deprecated");
    assert_false(eval("{\"subject\":{\"id\":\"u1\",\"site_roles\":"
                      "[\"owner\"]},\"object\":{\"type\":\"template\","
                      "\"id\":\"t\",\"org\":\"orgA\",\"deprecated\":"
                      "{\"message\":\"moved to t2\",\"link\":\"/t2\"}},"
                      "\"action\":\"use\"}"));
    assert_string_equal(reason, "template deprecated: moved to t2");
    assert_true(eval("{\"subject\":{\"id\":\"u1\",\"site_roles\":"
                     "[\"owner\"]},\"object\":{\"type\":\"template\","
                     "\"id\":\"t\",\"org\":\"orgA\",\"deprecated\":false},"
                     "\"action\":\"use\"}"));

    assert_false(eval("{\"subject\":{\"id\":\"u1\",\"site_roles\":"
                      "[\"owner\"],\"status\":\"suspended\"},"
                      OBJ("workspace", "w", "orgA", "u1")
                      ",\"action\":\"read\"}"));
    assert_string_equal(reason, "account suspended");

    /* any_org: the object's org is dropped, as AnyOrganization() does */
    assert_true(eval("{" SUBJ("[]", "{\"orgB\":[\"organization-admin\"]}")
                     ",\"object\":{\"type\":\"template\",\"org\":\"orgA\","
                     "\"any_org\":true},\"action\":\"create\"}"));
    assert_string_equal(reason, "org role organization-admin in orgB grants "
                                "template:create");
}


/* ---- errors ---- */

static void
test_errors(void **state)
{
    fails("", RBAC_EPARSE, "request: not valid JSON");
    fails("{\"subject\":", RBAC_EPARSE, "request: not valid JSON");
    fails("[1]", RBAC_EPARSE, "request: not a JSON object");
    fails("{" OBJ("workspace", "", "", "") ",\"action\":\"read\"}",
          RBAC_EINVAL, "subject: missing");
    fails("{\"subject\":[]," OBJ("workspace", "", "", "")
          ",\"action\":\"read\"}", RBAC_EINVAL, "subject: not an object");
    fails("{\"subject\":{}" ",\"action\":\"read\"}", RBAC_EINVAL,
          "object: missing");
    fails("{\"subject\":{},\"object\":{},\"action\":\"read\"}", RBAC_EINVAL,
          "object.type: missing");
    fails("{\"subject\":{},\"object\":{\"type\":3},\"action\":\"read\"}",
          RBAC_EINVAL, "object.type: not a string");
    fails("{\"subject\":{}," OBJ("workspace", "", "", "") "}", RBAC_EINVAL,
          "action: missing");
    fails("{\"subject\":{}," OBJ("workspace", "", "", "")
          ",\"action\":[]}", RBAC_EINVAL, "action: not a string");
    fails("{\"subject\":{\"id\":1}," OBJ("workspace", "", "", "")
          ",\"action\":\"read\"}", RBAC_EINVAL, "subject.id: not a string");
    fails("{\"subject\":{\"kind\":\"robot\"}," OBJ("workspace", "", "", "")
          ",\"action\":\"read\"}", RBAC_EINVAL,
          "subject.kind: unknown value \"robot\"");
    fails("{\"subject\":{\"status\":\"gone\"},"
          OBJ("workspace", "", "", "") ",\"action\":\"read\"}", RBAC_EINVAL,
          "subject.status: unknown value \"gone\"");
    fails("{\"subject\":{\"orgs\":{\"orgA\":[\"a\",2]}},"
          OBJ("workspace", "", "", "") ",\"action\":\"read\"}", RBAC_EINVAL,
          "subject.orgs.orgA[1]: not a string");
    fails("{\"subject\":{\"orgs\":{\"orgA\":[],\"orgA\":[]}},"
          OBJ("workspace", "", "", "") ",\"action\":\"read\"}", RBAC_EINVAL,
          "subject.orgs.orgA: duplicate org");
    fails("{\"subject\":{\"site_roles\":\"owner\"},"
          OBJ("workspace", "", "", "") ",\"action\":\"read\"}", RBAC_EINVAL,
          "subject.site_roles: not an array");
    fails("{\"subject\":{\"groups\":[true]},"
          OBJ("workspace", "", "", "") ",\"action\":\"read\"}", RBAC_EINVAL,
          "subject.groups[0]: not a string");
    fails("{\"subject\":{\"scope\":\"everything\"},"
          OBJ("workspace", "", "", "") ",\"action\":\"read\"}", RBAC_EUNKNOWN,
          "subject.scope: unknown scope \"everything\"");
    fails("{\"subject\":{\"scope\":[\"all\",\"x:y\"]},"
          OBJ("workspace", "", "", "") ",\"action\":\"read\"}", RBAC_EUNKNOWN,
          "subject.scope[1]: unknown scope \"x:y\"");
    fails("{\"subject\":{\"scope\":5}," OBJ("workspace", "", "", "")
          ",\"action\":\"read\"}", RBAC_EINVAL,
          "subject.scope: not a string, array or object");
    fails("{\"subject\":{\"scope\":{\"allow_list\":[{\"type\":\"*\"}]}},"
          OBJ("workspace", "", "", "") ",\"action\":\"read\"}", RBAC_EINVAL,
          "subject.scope.allow_list[0]: type and id must be strings");
    fails("{\"subject\":{\"scope\":{\"site\":[{\"resource_type\":\"*\"}]}},"
          OBJ("workspace", "", "", "") ",\"action\":\"read\"}", RBAC_EINVAL,
          "subject.scope.site[0]: resource_type and action must be strings");
    fails("{\"subject\":{},\"object\":{\"type\":\"workspace\","
          "\"acl_users\":{\"u1\":\"owner\"}},\"action\":\"read\"}",
          RBAC_EUNKNOWN,
          "object.acl_users.u1: \"owner\" is not a role of workspace ACLs");
    fails("{\"subject\":{},\"object\":{\"type\":\"workspace\","
          "\"acl_groups\":{\"g\":[1]}},\"action\":\"read\"}", RBAC_EINVAL,
          "object.acl_groups.g: actions must be strings");
    fails("{\"subject\":{},\"object\":{\"type\":\"workspace\","
          "\"acl_groups\":{\"g\":5}},\"action\":\"read\"}", RBAC_EINVAL,
          "object.acl_groups.g: not an action list or a role name");
    fails("{\"subject\":{},\"object\":{\"type\":\"template\","
          "\"deprecated\":\"yes\"},\"action\":\"use\"}", RBAC_EINVAL,
          "object.deprecated: not an object or a boolean");
    fails("{\"subject\":{},\"object\":{\"type\":\"template\","
          "\"any_org\":1},\"action\":\"use\"}", RBAC_EINVAL,
          "object.any_org: not a boolean");
    fails("{\"subject\":{}," OBJ("workspace", "", "", "")
          ",\"action\":\"read\",\"options\":{\"no_chat_sharing\":\"y\"}}",
          RBAC_EINVAL, "options.no_chat_sharing: not a boolean");
    fails("{\"subject\":{}," OBJ("workspace", "", "", "")
          ",\"action\":\"read\",\"org_settings\":{\"o\":"
          "{\"shareable_workspace_owners\":\"all\"}}}", RBAC_EINVAL,
          "org_settings.o.shareable_workspace_owners: \"all\" is not "
          "everyone, service_accounts or none");
    fails("{\"subject\":{}," OBJ("workspace", "", "", "")
          ",\"action\":\"read\",\"custom_roles\":{\"r\":{\"org\":"
          "[{\"resource_type\":\"*\",\"action\":\"*\",\"negate\":1}]}}}",
          RBAC_EINVAL, "custom_roles.r.org[0]: not a boolean");
    fails("{\"subject\":{}," OBJ("workspace", "", "", "")
          ",\"action\":\"read\",\"allow\":\"yes\"}", RBAC_EINVAL,
          "allow: not a boolean");
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


static void
test_bounds(void **state)
{
    char  *json, name[200];

    /* 1024 roles are fine, 1025 are not */
    json = repeat("{\"subject\":{\"site_roles\":[%s]},"
                  OBJ("workspace", "", "", "") ",\"action\":\"read\"}",
                  "\"member\"", RBAC_MAX_LIST);
    rbac_request_free(parse(json), &rbac_malloc_allocator);
    free(json);

    json = repeat("{\"subject\":{\"site_roles\":[%s]},"
                  OBJ("workspace", "", "", "") ",\"action\":\"read\"}",
                  "\"member\"", RBAC_MAX_LIST + 1);
    fails(json, RBAC_EBOUND, "subject.site_roles: more than 1024 entries");
    free(json);

    json = repeat("{\"subject\":{\"groups\":[%s]},"
                  OBJ("workspace", "", "", "") ",\"action\":\"read\"}",
                  "\"g\"", RBAC_MAX_LIST + 1);
    fails(json, RBAC_EBOUND, "subject.groups: more than 1024 entries");
    free(json);

    /* ids over 128 bytes */
    memset(name, 'x', 129);
    name[129] = '\0';
    json = repeat("{\"subject\":{\"id\":%s},"
                  OBJ("workspace", "", "", "") ",\"action\":\"read\"}",
                  "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                  "xxxxxxxxxxxxxxxxx\"", 1);
    fails(json, RBAC_EBOUND, "subject.id: longer than 128 bytes");
    free(json);

    /* scope bounds */
    json = repeat("{\"subject\":{\"scope\":{\"allow_list\":[%s]}},"
                  OBJ("workspace", "", "", "") ",\"action\":\"read\"}",
                  "{\"type\":\"*\",\"id\":\"*\"}", RBAC_SCOPE_MAX_ALLOW + 1);
    fails(json, RBAC_EBOUND,
          "subject.scope.allow_list: more than 16 entries");
    free(json);

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
