#!/usr/bin/env python3
"""End-to-end tests: the sensor really loaded, real clients, local servers.

Run as root from anywhere:  python3 tests/e2e/run.py
  TOKENTAP_BIN=path        sensor binary (default build/tokentap in the repo)
  TOKENTAP_REQUIRE_BPF=1   a sensor that cannot load is a failure, not a skip

Every credential is random, made at run time, and never printed. Expected
fingerprints are computed with the openssl CLI, independently of the sensor.
After each sensor run, every output (sensor stdout/stderr, its state dir, the
clients' and servers' outputs, this runner's own lines) is searched for every
raw credential; a hit is a failure.

Prints one PASS/FAIL/SKIP line per test and ends with
"e2e: N passed, M failed, K skipped"; exits non-zero when anything failed.
"""
import base64
import json
import os
import secrets
import select
import shutil
import signal
import string
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PY = sys.executable
CURL = shutil.which("curl") or "/usr/bin/curl"
NODE = "/usr/bin/node" if os.path.exists("/usr/bin/node") else (shutil.which("node") or "")
GRPC_GO_SRC = "/usr/share/gocode/src/google.golang.org/grpc"
GO = shutil.which("go") or ("/usr/bin/go" if os.path.exists("/usr/bin/go") else "")

READY_TIMEOUT = 30
# How long a client waits after mapping a late-loaded library before it
# sends: the sensor sees the mmap, reads the file and places its probes; on a
# loaded 2-core VM that takes more than a second now and then.
ATTACH_ALLOWANCE = "2.0"
EVENT_TIMEOUT = 10
CLIENT_TIMEOUT = 30
STOP_TIMEOUT = 15


def sensor_bin():
    b = os.environ.get("TOKENTAP_BIN", "build/tokentap")
    return b if os.path.isabs(b) else os.path.join(REPO, b)


class Skip(Exception):
    pass


class Fail(Exception):
    pass


class Results:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.lines = []  # everything this runner printed, searched for secrets

    def say(self, line):
        self.lines.append(line)
        print(line, flush=True)

    def record(self, name, status, detail=""):
        if status == "PASS":
            self.passed += 1
        elif status == "FAIL":
            self.failed += 1
        else:
            self.skipped += 1
        self.say("%s %s%s" % (status, name, (": " + detail) if detail else ""))


R = Results()
CHILDREN = []


def free_port():
    """A loopback TCP port free at the time of asking."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(cmd, **kw):
    p = subprocess.Popen(cmd, **kw)
    CHILDREN.append(p)
    return p


def reap(p, timeout=5):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


def kill_children():
    for p in CHILDREN:
        try:
            reap(p, 3)
        except Exception:
            pass


def run_tests(ctx, tests, skip_status):
    """Runs each (name, fn(ctx)) and records it; a Skip is recorded as skip_status."""
    for name, fn in tests:
        try:
            fn(ctx)
            R.record(name, "PASS")
        except Skip as e:
            R.record(name, skip_status, str(e))
        except Fail as e:
            R.record(name, "FAIL", str(e))
        except subprocess.TimeoutExpired:
            R.record(name, "FAIL", "timed out")


def bpf_missing_status():
    """What a test that cannot load BPF records: FAIL under TOKENTAP_REQUIRE_BPF=1, else SKIP."""
    return "FAIL" if os.environ.get("TOKENTAP_REQUIRE_BPF") == "1" else "SKIP"


def skip_or_fail_all(names, why):
    """Records every test of names as bpf_missing_status(), with why: the sensor did not start."""
    status = bpf_missing_status()
    for n in names:
        R.record(n, status, why)


def preflight(names, needs=(), binary=None, build_hint="make all"):
    """Whether the BPF tests names can run here. When they cannot, each is
    recorded once: not root or a missing tool of needs ((path, why) pairs)
    fails under TOKENTAP_REQUIRE_BPF=1 and skips otherwise; a missing sensor
    binary always fails."""
    status = bpf_missing_status()
    why = None
    if os.geteuid() != 0:
        why = "not root, cannot load BPF"
    else:
        why = next((w for path, w in needs if not os.access(path, os.X_OK)), None)
    if why:
        for n in names:
            R.record(n, status, why)
        return False
    binary = binary or sensor_bin()
    if not os.access(binary, os.X_OK):
        for n in names:
            R.record(n, "FAIL", "no sensor binary at %s (%s)" % (binary, build_hint))
        return False
    return True


def record_secret_search(ctx, name):
    """Records name as failed when any token of ctx.tokens is in an output, these results included."""
    ctx.outputs.append("\n".join(R.lines).encode())
    blob = b"".join(o if isinstance(o, bytes) else o.encode() for o in ctx.outputs)
    hits = [i for i, t in enumerate(ctx.tokens) if t.encode() in blob]
    R.record(name, "FAIL" if hits else "PASS",
             "%d credential(s) found in outputs" % len(hits) if hits else "")


def run_scenarios(ctx, prefix, scenarios, after):
    """Runs each (name, fn(ctx)) as prefix/name; a check fn returns to run after the sensor stops goes to after."""
    for n, fn in scenarios:
        name = "%s/%s" % (prefix, n)
        try:
            post = fn(ctx)
            if post:
                after.append((name, post))
            else:
                R.record(name, "PASS")
        except Skip as e:
            R.record(name, "SKIP", str(e))
        except Fail as e:
            R.record(name, "FAIL", str(e))
        except Exception as e:  # a broken test is a failure, not a crash
            R.record(name, "FAIL", "%s: %s" % (type(e).__name__, e))


def run_after(after):
    """Runs the checks run_scenarios kept for after the stop."""
    for name, post in after:
        try:
            post()
            R.record(name, "PASS")
        except Fail as e:
            R.record(name, "FAIL", str(e))


def finish_sensor_group(ctx, group, after):
    """Stops ctx.sensor after one more flush, runs the kept checks, then its clean exit and the secret search."""
    # A second flush interval, so counting is done before the stop.
    time.sleep(1.2)
    rc = ctx.sensor.stop()
    run_after(after)
    problems = []
    if rc != 0:
        problems.append("exit status on SIGTERM: expected 0, got %s" % rc)
    if ctx.sensor.bad_lines:
        problems.append("%d stdout lines are not JSON events" % ctx.sensor.bad_lines)
    R.record("%s/sensor_clean_exit" % group, "FAIL" if problems else "PASS", "; ".join(problems))
    hits = secret_hits(ctx)
    R.record("%s/no_secret_in_outputs" % group, "FAIL" if hits else "PASS", "; ".join(hits))


# ---- credentials and fingerprints ------------------------------------------

ALNUM = string.ascii_letters + string.digits


def ghp_token():
    return "ghp_" + "".join(secrets.choice(ALNUM) for _ in range(36))


def opaque_token():
    # URL-safe alphabet, so the query-parameter form needs no percent-encoding;
    # a leading letter pair that is not "ey" keeps it from looking like a JWT.
    return "tk" + secrets.token_urlsafe(30)


def fingerprint(key_hex, credential):
    out = subprocess.run(
        ["openssl", "dgst", "-sha256", "-mac", "HMAC", "-macopt", "hexkey:" + key_hex],
        input=credential.encode(), capture_output=True, timeout=10, check=True).stdout
    digest = out.decode().strip().rsplit("= ", 1)[-1].strip()
    if len(digest) != 64:
        raise Fail("unexpected openssl dgst output")
    return digest[:32]


# ---- the sensor --------------------------------------------------------------

class Sensor:
    """One sensor process; collects its stdout events and stderr lines."""

    def __init__(self, workdir, key_path, prefix=(), extra=(), binary=None, env=None):
        """prefix: a wrapper command (e.g. capsh); extra: more sensor flags;
        binary: another sensor build; env: the sensor's environment."""
        self.state_dir = os.path.join(workdir, "state")
        self.out_raw = []
        self.err_raw = []
        self.events = []
        self.bad_lines = 0
        self.ready = threading.Event()
        self.lock = threading.Lock()
        self.proc = spawn(
            list(prefix) + [binary or sensor_bin(), "--json", "--state-dir", self.state_dir,
                            "--key-file", key_path, "--interval", "1", "--release-interval", "1"]
            + list(extra),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.threads = [threading.Thread(target=self._read_out, daemon=True),
                        threading.Thread(target=self._read_err, daemon=True)]
        for t in self.threads:
            t.start()
        self.rc = None

    def _read_out(self):
        for line in self.proc.stdout:
            with self.lock:
                self.out_raw.append(line)
                try:
                    ev = json.loads(line)
                    if not isinstance(ev, dict) or "event" not in ev or "ts" not in ev:
                        raise ValueError
                    self.events.append(ev)
                except ValueError:
                    self.bad_lines += 1

    def _read_err(self):
        for line in self.proc.stderr:
            with self.lock:
                self.err_raw.append(line)
            # "degraded:" closes the start as "ready:" does, with TLS capture off
            if b"tokentap: ready" in line or b"tokentap: degraded" in line:
                self.ready.set()

    def wait_ready(self):
        """None when ready, else why not."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.ready.wait(0.1):
                return None
            if self.proc.poll() is not None:
                self.threads[1].join(2)
                if self.ready.is_set():
                    return None
                return "sensor exited with %d before ready: %s" % (
                    self.proc.returncode, self.stderr_tail())
        return "sensor not ready after %ds: %s" % (READY_TIMEOUT, self.stderr_tail())

    def stderr_tail(self):
        with self.lock:
            return b" | ".join(l.strip() for l in self.err_raw[-3:]).decode(errors="replace")

    def snapshot(self):
        with self.lock:
            return list(self.events)

    def wait_for(self, pred, timeout=EVENT_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.snapshot() if pred(e)]
            if found:
                return found
            if time.monotonic() > deadline:
                return []
            if self.proc.poll() is not None:
                raise Fail("sensor exited with %d: %s" % (self.proc.returncode, self.stderr_tail()))
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                self.rc = "killed after %ds" % STOP_TIMEOUT
        for t in self.threads:
            t.join(5)
        if self.rc is None:
            self.rc = self.proc.returncode
        return self.rc


# ---- servers and clients -------------------------------------------------------

class Server:
    def __init__(self, workdir, name, tls, cmd=None, env=None):
        if not cmd:
            cmd = [PY, os.path.join(HERE, "http_server.py")]
        if tls and cmd[-1].endswith("http_server.py"):
            cmd += ["--cert", os.path.join(workdir, "cert.pem"), "--key", os.path.join(workdir, "key.pem")]
        self.err_path = os.path.join(workdir, name + ".err")
        self.err = open(self.err_path, "wb")
        self.proc = spawn(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.err, env=env)
        self.port = None
        deadline = time.monotonic() + 10
        line = b""
        while time.monotonic() < deadline and not line.endswith(b"\n"):
            r, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if r:
                c = os.read(self.proc.stdout.fileno(), 1)
                if not c:
                    break
                line += c
        if not line.startswith(b"port "):
            raise Fail("%s server did not start" % name)
        self.port = int(line.split()[1])

    def close(self):
        reap(self.proc)
        self.err.close()


def make_cert(workdir):
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", os.path.join(workdir, "key.pem"),
         "-out", os.path.join(workdir, "cert.pem")],
        capture_output=True, timeout=30, check=True)


class Client:
    """A finished client run: pid, return code, output."""

    def __init__(self, cmd, env=None):
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = spawn(cmd, env=full_env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.pid = self.proc.pid
        self.out = self.err = b""
        self.rc = None

    def finish(self, ctx):
        if self.rc is not None:  # already finished (and checked)
            return self
        try:
            self.out, self.err = self.proc.communicate(timeout=CLIENT_TIMEOUT)
        except subprocess.TimeoutExpired:
            reap(self.proc)
            self.out, self.err = self.proc.communicate()
        self.rc = self.proc.returncode
        ctx.outputs += [self.out, self.err]
        if self.rc != 0:
            raise Fail("client %s exited %s: %s" % (os.path.basename(self.proc.args[0]), self.rc,
                                                    (self.out + self.err).decode(errors="replace")[-300:]))
        return self


def run_client(ctx, cmd, env=None):
    return Client(cmd, env).finish(ctx)


def curl_config(ctx, lines):
    """Credentials go to curl through a config file, never through argv."""
    ctx.nconf += 1
    path = os.path.join(ctx.workdir, "curl%d.conf" % ctx.nconf)
    with open(path, "w") as f:
        f.write("".join(l + "\n" for l in lines))
    os.chmod(path, 0o600)
    return path


# ---- assertions -----------------------------------------------------------------

def seen_for(ctx, fp, pid):
    """The token_seen events of fingerprint fp from pid, waiting for the first."""
    evs = ctx.sensor.wait_for(lambda e: e.get("event") == "token_seen" and
                              e.get("fingerprint") == fp and e.get("pid") == pid)
    if not evs:
        other = sorted({e.get("pid") for e in ctx.sensor.snapshot()
                        if e.get("event") == "token_seen" and e.get("fingerprint") == fp})
        if other:
            raise Fail("token_seen %s: expected pid %d, seen only from pids %s" % (fp, pid, other))
        raise Fail("no token_seen with fingerprint %s (pid %d) within %ds" % (fp, pid, EVENT_TIMEOUT))
    return evs


def check_fields(ev, want, absent=()):
    bad = []
    for k, v in want.items():
        if ev.get(k, "<absent>") != v:
            bad.append("%s: expected %r, got %r" % (k, v, ev.get(k, "<absent>")))
    for k in absent:
        if k in ev:
            bad.append("%s: expected absent, got %r" % (k, ev[k]))
    if bad:
        raise Fail("fingerprint %s: %s" % (ev.get("fingerprint"), "; ".join(bad)))


def new_token(ctx, kind="opaque"):
    tok = ghp_token() if kind == "ghp" else opaque_token()
    ctx.tokens.append(tok)
    return tok, fingerprint(ctx.key_hex, tok)


# ---- scenarios (run while the sensor is up) ----------------------------------------

def need(path, what):
    if not path or not os.path.exists(path):
        raise Skip("%s not installed" % what)


def t_curl_https(ctx):
    need(CURL, "curl")
    tok, fp = new_token(ctx, "ghp")
    port = ctx.tls.port
    conf = curl_config(ctx, ['header = "Authorization: Bearer %s"' % tok])
    c = run_client(ctx, [CURL, "-sS", "-k", "--http1.1", "-o", "/dev/null", "-K", conf,
                         "https://127.0.0.1:%d/s1/items?q=secret-ish" % port])
    ev = seen_for(ctx, fp, c.pid)[0]
    check_fields(ev, {
        "exe": os.path.realpath(CURL), "pid": c.pid, "uid": os.getuid(), "comm": "curl",
        "tls": True, "tls_library": "openssl", "dst": "127.0.0.1:%d" % port,
        "host": "127.0.0.1:%d" % port, "method": "GET", "path": "/s1/items?q=",
        "scheme": "Bearer", "header": "authorization"})


def py_https(ctx, mode, path):
    tok, fp = new_token(ctx)
    port = ctx.tls.port
    c = run_client(ctx, [PY, os.path.join(HERE, "py_client.py"), mode,
                         "https://127.0.0.1:%d%s?q=secret-ish" % (port, path)], {"TT_TOKEN": tok})
    ev = seen_for(ctx, fp, c.pid)[0]
    check_fields(ev, {
        "exe": os.path.realpath(PY), "pid": c.pid, "tls": True, "tls_library": "openssl",
        "dst": "127.0.0.1:%d" % port, "host": "127.0.0.1:%d" % port, "method": "GET",
        "path": path + "?q="})


def t_python_urllib_https(ctx):
    py_https(ctx, "urllib", "/s2/urllib")


def t_python_httpclient_https(ctx):
    py_https(ctx, "httpclient", "/s2/httpclient")


def t_node_https(ctx):
    need(NODE, "node")
    tok, fp = new_token(ctx)
    port = ctx.tls.port
    c = run_client(ctx, [NODE, os.path.join(HERE, "node_client.js"),
                         "https://127.0.0.1:%d/s3/node?q=secret-ish&n=1" % port], {"TT_TOKEN": tok})
    ev = seen_for(ctx, fp, c.pid)[0]
    check_fields(ev, {
        "exe": os.path.realpath(NODE), "pid": c.pid, "host": "127.0.0.1:%d" % port,
        "method": "GET", "path": "/s3/node?q=&n="})
    # Memory BIOs may hide the socket; what is reported must still be right.
    if "dst" in ev:
        check_fields(ev, {"dst": "127.0.0.1:%d" % port})
    if "tls" in ev:
        check_fields(ev, {"tls": True})


def t_curl_plain(ctx):
    need(CURL, "curl")
    tok, fp = new_token(ctx, "ghp")
    port = ctx.plain.port
    conf = curl_config(ctx, ['header = "Authorization: Bearer %s"' % tok])
    c = run_client(ctx, [CURL, "-sS", "-o", "/dev/null", "-K", conf,
                         "http://127.0.0.1:%d/s4/curl?a=1" % port])
    ev = seen_for(ctx, fp, c.pid)[0]
    check_fields(ev, {
        "exe": os.path.realpath(CURL), "pid": c.pid, "tls": False,
        "dst": "127.0.0.1:%d" % port, "host": "127.0.0.1:%d" % port, "method": "GET",
        "path": "/s4/curl?a="}, absent=("tls_library",))


def t_python_plain(ctx):
    tok, fp = new_token(ctx)
    port = ctx.plain.port
    c = run_client(ctx, [PY, os.path.join(HERE, "py_client.py"), "httpclient",
                         "http://127.0.0.1:%d/s4/python" % port], {"TT_TOKEN": tok})
    ev = seen_for(ctx, fp, c.pid)[0]
    check_fields(ev, {
        "exe": os.path.realpath(PY), "pid": c.pid, "tls": False,
        "dst": "127.0.0.1:%d" % port, "method": "GET", "path": "/s4/python"},
        absent=("tls_library",))


def wait_ready(client, path, timeout=15):
    """True once client has created path (it signals its connection is up);
    False if it exits or timeout seconds pass first."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline or client.proc.poll() is not None:
            return False
        time.sleep(0.05)
    return True


def start_prestarted(ctx):
    """Before the sensor: python clients with their TLS connection already open.

    "linger" stays alive after its request until the test has looked at the
    event, like a long-running service; "exit" quits right after the response,
    like a batch job that was started before the sensor."""
    for kind in ("linger", "exit"):
        tok, fp = new_token(ctx)
        ready = os.path.join(ctx.workdir, "pre-%s.ready" % kind)
        go = os.path.join(ctx.workdir, "pre-%s.go" % kind)
        done = os.path.join(ctx.workdir, "pre-%s.done" % kind)
        cmd = [PY, os.path.join(HERE, "py_client.py"), "prestart",
               "https://127.0.0.1:%d/s5/%s" % (ctx.tls.port, kind), ready, go]
        if kind == "linger":
            cmd.append(done)
        pre = ctx.pre[kind] = {"fp": fp, "go": go, "done": done,
                               "client": Client(cmd, {"TT_TOKEN": tok})}
        if not wait_ready(pre["client"], ready):
            pre["error"] = "pre-started client did not connect"


def start_prestarted_h2(ctx):
    """Before the sensor: a node HTTP/2 connection with one request made, so
    its HPACK table already holds the credential when the sensor starts."""
    if not NODE:
        return
    try:
        port = h2_server(ctx).port
    except (Fail, Skip) as e:
        ctx.pre_h2 = {"error": str(e)}
        return
    old, _ = new_token(ctx)
    tok, fp = new_token(ctx)
    ready = os.path.join(ctx.workdir, "pre-h2.ready")
    go = os.path.join(ctx.workdir, "pre-h2.go")
    cmd = [NODE, os.path.join(HERE, "h2_client.js"), "https://127.0.0.1:%d/h2/pre?k=secret-ish" % port,
           "pre", ready, go]
    pre = ctx.pre_h2 = {"fp": fp, "old_fp": fingerprint(ctx.key_hex, old), "go": go, "port": port,
                           "client": Client(cmd, {"TT_TOKEN": old, "TT_TOKEN2": tok})}
    if not wait_ready(pre["client"], ready):
        pre["error"] = "pre-started HTTP/2 client did not connect"


def t_prestarted_h2(ctx):
    """A connection seen late: the credential sent as a literal is caught;
    the one sent as an index into a table never seen (x-api-key, indexed
    before the sensor started) is counted as undecodable, never guessed;
    :authority (also an index) is absent, not made up."""
    pre = getattr(ctx, "pre_h2", None)
    if not pre:
        raise Skip("node not installed")
    if "error" in pre:
        raise Fail(pre["error"])
    open(pre["go"], "w").close()
    client = pre["client"].finish(ctx)
    ev = seen_for(ctx, pre["fp"], client.pid)[0]
    check_fields(ev, {"exe": os.path.realpath(NODE), "pid": client.pid, "method": "GET",
                      "path": "/h2/pre?k=", "scheme": "Bearer", "header": "authorization"},
                 absent=("host",))

    def after_stop():
        evs = ctx.sensor.snapshot()
        if any(e.get("fingerprint") == pre["old_fp"] and e.get("pid") == client.pid for e in evs):
            raise Fail("a credential sent as an index into a table never seen was reported")
        st = [e for e in evs if e.get("event") == "sensor_status"]
        if not st or not st[-1].get("h2_undecodable"):
            raise Fail("h2_undecodable not counted in the last sensor_status")
    return after_stop


def prestarted(ctx, kind):
    pre = ctx.pre[kind]
    if "error" in pre:
        raise Fail(pre["error"])
    open(pre["go"], "w").close()
    client = pre["client"]
    try:
        if kind == "exit":
            client.finish(ctx)
        evs = seen_for(ctx, pre["fp"], client.pid)
    finally:
        open(pre["done"], "w").close()
        client.finish(ctx)
    check_fields(evs[0], {
        "exe": os.path.realpath(PY), "pid": client.pid, "tls": True, "tls_library": "openssl",
        "dst": "127.0.0.1:%d" % ctx.tls.port, "host": "127.0.0.1:%d" % ctx.tls.port,
        "method": "GET", "path": "/s5/" + kind})


def t_prestarted_client(ctx):
    prestarted(ctx, "linger")


def t_prestarted_client_exits(ctx):
    prestarted(ctx, "exit")


def raw_client(ctx, mode, env):
    return run_client(ctx, [PY, os.path.join(HERE, "py_client.py"), mode, "127.0.0.1",
                            str(ctx.plain.port)], env)


def t_split_writes(ctx):
    tok, fp = new_token(ctx)
    c = raw_client(ctx, "split", {"TT_TOKEN": tok})
    ev = seen_for(ctx, fp, c.pid)[0]
    check_fields(ev, {"exe": os.path.realpath(PY), "pid": c.pid, "tls": False,
                      "dst": "127.0.0.1:%d" % ctx.plain.port, "method": "GET",
                      "path": "/split?x="})


def t_big_cookie(ctx):
    tok, fp = new_token(ctx, "ghp")
    c = raw_client(ctx, "bigcookie", {"TT_TOKEN": tok})
    ev = seen_for(ctx, fp, c.pid)[0]
    check_fields(ev, {"exe": os.path.realpath(PY), "pid": c.pid, "tls": False,
                      "dst": "127.0.0.1:%d" % ctx.plain.port, "path": "/bigcookie"})


def t_pipelined(ctx):
    toks = [new_token(ctx) for _ in range(3)]
    c = raw_client(ctx, "pipeline", {"TT_TOKEN": toks[0][0], "TT_TOKEN2": toks[1][0],
                                     "TT_TOKEN3": toks[2][0]})
    if b"responses=3" not in c.out:
        raise Fail("client did not get 3 responses: %s" % c.out.decode(errors="replace").strip())
    bad = []
    for i, (_, fp) in enumerate(toks):
        try:
            ev = seen_for(ctx, fp, c.pid)[0]
            check_fields(ev, {"pid": c.pid, "path": "/pipe/%d" % i, "method": "GET"})
        except Fail as e:
            bad.append("request %d: %s" % (i + 1, e))
    if bad:
        raise Fail("; ".join(bad))


def t_query_param(ctx):
    tok, fp = new_token(ctx)
    c = run_client(ctx, [PY, os.path.join(HERE, "py_client.py"), "query",
                         "http://127.0.0.1:%d/s6/query" % ctx.plain.port], {"TT_TOKEN": tok})
    ev = seen_for(ctx, fp, c.pid)[0]
    check_fields(ev, {"exe": os.path.realpath(PY), "pid": c.pid, "tls": False,
                      "dst": "127.0.0.1:%d" % ctx.plain.port, "method": "GET",
                      "path": "/s6/query?access_token=&page="})


def t_keepalive_counts(ctx):
    tok, fp = new_token(ctx)
    n = 50
    c = run_client(ctx, [PY, os.path.join(HERE, "py_client.py"), "httpclient",
                         "https://127.0.0.1:%d/s7/count" % ctx.tls.port, str(n)], {"TT_TOKEN": tok})
    if b"requests=%d connections=1" % n not in c.out:
        raise Fail("client did not reuse one connection: %s" % c.out.decode(errors="replace").strip())
    seen_for(ctx, fp, c.pid)

    def after_stop():
        mine = [e for e in ctx.sensor.snapshot() if e.get("fingerprint") == fp and e.get("pid") == c.pid]
        total = sum(e.get("count", 0) for e in mine if e.get("event") == "token_usage")
        seen = sum(1 for e in mine if e.get("event") == "token_seen")
        if total != n:
            raise Fail("sum of token_usage counts for %s pid %d: expected %d, got %d"
                       % (fp, c.pid, n, total))
        if seen != 1:
            raise Fail("token_seen for one (token, process, destination): expected 1, got %d" % seen)
    return after_stop


def t_basic_auth(ctx):
    need(CURL, "curl")
    password = secrets.token_urlsafe(18)
    cred = base64.b64encode(("user:" + password).encode()).decode()
    ctx.tokens += [password, cred]
    # the secret of user:password is the password
    fp = fingerprint(ctx.key_hex, password)
    conf = curl_config(ctx, ['user = "user:%s"' % password])
    c = run_client(ctx, [CURL, "-sS", "-k", "--http1.1", "-o", "/dev/null", "-K", conf,
                         "https://127.0.0.1:%d/s8/basic" % ctx.tls.port])
    ev = seen_for(ctx, fp, c.pid)[0]
    check_fields(ev, {"exe": os.path.realpath(CURL), "pid": c.pid, "token_type": "basic",
                      "basic_user": "user", "scheme": "Basic", "tls": True,
                      "dst": "127.0.0.1:%d" % ctx.tls.port, "path": "/s8/basic"})


def t_basic_and_bearer_one_token(ctx):
    """A GitHub token sent by git's way (Basic x-access-token:TOKEN) and as a
    Bearer token is one token: one fingerprint, one type."""
    need(CURL, "curl")
    tok, fp = new_token(ctx, "ghp")
    ctx.tokens.append(base64.b64encode(("x-access-token:" + tok).encode()).decode())
    port = ctx.plain.port
    basic = curl_config(ctx, ['user = "x-access-token:%s"' % tok])
    bearer = curl_config(ctx, ['header = "Authorization: Bearer %s"' % tok])
    c1 = run_client(ctx, [CURL, "-sS", "-o", "/dev/null", "-K", basic,
                          "http://127.0.0.1:%d/s8/as-basic" % port])
    c2 = run_client(ctx, [CURL, "-sS", "-o", "/dev/null", "-K", bearer,
                          "http://127.0.0.1:%d/s8/as-bearer" % port])
    ev1 = seen_for(ctx, fp, c1.pid)[0]
    ev2 = seen_for(ctx, fp, c2.pid)[0]
    check_fields(ev1, {"token_type": "github_pat", "scheme": "Basic",
                       "basic_user": "x-access-token", "path": "/s8/as-basic"})
    check_fields(ev2, {"token_type": "github_pat", "scheme": "Bearer", "path": "/s8/as-bearer"})


def t_url_path_token(ctx):
    """A Telegram bot token in the URL path: extracted, typed, and the path
    reported with the token replaced."""
    need(CURL, "curl")
    tok = "%d:%s" % (secrets.randbelow(9 * 10**9) + 10**9, secrets.token_urlsafe(26)[:35])
    ctx.tokens.append(tok)
    fp = fingerprint(ctx.key_hex, tok)
    port = ctx.plain.port
    conf = curl_config(ctx, ['url = "http://127.0.0.1:%d/bot%s/getMe?offset=7"' % (port, tok)])
    c = run_client(ctx, [CURL, "-sS", "-o", "/dev/null", "-K", conf])
    ev = seen_for(ctx, fp, c.pid)[0]
    check_fields(ev, {"token_type": "telegram_bot", "header": "telegram-bot-path",
                      "path": "/bot{redacted}/getMe?offset=", "tls": False})


def t_mount_namespace(ctx):
    """A process in its own mount namespace whose libssl path holds another
    file (as in a container): found through /proc/PID/root and attached."""
    unshare = shutil.which("unshare")
    need(unshare, "unshare")
    src = "/usr/lib/x86_64-linux-gnu/libssl.so.3"
    need(src, "libssl.so.3")
    copy = os.path.join(ctx.workdir, "nslibssl.so.3")
    shutil.copy2(src, copy)
    tok, fp = new_token(ctx)
    port = ctx.tls.port
    script = 'mount --bind "$0" %s && exec "$@"' % src
    c = run_client(ctx, [unshare, "-m", "--propagation", "private", "sh", "-c", script, copy,
                         PY, os.path.join(HERE, "late_ssl.py"),
                         "https://127.0.0.1:%d/s12/mountns" % port, ATTACH_ALLOWANCE],
                   {"TT_TOKEN": tok, "TT_EXPECT_INO": str(os.stat(copy).st_ino)})
    if b"mapped_copy=1" not in c.out:
        raise Fail("the client in its mount namespace did not map the library copy")
    ev = seen_for(ctx, fp, c.pid)[0]
    check_fields(ev, {
        "pid": c.pid, "tls": True, "tls_library": "openssl", "exe": os.path.realpath(PY),
        "dst": "127.0.0.1:%d" % port, "path": "/s12/mountns"})


def t_container_id(ctx):
    """A client in a cgroup named like a container runtime's: container_id set."""
    root = None
    for cand in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
        if os.path.exists(os.path.join(cand, "cgroup.procs")) and \
                os.path.exists(os.path.join(cand, "cgroup.controllers")):
            root = cand
            break
    need(root, "a writable cgroup v2 hierarchy")
    cid = secrets.token_hex(32)
    cg = os.path.join(root, "docker-%s.scope" % cid)
    os.mkdir(cg)
    try:
        need(CURL, "curl")
        tok, fp = new_token(ctx)
        port = ctx.plain.port
        conf = curl_config(ctx, ['header = "Authorization: Bearer %s"' % tok])
        c = run_client(ctx, ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', cg,
                             CURL, "-sS", "-o", "/dev/null", "-K", conf,
                             "http://127.0.0.1:%d/s13/container" % port])
        ev = seen_for(ctx, fp, c.pid)[0]
        check_fields(ev, {"pid": c.pid, "exe": os.path.realpath(CURL), "container_id": cid,
                          "path": "/s13/container"})
    finally:
        for _ in range(50):
            try:
                os.rmdir(cg)
                break
            except OSError:
                time.sleep(0.1)


def t_wget_gnutls(ctx):
    wget = shutil.which("wget")
    need(wget, "wget")
    tok, fp = new_token(ctx)
    port = ctx.tls.port
    conf = os.path.join(ctx.workdir, "wgetrc")
    fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("header = Authorization: Bearer %s\n" % tok)
    c = run_client(ctx, [wget, "-q", "--config=" + conf, "--no-check-certificate", "-O", "/dev/null",
                         "https://127.0.0.1:%d/s11/wget?q=secret-ish" % port])
    ev = seen_for(ctx, fp, c.pid)[0]
    check_fields(ev, {
        "exe": os.path.realpath(wget), "pid": c.pid, "tls": True, "tls_library": "gnutls",
        "dst": "127.0.0.1:%d" % port, "method": "GET", "path": "/s11/wget?q="})


def t_gnutls_cli(ctx):
    cli = shutil.which("gnutls-cli")
    need(cli, "gnutls-cli (gnutls-bin)")
    tok, fp = new_token(ctx)
    port = ctx.tls.port
    req = ("GET /s11/gnutls-cli HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
           "Connection: close\r\n\r\n" % (port, tok)).encode()
    p = spawn([cli, "--insecure", "-p", str(port), "127.0.0.1"], stdin=subprocess.PIPE,
              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(req, timeout=CLIENT_TIMEOUT)
    except subprocess.TimeoutExpired:
        reap(p)
        out, err = p.communicate()
    ctx.outputs += [out, err]
    ev = seen_for(ctx, fp, p.pid)[0]
    check_fields(ev, {
        "exe": os.path.realpath(cli), "pid": p.pid, "tls": True, "tls_library": "gnutls",
        "dst": "127.0.0.1:%d" % port, "method": "GET", "path": "/s11/gnutls-cli"})


def t_nss_tstclnt(ctx):
    """NSS (PR_Write/PR_Send in libnspr4) with NSS's own test client."""
    cli, certutil = shutil.which("tstclnt"), shutil.which("certutil")
    need(cli, "tstclnt (libnss3-tools)")
    need(certutil, "certutil (libnss3-tools)")
    db = os.path.join(ctx.workdir, "nssdb")
    os.makedirs(db, exist_ok=True)
    subprocess.run([certutil, "-N", "-d", "sql:" + db, "--empty-password"], check=True,
                   capture_output=True, timeout=30)
    tok, fp = new_token(ctx)
    port = ctx.tls.port
    req = ("GET /s14/nss?q=secret-ish HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
           "Connection: close\r\n\r\n" % (port, tok)).encode()
    p = spawn([cli, "-h", "127.0.0.1", "-p", str(port), "-o", "-d", "sql:" + db], stdin=subprocess.PIPE,
              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(req, timeout=CLIENT_TIMEOUT)
    except subprocess.TimeoutExpired:
        reap(p)
        out, err = p.communicate()
    ctx.outputs += [out, err]
    ev = seen_for(ctx, fp, p.pid)[0]
    check_fields(ev, {
        "exe": os.path.realpath(cli), "pid": p.pid, "tls": True, "tls_library": "nss",
        "dst": "127.0.0.1:%d" % port, "method": "GET", "path": "/s14/nss?q=",
        "host": "127.0.0.1:%d" % port})


def t_late_library(ctx):
    """A libssl copy at a path no process mapped when the sensor started,
    loaded by a lazy `import ssl`: attached at run time within 1 s."""
    libdir = os.path.join(ctx.workdir, "latelib")
    os.makedirs(libdir, exist_ok=True)
    src = None
    for cand in ("/usr/lib/x86_64-linux-gnu/libssl.so.3", "/lib/x86_64-linux-gnu/libssl.so.3"):
        if os.path.exists(cand):
            src = cand
            break
    need(src, "libssl.so.3")
    shutil.copy2(src, os.path.join(libdir, "libssl.so.3"))
    tok, fp = new_token(ctx)
    port = ctx.tls.port
    ctx.late_before = last_status(ctx)
    c = run_client(ctx, [PY, os.path.join(HERE, "late_ssl.py"),
                         "https://127.0.0.1:%d/s10/late" % port, ATTACH_ALLOWANCE],
                   {"TT_TOKEN": tok, "TT_LIBDIR": libdir, "LD_LIBRARY_PATH": libdir})
    if b"mapped_copy=1" not in c.out:
        raise Fail("the client did not map the library copy (LD_LIBRARY_PATH ignored?)")
    ev = seen_for(ctx, fp, c.pid)[0]
    check_fields(ev, {
        "exe": os.path.realpath(PY), "pid": c.pid, "tls": True, "tls_library": "openssl",
        "dst": "127.0.0.1:%d" % port, "method": "GET", "path": "/s10/late"})


def last_status(ctx):
    """The sensor's latest sensor_status event (waiting for one)."""
    evs = ctx.sensor.wait_for(lambda e: e.get("event") == "sensor_status", timeout=5)
    if not evs:
        raise Fail("no sensor_status event")
    return [e for e in ctx.sensor.snapshot() if e.get("event") == "sensor_status"][-1]


def status_after(ctx, start, pred, timeout=EVENT_TIMEOUT):
    """The first sensor_status among the events from index start on that
    satisfies pred, waiting up to timeout; None if none does."""
    deadline = time.monotonic() + timeout
    while True:
        for e in ctx.sensor.snapshot()[start:]:
            if e.get("event") == "sensor_status" and pred(e):
                return e
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)


def t_late_library_released(ctx):
    """The late-loaded library copy's process has exited and nothing else
    maps the file: its probes are released (detached_files up, the library
    count back), and a new process mapping it is attached and caught again."""
    before = getattr(ctx, "late_before", None)
    if not before:
        raise Skip("late_loaded_library did not run")
    libdir = os.path.join(ctx.workdir, "latelib")
    st = status_after(ctx, 0, lambda e: e.get("detached_files", 0) > before.get("detached_files", 0)
                      and e.get("attached_libraries", 0) <= before.get("attached_libraries", 0))
    if not st:
        last = last_status(ctx)
        raise Fail("library copy not released: detached_files %s -> %s, attached_libraries %s -> %s"
                   % (before.get("detached_files"), last.get("detached_files"),
                      before.get("attached_libraries"), last.get("attached_libraries")))
    tok, fp = new_token(ctx)
    port = ctx.tls.port
    c = run_client(ctx, [PY, os.path.join(HERE, "late_ssl.py"),
                         "https://127.0.0.1:%d/s10/again" % port, ATTACH_ALLOWANCE],
                   {"TT_TOKEN": tok, "TT_LIBDIR": libdir, "LD_LIBRARY_PATH": libdir})
    if b"mapped_copy=1" not in c.out:
        raise Fail("the client did not map the library copy")
    ev = seen_for(ctx, fp, c.pid)[0]
    check_fields(ev, {"pid": c.pid, "tls": True, "tls_library": "openssl",
                      "dst": "127.0.0.1:%d" % port, "path": "/s10/again"})


def read_line(p, timeout=CLIENT_TIMEOUT):
    """One stdout line of a running client, or b"" on timeout or EOF."""
    r, _, _ = select.select([p.stdout], [], [], timeout)
    return p.stdout.readline().strip() if r else b""


def t_close_frees_sessions(ctx):
    """A client closes a plaintext and a TLS keep-alive connection but lives
    on: both sessions are freed at the close (sensor_status: sessions down by
    two, sessions_closed up by two), not at its exit or an idle timeout."""
    tok, fp = new_token(ctx)
    close_f = os.path.join(ctx.workdir, "close-now")
    done_f = os.path.join(ctx.workdir, "close-done")
    env = dict(os.environ, TT_TOKEN=tok, TT_CLOSE_FILE=close_f, TT_DONE_FILE=done_f)
    p = spawn([PY, os.path.join(HERE, "close_client.py"),
               "http://127.0.0.1:%d/s13/plain" % ctx.plain.port,
               "https://127.0.0.1:%d/s13/tls" % ctx.tls.port],
              env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        if read_line(p) != b"sent":
            raise Fail("close_client did not send its requests")
        deadline = time.monotonic() + EVENT_TIMEOUT
        while True:
            seen = {e.get("dst") for e in ctx.sensor.snapshot() if e.get("event") == "token_seen"
                    and e.get("fingerprint") == fp and e.get("pid") == p.pid}
            if len(seen) >= 2:
                break
            if time.monotonic() > deadline:
                raise Fail("expected token_seen for 2 connections, got %d" % len(seen))
            time.sleep(0.05)
        open_st = status_after(ctx, len(ctx.sensor.snapshot()), lambda e: True)
        if not open_st:
            raise Fail("no sensor_status while the connections were open")
        open(close_f, "w").close()
        if read_line(p) != b"closed":
            raise Fail("close_client did not close its connections")
        st = status_after(ctx, len(ctx.sensor.snapshot()),
                          lambda e: e.get("sessions_closed", 0) >= open_st.get("sessions_closed", 0) + 2
                          and e.get("sessions", 0) <= open_st.get("sessions", 0) - 2)
        if not st:
            last = last_status(ctx)
            raise Fail("sessions not freed at close: sessions %s -> %s, sessions_closed %s -> %s"
                       % (open_st.get("sessions"), last.get("sessions"),
                          open_st.get("sessions_closed"), last.get("sessions_closed")))
    finally:
        open(done_f, "w").close()
        try:
            out, err = p.communicate(timeout=CLIENT_TIMEOUT)
        except subprocess.TimeoutExpired:
            reap(p)
            out, err = p.communicate()
        ctx.outputs += [out, err]


def build_go_clients(ctx):
    """go_client built normally and with -ldflags="-s -w" (no symbol table),
    before the sensor starts. Sets ctx.go to the two paths, or ctx.go_err."""
    if not GO:
        ctx.go_err = "go not installed (golang-go)"
        return
    gotmp = os.path.join(ctx.workdir, "gobuild")
    env = dict(os.environ, GOCACHE=os.path.join(gotmp, "cache"), GOPATH=os.path.join(gotmp, "path"),
               CGO_ENABLED="0", GOFLAGS="", GOTOOLCHAIN="local")
    src = os.path.join(HERE, "go_client", "main.go")
    plain = os.path.join(ctx.workdir, "goclient")
    stripped = os.path.join(ctx.workdir, "goclient-stripped")
    os.makedirs(gotmp, exist_ok=True)
    for out, extra in ((plain, []), (stripped, ["-ldflags=-s -w"])):
        p = subprocess.run([GO, "build"] + extra + ["-o", out, src], env=env, cwd=gotmp,
                           capture_output=True, timeout=300)
        if p.returncode != 0:
            ctx.go_err = "go build failed: %s" % p.stderr.decode(errors="replace")[-300:]
            return
    ctx.go = (plain, stripped)
    # gRPC-Go, in GOPATH mode against Debian's golang-google-grpc-dev
    if not os.path.isdir(GRPC_GO_SRC):
        ctx.grpc_go_err = "gRPC-Go not installed (golang-google-grpc-dev)"
        return
    out = os.path.join(ctx.workdir, "grpc_go")
    p = subprocess.run([GO, "build", "-o", out, os.path.join(HERE, "grpc_go", "main.go")],
                       env=dict(env, GO111MODULE="off",
                                GOPATH=os.path.join(gotmp, "path") + ":/usr/share/gocode"),
                       cwd=gotmp, capture_output=True, timeout=300)
    if p.returncode != 0:
        ctx.grpc_go_err = "go build of grpc_go failed: %s" % p.stderr.decode(errors="replace")[-300:]
        return
    ctx.grpc_go = out


def go_https(ctx, exe, path):
    if not ctx.go:
        raise Skip(ctx.go_err or "Go clients not built")
    tok, fp = new_token(ctx)
    port = ctx.tls.port
    n = 20
    # The delay lets the sensor attach to the new executable before the first write.
    c = run_client(ctx, [exe, "https://127.0.0.1:%d%s?q=secret-ish" % (port, path), str(n)],
                   {"TT_TOKEN": tok, "TT_DELAY_MS": "1000"})
    if b"requests=%d connections=1" % n not in c.out:
        raise Fail("client did not reuse one connection: %s" % c.out.decode(errors="replace").strip())
    ev = seen_for(ctx, fp, c.pid)[0]
    check_fields(ev, {
        "exe": os.path.realpath(exe), "pid": c.pid, "tls": True, "tls_library": "go",
        "dst": "127.0.0.1:%d" % port, "host": "127.0.0.1:%d" % port, "method": "GET",
        "path": path + "?q="})

    def after_stop():
        mine = [e for e in ctx.sensor.snapshot() if e.get("fingerprint") == fp and e.get("pid") == c.pid]
        total = sum(e.get("count", 0) for e in mine if e.get("event") == "token_usage")
        if total != n:
            raise Fail("sum of token_usage counts for %s pid %d: expected %d, got %d"
                       % (fp, c.pid, n, total))
    return after_stop


def t_go_https_http11(ctx):
    return go_https(ctx, ctx.go[0] if ctx.go else None, "/s12/go")


def t_go_https_http11_stripped(ctx):
    return go_https(ctx, ctx.go[1] if ctx.go else None, "/s12/go-stripped")


def go_h2(ctx, exe, path):
    """Go's net/http with HTTP/2 negotiated (its default over TLS): n requests
    as streams of one connection. Go's HPACK encoder marks no field
    sensitive, so Authorization and X-Api-Key both enter its dynamic table
    and requests 2..n send them as indices. The fields are captured at the
    encoder, hpack.(*Encoder).WriteField, before that: both counted exactly
    n times, never twice (the TLS writes are not decoded as well). The
    thread's next TLS write, the HEADERS frame, names the session: dst."""
    if not ctx.go:
        raise Skip(ctx.go_err or "Go clients not built")
    port = h2_server(ctx).port
    tok, fp = new_token(ctx, "ghp")
    key, key_fp = new_token(ctx)
    n = 5
    c = run_client(ctx, [exe, "https://127.0.0.1:%d%s?q=secret-ish" % (port, path), str(n)],
                   {"TT_TOKEN": tok, "TT_TOKEN2": key, "TT_H2": "1", "TT_DELAY_MS": "1000"})
    if b"requests=%d connections=1 proto=HTTP/2.0" % n not in c.out:
        raise Fail("client did not make %d HTTP/2 requests on one connection: %s"
                   % (n, c.out.decode(errors="replace").strip()))
    want = {"exe": os.path.realpath(exe), "pid": c.pid, "tls": True, "tls_library": "go",
            "host": "127.0.0.1:%d" % port, "method": "GET", "path": path + "?q=",
            "dst": "127.0.0.1:%d" % port}
    ev = seen_for(ctx, fp, c.pid)[0]
    check_fields(ev, dict(want, scheme="Bearer", header="authorization"))
    ev = seen_for(ctx, key_fp, c.pid)[0]
    check_fields(ev, dict(want, header="x-api-key"))
    counts = [h2_counts(ctx, fp, c.pid, n), h2_counts(ctx, key_fp, c.pid, n)]
    return lambda: [f() for f in counts]


def t_go_https_http2(ctx):
    return go_h2(ctx, ctx.go[0] if ctx.go else None, "/h2/go")


def t_go_https_http2_stripped(ctx):
    return go_h2(ctx, ctx.go[1] if ctx.go else None, "/h2/go-stripped")


def start_prestarted_go_h2(ctx):
    """Before the sensor: go_client's HTTP/2 connection with one request made,
    so Go's HPACK table already holds the credentials when the sensor starts."""
    if not ctx.go or not NODE:
        return
    try:
        port = h2_server(ctx).port
    except (Fail, Skip) as e:
        ctx.pre_go_h2 = {"error": str(e)}
        return
    tok, fp = new_token(ctx, "ghp")
    key, key_fp = new_token(ctx)
    ready = os.path.join(ctx.workdir, "pre-goh2.ready")
    go = os.path.join(ctx.workdir, "pre-goh2.go")
    n = 4
    cmd = [ctx.go[0], "https://127.0.0.1:%d/h2/go-pre?q=secret-ish" % port, str(n)]
    pre = ctx.pre_go_h2 = {"fp": fp, "key_fp": key_fp, "go": go, "port": port, "n": n,
                           "client": Client(cmd, {"TT_TOKEN": tok, "TT_TOKEN2": key, "TT_H2": "1",
                                                  "TT_READY": ready, "TT_GO": go})}
    if not wait_ready(pre["client"], ready):
        pre["error"] = "pre-started Go HTTP/2 client did not connect"


def t_prestarted_go_h2(ctx):
    """A Go HTTP/2 connection opened before the sensor: its HPACK table holds
    the credentials as indices the sensor never saw, but the encoder probe
    sees the fields before encoding: the 3 requests made after the start
    are counted exactly, with host, path and dst (see go_h2)."""
    pre = getattr(ctx, "pre_go_h2", None)
    if not pre:
        raise Skip(ctx.go_err or "node not installed")
    if "error" in pre:
        raise Fail(pre["error"])
    open(pre["go"], "w").close()
    client = pre["client"].finish(ctx)
    if b"requests=%d connections=1 proto=HTTP/2.0" % pre["n"] not in client.out:
        raise Fail("client did not reuse one HTTP/2 connection: %s" % client.out.decode(errors="replace").strip())
    want = {"exe": os.path.realpath(ctx.go[0]), "pid": client.pid, "tls": True, "tls_library": "go",
            "host": "127.0.0.1:%d" % pre["port"], "method": "GET", "path": "/h2/go-pre?q=",
            "dst": "127.0.0.1:%d" % pre["port"]}
    ev = seen_for(ctx, pre["fp"], client.pid)[0]
    check_fields(ev, dict(want, scheme="Bearer", header="authorization"))
    ev = seen_for(ctx, pre["key_fp"], client.pid)[0]
    check_fields(ev, dict(want, header="x-api-key"))
    counts = [h2_counts(ctx, pre["fp"], client.pid, pre["n"] - 1),
              h2_counts(ctx, pre["key_fp"], client.pid, pre["n"] - 1)]
    return lambda: [f() for f in counts]


def grpc_go_server(ctx):
    """gRPC-Go's TLS server (tests/e2e/grpc_go), started on first use."""
    if not getattr(ctx, "grpc_go", None):
        raise Skip(getattr(ctx, "grpc_go_err", None) or ctx.go_err or "Go clients not built")
    if not getattr(ctx, "grpc_go_srv", None):
        ctx.grpc_go_srv = Server(ctx.workdir, "grpc_go", True, cmd=[
            ctx.grpc_go, "server", os.path.join(ctx.workdir, "cert.pem"),
            os.path.join(ctx.workdir, "key.pem")])
    return ctx.grpc_go_srv


def grpc_go_checks(ctx, client, fp, key_fp, port, n):
    """The fields of both credentials' first sightings, then (after the stop)
    exactly n calls each, and nothing from the server, whose writeHeader
    carries its responses."""
    want = {"exe": os.path.realpath(ctx.grpc_go), "pid": client.pid, "tls": True,
            "tls_library": "go", "host": "127.0.0.1:%d" % port, "method": "POST",
            "path": "/grpc.health.v1.Health/Check", "dst": "127.0.0.1:%d" % port}
    ev = seen_for(ctx, fp, client.pid)[0]
    check_fields(ev, dict(want, scheme="Bearer", header="authorization"))
    ev = seen_for(ctx, key_fp, client.pid)[0]
    check_fields(ev, dict(want, header="x-api-key"))
    counts = [h2_counts(ctx, fp, client.pid, n), h2_counts(ctx, key_fp, client.pid, n)]
    server = ctx.grpc_go_srv.proc.pid

    def after_stop():
        for f in counts:
            f()
        theirs = [e.get("event") for e in ctx.sensor.snapshot()
                  if e.get("pid") == server and e.get("fingerprint")]
        if theirs:
            raise Fail("the gRPC server's responses were reported as requests: %s" % theirs)
    return after_stop


def prog_runs(prefixes):
    """Runs of the loaded BPF programs whose names start with one of prefixes
    (kernel.bpf_stats_enabled must be on)."""
    p = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, timeout=30)
    if p.returncode != 0:
        raise Fail("bpftool prog show: %s" % p.stderr.decode(errors="replace")[-200:])
    return sum(q.get("run_cnt", 0) for q in json.loads(p.stdout or b"[]")
               if any(q.get("name", "").startswith(x) for x in prefixes))


def t_go_grpc(ctx):
    """gRPC-Go encodes each call's header block in (*loopyWriter).writeHeader:
    probed there, once per call, with the fields before HPACK (gRPC-Go
    indexes both credentials, so calls 2..n send them as table indices).
    Exact counts, path, :authority and dst. The per-field encoder probe
    does not run (the programs' run counts, with BPF statistics on)."""
    port = grpc_go_server(ctx).port
    tok, fp = new_token(ctx, "ghp")
    key, key_fp = new_token(ctx)
    n = 5
    stats = "/proc/sys/kernel/bpf_stats_enabled"
    with open(stats) as f:
        was = f.read().strip()
    with open(stats, "w") as f:
        f.write("1")
    try:
        block0 = prog_runs(["probe_go_grpc_hdr"])
        field0 = prog_runs(["probe_go_hfield"])
        c = run_client(ctx, [ctx.grpc_go, "client", "127.0.0.1:%d" % port, str(n)],
                       {"TT_TOKEN": tok, "TT_TOKEN2": key})
        blocks = prog_runs(["probe_go_grpc_hdr"]) - block0
        fields = prog_runs(["probe_go_hfield"]) - field0
    finally:
        with open(stats, "w") as f:
            f.write(was)
    if b"rpcs=%d" % n not in c.out:
        raise Fail("gRPC client did not make %d calls: %s" % (n, c.out.decode(errors="replace").strip()))
    # the client's n blocks, the server's responses and trailers, the health
    # service's nothing else; the encoder probe never
    if blocks < n or fields:
        raise Fail("probe runs during %d calls: writeHeader %d (expected >= %d), encoder %d "
                   "(expected 0)" % (n, blocks, n, fields))
    return grpc_go_checks(ctx, c, fp, key_fp, port, n)


def start_prestarted_go_grpc(ctx):
    """Before the sensor: a gRPC-Go connection with one call made."""
    if not getattr(ctx, "grpc_go", None):
        return
    try:
        port = grpc_go_server(ctx).port
    except (Fail, Skip) as e:
        ctx.pre_go_grpc = {"error": str(e)}
        return
    tok, fp = new_token(ctx, "ghp")
    key, key_fp = new_token(ctx)
    ready = os.path.join(ctx.workdir, "pre-grpc.ready")
    go = os.path.join(ctx.workdir, "pre-grpc.go")
    n = 4
    cmd = [ctx.grpc_go, "client", "127.0.0.1:%d" % port, str(n)]
    pre = ctx.pre_go_grpc = {"fp": fp, "key_fp": key_fp, "go": go, "port": port, "n": n,
                             "client": Client(cmd, {"TT_TOKEN": tok, "TT_TOKEN2": key,
                                                    "TT_READY": ready, "TT_GO": go})}
    if not wait_ready(pre["client"], ready):
        pre["error"] = "pre-started gRPC-Go client did not connect"


def t_prestarted_go_grpc(ctx):
    """A gRPC-Go connection opened before the sensor: the 3 calls made after
    its start are counted exactly, with path and dst."""
    pre = getattr(ctx, "pre_go_grpc", None)
    if not pre:
        raise Skip(getattr(ctx, "grpc_go_err", None) or ctx.go_err or "Go clients not built")
    if "error" in pre:
        raise Fail(pre["error"])
    open(pre["go"], "w").close()
    client = pre["client"].finish(ctx)
    if b"rpcs=%d" % pre["n"] not in client.out:
        raise Fail("gRPC client did not make %d calls: %s"
                   % (pre["n"], client.out.decode(errors="replace").strip()))
    return grpc_go_checks(ctx, client, pre["fp"], pre["key_fp"], pre["port"], pre["n"] - 1)


def install_grpc(ctx):
    """@grpc/grpc-js from npm into the work dir, before the sensor starts (so
    npm's own traffic is not part of the run). Sets ctx.grpc_modules, or
    ctx.grpc_err when npm or the network is not there."""
    npm = shutil.which("npm")
    if not npm or not NODE:
        ctx.grpc_err = "npm or node not installed"
        return
    d = os.path.join(ctx.workdir, "grpc")
    os.makedirs(d, exist_ok=True)
    try:
        p = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", d,
                            "@grpc/grpc-js"], cwd=d, capture_output=True, timeout=120,
                           env=dict(os.environ, npm_config_cache=os.path.join(d, "cache")))
    except subprocess.TimeoutExpired:
        ctx.grpc_err = "npm install @grpc/grpc-js timed out"
        return
    mods = os.path.join(d, "node_modules")
    if p.returncode != 0 or not os.path.isdir(os.path.join(mods, "@grpc", "grpc-js")):
        ctx.grpc_err = "npm install @grpc/grpc-js failed"
        return
    ctx.grpc_modules = mods


def t_grpc_unary_authorization(ctx):
    """grpc-js unary calls over TLS on one channel with authorization metadata:
    gRPC metadata travels as HTTP/2 header fields of each call's HEADERS."""
    mods = getattr(ctx, "grpc_modules", None)
    if not mods:
        raise Skip(getattr(ctx, "grpc_err", None) or "@grpc/grpc-js not installed")
    env = {"NODE_PATH": mods}
    cert = os.path.join(ctx.workdir, "cert.pem")
    if not getattr(ctx, "grpc", None):
        full = dict(os.environ, NODE_PATH=mods)
        ctx.grpc = Server(ctx.workdir, "grpc", True, cmd=[
            NODE, os.path.join(HERE, "grpc_server.js"), cert, os.path.join(ctx.workdir, "key.pem")],
            env=full)
    port = ctx.grpc.port
    tok, fp = new_token(ctx)
    n = 3
    c = run_client(ctx, [NODE, os.path.join(HERE, "grpc_client.js"), "127.0.0.1:%d" % port, cert, str(n)],
                   dict(env, TT_TOKEN=tok))
    if b"calls=%d" % n not in c.out:
        raise Fail("grpc client did not finish %d calls: %s" % (n, c.out.decode(errors="replace").strip()))
    ev = seen_for(ctx, fp, c.pid)[0]
    check_fields(ev, {
        "exe": os.path.realpath(NODE), "pid": c.pid, "tls": True, "host": "127.0.0.1:%d" % port,
        "method": "POST", "path": "/tt.Echo/Call", "scheme": "Bearer", "header": "authorization"})
    if "dst" in ev:
        check_fields(ev, {"dst": "127.0.0.1:%d" % port})
    return h2_counts(ctx, fp, c.pid, n)


def t_go_pclntab_matches_symbols(ctx):
    """The .gopclntab reader on the real binaries: the stripped one gives the
    unstripped one's symbol address (the unit test, given the binaries)."""
    if not ctx.go:
        raise Skip(ctx.go_err or "Go clients not built")
    test = os.path.join(os.path.dirname(sensor_bin()), "tests", "test_gopclntab")
    need(test, "test_gopclntab (make unit)")
    p = subprocess.run([test], env=dict(os.environ, TT_GO_BIN=ctx.go[0], TT_GO_BIN_STRIPPED=ctx.go[1]),
                       capture_output=True, timeout=60)
    out = p.stdout + p.stderr
    if p.returncode != 0 or b"[  SKIPPED ]" in out:
        raise Fail("test_gopclntab on the Go clients: %s" % out.decode(errors="replace")[-300:])


def h2_server(ctx):
    """node's HTTP/2 TLS server (ALPN h2), started on first use."""
    need(NODE, "node")
    if not getattr(ctx, "h2", None):
        ctx.h2 = Server(ctx.workdir, "h2", True, cmd=[
            NODE, os.path.join(HERE, "h2_server.js"),
            os.path.join(ctx.workdir, "cert.pem"), os.path.join(ctx.workdir, "key.pem")])
    return ctx.h2


def h2_counts(ctx, fp, pid, n):
    """After the stop: exactly n requests counted for (fp, pid), one token_seen."""
    def after_stop():
        mine = [e for e in ctx.sensor.snapshot() if e.get("fingerprint") == fp and e.get("pid") == pid]
        total = sum(e.get("count", 0) for e in mine if e.get("event") == "token_usage")
        seen = sum(1 for e in mine if e.get("event") == "token_seen")
        if total != n:
            raise Fail("sum of token_usage counts for %s pid %d: expected %d, got %d" % (fp, pid, n, total))
        if seen != 1:
            raise Fail("token_seen for one (token, process, destination): expected 1, got %d" % seen)
    return after_stop


def t_curl_h2(ctx):
    """Three requests on one HTTP/2 connection. nghttp2 sends Authorization
    as a never-indexed literal every time, but indexes X-Api-Key: the 2nd
    and 3rd requests send that one as an HPACK dynamic-table index, so only
    a stateful decoder counts all three."""
    need(CURL, "curl")
    port = h2_server(ctx).port
    tok, fp = new_token(ctx, "ghp")
    key, key_fp = new_token(ctx)
    conf = curl_config(ctx, ['header = "Authorization: Bearer %s"' % tok,
                             'header = "X-Api-Key: %s"' % key])
    base = "https://127.0.0.1:%d" % port
    c = run_client(ctx, [CURL, "-sS", "-k", "--http2", "-K", conf,
                         "-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null",
                         "-w", "%{http_version} %{num_connects}\\n",
                         base + "/h2/one?q=secret-ish", base + "/h2/two", base + "/h2/three"])
    if c.out.decode().split() != ["2", "1", "2", "0", "2", "0"]:
        raise Fail("curl did not make 3 HTTP/2 requests on one connection: %r" % c.out.decode())
    want = {"exe": os.path.realpath(CURL), "pid": c.pid, "comm": "curl", "tls": True,
            "tls_library": "openssl", "dst": "127.0.0.1:%d" % port, "host": "127.0.0.1:%d" % port,
            "method": "GET", "path": "/h2/one?q="}
    ev = seen_for(ctx, fp, c.pid)[0]
    check_fields(ev, dict(want, scheme="Bearer", header="authorization"))
    ev = seen_for(ctx, key_fp, c.pid)[0]
    check_fields(ev, dict(want, header="x-api-key"))
    counts = [h2_counts(ctx, fp, c.pid, 3), h2_counts(ctx, key_fp, c.pid, 3)]
    return lambda: [f() for f in counts]


def t_node_h2(ctx):
    port = h2_server(ctx).port
    tok, fp = new_token(ctx)
    c = run_client(ctx, [NODE, os.path.join(HERE, "h2_client.js"),
                         "https://127.0.0.1:%d/h2/node?k=secret-ish" % port, "3"], {"TT_TOKEN": tok})
    ev = seen_for(ctx, fp, c.pid)[0]
    check_fields(ev, {
        "exe": os.path.realpath(NODE), "pid": c.pid, "host": "127.0.0.1:%d" % port,
        "method": "GET", "path": "/h2/node?k=", "scheme": "Bearer", "header": "authorization"})
    # Memory BIOs may hide the socket; what is reported must still be right.
    if "dst" in ev:
        check_fields(ev, {"dst": "127.0.0.1:%d" % port})
    return h2_counts(ctx, fp, c.pid, 3)


def h2_sides(pid):
    """The h2_conns values (1 client, 2 server) of pid's sessions, from the loaded map."""
    p = subprocess.run(["bpftool", "-j", "map", "dump", "name", "h2_conns"], capture_output=True,
                       timeout=30)
    if p.returncode != 0:
        raise Fail("bpftool map dump name h2_conns: %s" % p.stderr.decode(errors="replace")[-200:])
    out = []
    for ent in json.loads(p.stdout or b"[]"):
        f = ent.get("formatted", ent)
        key, val = f.get("key"), f.get("value")
        if isinstance(key, dict) and key.get("tgid") == pid:
            out.append(val)
    return sorted(out)


def t_h2_server_writes_left(ctx):
    """An HTTP/2 server's writes are responses: its session is marked a
    server's in the kernel at its first response, none of its writes is
    captured after, and the mark goes with the connection. A token-shaped
    response header is no credential the server uses. The client's
    requests on the same connection are still counted."""
    need(NODE, "node")
    resp_tok, resp_fp = new_token(ctx)
    srv = Server(ctx.workdir, "h2resp", True, env=dict(os.environ, TT_RESPONSE_KEY=resp_tok), cmd=[
        NODE, os.path.join(HERE, "h2_server.js"),
        os.path.join(ctx.workdir, "cert.pem"), os.path.join(ctx.workdir, "key.pem")])
    try:
        tok, fp = new_token(ctx)
        tok2, fp2 = new_token(ctx)
        ready = os.path.join(ctx.workdir, "h2resp.ready")
        go = os.path.join(ctx.workdir, "h2resp.go")
        # two requests (node answers the first with its SETTINGS ack in
        # front, the second with HEADERS first), a pause with the
        # connection open, then two more
        client = Client([NODE, os.path.join(HERE, "h2_client.js"),
                         "https://127.0.0.1:%d/h2/resp" % srv.port, "pre", ready, go],
                        {"TT_TOKEN": tok, "TT_TOKEN2": tok2, "TT_PRE_REQUESTS": "2"})
        if not wait_ready(client, ready):
            raise Fail("the HTTP/2 client did not make its first request")
        during = h2_sides(srv.proc.pid)
        open(go, "w").close()
        c = client.finish(ctx)
        seen_for(ctx, fp2, c.pid)
        # the client's close reaches the server: its mark goes
        deadline = time.monotonic() + 5
        after = h2_sides(srv.proc.pid)
        while after and time.monotonic() < deadline:
            time.sleep(0.1)
            after = h2_sides(srv.proc.pid)
    finally:
        srv.close()
    if during != [2]:
        raise Fail("h2_conns of the server's session, connection open: expected [2], got %s" % during)
    if after:
        raise Fail("h2_conns of the server's session after its close: expected none, got %s" % after)
    counts = [h2_counts(ctx, fp, c.pid, 3), h2_counts(ctx, fp2, c.pid, 1)]

    def after_stop():
        for f in counts:
            f()
        leaked = [e.get("event") for e in ctx.sensor.snapshot() if e.get("fingerprint") == resp_fp]
        if leaked:
            raise Fail("the server's response header was reported as a credential: %s" % leaked)
    return after_stop


# Debian's python, for the modules Debian packages (python3-h2, python3-grpcio).
DEB_PY = "/usr/bin/python3"


def deb_py_has(module):
    if not os.access(DEB_PY, os.X_OK):
        return False
    return subprocess.run([DEB_PY, "-c", "import " + module], capture_output=True,
                          timeout=30).returncode == 0


def h2c_curl(ctx, port, flag, prefix, n):
    """curl making n requests on one plaintext HTTP/2 connection (flag:
    --http2-prior-knowledge, or --http2 for an Upgrade: h2c first request)."""
    need(CURL, "curl")
    tok, fp = new_token(ctx, "ghp")
    conf = curl_config(ctx, ['header = "Authorization: Bearer %s"' % tok])
    base = "http://127.0.0.1:%d" % port
    urls = [base + prefix + "/one?q=secret-ish", base + prefix + "/two", base + prefix + "/three"][:n]
    c = run_client(ctx, [CURL, "-sS", flag, "-K", conf] + ["-o", "/dev/null"] * n +
                   ["-w", "%{http_version} %{num_connects}\\n"] + urls)
    if c.out.decode().split() != ["2", "1"] + ["2", "0"] * (n - 1):
        raise Fail("curl did not make %d HTTP/2 requests on one connection: %r" % (n, c.out.decode()))
    ev = seen_for(ctx, fp, c.pid)[0]
    check_fields(ev, {"exe": os.path.realpath(CURL), "pid": c.pid, "tls": False,
                      "dst": "127.0.0.1:%d" % port, "host": "127.0.0.1:%d" % port,
                      "method": "GET", "path": prefix + "/one?q=", "scheme": "Bearer"},
                 absent=("tls_library",))
    return h2_counts(ctx, fp, c.pid, n)


def t_h2c_prior_knowledge(ctx):
    """h2c with prior knowledge (how a mesh sidecar is spoken to): the
    preface marks the plaintext connection. curl (7.88 cannot reuse a
    prior-knowledge connection: one request) and node's client (three on
    one connection, HPACK state carried)."""
    need(NODE, "node")
    if not getattr(ctx, "h2c", None):
        ctx.h2c = Server(ctx.workdir, "h2c", False,
                         cmd=[NODE, os.path.join(HERE, "h2_server.js"), "--h2c"])
    port = ctx.h2c.port
    curl_counts = h2c_curl(ctx, port, "--http2-prior-knowledge", "/h2c", 1)
    tok, fp = new_token(ctx)
    c = run_client(ctx, [NODE, os.path.join(HERE, "h2_client.js"),
                         "http://127.0.0.1:%d/h2c/node?k=secret-ish" % port, "3"], {"TT_TOKEN": tok})
    ev = seen_for(ctx, fp, c.pid)[0]
    check_fields(ev, {"exe": os.path.realpath(NODE), "pid": c.pid, "tls": False,
                      "dst": "127.0.0.1:%d" % port, "method": "GET", "path": "/h2c/node?k="})
    counts = [curl_counts, h2_counts(ctx, fp, c.pid, 3)]
    return lambda: [f() for f in counts]


def t_h2c_upgrade(ctx):
    """h2c by Upgrade: the first request is HTTP/1.1 (Upgrade: h2c), the
    next two HTTP/2 frames after the preface: three, each once."""
    if not deb_py_has("h2"):
        raise Skip("python3-h2 not installed")
    if not getattr(ctx, "h2c_up", None):
        ctx.h2c_up = Server(ctx.workdir, "h2c-upgrade", False,
                            cmd=[DEB_PY, os.path.join(HERE, "h2c_upgrade_server.py")])
    return h2c_curl(ctx, ctx.h2c_up.port, "--http2", "/up", 3)


def t_grpc_h2c(ctx):
    """gRPC over h2c from grpcio's C core (sendmsg with iovecs), metadata
    authorization, three calls on one channel."""
    mods = getattr(ctx, "grpc_modules", None)
    if not mods:
        raise Skip(getattr(ctx, "grpc_err", None) or "@grpc/grpc-js not installed")
    if not deb_py_has("grpc"):
        raise Skip("python3-grpcio not installed")
    if not getattr(ctx, "grpc_h2c", None):
        ctx.grpc_h2c = Server(ctx.workdir, "grpc-h2c", False, cmd=[
            NODE, os.path.join(HERE, "grpc_server.js"), "--insecure"],
            env=dict(os.environ, NODE_PATH=mods))
    port = ctx.grpc_h2c.port
    tok, fp = new_token(ctx)
    n = 3
    c = run_client(ctx, [DEB_PY, os.path.join(HERE, "grpc_h2c_client.py"), "127.0.0.1:%d" % port,
                         str(n)], {"TT_TOKEN": tok})
    if b"calls=%d" % n not in c.out:
        raise Fail("grpc client did not finish %d calls: %s" % (n, c.out.decode(errors="replace").strip()))
    ev = seen_for(ctx, fp, c.pid)[0]
    if ev.get("exe") not in (DEB_PY, os.path.realpath(DEB_PY)):
        raise Fail("exe: %r is not %s" % (ev.get("exe"), DEB_PY))
    check_fields(ev, {"pid": c.pid, "tls": False, "host": "127.0.0.1:%d" % port, "method": "POST", "path": "/tt.Echo/Call",
                      "scheme": "Bearer", "header": "authorization"})
    # the C core connects an IPv6 socket: the IPv4 peer is v4-mapped
    if ev.get("dst") not in ("127.0.0.1:%d" % port, "[::ffff:127.0.0.1]:%d" % port):
        raise Fail("dst: %r is not the server's address" % ev.get("dst"))
    return h2_counts(ctx, fp, c.pid, n)


SCENARIOS = [
    ("prestarted_client_caught", t_prestarted_client),
    ("prestarted_client_exits_after_request", t_prestarted_client_exits),
    ("curl_https_bearer", t_curl_https),
    ("python_urllib_https", t_python_urllib_https),
    ("python_httpclient_https", t_python_httpclient_https),
    ("node_https", t_node_https),
    ("curl_plaintext", t_curl_plain),
    ("python_plaintext", t_python_plain),
    ("split_header_writes", t_split_writes),
    ("cookie_8k_before_authorization", t_big_cookie),
    ("pipelined_three_tokens", t_pipelined),
    ("query_param_access_token", t_query_param),
    ("keepalive_50_exact_count", t_keepalive_counts),
    ("basic_auth_curl", t_basic_auth),
    ("basic_and_bearer_one_token", t_basic_and_bearer_one_token),
    ("url_path_telegram_token", t_url_path_token),
    ("late_loaded_library", t_late_library),
    ("late_library_released_after_exit", t_late_library_released),
    ("close_frees_sessions", t_close_frees_sessions),
    ("mount_namespace_library_copy", t_mount_namespace),
    ("container_id_from_cgroup", t_container_id),
    ("wget_gnutls", t_wget_gnutls),
    ("gnutls_cli", t_gnutls_cli),
    ("nss_tstclnt", t_nss_tstclnt),
    ("go_https_http11", t_go_https_http11),
    ("go_https_http11_stripped", t_go_https_http11_stripped),
    ("go_pclntab_matches_symbols", t_go_pclntab_matches_symbols),
    ("curl_http2_three_on_one_connection", t_curl_h2),
    ("node_http2_three_on_one_connection", t_node_h2),
    ("http2_server_responses_left_alone", t_h2_server_writes_left),
    ("prestarted_http2_connection", t_prestarted_h2),
    ("go_https_http2", t_go_https_http2),
    ("go_https_http2_stripped", t_go_https_http2_stripped),
    ("prestarted_go_http2", t_prestarted_go_h2),
    ("go_grpc_unary_authorization", t_go_grpc),
    ("prestarted_go_grpc", t_prestarted_go_grpc),
    ("grpc_unary_authorization", t_grpc_unary_authorization),
    ("h2c_prior_knowledge_three", t_h2c_prior_knowledge),
    ("h2c_upgrade_three", t_h2c_upgrade),
    ("grpc_h2c_unary_authorization", t_grpc_h2c),
]


class Ctx:
    def __init__(self, workdir):
        self.workdir = workdir
        self.tokens = []
        self.outputs = []
        self.nconf = 0
        self.sensor = self.tls = self.plain = None
        self.pre = {}
        self.go = None
        self.go_err = None
        self.grpc_go = None
        self.grpc_go_err = None
        key = secrets.token_bytes(32)
        self.key_hex = key.hex()
        self.key_path = os.path.join(workdir, "fingerprint.key")
        with open(self.key_path, "wb") as f:
            f.write(key)
        os.chmod(self.key_path, 0o600)


def secret_hits(ctx):
    """Names of the outputs holding a raw credential (never the credential)."""
    blobs = [("sensor stdout", b"".join(ctx.sensor.out_raw)),
             ("sensor stderr", b"".join(ctx.sensor.err_raw)),
             ("runner output", "\n".join(R.lines).encode())]
    blobs += [("client output", b) for b in ctx.outputs]
    for srv in (ctx.tls, ctx.plain, getattr(ctx, "h2", None), getattr(ctx, "grpc", None),
                getattr(ctx, "grpc_go_srv", None)):
        if srv:
            with open(srv.err_path, "rb") as f:
                blobs.append(("server output", f.read()))
    for root, _, files in os.walk(ctx.sensor.state_dir):
        for name in files:
            p = os.path.join(root, name)
            try:
                with open(p, "rb") as f:
                    blobs.append(("state file " + os.path.relpath(p, ctx.sensor.state_dir), f.read()))
            except OSError:
                pass
    hits = set()
    for i, tok in enumerate(ctx.tokens):
        t = tok.encode()
        for where, blob in blobs:
            if t in blob:
                hits.add("credential #%d in %s" % (i + 1, where))
    return sorted(hits)


def run_sensor_group(group):
    names = [n for n, _ in SCENARIOS]
    full = ["%s/%s" % (group, n) for n in names] + ["%s/sensor_clean_exit" % group,
                                                    "%s/no_secret_in_outputs" % group]

    if not preflight(full):
        return

    workdir = tempfile.mkdtemp(prefix="tokentap-e2e-")
    ctx = Ctx(workdir)
    try:
        make_cert(workdir)
        ctx.tls = Server(workdir, "tls", True)
        ctx.plain = Server(workdir, "plain", False)
        build_go_clients(ctx)
        install_grpc(ctx)
        start_prestarted(ctx)
        start_prestarted_h2(ctx)
        start_prestarted_go_h2(ctx)
        start_prestarted_go_grpc(ctx)
        ctx.sensor = Sensor(workdir, ctx.key_path)
        why = ctx.sensor.wait_ready()
        if why:
            ctx.sensor.stop()
            skip_or_fail_all(full, why)
            return
        after = []
        run_scenarios(ctx, group, SCENARIOS, after)
        finish_sensor_group(ctx, group, after)
    except Fail as e:
        R.record("%s/setup" % group, "FAIL", str(e))
    finally:
        if ctx.sensor:
            ctx.sensor.stop()
        for pre in ctx.pre.values():
            reap(pre["client"].proc)
        for pre_name in ("pre_go_h2", "pre_go_grpc"):
            if "client" in (getattr(ctx, pre_name, None) or {}):
                reap(getattr(ctx, pre_name)["client"].proc)
        for srv in (ctx.tls, ctx.plain, getattr(ctx, "h2", None), getattr(ctx, "grpc", None),
                    getattr(ctx, "h2c", None), getattr(ctx, "h2c_up", None),
                    getattr(ctx, "grpc_h2c", None), getattr(ctx, "grpc_go_srv", None)):
            if srv:
                srv.close()
        shutil.rmtree(workdir, ignore_errors=True)


# ---- flags and errors (no BPF needed) -------------------------------------------

def run_flag_tests():
    workdir = tempfile.mkdtemp(prefix="tokentap-e2e-flags-")
    state = os.path.join(workdir, "state")

    def run(args):
        return subprocess.run([sensor_bin()] + args, capture_output=True, timeout=20,
                              stdin=subprocess.DEVNULL)

    def lines(b):
        return [l for l in b.decode(errors="replace").splitlines() if l.strip()]

    def t_missing_key():
        p = run(["--json", "--state-dir", state, "--key-file", "/nonexistent", "--interval", "1"])
        if p.returncode != 1 or len(lines(p.stderr)) != 1:
            raise Fail("expected exit 1 and one stderr line, got exit %d and %d lines"
                       % (p.returncode, len(lines(p.stderr))))

    def t_interval_zero():
        p = run(["--json", "--state-dir", state, "--interval", "0"])
        if p.returncode != 1 or not lines(p.stderr):
            raise Fail("expected exit 1 with a message, got exit %d" % p.returncode)

    def t_help():
        p = run(["--help"])
        if p.returncode != 0 or b"--json" not in p.stdout:
            raise Fail("expected exit 0 and --json in the text, got exit %d" % p.returncode)

    def t_version():
        p = run(["--version"])
        out = p.stdout.decode(errors="replace").strip()
        if p.returncode != 0 or not out.startswith("tokentap ") or not any(ch.isdigit() for ch in out):
            raise Fail("expected exit 0 and 'tokentap VERSION', got exit %d %r" % (p.returncode, out))

    def json_lines(b):
        """Every stderr line as a JSON object, or Fail naming the first that is not."""
        objs = []
        for l in lines(b):
            try:
                o = json.loads(l)
            except ValueError:
                raise Fail("stderr line is not JSON: %r" % l[:120])
            if not isinstance(o, dict) or o.get("program") != "tokentap" or \
                    not all(isinstance(o.get(k), str) for k in ("ts", "level", "msg")):
                raise Fail("JSON log line lacks ts/level/program/msg: %r" % l[:120])
            objs.append(o)
        return objs

    def t_log_format_bad():
        p = run(["--log-format", "xml"])
        if p.returncode != 1 or len(lines(p.stderr)) != 1 or b"--log-format" not in p.stderr:
            raise Fail("expected exit 1 and one line naming --log-format, got exit %d: %r"
                       % (p.returncode, p.stderr[:200]))

    def t_log_format_json_error():
        p = run(["--log-format", "json", "--json", "--state-dir", state,
                 "--key-file", "/nonexistent", "--interval", "1"])
        objs = json_lines(p.stderr)
        if p.returncode != 1 or len(objs) != 1 or objs[0]["level"] != "error":
            raise Fail("expected exit 1 and one JSON error line, got exit %d: %r"
                       % (p.returncode, p.stderr[:200]))

    def t_log_format_json_run():
        # The sensor really loaded, its diagnostics as JSON, until SIGTERM.
        if os.geteuid() != 0:
            raise Skip("not root, cannot load BPF")
        key = os.path.join(workdir, "log.key")
        with open(key, "wb") as f:
            f.write(secrets.token_bytes(32))
        p = spawn([sensor_bin(), "--log-format", "json", "--quiet", "--state-dir", state,
                   "--key-file", key, "--interval", "1"],
                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        err = []
        ready = False
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            l = p.stderr.readline()
            if not l:
                break
            err.append(l)
            if b'"msg":"ready: ' in l:
                ready = True
                break
        p.send_signal(signal.SIGTERM)
        try:
            _, rest = p.communicate(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            _, rest = p.communicate()
        objs = json_lines(b"".join(err) + rest)
        if not ready:
            raise Fail("no JSON ready line: %r" % b"".join(err)[-300:])
        if p.returncode != 0:
            raise Fail("exit status on SIGTERM: expected 0, got %s" % p.returncode)
        if not any(o["level"] == "info" and o["msg"].startswith("ready: ") for o in objs):
            raise Fail("the ready line is not an info line")

    tests = [("flags/missing_key_file", t_missing_key), ("flags/interval_zero", t_interval_zero),
             ("flags/help", t_help), ("flags/version", t_version),
             ("flags/log_format_bad", t_log_format_bad),
             ("flags/log_format_json_error", t_log_format_json_error),
             ("flags/log_format_json_run", t_log_format_json_run)]
    try:
        for name, fn in tests:
            if not os.access(sensor_bin(), os.X_OK):
                R.record(name, "FAIL", "no sensor binary at %s (make all)" % sensor_bin())
                continue
            try:
                fn()
                R.record(name, "PASS")
            except Skip as e:
                status = bpf_missing_status()
                R.record(name, status, str(e))
            except Fail as e:
                R.record(name, "FAIL", str(e))
            except subprocess.TimeoutExpired:
                R.record(name, "FAIL", "timed out")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    def on_signal(sig, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        run_flag_tests()
        run_sensor_group("capture")
    except KeyboardInterrupt:
        R.record("interrupted", "FAIL")
    finally:
        kill_children()
    print("e2e: %d passed, %d failed, %d skipped" % (R.passed, R.failed, R.skipped), flush=True)
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
