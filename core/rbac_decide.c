/*
 * rbac_decide.c: the decision of docs/authorization.md §2 (Coder's newest
 * policy) with ngx_rbac's additions (account status, deprecated templates:
 * docs/authorization.md §7): role votes
 * per level, the ACL path, the scope and the allow lists; the reason string;
 * and the expansion of ACL role names.
 *
 * Nothing here allocates: a decision walks the subject's roles once.
 */

#include <assert.h>
#include <string.h>

#include "rbac_decide.h"


/*
 * The votes of one level: the first role whose permset negates and the
 * first whose permset grants (type, action).  vote() is -1, +1 or 0.
 */
typedef struct {
    const rbac_role_t  *neg;
    const rbac_role_t  *pos;
} rbac_tally_t;

/* The role votes of one decision, and who cast them. */
typedef struct {
    rbac_tally_t   site;
    rbac_tally_t   user;
    rbac_tally_t   org;         /* the object's org, or the best org */
    rbac_tally_t   member;      /* idem, member level */
    rbac_str_t     org_id;      /* org of `org` */
    rbac_str_t     member_id;   /* org of `member` */
    int            org_vote;    /* raw vote of the org level, -1..1 */
    int            member_vote; /* raw vote of the member level */
    int            is_member;   /* ACL membership (docs/authorization.md §2) */
} rbac_votes_t;


static int
rbac_vote(const rbac_tally_t *t)
{
    return t->neg != NULL ? -1 : (t->pos != NULL ? 1 : 0);
}


static void
rbac_tally(rbac_tally_t *t, const rbac_role_t *r, rbac_level_t l,
    rbac_type_t type, rbac_amask_t bit)
{
    const rbac_permset_t  *ps;

    ps = &r->lvl[l];

    if (ps->neg[type] & bit) {
        if (t->neg == NULL) {
            t->neg = r;
        }

    } else if ((ps->pos[type] & bit) && t->pos == NULL) {
        t->pos = r;
    }
}


/* The vote of a bare permset (scopes have no role to name). */
static int
rbac_ps_vote(const rbac_permset_t *ps, rbac_type_t type, rbac_amask_t bit)
{
    if (ps->neg[type] & bit) {
        return -1;
    }

    return (ps->pos[type] & bit) ? 1 : 0;
}


/*
 * The first role of the subject (site roles, then each org's) whose `level`
 * negates (neg) or grants (!neg) the action bit on `type`.
 */
static const rbac_role_t *
rbac_find(const rbac_subject_t *s, rbac_level_t level, rbac_type_t type,
    rbac_amask_t bit, int neg)
{
    size_t                 i, j;
    const rbac_role_t     *r;
    const rbac_permset_t  *ps;

    for (i = 0; i < s->nsite_roles; i++) {
        r = s->site_roles[i];
        ps = &r->lvl[level];

        if ((neg ? ps->neg[type] : ps->pos[type]) & bit) {
            return r;
        }
    }

    for (i = 0; i < s->norgs; i++) {
        for (j = 0; j < s->orgs[i].nroles; j++) {
            r = s->orgs[i].roles[j];
            ps = &r->lvl[level];

            if ((neg ? ps->neg[type] : ps->pos[type]) & bit) {
                return r;
            }
        }
    }

    return NULL;
}


/*
 * Role votes.  `owned`: the object has a non-empty owner equal to the
 * subject (never "*"); `user_lvl`: owned, org-less and not any_org.
 */
static void
rbac_role_votes(const rbac_subject_t *s, const rbac_object_t *o,
    rbac_type_t type, rbac_amask_t bit, int owned, int user_lvl,
    rbac_votes_t *v)
{
    int                        ov, mv, best_org, best_mem, here;
    rbac_amask_t               sneg, spos, uneg, upos;
    size_t                     i, j;
    rbac_tally_t               ot, mt;
    const rbac_role_t         *r;
    const rbac_subject_org_t  *so;

    memset(v, 0, sizeof(*v));

    /*
     * Site and user levels: every role of the subject votes, so only the
     * masks are gathered here; the role to name is looked up afterwards.
     */
    sneg = 0;
    spos = 0;
    uneg = 0;
    upos = 0;

    for (i = 0; i < s->nsite_roles; i++) {
        r = s->site_roles[i];
        sneg |= r->lvl[RBAC_LVL_SITE].neg[type];
        spos |= r->lvl[RBAC_LVL_SITE].pos[type];
        uneg |= r->lvl[RBAC_LVL_USER].neg[type];
        upos |= r->lvl[RBAC_LVL_USER].pos[type];
    }

    for (i = 0; i < s->norgs; i++) {
        so = &s->orgs[i];

        if (user_lvl) {
            for (j = 0; j < so->nroles; j++) {
                r = so->roles[j];
                sneg |= r->lvl[RBAC_LVL_SITE].neg[type];
                spos |= r->lvl[RBAC_LVL_SITE].pos[type];
                uneg |= r->lvl[RBAC_LVL_USER].neg[type];
                upos |= r->lvl[RBAC_LVL_USER].pos[type];
            }

        } else {
            for (j = 0; j < so->nroles; j++) {
                r = so->roles[j];
                sneg |= r->lvl[RBAC_LVL_SITE].neg[type];
                spos |= r->lvl[RBAC_LVL_SITE].pos[type];
            }
        }
    }

    if (sneg & bit) {
        v->site.neg = rbac_find(s, RBAC_LVL_SITE, type, bit, 1);

    } else if (spos & bit) {
        v->site.pos = rbac_find(s, RBAC_LVL_SITE, type, bit, 0);
    }

    if (user_lvl && (uneg & bit)) {
        v->user.neg = rbac_find(s, RBAC_LVL_USER, type, bit, 1);

    } else if (user_lvl && (upos & bit)) {
        v->user.pos = rbac_find(s, RBAC_LVL_USER, type, bit, 0);
    }

    best_org = -2;
    best_mem = -2;

    for (i = 0; i < s->norgs; i++) {
        so = &s->orgs[i];
        here = o->any_org
               || (o->org.len > 0 && so->org.len == o->org.len
                   && memcmp(so->org.data, o->org.data, o->org.len) == 0);

        if (!here) {
            continue;
        }

        memset(&ot, 0, sizeof(ot));
        memset(&mt, 0, sizeof(mt));

        for (j = 0; j < so->nroles; j++) {
            r = so->roles[j];
            rbac_tally(&ot, r, RBAC_LVL_ORG, type, bit);

            if (owned) {
                rbac_tally(&mt, r, RBAC_LVL_MEMBER, type, bit);
            }
        }

        if (o->any_org) {
            /* docs/authorization.md §2: the best over member orgs */
            v->is_member = 1;
            ov = rbac_vote(&ot);
            mv = rbac_vote(&mt);

            if (ov > best_org) {
                best_org = ov;
                v->org = ot;
                v->org_id = so->org;
            }

            if (owned && mv > best_mem) {
                best_mem = mv;
                v->member = mt;
                v->member_id = so->org;
            }

        } else {
            /* the object's org (entries are unique, see rbac_request) */
            v->is_member = 1;
            v->org = ot;
            v->member = mt;
            v->org_id = so->org;
            v->member_id = so->org;
        }
    }

    v->org_vote = rbac_vote(&v->org);
    v->member_vote = rbac_vote(&v->member);
}


/* docs/authorization.md §2: site first; org -1 blocks member grants. */
static int
rbac_level_allow(int site, int user, int org, int member)
{
    if (site == 1) {
        return 1;
    }

    if (site == -1) {
        return 0;
    }

    return user == 1 || org == 1 || (org != -1 && member == 1);
}


static int
rbac_acl_has(const rbac_acl_entry_t *e, size_t n, rbac_str_t id,
    rbac_amask_t bit)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if ((e[i].actions & bit) && rbac_str_eq(e[i].id, id)) {
            return 1;
        }
    }

    return 0;
}


static int
rbac_acl_allow(const rbac_subject_t *s, const rbac_object_t *o,
    rbac_amask_t bit, rbac_decision_t *d)
{
    size_t  i;

    if (rbac_acl_has(o->acl_users, o->nacl_users, s->id, bit)) {
        d->by = RBAC_BY_ACL_USER;
        d->acl_id = s->id;
        return 1;
    }

    for (i = 0; i < s->ngroups; i++) {
        if (rbac_acl_has(o->acl_groups, o->nacl_groups, s->groups[i], bit)) {
            d->by = RBAC_BY_ACL_GROUP;
            d->acl_id = s->groups[i];
            return 1;
        }
    }

    /* the org's Everyone group has the org's id */
    if (rbac_acl_has(o->acl_groups, o->nacl_groups, o->org, bit)) {
        d->by = RBAC_BY_ACL_EVERYONE;
        d->acl_id = o->org;
        return 1;
    }

    return 0;
}


static int
rbac_allow_match(const rbac_allow_t *l, size_t n, rbac_type_t type,
    rbac_str_t id)
{
    size_t  i, len;

    for (i = 0; i < n; i++) {
        if (!l[i].any_type
            && (l[i].type != type || l[i].type == RBAC_T_OTHER))
        {
            continue;
        }

        if (l[i].any_id) {
            return 1;
        }

        len = strlen(l[i].id);

        if (len == id.len && (len == 0 || memcmp(l[i].id, id.data, len) == 0))
        {
            return 1;
        }
    }

    return 0;
}


/* The four scope votes; org-level ones only in the subject's orgs. */
static int
rbac_scope_allow(const rbac_subject_t *s, const rbac_object_t *o,
    rbac_type_t type, rbac_amask_t bit, int owned, int user_lvl,
    int is_member)
{
    int                      site, user, org, member, ov, mv;
    size_t                   i, j;
    const rbac_scope_t      *sc;
    const rbac_scope_org_t  *e;

    sc = s->scope;

    site = rbac_ps_vote(&sc->site, type, bit);
    user = user_lvl ? rbac_ps_vote(&sc->user, type, bit) : 0;
    org = 0;
    member = 0;

    if (sc->norgs > 0 && !o->any_org && is_member) {
        for (j = 0; j < sc->norgs; j++) {
            e = &sc->orgs[j];

            if (rbac_str_eq_cstr(o->org, e->org)) {
                ov = rbac_ps_vote(&e->org_ps, type, bit);
                mv = owned ? rbac_ps_vote(&e->member_ps, type, bit) : 0;
                org = (ov == 1);
                member = (mv == 1 && ov != -1);
                break;
            }
        }

    } else if (sc->norgs > 0 && o->any_org && s->norgs > 0) {
        org = -2;
        member = owned ? -2 : 0;

        for (i = 0; i < s->norgs; i++) {
            ov = 0;
            mv = 0;

            for (j = 0; j < sc->norgs; j++) {
                e = &sc->orgs[j];

                if (rbac_str_eq_cstr(s->orgs[i].org, e->org)) {
                    ov = rbac_ps_vote(&e->org_ps, type, bit);
                    mv = rbac_ps_vote(&e->member_ps, type, bit);
                    break;
                }
            }

            org = ov > org ? ov : org;

            if (owned) {
                member = mv > member ? mv : member;
            }
        }
    }

    return rbac_level_allow(site, user, org, member);
}


void
rbac_decide(const rbac_subject_t *s, const rbac_object_t *o,
    rbac_action_t action, rbac_decision_t *d)
{
    int           owned, user_lvl, site, user, org, member;
    rbac_type_t   type;
    rbac_amask_t  bit;
    rbac_votes_t  v;

    assert(s != NULL && o != NULL && d != NULL);
    assert(s->site_roles != NULL || s->nsite_roles == 0);
    assert(s->orgs != NULL || s->norgs == 0);
    assert(s->groups != NULL || s->ngroups == 0);
    assert(s->token_allow != NULL || s->ntoken_allow == 0);
    assert(o->acl_users != NULL || o->nacl_users == 0);
    assert(o->acl_groups != NULL || o->nacl_groups == 0);

    memset(d, 0, sizeof(*d));

    type = ((unsigned) o->type < RBAC_NTYPES) ? o->type : RBAC_T_OTHER;
    action = ((unsigned) action <= RBAC_A_OTHER) ? action : RBAC_A_OTHER;
    bit = RBAC_ABIT(action);

    d->type = type;
    d->action = action;

    if (s->status != RBAC_STATUS_ACTIVE) {
        d->by = RBAC_BY_STATUS;
        return;
    }

    if (o->deprecated && type == RBAC_T_TEMPLATE && action == RBAC_A_USE) {
        d->by = RBAC_BY_DEPRECATED;
        return;
    }

    owned = o->owner.len > 0 && rbac_str_eq(o->owner, s->id)
            && !rbac_str_eq_cstr(o->owner, "*");
    user_lvl = owned && o->org.len == 0 && !o->any_org;

    rbac_role_votes(s, o, type, bit, owned, user_lvl, &v);

    site = rbac_vote(&v.site);
    user = rbac_vote(&v.user);

    if (o->any_org) {
        org = v.org_vote;
        member = owned ? v.member_vote : 0;

    } else {
        org = (v.org_vote == 1);
        member = (owned && v.member_vote == 1 && v.org_vote != -1);
    }

    d->by = RBAC_BY_ROLE;

    if (site == 1) {
        d->level = RBAC_LVL_SITE;
        d->role = v.site.pos;

    } else if (site != -1 && user == 1) {
        d->level = RBAC_LVL_USER;
        d->role = v.user.pos;

    } else if (site != -1 && org == 1) {
        d->level = RBAC_LVL_ORG;
        d->role = v.org.pos;
        d->org = v.org_id;

    } else if (site != -1 && org != -1 && member == 1) {
        d->level = RBAC_LVL_MEMBER;
        d->role = v.member.pos;
        d->org = v.member_id;

    } else if (v.is_member && rbac_acl_allow(s, o, bit, d)) {
        /* docs/authorization.md §2: the ACL ignores role negations */

    } else {
        /* denied: name the negation that decided, if any */
        d->negated = 1;

        if (site == -1) {
            d->level = RBAC_LVL_SITE;
            d->role = v.site.neg;

        } else if (v.org_vote == -1) {
            d->level = RBAC_LVL_ORG;
            d->role = v.org.neg;
            d->org = v.org_id;

        } else if (user == -1) {
            d->level = RBAC_LVL_USER;
            d->role = v.user.neg;

        } else if (v.member_vote == -1 && owned) {
            d->level = RBAC_LVL_MEMBER;
            d->role = v.member.neg;
            d->org = v.member_id;

        } else {
            d->negated = 0;
            d->by = RBAC_BY_NONE;
        }

        return;
    }

    /* docs/authorization.md §2: scope is an intersection */
    if (s->scope != NULL) {
        if (!rbac_scope_allow(s, o, type, bit, owned, user_lvl, v.is_member))
        {
            d->by = RBAC_BY_SCOPE;
            d->role = NULL;
            d->org.data = NULL;
            d->org.len = 0;
            return;
        }

        if (!rbac_allow_match(s->scope->allow, s->scope->nallow, type, o->id))
        {
            d->by = RBAC_BY_ALLOW_LIST;
            d->role = NULL;
            return;
        }
    }

    if (s->ntoken_allow > 0
        && !rbac_allow_match(s->token_allow, s->ntoken_allow, type, o->id))
    {
        d->by = RBAC_BY_TOKEN_ALLOW_LIST;
        d->role = NULL;
        return;
    }

    d->allow = 1;
}


rbac_amask_t
rbac_acl_role_actions(rbac_type_t t, rbac_str_t role)
{
    switch (t) {

    case RBAC_T_WORKSPACE:
    case RBAC_T_WORKSPACE_DORMANT:
        if (rbac_str_eq_cstr(role, "use")) {
            return RBAC_AM(READ) | RBAC_AM(SSH) | RBAC_AM(APPLICATION_CONNECT)
                   | RBAC_AM(START) | RBAC_AM(STOP);
        }

        if (rbac_str_eq_cstr(role, "admin")) {
            return RBAC_WS12 & ~RBAC_AM(DELETE);
        }

        return 0;

    case RBAC_T_TEMPLATE:
        if (rbac_str_eq_cstr(role, "use")) {
            return RBAC_AM(READ) | RBAC_AM(USE);
        }

        if (rbac_str_eq_cstr(role, "admin")) {
            return RBAC_AMASK_ALL;
        }

        return 0;

    default:
        return 0;
    }
}


/* ---- reasons ---- */

static const char  *rbac_level_names[RBAC_NLEVELS] = {
    "site", "user", "org", "member"
};


/*
 * The reason text is built for every decision, so it is appended piece by
 * piece (snprintf costs more than the decision itself).  Names from
 * records are cut at 128 bytes; the whole text at the buffer's size.
 */
typedef struct {
    char  *p;
    char  *last;        /* the byte kept for the NUL */
} rbac_text_t;


static void
rbac_put(rbac_text_t *t, const char *s, size_t len)
{
    size_t  room;

    room = (size_t) (t->last - t->p);
    if (len > room) {
        len = room;
    }

    memcpy(t->p, s, len);
    t->p += len;
}


static void
rbac_puts(rbac_text_t *t, const char *s)
{
    rbac_put(t, s, strlen(s));
}


static void
rbac_put_name(rbac_text_t *t, rbac_str_t s)
{
    rbac_put(t, s.data, s.len > 128 ? 128 : s.len);
}


static void
rbac_put_perm(rbac_text_t *t, const rbac_decision_t *d,
    const rbac_object_t *o)
{
    if (o != NULL && o->type_name.len > 0) {
        rbac_put_name(t, o->type_name);

    } else {
        rbac_puts(t, rbac_type_name(d->type));
    }

    rbac_put(t, ":", 1);
    rbac_puts(t, rbac_action_name(d->action));
}


size_t
rbac_decision_reason(const rbac_decision_t *d, const rbac_subject_t *s,
    const rbac_object_t *o, char *buf, size_t size)
{
    rbac_text_t  t;

    assert(d != NULL);
    assert(buf != NULL || size == 0);

    if (size == 0) {
        return 0;
    }

    t.p = buf;
    t.last = buf + size - 1;

    switch (d->by) {

    case RBAC_BY_STATUS:
        rbac_puts(&t, (s != NULL && s->status == RBAC_STATUS_DORMANT)
                      ? "account dormant" : "account suspended");
        break;

    case RBAC_BY_DEPRECATED:
        rbac_puts(&t, "template deprecated");

        if (o != NULL && o->deprecated_message.len > 0) {
            rbac_put(&t, ": ", 2);
            rbac_put(&t, o->deprecated_message.data,
                     o->deprecated_message.len);
        }

        break;

    case RBAC_BY_ROLE:
        rbac_puts(&t, ((unsigned) d->level < RBAC_NLEVELS)
                      ? rbac_level_names[d->level] : "?");
        rbac_puts(&t, " role ");
        rbac_puts(&t, d->role != NULL ? d->role->name : "?");

        if (d->level == RBAC_LVL_ORG || d->level == RBAC_LVL_MEMBER) {
            rbac_puts(&t, " in ");
            rbac_put_name(&t, d->org);
        }

        rbac_puts(&t, d->negated ? " denies " : " grants ");
        rbac_put_perm(&t, d, o);

        if (d->level == RBAC_LVL_USER || d->level == RBAC_LVL_MEMBER) {
            rbac_puts(&t, " on own object");
        }

        break;

    case RBAC_BY_ACL_USER:
    case RBAC_BY_ACL_GROUP:
    case RBAC_BY_ACL_EVERYONE:
        rbac_puts(&t, d->by == RBAC_BY_ACL_USER ? "acl user "
                      : d->by == RBAC_BY_ACL_GROUP ? "acl group "
                      : "acl Everyone of ");
        rbac_put_name(&t, d->acl_id);
        rbac_puts(&t, " grants ");
        rbac_put_perm(&t, d, o);
        break;

    case RBAC_BY_SCOPE:
        rbac_puts(&t, "scope ");

        if (s != NULL && s->scope != NULL && s->scope->name[0] != '\0') {
            rbac_puts(&t, s->scope->name);
            rbac_puts(&t, " ");
        }

        rbac_puts(&t, "does not grant ");
        rbac_put_perm(&t, d, o);
        break;

    case RBAC_BY_ALLOW_LIST:
    case RBAC_BY_TOKEN_ALLOW_LIST:
        if (o != NULL && o->type_name.len > 0) {
            rbac_put_name(&t, o->type_name);

        } else {
            rbac_puts(&t, rbac_type_name(d->type));
        }

        rbac_puts(&t, " ");

        if (o != NULL && o->id.len > 0) {
            rbac_put_name(&t, o->id);

        } else {
            rbac_puts(&t, "\"\"");
        }

        rbac_puts(&t, d->by == RBAC_BY_ALLOW_LIST
                      ? " not in the scope allow list"
                      : " not in the token allow list");
        break;

    default:
        rbac_puts(&t, "no role or acl grants ");
        rbac_put_perm(&t, d, o);
        break;
    }

    *t.p = '\0';

    return (size_t) (t.p - buf);
}
