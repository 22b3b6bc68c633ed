/*
 * fuzz_object.c: the object resolver (rbac_object.h).  Byte 0 picks the
 * type, byte 1 which arguments are given, any_org, and whether a record is
 * found; the rest holds id, org, owner, the caller and the record's JSON,
 * separated by 0xff bytes.  Beyond "no crash, no leak": a refusal says
 * why; an object that resolves never differs from a given org= or owner=,
 * is what its record says, and holds no control byte.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbac.h"


/* A control byte, or over the bound: never in an object. */
static int
fz_ctl(rbac_str_t s)
{
    return rbac_str_ctl(s) || s.len > RBAC_MAX_NAME;
}


/* The next 0xff-separated field of [*p, end). */
static rbac_str_t
fz_field(const uint8_t **p, const uint8_t *end)
{
    rbac_str_t      s;
    const uint8_t  *q;

    q = memchr(*p, 0xff, (size_t) (end - *p));
    if (q == NULL) {
        q = end;
    }

    s.data = (const char *) *p;
    s.len = (size_t) (q - *p);
    *p = q < end ? q + 1 : end;

    return s;
}


static void
fz_check(const rbac_object_args_t *a, const void *rec, rbac_rec_type_t kind,
    rbac_str_t id, const rbac_object_t *o)
{
    const rbac_obj_rec_t  *or = rec;

    if (fz_ctl(o->id) || fz_ctl(o->org) || fz_ctl(o->owner)
        || o->id.data == NULL || o->org.data == NULL || o->owner.data == NULL)
    {
        abort();
    }

    if (a->org.len && !rbac_str_eq(a->org, o->org)) {
        abort();
    }

    if (a->owner.len && !rbac_str_eq_cstr(a->owner, "me")
        && !rbac_str_eq(a->owner, o->owner))
    {
        abort();
    }

    if (kind != RBAC_REC_NONE && !rbac_str_eq(o->id, id)) {
        abort();
    }

    if (kind == RBAC_REC_OBJ
        && (!rbac_str_eq(o->org, rbac_ref(or, or->org))
            || !rbac_str_eq(o->owner, rbac_ref(or, or->owner))))
    {
        abort();
    }

    if (kind == RBAC_REC_USER && !rbac_str_eq(o->owner, id)) {
        abort();
    }

    /* any_org never widens an object read from its record */
    if (o->any_org != (a->any_org && kind == RBAC_REC_NONE)) {
        abort();
    }

    if (kind == RBAC_REC_USER && o->org.len) {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                  flags;
    void                *rec;
    size_t               i;
    rbac_rc_t            rc;
    rbac_str_t           json, id, *arg[4];
    rbac_err_t           err;
    rbac_object_t        o;
    rbac_subject_t       s;
    rbac_decision_t      d;
    rbac_rec_type_t      kind;
    const uint8_t       *p, *end;
    rbac_object_args_t   a;

    if (size < 2) {
        return 0;
    }

    memset(&a, 0, sizeof(a));
    a.type = (rbac_type_t) (data[0] % RBAC_T_OTHER);
    flags = data[1];
    a.any_org = (flags & 0x10) != 0;

    p = data + 2;
    end = data + size;
    arg[0] = &a.id;
    arg[1] = &a.org;
    arg[2] = &a.owner;
    arg[3] = &a.me;

    for (i = 0; i < 4; i++) {
        *arg[i] = fz_field(&p, end);

        if (!(flags & (1 << i))) {
            arg[i]->data = NULL;        /* not given */
            arg[i]->len = 0;
        }
    }

    json = fz_field(&p, end);

    kind = rbac_object_record(&a, &id);
    rec = NULL;

    if (kind != RBAC_REC_NONE && (flags & 0x20)) {
        /* the record found at the key, or (0x40) one of another kind */
        memset(&err, 0, sizeof(err));

        if (rbac_record_parse((flags & 0x40) ? RBAC_REC_ORG : kind, json.data,
                              json.len, &rbac_malloc_allocator, &rec, &err)
            != RBAC_OK)
        {
            return 0;
        }
    }

    memset(&err, 0, sizeof(err));
    rc = rbac_object_resolve(&a, rec, &rbac_malloc_allocator, &o, &err);

    switch (rc) {

    case RBAC_OK:
        fz_check(&a, rec, kind, id, &o);

        memset(&s, 0, sizeof(s));
        s.id = a.me;

        for (i = 0; i < RBAC_NACTIONS; i++) {
            rbac_decide(&s, &o, (rbac_action_t) i, &d);
        }

        rbac_object_view_free(&o, &rbac_malloc_allocator);
        break;

    case RBAC_ENOTFOUND:
        if (rec != NULL || kind == RBAC_REC_NONE) {
            abort();
        }

        /* fall through */

    case RBAC_EINVAL:
    case RBAC_EPARSE:
        if (err.rc != rc || err.msg[0] == '\0') {
            abort();
        }

        break;

    default:
        abort();
    }

    free(rec);

    return 0;
}
