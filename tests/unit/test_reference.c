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

/* A spelling and its canonical form ("-": refused). */
typedef struct {
    const char  *in;
    const char  *want;
} canon_case_t;

#define assert_canons(cases)                                                  \
    assert_canons_n(cases, sizeof(cases) / sizeof((cases)[0]))

static void
assert_canons_n(const canon_case_t *c, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        assert_string_equal(canon(c[i].in), c[i].want);
    }
}


static void
test_uuid_spellings(void **state)
{
    static const canon_case_t  cases[] = {
        { U, U },
        { "1B4E28BA-2FA1-11D2-883F-0016D3CCA427", U },
        { "{1b4e28ba-2fa1-11d2-883f-0016D3CCA427}", U },
        { "urn:uuid:" U, U },
        { "URN:UUID:" U, U },
        { "1b4e28ba2fa111d2883f0016d3cca427", U },
        { "1B4E28BA2FA111D2883F0016D3CCA427", U },

        /* Go drops the 38-character form's ends unseen */
        { "x" U "y", U },
        { "(" U ")", U },
    };

    assert_canons(cases);
}


static void
test_uuid_refused(void **state)
{
    static const canon_case_t  cases[] = {
        { "", "-" },
        { "me", "-" },
        { "1b4e28ba-2fa1-11d2-883f-0016d3cca42", "-" },
        { "1b4e28ba-2fa1-11d2-883f-0016d3cca4277", "-" },
        { "1b4e28ba-2fa1-11d2-883f-0016d3cca42g", "-" },
        { "1b4e28ba_2fa1-11d2-883f-0016d3cca427", "-" },
        { "1b4e28ba2fa1-11d2-883f-0016d3cca4270", "-" },
        { "urn:uuid-" U, "-" },
        { "uuid:" U, "-" },
        { "{" U, "-" },
        { "1b4e28ba2fa111d2883f0016d3cca42z", "-" },
        { "1b4e28ba-2fa111d2883f0016d3cca427", "-" },
        { " " U, "-" },
        { "1b4e28ba 2fa1-11d2-883f-0016d3cca427", "-" },
    };

    assert_canons(cases);
}


/* An argument, the caller, and what eval() says. */
typedef struct {
    const char  *arg;
    const char  *caller;
    const char  *want;
} eval_case_t;


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
    size_t  i;

    static const eval_case_t  cases[] = {
        { "w1", "u1", "id w1" },
        { "Me", "u1", "id Me" },
        { "@uuid:{" U "}", "u1", "id " U },
        { "@uuid:nope", "u1", "err is not a UUID" },
        { "@uuid:", "u1", "err is empty" },

        /* organizations and users: an id, "me", or a name in any case */
        { "@orgname:AcMe", "u1", "key orgname:acme" },
        { "@orgname:default", "u1", "key orgname:default" },
        { "@orgname:urn:uuid:" U, "u1", "id " U },
        { "@orgname:me", "u1", "key orgname:me" },
        { "@username:me", "u1", "id u1" },
        { "@username:me", "", "id " },
        { "@username:ME", "u1", "key username:me" },
        { "@username:Alice", "u1", "key username:alice" },
        { "@username:" U, "u1", "id " U },

        /* parents */
        { "@workspace:Alice/Dev", "u1", "key workspace:alice/dev" },
        { "@workspace:me/Dev", "u1", "key workspace:u1/dev" },
        { "@workspace:me/dev", "", "err has no caller for \"me\"" },
        { "@workspace:{" U "}/Dev", "u1", "key workspace:" U "/dev" },
        { "@workspace:alice/a/b", "u1", "key workspace:alice/a/b" },
        { "@workspace:alice", "u1", "err has no parent (<parent>/<name>)" },
        { "@workspace:/dev", "u1", "err has an empty parent or name" },
        { "@workspace:alice/", "u1", "err has an empty parent or name" },
        { "@template:ACME/Go", "u1", "key template:acme/go" },
        { "@template:me/Go", "u1", "key template:me/go" },
        { "@group:ACME/Admins", "u1", "key group:acme/Admins" },

        /* children: UUIDs only */
        { "@build:" "1B4E28BA2FA111D2883F0016D3CCA427", "u1", "key build:" U },
        { "@version:x" U "y", "u1", "key version:" U },
        { "@agent:../x", "u1", "err is not a UUID" },
        { "@apikey:AbC123", "u1", "key apikey:AbC123" },

        /* syntax */
        { "@nope:x", "u1", "unknown kind" },
        { "@workspace", "u1", "malformed" },
        { "@:x", "u1", "unknown kind" },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_string_equal(eval(cases[i].arg, cases[i].caller),
                            cases[i].want);
    }
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


/* Whether a kind of reference fits an argument of an object type. */
typedef struct {
    rbac_refkind_t  kind;
    rbac_type_t     type;
    rbac_arg_t      arg;
    int             fits;
} fits_case_t;


static void
test_fits(void **state)
{
    size_t  i;

    static const fits_case_t  cases[] = {
        { RBAC_RK_WORKSPACE, RBAC_T_WORKSPACE, RBAC_ARG_ID, 1 },
        { RBAC_RK_BUILD, RBAC_T_WORKSPACE, RBAC_ARG_ID, 1 },
        { RBAC_RK_AGENT, RBAC_T_WORKSPACE, RBAC_ARG_ID, 1 },
        { RBAC_RK_VERSION, RBAC_T_WORKSPACE, RBAC_ARG_ID, 0 },
        { RBAC_RK_VERSION, RBAC_T_TEMPLATE, RBAC_ARG_ID, 1 },
        { RBAC_RK_UUID, RBAC_T_AUDIT_LOG, RBAC_ARG_ID, 1 },
        { RBAC_RK_ORGNAME, RBAC_T_WORKSPACE, RBAC_ARG_ID, 0 },
        { RBAC_RK_ORGNAME, RBAC_T_WORKSPACE, RBAC_ARG_ORG, 1 },
        { RBAC_RK_USERNAME, RBAC_T_WORKSPACE, RBAC_ARG_ORG, 0 },
        { RBAC_RK_USERNAME, RBAC_T_WORKSPACE, RBAC_ARG_OWNER, 1 },
        { RBAC_RK_APIKEY, RBAC_T_USER, RBAC_ARG_ID, 1 },
        { RBAC_RK_WORKSPACE, RBAC_T_USER, RBAC_ARG_OWNER, 0 },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (cases[i].fits) {
            assert_true(rbac_refkind_fits(cases[i].kind, cases[i].type,
                                          cases[i].arg));

        } else {
            assert_false(rbac_refkind_fits(cases[i].kind, cases[i].type,
                                           cases[i].arg));
        }
    }

    assert_int_equal(rbac_refkind_from_name(S("group")), RBAC_RK_GROUP);
    assert_int_equal(rbac_refkind_from_name(S("Group")), RBAC_RK_NONE);
    assert_int_equal(rbac_refkind_from_name(S("")), RBAC_RK_NONE);
    assert_string_equal(rbac_refkind_name(RBAC_RK_APIKEY), "apikey");
}


static void
test_refkey(void **state)
{
    size_t           i;
    rbac_rc_t        rc;
    rbac_str_t       out;
    const char      *why;
    rbac_refkind_t   k;
    char             buf[RBAC_REF_KEY_MAX];

    static const char  *refused[] = {
        "username:me", "orgname:" U, "workspace:me/x", "uuid:" U, "nope",
        "agent:x",
    };

    rc = rbac_refkey_parse(S("workspace:Alice/Dev"), buf, &out, &k, &why);
    assert_int_equal(rc, RBAC_OK);
    assert_int_equal(k, RBAC_RK_WORKSPACE);
    assert_int_equal(out.len, strlen("workspace:alice/dev"));
    assert_memory_equal(out.data, "workspace:alice/dev", out.len);

    rc = rbac_refkey_parse(S("build:{" U "}"), buf, &out, &k, &why);
    assert_int_equal(rc, RBAC_OK);
    assert_memory_equal(out.data, "build:" U, out.len);

    /* refused: no key, or not a reference */
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        assert_int_equal(rbac_refkey_parse(S(refused[i]), buf, &out, &k,
                                           &why),
                         RBAC_EINVAL);
    }
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
