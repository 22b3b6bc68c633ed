"""The conformance sample through the module: each workspace and template
case of tests/conformance/sample.jsonl becomes Redis records and an HTTP
request, and nginx answers as `rbacctl eval` does.

The module adds the implicit roles of docs/authorization.md §4 (site
`member`, and
`organization-member` in every org), which `rbacctl eval` never adds; so
the module is compared with eval on the same case with those roles written
out.  An object with an id is a record in Redis; one without (a workspace
being created) is given by the directive alone.  Cases Redis records
cannot express are skipped (docs/rbacctl.md §5): request custom roles, scope
objects, and ACLs on a dormant workspace (a dormant record has none)."""

import json
import os
import subprocess

import pytest

from conftest import (BUILD, HS_SECRET, ROOT, SLOW, Nginx, RedisServer,
                      api_token, jwt_hs, proxy)

SAMPLE = os.path.join(ROOT, "tests", "conformance", "sample.jsonl")
TYPES = ("workspace", "workspace_dormant", "template")


def expressible(c):
    s, o = c["subject"], c["object"]
    if o["type"] not in TYPES:
        return False
    if not o.get("id") and (o.get("acl_users") or o.get("acl_groups")
                            or o.get("deprecated")):
        return False
    if c.get("custom_roles") or not isinstance(s.get("scope", "all"), str):
        return False
    if o["type"] == "workspace_dormant" and (o.get("acl_users")
                                             or o.get("acl_groups")):
        return False
    return s.get("kind", "user") == "user"


def with_implicit_roles(c):
    c = json.loads(json.dumps(c))
    s = c["subject"]
    if "member" not in s["site_roles"]:
        s["site_roles"].append("member")
    for roles in s["orgs"].values():
        if "organization-member" not in roles:
            roles.append("organization-member")
    return c


def cases():
    with open(SAMPLE) as f:
        return [c for c in map(json.loads, f) if expressible(c)]


@pytest.fixture(scope="module")
def env(tmp_path_factory, upstream):
    tmp = tmp_path_factory.mktemp("conformance")
    (tmp / "hs.key").write_bytes(HS_SECRET)
    rs = RedisServer(tmp / "redis").start()
    server = """
        location ~ ^/c/workspace/([^/]+)/([a-z_]+)$ {
            rbac on;
            rbac_object workspace id=$1;
            rbac_action $2;
            %(p)s
        }
        location ~ ^/c/template/([^/]+)/([a-z_]+)$ {
            rbac on;
            rbac_object template id=$1;
            rbac_action $2;
            %(p)s
        }
        location /n/ {
            rbac on;
            rbac_action $arg_action;
            return 404;

            location ~ ^/n/workspace/ {
                rbac_object workspace org=$arg_org owner=$arg_owner;
                %(p)s
            }
            location ~ ^/n/workspace_any/ {
                rbac_object workspace org=$arg_org owner=$arg_owner any_org;
                %(p)s
            }
            location ~ ^/n/workspace_dormant/ {
                rbac_object workspace_dormant org=$arg_org owner=$arg_owner;
                %(p)s
            }
            location ~ ^/n/template/ {
                rbac_object template org=$arg_org owner=$arg_owner;
                %(p)s
            }
            location ~ ^/n/template_any/ {
                rbac_object template org=$arg_org owner=$arg_owner any_org;
                %(p)s
            }
        }
""" % {"p": proxy(upstream)}
    n = Nginx(tmp / "nginx", "    rbac_redis 127.0.0.1:%d timeout=%dms;\n"
              "    rbac_jwt_key %s alg=HS256;\n"
              % (rs.port, 1000 * SLOW, tmp / "hs.key"), server).start()
    yield n, rs
    problems = n.stop()
    rs.stop()
    assert not problems, problems


def load(r, c):
    """The case as records; returns the credential headers."""
    s, o = c["subject"], c["object"]
    r.flushall()
    put = lambda k, v: r.set("rbac:" + k, json.dumps(v))
    put("user:" + s["id"], {"id": s["id"], "kind": "user",
                            "status": s.get("status", "active"),
                            "site_roles": s["site_roles"], "orgs": s["orgs"],
                            "groups": s["groups"]})
    for oid, st in (c.get("org_settings") or {}).items():
        put("org:" + oid, {"id": oid, "name": oid,
                           "shareable_workspace_owners":
                               st.get("shareable_workspace_owners",
                                      "everyone")})
    if c.get("options"):
        put("deployment", c["options"])
    dormant = o["type"] == "workspace_dormant"
    rtype = "workspace" if dormant else o["type"]
    rec = {"type": rtype, "id": o["id"], "org": o["org"],
           "owner": o.get("owner", ""), "acl_users": o.get("acl_users", {}),
           "acl_groups": o.get("acl_groups", {}), "dormant": dormant}
    if o.get("deprecated"):
        rec["deprecated"] = o["deprecated"] if isinstance(
            o["deprecated"], dict) else {"message": "", "link": ""}
    if o.get("id"):
        put("obj:%s:%s" % (rtype, o["id"]), rec)
    scope = s.get("scope", "all")
    if scope == "all":
        return {"Authorization": "Bearer " + jwt_hs(sub=s["id"])}
    token = api_token(r, "tok", s["id"], scopes=[scope])
    return {"Coder-Session-Token": token}


def test_module_agrees_with_eval(env):
    n, rs = env
    cs = cases()
    assert len(cs) >= 90, len(cs)
    lines = "".join(json.dumps(with_implicit_roles(c)) + "\n" for c in cs)
    out = subprocess.run([os.path.join(BUILD, "rbacctl"), "eval"],
                         input=lines, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    expected = [json.loads(l) for l in out.stdout.splitlines()]
    assert len(expected) == len(cs)

    r = rs.client()
    wrong = []
    for c, e in zip(cs, expected):
        headers = load(r, c)
        o = c["object"]
        if o.get("id"):
            rtype = "template" if o["type"] == "template" else "workspace"
            resp = n.get("/c/%s/%s/%s" % (rtype, o["id"], c["action"]),
                         headers=headers)
        else:
            path = "/n/%s%s/" % (o["type"], "_any" if o.get("any_org") else "")
            resp = n.get(path, headers=headers,
                         params={"org": o["org"], "owner": o.get("owner", ""),
                                 "action": c["action"]})
        assert resp.status_code in (200, 403), (c["name"], resp.text)
        if (resp.status_code == 200) != e["allow"]:
            wrong.append((c["name"], e["allow"], resp.status_code,
                          e["reason"], resp.text))
    assert not wrong, "\n".join(map(str, wrong))
