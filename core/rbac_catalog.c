/*
 * rbac_catalog.c: the role catalog: loading the catalog JSON
 * (conf-examples/roles/README.md) into one block of compiled roles, scopes
 * and sorted name tables, and looking roles and reserved names up.
 *
 * Loading runs over the parsed JSON twice: the first pass validates and
 * counts (names, role variants, scopes), the second fills the block the
 * counts sized.  A lookup is then a binary search and an index.
 */

#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rbac_catalog_int.h"


typedef struct {
    uint32_t  nroles;       /* role entries */
    uint32_t  nreserved;    /* reserved-only names */
    uint32_t  nvariants;    /* compiled roles */
    uint32_t  nscopes;
    uint32_t  nsnames;      /* scope names and aliases */
} rbac_cat_count_t;


#define RBAC_CAT_ALIGN(n)                                                     \
    (((n) + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1))


/*
 * Checks that j is a name: a string of 1..RBAC_MAX_NAME bytes without
 * spaces or control characters (and without ':' unless colon_ok).
 */
static rbac_rc_t
rbac_cat_name(const cJSON *j, int colon_ok, const char *what,
    rbac_err_t *err)
{
    size_t          i, n;
    unsigned char   c;

    if (!cJSON_IsString(j)) {
        return rbac_err_set(err, RBAC_EINVAL, "%s: name must be a string",
                            what);
    }

    n = strlen(j->valuestring);

    if (n == 0 || n > RBAC_MAX_NAME) {
        return rbac_err_set(err, RBAC_EINVAL,
                            "%s: name must have 1 to %d bytes", what,
                            RBAC_MAX_NAME);
    }

    for (i = 0; i < n; i++) {
        c = (unsigned char) j->valuestring[i];

        if (c <= ' ' || c == 0x7f || (c == ':' && !colon_ok)) {
            return rbac_err_set(err, RBAC_EINVAL,
                                "%s: invalid character in name \"%.64s\"",
                                what, j->valuestring);
        }
    }

    return RBAC_OK;
}


/* Refuses keys of object j outside the NULL-terminated list `keys`. */
static rbac_rc_t
rbac_cat_keys(const cJSON *j, const char *const *keys, const char *what,
    rbac_err_t *err)
{
    size_t   i;
    cJSON   *k;

    for (k = j->child; k != NULL; k = k->next) {
        for (i = 0; keys[i] != NULL; i++) {
            if (strcmp(k->string, keys[i]) == 0) {
                break;
            }
        }

        if (keys[i] == NULL) {
            return rbac_err_set(err, RBAC_EINVAL,
                                "%s: unknown field \"%.64s\"", what,
                                k->string);
        }
    }

    return RBAC_OK;
}


/* An optional array of at most `max` elements (NULL when absent). */
static rbac_rc_t
rbac_cat_array(const cJSON *parent, const char *key, int required, int max,
    const char *what, const cJSON **out, rbac_err_t *err)
{
    const cJSON  *j;

    j = cJSON_GetObjectItemCaseSensitive(parent, key);
    *out = j;

    if (j == NULL) {
        if (required) {
            return rbac_err_set(err, RBAC_EINVAL, "%s: \"%s\" is required",
                                what, key);
        }

        return RBAC_OK;
    }

    if (!cJSON_IsArray(j)) {
        return rbac_err_set(err, RBAC_EINVAL, "%s: \"%s\" must be an array",
                            what, key);
    }

    if (cJSON_GetArraySize(j) > max) {
        return rbac_err_set(err, RBAC_EBOUND,
                            "%s: more than %d entries in \"%s\"", what, max,
                            key);
    }

    return RBAC_OK;
}


static const char  *rbac_cat_levels[RBAC_NLEVELS] = {
    "site", "user", "org", "member"
};

/* The permission list of level l in role or scope j (NULL if absent). */
static const cJSON *
rbac_cat_level(const cJSON *j, int l)
{
    return cJSON_GetObjectItemCaseSensitive(j, rbac_cat_levels[l]);
}


/*
 * The head of one role or scope (`what`, number idx in its list): an object
 * with a valid name and no key but `keys`.  who is then "<what> <name>",
 * for the messages about the rest of it.
 */
static rbac_rc_t
rbac_cat_entry(const cJSON *j, const char *what, unsigned idx, int colon_ok,
    const char *const *keys, char *who, size_t size, cJSON **name,
    rbac_err_t *err)
{
    rbac_rc_t  rc;

    snprintf(who, size, "%s %u", what, idx);

    if (!cJSON_IsObject(j)) {
        return rbac_err_set(err, RBAC_EINVAL, "%s: not an object", who);
    }

    *name = cJSON_GetObjectItemCaseSensitive(j, "name");
    rc = rbac_cat_name(*name, colon_ok, who, err);
    if (rc != RBAC_OK) {
        return rc;
    }

    snprintf(who, size, "%s %s", what, (*name)->valuestring);

    return rbac_cat_keys(j, keys, who, err);
}


/*
 * Every level's permissions of role r checked, and what they depend on
 * (RBAC_CAT_* flags) into *deps: pass 1 and pass 2 read them alike.
 */
static rbac_rc_t
rbac_cat_role_perms(const cJSON *r, const char *who, unsigned *deps,
    rbac_err_t *err)
{
    int        l;
    rbac_rc_t  rc;

    *deps = 0;

    for (l = 0; l < RBAC_NLEVELS; l++) {
        rc = rbac_cat_perms(rbac_cat_level(r, l),
                            who, rbac_cat_levels[l], 1, NULL, 0,
                            RBAC_SHARE_EVERYONE, deps, err);
        if (rc != RBAC_OK) {
            return rc;
        }
    }

    return RBAC_OK;
}


static const char  *const rbac_cat_role_keys[] = {
    "name", "display_name", "kind", "system", "site", "user", "org",
    "member", "comment", NULL
};


/*
 * Pass 1 for one role: validates it and returns its flags (RBAC_CAT_*).
 */
static rbac_rc_t
rbac_cat_role_check(const cJSON *r, unsigned idx, unsigned *flags,
    rbac_err_t *err)
{
    int           l;
    char          who[RBAC_MAX_NAME + 16];
    cJSON        *name, *dn, *kind, *sys;
    unsigned      deps;
    rbac_rc_t     rc;

    rc = rbac_cat_entry(r, "role", idx, 0, rbac_cat_role_keys, who,
                        sizeof(who), &name, err);
    if (rc != RBAC_OK) {
        return rc;
    }

    dn = cJSON_GetObjectItemCaseSensitive(r, "display_name");
    if (dn != NULL
        && (!cJSON_IsString(dn) || strlen(dn->valuestring) > RBAC_MAX_NAME))
    {
        return rbac_err_set(err, RBAC_EINVAL,
                            "%s: display_name must be a string of at most "
                            "%d bytes", who, RBAC_MAX_NAME);
    }

    kind = cJSON_GetObjectItemCaseSensitive(r, "kind");
    if (!cJSON_IsString(kind)
        || (strcmp(kind->valuestring, "site") != 0
            && strcmp(kind->valuestring, "org") != 0))
    {
        return rbac_err_set(err, RBAC_EINVAL,
                            "%s: kind must be \"site\" or \"org\"", who);
    }

    sys = cJSON_GetObjectItemCaseSensitive(r, "system");
    if (sys != NULL && !cJSON_IsBool(sys)) {
        return rbac_err_set(err, RBAC_EINVAL, "%s: system must be a boolean",
                            who);
    }

    if (strcmp(kind->valuestring, "site") == 0) {
        for (l = RBAC_LVL_ORG; l < RBAC_NLEVELS; l++) {
            if (cJSON_GetObjectItemCaseSensitive(r, rbac_cat_levels[l])
                != NULL)
            {
                return rbac_err_set(err, RBAC_EINVAL,
                                    "%s: a site role has no %s permissions",
                                    who, rbac_cat_levels[l]);
            }
        }
    }

    rc = rbac_cat_role_perms(r, who, &deps, err);
    if (rc != RBAC_OK) {
        return rc;
    }

    *flags = RBAC_CAT_ROLE | deps | (cJSON_IsTrue(sys) ? RBAC_CAT_SYSTEM : 0);

    return RBAC_OK;
}


static const char  *const rbac_cat_scope_keys[] = {
    "name", "aliases", "site", "user", "allow_list", "comment", NULL
};

static const char  *const rbac_cat_allow_keys[] = { "type", "id", NULL };


/* One allow-list element {"type", "id"}; with out NULL, only checks. */
static rbac_rc_t
rbac_cat_allow(const cJSON *j, const char *who, unsigned i,
    rbac_allow_t *out, rbac_err_t *err)
{
    char          what[RBAC_ERR_LEN];
    cJSON        *ty, *id;
    rbac_rc_t     rc;
    rbac_str_t    s;
    rbac_type_t   t;

    snprintf(what, sizeof(what), "%s: allow_list entry %u", who, i);

    if (!cJSON_IsObject(j)) {
        return rbac_err_set(err, RBAC_EINVAL, "%s: not an object", what);
    }

    rc = rbac_cat_keys(j, rbac_cat_allow_keys, what, err);
    if (rc != RBAC_OK) {
        return rc;
    }

    ty = cJSON_GetObjectItemCaseSensitive(j, "type");
    id = cJSON_GetObjectItemCaseSensitive(j, "id");

    if (!cJSON_IsString(ty) || !cJSON_IsString(id)) {
        return rbac_err_set(err, RBAC_EINVAL,
                            "%s: type and id must be strings", what);
    }

    if (strlen(id->valuestring) > RBAC_MAX_NAME) {
        return rbac_err_set(err, RBAC_EINVAL,
                            "%s: id longer than %d bytes", what,
                            RBAC_MAX_NAME);
    }

    t = RBAC_T_OTHER;

    if (strcmp(ty->valuestring, "*") != 0) {
        s.data = ty->valuestring;
        s.len = strlen(ty->valuestring);
        t = rbac_type_from_name(s);

        if (t == RBAC_T_OTHER) {
            return rbac_err_set(err, RBAC_EUNKNOWN,
                                "%s: unknown type \"%.64s\"", what,
                                ty->valuestring);
        }
    }

    if (out != NULL) {
        out->type = t;
        out->any_type = (t == RBAC_T_OTHER);
        out->any_id = (strcmp(id->valuestring, "*") == 0);
        if (!out->any_id) {
            strcpy(out->id, id->valuestring);
        }
    }

    return RBAC_OK;
}


/*
 * Pass 1 for one scope: validates it and counts its names into *nnames.
 */
static rbac_rc_t
rbac_cat_scope_check(const cJSON *sc, unsigned idx, uint32_t *nnames,
    rbac_err_t *err)
{
    int            l;
    char           who[RBAC_MAX_NAME + 16];
    unsigned       i;
    cJSON         *name, *e;
    rbac_rc_t      rc;
    const cJSON   *aliases, *allow;

    rc = rbac_cat_entry(sc, "scope", idx, 1, rbac_cat_scope_keys, who,
                        sizeof(who), &name, err);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_cat_array(sc, "aliases", 0, RBAC_MAX_LIST, who, &aliases, err);
    if (rc != RBAC_OK) {
        return rc;
    }

    (*nnames)++;

    if (aliases != NULL) {
        cJSON_ArrayForEach(e, aliases) {
            rc = rbac_cat_name(e, 1, who, err);
            if (rc != RBAC_OK) {
                return rc;
            }

            (*nnames)++;
        }
    }

    for (l = RBAC_LVL_SITE; l <= RBAC_LVL_USER; l++) {
        rc = rbac_cat_perms(rbac_cat_level(sc, l),
                            who, rbac_cat_levels[l], 0, NULL, 0,
                            RBAC_SHARE_EVERYONE, NULL, err);
        if (rc != RBAC_OK) {
            return rc;
        }
    }

    rc = rbac_cat_array(sc, "allow_list", 1, RBAC_SCOPE_MAX_ALLOW, who,
                        &allow, err);
    if (rc != RBAC_OK) {
        return rc;
    }

    i = 0;

    cJSON_ArrayForEach(e, allow) {
        rc = rbac_cat_allow(e, who, ++i, NULL, err);
        if (rc != RBAC_OK) {
            return rc;
        }
    }

    return RBAC_OK;
}


static const char  *const rbac_cat_top_keys[] = {
    "reserved", "roles", "scopes", "comment", NULL
};


/* Pass 1: validates the whole catalog and counts what it holds. */
static rbac_rc_t
rbac_cat_check(const cJSON *root, rbac_cat_count_t *cnt, rbac_err_t *err)
{
    char           what[32];
    unsigned       i, flags;
    cJSON         *e;
    rbac_rc_t      rc;
    const cJSON   *reserved, *roles, *scopes;

    memset(cnt, 0, sizeof(*cnt));
    flags = 0;

    if (!cJSON_IsObject(root)) {
        return rbac_err_set(err, RBAC_EPARSE, "catalog: not a JSON object");
    }

    rc = rbac_cat_keys(root, rbac_cat_top_keys, "catalog", err);
    if (rc == RBAC_OK) {
        rc = rbac_cat_array(root, "roles", 1, RBAC_MAX_LIST, "catalog",
                            &roles, err);
    }

    if (rc == RBAC_OK) {
        rc = rbac_cat_array(root, "reserved", 0, RBAC_MAX_LIST, "catalog",
                            &reserved, err);
    }

    if (rc == RBAC_OK) {
        rc = rbac_cat_array(root, "scopes", 0, RBAC_MAX_LIST, "catalog",
                            &scopes, err);
    }

    if (rc != RBAC_OK) {
        return rc;
    }

    i = 0;

    cJSON_ArrayForEach(e, reserved) {
        snprintf(what, sizeof(what), "reserved name %u", ++i);

        rc = rbac_cat_name(e, 0, what, err);
        if (rc != RBAC_OK) {
            return rc;
        }

        cnt->nreserved++;
    }

    i = 0;

    cJSON_ArrayForEach(e, roles) {
        rc = rbac_cat_role_check(e, ++i, &flags, err);
        if (rc != RBAC_OK) {
            return rc;
        }

        cnt->nroles++;
        cnt->nvariants += rbac_cat_nvariants(flags);
    }

    i = 0;

    cJSON_ArrayForEach(e, scopes) {
        rc = rbac_cat_scope_check(e, ++i, &cnt->nsnames, err);
        if (rc != RBAC_OK) {
            return rc;
        }

        cnt->nscopes++;
    }

    return RBAC_OK;
}


/* The options and sharing mode of variant v of a role with `flags`. */
static void
rbac_cat_variant_params(unsigned flags, uint32_t v, unsigned *options,
    rbac_share_t *share)
{
    *share = RBAC_SHARE_EVERYONE;

    if (flags & RBAC_CAT_DEP_SHARE) {
        *share = (rbac_share_t) (v % RBAC_NSHARE);
        v /= RBAC_NSHARE;
    }

    *options = (flags & RBAC_CAT_DEP_OPT) ? v : 0;
}


static void
rbac_cat_set_name(char *dst, uint32_t *len, const char *src)
{
    size_t  n;

    n = strlen(src);        /* at most RBAC_MAX_NAME: checked in pass 1 */
    memcpy(dst, src, n + 1);
    *len = (uint32_t) n;
}


/* Pass 2 for one role: its name entry and every variant. */
static rbac_rc_t
rbac_cat_role_build(rbac_catalog_t *cat, const cJSON *r, rbac_cat_name_t *e,
    rbac_err_t *err)
{
    int            l;
    char           who[RBAC_MAX_NAME + 16];
    cJSON         *dn, *kind;
    unsigned       deps, options;
    uint32_t       v, n;
    rbac_rc_t      rc;
    rbac_role_t   *role;
    rbac_share_t   share;

    rbac_cat_set_name(e->name, &e->len,
                      cJSON_GetObjectItemCaseSensitive(r, "name")->valuestring);
    snprintf(who, sizeof(who), "role %s", e->name);

    rc = rbac_cat_role_perms(r, who, &deps, err);
    if (rc != RBAC_OK) {
        return rc;
    }

    e->flags = (uint8_t) (RBAC_CAT_ROLE | deps
                          | (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
                                 r, "system")) ? RBAC_CAT_SYSTEM : 0));
    e->first = cat->nroles;

    dn = cJSON_GetObjectItemCaseSensitive(r, "display_name");
    kind = cJSON_GetObjectItemCaseSensitive(r, "kind");
    n = rbac_cat_nvariants(e->flags);

    for (v = 0; v < n; v++) {
        role = &cat->roles[cat->nroles++];
        rbac_cat_variant_params(e->flags, v, &options, &share);

        memcpy(role->name, e->name, e->len + 1);
        if (dn != NULL) {
            strcpy(role->display_name, dn->valuestring);
        }

        role->kind = strcmp(kind->valuestring, "org") == 0
                     ? RBAC_ROLE_ORG : RBAC_ROLE_SITE;
        role->builtin = 1;

        for (l = 0; l < RBAC_NLEVELS; l++) {
            rc = rbac_cat_perms(rbac_cat_level(r, l),
                                who, rbac_cat_levels[l], 1, &role->lvl[l],
                                options, share, NULL, err);
            if (rc != RBAC_OK) {
                return rc;
            }
        }
    }

    return RBAC_OK;
}


/* Pass 2 for one scope: the compiled scope and its names. */
static rbac_rc_t
rbac_cat_scope_build(rbac_catalog_t *cat, const cJSON *j, rbac_err_t *err)
{
    char               who[RBAC_MAX_NAME + 16];
    unsigned           i;
    cJSON             *e;
    rbac_rc_t          rc;
    rbac_cat_scope_t  *sc;
    rbac_cat_sname_t  *sn;

    sc = &cat->scopes[cat->nscopes];
    strcpy(sc->name, cJSON_GetObjectItemCaseSensitive(j, "name")->valuestring);
    snprintf(who, sizeof(who), "scope %s", sc->name);

    sn = &cat->snames[cat->nsnames++];
    rbac_cat_set_name(sn->name, &sn->len, sc->name);
    sn->scope = cat->nscopes;

    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "aliases")) {
        sn = &cat->snames[cat->nsnames++];
        rbac_cat_set_name(sn->name, &sn->len, e->valuestring);
        sn->scope = cat->nscopes;
    }

    rc = rbac_cat_perms(cJSON_GetObjectItemCaseSensitive(j, "site"), who,
                        "site", 0, &sc->site, 0, RBAC_SHARE_EVERYONE, NULL,
                        err);
    if (rc == RBAC_OK) {
        rc = rbac_cat_perms(cJSON_GetObjectItemCaseSensitive(j, "user"), who,
                            "user", 0, &sc->user, 0, RBAC_SHARE_EVERYONE,
                            NULL, err);
    }

    if (rc != RBAC_OK) {
        return rc;
    }

    i = 0;

    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "allow_list")) {
        rc = rbac_cat_allow(e, who, i + 1, &sc->allow[i], err);
        if (rc != RBAC_OK) {
            return rc;
        }

        i++;
    }

    sc->nallow = i;
    cat->nscopes++;

    return RBAC_OK;
}


static int
rbac_cat_name_order(const void *a, const void *b)
{
    const rbac_cat_name_t  *x = a, *y = b;

    return rbac_cat_cmp(x->name, x->len, y->name, y->len);
}


static int
rbac_cat_sname_order(const void *a, const void *b)
{
    const rbac_cat_sname_t  *x = a, *y = b;

    return rbac_cat_cmp(x->name, x->len, y->name, y->len);
}


/* Pass 2: fills the block pass 1 sized; sorts and checks the names. */
static rbac_rc_t
rbac_cat_build(const cJSON *root, rbac_catalog_t *cat, rbac_err_t *err)
{
    uint32_t          i;
    cJSON            *e;
    rbac_rc_t         rc;
    rbac_cat_name_t  *n;

    cat->nnames = 0;

    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "roles")) {
        rc = rbac_cat_role_build(cat, e, &cat->names[cat->nnames++], err);
        if (rc != RBAC_OK) {
            return rc;
        }
    }

    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "reserved")) {
        n = &cat->names[cat->nnames++];
        rbac_cat_set_name(n->name, &n->len, e->valuestring);
    }

    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "scopes")) {
        rc = rbac_cat_scope_build(cat, e, err);
        if (rc != RBAC_OK) {
            return rc;
        }
    }

    qsort(cat->names, cat->nnames, sizeof(rbac_cat_name_t),
          rbac_cat_name_order);
    qsort(cat->snames, cat->nsnames, sizeof(rbac_cat_sname_t),
          rbac_cat_sname_order);

    for (i = 1; i < cat->nnames; i++) {
        if (rbac_cat_name_order(&cat->names[i - 1], &cat->names[i]) == 0) {
            return rbac_err_set(err, RBAC_EEXISTS,
                                "role %s: duplicate role or reserved name",
                                cat->names[i].name);
        }
    }

    for (i = 1; i < cat->nsnames; i++) {
        if (rbac_cat_sname_order(&cat->snames[i - 1], &cat->snames[i]) == 0)
        {
            return rbac_err_set(err, RBAC_EEXISTS,
                                "scope %s: duplicate scope name or alias",
                                cat->snames[i].name);
        }
    }

    return RBAC_OK;
}


rbac_rc_t
rbac_catalog_load(const char *json, size_t len, const rbac_allocator_t *a,
    rbac_catalog_t **out, rbac_err_t *err)
{
    char              *p;
    size_t             off_names, off_roles, off_snames, off_scopes, size;
    cJSON             *root;
    rbac_rc_t          rc;
    const char        *end, *last;
    rbac_catalog_t    *cat;
    rbac_cat_count_t   cnt;

    assert(a != NULL && out != NULL);

    *out = NULL;

    if (json == NULL || len == 0) {
        return rbac_err_set(err, RBAC_EPARSE, "catalog: empty");
    }

    end = NULL;
    root = cJSON_ParseWithLengthOpts(json, len, &end, 0);

    if (root == NULL) {
        return rbac_err_set(err, RBAC_EPARSE,
                            "catalog: not JSON (error near byte %zu)",
                            end != NULL ? (size_t) (end - json) : (size_t) 0);
    }

    /* Nothing but white space (or a terminating NUL) after the value. */
    last = json + len;
    while (end < last && (*end == ' ' || *end == '\t' || *end == '\n'
                          || *end == '\r'))
    {
        end++;
    }

    if (end < last && *end != '\0') {
        cJSON_Delete(root);
        return rbac_err_set(err, RBAC_EPARSE,
                            "catalog: trailing characters at byte %zu",
                            (size_t) (end - json));
    }

    rc = rbac_cat_check(root, &cnt, err);
    if (rc != RBAC_OK) {
        cJSON_Delete(root);
        return rc;
    }

    off_names = RBAC_CAT_ALIGN(sizeof(rbac_catalog_t));
    off_roles = off_names
                + RBAC_CAT_ALIGN((size_t) (cnt.nroles + cnt.nreserved)
                                 * sizeof(rbac_cat_name_t));
    off_snames = off_roles
                 + RBAC_CAT_ALIGN((size_t) cnt.nvariants
                                  * sizeof(rbac_role_t));
    off_scopes = off_snames
                 + RBAC_CAT_ALIGN((size_t) cnt.nsnames
                                  * sizeof(rbac_cat_sname_t));
    size = off_scopes + (size_t) cnt.nscopes * sizeof(rbac_cat_scope_t);

    p = a->alloc(a->ud, size);
    if (p == NULL) {
        cJSON_Delete(root);
        return rbac_err_set(err, RBAC_ENOMEM,
                            "catalog: out of memory (%zu bytes)", size);
    }

    memset(p, 0, size);
    cat = (rbac_catalog_t *) p;
    cat->names = (rbac_cat_name_t *) (p + off_names);
    cat->roles = (rbac_role_t *) (p + off_roles);
    cat->snames = (rbac_cat_sname_t *) (p + off_snames);
    cat->scopes = (rbac_cat_scope_t *) (p + off_scopes);

    rc = rbac_cat_build(root, cat, err);
    cJSON_Delete(root);

    if (rc != RBAC_OK) {
        a->free(a->ud, p);
        return rc;
    }

    *out = cat;

    return RBAC_OK;
}


void
rbac_catalog_free(rbac_catalog_t *cat, const rbac_allocator_t *a)
{
    if (cat != NULL) {
        a->free(a->ud, cat);
    }
}


static int
rbac_cat_name_find(const void *key, const void *elt)
{
    const rbac_str_t       *k = key;
    const rbac_cat_name_t  *e = elt;

    return rbac_cat_cmp(k->data, k->len, e->name, e->len);
}


static const rbac_cat_name_t *
rbac_cat_lookup(const rbac_catalog_t *cat, rbac_str_t name)
{
    if (cat == NULL || name.len == 0 || name.len > RBAC_MAX_NAME) {
        return NULL;
    }

    return bsearch(&name, cat->names, cat->nnames, sizeof(rbac_cat_name_t),
                   rbac_cat_name_find);
}


const rbac_role_t *
rbac_catalog_role(const rbac_catalog_t *cat, rbac_str_t name,
    unsigned options, rbac_share_t share)
{
    const rbac_cat_name_t  *e;

    assert(name.data != NULL || name.len == 0);

    if ((unsigned) share >= RBAC_NSHARE) {
        return NULL;
    }

    e = rbac_cat_lookup(cat, name);
    if (e == NULL || !(e->flags & RBAC_CAT_ROLE)) {
        return NULL;
    }

    return &cat->roles[e->first + rbac_cat_variant(e->flags, options, share)];
}


int
rbac_catalog_reserved(const rbac_catalog_t *cat, rbac_str_t name)
{
    assert(name.data != NULL || name.len == 0);

    return rbac_cat_lookup(cat, name) != NULL;
}


int
rbac_catalog_system(const rbac_catalog_t *cat, rbac_str_t name)
{
    const rbac_cat_name_t  *e;

    assert(name.data != NULL || name.len == 0);

    e = rbac_cat_lookup(cat, name);

    return e != NULL && (e->flags & RBAC_CAT_SYSTEM);
}
