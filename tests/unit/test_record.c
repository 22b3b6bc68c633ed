/*
 * test_record.c: the records of the decision table: every type parses with
 * the defaults of docs/records.md §3 and prints its canonical JSON; the
 * round trip parse -> json -> parse gives identical bytes; bounds, wrong
 * types and malformed JSON are refused with the field named; every
 * allocation (ours and cJSON's) failing in turn fails cleanly.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "rbac.h"
#include "testutil.h"


/* ---- allocators ---- */

/* malloc with garbage in every new block: padding left unwritten shows. */
static void *
garbage_alloc(void *ud, size_t size)
{
    void  *p;

    p = malloc(size);
    if (p != NULL) {
        memset(p, ud != NULL ? 0x5a : 0xa5, size);
    }

    return p;
}

static void
garbage_free(void *ud, void *p)
{
    free(p);
}

static const rbac_allocator_t  garbage_a = {
    garbage_alloc, garbage_free, NULL
};

static const rbac_allocator_t  garbage_b = {
    garbage_alloc, garbage_free, (void *) 1
};


/* ---- helpers ---- */

static rbac_rc_t
parse(rbac_rec_type_t type, const char *json, void **rec, rbac_err_t *err)
{
    memset(err, 0, sizeof(*err));

    return rbac_record_parse(type, json, strlen(json), &rbac_malloc_allocator,
                             rec, err);
}

static void *
parse_ok(rbac_rec_type_t type, const char *json)
{
    void        *rec;
    rbac_rc_t    rc;
    rbac_err_t   err;

    rc = parse(type, json, &rec, &err);
    if (rc != RBAC_OK) {
        fprintf(stderr, "parse %s: %s\n", json, err.msg);
    }

    assert_int_equal(rc, RBAC_OK);
    assert_non_null(rec);
    assert_int_equal(((rbac_rec_hdr_t *) rec)->type, type);
    assert_int_equal(((rbac_rec_hdr_t *) rec)->size % 8, 0);

    return rec;
}

static char *
to_json(const void *rec)
{
    char        *out;
    size_t       len;
    rbac_rc_t    rc;
    rbac_err_t   err;

    rc = rbac_record_json(rec, &rbac_malloc_allocator, &out, &len, &err);
    assert_int_equal(rc, RBAC_OK);
    assert_int_equal(strlen(out), len);

    return out;
}

/* The error of parsing json as type: rc and the message, exactly. */
static void
expect_err(rbac_rec_type_t type, const char *json, rbac_rc_t want,
    const char *msg)
{
    void        *rec;
    rbac_rc_t    rc;
    rbac_err_t   err;

    rec = (void *) 1;
    rc = parse(type, json, &rec, &err);

    if (rc != want || (msg != NULL && strcmp(err.msg, msg) != 0)) {
        fprintf(stderr, "parse %.200s: got %d \"%s\", want %d \"%s\"\n",
                json, rc, err.msg, want, msg ? msg : "");
    }

    assert_int_equal(rc, want);
    assert_null(rec);
    assert_int_equal(err.rc, want);

    if (msg != NULL) {
        assert_string_equal(err.msg, msg);
    }
}

/* parse(json(parse(x))) is the same block, json(...) the same text. */
static void
round_trip(rbac_rec_type_t type, const char *json)
{
    char   *j1, *j2;
    void   *r1, *r2, *r3;

    r1 = parse_ok(type, json);
    j1 = to_json(r1);
    r2 = parse_ok(type, j1);
    j2 = to_json(r2);

    if (strcmp(j1, j2) != 0) {
        fprintf(stderr, "json not stable:\n%s\n%s\n", j1, j2);
    }

    assert_string_equal(j1, j2);
    assert_int_equal(((rbac_rec_hdr_t *) r1)->size,
                     ((rbac_rec_hdr_t *) r2)->size);
    assert_memory_equal(r1, r2, ((rbac_rec_hdr_t *) r1)->size);

    /* the same input twice gives the same bytes, padding included, over
     * memory that held different garbage */
    {
        void        *g1, *g2;
        rbac_err_t   err;

        assert_int_equal(rbac_record_parse(type, json, strlen(json),
                                           &garbage_a, &g1, &err), RBAC_OK);
        assert_int_equal(rbac_record_parse(type, json, strlen(json),
                                           &garbage_b, &g2, &err), RBAC_OK);
        assert_memory_equal(g1, g2, ((rbac_rec_hdr_t *) g1)->size);
        assert_memory_equal(r1, g1, ((rbac_rec_hdr_t *) r1)->size);
        free(g1);
        free(g2);
    }

    r3 = parse_ok(type, json);
    assert_memory_equal(r1, r3, ((rbac_rec_hdr_t *) r1)->size);

    free(r1);
    free(r2);
    free(r3);
    free(j1);
    free(j2);
}

static int
str_is(rbac_str_t s, const char *want)
{
    return rbac_str_eq_cstr(s, want);
}

static void
expect_canon(rbac_rec_type_t type, const char *json, const char *want)
{
    char  *j;
    void  *rec;

    rec = parse_ok(type, json);
    j = to_json(rec);

    if (strcmp(j, want) != 0) {
        fprintf(stderr, "canonical of %s:\n got %s\nwant %s\n", json, j,
                want);
    }

    assert_string_equal(j, want);
    free(j);
    free(rec);
}


/* ---- documents used by several tests ---- */

static const char  *full_docs[][2] = {
    { "user",
      "{\"groups\":[\"g2\",\"g1\"],\"orgs\":{\"orgB\":[\"organization-admin\","
      "\"x\"],\"orgA\":[]},\"id\":\"u1\",\"kind\":\"service_account\","
      "\"status\":\"dormant\",\"login\":\"none\",\"site_roles\":[\"owner\","
      "\"health-check\"],\"idp_sync\":\"add\",\"extra\":1}" },
    { "org",
      "{\"id\":\"orgA\",\"name\":\"Org \\\"A\\\"\\n\\u00e9\","
      "\"shareable_workspace_owners\":\"service_accounts\","
      "\"default_org_member_roles\":[\"organization-workspace-access\"]}" },
    { "group",
      "{\"id\":\"g1\",\"org\":\"orgA\",\"name\":\"platform\","
      "\"source\":\"oidc\"}" },
    { "orggroups", "{\"zeta\":\"g9\",\"alpha\":\"g1\",\"mid\":\"g5\"}" },
    { "role",
      "{\"name\":\"team-lead\",\"organization_id\":\"orgA\","
      "\"display_name\":\"Team Lead\",\"organization_member_permissions\":"
      "[{\"resource_type\":\"workspace\",\"action\":\"ssh\"}],"
      "\"organization_permissions\":[{\"resource_type\":\"template\","
      "\"action\":\"read\",\"negate\":false},{\"resource_type\":\"*\","
      "\"action\":\"*\",\"negate\":true}],\"site_permissions\":[]}" },
    { "siterole",
      "{\"name\":\"health-check\",\"display_name\":\"Health Check\","
      "\"user_permissions\":[],\"site_permissions\":[{\"resource_type\":"
      "\"deployment_stats\",\"action\":\"read\"}],"
      "\"organization_permissions\":[{\"resource_type\":\"group\","
      "\"action\":\"read\"}]}" },
    { "obj",
      "{\"type\":\"workspace\",\"id\":\"w1\",\"org\":\"orgA\","
      "\"owner\":\"u1\",\"acl_users\":{\"u3\":[\"stop\",\"read\",\"read\"],"
      "\"u2\":\"use\"},\"acl_groups\":{\"orgA\":\"admin\",\"g1\":[\"*\","
      "\"ssh\"]},\"dormant\":true,\"deprecated\":{\"message\":\"gone\","
      "\"link\":\"https://x\"}}" },
    { "obj",
      "{\"type\":\"template\",\"id\":\"t1\",\"org\":\"orgA\","
      "\"deprecated\":true,\"acl_groups\":{\"orgA\":\"use\"}}" },
    { "token",
      "{\"id\":\"tok1\",\"user\":\"u1\",\"secret_sha256\":"
      "\"39be0ef9abd5084aa21a2102f81816bebe4d64a50f37790feebea011b644f844\","
      "\"expires_at\":1700000000000,\"scopes\":[\"coder:workspaces.access\","
      "\"all\"],\"allow_list\":[{\"type\":\"workspace\",\"id\":\"w1\"},"
      "{\"type\":\"*\",\"id\":\"*\"},{\"type\":\"template\",\"id\":\"\"}]}" },
    { "pkey",
      "{\"id\":\"k1\",\"org\":\"orgA\",\"name\":\"eks\",\"tags\":{\"zone\":"
      "\"b\",\"cluster\":\"eks\"},\"secret_sha256\":"
      "\"2fe7a35b473bffe59fb4ab69080a65ef11fb18f127d6ea70383e6e10f725723a\"}" },
    { "deployment",
      "{\"no_chat_sharing\":true,\"no_owner_workspace_exec\":true}" },
    { "idpsync",
      "{\"version\":7,\"site_roles\":{\"field\":\"roles\",\"mapping\":"
      "{\"admins\":[\"owner\"],\"a\":[]},\"default\":[\"auditor\"]},"
      "\"organization\":{\"field\":\"memberOf\",\"mapping\":{\"raptix\":"
      "[\"raptix\",\"megaco\"]},\"assign_default\":false,\"default_org\":"
      "\"megaco\"},\"groups\":{\"ml\":{\"field\":\"groups\",\"mapping\":"
      "{\"mlbox\":[\"g-ml\"]},\"regex_filter\":null,"
      "\"auto_create_missing_groups\":false},\"a\":{\"regex_filter\":"
      "\"^team-.*$\"}},\"org_roles\":{\"raptix\":{\"field\":\"r\","
      "\"mapping\":{\"x\":[\"organization-admin\"]}}}}" },
};

static rbac_rec_type_t
type_named(const char *name)
{
    static const char  *names[RBAC_NREC] = {
        "", "user", "org", "group", "orggroups", "role", "siterole", "obj",
        "token", "pkey", "deployment", "idpsync"
    };
    int  i;

    for (i = 1; i < RBAC_NREC; i++) {
        if (strcmp(names[i], name) == 0) {
            return (rbac_rec_type_t) i;
        }
    }

    fail_msg("no type %s", name);
    return RBAC_REC_NONE;
}


/* ---- defaults and canonical JSON ---- */

static void
test_defaults(void **state)
{
    expect_canon(RBAC_REC_USER, "{\"id\":\"u1\"}",
                 "{\"id\":\"u1\",\"kind\":\"user\",\"status\":\"active\","
                 "\"login\":\"oidc\",\"site_roles\":[],\"orgs\":{},"
                 "\"groups\":[],\"idp_sync\":\"replace\"}");
    expect_canon(RBAC_REC_ORG, "{\"id\":\"o1\"}",
                 "{\"id\":\"o1\",\"name\":\"\",\"shareable_workspace_owners\":"
                 "\"everyone\",\"default_org_member_roles\":[]}");
    expect_canon(RBAC_REC_GROUP,
                 "{\"id\":\"g1\",\"org\":\"o1\",\"name\":\"n\"}",
                 "{\"id\":\"g1\",\"org\":\"o1\",\"name\":\"n\","
                 "\"source\":\"manual\"}");
    expect_canon(RBAC_REC_ORGGROUPS, "{}", "{}");
    expect_canon(RBAC_REC_ROLE,
                 "{\"name\":\"r\",\"organization_id\":\"o1\"}",
                 "{\"name\":\"r\",\"organization_id\":\"o1\","
                 "\"display_name\":\"\",\"organization_permissions\":[],"
                 "\"organization_member_permissions\":[]}");
    expect_canon(RBAC_REC_SITEROLE, "{\"name\":\"r\"}",
                 "{\"name\":\"r\",\"organization_id\":\"\","
                 "\"display_name\":\"\",\"site_permissions\":[],"
                 "\"user_permissions\":[]}");
    expect_canon(RBAC_REC_OBJ,
                 "{\"type\":\"workspace\",\"id\":\"w1\",\"org\":\"o1\"}",
                 "{\"type\":\"workspace\",\"id\":\"w1\",\"org\":\"o1\","
                 "\"owner\":\"\",\"acl_users\":{},\"acl_groups\":{},"
                 "\"dormant\":false}");
    expect_canon(RBAC_REC_OBJ,
                 "{\"type\":\"file\",\"id\":\"f1\",\"deprecated\":false}",
                 "{\"type\":\"file\",\"id\":\"f1\",\"org\":\"\","
                 "\"owner\":\"\",\"acl_users\":{},\"acl_groups\":{},"
                 "\"dormant\":false}");
    expect_canon(RBAC_REC_TOKEN,
                 "{\"id\":\"t1\",\"user\":\"u1\",\"secret_sha256\":\""
                 "00112233445566778899aabbccddeeff"
                 "00112233445566778899aabbccddeeff\",\"scopes\":[]}",
                 "{\"id\":\"t1\",\"user\":\"u1\",\"secret_sha256\":\""
                 "00112233445566778899aabbccddeeff"
                 "00112233445566778899aabbccddeeff\",\"expires_at\":0,"
                 "\"scopes\":[\"all\"],\"allow_list\":[]}");
    expect_canon(RBAC_REC_PKEY,
                 "{\"id\":\"k1\",\"org\":\"o1\",\"secret_sha256\":\""
                 "00112233445566778899aabbccddeeff"
                 "00112233445566778899aabbccddeeff\"}",
                 "{\"id\":\"k1\",\"org\":\"o1\",\"name\":\"\",\"tags\":{},"
                 "\"secret_sha256\":\""
                 "00112233445566778899aabbccddeeff"
                 "00112233445566778899aabbccddeeff\"}");
    expect_canon(RBAC_REC_DEPLOYMENT, "{}",
                 "{\"no_owner_workspace_exec\":false,"
                 "\"no_workspace_sharing\":false,\"no_chat_sharing\":false}");
    expect_canon(RBAC_REC_IDPSYNC, "{}",
                 "{\"version\":0,\"organization\":{\"field\":\"\","
                 "\"mapping\":{},\"assign_default\":true,\"default_org\":\"\"},"
                 "\"groups\":{},\"org_roles\":{},\"site_roles\":"
                 "{\"field\":\"\",\"mapping\":{},\"default\":[]}}");
}


static void
test_canonical_full(void **state)
{
    /* keys in docs/records.md §2's order, maps sorted, ACL lists in order */
    expect_canon(RBAC_REC_USER, full_docs[0][1],
                 "{\"id\":\"u1\",\"kind\":\"service_account\","
                 "\"status\":\"dormant\",\"login\":\"none\",\"site_roles\":"
                 "[\"owner\",\"health-check\"],\"orgs\":{\"orgA\":[],\"orgB\":"
                 "[\"organization-admin\",\"x\"]},\"groups\":[\"g2\",\"g1\"],"
                 "\"idp_sync\":\"add\"}");
    expect_canon(RBAC_REC_ORG, full_docs[1][1],
                 "{\"id\":\"orgA\",\"name\":\"Org \\\"A\\\"\\n\xc3\xa9\","
                 "\"shareable_workspace_owners\":\"service_accounts\","
                 "\"default_org_member_roles\":"
                 "[\"organization-workspace-access\"]}");
    expect_canon(RBAC_REC_ORGGROUPS, full_docs[3][1],
                 "{\"alpha\":\"g1\",\"mid\":\"g5\",\"zeta\":\"g9\"}");
    expect_canon(RBAC_REC_ROLE, full_docs[4][1],
                 "{\"name\":\"team-lead\",\"organization_id\":\"orgA\","
                 "\"display_name\":\"Team Lead\",\"organization_permissions\":"
                 "[{\"resource_type\":\"template\",\"action\":\"read\","
                 "\"negate\":false},{\"resource_type\":\"*\",\"action\":\"*\","
                 "\"negate\":true}],\"organization_member_permissions\":"
                 "[{\"resource_type\":\"workspace\",\"action\":\"ssh\","
                 "\"negate\":false}]}");
    expect_canon(RBAC_REC_SITEROLE, full_docs[5][1],
                 "{\"name\":\"health-check\",\"organization_id\":\"\","
                 "\"display_name\":\"Health Check\",\"site_permissions\":"
                 "[{\"resource_type\":\"deployment_stats\",\"action\":\"read\","
                 "\"negate\":false}],\"user_permissions\":[],"
                 "\"organization_permissions\":[{\"resource_type\":\"group\","
                 "\"action\":\"read\",\"negate\":false}]}");
    expect_canon(RBAC_REC_OBJ, full_docs[6][1],
                 "{\"type\":\"workspace\",\"id\":\"w1\",\"org\":\"orgA\","
                 "\"owner\":\"u1\",\"acl_users\":{\"u2\":\"use\",\"u3\":"
                 "[\"read\",\"stop\"]},\"acl_groups\":{\"g1\":[\"*\"],"
                 "\"orgA\":\"admin\"},\"dormant\":true,\"deprecated\":"
                 "{\"message\":\"gone\",\"link\":\"https://x\"}}");
    expect_canon(RBAC_REC_TOKEN, full_docs[8][1],
                 "{\"id\":\"tok1\",\"user\":\"u1\",\"secret_sha256\":"
                 "\"39be0ef9abd5084aa21a2102f81816bebe4d64a50f37790feebea011b"
                 "644f844\",\"expires_at\":1700000000000,\"scopes\":"
                 "[\"coder:workspaces.access\",\"all\"],\"allow_list\":"
                 "[{\"type\":\"workspace\",\"id\":\"w1\"},{\"type\":\"*\","
                 "\"id\":\"*\"},{\"type\":\"template\",\"id\":\"\"}]}");
    expect_canon(RBAC_REC_IDPSYNC, full_docs[11][1],
                 "{\"version\":7,\"organization\":{\"field\":\"memberOf\","
                 "\"mapping\":{\"raptix\":[\"raptix\",\"megaco\"]},"
                 "\"assign_default\":false,\"default_org\":\"megaco\"},"
                 "\"groups\":{\"a\":{\"field\":\"\",\"mapping\":{},"
                 "\"regex_filter\":\"^team-.*$\"},\"ml\":{\"field\":"
                 "\"groups\",\"mapping\":{\"mlbox\":[\"g-ml\"]},"
                 "\"regex_filter\":\"\"}},\"org_roles\":{\"raptix\":"
                 "{\"field\":\"r\",\"mapping\":{\"x\":"
                 "[\"organization-admin\"]}}},\"site_roles\":{\"field\":"
                 "\"roles\",\"mapping\":{\"a\":[],\"admins\":[\"owner\"]},"
                 "\"default\":[\"auditor\"]}}");
}


static void
test_round_trip(void **state)
{
    size_t  i;

    for (i = 0; i < sizeof(full_docs) / sizeof(full_docs[0]); i++) {
        round_trip(type_named(full_docs[i][0]), full_docs[i][1]);
    }
}


/* ---- what the parsed form holds ---- */

static void
test_user_fields(void **state)
{
    const rbac_ref_t            *r;
    const rbac_user_rec_t       *u;
    const rbac_user_org_rec_t   *uo;

    u = parse_ok(RBAC_REC_USER, full_docs[0][1]);

    assert_true(str_is(rbac_ref(u, u->id), "u1"));
    assert_int_equal(u->kind, RBAC_KIND_SERVICE_ACCOUNT);
    assert_int_equal(u->status, RBAC_STATUS_DORMANT);
    assert_int_equal(u->login, RBAC_LOGIN_NONE);
    assert_int_equal(u->idp_sync, RBAC_IDP_ADD);
    assert_int_equal(u->site_roles.n, 2);
    assert_int_equal(u->site_roles.off % 8, 0);
    r = rbac_rec_at(u, u->site_roles, rbac_ref_t);
    assert_true(str_is(rbac_ref(u, r[1]), "health-check"));

    assert_int_equal(u->orgs.n, 2);
    assert_int_equal(u->orgs.off % 8, 0);
    uo = rbac_rec_at(u, u->orgs, rbac_user_org_rec_t);
    assert_true(str_is(rbac_ref(u, uo[0].org), "orgA"));
    assert_int_equal(uo[0].roles.n, 0);
    assert_true(str_is(rbac_ref(u, uo[1].org), "orgB"));
    assert_int_equal(uo[1].roles.n, 2);
    r = rbac_rec_at(u, uo[1].roles, rbac_ref_t);
    assert_true(str_is(rbac_ref(u, r[0]), "organization-admin"));

    /* strings are NUL-terminated inside the block */
    assert_string_equal(rbac_ref(u, r[1]).data, "x");

    free((void *) u);
}


static void
test_role_compiled(void **state)
{
    const rbac_role_rec_t   *r;
    const rbac_role_perm_t  *p;

    r = parse_ok(RBAC_REC_ROLE, full_docs[4][1]);

    assert_string_equal(r->role.name, "team-lead");
    assert_string_equal(r->role.display_name, "Team Lead");
    assert_int_equal(r->role.kind, RBAC_ROLE_ORG);
    assert_int_equal(r->role.builtin, 0);
    assert_true(str_is(rbac_ref(r, r->org), "orgA"));

    assert_int_equal(rbac_permset_vote(&r->role.lvl[RBAC_LVL_ORG],
                                       RBAC_T_TEMPLATE, RBAC_A_READ), -1);
    assert_int_equal(rbac_permset_vote(&r->role.lvl[RBAC_LVL_MEMBER],
                                       RBAC_T_WORKSPACE, RBAC_A_SSH), 1);
    assert_int_equal(rbac_permset_vote(&r->role.lvl[RBAC_LVL_MEMBER],
                                       RBAC_T_WORKSPACE, RBAC_A_READ), 0);
    assert_int_equal(rbac_permset_vote(&r->role.lvl[RBAC_LVL_SITE],
                                       RBAC_T_TEMPLATE, RBAC_A_READ), 0);

    /* kept as written, by level: org first, then member */
    assert_int_equal(r->perms.n, 3);
    p = rbac_rec_at(r, r->perms, rbac_role_perm_t);
    assert_int_equal(p[0].level, RBAC_LVL_ORG);
    assert_int_equal(p[0].perm.type, RBAC_T_TEMPLATE);
    assert_int_equal(p[1].perm.any_type, 1);
    assert_int_equal(p[1].perm.negate, 1);
    assert_int_equal(p[2].level, RBAC_LVL_MEMBER);
    free((void *) r);

    r = parse_ok(RBAC_REC_SITEROLE, full_docs[5][1]);
    assert_int_equal(r->role.kind, RBAC_ROLE_SITE);
    assert_int_equal(rbac_permset_vote(&r->role.lvl[RBAC_LVL_SITE],
                                       RBAC_T_DEPLOYMENT_STATS, RBAC_A_READ),
                     1);
    free((void *) r);
}


static void
test_obj_fields(void **state)
{
    const rbac_obj_rec_t  *o;
    const rbac_acl_rec_t  *e;

    o = parse_ok(RBAC_REC_OBJ, full_docs[6][1]);

    assert_int_equal(o->type, RBAC_T_WORKSPACE);
    assert_int_equal(o->dormant, 1);
    assert_int_equal(o->deprecated, 1);
    assert_true(str_is(rbac_ref(o, o->deprecated_link), "https://x"));

    assert_int_equal(o->acl_users.n, 2);
    e = rbac_rec_at(o, o->acl_users, rbac_acl_rec_t);
    assert_true(str_is(rbac_ref(o, e[0].id), "u2"));
    assert_true(str_is(rbac_ref(o, e[0].role), "use"));
    assert_int_equal(e[0].actions,
                     rbac_acl_role_actions(RBAC_T_WORKSPACE,
                                           (rbac_str_t) rbac_string("use")));
    assert_true(e[0].actions & RBAC_AM(SSH));
    assert_false(e[0].actions & RBAC_AM(DELETE));
    assert_int_equal(e[1].actions, RBAC_AM(READ) | RBAC_AM(STOP));
    assert_int_equal(e[1].role.len, 0);

    e = rbac_rec_at(o, o->acl_groups, rbac_acl_rec_t);
    assert_int_equal(e[0].actions, RBAC_AMASK_ALL);
    assert_true(str_is(rbac_ref(o, e[1].id), "orgA"));
    assert_false(e[1].actions & RBAC_AM(DELETE));
    assert_true(e[1].actions & RBAC_AM(UPDATE));
    free((void *) o);

    o = parse_ok(RBAC_REC_OBJ, full_docs[7][1]);
    assert_int_equal(o->deprecated, 1);
    assert_int_equal(o->deprecated_message.len, 0);
    e = rbac_rec_at(o, o->acl_groups, rbac_acl_rec_t);
    assert_int_equal(e[0].actions, RBAC_AM(READ) | RBAC_AM(USE));
    free((void *) o);
}


/* A workspace's apps and their share levels (rbac_app). */
static void
test_obj_apps(void **state)
{
    rbac_str_t             code = rbac_string("code");
    rbac_str_t             site = rbac_string("site");
    rbac_str_t             none = rbac_string("none");
    rbac_str_t             orgA = rbac_string("orgA");
    rbac_str_t             orgB = rbac_string("orgB");
    rbac_subject_t         subj;
    rbac_subject_org_t     so;
    const rbac_obj_rec_t  *o;

    o = parse_ok(RBAC_REC_OBJ,
                 "{\"type\":\"workspace\",\"id\":\"w\",\"org\":\"o\","
                 "\"apps\":{\"site\":\"public\",\"code\":\"owner\","
                 "\"docs\":\"authenticated\",\"wiki\":\"organization\"}}");
    assert_int_equal(o->apps.n, 4);
    assert_int_equal(rbac_obj_app_share(o, code), RBAC_APP_OWNER);
    assert_int_equal(rbac_obj_app_share(o, site), RBAC_APP_PUBLIC);
    assert_int_equal(rbac_obj_app_share(o, none), RBAC_APP_OWNER);
    free((void *) o);

    expect_canon(RBAC_REC_OBJ,
                 "{\"type\":\"workspace\",\"id\":\"w\",\"org\":\"o\","
                 "\"apps\":{\"b\":\"public\",\"a\":\"organization\"}}",
                 "{\"type\":\"workspace\",\"id\":\"w\",\"org\":\"o\","
                 "\"owner\":\"\",\"acl_users\":{},\"acl_groups\":{},"
                 "\"dormant\":false,\"apps\":{\"a\":\"organization\","
                 "\"b\":\"public\"}}");

    expect_err(RBAC_REC_OBJ,
               "{\"type\":\"template\",\"id\":\"t\",\"org\":\"o\","
               "\"apps\":{\"a\":\"public\"}}", RBAC_EINVAL,
               "obj.apps: only a workspace has apps");
    expect_err(RBAC_REC_OBJ,
               "{\"type\":\"workspace\",\"id\":\"w\",\"org\":\"o\","
               "\"apps\":{\"a\":\"everyone\"}}", RBAC_EINVAL,
               "obj.apps.a: not owner, authenticated, organization or public");

    /* Coder's rule beyond application_connect */
    memset(&subj, 0, sizeof(subj));
    so.org = orgA;
    subj.status = RBAC_STATUS_ACTIVE;
    subj.orgs = &so;
    subj.norgs = 1;
    assert_false(rbac_app_share_allows(RBAC_APP_OWNER, &subj, orgA));
    assert_true(rbac_app_share_allows(RBAC_APP_AUTHENTICATED, &subj, orgB));
    assert_false(rbac_app_share_allows(RBAC_APP_AUTHENTICATED, NULL, orgA));
    assert_true(rbac_app_share_allows(RBAC_APP_ORGANIZATION, &subj, orgA));
    assert_false(rbac_app_share_allows(RBAC_APP_ORGANIZATION, &subj, orgB));
    assert_true(rbac_app_share_allows(RBAC_APP_PUBLIC, NULL, orgA));
    subj.status = RBAC_STATUS_SUSPENDED;
    assert_false(rbac_app_share_allows(RBAC_APP_ORGANIZATION, &subj, orgA));
    assert_true(rbac_app_share_allows(RBAC_APP_PUBLIC, &subj, orgA));
}


static void
test_token_pkey_deployment(void **state)
{
    const rbac_ref_t              *s;
    const rbac_tag_t              *tag;
    const rbac_pkey_rec_t         *k;
    const rbac_token_rec_t        *t;
    const rbac_allow_rec_t        *al;
    const rbac_deployment_rec_t   *d;

    t = parse_ok(RBAC_REC_TOKEN, full_docs[8][1]);
    assert_int_equal(t->secret_sha256[0], 0x39);
    assert_int_equal(t->secret_sha256[31], 0x44);
    assert_int_equal(t->expires_at, 1700000000000LL);
    s = rbac_rec_at(t, t->scopes, rbac_ref_t);
    assert_int_equal(t->scopes.n, 2);
    assert_true(str_is(rbac_ref(t, s[1]), "all"));
    al = rbac_rec_at(t, t->allow_list, rbac_allow_rec_t);
    assert_int_equal(t->allow_list.n, 3);
    assert_int_equal(al[0].type, RBAC_T_WORKSPACE);
    assert_int_equal(al[0].any_id, 0);
    assert_int_equal(al[1].any_type, 1);
    assert_int_equal(al[1].any_id, 1);
    assert_int_equal(al[2].type, RBAC_T_TEMPLATE);
    assert_int_equal(al[2].id.len, 0);
    free((void *) t);

    t = parse_ok(RBAC_REC_TOKEN,
                 "{\"id\":\"t\",\"user\":\"u\",\"secret_sha256\":\""
                 "00112233445566778899aabbccddeeff"
                 "00112233445566778899aabbccddeeff\"}");
    assert_int_equal(t->expires_at, 0);
    assert_int_equal(t->scopes.n, 1);
    s = rbac_rec_at(t, t->scopes, rbac_ref_t);
    assert_true(str_is(rbac_ref(t, s[0]), "all"));
    assert_int_equal(t->allow_list.n, 0);
    free((void *) t);

    k = parse_ok(RBAC_REC_PKEY, full_docs[9][1]);
    tag = rbac_rec_at(k, k->tags, rbac_tag_t);
    assert_int_equal(k->tags.n, 2);
    assert_true(str_is(rbac_ref(k, tag[0].key), "cluster"));
    assert_true(str_is(rbac_ref(k, tag[1].value), "b"));
    assert_int_equal(k->secret_sha256[0], 0x2f);
    free((void *) k);

    d = parse_ok(RBAC_REC_DEPLOYMENT, full_docs[10][1]);
    assert_int_equal(d->options, RBAC_OPT_NO_CHAT_SHARING
                                 | RBAC_OPT_NO_OWNER_WORKSPACE_EXEC);
    free((void *) d);
}


static void
test_idpsync_fields(void **state)
{
    const rbac_ref_t          *t;
    const rbac_idp_map_t      *m;
    const rbac_idp_sync_t     *g;
    const rbac_idpsync_rec_t  *r;

    r = parse_ok(RBAC_REC_IDPSYNC, full_docs[11][1]);
    assert_int_equal(r->version, 7);
    assert_int_equal(r->assign_default, 0);
    assert_true(str_is(rbac_ref(r, r->default_org), "megaco"));
    assert_true(str_is(rbac_ref(r, r->organization.field), "memberOf"));
    m = rbac_rec_at(r, r->organization.mapping, rbac_idp_map_t);
    assert_int_equal(r->organization.mapping.n, 1);
    assert_int_equal(m[0].targets.n, 2);

    assert_int_equal(r->groups.n, 2);
    g = rbac_rec_at(r, r->groups, rbac_idp_sync_t);
    assert_true(str_is(rbac_ref(r, g[0].org), "a"));
    assert_true(str_is(rbac_ref(r, g[0].regex_filter), "^team-.*$"));
    assert_true(str_is(rbac_ref(r, g[1].org), "ml"));
    m = rbac_rec_at(r, g[1].mapping, rbac_idp_map_t);
    t = rbac_rec_at(r, m[0].targets, rbac_ref_t);
    assert_true(str_is(rbac_ref(r, t[0]), "g-ml"));

    assert_int_equal(r->site_default.n, 1);
    assert_int_equal(r->org_roles.n, 1);
    free((void *) r);

    expect_err(RBAC_REC_IDPSYNC,
               "{\"groups\":{\"o\":{\"auto_create_missing_groups\":true}}}",
               RBAC_EINVAL,
               "idpsync.groups.o.auto_create_missing_groups: not supported: "
               "the proxy never writes to the decision table; create the "
               "groups with rbacctl and map them");
}


/* ---- errors ---- */

static void
test_wrong_types(void **state)
{
    expect_err(RBAC_REC_USER,
               "{\"id\":\"u\",\"orgs\":{\"orgA\":[\"a\",\"b\",3]}}",
               RBAC_EINVAL, "user.orgs.orgA[2]: not a string");
    expect_err(RBAC_REC_USER, "{\"id\":5}", RBAC_EINVAL,
               "user.id: not a string");
    expect_err(RBAC_REC_USER, "{}", RBAC_EINVAL, "user.id: missing");
    expect_err(RBAC_REC_USER, "{\"id\":\"\"}", RBAC_EINVAL, "user.id: empty");
    expect_err(RBAC_REC_USER, "{\"id\":\"u\",\"orgs\":[]}", RBAC_EINVAL,
               "user.orgs: not an object");
    expect_err(RBAC_REC_USER, "{\"id\":\"u\",\"site_roles\":\"owner\"}",
               RBAC_EINVAL, "user.site_roles: not an array");
    expect_err(RBAC_REC_USER, "{\"id\":\"u\",\"kind\":\"provisioner\"}",
               RBAC_EINVAL, "user.kind: \"provisioner\" is not one of "
               "\"user\", \"service_account\"");
    expect_err(RBAC_REC_USER, "{\"id\":\"u\",\"status\":true}", RBAC_EINVAL,
               "user.status: not a string");
    expect_err(RBAC_REC_USER, "{\"id\":\"u\",\"orgs\":{\"a\":[],\"a\":[]}}",
               RBAC_EINVAL, "user.orgs: duplicate key \"a\"");
    expect_err(RBAC_REC_ORG,
               "{\"id\":\"o\",\"shareable_workspace_owners\":\"some\"}",
               RBAC_EINVAL, NULL);
    expect_err(RBAC_REC_GROUP, "{\"id\":\"g\",\"org\":\"o\"}", RBAC_EINVAL,
               "group.name: missing");
    expect_err(RBAC_REC_ORGGROUPS, "{\"a\":1}", RBAC_EINVAL,
               "orggroups.a: not a string");
    expect_err(RBAC_REC_ROLE, "{\"name\":\"r\"}", RBAC_EINVAL,
               "role.organization_id: missing");
    expect_err(RBAC_REC_SITEROLE,
               "{\"name\":\"r\",\"organization_id\":\"o\"}", RBAC_EINVAL,
               "siterole.organization_id: a site role belongs to no "
               "organization");
    expect_err(RBAC_REC_ROLE,
               "{\"name\":\"r\",\"organization_id\":\"o\","
               "\"organization_permissions\":[{\"resource_type\":\"template\","
               "\"action\":\"fly\"}]}", RBAC_EUNKNOWN,
               "role.organization_permissions[0]: unknown action \"fly\"");
    expect_err(RBAC_REC_ROLE,
               "{\"name\":\"r\",\"organization_id\":\"o\","
               "\"organization_member_permissions\":[1]}", RBAC_EINVAL,
               "role.organization_member_permissions[0]: not an object");
    expect_err(RBAC_REC_OBJ, "{\"type\":\"spaceship\",\"id\":\"x\"}",
               RBAC_EUNKNOWN, "obj.type: unknown resource type \"spaceship\"");
    expect_err(RBAC_REC_OBJ, "{\"type\":\"workspace\",\"id\":\"x\"}",
               RBAC_EINVAL, "obj.org: missing");
    expect_err(RBAC_REC_OBJ,
               "{\"type\":\"workspace\",\"id\":\"w\",\"org\":\"o\","
               "\"acl_users\":{\"u\":\"owner\"}}", RBAC_EUNKNOWN,
               "obj.acl_users.u: \"owner\" is not an ACL role of workspace");
    expect_err(RBAC_REC_OBJ,
               "{\"type\":\"workspace\",\"id\":\"w\",\"org\":\"o\","
               "\"acl_groups\":{\"g\":[\"read\",\"jump\"]}}", RBAC_EUNKNOWN,
               "obj.acl_groups.g[1]: unknown action \"jump\"");
    expect_err(RBAC_REC_OBJ,
               "{\"type\":\"workspace\",\"id\":\"w\",\"org\":\"o\","
               "\"acl_groups\":{\"g\":7}}", RBAC_EINVAL,
               "obj.acl_groups.g: not a role name or a list of actions");
    expect_err(RBAC_REC_OBJ,
               "{\"type\":\"template\",\"id\":\"t\",\"org\":\"o\","
               "\"deprecated\":\"yes\"}", RBAC_EINVAL,
               "obj.deprecated: not an object or a boolean");
    expect_err(RBAC_REC_OBJ,
               "{\"type\":\"template\",\"id\":\"t\",\"org\":\"o\","
               "\"dormant\":1}", RBAC_EINVAL, "obj.dormant: not a boolean");
    expect_err(RBAC_REC_TOKEN,
               "{\"id\":\"t\",\"user\":\"u\",\"secret_sha256\":\""
               "00112233445566778899AABBCCDDEEFF"
               "00112233445566778899aabbccddeeff\"}", RBAC_EINVAL,
               "token.secret_sha256: not 64 lowercase hex digits");
    expect_err(RBAC_REC_TOKEN,
               "{\"id\":\"t\",\"user\":\"u\",\"secret_sha256\":\"00\"}",
               RBAC_EINVAL, "token.secret_sha256: not 64 lowercase hex digits");
    expect_err(RBAC_REC_TOKEN, "{\"id\":\"t\",\"user\":\"u\"}", RBAC_EINVAL,
               "token.secret_sha256: missing");
    expect_err(RBAC_REC_TOKEN,
               "{\"id\":\"t\",\"user\":\"u\",\"expires_at\":1.5,"
               "\"secret_sha256\":\"00112233445566778899aabbccddeeff"
               "00112233445566778899aabbccddeeff\"}", RBAC_EINVAL, NULL);
    expect_err(RBAC_REC_TOKEN,
               "{\"id\":\"t\",\"user\":\"u\",\"expires_at\":-1,"
               "\"secret_sha256\":\"00112233445566778899aabbccddeeff"
               "00112233445566778899aabbccddeeff\"}", RBAC_EINVAL, NULL);
    expect_err(RBAC_REC_TOKEN,
               "{\"id\":\"t\",\"user\":\"u\",\"allow_list\":[{\"type\":"
               "\"warp\",\"id\":\"*\"}],\"secret_sha256\":\""
               "00112233445566778899aabbccddeeff"
               "00112233445566778899aabbccddeeff\"}", RBAC_EUNKNOWN,
               "token.allow_list[0].type: unknown resource type \"warp\"");
    expect_err(RBAC_REC_PKEY,
               "{\"id\":\"k\",\"org\":\"o\",\"tags\":{\"a\":[]},"
               "\"secret_sha256\":\"00112233445566778899aabbccddeeff"
               "00112233445566778899aabbccddeeff\"}", RBAC_EINVAL,
               "pkey.tags.a: not a string");
    expect_err(RBAC_REC_DEPLOYMENT, "{\"no_chat_sharing\":\"true\"}",
               RBAC_EINVAL, "deployment.no_chat_sharing: not a boolean");
    expect_err(RBAC_REC_IDPSYNC, "{\"organization\":[]}", RBAC_EINVAL,
               "idpsync.organization: not an object");
    expect_err(RBAC_REC_IDPSYNC,
               "{\"site_roles\":{\"mapping\":{\"a\":\"owner\"}}}",
               RBAC_EINVAL, "idpsync.site_roles.mapping.a: not an array");
    expect_err(RBAC_REC_IDPSYNC, "{\"version\":\"1\"}", RBAC_EINVAL,
               "idpsync.version: not a number");
}


static void
test_malformed(void **state)
{
    void        *rec;
    rbac_rc_t    rc;
    rbac_err_t   err;

    expect_err(RBAC_REC_USER, "", RBAC_EPARSE, NULL);
    expect_err(RBAC_REC_USER, "{\"id\":", RBAC_EPARSE, NULL);
    expect_err(RBAC_REC_USER, "{\"id\":\"u\"} x", RBAC_EPARSE, NULL);
    expect_err(RBAC_REC_USER, "{\"id\":\"u\"}{}", RBAC_EPARSE, NULL);
    expect_err(RBAC_REC_USER, "[\"u\"]", RBAC_EPARSE,
               "user: not a JSON object");
    expect_err(RBAC_REC_ORG, "\"org\"", RBAC_EPARSE, NULL);
    expect_err(RBAC_REC_DEPLOYMENT, "nul", RBAC_EPARSE, NULL);

    /* surrounding whitespace is fine; a length that cuts the JSON is not */
    rec = parse_ok(RBAC_REC_DEPLOYMENT, " \n{} \n");
    free(rec);

    memset(&err, 0, sizeof(err));
    rc = rbac_record_parse(RBAC_REC_USER, "{\"id\":\"u\"}", 9,
                           &rbac_malloc_allocator, &rec, &err);
    assert_int_equal(rc, RBAC_EPARSE);
    assert_null(rec);

    rc = rbac_record_parse(RBAC_REC_NONE, "{}", 2, &rbac_malloc_allocator,
                           &rec, &err);
    assert_int_equal(rc, RBAC_EINVAL);
    rc = rbac_record_parse(RBAC_NREC, "{}", 2, &rbac_malloc_allocator,
                           &rec, &err);
    assert_int_equal(rc, RBAC_EINVAL);
}


static char *map_of(size_t n, const char *value);


/* One valid record of each kind, with the key it is stored under. */
static const struct {
    rbac_rec_type_t   type;
    const char       *key;
    const char       *json;
} strict_recs[] = {
    { RBAC_REC_USER, "user:u1",
      "{\"id\":\"u1\",\"orgs\":{\"o1\":[\"r\"]},\"site_roles\":[]}" },
    { RBAC_REC_ORG, "org:o1",
      "{\"id\":\"o1\",\"name\":\"O\",\"default_org_member_roles\":[]}" },
    { RBAC_REC_GROUP, "group:g1",
      "{\"id\":\"g1\",\"org\":\"o1\",\"name\":\"eng\"}" },
    { RBAC_REC_ORGGROUPS, "orggroups:o1", "{\"eng\":\"g1\",\"ops\":\"g2\"}" },
    { RBAC_REC_ROLE, "role:o1:lead",
      "{\"name\":\"lead\",\"organization_id\":\"o1\","
      "\"organization_permissions\":[{\"resource_type\":\"workspace\","
      "\"action\":\"read\"}]}" },
    { RBAC_REC_SITEROLE, "siterole:health",
      "{\"name\":\"health\",\"site_permissions\":[{\"resource_type\":"
      "\"deployment_stats\",\"action\":\"read\"}]}" },
    { RBAC_REC_OBJ, "obj:workspace:w1",
      "{\"type\":\"workspace\",\"id\":\"w1\",\"org\":\"o1\","
      "\"acl_users\":{\"u2\":\"use\"}}" },
    { RBAC_REC_TOKEN, "token:t1",
      "{\"id\":\"t1\",\"user\":\"u1\",\"secret_sha256\":\""
      "0000000000000000000000000000000000000000000000000000000000000000\","
      "\"allow_list\":[{\"type\":\"workspace\",\"id\":\"w1\"}]}" },
    { RBAC_REC_PKEY, "pkey:k1",
      "{\"id\":\"k1\",\"org\":\"o1\",\"tags\":{\"a\":\"b\"},"
      "\"secret_sha256\":\""
      "0000000000000000000000000000000000000000000000000000000000000000\"}" },
    { RBAC_REC_DEPLOYMENT, "deployment", "{\"no_chat_sharing\":true}" },
    { RBAC_REC_IDPSYNC, "idpsync",
      "{\"version\":1,\"organization\":{\"field\":\"g\",\"mapping\":"
      "{\"a\":[\"o1\"]}}}" },
};

static rbac_rc_t
parse_key(const char *key, const char *json, void **rec, rbac_err_t *err)
{
    rbac_str_t  k;

    k.data = key;
    k.len = strlen(key);
    memset(err, 0, sizeof(*err));
    *rec = (void *) 1;

    return rbac_record_parse_key(k, json, strlen(json),
                                 &rbac_malloc_allocator, rec, err);
}

/*
 * json with a second `"<member>":<value>` inserted right after the first
 * `{` found at or after `at` (a copy; free it).
 */
static char *
with_member(const char *json, const char *at, const char *member)
{
    char        *out;
    size_t       pos;
    const char  *p;

    p = strstr(json, at);
    assert_non_null(p);
    p = strchr(p, '{');
    assert_non_null(p);
    pos = (size_t) (p - json) + 1;

    out = malloc(strlen(json) + strlen(member) + 2);
    assert_non_null(out);
    memcpy(out, json, pos);
    sprintf(out + pos, "%s,%s", member, json + pos);

    return out;
}

static void
test_strict_records(void **state)
{
    char        *bad;
    void        *rec;
    size_t       i;
    rbac_rc_t    rc;
    rbac_err_t   err;

    /* a duplicated member, at the top and nested, in every kind */
    static const struct {
        const char  *at;        /* where to insert */
        const char  *member;    /* a member that is already there */
    } dups[] = {
        { "", "\"id\":\"u1\"" },                    /* user */
        { "", "\"id\":\"o1\"" },                    /* org */
        { "", "\"name\":\"eng\"" },                 /* group */
        { "", "\"eng\":\"g9\"" },                   /* orggroups */
        { "\"organization_permissions\"",
          "\"action\":\"delete\"" },               /* role, nested */
        { "", "\"name\":\"health\"" },              /* siterole */
        { "\"acl_users\"", "\"u2\":\"admin\"" },    /* obj, nested map */
        { "\"allow_list\"", "\"id\":\"w2\"" },      /* token, nested */
        { "\"tags\"", "\"a\":\"c\"" },              /* pkey, nested */
        { "", "\"no_chat_sharing\":false" },        /* deployment */
        { "\"mapping\"", "\"a\":[\"o2\"]" },        /* idpsync, nested */
    };

    for (i = 0; i < sizeof(strict_recs) / sizeof(strict_recs[0]); i++) {
        /* the record as it is: fine, under its key */
        rc = parse_key(strict_recs[i].key, strict_recs[i].json, &rec, &err);
        if (rc != RBAC_OK) {
            fprintf(stderr, "%s: %s\n", strict_recs[i].key, err.msg);
        }
        assert_int_equal(rc, RBAC_OK);
        free(rec);

        bad = with_member(strict_recs[i].json, dups[i].at, dups[i].member);
        rc = parse_key(strict_recs[i].key, bad, &rec, &err);
        /* a map's own check names the map ("duplicate key") */
        if (rc != RBAC_EINVAL || (strstr(err.msg, "twice") == NULL
                                  && strstr(err.msg, "duplicate") == NULL))
        {
            fprintf(stderr, "%s: %s: %s\n", strict_recs[i].key, bad,
                    err.msg);
        }
        assert_int_equal(rc, RBAC_EINVAL);
        assert_true(strstr(err.msg, "twice in one object") != NULL
                    || strstr(err.msg, "duplicate key") != NULL);
        assert_null(rec);

        /* rbac_record_parse refuses it as well */
        expect_err(strict_recs[i].type, bad, RBAC_EINVAL, NULL);
        free(bad);
    }

    /* an object of more members than any record has */
    bad = map_of(RBAC_MAX_LIST + 1, "1");
    expect_err(RBAC_REC_DEPLOYMENT, bad, RBAC_EBOUND,
               "deployment: an object of more than 1024 members");
    free(bad);
}

static void
test_record_under_its_key(void **state)
{
    void        *rec;
    size_t       i;
    rbac_rc_t    rc;
    rbac_err_t   err;

    /* a record stored under another's key */
    static const struct {
        const char  *key;
        const char  *json;
        const char  *msg;
    } wrong[] = {
        { "user:u2", "{\"id\":\"u1\"}",
          "id \"u1\" does not match the key \"user:u2\"" },
        { "org:o2", "{\"id\":\"o1\"}",
          "id \"o1\" does not match the key \"org:o2\"" },
        { "group:g2", "{\"id\":\"g1\",\"org\":\"o1\",\"name\":\"n\"}",
          "id \"g1\" does not match the key \"group:g2\"" },
        { "role:o2:lead", "{\"name\":\"lead\",\"organization_id\":\"o1\"}",
          "organization_id \"o1\" does not match the key \"role:o2:lead\"" },
        { "role:o1:boss", "{\"name\":\"lead\",\"organization_id\":\"o1\"}",
          "name \"lead\" does not match the key \"role:o1:boss\"" },
        { "siterole:boss", "{\"name\":\"health\"}",
          "name \"health\" does not match the key \"siterole:boss\"" },
        { "obj:template:w1",
          "{\"type\":\"workspace\",\"id\":\"w1\",\"org\":\"o1\"}",
          "type \"workspace\" does not match the key \"obj:template:w1\"" },
        { "obj:workspace:w2",
          "{\"type\":\"workspace\",\"id\":\"w1\",\"org\":\"o1\"}",
          "id \"w1\" does not match the key \"obj:workspace:w2\"" },
        { "obj:workspace:w1x",
          "{\"type\":\"workspace\",\"id\":\"w1\",\"org\":\"o1\"}",
          "id \"w1\" does not match the key \"obj:workspace:w1x\"" },
        { "token:t2", "{\"id\":\"t1\",\"user\":\"u1\",\"secret_sha256\":\""
          "0000000000000000000000000000000000000000000000000000000000000000"
          "\"}", "id \"t1\" does not match the key \"token:t2\"" },
        { "pkey:k2", "{\"id\":\"k1\",\"org\":\"o1\",\"secret_sha256\":\""
          "0000000000000000000000000000000000000000000000000000000000000000"
          "\"}", "id \"k1\" does not match the key \"pkey:k2\"" },
    };

    for (i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        rc = parse_key(wrong[i].key, wrong[i].json, &rec, &err);
        if (rc != RBAC_EINVAL || strcmp(err.msg, wrong[i].msg) != 0) {
            fprintf(stderr, "%s: %d %s\n", wrong[i].key, rc, err.msg);
        }
        assert_int_equal(rc, RBAC_EINVAL);
        assert_string_equal(err.msg, wrong[i].msg);
        assert_null(rec);
    }

    /* a key that names no record kind */
    rc = parse_key("version", "{}", &rec, &err);
    assert_int_equal(rc, RBAC_EINVAL);
    assert_null(rec);

    /* a dormant workspace is still a workspace under obj:workspace: */
    rc = parse_key("obj:workspace:w1", "{\"type\":\"workspace\",\"id\":"
                   "\"w1\",\"org\":\"o1\",\"dormant\":true}", &rec, &err);
    assert_int_equal(rc, RBAC_OK);
    free(rec);
}


static void
test_control_bytes(void **state)
{
    /* a name, id or key never holds a control byte: it may become a header */
    expect_err(RBAC_REC_OBJ, "{\"type\":\"workspace\",\"id\":\"w\","
               "\"org\":\"o\\r\\nX-Rbac-Roles: owner\"}", RBAC_EINVAL,
               "obj.org: holds a control byte");
    expect_err(RBAC_REC_OBJ, "{\"type\":\"workspace\",\"id\":\"w\","
               "\"org\":\"o\",\"owner\":\"a\\u007f\"}", RBAC_EINVAL,
               "obj.owner: holds a control byte");
    expect_err(RBAC_REC_USER, "{\"id\":\"u\\t\"}", RBAC_EINVAL,
               "user.id: holds a control byte");
    expect_err(RBAC_REC_USER, "{\"id\":\"u\",\"orgs\":{\"o\\n\":[]}}",
               RBAC_EINVAL, "user.orgs: a key holds a control byte");
    expect_err(RBAC_REC_USER, "{\"id\":\"u\",\"site_roles\":[\"\\u0001\"]}",
               RBAC_EINVAL, "user.site_roles[0]: holds a control byte");
    expect_err(RBAC_REC_ORG, "{\"id\":\"o\\r\"}",
               RBAC_EINVAL, "org.id: holds a control byte");
    expect_err(RBAC_REC_GROUP, "{\"id\":\"g\",\"org\":\"o\",\"name\":\"\\n\"}",
               RBAC_EINVAL, "group.name: holds a control byte");
}


/* A JSON list of n strings "r0", "r1", ... */
static char *
list_of(size_t n)
{
    char    *s, *p;
    size_t   i;

    s = malloc(n * 16 + 8);
    assert_non_null(s);
    p = s;
    *p++ = '[';

    for (i = 0; i < n; i++) {
        p += sprintf(p, "%s\"r%zu\"", i ? "," : "", i);
    }

    *p++ = ']';
    *p = '\0';

    return s;
}

/* A JSON object of n members "k0": value, ... */
static char *
map_of(size_t n, const char *value)
{
    char    *s, *p;
    size_t   i;

    s = malloc(n * (16 + strlen(value)) + 8);
    assert_non_null(s);
    p = s;
    *p++ = '{';

    for (i = 0; i < n; i++) {
        p += sprintf(p, "%s\"k%zu\":%s", i ? "," : "", i, value);
    }

    *p++ = '}';
    *p = '\0';

    return s;
}

static void
test_bounds(void **state)
{
    char    *doc, *list, *big;
    void    *rec;
    char     name[RBAC_MAX_NAME + 2];
    size_t   n;

    /* lists: 1024 entries pass, 1025 do not */
    doc = malloc(40000);
    list = list_of(RBAC_MAX_LIST);
    sprintf(doc, "{\"id\":\"u\",\"site_roles\":%s}", list);
    rec = parse_ok(RBAC_REC_USER, doc);
    assert_int_equal(((rbac_user_rec_t *) rec)->site_roles.n, RBAC_MAX_LIST);
    free(rec);
    free(list);

    list = list_of(RBAC_MAX_LIST + 1);
    sprintf(doc, "{\"id\":\"u\",\"site_roles\":%s}", list);
    expect_err(RBAC_REC_USER, doc, RBAC_EBOUND,
               "user.site_roles: more than 1024 entries");
    sprintf(doc, "{\"id\":\"o\",\"default_org_member_roles\":%s}", list);
    expect_err(RBAC_REC_ORG, doc, RBAC_EBOUND, NULL);
    free(list);

    list = map_of(RBAC_MAX_LIST + 1, "[]");
    sprintf(doc, "{\"id\":\"u\",\"orgs\":%s}", list);
    expect_err(RBAC_REC_USER, doc, RBAC_EBOUND,
               "user.orgs: more than 1024 entries");
    free(list);

    list = map_of(RBAC_MAX_LIST + 1, "\"use\"");
    sprintf(doc, "{\"type\":\"workspace\",\"id\":\"w\",\"org\":\"o\","
            "\"acl_users\":%s}", list);
    expect_err(RBAC_REC_OBJ, doc, RBAC_EBOUND, NULL);
    free(list);

    list = map_of(RBAC_MAX_LIST + 1, "\"g\"");
    expect_err(RBAC_REC_ORGGROUPS, list, RBAC_EBOUND, NULL);
    free(list);

    /* names: 128 bytes pass, 129 do not */
    memset(name, 'n', sizeof(name));
    name[RBAC_MAX_NAME] = '\0';
    sprintf(doc, "{\"id\":\"%s\"}", name);
    rec = parse_ok(RBAC_REC_USER, doc);
    free(rec);
    sprintf(doc, "{\"name\":\"%s\",\"display_name\":\"%s\"}", name, name);
    rec = parse_ok(RBAC_REC_SITEROLE, doc);
    assert_int_equal(strlen(((rbac_role_rec_t *) rec)->role.name),
                     RBAC_MAX_NAME);
    free(rec);

    name[RBAC_MAX_NAME] = 'n';
    name[RBAC_MAX_NAME + 1] = '\0';
    sprintf(doc, "{\"id\":\"%s\"}", name);
    expect_err(RBAC_REC_USER, doc, RBAC_EBOUND,
               "user.id: longer than 128 bytes");
    sprintf(doc, "{\"name\":\"%s\"}", name);
    expect_err(RBAC_REC_SITEROLE, doc, RBAC_EBOUND,
               "siterole.name: longer than 128 bytes");
    sprintf(doc, "{\"name\":\"r\",\"display_name\":\"%s\"}", name);
    expect_err(RBAC_REC_SITEROLE, doc, RBAC_EBOUND, NULL);
    sprintf(doc, "{\"id\":\"u\",\"orgs\":{\"o\":[\"%s\"]}}", name);
    expect_err(RBAC_REC_USER, doc, RBAC_EBOUND,
               "user.orgs.o[0]: longer than 128 bytes");
    sprintf(doc, "{\"id\":\"u\",\"orgs\":{\"%s\":[]}}", name);
    expect_err(RBAC_REC_USER, doc, RBAC_EBOUND, NULL);
    free(doc);

    /* records: 1 MiB passes, a byte more does not */
    n = RBAC_MAX_RECORD;
    big = malloc(n + 2);
    memset(big, ' ', n + 1);
    memcpy(big, "{\"id\":\"u\"}", 10);
    big[n] = '\0';
    rec = parse_ok(RBAC_REC_USER, big);
    free(rec);
    big[n] = ' ';
    big[n + 1] = '\0';
    expect_err(RBAC_REC_USER, big, RBAC_EBOUND, NULL);
    free(big);
}


/* ---- allocation failures ---- */

static void
alloc_failures(rbac_rec_type_t type, const char *json)
{
    long               i;
    char              *out;
    void              *rec;
    size_t             len;
    rbac_rc_t          rc;
    rbac_err_t         err;
    rbac_allocator_t   a;
    testutil_alloc_t   t;

    /* ours: parse makes one allocation, json one */
    for (i = 1; ; i++) {
        testutil_alloc_init(&t, &a, i);
        rc = rbac_record_parse(type, json, strlen(json), &a, &rec, &err);

        if (rc == RBAC_OK) {
            break;
        }

        assert_int_equal(rc, RBAC_ENOMEM);
        assert_null(rec);
        assert_int_equal(t.live, 0);
    }

    assert_int_equal(i, 2);

    testutil_alloc_init(&t, &a, 1);
    rc = rbac_record_json(rec, &a, &out, &len, &err);
    assert_int_equal(rc, RBAC_ENOMEM);
    assert_null(out);
    free(rec);

    /* cJSON's: every failure is reported, nothing leaks */
    for (i = 1; ; i++) {
        testutil_cjson_fail_at(i, 1);
        rc = rbac_record_parse(type, json, strlen(json),
                               &rbac_malloc_allocator, &rec, &err);
        assert_int_equal(testutil_cjson_live(), 0);
        testutil_cjson_reset();

        if (rc == RBAC_OK) {
            break;
        }

        assert_true(rc == RBAC_ENOMEM || rc == RBAC_EPARSE);
        assert_null(rec);
    }

    assert_true(i >= 2);
    free(rec);
}

static void
test_alloc_failures(void **state)
{
    size_t  i;

    for (i = 0; i < sizeof(full_docs) / sizeof(full_docs[0]); i++) {
        alloc_failures(type_named(full_docs[i][0]), full_docs[i][1]);
    }
}


/* ---- keys ---- */

static rbac_rec_type_t
key_type(const char *key)
{
    rbac_str_t  s;

    s.data = key;
    s.len = strlen(key);

    return rbac_record_type_of_key(s);
}

static void
test_key_types(void **state)
{
    assert_int_equal(key_type("user:u1"), RBAC_REC_USER);
    assert_int_equal(key_type("org:o1"), RBAC_REC_ORG);
    assert_int_equal(key_type("group:g1"), RBAC_REC_GROUP);
    assert_int_equal(key_type("orggroups:o1"), RBAC_REC_ORGGROUPS);
    assert_int_equal(key_type("role:o1:team-lead"), RBAC_REC_ROLE);
    assert_int_equal(key_type("siterole:health-check"), RBAC_REC_SITEROLE);
    assert_int_equal(key_type("obj:workspace:w1"), RBAC_REC_OBJ);
    assert_int_equal(key_type("token:abc"), RBAC_REC_TOKEN);
    assert_int_equal(key_type("pkey:abc"), RBAC_REC_PKEY);
    assert_int_equal(key_type("deployment"), RBAC_REC_DEPLOYMENT);
    assert_int_equal(key_type("idpsync"), RBAC_REC_IDPSYNC);

    assert_int_equal(key_type("version"), RBAC_REC_NONE);
    assert_int_equal(key_type("inv"), RBAC_REC_NONE);
    assert_int_equal(key_type("user:"), RBAC_REC_NONE);
    assert_int_equal(key_type("user"), RBAC_REC_NONE);
    assert_int_equal(key_type("role:o1"), RBAC_REC_NONE);
    assert_int_equal(key_type("role:o1:"), RBAC_REC_NONE);
    assert_int_equal(key_type("role::r"), RBAC_REC_NONE);
    assert_int_equal(key_type("obj:workspace"), RBAC_REC_NONE);
    assert_int_equal(key_type("deployments"), RBAC_REC_NONE);
    assert_int_equal(key_type("rbac:user:u1"), RBAC_REC_NONE);
    assert_int_equal(key_type(""), RBAC_REC_NONE);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_canonical_full),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_user_fields),
        cmocka_unit_test(test_role_compiled),
        cmocka_unit_test(test_obj_fields),
        cmocka_unit_test(test_obj_apps),
        cmocka_unit_test(test_token_pkey_deployment),
        cmocka_unit_test(test_idpsync_fields),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_key_types),
        cmocka_unit_test(test_control_bytes),
        cmocka_unit_test(test_strict_records),
        cmocka_unit_test(test_record_under_its_key),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
