#!/usr/bin/python3
"""bench_http.py: the module against bare nginx and against auth_request,
in one run, on loopback (make bench-http).

nginx runs one worker pinned to CPU 0; wrk runs one thread pinned to CPU 1
(Redis too, for the cold rows).  Every row serves the same small static
file; rows differ only in what stands in front of it:

  bare            nothing
  warm HS256/...  the module, rbac_cache_zone warm: JWT HS256, RS256, API token
  cold            the module, no cache zone: every request reads Redis
  ..., TLS        warm API token and cold again, rbac_redis over TLS to a
                  redis-server listening with TLS only (its CA made here)
  auth_request    auth_request to another nginx, also on CPU 0, that
                  answers 204 at once: the floor of any external decision
                  service (its CPU is counted with the front nginx's)

Per row: requests/s, p99 latency, and nginx CPU microseconds per request
(utime + stime of the worker from /proc, divided by the requests wrk
made), each also as a ratio to bare; then each TLS row against its
clear-text row.  Then invalidation propagation (two nginx, PUBLISH to the
first request answered anew on each) and cache memory per cached user and
per cached object.

    bench/bench_http.py [--seconds 5] [--write bench/RESULTS.md]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from benchlib import (API_TOKEN, HEAD, HTTP, LOCATIONS, Nginx,
                      body_1k, keys, seed, start_redis, wrk as run_wrk,
                      static, write_files)


CONF = HEAD + """
user root;
worker_processes 1;
http {{""" + HTTP + """
    rbac_redis {redis} timeout=500ms;
    rbac_jwt_key {keys}/hs.key alg=HS256 kid=hs;
    rbac_jwt_key {keys}/rsa.pub alg=RS256 kid=rs;
    rbac_jwt_key {keys}/es.pub alg=ES256 kid=es;
    {zone}
    upstream decide {{ server 127.0.0.1:{decider}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{port};
        root {dir}/html;
""" + LOCATIONS + """
        location = /auth_request {{
            auth_request /decide;
            try_files /index.html =404;
        }}
        location = /decide {{
            internal;
            proxy_pass http://decide/204;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
        }}
        location = /status {{ rbac_status; }}
        location = /authn {{ rbac on; try_files /index.html =404; }}
        location ~ ^/obj/(.+)$ {{
            rbac on;
            rbac_object workspace id=$1;
            try_files /index.html =404;
        }}
    }}
}}
"""


# the floor of an external decision: an nginx answering 204 at once
DECIDER = HEAD + """
worker_processes 1;
http {{""" + HTTP + """
    server {{ listen 127.0.0.1:{port}; location / {{ return 204; }} }}
}}
"""


WARM_TLS = "module, warm cache, API token, Redis over TLS"
COLD_TLS = "module, no cache (Redis per request), HS256, Redis over TLS"


def nginx(base, name, redis, zone=True, decider=1, template=CONF):
    """An nginx of this bench (not started): its static pages, its own
    cache zone unless zone=False, rbac_redis `redis` (an address and
    options), the keys of base."""
    write_files(os.path.join(base, name), static("index.html"),
                "x" * 600)                     # a small static page
    return Nginx(base, name, template, redis=redis, keys=base,
                 page="index.html",
                 decider=decider,
                 zone="rbac_cache_zone %s:16m ttl=60s stale=300s;" % name
                 if zone else "")


def start(started, n):
    """Starts n, noted first in `started` so that it is always stopped."""
    started.append(n)
    return n.start()


def wrk(n, path, token, seconds, also=None, body=None):
    options = []
    if token:
        options += ["-H", "Authorization: Bearer " + token]
    if body:
        # a POST of `body`: the static file answers 405 once access allowed
        script = os.path.join(n.dir, "post.lua")
        with open(script, "w") as f:
            f.write('wrk.method = "POST"\n'
                    'wrk.headers["Content-Type"] = "application/json"\n'
                    'wrk.body = %s\n' % json.dumps(body.decode()))
        options += ["-s", script]
    others = [n] + ([also] if also else [])
    cpu0 = sum(x.cpu() for x in others)
    w = run_wrk("http://127.0.0.1:%d%s" % (n.port, path), seconds, options)
    cpu = sum(x.cpu() for x in others) - cpu0
    if w["non2xx"] and not body:
        raise RuntimeError("%s: %d non-2xx answers" % (path, w["non2xx"]))
    return {"rps": w["rps"], "p99": w["p99"],
            "cpu_us": cpu * 1e6 / w["reqs"]}


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def propagation(a, b, r, tok, rounds):
    """PUBLISH, then the time until each instance answers anew."""
    times = {a: [], b: []}
    for i in range(rounds):
        member = i % 2 == 1
        want = 200 if member else 403
        r.set("rbac:user:alice", json.dumps(
            {"id": "alice", "orgs": {"orgA": []} if member else {}}))
        t0 = time.monotonic()
        r.publish("rbac:inv", "rbac:user:alice")
        for n in (a, b):
            deadline = t0 + 2
            while n.get("/ws", tok)[0] != want:
                if time.monotonic() > deadline:
                    raise RuntimeError("no propagation within 2 s")
            times[n].append((time.monotonic() - t0) * 1e3)
    return times


def memory(n, mint, count):
    """Bytes of cache per cached user (user record + verified JWT) and per
    cached object (object record), from rbac_status."""
    def used():
        return json.loads(n.get("/status")[1])["cache"]["bytes_used"]
    for i in range(10):   # the shared records (org, deployment, ...)
        n.get("/obj/o%d" % i, mint("alice"))
    b0 = used()
    for i in range(10, 10 + count):
        n.get("/obj/o%d" % i, mint("alice"))
    per_obj = (used() - b0) / count
    b0 = used()
    for i in range(count):
        n.get("/ws", mint("u%d" % i))
    per_user = (used() - b0) / count
    return per_user, per_obj


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--write", metavar="FILE")
    args = ap.parse_args()

    base = tempfile.mkdtemp(prefix="rbac-bench-")
    servers, nginxes = [], []
    try:
        # the same records in Redis in clear text and Redis over TLS
        for kind in ("clear", "tls"):
            servers.append(start_redis(base, "redis-" + kind,
                                       tls=kind == "tls", cpu=1))
            seed(servers[-1].client(), n_users=1000, n_objs=1010)
        clear, tls = servers
        r = clear.client()
        mint = keys(base, with_rsa=True)
        hs, rs, api = mint("alice"), mint("alice", "RS256"), API_TOKEN
        es = mint("alice", "ES256")
        body = body_1k()

        decider = start(nginxes, nginx(base, "decider", clear.rbac,
                                       template=DECIDER))
        warm = start(nginxes, nginx(base, "warm", clear.rbac,
                                    decider=decider.port))
        cold = start(nginxes, nginx(base, "cold", clear.rbac, zone=False))
        warm_tls = start(nginxes, nginx(base, "warm_tls", tls.rbac))
        cold_tls = start(nginxes, nginx(base, "cold_tls", tls.rbac,
                                        zone=False))
        for n, tok in ((warm, hs), (warm, rs), (warm, es), (warm, api),
                       (cold, hs), (warm_tls, api), (cold_tls, hs)):
            assert n.get("/ws", tok)[0] == 200, "setup: /ws not allowed"
        for path in ("/acl/s1", "/acl/s1000", "/rix/"):
            assert warm.get(path, api)[0] == 200, "setup: %s" % path

        # each row runs --repeat times, in rotation, and its median counts:
        # a shared machine drifts by more than the differences measured
        plan = [("bare nginx, static file", warm, "/bare", None, None, None),
                ("module, warm cache, JWT HS256", warm, "/ws", hs, None,
                 None),
                ("module, warm cache, JWT RS256", warm, "/ws", rs, None,
                 None),
                ("module, warm cache, API token", warm, "/ws", api, None,
                 None),
                (WARM_TLS, warm_tls, "/ws", api, None, None),
                ("module, warm cache, JWT ES256", warm, "/ws", es, None,
                 None),
                ("module, warm, ACL of 1 user (API token)", warm, "/acl/s1",
                 api, None, None),
                ("module, warm, ACL of 1,000 users + 50 groups", warm,
                 "/acl/s1000", api, None, None),
                ("bare POST, 1 KiB body (405)", warm, "/post", api, None,
                 body),
                ("module, rbac_json_body 1 KiB + rbac_also (405)", warm,
                 "/body", api, None, body),
                ("bare index redirect", warm, "/ix/", api, None, None),
                ("module, internal redirect (index)", warm, "/rix/", api,
                 None, None),
                ("module, no cache (Redis per request), HS256", cold,
                 "/ws", hs, None, None),
                (COLD_TLS, cold_tls, "/ws", hs, None, None),
                ("auth_request to an nginx answering 204", warm,
                 "/auth_request", None, decider, None)]
        runs = {name: [] for name, *_ in plan}
        for name, n, path, tok, also, b in plan:
            wrk(n, path, tok, 1, also, b)                 # warm-up
        for _ in range(args.repeat):
            for name, n, path, tok, also, b in plan:
                runs[name].append(wrk(n, path, tok, args.seconds, also, b))
        rows = [(name, {k: median([m[k] for m in runs[name]])
                        for k in ("rps", "p99", "cpu_us")})
                for name, *_ in plan]

        # propagation: two nginx sharing the Redis, each with its own zone
        other = start(nginxes, nginx(base, "other", clear.rbac))
        times = propagation(warm, other, r, hs, args.rounds)

        mem = start(nginxes, nginx(base, "mem", clear.rbac))
        per_user, per_obj = memory(mem, mint, 1000)
    finally:
        for n in nginxes:
            n.stop()
        for x in servers:
            x.stop()
        shutil.rmtree(base, ignore_errors=True)

    bare = rows[0][1]
    auth = rows[-1][1]
    by = dict(rows)
    tokens = [by["module, warm cache, " + t]
              for t in ("JWT HS256", "JWT RS256", "API token")]
    out = []
    out.append("| row | requests/s | x bare | p99 µs | nginx CPU µs/req | "
               "extra µs over bare |")
    out.append("|---|---|---|---|---|---|")
    for name, m in rows:
        out.append("| %s | %.0f | %.2f | %.0f | %.1f | %+.1f |" % (
            name, m["rps"], m["rps"] / bare["rps"], m["p99"], m["cpu_us"],
            m["cpu_us"] - bare["cpu_us"]))
    out.append("")
    out.append("Each figure is the median of %d runs of %d s, the rows taken "
               "in rotation. CPU µs/req: the front nginx worker's user + "
               "system time over the requests wrk made (with auth_request, "
               "plus the 204 nginx's)." % (args.repeat, args.seconds))
    out.append("")
    worst = max(m["cpu_us"] for m in tokens) - bare["cpu_us"]
    slowest = min(m["rps"] for m in tokens)
    out.append("Warm cache, worst token type: %+.1f µs of nginx CPU per "
               "request over bare (target <= 3, stretch 2): %s." % (
                   worst, "met" if worst <= 3 else "NOT met"))
    out.append("Warm cache, slowest token type: %.1fx the auth_request "
               "floor's throughput (target >= 2.5x): %s." % (
                   slowest / auth["rps"],
                   "met" if slowest >= 2.5 * auth["rps"] else "NOT met"))
    for label, c, t in (("warm cache, API token", "module, warm cache, API "
                         "token", WARM_TLS),
                        ("no cache, HS256", "module, no cache (Redis per "
                         "request), HS256", COLD_TLS)):
        out.append("Redis over TLS, %s: %.2fx the requests/s of clear text, "
                   "%+.1f µs of nginx CPU per request." % (
                       label, by[t]["rps"] / by[c]["rps"],
                       by[t]["cpu_us"] - by[c]["cpu_us"]))
    out.append("")
    out.append("Invalidation propagation, PUBLISH to the first request "
               "answered anew (%d rounds, ms):" % args.rounds)
    out.append("")
    out.append("| instance | p50 | p99 | max |")
    out.append("|---|---|---|---|")
    for label, xs in zip(("first", "second"), times.values()):
        out.append("| %s | %.2f | %.2f | %.2f |" % (
            label, percentile(xs, 0.5), percentile(xs, 0.99), max(xs)))
    out.append("")
    out.append("Cache memory: %.0f bytes per cached user (user record and "
               "verified JWT), %.0f bytes per cached object." % (
                   per_user, per_obj))
    text = "\n".join(out)
    print(text)
    if args.write:
        with open(args.write, "w") as f:
            f.write("# Benchmark results\n\nProduced by `make bench-http` "
                    "(bench/bench_http.py --seconds %d --repeat %d) on %s, "
                    "%d CPUs, nginx %s.\n\n%s\n" % (
                        args.seconds, args.repeat, time.strftime("%Y-%m-%d"),
                        os.cpu_count(), subprocess.run(
                            ["nginx", "-v"], capture_output=True,
                            text=True).stderr.strip().split("/")[-1], text))


if __name__ == "__main__":
    sys.exit(main())
