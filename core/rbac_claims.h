/*
 * rbac_claims.h: the values of one claim of a verified token's claims
 * (rbac_claims.c says how a claim is found and what counts as malformed).
 */

#ifndef RBAC_CLAIMS_H
#define RBAC_CLAIMS_H

#include <cjson/cJSON.h>

#include "rbac_base.h"


/*
 * The string values of the claim at `field` into vals (room for
 * RBAC_MAX_LIST; they point into the tree); empty strings and strings over
 * RBAC_MAX_NAME bytes are skipped.  Returns how many: 0 when the claim is
 * missing, null or malformed.
 */
size_t rbac_claim_values(const cJSON *claims, rbac_str_t field,
    rbac_str_t *vals);


#endif /* RBAC_CLAIMS_H */
