/*
 * rbac_body.h: the top-level fields of a JSON request body, for
 * `rbac_json_body` (docs/directives.md §11): some endpoints name their target
 * in the body (a build's "transition", a new workspace's "template_id").
 *
 * The body is read the way the upstream will read it, and any body two
 * readers could understand differently is refused.  Coder is written in Go,
 * whose encoding/json matches a key to a field case-insensitively (with the
 * Unicode folds of 's' and 'k': U+017F and U+212A) and lets the last of
 * duplicate keys win.  So field names are kept folded (ASCII lower case,
 * U+017F -> 's', U+212A -> 'k'), two top-level keys that fold alike are a
 * refusal, and so is a top-level key or string holding a NUL.
 */

#ifndef RBAC_BODY_H
#define RBAC_BODY_H

#include "rbac_base.h"


typedef struct {
    rbac_str_t   name;          /* folded */
    rbac_str_t   value;
} rbac_body_field_t;

typedef struct {
    rbac_body_field_t  *fields;     /* sorted by name */
    size_t              nfields;
} rbac_body_t;

/*
 * Parses a body that must be exactly one JSON object (whitespace around it
 * allowed, nothing else) and keeps its top-level string, number and boolean
 * fields: strings decoded, numbers as written in the body ("3", "2.50",
 * "1e3"), booleans as "true"/"false".  null, objects and arrays are left
 * out.  The top level is held to strict JSON (RFC 8259): no control
 * character in a string, no "01" or "1." numbers, no byte order mark.
 * Nested values are only checked to be JSON.
 *
 * The fields, their names and the values written with an escape are one
 * allocation from `a` (free out->fields with it; NULL when there is no field);
 * the other values point into json, which must outlive out.  Errors, with
 * out->fields NULL: RBAC_EPARSE when the body is not a JSON object or is
 * ambiguous (a key twice, a NUL), err saying why; RBAC_EBOUND past
 * RBAC_MAX_LIST top-level members; RBAC_ENOMEM.
 */
rbac_rc_t rbac_body_parse(const char *json, size_t len,
    const rbac_allocator_t *a, rbac_body_t *out, rbac_err_t *err);

/*
 * The value of field `name` (folded before the lookup, so "Template_ID"
 * finds "template_id"), or NULL when the body has no such scalar field.
 * The result points into b.
 */
const rbac_str_t *rbac_body_get(const rbac_body_t *b, rbac_str_t name);


#endif /* RBAC_BODY_H */
