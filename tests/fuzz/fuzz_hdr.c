/*
 * fuzz_hdr.c: the identity-header value encoding (rbac_hdr_encode).  The
 * encoding of any input is as long as measured, holds no control byte,
 * space, non-ASCII byte or ',', and percent-decodes back to the input;
 * rbac_hdr_has_ctl and rbac_hdr_is_identity agree with a byte-wise
 * reading of their rule.  The credential carriers (rbac_carrier.h) read
 * the same input as a Cookie line and as a query: every pair lies inside
 * it, and what rbac_carrier_unescape decodes is never longer.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rbac.h"


static void
in_input(rbac_str_t s, const uint8_t *data, size_t size)
{
    if (s.len > size || (s.len && ((const uint8_t *) s.data < data
                                   || (const uint8_t *) s.data + s.len
                                      > data + size)))
    {
        __builtin_trap();
    }
}


static void
carriers(const uint8_t *data, size_t size)
{
    int          cookie;
    char        *buf;
    size_t       n;
    rbac_str_t   rest, name, value, folded;

    buf = malloc(size + 1);
    if (buf == NULL) {
        return;
    }

    for (cookie = 0; cookie < 2; cookie++) {
        rest.data = (const char *) data;
        rest.len = size;

        while (cookie ? rbac_carrier_cookie_next(&rest, &name, &value)
                      : rbac_carrier_arg_next(&rest, &name, &value))
        {
            in_input(name, data, size);
            in_input(value, data, size);

            n = rbac_carrier_unescape(value, buf);
            if (n != (size_t) -1 && n > value.len) {
                __builtin_trap();
            }

            /* a name folded beforehand compares as the name itself */
            if (value.len <= size) {
                rbac_carrier_name_fold(value, buf, cookie);
                folded.data = buf;
                folded.len = value.len;

                if (rbac_carrier_name_is(name, folded, cookie)
                    != rbac_carrier_name_eq(name, value, cookie))
                {
                    __builtin_trap();
                }
            }
        }
    }

    free(buf);
}


static int
unhex(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    return -1;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int          ctl, hi, lo;
    char        *out;
    size_t       i, j, n;
    rbac_str_t   in;

    in.data = (const char *) data;
    in.len = size;

    n = rbac_hdr_encode(in, NULL);

    if (n < size || n > 3 * size) {
        __builtin_trap();
    }

    out = malloc(n + 1);
    if (out == NULL) {
        return 0;
    }

    if (rbac_hdr_encode(in, out) != n) {
        __builtin_trap();
    }

    /* nothing a header parser would split on, trim or refuse */
    for (i = 0; i < n; i++) {
        if ((unsigned char) out[i] <= 0x20 || (unsigned char) out[i] >= 0x7f
            || out[i] == ',')
        {
            __builtin_trap();
        }
    }

    /* decodes back to exactly the input */
    for (i = 0, j = 0; i < n; j++) {
        if (j >= size) {
            __builtin_trap();
        }

        if (out[i] == '%') {
            if (i + 2 >= n) {
                __builtin_trap();
            }

            hi = unhex(out[i + 1]);
            lo = unhex(out[i + 2]);

            if (hi < 0 || lo < 0 || data[j] != (uint8_t) (hi << 4 | lo)) {
                __builtin_trap();
            }

            i += 3;
            continue;
        }

        if ((uint8_t) out[i] != data[j]) {
            __builtin_trap();
        }

        i++;
    }

    if (j != size) {
        __builtin_trap();
    }

    free(out);

    ctl = 0;

    for (i = 0; i < size; i++) {
        ctl |= data[i] < 0x20 || data[i] == 0x7f;
    }

    if (rbac_hdr_has_ctl(in) != ctl) {
        __builtin_trap();
    }

    carriers(data, size);

    /* the name rule, spelled the other way round */
    ctl = size >= 7;

    for (i = 0; ctl && i < 7; i++) {
        lo = (uint8_t) "x-rbac-"[i];
        ctl = data[i] == lo || (lo == '-' && data[i] == '_')
              || (lo != '-' && data[i] == lo - 'a' + 'A');
    }

    if (rbac_hdr_is_identity(in) != ctl) {
        __builtin_trap();
    }

    return 0;
}
