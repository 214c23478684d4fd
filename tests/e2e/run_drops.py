#!/usr/bin/env python3
"""End-to-end tests of ring-buffer drop accounting under overload, with the
real sensor loaded: every plaintext request a flood client sends is either
parsed by the sensor or counted as a dropped data record, and every record
the kernel put in the ring buffer is read.

  sent requests   == sensor_status requests + ringbuf_data_drops
  ringbuf_records == records_read

The sensor watches the flood client alone (--pid), so nothing else on the
machine adds records. The overload test stops the sensor (SIGSTOP) while
the client floods a 64 KiB ring buffer, so drops are certain; the flood
test lets the sensor run with its default buffer (drops or not, the
identity holds).

Run as root from anywhere:  python3 tests/e2e/run_drops.py
  TOKENTAP_BIN=path        sensor binary (default build/tokentap)
  TOKENTAP_REQUIRE_BPF=1   a sensor that cannot load is a failure, not a skip
  DROPS_REQUESTS=N         requests per flood (default 20000)

Prints one line per test and ends with "e2e-drops: N passed, M failed, K skipped".
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as base  # noqa: E402
from run import Fail, R  # noqa: E402

REQUESTS = int(os.environ.get("DROPS_REQUESTS", "20000"))
# The client never finishing is the failure this bounds, not its speed.
FLOOD_TIMEOUT = 300

# The flood: waits for "go" on stdin, then sends n complete requests on one
# connection, one write each, and prints how many it sent.
FLOOD = r"""
import socket, sys
port, n, token = int(sys.argv[1]), int(sys.argv[2]), sys.stdin.readline().strip()
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
sys.stdin.readline()
sent = 0
for i in range(n):
    req = ("GET /flood/%d HTTP/1.1\r\nHost: flood.test\r\nAuthorization: Bearer %s\r\n\r\n"
           % (i, token)).encode()
    if s.send(req) != len(req):
        break
    sent += 1
s.close()
print("sent=%d" % sent, flush=True)
"""


class Sink:
    """A loopback TCP server that reads and discards everything."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._drain, args=(c,), daemon=True).start()

    @staticmethod
    def _drain(c):
        with c:
            while c.recv(1 << 20):
                pass

    def close(self):
        self.sock.close()


def last_status(sensor):
    st = [e for e in sensor.snapshot() if e.get("event") == "sensor_status"]
    if not st:
        raise Fail("no sensor_status event")
    return st[-1]


def flood(ctx, ringbuf, stop_sensor):
    """One flood of REQUESTS requests; returns (sent, final sensor_status, seconds)."""
    token = base.ghp_token()
    ctx.tokens.append(token)
    client = base.spawn([sys.executable, "-c", FLOOD, str(ctx.sink.port), str(REQUESTS)],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    client.stdin.write((token + "\n").encode())
    client.stdin.flush()
    extra = ["--pid", str(client.pid), "--interval", "3600"]
    if ringbuf:
        extra += ["--ringbuf-size", ringbuf]
    sensor = base.Sensor(ctx.workdir, ctx.key_path, extra=extra)
    try:
        why = sensor.wait_ready()
        if why:
            raise base.Skip(why)
        if stop_sensor:
            sensor.proc.send_signal(signal.SIGSTOP)
        t0 = time.monotonic()
        client.stdin.write(b"go\n")
        client.stdin.flush()
        out, err = client.communicate(timeout=FLOOD_TIMEOUT)
        secs = time.monotonic() - t0
        if stop_sensor:
            sensor.proc.send_signal(signal.SIGCONT)
        ctx.outputs += [out, err]
        if client.returncode != 0 or not out.startswith(b"sent="):
            raise Fail("flood client failed (%s): %s" % (client.returncode, err[-300:]))
        sent = int(out.split(b"=", 1)[1])
    finally:
        if sensor.proc.poll() is None:
            sensor.proc.send_signal(signal.SIGCONT)
        rc = sensor.stop()
        ctx.outputs += sensor.out_raw + sensor.err_raw
    if rc != 0:
        raise Fail("sensor exited with %s: %s" % (rc, sensor.stderr_tail()))
    return sent, last_status(sensor), secs


def check_identity(sent, st):
    need = ("requests", "ringbuf_drops", "ringbuf_data_drops", "ringbuf_records",
            "records_read", "read_failures", "truncated_writes")
    missing = [k for k in need if not isinstance(st.get(k), int)]
    if missing:
        raise Fail("sensor_status lacks %s" % ", ".join(missing))
    if st["read_failures"] or st["truncated_writes"]:
        raise Fail("writes lost before the ring buffer (read_failures %d, truncated_writes %d)"
                   % (st["read_failures"], st["truncated_writes"]))
    if st["requests"] + st["ringbuf_data_drops"] != sent:
        raise Fail("sent %d != parsed %d + dropped %d" % (sent, st["requests"],
                                                          st["ringbuf_data_drops"]))
    if st["records_read"] != st["ringbuf_records"]:
        raise Fail("records read %d != records the kernel put in %d"
                   % (st["records_read"], st["ringbuf_records"]))
    if st["ringbuf_drops"] < st["ringbuf_data_drops"]:
        raise Fail("ringbuf_drops %d < ringbuf_data_drops %d"
                   % (st["ringbuf_drops"], st["ringbuf_data_drops"]))


def t_overload(ctx):
    sent, st, _ = flood(ctx, "64k", True)
    if st.get("ringbuf_data_drops", 0) == 0:
        raise Fail("no drop with the sensor stopped and a 64 KiB buffer: nothing was tested")
    check_identity(sent, st)
    R.say("  overload: sent %d, parsed %d, dropped %d, records %d read %d"
          % (sent, st["requests"], st["ringbuf_data_drops"], st["ringbuf_records"],
             st["records_read"]))


def t_flood(ctx):
    sent, st, secs = flood(ctx, None, False)
    check_identity(sent, st)
    R.say("  flood: sent %d in %.2fs (%.0f requests/s), parsed %d, dropped %d"
          % (sent, secs, sent / secs if secs > 0 else 0, st["requests"],
             st["ringbuf_data_drops"]))


TESTS = [("drops/overload_identity", t_overload), ("drops/flood_identity", t_flood)]


class Ctx:
    def __init__(self, workdir):
        self.workdir = workdir
        self.key_path = os.path.join(workdir, "fp.key")
        with open(self.key_path, "wb") as f:
            f.write(os.urandom(32))
        self.tokens = []
        self.outputs = []
        self.sink = None


def main():
    def on_signal(sig, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    names = [n for n, _ in TESTS] + ["drops/no_secret_in_outputs"]
    status = base.bpf_missing_status()
    if os.geteuid() != 0:
        for n in names:
            R.record(n, status, "not root, cannot load BPF")
    elif not os.access(base.sensor_bin(), os.X_OK):
        for n in names:
            R.record(n, "FAIL", "no sensor binary at %s (make all)" % base.sensor_bin())
    else:
        workdir = tempfile.mkdtemp(prefix="tokentap-drops-")
        ctx = Ctx(workdir)
        try:
            ctx.sink = Sink()
            for name, fn in TESTS:
                try:
                    fn(ctx)
                    R.record(name, "PASS")
                except base.Skip as e:
                    R.record(name, status, str(e))
                except Fail as e:
                    R.record(name, "FAIL", str(e))
                except subprocess.TimeoutExpired:
                    R.record(name, "FAIL", "timed out")
            ctx.outputs.append("\n".join(R.lines).encode())
            blob = b"".join(o if isinstance(o, bytes) else o.encode() for o in ctx.outputs)
            hits = [i for i, t in enumerate(ctx.tokens) if t.encode() in blob]
            R.record(names[-1], "FAIL" if hits else "PASS",
                     "%d credential(s) found in outputs" % len(hits) if hits else "")
        except KeyboardInterrupt:
            R.record("interrupted", "FAIL")
        finally:
            if ctx.sink:
                ctx.sink.close()
            base.kill_children()
            shutil.rmtree(workdir, ignore_errors=True)
    print("e2e-drops: %d passed, %d failed, %d skipped" % (R.passed, R.failed, R.skipped),
          flush=True)
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
