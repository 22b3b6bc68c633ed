/*
 * rbac_reference.c: how an object argument names its object
 * (docs/references.md): the kinds of reference and where they fit, the
 * key a value looks up, and the one spelling of a UUID.
 */

#include <assert.h>
#include <string.h>

#include "rbac_reference.h"


typedef struct {
    const char   *name;
    rbac_type_t   target;
    unsigned      parent:1;     /* "<parent>/<name>" */
    unsigned      uuid:1;       /* the key is a UUID */
    unsigned      fold:1;       /* the (last) name is case-insensitive */
    unsigned      by_id:1;      /* me / a UUID name the id itself */
} rbac_refkind_def_t;


static const rbac_refkind_def_t  rbac_refkinds[RBAC_NRK] = {
    { "",          RBAC_T_OTHER,        0, 0, 0, 0 },
    { "uuid",      RBAC_T_OTHER,        0, 1, 0, 0 },
    { "orgname",   RBAC_T_ORGANIZATION, 0, 0, 1, 1 },
    { "username",  RBAC_T_USER,         0, 0, 1, 1 },
    { "workspace", RBAC_T_WORKSPACE,    1, 0, 1, 0 },
    { "template",  RBAC_T_TEMPLATE,     1, 0, 1, 0 },
    { "group",     RBAC_T_GROUP,        1, 0, 0, 0 },
    { "build",     RBAC_T_WORKSPACE,    0, 1, 0, 0 },
    { "version",   RBAC_T_TEMPLATE,     0, 1, 0, 0 },
    { "agent",     RBAC_T_WORKSPACE,    0, 1, 0, 0 },
    { "apikey",    RBAC_T_USER,         0, 0, 0, 0 },
};


static int
rbac_hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    return -1;
}


static char
rbac_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : c;
}


int
rbac_uuid_canon(const char *s, size_t len, char *out)
{
    size_t      i, j;
    char        tmp[RBAC_UUID_LEN];
    static const char  urn[] = "urn:uuid:";

    assert(s != NULL || len == 0);

    switch (len) {

    case 32:
        for (i = 0, j = 0; i < 32; i++) {
            if (rbac_hexval(s[i]) < 0) {
                return 0;
            }

            if (j == 8 || j == 13 || j == 18 || j == 23) {
                tmp[j++] = '-';
            }

            tmp[j++] = rbac_lower(s[i]);
        }

        memcpy(out, tmp, RBAC_UUID_LEN);
        return 1;

    case RBAC_UUID_LEN + 9:
        for (i = 0; i < 9; i++) {
            if (rbac_lower(s[i]) != urn[i]) {
                return 0;
            }
        }

        s += 9;
        break;

    case RBAC_UUID_LEN + 2:
        /* Go drops the first and last characters without looking */
        s += 1;
        break;

    case RBAC_UUID_LEN:
        break;

    default:
        return 0;
    }

    for (i = 0; i < RBAC_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return 0;
            }

            tmp[i] = '-';
            continue;
        }

        if (rbac_hexval(s[i]) < 0) {
            return 0;
        }

        tmp[i] = rbac_lower(s[i]);
    }

    memcpy(out, tmp, RBAC_UUID_LEN);

    return 1;
}


rbac_refkind_t
rbac_refkind_from_name(rbac_str_t name)
{
    int  k;

    for (k = RBAC_RK_UUID; k < RBAC_NRK; k++) {
        if (rbac_str_eq_cstr(name, rbac_refkinds[k].name)) {
            return (rbac_refkind_t) k;
        }
    }

    return RBAC_RK_NONE;
}


const char *
rbac_refkind_name(rbac_refkind_t k)
{
    assert(k < RBAC_NRK);
    return rbac_refkinds[k].name;
}


rbac_type_t
rbac_refkind_target(rbac_refkind_t k)
{
    assert(k < RBAC_NRK);
    return rbac_refkinds[k].target;
}


int
rbac_refkind_fits(rbac_refkind_t k, rbac_type_t t, rbac_arg_t arg)
{
    assert(k < RBAC_NRK);

    if (k == RBAC_RK_NONE || k == RBAC_RK_UUID) {
        return 1;
    }

    switch (arg) {

    case RBAC_ARG_ORG:
        return rbac_refkinds[k].target == RBAC_T_ORGANIZATION;

    case RBAC_ARG_OWNER:
        return rbac_refkinds[k].target == RBAC_T_USER;

    default:
        return rbac_refkinds[k].target == t;
    }
}


rbac_rc_t
rbac_refarg_split(rbac_str_t s, rbac_refkind_t *kind, rbac_str_t *rest)
{
    const char  *colon;
    rbac_str_t   name;

    if (s.len == 0 || s.data[0] != '@') {
        *kind = RBAC_RK_NONE;
        *rest = s;
        return RBAC_OK;
    }

    colon = memchr(s.data, ':', s.len);
    if (colon == NULL) {
        return RBAC_EINVAL;
    }

    name.data = s.data + 1;
    name.len = (size_t) (colon - name.data);

    *kind = rbac_refkind_from_name(name);
    if (*kind == RBAC_RK_NONE) {
        return RBAC_EUNKNOWN;
    }

    rest->data = colon + 1;
    rest->len = s.len - (size_t) (colon + 1 - s.data);

    return RBAC_OK;
}


/* Appends s to buf at *n, lower-cased when fold is set. */
static void
rbac_ref_put(char *buf, size_t *n, const char *s, size_t len, int fold)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        buf[*n + i] = fold ? rbac_lower(s[i]) : s[i];
    }

    *n += len;
}


/*
 * A name that may also be given as "me" (users) or as an id: the spelling
 * of the parent of a workspace, template or group, and of the whole value
 * of orgname and username.  *id: it is an id (v is "me": the caller; or a
 * UUID, canonical in uuid[]); else it is a name, lower-cased by the caller.
 */
static int
rbac_ref_as_id(rbac_str_t v, int users, rbac_str_t caller, char *uuid,
    rbac_str_t *id)
{
    if (users && v.len == 2 && memcmp(v.data, "me", 2) == 0) {
        *id = caller;
        return 1;
    }

    if (rbac_uuid_canon(v.data, v.len, uuid)) {
        id->data = uuid;
        id->len = RBAC_UUID_LEN;
        return 1;
    }

    return 0;
}


/*
 * s cut at its first sep: *head before it, *tail after it.  0 (head and tail
 * untouched) when s holds no sep.
 */
static int
rbac_ref_cut(rbac_str_t s, char sep, rbac_str_t *head, rbac_str_t *tail)
{
    const char  *p;

    p = s.len ? memchr(s.data, sep, s.len) : NULL;
    if (p == NULL) {
        return 0;
    }

    head->data = s.data;
    head->len = (size_t) (p - s.data);
    tail->data = p + 1;
    tail->len = s.len - head->len - 1;

    return 1;
}


rbac_rc_t
rbac_refarg_eval(rbac_refkind_t k, rbac_str_t v, rbac_str_t caller,
    char *buf, rbac_str_t *out, int *is_key, const char **why)
{
    size_t                     n, klen;
    char                       uuid[RBAC_UUID_LEN];
    rbac_str_t                 parent, name, id;
    const rbac_refkind_def_t  *d;

    assert(k < RBAC_NRK && buf != NULL && out != NULL);

    d = &rbac_refkinds[k];
    *is_key = 0;
    *why = NULL;

    if (k == RBAC_RK_NONE) {
        *out = v;
        return RBAC_OK;
    }

    if (v.len == 0) {
        *why = "is empty";
        return RBAC_EINVAL;
    }

    if (v.len > (d->parent ? 2 * RBAC_MAX_NAME + 1 : RBAC_MAX_NAME)) {
        *why = "is too long";
        return RBAC_EBOUND;
    }

    if (d->uuid) {
        if (!rbac_uuid_canon(v.data, v.len, uuid)) {
            *why = "is not a UUID";
            return RBAC_EINVAL;
        }

        if (k == RBAC_RK_UUID) {
            memcpy(buf, uuid, RBAC_UUID_LEN);
            out->data = buf;
            out->len = RBAC_UUID_LEN;
            return RBAC_OK;
        }

        v.data = uuid;
        v.len = RBAC_UUID_LEN;
    }

    if (d->by_id
        && rbac_ref_as_id(v, k == RBAC_RK_USERNAME, caller, uuid, &id))
    {
        if (id.data == uuid) {
            memcpy(buf, uuid, RBAC_UUID_LEN);
            id.data = buf;
        }

        *out = id;
        return RBAC_OK;
    }

    /* a reference: "<kind>:<key>" */

    klen = strlen(d->name);
    memcpy(buf, d->name, klen);
    buf[klen] = ':';
    n = klen + 1;

    if (!d->parent) {
        rbac_ref_put(buf, &n, v.data, v.len, d->fold);
        goto done;
    }

    if (!rbac_ref_cut(v, '/', &parent, &name)) {
        *why = "has no parent (<parent>/<name>)";
        return RBAC_EINVAL;
    }

    if (parent.len == 0 || name.len == 0) {
        *why = "has an empty parent or name";
        return RBAC_EINVAL;
    }

    if (parent.len > RBAC_MAX_NAME || name.len > RBAC_MAX_NAME) {
        *why = "is too long";
        return RBAC_EBOUND;
    }

    if (rbac_ref_as_id(parent, k == RBAC_RK_WORKSPACE, caller, uuid, &id)) {
        if (id.len == 0 || id.len > RBAC_MAX_NAME) {
            *why = "has no caller for \"me\"";
            return RBAC_EINVAL;
        }

        rbac_ref_put(buf, &n, id.data, id.len, 0);

    } else {
        /* usernames and organization names are case-insensitive */
        rbac_ref_put(buf, &n, parent.data, parent.len, 1);
    }

    buf[n++] = '/';
    rbac_ref_put(buf, &n, name.data, name.len, d->fold);

done:

    assert(n <= RBAC_REF_KEY_MAX);

    out->data = buf;
    out->len = n;
    *is_key = 1;

    return RBAC_OK;
}


rbac_rc_t
rbac_refkey_parse(rbac_str_t s, char *buf, rbac_str_t *out,
    rbac_refkind_t *kind, const char **why)
{
    int          is_key;
    rbac_rc_t    rc;
    rbac_str_t   name, v, none = rbac_null_str;

    *why = NULL;

    if (!rbac_ref_cut(s, ':', &name, &v)) {
        *why = "is not <kind>:<key>";
        return RBAC_EINVAL;
    }

    *kind = rbac_refkind_from_name(name);
    if (*kind == RBAC_RK_NONE || *kind == RBAC_RK_UUID) {
        *why = "names no kind of reference";
        return RBAC_EINVAL;
    }

    rc = rbac_refarg_eval(*kind, v, none, buf, out, &is_key, why);
    if (rc != RBAC_OK) {
        return rc;
    }

    if (!is_key) {
        *why = "names an id (\"me\" or a UUID), not a reference";
        return RBAC_EINVAL;
    }

    return RBAC_OK;
}
