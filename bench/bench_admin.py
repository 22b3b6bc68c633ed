"""make bench-admin: rbacctl's admin plane at 10k, 100k and 1M records.

For each size it generates a policy (organizations; users in 3 orgs each,
with a username; one group per org; two templates per org; workspaces
owned by users, named, one in five shared with another user for `use`;
one hand-set `build:<uuid>` reference per nine workspaces), so that apply
also writes the name references the Coder front resolves
(`username:`, `workspace:<owner id or username>/<name>`,
`template:<org id or name>/<name>`, `orgname:`, `group:`), then against a
fresh redis-server on loopback:
apply into the empty table, the same apply again (no-op), an apply with 1%
of the records changed, export, and the change feed with as many changes
as records (users, workspaces and build references upserted, some
workspaces and references deleted).  Each step prints its time,
records/s, rbacctl's peak RSS and the largest latencies Redis saw: single
commands (SLOWLOG, commands over 0.5 ms; the slowest three with their
argument count), commands or transactions as a whole (LATENCY, 1 ms
resolution), and the longest PING round trip of a client pinging every
millisecond.

    bench_admin.py [--sizes 10000,100000,1000000] [--write FILE]
                   [--redis-nice N]

redis-server runs at nice N (default -20, when the bench may raise it) so
that other jobs on a shared machine do not stretch its commands (a command
preempted half-way shows in SLOWLOG as the time it waited for the CPU);
rbacctl runs at normal priority.  Each step also prints the mean time per
call of the costliest kind of command (INFO commandstats).

Per-record time at the largest size is compared with the smallest (target:
within 1.5x).  Nothing here runs in `make test`.
"""

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests",
                                "integration"))
from redis_server import RedisServer  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.environ.get("RBAC_BUILD", os.path.join(ROOT, "build"))
RBACCTL = os.path.join(BUILD, "rbacctl")


def shape(n):
    """How many of each kind make n records (references included)."""
    orgs = max(3, n // 200)
    groups = orgs
    templates = 2 * orgs
    rest = n - orgs - groups - templates
    users = rest * 2 // 5
    refs = (rest - users) // 10
    workspaces = rest - users - refs
    return orgs, groups, templates, users, workspaces, refs


def uuid(i):
    return "%08x-0000-4000-8000-%012x" % (i // (1 << 48), i % (1 << 48))


def ref_rec(i, wss, flip=0):
    """The hand-set reference of build i: a workspace (another on flip)."""
    return {"ref": "build:" + uuid(i), "type": "workspace",
            "id": "ws%d" % ((9 * i + flip) % wss)}


def user_rec(i, orgs, flip=0):
    o = ["org%d" % ((i + k * 7) % orgs) for k in range(3)]
    roles = {x: ["organization-workspace-access"] for x in o}
    if flip:
        roles[o[0]] = ["organization-auditor"]
    return {"id": "u%d" % i, "username": "user%d" % i, "orgs": roles,
            "groups": ["g%d" % ((i + 7) % orgs)]}


def ws_rec(i, orgs, users, flip=0):
    owner = i % users
    rec = {"type": "workspace", "id": "ws%d" % i,
           "org": "org%d" % (owner % orgs), "owner": "u%d" % owner,
           "name": "dev-%d" % i}
    if i % 5 == 0:
        rec["acl_users"] = {"u%d" % ((owner + 1) % users): "use"}
    if flip:
        rec["dormant"] = True
        if i % 2:
            rec["name"] = "dev-%d-renamed" % i
    return rec


def write_policy(path, n, changed=0.0, seed=1):
    """The policy of n records; `changed` of its users and workspaces differ."""
    orgs, groups, tpls, users, wss, refs = shape(n)
    rnd = random.Random(seed)
    with open(path, "w") as f:
        f.write('{"organizations": [\n')
        f.write(",\n".join(json.dumps({"id": "org%d" % i, "name": "Org %d" % i})
                           for i in range(orgs)))
        f.write('],\n"groups": [\n')
        f.write(",\n".join(json.dumps({"id": "g%d" % i, "org": "org%d" % i,
                                       "name": "team%d" % i})
                           for i in range(groups)))
        f.write('],\n"references": [\n')
        for i in range(refs):
            flip = changed and rnd.random() < changed
            f.write((",\n" if i else "") + json.dumps(ref_rec(i, wss, flip)))
        f.write('],\n"users": [\n')
        for i in range(users):
            flip = changed and rnd.random() < changed
            f.write((",\n" if i else "") + json.dumps(user_rec(i, orgs, flip)))
        f.write('],\n"objects": [\n')
        for i in range(wss):
            flip = changed and rnd.random() < changed
            f.write((",\n" if i else "")
                    + json.dumps(ws_rec(i, orgs, users, flip)))
        for i in range(tpls):
            f.write(",\n" + json.dumps(
                {"type": "template", "id": uuid(1 << 40 | i),
                 "org": "org%d" % (i % orgs), "name": "tpl-%d" % i}))
        f.write("]}\n")
    return orgs + groups + tpls + users + wss + refs


def write_feed(path, n, size):
    """n changes against the policy of `size`: upserts, a few deletes."""
    orgs, _, _, users, wss, refs = shape(size)
    with open(path, "w") as f:
        for k in range(n):
            if k % 50 == 49:
                line = {"op": "delete", "key": "obj:workspace:ws%d" % (k % wss)}
            elif k % 50 == 48:
                line = {"op": "delete", "key": "ref:build:" + uuid(k % refs)}
            elif k % 10 == 5:
                line = {"op": "upsert", "kind": "ref",
                        "record": ref_rec(k % refs, wss, flip=1)}
            elif k % 2:
                line = {"op": "upsert", "kind": "user",
                        "record": user_rec(k % users, orgs, flip=1)}
            else:
                line = {"op": "upsert", "kind": "obj",
                        "record": ws_rec(k % wss, orgs, users, flip=1)}
            f.write(json.dumps(line) + "\n")


def hwm(pid):
    """VmHWM of a live process in kB (0 once it is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run(args, rs, stdin=None):
    """Runs rbacctl; returns (seconds, its peak RSS in MB): VmHWM, read
    while it runs (ru_maxrss would count the forked Python too)."""
    t = time.monotonic()
    peak = 0
    with open(stdin or os.devnull, "rb") as inp, \
            tempfile.TemporaryFile() as err:
        p = subprocess.Popen([RBACCTL] + args + ["--redis", rs.url],
                             stdin=inp, stdout=subprocess.DEVNULL, stderr=err)
        while p.poll() is None:
            peak = max(peak, hwm(p.pid))
            time.sleep(0.01)
        dt = time.monotonic() - t
        if p.returncode != 0:
            err.seek(0)
            raise RuntimeError("rbacctl %s: exit %d: %s"
                               % (" ".join(args), p.returncode,
                                  err.read().decode()[-2000:]))
    return dt, peak / 1024.0


def per_call(rs):
    """Since the last call: the kind of command with the largest mean time
    per call (commandstats), as "EXEC 120 us"."""
    c = rs.client()
    st = c.info("commandstats")
    c.config_resetstat()
    if not st:
        return ""
    st = {k: v for k, v in st.items()
          if k.replace("cmdstat_", "").split("|")[0].upper() not in OWN}
    if not st:
        return ""
    k, v = max(st.items(), key=lambda kv: kv[1]["usec_per_call"])
    return "%s %.0f us" % (k.replace("cmdstat_", "").upper(),
                           v["usec_per_call"])


def slowest(rs):
    """Since the last call: the longest single command (SLOWLOG, us
    resolution, its name) and the longest command or transaction as a whole
    (LATENCY, ms resolution: an EXEC counts once with all it ran)."""
    c = rs.client()
    lat = c.execute_command("LATENCY", "LATEST")
    c.execute_command("LATENCY", "RESET")
    whole = max([int(e[3]) for e in lat
                 if e[0] in ("command", "fast-command")] or [0])
    log = [e for e in c.slowlog_get(100000) if not own(e)]
    c.slowlog_reset()
    if not log:
        return 0.5, "all < 0.5 ms", whole, []
    top = sorted(log, key=lambda e: -e["duration"])[:3]
    desc = []
    for e in top:
        cmd = e["command"]
        if isinstance(cmd, bytes):
            cmd = cmd.decode(errors="replace")
        argv = cmd.split(" ")
        nargs = len(argv) - 1
        m = re.search(r"\.\.\. \((\d+) more arguments\)", cmd)
        if m:       # Redis keeps 32 arguments of a long command
            nargs = 31 + int(m.group(1))
        desc.append("%.2f ms %s (%d args)"
                    % (e["duration"] / 1000.0, argv[0].upper(), nargs))
    return top[0]["duration"] / 1000.0, argv0(top[0]), whole, desc


# the bench's own commands (reading SLOWLOG itself takes milliseconds)
OWN = ("SLOWLOG", "LATENCY", "INFO", "CONFIG", "PING", "DBSIZE")


def own(e):
    return argv0(e) in OWN


def argv0(e):
    cmd = e["command"]
    if isinstance(cmd, bytes):
        cmd = cmd.decode(errors="replace")
    return cmd.split(" ")[0].upper()


class Probe:
    """PINGs Redis every millisecond from another connection and keeps the
    longest round trip: what a client (nginx) would have waited."""

    def __init__(self, rs):
        self.c = rs.client()
        self.worst = 0.0
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        while not self.stop.is_set():
            t = time.monotonic()
            self.c.ping()
            self.worst = max(self.worst, time.monotonic() - t)
            time.sleep(0.001)

    def take(self):
        w, self.worst = self.worst, 0.0
        return w * 1000.0

    def close(self):
        self.stop.set()
        self.t.join()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--write", default=None)
    ap.add_argument("--redis-nice", type=int, default=-20)
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
                             extra=["--slowlog-log-slower-than", "500",
                                    "--slowlog-max-len", "100000",
                                    "--latency-monitor-threshold", "1"]) as rs:
                try:
                    os.setpriority(os.PRIO_PROCESS, rs.proc.pid,
                                   args.redis_nice)
                    nice = "redis-server at nice %d" % args.redis_nice
                except OSError as e:
                    nice = "redis-server at normal priority (%s)" % e
                print("%9d  %s" % (n, nice), flush=True)
                steps = [
                    ("apply, empty Redis", ["apply", "-f", pol], None, recs),
                    ("apply again (no-op)", ["apply", "-f", pol], None, recs),
                    ("apply, 1% changed", ["apply", "-f", pol1], None, recs),
                    ("export", ["export", "-f", os.path.join(tmp, "out.json")],
                     None, recs),
                    ("feed, %d changes" % n, ["feed"], feed, n),
                ]
                slowest(rs)
                per_call(rs)
                probe = Probe(rs)
                probe.take()
                for name, argv, stdin, count in steps:
                    dt, rss = run(argv, rs, stdin)
                    ping = probe.take()
                    ms, cmd, whole, top = slowest(rs)
                    mean = per_call(rs)
                    worst = max(worst, ms, whole)
                    rows.append((n, name, dt, count / dt, rss, ms, cmd, mb,
                                 whole, ping))
                    if name.startswith("apply, empty"):
                        per[n] = dt / recs
                    print("%9d  %-22s %8.2f s %10.0f rec/s %7.0f MB  "
                          "slowest %.2f ms (%s), whole %d ms, ping %.1f ms"
                          % (n, name, dt, count / dt, rss, ms, cmd, whole,
                             ping), flush=True)
                    print("           SLOWLOG top: %s; costliest mean: %s"
                          % ("; ".join(top) or "none over 0.5 ms", mean),
                          flush=True)
                probe.close()

    lines = ["| records | step | time s | records/s | peak RSS MB | "
             "slowest command ms | slowest EXEC ms | worst PING ms |",
             "|---|---|---|---|---|---|---|---|"]
    for n, name, dt, rate, rss, ms, cmd, mb, whole, ping in rows:
        lines.append("| %d | %s | %.2f | %.0f | %.0f | %.2f (%s) | %s | %.1f |"
                     % (n, name, dt, rate, rss, ms, cmd,
                        "<1" if whole == 0 else str(whole), ping))
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
