"""References through the module on a generic API (docs/references.md):
every kind resolves and decides as the object it names, names in any case
exactly where they are case-insensitive, a missing reference is a 403
naming it, a reference to another type is refused, every UUID spelling
reaches the same record and decision, and an id that is not a UUID where
one is declared is a 400 before Redis is asked."""

import pytest

from conftest import (HS_SECRET, SLOW, RedisServer, Nginx, jwt_hs, obj, org,
                      proxy, put, user, api_token, upstream_headers)

OA = "0a0a0a0a-0000-4000-8000-00000000000a"
OB = "0b0b0b0b-0000-4000-8000-00000000000b"
UA = "1a1a1a1a-0000-4000-8000-0000000000a1"     # alice
UB = "1b1b1b1b-0000-4000-8000-0000000000b1"     # bob, same org
UC = "1c1c1c1c-0000-4000-8000-0000000000c1"     # carol, other org
W1 = "2a2a2a2a-0000-4000-8000-0000000000f1"     # alice's "Dev" in OA
W2 = "2b2b2b2b-0000-4000-8000-0000000000f2"     # carol's "dev" in OB
T1 = "3a3a3a3a-0000-4000-8000-0000000000e1"     # template "Go" in OA
G1 = "4a4a4a4a-0000-4000-8000-0000000000d1"     # group "Admins" in OA
B1 = "5a5a5a5a-0000-4000-8000-0000000000c1"     # build of W1
BX = "5b5b5b5b-0000-4000-8000-0000000000c2"     # "build" naming a template
AG = "6a6a6a6a-0000-4000-8000-0000000000b1"     # agent of W1
V1 = "7a7a7a7a-0000-4000-8000-0000000000a1"     # version of T1


def ref(r, key, type_, id_):
    put(r, "ref:" + key, {"type": type_, "id": id_})


def seed(r):
    org(r, OA, default_roles=["organization-workspace-access"])
    org(r, OB, default_roles=["organization-workspace-access"])
    user(r, UA, orgs={OA: []})
    user(r, UB, orgs={OA: []})
    user(r, UC, orgs={OB: []})
    obj(r, "workspace", W1, OA, owner=UA)
    obj(r, "workspace", W2, OB, owner=UC)
    obj(r, "template", T1, OA, acl_groups={OA: "use"})
    put(r, "group:" + G1, {"id": G1, "org": OA, "name": "Admins"})
    obj(r, "group", G1, OA)
    ref(r, "orgname:acme", "organization", OA)
    ref(r, "orgname:beta", "organization", OB)
    ref(r, "username:alice", "user", UA)
    ref(r, "username:carol", "user", UC)
    for parent in (UA, "alice"):
        ref(r, "workspace:%s/dev" % parent, "workspace", W1)
    for parent in (UC, "carol"):
        ref(r, "workspace:%s/dev" % parent, "workspace", W2)
    for parent in (OA, "acme"):
        ref(r, "template:%s/go" % parent, "template", T1)
        ref(r, "group:%s/Admins" % parent, "group", G1)
    ref(r, "build:" + B1, "workspace", W1)
    ref(r, "build:" + BX, "template", T1)
    ref(r, "agent:" + AG, "workspace", W1)
    ref(r, "version:" + V1, "template", T1)
    ref(r, "apikey:KeyA1", "user", UA)


LOCATIONS = """
        location ~ ^/users/([^/]+)/workspace/([^/]+)/?$ {
            rbac on; rbac_object workspace id=@workspace:$1/$2; %(p)s
        }
        location ~ ^/orgs/([^/]+)/templates/([^/]+)/?$ {
            rbac on; rbac_object template id=@template:$1/$2 org=@orgname:$1;
            %(p)s
        }
        location ~ ^/orgs/([^/]+)/groups/([^/]+)/?$ {
            rbac on; rbac_object group id=@group:$1/$2; %(p)s
        }
        location ~ ^/orgs/([^/]+)/members/([^/]+)/workspaces/?$ {
            rbac on; rbac_action create;
            rbac_object workspace org=@orgname:$1 owner=@username:$2; %(p)s
        }
        location ~ ^/orgs/([^/]+)/?$ {
            rbac on; rbac_object organization id=@orgname:$1; %(p)s
        }
        location ~ ^/users/([^/]+)/?$ {
            rbac on; rbac_object user id=@username:$1; %(p)s
        }
        location ~ ^/builds/([^/]+)/?$ {
            rbac on; rbac_object workspace id=@build:$1; %(p)s
        }
        location ~ ^/agents/([^/]+)/?$ {
            rbac on; rbac_object workspace id=@agent:$1; %(p)s
        }
        location ~ ^/versions/([^/]+)/?$ {
            rbac on; rbac_object template id=@version:$1; %(p)s
        }
        location ~ ^/keys/([^/]+)/?$ {
            rbac on; rbac_object user id=@apikey:$1; %(p)s
        }
        location ~ ^/ws/([^/]+)/?$ {
            rbac on; rbac_object workspace id=@uuid:$1; %(p)s
        }
        location ~ ^/wsalso/([^/]+)/([^/]+)$ {
            rbac on; rbac_object workspace id=@uuid:$1;
            rbac_also template id=@version:$2 action=read; %(p)s
        }
        location = /status { rbac_status; }
"""


def conf(tmp, upstream, redis_port, zone=True):
    (tmp / "hs.key").write_bytes(HS_SECRET)
    http = """
    rbac_redis 127.0.0.1:%d timeout=%dms;
    rbac_jwt_key %s alg=HS256;
    %s
""" % (redis_port, 500 * SLOW, tmp / "hs.key",
       "rbac_cache_zone refs:1m;" if zone else "")
    return http, LOCATIONS % {"p": proxy(upstream)}


@pytest.fixture(scope="module")
def env(tmp_path_factory, upstream):
    tmp = tmp_path_factory.mktemp("refs")
    rs = RedisServer(tmp / "redis").start()
    seed(rs.client())
    n = Nginx(tmp / "nginx", *conf(tmp, upstream, rs.port)).start()
    yield n, rs
    problems = n.stop()
    rs.stop()
    assert not problems, problems


def get(n, path, uid):
    return n.get(path, token=jwt_hs(uid))


def detail(resp):
    return resp.json().get("detail", "")


CASES = [
    # path, caller, status
    ("/users/alice/workspace/dev", UA, 200),
    ("/users/ALICE/workspace/DeV/", UA, 200),
    ("/users/me/workspace/Dev", UA, 200),
    ("/users/%s/workspace/dev" % UA.upper(), UA, 200),
    ("/users/{%s}/workspace/dev" % UA, UA, 200),
    ("/users/alice/workspace/dev", UB, 403),
    ("/users/alice/workspace/dev", UC, 403),
    ("/users/carol/workspace/dev", UC, 200),
    ("/users/carol/workspace/dev", UA, 403),
    ("/users/me/workspace/dev", UC, 200),          # carol's own "dev"
    ("/orgs/acme/templates/go", UA, 200),
    ("/orgs/AcMe/templates/GO", UB, 200),
    ("/orgs/%s/templates/go" % OA.replace("-", ""), UA, 200),
    ("/orgs/acme/templates/go", UC, 403),
    ("/orgs/beta/templates/go", UC, 403),
    ("/orgs/acme", UA, 200),
    ("/orgs/ACME", UA, 200),
    ("/orgs/urn:uuid:%s" % OA, UA, 200),
    ("/orgs/acme", UC, 403),
    ("/users/alice", UA, 200),
    ("/users/Alice/", UA, 200),
    ("/users/me", UA, 200),
    ("/users/me", UC, 200),
    ("/users/alice", UC, 403),
    ("/builds/" + B1, UA, 200),
    ("/builds/" + B1.upper(), UA, 200),
    ("/builds/" + B1, UB, 403),
    ("/agents/{%s}" % AG, UA, 200),
    ("/agents/" + AG, UC, 403),
    ("/versions/" + V1.replace("-", ""), UB, 200),
    ("/versions/" + V1, UC, 403),
    ("/keys/KeyA1", UA, 200),
    ("/keys/KeyA1", UC, 403),
    ("/wsalso/%s/%s" % (W1, V1), UA, 200),
    ("/wsalso/%s/%s" % (W1, B1), UA, 403),          # a build is no version
    ("/wsalso/%s/%s" % (W1, V1), UB, 403),
    ("/orgs/acme/members/me/workspaces", UA, 200),
    ("/orgs/acme/members/alice/workspaces", UA, 200),
    ("/orgs/beta/members/me/workspaces", UA, 403),
]


@pytest.mark.parametrize("path,uid,want", CASES)
def test_reference_decides_as_the_object(env, path, uid, want):
    n, _ = env
    resp = get(n, path, uid)
    assert resp.status_code == want, (path, resp.text)


def test_reference_names_the_same_object_as_its_id(env):
    """Each reference decides exactly as the id it names, for each caller:
    the reason is the same too."""
    n, _ = env
    pairs = [("/users/alice/workspace/dev", "/ws/" + W1),
             ("/builds/" + B1, "/ws/" + W1),
             ("/agents/" + AG, "/ws/" + W1),
             ("/users/carol/workspace/dev", "/ws/" + W2)]
    for a, b in pairs:
        for uid in (UA, UB, UC):
            ra, rb = get(n, a, uid), get(n, b, uid)
            assert ra.status_code == rb.status_code, (a, b, uid)
            if ra.status_code == 403:
                assert detail(ra) == detail(rb)


def test_missing_reference_is_a_403_naming_it(env):
    n, _ = env
    resp = get(n, "/users/Alice/workspace/Nope", UA)
    assert resp.status_code == 403
    assert detail(resp) == "reference workspace:alice/nope not found"
    resp = get(n, "/orgs/gamma", UA)
    assert resp.status_code == 403
    assert detail(resp) == "reference orgname:gamma not found"
    resp = get(n, "/builds/" + W1, UA)    # an id that is no build
    assert detail(resp) == "reference build:%s not found" % W1


def test_case_insensitive_only_where_declared(env):
    n, _ = env
    # group names are compared as written (Coder: name = $2)
    r1 = get(n, "/orgs/ACME/groups/admins", UA)
    assert r1.status_code == 403
    assert detail(r1) == "reference group:acme/admins not found"
    r2 = get(n, "/orgs/ACME/groups/Admins", UA)
    assert detail(r2) != detail(r1) and "not found" not in detail(r2)
    # API key ids as written
    assert detail(get(n, "/keys/keya1", UA)) == \
        "reference apikey:keya1 not found"


def test_reference_to_another_type_is_refused(env):
    n, _ = env
    resp = get(n, "/builds/" + BX, UA)
    assert resp.status_code == 403
    assert detail(resp) == \
        "reference build:%s names a template, not a workspace" % BX


SPELLINGS = [W1, W1.upper(), "{%s}" % W1, "urn:uuid:" + W1,
             "URN:UUID:" + W1.upper(), W1.replace("-", ""),
             W1.replace("-", "").upper(), "x%sy" % W1,
             "{%s}" % W1.upper()]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_uuid_spelling_same_decision(env, spelling):
    n, _ = env
    ok = get(n, "/ws/" + spelling, UA)
    assert ok.status_code == 200
    assert upstream_headers(ok, "X-Rbac-Org") == [OA]
    deny = get(n, "/ws/" + spelling, UB)
    assert deny.status_code == 403
    assert detail(deny) == detail(get(n, "/ws/" + W1, UB))


NOT_UUIDS = ["w1", W1[:-1], W1 + "0", W1.replace("-", "_"),
             "urn:uuid-" + W1, "%s-" % W1.replace("-", ""), "me",
             W1[:8] + "-" + W1[9:].replace("-", ""), "%7B" + W1]


def test_non_uuid_refused_before_redis(tmp_path, nginx, redis, upstream):
    r = redis.client()
    seed(r)
    api_token(r, "tk1", UB)
    n = nginx(*conf(tmp_path, upstream, redis.port, zone=False))
    tok = jwt_hs(UA)
    # a valid spelling reads Redis (no cache zone here)
    r.config_resetstat()
    assert n.get("/ws/{%s}" % W1, token=tok).status_code == 200
    assert r.info("commandstats").get("cmdstat_mget", {}).get("calls", 0) > 0
    for bad in NOT_UUIDS:
        for cred in (tok, "tk1-s3cret-value", None):
            r.config_resetstat()
            resp = n.get("/ws/" + bad, token=cred)
            assert resp.status_code == 400, (bad, resp.text)
            assert resp.json() == {"message": "Bad Request",
                                   "detail": "workspace id is not a UUID"}
            stats = r.info("commandstats")
            asked = {k: v["calls"] for k, v in stats.items()
                     if k in ("cmdstat_mget", "cmdstat_get")}
            assert asked == {}, (bad, asked)
    # rbac_also's arguments are checked in the same pass
    r.config_resetstat()
    resp = n.get("/wsalso/%s/nope" % W1, token=tok)
    assert resp.status_code == 400
    assert resp.json()["detail"] == "template id is not a UUID"
    assert "cmdstat_mget" not in r.info("commandstats")
    st = n.get("/status").json()
    assert st["ids_refused"] >= len(NOT_UUIDS) * 3


def test_one_more_round_trip_at_most(tmp_path, nginx, redis, upstream):
    """Without a cache: a reference costs one more MGET than the id."""
    r = redis.client()
    seed(r)
    n = nginx(*conf(tmp_path, upstream, redis.port, zone=False))
    tok = jwt_hs(UA)

    def mgets(path):
        r.config_resetstat()
        assert n.get(path, token=tok).status_code == 200
        return r.info("commandstats")["cmdstat_mget"]["calls"]

    by_id = mgets("/ws/" + W1)
    assert mgets("/users/alice/workspace/dev") == by_id + 1
    assert mgets("/builds/" + B1) == by_id + 1
    # references of rbac_object and rbac_also in the same round trip
    assert mgets("/wsalso/%s/%s" % (W1, V1)) <= by_id + 1


def test_status_counts_references(env):
    n, _ = env
    before = n.get("/status").json()["references"]
    get(n, "/builds/" + B1, UA)
    get(n, "/builds/" + BX, UA)
    get(n, "/orgs/nowhere", UA)
    after = n.get("/status").json()["references"]
    assert after["resolved"] >= before["resolved"] + 1
    assert after["wrong_type"] == before["wrong_type"] + 1
    assert after["missing"] == before["missing"] + 1
    text = n.get("/status?format=prometheus").text
    assert 'rbac_references_total{result="missing"}' in text


@pytest.mark.parametrize("directive,err", [
    ("rbac_object workspace id=@nope:$1;", "unknown kind of reference"),
    ("rbac_object workspace id=@workspace;", "no \":\" after the kind"),
    ("rbac_object workspace id=@template:$1/x;",
     "names a template, not the workspace"),
    ("rbac_object template org=@username:$1;",
     "names a user, not the organization"),
    ("rbac_object workspace owner=@orgname:$1;",
     "names a organization, not the user"),
    ("rbac_object workspace id=@build:;", "nothing after the kind"),
    ("rbac_object workspace id=$1; "
     "rbac_also template id=@build:$1 action=use;",
     "names a workspace, not the template"),
])
def test_config_errors(tmp_path, nginx, directive, err):
    n = nginx(http="rbac_redis 127.0.0.1:1;",
              server="location ~ ^/x/(.*)$ { rbac on; %s }" % directive,
              run=False)
    rc, text = n.test_config()
    assert rc != 0 and err in text, text
