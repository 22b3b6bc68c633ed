/*
 * test_body.c: the top-level fields of a JSON request body.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rbac_body.h"
#include "testutil.h"


static void
assert_field(const rbac_body_t *b, const char *name, const char *value)
{
    const rbac_str_t  *v;

    v = rbac_body_get(b, S(name));

    if (value == NULL) {
        assert_null(v);
        return;
    }

    assert_non_null(v);
    assert_int_equal(v->len, strlen(value));
    assert_memory_equal(v->data, value, v->len);
}


static void
test_scalars(void **state)
{
    rbac_err_t   err;
    rbac_body_t  b;
    const char  *j = "{\"transition\":\"start\",\"n\":3,\"x\":2.50,"
                     "\"ok\":true,\"no\":false,\"nil\":null,"
                     "\"obj\":{\"a\":1},\"arr\":[1],\"neg\":-7,"
                     "\"e\":1E+3,\"big\":12345678901234567890,"
                     "\"esc\":\"a\\\"b\\u00e9\",\"empty\":\"\"}";

    (void) state;

    assert_int_equal(rbac_body_parse(j, strlen(j), &rbac_malloc_allocator,
                                     &b, &err), RBAC_OK);
    assert_int_equal(b.nfields, 10);
    assert_field(&b, "transition", "start");
    assert_field(&b, "n", "3");
    assert_field(&b, "x", "2.50");                  /* as written */
    assert_field(&b, "ok", "true");
    assert_field(&b, "no", "false");
    assert_field(&b, "neg", "-7");
    assert_field(&b, "e", "1E+3");
    assert_field(&b, "big", "12345678901234567890");
    assert_field(&b, "esc", "a\"b\xc3\xa9");        /* decoded */
    assert_field(&b, "empty", "");
    assert_field(&b, "nil", NULL);
    assert_field(&b, "obj", NULL);
    assert_field(&b, "arr", NULL);
    assert_field(&b, "missing", NULL);
    assert_field(&b, "a", NULL);                    /* nested: not exposed */

    rbac_malloc_allocator.free(NULL, b.fields);
}


/* Names are folded as Go's encoding/json matches them. */
static void
test_folded_names(void **state)
{
    rbac_err_t   err;
    rbac_body_t  b;
    const char  *j = "{\"Template_ID\":\"t1\",\"TRAN\xc5\xbfITION\":\"stop\","
                     "\"\xe2\x84\xaaind\":\"k\",\"na\\u006De\":\"w\"}";

    (void) state;

    assert_int_equal(rbac_body_parse(j, strlen(j), &rbac_malloc_allocator,
                                     &b, &err), RBAC_OK);
    assert_int_equal(b.nfields, 4);
    assert_field(&b, "template_id", "t1");
    assert_field(&b, "TEMPLATE_id", "t1");
    assert_field(&b, "transition", "stop");
    assert_field(&b, "kind", "k");
    assert_field(&b, "name", "w");
    assert_field(&b, "template", NULL);
    assert_field(&b, "template_id_", NULL);
    assert_field(&b, "", NULL);

    rbac_malloc_allocator.free(NULL, b.fields);

    /* no fields at all */
    assert_int_equal(rbac_body_parse("{}\n", 3, &rbac_malloc_allocator, &b,
                                     &err), RBAC_OK);
    assert_int_equal(b.nfields, 0);
    assert_null(b.fields);
    assert_field(&b, "a", NULL);

    j = " {\"o\": {\"x\": \"\\u0000\"}, \"n\": null} ";
    assert_int_equal(rbac_body_parse(j, strlen(j), &rbac_malloc_allocator,
                                     &b, &err), RBAC_OK);
    assert_int_equal(b.nfields, 0);
    assert_null(b.fields);
}


static void
test_refused(void **state)
{
    size_t       i;
    rbac_err_t   err;
    rbac_body_t  b;

    static const struct {
        const char  *json;
        size_t       len;       /* 0: strlen */
        const char  *reason;
    }  bad[] = {
        { "", 0, "not JSON" },
        { "not json", 0, "not JSON" },
        { "[1,2]", 0, "not a JSON object" },
        { "\"s\"", 0, "not a JSON object" },
        { "42", 0, "not a JSON object" },
        { "{\"a\":", 0, "not JSON" },
        { "{} {}", 0, "after the JSON" },
        { "{\"a\":1}x", 0, "after the JSON" },
        { "{\"a\":1}\0", 8, "after the JSON" },
        { "\xef\xbb\xbf{\"a\":1}", 0, "not JSON" },           /* BOM */
        { "{\x01\"a\":1}", 0, "not JSON" },
        /* another reader could take these differently */
        { "{\"a\":\"start\",\"a\":\"delete\"}", 0,
          "the field \"a\" twice" },
        { "{\"transition\":\"start\",\"Transition\":\"delete\"}", 0,
          "the field \"transition\" twice" },
        { "{\"transition\":\"start\",\"tran\xc5\xbfition\":\"delete\"}", 0,
          "twice" },
        { "{\"a\":{\"x\":1},\"A\":\"s\"}", 0, "twice" },
        { "{\"a\":\"x\\u0000y\"}", 0, "NUL" },
        { "{\"a\\u0000b\":1}", 0, "NUL" },
        { "{\"a\":\"x\x01y\"}", 0, "control character" },
        { "{\"a\":\"x\ty\"}", 0, "control character" },
        { "{\"a\":\"\xff\"}", 0, "not UTF-8" },
        { "{\"a\":\"\xed\xa0\x80\"}", 0, "not UTF-8" },      /* surrogate */
        { "{\"a\":\"\xc3\"}", 0, "not UTF-8" },
        { "{\"a\":01}", 0, "malformed number" },
        { "{\"a\":1.}", 0, "malformed number" },
        { "{\"a\":1e}", 0, "not JSON" },
        { "{\"a\":-}", 0, "not JSON" },
    };

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(rbac_body_parse(bad[i].json,
                                         bad[i].len ? bad[i].len
                                                    : strlen(bad[i].json),
                                         &rbac_malloc_allocator, &b, &err),
                         RBAC_EPARSE);
        assert_null(b.fields);

        if (strstr(err.msg, bad[i].reason) == NULL) {
            fail_msg("%zu: \"%s\" does not say \"%s\"", i, err.msg,
                     bad[i].reason);
        }
    }
}


/* RBAC_MAX_LIST top-level members, scalar or not, and no more. */
static void
test_bound(void **state)
{
    char         *j, *p;
    size_t        i, n;
    rbac_err_t    err;
    rbac_body_t   b;

    (void) state;

    j = malloc(20 * (RBAC_MAX_LIST + 2));
    assert_non_null(j);

    for (n = RBAC_MAX_LIST; n <= RBAC_MAX_LIST + 1; n++) {
        p = j;
        *p++ = '{';

        for (i = 0; i < n; i++) {
            p += sprintf(p, "%s\"f%zu\":%s", i ? "," : "", i,
                         (i % 2) ? "[]" : "1");
        }

        *p++ = '}';

        if (n == RBAC_MAX_LIST) {
            assert_int_equal(rbac_body_parse(j, (size_t) (p - j),
                                             &rbac_malloc_allocator, &b,
                                             &err),
                             RBAC_OK);
            assert_int_equal(b.nfields, RBAC_MAX_LIST / 2);
            assert_field(&b, "f0", "1");
            assert_field(&b, "f1022", "1");
            assert_field(&b, "f1023", NULL);
            rbac_malloc_allocator.free(NULL, b.fields);

        } else {
            assert_int_equal(rbac_body_parse(j, (size_t) (p - j),
                                             &rbac_malloc_allocator, &b,
                                             &err),
                             RBAC_EBOUND);
            assert_null(b.fields);
        }
    }

    free(j);
}


static void
test_alloc_failure(void **state)
{
    long               n;
    rbac_rc_t          rc;
    rbac_err_t         err;
    rbac_body_t        b;
    testutil_alloc_t   t;
    rbac_allocator_t   a;
    const char        *j = "{\"a\":\"b\",\"c\":[1,{\"d\":2}],\"e\":3}";

    (void) state;

    testutil_alloc_init(&t, &a, 1);
    assert_int_equal(rbac_body_parse(j, strlen(j), &a, &b, &err),
                     RBAC_ENOMEM);
    assert_null(b.fields);
    assert_int_equal(t.live, 0);

    /* more members than the stack notes: a second allocation, each failing */
    {
        char    big[20 * 100];
        char   *p;
        size_t  i;

        p = big;
        *p++ = '{';

        for (i = 0; i < 100; i++) {
            p += sprintf(p, "%s\"f%zu\":%zu", i ? "," : "", i, i);
        }

        *p++ = '}';

        for (n = 1; ; n++) {
            testutil_alloc_init(&t, &a, n);
            rc = rbac_body_parse(big, (size_t) (p - big), &a, &b, &err);

            if (rc == RBAC_OK) {
                assert_int_equal(b.nfields, 100);
                assert_field(&b, "f99", "99");
                a.free(a.ud, b.fields);
                assert_int_equal(t.live, 0);
                break;
            }

            assert_int_equal(rc, RBAC_ENOMEM);
            assert_null(b.fields);
            assert_int_equal(t.live, 0);
            assert_true(n < 10);
        }
    }
}


/*
 * Nested values are held to JSON as well (the whole body is scanned once,
 * by one scanner); escapes decode as JSON has them.
 */
static void
test_nested_and_escapes(void **state)
{
    size_t       i;
    char        *deep;
    const char  *j;
    rbac_err_t   err;
    rbac_body_t  b;

    static const char  *bad[] = {
        "{\"a\":[1,]}",
        "{\"a\":[1 2]}",
        "{\"a\":{\"x\"}}",
        "{\"a\":{\"x\":1,}}",
        "{\"a\":{1:2}}",
        "{\"a\":[\"\\q\"]}",
        "{\"a\":[\"\\u12g4\"]}",
        "{\"a\":[\"\\ud800\"]}",                /* lone high surrogate */
        "{\"a\":[\"\\udc00\"]}",                /* lone low surrogate */
        "{\"a\":\"\\ud800\\u0041\"}",
        "{\"a\":[\"x\ny\"]}",                    /* raw control byte */
        "{\"a\":[tru]}",
        "{\"a\":[nul]}",
        "{\"a\":[+1]}",
        "{\"a\":[.5]}",
        "{\"a\":[1]]}",
        "{\"a\":{\"b\":[}]}",
        "{\"a\":[",
        "{\"a\":\"x}",
        "{\"a\":1,}",
        "{,\"a\":1}",
        "{\"a\" 1}",
    };

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (rbac_body_parse(bad[i], strlen(bad[i]), &rbac_malloc_allocator,
                            &b, &err)
            != RBAC_EPARSE)
        {
            fail_msg("%zu: %s parsed", i, bad[i]);
        }

        assert_null(b.fields);
    }

    /* nested: UTF-8 not checked, \u0000 allowed, JSON otherwise */
    j = "{\"a\":[\"\xff\",\"\\u0000\",{\"x\":[[]]},-0.5e-3],"
        "\"b\":\"\\n\\t\\/\\\\\\u00e9\\ud83d\\ude00\"}";
    i = rbac_body_parse(j, strlen(j), &rbac_malloc_allocator, &b, &err);
    assert_int_equal(i, RBAC_OK);
    assert_field(&b, "b", "\n\t/\\\xc3\xa9\xf0\x9f\x98\x80");
    rbac_malloc_allocator.free(NULL, b.fields);

    /* names decode before they fold: "\u0041" is "a" */
    j = "{\"a\":1,\"\\u0041\":2}";
    assert_int_equal(rbac_body_parse(j, strlen(j), &rbac_malloc_allocator,
                                     &b, &err),
                     RBAC_EPARSE);
    assert_non_null(strstr(err.msg, "twice"));

    /* 1024 levels below the top, and no more */
    deep = malloc(2 * 1100 + 16);
    assert_non_null(deep);

    for (i = 1024; i <= 1025; i++) {
        size_t  k, len;

        len = (size_t) sprintf(deep, "{\"a\":");

        for (k = 0; k < i; k++) {
            deep[len++] = '[';
        }

        for (k = 0; k < i; k++) {
            deep[len++] = ']';
        }

        deep[len++] = '}';

        assert_int_equal(rbac_body_parse(deep, len, &rbac_malloc_allocator,
                                         &b, &err),
                         i == 1024 ? RBAC_OK : RBAC_EPARSE);
        assert_null(b.fields);
    }

    free(deep);
}


/*
 * Every byte value at every place of string values of 15 to 100 bytes
 * (every loop of the plain-run scan, and the byte loop after it): refused
 * exactly when it is a control byte, a lone byte over 0x7f, or a '"' or
 * '\\' that breaks the JSON; otherwise kept as sent.
 */
static void
test_every_byte_everywhere(void **state)
{
    char         j[160], v[101];
    size_t       pos, len, li;
    unsigned     c;
    rbac_rc_t    rc;
    rbac_err_t   err;
    rbac_body_t  b;

    /* 15 and 16: the byte and 8-byte loops; 40, 70, 100: SSE2's too */
    static const size_t  lens[] = { 15, 16, 40, 70, 100 };

    (void) state;

    for (li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
        len = lens[li];

        for (pos = 0; pos < len; pos++) {
            for (c = 1; c < 256; c++) {
                memset(v, 'a', len);
                v[len] = '\0';
                v[pos] = (char) c;

                snprintf(j, sizeof(j), "{\"k\":\"%s\"}", v);

                rc = rbac_body_parse(j, strlen(j), &rbac_malloc_allocator,
                                     &b, &err);

                if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') {
                    assert_int_not_equal(rc, RBAC_OK);
                    continue;
                }

                assert_int_equal(rc, RBAC_OK);
                assert_field(&b, "k", v);
                rbac_malloc_allocator.free(NULL, b.fields);
            }
        }
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_folded_names),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_alloc_failure),
        cmocka_unit_test(test_nested_and_escapes),
        cmocka_unit_test(test_every_byte_everywhere),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
