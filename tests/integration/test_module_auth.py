"""Authentication: every 401 of docs/directives.md §17, the credential
sources of rbac_token, the principal checks (unknown user, service accounts
with a JWT, rbac_principals) and the identity headers the upstream receives."""

import time

import jwt as pyjwt
import pytest

from conftest import (HS_SECRET, SLOW, Nginx, RedisServer, api_token,
                      jwt_raw, pkey, proxy, put, sha256_hex,
                      upstream_headers, user)


@pytest.fixture(scope="module")
def env(tmp_path_factory, upstream, request):
    """One redis + nginx for the whole module (tests only read)."""
    tmp = tmp_path_factory.mktemp("auth")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    rk = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pub = rk.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp / "rsa.pub").write_bytes(pub)
    (tmp / "hs.key").write_bytes(HS_SECRET)

    rs = RedisServer(tmp / "redis").start()
    r = rs.client()
    user(r, "u1", orgs={"orgA": []})
    user(r, "sa1", orgs={"orgA": []}, kind="service_account")
    user(r, "sus", status="suspended")
    user(r, "dor", status="dormant")
    user(r, "admin", site_roles=["owner"])

    http = """
    rbac_redis 127.0.0.1:%d timeout=%dms;
    rbac_jwt_key %s alg=HS256;
    rbac_jwt_key %s alg=RS256 kid=r1;
    rbac_jwt_issuer https://idp.example;
    rbac_jwt_audience coder other;
    large_client_header_buffers 4 32k;
""" % (rs.port, 500 * SLOW, tmp / "hs.key", tmp / "rsa.pub")
    server = """
        location /api/ { rbac on; %(p)s }
        location /ui/ { rbac on; rbac_principals user; %(p)s }
        location /open/ { %(p)s }
        location /quiet/ { rbac_identity_headers off; %(p)s }
        location /pk/ {
            rbac on;
            rbac_token $http_x_provisioner_key type=provisioner_key;
            %(p)s
        }
        location /cookie/ {
            rbac on;
            rbac_token $cookie_session type=api_token;
            %(p)s
        }
        location /cpk/ {
            rbac on;
            rbac_token $http_x_provisioner_key type=coder_provisioner_key;
            %(p)s
        }
""" % {"p": proxy(upstream)}
    n = Nginx(tmp / "nginx", http, server).start()
    yield {"nginx": n, "redis": r, "rsa": rk, "rsa_pub": pub}
    problems = n.stop()
    rs.stop()
    assert not problems, problems


def claims(**kw):
    now = int(time.time())
    c = {"sub": "u1", "iss": "https://idp.example", "aud": "coder",
         "exp": now + 300, "iat": now}
    c.update(kw)
    return {k: v for k, v in c.items() if v is not None}


def hs(**kw):
    return pyjwt.encode(claims(**kw), HS_SECRET, algorithm="HS256")


def assert_401(resp, detail, invalid=True):
    assert resp.status_code == 401, resp.text
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.json() == {"message": "Unauthorized", "detail": detail}
    want = 'Bearer realm="rbac"'
    if invalid:
        want += ', error="invalid_token"'
    assert resp.headers["WWW-Authenticate"] == want


def test_no_credential(env):
    assert_401(env["nginx"].get("/api/x"), "no credential", invalid=False)


def test_other_authorization_scheme_is_no_credential(env):
    r = env["nginx"].get("/api/x", headers={"Authorization": "Basic dTpw"})
    assert_401(r, "no credential", invalid=False)


def test_valid_hs256_passes_with_identity_headers(env):
    r = env["nginx"].get("/api/hs256", token=hs())
    assert r.status_code == 200, r.text
    assert upstream_headers(r, "X-Rbac-User") == ["u1"]
    assert upstream_headers(r, "X-Rbac-Kind") == ["user"]
    assert "decision=allow" in env["nginx"].access_line("GET /api/hs256")


def test_valid_rs256_with_kid_passes(env):
    tok = pyjwt.encode(claims(), env["rsa"], algorithm="RS256",
                       headers={"kid": "r1"})
    assert env["nginx"].get("/api/x", token=tok).status_code == 200


def test_audience_array_passes(env):
    assert env["nginx"].get("/api/x",
                            token=hs(aud=["x", "other"])).status_code == 200


@pytest.mark.parametrize("make,detail", [
    (lambda e: pyjwt.encode(claims(), b"another-secret-of-enough-length!!",
                            algorithm="HS256"), "bad signature"),
    (lambda e: pyjwt.encode(claims(), HS_SECRET + b"x" * 20,
                            algorithm="HS384"), "wrong alg"),
    (lambda e: jwt_raw({"alg": "none", "typ": "JWT"}, claims()),
     "malformed token"),
    (lambda e: jwt_raw({"alg": "none", "typ": "JWT"}, claims()) + "c2ln",
     "wrong alg"),
    # libjwt forgery 1: HS256 signed with the RSA public key's PEM
    (lambda e: jwt_raw({"alg": "HS256", "typ": "JWT"}, claims(),
                       e["rsa_pub"]), "bad signature"),
    (lambda e: jwt_raw({"alg": "HS256", "typ": "JWT", "kid": "r1"},
                       claims(), e["rsa_pub"]), "wrong alg"),
    # libjwt forgery 2: HS256 signed with an empty key
    (lambda e: jwt_raw({"alg": "HS256", "typ": "JWT"}, claims(), b""),
     "bad signature"),
    (lambda e: hs(exp=int(time.time()) - 3600), "expired"),
    (lambda e: hs(nbf=int(time.time()) + 3600), "not yet valid"),
    (lambda e: hs(iss="https://evil.example"), "wrong issuer"),
    (lambda e: hs(aud="nobody"), "wrong audience"),
    (lambda e: hs(sub=None), "no sub"),
    (lambda e: hs(exp=None), "no exp"),
    (lambda e: pyjwt.encode(claims(), env_rsa(e), algorithm="RS256",
                            headers={"kid": "nope"}), "unknown kid"),
    (lambda e: "a.b.c", "malformed token"),
    (lambda e: hs(pad="x" * 9000), "oversize"),
])
def test_jwt_401(env, make, detail):
    assert_401(env["nginx"].get("/api/x", token=make(env)), detail)


def env_rsa(e):
    return e["rsa"]


def test_api_token_passes(env):
    tok = api_token(env["redis"], "t1", "u1", secret="good")
    r = env["nginx"].get("/api/x", token=tok)
    assert r.status_code == 200, r.text
    assert upstream_headers(r, "X-Rbac-User") == ["u1"]


def test_api_token_from_coder_session_header(env):
    tok = api_token(env["redis"], "t2", "u1", secret="good")
    r = env["nginx"].get("/api/x", headers={"Coder-Session-Token": tok})
    assert r.status_code == 200, r.text


def test_api_token_from_configured_cookie(env):
    tok = api_token(env["redis"], "t3", "u1", secret="good")
    r = env["nginx"].get("/cookie/x", cookies={"session": tok})
    assert r.status_code == 200, r.text
    # a level with rbac_token replaces the defaults
    assert_401(env["nginx"].get("/cookie/x", token=tok), "no credential",
               invalid=False)


@pytest.mark.parametrize("setup,cred,detail", [
    (None, "zz9-whatever", "unknown token"),
    (("t4", "good", 0), "t4-bad", "unknown token"),
    (("t5", "good", 1000), "t5-good", "expired token"),
    (None, "no_dash_here", "malformed token"),
])
def test_api_token_401(env, setup, cred, detail):
    if setup:
        tid, secret, exp = setup
        api_token(env["redis"], tid, "u1", secret=secret, expires_at=exp)
    assert_401(env["nginx"].get("/api/x", token=cred), detail)


def test_unknown_provisioner_key(env):
    r = env["nginx"].get("/pk/x", headers={"X-Provisioner-Key": "k9-x"})
    assert_401(r, "unknown provisioner key")


def test_coder_provisioner_key(env):
    """A key as Coder issues it: a bare secret, '-' and '_' included, found
    by its SHA-256 (rbac:pkey:<hex>); the same secret from an <id>-<secret>
    source is another credential."""
    secret = "Zm9v-YmFy_YmF6LXF1eC0xMjM0NTY3ODkwLWFiY2RlZg"
    h = sha256_hex(secret)
    put(env["redis"], "pkey:" + h, {"id": h, "org": "orgA", "name": "eks",
                                    "tags": {}, "secret_sha256": h})
    r = env["nginx"].get("/cpk/x", headers={"X-Provisioner-Key": secret})
    assert r.status_code == 200, r.text
    assert upstream_headers(r, "X-Rbac-User") == ["pkey:" + h]
    assert upstream_headers(r, "X-Rbac-Kind") == ["provisioner"]
    r = env["nginx"].get("/cpk/x", headers={"X-Provisioner-Key": secret + "x"})
    assert_401(r, "unknown provisioner key")
    r = env["nginx"].get("/cpk/x", headers={"X-Provisioner-Key": "a b"})
    assert_401(r, "malformed provisioner key")
    r = env["nginx"].get("/pk/x", headers={"X-Provisioner-Key": secret})
    assert_401(r, "unknown provisioner key")


def test_provisioner_key_is_never_guessed(env):
    key = pkey(env["redis"], "k1", "orgA")
    # from a source without type=provisioner_key it is an API token
    assert_401(env["nginx"].get("/api/x", token=key), "unknown token")
    r = env["nginx"].get("/pk/x", headers={"X-Provisioner-Key": key})
    assert r.status_code == 200, r.text
    assert upstream_headers(r, "X-Rbac-User") == ["pkey:k1"]
    assert upstream_headers(r, "X-Rbac-Kind") == ["provisioner"]


def forbidden(resp, detail):
    assert resp.status_code == 403, resp.text
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.json() == {"message": "Forbidden", "detail": detail}


def test_unknown_user_is_403(env):
    forbidden(env["nginx"].get("/api/x", token=hs(sub="ghost")),
              "unknown user")


def test_service_account_with_jwt_is_403(env):
    forbidden(env["nginx"].get("/api/x", token=hs(sub="sa1")),
              "service accounts authenticate only with API tokens")


def test_service_account_token_passes_api_but_not_ui(env):
    tok = api_token(env["redis"], "sat", "sa1", secret="good")
    r = env["nginx"].get("/api/x", token=tok)
    assert r.status_code == 200, r.text
    assert upstream_headers(r, "X-Rbac-Kind") == ["service_account"]
    forbidden(env["nginx"].get("/ui/x", token=tok),
              "principal kind service_account not allowed here")
    assert env["nginx"].get("/ui/x", token=hs()).status_code == 200


@pytest.mark.parametrize("uid,detail", [("sus", "account suspended"),
                                        ("dor", "account dormant")])
def test_inactive_accounts_are_403(env, uid, detail):
    forbidden(env["nginx"].get("/api/x", token=hs(sub=uid)), detail)


def test_spoofed_identity_headers_never_reach_upstream(env):
    spoof = {"X-Rbac-User": "admin", "X-Rbac-Kind": "user",
             "X-Rbac-Roles": "owner", "x-rbac-org": "orgA",
             "X-Rbac-Anything": "1"}
    # rbac on: replaced by the real identity
    r = env["nginx"].get("/api/x", token=hs(), headers=spoof)
    assert r.status_code == 200
    assert upstream_headers(r, "X-Rbac-User") == ["u1"]
    assert upstream_headers(r, "X-Rbac-Roles") != ["owner"]
    assert upstream_headers(r, "X-Rbac-Org") == []
    assert upstream_headers(r, "X-Rbac-Anything") == []
    # rbac off: removed all the same
    r = env["nginx"].get("/open/x", headers=spoof)
    assert r.status_code == 200
    got = [k for k, v in r.json()["headers"] if k.lower().startswith("x-rbac")]
    assert got == []
    # identity headers off in the location: removed all the same (they go
    # before the location is known, wherever the server level has them on)
    r = env["nginx"].get("/quiet/x", headers=spoof)
    assert upstream_headers(r, "X-Rbac-User") == []


def test_variables_in_access_log(env):
    env["nginx"].get("/api/var", token=hs(sub="ghost"))
    line = env["nginx"].access_line("/api/var")
    assert "decision=deny" in line
    assert 'reason="unknown user"' in line
    assert "cache=miss" in line
