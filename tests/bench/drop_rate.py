#!/usr/bin/env python3
"""The highest plaintext request rate the real sensor takes with no
ring-buffer drop: a paced flood (one keep-alive connection per client
process, one write per request carrying a Bearer token) at increasing
rates, DROP_SECONDS each, a fresh sensor per step with its default ring
buffer. Each step prints the rate reached, the requests the sensor parsed
and the data records dropped (sensor_status ringbuf_data_drops); the
summary names the highest rate reached with 0 drops.

Usage (root, BPF loaded; from make bench or alone):
  python3 tests/bench/drop_rate.py [BUILD_DIR]
  DROP_RATES=20000,50000,...   target requests/s per step
  DROP_SECONDS=5               seconds per step
  DROP_CLIENTS=2               client processes (the rate is split among them)
  DROP_RINGBUF=SIZE            the sensor's --ringbuf-size (default: its default)
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import run as base  # noqa: E402
from run_drops import Sink, last_status  # noqa: E402

# Paced: sends what is due every half millisecond; prints what it sent.
PACED = r"""
import socket, sys, time
port, rate, secs, token = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.stdin.readline().strip()
s = socket.create_connection(("127.0.0.1", port))
sys.stdin.readline()
total, sent, t0 = int(rate * secs), 0, time.monotonic()
while sent < total:
    due = min(total, int((time.monotonic() - t0) * rate) + 1)
    while sent < due:
        req = ("GET /r/%d HTTP/1.1\r\nHost: rate.test\r\nAuthorization: Bearer %s\r\n\r\n"
               % (sent, token)).encode()
        s.send(req)
        sent += 1
    if sent < total and sent >= int((time.monotonic() - t0) * rate):
        time.sleep(0.0005)
print("sent=%d secs=%.3f" % (sent, time.monotonic() - t0), flush=True)
"""


def step(workdir, key_path, sink, rate, secs, nclients, token):
    extra = ["--interval", "3600"]
    if os.environ.get("DROP_RINGBUF"):
        extra += ["--ringbuf-size", os.environ["DROP_RINGBUF"]]
    sensor = base.Sensor(workdir, key_path, extra=extra)
    clients = []
    try:
        why = sensor.wait_ready()
        if why:
            raise SystemExit("drop_rate: " + why)
        for _ in range(nclients):
            c = base.spawn([sys.executable, "-c", PACED, str(sink.port), str(rate / nclients),
                            str(secs)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
            c.stdin.write((token + "\n").encode())
            c.stdin.flush()
            clients.append(c)
        time.sleep(0.2)  # connected
        for c in clients:
            c.stdin.write(b"go\n")
            c.stdin.flush()
        sent, took = 0, 0.0
        for c in clients:
            out, err = c.communicate(timeout=secs * 10 + 60)
            if c.returncode != 0 or not out.startswith(b"sent="):
                raise SystemExit("drop_rate: client failed: %s" % err[-300:].decode(errors="replace"))
            f = dict(kv.split(b"=") for kv in out.split())
            sent += int(f[b"sent"])
            took = max(took, float(f[b"secs"]))
        time.sleep(0.5)  # the sensor drains
    finally:
        sensor.stop()
    st = last_status(sensor)
    blob = b"".join(sensor.out_raw + sensor.err_raw)
    if token.encode() in blob:
        raise SystemExit("drop_rate: the raw token reached the sensor's output")
    return sent, took, st


def main():
    if os.geteuid() != 0:
        raise SystemExit("drop_rate: must run as root (BPF)")
    if len(sys.argv) > 1:
        os.environ.setdefault("TOKENTAP_BIN", os.path.abspath(os.path.join(sys.argv[1], "tokentap")))
    rates = [int(r) for r in os.environ.get("DROP_RATES",
                                            "20000,50000,100000,150000,200000").split(",")]
    secs = float(os.environ.get("DROP_SECONDS", "5"))
    nclients = int(os.environ.get("DROP_CLIENTS", "2"))
    workdir = tempfile.mkdtemp(prefix="tokentap-droprate-")
    key_path = os.path.join(workdir, "fp.key")
    with open(key_path, "wb") as f:
        f.write(os.urandom(32))
    sink = Sink()
    best = None
    print("\n== plaintext request rate vs ring-buffer drops (%d client(s), %gs per step, "
          "ring buffer %s) ==" % (nclients, secs, os.environ.get("DROP_RINGBUF") or "default"))
    print("%10s %10s %10s %10s %10s" % ("target/s", "reached/s", "sent", "parsed", "dropped"))
    try:
        for rate in rates:
            token = base.ghp_token()
            sent, took, st = step(workdir, key_path, sink, rate, secs, nclients, token)
            reached = sent / took if took > 0 else 0
            drops = st.get("ringbuf_data_drops", -1)
            print("%10d %10.0f %10d %10d %10d" % (rate, reached, sent, st.get("requests", -1),
                                                  drops), flush=True)
            if drops == 0 and (best is None or reached > best):
                best = reached
    finally:
        sink.close()
        base.kill_children()
        subprocess.run(["rm", "-rf", workdir], check=False)
    print("SUMMARY drops: highest plaintext rate with 0 ring-buffer drops: %s requests/s"
          % ("%.0f" % best if best is not None else "none"))


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    main()
