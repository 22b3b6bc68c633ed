"""JWT keys from JWKS documents: rbac_jwt_key_file (keys pinned per key,
refused at nginx -t with their kid named, the README's forgeries against
JWKS keys)."""

import time

import jwt as pyjwt
import pytest

from conftest import jwt_raw, proxy, rbacctl, user
from jwks_util import ec_key, jwk, jwks, pem, rsa_key

OCT = b"k" * 32


def claims(sub="u1"):
    now = int(time.time())
    return {"sub": sub, "exp": now + 300, "iat": now}


def sign(key, alg, kid=None):
    from cryptography.hazmat.primitives import serialization
    if not isinstance(key, bytes):
        key = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    headers = {"kid": kid} if kid is not None else None
    return pyjwt.encode(claims(), key, algorithm=alg, headers=headers)


@pytest.fixture(scope="module")
def fkeys():
    return {"r1": rsa_key(), "e1": ec_key("P-256"), "e3": ec_key("P-384"),
            "r1024": rsa_key(1024)}


@pytest.fixture
def file_env(tmp_path, nginx, redis, upstream, fkeys):
    user(redis.client(), "u1", orgs={"orgA": []})
    doc = jwks(jwk(fkeys["r1"], "r1", "RS256"),
               jwk(fkeys["e1"], "e1"),
               jwk(fkeys["e3"], "e3", "ES384", use="sig"),
               jwk(OCT, "h1", "HS256"),
               jwk(rsa_key(), "enc1", "RS256", use="enc"))
    (tmp_path / "idp.jwks").write_text(doc)
    http = """
    rbac_redis 127.0.0.1:%d timeout=500ms;
    rbac_jwt_key_file %s;
""" % (redis.port, tmp_path / "idp.jwks")
    n = nginx(http, "location /api/ { rbac on; %s }" % proxy(upstream))
    return n


@pytest.mark.parametrize("kid,alg", [("r1", "RS256"), ("e1", "ES256"),
                                     ("e3", "ES384"), ("h1", "HS256")])
def test_jwks_file_key_verifies(file_env, fkeys, kid, alg):
    key = OCT if kid == "h1" else fkeys[kid]
    r = file_env.get("/api/x", token=sign(key, alg, kid))
    assert r.status_code == 200, r.text


def detail(r):
    assert r.status_code == 401, r.text
    return r.json()["detail"]


def test_jwks_file_unknown_kid_has_no_fallback(file_env, fkeys):
    assert detail(file_env.get("/api/x", token=sign(fkeys["r1"], "RS256",
                                                    "nope"))) == "unknown kid"
    assert detail(file_env.get("/api/x", token=sign(rsa_key(), "RS256",
                                                    "enc1"))) == "unknown kid"


def test_jwks_file_forgeries(file_env, fkeys):
    rsa_pem = pem(fkeys["r1"])
    # HS256 signed with the RSA key's bytes, naming the RSA key's kid
    t = jwt_raw({"alg": "HS256", "typ": "JWT", "kid": "r1"}, claims(),
                rsa_pem)
    assert detail(file_env.get("/api/x", token=t)) == "wrong alg"
    # ... and naming no kid: only the oct key is tried
    t = jwt_raw({"alg": "HS256", "typ": "JWT"}, claims(), rsa_pem)
    assert detail(file_env.get("/api/x", token=t)) == "bad signature"
    # an empty HMAC key
    t = jwt_raw({"alg": "HS256", "typ": "JWT", "kid": "h1"}, claims(), b"")
    assert detail(file_env.get("/api/x", token=t)) == "bad signature"
    # alg swapped: the EC key's kid with RS256, the RSA key's with RS512
    t = sign(fkeys["r1"], "RS256", "e1")
    assert detail(file_env.get("/api/x", token=t)) == "wrong alg"
    t = sign(fkeys["r1"], "RS512", "r1")
    assert detail(file_env.get("/api/x", token=t)) == "wrong alg"
    # kid of another key type: an EC-signed token naming the RSA key
    t = sign(fkeys["e1"], "ES256", "r1")
    assert detail(file_env.get("/api/x", token=t)) == "wrong alg"
    # P-384 key's kid, signed with the P-256 key as ES384
    t = sign(fkeys["e1"], "ES384", "e3")
    assert detail(file_env.get("/api/x", token=t)) == "bad signature"
    t = jwt_raw({"alg": "none", "typ": "JWT", "kid": "r1"}, claims()) + "c2ln"
    assert detail(file_env.get("/api/x", token=t)) == "wrong alg"


def bad_keys(fkeys):
    """(kid, jwk, what nginx -t says) for each key that must be refused."""
    off = jwk(fkeys["e1"], "offcurve")
    y = bytearray(off["y"].encode())
    y[5] = ord("A") if y[5] != ord("A") else ord("B")
    off["y"] = y.decode()
    return [
        ("badn", {"kty": "RSA", "kid": "badn", "alg": "RS256", "n": "***",
                  "e": "AQAB"}, "not unpadded base64url"),
        ("weak", jwk(fkeys["r1024"], "weak", "RS256"),
         "has 1024 bits, at least 2048 needed"),
        ("offcurve", off, "EC point is not on P-256"),
        ("short", jwk(b"s" * 16, "short", "HS256"),
         "is 16 bytes, at least 32 needed"),
        ("nonealg", dict(jwk(fkeys["r1"], "nonealg"), alg="none"),
         "alg \"none\" is never accepted"),
        ("noalg", jwk(fkeys["r1"], "noalg"), "no \"alg\""),
        ("mixed", jwk(fkeys["e1"], "mixed", "ES384"),
         "alg ES384 does not fit a P-256 key"),
        ("rsahs", jwk(fkeys["r1"], "rsahs", "HS256"),
         "alg HS256 does not fit a RSA key"),
    ]


@pytest.mark.parametrize("i", range(8))
def test_jwks_file_bad_key_fails_config_naming_kid(tmp_path, nginx, fkeys,
                                                   i):
    kid, bad, says = bad_keys(fkeys)[i]
    doc = jwks(jwk(fkeys["e1"], "good"), bad)
    (tmp_path / "bad.jwks").write_text(doc)
    n = nginx("rbac_jwt_key_file %s;" % (tmp_path / "bad.jwks"),
              "location / { }", run=False)
    rc, err = n.test_config()
    assert rc != 0
    assert 'kid="%s" refused' % kid in err, err
    assert says in err, err


def test_jwks_file_default_alg(tmp_path, nginx, redis, upstream, fkeys):
    """alg= names the alg of keys without one; a key's own alg wins."""
    user(redis.client(), "u1", orgs={"orgA": []})
    (tmp_path / "a.jwks").write_text(jwks(jwk(fkeys["r1"], "r1"),
                                          jwk(OCT, "h1", "HS384")))
    rc, err = nginx("rbac_jwt_key_file %s alg=RS256;"
                    % (tmp_path / "a.jwks"), "", run=False).test_config()
    assert rc != 0 and 'kid="h1" refused' in err and "at least 48" in err
    (tmp_path / "a.jwks").write_text(jwks(jwk(fkeys["r1"], "r1")))
    n = nginx("rbac_redis 127.0.0.1:%d; rbac_jwt_key_file %s alg=RS384;"
              % (redis.port, tmp_path / "a.jwks"),
              "location /api/ { rbac on; %s }" % proxy(upstream))
    assert n.get("/api/x", token=sign(fkeys["r1"], "RS384",
                                      "r1")).status_code == 200
    assert detail(n.get("/api/x", token=sign(fkeys["r1"], "RS256",
                                             "r1"))) == "wrong alg"


@pytest.mark.parametrize("text,says", [
    ("not json", "JWKS is not JSON"),
    ('{"keys": {}}', "\"keys\" array"),
    ('{"keys": [], "keys": []}', "no member name twice"),
    ('{"keys": [{"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "AA"}]}',
     "no signing key"),
])
def test_jwks_file_bad_document(tmp_path, nginx, text, says):
    (tmp_path / "d.jwks").write_text(text)
    rc, err = nginx("rbac_jwt_key_file %s;" % (tmp_path / "d.jwks"), "",
                    run=False).test_config()
    assert rc != 0 and says in err, err


def test_rbacctl_token_verify_against_jwks(tmp_path, fkeys):
    """The same reader and verifier offline: valid, the 401's reason, the
    keys the module would refuse named on stderr."""
    f = tmp_path / "idp.jwks"
    f.write_text(jwks(jwk(fkeys["r1"], "r1", "RS256"), jwk(fkeys["e1"], "e1"),
                      jwk(fkeys["r1024"], "weak", "RS256")))
    p = rbacctl("token", "verify", "--jwks", str(f),
                sign(fkeys["r1"], "RS256", "r1"))
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("valid: sub=u1 ")
    assert 'kid="weak" refused: alg=RS256 key has 1024 bits' in p.stderr
    p = rbacctl("token", "verify", "--jwks", str(f),
                sign(fkeys["r1"], "RS256", "e1"))
    assert p.returncode == 1
    assert p.stdout.splitlines() == ["invalid: wrong alg",
                                     "keys: r1(RS256) e1(ES256)"]
    p = rbacctl("token", "verify", "--jwks", str(f), "--iss", "https://x",
                sign(fkeys["e1"], "ES256", "e1"))
    assert p.returncode == 1 and "invalid: wrong issuer" in p.stdout
    p = rbacctl("token", "verify", "--jwks", str(f), "--alg", "none", "x")
    assert p.returncode == 2
