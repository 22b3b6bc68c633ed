/*
 * rbac_scope.c: expanding scope names (docs/authorization.md §9) into an
 * rbac_scope_t: the catalog's named scopes and aliases, and the low-level
 * "resource:action" / "resource:*" scopes.
 */

#include <stdlib.h>
#include <string.h>

#include "rbac_catalog_int.h"


static int
rbac_scope_name_find(const void *key, const void *elt)
{
    const rbac_str_t        *k = key;
    const rbac_cat_sname_t  *e = elt;

    return rbac_cat_cmp(k->data, k->len, e->name, e->len);
}


static int
rbac_allow_eq(const rbac_allow_t *a, const rbac_allow_t *b)
{
    if (a->any_type != b->any_type || a->any_id != b->any_id) {
        return 0;
    }

    if (!a->any_type && a->type != b->type) {
        return 0;
    }

    return a->any_id || strcmp(a->id, b->id) == 0;
}


/*
 * Unions site, user and allow list into `scope`; the allow list gains the
 * entries it does not hold yet.  Leaves `scope` untouched on RBAC_EBOUND.
 */
static rbac_rc_t
rbac_scope_union(rbac_scope_t *scope, rbac_str_t name,
    const rbac_permset_t *site, const rbac_permset_t *user,
    const rbac_allow_t *allow, uint32_t nallow, rbac_err_t *err)
{
    size_t    have, n;
    uint32_t  i, j, fresh;

    fresh = 0;

    for (i = 0; i < nallow; i++) {
        for (j = 0; j < scope->nallow; j++) {
            if (rbac_allow_eq(&scope->allow[j], &allow[i])) {
                break;
            }
        }

        fresh += (j == scope->nallow);
    }

    if (scope->nallow + fresh > RBAC_SCOPE_MAX_ALLOW) {
        return rbac_err_set(err, RBAC_EBOUND,
                            "scope %.*s: more than %d allow-list entries",
                            (int) (name.len > 64 ? 64 : name.len), name.data,
                            RBAC_SCOPE_MAX_ALLOW);
    }

    for (i = 0; i < nallow; i++) {
        for (j = 0; j < scope->nallow; j++) {
            if (rbac_allow_eq(&scope->allow[j], &allow[i])) {
                break;
            }
        }

        if (j == scope->nallow) {
            scope->allow[scope->nallow++] = allow[i];
        }
    }

    rbac_permset_union(&scope->site, site);
    rbac_permset_union(&scope->user, user);

    /* The name, for reasons: "a", then "a,b" while it fits. */
    have = strlen(scope->name);
    n = name.len + (have > 0);

    if (have + n <= RBAC_MAX_NAME) {
        if (have > 0) {
            scope->name[have++] = ',';
        }

        memcpy(scope->name + have, name.data, name.len);
        scope->name[have + name.len] = '\0';
    }

    return RBAC_OK;
}


/* "resource:action" or "resource:*": one site permission, allow *:*. */
static rbac_rc_t
rbac_scope_low_level(rbac_str_t name, rbac_scope_t *scope, rbac_err_t *err)
{
    size_t          i;
    rbac_str_t      rs, as;
    rbac_perm_t     p;
    rbac_allow_t    all;
    rbac_permset_t  site, none;

    if (name.len == 0) {
        return rbac_err_set(err, RBAC_EUNKNOWN, "empty scope name");
    }

    for (i = 0; i < name.len && name.data[i] != ':'; i++) {
        /* void */
    }

    if (i == name.len) {
        goto unknown;
    }

    rs.data = name.data;
    rs.len = i;
    as.data = name.data + i + 1;
    as.len = name.len - i - 1;

    memset(&p, 0, sizeof(p));
    p.type = rbac_type_from_name(rs);

    if (p.type == RBAC_T_OTHER) {
        goto unknown;
    }

    if (rbac_str_eq_cstr(as, "*")) {
        p.any_action = 1;
        p.action = RBAC_A_OTHER;

    } else {
        p.action = rbac_action_from_name(as);

        if (p.action == RBAC_A_OTHER
            || !(rbac_type_actions(p.type) & RBAC_ABIT(p.action)))
        {
            goto unknown;
        }
    }

    memset(&site, 0, sizeof(site));
    memset(&none, 0, sizeof(none));
    rbac_permset_add(&site, &p);

    memset(&all, 0, sizeof(all));
    all.type = RBAC_T_OTHER;
    all.any_type = 1;
    all.any_id = 1;

    return rbac_scope_union(scope, name, &site, &none, &all, 1, err);

unknown:

    return rbac_err_set(err, RBAC_EUNKNOWN, "unknown scope \"%.*s\"",
                        (int) (name.len > 64 ? 64 : name.len), name.data);
}


rbac_rc_t
rbac_catalog_scope_add(const rbac_catalog_t *cat, rbac_str_t name,
    rbac_scope_t *scope, rbac_err_t *err)
{
    const rbac_cat_scope_t  *sc;
    const rbac_cat_sname_t  *sn;

    sn = NULL;

    if (cat != NULL && name.len > 0 && name.len <= RBAC_MAX_NAME) {
        sn = bsearch(&name, cat->snames, cat->nsnames,
                     sizeof(rbac_cat_sname_t), rbac_scope_name_find);
    }

    if (sn == NULL) {
        return rbac_scope_low_level(name, scope, err);
    }

    sc = &cat->scopes[sn->scope];

    return rbac_scope_union(scope, name, &sc->site, &sc->user, sc->allow,
                            sc->nallow, err);
}
