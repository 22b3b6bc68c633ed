/*
 * rbac_hdr.h: what may reach an upstream as an identity header
 * (X-Rbac-User, X-Rbac-Kind, X-Rbac-Org, X-Rbac-Roles).
 *
 * - rbac_hdr_encode: how one value (a user id, an org, one role name) is
 *   written into a header: every byte that is a control byte, a space, DEL,
 *   not ASCII, '%' or ',' becomes %XX (upper-case hex); every other byte
 *   is itself.  X-Rbac-Roles joins encoded names with ','.  A reader splits
 *   on ',' and percent-decodes each part (Go url.PathUnescape, Python
 *   urllib.parse.unquote) and gets the bytes back exactly.
 * - rbac_hdr_has_ctl: the control-byte test of object arguments.
 * - rbac_hdr_is_identity: which client header names count as X-Rbac-*.
 *
 * Nothing here allocates or keeps a pointer past its return.
 */

#ifndef RBAC_HDR_H
#define RBAC_HDR_H

#include "rbac_base.h"


/*
 * Writes the encoding of `in` to `out` (when out is not NULL) and returns
 * its length, at most 3 * in.len; with out NULL it only measures.
 */
size_t rbac_hdr_encode(rbac_str_t in, char *out);

/*
 * 1 if s holds a byte below 0x20 (CR, LF, NUL, TAB, ...) or 0x7f: core's one
 * control-byte test, rbac_str_ctl, under the name of this file's job.
 */
int rbac_hdr_has_ctl(rbac_str_t s);

/*
 * 1 if a request header name is one of the identity headers in any
 * spelling: it starts with "x-rbac-" compared without case, with '_'
 * taken as '-' ("X_Rbac_User", "x-RBAC_roles", "X-Rbac-Anything").
 */
int rbac_hdr_is_identity(rbac_str_t name);


#endif /* RBAC_HDR_H */
