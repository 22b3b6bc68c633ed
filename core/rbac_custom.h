/*
 * rbac_custom.h: validation of custom roles before rbacctl writes them
 * (docs/authorization.md §8).
 *
 * Rules, each refused with its own code and a message naming the field:
 *   name      1-32 bytes of [a-z0-9] with single hyphens inside (Coder's
 *             username rule, lower case only: built-in names are lower
 *             case and role names are compared byte for byte)  RBAC_EINVAL
 *             not a built-in, system or reserved name          RBAC_ERESERVED
 *   levels    an org role (organization_id set) holds only organization
 *             and organization_member permissions; a site role only site
 *             and user permissions                             RBAC_EINVAL
 *   perms     no negation, no "*" resource type or action      RBAC_EINVAL
 *             every (type, action) declared for the type       RBAC_EUNKNOWN
 *   author    anti-escalation: the actor must itself be allowed every
 * permission it grants, by rbac_decide:            RBAC_EESCALATION
 *               organization perm  {type, org = the role's org}
 *               member perm        {type, org, owner = actor}
 *               site perm          {type} (no org)
 *               user perm          {type, owner = actor}
 */

#ifndef RBAC_CUSTOM_H
#define RBAC_CUSTOM_H

#include "rbac_record.h"


/* The name rule alone (format, then reserved names when cat is set). */
rbac_rc_t rbac_custom_check_name(const rbac_catalog_t *cat, rbac_str_t name,
    rbac_err_t *err);

/*
 * Checks a custom role given as its parts: `org` "" for a site role, the
 * permissions as written (level + perm, in list order).  actor NULL skips
 * the anti-escalation rule (a deployment operator writing directly).
 */
rbac_rc_t rbac_custom_check_perms(const rbac_catalog_t *cat, rbac_str_t name,
    rbac_str_t org, const rbac_role_perm_t *perms, size_t nperms,
    const rbac_subject_t *actor, rbac_err_t *err);

/* The same for a parsed RBAC_REC_ROLE / RBAC_REC_SITEROLE record. */
rbac_rc_t rbac_custom_check(const rbac_role_rec_t *rec,
    const rbac_catalog_t *cat, const rbac_subject_t *actor,
    rbac_err_t *err);


#endif /* RBAC_CUSTOM_H */
