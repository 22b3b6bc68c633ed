/*
 * rbac_object.c: the object resolver (rbac_object.h): which record an
 * object named by a request is read from, and the object built from the
 * request's arguments and that record, record first
 * (docs/authorization.md §11).
 */

#include <assert.h>
#include <string.h>

#include "rbac_object.h"


static const rbac_str_t  rbac_object_none = rbac_string("");

/*
 * The arguments with "me" replaced, into v[0..2] (id, org, owner); data
 * NULL when not given (org/owner: or empty).  NULL, or the reason they are
 * refused.
 */
static const char *
rbac_object_args(const rbac_object_args_t *args, rbac_str_t v[3])
{
    size_t  i;

    v[0] = args->id;
    v[1] = args->org;
    v[2] = args->owner;

    for (i = 0; i < 3; i++) {
        if (i != 1 && v[i].data != NULL && v[i].len == 2
            && memcmp(v[i].data, "me", 2) == 0)
        {
            v[i] = args->me;

            if (v[i].data == NULL) {
                v[i].data = "";
                v[i].len = 0;
            }
        }

        if (v[i].data == NULL) {
            continue;
        }

        if (v[i].len > RBAC_MAX_NAME) {
            return i == 0 ? "object id too long"
                          : i == 1 ? "object org too long"
                                   : "object owner too long";
        }

        if (rbac_str_ctl(v[i])) {
            return i == 0 ? "object id holds a control byte"
                          : i == 1 ? "object org holds a control byte"
                                   : "object owner holds a control byte";
        }

        if (v[i].len == 0) {
            if (i == 0) {
                /* an id= that comes out empty never widens to the type */
                return "object id is empty";
            }

            v[i].data = NULL;
        }
    }

    return NULL;
}


rbac_rec_type_t
rbac_object_record(const rbac_object_args_t *args, rbac_str_t *id)
{
    rbac_str_t  v[3];

    assert(args != NULL && id != NULL);

    id->data = NULL;
    id->len = 0;

    if (rbac_object_args(args, v) != NULL || v[0].data == NULL) {
        return RBAC_REC_NONE;
    }

    *id = v[0];

    switch (args->type) {

    case RBAC_T_WORKSPACE:
    case RBAC_T_TEMPLATE:
    case RBAC_T_GROUP:
        return RBAC_REC_OBJ;

    case RBAC_T_ORGANIZATION:
        return RBAC_REC_ORG;

    case RBAC_T_USER:
        return RBAC_REC_USER;

    default:
        return RBAC_REC_NONE;
    }
}


/* 1 if the given argument (data NULL: not given) contradicts have. */
static int
rbac_object_differs(rbac_str_t given, rbac_str_t have)
{
    return given.data != NULL && !rbac_str_eq(given, have);
}


/*
 * A user object: owned by the user and in no org, as Coder's user objects
 * are.  An org= names no org of a user (an org admin would otherwise act
 * on any member, site owners included, by naming his own org): it is a
 * mismatch.  Org-scoped views of a user are organization_member objects.
 */
static const char *
rbac_object_user(const rbac_user_rec_t *u, rbac_str_t v[3],
    rbac_object_t *out)
{
    (void) u;

    out->owner = out->id;

    if (rbac_object_differs(v[2], out->owner)) {
        return "object owner mismatch";
    }

    if (v[1].data != NULL) {
        return "object org mismatch";
    }

    return NULL;
}


/* 1 if rec is the record of that kind, type and id. */
static int
rbac_object_rec_is(const void *rec, rbac_rec_type_t kind, rbac_type_t type,
    rbac_str_t id)
{
    const rbac_rec_hdr_t   *h = rec;
    const rbac_obj_rec_t   *o = rec;
    const rbac_org_rec_t   *g = rec;
    const rbac_user_rec_t  *u = rec;

    if (h->type != kind) {
        return 0;
    }

    switch (kind) {

    case RBAC_REC_OBJ:
        return o->type == type && rbac_str_eq(rbac_ref(o, o->id), id);

    case RBAC_REC_ORG:
        return rbac_str_eq(rbac_ref(g, g->id), id);

    default: /* RBAC_REC_USER */
        return rbac_str_eq(rbac_ref(u, u->id), id);
    }
}


rbac_rc_t
rbac_object_resolve(const rbac_object_args_t *args, const void *rec,
    const rbac_allocator_t *a, rbac_object_t *out, rbac_err_t *err)
{
    rbac_rc_t        rc;
    rbac_str_t       v[3], id;
    const char      *deny, *type_name;
    rbac_rec_type_t  kind;

    assert(args != NULL && a != NULL && out != NULL);

    memset(out, 0, sizeof(*out));

    type_name = rbac_type_name(args->type);

    deny = rbac_object_args(args, v);
    if (deny != NULL) {
        return rbac_err_set(err, RBAC_EINVAL, "%s", deny);
    }

    kind = rbac_object_record(args, &id);

    if (kind != RBAC_REC_NONE && rec == NULL) {
        return rbac_err_set(err, RBAC_ENOTFOUND, "%s %.*s not found",
                            type_name, (int) id.len, id.data);
    }

    if (kind != RBAC_REC_NONE && !rbac_object_rec_is(rec, kind, args->type,
                                                     id))
    {
        return rbac_err_set(err, RBAC_EPARSE,
                            "the record read for %s %.*s is another one",
                            type_name, (int) id.len, id.data);
    }

    if (kind == RBAC_REC_OBJ) {
        /* the record's org, owner, ACL, dormancy and deprecation */
        rc = rbac_object_view(rec, a, out);
        if (rc != RBAC_OK) {
            return rbac_err_set(err, rc, "out of memory");
        }

    } else {
        out->type = args->type;
        out->type_name.data = type_name;
        out->type_name.len = strlen(type_name);
        out->id = v[0].data ? v[0] : rbac_object_none;
        out->org = rbac_object_none;
        out->owner = rbac_object_none;
    }

    /* an object read from its record is in the record's org, never "any" */
    out->any_org = args->any_org && kind == RBAC_REC_NONE;

    switch (kind) {

    case RBAC_REC_ORG:
        out->org = out->id;
        break;

    case RBAC_REC_USER:
        deny = rbac_object_user(rec, v, out);
        break;

    case RBAC_REC_NONE:
        if (args->type == RBAC_T_USER && v[1].data != NULL) {
            /* a user's org is one of its memberships: only its record says */
            deny = "object org mismatch";
            break;
        }

        out->org = v[1].data ? v[1] : out->org;
        out->owner = v[2].data ? v[2] : out->owner;
        break;

    default: /* RBAC_REC_OBJ */
        break;
    }

    if (deny == NULL && rbac_object_differs(v[1], out->org)) {
        deny = "object org mismatch";
    }

    if (deny == NULL && rbac_object_differs(v[2], out->owner)) {
        deny = "object owner mismatch";
    }

    if (deny != NULL) {
        rbac_object_view_free(out, a);
        return rbac_err_set(err, RBAC_EINVAL, "%s", deny);
    }

    return RBAC_OK;
}
