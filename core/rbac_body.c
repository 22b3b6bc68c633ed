/*
 * rbac_body.c: a JSON request body's top-level scalar fields, for
 * rbac_json_body.  cJSON checks that the whole body is JSON and decodes
 * the strings; a small scanner walks the top level in step with it, to
 * hold it to strict JSON, keep numbers as written and refuse what another
 * reader could take differently (see rbac_body.h).  The fields are copied
 * into one block, sorted by folded name, so the tree is freed at once.
 */

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rbac_body.h"


typedef struct {
    const unsigned char  *p;
    const unsigned char  *end;
    rbac_err_t           *err;
} rbac_body_scan_t;


static unsigned char rbac_body_fold_next(const unsigned char **p,
    const unsigned char *end);
static size_t rbac_body_fold(const char *name, char *out);
static int rbac_body_cmp(const void *one, const void *two);
static void rbac_body_ws(rbac_body_scan_t *s);
static size_t rbac_body_utf8(const unsigned char *p,
    const unsigned char *end);
static rbac_rc_t rbac_body_string(rbac_body_scan_t *s);
static int rbac_body_plain8(const unsigned char *p);
static rbac_rc_t rbac_body_number(rbac_body_scan_t *s);
static rbac_rc_t rbac_body_literal(rbac_body_scan_t *s, const char *word);
static rbac_rc_t rbac_body_nested(rbac_body_scan_t *s);
static rbac_rc_t rbac_body_members(const char *json, size_t len,
    const cJSON *root, rbac_body_field_t *fields, char *buf, size_t *n,
    size_t *bytes, rbac_err_t *err);
static rbac_rc_t rbac_body_not_json(rbac_body_scan_t *s);


rbac_rc_t
rbac_body_parse(const char *json, size_t len, const rbac_allocator_t *a,
    rbac_body_t *out, rbac_err_t *err)
{
    char               *buf, name[48];
    size_t              n, bytes, i, j;
    cJSON              *root;
    rbac_rc_t           rc;
    const char         *end;
    rbac_body_field_t  *f;

    assert(json != NULL || len == 0);
    assert(a != NULL && out != NULL);

    out->fields = NULL;
    out->nfields = 0;

    root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (root == NULL) {
        return rbac_err_set(err, RBAC_EPARSE, "body is not JSON");
    }

    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return rbac_err_set(err, RBAC_EPARSE, "body is not a JSON object");
    }

    /* first pass: count the members and measure their bytes */

    rc = rbac_body_members(json, len, root, NULL, NULL, &n, &bytes, err);

    if (rc != RBAC_OK || n == 0) {
        cJSON_Delete(root);
        return rc;
    }

    f = a->alloc(a->ud, n * sizeof(rbac_body_field_t) + bytes);
    if (f == NULL) {
        cJSON_Delete(root);
        return rbac_err_set(err, RBAC_ENOMEM, "out of memory");
    }

    /* second pass: every member, non-scalars with a NULL value */

    buf = (char *) (f + n);
    rc = rbac_body_members(json, len, root, f, buf, &n, &bytes, err);

    cJSON_Delete(root);

    if (rc != RBAC_OK) {
        a->free(a->ud, f);
        return rc;
    }

    qsort(f, n, sizeof(rbac_body_field_t), rbac_body_cmp);

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

        return rbac_err_set(err, RBAC_EPARSE,
                            "body has the field \"%s\" twice", name);
    }

    /* keep the scalars */

    for (i = 0, j = 0; i < n; i++) {
        if (f[i].value.data != NULL) {
            f[j++] = f[i];
        }
    }

    if (j == 0) {
        a->free(a->ud, f);
        return RBAC_OK;
    }

    out->fields = f;
    out->nfields = j;

    return RBAC_OK;
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


/* Writes the folded form of the C string `name`; returns its length. */
static size_t
rbac_body_fold(const char *name, char *out)
{
    size_t                n;
    const unsigned char  *p, *end;

    p = (const unsigned char *) name;
    end = p + strlen(name);
    n = 0;

    while (p < end) {
        out[n++] = (char) rbac_body_fold_next(&p, end);
    }

    return n;
}


/* qsort order of fields: their folded names, bytewise, shorter first. */
static int
rbac_body_cmp(const void *one, const void *two)
{
    int                       c;
    size_t                    n;
    const rbac_body_field_t  *a, *b;

    a = one;
    b = two;
    n = a->name.len < b->name.len ? a->name.len : b->name.len;

    c = (n == 0) ? 0 : memcmp(a->name.data, b->name.data, n);

    if (c != 0) {
        return c;
    }

    return (a->name.len > b->name.len) - (a->name.len < b->name.len);
}


/*
 * One walk over the top-level members, in step with root's children.
 * fields NULL: counts them into *n and measures their bytes into *bytes.
 * Otherwise fills fields[0..*n) (values NULL for null, objects and arrays)
 * with names and values copied into buf.
 */
static rbac_rc_t
rbac_body_members(const char *json, size_t len, const cJSON *root,
    rbac_body_field_t *fields, char *buf, size_t *n, size_t *bytes,
    rbac_err_t *err)
{
    size_t                 count, vlen;
    rbac_rc_t              rc;
    const char            *value;
    const cJSON           *it;
    rbac_body_scan_t       s;
    const unsigned char   *start;
    rbac_body_field_t     *f;

    s.p = (const unsigned char *) json;
    s.end = s.p + len;
    s.err = err;

    count = 0;
    *bytes = 0;
    it = root->child;

    rbac_body_ws(&s);

    if (s.p == s.end || *s.p != '{') {
        return rbac_body_not_json(&s);
    }

    s.p++;
    rbac_body_ws(&s);

    if (s.p < s.end && *s.p == '}') {
        s.p++;
        goto done;
    }

    for ( ;; ) {

        if (s.p == s.end || *s.p != '"' || it == NULL || it->string == NULL) {
            return rbac_body_not_json(&s);
        }

        if (++count > RBAC_MAX_LIST) {
            return rbac_err_set(err, RBAC_EBOUND,
                                "body has more than %d fields",
                                RBAC_MAX_LIST);
        }

        rc = rbac_body_string(&s);
        if (rc != RBAC_OK) {
            return rc;
        }

        rbac_body_ws(&s);

        if (s.p == s.end || *s.p != ':') {
            return rbac_body_not_json(&s);
        }

        s.p++;
        rbac_body_ws(&s);

        if (s.p == s.end) {
            return rbac_body_not_json(&s);
        }

        start = s.p;
        value = NULL;
        vlen = 0;

        switch (*s.p) {

        case '"':
            rc = rbac_body_string(&s);

            if (rc == RBAC_OK && cJSON_IsString(it)) {
                value = it->valuestring;
                vlen = strlen(value);
            }

            break;

        case 't':
            rc = rbac_body_literal(&s, "true");
            value = "true";
            vlen = 4;
            break;

        case 'f':
            rc = rbac_body_literal(&s, "false");
            value = "false";
            vlen = 5;
            break;

        case 'n':
            rc = rbac_body_literal(&s, "null");
            break;

        case '{':
        case '[':
            rc = rbac_body_nested(&s);
            break;

        default:
            rc = rbac_body_number(&s);

            if (rc == RBAC_OK && cJSON_IsNumber(it)) {
                value = (const char *) start;
                vlen = (size_t) (s.p - start);
            }

            break;
        }

        if (rc != RBAC_OK) {
            return rc;
        }

        /* the scanner and cJSON must see the same kind of value */
        if ((*start == '"' && !cJSON_IsString(it))
            || ((*start == 't' || *start == 'f') && !cJSON_IsBool(it))
            || (*start == 'n' && !cJSON_IsNull(it))
            || (*start == '{' && !cJSON_IsObject(it))
            || (*start == '[' && !cJSON_IsArray(it))
            || (value == NULL && *start != 'n' && *start != '{'
                && *start != '['))
        {
            return rbac_body_not_json(&s);
        }

        if (fields == NULL) {
            *bytes += strlen(it->string) + vlen;

        } else {
            f = &fields[count - 1];

            f->name.data = buf;
            f->name.len = rbac_body_fold(it->string, buf);
            buf += f->name.len;

            f->value.data = NULL;
            f->value.len = 0;

            if (value != NULL) {
                if (vlen) {
                    memcpy(buf, value, vlen);
                }

                f->value.data = buf;
                f->value.len = vlen;
                buf += vlen;
            }
        }

        it = it->next;

        rbac_body_ws(&s);

        if (s.p < s.end && *s.p == ',') {
            s.p++;
            rbac_body_ws(&s);
            continue;
        }

        if (s.p < s.end && *s.p == '}') {
            s.p++;
            break;
        }

        return rbac_body_not_json(&s);
    }

done:

    if (it != NULL) {
        return rbac_body_not_json(&s);
    }

    rbac_body_ws(&s);

    if (s.p != s.end) {
        return rbac_err_set(err, RBAC_EPARSE,
                            "body has data after the JSON");
    }

    *n = count;

    return RBAC_OK;
}


static rbac_rc_t
rbac_body_not_json(rbac_body_scan_t *s)
{
    return rbac_err_set(s->err, RBAC_EPARSE, "body is not JSON");
}


/* JSON's four whitespace characters, and no others. */
static void
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
 * A top-level string, at its opening quote: no control character, no
 * escaped NUL, well-formed UTF-8 (the escapes themselves cJSON checked).
 */
static rbac_rc_t
rbac_body_string(rbac_body_scan_t *s)
{
    size_t                n;
    const unsigned char  *p;

    p = s->p + 1;

    while (p < s->end && *p != '"') {

        /* plain ASCII, the bulk of any body: eight bytes at a time */
        if (s->end - p >= 8 && rbac_body_plain8(p)) {
            p += 8;
            continue;
        }

        if (*p >= 0x20 && *p < 0x80 && *p != '\\') {
            p++;
            continue;
        }

        if (*p < 0x20) {
            return rbac_err_set(s->err, RBAC_EPARSE,
                                "body has a control character in a string");
        }

        if (*p == '\\') {
            if (s->end - p >= 6 && memcmp(p + 1, "u0000", 5) == 0) {
                return rbac_err_set(s->err, RBAC_EPARSE,
                                    "body has a NUL character in a string");
            }

            if (s->end - p < 2) {
                break;
            }

            p += 2;
            continue;
        }

        n = rbac_body_utf8(p, s->end);
        if (n == 0) {
            return rbac_err_set(s->err, RBAC_EPARSE,
                                "body has a string that is not UTF-8");
        }

        p += n;
    }

    if (p >= s->end) {
        return rbac_body_not_json(s);
    }

    s->p = p + 1;

    return RBAC_OK;
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
            goto malformed;
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


/* Skips an object or array (cJSON has checked it is JSON). */
static rbac_rc_t
rbac_body_nested(rbac_body_scan_t *s)
{
    size_t                depth;
    const unsigned char  *p;

    p = s->p;
    depth = 0;

    while (p < s->end) {

        switch (*p) {

        case '"':
            for (p++; p < s->end && *p != '"'; p++) {
                if (*p == '\\' && s->end - p > 1) {
                    p++;
                }
            }

            break;

        case '{':
        case '[':
            depth++;
            break;

        case '}':
        case ']':
            depth--;
            break;

        default:
            break;
        }

        if (p < s->end) {
            p++;
        }

        if (depth == 0) {
            s->p = p;
            return RBAC_OK;
        }
    }

    return rbac_body_not_json(s);
}
