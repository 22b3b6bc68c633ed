/*
 * rbac_reference.h: references (docs/references.md): an object argument
 * written "@<kind>:<value>", the key rbac:ref:<kind>:<key> it looks up, the
 * type a kind resolves to, and the canonical spelling of a UUID.  The
 * module and rbacctl (check, ref, apply) turn values into keys here and
 * nowhere else.
 */

#ifndef RBAC_REFERENCE_H
#define RBAC_REFERENCE_H

#include "rbac_base.h"
#include "rbac_names.h"


typedef enum {
    RBAC_RK_NONE = 0,       /* a plain value, used as written */
    RBAC_RK_UUID,           /* @uuid: any spelling uuid.Parse accepts */
    RBAC_RK_ORGNAME,        /* organization by name */
    RBAC_RK_USERNAME,       /* user by username */
    RBAC_RK_WORKSPACE,      /* workspace by owner/name */
    RBAC_RK_TEMPLATE,       /* template by org/name */
    RBAC_RK_GROUP,          /* group by org/name */
    RBAC_RK_BUILD,          /* workspace build id -> workspace */
    RBAC_RK_VERSION,        /* template version id -> template */
    RBAC_RK_AGENT,          /* workspace agent id -> workspace */
    RBAC_RK_APIKEY,         /* API key id -> its owner */
    RBAC_NRK
} rbac_refkind_t;

/* Which argument of rbac_object / rbac_also a value is for. */
typedef enum {
    RBAC_ARG_ID = 0,
    RBAC_ARG_ORG,
    RBAC_ARG_OWNER
} rbac_arg_t;

#define RBAC_UUID_LEN     36

/* Room for "<kind>:<parent>/<name>" with every part at its bound. */
#define RBAC_REF_KEY_MAX  (16 + 2 * RBAC_MAX_NAME + 2)


/*
 * 1 when Go's uuid.Parse accepts s[0..len), with its canonical spelling
 * (lower case, hyphenated, RBAC_UUID_LEN bytes, no NUL) in out; 0 and out
 * untouched otherwise.  Accepted: 36 characters with hyphens at 8, 13, 18,
 * 23; "urn:uuid:" (any case) before them; any one character either side of
 * them (38 characters: Go drops both unseen); 32 hex digits.
 */
int rbac_uuid_canon(const char *s, size_t len, char *out);

/* The kind named `name` ("workspace"); RBAC_RK_NONE when unknown. */
rbac_refkind_t rbac_refkind_from_name(rbac_str_t name);
const char *rbac_refkind_name(rbac_refkind_t k);

/* The object type a kind resolves to; RBAC_T_OTHER for none and uuid. */
rbac_type_t rbac_refkind_target(rbac_refkind_t k);

/* 1 when a value of kind k fits argument `arg` of an object of type t. */
int rbac_refkind_fits(rbac_refkind_t k, rbac_type_t t, rbac_arg_t arg);

/*
 * Splits an argument as written in the configuration: "@<kind>:<rest>" is
 * a kind and its rest; anything that does not start with '@' is
 * RBAC_RK_NONE and all of s.  RBAC_EINVAL: '@' without ':'; RBAC_EUNKNOWN:
 * a kind that does not exist.
 */
rbac_rc_t rbac_refarg_split(rbac_str_t s, rbac_refkind_t *kind,
    rbac_str_t *rest);

/*
 * What value v of kind k names, with `caller` the caller's id ("" when not
 * known yet).  *is_key = 0: *out is the object's id itself (a plain value
 * as written; a canonical UUID; the caller for "me"; may be "" for "me"
 * with no caller).  *is_key = 1: *out is "<kind>:<key>", the reference to
 * read (prefix + "ref:" + *out).  *out points into buf (RBAC_REF_KEY_MAX
 * bytes), into v or into caller.
 *
 * RBAC_EINVAL with *why set: not a UUID where one is declared, an empty
 * value, parent or name, "me" where a stored key is wanted; RBAC_EBOUND:
 * a part over RBAC_MAX_NAME bytes.  Decided from v alone (never from the
 * caller), so a request can be refused before anything is looked up.
 */
rbac_rc_t rbac_refarg_eval(rbac_refkind_t k, rbac_str_t v,
    rbac_str_t caller, char *buf, rbac_str_t *out, int *is_key,
    const char **why);

/*
 * The reference key "<kind>:<key>" for a stored reference written as
 * "<kind>:<value>" (rbacctl ref, policy files), spelled by
 * rbac_refarg_eval with no caller; a value that names an id directly ("me",
 * a UUID for orgname or username: nothing would read the key) or an
 * unknown kind is RBAC_EINVAL.  buf as above.
 */
rbac_rc_t rbac_refkey_parse(rbac_str_t s, char *buf, rbac_str_t *out,
    rbac_refkind_t *kind, const char **why);


#endif /* RBAC_REFERENCE_H */
