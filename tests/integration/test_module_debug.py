"""`error_log ... debug` tells the story of each worker's Redis
connections (the packaged nginx is built --with-debug): connecting, up,
AUTH and SELECT done, ready, subscribed, closed with the reason, and when
the next connect is due."""

import time

from conftest import SLOW, RedisServer
from test_module_sentinel import MASTER, Cluster
from tls_certs import Pki


def wait_lines(path, needles, timeout):
    """The needles not (yet) found in the file after `timeout` seconds."""
    deadline = time.monotonic() + timeout * SLOW
    while True:
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            text = ""
        missing = [n for n in needles if n not in text]
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(0.05)


def test_debug_log_follows_the_redis_connections(nginx, tmp_path):
    rs = RedisServer(tmp_path / "redis", password="pw-debug")
    rs.start()
    try:
        pw = tmp_path / "redis.pw"
        pw.write_text("pw-debug\n")
        addr = "127.0.0.1:%d" % rs.port
        n = nginx(http="rbac_redis %s password=%s db=2;\n"
                       "rbac_cache_zone rbac:1m;" % (addr, pw),
                  server="location / { rbac on; }",
                  main="error_log debug.log debug;")
        debug = n.prefix + "/debug.log"
        name = "rbac redis " + addr

        assert wait_lines(debug, [
            name + " commands: connecting to 127.0.0.1 port %d" % rs.port,
            "rbac link %s: up" % addr,
            name + " commands: connected",
            name + " commands: AUTH done",
            name + " commands: SELECT done",
            name + " commands: ready (PING answered)",
            name + " subscriber: AUTH done",
            name + " subscriber: subscribed to rbac:inv",
        ], 10) == []

        rs.stop()

        assert wait_lines(debug, [
            name + " commands: closed: ",
            name + " subscriber: unsubscribed",
            name + " commands: next connect in ",
        ], 10) == []
    finally:
        rs.stop()


def test_debug_log_follows_tls_and_the_sentinels(nginx, tmp_path):
    pki = Pki(tmp_path / "pki")
    cert, key = pki.leaf("server", ("localhost",), ("127.0.0.1",))
    tls = {"cert": cert, "key": key, "ca": pki.ca}
    rs = RedisServer(tmp_path / "redis-tls", tls=tls)
    rs.start()
    try:
        addr = "127.0.0.1:%d" % rs.port
        n = nginx(http="rbac_redis %s ssl ssl_trusted_certificate=%s;"
                       % (addr, pki.ca),
                  server="location / { rbac on; }",
                  main="error_log debug.log debug;")
        assert wait_lines(n.prefix + "/debug.log", [
            "rbac link %s: connected, TLS handshake" % addr,
            "rbac link %s: TLS handshake done: TLSv1." % addr,
            ", certificate verified",
            "rbac redis %s commands: ready (PING answered)" % addr,
        ], 10) == []
    finally:
        rs.stop()

    cluster = Cluster(tmp_path / "cluster")
    try:
        cluster.start(failover=False)
        n = nginx(http="rbac_redis sentinel=%s master=%s;"
                       % (cluster.sentinels(), MASTER),
                  server="location / { rbac on; }",
                  main="error_log debug.log debug;")
        dead = "127.0.0.1:%d" % cluster.dead
        live = "127.0.0.1:%d" % cluster.sentinel.port
        master = "127.0.0.1:%d" % cluster.master.port
        assert wait_lines(n.prefix + "/debug.log", [
            "commands: connect waits for the sentinels",
            'rbac sentinel: round for master "%s"' % MASTER,
            "rbac sentinel %s: asked" % dead,
            "rbac sentinel %s: asked" % live,
            "rbac sentinel %s: answered %s" % (live, master),
            "the sentinels say: the master's address",
            'rbac sentinel: master "%s" handed over: %s' % (MASTER, master),
            "rbac sentinel: ROLE of %s: master" % master,
            "commands: ready (PING answered)",
        ], 10) == []
    finally:
        cluster.stop()
