/*
 * rbac_names.c: name <-> id tables for resource types and actions, built
 * from the X-macros of rbac_names.h.
 */

#include <string.h>

#include "rbac_names.h"


static const char  *rbac_action_names[RBAC_NACTIONS] = {
#define RBAC_X(id, name)  name,
    RBAC_ACTIONS(RBAC_X)
#undef RBAC_X
};

static const char  *rbac_type_names[RBAC_T_OTHER] = {
#define RBAC_X(id, name, actions)  name,
    RBAC_TYPES(RBAC_X)
#undef RBAC_X
};

static const rbac_amask_t  rbac_type_action_masks[RBAC_T_OTHER] = {
#define RBAC_X(id, name, actions)  (actions),
    RBAC_TYPES(RBAC_X)
#undef RBAC_X
};


rbac_action_t
rbac_action_from_name(rbac_str_t name)
{
    int  i;

    for (i = 0; i < RBAC_NACTIONS; i++) {
        if (rbac_str_eq_cstr(name, rbac_action_names[i])) {
            return (rbac_action_t) i;
        }
    }

    return RBAC_A_OTHER;
}


rbac_type_t
rbac_type_from_name(rbac_str_t name)
{
    int  i;

    for (i = 0; i < RBAC_T_OTHER; i++) {
        if (rbac_str_eq_cstr(name, rbac_type_names[i])) {
            return (rbac_type_t) i;
        }
    }

    return RBAC_T_OTHER;
}


const char *
rbac_action_name(rbac_action_t a)
{
    if ((unsigned) a >= RBAC_NACTIONS) {
        return "other";
    }

    return rbac_action_names[a];
}


const char *
rbac_type_name(rbac_type_t t)
{
    if ((unsigned) t >= RBAC_T_OTHER) {
        return "other";
    }

    return rbac_type_names[t];
}


rbac_amask_t
rbac_type_actions(rbac_type_t t)
{
    if ((unsigned) t >= RBAC_T_OTHER) {
        return 0;
    }

    return rbac_type_action_masks[t];
}
