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

Each row is measured beside its twin: the same request (location, headers,
body) with every "rbac on" of the configuration turned off.  The row's
extra is the difference, printed also as a percentage of a bare GET of a
3-byte static file.  Rows with an internal redirect also say how many
decisions that is: their extra over the one of "warm API token", which
decides the same workspace for the same token without a redirect.

Rows "..., Redis over TLS" are the same request with rbac_redis reaching
a redis-server that listens with TLS only (--port 0 --tls-port, a CA and
certificate made here), next to their clear-text row; the "cold" rows ask
for a workspace never seen (request k: workspace o<k>), so every request
reads it from Redis once the connection is up.  A last table counts, for
those and for nginx without a cache zone, what Redis sees per request
(nginx without valgrind): commands, reads of a client socket (round
trips) and new connections, in clear text and over TLS.

    bench/bench_instr.py [--n1 200] [--n2 1200] [--only NAME] [--jobs 2]

With RBAC_PROFILE=DIR the runs use callgrind instead and leave their
profiles in DIR (callgrind_annotate DIR/callgrind.<row>.<n>).
"""

import argparse
import concurrent.futures
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

from benchlib import (API_TOKEN, HEAD, HTTP, LOCATIONS, body_1k, static,
                      free_port, keys, start_redis, seed, traffic,
                      traffic_since, wait_port, wait_subscribed, write_conf,
                      write_files)

PROFILE = os.environ.get("RBAC_PROFILE")   # a directory: callgrind there
PAGE = "f.txt"                             # the static file, 3 bytes


CONF = HEAD + """
master_process off;
daemon off;
http {{""" + HTTP + """
    rbac_redis {redis} timeout=10s;
    rbac_jwt_key {base}/hs.key alg=HS256 kid=hs;
    rbac_jwt_key {base}/es.pub alg=ES256 kid=es;
    {zone}
    server {{
        listen 127.0.0.1:{port};
        root {base}/html;
        {keep}
""" + LOCATIONS + """
        location = /rtf {{
            rbac on;
            rbac_object workspace id=w1;
            try_files /nope /rix/{page};
        }}
        location = /rep {{
            rbac on;
            rbac_object workspace id=w1;
            error_page 404 = /rix/{page};
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
            try_files /{page} =404;
        }}
    }}
}}
"""


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


ZONE = "rbac_cache_zone bench:16m ttl=3600s stale=3600s;"


def serve(base, servers, row, n, tool=None, between=None):
    """One nginx (under `tool`, a valgrind command line, if given) serving
    5 warm-up requests of the row, then n more on the same keep-alive
    connection; between(): called after the warm-up, its result and the
    nginx run directory returned."""
    name, method, path, token, body, want, *opt = row
    opt = opt[0] if opt else {}
    d = tempfile.mkdtemp(prefix="run-", dir=base)
    port = free_port()
    conf = os.path.join(d, "nginx.conf")
    # 64 connections as ever: 1024 adds some 70 instructions to each request
    # off: every rbac on of CONF turned off, but for {keep}, a location
    # never asked that keeps the module's Redis link (and the timers that
    # let a process under valgrind see SIGQUIT) as in the row itself
    text = CONF.replace("rbac on;", "rbac off;") if opt.get("off") else CONF
    write_conf(conf, text, dir=d, base=base, port=port, page=PAGE,
               keep="location = /_keep { rbac on; return 204; }",
               connections=64,
               redis=servers[opt.get("redis", "clear")].rbac,
               zone=ZONE if opt.get("zone", True) else "")
    proc = subprocess.Popen(
        (tool or []) + ["nginx", "-p", d, "-c", conf, "-e",
                        os.path.join(d, "error.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen = None
    try:
        wait_port(port, proc, 60)
        if opt.get("zone", True):
            wait_subscribed(servers[opt.get("redis", "clear")], proc.pid)
        sock = socket.create_connection(("127.0.0.1", port), 60)
        buf = b""
        for k in range(5 + n):          # 5 to warm: Redis, cache, memo
            if k == 5 and between:
                seen = between()
            # a cold row asks for a record never seen: its {i} is k
            req = request(method, path.format(i=k) if opt.get("cold")
                          else path, token, body)
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
    return seen, d


def measure(base, servers, row, n):
    """Ir of one nginx run: warm-up, then n requests of the row."""
    out = os.path.join(base, "cg.%s.%d" % (re.sub(r"\W+", "_", row[0]), n))
    tool = ["--tool=cachegrind", "--cache-sim=no",
            "--cachegrind-out-file=" + out]
    if PROFILE:
        # callgrind, its output kept: callgrind_annotate shows where it goes
        out = os.path.join(PROFILE, "callgrind.%s.%d" % (
            re.sub(r"\W+", "_", row[0]), n))
        tool = ["--tool=callgrind", "--callgrind-out-file=" + out]
    serve(base, servers, row, n, ["valgrind"] + tool + ["--log-file=" + out +
                                                      ".log"])
    with open(out + ".log") as f:
        m = re.search(r"(?:I\s+refs|Collected)\s*:\s+([\d,]+)", f.read())
    if not m:
        raise RuntimeError("%s: no instruction count" % row[0])
    return int(m.group(1).replace(",", "")), 0 if PROFILE else allocator(out)


def allocator(out):
    """Ir spent inside glibc's allocator (malloc.c: malloc, free and their
    bins), from a cachegrind output file."""
    total, inside = 0, False
    with open(out) as f:
        for line in f:
            if line.startswith("fl="):
                inside = line.rstrip().endswith("malloc/malloc.c")
            elif inside and line[:1].isdigit():
                total += int(line.split()[1])
    return total


def round_trips(base, servers, row, n):
    """What Redis saw per request of the row (nginx alone, no valgrind)
    once the connection is up: commands, reads (round trips), new
    connections."""
    r = servers[(row[6] if len(row) > 6 else {}).get("redis", "clear")]
    r = r.client()
    before = {}

    def snap():
        before.update(traffic(r))
    serve(base, servers, row, n, between=snap)
    d = traffic_since(r, before)
    return {k: v / n for k, v in d.items()}


# (name, method, path, token, body, status[, options]): options "redis":
# "tls" (rbac_redis over TLS), "zone": False (no rbac_cache_zone), "cold":
# True (request k asks path.format(i=k): a record never seen), "off": True
# (every "rbac on" of the configuration turned off)
CLEAR_TLS = [
    ("cold: workspace never seen, API token", "GET", "/acl/o{i}",
     API_TOKEN, b"", 200, {"cold": True}),
    ("cold: workspace never seen, API token, Redis over TLS", "GET",
     "/acl/o{i}", API_TOKEN, b"", 200, {"cold": True, "redis": "tls"}),
    ("no cache zone, API token", "GET", "/ws", API_TOKEN, b"", 200,
     {"zone": False}),
    ("no cache zone, API token, Redis over TLS", "GET", "/ws", API_TOKEN,
     b"", 200, {"zone": False, "redis": "tls"}),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n1", type=int, default=200)
    ap.add_argument("--n2", type=int, default=1200)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", help="rows whose name contains this")
    args = ap.parse_args()

    base = tempfile.mkdtemp(prefix="rbac-instr-")
    servers = {}
    try:
        write_files(base, static(PAGE), "ok\n")
        for kind in ("clear", "tls"):
            servers[kind] = start_redis(base, "redis-" + kind,
                                        tls=kind == "tls")
            seed(servers[kind].client(), n_objs=args.n2 + 5)
        mint = keys(base)
        hs, es = mint("alice"), mint("alice", "ES256")
        esj = mint("alice", "ES256", kid="esj")
        api = API_TOKEN
        body = body_1k()

        # (name, method, path, token, body, status[, options]) as above;
        # a row with a baseline (True) is measured against its twin: the
        # same request (same location, headers and body) with rbac off
        rows = [
            (("bare GET, static 3-byte file", "GET", "/bare", None, b"",
              200), False),
            (("warm API token", "GET", "/ws", api, b"", 200), True),
            (("warm JWT HS256", "GET", "/ws", hs, b"", 200), True),
            (("warm JWT ES256", "GET", "/ws", es, b"", 200), True),
            (("shared workspace, ACL of 1 user", "GET", "/acl/s1", api, b"",
              200), True),
            (("shared workspace, ACL of 1,000 users + 50 groups", "GET",
              "/acl/s1000", api, b"", 200), True),
            (("rbac_json_body 1 KiB + rbac_also (405)", "POST", "/body", api,
              body, 405), True),
            (("internal redirect: index", "GET", "/rix/", api, b"", 200),
             True),
            (("internal redirect: try_files", "GET", "/rtf", api, b"", 200),
             True),
            (("internal redirect: error_page", "GET", "/rep", api, b"", 200),
             True),
            (("warm JWT ES256, key from rbac_jwt_key_request (vs PEM)", "GET",
              "jwks:/ws", esj, b"", 200), True),
            (("warm API token, Redis over TLS", "GET", "/ws", api, b"", 200,
              {"redis": "tls"}), True),
            (CLEAR_TLS[0], True),
            (CLEAR_TLS[1], True),
        ]
        # each twin after the rows: index i + len(rows) is row i's
        twins = []
        for row, b in rows:
            opt = dict(row[6]) if len(row) > 6 else {}
            opt["off"] = True
            twins.append((row[0] + ", module off",) + row[1:6] + (opt,))
        wanted = [i for i, (row, b) in enumerate(rows)
                  if not args.only or args.only in row[0]]
        todo = {0}
        for i in wanted:
            todo.add(i)
            if rows[i][1]:
                todo.add(i + len(rows))
        if any("redirect" in rows[i][0][0] for i in wanted):
            todo.update((1, 1 + len(rows)))    # a decision: warm API token
        todo = sorted(todo)
        every = [row for row, b in rows] + twins

        jobs = [(i, n) for i in todo for n in (args.n1, args.n2)]
        ir = {}
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
            futs = {ex.submit(measure, base, servers, every[i], n): (i, n)
                    for i, n in jobs}
            for f in concurrent.futures.as_completed(futs):
                ir[futs[f]] = f.result()
        # one after the other: each reads its Redis's counters alone
        trips = [(row, round_trips(base, servers, row, args.n1))
                 for row in CLEAR_TLS
                 if not args.only or args.only in row[0]]
    finally:
        for s in servers.values():
            s.stop()
        shutil.rmtree(base, ignore_errors=True)

    n = args.n2 - args.n1
    per = {i: (ir[(i, args.n2)][0] - ir[(i, args.n1)][0]) / n for i in todo}
    # the same without glibc's allocator (see the note printed below)
    own = {i: per[i] - (ir[(i, args.n2)][1] - ir[(i, args.n1)][1]) / n
           for i in todo}
    bare = per[0]
    names = {every[i][0]: i for i in todo}
    out = ["| request | instructions/request | module off | extra "
           "| % of bare GET | extra outside malloc |",
           "|---|---|---|---|---|---|"]

    def extra(m, i):
        return m[i] - m[i + len(rows)]
    unit = [extra(m, 1) if 1 in m else None for m in (per, own)]
    for i in todo:
        if i >= len(rows):
            continue
        (name, *_), b = rows[i]
        if not b:
            out.append("| %s | %.0f | | | | |" % (name, per[i]))
            continue
        x, y = extra(per, i), extra(own, i)
        note = ["", ""]
        if "redirect" in name and unit[0]:
            note = [" (%.2f decisions)" % (x / unit[0]),
                    " (%.2f decisions)" % (y / unit[1])]
        # a cold row's own allocations (Redis replies) are malloc's too
        cold = len(rows[i][0]) > 6 and rows[i][0][6].get("cold")
        out.append("| %s | %.0f | %.0f | %+.0f%s | %+.0f%% | %s |"
                   % (name, per[i], per[i + len(rows)], x, note[0],
                      100 * x / bare,
                      "" if cold else "%+.0f%s" % (y, note[1])))
    out.append("")
    out.append("valgrind --tool=cachegrind --cache-sim=no, user-space "
               "instructions of one nginx process, (Ir(%d) - Ir(%d)) / %d "
               "keep-alive requests." % (args.n2, args.n1,
                                         args.n2 - args.n1))
    out.append("Outside malloc (warm rows): without the instructions "
               "inside glibc's malloc.c.  A warm row and its twin make the "
               "same malloc and free calls (nginx's pool blocks and header "
               "buffer; callgrind counts them); what a call costs depends "
               "on where earlier blocks lie in the heap, which differs "
               "between two configurations by a few hundred instructions "
               "a request, either way.")
    for clear, tls in (("warm API token", "warm API token, Redis over TLS"),
                       (CLEAR_TLS[0][0], CLEAR_TLS[1][0])):
        if clear in names and tls in names:
            c, t = per[names[clear]], per[names[tls]]
            out.append("Redis over TLS, %s: %+.0f instructions per request "
                       "over clear text (%+.1f%%)." % (
                           clear, t - c, 100 * (t - c) / c))
    if trips:
        out.append("")
        out.append("Redis per request, once the connection is up (%d "
                   "requests after 5, nginx without valgrind; reads: of a "
                   "client's socket by Redis, one per round trip):"
                   % args.n1)
        out.append("")
        out.append("| request | commands | reads (round trips) | "
                   "new connections |")
        out.append("|---|---|---|---|")
        for row, t in trips:
            out.append("| %s | %.2f | %.2f | %.2f |" % (
                row[0], t["commands"], t["reads"], t["connections"]))
    print("\n".join(out))


if __name__ == "__main__":
    sys.exit(main())
