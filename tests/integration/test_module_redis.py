"""Redis as the module sees it: one MGET per round, AUTH/SELECT/prefix,
unix sockets, a slow (paused) Redis, a Redis restarted mid-run, a client
that goes away while waiting, large and malformed records."""

import os
import socket
import threading
import time

import pytest

from conftest import (HS_SECRET, SLOW, RedisServer, free_port, obj, org, proxy,
                      put, tok, user, wait_for)


def seed(r, prefix="rbac:"):
    put(r, "org:orgA", {"id": "orgA", "name": "A",
                        "default_org_member_roles":
                            ["organization-workspace-access"]}, prefix)
    put(r, "user:alice", {"id": "alice", "orgs": {"orgA": []}}, prefix)
    put(r, "obj:workspace:w1", {"type": "workspace", "id": "w1",
                                "org": "orgA", "owner": "alice"}, prefix)


def conf(tmp_path, upstream, redis_addr, extra="", timeout=300):
    timeout = "%dms" % (timeout * SLOW)
    key = tmp_path / "hs.key"
    key.write_bytes(HS_SECRET)
    http = """
    rbac_redis %s timeout=%s %s;
    rbac_jwt_key %s alg=HS256;
""" % (redis_addr, timeout, extra, key)
    server = """
        location ~ ^/ws/([^/]+)$ { rbac on; rbac_object workspace id=$1; %(p)s }
        location /open/ { %(p)s }
""" % {"p": proxy(upstream)}
    return http, server


def assert_503(resp):
    assert resp.status_code == 503, resp.text
    assert resp.headers["Retry-After"] == "1"
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.json() == {"message": "Authorization unavailable"}


def test_one_mget_per_round_no_single_gets(nginx, redis, upstream, tmp_path):
    r = redis.client()
    seed(r)
    n = nginx(*conf(tmp_path, upstream, "127.0.0.1:%d" % redis.port))
    r.config_resetstat()
    assert n.get("/ws/w1", token=tok()).status_code == 200
    stats = r.info("commandstats")
    assert "cmdstat_get" not in stats
    # user + object + deployment, then org, then nothing more
    assert 1 <= stats["cmdstat_mget"]["calls"] <= 3


def test_paused_redis_503_at_timeout_others_unaffected(nginx, redis,
                                                       upstream, tmp_path):
    r = redis.client()
    seed(r)
    n = nginx(*conf(tmp_path, upstream, "127.0.0.1:%d" % redis.port))
    assert n.get("/ws/w1", token=tok()).status_code == 200

    results = []

    def gated():
        t0 = time.monotonic()
        resp = n.get("/ws/w1", token=tok())
        results.append((resp, time.monotonic() - t0))

    r.execute_command("CLIENT", "PAUSE", 2500 * SLOW, "ALL")
    threads = [threading.Thread(target=gated) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.05)
    for _ in range(5):
        t0 = time.monotonic()
        resp = n.get("/open/x")
        assert resp.status_code == 200
        assert time.monotonic() - t0 < 0.2 * SLOW
    for t in threads:
        t.join()
    assert len(results) == 4
    for resp, elapsed in results:
        assert_503(resp)
        assert 0.25 <= elapsed < 1.5 * SLOW
    assert "decision=error" in n.access_line("/ws/w1 HTTP/1.1 503")
    # after the pause the late replies are dropped and service resumes
    assert wait_for(lambda: n.get("/ws/w1", token=tok()).status_code == 200,
                    5 * SLOW)


def test_redis_restart_reconnects_without_reload(nginx, tmp_path, upstream):
    port = free_port()
    rs = RedisServer(tmp_path / "redis", port=port).start()
    try:
        seed(rs.client())
        n = nginx(*conf(tmp_path, upstream, "127.0.0.1:%d" % port))
        assert n.get("/ws/w1", token=tok()).status_code == 200
        rs.stop()
        t0 = time.monotonic()
        assert_503(n.get("/ws/w1", token=tok()))
        assert time.monotonic() - t0 < 0.25 * SLOW   # fail fast, no wait
        time.sleep(0.5)
        rs = RedisServer(tmp_path / "redis", port=port).start()
        seed(rs.client())
        # backoff is capped at 2 s
        assert wait_for(
            lambda: n.get("/ws/w1", token=tok()).status_code == 200,
            4 * SLOW)
        assert "connected" in n.log()
    finally:
        rs.stop()


def test_redis_down_from_start_is_503(nginx, tmp_path, upstream):
    n = nginx(*conf(tmp_path, upstream, "127.0.0.1:%d" % free_port()))
    assert_503(n.get("/ws/w1", token=tok()))
    assert n.get("/open/x").status_code == 200


def test_auth_select_and_prefix(nginx, tmp_path, upstream):
    rs = RedisServer(tmp_path / "redis", password="pw-123").start()
    try:
        c = rs.client()
        c.select(3)
        seed(c, prefix="app1:")
        pw = tmp_path / "redis.pw"
        pw.write_text("pw-123\n")
        n = nginx(*conf(tmp_path, upstream, "127.0.0.1:%d" % rs.port,
                        extra="db=3 password=%s prefix=app1:" % pw))
        assert n.get("/ws/w1", token=tok()).status_code == 200
    finally:
        rs.stop()


def test_wrong_password_is_503_and_logged(nginx, tmp_path, upstream):
    rs = RedisServer(tmp_path / "redis", password="right").start()
    try:
        pw = tmp_path / "redis.pw"
        pw.write_text("wrong")
        n = nginx(*conf(tmp_path, upstream, "127.0.0.1:%d" % rs.port,
                        extra="password=%s" % pw))
        assert_503(n.get("/ws/w1", token=tok()))
        assert wait_for(lambda: "AUTH failed" in n.log(), 3)
    finally:
        rs.stop()


def test_unix_socket(nginx, tmp_path, upstream):
    sock = str(tmp_path / "redis.sock")
    rs = RedisServer(tmp_path / "redis",
                     extra=["--unixsocket", sock,
                            "--unixsocketperm", "777"]).start()
    try:
        seed(rs.client())
        n = nginx(*conf(tmp_path, upstream, "unix:" + sock))
        assert n.get("/ws/w1", token=tok()).status_code == 200
    finally:
        rs.stop()


def test_client_gone_while_waiting_leaves_nothing(nginx, redis, upstream,
                                                   tmp_path):
    r = redis.client()
    seed(r)
    n = nginx(*conf(tmp_path, upstream, "127.0.0.1:%d" % redis.port,
                    timeout=1500))
    assert n.get("/ws/w1", token=tok()).status_code == 200
    r.execute_command("CLIENT", "PAUSE", 800 * SLOW, "ALL")
    socks = []
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", n.port))
        s.sendall(("GET /ws/w1 HTTP/1.1\r\nHost: x\r\n"
                   "Authorization: Bearer %s\r\n\r\n" % tok()).encode())
        socks.append(s)
    time.sleep(0.2)
    for s in socks:
        s.close()
    assert wait_for(lambda: n.access().count(" 499 ") == 3, 2 * SLOW)
    time.sleep(1.0 * SLOW)   # the late replies arrive and are dropped
    assert n.get("/ws/w1", token=tok()).status_code == 200


def test_large_record(nginx, redis, upstream, tmp_path):
    r = redis.client()
    seed(r)
    obj(r, "workspace", "big", "orgA", owner="alice",
        deprecated={"message": "x" * 200000, "link": ""})
    n = nginx(*conf(tmp_path, upstream, "127.0.0.1:%d" % redis.port))
    for _ in range(3):
        assert n.get("/ws/big", token=tok()).status_code == 200
        assert n.get("/ws/w1", token=tok()).status_code == 200


def test_malformed_record_is_503_naming_the_key(nginx, redis, upstream,
                                                 tmp_path):
    r = redis.client()
    seed(r)
    r.set("rbac:obj:workspace:bad", "{not json")
    n = nginx(*conf(tmp_path, upstream, "127.0.0.1:%d" % redis.port))
    assert_503(n.get("/ws/bad", token=tok()))
    assert 'malformed record "obj:workspace:bad"' in n.log()
    assert "decision=error" in n.access_line("/ws/bad")


def test_two_workers_both_answer(nginx, redis, upstream, tmp_path):
    r = redis.client()
    seed(r)
    n = nginx(*conf(tmp_path, upstream, "127.0.0.1:%d" % redis.port),
              workers=2)
    assert wait_for(lambda: len(r.client_list()) >= 3, 3)
    for _ in range(20):
        assert n.get("/ws/w1", token=tok()).status_code == 200
