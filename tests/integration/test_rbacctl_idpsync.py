"""rbacctl idpsync show|set: the IdP sync settings (rbac:idpsync) are
validated with the field named, written with a new version only when they
change, and published like every other record."""

import json

import pytest

from test_rbacctl import POLICY, run

SETTINGS = json.load(open(POLICY))["idp_sync"]


@pytest.fixture
def redis_with_orgs(redis):
    assert run("apply", "-f", POLICY, redis=redis).returncode == 0
    return redis


def write(tmp_path, doc, name="s.json"):
    f = tmp_path / name
    f.write_text(json.dumps(doc))
    return str(f)


def listen(redis):
    """Messages published on rbac:inv while the returned stop() runs."""
    p = redis.client().pubsub()
    p.subscribe("rbac:inv")
    got = []

    def stop():
        while True:
            m = p.get_message(timeout=0.5)
            if m is None:
                break
            if m["type"] == "message":
                got.append(m["data"])
        p.close()
        return got
    p.get_message(timeout=1)        # the subscribe confirmation
    return stop


def test_show_when_unset(redis):
    r = run("idpsync", "show", redis=redis)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "no IdP sync settings"


def test_set_show_versions_and_publish(redis_with_orgs, tmp_path):
    rs = redis_with_orgs
    rs.client().delete("rbac:idpsync")
    f = write(tmp_path, SETTINGS)
    stop = listen(rs)
    r = run("idpsync", "set", "-f", f, redis=rs)
    assert r.returncode == 0, r.stderr
    assert stop() == ["rbac:idpsync"]
    shown = json.loads(run("idpsync", "show", redis=rs).stdout)
    assert shown["version"] == 1
    assert shown["organization"]["field"] == "memberOf"

    # the same settings again: nothing written, nothing published
    stop = listen(rs)
    r = run("idpsync", "set", "-f", f, redis=rs)
    assert r.returncode == 0 and "no changes" in r.stderr
    assert stop() == []

    changed = json.loads(json.dumps(SETTINGS))
    changed["organization"]["assign_default"] = False
    r = run("idpsync", "set", "-f", write(tmp_path, changed, "c.json"),
            redis=rs)
    assert r.returncode == 0, r.stderr
    shown = json.loads(run("idpsync", "show", redis=rs).stdout)
    assert shown["version"] == 2
    assert shown["organization"]["assign_default"] is False


def test_auto_create_groups_refused(redis_with_orgs, tmp_path):
    rs = redis_with_orgs
    before = rs.client().get("rbac:idpsync")
    bad = json.loads(json.dumps(SETTINGS))
    bad["groups"]["ml-platform"]["auto_create_missing_groups"] = True
    r = run("idpsync", "set", "-f", write(tmp_path, bad), redis=rs)
    assert r.returncode == 2
    assert "auto_create_missing_groups" in r.stderr
    assert "create the groups with rbacctl" in r.stderr
    assert "nothing was written" in r.stderr
    assert rs.client().get("rbac:idpsync") == before


def test_malformed_setting_names_the_field(redis_with_orgs, tmp_path):
    rs = redis_with_orgs
    bad = json.loads(json.dumps(SETTINGS))
    bad["organization"]["mapping"] = {"x": "not-a-list"}
    r = run("idpsync", "set", "-f", write(tmp_path, bad), redis=rs)
    assert r.returncode == 2
    assert "organization.mapping" in r.stderr, r.stderr


def test_usage(redis):
    for args in (("idpsync",), ("idpsync", "set"), ("idpsync", "drop")):
        r = run(*args, redis=redis)
        assert r.returncode == 2
        assert "usage: rbacctl idpsync" in r.stderr


def test_bad_regex_refused_with_the_field(redis_with_orgs, tmp_path):
    rs = redis_with_orgs
    before = rs.client().get("rbac:idpsync")
    for pattern in ("(unclosed", "a" * 300):
        bad = json.loads(json.dumps(SETTINGS))
        bad["groups"]["ml-platform"]["regex_filter"] = pattern
        r = run("idpsync", "set", "-f", write(tmp_path, bad), redis=rs)
        assert r.returncode == 2, r.stderr
        assert "groups.ml-platform.regex_filter" in r.stderr, r.stderr
        assert rs.client().get("rbac:idpsync") == before


def check(rs, tmp_path, user, obj, claims=None, action="read"):
    args = ["check", "--user", user, "--action", action, "--object", obj,
            "--explain"]
    if claims is not None:
        args += ["--claims", write(tmp_path, claims, "claims.json")]
    return run(*args, redis=rs)


def test_check_claims_grants_with_reasons(redis_with_orgs, tmp_path):
    rs = redis_with_orgs
    # frank has no record: the claims alone
    r = check(rs, tmp_path, "frank", "template:tpl-mlbox",
              {"memberOf": ["mlbox", "unmapped"]})
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert 'grant org ml-platform: claim memberOf: "mlbox" mapped' in lines
    assert "grant org megaco: default org (assign_default)" in lines
    assert ('grant group ml-platform/grp-ml-users: claim memberOf: "mlbox" '
            'mapped') in lines
    assert "grant group ml-platform/ml-platform: Everyone group (always " \
        "kept)" in lines
    assert "allow" in lines

    # the same user without the claim is nobody, with it not in raptix
    r = check(rs, tmp_path, "frank", "template:tpl-mlbox", {})
    assert r.returncode == 1 and "grant group" not in r.stdout
    r = check(rs, tmp_path, "frank", "organization:raptix",
              {"memberOf": ["mlbox"]})
    assert r.returncode == 1, r.stdout
    r = check(rs, tmp_path, "frank", "template:tpl-mlbox")
    assert r.returncode == 1 and "unknown user" in r.stdout


def test_check_claims_roles_and_add(redis_with_orgs, tmp_path):
    rs = redis_with_orgs
    claims = {"memberOf": "raptix-engineering",
              "raptixRoles": ["raptix-admins", "no-such-role"],
              "roles": ["coder-admins"]}
    r = check(rs, tmp_path, "frank", "organization:raptix", claims,
              action="update")
    assert r.returncode == 0, r.stdout + r.stderr
    assert ('grant org_role raptix/organization-admin: claim raptixRoles: '
            '"raptix-admins" mapped') in r.stdout
    assert 'grant site_role owner: claim roles: "coder-admins" mapped' \
        in r.stdout
    assert "no-such-role" not in r.stdout

    # bob's record says "add": his MegaCo role stays, with its reason
    r = check(rs, tmp_path, "bob", "organization:megaco", {"memberOf": []})
    assert "grant org_role megaco/team-lead: user record" in r.stdout
    assert r.returncode == 0

    # a malformed --claims file is a usage error
    f = tmp_path / "bad.json"
    f.write_text("[1, 2]")
    r = run("check", "--user", "bob", "--action", "read", "--object",
            "organization:megaco", "--claims", str(f), redis=rs)
    assert r.returncode == 2 and "--claims" in r.stderr

    # so is one the module would refuse: a member name twice in one object
    f.write_text('{"memberOf": "megaco-eng", "memberOf": "raptix-eng"}')
    r = run("check", "--user", "bob", "--action", "read", "--object",
            "organization:megaco", "--claims", str(f), redis=rs)
    assert r.returncode == 2 and "appears twice" in r.stderr
