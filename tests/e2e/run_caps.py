#!/usr/bin/env python3
"""End-to-end tests of the least-privilege mode: the sensor run with only some
capabilities (capsh drops the rest from the bounding set, as a container
runtime does), real curl clients, local TLS and plaintext servers.

Run as root from anywhere:  python3 tests/e2e/run_caps.py
  TOKENTAP_BIN=path        sensor binary (default build/tokentap in the repo)
  TOKENTAP_REQUIRE_BPF=1   a missing requirement (root, capsh, BPF) is a failure

  - the documented set (CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE,
    CAP_DAC_READ_SEARCH) captures curl over TLS and in plaintext, no feature off
  - without CAP_SYS_PTRACE it says which feature is off, and still captures
  - with uprobes forced onto perf events, which need CAP_SYS_ADMIN, TLS capture
    is impossible: it says so, its start line is "degraded", /readyz is 503
  - without CAP_BPF it refuses to start and names the capability

Prints one PASS/FAIL/SKIP line per test and ends with
"e2e-caps: N passed, M failed, K skipped"; exits non-zero when anything failed.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as e2e  # noqa: E402  (helpers of the sensor runner)
from run import CURL, Fail, Skip  # noqa: E402

R = e2e.R
CAPSH = shutil.which("capsh") or "/usr/sbin/capsh"
LEAST = ["cap_bpf", "cap_perfmon", "cap_sys_ptrace", "cap_dac_read_search"]


def bounding_set():
    """Names of the capabilities in this process's bounding set."""
    out = subprocess.run([CAPSH, "--print"], capture_output=True, text=True, timeout=10).stdout
    for line in out.splitlines():
        if line.startswith("Bounding set ="):
            return [c for c in line.split("=", 1)[1].strip().split(",") if c]
    raise Fail("capsh --print shows no bounding set")


def capsh_keeping(keep):
    """A command prefix that runs the rest with only `keep` (root, other caps dropped)."""
    drop = [c for c in bounding_set() if c not in keep]
    return [CAPSH, "--drop=" + ",".join(drop), "--", "-c", 'exec "$0" "$@"']


def http_get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def stderr_text(sensor):
    with sensor.lock:
        return b"".join(sensor.err_raw).decode(errors="replace")


def curl_token(ctx, url, insecure):
    tok, fp = e2e.new_token(ctx, "ghp")
    conf = e2e.curl_config(ctx, ['header = "Authorization: Bearer %s"' % tok])
    cmd = [CURL, "-sS", "--http1.1", "-o", "/dev/null", "-K", conf, url]
    if insecure:
        cmd.insert(1, "-k")
    c = e2e.run_client(ctx, cmd)
    return e2e.seen_for(ctx, fp, c.pid)[0]


def with_sensor(ctx, keep, extra, body):
    """Runs body(sensor, metrics_port) with a sensor holding only `keep`."""
    port = e2e.free_port()
    sensor = e2e.Sensor(ctx.workdir, ctx.key_path, prefix=capsh_keeping(keep),
                        extra=["--no-held-scan", "--metrics-listen", "127.0.0.1:%d" % port]
                        + list(extra))
    ctx.sensor = sensor
    try:
        why = sensor.wait_ready()
        if why:
            raise Fail(why)
        body(sensor, port)
    finally:
        rc = sensor.stop()
        ctx.outputs += [b"".join(sensor.out_raw), b"".join(sensor.err_raw)]
        if rc != 0:
            raise Fail("sensor exit status on SIGTERM: %s" % rc)


def t_least_privilege_captures(ctx):
    def body(sensor, port):
        err = stderr_text(sensor)
        if "tokentap: ready:" not in err or "NOT READY" in err:
            raise Fail("not ready with the documented set: %s" % sensor.stderr_tail())
        if ": off:" in err or "TLS CAPTURE IS OFF" in err:
            raise Fail("a feature is off with the documented set: %s" % err[-400:])
        ev = curl_token(ctx, "https://127.0.0.1:%d/caps/tls" % ctx.tls.port, True)
        e2e.check_fields(ev, {"tls": True, "tls_library": "openssl", "method": "GET",
                              "path": "/caps/tls"})
        ev = curl_token(ctx, "http://127.0.0.1:%d/caps/plain" % ctx.plain.port, False)
        e2e.check_fields(ev, {"tls": False, "method": "GET", "path": "/caps/plain"})
        code, text = http_get(port, "/readyz")
        if code != 200:
            raise Fail("/readyz: expected 200, got %d %s" % (code, text.strip()))
    with_sensor(ctx, LEAST, [], body)


def t_no_ptrace_names_feature(ctx):
    def body(sensor, port):
        err = stderr_text(sensor)
        line = [l for l in err.splitlines() if "processes of every container" in l]
        if not line or ": off:" not in line[0] or "CAP_SYS_PTRACE" not in line[0]:
            raise Fail("no warning naming CAP_SYS_PTRACE: %s" % err[-400:])
        # what it can still see: a TLS client of the same user
        ev = curl_token(ctx, "https://127.0.0.1:%d/caps/noptrace" % ctx.tls.port, True)
        e2e.check_fields(ev, {"tls": True, "path": "/caps/noptrace"})
    with_sensor(ctx, [c for c in LEAST if c != "cap_sys_ptrace"], [], body)


def t_tls_impossible_not_ready(ctx):
    def body(sensor, port):
        err = stderr_text(sensor)
        if "NOT READY: TLS capture is off" not in err or "tokentap: degraded:" not in err:
            raise Fail("no loud NOT READY / degraded line: %s" % err[-400:])
        code, text = http_get(port, "/readyz")
        if code != 503 or "tls" not in text.lower():
            raise Fail("/readyz: expected 503 naming TLS, got %d %s" % (code, text.strip()))
        code, _ = http_get(port, "/healthz")
        if code != 200:
            raise Fail("/healthz: expected 200 (alive, only degraded), got %d" % code)
        # plaintext capture still works
        ev = curl_token(ctx, "http://127.0.0.1:%d/caps/degraded" % ctx.plain.port, False)
        e2e.check_fields(ev, {"tls": False, "path": "/caps/degraded"})
    with_sensor(ctx, LEAST, ["--uprobe-attach", "perf"], body)


def t_no_bpf_refuses(ctx):
    p = subprocess.run(capsh_keeping([c for c in LEAST if c != "cap_bpf"]) +
                       [e2e.sensor_bin(), "--state-dir", os.path.join(ctx.workdir, "nobpf"),
                        "--key-file", ctx.key_path, "--no-held-scan"],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    ctx.outputs += [p.stdout, p.stderr]
    err = p.stderr.decode(errors="replace")
    if p.returncode != 1 or "cannot load the BPF programs" not in err or "CAP_BPF" not in err:
        raise Fail("expected exit 1 naming CAP_BPF, got %d: %s" % (p.returncode, err[-300:]))


TESTS = [("caps/least_privilege_captures_tls_and_plain", t_least_privilege_captures),
         ("caps/no_sys_ptrace_names_the_feature", t_no_ptrace_names_feature),
         ("caps/tls_impossible_is_not_ready", t_tls_impossible_not_ready),
         ("caps/no_cap_bpf_refuses_to_start", t_no_bpf_refuses)]


def main():
    def on_signal(sig, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    names = [n for n, _ in TESTS] + ["caps/no_secret_in_outputs"]
    if e2e.preflight(names, needs=[(CAPSH, "capsh not installed (libcap2-bin)"),
                                   (CURL, "curl not installed")]):
        workdir = tempfile.mkdtemp(prefix="tokentap-caps-")
        ctx = e2e.Ctx(workdir)
        try:
            e2e.make_cert(workdir)
            ctx.tls = e2e.Server(workdir, "tls", True)
            ctx.plain = e2e.Server(workdir, "plain", False)
            e2e.run_tests(ctx, TESTS, e2e.bpf_missing_status())
            e2e.record_secret_search(ctx, names[-1])
        except KeyboardInterrupt:
            R.record("interrupted", "FAIL")
        except Fail as e:
            R.record("caps/setup", "FAIL", str(e))
        finally:
            for s in (ctx.tls, ctx.plain):
                if s:
                    s.close()
            e2e.kill_children()
            shutil.rmtree(workdir, ignore_errors=True)
    print("e2e-caps: %d passed, %d failed, %d skipped" % (R.passed, R.failed, R.skipped),
          flush=True)
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
