/*
 * export.c: `rbacctl export`: the decision table as a policy file that
 * `apply` turns back into the same table (records in canonical form, sorted
 * by key within each list; hashes of tokens and keys included, never a
 * secret).  One SCAN for the keys, pipelined MGETs for the values, and each
 * record written out as it arrives: memory holds the key names, not the
 * table.
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
    const char       *prefix;       /* of the keys */
    rbac_rec_type_t   type;
} rbacctl_export_kinds[] = {
    { "organizations", NULL, "org:", RBAC_REC_ORG },
    { "groups", NULL, "group:", RBAC_REC_GROUP },
    { "users", NULL, "user:", RBAC_REC_USER },
    { "roles", NULL, "role:", RBAC_REC_ROLE },
    { "roles", NULL, "siterole:", RBAC_REC_SITEROLE },
    { "objects", NULL, "obj:", RBAC_REC_OBJ },
    { "tokens", NULL, "token:", RBAC_REC_TOKEN },
    { "provisioner_keys", NULL, "pkey:", RBAC_REC_PKEY },
    { NULL, "deployment", "deployment", RBAC_REC_DEPLOYMENT },
    { NULL, "idp_sync", "idpsync", RBAC_REC_IDPSYNC },
    { "references", NULL, "ref:", RBAC_REC_REF },
};

#define RBACCTL_NEXPORT  \
    (sizeof(rbacctl_export_kinds) / sizeof(rbacctl_export_kinds[0]))


typedef struct {
    rbacctl_conn_t       *conn;
    FILE                 *out;
    char                **keys;         /* of the kind being written */
    size_t                n;
    rbac_rec_type_t       type;
    size_t                written;      /* in this list */
    size_t                done;         /* in all */
    rbacctl_progress_t    pr;
} rbacctl_export_t;


/* The kind of a key (an index into rbacctl_export_kinds), or -1. */
static int
rbacctl_export_kind(const char *key)
{
    size_t       i, l;
    const char  *p;

    for (i = 0; i < RBACCTL_NEXPORT; i++) {
        p = rbacctl_export_kinds[i].prefix;
        l = strlen(p);

        if (strncmp(key, p, l) == 0
            && (p[l - 1] == ':' || key[l] == '\0'))
        {
            return (int) i;
        }
    }

    return -1;
}


static const char *
rbacctl_export_key(void *ud, size_t i)
{
    return ((rbacctl_export_t *) ud)->keys[i];
}


/* {"ref":"<kind>:<key>",...} from a reference's canonical value (freed). */
static char *
rbacctl_export_ref(const char *key, char *canon)
{
    char   *s, *out;
    cJSON  *k;

    k = cJSON_CreateString(key);
    s = k ? cJSON_PrintUnformatted(k) : NULL;
    cJSON_Delete(k);

    out = s ? malloc(strlen(s) + strlen(canon) + 16) : NULL;
    if (out != NULL) {
        sprintf(out, "{\"ref\":%s,%s", s, canon + 1);
    }

    free(s);
    free(canon);

    return out;
}


/* One record: validated and canonical, then written. */
static int
rbacctl_export_val(void *ud, size_t i, const char *val, size_t len)
{
    char              *canon;
    void              *rec;
    rbac_err_t         err;
    rbacctl_export_t  *x = ud;

    if (val == NULL) {
        return RBACCTL_OK;          /* deleted since the SCAN */
    }

    /* as the module reads it: the key's kind, type and id checked */
    rec = rbacctl_parse_key(x->conn->prefix, x->keys[i], val, NULL);
    if (rec == NULL) {
        return RBACCTL_FAIL;
    }

    /* derived references follow names: checked, not written */
    if (x->type == RBAC_REC_REF && ((rbac_reference_rec_t *) rec)->derived) {
        free(rec);
        x->done++;
        return RBACCTL_OK;
    }

    memset(&err, 0, sizeof(err));
    canon = NULL;

    if (rbac_record_json(rec, &rbac_malloc_allocator, &canon, NULL, &err)
        != RBAC_OK)
    {
        fprintf(stderr, "rbacctl export: malformed record at %s%s: %s\n",
                x->conn->prefix, x->keys[i], err.msg);
        free(rec);
        return RBACCTL_FAIL;
    }

    if (x->type == RBAC_REC_REF) {
        /* those set by hand, named by their key */
        canon = rbacctl_export_ref(x->keys[i] + 4, canon);
        if (canon == NULL) {
            free(rec);
            return RBACCTL_FAIL;
        }
    }

    free(rec);

    fprintf(x->out, "%s%s", x->written ? ",\n  " : "\n  ", canon);
    free(canon);
    x->written++;
    x->done++;

    return RBACCTL_OK;
}


static int
rbacctl_export_write(rbacctl_conn_t *conn, FILE *out)
{
    int                rc, k;
    long               nk, i;
    char             **all, **sel;
    size_t             j, ns, nlists;
    rbacctl_export_t   x;

    nk = rbacctl_scan(conn, "*", &all);
    if (nk < 0) {
        return RBACCTL_FAIL;
    }

    sel = calloc((size_t) nk + 1, sizeof(char *));
    if (sel == NULL) {
        rbacctl_strv_free(all, nk);
        return RBACCTL_FAIL;
    }

    memset(&x, 0, sizeof(x));
    x.conn = conn;
    x.out = out;
    rbacctl_progress_init(&x.pr, "export", (size_t) nk);

    rc = RBACCTL_OK;
    nlists = 0;
    fputs("{", out);

    for (j = 0; j < RBACCTL_NEXPORT && rc == RBACCTL_OK; j++) {
        ns = 0;

        for (i = 0; i < nk; i++) {
            k = rbacctl_export_kind(all[i]);
            if (k == (int) j) {
                sel[ns++] = all[i];
            }
        }

        /* a list opens at its first kind ("roles": role, then siterole) */
        if (rbacctl_export_kinds[j].list
            && (j == 0 || rbacctl_export_kinds[j - 1].list == NULL
                || strcmp(rbacctl_export_kinds[j - 1].list,
                          rbacctl_export_kinds[j].list) != 0))
        {
            fprintf(out, "%s\n\"%s\": [", nlists++ ? "," : "",
                    rbacctl_export_kinds[j].list);
            x.written = 0;

        } else if (rbacctl_export_kinds[j].list == NULL) {
            if (ns == 0) {
                continue;
            }

            fprintf(out, "%s\n\"%s\":", nlists++ ? "," : "",
                    rbacctl_export_kinds[j].name);
            x.written = 0;
        }

        x.keys = sel;
        x.n = ns;
        x.type = rbacctl_export_kinds[j].type;

        rc = rbacctl_mget(conn, ns, rbacctl_export_key, rbacctl_export_val,
                          &x, NULL, NULL);
        rbacctl_progress_step(&x.pr, x.done);

        if (rbacctl_export_kinds[j].list
            && (j + 1 == RBACCTL_NEXPORT
                || rbacctl_export_kinds[j + 1].list == NULL
                || strcmp(rbacctl_export_kinds[j + 1].list,
                          rbacctl_export_kinds[j].list) != 0))
        {
            fputs(x.written ? "\n]" : "]", out);

        } else if (rbacctl_export_kinds[j].list == NULL && x.written == 0) {
            fputs("null", out);     /* deleted since the SCAN */
        }
    }

    fputs("\n}\n", out);
    rbacctl_progress_end(&x.pr);

    free(sel);
    rbacctl_strv_free(all, nk);

    return rc;
}


int
rbacctl_export(int argc, char **argv)
{
    int              rc;
    char             tmp[4096];
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

    /* into FILE.tmp, renamed at the end: a failure leaves no half file */
    file = rbacctl_arg(&a, "file");
    if (file && strcmp(file, "-") == 0) {
        file = NULL;
    }

    if (file) {
        snprintf(tmp, sizeof(tmp), "%s.tmp", file);
    }

    out = file ? fopen(tmp, "w") : stdout;

    if (out == NULL) {
        rbacctl_disconnect(&conn);
        return rbacctl_fail(&a, RBACCTL_USAGE, "cannot write %s", file);
    }

    setvbuf(out, NULL, _IOFBF, 1 << 20);

    rc = rbacctl_export_write(&conn, out);
    rbacctl_disconnect(&conn);

    if (out != stdout) {
        if (fclose(out) != 0 && rc == RBACCTL_OK) {
            rc = rbacctl_fail(&a, RBACCTL_FAIL, "cannot write %s", tmp);
        }

        if (rc == RBACCTL_OK && rename(tmp, file) != 0) {
            rc = rbacctl_fail(&a, RBACCTL_FAIL, "cannot rename %s", tmp);
        }

        if (rc != RBACCTL_OK) {
            (void) remove(tmp);
        }

    } else if (fflush(out) != 0 && rc == RBACCTL_OK) {
        rc = RBACCTL_FAIL;
    }

    return rc;
}
