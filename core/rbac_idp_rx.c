/*
 * rbac_idp_rx.c: the regex filters of IdP group sync (groups.<org>.
 * regex_filter): compiled once per settings record with PCRE2, through the
 * caller's allocator, and matched with match, depth and heap limits.
 */

#define PCRE2_CODE_UNIT_WIDTH  8

#include <stdio.h>
#include <string.h>

#include <pcre2.h>

#include "rbac_idpsync.h"


typedef struct {
    rbac_str_t        pattern;      /* copy, in the rx block */
    pcre2_code       *code;         /* NULL: no filter for this org */
} rbac_idp_rx_ent_t;

struct rbac_idp_rx_s {
    rbac_allocator_t        a;
    int64_t                 version;
    size_t                  n;      /* = set->groups.n */
    rbac_idp_rx_ent_t      *ents;
    pcre2_general_context  *gctx;
    pcre2_match_context    *mctx;
    pcre2_match_data       *md;
};


static void *
rbac_idp_pcre_alloc(PCRE2_SIZE size, void *ud)
{
    const rbac_allocator_t  *a = ud;

    return a->alloc(a->ud, size);
}


static void
rbac_idp_pcre_free(void *p, void *ud)
{
    const rbac_allocator_t  *a = ud;

    if (p != NULL) {
        a->free(a->ud, p);
    }
}


void
rbac_idp_rx_free(rbac_idp_rx_t *rx)
{
    size_t  i;

    if (rx == NULL) {
        return;
    }

    for (i = 0; i < rx->n; i++) {
        pcre2_code_free(rx->ents[i].code);
    }

    pcre2_match_data_free(rx->md);
    pcre2_match_context_free(rx->mctx);
    pcre2_general_context_free(rx->gctx);

    rx->a.free(rx->a.ud, rx);
}


int64_t
rbac_idp_rx_version(const rbac_idp_rx_t *rx)
{
    return rx->version;
}


rbac_rc_t
rbac_idp_compile(const rbac_idpsync_rec_t *set, const rbac_allocator_t *a,
    rbac_idp_rx_t **out, rbac_err_t *err)
{
    int                       ec;
    char                     *p, msg[128];
    size_t                    i, size, off;
    rbac_rc_t                 rc;
    rbac_str_t                pat, org;
    PCRE2_SIZE                eoff;
    rbac_idp_rx_t            *rx;
    pcre2_compile_context    *cctx;
    const rbac_idp_sync_t    *g;

    *out = NULL;
    g = rbac_rec_at(set, set->groups, rbac_idp_sync_t);

    size = sizeof(rbac_idp_rx_t) + set->groups.n * sizeof(rbac_idp_rx_ent_t);

    for (i = 0; i < set->groups.n; i++) {
        pat = rbac_ref(set, g[i].regex_filter);

        if (pat.len > RBAC_IDP_MAX_REGEX) {
            org = rbac_ref(set, g[i].org);
            return rbac_err_set(err, RBAC_EBOUND, "idp_sync.groups.%.*s."
                                "regex_filter: over %d bytes", (int) org.len,
                                org.data, RBAC_IDP_MAX_REGEX);
        }

        size += pat.len + 1;
    }

    rx = a->alloc(a->ud, size);
    if (rx == NULL) {
        return rbac_err_set(err, RBAC_ENOMEM, "out of memory");
    }

    memset(rx, 0, size);
    rx->a = *a;
    rx->version = set->version;
    rx->n = set->groups.n;
    rx->ents = (rbac_idp_rx_ent_t *) (rx + 1);
    p = (char *) (rx->ents + rx->n);
    off = 0;

    for (i = 0; i < rx->n; i++) {
        pat = rbac_ref(set, g[i].regex_filter);
        memcpy(p + off, pat.data, pat.len);
        rx->ents[i].pattern.data = p + off;
        rx->ents[i].pattern.len = pat.len;
        off += pat.len + 1;
    }

    rc = RBAC_ENOMEM;
    cctx = NULL;

    rx->gctx = pcre2_general_context_create(rbac_idp_pcre_alloc,
                                            rbac_idp_pcre_free, &rx->a);
    if (rx->gctx == NULL) {
        goto failed;
    }

    rx->mctx = pcre2_match_context_create(rx->gctx);
    rx->md = pcre2_match_data_create(1, rx->gctx);
    cctx = pcre2_compile_context_create(rx->gctx);

    if (rx->mctx == NULL || rx->md == NULL || cctx == NULL) {
        goto failed;
    }

    pcre2_set_match_limit(rx->mctx, RBAC_IDP_MATCH_LIMIT);
    pcre2_set_depth_limit(rx->mctx, RBAC_IDP_DEPTH_LIMIT);
    pcre2_set_heap_limit(rx->mctx, RBAC_IDP_HEAP_LIMIT);
    pcre2_set_max_pattern_length(cctx, RBAC_IDP_MAX_REGEX);
    pcre2_set_parens_nest_limit(cctx, 32);

    for (i = 0; i < rx->n; i++) {
        pat = rx->ents[i].pattern;

        if (pat.len == 0) {
            continue;
        }

        rx->ents[i].code = pcre2_compile((PCRE2_SPTR) pat.data, pat.len,
                                         PCRE2_UTF | PCRE2_MATCH_INVALID_UTF
                                         | PCRE2_NEVER_BACKSLASH_C
                                         | PCRE2_NO_AUTO_CAPTURE,
                                         &ec, &eoff, cctx);

        if (rx->ents[i].code == NULL) {
            if (ec == PCRE2_ERROR_NOMEMORY || ec == PCRE2_ERROR_HEAPLIMIT) {
                goto failed;
            }

            if (pcre2_get_error_message(ec, (PCRE2_UCHAR *) msg, sizeof(msg))
                < 0)
            {
                snprintf(msg, sizeof(msg), "error %d", ec);
            }

            org = rbac_ref(set, g[i].org);
            rbac_err_set(err, RBAC_EINVAL, "idp_sync.groups.%.*s.regex_filter:"
                         " %s at offset %zu", (int) org.len, org.data, msg,
                         (size_t) eoff);
            rc = RBAC_EINVAL;
            goto failed;
        }
    }

    pcre2_compile_context_free(cctx);
    *out = rx;

    return RBAC_OK;

failed:

    pcre2_compile_context_free(cctx);
    rbac_idp_rx_free(rx);

    if (rc == RBAC_ENOMEM) {
        return rbac_err_set(err, RBAC_ENOMEM, "out of memory");
    }

    return rc;
}


int
rbac_idp_rx_fits(const rbac_idp_rx_t *rx, const rbac_idpsync_rec_t *set)
{
    size_t                   i;
    const rbac_idp_sync_t   *g;

    g = rbac_rec_at(set, set->groups, rbac_idp_sync_t);

    if (rx == NULL) {
        for (i = 0; i < set->groups.n; i++) {
            if (g[i].regex_filter.len) {
                return 0;
            }
        }

        return 1;
    }

    if (rx->version != set->version || rx->n != set->groups.n) {
        return 0;
    }

    for (i = 0; i < rx->n; i++) {
        if (!rbac_str_eq(rx->ents[i].pattern,
                         rbac_ref(set, g[i].regex_filter)))
        {
            return 0;
        }
    }

    return 1;
}


int
rbac_idp_rx_match(const rbac_idp_rx_t *rx, size_t index, rbac_str_t value)
{
    int                       rc;
    const rbac_idp_rx_ent_t  *re;

    if (rx == NULL || rx->ents[index].code == NULL) {
        return 1;
    }

    re = &rx->ents[index];

    rc = pcre2_match(re->code, (PCRE2_SPTR) value.data, value.len, 0, 0,
                     rx->md, rx->mctx);

    /* no match, and a match that hits a limit, drop the value */
    return rc >= 0;
}
