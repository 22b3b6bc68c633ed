/*
 * fuzz_record.c: every record parser of the decision table.  The first
 * byte picks the record type, the rest is the JSON.  Beyond "no crash, no
 * leak": a failure leaves nothing allocated and says why; a record that
 * parses prints JSON that parses back to the identical block and prints
 * identically (the no-op-write detection of rbacctl relies on it); user and
 * object records also go through the views the engine decides on; a record
 * is accepted under the key its own type/id/name make, and refused under
 * another.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbac.h"


/* malloc, with garbage in every new block: unwritten padding would show */
static void *
fz_alloc(void *ud, size_t size)
{
    void  *p;

    p = malloc(size);
    if (p != NULL) {
        memset(p, 0xa5, size);
    }

    return p;
}

static void
fz_free(void *ud, void *p)
{
    free(p);
}

static const rbac_allocator_t  fz_a = { fz_alloc, fz_free, NULL };


static rbac_catalog_t  *fz_cat;
static void            *fz_org;
static void            *fz_role;
static void            *fz_siterole;


static void *
fz_parse(rbac_rec_type_t type, const char *json)
{
    void        *rec;
    rbac_err_t   err;

    if (rbac_record_parse(type, json, strlen(json), &fz_a, &rec, &err)
        != RBAC_OK)
    {
        fprintf(stderr, "fixture: %s\n", err.msg);
        abort();
    }

    return rec;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    rbac_err_t  err;

    if (rbac_catalog_load((const char *) rbac_builtin_catalog,
                          rbac_builtin_catalog_len, &fz_a, &fz_cat, &err)
        != RBAC_OK)
    {
        fprintf(stderr, "catalog: %s\n", err.msg);
        abort();
    }

    fz_org = fz_parse(RBAC_REC_ORG,
                      "{\"id\":\"o1\",\"shareable_workspace_owners\":\"none\","
                      "\"default_org_member_roles\":[\"organization-auditor\","
                      "\"c\",\"organization-member\"]}");
    fz_role = fz_parse(RBAC_REC_ROLE,
                       "{\"name\":\"c\",\"organization_id\":\"o1\","
                       "\"organization_permissions\":[{\"resource_type\":"
                       "\"workspace\",\"action\":\"read\"}]}");
    fz_siterole = fz_parse(RBAC_REC_SITEROLE,
                           "{\"name\":\"c\",\"site_permissions\":[{"
                           "\"resource_type\":\"*\",\"action\":\"read\"}]}");

    return 0;
}


static const rbac_org_rec_t *
fz_resolve_org(void *ud, rbac_str_t org)
{
    return rbac_str_eq_cstr(org, "o1") ? fz_org : NULL;
}

static const rbac_role_t *
fz_resolve_role(void *ud, rbac_str_t org, rbac_str_t name)
{
    if (!rbac_str_eq_cstr(name, "c")) {
        return NULL;
    }

    if (org.len == 0) {
        return &((rbac_role_rec_t *) fz_siterole)->role;
    }

    return rbac_str_eq_cstr(org, "o1") ? &((rbac_role_rec_t *) fz_role)->role
                                        : NULL;
}


/*
 * The key rec is stored under, from its own identity, into buf; 0 when its
 * kind has none or it cannot be spelled unambiguously (a ':' in a role's
 * org).
 */
static int
fz_own_key(const void *rec, char *buf, size_t size)
{
    rbac_str_t              a, b;
    const char             *kind;
    const rbac_obj_rec_t   *o = rec;
    const rbac_role_rec_t  *r = rec;

    kind = NULL;
    b.data = "";
    b.len = 0;

    switch (((const rbac_rec_hdr_t *) rec)->type) {

    case RBAC_REC_USER:
        kind = "user";
        a = rbac_ref(rec, ((const rbac_user_rec_t *) rec)->id);
        break;

    case RBAC_REC_ORG:
        kind = "org";
        a = rbac_ref(rec, ((const rbac_org_rec_t *) rec)->id);
        break;

    case RBAC_REC_GROUP:
        kind = "group";
        a = rbac_ref(rec, ((const rbac_group_rec_t *) rec)->id);
        break;

    case RBAC_REC_TOKEN:
        kind = "token";
        a = rbac_ref(rec, ((const rbac_token_rec_t *) rec)->id);
        break;

    case RBAC_REC_PKEY:
        kind = "pkey";
        a = rbac_ref(rec, ((const rbac_pkey_rec_t *) rec)->id);
        break;

    case RBAC_REC_OBJ:
        kind = "obj";
        a = rbac_ref(rec, o->type_name);
        b = rbac_ref(rec, o->id);
        break;

    case RBAC_REC_ROLE:
        kind = "role";
        a = rbac_ref(rec, r->org);
        b.data = r->role.name;
        b.len = strlen(r->role.name);

        if (memchr(a.data, ':', a.len) != NULL) {
            return 0;
        }

        break;

    case RBAC_REC_SITEROLE:
        kind = "siterole";
        a.data = r->role.name;
        a.len = strlen(r->role.name);
        break;

    default:
        return 0;
    }

    snprintf(buf, size, "%s:%.*s%s%.*s", kind, (int) a.len, a.data,
             b.len ? ":" : "", (int) b.len, b.data);

    return 1;
}


static void
fz_keys(const void *rec, const char *json, size_t len)
{
    char        key[600];
    void       *r2;
    rbac_str_t  k;
    rbac_err_t  err;

    if (!fz_own_key(rec, key, sizeof(key))) {
        return;
    }

    k.data = key;
    k.len = strlen(key);

    if (rbac_record_key_check(rec, k, &err) != RBAC_OK) {
        fprintf(stderr, "refused under its own key %s: %s\n", key, err.msg);
        abort();
    }

    if (rbac_record_parse_key(k, json, len, &fz_a, &r2, &err) != RBAC_OK) {
        abort();
    }

    free(r2);

    /* one more byte of id: another key, refused */
    key[k.len] = 'x';
    k.len++;

    if (rbac_record_key_check(rec, k, &err) != RBAC_EINVAL) {
        abort();
    }
}


static void
fz_views(const void *rec)
{
    size_t           i;
    rbac_object_t    o;
    rbac_subject_t   s;
    rbac_resolver_t  rs;
    rbac_decision_t  d;
    char             reason[256];

    memset(&rs, 0, sizeof(rs));
    rs.catalog = fz_cat;
    rs.implicit = 1;
    rs.org = fz_resolve_org;
    rs.custom_role = fz_resolve_role;

    memset(&o, 0, sizeof(o));
    o.type = RBAC_T_WORKSPACE;
    o.type_name.data = "workspace";
    o.type_name.len = 9;
    o.org.data = "o1";
    o.org.len = 2;

    switch (((const rbac_rec_hdr_t *) rec)->type) {

    case RBAC_REC_USER:
        if (rbac_subject_build(rec, &rs, &fz_a, &s) != RBAC_OK) {
            abort();
        }

        o.owner = s.id;

        for (i = 0; i < RBAC_NACTIONS; i++) {
            rbac_decide(&s, &o, (rbac_action_t) i, &d);
            rbac_decision_reason(&d, &s, &o, reason, sizeof(reason));
        }

        rbac_subject_free(&s, &fz_a);
        break;

    case RBAC_REC_OBJ:
        if (rbac_object_view(rec, &fz_a, &o) != RBAC_OK) {
            abort();
        }

        memset(&s, 0, sizeof(s));
        s.id.data = "u1";
        s.id.len = 2;

        for (i = 0; i < RBAC_NACTIONS; i++) {
            rbac_decide(&s, &o, (rbac_action_t) i, &d);
            rbac_decision_reason(&d, &s, &o, reason, sizeof(reason));
        }

        rbac_object_view_free(&o, &fz_a);
        break;

    default:
        break;
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char             *j1, *j2;
    void             *r1, *r2;
    size_t            l1, l2;
    rbac_rc_t         rc;
    rbac_err_t        err;
    rbac_rec_type_t   type;

    if (size < 1) {
        return 0;
    }

    type = (rbac_rec_type_t) (1 + data[0] % (RBAC_NREC - 1));

    memset(&err, 0, sizeof(err));
    r1 = (void *) 1;
    rc = rbac_record_parse(type, (const char *) data + 1, size - 1, &fz_a,
                           &r1, &err);

    if (rc != RBAC_OK) {
        if (r1 != NULL || err.rc != rc || err.msg[0] == '\0') {
            abort();
        }

        return 0;
    }

    if (((rbac_rec_hdr_t *) r1)->type != type
        || ((rbac_rec_hdr_t *) r1)->size % 8 != 0)
    {
        abort();
    }

    if (rbac_record_json(r1, &fz_a, &j1, &l1, &err) != RBAC_OK) {
        abort();
    }

    rc = rbac_record_parse(type, j1, l1, &fz_a, &r2, &err);
    if (rc != RBAC_OK) {
        fprintf(stderr, "canonical JSON does not parse: %s\n%s\n", err.msg,
                j1);
        abort();
    }

    if (((rbac_rec_hdr_t *) r1)->size != ((rbac_rec_hdr_t *) r2)->size
        || memcmp(r1, r2, ((rbac_rec_hdr_t *) r1)->size) != 0)
    {
        fprintf(stderr, "round trip changed the block:\n%s\n", j1);
        abort();
    }

    if (rbac_record_json(r2, &fz_a, &j2, &l2, &err) != RBAC_OK
        || l1 != l2 || memcmp(j1, j2, l1) != 0)
    {
        fprintf(stderr, "canonical JSON not stable:\n%s\n", j1);
        abort();
    }

    fz_views(r1);
    fz_keys(r1, (const char *) data + 1, size - 1);

    free(j1);
    free(j2);
    free(r1);
    free(r2);

    return 0;
}
