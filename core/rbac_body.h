/*
 * rbac_body.h: the top-level fields of a JSON request body, for
 * `rbac_json_body` (DESIGN 5, 11): some endpoints name their target in the
 * body (a build's "transition", a new workspace's "template_id").
 */

#ifndef RBAC_BODY_H
#define RBAC_BODY_H

#include "rbac_base.h"


typedef struct {
    rbac_str_t   name;
    rbac_str_t   value;
} rbac_body_field_t;

typedef struct {
    rbac_body_field_t  *fields;
    size_t              nfields;
} rbac_body_t;

/*
 * Parses a body that must be one JSON object and keeps its top-level
 * string, number and boolean fields: strings as their bytes, numbers in
 * their shortest round-trip form ("3", "2.5"), booleans as "true"/"false".
 * null, objects and arrays are left out.  The fields and their bytes are one
 * allocation from `a` (free out->fields with it).  RBAC_EPARSE when the body
 * is not a JSON object (err says why), RBAC_EBOUND past RBAC_MAX_LIST
 * fields.
 */
rbac_rc_t rbac_body_parse(const char *json, size_t len,
    const rbac_allocator_t *a, rbac_body_t *out, rbac_err_t *err);

/* The value of field `name`, or NULL when the body has no such field. */
const rbac_str_t *rbac_body_get(const rbac_body_t *b, rbac_str_t name);


#endif /* RBAC_BODY_H */
