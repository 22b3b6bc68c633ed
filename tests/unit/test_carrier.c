/*
 * test_carrier.c: cookie pairs, query arguments, percent-decoding and
 * names of the credential carriers (core/rbac_carrier.c).
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rbac_carrier.h"
#include "testutil.h"


/* Every pair of a cookie line or a query, as "name=value|...". */
static const char *
pairs(const char *in, int cookie)
{
    int          more;
    size_t       n;
    rbac_str_t   rest, name, value;
    static char  out[512];

    rest = S(in);
    n = 0;
    out[0] = '\0';

    for ( ;; ) {
        more = cookie ? rbac_carrier_cookie_next(&rest, &name, &value)
                      : rbac_carrier_arg_next(&rest, &name, &value);
        if (!more) {
            break;
        }

        n += snprintf(out + n, sizeof(out) - n, "%s%.*s=%.*s",
                      n ? "|" : "", (int) name.len, name.data,
                      (int) value.len, value.data);
    }

    return out;
}


static void
test_cookie(void **state)
{
    (void) state;

    assert_string_equal(pairs("a=1; b=2", 1), "a=1|b=2");
    assert_string_equal(pairs("  a=1 ;;  b=\"2\"  ;", 1), "a=1|b=2");
    assert_string_equal(pairs("a=\"\"; c=\"x", 1), "a=|c=\"x");
    assert_string_equal(pairs("flag; x==y", 1), "flag=|x==y");
    assert_string_equal(pairs("", 1), "");
    assert_string_equal(pairs(" ; ", 1), "");
    /* spellings Go or Python read as the same cookie */
    assert_string_equal(pairs("tok =x", 1), "tok=x");
    assert_string_equal(pairs("tok\t= x ; a=1", 1), "tok=x|a=1");
    assert_string_equal(pairs("a=b tok=x", 1), "a=b|tok=x");
    {
        /* a NUL is an ordinary byte: no pair is read twice */
        rbac_str_t  rest = { "a\0b=1 c", 8 }, n, v;

        assert_int_equal(rbac_carrier_cookie_next(&rest, &n, &v), 1);
        assert_int_equal(n.len, 3);
        assert_int_equal(v.len, 1);
        assert_int_equal(rbac_carrier_cookie_next(&rest, &n, &v), 1);
        assert_int_equal(rbac_carrier_cookie_next(&rest, &n, &v), 0);
    }
    assert_string_equal(pairs("a=\"b;c\"", 1), "a=\"b|c\"=");
}


static void
test_args(void **state)
{
    (void) state;

    assert_string_equal(pairs("a=1&b=2", 0), "a=1|b=2");
    assert_string_equal(pairs("&&a=%41&&b&c=", 0), "a=%41|b=|c=");
    assert_string_equal(pairs("a=1;b=2", 0), "a=1;b=2");
    assert_string_equal(pairs("", 0), "");
}


static const char *
unescape(const char *in)
{
    size_t       n;
    static char  out[256];

    n = rbac_carrier_unescape(S(in), out);
    if (n == (size_t) -1) {
        return "!bad";
    }

    out[n] = '\0';

    return out;
}


static void
test_unescape(void **state)
{
    (void) state;

    assert_string_equal(unescape("abc-DEF.123"), "abc-DEF.123");
    assert_string_equal(unescape("coder%5Fsession%5ftoken"),
                        "coder_session_token");
    assert_string_equal(unescape("a+b%20c"), "a b c");
    assert_string_equal(unescape("%2B%25"), "+%");
    assert_string_equal(unescape(""), "");
    assert_string_equal(unescape("%"), "!bad");
    assert_string_equal(unescape("%4"), "!bad");
    assert_string_equal(unescape("%zz"), "!bad");
    assert_string_equal(unescape("ok%4g"), "!bad");
}


static void
test_name_eq(void **state)
{
    (void) state;

    assert_true(rbac_carrier_name_eq(S("Coder-Session-Token"),
                                     S("coder_session_token"), 1));
    assert_true(rbac_carrier_name_eq(S("CODER_session-TOKEN"),
                                     S("coder_session_token"), 1));
    assert_false(rbac_carrier_name_eq(S("Coder-Session-Token"),
                                      S("coder_session_token"), 0));
    assert_true(rbac_carrier_name_eq(S("CODER_SESSION_TOKEN"),
                                     S("coder_session_token"), 0));
    assert_false(rbac_carrier_name_eq(S("coder_session_toke"),
                                      S("coder_session_token"), 0));
    assert_false(rbac_carrier_name_eq(S("coder_session_tokens"),
                                      S("coder_session_token"), 1));
    assert_true(rbac_carrier_name_eq(S(""), S(""), 0));
}


/* name_is against the folded name says what name_eq says. */
static void
test_name_is(void **state)
{
    int          dash;
    char         buf[64];
    size_t       i, j;
    rbac_str_t   folded;

    static const char  *names[] = {
        "Coder-Session-Token", "coder_session_token", "CODER_session-TOKEN",
        "coder_session_toke", "Authorization", "authorization", "a-b",
        "a_b", "A_B", "a@b", "a`b", "a[b", "a{b", "\xc3\x89", "\xe9", "",
        "X_Rbac_User", "x-rbac-user", "X-RBAC-USER", "x-rbac-use_",
        "\xc1" "bcdefgh_", "\xe1" "bcdefgh-", "\xe1" "bcdefgh_", "ABCDEFGH\xdf",
        "abcdefgh\xdf", "abcdefgh\xad", "abcdefgh-", "[\\]^_`{|}~@Z",
        "{|}~\x7f`@\x7f-",
    };

    (void) state;

    for (dash = 0; dash < 2; dash++) {
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            rbac_carrier_name_fold(S(names[i]), buf, dash);
            folded.data = buf;
            folded.len = strlen(names[i]);

            for (j = 0; j < sizeof(names) / sizeof(names[0]); j++) {
                assert_int_equal(rbac_carrier_name_is(S(names[j]), folded,
                                                      dash),
                                 rbac_carrier_name_eq(S(names[j]),
                                                      S(names[i]), dash));
            }
        }
    }

    rbac_carrier_name_fold(S("Coder_Session-Token"), buf, 1);
    assert_memory_equal(buf, "coder-session-token", 19);
    rbac_carrier_name_fold(S("Coder_Session-Token"), buf, 0);
    assert_memory_equal(buf, "coder_session-token", 19);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_cookie),
        cmocka_unit_test(test_args),
        cmocka_unit_test(test_unescape),
        cmocka_unit_test(test_name_eq),
        cmocka_unit_test(test_name_is),
    };

    return cmocka_run_group_tests_name("carrier", tests, NULL, NULL);
}
