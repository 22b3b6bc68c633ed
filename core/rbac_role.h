/*
 * rbac_role.h: compiled roles, scopes and the role catalog.
 *
 * A permission list is compiled once, at load time, into a permset: for each
 * resource type, the mask of actions granted and the mask of actions negated.
 * A "*" resource sets every type including RBAC_T_OTHER; a "*" action sets
 * every bit including RBAC_A_OTHER.  Voting on (type, action) is then two
 * AND operations per role and level.
 *
 * rbac_role_t and rbac_scope_t hold no pointers: they can be copied with
 * memcpy (into a shared-memory cache, say) and used where they land.
 */

#ifndef RBAC_ROLE_H
#define RBAC_ROLE_H

#include "rbac_names.h"


typedef struct {
    rbac_amask_t  pos[RBAC_NTYPES];
    rbac_amask_t  neg[RBAC_NTYPES];
} rbac_permset_t;

/* The four levels of docs/authorization.md §2. */
typedef enum {
    RBAC_LVL_SITE = 0,
    RBAC_LVL_USER,
    RBAC_LVL_ORG,
    RBAC_LVL_MEMBER,
    RBAC_NLEVELS
} rbac_level_t;

typedef enum {
    RBAC_ROLE_SITE = 0,         /* built-in or custom site role */
    RBAC_ROLE_ORG               /* built-in, system or custom org role */
} rbac_role_kind_t;

typedef struct {
    char              name[RBAC_MAX_NAME + 1];      /* NUL-terminated */
    char              display_name[RBAC_MAX_NAME + 1];
    uint8_t           kind;                         /* rbac_role_kind_t */
    uint8_t           builtin;
    rbac_permset_t    lvl[RBAC_NLEVELS];
} rbac_role_t;


/* One permission as written in JSON: {"resource_type","action","negate"}. */
typedef struct {
    rbac_type_t   type;         /* RBAC_T_OTHER with any_type for "*" */
    rbac_action_t action;       /* meaningless when any_action */
    uint8_t       any_type;
    uint8_t       any_action;
    uint8_t       negate;
} rbac_perm_t;

void rbac_permset_add(rbac_permset_t *ps, const rbac_perm_t *p);

/* dst |= src, for both masks: the union of two permission lists. */
void rbac_permset_union(rbac_permset_t *dst, const rbac_permset_t *src);

/*
 * Parses one {"resource_type","action","negate"} object ("*" allowed in
 * both names).  A missing or non-string name is RBAC_EINVAL, a name outside
 * the vocabulary RBAC_EUNKNOWN; err->msg starts with `what` (such as
 * "role owner: site permission 3").
 */
struct cJSON;
rbac_rc_t rbac_perm_from_json(const struct cJSON *j, rbac_perm_t *p,
    const char *what, rbac_err_t *err);

/*
 * Vote of one permset on (type, action): -1 negated, +1 granted, 0 abstain.
 */
int rbac_permset_vote(const rbac_permset_t *ps, rbac_type_t t,
    rbac_action_t a);


/*
 * Deployment options (rbac:deployment) and org sharing modes (rbac:org:<id>
 * shareable_workspace_owners).  Built-in roles may depend on both; the
 * catalog compiles one variant per combination.
 */
#define RBAC_OPT_NO_OWNER_WORKSPACE_EXEC  0x1
#define RBAC_OPT_NO_WORKSPACE_SHARING     0x2
#define RBAC_OPT_NO_CHAT_SHARING          0x4
#define RBAC_OPT_ALL                      0x7

typedef enum {
    RBAC_SHARE_EVERYONE = 0,
    RBAC_SHARE_SERVICE_ACCOUNTS,
    RBAC_SHARE_NONE,
    RBAC_NSHARE
} rbac_share_t;


/*
 * A scope (docs/authorization.md §9): site and user permsets, optional per-org
 * permsets (only scope objects of decision requests have them), and an
 * allow list.  A token's scopes are unioned into one rbac_scope_t; its own
 * allow_list (rbac:token:<id>) is kept apart and intersected at decision
 * time.
 */
#define RBAC_SCOPE_MAX_ALLOW  16
#define RBAC_SCOPE_MAX_ORGS   4

typedef struct {
    rbac_type_t   type;                 /* ignored when any_type */
    uint8_t       any_type;
    uint8_t       any_id;
    char          id[RBAC_MAX_NAME + 1];
} rbac_allow_t;

typedef struct {
    char              org[RBAC_MAX_NAME + 1];
    rbac_permset_t    org_ps;
    rbac_permset_t    member_ps;
} rbac_scope_org_t;

typedef struct {
    char              name[RBAC_MAX_NAME + 1];  /* for reasons */
    rbac_permset_t    site;
    rbac_permset_t    user;
    uint32_t          norgs;
    rbac_scope_org_t  orgs[RBAC_SCOPE_MAX_ORGS];
    uint32_t          nallow;                   /* 0 = nothing allowed */
    rbac_allow_t      allow[RBAC_SCOPE_MAX_ALLOW];
} rbac_scope_t;


/*
 * The catalog: built-in roles (with their option and sharing variants),
 * reserved names and the named scopes, loaded from JSON
 * (conf-examples/roles/coder.json, embedded at build time).
 */
typedef struct rbac_catalog_s  rbac_catalog_t;

/* The embedded catalog's bytes (generated from conf-examples/roles). */
extern const unsigned char  rbac_builtin_catalog[];
extern const size_t         rbac_builtin_catalog_len;

/*
 * Parses and validates a catalog.  Unknown resource or action names are
 * RBAC_EUNKNOWN with err->msg naming the role and the permission.  The
 * result is one allocation from `a`; free it with rbac_catalog_free.
 */
rbac_rc_t rbac_catalog_load(const char *json, size_t len,
    const rbac_allocator_t *a, rbac_catalog_t **out, rbac_err_t *err);
void rbac_catalog_free(rbac_catalog_t *cat, const rbac_allocator_t *a);

/*
 * The built-in role `name` for the given options and sharing mode, or NULL.
 * Reserved-but-empty names (retired roles, placeholders) return NULL too:
 * they contribute nothing.  The pointer lives as long as the catalog.
 */
const rbac_role_t *rbac_catalog_role(const rbac_catalog_t *cat,
    rbac_str_t name, unsigned options, rbac_share_t share);

/* 1 if `name` is a built-in, system or reserved role name. */
int rbac_catalog_reserved(const rbac_catalog_t *cat, rbac_str_t name);

/*
 * 1 if `name` is a system role of the catalog ("system": true:
 * organization-member, organization-service-account, provisioner-daemon),
 * held implicitly and never assigned by hand.
 */
int rbac_catalog_system(const rbac_catalog_t *cat, rbac_str_t name);

/*
 * Adds the named scope `name` (a built-in name or alias, or a low-level
 * "resource:action" / "resource:*") to `scope` (union of permissions and of
 * allow lists).  RBAC_EUNKNOWN when the name means nothing.
 */
rbac_rc_t rbac_catalog_scope_add(const rbac_catalog_t *cat, rbac_str_t name,
    rbac_scope_t *scope, rbac_err_t *err);


#endif /* RBAC_ROLE_H */
