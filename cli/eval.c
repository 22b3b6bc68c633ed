/*
 * eval.c: `rbacctl eval [--catalog FILE] [--check] [FILE]`: offline
 * decisions over decision requests (docs/rbacctl.md §5), one JSON line out per
 * request line in, in order; no Redis.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rbac.h"
#include "rbac_request.h"
#include "rbacctl.h"


static const char  *rbacctl_eval_usage =
    "usage: rbacctl eval [--catalog FILE] [--check] [FILE]\n"
    "  Reads decision requests (JSON lines; stdin without FILE) and writes\n"
    "  {\"name\",\"allow\",\"reason\"} per line.  --catalog replaces the\n"
    "  built-in role catalog; --check compares with each request's\n"
    "  \"allow\" and exits 1 on a mismatch.  A malformed line is reported\n"
    "  on stderr, answered with {\"name\",\"error\"} and makes the exit\n"
    "  code 2.  Blank lines are skipped.\n";


static char *
rbacctl_eval_slurp(const char *path, size_t *len)
{
    long   n;
    char  *buf;
    FILE  *f;

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        fclose(f);
        return NULL;
    }

    buf = malloc((size_t) n + 1);

    if (buf == NULL || fread(buf, 1, (size_t) n, f) != (size_t) n) {
        free(buf);
        fclose(f);
        return NULL;
    }

    fclose(f);
    buf[n] = '\0';
    *len = (size_t) n;

    return buf;
}


/* Prints one object line; 0 on success. */
static int
rbacctl_eval_emit(const char *name, int error, int allow, const char *text)
{
    int     rc;
    char   *s;
    cJSON  *o;

    o = cJSON_CreateObject();
    if (o == NULL) {
        return -1;
    }

    rc = -1;

    if (cJSON_AddStringToObject(o, "name", name) == NULL) {
        goto done;
    }

    if (error) {
        if (cJSON_AddStringToObject(o, "error", text) == NULL) {
            goto done;
        }

    } else if (cJSON_AddBoolToObject(o, "allow", allow) == NULL
               || cJSON_AddStringToObject(o, "reason", text) == NULL)
    {
        goto done;
    }

    s = cJSON_PrintUnformatted(o);

    if (s != NULL) {
        printf("%s\n", s);
        cJSON_free(s);
        rc = 0;
    }

done:

    cJSON_Delete(o);

    return rc;
}


/* The "name" of a line that did not parse as a request, if it has one. */
static void
rbacctl_eval_name_of(const char *line, size_t len, char *out, size_t size)
{
    cJSON        *root;
    const cJSON  *n;

    out[0] = '\0';
    root = cJSON_ParseWithLength(line, len);

    if (root == NULL) {
        return;
    }

    n = cJSON_GetObjectItemCaseSensitive(root, "name");

    if (cJSON_IsString(n)) {
        snprintf(out, size, "%s", n->valuestring);
    }

    cJSON_Delete(root);
}


static int
rbacctl_eval_blank(const char *line, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r'
            && line[i] != '\n')
        {
            return 0;
        }
    }

    return 1;
}


/* The role catalog: --catalog FILE, else the built-in one. */
static int
rbacctl_eval_catalog(const char *catalog, rbac_catalog_t **cat)
{
    char        *cat_json;
    size_t       cat_len;
    rbac_rc_t    rc;
    rbac_err_t   err;

    memset(&err, 0, sizeof(err));

    if (catalog != NULL) {
        cat_json = rbacctl_eval_slurp(catalog, &cat_len);

        if (cat_json == NULL) {
            fprintf(stderr, "rbacctl eval: --catalog %s: %s\n", catalog,
                    strerror(errno));
            return RBACCTL_USAGE;
        }

        rc = rbac_catalog_load(cat_json, cat_len, &rbac_malloc_allocator,
                               cat, &err);
        free(cat_json);

    } else {
        rc = rbac_catalog_load((const char *) rbac_builtin_catalog,
                               rbac_builtin_catalog_len,
                               &rbac_malloc_allocator, cat, &err);
    }

    if (rc != RBAC_OK) {
        fprintf(stderr, "rbacctl eval: catalog %s: %s\n",
                catalog != NULL ? catalog : "(built-in)", err.msg);
        return RBACCTL_USAGE;
    }

    return RBACCTL_OK;
}


/*
 * One request line decided and answered: RBACCTL_USAGE when it is
 * malformed, RBACCTL_DENIED when `check` finds the decision is not the
 * line's "allow".
 */
static int
rbacctl_eval_line(const rbac_catalog_t *cat, const char *line, size_t n,
    size_t lineno, int check)
{
    int               ret;
    char              name[256], reason[512];
    rbac_rc_t         rc;
    rbac_err_t        err;
    rbac_request_t   *req;
    rbac_decision_t   d;

    memset(&err, 0, sizeof(err));
    rc = rbac_request_parse(line, n, cat, &rbac_malloc_allocator, &req, &err);

    if (rc != RBAC_OK) {
        rbacctl_eval_name_of(line, n, name, sizeof(name));
        fprintf(stderr, "rbacctl eval: line %zu: %s\n", lineno, err.msg);
        snprintf(reason, sizeof(reason), "line %zu: %s", lineno, err.msg);
        rbacctl_eval_emit(name, 1, 0, reason);
        return RBACCTL_USAGE;
    }

    rbac_decide(&req->subject, &req->object, req->action, &d);
    rbac_decision_reason(&d, &req->subject, &req->object, reason,
                         sizeof(reason));
    rbacctl_eval_emit(req->name.data, 0, d.allow, reason);

    ret = RBACCTL_OK;

    if (check && req->has_allow && req->allow != d.allow) {
        ret = RBACCTL_DENIED;
        fprintf(stderr, "rbacctl eval: line %zu: %s: expected %s, got "
                "%s (%s)\n", lineno, req->name.data,
                req->allow ? "allow" : "deny",
                d.allow ? "allow" : "deny", reason);
    }

    rbac_request_free(req, &rbac_malloc_allocator);

    return ret;
}


int
rbacctl_eval(int argc, char **argv)
{
    int               i, rc, check, malformed, mismatch;
    char             *line;
    FILE             *in;
    size_t            cap, lineno;
    ssize_t           n;
    rbac_catalog_t   *cat;
    const char       *catalog, *path;

    catalog = NULL;
    path = NULL;
    check = 0;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--check") == 0) {
            check = 1;

        } else if (strcmp(argv[i], "--catalog") == 0 && i + 1 < argc) {
            catalog = argv[++i];

        } else if (strncmp(argv[i], "--catalog=", 10) == 0) {
            catalog = argv[i] + 10;

        } else if (strcmp(argv[i], "--help") == 0
                   || strcmp(argv[i], "-h") == 0)
        {
            fputs(rbacctl_eval_usage, stdout);
            return RBACCTL_OK;

        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "rbacctl eval: unknown option \"%s\"\n%s",
                    argv[i], rbacctl_eval_usage);
            return RBACCTL_USAGE;

        } else if (path == NULL) {
            path = argv[i];

        } else {
            fprintf(stderr, "rbacctl eval: more than one FILE\n%s",
                    rbacctl_eval_usage);
            return RBACCTL_USAGE;
        }
    }

    rc = rbacctl_eval_catalog(catalog, &cat);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    if (path == NULL || strcmp(path, "-") == 0) {
        in = stdin;

    } else {
        in = fopen(path, "r");

        if (in == NULL) {
            fprintf(stderr, "rbacctl eval: %s: %s\n", path, strerror(errno));
            rbac_catalog_free(cat, &rbac_malloc_allocator);
            return RBACCTL_USAGE;
        }
    }

    line = NULL;
    cap = 0;
    lineno = 0;
    malformed = 0;
    mismatch = 0;

    while ((n = getline(&line, &cap, in)) >= 0) {
        lineno++;

        if (rbacctl_eval_blank(line, (size_t) n)) {
            continue;
        }

        rc = rbacctl_eval_line(cat, line, (size_t) n, lineno, check);
        malformed |= rc == RBACCTL_USAGE;
        mismatch |= rc == RBACCTL_DENIED;
    }

    free(line);

    if (in != stdin) {
        fclose(in);
    }

    rbac_catalog_free(cat, &rbac_malloc_allocator);
    fflush(stdout);

    if (malformed) {
        return RBACCTL_USAGE;
    }

    return mismatch ? RBACCTL_DENIED : RBACCTL_OK;
}
