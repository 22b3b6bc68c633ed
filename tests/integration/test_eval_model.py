"""`rbacctl eval` against an independent Python model of
docs/authorization.md §2.

Random decision requests built from unvalidated custom roles (negations,
wildcards, unknown names), random orgs, owners, ACLs, any_org objects and
scope objects with org levels and allow lists; the model's answer is the
request's "allow" and `rbacctl eval --check` must agree on every one.
"""

import json
import os
import random
import subprocess

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("RBAC_BUILD", os.path.join(ROOT, "build"))
RBACCTL = os.path.join(BUILD, "rbacctl")
NEG = 0.15


TYPES=["workspace","template","file","group","random_t"]
ACTS=["read","update","delete","ssh","share","use","fly"]
ORGS=["oA","oB","oC"]
USERS=["u1","u2","*",""]
GROUPS=["g1","g2","oA","oB"]
def rperm():
    return {"negate": random.random()<NEG,
            "resource_type": random.choice(TYPES+["*"]),
            "action": random.choice(ACTS+["*"])}
def rperms():
    return [rperm() for _ in range(random.randint(0,3))]
def rrole():
    return {l: rperms() for l in ["site","user","org","member"] if random.random()<0.6}
def rscope():
    r=random.random()
    if r<0.4: return None
    s={"name":"s","site":rperms()+([{"resource_type":"*","action":"*"}] if random.random()<0.5 else []),"user":rperms()}
    s["orgs"]={o:{"org":rperms(),"member":rperms()} for o in random.sample(ORGS,random.randint(0,2))}
    if random.random()<0.7:
        s["allow_list"]=[{"type":random.choice(TYPES+["*"]),"id":random.choice(["x1","x2","*",""])} for _ in range(random.randint(0,2))]
    return s
def ok_name(t, known):  # unknown names only matched by "*"
    return t in known
KT={"workspace","template","file","group"}; KA={"read","update","delete","ssh","share","use"}
def match(p,T,A):
    tt=p["resource_type"]; aa=p["action"]
    tm = tt=="*" or (tt==T and tt in KT)
    am = aa=="*" or (aa==A and aa in KA)
    return tm and am
def vote(perms,T,A):
    m=[p for p in perms if match(p,T,A)]
    if any(p.get("negate") for p in m): return -1
    if m: return 1
    return 0
def decide(req):
    s=req["subject"]; o=req["object"]; A=req["action"]; T=o["type"]
    roles=req["custom_roles"]
    site_roles=[roles[n] for n in s["site_roles"] if n in roles]
    org_roles={org:[roles[n] for n in rl if n in roles] for org,rl in s["orgs"].items()}
    allr=site_roles+[r for rl in org_roles.values() for r in rl]
    mem=set(s["orgs"].keys())
    any_org=o.get("any_org",False)
    oorg="" if any_org else o["org"]
    owner=o["owner"]; sid=s["id"]
    owned = owner!="" and owner==sid and owner!="*"
    def lv(rs,l): return [p for r in rs for p in r.get(l,[])]
    site=vote(lv(allr,"site"),T,A)
    user=vote(lv(allr,"user"),T,A) if owned and oorg=="" and not any_org else 0
    ov={o_:vote(lv(org_roles[o_],"org"),T,A) for o_ in mem}
    mv={o_:vote(lv(org_roles[o_],"member"),T,A) for o_ in mem}
    def levels(site,user,ov,mv):
        if not any_org:
            org = 1 if oorg in ov and ov[oorg]==1 else 0
            om = 1 if owned and oorg in mv and mv[oorg]==1 and ov[oorg]!=-1 else 0
        else:
            org = max(ov.values()) if ov else 0
            om = (max(mv.values()) if mv else 0) if owned else 0
        return site==1 or (site!=-1 and user==1) or (site!=-1 and org==1) or (site!=-1 and org!=-1 and om==1)
    role_allow=levels(site,user,ov,mv)
    is_mem=(not any_org and oorg!="" and oorg in mem) or (any_org and len(mem)>0)
    def aclm(v):
        if isinstance(v,str): return False
        return "*" in v or (A in v and A in KA)
    acl=False
    if is_mem:
        au=o.get("acl_users",{}); ag=o.get("acl_groups",{})
        if sid in au and aclm(au[sid]): acl=True
        for g in s["groups"]:
            if g in ag and aclm(ag[g]): acl=True
        if oorg in ag and aclm(ag[oorg]): acl=True
    sc=s.get("scope")
    if sc is None: scope_ok=True
    else:
        ss=vote(sc["site"],T,A)
        su=vote(sc["user"],T,A) if owned and oorg=="" and not any_org else 0
        so={o_:vote(sc["orgs"].get(o_,{}).get("org",[]),T,A) for o_ in mem}
        sm={o_:vote(sc["orgs"].get(o_,{}).get("member",[]),T,A) for o_ in mem}
        al=sc.get("allow_list",[{"type":"*","id":"*"}])
        def inl(L):
            for e in L:
                if e["type"]=="*" or (e["type"]==T and T in KT):
                    if e["id"]=="*" or e["id"]==o["id"]: return True
            return False
        scope_ok=inl(al) and levels(ss,su,so,sm)
    return (role_allow or acl) and scope_ok


def generate(seed, n):
    random.seed(seed)
    reqs=[]
    for i in range(n):
        names=["r%d"%k for k in range(4)]
        cr={n:rrole() for n in names}
        s={"id":random.choice(["u1","u2"]),"site_roles":random.sample(names+["nope"],random.randint(0,2)),
           "orgs":{o:random.sample(names,random.randint(0,2)) for o in random.sample(ORGS,random.randint(0,3))},
           "groups":random.sample(["g1","g2"],random.randint(0,2))}
        sc=rscope()
        if sc is not None: s["scope"]=sc
        o={"type":random.choice(TYPES),"id":random.choice(["x1","x2",""]),"org":random.choice(ORGS+[""]),
           "owner":random.choice(USERS),
           "acl_users":{u:random.sample(ACTS+["*"],random.randint(0,2)) for u in random.sample(["u1","u2"],random.randint(0,2))},
           "acl_groups":{g:random.sample(ACTS+["*"],random.randint(0,2)) for g in random.sample(GROUPS,random.randint(0,2))}}
        if random.random()<0.15: o["any_org"]=True
        r={"name":"c%d"%i,"subject":s,"object":o,"action":random.choice(ACTS),"custom_roles":cr}
        r["allow"]=decide(r)
        reqs.append(r)
    return reqs


def test_engine_agrees_with_model():
    reqs = generate(20240601, 4000)
    allowed = sum(r["allow"] for r in reqs)
    assert 100 < allowed < len(reqs) - 100      # both answers are exercised
    p = subprocess.run([RBACCTL, "eval", "--check"],
                       input="\n".join(json.dumps(r) for r in reqs) + "\n",
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[:4000]
