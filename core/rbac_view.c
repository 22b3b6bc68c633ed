/*
 * rbac_view.c: the views rbac_decide works on, built from parsed records:
 * an object from rbac:obj:<type>:<id>, and a subject from rbac:user:<id>
 * with its roles resolved (built-in roles from the catalog for the
 * deployment options and each org's sharing mode, else custom roles), each
 * org's default member roles and, on request, the implicit roles.
 */

#include <assert.h>
#include <string.h>

#include "rbac_record.h"


rbac_rc_t
rbac_object_view(const rbac_obj_rec_t *rec, const rbac_allocator_t *a,
    rbac_object_t *out)
{
    size_t                 i, n;
    rbac_acl_entry_t      *acl;
    const rbac_acl_rec_t  *e;
    static const char      dormant[] = "workspace_dormant";

    assert(rec != NULL && a != NULL && out != NULL);

    memset(out, 0, sizeof(*out));

    out->type = (rbac_type_t) rec->type;
    out->type_name = rbac_ref(rec, rec->type_name);
    out->id = rbac_ref(rec, rec->id);
    out->org = rbac_ref(rec, rec->org);
    out->owner = rbac_ref(rec, rec->owner);
    out->deprecated = rec->deprecated;
    out->deprecated_message = rbac_ref(rec, rec->deprecated_message);
    out->deprecated_link = rbac_ref(rec, rec->deprecated_link);

    if (rec->dormant && rec->type == RBAC_T_WORKSPACE) {
        /* a dormant workspace is another type, and its ACL is dropped */
        out->type = RBAC_T_WORKSPACE_DORMANT;
        out->type_name.data = dormant;
        out->type_name.len = sizeof(dormant) - 1;
        return RBAC_OK;
    }

    n = (size_t) rec->acl_users.n + rec->acl_groups.n;

    if (n == 0) {
        return RBAC_OK;
    }

    acl = a->alloc(a->ud, n * sizeof(rbac_acl_entry_t));
    if (acl == NULL) {
        return RBAC_ENOMEM;
    }

    e = rbac_rec_at(rec, rec->acl_users, rbac_acl_rec_t);

    for (i = 0; i < rec->acl_users.n; i++) {
        acl[i].id = rbac_ref(rec, e[i].id);
        acl[i].actions = e[i].actions;
    }

    out->acl_users = acl;
    out->nacl_users = rec->acl_users.n;

    acl += rec->acl_users.n;
    e = rbac_rec_at(rec, rec->acl_groups, rbac_acl_rec_t);

    for (i = 0; i < rec->acl_groups.n; i++) {
        acl[i].id = rbac_ref(rec, e[i].id);
        acl[i].actions = e[i].actions;
    }

    out->acl_groups = acl;
    out->nacl_groups = rec->acl_groups.n;

    return RBAC_OK;
}


void
rbac_object_view_free(rbac_object_t *o, const rbac_allocator_t *a)
{
    if (o->nacl_users + o->nacl_groups > 0) {
        a->free(a->ud, (void *) o->acl_users);
    }

    o->acl_users = NULL;
    o->acl_groups = NULL;
    o->nacl_users = 0;
    o->nacl_groups = 0;
}


/* A built-in site role, else a custom site role, else NULL. */
static const rbac_role_t *
rbac_view_site_role(const rbac_resolver_t *rs, rbac_str_t name)
{
    rbac_str_t          none = rbac_string("");
    const rbac_role_t  *r;

    if (rs->catalog != NULL) {
        r = rbac_catalog_role(rs->catalog, name, rs->options,
                              RBAC_SHARE_EVERYONE);
        if (r != NULL) {
            return r->kind == RBAC_ROLE_SITE ? r : NULL;
        }

        if (rbac_catalog_reserved(rs->catalog, name)) {
            return NULL;
        }
    }

    if (rs->custom_role == NULL) {
        return NULL;
    }

    r = rs->custom_role(rs->ud, none, name);

    return (r != NULL && r->kind == RBAC_ROLE_SITE) ? r : NULL;
}


/* A built-in org role (the org's sharing variant), else a custom one. */
static const rbac_role_t *
rbac_view_org_role(const rbac_resolver_t *rs, rbac_str_t org,
    rbac_share_t share, rbac_str_t name)
{
    const rbac_role_t  *r;

    if (rs->catalog != NULL) {
        r = rbac_catalog_role(rs->catalog, name, rs->options, share);
        if (r != NULL) {
            return r->kind == RBAC_ROLE_ORG ? r : NULL;
        }

        if (rbac_catalog_reserved(rs->catalog, name)) {
            return NULL;
        }
    }

    if (rs->custom_role == NULL) {
        return NULL;
    }

    r = rs->custom_role(rs->ud, org, name);

    return (r != NULL && r->kind == RBAC_ROLE_ORG) ? r : NULL;
}


/* 1 if name is among the first n names of refs (in block rec). */
static int
rbac_view_seen(const void *rec, const rbac_ref_t *refs, size_t n,
    rbac_str_t name)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (refs[i].len == name.len && rbac_str_eq(rbac_ref(rec, refs[i]),
                                                   name))
        {
            return 1;
        }
    }

    return 0;
}


/*
 * Adds role r to list (of n, room for cap) unless it is NULL or already
 * there.
 */
static void
rbac_view_add(const rbac_role_t **list, size_t *n, size_t cap,
    const rbac_role_t *r)
{
    size_t  i;

    assert(list != NULL && *n <= cap);

    if (r == NULL) {
        return;
    }

    for (i = 0; i < *n; i++) {
        if (list[i] == r) {
            return;
        }
    }

    assert(*n < cap);

    list[(*n)++] = r;
}


rbac_rc_t
rbac_subject_build(const rbac_user_rec_t *u, const rbac_resolver_t *rs,
    const rbac_allocator_t *a, rbac_subject_t *out)
{
    char                        *blk, *blk2;
    size_t                       i, k, nsite, norgs, ngroups, size, nroles, n,
                                 cap;
    rbac_str_t                   name, org, implicit;
    rbac_share_t                 share;
    rbac_str_t                  *groups;
    const rbac_role_t          **site, **roles;
    rbac_subject_org_t          *orgs;
    const rbac_ref_t            *refs, *defs;
    const rbac_org_rec_t       **orecs;
    const rbac_user_org_rec_t   *uo;
    static const char            member[] = "member";
    static const char            org_member[] = "organization-member";
    static const char            org_sa[] = "organization-service-account";

    assert(u != NULL && rs != NULL && a != NULL && out != NULL);

    memset(out, 0, sizeof(*out));

    nsite = u->site_roles.n;
    norgs = u->orgs.n;
    ngroups = u->groups.n;

    /* block 1: site roles (+1 implicit), orgs, groups, org records */

    size = (nsite + 1) * sizeof(rbac_role_t *)
           + norgs * sizeof(rbac_subject_org_t)
           + ngroups * sizeof(rbac_str_t)
           + norgs * sizeof(rbac_org_rec_t *);

    blk = a->alloc(a->ud, size);
    if (blk == NULL) {
        return RBAC_ENOMEM;
    }

    site = (const rbac_role_t **) blk;
    orgs = (rbac_subject_org_t *) (site + nsite + 1);
    groups = (rbac_str_t *) (orgs + norgs);
    orecs = (const rbac_org_rec_t **) (groups + ngroups);

    out->id = rbac_ref(u, u->id);
    out->kind = (rbac_kind_t) u->kind;
    out->status = (rbac_status_t) u->status;

    /* site roles */

    refs = rbac_rec_at(u, u->site_roles, rbac_ref_t);
    n = 0;

    for (i = 0; i < nsite; i++) {
        name = rbac_ref(u, refs[i]);

        if (!rbac_view_seen(u, refs, i, name)) {
            rbac_view_add(site, &n, nsite + 1, rbac_view_site_role(rs, name));
        }
    }

    if (rs->implicit) {
        name.data = member;
        name.len = sizeof(member) - 1;

        if (!rbac_view_seen(u, refs, nsite, name)) {
            rbac_view_add(site, &n, nsite + 1, rbac_view_site_role(rs, name));
        }
    }

    out->site_roles = site;
    out->nsite_roles = n;

    /* groups: views into the record */

    refs = rbac_rec_at(u, u->groups, rbac_ref_t);

    for (i = 0; i < ngroups; i++) {
        groups[i] = rbac_ref(u, refs[i]);
    }

    out->groups = groups;
    out->ngroups = ngroups;

    if (norgs == 0) {
        return RBAC_OK;
    }

    /* block 2: the role pointers of every org */

    uo = rbac_rec_at(u, u->orgs, rbac_user_org_rec_t);
    nroles = 0;

    for (i = 0; i < norgs; i++) {
        orecs[i] = rs->org ? rs->org(rs->ud, rbac_ref(u, uo[i].org)) : NULL;
        nroles += uo[i].roles.n + 1;

        if (orecs[i] != NULL) {
            nroles += orecs[i]->default_roles.n;
        }
    }

    blk2 = a->alloc(a->ud, nroles * sizeof(rbac_role_t *));
    if (blk2 == NULL) {
        a->free(a->ud, blk);
        memset(out, 0, sizeof(*out));
        return RBAC_ENOMEM;
    }

    roles = (const rbac_role_t **) blk2;

    if (u->kind == RBAC_KIND_SERVICE_ACCOUNT) {
        implicit.data = org_sa;
        implicit.len = sizeof(org_sa) - 1;

    } else {
        implicit.data = org_member;
        implicit.len = sizeof(org_member) - 1;
    }

    for (i = 0; i < norgs; i++) {
        org = rbac_ref(u, uo[i].org);
        share = RBAC_SHARE_EVERYONE;
        defs = NULL;

        if (orecs[i] != NULL && orecs[i]->share < RBAC_NSHARE) {
            share = (rbac_share_t) orecs[i]->share;
        }

        refs = rbac_rec_at(u, uo[i].roles, rbac_ref_t);
        n = 0;
        cap = uo[i].roles.n + 1
              + (orecs[i] != NULL ? orecs[i]->default_roles.n : 0);

        for (k = 0; k < uo[i].roles.n; k++) {
            name = rbac_ref(u, refs[k]);

            if (!rbac_view_seen(u, refs, k, name)) {
                rbac_view_add(roles, &n, cap,
                              rbac_view_org_role(rs, org, share, name));
            }
        }

        if (orecs[i] != NULL) {
            defs = rbac_rec_at(orecs[i], orecs[i]->default_roles, rbac_ref_t);

            for (k = 0; k < orecs[i]->default_roles.n; k++) {
                name = rbac_ref(orecs[i], defs[k]);

                if (!rbac_view_seen(u, refs, uo[i].roles.n, name)
                    && !rbac_view_seen(orecs[i], defs, k, name))
                {
                    rbac_view_add(roles, &n, cap,
                                  rbac_view_org_role(rs, org, share, name));
                }
            }
        }

        if (rs->implicit
            && !rbac_view_seen(u, refs, uo[i].roles.n, implicit)
            && (defs == NULL
                || !rbac_view_seen(orecs[i], defs,
                                   orecs[i]->default_roles.n, implicit)))
        {
            rbac_view_add(roles, &n, cap,
                          rbac_view_org_role(rs, org, share, implicit));
        }

        orgs[i].org = org;
        orgs[i].roles = roles;
        orgs[i].nroles = n;

        roles += cap;
    }

    out->orgs = orgs;
    out->norgs = norgs;

    return RBAC_OK;
}


void
rbac_subject_free(rbac_subject_t *s, const rbac_allocator_t *a)
{
    if (s->norgs > 0) {
        a->free(a->ud, (void *) s->orgs[0].roles);
    }

    if (s->site_roles != NULL) {
        a->free(a->ud, (void *) s->site_roles);
    }

    memset(s, 0, sizeof(*s));
}
