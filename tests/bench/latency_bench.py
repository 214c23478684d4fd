#!/usr/bin/env python3
"""End-to-end latency: a request leaving a client -> its token queryable.

Starts, all on loopback: the real collector (tokentap-collector serve, a fresh
SQLite file), a local HTTP server (tests/e2e/http_server.py) and the real
sensor (tokentap --collector URL --interval 1). A client thread then sends
requests at a fixed rate over one keep-alive connection, each with a new
random token; a poller thread asks the collector (GET /v1/tokens/FINGERPRINT)
for every pending fingerprint until it answers 200. Latency = the time the
poller first saw the row - the time just before the request was sent.

The sensor closes a batch 1 s after its first event, so most of a request's
latency is that wait: expect figures close to 1 s.

Tokens live only in this process: never printed, never on a command line;
every output file is searched for them at the end (a hit fails the run).

Usage: latency_bench.py BUILD_DIR   (as root; knobs in tests/bench/README.md)
"""
import hashlib
import hmac
import http.client
import math
import os
import secrets
import shlex
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ALNUM = string.ascii_letters + string.digits
TARGET_P99_S = 1.0


def env_num(name, default, kind=int, lo=0):
    raw = os.environ.get(name, str(default))
    try:
        v = kind(raw)
    except ValueError:
        sys.exit("latency_bench: %s must be a number" % name)
    if v <= lo:
        sys.exit("latency_bench: %s must be > %s" % (name, lo))
    return v


REQUESTS = env_num("LAT_REQUESTS", 200)
RATE = env_num("LAT_RATE", 10.0, float)
POLL_S = env_num("LAT_POLL_MS", 10.0, float) / 1000.0
TIMEOUT_S = env_num("LAT_TIMEOUT", 15.0, float)
READY_TIMEOUT = env_num("READY_TIMEOUT", 60.0, float)
WARMUP = 3


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    # Small race until the collector binds it; loopback only.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_token():
    return "ghp_" + "".join(secrets.choice(ALNUM) for _ in range(36))


def percentile(sorted_vals, p):
    """Nearest rank: the smallest value with at least p% at or below it."""
    if not sorted_vals:
        return float("nan")
    k = max(1, math.ceil(p / 100.0 * len(sorted_vals)))
    return sorted_vals[k - 1]


class Bench:
    def __init__(self, build):
        self.build = build
        self.work = tempfile.mkdtemp(prefix="tokentap-latency.")
        os.chmod(self.work, 0o700)
        self.procs = []
        self.files = []
        self.tokens = []
        self.lock = threading.Lock()
        self.pending = {}      # fingerprint -> send time (monotonic)
        self.latency = {}      # fingerprint -> seconds
        self.stop_poll = threading.Event()
        self.poll_errors = 0
        self.polls = 0

    # ---- processes ---------------------------------------------------------

    def spawn(self, name, cmd, **kw):
        out = open(os.path.join(self.work, name + ".log"), "wb")
        self.files.append(out.name)
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                             **kw)
        out.close()
        self.procs.append(p)
        return p

    def wait_log(self, proc, name, pattern, timeout):
        path = os.path.join(self.work, name + ".log")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(path, "rb") as f:
                data = f.read()
            if pattern in data:
                return data
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        self.fail_log(name)

    def fail_log(self, name):
        with open(os.path.join(self.work, name + ".log"), "rb") as f:
            tail = f.read().decode(errors="replace").splitlines()[-10:]
        sys.exit("latency_bench: %s did not start:\n  | %s" % (name, "\n  | ".join(tail)))

    def start(self):
        key = secrets.token_bytes(32)
        self.key = key
        key_path = os.path.join(self.work, "fingerprint.key")
        tok_path = os.path.join(self.work, "sensor-token")
        for path, data in ((key_path, key), (tok_path, secrets.token_hex(32).encode() + b"\n")):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)

        port = free_port()
        self.url_host = ("127.0.0.1", port)
        self.db = os.path.join(self.work, "collector.db")
        coll = self.spawn("collector", [
            os.path.join(self.build, "tokentap-collector"), "serve",
            "--listen", "127.0.0.1:%d" % port, "--db", self.db, "--auth-file", tok_path])
        deadline = time.monotonic() + 10
        while True:
            try:
                c = http.client.HTTPConnection(*self.url_host, timeout=1)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    c.close()
                    break
            except OSError:
                pass
            if coll.poll() is not None or time.monotonic() > deadline:
                self.fail_log("collector")
            time.sleep(0.05)

        srv = self.spawn("server", [sys.executable, os.path.join(ROOT, "tests/e2e/http_server.py")])
        line = self.wait_log(srv, "server", b"\n", 10).split(b"\n", 1)[0]
        if not line.startswith(b"port "):
            sys.exit("latency_bench: http server printed no port")
        self.target = ("127.0.0.1", int(line.split()[1]))

        extra = shlex.split(os.environ.get("TOKENTAP_ARGS", ""))
        sensor_bin = os.environ.get("TOKENTAP", os.path.join(self.build, "tokentap"))
        sensor = self.spawn("sensor", [
            sensor_bin, "--state-dir", os.path.join(self.work, "state"), "--key-file", key_path,
            "--collector", "http://127.0.0.1:%d" % port, "--collector-token-file", tok_path,
            "--interval", "1", "--quiet"] + extra)
        self.wait_log(sensor, "sensor", b"tokentap: ready", READY_TIMEOUT)
        self.sensor = sensor

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)

    def cleanup(self):
        shutil.rmtree(self.work, ignore_errors=True)

    # ---- measurement -----------------------------------------------------

    def fingerprint(self, tok):
        return hmac.new(self.key, tok.encode(), hashlib.sha256).hexdigest()[:32]

    def poller(self):
        conn = None
        while not self.stop_poll.is_set():
            with self.lock:
                todo = list(self.pending.items())
            for fp, sent in todo:
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection(*self.url_host, timeout=5)
                    conn.request("GET", "/v1/tokens/" + fp)
                    resp = conn.getresponse()
                    resp.read()
                    seen = time.monotonic()
                    self.polls += 1
                except (OSError, http.client.HTTPException):
                    self.poll_errors += 1
                    conn = None
                    continue
                with self.lock:
                    if resp.status == 200:
                        self.latency[fp] = seen - sent
                        del self.pending[fp]
                    elif seen - sent > TIMEOUT_S:
                        del self.pending[fp]
            self.stop_poll.wait(POLL_S)
        if conn is not None:
            conn.close()

    def send(self, conn, tok):
        fp = self.fingerprint(tok)
        sent = time.monotonic()
        with self.lock:
            self.pending[fp] = sent
        conn.request("GET", "/latency", headers={"Authorization": "Bearer " + tok})
        resp = conn.getresponse()
        resp.read()
        return fp

    def run(self):
        poll = threading.Thread(target=self.poller, daemon=True)
        poll.start()
        conn = http.client.HTTPConnection(*self.target, timeout=10)
        # Warm-up: the first requests attach nothing new but fill caches
        # and open the sensor's connection to the collector; not measured.
        warm = []
        for _ in range(WARMUP):
            tok = new_token()
            self.tokens.append(tok)
            warm.append(self.send(conn, tok))
            time.sleep(0.2)
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline and any(fp in self.pending for fp in warm):
            time.sleep(0.05)
        with self.lock:
            for fp in warm:
                self.latency.pop(fp, None)
                self.pending.pop(fp, None)

        measured = []
        start = time.monotonic()
        for i in range(REQUESTS):
            # Open loop: request i leaves at start + i / RATE, whatever the
            # previous ones did.
            delay = start + i / RATE - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            tok = new_token()
            self.tokens.append(tok)
            measured.append(self.send(conn, tok))
        conn.close()
        deadline = time.monotonic() + TIMEOUT_S + 1
        while time.monotonic() < deadline:
            with self.lock:
                if not self.pending:
                    break
            time.sleep(0.05)
        self.stop_poll.set()
        poll.join(10)
        with self.lock:
            return [self.latency[fp] for fp in measured if fp in self.latency]

    def leaks(self):
        """Files holding any raw token (the count only; never the token)."""
        hits = 0
        paths = list(self.files)
        for base in ("collector.db", "collector.db-wal"):
            paths.append(os.path.join(self.work, base))
        for root, _, names in os.walk(os.path.join(self.work, "state")):
            paths += [os.path.join(root, n) for n in names]
        needles = [t.encode() for t in self.tokens]
        for path in paths:
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            if any(n in data for n in needles):
                hits += 1
        return hits


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: latency_bench.py BUILD_DIR")
    if os.geteuid() != 0:
        sys.exit("latency_bench: must run as root (the sensor loads BPF programs)")
    b = Bench(sys.argv[1])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        b.start()
        log("latency: %d requests at %.1f/s, one new token each; poll every %.0f ms..."
            % (REQUESTS, RATE, POLL_S * 1000))
        lat = sorted(b.run())
        b.stop()
        leaks = b.leaks()
    finally:
        b.stop()
        b.cleanup()
    missing = REQUESTS - len(lat)
    p50, p90, p99 = (percentile(lat, p) for p in (50, 90, 99))
    print("\n== end-to-end latency: request sent -> token queryable in the collector ==")
    print("requests %d at %.1f/s over one keep-alive connection, sensor --interval 1, "
          "poll GET /v1/tokens/FP every %.0f ms" % (REQUESTS, RATE, POLL_S * 1000))
    if lat:
        print("%-8s %8s %8s %8s %8s %8s" % ("", "min", "p50", "p90", "p99", "max"))
        print("%-8s %8.3f %8.3f %8.3f %8.3f %8.3f" % ("seconds", lat[0], p50, p90, p99, lat[-1]))
    print("(%d of %d rows appeared within %.0f s; %d polls, %d poll errors; latency includes "
          "up to one poll interval)" % (len(lat), REQUESTS, TIMEOUT_S, b.polls, b.poll_errors))
    verdict = "met" if lat and missing == 0 and p99 <= TARGET_P99_S else "NOT met"
    print("SUMMARY latency: p50 %.3f s, p99 %.3f s over %d requests (%d missing); "
          "target p99 <= %.1f s: %s" % (p50, p99, len(lat), missing, TARGET_P99_S, verdict))
    if leaks:
        print("latency_bench: WARNING: %d output file(s) hold a raw token" % leaks,
              file=sys.stderr)
        return 1
    print("collector DB, logs and spool searched for the %d raw tokens: none found "
          "(never printed)" % len(b.tokens))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
