"""rbac_cache_zone and the rbac:inv subscriber (docs/cache.md §2 and §5):
warm requests never reach Redis, a change published by the admin plane is
enforced by every worker of every nginx on the next request, a subscriber
that reconnects forgets what it may have missed, Redis down serves the cache
within `stale` and then 503, a full zone keeps answering, a reload keeps
the zone, concurrent misses are coalesced, and rbac_status counts it all."""

import json
import threading
import time

import pytest

from conftest import (SLOW, RedisServer, api_token, free_port, jwt_hs, obj,
                      org, pid_gone, proxy, put, user, wait_for)


def seed(r):
    org(r, "orgA", default_roles=["organization-workspace-access"])
    user(r, "alice", orgs={"orgA": []})
    user(r, "bob", orgs={"orgA": []})
    obj(r, "workspace", "w1", "orgA", owner="alice")
    obj(r, "template", "t1", "orgA", acl_groups={"orgA": "use"})


def conf(tmp_path, upstream, redis_port, zone="rbac:1m", cache="", extra=""):
    key = tmp_path / "hs.key"
    from conftest import HS_SECRET
    key.write_bytes(HS_SECRET)
    http = """
    rbac_redis 127.0.0.1:%d timeout=%dms;
    rbac_jwt_key %s alg=HS256;
    rbac_cache_zone %s %s;
    %s
""" % (redis_port, 500 * SLOW, key, zone, cache, extra)
    server = """
        location ~ ^/ws/([^/]+)$ { rbac on; rbac_object workspace id=$1; %(p)s }
        location ~ ^/tpl/([^/]+)$ {
            rbac on; rbac_object template id=$1; rbac_action use; %(p)s
        }
        location = /me { rbac on; %(p)s }
        location = /status { rbac_status; }
""" % {"p": proxy(upstream)}
    return http, server


def start(nginx, tmp_path, upstream, redis_port, workers=1, **kw):
    n = nginx(*conf(tmp_path, upstream, redis_port, **kw), workers=workers)
    all_subscribed(n, workers)
    return n


def publish(r, msg):
    """PUBLISH as rbacctl does it: then one more round trip, after which
    Redis has written the message to every subscriber (it writes them in
    the same pass as the publisher's reply, in no set order)."""
    got = r.publish("rbac:inv", msg)
    r.ping()
    return got


def mgets(r):
    return r.info("commandstats").get("cmdstat_mget", {}).get("calls", 0)


def status(n, fmt=""):
    resp = n.get("/status" + fmt)
    assert resp.status_code == 200, resp.text
    return resp.json() if not fmt else resp.text


def all_subscribed(n, workers):
    def ok():
        w = status(n)["redis"]
        return (len(w) == workers
                and all(x["subscribed"] and x["connected"] for x in w))
    assert wait_for(ok, 5 * SLOW, step=0.02), status(n)


def cache_of(n, path):
    return n.access_line(path).split("cache=")[1].split()[0]


# --------------------------------------------------------------------------

def test_warm_requests_never_reach_redis(nginx, redis, upstream, tmp_path):
    r = redis.client()
    seed(r)
    n = start(nginx, tmp_path, upstream, redis.port)
    tok = jwt_hs("alice")
    assert n.get("/ws/w1?a", token=tok).status_code == 200
    assert cache_of(n, "/ws/w1?a") == "miss"
    r.config_resetstat()
    for i in range(20):
        assert n.get("/ws/w1?b%d" % i, token=tok).status_code == 200
    assert mgets(r) == 0
    assert cache_of(n, "/ws/w1?b19") == "hit"
    # a cached absence is an answer too: bob's workspace w2 does not exist
    assert n.get("/ws/w2", token=jwt_hs("bob")).status_code == 403
    r.config_resetstat()
    assert n.get("/ws/w2", token=jwt_hs("bob")).status_code == 403
    # bob's user record is cached; the new token is verified once
    assert mgets(r) == 0
    st = status(n)
    assert st["cache"]["hits"] > 20 and st["cache"]["misses"] >= 3
    assert 0 < st["cache"]["bytes_used"] < st["cache"]["bytes_total"]


def test_publish_enforced_by_every_worker_of_two_nginx(nginx, redis,
                                                       upstream, tmp_path):
    """One SET + PUBLISH (what rbacctl does): the very next request to any
    worker of either nginx gets the new answer."""
    r = redis.client()
    seed(r)
    a = start(nginx, tmp_path, upstream, redis.port, workers=2, zone="a:1m")
    b = start(nginx, tmp_path, upstream, redis.port, workers=2, zone="b:1m")
    tok = jwt_hs("bob")
    obj(r, "workspace", "w3", "orgA", owner="bob")
    for n in (a, b):
        for _ in range(8):   # warm every worker (requests spread over both)
            assert n.get("/ws/w3", token=tok).status_code == 200
    for round_ in range(5):
        # bob leaves orgA: the workspace access role goes with it
        user(r, "bob", orgs={} if round_ % 2 == 0 else {"orgA": []})
        assert publish(r, "rbac:user:bob") == 4
        want = 403 if round_ % 2 == 0 else 200
        for n in (a, b):
            for _ in range(6):
                assert n.get("/ws/w3", token=tok).status_code == want
    assert status(a)["invalidations"] >= 10


def test_revoked_api_token_refused_at_once(nginx, redis, upstream, tmp_path):
    r = redis.client()
    seed(r)
    n = start(nginx, tmp_path, upstream, redis.port, workers=2)
    secret = api_token(r, "tok1", "alice")
    for _ in range(6):
        assert n.get("/ws/w1", token=secret).status_code == 200
    r.delete("rbac:token:tok1")
    publish(r, "rbac:token:tok1")
    for _ in range(6):
        resp = n.get("/ws/w1", token=secret)
        assert resp.status_code == 401
        assert resp.json()["detail"] == "unknown token"


def test_star_and_unknown_messages_forget_everything(nginx, redis, upstream,
                                                     tmp_path):
    r = redis.client()
    seed(r)
    n = start(nginx, tmp_path, upstream, redis.port)
    tok = jwt_hs("alice")
    assert n.get("/ws/w1", token=tok).status_code == 200
    for msg in ("*", "other:prefix:user:alice"):
        obj(r, "workspace", "w1", "orgA", owner="carol")   # unpublished
        publish(r, msg)
        assert n.get("/ws/w1", token=tok).status_code == 403
        obj(r, "workspace", "w1", "orgA", owner="alice")
        publish(r, msg)
        assert n.get("/ws/w1", token=tok).status_code == 200


def test_subscriber_reconnect_serves_nothing_stale(nginx, redis, upstream,
                                                   tmp_path):
    """Messages lost while the subscriber was away: its reconnect makes
    every entry stale, so a change nobody published is seen at once."""
    r = redis.client()
    seed(r)
    n = start(nginx, tmp_path, upstream, redis.port, workers=2)
    tok = jwt_hs("alice")
    for _ in range(6):
        assert n.get("/ws/w1", token=tok).status_code == 200
    r.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
    # the change made while nobody listens, never published
    obj(r, "workspace", "w1", "orgA", owner="carol")
    assert wait_for(lambda: r.pubsub_numsub("rbac:inv")[0][1] == 2, 5 * SLOW,
                    step=0.02)
    all_subscribed(n, 2)
    for _ in range(6):
        assert n.get("/ws/w1", token=tok).status_code == 403


def test_subscribe_refused_is_retried_with_backoff(nginx, redis, upstream,
                                                   tmp_path):
    """A SUBSCRIBE refused by an ACL is logged once as an error and retried
    with a growing backoff (not ten times a second); once allowed, the
    worker subscribes and enforces what is published."""
    r = redis.client()
    seed(r)
    r.execute_command("ACL", "SETUSER", "default", "resetchannels")
    n = nginx(*conf(tmp_path, upstream, redis.port), workers=1)
    time.sleep(3)
    refused = [l for l in n.log().splitlines() if "NOPERM" in l]
    assert 2 <= len(refused) <= 8, refused
    assert sum("[error]" in l for l in refused) == 1, refused
    assert not status(n)["redis"][0]["subscribed"]

    r.execute_command("ACL", "SETUSER", "default", "allchannels")
    all_subscribed(n, 1)
    tok = jwt_hs("alice")
    assert n.get("/ws/w1", token=tok).status_code == 200
    obj(r, "workspace", "w1", "orgA", owner="carol")
    assert publish(r, "rbac:obj:workspace:w1") == 1
    assert n.get("/ws/w1", token=tok).status_code == 403


def test_redis_down_serves_stale_then_503(nginx, tmp_path, upstream):
    port = free_port()
    rs = RedisServer(tmp_path / "redis", port=port).start()
    try:
        r = rs.client()
        seed(r)
        stale = 3 * SLOW
        n = start(nginx, tmp_path, upstream, port,
                  cache="ttl=60s stale=%ds" % stale)
        tok = jwt_hs("alice")
        assert n.get("/ws/w1", token=tok).status_code == 200
        assert n.get("/ws/w2", token=tok).status_code == 403
        t0 = time.monotonic()
        rs.stop()
        assert wait_for(lambda: not status(n)["redis"][0]["subscribed"],
                        5 * SLOW, step=0.02)
        # the subscriber's loss makes entries doubtful: Redis is asked,
        # fails, and the last answers serve, marked stale
        resp = n.get("/ws/w1?s1", token=tok)
        assert resp.status_code == 200
        assert cache_of(n, "/ws/w1?s1") == "stale"
        assert n.get("/ws/w2?s1", token=tok).status_code == 403
        # what was never cached has no stale answer
        assert n.get("/tpl/t1", token=tok).status_code == 503
        assert status(n)["cache"]["stale"] >= 2
        # beyond the stale window: 503
        time.sleep(max(0, stale + 0.3 - (time.monotonic() - t0)))
        assert n.get("/ws/w1?s2", token=tok).status_code == 503
        assert "decision=error" in n.access_line("/ws/w1?s2")
        # the token is cached with its subject, but a subject built from
        # stale records is not: what needs only the subject fails too
        assert n.get("/me", token=tok).status_code == 503
    finally:
        rs.stop()


def test_revoked_then_redis_down_is_not_served_stale(nginx, tmp_path,
                                                     upstream):
    port = free_port()
    rs = RedisServer(tmp_path / "redis", port=port).start()
    try:
        r = rs.client()
        seed(r)
        n = start(nginx, tmp_path, upstream, port)
        secret = api_token(r, "tok1", "alice")
        assert n.get("/ws/w1", token=secret).status_code == 200
        r.delete("rbac:token:tok1")
        publish(r, "rbac:token:tok1")
        rs.stop()
        assert n.get("/ws/w1", token=secret).status_code == 503
    finally:
        rs.stop()


def test_full_zone_keeps_answering(nginx, redis, upstream, tmp_path):
    """A zone of the smallest size and many more subjects than fit: every
    answer is still right, and the oldest entries were evicted."""
    r = redis.client()
    seed(r)
    pad = ["organization-workspace-access"] + ["role-%03d" % i
                                               for i in range(40)]
    for i in range(150):
        uid = "u%03d" % i
        user(r, uid, orgs={"orgA": pad} if i % 2 == 0 else {})
        obj(r, "workspace", "ws%03d" % i, "orgA", owner=uid)
    n = start(nginx, tmp_path, upstream, redis.port, zone="small:32k")
    for round_ in range(2):
        for i in range(150):
            resp = n.get("/ws/ws%03d" % i, token=jwt_hs("u%03d" % i))
            assert resp.status_code == (200 if i % 2 == 0 else 403), i
    st = status(n)["cache"]
    assert st["evictions"] > 0
    assert st["bytes_used"] <= st["bytes_total"]


def test_made_up_tokens_do_not_evict_entries_in_use(nginx, redis, upstream,
                                                    tmp_path):
    """A flood of API tokens nobody has fills the smallest zone with
    absences: they evict one another, and the warm user's entries stay,
    as does an absence in use (bob asking for a workspace that is not)."""
    r = redis.client()
    seed(r)
    n = start(nginx, tmp_path, upstream, redis.port, zone="small:32k")
    tok = jwt_hs("alice")
    assert n.get("/ws/w1", token=tok).status_code == 200

    def made_up(i):
        resp = n.get("/ws/w1", token="rnd%04d-made-up-secret" % i)
        assert resp.status_code == 401
        assert resp.json()["detail"] == "unknown token"

    for i in range(400):
        made_up(i)
    assert status(n)["cache"]["evictions"] > 0
    r.config_resetstat()
    assert n.get("/ws/w1?again", token=tok).status_code == 200
    assert mgets(r) == 0
    assert cache_of(n, "/ws/w1?again") == "hit"

    bob = jwt_hs("bob")
    assert n.get("/ws/w2", token=bob).status_code == 403
    for i in range(400, 440):
        made_up(i)
        before = mgets(r)
        assert n.get("/ws/w2?%d" % i, token=bob).status_code == 403
        assert mgets(r) == before, i


def test_reload_keeps_the_zone(nginx, tmp_path, upstream):
    """After nginx -s reload the new workers find the old entries: with
    Redis gone they still serve them (stale), which only a kept zone can."""
    port = free_port()
    rs = RedisServer(tmp_path / "redis", port=port).start()
    try:
        r = rs.client()
        seed(r)
        n = start(nginx, tmp_path, upstream, port)
        if n.pid is None:
            pytest.skip("reload needs a master process")
        tok = jwt_hs("alice")
        assert n.get("/ws/w1", token=tok).status_code == 200
        old = {w["pid"] for w in status(n)["redis"]}
        rs.stop()
        import os
        import signal
        os.kill(n.pid, signal.SIGHUP)
        assert wait_for(lambda: {w["pid"] for w in status(n)["redis"]}
                        .isdisjoint(old), 10 * SLOW, step=0.02)
        resp = n.get("/ws/w1?after", token=tok)
        assert resp.status_code == 200
        assert cache_of(n, "/ws/w1?after") == "stale"
    finally:
        rs.stop()


def test_reload_to_another_redis_serves_nothing_of_the_old(nginx, redis,
                                                           upstream, tmp_path):
    """After a reload that points rbac_redis elsewhere, the old Redis's
    entries are no answer, not even a stale one: with the new Redis down,
    a request that the old entries would have answered is a 503."""
    r = redis.client()
    seed(r)
    n = start(nginx, tmp_path, upstream, redis.port, cache="ttl=60s stale=300s")
    if n.pid is None:
        pytest.skip("reload needs a master process")
    tok = jwt_hs("alice")
    assert n.get("/ws/w1", token=tok).status_code == 200
    old = {w["pid"] for w in status(n)["redis"]}
    with open(n.conf) as f:
        text = f.read()
    with open(n.conf, "w") as f:
        f.write(text.replace("127.0.0.1:%d " % redis.port,
                             "127.0.0.1:%d " % free_port()))
    import os
    import signal
    os.kill(n.pid, signal.SIGHUP)

    # the old worker, on the old Redis, must not be the one answering
    assert wait_for(lambda: all(pid_gone(p) for p in old), 10 * SLOW,
                    step=0.02)
    resp = n.get("/ws/w1?after", token=tok)
    assert resp.status_code == 503, resp.text
    assert cache_of(n, "/ws/w1?after") != "stale"


def test_concurrent_misses_are_coalesced(nginx, redis, upstream, tmp_path):
    r = redis.client()
    seed(r)
    n = start(nginx, tmp_path, upstream, redis.port)
    tok = jwt_hs("alice")
    r.config_resetstat()
    r.execute_command("CLIENT", "PAUSE", 300 * SLOW, "ALL")
    got = []

    def one():
        got.append(n.get("/ws/w1", token=tok).status_code)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == [200] * 8
    # the user record and the object: asked for once, not eight times
    assert mgets(r) <= 3, mgets(r)
    # yet every one of them was answered from Redis, not from the cache

    def logged():
        lines = [l for l in n.access().splitlines() if "/ws/w1 " in l]
        return len(lines) == 8 and all("cache=miss" in l for l in lines)
    assert wait_for(logged, 3 * SLOW, step=0.02), n.access()


def test_jwt_cached_never_past_exp(nginx, redis, upstream, tmp_path):
    """A verified token is cached, but only until its exp, to the
    millisecond: with no leeway it is refused 0.3 s after exp, though the
    zone's ttl is 60 s."""
    r = redis.client()
    seed(r)
    n = start(nginx, tmp_path, upstream, redis.port,
              extra="rbac_jwt_leeway 0s;")
    import jwt as pyjwt
    from conftest import HS_SECRET
    exp = time.time() + 1.5
    tok = pyjwt.encode({"sub": "alice", "exp": int(exp)}, HS_SECRET,
                       algorithm="HS256")
    exp = int(exp)
    assert n.get("/ws/w1", token=tok).status_code == 200
    hits = status(n)["cache"]["hits"]
    assert n.get("/ws/w1?again", token=tok).status_code == 200
    # the token with its subject (the user's record, IdP sync applied),
    # then the object, its org and the deployment
    assert status(n)["cache"]["hits"] - hits == 4
    time.sleep(max(0, exp + 0.3 - time.time()))
    resp = n.get("/ws/w1?late", token=tok)
    assert resp.status_code == 401, resp.text
    assert resp.json()["detail"] == "expired"


def test_subject_lives_no_longer_than_its_records(nginx, redis, upstream,
                                                  tmp_path):
    """A token's subject is built of cached records: it is kept no longer
    than ttl from the oldest of them, so a change that was never published
    is seen within ttl, as for the records themselves."""
    r = redis.client()
    seed(r)
    ttl = 3 * SLOW
    n = start(nginx, tmp_path, upstream, redis.port, cache="ttl=%ds" % ttl)
    t0 = time.monotonic()
    assert n.get("/ws/w1", token=jwt_hs("alice")).status_code == 200
    time.sleep(max(0, t0 + 0.5 * ttl - time.monotonic()))
    # another token of alice's: its subject is built of her record, cached
    # half a ttl ago (kept until t0 + ttl, not t0 + 1.5 ttl)
    tok = jwt_hs("alice", jti="second")
    assert n.get("/ws/w1?second", token=tok).status_code == 200
    assert time.monotonic() < t0 + 0.9 * ttl, "too slow to tell"
    user(r, "alice", status="suspended", orgs={"orgA": []})   # unpublished
    time.sleep(max(0, t0 + 1.25 * ttl - time.monotonic()))
    resp = n.get("/ws/w1?late", token=tok)
    assert resp.status_code == 403, resp.text
    assert resp.json()["detail"] == "account suspended"


class DelayingProxy:
    """Between nginx and Redis: while .delay is set, replies to every
    connection but the subscriber are held back 0.4 s."""

    def __init__(self, redis_port):
        import asyncio
        self.delay = False
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        started = threading.Event()

        async def pipe(src, dst, delayed):
            try:
                while True:
                    b = await src.read(65536)
                    if not b:
                        break
                    if delayed and self.delay:
                        await asyncio.sleep(0.4 * SLOW)
                    dst.write(b)
                    await dst.drain()
            except Exception:
                pass
            dst.close()

        async def handle(cr, cw):
            sr, sw = await asyncio.open_connection("127.0.0.1", redis_port)
            first = await cr.read(65536)
            sub = b"SUBSCRIBE" in first.upper()
            sw.write(first)
            await sw.drain()
            await asyncio.gather(pipe(cr, sw, False), pipe(sr, cw, not sub))

        def run():
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(
                asyncio.start_server(handle, "127.0.0.1", self.port))
            started.set()
            self.loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        started.wait(5)

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)


def test_no_request_joins_a_lookup_older_than_a_change(nginx, redis,
                                                       upstream, tmp_path):
    """A lookup sent before a change, whose reply is late: a request that
    comes after the invalidation must not be answered by it."""
    r = redis.client()
    seed(r)
    proxy_ = DelayingProxy(redis.port)
    try:
        n = start(nginx, tmp_path, upstream, proxy_.port)
        tok = jwt_hs("alice")
        # all cached but the object: A's lookup is one MGET, for it alone
        assert n.get("/ws/w1", token=tok).status_code == 200
        publish(r, "rbac:obj:workspace:w1")
        got = {}
        proxy_.delay = True
        t = threading.Thread(target=lambda: got.update(
            a=n.get("/ws/w1?A", token=tok).status_code))
        t.start()
        time.sleep(0.15 * SLOW)   # A's MGET answered (old record), held
        proxy_.delay = False      # later replies wait only behind A's
        obj(r, "workspace", "w1", "orgA", owner="carol")
        publish(r, "rbac:obj:workspace:w1")
        time.sleep(0.05 * SLOW)
        b = n.get("/ws/w1?B", token=tok).status_code
        t.join()
        assert got["a"] == 200    # decided on what Redis said before
        assert b == 403
        assert n.get("/ws/w1?C", token=tok).status_code == 403
    finally:
        proxy_.stop()


def test_status_json_and_prometheus(nginx, redis, upstream, tmp_path):
    r = redis.client()
    seed(r)
    n = start(nginx, tmp_path, upstream, redis.port, workers=2)
    assert n.get("/ws/w1", token=jwt_hs("alice")).status_code == 200
    assert n.get("/ws/w1", token=jwt_hs("bob")).status_code == 403
    assert n.get("/ws/w1").status_code == 401
    assert n.get("/ws/w1", token="x.y.z").status_code == 401
    st = status(n)
    assert set(st) == {"decisions", "unauthorized", "cache", "redis",
                       "invalidations", "references", "ids_refused"}
    assert st["decisions"]["allow"] == 1
    assert st["decisions"]["deny"] == 3
    assert st["decisions"]["shadow_deny"] == 0
    assert st["decisions"]["error"] == 0
    assert st["unauthorized"] == {"no credential": 1, "malformed token": 1}
    assert set(st["cache"]) == {"hits", "misses", "stale", "evictions",
                                "bytes_used", "bytes_total"}
    assert st["cache"]["bytes_total"] == 1024 * 1024
    assert len(st["redis"]) == 2
    for w in st["redis"]:
        assert set(w) == {"pid", "connected", "subscribed", "inflight"}
        assert w["connected"] and w["subscribed"] and w["inflight"] == 0
    text = status(n, "?format=prometheus")
    assert 'rbac_decisions_total{decision="allow"} 1\n' in text
    assert 'rbac_unauthorized_total{reason="no credential"} 1\n' in text
    assert "rbac_cache_hits_total " in text
    assert 'rbac_cache_bytes{state="total"} 1048576\n' in text
    assert text.count("rbac_redis_connected{pid=") == 2
    assert "rbac_invalidations_total " in text
    assert json.loads(json.dumps(st))   # plain JSON


def test_cache_zone_config_errors(nginx, tmp_path):
    for bad, msg in (("rbac_cache_zone rbac;", "invalid zone"),
                     ("rbac_cache_zone rbac:1k;", "too small"),
                     ("rbac_cache_zone rbac:1m ttl=0;", "invalid parameter"),
                     ("rbac_cache_zone rbac:1m foo=1;", "invalid parameter"),
                     ("rbac_cache_zone a:1m; rbac_cache_zone b:1m;",
                      "is duplicate")):
        n = nginx(http="rbac_redis 127.0.0.1:1;\n" + bad, run=False)
        rc, err = n.test_config()
        assert rc != 0 and msg in err, (bad, err)
