"""rbac_jwt_key_request: a JWKS fetched by a subrequest from a server over
HTTPS on loopback (a CA made here with openssl), kept in shared memory for
every worker: rotation without a reload, removal after the refresh, the
unknown-kid rate limit, the IdP down until max_age, refused keys named,
the README's forgeries against fetched keys, rbac_status."""

import time
import uuid

import pytest

from conftest import SLOW, jwt_raw, proxy, user, wait_for
from jwks_util import JwksServer, ec_key, jwk, jwks, make_ca, pem, rsa_key
from test_module_jwks import OCT, claims, detail, sign

WORKERS = 4


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return make_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def ukeys():
    return {"k1": rsa_key(), "k2": rsa_key(), "e1": ec_key("P-256"),
            "r1024": rsa_key(1024)}


@pytest.fixture
def idp(ca):
    servers = []

    def start(body, max_age=300):
        s = JwksServer(ca[1], ca[2], body, max_age).start()
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def env(nginx, redis, upstream, ca):
    """env(server, params) starts nginx with rbac_jwt_key_request /_jwks
    proxied to `server` and returns it."""
    user(redis.client(), "u1", orgs={"orgA": []})

    def start(srv, params="", workers=WORKERS):
        http = """
    rbac_redis 127.0.0.1:%d timeout=500ms;
    rbac_cache_zone jwt:1m;
    rbac_jwt_key_request /_jwks %s;
""" % (redis.port, params)
        server = """
        location = /_jwks {
            internal;
            proxy_pass https://127.0.0.1:%d/keys;
            proxy_ssl_verify on;
            proxy_ssl_name localhost;
            proxy_ssl_trusted_certificate %s;
            subrequest_output_buffer_size 64k;
        }
        location /api/ { rbac on; %s }
        location = /status { rbac_status; }
""" % (srv.port, ca[0], proxy(upstream))
        return nginx(http, server, workers=workers)

    return start


def get(n, token, **kw):
    # a new connection each time: the requests spread over the workers
    return n.get("/api/x", token=token, headers={"Connection": "close"},
                 **kw)


def status(n):
    return n.get("/status").json()["jwks"][0]


def test_new_key_passes_on_first_request_every_worker(env, idp, ukeys):
    srv = idp(jwks(jwk(ukeys["k1"], "k1", "RS256")))
    n = env(srv, "kid_refetch=60s")
    assert get(n, sign(ukeys["k1"], "RS256", "k1")).status_code == 200
    assert srv.fetches == 1
    # never any of the client's headers (its token) to the IdP
    assert not any("Authorization" in h for h in srv.headers)

    # the IdP publishes k2 and signs with it: no reload
    srv.body = jwks(jwk(ukeys["k1"], "k1", "RS256"),
                    jwk(ukeys["k2"], "k2", "RS256"))
    t2 = sign(ukeys["k2"], "RS256", "k2")
    r = get(n, t2)
    assert r.status_code == 200, r.text
    assert srv.fetches == 2
    for _ in range(6 * WORKERS):
        assert get(n, t2).status_code == 200
    assert srv.fetches == 2
    st = status(n)
    assert [k["kid"] for k in st["kids"]] == ["k1", "k2"]
    assert st["last_error"] == "" and st["age"] is not None
    prom = n.get("/status?format=prometheus").text
    assert 'rbac_jwks_keys{uri="/_jwks"} 2\n' in prom
    assert 'rbac_jwks_fetches_total{uri="/_jwks"} 2\n' in prom


def test_removed_key_stops_after_refresh(env, idp, ukeys):
    srv = idp(jwks(jwk(ukeys["k1"], "k1", "RS256"),
                   jwk(ukeys["k2"], "k2", "RS256")), max_age=1)
    # one worker: the token's decision is in its memo (and the cache zone)
    n = env(srv, "min_refresh=1s kid_refetch=60s", workers=1)
    t1 = sign(ukeys["k1"], "RS256", "k1")
    for _ in range(3):
        assert get(n, t1).status_code == 200      # verified and cached
    srv.body = jwks(jwk(ukeys["k2"], "k2", "RS256"))
    before = srv.fetches
    t2 = sign(ukeys["k2"], "RS256", "k2")
    # due after max-age=1: the next request fetches again
    assert wait_for(lambda: get(n, t2).status_code == 200
                    and srv.fetches > before, 5 * SLOW)
    assert detail(get(n, t1)) == "unknown kid"
    assert get(n, t2).status_code == 200


def test_flood_of_unknown_kids_fetches_once(env, idp, ukeys):
    srv = idp(jwks(jwk(ukeys["k1"], "k1", "RS256")))
    n = env(srv, "kid_refetch=60s")
    assert get(n, sign(ukeys["k1"], "RS256", "k1")).status_code == 200
    assert srv.fetches == 1
    for _ in range(40):
        t = sign(ukeys["k1"], "RS256", uuid.uuid4().hex)
        assert detail(get(n, t)) == "unknown kid"
    assert srv.fetches == 2      # one for the first unknown kid, no more
    assert get(n, sign(ukeys["k1"], "RS256", "k1")).status_code == 200


def test_idp_down_serves_until_max_age_then_401(env, idp, ukeys):
    srv = idp(jwks(jwk(ukeys["k1"], "k1", "RS256")), max_age=1)
    n = env(srv, "min_refresh=1s max_refresh=1s max_age=3s kid_refetch=1s",
            workers=1)
    t1 = sign(ukeys["k1"], "RS256", "k1")
    for _ in range(3):
        assert get(n, t1).status_code == 200
    fetched = time.monotonic()
    srv.stop()
    # past the refresh the fetch fails, the last set still serves
    time.sleep(1.2)
    assert get(n, t1).status_code == 200
    st = status(n)
    assert st["failures"] >= 1 and "answered 502" in st["last_error"], st
    # past max_age: 401 with the reason
    time.sleep(max(0, fetched + 3.2 - time.monotonic()))
    assert detail(get(n, t1)) == "keys unavailable"
    assert "no JWKS from \"/_jwks\" younger than max_age" in n.log()
    # the IdP back: served again once a fetch is due
    srv.start()
    assert wait_for(lambda: get(n, t1).status_code == 200, 5 * SLOW)


def test_bad_keys_refused_by_kid_rest_serves(env, idp, ukeys):
    off = jwk(ukeys["e1"], "offcurve")
    y = bytearray(off["y"].encode())
    y[5] = ord("A") if y[5] != ord("A") else ord("B")
    off["y"] = y.decode()
    srv = idp(jwks(
        jwk(ukeys["k1"], "good", "RS256"),
        {"kty": "RSA", "kid": "badn", "alg": "RS256", "n": "*", "e": "AQAB"},
        jwk(ukeys["r1024"], "weak", "RS256"),
        off,
        jwk(b"s" * 16, "short", "HS256"),
        dict(jwk(ukeys["k2"], "nonealg"), alg="none")))
    n = env(srv)
    assert get(n, sign(ukeys["k1"], "RS256", "good")).status_code == 200
    assert detail(get(n, sign(ukeys["r1024"], "RS256",
                              "weak"))) in ("unknown kid",)
    assert detail(get(n, sign(b"s" * 16, "HS256", "short"))) == \
        "unknown kid"
    st = status(n)
    assert [k["kid"] for k in st["kids"]] == ["good"]
    log = n.log()
    for kid, says in [("badn", "not unpadded base64url"),
                      ("weak", "1024 bits"),
                      ("offcurve", "EC point is not on P-256"),
                      ("short", "at least 32 needed"),
                      ("nonealg", "\"none\" is never accepted")]:
        assert 'kid="%s" refused' % kid in st["skipped"] or \
            'kid="%s" refused' % kid in log, (kid, st)
        assert 'kid="%s" refused: ' % kid in log and says in log, kid


def test_forgeries_against_fetched_keys(env, idp, ukeys):
    srv = idp(jwks(jwk(ukeys["k1"], "r1", "RS256"),
                   jwk(ukeys["e1"], "e1"), jwk(OCT, "h1", "HS256")))
    n = env(srv, "kid_refetch=60s")
    assert get(n, sign(ukeys["k1"], "RS256", "r1")).status_code == 200
    assert get(n, sign(ukeys["e1"], "ES256", "e1")).status_code == 200
    assert get(n, sign(OCT, "HS256", "h1")).status_code == 200
    rsa_pem = pem(ukeys["k1"])
    t = jwt_raw({"alg": "HS256", "typ": "JWT", "kid": "r1"}, claims(),
                rsa_pem)
    assert detail(get(n, t)) == "wrong alg"
    t = jwt_raw({"alg": "HS256", "typ": "JWT"}, claims(), rsa_pem)
    assert detail(get(n, t)) == "bad signature"
    assert detail(get(n, sign(ukeys["k1"], "RS256", "e1"))) == "wrong alg"
    assert detail(get(n, sign(ukeys["e1"], "ES256", "r1"))) == "wrong alg"
    assert detail(get(n, sign(ukeys["k1"], "RS512", "r1"))) == "wrong alg"
    t = jwt_raw({"alg": "none", "typ": "JWT", "kid": "r1"}, claims()) + "c2ln"
    assert detail(get(n, t)) == "wrong alg"


def test_no_set_yet_and_idp_down_is_401(env, idp, ukeys):
    srv = idp(jwks(jwk(ukeys["k1"], "k1", "RS256")))
    srv.stop()
    n = env(srv, "kid_refetch=60s", workers=1)
    assert detail(get(n, sign(ukeys["k1"], "RS256", "k1"))) == \
        "keys unavailable"
    # a failed fetch is not tried again at once
    assert detail(get(n, sign(ukeys["k1"], "RS256", "k1"))) == \
        "keys unavailable"
    assert status(n)["fetches"] == 1


def test_key_request_config_errors(nginx):
    for params, says in [
            ("/_jwks max_age=1s max_refresh=1h", "min_refresh <= max_refresh"),
            ("_jwks", "is not the URI of a location"),
            ("/_jwks alg=none", "unsupported"),
            ("/_jwks refresh=1s", "invalid parameter")]:
        n = nginx("rbac_jwt_key_request %s;" % params, "", run=False)
        rc, err = n.test_config()
        assert rc != 0 and says in err, (params, err)
