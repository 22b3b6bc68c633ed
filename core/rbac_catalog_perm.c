/*
 * rbac_catalog_perm.c: the permission lists of the catalog (PERM and COND
 * of conf-examples/roles/README.md): validation, and compilation into the
 * permset of one variant.
 */

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rbac_catalog_int.h"


/* A parsed PERM: type and action sets, negation, condition. */
typedef struct {
    uint64_t       types;       /* bit per rbac_type_t; unused if any_type */
    rbac_amask_t   actions;     /* unused if any_action */
    uint8_t        any_type;
    uint8_t        any_action;
    uint8_t        negate;
    uint8_t        cond;        /* RBAC_COND_* */
    uint8_t        cond_neg;    /* the condition is "not ..." */
    unsigned       opt;         /* RBAC_COND_OPT: the option bit */
    rbac_share_t   share;       /* RBAC_COND_SHARE: the mode */
} rbac_cat_perm_t;

#define RBAC_COND_NONE   0
#define RBAC_COND_OPT    1
#define RBAC_COND_SHARE  2

#define RBAC_TBIT(t)     ((uint64_t) 1 << (t))


static const struct {
    const char  *name;
    unsigned     bit;
} rbac_cat_options[] = {
    { "no_owner_workspace_exec", RBAC_OPT_NO_OWNER_WORKSPACE_EXEC },
    { "no_workspace_sharing", RBAC_OPT_NO_WORKSPACE_SHARING },
    { "no_chat_sharing", RBAC_OPT_NO_CHAT_SHARING }
};

static const char  *rbac_cat_shares[RBAC_NSHARE] = {
    "everyone", "service_accounts", "none"
};


static rbac_rc_t
rbac_cat_cond(const cJSON *j, const char *what, rbac_cat_perm_t *p,
    rbac_err_t *err)
{
    size_t       i;
    const char  *s, *v;

    if (!cJSON_IsString(j)) {
        return rbac_err_set(err, RBAC_EINVAL, "%s: \"when\" must be a string",
                            what);
    }

    s = j->valuestring;

    for (i = 0; i < sizeof(rbac_cat_options) / sizeof(rbac_cat_options[0]);
         i++)
    {
        if (strcmp(s + (s[0] == '!'), rbac_cat_options[i].name) == 0) {
            p->cond = RBAC_COND_OPT;
            p->cond_neg = (s[0] == '!');
            p->opt = rbac_cat_options[i].bit;
            return RBAC_OK;
        }
    }

    v = NULL;

    if (strncmp(s, "sharing=", 8) == 0) {
        v = s + 8;
        p->cond_neg = 0;

    } else if (strncmp(s, "sharing!=", 9) == 0) {
        v = s + 9;
        p->cond_neg = 1;
    }

    if (v != NULL) {
        for (i = 0; i < RBAC_NSHARE; i++) {
            if (strcmp(v, rbac_cat_shares[i]) == 0) {
                p->cond = RBAC_COND_SHARE;
                p->share = (rbac_share_t) i;
                return RBAC_OK;
            }
        }
    }

    return rbac_err_set(err, RBAC_EINVAL,
                        "%s: unknown condition \"%.64s\"", what, s);
}


static int
rbac_cat_cond_holds(const rbac_cat_perm_t *p, unsigned options,
    rbac_share_t share)
{
    switch (p->cond) {

    case RBAC_COND_OPT:
        return ((options & p->opt) != 0) != p->cond_neg;

    case RBAC_COND_SHARE:
        return (share == p->share) != p->cond_neg;

    default:
        return 1;
    }
}


/* One type name out of a list: declared, not "*". */
static rbac_rc_t
rbac_cat_type(const cJSON *j, const char *what, rbac_type_t *t,
    rbac_err_t *err)
{
    rbac_str_t  s;

    if (!cJSON_IsString(j)) {
        return rbac_err_set(err, RBAC_EINVAL,
                            "%s: resource_type lists hold strings", what);
    }

    if (strcmp(j->valuestring, "*") == 0) {
        return rbac_err_set(err, RBAC_EINVAL,
                            "%s: \"*\" cannot be listed in resource_type",
                            what);
    }

    s.data = j->valuestring;
    s.len = strlen(j->valuestring);
    *t = rbac_type_from_name(s);

    if (*t == RBAC_T_OTHER) {
        return rbac_err_set(err, RBAC_EUNKNOWN,
                            "%s: unknown resource_type \"%.64s\"", what,
                            j->valuestring);
    }

    return RBAC_OK;
}


static rbac_rc_t
rbac_cat_types(const cJSON *j, const char *what, rbac_cat_perm_t *p,
    rbac_err_t *err)
{
    int           t;
    cJSON        *e, *ex;
    rbac_rc_t     rc;
    rbac_type_t   one;

    if (cJSON_IsString(j) && strcmp(j->valuestring, "*") == 0) {
        p->any_type = 1;
        return RBAC_OK;
    }

    if (cJSON_IsString(j)) {
        rc = rbac_cat_type(j, what, &one, err);
        if (rc != RBAC_OK) {
            return rc;
        }

        p->types = RBAC_TBIT(one);
        return RBAC_OK;
    }

    if (cJSON_IsArray(j)) {
        if (j->child == NULL) {
            return rbac_err_set(err, RBAC_EINVAL,
                                "%s: resource_type list is empty", what);
        }

        cJSON_ArrayForEach(e, j) {
            rc = rbac_cat_type(e, what, &one, err);
            if (rc != RBAC_OK) {
                return rc;
            }

            p->types |= RBAC_TBIT(one);
        }

        return RBAC_OK;
    }

    ex = cJSON_IsObject(j)
         ? cJSON_GetObjectItemCaseSensitive(j, "all_except") : NULL;

    if (!cJSON_IsArray(ex) || j->child != ex || ex->next != NULL) {
        return rbac_err_set(err, RBAC_EINVAL,
                            "%s: resource_type must be a name, a list of "
                            "names or {\"all_except\": [names]}", what);
    }

    for (t = 0; t < RBAC_T_OTHER; t++) {
        p->types |= RBAC_TBIT(t);
    }

    cJSON_ArrayForEach(e, ex) {
        rc = rbac_cat_type(e, what, &one, err);
        if (rc != RBAC_OK) {
            return rc;
        }

        p->types &= ~RBAC_TBIT(one);
    }

    return RBAC_OK;
}


/* One action name: declared in the vocabulary, not "*". */
static rbac_rc_t
rbac_cat_action(const cJSON *j, const char *what, rbac_action_t *a,
    rbac_err_t *err)
{
    rbac_str_t  s;

    if (!cJSON_IsString(j)) {
        return rbac_err_set(err, RBAC_EINVAL,
                            "%s: action lists hold strings", what);
    }

    if (strcmp(j->valuestring, "*") == 0) {
        return rbac_err_set(err, RBAC_EINVAL,
                            "%s: \"*\" cannot be listed in action", what);
    }

    s.data = j->valuestring;
    s.len = strlen(j->valuestring);
    *a = rbac_action_from_name(s);

    if (*a == RBAC_A_OTHER) {
        return rbac_err_set(err, RBAC_EUNKNOWN,
                            "%s: unknown action \"%.64s\"", what,
                            j->valuestring);
    }

    return RBAC_OK;
}


static rbac_rc_t
rbac_cat_actions(const cJSON *j, const char *what, rbac_cat_perm_t *p,
    rbac_err_t *err)
{
    cJSON          *e;
    rbac_rc_t       rc;
    rbac_action_t   a;

    if (cJSON_IsString(j) && strcmp(j->valuestring, "*") == 0) {
        p->any_action = 1;
        return RBAC_OK;
    }

    if (cJSON_IsString(j)) {
        rc = rbac_cat_action(j, what, &a, err);
        if (rc != RBAC_OK) {
            return rc;
        }

        p->actions = RBAC_ABIT(a);
        return RBAC_OK;
    }

    if (!cJSON_IsArray(j)) {
        return rbac_err_set(err, RBAC_EINVAL,
                            "%s: action must be a name or a list of names",
                            what);
    }

    if (j->child == NULL) {
        return rbac_err_set(err, RBAC_EINVAL, "%s: action list is empty",
                            what);
    }

    cJSON_ArrayForEach(e, j) {
        rc = rbac_cat_action(e, what, &a, err);
        if (rc != RBAC_OK) {
            return rc;
        }

        p->actions |= RBAC_ABIT(a);
    }

    return RBAC_OK;
}


/* Every listed action must be declared for every listed type. */
static rbac_rc_t
rbac_cat_declared(const rbac_cat_perm_t *p, const char *what,
    rbac_err_t *err)
{
    int            t, a;
    rbac_amask_t   extra;

    if (p->any_type || p->any_action) {
        return RBAC_OK;
    }

    for (t = 0; t < RBAC_T_OTHER; t++) {
        if (!(p->types & RBAC_TBIT(t))) {
            continue;
        }

        extra = p->actions & ~rbac_type_actions((rbac_type_t) t);
        if (extra == 0) {
            continue;
        }

        for (a = 0; !(extra & RBAC_ABIT(a)); a++) {
            /* void */
        }

        return rbac_err_set(err, RBAC_EINVAL,
                            "%s: action \"%s\" is not declared for "
                            "resource_type \"%s\"", what,
                            rbac_action_name((rbac_action_t) a),
                            rbac_type_name((rbac_type_t) t));
    }

    return RBAC_OK;
}


static rbac_rc_t
rbac_cat_perm(const cJSON *j, const char *what, int allow_when,
    rbac_cat_perm_t *p, rbac_err_t *err)
{
    cJSON      *k, *rt, *ac, *ng, *wh;
    rbac_rc_t   rc;

    memset(p, 0, sizeof(*p));

    if (!cJSON_IsObject(j)) {
        return rbac_err_set(err, RBAC_EINVAL, "%s: not an object", what);
    }

    for (k = j->child; k != NULL; k = k->next) {
        if (strcmp(k->string, "resource_type") != 0
            && strcmp(k->string, "action") != 0
            && strcmp(k->string, "negate") != 0
            && strcmp(k->string, "when") != 0
            && strcmp(k->string, "comment") != 0)
        {
            return rbac_err_set(err, RBAC_EINVAL,
                                "%s: unknown field \"%.64s\"", what,
                                k->string);
        }
    }

    rt = cJSON_GetObjectItemCaseSensitive(j, "resource_type");
    ac = cJSON_GetObjectItemCaseSensitive(j, "action");
    ng = cJSON_GetObjectItemCaseSensitive(j, "negate");
    wh = cJSON_GetObjectItemCaseSensitive(j, "when");

    if (rt == NULL || ac == NULL) {
        return rbac_err_set(err, RBAC_EINVAL,
                            "%s: resource_type and action are required",
                            what);
    }

    rc = rbac_cat_types(rt, what, p, err);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_cat_actions(ac, what, p, err);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_cat_declared(p, what, err);
    if (rc != RBAC_OK) {
        return rc;
    }

    if (ng != NULL && !cJSON_IsBool(ng)) {
        return rbac_err_set(err, RBAC_EINVAL, "%s: negate must be a boolean",
                            what);
    }

    p->negate = cJSON_IsTrue(ng);

    if (wh != NULL) {
        if (!allow_when) {
            return rbac_err_set(err, RBAC_EINVAL,
                                "%s: \"when\" is not allowed here", what);
        }

        rc = rbac_cat_cond(wh, what, p, err);
        if (rc != RBAC_OK) {
            return rc;
        }
    }

    return RBAC_OK;
}


/* Adds a parsed PERM to a permset, one (type, action) at a time. */
static void
rbac_cat_perm_add(const rbac_cat_perm_t *cp, rbac_permset_t *ps)
{
    int          t, a;
    rbac_perm_t  p;

    memset(&p, 0, sizeof(p));
    p.negate = cp->negate;
    p.any_type = cp->any_type;
    p.any_action = cp->any_action;
    p.type = RBAC_T_OTHER;
    p.action = RBAC_A_OTHER;

    for (t = 0; t < RBAC_T_OTHER; t++) {
        if (!cp->any_type) {
            if (!(cp->types & RBAC_TBIT(t))) {
                continue;
            }

            p.type = (rbac_type_t) t;
        }

        if (cp->any_action) {
            rbac_permset_add(ps, &p);

        } else {
            for (a = 0; a < RBAC_NACTIONS; a++) {
                if (cp->actions & RBAC_ABIT(a)) {
                    p.action = (rbac_action_t) a;
                    rbac_permset_add(ps, &p);
                }
            }
        }

        if (cp->any_type) {
            break;      /* one pass sets every type */
        }
    }
}


rbac_rc_t
rbac_cat_perms(const cJSON *list, const char *who, const char *level,
    int allow_when, rbac_permset_t *ps, unsigned options, rbac_share_t share,
    unsigned *deps, rbac_err_t *err)
{
    char              what[RBAC_ERR_LEN];
    unsigned          i;
    cJSON            *j;
    rbac_rc_t         rc;
    rbac_cat_perm_t   p;

    if (list == NULL) {
        return RBAC_OK;
    }

    if (!cJSON_IsArray(list)) {
        return rbac_err_set(err, RBAC_EINVAL,
                            "%s: %s permissions must be an array", who, level);
    }

    i = 0;

    cJSON_ArrayForEach(j, list) {
        if (++i > RBAC_MAX_LIST) {
            return rbac_err_set(err, RBAC_EBOUND,
                                "%s: more than %d %s permissions", who,
                                RBAC_MAX_LIST, level);
        }

        snprintf(what, sizeof(what), "%s: %s permission %u", who, level, i);

        rc = rbac_cat_perm(j, what, allow_when, &p, err);
        if (rc != RBAC_OK) {
            return rc;
        }

        if (ps == NULL) {
            if (deps != NULL) {
                *deps |= (p.cond == RBAC_COND_OPT) ? RBAC_CAT_DEP_OPT
                         : (p.cond == RBAC_COND_SHARE) ? RBAC_CAT_DEP_SHARE
                         : 0;
            }

            continue;
        }

        if (rbac_cat_cond_holds(&p, options, share)) {
            rbac_cat_perm_add(&p, ps);
        }
    }

    return RBAC_OK;
}


uint32_t
rbac_cat_nvariants(unsigned flags)
{
    return ((flags & RBAC_CAT_DEP_OPT) ? RBAC_OPT_ALL + 1 : 1)
           * ((flags & RBAC_CAT_DEP_SHARE) ? RBAC_NSHARE : 1);
}


uint32_t
rbac_cat_variant(unsigned flags, unsigned options, rbac_share_t share)
{
    uint32_t  v;

    v = (flags & RBAC_CAT_DEP_OPT) ? (options & RBAC_OPT_ALL) : 0;

    if (flags & RBAC_CAT_DEP_SHARE) {
        v = v * RBAC_NSHARE + (uint32_t) share;
    }

    return v;
}


int
rbac_cat_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int     c;
    size_t  n;

    n = alen < blen ? alen : blen;

    if (n > 0) {
        c = memcmp(a, b, n);
        if (c != 0) {
            return c;
        }
    }

    return (alen > blen) - (alen < blen);
}
