"""rbac_redis ... ssl: Redis over TLS (Debian's redis-server with --port 0
--tls-port, certificates the test makes), ACL users, and host names
resolved by nginx's resolver.

What a user sees: requests decided from a Redis reached over TLS, the
subscriber's invalidations enforced; a server certificate from another
CA, an expired one or one for another name refused (503, the reason in
error.log); mutual TLS; AUTH with an ACL user holding exactly the
documented least privileges.
"""

import time

import pytest

from conftest import (HS_SECRET, SLOW, RedisServer, proxy, put, rbacctl,
                      seed_workspace, tok, wait_for)
from redis_server import SENTINEL_MASTER as MASTER, Sentinel
from tls_certs import Pki


def conf(tmp_path, upstream, redis_arg, cache=True, main_http=""):
    key = tmp_path / "hs.key"
    key.write_bytes(HS_SECRET)
    http = """
    %s
    rbac_redis %s timeout=%dms;
    rbac_jwt_key %s alg=HS256;
    %s
""" % (main_http, redis_arg, 500 * SLOW, key,
       "rbac_cache_zone rbac:1m;" if cache else "")
    server = """
        location ~ ^/ws/([^/]+)$ { rbac on; rbac_object workspace id=$1; %(p)s }
        location = /status { rbac_status; }
""" % {"p": proxy(upstream)}
    return http, server


def status(n):
    return n.get("/status").json()["redis"]


def subscribed(n):
    w = status(n)
    return bool(w) and all(x["subscribed"] and x["connected"] for x in w)


@pytest.fixture
def pki(tmp_path):
    return Pki(tmp_path / "pki")


def tls_redis(tmp_path, pki, stem="server", dns=("localhost",),
              ips=("127.0.0.1",), expired=False, auth_clients=False,
              issuer=None, **kw):
    cert, key = (issuer or pki).leaf(stem, dns, ips, expired=expired)
    tls = {"cert": cert, "key": key, "ca": pki.ca,
           "auth_clients": auth_clients}
    if auth_clients:
        tls["client_cert"], tls["client_key"] = pki.leaf("tester",
                                                         client=True)
    # the test's own client trusts even a bad certificate
    tls["insecure"] = issuer is not None or expired
    rs = RedisServer(tmp_path / ("redis-" + stem), tls=tls, **kw)
    rs.server_ca = pki.ca
    return rs


# --------------------------------------------------------------------------


def decides_and_hears(n, r):
    """Once subscribed: alice owns w1 (200), bob does not (403); then bob
    is made its owner and the subscriber, over TLS too, hears of it."""
    assert wait_for(lambda: subscribed(n), 5 * SLOW), n.log()
    alice, bob = tok("alice"), tok("bob")
    assert n.get("/ws/w1", token=alice).status_code == 200
    assert n.get("/ws/w1", token=bob).status_code == 403
    put(r, "obj:workspace:w1", {"type": "workspace", "id": "w1",
                                "org": "orgA", "owner": "bob"})
    assert r.publish("rbac:inv", "rbac:obj:workspace:w1") == 1
    r.ping()
    assert n.get("/ws/w1", token=bob).status_code == 200


def test_tls_serves_and_subscriber_invalidates(nginx, upstream, tmp_path,
                                               pki):
    with tls_redis(tmp_path, pki) as rs:
        r = rs.client()
        seed_workspace(r)
        n = nginx(*conf(tmp_path, upstream,
                        "127.0.0.1:%d ssl ssl_trusted_certificate=%s"
                        % (rs.port, pki.ca)))
        decides_and_hears(n, r)
        assert n.get("/ws/w1", token=tok("alice")).status_code == 403
        # both connections of the worker are TLS ones on this server
        assert len(r.client_list()) >= 3


@pytest.mark.parametrize("case,reason", [
    ("other_ca", "SSL certificate verify error: (21:unable to verify the "
                 "first certificate)"),
    ("expired", "SSL certificate verify error: (10:certificate has "
                "expired)"),
    ("wrong_name", 'SSL certificate does not match "127.0.0.1"'),
])
def test_bad_server_certificate_refused(nginx, upstream, tmp_path, pki,
                                        case, reason):
    kw = {}
    if case == "other_ca":
        kw["issuer"] = Pki(tmp_path / "other", name="another CA")
    elif case == "expired":
        kw["expired"] = True
    else:
        kw.update(dns=("redis.other.example",), ips=())
    with tls_redis(tmp_path, pki, **kw) as rs:
        seed_workspace(rs.client())
        n = nginx(*conf(tmp_path, upstream,
                        "127.0.0.1:%d ssl ssl_trusted_certificate=%s"
                        % (rs.port, pki.ca), cache=False))
        resp = n.get("/ws/w1", token=tok("alice"))
        assert resp.status_code == 503
        assert wait_for(lambda: reason in n.log(), 3 * SLOW), n.log()
        # not one command reached the server
        stats = rs.client().info("commandstats")
        assert "cmdstat_mget" not in stats


def test_host_name_checked_with_ssl_name(nginx, upstream, tmp_path, pki):
    """A certificate for a name only: accepted once ssl_name= says which
    name to check (and send as SNI)."""
    with tls_redis(tmp_path, pki, dns=("redis.internal",), ips=()) as rs:
        seed_workspace(rs.client())
        n = nginx(*conf(tmp_path, upstream,
                        "127.0.0.1:%d ssl ssl_trusted_certificate=%s "
                        "ssl_name=redis.internal" % (rs.port, pki.ca),
                        cache=False))
        assert wait_for(lambda: n.get("/ws/w1", token=tok("alice"))
                        .status_code == 200, 5 * SLOW), n.log()


def test_verify_off_accepts_any_certificate(nginx, upstream, tmp_path, pki):
    other = Pki(tmp_path / "other", name="another CA")
    with tls_redis(tmp_path, pki, issuer=other) as rs:
        seed_workspace(rs.client())
        n = nginx(*conf(tmp_path, upstream,
                        "127.0.0.1:%d ssl ssl_verify=off" % rs.port,
                        cache=False))
        assert wait_for(lambda: n.get("/ws/w1", token=tok("alice"))
                        .status_code == 200, 5 * SLOW), n.log()


def test_mutual_tls(nginx, upstream, tmp_path, pki):
    with tls_redis(tmp_path, pki, auth_clients=True) as rs:
        seed_workspace(rs.client())
        # without a client certificate: refused by the server
        n = nginx(*conf(tmp_path, upstream,
                        "127.0.0.1:%d ssl ssl_trusted_certificate=%s"
                        % (rs.port, pki.ca), cache=False))
        assert n.get("/ws/w1", token=tok("alice")).status_code == 503
        assert wait_for(lambda: "rbac: redis 127.0.0.1:%d connect" % rs.port
                        in n.log(), 3 * SLOW), n.log()
        n.stop()

        cert, key = pki.leaf("nginx-client", client=True)
        n = nginx(*conf(tmp_path, upstream,
                        "127.0.0.1:%d ssl ssl_trusted_certificate=%s "
                        "ssl_certificate=%s ssl_certificate_key=%s"
                        % (rs.port, pki.ca, cert, key)))
        assert wait_for(lambda: subscribed(n), 5 * SLOW), n.log()
        assert n.get("/ws/w1", token=tok("alice")).status_code == 200
        assert n.get("/ws/w1", token=tok("bob")).status_code == 403


# The least privileges of the proxy's ACL user, as docs/redis.md gives them.
PROXY_ACL = ["on", ">proxy-secret", "resetkeys", "~rbac:*", "resetchannels",
             "&rbac:inv", "-@all", "+mget", "+subscribe", "+ping", "+role"]


def acl_user(r, tmp_path, name, acl):
    """Creates the ACL user (acl holds ">password"); returns the path of a
    file holding its password, as nginx and rbacctl read it."""
    r.execute_command("ACL", "SETUSER", name, *acl)
    pw = tmp_path / (name + ".pw")
    pw.write_text([a for a in acl if a.startswith(">")][0][1:] + "\n")
    return pw


def test_acl_user_with_least_privileges(nginx, upstream, tmp_path, pki):
    with tls_redis(tmp_path, pki) as rs:
        r = rs.client()
        seed_workspace(r)
        pw = acl_user(r, tmp_path, "rbac-proxy", PROXY_ACL)
        n = nginx(*conf(tmp_path, upstream,
                        "127.0.0.1:%d ssl ssl_trusted_certificate=%s "
                        "user=rbac-proxy password=%s"
                        % (rs.port, pki.ca, pw)))
        decides_and_hears(n, r)
        # every connection of nginx is the ACL user's
        users = {c["user"] for c in r.client_list() if c.get("cmd") in
                 ("mget", "subscribe")}
        assert users == {"rbac-proxy"}, r.client_list()
        # the password is never logged
        assert "proxy-secret" not in n.log()


def test_acl_user_without_channel_not_subscribed(nginx, upstream, tmp_path,
                                                 pki):
    """The same user without &rbac:inv: requests are still decided, the
    status says "subscribed": false, and SUBSCRIBE is retried with a
    backoff, its refusal logged once as an error."""
    with tls_redis(tmp_path, pki) as rs:
        r = rs.client()
        seed_workspace(r)
        pw = acl_user(r, tmp_path, "rbac-proxy",
                      [a for a in PROXY_ACL if a != "&rbac:inv"])
        n = nginx(*conf(tmp_path, upstream,
                        "127.0.0.1:%d ssl ssl_trusted_certificate=%s "
                        "user=rbac-proxy password=%s"
                        % (rs.port, pki.ca, pw)))
        time.sleep(3)
        refused = [l for l in n.log().splitlines() if "NOPERM" in l]
        assert 2 <= len(refused) <= 8, refused
        assert sum("[error]" in l for l in refused) == 1, refused
        w = status(n)[0]
        assert w["connected"] and not w["subscribed"], w
        assert n.get("/ws/w1", token=tok("alice")).status_code == 200


def test_wrong_acl_password_is_503_with_reason(nginx, upstream, tmp_path):
    with RedisServer(tmp_path / "r") as rs:
        r = rs.client()
        seed_workspace(r)
        r.execute_command("ACL", "SETUSER", "rbac-proxy", *PROXY_ACL)
        pw = tmp_path / "redis.pw"
        pw.write_text("not-the-password")
        n = nginx(*conf(tmp_path, upstream,
                        "127.0.0.1:%d user=rbac-proxy password=%s"
                        % (rs.port, pw), cache=False))
        assert n.get("/ws/w1", token=tok("alice")).status_code == 503
        assert wait_for(lambda: "AUTH failed: WRONGPASS" in n.log(),
                        3 * SLOW), \
            n.log()
        assert "not-the-password" not in n.log()


def test_host_name_followed_on_reconnect(nginx, upstream, tmp_path):
    """rbac_redis redis.test:P with nginx's resolver pointed at a DNS
    responder the test controls: when the name moves to another Redis
    (another loopback address, same port), the next reconnect goes there,
    without a reload."""
    from conftest import free_port
    from dns_server import DnsServer

    port = free_port()
    a = RedisServer(tmp_path / "a", port=port, host="127.0.0.2").start()
    b = RedisServer(tmp_path / "b", port=port, host="127.0.0.3").start()
    dns = DnsServer({"redis.test": "127.0.0.2"}, ttl=1).start()
    try:
        seed_workspace(a.client(), owner="alice")
        seed_workspace(b.client(), owner="bob")
        n = nginx(*conf(tmp_path, upstream, "redis.test:%d" % port,
                        cache=False,
                        main_http="resolver 127.0.0.1:%d valid=1s ipv6=off;"
                                  % dns.port))
        alice, bob = tok("alice"), tok("bob")
        assert wait_for(lambda: n.get("/ws/w1", token=alice).status_code
                        == 200, 5 * SLOW), n.log()
        assert n.get("/ws/w1", token=bob).status_code == 403
        master = n.pid

        # the name moves; the old server goes away
        dns.names["redis.test"] = "127.0.0.3"
        a.stop()
        assert wait_for(lambda: n.get("/ws/w1", token=bob).status_code
                        == 200, 10 * SLOW), n.log()
        assert n.get("/ws/w1", token=alice).status_code == 403
        assert n.pid == master
        assert [c for c in b.client().client_list()
                if c.get("cmd") == "mget"]
    finally:
        dns.stop()
        b.stop()
        a.stop()


# --------------------------------------------------------------------------
# rbacctl

# What rbacctl needs, as docs/redis.md gives it.
ADMIN_ACL = ["on", ">admin-secret", "resetkeys", "~rbac:*", "resetchannels",
             "&rbac:inv", "-@all", "+get", "+mget", "+set", "+del", "+incr",
             "+scan", "+watch", "+unwatch", "+multi", "+exec", "+discard",
             "+publish", "+ping", "+role", "+type"]


def test_rbacctl_over_tls_as_an_acl_user(nginx, upstream, tmp_path, pki):
    """rbacctl writes over TLS (rediss://, --tls-ca) as an ACL user with the
    documented privileges; nginx, subscribed over TLS, enforces it."""
    with tls_redis(tmp_path, pki) as rs:
        r = rs.client()
        seed_workspace(r)
        pw = acl_user(r, tmp_path, "rbac-admin", ADMIN_ACL)
        n = nginx(*conf(tmp_path, upstream,
                        "127.0.0.1:%d ssl ssl_trusted_certificate=%s"
                        % (rs.port, pki.ca)))
        assert wait_for(lambda: subscribed(n), 5 * SLOW), n.log()
        assert n.get("/ws/w1", token=tok("carol")).status_code == 403

        url = "rediss://127.0.0.1:%d" % rs.port
        res = rbacctl("user", "create", "carol", "--redis", url,
                      "--tls-ca", pki.ca, "--user", "rbac-admin",
                      "--password-file", str(pw))
        assert res.returncode == 0, res.stderr
        assert r.get("rbac:user:carol")
        res = rbacctl("export", "--redis", url, "--tls-ca", pki.ca,
                      "--user", "rbac-admin", "--password-file", str(pw))
        assert res.returncode == 0, res.stderr
        assert "carol" in res.stdout
        assert "admin-secret" not in res.stdout + res.stderr

        # the same with --tls and a user:password URL
        res = rbacctl("seats", "--redis",
                      "redis://rbac-admin:admin-secret@127.0.0.1:%d" % rs.port,
                      "--tls", "--tls-ca", pki.ca)
        assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("case,reason", [
    ("other_ca", "SSL certificate verify error: (20:unable to get local "
                 "issuer certificate)"),
    ("expired", "SSL certificate verify error: (10:certificate has "
                "expired)"),
    ("wrong_name", "SSL certificate verify error: (64:IP address "
                   "mismatch)"),
])
def test_rbacctl_refuses_bad_certificates(tmp_path, pki, case, reason):
    kw = {}
    if case == "other_ca":
        kw["issuer"] = Pki(tmp_path / "other", name="another CA")
    elif case == "expired":
        kw["expired"] = True
    else:
        kw.update(dns=("redis.other.example",), ips=())
    with tls_redis(tmp_path, pki, **kw) as rs:
        res = rbacctl("seats", "--redis", "rediss://127.0.0.1:%d" % rs.port,
                      "--tls-ca", pki.ca)
        assert res.returncode == 3, res.stderr
        assert reason in res.stderr, res.stderr


def test_rbacctl_mutual_tls_and_server_name(tmp_path, pki):
    with tls_redis(tmp_path, pki, dns=("redis.internal",), ips=(),
                   auth_clients=True) as rs:
        seed_workspace(rs.client())
        url = "rediss://127.0.0.1:%d" % rs.port
        # the name is wrong without --tls-server-name
        res = rbacctl("seats", "--redis", url, "--tls-ca", pki.ca)
        assert res.returncode == 3, res.stderr
        cert, key = pki.leaf("rbacctl-client", client=True)
        # no client certificate: the server refuses
        res = rbacctl("seats", "--redis", url, "--tls-ca", pki.ca,
                      "--tls-server-name", "redis.internal")
        assert res.returncode == 3, res.stderr
        res = rbacctl("seats", "--redis", url, "--tls-ca", pki.ca,
                      "--tls-server-name", "redis.internal",
                      "--tls-cert", cert, "--tls-key", key)
        assert res.returncode == 0, res.stderr


# --------------------------------------------------------------------------
# Sentinel over TLS

def test_sentinel_over_tls_follows_a_failover(nginx, upstream, tmp_path,
                                              pki):
    """Master, replica and sentinel all TLS only: nginx asks the sentinel
    over TLS, reads from the master over TLS, and after SENTINEL FAILOVER
    reads (and hears invalidations) from the new master."""
    cert, key = pki.leaf("node", ["localhost"], ["127.0.0.1"])
    tls = {"cert": cert, "key": key, "ca": pki.ca}
    m = RedisServer(tmp_path / "m", tls=tls).start()
    rep = RedisServer(tmp_path / "r", tls=tls, extra=[
        "--replicaof", "127.0.0.1", str(m.port)]).start()
    s = Sentinel(tmp_path / "s", m.port, tls=tls)
    try:
        assert wait_for(lambda: rep.client().info("replication")
                        ["master_link_status"] == "up", 10 * SLOW)
        s.start()
        seed_workspace(m.client())
        assert wait_for(lambda: rep.client().get("rbac:obj:workspace:w1"),
                        5 * SLOW)
        n = nginx(*conf(tmp_path, upstream,
                        "sentinel=127.0.0.1:%d master=%s ssl "
                        "ssl_trusted_certificate=%s" % (s.port, MASTER,
                                                        pki.ca)))
        assert wait_for(lambda: subscribed(n), 5 * SLOW), n.log()
        alice, bob = tok("alice"), tok("bob")
        assert n.get("/ws/w1", token=alice).status_code == 200
        assert n.get("/ws/w1", token=bob).status_code == 403

        # the sentinel must know the replica before it can promote it
        def failed_over():
            try:
                s.client().execute_command("SENTINEL", "FAILOVER", MASTER)
            except Exception:
                pass
            return s.master_port_now() == rep.port
        assert wait_for(failed_over, 20 * SLOW, step=0.5), s.log()
        new = rep.client()
        assert wait_for(lambda: new.info("replication")["role"] == "master",
                        5 * SLOW)
        put(new, "obj:workspace:w1", {"type": "workspace", "id": "w1",
                                      "org": "orgA", "owner": "bob"})

        def followed():
            return subscribed(n) and \
                new.pubsub_numsub("rbac:inv")[0][1] >= 1 and \
                n.get("/ws/w1", token=bob).status_code == 200
        assert wait_for(followed, 10 * SLOW), n.log()
        assert n.get("/ws/w1", token=alice).status_code == 403
        # an invalidation published on the new master is heard
        put(new, "obj:workspace:w1", {"type": "workspace", "id": "w1",
                                      "org": "orgA", "owner": "alice"})
        assert new.publish("rbac:inv", "rbac:obj:workspace:w1") >= 1
        new.ping()
        assert n.get("/ws/w1", token=alice).status_code == 200
    finally:
        s.stop()
        rep.stop()
        m.stop()
