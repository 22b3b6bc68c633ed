/*
 * rbac_record.h: the records of the decision table (docs/records.md §2) in
 * parsed, compact form, and their JSON codecs.
 *
 * A parsed record is one contiguous, position-independent block: a header
 * struct followed by arrays and string bytes, every reference an offset from
 * the start of the block.  It can be copied with memcpy (into the shared
 * memory cache) and read where it lands.  rbac_ref() turns a reference into
 * a string view that points into the block.
 *
 * Parsing checks shapes and the bounds of docs/security.md §7 and applies the
 * defaults of docs/records.md §3; it never consults the catalog.  Writing a
 * record back (rbac_record_json) gives the canonical JSON of the record: the
 * same document rbacctl stores and exports.
 */

#ifndef RBAC_RECORD_H
#define RBAC_RECORD_H

#include "rbac_decide.h"
#include "rbac_reference.h"


typedef struct {
    uint32_t  off;
    uint32_t  len;
} rbac_ref_t;

/* n elements of some record type at block + off. */
typedef struct {
    uint32_t  off;
    uint32_t  n;
} rbac_span_t;

#define rbac_rec_at(rec, span, type)                                          \
    ((const type *) ((const char *) (rec) + (span).off))

rbac_str_t rbac_ref(const void *rec, rbac_ref_t r);


typedef enum {
    RBAC_REC_NONE = 0,
    RBAC_REC_USER,          /* rbac:user:<id> */
    RBAC_REC_ORG,           /* rbac:org:<id> */
    RBAC_REC_GROUP,         /* rbac:group:<id> */
    RBAC_REC_ORGGROUPS,     /* rbac:orggroups:<org> */
    RBAC_REC_ROLE,          /* rbac:role:<org>:<name> */
    RBAC_REC_SITEROLE,      /* rbac:siterole:<name> */
    RBAC_REC_OBJ,           /* rbac:obj:<type>:<id> */
    RBAC_REC_TOKEN,         /* rbac:token:<id> */
    RBAC_REC_PKEY,          /* rbac:pkey:<id> */
    RBAC_REC_DEPLOYMENT,    /* rbac:deployment */
    RBAC_REC_IDPSYNC,       /* rbac:idpsync */
    RBAC_REC_REF,           /* rbac:ref:<kind>:<key> */
    RBAC_NREC
} rbac_rec_type_t;

/* Every record starts with this. */
typedef struct {
    uint32_t  size;         /* bytes of the whole block */
    uint16_t  type;         /* rbac_rec_type_t */
    uint16_t  reserved;
} rbac_rec_hdr_t;


typedef enum {
    RBAC_LOGIN_OIDC = 0,
    RBAC_LOGIN_PASSWORD,
    RBAC_LOGIN_NONE
} rbac_login_t;

typedef enum {
    RBAC_IDP_REPLACE = 0,
    RBAC_IDP_ADD
} rbac_idp_mode_t;

typedef struct {
    rbac_ref_t    org;
    rbac_span_t   roles;            /* rbac_ref_t[] */
} rbac_user_org_rec_t;

typedef struct {
    rbac_rec_hdr_t  hdr;
    uint8_t         kind;           /* rbac_kind_t */
    uint8_t         status;         /* rbac_status_t */
    uint8_t         login;          /* rbac_login_t */
    uint8_t         idp_sync;       /* rbac_idp_mode_t */
    rbac_ref_t      id;
    rbac_ref_t      username;       /* "" = none (references) */
    rbac_span_t     site_roles;     /* rbac_ref_t[] */
    rbac_span_t     orgs;           /* rbac_user_org_rec_t[] */
    rbac_span_t     groups;         /* rbac_ref_t[] */
} rbac_user_rec_t;

typedef struct {
    rbac_rec_hdr_t  hdr;
    uint8_t         share;          /* rbac_share_t */
    uint8_t         is_default;     /* the default org (references) */
    rbac_ref_t      id;
    rbac_ref_t      name;
    rbac_span_t     default_roles;  /* rbac_ref_t[] */
} rbac_org_rec_t;

typedef struct {
    rbac_rec_hdr_t  hdr;
    uint8_t         oidc;           /* source "oidc" (else "manual") */
    rbac_ref_t      id;
    rbac_ref_t      org;
    rbac_ref_t      name;
} rbac_group_rec_t;

typedef struct {
    rbac_ref_t      name;
    rbac_ref_t      id;
} rbac_orggroup_t;

typedef struct {
    rbac_rec_hdr_t  hdr;
    rbac_span_t     groups;         /* rbac_orggroup_t[], sorted by name */
} rbac_orggroups_rec_t;

/* A permission of a custom role, kept for export and validation. */
typedef struct {
    uint8_t         level;          /* rbac_level_t */
    rbac_perm_t     perm;
} rbac_role_perm_t;

/* RBAC_REC_ROLE and RBAC_REC_SITEROLE. */
typedef struct {
    rbac_rec_hdr_t  hdr;
    rbac_ref_t      org;            /* "" for a site role */
    rbac_role_t     role;           /* compiled; kind, name, display_name */
    rbac_span_t     perms;          /* rbac_role_perm_t[], as written */
} rbac_role_rec_t;

typedef struct {
    rbac_ref_t      id;
    rbac_amask_t    actions;        /* expanded */
    rbac_ref_t      role;           /* "use"/"admin" as written, or "" */
} rbac_acl_rec_t;

/*
 * A workspace app's share level, as Coder's coder_app `share` sets it: who
 * may open the app besides those with application_connect on the workspace.
 */
typedef enum {
    RBAC_APP_OWNER = 0,             /* no one else (the default) */
    RBAC_APP_AUTHENTICATED,         /* any authenticated caller */
    RBAC_APP_ORGANIZATION,          /* any member of the workspace's org */
    RBAC_APP_PUBLIC                 /* anyone, without a credential */
} rbac_app_share_t;

typedef struct {
    rbac_ref_t      slug;
    uint32_t        share;          /* rbac_app_share_t */
} rbac_app_rec_t;

typedef struct {
    rbac_rec_hdr_t  hdr;
    uint8_t         type;           /* rbac_type_t */
    uint8_t         dormant;
    uint8_t         deprecated;
    rbac_ref_t      type_name;
    rbac_ref_t      id;
    rbac_ref_t      org;
    rbac_ref_t      owner;
    rbac_ref_t      name;           /* "" = none (references) */
    rbac_span_t     acl_users;      /* rbac_acl_rec_t[] */
    rbac_span_t     acl_groups;     /* rbac_acl_rec_t[] */
    rbac_ref_t      deprecated_message;
    rbac_ref_t      deprecated_link;
    rbac_span_t     apps;           /* rbac_app_rec_t[] by slug (workspace) */
} rbac_obj_rec_t;

/*
 * The share level of app `slug` of a workspace record: what its "apps" map
 * says, RBAC_APP_OWNER for an app it does not list.
 */
rbac_app_share_t rbac_obj_app_share(const rbac_obj_rec_t *o,
    rbac_str_t slug);
const char *rbac_app_share_name(rbac_app_share_t share);

/*
 * Coder's rule for an app beyond application_connect on its workspace: 1
 * when an app of level `share` opens for subject `s` (NULL: a caller
 * without a credential) on a workspace of organization `org`.  Only a
 * public app opens for a caller who is not active.
 */
int rbac_app_share_allows(rbac_app_share_t share, const rbac_subject_t *s,
    rbac_str_t org);

typedef struct {
    uint8_t         type;           /* rbac_type_t */
    uint8_t         any_type;
    uint8_t         any_id;
    rbac_ref_t      id;
} rbac_allow_rec_t;

typedef struct {
    rbac_rec_hdr_t  hdr;
    uint8_t         secret_sha256[32];
    int64_t         expires_at;     /* unix seconds, 0 = never */
    rbac_ref_t      id;
    rbac_ref_t      user;
    rbac_span_t     scopes;         /* rbac_ref_t[] (default "all") */
    rbac_span_t     allow_list;     /* rbac_allow_rec_t[], 0 = no limit */
} rbac_token_rec_t;

typedef struct {
    rbac_ref_t      key;
    rbac_ref_t      value;
} rbac_tag_t;

typedef struct {
    rbac_rec_hdr_t  hdr;
    uint8_t         secret_sha256[32];
    rbac_ref_t      id;
    rbac_ref_t      org;
    rbac_ref_t      name;
    rbac_span_t     tags;           /* rbac_tag_t[] */
} rbac_pkey_rec_t;

typedef struct {
    rbac_rec_hdr_t  hdr;
    uint32_t        options;        /* RBAC_OPT_* */
} rbac_deployment_rec_t;

/* A reference: the object a name or a child id stands for. */
typedef struct {
    rbac_rec_hdr_t  hdr;
    uint8_t         type;           /* rbac_type_t */
    uint8_t         derived;        /* "auto": written by rbacctl */
    rbac_ref_t      type_name;
    rbac_ref_t      id;
} rbac_reference_rec_t;

/*
 * The id a reference read for kind k names; RBAC_EINVAL when it names an
 * object of another type than k resolves to.
 */
rbac_rc_t rbac_reference_resolve(const rbac_reference_rec_t *rec,
    rbac_refkind_t k, rbac_str_t *id);

/* IdP sync settings (docs/authorization.md §12). */
typedef struct {
    rbac_ref_t      value;          /* claim value */
    rbac_span_t     targets;        /* rbac_ref_t[]: orgs, group ids, roles */
} rbac_idp_map_t;

typedef struct {
    rbac_ref_t      org;            /* "" for the deployment-wide syncs */
    rbac_ref_t      field;          /* claim path, "" = disabled */
    rbac_span_t     mapping;        /* rbac_idp_map_t[] */
    rbac_ref_t      regex_filter;   /* groups only, "" = none */
} rbac_idp_sync_t;

typedef struct {
    rbac_rec_hdr_t  hdr;
    int64_t         version;
    rbac_idp_sync_t organization;
    uint8_t         assign_default;
    rbac_ref_t      default_org;
    rbac_span_t     groups;         /* rbac_idp_sync_t[] (org set) */
    rbac_span_t     org_roles;      /* rbac_idp_sync_t[] (org set) */
    rbac_idp_sync_t site_roles;
    rbac_span_t     site_default;   /* rbac_ref_t[] */
} rbac_idpsync_rec_t;


/*
 * Parses one record of `type` from JSON.  The block is one allocation from
 * `a` (free it with a->free).  On failure *out is NULL, nothing stays
 * allocated, and err names the field ("user.orgs.orgA[2]: not a string"):
 * RBAC_EPARSE (not JSON, trailing data, not an object), RBAC_EINVAL (wrong
 * type or value, missing required field, a member name twice in any object
 * of the document, a control byte in an id or name, IdP group
 * auto-creation), RBAC_EUNKNOWN (resource type, action or ACL role name),
 * RBAC_EBOUND (records over RBAC_MAX_RECORD bytes, lists, maps and objects
 * over RBAC_MAX_LIST entries, ids and names over RBAC_MAX_NAME bytes),
 * RBAC_ENOMEM (from `a`; cJSON's own allocation failures show as
 * RBAC_EPARSE).  Unknown fields are ignored; JSON null is an absent field.
 * Map entries are stored sorted by key, lists as written; the bytes depend
 * only on the canonical content (padding is zero), so identical records
 * give identical blocks and parse(json(parse(x))) == parse(x).
 */
rbac_rc_t rbac_record_parse(rbac_rec_type_t type, const char *json,
    size_t len, const rbac_allocator_t *a, void **out, rbac_err_t *err);

/*
 * The record's canonical JSON (compact, every field, defaults written out,
 * keys in the order of docs/records.md §2, map entries sorted by key, ACL
 * action lists in vocabulary order), NUL-terminated, allocated from `a`; *len
 * (may be NULL) is its length.  Byte-stable: rbacctl stores it and compares it
 * to detect no-op writes.  Optional parts are left out when empty: an object's
 * "deprecated" when not deprecated, a role's permission lists of the other
 * kind (site/user lists of an org role, org/member lists of a site role).
 */
rbac_rc_t rbac_record_json(const void *rec, const rbac_allocator_t *a,
    char **out, size_t *len, rbac_err_t *err);

/*
 * The record type a key names, the prefix already removed ("user:u1" ->
 * RBAC_REC_USER); RBAC_REC_NONE for anything else (version, inv).
 */
rbac_rec_type_t rbac_record_type_of_key(rbac_str_t key);

/*
 * RBAC_EINVAL (err says why) unless rec is the record its key (prefix
 * removed) names: of that kind, and with the key's id (user, org, group,
 * token, pkey), type and id (obj:<type>:<id>), organization_id and name
 * (role:<org>:<name>) or name (siterole:<name>).  A record stored under
 * another's key is malformed, never read as either.
 */
rbac_rc_t rbac_record_key_check(const void *rec, rbac_str_t key,
    rbac_err_t *err);

/*
 * rbac_record_parse of the kind the key names, then rbac_record_key_check:
 * how a record read from Redis is parsed.  On failure nothing stays
 * allocated.
 */
rbac_rc_t rbac_record_parse_key(rbac_str_t key, const char *json,
    size_t len, const rbac_allocator_t *a, void **out, rbac_err_t *err);


/*
 * Views for rbac_decide.  The view points into the record (and into `a`'s
 * memory for the ACL arrays); it lives as long as both.  A dormant workspace
 * becomes type workspace_dormant without its ACL.
 */
rbac_rc_t rbac_object_view(const rbac_obj_rec_t *rec,
    const rbac_allocator_t *a, rbac_object_t *out);

/* Frees what rbac_object_view allocated (nothing for a pool). */
void rbac_object_view_free(rbac_object_t *o, const rbac_allocator_t *a);


/*
 * Building a subject from a user record, the way the module and
 * `rbacctl check` do (docs/authorization.md §4): roles resolved through the
 * catalog (with the deployment options and each org's sharing mode) or
 * custom roles, each org's default member roles added, and with `implicit`
 * set, the site role `member` and `organization-member` (user) or
 * `organization-service-account` (service account) in every org.
 */
typedef struct {
    const rbac_catalog_t     *catalog;
    unsigned                  options;          /* RBAC_OPT_* */
    int                       implicit;
    /* The org's record, or NULL when it does not exist. */
    const rbac_org_rec_t   *(*org)(void *ud, rbac_str_t org);
    /* A custom role (org "" = site role), or NULL. */
    const rbac_role_t      *(*custom_role)(void *ud, rbac_str_t org,
                                           rbac_str_t name);
    void                     *ud;
} rbac_resolver_t;

/*
 * Role names that resolve to nothing (unknown, retired, a site role listed
 * under an org or the other way round) are skipped; duplicates count once.
 * An org without a record shares with everyone and has no default roles,
 * but its membership stays.  The subject's arrays come from `a` (two
 * allocations at most, freed by rbac_subject_free); its strings point into
 * `u`, the org records and the roles the resolver returned, which must all
 * outlive it.  scope and token_allow are left NULL for the caller.
 */
rbac_rc_t rbac_subject_build(const rbac_user_rec_t *u,
    const rbac_resolver_t *rs, const rbac_allocator_t *a,
    rbac_subject_t *out);

/* Frees what rbac_subject_build allocated (nothing for a pool). */
void rbac_subject_free(rbac_subject_t *s, const rbac_allocator_t *a);


#endif /* RBAC_RECORD_H */
