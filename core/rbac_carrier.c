/*
 * rbac_carrier.c: cookie pairs, query arguments and names, read as the
 * upstream reads them (rbac_carrier.h).
 */

#include <assert.h>
#include <string.h>

#include "rbac_carrier.h"


static int
rbac_carrier_space(char c)
{
    return c == ' ' || c == '\t';
}


/* The next part of *rest up to sep (taken off, sep included). */
static rbac_str_t
rbac_carrier_part(rbac_str_t *rest, char sep)
{
    const char  *end;
    rbac_str_t   part;

    part.data = rest->data;
    end = memchr(rest->data, sep, rest->len);
    part.len = end != NULL ? (size_t) (end - rest->data) : rest->len;

    rest->data += part.len;
    rest->len -= part.len;

    if (rest->len) {
        rest->data++;
        rest->len--;
    }

    return part;
}


/* Splits part at its first '=': name before, value after (maybe empty). */
static void
rbac_carrier_pair(rbac_str_t part, rbac_str_t *name, rbac_str_t *value)
{
    const char  *eq;

    eq = memchr(part.data, '=', part.len);

    name->data = part.data;
    name->len = eq != NULL ? (size_t) (eq - part.data) : part.len;

    value->data = eq != NULL ? eq + 1 : part.data + part.len;
    value->len = part.len - name->len - (eq != NULL);
}


int
rbac_carrier_cookie_next(rbac_str_t *rest, rbac_str_t *name,
    rbac_str_t *value)
{
    rbac_str_t  part;

    assert(rest != NULL && name != NULL && value != NULL);
    assert(rest->data != NULL || rest->len == 0);

    while (rest->len) {
        part = rbac_carrier_part(rest, ';');

        while (part.len && rbac_carrier_space(part.data[0])) {
            part.data++;
            part.len--;
        }

        while (part.len && rbac_carrier_space(part.data[part.len - 1])) {
            part.len--;
        }

        if (part.len == 0) {
            continue;
        }

        rbac_carrier_pair(part, name, value);

        if (value->len >= 2 && value->data[0] == '"'
            && value->data[value->len - 1] == '"')
        {
            value->data++;
            value->len -= 2;
        }

        return 1;
    }

    return 0;
}


int
rbac_carrier_arg_next(rbac_str_t *rest, rbac_str_t *name, rbac_str_t *value)
{
    rbac_str_t  part;

    assert(rest != NULL && name != NULL && value != NULL);
    assert(rest->data != NULL || rest->len == 0);

    while (rest->len) {
        part = rbac_carrier_part(rest, '&');

        if (part.len == 0) {
            continue;
        }

        rbac_carrier_pair(part, name, value);

        return 1;
    }

    return 0;
}


static int
rbac_carrier_hex(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


size_t
rbac_carrier_unescape(rbac_str_t in, char *out)
{
    int     hi, lo;
    size_t  i, n;

    assert(in.data != NULL || in.len == 0);
    assert(out != NULL || in.len == 0);

    n = 0;

    for (i = 0; i < in.len; i++) {

        if (in.data[i] == '+') {
            out[n++] = ' ';
            continue;
        }

        if (in.data[i] != '%') {
            out[n++] = in.data[i];
            continue;
        }

        if (in.len - i < 3) {
            return (size_t) -1;
        }

        hi = rbac_carrier_hex(in.data[i + 1]);
        lo = rbac_carrier_hex(in.data[i + 2]);

        if (hi < 0 || lo < 0) {
            return (size_t) -1;
        }

        out[n++] = (char) (hi << 4 | lo);
        i += 2;
    }

    return n;
}


int
rbac_carrier_name_eq(rbac_str_t a, rbac_str_t b, int dash)
{
    char    x, y;
    size_t  i;

    assert(a.data != NULL || a.len == 0);
    assert(b.data != NULL || b.len == 0);

    if (a.len != b.len) {
        return 0;
    }

    for (i = 0; i < a.len; i++) {
        x = a.data[i];
        y = b.data[i];

        x = (x >= 'A' && x <= 'Z') ? (char) (x | 0x20) : x;
        y = (y >= 'A' && y <= 'Z') ? (char) (y | 0x20) : y;

        if (dash) {
            x = x == '_' ? '-' : x;
            y = y == '_' ? '-' : y;
        }

        if (x != y) {
            return 0;
        }
    }

    return 1;
}
