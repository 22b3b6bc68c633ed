/*
 * rbac_record_int.h: what the record codecs share (rbac_record*.c): the
 * field readers that check shapes and bounds and name the field at fault,
 * and the per-type parse and print functions the dispatcher calls.
 * Internal: only rbac_record*.c include it.
 */

#ifndef RBAC_RECORD_INT_H
#define RBAC_RECORD_INT_H

#include <cjson/cJSON.h>

#include "rbac_blob.h"


#define RBAC_PATH_LEN  320

/* Flags of rbac_rf_str. */
#define RBAC_RF_REQUIRED  0x1       /* missing (or null) is an error */
#define RBAC_RF_NAME      0x2       /* at most RBAC_MAX_NAME bytes */
#define RBAC_RF_NONEMPTY  0x4       /* "" is an error */
#define RBAC_RF_TEXT      0x8       /* with RBAC_RF_NAME: a display name,
                                       control bytes allowed (never in an
                                       id or a name that is matched) */

/* "path.key" into buf. */
const char *rbac_rf_path(char *buf, const char *path, const char *key);

/* "path[i]" into buf. */
const char *rbac_rf_index(char *buf, const char *path, size_t i);

/* The member `key` of object j, or NULL when absent or JSON null. */
const cJSON *rbac_rf_get(const cJSON *j, const char *key);

/* RBAC_EINVAL "path: not an object" unless j is an object. */
rbac_rc_t rbac_rf_object(const cJSON *j, const char *path, rbac_err_t *err);

/*
 * Checks the string j (at `path`) against flags: *out is its bytes (or
 * `dflt` when j is NULL and not RBAC_RF_REQUIRED).
 */
rbac_rc_t rbac_rf_check_str(const cJSON *j, const char *path,
    unsigned flags, const char *dflt, const char **out, rbac_err_t *err);

/*
 * Checks the string j (at `path`) against flags and copies it into the
 * block.  j NULL is the default `dflt` (or an error with RBAC_RF_REQUIRED).
 */
rbac_rc_t rbac_rf_str_val(rbac_blob_t *b, const cJSON *j, const char *path,
    unsigned flags, const char *dflt, rbac_ref_t *out);

/* The same for the member `key` of object `obj` at `path`. */
rbac_rc_t rbac_rf_str(rbac_blob_t *b, const cJSON *obj, const char *key,
    const char *path, unsigned flags, const char *dflt, rbac_ref_t *out);

/*
 * The "type" (a known resource type, as its number and its name) and the
 * non-empty "id" of the object at `path`: objects and references.
 */
rbac_rc_t rbac_rf_type_id(rbac_blob_t *b, const cJSON *j, const char *path,
    uint8_t *type, rbac_ref_t *type_name, rbac_ref_t *id);

/* One of `names` (NULL-terminated), as its index; absent is dflt. */
rbac_rc_t rbac_rf_enum(const cJSON *obj, const char *key, const char *path,
    const char *const *names, int dflt, int *out, rbac_err_t *err);

rbac_rc_t rbac_rf_bool(const cJSON *obj, const char *key, const char *path,
    int dflt, uint8_t *out, rbac_err_t *err);

/* An integral number in [min, max]; absent is dflt. */
rbac_rc_t rbac_rf_int(const cJSON *obj, const char *key, const char *path,
    int64_t min, int64_t max, int64_t dflt, int64_t *out, rbac_err_t *err);

/* 64 lowercase hex digits into 32 bytes; required. */
rbac_rc_t rbac_rf_sha256(const cJSON *obj, const char *key,
    const char *path, uint8_t out[32], rbac_err_t *err);

/*
 * The elements of array j (NULL = empty) at `path`: RBAC_EINVAL if j is not
 * an array, RBAC_EBOUND over RBAC_MAX_LIST elements.  items has room for
 * RBAC_MAX_LIST.
 */
rbac_rc_t rbac_rf_array(const cJSON *j, const char *path,
    const cJSON **items, size_t *n, rbac_err_t *err);

/*
 * The members of object j (NULL = empty) at `path`, sorted by key: as
 * rbac_rf_array, and keys are names (RBAC_EBOUND over RBAC_MAX_NAME) that
 * appear once (RBAC_EINVAL "duplicate key").
 */
rbac_rc_t rbac_rf_map(const cJSON *j, const char *path,
    const cJSON **items, size_t *n, rbac_err_t *err);

/*
 * Fills the zeroed map entry e (an element of the span rbac_rf_map_span
 * builds) from the member j, whose key is j->string, at `path` (the map's
 * path and the key); ctx is the caller's.
 */
typedef rbac_rc_t (*rbac_rf_entry_pt)(rbac_blob_t *b, const cJSON *j,
    const char *path, void *ctx, void *e);

#define RBAC_RF_ENTRY_MAX  64       /* the largest entry size, in bytes */

/*
 * The object j (NULL = empty) at `path`, checked as rbac_rf_map, into a
 * span of entries of `size` bytes (0 < size <= RBAC_RF_ENTRY_MAX), one a
 * member in key order, each filled by `entry`.
 */
rbac_rc_t rbac_rf_map_span(rbac_blob_t *b, const cJSON *j, const char *path,
    size_t size, rbac_rf_entry_pt entry, void *ctx, rbac_span_t *out);

/* qsort order of cJSON members (const cJSON *[]) by name. */
int rbac_rf_keycmp(const void *a, const void *b);

/* A list of names (j NULL = empty) into an rbac_ref_t[] span. */
rbac_rc_t rbac_rf_names(rbac_blob_t *b, const cJSON *j, const char *path,
    rbac_span_t *out);


/* Per record type (rbac_record_<type>.c).  Each reserves its header first. */
typedef rbac_rc_t (*rbac_rec_parse_pt)(rbac_blob_t *b, const cJSON *j,
    const char *path);
typedef void (*rbac_rec_json_pt)(rbac_jw_t *w, const void *rec);

rbac_rc_t rbac_rec_user_parse(rbac_blob_t *b, const cJSON *j,
    const char *path);
void rbac_rec_user_json(rbac_jw_t *w, const void *rec);
rbac_rc_t rbac_rec_org_parse(rbac_blob_t *b, const cJSON *j,
    const char *path);
void rbac_rec_org_json(rbac_jw_t *w, const void *rec);
rbac_rc_t rbac_rec_group_parse(rbac_blob_t *b, const cJSON *j,
    const char *path);
void rbac_rec_group_json(rbac_jw_t *w, const void *rec);
rbac_rc_t rbac_rec_orggroups_parse(rbac_blob_t *b, const cJSON *j,
    const char *path);
void rbac_rec_orggroups_json(rbac_jw_t *w, const void *rec);
rbac_rc_t rbac_rec_role_parse(rbac_blob_t *b, const cJSON *j,
    const char *path);
rbac_rc_t rbac_rec_siterole_parse(rbac_blob_t *b, const cJSON *j,
    const char *path);
void rbac_rec_role_json(rbac_jw_t *w, const void *rec);
rbac_rc_t rbac_rec_obj_parse(rbac_blob_t *b, const cJSON *j,
    const char *path);
void rbac_rec_obj_json(rbac_jw_t *w, const void *rec);
rbac_rc_t rbac_rec_token_parse(rbac_blob_t *b, const cJSON *j,
    const char *path);
void rbac_rec_token_json(rbac_jw_t *w, const void *rec);
rbac_rc_t rbac_rec_pkey_parse(rbac_blob_t *b, const cJSON *j,
    const char *path);
void rbac_rec_pkey_json(rbac_jw_t *w, const void *rec);
rbac_rc_t rbac_rec_deployment_parse(rbac_blob_t *b, const cJSON *j,
    const char *path);
void rbac_rec_deployment_json(rbac_jw_t *w, const void *rec);
rbac_rc_t rbac_rec_idpsync_parse(rbac_blob_t *b, const cJSON *j,
    const char *path);
void rbac_rec_idpsync_json(rbac_jw_t *w, const void *rec);
rbac_rc_t rbac_rec_ref_parse(rbac_blob_t *b, const cJSON *j,
    const char *path);
void rbac_rec_ref_json(rbac_jw_t *w, const void *rec);


#endif /* RBAC_RECORD_INT_H */
