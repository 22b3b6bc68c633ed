"""benchlib.py: what the benchmarks of bench/ share (bench_http.py,
bench_instr.py, bench_scale.py): the paths of the build, a redis-server in
clear text or over TLS, the records and keys every run seeds, nginx
started from a configuration template, wrk and its output, and what Redis
saw during a run (commands, reads, connections).

Redis is the integration tests' own RedisServer (tests/integration), and
its certificates are made as the TLS tests make theirs (tls_certs.Pki).
"""

import hashlib
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("RBAC_BUILD", os.path.join(ROOT, "build"))
MODULE = os.path.join(BUILD, "ngx_http_rbac_module.so")
HZ = os.sysconf("SC_CLK_TCK")

sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from redis_server import RedisServer, free_port  # noqa: E402
from tls_certs import Pki  # noqa: E402

API_TOKEN = "t1-bench-secret"      # token t1 of alice, seeded below

# The pieces of the nginx configuration templates of bench/ (format fields:
# module, dir, connections, what each bench adds).  HEAD: the main context; HTTP: the
# first lines of http{}; LOCATIONS: the rows that bench_http and
# bench_instr both measure, each in front of the static file /{page}.
HEAD = """
load_module {module};
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections {connections}; }}
"""

HTTP = """
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 600s;
"""

LOCATIONS = """
        location = /bare {{ try_files /{page} =404; }}
        location = /ws {{
            rbac on;
            rbac_object workspace id=w1;
            try_files /{page} =404;
        }}
        location ~ ^/acl/(\\w+)$ {{
            rbac on;
            rbac_object workspace id=$1;
            try_files /{page} =404;
        }}
        location = /post {{ try_files /{page} =404; }}
        location = /body {{
            rbac on;
            rbac_json_body 4k;
            rbac_object workspace org=orgA owner=me;
            rbac_action create;
            rbac_also template id=$rbac_body_template_id action=use;
            try_files /{page} =404;
        }}
        location /ix/ {{ index {page}; }}
        location /rix/ {{
            rbac on;
            rbac_object workspace id=w1;
            index {page};
        }}
"""


def wait_port(port, proc=None, seconds=30):
    """Until something accepts on 127.0.0.1:port (proc: fail if it
    exits first)."""
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


def wait_subscribed(rs, pid, seconds=60):
    """Until process pid holds a connection to rs that Redis counts as a
    subscriber: nginx's first SUBSCRIBE confirmation ends every cached
    decision, which a measured request must not pay for."""
    deadline = time.monotonic() + seconds
    r = rs.client()
    while time.monotonic() < deadline:
        out = subprocess.run(["ss", "-tnpH", "state", "established", "dport",
                              "=", ":%d" % rs.port], check=True,
                             capture_output=True, text=True).stdout
        mine = {line.split()[2] for line in out.splitlines()
                if "pid=%d," % pid in line}
        if any(c["addr"] in mine and "P" in c["flags"]
               for c in r.client_list()):
            return
        time.sleep(0.05)
    raise RuntimeError("process %d did not subscribe" % pid)


def start_redis(base, name="redis", tls=False, cpu=None):
    """A redis-server on loopback (TLS only with tls: --port 0 --tls-port,
    its CA and certificate made here), pinned to `cpu` if given.  .rbac is
    the address and options for rbac_redis; .client() a redis-py client."""
    d = os.path.join(base, name)
    conf = None
    if tls:
        pki = Pki(os.path.join(d, "pki"))
        cert, key = pki.leaf("server", ["localhost"], ["127.0.0.1"])
        conf = {"cert": cert, "key": key, "ca": pki.ca}
    rs = RedisServer(d, tls=conf).start()
    if cpu is not None:
        subprocess.run(["taskset", "-a", "-p", "-c", str(cpu),
                        str(rs.proc.pid)], check=True, capture_output=True)
    rs.rbac = "127.0.0.1:%d" % rs.port
    if tls:
        rs.rbac += " ssl ssl_trusted_certificate=" + pki.ca
    return rs


def put(r, key, value):
    r.set("rbac:" + key, json.dumps(value))


def seed(r, n_users=0, n_objs=0):
    """Orgs A and S, alice (API token t1), workspace w1 and template t1 in
    orgA, workspaces s1 and s1000 shared with alice by their ACL only
    (last of 1,000 users), users u<i> and workspaces o<i> of alice."""
    put(r, "org:orgA", {"id": "orgA", "name": "A",
                        "default_org_member_roles":
                            ["organization-workspace-access"]})
    put(r, "org:orgS", {"id": "orgS", "name": "S",
                        "default_org_member_roles": []})
    put(r, "user:alice", {"id": "alice", "orgs": {"orgA": [], "orgS": []}})
    put(r, "obj:workspace:w1", {"type": "workspace", "id": "w1",
                                "org": "orgA", "owner": "alice"})
    put(r, "obj:template:t1", {"type": "template", "id": "t1", "org": "orgA",
                               "acl_groups": {"orgA": "use"}})
    acl = {"u%d" % i: "use" for i in range(999)}
    acl["alice"] = "use"
    put(r, "obj:workspace:s1", {"type": "workspace", "id": "s1",
                                "org": "orgS", "owner": "bob",
                                "acl_users": {"alice": "use"}})
    put(r, "obj:workspace:s1000", {
        "type": "workspace", "id": "s1000", "org": "orgS", "owner": "bob",
        "acl_users": acl,
        "acl_groups": {"g%d" % i: "use" for i in range(50)}})
    put(r, "token:t1", {"id": "t1", "user": "alice", "secret_sha256":
                        hashlib.sha256(b"bench-secret").hexdigest()})
    p = r.pipeline(transaction=False)
    for i in range(n_users):
        p.set("rbac:user:u%d" % i, json.dumps({"id": "u%d" % i,
                                               "orgs": {"orgA": []}}))
    for i in range(n_objs):
        p.set("rbac:obj:workspace:o%d" % i, json.dumps(
            {"type": "workspace", "id": "o%d" % i, "org": "orgA",
             "owner": "alice"}))
    p.execute()


def b64url(b):
    import base64
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def keys(base, with_rsa=False):
    """Writes hs.key, es.pub, es.jwks (the ES256 key as kid "esj") and,
    with_rsa, rsa.pub into base; returns mint(sub, alg="HS256", kid=None),
    a token signed with the matching private key."""
    hs = os.urandom(32)
    with open(os.path.join(base, "hs.key"), "wb") as f:
        f.write(hs)
    priv = {"HS256": hs, "ES256": ec.generate_private_key(ec.SECP256R1())}
    if with_rsa:
        priv["RS256"] = rsa.generate_private_key(public_exponent=65537,
                                                 key_size=2048)
    for alg, name in (("ES256", "es.pub"), ("RS256", "rsa.pub")):
        if alg in priv:
            with open(os.path.join(base, name), "wb") as f:
                f.write(priv[alg].public_key().public_bytes(
                    serialization.Encoding.PEM,
                    serialization.PublicFormat.SubjectPublicKeyInfo))
    nums = priv["ES256"].public_key().public_numbers()
    with open(os.path.join(base, "es.jwks"), "w") as f:
        json.dump({"keys": [{"kty": "EC", "crv": "P-256", "kid": "esj",
                             "x": b64url(nums.x.to_bytes(32, "big")),
                             "y": b64url(nums.y.to_bytes(32, "big"))}]}, f)
    now = int(time.time())

    def mint(sub, alg="HS256", kid=None):
        claims = {"sub": sub, "iat": now, "exp": now + 7200}
        kid = kid or {"HS256": "hs", "ES256": "es", "RS256": "rs"}[alg]
        return jwt.encode(claims, priv[alg], alg, headers={"kid": kid})
    return mint


def body_1k():
    """A 1 KiB JSON body naming template t1."""
    body = json.dumps({"name": "w", "template_id": "t1",
                       "pad": "x" * 979}).encode()
    assert len(body) == 1024, len(body)
    return body


def static(page):
    """The static files behind LOCATIONS."""
    return ("html/" + page, "html/ix/" + page, "html/rix/" + page)


def write_files(d, paths, text):
    """Writes text into each of d/<path>, making the folders."""
    for p in paths:
        path = os.path.join(d, p)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


def write_conf(path, template, **kw):
    with open(path, "w") as f:
        f.write(template.format(module=MODULE, **kw))


class Nginx:
    """One nginx under base/name, from template formatted with module,
    dir, port, connections (1024) and kw; started pinned to CPU 0 (one
    worker)."""

    def __init__(self, base, name, template, **kw):
        self.dir = os.path.join(base, name)
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.conf = os.path.join(self.dir, "nginx.conf")
        self.template, self.kw = template, dict(connections=1024, **kw)

    def start(self):
        write_conf(self.conf, self.template, dir=self.dir, port=self.port,
                   **self.kw)
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
        """The worker's user + system CPU seconds."""
        f = open("/proc/%d/stat" % self.worker).read()
        fields = f[f.rindex(")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / HZ

    def stop(self):
        if os.path.exists(os.path.join(self.dir, "nginx.pid")):
            subprocess.run(["nginx", "-p", self.dir, "-c", self.conf, "-s",
                            "quit", "-e", os.path.join(self.dir, "error.log")],
                           capture_output=True)

    def get(self, path, token=None, timeout=10):
        c = http.client.HTTPConnection("127.0.0.1", self.port,
                                       timeout=timeout)
        c.request("GET", path, headers={"Authorization": "Bearer " + token}
                  if token else {})
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, body

    def status(self):
        return json.loads(self.get("/status")[1])


def latency(out, pct):
    """The pct% latency of wrk --latency output, in µs."""
    m = re.search(r"%s%%\s+([\d.]+)(us|ms|s)\b" % pct, out)
    return float(m.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6}[m.group(2)]


def wrk(url, seconds, options=(), script_args=()):
    """wrk, 1 thread on CPU 1, 16 connections: its requests, requests/s,
    p50 and p99 (µs) and non-2xx/3xx answers."""
    args = ["taskset", "-c", "1", "wrk", "-t1", "-c16", "-d%ds" % seconds,
            "--latency"] + list(options) + [url]
    if script_args:
        args += ["--"] + list(script_args)
    out = subprocess.run(args, check=True, capture_output=True, text=True,
                         timeout=seconds + 60).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"out": out,
            "reqs": int(re.search(r"(\d+) requests in", out).group(1)),
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)
                         .group(1)),
            "p50": latency(out, 50), "p99": latency(out, 99),
            "non2xx": int(non2xx.group(1)) if non2xx else 0}


def commands(r):
    """Commands Redis ran so far, but INFO and PUBLISH (the bench's)."""
    return sum(v["calls"] for k, v in r.info("commandstats").items()
               if k not in ("cmdstat_info", "cmdstat_publish"))


def traffic(r):
    """What Redis saw so far: commands (as above), reads of a client's
    socket (one per round trip of a client that sends a whole request at
    once) and connections accepted."""
    st = r.info("stats")
    return {"commands": commands(r), "reads": st["total_reads_processed"],
            "connections": st["total_connections_received"]}


def traffic_since(r, before):
    """traffic(r) minus before, less the reads of the two INFO calls made
    by traffic() since."""
    now = traffic(r)
    d = {k: now[k] - before[k] for k in now}
    d["reads"] -= 2
    return d
