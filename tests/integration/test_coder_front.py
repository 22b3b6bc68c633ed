"""conf-examples/coder-front.conf, request by request, against the MegaCo
example policy (conf-examples/policies/megaco.json applied with rbacctl):
the nginx configuration an operator copies does what its comments say."""

import json
import os
import subprocess
import time

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import BUILD, MODULE, ROOT, SLOW, Nginx, RedisServer, free_port

CONF = os.path.join(ROOT, "conf-examples", "coder-front.conf")
POLICY = os.path.join(ROOT, "conf-examples", "policies", "megaco.json")


@pytest.fixture(scope="module")
def front(tmp_path_factory, upstream):
    tmp = tmp_path_factory.mktemp("front")
    rs = RedisServer(tmp / "redis").start()
    env = dict(os.environ, RBAC_REDIS=rs.url)

    def rbacctl(*args):
        r = subprocess.run([os.path.join(BUILD, "rbacctl")] + list(args),
                           env=env, capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""

    rbacctl("apply", "-f", POLICY)
    ci = rbacctl("token", "create", "--user", "sa-ci")
    pk = rbacctl("pkey", "create", "--org", "raptix")

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp / "idp-rs256.pem").write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo))

    port = free_port()
    text = open(CONF).read()
    text = text.replace("127.0.0.1:6379", "127.0.0.1:%d" % rs.port)
    text = text.replace("timeout=50ms", "timeout=%dms" % (500 * SLOW))
    text = text.replace("127.0.0.1:3000", "127.0.0.1:%d" % upstream)
    text = text.replace("listen 80;", "listen 127.0.0.1:%d;" % port)
    text = text.replace("/etc/nginx/rbac/", str(tmp) + "/")
    text = text.replace("/var/log/nginx/", str(tmp) + "/")
    n = Nginx(tmp / "nginx", "", "")
    text = "load_module %s;\npid %s/nginx.pid;\nuser root;\n%s" % (
        MODULE, n.prefix, text)
    conf = tmp / "nginx.conf"
    conf.write_text(text)
    n.conf = str(conf)
    n.port = port
    n.start()

    now = int(time.time())

    def token(sub):
        return pyjwt.encode({"sub": sub, "iss": "https://idp.megaco.example",
                             "iat": now, "exp": now + 600}, key,
                            algorithm="RS256")

    yield n, token, ci, pk
    problems = n.stop()
    rs.stop()
    assert not problems, problems


def call(n, method, path, bearer=None, body=None, headers=None):
    h = dict(headers or {})
    if bearer:
        h["Authorization"] = "Bearer " + bearer
    data = json.dumps(body) if body is not None else None
    return n.get(path, method=method, data=data, headers=h)


CASES = [
    # who, method, path, body, status
    ("bob", "GET", "/api/v2/workspaces/ws-bob", None, 200),
    ("bob", "PATCH", "/api/v2/workspaces/ws-bob", None, 403),   # team lead
    ("dave", "GET", "/api/v2/workspaces/ws-bob", None, 200),      # shared: use
    ("dave", "DELETE", "/api/v2/workspaces/ws-bob", None, 403),
    ("dave", "POST", "/api/v2/workspaces/ws-bob/builds",
     {"transition": "start"}, 200),
    ("dave", "POST", "/api/v2/workspaces/ws-bob/builds",
     {"transition": "delete"}, 403),
    ("dave", "PATCH", "/api/v2/workspaces/ws-bob/acl", None, 403),
    ("carol", "GET", "/api/v2/workspaces/ws-bob", None, 403),     # isolation
    ("carol", "GET", "/api/v2/workspaces/ws-carol", None, 200),
    ("carol", "GET", "/api/v2/organizations/megaco/members", None, 403),
    ("bob", "GET", "/api/v2/organizations/megaco/members", None, 200),
    ("bob", "GET", "/api/v2/templates/tpl-java", None, 200),
    ("bob", "PATCH", "/api/v2/templates/tpl-java", None, 200),    # grp admin
    ("dave", "PATCH", "/api/v2/templates/tpl-java", None, 403),
    ("dave", "POST", "/api/v2/organizations/megaco/members/me/workspaces",
     {"name": "w", "template_id": "tpl-java"}, 200),
    ("dave", "POST", "/api/v2/organizations/megaco/members/me/workspaces",
     {"name": "w", "template_id": "tpl-legacy"}, 403),            # deprecated
    ("dave", "POST", "/api/v2/organizations/megaco/members/bob/workspaces",
     {"name": "w", "template_id": "tpl-java"}, 403),              # for others
    ("alice", "GET", "/api/v2/audit", None, 200),                 # owner
    ("bob", "GET", "/api/v2/audit", None, 403),
    ("erin", "GET", "/api/v2/users/me", None, 403),               # suspended
    ("bob", "GET", "/api/v2/users/me", None, 200),
    ("bob", "GET", "/", None, 200),
    (None, "GET", "/api/v2/workspaces/ws-bob", None, 401),
]


@pytest.mark.parametrize("who,method,path,body,status", CASES,
                         ids=["%s %s %s" % (c[0], c[1], c[2]) for c in CASES])
def test_request(front, who, method, path, body, status):
    n, token = front[0], front[1]
    r = call(n, method, path, token(who) if who else None, body)
    assert r.status_code == status, r.text


def test_deprecated_template_message(front):
    n, token = front[0], front[1]
    r = call(n, "POST", "/api/v2/organizations/megaco/members/me/workspaces",
             token("dave"), {"template_id": "tpl-legacy"})
    assert r.json()["detail"] == \
        "template deprecated: moved to the raptix organization"
    assert r.json()["link"] == "https://wiki.example.com/migrate"


def test_service_account_api_yes_dashboard_no(front):
    n, _, ci, _ = front
    h = {"Coder-Session-Token": ci}
    assert call(n, "GET", "/api/v2/templates/tpl-java", headers=h) \
        .status_code == 200
    assert call(n, "GET", "/", headers=h).status_code == 403


def test_provisioner_key_own_org_only(front):
    n, _, _, pk = front
    h = {"Coder-Provisioner-Daemon-Key": pk}
    path = "/api/v2/organizations/%s/provisionerdaemons/serve"
    assert call(n, "GET", path % "raptix", headers=h).status_code == 200
    assert call(n, "GET", path % "megaco", headers=h).status_code == 403
