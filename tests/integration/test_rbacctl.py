"""rbacctl's admin plane against a real redis-server (one per test).

What a user sees: apply/export round trips, no-op applies that write and
publish nothing, one invalidation message per changed key, --prune, refused
custom roles that leave Redis untouched, tokens, seats, imperative edits and
clear errors when Redis is unreachable or refuses the password.
"""

import copy
import hashlib
import json
import os
import subprocess
import time

import pytest
import redis as redislib

from redis_server import RedisServer, free_port

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("RBAC_BUILD", os.path.join(ROOT, "build"))
RBACCTL = os.path.join(BUILD, "rbacctl")
POLICY = os.path.join(ROOT, "conf-examples", "policies", "megaco.json")
ROLES = os.path.join(ROOT, "conf-examples", "policies", "roles")


def run(*args, redis=None, stdin=None):
    cmd = [RBACCTL] + list(args)
    if redis is not None:
        cmd += ["--redis", redis.url]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True,
                          timeout=60)


def table(rs, prefix="rbac:"):
    """Every key of the decision table but rbac:version, with its value."""
    c = rs.client()
    return {k: c.get(k) for k in c.scan_iter(prefix + "*")
            if k != prefix + "version"}


class Inv:
    """A subscriber on rbac:inv; drain() returns what arrived, in order,
    up to a marker the test publishes itself (no timing involved)."""

    def __init__(self, rs, channel="rbac:inv"):
        self.c = rs.client()
        self.channel = channel
        self.ps = self.c.pubsub(ignore_subscribe_messages=True)
        self.ps.subscribe(channel)
        # wait for the subscription to be confirmed
        self.ps.get_message(timeout=5)

    def drain(self):
        self.c.publish(self.channel, "__test_marker__")
        got = []
        for _ in range(100000):
            m = self.ps.get_message(timeout=5)
            assert m is not None, "marker never arrived"
            if m["type"] != "message":
                continue
            if m["data"] == "__test_marker__":
                return got
            got.append(m["data"])
        raise AssertionError("too many messages")


@pytest.fixture
def rs(tmp_path):
    with RedisServer(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def policy():
    with open(POLICY) as f:
        return json.load(f)


def write(tmp_path, name, doc):
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return str(p)


def diff_lines(out):
    return sorted(l for l in out.splitlines() if l[:2] in ("+ ", "~ ", "- "))


# ---- apply / export ----

def test_apply_writes_the_example_policy(rs):
    r = run("apply", "-f", POLICY, redis=rs)
    assert r.returncode == 0, r.stderr
    c = rs.client()
    assert json.loads(c.get("rbac:user:bob"))["orgs"] == {"megaco": ["team-lead"]}
    assert json.loads(c.get("rbac:role:megaco:team-lead"))["display_name"] == "Team Lead"
    assert json.loads(c.get("rbac:siterole:health-check"))["organization_id"] == ""
    assert json.loads(c.get("rbac:orggroups:megaco")) == {
        "platform": "grp-platform", "java-monolith": "grp-java"}
    assert json.loads(c.get("rbac:orggroups:ml-platform")) == {"ml-users": "grp-ml-users"}
    assert c.get("rbac:version") == "1"
    assert "+ rbac:user:bob" in r.stdout
    # every record is stored in one canonical JSON document
    for k, v in table(rs).items():
        assert isinstance(json.loads(v), dict), k


def test_apply_then_export_round_trips(rs, tmp_path):
    assert run("apply", "-f", POLICY, redis=rs).returncode == 0
    before = table(rs)

    r = run("export", redis=rs)
    assert r.returncode == 0, r.stderr
    exported = json.loads(r.stdout)
    assert {u["id"] for u in exported["users"]} >= {"alice", "bob", "sa-ci"}
    assert "secret" not in json.dumps(exported).replace("secret_sha256", "")

    # the exported file rebuilds the same table in an empty Redis
    rs.client().flushall()
    f = write(tmp_path, "exported.json", exported)
    r = run("apply", "-f", f, redis=rs)
    assert r.returncode == 0, r.stderr
    assert table(rs) == before

    # and exporting again gives the same file
    assert json.loads(run("export", redis=rs).stdout) == exported


def test_second_apply_writes_and_publishes_nothing(rs):
    assert run("apply", "-f", POLICY, redis=rs).returncode == 0
    before = table(rs)
    version = rs.client().get("rbac:version")

    inv = Inv(rs)
    r = run("apply", "-f", POLICY, redis=rs)
    assert r.returncode == 0, r.stderr
    assert diff_lines(r.stdout) == []
    assert "no changes" in r.stderr
    assert inv.drain() == []
    assert rs.client().get("rbac:version") == version
    assert table(rs) == before


def test_one_message_per_changed_key(rs, tmp_path, policy):
    assert run("apply", "-f", POLICY, redis=rs).returncode == 0
    version = int(rs.client().get("rbac:version"))

    changed = copy.deepcopy(policy)
    for u in changed["users"]:
        if u["id"] == "bob":
            u["status"] = "suspended"
    changed["users"].append({"id": "frank", "orgs": {"megaco": []}})
    f = write(tmp_path, "p.json", changed)

    inv = Inv(rs)
    r = run("apply", "-f", f, redis=rs)
    assert r.returncode == 0, r.stderr
    assert diff_lines(r.stdout) == ["+ rbac:user:frank", "~ rbac:user:bob"]
    assert sorted(inv.drain()) == ["rbac:user:bob", "rbac:user:frank"]
    assert int(rs.client().get("rbac:version")) == version + 1
    # defaults written out
    assert json.loads(rs.client().get("rbac:user:frank"))["status"] == "active"


def test_dry_run_writes_nothing(rs, tmp_path):
    inv = Inv(rs)
    r = run("apply", "-f", POLICY, "--dry-run", redis=rs)
    assert r.returncode == 0, r.stderr
    assert "+ rbac:user:alice" in r.stdout
    assert table(rs) == {}
    assert inv.drain() == []


def test_prune_removes_exactly_what_is_gone(rs, tmp_path, policy):
    assert run("apply", "-f", POLICY, redis=rs).returncode == 0
    before = table(rs)

    smaller = copy.deepcopy(policy)
    smaller["users"] = [u for u in smaller["users"] if u["id"] != "erin"]
    smaller["groups"] = [g for g in smaller["groups"] if g["id"] != "grp-java"]
    for u in smaller["users"]:
        u["groups"] = [g for g in u["groups"] if g != "grp-java"]
    smaller["objects"] = [o for o in smaller["objects"] if o["id"] != "ws-carol"]
    f = write(tmp_path, "smaller.json", smaller)

    # without --prune the records stay (only dave's groups change)
    r = run("apply", "-f", f, redis=rs)
    assert r.returncode == 0, r.stderr
    assert diff_lines(r.stdout) == ["~ rbac:user:dave"]
    assert "rbac:user:erin" in table(rs)

    inv = Inv(rs)
    r = run("apply", "-f", f, "--prune", redis=rs)
    assert r.returncode == 0, r.stderr
    # with the group goes the reference of its name (docs/references.md)
    gone = ["rbac:group:grp-java", "rbac:obj:workspace:ws-carol",
            "rbac:user:erin", "rbac:ref:group:megaco/java-monolith"]
    assert diff_lines(r.stdout) == sorted(
        ["- " + k for k in gone] + ["~ rbac:orggroups:megaco"])
    assert sorted(inv.drain()) == sorted(gone + ["rbac:orggroups:megaco"])

    after = table(rs)
    for k in gone:
        assert k not in after
    assert json.loads(after["rbac:orggroups:megaco"]) == {"platform": "grp-platform"}
    untouched = set(before) - set(gone) - {"rbac:orggroups:megaco",
                                           "rbac:user:dave"}
    for k in untouched:
        assert after[k] == before[k], k

    # prune also removes records that were never in any file
    rs.client().set("rbac:user:stray", json.dumps({"id": "stray"}))
    r = run("apply", "-f", f, "--prune", redis=rs)
    assert diff_lines(r.stdout) == ["- rbac:user:stray"]


def test_refused_custom_role_leaves_redis_untouched(rs, tmp_path, policy):
    assert run("apply", "-f", POLICY, redis=rs).returncode == 0
    before = table(rs)
    inv = Inv(rs)

    cases = [
        ({"resource_type": "template", "action": "delete", "negate": True},
         "organization_permissions[1]", "negation"),
        ({"resource_type": "*", "action": "read", "negate": False},
         "organization_permissions[1]", "wildcard"),
        ({"resource_type": "template", "action": "ssh", "negate": False},
         "organization_permissions[1]", "ssh"),
        ({"resource_type": "nonsense", "action": "read", "negate": False},
         "nonsense", None),
    ]
    for perm, field, word in cases:
        bad = copy.deepcopy(policy)
        bad["users"][0]["status"] = "suspended"      # a change beside it
        role = next(r for r in bad["roles"] if r["name"] == "team-lead")
        role["organization_permissions"].insert(1, perm)
        f = write(tmp_path, "bad.json", bad)
        r = run("apply", "-f", f, redis=rs)
        assert r.returncode == 2, (perm, r.stdout, r.stderr)
        assert field in r.stderr, r.stderr
        if word:
            assert word in r.stderr, r.stderr
        assert "nothing was written" in r.stderr

    # site permissions in an org role, a reserved name
    bad = copy.deepcopy(policy)
    bad["roles"].append({"name": "owner", "organization_id": "megaco",
                         "organization_permissions": []})
    r = run("apply", "-f", write(tmp_path, "b2.json", bad), redis=rs)
    assert r.returncode == 2 and "name" in r.stderr and "owner" in r.stderr

    bad = copy.deepcopy(policy)
    bad["roles"].append({"name": "mixed", "organization_id": "megaco",
                         "site_permissions": [{"resource_type": "user",
                                               "action": "read",
                                               "negate": False}]})
    r = run("apply", "-f", write(tmp_path, "b3.json", bad), redis=rs)
    assert r.returncode == 2 and "site_permissions" in r.stderr, r.stderr

    assert table(rs) == before
    assert inv.drain() == []


def test_malformed_record_in_file_names_the_field(rs, tmp_path, policy):
    bad = copy.deepcopy(policy)
    bad["users"][1]["status"] = "sleepy"
    r = run("apply", "-f", write(tmp_path, "b.json", bad), redis=rs)
    assert r.returncode == 2
    assert "users[1]" in r.stderr and "status" in r.stderr
    assert table(rs) == {}

    bad = copy.deepcopy(policy)
    bad["groups"][0]["org"] = "no-such-org"
    r = run("apply", "-f", write(tmp_path, "b.json", bad), redis=rs)
    assert r.returncode == 2
    assert "groups[0]" in r.stderr and "no-such-org" in r.stderr
    assert table(rs) == {}

    r = run("apply", "-f", write(tmp_path, "b.json", {"userz": []}), redis=rs)
    assert r.returncode == 2 and "userz" in r.stderr

    (tmp_path / "nojson.json").write_text("{not json")
    r = run("apply", "-f", str(tmp_path / "nojson.json"), redis=rs)
    assert r.returncode == 2 and "not JSON" in r.stderr


def test_idpsync_version_bumps_only_on_change(rs, tmp_path, policy):
    assert run("apply", "-f", POLICY, redis=rs).returncode == 0
    c = rs.client()
    assert json.loads(c.get("rbac:idpsync"))["version"] == 1
    assert run("apply", "-f", POLICY, redis=rs).returncode == 0
    assert json.loads(c.get("rbac:idpsync"))["version"] == 1

    changed = copy.deepcopy(policy)
    changed["idp_sync"]["organization"]["assign_default"] = False
    r = run("apply", "-f", write(tmp_path, "p.json", changed), redis=rs)
    assert r.returncode == 0, r.stderr
    assert diff_lines(r.stdout) == ["~ rbac:idpsync"]
    assert json.loads(c.get("rbac:idpsync"))["version"] == 2


def test_prefix_option(rs):
    r = run("apply", "-f", POLICY, "--prefix", "fleet2:", redis=rs)
    assert r.returncode == 0, r.stderr
    assert table(rs, "rbac:") == {}
    assert "fleet2:user:bob" in table(rs, "fleet2:")
    r = run("check", "--user", "bob", "--action", "ssh", "--object",
            "workspace:ws-bob", "--prefix", "fleet2:", redis=rs)
    assert r.returncode == 0, r.stdout + r.stderr


# ---- tokens and keys ----

def test_token_create_stores_only_the_hash_and_revoke_deletes(rs):
    assert run("apply", "-f", POLICY, redis=rs).returncode == 0
    inv = Inv(rs)
    r = run("token", "create", "--user", "sa-ci", "--scope", "all",
            "--ttl", "1h", "--allow", "template:tpl-java", redis=rs)
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    tid, secret = token.split("-", 1)
    assert tid.isalnum() and len(secret) >= 32

    c = rs.client()
    rec = json.loads(c.get("rbac:token:" + tid))
    assert rec["secret_sha256"] == hashlib.sha256(secret.encode()).hexdigest()
    assert rec["user"] == "sa-ci"
    assert rec["allow_list"] == [{"type": "template", "id": "tpl-java"}]
    assert rec["expires_at"] > 0
    assert secret not in json.dumps(table(rs))
    assert inv.drain() == ["rbac:token:" + tid]

    r = run("token", "revoke", tid, redis=rs)
    assert r.returncode == 0, r.stderr
    assert c.get("rbac:token:" + tid) is None
    assert inv.drain() == ["rbac:token:" + tid]

    r = run("token", "revoke", tid, redis=rs)
    assert r.returncode == 2


def test_token_create_refuses_unknown_user_and_scope(rs):
    assert run("apply", "-f", POLICY, redis=rs).returncode == 0
    before = table(rs)
    r = run("token", "create", "--user", "nobody", redis=rs)
    assert r.returncode == 2 and "nobody" in r.stderr
    r = run("token", "create", "--user", "bob", "--scope", "no-such-scope",
            redis=rs)
    assert r.returncode == 2 and "no-such-scope" in r.stderr
    assert table(rs) == before


def test_pkey_create_and_revoke(rs):
    assert run("apply", "-f", POLICY, redis=rs).returncode == 0
    r = run("pkey", "create", "--org", "raptix", "--name", "gpu",
            "--tag", "cluster=gpu", "--tag", "region=eu", redis=rs)
    assert r.returncode == 0, r.stderr
    kid, secret = r.stdout.strip().split("-", 1)
    rec = json.loads(rs.client().get("rbac:pkey:" + kid))
    assert rec["org"] == "raptix" and rec["name"] == "gpu"
    assert rec["tags"] == {"cluster": "gpu", "region": "eu"}
    assert rec["secret_sha256"] == hashlib.sha256(secret.encode()).hexdigest()
    assert run("pkey", "revoke", kid, redis=rs).returncode == 0
    assert rs.client().get("rbac:pkey:" + kid) is None
    r = run("pkey", "create", "--org", "nope", redis=rs)
    assert r.returncode == 2 and "nope" in r.stderr


# ---- seats ----

def test_seats_counts_active_humans_only(rs):
    assert run("apply", "-f", POLICY, redis=rs).returncode == 0
    r = run("seats", redis=rs)
    assert r.returncode == 0, r.stderr
    # alice bob dave carol mlbox-dev; erin is suspended; sa-* are accounts
    assert r.stdout.strip() == "5"
    r = run("seats", "--list", redis=rs)
    assert sorted(r.stdout.split()) == ["alice", "bob", "carol", "dave",
                                        "mlbox-dev"]
    assert run("sa", "create", "sa-extra", redis=rs).returncode == 0
    assert run("seats", redis=rs).stdout.strip() == "5"
    assert run("user", "create", "gina", redis=rs).returncode == 0
    assert run("seats", redis=rs).stdout.strip() == "6"


# ---- imperative edits ----

def test_imperative_org_user_member_group(rs):
    c = rs.client()
    inv = Inv(rs)
    assert run("org", "create", "acme", "--name", "Acme", "--sharing",
               "none", "--default-role", "organization-workspace-access",
               redis=rs).returncode == 0
    org = json.loads(c.get("rbac:org:acme"))
    assert org["shareable_workspace_owners"] == "none"
    assert org["default_org_member_roles"] == ["organization-workspace-access"]
    assert run("org", "create", "acme", redis=rs).returncode == 2
    r = run("org", "update", "acme", "--default-role", "no-such-role",
            redis=rs)
    assert r.returncode == 2 and "--default-role no-such-role" in r.stderr
    assert json.loads(c.get("rbac:org:acme")) == org
    # a verb a command does not have, an id missing or one where none is
    for args, says in ((("org", "rename", "acme"), "usage: rbacctl org"),
                       (("user", "create"), "a user id is needed"),
                       (("member", "add", "x", "--org", "acme", "--user",
                         "u1"), "usage: rbacctl member")):
        r = run(*args, redis=rs)
        assert r.returncode == 2 and says in r.stderr, (args, r.stderr)

    assert run("user", "create", "u1", "--site-role", "auditor",
               redis=rs).returncode == 0
    r = run("user", "roles", "u1", "--site-role", "organization-admin",
            redis=rs)
    assert r.returncode == 2 and "organization role" in r.stderr
    assert json.loads(c.get("rbac:user:u1"))["site_roles"] == ["auditor"]
    assert run("user", "roles", "u1", redis=rs).returncode == 0
    assert json.loads(c.get("rbac:user:u1"))["site_roles"] == []
    assert run("sa", "create", "bot", redis=rs).returncode == 0
    bot = json.loads(c.get("rbac:user:bot"))
    assert bot["kind"] == "service_account" and bot["login"] == "none"

    r = run("member", "add", "--org", "acme", "--user", "u1", "--role",
            "organization-auditor", redis=rs)
    assert r.returncode == 0, r.stderr
    assert json.loads(c.get("rbac:user:u1"))["orgs"] == {
        "acme": ["organization-auditor"]}
    r = run("member", "add", "--org", "acme", "--user", "u1", "--role",
            "no-such-role", redis=rs)
    assert r.returncode == 2 and "no-such-role" in r.stderr
    r = run("member", "add", "--org", "acme", "--user", "u1", "--role",
            "owner", redis=rs)
    assert r.returncode == 2 and "site" in r.stderr

    assert run("group", "create", "g1", "--org", "acme", "--name", "devs",
               redis=rs).returncode == 0
    assert json.loads(c.get("rbac:orggroups:acme")) == {"devs": "g1"}
    r = run("group", "create", "g2", "--org", "acme", "--name", "devs",
            redis=rs)
    assert r.returncode == 2 and "devs" in r.stderr
    r = run("group", "add", "g1", "--user", "bot", redis=rs)
    assert r.returncode == 2 and "member" in r.stderr
    assert run("group", "add", "g1", "--user", "u1", redis=rs).returncode == 0
    assert json.loads(c.get("rbac:user:u1"))["groups"] == ["g1"]

    # leaving the org also leaves its groups
    assert run("member", "remove", "--org", "acme", "--user", "u1",
               redis=rs).returncode == 0
    u1 = json.loads(c.get("rbac:user:u1"))
    assert u1["orgs"] == {} and u1["groups"] == []

    assert run("group", "delete", "g1", redis=rs).returncode == 0
    assert c.get("rbac:group:g1") is None
    assert c.get("rbac:orggroups:acme") is None

    assert run("user", "suspend", "u1", redis=rs).returncode == 0
    assert json.loads(c.get("rbac:user:u1"))["status"] == "suspended"
    assert run("user", "activate", "u1", redis=rs).returncode == 0
    assert json.loads(c.get("rbac:user:u1"))["status"] == "active"

    msgs = inv.drain()
    assert msgs.count("rbac:user:u1") >= 5
    assert "rbac:org:acme" in msgs and "rbac:orggroups:acme" in msgs

    # deleting a user revokes its tokens
    tok = run("token", "create", "--user", "u1", redis=rs).stdout.strip()
    assert run("user", "delete", "u1", redis=rs).returncode == 0
    assert c.get("rbac:user:u1") is None
    assert c.get("rbac:token:" + tok.split("-")[0]) is None


def check(rs, user, action, obj, *extra):
    r = run("check", "--user", user, "--action", action, "--object", obj,
            "--explain", *extra, redis=rs)
    assert r.returncode in (0, 1), r.stdout + r.stderr
    return r.returncode == 0, r.stdout


def test_share_and_deprecate_change_decisions(rs):
    assert run("apply", "-f", POLICY, redis=rs).returncode == 0
    # carol (contractors) cannot reach bob's workspace, and sharing needs
    # membership of the org
    assert check(rs, "dave", "ssh", "workspace:ws-bob")[0]
    assert not check(rs, "mlbox-dev", "ssh", "workspace:ws-bob")[0]
    assert run("member", "add", "--org", "megaco", "--user", "mlbox-dev",
               redis=rs).returncode == 0
    assert not check(rs, "mlbox-dev", "ssh", "workspace:ws-bob")[0]
    r = run("share", "--workspace", "ws-bob", "--user", "mlbox-dev",
            "--role", "use", redis=rs)
    assert r.returncode == 0, r.stderr
    assert check(rs, "mlbox-dev", "ssh", "workspace:ws-bob")[0]
    assert not check(rs, "mlbox-dev", "delete", "workspace:ws-bob")[0]
    assert run("unshare", "--workspace", "ws-bob", "--user", "mlbox-dev",
               redis=rs).returncode == 0
    assert not check(rs, "mlbox-dev", "ssh", "workspace:ws-bob")[0]

    # the Everyone group of megaco may use tpl-java; deprecation stops it
    assert check(rs, "dave", "use", "template:tpl-java")[0]
    r = run("template", "deprecate", "tpl-java", "--message", "use tpl-v2",
            "--link", "https://wiki/x", redis=rs)
    assert r.returncode == 0, r.stderr
    ok, out = check(rs, "dave", "use", "template:tpl-java")
    assert not ok and "deprecated" in out
    assert check(rs, "dave", "read", "template:tpl-java")[0]
    assert run("template", "undeprecate", "tpl-java", redis=rs).returncode == 0
    assert check(rs, "dave", "use", "template:tpl-java")[0]


def test_check_follows_suspension_unknown_users_and_objects(rs):
    assert run("apply", "-f", POLICY, redis=rs).returncode == 0
    ok, out = check(rs, "erin", "read", "organization:megaco")
    assert not ok and "suspended" in out
    ok, out = check(rs, "ghost", "read", "organization:megaco")
    assert not ok and "unknown user" in out
    ok, out = check(rs, "dave", "read", "workspace:ws-nope")
    assert not ok and "not found" in out
    # the record's org wins over a contradicting --org
    ok, _ = check(rs, "dave", "ssh", "workspace:ws-bob", "--org", "raptix")
    assert not ok
    # the owner of the deployment, and the org-admin of raptix
    ok, out = check(rs, "alice", "delete", "template:tpl-java")
    assert ok and "owner" in out
    assert check(rs, "dave", "delete", "template", "--org", "raptix")[0]
    assert not check(rs, "dave", "delete", "template", "--org", "megaco")[0]
    r = run("check", "--user", "dave", "--action", "read", "--object",
            "bogus_type", redis=rs)
    assert r.returncode == 2


def test_role_command_validates_and_checks_escalation(rs, tmp_path):
    assert run("apply", "-f", POLICY, redis=rs).returncode == 0
    role = {"name": "ws-janitor", "organization_id": "megaco",
            "display_name": "Workspace janitor",
            "organization_permissions": [
                {"resource_type": "workspace", "action": "stop",
                 "negate": False}]}
    f = write(tmp_path, "role.json", role)
    before = table(rs)

    # bob (team-lead in megaco) holds workspace:stop but cannot manage roles
    r = run("role", "create", "-f", f, "--as", "bob", redis=rs)
    assert r.returncode == 2 and "assign_org_role" in r.stderr
    # dave is org-admin of raptix, not megaco
    r = run("role", "create", "-f", f, "--as", "dave", redis=rs)
    assert r.returncode == 2
    assert table(rs) == before

    r = run("role", "create", "-f", f, "--as", "alice", redis=rs)
    assert r.returncode == 0, r.stderr
    assert "+ rbac:role:megaco:ws-janitor" in r.stdout
    assert run("role", "create", "-f", f, redis=rs).returncode == 2

    # an org admin may not grant what it lacks (org admins have no ssh)
    assert run("member", "set", "--org", "megaco", "--user", "dave",
               "--role", "organization-admin", redis=rs).returncode == 0
    role["organization_permissions"].append(
        {"resource_type": "workspace", "action": "ssh", "negate": False})
    f = write(tmp_path, "role.json", role)
    r = run("role", "update", "-f", f, "--as", "dave", redis=rs)
    assert r.returncode == 2
    assert "organization_permissions[1]" in r.stderr and "ssh" in r.stderr
    role["organization_permissions"].pop()
    role["organization_permissions"].append(
        {"resource_type": "workspace", "action": "start", "negate": False})
    f = write(tmp_path, "role.json", role)
    r = run("role", "update", "-f", f, "--as", "dave", redis=rs)
    assert r.returncode == 0, r.stderr

    assert run("role", "delete", "ws-janitor", "--org", "megaco",
               redis=rs).returncode == 0
    assert rs.client().get("rbac:role:megaco:ws-janitor") is None


# ---- errors ----

def test_unreachable_redis_is_a_clear_error(tmp_path):
    url = "redis://127.0.0.1:%d" % free_port()
    for args in (["apply", "-f", POLICY], ["export"], ["seats"],
                 ["check", "--user", "u", "--action", "read", "--object",
                  "template"]):
        r = run(*args, "--redis", url)
        assert r.returncode == 3, (args, r.returncode)
        assert "cannot connect to Redis" in r.stderr, r.stderr
    env_run = subprocess.run([RBACCTL, "seats"], capture_output=True,
                             text=True, env=dict(os.environ, RBAC_REDIS=url),
                             timeout=60)
    assert env_run.returncode == 3 and "cannot connect" in env_run.stderr
    r = run("seats", "--redis", "http://x")
    assert r.returncode == 2 and "bad Redis URL" in r.stderr


def test_wrong_or_missing_password_is_a_clear_error(tmp_path):
    with RedisServer(tmp_path / "r", password="s3cret") as rs:
        url = "redis://:wrong@127.0.0.1:%d" % rs.port
        r = run("apply", "-f", POLICY, "--redis", url)
        assert r.returncode == 3 and "refused the password" in r.stderr
        r = run("seats", "--redis", "redis://127.0.0.1:%d" % rs.port)
        assert r.returncode == 3 and "requires a password" in r.stderr
        assert rs.client().dbsize() == 0
        r = run("apply", "-f", POLICY, redis=rs)
        assert r.returncode == 0, r.stderr
        pw = tmp_path / "pw"
        pw.write_text("s3cret\n")
        r = run("seats", "--redis", "redis://127.0.0.1:%d/0" % rs.port,
                "--password-file", str(pw))
        assert r.returncode == 0 and r.stdout.strip() == "5"


def test_malformed_record_in_redis_is_a_clear_error(rs):
    assert run("apply", "-f", POLICY, redis=rs).returncode == 0
    rs.client().set("rbac:user:bob", "{not json")
    r = run("check", "--user", "bob", "--action", "read", "--object",
            "organization:megaco", redis=rs)
    assert r.returncode == 3 and "rbac:user:bob" in r.stderr
    r = run("export", redis=rs)
    assert r.returncode == 3 and "rbac:user:bob" in r.stderr
    r = run("user", "suspend", "bob", redis=rs)
    assert r.returncode == 3 and "rbac:user:bob" in r.stderr


def test_db_number_and_unix_socket(tmp_path):
    sock = str(tmp_path / "redis.sock")
    with RedisServer(tmp_path / "r", extra=["--unixsocket", sock]) as rs:
        r = run("apply", "-f", POLICY, "--redis", "unix://%s?db=3" % sock)
        assert r.returncode == 0, r.stderr
        c3 = rs.client()
        c3.execute_command("SELECT", 3)
        assert rs.client().dbsize() == 0
        r = run("seats", "--redis", "redis://127.0.0.1:%d/3" % rs.port)
        assert r.stdout.strip() == "5", r.stderr


def test_sentinel_finds_the_master(tmp_path):
    with RedisServer(tmp_path / "m") as master:
        port = free_port()
        conf = tmp_path / "sentinel.conf"
        conf.write_text("port %d\nbind 127.0.0.1\n"
                        "sentinel monitor mymaster 127.0.0.1 %d 1\n"
                        % (port, master.port))
        s = subprocess.Popen(["redis-server", str(conf), "--sentinel",
                              "--logfile", str(tmp_path / "s.log")])
        try:
            sc = redislib.Redis(host="127.0.0.1", port=port,
                                decode_responses=True)
            for _ in range(500):
                try:
                    if sc.execute_command("SENTINEL",
                                          "get-master-addr-by-name",
                                          "mymaster"):
                        break
                except redislib.exceptions.ConnectionError:
                    pass
                time.sleep(0.02)
            dead = free_port()
            r = run("apply", "-f", POLICY, "--sentinel",
                    "127.0.0.1:%d,127.0.0.1:%d" % (dead, port),
                    "--master", "mymaster")
            assert r.returncode == 0, r.stderr
            assert master.client().get("rbac:user:bob") is not None
            r = run("seats", "--sentinel", "127.0.0.1:%d" % port,
                    "--master", "nosuch")
            assert r.returncode == 3 and "nosuch" in r.stderr
        finally:
            s.terminate()
            s.wait(10)


def test_invalidate_publishes(rs):
    inv = Inv(rs)
    assert run("invalidate", "user:bob", redis=rs).returncode == 0
    assert run("invalidate", "rbac:org:x", redis=rs).returncode == 0
    assert run("invalidate", "--all", redis=rs).returncode == 0
    assert inv.drain() == ["rbac:user:bob", "rbac:org:x", "*"]
    assert run("invalidate", redis=rs).returncode == 2


def test_help_lists_the_commands():
    r = run("--help")
    assert r.returncode == 0
    for cmd in ("apply", "export", "check", "org", "user", "sa", "member",
                "group", "role", "share", "unshare", "template", "token",
                "pkey", "seats", "invalidate"):
        assert "\n  " + cmd + " " in r.stdout, cmd
    r = run("apply", "--help")
    assert r.returncode == 0 and "--prune" in r.stdout
    r = run("apply", "--bogus")
    assert r.returncode == 2 and "--bogus" in r.stderr


def test_publish_to_no_subscriber_warns(rs):
    # no nginx listening: the write happens (exit 0) and stderr says the
    # invalidation reached nobody, pointing at stale=0
    r = run("org", "create", "orgW", redis=rs)
    assert r.returncode == 0, r.stderr
    assert "reached no subscriber" in r.stderr
    assert "stale=0" in r.stderr
    assert rs.client().get("rbac:org:orgW") is not None

    r = run("invalidate", "--all", redis=rs)
    assert r.returncode == 0
    assert "to 0 subscriber(s)" in r.stdout
    assert "reached no subscriber" in r.stderr

    # with a subscriber: no warning
    inv = Inv(rs)
    r = run("org", "create", "orgV", redis=rs)
    assert r.returncode == 0, r.stderr
    assert "warning" not in r.stderr
    # with the org goes the reference of its name (docs/references.md)
    assert inv.drain() == ["rbac:org:orgV", "rbac:ref:orgname:orgv"]
    r = run("invalidate", "--all", redis=rs)
    assert r.returncode == 0 and "warning" not in r.stderr

    # a no-op writes and publishes nothing, and warns of nothing
    del inv
    r = run("org", "update", "orgV", redis=rs)
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
