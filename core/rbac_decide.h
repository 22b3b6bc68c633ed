/*
 * rbac_decide.h: the decision.  rbac_decide(subject, object, action) answers
 * allow or deny exactly as docs/authorization.md §2 says, with the reason, and
 * allocates nothing.
 *
 * Subject and object are views: arrays and strings the caller owns (records
 * parsed from Redis, a decision request, a cache entry).  Roles in a subject
 * are already resolved to compiled roles (the caller picked the catalog
 * variant for the options and the org's sharing mode, or a custom role); a
 * name that resolved to nothing is simply absent, as in Coder.
 */

#ifndef RBAC_DECIDE_H
#define RBAC_DECIDE_H

#include "rbac_role.h"


typedef enum {
    RBAC_KIND_USER = 0,
    RBAC_KIND_SERVICE_ACCOUNT,
    RBAC_KIND_PROVISIONER
} rbac_kind_t;

typedef enum {
    RBAC_STATUS_ACTIVE = 0,
    RBAC_STATUS_SUSPENDED,
    RBAC_STATUS_DORMANT
} rbac_status_t;

/* One org of a subject: membership, and the roles held there. */
typedef struct {
    rbac_str_t                 org;
    const rbac_role_t *const  *roles;
    size_t                     nroles;
} rbac_subject_org_t;

typedef struct {
    rbac_str_t                 id;
    rbac_kind_t                kind;
    rbac_status_t              status;
    const rbac_role_t *const  *site_roles;  /* site + user levels only */
    size_t                     nsite_roles;
    const rbac_subject_org_t  *orgs;        /* all four levels, per org */
    size_t                     norgs;
    const rbac_str_t          *groups;
    size_t                     ngroups;
    const rbac_scope_t        *scope;       /* NULL = all */
    const rbac_allow_t        *token_allow; /* the token's own allow list, */
    size_t                     ntoken_allow;/* 0 = no restriction */
} rbac_subject_t;


/* An ACL entry: a user or group id and the actions it grants. */
typedef struct {
    rbac_str_t     id;
    rbac_amask_t   actions;     /* role names already expanded */
} rbac_acl_entry_t;

typedef struct {
    rbac_type_t              type;
    rbac_str_t               type_name;     /* as given, for reasons */
    rbac_str_t               id;
    rbac_str_t               org;           /* "" = none */
    rbac_str_t               owner;         /* "" = none */
    const rbac_acl_entry_t  *acl_users;
    size_t                   nacl_users;
    const rbac_acl_entry_t  *acl_groups;
    size_t                   nacl_groups;
    uint8_t                  any_org;
    uint8_t                  deprecated;
    rbac_str_t               deprecated_message;
    rbac_str_t               deprecated_link;
} rbac_object_t;

/*
 * Expands an ACL entry's role name for an object type
 * (docs/authorization.md §6):
 * workspace use/admin, template use/admin.  0 for anything else.
 */
rbac_amask_t rbac_acl_role_actions(rbac_type_t t, rbac_str_t role);


/* What decided, for the reason string and for `--explain`. */
typedef enum {
    RBAC_BY_NONE = 0,           /* nothing granted */
    RBAC_BY_ROLE,               /* a role at `level` */
    RBAC_BY_ACL_USER,
    RBAC_BY_ACL_GROUP,
    RBAC_BY_ACL_EVERYONE,
    RBAC_BY_SCOPE,              /* the scope does not grant */
    RBAC_BY_ALLOW_LIST,         /* the object is not in the scope's list */
    RBAC_BY_STATUS,             /* suspended or dormant subject */
    RBAC_BY_DEPRECATED,         /* template:use on a deprecated template */
    RBAC_BY_TOKEN_ALLOW_LIST    /* the object is not in the token's list */
} rbac_by_t;

typedef struct {
    int                 allow;
    rbac_by_t           by;
    rbac_level_t        level;      /* RBAC_BY_ROLE */
    int                 negated;    /* a negation decided */
    const rbac_role_t  *role;       /* RBAC_BY_ROLE */
    rbac_str_t          org;        /* org of an org/member-level role */
    rbac_str_t          acl_id;     /* RBAC_BY_ACL_* */
    rbac_type_t         type;
    rbac_action_t       action;
} rbac_decision_t;

/*
 * Decides.  Never allocates, never fails: every input decides.
 */
void rbac_decide(const rbac_subject_t *s, const rbac_object_t *o,
    rbac_action_t action, rbac_decision_t *d);

/*
 * Writes the reason ("site role owner grants workspace:read", "no role or
 * acl grants workspace:delete", "account suspended", ...) into buf, always
 * NUL-terminated; returns its length.
 */
size_t rbac_decision_reason(const rbac_decision_t *d, const rbac_subject_t *s,
    const rbac_object_t *o, char *buf, size_t size);


#endif /* RBAC_DECIDE_H */
