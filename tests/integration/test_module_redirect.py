"""One decision per request across internal redirects
(ngx_http_rbac_memo_redirect): nginx drops module contexts on an internal
redirect (index, try_files, error_page); the allow made before answers the
new location only when that location decides alike and the credential,
method and object arguments are the same there, in the same tick.
Otherwise the new location decides on its own."""

import pytest

from conftest import api_token, obj, org, proxy, upstream_headers, user

from test_module_cache import status, wait_for


@pytest.fixture
def env(nginx, redis, upstream):
    r = redis.client()
    org(r, "orgA")
    user(r, "alice", orgs={"orgA": ["organization-workspace-access"]})
    obj(r, "workspace", "w1", "orgA", owner="alice")
    obj(r, "workspace", "wc", "orgA", owner="carl")
    token = api_token(r, "t1", "alice", secret="redirect-secret")
    http = """
    rbac_redis 127.0.0.1:%d;
    rbac_cache_zone redir:1m ttl=60s;
""" % redis.port
    up = proxy(upstream)
    server = """
        location = /status { rbac_status; }
        location /up/ { rbac on; rbac_object workspace id=w1; %s }
        location /upc/ { rbac on; rbac_object workspace id=wc; %s }
        location /upx/ { rbac on; rbac_object workspace id=$arg_ws; %s }
        location /upoff/ {
            rbac on; rbac_object workspace id=w1; rbac_identity_headers off;
            %s
        }
        location = /hdroff {
            rbac on; rbac_object workspace id=w1;
            try_files /nope /upoff/hdroff;
        }
        location = /same {
            rbac on; rbac_object workspace id=w1;
            try_files /nope /up/same;
        }
        location = /other {
            rbac on; rbac_object workspace id=w1;
            try_files /nope /upc/other;
        }
        location = /args {
            rbac on; rbac_object workspace id=w1;
            try_files /nope /up/args?coder_session_token=another;
        }
        location = /argobj {
            rbac on; rbac_object workspace id=w1;
            try_files /nope /upx/argobj?ws=wc;
        }
        location = /ep {
            rbac on; rbac_object workspace id=w1;
            error_page 404 = /up/ep;
            try_files /nope =404;
        }
""" % (up, up, up, up)
    n = nginx(http, server)
    assert wait_for(lambda: all(w["subscribed"]
                                for w in status(n)["redis"]), 5)
    return n, token


def allows(n):
    return status(n)["decisions"]["allow"]


@pytest.mark.parametrize("path", ["/same", "/ep"])
def test_alike_location_one_decision(env, path):
    """Decided once (the allow counted once), identity headers sent once."""
    n, token = env
    for i in range(3):       # cold, from the zone, from the memo
        before = allows(n)
        resp = n.get(path, token=token)
        assert resp.status_code == 200, (i, resp.text)
        assert upstream_headers(resp, "X-Rbac-User") == ["alice"]
        assert upstream_headers(resp, "X-Rbac-Kind") == ["user"]
        assert allows(n) == before + 1, i


def test_other_object_decided_again(env):
    """The new location names another object: it decides, and refuses."""
    n, token = env
    for i in range(3):
        resp = n.get("/other", token=token)
        assert resp.status_code == 403, (i, resp.text)


def test_other_object_argument_decided_again(env):
    """Same declaration, but its argument evaluates to another object."""
    n, token = env
    for i in range(3):
        resp = n.get("/argobj", token=token)
        assert resp.status_code == 403, (i, resp.text)


def test_credential_read_again(env):
    """The redirect brings a second credential in the query: ambiguous."""
    n, token = env
    for i in range(3):
        resp = n.get("/args", token=token)
        assert resp.status_code == 401, (i, resp.text)


def test_headers_off_after_redirect_drop_earlier_identity(env):
    """A location reached by a redirect that decides again with
    rbac_identity_headers off sends its upstream no identity: the headers
    the first location set are not carried over."""
    n, token = env
    resp = n.get("/hdroff", token=token)
    assert resp.status_code == 200, resp.text
    assert upstream_headers(resp, "X-Rbac-User") == []
    assert upstream_headers(resp, "X-Rbac-Kind") == []
