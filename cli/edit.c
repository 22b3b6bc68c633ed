/*
 * edit.c: the imperative commands (`org`, `user`, `sa`, `member`, `group`,
 * `role`, `share`, `unshare`, `template`, `seats`, `invalidate`).  Each
 * reads the records it depends on, validates the result through core's
 * parser, and writes in one published transaction (tx.c).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"


typedef struct {
    rbacctl_args_t   a;
    const char      *verb;          /* pos[0] */
    const char      *id;            /* pos[1] or NULL */
    const char      *vals[RBACCTL_MAX_ARGS];
    size_t           nvals;
    cJSON           *role;          /* role command: the document */
    rbac_rec_type_t  role_type;
} rbacctl_edit_t;


/* ---- helpers ---- */

/* The stored record at key as cJSON; *out NULL when absent. */
static int
rbacctl_load(rbacctl_tx_t *tx, const char *key, cJSON **out)
{
    void        *rec;
    const char  *val;

    *out = NULL;

    if (rbacctl_tx_get(tx, key, &val) != RBACCTL_OK) {
        return RBACCTL_FAIL;
    }

    if (val == NULL) {
        return RBACCTL_OK;
    }

    /* the stored record as the module reads it: malformed is malformed */
    rec = rbacctl_parse_key(tx->conn->prefix, key, val, NULL);
    if (rec == NULL) {
        return RBACCTL_FAIL;
    }

    free(rec);

    *out = cJSON_Parse(val);
    if (*out == NULL || !cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        fprintf(stderr, "rbacctl: malformed record at %s%s\n",
                tx->conn->prefix, key);
        return RBACCTL_FAIL;
    }

    return RBACCTL_OK;
}


/* Validates doc as a record of `type` and stages it; frees doc. */
static int
rbacctl_store(rbacctl_tx_t *tx, const char *key, rbac_rec_type_t type,
    cJSON *doc)
{
    int    rc;
    char  *canon;

    canon = rbacctl_canon(type, doc, key);
    cJSON_Delete(doc);

    if (canon == NULL) {
        return RBACCTL_USAGE;
    }

    rc = rbacctl_tx_put(tx, key, canon);
    free(canon);

    return rc;
}


static int
rbacctl_set_str(cJSON *doc, const char *name, const char *val)
{
    cJSON_DeleteItemFromObjectCaseSensitive(doc, name);

    return cJSON_AddStringToObject(doc, name, val) ? RBACCTL_OK
                                                   : RBACCTL_FAIL;
}


/* 1 if the string array holds s. */
static int
rbacctl_arr_has(const cJSON *arr, const char *s)
{
    const cJSON  *el;

    cJSON_ArrayForEach(el, arr) {
        if (cJSON_IsString(el) && strcmp(el->valuestring, s) == 0) {
            return 1;
        }
    }

    return 0;
}


static void
rbacctl_arr_remove(cJSON *arr, const char *s)
{
    int     i;
    cJSON  *el;

    for (i = cJSON_GetArraySize(arr) - 1; i >= 0; i--) {
        el = cJSON_GetArrayItem(arr, i);
        if (cJSON_IsString(el) && strcmp(el->valuestring, s) == 0) {
            cJSON_DeleteItemFromArray(arr, i);
        }
    }
}


/*
 * The member `name` of doc of type cJSON_Array or cJSON_Object, put there
 * empty when it is missing or of another type (NULL: out of memory).
 */
static cJSON *
rbacctl_typed(cJSON *doc, const char *name, int type)
{
    cJSON  *m;

    m = cJSON_GetObjectItemCaseSensitive(doc, name);
    if (m != NULL && (m->type & 0xff) == type) {
        return m;
    }

    cJSON_DeleteItemFromObjectCaseSensitive(doc, name);

    return type == cJSON_Array ? cJSON_AddArrayToObject(doc, name)
                               : cJSON_AddObjectToObject(doc, name);
}



/*
 * The record at key for e->verb, in *doc: for "create" none (refused when
 * it exists), for any other verb the record (refused when it is missing).
 * what names the kind in the messages.
 */
static int
rbacctl_edit_load(rbacctl_tx_t *tx, rbacctl_edit_t *e, const char *key,
    const char *what, cJSON **doc)
{
    int  rc;

    rc = rbacctl_load(tx, key, doc);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    if (strcmp(e->verb, "create") == 0 && *doc != NULL) {
        cJSON_Delete(*doc);
        *doc = NULL;
        return rbacctl_fail(&e->a, RBACCTL_USAGE, "%s \"%s\" exists", what,
                            e->id);
    }

    if (strcmp(e->verb, "create") != 0 && *doc == NULL) {
        return rbacctl_fail(&e->a, RBACCTL_USAGE, "no %s \"%s\"", what,
                            e->id);
    }

    return RBACCTL_OK;
}


static int
rbacctl_need_id(rbacctl_edit_t *e, const char *what)
{
    if (e->id == NULL || !rbacctl_id_ok(e->id, strlen(e->id))) {
        return rbacctl_fail(&e->a, RBACCTL_USAGE, "%s: a%s id is needed "
                            "(no blanks, ':' or glob characters)",
                            e->verb, what);
    }

    return RBACCTL_OK;
}


static int
rbacctl_need_opt_id(rbacctl_edit_t *e, const char *name, const char **out)
{
    *out = rbacctl_arg(&e->a, name);

    if (*out == NULL || !rbacctl_id_ok(*out, strlen(*out))) {
        return rbacctl_fail(&e->a, RBACCTL_USAGE, "--%s: %s", name,
                            *out ? "not a usable id" : "required");
    }

    return RBACCTL_OK;
}


/*
 * Checks that role `name` exists for an assignment in `org` ("" = a site
 * role): built-in of the right kind, or a custom role in Redis.
 */
static int
rbacctl_role_exists(rbacctl_tx_t *tx, rbacctl_edit_t *e, const char *opt,
    const char *org, const char *name)
{
    char                   key[400];
    rbac_str_t             s;
    const char            *val;
    const rbac_role_t     *r;
    const rbac_catalog_t  *cat;

    cat = rbacctl_catalog();
    if (cat == NULL) {
        return RBACCTL_FAIL;
    }

    s.data = name;
    s.len = strlen(name);

    r = rbac_catalog_role(cat, s, 0, RBAC_SHARE_EVERYONE);
    if (r) {
        if ((r->kind == RBAC_ROLE_ORG) == (org[0] != '\0')) {
            return RBACCTL_OK;
        }

        return rbacctl_fail(&e->a, RBACCTL_USAGE, "--%s %s: a built-in "
                            "%s role, not %s role", opt, name,
                            r->kind == RBAC_ROLE_ORG ? "organization"
                                                     : "site",
                            org[0] ? "an organization" : "a site");
    }

    if (!rbacctl_id_ok(name, s.len)) {
        return rbacctl_fail(&e->a, RBACCTL_USAGE, "--%s: \"%s\" is not a "
                            "role name", opt, name);
    }

    if (org[0]) {
        snprintf(key, sizeof(key), "role:%s:%s", org, name);
    } else {
        snprintf(key, sizeof(key), "siterole:%s", name);
    }

    if (rbacctl_tx_get(tx, key, &val) != RBACCTL_OK) {
        return RBACCTL_FAIL;
    }

    if (val == NULL) {
        return rbacctl_fail(&e->a, RBACCTL_USAGE, "--%s %s: neither a "
                            "built-in %s role nor a custom role%s%s",
                            opt, name, org[0] ? "organization" : "site",
                            org[0] ? " of " : "", org);
    }

    return RBACCTL_OK;
}


/*
 * Adds to arr (NULL: out of memory) each --opt role it lacks, every one
 * checked by rbacctl_role_exists for org.
 */
static int
rbacctl_add_roles(rbacctl_tx_t *tx, rbacctl_edit_t *e, const char *opt,
    const char *org, cJSON *arr)
{
    int          rc;
    size_t       i, n;
    const char  *roles[RBACCTL_MAX_ARGS];

    if (arr == NULL) {
        return RBACCTL_FAIL;
    }

    n = rbacctl_arg_all(&e->a, opt, roles, RBACCTL_MAX_ARGS);

    for (i = 0; i < n; i++) {
        rc = rbacctl_role_exists(tx, e, opt, org, roles[i]);
        if (rc != RBACCTL_OK) {
            return rc;
        }

        if (!rbacctl_arr_has(arr, roles[i])) {
            cJSON_AddItemToArray(arr, cJSON_CreateString(roles[i]));
        }
    }

    return RBACCTL_OK;
}


static int
rbacctl_edit_run(rbacctl_edit_t *e, rbacctl_build_pt build)
{
    int             rc;
    rbacctl_conn_t  conn;

    rc = rbacctl_connect(&e->a, &conn);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    rc = rbacctl_tx_run(&conn, build, e, rbacctl_flag(&e->a, "dry-run"),
                        stdout, NULL);
    rbacctl_disconnect(&conn);

    return rc;
}


/* 1 if verb is one of the '|'-separated words of verbs. */
static int
rbacctl_verb_ok(const char *verb, const char *verbs)
{
    size_t       n;
    const char  *p, *end;

    n = strlen(verb);

    for (p = verbs; ; p = end + 1) {
        end = strchr(p, '|');
        if (end == NULL) {
            end = p + strlen(p);
        }

        if ((size_t) (end - p) == n && strncmp(p, verb, n) == 0) {
            return 1;
        }

        if (*end == '\0') {
            return 0;
        }
    }
}


/*
 * `rbacctl CMD VERB [ID] [--option]...`: VERB one of `verbs` ("a|b"), else
 * the usage.  RBACCTL_OK, -1 after --help, or the exit code.
 */
static int
rbacctl_edit_parse(rbacctl_edit_t *e, const char *cmd, int argc,
    char **argv, const char *verbs, const char *spec, const char *usage)
{
    int  rc;

    memset(e, 0, sizeof(*e));

    rc = rbacctl_args_parse(&e->a, cmd, argc - 1, argv + 1, spec, usage);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    if (e->a.help) {
        return -1;
    }

    if (e->a.npos == 0) {
        fprintf(stderr, "usage: rbacctl %s\n", usage);
        return RBACCTL_USAGE;
    }

    e->verb = e->a.pos[0];
    e->id = e->a.npos > 1 ? e->a.pos[1] : NULL;

    if (e->a.npos > 2) {
        return rbacctl_fail(&e->a, RBACCTL_USAGE, "unexpected \"%s\"",
                            e->a.pos[2]);
    }

    if (!rbacctl_verb_ok(e->verb, verbs)) {
        fprintf(stderr, "usage: rbacctl %s\n", usage);
        return RBACCTL_USAGE;
    }

    return RBACCTL_OK;
}


/* A command of one verb and one id, run through its builder. */
typedef struct {
    const char        *cmd;
    const char        *verbs;
    const char        *spec;
    const char        *usage;
    const char        *what;    /* the id, for "VERB: a<what> id is needed" */
    rbacctl_build_pt   build;
} rbacctl_edit_cmd_t;


static int
rbacctl_edit_main(const rbacctl_edit_cmd_t *c, int argc, char **argv)
{
    int             rc;
    rbacctl_edit_t  e;

    rc = rbacctl_edit_parse(&e, c->cmd, argc, argv, c->verbs, c->spec,
                            c->usage);
    if (rc != RBACCTL_OK) {
        return rc < 0 ? RBACCTL_OK : rc;
    }

    rc = rbacctl_need_id(&e, c->what);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    return rbacctl_edit_run(&e, c->build);
}


/*
 * Calls each(tx, e, key, doc) for every record at a key that matches
 * `pattern`, read in the transaction; doc is the callee's to store or
 * free.  Stops at the first call that is not RBACCTL_OK.
 */
typedef int (*rbacctl_each_pt)(rbacctl_tx_t *tx, rbacctl_edit_t *e,
    const char *key, cJSON *doc);

static int
rbacctl_edit_each(rbacctl_tx_t *tx, rbacctl_edit_t *e, const char *pattern,
    rbacctl_each_pt each)
{
    int      rc;
    long     n, k;
    char   **keys;
    cJSON   *doc;

    n = rbacctl_scan(tx->conn, pattern, &keys);
    if (n < 0) {
        return RBACCTL_FAIL;
    }

    rc = RBACCTL_OK;

    for (k = 0; k < n && rc == RBACCTL_OK; k++) {
        rc = rbacctl_load(tx, keys[k], &doc);
        if (rc != RBACCTL_OK || doc == NULL) {
            continue;
        }

        rc = each(tx, e, keys[k], doc);
    }

    rbacctl_strv_free(keys, n);

    return rc;
}


/* ---- org ---- */

static const char  rbacctl_org_usage[] =
    "org create ID [--name N] [--sharing everyone|service_accounts|none]\n"
    "      [--default-role R]...\n"
    "  org update ID [--name N] [--sharing MODE] [--default-role R]...\n"
    "      [--no-default-roles]";


static int
rbacctl_org_build(rbacctl_tx_t *tx, void *ud)
{
    int              rc, create;
    char             key[300];
    cJSON           *doc, *arr;
    const char      *name, *sharing;
    rbacctl_edit_t  *e = ud;

    create = strcmp(e->verb, "create") == 0;
    snprintf(key, sizeof(key), "org:%s", e->id);

    rc = rbacctl_edit_load(tx, e, key, "organization", &doc);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    if (create) {
        doc = cJSON_CreateObject();
        if (doc == NULL || rbacctl_set_str(doc, "id", e->id) != RBACCTL_OK
            || rbacctl_set_str(doc, "name", e->id) != RBACCTL_OK)
        {
            cJSON_Delete(doc);
            return RBACCTL_FAIL;
        }
    }

    name = rbacctl_arg(&e->a, "name");
    sharing = rbacctl_arg(&e->a, "sharing");

    if ((name && rbacctl_set_str(doc, "name", name) != RBACCTL_OK)
        || (sharing && rbacctl_set_str(doc, "shareable_workspace_owners",
                                       sharing) != RBACCTL_OK))
    {
        cJSON_Delete(doc);
        return RBACCTL_FAIL;
    }

    if (rbacctl_arg(&e->a, "default-role") != NULL
        || rbacctl_flag(&e->a, "no-default-roles"))
    {
        cJSON_DeleteItemFromObjectCaseSensitive(doc,
                                                "default_org_member_roles");
        arr = cJSON_AddArrayToObject(doc, "default_org_member_roles");

        rc = rbacctl_add_roles(tx, e, "default-role", e->id, arr);
        if (rc != RBACCTL_OK) {
            cJSON_Delete(doc);
            return rc;
        }
    }

    return rbacctl_store(tx, key, RBAC_REC_ORG, doc);
}


int
rbacctl_org(int argc, char **argv)
{
    static const rbacctl_edit_cmd_t  cmd = {
        "org", "create|update",
        "name= sharing= default-role= no-default-roles dry-run",
        rbacctl_org_usage, "n organization", rbacctl_org_build
    };

    return rbacctl_edit_main(&cmd, argc, argv);
}


/* ---- user, sa ---- */

static const char  rbacctl_user_usage[] =
    "user create ID [--login oidc|password|none] [--site-role R]...\n"
    "  user roles ID [--site-role R]...      replaces the site roles\n"
    "  user suspend|activate|delete ID      (delete also revokes the\n"
    "      user's tokens)";

static const char  rbacctl_sa_usage[] =
    "sa create ID [--site-role R]...   a service account (login none)\n"
    "  sa delete ID";


/* The user's site roles, replaced by the --site-role ones. */
static int
rbacctl_site_roles(rbacctl_tx_t *tx, rbacctl_edit_t *e, cJSON *doc)
{
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "site_roles");

    return rbacctl_add_roles(tx, e, "site-role", "",
                             cJSON_AddArrayToObject(doc, "site_roles"));
}


/* Deletes the user and the tokens that authenticate as it. */
/* A token of the deleted user (e->id) is deleted with it. */
static int
rbacctl_user_token(rbacctl_tx_t *tx, rbacctl_edit_t *e, const char *key,
    cJSON *t)
{
    int     rc;
    cJSON  *u;

    rc = RBACCTL_OK;

    u = cJSON_GetObjectItemCaseSensitive(t, "user");
    if (cJSON_IsString(u) && strcmp(u->valuestring, e->id) == 0) {
        rc = rbacctl_tx_put(tx, key, NULL);
    }

    cJSON_Delete(t);

    return rc;
}


static int
rbacctl_user_delete(rbacctl_tx_t *tx, rbacctl_edit_t *e, const char *key)
{
    int  rc;

    rc = rbacctl_edit_each(tx, e, "token:*", rbacctl_user_token);

    return rc == RBACCTL_OK ? rbacctl_tx_put(tx, key, NULL) : rc;
}


static int
rbacctl_user_build(rbacctl_tx_t *tx, void *ud)
{
    int              rc, sa;
    char             key[300];
    cJSON           *doc, *kind;
    const char      *login;
    rbacctl_edit_t  *e = ud;

    sa = strcmp(e->a.cmd, "sa") == 0;
    snprintf(key, sizeof(key), "user:%s", e->id);

    rc = rbacctl_edit_load(tx, e, key, "user", &doc);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    if (strcmp(e->verb, "create") == 0) {
        login = sa ? "none" : rbacctl_arg(&e->a, "login");

        doc = cJSON_CreateObject();
        if (doc == NULL || rbacctl_set_str(doc, "id", e->id) != RBACCTL_OK
            || rbacctl_set_str(doc, "kind", sa ? "service_account" : "user")
               != RBACCTL_OK
            || rbacctl_set_str(doc, "status", "active") != RBACCTL_OK
            || rbacctl_set_str(doc, "login", login ? login : "oidc")
               != RBACCTL_OK)
        {
            cJSON_Delete(doc);
            return RBACCTL_FAIL;
        }

        rc = rbacctl_site_roles(tx, e, doc);
        if (rc != RBACCTL_OK) {
            cJSON_Delete(doc);
            return rc;
        }

        return rbacctl_store(tx, key, RBAC_REC_USER, doc);
    }

    kind = cJSON_GetObjectItemCaseSensitive(doc, "kind");
    if (sa && !(cJSON_IsString(kind)
                && strcmp(kind->valuestring, "service_account") == 0))
    {
        cJSON_Delete(doc);
        return rbacctl_fail(&e->a, RBACCTL_USAGE, "\"%s\" is not a service "
                            "account", e->id);
    }

    if (strcmp(e->verb, "delete") == 0) {
        cJSON_Delete(doc);
        return rbacctl_user_delete(tx, e, key);
    }

    if (strcmp(e->verb, "roles") == 0) {
        rc = rbacctl_site_roles(tx, e, doc);

    } else {
        rc = rbacctl_set_str(doc, "status",
                             strcmp(e->verb, "suspend") == 0 ? "suspended"
                                                              : "active");
    }

    if (rc != RBACCTL_OK) {
        cJSON_Delete(doc);
        return rc;
    }

    return rbacctl_store(tx, key, RBAC_REC_USER, doc);
}


int
rbacctl_user(int argc, char **argv)
{
    static const rbacctl_edit_cmd_t  cmd = {
        "user", "create|suspend|activate|delete|roles",
        "login= site-role= dry-run", rbacctl_user_usage, " user",
        rbacctl_user_build
    };

    return rbacctl_edit_main(&cmd, argc, argv);
}


int
rbacctl_sa(int argc, char **argv)
{
    static const rbacctl_edit_cmd_t  cmd = {
        "sa", "create|delete", "site-role= dry-run", rbacctl_sa_usage,
        " service account", rbacctl_user_build
    };

    return rbacctl_edit_main(&cmd, argc, argv);
}


/* ---- member ---- */

static const char  rbacctl_member_usage[] =
    "member add|set|remove --org O --user U [--role R]...\n"
    "  add: joins O (roles added); set: roles replaced; remove: leaves O\n"
    "  and its groups";


/* Removes from the user's groups those that belong to org. */
static int
rbacctl_drop_org_groups(rbacctl_tx_t *tx, cJSON *user, const char *org)
{
    int     i, rc;
    char    key[300];
    cJSON  *groups, *el, *g, *go;

    groups = cJSON_GetObjectItemCaseSensitive(user, "groups");

    for (i = cJSON_GetArraySize(groups) - 1; i >= 0; i--) {
        el = cJSON_GetArrayItem(groups, i);
        if (!cJSON_IsString(el)) {
            continue;
        }

        if (strcmp(el->valuestring, org) == 0) {
            cJSON_DeleteItemFromArray(groups, i);
            continue;
        }

        snprintf(key, sizeof(key), "group:%s", el->valuestring);
        rc = rbacctl_load(tx, key, &g);
        if (rc != RBACCTL_OK) {
            return rc;
        }

        go = g ? cJSON_GetObjectItemCaseSensitive(g, "org") : NULL;
        if (cJSON_IsString(go) && strcmp(go->valuestring, org) == 0) {
            cJSON_DeleteItemFromArray(groups, i);
        }

        cJSON_Delete(g);
    }

    return RBACCTL_OK;
}


static int
rbacctl_member_build(rbacctl_tx_t *tx, void *ud)
{
    int              rc;
    char             key[300];
    cJSON           *doc, *orgs, *arr;
    const char      *org, *user, *val;
    rbacctl_edit_t  *e = ud;

    org = rbacctl_arg(&e->a, "org");
    user = rbacctl_arg(&e->a, "user");

    snprintf(key, sizeof(key), "org:%s", org);
    if (rbacctl_tx_get(tx, key, &val) != RBACCTL_OK) {
        return RBACCTL_FAIL;
    }
    if (val == NULL) {
        return rbacctl_fail(&e->a, RBACCTL_USAGE, "--org: no organization "
                            "\"%s\"", org);
    }

    snprintf(key, sizeof(key), "user:%s", user);
    rc = rbacctl_load(tx, key, &doc);
    if (rc != RBACCTL_OK) {
        return rc;
    }
    if (doc == NULL) {
        return rbacctl_fail(&e->a, RBACCTL_USAGE, "--user: no user \"%s\"",
                            user);
    }

    orgs = rbacctl_typed(doc, "orgs", cJSON_Object);
    if (orgs == NULL) {
        cJSON_Delete(doc);
        return RBACCTL_FAIL;
    }

    if (strcmp(e->verb, "remove") == 0) {
        if (cJSON_GetObjectItemCaseSensitive(orgs, org) == NULL) {
            cJSON_Delete(doc);
            return rbacctl_fail(&e->a, RBACCTL_USAGE, "\"%s\" is not a "
                                "member of \"%s\"", user, org);
        }

        cJSON_DeleteItemFromObjectCaseSensitive(orgs, org);
        rc = rbacctl_drop_org_groups(tx, doc, org);
        if (rc != RBACCTL_OK) {
            cJSON_Delete(doc);
            return rc;
        }

        return rbacctl_store(tx, key, RBAC_REC_USER, doc);
    }

    arr = cJSON_GetObjectItemCaseSensitive(orgs, org);
    if (strcmp(e->verb, "set") == 0 || !cJSON_IsArray(arr)) {
        cJSON_DeleteItemFromObjectCaseSensitive(orgs, org);
        arr = cJSON_AddArrayToObject(orgs, org);
        if (arr == NULL) {
            cJSON_Delete(doc);
            return RBACCTL_FAIL;
        }
    }

    rc = rbacctl_add_roles(tx, e, "role", org, arr);
    if (rc != RBACCTL_OK) {
        cJSON_Delete(doc);
        return rc;
    }

    return rbacctl_store(tx, key, RBAC_REC_USER, doc);
}


int
rbacctl_member(int argc, char **argv)
{
    int              rc;
    const char      *v;
    rbacctl_edit_t   e;

    rc = rbacctl_edit_parse(&e, "member", argc, argv, "add|set|remove",
                            "org= user= role= dry-run", rbacctl_member_usage);
    if (rc != RBACCTL_OK) {
        return rc < 0 ? RBACCTL_OK : rc;
    }

    if (e.id) {
        fprintf(stderr, "usage: rbacctl %s\n", rbacctl_member_usage);
        return RBACCTL_USAGE;
    }

    if (rbacctl_need_opt_id(&e, "org", &v) != RBACCTL_OK
        || rbacctl_need_opt_id(&e, "user", &v) != RBACCTL_OK)
    {
        return RBACCTL_USAGE;
    }

    return rbacctl_edit_run(&e, rbacctl_member_build);
}


/* ---- group ---- */

static const char  rbacctl_group_usage[] =
    "group create ID --org O [--name N] [--source manual|oidc]\n"
    "  group delete ID\n"
    "  group add|remove ID --user U...     membership (add: U must be a\n"
    "      member of the group's organization)";


/* Sets (id non-NULL) or removes the name in rbac:orggroups:<org>. */
static int
rbacctl_orggroups(rbacctl_tx_t *tx, rbacctl_edit_t *e, const char *org,
    const char *name, const char *id)
{
    int     rc;
    char    key[300];
    cJSON  *doc, *cur;

    snprintf(key, sizeof(key), "orggroups:%s", org);

    rc = rbacctl_load(tx, key, &doc);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    if (doc == NULL) {
        doc = cJSON_CreateObject();
        if (doc == NULL) {
            return RBACCTL_FAIL;
        }
    }

    cur = cJSON_GetObjectItemCaseSensitive(doc, name);

    if (id) {
        if (cur && !(cJSON_IsString(cur)
                     && strcmp(cur->valuestring, id) == 0))
        {
            cJSON_Delete(doc);
            return rbacctl_fail(&e->a, RBACCTL_USAGE, "--name: organization "
                                "\"%s\" already has a group named \"%s\"",
                                org, name);
        }

        if (rbacctl_set_str(doc, name, id) != RBACCTL_OK) {
            cJSON_Delete(doc);
            return RBACCTL_FAIL;
        }

    } else {
        cJSON_DeleteItemFromObjectCaseSensitive(doc, name);
    }

    if (cJSON_GetArraySize(doc) == 0) {
        cJSON_Delete(doc);
        return rbacctl_tx_put(tx, key, NULL);
    }

    return rbacctl_store(tx, key, RBAC_REC_ORGGROUPS, doc);
}


/* group create: the record at key and the name in its org's index. */
static int
rbacctl_group_create(rbacctl_tx_t *tx, rbacctl_edit_t *e, const char *key)
{
    int          rc;
    char         okey[300];
    cJSON       *doc;
    const char  *org, *name, *source, *val;

    org = rbacctl_arg(&e->a, "org");
    name = rbacctl_arg(&e->a, "name");
    source = rbacctl_arg(&e->a, "source");

    snprintf(okey, sizeof(okey), "org:%s", org);
    if (rbacctl_tx_get(tx, okey, &val) != RBACCTL_OK) {
        return RBACCTL_FAIL;
    }
    if (val == NULL) {
        return rbacctl_fail(&e->a, RBACCTL_USAGE, "--org: no "
                            "organization \"%s\"", org);
    }

    if (strcmp(e->id, org) == 0) {
        return rbacctl_fail(&e->a, RBACCTL_USAGE, "\"%s\" is the id of "
                            "the organization's Everyone group", org);
    }

    doc = cJSON_CreateObject();
    if (doc == NULL || rbacctl_set_str(doc, "id", e->id) != RBACCTL_OK
        || rbacctl_set_str(doc, "org", org) != RBACCTL_OK
        || rbacctl_set_str(doc, "name", name ? name : e->id) != RBACCTL_OK
        || rbacctl_set_str(doc, "source", source ? source : "manual")
           != RBACCTL_OK)
    {
        cJSON_Delete(doc);
        return RBACCTL_FAIL;
    }

    rc = rbacctl_orggroups(tx, e, org, name ? name : e->id, e->id);
    if (rc != RBACCTL_OK) {
        cJSON_Delete(doc);
        return rc;
    }

    return rbacctl_store(tx, key, RBAC_REC_GROUP, doc);
}


/* A user leaves the deleted group (e->id). */
static int
rbacctl_group_leave(rbacctl_tx_t *tx, rbacctl_edit_t *e, const char *key,
    cJSON *u)
{
    cJSON  *groups;

    groups = cJSON_GetObjectItemCaseSensitive(u, "groups");
    if (!rbacctl_arr_has(groups, e->id)) {
        cJSON_Delete(u);
        return RBACCTL_OK;
    }

    rbacctl_arr_remove(groups, e->id);

    return rbacctl_store(tx, key, RBAC_REC_USER, u);
}


/* group delete: the record, its name in the org's index, its members. */
static int
rbacctl_group_delete(rbacctl_tx_t *tx, rbacctl_edit_t *e, const char *key,
    const char *org, const char *name)
{
    int  rc;

    rc = rbacctl_orggroups(tx, e, org, name, NULL);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    /* nobody stays in a deleted group */
    rc = rbacctl_edit_each(tx, e, "user:*", rbacctl_group_leave);

    return rc == RBACCTL_OK ? rbacctl_tx_put(tx, key, NULL) : rc;
}


/* group add|remove: each --user's record; add: a member of org. */
static int
rbacctl_group_members(rbacctl_tx_t *tx, rbacctl_edit_t *e, const char *org)
{
    int          rc;
    char         ukey[300];
    size_t       i, nu;
    cJSON       *u, *groups, *orgs;
    const char  *users[RBACCTL_MAX_ARGS];

    nu = rbacctl_arg_all(&e->a, "user", users, RBACCTL_MAX_ARGS);
    if (nu == 0) {
        return rbacctl_fail(&e->a, RBACCTL_USAGE, "--user: required");
    }

    for (i = 0; i < nu; i++) {
        snprintf(ukey, sizeof(ukey), "user:%s", users[i]);
        rc = rbacctl_load(tx, ukey, &u);
        if (rc != RBACCTL_OK) {
            return rc;
        }

        if (u == NULL) {
            return rbacctl_fail(&e->a, RBACCTL_USAGE, "--user: no user "
                                "\"%s\"", users[i]);
        }

        groups = rbacctl_typed(u, "groups", cJSON_Array);
        orgs = cJSON_GetObjectItemCaseSensitive(u, "orgs");

        if (strcmp(e->verb, "add") == 0) {
            if (cJSON_GetObjectItemCaseSensitive(orgs, org) == NULL) {
                cJSON_Delete(u);
                return rbacctl_fail(&e->a, RBACCTL_USAGE, "--user: \"%s\" "
                                    "is not a member of organization "
                                    "\"%s\"", users[i], org);
            }

            if (groups && !rbacctl_arr_has(groups, e->id)) {
                cJSON_AddItemToArray(groups, cJSON_CreateString(e->id));
            }

        } else {
            rbacctl_arr_remove(groups, e->id);
        }

        rc = rbacctl_store(tx, ukey, RBAC_REC_USER, u);
        if (rc != RBACCTL_OK) {
            return rc;
        }
    }

    return RBACCTL_OK;
}


static int
rbacctl_group_build(rbacctl_tx_t *tx, void *ud)
{
    int              rc;
    char             key[300];
    cJSON           *doc, *jorg, *jname;
    rbacctl_edit_t  *e = ud;

    snprintf(key, sizeof(key), "group:%s", e->id);

    rc = rbacctl_edit_load(tx, e, key, "group", &doc);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    if (strcmp(e->verb, "create") == 0) {
        return rbacctl_group_create(tx, e, key);
    }

    jorg = cJSON_GetObjectItemCaseSensitive(doc, "org");
    jname = cJSON_GetObjectItemCaseSensitive(doc, "name");

    if (!cJSON_IsString(jorg) || !cJSON_IsString(jname)) {
        cJSON_Delete(doc);
        fprintf(stderr, "rbacctl: malformed record at %s%s\n",
                tx->conn->prefix, key);
        return RBACCTL_FAIL;
    }

    if (strcmp(e->verb, "delete") == 0) {
        rc = rbacctl_group_delete(tx, e, key, jorg->valuestring,
                                  jname->valuestring);
    } else {
        rc = rbacctl_group_members(tx, e, jorg->valuestring);
    }

    cJSON_Delete(doc);

    return rc;
}


int
rbacctl_group(int argc, char **argv)
{
    int              rc;
    const char      *v;
    rbacctl_edit_t   e;

    rc = rbacctl_edit_parse(&e, "group", argc, argv,
                            "create|delete|add|remove",
                            "org= name= source= user= dry-run",
                            rbacctl_group_usage);
    if (rc != RBACCTL_OK) {
        return rc < 0 ? RBACCTL_OK : rc;
    }

    rc = rbacctl_need_id(&e, " group");
    if (rc != RBACCTL_OK) {
        return rc;
    }

    if (strcmp(e.verb, "create") == 0
        && rbacctl_need_opt_id(&e, "org", &v) != RBACCTL_OK)
    {
        return RBACCTL_USAGE;
    }

    return rbacctl_edit_run(&e, rbacctl_group_build);
}


/* ---- role ---- */

static const char  rbacctl_role_usage[] =
    "role create|update -f ROLE.json [--as USER]\n"
    "  role delete -f ROLE.json | role delete NAME [--org O] [--as USER]\n"
    "  ROLE.json: {\"name\",\"organization_id\" (\"\" = site role),"
    "\"display_name\",\n"
    "  \"organization_permissions\",\"organization_member_permissions\",\n"
    "  \"site_permissions\",\"user_permissions\"}; --as USER refuses what\n"
    "  USER could not do itself";


/*
 * The key of role record `rec` (into key), after checking that its org
 * exists and that the role exists for update and delete, not for create.
 */
static int
rbacctl_role_key(rbacctl_tx_t *tx, rbacctl_edit_t *e, const void *rec,
    const char *what, char *key, size_t size)
{
    char                   *k;
    const char             *val;
    rbac_str_t              org;
    const rbac_role_rec_t  *r = rec;

    org = rbac_ref(r, r->org);

    if (org.len) {
        snprintf(key, size, "org:%.*s", (int) org.len, org.data);
        if (rbacctl_tx_get(tx, key, &val) != RBACCTL_OK) {
            return RBACCTL_FAIL;
        }

        if (val == NULL) {
            return rbacctl_fail(&e->a, RBACCTL_USAGE, "%s: organization_id: "
                                "no organization \"%.*s\"", what,
                                (int) org.len, org.data);
        }
    }

    k = rbacctl_record_key(rec, what);
    if (k == NULL) {
        return RBACCTL_USAGE;
    }
    snprintf(key, size, "%s", k);
    free(k);

    if (rbacctl_tx_get(tx, key, &val) != RBACCTL_OK) {
        return RBACCTL_FAIL;
    }

    if (strcmp(e->verb, "create") == 0 && val) {
        return rbacctl_fail(&e->a, RBACCTL_USAGE, "%s exists (use role "
                            "update)", what);
    }

    if (strcmp(e->verb, "create") != 0 && val == NULL) {
        return rbacctl_fail(&e->a, RBACCTL_USAGE, "no %s%s%.*s", what,
                            org.len ? " in organization " : "",
                            (int) org.len, org.data);
    }

    return RBACCTL_OK;
}


/*
 * --as USER: USER may manage custom roles in the role's org (needs
 * assign_org_role there) and, but for delete, could do what the role
 * grants.
 */
static int
rbacctl_role_as(rbacctl_tx_t *tx, rbacctl_edit_t *e,
    const rbac_role_rec_t *r, const char *what, const char *as)
{
    int               rc;
    const char       *verb;
    rbac_str_t        org;
    rbac_object_t     obj;
    rbac_decision_t   d;
    rbac_subject_t    actor;
    rbacctl_arena_t  *ar;

    verb = e->verb;
    org = rbac_ref(r, r->org);

    ar = rbacctl_arena_new();
    if (ar == NULL) {
        return RBACCTL_FAIL;
    }

    rc = rbacctl_subject(tx->conn, tx, as, ar, &actor, NULL);
    if (rc == RBACCTL_DENIED) {
        rc = rbacctl_fail(&e->a, RBACCTL_USAGE, "--as: no user \"%s\"", as);
    }

    if (rc == RBACCTL_OK) {
        /* managing custom roles needs assign_org_role in that org */
        memset(&obj, 0, sizeof(obj));
        obj.type = RBAC_T_ASSIGN_ORG_ROLE;
        obj.type_name.data = "assign_org_role";
        obj.type_name.len = 15;
        obj.id.data = "";
        obj.org = org.len ? org : obj.id;
        obj.owner.data = "";

        rbac_decide(&actor, &obj,
                    strcmp(verb, "create") == 0 ? RBAC_A_CREATE
                    : strcmp(verb, "update") == 0 ? RBAC_A_UPDATE
                    : RBAC_A_DELETE, &d);

        if (!d.allow) {
            rc = rbacctl_fail(&e->a, RBACCTL_USAGE, "--as %s: may not "
                              "%s custom roles%s%.*s (needs "
                              "assign_org_role:%s)", as, verb,
                              org.len ? " in organization " : "",
                              (int) org.len, org.data, verb);
        }
    }

    if (rc == RBACCTL_OK && strcmp(verb, "delete") != 0) {
        rc = rbacctl_role_check(r, what, &actor);
    }

    rbacctl_arena_free(ar);

    return rc;
}


static int
rbacctl_role_build(rbacctl_tx_t *tx, void *ud)
{
    int                      rc;
    char                     key[400], what[300], *canon;
    void                    *rec;
    const char              *as;
    rbacctl_edit_t          *e = ud;
    const rbac_role_rec_t   *r;

    canon = rbacctl_canon(e->role_type, e->role, "role");
    if (canon == NULL) {
        return RBACCTL_USAGE;
    }

    rec = rbacctl_parse_stored(e->role_type, "role", canon);
    if (rec == NULL) {
        free(canon);
        return RBACCTL_FAIL;
    }

    r = rec;
    snprintf(what, sizeof(what), "role %s", r->role.name);

    rc = rbacctl_role_key(tx, e, rec, what, key, sizeof(key));
    if (rc != RBACCTL_OK) {
        goto done;
    }

    as = rbacctl_arg(&e->a, "as");

    if (as) {
        rc = rbacctl_role_as(tx, e, r, what, as);

    } else if (strcmp(e->verb, "delete") != 0) {
        rc = rbacctl_role_check(r, what, NULL);
    }

    if (rc == RBACCTL_OK) {
        rc = rbacctl_tx_put(tx, key, strcmp(e->verb, "delete") == 0 ? NULL
                                                                    : canon);
    }

done:

    free(rec);
    free(canon);

    return rc;
}


int
rbacctl_role(int argc, char **argv)
{
    int              rc;
    char            *text;
    const char      *file, *org;
    rbacctl_edit_t   e;

    rc = rbacctl_edit_parse(&e, "role", argc, argv, "create|update|delete",
                            "file= as= org= dry-run", rbacctl_role_usage);
    if (rc != RBACCTL_OK) {
        return rc < 0 ? RBACCTL_OK : rc;
    }

    file = rbacctl_arg(&e.a, "file");

    if (file) {
        if (e.id) {
            return rbacctl_fail(&e.a, RBACCTL_USAGE, "give -f or a name, "
                                "not both");
        }

        text = rbacctl_read_file(file, NULL);
        if (text == NULL) {
            return rbacctl_fail(&e.a, RBACCTL_USAGE, "%s: %s", file,
                                strerror(errno));
        }

        e.role = cJSON_Parse(text);
        free(text);

        if (!cJSON_IsObject(e.role)) {
            cJSON_Delete(e.role);
            return rbacctl_fail(&e.a, RBACCTL_USAGE, "%s: not a JSON "
                                "object", file);
        }

    } else if (strcmp(e.verb, "delete") == 0 && e.id) {
        org = rbacctl_arg(&e.a, "org");
        e.role = cJSON_CreateObject();
        if (e.role == NULL
            || rbacctl_set_str(e.role, "name", e.id) != RBACCTL_OK
            || rbacctl_set_str(e.role, "organization_id", org ? org : "")
               != RBACCTL_OK)
        {
            cJSON_Delete(e.role);
            return RBACCTL_FAIL;
        }

    } else {
        fprintf(stderr, "usage: rbacctl %s\n", rbacctl_role_usage);
        return RBACCTL_USAGE;
    }

    e.role_type = rbacctl_role_type(e.role);
    rc = rbacctl_edit_run(&e, rbacctl_role_build);
    cJSON_Delete(e.role);

    return rc;
}


/* ---- share, unshare ---- */

static const char  rbacctl_share_usage[] =
    "share (--workspace W | --template T) (--user U | --group G)\n"
    "      --role use|admin\n"
    "  (G may be the organization's id: its Everyone group)";

static const char  rbacctl_unshare_usage[] =
    "unshare (--workspace W | --template T) (--user U | --group G)";


static int
rbacctl_share_build(rbacctl_tx_t *tx, void *ud)
{
    int              rc, share;
    char             key[400], okey[300];
    cJSON           *doc, *acl, *jorg, *g, *gorg;
    const char      *ws, *tpl, *user, *group, *role, *val;
    rbacctl_edit_t  *e = ud;

    share = strcmp(e->a.cmd, "share") == 0;
    ws = rbacctl_arg(&e->a, "workspace");
    tpl = rbacctl_arg(&e->a, "template");
    user = rbacctl_arg(&e->a, "user");
    group = rbacctl_arg(&e->a, "group");
    role = rbacctl_arg(&e->a, "role");

    snprintf(key, sizeof(key), "obj:%s:%s", ws ? "workspace" : "template",
             ws ? ws : tpl);

    rc = rbacctl_load(tx, key, &doc);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    if (doc == NULL) {
        return rbacctl_fail(&e->a, RBACCTL_USAGE, "no %s \"%s\"",
                            ws ? "workspace" : "template", ws ? ws : tpl);
    }

    jorg = cJSON_GetObjectItemCaseSensitive(doc, "org");

    if (share && user) {
        snprintf(okey, sizeof(okey), "user:%s", user);
        if (rbacctl_tx_get(tx, okey, &val) != RBACCTL_OK) {
            cJSON_Delete(doc);
            return RBACCTL_FAIL;
        }
        if (val == NULL) {
            cJSON_Delete(doc);
            return rbacctl_fail(&e->a, RBACCTL_USAGE, "--user: no user "
                                "\"%s\"", user);
        }
    }

    if (share && group
        && !(cJSON_IsString(jorg) && strcmp(jorg->valuestring, group) == 0))
    {
        snprintf(okey, sizeof(okey), "group:%s", group);
        rc = rbacctl_load(tx, okey, &g);
        if (rc != RBACCTL_OK) {
            cJSON_Delete(doc);
            return rc;
        }

        gorg = g ? cJSON_GetObjectItemCaseSensitive(g, "org") : NULL;

        if (g == NULL || !cJSON_IsString(gorg) || !cJSON_IsString(jorg)
            || strcmp(gorg->valuestring, jorg->valuestring) != 0)
        {
            cJSON_Delete(g);
            cJSON_Delete(doc);
            return rbacctl_fail(&e->a, RBACCTL_USAGE, "--group: no group "
                                "\"%s\" in the organization of %s", group,
                                key);
        }

        cJSON_Delete(g);
    }

    acl = rbacctl_typed(doc, user ? "acl_users" : "acl_groups",
                        cJSON_Object);
    if (acl == NULL) {
        cJSON_Delete(doc);
        return RBACCTL_FAIL;
    }

    if (share) {
        if (rbacctl_set_str(acl, user ? user : group, role) != RBACCTL_OK) {
            cJSON_Delete(doc);
            return RBACCTL_FAIL;
        }

    } else {
        cJSON_DeleteItemFromObjectCaseSensitive(acl, user ? user : group);
    }

    return rbacctl_store(tx, key, RBAC_REC_OBJ, doc);
}


static int
rbacctl_share_cmd(int argc, char **argv, const char *cmd, const char *usage)
{
    int              rc, share;
    const char      *ws, *tpl, *user, *group, *role;
    rbacctl_edit_t   e;

    memset(&e, 0, sizeof(e));
    share = strcmp(cmd, "share") == 0;

    rc = rbacctl_args_parse(&e.a, cmd, argc - 1, argv + 1,
                            "workspace= template= user= group= role= "
                            "dry-run", usage);
    if (rc != RBACCTL_OK || e.a.help) {
        return rc;
    }

    e.verb = cmd;
    ws = rbacctl_arg(&e.a, "workspace");
    tpl = rbacctl_arg(&e.a, "template");
    user = rbacctl_arg(&e.a, "user");
    group = rbacctl_arg(&e.a, "group");
    role = rbacctl_arg(&e.a, "role");

    if (e.a.npos || (ws == NULL) == (tpl == NULL)
        || (user == NULL) == (group == NULL) || (share && role == NULL)
        || (!share && role))
    {
        fprintf(stderr, "usage: rbacctl %s\n", usage);
        return RBACCTL_USAGE;
    }

    if (role && strcmp(role, "use") != 0 && strcmp(role, "admin") != 0) {
        return rbacctl_fail(&e.a, RBACCTL_USAGE, "--role: \"%s\" is not use "
                            "or admin", role);
    }

    if (!rbacctl_id_ok(ws ? ws : tpl, strlen(ws ? ws : tpl))
        || !rbacctl_id_ok(user ? user : group, strlen(user ? user : group)))
    {
        return rbacctl_fail(&e.a, RBACCTL_USAGE, "not a usable id");
    }

    return rbacctl_edit_run(&e, rbacctl_share_build);
}


int
rbacctl_share(int argc, char **argv)
{
    return rbacctl_share_cmd(argc, argv, "share", rbacctl_share_usage);
}


int
rbacctl_unshare(int argc, char **argv)
{
    return rbacctl_share_cmd(argc, argv, "unshare", rbacctl_unshare_usage);
}


/* ---- template ---- */

static const char  rbacctl_template_usage[] =
    "template deprecate ID --message M [--link L]\n"
    "  template undeprecate ID";


static int
rbacctl_template_build(rbacctl_tx_t *tx, void *ud)
{
    int              rc;
    char             key[300];
    cJSON           *doc, *dep;
    const char      *msg, *link;
    rbacctl_edit_t  *e = ud;

    snprintf(key, sizeof(key), "obj:template:%s", e->id);

    rc = rbacctl_load(tx, key, &doc);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    if (doc == NULL) {
        return rbacctl_fail(&e->a, RBACCTL_USAGE, "no template \"%s\"",
                            e->id);
    }

    cJSON_DeleteItemFromObjectCaseSensitive(doc, "deprecated");

    if (strcmp(e->verb, "deprecate") == 0) {
        msg = rbacctl_arg(&e->a, "message");
        link = rbacctl_arg(&e->a, "link");

        dep = cJSON_AddObjectToObject(doc, "deprecated");
        if (dep == NULL
            || cJSON_AddStringToObject(dep, "message", msg) == NULL
            || cJSON_AddStringToObject(dep, "link", link ? link : "")
               == NULL)
        {
            cJSON_Delete(doc);
            return RBACCTL_FAIL;
        }
    }

    return rbacctl_store(tx, key, RBAC_REC_OBJ, doc);
}


int
rbacctl_template(int argc, char **argv)
{
    int             rc;
    rbacctl_edit_t  e;

    rc = rbacctl_edit_parse(&e, "template", argc, argv,
                            "deprecate|undeprecate", "message= link= dry-run",
                            rbacctl_template_usage);
    if (rc != RBACCTL_OK) {
        return rc < 0 ? RBACCTL_OK : rc;
    }

    if (strcmp(e.verb, "deprecate") == 0
        && rbacctl_arg(&e.a, "message") == NULL)
    {
        return rbacctl_fail(&e.a, RBACCTL_USAGE, "--message: required");
    }

    rc = rbacctl_need_id(&e, " template");
    if (rc != RBACCTL_OK) {
        return rc;
    }

    return rbacctl_edit_run(&e, rbacctl_template_build);
}


/* ---- seats, invalidate ---- */

static const char  rbacctl_seats_usage[] =
    "seats [--list]   active human users (service accounts excluded)";


typedef struct {
    int    list;
    long   seats;
} rbacctl_seats_t;


static void
rbacctl_seats_count(void *ud, const void *rec)
{
    rbac_str_t              id;
    rbacctl_seats_t        *st = ud;
    const rbac_user_rec_t  *u = rec;

    if (u->kind == RBAC_KIND_USER && u->status == RBAC_STATUS_ACTIVE) {
        st->seats++;
        if (st->list) {
            id = rbac_ref(u, u->id);
            printf("%.*s\n", (int) id.len, id.data);
        }
    }
}


int
rbacctl_seats(int argc, char **argv)
{
    int              rc;
    rbacctl_args_t   a;
    rbacctl_conn_t   conn;
    rbacctl_seats_t  st;

    rc = rbacctl_args_parse(&a, "seats", argc - 1, argv + 1, "list",
                            rbacctl_seats_usage);
    if (rc != RBACCTL_OK || a.help) {
        return rc;
    }

    if (a.npos) {
        fprintf(stderr, "usage: rbacctl %s\n", rbacctl_seats_usage);
        return RBACCTL_USAGE;
    }

    rc = rbacctl_connect(&a, &conn);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    st.list = rbacctl_flag(&a, "list");
    st.seats = 0;

    rc = rbacctl_records(&conn, "user:*", rbacctl_seats_count, &st);
    rbacctl_disconnect(&conn);

    if (rc == RBACCTL_OK && !st.list) {
        printf("%ld\n", st.seats);
    }

    return rc;
}


static const char  rbacctl_invalidate_usage[] =
    "invalidate KEY | --all   publishes KEY (prefix added when missing) "
    "or *\n  on <prefix>inv";


int
rbacctl_invalidate(int argc, char **argv)
{
    int              rc;
    char             chan[128], full[1024];
    long long        heard;
    const char      *cargv[3];
    redisReply      *r;
    rbacctl_args_t   a;
    rbacctl_conn_t   conn;

    rc = rbacctl_args_parse(&a, "invalidate", argc - 1, argv + 1, "all",
                            rbacctl_invalidate_usage);
    if (rc != RBACCTL_OK || a.help) {
        return rc;
    }

    if ((a.npos == 1) == rbacctl_flag(&a, "all") || a.npos > 1) {
        fprintf(stderr, "usage: rbacctl %s\n", rbacctl_invalidate_usage);
        return RBACCTL_USAGE;
    }

    rc = rbacctl_connect(&a, &conn);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    if (a.npos == 1 && strncmp(a.pos[0], conn.prefix, strlen(conn.prefix))
        != 0)
    {
        snprintf(full, sizeof(full), "%s%s", conn.prefix, a.pos[0]);
    } else {
        snprintf(full, sizeof(full), "%s", a.npos ? a.pos[0] : "*");
    }

    snprintf(chan, sizeof(chan), "%sinv", conn.prefix);
    cargv[0] = "PUBLISH";
    cargv[1] = chan;
    cargv[2] = full;

    r = rbacctl_cmd(&conn, 3, cargv);
    if (r == NULL) {
        rc = RBACCTL_FAIL;
    } else {
        heard = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
        printf("published %s on %s to %lld subscriber(s)\n", full, chan,
               heard);
        freeReplyObject(r);
        rbacctl_settle(&conn, heard);
    }

    rbacctl_disconnect(&conn);

    return rc;
}
