#!/usr/bin/python3
"""bench_instr.py: instructions per request, counted by valgrind, for the
module against bare nginx (make bench-instr).

Wall-clock figures on a shared machine move by more than the differences
they are meant to show; instructions counted by valgrind do not.  Each row
runs one nginx (master_process off, daemon off) under
`valgrind --tool=cachegrind --cache-sim=no` twice: warm-up requests, then
N1 (first run) or N2 (second run) requests on one keep-alive connection,
then the process quits.  Start-up, warm-up and exit are the same in both
runs, so the cost of one request is

    (Ir(N2) - Ir(N1)) / (N2 - N1)

Each row is printed as the instructions it adds over its baseline (a bare
GET of a 3-byte static file, or the same request with the module off) and
as a percentage of the bare GET.  Rows with an internal redirect also say
how many decisions that is (their extra over the direct request's).

    bench/bench_instr.py [--n1 200] [--n2 1200] [--only NAME] [--jobs 2]

With RBAC_PROFILE=DIR the runs use callgrind instead and leave their
profiles in DIR (callgrind_annotate DIR/callgrind.<row>.<n>).
"""

import argparse
import base64
import concurrent.futures
import hashlib
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
import urllib.request

import jwt
import redis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("RBAC_BUILD", os.path.join(ROOT, "build"))
MODULE = os.path.join(BUILD, "ngx_http_rbac_module.so")
PROFILE = os.environ.get("RBAC_PROFILE")   # a directory: callgrind there


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("exited before listening on %d" % port)
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on %d" % port)


CONF = """
load_module {module};
master_process off;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 600s;
    rbac_redis 127.0.0.1:{redis} timeout=10s;
    rbac_jwt_key {base}/hs.key alg=HS256 kid=hs;
    rbac_jwt_key {base}/es.pub alg=ES256 kid=es;
    rbac_cache_zone bench:16m ttl=3600s stale=3600s;
    server {{
        listen 127.0.0.1:{port};
        root {base}/html;

        location = /bare {{ try_files /f.txt =404; }}
        location = /_status {{ rbac_status; }}
        location = /ws {{
            rbac on;
            rbac_object workspace id=w1;
            try_files /f.txt =404;
        }}
        location ~ ^/acl/(\\w+)$ {{
            rbac on;
            rbac_object workspace id=$1;
            try_files /f.txt =404;
        }}

        location = /post {{ try_files /f.txt =404; }}
        location = /body {{
            rbac on;
            rbac_json_body 4k;
            rbac_object workspace org=orgA owner=me;
            rbac_action create;
            rbac_also template id=$rbac_body_template_id action=use;
            try_files /f.txt =404;
        }}

        location /ix/ {{ index f.txt; }}
        location /rix/ {{
            rbac on;
            rbac_object workspace id=w1;
            index f.txt;
        }}
        location = /tf {{ try_files /nope /ix/f.txt; }}
        location = /rtf {{
            rbac on;
            rbac_object workspace id=w1;
            try_files /nope /rix/f.txt;
        }}
        location = /ep {{ error_page 404 = /ix/f.txt; try_files /nope =404; }}
        location = /rep {{
            rbac on;
            rbac_object workspace id=w1;
            error_page 404 = /rix/f.txt;
            try_files /nope =404;
        }}
    }}

    # the ES256 key again, from a JWKS fetched by a subrequest (a static
    # file here: what is measured is the warm request, not the fetch)
    server {{
        listen 127.0.0.1:{port};
        server_name jwks;
        root {base}/html;
        rbac_jwt_key_request /_jwks;

        location = /_jwks {{
            internal;
            alias {base}/es.jwks;
        }}
        location = /ws {{
            rbac on;
            rbac_object workspace id=w1;
            try_files /f.txt =404;
        }}
    }}
}}
"""


def seed(r):
    def put(k, v):
        r.set("rbac:" + k, json.dumps(v))

    put("org:orgA", {"id": "orgA", "name": "A",
                     "default_org_member_roles":
                         ["organization-workspace-access"]})
    put("org:orgS", {"id": "orgS", "name": "S",
                     "default_org_member_roles": []})
    put("user:alice", {"id": "alice", "orgs": {"orgA": [], "orgS": []}})
    put("obj:workspace:w1", {"type": "workspace", "id": "w1", "org": "orgA",
                             "owner": "alice"})
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
    put("token:t1", {"id": "t1", "user": "alice", "secret_sha256":
                     hashlib.sha256(b"bench-secret").hexdigest()})


def keys(base):
    hs = os.urandom(32)
    with open(os.path.join(base, "hs.key"), "wb") as f:
        f.write(hs)
    ek = ec.generate_private_key(ec.SECP256R1())
    with open(os.path.join(base, "es.pub"), "wb") as f:
        f.write(ek.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo))
    nums = ek.public_key().public_numbers()
    with open(os.path.join(base, "es.jwks"), "w") as f:
        json.dump({"keys": [{"kty": "EC", "crv": "P-256", "kid": "esj",
                             "x": b64url(nums.x.to_bytes(32, "big")),
                             "y": b64url(nums.y.to_bytes(32, "big"))}]}, f)
    now = int(time.time())
    claims = {"sub": "alice", "iat": now, "exp": now + 7200}
    return (jwt.encode(claims, hs, "HS256", headers={"kid": "hs"}),
            jwt.encode(claims, ek, "ES256", headers={"kid": "es"}),
            jwt.encode(claims, ek, "ES256", headers={"kid": "esj"}))


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def request(method, path, token, body=b""):
    # "host:/path" asks that server ("jwks:/ws"); plain paths ask "bench"
    host, _, path = path.rpartition(":")
    h = ["%s %s HTTP/1.1" % (method, path), "Host: " + (host or "bench")]
    if token:
        h.append("Authorization: Bearer " + token)
    if body:
        h.append("Content-Type: application/json")
        h.append("Content-Length: %d" % len(body))
    return ("\r\n".join(h) + "\r\n\r\n").encode() + body


def exchange(sock, buf, req):
    """Sends req; returns (status, rest of the buffer)."""
    sock.sendall(req)
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed")
        buf += chunk
    head, buf = buf.split(b"\r\n\r\n", 1)
    status = int(head.split(b" ", 2)[1])
    m = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.I)
    length = int(m.group(1)) if m else 0
    while len(buf) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed")
        buf += chunk
    return status, buf[length:]


def subscribed(port, seconds=60):
    """Waits for the worker's rbac:inv subscription: a subscription that
    comes up later bumps the zone's epoch and would end the warm memo in
    the middle of the measured requests."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with urllib.request.urlopen("http://127.0.0.1:%d/_status" % port,
                                    timeout=60) as f:
            if re.search(rb'"subscribed":\s*true', f.read()):
                return
        time.sleep(0.2)
    raise RuntimeError("no rbac:inv subscription")


def measure(base, rport, row, n):
    """Ir of one nginx run: warm-up, then n requests of the row."""
    name, method, path, token, body, want = row
    d = tempfile.mkdtemp(prefix="run-", dir=base)
    port = free_port()
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(CONF.format(module=MODULE, dir=d, base=base, redis=rport,
                            port=port))
    out = os.path.join(d, "cg.out")
    tool = ["--tool=cachegrind", "--cache-sim=no",
            "--cachegrind-out-file=" + out]
    if PROFILE:
        # callgrind, its output kept: callgrind_annotate shows where it goes
        out = os.path.join(PROFILE, "callgrind.%s.%d" % (
            re.sub(r"\W+", "_", name), n))
        tool = ["--tool=callgrind", "--callgrind-out-file=" + out]
    proc = subprocess.Popen(
        ["valgrind"] + tool + ["--log-file=" + out + ".log",
         "nginx", "-p", d, "-c", conf, "-e", os.path.join(d, "error.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc)
        subscribed(port)
        req = request(method, path, token, body)
        sock = socket.create_connection(("127.0.0.1", port), 60)
        buf = b""
        for _ in range(5 + n):          # 5 to warm: Redis, cache, memo
            status, buf = exchange(sock, buf, req)
            if status != want:
                raise RuntimeError("%s: %d, expected %d" % (name, status,
                                                             want))
        sock.close()
        proc.send_signal(signal.SIGQUIT)
        proc.wait(120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with open(out + ".log") as f:
        m = re.search(r"(?:I\s+refs|Collected)\s*:\s+([\d,]+)", f.read())
    if not m:
        raise RuntimeError("%s: no instruction count" % name)
    return int(m.group(1).replace(",", ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n1", type=int, default=200)
    ap.add_argument("--n2", type=int, default=1200)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", help="rows whose name contains this")
    args = ap.parse_args()

    base = tempfile.mkdtemp(prefix="rbac-instr-")
    procs = []
    try:
        os.makedirs(os.path.join(base, "html", "ix"))
        os.makedirs(os.path.join(base, "html", "rix"))
        for p in ("f.txt", "ix/f.txt", "rix/f.txt"):
            with open(os.path.join(base, "html", p), "w") as f:
                f.write("ok\n")
        rport = free_port()
        procs.append(subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(rport),
             "--save", "", "--appendonly", "no", "--dir", base,
             "--logfile", os.path.join(base, "redis.log")]))
        wait_port(rport, procs[0])
        seed(redis.Redis(port=rport))
        hs, es, esj = keys(base)
        api = "t1-bench-secret"
        body = json.dumps({"name": "w", "template_id": "t1",
                           "pad": "x" * 979}).encode()
        assert len(body) == 1024, len(body)

        # (name, method, path, token, body, status), its baseline row:
        # the same request (same headers, same body) with the module off
        rows = [
            (("bare GET, static 3-byte file", "GET", "/bare", None, b"",
              200), None),
            (("bare GET with the API token header", "GET", "/bare", api, b"",
              200), None),
            (("bare GET with the HS256 JWT header", "GET", "/bare", hs, b"",
              200), None),
            (("bare GET with the ES256 JWT header", "GET", "/bare", es, b"",
              200), None),
            (("warm API token", "GET", "/ws", api, b"", 200), 1),
            (("warm JWT HS256", "GET", "/ws", hs, b"", 200), 2),
            (("warm JWT ES256", "GET", "/ws", es, b"", 200), 3),
            (("shared workspace, ACL of 1 user", "GET", "/acl/s1", api, b"",
              200), 1),
            (("shared workspace, ACL of 1,000 users + 50 groups", "GET",
              "/acl/s1000", api, b"", 200), 1),
            (("bare POST, 1 KiB body (405)", "POST", "/post", api, body,
              405), None),
            (("rbac_json_body 1 KiB + rbac_also (405)", "POST", "/body", api,
              body, 405), 9),
            (("bare index redirect", "GET", "/ix/", api, b"", 200), None),
            (("internal redirect: index", "GET", "/rix/", api, b"", 200), 11),
            (("bare try_files redirect", "GET", "/tf", api, b"", 200), None),
            (("internal redirect: try_files", "GET", "/rtf", api, b"", 200),
             13),
            (("bare error_page redirect", "GET", "/ep", api, b"", 200),
             None),
            (("internal redirect: error_page", "GET", "/rep", api, b"", 200),
             15),
            (("warm JWT ES256, key from rbac_jwt_key_request (vs PEM)", "GET",
              "jwks:/ws", esj, b"", 200), 6),
        ]
        wanted = [i for i, (row, b) in enumerate(rows)
                  if not args.only or args.only in row[0]
                  or any(args.only in rows[j][0][0] for j in
                         range(len(rows)) if rows[j][1] == i)]
        # a row's baseline is measured with it
        todo = set(wanted)
        for i in wanted:
            if rows[i][1] is not None:
                todo.add(rows[i][1])
        todo.add(0)
        todo = sorted(todo)

        jobs = [(i, n) for i in todo for n in (args.n1, args.n2)]
        ir = {}
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
            futs = {ex.submit(measure, base, rport, rows[i][0], n): (i, n)
                    for i, n in jobs}
            for f in concurrent.futures.as_completed(futs):
                ir[futs[f]] = f.result()
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        shutil.rmtree(base, ignore_errors=True)

    per = {i: (ir[(i, args.n2)] - ir[(i, args.n1)]) / (args.n2 - args.n1)
           for i in todo}
    bare = per[0]
    out = ["| request | instructions/request | extra over bare GET "
           "| % of bare GET | extra over the same request, module off |",
           "|---|---|---|---|---|"]
    for i in todo:
        (name, *_), b = rows[i]
        if b is None:
            out.append("| %s | %.0f | %+.0f | %+.0f%% | |" % (
                name, per[i], per[i] - bare, 100 * (per[i] - bare) / bare))
            continue
        extra = per[i] - per[b]
        note = ""
        if "redirect" in name and 4 in per:
            note = " (%.2f decisions)" % (extra / (per[4] - per[1]))
        out.append("| %s | %.0f | %+.0f | %+.0f%% | %+.0f (%+.0f%% of bare)%s |"
                   % (name, per[i], per[i] - bare,
                      100 * (per[i] - bare) / bare, extra,
                      100 * extra / bare, note))
    out.append("")
    out.append("valgrind --tool=cachegrind --cache-sim=no, user-space "
               "instructions of one nginx process, (Ir(%d) - Ir(%d)) / %d "
               "keep-alive requests." % (args.n2, args.n1,
                                         args.n2 - args.n1))
    print("\n".join(out))


if __name__ == "__main__":
    sys.exit(main())
