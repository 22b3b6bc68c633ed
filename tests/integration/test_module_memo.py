"""The per-worker decision memo (ngx_http_rbac_memo.c): an allow repeated
from the memo is refused on the very next request once the worker has
taken in a change: a revoked API token, a role taken away, IdP sync
settings changed, a reload with another role catalog.  Each case first
repeats the allow until it is answered from the memo (the first request
fills the cache, the second decides from it and is kept, the third is
answered from the memo), then makes the change, waits until the worker
counted the invalidation, and asks once."""

import json
import os
import shutil
import signal

import pytest

from conftest import (ROOT, SLOW, api_token, jwt_hs, obj, org, pid_gone, proxy,
                      put, user, wait_for)

from test_module_cache import publish, status

CATALOG = os.path.join(ROOT, "conf-examples", "roles", "coder.json")


def seed(r):
    org(r, "orgA")
    user(r, "alice", orgs={"orgA": ["organization-workspace-access"]})
    obj(r, "workspace", "w1", "orgA", owner="alice")
    obj(r, "workspace", "wc", "orgA", owner="carl")
    put(r, "idpsync", {"version": 1, "organization": {
        "field": "memberOf", "mapping": {"team-a": ["orgA"]},
        "assign_default": False},
        "org_roles": {"orgA": {"field": "roles", "mapping": {
            "ws": ["organization-workspace-access"]}}}})
    return api_token(r, "t1", "alice", secret="memo-secret")


@pytest.fixture
def env(nginx, redis, upstream, tmp_path):
    from conftest import HS_SECRET
    (tmp_path / "hs.key").write_bytes(HS_SECRET)
    catalog = tmp_path / "roles.json"
    shutil.copy(CATALOG, catalog)
    r = redis.client()
    token = seed(r)
    http = """
    rbac_redis 127.0.0.1:%d timeout=%dms;
    rbac_jwt_key %s alg=HS256;
    rbac_roles %s;
    rbac_cache_zone memo:1m ttl=60s;
""" % (redis.port, 500 * SLOW, tmp_path / "hs.key", catalog)
    server = """
        location ~ ^/ws/([^/]+)$ { rbac on; rbac_object workspace id=$1; %s }
        location = /status { rbac_status; }
""" % proxy(upstream)
    n = nginx(http, server)
    assert wait_for(lambda: all(w["subscribed"]
                                for w in status(n)["redis"]),
                    5 * SLOW, step=0.02)
    return n, r, token, catalog


def remembered(n, path, token):
    """The allow, three times: the last one from the memo."""
    for i in range(3):
        resp = n.get(path, token=token)
        assert resp.status_code == 200, (i, resp.text)
    assert n.access_line(path).split("cache=")[1].split()[0] == "hit"


def change(n, r, key):
    """Publishes key and waits until the worker has counted it."""
    before = status(n)["invalidations"]
    publish(r, "rbac:" + key)
    assert wait_for(lambda: status(n)["invalidations"] > before, 5 * SLOW,
                    step=0.02)


def test_revoked_token_refused_at_once(env):
    n, r, token, _ = env
    remembered(n, "/ws/w1", token)
    r.delete("rbac:token:t1")
    change(n, r, "token:t1")
    resp = n.get("/ws/w1", token=token)
    assert resp.status_code == 401, resp.text


def test_role_taken_away_refused_at_once(env):
    n, r, token, _ = env
    remembered(n, "/ws/w1", token)
    user(r, "alice", orgs={"orgA": []})
    change(n, r, "user:alice")
    resp = n.get("/ws/w1", token=token)
    assert resp.status_code == 403, resp.text


def test_idp_settings_change_refused_at_once(env):
    n, r, _, _ = env
    tok = jwt_hs("carl", memberOf=["team-a"], roles=["ws"])
    remembered(n, "/ws/wc", tok)
    settings = json.loads(r.get("rbac:idpsync"))
    settings["org_roles"]["orgA"]["mapping"] = {}
    put(r, "idpsync", settings)
    change(n, r, "idpsync")
    resp = n.get("/ws/wc", token=tok)
    assert resp.status_code == 403, resp.text


def test_reload_with_another_catalog_refused_at_once(env):
    n, r, token, catalog = env
    if n.pid is None:
        pytest.skip("reload needs a master process")
    remembered(n, "/ws/w1", token)
    with open(catalog) as f:
        cat = json.load(f)
    for role in cat["roles"]:
        if role["name"] == "organization-workspace-access":
            role["member"] = [p for p in role["member"]
                              if p["resource_type"] != "workspace"]
    with open(catalog, "w") as f:
        json.dump(cat, f)
    old = {w["pid"] for w in status(n)["redis"]}
    os.kill(n.pid, signal.SIGHUP)

    assert wait_for(lambda: all(pid_gone(p) for p in old), 10 * SLOW,
                    step=0.02)
    resp = n.get("/ws/w1", token=token)
    assert resp.status_code == 403, resp.text
