/*
 * rbac_record_field.c: the field readers of the record codecs.  Each checks
 * one JSON value's type and bounds and names the field at fault in err:
 * "user.orgs.orgA[2]: not a string".
 */

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbac_record_int.h"


/* 1 if the len bytes at s hold a control byte: never in a name. */
static int
rbac_record_ctl(const char *s, size_t len)
{
    rbac_str_t  v;

    v.data = s;
    v.len = len;

    return rbac_str_ctl(v);
}


const char *
rbac_rf_path(char *buf, const char *path, const char *key)
{
    snprintf(buf, RBAC_PATH_LEN, "%s.%s", path, key);
    return buf;
}


const char *
rbac_rf_index(char *buf, const char *path, size_t i)
{
    snprintf(buf, RBAC_PATH_LEN, "%s[%zu]", path, i);
    return buf;
}


const cJSON *
rbac_rf_get(const cJSON *j, const char *key)
{
    const cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(j, key);

    if (v == NULL || cJSON_IsNull(v)) {
        return NULL;
    }

    return v;
}


rbac_rc_t
rbac_rf_object(const cJSON *j, const char *path, rbac_err_t *err)
{
    if (!cJSON_IsObject(j)) {
        return rbac_err_set(err, RBAC_EINVAL, "%s: not an object", path);
    }

    return RBAC_OK;
}


rbac_rc_t
rbac_rf_check_str(const cJSON *j, const char *path, unsigned flags,
    const char *dflt, const char **out, rbac_err_t *err)
{
    size_t       len;
    const char  *s;

    if (j == NULL) {
        if (flags & RBAC_RF_REQUIRED) {
            return rbac_err_set(err, RBAC_EINVAL, "%s: missing", path);
        }

        s = dflt;

    } else if (!cJSON_IsString(j)) {
        return rbac_err_set(err, RBAC_EINVAL, "%s: not a string", path);

    } else {
        s = j->valuestring;
    }

    len = strlen(s);

    if ((flags & RBAC_RF_NAME) && len > RBAC_MAX_NAME) {
        return rbac_err_set(err, RBAC_EBOUND,
                            "%s: longer than %d bytes", path, RBAC_MAX_NAME);
    }

    if ((flags & (RBAC_RF_NAME | RBAC_RF_TEXT)) == RBAC_RF_NAME
        && rbac_record_ctl(s, len))
    {
        return rbac_err_set(err, RBAC_EINVAL, "%s: holds a control byte",
                            path);
    }

    if ((flags & RBAC_RF_NONEMPTY) && len == 0) {
        return rbac_err_set(err, RBAC_EINVAL, "%s: empty", path);
    }

    *out = s;

    return RBAC_OK;
}


rbac_rc_t
rbac_rf_str_val(rbac_blob_t *b, const cJSON *j, const char *path,
    unsigned flags, const char *dflt, rbac_ref_t *out)
{
    rbac_rc_t    rc;
    const char  *s;

    rc = rbac_rf_check_str(j, path, flags, dflt, &s, b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    *out = rbac_blob_bytes(b, s, strlen(s));

    return RBAC_OK;
}


rbac_rc_t
rbac_rf_str(rbac_blob_t *b, const cJSON *obj, const char *key,
    const char *path, unsigned flags, const char *dflt, rbac_ref_t *out)
{
    char  p[RBAC_PATH_LEN];

    return rbac_rf_str_val(b, rbac_rf_get(obj, key),
                           rbac_rf_path(p, path, key), flags, dflt, out);
}


rbac_rc_t
rbac_rf_enum(const cJSON *obj, const char *key, const char *path,
    const char *const *names, int dflt, int *out, rbac_err_t *err)
{
    int            i;
    size_t         n;
    char           list[RBAC_PATH_LEN];
    const cJSON   *v;

    v = rbac_rf_get(obj, key);

    if (v == NULL) {
        *out = dflt;
        return RBAC_OK;
    }

    if (!cJSON_IsString(v)) {
        return rbac_err_set(err, RBAC_EINVAL, "%s.%s: not a string", path,
                            key);
    }

    for (i = 0; names[i] != NULL; i++) {
        if (strcmp(v->valuestring, names[i]) == 0) {
            *out = i;
            return RBAC_OK;
        }
    }

    list[0] = '\0';
    n = 0;

    for (i = 0; names[i] != NULL && n < sizeof(list); i++) {
        n += snprintf(list + n, sizeof(list) - n, "%s\"%s\"",
                      i ? ", " : "", names[i]);
    }

    return rbac_err_set(err, RBAC_EINVAL, "%s.%s: \"%.64s\" is not one of %s",
                        path, key, v->valuestring, list);
}


rbac_rc_t
rbac_rf_bool(const cJSON *obj, const char *key, const char *path,
    int dflt, uint8_t *out, rbac_err_t *err)
{
    const cJSON  *v;

    v = rbac_rf_get(obj, key);

    if (v == NULL) {
        *out = (uint8_t) (dflt != 0);
        return RBAC_OK;
    }

    if (!cJSON_IsBool(v)) {
        return rbac_err_set(err, RBAC_EINVAL, "%s.%s: not a boolean", path,
                            key);
    }

    *out = (uint8_t) cJSON_IsTrue(v);

    return RBAC_OK;
}


rbac_rc_t
rbac_rf_int(const cJSON *obj, const char *key, const char *path,
    int64_t min, int64_t max, int64_t dflt, int64_t *out, rbac_err_t *err)
{
    double        d;
    const cJSON  *v;

    v = rbac_rf_get(obj, key);

    if (v == NULL) {
        *out = dflt;
        return RBAC_OK;
    }

    if (!cJSON_IsNumber(v)) {
        return rbac_err_set(err, RBAC_EINVAL, "%s.%s: not a number", path,
                            key);
    }

    d = v->valuedouble;

    if (!(d >= (double) min && d <= (double) max)
        || (double) (int64_t) d != d)
    {
        return rbac_err_set(err, RBAC_EINVAL,
                            "%s.%s: not an integer in [%lld, %lld]", path, key,
                            (long long) min, (long long) max);
    }

    *out = (int64_t) d;

    return RBAC_OK;
}


static int
rbac_rf_hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


rbac_rc_t
rbac_rf_sha256(const cJSON *obj, const char *key, const char *path,
    uint8_t out[32], rbac_err_t *err)
{
    int           hi, lo;
    size_t        i;
    const char   *s;
    const cJSON  *v;

    v = rbac_rf_get(obj, key);

    if (v == NULL) {
        return rbac_err_set(err, RBAC_EINVAL, "%s.%s: missing", path, key);
    }

    if (!cJSON_IsString(v)) {
        return rbac_err_set(err, RBAC_EINVAL, "%s.%s: not a string", path,
                            key);
    }

    s = v->valuestring;

    if (strlen(s) != 64) {
        goto bad;
    }

    for (i = 0; i < 32; i++) {
        hi = rbac_rf_hexval(s[2 * i]);
        lo = rbac_rf_hexval(s[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            goto bad;
        }

        out[i] = (uint8_t) (hi << 4 | lo);
    }

    return RBAC_OK;

bad:

    return rbac_err_set(err, RBAC_EINVAL,
                        "%s.%s: not 64 lowercase hex digits", path, key);
}


static rbac_rc_t
rbac_rf_children(const cJSON *j, const char *path, const cJSON **items,
    size_t *n, rbac_err_t *err)
{
    size_t        k;
    const cJSON  *c;

    k = 0;

    for (c = j->child; c != NULL; c = c->next) {
        if (k == RBAC_MAX_LIST) {
            return rbac_err_set(err, RBAC_EBOUND,
                                "%s: more than %d entries", path,
                                RBAC_MAX_LIST);
        }

        items[k++] = c;
    }

    *n = k;

    return RBAC_OK;
}


rbac_rc_t
rbac_rf_array(const cJSON *j, const char *path, const cJSON **items,
    size_t *n, rbac_err_t *err)
{
    *n = 0;

    if (j == NULL) {
        return RBAC_OK;
    }

    if (!cJSON_IsArray(j)) {
        return rbac_err_set(err, RBAC_EINVAL, "%s: not an array", path);
    }

    return rbac_rf_children(j, path, items, n, err);
}


int
rbac_rf_keycmp(const void *a, const void *b)
{
    const cJSON  *x = *(const cJSON *const *) a;
    const cJSON  *y = *(const cJSON *const *) b;

    return strcmp(x->string, y->string);
}


rbac_rc_t
rbac_rf_map(const cJSON *j, const char *path, const cJSON **items,
    size_t *n, rbac_err_t *err)
{
    size_t     i;
    rbac_rc_t  rc;

    *n = 0;

    if (j == NULL) {
        return RBAC_OK;
    }

    if (!cJSON_IsObject(j)) {
        return rbac_err_set(err, RBAC_EINVAL, "%s: not an object", path);
    }

    rc = rbac_rf_children(j, path, items, n, err);
    if (rc != RBAC_OK) {
        return rc;
    }

    for (i = 0; i < *n; i++) {
        if (items[i]->string == NULL || items[i]->string[0] == '\0') {
            return rbac_err_set(err, RBAC_EINVAL, "%s: empty key", path);
        }

        if (strlen(items[i]->string) > RBAC_MAX_NAME) {
            return rbac_err_set(err, RBAC_EBOUND,
                                "%s: key \"%.32s...\" longer than %d bytes",
                                path, items[i]->string, RBAC_MAX_NAME);
        }

        if (rbac_record_ctl(items[i]->string, strlen(items[i]->string))) {
            return rbac_err_set(err, RBAC_EINVAL,
                                "%s: a key holds a control byte", path);
        }
    }

    if (*n > 1) {
        qsort((void *) items, *n, sizeof(items[0]), rbac_rf_keycmp);
    }

    for (i = 1; i < *n; i++) {
        if (strcmp(items[i - 1]->string, items[i]->string) == 0) {
            return rbac_err_set(err, RBAC_EINVAL,
                                "%s: duplicate key \"%s\"", path,
                                items[i]->string);
        }
    }

    return RBAC_OK;
}


rbac_rc_t
rbac_rf_map_span(rbac_blob_t *b, const cJSON *j, const char *path,
    size_t size, rbac_rf_entry_pt entry, void *ctx, rbac_span_t *out)
{
    char          q[RBAC_PATH_LEN];
    size_t        i, n;
    uint64_t      e[RBAC_RF_ENTRY_MAX / sizeof(uint64_t)];
    rbac_rc_t     rc;
    const cJSON  *items[RBAC_MAX_LIST];

    assert(size > 0 && size <= sizeof(e));

    rc = rbac_rf_map(j, path, items, &n, b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    *out = rbac_blob_array(b, n, size);

    for (i = 0; i < n; i++) {
        memset(e, 0, size);

        rc = entry(b, items[i], rbac_rf_path(q, path, items[i]->string), ctx,
                   e);
        if (rc != RBAC_OK) {
            return rc;
        }

        rbac_blob_put(b, out->off + i * size, e, size);
    }

    return RBAC_OK;
}


rbac_rc_t
rbac_rf_names(rbac_blob_t *b, const cJSON *j, const char *path,
    rbac_span_t *out)
{
    char          p[RBAC_PATH_LEN];
    size_t        i, n;
    rbac_rc_t     rc;
    rbac_ref_t    r;
    rbac_span_t   sp;
    const cJSON  *items[RBAC_MAX_LIST];

    rc = rbac_rf_array(j, path, items, &n, b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    sp = rbac_blob_array(b, n, sizeof(rbac_ref_t));

    for (i = 0; i < n; i++) {
        rc = rbac_rf_str_val(b, items[i], rbac_rf_index(p, path, i),
                             RBAC_RF_REQUIRED | RBAC_RF_NAME, "", &r);
        if (rc != RBAC_OK) {
            return rc;
        }

        rbac_blob_put(b, sp.off + i * sizeof(rbac_ref_t), &r, sizeof(r));
    }

    *out = sp;

    return RBAC_OK;
}


rbac_rc_t
rbac_rf_type_id(rbac_blob_t *b, const cJSON *j, const char *path,
    uint8_t *type, rbac_ref_t *type_name, rbac_ref_t *id)
{
    char         p[RBAC_PATH_LEN];
    rbac_rc_t    rc;
    rbac_str_t   s;
    const char  *name;

    rc = rbac_rf_check_str(rbac_rf_get(j, "type"),
                           rbac_rf_path(p, path, "type"),
                           RBAC_RF_REQUIRED | RBAC_RF_NAME | RBAC_RF_NONEMPTY,
                           NULL, &name, b->err);
    if (rc != RBAC_OK) {
        return rc;
    }

    s.data = name;
    s.len = strlen(name);
    *type = (uint8_t) rbac_type_from_name(s);

    if (*type == RBAC_T_OTHER) {
        return rbac_err_set(b->err, RBAC_EUNKNOWN,
                            "%s: unknown resource type \"%s\"", p, name);
    }

    *type_name = rbac_blob_bytes(b, s.data, s.len);

    return rbac_rf_str(b, j, "id", path,
                       RBAC_RF_REQUIRED | RBAC_RF_NAME | RBAC_RF_NONEMPTY,
                       NULL, id);
}
