/*
 * rbac.h: the whole public API of core/, the policy engine.  Pure C11: no
 * nginx header, no I/O, no clock, no globals; memory and time are passed in.
 */

#ifndef RBAC_H
#define RBAC_H

#include "rbac_base.h"
#include "rbac_names.h"
#include "rbac_role.h"
#include "rbac_decide.h"
#include "rbac_record.h"
#include "rbac_jwt.h"
#include "rbac_cred.h"
#include "rbac_request.h"
#include "rbac_custom.h"
#include "rbac_body.h"
#include "rbac_idpsync.h"
#include "rbac_claims.h"
#include "rbac_object.h"
#include "rbac_hdr.h"
#include "rbac_carrier.h"
#include "rbac_reference.h"


#endif /* RBAC_H */
