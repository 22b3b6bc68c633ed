"""Fixtures for the module's integration tests: a real nginx (the stock
Debian binary with build/ngx_http_rbac_module.so loaded), a throwaway
redis-server and a loopback upstream that echoes what it received.

Every test gets its own ports and its own nginx prefix under pytest's
tmp_path.  At teardown nginx is stopped with SIGQUIT and the test fails if
error.log holds an [alert], [crit] or [emerg] line, an "open socket" left
behind, or any sanitizer report.

RBAC_SANITIZE=asan   load build/asan/ngx_http_rbac_module.so into the stock
                     nginx with libasan LD_PRELOADed (make test-asan)
RBAC_SANITIZE=valgrind  run nginx under valgrind, master_process off
                     (make test-valgrind); multi-worker tests are skipped
"""

import base64
import glob
import hashlib
import http.server
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

import jwt as pyjwt
import pytest
import requests

from redis_server import RedisServer, free_port

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("RBAC_BUILD", os.path.join(ROOT, "build"))
SANITIZE = os.environ.get("RBAC_SANITIZE", "")
NGINX = os.environ.get("RBAC_NGINX", "/usr/sbin/nginx")

if SANITIZE == "asan":
    MODULE = os.path.join(BUILD, "asan", "ngx_http_rbac_module.so")
else:
    MODULE = os.path.join(BUILD, "ngx_http_rbac_module.so")

# Valgrind makes everything several times slower: scale waits, not asserts
# on behaviour.
SLOW = 8 if SANITIZE == "valgrind" else 1

BAD_LOG = re.compile(r"\[(alert|crit|emerg)\]|open socket|Sanitizer|"
                     r"runtime error:")


def libasan():
    return subprocess.check_output(["gcc", "-print-file-name=libasan.so"],
                                   text=True).strip()


def nginx_env(prefix):
    env = dict(os.environ)
    if SANITIZE == "asan":
        env["LD_PRELOAD"] = libasan()
        env["ASAN_OPTIONS"] = ("log_path=%s/asan:detect_leaks=0:"
                               "abort_on_error=0" % prefix)
        env["UBSAN_OPTIONS"] = "log_path=%s/ubsan:print_stacktrace=1" % prefix
    return env


# --------------------------------------------------------------------------
# The echo upstream

class EchoHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        received = self.rfile.read(length) if length else b""
        body = json.dumps({
            "method": self.command,
            "path": self.path,
            "body_sha256": hashlib.sha256(received).hexdigest(),
            "headers": [[k, v] for k, v in self.headers.items()],
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _answer

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def upstream():
    """Port of a loopback HTTP server answering every request with the JSON
    of what it received: {"method", "path", "headers": [[name, value]...]}."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def upstream_headers(resp, name):
    """Every value of header `name` the upstream received."""
    return [v for k, v in resp.json()["headers"] if k.lower() == name.lower()]


# --------------------------------------------------------------------------
# nginx

CONF = """
load_module {module};
user root;
worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
{main}
events {{ worker_connections 512; }}

http {{
    log_format rbac '$request $status user=$rbac_user kind=$rbac_kind '
                    'decision=$rbac_decision reason="$rbac_reason" '
                    'cache=$rbac_cache org=$rbac_org roles=$rbac_roles';
    access_log {prefix}/access.log rbac;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;

{http}

    server {{
        listen 127.0.0.1:{port};
        root {prefix}/html;

{server}
    }}
}}
"""


class Nginx:
    def __init__(self, prefix, http, server, workers=1, main=""):
        self.prefix = str(prefix)
        self.port = free_port()
        self.workers = workers
        os.makedirs(os.path.join(self.prefix, "tmp"), exist_ok=True)
        os.makedirs(os.path.join(self.prefix, "html"), exist_ok=True)
        with open(os.path.join(self.prefix, "html", "index.html"), "w") as f:
            f.write("static\n")
        self.conf = os.path.join(self.prefix, "nginx.conf")
        self.error_log = os.path.join(self.prefix, "error.log")
        self.access_log = os.path.join(self.prefix, "access.log")
        text = CONF.format(module=MODULE, workers=workers, prefix=self.prefix,
                           main=main, http=http, server=server,
                           port=self.port)
        with open(self.conf, "w") as f:
            f.write(text)
        self.proc = None
        self.pid = None
        self.running = False

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def cmd(self, *extra):
        return [NGINX, "-p", self.prefix, "-c", self.conf,
                "-e", self.error_log] + list(extra)

    def test_config(self):
        """Runs nginx -t; returns (exit code, stderr text)."""
        p = subprocess.run(self.cmd("-t"), env=nginx_env(self.prefix),
                           capture_output=True, text=True, timeout=60)
        return p.returncode, p.stderr + p.stdout

    def start(self):
        if SANITIZE == "valgrind":
            args = ["valgrind", "--leak-check=full",
                    "--errors-for-leak-kinds=definite", "--error-exitcode=99",
                    "--log-file=%s/valgrind.log" % self.prefix,
                    "--suppressions=%s/tests/valgrind.supp" % ROOT] + \
                self.cmd("-g", "daemon off; master_process off;")
            self.proc = subprocess.Popen(args, env=nginx_env(self.prefix))
        else:
            p = subprocess.run(self.cmd(), env=nginx_env(self.prefix),
                               capture_output=True, text=True, timeout=60)
            if p.returncode != 0:
                raise RuntimeError("nginx did not start:\n" + p.stderr +
                                   self.log())
        deadline = time.monotonic() + 10 * SLOW
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                break
            except OSError:
                if self.proc is not None and self.proc.poll() is not None:
                    raise RuntimeError("nginx exited:\n" + self.log())
                time.sleep(0.02)
        else:
            raise RuntimeError("nginx did not listen:\n" + self.log())
        if self.proc is None:
            with open(os.path.join(self.prefix, "nginx.pid")) as f:
                self.pid = int(f.read())
        self.running = True
        return self

    def log(self):
        try:
            with open(self.error_log) as f:
                return f.read()
        except OSError:
            return ""

    def access(self):
        try:
            with open(self.access_log) as f:
                return f.read()
        except OSError:
            return ""

    def access_line(self, needle, timeout=3):
        """The last access-log line containing `needle`, waiting for it
        (nginx writes the log after the response has gone out)."""
        deadline = time.monotonic() + timeout * SLOW
        while True:
            lines = [l for l in self.access().splitlines() if needle in l]
            if lines:
                return lines[-1]
            if time.monotonic() > deadline:
                raise AssertionError("no access-log line with %r" % needle)
            time.sleep(0.02)

    def stop(self):
        """Graceful quit; returns the problems found (empty when clean)."""
        problems = []
        self.running = False
        if self.proc is not None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                rc = self.proc.wait(30 * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait()
                problems.append("nginx did not quit")
            if rc == 99:
                with open(os.path.join(self.prefix, "valgrind.log")) as f:
                    problems.append("valgrind:\n" + f.read())
            self.proc = None
        elif self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGQUIT)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    os.kill(self.pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.02)
            else:
                os.kill(self.pid, signal.SIGKILL)
                problems.append("nginx did not quit")
            self.pid = None
        bad = [l for l in self.log().splitlines() if BAD_LOG.search(l)]
        if bad:
            problems.append("error.log:\n" + "\n".join(bad))
        for f in glob.glob(os.path.join(self.prefix, "asan*")) + \
                glob.glob(os.path.join(self.prefix, "ubsan*")):
            with open(f) as fh:
                problems.append("%s:\n%s" % (f, fh.read()))
        return problems

    def get(self, path, token=None, headers=None, method="GET", **kw):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        kw.setdefault("timeout", 10 * SLOW)
        return requests.request(method, self.url + path, headers=h, **kw)


@pytest.fixture
def nginx(tmp_path):
    """nginx(http=..., server=..., workers=1) starts an nginx whose conf
    holds those fragments; it is stopped and its log checked at teardown."""
    started = []

    def start(http="", server="", workers=1, main="", run=True):
        if SANITIZE == "valgrind" and workers > 1:
            pytest.skip("multi-worker test under valgrind")
        n = Nginx(tmp_path / ("nginx%d" % len(started)), http, server,
                  workers, main)
        started.append(n)
        if run:
            n.start()
        return n

    yield start

    problems = []
    for n in started:
        if n.running:
            problems += n.stop()
    if problems:
        pytest.fail("\n".join(problems))


@pytest.fixture
def redis(tmp_path):
    """A redis-server of the test's own; .client() is a redis-py client."""
    rs = RedisServer(tmp_path / "redis")
    rs.start()
    yield rs
    rs.stop()


# --------------------------------------------------------------------------
# Records (the JSON of docs/records.md §2)

def put(r, key, value, prefix="rbac:"):
    r.set(prefix + key, json.dumps(value))


def user(r, uid, orgs=None, site_roles=(), kind="user", status="active",
         groups=()):
    put(r, "user:" + uid, {"id": uid, "kind": kind, "status": status,
                           "site_roles": list(site_roles),
                           "orgs": orgs or {}, "groups": list(groups)})


def org(r, oid, share="everyone", default_roles=()):
    put(r, "org:" + oid, {"id": oid, "name": oid,
                          "shareable_workspace_owners": share,
                          "default_org_member_roles": list(default_roles)})


def obj(r, type_, oid, org_, owner="", acl_users=None, acl_groups=None,
        **extra):
    rec = {"type": type_, "id": oid, "org": org_, "owner": owner,
           "acl_users": acl_users or {}, "acl_groups": acl_groups or {}}
    rec.update(extra)
    put(r, "obj:%s:%s" % (type_, oid), rec)


def sha256_hex(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token(r, tid, uid, secret="s3cret-value", expires_at=0, scopes=None,
              allow_list=None):
    rec = {"id": tid, "user": uid, "secret_sha256": sha256_hex(secret),
           "expires_at": expires_at}
    if scopes is not None:
        rec["scopes"] = scopes
    if allow_list is not None:
        rec["allow_list"] = allow_list
    put(r, "token:" + tid, rec)
    return "%s-%s" % (tid, secret)


def pkey(r, kid, org_, secret="pk-secret"):
    put(r, "pkey:" + kid, {"id": kid, "org": org_, "name": kid, "tags": {},
                           "secret_sha256": sha256_hex(secret)})
    return "%s-%s" % (kid, secret)


# --------------------------------------------------------------------------
# JWTs

HS_SECRET = b"0123456789abcdef0123456789abcdef-test-secret"


@pytest.fixture
def keys(tmp_path):
    """Key files: hs (HS256 secret), rsa_pub/rsa_priv (PEM), ec_pub/ec_priv."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    d = tmp_path / "keys"
    d.mkdir()
    out = {}
    (d / "hs.key").write_bytes(HS_SECRET)
    out["hs"] = str(d / "hs.key")

    rk = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pub = rk.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo)
    (d / "rsa.pub").write_bytes(pub)
    out["rsa_pub"] = str(d / "rsa.pub")
    out["rsa_pub_pem"] = pub
    out["rsa_priv"] = rk.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())

    ek = ec.generate_private_key(ec.SECP256R1())
    (d / "ec.pub").write_bytes(ek.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo))
    out["ec_pub"] = str(d / "ec.pub")
    out["ec_priv"] = ek.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    return out


def jwt_hs(sub="u1", secret=HS_SECRET, alg="HS256", exp_in=300, headers=None,
           **claims):
    import jwt
    now = int(time.time())
    payload = {"iat": now}
    if sub is not None:
        payload["sub"] = sub
    if exp_in is not None:
        payload["exp"] = now + exp_in
    payload.update(claims)
    return jwt.encode(payload, secret, algorithm=alg, headers=headers)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_raw(header, payload, key=b""):
    """A JWT assembled by hand (alg none, HMAC with any key bytes): how the
    forgeries of docs/security.md §3 are made without a library's safety
    checks.
    A str payload is signed as it is (JSON no encoder would write)."""
    import hmac
    h = b64url(json.dumps(header).encode())
    if not isinstance(payload, str):
        payload = json.dumps(payload)
    p = b64url(payload.encode())
    signing = ("%s.%s" % (h, p)).encode()
    if header.get("alg") == "none":
        return "%s.%s." % (h, p)
    sig = hmac.new(key, signing, hashlib.sha256).digest()
    return "%s.%s.%s" % (h, p, b64url(sig))


# --------------------------------------------------------------------------
# Common configuration

def http_conf(redis_port, extra="", timeout="300ms", jwt_key=None):
    conf = "    rbac_redis 127.0.0.1:%d timeout=%s;\n" % (redis_port, timeout)
    if jwt_key is not None:
        conf += "    rbac_jwt_key %s alg=HS256;\n" % jwt_key
    return conf + extra


def proxy(upstream_port):
    return "proxy_pass http://127.0.0.1:%d;" % upstream_port


# --------------------------------------------------------------------------
# Shared by the test files

def tok(sub="alice"):
    """An HS256 token of HS_SECRET for `sub`, valid for five minutes."""
    now = int(time.time())
    return pyjwt.encode({"sub": sub, "exp": now + 300, "iat": now},
                        HS_SECRET, algorithm="HS256")


def wait_for(fn, timeout, step=0.05):
    """fn() until it is true, at most `timeout` seconds (the caller scales
    them by SLOW where it should) and the tries that fit in them; whether
    it became true."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / step) + 2):
        if fn():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return False


def seed_workspace(r, owner="alice"):
    """orgA (default role organization-workspace-access), its members alice
    and bob, and workspace w1 in it owned by `owner`."""
    put(r, "org:orgA", {"id": "orgA", "name": "A",
                        "default_org_member_roles":
                            ["organization-workspace-access"]})
    put(r, "user:alice", {"id": "alice", "orgs": {"orgA": []}})
    put(r, "user:bob", {"id": "bob", "orgs": {"orgA": []}})
    put(r, "obj:workspace:w1", {"type": "workspace", "id": "w1",
                                "org": "orgA", "owner": owner})


def pid_gone(pid):
    """Whether no process has this pid any more (an old nginx worker)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def read_to_close(s):
    """Everything socket s receives until the peer closes; closes s."""
    got = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    s.close()
    return got


def rbacctl(*args, timeout=60, env=None):
    """build/rbacctl with args; the CompletedProcess, text output."""
    return subprocess.run([os.path.join(BUILD, "rbacctl")] + list(args),
                          capture_output=True, text=True, timeout=timeout,
                          env=env)


def rbacctl_on(rs, *args):
    """rbacctl with args against the RedisServer rs (RBAC_REDIS)."""
    return rbacctl(*args, timeout=30, env=dict(os.environ, RBAC_REDIS=rs.url))
