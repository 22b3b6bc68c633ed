"""make bench-admin: rbacctl's admin plane at 10k, 100k and 1M records.

For each size it generates a policy (organizations; users in 3 orgs each;
one group per org; workspaces owned by users, one in five shared with
another user for `use`), then against a fresh redis-server on loopback:
apply into the empty table, the same apply again (no-op), an apply with 1%
of the records changed, export, and the change feed with as many changes
as records.  Each step prints its time, records/s, rbacctl's peak RSS and
the largest single command latency Redis saw (SLOWLOG, threshold 0).

    bench_admin.py [--sizes 10000,100000,1000000] [--write FILE]

Per-record time at the largest size is compared with the smallest (target:
within 1.5x).  Nothing here runs in `make test`.
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests",
                                "integration"))
from redis_server import RedisServer  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.environ.get("RBAC_BUILD", os.path.join(ROOT, "build"))
RBACCTL = os.path.join(BUILD, "rbacctl")


def shape(n):
    """How many of each kind make about n records."""
    orgs = max(3, n // 200)
    groups = orgs
    users = (n - orgs - groups) * 2 // 5
    workspaces = n - orgs - groups - users
    return orgs, groups, users, workspaces


def user_rec(i, orgs, flip=0):
    o = ["org%d" % ((i + k * 7) % orgs) for k in range(3)]
    roles = {x: ["organization-workspace-access"] for x in o}
    if flip:
        roles[o[0]] = ["organization-auditor"]
    return {"id": "u%d" % i, "orgs": roles,
            "groups": ["g%d" % ((i + 7) % orgs)]}


def ws_rec(i, orgs, users, flip=0):
    owner = i % users
    rec = {"type": "workspace", "id": "ws%d" % i, "org": "org%d" % (owner % orgs),
           "owner": "u%d" % owner}
    if i % 5 == 0:
        rec["acl_users"] = {"u%d" % ((owner + 1) % users): "use"}
    if flip:
        rec["dormant"] = True
    return rec


def write_policy(path, n, changed=0.0, seed=1):
    """The policy of n records; `changed` of its users and workspaces differ."""
    orgs, groups, users, wss = shape(n)
    rnd = random.Random(seed)
    with open(path, "w") as f:
        f.write('{"organizations": [\n')
        f.write(",\n".join(json.dumps({"id": "org%d" % i, "name": "Org %d" % i})
                           for i in range(orgs)))
        f.write('],\n"groups": [\n')
        f.write(",\n".join(json.dumps({"id": "g%d" % i, "org": "org%d" % i,
                                       "name": "team%d" % i})
                           for i in range(groups)))
        f.write('],\n"users": [\n')
        for i in range(users):
            flip = changed and rnd.random() < changed
            f.write((",\n" if i else "") + json.dumps(user_rec(i, orgs, flip)))
        f.write('],\n"objects": [\n')
        for i in range(wss):
            flip = changed and rnd.random() < changed
            f.write((",\n" if i else "")
                    + json.dumps(ws_rec(i, orgs, users, flip)))
        f.write("]}\n")
    return orgs + groups + users + wss


def write_feed(path, n, size):
    """n changes against the policy of `size`: upserts, a few deletes."""
    orgs, _, users, wss = shape(size)
    with open(path, "w") as f:
        for k in range(n):
            if k % 50 == 49:
                line = {"op": "delete", "key": "obj:workspace:ws%d" % (k % wss)}
            elif k % 2:
                line = {"op": "upsert", "kind": "user",
                        "record": user_rec(k % users, orgs, flip=1)}
            else:
                line = {"op": "upsert", "kind": "obj",
                        "record": ws_rec(k % wss, orgs, users, flip=1)}
            f.write(json.dumps(line) + "\n")


def run(args, rs, stdin=None):
    """Runs rbacctl; returns (seconds, peak RSS of the child in MB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.monotonic()
    with open(stdin or os.devnull, "rb") as inp:
        r = subprocess.run([RBACCTL] + args + ["--redis", rs.url], stdin=inp,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.monotonic() - t
    if r.returncode != 0:
        raise RuntimeError("rbacctl %s: exit %d: %s"
                           % (" ".join(args), r.returncode,
                              r.stderr.decode()[-2000:]))
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest so far: run sizes in growing order
    return dt, max(before, after) / 1024.0


def slowest(rs):
    """The longest single command since the last call, in ms, and its name."""
    c = rs.client()
    log = c.slowlog_get(100000)
    c.slowlog_reset()
    if not log:
        return 0.0, "-"
    top = max(log, key=lambda e: e["duration"])
    cmd = top["command"]
    if isinstance(cmd, bytes):
        cmd = cmd.decode(errors="replace")
    return top["duration"] / 1000.0, cmd.split(" ")[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--write", default=None)
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]

    rows = []
    per = {}
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            pol = os.path.join(tmp, "p%d.json" % n)
            pol1 = os.path.join(tmp, "p%d-1pct.json" % n)
            feed = os.path.join(tmp, "feed%d.ndjson" % n)
            recs = write_policy(pol, n)
            write_policy(pol1, n, changed=0.01)
            write_feed(feed, n, n)
            mb = os.path.getsize(pol) / 1e6
            with RedisServer(os.path.join(tmp, "redis%d" % n),
                             extra=["--slowlog-log-slower-than", "0",
                                    "--slowlog-max-len", "1000000"]) as rs:
                steps = [
                    ("apply, empty Redis", ["apply", "-f", pol], None, recs),
                    ("apply again (no-op)", ["apply", "-f", pol], None, recs),
                    ("apply, 1% changed", ["apply", "-f", pol1], None, recs),
                    ("export", ["export", "-f", os.path.join(tmp, "out.json")],
                     None, recs),
                    ("feed, %d changes" % n, ["feed"], feed, n),
                ]
                rs.client().slowlog_reset()
                for name, argv, stdin, count in steps:
                    dt, rss = run(argv, rs, stdin)
                    ms, cmd = slowest(rs)
                    worst = max(worst, ms)
                    rows.append((n, name, dt, count / dt, rss, ms, cmd, mb))
                    if name.startswith("apply, empty"):
                        per[n] = dt / recs
                    print("%9d  %-22s %8.2f s %10.0f rec/s %7.0f MB  "
                          "slowest %.2f ms (%s)" % (n, name, dt, count / dt,
                                                    rss, ms, cmd), flush=True)

    lines = ["| records | step | time s | records/s | peak RSS MB | slowest Redis command ms |",
             "|---|---|---|---|---|---|"]
    for n, name, dt, rate, rss, ms, cmd, mb in rows:
        lines.append("| %d | %s | %.2f | %.0f | %.0f | %.2f (%s) |"
                     % (n, name, dt, rate, rss, ms, cmd))
    lo, hi = min(per), max(per)
    lines.append("")
    lines.append("Policy file at %d records: %.0f MB. Time per record from "
                 "empty: %.1f us at %d, %.1f us at %d (%.2fx). Slowest Redis "
                 "command of the run: %.2f ms."
                 % (hi, [r[7] for r in rows if r[0] == hi][0],
                    per[lo] * 1e6, lo, per[hi] * 1e6, hi, per[hi] / per[lo],
                    worst))
    text = "\n".join(lines)
    print()
    print(text)
    if args.write:
        with open(args.write, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
