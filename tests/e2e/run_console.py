#!/usr/bin/env python3
"""End-to-end test of the collector's web console in a real browser: the
real sensor loaded, real clients, the real collector with a read token and
a risk configuration, Debian's chromium (headless) driven by playwright-core
(tests/e2e/console.mjs).

Run as root from anywhere:  flock /tmp/tokentap-bpf.lock python3 tests/e2e/run_console.py
  TOKENTAP_BIN=path            sensor binary (default build/tokentap)
  TOKENTAP_COLLECTOR_BIN=path  collector binary (default build/tokentap-collector)
  TOKENTAP_WEB_MODULES=dir     the console's npm packages (default build/web/node_modules)
  TOKENTAP_CHROMIUM=path       the browser (default: chromium on PATH)
  TOKENTAP_SCREENSHOTS=dir     where the pages' screenshots go (default build/console-screenshots)
  TOKENTAP_REQUIRE_BPF=1       a sensor that cannot load is a failure, not a skip
  TOKENTAP_REQUIRE_BROWSER=1   a missing chromium or playwright-core is a failure, not a skip

Feeds the collector: a token used by curl inside the learning window, then
by python and by a copy of curl whose path and command line are HTML and
script payloads (a new-workload alert names it); a GitHub token sent to a
host that is not GitHub's (a high alert); a GitHub token held in an
environment and never used. Then the browser logs in, checks the inventory
sorted by risk against the JSON API, filters it, opens a token and compares
the chart's numbers with the API's, sees the alerts and sensors, checks
that no payload runs, that the CSP refuses inline script, and that login and
logout refuse cross-site requests. Every output (collector log, page texts,
JSON, the runner's lines) is searched for the raw credentials.

Prints one PASS/FAIL/SKIP line per test and ends with
"e2e-console: N passed, M failed, K skipped"; exits non-zero on failure.
"""
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as e2e  # noqa: E402  (helpers of the sensor runner)
import run_collector as rc  # noqa: E402  (collector, sensor and output helpers)
import run_risk as rr  # noqa: E402  (risk helpers: curl with a bearer token, holders)
from run import CURL, HERE, PY, REPO, Fail, Skip  # noqa: E402

R = e2e.R
LEARNING_WINDOW = 3
WAIT = 30               # a request to its row, score or alert, generously
BROWSER_TIMEOUT = 300   # the whole browser run
# The hostile process: a copy of curl at a path holding markup, run with markup arguments.
HOSTILE_DIR = '"><img src=x onerror=window.__pwned=1>'
HOSTILE_SUBDIR = '<script>window.__pwned=2<'
HOSTILE_FILE = 'script>'  # with the directory above: ".../<script>window.__pwned=2</script>"
HOSTILE_ARGS = ["-A", '"><script>window.__pwned=3</script>', "-H", "X-Note: <img src=x onerror=window.__pwned=4>"]


def web_modules():
    d = os.environ.get("TOKENTAP_WEB_MODULES", "build/web/node_modules")
    return d if os.path.isabs(d) else os.path.join(REPO, d)


def screenshot_dir():
    d = os.environ.get("TOKENTAP_SCREENSHOTS", "build/console-screenshots")
    return d if os.path.isabs(d) else os.path.join(REPO, d)


def browser_missing():
    """Why the browser test cannot run, or None."""
    if not (os.environ.get("TOKENTAP_CHROMIUM") or shutil.which("chromium")):
        return "chromium not installed (scripts/deps.sh installs it)"
    if not os.path.isdir(os.path.join(web_modules(), "playwright-core")):
        return "playwright-core not installed in %s (make builds it)" % web_modules()
    if not shutil.which("node"):
        return "node not installed"
    return None


class Reader:
    """GETs of the JSON API with the read token as a Bearer header."""

    def __init__(self, ctx, coll, token):
        self.ctx, self.coll, self.token = ctx, coll, token

    def get(self, path):
        req = urllib.request.Request(self.coll.url + path, headers={"Authorization": "Bearer " + self.token})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                body = r.read()
        except (OSError, urllib.error.URLError):
            return None
        self.ctx.outputs.append(("HTTP response " + path, body))
        try:
            return json.loads(body)
        except ValueError:
            return None

    def wait(self, path, pred, what):
        doc = rc.wait_until(lambda: (lambda d: d if d is not None and pred(d) else None)(self.get(path)), WAIT, 0.3)
        if doc is None:
            raise Fail("%s not reached within %ds" % (what, WAIT))
        return doc


def hostile_curl(ctx):
    """A copy of curl whose path holds markup; its path."""
    d = os.path.join(ctx.workdir, HOSTILE_DIR, HOSTILE_SUBDIR)
    os.makedirs(d)
    path = os.path.join(d, HOSTILE_FILE)
    shutil.copy2(os.path.realpath(CURL), path)
    return path


def holding_port(seconds):
    """A loopback port that accepts one connection and answers it after seconds."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def hold():
        try:
            conn, _ = srv.accept()
            time.sleep(seconds)
            conn.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            conn.close()
        finally:
            srv.close()
    threading.Thread(target=hold, daemon=True).start()
    return srv.getsockname()[1]


def feed(ctx, st):
    """Real traffic through the real sensor; the fingerprints used."""
    coll, rd = st["coll"], st["reader"]
    e2e.need(CURL, "curl")
    # T1: curl inside the learning window, python and the hostile curl after it
    tok1, fp1 = rr.add_token(ctx, e2e.opaque_token())
    for i in range(3):
        rr.curl_bearer(ctx, tok1, "https://127.0.0.1:%d/c1/%d" % (ctx.tls.port, i))
    doc = rd.wait("/v1/tokens/" + fp1, lambda d: d.get("requests", 0) >= 3, "T1's three curl requests")
    first = rr.rfc3339_epoch(doc.get("first_seen")) or time.time()
    rr.sleep_until(max(first, time.time()) + LEARNING_WINDOW + rr.WINDOW_MARGIN)
    rc.py_requests(ctx, tok1, 2, "/c1/python")
    bad = hostile_curl(ctx)
    conf = ctx.curl_config(['header = "Authorization: Bearer %s"' % tok1])
    # The sensor reads the command line from /proc when it first reports the
    # process: a second transfer (no credential) on a port that holds it
    # keeps the client alive meanwhile, however loaded the machine is.
    hold = holding_port(3)
    e2e.run_client(ctx, [bad, "-sS", "-k", "--http1.1", "-o", "/dev/null", "-K", conf] + HOSTILE_ARGS
                   + ["https://127.0.0.1:%d/c1/hostile" % ctx.tls.port,
                      "--next", "-sS", "-o", "/dev/null", "--max-time", "5",
                      "http://127.0.0.1:%d/" % hold])
    st["hostile_exe"] = bad
    # T3: a GitHub token sent to a host that is not GitHub's
    tok3, fp3 = rr.add_token(ctx, e2e.ghp_token())
    rr.curl_bearer(ctx, tok3, "https://127.0.0.1:%d/c3" % ctx.tls.port)
    # T4: a GitHub token held in an environment, never used
    tok4, fp4 = rr.add_token(ctx, e2e.ghp_token())
    holder = rr.spawn_holder([rr.SLEEP, "120"], env=dict(os.environ, GITHUB_TOKEN=tok4))
    st["holder"] = holder
    rd.wait("/v1/tokens/" + fp1, lambda d: d.get("requests", 0) >= 6 and
            any(p.get("exe") == bad for p in d.get("processes") or []), "T1's six requests, the hostile curl among them")
    rd.wait("/v1/alerts?fingerprint=" + fp1, lambda a: any(x.get("rule") == "new_workload" and x.get("exe") == bad for x in a),
            "a new_workload alert naming the hostile curl")
    rd.wait("/v1/alerts?fingerprint=" + fp3, lambda a: any(x.get("rule") == "wrong_provider" for x in a),
            "T3's wrong_provider alert")
    rd.wait("/v1/tokens/" + fp4, lambda d: d.get("held_state") == "held_never_used", "T4 held, never used")
    rd.wait("/v1/tokens?sort=risk", lambda ts: all(isinstance((t.get("risk") or {}).get("score"), int)
                                                   for t in ts if t.get("fingerprint") in (fp1, fp3, fp4)),
            "a risk score for every token")
    return {"t1": fp1, "t3": fp3, "t4": fp4}


def run_browser(ctx, st, fps):
    """console.mjs; its result lines recorded here."""
    shots = screenshot_dir()
    os.makedirs(shots, exist_ok=True)
    texts = os.path.join(ctx.workdir, "browser-texts")
    os.makedirs(texts)
    env = dict(os.environ,
               TOKENTAP_URL=st["coll"].url,
               TOKENTAP_READ_TOKEN_FILE=st["read_token_file"],
               TOKENTAP_FPS=json.dumps(fps),
               TOKENTAP_HOSTILE_EXE=st["hostile_exe"],
               TOKENTAP_WEB_MODULES=web_modules(),
               TOKENTAP_CHROMIUM=os.environ.get("TOKENTAP_CHROMIUM") or shutil.which("chromium"),
               TOKENTAP_SCREENSHOTS=shots,
               TOKENTAP_TEXTS=texts,
               PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1",
               PLAYWRIGHT_BROWSERS_PATH="0")
    p = subprocess.run(["node", os.path.join(HERE, "console.mjs")], env=env, capture_output=True,
                       timeout=BROWSER_TIMEOUT, stdin=subprocess.DEVNULL)
    ctx.outputs.append(("browser test output", p.stdout + p.stderr))
    got = 0
    for line in p.stdout.decode(errors="replace").splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if isinstance(r, dict) and r.get("status") in ("PASS", "FAIL", "SKIP"):
            R.record("console/" + r.get("name", "?"), r["status"], r.get("detail", ""))
            got += 1
    if p.returncode != 0 or not got:
        R.record("console/browser_run", "FAIL", "console.mjs exited %d: %s" % (
            p.returncode, p.stderr.decode(errors="replace").strip()[-400:]))


def write_risk_config(ctx):
    path = os.path.join(ctx.workdir, "risk.json")
    with open(path, "w") as f:
        json.dump({"learning_window": LEARNING_WINDOW, "held_unused_after": 2}, f)
    return path


def run_all(ctx, st):
    why = browser_missing()
    if why:
        status = "FAIL" if os.environ.get("TOKENTAP_REQUIRE_BROWSER") == "1" else "SKIP"
        R.record("console/browser", status, why)
        return
    if not os.access(e2e.sensor_bin(), os.X_OK):
        ctx.no_sensor = "no sensor binary at %s (make all)" % e2e.sensor_bin()
    elif os.geteuid() != 0:
        ctx.no_sensor = "not root, cannot load BPF"
    if not ctx.no_sensor:
        rr.wait_sensor_slot()
    read_token = "rt" + secrets.token_urlsafe(30)
    ctx.tokens.append(("read token", read_token))
    st["read_token_file"] = ctx.secret_file("read-tokens", (read_token + "\n").encode())
    e2e.make_cert(ctx.workdir)
    ctx.tls = e2e.Server(ctx.workdir, "tls", True)
    coll = st["coll"] = rc.Collector(ctx, "collector", ["--read-token-file", st["read_token_file"],
                                                        "--risk-config", write_risk_config(ctx)])
    coll.start()
    st["reader"] = Reader(ctx, coll, read_token)
    try:
        sensor = rc.start_sensor(ctx, "sensor", coll.url, os.path.join(ctx.workdir, "state"))
    except (Skip, Fail) as e:
        R.record("console/feed", "FAIL" if isinstance(e, Fail) else "SKIP", str(e))
        return
    try:
        fps = feed(ctx, st)
        R.record("console/feed", "PASS")
    finally:
        rc_s = sensor.stop()
    if rc_s != 0:
        R.record("console/sensor_clean_exit", "FAIL", "exit status on SIGTERM: %s" % rc_s)
    run_browser(ctx, st, fps)
    rc_c = coll.stop()
    R.record("console/collector_clean_exit", "PASS" if rc_c == 0 else "FAIL",
             "" if rc_c == 0 else "exit status on SIGTERM: expected 0, got %s" % rc_c)


def main():
    def on_signal(sig, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    workdir = tempfile.mkdtemp(prefix="tokentap-e2e-console-")
    st = {}
    try:
        if not os.access(rc.collector_bin(), os.X_OK):
            R.record("console/setup", "FAIL", "no collector binary at %s (make all)" % rc.collector_bin())
        else:
            ctx = rc.Ctx(workdir)
            try:
                run_all(ctx, st)
            except Fail as e:
                R.record("console/setup", "FAIL", str(e))
            except Skip as e:
                R.record("console/setup", "SKIP", str(e))
            finally:
                if st.get("holder"):
                    e2e.reap(st["holder"])
                e2e.kill_children()
                if st.get("coll") and st["coll"].running():
                    st["coll"].snapshot_db()
                hits = rc.secret_hits(ctx)
                R.record("console/no_secret_in_outputs", "FAIL" if hits else "PASS", "; ".join(hits))
    except KeyboardInterrupt:
        R.record("console/interrupted", "FAIL")
    finally:
        e2e.kill_children()
        shutil.rmtree(workdir, ignore_errors=True)
    print("e2e-console: %d passed, %d failed, %d skipped" % (R.passed, R.failed, R.skipped), flush=True)
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
