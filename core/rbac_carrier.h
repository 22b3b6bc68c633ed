/*
 * rbac_carrier.h: where a credential travels in a request, read the way
 * the upstream (Go's net/http, for Coder) reads it, so that the module can
 * see every credential a request carries (rbac_token, docs/directives.md
 * §5 and docs/security.md §2: two different credentials in one request are
 * a 401).
 *
 * - rbac_carrier_cookie_next: the name=value pairs of one Cookie header
 *   value, split at ';' and at spaces (as Python reads it), spaces around
 *   '=' allowed, one pair of surrounding double quotes taken off the value
 *   (as Go does): a superset of the pairs any upstream sees;
 * - rbac_carrier_arg_next: the name=value pairs of a query string, split
 *   at '&' (raw: decode them with rbac_carrier_unescape);
 * - rbac_carrier_unescape: percent-decoding with '+' as a space (Go's
 *   url.QueryUnescape);
 * - rbac_carrier_name_eq, rbac_carrier_name_is: names compared without
 *   case, and, for header names, with '_' taken as '-' (what nginx's
 *   $http_ variables match).
 *
 * Views point into the input; nothing allocates.
 */

#ifndef RBAC_CARRIER_H
#define RBAC_CARRIER_H

#include "rbac_base.h"


/*
 * Takes the next pair off *rest (a Cookie header value) and returns 1, or
 * returns 0 when none is left.  A part without '=' is a pair with an empty
 * value.  Empty parts are skipped.
 */
int rbac_carrier_cookie_next(rbac_str_t *rest, rbac_str_t *name,
    rbac_str_t *value);

/*
 * Takes the next pair off *rest (a query string, without '?') and returns
 * 1, or 0 when none is left.  Name and value are as written (still
 * percent-encoded).  Empty parts are skipped.
 */
int rbac_carrier_arg_next(rbac_str_t *rest, rbac_str_t *name,
    rbac_str_t *value);

/*
 * Percent-decodes `in` into out (room for in.len bytes), '+' read as a
 * space, and returns the decoded length; returns (size_t) -1 when a '%'
 * is not followed by two hex digits (Go refuses such a pair).
 */
size_t rbac_carrier_unescape(rbac_str_t in, char *out);

/* 1 if a and b are the same name without case; with dash, '_' == '-'. */
int rbac_carrier_name_eq(rbac_str_t a, rbac_str_t b, int dash);

/*
 * The same comparison against a name folded once beforehand: name folded
 * into out (room for name.len bytes) by rbac_carrier_name_fold, then
 * rbac_carrier_name_is(a, folded, dash) == rbac_carrier_name_eq(a, name,
 * dash).
 */
void rbac_carrier_name_fold(rbac_str_t name, char *out, int dash);
int rbac_carrier_name_is(rbac_str_t a, rbac_str_t folded, int dash);


#endif /* RBAC_CARRIER_H */
