"""A throwaway redis-server on a loopback port of its own, for one test.

    with RedisServer(tmp_path) as rs:
        rs.client().set("rbac:user:u1", "{}")
        rs.url        # redis://127.0.0.1:<port>

Every integration test that needs Redis starts its own, so tests never share
state and never touch a packaged service.
"""

import os
import socket
import subprocess
import time

import redis


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class RedisServer:
    """tls: {"cert", "key", "ca"} and optionally "auth_clients" (a client
    certificate required) with "client_cert", "client_key" for .client();
    "insecure" makes .client() accept any server certificate; the server
    then listens with TLS only (--port 0 --tls-port)."""

    def __init__(self, workdir, port=None, password=None, extra=(),
                 tls=None, host="127.0.0.1"):
        self.dir = str(workdir)
        self.host = host
        self.port = port or free_port()
        self.password = password
        self.extra = list(extra)
        self.tls = tls
        self.proc = None

    @property
    def url(self):
        auth = ":%s@" % self.password if self.password else ""
        return "redis://%s127.0.0.1:%d" % (auth, self.port)

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        args = ["redis-server", "--bind", self.host, "--port", str(self.port),
                "--save", "", "--appendonly", "no", "--dir", self.dir,
                "--logfile", os.path.join(self.dir, "redis-%d.log" % self.port)]
        if self.tls:
            args[3:5] = ["--port", "0", "--tls-port", str(self.port),
                         "--tls-cert-file", self.tls["cert"],
                         "--tls-key-file", self.tls["key"],
                         "--tls-ca-cert-file", self.tls["ca"],
                         "--tls-auth-clients",
                         "yes" if self.tls.get("auth_clients") else "no",
                         "--tls-replication", "yes"]
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args + self.extra)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                self.client().ping()
                return self
            except redis.exceptions.ConnectionError:
                if self.proc.poll() is not None:
                    raise RuntimeError("redis-server exited: %d" % self.proc.returncode)
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start on port %d" % self.port)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def client(self):
        if self.tls:
            return redis.Redis(host=self.host, port=self.port,
                               password=self.password, socket_timeout=5,
                               decode_responses=True, ssl=True,
                               ssl_ca_certs=self.tls["ca"],
                               ssl_certfile=self.tls.get("client_cert"),
                               ssl_keyfile=self.tls.get("client_key"),
                               ssl_cert_reqs="none"
                               if self.tls.get("insecure") else "required")
        return redis.Redis(host=self.host, port=self.port,
                           password=self.password, socket_timeout=5,
                           decode_responses=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
