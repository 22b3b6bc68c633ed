"""References and rbacctl (docs/references.md): apply writes the name
references of the names a policy declares and moves them when a name
changes, `references` in policy files (apply, export, --prune, --dry-run),
`rbacctl ref`, a reference changed or removed with rbacctl followed on the
very next request by every worker of two nginx, and `rbacctl check`
agreeing with the module on a generated matrix of reference and id forms."""

import itertools
import json
import os
import subprocess

from conftest import BUILD, HS_SECRET, SLOW, jwt_hs, proxy, rbacctl_on
from test_module_cache import all_subscribed, publish  # noqa: F401
from test_module_refs import (AG, B1, BX, G1, LOCATIONS, OA, OB, T1, UA, UB,
                              UC, V1, W1, W2, seed)

RBACCTL = os.path.join(BUILD, "rbacctl")


def refs(redis):
    c = redis.client()
    return {k[len("rbac:ref:"):]: json.loads(c.get(k))
            for k in c.scan_iter("rbac:ref:*")}


POLICY = {
    "organizations": [{"id": OA, "name": "Acme", "default": True},
                      {"id": OB, "name": "Beta"}],
    "users": [{"id": UA, "username": "Alice", "orgs": {OA: []}},
              {"id": UC, "username": "carol", "orgs": {OB: []}}],
    "groups": [{"id": G1, "org": OA, "name": "Admins"}],
    "objects": [{"type": "workspace", "id": W1, "org": OA, "owner": UA,
                 "name": "Dev"},
                {"type": "template", "id": T1, "org": OA, "name": "Go"}],
    "references": [{"ref": "build:{%s}" % B1.upper(), "type": "workspace",
                    "id": W1}],
}


def apply(redis, tmp_path, policy, *flags):
    f = tmp_path / "policy.json"
    f.write_text(json.dumps(policy))
    return rbacctl_on(redis, "apply", "-f", str(f), *flags)


def auto(type_, id_):
    return {"type": type_, "id": id_, "auto": True}


def test_apply_writes_name_references(redis, tmp_path):
    r = apply(redis, tmp_path, POLICY, "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "+ rbac:ref:workspace:alice/dev" in r.stdout
    assert refs(redis) == {}
    r = apply(redis, tmp_path, POLICY)
    assert r.returncode == 0, r.stderr
    assert refs(redis) == {
        "orgname:acme": auto("organization", OA),
        "orgname:default": auto("organization", OA),
        "orgname:beta": auto("organization", OB),
        "username:alice": auto("user", UA),
        "username:carol": auto("user", UC),
        "workspace:%s/dev" % UA: auto("workspace", W1),
        "workspace:alice/dev": auto("workspace", W1),
        "template:%s/go" % OA: auto("template", T1),
        "template:acme/go": auto("template", T1),
        "template:default/go": auto("template", T1),
        "group:%s/Admins" % OA: auto("group", G1),
        "group:acme/Admins": auto("group", G1),
        "group:default/Admins": auto("group", G1),
        "build:" + B1: {"type": "workspace", "id": W1},
    }
    # export: the references set by hand only; apply of it changes nothing
    r = rbacctl_on(redis, "export")
    assert r.returncode == 0, r.stderr
    exported = json.loads(r.stdout)
    assert exported["references"] == [
        {"type": "workspace", "id": W1, "ref": "build:" + B1}]
    r = apply(redis, tmp_path, exported, "--prune")
    assert r.returncode == 0 and r.stdout == "", r.stdout + r.stderr


def test_renames_move_references(redis, tmp_path):
    assert apply(redis, tmp_path, POLICY).returncode == 0
    p = json.loads(json.dumps(POLICY))
    p["users"][0]["username"] = "Alicia"
    p["organizations"][0]["name"] = "Acme2"
    p["organizations"][0]["default"] = False
    p["objects"][1]["name"] = "Go2"
    r = apply(redis, tmp_path, p)
    assert r.returncode == 0, r.stderr
    got = refs(redis)
    for gone in ("username:alice", "workspace:alice/dev", "orgname:acme",
                 "orgname:default", "template:acme/go", "template:%s/go" % OA,
                 "group:acme/Admins", "group:default/Admins"):
        assert gone not in got, gone
    assert got["workspace:alicia/dev"] == auto("workspace", W1)
    assert got["template:acme2/go2"] == auto("template", T1)
    assert got["group:acme2/Admins"] == auto("group", G1)
    # an object that goes takes its names with it
    del p["objects"][0]
    del p["references"]
    r = apply(redis, tmp_path, p, "--prune")
    assert r.returncode == 0, r.stderr
    got = refs(redis)
    assert not [k for k in got if k.startswith(("workspace:", "build:"))]


def test_name_conflicts_refused(redis, tmp_path):
    p = json.loads(json.dumps(POLICY))
    p["objects"].append(dict(p["objects"][0], id="w-other", name="DEV"))
    r = apply(redis, tmp_path, p)
    assert r.returncode == 2
    assert "two objects have this name" in r.stderr
    assert refs(redis) == {}
    # a reference set by hand is not overwritten by a name
    assert rbacctl_on(redis, "ref", "set", "orgname:acme",
                      "organization:" + OB).returncode == 0
    r = apply(redis, tmp_path, POLICY)
    assert r.returncode == 2 and "set by hand" in r.stderr


def test_policy_references_checked(redis, tmp_path):
    for bad, err in [
            ({"ref": "build:nope", "type": "workspace", "id": W1},
             "is not a UUID"),
            ({"ref": "build:" + B1, "type": "template", "id": T1},
             "does not fit"),
            ({"ref": "username:me", "type": "user", "id": UA},
             "names an id"),
            ({"ref": "agent:" + AG, "type": "workspace", "id": "w-none"},
             "no obj:workspace \"w-none\""),
            ({"type": "workspace", "id": W1}, "a reference is")]:
        p = dict(POLICY, references=[bad])
        r = apply(redis, tmp_path, p)
        assert r.returncode == 2 and err in r.stderr, (bad, r.stderr)
        assert refs(redis) == {}


def test_edits_keep_name_references(redis):
    """Every transactional write (here `org create|update --name`) keeps
    the references of the names it changes; two objects with one name are
    refused."""
    r = rbacctl_on(redis, "org", "create", OA, "--name", "Acme")
    assert r.returncode == 0, r.stderr
    assert refs(redis) == {"orgname:acme": {"type": "organization",
                                            "id": OA, "auto": True}}
    r = rbacctl_on(redis, "org", "update", OA, "--name", "Acme2")
    assert r.returncode == 0, r.stderr
    assert "- rbac:ref:orgname:acme\n" in r.stdout
    assert list(refs(redis)) == ["orgname:acme2"]
    r = rbacctl_on(redis, "org", "create", OB, "--name", "ACME2")
    assert r.returncode == 2 and "two objects have this name" in r.stderr
    assert redis.client().get("rbac:org:" + OB) is None
    # a reference set by hand is not replaced by a name
    assert rbacctl_on(redis, "ref", "set", "orgname:beta",
                      "organization:" + OA).returncode == 0
    r = rbacctl_on(redis, "org", "create", OB, "--name", "Beta")
    assert r.returncode == 2 and "set by hand" in r.stderr


def test_ref_verb(redis):
    r = rbacctl_on(redis, "ref", "set", "workspace:Bob/My-WS", "workspace:w9")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "+ rbac:ref:workspace:bob/my-ws\n"
    r = rbacctl_on(redis, "ref", "get", "workspace:BOB/my-ws")
    assert r.returncode == 0 and json.loads(r.stdout) == {
        "type": "workspace", "id": "w9"}
    r = rbacctl_on(redis, "ref", "set", "workspace:bob/my-ws", "template:t9")
    assert r.returncode == 2 and "does not fit" in r.stderr
    r = rbacctl_on(redis, "ref", "delete", "workspace:bob/MY-WS")
    assert r.returncode == 0 and r.stdout == "- rbac:ref:workspace:bob/my-ws\n"
    assert rbacctl_on(redis, "ref", "get",
                      "workspace:bob/my-ws").returncode == 1
    r = rbacctl_on(redis, "ref", "key", "@workspace:me/Dev", "--caller", UA)
    assert r.stdout == "key ref:workspace:%s/dev\n" % UA
    r = rbacctl_on(redis, "ref", "key", "@uuid:urn:uuid:" + W1.upper())
    assert r.stdout == "id %s\n" % W1
    r = rbacctl_on(redis, "ref", "key", "@build:x")
    assert r.returncode == 1 and r.stdout == "refused: is not a UUID\n"


def two_nginx(nginx, tmp_path, upstream, redis):
    (tmp_path / "hs.key").write_bytes(HS_SECRET)
    out = []
    for zone in ("a", "b"):
        http = """
    rbac_redis 127.0.0.1:%d timeout=%dms;
    rbac_jwt_key %s alg=HS256;
    rbac_cache_zone %s:1m;
""" % (redis.port, 500 * SLOW, tmp_path / "hs.key", zone)
        n = nginx(http, LOCATIONS % {"p": proxy(upstream)}, workers=2)
        all_subscribed(n, 2)
        out.append(n)
    return out


def test_ref_change_followed_by_every_worker(nginx, redis, upstream,
                                             tmp_path):
    seed(redis.client())
    a, b = two_nginx(nginx, tmp_path, upstream, redis)
    tok = jwt_hs(UA)
    path = "/builds/" + BX.upper()
    rounds = [(("set", "build:" + BX, "workspace:" + W1), 200, ""),
              (("set", "build:" + BX, "workspace:" + W2), 403, "carol"),
              (("delete", "build:" + BX), 403,
               "reference build:%s not found" % BX),
              (("set", "build:" + BX, "workspace:" + W1), 200, "")]
    for args, want, why in rounds:
        r = rbacctl_on(redis, "ref", *args)
        assert r.returncode == 0, r.stderr
        for n in (a, b):
            for _ in range(6):     # both workers of each nginx
                resp = n.get(path, token=tok)
                assert resp.status_code == want, (args, resp.text)
                if why == "carol":
                    assert resp.json()["detail"] != "" and \
                        "not found" not in resp.json()["detail"]
                elif why:
                    assert resp.json()["detail"] == why


# --------------------------------------------------------------------------
# rbacctl check and the module, on a generated matrix

# location -> (object type, id, org, owner, action) for rbacctl check
ROUTES = [
    ("/users/%s/workspace/%s", "workspace", "@workspace:{0}/{1}", None, None),
    ("/orgs/%s/templates/%s", "template", "@template:{0}/{1}",
     "@orgname:{0}", None),
    ("/orgs/%s/groups/%s", "group", "@group:{0}/{1}", None, None),
    ("/orgs/%s/members/%s/workspaces", "workspace", "", "@orgname:{0}",
     "@username:{1}"),
]
SINGLE = [
    ("/orgs/%s", "organization", "@orgname:{0}"),
    ("/users/%s", "user", "@username:{0}"),
    ("/builds/%s", "workspace", "@build:{0}"),
    ("/agents/%s", "workspace", "@agent:{0}"),
    ("/versions/%s", "template", "@version:{0}"),
    ("/keys/%s", "user", "@apikey:{0}"),
    ("/ws/%s", "workspace", "@uuid:{0}"),
]

USERS = ["alice", "ALICE", "me", UA, UA.upper(), "{%s}" % UA, "carol",
         "nobody"]
ORGS = ["acme", "AcMe", OA, OA.replace("-", ""), "beta", "urn:uuid:" + OB,
        "nope"]
NAMES = ["dev", "DEV", "go", "Go", "Admins", "admins", "x"]
IDS = [W1, W1.upper(), "{%s}" % W1, "urn:uuid:" + W1, B1, B1.replace("-", ""),
       BX, AG, V1, V1.upper(), "KeyA1", "keya1", "not-a-uuid", W2, T1]


def matrix():
    for pat, type_, id_, org, owner in ROUTES:
        if pat.startswith("/users"):
            pairs = itertools.product(USERS, NAMES)
        elif "members" in pat:
            pairs = itertools.product(ORGS, USERS)
        else:
            pairs = itertools.product(ORGS, NAMES)
        for p, s in pairs:
            yield (pat % (p, s), type_, id_.format(p, s) if id_ else "",
                   org.format(p, s) if org else None,
                   owner.format(p, s) if owner else None,
                   "create" if "members" in pat else "read")
    for pat, type_, id_ in SINGLE:
        values = ORGS if "orgname" in id_ else USERS if "username" in id_ \
            else IDS
        for v in values:
            yield pat % v, type_, id_.format(v), None, None, "read"


def test_check_agrees_with_module(nginx, redis, upstream, tmp_path):
    seed(redis.client())
    (tmp_path / "hs.key").write_bytes(HS_SECRET)
    http = """
    rbac_redis 127.0.0.1:%d timeout=%dms;
    rbac_jwt_key %s alg=HS256;
""" % (redis.port, 500 * SLOW, tmp_path / "hs.key")
    n = nginx(http, LOCATIONS % {"p": proxy(upstream)})
    rows = 0
    statuses = set()
    for path, type_, id_, org, owner, action in matrix():
        for uid in (UA, UB, UC):
            resp = n.get(path, token=jwt_hs(uid),
                         method="POST" if action == "create" else "GET")
            args = ["check", "--user", uid, "--action", action, "--object",
                    type_ + (":" + id_ if id_ else ""), "--explain"]
            if org is not None:
                args += ["--org", org]
            if owner is not None:
                args += ["--owner", owner]
            r = rbacctl_on(redis, *args)
            assert r.returncode in (0, 1), (path, r.stderr)
            assert (resp.status_code == 200) == (r.returncode == 0), \
                (path, uid, resp.text, r.stdout)
            if resp.status_code != 200:
                assert resp.status_code in (400, 403), resp.text
                reason = r.stdout.split("reason: ")[1].split("\n")[0]
                assert resp.json()["detail"] == reason, (path, uid)
            statuses.add(resp.status_code)
            rows += 1
    assert statuses == {200, 400, 403}
    assert rows > 400


# --------------------------------------------------------------------------
# @uuid accepts exactly what Go's uuid.Parse (Coder's) accepts, in one form

GO_PARSE = r'''
package main

import (
	"bufio"
	"fmt"
	"os"

	"github.com/google/uuid"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		u, err := uuid.Parse(in.Text())
		if err != nil {
			fmt.Println("-")
		} else {
			fmt.Println(u.String())
		}
	}
}
'''


def spellings():
    u = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    forms = [u, u.upper(), "{%s}" % u, "urn:uuid:" + u, "URN:UUID:" + u,
             "urn:UUID:" + u.upper(), u.replace("-", ""),
             u.replace("-", "").upper(), "x%sy" % u, "(%s)" % u,
             "{%s" % u, "%s}" % u, "urn:uuid-" + u, "uuid:" + u, u[:-1],
             u + "0", u.replace("-", "_"), u[:8] + u[9:], "-" + u[1:],
             u.replace("-", "")[:-1] + "g", "{" + u.replace("-", "") + "}",
             "urn:uuid:" + u.replace("-", ""), " " + u, u + " ", "",
             "g" + u[1:], u[:13] + "x" + u[14:], "%s%s" % (u[:35], "Z"),
             "0" * 32, "f" * 32, "urn:uuid:%s " % u[:-1]]
    return forms


def test_uuid_spellings_match_go(tmp_path):
    src = tmp_path / "parse.go"
    src.write_text(GO_PARSE)
    env = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode",
               GOCACHE=str(tmp_path / "gocache"), GOFLAGS="")
    exe = tmp_path / "parse"
    b = subprocess.run(["go", "build", "-o", str(exe), str(src)], env=env,
                       capture_output=True, text=True, timeout=300)
    assert b.returncode == 0, b.stderr
    forms = spellings()
    go = subprocess.run([str(exe)], input="\n".join(forms) + "\n",
                        capture_output=True, text=True, timeout=60)
    want = go.stdout.split("\n")[:len(forms)]
    accepted = 0
    for form, expect in zip(forms, want):
        r = subprocess.run([RBACCTL, "ref", "key", "@uuid:" + form],
                           capture_output=True, text=True, timeout=30)
        if expect == "-":
            assert r.returncode == 1, (form, r.stdout)
        else:
            assert r.stdout == "id %s\n" % expect, (form, r.stdout)
            accepted += 1
    assert accepted >= 10


# ---- bulk writers: the feed and a large apply ----

def feed(redis, *lines):
    env = dict(os.environ, RBAC_REDIS=redis.url)
    return subprocess.run([RBACCTL, "feed"], env=env, capture_output=True,
                          text=True, timeout=30,
                          input="".join(json.dumps(x) + "\n" for x in lines))


def test_feed_keeps_name_references(redis, tmp_path):
    assert apply(redis, tmp_path, POLICY).returncode == 0
    ws2 = {"type": "workspace", "id": W2, "org": OA, "owner": UA,
           "name": "Web"}
    r = feed(redis,
             {"op": "upsert", "kind": "obj", "record": ws2},
             {"op": "upsert", "kind": "obj",
              "record": dict(POLICY["objects"][0], name="Dev2")},
             {"op": "upsert", "kind": "ref",
              "record": {"ref": "agent:" + AG, "type": "workspace",
                         "id": W2}},
             {"op": "upsert", "kind": "ref",
              "record": {"ref": "version:" + V1, "type": "template",
                         "id": "no-such-template"}})
    assert r.returncode == 2, r.stderr
    assert "line 4:" in r.stderr and "no-such-template" in r.stderr
    got = refs(redis)
    auto = {"type": "workspace", "id": W2, "auto": True}
    assert got["workspace:%s/web" % UA] == auto
    assert got["workspace:alice/web"] == auto
    assert got["workspace:alice/dev2"]["id"] == W1
    assert "workspace:alice/dev" not in got
    assert "workspace:%s/dev" % UA not in got
    assert got["agent:" + AG] == {"type": "workspace", "id": W2}
    assert "version:" + V1 not in got

    # a renamed owner moves its workspaces' references; a delete drops them
    r = feed(redis,
             {"op": "upsert", "kind": "user",
              "record": dict(POLICY["users"][0], username="Alicia")},
             {"op": "delete", "key": "obj:workspace:" + W2},
             {"op": "delete", "key": "ref:agent:" + AG})
    assert r.returncode == 0, r.stderr
    got = refs(redis)
    assert got["workspace:alicia/dev2"]["id"] == W1
    assert "workspace:alice/dev2" not in got
    assert not [k for k in got if k.endswith("/web")]
    assert "username:alicia" in got and "username:alice" not in got
    assert "agent:" + AG not in got


def test_feed_refuses_a_name_claimed_twice(redis, tmp_path):
    assert apply(redis, tmp_path, POLICY).returncode == 0
    ws2 = {"type": "workspace", "id": W2, "org": OA, "owner": UA,
           "name": "dev"}
    r = feed(redis, {"op": "upsert", "kind": "obj", "record": ws2})
    assert r.returncode == 2
    assert "two objects have this name" in r.stderr
    assert redis.client().get("rbac:obj:workspace:" + W2) is None
    assert refs(redis)["workspace:alice/dev"]["id"] == W1


def applied_in_batches(redis, tmp_path, pol, c):
    """Applies pol; the named records cost batched reads, not a WATCH and
    a GET each (c's command counts were reset before)."""
    r = apply(redis, tmp_path, pol)
    assert r.returncode == 0, r.stderr
    st = c.info("commandstats")
    calls = {k[len("cmdstat_"):]: v["calls"] for k, v in st.items()}
    assert calls.get("watch", 0) < 20 and calls.get("get", 0) < 20, calls


def test_apply_of_named_records_reads_in_batches(redis, tmp_path):
    """No round trip per named record: the stored values, parents and
    references are read with a few MGETs, not a WATCH and GET each."""
    n = 300
    users = [{"id": "u%d" % i, "username": "user%d" % i, "orgs": {OA: []}}
             for i in range(n)]
    objs = [{"type": "workspace", "id": "w%d" % i, "org": OA,
             "owner": "u%d" % i, "name": "ws"} for i in range(n)]
    pol = {"organizations": POLICY["organizations"], "users": users,
           "objects": objs}
    c = redis.client()
    c.config_resetstat()
    applied_in_batches(redis, tmp_path, pol, c)
    got = refs(redis)
    assert got["workspace:user7/ws"] == {"type": "workspace", "id": "w7",
                                         "auto": True}
    assert got["workspace:u7/ws"]["id"] == "w7"
    # a rename of every user moves every workspace's reference, batched too
    for u in users:
        u["username"] = "x" + u["username"]
    c.config_resetstat()
    applied_in_batches(redis, tmp_path, pol, c)
    got = refs(redis)
    assert got["workspace:xuser7/ws"]["id"] == "w7"
    assert "workspace:user7/ws" not in got


def test_hand_reference_does_not_replace_a_name(redis, tmp_path):
    """A reference set by hand (ref set, the feed's ref kind, a policy's
    references) may not take the place of one a name gives while the
    object keeps that name: the module would decide on another object
    than the one the upstream serves under that name."""
    assert apply(redis, tmp_path, POLICY).returncode == 0
    ws2 = {"type": "workspace", "id": W2, "org": OA, "owner": UA,
           "name": "Web"}
    assert feed(redis, {"op": "upsert", "kind": "obj",
                        "record": ws2}).returncode == 0
    name = {"ref": "workspace:alice/dev", "type": "workspace", "id": W2}

    r = feed(redis, {"op": "upsert", "kind": "ref", "record": name})
    assert r.returncode == 2 and "a name gives" in r.stderr, r.stderr
    r = rbacctl_on(redis, "ref", "set", "workspace:%s/dev" % UA,
                   "workspace:" + W2)
    assert r.returncode == 2 and "a name gives" in r.stderr, r.stderr
    r = apply(redis, tmp_path, dict(POLICY, references=[name]))
    assert r.returncode == 2 and "a name gives" in r.stderr, r.stderr
    got = refs(redis)
    assert got["workspace:alice/dev"] == auto("workspace", W1)
    assert got["workspace:%s/dev" % UA] == auto("workspace", W1)

    # once the object gives the name up, the reference may be set by hand
    r = feed(redis,
             {"op": "upsert", "kind": "obj",
              "record": dict(POLICY["objects"][0], name="Dev2")},
             {"op": "upsert", "kind": "ref", "record": name})
    assert r.returncode == 0, r.stderr
    assert refs(redis)["workspace:alice/dev"] == {"type": "workspace",
                                                  "id": W2}
