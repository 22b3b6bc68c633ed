"""Internal redirects through locations that do not decide
(ngx_http_rbac_memo_redirect): an allow carried over to a later location
must still send that location's upstream the identity of the request."""

from conftest import api_token, obj, org, proxy, upstream_headers, user

from test_module_cache import status, wait_for


def test_identity_kept_through_location_without_rbac(nginx, redis, upstream):
    """/via decides and allows (identity headers set), a location with rbac
    off in between strips X-Rbac-* (rbac_identity_headers is on there), and
    /up/ decides alike: its upstream must still learn who the user is."""
    r = redis.client()
    org(r, "orgA")
    user(r, "alice", orgs={"orgA": ["organization-workspace-access"]})
    obj(r, "workspace", "w1", "orgA", owner="alice")
    token = api_token(r, "t1", "alice", secret="redirect-secret")
    http = """
    rbac_redis 127.0.0.1:%d;
    rbac_cache_zone redir:1m ttl=60s;
""" % redis.port
    server = """
        location = /status { rbac_status; }
        location /up/ { rbac on; rbac_object workspace id=w1; %s }
        location /off/ { rbac off; try_files /nope /up/x; }
        location = /via {
            rbac on; rbac_object workspace id=w1;
            try_files /nope /off/x;
        }
""" % proxy(upstream)
    n = nginx(http, server)
    assert wait_for(lambda: all(w["subscribed"]
                                for w in status(n)["redis"]), 5)
    for i in range(3):       # cold, from the zone, from the memo
        resp = n.get("/via", token=token)
        assert resp.status_code == 200, (i, resp.text)
        assert upstream_headers(resp, "X-Rbac-User") == ["alice"], i
        assert upstream_headers(resp, "X-Rbac-Kind") == ["user"], i
