/*
 * admin.h: the plumbing the admin commands of rbacctl share: argument
 * parsing (args.c), the Redis connection (redis.c), optimistic
 * transactions over the decision table (tx.c), the writer lock and bulk
 * writes (lock.c, bulk.c), records as rbacctl handles them (policy.c:
 * canonical JSON, keys, custom-role checks, subjects built from Redis)
 * and references (ref.c).
 */

#ifndef RBACCTL_ADMIN_H
#define RBACCTL_ADMIN_H

#include <stdio.h>

#include <hiredis/hiredis.h>
#include <cjson/cJSON.h>

#include "rbac.h"
#include "rbacctl.h"


/* Exit code for Redis unreachable or refusing, or a malformed record. */
#define RBACCTL_FAIL      3


/* ---- arguments (args.c) ---- */

#define RBACCTL_MAX_ARGS  128

typedef struct {
    const char  *name;          /* without the leading "--" */
    const char  *value;         /* NULL for a flag */
} rbacctl_opt_t;

typedef struct {
    const char     *cmd;        /* "member add", for messages */
    rbacctl_opt_t   opts[RBACCTL_MAX_ARGS];
    size_t          nopts;
    const char     *pos[RBACCTL_MAX_ARGS];
    size_t          npos;
    int             help;
} rbacctl_args_t;

/*
 * Parses argv[0..argc) against `spec`: space-separated option names, a
 * trailing '=' for those that take a value ("org= dry-run").  The global
 * connection options (redis= sentinel= master= prefix= password-file= db=)
 * are always accepted; "-f" is "--file"; "--name=value" works too.  Returns
 * RBACCTL_OK or RBACCTL_USAGE after printing the problem and `usage`.
 * With --help/-h, a->help is set and the usage is printed on stdout.
 */
int rbacctl_args_parse(rbacctl_args_t *a, const char *cmd, int argc,
    char **argv, const char *spec, const char *usage);

/* The last value of --name, or NULL. */
const char *rbacctl_arg(const rbacctl_args_t *a, const char *name);

/* Every value of --name, in order; returns how many (at most max). */
size_t rbacctl_arg_all(const rbacctl_args_t *a, const char *name,
    const char **out, size_t max);

int rbacctl_flag(const rbacctl_args_t *a, const char *name);

/* Prints "rbacctl CMD: <msg>" on stderr and returns `code`. */
int rbacctl_fail(const rbacctl_args_t *a, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/*
 * token verify --jwks FILE [--alg A] [--iss I]... [--aud A]... [--leeway S]
 * TOKEN (verify.c): exit 0 valid, 1 invalid.
 */
int rbacctl_token_verify(rbacctl_args_t *a, const char *usage);

/* Reads a whole file ("-" = stdin), NUL-terminated; NULL with errno set. */
char *rbacctl_read_file(const char *path, size_t *len);

/* 1 if s is usable as an id in a key: non-empty, short, no ':' or blanks. */
int rbacctl_id_ok(const char *s, size_t len);


/* ---- connection (redis.c) ---- */

typedef struct ssl_st      rbacctl_ssl_t;
typedef struct ssl_ctx_st  rbacctl_ssl_ctx_t;

typedef struct {
    int                 fd;
    rbacctl_ssl_t      *ssl;        /* or NULL: clear text */
    rbacctl_ssl_ctx_t  *ctx;
    redisReader        *reader;
    char               *obuf;       /* commands not written yet */
    size_t              olen;
    size_t              osize;
    char                prefix[64];
    char                where[300]; /* "127.0.0.1:6379", for messages */
    char                errstr[256];
    struct rbacctl_lock_s *lock;    /* the writer lock held over it: bulk
                                       reads renew it between round trips */
} rbacctl_conn_t;

/* TLS options (--tls, rediss://, --tls-*). */
typedef struct {
    int          on;
    int          insecure;
    const char  *ca;
    const char  *cert;
    const char  *key;
    const char  *server_name;
} rbacctl_tls_t;

/*
 * Connects as the options say (--redis URL, RBAC_REDIS, default
 * redis://127.0.0.1:6379; or --sentinel/--master), authenticates, selects
 * the db and checks with PING.  Prints a clear message and returns
 * RBACCTL_FAIL (RBACCTL_USAGE for a malformed URL) on failure.
 */
int rbacctl_connect(const rbacctl_args_t *a, rbacctl_conn_t *conn);
void rbacctl_disconnect(rbacctl_conn_t *conn);

/*
 * The connection's own I/O (hiredis 0.14 has none for TLS): send one
 * command (argv strings; buffered, written at 64 KB or before the next
 * receive), receive one reply (in order; pipelining is sending several
 * before receiving).  -1 with conn->errstr set when the
 * connection is lost; it is closed then.  rbacctl_call does both, with no
 * message printed.
 */
int rbacctl_send(rbacctl_conn_t *conn, int argc, const char **argv);
int rbacctl_recv(rbacctl_conn_t *conn, redisReply **reply);
redisReply *rbacctl_call(rbacctl_conn_t *conn, int argc, const char **argv);

/*
 * Runs one command (argv form); a NULL reply or an error reply is printed
 * (naming the command) and returns NULL.  Free with freeReplyObject.
 */
redisReply *rbacctl_cmd(rbacctl_conn_t *conn, int argc, const char **argv);

/*
 * After a PUBLISH: one more round trip.  Redis writes a message to its
 * subscribers in the same pass as its reply to the publisher, in no set
 * order; the reply to a later command comes after that pass.  So when this
 * returns, every nginx subscribed has the invalidation in its socket, and
 * a request sent from now on is decided after it.  `heard` is the fewest
 * subscribers a PUBLISH of the change reached: at 0 a warning goes to
 * stderr (the write happened; no nginx was listening).
 */
void rbacctl_settle(rbacctl_conn_t *conn, long long heard);

/*
 * Every key (prefix removed) that matches prefix + `pattern` (a glob on
 * what follows the prefix, the prefix itself escaped), through SCAN
 * (bulk.c; the lock held over conn renewed between calls).  Returns the
 * count, or -1 after printing an error.  Free with rbacctl_strv_free.
 */
long rbacctl_scan(rbacctl_conn_t *conn, const char *pattern, char ***out);
void rbacctl_strv_free(char **v, long n);


/* ---- an index of strings (bulk.c) ---- */

/* Open addressing over indexes + 1 into an array of strings. */
typedef struct {
    uint32_t   *slot;
    size_t      mask;
    size_t      n;
} rbacctl_index_t;

/* The string (key) of element i of what an index covers. */
typedef const char *(*rbacctl_ixkey_pt)(void *ud, size_t i);

/*
 * The index + 1 of `key`, or 0; with `add` (an index + 1), inserts it
 * ((size_t) -1: out of memory).
 */
size_t rbacctl_index(rbacctl_index_t *ix, const char *key,
    rbacctl_ixkey_pt get, void *ud, size_t add);

void rbacctl_index_free(rbacctl_index_t *ix);


/*
 * A pool of strings (bulk.c): copies packed in large blocks, no header per
 * string, all freed at once.  Zeroed: empty.
 */
typedef struct {
    void    *blocks;
    char    *next;
    size_t   left;
} rbacctl_pool_t;

/* A NUL-terminated copy of s[0..len) in the pool; NULL: out of memory. */
char *rbacctl_pool_dup(rbacctl_pool_t *pool, const char *s, size_t len);

void rbacctl_pool_free(rbacctl_pool_t *pool);


/* ---- transactions (tx.c) ---- */

typedef struct {
    char   *key;                /* without the prefix */
    char   *old;                /* value read; NULL = absent */
    char   *val;                /* staged value; NULL = delete */
    int     read;
    int     staged;
} rbacctl_ent_t;

typedef struct {
    rbacctl_conn_t  *conn;
    rbacctl_ent_t   *ents;
    size_t           n;
    size_t           cap;
    int              dry_run;
    FILE            *diff;      /* where "+ key" lines go; NULL = none */
    size_t           changed;   /* after commit: keys written */
    rbacctl_index_t  ix;        /* of ents, by key */
    void            *pre;       /* ref.c: reads noted, not sent */
    int              nowatch;   /* bulk, under the writer lock: no WATCH */
    struct rbacctl_lock_s *lock;  /* bulk: renewed while deriving */
    char           **bump;      /* counters the commit INCRs (ref.c) */
    size_t           nbump;
    rbacctl_pool_t   pool;      /* the strings of ents and bump */
} rbacctl_tx_t;

/*
 * Reads `key` (without the prefix) after WATCHing it; *val is the value or
 * NULL when absent, owned by the transaction.  Returns RBACCTL_OK or
 * RBACCTL_FAIL.
 */
int rbacctl_tx_get(rbacctl_tx_t *tx, const char *key, const char **val);

/* The entry of key in the transaction, or NULL. */
rbacctl_ent_t *rbacctl_tx_find(rbacctl_tx_t *tx, const char *key);

/*
 * Reads the n keys key(ud, i) as rbacctl_tx_get does (WATCHed, unless
 * nowatch), batched: one round trip per 250 keys.
 */
int rbacctl_tx_get_many(rbacctl_tx_t *tx, size_t n,
    const char *(*key)(void *ud, size_t i), void *ud);

/*
 * Adds key with its value (val NULL: absent) read by the caller (an MGET
 * under the writer lock: no WATCH); nothing when key is there already.
 * The key is copied, or with `copy` 0 kept (it must outlive tx).
 */
int rbacctl_tx_known(rbacctl_tx_t *tx, const char *key, int copy,
    const char *val, size_t len);

/* Stages a write (val NULL = delete); the key must have been read. */
int rbacctl_tx_put(rbacctl_tx_t *tx, const char *key, const char *val);

/* The same without a copy: val must live until the transaction is cleared. */
int rbacctl_tx_put_shared(rbacctl_tx_t *tx, const char *key,
    const char *val);

/*
 * Has the commit INCR `key` (without the prefix), once however often it is
 * asked: a counter that others WATCH, never read by this transaction.
 */
int rbacctl_tx_bump(rbacctl_tx_t *tx, const char *key);

/*
 * The builder of a transaction: reads with rbacctl_tx_get, stages with
 * rbacctl_tx_put, returns RBACCTL_OK or an exit code after printing why.
 */
typedef int (*rbacctl_build_pt)(rbacctl_tx_t *tx, void *ud);

/*
 * Runs `build` and commits what it staged: the keys whose value changes are
 * printed as a diff ("+ key", "~ key", "- key", full keys), then written in
 * one MULTI/EXEC with INCR <prefix>version and one PUBLISH <prefix>inv per
 * changed key.  Nothing is written or published when nothing changes or
 * with dry_run.  A watched key changed by someone else restarts the build
 * (bounded).  Returns the exit code.
 */
int rbacctl_tx_run(rbacctl_conn_t *conn, rbacctl_build_pt build, void *ud,
    int dry_run, FILE *diff, size_t *changed);


/* ---- progress line (progress.c) ---- */

typedef struct {
    const char  *what;
    size_t       total;         /* 0: unknown */
    double       start;
    double       last;
    int          tty;
    int          shown;
} rbacctl_progress_t;

/* Seconds on a monotonic clock. */
double rbacctl_now(void);

void rbacctl_progress_init(rbacctl_progress_t *p, const char *what,
    size_t total);
void rbacctl_progress_step(rbacctl_progress_t *p, size_t done);
void rbacctl_progress_end(rbacctl_progress_t *p);


/* ---- the writer lock (lock.c) ---- */

#define RBACCTL_LOCK_TTL_MS  15000
#define RBACCTL_LOCK_WAIT    60.0       /* default --wait, seconds */

typedef struct rbacctl_lock_s {
    rbacctl_conn_t  *conn;
    char             key[128];
    char             token[300];
    int              held;
    double           renewed;
} rbacctl_lock_t;

/*
 * Takes <prefix>lock for a bulk writer, waiting up to `wait` seconds for
 * another writer to finish; RBACCTL_FAIL after a message naming the owner.
 */
int rbacctl_lock_take(rbacctl_lock_t *l, rbacctl_conn_t *conn,
    const char *what, double wait);

/* WATCHes the lock and checks it is still ours (before a MULTI). */
int rbacctl_lock_watch(rbacctl_lock_t *l);

/* Appends a PEXPIRE of the lock (inside a MULTI the caller sends). */
void rbacctl_lock_append_renew(rbacctl_lock_t *l);

/* 1 when a quarter of the lock's time has gone since its renewal. */
int rbacctl_lock_due(rbacctl_lock_t *l);

/* Renews the lock when it is due (between reads, nothing in flight). */
int rbacctl_lock_keep(rbacctl_lock_t *l);

void rbacctl_lock_release(rbacctl_lock_t *l);

/*
 * For small transactions: WATCHes the lock and returns RBACCTL_OK once
 * nobody holds it (the WATCH stays), RBACCTL_FAIL after `wait` seconds.
 */
int rbacctl_lock_wait_free(rbacctl_conn_t *conn, double wait);


/* ---- bulk reads and writes (bulk.c) ---- */

/* Past this many changed keys a write publishes one "*" (a cache flush). */
#define RBACCTL_INV_KEYS  1000

/* The key (without the prefix) of item i. */
typedef const char *(*rbacctl_key_pt)(void *ud, size_t i);

/* The value of item i (NULL: absent or not a string). */
typedef int (*rbacctl_val_pt)(void *ud, size_t i, const char *val,
    size_t len);

/*
 * Reads n keys with pipelined MGETs of bounded size; with `lock` (or the
 * lock held over conn) renews it as the read goes on.
 */
int rbacctl_mget(rbacctl_conn_t *conn, size_t n, rbacctl_key_pt key,
    rbacctl_val_pt val, void *ud, rbacctl_progress_t *prog,
    rbacctl_lock_t *lock);

/*
 * rbacctl_mget of n keys: present[i], and with vals non-NULL a copy of
 * each value (NULL when absent; the caller frees them, also on failure).
 */
int rbacctl_mget_copy(rbacctl_conn_t *conn, const char **keys, size_t n,
    int *present, char **vals);

typedef struct {
    rbacctl_conn_t  *conn;
    rbacctl_lock_t  *lock;          /* NULL: no lock check */
    size_t           total;         /* keys announced to _init */
    int              per_key;       /* PUBLISH each key, else one "*" */
    int              open;          /* a MULTI is queued */
    size_t           queued;        /* commands after MULTI */
    size_t           keys;          /* writes in the open chunk */
    size_t           bytes;
    size_t           written;       /* writes in committed chunks */
    long long        heard;         /* fewest subscribers reached; -1 */
    char             chan[128];
} rbacctl_writer_t;

/*
 * A write of about `nkeys` keys in chunks (each MULTI/EXEC well under
 * 5 ms in Redis), rbac:version incremented and "*" published in the last.
 */
void rbacctl_writer_init(rbacctl_writer_t *w, rbacctl_conn_t *conn,
    rbacctl_lock_t *lock, size_t nkeys);

/* SET (val NULL: DEL) of key (without the prefix). */
int rbacctl_writer_put(rbacctl_writer_t *w, const char *key,
    const char *val);

/* Sends the last chunk with INCR version; waits for the subscribers. */
int rbacctl_writer_finish(rbacctl_writer_t *w);

/* Drops a chunk still queued (after a failure). */
void rbacctl_writer_abandon(rbacctl_writer_t *w);


/* ---- records (policy.c) ---- */

/*
 * The canonical JSON of a record of `type` given as cJSON: parsed by core
 * (every shape and bound checked), then written back.  On failure prints
 * "<what>: <reason>" and returns NULL.  Free with free().
 */
char *rbacctl_canon(rbac_rec_type_t type, const cJSON *j, const char *what);

/* The same from JSON text. */
char *rbacctl_canon_text(rbac_rec_type_t type, const char *json,
    const char *what);

/*
 * A record read from Redis at prefix + key: parsed as the kind its key
 * names, with the key checked against the record's type/id/name
 * (rbac_record_parse_key), from `a` (NULL: malloc).  NULL and a message
 * "malformed record at <prefix><key>: <why>" when it is malformed.
 */
void *rbacctl_parse_key(const char *prefix, const char *key,
    const char *json, const rbac_allocator_t *a);

/*
 * Parses a record of `type` (a canonical form about to be written);
 * NULL (and a message naming `key`) when it is malformed.  Free with
 * free().
 */
void *rbacctl_parse_stored(rbac_rec_type_t type, const char *key,
    const char *json);

/* The key (without the prefix) of a parsed record; NULL on a bad id. */
char *rbacctl_record_key(const void *rec, const char *what);

/*
 * The records that `rec` names, one call each: ref(ud, what, field, kind,
 * id) with kind "org", "user" or "group" (a group id may also be the id
 * of an org: its Everyone group).  Returns the first non-OK of the calls.
 */
typedef int (*rbacctl_ref_pt)(void *ud, const char *what, const char *field,
    const char *kind, rbac_str_t id);

int rbacctl_record_refs(const void *rec, const char *what, rbacctl_ref_pt ref,
    void *ud);

/* The embedded catalog, loaded once per process (NULL after a message). */
const rbac_catalog_t *rbacctl_catalog(void);

/*
 * Custom-role checks shared by apply and `role`: no negation, no wildcard,
 * declared actions only, permissions of the role's kind only (org roles:
 * organization and member permissions; site roles: site and user), a
 * well-formed name that is not built-in or reserved, and with `actor`
 * non-NULL, nothing that the actor could not do itself.  Prints the refusal
 * ("<what>: <field>: <why>"); returns RBACCTL_OK or RBACCTL_USAGE.
 */
int rbacctl_role_check(const rbac_role_rec_t *rec, const char *what,
    const rbac_subject_t *actor);

/* The record type of a role document: ROLE, or SITEROLE for org "". */
rbac_rec_type_t rbacctl_role_type(const cJSON *j);

/*
 * The subject of user `id` as the module builds it (implicit roles, org
 * sharing modes, default roles, deployment options, custom roles), read
 * through `tx` (so the keys are watched) or straight from Redis with tx
 * NULL.  Returns RBACCTL_OK, RBACCTL_DENIED when the user does not exist,
 * or RBACCTL_FAIL.  The memory lives in `arena` (rbacctl_arena_free).
 */
typedef struct rbacctl_arena_s  rbacctl_arena_t;

rbacctl_arena_t *rbacctl_arena_new(void);
void rbacctl_arena_free(rbacctl_arena_t *ar);
const rbac_allocator_t *rbacctl_arena_allocator(rbacctl_arena_t *ar);

int rbacctl_subject(rbacctl_conn_t *conn, rbacctl_tx_t *tx, const char *id,
    rbacctl_arena_t *ar, rbac_subject_t *out, unsigned *options);

/*
 * The same with IdP sync applied to `claims` (JSON text; NULL: none) when
 * rbac:idpsync holds settings, as the module does for a JWT; *idp says
 * what each membership comes from (ngrants 0 without settings).  A user
 * without a record exists when the claims grant a membership.
 */
int rbacctl_subject_claims(rbacctl_conn_t *conn, rbacctl_tx_t *tx,
    const char *id, const char *claims, rbacctl_arena_t *ar,
    rbac_subject_t *out, unsigned *options, rbac_idp_result_t *idp);

/* A GET outside any transaction: RBACCTL_OK with *val NULL if absent. */
int rbacctl_get(rbacctl_conn_t *conn, const char *key, char **val);

/*
 * Every record at a key that matches `pattern` (as rbacctl_scan), read
 * with GET outside any transaction and parsed as its key names, given to
 * each(ud, rec) in key order; a key gone since the SCAN is passed over.
 * RBACCTL_FAIL after a message when Redis fails or a record is malformed.
 */
typedef void (*rbacctl_record_pt)(void *ud, const void *rec);

int rbacctl_records(rbacctl_conn_t *conn, const char *pattern,
    rbacctl_record_pt each, void *ud);


/* ---- references (ref.c, docs/references.md) ---- */

/*
 * Keeps the name references ("auto") in step with what the transaction
 * stages: those of changed organizations, users, groups and objects (and
 * of the children of a renamed parent) written, those gone deleted.
 * Called by rbacctl_tx_run before each commit.  RBACCTL_USAGE when two
 * objects claim one name or a name would replace a reference set by hand.
 */
int rbacctl_refs_derive(rbacctl_tx_t *tx);

/*
 * For a bulk write under the writer lock: reads the n records key(ud, i)
 * with pipelined MGETs, stages their new values val(ud, i) (NULL: delete)
 * in tx, reads what deriving needs (parents, references) in a few batched
 * rounds, then runs rbacctl_refs_derive: no round trip per record.  The
 * keys and values are not copied: they must outlive tx.
 */
int rbacctl_refs_stage(rbacctl_tx_t *tx, size_t n, rbacctl_key_pt key,
    rbacctl_key_pt val, void *ud, rbacctl_lock_t *lock);

/*
 * The same for a bulk writer that writes the n keys itself (the feed):
 * emit(eud, key, val) for each derived reference that changes besides
 * them (val NULL: delete).  RBACCTL_USAGE as rbacctl_refs_derive.
 */
typedef int (*rbacctl_emit_pt)(void *eud, const char *key, const char *val);

int rbacctl_refs_follow(rbacctl_conn_t *conn, rbacctl_lock_t *lock,
    size_t n, rbacctl_key_pt key, rbacctl_key_pt val, void *ud,
    rbacctl_emit_pt emit, void *eud);

/* Frees a transaction built by hand (bulk apply) and UNWATCHes. */
void rbacctl_tx_clear(rbacctl_tx_t *tx);

/* A policy file's {"ref","type","id"}: its key and canonical value. */
int rbacctl_ref_item(const cJSON *j, const char *what, char **key,
    char **canon);

/* The key of the object a reference value names ("obj:workspace:w1"). */
int rbacctl_ref_target(const char *canon, char *buf, size_t len);

/* 1 when the reference value val (len bytes) was derived from a name. */
int rbacctl_ref_derived(const char *val, size_t len);

/*
 * An argument of `check` read as the module reads it: "@kind:value" is
 * resolved through Redis.  RBACCTL_OK: *out (malloc) is the id;
 * RBACCTL_DENIED: `why` says what the module answers (400 or 403);
 * RBACCTL_USAGE: a kind that does not fit; RBACCTL_FAIL.
 */
int rbacctl_ref_arg(rbacctl_conn_t *conn, rbac_type_t type, rbac_arg_t which,
    const char *value, const char *caller, char **out, char *why,
    size_t whylen);


#endif /* RBACCTL_ADMIN_H */
