/*
 * fuzz_body.c: the JSON request-body parser of rbac_json_body
 * (rbac_body_parse).  A body that parses is read back field by field.
 */

#include <stdint.h>
#include <string.h>

#include "rbac.h"
#include "rbac_body.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t        i;
    rbac_err_t    err;
    rbac_body_t   b;

    if (rbac_body_parse((const char *) data, size, &rbac_malloc_allocator,
                        &b, &err)
        != RBAC_OK)
    {
        return 0;
    }

    for (i = 0; i < b.nfields; i++) {
        if (rbac_body_get(&b, b.fields[i].name) == NULL) {
            __builtin_trap();
        }
    }

    rbac_malloc_allocator.free(NULL, b.fields);

    return 0;
}
