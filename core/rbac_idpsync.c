/*
 * rbac_idpsync.c: IdP sync (rbac_idpsync.h): claims -> memberships, merged
 * with the user's record.  Three steps: find the claim values (the claim
 * walker), turn them into entries (one per membership, with the rule that
 * granted it), then write the entries out as a user record and a list of
 * grants.  Entries point into the settings, the record, the lookups'
 * records and the claims tree, all alive until the output is written;
 * the output copies what it keeps.
 */

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rbac_claims.h"
#include "rbac_idpsync.h"
#include "rbac_role.h"




/* ---- lookups in sorted record arrays ---- */

/* strcmp order over views (no NUL inside), as rbac_rf_map sorts keys. */
static int
rbac_idp_cmp(rbac_str_t a, rbac_str_t b)
{
    int     c;
    size_t  n;

    n = a.len < b.len ? a.len : b.len;
    c = n ? memcmp(a.data, b.data, n) : 0;

    if (c == 0 && a.len != b.len) {
        c = a.len < b.len ? -1 : 1;
    }

    return c;
}


/* The mapping entry for a claim value, or NULL. */
static const rbac_idp_map_t *
rbac_idp_mapped(const void *rec, rbac_span_t sp, rbac_str_t value)
{
    int                    c;
    size_t                 lo, hi, mid;
    const rbac_idp_map_t  *m;

    m = rbac_rec_at(rec, sp, rbac_idp_map_t);
    lo = 0;
    hi = sp.n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = rbac_idp_cmp(rbac_ref(rec, m[mid].value), value);

        if (c == 0) {
            return &m[mid];
        }

        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }

    return NULL;
}


/* The per-org setting of org, or NULL (also when disabled: no field). */
static const rbac_idp_sync_t *
rbac_idp_per_org(const rbac_idpsync_rec_t *set, rbac_span_t sp,
    rbac_str_t org, size_t *index)
{
    int                     c;
    size_t                  lo, hi, mid;
    const rbac_idp_sync_t  *s;

    s = rbac_rec_at(set, sp, rbac_idp_sync_t);
    lo = 0;
    hi = sp.n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = rbac_idp_cmp(rbac_ref(set, s[mid].org), org);

        if (c == 0) {
            if (index) {
                *index = mid;
            }

            return s[mid].field.len ? &s[mid] : NULL;
        }

        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }

    return NULL;
}


/* The id of the group named `name` in the org's index, or {NULL, 0}. */
static rbac_str_t
rbac_idp_group_by_name(const rbac_orggroups_rec_t *og, rbac_str_t name)
{
    int                     c;
    size_t                  lo, hi, mid;
    rbac_str_t              none = rbac_null_str;
    const rbac_orggroup_t  *g;

    g = rbac_rec_at(og, og->groups, rbac_orggroup_t);
    lo = 0;
    hi = og->groups.n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = rbac_idp_cmp(rbac_ref(og, g[mid].name), name);

        if (c == 0) {
            return rbac_ref(og, g[mid].id);
        }

        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }

    return none;
}


/* 1 if `id` is one of the org's groups (its Everyone group included). */
static int
rbac_idp_group_of(const rbac_orggroups_rec_t *og, rbac_str_t org,
    rbac_str_t id)
{
    size_t                  i;
    const rbac_orggroup_t  *g;

    if (rbac_str_eq(org, id)) {
        return 1;
    }

    if (og == NULL) {
        return 0;
    }

    g = rbac_rec_at(og, og->groups, rbac_orggroup_t);

    for (i = 0; i < og->groups.n; i++) {
        if (rbac_str_eq(rbac_ref(og, g[i].id), id)) {
            return 1;
        }
    }

    return 0;
}




/* ---- entries ---- */

typedef enum {
    RBAC_IDP_W_RECORD = 0,      /* the user record */
    RBAC_IDP_W_MAPPED,          /* claim value, mapped */
    RBAC_IDP_W_VERBATIM,        /* claim value, unmapped, used as a role */
    RBAC_IDP_W_GROUP_NAME,      /* claim value, unmapped, a group's name */
    RBAC_IDP_W_DEFAULT_ORG,     /* assign_default */
    RBAC_IDP_W_SITE_DEFAULT,    /* site_roles.default */
    RBAC_IDP_W_EVERYONE         /* the org's Everyone group */
} rbac_idp_why_t;

typedef struct {
    uint8_t       kind;         /* rbac_idp_kind_t */
    uint8_t       why;          /* rbac_idp_why_t */
    rbac_str_t    org;
    rbac_str_t    name;
    rbac_str_t    field;        /* claim field, for claim reasons */
    rbac_str_t    value;        /* claim value, for claim reasons */
} rbac_idp_ent_t;

typedef struct {
    const rbac_idpsync_rec_t  *set;
    const rbac_idp_rx_t       *rx;
    const rbac_user_rec_t     *user;
    const rbac_idp_lookup_t   *lk;
    const rbac_allocator_t    *a;
    rbac_err_t                *err;
    const cJSON               *claims;
    rbac_idp_ent_t            *e;
    size_t                     n;
    size_t                     cap;
    int                        pending;
    rbac_str_t                 vals[RBAC_MAX_LIST];
} rbac_idp_ctx_t;


static const char *const  rbac_idp_kind_names[] = {
    "site_role", "org", "org_role", "group"
};


const char *
rbac_idp_kind_name(rbac_idp_kind_t kind)
{
    return (unsigned) kind <= RBAC_IDP_GROUP ? rbac_idp_kind_names[kind]
                                             : "?";
}


/* Index of the entry (kind, org, name), or -1. */
static long
rbac_idp_find(rbac_idp_ctx_t *x, unsigned kind, rbac_str_t org,
    rbac_str_t name)
{
    size_t  i;

    for (i = 0; i < x->n; i++) {
        if (x->e[i].kind == kind && rbac_str_eq(x->e[i].name, name)
            && rbac_str_eq(x->e[i].org, org))
        {
            return (long) i;
        }
    }

    return -1;
}


/* Adds an entry unless there is one already; bounded. */
static rbac_rc_t
rbac_idp_add(rbac_idp_ctx_t *x, unsigned kind, unsigned why, rbac_str_t org,
    rbac_str_t name, rbac_str_t field, rbac_str_t value)
{
    size_t           i, same, cap;
    rbac_idp_ent_t  *e;

    same = 0;

    for (i = 0; i < x->n; i++) {
        if (x->e[i].kind != kind) {
            continue;
        }

        if (kind == RBAC_IDP_ORG_ROLE && !rbac_str_eq(x->e[i].org, org)) {
            continue;
        }

        /* a group id names one group, whichever org's rule grants it */
        if (rbac_str_eq(x->e[i].name, name)) {
            return RBAC_OK;
        }

        same++;
    }

    if (same >= RBAC_MAX_LIST || x->n >= RBAC_IDP_MAX_GRANTS) {
        return rbac_err_set(x->err, RBAC_EBOUND, "idp sync: more than %d "
                            "memberships", same >= RBAC_MAX_LIST
                            ? RBAC_MAX_LIST : RBAC_IDP_MAX_GRANTS);
    }

    if (x->n == x->cap) {
        cap = x->cap ? x->cap * 2 : 32;

        e = x->a->alloc(x->a->ud, cap * sizeof(rbac_idp_ent_t));
        if (e == NULL) {
            return rbac_err_set(x->err, RBAC_ENOMEM, "out of memory");
        }

        if (x->n) {
            memcpy(e, x->e, x->n * sizeof(rbac_idp_ent_t));
        }

        x->a->free(x->a->ud, x->e);
        x->e = e;
        x->cap = cap;
    }

    e = &x->e[x->n++];
    e->kind = (uint8_t) kind;
    e->why = (uint8_t) why;
    e->org = org;
    e->name = name;
    e->field = field;
    e->value = value;

    return RBAC_OK;
}


/* Removes the entries for which drop() says so (order kept). */
static void
rbac_idp_filter(rbac_idp_ctx_t *x, int (*drop)(rbac_idp_ctx_t *x,
    const rbac_idp_ent_t *e, const void *arg), const void *arg)
{
    size_t  i, k;

    for (i = 0, k = 0; i < x->n; i++) {
        if (!drop(x, &x->e[i], arg)) {
            x->e[k++] = x->e[i];
        }
    }

    x->n = k;
}


/* ---- the rules ---- */

static const rbac_str_t  rbac_idp_empty = rbac_string("");


static rbac_rc_t
rbac_idp_record(rbac_idp_ctx_t *x)
{
    size_t                      i, k;
    rbac_rc_t                   rc;
    rbac_str_t                  org;
    const rbac_ref_t           *refs;
    const rbac_user_rec_t      *u = x->user;
    const rbac_user_org_rec_t  *uo;

    refs = rbac_rec_at(u, u->site_roles, rbac_ref_t);

    for (i = 0; i < u->site_roles.n; i++) {
        rc = rbac_idp_add(x, RBAC_IDP_SITE_ROLE, RBAC_IDP_W_RECORD,
                          rbac_idp_empty, rbac_ref(u, refs[i]),
                          rbac_idp_empty, rbac_idp_empty);
        if (rc != RBAC_OK) {
            return rc;
        }
    }

    uo = rbac_rec_at(u, u->orgs, rbac_user_org_rec_t);

    for (i = 0; i < u->orgs.n; i++) {
        org = rbac_ref(u, uo[i].org);

        rc = rbac_idp_add(x, RBAC_IDP_ORG, RBAC_IDP_W_RECORD, rbac_idp_empty,
                          org, rbac_idp_empty, rbac_idp_empty);
        if (rc != RBAC_OK) {
            return rc;
        }

        refs = rbac_rec_at(u, uo[i].roles, rbac_ref_t);

        for (k = 0; k < uo[i].roles.n; k++) {
            rc = rbac_idp_add(x, RBAC_IDP_ORG_ROLE, RBAC_IDP_W_RECORD, org,
                              rbac_ref(u, refs[k]), rbac_idp_empty,
                              rbac_idp_empty);
            if (rc != RBAC_OK) {
                return rc;
            }
        }
    }

    refs = rbac_rec_at(u, u->groups, rbac_ref_t);

    for (i = 0; i < u->groups.n; i++) {
        rc = rbac_idp_add(x, RBAC_IDP_GROUP, RBAC_IDP_W_RECORD,
                          rbac_idp_empty, rbac_ref(u, refs[i]),
                          rbac_idp_empty, rbac_idp_empty);
        if (rc != RBAC_OK) {
            return rc;
        }
    }

    return RBAC_OK;
}


static int
rbac_idp_drop_kind(rbac_idp_ctx_t *x, const rbac_idp_ent_t *e,
    const void *arg)
{
    return e->kind == *(const unsigned *) arg;
}


static int
rbac_idp_site_role_ok(rbac_idp_ctx_t *x, rbac_str_t name)
{
    const rbac_role_t  *r;

    r = rbac_catalog_role(x->lk->catalog, name, 0, RBAC_SHARE_EVERYONE);

    return r != NULL && r->kind == RBAC_ROLE_SITE;
}


/* Site roles: default, then mapped or verbatim claim values. */
static rbac_rc_t
rbac_idp_site_roles(rbac_idp_ctx_t *x, int replace)
{
    size_t                  i, k, n;
    unsigned                kind;
    rbac_rc_t               rc;
    rbac_str_t              field, name;
    const rbac_ref_t       *refs;
    const rbac_idp_map_t   *m;
    const rbac_idpsync_rec_t  *set = x->set;

    field = rbac_ref(set, set->site_roles.field);

    if (field.len == 0) {
        return RBAC_OK;
    }

    if (replace) {
        kind = RBAC_IDP_SITE_ROLE;
        rbac_idp_filter(x, rbac_idp_drop_kind, &kind);
    }

    refs = rbac_rec_at(set, set->site_default, rbac_ref_t);

    for (i = 0; i < set->site_default.n; i++) {
        name = rbac_ref(set, refs[i]);

        if (rbac_idp_site_role_ok(x, name)) {
            rc = rbac_idp_add(x, RBAC_IDP_SITE_ROLE, RBAC_IDP_W_SITE_DEFAULT,
                              rbac_idp_empty, name, field, rbac_idp_empty);
            if (rc != RBAC_OK) {
                return rc;
            }
        }
    }

    n = rbac_claim_values(x->claims, field, x->vals);

    for (i = 0; i < n; i++) {
        m = rbac_idp_mapped(set, set->site_roles.mapping, x->vals[i]);

        if (m == NULL) {
            if (!rbac_idp_site_role_ok(x, x->vals[i])) {
                continue;
            }

            rc = rbac_idp_add(x, RBAC_IDP_SITE_ROLE, RBAC_IDP_W_VERBATIM,
                              rbac_idp_empty, x->vals[i], field, x->vals[i]);
            if (rc != RBAC_OK) {
                return rc;
            }

            continue;
        }

        refs = rbac_rec_at(set, m->targets, rbac_ref_t);

        for (k = 0; k < m->targets.n; k++) {
            name = rbac_ref(set, refs[k]);

            if (!rbac_idp_site_role_ok(x, name)) {
                continue;
            }

            rc = rbac_idp_add(x, RBAC_IDP_SITE_ROLE, RBAC_IDP_W_MAPPED,
                              rbac_idp_empty, name, field, x->vals[i]);
            if (rc != RBAC_OK) {
                return rc;
            }
        }
    }

    return RBAC_OK;
}


/* An org that exists (a pending answer counts as existing, for now). */
static int
rbac_idp_org_ok(rbac_idp_ctx_t *x, rbac_str_t org)
{
    rbac_idp_look_t  l;

    l = x->lk->org ? x->lk->org(x->lk->ud, org) : RBAC_IDP_PRESENT;

    if (l == RBAC_IDP_PENDING) {
        x->pending = 1;
        return 1;
    }

    return l == RBAC_IDP_PRESENT;
}


typedef struct {
    const rbac_idp_ent_t  *keep;    /* the synced orgs */
    size_t                 nkeep;
} rbac_idp_orgs_t;


/* Replace: drops the record's orgs (and their roles) not synced. */
static int
rbac_idp_drop_org(rbac_idp_ctx_t *x, const rbac_idp_ent_t *e,
    const void *arg)
{
    size_t                  i;
    rbac_str_t              org;
    const rbac_idp_orgs_t  *o = arg;

    if (e->kind == RBAC_IDP_ORG) {
        org = e->name;

    } else if (e->kind == RBAC_IDP_ORG_ROLE) {
        org = e->org;

    } else {
        return 0;
    }

    for (i = 0; i < o->nkeep; i++) {
        if (rbac_str_eq(o->keep[i].name, org)) {
            return 0;
        }
    }

    return 1;
}


static rbac_rc_t
rbac_idp_orgs(rbac_idp_ctx_t *x, int replace)
{
    long                    found;
    size_t                  i, k, t, n, first, nsynced;
    rbac_rc_t               rc;
    rbac_str_t              field, org;
    rbac_idp_orgs_t         keep;
    rbac_idp_ent_t         *synced;
    const rbac_ref_t       *refs;
    const rbac_idp_map_t   *m;
    const rbac_idpsync_rec_t  *set = x->set;

    field = rbac_ref(set, set->organization.field);

    if (field.len == 0) {
        return RBAC_OK;
    }

    /* the synced orgs go to the end of the list, after the record's */

    first = x->n;

    n = rbac_claim_values(x->claims, field, x->vals);

    for (i = 0; i < n; i++) {
        m = rbac_idp_mapped(set, set->organization.mapping, x->vals[i]);
        if (m == NULL) {
            continue;
        }

        refs = rbac_rec_at(set, m->targets, rbac_ref_t);

        for (k = 0; k < m->targets.n; k++) {
            org = rbac_ref(set, refs[k]);

            if (org.len == 0 || !rbac_idp_org_ok(x, org)
                || rbac_idp_find(x, RBAC_IDP_ORG, rbac_idp_empty, org) >= 0)
            {
                continue;
            }

            rc = rbac_idp_add(x, RBAC_IDP_ORG, RBAC_IDP_W_MAPPED,
                              rbac_idp_empty, org, field, x->vals[i]);
            if (rc != RBAC_OK) {
                return rc;
            }
        }
    }

    org = rbac_ref(set, set->default_org);

    if (set->assign_default && org.len && rbac_idp_org_ok(x, org)
        && rbac_idp_find(x, RBAC_IDP_ORG, rbac_idp_empty, org) < 0)
    {
        rc = rbac_idp_add(x, RBAC_IDP_ORG, RBAC_IDP_W_DEFAULT_ORG,
                          rbac_idp_empty, org, field, rbac_idp_empty);
        if (rc != RBAC_OK) {
            return rc;
        }
    }

    if (!replace) {
        return RBAC_OK;
    }

    /*
     * Replace: the memberships are exactly the synced orgs.  An org of
     * the record that is synced too keeps its record roles; that entry was
     * not added again above, so the claim that also grants it is looked
     * for once more to say so.
     */

    nsynced = x->n - first;

    for (i = 0; i < first; i++) {
        if (x->e[i].kind != RBAC_IDP_ORG) {
            continue;
        }

        org = x->e[i].name;
        found = -1;

        for (k = 0; k < n && found < 0; k++) {
            m = rbac_idp_mapped(set, set->organization.mapping, x->vals[k]);
            if (m == NULL) {
                continue;
            }

            refs = rbac_rec_at(set, m->targets, rbac_ref_t);

            for (t = 0; t < m->targets.n; t++) {
                if (rbac_str_eq(rbac_ref(set, refs[t]), org)) {
                    found = (long) k;
                    break;
                }
            }
        }

        if (found >= 0 && rbac_idp_org_ok(x, org)) {
            x->e[i].why = RBAC_IDP_W_MAPPED;
            x->e[i].field = field;
            x->e[i].value = x->vals[found];
            nsynced++;

        } else if (set->assign_default
                   && rbac_str_eq(org, rbac_ref(set, set->default_org))
                   && rbac_idp_org_ok(x, org))
        {
            x->e[i].why = RBAC_IDP_W_DEFAULT_ORG;
            x->e[i].field = field;
            nsynced++;
        }
    }

    synced = x->a->alloc(x->a->ud, (nsynced ? nsynced : 1)
                                   * sizeof(rbac_idp_ent_t));
    if (synced == NULL) {
        return rbac_err_set(x->err, RBAC_ENOMEM, "out of memory");
    }

    for (i = 0, k = 0; i < x->n; i++) {
        if (x->e[i].kind == RBAC_IDP_ORG && x->e[i].why != RBAC_IDP_W_RECORD)
        {
            synced[k++] = x->e[i];
        }
    }

    keep.keep = synced;
    keep.nkeep = k;

    rbac_idp_filter(x, rbac_idp_drop_org, &keep);

    x->a->free(x->a->ud, synced);

    return RBAC_OK;
}


/* A role that org role sync may grant in org. */
static int
rbac_idp_org_role_ok(rbac_idp_ctx_t *x, rbac_str_t org, rbac_str_t name)
{
    rbac_idp_look_t      l;
    const rbac_role_t   *r;

    if (rbac_catalog_reserved(x->lk->catalog, name)) {
        r = rbac_catalog_role(x->lk->catalog, name, 0, RBAC_SHARE_EVERYONE);

        return r != NULL && r->kind == RBAC_ROLE_ORG
               && !rbac_catalog_system(x->lk->catalog, name);
    }

    l = x->lk->role ? x->lk->role(x->lk->ud, org, name) : RBAC_IDP_ABSENT;

    if (l == RBAC_IDP_PENDING) {
        x->pending = 1;
        return 0;
    }

    return l == RBAC_IDP_PRESENT;
}


static int
rbac_idp_drop_org_roles(rbac_idp_ctx_t *x, const rbac_idp_ent_t *e,
    const void *arg)
{
    return e->kind == RBAC_IDP_ORG_ROLE
           && rbac_str_eq(e->org, *(const rbac_str_t *) arg);
}


static rbac_rc_t
rbac_idp_org_roles(rbac_idp_ctx_t *x, rbac_str_t org, int replace)
{
    size_t                  i, k, n;
    rbac_rc_t               rc;
    rbac_str_t              field, name;
    const rbac_ref_t       *refs;
    const rbac_idp_map_t   *m;
    const rbac_idp_sync_t  *s;

    s = rbac_idp_per_org(x->set, x->set->org_roles, org, NULL);
    if (s == NULL) {
        return RBAC_OK;
    }

    field = rbac_ref(x->set, s->field);

    if (replace) {
        rbac_idp_filter(x, rbac_idp_drop_org_roles, &org);
    }

    n = rbac_claim_values(x->claims, field, x->vals);

    for (i = 0; i < n; i++) {
        m = rbac_idp_mapped(x->set, s->mapping, x->vals[i]);

        if (m == NULL) {
            if (!rbac_idp_org_role_ok(x, org, x->vals[i])) {
                continue;
            }

            rc = rbac_idp_add(x, RBAC_IDP_ORG_ROLE, RBAC_IDP_W_VERBATIM, org,
                              x->vals[i], field, x->vals[i]);
            if (rc != RBAC_OK) {
                return rc;
            }

            continue;
        }

        refs = rbac_rec_at(x->set, m->targets, rbac_ref_t);

        for (k = 0; k < m->targets.n; k++) {
            name = rbac_ref(x->set, refs[k]);

            if (!rbac_idp_org_role_ok(x, org, name)) {
                continue;
            }

            rc = rbac_idp_add(x, RBAC_IDP_ORG_ROLE, RBAC_IDP_W_MAPPED, org,
                              name, field, x->vals[i]);
            if (rc != RBAC_OK) {
                return rc;
            }
        }
    }

    return RBAC_OK;
}


typedef struct {
    rbac_str_t                   org;
    const rbac_orggroups_rec_t  *og;
} rbac_idp_grp_t;


/* Replace: the record's groups of this org go. */
static int
rbac_idp_drop_org_groups(rbac_idp_ctx_t *x, const rbac_idp_ent_t *e,
    const void *arg)
{
    const rbac_idp_grp_t  *g = arg;

    return e->kind == RBAC_IDP_GROUP && e->why == RBAC_IDP_W_RECORD
           && rbac_idp_group_of(g->og, g->org, e->name);
}




static rbac_rc_t
rbac_idp_groups(rbac_idp_ctx_t *x, rbac_str_t org, int replace)
{
    size_t                       i, k, n, index;
    rbac_rc_t                    rc;
    rbac_str_t                   field, id;
    rbac_idp_grp_t               g;
    rbac_idp_look_t              l;
    const rbac_ref_t            *refs;
    const rbac_idp_map_t        *m;
    const rbac_idp_sync_t       *s;
    const rbac_orggroups_rec_t  *og;

    s = rbac_idp_per_org(x->set, x->set->groups, org, &index);
    if (s == NULL) {
        return RBAC_OK;
    }

    field = rbac_ref(x->set, s->field);
    og = NULL;

    l = x->lk->orggroups ? x->lk->orggroups(x->lk->ud, org, &og)
                         : RBAC_IDP_ABSENT;

    if (l == RBAC_IDP_PENDING) {
        x->pending = 1;
    }

    if (l != RBAC_IDP_PRESENT) {
        og = NULL;
    }

    if (replace) {
        g.org = org;
        g.og = og;
        rbac_idp_filter(x, rbac_idp_drop_org_groups, &g);
    }

    n = rbac_claim_values(x->claims, field, x->vals);

    for (i = 0; i < n; i++) {
        if (!rbac_idp_rx_match(x->rx, index, x->vals[i])) {
            continue;
        }

        m = rbac_idp_mapped(x->set, s->mapping, x->vals[i]);

        if (m == NULL) {
            if (og == NULL) {
                continue;
            }

            id = rbac_idp_group_by_name(og, x->vals[i]);
            if (id.data == NULL) {
                continue;
            }

            rc = rbac_idp_add(x, RBAC_IDP_GROUP, RBAC_IDP_W_GROUP_NAME, org,
                              id, field, x->vals[i]);
            if (rc != RBAC_OK) {
                return rc;
            }

            continue;
        }

        refs = rbac_rec_at(x->set, m->targets, rbac_ref_t);

        for (k = 0; k < m->targets.n; k++) {
            id = rbac_ref(x->set, refs[k]);

            /* one org's settings never grant another org's group */
            if (!rbac_idp_group_of(og, org, id)) {
                continue;
            }

            rc = rbac_idp_add(x, RBAC_IDP_GROUP, RBAC_IDP_W_MAPPED, org, id,
                              field, x->vals[i]);
            if (rc != RBAC_OK) {
                return rc;
            }
        }
    }

    /* the Everyone group is always kept */
    return rbac_idp_add(x, RBAC_IDP_GROUP, RBAC_IDP_W_EVERYONE, org, org,
                        field, rbac_idp_empty);
}


/* ---- output ---- */

static int
rbac_idp_reason(const rbac_idp_ent_t *e, char *buf, size_t size)
{
    int  n;

    switch (e->why) {

    case RBAC_IDP_W_MAPPED:
        n = snprintf(buf, size, "claim %.*s: \"%.*s\" mapped",
                     (int) e->field.len, e->field.data,
                     (int) e->value.len, e->value.data);
        break;

    case RBAC_IDP_W_VERBATIM:
        n = snprintf(buf, size, "claim %.*s: \"%.*s\" (unmapped, the role's "
                     "name)", (int) e->field.len, e->field.data,
                     (int) e->value.len, e->value.data);
        break;

    case RBAC_IDP_W_GROUP_NAME:
        n = snprintf(buf, size, "claim %.*s: \"%.*s\" (unmapped, the group's "
                     "name)", (int) e->field.len, e->field.data,
                     (int) e->value.len, e->value.data);
        break;

    case RBAC_IDP_W_DEFAULT_ORG:
        n = snprintf(buf, size, "default org (assign_default)");
        break;

    case RBAC_IDP_W_SITE_DEFAULT:
        n = snprintf(buf, size, "site_roles.default");
        break;

    case RBAC_IDP_W_EVERYONE:
        n = snprintf(buf, size, "Everyone group (always kept)");
        break;

    default:
        n = snprintf(buf, size, "user record");
        break;
    }

    if (n < 0) {
        return 0;
    }

    return (size_t) n < size ? n : (int) size - 1;
}


/* Adds the string s to array arr (key NULL) or object arr; 1 if done. */
static int
rbac_idp_jadd(cJSON *arr, const char *key, rbac_str_t s)
{
    char     buf[RBAC_MAX_NAME + 1];
    size_t   n;
    cJSON   *item;

    n = s.len <= RBAC_MAX_NAME ? s.len : RBAC_MAX_NAME;
    memcpy(buf, s.data, n);
    buf[n] = '\0';

    item = cJSON_CreateString(buf);
    if (item == NULL) {
        return 0;
    }

    if (key ? !cJSON_AddItemToObject(arr, key, item)
            : !cJSON_AddItemToArray(arr, item))
    {
        cJSON_Delete(item);
        return 0;
    }

    return 1;
}


/* The merged user record, through its JSON and core's parser. */
static rbac_rc_t
rbac_idp_user(rbac_idp_ctx_t *x, rbac_str_t sub, rbac_user_rec_t **out)
{
    int                     ok;
    char                   *text, key[RBAC_MAX_NAME + 1];
    size_t                  i, n;
    cJSON                  *doc, *site, *orgs, *groups, *arr;
    rbac_rc_t               rc;
    rbac_str_t              id;
    const char             *status, *kind, *login;
    const rbac_user_rec_t  *u = x->user;

    static const char *const  statuses[] = { "active", "suspended",
                                             "dormant" };
    static const char *const  kinds[] = { "user", "service_account" };
    static const char *const  logins[] = { "oidc", "password", "none" };

    id = u ? rbac_ref(u, u->id) : sub;
    status = u && u->status <= 2 ? statuses[u->status] : "active";
    kind = u && u->kind <= 1 ? kinds[u->kind] : "user";
    login = u && u->login <= 2 ? logins[u->login] : "oidc";

    doc = cJSON_CreateObject();
    if (doc == NULL) {
        return rbac_err_set(x->err, RBAC_ENOMEM, "out of memory");
    }

    ok = rbac_idp_jadd(doc, "id", id)
         && cJSON_AddStringToObject(doc, "kind", kind) != NULL
         && cJSON_AddStringToObject(doc, "status", status) != NULL
         && cJSON_AddStringToObject(doc, "login", login) != NULL
         && cJSON_AddStringToObject(doc, "idp_sync",
                                    x->user && x->user->idp_sync
                                    ? "add" : "replace") != NULL;

    site = cJSON_AddArrayToObject(doc, "site_roles");
    orgs = cJSON_AddObjectToObject(doc, "orgs");
    groups = cJSON_AddArrayToObject(doc, "groups");

    ok = ok && site && orgs && groups;

    for (i = 0; ok && i < x->n; i++) {
        switch (x->e[i].kind) {

        case RBAC_IDP_SITE_ROLE:
            ok = rbac_idp_jadd(site, NULL, x->e[i].name);
            break;

        case RBAC_IDP_ORG:
            n = x->e[i].name.len <= RBAC_MAX_NAME ? x->e[i].name.len
                                                  : RBAC_MAX_NAME;
            memcpy(key, x->e[i].name.data, n);
            key[n] = '\0';
            ok = cJSON_AddArrayToObject(orgs, key) != NULL;
            break;

        case RBAC_IDP_GROUP:
            ok = rbac_idp_jadd(groups, NULL, x->e[i].name);
            break;

        default:
            break;
        }
    }

    for (i = 0; ok && i < x->n; i++) {
        if (x->e[i].kind != RBAC_IDP_ORG_ROLE) {
            continue;
        }

        for (arr = orgs->child; arr != NULL; arr = arr->next) {
            if (rbac_str_eq_cstr(x->e[i].org, arr->string)) {
                ok = rbac_idp_jadd(arr, NULL, x->e[i].name);
                break;
            }
        }
    }

    text = ok ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);

    if (text == NULL) {
        return rbac_err_set(x->err, RBAC_ENOMEM, "out of memory");
    }

    rc = rbac_record_parse(RBAC_REC_USER, text, strlen(text), x->a,
                           (void **) out, x->err);
    cJSON_free(text);

    if (rc == RBAC_EPARSE) {
        /* cJSON's allocation failures show as EPARSE */
        rc = rbac_err_set(x->err, RBAC_ENOMEM, "out of memory");
    }

    return rc;
}


static rbac_rc_t
rbac_idp_grants(rbac_idp_ctx_t *x, rbac_idp_result_t *out)
{
    char               buf[512], *p;
    size_t             i, size;
    rbac_idp_grant_t  *g;

    size = x->n * sizeof(rbac_idp_grant_t);

    for (i = 0; i < x->n; i++) {
        size += x->e[i].org.len + x->e[i].name.len + 3
                + rbac_idp_reason(&x->e[i], buf, sizeof(buf));
    }

    out->mem = x->a->alloc(x->a->ud, size ? size : 1);
    if (out->mem == NULL) {
        return rbac_err_set(x->err, RBAC_ENOMEM, "out of memory");
    }

    g = out->mem;
    p = (char *) (g + x->n);

    for (i = 0; i < x->n; i++) {
        g[i].kind = (rbac_idp_kind_t) x->e[i].kind;

        g[i].org.data = p;
        g[i].org.len = x->e[i].org.len;
        memcpy(p, x->e[i].org.data, x->e[i].org.len);
        p += x->e[i].org.len;
        *p++ = '\0';

        g[i].name.data = p;
        g[i].name.len = x->e[i].name.len;
        memcpy(p, x->e[i].name.data, x->e[i].name.len);
        p += x->e[i].name.len;
        *p++ = '\0';

        g[i].reason.data = p;
        g[i].reason.len = rbac_idp_reason(&x->e[i], p, sizeof(buf));
        p += g[i].reason.len;
        *p++ = '\0';
    }

    out->grants = g;
    out->ngrants = x->n;

    return RBAC_OK;
}


/* Entries in output order: site roles, orgs, org roles, groups. */
static void
rbac_idp_sort(rbac_idp_ctx_t *x)
{
    size_t          i, k;
    rbac_idp_ent_t  t;

    /* insertion sort by kind, stable, n is small and bounded */
    for (i = 1; i < x->n; i++) {
        t = x->e[i];

        for (k = i; k > 0 && x->e[k - 1].kind > t.kind; k--) {
            x->e[k] = x->e[k - 1];
        }

        x->e[k] = t;
    }
}


rbac_rc_t
rbac_idp_apply(const rbac_idpsync_rec_t *set, const rbac_idp_rx_t *rx,
    rbac_str_t sub, rbac_str_t claims, const rbac_user_rec_t *user,
    const rbac_idp_lookup_t *lk, const rbac_allocator_t *a,
    rbac_idp_result_t *out, rbac_err_t *err)
{
    int              replace;
    size_t           i, norgs;
    cJSON           *tree;
    rbac_rc_t        rc;
    rbac_str_t      *orgs;
    rbac_idp_ctx_t  *x;

    memset(out, 0, sizeof(*out));

    if (!rbac_idp_rx_fits(rx, set)) {
        return rbac_err_set(err, RBAC_EINVAL, "idp sync: regex filters "
                            "not compiled from these settings");
    }

    if (claims.len > RBAC_MAX_CLAIMS) {
        return rbac_err_set(err, RBAC_EBOUND, "idp sync: claims over %d "
                            "bytes", RBAC_MAX_CLAIMS);
    }

    if (sub.len == 0 || sub.len > RBAC_MAX_NAME) {
        return rbac_err_set(err, RBAC_EINVAL, "idp sync: bad sub");
    }

    x = a->alloc(a->ud, sizeof(rbac_idp_ctx_t));
    if (x == NULL) {
        return rbac_err_set(err, RBAC_ENOMEM, "out of memory");
    }

    memset(x, 0, offsetof(rbac_idp_ctx_t, vals));
    x->set = set;
    x->rx = rx;
    x->user = user;
    x->lk = lk;
    x->a = a;
    x->err = err;

    tree = NULL;
    orgs = NULL;

    if (user != NULL) {
        rc = rbac_idp_record(x);
        if (rc != RBAC_OK) {
            goto done;
        }
    }

    out->synced = user == NULL || (user->kind == RBAC_KIND_USER
                                   && user->login == RBAC_LOGIN_OIDC);

    if (!out->synced) {
        rc = RBAC_OK;
        goto output;
    }

    replace = user == NULL || user->idp_sync == RBAC_IDP_REPLACE;

    if (claims.len) {
        tree = cJSON_ParseWithLength(claims.data, claims.len);
        if (tree != NULL && !cJSON_IsObject(tree)) {
            cJSON_Delete(tree);
            tree = NULL;
        }
    }

    /* claims that do not parse: every claim is missing */
    x->claims = tree;

    rc = rbac_idp_site_roles(x, replace);
    if (rc != RBAC_OK) {
        goto done;
    }

    rc = rbac_idp_orgs(x, replace);
    if (rc != RBAC_OK) {
        goto done;
    }

    /* the member orgs, copied: the per-org rules change the list */

    norgs = 0;

    for (i = 0; i < x->n; i++) {
        norgs += (x->e[i].kind == RBAC_IDP_ORG);
    }

    orgs = a->alloc(a->ud, (norgs ? norgs : 1) * sizeof(rbac_str_t));
    if (orgs == NULL) {
        rc = rbac_err_set(err, RBAC_ENOMEM, "out of memory");
        goto done;
    }

    for (i = 0, norgs = 0; i < x->n; i++) {
        if (x->e[i].kind == RBAC_IDP_ORG) {
            orgs[norgs++] = x->e[i].name;
        }
    }

    for (i = 0; i < norgs; i++) {
        rc = rbac_idp_org_roles(x, orgs[i], replace);
        if (rc != RBAC_OK) {
            goto done;
        }

        rc = rbac_idp_groups(x, orgs[i], replace);
        if (rc != RBAC_OK) {
            goto done;
        }
    }

output:

    if (x->pending) {
        out->pending = 1;
        rc = RBAC_OK;
        goto done;
    }

    rbac_idp_sort(x);

    /* no record and nothing granted: still an unknown user */
    if (user != NULL || x->n > 0) {
        rc = rbac_idp_user(x, sub, &out->user);
        if (rc != RBAC_OK) {
            goto done;
        }
    }

    rc = rbac_idp_grants(x, out);

    if (rc != RBAC_OK && out->user != NULL) {
        a->free(a->ud, out->user);
        out->user = NULL;
    }

done:

    cJSON_Delete(tree);
    a->free(a->ud, orgs);
    a->free(a->ud, x->e);
    a->free(a->ud, x);

    if (rc != RBAC_OK) {
        memset(out, 0, sizeof(*out));
    }

    return rc;
}


void
rbac_idp_result_free(rbac_idp_result_t *res, const rbac_allocator_t *a)
{
    if (res->user != NULL) {
        a->free(a->ud, res->user);
    }

    if (res->mem != NULL) {
        a->free(a->ud, res->mem);
    }

    memset(res, 0, sizeof(*res));
}
