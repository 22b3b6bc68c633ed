/*
 * fuzz_reference.c: references (core/rbac_reference.c): the UUID
 * canonicalizer (its output is canonical and a fixed point), an argument
 * "@kind:value" turned into an id or a key of bounded size, a stored key
 * "kind:value", and the reference record parsed and written back.
 */

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rbac.h"


static void
fz_uuid(const char *s, size_t len)
{
    size_t  i;
    char    out[RBAC_UUID_LEN], again[RBAC_UUID_LEN];

    if (!rbac_uuid_canon(s, len, out)) {
        return;
    }

    for (i = 0; i < RBAC_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            assert(out[i] == '-');
        } else {
            assert((out[i] >= '0' && out[i] <= '9')
                   || (out[i] >= 'a' && out[i] <= 'f'));
        }
    }

    assert(rbac_uuid_canon(out, RBAC_UUID_LEN, again));
    assert(memcmp(out, again, RBAC_UUID_LEN) == 0);
}


static void
fz_arg(const char *s, size_t len)
{
    int              is_key;
    rbac_str_t       arg, rest, out, caller = rbac_string("u1");
    const char      *why;
    rbac_refkind_t   k;
    char             buf[RBAC_REF_KEY_MAX];

    arg.data = s;
    arg.len = len;

    if (rbac_refarg_split(arg, &k, &rest) != RBAC_OK) {
        return;
    }

    if (rbac_refarg_eval(k, rest, caller, buf, &out, &is_key, &why)
        == RBAC_OK)
    {
        assert(out.len <= RBAC_REF_KEY_MAX || !is_key);
        assert(!is_key || out.data == buf);
    } else {
        assert(why != NULL);
    }

    if (rbac_refkey_parse(arg, buf, &out, &k, &why) == RBAC_OK) {
        assert(out.len <= RBAC_REF_KEY_MAX);
    }
}


static void
fz_record(const char *s, size_t len)
{
    void        *rec, *rec2;
    char        *json;
    size_t       jlen;
    rbac_err_t   err;

    if (rbac_record_parse(RBAC_REC_REF, s, len, &rbac_malloc_allocator, &rec,
                          &err)
        != RBAC_OK)
    {
        return;
    }

    if (rbac_record_json(rec, &rbac_malloc_allocator, &json, &jlen, &err)
        == RBAC_OK)
    {
        assert(rbac_record_parse(RBAC_REC_REF, json, jlen,
                                 &rbac_malloc_allocator, &rec2, &err)
               == RBAC_OK);
        assert(memcmp(rec, rec2, ((rbac_rec_hdr_t *) rec)->size) == 0);
        free(rec2);
        free(json);
    }

    free(rec);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char  *s = (const char *) data;

    fz_uuid(s, size);
    fz_arg(s, size);
    fz_record(s, size);

    return 0;
}
