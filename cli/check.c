/*
 * check.c: `rbacctl check`: the decision the module would make for a user,
 * an action and an object, from the records in Redis (implicit roles, org
 * sharing modes and default roles, deployment options, custom roles, the
 * object's record when an id is given).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"


static const char  rbacctl_check_usage[] =
    "check --user U --action A --object TYPE[:ID] [--org O] [--owner X]\n"
    "      [--claims FILE] [--explain] [--redis URL] [--prefix P]\n"
    "  exit 0 allow, 1 deny; --explain prints the reason, level, role and\n"
    "  permission that decided.  ID or X \"me\" mean the user.  --claims:\n"
    "  the claims of a token of U (JSON): IdP sync (rbac:idpsync) is\n"
    "  applied as the module does, and each membership is printed first\n"
    "  (\"grant KIND [ORG/]NAME: REASON\").";


static const char *
rbacctl_level_name(rbac_level_t l)
{
    static const char  *names[] = { "site", "user", "org", "member" };

    return l < RBAC_NLEVELS ? names[l] : "?";
}


/* An argument of the object: NULL is not given. */
static void
rbacctl_check_arg(rbac_str_t *out, const char *arg)
{
    out->data = arg;
    out->len = arg ? strlen(arg) : 0;
}


/*
 * The record at key (without the prefix), parsed into ar: *rec NULL when
 * there is none.  RBACCTL_FAIL (said on stderr) when Redis fails or the
 * record is malformed.
 */
static int
rbacctl_check_record(rbacctl_conn_t *conn, const char *key,
    rbacctl_arena_t *ar, void **rec)
{
    char  *val;

    *rec = NULL;

    if (rbacctl_get(conn, key, &val) != RBACCTL_OK) {
        return RBACCTL_FAIL;
    }

    if (val == NULL) {
        return RBACCTL_OK;
    }

    *rec = rbacctl_parse_key(conn->prefix, key, val,
                             rbacctl_arena_allocator(ar));
    free(val);

    return *rec != NULL ? RBACCTL_OK : RBACCTL_FAIL;
}


static int
rbacctl_check_deny(const char *why, int explain)
{
    printf("deny\n");

    if (explain) {
        printf("reason: %s\n", why);
    }

    return RBACCTL_DENIED;
}


/*
 * What the module refuses with 400 before looking anything up: an
 * argument "@kind:value" that is malformed (not a UUID where one is
 * declared).  RBACCTL_DENIED with why; RBACCTL_USAGE for a kind that does
 * not fit.
 */
static int
rbacctl_check_ids(rbac_type_t type, const char *id, const char *org,
    const char *owner, char *why, size_t len)
{
    int              is_key;
    char             buf[RBAC_REF_KEY_MAX];
    size_t           i;
    rbac_str_t       v, rest, out, someone = rbac_string("-");
    const char      *vals[3], *w;
    rbac_refkind_t   kind;

    static const char  *args[] = { "id", "org", "owner" };

    vals[0] = id;
    vals[1] = org;
    vals[2] = owner;

    for (i = 0; i < 3; i++) {
        if (vals[i] == NULL || vals[i][0] != '@') {
            continue;
        }

        v.data = vals[i];
        v.len = strlen(vals[i]);

        if (rbac_refarg_split(v, &kind, &rest) != RBAC_OK
            || !rbac_refkind_fits(kind, type, (rbac_arg_t) i))
        {
            fprintf(stderr, "rbacctl check: \"%s\": not a kind of reference "
                    "that fits the %s (docs/references.md)\n", vals[i],
                    args[i]);
            return RBACCTL_USAGE;
        }

        if (rbac_refarg_eval(kind, rest, someone, buf, &out, &is_key, &w)
            != RBAC_OK)
        {
            snprintf(why, len, "%s %s %s", rbac_type_name(type), args[i], w);
            return RBACCTL_DENIED;
        }
    }

    return RBACCTL_OK;
}


/* The arguments "@kind:value" replaced by the ids they name (res[]). */
static int
rbacctl_check_refs(rbacctl_conn_t *conn, rbac_type_t type, const char *user,
    const char **id, const char **org, const char **owner, char **res,
    char *why, size_t len)
{
    int           rc;
    size_t        i;
    const char  **vals[3];

    vals[0] = id;
    vals[1] = org;
    vals[2] = owner;

    for (i = 0; i < 3; i++) {
        if (*vals[i] == NULL || (*vals[i])[0] != '@') {
            continue;
        }

        rc = rbacctl_ref_arg(conn, type, (rbac_arg_t) i, *vals[i], user,
                             &res[i], why, len);
        if (rc != RBACCTL_OK) {
            return rc;
        }

        *vals[i] = res[i];
    }

    return RBACCTL_OK;
}


/*
 * The user and the object as the module takes them from a request: *type
 * and *id (NULL: none) from "TYPE[:ID]".  RBACCTL_USAGE for what is not a
 * request at all; RBACCTL_DENIED (printed) for what the module refuses.
 */
static int
rbacctl_check_target(rbacctl_args_t *a, const char *user, const char *object,
    const char *org, const char *owner, int explain, rbac_type_t *type,
    const char **id)
{
    int          rc;
    char         why[600];
    rbac_str_t   s;
    const char  *colon;

    *type = RBAC_T_OTHER;
    *id = NULL;

    if (!rbacctl_id_ok(user, strlen(user))) {
        return rbacctl_fail(a, RBACCTL_USAGE, "--user: \"%s\" is not a "
                            "user id", user);
    }

    colon = strchr(object, ':');
    s.data = object;
    s.len = colon ? (size_t) (colon - object) : strlen(object);
    *id = colon ? colon + 1 : NULL;

    *type = rbac_type_from_name(s);
    if (*type == RBAC_T_OTHER) {
        return rbacctl_fail(a, RBACCTL_USAGE, "--object: unknown resource "
                            "type \"%.*s\"", (int) s.len, s.data);
    }

    /* ids declared as UUIDs: refused before anything is looked up */
    rc = rbacctl_check_ids(*type, *id, org, owner, why, sizeof(why));
    if (rc != RBACCTL_OK) {
        return rc == RBACCTL_DENIED ? rbacctl_check_deny(why, explain) : rc;
    }

    if (*id != NULL && (*id)[0] && (*id)[0] != '@' && strcmp(*id, "me") != 0
        && !rbacctl_id_ok(*id, strlen(*id)))
    {
        return rbacctl_fail(a, RBACCTL_USAGE, "--object: \"%s\" is not an "
                            "object id", *id);
    }

    return RBACCTL_OK;
}


/*
 * The --claims file (NULL: none) read into *claims (malloc; NULL without
 * the option) after the checks the module makes of a token's claims.
 */
static int
rbacctl_check_claims(rbacctl_args_t *a, const char *file, char **claims)
{
    char    *text;
    size_t   len;
    cJSON   *cj;

    *claims = NULL;

    if (file == NULL) {
        return RBACCTL_OK;
    }

    text = rbacctl_read_file(file, &len);
    if (text == NULL) {
        return rbacctl_fail(a, RBACCTL_USAGE, "--claims: %s: %s", file,
                            strerror(errno));
    }

    cj = cJSON_ParseWithLength(text, len);
    if (!cJSON_IsObject(cj) || len > RBAC_MAX_CLAIMS) {
        cJSON_Delete(cj);
        free(text);
        return rbacctl_fail(a, RBACCTL_USAGE, "--claims: %s: not a JSON "
                            "object of at most %d bytes", file,
                            RBAC_MAX_CLAIMS);
    }

    /* the module refuses such a token (401 "malformed token") */
    if (rbac_claims_dup_members(cj)) {
        cJSON_Delete(cj);
        free(text);
        return rbacctl_fail(a, RBACCTL_USAGE, "--claims: %s: a member "
                            "name appears twice in one object", file);
    }

    cJSON_Delete(cj);
    *claims = text;

    return RBACCTL_OK;
}


/* What the token is granted, and why. */
static void
rbacctl_check_grants(const rbac_idp_result_t *idp)
{
    size_t                   i;
    const rbac_idp_grant_t  *g;

    for (i = 0; i < idp->ngrants; i++) {
        g = &idp->grants[i];
        printf("grant %s %s%s%s: %s\n", rbac_idp_kind_name(g->kind),
               g->org.data, g->org.len ? "/" : "", g->name.data,
               g->reason.data);
    }
}


/*
 * The object: the core resolver, with the record it names.  RBACCTL_OK
 * with *obj; RBACCTL_DENIED (printed) for an object the module refuses;
 * RBACCTL_FAIL.
 */
static int
rbacctl_check_object(rbacctl_conn_t *conn, rbacctl_arena_t *ar,
    rbac_type_t type, const char *user, const char *id, const char *org,
    const char *owner, int explain, rbac_object_t *obj)
{
    int                 rc;
    char                key[700];
    void               *rec;
    rbac_rc_t           rrc;
    rbac_err_t          err;
    rbac_str_t          s;
    rbac_rec_type_t     kind;
    rbac_object_args_t  oa;

    memset(&oa, 0, sizeof(oa));
    oa.type = type;
    oa.me.data = user;
    oa.me.len = strlen(user);
    rbacctl_check_arg(&oa.id, id);
    rbacctl_check_arg(&oa.org, org);
    rbacctl_check_arg(&oa.owner, owner);

    kind = rbac_object_record(&oa, &s);
    rec = NULL;
    key[0] = '\0';

    if (kind != RBAC_REC_NONE) {
        snprintf(key, sizeof(key), "%s%s%s%.*s",
                 kind == RBAC_REC_OBJ ? "obj:" : kind == RBAC_REC_ORG
                 ? "org:" : "user:", kind == RBAC_REC_OBJ
                 ? rbac_type_name(type) : "", kind == RBAC_REC_OBJ ? ":" : "",
                 (int) s.len, s.data);

        rc = rbacctl_check_record(conn, key, ar, &rec);
        if (rc != RBACCTL_OK) {
            return rc;
        }
    }

    memset(&err, 0, sizeof(err));

    rrc = rbac_object_resolve(&oa, rec, rbacctl_arena_allocator(ar), obj,
                              &err);

    if (rrc == RBAC_EINVAL || rrc == RBAC_ENOTFOUND) {
        return rbacctl_check_deny(err.msg, explain);
    }

    if (rrc != RBAC_OK) {
        fprintf(stderr, "rbacctl: %s%s: %s\n", conn->prefix, key,
                err.msg[0] ? err.msg : rbac_strerror(rrc));
        return RBACCTL_FAIL;
    }

    return RBACCTL_OK;
}


/* The decision on stdout (with --explain, what made it); the exit code. */
static int
rbacctl_check_print(const rbac_decision_t *d, const rbac_subject_t *subj,
    const rbac_object_t *obj, rbac_action_t act, int explain)
{
    char  reason[512];

    rbac_decision_reason(d, subj, obj, reason, sizeof(reason));

    printf("%s\n", d->allow ? "allow" : "deny");

    if (explain) {
        printf("reason: %s\n", reason);

        if (d->by == RBAC_BY_ROLE) {
            printf("level: %s\n", rbacctl_level_name(d->level));
            if (d->role) {
                printf("role: %s\n", d->role->name);
            }
            if (d->org.len) {
                printf("org: %.*s\n", (int) d->org.len, d->org.data);
            }
        }

        if (d->acl_id.len) {
            printf("acl: %.*s\n", (int) d->acl_id.len, d->acl_id.data);
        }

        printf("permission: %.*s:%s%s\n", (int) obj->type_name.len,
               obj->type_name.data, rbac_action_name(act),
               d->negated ? " (negated)" : "");
    }

    return d->allow ? RBACCTL_OK : RBACCTL_DENIED;
}


int
rbacctl_check(int argc, char **argv)
{
    int               rc, explain;
    char              why[600], *claims;
    size_t            i;
    rbac_str_t        s;
    const char       *user, *action, *object, *org, *owner, *id;
    rbac_type_t       type;
    rbac_action_t     act;
    rbac_object_t     obj;
    rbac_subject_t    subj;
    rbac_decision_t   d;
    rbacctl_args_t    a;
    rbacctl_conn_t    conn;
    rbacctl_arena_t  *ar;
    rbac_idp_result_t  idp;
    char             *res[3] = { NULL, NULL, NULL };

    rc = rbacctl_args_parse(&a, "check", argc - 1, argv + 1,
                            "user= action= object= org= owner= explain "
                            "claims=", rbacctl_check_usage);
    if (rc != RBACCTL_OK || a.help) {
        return rc;
    }

    user = rbacctl_arg(&a, "user");
    action = rbacctl_arg(&a, "action");
    object = rbacctl_arg(&a, "object");
    org = rbacctl_arg(&a, "org");
    owner = rbacctl_arg(&a, "owner");
    explain = rbacctl_flag(&a, "explain");

    if (user == NULL || action == NULL || object == NULL || a.npos) {
        fprintf(stderr, "usage: rbacctl %s\n", rbacctl_check_usage);
        return RBACCTL_USAGE;
    }

    rc = rbacctl_check_claims(&a, rbacctl_arg(&a, "claims"), &claims);
    if (rc != RBACCTL_OK) {
        return rc;
    }

    rc = rbacctl_check_target(&a, user, object, org, owner, explain, &type,
                              &id);
    if (rc != RBACCTL_OK) {
        free(claims);
        return rc;
    }

    s.data = action;
    s.len = strlen(action);
    act = rbac_action_from_name(s);

    rc = rbacctl_connect(&a, &conn);
    if (rc != RBACCTL_OK) {
        free(claims);
        return rc;
    }

    ar = rbacctl_arena_new();
    if (ar == NULL) {
        free(claims);
        rbacctl_disconnect(&conn);
        return RBACCTL_FAIL;
    }

    memset(&idp, 0, sizeof(idp));

    rc = rbacctl_subject_claims(&conn, NULL, user, claims, ar, &subj, NULL,
                                &idp);
    free(claims);

    rbacctl_check_grants(&idp);

    if (rc == RBACCTL_DENIED) {
        rc = rbacctl_check_deny("unknown user", explain);
        goto done;
    }

    if (rc != RBACCTL_OK) {
        goto done;
    }

    /* references, read as the module reads them (ref.c) */
    rc = rbacctl_check_refs(&conn, type, user, &id, &org, &owner, res, why,
                            sizeof(why));
    if (rc != RBACCTL_OK) {
        rc = rc == RBACCTL_DENIED ? rbacctl_check_deny(why, explain) : rc;
        goto done;
    }

    if (act == RBAC_A_OTHER) {
        snprintf(why, sizeof(why), "unknown action \"%s\"", action);
        rc = rbacctl_check_deny(why, explain);
        goto done;
    }

    rc = rbacctl_check_object(&conn, ar, type, user, id, org, owner, explain,
                              &obj);
    if (rc != RBACCTL_OK) {
        goto done;
    }

    rbac_decide(&subj, &obj, act, &d);
    rc = rbacctl_check_print(&d, &subj, &obj, act, explain);

done:

    for (i = 0; i < 3; i++) {
        free(res[i]);
    }

    rbacctl_arena_free(ar);
    rbacctl_disconnect(&conn);

    return rc;
}
