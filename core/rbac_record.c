/*
 * rbac_record.c: the record codecs' entry points: rbac_record_parse (JSON
 * in, one position-independent block out, in two passes: measure, then
 * write), rbac_record_json (the canonical JSON of a block) and the key
 * names of the decision table.
 */

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
};


static int
rbac_record_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
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
    rbac_blob_t              b;
    rbac_rec_hdr_t           hdr;
    const rbac_rec_codec_t  *c;

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

    n = rbac_record_prefix(key, "obj:");
    if (n && rbac_record_pair(key.data + n, key.len - n)) {
        return RBAC_REC_OBJ;
    }

    return RBAC_REC_NONE;
}
