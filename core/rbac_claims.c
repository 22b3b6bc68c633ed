/*
 * rbac_claims.c: the claim walker of IdP sync.  A claim is found by its
 * field as one member name first (URL-named claims), else as a dotted
 * path; its values are one string or an array of strings.  Anything else
 * (a duplicated member name on the way, another type, an array with a
 * non-string) yields no value: a malformed claim grants no more than a
 * missing one.  Also the duplicate member check that refuses such a token
 * (or claims file) outright.
 */

#include <assert.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rbac_claims.h"


/* The member `name` of object o; *dup when it appears more than once. */
static const cJSON *
rbac_claim_member(const cJSON *o, const char *name, size_t len, int *dup)
{
    const cJSON  *c, *found;

    found = NULL;
    *dup = 0;

    for (c = o->child; c != NULL; c = c->next) {
        if (c->string != NULL && strlen(c->string) == len
            && memcmp(c->string, name, len) == 0)
        {
            if (found != NULL) {
                *dup = 1;
                return NULL;
            }

            found = c;
        }
    }

    return found;
}


/* The claim at `field`, or NULL when it is missing or malformed. */
static const cJSON *
rbac_claim_walk(const cJSON *claims, rbac_str_t field)
{
    int           dup;
    size_t        i, start;
    const cJSON  *cur, *m;

    m = rbac_claim_member(claims, field.data, field.len, &dup);
    if (m != NULL || dup) {
        return m;
    }

    cur = claims;
    start = 0;

    for (i = 0; i <= field.len; i++) {
        if (i < field.len && field.data[i] != '.') {
            continue;
        }

        if (i == start || !cJSON_IsObject(cur)) {
            return NULL;
        }

        cur = rbac_claim_member(cur, field.data + start, i - start, &dup);
        if (cur == NULL) {
            return NULL;
        }

        start = i + 1;
    }

    return cur;
}


/* 1 and *v if s is a usable value: 1..RBAC_MAX_NAME bytes, no control. */
static size_t
rbac_claim_value(const char *s, rbac_str_t *v)
{
    v->data = s;
    v->len = strlen(s);

    return v->len > 0 && v->len <= RBAC_MAX_NAME && !rbac_str_ctl(*v);
}


size_t
rbac_claim_values(const cJSON *claims, rbac_str_t field, rbac_str_t *vals)
{
    size_t        n;
    const cJSON  *c, *el;

    assert(vals != NULL);
    assert(field.data != NULL || field.len == 0);

    if (claims == NULL) {
        return 0;
    }

    c = rbac_claim_walk(claims, field);
    if (c == NULL) {
        return 0;
    }

    if (cJSON_IsString(c)) {
        return rbac_claim_value(c->valuestring, &vals[0]);
    }

    if (!cJSON_IsArray(c) || cJSON_GetArraySize(c) > RBAC_MAX_LIST) {
        return 0;
    }

    n = 0;

    cJSON_ArrayForEach(el, c) {
        if (!cJSON_IsString(el)) {
            return 0;
        }

        n += rbac_claim_value(el->valuestring, &vals[n]);
    }

    return n;
}


int
rbac_claims_dup_members(const cJSON *node)
{
    const cJSON  *a, *b;

    assert(node != NULL);

    /* depth is bounded by cJSON's CJSON_NESTING_LIMIT */
    for (a = node->child; a != NULL; a = a->next) {
        if (a->child != NULL && rbac_claims_dup_members(a)) {
            return 1;
        }

        if (!cJSON_IsObject(node)) {
            continue;
        }

        for (b = a->next; b != NULL; b = b->next) {
            if (strcmp(a->string, b->string) == 0) {
                return 1;
            }
        }
    }

    return 0;
}
