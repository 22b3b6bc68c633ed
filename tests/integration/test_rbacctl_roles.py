"""The eight custom roles of the product documents (conf-examples/policies/
roles/, described in conf-examples/policies/README.md), each held alone in
MegaCo, give through `rbacctl check` the allow/deny matrix its description
implies.  A plain member of MegaCo is denied every grant, so the allows come
from the roles and not from implicit ones.
"""

import copy
import json
import os
import subprocess

import pytest

from redis_server import RedisServer

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("RBAC_BUILD", os.path.join(ROOT, "build"))
RBACCTL = os.path.join(BUILD, "rbacctl")
POLICY = os.path.join(ROOT, "conf-examples", "policies", "megaco.json")

# user -> (kind, site roles, megaco roles)
HOLDERS = {
    "bca": ("user", [], ["banking-compliance-auditor"]),
    "tl": ("user", [], ["team-lead"]),
    "pm": ("user", [], ["platform-member"]),
    "hc": ("service_account", ["health-check"], None),
    "ci": ("service_account", [], ["ci"]),
    "pa": ("user", [], ["provisioner-admin"]),
    "te": ("user", [], ["template-editor"]),
    "tp": ("service_account", [], ["template-pusher"]),
    "plain": ("user", [], []),
}

A, D = True, False

# (user, action, object, extra args, allowed)
MATRIX = [
    # Banking Compliance Auditor: reads templates and audit logs, creates
    # no workspace, edits no template
    ("bca", "read", "template", ["--org", "megaco"], A),
    ("bca", "view_insights", "template", ["--org", "megaco"], A),
    ("bca", "read", "audit_log", ["--org", "megaco"], A),
    ("bca", "create", "workspace", ["--org", "megaco", "--owner", "bca"], D),
    ("bca", "update", "template", ["--org", "megaco"], D),
    ("bca", "read", "audit_log", ["--org", "raptix"], D),
    # Team Lead: gets into members' workspaces, edits no template
    ("tl", "ssh", "workspace", ["--org", "megaco", "--owner", "dave"], A),
    ("tl", "application_connect", "workspace",
     ["--org", "megaco", "--owner", "dave"], A),
    ("tl", "start", "workspace", ["--org", "megaco", "--owner", "dave"], A),
    ("tl", "read", "workspace:ws-bob", [], A),
    ("tl", "delete", "workspace", ["--org", "megaco", "--owner", "dave"], D),
    ("tl", "update", "template", ["--org", "megaco"], D),
    ("tl", "read", "template", ["--org", "megaco"], A),
    ("tl", "ssh", "workspace", ["--org", "raptix", "--owner", "x"], D),
    # Platform Member: uses its workspaces, neither creates nor edits them
    ("pm", "ssh", "workspace", ["--org", "megaco", "--owner", "pm"], A),
    ("pm", "start", "workspace", ["--org", "megaco", "--owner", "pm"], A),
    ("pm", "create", "workspace", ["--org", "megaco", "--owner", "pm"], D),
    ("pm", "update", "workspace", ["--org", "megaco", "--owner", "pm"], D),
    ("pm", "delete", "workspace", ["--org", "megaco", "--owner", "pm"], D),
    ("pm", "ssh", "workspace", ["--org", "megaco", "--owner", "dave"], D),
    # Health Check (site role of a service account): deployment status only
    ("hc", "read", "deployment_stats", [], A),
    ("hc", "read", "replicas", [], A),
    ("hc", "read", "debug_info", [], A),
    ("hc", "create", "workspace", ["--org", "megaco", "--owner", "hc"], D),
    ("hc", "update", "template", ["--org", "megaco"], D),
    ("hc", "read", "user:alice", [], D),
    ("hc", "update", "deployment_config", [], D),
    # CI: manages templates, creates no workspace, sees no user
    ("ci", "create", "template", ["--org", "megaco"], A),
    ("ci", "update", "template", ["--org", "megaco"], A),
    ("ci", "delete", "template", ["--org", "megaco"], A),
    ("ci", "create", "provisioner_jobs", ["--org", "megaco"], A),
    ("ci", "create", "workspace", ["--org", "megaco", "--owner", "ci"], D),
    ("ci", "read", "user:alice", [], D),
    ("ci", "update", "template", ["--org", "raptix"], D),
    # Provisioner Admin: deploys provisioners, manages no template
    ("pa", "create", "provisioner_daemon", ["--org", "megaco"], A),
    ("pa", "delete", "provisioner_daemon", ["--org", "megaco"], A),
    ("pa", "update", "template", ["--org", "megaco"], D),
    ("pa", "create", "template", ["--org", "megaco"], D),
    ("pa", "create", "provisioner_daemon", ["--org", "raptix"], D),
    # Template Editor: manages templates, deploys no provisioner
    ("te", "create", "template", ["--org", "megaco"], A),
    ("te", "update", "template", ["--org", "megaco"], A),
    ("te", "delete", "template", ["--org", "megaco"], A),
    ("te", "create", "provisioner_daemon", ["--org", "megaco"], D),
    ("te", "update", "provisioner_daemon", ["--org", "megaco"], D),
    # Template Pusher: pushes templates, deletes none, manages no user
    ("tp", "create", "template", ["--org", "megaco"], A),
    ("tp", "update", "template", ["--org", "megaco"], A),
    ("tp", "create", "provisioner_jobs", ["--org", "megaco"], A),
    ("tp", "delete", "template", ["--org", "megaco"], D),
    ("tp", "update", "organization_member",
     ["--org", "megaco", "--owner", "bob"], D),
    ("tp", "create", "user", [], D),
    # a plain member of MegaCo gets none of the grants above
    ("plain", "read", "template", ["--org", "megaco"], D),
    ("plain", "read", "audit_log", ["--org", "megaco"], D),
    ("plain", "ssh", "workspace", ["--org", "megaco", "--owner", "dave"], D),
    ("plain", "ssh", "workspace", ["--org", "megaco", "--owner", "plain"], D),
    ("plain", "read", "deployment_stats", [], D),
    ("plain", "create", "template", ["--org", "megaco"], D),
    ("plain", "create", "provisioner_daemon", ["--org", "megaco"], D),
    ("plain", "create", "provisioner_jobs", ["--org", "megaco"], D),
]


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("roles")
    with open(POLICY) as f:
        policy = json.load(f)
    policy = copy.deepcopy(policy)
    for uid, (kind, site, megaco) in HOLDERS.items():
        policy["users"].append({
            "id": uid, "kind": kind,
            "login": "none" if kind == "service_account" else "oidc",
            "site_roles": site,
            "orgs": {} if megaco is None else {"megaco": megaco}})
    path = tmp / "policy.json"
    path.write_text(json.dumps(policy))
    with RedisServer(tmp / "redis") as rs:
        r = subprocess.run([RBACCTL, "apply", "-f", str(path), "--redis",
                            rs.url], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, r.stderr
        yield rs


@pytest.mark.parametrize("user,action,obj,extra,allowed", MATRIX,
                         ids=["%s-%s-%s-%d" % (m[0], m[1], m[2], i)
                              for i, m in enumerate(MATRIX)])
def test_custom_role_matrix(table, user, action, obj, extra, allowed):
    r = subprocess.run([RBACCTL, "check", "--user", user, "--action", action,
                        "--object", obj, "--explain", "--redis", table.url]
                       + extra, capture_output=True, text=True, timeout=60)
    assert r.returncode == (0 if allowed else 1), r.stdout + r.stderr
    assert r.stdout.splitlines()[0] == ("allow" if allowed else "deny")


@pytest.mark.parametrize("user,role,action,obj,level", [
    ("bca", "banking-compliance-auditor", "read", "audit_log", "org"),
    ("pm", "platform-member", "ssh", "workspace", "member"),
    ("hc", "health-check", "read", "deployment_stats", "site"),
])
def test_explain_names_the_custom_role(table, user, role, action, obj, level):
    extra = {"audit_log": ["--org", "megaco"],
             "workspace": ["--org", "megaco", "--owner", user]}.get(obj, [])
    r = subprocess.run([RBACCTL, "check", "--user", user, "--action", action,
                        "--object", obj, "--explain", "--redis", table.url]
                       + extra, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "role: %s" % role in r.stdout
    assert "level: %s" % level in r.stdout
    assert "permission: %s:%s" % (obj, action) in r.stdout
