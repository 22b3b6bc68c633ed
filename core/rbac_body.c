/*
 * rbac_body.c: a JSON request body's top-level scalar fields, for
 * rbac_json_body.  One strict scanner (RFC 8259) walks the whole body once:
 * every value, nested ones too, is checked to be JSON (escapes, surrogate
 * pairs, numbers, literals, at most RBAC_BODY_DEPTH levels), and the top level
 * is held further (no control character, no escaped NUL, well-formed UTF-8) so
 * that no other reader can take it differently (see rbac_body.h). The
 * top-level members are noted where they lie in the body, then their folded
 * names and escaped values decoded into one block, sorted by name; a value
 * written without an escape stays where it is in the body.  Plain runs of a
 * string, the bulk of any body, are skipped sixteen bytes at a time with SSE2
 * (eight without).
 */

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "rbac_body.h"


#define RBAC_BODY_DEPTH  1024        /* nested levels checked, at most */
#define RBAC_BODY_SPANS  64          /* members noted on the stack */


typedef struct {
    const unsigned char  *p;
    const unsigned char  *end;
    rbac_err_t           *err;
    int                   esc;        /* the last string had an escape */
} rbac_body_scan_t;

/* A top-level member as it lies in the body (strings without quotes). */
typedef struct {
    const unsigned char  *name;
    size_t                name_len;
    const unsigned char  *value;
    size_t                value_len;
    int                   kind;       /* '"', 'n'umber, 't', 'f'; 0: none */
    unsigned              name_esc:1;
    unsigned              value_esc:1;
} rbac_body_span_t;


static unsigned char rbac_body_fold_next(const unsigned char **p,
    const unsigned char *end);
static inline int rbac_body_name_cmp(const rbac_str_t *a,
    const rbac_str_t *b);
static int rbac_body_cmp(const void *one, const void *two);
static inline void rbac_body_ws(rbac_body_scan_t *s);
static size_t rbac_body_utf8(const unsigned char *p,
    const unsigned char *end);
static size_t rbac_body_plain_run(const unsigned char *p,
    const unsigned char *end);
static int rbac_body_hex4(const unsigned char *p, unsigned *cp);
static rbac_rc_t rbac_body_string(rbac_body_scan_t *s, int top);
static size_t rbac_body_decode(const unsigned char *p, size_t len, char *out);
static rbac_rc_t rbac_body_number(rbac_body_scan_t *s);
static rbac_rc_t rbac_body_literal(rbac_body_scan_t *s, const char *word);
static rbac_rc_t rbac_body_value(rbac_body_scan_t *s);
static rbac_rc_t rbac_body_members(rbac_body_scan_t *s,
    rbac_body_span_t *spans, size_t max, size_t *n);
static rbac_rc_t rbac_body_not_json(rbac_body_scan_t *s);


rbac_rc_t
rbac_body_parse(const char *json, size_t len, const rbac_allocator_t *a,
    rbac_body_t *out, rbac_err_t *err)
{
    char               *buf, name[48];
    size_t              n, bytes, i, j;
    rbac_rc_t           rc;
    rbac_body_scan_t    s;
    rbac_body_span_t    stack[RBAC_BODY_SPANS], *spans;
    rbac_body_field_t  *f;

    assert(json != NULL || len == 0);
    assert(a != NULL && out != NULL);

    out->fields = NULL;
    out->nfields = 0;

    s.p = (const unsigned char *) json;
    s.end = s.p + len;
    s.err = err;

    rbac_body_ws(&s);

    if (s.p == s.end || *s.p != '{') {
        /* JSON of another kind, or none */
        if (s.p < s.end && rbac_body_value(&s) == RBAC_OK) {
            return rbac_err_set(err, RBAC_EPARSE,
                                "body is not a JSON object");
        }

        return rbac_err_set(err, RBAC_EPARSE, "body is not JSON");
    }

    /* the members, noted; on the stack unless there are many */

    spans = stack;
    rc = rbac_body_members(&s, spans, RBAC_BODY_SPANS, &n);

    if (rc == RBAC_EBOUND && n == RBAC_BODY_SPANS) {
        spans = a->alloc(a->ud, RBAC_MAX_LIST * sizeof(rbac_body_span_t));
        if (spans == NULL) {
            return rbac_err_set(err, RBAC_ENOMEM, "out of memory");
        }

        s.p = (const unsigned char *) json;
        rbac_body_ws(&s);
        rc = rbac_body_members(&s, spans, RBAC_MAX_LIST, &n);

        if (rc == RBAC_EBOUND && n == RBAC_MAX_LIST) {
            rc = rbac_err_set(err, RBAC_EBOUND,
                              "body has more than %d fields", RBAC_MAX_LIST);
        }
    }

    if (rc == RBAC_OK) {
        rbac_body_ws(&s);

        if (s.p != s.end) {
            rc = rbac_err_set(err, RBAC_EPARSE,
                              "body has data after the JSON");
        }
    }

    if (rc != RBAC_OK || n == 0) {
        goto done;
    }

    /* decoded, a name or a value is never longer than it is written */

    bytes = 0;

    for (i = 0; i < n; i++) {
        bytes += spans[i].name_len
                 + (spans[i].value_esc ? spans[i].value_len : 0);
    }

    f = a->alloc(a->ud, n * sizeof(rbac_body_field_t) + bytes);
    if (f == NULL) {
        rc = rbac_err_set(err, RBAC_ENOMEM, "out of memory");
        goto done;
    }

    buf = (char *) (f + n);

    for (i = 0; i < n; i++) {
        const unsigned char  *q, *qe;

        /* the name decoded (into buf), then folded into buf */
        q = spans[i].name;
        qe = q + spans[i].name_len;

        if (spans[i].name_esc) {
            j = rbac_body_decode(q, spans[i].name_len, buf);
            q = (const unsigned char *) buf;
            qe = q + j;
        }

        f[i].name.data = buf;
        j = 0;

        while (q < qe) {
            unsigned char  c = *q;

            if (c < 0x80) {
                /* ASCII, the usual name: lower case, inline */
                buf[j++] = (char) (c | ((unsigned char) (c - 'A') < 26) << 5);
                q++;
                continue;
            }

            buf[j++] = (char) rbac_body_fold_next(&q, qe);
        }

        f[i].name.len = j;
        buf += j;

        f[i].value.data = NULL;
        f[i].value.len = 0;

        if (spans[i].kind == 0) {
            continue;
        }

        if (!spans[i].value_esc) {
            /* as written in the body: numbers, literals, plain strings */
            f[i].value.data = (const char *) spans[i].value;
            f[i].value.len = spans[i].value_len;
            continue;
        }

        j = rbac_body_decode(spans[i].value, spans[i].value_len, buf);

        f[i].value.data = buf;
        f[i].value.len = j;
        buf += j;
    }

    if (n > 16) {
        qsort(f, n, sizeof(rbac_body_field_t), rbac_body_cmp);

    } else {
        /* a few fields, the usual body: no call per comparison */
        for (i = 1; i < n; i++) {
            rbac_body_field_t  t = f[i];

            for (j = i; j > 0 && rbac_body_cmp(&f[j - 1], &t) > 0; j--) {
                f[j] = f[j - 1];
            }

            f[j] = t;
        }
    }

    for (i = 1; i < n; i++) {
        if (rbac_body_cmp(&f[i - 1], &f[i]) != 0) {
            continue;
        }

        /* name it when it is short and plain, for the 400's detail */
        for (j = 0; j < f[i].name.len && j < sizeof(name) - 1; j++) {
            name[j] = f[i].name.data[j];

            if (name[j] < 0x20 || name[j] > 0x7e || name[j] == '"'
                || name[j] == '\\')
            {
                name[j] = '?';
            }
        }

        name[j] = '\0';

        a->free(a->ud, f);

        rc = rbac_err_set(err, RBAC_EPARSE,
                          "body has the field \"%s\" twice", name);
        goto done;
    }

    /* keep the scalars */

    for (i = 0, j = 0; i < n; i++) {
        if (f[i].value.data != NULL) {
            f[j++] = f[i];
        }
    }

    if (j == 0) {
        a->free(a->ud, f);
        goto done;
    }

    out->fields = f;
    out->nfields = j;

done:

    if (spans != stack) {
        a->free(a->ud, spans);
    }

    return rc;
}


const rbac_str_t *
rbac_body_get(const rbac_body_t *b, rbac_str_t name)
{
    int                   c;
    size_t                lo, hi, mid;
    unsigned char         k;
    const unsigned char  *p, *pe, *q, *qe;

    assert(b != NULL && (b->fields != NULL || b->nfields == 0));
    assert(name.data != NULL || name.len == 0);

    lo = 0;
    hi = b->nfields;

    /* a name folding to itself (lower-case ASCII, the usual one) */
    for (mid = 0; mid < name.len; mid++) {
        k = (unsigned char) name.data[mid];

        if ((k >= 'A' && k <= 'Z') || k >= 0x80) {
            break;
        }
    }

    if (mid == name.len) {
        while (lo < hi) {
            mid = lo + (hi - lo) / 2;
            c = rbac_body_name_cmp(&b->fields[mid].name, &name);

            if (c == 0) {
                return &b->fields[mid].value;
            }

            if (c < 0) {
                lo = mid + 1;

            } else {
                hi = mid;
            }
        }

        return NULL;
    }

    /* binary search, folding `name` on the fly */
    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        p = (const unsigned char *) b->fields[mid].name.data;
        pe = p + b->fields[mid].name.len;
        q = (const unsigned char *) name.data;
        qe = q + name.len;
        c = 0;

        while (p < pe && q < qe) {
            k = rbac_body_fold_next(&q, qe);

            if (*p != k) {
                c = (*p < k) ? -1 : 1;
                break;
            }

            p++;
        }

        if (c == 0) {
            c = (p < pe) ? 1 : (q < qe) ? -1 : 0;
        }

        if (c == 0) {
            return &b->fields[mid].value;
        }

        if (c < 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    return NULL;
}


/* The next byte of the folded form of [*p, end), advancing *p. */
static unsigned char
rbac_body_fold_next(const unsigned char **p, const unsigned char *end)
{
    const unsigned char  *s;

    s = *p;

    if (s[0] >= 'A' && s[0] <= 'Z') {
        *p = s + 1;
        return (unsigned char) (s[0] - 'A' + 'a');
    }

    /* U+017F LATIN SMALL LETTER LONG S */
    if (end - s >= 2 && s[0] == 0xc5 && s[1] == 0xbf) {
        *p = s + 2;
        return 's';
    }

    /* U+212A KELVIN SIGN */
    if (end - s >= 3 && s[0] == 0xe2 && s[1] == 0x84 && s[2] == 0xaa) {
        *p = s + 3;
        return 'k';
    }

    *p = s + 1;

    return s[0];
}


/* The order of folded names: bytewise, a prefix first. */
static inline int
rbac_body_name_cmp(const rbac_str_t *a, const rbac_str_t *b)
{
    int     c;
    size_t  n;

    n = a->len < b->len ? a->len : b->len;

    /* most names differ in their first byte: no call for those */
    if (n > 0 && a->data[0] != b->data[0]) {
        return ((unsigned char) a->data[0] < (unsigned char) b->data[0])
               ? -1 : 1;
    }

    c = (n == 0) ? 0 : memcmp(a->data, b->data, n);

    if (c != 0) {
        return c;
    }

    return (a->len > b->len) - (a->len < b->len);
}


/* qsort order of fields: their names'. */
static int
rbac_body_cmp(const void *one, const void *two)
{
    const rbac_body_field_t  *a, *b;

    a = one;
    b = two;

    return rbac_body_name_cmp(&a->name, &b->name);
}


/*
 * The members of the top-level object, at its '{': each noted in spans (at
 * most max; RBAC_EBOUND with *n == max when there are more), every value
 * checked.  RBAC_OK past the closing '}'.
 */
static rbac_rc_t
rbac_body_members(rbac_body_scan_t *s, rbac_body_span_t *spans, size_t max,
    size_t *n)
{
    size_t                count;
    rbac_rc_t             rc;
    rbac_body_span_t     *sp;
    const unsigned char  *start;

    count = 0;
    *n = 0;

    s->p++;
    rbac_body_ws(s);

    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return RBAC_OK;
    }

    for ( ;; ) {

        if (s->p == s->end || *s->p != '"') {
            return rbac_body_not_json(s);
        }

        if (count == max) {
            *n = count;
            return RBAC_EBOUND;
        }

        sp = &spans[count++];

        start = s->p;
        rc = rbac_body_string(s, 1);
        if (rc != RBAC_OK) {
            return rc;
        }

        sp->name = start + 1;
        sp->name_len = (size_t) (s->p - start) - 2;
        sp->name_esc = s->esc;
        sp->value_esc = 0;

        rbac_body_ws(s);

        if (s->p == s->end || *s->p != ':') {
            return rbac_body_not_json(s);
        }

        s->p++;
        rbac_body_ws(s);

        if (s->p == s->end) {
            return rbac_body_not_json(s);
        }

        start = s->p;
        sp->kind = *start;

        switch (*start) {

        case '"':
            rc = rbac_body_string(s, 1);
            sp->value_esc = s->esc;
            break;

        case 't':
            rc = rbac_body_literal(s, "true");
            break;

        case 'f':
            rc = rbac_body_literal(s, "false");
            break;

        case 'n':
            rc = rbac_body_literal(s, "null");
            sp->kind = 0;
            break;

        case '{':
        case '[':
            rc = rbac_body_value(s);
            sp->kind = 0;
            break;

        default:
            rc = rbac_body_number(s);
            sp->kind = 'n';
            break;
        }

        if (rc != RBAC_OK) {
            return rc;
        }

        sp->value = start;
        sp->value_len = (size_t) (s->p - start);

        if (sp->kind == '"') {
            sp->value++;
            sp->value_len -= 2;
        }

        rbac_body_ws(s);

        if (s->p < s->end && *s->p == ',') {
            s->p++;
            rbac_body_ws(s);
            continue;
        }

        if (s->p < s->end && *s->p == '}') {
            s->p++;
            *n = count;
            return RBAC_OK;
        }

        return rbac_body_not_json(s);
    }
}


static rbac_rc_t
rbac_body_not_json(rbac_body_scan_t *s)
{
    return rbac_err_set(s->err, RBAC_EPARSE, "body is not JSON");
}


/* JSON's four whitespace characters, and no others. */
static inline void
rbac_body_ws(rbac_body_scan_t *s)
{
    while (s->p < s->end
           && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n'
               || *s->p == '\r'))
    {
        s->p++;
    }
}


/* The length of the well-formed UTF-8 sequence at p, or 0. */
static size_t
rbac_body_utf8(const unsigned char *p, const unsigned char *end)
{
    size_t    n, i;
    unsigned  c, lo, hi;

    c = p[0];
    lo = 0x80;
    hi = 0xbf;

    if (c < 0x80) {
        return 1;
    }

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;

    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        lo = (c == 0xe0) ? 0xa0 : lo;
        hi = (c == 0xed) ? 0x9f : hi;

    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        lo = (c == 0xf0) ? 0x90 : lo;
        hi = (c == 0xf4) ? 0x8f : hi;

    } else {
        return 0;
    }

    if ((size_t) (end - p) < n || p[1] < lo || p[1] > hi) {
        return 0;
    }

    for (i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf) {
            return 0;
        }
    }

    return n;
}


#define RBAC_ONES   0x0101010101010101ULL
#define RBAC_HIGHS  0x8080808080808080ULL

/* any byte of w zero */
#define rbac_body_zero(w)  (((w) - RBAC_ONES) & ~(w) & RBAC_HIGHS)


/*
 * 1 when none of the 8 bytes at p ends a plain run: none under 0x20, none
 * over 0x7f, no '"' and no '\\' (each test is exact for "some byte is").
 */
static int
rbac_body_plain8(const unsigned char *p)
{
    uint64_t  w;

    memcpy(&w, p, 8);

    return ((((w - 0x20 * RBAC_ONES) & ~w) | w) & RBAC_HIGHS) == 0
           && !rbac_body_zero(w ^ ('"' * RBAC_ONES))
           && !rbac_body_zero(w ^ ('\\' * RBAC_ONES));
}


/*
 * The length of the run at p that holds no '"', no '\\', no byte under
 * 0x20 and none over 0x7f.
 */
static size_t
rbac_body_plain_run(const unsigned char *p, const unsigned char *end)
{
    const unsigned char  *start;

    start = p;

#if defined(__SSE2__)
    {
        int      m;
        __m128i  v, w, quote, bslash, space;

        quote = _mm_set1_epi8('"');
        bslash = _mm_set1_epi8('\\');
        space = _mm_set1_epi8(0x20);

/* signed: a byte over 0x7f is below 0x20 too (space > v: one compare) */
#define rbac_body_stops(v)                                                    \
    _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote),                       \
                              _mm_cmpeq_epi8(v, bslash)),                     \
                 _mm_cmpgt_epi8(space, v))

        while (end - p >= 64) {
            v = _mm_or_si128(
                    rbac_body_stops(_mm_loadu_si128(
                        (const __m128i *) (const void *) p)),
                    rbac_body_stops(_mm_loadu_si128(
                        (const __m128i *) (const void *) (p + 16))));
            w = _mm_or_si128(
                    rbac_body_stops(_mm_loadu_si128(
                        (const __m128i *) (const void *) (p + 32))),
                    rbac_body_stops(_mm_loadu_si128(
                        (const __m128i *) (const void *) (p + 48))));

            if (_mm_movemask_epi8(_mm_or_si128(v, w)) != 0) {
                break;
            }

            p += 64;
        }

        while (end - p >= 16) {
            v = _mm_loadu_si128((const __m128i *) (const void *) p);

            m = _mm_movemask_epi8(rbac_body_stops(v));
            if (m != 0) {
                return (size_t) (p - start) + (size_t) __builtin_ctz(m);
            }

            p += 16;
        }
    }
#endif

    while (end - p >= 8 && rbac_body_plain8(p)) {
        p += 8;
    }

    while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
        p++;
    }

    return (size_t) (p - start);
}


/* Four hex digits at p into *cp; 0 if they are not. */
static int
rbac_body_hex4(const unsigned char *p, unsigned *cp)
{
    int       i;
    unsigned  c, v;

    v = 0;

    for (i = 0; i < 4; i++) {
        c = p[i];

        if (c >= '0' && c <= '9') {
            c -= '0';

        } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
            c = (c | 0x20) - 'a' + 10;

        } else {
            return 0;
        }

        v = (v << 4) | c;
    }

    *cp = v;

    return 1;
}


/*
 * A string, at its opening quote; s->p past its closing one.  Any string:
 * no control character, escapes as JSON has them, \u surrogates in pairs.
 * A top-level one (top): no escaped NUL, well-formed UTF-8.
 */
static rbac_rc_t
rbac_body_string(rbac_body_scan_t *s, int top)
{
    size_t                n;
    unsigned              cp, lo;
    const unsigned char  *p;

    p = s->p + 1;
    s->esc = 0;

    for ( ;; ) {
        p += rbac_body_plain_run(p, s->end);

        if (p >= s->end) {
            return rbac_body_not_json(s);
        }

        if (*p == '"') {
            break;
        }

        if (*p < 0x20) {
            return rbac_err_set(s->err, RBAC_EPARSE,
                                "body has a control character in a string");
        }

        if (*p >= 0x80) {
            if (!top) {
                p++;
                continue;
            }

            n = rbac_body_utf8(p, s->end);
            if (n == 0) {
                return rbac_err_set(s->err, RBAC_EPARSE,
                                    "body has a string that is not UTF-8");
            }

            p += n;
            continue;
        }

        /* an escape */

        s->esc = 1;

        if (s->end - p < 2) {
            return rbac_body_not_json(s);
        }

        if (p[1] != 'u') {
            if (strchr("\"\\/bfnrt", p[1]) == NULL || p[1] == '\0') {
                return rbac_body_not_json(s);
            }

            p += 2;
            continue;
        }

        if (s->end - p < 6 || !rbac_body_hex4(p + 2, &cp)) {
            return rbac_body_not_json(s);
        }

        if (cp == 0 && top) {
            return rbac_err_set(s->err, RBAC_EPARSE,
                                "body has a NUL character in a string");
        }

        p += 6;

        if (cp >= 0xdc00 && cp <= 0xdfff) {
            return rbac_body_not_json(s);
        }

        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (s->end - p < 6 || p[0] != '\\' || p[1] != 'u'
                || !rbac_body_hex4(p + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
            {
                return rbac_body_not_json(s);
            }

            p += 6;
        }
    }

    s->p = p + 1;

    return RBAC_OK;
}


/*
 * Writes the string checked by rbac_body_string (the bytes between its
 * quotes) decoded, as UTF-8; returns its length (never over len).
 */
static size_t
rbac_body_decode(const unsigned char *p, size_t len, char *out)
{
    size_t                n, run;
    unsigned              cp, lo;
    const unsigned char  *end, *q;

    end = p + len;
    n = 0;

    while (p < end) {
        q = memchr(p, '\\', (size_t) (end - p));
        run = (q != NULL) ? (size_t) (q - p) : (size_t) (end - p);

        if (run) {
            memcpy(out + n, p, run);
            n += run;
            p += run;
            continue;
        }

        switch (p[1]) {
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'u': break;
        default: out[n++] = (char) p[1]; break;
        }

        if (p[1] != 'u') {
            p += 2;
            continue;
        }

        cp = 0;
        lo = 0xdc00;

        /* checked by rbac_body_string: four hex digits, pairs whole */
        (void) rbac_body_hex4(p + 2, &cp);
        p += 6;

        if (cp >= 0xd800 && cp <= 0xdbff) {
            (void) rbac_body_hex4(p + 2, &lo);
            p += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }

        if (cp < 0x80) {
            out[n++] = (char) cp;

        } else if (cp < 0x800) {
            out[n++] = (char) (0xc0 | (cp >> 6));
            out[n++] = (char) (0x80 | (cp & 0x3f));

        } else if (cp < 0x10000) {
            out[n++] = (char) (0xe0 | (cp >> 12));
            out[n++] = (char) (0x80 | ((cp >> 6) & 0x3f));
            out[n++] = (char) (0x80 | (cp & 0x3f));

        } else {
            out[n++] = (char) (0xf0 | (cp >> 18));
            out[n++] = (char) (0x80 | ((cp >> 12) & 0x3f));
            out[n++] = (char) (0x80 | ((cp >> 6) & 0x3f));
            out[n++] = (char) (0x80 | (cp & 0x3f));
        }
    }

    return n;
}


#define rbac_body_digit(p, end)  ((p) < (end) && *(p) >= '0' && *(p) <= '9')


/* A number as RFC 8259 writes it: -?(0|[1-9][0-9]*)(.[0-9]+)?(e[+-]?[0-9]+)? */
static rbac_rc_t
rbac_body_number(rbac_body_scan_t *s)
{
    const unsigned char  *p, *digits;

    p = s->p;

    if (p < s->end && *p == '-') {
        p++;
    }

    if (p < s->end && *p == '0') {
        p++;

    } else if (rbac_body_digit(p, s->end)) {
        while (rbac_body_digit(p, s->end)) {
            p++;
        }

    } else {
        return rbac_body_not_json(s);
    }

    if (p < s->end && *p == '.') {
        digits = ++p;

        while (rbac_body_digit(p, s->end)) {
            p++;
        }

        if (p == digits) {
            goto malformed;
        }
    }

    if (p < s->end && (*p == 'e' || *p == 'E')) {
        p++;

        if (p < s->end && (*p == '+' || *p == '-')) {
            p++;
        }

        digits = p;

        while (rbac_body_digit(p, s->end)) {
            p++;
        }

        if (p == digits) {
            /* "1e": no number at all, as "-" */
            return rbac_body_not_json(s);
        }
    }

    if (rbac_body_digit(p, s->end)) {
        /* "01" */
        goto malformed;
    }

    s->p = p;

    return RBAC_OK;

malformed:

    return rbac_err_set(s->err, RBAC_EPARSE, "body has a malformed number");
}


static rbac_rc_t
rbac_body_literal(rbac_body_scan_t *s, const char *word)
{
    size_t  n;

    n = strlen(word);

    if ((size_t) (s->end - s->p) < n || memcmp(s->p, word, n) != 0) {
        return rbac_body_not_json(s);
    }

    s->p += n;

    return RBAC_OK;
}


/*
 * Any JSON value at s->p, nested ones to RBAC_BODY_DEPTH levels, without
 * recursion: a bit per open level says object (1) or array (0).
 */
static rbac_rc_t
rbac_body_value(rbac_body_scan_t *s)
{
    int        obj;
    size_t     depth;
    uint64_t   open[RBAC_BODY_DEPTH / 64];
    rbac_rc_t  rc;

    obj = 0;
    depth = 0;

    for ( ;; ) {

        /* a value */

        rbac_body_ws(s);

        if (s->p == s->end) {
            return rbac_body_not_json(s);
        }

        switch (*s->p) {

        case '{':
        case '[':
            if (depth == RBAC_BODY_DEPTH) {
                return rbac_body_not_json(s);
            }

            obj = (*s->p == '{');

            if (obj) {
                open[depth / 64] |= (uint64_t) 1 << (depth % 64);

            } else {
                open[depth / 64] &= ~((uint64_t) 1 << (depth % 64));
            }

            depth++;
            s->p++;
            rbac_body_ws(s);

            if (s->p < s->end && *s->p == (obj ? '}' : ']')) {
                s->p++;
                depth--;
                rc = RBAC_OK;
                break;
            }

            if (obj) {
                goto key;
            }

            continue;

        case '"':
            rc = rbac_body_string(s, 0);
            break;

        case 't':
            rc = rbac_body_literal(s, "true");
            break;

        case 'f':
            rc = rbac_body_literal(s, "false");
            break;

        case 'n':
            rc = rbac_body_literal(s, "null");
            break;

        default:
            rc = rbac_body_number(s);
            break;
        }

        if (rc != RBAC_OK) {
            return rc;
        }

        /* after a value: the end, ',' or the closing of its level */

        for ( ;; ) {
            if (depth == 0) {
                return RBAC_OK;
            }

            obj = (open[(depth - 1) / 64] >> ((depth - 1) % 64)) & 1;

            rbac_body_ws(s);

            if (s->p == s->end) {
                return rbac_body_not_json(s);
            }

            if (*s->p == (obj ? '}' : ']')) {
                s->p++;
                depth--;
                continue;
            }

            if (*s->p != ',') {
                return rbac_body_not_json(s);
            }

            s->p++;
            break;
        }

        if (!obj) {
            continue;
        }

    key:

        rbac_body_ws(s);

        if (s->p == s->end || *s->p != '"') {
            return rbac_body_not_json(s);
        }

        rc = rbac_body_string(s, 0);
        if (rc != RBAC_OK) {
            return rc;
        }

        rbac_body_ws(s);

        if (s->p == s->end || *s->p != ':') {
            return rbac_body_not_json(s);
        }

        s->p++;
    }
}
