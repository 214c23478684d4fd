#!/usr/bin/env python3
"""Fleet benchmark: the fleet simulator (build/bench/loadgen) against a real
collector, at each fleet size of FLEET_SENSORS, FLEET_ROUNDS rounds. Every
run gets a fresh collector (fresh database, risk engine on as deployed);
every sensor first delivers its first batch (the fleet coming up: its
processes, held tokens, first sightings; timed apart), then the fleet is
measured for FLEET_SECONDS; the run is then verified (the inventory equals what was
sent, each (sensor, seq) once). Sizes alternate within a round so drift does
not favour one; the figures are medians over rounds, and the ratio of each
size to the first is taken per round.

Usage: fleet_bench.py BUILD_DIR
  FLEET_SENSORS="1000 5000"  FLEET_ROUNDS=3  FLEET_SECONDS=10
  FLEET_ARGS="..."           extra loadgen flags (e.g. --events-per-batch 500)
  FLEET_NO_RISK=1            the collector without its risk engine (store only)
Fails (exit 1) only when something is broken: a batch refused or lost, a
duplicate stored, or an inventory that differs from what was sent.
"""
import json
import os
import re
import secrets
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

READY_TIMEOUT = 30


def env_list(name, default):
    v = os.environ.get(name, default).split()
    if not v or not all(x.isdigit() and int(x) > 0 for x in v):
        sys.exit("fleet_bench: %s must be positive integers" % name)
    return [int(x) for x in v]


def risk_args():
    return ["--no-risk"] if os.environ.get("FLEET_NO_RISK") == "1" else []


def start_collector(build, workdir, token):
    auth = os.path.join(workdir, "sensor-tokens")
    with open(auth, "w") as f:
        f.write(token + "\n")
    os.chmod(auth, 0o600)
    log = os.path.join(workdir, "collector.log")
    p = subprocess.Popen([os.path.join(build, "tokentap-collector"), "serve", "--listen",
                          "127.0.0.1:0", "--db", os.path.join(workdir, "c.db"),
                          "--auth-file", auth] + risk_args(), stdout=subprocess.DEVNULL,
                         stderr=open(log, "wb"))
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        with open(log, errors="replace") as f:
            m = re.search(r"listening on \S+ \(port (\d+)\)", f.read())
        if m:
            return p, "http://127.0.0.1:%s" % m.group(1)
        if p.poll() is not None or time.monotonic() > deadline:
            p.kill()
            sys.exit("fleet_bench: the collector did not start (see %s)" % log)
        time.sleep(0.05)


def one_run(build, sensors, seconds, seed, extra, token, token_file):
    workdir = tempfile.mkdtemp(prefix="tokentap-fleet-")
    coll, url = start_collector(build, workdir, token)
    try:
        cmd = [os.path.join(build, "bench", "loadgen"), "--json", "--verify", "--warmup",
               "--collector", url,
               "--token-file", token_file, "--sensors", str(sensors), "--duration",
               str(seconds), "--seed", str(seed)] + extra
        p = subprocess.run(cmd, capture_output=True, timeout=seconds * 20 + 120)
        out = p.stdout.decode(errors="replace")
        if token in out or token in p.stderr.decode(errors="replace"):
            sys.exit("fleet_bench: the sensor token appeared in loadgen's output")
        try:
            res = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            sys.exit("fleet_bench: loadgen printed no result: %s" % p.stderr.decode()[-400:])
        res["rc"] = p.returncode
        return res
    finally:
        coll.terminate()
        try:
            coll.wait(30)
        except subprocess.TimeoutExpired:
            coll.kill()
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: fleet_bench.py BUILD_DIR")
    build = sys.argv[1]
    sizes = env_list("FLEET_SENSORS", "1000 5000")
    rounds = env_list("FLEET_ROUNDS", "3")[0]
    seconds = env_list("FLEET_SECONDS", "10")[0]
    extra = shlex.split(os.environ.get("FLEET_ARGS", ""))
    for b in ("tokentap-collector", "bench/loadgen"):
        if not os.access(os.path.join(build, b), os.X_OK):
            sys.exit("fleet_bench: missing %s/%s (run: make bench)" % (build, b))
    token = "st" + secrets.token_urlsafe(30)
    tdir = tempfile.mkdtemp(prefix="tokentap-fleet-token-")
    token_file = os.path.join(tdir, "token")
    with open(token_file, "w") as f:
        f.write(token + "\n")
    os.chmod(token_file, 0o600)
    rows = {n: [] for n in sizes}
    broken = 0
    print("\n== fleet: loadgen against one collector (risk engine %s), %d s per run, %d rounds =="
          % ("off" if risk_args() else "on", seconds, rounds))
    print("%-6s %8s %8s %10s %10s %9s %9s %7s %6s %s" % (
        "round", "sensors", "warmup s", "batches/s", "events/s", "p50 ms", "p99 ms", "errors",
        "dups", "verified"))
    try:
        for r in range(rounds):
            order = sizes[r % len(sizes):] + sizes[:r % len(sizes)]
            for n in order:
                res = one_run(build, n, seconds, 1000 + r, extra, token, token_file)
                rows[n].append(res)
                print("%-6d %8d %8.1f %10.1f %10.0f %9.1f %9.1f %7d %6d %s" % (
                    r + 1, n, res["warmup_s"], res["batches_per_s"], res["events_per_s"], res["latency_p50_ms"],
                    res["latency_p99_ms"], res["errors"], res["duplicates"],
                    "ok" if res["verified"] else "NO"), flush=True)
                if res["rc"] != 0 or not res["verified"]:
                    broken += 1
    finally:
        shutil.rmtree(tdir, ignore_errors=True)
    base = sizes[0]
    for n in sizes:
        bps = statistics.median(x["batches_per_s"] for x in rows[n])
        p99 = statistics.median(x["latency_p99_ms"] for x in rows[n])
        p50 = statistics.median(x["latency_p50_ms"] for x in rows[n])
        eps = statistics.median(x["events_per_s"] for x in rows[n])
        errs = sum(x["errors"] for x in rows[n])
        warm = statistics.median(x["warmup_s"] for x in rows[n])
        ratio = statistics.median(a["batches_per_s"] / b["batches_per_s"]
                                  for a, b in zip(rows[n], rows[base]))
        print("SUMMARY fleet-%d: %.1f batches/s accepted (%.0f events/s), batch latency p50 %.1f ms, "
              "p99 %.1f ms, errors %d over %d runs; batches/s vs %d sensors %.3f; "
              "first batches of the whole fleet in %.1f s"
              % (n, bps, eps, p50, p99, errs, rounds, base, ratio, warm))
    if broken:
        print("fleet_bench: %d run(s) refused, lost or miscounted batches" % broken)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
