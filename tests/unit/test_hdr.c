/*
 * test_hdr.c: the identity-header value encoding, the control-byte test
 * and the identity-header name test (core/rbac_hdr.c).
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rbac_hdr.h"
#include "testutil.h"


static rbac_str_t
B(const char *s, size_t len)
{
    rbac_str_t  r;

    r.data = s;
    r.len = len;

    return r;
}



/* The encoding of len bytes at s, NUL-terminated, checked against the
 * measured length. */
static const char *
enc(const char *s, size_t len)
{
    size_t       n;
    static char  out[512];

    n = rbac_hdr_encode(B(s, len), NULL);
    assert_true(n < sizeof(out));
    assert_true(n <= 3 * len);
    memset(out, 'Z', sizeof(out));
    assert_int_equal(rbac_hdr_encode(B(s, len), out), n);
    assert_int_equal(out[n], 'Z');
    out[n] = '\0';

    return out;
}

#define E(s)  enc((s), sizeof(s) - 1)


static void
test_encode(void **state)
{
    (void) state;

    /* what ids, orgs and role names usually are: unchanged */
    assert_string_equal(E("alice"), "alice");
    assert_string_equal(E("pkey:k1"), "pkey:k1");
    assert_string_equal(E("organization-admin"), "organization-admin");
    assert_string_equal(E("a_b.c~d+e/f@g;h=i\"j'k"), "a_b.c~d+e/f@g;h=i\"j'k");
    assert_string_equal(E(""), "");

    /* the list separator and the escape itself */
    assert_string_equal(E("alice,bob"), "alice%2Cbob");
    assert_string_equal(E("100%"), "100%25");
    assert_string_equal(E("%2C"), "%252C");

    /* controls, space, DEL */
    assert_string_equal(E("a\r\nX-Rbac-Roles: owner"),
                        "a%0D%0AX-Rbac-Roles:%20owner");
    assert_string_equal(E("\0\t\x1f\x7f"), "%00%09%1F%7F");
    assert_string_equal(E(" lead "), "%20lead%20");

    /* non-ASCII, byte by byte (UTF-8 or not) */
    assert_string_equal(E("j\xc3\xb6rg"), "j%C3%B6rg");
    assert_string_equal(E("\xff\x80"), "%FF%80");
}


static void
test_encode_every_byte(void **state)
{
    int     c, plain;
    char    in[1], *out;
    size_t  n;

    (void) state;

    for (c = 0; c < 256; c++) {
        in[0] = (char) c;
        out = (char *) enc(in, 1);
        n = strlen(out);

        plain = c > 0x20 && c < 0x7f && c != '%' && c != ',';

        assert_int_equal(n, plain ? 1 : 3);

        if (!plain) {
            char  want[4];

            snprintf(want, sizeof(want), "%%%02X", c);
            assert_string_equal(out, want);
        }
    }
}


static void
test_has_ctl(void **state)
{
    int   c;
    char  in[3];

    (void) state;

    assert_false(rbac_hdr_has_ctl(S("")));
    assert_false(rbac_hdr_has_ctl(S("orgA")));
    assert_false(rbac_hdr_has_ctl(S("j\xc3\xb6rg with space")));
    assert_true(rbac_hdr_has_ctl(S("org\r\nX: y")));
    assert_true(rbac_hdr_has_ctl(B("a\0b", 3)));

    for (c = 0; c < 256; c++) {
        in[0] = 'a';
        in[1] = (char) c;
        in[2] = 'b';

        assert_int_equal(rbac_hdr_has_ctl(B(in, 3)), c < 0x20 || c == 0x7f);
    }
}


static void
test_is_identity(void **state)
{
    (void) state;

    assert_true(rbac_hdr_is_identity(S("X-Rbac-User")));
    assert_true(rbac_hdr_is_identity(S("x-rbac-roles")));
    assert_true(rbac_hdr_is_identity(S("X_Rbac_User")));
    assert_true(rbac_hdr_is_identity(S("X-Rbac_User")));
    assert_true(rbac_hdr_is_identity(S("X_RBAC-ROLES")));
    assert_true(rbac_hdr_is_identity(S("x_rbac_")));
    assert_true(rbac_hdr_is_identity(S("X-Rbac-Anything")));

    assert_false(rbac_hdr_is_identity(S("X-Rbac")));
    assert_false(rbac_hdr_is_identity(S("X-Rbacx-User")));
    assert_false(rbac_hdr_is_identity(S("XRbac-User")));
    assert_false(rbac_hdr_is_identity(S("X-Rbac.User")));
    assert_false(rbac_hdr_is_identity(S("Y-Rbac-User")));
    assert_false(rbac_hdr_is_identity(S("")));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_encode_every_byte),
        cmocka_unit_test(test_has_ctl),
        cmocka_unit_test(test_is_identity),
    };

    return cmocka_run_group_tests_name("hdr", tests, NULL, NULL);
}
