/*
 * rbac_claims.h: the values of one claim of a verified token's claims
 * (rbac_claims.c says how a claim is found and what counts as malformed),
 * and the check that refuses claims with a duplicated member name.
 */

#ifndef RBAC_CLAIMS_H
#define RBAC_CLAIMS_H

#include <cjson/cJSON.h>

#include "rbac_base.h"


/*
 * The string values of the claim at `field` into vals (room for
 * RBAC_MAX_LIST; they point into the tree); empty strings, strings over
 * RBAC_MAX_NAME bytes and strings holding a control byte are skipped.
 * Returns how many: 0 when the claim is missing, null or malformed.
 */
size_t rbac_claim_values(const cJSON *claims, rbac_str_t field,
    rbac_str_t *vals);

/*
 * 1 if any object in the tree (node included) has two members of one
 * name: cJSON reads the first, jansson (libjwt) the last, so a token or
 * claims file holding one is malformed.
 */
int rbac_claims_dup_members(const cJSON *node);


#endif /* RBAC_CLAIMS_H */
