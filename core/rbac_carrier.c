/*
 * rbac_carrier.c: cookie pairs, query arguments and names, read as the
 * upstream reads them (rbac_carrier.h).
 */

#include <assert.h>
#include <stdint.h>
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


/* The length of the run at p (of at most len) that holds no byte of stop. */
static size_t
rbac_carrier_span(const char *p, size_t len, const char *stop)
{
    size_t  n;

    for (n = 0; n < len && (p[n] == '\0' || strchr(stop, p[n]) == NULL);
         n++)
    {
        /* void */
    }

    return n;
}


/*
 * Upstreams disagree on where a cookie ends: Go splits at ';' and trims
 * the name, Python also splits at spaces and allows spaces around '='.
 * Every pair any of them would see is returned, so that a second
 * credential hidden in one spelling (`name =v`, `a=b name=v`) is seen.
 */
int
rbac_carrier_cookie_next(rbac_str_t *rest, rbac_str_t *name,
    rbac_str_t *value)
{
    size_t       n;
    const char  *p, *end, *q;

    assert(rest != NULL && name != NULL && value != NULL);
    assert(rest->data != NULL || rest->len == 0);

    p = rest->data;
    end = p + rest->len;

    while (p < end && (*p == ';' || rbac_carrier_space(*p))) {
        p++;
    }

    if (p == end) {
        rest->data = end;
        rest->len = 0;
        return 0;
    }

    n = rbac_carrier_span(p, end - p, "=; \t");
    name->data = p;
    name->len = n;
    p += n;

    q = p;
    while (q < end && rbac_carrier_space(*q)) {
        q++;
    }

    value->data = p;
    value->len = 0;

    if (q < end && *q == '=') {
        p = q + 1;

        while (p < end && rbac_carrier_space(*p)) {
            p++;
        }

        q = (p < end && *p == '"') ? memchr(p + 1, '"', end - p - 1) : NULL;

        if (q != NULL && rbac_carrier_span(p, q - p, ";") == (size_t) (q - p))
        {
            /* one pair of double quotes taken off, as Go does */
            value->data = p + 1;
            value->len = q - p - 1;
            p = q + 1;

        } else {
            n = rbac_carrier_span(p, end - p, "; \t");
            value->data = p;
            value->len = n;
            p += n;
        }
    }

    rest->data = p;
    rest->len = end - p;

    return 1;
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


/* c without case; with dash, '_' as '-'. */
static unsigned char
rbac_carrier_fold(unsigned char c, int dash)
{
    if (c >= 'A' && c <= 'Z') {
        return c | 0x20;
    }

    return (dash && c == '_') ? '-' : c;
}


int
rbac_carrier_name_eq(rbac_str_t a, rbac_str_t b, int dash)
{
    size_t          i;
    unsigned char   x, y;

    assert(a.data != NULL || a.len == 0);
    assert(b.data != NULL || b.len == 0);

    if (a.len != b.len) {
        return 0;
    }

    for (i = 0; i < a.len; i++) {
        x = (unsigned char) a.data[i];
        y = (unsigned char) b.data[i];

        /* most bytes are the same as written: folded only when not */
        if (x != y
            && rbac_carrier_fold(x, dash) != rbac_carrier_fold(y, dash))
        {
            return 0;
        }
    }

    return 1;
}


void
rbac_carrier_name_fold(rbac_str_t name, char *out, int dash)
{
    size_t  i;

    assert(name.data != NULL || name.len == 0);
    assert(out != NULL || name.len == 0);

    for (i = 0; i < name.len; i++) {
        out[i] = (char) rbac_carrier_fold((unsigned char) name.data[i], dash);
    }
}


/*
 * rbac_carrier_fold on each byte of a word: a byte 'A'..'Z' (never one with
 * the high bit) gets 0x20, then with dash a byte '_' becomes '-'.
 */
static uint64_t
rbac_carrier_fold8(uint64_t w, int dash)
{
    uint64_t  low, up, x, z;

    low = w & 0x7f7f7f7f7f7f7f7fULL;

    /* high bit of a byte: >= 'A' and not >= 'Z' + 1, and was below 0x80 */
    up = (low + 0x3f3f3f3f3f3f3f3fULL) & ~(low + 0x2525252525252525ULL)
         & ~w & 0x8080808080808080ULL;
    w |= up >> 2;

    if (dash) {
        /* high bit clear where the byte is '_' */
        x = w ^ 0x5f5f5f5f5f5f5f5fULL;
        z = ~(((x & 0x7f7f7f7f7f7f7f7fULL) + 0x7f7f7f7f7f7f7f7fULL) | x)
            & 0x8080808080808080ULL;
        w ^= (z >> 7) * ('_' ^ '-');
    }

    return w;
}


/* Eight bytes at a time, the last eight again where the length is odd. */
int
rbac_carrier_name_is(rbac_str_t a, rbac_str_t folded, int dash)
{
    size_t          i;
    uint64_t        x, y;
    unsigned char   c;

    assert(a.data != NULL || a.len == 0);
    assert(folded.data != NULL || folded.len == 0);

    if (a.len != folded.len) {
        return 0;
    }

    if (a.len < 8) {
        for (i = 0; i < a.len; i++) {
            c = (unsigned char) a.data[i];

            if (c != (unsigned char) folded.data[i]
                && rbac_carrier_fold(c, dash) != (unsigned char) folded.data[i])
            {
                return 0;
            }
        }

        return 1;
    }

    for (i = 0; /* void */ ; i += 8) {

        if (i + 8 > a.len) {
            i = a.len - 8;
        }

        memcpy(&x, a.data + i, 8);
        memcpy(&y, folded.data + i, 8);

        if (x != y && rbac_carrier_fold8(x, dash) != y) {
            return 0;
        }

        if (i + 8 == a.len) {
            return 1;
        }
    }
}
