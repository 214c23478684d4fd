#!/usr/bin/env python3
"""End-to-end tests of the fleet simulator against real collectors, without
BPF: small fleets with duplicate deliveries and restarts that replay spooled
batches, then the collectors' inventory checked against the exact totals
sent, each (sensor, seq) once. Loopback only, bounded in time and count.

Run from anywhere:  python3 tests/e2e/run_loadgen.py
  TOKENTAP_COLLECTOR_BIN=path  collector binary (default build/tokentap-collector)
  TOKENTAP_LOADGEN_BIN=path    simulator (default build/bench/loadgen)
  TOKENTAP_REQUIRE_LOADGEN=1   a missing binary is a failure, not a skip

Prints one PASS/FAIL/SKIP line per test and ends with
"loadgen: N passed, M failed, K skipped"; exits non-zero on failure.
"""
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
READY_TIMEOUT = 20      # collector start-up, with margin
RUN_TIMEOUT = 120       # one simulator run; the fleets below take seconds


class Skip(Exception):
    pass


class Fail(Exception):
    pass


def binary(env, default):
    b = os.environ.get(env, default)
    return b if os.path.isabs(b) else os.path.join(REPO, b)


class Collector:
    """A collector on 127.0.0.1 with a free port, its own database and token file."""

    def __init__(self, workdir, name, token):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir)
        self.auth = os.path.join(self.dir, "sensor-tokens")
        with open(self.auth, "w") as f:
            f.write("# loadgen test\n%s\n" % token)
        os.chmod(self.auth, 0o600)
        self.log = os.path.join(self.dir, "collector.log")
        self.proc = subprocess.Popen(
            [binary("TOKENTAP_COLLECTOR_BIN", "build/tokentap-collector"), "serve",
             "--listen", "127.0.0.1:0", "--db", os.path.join(self.dir, "c.db"),
             "--auth-file", self.auth, "--no-risk"],
            stdout=subprocess.DEVNULL, stderr=open(self.log, "wb"))
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            m = re.search(r"listening on \S+ \(port (\d+)\)", self.read_log())
            if m:
                self.url = "http://127.0.0.1:%s" % m.group(1)
                return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise Fail("collector did not start: %s" % self.read_log()[-400:])
            time.sleep(0.05)

    def read_log(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def loadgen(args, token_file):
    cmd = [binary("TOKENTAP_LOADGEN_BIN", "build/bench/loadgen"), "--json"] + args
    if token_file:
        cmd += ["--token-file", token_file]
    p = subprocess.run(cmd, capture_output=True, timeout=RUN_TIMEOUT)
    out = p.stdout.decode(errors="replace")
    try:
        res = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise Fail("loadgen printed no JSON (rc %d): %s %s" %
                   (p.returncode, out[-300:], p.stderr.decode(errors="replace")[-300:]))
    return p.returncode, res, out + p.stderr.decode(errors="replace")


class Suite:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.workdir = tempfile.mkdtemp(prefix="tokentap-loadgen-")
        self.token = "st" + secrets.token_urlsafe(30)
        self.token_file = os.path.join(self.workdir, "sensor-token")
        with open(self.token_file, "w") as f:
            f.write(self.token + "\n")
        os.chmod(self.token_file, 0o600)
        self.collectors = []
        self.outputs = []

    def collector(self, name):
        c = Collector(self.workdir, name, self.token)
        self.collectors.append(c)
        return c

    def run(self, name, fn):
        try:
            fn()
        except Skip as e:
            self.skipped += 1
            print("SKIP %s: %s" % (name, e), flush=True)
            return
        except (Fail, subprocess.TimeoutExpired) as e:
            self.failed += 1
            print("FAIL %s: %s" % (name, e), flush=True)
            return
        finally:
            for c in self.collectors:
                c.stop()
                self.outputs.append(c.read_log())
            self.collectors = []
        self.passed += 1
        print("PASS %s" % name, flush=True)

    def close(self):
        shutil.rmtree(self.workdir, ignore_errors=True)


def expect(cond, what):
    if not cond:
        raise Fail(what)


def check_exact(res, sensors):
    """Every delivery accepted once, resends found duplicates, totals equal."""
    expect(res["verified"] is True, "inventory differs from what was sent: %s" % res)
    expect(res["errors"] == 0 and res["lost"] == 0 and res["refused"] == 0,
           "errors: %s" % res["errors_by_status"])
    expect(res["dedupe_mismatch"] == 0, "%d dedupe mismatches" % res["dedupe_mismatch"])
    expect(res["stored"] == res["sent_batches"], "stored %d of %d distinct batches" %
           (res["stored"], res["sent_batches"]))
    expect(res["duplicates"] == res["dups"] + res["replays"],
           "duplicates %d, resent %d" % (res["duplicates"], res["dups"] + res["replays"]))
    expect(res["dups"] > 0 and res["replays"] > 0 and res["restarts"] > 0,
           "the fleet sent no duplicate or no replay: %s" % res)
    expect(res["sensors"] == sensors, "sensors %d" % res["sensors"])


def main():
    s = Suite()
    missing = [p for p in (binary("TOKENTAP_COLLECTOR_BIN", "build/tokentap-collector"),
                           binary("TOKENTAP_LOADGEN_BIN", "build/bench/loadgen"))
               if not os.access(p, os.X_OK)]

    def need_binaries():
        if missing:
            why = "missing %s (run: make all build/bench/loadgen)" % ", ".join(missing)
            if os.environ.get("TOKENTAP_REQUIRE_LOADGEN") == "1":
                raise Fail(why)
            raise Skip(why)

    def small_fleet():
        need_binaries()
        c = s.collector("one")
        rc, res, out = loadgen(["--collector", c.url, "--sensors", "50", "--batches", "12",
                                "--dup-rate", "0.1", "--restart-rate", "0.05", "--seed", "42",
                                "--verify"], s.token_file)
        s.outputs.append(out)
        expect(rc == 0, "loadgen exited %d" % rc)
        check_exact(res, 50)

    def two_collectors():
        # sensors spread round-robin; the inventories add up to the totals
        need_binaries()
        a, b = s.collector("a"), s.collector("b")
        rc, res, out = loadgen(["--collector", a.url, "--collector", b.url + "/",
                                "--sensors", "40", "--batches", "8", "--dup-rate", "0.1",
                                "--restart-rate", "0.1", "--seed", "7",
                                "--events-per-batch", "300", "--verify"], s.token_file)
        s.outputs.append(out)
        expect(rc == 0, "loadgen exited %d" % rc)
        check_exact(res, 40)

    def failover():
        # the first collector refuses connections: every batch goes to the second
        need_binaries()
        b = s.collector("up")
        with socket_closed() as dead:
            rc, res, out = loadgen(["--collector", dead, "--collector", b.url, "--failover",
                                    "--sensors", "10", "--batches", "3", "--dup-rate", "0",
                                    "--restart-rate", "0"], s.token_file)
        s.outputs.append(out)
        expect(rc == 0, "loadgen exited %d: %s" % (rc, res))
        expect(res["stored"] == res["sent_batches"] == 30, "stored %d" % res["stored"])
        expect(res["retries"] >= 10, "no failover: %d retries" % res["retries"])
        expect(any(k.startswith("curl_") for k in res["errors_by_status"]),
               "connection errors not counted: %s" % res["errors_by_status"])

    def wrong_token():
        # refusals are counted by status, nothing is stored, the run fails
        need_binaries()
        c = s.collector("auth")
        bad = os.path.join(s.workdir, "wrong-token")
        with open(bad, "w") as f:
            f.write("st" + secrets.token_urlsafe(30) + "\n")
        rc, res, out = loadgen(["--collector", c.url, "--sensors", "5", "--batches", "2",
                                "--verify"], bad)
        s.outputs.append(out)
        expect(rc == 1, "loadgen exited %d with a wrong token" % rc)
        by = res["errors_by_status"]
        expect(by.get("401", 0) + by.get("403", 0) >= 10 and res["stored"] == 0,
               "refusals not counted: %s" % res)
        expect(res["verified"] is False, "verified with nothing stored")

    def same_seed_same_fleet():
        # a second run with the seed of the first into the same collector: all duplicates
        need_binaries()
        c = s.collector("again")
        args = ["--collector", c.url, "--sensors", "20", "--batches", "4", "--seed", "5",
                "--dup-rate", "0", "--restart-rate", "0"]
        rc1, r1, out1 = loadgen(args, s.token_file)
        rc2, r2, out2 = loadgen(args, s.token_file)
        s.outputs += [out1, out2]
        expect(rc1 == 0 and r1["stored"] == 80, "first run: rc %d, %s" % (rc1, r1))
        expect(r2["stored"] == 0 and r2["duplicates"] == 80,
               "second run stored %d, duplicates %d" % (r2["stored"], r2["duplicates"]))
        expect(r1["sent_requests"] == r2["sent_requests"], "the fleets differ")

    def warmup_then_duration():
        # the fleet comes up first, then a timed run; the totals cover both
        need_binaries()
        c = s.collector("warm")
        rc, res, out = loadgen(["--collector", c.url, "--sensors", "30", "--warmup",
                                "--duration", "1", "--dup-rate", "0.05", "--restart-rate",
                                "0.05", "--seed", "9", "--verify"], s.token_file)
        s.outputs.append(out)
        expect(rc == 0 and res["verified"] is True, "rc %d, %s" % (rc, res))
        expect(res["warmup_batches"] >= 30, "warm-up delivered %d batches" % res["warmup_batches"])
        expect(res["warmup_batches"] + res["stored"] + res["duplicates"] == res["sends"],
               "deliveries do not add up: %s" % res)
        expect(res["stored"] > 0, "nothing stored after the warm-up")

    s.run("small fleet with duplicates and replays, exact totals", small_fleet)
    s.run("warm-up, then a timed run: exact totals", warmup_then_duration)
    s.run("two collectors round-robin, totals summed", two_collectors)
    s.run("failover past a dead collector", failover)
    s.run("wrong sensor token: 401 counted, run fails", wrong_token)
    s.run("same seed, same batches: the second run is all duplicates", same_seed_same_fleet)
    if not missing:
        leaks = sum(o.count(s.token) for o in s.outputs)
        if leaks:
            s.failed += 1
            print("FAIL no sensor token in any output: %d occurrence(s)" % leaks, flush=True)
        else:
            s.passed += 1
            print("PASS no sensor token in any output", flush=True)
    s.close()
    print("loadgen: %d passed, %d failed, %d skipped" % (s.passed, s.failed, s.skipped), flush=True)
    return 1 if s.failed else 0


class socket_closed:
    """A loopback URL where nothing listens: a port bound, then released."""

    def __enter__(self):
        import socket
        so = socket.socket()
        so.bind(("127.0.0.1", 0))
        port = so.getsockname()[1]
        so.close()
        return "http://127.0.0.1:%d" % port

    def __exit__(self, *exc):
        return False


if __name__ == "__main__":
    sys.exit(main())
