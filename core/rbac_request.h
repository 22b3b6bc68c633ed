/*
 * rbac_request.h: decision requests (docs/rbacctl.md §5), the input of
 * `rbacctl eval` and of the conformance cases: one JSON object naming a
 * subject, an object and an action, with request-local custom roles,
 * deployment options and per-org sharing modes.
 *
 * Parsing yields a bundle ready for rbac_decide: the subject's roles already
 * resolved (request custom roles first, then the catalog variant for the
 * options and the org's sharing mode; unknown names contribute nothing), the
 * scope compiled, ACL role names expanded.  The bundle is a few blocks from
 * the allocator, all freed by rbac_request_free.
 */

#ifndef RBAC_REQUEST_H
#define RBAC_REQUEST_H

#include "rbac_decide.h"


typedef struct rbac_rq_block_s  rbac_rq_block_t;

typedef struct {
    rbac_str_t          name;           /* "" when absent */
    rbac_subject_t      subject;
    rbac_object_t       object;
    rbac_action_t       action;         /* RBAC_A_OTHER if unknown */
    rbac_str_t          action_name;    /* as given */
    unsigned            options;        /* RBAC_OPT_* */
    int                 has_allow;      /* the request says "allow" */
    int                 allow;          /* its expected answer */
    rbac_rq_block_t    *blocks;         /* the memory of the bundle */
} rbac_request_t;

/*
 * Parses one request line of `len` bytes.  `cat` resolves built-in role and
 * scope names (NULL: only the request's custom roles resolve).  Fields outside
 * docs/rbacctl.md §5 are ignored.  On failure *out is NULL, nothing is left
 * allocated, and err->msg names the field: RBAC_EPARSE (not JSON / not an
 * object), RBAC_EINVAL (wrong type or value), RBAC_EUNKNOWN (unknown scope or
 * ACL role name), RBAC_EBOUND (docs/security.md §7: line over RBAC_MAX_RECORD,
 * list over RBAC_MAX_LIST, name or id over RBAC_MAX_NAME, scope over
 * RBAC_SCOPE_MAX_ORGS orgs or RBAC_SCOPE_MAX_ALLOW allow-list entries),
 * RBAC_ENOMEM.
 */
rbac_rc_t rbac_request_parse(const char *json, size_t len,
    const rbac_catalog_t *cat, const rbac_allocator_t *a,
    rbac_request_t **out, rbac_err_t *err);

/* Frees everything rbac_request_parse returned; req may be NULL. */
void rbac_request_free(rbac_request_t *req, const rbac_allocator_t *a);


#endif /* RBAC_REQUEST_H */
