/*
 * rbacctl.h: the commands of rbacctl.  Each returns the process exit code:
 * 0 ok, 1 denied (check) or mismatch (eval --check), 2 usage or validation
 * error, and for the admin commands 3 (RBACCTL_FAIL, admin.h): see
 * docs/rbacctl.md §1.
 */

#ifndef RBACCTL_H
#define RBACCTL_H


#define RBACCTL_OK        0
#define RBACCTL_DENIED    1
#define RBACCTL_USAGE     2

typedef int (*rbacctl_cmd_pt)(int argc, char **argv);

int rbacctl_eval(int argc, char **argv);

/* The admin plane: apply.c, export.c, feed.c, check.c, edit.c, token.c,
 * ref.c; exit code 3 = Redis unreachable or refusing, malformed record. */
int rbacctl_apply(int argc, char **argv);
int rbacctl_idpsync(int argc, char **argv);
int rbacctl_export(int argc, char **argv);
int rbacctl_feed(int argc, char **argv);
int rbacctl_check(int argc, char **argv);
int rbacctl_org(int argc, char **argv);
int rbacctl_user(int argc, char **argv);
int rbacctl_sa(int argc, char **argv);
int rbacctl_member(int argc, char **argv);
int rbacctl_group(int argc, char **argv);
int rbacctl_role(int argc, char **argv);
int rbacctl_share(int argc, char **argv);
int rbacctl_unshare(int argc, char **argv);
int rbacctl_template(int argc, char **argv);
int rbacctl_token(int argc, char **argv);
int rbacctl_pkey(int argc, char **argv);
int rbacctl_seats(int argc, char **argv);
int rbacctl_invalidate(int argc, char **argv);
int rbacctl_ref(int argc, char **argv);


#endif /* RBACCTL_H */
