/*
 * testutil.h: helpers linked into every unit test binary: S() for string
 * views, the parse of a record that must succeed, an allocator that counts
 * its calls and fails on demand, and cJSON hooks that do the same for
 * cJSON's own allocations.
 *
 * Typical use, "every allocation failing in turn":
 *
 *     for (n = 1; ; n++) {
 *         testutil_alloc_init(&ta, &a, n);
 *         rc = parse(..., &a, ...);
 *         if (rc == RBAC_OK) { free it; break; }     (n passed every call)
 *         assert_int_equal(rc, RBAC_ENOMEM);
 *         assert_int_equal(ta.live, 0);              (nothing leaked)
 *     }
 */

#ifndef TESTUTIL_H
#define TESTUTIL_H

#include "rbac_base.h"
#include "rbac_record.h"


/* The view of a C string: S("owner"). */
#define S(s)  rbac_cstr(s)

/*
 * The record of `type` parsed from the JSON text json with the malloc
 * allocator; a cmocka failure (with the parser's message on stderr) when
 * it does not parse.  The caller frees it with free().
 */
void *testutil_parse_ok(rbac_rec_type_t type, const char *json);

typedef struct {
    long     calls;         /* alloc calls so far, failed ones included */
    long     fail_at;       /* 1-based call that fails; 0 = none */
    int      fail_after;    /* with fail_at: every later call fails too */
    long     failed;        /* calls that returned NULL */
    long     frees;         /* free calls with a non-NULL pointer */
    long     live;          /* blocks allocated and not yet freed */
} testutil_alloc_t;

/*
 * Points *a at a malloc-backed allocator counting into *t, which is reset;
 * call number fail_at (1-based, 0 = never) returns NULL.
 */
void testutil_alloc_init(testutil_alloc_t *t, rbac_allocator_t *a,
    long fail_at);

/*
 * Installs cJSON hooks over malloc/free that count calls; call number
 * fail_at (1-based, counted from this call; 0 = never) and, with
 * fail_after, every later one returns NULL.  testutil_cjson_reset()
 * restores cJSON's defaults.  Returns nothing; the counters are read with
 * testutil_cjson_calls() and testutil_cjson_live().
 */
void testutil_cjson_fail_at(long fail_at, int fail_after);
void testutil_cjson_reset(void);
long testutil_cjson_calls(void);
long testutil_cjson_live(void);


#endif /* TESTUTIL_H */
