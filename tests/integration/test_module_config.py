"""`nginx -t` refuses every misconfiguration of docs/directives.md with a
message naming the directive, and accepts a correct configuration."""

import pytest

from conftest import HS_SECRET, http_conf, proxy


def check(nginx, http="", server=""):
    n = nginx(http=http, server=server, run=False)
    return n.test_config()


def test_valid_configuration_passes(nginx, keys, upstream):
    rc, out = check(nginx,
                    http=http_conf(6379, jwt_key=keys["hs"]) +
                    "    rbac_jwt_issuer https://idp.example;\n"
                    "    rbac_jwt_audience coder;\n"
                    "    rbac_jwt_leeway 10s;\n",
                    server="location /w/ { rbac on; rbac_object workspace "
                           "id=$arg_id; rbac_action read; %s }"
                           % proxy(upstream))
    assert rc == 0, out


@pytest.mark.parametrize("http,server,message", [
    ("", "location / { rbac on; }",
     '"rbac" is enabled but no "rbac_redis"'),
    ("rbac_redis localhost:6379;", "",
     '"localhost" is a host name, and no "resolver" is set'),
    ("rbac_redis localhost:6379 ssl_verify=off;", "",
     '"ssl_verify=off" needs "ssl"'),
    ("rbac_redis 127.0.0.1:6379 ssl ssl_certificate=/x.pem;", "",
     'no "ssl_certificate_key=" for "ssl_certificate=/x.pem"'),
    ("rbac_redis 127.0.0.1:6379 ssl ssl_protocols=TLSv1;", "",
     'unknown protocol "TLSv1"'),
    ("rbac_redis 127.0.0.1:6379 user=proxy;", "",
     '"user=" needs "password="'),
    ("rbac_redis 127.0.0.1:6379 ssl "
     "ssl_trusted_certificate=/nonexistent/ca.pem;", "",
     "/nonexistent/ca.pem"),
    ("rbac_redis 127.0.0.1:99999;", "",
     "invalid address"),
    ("rbac_redis 127.0.0.1:6379 bogus=1;", "",
     'invalid parameter "bogus=1"'),
    ("rbac_redis 127.0.0.1:6379 timeout=soon;", "",
     'invalid "timeout=soon"'),
    ("rbac_redis 127.0.0.1:6379 password=/nonexistent/pw;", "",
     "password"),
    ("rbac_redis 127.0.0.1:6379;",
     "location / { rbac on; rbac_object spaceship; }",
     'unknown resource type "spaceship"'),
    ("rbac_redis 127.0.0.1:6379;",
     "location / { rbac on; satisfy any; allow 127.0.0.1; }",
     'satisfy any'),
    ("rbac_redis 127.0.0.1:6379;",
     "location / { rbac on; rbac_principals robot; }",
     'unknown kind "robot"'),
    ("rbac_redis 127.0.0.1:6379;",
     "location / { rbac maybe; }",
     'invalid value "maybe"'),
    # any_org with id= would let an admin of any org act on the object
    ("rbac_redis 127.0.0.1:6379;",
     "location / { rbac on; rbac_object workspace id=$arg_id any_org; }",
     '"any_org" names no object'),
    ("rbac_redis 127.0.0.1:6379;",
     "location / { rbac on; rbac_token $http_x type=magic; }",
     'type=magic'),
    ("rbac_redis 127.0.0.1:6379; rbac_jwt_key /nonexistent.key alg=HS256;",
     "", "rbac_jwt_key"),
    ("rbac_redis 127.0.0.1:6379; rbac_jwt_leeway 10m;", "",
     "rbac_jwt_leeway"),
])
def test_misconfiguration_fails(nginx, http, server, message):
    rc, out = check(nginx, http=http, server=server)
    assert rc != 0
    assert message in out, out


def test_hs_key_holding_a_pem_is_refused(nginx, keys):
    rc, out = check(nginx, http="rbac_redis 127.0.0.1:6379; "
                    "rbac_jwt_key %s alg=HS256;" % keys["rsa_pub"])
    assert rc != 0
    assert "rbac_jwt_key" in out and keys["rsa_pub"] in out, out


def test_key_type_must_fit_alg(nginx, keys):
    rc, out = check(nginx, http="rbac_redis 127.0.0.1:6379; "
                    "rbac_jwt_key %s alg=RS256;" % keys["ec_pub"])
    assert rc != 0
    assert "rbac_jwt_key" in out, out


def test_unknown_alg_is_refused(nginx, keys):
    rc, out = check(nginx, http="rbac_redis 127.0.0.1:6379; "
                    "rbac_jwt_key %s alg=none;" % keys["hs"])
    assert rc != 0
    assert 'unsupported "alg=none"' in out, out


def test_catalog_that_does_not_parse_is_refused(nginx, tmp_path):
    bad = tmp_path / "roles.json"
    bad.write_text("{ not json")
    rc, out = check(nginx, http="rbac_redis 127.0.0.1:6379; "
                    "rbac_roles %s;" % bad)
    assert rc != 0
    assert "rbac_roles" in out, out
