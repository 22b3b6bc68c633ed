"""The README documents exactly the directives and variables the module
has: every one in the code is in the README's tables, and every one the
README names exists in the code."""

import glob
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def code_names():
    """(directives, variables) registered in ngx_rbac_module/*.c."""
    directives, variables = set(), set()
    for path in glob.glob(os.path.join(ROOT, "ngx_rbac_module", "*.c")):
        src = open(path).read()
        # ngx_command_t entries: { ngx_string("name"), NGX_..._CONF ...
        directives |= set(re.findall(
            r'\{\s*ngx_string\("(rbac[a-z_]*)"\),\s*NGX_HTTP_', src))
        # ngx_http_variable_t entries: { ngx_string("name"), NULL, handler
        variables |= set(re.findall(
            r'\{\s*ngx_string\("(rbac_[a-z_]*)"\),\s*NULL,', src))
    return directives, variables


def readme_names():
    text = open(os.path.join(ROOT, "README.md")).read()
    directives = set(re.findall(r"^\| `(rbac[a-z_]*)[ ;`]", text, re.M))
    variables = set(re.findall(r"`\$(rbac_[a-z_]+)`", text))
    return directives, variables


def test_every_directive_is_documented_and_exists():
    code, _ = code_names()
    readme, _ = readme_names()
    assert "rbac" in code and "rbac_object" in code, code
    assert code - readme == set(), "in the code, not in the README"
    assert readme - code == set(), "in the README, not in the code"


def test_every_variable_is_documented_and_exists():
    _, code = code_names()
    _, readme = readme_names()
    # $rbac_body_<field> is a prefix variable: documented as such
    code = {v for v in code if not v.endswith("_")}
    readme = {v for v in readme if not v.startswith("rbac_body_")}
    assert "rbac_user" in code, code
    assert code - readme == set(), "in the code, not in the README"
    assert readme - code == set(), "in the README, not in the code"


# ---- citations into docs/ ----
#
# Code and documents cite the engineer's documentation as
# "docs/<file>.md §<n>" (a comment may wrap between the two).  Every cited
# file must exist and every cited section must be a heading "## <n>. ..."
# of that file; inside docs/, a bare "§<n>" cites the page it is on.  The
# first design document is not in the repository: nothing cites it.

TEXT_EXT = (".c", ".h", ".py", ".md", ".mk", ".sh", ".conf", ".in",
            ".json", ".jsonl", ".tsv", ".txt")
TEXT_NAMES = ("Makefile", "config", "Dockerfile")
SKIP_DIRS = {".git", "build", "corpus", "__pycache__"}

CITE = re.compile(r"docs/([\w-]+\.md)"
                  r"((?:[\s*#/)`\]]*(?:,|and)?[\s*#/]*§\s*\d+)*)")
SECTION = re.compile(r"§\s*(\d+)")


def tree_texts():
    for top, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            if name.endswith(TEXT_EXT) or name in TEXT_NAMES:
                path = os.path.join(top, name)
                with open(path, encoding="utf-8", errors="replace") as f:
                    yield os.path.relpath(path, ROOT), f.read()


def sections(page):
    with open(os.path.join(ROOT, "docs", page), encoding="utf-8") as f:
        return set(re.findall(r"^#+ (\d+)\. ", f.read(), re.M))


def test_every_cited_docs_section_exists():
    bad, ncited = [], 0
    for rel, text in tree_texts():
        in_docs = rel.startswith("docs" + os.sep)
        covered = set()
        for m in CITE.finditer(text):
            page = m.group(1)
            covered.update(range(m.start(), m.end()))
            if not os.path.isfile(os.path.join(ROOT, "docs", page)):
                bad.append("%s: docs/%s does not exist" % (rel, page))
                continue
            have = sections(page)
            for n in SECTION.findall(m.group(2)):
                ncited += 1
                if n not in have:
                    bad.append("%s: docs/%s has no section %s"
                               % (rel, page, n))
        for m in SECTION.finditer(text):
            if m.start() in covered:
                continue
            if in_docs and m.group(1) in sections(os.path.basename(rel)):
                continue
            line = text.count("\n", 0, m.start()) + 1
            bad.append("%s:%d: \"§%s\" names no page of docs/"
                       % (rel, line, m.group(1)))
    assert bad == [], "\n".join(bad)
    assert ncited > 0, "no citation of docs/ found"


def test_nothing_cites_the_first_design():
    old = re.compile(r"\bDESIGN\b|\broles\.md\b")
    bad = []
    for rel, text in tree_texts():
        for m in old.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            bad.append("%s:%d: %s" % (rel, line, m.group(0)))
    assert bad == [], "cite docs/ instead:\n" + "\n".join(bad)
