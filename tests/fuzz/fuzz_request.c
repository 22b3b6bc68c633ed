/*
 * fuzz_request.c: the decision request parser of `rbacctl eval` and the
 * conformance suite (rbac_request_parse), followed by the decision and its
 * reason for every action: requests carry unvalidated custom roles and
 * scopes, so they reach every corner of the engine.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbac.h"
#include "rbac_request.h"


static rbac_catalog_t  *fz_cat;


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    rbac_err_t  err;

    if (rbac_catalog_load((const char *) rbac_builtin_catalog,
                          rbac_builtin_catalog_len, &rbac_malloc_allocator,
                          &fz_cat, &err)
        != RBAC_OK)
    {
        fprintf(stderr, "catalog: %s\n", err.msg);
        abort();
    }

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t           i;
    rbac_rc_t        rc;
    rbac_err_t       err;
    rbac_request_t  *req;
    rbac_decision_t  d;
    char             reason[256];

    memset(&err, 0, sizeof(err));
    req = NULL;

    rc = rbac_request_parse((const char *) data, size, fz_cat,
                            &rbac_malloc_allocator, &req, &err);

    if (rc != RBAC_OK) {
        if (req != NULL || err.msg[0] == '\0') {
            abort();
        }

        return 0;
    }

    rbac_decide(&req->subject, &req->object, req->action, &d);
    rbac_decision_reason(&d, &req->subject, &req->object, reason,
                         sizeof(reason));

    for (i = 0; i < RBAC_NACTIONS; i++) {
        rbac_decide(&req->subject, &req->object, (rbac_action_t) i, &d);
        rbac_decision_reason(&d, &req->subject, &req->object, reason,
                             sizeof(reason));
    }

    rbac_request_free(req, &rbac_malloc_allocator);

    return 0;
}
