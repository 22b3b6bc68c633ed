/*
 * rbac_object.h: the object resolver.  One function turns what a request
 * says about its object (type, id=, org=, owner=, any_org, the caller for
 * "me") and the record those name into the object rbac_decide works on,
 * with every rule of docs/authorization.md §11.  The module (rbac_object,
 * rbac_also) and `rbacctl check` call it and nothing else for this.
 *
 * Two steps, because the module reads records asynchronously:
 * rbac_object_record() says which record the object is read from (a pure
 * function of the arguments), rbac_object_resolve() builds the object once
 * that record (or its absence) is known.
 */

#ifndef RBAC_OBJECT_H
#define RBAC_OBJECT_H

#include "rbac_record.h"


/*
 * What the request says.  A string with data NULL is an argument not
 * given; org= and owner= that come out empty count as not given, an id=
 * that comes out empty is a deny (never the whole type).  "me" in id= or
 * owner= is the caller; me.len 0 (no caller id) makes it empty.
 */
typedef struct {
    rbac_type_t  type;
    rbac_str_t   id;
    rbac_str_t   org;
    rbac_str_t   owner;
    rbac_str_t   me;
    uint8_t      any_org;
} rbac_object_args_t;

/*
 * The record the object is read from: RBAC_REC_OBJ (rbac:obj:<type>:<id>,
 * workspace, template and group), RBAC_REC_ORG (rbac:org:<id>),
 * RBAC_REC_USER (rbac:user:<id>), each only with an id; else
 * RBAC_REC_NONE: the object is built from the arguments alone.  *id is the
 * id to read ("me" replaced); it points into args.
 */
rbac_rec_type_t rbac_object_record(const rbac_object_args_t *args,
    rbac_str_t *id);

/*
 * The resolver.  rec is the record rbac_object_record named (of that kind)
 * or NULL when it does not exist; it is ignored when none was named.
 *
 *   RBAC_OK        *out is the object (strings point into args and rec,
 *                  the ACL into memory from a: rbac_object_view_free)
 *   RBAC_EINVAL    denied before any decision (403): err->msg is the
 *                  reason ("object org mismatch", "object id is empty")
 *   RBAC_ENOTFOUND denied, the record does not exist (403):
 *                  "<type> <id> not found"
 *   RBAC_EPARSE    the record is not the one asked for (another kind, type
 *                  or id): a malformed record (503)
 *   RBAC_ENOMEM    from a
 *
 * The rules: with a record, the record's org, owner and ACL are the object's,
 * and an org= or owner= that differs from them is a deny; an org record's
 * object is in that org and has no owner; a user object is owned by the user
 * and in no org, as in Coder, so an org= with a user is a mismatch, with or
 * without its record.  Other objects without a record are what the arguments
 * say.  Every id, org and owner is at most RBAC_MAX_NAME bytes with no control
 * byte.
 */
rbac_rc_t rbac_object_resolve(const rbac_object_args_t *args,
    const void *rec, const rbac_allocator_t *a, rbac_object_t *out,
    rbac_err_t *err);


#endif /* RBAC_OBJECT_H */
