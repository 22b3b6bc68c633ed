/*
 * rbac_catalog_int.h: the inside of the role catalog, shared by the files
 * that load it (rbac_catalog.c), compile its permission lists
 * (rbac_catalog_perm.c) and expand scopes (rbac_scope.c).  Not part of the
 * core API: nothing outside these three files includes it.
 */

#ifndef RBAC_CATALOG_INT_H
#define RBAC_CATALOG_INT_H

#include "rbac_role.h"


/* Flags of a catalog name. */
#define RBAC_CAT_ROLE       0x01    /* a role, not just a reserved name */
#define RBAC_CAT_DEP_OPT    0x02    /* one variant per deployment option set */
#define RBAC_CAT_DEP_SHARE  0x04    /* one variant per org sharing mode */
#define RBAC_CAT_SYSTEM     0x08    /* system role, never assigned by hand */

/* A role or reserved name; the table is sorted by name. */
typedef struct {
    char              name[RBAC_MAX_NAME + 1];
    uint32_t          len;
    uint32_t          first;      /* the role's first variant in roles[] */
    uint8_t           flags;
} rbac_cat_name_t;

/* A named scope as compiled; expanded into an rbac_scope_t on demand. */
typedef struct {
    char              name[RBAC_MAX_NAME + 1];
    rbac_permset_t    site;
    rbac_permset_t    user;
    uint32_t          nallow;
    rbac_allow_t      allow[RBAC_SCOPE_MAX_ALLOW];
} rbac_cat_scope_t;

/* A scope name or alias; the table is sorted by name. */
typedef struct {
    char              name[RBAC_MAX_NAME + 1];
    uint32_t          len;
    uint32_t          scope;      /* index into scopes[] */
} rbac_cat_sname_t;

/*
 * The catalog: one block from the allocator holding this header and the
 * four arrays it points to.
 */
struct rbac_catalog_s {
    uint32_t           nnames;
    uint32_t           nroles;     /* compiled variants */
    uint32_t           nsnames;
    uint32_t           nscopes;
    rbac_cat_name_t   *names;
    rbac_role_t       *roles;
    rbac_cat_sname_t  *snames;
    rbac_cat_scope_t  *scopes;
};


/*
 * Compiles one permission list (a JSON array of PERM, README.md) into `ps`
 * for the variant (options, share): permissions whose "when" does not hold
 * there are left out.  With ps NULL it only validates, and ORs into *deps
 * RBAC_CAT_DEP_OPT / RBAC_CAT_DEP_SHARE for the conditions it meets.  `who`
 * ("role owner") and `level` ("site") start every error message, with the
 * permission's 1-based position.  A NULL list is empty.  With allow_when 0
 * a "when" is refused (scopes have no variants).
 */
struct cJSON;
rbac_rc_t rbac_cat_perms(const struct cJSON *list, const char *who,
    const char *level, int allow_when, rbac_permset_t *ps, unsigned options,
    rbac_share_t share, unsigned *deps, rbac_err_t *err);

/*
 * Number of variants a role with flags `flags` has, and the index of the
 * variant (options, share) among them.
 */
uint32_t rbac_cat_nvariants(unsigned flags);
uint32_t rbac_cat_variant(unsigned flags, unsigned options,
    rbac_share_t share);

/* Ordering of names: bytes, then length. */
int rbac_cat_cmp(const char *a, size_t alen, const char *b, size_t blen);


#endif /* RBAC_CATALOG_INT_H */
