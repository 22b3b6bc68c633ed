"""rbacctl and the module together: a token made with `rbacctl token
create` authenticates through nginx, and after `rbacctl token revoke` it is
refused on the next request; a membership removed with rbacctl is enforced
on the next request."""

from conftest import SLOW, proxy, rbacctl_on, upstream_headers


def test_token_lifecycle_through_the_module(nginx, redis, upstream):
    for args in (("org", "create", "orgA"),
                 ("sa", "create", "bot"),
                 ("member", "add", "--org", "orgA", "--user", "bot",
                  "--role", "organization-auditor")):
        r = rbacctl_on(redis, *args)
        assert r.returncode == 0, r.stderr

    n = nginx(http="    rbac_redis 127.0.0.1:%d timeout=%dms;\n"
              % (redis.port, 500 * SLOW),
              server="""
        location /api/ {
            rbac on;
            rbac_object organization id=orgA;
            %s
        }
""" % proxy(upstream))

    r = rbacctl_on(redis, "token", "create", "--user", "bot")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip().splitlines()[-1]
    tid = token.split("-", 1)[0]

    # the secret is printed once and stored only as its hash
    stored = redis.client().get("rbac:token:" + tid)
    assert token.split("-", 1)[1] not in stored

    ok = n.get("/api/x", headers={"Coder-Session-Token": token})
    assert ok.status_code == 200, ok.text
    assert upstream_headers(ok, "X-Rbac-User") == ["bot"]

    # a wrong secret with the same id is refused
    bad = n.get("/api/x", headers={"Coder-Session-Token": tid + "-nope"})
    assert bad.status_code == 401

    r = rbacctl_on(redis, "token", "revoke", tid)
    assert r.returncode == 0, r.stderr
    gone = n.get("/api/x", headers={"Coder-Session-Token": token})
    assert gone.status_code == 401, gone.text
    assert "WWW-Authenticate" in gone.headers


def test_membership_change_enforced_next_request(nginx, redis, upstream):
    for args in (("org", "create", "orgA"),
                 ("sa", "create", "bot"),
                 ("member", "add", "--org", "orgA", "--user", "bot")):
        assert rbacctl_on(redis, *args).returncode == 0
    token = rbacctl_on(redis, "token", "create", "--user",
                       "bot").stdout.strip().splitlines()[-1]
    n = nginx(http="    rbac_redis 127.0.0.1:%d timeout=%dms;\n"
              % (redis.port, 500 * SLOW), server="""
        location /org/ {
            rbac on;
            rbac_object organization id=orgA;
            rbac_action read;
            %s
        }
""" % proxy(upstream))
    h = {"Coder-Session-Token": token}
    assert n.get("/org/", headers=h).status_code == 200
    assert rbacctl_on(redis, "member", "remove", "--org", "orgA", "--user",
                      "bot").returncode == 0
    r = n.get("/org/", headers=h)
    assert r.status_code == 403, r.text
