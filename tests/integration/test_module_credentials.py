"""One credential per request (issue 16): the module reads every carrier
of every rbac_token source (each header line, each cookie, each query
argument, decoded as the upstream decodes it), and two different
credentials are a 401 `ambiguous credential`; the same one twice is fine.
The defaults are Coder's carriers: the coder_session_token cookie and
query argument, the Coder-Session-Token header, and Authorization Bearer.
"""

import itertools
import time

import jwt as pyjwt
import pytest

from conftest import (HS_SECRET, SLOW, Nginx, RedisServer, api_token, proxy,
                      upstream_headers, user)
from test_module_headers import raw_request


# a header name of more than 64 bytes
LONG = "x_" + "long_header_name_" * 4


@pytest.fixture(scope="module")
def env(tmp_path_factory, upstream):
    tmp = tmp_path_factory.mktemp("creds")
    (tmp / "hs.key").write_bytes(HS_SECRET)
    rs = RedisServer(tmp / "redis").start()
    r = rs.client()
    user(r, "u1", orgs={"orgA": []})
    user(r, "sa1", orgs={"orgA": []}, kind="service_account")
    toks = {"u1": api_token(r, "tu1", "u1", secret="secret-u1"),
            "sa1": api_token(r, "tsa1", "sa1", secret="secret-sa1")}
    # with a cache zone, as in production: allows are also memoized
    http = """
    rbac_redis 127.0.0.1:%d timeout=%dms;
    rbac_jwt_key %s alg=HS256;
    rbac_cache_zone creds:1m;
""" % (rs.port, 500 * SLOW, tmp / "hs.key")
    server = """
        underscores_in_headers on;
        location /api/ { rbac on; %(p)s }
        location /ui/ { rbac on; rbac_principals user; %(p)s }
        location /own/ {
            rbac on;
            rbac_token $http_x_key;
            rbac_token $arg_key type=api_token;
            %(p)s
        }
        location /typed/ {
            rbac on;
            rbac_token $arg_key type=api_token;
            rbac_token $http_x_key type=jwt;
            %(p)s
        }
        location /typed2/ {
            rbac on;
            rbac_token $http_x_key type=jwt;
            rbac_token $arg_key type=api_token;
            %(p)s
        }
        location /two/ {
            rbac on;
            rbac_token $cookie_a;
            rbac_token $cookie_b;
            rbac_token $http_%(long)s;
            %(p)s
        }
""" % {"p": proxy(upstream), "long": LONG}
    n = Nginx(tmp / "nginx", http, server).start()
    yield {"nginx": n, "tokens": toks}
    problems = n.stop()
    rs.stop()
    assert not problems, problems


def jwt_for(sub):
    now = int(time.time())
    return pyjwt.encode({"sub": sub, "exp": now + 300, "iat": now},
                        HS_SECRET, algorithm="HS256")


CARRIERS = ["cookie", "bearer", "header", "query"]


def send(env, path, creds, extra=()):
    """creds: [(carrier, credential)]; returns (status, body)."""
    headers, args = list(extra), []
    for carrier, cred in creds:
        if carrier == "cookie":
            headers.append(("Cookie", "coder_session_token=" + cred))
        elif carrier == "bearer":
            headers.append(("Authorization", "Bearer " + cred))
        elif carrier == "header":
            headers.append(("Coder-Session-Token", cred))
        else:
            args.append("coder_session_token=" + cred)
    if args:
        path += "?" + "&".join(args)
    status, _, body = raw_request(env["nginx"].port, path, headers)
    return status, body


AMBIGUOUS = (b'{"message":"Unauthorized",'
             b'"detail":"ambiguous credential"}\n')


@pytest.mark.parametrize("carrier", CARRIERS)
def test_each_carrier_alone(env, carrier):
    status, body = send(env, "/api/x", [(carrier, env["tokens"]["u1"])])
    assert status == 200, body
    assert b'["X-Rbac-User", "u1"]' in body


@pytest.mark.parametrize("a,b", list(itertools.permutations(CARRIERS, 2)))
def test_every_pair(env, a, b):
    """The same credential in both: it passes; two different: 401."""
    u1, sa1 = env["tokens"]["u1"], env["tokens"]["sa1"]
    status, body = send(env, "/api/x", [(a, u1), (b, u1)])
    assert status == 200, body
    assert b'["X-Rbac-User", "u1"]' in body
    status, body = send(env, "/api/x", [(a, u1), (b, sa1)])
    assert (status, body) == (401, AMBIGUOUS)


def test_all_four_same_passes_and_one_odd_out_is_401(env):
    tok = env["tokens"]["u1"]
    status, _ = send(env, "/api/x", [(c, tok) for c in CARRIERS])
    assert status == 200
    for odd in CARRIERS:
        creds = [(c, env["tokens"]["sa1"] if c == odd else tok)
                 for c in CARRIERS]
        status, body = send(env, "/api/x", creds)
        assert (status, body) == (401, AMBIGUOUS), odd


def test_service_account_cookie_and_human_jwt(env):
    """The attack of the issue: a service account's token in the cookie
    (what Coder reads first) and a human's JWT in Authorization (what the
    module read first) on a people-only location."""
    status, body = send(env, "/ui/x", [("cookie", env["tokens"]["sa1"]),
                                       ("bearer", jwt_for("u1"))])
    assert (status, body) == (401, AMBIGUOUS)


@pytest.mark.parametrize("headers,query", [
    # a second copy that nginx's $cookie_/$arg_/$http_ would not give
    ([("Cookie", "CODER_SESSION_TOKEN={u1}; coder_session_token={sa1}")],
     ""),
    ([("Cookie", "coder_session_token={u1}"),
      ("Cookie", "coder_session_token={sa1}")], ""),
    ([("Cookie", "coder_session_token={u1}; coder_session_token={sa1}")],
     ""),
    ([], "Coder_Session_Token={u1}&coder_session_token={sa1}"),
    ([], "coder_session_token={u1}&coder_session_token={sa1}"),
    ([], "coder%5Fsession%5Ftoken={sa1}&x=1"),
    ([("Coder_Session_Token", "{u1}"), ("Coder-Session-Token", "{sa1}")],
     ""),
    # spellings Go (name trimmed) or Python (split at spaces) still read
    ([("Cookie", "coder_session_token ={sa1}")], ""),
    ([("Cookie", "coder_session_token\t= {sa1}")], ""),
    ([("Cookie", "a=b coder_session_token={sa1}")], ""),
])
def test_copies_in_other_spellings_count(env, headers, query):
    toks = env["tokens"]
    headers = [(k, v.format(**toks)) for k, v in headers]
    headers.append(("Authorization", "Bearer " + toks["u1"]))
    path = "/api/x" + ("?" + query.format(**toks) if query else "")
    status, _, body = raw_request(env["nginx"].port, path, headers)
    assert (status, body) == (401, AMBIGUOUS)


def test_a_percent_encoded_copy_is_the_same_credential(env):
    tok = env["tokens"]["u1"]
    enc = "".join("%%%02X" % ord(c) for c in tok)
    status, body = send(env, "/api/x", [("query", enc), ("bearer", tok)])
    assert status == 200, body
    status, body = send(env, "/api/x", [("query", enc)])
    assert status == 200, body


def test_configured_sources_are_all_read(env):
    """rbac_token lines of one's own: each is a carrier; the defaults are
    not read there (a level with rbac_token replaces them)."""
    toks = env["tokens"]
    port = env["nginx"].port
    status, _, _ = raw_request(port, "/own/x?key=" + toks["u1"],
                               [("X-Key", toks["u1"])])
    assert status == 200
    status, _, body = raw_request(port, "/own/x?key=" + toks["u1"],
                                  [("X-Key", toks["sa1"])])
    assert (status, body) == (401, AMBIGUOUS)
    status, _, _ = raw_request(port, "/own/x?key=" + toks["u1"],
                               [("Authorization", "Bearer " + toks["sa1"])])
    assert status == 200


def test_a_memoized_allow_is_not_served_to_an_ambiguous_request(env):
    """The decision memo is keyed by the one credential found: a request
    that adds a second, different one is not the same request."""
    u1, sa1 = env["tokens"]["u1"], env["tokens"]["sa1"]
    for _ in range(3):
        status, _ = send(env, "/api/memo", [("bearer", u1)])
        assert status == 200
    for carrier in ("cookie", "header", "query"):
        status, body = send(env, "/api/memo", [("bearer", u1),
                                               (carrier, sa1)])
        assert (status, body) == (401, AMBIGUOUS), carrier
        status, _ = send(env, "/api/memo", [("bearer", u1), (carrier, u1)])
        assert status == 200


def test_type_is_the_first_source_in_rbac_token_order(env):
    """The same credential in two sources of different type=: the type is
    the one of the source listed first, wherever its copy is in the
    request (headers are read before the query string)."""
    tok = env["tokens"]["u1"]
    port = env["nginx"].port
    # /typed/: $arg_key type=api_token first
    status, _, _ = raw_request(port, "/typed/x?key=" + tok, [("X-Key", tok)])
    assert status == 200
    # /typed2/: $http_x_key type=jwt first: an API token is no JWT
    status, _, body = raw_request(port, "/typed2/x?key=" + tok,
                                  [("X-Key", tok)])
    assert status == 401 and body != AMBIGUOUS, body
    status, _, _ = raw_request(port, "/typed2/x?key=" + tok, [])
    assert status == 200


def test_several_cookie_sources_and_a_long_header_name(env):
    """Two $cookie_ sources read from one Cookie line (and from two), and
    a $http_ source whose name is longer than 64 bytes."""
    u1, sa1 = env["tokens"]["u1"], env["tokens"]["sa1"]
    port = env["nginx"].port
    long = LONG.replace("_", "-")
    cases = [
        ([("Cookie", "a=%s; b=%s" % (u1, u1))], 200),
        ([("Cookie", "a=%s; b=%s" % (u1, sa1))], 401),
        ([("Cookie", "a=" + u1), ("Cookie", "B=" + sa1)], 401),
        ([("Cookie", "x=1; b=" + u1)], 200),
        ([(long, u1)], 200),
        ([(long.upper(), u1), ("Cookie", "a=" + u1)], 200),
        ([(long, u1), ("Cookie", "a=" + sa1)], 401),
        ([(long[:-1], sa1), ("Cookie", "a=" + u1)], 200),
    ]
    for headers, want in cases:
        status, _, body = raw_request(port, "/two/x", headers)
        assert status == want, (headers, body)
        if want == 401:
            assert body == AMBIGUOUS
