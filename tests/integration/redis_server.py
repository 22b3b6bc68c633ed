"""A throwaway redis-server on a loopback port of its own, for one test,
and a Redis Sentinel watching one.

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
        return self._ready("redis-server")

    def _ready(self, what):
        """Waits (10 s at most) until the server answers PING."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                self.client().ping()
                return self
            except redis.exceptions.ConnectionError:
                if self.proc.poll() is not None:
                    raise RuntimeError("%s exited: %d"
                                       % (what, self.proc.returncode))
                time.sleep(0.02)
        raise RuntimeError("%s did not start on port %d" % (what, self.port))

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


SENTINEL_MASTER = "rbacmaster"      # the name the sentinel monitors
DOWN_AFTER_MS = 500
FAILOVER_TIMEOUT_MS = 3000


class Sentinel(RedisServer):
    """A `redis-server --sentinel` of the test's own, monitoring the master
    on master_port as SENTINEL_MASTER with short timeouts.  tls as
    RedisServer's (TLS only, to all); .client() has no client certificate
    and checks the server's."""

    def __init__(self, workdir, master_port, port=None, tls=None):
        super().__init__(workdir, port=port, tls=tls)
        self.master_port = master_port

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        conf = os.path.join(self.dir, "sentinel.conf")
        with open(conf, "w") as f:
            if self.tls:
                f.write("port 0\ntls-port %d\n" % self.port +
                        "tls-cert-file %s\n" % self.tls["cert"] +
                        "tls-key-file %s\n" % self.tls["key"] +
                        "tls-ca-cert-file %s\n" % self.tls["ca"] +
                        "tls-auth-clients no\ntls-replication yes\n")
            else:
                f.write("port %d\n" % self.port)
            f.write("bind 127.0.0.1\n"
                    "daemonize no\n"
                    "dir %s\n" % self.dir +
                    "logfile %s/sentinel.log\n" % self.dir +
                    "sentinel monitor %s 127.0.0.1 %d 1\n"
                    % (SENTINEL_MASTER, self.master_port) +
                    "sentinel down-after-milliseconds %s %d\n"
                    % (SENTINEL_MASTER, DOWN_AFTER_MS) +
                    "sentinel failover-timeout %s %d\n"
                    % (SENTINEL_MASTER, FAILOVER_TIMEOUT_MS) +
                    "sentinel parallel-syncs %s 1\n" % SENTINEL_MASTER)
        self.proc = subprocess.Popen(["redis-server", conf, "--sentinel"])
        return self._ready("sentinel")

    def client(self):
        if self.tls:
            return redis.Redis(host="127.0.0.1", port=self.port,
                               socket_timeout=5, decode_responses=True,
                               ssl=True, ssl_ca_certs=self.tls["ca"])
        return redis.Redis(host="127.0.0.1", port=self.port,
                           socket_timeout=5, decode_responses=True)

    def master_port_now(self):
        addr = self.client().execute_command(
            "SENTINEL", "get-master-addr-by-name", SENTINEL_MASTER)
        return int(addr[1]) if addr else None

    def knows_replica(self, port):
        for r in self.client().execute_command("SENTINEL", "replicas",
                                               SENTINEL_MASTER):
            d = dict(zip(r[::2], r[1::2])) if isinstance(r, list) else r
            if int(d["port"]) == port and "disconnected" not in d["flags"] \
                    and d.get("master-link-status") == "ok":
                return True
        return False

    def log(self):
        try:
            with open(os.path.join(self.dir, "sentinel.log")) as f:
                return f.read()
        except OSError:
            return ""
