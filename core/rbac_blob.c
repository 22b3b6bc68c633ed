/*
 * rbac_blob.c: the block builder of parsed records, rbac_ref(), and the
 * compact JSON writer of their canonical form.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "rbac_blob.h"


rbac_str_t
rbac_ref(const void *rec, rbac_ref_t r)
{
    rbac_str_t  s;

    s.data = (const char *) rec + r.off;
    s.len = r.len;

    return s;
}


uint32_t
rbac_blob_reserve(rbac_blob_t *b, size_t size)
{
    size_t  off;

    off = (b->used + 7) & ~(size_t) 7;
    b->used = off + size;

    return (uint32_t) off;
}


void
rbac_blob_put(rbac_blob_t *b, uint32_t off, const void *p, size_t size)
{
    if (b->base != NULL && size > 0) {
        memcpy(b->base + off, p, size);
    }
}


rbac_ref_t
rbac_blob_bytes(rbac_blob_t *b, const char *s, size_t len)
{
    rbac_ref_t  r;

    r.off = (uint32_t) b->used;
    r.len = (uint32_t) len;

    if (b->base != NULL) {
        if (len > 0) {
            memcpy(b->base + b->used, s, len);
        }

        b->base[b->used + len] = '\0';
    }

    b->used += len + 1;

    return r;
}


rbac_span_t
rbac_blob_array(rbac_blob_t *b, size_t n, size_t elem)
{
    rbac_span_t  sp;

    sp.off = 0;
    sp.n = 0;

    if (n > 0) {
        sp.off = rbac_blob_reserve(b, n * elem);
        sp.n = (uint32_t) n;
    }

    return sp;
}


void
rbac_jw_raw(rbac_jw_t *w, const char *s, size_t n)
{
    if (n == 0) {
        return;
    }

    if (w->buf != NULL) {
        memcpy(w->buf + w->len, s, n);
    }

    w->len += n;
    w->last = s[n - 1];
}


static void
rbac_jw_sep(rbac_jw_t *w)
{
    if (w->len > 0 && w->last != '{' && w->last != '[' && w->last != ':') {
        rbac_jw_raw(w, ",", 1);
    }
}


void
rbac_jw_open(rbac_jw_t *w, char c)
{
    rbac_jw_sep(w);
    rbac_jw_raw(w, &c, 1);
}


void
rbac_jw_close(rbac_jw_t *w, char c)
{
    rbac_jw_raw(w, &c, 1);
}


static void
rbac_jw_quoted(rbac_jw_t *w, const char *s, size_t n)
{
    char           esc[8];
    size_t         i, start;
    unsigned char  c;

    rbac_jw_raw(w, "\"", 1);

    start = 0;

    for (i = 0; i < n; i++) {
        c = (unsigned char) s[i];

        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }

        rbac_jw_raw(w, s + start, i - start);
        start = i + 1;

        switch (c) {
        case '"':
            rbac_jw_raw(w, "\\\"", 2);
            break;
        case '\\':
            rbac_jw_raw(w, "\\\\", 2);
            break;
        case '\n':
            rbac_jw_raw(w, "\\n", 2);
            break;
        case '\r':
            rbac_jw_raw(w, "\\r", 2);
            break;
        case '\t':
            rbac_jw_raw(w, "\\t", 2);
            break;
        default:
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            rbac_jw_raw(w, esc, 6);
            break;
        }
    }

    rbac_jw_raw(w, s + start, n - start);
    rbac_jw_raw(w, "\"", 1);
}


void
rbac_jw_key(rbac_jw_t *w, const char *key)
{
    rbac_jw_sep(w);
    rbac_jw_quoted(w, key, strlen(key));
    rbac_jw_raw(w, ":", 1);
}


void
rbac_jw_key_ref(rbac_jw_t *w, const void *rec, rbac_ref_t key)
{
    rbac_str_t  s;

    s = rbac_ref(rec, key);
    rbac_jw_sep(w);
    rbac_jw_quoted(w, s.data, s.len);
    rbac_jw_raw(w, ":", 1);
}


void
rbac_jw_str(rbac_jw_t *w, const char *s, size_t n)
{
    rbac_jw_sep(w);
    rbac_jw_quoted(w, s, n);
}


void
rbac_jw_cstr(rbac_jw_t *w, const char *s)
{
    rbac_jw_str(w, s, strlen(s));
}


void
rbac_jw_ref(rbac_jw_t *w, const void *rec, rbac_ref_t r)
{
    rbac_str_t  s;

    s = rbac_ref(rec, r);
    rbac_jw_str(w, s.data, s.len);
}


void
rbac_jw_refs(rbac_jw_t *w, const void *rec, rbac_span_t refs)
{
    uint32_t           i;
    const rbac_ref_t  *r;

    r = rbac_rec_at(rec, refs, rbac_ref_t);

    rbac_jw_open(w, '[');

    for (i = 0; i < refs.n; i++) {
        rbac_jw_ref(w, rec, r[i]);
    }

    rbac_jw_close(w, ']');
}


void
rbac_jw_bool(rbac_jw_t *w, int v)
{
    rbac_jw_sep(w);

    if (v) {
        rbac_jw_raw(w, "true", 4);

    } else {
        rbac_jw_raw(w, "false", 5);
    }
}


void
rbac_jw_int(rbac_jw_t *w, int64_t v)
{
    int   n;
    char  num[32];

    n = snprintf(num, sizeof(num), "%" PRId64, v);

    rbac_jw_sep(w);
    rbac_jw_raw(w, num, (size_t) n);
}


void
rbac_jw_hex(rbac_jw_t *w, const uint8_t *p, size_t n)
{
    size_t      i;
    char        hex[2];
    static const char  digits[] = "0123456789abcdef";

    rbac_jw_sep(w);
    rbac_jw_raw(w, "\"", 1);

    for (i = 0; i < n; i++) {
        hex[0] = digits[p[i] >> 4];
        hex[1] = digits[p[i] & 0xf];
        rbac_jw_raw(w, hex, 2);
    }

    rbac_jw_raw(w, "\"", 1);
}
