"""Every nginx configuration in conf-examples/ passes `nginx -t` with the
module loaded (key files it names are made in a temporary directory)."""

import glob
import os
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("RBAC_BUILD", os.path.join(ROOT, "build"))
MODULE = os.path.join(BUILD, "ngx_http_rbac_module.so")
EXAMPLES = sorted(glob.glob(os.path.join(ROOT, "conf-examples", "*.conf")))


def keys(d):
    """The key files the examples name, under d."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    for name, k in (("idp-rs256.pem", rsa_key), ("idp-es256.pem", ec_key)):
        with open(os.path.join(d, name), "wb") as f:
            f.write(k.public_key().public_bytes(
                serialization.Encoding.PEM,
                serialization.PublicFormat.SubjectPublicKeyInfo))
    with open(os.path.join(d, "hs256.key"), "wb") as f:
        f.write(os.urandom(32).hex().encode())
    with open(os.path.join(d, "redis.password"), "w") as f:
        f.write("example-password\n")


def test_there_are_examples():
    names = {os.path.basename(p) for p in EXAMPLES}
    assert {"minimal.conf", "shadow-rollout.conf",
            "multi-node.conf"} <= names, names


@pytest.mark.parametrize("conf", EXAMPLES, ids=os.path.basename)
def test_example_passes_nginx_t(conf, tmp_path):
    keys(tmp_path)
    text = open(conf).read()
    text = text.replace("/etc/nginx/rbac/", str(tmp_path) + "/")
    text = text.replace("/var/log/nginx/", str(tmp_path) + "/")
    path = tmp_path / os.path.basename(conf)
    path.write_text(text)
    r = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(path),
         "-e", str(tmp_path / "error.log"),
         "-g", "load_module %s; pid %s/nginx.pid;" % (MODULE, tmp_path)],
        capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "test is successful" in r.stderr


def _served(text, tmp_path, redis_port, upstream_port, port):
    """An example's text made runnable here: its files, ports and upstream
    on loopback, its server{} unchanged."""
    text = text.replace("/etc/nginx/rbac/", str(tmp_path) + "/")
    text = text.replace("/var/log/nginx/", str(tmp_path) + "/")
    text = text.replace("127.0.0.1:6379", "127.0.0.1:%d" % redis_port)
    text = text.replace("127.0.0.1:3000", "127.0.0.1:%d" % upstream_port)
    text = text.replace("listen 80;", "listen 127.0.0.1:%d;" % port)
    return text.replace("events {}", "events {}\npid %s/nginx.pid;\n"
                        "error_log %s/error.log info;" % (tmp_path, tmp_path))


@pytest.mark.parametrize("name", ["minimal.conf", "shadow-rollout.conf"])
def test_example_denies_unmapped_api_paths(name, tmp_path, redis, upstream):
    """Every shipped example denies by default: an API path no location
    maps never reaches the upstream through the dashboard's location, and
    a trailing slash reaches the object check, not a weaker rule."""
    import json
    import time
    import jwt as pyjwt
    import requests
    from conftest import free_port, put

    keys(tmp_path)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with open(tmp_path / "idp-rs256.pem", "wb") as f:
        f.write(rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo))
    c = redis.client()
    put(c, "org:orgA", {"id": "orgA", "name": "A"})
    put(c, "user:bob", {"id": "bob", "orgs": {"orgA": []}})
    ws = "3f2a1c4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
    put(c, "obj:workspace:" + ws, {"type": "workspace", "id": ws,
                                   "org": "orgA", "owner": "alice"})
    now = int(time.time())
    tok = pyjwt.encode({"sub": "bob", "exp": now + 300, "iat": now,
                        "iss": "https://idp.example.com"},
                       rsa_key, algorithm="RS256")
    port = free_port()
    path = tmp_path / name
    path.write_text(_served(open(os.path.join(ROOT, "conf-examples",
                                               name)).read(),
                            tmp_path, redis.port, upstream, port))
    r = subprocess.run(
        ["nginx", "-p", str(tmp_path), "-c", str(path),
         "-e", str(tmp_path / "error.log"),
         "-g", "load_module %s;" % MODULE],
        capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    try:
        url = "http://127.0.0.1:%d" % port
        h = {"Authorization": "Bearer " + tok}
        for _ in range(100):
            try:
                requests.get(url + "/", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        # the dashboard: authentication only, by design
        assert requests.get(url + "/", headers=h).status_code == 200
        # an API path no location maps
        resp = requests.get(url + "/api/v2/users/bob/keys", headers=h)
        if name == "minimal.conf":
            assert resp.status_code == 404
            assert "path" not in resp.text
        else:
            assert resp.status_code == 200
        # bob has no right on the workspace, in every spelling Coder's
        # uuid.Parse accepts, with or without chi's trailing slash: each
        # reaches the same record and the same check
        spellings = [ws, ws.upper(), "{%s}" % ws, "urn:uuid:" + ws,
                     ws.replace("-", "")]
        for sp in spellings:
            for p in ("/api/v2/workspaces/" + sp,
                      "/api/v2/workspaces/%s/" % sp):
                resp = requests.get(url + p, headers=h)
                if name == "minimal.conf":
                    assert resp.status_code == 403, p
                    assert "not found" not in resp.text, p
                else:
                    assert resp.status_code == 200, p
        # not a UUID: refused before any lookup
        resp = requests.get(url + "/api/v2/workspaces/w1", headers=h)
        assert resp.status_code == (400 if name == "minimal.conf" else 200)
        if name == "shadow-rollout.conf":
            # nginx logs a request after answering it: wait for the last
            for _ in range(60):
                log = open(tmp_path / "rbac-shadow.log").read()
                if "/api/v2/workspaces/w1/ " in log:
                    break
                time.sleep(0.05)
            assert "/api/v2/users/bob/keys" in log
            assert "/api/v2/workspaces/%s/ " % ws.upper() in log
            assert log.count("workspace:read") == 2 * len(spellings), log
            assert '"GET / HTTP/1.1" 200 user=bob' not in log
    finally:
        with open(tmp_path / "nginx.pid") as f:
            os.kill(int(f.read()), 15)
