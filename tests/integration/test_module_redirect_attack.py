"""An allow carried over an internal redirect (ngx_http_rbac_memo_redirect)
only where it still holds: the new location's upstream learns the identity
it was decided for, and a credential replaced between the passes is read
again."""

from conftest import (api_token, free_port, obj, org, proxy, upstream_headers,
                      user)

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


def test_query_credential_changed_by_redirects(nginx, redis, upstream):
    """The query string the credential was read from is replaced after the
    allow: by the upstream's X-Accel-Redirect, or by the new location's
    own `set $args`.  The new location reads the new one (bob's token: a
    403), never carries alice's allow over."""
    r = redis.client()
    org(r, "orgA")
    user(r, "alice", orgs={"orgA": ["organization-workspace-access"]})
    user(r, "bob", orgs={})
    obj(r, "workspace", "w1", "orgA", owner="alice")
    alice = api_token(r, "ta", "alice", secret="alice-secret")
    bob = api_token(r, "tb", "bob", secret="bob-secret")
    back = free_port()
    http = """
    rbac_redis 127.0.0.1:%d;
    rbac_cache_zone redir:1m ttl=60s;
    server {
        listen 127.0.0.1:%d;
        location / {
            add_header X-Accel-Redirect
                       "/up/xa?coder_session_token=$arg_next";
            return 200 "redirected\\n";
        }
    }
""" % (redis.port, back)
    server = """
        location = /status { rbac_status; }
        location /up/ { rbac on; rbac_object workspace id=w1; %s }
        location /set/ {
            set $args "coder_session_token=%s";
            rbac on; rbac_object workspace id=w1; %s
        }
        location = /xa {
            rbac on; rbac_object workspace id=w1;
            proxy_pass http://127.0.0.1:%d;
        }
        location = /sa {
            rbac on; rbac_object workspace id=w1;
            try_files /nope /set/sa?$args;
        }
""" % (proxy(upstream), bob, proxy(upstream), back)
    n = nginx(http, server)
    assert wait_for(lambda: all(w["subscribed"]
                                for w in status(n)["redis"]), 5)
    for i in range(3):       # cold, from the zone, from the memo
        resp = n.get("/up/plain?coder_session_token=" + alice)
        assert resp.status_code == 200, (i, resp.text)
        resp = n.get("/xa?coder_session_token=%s&next=%s" % (alice, bob))
        assert resp.status_code == 403, (i, resp.text)
        resp = n.get("/sa?coder_session_token=" + alice)
        assert resp.status_code == 403, (i, resp.text)
