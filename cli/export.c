/*
 * export.c: `rbacctl export`: the decision table as a policy file that
 * `apply` turns back into the same table (records in canonical form, sorted
 * by key; hashes of tokens and keys included, never a secret).
 */

#include <stdlib.h>
#include <string.h>

#include "admin.h"


static const char  rbacctl_export_usage[] =
    "export [-f FILE] [--redis URL] [--prefix P]\n"
    "  prints the table as a policy file (to FILE with -f).";


static const struct {
    const char       *list;         /* NULL: a single object */
    const char       *name;
    const char       *pattern;
    rbac_rec_type_t   type;
} rbacctl_export_kinds[] = {
    { "organizations", NULL, "org:*", RBAC_REC_ORG },
    { "groups", NULL, "group:*", RBAC_REC_GROUP },
    { "users", NULL, "user:*", RBAC_REC_USER },
    { "roles", NULL, "role:*", RBAC_REC_ROLE },
    { "roles", NULL, "siterole:*", RBAC_REC_SITEROLE },
    { "objects", NULL, "obj:*", RBAC_REC_OBJ },
    { "tokens", NULL, "token:*", RBAC_REC_TOKEN },
    { "provisioner_keys", NULL, "pkey:*", RBAC_REC_PKEY },
    { NULL, "deployment", "deployment", RBAC_REC_DEPLOYMENT },
    { NULL, "idp_sync", "idpsync", RBAC_REC_IDPSYNC },
};

#define RBACCTL_NEXPORT  \
    (sizeof(rbacctl_export_kinds) / sizeof(rbacctl_export_kinds[0]))


/* The canonical form of the stored record as cJSON; NULL after a message. */
static cJSON *
rbacctl_export_one(rbacctl_conn_t *conn, rbac_rec_type_t type,
    const char *key, const char *val)
{
    char   full[700], *canon;
    void  *rec;
    cJSON  *j;

    snprintf(full, sizeof(full), "%s%s", conn->prefix, key);

    /* as the module reads it: the key's kind, type and id */
    rec = rbacctl_parse_key(conn->prefix, key, val, NULL);
    if (rec == NULL) {
        return NULL;
    }

    free(rec);

    canon = rbacctl_canon_text(type, val, full);
    if (canon == NULL) {
        fprintf(stderr, "rbacctl export: malformed record at %s\n", full);
        return NULL;
    }

    j = cJSON_Parse(canon);
    free(canon);

    return j;
}


int
rbacctl_export(int argc, char **argv)
{
    int              rc;
    long             n, k;
    char           **keys, *val, *text;
    size_t           i;
    cJSON           *doc, *list, *j;
    FILE            *out;
    const char      *file;
    rbacctl_args_t   a;
    rbacctl_conn_t   conn;

    rc = rbacctl_args_parse(&a, "export", argc - 1, argv + 1, "file=",
                            rbacctl_export_usage);
    if (rc != RBACCTL_OK || a.help) {
        return rc;
    }

    if (a.npos) {
        fprintf(stderr, "usage: rbacctl %s\n", rbacctl_export_usage);
        return RBACCTL_USAGE;
    }

    rc = rbacctl_connect(&a, &conn);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    doc = cJSON_CreateObject();
    rc = doc ? RBACCTL_OK : RBACCTL_FAIL;

    for (i = 0; i < RBACCTL_NEXPORT && rc == RBACCTL_OK; i++) {
        n = rbacctl_scan(&conn, rbacctl_export_kinds[i].pattern, &keys);
        if (n < 0) {
            rc = RBACCTL_FAIL;
            break;
        }

        list = NULL;

        if (rbacctl_export_kinds[i].list) {
            list = cJSON_GetObjectItemCaseSensitive(doc,
                                                rbacctl_export_kinds[i].list);
            if (list == NULL) {
                list = cJSON_AddArrayToObject(doc,
                                              rbacctl_export_kinds[i].list);
            }
            if (list == NULL) {
                rc = RBACCTL_FAIL;
            }
        }

        for (k = 0; k < n && rc == RBACCTL_OK; k++) {
            if (rbacctl_get(&conn, keys[k], &val) != RBACCTL_OK) {
                rc = RBACCTL_FAIL;
                break;
            }

            if (val == NULL) {
                continue;           /* deleted since the SCAN */
            }

            j = rbacctl_export_one(&conn, rbacctl_export_kinds[i].type,
                                   keys[k], val);
            free(val);

            if (j == NULL) {
                rc = RBACCTL_FAIL;
                break;
            }

            if (list) {
                cJSON_AddItemToArray(list, j);
            } else {
                cJSON_AddItemToObject(doc, rbacctl_export_kinds[i].name, j);
            }
        }

        rbacctl_strv_free(keys, n);
    }

    rbacctl_disconnect(&conn);

    if (rc != RBACCTL_OK) {
        cJSON_Delete(doc);
        return rc;
    }

    text = cJSON_Print(doc);
    cJSON_Delete(doc);

    if (text == NULL) {
        return rbacctl_fail(&a, RBACCTL_FAIL, "out of memory");
    }

    file = rbacctl_arg(&a, "file");
    out = file && strcmp(file, "-") != 0 ? fopen(file, "w") : stdout;

    if (out == NULL) {
        cJSON_free(text);
        return rbacctl_fail(&a, RBACCTL_USAGE, "cannot write %s", file);
    }

    fprintf(out, "%s\n", text);
    cJSON_free(text);

    if (out != stdout) {
        rc = fclose(out) == 0 ? RBACCTL_OK : RBACCTL_FAIL;
    } else {
        rc = fflush(out) == 0 ? RBACCTL_OK : RBACCTL_FAIL;
    }

    return rc;
}
