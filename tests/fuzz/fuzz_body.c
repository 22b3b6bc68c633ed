/*
 * fuzz_body.c: the JSON request-body parser of rbac_json_body
 * (rbac_body_parse).  A body that parses is checked field by field: names
 * folded, sorted and unique, each found again by rbac_body_get, under its
 * name and in upper case, and holding no NUL.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rbac.h"
#include "rbac_body.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char               *up;
    size_t              i, j, n;
    rbac_str_t          name;
    rbac_err_t          err;
    rbac_body_t         b;
    const rbac_str_t   *v;
    rbac_body_field_t  *f;

    if (rbac_body_parse((const char *) data, size, &rbac_malloc_allocator,
                        &b, &err)
        != RBAC_OK)
    {
        if (b.fields != NULL || err.msg[0] == '\0') {
            __builtin_trap();
        }

        return 0;
    }

    if ((b.nfields == 0) != (b.fields == NULL)) {
        __builtin_trap();
    }

    for (i = 0; i < b.nfields; i++) {
        f = &b.fields[i];

        if (memchr(f->name.data, '\0', f->name.len) != NULL
            || memchr(f->value.data, '\0', f->value.len) != NULL)
        {
            __builtin_trap();
        }

        for (j = 0; j < f->name.len; j++) {
            if (f->name.data[j] >= 'A' && f->name.data[j] <= 'Z') {
                __builtin_trap();
            }
        }

        if (i > 0) {
            n = f[-1].name.len < f->name.len ? f[-1].name.len : f->name.len;

            if (memcmp(f[-1].name.data, f->name.data, n) > 0
                || (memcmp(f[-1].name.data, f->name.data, n) == 0
                    && f[-1].name.len >= f->name.len))
            {
                __builtin_trap();
            }
        }

        v = rbac_body_get(&b, f->name);
        if (v != &f->value) {
            __builtin_trap();
        }

        up = malloc(f->name.len + 1);
        if (up == NULL) {
            break;
        }

        for (j = 0; j < f->name.len; j++) {
            up[j] = (f->name.data[j] >= 'a' && f->name.data[j] <= 'z')
                    ? (char) (f->name.data[j] - 'a' + 'A') : f->name.data[j];
        }

        name.data = up;
        name.len = f->name.len;

        if (rbac_body_get(&b, name) != &f->value) {
            __builtin_trap();
        }

        free(up);
    }

    rbac_malloc_allocator.free(NULL, b.fields);

    return 0;
}
