/*
 * rbac_record_deployment.c: rbac:deployment, the deployment options that
 * select variants of the built-in roles (RBAC_OPT_*).
 */

#include <string.h>

#include "rbac_record_int.h"


static const struct {
    const char  *name;
    uint32_t     opt;
} rbac_deployment_opts[] = {
    { "no_owner_workspace_exec", RBAC_OPT_NO_OWNER_WORKSPACE_EXEC },
    { "no_workspace_sharing", RBAC_OPT_NO_WORKSPACE_SHARING },
    { "no_chat_sharing", RBAC_OPT_NO_CHAT_SHARING },
};

#define RBAC_NDEPLOYMENT_OPTS                                                 \
    (sizeof(rbac_deployment_opts) / sizeof(rbac_deployment_opts[0]))


rbac_rc_t
rbac_rec_deployment_parse(rbac_blob_t *b, const cJSON *j, const char *path)
{
    size_t                 i;
    uint8_t                v;
    uint32_t               off;
    rbac_rc_t              rc;
    rbac_deployment_rec_t  d;

    memset(&d, 0, sizeof(d));
    off = rbac_blob_reserve(b, sizeof(d));

    for (i = 0; i < RBAC_NDEPLOYMENT_OPTS; i++) {
        rc = rbac_rf_bool(j, rbac_deployment_opts[i].name, path, 0, &v,
                          b->err);
        if (rc != RBAC_OK) {
            return rc;
        }

        if (v) {
            d.options |= rbac_deployment_opts[i].opt;
        }
    }

    rbac_blob_put(b, off, &d, sizeof(d));

    return RBAC_OK;
}


void
rbac_rec_deployment_json(rbac_jw_t *w, const void *rec)
{
    size_t                        i;
    const rbac_deployment_rec_t  *d = rec;

    rbac_jw_open(w, '{');

    for (i = 0; i < RBAC_NDEPLOYMENT_OPTS; i++) {
        rbac_jw_key(w, rbac_deployment_opts[i].name);
        rbac_jw_bool(w, (d->options & rbac_deployment_opts[i].opt) != 0);
    }

    rbac_jw_close(w, '}');
}
