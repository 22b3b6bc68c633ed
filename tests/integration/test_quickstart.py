"""`make run` (scripts/run.sh): the quickstart starts, and every curl command
it prints answers with the status it promises.  Ctrl-C (SIGINT) stops
everything it started."""

import os
import re
import shlex
import signal
import subprocess
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def replay(cmd):
    """Runs a printed `curl -s -i [-X M] [-H 'N: v']... URL` with requests."""
    args = shlex.split(cmd)
    assert args[0] == "curl"
    method, headers, url = "GET", {}, None
    i = 1
    while i < len(args):
        a = args[i]
        if a == "-X":
            method = args[i + 1]
            i += 1
        elif a == "-H":
            name, value = args[i + 1].split(": ", 1)
            headers[name] = value
            i += 1
        elif not a.startswith("-"):
            url = a
        i += 1
    return requests.request(method, url, headers=headers, timeout=5)


def test_quickstart_answers_as_printed(tmp_path):
    env = dict(os.environ, RBAC_RUN_PORT="0", RBAC_RUN_DIR=str(tmp_path / "run"))
    p = subprocess.Popen(["bash", "scripts/run.sh"], cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, start_new_session=True)
    out = []
    try:
        deadline = time.monotonic() + 300
        for line in p.stdout:
            out.append(line)
            if "quickstart ready" in line or time.monotonic() > deadline:
                break
        text = "".join(out)
        assert "quickstart ready" in text, text

        cases = re.findall(r"^# (.*)\(expect (\d{3})\)\n(curl .*)$", text, re.M)
        assert len(cases) >= 9, text
        statuses = set()
        for what, expect, cmd in cases:
            r = replay(cmd)
            assert r.status_code == int(expect), (what, r.status_code, r.text)
            statuses.add(r.status_code)
            if r.status_code == 200:
                assert r.json()["identity"]["X-Rbac-User"], r.text
        assert statuses == {200, 401, 403}
        port = int(re.search(r"nginx on http://127\.0\.0\.1:(\d+)", text).group(1))
        # the status location counted what was just replayed
        st = requests.get("http://127.0.0.1:%d/rbac/status" % port,
                          timeout=5).json()
        assert st["decisions"]["allow"] >= 1
        assert st["unauthorized"] and st["cache"]["bytes_used"] > 0
        assert all(w["connected"] and w["subscribed"] for w in st["redis"])
    finally:
        os.killpg(p.pid, signal.SIGINT)
        rest = p.communicate(timeout=30)[0]
    assert "quickstart stopped" in rest
    # nothing it started is left listening
    time.sleep(0.5)
    try:
        requests.get("http://127.0.0.1:%d/" % port, timeout=1)
        assert False, "nginx still answers after Ctrl-C"
    except requests.exceptions.ConnectionError:
        pass
