/*
 * rbac_hdr.c: the identity-header value encoding, the control-byte test
 * and the identity-header name test (rbac_hdr.h).
 */

#include <assert.h>

#include "rbac_hdr.h"


/*
 * A byte written as itself: 0x21..0x7e but '%' (0x25) and ',' (0x2c), as a
 * bit in two words (a macro: the module's -O inlines no call).
 */
#define RBAC_HDR_PLAIN_LO  ((~0ULL << 33) & ~(1ULL << 0x25) & ~(1ULL << 0x2c))
#define RBAC_HDR_PLAIN_HI  (~0ULL >> 1)

#define rbac_hdr_plain(c)                                                     \
    ((c) < 0x80                                                               \
     && ((((c) < 0x40 ? RBAC_HDR_PLAIN_LO : RBAC_HDR_PLAIN_HI)               \
          >> ((c) & 0x3f)) & 1))


size_t
rbac_hdr_encode(rbac_str_t in, char *out)
{
    size_t          i, n;
    unsigned char   c;

    static const char  hex[] = "0123456789ABCDEF";

    assert(in.data != NULL || in.len == 0);

    n = in.len;

    if (out == NULL) {
        /* measuring, the common case: two more bytes per escape */
        for (i = 0; i < in.len; i++) {
            n += rbac_hdr_plain((unsigned char) in.data[i]) ? 0 : 2;
        }

        return n;
    }

    n = 0;

    for (i = 0; i < in.len; i++) {
        c = (unsigned char) in.data[i];

        if (rbac_hdr_plain(c)) {
            out[n++] = (char) c;
            continue;
        }

        out[n] = '%';
        out[n + 1] = hex[c >> 4];
        out[n + 2] = hex[c & 0xf];
        n += 3;
    }

    return n;
}


int
rbac_hdr_has_ctl(rbac_str_t s)
{
    return rbac_str_ctl(s);
}


int
rbac_hdr_is_identity(rbac_str_t name)
{
    size_t  i;
    char    c;

    static const char  prefix[] = "x-rbac-";

    assert(name.data != NULL || name.len == 0);

    if (name.len < sizeof(prefix) - 1) {
        return 0;
    }

    for (i = 0; i < sizeof(prefix) - 1; i++) {
        c = name.data[i];

        if (c >= 'A' && c <= 'Z') {
            c = (char) (c - 'A' + 'a');

        } else if (c == '_') {
            c = '-';
        }

        if (c != prefix[i]) {
            return 0;
        }
    }

    return 1;
}
