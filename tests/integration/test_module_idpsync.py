"""IdP sync through the module (docs/authorization.md §12; rbac:idpsync,
docs/records.md §2):
JWTs carrying memberOf / groups / roles claims are granted organizations,
groups, org roles and site roles by the settings in Redis; each rule,
regex filtering, unmapped values, the default org, replace and add,
suspension, a setting changed in Redis applying to the next request without
a reload, and one org's groups never reaching another org's objects.  The
nginx has a cache zone, so a repeated token is served from the cache with
its claims."""

import json
import time

import pytest

from conftest import (HS_SECRET, SLOW, Nginx, RedisServer, jwt_hs, jwt_raw,
                      obj, org, proxy, put, upstream_headers, user, wait_for)


SETTINGS = {
    "version": 1,
    "organization": {
        "field": "memberOf",
        "mapping": {"team-a": ["orgA"], "team-b": ["orgB"],
                    "team-ghost": ["no-such-org"]},
        "assign_default": False,
    },
    "groups": {
        "orgA": {"field": "groups",
                 "mapping": {"platform": ["gA-ops", "gB-eng"]},
                 "regex_filter": "^(eng|platform)$"},
        "orgB": {"field": "groups"},
    },
    "org_roles": {
        "orgA": {"field": "roles",
                 "mapping": {"admins": ["organization-admin"]}},
    },
    "site_roles": {
        "field": "realm_access.roles",
        "mapping": {"site-admins": ["owner"]},
        "default": [],
    },
}


def publish(r, key):
    r.publish("rbac:inv", "rbac:" + key)


@pytest.fixture(scope="module")
def env(tmp_path_factory, upstream):
    tmp = tmp_path_factory.mktemp("idpsync")
    (tmp / "hs.key").write_bytes(HS_SECRET)
    rs = RedisServer(tmp / "redis").start()
    r = rs.client()

    org(r, "orgA")
    org(r, "orgB")
    put(r, "orggroups:orgA", {"eng": "gA-eng", "ops": "gA-ops"})
    put(r, "orggroups:orgB", {"eng": "gB-eng"})
    for gid, o, name in (("gA-eng", "orgA", "eng"), ("gA-ops", "orgA", "ops"),
                         ("gB-eng", "orgB", "eng")):
        put(r, "group:" + gid, {"id": gid, "org": o, "name": name,
                                "source": "oidc"})
    obj(r, "workspace", "wa", "orgA", owner="someone")
    obj(r, "template", "tA-eng", "orgA", acl_groups={"gA-eng": "use"})
    obj(r, "template", "tA-ops", "orgA", acl_groups={"gA-ops": "use"})
    obj(r, "template", "tB-eng", "orgB", acl_groups={"gB-eng": "use"})
    obj(r, "template", "tA-all", "orgA", acl_groups={"orgA": "use"})
    user(r, "rec", orgs={"orgB": []})
    put(r, "user:recadd", {"id": "recadd", "orgs": {"orgB": []},
                           "idp_sync": "add"})
    user(r, "susp", status="suspended")
    put(r, "user:pw", {"id": "pw", "login": "password",
                       "orgs": {"orgB": []}})
    put(r, "idpsync", SETTINGS)

    p = proxy(upstream)
    http = """
    rbac_redis 127.0.0.1:%d timeout=%dms;
    rbac_jwt_key %s alg=HS256;
    rbac_cache_zone rbac:1m ttl=60s;
""" % (rs.port, 500 * SLOW, tmp / "hs.key")
    server = """
        location ~ ^/org/([^/]+)$ {
            rbac on; rbac_object organization id=$1; rbac_action read; %(p)s
        }
        location ~ ^/tpl/([^/]+)$ {
            rbac on; rbac_object template id=$1; rbac_action use; %(p)s
        }
        location ~ ^/ws/([^/]+)$ { rbac on; rbac_object workspace id=$1; %(p)s }
        location = /auth { rbac on; %(p)s }
        location = /status { rbac_status; }
""" % {"p": p}
    n = Nginx(tmp / "nginx", http, server).start()
    yield n, r
    problems = n.stop()
    rs.stop()
    assert not problems, problems


def tok(sub, **claims):
    return jwt_hs(sub, **claims)


def status(n, path, token):
    return n.get(path, token=token).status_code


def roles(n, path, token):
    resp = n.get(path, token=token)
    assert resp.status_code == 200, resp.text
    v = upstream_headers(resp, "X-Rbac-Roles")
    return set(v[0].split(",")) if v else set()


def test_org_sync_from_claims_alone(env):
    n, _ = env
    t = tok("idp-only", memberOf=["team-a", "unmapped"])
    assert status(n, "/org/orgA", t) == 200
    assert status(n, "/org/orgB", t) == 403
    # again: served from the cache, claims included
    assert status(n, "/org/orgA", t) == 200
    assert status(n, "/org/orgB", t) == 403

    # a claim as a single string
    assert status(n, "/org/orgB", tok("idp-only2", memberOf="team-b")) == 200


def cache_hits(n):
    return n.get("/status", params={"format": "json"}).json()["cache"]["hits"]


def test_sync_result_cached_with_the_token_until_a_change(env):
    n, r = env
    t = tok("c1", memberOf="team-a", groups=["eng"])
    assert status(n, "/tpl/tA-eng", t) == 200
    hits = cache_hits(n)
    assert status(n, "/tpl/tA-eng", t) == 200
    # one hit for the token with its synced subject (no settings, user,
    # org, group index or role record read again), then the template, its
    # org and the deployment
    assert cache_hits(n) - hits == 4

    # a change anywhere is published: the subject is built anew
    put(r, "orggroups:orgA", {"ops": "gA-ops"})
    publish(r, "orggroups:orgA")
    try:
        assert wait_for(lambda: status(n, "/tpl/tA-eng", t) == 403,
                        3 * SLOW, step=0.02)
    finally:
        put(r, "orggroups:orgA", {"eng": "gA-eng", "ops": "gA-ops"})
        publish(r, "orggroups:orgA")
    assert wait_for(lambda: status(n, "/tpl/tA-eng", t) == 200,
                    3 * SLOW, step=0.02)


def test_no_claim_or_malformed_claim_grants_nothing(env):
    n, _ = env
    for t in (tok("nobody"), tok("nobody", memberOf=5),
              tok("nobody", memberOf=["team-a", 5]),
              tok("nobody", memberOf={"team-a": True}),
              tok("nobody", memberOf=["team-ghost"])):
        r = n.get("/org/orgA", token=t)
        assert r.status_code == 403
        assert r.json()["detail"] == "unknown user"


def test_duplicate_claim_refused(env):
    # libjwt keeps the last "memberOf", cJSON (and so a cached token's
    # claims) the first: such a token is refused
    n, _ = env
    payload = ('{"sub":"dup","exp":%d,"memberOf":["team-b"],'
               '"memberOf":["team-a"]}' % (int(time.time()) + 300))
    t = jwt_raw({"alg": "HS256", "typ": "JWT"}, payload, HS_SECRET)
    r = n.get("/org/orgA", token=t)
    assert r.status_code == 401
    assert r.json()["detail"] == "malformed token"
    # the same claims once each are fine
    t = jwt_raw({"alg": "HS256", "typ": "JWT"},
                payload.replace('"memberOf":["team-b"],', ""), HS_SECRET)
    assert status(n, "/org/orgA", t) == 200


def test_group_sync_by_name_mapping_and_everyone(env):
    n, _ = env
    eng = tok("g1", memberOf="team-a", groups=["eng"])
    assert status(n, "/tpl/tA-eng", eng) == 200      # unmapped: by name
    assert status(n, "/tpl/tA-ops", eng) == 403
    assert status(n, "/tpl/tA-all", eng) == 200      # Everyone kept

    none = tok("g2", memberOf="team-a")
    assert status(n, "/tpl/tA-eng", none) == 403
    assert status(n, "/tpl/tA-all", none) == 200

    plat = tok("g3", memberOf="team-a", groups=["platform"])
    assert status(n, "/tpl/tA-ops", plat) == 200     # mapped


def test_group_regex_filter(env):
    n, _ = env
    # "ops" names orgA's group gA-ops, but the filter drops the value
    t = tok("g4", memberOf="team-a", groups=["ops", "eng"])
    assert status(n, "/tpl/tA-ops", t) == 403
    assert status(n, "/tpl/tA-eng", t) == 200


def test_one_orgs_group_never_reaches_another_org(env):
    n, _ = env
    # orgA's mapping names orgB's group gB-eng: not granted, even to a
    # member of orgB
    t = tok("g5", memberOf=["team-a", "team-b"], groups=["platform"])
    assert status(n, "/tpl/tA-ops", t) == 200
    assert status(n, "/tpl/tB-eng", t) == 403

    # orgB's own name index grants it
    t = tok("g6", memberOf=["team-a", "team-b"], groups=["eng"])
    assert status(n, "/tpl/tB-eng", t) == 200

    # a group claim without membership of orgB reaches nothing there
    t = tok("g7", memberOf=["team-a"], groups=["eng"])
    assert status(n, "/tpl/tB-eng", t) == 403


def test_org_role_sync(env):
    n, _ = env
    adm = tok("r1", memberOf="team-a", roles=["admins"])
    assert "organization-admin" in roles(n, "/ws/wa", adm)

    # unmapped values are role names, kept only when they exist
    t = tok("r2", memberOf="team-a",
            roles=["organization-auditor", "made-up", "owner"])
    got = roles(n, "/org/orgA", t)
    assert "organization-auditor" in got
    assert "made-up" not in got and "owner" not in got
    assert status(n, "/ws/wa", tok("r3", memberOf="team-a")) == 403


def test_site_role_sync_dotted_claim(env):
    n, _ = env
    t = tok("s1", realm_access={"roles": ["site-admins", "bogus"]})
    got = roles(n, "/org/orgB", t)
    assert "owner" in got and "bogus" not in got
    assert status(n, "/org/orgB", tok("s2", realm_access={"roles": "x"})) \
        == 403


def test_replace_and_add(env):
    n, _ = env
    t = tok("rec", memberOf="team-a")
    assert status(n, "/org/orgA", t) == 200
    assert status(n, "/org/orgB", t) == 403          # replaced

    t = tok("recadd", memberOf="team-a")
    assert status(n, "/org/orgA", t) == 200
    assert status(n, "/org/orgB", t) == 200          # added

    # a password user's record is used as it is
    t = tok("pw", memberOf="team-a")
    assert status(n, "/org/orgA", t) == 403
    assert status(n, "/org/orgB", t) == 200


def test_suspended_user_loses_synced_memberships(env):
    n, r = env
    t = tok("susp", memberOf="team-a")
    resp = n.get("/org/orgA", token=t)
    assert resp.status_code == 403
    assert resp.json()["detail"] == "account suspended"
    assert n.get("/auth", token=t).status_code == 403

    user(r, "susp2", orgs={})
    t = tok("susp2", memberOf="team-a")
    assert status(n, "/org/orgA", t) == 200
    user(r, "susp2", status="suspended")
    publish(r, "user:susp2")
    assert wait_for(lambda: status(n, "/org/orgA", t) == 403,
                    3 * SLOW, step=0.02)


def test_setting_change_applies_without_reload(env):
    n, r = env
    t = tok("dflt")
    assert status(n, "/org/orgB", t) == 403

    s = json.loads(json.dumps(SETTINGS))
    s["version"] = 2
    s["organization"]["assign_default"] = True
    s["organization"]["default_org"] = "orgB"
    s["groups"]["orgA"]["regex_filter"] = "^(ops|platform)$"
    put(r, "idpsync", s)
    publish(r, "idpsync")
    try:
        assert wait_for(lambda: status(n, "/org/orgB", t) == 200,
                        3 * SLOW, step=0.02)
        # the new regex filter is in force too
        g = tok("g8", memberOf="team-a", groups=["ops", "eng"])
        assert status(n, "/tpl/tA-ops", g) == 200
        assert status(n, "/tpl/tA-eng", g) == 403
    finally:
        put(r, "idpsync", SETTINGS)
        publish(r, "idpsync")
    assert wait_for(lambda: status(n, "/org/orgB", t) == 403,
                    3 * SLOW, step=0.02)

    # no settings at all: records only
    r.delete("rbac:idpsync")
    publish(r, "idpsync")
    try:
        assert wait_for(lambda: status(n, "/org/orgA", tok("idp-only3",
                                                    memberOf="team-a"))
                 == 403, 3 * SLOW, step=0.02)
        assert status(n, "/org/orgB", tok("rec", memberOf="team-a")) == 200
    finally:
        put(r, "idpsync", SETTINGS)
        publish(r, "idpsync")


def test_bad_regex_in_redis_is_an_error(env):
    n, r = env
    s = json.loads(json.dumps(SETTINGS))
    s["version"] = 9
    s["groups"]["orgA"]["regex_filter"] = "(unclosed"
    put(r, "idpsync", s)
    publish(r, "idpsync")
    try:
        assert wait_for(lambda: status(n, "/org/orgA", tok("idp-only4",
                                                    memberOf="team-a"))
                 == 503, 3 * SLOW, step=0.02)
    finally:
        put(r, "idpsync", SETTINGS)
        publish(r, "idpsync")
    assert wait_for(lambda: status(n, "/org/orgA", tok("idp-only4",
                                                memberOf="team-a")) == 200,
                    3 * SLOW, step=0.02)
    assert "regex_filter" in n.log()
