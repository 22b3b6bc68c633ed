/*
 * rbac_body.c: a JSON request body's top-level scalar fields, copied into
 * one block so that the parsed tree can be freed at once.
 */

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rbac_body.h"


/* Writes the scalar `it` into buf (NULL: measure); 0 when not a scalar. */
static size_t
rbac_body_scalar(const cJSON *it, char *buf, size_t size, int *ok)
{
    int          n;
    double       d;
    const char  *s;

    *ok = 1;

    if (cJSON_IsString(it)) {
        s = it->valuestring;
        n = (int) strlen(s);

        if (buf != NULL) {
            memcpy(buf, s, (size_t) n);
        }

        return (size_t) n;
    }

    if (cJSON_IsBool(it)) {
        s = cJSON_IsTrue(it) ? "true" : "false";
        n = (int) strlen(s);

        if (buf != NULL) {
            memcpy(buf, s, (size_t) n);
        }

        return (size_t) n;
    }

    if (cJSON_IsNumber(it)) {
        d = it->valuedouble;

        if (d > -1e15 && d < 1e15 && d == (double) (long long) d) {
            n = snprintf(buf, buf ? size : 0, "%.0f", d);

        } else {
            n = snprintf(buf, buf ? size : 0, "%.17g", d);
        }

        return n > 0 ? (size_t) n : 0;
    }

    *ok = 0;

    return 0;
}


rbac_rc_t
rbac_body_parse(const char *json, size_t len, const rbac_allocator_t *a,
    rbac_body_t *out, rbac_err_t *err)
{
    int                 ok;
    char               *p;
    size_t              n, bytes, vlen;
    cJSON              *root, *it;
    const char         *end;
    rbac_body_field_t  *f;

    out->fields = NULL;
    out->nfields = 0;

    root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (root == NULL) {
        return rbac_err_set(err, RBAC_EPARSE, "body is not JSON");
    }

    while (end < json + len
           && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
    {
        end++;
    }

    if (end != json + len && !(end + 1 == json + len && *end == '\0')) {
        cJSON_Delete(root);
        return rbac_err_set(err, RBAC_EPARSE, "body has data after the JSON");
    }

    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return rbac_err_set(err, RBAC_EPARSE, "body is not a JSON object");
    }

    n = 0;
    bytes = 0;

    for (it = root->child; it != NULL; it = it->next) {
        vlen = rbac_body_scalar(it, NULL, 0, &ok);

        if (!ok) {
            continue;
        }

        if (++n > RBAC_MAX_LIST) {
            cJSON_Delete(root);
            return rbac_err_set(err, RBAC_EBOUND,
                                "body has more than %d fields",
                                RBAC_MAX_LIST);
        }

        bytes += strlen(it->string) + vlen + 1;
    }

    if (n == 0) {
        cJSON_Delete(root);
        return RBAC_OK;
    }

    f = a->alloc(a->ud, n * sizeof(rbac_body_field_t) + bytes);
    if (f == NULL) {
        cJSON_Delete(root);
        return rbac_err_set(err, RBAC_ENOMEM, "out of memory");
    }

    out->fields = f;
    p = (char *) (f + n);

    for (it = root->child; it != NULL; it = it->next) {
        vlen = rbac_body_scalar(it, NULL, 0, &ok);

        if (!ok) {
            continue;
        }

        f->name.data = p;
        f->name.len = strlen(it->string);
        memcpy(p, it->string, f->name.len);
        p += f->name.len;

        /* +1: snprintf writes a NUL after the number */
        (void) rbac_body_scalar(it, p, vlen + 1, &ok);
        f->value.data = p;
        f->value.len = vlen;
        p += vlen + 1;

        f++;
    }

    out->nfields = n;
    cJSON_Delete(root);

    return RBAC_OK;
}


const rbac_str_t *
rbac_body_get(const rbac_body_t *b, rbac_str_t name)
{
    size_t  i;

    /* a duplicate field: the first one counts, as cJSON's lookups do */
    for (i = 0; i < b->nfields; i++) {
        if (rbac_str_eq(b->fields[i].name, name)) {
            return &b->fields[i].value;
        }
    }

    return NULL;
}
