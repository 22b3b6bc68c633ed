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


static rbac_str_t
S(const char *s)
{
    rbac_str_t  r;

    r.data = s;
    r.len = strlen(s);

    return r;
}


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
    const char  *j = "{\"transition\":\"start\",\"n\":3,\"x\":2.5,"
                     "\"ok\":true,\"no\":false,\"nil\":null,"
                     "\"obj\":{\"a\":1},\"arr\":[1],\"neg\":-7}";

    (void) state;

    assert_int_equal(rbac_body_parse(j, strlen(j), &rbac_malloc_allocator,
                                     &b, &err), RBAC_OK);
    assert_int_equal(b.nfields, 6);
    assert_field(&b, "transition", "start");
    assert_field(&b, "n", "3");
    assert_field(&b, "x", "2.5");
    assert_field(&b, "ok", "true");
    assert_field(&b, "no", "false");
    assert_field(&b, "neg", "-7");
    assert_field(&b, "nil", NULL);
    assert_field(&b, "obj", NULL);
    assert_field(&b, "arr", NULL);
    assert_field(&b, "missing", NULL);

    rbac_malloc_allocator.free(NULL, b.fields);
}


static void
test_refused(void **state)
{
    size_t       i;
    rbac_err_t   err;
    rbac_body_t  b;

    static const char  *bad[] = {
        "", "not json", "[1,2]", "\"s\"", "42", "{\"a\":", "{} {}",
        "{\"a\":1}x",
    };

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(rbac_body_parse(bad[i], strlen(bad[i]),
                                         &rbac_malloc_allocator, &b, &err),
                         RBAC_EPARSE);
        assert_null(b.fields);
    }

    assert_int_equal(rbac_body_parse("{}\n", 3, &rbac_malloc_allocator, &b,
                                     &err), RBAC_OK);
    assert_int_equal(b.nfields, 0);
}


static void
test_bound(void **state)
{
    char         *j, *p;
    size_t        i;
    rbac_err_t    err;
    rbac_body_t   b;

    (void) state;

    j = malloc(20 * (RBAC_MAX_LIST + 2));
    assert_non_null(j);

    p = j;
    *p++ = '{';

    for (i = 0; i <= RBAC_MAX_LIST; i++) {
        p += sprintf(p, "%s\"f%zu\":1", i ? "," : "", i);
    }

    *p++ = '}';

    assert_int_equal(rbac_body_parse(j, (size_t) (p - j),
                                     &rbac_malloc_allocator, &b, &err),
                     RBAC_EBOUND);
    free(j);
}


static void
test_alloc_failure(void **state)
{
    rbac_err_t         err;
    rbac_body_t        b;
    testutil_alloc_t   t;
    rbac_allocator_t   a;
    const char        *j = "{\"a\":\"b\"}";

    (void) state;

    testutil_alloc_init(&t, &a, 1);
    assert_int_equal(rbac_body_parse(j, strlen(j), &a, &b, &err),
                     RBAC_ENOMEM);
    assert_null(b.fields);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_alloc_failure),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
