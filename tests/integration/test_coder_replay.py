"""conf-examples/coder-front.conf replayed against Coder's own route table.

tests/coder/routes.tsv holds every route of Coder's API (coder/coder at
655a36c3) with the object type and action Coder checks and how the target
is named.  A go-chi upstream (tests/coder/upstream, built from Debian's Go
packages) registers the same 284 routes and answers with the pattern it
matched.  For every route, in every spelling Coder accepts for its ids and
names:

- a caller holding exactly the route's (type, action), through a custom site
  role and nothing else, reaches the upstream on that very route, and the
  upstream reads the id nginx decided on;
- a caller without it (a member of another organization) gets 403 and the
  upstream sees nothing;
- public routes answer without a credential; session routes want one;
- a websocket opens where allowed and is refused before the upgrade where
  not.

The coverage (routes checked with Coder's type and action) is printed.
"""

import base64
import collections
import hashlib
import itertools
import json
import os
import re
import socket
import subprocess
import time
import uuid

import jwt as pyjwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import BUILD, MODULE, ROOT, SLOW, Nginx, RedisServer, free_port

CONF = os.path.join(ROOT, "conf-examples", "coder-front.conf")
ROUTES = os.path.join(ROOT, "tests", "coder", "routes.tsv")
UPSTREAM = os.path.join(BUILD, "coder-upstream")
ISS = "https://idp.megaco.example"

# Coder's built-in `member` site role grants these to every user: no caller
# lacks them, so their "without" check is a request with no credential.
MEMBER_SITE = {("assign_role", "read"), ("oauth2_app", "read"),
               ("workspace_proxy", "read")}

# Routes where Coder checks an object the proxy cannot name (docs/
# coder-front.md, "Routes decided by Coder"): a session here.
DECIDED_BY_CODER = {("GET", "/api/v2/files/{fileID}")}


def U(n):
    return str(uuid.UUID(int=0xC0DE0000 << 96 | n))


ORG_A, ORG_B = U(1), U(2)
RITA, WALT, XENA, SAM, OLGA = U(11), U(12), U(13), U(14), U(15)
AUDREY, SA_CI = U(16), U(17)
WS, TPL, GRP, TPL_OLD = U(21), U(22), U(23), U(24)
BUILD_ID, VERSION, AGENT = U(31), U(32), U(33)
OTHER = U(99)            # a UUID for segments that name no decided object

# A provisioner key as Coder issues it: 43 characters of base64url.
PKEY = base64.urlsafe_b64encode(hashlib.sha256(b"replay").digest()
                                ).decode().rstrip("=")
PKEY_HASH = hashlib.sha256(PKEY.encode()).hexdigest()


def load_routes():
    rows = []
    with open(ROUTES) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            c = line.rstrip("\n").split("\t")
            rows.append(dict(method=c[0], path=c[1], cls=c[2], type=c[3],
                             action=c[4], target=c[5], coder=c[6],
                             slash=c[8], note=c[9] if len(c) > 9 else ""))
    return rows


ROUTE_ROWS = load_routes()


def pairs():
    seen = []
    for r in ROUTE_ROWS:
        if r["cls"] != "object":
            continue
        for a in r["action"].split("|"):
            if (r["type"], a) not in seen:
                seen.append((r["type"], a))
    return seen


# What Coder checks besides the route's own pair, held by that pair's user:
# a new workspace's template must be usable; /debug needs debug_info read.
EXTRA = {("workspace", "create"): [("template", "use")],
         ("deployment_config", "update"): [("debug_info", "read")]}


def pair_user(p):
    return ("p-%s-%s" % p).replace("_", "-")


def policy():
    """The decision table: orgs A (the default, "acme") and B; rita holds
    every pair (a custom site role), walt is a member of B only, xena of A
    owns the objects; one user per pair holds only that pair."""
    perms = [{"resource_type": t, "action": a, "negate": False}
             for t, a in pairs()]
    roles = [{"name": "replay-all", "organization_id": "",
              "display_name": "Replay", "site_permissions": perms,
              "user_permissions": []}]
    users = [
        {"id": RITA, "username": "rita", "kind": "user", "status": "active",
         "site_roles": ["replay-all"], "orgs": {ORG_A: []}, "groups": []},
        {"id": WALT, "username": "walt", "kind": "user", "status": "active",
         "site_roles": [], "orgs": {ORG_B: []}, "groups": []},
        {"id": XENA, "username": "xena", "kind": "user", "status": "active",
         "site_roles": [], "orgs": {ORG_A: ["organization-workspace-access"]},
         "groups": []},
        {"id": SAM, "username": "sam", "kind": "user", "status": "active",
         "site_roles": [], "orgs": {ORG_A: []}, "groups": []},
        {"id": OLGA, "username": "olga", "kind": "user", "status": "active",
         "site_roles": [], "orgs": {ORG_A: []}, "groups": []},
        {"id": AUDREY, "username": "audrey", "kind": "user",
         "status": "active", "site_roles": [],
         "orgs": {ORG_A: ["organization-auditor"]}, "groups": []},
        {"id": SA_CI, "username": "sa-ci", "kind": "service_account",
         "status": "active", "site_roles": [],
         "orgs": {ORG_A: ["organization-admin"]}, "groups": []},
    ]
    for i, p in enumerate(pairs()):
        name = pair_user(p)
        roles.append({"name": name, "organization_id": "",
                      "display_name": name,
                      "site_permissions": [
                          {"resource_type": t, "action": a, "negate": False}
                          for t, a in [p] + EXTRA.get(p, [])],
                      "user_permissions": []})
        users.append({"id": U(1000 + i), "username": name, "kind": "user",
                      "status": "active", "site_roles": [name],
                      "orgs": {ORG_A: []}, "groups": []})
    return {
        "organizations": [
            {"id": ORG_A, "name": "acme", "default": True,
             "shareable_workspace_owners": "everyone",
             "default_org_member_roles": []},
            {"id": ORG_B, "name": "bravo",
             "shareable_workspace_owners": "everyone",
             "default_org_member_roles": []}],
        "groups": [{"id": GRP, "org": ORG_A, "name": "Devs",
                    "source": "manual"}],
        "users": users,
        "roles": roles,
        "objects": [
            {"type": "workspace", "id": WS, "name": "dev", "org": ORG_A,
             "owner": XENA, "acl_users": {SAM: "use"},
             "apps": {"code": "owner", "docs": "organization",
                      "site": "public"}},
            {"type": "template", "id": TPL, "name": "tpl", "org": ORG_A,
             "acl_groups": {}},
            {"type": "group", "id": GRP, "org": ORG_A},
            {"type": "template", "id": TPL_OLD, "name": "old", "org": ORG_A,
             "acl_groups": {}, "deprecated": {
                 "message": "moved to tpl", "link": "https://wiki/tpl"}}],
        "provisioner_keys": [
            {"id": PKEY_HASH, "org": ORG_A, "name": "eks",
             "secret_sha256": PKEY_HASH}],
        "references": [
            {"ref": "build:" + BUILD_ID, "type": "workspace", "id": WS},
            {"ref": "version:" + VERSION, "type": "template", "id": TPL},
            {"ref": "agent:" + AGENT, "type": "workspace", "id": WS}],
    }


# --------------------------------------------------------------------------
# Spellings

def uuid_spellings(u):
    """Every spelling uuid.Parse accepts, as (label, text)."""
    return [("canonical", u), ("upper", u.upper()), ("braces", "{%s}" % u),
            ("urn", "urn:uuid:" + u), ("nohyphen", u.replace("-", ""))]


def org_spellings():
    return uuid_spellings(ORG_A) + [("name", "acme"), ("NAME", "ACME"),
                                    ("default", "default")]


def user_spellings():
    return uuid_spellings(XENA) + [("name", "xena"), ("NAME", "XENA")]


FILL = {"os": "linux", "arch": "amd64", "externalauth": "github",
        "templateversionname": "v1", "buildnumber": "1", "jobID": OTHER,
        "keyid": "k1", "keyname": "tok", "job": OTHER, "organizationname": "acme",
        "roleName": "r1", "devcontainer": "c1", "secretID": OTHER,
        "app": OTHER, "id": WS, "notification_template": OTHER,
        "provisionerkey": "pk1", "fileID": OTHER, "workspaceproxy": OTHER,
        "agent": "main", "group": GRP, "template": TPL,
        "templateversion": VERSION, "workspacebuild": BUILD_ID,
        "workspaceagent": AGENT, "workspace": WS, "organization": ORG_A,
        "user": XENA, "templatename": "tpl", "workspacename": "dev",
        "groupName": "Devs"}


def fill(path, values):
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1),
                                                    FILL[m.group(1)]), path)


def target_params(route):
    """The path parameters that name the decided object, and their
    spellings: a list of (label, {param: text})."""
    kind, _, arg = route["target"].partition(":")
    ps = [p for p in arg.replace("/", " ").split() if p]
    if kind in ("id", "parent"):
        p = arg.split(":")[-1]
        return [(lab, {p: v}) for lab, v in uuid_spellings(FILL[p])]
    if kind == "org":
        p = arg
        if p == "organizationname":
            return [(lab, {p: v}) for lab, v in org_spellings()[-3:]]
        return [(lab, {p: v}) for lab, v in org_spellings()]
    if kind in ("user", "owner"):
        return [(lab, {arg: v}) for lab, v in user_spellings()]
    if kind == "orgowner":
        o, u = ps
        return [(lab, {o: v, u: "xena"}) for lab, v in org_spellings()] + \
               [(lab, {o: ORG_A, u: v}) for lab, v in user_spellings()]
    if kind == "tplname":
        o, t = ps
        return [(lab, {o: v, t: "tpl"}) for lab, v in org_spellings()] + \
               [("NAME-tpl", {o: ORG_A, t: "TPL"})]
    if kind == "wsname":
        u, w = ps
        return [(lab, {u: v, w: "dev"}) for lab, v in user_spellings()] + \
               [("NAME-ws", {u: "xena", w: "DEV"})]
    if kind == "grpname":
        o, g = ps
        return [(lab, {o: v, g: "Devs"}) for lab, v in org_spellings()]
    return [("canonical", {})]


def body_for(route, action):
    if route["path"].endswith("/builds") and route["method"] == "POST":
        return {"transition": action}
    if route["path"].endswith("/workspaces") and route["method"] == "POST":
        return {"name": "w", "template_id": TPL}
    return None


# --------------------------------------------------------------------------
# Fixture: redis, the policy, the go-chi upstream, nginx with the conf

@pytest.fixture(scope="module")
def front(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("replay")
    rs = RedisServer(tmp / "redis").start()
    up = n = None
    try:
        env = dict(os.environ, RBAC_REDIS=rs.url)
        (tmp / "policy.json").write_text(json.dumps(policy()))
        r = subprocess.run([os.path.join(BUILD, "rbacctl"), "apply", "-f",
                            str(tmp / "policy.json")], env=env,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr

        if not os.path.exists(UPSTREAM):
            subprocess.run(["make", "-C", ROOT, UPSTREAM], check=True,
                           capture_output=True, timeout=300)
        up_port = free_port()
        up = subprocess.Popen([UPSTREAM, ROUTES, str(up_port)],
                              stdout=subprocess.PIPE, text=True)
        assert up.stdout.readline().strip() == "routes 283"

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (tmp / "idp-rs256.pem").write_bytes(key.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo))

        port = free_port()
        text = open(CONF).read()
        text = text.replace("127.0.0.1:6379", "127.0.0.1:%d" % rs.port)
        text = text.replace("timeout=50ms", "timeout=%dms" % (1000 * SLOW))
        text = text.replace("127.0.0.1:3000", "127.0.0.1:%d" % up_port)
        text = text.replace("listen 80;", "listen 127.0.0.1:%d;" % port)
        text = text.replace("/etc/nginx/rbac/", str(tmp) + "/")
        text = text.replace("/var/log/nginx/", str(tmp) + "/")
        n = Nginx(tmp / "nginx", "", "")
        text = "load_module %s;\npid %s/nginx.pid;\nuser root;\n%s" % (
            MODULE, n.prefix, text)
        (tmp / "nginx.conf").write_text(text)
        n.conf = str(tmp / "nginx.conf")
        n.port = port
        n.start()

        now = int(time.time())
        tokens = {}

        def token(uid):
            if uid not in tokens:
                tokens[uid] = pyjwt.encode({"sub": uid, "iss": ISS,
                                            "iat": now, "exp": now + 1800},
                                           key, algorithm="RS256")
            return tokens[uid]

        yield n, token, up_port, env
        problems = n.stop()
        n = None
        assert not problems, problems
    finally:
        if n is not None:
            n.stop()
        if up is not None:
            up.terminate()
            up.wait(timeout=10)
        rs.stop()


TEST_IDS = itertools.count(1)


class Caller:
    """Requests on one keep-alive connection, each tagged with a test id the
    upstream records when the request reaches a route."""

    def __init__(self, base, bearer=None):
        self.s = requests.Session()
        self.base = base
        self.bearer = bearer

    def __call__(self, method, path, body=None, headers=None):
        tid = "t%d" % next(TEST_IDS)
        h = {"X-Test-Id": tid}
        if self.bearer:
            h["Authorization"] = "Bearer " + self.bearer
        h.update(headers or {})
        data = json.dumps(body) if body is not None else None
        if data:
            h["Content-Type"] = "application/json"
        # The path goes out as written (no client-side normalization).
        req = requests.Request(method, self.base + "/", headers=h, data=data)
        p = self.s.prepare_request(req)
        p.url = self.base + path
        r = self.s.send(p, allow_redirects=False, timeout=30)
        return tid, r


def seen(up_port):
    r = requests.get("http://127.0.0.1:%d/__seen" % up_port, timeout=10)
    return set(r.json() or [])


def variants(route, label, path):
    """The path spellings of one parameter spelling: as is, with a trailing
    slash where chi serves one, and with a doubled slash."""
    out = [(label, path, True)]
    if route["slash"] == "y":
        out.append((label + "+slash", path + "/", True))
    else:
        out.append((label + "+slash", path + "/", False))
    i = path.rfind("/")
    out.append((label + "+//", path[:i] + "/" + path[i:], False))
    return out


def test_replay_every_route(front):
    n, token, up_port, _ = front
    base = n.url
    walt = Caller(base, token(WALT))
    anon = Caller(base)
    by_pair = {}
    fails = []
    denied_tids = []
    coverage = collections.Counter()
    public_ok = 0
    counted = 0

    for route in ROUTE_ROWS:
        m = route["method"]
        if not route["path"].startswith("/api/"):
            continue                    # workspace apps: test_apps below
        if m.startswith("ANY"):
            m = "GET"
        cls = route["cls"]

        if cls == "public":
            tid, r = anon(m, fill(route["path"], {}))
            want = "%s %s" % (route["method"], route["path"])
            if r.status_code == 200 and r.headers.get("X-Route") == want:
                public_ok += 1
            else:
                fails.append(("public", m, route["path"], r.status_code))
            continue

        if cls in ("agent", "wsproxy", "provisioner"):
            continue                    # test_passthrough, test_pkey

        if (route["method"], route["path"]) in DECIDED_BY_CODER:
            counted += 1
            coverage["not checked"] += 1
            cls = "session"

        if cls in ("session", "inside"):
            path = fill(route["path"], {})
            if route["method"].startswith("ANY("):
                path += "/x"
            tid, r = anon(m, path)
            denied_tids.append((tid, m, path))
            if r.status_code != 401:
                fails.append(("session anon", m, path, r.status_code))
            rita = by_pair.setdefault(RITA, Caller(base, token(RITA)))
            _, r = rita(m, path)
            if r.status_code != 200:
                fails.append(("session", m, path, r.status_code))
            continue

        counted += 1
        ok = True
        for action in route["action"].split("|"):
            p = (route["type"], action)
            uid = U(1000 + pairs().index(p))
            caller = by_pair.setdefault(uid, Caller(base, token(uid)))
            body = body_for(route, action)
            want = "%s %s" % (route["method"], route["path"])
            for label, vals in target_params(route):
                path = fill(route["path"], vals)
                for vlabel, vpath, served in variants(route, label, path):
                    tid, r = caller(m, vpath, body)
                    reached = r.headers.get("X-Route")
                    if served:
                        if r.status_code != 200 or reached != want:
                            ok = False
                            fails.append(("allow", p, vlabel, m, vpath,
                                          r.status_code, reached,
                                          r.text[:200]))
                        else:
                            # the upstream reads the id nginx decided on
                            got = r.json()["uuids"]
                            for k in vals:
                                if k in got and got[k] != FILL[k]:
                                    ok = False
                                    fails.append(("other id", vlabel, vpath,
                                                  got[k]))
                    elif reached == want:
                        ok = False
                        fails.append(("not chi's", vlabel, m, vpath))

                    if label == "me":
                        continue
                    # every user holds these on himself: no credential then
                    mine = p in MEMBER_SITE or route["target"] == "me"
                    deny = anon if mine else walt
                    tid, r = deny(m, vpath, body)
                    denied_tids.append((tid, m, vpath))
                    if r.status_code not in (400, 401, 403, 404):
                        ok = False
                        fails.append(("deny", p, vlabel, m, vpath,
                                      r.status_code))
        coverage["checked" if ok else "not checked"] += 1

    reached = seen(up_port)
    leaks = [(m, p) for tid, m, p in denied_tids if tid in reached]

    print("\ncoder-front.conf replay: %d object-checked routes, %d checked "
          "with Coder's type and action (%.1f%%); %d/20 public routes "
          "reachable; %d requests by callers without the right, %d reached "
          "the upstream" % (counted, coverage["checked"],
                            100.0 * coverage["checked"] / max(counted, 1),
                            public_ok, len(denied_tids), len(leaks)))
    for f in fails[:40]:
        print("  ", f)
    assert not leaks, leaks[:20]
    assert public_ok == 20
    assert coverage["checked"] * 100 >= 95 * counted, fails[:20]


def raw(n, request):
    """Sends bytes on a fresh connection; returns what came back first."""
    s = socket.create_connection(("127.0.0.1", n.port), timeout=10)
    try:
        s.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        if data.startswith(b"HTTP/1.1 101"):
            s.sendall(b"ping")
            echo = b""
            while len(echo) < 4:
                chunk = s.recv(4096)
                if not chunk:
                    break
                echo += chunk
            data += b"|echo:" + echo
        return data
    finally:
        s.close()


def upgrade(n, path, bearer):
    return raw(n, ("GET %s HTTP/1.1\r\nHost: coder\r\n"
                   "Authorization: Bearer %s\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
                   % (path, bearer)).encode())


def test_websocket(front):
    n, token, _, _ = front
    path = "/api/v2/workspaces/%s/watch-ws" % WS.upper()
    got = upgrade(n, path, token(RITA))
    assert got.startswith(b"HTTP/1.1 101"), got
    assert b"X-Route: GET /api/v2/workspaces/{workspace}/watch-ws" in got
    assert got.endswith(b"|echo:ping"), got

    got = upgrade(n, "/api/v2/workspaceagents/%s/pty" % AGENT, token(SAM))
    assert got.startswith(b"HTTP/1.1 101"), got       # shared: ssh

    got = upgrade(n, path, token(WALT))
    assert got.startswith(b"HTTP/1.1 403"), got
    assert b"X-Route" not in got
    got = upgrade(n, "/api/v2/workspaceagents/%s/pty" % AGENT, token(OLGA))
    assert got.startswith(b"HTTP/1.1 403"), got


def test_provisioner_key(front):
    n, _, up_port, _ = front
    c = Caller(n.url)
    serve = "/api/v2/organizations/%s/provisionerdaemons/serve"
    key = {"Coder-Provisioner-Daemon-Key": PKEY}
    for org in ("default", "acme", "ACME", ORG_A, ORG_A.upper()):
        _, r = c("GET", serve % org, headers=key)
        assert r.status_code == 200, (org, r.text)
        assert r.headers["X-Route"] == \
            "GET /api/v2/organizations/{organization}/provisionerdaemons/serve"
        assert r.json()["headers"]["X-Rbac-Kind"] == ["provisioner"]
    tid, r = c("GET", serve % "bravo", headers=key)
    assert r.status_code == 403, r.text
    tid2, r = c("GET", serve % "default",
                headers={"Coder-Provisioner-Daemon-Key": PKEY[:-1] + "x"})
    assert r.status_code == 401, r.text
    _, r = c("GET", "/api/v2/provisionerkeys/%s" % PKEY, headers=key)
    assert r.status_code == 200, r.text
    # The PSK is Coder's to check: passed through.
    _, r = c("GET", serve % "bravo",
             headers={"Coder-Provisioner-Daemon-PSK": "psk"})
    assert r.status_code == 200
    assert not {tid, tid2} & seen(up_port)


def test_passthrough(front):
    n, token, up_port, _ = front
    c = Caller(n.url)
    for route in ROUTE_ROWS:
        if route["cls"] in ("agent", "wsproxy"):
            _, r = c(route["method"], route["path"])
            assert r.status_code == 200, route
            assert r.headers["X-Route"] == "%s %s" % (route["method"],
                                                      route["path"])
    agent = {"Coder-Session-Token": str(uuid.uuid4())}
    _, r = c("GET", "/api/v2/appearance", headers=agent)
    assert r.status_code == 200
    _, r = c("GET", "/api/v2/appearance")
    assert r.status_code == 401
    proxy = {"Coder-External-Proxy-Token": "%s:%s" % (OTHER, "s" * 64)}
    _, r = c("GET", "/api/v2/workspaceagents/%s/coordinate" % AGENT,
             headers=proxy)
    assert r.status_code == 200
    # Client copies of identity headers never reach Coder.
    _, r = c("GET", "/api/v2/workspaceagents/me/rpc",
             headers={"X-Rbac-User": "alice"})
    assert r.json()["headers"] == {}


APP = "ANY /@{user}/{workspace_and_agent}/apps/{workspaceapp}/*"
APP40 = "ANY /%40{user}/{workspace_and_agent}/apps/{workspaceapp}/*"
SUB = "ANY {app}--{agent}--{workspace}--{user}.<wildcard>/*"


def test_apps(front):
    n, token, up_port, _ = front
    cases = [("/@xena/dev/apps/code/", None, APP),
             ("/@XENA/Dev.main/apps/code/src/x.py", None, APP),
             ("/%40xena/dev/apps/code/", None, APP40),
             ("/", "code--main--dev--xena.apps.coder.example", SUB),
             ("/x?y=1", "code--main--DEV--xena.apps.coder.example", SUB)]
    for who, ok in ((XENA, True), (SAM, True), (OLGA, False),
                    (WALT, False)):
        c = Caller(n.url, token(who))
        for path, host, route in cases:
            h = {"Host": host} if host else {}
            tid, r = c("GET", path, headers=h)
            if ok:
                assert r.status_code == 200, (who, path, r.text)
                assert r.headers["X-Route"] == route
            else:
                assert r.status_code == 403, (who, path, r.text)
                assert tid not in seen(up_port)
    # Share levels: "docs" opens for the organization, "site" for anyone.
    for who, app, host, status in [
            (OLGA, "docs", None, 200), (WALT, "docs", None, 403),
            (OLGA, "docs", "docs--main--dev--xena.apps.coder.example", 200),
            (None, "site", None, 200), (None, "code", None, 401),
            (None, "site", "site--main--dev--xena.apps.coder.example", 200),
            (None, "docs", "docs--main--dev--xena.apps.coder.example", 401)]:
        c = Caller(n.url, token(who) if who else None)
        path = "/" if host else "/@xena/dev/apps/%s/" % app
        _, r = c("GET", path, headers={"Host": host} if host else {})
        assert r.status_code == status, (who, app, host, r.text)

    # The web terminal is ssh on the workspace.
    _, r = Caller(n.url, token(SAM))("GET", "/@xena/dev/terminal")
    assert r.status_code != 403
    _, r = Caller(n.url, token(OLGA))("GET", "/@xena/dev/terminal")
    assert r.status_code == 403


def test_legit_traffic(front):
    """What the previous coder-front.conf refused to legitimate callers,
    and the rules it kept."""
    n, token, _, env = front
    wl = "/api/v2/workspaces/%s/builds" % WS
    _, r = Caller(n.url, token(XENA))("GET", wl)          # her own builds
    assert r.status_code == 200, r.text
    _, r = Caller(n.url, token(XENA))("POST", wl, {"transition": "start"})
    assert r.status_code == 200, r.text
    _, r = Caller(n.url, token(SAM))("POST", wl, {"transition": "delete"})
    assert r.status_code == 403, r.text                  # shared: use only

    _, r = Caller(n.url, token(OLGA))("GET", "/api/v2/templates/examples")
    assert r.status_code == 403                          # not a template id
    _, r = Caller(n.url, token(AUDREY))("GET", "/api/v2/audit")
    assert r.status_code == 200, r.text                  # org auditor
    _, r = Caller(n.url, token(OLGA))("GET", "/api/v2/audit")
    assert r.status_code == 403

    # A deprecated template refuses new workspaces, with its message.
    _, r = Caller(n.url, token(XENA))(
        "POST", "/api/v2/organizations/default/members/me/workspaces",
        {"name": "w", "template_id": TPL_OLD})
    assert r.status_code == 403
    assert r.json()["detail"] == "template deprecated: moved to tpl"
    assert r.json()["link"] == "https://wiki/tpl"

    # A service account: the API yes, the dashboard no.
    out = subprocess.run([os.path.join(BUILD, "rbacctl"), "token", "create",
                          "--user", SA_CI], env=env, capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    ci = {"Coder-Session-Token": out.stdout.strip().splitlines()[-1]}
    c = Caller(n.url)
    _, r = c("GET", "/api/v2/templates/%s" % TPL, headers=ci)
    assert r.status_code == 200, r.text
    _, r = c("GET", "/", headers=ci)
    assert r.status_code == 403

    # No route, no upstream.
    _, r = c("GET", "/api/v2/nothing/here", headers=ci)
    assert r.status_code == 404
    assert "X-Route" not in r.headers
