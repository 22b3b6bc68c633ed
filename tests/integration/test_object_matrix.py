"""The object resolver, through nginx and through `rbacctl check`: a
generated matrix of every resource type x id given or not (present, absent,
"me") x org= and owner= not given, matching or contradicting the record x
callers with and without rights (the types kept in Redis also as the
object of an rbac_also).  Every row must get the same answer, and
the same reason when denied, from both; the module and rbacctl share one
resolver in core/ (rbac_object_resolve), so a row that disagrees is a bug
in one of the two callers."""

import os
import re
import subprocess
import time

import jwt as pyjwt
import pytest
import requests

from conftest import (BUILD, HS_SECRET, ROOT, SLOW, Nginx, RedisServer,
                      api_token, obj, org, proxy, user)

RBACCTL = os.path.join(BUILD, "rbacctl")


def vocabulary():
    """(type, action) for every resource type of core/rbac_names.h: the
    type's delete action if it has one, else read, else its first."""
    with open(os.path.join(ROOT, "core", "rbac_names.h")) as f:
        text = f.read()
    body = text.split("#define RBAC_TYPES(X)", 1)[1].split("typedef", 1)[0]
    body = body.replace("\\\n", " ")
    out = []
    pattern = r'X\(\w+,\s*"(\w+)",\s*([^X]*?)\)\s*(?=X\(|$)'
    for name, expr in re.findall(pattern, body):
        acts = [a.lower() for a in re.findall(r"RBAC_AM\((\w+)\)", expr)]
        if "RBAC_CRUD" in expr or "RBAC_WS12" in expr:
            acts = ["create", "read", "update", "delete"] + acts
        act = ("delete" if "delete" in acts else
               "read" if "read" in acts else acts[0])
        out.append((name, act))
    return out


TYPES = vocabulary()

# types read from a record with an id: the ids whose record exists
RECORDS = {"workspace": ["x1"], "template": ["x1"], "group": ["x1"],
           "organization": ["orgA"], "user": ["alice", "carol"]}
ABSENT = "x9"
CALLERS = ["root", "adminA", "alice", "bot"]     # bot: an API token


def rows():
    """(type, action, id or None, org, owner, caller); "" = not given."""
    for t, act in TYPES:
        if t in RECORDS:
            ids = [None] + RECORDS[t] + [ABSENT, "me"]
            orgs = ["", "orgA", "orgB"]
            owners = ["", "alice", "bob", "me"]
        else:
            ids = [None, "x1", "me"]
            orgs = ["", "orgA"]
            owners = ["", "alice", "me"]
        for i in ids:
            for o in orgs:
                for w in owners:
                    for c in CALLERS:
                        yield (t, act, i, o, w, c)


@pytest.fixture(scope="module")
def env(tmp_path_factory, upstream):
    tmp = tmp_path_factory.mktemp("matrix")
    (tmp / "hs.key").write_bytes(HS_SECRET)
    rs = RedisServer(tmp / "redis").start()
    r = rs.client()

    org(r, "orgA")
    org(r, "orgB")
    user(r, "root", site_roles=["owner"])
    user(r, "adminA", orgs={"orgA": ["organization-admin"]})
    user(r, "alice", orgs={"orgA": ["organization-workspace-access"]})
    user(r, "carol")
    user(r, "bot", kind="service_account",
         orgs={"orgA": ["organization-auditor"]})
    api_token(r, "tbot", "bot", secret="s3cret")
    obj(r, "workspace", "x1", "orgA", owner="alice")
    obj(r, "template", "x1", "orgA")
    obj(r, "group", "x1", "orgA")

    p = proxy(upstream)
    server = ""
    for t, _ in TYPES:
        server += """
        location = /m/%(t)s/id {
            rbac on; rbac_action $arg_action;
            rbac_object %(t)s id=$arg_id org=$arg_org owner=$arg_owner;
            %(p)s
        }
        location = /m/%(t)s/noid {
            rbac on; rbac_action $arg_action;
            rbac_object %(t)s org=$arg_org owner=$arg_owner;
            %(p)s
        }
""" % {"t": t, "p": p}
    for t in RECORDS:
        # the same objects as a further object of rbac_also, behind one that
        # every caller may read (themselves)
        server += """
        location = /a/%(t)s/id {
            rbac on; rbac_object user id=me; rbac_action read;
            rbac_also %(t)s id=$arg_id org=$arg_org owner=$arg_owner
                      action=$arg_action;
            %(p)s
        }
        location = /a/%(t)s/noid {
            rbac on; rbac_object user id=me; rbac_action read;
            rbac_also %(t)s org=$arg_org owner=$arg_owner action=$arg_action;
            %(p)s
        }
""" % {"t": t, "p": p}

    http = """
    rbac_redis 127.0.0.1:%d timeout=%dms;
    rbac_jwt_key %s alg=HS256;
    rbac_cache_zone rbac:4m;
""" % (rs.port, 500 * SLOW, tmp / "hs.key")
    n = Nginx(tmp / "nginx", http, server).start()
    yield {"nginx": n, "redis": rs}
    problems = n.stop()
    rs.stop()
    assert not problems, problems


def token(sub):
    if sub == "bot":
        return "tbot-s3cret"
    now = int(time.time())
    return pyjwt.encode({"sub": sub, "exp": now + 600, "iat": now},
                        HS_SECRET, algorithm="HS256")


def through_nginx(env, session, tokens, row, base="/m"):
    t, act, i, o, w, c = row
    params = {"action": act, "org": o, "owner": w}
    if i is not None:
        params["id"] = i
    path = "%s/%s/%s" % (base, t, "noid" if i is None else "id")
    r = session.get(env["nginx"].url + path, params=params,
                    headers={"Authorization": "Bearer " + tokens[c]},
                    timeout=10 * SLOW)
    assert r.status_code in (200, 403), (row, r.status_code, r.text)
    if r.status_code == 200:
        return "allow", None
    return "deny", r.json()["detail"]


def through_rbacctl(env, row):
    t, act, i, o, w, c = row
    args = [RBACCTL, "check", "--explain", "--user", c, "--action", act,
            "--object", t if i is None else "%s:%s" % (t, i)]
    if o:
        args += ["--org", o]
    if w:
        args += ["--owner", w]
    p = subprocess.run(args, capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, RBAC_REDIS=env["redis"].url))
    assert p.returncode in (0, 1), (row, p.returncode, p.stderr)
    lines = p.stdout.splitlines()
    reason = [x[len("reason: "):] for x in lines if x.startswith("reason: ")]
    verdict = "allow" if p.returncode == 0 else "deny"
    assert verdict in lines, (row, p.stdout)
    return verdict, (reason[0] if reason and verdict == "deny" else None)


def test_matrix_agrees(env):
    tokens = {c: token(c) for c in CALLERS}
    session = requests.Session()
    seen = {"allow": 0, "deny": 0}
    disagree = []
    n = 0
    for row in rows():
        a = through_nginx(env, session, tokens, row)
        b = through_rbacctl(env, row)
        seen[a[0]] += 1
        n += 1
        if a != b:
            disagree.append((row, a, b))
        if row[0] in RECORDS:
            # through rbac_also: the same resolver, the same answer
            a = through_nginx(env, session, tokens, row, base="/a")
            if a != b:
                disagree.append((row, "rbac_also", a, b))
    assert not disagree, "%d of %d rows disagree, e.g. %r" % (
        len(disagree), n, disagree[:5])
    # the matrix decides both ways, in every part of it
    assert n > 2000
    assert seen["allow"] > n // 10 and seen["deny"] > n // 10, seen


# rows whose answer is known, through both
KNOWN = [
    # an org admin of orgA deleting carol (in no org) by naming orgA: the
    # user's org comes from its record, never from the request
    (("user", "delete", "carol", "orgA", "", "adminA"),
     ("deny", "object org mismatch")),
    (("user", "delete", "carol", "", "", "adminA"), ("deny", None)),
    # not even a member of his org: a user object is in no org (Coder's)
    (("user", "delete", "alice", "orgA", "", "adminA"),
     ("deny", "object org mismatch")),
    (("user", "delete", "alice", "orgB", "", "adminA"),
     ("deny", "object org mismatch")),
    (("user", "delete", None, "orgA", "", "adminA"),
     ("deny", "object org mismatch")),
    (("user", "read", "me", "", "me", "alice"), ("allow", None)),
    (("workspace", "delete", "x1", "orgB", "", "root"),
     ("deny", "object org mismatch")),
    (("workspace", "delete", "x1", "", "bob", "root"),
     ("deny", "object owner mismatch")),
    (("workspace", "delete", "x1", "orgA", "alice", "root"),
     ("allow", None)),
    (("workspace", "delete", ABSENT, "", "", "root"),
     ("deny", "workspace x9 not found")),
    (("template", "delete", "x1", "", "alice", "root"),
     ("deny", "object owner mismatch")),
    (("organization", "delete", "orgA", "orgB", "", "root"),
     ("deny", "object org mismatch")),
    (("organization", "delete", "orgA", "", "alice", "root"),
     ("deny", "object owner mismatch")),
    (("organization", "read", ABSENT, "", "", "root"),
     ("deny", "organization x9 not found")),
    (("file", "read", "x1", "", "me", "alice"), ("allow", None)),
]


@pytest.mark.parametrize("row,want", KNOWN)
def test_known_rows(env, row, want):
    session = requests.Session()
    tokens = {c: token(c) for c in CALLERS}
    got = through_nginx(env, session, tokens, row)
    if want[1] is None:
        got = (got[0], None)
    assert got == want
    got = through_rbacctl(env, row)
    if want[1] is None:
        got = (got[0], None)
    assert got == want
