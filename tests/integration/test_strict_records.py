"""Records are read strictly, through the module and rbacctl: a member name
twice in any object of a record (cJSON would read the first, another reader
the last), or a record whose type/id/name contradicts the key it is stored
under, is a malformed record: 503 on the request path, exit 3 in rbacctl,
never a guess.  One case per record kind the module reads, and every kind
through `rbacctl export`."""

import json
import time

import jwt as pyjwt
import pytest

from conftest import (HS_SECRET, SLOW, Nginx, RedisServer, api_token,
                      obj, org, pkey, proxy, rbacctl_on, user)

SHA0 = "0" * 64


@pytest.fixture(scope="module")
def env(tmp_path_factory, upstream):
    tmp = tmp_path_factory.mktemp("strict")
    (tmp / "hs.key").write_bytes(HS_SECRET)
    rs = RedisServer(tmp / "redis").start()
    p = proxy(upstream)
    http = """
    rbac_redis 127.0.0.1:%d timeout=%dms;
    rbac_jwt_key %s alg=HS256;
""" % (rs.port, 500 * SLOW, tmp / "hs.key")
    server = """
        location = /ws {
            rbac on; rbac_object workspace id=w1; rbac_action read; %(p)s
        }
        location = /org {
            rbac on; rbac_object organization id=orgA; rbac_action read;
            %(p)s
        }
        location = /stats {
            rbac on; rbac_object deployment_stats; rbac_action read; %(p)s
        }
        location = /jobs {
            rbac on;
            rbac_token $http_x_key type=provisioner_key;
            rbac_object provisioner_jobs org=orgA; rbac_action update;
            %(p)s
        }
""" % {"p": p}
    n = Nginx(tmp / "nginx", http, server).start()
    yield {"nginx": n, "redis": rs}
    problems = n.stop()
    rs.stop()
    assert not problems, problems


def good_table(r):
    r.flushdb()
    org(r, "orgA")
    user(r, "alice", orgs={"orgA": ["lead"]}, site_roles=["health"])
    obj(r, "workspace", "w1", "orgA", owner="bob")
    obj(r, "group", "g1", "orgA")
    r.set("rbac:group:g1", json.dumps({"id": "g1", "org": "orgA",
                                       "name": "eng", "source": "manual"}))
    r.set("rbac:orggroups:orgA", json.dumps({"eng": "g1"}))
    r.set("rbac:role:orgA:lead", json.dumps({
        "name": "lead", "organization_id": "orgA",
        "organization_permissions": [
            {"resource_type": "workspace", "action": "read",
             "negate": False},
            {"resource_type": "organization", "action": "read",
             "negate": False}]}))
    r.set("rbac:siterole:health", json.dumps({
        "name": "health", "organization_id": "",
        "site_permissions": [
            {"resource_type": "deployment_stats", "action": "read",
             "negate": False}]}))
    r.set("rbac:deployment", json.dumps({"no_owner_workspace_exec": False}))
    r.set("rbac:idpsync", json.dumps({"version": 1}))
    api_token(r, "t1", "alice", secret="sec")
    pkey(r, "k1", "orgA", secret="pk")


def jwt_alice():
    now = int(time.time())
    return pyjwt.encode({"sub": "alice", "exp": now + 300, "iat": now},
                        HS_SECRET, algorithm="HS256")


# How each request authenticates: a JWT, the API token, the provisioner key.
def request(n, path, how):
    if how == "jwt":
        return n.get(path, token=jwt_alice())
    if how == "token":
        return n.get(path, headers={"Coder-Session-Token": "t1-sec"})
    return n.get(path, headers={"X-Key": "k1-pk"})


def twice(doc, member, value):
    """The JSON text of doc with `member` written a second time (first
    occurrence first, as cJSON would read it)."""
    text = json.dumps(doc)
    return text[:-1] + ", %s: %s}" % (json.dumps(member), json.dumps(value))


# key, what to store, request path, how it authenticates.  In each, the
# first occurrence of a member is the harmless one, so a reader that took
# the first (as before) would answer 200.
CASES = [
    ("user:alice", "dup",
     lambda d: twice(d, "status", "suspended"), "/ws", "jwt"),
    ("user:alice", "wrong", lambda d: json.dumps(dict(d, id="bob")),
     "/ws", "jwt"),
    ("obj:workspace:w1", "dup", lambda d: twice(d, "org", "orgB"),
     "/ws", "jwt"),
    ("obj:workspace:w1", "wrong",
     lambda d: json.dumps(dict(d, type="template")), "/ws", "jwt"),
    ("obj:workspace:w1", "wrong", lambda d: json.dumps(dict(d, id="w2")),
     "/ws", "jwt"),
    ("org:orgA", "dup",
     lambda d: twice(d, "shareable_workspace_owners", "none"), "/org", "jwt"),
    ("org:orgA", "wrong", lambda d: json.dumps(dict(d, id="orgB")),
     "/org", "jwt"),
    ("role:orgA:lead", "dup", lambda d: twice(d, "name", "other"),
     "/ws", "jwt"),
    ("role:orgA:lead", "wrong",
     lambda d: json.dumps(dict(d, organization_id="orgB")), "/ws", "jwt"),
    ("siterole:health", "dup", lambda d: twice(d, "site_permissions", []),
     "/stats", "jwt"),
    ("siterole:health", "wrong", lambda d: json.dumps(dict(d, name="x")),
     "/stats", "jwt"),
    ("deployment", "dup",
     lambda d: twice(d, "no_owner_workspace_exec", True), "/ws", "jwt"),
    ("idpsync", "dup", lambda d: twice(d, "version", 2), "/ws", "jwt"),
    ("token:t1", "dup", lambda d: twice(d, "user", "root"), "/ws", "token"),
    ("token:t1", "wrong", lambda d: json.dumps(dict(d, id="t2")),
     "/ws", "token"),
    ("pkey:k1", "dup", lambda d: twice(d, "org", "orgB"), "/jobs", "pkey"),
    ("pkey:k1", "wrong", lambda d: json.dumps(dict(d, id="k2")),
     "/jobs", "pkey"),
]


@pytest.mark.parametrize("key,kind,bad,path,how", CASES,
                         ids=["%s-%s" % (c[0], c[1]) for c in CASES])
def test_malformed_record_is_503(env, key, kind, bad, path, how):
    rs = env["redis"]
    r = rs.client()
    good_table(r)
    n = env["nginx"]
    ok = request(n, path, how)
    assert ok.status_code == 200, ok.text

    r.set("rbac:" + key, bad(json.loads(r.get("rbac:" + key))))
    resp = request(n, path, how)
    assert resp.status_code == 503, (resp.status_code, resp.text)
    assert resp.json()["message"] == "Authorization unavailable"
    assert resp.headers["Retry-After"] == "1"
    assert "malformed record \"%s\"" % key in n.log()


# every record kind, through export (which reads them all)
EXPORT = [
    ("user:alice", lambda d: twice(d, "id", "bob")),
    ("user:alice", lambda d: json.dumps(dict(d, id="bob"))),
    ("org:orgA", lambda d: twice(d, "name", "B")),
    ("org:orgA", lambda d: json.dumps(dict(d, id="orgB"))),
    ("group:g1", lambda d: twice(d, "name", "ops")),
    ("group:g1", lambda d: json.dumps(dict(d, id="g2"))),
    ("obj:group:g1", lambda d: twice(d, "org", "orgB")),
    ("obj:group:g1", lambda d: json.dumps(dict(d, id="g2"))),
    ("obj:workspace:w1", lambda d: twice(d, "owner", "eve")),
    ("obj:workspace:w1", lambda d: json.dumps(dict(d, type="template"))),
    ("role:orgA:lead", lambda d: twice(d, "organization_id", "orgB")),
    ("role:orgA:lead", lambda d: json.dumps(dict(d, name="boss"))),
    ("siterole:health", lambda d: twice(d, "name", "x")),
    ("token:t1", lambda d: twice(d, "user", "root")),
    ("token:t1", lambda d: json.dumps(dict(d, id="t2"))),
    ("pkey:k1", lambda d: twice(d, "org", "orgB")),
    ("pkey:k1", lambda d: json.dumps(dict(d, id="k9"))),
    ("deployment", lambda d: twice(d, "no_owner_workspace_exec", True)),
    ("idpsync", lambda d: twice(d, "version", 7)),
]


@pytest.mark.parametrize("key,bad", EXPORT,
                         ids=["%s-%d" % (c[0], i) for i, c in
                              enumerate(EXPORT)])
def test_rbacctl_refuses_malformed(env, key, bad):
    rs = env["redis"]
    r = rs.client()
    good_table(r)
    assert rbacctl_on(rs, "export").returncode == 0

    r.set("rbac:" + key, bad(json.loads(r.get("rbac:" + key))))
    p = rbacctl_on(rs, "export")
    assert p.returncode == 3, (p.returncode, p.stdout, p.stderr)
    assert "malformed record at rbac:%s" % key in p.stderr


@pytest.mark.parametrize("key,bad", [
    ("user:alice", lambda d: twice(d, "status", "suspended")),
    ("obj:workspace:w1", lambda d: twice(d, "org", "orgB")),
    ("obj:workspace:w1", lambda d: json.dumps(dict(d, id="w2"))),
    ("role:orgA:lead", lambda d: json.dumps(dict(d, organization_id="orgB"))),
    ("deployment", lambda d: twice(d, "no_owner_workspace_exec", True)),
])
def test_check_exit_3(env, key, bad):
    rs = env["redis"]
    r = rs.client()
    good_table(r)
    args = ("check", "--user", "alice", "--action", "read", "--object",
            "workspace:w1")
    assert rbacctl_on(rs, *args).returncode == 0

    r.set("rbac:" + key, bad(json.loads(r.get("rbac:" + key))))
    p = rbacctl_on(rs, *args)
    assert p.returncode == 3, (p.returncode, p.stdout, p.stderr)
    assert "malformed record at rbac:%s" % key in p.stderr
