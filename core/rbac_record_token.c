/*
 * rbac_record_token.c: credentials: API tokens (rbac:token:<id>: user,
 * secret hash, expiry, scopes and allow list) and provisioner keys
 * (rbac:pkey:<id>: org, name, tags, secret hash).  Only SHA-256 hashes of
 * secrets are ever stored.
 */

#include <string.h>

#include "rbac_record_int.h"


#define RBAC_ID        (RBAC_RF_REQUIRED | RBAC_RF_NAME | RBAC_RF_NONEMPTY)
#define RBAC_MAX_TIME  ((int64_t) 1 << 53)


static rbac_rc_t
rbac_rec_allow(rbac_blob_t *b, const cJSON *v, const char *path,
    rbac_allow_rec_t *e)
{
    char          p[RBAC_PATH_LEN];
    rbac_rc_t     rc;
    rbac_str_t    s;
    const char   *t;
    rbac_type_t   type;

    rc = rbac_rf_object(v, path, b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_check_str(rbac_rf_get(v, "type"),
                           rbac_rf_path(p, path, "type"),
                           RBAC_RF_REQUIRED | RBAC_RF_NAME, NULL, &t, b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    if (strcmp(t, "*") == 0) {
        e->any_type = 1;
        e->type = RBAC_T_OTHER;

    } else {
        s.data = t;
        s.len = strlen(t);
        type = rbac_type_from_name(s);

        if (type == RBAC_T_OTHER) {
            return rbac_err_set(b->err, RBAC_EUNKNOWN,
                                "%s: unknown resource type \"%s\"", p, t);
        }

        e->type = (uint8_t) type;
    }

    rc = rbac_rf_check_str(rbac_rf_get(v, "id"), rbac_rf_path(p, path, "id"),
                           RBAC_RF_REQUIRED | RBAC_RF_NAME, NULL, &t, b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    if (strcmp(t, "*") == 0) {
        e->any_id = 1;
        e->id = rbac_blob_bytes(b, "", 0);

    } else {
        e->id = rbac_blob_bytes(b, t, strlen(t));
    }

    return RBAC_OK;
}


rbac_rc_t
rbac_rec_token_parse(rbac_blob_t *b, const cJSON *j, const char *path)
{
    char               p[RBAC_PATH_LEN], q[RBAC_PATH_LEN];
    size_t             i, n;
    uint32_t           off;
    rbac_rc_t          rc;
    rbac_ref_t         all;
    rbac_token_rec_t   t;
    rbac_allow_rec_t   e;
    const cJSON       *items[RBAC_MAX_LIST];

    memset(&t, 0, sizeof(t));
    off = rbac_blob_reserve(b, sizeof(t));

    rc = rbac_rf_str(b, j, "id", path, RBAC_ID, NULL, &t.id);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_str(b, j, "user", path, RBAC_ID, NULL, &t.user);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_sha256(j, "secret_sha256", path, t.secret_sha256, b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_int(j, "expires_at", path, 0, RBAC_MAX_TIME, 0,
                     &t.expires_at, b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    /* no scopes, or an empty list, means "all" */
    rbac_rf_path(p, path, "scopes");

    rc = rbac_rf_array(rbac_rf_get(j, "scopes"), p, items, &n, b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    if (n > 0) {
        rc = rbac_rf_names(b, rbac_rf_get(j, "scopes"), p, &t.scopes);
        if (rc != RBAC_OK) {
            return rc;
        }

    } else {
        t.scopes = rbac_blob_array(b, 1, sizeof(rbac_ref_t));
        all = rbac_blob_bytes(b, "all", 3);
        rbac_blob_put(b, t.scopes.off, &all, sizeof(all));
    }

    rbac_rf_path(p, path, "allow_list");

    rc = rbac_rf_array(rbac_rf_get(j, "allow_list"), p, items, &n, b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    t.allow_list = rbac_blob_array(b, n, sizeof(rbac_allow_rec_t));

    for (i = 0; i < n; i++) {
        memset(&e, 0, sizeof(e));

        rc = rbac_rec_allow(b, items[i], rbac_rf_index(q, p, i), &e);
        if (rc != RBAC_OK) {
            return rc;
        }

        rbac_blob_put(b, t.allow_list.off + i * sizeof(e), &e, sizeof(e));
    }

    rbac_blob_put(b, off, &t, sizeof(t));

    return RBAC_OK;
}


void
rbac_rec_token_json(rbac_jw_t *w, const void *rec)
{
    uint32_t                 i;
    const rbac_token_rec_t  *t = rec;
    const rbac_allow_rec_t  *e;

    rbac_jw_open(w, '{');
    rbac_jw_key(w, "id");
    rbac_jw_ref(w, rec, t->id);
    rbac_jw_key(w, "user");
    rbac_jw_ref(w, rec, t->user);
    rbac_jw_key(w, "secret_sha256");
    rbac_jw_hex(w, t->secret_sha256, sizeof(t->secret_sha256));
    rbac_jw_key(w, "expires_at");
    rbac_jw_int(w, t->expires_at);
    rbac_jw_key(w, "scopes");
    rbac_jw_refs(w, rec, t->scopes);
    rbac_jw_key(w, "allow_list");
    rbac_jw_open(w, '[');

    e = rbac_rec_at(rec, t->allow_list, rbac_allow_rec_t);

    for (i = 0; i < t->allow_list.n; i++) {
        rbac_jw_open(w, '{');
        rbac_jw_key(w, "type");
        rbac_jw_cstr(w, e[i].any_type
                        ? "*" : rbac_type_name((rbac_type_t) e[i].type));
        rbac_jw_key(w, "id");

        if (e[i].any_id) {
            rbac_jw_cstr(w, "*");

        } else {
            rbac_jw_ref(w, rec, e[i].id);
        }

        rbac_jw_close(w, '}');
    }

    rbac_jw_close(w, ']');
    rbac_jw_close(w, '}');
}


/* One tag "<key>": "<value>". */
static rbac_rc_t
rbac_rec_tag_entry(rbac_blob_t *b, const cJSON *j, const char *path,
    void *ctx, void *e)
{
    rbac_tag_t  *t = e;

    t->key = rbac_blob_bytes(b, j->string, strlen(j->string));

    return rbac_rf_str_val(b, j, path, RBAC_RF_NAME | RBAC_RF_TEXT, "",
                           &t->value);
}


rbac_rc_t
rbac_rec_pkey_parse(rbac_blob_t *b, const cJSON *j, const char *path)
{
    char              p[RBAC_PATH_LEN];
    uint32_t          off;
    rbac_rc_t         rc;
    rbac_pkey_rec_t   k;

    memset(&k, 0, sizeof(k));
    off = rbac_blob_reserve(b, sizeof(k));

    rc = rbac_rf_str(b, j, "id", path, RBAC_ID, NULL, &k.id);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_str(b, j, "org", path, RBAC_ID, NULL, &k.org);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_str(b, j, "name", path, RBAC_RF_NAME | RBAC_RF_TEXT, "",
                     &k.name);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_map_span(b, rbac_rf_get(j, "tags"),
                          rbac_rf_path(p, path, "tags"), sizeof(rbac_tag_t),
                          rbac_rec_tag_entry, NULL, &k.tags);
    if (rc != RBAC_OK) {
        return rc;
    }

    rc = rbac_rf_sha256(j, "secret_sha256", path, k.secret_sha256, b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    rbac_blob_put(b, off, &k, sizeof(k));

    return RBAC_OK;
}


void
rbac_rec_pkey_json(rbac_jw_t *w, const void *rec)
{
    uint32_t                i;
    const rbac_tag_t       *tag;
    const rbac_pkey_rec_t  *k = rec;

    rbac_jw_open(w, '{');
    rbac_jw_key(w, "id");
    rbac_jw_ref(w, rec, k->id);
    rbac_jw_key(w, "org");
    rbac_jw_ref(w, rec, k->org);
    rbac_jw_key(w, "name");
    rbac_jw_ref(w, rec, k->name);
    rbac_jw_key(w, "tags");
    rbac_jw_open(w, '{');

    tag = rbac_rec_at(rec, k->tags, rbac_tag_t);

    for (i = 0; i < k->tags.n; i++) {
        rbac_jw_key_ref(w, rec, tag[i].key);
        rbac_jw_ref(w, rec, tag[i].value);
    }

    rbac_jw_close(w, '}');
    rbac_jw_key(w, "secret_sha256");
    rbac_jw_hex(w, k->secret_sha256, sizeof(k->secret_sha256));
    rbac_jw_close(w, '}');
}
