"""Authorization through the module: org isolation, custom roles, shared
workspaces, provisioner keys, token scopes, deprecated templates, shadow
mode and the headers an allowed request carries upstream."""

import pytest

from conftest import (HS_SECRET, SLOW, Nginx, RedisServer, api_token, obj, org,
                      pkey, proxy, put, tok, upstream_headers, user)


@pytest.fixture(scope="module")
def env(tmp_path_factory, upstream):
    tmp = tmp_path_factory.mktemp("authz")
    (tmp / "hs.key").write_bytes(HS_SECRET)
    rs = RedisServer(tmp / "redis").start()
    r = rs.client()

    org(r, "orgA", default_roles=["organization-workspace-access"])
    org(r, "orgB", default_roles=["organization-workspace-access"])
    user(r, "alice", orgs={"orgA": []})
    user(r, "bob", orgs={"orgA": []})
    user(r, "carol", orgs={"orgB": []})
    user(r, "adminA", orgs={"orgA": ["organization-admin"]})
    user(r, "aud", orgs={"orgA": ["tpl-reader"]})
    user(r, "health", site_roles=["healthcheck"])
    obj(r, "workspace", "wa", "orgA", owner="alice")
    obj(r, "workspace", "wa2", "orgA", owner="alice")
    obj(r, "workspace", "wb", "orgB", owner="carol")
    obj(r, "workspace", "shared", "orgA", owner="bob",
        acl_users={"alice": "use"})
    obj(r, "template", "t1", "orgA")
    obj(r, "template", "old", "orgA", acl_groups={"orgA": "use"},
        deprecated={"message": "use t1 instead",
                    "link": "https://docs.example/t1"})
    put(r, "role:orgA:tpl-reader", {
        "name": "tpl-reader", "organization_id": "orgA",
        "display_name": "Template reader",
        "organization_permissions": [
            {"resource_type": "template", "action": "read",
             "negate": False}],
        "organization_member_permissions": []})
    put(r, "siterole:healthcheck", {
        "name": "healthcheck", "organization_id": "",
        "display_name": "Health check",
        "site_permissions": [
            {"resource_type": "deployment_stats", "action": "read",
             "negate": False}],
        "user_permissions": []})

    p = proxy(upstream)
    http = """
    rbac_redis 127.0.0.1:%d timeout=%dms;
    rbac_jwt_key %s alg=HS256;
""" % (rs.port, 500 * SLOW, tmp / "hs.key")
    server = """
        location ~ ^/ws/([^/]+)$ {
            rbac on; rbac_object workspace id=$1; rbac_action $arg_action;
            %(p)s
        }
        location ~ ^/wsm/([^/]+)$ { rbac on; rbac_object workspace id=$1; %(p)s }
        location ~ ^/wsorg/([^/]+)/([^/]+)$ {
            rbac on; rbac_object workspace id=$2 org=$1; %(p)s
        }
        location ~ ^/tpl/([^/]+)$ {
            rbac on; rbac_object template id=$1; rbac_action $arg_action;
            %(p)s
        }
        location ~ ^/pk/([^/]+)/jobs$ {
            rbac on;
            rbac_token $http_x_key type=provisioner_key;
            rbac_object provisioner_jobs org=$1; rbac_action update;
            %(p)s
        }
        location = /stats {
            rbac on; rbac_object deployment_stats; rbac_action read; %(p)s
        }
        location ~ ^/shadow/([^/]+)$ {
            rbac shadow; rbac_object workspace id=$1; rbac_action delete;
            %(p)s
        }
        location = /me {
            rbac on; rbac_object user id=me; rbac_action read; %(p)s
        }
""" % {"p": p}
    n = Nginx(tmp / "nginx", http, server).start()
    yield {"nginx": n, "redis": r}
    problems = n.stop()
    rs.stop()
    assert not problems, problems


def get(env, path, sub=None, token=None, **kw):
    return env["nginx"].get(path, token=token or tok(sub), **kw)


def detail(resp):
    return resp.json()["detail"]


def test_owner_reads_own_workspace_with_headers(env):
    r = get(env, "/ws/wa?action=read", "alice")
    assert r.status_code == 200, r.text
    assert upstream_headers(r, "X-Rbac-User") == ["alice"]
    assert upstream_headers(r, "X-Rbac-Org") == ["orgA"]
    roles = upstream_headers(r, "X-Rbac-Roles")[0].split(",")
    assert "member" in roles
    assert "organization-member" in roles
    assert "organization-workspace-access" in roles
    assert "decision=allow" in env["nginx"].access_line("/ws/wa?action=read")


def test_org_isolation(env):
    # a member of orgA reaches nothing of orgB, an orgA admin neither
    r = get(env, "/ws/wb?action=read", "alice")
    assert r.status_code == 403
    assert r.json()["message"] == "Forbidden"
    assert get(env, "/ws/wb?action=read", "adminA").status_code == 403
    assert get(env, "/ws/wa?action=read", "adminA").status_code == 200
    assert get(env, "/ws/wa?action=read", "carol").status_code == 403
    assert get(env, "/ws/wb?action=read", "carol").status_code == 200


def test_other_members_workspace_is_not_readable(env):
    assert get(env, "/ws/wa?action=read", "bob").status_code == 403


@pytest.mark.parametrize("action,status", [
    ("read", 200), ("ssh", 200), ("start", 200), ("stop", 200),
    ("application_connect", 200), ("delete", 403), ("update", 403),
])
def test_workspace_shared_with_use(env, action, status):
    r = get(env, "/ws/shared?action=" + action, "alice")
    assert r.status_code == status, r.text
    # and carol, not in the ACL, gets nothing
    assert get(env, "/ws/shared?action=" + action, "carol").status_code \
        == 403


def test_action_from_method(env):
    assert get(env, "/wsm/wa", "alice").status_code == 200
    assert get(env, "/wsm/wa", "alice", method="HEAD").status_code == 200
    assert get(env, "/wsm/shared", "alice", method="DELETE").status_code \
        == 403
    r = get(env, "/wsm/wa", "alice", method="OPTIONS")
    assert r.status_code == 403
    assert detail(r) == "method not mapped to an action"


def test_unknown_action_is_denied(env):
    r = get(env, "/ws/wa?action=teleport", "alice")
    assert r.status_code == 403
    assert detail(r) == 'unknown action "teleport"'


def test_missing_object_is_403(env):
    r = get(env, "/ws/nope?action=read", "alice")
    assert r.status_code == 403
    assert detail(r) == "workspace nope not found"


def test_contradicting_org_is_403(env):
    assert get(env, "/wsorg/orgA/wa", "alice").status_code == 200
    r = get(env, "/wsorg/orgB/wa", "alice")
    assert r.status_code == 403
    assert detail(r) == "object org mismatch"


def test_custom_org_role_grants_exactly_its_permissions(env):
    assert get(env, "/tpl/t1?action=read", "aud").status_code == 200
    for action in ("update", "delete", "create"):
        assert get(env, "/tpl/t1?action=" + action, "aud").status_code \
            == 403
    # without the role: no template read at org level
    assert get(env, "/tpl/t1?action=read", "bob").status_code == 403
    # a role that is deleted contributes nothing (Coder semantics)
    env["redis"].delete("rbac:role:orgA:tpl-reader")
    try:
        assert get(env, "/tpl/t1?action=read", "aud").status_code == 403
    finally:
        put(env["redis"], "role:orgA:tpl-reader", {
            "name": "tpl-reader", "organization_id": "orgA",
            "display_name": "Template reader",
            "organization_permissions": [
                {"resource_type": "template", "action": "read",
                 "negate": False}],
            "organization_member_permissions": []})


def test_custom_site_role(env):
    assert get(env, "/stats", "health").status_code == 200
    assert get(env, "/stats", "alice").status_code == 403


def test_deprecated_template_denies_use_with_link(env):
    assert get(env, "/tpl/old?action=read", "alice").status_code == 200
    r = get(env, "/tpl/old?action=use", "alice")
    assert r.status_code == 403
    assert r.json() == {"message": "Forbidden",
                        "detail": "template deprecated: use t1 instead",
                        "link": "https://docs.example/t1"}


def test_provisioner_key_is_confined_to_its_org(env):
    key = pkey(env["redis"], "pkA", "orgA")
    r = env["nginx"].get("/pk/orgA/jobs", headers={"X-Key": key})
    assert r.status_code == 200, r.text
    assert upstream_headers(r, "X-Rbac-User") == ["pkey:pkA"]
    assert upstream_headers(r, "X-Rbac-Roles") == ["provisioner-daemon"]
    r = env["nginx"].get("/pk/orgB/jobs", headers={"X-Key": key})
    assert r.status_code == 403


def test_token_scope_narrows(env):
    full = api_token(env["redis"], "tfull", "alice", secret="x1")
    narrow = api_token(env["redis"], "tapp", "alice", secret="x2",
                       scopes=["coder:application_connect"])
    assert get(env, "/ws/wa?action=read", token=full).status_code == 200
    assert get(env, "/ws/wa?action=read", token=narrow).status_code == 403
    assert get(env, "/ws/wa?action=application_connect",
               token=narrow).status_code == 200


def test_token_allow_list(env):
    t = api_token(env["redis"], "tallow", "alice", secret="x3",
                  allow_list=[{"type": "workspace", "id": "wa"}])
    assert get(env, "/ws/wa?action=read", token=t).status_code == 200
    assert get(env, "/ws/wa2?action=read", token=t).status_code == 403


def test_shadow_mode_lets_denials_through(env):
    r = get(env, "/shadow/wa", "bob")
    assert r.status_code == 200
    assert upstream_headers(r, "X-Rbac-User") == ["bob"]
    line = env["nginx"].access_line("/shadow/wa")
    assert "decision=shadow_deny" in line
    # unauthenticated: through, but without identity headers
    r = env["nginx"].get("/shadow/wa")
    assert r.status_code == 200
    assert upstream_headers(r, "X-Rbac-User") == []


def test_id_me_is_the_caller(env):
    r = get(env, "/me", "alice")
    assert r.status_code == 200, r.text


def test_user_changes_apply_at_once_without_cache(env):
    user(env["redis"], "temp", orgs={"orgA": []})
    obj(env["redis"], "workspace", "wt", "orgA", owner="temp")
    assert get(env, "/ws/wt?action=read", "temp").status_code == 200
    user(env["redis"], "temp", orgs={"orgA": []}, status="suspended")
    r = get(env, "/ws/wt?action=read", "temp")
    assert r.status_code == 403
    assert detail(r) == "account suspended"


def test_deployment_options_are_read(env):
    user(env["redis"], "root", site_roles=["owner"])
    assert get(env, "/ws/wa?action=ssh", "root").status_code == 200
    put(env["redis"], "deployment", {"no_owner_workspace_exec": True,
                                     "no_workspace_sharing": False,
                                     "no_chat_sharing": False})
    try:
        assert get(env, "/ws/wa?action=ssh", "root").status_code == 403
        assert get(env, "/ws/wa?action=read", "root").status_code == 200
    finally:
        env["redis"].delete("rbac:deployment")


def test_object_of_another_type_built_from_the_directive(env):
    # provisioner_jobs has no record: org= alone decides where it lives
    key = pkey(env["redis"], "pkB", "orgB")
    assert env["nginx"].get("/pk/orgB/jobs",
                            headers={"X-Key": key}).status_code == 200
