#!/usr/bin/python3
"""bench_scale.py: the module at scale (make bench-scale).

100,000 users (each with an API token) and 1,000,000 workspaces in Redis;
requests draw a user and a workspace, each from a Zipf(1.1) distribution
over its ranks (a few are hot, most are cold).  One nginx worker (CPU 0),
wrk on CPU 1 cycling through a fixed list of such requests.

Rows, each measured after the same warm-up:

  fully warm     a zone large enough for everything (1 GB)
  64 MB zone     smaller than the working set: evictions, Redis reads
  64 MB + burst  the 64 MB zone while 10,000 invalidations are published

Per row: cache hit rate (rbac_status), Redis commands per 1,000 requests
(INFO commandstats), p50 and p99 latency, and the last two as ratios to
the fully warm row.

    bench/bench_scale.py [--users 100000] [--objects 1000000] [--seconds 5]
"""

import argparse
import bisect
import hashlib
import itertools
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time

from benchlib import (HEAD, HTTP, Nginx, commands, start_redis,
                      wrk as run_wrk, write_files)


CONF = HEAD + """
user root;
worker_processes 1;
http {{""" + HTTP + """
    rbac_redis {redis} timeout=2s;
    rbac_cache_zone scale:{zone} ttl=3600s stale=3600s;
    server {{
        listen 127.0.0.1:{port};
        root {dir}/html;
        location ~ ^/o/(\\w+)$ {{
            rbac on;
            rbac_object workspace id=$1;
            try_files /index.html =404;
        }}
        location = /status {{ rbac_status; }}
    }}
}}
"""


def seed(r, users, objects):
    digest = hashlib.sha256(b"s").hexdigest()
    p = r.pipeline(transaction=False)
    p.set("rbac:org:orgA", json.dumps({"id": "orgA", "name": "A"}))
    batch = {}

    def flush():
        if batch:
            p.mset(batch)
            p.execute()
            batch.clear()

    for i in range(users):
        batch["rbac:user:u%d" % i] = json.dumps(
            {"id": "u%d" % i, "orgs": {"orgA": ["organization-admin"]}})
        batch["rbac:token:t%d" % i] = json.dumps(
            {"id": "t%d" % i, "user": "u%d" % i, "secret_sha256": digest})
        if len(batch) >= 20000:
            flush()
    for i in range(objects):
        batch["rbac:obj:workspace:o%d" % i] = json.dumps(
            {"type": "workspace", "id": "o%d" % i, "org": "orgA",
             "owner": "u%d" % (i % users)})
        if len(batch) >= 20000:
            flush()
    flush()


def zipf(n, s, k, rng):
    """k ranks in [0, n) drawn with P(rank i) proportional to 1/(i+1)^s."""
    cum = list(itertools.accumulate(1.0 / (i + 1) ** s for i in range(n)))
    total = cum[-1]
    return [bisect.bisect_left(cum, rng.random() * total) for _ in range(k)]


def script(path, users, objects, count, rng):
    us = zipf(users, 1.1, count, rng)
    os_ = zipf(objects, 1.1, count, rng)
    # a random permutation of ranks, so that hot keys are not o0, o1, ...
    with open(path + ".txt", "w") as f:
        for u, o in zip(us, os_):
            f.write("/o/o%d t%d-s\n" % (o, u))
    # read at start-up: a table literal this long is more than Lua takes
    with open(path, "w") as f:
        f.write("local reqs = {}\n"
                "init = function(args)\n"
                "  i = tonumber(args[1] or \"0\")\n"
                "  for line in io.lines(%s) do\n"
                "    local p, t = line:match(\"(%%S+) (%%S+)\")\n"
                "    reqs[#reqs + 1] = wrk.format(\"GET\", p,\n"
                "      {[\"Authorization\"] = \"Bearer \" .. t})\n"
                "  end\n"
                "end\n"
                "local i = 0\n"
                "setup = function(thread) end\n"
                "request = function()\n"
                "  i = i %% #reqs + 1\n"
                "  return reqs[i]\n"
                "end\n" % json.dumps(path + ".txt"))


def nginx(base, name, redis, zone):
    """An nginx of this bench, started."""
    write_files(os.path.join(base, name), ("html/index.html",), "x" * 600)
    return Nginx(base, name, CONF, redis=redis, zone=zone).start()


def check(n, path, token):
    status, body = n.get(path, token)
    if status != 200:
        raise RuntimeError("setup: %s %d %s" % (path, status, body))


def wrk(n, lua, seconds, offset=0):
    """Runs wrk from request `offset` of the list on."""
    w = run_wrk("http://127.0.0.1:%d/" % n.port, seconds, ["-s", lua],
                [str(offset)])
    if w["non2xx"]:
        raise RuntimeError("%d non-2xx answers:\n%s" % (w["non2xx"],
                                                          w["out"]))
    return w["reqs"], w["p50"], w["p99"]


def measure(n, r, lua, seconds, offset, during=None):
    st0, c0 = n.status()["cache"], commands(r)
    t = None
    if during:
        t = threading.Thread(target=during)
        t.start()
    reqs, p50, p99 = wrk(n, lua, seconds, offset)
    if t:
        t.join()
    st1, c1 = n.status()["cache"], commands(r)
    hits = st1["hits"] - st0["hits"]
    misses = st1["misses"] - st0["misses"]
    if hits + misses < reqs:
        raise RuntimeError("the requests did not reach the module")
    return {"hit": hits / max(1, hits + misses),
            "cmds": (c1 - c0) * 1000.0 / reqs, "p50": p50, "p99": p99}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=100000)
    ap.add_argument("--objects", type=int, default=1000000)
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--burst", type=int, default=10000)
    args = ap.parse_args()

    rng = random.Random(1)
    base = tempfile.mkdtemp(prefix="rbac-scale-")
    rs, nginxes = None, []
    try:
        rs = start_redis(base, cpu=1)
        r = rs.client()
        t0 = time.monotonic()
        seed(r, args.users, args.objects)
        lua = os.path.join(base, "zipf.lua")
        script(lua, args.users, args.objects, args.requests, rng)
        print("seeded %d users, %d objects in %.0f s" % (
            args.users, args.objects, time.monotonic() - t0),
            file=sys.stderr)

        def burst():
            time.sleep(args.seconds / 4.0)
            p = r.pipeline(transaction=False)
            for i in range(args.burst):
                p.publish("rbac:inv", "rbac:user:u%d" % rng.randrange(
                    args.users))
            p.execute()

        rows = []
        for name, zone, during in (("fully warm (1 GB zone)", "1024m", None),
                                   ("64 MB zone", "64m", None),
                                   ("64 MB zone, %d invalidations during "
                                    "the run" % args.burst, "64m", burst)):
            nginxes.append(nginx(base, "n%d" % len(rows), rs.rbac, zone))
            n = nginxes[-1]
            time.sleep(0.5)            # subscribed
            check(n, "/o/o1", "t1-s")
            # warm-up: the whole request list, once at least
            done = 0
            while done < args.requests:
                done += wrk(n, lua, args.seconds, done)[0]
            rows.append((name, measure(n, r, lua, args.seconds,
                                       done % args.requests, during)))
            n.stop()
    finally:
        for n in nginxes:
            n.stop()
        if rs:
            rs.stop()
        shutil.rmtree(base, ignore_errors=True)

    warm = rows[0][1]
    print("| run | cache hit rate | Redis commands / 1,000 requests | "
          "p50 x warm | p99 x warm |")
    print("|---|---|---|---|---|")
    for name, m in rows:
        print("| %s | %.1f%% | %.0f | %.2f | %.2f |" % (
            name, 100 * m["hit"], m["cmds"], m["p50"] / warm["p50"],
            m["p99"] / warm["p99"]))
    print("")
    print("%d users, %d workspaces, Zipf(1.1) over each, %d distinct "
          "requests cycled by wrk (1 thread, 16 connections, %d s per run "
          "after a warm-up covering the list)." % (
              args.users, args.objects, args.requests, args.seconds))


if __name__ == "__main__":
    sys.exit(main())
