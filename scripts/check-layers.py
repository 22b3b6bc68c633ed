#!/usr/bin/python3
"""check-layers.py: the shape rules of ngx_rbac's C code, checked on a build.

1. No call cycle between the module's translation units.  The graph is read
   from the built objects with `nm`: file A uses file B when A has an
   undefined symbol that B defines.  The data symbol ngx_http_rbac_module
   is left out (every nginx file names its own module variable: idiom, not
   a call).  The graph is printed top to bottom; any strongly connected
   component of more than one file is a failure.
2. No dead function: a global the module defines that no other file uses
   and whose name its own file does not mention again is never called.
   (nginx reaches the module through ngx_http_rbac_module alone.)  A global
   that only its own file calls is noted, not failed: it could be static.
3. No function longer than MAX_LINES lines in ngx_rbac_module/*.c and
   cli/*.c: the lines of each top-level function body after its `{`, the
   closing `}` included (nginx style: the name at column 0, `{` and `}`
   alone at column 0).
   LENGTH_ALLOW names the functions still allowed to be longer.

Usage:  check-layers.py [--root DIR] [--objs DIR] [--warn-length]
  --root DIR     the source tree (default: the current directory)
  --objs DIR     the module's objects (default: the nginx build's)
  --warn-length  print long functions but do not fail on them
Exit 0 when every rule holds, 1 otherwise.
"""

import argparse
import glob
import os
import re
import subprocess
import sys

MAX_LINES = 150

# nginx's own idiom, not a call: every file names its module variable.
IGNORED = {"ngx_http_rbac_module"}

# Functions still allowed to be longer than MAX_LINES, as "path:name".
# Empty it, and every function must fit.
LENGTH_ALLOW = set()


def nm_symbols(obj):
    """(defined, undefined) global symbols of one object file."""
    out = subprocess.run(["nm", "-g", obj], check=True, capture_output=True,
                         text=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            undefined.add(parts[1])
        elif len(parts) == 3:
            defined.add(parts[2])
    return defined, undefined


def file_graph(objs):
    """{file: {used file: [symbols]}}, and {symbol: file} of the globals
    no other file uses."""
    defs, undefs, owner = {}, {}, {}
    for obj in objs:
        name = os.path.splitext(os.path.basename(obj))[0]
        defs[name], undefs[name] = nm_symbols(obj)
        for sym in defs[name]:
            owner[sym] = name
    graph = {name: {} for name in defs}
    used = set()
    for name, syms in undefs.items():
        for sym in syms:
            if sym in IGNORED or sym not in owner or owner[sym] == name:
                continue
            used.add(sym)
            graph[name].setdefault(owner[sym], []).append(sym)
    unused = {s: owner[s] for s in owner if s not in used and s not in IGNORED}
    return graph, unused


def components(graph):
    """Strongly connected components (Tarjan), each a sorted list."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def levels(graph, comps):
    """Height of each file over the graph of its components: 0 for a file
    that uses none, else one more than the highest file it uses."""
    comp_of = {v: i for i, c in enumerate(comps) for v in c}
    height = {}
    # Tarjan emits a component after every component it reaches
    for i, comp in enumerate(comps):
        h = 0
        for v in comp:
            for w in graph[v]:
                if comp_of[w] != i:
                    h = max(h, height[comp_of[w]] + 1)
        height[i] = h
    return {v: height[comp_of[v]] for v in graph}


def short(name):
    return name.replace("ngx_http_rbac_", "")


def mentions(path, name):
    """How many times the file's text names `name` as a whole word."""
    with open(path, encoding="utf-8", errors="replace") as f:
        return len(re.findall(r"\b" + re.escape(name) + r"\b", f.read()))


TOP = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\(")


def functions(path):
    """(name, line of the name, body lines) of each top-level function."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        m = TOP.match(lines[i])
        if not m:
            i += 1
            continue
        j = i
        while j < len(lines) and lines[j].rstrip() != "{":
            if lines[j].rstrip().endswith(";"):
                break                   # a prototype or a call
            j += 1
        if j >= len(lines) or lines[j].rstrip() != "{":
            i = j + 1
            continue
        k = j + 1
        while k < len(lines) and lines[k].rstrip() != "}":
            k += 1
        out.append((m.group(1), i + 1, k - j))
        i = k + 1
    return out


def check_graph(objs_dir):
    ok = True
    # an object whose source is gone (a file moved) is left out
    objs = sorted(o for o in glob.glob(os.path.join(objs_dir, "*.o"))
                  if os.path.exists(os.path.join(
                      "ngx_rbac_module",
                      os.path.basename(o)[:-2] + ".c")))
    if not objs:
        print(f"check-layers: no objects in {objs_dir}: run make first")
        return False

    graph, unused = file_graph(objs)
    comps = components(graph)
    level = levels(graph, comps)
    order = sorted(graph, key=lambda v: (-level[v], v))

    print("module file graph, top to bottom (file -> the files it calls):")
    for v in order:
        used = sorted(graph[v], key=lambda w: (-level[w], w))
        print(f"  {short(v):12} -> " + " ".join(short(w) for w in used))

    for comp in comps:
        if len(comp) < 2:
            continue
        ok = False
        print("CYCLE between: " + " ".join(short(c) for c in comp))
        for v in comp:
            for w, syms in sorted(graph[v].items()):
                if w in comp:
                    print(f"    {short(v)} -> {short(w)}: "
                          + " ".join(sorted(syms)))

    src = os.path.join("ngx_rbac_module", "{}.c")
    for sym, owner in sorted(unused.items(), key=lambda x: (x[1], x[0])):
        path = src.format(owner)
        if not os.path.exists(path) or mentions(path, sym) < 2:
            ok = False
            print(f"DEAD: {sym} (defined in {short(owner)}, "
                  "called nowhere)")
        else:
            print(f"note: {sym} is called only in {short(owner)}: "
                  "it could be static")
    return ok


def check_lengths(warn_only):
    ok = True
    allowed_seen = set()
    for path in sorted(glob.glob("ngx_rbac_module/*.c")
                       + glob.glob("cli/*.c")):
        for name, line, n in functions(path):
            if n <= MAX_LINES:
                continue
            key = f"{path}:{name}"
            if key in LENGTH_ALLOW:
                allowed_seen.add(key)
                print(f"long (allowed): {path}:{line} {name} {n} lines")
                continue
            print(f"LONG: {path}:{line} {name} {n} lines "
                  f"(over {MAX_LINES})")
            if not warn_only:
                ok = False
    for key in sorted(LENGTH_ALLOW - allowed_seen):
        print(f"note: {key} fits now: drop it from LENGTH_ALLOW")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--root", default=".")
    ap.add_argument("--objs",
                    default="build/nginx-src/objs/addon/ngx_rbac_module")
    ap.add_argument("--warn-length", action="store_true")
    args = ap.parse_args()
    os.chdir(args.root)

    ok = check_graph(args.objs)
    ok = check_lengths(args.warn_length) and ok

    print("check-layers: " + ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
