"""JWKS helpers for the tests: signing keys and their JWKs, and a JWKS
server over HTTPS on loopback whose CA the test makes with openssl."""

import json
import os
import ssl
import subprocess
import threading
import http.server

from conftest import b64url
from redis_server import free_port


def _int_bytes(n, size=None):
    size = size or (n.bit_length() + 7) // 8
    return n.to_bytes(size, "big")


def rsa_key(bits=2048):
    from cryptography.hazmat.primitives.asymmetric import rsa
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def ec_key(curve="P-256"):
    from cryptography.hazmat.primitives.asymmetric import ec
    c = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(),
         "P-521": ec.SECP521R1()}[curve]
    return ec.generate_private_key(c)


def pem(key):
    """The SPKI PEM of a private key's public half."""
    from cryptography.hazmat.primitives import serialization
    return key.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo)


def jwk(key, kid=None, alg=None, **extra):
    """The public JWK of an RSA or EC private key, or of bytes (oct)."""
    if isinstance(key, bytes):
        d = {"kty": "oct", "k": b64url(key)}
    elif hasattr(key, "curve"):
        nums = key.public_key().public_numbers()
        size = (key.curve.key_size + 7) // 8
        d = {"kty": "EC",
             "crv": {256: "P-256", 384: "P-384",
                     521: "P-521"}[key.curve.key_size],
             "x": b64url(_int_bytes(nums.x, size)),
             "y": b64url(_int_bytes(nums.y, size))}
    else:
        nums = key.public_key().public_numbers()
        d = {"kty": "RSA", "n": b64url(_int_bytes(nums.n)),
             "e": b64url(_int_bytes(nums.e))}
    if kid is not None:
        d["kid"] = kid
    if alg is not None:
        d["alg"] = alg
    d.update(extra)
    return d


def jwks(*keys):
    return json.dumps({"keys": list(keys)})


def make_ca(d):
    """A CA and a certificate for localhost (127.0.0.1) signed by it, with
    openssl.
    Returns (ca.pem, cert.pem, key.pem) paths."""
    d = str(d)
    os.makedirs(d, exist_ok=True)

    def run(*args):
        subprocess.run(["openssl"] + list(args), check=True, cwd=d,
                       capture_output=True, timeout=60)

    run("req", "-x509", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out",
        "ca.pem", "-days", "2", "-subj", "/CN=rbac test CA")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", "srv.key", "-out", "srv.csr", "-subj",
        "/CN=localhost")
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey",
        "ca.key", "-CAcreateserial", "-out", "srv.pem", "-days", "2",
        "-extfile", "ext.cnf")
    return (os.path.join(d, "ca.pem"), os.path.join(d, "srv.pem"),
            os.path.join(d, "srv.key"))


class JwksServer:
    """Serves .body (a JWKS text) at any path over HTTPS with
    Cache-Control: max-age=.max_age; counts the requests it answers.
    .stop() closes the port (the IdP unreachable), .start() opens it
    again on the same port."""

    def __init__(self, cert, key, body="", max_age=300):
        self.cert, self.key = cert, key
        self.body = body
        self.max_age = max_age
        self.status = 200
        self.fetches = 0
        self.headers = []       # the request headers of each fetch
        self.port = free_port()
        self.httpd = None
        self.lock = threading.Lock()

    def start(self):
        srv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with srv.lock:
                    srv.fetches += 1
                    srv.headers.append(dict(self.headers))
                    body = srv.body.encode()
                    status = srv.status
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if srv.max_age is not None:
                    self.send_header("Cache-Control",
                                     "public, max-age=%d" % srv.max_age)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port),
                                                     Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket,
                                            server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
