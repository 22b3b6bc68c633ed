"""A parent renamed while another rbacctl writes one of its children
(docs/references.md): whichever write commits second sees the other, so the
child's name references end under the parent's new name only.  The
interleaving is forced with rbacctl's test-only pause before a commit
(RBACCTL_TEST_PAUSE, cli/tx.c)."""

import json
import os
import select
import subprocess

from conftest import BUILD, rbacctl_on
from test_module_refs import G1, OA, UA, W1

RBACCTL = os.path.join(BUILD, "rbacctl")


def refs(redis):
    c = redis.client()
    return {k[len("rbac:ref:"):]: json.loads(c.get(k))
            for k in c.scan_iter("rbac:ref:*")}


def auto(type_, id_):
    return {"type": type_, "id": id_, "auto": True}


def paused_then(redis, args, between):
    """rbacctl args stopped before its first commit, `between()` run while
    it waits, then the commit let go; its CompletedProcess-like result."""
    env = dict(os.environ, RBAC_REDIS=redis.url, RBACCTL_TEST_PAUSE="1")
    p = subprocess.Popen([RBACCTL] + list(args), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
    try:
        ready, _, _ = select.select([p.stderr], [], [], 30)
        assert ready, "rbacctl did not reach its commit"
        line = p.stderr.readline()
        assert "test pause before the commit" in line, line
        between()
        out, err = p.communicate("go", timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return subprocess.CompletedProcess(args, p.returncode, out, err)


def test_child_created_during_an_org_rename(redis):
    """The rename read the org's children (none), then a group is created
    under the old name before the rename commits: the rename runs again and
    moves the group's reference too."""
    assert rbacctl_on(redis, "org", "create", OA,
                      "--name", "Acme").returncode == 0

    def create_group():
        r = rbacctl_on(redis, "group", "create", G1, "--org", OA,
                       "--name", "Admins")
        assert r.returncode == 0, r.stderr
        assert refs(redis)["group:acme/Admins"] == auto("group", G1)

    r = paused_then(redis, ["org", "update", OA, "--name", "Acme2"],
                    create_group)
    assert r.returncode == 0, r.stderr
    got = refs(redis)
    assert got["group:acme2/Admins"] == auto("group", G1)
    assert got["group:%s/Admins" % OA] == auto("group", G1)
    assert "group:acme/Admins" not in got
    assert "orgname:acme" not in got
    assert got["orgname:acme2"] == auto("organization", OA)


def test_org_renamed_during_a_child_create(redis):
    """The other order: the group read the org's old name, the rename
    commits first; the group's write runs again under the new name."""
    assert rbacctl_on(redis, "org", "create", OA,
                      "--name", "Acme").returncode == 0

    def rename():
        r = rbacctl_on(redis, "org", "update", OA, "--name", "Acme2")
        assert r.returncode == 0, r.stderr

    r = paused_then(redis, ["group", "create", G1, "--org", OA,
                            "--name", "Admins"], rename)
    assert r.returncode == 0, r.stderr
    got = refs(redis)
    assert got["group:acme2/Admins"] == auto("group", G1)
    assert "group:acme/Admins" not in got


def test_child_applied_during_an_org_rename(redis, tmp_path):
    """A bulk writer (apply, under the writer lock) creating a child while
    a rename waits to commit: the rename runs again and moves it."""
    assert rbacctl_on(redis, "org", "create", OA,
                      "--name", "Acme").returncode == 0
    f = tmp_path / "policy.json"
    f.write_text(json.dumps({
        "users": [{"id": UA, "username": "alice", "orgs": {OA: []}}],
        "groups": [{"id": G1, "org": OA, "name": "Admins"}],
        "objects": [{"type": "workspace", "id": W1, "org": OA,
                     "owner": UA, "name": "Dev"}]}))

    def apply():
        r = rbacctl_on(redis, "apply", "-f", str(f))
        assert r.returncode == 0, r.stderr
        assert "group:acme/Admins" in refs(redis)

    r = paused_then(redis, ["org", "update", OA, "--name", "Acme2"], apply)
    assert r.returncode == 0, r.stderr
    got = refs(redis)
    assert got["group:acme2/Admins"] == auto("group", G1)
    assert "group:acme/Admins" not in got
    assert got["workspace:alice/dev"] == auto("workspace", W1)
