/*
 * fuzz_catalog.c: the role catalog loader (rbac_catalog_load), the file an
 * operator may replace with `rbac_roles`.  A catalog that loads is then
 * queried: every role name it knows for every option set and sharing mode,
 * and the scope names.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbac.h"


static const char  *fz_names[] = {
    "owner", "member", "auditor", "template-admin", "user-admin",
    "organization-admin", "organization-member",
    "organization-service-account", "organization-workspace-access",
    "provisioner-daemon", "custom-site-role", "r", "a", "", "all",
    "coder:all", "workspace:read", "workspace:*", "no_user_data", NULL
};


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t           i;
    unsigned         opt, share;
    rbac_rc_t        rc;
    rbac_str_t       name;
    rbac_err_t       err;
    rbac_scope_t     scope;
    rbac_catalog_t  *cat;

    memset(&err, 0, sizeof(err));
    cat = NULL;

    rc = rbac_catalog_load((const char *) data, size, &rbac_malloc_allocator,
                           &cat, &err);

    if (rc != RBAC_OK) {
        if (err.msg[0] == '\0') {
            abort();
        }

        return 0;
    }

    for (i = 0; fz_names[i] != NULL; i++) {
        name.data = fz_names[i];
        name.len = strlen(fz_names[i]);

        for (opt = 0; opt <= RBAC_OPT_ALL; opt++) {
            for (share = 0; share < RBAC_NSHARE; share++) {
                (void) rbac_catalog_role(cat, name, opt,
                                         (rbac_share_t) share);
            }
        }

        (void) rbac_catalog_reserved(cat, name);

        memset(&scope, 0, sizeof(scope));
        (void) rbac_catalog_scope_add(cat, name, &scope, &err);
    }

    rbac_catalog_free(cat, &rbac_malloc_allocator);

    return 0;
}
