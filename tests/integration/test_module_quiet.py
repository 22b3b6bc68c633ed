"""The module costs nothing until a location uses it, and stays quiet when
Redis fails: no connection from a configuration without `rbac on`, one
[error] per outage against a server that accepts and drops connections, and
a summary a second (not a line a request) while requests are refused."""

import re
import socket
import threading
import time

from conftest import HS_SECRET, SLOW, free_port, proxy, tok


class Listener:
    """A TCP server on loopback that counts the connections it accepts and
    closes each at once (a Redis that accepts and drops)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.stopping = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            c.close()

    def close(self):
        self.stopping = True
        self.thread.join(2)
        self.sock.close()


def http_conf(tmp_path, addr, extra=""):
    key = tmp_path / "hs.key"
    key.write_bytes(HS_SECRET)
    return """
    rbac_redis %s timeout=%dms;
    rbac_jwt_key %s alg=HS256;
    %s
""" % (addr, 200 * SLOW, key, extra)


def rbac_lines(log, level):
    return [l for l in log.splitlines()
            if "[%s]" % level in l and "rbac" in l]


def test_no_rbac_on_means_no_redis_connection(nginx, tmp_path, upstream):
    lst = Listener()
    try:
        n = nginx(http_conf(tmp_path, "127.0.0.1:%d" % lst.port,
                            "rbac_cache_zone rbac:1m;"),
                  "location / { %s }" % proxy(upstream), workers=2)
        assert n.get("/x").status_code == 200
        time.sleep(1.5)
        assert lst.accepted == 0
        log = n.log()
        assert "rbac" not in log, log
        assert "[error]" not in log, log
    finally:
        lst.close()


def test_accepting_and_dropping_server_logs_one_error(nginx, tmp_path,
                                                      upstream):
    lst = Listener()
    try:
        n = nginx(http_conf(tmp_path, "127.0.0.1:%d" % lst.port),
                  "location / { rbac on; %s }" % proxy(upstream))
        time.sleep(3)
        log = n.log()
        # the worker did try, more than once, under its backoff
        assert lst.accepted >= 2, log
        assert len(rbac_lines(log, "error")) == 1, log
    finally:
        lst.close()


def test_requests_while_redis_is_down_log_a_summary(nginx, tmp_path,
                                                    upstream):
    n = nginx(http_conf(tmp_path, "127.0.0.1:%d" % free_port()),
              "location / { rbac on; %s }" % proxy(upstream))
    t = tok()
    s = __import__("requests").Session()
    started = time.monotonic()
    for _ in range(200):
        r = s.get(n.url + "/x", headers={"Authorization": "Bearer " + t},
                  timeout=10 * SLOW)
        assert r.status_code == 503
    elapsed = time.monotonic() - started
    n.get("/x", token=t)
    log = n.log()
    warns = rbac_lines(log, "warn")
    # one line a second at most, plus the first
    assert 1 <= len(warns) <= int(elapsed) + 2, log
    assert re.search(r"unavailable: \d+ requests refused", warns[0]), log
    total = sum(int(m.group(1)) for m in
                (re.search(r"unavailable: (\d+) requests refused", w)
                 for w in warns))
    assert total <= 201
