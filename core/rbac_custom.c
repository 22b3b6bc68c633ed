/*
 * rbac_custom.c: custom-role validation (rules in rbac_custom.h): name
 * format and reserved names, levels per role kind, no negation or
 * wildcard, declared (type, action) pairs, and anti-escalation through
 * rbac_decide.
 */

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "rbac_custom.h"


#define RBAC_CUSTOM_NAME_MAX  32

/* The JSON list each level is written in (docs/records.md §2). */
static const char  *rbac_custom_lists[RBAC_NLEVELS] = {
    "site_permissions",
    "user_permissions",
    "organization_permissions",
    "organization_member_permissions"
};


#define rbac_cpl(s)  (int) ((s).len > 64 ? 64 : (s).len), (s).data


rbac_rc_t
rbac_custom_check_name(const rbac_catalog_t *cat, rbac_str_t name,
    rbac_err_t *err)
{
    char    c;
    size_t  i;

    assert(name.data != NULL || name.len == 0);

    if (name.len == 0) {
        return rbac_err_set(err, RBAC_EINVAL, "name: must not be empty");
    }

    if (name.len > RBAC_CUSTOM_NAME_MAX) {
        return rbac_err_set(err, RBAC_EINVAL,
                            "name: \"%.*s\" is longer than %d characters",
                            rbac_cpl(name), RBAC_CUSTOM_NAME_MAX);
    }

    for (i = 0; i < name.len; i++) {
        c = name.data[i];

        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            continue;
        }

        if (c == '-' && i > 0 && i + 1 < name.len && name.data[i - 1] != '-')
        {
            continue;
        }

        return rbac_err_set(err, RBAC_EINVAL,
                            "name: \"%.*s\" must be lower-case letters and "
                            "digits with single hyphens inside",
                            rbac_cpl(name));
    }

    if (cat != NULL && rbac_catalog_reserved(cat, name)) {
        return rbac_err_set(err, RBAC_ERESERVED,
                            "name: \"%.*s\" is a built-in or reserved role "
                            "name", rbac_cpl(name));
    }

    return RBAC_OK;
}


/* The static rules for one permission; `f` names it. */
static rbac_rc_t
rbac_custom_perm(int org_role, const rbac_role_perm_t *rp, const char *f,
    rbac_err_t *err)
{
    const rbac_perm_t  *p;

    p = &rp->perm;

    if (rp->level >= RBAC_NLEVELS) {
        return rbac_err_set(err, RBAC_EINVAL, "%s: unknown level", f);
    }

    if (org_role
        && (rp->level == RBAC_LVL_SITE || rp->level == RBAC_LVL_USER))
    {
        return rbac_err_set(err, RBAC_EINVAL,
                            "%s: organization roles may hold only "
                            "organization and organization member "
                            "permissions", f);
    }

    if (!org_role
        && (rp->level == RBAC_LVL_ORG || rp->level == RBAC_LVL_MEMBER))
    {
        return rbac_err_set(err, RBAC_EINVAL,
                            "%s: organization permissions need an "
                            "organization_id; site roles may hold only site "
                            "and user permissions", f);
    }

    if (p->negate) {
        return rbac_err_set(err, RBAC_EINVAL,
                            "%s: negation is not allowed in custom roles", f);
    }

    if (p->any_type) {
        return rbac_err_set(err, RBAC_EINVAL,
                            "%s: wildcard resource_type \"*\" is not "
                            "allowed in custom roles", f);
    }

    if (p->any_action) {
        return rbac_err_set(err, RBAC_EINVAL,
                            "%s: wildcard action \"*\" is not allowed in "
                            "custom roles", f);
    }

    if ((unsigned) p->type >= RBAC_T_OTHER
        || (unsigned) p->action >= RBAC_NACTIONS
        || !(rbac_type_actions(p->type) & RBAC_ABIT(p->action)))
    {
        return rbac_err_set(err, RBAC_EUNKNOWN,
                            "%s: %s is not an action of %s", f,
                            rbac_action_name(p->action),
                            rbac_type_name(p->type));
    }

    return RBAC_OK;
}


/* Anti-escalation for one permission: the actor must hold it. */
static rbac_rc_t
rbac_custom_author(const rbac_subject_t *actor, rbac_str_t org,
    const rbac_role_perm_t *rp, const char *f, rbac_err_t *err)
{
    char             why[160];
    rbac_object_t    o;
    rbac_decision_t  d;

    memset(&o, 0, sizeof(o));
    o.type = rp->perm.type;
    o.type_name.data = rbac_type_name(o.type);
    o.type_name.len = strlen(o.type_name.data);
    o.id.data = "";
    o.org.data = "";
    o.owner.data = "";

    if (rp->level == RBAC_LVL_ORG || rp->level == RBAC_LVL_MEMBER) {
        o.org = org;
    }

    if (rp->level == RBAC_LVL_USER || rp->level == RBAC_LVL_MEMBER) {
        o.owner = actor->id;
    }

    rbac_decide(actor, &o, rp->perm.action, &d);

    if (d.allow) {
        return RBAC_OK;
    }

    rbac_decision_reason(&d, actor, &o, why, sizeof(why));

    return rbac_err_set(err, RBAC_EESCALATION,
                        "%s: cannot grant %s:%s that the author does not "
                        "hold (%s)", f, rbac_type_name(rp->perm.type),
                        rbac_action_name(rp->perm.action), why);
}


/* "organization_permissions[2]" for perms[i]: its index in its list. */
static void
rbac_custom_field(const rbac_role_perm_t *perms, size_t i, char *f,
    size_t size)
{
    size_t  j, k;

    k = 0;

    for (j = 0; j < i; j++) {
        k += (perms[j].level == perms[i].level);
    }

    if (perms[i].level < RBAC_NLEVELS) {
        snprintf(f, size, "%s[%zu]", rbac_custom_lists[perms[i].level], k);

    } else {
        snprintf(f, size, "permission %zu", i);
    }
}


rbac_rc_t
rbac_custom_check_perms(const rbac_catalog_t *cat, rbac_str_t name,
    rbac_str_t org, const rbac_role_perm_t *perms, size_t nperms,
    const rbac_subject_t *actor, rbac_err_t *err)
{
    char       f[64];
    size_t     i;
    rbac_rc_t  rc;

    assert(perms != NULL || nperms == 0);
    assert(org.data != NULL || org.len == 0);

    rc = rbac_custom_check_name(cat, name, err);
    if (rc != RBAC_OK) {
        return rc;
    }

    if (org.len > RBAC_MAX_NAME) {
        return rbac_err_set(err, RBAC_EINVAL,
                            "organization_id: longer than %d bytes",
                            RBAC_MAX_NAME);
    }

    for (i = 0; i < nperms; i++) {
        rbac_custom_field(perms, i, f, sizeof(f));

        rc = rbac_custom_perm(org.len > 0, &perms[i], f, err);
        if (rc != RBAC_OK) {
            return rc;
        }
    }

    if (actor == NULL) {
        return RBAC_OK;
    }

    for (i = 0; i < nperms; i++) {
        rbac_custom_field(perms, i, f, sizeof(f));

        rc = rbac_custom_author(actor, org, &perms[i], f, err);
        if (rc != RBAC_OK) {
            return rc;
        }
    }

    return RBAC_OK;
}


rbac_rc_t
rbac_custom_check(const rbac_role_rec_t *rec, const rbac_catalog_t *cat,
    const rbac_subject_t *actor, rbac_err_t *err)
{
    rbac_str_t  name, org;

    assert(rec != NULL);

    name.data = rec->role.name;
    name.len = strnlen(rec->role.name, sizeof(rec->role.name));
    org = rbac_ref(rec, rec->org);

    if (rec->hdr.type == RBAC_REC_ROLE && org.len == 0) {
        return rbac_err_set(err, RBAC_EINVAL,
                            "organization_id: organization roles need one");
    }

    if (rec->hdr.type != RBAC_REC_ROLE && org.len > 0) {
        return rbac_err_set(err, RBAC_EINVAL,
                            "organization_id: site roles have none");
    }

    return rbac_custom_check_perms(cat, name, org,
                                   rbac_rec_at(rec, rec->perms,
                                               rbac_role_perm_t),
                                   rec->perms.n, actor, err);
}
