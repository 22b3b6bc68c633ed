#!/usr/bin/python3
"""bench_http.py: the module against bare nginx and against auth_request,
in one run, on loopback (make bench-http).

nginx runs one worker pinned to CPU 0; wrk runs one thread pinned to CPU 1
(Redis too, for the cold rows).  Every row serves the same small static
file; rows differ only in what stands in front of it:

  bare            nothing
  warm HS256/...  the module, rbac_cache_zone warm: JWT HS256, RS256, API token
  cold            the module, no cache zone: every request reads Redis
  auth_request    auth_request to another nginx, also on CPU 0, that
                  answers 204 at once: the floor of any external decision
                  service (its CPU is counted with the front nginx's)

Per row: requests/s, p99 latency, and nginx CPU microseconds per request
(utime + stime of the worker from /proc, divided by the requests wrk
made), each also as a ratio to bare.  Then invalidation propagation (two
nginx, PUBLISH to the first request answered anew on each) and cache memory
per cached user and per cached object.

    bench/bench_http.py [--seconds 5] [--write bench/RESULTS.md]
"""

import argparse
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import jwt
import redis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("RBAC_BUILD", os.path.join(ROOT, "build"))
MODULE = os.path.join(BUILD, "ngx_http_rbac_module.so")
HZ = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("nothing listens on %d" % port)


CONF = """
load_module {module};
user root;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_requests 100000;
    rbac_redis 127.0.0.1:{redis} timeout=500ms;
    rbac_jwt_key {dir}/hs.key alg=HS256 kid=hs;
    rbac_jwt_key {dir}/rsa.pub alg=RS256 kid=rs;
    rbac_jwt_key {dir}/es.pub alg=ES256 kid=es;
    {zone}
    upstream decide {{ server 127.0.0.1:{decider}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{port};
        root {dir}/html;
        location = /bare {{ try_files /index.html =404; }}
        location = /ws {{
            rbac on;
            rbac_object workspace id=w1;
            try_files /index.html =404;
        }}
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
        location ~ ^/acl/(\w+)$ {{
            rbac on;
            rbac_object workspace id=$1;
            try_files /index.html =404;
        }}
        location = /post {{ try_files /index.html =404; }}
        location = /body {{
            rbac on;
            rbac_json_body 4k;
            rbac_object workspace org=orgA owner=me;
            rbac_action create;
            rbac_also template id=$rbac_body_template_id action=use;
            try_files /index.html =404;
        }}
        location /ix/ {{ index index.html; }}
        location /rix/ {{
            rbac on;
            rbac_object workspace id=w1;
            index index.html;
        }}
        location ~ ^/obj/(.+)$ {{
            rbac on;
            rbac_object workspace id=$1;
            try_files /index.html =404;
        }}
    }}
}}
"""


DECIDER = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_requests 100000;
    server {{ listen 127.0.0.1:{port}; location / {{ return 204; }} }}
}}
"""


class Nginx:
    def __init__(self, base, name, redis_port, zone=True, decider=1,
                 template=CONF):
        self.dir = os.path.join(base, name)
        for d in ("html", "html/ix", "html/rix"):
            os.makedirs(os.path.join(self.dir, d))
            with open(os.path.join(self.dir, d, "index.html"), "w") as f:
                f.write("x" * 600)     # a small static page
        for k in ("hs.key", "rsa.pub", "es.pub"):
            shutil.copy(os.path.join(base, k), self.dir)
        self.port = free_port()
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(template.format(
                module=MODULE, dir=self.dir, redis=redis_port, port=self.port,
                decider=decider,
                zone="rbac_cache_zone %s:16m ttl=60s stale=300s;" % name
                if zone else ""))

    def start(self):
        subprocess.run(["taskset", "-c", "0", "nginx", "-p", self.dir, "-c",
                        self.conf, "-e", os.path.join(self.dir, "error.log")],
                       check=True)
        wait_port(self.port)
        with open(os.path.join(self.dir, "nginx.pid")) as f:
            self.master = int(f.read())
        deadline = time.monotonic() + 10
        kids = []
        while not kids and time.monotonic() < deadline:
            time.sleep(0.02)
            kids = open("/proc/%d/task/%d/children"
                        % (self.master, self.master)).read().split()
        self.worker = int(kids[0])
        return self

    def cpu(self):
        f = open("/proc/%d/stat" % self.worker).read()
        fields = f[f.rindex(")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / HZ

    def stop(self):
        pid = os.path.join(self.dir, "nginx.pid")
        if os.path.exists(pid):
            subprocess.run(["nginx", "-p", self.dir, "-c", self.conf, "-s",
                            "quit", "-e", os.path.join(self.dir, "error.log")],
                           capture_output=True)

    def get(self, path, token=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        c.request("GET", path, headers={"Authorization": "Bearer " + token}
                  if token else {})
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, body


def start(started, n):
    """Starts n, noted first in `started` so that it is always stopped."""
    started.append(n)
    return n.start()


def wrk(n, path, token, seconds, also=None, body=None):
    args = ["taskset", "-c", "1", "wrk", "-t1", "-c16", "-d%ds" % seconds,
            "--latency", "http://127.0.0.1:%d%s" % (n.port, path)]
    if token:
        args[4:4] = ["-H", "Authorization: Bearer " + token]
    if body:
        # a POST of `body`: the static file answers 405 once access allowed
        script = os.path.join(n.dir, "post.lua")
        with open(script, "w") as f:
            f.write('wrk.method = "POST"\n'
                    'wrk.headers["Content-Type"] = "application/json"\n'
                    'wrk.body = %s\n' % json.dumps(body.decode()))
        args[4:4] = ["-s", script]
    others = [n] + ([also] if also else [])
    cpu0 = sum(x.cpu() for x in others)
    out = subprocess.run(args, check=True, capture_output=True, text=True,
                         timeout=seconds + 30).stdout
    cpu = sum(x.cpu() for x in others) - cpu0
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    p99 = float(p99.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6}[p99.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx and not body:
        raise RuntimeError("%s: %s non-2xx answers" % (path, non2xx.group(1)))
    return {"rps": rps, "p99": p99, "cpu_us": cpu * 1e6 / reqs}


def seed(r, n_users=0, n_objs=0):
    def put(k, v):
        r.set("rbac:" + k, json.dumps(v))
    put("org:orgA", {"id": "orgA", "name": "A",
                     "default_org_member_roles":
                         ["organization-workspace-access"]})
    put("user:alice", {"id": "alice", "orgs": {"orgA": [], "orgS": []}})
    put("org:orgS", {"id": "orgS", "name": "S",
                     "default_org_member_roles": []})
    put("obj:template:t1", {"type": "template", "id": "t1", "org": "orgA",
                            "acl_groups": {"orgA": "use"}})
    # shared workspaces: alice reaches them only through their ACL, last
    acl = {"u%d" % i: "use" for i in range(999)}
    acl["alice"] = "use"
    put("obj:workspace:s1", {"type": "workspace", "id": "s1", "org": "orgS",
                             "owner": "bob", "acl_users": {"alice": "use"}})
    put("obj:workspace:s1000", {
        "type": "workspace", "id": "s1000", "org": "orgS", "owner": "bob",
        "acl_users": acl,
        "acl_groups": {"g%d" % i: "use" for i in range(50)}})
    put("obj:workspace:w1", {"type": "workspace", "id": "w1", "org": "orgA",
                             "owner": "alice"})
    put("token:t1", {"id": "t1", "user": "alice", "secret_sha256":
                     hashlib.sha256(b"bench-secret").hexdigest()})
    for i in range(n_users):
        put("user:u%d" % i, {"id": "u%d" % i, "orgs": {"orgA": []}})
    for i in range(n_objs):
        put("obj:workspace:o%d" % i, {"type": "workspace", "id": "o%d" % i,
                                      "org": "orgA", "owner": "alice"})


def tokens(base):
    hs = os.urandom(32)
    with open(os.path.join(base, "hs.key"), "wb") as f:
        f.write(hs)
    rk = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with open(os.path.join(base, "rsa.pub"), "wb") as f:
        f.write(rk.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo))
    ek = ec.generate_private_key(ec.SECP256R1())
    with open(os.path.join(base, "es.pub"), "wb") as f:
        f.write(ek.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo))
    now = int(time.time())

    def mint(sub, alg="HS256"):
        claims = {"sub": sub, "iat": now, "exp": now + 3600}
        if alg == "HS256":
            return jwt.encode(claims, hs, "HS256", headers={"kid": "hs"})
        if alg == "ES256":
            return jwt.encode(claims, ek, "ES256", headers={"kid": "es"})
        return jwt.encode(claims, rk, "RS256", headers={"kid": "rs"})
    return mint


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
    procs, nginxes = [], []
    try:
        rport = free_port()
        procs.append(subprocess.Popen(
            ["taskset", "-c", "1", "redis-server", "--bind", "127.0.0.1",
             "--port", str(rport), "--save", "", "--appendonly", "no",
             "--dir", base, "--logfile", os.path.join(base, "redis.log")]))
        wait_port(rport)
        r = redis.Redis(port=rport)
        seed(r, n_users=1000, n_objs=1010)
        mint = tokens(base)
        hs, rs, api = mint("alice"), mint("alice", "RS256"), "t1-bench-secret"
        es = mint("alice", "ES256")
        body = json.dumps({"name": "w", "template_id": "t1",
                           "pad": "x" * 979}).encode()     # 1 KiB

        decider = start(nginxes, Nginx(base, "decider", rport,
                                       template=DECIDER))
        warm = start(nginxes, Nginx(base, "warm", rport,
                                    decider=decider.port))
        cold = start(nginxes, Nginx(base, "cold", rport, zone=False))
        for n, tok in ((warm, hs), (warm, rs), (warm, es), (warm, api),
                       (cold, hs)):
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
        other = start(nginxes, Nginx(base, "other", rport))
        times = propagation(warm, other, r, hs, args.rounds)

        mem = start(nginxes, Nginx(base, "mem", rport))
        per_user, per_obj = memory(mem, mint, 1000)
    finally:
        for n in nginxes:
            n.stop()
        for p in procs:
            p.terminate()
            p.wait()
        shutil.rmtree(base, ignore_errors=True)

    bare = rows[0][1]
    auth = rows[-1][1]
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
    worst = max(m["cpu_us"] for name, m in rows[1:4]) - bare["cpu_us"]
    slowest = min(m["rps"] for name, m in rows[1:4])
    out.append("Warm cache, worst token type: %+.1f µs of nginx CPU per "
               "request over bare (target <= 3, stretch 2): %s." % (
                   worst, "met" if worst <= 3 else "NOT met"))
    out.append("Warm cache, slowest token type: %.1fx the auth_request "
               "floor's throughput (target >= 2.5x): %s." % (
                   slowest / auth["rps"],
                   "met" if slowest >= 2.5 * auth["rps"] else "NOT met"))
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
