"""Workspace apps and their share levels (`rbac_app`): an app opens for
whoever has application_connect on its workspace, and beyond that as its
share level in the workspace's record says: any authenticated caller, any
member of the workspace's organization, or anyone without a credential."""

import jwt as pyjwt
import pytest

from conftest import (HS_SECRET, SLOW, Nginx, RedisServer, obj, org, proxy,
                      upstream_headers, user)

APPS = {"code": "owner", "docs": "authenticated", "wiki": "organization",
        "site": "public"}


@pytest.fixture(scope="module")
def env(tmp_path_factory, upstream):
    tmp = tmp_path_factory.mktemp("apps")
    (tmp / "hs.key").write_bytes(HS_SECRET)
    rs = RedisServer(tmp / "redis").start()
    r = rs.client()

    org(r, "orgA", default_roles=["organization-workspace-access"])
    org(r, "orgB", default_roles=["organization-workspace-access"])
    user(r, "owner", orgs={"orgA": []})
    user(r, "friend", orgs={"orgA": []})
    user(r, "colleague", orgs={"orgA": []})
    user(r, "stranger", orgs={"orgB": []})
    user(r, "gone", orgs={"orgA": []}, status="suspended")
    obj(r, "workspace", "ws", "orgA", owner="owner",
        acl_users={"friend": "use"}, apps=APPS)
    obj(r, "workspace", "plain", "orgA", owner="owner")

    http = """
    rbac_redis 127.0.0.1:%d timeout=%dms;
    rbac_jwt_key %s alg=HS256;
""" % (rs.port, 500 * SLOW, tmp / "hs.key")
    server = """
        location ~ ^/@(?<u>[^/]+)/(?<w>[^/.]+)/apps/(?<a>[^/]+)/ {
            rbac on;
            rbac_object workspace id=$w;
            rbac_action application_connect;
            rbac_app $a;
            %s
        }
""" % proxy(upstream)
    n = Nginx(tmp / "nginx", http, server).start()
    yield n
    problems = n.stop()
    rs.stop()
    assert not problems, problems


def token(sub):
    return pyjwt.encode({"sub": sub, "exp": 2**31 - 1}, HS_SECRET,
                        algorithm="HS256")


# caller -> the apps that open for him
OPENS = {
    "owner": {"code", "docs", "wiki", "site"},      # application_connect
    "friend": {"code", "docs", "wiki", "site"},     # shared with him (ACL)
    "colleague": {"docs", "wiki", "site"},          # same org
    "stranger": {"docs", "site"},                   # authenticated
    "gone": {"site"},                               # suspended
    None: {"site"},                                 # no credential
}


@pytest.mark.parametrize("who", list(OPENS), ids=str)
def test_share_levels(env, who):
    for app in APPS:
        r = env.get("/@owner/ws/apps/%s/index.html" % app,
                    token=token(who) if who else None)
        if app in OPENS[who]:
            assert r.status_code == 200, (who, app, r.text)
        elif who is None:
            assert r.status_code == 401, (who, app, r.text)
        else:
            assert r.status_code == 403, (who, app, r.text)


def test_identity_of_a_public_app(env):
    r = env.get("/@owner/ws/apps/site/")
    assert r.status_code == 200
    assert upstream_headers(r, "X-Rbac-User") == []
    r = env.get("/@owner/ws/apps/site/", token=token("stranger"))
    assert upstream_headers(r, "X-Rbac-User") == ["stranger"]


def test_unlisted_app_and_unknown_workspace(env):
    # an app the record does not list is an owner-level app
    assert env.get("/@owner/plain/apps/site/",
                   token=token("colleague")).status_code == 403
    assert env.get("/@owner/plain/apps/site/").status_code == 401
    assert env.get("/@owner/nope/apps/site/").status_code == 401


def test_rbac_app_needs_a_workspace(nginx):
    n = nginx(server="""
        location /x/ { rbac on; rbac_object template id=t; rbac_app a; }
""", run=False)
    rc, err = n.test_config()
    assert rc != 0
    assert '"rbac_app" needs "rbac_object workspace"' in err
