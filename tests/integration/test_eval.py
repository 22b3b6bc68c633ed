"""`rbacctl eval`: offline decisions over decision requests
(docs/rbacctl.md §5).

What a user sees: one output line per request line, in order; malformed
lines reported with their line number without stopping the others (exit 2);
`--check` mismatches on stderr (exit 1); `--catalog` replacing the built-in
catalog; stdin when no FILE is given.  No Redis.
"""

import json
import os
import subprocess

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("RBAC_BUILD", os.path.join(ROOT, "build"))
RBACCTL = os.path.join(BUILD, "rbacctl")
SAMPLE = os.path.join(ROOT, "tests", "conformance", "sample.jsonl")


def run(*args, stdin=None):
    return subprocess.run([RBACCTL, "eval"] + list(args), input=stdin,
                          capture_output=True, text=True, timeout=60)


def req(name, roles, action, allow=None, **obj):
    o = {"type": "workspace", "id": "w1", "org": "orgA", "owner": "u2"}
    o.update(obj)
    r = {"name": name,
         "subject": {"id": "u1", "site_roles": roles, "orgs": {},
                     "groups": [], "scope": "all"},
         "object": o, "action": action}
    if allow is not None:
        r["allow"] = allow
    return json.dumps(r)


def lines(out):
    return [json.loads(l) for l in out.splitlines()]


def test_sample_passes_check():
    p = run("--check", SAMPLE)
    assert p.returncode == 0, p.stderr
    with open(SAMPLE) as f:
        n = sum(1 for l in f if l.strip())
    out = lines(p.stdout)
    assert len(out) == n
    assert all(set(o) == {"name", "allow", "reason"} for o in out)


def test_stdin_order_and_reasons():
    text = "\n".join([
        req("a", ["owner"], "read"),
        req("b", ["member"], "read"),
        req("c", ["member", "owner"], "share",
            ),
    ]) + "\n"
    p = run(stdin=text)
    assert p.returncode == 0, p.stderr
    out = lines(p.stdout)
    assert [o["name"] for o in out] == ["a", "b", "c"]
    assert out[0] == {"name": "a", "allow": True,
                      "reason": "site role owner grants workspace:read"}
    assert out[1] == {"name": "b", "allow": False,
                      "reason": "no role or acl grants workspace:read"}
    assert out[2]["allow"] is True


def test_malformed_lines_do_not_stop_the_others():
    text = "\n".join([
        req("first", ["owner"], "read"),
        "{not json",
        json.dumps({"name": "no-subject", "object": {"type": "workspace"},
                    "action": "read"}),
        req("last", ["owner"], "delete"),
    ]) + "\n"
    p = run("-", stdin=text)
    assert p.returncode == 2
    out = lines(p.stdout)
    assert len(out) == 4
    assert out[0]["allow"] is True and out[3]["allow"] is True
    assert out[1] == {"name": "",
                      "error": "line 2: request: not valid JSON"}
    assert out[2] == {"name": "no-subject",
                      "error": "line 3: subject: missing"}
    assert "line 2: request: not valid JSON" in p.stderr
    assert "line 3: subject: missing" in p.stderr


def test_check_reports_mismatches():
    text = "\n".join([
        req("right", ["owner"], "read", allow=True),
        req("wrong", ["member"], "read", allow=True),
        req("unchecked", ["member"], "read"),
    ]) + "\n"
    p = run("--check", stdin=text)
    assert p.returncode == 1
    assert len(lines(p.stdout)) == 3
    err = p.stderr.strip().splitlines()
    assert len(err) == 1
    assert "wrong: expected allow, got deny" in err[0]
    assert "no role or acl grants workspace:read" in err[0]

    # without --check the same input is just answered
    assert run(stdin=text).returncode == 0


def test_catalog_option(tmp_path):
    cat = tmp_path / "roles.json"
    cat.write_text(json.dumps({"roles": [
        {"name": "reader", "kind": "site",
         "site": [{"resource_type": "workspace", "action": "read"}]}]}))
    text = req("r", ["reader", "owner"], "delete") + "\n" + \
        req("r2", ["reader"], "read") + "\n"
    out = lines(run("--catalog", str(cat), stdin=text).stdout)
    assert out[0]["allow"] is False        # no owner in this catalog
    assert out[1] == {"name": "r2", "allow": True,
                      "reason": "site role reader grants workspace:read"}

    bad = tmp_path / "bad.json"
    bad.write_text("{")
    p = run("--catalog", str(bad), stdin=text)
    assert p.returncode == 2
    assert "catalog" in p.stderr
    p = run("--catalog", str(tmp_path / "missing.json"), stdin=text)
    assert p.returncode == 2


def test_usage_errors():
    assert run("--bogus").returncode == 2
    assert run("a", "b").returncode == 2
    assert run("/nonexistent/requests.jsonl").returncode == 2
