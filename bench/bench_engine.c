/*
 * bench_engine.c: the cost of one rbac_decide, for a typical subject
 * (3 orgs, 6 roles) and a heavy one (100 orgs, 300 roles), over a mix of
 * allowed and denied requests; and the proof that a decision allocates
 * nothing: the core's allocator and the process's malloc family (wrapped
 * at link time, see bench.mk) are counted around the timed loops.
 *
 * Each run is bounded: at least BENCH_MIN_NS of decisions, at most
 * BENCH_MAX_ITERS.  Printed against the budget of 1 us
 * (docs/architecture.md §8).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rbac.h"


#define BENCH_MIN_NS     1000000000LL      /* 1 s per subject */
#define BENCH_MAX_ITERS  200000000LL
#define BENCH_BATCH      100000

#define HEAVY_ORGS       100
#define HEAVY_PER_ORG    3


/* ---- counting: the malloc family, wrapped by the linker ---- */

static long  malloc_calls;

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);

void *
__wrap_malloc(size_t size)
{
    malloc_calls++;
    return __real_malloc(size);
}


void *
__wrap_calloc(size_t n, size_t size)
{
    malloc_calls++;
    return __real_calloc(n, size);
}


void *
__wrap_realloc(void *p, size_t size)
{
    malloc_calls++;
    return __real_realloc(p, size);
}


/* ---- counting: the core's allocator ---- */

static long  alloc_calls;

static void *
count_alloc(void *ud, size_t size)
{
    alloc_calls++;
    return malloc(size);
}


static void
count_free(void *ud, void *p)
{
    free(p);
}


static const rbac_allocator_t  counting = { count_alloc, count_free, NULL };


static long long
now_ns(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}


/* ---- the workload ---- */

typedef struct {
    rbac_object_t   o;
    rbac_action_t   a;
} bench_case_t;

#define NCASES  10

static rbac_acl_entry_t  acl_users[2], acl_groups[2];

static void
cases_init(bench_case_t *c, const char *org_own, const char *org_other,
    const char *org_admin)
{
    int  i;

    memset(c, 0, NCASES * sizeof(*c));

    acl_users[0].id = rbac_cstr("u7");
    acl_users[0].actions = RBAC_AMASK_ALL;
    acl_users[1].id = rbac_cstr("u1");
    acl_users[1].actions = rbac_acl_role_actions(RBAC_T_WORKSPACE,
                                                 rbac_cstr("use"));
    acl_groups[0].id = rbac_cstr("g-team");
    acl_groups[0].actions = RBAC_AM(READ);
    acl_groups[1].id = rbac_cstr(org_other);
    acl_groups[1].actions = RBAC_AM(READ) | RBAC_AM(USE);

    for (i = 0; i < NCASES; i++) {
        c[i].o.id = rbac_cstr("obj-1");
        c[i].o.org = rbac_cstr("");
        c[i].o.owner = rbac_cstr("");
    }

    /* own workspace, member level: allow */
    c[0].o.type = RBAC_T_WORKSPACE;
    c[0].o.org = rbac_cstr(org_own);
    c[0].o.owner = rbac_cstr("u1");
    c[0].a = RBAC_A_SSH;

    /* someone else's workspace in another org: deny */
    c[1].o.type = RBAC_T_WORKSPACE;
    c[1].o.org = rbac_cstr(org_other);
    c[1].o.owner = rbac_cstr("u2");
    c[1].a = RBAC_A_SSH;

    /* shared workspace, user ACL: allow */
    c[2].o = c[1].o;
    c[2].o.acl_users = acl_users;
    c[2].o.nacl_users = 2;
    c[2].a = RBAC_A_APPLICATION_CONNECT;

    /* template via Everyone ACL: allow */
    c[3].o.type = RBAC_T_TEMPLATE;
    c[3].o.org = rbac_cstr(org_other);
    c[3].o.acl_groups = acl_groups;
    c[3].o.nacl_groups = 2;
    c[3].a = RBAC_A_USE;

    /* template update, org admin: allow */
    c[4].o.type = RBAC_T_TEMPLATE;
    c[4].o.org = rbac_cstr(org_admin);
    c[4].a = RBAC_A_UPDATE;

    /* template delete elsewhere: deny */
    c[5].o.type = RBAC_T_TEMPLATE;
    c[5].o.org = rbac_cstr(org_own);
    c[5].a = RBAC_A_DELETE;

    /* own file, user level: allow */
    c[6].o.type = RBAC_T_FILE;
    c[6].o.owner = rbac_cstr("u1");
    c[6].a = RBAC_A_READ;

    /* deployment config: deny */
    c[7].o.type = RBAC_T_DEPLOYMENT_CONFIG;
    c[7].a = RBAC_A_UPDATE;

    /* share own workspace: allow (everyone mode) */
    c[8].o = c[0].o;
    c[8].a = RBAC_A_SHARE;

    /* any_org template create: allow via the admin org */
    c[9].o.type = RBAC_T_TEMPLATE;
    c[9].o.any_org = 1;
    c[9].a = RBAC_A_CREATE;

    for (i = 0; i < NCASES; i++) {
        c[i].o.type_name = rbac_cstr(rbac_type_name(c[i].o.type));
    }
}


/* Runs the cases round robin; returns ns per decision. */
static double
run(const char *label, const rbac_subject_t *s, const bench_case_t *c,
    size_t nroles)
{
    long             a0, m0;
    long long        t0, t, iters, allows, i;
    rbac_decision_t  d;

    a0 = alloc_calls;
    m0 = malloc_calls;

    allows = 0;
    iters = 0;
    t0 = now_ns();

    do {
        for (i = 0; i < BENCH_BATCH; i++) {
            const bench_case_t  *k = &c[(iters + i) % NCASES];

            rbac_decide(s, &k->o, k->a, &d);
            allows += d.allow;
        }

        iters += BENCH_BATCH;
        t = now_ns() - t0;

    } while (t < BENCH_MIN_NS && iters < BENCH_MAX_ITERS);

    printf("%-8s %3zu orgs %3zu roles: %11.0f decisions/s  %7.1f ns/decision"
           "  (%.0f%% allowed; %.3f of the 1 us budget)\n"
           "         allocations during the loop: core allocator %ld, "
           "malloc/calloc/realloc %ld\n",
           label, s->norgs, nroles, 1e9 * iters / t,
           (double) t / iters, 100.0 * allows / iters,
           (double) t / iters / 1000.0, alloc_calls - a0, malloc_calls - m0);

    return (double) t / iters;
}


int
main(void)
{
    size_t               i, j, nroles;
    rbac_rc_t            rc;
    rbac_err_t           err;
    rbac_catalog_t      *cat;
    rbac_subject_t       s;
    bench_case_t         c[NCASES];
    rbac_subject_org_t   orgs[HEAVY_ORGS];
    rbac_str_t           groups[2];
    char                 names[HEAVY_ORGS][16];
    const rbac_role_t   *site[1], *typ[3][2];
    const rbac_role_t   *heavy[HEAVY_ORGS][HEAVY_PER_ORG];

    static const char  *heavy_roles[HEAVY_PER_ORG] = {
        "organization-member", "organization-workspace-access",
        "organization-auditor"
    };

    rc = rbac_catalog_load((const char *) rbac_builtin_catalog,
                           rbac_builtin_catalog_len, &counting, &cat, &err);
    if (rc != RBAC_OK) {
        fprintf(stderr, "bench_engine: catalog: %s\n", err.msg);
        return 1;
    }

#define ROLE(n)  rbac_catalog_role(cat, rbac_cstr(n), 0, RBAC_SHARE_EVERYONE)

    /* typical: member + 5 org roles over 3 orgs (6 roles) */
    site[0] = ROLE("member");
    typ[0][0] = ROLE("organization-member");
    typ[0][1] = ROLE("organization-workspace-access");
    typ[1][0] = ROLE("organization-member");
    typ[2][0] = ROLE("organization-member");
    typ[2][1] = ROLE("organization-admin");

    memset(&s, 0, sizeof(s));
    s.id = rbac_cstr("u1");
    groups[0] = rbac_cstr("g-a");
    groups[1] = rbac_cstr("g-team");
    s.groups = groups;
    s.ngroups = 2;
    s.site_roles = site;
    s.nsite_roles = 1;
    orgs[0].org = rbac_cstr("org-a");
    orgs[0].roles = typ[0];
    orgs[0].nroles = 2;
    orgs[1].org = rbac_cstr("org-b");
    orgs[1].roles = typ[1];
    orgs[1].nroles = 1;
    orgs[2].org = rbac_cstr("org-c");
    orgs[2].roles = typ[2];
    orgs[2].nroles = 2;
    s.orgs = orgs;
    s.norgs = 3;

    nroles = 1 + 2 + 1 + 2;
    printf("rbac_decide, %d request kinds round robin, -O2, plain core\n",
           NCASES);
    cases_init(c, "org-a", "org-b", "org-c");
    run("typical", &s, c, nroles);

    /* heavy: 100 orgs x 3 roles + member; the object orgs sit at the end */
    for (i = 0; i < HEAVY_ORGS; i++) {
        snprintf(names[i], sizeof(names[i]), "org-%03zu", i);
        orgs[i].org = rbac_cstr(names[i]);

        for (j = 0; j < HEAVY_PER_ORG; j++) {
            heavy[i][j] = ROLE(heavy_roles[j]);
        }

        orgs[i].roles = heavy[i];
        orgs[i].nroles = HEAVY_PER_ORG;
    }

    heavy[HEAVY_ORGS - 1][2] = ROLE("organization-admin");
    s.norgs = HEAVY_ORGS;
    nroles = 1 + HEAVY_ORGS * HEAVY_PER_ORG;
    cases_init(c, "org-097", "org-098", "org-099");
    run("heavy", &s, c, nroles);

    rbac_catalog_free(cat, &counting);

    return 0;
}
