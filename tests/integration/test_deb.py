"""test_deb.py: the Debian packages, end to end, on this machine.

`make deb` builds libnginx-mod-http-rbac and rbacctl with dpkg-buildpackage;
apt installs them next to the stock nginx; the stock configuration still
passes `nginx -t` and now loads the module; a minimal `rbac on` server that
uses only installed paths passes `nginx -t`; `apt-get remove` and then
`purge` take everything away, with `nginx -t` passing at each step and no
file left behind.

Needs root, dpkg, apt-get, dpkg-buildpackage, dh_nginx and the stock nginx;
skipped with the reason otherwise.  Installs into the machine itself (no
network is needed: every dependency is already installed).  Everything it
installs is purged in a finalizer, even when an assertion fails.
"""

import os
import shutil
import subprocess
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("RBAC_BUILD", os.path.join(ROOT, "build"))
PKGS = ("libnginx-mod-http-rbac", "rbacctl")
NGINX = "/usr/sbin/nginx"
ENABLED = "/etc/nginx/modules-enabled/50-mod-http-rbac.conf"
AVAILABLE = "/usr/share/nginx/modules-available/mod-http-rbac.conf"
MODULE = "/usr/lib/nginx/modules/ngx_http_rbac_module.so"
CATALOG = "/usr/share/libnginx-mod-http-rbac/roles/coder.json"
ABI_FILE = "/usr/share/nginx/src/debian/libnginx-mod.abisubstvars"

# Trees the packages touch: compared before install and after purge.
WATCHED = ("/etc/nginx", "/usr/lib/nginx/modules",
           "/usr/share/nginx/modules-available", "/usr/share/doc/rbacctl",
           "/usr/share/doc/libnginx-mod-http-rbac",
           "/usr/share/libnginx-mod-http-rbac")


def missing_prereq():
    if os.geteuid() != 0:
        return "not root: installing .deb packages needs root"
    for tool in ("dpkg", "dpkg-query", "apt-get", "dpkg-buildpackage",
                 "dh_nginx", "dh"):
        if shutil.which(tool) is None:
            return "%s not found (apt-get install debhelper dpkg-dev " \
                   "nginx-dev)" % tool
    if not os.access(NGINX, os.X_OK) or not os.path.isfile(ABI_FILE):
        return "stock nginx or nginx-dev not installed"
    for pkg in PKGS:
        if installed(pkg):
            return "%s is already installed on this machine: not touching " \
                   "it" % pkg
    return None


def run(*cmd, timeout=120, check=True, env=None):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=timeout, env=env)
    if check and r.returncode != 0:
        raise AssertionError("%s exited %d:\n%s"
                             % (" ".join(cmd), r.returncode, r.stdout[-4000:]))
    return r


def installed(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", pkg],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       universal_newlines=True)
    return r.returncode == 0 and r.stdout.strip() not in ("", "un", "pn")


def status(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", pkg],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       universal_newlines=True)
    return r.stdout.strip() if r.returncode == 0 else "absent"


def apt_env():
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(k, None)
    return env


def apt(*args):
    return run("apt-get", "-y", "-q", "--no-install-recommends",
               "-o", "DPkg::Lock::Timeout=120", *args,
               timeout=300, env=apt_env())


def tree(paths):
    """Every path (files, dirs, links) under the given roots."""
    seen = set()
    for top in paths:
        if not os.path.lexists(top):
            continue
        seen.add(top)
        for d, dirs, files in os.walk(top):
            for n in dirs + files:
                seen.add(os.path.join(d, n))
    return seen


def stock_nginx_t():
    return run(NGINX, "-t", check=False)


def rbac_conf(tmp):
    """A minimal `rbac on` server loading modules the stock way."""
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""
include /etc/nginx/modules-enabled/*.conf;
pid %(t)s/nginx.pid;
error_log stderr;
events {}
http {
    access_log off;
    client_body_temp_path %(t)s/body;
    proxy_temp_path %(t)s/proxy;
    fastcgi_temp_path %(t)s/fastcgi;
    uwsgi_temp_path %(t)s/uwsgi;
    scgi_temp_path %(t)s/scgi;
    rbac_redis 127.0.0.1:6379;
    rbac_roles %(catalog)s;
    server {
        listen 127.0.0.1:8080;
        location / {
            rbac on;
            return 204;
        }
    }
}
""" % {"t": tmp, "catalog": CATALOG})
    return conf


@pytest.fixture
def packages():
    """Builds the packages (once: `make deb` is a no-op when up to date)."""
    why = missing_prereq()
    if why:
        pytest.skip("Debian package test skipped: " + why)
    if stock_nginx_t().returncode != 0:
        pytest.skip("the stock nginx configuration fails nginx -t already")
    env = apt_env()
    r = run("make", "-C", ROOT, "BUILD=" + BUILD, "deb", timeout=900,
            check=False, env=env)
    assert r.returncode == 0, "make deb failed:\n" + r.stdout[-4000:]
    debs = []
    for pkg in PKGS:
        found = [os.path.join(BUILD, "deb", n)
                 for n in sorted(os.listdir(os.path.join(BUILD, "deb")))
                 if n.startswith(pkg + "_") and n.endswith(".deb")]
        assert len(found) == 1, "expected one %s .deb: %r" % (pkg, found)
        debs.append(found[0])
    yield debs
    # Whatever happened, leave the machine as it was.
    for pkg in PKGS:
        if status(pkg) != "absent":
            subprocess.run(["dpkg", "--purge", pkg], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=120,
                           env=apt_env())


def test_lintian_reports_no_errors(packages):
    if shutil.which("lintian") is None:
        pytest.skip("lintian not installed (apt-get install lintian)")
    r = run("lintian", "--fail-on", "error", "--tag-display-limit", "0",
            *packages, check=False, timeout=300)
    errors = [l for l in r.stdout.splitlines() if l.startswith("E:")]
    assert errors == [] and r.returncode == 0, r.stdout


def test_install_enable_remove_purge(packages):
    before = tree(WATCHED)
    abi = [l.split("=", 1)[1].strip() for l in open(ABI_FILE)
           if l.startswith("nginx:abi=")][0]

    # The module package depends on the exact ABI of the nginx it targets.
    depends = run("dpkg-deb", "-f", packages[0], "Depends").stdout
    assert abi in depends.split(", "), depends

    apt("install", *packages)
    for pkg in PKGS:
        assert status(pkg) == "ii", (pkg, status(pkg))

    # Enabled the Debian way: snippet in modules-available, symlink in
    # modules-enabled, module in nginx's module directory.
    assert os.path.islink(ENABLED)
    assert os.readlink(ENABLED) == AVAILABLE
    with open(AVAILABLE) as f:
        assert f.read().strip() == \
            "load_module modules/ngx_http_rbac_module.so;"
    assert os.path.isfile(MODULE)
    assert os.path.isfile(CATALOG)
    assert os.path.isfile("/usr/share/man/man1/rbacctl.1.gz")
    r = run("/usr/bin/rbacctl", "--help")
    assert "usage: rbacctl" in r.stdout

    # The stock configuration is still valid, and it now loads the module.
    r = stock_nginx_t()
    assert r.returncode == 0, r.stdout
    dump = run(NGINX, "-T").stdout
    assert "load_module modules/ngx_http_rbac_module.so;" in dump

    # A minimal `rbac on` server over the installed paths passes nginx -t.
    files = set()
    for pkg in PKGS:
        files |= set(run("dpkg-query", "-L", pkg).stdout.split())
    tmp = tempfile.mkdtemp(prefix="rbac-deb-")
    try:
        conf = rbac_conf(tmp)
        r = run(NGINX, "-t", "-c", conf, check=False)
        assert r.returncode == 0, r.stdout

        # remove: files gone, the link parked as .removed, nginx -t passes,
        # and the same `rbac on` server is now refused (module not loaded).
        apt("remove", *PKGS)
        # The module keeps its postrm (purge removes the parked link);
        # rbacctl has no maintainer script, so nothing of it remains.
        assert status(PKGS[0]) == "rc", status(PKGS[0])
        assert status(PKGS[1]) in ("un", "absent"), status(PKGS[1])
        assert os.path.islink(ENABLED + ".removed")
        assert not os.path.lexists(ENABLED)
        assert not os.path.exists(MODULE)
        assert not os.path.exists("/usr/bin/rbacctl")
        r = stock_nginx_t()
        assert r.returncode == 0, r.stdout
        r = run(NGINX, "-t", "-c", conf, check=False)
        assert r.returncode != 0
        assert 'unknown directive "rbac' in r.stdout, r.stdout
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    # purge: nothing left, not even the parked link.
    apt("purge", *PKGS)
    for pkg in PKGS:
        assert status(pkg) in ("absent", "un"), (pkg, status(pkg))
    r = stock_nginx_t()
    assert r.returncode == 0, r.stdout
    left = [p for p in files if os.path.lexists(p) and p not in before
            and not os.path.isdir(p)]
    assert left == []
    assert tree(WATCHED) == before
