/*
 * rbac_record.c: the record codecs' entry points: rbac_record_parse (JSON
 * in, one position-independent block out, in two passes: measure, then
 * write; a member name twice in any object refused), rbac_record_json (the
 * canonical JSON of a block), the key names of the decision table and the
 * check that a record is the one its key names.
 */

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "rbac_record_int.h"


typedef struct {
    const char         *name;       /* key prefix, root of error paths */
    rbac_rec_parse_pt   parse;
    rbac_rec_json_pt    json;
} rbac_rec_codec_t;


static const rbac_rec_codec_t  rbac_rec_codecs[RBAC_NREC] = {
    { NULL, NULL, NULL },
    { "user", rbac_rec_user_parse, rbac_rec_user_json },
    { "org", rbac_rec_org_parse, rbac_rec_org_json },
    { "group", rbac_rec_group_parse, rbac_rec_group_json },
    { "orggroups", rbac_rec_orggroups_parse, rbac_rec_orggroups_json },
    { "role", rbac_rec_role_parse, rbac_rec_role_json },
    { "siterole", rbac_rec_siterole_parse, rbac_rec_role_json },
    { "obj", rbac_rec_obj_parse, rbac_rec_obj_json },
    { "token", rbac_rec_token_parse, rbac_rec_token_json },
    { "pkey", rbac_rec_pkey_parse, rbac_rec_pkey_json },
    { "deployment", rbac_rec_deployment_parse, rbac_rec_deployment_json },
    { "idpsync", rbac_rec_idpsync_parse, rbac_rec_idpsync_json },
    { "ref", rbac_rec_ref_parse, rbac_rec_ref_json },
};


static int
rbac_record_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}


/*
 * Every object of the tree at j has each member name once (cJSON reads
 * the first of two, other readers the last: such a record is malformed)
 * and at most RBAC_MAX_LIST members.  items has room for RBAC_MAX_LIST; it
 * is used for one object at a time, before descending.
 */
static rbac_rc_t
rbac_record_unique(const cJSON *j, const char *name, const cJSON **items,
    rbac_err_t *err)
{
    size_t        i, n;
    rbac_rc_t     rc;
    const cJSON  *c;

    if (cJSON_IsObject(j)) {
        n = 0;

        for (c = j->child; c != NULL; c = c->next) {
            if (n == RBAC_MAX_LIST) {
                return rbac_err_set(err, RBAC_EBOUND,
                                    "%s: an object of more than %d members",
                                    name, RBAC_MAX_LIST);
            }

            items[n++] = c;
        }

        qsort((void *) items, n, sizeof(items[0]), rbac_rf_keycmp);

        for (i = 1; i < n; i++) {
            if (strcmp(items[i - 1]->string, items[i]->string) == 0) {
                return rbac_err_set(err, RBAC_EINVAL,
                                    "%s: member \"%.64s\" twice in one "
                                    "object", name, items[i]->string);
            }
        }
    }

    /* depth is bounded by cJSON's CJSON_NESTING_LIMIT */
    for (c = j->child; c != NULL; c = c->next) {
        if (c->child != NULL) {
            rc = rbac_record_unique(c, name, items, err);
            if (rc != RBAC_OK) {
                return rc;
            }
        }
    }

    return RBAC_OK;
}


rbac_rc_t
rbac_record_parse(rbac_rec_type_t type, const char *json, size_t len,
    const rbac_allocator_t *a, void **out, rbac_err_t *err)
{
    char                    *base;
    size_t                   size, used;
    cJSON                   *j;
    rbac_rc_t                rc;
    const char              *end, *name;
    const cJSON             *items[RBAC_MAX_LIST];
    rbac_blob_t              b;
    rbac_rec_hdr_t           hdr;
    const rbac_rec_codec_t  *c;

    assert(json != NULL || len == 0);
    assert(a != NULL && out != NULL);

    *out = NULL;

    if (type <= RBAC_REC_NONE || type >= RBAC_NREC) {
        return rbac_err_set(err, RBAC_EINVAL, "record type %d unknown",
                            (int) type);
    }

    c = &rbac_rec_codecs[type];
    name = c->name;

    if (len > RBAC_MAX_RECORD) {
        return rbac_err_set(err, RBAC_EBOUND,
                            "%s: record of %zu bytes, over %d", name, len,
                            RBAC_MAX_RECORD);
    }

    end = NULL;
    j = cJSON_ParseWithLengthOpts(json, len, &end, 0);

    if (j == NULL) {
        return rbac_err_set(err, RBAC_EPARSE, "%s: not JSON (at byte %zu)",
                            name, end && end >= json ? (size_t) (end - json)
                                                     : (size_t) 0);
    }

    while (end < json + len && rbac_record_ws(*end)) {
        end++;
    }

    if (end != json + len) {
        rc = rbac_err_set(err, RBAC_EPARSE,
                          "%s: trailing data after the JSON (at byte %zu)",
                          name, (size_t) (end - json));
        goto done;
    }

    if (!cJSON_IsObject(j)) {
        rc = rbac_err_set(err, RBAC_EPARSE, "%s: not a JSON object", name);
        goto done;
    }


    /* pass 1: check and measure */

    b.base = NULL;
    b.used = 0;
    b.err = err;

    rc = c->parse(&b, j, name);
    if (rc != RBAC_OK) {
        goto done;
    }

    /* what the codec did not read twice: any object, any depth */
    rc = rbac_record_unique(j, name, items, err);
    if (rc != RBAC_OK) {
        goto done;
    }

    used = b.used;
    size = (used + 7) & ~(size_t) 7;

    if (size > UINT32_MAX) {
        rc = rbac_err_set(err, RBAC_EBOUND, "%s: parsed record too large",
                          name);
        goto done;
    }

    base = a->alloc(a->ud, size);
    if (base == NULL) {
        rc = rbac_err_set(err, RBAC_ENOMEM, "%s: out of memory", name);
        goto done;
    }

    memset(base, 0, size);

    /* pass 2: write, along the same path */

    b.base = base;
    b.used = 0;

    rc = c->parse(&b, j, name);

    if (rc == RBAC_OK && b.used != used) {
        rc = rbac_err_set(err, RBAC_EINVAL, "%s: internal size mismatch",
                          name);
    }

    if (rc != RBAC_OK) {
        a->free(a->ud, base);
        goto done;
    }

    memset(&hdr, 0, sizeof(hdr));
    hdr.size = (uint32_t) size;
    hdr.type = (uint16_t) type;
    memcpy(base, &hdr, sizeof(hdr));

    *out = base;

done:

    cJSON_Delete(j);

    return rc;
}


rbac_rc_t
rbac_record_json(const void *rec, const rbac_allocator_t *a, char **out,
    size_t *len, rbac_err_t *err)
{
    char                  *buf;
    rbac_jw_t              w;
    const rbac_rec_hdr_t  *h = rec;

    assert(rec != NULL && a != NULL && out != NULL);

    *out = NULL;

    if (h->type <= RBAC_REC_NONE || h->type >= RBAC_NREC) {
        return rbac_err_set(err, RBAC_EINVAL, "record type %d unknown",
                            (int) h->type);
    }

    memset(&w, 0, sizeof(w));
    rbac_rec_codecs[h->type].json(&w, rec);

    buf = a->alloc(a->ud, w.len + 1);
    if (buf == NULL) {
        return rbac_err_set(err, RBAC_ENOMEM, "%s: out of memory",
                            rbac_rec_codecs[h->type].name);
    }

    memset(&w, 0, sizeof(w));
    w.buf = buf;
    rbac_rec_codecs[h->type].json(&w, rec);
    buf[w.len] = '\0';

    *out = buf;

    if (len != NULL) {
        *len = w.len;
    }

    return RBAC_OK;
}


/* The length of "prefix:" at the start of key when something follows. */
static size_t
rbac_record_prefix(rbac_str_t key, const char *prefix)
{
    size_t  n;

    n = strlen(prefix);

    if (key.len > n && memcmp(key.data, prefix, n) == 0) {
        return n;
    }

    return 0;
}


/* 1 if s is "<a>:<b>" with both parts non-empty. */
static int
rbac_record_pair(const char *s, size_t len)
{
    const char  *colon;

    colon = memchr(s, ':', len);

    return colon != NULL && colon != s && colon != s + len - 1;
}


rbac_rec_type_t
rbac_record_type_of_key(rbac_str_t key)
{
    size_t  n;

    if (key.data == NULL) {
        return RBAC_REC_NONE;
    }

    if (rbac_str_eq_cstr(key, "deployment")) {
        return RBAC_REC_DEPLOYMENT;
    }

    if (rbac_str_eq_cstr(key, "idpsync")) {
        return RBAC_REC_IDPSYNC;
    }

    if (rbac_record_prefix(key, "user:")) {
        return RBAC_REC_USER;
    }

    if (rbac_record_prefix(key, "org:")) {
        return RBAC_REC_ORG;
    }

    if (rbac_record_prefix(key, "group:")) {
        return RBAC_REC_GROUP;
    }

    if (rbac_record_prefix(key, "orggroups:")) {
        return RBAC_REC_ORGGROUPS;
    }

    if (rbac_record_prefix(key, "siterole:")) {
        return RBAC_REC_SITEROLE;
    }

    if (rbac_record_prefix(key, "token:")) {
        return RBAC_REC_TOKEN;
    }

    if (rbac_record_prefix(key, "pkey:")) {
        return RBAC_REC_PKEY;
    }

    n = rbac_record_prefix(key, "role:");
    if (n && rbac_record_pair(key.data + n, key.len - n)) {
        return RBAC_REC_ROLE;
    }

    n = rbac_record_prefix(key, "ref:");
    if (n && rbac_record_pair(key.data + n, key.len - n)) {
        return RBAC_REC_REF;
    }

    n = rbac_record_prefix(key, "obj:");
    if (n && rbac_record_pair(key.data + n, key.len - n)) {
        return RBAC_REC_OBJ;
    }

    return RBAC_REC_NONE;
}


/* The part of key after "<kind>:", up to the next ':' when `upto_colon`. */
static rbac_str_t
rbac_record_key_part(rbac_str_t key, size_t skip, int upto_colon)
{
    const char  *colon;
    rbac_str_t   s;

    s.data = key.data + skip;
    s.len = key.len - skip;

    if (upto_colon) {
        colon = memchr(s.data, ':', s.len);
        s.len = (size_t) (colon - s.data);
    }

    return s;
}


/* RBAC_EINVAL unless what the record says (`have`) is the key's `want`. */
static rbac_rc_t
rbac_record_key_is(rbac_str_t have, rbac_str_t want, const char *field,
    rbac_str_t key, rbac_err_t *err)
{
    if (rbac_str_eq(have, want)) {
        return RBAC_OK;
    }

    return rbac_err_set(err, RBAC_EINVAL,
                        "%s \"%.*s\" does not match the key \"%.*s\"", field,
                        (int) (have.len > 64 ? 64 : have.len), have.data,
                        (int) (key.len > 200 ? 200 : key.len), key.data);
}


rbac_rc_t
rbac_record_key_check(const void *rec, rbac_str_t key, rbac_err_t *err)
{
    size_t                  n;
    rbac_rc_t               rc;
    rbac_ref_t              id;
    rbac_str_t              a, b, name;
    const rbac_rec_hdr_t   *h = rec;
    const rbac_obj_rec_t   *o = rec;
    const rbac_role_rec_t  *r = rec;

    if (rbac_record_type_of_key(key) != h->type) {
        return rbac_err_set(err, RBAC_EINVAL,
                            "the record is not of the kind its key names");
    }

    switch (h->type) {

    case RBAC_REC_USER:
        id = ((const rbac_user_rec_t *) rec)->id;
        break;

    case RBAC_REC_ORG:
        id = ((const rbac_org_rec_t *) rec)->id;
        break;

    case RBAC_REC_GROUP:
        id = ((const rbac_group_rec_t *) rec)->id;
        break;

    case RBAC_REC_TOKEN:
        id = ((const rbac_token_rec_t *) rec)->id;
        break;

    case RBAC_REC_PKEY:
        id = ((const rbac_pkey_rec_t *) rec)->id;
        break;

    case RBAC_REC_OBJ:
        /* obj:<type>:<id> */
        a = rbac_record_key_part(key, 4, 1);
        n = 4 + a.len + 1;

        rc = rbac_record_key_is(rbac_ref(rec, o->type_name), a, "type", key,
                                err);
        if (rc != RBAC_OK) {
            return rc;
        }

        return rbac_record_key_is(rbac_ref(rec, o->id),
                                  rbac_record_key_part(key, n, 0), "id", key,
                                  err);

    case RBAC_REC_ROLE:
        /* role:<org>:<name> */
        a = rbac_record_key_part(key, 5, 1);
        b = rbac_record_key_part(key, 5 + a.len + 1, 0);
        name.data = r->role.name;
        name.len = strlen(r->role.name);

        rc = rbac_record_key_is(rbac_ref(rec, r->org), a, "organization_id",
                                key, err);
        if (rc != RBAC_OK) {
            return rc;
        }

        return rbac_record_key_is(name, b, "name", key, err);

    case RBAC_REC_SITEROLE:
        name.data = r->role.name;
        name.len = strlen(r->role.name);

        return rbac_record_key_is(name, rbac_record_key_part(key, 9, 0),
                                  "name", key, err);

    default:
        /* orggroups, deployment, idpsync: nothing in them names the key */
        return RBAC_OK;
    }

    /* <kind>:<id> */
    a = rbac_record_key_part(key, 0, 1);

    return rbac_record_key_is(rbac_ref(rec, id),
                              rbac_record_key_part(key, a.len + 1, 0), "id",
                              key, err);
}


rbac_rc_t
rbac_record_parse_key(rbac_str_t key, const char *json, size_t len,
    const rbac_allocator_t *a, void **out, rbac_err_t *err)
{
    rbac_rc_t  rc;

    rc = rbac_record_parse(rbac_record_type_of_key(key), json, len, a, out,
                           err);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_record_key_check(*out, key, err);
    if (rc != RBAC_OK) {
        a->free(a->ud, *out);
        *out = NULL;
    }

    return rc;
}
