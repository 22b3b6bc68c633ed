/*
 * args.c: option parsing for the admin commands ("--name value",
 * "--name=value", flags, positionals), messages and small file helpers.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"


static const char  rbacctl_global_spec[] =
    "redis= sentinel= master= prefix= password-file= db= user= "
    "sentinel-user= sentinel-password-file= tls tls-ca= tls-cert= "
    "tls-key= tls-server-name= tls-insecure";


/* 1 if `name` is in spec; *value says whether it takes a value. */
static int
rbacctl_spec_has(const char *spec, const char *name, size_t len, int *value)
{
    const char  *p, *e;
    size_t       n;

    for (p = spec; *p; p = e) {
        while (*p == ' ') {
            p++;
        }

        for (e = p; *e && *e != ' '; e++) { /* void */ }

        n = (size_t) (e - p);

        if (n == 0) {
            break;
        }

        if (p[n - 1] == '=') {
            if (n - 1 == len && memcmp(p, name, len) == 0) {
                *value = 1;
                return 1;
            }

        } else if (n == len && memcmp(p, name, len) == 0) {
            *value = 0;
            return 1;
        }
    }

    return 0;
}


int
rbacctl_args_parse(rbacctl_args_t *a, const char *cmd, int argc,
    char **argv, const char *spec, const char *usage)
{
    int          i, takes;
    size_t       len;
    const char  *arg, *name, *eq;

    memset(a, 0, sizeof(*a));
    a->cmd = cmd;

    for (i = 0; i < argc; i++) {
        arg = argv[i];

        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            a->help = 1;
            printf("usage: rbacctl %s\n", usage);
            return RBACCTL_OK;
        }

        if (strcmp(arg, "--") == 0) {
            for (i++; i < argc && a->npos < RBACCTL_MAX_ARGS; i++) {
                a->pos[a->npos++] = argv[i];
            }
            break;
        }

        if (arg[0] != '-' || arg[1] == '\0') {
            if (a->npos == RBACCTL_MAX_ARGS) {
                goto too_many;
            }
            a->pos[a->npos++] = arg;
            continue;
        }

        if (strcmp(arg, "-f") == 0) {
            name = "file";
            len = 4;
            eq = NULL;

        } else if (arg[1] == '-') {
            name = arg + 2;
            eq = strchr(name, '=');
            len = eq ? (size_t) (eq - name) : strlen(name);

        } else {
            goto unknown;
        }

        if (!rbacctl_spec_has(spec, name, len, &takes)
            && !rbacctl_spec_has(rbacctl_global_spec, name, len, &takes))
        {
            goto unknown;
        }

        if (a->nopts == RBACCTL_MAX_ARGS) {
            goto too_many;
        }

        /* names point into argv: keep only the length's worth by copy */
        a->opts[a->nopts].name = strndup(name, len);
        if (a->opts[a->nopts].name == NULL) {
            fprintf(stderr, "rbacctl %s: out of memory\n", cmd);
            return RBACCTL_FAIL;
        }

        if (takes) {
            if (eq) {
                a->opts[a->nopts].value = eq + 1;

            } else if (i + 1 < argc) {
                a->opts[a->nopts].value = argv[++i];

            } else {
                fprintf(stderr, "rbacctl %s: %s needs a value\n", cmd, arg);
                fprintf(stderr, "usage: rbacctl %s\n", usage);
                return RBACCTL_USAGE;
            }

        } else if (eq) {
            fprintf(stderr, "rbacctl %s: --%.*s takes no value\n",
                    cmd, (int) len, name);
            return RBACCTL_USAGE;
        }

        a->nopts++;
    }

    return RBACCTL_OK;

unknown:

    fprintf(stderr, "rbacctl %s: unknown option \"%s\"\n", cmd, arg);
    fprintf(stderr, "usage: rbacctl %s\n", usage);
    return RBACCTL_USAGE;

too_many:

    fprintf(stderr, "rbacctl %s: too many arguments\n", cmd);
    return RBACCTL_USAGE;
}


const char *
rbacctl_arg(const rbacctl_args_t *a, const char *name)
{
    size_t  i;

    for (i = a->nopts; i > 0; i--) {
        if (strcmp(a->opts[i - 1].name, name) == 0) {
            return a->opts[i - 1].value;
        }
    }

    return NULL;
}


size_t
rbacctl_arg_all(const rbacctl_args_t *a, const char *name, const char **out,
    size_t max)
{
    size_t  i, n;

    n = 0;

    for (i = 0; i < a->nopts && n < max; i++) {
        if (strcmp(a->opts[i].name, name) == 0) {
            out[n++] = a->opts[i].value;
        }
    }

    return n;
}


int
rbacctl_flag(const rbacctl_args_t *a, const char *name)
{
    size_t  i;

    for (i = 0; i < a->nopts; i++) {
        if (strcmp(a->opts[i].name, name) == 0) {
            return 1;
        }
    }

    return 0;
}


int
rbacctl_fail(const rbacctl_args_t *a, int code, const char *fmt, ...)
{
    va_list  ap;

    fprintf(stderr, "rbacctl %s: ", a ? a->cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);

    return code;
}


char *
rbacctl_read_file(const char *path, size_t *len)
{
    FILE    *f;
    char    *buf, *nb;
    size_t   n, cap, r;

    f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    cap = 65536;
    n = 0;
    buf = malloc(cap);

    while (buf) {
        r = fread(buf + n, 1, cap - n - 1, f);
        n += r;

        if (r == 0) {
            break;
        }

        if (n + 1 == cap) {
            if (cap > 64 * RBAC_MAX_RECORD) {
                free(buf);
                buf = NULL;
                errno = EFBIG;
                break;
            }

            cap *= 2;
            nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
            }
            buf = nb;
        }
    }

    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
        errno = EIO;
    }

    if (f != stdin) {
        fclose(f);
    }

    if (buf) {
        buf[n] = '\0';
        if (len) {
            *len = n;
        }
    }

    return buf;
}


int
rbacctl_id_ok(const char *s, size_t len)
{
    size_t  i;

    if (len == 0 || len > RBAC_MAX_NAME) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] <= ' ' || s[i] == ':' || s[i] == 0x7f
            || s[i] == '*' || s[i] == '?' || s[i] == '[' || s[i] == ']'
            || s[i] == '\\')
        {
            return 0;
        }
    }

    return 1;
}
