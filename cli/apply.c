/*
 * apply.c: `rbacctl apply -f policy.json [--dry-run] [--prune]`: the
 * declarative write of a policy file (DESIGN 8): every record validated and
 * made canonical before Redis is touched, references checked against the
 * table the write would leave, `orggroups` rebuilt from the groups, and one
 * atomic, published transaction for what differs.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"


static const char  rbacctl_apply_usage[] =
    "apply -f FILE [--dry-run] [--prune] [--redis URL] [--prefix P]\n"
    "  writes the records of the policy FILE (\"-\" = stdin); prints\n"
    "  \"+ key\", \"~ key\", \"- key\" for what changes; --dry-run writes\n"
    "  nothing; --prune also deletes records of the policy's kinds that the\n"
    "  file does not name.";


typedef struct {
    rbac_rec_type_t   type;
    char             *key;
    char             *canon;
    void             *rec;
    cJSON            *json;         /* idp_sync only */
    char              what[96];
} rbacctl_item_t;

typedef struct {
    rbacctl_item_t   *items;
    size_t            n;
    int               prune;
    rbacctl_arena_t  *ar;
} rbacctl_policy_t;


/* The lists of the policy file and their record types. */
static const struct {
    const char       *name;
    rbac_rec_type_t   type;         /* RBAC_REC_NONE: decided per role */
} rbacctl_lists[] = {
    { "organizations", RBAC_REC_ORG },
    { "groups", RBAC_REC_GROUP },
    { "users", RBAC_REC_USER },
    { "roles", RBAC_REC_NONE },
    { "objects", RBAC_REC_OBJ },
    { "tokens", RBAC_REC_TOKEN },
    { "provisioner_keys", RBAC_REC_PKEY },
};

#define RBACCTL_NLISTS  (sizeof(rbacctl_lists) / sizeof(rbacctl_lists[0]))

/* Key patterns of the kinds a policy manages (for --prune). */
static const char  *rbacctl_managed[] = {
    "org:*", "group:*", "user:*", "role:*", "siterole:*", "obj:*",
    "token:*", "pkey:*", "deployment", "idpsync"
};

#define RBACCTL_NMANAGED  (sizeof(rbacctl_managed) / sizeof(char *))


static rbacctl_item_t *
rbacctl_policy_find(rbacctl_policy_t *p, const char *key)
{
    size_t  i;

    for (i = 0; i < p->n; i++) {
        if (strcmp(p->items[i].key, key) == 0) {
            return &p->items[i];
        }
    }

    return NULL;
}


static void
rbacctl_policy_free(rbacctl_policy_t *p)
{
    size_t  i;

    for (i = 0; i < p->n; i++) {
        free(p->items[i].key);
        free(p->items[i].canon);
        free(p->items[i].rec);
        cJSON_Delete(p->items[i].json);
    }

    free(p->items);
    rbacctl_arena_free(p->ar);
}


/* Validates one record and adds it; RBACCTL_USAGE after a message. */
static int
rbacctl_policy_add(rbacctl_policy_t *p, rbac_rec_type_t type, cJSON *j,
    const char *what)
{
    int              rc;
    char            *canon, *key;
    void            *rec;
    rbacctl_item_t  *it;

    if (!cJSON_IsObject(j)) {
        fprintf(stderr, "rbacctl: %s: not a JSON object\n", what);
        return RBACCTL_USAGE;
    }

    if (type == RBAC_REC_NONE) {
        type = rbacctl_role_type(j);
    }

    canon = rbacctl_canon(type, j, what);
    if (canon == NULL) {
        return RBACCTL_USAGE;
    }

    rec = rbacctl_parse_stored(type, what, canon);
    if (rec == NULL) {
        free(canon);
        return RBACCTL_FAIL;
    }

    key = rbacctl_record_key(rec, what);
    if (key == NULL) {
        free(canon);
        free(rec);
        return RBACCTL_USAGE;
    }

    it = &p->items[p->n];
    memset(it, 0, sizeof(*it));
    it->type = type;
    it->key = key;
    it->canon = canon;
    it->rec = rec;
    snprintf(it->what, sizeof(it->what), "%s", what);

    if (rbacctl_policy_find(p, key) != NULL) {
        fprintf(stderr, "rbacctl: %s: a second record for key %s\n", what,
                key);
        free(key);
        free(canon);
        free(rec);
        return RBACCTL_USAGE;
    }

    p->n++;

    if (type == RBAC_REC_ROLE || type == RBAC_REC_SITEROLE) {
        rc = rbacctl_role_check(rec, what, NULL);
        if (rc != RBACCTL_OK) {
            return rc;
        }
    }

    return RBACCTL_OK;
}


static int
rbacctl_policy_load(rbacctl_policy_t *p, const char *text, size_t len)
{
    int           rc;
    char          what[96];
    size_t        i, n, total;
    cJSON        *doc, *list, *el;
    const char   *known;

    doc = cJSON_ParseWithLength(text, len);
    if (doc == NULL) {
        fprintf(stderr, "rbacctl apply: the policy file is not JSON (near "
                "byte %zu)\n", (size_t) (cJSON_GetErrorPtr()
                                         ? cJSON_GetErrorPtr() - text : 0));
        return RBACCTL_USAGE;
    }

    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        fprintf(stderr, "rbacctl apply: the policy file must be a JSON "
                "object\n");
        return RBACCTL_USAGE;
    }

    known = " organizations groups users roles objects tokens "
            "provisioner_keys deployment idp_sync ";
    total = 2;

    cJSON_ArrayForEach(el, doc) {
        snprintf(what, sizeof(what), " %s ", el->string);
        if (strstr(known, what) == NULL) {
            fprintf(stderr, "rbacctl apply: %s: not a part of a policy "
                    "file (%s)\n", el->string, known);
            cJSON_Delete(doc);
            return RBACCTL_USAGE;
        }

        if (cJSON_IsArray(el)) {
            total += (size_t) cJSON_GetArraySize(el);
        }
    }

    p->items = calloc(total, sizeof(rbacctl_item_t));
    if (p->items == NULL) {
        cJSON_Delete(doc);
        return RBACCTL_FAIL;
    }

    rc = RBACCTL_OK;

    for (i = 0; i < RBACCTL_NLISTS && rc == RBACCTL_OK; i++) {
        list = cJSON_GetObjectItemCaseSensitive(doc, rbacctl_lists[i].name);
        if (list == NULL || cJSON_IsNull(list)) {
            continue;
        }

        if (!cJSON_IsArray(list)) {
            fprintf(stderr, "rbacctl: %s: must be a list\n",
                    rbacctl_lists[i].name);
            rc = RBACCTL_USAGE;
            break;
        }

        n = 0;
        cJSON_ArrayForEach(el, list) {
            snprintf(what, sizeof(what), "%s[%zu]", rbacctl_lists[i].name,
                     n++);
            rc = rbacctl_policy_add(p, rbacctl_lists[i].type, el, what);
            if (rc != RBACCTL_OK) {
                break;
            }
        }
    }

    if (rc == RBACCTL_OK) {
        el = cJSON_GetObjectItemCaseSensitive(doc, "deployment");
        if (el && !cJSON_IsNull(el)) {
            rc = rbacctl_policy_add(p, RBAC_REC_DEPLOYMENT, el,
                                    "deployment");
        }
    }

    if (rc == RBACCTL_OK) {
        el = cJSON_GetObjectItemCaseSensitive(doc, "idp_sync");
        if (el && !cJSON_IsNull(el)) {
            rc = rbacctl_policy_add(p, RBAC_REC_IDPSYNC, el, "idp_sync");
            if (rc == RBACCTL_OK) {
                p->items[p->n - 1].json = cJSON_Duplicate(el, 1);
                if (p->items[p->n - 1].json == NULL) {
                    rc = RBACCTL_FAIL;
                }
            }
        }
    }

    cJSON_Delete(doc);

    return rc;
}


/* ---- the transaction ---- */

/* 1 if `key` exists in the table the write leaves; -1 on failure. */
static int
rbacctl_apply_exists(rbacctl_tx_t *tx, rbacctl_policy_t *p, const char *key)
{
    const char  *val;

    if (rbacctl_policy_find(p, key)) {
        return 1;
    }

    if (p->prune) {
        return 0;
    }

    if (rbacctl_tx_get(tx, key, &val) != RBACCTL_OK) {
        return -1;
    }

    return val != NULL;
}


static int
rbacctl_apply_ref(rbacctl_tx_t *tx, rbacctl_policy_t *p, const char *what,
    const char *field, const char *kind, rbac_str_t id)
{
    int   rc;
    char  key[400];

    snprintf(key, sizeof(key), "%s:%.*s", kind, (int) id.len, id.data);

    rc = rbacctl_apply_exists(tx, p, key);
    if (rc < 0) {
        return RBACCTL_FAIL;
    }

    if (rc == 0 && strcmp(kind, "group") == 0) {
        /* the Everyone group has the org's id */
        snprintf(key, sizeof(key), "org:%.*s", (int) id.len, id.data);
        rc = rbacctl_apply_exists(tx, p, key);
        if (rc < 0) {
            return RBACCTL_FAIL;
        }
    }

    if (rc == 0) {
        fprintf(stderr, "rbacctl: %s: %s: no %s \"%.*s\" in the policy%s\n",
                what, field,
                strcmp(kind, "org") == 0 ? "organization" : kind,
                (int) id.len, id.data, p->prune ? "" : " or in Redis");
        return RBACCTL_USAGE;
    }

    return RBACCTL_OK;
}


static int
rbacctl_apply_refs(rbacctl_tx_t *tx, rbacctl_policy_t *p,
    rbacctl_item_t *it)
{
    int                          rc;
    char                         field[300];
    size_t                       i;
    rbac_str_t                   s;
    const rbac_ref_t            *refs;
    const rbac_user_rec_t       *u;
    const rbac_user_org_rec_t   *uo;
    const rbac_obj_rec_t        *o;

    switch (it->type) {

    case RBAC_REC_GROUP:
        return rbacctl_apply_ref(tx, p, it->what, "org", "org",
                   rbac_ref(it->rec, ((rbac_group_rec_t *) it->rec)->org));

    case RBAC_REC_ROLE:
        return rbacctl_apply_ref(tx, p, it->what, "organization_id", "org",
                   rbac_ref(it->rec, ((rbac_role_rec_t *) it->rec)->org));

    case RBAC_REC_TOKEN:
        return rbacctl_apply_ref(tx, p, it->what, "user", "user",
                   rbac_ref(it->rec, ((rbac_token_rec_t *) it->rec)->user));

    case RBAC_REC_PKEY:
        return rbacctl_apply_ref(tx, p, it->what, "org", "org",
                   rbac_ref(it->rec, ((rbac_pkey_rec_t *) it->rec)->org));

    case RBAC_REC_OBJ:
        o = it->rec;
        s = rbac_ref(o, o->org);
        if (s.len == 0) {
            return RBACCTL_OK;
        }
        return rbacctl_apply_ref(tx, p, it->what, "org", "org", s);

    case RBAC_REC_USER:
        u = it->rec;
        uo = rbac_rec_at(u, u->orgs, rbac_user_org_rec_t);

        for (i = 0; i < u->orgs.n; i++) {
            s = rbac_ref(u, uo[i].org);
            snprintf(field, sizeof(field), "orgs.%.*s", (int) s.len, s.data);
            rc = rbacctl_apply_ref(tx, p, it->what, field, "org", s);
            if (rc != RBACCTL_OK) {
                return rc;
            }
        }

        refs = rbac_rec_at(u, u->groups, rbac_ref_t);

        for (i = 0; i < u->groups.n; i++) {
            snprintf(field, sizeof(field), "groups[%zu]", i);
            rc = rbacctl_apply_ref(tx, p, it->what, field, "group",
                                   rbac_ref(u, refs[i]));
            if (rc != RBACCTL_OK) {
                return rc;
            }
        }

        return RBACCTL_OK;

    default:
        return RBACCTL_OK;
    }
}


/* IdP sync settings carry a version that rbacctl bumps on every change. */
static int
rbacctl_apply_idpsync(rbacctl_tx_t *tx, rbacctl_item_t *it)
{
    char           *canon;
    void           *rec;
    double          ver;
    cJSON          *old, *v;
    rbac_err_t      err;
    const char     *stored;
    rbac_idp_rx_t  *rx;

    if (rbacctl_tx_get(tx, "idpsync", &stored) != RBACCTL_OK) {
        return RBACCTL_FAIL;
    }

    ver = 0;

    if (stored) {
        old = cJSON_Parse(stored);
        v = old ? cJSON_GetObjectItemCaseSensitive(old, "version") : NULL;
        if (cJSON_IsNumber(v)) {
            ver = v->valuedouble;
        }
        cJSON_Delete(old);
    }

    cJSON_DeleteItemFromObjectCaseSensitive(it->json, "version");
    if (cJSON_AddNumberToObject(it->json, "version", stored ? ver : 1)
        == NULL)
    {
        return RBACCTL_FAIL;
    }

    canon = rbacctl_canon(RBAC_REC_IDPSYNC, it->json, it->what);
    if (canon == NULL) {
        return RBACCTL_USAGE;
    }

    if (stored && strcmp(canon, stored) != 0) {
        free(canon);
        cJSON_DeleteItemFromObjectCaseSensitive(it->json, "version");
        if (cJSON_AddNumberToObject(it->json, "version", ver + 1) == NULL) {
            return RBACCTL_FAIL;
        }
        canon = rbacctl_canon(RBAC_REC_IDPSYNC, it->json, it->what);
        if (canon == NULL) {
            return RBACCTL_USAGE;
        }
    }

    /* the regex filters must compile as the module compiles them */
    memset(&err, 0, sizeof(err));
    rec = NULL;
    rx = NULL;

    if (rbac_record_parse(RBAC_REC_IDPSYNC, canon, strlen(canon),
                          &rbac_malloc_allocator, &rec, &err) != RBAC_OK
        || rbac_idp_compile(rec, &rbac_malloc_allocator, &rx, &err)
           != RBAC_OK)
    {
        fprintf(stderr, "%s: %s\n", it->what, err.msg);
        free(rec);
        free(canon);
        return RBACCTL_USAGE;
    }

    rbac_idp_rx_free(rx);
    free(rec);

    free(it->canon);
    it->canon = canon;

    return rbacctl_tx_put(tx, it->key, canon);
}


typedef struct {
    rbac_str_t   org;
    rbac_str_t   name;
    rbac_str_t   id;
} rbacctl_gref_t;


static int
rbacctl_gref_cmp(const void *a, const void *b)
{
    const rbacctl_gref_t  *x = a, *y = b;
    size_t                 n;
    int                    c;

    n = x->org.len < y->org.len ? x->org.len : y->org.len;
    c = memcmp(x->org.data, y->org.data, n);
    if (c == 0 && x->org.len != y->org.len) {
        c = x->org.len < y->org.len ? -1 : 1;
    }

    if (c == 0) {
        n = x->name.len < y->name.len ? x->name.len : y->name.len;
        c = memcmp(x->name.data, y->name.data, n);
        if (c == 0 && x->name.len != y->name.len) {
            c = x->name.len < y->name.len ? -1 : 1;
        }
    }

    return c;
}


/* rbac:orggroups:<org> for every org, from the groups the write leaves. */
static int
rbacctl_apply_orggroups(rbacctl_tx_t *tx, rbacctl_policy_t *p)
{
    int                      rc;
    long                     ng, no, k;
    char                   **gkeys, **okeys, key[300], *canon, name[300];
    size_t                   i, j, n, cap;
    cJSON                   *idx;
    const char              *val;
    rbacctl_gref_t          *g;
    const rbac_group_rec_t  *rec;

    gkeys = NULL;
    okeys = NULL;
    g = NULL;
    rc = RBACCTL_FAIL;

    ng = rbacctl_scan(tx->conn, "group:*", &gkeys);
    if (ng < 0) {
        return RBACCTL_FAIL;
    }

    no = rbacctl_scan(tx->conn, "orggroups:*", &okeys);
    if (no < 0) {
        goto done;
    }

    cap = p->n + (size_t) ng + 1;
    g = calloc(cap, sizeof(rbacctl_gref_t));
    if (g == NULL) {
        goto done;
    }

    n = 0;

    for (i = 0; i < p->n; i++) {
        if (p->items[i].type == RBAC_REC_GROUP) {
            rec = p->items[i].rec;
            g[n].org = rbac_ref(rec, rec->org);
            g[n].name = rbac_ref(rec, rec->name);
            g[n].id = rbac_ref(rec, rec->id);
            n++;
        }
    }

    for (k = 0; k < ng && !p->prune; k++) {
        if (rbacctl_policy_find(p, gkeys[k])) {
            continue;
        }

        if (rbacctl_tx_get(tx, gkeys[k], &val) != RBACCTL_OK) {
            goto done;
        }

        if (val == NULL) {
            continue;
        }

        rec = rbacctl_parse_key(tx->conn->prefix, gkeys[k], val,
                                rbacctl_arena_allocator(p->ar));
        if (rec == NULL) {
            goto done;
        }

        g[n].org = rbac_ref(rec, rec->org);
        g[n].name = rbac_ref(rec, rec->name);
        g[n].id = rbac_ref(rec, rec->id);
        n++;
    }

    qsort(g, n, sizeof(rbacctl_gref_t), rbacctl_gref_cmp);

    for (i = 0; i < n; i = j) {
        idx = cJSON_CreateObject();
        if (idx == NULL) {
            goto done;
        }

        for (j = i; j < n && rbac_str_eq(g[j].org, g[i].org); j++) {
            if (j > i && rbac_str_eq(g[j].name, g[j - 1].name)) {
                fprintf(stderr, "rbacctl: groups: \"%.*s\" and \"%.*s\" "
                        "have the same name \"%.*s\" in organization "
                        "\"%.*s\"\n", (int) g[j - 1].id.len,
                        g[j - 1].id.data, (int) g[j].id.len, g[j].id.data,
                        (int) g[j].name.len, g[j].name.data,
                        (int) g[j].org.len, g[j].org.data);
                cJSON_Delete(idx);
                rc = RBACCTL_USAGE;
                goto done;
            }

            snprintf(name, sizeof(name), "%.*s", (int) g[j].name.len,
                     g[j].name.data);
            snprintf(key, sizeof(key), "%.*s", (int) g[j].id.len,
                     g[j].id.data);
            if (cJSON_AddStringToObject(idx, name, key) == NULL) {
                cJSON_Delete(idx);
                goto done;
            }
        }

        snprintf(key, sizeof(key), "orggroups:%.*s", (int) g[i].org.len,
                 g[i].org.data);
        canon = rbacctl_canon(RBAC_REC_ORGGROUPS, idx, key);
        cJSON_Delete(idx);
        if (canon == NULL) {
            goto done;
        }

        if (rbacctl_tx_put(tx, key, canon) != RBACCTL_OK) {
            free(canon);
            goto done;
        }
        free(canon);
    }

    /* indexes of orgs that no longer have groups */
    for (k = 0; k < no; k++) {
        for (i = 0; i < n; i++) {
            snprintf(key, sizeof(key), "orggroups:%.*s", (int) g[i].org.len,
                     g[i].org.data);
            if (strcmp(key, okeys[k]) == 0) {
                break;
            }
        }

        if (i == n && rbacctl_tx_put(tx, okeys[k], NULL) != RBACCTL_OK) {
            goto done;
        }
    }

    rc = RBACCTL_OK;

done:

    free(g);
    rbacctl_strv_free(gkeys, ng < 0 ? 0 : ng);
    rbacctl_strv_free(okeys, no < 0 ? 0 : no);

    return rc;
}


static int
rbacctl_apply_build(rbacctl_tx_t *tx, void *ud)
{
    int                rc;
    long               nk, k;
    char             **keys;
    size_t             i, m;
    rbacctl_policy_t  *p = ud;

    /* read (and watch) what the file names */
    for (i = 0; i < p->n; i++) {
        if (p->items[i].type == RBAC_REC_IDPSYNC) {
            rc = rbacctl_apply_idpsync(tx, &p->items[i]);
        } else {
            rc = rbacctl_tx_put(tx, p->items[i].key, p->items[i].canon);
        }

        if (rc != RBACCTL_OK) {
            return rc;
        }
    }

    for (i = 0; i < p->n; i++) {
        rc = rbacctl_apply_refs(tx, p, &p->items[i]);
        if (rc != RBACCTL_OK) {
            return rc;
        }
    }

    if (p->prune) {
        for (m = 0; m < RBACCTL_NMANAGED; m++) {
            nk = rbacctl_scan(tx->conn, rbacctl_managed[m], &keys);
            if (nk < 0) {
                return RBACCTL_FAIL;
            }

            for (k = 0; k < nk; k++) {
                if (rbacctl_policy_find(p, keys[k]) == NULL
                    && rbacctl_tx_put(tx, keys[k], NULL) != RBACCTL_OK)
                {
                    rbacctl_strv_free(keys, nk);
                    return RBACCTL_FAIL;
                }
            }

            rbacctl_strv_free(keys, nk);
        }
    }

    return rbacctl_apply_orggroups(tx, p);
}


/* Loads the policy text and writes it in one transaction. */
static int
rbacctl_apply_text(rbacctl_args_t *a, const char *cmd, const char *text,
    size_t len, int prune)
{
    int                rc;
    size_t             changed;
    rbacctl_conn_t     conn;
    rbacctl_policy_t   p;

    memset(&p, 0, sizeof(p));
    p.prune = prune;
    p.ar = rbacctl_arena_new();

    rc = p.ar ? rbacctl_policy_load(&p, text, len) : RBACCTL_FAIL;

    if (rc != RBACCTL_OK) {
        fprintf(stderr, "rbacctl %s: nothing was written\n", cmd);
        rbacctl_policy_free(&p);
        return rc;
    }

    rc = rbacctl_connect(a, &conn);
    if (rc != RBACCTL_OK) {
        rbacctl_policy_free(&p);
        return rc;
    }

    changed = 0;
    rc = rbacctl_tx_run(&conn, rbacctl_apply_build, &p,
                        rbacctl_flag(a, "dry-run"), stdout, &changed);

    if (rc != RBACCTL_OK) {
        fprintf(stderr, "rbacctl %s: nothing was written\n", cmd);

    } else if (changed == 0) {
        fprintf(stderr, "rbacctl %s: no changes\n", cmd);

    } else if (rbacctl_flag(a, "dry-run")) {
        fprintf(stderr, "rbacctl %s: dry run, %zu key(s) would change; "
                "nothing was written\n", cmd, changed);

    } else {
        fprintf(stderr, "rbacctl %s: %zu key(s) written\n", cmd, changed);
    }

    rbacctl_disconnect(&conn);
    rbacctl_policy_free(&p);

    return rc;
}


int
rbacctl_apply(int argc, char **argv)
{
    int              rc;
    char            *text;
    size_t           len;
    const char      *file;
    rbacctl_args_t   a;

    rc = rbacctl_args_parse(&a, "apply", argc - 1, argv + 1,
                            "file= dry-run prune", rbacctl_apply_usage);
    if (rc != RBACCTL_OK || a.help) {
        return rc;
    }

    file = rbacctl_arg(&a, "file");
    if (file == NULL || a.npos) {
        fprintf(stderr, "usage: rbacctl %s\n", rbacctl_apply_usage);
        return RBACCTL_USAGE;
    }

    text = rbacctl_read_file(file, &len);
    if (text == NULL) {
        return rbacctl_fail(&a, RBACCTL_USAGE, "%s: %s", file,
                            strerror(errno));
    }

    rc = rbacctl_apply_text(&a, "apply", text, len,
                            rbacctl_flag(&a, "prune"));
    free(text);

    return rc;
}


static const char  rbacctl_idpsync_usage[] =
    "idpsync show | idpsync set -f FILE [--dry-run]\n"
    "  show prints the IdP sync settings (rbac:idpsync); set validates the\n"
    "  settings object in FILE (the \"idp_sync\" of a policy file), writes\n"
    "  it with a new version and publishes it.  Groups are never created\n"
    "  by the proxy: create them with \"rbacctl group create\" and map them.";


int
rbacctl_idpsync(int argc, char **argv)
{
    int              rc;
    char            *text, *doc, *val;
    size_t           len;
    const char      *file;
    rbacctl_args_t   a;
    rbacctl_conn_t   conn;

    rc = rbacctl_args_parse(&a, "idpsync", argc - 1, argv + 1,
                            "file= dry-run", rbacctl_idpsync_usage);
    if (rc != RBACCTL_OK || a.help) {
        return rc;
    }

    file = rbacctl_arg(&a, "file");

    if (a.npos == 1 && strcmp(a.pos[0], "show") == 0 && file == NULL) {
        rc = rbacctl_connect(&a, &conn);
        if (rc != RBACCTL_OK) {
            return rc;
        }

        rc = rbacctl_get(&conn, "idpsync", &val);
        rbacctl_disconnect(&conn);

        if (rc == RBACCTL_OK) {
            printf("%s\n", val ? val : "no IdP sync settings");
            free(val);
        }

        return rc;
    }

    if (a.npos != 1 || strcmp(a.pos[0], "set") != 0 || file == NULL) {
        fprintf(stderr, "usage: rbacctl %s\n", rbacctl_idpsync_usage);
        return RBACCTL_USAGE;
    }

    text = rbacctl_read_file(file, &len);
    if (text == NULL) {
        return rbacctl_fail(&a, RBACCTL_USAGE, "%s: %s", file,
                            strerror(errno));
    }

    /* the settings object, as the "idp_sync" of a policy */
    doc = malloc(len + sizeof("{\"idp_sync\":\n}"));
    if (doc == NULL) {
        free(text);
        return RBACCTL_FAIL;
    }

    len = sprintf(doc, "{\"idp_sync\":%.*s\n}", (int) len, text);
    free(text);

    rc = rbacctl_apply_text(&a, "idpsync set", doc, len, 0);
    free(doc);

    return rc;
}
