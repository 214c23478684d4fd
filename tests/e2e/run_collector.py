#!/usr/bin/env python3
"""End-to-end tests of shipping: the real sensor loaded, real clients, the
real collector, everything on loopback.

Run as root from anywhere:  python3 tests/e2e/run_collector.py
  TOKENTAP_BIN=path            sensor binary (default build/tokentap)
  TOKENTAP_COLLECTOR_BIN=path  collector binary (default build/tokentap-collector)
  TOKENTAP_COLLECTOR_PG=url    run the collectors on PostgreSQL: a database per
                               collector made through this admin URL (a role that
                               may create databases, scripts/pg-test.sh prints one);
                               the raw-token scan reads a pg_dump of each
  TOKENTAP_REQUIRE_BPF=1       a sensor that cannot load is a failure, not a skip

Covers: one token used by two processes, a collector outage, SIGTERM of the
sensor (collector up, and collector down then a restart of the sensor), a
batch posted twice, hostile requests, the terminal view, and a search of
every output for the raw credentials. Only one sensor runs at a time: each
captures every process of the host, so two would count every request twice.

Prints one PASS/FAIL/SKIP line per test and ends with
"e2e-collector: N passed, M failed, K skipped"; exits non-zero on failure.
"""
import glob
import gzip
import json
import os
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import types
import urllib.error
import urllib.request
import zlib

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as e2e  # noqa: E402  (helpers of the sensor runner)
from run import CURL, HERE, PY, REPO, Fail, Skip  # noqa: E402

R = e2e.R
DELIVERY_TIMEOUT = 10   # a request to the row being queryable, with margin
SETTLE = 1.5            # one more interval and batch, to catch late double counts
SPOOL_MAGIC = b"TTSP1\n"


def collector_bin():
    b = os.environ.get("TOKENTAP_COLLECTOR_BIN", "build/tokentap-collector")
    return b if os.path.isabs(b) else os.path.join(REPO, b)


class Outputs(list):
    """(where, bytes) pairs; run.py's Client.finish() adds bare bytes."""

    def __iadd__(self, items):
        for b in items:
            self.append(b if isinstance(b, tuple) else ("client output", b))
        return self


class Ctx:
    def __init__(self, workdir):
        self.workdir = workdir
        # Files that must hold credentials (token files, curl configs) live
        # here and are left out of the secret search; everything else is searched.
        self.secret_dir = os.path.join(workdir, "secrets")
        os.makedirs(self.secret_dir, mode=0o700)
        self.tokens = []       # (label, raw) of every credential used
        self.outputs = Outputs()  # HTTP bodies, CLI and client outputs
        self.snapshots = []    # (where, bytes) of files that vanish (WAL, SHM)
        self.tls = None
        self.no_sensor = None  # why the sensor cannot run, once known
        key = secrets.token_bytes(32)
        self.key_hex = key.hex()
        self.key_path = self.secret_file("fingerprint.key", key)
        self.sensor_token = "st" + secrets.token_urlsafe(30)
        self.tokens.append(("sensor token", self.sensor_token))
        # The collector's list (comments allowed) and the sensor's own file (just the token).
        self.auth_path = self.secret_file("sensor-tokens", ("# test\n%s\n" % self.sensor_token).encode())
        self.token_path = self.secret_file("sensor-token", (self.sensor_token + "\n").encode())
        # curl_config() of run.py writes into ctx.workdir: point it at secrets/.
        self.conf_ctx = types.SimpleNamespace(workdir=self.secret_dir, nconf=0)

    def secret_file(self, name, data):
        path = os.path.join(self.secret_dir, name)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o600)
        return path

    def curl_config(self, lines):
        return e2e.curl_config(self.conf_ctx, lines)

    def new_token(self, kind="opaque"):
        tok = e2e.ghp_token() if kind == "ghp" else e2e.opaque_token()
        self.tokens.append(("credential #%d" % len(self.tokens), tok))
        return tok, e2e.fingerprint(self.key_hex, tok)


# ---- processes -------------------------------------------------------------------

def wait_until(pred, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            return v
        time.sleep(step)


def read_file(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def pg_database(admin_url, name):
    """A fresh PostgreSQL database for one collector: its URL (dropped at exit)."""
    import atexit
    import urllib.parse
    db = "tokentap_e2e_%d_%s" % (os.getpid(), "".join(c for c in name if c.isalnum()))
    for sql in ("DROP DATABASE IF EXISTS %s WITH (FORCE)" % db, "CREATE DATABASE %s" % db):
        subprocess.run(["psql", "-qX", "-v", "ON_ERROR_STOP=1", admin_url, "-c", sql],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    atexit.register(subprocess.run, ["psql", "-qX", admin_url, "-c",
                                     "DROP DATABASE IF EXISTS %s WITH (FORCE)" % db],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return urllib.parse.urlsplit(admin_url)._replace(path="/" + db).geturl()


class Collector:
    """tokentap-collector serve; restartable on the same port and database."""

    def __init__(self, ctx, name, extra=()):
        self.ctx = ctx
        self.name = name
        self.extra = list(extra)
        pg = os.environ.get("TOKENTAP_COLLECTOR_PG")
        self.db = pg_database(pg, name) if pg else os.path.join(ctx.workdir, name + ".db")
        self.out_path = os.path.join(ctx.workdir, name + ".out")
        self.err_path = os.path.join(ctx.workdir, name + ".err")
        self.port = 0
        self.proc = None
        self.starts = 0

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        err_before = len(read_file(self.err_path))
        with open(self.out_path, "ab") as out, open(self.err_path, "ab") as err:
            self.proc = e2e.spawn(
                [collector_bin(), "serve", "--listen", "127.0.0.1:%d" % self.port,
                 "--db", self.db, "--auth-file", self.ctx.auth_path] + self.extra,
                stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        self.starts += 1

        def listening():
            text = read_file(self.err_path)[err_before:].decode(errors="replace")
            for line in text.splitlines():
                if "listening on" in line and "(port " in line:
                    return int(line.split("(port ", 1)[1].split(")", 1)[0])
            return None
        wait_until(lambda: listening() or self.proc.poll() is not None, 10)
        port = listening()
        if not port or self.proc.poll() is not None:
            raise Fail("collector %s did not start: %s" % (self.name, self.err_tail()))
        self.port = port
        if not wait_until(lambda: http_get(self.ctx, self.url + "/healthz", quiet=True)[0] == 200, 10):
            raise Fail("collector %s: /healthz not OK after start" % self.name)

    def err_tail(self):
        lines = read_file(self.err_path).decode(errors="replace").strip().splitlines()
        return " | ".join(lines[-3:])

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def snapshot_db(self):
        if "://" in self.db:
            # every table of the PostgreSQL database, as text, for the raw-token scan
            dump = subprocess.run(["pg_dump", "--no-owner", self.db], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
            if dump.returncode != 0:
                raise Fail("pg_dump of %s: %s" % (self.name, dump.stderr.decode(errors="replace")))
            self.ctx.snapshots.append(("%s PostgreSQL dump" % self.name, dump.stdout))
            return
        for suffix in ("", "-wal", "-shm", "-journal"):
            data = read_file(self.db + suffix)
            if data:
                where = "%s database file %s%s" % (self.name, os.path.basename(self.db), suffix)
                self.ctx.snapshots.append((where, data))

    def stop(self):
        """SIGTERM; the exit status, or a string when it had to be killed."""
        if not self.proc:
            return 0
        self.snapshot_db()
        rc = 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                rc = "killed after 10 s"
        else:
            rc = "had exited with %d" % self.proc.returncode
        self.proc = None
        return rc


class Sensor:
    """tokentap shipping to a collector URL, quiet, its logs in files."""

    def __init__(self, ctx, name, url, state_dir, interval=1, extra=()):
        self.ctx = ctx
        self.state_dir = state_dir
        self.spool = os.path.join(state_dir, "spool")
        self.out_path = os.path.join(ctx.workdir, name + ".out")
        self.err_path = os.path.join(ctx.workdir, name + ".err")
        with open(self.out_path, "ab") as out, open(self.err_path, "ab") as err:
            self.err_start = err.tell()
            self.proc = e2e.spawn(
                [e2e.sensor_bin(), "--collector", url, "--collector-token-file", ctx.token_path,
                 "--state-dir", state_dir, "--key-file", ctx.key_path,
                 "--interval", str(interval), "--quiet"] + list(extra),
                stdin=subprocess.DEVNULL, stdout=out, stderr=err)

    def wait_ready(self):
        """None when ready, else why not."""
        def ready():
            if b"tokentap: ready" in read_file(self.err_path)[self.err_start:]:
                return "ready"
            if self.proc.poll() is not None:
                return "exited"
            return None
        r = wait_until(ready, e2e.READY_TIMEOUT)
        if r == "ready":
            return None
        tail = b" | ".join(read_file(self.err_path)[self.err_start:].strip().splitlines()[-3:])
        self.stop()
        return "sensor %s: %s" % ("exited before ready" if r else "not ready after %ds" % e2e.READY_TIMEOUT,
                                  tail.decode(errors="replace"))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(e2e.STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                return "killed after %ds" % e2e.STOP_TIMEOUT
        return self.proc.returncode

    def spooled(self):
        return sorted(glob.glob(os.path.join(self.spool, "*.batch")))


def start_sensor(ctx, name, url, state_dir, interval=1, extra=()):
    """A ready sensor, or Skip/Fail by the TOKENTAP_REQUIRE_BPF rule."""
    if ctx.no_sensor:
        raise sensor_unavailable(ctx.no_sensor)
    s = Sensor(ctx, name, url, state_dir, interval, extra)
    why = s.wait_ready()
    if why:
        ctx.no_sensor = why
        raise sensor_unavailable(why)
    return s


def sensor_unavailable(why):
    """A missing binary always fails; a sensor that cannot load skips, unless required."""
    if os.environ.get("TOKENTAP_REQUIRE_BPF") == "1" or why.startswith("no sensor binary"):
        return Fail(why)
    return Skip(why)


# ---- HTTP and CLI ------------------------------------------------------------------

def http_get(ctx, url, quiet=False):
    """(status, body); status 0 when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    except (OSError, urllib.error.URLError):
        return 0, b""
    if not quiet:
        ctx.outputs.append(("HTTP response " + url.split("/", 3)[-1], body))
    return status, body


def post_batch(ctx, url, body, headers, chunked=False):
    """POSTs body with curl; (HTTP status, parsed JSON body or None).

    Headers (the Bearer token among them) go through a config file."""
    path = os.path.join(ctx.workdir, "post-body.bin")
    with open(path, "wb") as f:
        f.write(body)
    resp_path = os.path.join(ctx.workdir, "post-response.bin")
    lines = ['header = "%s"' % h for h in headers]
    if chunked:
        lines.append('header = "Transfer-Encoding: chunked"')
    conf = ctx.curl_config(lines)
    p = subprocess.run([CURL, "-sS", "--max-time", "20", "-o", resp_path, "-w", "%{http_code}",
                        "-K", conf, "--data-binary", "@" + path, url + "/v1/batches"],
                       capture_output=True, timeout=30)
    os.unlink(path)
    resp = read_file(resp_path)
    ctx.outputs += [("HTTP response POST /v1/batches", resp), ("curl output", p.stdout + p.stderr)]
    try:
        status = int(p.stdout.decode().strip() or "0")
    except ValueError:
        status = 0
    try:
        doc = json.loads(resp)
    except ValueError:
        doc = None
    return status, doc


def cli(ctx, args, timeout=20):
    p = subprocess.run([collector_bin()] + args, capture_output=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    ctx.outputs.append(("CLI output %s" % args[0], p.stdout + p.stderr))
    return p


def cli_json(ctx, args):
    p = cli(ctx, args + ["--json"])
    if p.returncode != 0:
        raise Fail("tokentap-collector %s exited %d: %s" % (
            " ".join(args[:1]), p.returncode, p.stderr.decode(errors="replace").strip()[-200:]))
    try:
        return json.loads(p.stdout)
    except ValueError:
        raise Fail("tokentap-collector %s --json printed no JSON" % args[0])


def token_doc(ctx, coll, fp):
    """The API's view of one token, or None when unknown."""
    status, body = http_get(ctx, "%s/v1/tokens/%s" % (coll.url, fp), quiet=True)
    if status != 200:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def wait_requests(ctx, coll, fp, want, timeout=DELIVERY_TIMEOUT, settle=0.0):
    """Polls until the token has at least want requests; the final count.

    settle: then waits that long and reads again, so a late second delivery
    of the same requests is caught."""
    def got():
        d = token_doc(ctx, coll, fp)
        return d if d and d.get("requests", 0) >= want else None
    doc = wait_until(got, timeout, 0.2)
    if doc and settle:
        time.sleep(settle)
        doc = token_doc(ctx, coll, fp) or doc
    if doc:
        ctx.outputs.append(("HTTP response token", json.dumps(doc).encode()))
        return doc.get("requests")
    d = token_doc(ctx, coll, fp)
    return d.get("requests") if d else None


def expect_requests(ctx, coll, fp, want, what, settle=0.0):
    got = wait_requests(ctx, coll, fp, want, settle=settle)
    if got != want:
        raise Fail("%s: requests for %s: expected %d, got %s (after %ds)" % (
            what, fp, want, "no such token" if got is None else got, DELIVERY_TIMEOUT))


def py_requests(ctx, fp_tok, n, path):
    """n keep-alive HTTPS requests from one python process; the Client."""
    c = e2e.run_client(ctx, [PY, os.path.join(HERE, "py_client.py"), "httpclient",
                             "https://127.0.0.1:%d%s" % (ctx.tls.port, path), str(n)],
                       {"TT_TOKEN": fp_tok})
    if b"requests=%d connections=1" % n not in c.out:
        raise Fail("python client did not send %d requests on one connection: %s"
                   % (n, c.out.decode(errors="replace").strip()))
    return c


# ---- scenarios ------------------------------------------------------------------------

def t_two_processes(ctx, st):
    """curl (3 requests, one connection) and python (7, keep-alive), one token."""
    e2e.need(CURL, "curl")
    tok, fp = ctx.new_token("ghp")
    port = ctx.tls.port
    n1, n2 = 3, 7
    st["t1"], st["t1_requests"] = fp, n1 + n2
    conf = ctx.curl_config(['header = "Authorization: Bearer %s"' % tok])
    urls = ["https://127.0.0.1:%d/c1/curl/%d" % (port, i) for i in range(n1)]
    cmd = [CURL, "-sS", "-k", "--http1.1", "-K", conf, "-w", "%{num_connects}\\n"]
    for u in urls:
        cmd += ["-o", "/dev/null", u]
    c = e2e.run_client(ctx, cmd)
    connects = [int(x) for x in c.out.split()]
    if len(connects) != n1 or sum(connects) != 1:
        raise Fail("curl did not send %d requests on one connection: connects %s" % (n1, connects))
    p = py_requests(ctx, tok, n2, "/c1/python")
    expect_requests(ctx, st["coll"], fp, n1 + n2, "two processes", settle=SETTLE)
    doc = cli_json(ctx, ["token", fp, "--url", st["coll"].url])
    bad = []
    if doc.get("fingerprint") != fp:
        bad.append("fingerprint: expected %s, got %r" % (fp, doc.get("fingerprint")))
    if doc.get("token_type") != "github_pat":
        bad.append("token_type: expected github_pat, got %r" % doc.get("token_type"))
    if doc.get("requests") != n1 + n2:
        bad.append("requests: expected %d, got %r" % (n1 + n2, doc.get("requests")))
    for k in ("first_seen", "last_seen"):
        if not isinstance(doc.get(k), str) or not doc.get(k):
            bad.append("%s: expected a time, got %r" % (k, doc.get(k)))
    procs = doc.get("processes") or []
    want = {c.pid: (os.path.realpath(CURL), n1), p.pid: (os.path.realpath(PY), n2)}
    got = {x.get("pid"): x for x in procs if isinstance(x, dict)}
    if sorted(got) != sorted(want):
        bad.append("processes: expected pids %s, got %s" % (sorted(want), sorted(got)))
    for pid, (exe, n) in want.items():
        x = got.get(pid)
        if not x:
            continue
        for k, v in (("exe", exe), ("requests", n), ("node", socket.gethostname())):
            if x.get(k) != v:
                bad.append("process %d %s: expected %r, got %r" % (pid, k, v, x.get(k)))
    dsts = doc.get("destinations") or []
    d = "127.0.0.1:%d" % port
    if len(dsts) != 1 or {k: dsts[0].get(k) for k in ("dst", "host", "requests")} != \
            {"dst": d, "host": d, "requests": n1 + n2}:
        bad.append("destinations: expected one {dst: %s, host: %s, requests: %d}, got %s" % (
            d, d, n1 + n2, [{k: x.get(k) for k in ("dst", "host", "requests")} for x in dsts]))
    if bad:
        raise Fail("; ".join(bad))


def t_top(ctx, st):
    fp = st.get("t1")
    if not fp:
        raise Skip("no token from the two-process test")
    p = cli(ctx, ["top", "--once", "--url", st["coll"].url])
    out = p.stdout.decode(errors="replace")
    if p.returncode != 0:
        raise Fail("top --once exited %d" % p.returncode)
    rows = [l for l in out.splitlines() if fp[:8] in l]
    if not rows:
        raise Fail("top --once: no row with fingerprint prefix %s" % fp[:8])
    n = st["t1_requests"]
    if "github_pat" not in rows[0] or " %d " % n not in rows[0]:
        raise Fail("top --once: row for %s lacks type github_pat or %d requests: %r" % (fp[:8], n, rows[0]))


def t_outage(ctx, st):
    """Requests before, during and after a collector outage: each counted once."""
    coll, sensor = st["coll"], st["sensor"]
    tok, fp = ctx.new_token()
    na, nb, nc = 4, 5, 6
    py_requests(ctx, tok, na, "/c2/before")
    expect_requests(ctx, coll, fp, na, "before the outage")
    rc = coll.stop()
    if rc != 0:
        raise Fail("collector exit status on SIGTERM: expected 0, got %s" % rc)
    py_requests(ctx, tok, nb, "/c2/during")
    if not wait_until(lambda: sensor.spooled(), 5):
        raise Fail("collector down: nothing spooled in %s within 5 s" % sensor.spool)
    if sensor.proc.poll() is not None:
        raise Fail("sensor exited (%d) while the collector was down" % sensor.proc.returncode)
    coll.start()
    py_requests(ctx, tok, nc, "/c2/after")
    expect_requests(ctx, coll, fp, na + nb + nc, "across the outage", settle=SETTLE)
    left = wait_until(lambda: not sensor.spooled(), 5) or sensor.spooled()
    if left is not True:
        raise Fail("spool not drained: %d batches left" % len(left))


def pg_cluster(action):
    """pg_ctlcluster on the cluster scripts/pg-test.sh runs (PG_VERSION, PG_CLUSTER)."""
    p = subprocess.run(["pg_ctlcluster", os.environ.get("PG_VERSION", "15"),
                        os.environ.get("PG_CLUSTER", "main"), action] +
                       (["-m", "fast"] if action == "stop" else []),
                       capture_output=True, timeout=120)
    if p.returncode != 0:
        raise Fail("pg_ctlcluster %s: %s" % (action, p.stderr.decode(errors="replace").strip()))


def t_database_restart(ctx, st):
    """PostgreSQL stopped and started mid-traffic: the collector answers 5xx
    meanwhile, the sensor keeps those batches spooled, the collector
    reconnects, and every request is counted once."""
    if not os.environ.get("TOKENTAP_COLLECTOR_PG"):
        raise Skip("the collectors run on SQLite (TOKENTAP_COLLECTOR_PG runs this on PostgreSQL)")
    coll, sensor = st["coll"], st["sensor"]
    tok, fp = ctx.new_token()
    na, nb, nc = 3, 4, 5
    py_requests(ctx, tok, na, "/c3/before")
    expect_requests(ctx, coll, fp, na, "before the database restart")
    pg_cluster("stop")
    try:
        py_requests(ctx, tok, nb, "/c3/during")
        if not wait_until(lambda: sensor.spooled(), 10):
            raise Fail("database down: nothing spooled in %s within 10 s" % sensor.spool)
        if not coll.running():
            raise Fail("the collector exited while the database was down: %s" % coll.err_tail())
    finally:
        pg_cluster("start")
    py_requests(ctx, tok, nc, "/c3/after")
    expect_requests(ctx, coll, fp, na + nb + nc, "across the database restart", settle=SETTLE)
    left = wait_until(lambda: not sensor.spooled(), 10) or sensor.spooled()
    if left is not True:
        raise Fail("spool not drained: %d batches left" % len(left))


def t_two_collectors(ctx, st):
    """--collector A,B: batches go to A; A killed (-9), the next ones go to B, none lost."""
    coll = st["coll"]
    # replicas divide the database's writers among them (serve --help)
    other = Collector(ctx, "collector-b", extra=["--db-writers", "1"])
    other.start()
    sensor = None
    try:
        sensor = start_sensor(ctx, "sensor-multi", coll.url + "," + other.url,
                              os.path.join(ctx.workdir, "state-multi"))
        tok, fp = ctx.new_token()
        na, nb = 3, 4
        py_requests(ctx, tok, na, "/multi/a")
        expect_requests(ctx, coll, fp, na, "first collector up")
        if token_doc(ctx, other, fp) is not None:
            raise Fail("the second collector got batches while the first was up")
        coll.snapshot_db()
        coll.proc.kill()
        coll.proc.wait(5)
        coll.proc = None
        py_requests(ctx, tok, nb, "/multi/b")
        expect_requests(ctx, other, fp, nb, "after the first collector was killed", settle=SETTLE)
    finally:
        if sensor:
            rc = sensor.stop()
            if rc != 0:
                raise Fail("sensor exit status on SIGTERM: expected 0, got %s" % rc)
        if not coll.running():
            coll.start()
        rc = other.stop()
        if rc != 0:
            raise Fail("second collector exit status on SIGTERM: expected 0, got %s" % rc)
    # the first collector, back on its database, still has exactly its own
    expect_requests(ctx, coll, fp, na, "first collector after its restart")


def sigterm_after(ctx, sensor, tok, k, path):
    """k requests, then SIGTERM to the sensor within 0.3 s of the last."""
    try:
        py_requests(ctx, tok, k, path)
    finally:
        rc = sensor.stop()  # SIGTERM right after the client exited
    if rc != 0:
        raise Fail("sensor exit status on SIGTERM: expected 0, got %s" % rc)


def t_sigterm_collector_up(ctx, st):
    """A long interval: only the flush on SIGTERM can deliver the usage counts."""
    coll = st["coll"]
    tok, fp = ctx.new_token()
    k = 12
    sensor = start_sensor(ctx, "sensor-sigterm", coll.url, os.path.join(ctx.workdir, "state-sigterm"),
                          interval=30)
    sigterm_after(ctx, sensor, tok, k, "/c3/up")
    expect_requests(ctx, coll, fp, k, "after SIGTERM")
    if sensor.spooled():
        raise Fail("%d batches left in the spool with the collector up" % len(sensor.spooled()))


def t_sigterm_collector_down(ctx, st):
    """SIGTERM with the collector down: spooled, replayed by the next run."""
    coll = st["coll"]
    tok, fp = ctx.new_token()
    k = 9
    st["t_down"], st["k_down"] = fp, k
    state = os.path.join(ctx.workdir, "state-down")
    rc = coll.stop()
    if rc != 0:
        raise Fail("collector exit status on SIGTERM: expected 0, got %s" % rc)
    sensor = start_sensor(ctx, "sensor-down", coll.url, state)
    sigterm_after(ctx, sensor, tok, k, "/c3/down")
    files = sensor.spooled()
    if not files:
        raise Fail("collector down at SIGTERM: the spool is empty")
    for f in files:
        st["spooled"].append(read_file(f))
    sid = read_file(os.path.join(state, "sensor_id"))
    coll.start()
    if token_doc(ctx, coll, fp):
        raise Fail("token known to the collector before the sensor restarted")
    sensor = start_sensor(ctx, "sensor-down", coll.url, state)
    try:
        expect_requests(ctx, coll, fp, k, "replayed after restart", settle=SETTLE)
        left = wait_until(lambda: not sensor.spooled(), 5) or sensor.spooled()
        if left is not True:
            raise Fail("spool not drained after restart: %d batches left" % len(left))
        if read_file(os.path.join(state, "sensor_id")) != sid:
            raise Fail("sensor_id changed across the restart")
    finally:
        rc = sensor.stop()
    if rc != 0:
        raise Fail("restarted sensor exit status on SIGTERM: expected 0, got %s" % rc)


def spool_payload(data):
    """The gzip payload of a spool file: "TTSP1\\n" | u32 len LE | u32 crc32 LE | payload."""
    if not data.startswith(SPOOL_MAGIC) or len(data) < len(SPOOL_MAGIC) + 8:
        raise Fail("spool file without the TTSP1 header")
    n, crc = struct.unpack_from("<II", data, len(SPOOL_MAGIC))
    payload = data[len(SPOOL_MAGIC) + 8:]
    if len(payload) != n or zlib.crc32(payload) != crc:
        raise Fail("spool file: length or crc32 does not match its payload")
    if payload[:2] != b"\x1f\x8b":
        raise Fail("spool payload is not gzip")
    return payload


def sensor_headers(ctx, ctype="application/x-protobuf", auth=True, encoding="gzip"):
    h = ["Content-Type: " + ctype]
    if encoding:
        h.append("Content-Encoding: " + encoding)
    if auth is True:
        h.append("Authorization: Bearer " + ctx.sensor_token)
    elif auth:
        h.append("Authorization: Bearer " + auth)
    return h


def tokens_json(ctx, coll):
    status, body = http_get(ctx, coll.url + "/v1/tokens")
    if status != 200:
        raise Fail("GET /v1/tokens: %d" % status)
    return json.loads(body)


def t_duplicate(ctx, st):
    """Every spooled batch of the collector-down run, each posted twice to a
    fresh collector: stored then duplicate, nothing changes the second time."""
    if not st["spooled"]:
        raise Skip("no spooled batch (the SIGTERM test with the collector down did not run)")
    coll = Collector(ctx, "collector-dup")
    coll.start()
    try:
        payloads = [spool_payload(d) for d in st["spooled"]]
        for i, body in enumerate(payloads):
            s1, d1 = post_batch(ctx, coll.url, body, sensor_headers(ctx))
            if (s1, (d1 or {}).get("status")) != (200, "stored"):
                raise Fail("batch %d first POST: expected 200 stored, got %d %s" % (i, s1, d1))
            before = tokens_json(ctx, coll)
            s2, d2 = post_batch(ctx, coll.url, body, sensor_headers(ctx))
            if (s2, (d2 or {}).get("status")) != (200, "duplicate"):
                raise Fail("batch %d second POST: expected 200 duplicate, got %d %s" % (i, s2, d2))
            if tokens_json(ctx, coll) != before:
                raise Fail("batch %d: the inventory changed after the duplicate POST" % i)
        fp = st.get("t_down")
        got = (token_doc(ctx, coll, fp) or {}).get("requests") if fp else None
        if fp and got != st["k_down"]:
            raise Fail("requests for %s from the posted batches: expected %d, got %s"
                       % (fp, st["k_down"], got))
        status, body = http_get(ctx, coll.url + "/metrics")
        dup = metric(body, "tokentap_collector_duplicate_batches_total")
        if dup != len(payloads):
            raise Fail("metrics duplicate_batches_total: expected %d, got %s" % (len(payloads), dup))
        st["real_batch"] = payloads[-1]
    finally:
        rc = coll.stop()
    if rc != 0:
        raise Fail("collector exit status on SIGTERM: expected 0, got %s" % rc)


def metric(body, name):
    total = None
    for line in body.decode(errors="replace").splitlines():
        if line.startswith(name) and line[len(name):len(name) + 1] in (" ", "{"):
            total = (total or 0) + int(float(line.rsplit(" ", 1)[1]))
    return total


def frames(pb):
    """Byte offsets of the top-level protobuf fields (walked by tag and wire type)."""
    def varint(i):
        v = shift = 0
        while True:
            b = pb[i]
            v |= (b & 0x7f) << shift
            i += 1
            if not b & 0x80:
                return v, i
            shift += 7
    out, i = [], 0
    while i < len(pb):
        start = i
        tag, i = varint(i)
        wt = tag & 7
        if wt == 0:
            _, i = varint(i)
        elif wt == 1:
            i += 8
        elif wt == 2:
            n, i = varint(i)
            i += n
        elif wt == 5:
            i += 4
        else:
            raise Fail("unexpected wire type in a real batch")
        out.append((start, i))
    return out


def hostile_cases(ctx, st):
    """(name, body, headers, expected status, chunked); body None: cannot run, headers say why."""
    junk = secrets.token_bytes(4096)
    bomb = gzip.compress(b"\0" * (100 << 20), 9)
    wrong = "st" + secrets.token_urlsafe(30)
    ctx.tokens.append(("wrong sensor token", wrong))
    cases = [
        ("no_authorization", junk, sensor_headers(ctx, auth=False), 401, False),
        ("wrong_token", junk, sensor_headers(ctx, auth=wrong), 403, False),
        ("wrong_content_type", junk, sensor_headers(ctx, ctype="application/json"), 415, False),
        ("garbage_gzip_body", junk, sensor_headers(ctx), 400, False),
        ("gzip_of_garbage_protobuf", gzip.compress(b"\xff" * 64 + junk), sensor_headers(ctx), 400, False),
        ("gzip_bomb_100MiB", bomb, sensor_headers(ctx), 413, False),
        ("oversized_body_5MiB", secrets.token_bytes(5 << 20), sensor_headers(ctx), 413, False),
        ("oversized_chunked_5MiB", secrets.token_bytes(5 << 20), sensor_headers(ctx), 413, True),
    ]
    real = st.get("real_batch")
    if real:
        pb = gzip.decompress(real)
        # cut inside the largest top-level field, so the result cannot be valid
        a, b = max(frames(pb), key=lambda f: f[1] - f[0])
        cases += [
            ("truncated_protobuf", gzip.compress(pb[:(a + b) // 2]), sensor_headers(ctx), 400, False),
            ("truncated_protobuf_last_byte", gzip.compress(pb[:-1]), sensor_headers(ctx), 400, False),
            ("no_authorization_real_batch", real, sensor_headers(ctx, auth=False), 401, False)]
    else:
        why = ctx.no_sensor or "no real batch (the duplicate test did not run)"
        for name in ("truncated_protobuf", "truncated_protobuf_last_byte", "no_authorization_real_batch"):
            cases.append((name, None, why, None, False))
    return cases


def run_hostile(ctx, st):
    coll = Collector(ctx, "collector-hostile")
    try:
        coll.start()
    except Fail as e:
        R.record("collector/hostile/setup", "FAIL", str(e))
        return
    posts = 0
    try:
        for name, body, headers, want, chunked in hostile_cases(ctx, st):
            full = "collector/hostile/" + name
            if body is None:
                R.record(full, "FAIL" if isinstance(sensor_unavailable(headers), Fail) else "SKIP", headers)
                continue
            try:
                posts += 1
                status, doc = post_batch(ctx, coll.url, body, headers, chunked)
                problems = []
                if status != want:
                    problems.append("expected HTTP %d, got %d %s" % (want, status, doc))
                elif not (isinstance(doc, dict) and isinstance(doc.get("error"), str) and doc["error"]):
                    problems.append("HTTP %d without a JSON error message" % status)
                if not coll.running():
                    problems.append("collector exited")
                elif http_get(ctx, coll.url + "/healthz")[0] != 200:
                    problems.append("/healthz not OK afterwards")
                R.record(full, "FAIL" if problems else "PASS", "; ".join(problems))
            except (Fail, subprocess.TimeoutExpired) as e:
                R.record(full, "FAIL", str(e))
        try:
            toks = cli_json(ctx, ["tokens", "--url", coll.url])
            sens = cli_json(ctx, ["sensors", "--url", coll.url])
            if toks != [] or sens != []:
                raise Fail("expected empty inventory, got %d tokens and %d sensors" % (len(toks), len(sens)))
            status, body = http_get(ctx, coll.url + "/metrics")
            rejects = metric(body, "tokentap_collector_rejects_total")
            if status != 200 or rejects != posts:
                raise Fail("/metrics rejects_total: expected %d, got %s (HTTP %d)" % (posts, rejects, status))
            R.record("collector/hostile/nothing_stored", "PASS")
        except Fail as e:
            R.record("collector/hostile/nothing_stored", "FAIL", str(e))
    finally:
        rc = coll.stop()
        R.record("collector/hostile/clean_exit", "PASS" if rc == 0 else "FAIL",
                 "" if rc == 0 else "exit status on SIGTERM: expected 0, got %s" % rc)
    try:
        toks = cli_json(ctx, ["tokens", "--db", coll.db])
        if toks != []:
            raise Fail("expected no tokens, got %d" % len(toks))
        R.record("collector/hostile/nothing_in_db_file", "PASS")
    except Fail as e:
        R.record("collector/hostile/nothing_in_db_file", "FAIL", str(e))


# ---- secrets ------------------------------------------------------------------------

def secret_hits(ctx):
    blobs = list(ctx.snapshots) + list(ctx.outputs)
    blobs.append(("runner output", "\n".join(R.lines).encode()))
    for root, dirs, files in os.walk(ctx.workdir):
        dirs[:] = [d for d in dirs if os.path.join(root, d) != ctx.secret_dir]
        for name in files:
            p = os.path.join(root, name)
            blobs.append(("file " + os.path.relpath(p, ctx.workdir), read_file(p)))
    hits = set()
    for label, tok in ctx.tokens:
        t = tok.encode()
        for where, blob in blobs:
            if t in blob:
                hits.add("%s in %s" % (label, where))
    return sorted(hits)


# ---- the run ----------------------------------------------------------------------------

SENSOR_TESTS = ["two_processes_one_token", "top_once", "collector_outage", "database_restart",
                "sigterm_collector_up",
                "sigterm_collector_down_then_restart", "batch_posted_twice", "two_collectors_failover"]


def serve_and_refuse_anonymous(ctx, name, extra):
    """Starts a collector with extra flags, checks that an unauthenticated
    POST gets 401 and that SIGTERM ends it with status 0; returns it."""
    coll = Collector(ctx, name, extra=extra)
    coll.start()
    try:
        code, _ = post_batch(ctx, coll.url, b"x" * 64, sensor_headers(ctx, auth=False))
        if code != 401:
            raise Fail("unauthenticated POST with %s: expected 401, got %s" % (" ".join(extra), code))
    finally:
        rc = coll.stop()
    if rc != 0:
        raise Fail("exit status on SIGTERM with %s: expected 0, got %s" % (" ".join(extra), rc))
    return coll


def t_log_format_json(ctx, st):
    """serve --log-format json: every diagnostic, refusals included, one JSON object."""
    coll = serve_and_refuse_anonymous(ctx, "collector-json", ["--log-format", "json"])
    objs = []
    for line in read_file(coll.err_path).decode(errors="replace").splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            raise Fail("stderr line is not JSON: %r" % line[:160])
        if not isinstance(o, dict) or o.get("program") != "tokentap-collector" or \
                not all(isinstance(o.get(k), str) for k in ("ts", "level", "msg")):
            raise Fail("JSON log line lacks ts/level/program/msg: %r" % line[:160])
        objs.append(o)
    if not any("listening on" in o["msg"] for o in objs):
        raise Fail("no 'listening on' line")
    if not any("401" in o["msg"] for o in objs):
        raise Fail("the 401 refusal was not logged as JSON")


def t_db_writers_flag(ctx, st):
    """serve --db-writers: out of 1..5 refused before anything opens (exit 2,
    the reason named); a valid value serves."""
    for bad in ("0", "6", "x"):
        p = subprocess.run([collector_bin(), "serve", "--db", os.path.join(ctx.workdir, "w.db"),
                            "--insecure-no-auth", "--db-writers", bad],
                           capture_output=True, timeout=30)
        if p.returncode != 2 or b"--db-writers" not in p.stderr:
            raise Fail("--db-writers %s: expected exit 2 naming the flag, got %d: %r"
                       % (bad, p.returncode, p.stderr[-200:]))
    if os.path.exists(os.path.join(ctx.workdir, "w.db")):
        raise Fail("a refused --db-writers created the database file")
    serve_and_refuse_anonymous(ctx, "collector-writers", ["--db-writers", "1"])


def run_all(ctx):
    st = {"spooled": []}

    def record(name, fn):
        full = "collector/" + name
        try:
            fn(ctx, st)
            R.record(full, "PASS")
        except Skip as e:
            R.record(full, "SKIP", str(e))
        except Fail as e:
            R.record(full, "FAIL", str(e))
        except Exception as e:  # a broken test is a failure, not a crash
            R.record(full, "FAIL", "%s: %s" % (type(e).__name__, e))

    if not os.access(e2e.sensor_bin(), os.X_OK):
        ctx.no_sensor = "no sensor binary at %s (make all)" % e2e.sensor_bin()
    elif os.geteuid() != 0:
        ctx.no_sensor = "not root, cannot load BPF"

    e2e.make_cert(ctx.workdir)
    ctx.tls = e2e.Server(ctx.workdir, "tls", True)
    coll = st["coll"] = Collector(ctx, "collector")
    coll.start()

    # Phase 1: one sensor, the collector going away and coming back.
    sensor = sensor_why = None
    try:
        sensor = start_sensor(ctx, "sensor-main", coll.url, os.path.join(ctx.workdir, "state-main"))
    except (Skip, Fail) as e:
        sensor_why = e
    if sensor:
        st["sensor"] = sensor
        for name, fn in (("two_processes_one_token", t_two_processes), ("top_once", t_top),
                         ("collector_outage", t_outage),
                         ("database_restart", t_database_restart)):
            record(name, fn)
        rc = sensor.stop()
        R.record("collector/sensor_clean_exit", "PASS" if rc == 0 else "FAIL",
                 "" if rc == 0 else "exit status on SIGTERM: expected 0, got %s" % rc)
        if not coll.running():
            coll.start()  # a failed outage test may have left it down
        # Phase 2: SIGTERM with the collector up, then down.
        record("sigterm_collector_up", t_sigterm_collector_up)

        record("sigterm_collector_down_then_restart", t_sigterm_collector_down)
        record("batch_posted_twice", t_duplicate)
        record("two_collectors_failover", t_two_collectors)
    else:
        status = "FAIL" if isinstance(sensor_why, Fail) else "SKIP"
        for name in SENSOR_TESTS + ["sensor_clean_exit"]:
            R.record("collector/" + name, status, str(sensor_why))
    rc = coll.stop()
    R.record("collector/collector_clean_exit", "PASS" if rc == 0 else "FAIL",
             "" if rc == 0 else "exit status on SIGTERM: expected 0, got %s" % rc)

    # Phase 3: hostile requests against a fresh collector, no sensor running.
    run_hostile(ctx, st)
    record("log_format_json", t_log_format_json)
    record("db_writers_flag", t_db_writers_flag)


def main():
    def on_signal(sig, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    workdir = tempfile.mkdtemp(prefix="tokentap-e2e-coll-")
    try:
        if not os.access(collector_bin(), os.X_OK):
            R.record("collector/setup", "FAIL", "no collector binary at %s (make all)" % collector_bin())
        else:
            ctx = Ctx(workdir)
            try:
                run_all(ctx)
            except Fail as e:
                R.record("collector/setup", "FAIL", str(e))
            finally:
                e2e.kill_children()
                hits = secret_hits(ctx)
                R.record("collector/no_secret_in_outputs", "FAIL" if hits else "PASS", "; ".join(hits))
    except KeyboardInterrupt:
        R.record("collector/interrupted", "FAIL")
    finally:
        e2e.kill_children()
        shutil.rmtree(workdir, ignore_errors=True)
    # the run on PostgreSQL is a suite of its own in the totals
    suite = "e2e-collector-pg" if os.environ.get("TOKENTAP_COLLECTOR_PG") else "e2e-collector"
    print("%s: %d passed, %d failed, %d skipped" % (suite, R.passed, R.failed, R.skipped), flush=True)
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
