/*
 * testutil.c: the record parse, the counting, failing allocator and the
 * cJSON hooks of testutil.h, shared by every unit test binary.
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

#include "testutil.h"


void *
testutil_parse_ok(rbac_rec_type_t type, const char *json)
{
    void        *rec;
    rbac_rc_t    rc;
    rbac_err_t   err;

    memset(&err, 0, sizeof(err));
    rc = rbac_record_parse(type, json, strlen(json), &rbac_malloc_allocator,
                           &rec, &err);
    if (rc != RBAC_OK) {
        fprintf(stderr, "%s: %s\n", json, err.msg);
    }

    assert_int_equal(rc, RBAC_OK);

    return rec;
}


static void *
testutil_alloc(void *ud, size_t size)
{
    void              *p;
    testutil_alloc_t  *t = ud;

    t->calls++;

    if (t->fail_at > 0
        && (t->calls == t->fail_at
            || (t->fail_after && t->calls > t->fail_at)))
    {
        t->failed++;
        return NULL;
    }

    p = malloc(size > 0 ? size : 1);

    if (p != NULL) {
        t->live++;
    }

    return p;
}


static void
testutil_free(void *ud, void *p)
{
    testutil_alloc_t  *t = ud;

    if (p == NULL) {
        return;
    }

    t->frees++;
    t->live--;
    free(p);
}


void
testutil_alloc_init(testutil_alloc_t *t, rbac_allocator_t *a, long fail_at)
{
    memset(t, 0, sizeof(*t));
    t->fail_at = fail_at;

    a->alloc = testutil_alloc;
    a->free = testutil_free;
    a->ud = t;
}


/* cJSON offers only global hooks, so these counters are global too. */
static long  testutil_cj_calls;
static long  testutil_cj_fail_at;
static int   testutil_cj_fail_after;
static long  testutil_cj_live;


static void *
testutil_cj_malloc(size_t size)
{
    void  *p;

    testutil_cj_calls++;

    if (testutil_cj_fail_at > 0
        && (testutil_cj_calls == testutil_cj_fail_at
            || (testutil_cj_fail_after
                && testutil_cj_calls > testutil_cj_fail_at)))
    {
        return NULL;
    }

    p = malloc(size);

    if (p != NULL) {
        testutil_cj_live++;
    }

    return p;
}


static void
testutil_cj_free(void *p)
{
    if (p != NULL) {
        testutil_cj_live--;
        free(p);
    }
}


void
testutil_cjson_fail_at(long fail_at, int fail_after)
{
    cJSON_Hooks  h;

    testutil_cj_calls = 0;
    testutil_cj_live = 0;
    testutil_cj_fail_at = fail_at;
    testutil_cj_fail_after = fail_after;

    h.malloc_fn = testutil_cj_malloc;
    h.free_fn = testutil_cj_free;
    cJSON_InitHooks(&h);
}


void
testutil_cjson_reset(void)
{
    cJSON_InitHooks(NULL);
    testutil_cj_fail_at = 0;
}


long
testutil_cjson_calls(void)
{
    return testutil_cj_calls;
}


long
testutil_cjson_live(void)
{
    return testutil_cj_live;
}
