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
