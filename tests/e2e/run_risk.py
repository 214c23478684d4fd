#!/usr/bin/env python3
"""End-to-end tests of the collector's risk engine: the real sensor loaded,
real clients, the real collector with a risk configuration, a webhook
receiver and a revocation hook, everything on this host.

Run as root from anywhere:  python3 tests/e2e/run_risk.py
  TOKENTAP_BIN=path            sensor binary (default build/tokentap)
  TOKENTAP_COLLECTOR_BIN=path  collector binary (default build/tokentap-collector)
  TOKENTAP_REQUIRE_BPF=1       a sensor that cannot load is a failure, not a skip

Covers: a rejected risk configuration; a token used by a new workload after
the learning window (alert, JSON and Slack webhooks, delivery log); a token
held in an environment and never used; a GitHub token sent to a host that
is not GitHub's (alert, revocation hook and its record); a token held in a
command line; the token list sorted by risk; a token sent in plaintext to a
non-loopback address; a machine token used from curl; a person's token used
by a process in a system service's cgroup; a write method after a baseline
of reads; an expired JWT; a credential in the URL query; a token used again
after the dormant period; and a search of every output (databases, webhook
bodies, the hook's input, logs, CLI and HTTP outputs) for the raw
credentials. Only one sensor runs at a time: each captures every process of
the host.

Prints one PASS/FAIL/SKIP line per test and ends with
"e2e-risk: N passed, M failed, K skipped"; exits non-zero on failure.
"""
import base64
import datetime
import hashlib
import http.server
import json
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as e2e  # noqa: E402  (helpers of the sensor runner)
import run_collector as rc  # noqa: E402  (collector, sensor and output helpers)
from run import CURL, HERE, PY, Fail, Skip  # noqa: E402

R = e2e.R
LEARNING_WINDOW = 3      # seconds, in the risk configuration
HELD_UNUSED_AFTER = 2    # seconds, in the risk configuration
DORMANT_AFTER = 5        # seconds, in the risk configuration
WINDOW_MARGIN = 1.0      # past the learning window, for clock granularity
ALERT_TIMEOUT = 30       # a request to its alert, delivery or hook run, generously
OTHER_SENSOR_WAIT = 600  # how long to wait for someone else's sensor to exit
BODY_MAX = 1 << 20
SLEEP = shutil.which("sleep") or "/bin/sleep"


# ---- the webhook receiver and a plaintext server, in this process -------------------

class Receiver:
    """Records every POST (path, body); answers 200. Loopback, port 0."""

    def __init__(self):
        self.lock = threading.Lock()
        self.posts = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(n, BODY_MAX)) if n > 0 else b""
                with outer.lock:
                    outer.posts.append((self.path, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, fmt, *args):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.2},
                                       daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def snapshot(self):
        with self.lock:
            return list(self.posts)

    def find(self, path, pred):
        """The first parsed JSON body posted to path that satisfies pred."""
        for p, body in self.snapshot():
            if p != path:
                continue
            try:
                doc = json.loads(body)
            except ValueError:
                continue
            if pred(doc):
                return doc
        return None

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


class PlainServer:
    """HTTP/1.1 without TLS on one address; never logs a request line."""

    def __init__(self, addr):
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                body = b"ok\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, fmt, *args):
                pass

        self.srv = http.server.ThreadingHTTPServer((addr, 0), Handler)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


# ---- the collector with a risk configuration -----------------------------------------

class RiskCollector(rc.Collector):
    """rc.Collector, started with --risk-config."""

    def __init__(self, ctx, name, config_path):
        super().__init__(ctx, name)
        self.config_path = config_path

    def start(self):
        err_before = len(rc.read_file(self.err_path))
        with open(self.out_path, "ab") as out, open(self.err_path, "ab") as err:
            self.proc = e2e.spawn(
                [rc.collector_bin(), "serve", "--listen", "127.0.0.1:%d" % self.port,
                 "--db", self.db, "--auth-file", self.ctx.auth_path,
                 "--risk-config", self.config_path],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        self.starts += 1

        def listening():
            text = rc.read_file(self.err_path)[err_before:].decode(errors="replace")
            for line in text.splitlines():
                if "listening on" in line and "(port " in line:
                    return int(line.split("(port ", 1)[1].split(")", 1)[0])
            return None
        rc.wait_until(lambda: listening() or self.proc.poll() is not None, 10)
        port = listening()
        if not port or self.proc.poll() is not None:
            raise Fail("collector %s did not start: %s" % (self.name, self.err_tail()))
        self.port = port
        if not rc.wait_until(lambda: rc.http_get(self.ctx, self.url + "/healthz", quiet=True)[0] == 200, 10):
            raise Fail("collector %s: /healthz not OK after start" % self.name)


def write_config(ctx, receiver):
    hook_cmd = "cat > %s/hook-input-$TOKENTAP_FINGERPRINT.json; echo revoked" % shlex.quote(ctx.workdir)
    cfg = {
        "learning_window": LEARNING_WINDOW,
        "held_unused_after": HELD_UNUSED_AFTER,
        "dormant_after": DORMANT_AFTER,
        "webhooks": [
            {"url": receiver.url("/hook"), "min_severity": "low", "format": "json"},
            {"url": receiver.url("/slack"), "min_severity": "low", "format": "slack"},
        ],
        "revocation_hooks": [
            {"name": "record", "rule": "wrong_provider", "min_severity": "low",
             "command": ["/bin/sh", "-c", hook_cmd], "mark_for_sensor": True},
        ],
    }
    path = os.path.join(ctx.workdir, "risk.json")
    with open(path, "w") as f:
        json.dump(cfg, f, indent=1)
    return path


def write_revoke_command(ctx):
    """The sensor's --revoke-command: records a digest of the token it gets
    on stdin (in secrets/, outside the secret search) and echoes the token,
    which the sensor must mask in what it reports."""
    path = os.path.join(ctx.secret_dir, "revoke.sh")
    digest = os.path.join(ctx.secret_dir, "revoked-$TOKENTAP_FINGERPRINT.sha256")
    with open(path, "w") as f:
        f.write('#!/bin/sh\nt=$(cat)\nprintf %%s "$t" | sha256sum > "%s"\n'
                'printf "got %%s revoked\\n" "$t"\n' % digest)
    os.chmod(path, 0o700)
    return path


def revoked_digest(ctx, fp):
    data = rc.read_file(os.path.join(ctx.secret_dir, "revoked-%s.sha256" % fp))
    return data.decode(errors="replace").split(" ")[0].strip()


def hook_input_path(ctx, fp):
    return os.path.join(ctx.workdir, "hook-input-%s.json" % fp)


# ---- queries ---------------------------------------------------------------------------

def alerts_api(ctx, coll, fp=None, min_severity=None):
    """GET /v1/alerts; the array, or None when the answer is not one."""
    q = []
    if min_severity:
        q.append(("min_severity", min_severity))
    if fp:
        q.append(("fingerprint", fp))
    url = coll.url + "/v1/alerts" + ("?" + urllib.parse.urlencode(q) if q else "")
    status, body = rc.http_get(ctx, url, quiet=True)
    if status != 200:
        return None
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    return doc if isinstance(doc, list) else None


def wait_alert(ctx, coll, fp, rule, timeout=ALERT_TIMEOUT):
    """The alert of rule for fingerprint fp, waiting for it."""
    def find():
        for a in alerts_api(ctx, coll, fp) or []:
            if isinstance(a, dict) and a.get("rule") == rule and a.get("fingerprint") == fp:
                return a
        return None
    a = rc.wait_until(find, timeout, 0.2)
    if not a:
        got = sorted({str(x.get("rule")) for x in alerts_api(ctx, coll, fp) or [] if isinstance(x, dict)})
        raise Fail("no %s alert for %s within %ds (its alerts: %s)" % (rule, fp, timeout,
                                                                      ", ".join(got) or "none"))
    ctx.outputs.append(("HTTP response /v1/alerts", json.dumps(a).encode()))
    return a


def wait_token(ctx, coll, fp, pred, what, timeout=ALERT_TIMEOUT):
    """GET /v1/tokens/FP until pred(doc); the document."""
    doc = rc.wait_until(lambda: (lambda d: d if d and pred(d) else None)(rc.token_doc(ctx, coll, fp)),
                        timeout, 0.2)
    if not doc:
        raise Fail("token %s: %s not reached within %ds" % (fp, what, timeout))
    ctx.outputs.append(("HTTP response /v1/tokens/FP", json.dumps(doc).encode()))
    return doc


def rfc3339_epoch(s):
    try:
        return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
    except (AttributeError, ValueError):
        return None


def curl_bearer(ctx, tok, url, extra=()):
    """One curl request with the credential in a config file, not in argv;
    extra: more curl arguments (a method, a body)."""
    e2e.need(CURL, "curl")
    conf = ctx.curl_config(['header = "Authorization: Bearer %s"' % tok])
    return e2e.run_client(ctx, [CURL, "-sS", "-k", "--http1.1", "-o", "/dev/null", "-K", conf]
                          + list(extra) + [url])


def sleep_until(t):
    time.sleep(max(0.0, t - time.time()))


def add_token(ctx, tok):
    """A credential made here, registered for the secret search; (tok, fingerprint)."""
    ctx.tokens.append(("credential #%d" % len(ctx.tokens), tok))
    return tok, e2e.fingerprint(ctx.key_hex, tok)


def ghs_token():
    """A GitHub App installation token's shape: a machine token."""
    return "ghs_" + e2e.ghp_token()[len("ghp_"):]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def expired_jwt():
    """(JWT, exp): HS256-looking, expired an hour ago, a random signature."""
    now = int(time.time())
    exp = now - 3600
    head = {"alg": "HS256", "typ": "JWT"}
    claims = {"iss": "https://issuer.test", "sub": "u1", "exp": exp, "iat": now - 7200}
    parts = [b64url(json.dumps(x, separators=(",", ":")).encode()) for x in (head, claims)]
    return "%s.%s.%s" % (parts[0], parts[1], b64url(secrets.token_bytes(32))), exp


def cgroup2_root():
    """The cgroup v2 hierarchy (unified or alone), or None."""
    for cand in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
        if os.path.exists(os.path.join(cand, "cgroup.procs")) and \
                os.path.exists(os.path.join(cand, "cgroup.controllers")):
            return cand
    return None


def rmdir_when_empty(path):
    """A cgroup can be removed once its last process is gone, which takes a moment."""
    for _ in range(50):
        try:
            os.rmdir(path)
            return True
        except FileNotFoundError:
            return True
        except OSError:
            time.sleep(0.1)
    return False


def spawn_holder(cmd, env=None):
    return e2e.spawn(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)


# ---- scenarios ---------------------------------------------------------------------------

def t_bad_config(ctx, st):
    """Rejected before anything starts: exit 2, one line naming the key."""
    cases = [
        ("unknown_key", {"learning_window": 1, "no_such_setting": True}, "no_such_setting"),
        ("relative_hook_command", {"revocation_hooks": [
            {"name": "x", "command": ["revoke.sh"]}]}, "revocation_hooks[0].command"),
    ]
    bad = []
    for name, cfg, key in cases:
        path = os.path.join(ctx.workdir, "bad-%s.json" % name)
        with open(path, "w") as f:
            json.dump(cfg, f)
        try:
            p = rc.cli(ctx, ["serve", "--listen", "127.0.0.1:0", "--db",
                             os.path.join(ctx.workdir, "bad-%s.db" % name),
                             "--auth-file", ctx.auth_path, "--risk-config", path], timeout=15)
        except subprocess.TimeoutExpired:
            bad.append("%s: the collector started serving instead of exiting" % name)
            continue
        lines = [l for l in p.stderr.decode(errors="replace").splitlines() if l.strip()]
        if p.returncode != 2:
            bad.append("%s: expected exit 2, got %d" % (name, p.returncode))
        if len(lines) != 1 or key not in lines[0]:
            bad.append("%s: expected one stderr line naming %s, got %r" % (name, key, lines))
    if bad:
        raise Fail("; ".join(bad))


def t_new_workload(ctx, st):
    """curl uses T1 inside the learning window, python after it: only python is new."""
    coll, recv = st["coll"], st["recv"]
    tok, fp = ctx.new_token()  # opaque: no provider host, not inventoried when held
    st["t1"] = fp
    c = curl_bearer(ctx, tok, "https://127.0.0.1:%d/r1/curl" % ctx.tls.port)
    curl_done = time.time()
    doc = wait_token(ctx, coll, fp, lambda d: d.get("requests", 0) >= 1, "curl's request")
    # The learning window runs from the first sighting: the next use must come after it.
    first = rfc3339_epoch(doc.get("first_seen")) or curl_done
    time.sleep(max(0.0, max(first, curl_done) + LEARNING_WINDOW + WINDOW_MARGIN - time.time()))
    p = rc.py_requests(ctx, tok, 1, "/r1/python")
    a = wait_alert(ctx, coll, fp, "new_workload")
    st["t1_alert"] = a
    bad = []
    py_exe = os.path.realpath(PY)
    if "python" not in (a.get("subject") or "") or a.get("exe") != py_exe:
        bad.append("alert subject/exe: expected python %s, got subject %r exe %r"
                   % (py_exe, a.get("subject"), a.get("exe")))
    if a.get("pid") != p.pid:
        bad.append("alert pid: expected %d, got %r" % (p.pid, a.get("pid")))
    for k in ("id", "severity", "reason", "token_type", "first_seen", "open", "evidence"):
        if k not in a:
            bad.append("alert lacks %s" % k)
    curl_named = [x for x in alerts_api(ctx, coll, fp) or [] if x.get("rule") == "new_workload" and
                  ("curl" in (x.get("subject") or "") or "curl" in (x.get("exe") or "") or
                   x.get("pid") == c.pid)]
    if curl_named:
        bad.append("a new_workload alert names curl, used inside the learning window: %r"
                   % curl_named[0].get("subject"))
    # the JSON webhook received it
    body = rc.wait_until(lambda: recv.find("/hook", lambda d: isinstance(d.get("alert"), dict) and
                                           d["alert"].get("id") == a.get("id")), ALERT_TIMEOUT, 0.2)
    if not body:
        bad.append("the JSON webhook received no body for alert %s within %ds" % (a.get("id"), ALERT_TIMEOUT))
    else:
        got = body["alert"]
        if got.get("rule") != "new_workload" or got.get("fingerprint") != fp or got.get("exe") != py_exe:
            bad.append("webhook alert: expected new_workload %s by %s, got %r %r %r" % (
                fp, py_exe, got.get("rule"), got.get("fingerprint"), got.get("exe")))
        if body.get("source") != "tokentap-collector" or "sent_at" not in body:
            bad.append("webhook body: expected source tokentap-collector and sent_at, got keys %s"
                       % sorted(body))
    # the delivery log says so
    hook_url = recv.url("/hook")

    # the delivery log names a webhook by scheme, host, port and a hash of its URL
    parsed = urllib.parse.urlsplit(hook_url)
    label = "%s://%s/#%s" % (parsed.scheme, parsed.netloc,
                             hashlib.sha256(hook_url.encode()).hexdigest()[:8])

    def delivered():
        out = rc.cli(ctx, ["alerts", "--url", coll.url, "--json"]).stdout
        try:
            arr = json.loads(out)
        except ValueError:
            return None
        for x in arr if isinstance(arr, list) else []:
            if isinstance(x, dict) and x.get("id") == a.get("id"):
                for d in x.get("deliveries") or []:
                    if d.get("target") == label and d.get("outcome") == "ok" and \
                            d.get("http_status") == 200:
                        return d
        return None
    d = rc.wait_until(delivered, ALERT_TIMEOUT, 0.3)
    if not d:
        bad.append("alerts --json: no delivery to %s with outcome ok for alert %s" % (label, a.get("id")))
    elif d.get("http_status") != 200:
        bad.append("delivery http_status: expected 200, got %r" % d.get("http_status"))
    if bad:
        raise Fail("; ".join(bad))


def t_slack_webhook(ctx, st):
    a = st.get("t1_alert")
    if not a:
        raise Skip("no new_workload alert from the previous test")
    fp = a["fingerprint"]

    def mine(d):
        t = d.get("text")
        return isinstance(t, str) and "new_workload" in t and fp[:8] in t
    body = rc.wait_until(lambda: st["recv"].find("/slack", mine), ALERT_TIMEOUT, 0.2)
    if not body:
        texts = [d for p, d in st["recv"].snapshot() if p == "/slack"]
        raise Fail("the Slack webhook received no {\"text\"} naming new_workload and %s (%d bodies)"
                   % (fp[:8], len(texts)))


def t_held_never_used(ctx, st):
    coll = st["coll"]
    tok, fp = ctx.new_token("ghp")
    st["t2"] = fp
    child = spawn_holder([SLEEP, "60"], env=dict(os.environ, GITHUB_TOKEN=tok))
    try:
        doc = wait_token(ctx, coll, fp, lambda d: d.get("held"), "held inventory")
        bad = []
        if doc.get("held_state") != "held_never_used":
            bad.append("held_state: expected held_never_used, got %r" % doc.get("held_state"))
        mine = [h for h in doc.get("held") or [] if h.get("pid") == child.pid]
        if not mine:
            bad.append("held: no entry for pid %d (got pids %s)" % (
                child.pid, [h.get("pid") for h in doc.get("held") or []]))
        elif (mine[0].get("source"), mine[0].get("name")) != ("environ", "GITHUB_TOKEN"):
            bad.append("held entry: expected environ GITHUB_TOKEN, got %r %r" % (
                mine[0].get("source"), mine[0].get("name")))
        a = wait_alert(ctx, coll, fp, "held_never_used")
        if a.get("severity") != "low":
            bad.append("held_never_used severity: expected low, got %r" % a.get("severity"))
        # the filter by severity leaves it out
        above = alerts_api(ctx, coll, fp, "medium")
        if above is None or any(x.get("rule") == "held_never_used" for x in above):
            bad.append("GET /v1/alerts?min_severity=medium&fingerprint=: expected no held_never_used, got %s"
                       % (None if above is None else [x.get("rule") for x in above]))
        if bad:
            raise Fail("; ".join(bad))
    finally:
        e2e.reap(child)


def t_held_then_basic(ctx, st):
    """A token held in an environment variable and used by git's way (Basic
    x-access-token:TOKEN) is one token: the use and the holding meet on one
    fingerprint, held_and_used, typed github_pat."""
    coll = st["coll"]
    tok, fp = ctx.new_token("ghp")
    add_token(ctx, base64.b64encode(("x-access-token:" + tok).encode()).decode())
    child = spawn_holder([SLEEP, "60"], env=dict(os.environ, GITHUB_TOKEN=tok))
    try:
        wait_token(ctx, coll, fp, lambda d: d.get("held"), "held inventory")
        e2e.need(CURL, "curl")
        conf = ctx.curl_config(['user = "x-access-token:%s"' % tok])
        e2e.run_client(ctx, [CURL, "-sS", "-k", "--http1.1", "-o", "/dev/null", "-K", conf,
                             "https://127.0.0.1:%d/r2b/git" % ctx.tls.port])
        doc = wait_token(ctx, coll, fp, lambda d: d.get("held_state") == "held_and_used",
                         "held_and_used")
        if doc.get("token_type") != "github_pat":
            raise Fail("token_type: expected github_pat, got %r" % doc.get("token_type"))
    finally:
        e2e.reap(child)


def t_wrong_provider(ctx, st):
    coll = st["coll"]
    tok, fp = ctx.new_token("ghp")
    st["t3"] = fp
    st["t3_tok"] = tok
    c = curl_bearer(ctx, tok, "https://127.0.0.1:%d/r3/curl" % ctx.tls.port)
    a = wait_alert(ctx, coll, fp, "wrong_provider")
    bad = []
    if a.get("severity") != "high":
        bad.append("severity: expected high, got %r" % a.get("severity"))
    high = alerts_api(ctx, coll, fp, "medium")
    if not high or not any(x.get("rule") == "wrong_provider" for x in high):
        bad.append("GET /v1/alerts?min_severity=medium&fingerprint=: no wrong_provider")
    # the revocation hook's input, written by the hook itself
    path = hook_input_path(ctx, fp)

    def hook_doc():
        try:
            return json.loads(rc.read_file(path))
        except ValueError:
            return None
    doc = rc.wait_until(hook_doc, ALERT_TIMEOUT, 0.2)
    if not isinstance(doc, dict):
        bad.append("the revocation hook wrote no JSON document within %ds" % ALERT_TIMEOUT)
    else:
        token = doc.get("token") if isinstance(doc.get("token"), dict) else {}
        if token.get("fingerprint") != fp or token.get("token_type") != "github_pat":
            bad.append("hook input token: expected %s github_pat, got %r %r" % (
                fp, token.get("fingerprint"), token.get("token_type")))
        alert = doc.get("alert") if isinstance(doc.get("alert"), dict) else {}
        if alert.get("rule") != "wrong_provider" or alert.get("fingerprint") != fp:
            bad.append("hook input alert: expected wrong_provider %s, got %r %r" % (
                fp, alert.get("rule"), alert.get("fingerprint")))
        for k in ("processes", "nodes"):
            if not isinstance(doc.get(k), list):
                bad.append("hook input %s: expected a list, got %r" % (k, type(doc.get(k)).__name__))
        if tok.encode() in rc.read_file(path):
            bad.append("the hook input holds the raw credential")
    tdoc = wait_token(ctx, coll, fp, lambda d: d.get("revocations"), "a revocation record")
    r = tdoc["revocations"][0]
    want = {"hook": "record", "outcome": "ok", "exit_code": 0}
    if {k: r.get(k) for k in want} != want or "revoked" not in (r.get("detail") or ""):
        bad.append("revocations[0]: expected %s with detail 'revoked', got %s" % (
            want, {k: r.get(k) for k in ("hook", "outcome", "exit_code", "detail")}))
    if not any(x.get("rule") == "wrong_provider" for x in (tdoc.get("risk") or {}).get("reasons") or []):
        bad.append("risk.reasons lacks wrong_provider")
    if c.pid not in [x.get("pid") for x in tdoc.get("processes") or []]:
        bad.append("processes: curl pid %d missing" % c.pid)
    if bad:
        raise Fail("; ".join(bad))


def t_sensor_revocation(ctx, st):
    """The hook marked the wrong-provider token: the sensor, seeing it again,
    runs --revoke-command once with the raw token and reports the outcome."""
    coll, fp, tok = st["coll"], st.get("t3"), st.get("t3_tok")
    if not fp:
        raise Skip("no token from the wrong_provider test")
    # the mark reaches the sensor with its next batch reply (every interval)
    def marked():
        d = rc.token_doc(ctx, coll, fp)
        return d if d and d.get("sensor_revocation") else None
    if not rc.wait_until(marked, ALERT_TIMEOUT, 0.2):
        raise Fail("token %s was not marked for sensor-side revocation" % fp)
    time.sleep(2.5)  # two sensor intervals: the list arrives with a batch reply

    def revoked():
        d = rc.token_doc(ctx, coll, fp)
        rows = [r for r in (d or {}).get("revocations") or [] if str(r.get("hook", "")).startswith("sensor:")]
        return (d, rows) if rows else None
    got = None
    for i in range(5):
        curl_bearer(ctx, tok, "https://127.0.0.1:%d/r3/again%d" % (ctx.tls.port, i))
        got = rc.wait_until(revoked, 4, 0.2)
        if got:
            break
    if not got:
        raise Fail("no sensor revocation recorded for %s after 5 more requests" % fp)
    d, rows = got
    bad = []
    r = rows[0]
    if r.get("outcome") != "ok" or r.get("exit_code") != 0:
        bad.append("sensor revocation: expected ok/0, got %r/%r" % (r.get("outcome"), r.get("exit_code")))
    if "got *** revoked" not in (r.get("detail") or ""):
        bad.append("sensor revocation detail: expected the token masked as ***, got %r" % r.get("detail"))
    want = hashlib.sha256(tok.encode()).hexdigest()
    if revoked_digest(ctx, fp) != want:
        bad.append("the revoke command did not receive exactly the token on stdin")
    sr = d.get("sensor_revocation") or {}
    if sr.get("outcome") != "ok" or not sr.get("done_at"):
        bad.append("sensor_revocation: expected done with outcome ok, got %r" % sr)
    if len(rows) != 1:
        bad.append("the revoke command ran %d times, expected once" % len(rows))
    if bad:
        raise Fail("; ".join(bad))


def t_held_in_argv(ctx, st):
    coll = st["coll"]
    tok, fp = ctx.new_token("ghp")
    st["t4"] = fp
    # The shell stays alive (two commands) so its command line still holds the token when scanned.
    child = spawn_holder(["/bin/sh", "-c", SLEEP + " 60; exit 0", "sh", "--token=" + tok])
    try:
        a = wait_alert(ctx, coll, fp, "held_in_argv")
        bad = []
        ev = a.get("evidence") if isinstance(a.get("evidence"), dict) else {}
        if ev.get("source") != "argv":
            bad.append("evidence source: expected argv, got %r" % ev.get("source"))
        if a.get("pid") not in (None, child.pid):
            bad.append("alert pid: expected %d, got %r" % (child.pid, a.get("pid")))
        doc = wait_token(ctx, coll, fp, lambda d: d.get("held"), "held inventory")
        if not any(h.get("source") == "argv" and h.get("pid") == child.pid for h in doc.get("held") or []):
            bad.append("held: no argv entry for pid %d" % child.pid)
        if bad:
            raise Fail("; ".join(bad))
    finally:
        e2e.reap(child)


def t_tokens_sort_risk(ctx, st):
    coll = st["coll"]
    ours = [st[k] for k in ("t1", "t2", "t3", "t4") if st.get(k)]
    if not st.get("t3"):
        raise Skip("no wrong_provider token from the previous test")

    def scored():
        toks = rc.cli_json(ctx, ["tokens", "--sort", "risk", "--url", coll.url])
        if not isinstance(toks, list):
            return None
        fps = {t.get("fingerprint") for t in toks}
        if not all(f in fps for f in ours):
            return None
        if all(is_int((t.get("risk") or {}).get("score")) for t in toks):
            return toks
        return None
    toks = rc.wait_until(scored, ALERT_TIMEOUT, 0.5)
    if not toks:
        raise Fail("tokens --sort risk: not every token has an integer score within %ds" % ALERT_TIMEOUT)
    scores = [t["risk"]["score"] for t in toks]
    if any(a < b for a, b in zip(scores, scores[1:])):
        raise Fail("tokens --sort risk: scores not in non-increasing order: %s" % scores)
    t3 = next(t for t in toks if t.get("fingerprint") == st["t3"])
    if not any(r.get("rule") == "wrong_provider" for r in t3["risk"].get("reasons") or []):
        raise Fail("the wrong_provider token's risk reasons lack wrong_provider: %s"
                   % [r.get("rule") for r in t3["risk"].get("reasons") or []])


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def local_ipv4():
    """A non-loopback IPv4 address of this host, or None."""
    try:
        out = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.decode(errors="replace").splitlines():
        f = line.split()
        if "inet" in f:
            addr = f[f.index("inet") + 1].split("/")[0]
            if not addr.startswith("127."):
                return addr
    return None


def t_plaintext(ctx, st):
    coll = st["coll"]
    addr = local_ipv4()
    if not addr:
        raise Skip("no non-loopback IPv4 address on this host (ip -4 -o addr)")
    try:
        srv = PlainServer(addr)
    except OSError as e:
        raise Skip("cannot listen on %s: %s" % (addr, e.strerror))
    try:
        tok, fp = ctx.new_token()
        url = "http://%s:%d/r6/plain" % (addr, srv.port)
        c = e2e.run_client(ctx, [PY, os.path.join(HERE, "py_client.py"), "httpclient", url, "1"],
                           {"TT_TOKEN": tok})
        if b"requests=1 connections=1" not in c.out:
            raise Fail("python client did not send its request: %s" % c.out.decode(errors="replace").strip())
        a = wait_alert(ctx, coll, fp, "plaintext")
        want_dst = "%s:%d" % (addr, srv.port)
        if a.get("severity") != "high" or a.get("dst") != want_dst or addr not in (a.get("subject") or ""):
            raise Fail("plaintext alert: expected high, dst %s, got %r %r subject %r" % (
                want_dst, a.get("severity"), a.get("dst"), a.get("subject")))
    finally:
        srv.close()


def t_service_token_interactive(ctx, st):
    """A GitHub App installation token (machine) sent by curl (interactive)."""
    coll = st["coll"]
    tok, fp = add_token(ctx, ghs_token())
    c = curl_bearer(ctx, tok, "https://127.0.0.1:%d/r7/ghs" % ctx.tls.port)
    a = wait_alert(ctx, coll, fp, "service_token_interactive")
    bad = []
    curl_exe = os.path.realpath(CURL)
    if a.get("severity") != "high":
        bad.append("severity: expected high, got %r" % a.get("severity"))
    if "curl" not in (a.get("subject") or "") or a.get("exe") != curl_exe:
        bad.append("alert subject/exe: expected curl %s, got subject %r exe %r"
                   % (curl_exe, a.get("subject"), a.get("exe")))
    if a.get("pid") != c.pid:
        bad.append("alert pid: expected %d, got %r" % (c.pid, a.get("pid")))
    if a.get("token_type") != "github_app_install":
        bad.append("token_type: expected github_app_install, got %r" % a.get("token_type"))
    if bad:
        raise Fail("; ".join(bad))


def t_human_token_daemon(ctx, st):
    """A ghp_ token used by python in "/system.slice/<unit>.service": a daemon."""
    coll = st["coll"]
    root = cgroup2_root()
    if not root:
        raise Skip("no cgroup v2 hierarchy under /sys/fs/cgroup")
    slice_dir = os.path.join(root, "system.slice")
    made_slice = False
    if not os.path.isdir(slice_dir):
        try:
            os.mkdir(slice_dir)
        except OSError as e:
            raise Skip("cannot create %s: %s" % (slice_dir, e.strerror))
        made_slice = True
    unit = os.path.join(slice_dir, "tt-e2e-%s.service" % secrets.token_hex(4))
    try:
        try:
            os.mkdir(unit)
        except OSError as e:
            raise Skip("cannot create %s: %s" % (unit, e.strerror))
        tok, fp = ctx.new_token("ghp")
        # The shell moves itself into the unit, then becomes python: the
        # client runs in the service's cgroup from its first instruction.
        cmd = ["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" || exit 97; exec "$@"', unit,
               PY, os.path.join(HERE, "py_client.py"), "httpclient",
               "https://127.0.0.1:%d/r8/daemon" % ctx.tls.port, "1"]
        c = e2e.Client(cmd, {"TT_TOKEN": tok})
        try:
            c.finish(ctx)
        except Fail:
            if c.rc == 97:
                raise Skip("cannot move a process into %s (cgroup.procs not writable)" % unit)
            raise
        if b"requests=1 connections=1" not in c.out:
            raise Fail("python client did not send its request: %s" % c.out.decode(errors="replace").strip())
        a = wait_alert(ctx, coll, fp, "human_token_daemon")
        bad = []
        py_exe = os.path.realpath(PY)
        if "python" not in (a.get("subject") or "") or a.get("exe") != py_exe:
            bad.append("alert subject/exe: expected python %s, got subject %r exe %r"
                       % (py_exe, a.get("subject"), a.get("exe")))
        if a.get("pid") != c.pid:
            bad.append("alert pid: expected %d, got %r" % (c.pid, a.get("pid")))
        if a.get("severity") != "medium":
            bad.append("severity: expected medium, got %r" % a.get("severity"))
        if bad:
            raise Fail("; ".join(bad))
    finally:
        if os.path.isdir(unit) and not rmdir_when_empty(unit):
            R.say("note: could not remove the cgroup %s" % unit)
        if made_slice:
            rmdir_when_empty(slice_dir)


def t_new_write_method(ctx, st):
    """curl GETs inside the learning window, another curl POSTs to the same
    URL after it: a new write method, not a new workload or destination."""
    coll = st["coll"]
    tok, fp = ctx.new_token()
    url = "https://127.0.0.1:%d/r9/write" % ctx.tls.port
    curl_bearer(ctx, tok, url)
    curl_done = time.time()
    doc = wait_token(ctx, coll, fp, lambda d: d.get("requests", 0) >= 1, "curl's GET")
    # The learning window runs from the first sighting: the POST must come after it.
    first = rfc3339_epoch(doc.get("first_seen")) or curl_done
    sleep_until(max(first, curl_done) + LEARNING_WINDOW + WINDOW_MARGIN)
    c = curl_bearer(ctx, tok, url, ["--data", "x=1"])
    a = wait_alert(ctx, coll, fp, "new_write_method")
    bad = []
    if a.get("subject") != "POST":
        bad.append("subject: expected POST, got %r" % a.get("subject"))
    if a.get("severity") != "low":
        bad.append("severity: expected low, got %r" % a.get("severity"))
    if a.get("pid") != c.pid:
        bad.append("alert pid: expected %d, got %r" % (c.pid, a.get("pid")))
    # Found in the same pass as new_write_method, so they would be there by now.
    other = sorted({x.get("rule") for x in alerts_api(ctx, coll, fp) or []
                    if x.get("rule") in ("new_workload", "new_destination")})
    if other:
        bad.append("same program, same destination, yet alerts %s" % ", ".join(other))
    if bad:
        raise Fail("; ".join(bad))


def t_expired_jwt(ctx, st):
    """A JWT presented an hour after its exp; its claims are shown, its subject is not."""
    coll = st["coll"]
    jwt, exp = expired_jwt()
    tok, fp = add_token(ctx, jwt)
    curl_bearer(ctx, tok, "https://127.0.0.1:%d/r10/jwt" % ctx.tls.port)
    a = wait_alert(ctx, coll, fp, "expired_jwt")
    bad = []
    if a.get("severity") != "medium":
        bad.append("severity: expected medium, got %r" % a.get("severity"))
    doc = wait_token(ctx, coll, fp, lambda d: isinstance((d.get("metadata") or {}).get("jwt"), dict),
                     "metadata.jwt")
    claims = doc["metadata"]["jwt"]
    if claims.get("exp") != exp:
        bad.append("metadata.jwt.exp: expected %d, got %r" % (exp, claims.get("exp")))
    if "sub" in claims:
        bad.append("metadata.jwt has the subject in clear")
    if any(v == "u1" for v in claims.values()):
        bad.append("metadata.jwt holds the subject's value")
    if bad:
        raise Fail("; ".join(bad))


def t_query_string(ctx, st):
    """python sends the token as ?access_token=: the URL carries the credential."""
    coll = st["coll"]
    tok, fp = ctx.new_token()
    # py_client builds the query from TT_TOKEN: the token is never in argv.
    c = e2e.run_client(ctx, [PY, os.path.join(HERE, "py_client.py"), "query",
                             "https://127.0.0.1:%d/r11/q" % ctx.tls.port], {"TT_TOKEN": tok})
    if b"status=200" not in c.out:
        raise Fail("python client did not get its answer: %s" % c.out.decode(errors="replace").strip())
    a = wait_alert(ctx, coll, fp, "query_string")
    bad = []
    if a.get("subject") != "access_token":
        bad.append("subject: expected access_token, got %r" % a.get("subject"))
    if a.get("severity") != "low":
        bad.append("severity: expected low, got %r" % a.get("severity"))
    if a.get("pid") != c.pid:
        bad.append("alert pid: expected %d, got %r" % (c.pid, a.get("pid")))
    if bad:
        raise Fail("; ".join(bad))


def t_dormant_active(ctx, st):
    """curl uses a token, nothing uses it for longer than dormant_after, then
    another curl does."""
    coll = st["coll"]
    tok, fp = ctx.new_token()
    url = "https://127.0.0.1:%d/r12/dormant" % ctx.tls.port
    curl_bearer(ctx, tok, url)
    curl_done = time.time()
    doc = wait_token(ctx, coll, fp, lambda d: d.get("requests", 0) >= 1, "the first use")
    # The silence runs from the last use the collector knows of.
    last = rfc3339_epoch(doc.get("last_seen")) or curl_done
    sleep_until(max(last, curl_done) + DORMANT_AFTER + WINDOW_MARGIN)
    early = [x.get("id") for x in alerts_api(ctx, coll, fp) or [] if x.get("rule") == "dormant_active"]
    curl_bearer(ctx, tok, url)
    again = time.time()
    try:
        a = wait_alert(ctx, coll, fp, "dormant_active")
    except Fail as e:
        # Where the two uses fell in their minutes: usage is stored per minute.
        raise Fail("%s [last use at second %.1f of its minute, used again %.1f s later at second %.1f]"
                   % (e, last % 60, again - last, again % 60))
    bad = []
    if early:
        bad.append("dormant_active alert %s before the token was used again" % early)
    if a.get("severity") != "medium":
        bad.append("severity: expected medium, got %r" % a.get("severity"))
    if bad:
        raise Fail("; ".join(bad))


def t_alerts_in_db(ctx, st):
    """After the collector stopped: alerts --db reads the same alerts and deliveries."""
    want = [(st.get("t1"), "new_workload"), (st.get("t2"), "held_never_used"),
            (st.get("t3"), "wrong_provider"), (st.get("t4"), "held_in_argv")]
    want = [(fp, r) for fp, r in want if fp]
    if not want:
        raise Skip("no alert was raised")
    arr = rc.cli_json(ctx, ["alerts", "--db", st["coll"].db])
    if not isinstance(arr, list):
        raise Fail("alerts --db --json: not an array")
    got = {(a.get("fingerprint"), a.get("rule")): a for a in arr if isinstance(a, dict)}
    missing = ["%s %s" % (r, fp) for fp, r in want if (fp, r) not in got]
    if missing:
        raise Fail("alerts --db: missing %s" % ", ".join(missing))
    firsts = [a.get("first_seen") or "" for a in arr]
    if firsts != sorted(firsts, reverse=True):
        raise Fail("alerts --db: not newest first")
    a = got.get((st.get("t1"), "new_workload"))
    if a and not any(d.get("outcome") == "ok" for d in a.get("deliveries") or []):
        raise Fail("alerts --db: the new_workload alert has no delivery with outcome ok")


# ---- the run ----------------------------------------------------------------------------

def leader_gauge(ctx, coll):
    code, body = rc.http_get(ctx, coll.url + "/metrics", quiet=True)[:2]
    return rc.metric(body, "tokentap_collector_leader") if code == 200 else None


def t_replica_failover(ctx, st):
    """Two collectors on one PostgreSQL database: the leader killed, the other
    takes over the engine, and a new alert is delivered once."""
    if "://" not in st["coll"].db:
        raise Skip("the collectors run on SQLite (TOKENTAP_COLLECTOR_PG runs this on PostgreSQL)")
    coll, recv = st["coll"], st["recv"]
    replica = RiskCollector(ctx, "replica", coll.config_path)
    replica.db = coll.db
    replica.start()
    st["replica"] = replica
    bad = []
    if not rc.wait_until(lambda: leader_gauge(ctx, coll) == 1, 10):
        bad.append("the first collector does not lead: gauge %r" % leader_gauge(ctx, coll))
    if leader_gauge(ctx, replica) != 0:
        bad.append("the replica leads too: gauge %r" % leader_gauge(ctx, replica))
    # kill -9: the session ends with the process, and the lock with it
    coll.snapshot_db()
    coll.proc.kill()
    coll.proc.wait(5)
    coll.proc = None
    if not rc.wait_until(lambda: leader_gauge(ctx, replica) == 1, 15, 0.2):
        raise Fail("; ".join(bad + ["the replica did not take over within 15 s"]))
    # the first one back (same port, the sensor's target): it follows now
    coll.start()
    if not rc.wait_until(lambda: leader_gauge(ctx, coll) == 0, 10):
        bad.append("the restarted collector leads beside the replica")
    tok, fp = ctx.new_token("ghp")
    curl_bearer(ctx, tok, "https://127.0.0.1:%d/failover/curl" % ctx.tls.port)
    wait_alert(ctx, replica, fp, "wrong_provider")

    def posts():
        n = 0
        for p, body in recv.snapshot():
            if p == "/hook" and fp.encode() in body and b"wrong_provider" in body:
                n += 1
        return n
    if not rc.wait_until(lambda: posts() >= 1, ALERT_TIMEOUT, 0.2):
        bad.append("no webhook delivery of the alert after the failover")
    time.sleep(3)  # two engine periods: a second delivery would have come by now
    if posts() != 1:
        bad.append("the alert was delivered %d times, expected once" % posts())
    replica.snapshot_db()
    rc_r = replica.stop()
    if rc_r != 0:
        bad.append("replica exit status on SIGTERM: %s" % rc_r)
    if bad:
        raise Fail("; ".join(bad))


SENSOR_TESTS = [
    ("new_workload_alert_to_webhook", t_new_workload),
    ("slack_webhook_body", t_slack_webhook),
    ("held_never_used", t_held_never_used),
    ("held_then_basic_one_token", t_held_then_basic),
    ("wrong_provider", t_wrong_provider),
    ("sensor_side_revocation", t_sensor_revocation),
    ("held_in_argv", t_held_in_argv),
    ("tokens_sort_risk", t_tokens_sort_risk),
    ("plaintext", t_plaintext),
    ("service_token_interactive", t_service_token_interactive),
    ("human_token_daemon", t_human_token_daemon),
    ("new_write_method", t_new_write_method),
    ("expired_jwt", t_expired_jwt),
    ("query_string", t_query_string),
    ("dormant_active", t_dormant_active),
    ("replica_failover", t_replica_failover),
]


def record(ctx, st, name, fn):
    full = "risk/" + name
    try:
        fn(ctx, st)
        R.record(full, "PASS")
    except Skip as e:
        R.record(full, "SKIP", str(e))
    except Fail as e:
        coll = st.get("coll")
        down = ""
        if coll and coll.proc and coll.proc.poll() is not None:
            down = " [the collector had exited with %d: %s]" % (coll.proc.returncode, coll.err_tail())
        sensor = st.get("sensor")
        if sensor and sensor.proc.poll() is not None:
            down += " [the sensor had exited with %d]" % sensor.proc.returncode
        R.record(full, "FAIL", str(e) + down)
    except Exception as e:  # a broken test is a failure, not a crash
        R.record(full, "FAIL", "%s: %s" % (type(e).__name__, e))


def other_sensors():
    try:
        out = subprocess.run(["pgrep", "-x", "tokentap"], capture_output=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [int(x) for x in out.split()]


def wait_sensor_slot():
    """Someone else's sensor would see our clients too: wait until it is gone."""
    if not rc.wait_until(lambda: not other_sensors(), OTHER_SENSOR_WAIT, 1.0):
        raise Fail("another tokentap sensor is running (pids %s) after %ds" % (other_sensors(), OTHER_SENSOR_WAIT))


def run_all(ctx, st):
    record(ctx, st, "bad_config_rejected", t_bad_config)

    if not os.access(e2e.sensor_bin(), os.X_OK):
        ctx.no_sensor = "no sensor binary at %s (make all)" % e2e.sensor_bin()
    elif os.geteuid() != 0:
        ctx.no_sensor = "not root, cannot load BPF"

    if not ctx.no_sensor:
        wait_sensor_slot()
    e2e.make_cert(ctx.workdir)
    ctx.tls = e2e.Server(ctx.workdir, "tls", True)
    recv = st["recv"] = Receiver()
    coll = st["coll"] = RiskCollector(ctx, "collector", write_config(ctx, recv))
    coll.start()

    sensor = sensor_why = None
    try:
        sensor = rc.start_sensor(ctx, "sensor", coll.url, os.path.join(ctx.workdir, "state"),
                                 extra=["--revoke-command", write_revoke_command(ctx)])
    except (Skip, Fail) as e:
        sensor_why = e
    if sensor:
        st["sensor"] = sensor
        try:
            for name, fn in SENSOR_TESTS:
                record(ctx, st, name, fn)
        finally:
            rc_s = sensor.stop()
        R.record("risk/sensor_clean_exit", "PASS" if rc_s == 0 else "FAIL",
                 "" if rc_s == 0 else "exit status on SIGTERM: expected 0, got %s" % rc_s)
    else:
        status = "FAIL" if isinstance(sensor_why, Fail) else "SKIP"
        for name, _ in SENSOR_TESTS:
            R.record("risk/" + name, status, str(sensor_why))
        R.record("risk/sensor_clean_exit", status, str(sensor_why))
    rc_c = coll.stop()
    R.record("risk/collector_clean_exit", "PASS" if rc_c == 0 else "FAIL",
             "" if rc_c == 0 else "exit status on SIGTERM: expected 0, got %s" % rc_c)
    if sensor:
        record(ctx, st, "alerts_in_db_file", t_alerts_in_db)


def secret_hits(ctx, st):
    """rc.secret_hits over every output, plus what the webhooks received."""
    recv = st.get("recv")
    if recv:
        for path, body in recv.snapshot():
            ctx.outputs.append(("webhook body POST %s" % path, body))
    coll = st.get("coll")
    if coll and coll.running():
        coll.snapshot_db()
    return rc.secret_hits(ctx)


def main():
    def on_signal(sig, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    workdir = tempfile.mkdtemp(prefix="tokentap-e2e-risk-")
    st = {}
    try:
        if not os.access(rc.collector_bin(), os.X_OK):
            R.record("risk/setup", "FAIL", "no collector binary at %s (make all)" % rc.collector_bin())
        else:
            ctx = rc.Ctx(workdir)
            try:
                run_all(ctx, st)
            except Fail as e:
                R.record("risk/setup", "FAIL", str(e))
            finally:
                e2e.kill_children()
                hits = secret_hits(ctx, st)
                R.record("risk/no_secret_in_outputs", "FAIL" if hits else "PASS", "; ".join(hits))
    except KeyboardInterrupt:
        R.record("risk/interrupted", "FAIL")
    finally:
        e2e.kill_children()
        if st.get("recv"):
            st["recv"].close()
        shutil.rmtree(workdir, ignore_errors=True)
    # the run on PostgreSQL is a suite of its own in the totals
    suite = "e2e-risk-pg" if os.environ.get("TOKENTAP_COLLECTOR_PG") else "e2e-risk"
    print("%s: %d passed, %d failed, %d skipped" % (suite, R.passed, R.failed, R.skipped), flush=True)
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
