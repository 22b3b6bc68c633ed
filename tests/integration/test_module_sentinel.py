"""rbac_redis sentinel=... master=...: the master found through Redis
Sentinel and followed across a failover.

Real processes on loopback ports the test picks: a master, a replica of it,
and a `redis-server --sentinel` watching them with short timeouts (never the
packaged service).  The sentinel list given to nginx starts with an address
nothing listens on, so every lookup also exercises asking "in turn".
"""

import socketserver
import threading
import time

import pytest

from conftest import (HS_SECRET, SLOW, RedisServer, free_port, proxy, put,
                      rbacctl, seed_workspace, tok, wait_for)
from redis_server import (DOWN_AFTER_MS, FAILOVER_TIMEOUT_MS,
                          SENTINEL_MASTER, Sentinel)

MASTER = SENTINEL_MASTER
# the module's reconnect backoff is capped at 2 s, plus jitter and a lookup
RECONNECT_S = 2.5


def assert_503(resp):
    assert resp.status_code == 503, resp.text
    assert resp.json() == {"message": "Authorization unavailable"}


class Cluster:
    def __init__(self, tmp_path):
        self.master = RedisServer(tmp_path / "master").start()
        self.replica = RedisServer(
            tmp_path / "replica",
            extra=["--replicaof", "127.0.0.1", str(self.master.port)]).start()
        self.sentinel = Sentinel(tmp_path / "sentinel", self.master.port)
        self.dead = free_port()     # a sentinel address nothing answers on

    def start(self, failover=True):
        assert wait_for(lambda: self.replica.client().info("replication")
                        ["master_link_status"] == "up", 10)
        self.sentinel.start()
        # a failover needs a replica the sentinel has seen healthy
        assert not failover or wait_for(lambda: self.sentinel.knows_replica(
            self.replica.port), 15), self.sentinel.log()
        return self

    def sentinels(self):
        return "127.0.0.1:%d,127.0.0.1:%d" % (self.dead, self.sentinel.port)

    def stop(self):
        self.sentinel.stop()
        self.replica.stop()
        self.master.stop()


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(tmp_path)
    try:
        yield c
    finally:
        c.stop()


def conf(tmp_path, upstream, sentinels, extra=""):
    key = tmp_path / "hs.key"
    key.write_bytes(HS_SECRET)
    http = """
    rbac_redis sentinel=%s master=%s timeout=%dms %s;
    rbac_jwt_key %s alg=HS256;
""" % (sentinels, MASTER, 300 * SLOW, extra, key)
    server = """
        location ~ ^/ws/([^/]+)$ { rbac on; rbac_object workspace id=$1; %(p)s }
        location /open/ { %(p)s }
""" % {"p": proxy(upstream)}
    return http, server


def nginx_clients(r):
    """Connections on this Redis that have sent MGET: nginx's."""
    return [c for c in r.client_list() if c.get("cmd") == "mget"]


# --------------------------------------------------------------------------

def test_failover_follows_new_master_never_wrong_allow(cluster, nginx,
                                                       upstream, tmp_path):
    cluster.start()
    seed_workspace(cluster.master.client())
    assert wait_for(lambda: cluster.replica.client().get("rbac:user:bob"),
                    5)
    n = nginx(*conf(tmp_path, upstream, cluster.sentinels()))

    alice, bob = tok("alice"), tok("bob")
    assert wait_for(lambda: n.get("/ws/w1", token=alice).status_code == 200,
                    5 * SLOW)
    assert n.get("/ws/w1", token=bob).status_code == 403
    assert nginx_clients(cluster.master.client())
    assert "master \"%s\" is at 127.0.0.1:%d" % (
        MASTER, cluster.master.port) in n.log()

    # the master dies; requests go on while the sentinel promotes the replica
    stopped = time.monotonic()
    cluster.master.stop()
    seen = {"alice": set(), "bob": set()}
    switched = None
    deadline = stopped + (DOWN_AFTER_MS + 2 * FAILOVER_TIMEOUT_MS) / 1000 \
        + 10
    for _ in range(5000):
        for name, t in (("alice", alice), ("bob", bob)):
            resp = n.get("/ws/w1", token=t)
            seen[name].add(resp.status_code)
            if resp.status_code == 503:
                assert_503(resp)
        assert 200 not in seen["bob"], "bob allowed during the failover"
        if switched is None and \
                cluster.sentinel.master_port_now() == cluster.replica.port:
            switched = time.monotonic()
        if switched is not None and 200 in seen["alice"] and \
                n.get("/ws/w1", token=alice).status_code == 200:
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert switched is not None, cluster.sentinel.log()
    assert 503 in seen["alice"], seen        # the outage was seen, not hidden
    assert seen["bob"] <= {403, 503}, seen

    # decided again within one reconnect of the sentinel's switch
    assert wait_for(lambda: n.get("/ws/w1", token=alice).status_code == 200,
                    RECONNECT_S * SLOW + 1)
    assert time.monotonic() - switched < RECONNECT_S * SLOW + 1.5

    # ... and from the new master: a change made there is enforced
    new = cluster.replica.client()
    assert new.info("replication")["role"] == "master"
    put(new, "obj:workspace:w1", {"type": "workspace", "id": "w1",
                                  "org": "orgA", "owner": "bob"})
    assert n.get("/ws/w1", token=bob).status_code == 200
    assert n.get("/ws/w1", token=alice).status_code == 403
    assert nginx_clients(new)
    assert "master \"%s\" is at 127.0.0.1:%d" % (
        MASTER, cluster.replica.port) in n.log()

    # rbacctl, given the same sentinels, finds the new master too
    r = rbacctl("seats", "--sentinel", cluster.sentinels(),
                "--master", MASTER)
    assert r.returncode == 0, r.stderr


def test_failover_with_cache_zone_subscriber_follows(cluster, nginx,
                                                      upstream, tmp_path):
    """With rbac_cache_zone, the rbac:inv subscriber also finds the master
    through the sentinels: after a failover a change published on the new
    master is enforced at the very next request."""
    cluster.start()
    seed_workspace(cluster.master.client())
    http, server = conf(tmp_path, upstream, cluster.sentinels(),
                        extra="")
    http += "    rbac_cache_zone rbac:1m;\n"
    server += "        location = /status { rbac_status; }\n"
    n = nginx(http, server)
    alice, bob = tok("alice"), tok("bob")

    def subscribed():
        w = n.get("/status").json()["redis"]
        return all(x["subscribed"] and x["connected"] for x in w)

    assert wait_for(subscribed, 5 * SLOW)
    assert n.get("/ws/w1", token=alice).status_code == 200
    assert n.get("/ws/w1", token=bob).status_code == 403

    cluster.master.stop()
    new = cluster.replica.client()
    seen = set()
    for _ in range(2000):
        resp = n.get("/ws/w1", token=bob)
        seen.add(resp.status_code)
        if cluster.sentinel.master_port_now() == cluster.replica.port \
                and subscribed() and new.pubsub_numsub("rbac:inv")[0][1]:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("no failover: " + cluster.sentinel.log())
    assert seen <= {403, 503}, seen

    put(new, "obj:workspace:w1", {"type": "workspace", "id": "w1",
                                  "org": "orgA", "owner": "bob"})
    assert new.publish("rbac:inv", "rbac:obj:workspace:w1") >= 1
    new.ping()
    assert n.get("/ws/w1", token=bob).status_code == 200
    assert n.get("/ws/w1", token=alice).status_code == 403


def test_manual_failover_old_master_still_up(cluster, nginx, upstream,
                                             tmp_path):
    """SENTINEL FAILOVER with both nodes up: nginx leaves the old master
    (which may still accept reads for a while) for the one the sentinels
    name, and a change made on the new master is enforced."""
    cluster.start()
    seed_workspace(cluster.master.client())
    n = nginx(*conf(tmp_path, upstream, cluster.sentinels()))
    alice, bob = tok("alice"), tok("bob")
    assert wait_for(lambda: n.get("/ws/w1", token=alice).status_code == 200,
                    5 * SLOW)

    cluster.sentinel.client().execute_command("SENTINEL", "FAILOVER", MASTER)
    assert wait_for(lambda: cluster.sentinel.master_port_now()
                    == cluster.replica.port, 15), cluster.sentinel.log()
    new = cluster.replica.client()
    assert wait_for(lambda: new.info("replication")["role"] == "master", 5)
    put(new, "obj:workspace:w1", {"type": "workspace", "id": "w1",
                                  "org": "orgA", "owner": "bob"})

    # followed within the periodic re-check (5 s) plus one reconnect
    def followed():
        return n.get("/ws/w1", token=bob).status_code == 200 and \
            n.get("/ws/w1", token=alice).status_code == 403
    assert wait_for(followed, (5 + 1 + RECONNECT_S) * SLOW + 1)
    assert nginx_clients(new)
    assert wait_for(lambda: not nginx_clients(cluster.master.client()),
                    3 * SLOW)


def test_every_worker_finds_the_master(cluster, nginx, upstream, tmp_path):
    cluster.start(failover=False)
    seed_workspace(cluster.master.client())
    n = nginx(*conf(tmp_path, upstream, cluster.sentinels()), workers=2)
    alice = tok("alice")
    assert wait_for(lambda: n.get("/ws/w1", token=alice).status_code == 200,
                    5 * SLOW)
    # new connections land on either worker: both must have looked it up
    assert wait_for(lambda: len(nginx_clients(cluster.master.client())) == 2
                    or n.get("/ws/w1", token=alice).status_code != 200,
                    5 * SLOW)
    assert len(nginx_clients(cluster.master.client())) == 2
    for _ in range(20):
        assert n.get("/ws/w1", token=alice).status_code == 200


def test_no_sentinel_answers_503_then_recovers(cluster, nginx, upstream,
                                               tmp_path):
    seed_workspace(cluster.master.client())
    n = nginx(*conf(tmp_path, upstream, cluster.sentinels()))
    t0 = time.monotonic()
    assert_503(n.get("/ws/w1", token=tok("alice")))
    assert time.monotonic() - t0 < 0.5 * SLOW
    assert n.get("/open/x").status_code == 200
    assert wait_for(lambda: "no sentinel gave the address of master" in
                    n.log(), 3 * SLOW)

    cluster.start(failover=False)
    assert wait_for(lambda: n.get("/ws/w1", token=tok("alice")).status_code
                    == 200, RECONNECT_S * SLOW + 2)
    # no flood: one error for the whole outage, repeats are info
    errors = [l for l in n.log().splitlines()
              if "[error]" in l and "no sentinel gave" in l]
    assert len(errors) == 1, errors


class FakeSentinel(socketserver.BaseRequestHandler):
    """Answers every command with [host, port] from the server's .answer."""

    def handle(self):
        buf = b""
        while True:
            try:
                data = self.request.recv(4096)
            except OSError:
                return
            if not data:
                return
            buf += data
            if b"get-master-addr-by-name" in buf and buf.endswith(b"\r\n"):
                host, port = self.server.answer
                self.request.sendall(b"*2\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
                    len(host), host, len(port), port))
                self.server.asked += 1
                buf = b""


@pytest.fixture
def fake_sentinel():
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), FakeSentinel)
    srv.daemon_threads = True
    srv.answer = (b"localhost", b"6379")
    srv.asked = 0
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_host_name_answer_needs_a_resolver(fake_sentinel, nginx, upstream,
                                           tmp_path):
    """A sentinel naming the master by a host name, with no "resolver" in
    nginx: 503, and the log says what is missing."""
    port = fake_sentinel.server_address[1]
    n = nginx(*conf(tmp_path, upstream, "127.0.0.1:%d" % port))
    assert wait_for(lambda: fake_sentinel.asked >= 1, 3 * SLOW)
    assert_503(n.get("/ws/w1", token=tok("alice")))
    assert wait_for(lambda: 'host name "localhost": no "resolver"' in n.log(),
                    3 * SLOW), n.log()


def test_host_name_answer_followed_with_a_resolver(fake_sentinel, nginx,
                                                  upstream, tmp_path):
    """Sentinels that announce host names (announce-hostnames yes): the
    name is resolved by nginx's resolver and the master reached."""
    from dns_server import DnsServer

    with RedisServer(tmp_path / "m") as m:
        seed_workspace(m.client())
        fake_sentinel.answer = (b"redis-master.test", str(m.port).encode())
        dns = DnsServer({"redis-master.test": "127.0.0.1"}).start()
        try:
            http, server = conf(tmp_path, upstream, "127.0.0.1:%d"
                                % fake_sentinel.server_address[1])
            http = "resolver 127.0.0.1:%d ipv6=off;\n" % dns.port + http
            n = nginx(http, server)
            assert wait_for(lambda: n.get("/ws/w1", token=tok("alice"))
                            .status_code == 200, 5 * SLOW), n.log()
            assert n.get("/ws/w1", token=tok("bob")).status_code == 403
            assert 'master "%s" is at redis-master.test:%d' % (
                MASTER, m.port) in n.log()
        finally:
            dns.stop()


def test_rbacctl_follows_a_host_name_answer(fake_sentinel, tmp_path):
    with RedisServer(tmp_path / "m") as m:
        seed_workspace(m.client())
        fake_sentinel.answer = (b"localhost", str(m.port).encode())
        r = rbacctl("seats", "--sentinel",
                    "127.0.0.1:%d" % fake_sentinel.server_address[1],
                    "--master", MASTER)
        assert r.returncode == 0, r.stderr


def test_answer_that_is_a_replica_is_not_used(nginx, upstream, tmp_path):
    """A sentinel naming a node that says (ROLE) it is a replica: nothing
    is read from it, requests get 503."""
    with RedisServer(tmp_path / "m") as m, \
            RedisServer(tmp_path / "r", extra=[
                "--replicaof", "127.0.0.1", "1"]) as rep:
        put(m.client(), "user:alice", {"id": "alice", "orgs": {}})
        srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0),
                                              FakeSentinel)
        srv.daemon_threads = True
        srv.answer = (b"127.0.0.1", str(rep.port).encode())
        srv.asked = 0
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        try:
            n = nginx(*conf(tmp_path, upstream,
                            "127.0.0.1:%d" % srv.server_address[1]))
            assert wait_for(lambda: "is a slave; reconnecting" in n.log(),
                            3 * SLOW), n.log()
            for _ in range(5):
                assert_503(n.get("/ws/w1", token=tok("alice")))
        finally:
            srv.shutdown()
            srv.server_close()


# --------------------------------------------------------------------------
# Configuration

@pytest.mark.parametrize("args,message", [
    ("sentinel=127.0.0.1:26379",
     '"sentinel=" and "master=" go together'),
    ("master=m", '"sentinel=" and "master=" go together'),
    ("127.0.0.1:6379 master=m", '"sentinel=" and "master=" go together'),
    ("127.0.0.1:6379 sentinel=127.0.0.1:26379 master=m",
     'an address and "sentinel=" exclude each other'),
    ("sentinel=localhost:26379 master=m",
     '"localhost" is a host name, and no "resolver"'),
    ("sentinel=127.0.0.1:26379,,127.0.0.1:26380 master=m",
     'invalid sentinel address ""'),
    ("sentinel=127.0.0.1 master=m", 'invalid sentinel address "127.0.0.1"'),
    ("sentinel=127.0.0.1:70000 master=m", "invalid sentinel address"),
    ("sentinel=" + ",".join("127.0.0.1:%d" % (26379 + i) for i in range(9)) +
     " master=m", "more than 8 sentinels"),
    ("sentinel=127.0.0.1:26379 master=", 'empty "master="'),
    ("sentinel=127.0.0.1:26379 master=a master=b", 'duplicate "master="'),
])
def test_config_errors(nginx, tmp_path, args, message):
    n = nginx(http="rbac_redis %s;" % args, run=False)
    rc, err = n.test_config()
    assert rc != 0
    assert "rbac_redis" in err and message in err, err


def test_config_accepts_sentinels(nginx, tmp_path):
    n = nginx(http="rbac_redis sentinel=127.0.0.1:26379,[::1]:26380,"
                   "10.0.0.3:26379 master=mymaster db=2 prefix=x: "
                   "timeout=100ms;", run=False)
    rc, err = n.test_config()
    assert rc == 0, err
    n = nginx(http="rbac_redis master=mymaster "
                   "sentinel=127.0.0.1:26379;", run=False)
    rc, err = n.test_config()
    assert rc == 0, err
