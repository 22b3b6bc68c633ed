/*
 * test_reference.c: references (core/rbac_reference.c and
 * rbac_record_ref.c): the UUID spellings Go's uuid.Parse accepts, the
 * argument syntax "@kind:value", the key each value looks up (case folded
 * exactly where docs/references.md says), where kinds fit, and the
 * reference record.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rbac.h"
#include "testutil.h"


/* The canonical spelling, or "-" when refused. */
static const char *
canon(const char *s)
{
    static char  out[RBAC_UUID_LEN + 1];

    if (!rbac_uuid_canon(s, strlen(s), out)) {
        return "-";
    }

    out[RBAC_UUID_LEN] = '\0';

    return out;
}


#define U  "1b4e28ba-2fa1-11d2-883f-0016d3cca427"

static void
test_uuid_spellings(void **state)
{
    assert_string_equal(canon(U), U);
    assert_string_equal(canon("1B4E28BA-2FA1-11D2-883F-0016D3CCA427"), U);
    assert_string_equal(canon("{1b4e28ba-2fa1-11d2-883f-0016D3CCA427}"), U);
    assert_string_equal(canon("urn:uuid:" U), U);
    assert_string_equal(canon("URN:UUID:" U), U);
    assert_string_equal(canon("1b4e28ba2fa111d2883f0016d3cca427"), U);
    assert_string_equal(canon("1B4E28BA2FA111D2883F0016D3CCA427"), U);

    /* Go drops the 38-character form's ends unseen */
    assert_string_equal(canon("x" U "y"), U);
    assert_string_equal(canon("(" U ")"), U);
}


static void
test_uuid_refused(void **state)
{
    assert_string_equal(canon(""), "-");
    assert_string_equal(canon("me"), "-");
    assert_string_equal(canon("1b4e28ba-2fa1-11d2-883f-0016d3cca42"), "-");
    assert_string_equal(canon("1b4e28ba-2fa1-11d2-883f-0016d3cca4277"), "-");
    assert_string_equal(canon("1b4e28ba-2fa1-11d2-883f-0016d3cca42g"), "-");
    assert_string_equal(canon("1b4e28ba_2fa1-11d2-883f-0016d3cca427"), "-");
    assert_string_equal(canon("1b4e28ba2fa1-11d2-883f-0016d3cca4270"), "-");
    assert_string_equal(canon("urn:uuid-" U), "-");
    assert_string_equal(canon("uuid:" U), "-");
    assert_string_equal(canon("{" U), "-");
    assert_string_equal(canon("1b4e28ba2fa111d2883f0016d3cca42z"), "-");
    assert_string_equal(canon("1b4e28ba-2fa111d2883f0016d3cca427"), "-");
    assert_string_equal(canon(" " U), "-");
    assert_string_equal(canon("1b4e28ba 2fa1-11d2-883f-0016d3cca427"), "-");
}


/* "id <x>", "key <x>" or "err <why>" for @<kind>:<v>. */
static const char *
eval(const char *arg, const char *caller)
{
    int              is_key;
    rbac_rc_t        rc;
    rbac_str_t       rest, out;
    const char      *why;
    rbac_refkind_t   k;
    char             buf[RBAC_REF_KEY_MAX];
    static char      res[RBAC_REF_KEY_MAX + 16];

    rc = rbac_refarg_split(S(arg), &k, &rest);
    if (rc != RBAC_OK) {
        return rc == RBAC_EUNKNOWN ? "unknown kind" : "malformed";
    }

    rc = rbac_refarg_eval(k, rest, S(caller), buf, &out, &is_key, &why);
    if (rc != RBAC_OK) {
        snprintf(res, sizeof(res), "err %s", why);
        return res;
    }

    assert_true(out.len <= RBAC_REF_KEY_MAX);
    snprintf(res, sizeof(res), "%s %.*s", is_key ? "key" : "id",
             (int) out.len, out.data);

    return res;
}


static void
test_eval(void **state)
{
    assert_string_equal(eval("w1", "u1"), "id w1");
    assert_string_equal(eval("Me", "u1"), "id Me");
    assert_string_equal(eval("@uuid:{" U "}", "u1"), "id " U);
    assert_string_equal(eval("@uuid:nope", "u1"), "err is not a UUID");
    assert_string_equal(eval("@uuid:", "u1"), "err is empty");

    /* organizations and users: an id, "me", or a name in any case */
    assert_string_equal(eval("@orgname:AcMe", "u1"), "key orgname:acme");
    assert_string_equal(eval("@orgname:default", "u1"),
                        "key orgname:default");
    assert_string_equal(eval("@orgname:urn:uuid:" U, "u1"), "id " U);
    assert_string_equal(eval("@orgname:me", "u1"), "key orgname:me");
    assert_string_equal(eval("@username:me", "u1"), "id u1");
    assert_string_equal(eval("@username:me", ""), "id ");
    assert_string_equal(eval("@username:ME", "u1"), "key username:me");
    assert_string_equal(eval("@username:Alice", "u1"), "key username:alice");
    assert_string_equal(eval("@username:" U, "u1"), "id " U);

    /* parents */
    assert_string_equal(eval("@workspace:Alice/Dev", "u1"),
                        "key workspace:alice/dev");
    assert_string_equal(eval("@workspace:me/Dev", "u1"),
                        "key workspace:u1/dev");
    assert_string_equal(eval("@workspace:me/dev", ""),
                        "err has no caller for \"me\"");
    assert_string_equal(eval("@workspace:{" U "}/Dev", "u1"),
                        "key workspace:" U "/dev");
    assert_string_equal(eval("@workspace:alice/a/b", "u1"),
                        "key workspace:alice/a/b");
    assert_string_equal(eval("@workspace:alice", "u1"),
                        "err has no parent (<parent>/<name>)");
    assert_string_equal(eval("@workspace:/dev", "u1"),
                        "err has an empty parent or name");
    assert_string_equal(eval("@workspace:alice/", "u1"),
                        "err has an empty parent or name");
    assert_string_equal(eval("@template:ACME/Go", "u1"),
                        "key template:acme/go");
    assert_string_equal(eval("@template:me/Go", "u1"), "key template:me/go");
    assert_string_equal(eval("@group:ACME/Admins", "u1"),
                        "key group:acme/Admins");

    /* children: UUIDs only */
    assert_string_equal(eval("@build:" "1B4E28BA2FA111D2883F0016D3CCA427",
                             "u1"),
                        "key build:" U);
    assert_string_equal(eval("@version:x" U "y", "u1"), "key version:" U);
    assert_string_equal(eval("@agent:../x", "u1"), "err is not a UUID");
    assert_string_equal(eval("@apikey:AbC123", "u1"), "key apikey:AbC123");

    /* syntax */
    assert_string_equal(eval("@nope:x", "u1"), "unknown kind");
    assert_string_equal(eval("@workspace", "u1"), "malformed");
    assert_string_equal(eval("@:x", "u1"), "unknown kind");
}


static void
test_bounds(void **state)
{
    char  v[600], arg[700];

    memset(v, 'a', RBAC_MAX_NAME);
    v[RBAC_MAX_NAME] = '\0';
    snprintf(arg, sizeof(arg), "@username:%s", v);
    assert_string_equal(eval(arg, "u1") + 0, eval(arg, "u1"));
    assert_memory_equal(eval(arg, "u1"), "key username:", 13);

    v[RBAC_MAX_NAME] = 'a';
    v[RBAC_MAX_NAME + 1] = '\0';
    snprintf(arg, sizeof(arg), "@username:%s", v);
    assert_string_equal(eval(arg, "u1"), "err is too long");

    /* both parts at their bound fit the key buffer */
    memset(v, 'A', RBAC_MAX_NAME);
    v[RBAC_MAX_NAME] = '/';
    memset(v + RBAC_MAX_NAME + 1, 'B', RBAC_MAX_NAME);
    v[2 * RBAC_MAX_NAME + 1] = '\0';
    snprintf(arg, sizeof(arg), "@workspace:%s", v);
    assert_memory_equal(eval(arg, "u1"), "key workspace:aaa", 17);

    /* a parent over its bound, the whole value within */
    v[RBAC_MAX_NAME] = 'A';
    v[RBAC_MAX_NAME + 1] = '/';
    snprintf(arg, sizeof(arg), "@workspace:%s", v);
    assert_string_equal(eval(arg, "u1"), "err is too long");
}


static void
test_fits(void **state)
{
    assert_true(rbac_refkind_fits(RBAC_RK_WORKSPACE, RBAC_T_WORKSPACE,
                                  RBAC_ARG_ID));
    assert_true(rbac_refkind_fits(RBAC_RK_BUILD, RBAC_T_WORKSPACE,
                                  RBAC_ARG_ID));
    assert_true(rbac_refkind_fits(RBAC_RK_AGENT, RBAC_T_WORKSPACE,
                                  RBAC_ARG_ID));
    assert_false(rbac_refkind_fits(RBAC_RK_VERSION, RBAC_T_WORKSPACE,
                                   RBAC_ARG_ID));
    assert_true(rbac_refkind_fits(RBAC_RK_VERSION, RBAC_T_TEMPLATE,
                                  RBAC_ARG_ID));
    assert_true(rbac_refkind_fits(RBAC_RK_UUID, RBAC_T_AUDIT_LOG,
                                  RBAC_ARG_ID));
    assert_false(rbac_refkind_fits(RBAC_RK_ORGNAME, RBAC_T_WORKSPACE,
                                   RBAC_ARG_ID));
    assert_true(rbac_refkind_fits(RBAC_RK_ORGNAME, RBAC_T_WORKSPACE,
                                  RBAC_ARG_ORG));
    assert_false(rbac_refkind_fits(RBAC_RK_USERNAME, RBAC_T_WORKSPACE,
                                   RBAC_ARG_ORG));
    assert_true(rbac_refkind_fits(RBAC_RK_USERNAME, RBAC_T_WORKSPACE,
                                  RBAC_ARG_OWNER));
    assert_true(rbac_refkind_fits(RBAC_RK_APIKEY, RBAC_T_USER, RBAC_ARG_ID));
    assert_false(rbac_refkind_fits(RBAC_RK_WORKSPACE, RBAC_T_USER,
                                   RBAC_ARG_OWNER));

    assert_int_equal(rbac_refkind_from_name(S("group")), RBAC_RK_GROUP);
    assert_int_equal(rbac_refkind_from_name(S("Group")), RBAC_RK_NONE);
    assert_int_equal(rbac_refkind_from_name(S("")), RBAC_RK_NONE);
    assert_string_equal(rbac_refkind_name(RBAC_RK_APIKEY), "apikey");
}


static void
test_refkey(void **state)
{
    rbac_rc_t        rc;
    rbac_str_t       out;
    const char      *why;
    rbac_refkind_t   k;
    char             buf[RBAC_REF_KEY_MAX];

    rc = rbac_refkey_parse(S("workspace:Alice/Dev"), buf, &out, &k, &why);
    assert_int_equal(rc, RBAC_OK);
    assert_int_equal(k, RBAC_RK_WORKSPACE);
    assert_int_equal(out.len, strlen("workspace:alice/dev"));
    assert_memory_equal(out.data, "workspace:alice/dev", out.len);

    rc = rbac_refkey_parse(S("build:{" U "}"), buf, &out, &k, &why);
    assert_int_equal(rc, RBAC_OK);
    assert_memory_equal(out.data, "build:" U, out.len);

    assert_int_equal(rbac_refkey_parse(S("username:me"), buf, &out, &k,
                                       &why),
                     RBAC_EINVAL);
    assert_int_equal(rbac_refkey_parse(S("orgname:" U), buf, &out, &k, &why),
                     RBAC_EINVAL);
    assert_int_equal(rbac_refkey_parse(S("workspace:me/x"), buf, &out, &k,
                                       &why),
                     RBAC_EINVAL);
    assert_int_equal(rbac_refkey_parse(S("uuid:" U), buf, &out, &k, &why),
                     RBAC_EINVAL);
    assert_int_equal(rbac_refkey_parse(S("nope"), buf, &out, &k, &why),
                     RBAC_EINVAL);
    assert_int_equal(rbac_refkey_parse(S("agent:x"), buf, &out, &k, &why),
                     RBAC_EINVAL);
}


static rbac_rc_t
parse_ref(const char *json)
{
    void        *rec;
    rbac_rc_t    rc;
    rbac_err_t   err;

    rc = rbac_record_parse(RBAC_REC_REF, json, strlen(json),
                           &rbac_malloc_allocator, &rec, &err);
    rbac_malloc_allocator.free(NULL, rec);

    return rc;
}


static void
test_record(void **state)
{
    void                         *rec;
    char                         *json;
    rbac_rc_t                     rc;
    rbac_str_t                    id;
    rbac_err_t                    err;
    const rbac_reference_rec_t   *r;
    static const char             in[] =
        "{\"id\":\"w1\",\"type\":\"workspace\",\"x\":1}";

    assert_int_equal(rbac_record_type_of_key(S("ref:build:x")),
                     RBAC_REC_REF);
    assert_int_equal(rbac_record_type_of_key(S("ref:build")),
                     RBAC_REC_NONE);

    rc = rbac_record_parse(RBAC_REC_REF, in, sizeof(in) - 1,
                           &rbac_malloc_allocator, &rec, &err);
    assert_int_equal(rc, RBAC_OK);

    r = rec;
    assert_int_equal(r->type, RBAC_T_WORKSPACE);
    assert_int_equal(rbac_reference_resolve(r, RBAC_RK_BUILD, &id), RBAC_OK);
    assert_int_equal(id.len, 2);
    assert_memory_equal(id.data, "w1", 2);
    assert_int_equal(rbac_reference_resolve(r, RBAC_RK_VERSION, &id),
                     RBAC_EINVAL);

    assert_int_equal(rbac_record_json(rec, &rbac_malloc_allocator, &json,
                                      NULL, &err),
                     RBAC_OK);
    assert_string_equal(json, "{\"type\":\"workspace\",\"id\":\"w1\"}");
    rbac_malloc_allocator.free(NULL, json);
    rbac_malloc_allocator.free(NULL, rec);

    json = "{\"type\":\"user\",\"id\":\"u\",\"auto\":true}";
    rc = rbac_record_parse(RBAC_REC_REF, json, strlen(json),
                           &rbac_malloc_allocator, &rec, &err);
    assert_int_equal(rc, RBAC_OK);
    assert_int_equal(rbac_record_json(rec, &rbac_malloc_allocator, &json,
                                      NULL, &err),
                     RBAC_OK);
    assert_string_equal(json,
                        "{\"type\":\"user\",\"id\":\"u\",\"auto\":true}");
    rbac_malloc_allocator.free(NULL, json);
    rbac_malloc_allocator.free(NULL, rec);

    assert_int_equal(parse_ref("{\"type\":\"nope\",\"id\":\"u\"}"),
                     RBAC_EUNKNOWN);
    assert_int_equal(parse_ref("{\"type\":\"user\"}"), RBAC_EINVAL);
    assert_int_equal(parse_ref("{\"type\":\"user\",\"id\":\"\"}"),
                     RBAC_EINVAL);
    assert_int_equal(parse_ref("{\"type\":\"user\",\"id\":1}"),
                     RBAC_EINVAL);
}


/* The canonical JSON of a record of `type`, or "error". */
static const char *
canon_json(rbac_rec_type_t type, const char *in)
{
    void         *rec;
    char         *json;
    rbac_err_t    err;
    static char   out[1024];

    if (rbac_record_parse(type, in, strlen(in), &rbac_malloc_allocator, &rec,
                          &err)
        != RBAC_OK)
    {
        return "error";
    }

    assert_int_equal(rbac_record_json(rec, &rbac_malloc_allocator, &json,
                                      NULL, &err),
                     RBAC_OK);
    snprintf(out, sizeof(out), "%s", json);
    rbac_malloc_allocator.free(NULL, json);
    rbac_malloc_allocator.free(NULL, rec);

    return out;
}


/* The names references are derived from: kept, and left out when unset. */
static void
test_names(void **state)
{
    assert_string_equal(canon_json(RBAC_REC_USER,
                                   "{\"id\":\"u1\",\"username\":\"Al\"}"),
                        "{\"id\":\"u1\",\"username\":\"Al\",\"kind\":"
                        "\"user\",\"status\":\"active\",\"login\":\"oidc\","
                        "\"site_roles\":[],\"orgs\":{},\"groups\":[],"
                        "\"idp_sync\":\"replace\"}");
    assert_null(strstr(canon_json(RBAC_REC_USER, "{\"id\":\"u1\"}"),
                       "username"));
    assert_string_equal(canon_json(RBAC_REC_USER,
                                   "{\"id\":\"u1\",\"username\":1}"),
                        "error");

    assert_non_null(strstr(canon_json(RBAC_REC_OBJ,
                                      "{\"type\":\"workspace\",\"id\":"
                                      "\"w\",\"org\":\"o\",\"name\":"
                                      "\"Dev\"}"),
                           "\"owner\":\"\",\"name\":\"Dev\","));
    assert_null(strstr(canon_json(RBAC_REC_OBJ,
                                  "{\"type\":\"workspace\",\"id\":\"w\","
                                  "\"org\":\"o\"}"), "name"));

    assert_non_null(strstr(canon_json(RBAC_REC_ORG,
                                      "{\"id\":\"o\",\"default\":true}"),
                           ",\"default\":true}"));
    assert_null(strstr(canon_json(RBAC_REC_ORG,
                                  "{\"id\":\"o\",\"default\":false}"),
                       "default\":"));
    assert_string_equal(canon_json(RBAC_REC_ORG,
                                   "{\"id\":\"o\",\"default\":\"yes\"}"),
                        "error");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_uuid_spellings),
        cmocka_unit_test(test_uuid_refused),
        cmocka_unit_test(test_eval),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_fits),
        cmocka_unit_test(test_refkey),
        cmocka_unit_test(test_record),
        cmocka_unit_test(test_names),
    };

    return cmocka_run_group_tests_name("reference", tests, NULL, NULL);
}
