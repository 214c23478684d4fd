#!/usr/bin/env python3
"""End-to-end tests of the blind-spot report (tls_uncovered): the real sensor
loaded, real TLS clients, the real collector, everything on loopback.

Run as root from anywhere:  python3 tests/e2e/run_coverage.py
  TOKENTAP_BIN=path            sensor binary (default build/tokentap)
  TOKENTAP_COLLECTOR_BIN=path  collector binary (default build/tokentap-collector)
  TOKENTAP_COLLECTOR_PG=url    the collector on PostgreSQL (as run_collector.py)
  TOKENTAP_REQUIRE_BPF=1       a sensor that cannot load is a failure, not a skip

Clients whose TLS no probe sees: a client linked against mbedTLS (a TLS
library with no probe: "unsupported_tls_library"), the same client linked
statically ("static_unknown_tls"), and a Java client on the JVM's own TLS
("jvm_without_java"). Clients that are covered (curl over OpenSSL, python's
ssl, and the python TLS server answering them all) must never be reported.
The events on the sensor's stdout, the sensor_status counters, the
collector's `coverage` command (JSON and table), GET /v1/coverage and
`top --once` are checked exactly; every output is searched for the raw
credential the covered curl sends.

Prints one PASS/FAIL/SKIP line per test and ends with
"e2e-coverage: N passed, M failed, K skipped" (e2e-coverage-pg on
PostgreSQL); exits non-zero on failure.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as e2e  # noqa: E402
import run_collector as coll_e2e  # noqa: E402
from run import CURL, HERE, PY, Fail, Skip  # noqa: E402

R = e2e.R
CLIENTS = os.path.join(HERE, "tls_clients")
JAVA = shutil.which("java") or ""
EVENT_TIMEOUT = 15     # a client's run to its report (the report waits 1 s to settle)
DELIVERY_TIMEOUT = 15  # a report to its row in the collector
# The sensor's interval in this run: reports are once per (executable,
# destination) per interval, and the dedupe test runs well inside one.
INTERVAL = 30


def suite():
    return "e2e-coverage-pg" if os.environ.get("TOKENTAP_COLLECTOR_PG") else "e2e-coverage"


def build_clients(ctx):
    """The mbedTLS client, dynamic and static (libmbedtls-dev)."""
    src = os.path.join(CLIENTS, "mbedtls_client.c")
    ctx.mbed = os.path.join(ctx.workdir, "mbedtls_client")
    ctx.mbed_static = os.path.join(ctx.workdir, "mbedtls_client_static")
    libs = ["-lmbedtls", "-lmbedx509", "-lmbedcrypto"]
    for out, extra in ((ctx.mbed, []), (ctx.mbed_static, ["-static"])):
        p = subprocess.run(["gcc", "-O1", "-Wall", "-Wextra", "-Werror"] + extra +
                           ["-o", out, src] + libs, capture_output=True, timeout=120)
        if p.returncode != 0:
            raise Fail("building %s: %s (scripts/deps.sh installs libmbedtls-dev)" % (
                os.path.basename(out), p.stderr.decode(errors="replace")[-300:]))


def uncovered(ctx, pid=None):
    return [e for e in ctx.sensor.snapshot() if e.get("event") == "tls_uncovered" and
            (pid is None or e.get("pid") == pid)]


def wait_report(ctx, pid, what):
    evs = ctx.sensor.wait_for(lambda e: e.get("event") == "tls_uncovered" and e.get("pid") == pid,
                              EVENT_TIMEOUT)
    if not evs:
        raise Fail("%s (pid %d): no tls_uncovered event within %ds" % (what, pid, EVENT_TIMEOUT))
    if len(evs) != 1:
        raise Fail("%s (pid %d): %d tls_uncovered events, expected 1" % (what, pid, len(evs)))
    return evs[0]


def check_event(ev, want, absent, what):
    bad = []
    for k, v in want.items():
        if ev.get(k, "<absent>") != v:
            bad.append("%s: expected %r, got %r" % (k, v, ev.get(k, "<absent>")))
    for k in absent:
        if k in ev:
            bad.append("%s: expected absent, got %r" % (k, ev[k]))
    if bad:
        raise Fail("%s: %s" % (what, "; ".join(bad)))


def dst(ctx):
    return "127.0.0.1:%d" % ctx.tls.port


# ---- scenarios -----------------------------------------------------------------------

def t_mbedtls_dynamic(ctx):
    c = e2e.run_client(ctx, [ctx.mbed, str(ctx.tls.port), "2"])
    ev = wait_report(ctx, c.pid, "mbedtls client")
    ctx.expected[(ctx.mbed, dst(ctx))] = ("unsupported_tls_library", ev.get("detail", ""))
    check_event(ev, {"exe": ctx.mbed, "comm": "mbedtls_client", "dst": dst(ctx),
                     "cause": "unsupported_tls_library", "uid": 0},
                ("container_id", "pod_uid"), "mbedtls client")
    if not ev.get("detail", "").startswith("libmbedtls.so"):
        raise Fail("mbedtls client: detail %r does not name libmbedtls.so" % ev.get("detail"))


def t_mbedtls_static(ctx):
    c = e2e.run_client(ctx, [ctx.mbed_static, str(ctx.tls.port), "1"])
    ev = wait_report(ctx, c.pid, "static mbedtls client")
    ctx.expected[(ctx.mbed_static, dst(ctx))] = ("static_unknown_tls", "")
    check_event(ev, {"exe": ctx.mbed_static, "dst": dst(ctx), "cause": "static_unknown_tls"},
                ("detail", "container_id", "pod_uid"), "static mbedtls client")


def t_java(ctx):
    if not JAVA:
        raise Skip("java not installed (scripts/deps.sh installs default-jdk-headless)")
    c = e2e.run_client(ctx, [JAVA, os.path.join(CLIENTS, "JavaClient.java"), str(ctx.tls.port)])
    ev = wait_report(ctx, c.pid, "java client")
    exe = os.path.realpath(JAVA)
    # Java connects over an IPv6 socket: the address is v4-mapped
    want_dst = ev.get("dst") if ev.get("dst") in (dst(ctx), "[::ffff:127.0.0.1]:%d" % ctx.tls.port) else dst(ctx)
    ctx.expected[(exe, want_dst)] = ("jvm_without_java", "")
    check_event(ev, {"exe": exe, "dst": want_dst, "cause": "jvm_without_java"},
                ("detail",), "java client")


def t_once_per_interval(ctx):
    """Three more runs of the mbedTLS client, seconds apart at most: the
    (executable, destination) pair is reported at most once more (once per
    interval; a run may straddle one interval boundary), though each of
    its sockets is counted."""
    before = len([e for e in uncovered(ctx) if e.get("exe") == ctx.mbed])
    pids = [e2e.run_client(ctx, [ctx.mbed, str(ctx.tls.port), "1"]).pid for _ in range(3)]
    # the last run's report, if any, is out once it has settled
    ctx.sensor.wait_for(lambda e: False, 2.5)
    after = [e for e in uncovered(ctx) if e.get("exe") == ctx.mbed]
    new = len(after) - before
    if new > 1:
        raise Fail("3 runs in one interval gave %d more tls_uncovered events for %s, expected"
                   " at most 1 (pids %s)" % (new, ctx.mbed, pids))


def t_covered_not_reported(ctx):
    tok, fp = ctx.new_token()
    conf = ctx.curl_config(['header = "Authorization: Bearer %s"' % tok])
    c = e2e.run_client(ctx, [CURL, "-sk", "-o", "/dev/null", "-K", conf,
                             "https://127.0.0.1:%d/coverage/curl" % ctx.tls.port])
    evs = ctx.sensor.wait_for(lambda e: e.get("event") == "token_seen" and
                              e.get("fingerprint") == fp and e.get("pid") == c.pid)
    if not evs:
        raise Fail("curl's token was not seen: the covered client did not run as expected")
    ctx.covered_fp = fp
    py = e2e.run_client(ctx, [PY, "-c",
                              "import ssl,sys,urllib.request;"
                              "urllib.request.urlopen(sys.argv[1],"
                              " context=ssl._create_unverified_context()).read()",
                              "https://127.0.0.1:%d/coverage/python" % ctx.tls.port])
    # longer than a report takes to settle
    ctx.sensor.wait_for(lambda e: False, 2.5)
    for pid, what in ((c.pid, "curl"), (py.pid, "python"), (ctx.tls.proc.pid, "the TLS server")):
        if uncovered(ctx, pid):
            raise Fail("%s (pid %d) is covered but was reported: %s" % (
                what, pid, uncovered(ctx, pid)))


def t_status_counters(ctx):
    """After the stop: the last sensor_status counts every report printed."""
    stats = [e for e in ctx.sensor.snapshot() if e.get("event") == "sensor_status"]
    if not stats:
        raise Fail("no sensor_status event")
    last = stats[-1]
    n = len(uncovered(ctx))
    if last.get("tls_uncovered_reports") != n:
        raise Fail("tls_uncovered_reports %r, expected %d (the events printed)" % (
            last.get("tls_uncovered_reports"), n))
    socks = last.get("tls_uncovered_sockets", -1)
    # every report is one socket at least; the three dedupe runs add one each
    if socks < n + 2:
        raise Fail("tls_uncovered_sockets %r, expected at least %d" % (socks, n + 2))


def coverage_doc(ctx, coll):
    entries = coll_e2e.cli_json(ctx, ["coverage", "--db", coll.db])
    if not isinstance(entries, list):
        raise Fail("coverage --json: not an array")
    return entries


def t_collector_coverage(ctx):
    if not ctx.expected:
        raise Skip("no client was reported")

    def complete():
        try:
            entries = coverage_doc(ctx, ctx.coll)
        except Fail:
            return None
        have = {(e.get("exe"), d) for e in entries if not e.get("covered")
                for d in e.get("destinations", [])}
        return entries if all(k in have for k in ctx.expected) else None
    entries = coll_e2e.wait_until(complete, DELIVERY_TIMEOUT, 0.3)
    if not entries:
        raise Fail("coverage --json: not every reported client listed within %ds: want %s, got %s" % (
            DELIVERY_TIMEOUT, sorted(ctx.expected), coverage_doc(ctx, ctx.coll)))
    node = ctx.node
    uncovered_rows = [e for e in entries if not e.get("covered")]
    for (exe, d), (cause, detail) in ctx.expected.items():
        rows = [e for e in uncovered_rows if e.get("exe") == exe]
        if len(rows) != 1:
            raise Fail("coverage: %d uncovered entries for %s, expected 1" % (len(rows), exe))
        e = rows[0]
        want = {"node": node, "exe": exe, "covered": False, "cause": cause,
                "destinations": [d]}
        if detail:
            want["detail"] = detail
        check_event(e, want, () if detail else ("detail",), "coverage entry %s" % exe)
        if not e.get("last_seen", "").endswith("Z"):
            raise Fail("coverage entry %s: last_seen %r is not an RFC 3339 time" % (exe, e.get("last_seen")))
    # curl sent a token over OpenSSL: listed as covered, never as uncovered
    curl = os.path.realpath(CURL)
    cov = [e for e in entries if e.get("exe") == curl]
    if len(cov) != 1 or cov[0].get("covered") is not True or cov[0].get("tls_library") != "openssl" \
            or dst(ctx) not in cov[0].get("destinations", []):
        raise Fail("coverage: curl should be one covered entry (openssl, %s), got %s" % (dst(ctx), cov))
    # uncovered first
    flags = [e.get("covered") for e in entries]
    if flags != sorted(flags):
        raise Fail("coverage: uncovered entries must come first: %s" % flags)
    # the HTTP API answers the same document
    status, body = coll_e2e.http_get(ctx, ctx.coll.url + "/v1/coverage")
    if status != 200 or json.loads(body) != coverage_doc(ctx, ctx.coll):
        raise Fail("GET /v1/coverage: status %d, or not the same array as coverage --json" % status)


def t_collector_table(ctx):
    if not ctx.expected:
        raise Skip("no client was reported")
    p = coll_e2e.cli(ctx, ["coverage", "--url", ctx.coll.url])
    out = p.stdout.decode(errors="replace")
    if p.returncode != 0:
        raise Fail("coverage exited %d: %s" % (p.returncode, p.stderr.decode(errors="replace")[-200:]))
    lines = out.splitlines()
    if not lines or lines[0].split()[:4] != ["NODE", "EXECUTABLE", "COVERED", "WHY"]:
        raise Fail("coverage: unexpected header %r" % (lines[:1],))
    for (exe, d), (cause, _) in ctx.expected.items():
        # the column keeps a long path's end; a cell is followed by a space
        rows = [l for l in lines if exe[-40:] + " " in l]
        if len(rows) != 1 or " no " not in rows[0] or cause not in rows[0] or d not in rows[0]:
            raise Fail("coverage table: row for %s should say no, %s, %s: %r" % (exe, cause, d, rows))
    top = coll_e2e.cli(ctx, ["top", "--once", "--url", ctx.coll.url])
    text = top.stdout.decode(errors="replace")
    if top.returncode != 0 or "NOT COVERED" not in text:
        raise Fail("top --once: no NOT COVERED section (exit %d)" % top.returncode)
    section = text.split("NOT COVERED", 1)[1]
    if ctx.mbed[-40:] + " " not in section or os.path.realpath(CURL) in section:
        raise Fail("top --once: NOT COVERED should list %s and not curl: %r" % (ctx.mbed, section[-600:]))


# ---- the run -------------------------------------------------------------------------------

SENSOR_TESTS = [("mbedtls_dynamic", t_mbedtls_dynamic), ("mbedtls_static", t_mbedtls_static),
                ("java_without_agent", t_java), ("once_per_interval", t_once_per_interval),
                ("covered_not_reported", t_covered_not_reported)]
AFTER_STOP = [("status_counters", t_status_counters), ("collector_coverage", t_collector_coverage),
              ("collector_table_and_top", t_collector_table)]


def record(name, fn, ctx):
    full = "coverage/" + name
    try:
        fn(ctx)
        R.record(full, "PASS")
    except Skip as e:
        R.record(full, "SKIP", str(e))
    except Fail as e:
        R.record(full, "FAIL", str(e))
    except Exception as e:  # a broken test is a failure, not a crash
        R.record(full, "FAIL", "%s: %s" % (type(e).__name__, e))


def run_all(ctx):
    names = [n for n, _ in SENSOR_TESTS + AFTER_STOP] + ["sensor_clean_exit"]
    ctx.expected = {}
    e2e.make_cert(ctx.workdir)
    build_clients(ctx)
    ctx.tls = e2e.Server(ctx.workdir, "tls", True)
    ctx.coll = coll_e2e.Collector(ctx, "collector")
    ctx.coll.start()
    why = None
    if not os.access(e2e.sensor_bin(), os.X_OK):
        why = "no sensor binary at %s (make all)" % e2e.sensor_bin()
    elif os.geteuid() != 0:
        why = "not root, cannot load BPF"
    if not why:
        ctx.sensor = e2e.Sensor(ctx.workdir, ctx.key_path, extra=[
            "--interval", str(INTERVAL), "--collector", ctx.coll.url,
            "--collector-token-file", ctx.token_path])
        why = ctx.sensor.wait_ready()
        if why:
            ctx.sensor.stop()
    if why:
        err = coll_e2e.sensor_unavailable(why)
        for n in names:
            R.record("coverage/" + n, "FAIL" if isinstance(err, Fail) else "SKIP", why)
        return
    for name, fn in SENSOR_TESTS:
        record(name, fn, ctx)
    rc = ctx.sensor.stop()
    ctx.outputs += [("sensor stdout", b"".join(ctx.sensor.out_raw)),
                    ("sensor stderr", b"".join(ctx.sensor.err_raw))]
    R.record("coverage/sensor_clean_exit", "PASS" if rc == 0 and not ctx.sensor.bad_lines else "FAIL",
             "" if rc == 0 and not ctx.sensor.bad_lines else
             "exit status %s, %d stdout lines not JSON" % (rc, ctx.sensor.bad_lines))
    # the node name the collector stores: the sensor's
    sensors = coll_e2e.cli_json(ctx, ["sensors", "--db", ctx.coll.db])
    ctx.node = sensors[0].get("node") if sensors else socket.gethostname()
    for name, fn in AFTER_STOP:
        record(name, fn, ctx)


def main():
    def on_signal(sig, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    workdir = tempfile.mkdtemp(prefix="tokentap-e2e-cov-")
    ctx = None
    try:
        if not os.access(coll_e2e.collector_bin(), os.X_OK):
            R.record("coverage/setup", "FAIL", "no collector binary at %s (make all)" % coll_e2e.collector_bin())
        else:
            ctx = coll_e2e.Ctx(workdir)
            ctx.sensor = None
            try:
                run_all(ctx)
            except Fail as e:
                R.record("coverage/setup", "FAIL", str(e))
            finally:
                if ctx.sensor:
                    ctx.sensor.stop()
                if getattr(ctx, "coll", None):
                    rc = ctx.coll.stop()
                    if rc != 0:
                        R.record("coverage/collector_clean_exit", "FAIL", "exit status %s" % rc)
                e2e.kill_children()
                hits = coll_e2e.secret_hits(ctx)
                R.record("coverage/no_secret_in_outputs", "FAIL" if hits else "PASS", "; ".join(hits))
    except KeyboardInterrupt:
        R.record("coverage/interrupted", "FAIL")
    finally:
        e2e.kill_children()
        shutil.rmtree(workdir, ignore_errors=True)
    print("%s: %d passed, %d failed, %d skipped" % (suite(), R.passed, R.failed, R.skipped), flush=True)
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
