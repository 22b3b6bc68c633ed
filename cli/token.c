/*
 * token.c: API tokens and provisioner keys: `token create|revoke|list`,
 * `pkey create|revoke`.  A credential is `<id>-<secret>`, printed once;
 * Redis keeps only the lowercase hex SHA-256 of the secret
 * (docs/records.md §6).
 */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "admin.h"


static const char  rbacctl_token_usage[] =
    "token create --user U [--scope S]... [--ttl D] [--allow TYPE:ID]...\n"
    "      prints <id>-<secret> once (D: 3600, 90s, 30m, 12h, 7d; default\n"
    "      never expires; no --scope = all)\n"
    "  token revoke ID\n"
    "  token list [--user U]\n"
    "  token verify --jwks FILE [--alg ALG] [--iss I]... [--aud A]...\n"
    "      [--leeway S] JWT   checks a JWT offline against a JWKS, as the\n"
    "      module does (exit 0 valid, 1 invalid with the 401's reason)";

static const char  rbacctl_pkey_usage[] =
    "pkey create --org O [--name N] [--tag k=v]...   prints <id>-<secret>\n"
    "  pkey revoke ID";


#define RBACCTL_ID_LEN      20
#define RBACCTL_SECRET_LEN  40


/* n random letters and digits, NUL-terminated; -1 when RAND_bytes fails. */
static int
rbacctl_random_alnum(char *out, size_t n)
{
    static const char  abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char      buf[64];
    size_t             i, k;

    k = sizeof(buf);

    for (i = 0; i < n; ) {
        if (k == sizeof(buf)) {
            if (RAND_bytes(buf, sizeof(buf)) != 1) {
                return -1;
            }
            k = 0;
        }

        /* 248 = 4 * 62: no bias */
        if (buf[k] < 248) {
            out[i++] = abc[buf[k] % 62];
        }
        k++;
    }

    out[n] = '\0';
    OPENSSL_cleanse(buf, sizeof(buf));

    return 0;
}


static int
rbacctl_sha256_hex(const char *s, char hex[65])
{
    unsigned char  md[EVP_MAX_MD_SIZE];
    unsigned int   n, i;

    if (EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL) != 1
        || n != 32)
    {
        return -1;
    }

    for (i = 0; i < 32; i++) {
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }

    return 0;
}


/* "3600", "90s", "30m", "12h", "7d" -> seconds; -1 if malformed. */
static long long
rbacctl_duration(const char *s)
{
    char       *end;
    long long   v;

    v = strtoll(s, &end, 10);

    if (end == s || v <= 0) {
        return -1;
    }

    switch (*end) {
    case '\0':
    case 's':
        break;
    case 'm':
        v *= 60;
        break;
    case 'h':
        v *= 3600;
        break;
    case 'd':
        v *= 86400;
        break;
    default:
        return -1;
    }

    if (*end && end[1] != '\0') {
        return -1;
    }

    return v > 100LL * 365 * 86400 ? -1 : v;
}


/* Splits "<id>-<secret>" or "<id>" into the id. */
static const char *
rbacctl_cred_id(const char *s, char *buf, size_t size)
{
    size_t  n;

    n = strcspn(s, "-");
    if (n == 0 || n >= size) {
        return NULL;
    }

    memcpy(buf, s, n);
    buf[n] = '\0';

    return buf;
}


/* ---- create ---- */

typedef struct {
    const rbacctl_args_t  *a;
    int                    pkey;
    cJSON                 *doc;         /* everything but id and hash */
    const char            *owner_key;   /* "user:U" or "org:O" */
    char                   owner_what[32];
    char                   id[RBACCTL_ID_LEN + 1];
    char                   secret[RBACCTL_SECRET_LEN + 1];
} rbacctl_cred_t;


static int
rbacctl_cred_build(rbacctl_tx_t *tx, void *ud)
{
    int              tries;
    char             key[64], hex[65], *canon;
    cJSON           *doc;
    const char      *val;
    rbacctl_cred_t  *c = ud;

    if (rbacctl_tx_get(tx, c->owner_key, &val) != RBACCTL_OK) {
        return RBACCTL_FAIL;
    }

    if (val == NULL) {
        return rbacctl_fail(c->a, RBACCTL_USAGE, "%s: no %s \"%s\"",
                            c->pkey ? "--org" : "--user", c->owner_what,
                            strchr(c->owner_key, ':') + 1);
    }

    for (tries = 0; ; tries++) {
        if (tries == 5) {
            return rbacctl_fail(c->a, RBACCTL_FAIL, "no free id found");
        }

        if (rbacctl_random_alnum(c->id, RBACCTL_ID_LEN) != 0
            || rbacctl_random_alnum(c->secret, RBACCTL_SECRET_LEN) != 0)
        {
            return rbacctl_fail(c->a, RBACCTL_FAIL, "no random bytes");
        }

        snprintf(key, sizeof(key), "%s:%s", c->pkey ? "pkey" : "token",
                 c->id);

        if (rbacctl_tx_get(tx, key, &val) != RBACCTL_OK) {
            return RBACCTL_FAIL;
        }

        if (val == NULL) {
            break;
        }
    }

    if (rbacctl_sha256_hex(c->secret, hex) != 0) {
        return rbacctl_fail(c->a, RBACCTL_FAIL, "SHA-256 failed");
    }

    doc = cJSON_Duplicate(c->doc, 1);
    if (doc == NULL
        || cJSON_AddStringToObject(doc, "id", c->id) == NULL
        || cJSON_AddStringToObject(doc, "secret_sha256", hex) == NULL)
    {
        cJSON_Delete(doc);
        return RBACCTL_FAIL;
    }

    if (c->pkey && cJSON_GetObjectItemCaseSensitive(doc, "name") == NULL
        && cJSON_AddStringToObject(doc, "name", c->id) == NULL)
    {
        cJSON_Delete(doc);
        return RBACCTL_FAIL;
    }

    canon = rbacctl_canon(c->pkey ? RBAC_REC_PKEY : RBAC_REC_TOKEN, doc,
                          c->pkey ? "provisioner key" : "token");
    cJSON_Delete(doc);

    if (canon == NULL) {
        return RBACCTL_USAGE;
    }

    if (rbacctl_tx_put(tx, key, canon) != RBACCTL_OK) {
        free(canon);
        return RBACCTL_FAIL;
    }

    free(canon);
    return RBACCTL_OK;
}


static int
rbacctl_cred_run(rbacctl_cred_t *c)
{
    int              rc;
    rbacctl_conn_t   conn;

    rc = rbacctl_connect(c->a, &conn);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    rc = rbacctl_tx_run(&conn, rbacctl_cred_build, c, 0, stderr, NULL);
    rbacctl_disconnect(&conn);

    if (rc == RBACCTL_OK) {
        printf("%s-%s\n", c->id, c->secret);
        fflush(stdout);
    }

    OPENSSL_cleanse(c->secret, sizeof(c->secret));

    return rc;
}


/* Creates the credential `doc` describes for user or org (pkey) `owner`. */
static int
rbacctl_cred_issue(const rbacctl_args_t *a, int pkey, cJSON *doc,
    const char *owner)
{
    char            key[300];
    rbacctl_cred_t  c;

    memset(&c, 0, sizeof(c));
    c.a = a;
    c.pkey = pkey;
    c.doc = doc;
    snprintf(key, sizeof(key), "%s:%s", pkey ? "org" : "user", owner);
    c.owner_key = key;
    strcpy(c.owner_what, pkey ? "organization" : "user");

    return rbacctl_cred_run(&c);
}


/* --scope S...: each checked by the catalog, into "scopes" (none: all). */
static int
rbacctl_token_scopes(rbacctl_args_t *a, const rbac_catalog_t *cat,
    cJSON *doc)
{
    int            rc;
    size_t         i, n;
    cJSON         *arr;
    rbac_rc_t      rrc;
    rbac_err_t     err;
    rbac_str_t     s;
    const char    *vals[RBACCTL_MAX_ARGS];
    rbac_scope_t  *scope;

    scope = calloc(1, sizeof(rbac_scope_t));
    if (scope == NULL) {
        return RBACCTL_FAIL;
    }

    rc = RBACCTL_OK;
    n = rbacctl_arg_all(a, "scope", vals, RBACCTL_MAX_ARGS);
    arr = cJSON_AddArrayToObject(doc, "scopes");

    for (i = 0; arr && i < n; i++) {
        memset(&err, 0, sizeof(err));
        s.data = vals[i];
        s.len = strlen(vals[i]);
        rrc = rbac_catalog_scope_add(cat, s, scope, &err);
        if (rrc != RBAC_OK) {
            rc = rbacctl_fail(a, RBACCTL_USAGE, "--scope \"%s\": %s",
                              vals[i], err.msg[0] ? err.msg
                                                  : rbac_strerror(rrc));
            break;
        }

        cJSON_AddItemToArray(arr, cJSON_CreateString(vals[i]));
    }

    if (n == 0 && arr) {
        cJSON_AddItemToArray(arr, cJSON_CreateString("all"));
    }

    free(scope);

    return rc;
}


/* --allow TYPE:ID...: into "allow_list" as {"type","id"}. */
static int
rbacctl_token_allow(rbacctl_args_t *a, cJSON *doc)
{
    char          type[64], id[300];
    size_t        i, n;
    cJSON        *arr, *el;
    rbac_str_t    s;
    const char   *vals[RBACCTL_MAX_ARGS], *colon;

    n = rbacctl_arg_all(a, "allow", vals, RBACCTL_MAX_ARGS);
    arr = cJSON_AddArrayToObject(doc, "allow_list");

    for (i = 0; arr && i < n; i++) {
        colon = strchr(vals[i], ':');
        if (colon == NULL || colon == vals[i] || colon[1] == '\0'
            || (size_t) (colon - vals[i]) >= sizeof(type))
        {
            return rbacctl_fail(a, RBACCTL_USAGE, "--allow: \"%s\" is not "
                                "TYPE:ID", vals[i]);
        }

        memcpy(type, vals[i], (size_t) (colon - vals[i]));
        type[colon - vals[i]] = '\0';
        s.data = type;
        s.len = strlen(type);

        if (strcmp(type, "*") != 0 && rbac_type_from_name(s) == RBAC_T_OTHER)
        {
            return rbacctl_fail(a, RBACCTL_USAGE, "--allow: unknown "
                                "resource type \"%s\"", type);
        }

        el = cJSON_CreateObject();
        if (el == NULL) {
            return RBACCTL_FAIL;
        }
        cJSON_AddItemToArray(arr, el);
        snprintf(id, sizeof(id), "%s", colon + 1);
        if (cJSON_AddStringToObject(el, "type", type) == NULL
            || cJSON_AddStringToObject(el, "id", id) == NULL)
        {
            return RBACCTL_FAIL;
        }
    }

    return RBACCTL_OK;
}


static int
rbacctl_token_create(rbacctl_args_t *a)
{
    int                    rc;
    cJSON                 *doc;
    long long              ttl;
    const char            *user, *ttls;
    const rbac_catalog_t  *cat;

    user = rbacctl_arg(a, "user");
    if (user == NULL || a->npos != 1) {
        fprintf(stderr, "usage: rbacctl %s\n", rbacctl_token_usage);
        return RBACCTL_USAGE;
    }

    if (!rbacctl_id_ok(user, strlen(user))) {
        return rbacctl_fail(a, RBACCTL_USAGE, "--user: \"%s\" is not a user "
                            "id", user);
    }

    cat = rbacctl_catalog();
    if (cat == NULL) {
        return RBACCTL_FAIL;
    }

    doc = cJSON_CreateObject();
    if (doc == NULL || cJSON_AddStringToObject(doc, "user", user) == NULL) {
        rc = RBACCTL_FAIL;
        goto done;
    }

    ttls = rbacctl_arg(a, "ttl");
    ttl = 0;

    if (ttls) {
        ttl = rbacctl_duration(ttls);
        if (ttl < 0) {
            rc = rbacctl_fail(a, RBACCTL_USAGE, "--ttl: \"%s\" is not a "
                              "duration (3600, 90s, 30m, 12h, 7d)", ttls);
            goto done;
        }
        ttl += (long long) time(NULL);
    }

    if (cJSON_AddNumberToObject(doc, "expires_at", (double) ttl) == NULL) {
        rc = RBACCTL_FAIL;
        goto done;
    }

    rc = rbacctl_token_scopes(a, cat, doc);
    if (rc != RBACCTL_OK) {
        goto done;
    }

    rc = rbacctl_token_allow(a, doc);
    if (rc != RBACCTL_OK) {
        goto done;
    }

    rc = rbacctl_cred_issue(a, 0, doc, user);

done:

    cJSON_Delete(doc);

    return rc;
}


static int
rbacctl_pkey_create(rbacctl_args_t *a)
{
    int              rc;
    char             tk[256];
    size_t           i, n;
    cJSON           *doc, *tags;
    const char      *org, *name, *vals[RBACCTL_MAX_ARGS], *eq;

    org = rbacctl_arg(a, "org");
    name = rbacctl_arg(a, "name");

    if (org == NULL || a->npos != 1) {
        fprintf(stderr, "usage: rbacctl %s\n", rbacctl_pkey_usage);
        return RBACCTL_USAGE;
    }

    if (!rbacctl_id_ok(org, strlen(org))) {
        return rbacctl_fail(a, RBACCTL_USAGE, "--org: \"%s\" is not an "
                            "organization id", org);
    }

    doc = cJSON_CreateObject();
    tags = doc ? cJSON_AddObjectToObject(doc, "tags") : NULL;

    if (tags == NULL || cJSON_AddStringToObject(doc, "org", org) == NULL
        || (name && cJSON_AddStringToObject(doc, "name", name) == NULL))
    {
        cJSON_Delete(doc);
        return RBACCTL_FAIL;
    }

    n = rbacctl_arg_all(a, "tag", vals, RBACCTL_MAX_ARGS);

    for (i = 0; i < n; i++) {
        eq = strchr(vals[i], '=');
        if (eq == NULL || eq == vals[i]
            || (size_t) (eq - vals[i]) >= sizeof(tk))
        {
            cJSON_Delete(doc);
            return rbacctl_fail(a, RBACCTL_USAGE, "--tag: \"%s\" is not "
                                "key=value", vals[i]);
        }

        memcpy(tk, vals[i], (size_t) (eq - vals[i]));
        tk[eq - vals[i]] = '\0';
        cJSON_DeleteItemFromObjectCaseSensitive(tags, tk);
        if (cJSON_AddStringToObject(tags, tk, eq + 1) == NULL) {
            cJSON_Delete(doc);
            return RBACCTL_FAIL;
        }
    }

    rc = rbacctl_cred_issue(a, 1, doc, org);
    cJSON_Delete(doc);

    return rc;
}


/* ---- revoke ---- */

typedef struct {
    const rbacctl_args_t  *a;
    char                   key[100];
} rbacctl_revoke_t;


static int
rbacctl_revoke_build(rbacctl_tx_t *tx, void *ud)
{
    const char        *val;
    rbacctl_revoke_t  *r = ud;

    if (rbacctl_tx_get(tx, r->key, &val) != RBACCTL_OK) {
        return RBACCTL_FAIL;
    }

    if (val == NULL) {
        return rbacctl_fail(r->a, RBACCTL_USAGE, "no %s", r->key);
    }

    return rbacctl_tx_put(tx, r->key, NULL);
}


static int
rbacctl_revoke(rbacctl_args_t *a, const char *kind, const char *usage)
{
    int                rc;
    char               buf[80];
    const char        *id;
    rbacctl_conn_t     conn;
    rbacctl_revoke_t   r;

    if (a->npos != 2) {
        fprintf(stderr, "usage: rbacctl %s\n", usage);
        return RBACCTL_USAGE;
    }

    id = rbacctl_cred_id(a->pos[1], buf, sizeof(buf));
    if (id == NULL || !rbacctl_id_ok(id, strlen(id))) {
        return rbacctl_fail(a, RBACCTL_USAGE, "\"%s\" is not an id",
                            a->pos[1]);
    }

    memset(&r, 0, sizeof(r));
    r.a = a;
    snprintf(r.key, sizeof(r.key), "%s:%s", kind, id);

    rc = rbacctl_connect(a, &conn);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    rc = rbacctl_tx_run(&conn, rbacctl_revoke_build, &r, 0, stdout, NULL);
    rbacctl_disconnect(&conn);

    return rc;
}


/* ---- list ---- */

/* Prints a token (with --user U: a token of U). */
static void
rbacctl_token_show(void *ud, const void *rec)
{
    size_t                   i;
    rbac_str_t               u, id, sc;
    const char              *user = ud;
    const rbac_ref_t        *scopes;
    const rbac_token_rec_t  *t = rec;

    u = rbac_ref(t, t->user);
    id = rbac_ref(t, t->id);

    if (user != NULL && !rbac_str_eq_cstr(u, user)) {
        return;
    }

    printf("%.*s user=%.*s expires_at=%lld scopes=", (int) id.len, id.data,
           (int) u.len, u.data, (long long) t->expires_at);

    scopes = rbac_rec_at(t, t->scopes, rbac_ref_t);
    for (i = 0; i < t->scopes.n; i++) {
        sc = rbac_ref(t, scopes[i]);
        printf("%s%.*s", i ? "," : "", (int) sc.len, sc.data);
    }
    printf("\n");
}


static int
rbacctl_token_list(rbacctl_args_t *a)
{
    int             rc;
    rbacctl_conn_t  conn;

    rc = rbacctl_connect(a, &conn);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    rc = rbacctl_records(&conn, "token:*", rbacctl_token_show,
                         (void *) rbacctl_arg(a, "user"));
    rbacctl_disconnect(&conn);

    return rc;
}


int
rbacctl_token(int argc, char **argv)
{
    int             rc;
    rbacctl_args_t  a;

    rc = rbacctl_args_parse(&a, "token", argc - 1, argv + 1,
                            "user= scope= ttl= allow= jwks= alg= iss= aud= "
                            "leeway=", rbacctl_token_usage);
    if (rc != RBACCTL_OK || a.help) {
        return rc;
    }

    if (a.npos >= 1 && strcmp(a.pos[0], "create") == 0) {
        return rbacctl_token_create(&a);
    }

    if (a.npos >= 1 && strcmp(a.pos[0], "revoke") == 0) {
        return rbacctl_revoke(&a, "token", rbacctl_token_usage);
    }

    if (a.npos == 1 && strcmp(a.pos[0], "list") == 0) {
        return rbacctl_token_list(&a);
    }

    if (a.npos >= 1 && strcmp(a.pos[0], "verify") == 0) {
        return rbacctl_token_verify(&a, rbacctl_token_usage);
    }

    fprintf(stderr, "usage: rbacctl %s\n", rbacctl_token_usage);
    return RBACCTL_USAGE;
}


int
rbacctl_pkey(int argc, char **argv)
{
    int             rc;
    rbacctl_args_t  a;

    rc = rbacctl_args_parse(&a, "pkey", argc - 1, argv + 1,
                            "org= name= tag=", rbacctl_pkey_usage);
    if (rc != RBACCTL_OK || a.help) {
        return rc;
    }

    if (a.npos >= 1 && strcmp(a.pos[0], "create") == 0) {
        return rbacctl_pkey_create(&a);
    }

    if (a.npos >= 1 && strcmp(a.pos[0], "revoke") == 0) {
        return rbacctl_revoke(&a, "pkey", rbacctl_pkey_usage);
    }

    fprintf(stderr, "usage: rbacctl %s\n", rbacctl_pkey_usage);
    return RBACCTL_USAGE;
}
