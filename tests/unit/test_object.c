/*
 * test_object.c: the object resolver (rbac_object.h): which record an
 * object is read from, the record winning over the request, contradicting
 * org= and owner=, "me", user objects and their memberships, types without
 * records, the arguments refused before any read, records that are not
 * the one asked for, and allocation failures.
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


static rbac_str_t
str(const char *s)
{
    rbac_str_t  r;

    r.data = s;
    r.len = s ? strlen(s) : 0;

    return r;
}


/* Arguments: NULL is "not given". */
static rbac_object_args_t
args(rbac_type_t type, const char *id, const char *org, const char *owner,
    const char *me)
{
    rbac_object_args_t  a;

    memset(&a, 0, sizeof(a));
    a.type = type;
    a.id = str(id);
    a.org = str(org);
    a.owner = str(owner);
    a.me = str(me);

    return a;
}


/* Resolves; on RBAC_OK frees nothing (the caller checks then frees). */
static rbac_rc_t
resolve(const rbac_object_args_t *a, const void *rec, rbac_object_t *o,
    rbac_err_t *err)
{
    memset(err, 0, sizeof(*err));

    return rbac_object_resolve(a, rec, &rbac_malloc_allocator, o, err);
}


static void
assert_str(rbac_str_t s, const char *want)
{
    assert_non_null(s.data);
    assert_int_equal(s.len, strlen(want));
    assert_memory_equal(s.data, want, s.len);
}


/* Denied with this reason. */
static void
assert_denied(const rbac_object_args_t *a, const void *rec, rbac_rc_t rc,
    const char *reason)
{
    rbac_err_t     err;
    rbac_object_t  o;

    assert_int_equal(resolve(a, rec, &o, &err), rc);
    assert_string_equal(err.msg, reason);
}


static const char  ws_json[] =
    "{\"type\":\"workspace\",\"id\":\"wa\",\"org\":\"orgA\","
    "\"owner\":\"alice\",\"acl_users\":{\"bob\":\"use\"},"
    "\"acl_groups\":{\"orgA\":[\"read\"]}}";

static const char  carol_json[] =
    "{\"id\":\"carol\",\"orgs\":{}}";

static const char  dave_json[] =
    "{\"id\":\"dave\",\"orgs\":{\"orgA\":[],"
    "\"orgB\":[\"organization-admin\"]}}";


static void
test_record_kinds(void **state)
{
    rbac_str_t          id;
    rbac_object_args_t  a;

    (void) state;

    a = args(RBAC_T_WORKSPACE, "wa", NULL, NULL, "alice");
    assert_int_equal(rbac_object_record(&a, &id), RBAC_REC_OBJ);
    assert_str(id, "wa");

    a.type = RBAC_T_TEMPLATE;
    assert_int_equal(rbac_object_record(&a, &id), RBAC_REC_OBJ);
    a.type = RBAC_T_GROUP;
    assert_int_equal(rbac_object_record(&a, &id), RBAC_REC_OBJ);
    a.type = RBAC_T_ORGANIZATION;
    assert_int_equal(rbac_object_record(&a, &id), RBAC_REC_ORG);
    a.type = RBAC_T_USER;
    assert_int_equal(rbac_object_record(&a, &id), RBAC_REC_USER);

    /* types without records, and no id at all */
    a.type = RBAC_T_FILE;
    assert_int_equal(rbac_object_record(&a, &id), RBAC_REC_NONE);
    a.type = RBAC_T_WORKSPACE_DORMANT;
    assert_int_equal(rbac_object_record(&a, &id), RBAC_REC_NONE);

    a = args(RBAC_T_WORKSPACE, NULL, "orgA", "alice", "alice");
    assert_int_equal(rbac_object_record(&a, &id), RBAC_REC_NONE);
    assert_null(id.data);

    /* "me" is the caller */
    a = args(RBAC_T_USER, "me", NULL, NULL, "alice");
    assert_int_equal(rbac_object_record(&a, &id), RBAC_REC_USER);
    assert_str(id, "alice");

    /* arguments refused before any read: nothing to read */
    a = args(RBAC_T_WORKSPACE, "", NULL, NULL, "alice");
    assert_int_equal(rbac_object_record(&a, &id), RBAC_REC_NONE);
    a = args(RBAC_T_WORKSPACE, "w\r\nX-Rbac-User: x", NULL, NULL, "alice");
    assert_int_equal(rbac_object_record(&a, &id), RBAC_REC_NONE);
    a = args(RBAC_T_USER, "me", NULL, NULL, NULL);
    assert_int_equal(rbac_object_record(&a, &id), RBAC_REC_NONE);
}


static void
test_record_wins(void **state)
{
    void                *ws;
    rbac_err_t           err;
    rbac_object_t        o;
    rbac_object_args_t   a;

    (void) state;

    ws = testutil_parse_ok(RBAC_REC_OBJ, ws_json);

    /* the record's org, owner and ACL */
    a = args(RBAC_T_WORKSPACE, "wa", NULL, NULL, "bob");
    a.any_org = 1;
    assert_int_equal(resolve(&a, ws, &o, &err), RBAC_OK);
    assert_int_equal(o.type, RBAC_T_WORKSPACE);
    assert_str(o.type_name, "workspace");
    assert_str(o.id, "wa");
    assert_str(o.org, "orgA");
    assert_str(o.owner, "alice");
    assert_int_equal(o.nacl_users, 1);
    assert_int_equal(o.nacl_groups, 1);
    assert_int_equal(o.any_org, 0);      /* the record's org, not "any" */
    rbac_object_view_free(&o, &rbac_malloc_allocator);

    /* matching org= and owner= (owner=me) change nothing */
    a = args(RBAC_T_WORKSPACE, "wa", "orgA", "me", "alice");
    assert_int_equal(resolve(&a, ws, &o, &err), RBAC_OK);
    assert_str(o.owner, "alice");
    rbac_object_view_free(&o, &rbac_malloc_allocator);

    /* empty org= and owner= are not given */
    a = args(RBAC_T_WORKSPACE, "wa", "", "", "bob");
    assert_int_equal(resolve(&a, ws, &o, &err), RBAC_OK);
    assert_str(o.org, "orgA");
    rbac_object_view_free(&o, &rbac_malloc_allocator);

    /* contradicting ones are denied */
    a = args(RBAC_T_WORKSPACE, "wa", "orgB", NULL, "alice");
    assert_denied(&a, ws, RBAC_EINVAL, "object org mismatch");
    a = args(RBAC_T_WORKSPACE, "wa", NULL, "me", "bob");
    assert_denied(&a, ws, RBAC_EINVAL, "object owner mismatch");
    a = args(RBAC_T_WORKSPACE, "wa", "orgA", "bob", "bob");
    assert_denied(&a, ws, RBAC_EINVAL, "object owner mismatch");

    /* absent */
    a = args(RBAC_T_WORKSPACE, "wa", NULL, NULL, "alice");
    assert_denied(&a, NULL, RBAC_ENOTFOUND, "workspace wa not found");
    a = args(RBAC_T_TEMPLATE, "me", NULL, NULL, "alice");
    assert_denied(&a, NULL, RBAC_ENOTFOUND, "template alice not found");

    /* a record that is not the one asked for */
    a = args(RBAC_T_TEMPLATE, "wa", NULL, NULL, "alice");
    assert_int_equal(resolve(&a, ws, &o, &err), RBAC_EPARSE);
    a = args(RBAC_T_WORKSPACE, "wb", NULL, NULL, "alice");
    assert_int_equal(resolve(&a, ws, &o, &err), RBAC_EPARSE);
    a = args(RBAC_T_USER, "wa", NULL, NULL, "alice");
    assert_int_equal(resolve(&a, ws, &o, &err), RBAC_EPARSE);

    free(ws);
}


static void
test_dormant_and_deprecated(void **state)
{
    void                *ws, *tpl;
    rbac_err_t           err;
    rbac_object_t        o;
    rbac_object_args_t   a;

    (void) state;

    ws = testutil_parse_ok(RBAC_REC_OBJ,
        "{\"type\":\"workspace\",\"id\":\"wd\","
        "\"org\":\"orgA\",\"owner\":\"alice\",\"dormant\":true,"
        "\"acl_users\":{\"bob\":\"use\"}}");
    a = args(RBAC_T_WORKSPACE, "wd", NULL, NULL, "alice");
    assert_int_equal(resolve(&a, ws, &o, &err), RBAC_OK);
    assert_int_equal(o.type, RBAC_T_WORKSPACE_DORMANT);
    assert_int_equal(o.nacl_users, 0);
    free(ws);

    tpl = testutil_parse_ok(RBAC_REC_OBJ,
        "{\"type\":\"template\",\"id\":\"t\","
        "\"org\":\"orgA\",\"deprecated\":{\"message\":\"m\"}}");
    a = args(RBAC_T_TEMPLATE, "t", "orgA", NULL, "alice");
    assert_int_equal(resolve(&a, tpl, &o, &err), RBAC_OK);
    assert_int_equal(o.deprecated, 1);
    assert_str(o.deprecated_message, "m");
    assert_str(o.owner, "");

    /* a template has no owner: any owner= contradicts it */
    a = args(RBAC_T_TEMPLATE, "t", NULL, "alice", "alice");
    assert_denied(&a, tpl, RBAC_EINVAL, "object owner mismatch");
    free(tpl);
}


static void
test_organization(void **state)
{
    void                *org;
    rbac_err_t           err;
    rbac_object_t        o;
    rbac_object_args_t   a;

    (void) state;

    org = testutil_parse_ok(RBAC_REC_ORG, "{\"id\":\"orgA\",\"name\":\"A\"}");

    a = args(RBAC_T_ORGANIZATION, "orgA", NULL, NULL, "alice");
    assert_int_equal(resolve(&a, org, &o, &err), RBAC_OK);
    assert_str(o.id, "orgA");
    assert_str(o.org, "orgA");
    assert_str(o.owner, "");

    a = args(RBAC_T_ORGANIZATION, "orgA", "orgA", NULL, "alice");
    assert_int_equal(resolve(&a, org, &o, &err), RBAC_OK);

    a = args(RBAC_T_ORGANIZATION, "orgA", "orgB", NULL, "alice");
    assert_denied(&a, org, RBAC_EINVAL, "object org mismatch");
    a = args(RBAC_T_ORGANIZATION, "orgA", NULL, "alice", "alice");
    assert_denied(&a, org, RBAC_EINVAL, "object owner mismatch");
    a = args(RBAC_T_ORGANIZATION, "orgB", NULL, NULL, "alice");
    assert_denied(&a, NULL, RBAC_ENOTFOUND, "organization orgB not found");
    assert_int_equal(resolve(&a, org, &o, &err), RBAC_EPARSE);

    /* without an id: what the arguments say */
    a = args(RBAC_T_ORGANIZATION, NULL, "orgB", NULL, "alice");
    assert_int_equal(resolve(&a, NULL, &o, &err), RBAC_OK);
    assert_str(o.org, "orgB");
    assert_str(o.id, "");

    free(org);
}


static void
test_user(void **state)
{
    void                *carol, *dave;
    rbac_err_t           err;
    rbac_object_t        o;
    rbac_object_args_t   a;

    (void) state;

    carol = testutil_parse_ok(RBAC_REC_USER, carol_json);
    dave = testutil_parse_ok(RBAC_REC_USER, dave_json);

    /* owned by the user, no org (Coder's user object) */
    a = args(RBAC_T_USER, "carol", NULL, NULL, "adminA");
    assert_int_equal(resolve(&a, carol, &o, &err), RBAC_OK);
    assert_str(o.id, "carol");
    assert_str(o.owner, "carol");
    assert_str(o.org, "");

    /* the org of the request is not the user's: carol is in no org */
    a = args(RBAC_T_USER, "carol", "orgA", NULL, "adminA");
    assert_denied(&a, carol, RBAC_EINVAL, "object org mismatch");

    /* not even an org the user is a member of: a user is in no org */
    a = args(RBAC_T_USER, "dave", "orgB", NULL, "adminA");
    assert_denied(&a, dave, RBAC_EINVAL, "object org mismatch");
    a = args(RBAC_T_USER, "dave", "orgC", NULL, "adminA");
    assert_denied(&a, dave, RBAC_EINVAL, "object org mismatch");

    /* owner= must be the user */
    a = args(RBAC_T_USER, "me", NULL, "me", "dave");
    assert_int_equal(resolve(&a, dave, &o, &err), RBAC_OK);
    assert_str(o.owner, "dave");
    a = args(RBAC_T_USER, "dave", NULL, "carol", "carol");
    assert_denied(&a, dave, RBAC_EINVAL, "object owner mismatch");

    /* unknown user, and a user's org without its record */
    a = args(RBAC_T_USER, "erin", NULL, NULL, "adminA");
    assert_denied(&a, NULL, RBAC_ENOTFOUND, "user erin not found");
    a = args(RBAC_T_USER, NULL, "orgA", NULL, "adminA");
    assert_denied(&a, NULL, RBAC_EINVAL, "object org mismatch");
    a = args(RBAC_T_USER, NULL, NULL, "me", "adminA");
    assert_int_equal(resolve(&a, NULL, &o, &err), RBAC_OK);
    assert_str(o.owner, "adminA");

    /* the record read for dave must be dave's */
    a = args(RBAC_T_USER, "dave", NULL, NULL, "adminA");
    assert_int_equal(resolve(&a, carol, &o, &err), RBAC_EPARSE);

    free(carol);
    free(dave);
}


static void
test_carol_is_denied(void **state)
{
    /* an org admin of orgA deleting carol (no org) through org=orgA */
    void                *carol;
    rbac_err_t           err;
    rbac_object_t        o;
    rbac_object_args_t   a;

    (void) state;

    carol = testutil_parse_ok(RBAC_REC_USER, carol_json);
    a = args(RBAC_T_USER, "carol", "orgA", NULL, "adminA");
    assert_int_equal(resolve(&a, carol, &o, &err), RBAC_EINVAL);
    free(carol);
}


static void
test_types_without_records(void **state)
{
    rbac_err_t           err;
    rbac_object_t        o;
    rbac_object_args_t   a;

    (void) state;

    a = args(RBAC_T_FILE, "f1", NULL, "me", "alice");
    assert_int_equal(resolve(&a, NULL, &o, &err), RBAC_OK);
    assert_int_equal(o.type, RBAC_T_FILE);
    assert_str(o.type_name, "file");
    assert_str(o.id, "f1");
    assert_str(o.owner, "alice");
    assert_str(o.org, "");

    a = args(RBAC_T_ORGANIZATION_MEMBER, "bob", "orgA", "bob", "alice");
    assert_int_equal(resolve(&a, NULL, &o, &err), RBAC_OK);
    assert_str(o.org, "orgA");
    assert_str(o.owner, "bob");

    /* no id: the whole type in the org, for create */
    a = args(RBAC_T_WORKSPACE, NULL, "orgA", "me", "alice");
    assert_int_equal(resolve(&a, NULL, &o, &err), RBAC_OK);
    assert_str(o.id, "");
    assert_str(o.org, "orgA");
    assert_str(o.owner, "alice");

    a = args(RBAC_T_DEPLOYMENT_STATS, NULL, NULL, NULL, "alice");
    assert_int_equal(resolve(&a, NULL, &o, &err), RBAC_OK);
    assert_str(o.id, "");
    assert_str(o.org, "");
    assert_str(o.owner, "");
}


static void
test_arguments_refused(void **state)
{
    char                 big[RBAC_MAX_NAME + 2];
    rbac_object_args_t   a;

    (void) state;

    a = args(RBAC_T_WORKSPACE, "", NULL, NULL, "alice");
    assert_denied(&a, NULL, RBAC_EINVAL, "object id is empty");
    a = args(RBAC_T_FILE, "", NULL, NULL, "alice");
    assert_denied(&a, NULL, RBAC_EINVAL, "object id is empty");

    /* "me" without a caller id */
    a = args(RBAC_T_USER, "me", NULL, NULL, NULL);
    assert_denied(&a, NULL, RBAC_EINVAL, "object id is empty");
    a = args(RBAC_T_USER, "me", NULL, NULL, "");
    assert_denied(&a, NULL, RBAC_EINVAL, "object id is empty");

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    a = args(RBAC_T_WORKSPACE, big, NULL, NULL, "alice");
    assert_denied(&a, NULL, RBAC_EINVAL, "object id too long");
    a = args(RBAC_T_WORKSPACE, NULL, big, NULL, "alice");
    assert_denied(&a, NULL, RBAC_EINVAL, "object org too long");
    a = args(RBAC_T_WORKSPACE, NULL, NULL, big, "alice");
    assert_denied(&a, NULL, RBAC_EINVAL, "object owner too long");
    big[RBAC_MAX_NAME] = '\0';
    a = args(RBAC_T_FILE, big, NULL, NULL, "alice");
    assert_denied(&a, NULL, RBAC_OK, "");

    a = args(RBAC_T_WORKSPACE, "w\r\n", NULL, NULL, "alice");
    assert_denied(&a, NULL, RBAC_EINVAL, "object id holds a control byte");
    a = args(RBAC_T_WORKSPACE, NULL, "orgA\n", NULL, "alice");
    assert_denied(&a, NULL, RBAC_EINVAL, "object org holds a control byte");
    a = args(RBAC_T_WORKSPACE, NULL, NULL, "\x7f", "alice");
    assert_denied(&a, NULL, RBAC_EINVAL,
                  "object owner holds a control byte");

    /* a NUL inside a value */
    a = args(RBAC_T_FILE, "ab", NULL, NULL, "alice");
    a.id.data = "a\0b";
    a.id.len = 3;
    assert_denied(&a, NULL, RBAC_EINVAL, "object id holds a control byte");
}


static void
test_alloc_failures(void **state)
{
    void                *ws;
    long                 n;
    rbac_rc_t            rc;
    rbac_err_t           err;
    rbac_object_t        o;
    rbac_allocator_t     al;
    testutil_alloc_t     ta;
    rbac_object_args_t   a;

    (void) state;

    ws = testutil_parse_ok(RBAC_REC_OBJ, ws_json);
    a = args(RBAC_T_WORKSPACE, "wa", NULL, NULL, "alice");

    for (n = 1; ; n++) {
        testutil_alloc_init(&ta, &al, n);
        memset(&err, 0, sizeof(err));
        rc = rbac_object_resolve(&a, ws, &al, &o, &err);

        if (rc == RBAC_OK) {
            rbac_object_view_free(&o, &al);
            assert_int_equal(ta.live, 0);
            break;
        }

        assert_int_equal(rc, RBAC_ENOMEM);
        assert_int_equal(ta.live, 0);
    }

    /* a deny after the ACL was built frees it */
    testutil_alloc_init(&ta, &al, 0);
    a = args(RBAC_T_WORKSPACE, "wa", "orgB", NULL, "alice");
    assert_int_equal(rbac_object_resolve(&a, ws, &al, &o, &err),
                     RBAC_EINVAL);
    assert_int_equal(ta.live, 0);

    free(ws);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_record_kinds),
        cmocka_unit_test(test_record_wins),
        cmocka_unit_test(test_dormant_and_deprecated),
        cmocka_unit_test(test_organization),
        cmocka_unit_test(test_user),
        cmocka_unit_test(test_carol_is_denied),
        cmocka_unit_test(test_types_without_records),
        cmocka_unit_test(test_arguments_refused),
        cmocka_unit_test(test_alloc_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
