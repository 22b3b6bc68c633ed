/*
 * rbac_blob.h: the builder of position-independent blocks (parsed records)
 * and the small JSON writer their canonical form is printed with.  Internal
 * to the record codecs (rbac_blob.c, rbac_record*.c).
 *
 * Both work in two passes over the same code: a first pass with no buffer
 * only measures, a second pass writes into a buffer of exactly the measured
 * size.  Code that fills a block therefore never reads back what it wrote:
 * it builds each struct in a zeroed local and copies it in with
 * rbac_blob_put (a no-op while measuring).
 */

#ifndef RBAC_BLOB_H
#define RBAC_BLOB_H

#include "rbac_record.h"


typedef struct {
    char        *base;      /* NULL while measuring */
    size_t       used;
    rbac_err_t  *err;
} rbac_blob_t;

/*
 * Reserves `size` bytes at the next 8-byte aligned offset and returns the
 * offset.  The block is zeroed before the writing pass, so alignment gaps
 * stay zero.
 */
uint32_t rbac_blob_reserve(rbac_blob_t *b, size_t size);

/* Copies `size` bytes to `off` (nothing while measuring). */
void rbac_blob_put(rbac_blob_t *b, uint32_t off, const void *p, size_t size);

/* Copies `len` bytes and a NUL into the block; returns their reference. */
rbac_ref_t rbac_blob_bytes(rbac_blob_t *b, const char *s, size_t len);

/* Reserves an array of n elements of `elem` bytes; {0, 0} when n is 0. */
rbac_span_t rbac_blob_array(rbac_blob_t *b, size_t n, size_t elem);


typedef struct {
    char        *buf;       /* NULL while measuring */
    size_t       len;
    char         last;      /* the last character written */
} rbac_jw_t;

void rbac_jw_raw(rbac_jw_t *w, const char *s, size_t n);
void rbac_jw_open(rbac_jw_t *w, char c);        /* '{' or '[' after a comma */
void rbac_jw_close(rbac_jw_t *w, char c);

/* A comma when needed, then "key": */
void rbac_jw_key(rbac_jw_t *w, const char *key);
void rbac_jw_key_ref(rbac_jw_t *w, const void *rec, rbac_ref_t key);

/* Values, each preceded by a comma when it is not the first in a list. */
void rbac_jw_str(rbac_jw_t *w, const char *s, size_t n);
void rbac_jw_cstr(rbac_jw_t *w, const char *s);
void rbac_jw_ref(rbac_jw_t *w, const void *rec, rbac_ref_t r);
void rbac_jw_refs(rbac_jw_t *w, const void *rec, rbac_span_t refs);
void rbac_jw_bool(rbac_jw_t *w, int v);
void rbac_jw_int(rbac_jw_t *w, int64_t v);
void rbac_jw_hex(rbac_jw_t *w, const uint8_t *p, size_t n);


#endif /* RBAC_BLOB_H */
