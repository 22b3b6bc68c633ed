"""Identity headers (issue 16): nothing a caller writes may change what the
upstream believes.

- every spelling of X-Rbac-* from the client (case, '_' for '-') is removed,
  with underscores_in_headers on and off, and before the rewrite phases
  ($http_x_rbac_user in if/set/map/return never sees the client's value);
- an object argument holding a control byte (from a capture, a body field)
  is a 400, in shadow mode too;
- sub, org and role names with ',', '%', spaces, controls or non-ASCII are
  percent-encoded, and a Go net/http, a Python WSGI and a raw upstream all
  read back exactly the decided values.
"""

import json
import os
import socket
import subprocess
import threading
import time
import urllib.parse
import wsgiref.simple_server

import pytest

from conftest import (BUILD, HS_SECRET, SLOW, Nginx, RedisServer, api_token,
                      obj, org, proxy, put, read_to_close, tok,
                      upstream_headers, user)
from redis_server import free_port


SPELLINGS = ["X-Rbac-User", "x-rbac-user", "X_Rbac_User", "X-Rbac_User",
             "x_RBAC-user", "X_RBAC-ROLES", "x_rbac_roles", "X-RBAC-ORG",
             "X_Rbac_Org", "X_Rbac_Kind", "X-Rbac-Anything",
             "x_rbac_anything"]

# sub, org and a custom role name that need the encoding
ODD_SUB = "al,ice %41 j\u00f6rg,owner"
# a user id with a space, ',', '%' and non-ASCII, from an API token's record
TOK_USER = "u2 ,%\u00f6"
ODD_ORG = "org,1 \u00e9"
ODD_ROLE = "lead,ops"


def norm(name):
    return name.lower().replace("_", "-")


def raw_request(port, path, headers=(), body=b"", method="GET"):
    """Sends exactly these header lines (duplicates, odd names) and returns
    (status, headers dict, body bytes)."""
    head = "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" % (method,
                                                                  path)
    for k, v in headers:
        head += "%s: %s\r\n" % (k, v)
    if body:
        head += "Content-Length: %d\r\n" % len(body)
    data = head.encode("latin-1") + b"\r\n" + body
    s = socket.create_connection(("127.0.0.1", port), 10 * SLOW)
    s.settimeout(10 * SLOW)
    s.sendall(data)
    got = read_to_close(s)
    head, _, rest = got.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    if hdrs.get("transfer-encoding") == "chunked":
        out = b""
        while True:
            size, _, rest = rest.partition(b"\r\n")
            n = int(size, 16)
            if n == 0:
                break
            out += rest[:n]
            rest = rest[n + 2:]
        rest = out
    return status, hdrs, rest


def rbac_headers(resp_json):
    """The upstream's (EchoHandler's) headers whose name, read as a CGI
    gateway reads it, is an identity header."""
    return [(k, v) for k, v in resp_json["headers"]
            if norm(k).startswith("x-rbac-")]


# --------------------------------------------------------------------------
# One redis + one nginx with three servers: underscores_in_headers on; off
# with ignore_invalid_headers off (names with '_' kept); the defaults.

def start_redis(tmp):
    """A redis holding orgA, its admin u1 and u1's workspace ws1; the HS256
    key file beside it."""
    (tmp / "hs.key").write_bytes(HS_SECRET)
    rs = RedisServer(tmp / "redis").start()
    r = rs.client()
    org(r, "orgA")
    user(r, "u1", orgs={"orgA": ["organization-admin"]})
    obj(r, "workspace", "ws1", "orgA", owner="u1")
    return rs, r


@pytest.fixture(scope="module")
def env(tmp_path_factory, upstream):
    tmp = tmp_path_factory.mktemp("headers")
    rs, r = start_redis(tmp)

    p = proxy(upstream)
    locations = """
        if ($http_x_rbac_user) { return 418; }
        if ($http_x_rbac_roles) { return 418; }
        set $seen_org $http_x_rbac_org;

        location /api/ { rbac on; %(p)s }
        location /ws/ {
            rbac on; rbac_object workspace id=ws1; rbac_action read; %(p)s
        }
        location /open/ { %(p)s }
        location /quiet/ { rbac_identity_headers off; %(p)s }
        location /seen/ {
            return 200 "[$http_x_rbac_user][$http_x_rbac_kind][$seen_org][$spoof_roles]";
        }
""" % {"p": p}
    ports = {"on": free_port(), "off": free_port(), "srvoff": free_port()}
    http = """
    rbac_redis 127.0.0.1:%d timeout=%dms;
    rbac_jwt_key %s alg=HS256;
    map $http_x_rbac_roles $spoof_roles { "" none; default spoofed; }

    server {
        listen 127.0.0.1:%d;
        underscores_in_headers on;
%s
    }
    server {
        listen 127.0.0.1:%d;
        underscores_in_headers off;
        ignore_invalid_headers off;
%s
    }
    server {
        listen 127.0.0.1:%d;
        rbac_identity_headers off;
        location /srvoff/ { %s }
        location /srvoff-on/ { rbac_identity_headers on; %s }
    }
""" % (rs.port, 500 * SLOW, tmp / "hs.key", ports["on"], locations,
       ports["off"], locations, ports["srvoff"], p, p)
    n = Nginx(tmp / "nginx", http, locations).start()
    ports["default"] = n.port
    yield {"nginx": n, "redis": r, "ports": ports}
    problems = n.stop()
    rs.stop()
    assert not problems, problems


SERVERS = ["on", "off", "default"]


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("path", ["/api/x", "/ws/x", "/open/x", "/quiet/x"])
def test_every_spelling_is_removed(env, server, path):
    """No client header that a CGI/WSGI gateway would read as
    HTTP_X_RBAC_* reaches the upstream; what does is the module's own,
    once each."""
    spoof = [(name, "admin") for name in SPELLINGS]
    spoof += [("X-Rbac-User", "second"), ("X_Rbac_User", "third")]
    status, _, body = raw_request(env["ports"][server], path,
                                  [("Authorization", "Bearer " + tok("u1"))]
                                  + spoof)
    assert status == 200, body
    got = rbac_headers(json.loads(body))
    if path in ("/api/x", "/ws/x"):
        names = sorted(norm(k) for k, v in got)
        want = ["x-rbac-kind", "x-rbac-user"]
        if path == "/ws/x":
            want = ["x-rbac-kind", "x-rbac-org", "x-rbac-roles",
                    "x-rbac-user"]
        assert names == want, got
        assert ("X-Rbac-User", "u1") in got
        assert all(v != "admin" for k, v in got), got
    else:
        # rbac off, or identity headers off in the location: nothing at
        # all (client copies go before the location is known)
        assert got == [], got


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("name", SPELLINGS)
def test_rewrite_phases_never_see_a_client_copy(env, server, name):
    """`if ($http_x_rbac_user) { return 418; }` at server level, `set` and
    `map` from $http_x_rbac_*: the client's value is gone before them."""
    status, _, body = raw_request(env["ports"][server], "/seen/x",
                                  [(name, "admin")])
    assert status == 200, body
    assert body == b"[][][][none]"


@pytest.mark.parametrize("server", SERVERS)
def test_rewrite_phases_see_no_copy_on_a_protected_location(env, server):
    status, _, body = raw_request(env["ports"][server], "/api/x",
                                  [("Authorization", "Bearer " + tok("u1")),
                                   ("X-Rbac-User", "admin"),
                                   ("X_Rbac_Roles", "owner")])
    assert status == 200, body


def test_server_level_off_leaves_client_copies(env):
    """rbac_identity_headers off for a whole server: client copies pass
    (the operator's choice); a location of it that turns it on removes
    them in its access phase."""
    port = env["ports"]["srvoff"]
    status, _, body = raw_request(port, "/srvoff/x", [("X-Rbac-User", "a")])
    assert status == 200
    assert rbac_headers(json.loads(body)) == [("X-Rbac-User", "a")]
    status, _, body = raw_request(port, "/srvoff-on/x",
                                  [("X-Rbac-User", "a")])
    assert status == 200
    assert rbac_headers(json.loads(body)) == []


# --------------------------------------------------------------------------
# Control bytes in object arguments; the encoding read back by three
# upstreams.

GO_UPSTREAM = r'''
package main

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
)

func dec(s string) string {
	v, err := url.PathUnescape(s)
	if err != nil {
		return "!bad:" + s
	}
	return v
}

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Args[1])
	if err != nil {
		panic(err)
	}
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		roles := []string{}
		for _, p := range strings.Split(r.Header.Get("X-Rbac-Roles"), ",") {
			roles = append(roles, dec(p))
		}
		n := 0
		for k, vs := range r.Header {
			k = strings.ToLower(strings.ReplaceAll(k, "_", "-"))
			if strings.HasPrefix(k, "x-rbac-") {
				n += len(vs)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]interface{}{
			"user":  dec(r.Header.Get("X-Rbac-User")),
			"kind":  dec(r.Header.Get("X-Rbac-Kind")),
			"org":   dec(r.Header.Get("X-Rbac-Org")),
			"roles": roles,
			"count": n,
		})
	}))
}
'''


def decode_list(v):
    return [urllib.parse.unquote(p, errors="strict") for p in v.split(",")]


def wsgi_app(environ, start_response):
    """What a WSGI application reads: HTTP_X_RBAC_* from the environ."""
    def get(name):
        return urllib.parse.unquote(environ.get(name, ""), errors="strict")
    body = json.dumps({
        "user": get("HTTP_X_RBAC_USER"),
        "kind": get("HTTP_X_RBAC_KIND"),
        "org": get("HTTP_X_RBAC_ORG"),
        "roles": decode_list(environ.get("HTTP_X_RBAC_ROLES", "")),
        "count": sum(1 for k in environ if k.startswith("HTTP_X_RBAC_")),
    }).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]


class QuietWSGIHandler(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, *args):
        pass


def raw_upstream(sock, stop):
    """A socket server reading the request head as bytes: one line per
    header, names compared as a CGI gateway would."""
    sock.settimeout(0.2)
    while not stop.is_set():
        try:
            c, _ = sock.accept()
        except socket.timeout:
            continue
        c.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
        lines = data.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]
        got = {}
        n = 0
        for l in lines:
            k, _, v = l.decode("latin-1").partition(":")
            if norm(k).startswith("x-rbac-"):
                n += 1
                got[norm(k)] = v.strip()
        body = json.dumps({
            "user": urllib.parse.unquote(got.get("x-rbac-user", "")),
            "kind": urllib.parse.unquote(got.get("x-rbac-kind", "")),
            "org": urllib.parse.unquote(got.get("x-rbac-org", "")),
            "roles": decode_list(got.get("x-rbac-roles", "")),
            "count": n,
        }).encode()
        c.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body) + body)
        c.close()


@pytest.fixture(scope="module")
def env2(tmp_path_factory, upstream):
    tmp = tmp_path_factory.mktemp("headers2")
    rs, r = start_redis(tmp)
    org(r, ODD_ORG)
    user(r, ODD_SUB, orgs={ODD_ORG: ["organization-admin", ODD_ROLE]})
    obj(r, "workspace", "wodd", ODD_ORG, owner=ODD_SUB)
    obj(r, "template", "t1", "orgA")
    user(r, TOK_USER, orgs={"orgA": []})
    api_token(r, "tctl", TOK_USER, secret="ctl-secret")
    put(r, "role:%s:%s" % (ODD_ORG, ODD_ROLE), {
        "name": ODD_ROLE, "organization_id": ODD_ORG,
        "display_name": "Lead, ops",
        "organization_permissions": [
            {"resource_type": "template", "action": "read",
             "negate": False}],
        "organization_member_permissions": []})

    procs, stops = [], []

    # Go net/http
    go_port = free_port()
    src = tmp / "goup.go"
    src.write_text(GO_UPSTREAM)
    genv = dict(os.environ, GOCACHE=os.path.join(BUILD, "gocache"),
                GOPATH=str(tmp / "gopath"), GOFLAGS="", GO111MODULE="off",
                CGO_ENABLED="0")
    subprocess.run(["go", "build", "-o", str(tmp / "goup"), str(src)],
                   env=genv, check=True, timeout=300)
    procs.append(subprocess.Popen([str(tmp / "goup"), str(go_port)]))

    # Python WSGI (wsgiref)
    ws = wsgiref.simple_server.make_server("127.0.0.1", 0, wsgi_app,
                                           handler_class=QuietWSGIHandler)
    threading.Thread(target=ws.serve_forever, daemon=True).start()

    # raw socket
    raw_sock = socket.socket()
    raw_sock.bind(("127.0.0.1", 0))
    raw_sock.listen(16)
    stop = threading.Event()
    raw_thread = threading.Thread(target=raw_upstream, args=(raw_sock, stop),
                                  daemon=True)
    raw_thread.start()

    deadline = time.monotonic() + 10 * SLOW
    while True:
        try:
            socket.create_connection(("127.0.0.1", go_port), 0.2).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "go upstream did not start"
            time.sleep(0.05)

    p = proxy(upstream)
    obj_args = "rbac_object workspace id=$1 org=$2; rbac_action read;"
    body_args = ("rbac_json_body 1k; rbac_object workspace id=$rbac_body_id "
                 "org=$rbac_body_org owner=$rbac_body_owner; "
                 "rbac_action read;")
    server = """
        location ~ ^/cap/([^/]+)/([^/]+)$ { rbac on; %(o)s %(p)s }
        location ~ ^/shcap/([^/]+)/([^/]+)$ { rbac shadow; %(o)s %(p)s }
        location ~ ^/owner/([^/]+)$ {
            rbac on; rbac_object workspace id=ws1 owner=$1;
            rbac_action read; %(p)s
        }
        location /q/ {
            rbac shadow; rbac_object template org=$arg_org;
            rbac_action read; %(p)s
        }
        location /body/ { rbac on; %(b)s %(p)s }
        location /shbody/ { rbac shadow; %(b)s %(p)s }
        location /also/ {
            rbac shadow; rbac_json_body 1k;
            rbac_object workspace id=ws1; rbac_action read;
            rbac_also template id=$rbac_body_tpl action=use;
            %(p)s
        }
        location /go/ {
            rbac on; rbac_object workspace id=wodd; rbac_action read;
            proxy_pass http://127.0.0.1:%(go)d;
        }
        location /wsgi/ {
            rbac on; rbac_object workspace id=wodd; rbac_action read;
            proxy_pass http://127.0.0.1:%(wsgi)d;
        }
        location /raw/ {
            rbac on; rbac_object workspace id=wodd; rbac_action read;
            proxy_pass http://127.0.0.1:%(raw)d;
        }
        location /api/ { rbac on; %(p)s }
        location /echo/ {
            rbac on; rbac_object workspace id=wodd; rbac_action read; %(p)s
        }
""" % {"o": obj_args, "b": body_args, "p": p, "go": go_port,
       "wsgi": ws.server_address[1], "raw": raw_sock.getsockname()[1]}
    http = """
    rbac_redis 127.0.0.1:%d timeout=%dms;
    rbac_jwt_key %s alg=HS256;
""" % (rs.port, 500 * SLOW, tmp / "hs.key")
    n = Nginx(tmp / "nginx", http, server).start()
    yield {"nginx": n, "redis": r}
    problems = n.stop()
    for pr in procs:
        pr.kill()
        pr.wait()
    ws.shutdown()
    ws.server_close()
    stop.set()
    raw_thread.join(10)
    raw_sock.close()
    rs.stop()
    assert not problems, problems


def assert_400_ctl(status, headers, body):
    assert status == 400, body
    assert json.loads(body) == {
        "message": "Bad Request",
        "detail": "control character in object argument"}


CTL = ["%0D%0AX-Rbac-Roles:%20owner", "%0A", "%0D", "%01", "%09", "%1F",
       "%7F"]


@pytest.mark.parametrize("mode", ["cap", "shcap"])
@pytest.mark.parametrize("ctl", CTL)
def test_control_byte_in_a_capture_is_400(env2, mode, ctl):
    """org= (and id=) from a ([^/]+) capture of a percent-encoded control
    byte: refused before anything goes upstream, in shadow mode too."""
    port = env2["nginx"].port
    auth = [("Authorization", "Bearer " + tok("u1"))]
    assert_400_ctl(*raw_request(port, "/%s/ws1/orgA%s" % (mode, ctl), auth))
    assert_400_ctl(*raw_request(port, "/%s/ws1%s/orgA" % (mode, ctl), auth))
    assert_400_ctl(*raw_request(port, "/owner/u1%s" % ctl, auth))
    # without a credential too: nothing about the caller is needed
    assert_400_ctl(*raw_request(port, "/%s/ws1/orgA%s" % (mode, ctl)))
    line = env2["nginx"].access_line("/%s/ws1/orgA%s" % (mode, ctl))
    assert "decision=deny" in line


@pytest.mark.parametrize("path", ["/body/x", "/shbody/x"])
@pytest.mark.parametrize("field", ["id", "org", "owner"])
@pytest.mark.parametrize("ctl", ["\r\nX-Rbac-Roles: owner", "\n", "\r",
                                 "\u0001", "\t", "\u007f"])
def test_control_byte_in_a_body_field_is_400(env2, path, field, ctl):
    values = {"id": "ws1", "org": "orgA", "owner": "u1"}
    values[field] += ctl
    body = json.dumps(values).encode()
    assert_400_ctl(*raw_request(
        env2["nginx"].port, path,
        [("Authorization", "Bearer " + tok("u1")),
         ("Content-Type", "application/json")], body, method="POST"))
    clean = json.dumps({"id": "ws1", "org": "orgA", "owner": "u1"}).encode()
    status, _, _ = raw_request(
        env2["nginx"].port, path,
        [("Authorization", "Bearer " + tok("u1"))], clean, method="POST")
    assert status == 200


def test_control_byte_in_an_also_argument_is_400(env2):
    body = json.dumps({"tpl": "t1\r\nX-Rbac-Roles: owner"}).encode()
    assert_400_ctl(*raw_request(
        env2["nginx"].port, "/also/x",
        [("Authorization", "Bearer " + tok("u1"))], body, method="POST"))


def test_query_arguments_carry_no_control_byte(env2):
    """nginx refuses a raw control byte in the request line itself, and
    $arg_* stays percent-encoded: the upstream reads back the literal."""
    port = env2["nginx"].port
    auth = [("Authorization", "Bearer " + tok("u1"))]
    for raw in ("\x01", "\x7f", "\t"):
        status, _, _ = raw_request(port, "/q/x?org=orgA" + raw, auth)
        assert status == 400
    status, _, body = raw_request(
        port, "/q/x?org=orgA%0D%0AX-Rbac-Roles:%20owner", auth)
    assert status == 200, body
    got = rbac_headers(json.loads(body))
    assert ("X-Rbac-Org", "orgA%250D%250AX-Rbac-Roles:%2520owner") in got
    roles = [v for k, v in got if norm(k) == "x-rbac-roles"]
    assert len(roles) <= 1 and "owner" not in decode_list(roles[0]), got


@pytest.mark.parametrize("where", ["go", "wsgi", "raw", "echo"])
def test_odd_values_read_back_exactly(env2, where):
    """A sub with ',', '%', a space and non-ASCII, an org with ',' and a
    custom role named "lead,ops": each upstream splits X-Rbac-Roles
    on ',', percent-decodes, and reads exactly what was decided."""
    r = env2["nginx"].get("/%s/x" % where, token=tok(ODD_SUB))
    assert r.status_code == 200, r.text
    if where == "echo":
        got = rbac_headers(r.json())
        assert len(got) == 4, got
        for k, v in got:
            assert all(0x21 <= ord(c) < 0x7f for c in v), got
            assert "," not in v or norm(k) == "x-rbac-roles"
        d = {norm(k): v for k, v in got}
        seen = {"user": urllib.parse.unquote(d["x-rbac-user"]),
                "kind": d["x-rbac-kind"],
                "org": urllib.parse.unquote(d["x-rbac-org"]),
                "roles": decode_list(d["x-rbac-roles"]), "count": 4}
    else:
        seen = r.json()
    assert seen["user"] == ODD_SUB
    assert seen["kind"] == "user"
    assert seen["org"] == ODD_ORG
    assert ODD_ROLE in seen["roles"]
    assert "organization-admin" in seen["roles"]
    assert "owner" not in seen["roles"]
    assert len(seen["roles"]) == len(set(seen["roles"]))
    assert seen["count"] == 4


def test_a_token_user_id_is_encoded(env2):
    """The user of an API token's record reaches X-Rbac-User encoded as a
    JWT sub does."""
    r = env2["nginx"].get("/api/x", headers={
        "Authorization": "Bearer tctl-ctl-secret"})
    assert r.status_code == 200, r.text
    assert upstream_headers(r, "X-Rbac-User") == ["u2%20%2C%25%C3%B6"]
