#!/usr/bin/env python3
"""End-to-end fault tests: the real sensor loaded, the real collector, faults
made on purpose.

Run as root from anywhere:  python3 tests/e2e/run_faults.py
  TOKENTAP_BIN=path             sensor binary (default build/tokentap)
  TOKENTAP_TEST_HOOKS_BIN=path  the test-hooks build (default build/tokentap-test-hooks):
                                its wall clock can be stepped (clock test)
  TOKENTAP_COLLECTOR_BIN=path   collector binary (default build/tokentap-collector)
  TOKENTAP_REQUIRE_BPF=1        a sensor that cannot load is a failure, not a skip
  TOKENTAP_FAULTS_STORM_SECONDS=N   length of the exec storm (default 30)

Covers:
  kill9_restart       SIGKILL of the sensor under load, collector down: no BPF
                      program, link, perf-event probe or uprobe_events line of
                      the dead sensor left; the restarted sensor captures, replays
                      every spooled batch, and its seqs continue above them
  disk_full           the state directory on a full tmpfs: spool writes fail,
                      counted (metrics, status) and logged; the batches are
                      held in memory, the sensor keeps running, and once space
                      returns everything reaches the collector, nothing lost
  slow_collector      a collector answering one request per 10 s: the sensor's
                      RSS is sampled and stays bounded, the spool takes the
                      backlog; once it is fast again nothing is missing
  exec_storm          500 execs/s of short-lived processes (some TLS, some
                      sending a credential): afterwards no growth of
                      attachments, BPF map entries or memory
  clock_step          the wall clock of the test-hooks build stepped back 1 h,
                      then forward: every usage interval non-negative, every
                      request counted

Durations (restart to ready, drain time, exec rate, RSS) are measured and
printed, never asserted. Every output is searched for the raw credentials.
Prints one PASS/FAIL/SKIP line per test and ends with
"e2e-faults: N passed, M failed, K skipped"; exits non-zero on failure.
"""
import gzip
import http.server
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import shutil

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as e2e  # noqa: E402  (helpers of the sensor runner)
import run_collector as rc  # noqa: E402  (collector, context, secret search)
from run import CURL, HERE, PY, REPO, Fail, Skip  # noqa: E402

R = e2e.R
SUITE = "e2e-faults"
STORM_RATE = 500          # execs per second asked for
SLOW_EVERY = 10.0         # the slow collector answers one request per this many seconds
RELEASE_WAIT = 20         # bound on waiting for attachments to be released
DRAIN_WAIT = 120          # bound on waiting for a backlog to reach the collector
MIB = 1 << 20


def hooks_bin():
    b = os.environ.get("TOKENTAP_TEST_HOOKS_BIN", "build/tokentap-test-hooks")
    return b if os.path.isabs(b) else os.path.join(REPO, b)


def rss_bytes(pid):
    for line in rc.read_file("/proc/%d/status" % pid).decode(errors="replace").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


# ---- the sensor ----------------------------------------------------------------

class Sensor:
    """tokentap shipping (or printing, url None), with /metrics on a free port."""

    def __init__(self, ctx, name, url, state_dir, binary=None, env=None, extra=()):
        self.ctx = ctx
        self.state_dir = state_dir
        self.spool = os.path.join(state_dir, "spool")
        self.out_path = os.path.join(ctx.workdir, name + ".out")
        self.err_path = os.path.join(ctx.workdir, name + ".err")
        self.metrics_port = e2e.free_port()
        args = [binary or e2e.sensor_bin(), "--state-dir", state_dir, "--key-file", ctx.key_path,
                "--interval", "1", "--release-interval", "1",
                "--metrics-listen", "127.0.0.1:%d" % self.metrics_port]
        if url:
            args += ["--collector", url, "--collector-token-file", ctx.token_path, "--quiet"]
        else:
            args += ["--json"]
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.started = time.monotonic()
        with open(self.out_path, "ab") as out, open(self.err_path, "ab") as err:
            self.err_start = err.tell()
            self.out_start = out.tell()
            self.proc = e2e.spawn(args + list(extra), stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=err, env=full_env)
        self.pid = self.proc.pid
        self.ready_after = None

    def err_text(self):
        return rc.read_file(self.err_path)[self.err_start:].decode(errors="replace")

    def events(self):
        evs = []
        for line in rc.read_file(self.out_path)[self.out_start:].splitlines():
            try:
                evs.append(json.loads(line))
            except ValueError:
                pass
        return evs

    def wait_ready(self):
        def ready():
            if "tokentap: ready" in self.err_text():
                return "ready"
            return "exited" if self.proc.poll() is not None else None
        r = rc.wait_until(ready, e2e.READY_TIMEOUT)
        if r == "ready":
            self.ready_after = time.monotonic() - self.started
            return None
        tail = " | ".join(self.err_text().strip().splitlines()[-3:])
        self.stop()
        return "sensor %s: %s" % ("exited before ready" if r else "not ready after %ds" % e2e.READY_TIMEOUT,
                                  tail)

    def metrics(self):
        """{name or name{labels}: value} from /metrics; {} when it does not answer."""
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics_port, timeout=5) as r:
                body = r.read()
        except (OSError, urllib.error.URLError):
            return {}
        self.ctx.outputs.append(("sensor /metrics", body))
        out = {}
        for line in body.decode(errors="replace").splitlines():
            if line and not line.startswith("#"):
                k, _, v = line.rpartition(" ")
                try:
                    out[k] = float(v)
                except ValueError:
                    pass
        return out

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

    def spooled_seqs(self):
        seqs = []
        try:
            names = os.listdir(self.spool)
        except OSError:
            return seqs
        for n in names:
            m = re.fullmatch(r"(\d{20})\.batch", n)
            if m:
                seqs.append(int(m.group(1)))
        return sorted(seqs)

    def sensor_id(self):
        return rc.read_file(os.path.join(self.state_dir, "sensor_id")).decode().strip()


def start_sensor(ctx, name, url, state_dir, **kw):
    if ctx.no_sensor:
        raise rc.sensor_unavailable(ctx.no_sensor)
    s = Sensor(ctx, name, url, state_dir, **kw)
    why = s.wait_ready()
    if why:
        ctx.no_sensor = why
        raise rc.sensor_unavailable(why)
    return s


# ---- kernel objects of one process -------------------------------------------------

def bpftool_json(*args):
    p = subprocess.run(["bpftool", "-j"] + list(args), capture_output=True, timeout=30)
    if p.returncode != 0:
        raise Fail("bpftool %s: %s" % (" ".join(args), p.stderr.decode(errors="replace").strip()[-200:]))
    try:
        return json.loads(p.stdout or b"[]")
    except ValueError:
        raise Fail("bpftool %s printed no JSON" % " ".join(args))


def kernel_objects(pid):
    """The BPF programs and links a process holds (from its fds' fdinfo), and
    how many perf events (uprobes attached through perf_event_open)."""
    progs, links, perf = set(), set(), 0
    fddir = "/proc/%d/fd" % pid
    try:
        fds = os.listdir(fddir)
    except OSError:
        return {"programs": [], "links": [], "perf events": 0}
    for fd in fds:
        try:
            target = os.readlink(os.path.join(fddir, fd))
        except OSError:
            continue
        if target == "anon_inode:[perf_event]":
            perf += 1
            continue
        info = rc.read_file("/proc/%d/fdinfo/%s" % (pid, fd)).decode(errors="replace")
        for line in info.splitlines():
            k, _, v = line.partition(":")
            if k == "prog_id" and target == "anon_inode:bpf-prog":
                progs.add(int(v))
            elif k == "link_id":
                links.add(int(v))
    return {"programs": sorted(progs), "links": sorted(links), "perf events": perf}


def uprobe_events():
    return rc.read_file("/sys/kernel/tracing/uprobe_events").decode(errors="replace").splitlines()


# ---- a proxy in front of the collector: records batches, can be slow ---------------

class Proxy:
    """Forwards /v1/batches and /healthz to the collector; keeps every batch
    body it was sent. slow: answers one request per SLOW_EVERY seconds."""

    def __init__(self, target):
        self.target = target
        self.bodies = []
        self.slow = False
        self.answered = 0
        self.lock = threading.Lock()
        self.turn = threading.Lock()  # one request at a time while slow
        self.last_answer = 0.0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def forward(self, method):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                if method == "POST":
                    with proxy.lock:
                        proxy.bodies.append(body)
                if proxy.slow:
                    with proxy.turn:
                        wait = proxy.last_answer + SLOW_EVERY - time.monotonic()
                        if wait > 0:
                            time.sleep(wait)
                        status, hdrs, data = proxy.upstream(method, self.path, self.headers, body)
                        proxy.last_answer = time.monotonic()
                else:
                    status, hdrs, data = proxy.upstream(method, self.path, self.headers, body)
                try:
                    self.send_response(status)
                    for k, v in hdrs:
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    with proxy.lock:
                        proxy.answered += 1
                except OSError:
                    pass  # the sensor gave up waiting

            def do_POST(self):
                self.forward("POST")

            def do_GET(self):
                self.forward("GET")

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a sensor that gave up waiting resets its connection

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def upstream(self, method, path, headers, body):
        req = urllib.request.Request(self.target + path, data=body, method=method)
        for k in ("Authorization", "Content-Type", "Content-Encoding"):
            if headers.get(k):
                req.add_header(k, headers.get(k))
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, [("Content-Type", r.headers.get("Content-Type", "text/plain"))], r.read()
        except urllib.error.HTTPError as e:
            return e.code, [("Content-Type", e.headers.get("Content-Type", "text/plain"))], e.read()
        except (OSError, urllib.error.URLError):
            return 502, [], b"collector unreachable\n"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ---- protobuf, just enough to read token_usage out of a batch ----------------------

def pb_fields(buf):
    """[(field, wire type, value)] of one message; raises ValueError when malformed."""
    out, i = [], 0

    def varint():
        nonlocal i
        v = shift = 0
        while True:
            if i >= len(buf) or shift > 63:
                raise ValueError("truncated varint")
            b = buf[i]
            i += 1
            v |= (b & 0x7f) << shift
            shift += 7
            if not b & 0x80:
                return v
    while i < len(buf):
        key = varint()
        f, wt = key >> 3, key & 7
        if wt == 0:
            out.append((f, wt, varint()))
        elif wt == 2:
            n = varint()
            if i + n > len(buf):
                raise ValueError("truncated field")
            out.append((f, wt, buf[i:i + n]))
            i += n
        elif wt == 1:
            out.append((f, wt, buf[i:i + 8]))
            i += 8
        elif wt == 5:
            out.append((f, wt, buf[i:i + 4]))
            i += 4
        else:
            raise ValueError("wire type %d" % wt)
    return out


def signed64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def batch_usage(body):
    """(sent_at_ms, [(fingerprint, start_ms, end_ms, count)]) of one gzip'ed Batch."""
    fields = pb_fields(gzip.decompress(body))
    sent = next((signed64(v) for f, wt, v in fields if f == 4 and wt == 0), None)
    usage = []
    for f, wt, ev in fields:
        if f != 6 or wt != 2:
            continue
        for ef, ewt, u in pb_fields(ev):
            if ef != 2 or ewt != 2:
                continue
            d = {uf: v for uf, uwt, v in pb_fields(u)}
            fp = ""
            if 3 in d:
                fp = next((v.decode(errors="replace") for tf, twt, v in pb_fields(d[3])
                           if tf == 1 and twt == 2), "")
            usage.append((fp, signed64(d.get(1, 0)), signed64(d.get(2, 0)), d.get(8, 0)))
    return sent, usage


# ---- load ----------------------------------------------------------------------------

# Requests over one keep-alive connection until the stop file exists; prints
# how many got a 200. The credential comes from the environment.
LOAD_SCRIPT = r"""
import http.client, os, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
n = 0
conn = None
while not os.path.exists(sys.argv[2]):
    try:
        if conn is None:
            conn = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), timeout=15, context=ctx)
        conn.request("GET", "/load/%d" % n, headers={"Authorization": "Bearer " + os.environ["TT_TOKEN"]})
        r = conn.getresponse(); r.read()
        if r.status == 200:
            n += 1
    except (OSError, http.client.HTTPException):
        conn = None
print("sent=%d" % n)
"""


class Load:
    def __init__(self, ctx, tok):
        self.ctx = ctx
        self.stop_file = os.path.join(ctx.workdir, "load-stop-%d" % len(ctx.tokens))
        env = dict(os.environ, TT_TOKEN=tok)
        self.proc = e2e.spawn([PY, "-c", LOAD_SCRIPT, str(ctx.tls.port), self.stop_file], env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def finish(self):
        open(self.stop_file, "w").close()
        out, err = self.proc.communicate(timeout=60)
        self.ctx.outputs += [out, err]
        m = re.search(rb"sent=(\d+)", out)
        if not m:
            raise Fail("load client printed no count: %s" % (out + err).decode(errors="replace")[-200:])
        return int(m.group(1))


def collector_batches(coll, sensor_id):
    """The seqs the collector stored for sensor_id."""
    con = sqlite3.connect("file:%s?mode=ro" % coll.db, uri=True, timeout=10)
    try:
        return sorted(r[0] for r in con.execute("SELECT seq FROM batches WHERE sensor_id = ?", (sensor_id,)))
    finally:
        con.close()


def requests_of(ctx, coll, fp):
    d = rc.token_doc(ctx, coll, fp)
    return d.get("requests") if d else None


# ---- tests -----------------------------------------------------------------------

def t_kill9_restart(ctx, st):
    coll = st["coll"]
    state = os.path.join(ctx.workdir, "state-kill9")
    probes_before = uprobe_events()
    a = start_sensor(ctx, "sensor-kill9-a", coll.url, state)
    owned = kernel_objects(a.pid)
    if not owned["programs"]:
        raise Fail("no BPF program among the fds of the sensor (pid %d)" % a.pid)
    R.say("  kill9_restart: the sensor holds %d BPF programs, %d links, %d perf events"
          % (len(owned["programs"]), len(owned["links"]), owned["perf events"]))
    tok1, fp1 = ctx.new_token()
    load = Load(ctx, tok1)
    try:
        if not rc.wait_until(lambda: (requests_of(ctx, coll, fp1) or 0) > 0, rc.DELIVERY_TIMEOUT, 0.2):
            raise Fail("no request of the load reached the collector")
        # the collector goes away: what follows can only reach it through the spool
        coll.stop()
        if not rc.wait_until(lambda: len(a.spooled_seqs()) >= 2, 15, 0.1):
            raise Fail("collector down under load: fewer than 2 batches spooled in 15 s")
        a.proc.kill()
        a.proc.wait(10)
        killed_at = time.monotonic()
    finally:
        sent1 = load.finish()
    spooled = a.spooled_seqs()
    sid = a.sensor_id()
    stored_before = collector_batches(coll, sid)

    # nothing of the dead sensor stays in the kernel: its programs and links
    # (ids outlive nothing that closes them), its perf-event probes go with its fds
    def leftovers():
        now = {"programs": {p.get("id") for p in bpftool_json("prog", "show")},
               "links": {x.get("id") for x in bpftool_json("link", "show")}}
        left = {k: sorted(set(owned[k]) & now[k]) for k in now}
        return {k: v for k, v in left.items() if v}
    left = rc.wait_until(lambda: not leftovers(), RELEASE_WAIT, 0.5) or leftovers()
    if left is not True:
        raise Fail("kernel objects of the killed sensor still there after %d s: %s" % (RELEASE_WAIT, left))
    extra_probes = sorted(set(uprobe_events()) - set(probes_before))
    if extra_probes:
        raise Fail("uprobe_events lines left by the killed sensor: %s" % extra_probes[:3])

    coll.start()
    b = start_sensor(ctx, "sensor-kill9-b", coll.url, state)
    try:
        R.say("  kill9_restart: killed to ready again %.2f s (restarted sensor start to ready %.2f s); "
              "%d batches spooled at the kill; load sent %d requests"
              % (time.monotonic() - killed_at, b.ready_after, len(spooled), sent1))
        tok3, fp3 = ctx.new_token()
        k3 = 5
        t0 = time.monotonic()
        rc.py_requests(ctx, tok3, k3, "/kill9/after")
        rc.expect_requests(ctx, coll, fp3, k3, "after the restart", settle=rc.SETTLE)
        R.say("  kill9_restart: requests after the restart at the collector %.2f s after they were sent"
              % (time.monotonic() - t0))
        drained = rc.wait_until(lambda: not b.spooled_seqs(), DRAIN_WAIT, 0.2)
        if drained is not True:
            raise Fail("spool not drained after the restart: seqs %s left" % b.spooled_seqs()[:5])
        if b.sensor_id() != sid:
            raise Fail("sensor_id changed across the kill")
        stored = collector_batches(coll, sid)
        missing = sorted(set(spooled) - set(stored))
        if missing:
            raise Fail("batches spooled at the kill never reached the collector: seqs %s" % missing[:5])
        new = sorted(set(stored) - set(stored_before) - set(spooled))
        top = max(spooled + stored_before)
        if not new or min(new) <= top:
            raise Fail("seqs of the restarted sensor do not continue above %d: %s" % (top, new[:5]))
        got1 = requests_of(ctx, coll, fp1) or 0
        if got1 > sent1:
            raise Fail("load token counted %d times for %d requests sent (counted twice)" % (got1, sent1))
        R.say("  kill9_restart: load requests counted %d of %d sent (the killed sensor's last "
              "unflushed interval is lost with it)" % (got1, sent1))
    finally:
        rcode = b.stop()
    if rcode != 0:
        raise Fail("restarted sensor exit status on SIGTERM: expected 0, got %s" % rcode)


def t_disk_full(ctx, st):
    coll = st["coll"]
    mnt = os.path.join(ctx.workdir, "small-disk")
    os.makedirs(mnt)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", mnt],
                       capture_output=True, timeout=30)
    if p.returncode != 0:
        raise Skip("cannot mount a tmpfs: %s" % p.stderr.decode(errors="replace").strip())
    st["mounts"].append(mnt)
    state = os.path.join(mnt, "state")
    s = start_sensor(ctx, "sensor-disk", coll.url, state)
    filler = os.path.join(mnt, "filler")
    try:
        tok0, fp0 = ctx.new_token()
        rc.py_requests(ctx, tok0, 3, "/disk/before")
        rc.expect_requests(ctx, coll, fp0, 3, "before the disk is full")
        # fill the disk to the last byte
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            for chunk in (65536, 4096, 1):
                try:
                    while True:
                        os.write(fd, b"\0" * chunk)
                except OSError:
                    pass
        finally:
            os.close(fd)
        tok1, fp1 = ctx.new_token()
        rc.py_requests(ctx, tok1, 4, "/disk/full")

        def failed():
            return s.metrics().get("tokentap_spool_write_failures_total", 0) > 0
        if not rc.wait_until(failed, 15, 0.3):
            raise Fail("disk full: no spool write failure counted in /metrics within 15 s")
        if s.proc.poll() is not None:
            raise Fail("sensor exited (%d) on a full disk" % s.proc.returncode)
        if "cannot write a batch to the spool" not in s.err_text():
            raise Fail("disk full: no log line about the failed spool write")
        m = s.metrics()
        failures, held = m.get("tokentap_spool_write_failures_total", 0), m.get("tokentap_batches_held", 0)
        if held < 1:
            raise Fail("disk full: no batch held in memory (batches_held %s)" % held)
        status = urllib.request.urlopen("http://127.0.0.1:%d/healthz" % s.metrics_port, timeout=5).status
        if status != 200:
            raise Fail("disk full: /healthz answered %d" % status)
        os.unlink(filler)
        tok2, fp2 = ctx.new_token()
        rc.py_requests(ctx, tok2, 6, "/disk/again")
        rc.expect_requests(ctx, coll, fp2, 6, "once space returned", settle=rc.SETTLE)
        # what was captured while the disk was full was held, not lost
        rc.expect_requests(ctx, coll, fp1, 4, "made while the disk was full")
        if "writable again" not in s.err_text():
            raise Fail("no log line saying the spool is writable again")
        m = s.metrics()
        if m.get("tokentap_batches_held") != 0 or m.get('tokentap_drops_total{reason="batch_lost"}') != 0:
            raise Fail("after the disk full: batches_held %s, batch_lost %s (expected 0, 0)" % (
                m.get("tokentap_batches_held"), m.get('tokentap_drops_total{reason="batch_lost"}')))
        R.say("  disk_full: %d spool writes failed while the disk was full, %d batches held in memory, "
              "none lost" % (failures, held))
    finally:
        if os.path.exists(filler):
            os.unlink(filler)
        rcode = s.stop()
    if rcode != 0:
        raise Fail("sensor exit status on SIGTERM: expected 0, got %s" % rcode)


def t_slow_collector(ctx, st):
    coll = st["coll"]
    proxy = Proxy(coll.url)
    st["proxies"].append(proxy)
    s = start_sensor(ctx, "sensor-slow", proxy.url, os.path.join(ctx.workdir, "state-slow"))
    try:
        time.sleep(2)  # the first status batches
        rss0 = rss_bytes(s.pid)
        proxy.slow = True
        sent, samples, spool_peak = [], [rss0], 0
        end = time.monotonic() + 30
        while time.monotonic() < end:
            tok, fp = ctx.new_token()
            rc.py_requests(ctx, tok, 10, "/slow/%d" % len(sent))
            sent.append((fp, 10))
            samples.append(rss_bytes(s.pid))
            spool_peak = max(spool_peak, len(s.spooled_seqs()))
        for _ in range(10):
            time.sleep(0.5)
            samples.append(rss_bytes(s.pid))
            spool_peak = max(spool_peak, len(s.spooled_seqs()))
        answered_slow = proxy.answered
        R.say("  slow_collector: RSS start %.1f MiB, peak %.1f MiB over %d samples; spool peak %d "
              "batches; %d answers in the slow phase" % (rss0 / MIB, max(samples) / MIB, len(samples),
                                                         spool_peak, answered_slow))
        if spool_peak < 3:
            raise Fail("slow collector: the spool never held more than %d batches" % spool_peak)
        # bounded: the backlog is on disk, not in memory
        if max(samples) > rss0 + 16 * MIB:
            raise Fail("RSS grew from %.1f to %.1f MiB with a slow collector"
                       % (rss0 / MIB, max(samples) / MIB))
        proxy.slow = False
        t0 = time.monotonic()
        drained = rc.wait_until(lambda: not s.spooled_seqs(), DRAIN_WAIT, 0.2)
        if drained is not True:
            raise Fail("spool not drained %d s after the collector was fast again" % DRAIN_WAIT)
        R.say("  slow_collector: backlog delivered %.1f s after the collector was fast again"
              % (time.monotonic() - t0))
        for fp, n in sent:
            rc.expect_requests(ctx, coll, fp, n, "after the slow phase")
    finally:
        proxy.slow = False
        rcode = s.stop()
    if rcode != 0:
        raise Fail("sensor exit status on SIGTERM: expected 0, got %s" % rcode)


# One process of the storm: mostly plain short-lived programs, some mapping
# OpenSSL, some sending a credential over TLS (curl).
def storm(ctx, tok, seconds):
    conf = ctx.curl_config(['header = "Authorization: Bearer %s"' % tok])
    url = "https://127.0.0.1:%d/storm" % ctx.tls.port
    kinds = {
        "plain": ["/bin/true"],
        "tls-lib": ["openssl", "version"],
        "tls-request": [CURL, "-sS", "-k", "-o", "/dev/null", "-K", conf, url],
    }
    devnull = os.open(os.devnull, os.O_RDWR)
    live, done, failed = {}, {k: 0 for k in kinds}, []
    start = time.monotonic()
    n = 0
    try:
        while True:
            now = time.monotonic()
            if now - start >= seconds:
                break
            # reap what exited
            while live:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                kind = live.pop(pid, None)
                if kind:
                    if os.waitstatus_to_exitcode(status) == 0:
                        done[kind] += 1
                    else:
                        failed.append(kind)
            due = int((now - start) * STORM_RATE)
            if n >= due or len(live) >= 200:
                time.sleep(0.001)
                continue
            kind = "tls-request" if n % 50 == 0 else "tls-lib" if n % 10 == 0 else "plain"
            pid = os.posix_spawnp(kinds[kind][0], kinds[kind], os.environ,
                                  file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 0),
                                                (os.POSIX_SPAWN_DUP2, devnull, 1),
                                                (os.POSIX_SPAWN_DUP2, devnull, 2)])
            live[pid] = kind
            n += 1
        elapsed = time.monotonic() - start
        for pid, kind in list(live.items()):
            _, status = os.waitpid(pid, 0)
            if os.waitstatus_to_exitcode(status) == 0:
                done[kind] += 1
            else:
                failed.append(kind)
    finally:
        os.close(devnull)
    return n, elapsed, done, failed


def steady(m):
    keys = ["tokentap_uprobes", "tokentap_tracepoints"] + sorted(k for k in m if k.startswith("tokentap_attached_files"))
    return {k: m.get(k) for k in keys}


def map_entries(m):
    return {k[len("tokentap_bpf_map_entries"):]: v for k, v in m.items()
            if k.startswith("tokentap_bpf_map_entries{")}


def t_exec_storm(ctx, st):
    seconds = int(os.environ.get("TOKENTAP_FAULTS_STORM_SECONDS", "30"))
    e2e.need(CURL, "curl")
    if not shutil.which("openssl"):
        raise Skip("no openssl program")
    s = start_sensor(ctx, "sensor-storm", None, os.path.join(ctx.workdir, "state-storm"))
    try:
        tok, fp = ctx.new_token()
        # one TLS process first, so the attachments it brings are in "before"
        rc.py_requests(ctx, tok, 1, "/storm/warm")
        subprocess.run([CURL, "-sS", "-k", "-o", "/dev/null", "-K", ctx.curl_config(
            ['header = "Authorization: Bearer %s"' % tok]), "https://127.0.0.1:%d/storm" % ctx.tls.port],
            timeout=30, capture_output=True)
        time.sleep(3)  # a release pass and a map count (every --interval)
        before = s.metrics()
        rss0 = rss_bytes(s.pid)
        if not before:
            raise Fail("sensor /metrics did not answer")
        # three rounds: memory that only warms up grows in the first, a leak in every one
        n, elapsed, failed, rss = 0, 0.0, [], [rss0]
        done = {}
        for _ in range(3):
            rn, re_, rd, rf = storm(ctx, tok, seconds / 3)
            n, elapsed, failed = n + rn, elapsed + re_, failed + rf
            for k, v in rd.items():
                done[k] = done.get(k, 0) + v
            time.sleep(2)  # a release pass
            rss.append(rss_bytes(s.pid))
        R.say("  exec_storm: %d execs in %.1f s (%.0f/s, asked %d/s): %s; failed %d"
              % (n, elapsed, n / elapsed, STORM_RATE, ", ".join("%s %d" % kv for kv in done.items()),
                 len(failed)))
        R.say("  exec_storm: RSS before and after each round: %s MiB"
              % " ".join("%.1f" % (x / MIB) for x in rss))
        if failed:
            raise Fail("%d storm processes failed (%s)" % (len(failed), sorted(set(failed))))
        peak = s.metrics()

        def settled():
            m = s.metrics()
            return m if m and steady(m) == steady(before) else None
        after = rc.wait_until(settled, RELEASE_WAIT, 0.5)
        if not after:
            raise Fail("attachments after the storm %s, before %s (waited %d s)"
                       % (steady(s.metrics()), steady(before), RELEASE_WAIT))
        time.sleep(2)  # one more map count
        after = s.metrics()
        rss1 = rss_bytes(s.pid)
        R.say("  exec_storm: uprobes before %s peak %s after %s; RSS %.1f -> %.1f MiB"
              % (before.get("tokentap_uprobes"), peak.get("tokentap_uprobes"),
                 after.get("tokentap_uprobes"), rss0 / MIB, rss1 / MIB))
        mb, ma = map_entries(before), map_entries(after)
        R.say("  exec_storm: map entries before/after: %s" % ", ".join(
            "%s %d/%d" % (k.strip("{}").split("=")[-1].strip('"'), mb.get(k, 0), v) for k, v in sorted(ma.items())))
        # other processes of the host come and go too: a little slack, no growth with the storm
        grown = {k: (mb.get(k, 0), v) for k, v in ma.items() if v > mb.get(k, 0) + 64}
        if grown:
            raise Fail("BPF map entries grew with the storm: %s" % grown)
        if rss1 > rss0 + 8 * MIB or rss[3] > rss[1] + 2 * MIB:
            raise Fail("RSS grew with the storm: %s MiB" % " ".join("%.1f" % (x / MIB) for x in rss + [rss1]))
        # every credential sent by the storm was counted
        want = 2 + done["tls-request"]
        got = sum(e.get("count", 0) for e in s.events()
                  if e.get("event") == "token_usage" and e.get("fingerprint") == fp)
        if got != want:
            time.sleep(2)
            got = sum(e.get("count", 0) for e in s.events()
                      if e.get("event") == "token_usage" and e.get("fingerprint") == fp)
        if got != want:
            raise Fail("storm token: %d requests counted, %d sent" % (got, want))
    finally:
        rcode = s.stop()
    if rcode != 0:
        raise Fail("sensor exit status on SIGTERM: expected 0, got %s" % rcode)


def t_clock_step(ctx, st):
    coll = st["coll"]
    if not os.access(hooks_bin(), os.X_OK):
        raise Fail("no test-hooks sensor at %s (make %s)" % (hooks_bin(), "build/tokentap-test-hooks"))
    offset = os.path.join(ctx.workdir, "clock-offset")
    with open(offset, "w") as f:
        f.write("0\n")
    proxy = Proxy(coll.url)
    st["proxies"].append(proxy)
    s = start_sensor(ctx, "sensor-clock", proxy.url, os.path.join(ctx.workdir, "state-clock"),
                     binary=hooks_bin(), env={"TOKENTAP_TEST_CLOCK_OFFSET_FILE": offset})
    tok, fp = ctx.new_token()
    total = 0
    try:
        for step, n in (("0", 4), ("-3600", 5), ("0", 6)):
            # the step lands inside an interval that already has usage
            rc.py_requests(ctx, tok, 1, "/clock/lead")
            total += 1
            with open(offset + ".tmp", "w") as f:
                f.write(step + "\n")
            os.rename(offset + ".tmp", offset)
            rc.py_requests(ctx, tok, n, "/clock/%s" % step)
            total += n
            time.sleep(1.5)
        rc.expect_requests(ctx, coll, fp, total, "across the clock steps", settle=rc.SETTLE)
    finally:
        rcode = s.stop()
    if rcode != 0:
        raise Fail("sensor exit status on SIGTERM: expected 0, got %s" % rcode)
    usage, sent_at = [], []
    for body in list(proxy.bodies):
        try:
            sent, us = batch_usage(body)
        except (ValueError, OSError, EOFError) as e:
            raise Fail("a batch the sensor sent did not decode: %s" % e)
        sent_at.append(sent)
        usage += [u for u in us if u[0] == fp]
    neg = [(a, b) for _, a, b, _ in usage if b < a]
    if neg:
        raise Fail("usage intervals with end before start: %s" % neg[:3])
    counted = sum(c for _, _, _, c in usage)
    if counted != total:
        raise Fail("usage counts in the batches sent: %d, requests %d" % (counted, total))
    # the step happened: batch times an hour apart
    if not sent_at or max(sent_at) - min(sent_at) < 3000 * 1000:
        raise Fail("the test-hooks clock step did not show in the batches' sent_at")
    longest = max(b - a for _, a, b, _ in usage)
    R.say("  clock_step: %d usage intervals for the token, longest %d ms, none negative" % (len(usage), longest))


TESTS = [("kill9_restart", t_kill9_restart), ("disk_full", t_disk_full),
         ("slow_collector", t_slow_collector), ("exec_storm", t_exec_storm),
         ("clock_step", t_clock_step)]


def run_all(ctx, st):
    def record(name, fn):
        full = "faults/" + name
        try:
            fn(ctx, st)
            R.record(full, "PASS")
        except Skip as e:
            R.record(full, "SKIP", str(e))
        except Fail as e:
            R.record(full, "FAIL", str(e))
        except Exception as e:  # a broken test is a failure, not a crash
            R.record(full, "FAIL", "%s: %s" % (type(e).__name__, e))
        if not st["coll"].running():
            st["coll"].start()  # a failed test may have left it down

    if not os.access(e2e.sensor_bin(), os.X_OK):
        ctx.no_sensor = "no sensor binary at %s (make all)" % e2e.sensor_bin()
    elif os.geteuid() != 0:
        ctx.no_sensor = "not root, cannot load BPF"
    e2e.make_cert(ctx.workdir)
    ctx.tls = e2e.Server(ctx.workdir, "tls", True)
    coll = st["coll"] = rc.Collector(ctx, "collector")
    coll.start()
    only = [x for x in os.environ.get("TOKENTAP_FAULTS_ONLY", "").split(",") if x]
    for name, fn in TESTS:
        if not only or name in only:
            record(name, fn)
    rcode = coll.stop()
    R.record("faults/collector_clean_exit", "PASS" if rcode == 0 else "FAIL",
             "" if rcode == 0 else "exit status on SIGTERM: expected 0, got %s" % rcode)


def main():
    def on_signal(sig, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    workdir = tempfile.mkdtemp(prefix="tokentap-e2e-faults-")
    st = {"mounts": [], "proxies": []}
    try:
        if not os.access(rc.collector_bin(), os.X_OK):
            R.record("faults/setup", "FAIL", "no collector binary at %s (make all)" % rc.collector_bin())
        else:
            ctx = rc.Ctx(workdir)
            try:
                run_all(ctx, st)
            except Fail as e:
                R.record("faults/setup", "FAIL", str(e))
            finally:
                e2e.kill_children()
                # the batches the proxies saw are searched too
                for p in st["proxies"]:
                    for body in p.bodies:
                        try:
                            ctx.snapshots.append(("batch sent through a proxy", gzip.decompress(body or b"")))
                        except (OSError, EOFError):
                            ctx.snapshots.append(("batch sent through a proxy", body or b""))
                hits = rc.secret_hits(ctx)
                R.record("faults/no_secret_in_outputs", "FAIL" if hits else "PASS", "; ".join(hits))
    except KeyboardInterrupt:
        R.record("faults/interrupted", "FAIL")
    finally:
        e2e.kill_children()
        for p in st["proxies"]:
            p.close()
        for m in st["mounts"]:
            subprocess.run(["umount", "-l", m], capture_output=True, timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
    print("%s: %d passed, %d failed, %d skipped" % (SUITE, R.passed, R.failed, R.skipped), flush=True)
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
