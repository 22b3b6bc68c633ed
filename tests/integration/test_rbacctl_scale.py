"""rbacctl's admin plane at scale, as a user sees it: concurrent writers
never lose each other's changes (the writer lock), the change feed applies
good lines and names the refused ones by line number, and a large apply
under nginx load with timeout=50ms gives no 503 and is enforced once it
returns."""

import json
import os
import signal
import subprocess
import threading
import time

import pytest
import requests

from conftest import BUILD, SLOW, proxy, sha256_hex
from redis_server import RedisServer

RBACCTL = os.path.join(BUILD, "rbacctl")


def run(rs, *args, stdin=None, wait=True):
    cmd = [RBACCTL] + list(args) + ["--redis", rs.url]
    if not wait:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True,
                          timeout=120 * SLOW)


def policy(n_users, status="active", role="organization-auditor",
           extra_users=()):
    orgs = [{"id": "org%d" % i, "name": "Org %d" % i} for i in range(10)]
    users = [{"id": "u%d" % i, "status": status,
              "orgs": {"org%d" % (i % 10): [role]}} for i in range(n_users)]
    return {"organizations": orgs, "users": users + list(extra_users)}


def write(tmp_path, name, doc):
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return str(p)


def statuses(rs, n):
    c = rs.client()
    vals = c.mget(["rbac:user:u%d" % i for i in range(n)])
    return {json.loads(v)["status"] for v in vals}


# ---- concurrent writers ----

def test_concurrent_applies_leave_one_whole(tmp_path):
    n = 3000
    a = write(tmp_path, "a.json", policy(n, "active"))
    b = write(tmp_path, "b.json", policy(n, "suspended"))
    with RedisServer(tmp_path / "redis") as rs:
        assert run(rs, "apply", "-f", a).returncode == 0
        for _ in range(3):
            v0 = int(rs.client().get("rbac:version"))
            pa = run(rs, "apply", "-f", b, wait=False)
            pb = run(rs, "apply", "-f", a, wait=False)
            outa, erra = pa.communicate(timeout=120 * SLOW)
            outb, errb = pb.communicate(timeout=120 * SLOW)
            assert pa.returncode == 0, erra
            assert pb.returncode == 0, errb
            # serialized by the lock: each whole, one after the other
            assert len(statuses(rs, n)) == 1
            assert int(rs.client().get("rbac:version")) - v0 in (1, 2)
            assert rs.client().get("rbac:lock") is None


def test_a_held_lock_refuses_or_waits(tmp_path):
    a = write(tmp_path, "a.json", policy(50))
    with RedisServer(tmp_path / "redis") as rs:
        c = rs.client()
        c.set("rbac:lock", "0123456789abcdef rbacctl apply, pid 1 on other")
        r = run(rs, "apply", "-f", a, "--wait", "0")
        assert r.returncode == 3, r.stderr
        assert "another writer holds rbac:lock" in r.stderr
        assert "pid 1 on other" in r.stderr
        assert c.get("rbac:user:u1") is None

        r = run(rs, "feed", "--wait", "0",
                stdin='{"op":"upsert","kind":"org","record":{"id":"x"}}\n')
        assert r.returncode == 3, r.stderr
        assert c.get("rbac:org:x") is None

        # a writer that died: its lock expires and the next one goes on
        c.set("rbac:lock", "0123456789abcdef rbacctl apply, pid 1 on other",
              px=300)
        r = run(rs, "apply", "-f", a, "--wait", "30")
        assert r.returncode == 0, r.stderr
        assert c.get("rbac:user:u1") is not None
        assert c.get("rbac:lock") is None

        # an imperative edit waits for the lock too, then writes
        c.set("rbac:lock", "0123456789abcdef rbacctl feed, pid 1 on other",
              px=300)
        r = run(rs, "user", "create", "gina")
        assert r.returncode == 0, r.stderr
        assert c.get("rbac:user:gina") is not None


def test_edit_and_apply_both_survive(tmp_path):
    """An imperative edit racing a large apply is never overwritten by a
    value the apply read before it."""
    n = 20000
    a = write(tmp_path, "a.json", policy(n))
    with RedisServer(tmp_path / "redis") as rs:
        assert run(rs, "apply", "-f", a).returncode == 0
        b = write(tmp_path, "b.json", policy(n, role="organization-admin"))
        p = run(rs, "apply", "-f", b, wait=False)
        r = run(rs, "user", "suspend", "u7")
        out, err = p.communicate(timeout=120 * SLOW)
        assert p.returncode == 0, err
        assert r.returncode == 0, r.stderr
        u7 = json.loads(rs.client().get("rbac:user:u7"))
        # either order is fine; the apply wrote the file's status, so the
        # suspension survives only if it came after: both are whole
        if u7["status"] == "suspended":
            assert u7["orgs"]["org7"] == ["organization-admin"]
        else:
            assert u7["status"] == "active"
        assert {json.loads(v)["orgs"]["org%d" % (i % 10)][0]
                for i, v in enumerate(rs.client().mget(
                    ["rbac:user:u%d" % i for i in range(n)]))} == {
                        "organization-admin"}


@pytest.mark.parametrize("orgs_stored", [False, True])
def test_a_policy_file_truncated_during_apply_is_refused(tmp_path,
                                                         orgs_stored):
    """apply reads the records of a (mapped) policy file again when it
    writes them: a file truncated meanwhile is refused like a changed one
    (exit 3, one line naming it), not a SIGBUS.  The writer lock held by
    "another writer" stops apply between its load and its write."""
    n = 200
    a = write(tmp_path, "a.json", policy(n))
    with RedisServer(tmp_path / "redis") as rs:
        c = rs.client()
        if orgs_stored:
            # only the users change: the write reads the file again
            assert run(rs, "apply", "-f",
                       write(tmp_path, "o.json", policy(0))).returncode == 0
        # otherwise the new orgs' names are read again first (references)
        c.set("rbac:lock", "0123456789abcdef rbacctl apply, pid 1 on other")
        p = run(rs, "apply", "-f", a, "--wait", "60", wait=False)
        lines = []
        for _ in range(20):
            line = p.stderr.readline()
            lines.append(line)
            if not line or "waiting for rbac:lock" in line:
                break
        assert "waiting for rbac:lock" in lines[-1], lines
        os.truncate(a, 0)
        c.delete("rbac:lock")
        out, err = p.communicate(timeout=120 * SLOW)
        assert p.returncode == 3, (p.returncode, err)
        assert "the policy file changed while it was applied" in err
        assert "nothing more was written" in err
        assert c.get("rbac:user:u1") is None


def proc_state(pid):
    """R, S (sleeping in a system call), T (stopped), ... from /proc."""
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(") ", 1)[1][0]


def blocked_in_redis(rs, pid):
    """True once rbacctl (pid) sleeps on a command Redis holds back (a
    client flagged b) -- that is, in a read of the reply."""
    return proc_state(pid) == "S" and any(
        "b" in cl["flags"] for cl in rs.client().client_list())


def test_a_stopped_and_resumed_writer_goes_on(tmp_path):
    """^Z and fg (SIGSTOP, SIGCONT) while rbacctl waits for Redis's reply:
    Linux ends that read with EINTR (the socket has a timeout); the write
    goes on, it does not stop half-way as if the connection were lost."""
    a = write(tmp_path, "a.json", policy(50))
    with RedisServer(tmp_path / "redis") as rs:
        c = rs.client()
        for cmd in (["apply", "-f", a], ["user", "suspend", "u7"]):
            c.execute_command("CLIENT", "PAUSE", str(30000 * SLOW), "WRITE")
            p = run(rs, *cmd, wait=False)
            try:
                for _ in range(1000):
                    if p.poll() is not None or blocked_in_redis(rs, p.pid):
                        break
                    time.sleep(0.01)
                assert p.poll() is None and blocked_in_redis(rs, p.pid)
                os.kill(p.pid, signal.SIGSTOP)
                for _ in range(1000):
                    if proc_state(p.pid) == "T":
                        break
                    time.sleep(0.01)
                os.kill(p.pid, signal.SIGCONT)
            finally:
                c.execute_command("CLIENT", "UNPAUSE")
            out, err = p.communicate(timeout=120 * SLOW)
            assert p.returncode == 0, err
        assert json.loads(c.get("rbac:user:u7"))["status"] == "suspended"
        assert json.loads(c.get("rbac:user:u49"))["status"] == "active"
        assert c.get("rbac:lock") is None


# ---- the change feed ----

FEED = "\n".join([
    '{"op":"upsert","kind":"org","record":{"id":"acme","name":"Acme"}}',
    'not json',
    '{"op":"upsert","kind":"user","record":{"id":"ann","orgs":{"acme":[]}}}',
    '{"op":"upsert","kind":"user","record":{"id":"bo","orgs":{"nope":[]}}}',
    '{"op":"upsert","kind":"group","record":{"id":"g1","org":"acme",'
    '"name":"devs"}}',
    '{"op":"upsert","kind":"group","record":{"id":"g2","org":"acme",'
    '"name":"devs"}}',
    '{"op":"upsert","kind":"user","record":{"id":"cy","status":"sleepy"}}',
    '',
    '{"op":"frob"}',
    '{"op":"delete","key":"orggroups:acme"}',
    '{"op":"upsert","kind":"widget","record":{}}',
    '{"op":"upsert","kind":"user","record":{"id":"di","orgs":{"acme":[]},'
    '"groups":["g1"]}}',
    '{"op":"delete","key":"user:old"}',
]) + "\n"


def test_feed_applies_good_lines_and_names_refused_ones(tmp_path):
    with RedisServer(tmp_path / "redis") as rs:
        c = rs.client()
        c.set("rbac:user:old", json.dumps({"id": "old"}))
        ps = c.pubsub(ignore_subscribe_messages=True)
        ps.subscribe("rbac:inv")
        ps.get_message(timeout=5)

        r = run(rs, "feed", stdin=FEED)
        assert r.returncode == 2, r.stderr
        refused = {int(l.split("line ")[1].split(":")[0]): l
                   for l in r.stderr.splitlines() if ": line " in l}
        assert sorted(refused) == [2, 4, 6, 7, 9, 10, 11]
        assert "not a JSON object" in refused[2]
        assert "nope" in refused[4]
        assert "devs" in refused[6] and "g1" in refused[6]
        assert "status" in refused[7] and "sleepy" in refused[7]
        assert "op" in refused[9]
        assert "key" in refused[10]
        assert "kind" in refused[11]
        assert "5 change(s) applied, 7 line(s) refused" in r.stderr

        assert json.loads(c.get("rbac:user:ann"))["orgs"] == {"acme": []}
        assert json.loads(c.get("rbac:user:di"))["groups"] == ["g1"]
        assert json.loads(c.get("rbac:orggroups:acme")) == {"devs": "g1"}
        assert c.get("rbac:user:bo") is None
        assert c.get("rbac:group:g2") is None
        assert c.get("rbac:user:old") is None
        assert c.get("rbac:version") == "1"

        c.publish("rbac:inv", "__marker__")
        got = []
        for _ in range(100):
            m = ps.get_message(timeout=5)
            assert m is not None
            if m["data"] == "__marker__":
                break
            got.append(m["data"])
        assert sorted(got) == sorted(
            "rbac:" + k for k in ("org:acme", "user:ann", "group:g1",
                                  "user:di", "user:old", "orggroups:acme",
                                  # the name references of Acme and devs
                                  "ref:orgname:acme", "ref:group:acme/devs"))


def test_feed_group_rename_and_delete_keep_the_index(tmp_path):
    with RedisServer(tmp_path / "redis") as rs:
        c = rs.client()
        lines = [
            {"op": "upsert", "kind": "org", "record": {"id": "o"}},
            {"op": "upsert", "kind": "group",
             "record": {"id": "g1", "org": "o", "name": "a"}},
            {"op": "upsert", "kind": "group",
             "record": {"id": "g2", "org": "o", "name": "b"}},
        ]
        stdin = "".join(json.dumps(l) + "\n" for l in lines)
        assert run(rs, "feed", stdin=stdin).returncode == 0
        assert json.loads(c.get("rbac:orggroups:o")) == {"a": "g1", "b": "g2"}

        lines = [
            {"op": "upsert", "kind": "group",
             "record": {"id": "g1", "org": "o", "name": "c"}},
            {"op": "delete", "key": "group:g2"},
            {"op": "upsert", "kind": "group",
             "record": {"id": "g3", "org": "o", "name": "b"}},
        ]
        stdin = "".join(json.dumps(l) + "\n" for l in lines)
        r = run(rs, "feed", stdin=stdin)
        assert r.returncode == 0, r.stderr
        assert json.loads(c.get("rbac:orggroups:o")) == {"c": "g1", "b": "g3"}

        # what the feed leaves, apply agrees with
        exported = run(rs, "export")
        assert exported.returncode == 0
        f = tmp_path / "e.json"
        f.write_text(exported.stdout)
        r = run(rs, "apply", "-f", str(f))
        assert r.returncode == 0 and "no changes" in r.stderr, r.stderr


# ---- under load ----

def load(url, token, stop, counts, lock, limit):
    s = requests.Session()
    for _ in range(limit):
        if stop.is_set():
            break
        try:
            code = s.get(url, headers={"Coder-Session-Token": token},
                         timeout=5).status_code
        except requests.RequestException:
            code = -1
        with lock:
            counts[code] = counts.get(code, 0) + 1


def test_large_apply_under_load_no_503_and_enforced(tmp_path, nginx,
                                                    upstream):
    secret = "probe-secret"
    tokens = [{"id": "tprobe", "user": "probe",
               "secret_sha256": sha256_hex(secret)},
              {"id": "tnew", "user": "newbie",
               "secret_sha256": sha256_hex(secret)}]
    before = policy(10, extra_users=[
        {"id": "probe", "orgs": {"org0": []}},
        {"id": "newbie", "orgs": {"org1": []}}])
    before["tokens"] = tokens
    after = policy(150000, extra_users=[
        {"id": "probe", "orgs": {"org1": []}},
        {"id": "newbie", "orgs": {"org0": []}}])
    after["tokens"] = tokens

    with RedisServer(tmp_path / "redis") as rs:
        assert run(rs, "apply", "-f",
                   write(tmp_path, "b.json", before)).returncode == 0
        n = nginx(http="    rbac_redis 127.0.0.1:%d timeout=%dms;\n"
                  % (rs.port, 50 * SLOW), server="""
        location /org/ {
            rbac on;
            rbac_object organization id=org0;
            rbac_action read;
            %s
        }
""" % proxy(upstream), workers=2)
        url = n.url + "/org/"
        probe = "tprobe-" + secret
        assert requests.get(url, headers={"Coder-Session-Token": probe},
                            timeout=5).status_code == 200

        stop = threading.Event()
        lock = threading.Lock()
        counts = {}
        threads = [threading.Thread(target=load,
                                    args=(url, probe, stop, counts, lock,
                                          20000))
                   for _ in range(3)]
        for t in threads:
            t.start()
        try:
            r = run(rs, "apply", "-f", write(tmp_path, "a.json", after))
        finally:
            stop.set()
            for t in threads:
                t.join(60)
        assert r.returncode == 0, r.stderr
        assert sum(counts.values()) > 0
        assert counts.get(503, 0) == 0, counts
        assert counts.get(-1, 0) == 0, counts

        # enforced once it returned: probe left org0, newbie joined it
        assert requests.get(url, headers={"Coder-Session-Token": probe},
                            timeout=5).status_code == 403
        assert requests.get(url, headers={"Coder-Session-Token":
                                          "tnew-" + secret},
                            timeout=5).status_code == 200


# ---- what a person at a terminal sees ----

def test_dry_run_summary_before_the_keys_and_no_progress_when_piped(
        tmp_path):
    a = write(tmp_path, "a.json", policy(30))
    with RedisServer(tmp_path / "redis") as rs:
        assert run(rs, "apply", "-f", a).returncode == 0
        b = policy(40, extra_users=[])
        b["users"][3]["status"] = "suspended"
        r = run(rs, "apply", "-f", write(tmp_path, "b.json", b), "--dry-run")
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        assert lines[0] == "# user: 10 added, 1 changed, 0 removed", lines
        assert sorted(lines[1:]) == sorted(
            ["~ rbac:user:u3"] + ["+ rbac:user:u%d" % i
                                  for i in range(30, 40)])
        assert "dry run, 11 key(s) would change" in r.stderr
        assert rs.client().get("rbac:user:u35") is None
        # stderr is a pipe here: no progress line (no carriage return)
        assert "\r" not in r.stderr
