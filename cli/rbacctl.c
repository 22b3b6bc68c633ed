/*
 * rbacctl.c: the entry point: finds the command and runs it.
 */

#include <stdio.h>
#include <string.h>

#include "rbacctl.h"


typedef struct {
    const char      *name;
    rbacctl_cmd_pt   run;
    const char      *usage;
} rbacctl_cmd_t;


static const rbacctl_cmd_t  rbacctl_cmds[] = {
    { "eval", rbacctl_eval,
      "eval [--catalog FILE] [--check] [FILE]   offline decisions" },
    { "check", rbacctl_check,
      "check --user U --action A --object TYPE[:ID] [--org O] [--owner X]"
      " [--claims FILE] [--explain]" },
    { "apply", rbacctl_apply,
      "apply -f policy.json [--dry-run] [--prune] [--wait SECONDS]" },
    { "export", rbacctl_export, "export [-f FILE]" },
    { "feed", rbacctl_feed,
      "feed [--wait SECONDS] < changes.ndjson   upserts and deletes, one "
      "a line" },
    { "org", rbacctl_org,
      "org create|update ID [--name N] [--sharing everyone|service_accounts"
      "|none] [--default-role R]..." },
    { "user", rbacctl_user,
      "user create ID [--login oidc|password|none] [--site-role R]... | "
      "user roles|suspend|activate|delete ID" },
    { "sa", rbacctl_sa, "sa create|delete ID [--site-role R]..." },
    { "member", rbacctl_member,
      "member add|set|remove --org O --user U [--role R]..." },
    { "group", rbacctl_group,
      "group create ID --org O [--name N] | group delete ID | "
      "group add|remove ID --user U..." },
    { "role", rbacctl_role,
      "role create|update|delete -f role.json [--as USER]" },
    { "share", rbacctl_share,
      "share --workspace W|--template T --user U|--group G --role use|admin"
    },
    { "unshare", rbacctl_unshare,
      "unshare --workspace W|--template T --user U|--group G" },
    { "template", rbacctl_template,
      "template deprecate ID --message M [--link L] | template undeprecate "
      "ID" },
    { "token", rbacctl_token,
      "token create --user U [--scope S]... [--ttl D] [--allow TYPE:ID]... |"
      " token revoke ID | token list |"
      " token verify --jwks FILE JWT" },
    { "pkey", rbacctl_pkey,
      "pkey create --org O [--name N] [--tag k=v]... | pkey revoke ID" },
    { "idpsync", rbacctl_idpsync,
      "idpsync show | idpsync set -f FILE [--dry-run]" },
    { "seats", rbacctl_seats, "seats [--list]" },
    { "invalidate", rbacctl_invalidate, "invalidate KEY | --all" },
    { "ref", rbacctl_ref,
      "ref set KIND:KEY TYPE:ID | ref delete|get KIND:KEY | "
      "ref key @KIND:VALUE [--caller ID]" },
};

#define RBACCTL_NCMDS  (sizeof(rbacctl_cmds) / sizeof(rbacctl_cmds[0]))


static void
rbacctl_usage(FILE *f)
{
    size_t  i;

    fprintf(f, "usage: rbacctl COMMAND [ARGS]\n\ncommands:\n");

    for (i = 0; i < RBACCTL_NCMDS; i++) {
        fprintf(f, "  %s\n", rbacctl_cmds[i].usage);
    }

    fprintf(f, "\nRedis (commands that use it): --redis URL or RBAC_REDIS "
            "(default redis://127.0.0.1:6379;\n"
            "  redis[s]://[[user]:password@]host:port[/db], "
            "unix:///path?db=N), or --sentinel\n"
            "  host:port[,...] --master NAME [--sentinel-user NAME "
            "--sentinel-password-file FILE];\n"
            "  --user NAME, --password-file FILE, --db N, --prefix P "
            "(default rbac:);\n"
            "  TLS: rediss:// or --tls, --tls-ca FILE, --tls-server-name "
            "NAME, --tls-cert FILE\n"
            "  --tls-key FILE, --tls-insecure (docs/redis.md).\n"
            "COMMAND --help for details.  Exit: 0 ok, 1 denied or mismatch, "
            "2 usage or\n"
            "validation error, 3 Redis unreachable or refusing, or a "
            "malformed record.\n");
}


int
main(int argc, char **argv)
{
    size_t  i;

    if (argc < 2) {
        rbacctl_usage(stderr);
        return RBACCTL_USAGE;
    }

    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0
        || strcmp(argv[1], "help") == 0)
    {
        rbacctl_usage(stdout);
        return RBACCTL_OK;
    }

    for (i = 0; i < RBACCTL_NCMDS; i++) {
        if (strcmp(argv[1], rbacctl_cmds[i].name) == 0) {
            return rbacctl_cmds[i].run(argc - 1, argv + 1);
        }
    }

    fprintf(stderr, "rbacctl: unknown command \"%s\"\n", argv[1]);
    rbacctl_usage(stderr);

    return RBACCTL_USAGE;
}
