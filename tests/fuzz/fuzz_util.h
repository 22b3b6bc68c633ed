/*
 * fuzz_util.h: what more than one fuzz target needs: an exact-size copy of
 * the input.
 */

#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>


/*
 * A heap copy of the size bytes at data, exactly that large so that a read
 * past the input is caught; NULL when malloc fails.  Freed with free().
 */
static inline char *
fuzz_copy(const uint8_t *data, size_t size)
{
    char  *copy;

    copy = malloc(size ? size : 1);
    if (copy != NULL) {
        memcpy(copy, data, size);
    }

    return copy;
}


#endif /* FUZZ_UTIL_H */
