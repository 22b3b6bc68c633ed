/*
 * rbac_perm.c: permissions and permsets: compiling a permission into the
 * per-type action masks, voting, and reading the permission's JSON form.
 */

#include <assert.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rbac_role.h"


void
rbac_permset_add(rbac_permset_t *ps, const rbac_perm_t *p)
{
    int            t;
    rbac_amask_t   m, *dst;

    assert(ps != NULL && p != NULL);
    assert(p->any_type || (unsigned) p->type < RBAC_NTYPES);
    assert(p->any_action || (unsigned) p->action <= RBAC_A_OTHER);

    m = p->any_action ? RBAC_AMASK_ALL : RBAC_ABIT(p->action);
    dst = p->negate ? ps->neg : ps->pos;

    if (p->any_type) {
        for (t = 0; t < RBAC_NTYPES; t++) {
            dst[t] |= m;
        }

        return;
    }

    dst[p->type] |= m;
}


void
rbac_permset_union(rbac_permset_t *dst, const rbac_permset_t *src)
{
    int  t;

    assert(dst != NULL && src != NULL);

    for (t = 0; t < RBAC_NTYPES; t++) {
        dst->pos[t] |= src->pos[t];
        dst->neg[t] |= src->neg[t];
    }
}


int
rbac_permset_vote(const rbac_permset_t *ps, rbac_type_t t, rbac_action_t a)
{
    rbac_amask_t  bit;

    assert(ps != NULL);
    assert((unsigned) t < RBAC_NTYPES);
    assert((unsigned) a <= RBAC_A_OTHER);

    bit = RBAC_ABIT(a);

    if (ps->neg[t] & bit) {
        return -1;
    }

    return (ps->pos[t] & bit) ? 1 : 0;
}


rbac_rc_t
rbac_perm_from_json(const cJSON *j, rbac_perm_t *p, const char *what,
    rbac_err_t *err)
{
    cJSON       *rt, *ac, *ng;
    rbac_str_t   s;

    assert(p != NULL && what != NULL);

    memset(p, 0, sizeof(*p));

    if (!cJSON_IsObject(j)) {
        return rbac_err_set(err, RBAC_EINVAL, "%s: not an object", what);
    }

    rt = cJSON_GetObjectItemCaseSensitive(j, "resource_type");
    ac = cJSON_GetObjectItemCaseSensitive(j, "action");
    ng = cJSON_GetObjectItemCaseSensitive(j, "negate");

    if (!cJSON_IsString(rt) || !cJSON_IsString(ac)) {
        return rbac_err_set(err, RBAC_EINVAL,
                            "%s: resource_type and action must be strings",
                            what);
    }

    if (ng != NULL && !cJSON_IsBool(ng)) {
        return rbac_err_set(err, RBAC_EINVAL, "%s: negate must be a boolean",
                            what);
    }

    p->negate = cJSON_IsTrue(ng);

    if (strcmp(rt->valuestring, "*") == 0) {
        p->any_type = 1;
        p->type = RBAC_T_OTHER;

    } else {
        s.data = rt->valuestring;
        s.len = strlen(rt->valuestring);
        p->type = rbac_type_from_name(s);

        if (p->type == RBAC_T_OTHER) {
            return rbac_err_set(err, RBAC_EUNKNOWN,
                                "%s: unknown resource_type \"%.64s\"", what,
                                rt->valuestring);
        }
    }

    if (strcmp(ac->valuestring, "*") == 0) {
        p->any_action = 1;
        p->action = RBAC_A_OTHER;

    } else {
        s.data = ac->valuestring;
        s.len = strlen(ac->valuestring);
        p->action = rbac_action_from_name(s);

        if (p->action == RBAC_A_OTHER) {
            return rbac_err_set(err, RBAC_EUNKNOWN,
                                "%s: unknown action \"%.64s\"", what,
                                ac->valuestring);
        }
    }

    return RBAC_OK;
}
