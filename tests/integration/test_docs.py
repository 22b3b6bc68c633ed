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
