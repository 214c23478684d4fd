#!/usr/bin/env python3
"""End-to-end tests of Java capture (--java): the sensor loads its agent
into HotSpot JVMs, which then report the plaintext of JSSE
(HttpsURLConnection, java.net.http.HttpClient over HTTP/1.1 and HTTP/2).

Run as root from anywhere:  python3 tests/e2e/run_java.py
  TOKENTAP_BIN=path        sensor binary (default build/tokentap; the agent
                           files are taken from java/ next to it)
  TOKENTAP_REQUIRE_BPF=1   a sensor that cannot load is a failure, not a skip

JVMs start slowly: one JVM (tests/e2e/JavaClient.java, compiled here) makes
every request of its tests, read as commands on its stdin. Helpers are
run.py's. Prints one line per test and ends with
"e2e-java: N passed, M failed, K skipped".
"""
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as base  # noqa: E402
from run import Fail, Skip, R  # noqa: E402

HERE = base.HERE
JAVA = shutil.which("java") or ""
JAVAC = shutil.which("javac") or ""
REQUESTS = 3
# bounds on waits that only a broken run reaches; never a timing threshold on success
AGENT_TIMEOUT = 90
JVM_TIMEOUT = 60


class Jvm:
    """A JavaClient JVM reading commands on stdin."""

    def __init__(self, ctx, name):
        self.name = name
        self.err_path = os.path.join(ctx.workdir, name + ".err")
        self.err = open(self.err_path, "wb")
        self.out = b""
        self.foreign = []  # lines the client did not print (the JVM's own warnings)
        # the test servers' certificates name 127.0.0.1 only as their CN
        self.started = time.monotonic()
        self.proc = base.spawn([JAVA, "-Djdk.internal.httpclient.disableHostnameVerification=true",
                                "-cp", ctx.classes, "JavaClient"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err)
        self.pid = self.proc.pid
        ctx.jvms.append(self)
        line = self.read_line()
        if line != "ready":
            raise Fail("JVM %s did not start: %r" % (name, line))

    def read_line(self):
        """The next line the client prints that is its own (a JVM warning is not)."""
        deadline = time.monotonic() + JVM_TIMEOUT
        buf = b""
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if not r:
                if self.proc.poll() is not None:
                    break
                continue
            c = os.read(self.proc.stdout.fileno(), 1)
            if not c:
                break
            self.out += c
            if c != b"\n":
                buf += c
                continue
            line = buf.decode(errors="replace").strip()
            buf = b""
            if line == "ready" or line.startswith("ok ") or line.startswith("err "):
                return line
            self.foreign.append(line)
        return None

    def request(self, mode, url, token, n=None):
        self.proc.stdin.write(("%s %s %s%s\n" % (mode, url, token, " %d" % n if n else "")).encode())
        self.proc.stdin.flush()
        line = self.read_line()
        if not line or not line.startswith("ok 200"):
            raise Fail("JVM %s: %s %s answered %r" % (self.name, mode, url, line))
        return line

    def maps_agent(self):
        try:
            with open("/proc/%d/maps" % self.pid) as f:
                return "libtokentap_java.so" in f.read()
        except OSError:
            return False

    def close(self, ctx):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        base.reap(self.proc)
        self.err.close()
        with open(self.err_path, "rb") as f:
            ctx.outputs.append(f.read())
        ctx.outputs.append(self.out)


def compile_client(ctx):
    ctx.classes = os.path.join(ctx.workdir, "classes")
    os.makedirs(ctx.classes, exist_ok=True)
    r = subprocess.run([JAVAC, "-d", ctx.classes, os.path.join(HERE, "JavaClient.java")],
                       capture_output=True, timeout=120)
    if r.returncode != 0:
        raise Fail("javac: %s" % r.stderr.decode(errors="replace")[-300:])


def wait_agent(ctx, jvm, since, what):
    """The sensor's own line saying the agent is in jvm; prints how long after since (what)."""
    want = ("java: agent loaded into JVM pid %d" % jvm.pid).encode()
    deadline = time.monotonic() + AGENT_TIMEOUT
    while time.monotonic() < deadline:
        with ctx.sensor.lock:
            if any(want in l for l in ctx.sensor.err_raw):
                # a figure, not a threshold
                R.say("INFO agent in JVM %s seen %.2f s after %s" % (jvm.name, time.monotonic() - since, what))
                return
        if ctx.sensor.proc.poll() is not None:
            raise Fail("sensor exited: %s" % ctx.sensor.stderr_tail())
        time.sleep(0.1)
    raise Fail("no agent loaded into JVM %s (pid %d) within %ds: %s" % (
        jvm.name, jvm.pid, AGENT_TIMEOUT, ctx.sensor.stderr_tail()))


def usage_total(ctx, fp, pid):
    return sum(e.get("count", 0) for e in ctx.sensor.snapshot()
               if e.get("event") == "token_usage" and e.get("fingerprint") == fp and e.get("pid") == pid)


def java_requests(ctx, jvm, mode, server, path):
    """REQUESTS requests of one kind with a new token; checked at once and after the stop."""
    tok, fp = base.new_token(ctx)
    url = "https://127.0.0.1:%d%s" % (server.port, path)
    for _ in range(REQUESTS):
        jvm.request(mode, url, tok)
    ev = base.seen_for(ctx, fp, jvm.pid)[0]
    # Java's sockets are dual-stack: an IPv4 peer is a v4-mapped IPv6 address
    base.check_fields(ev, {"pid": jvm.pid, "tls": True, "tls_library": "java",
                           "dst": "[::ffff:127.0.0.1]:%d" % server.port, "method": "GET", "path": path,
                           "scheme": "Bearer", "header": "authorization"})

    def after_stop():
        n = usage_total(ctx, fp, jvm.pid)
        if n != REQUESTS:
            raise Fail("%s: expected exactly %d requests counted, got %d" % (mode, REQUESTS, n))
    return after_stop


BENCH = (("urlconn", "tls", 10), ("http1", "tls", 30), ("http2", "h2", 30))


def bench_figures(ctx, jvm, label):
    """Median time of one request of each kind: figures printed, never compared to a threshold."""
    tok, _ = base.new_token(ctx)
    figs = []
    for mode, srv, n in BENCH:
        server = getattr(ctx, srv)
        # the first round warms the JIT and the connection pools
        jvm.request(mode, "https://127.0.0.1:%d/java/bench" % server.port, tok, n)
        line = jvm.request(mode, "https://127.0.0.1:%d/java/bench" % server.port, tok, n)
        figs.append("%s %s us" % (mode, line.split()[-1]))
    R.say("INFO median per request %s (%s)" % (label, ", ".join(figs)))


def scenarios_for(jvm_attr):
    def urlconn(ctx):
        return java_requests(ctx, getattr(ctx, jvm_attr), "urlconn", ctx.tls, "/java/urlconn")

    def http1(ctx):
        return java_requests(ctx, getattr(ctx, jvm_attr), "http1", ctx.tls, "/java/http1")

    def http2(ctx):
        return java_requests(ctx, getattr(ctx, jvm_attr), "http2", ctx.h2, "/java/http2")
    return [("urlconnection", urlconn), ("httpclient_http1", http1), ("httpclient_http2", http2)]


skip_or_fail_all = base.skip_or_fail_all


def group_java(ctx):
    """--java: a JVM started before the sensor and one after."""
    pre_sc, post_sc = scenarios_for("pre_jvm"), scenarios_for("post_jvm")
    names = (["java/pre/%s" % n for n, _ in pre_sc] + ["java/post/%s" % n for n, _ in post_sc] +
             ["java/jvm_works_after_sensor_exit", "java/second_sensor", "java/no_secret_in_outputs"])
    ctx.pre_jvm = Jvm(ctx, "pre")
    ctx.sensor = base.Sensor(ctx.workdir, ctx.key_path, extra=["--java"])
    why = ctx.sensor.wait_ready()
    if why:
        ctx.sensor.stop()
        skip_or_fail_all(names, why)
        return
    ready = time.monotonic()
    after = []
    try:
        wait_agent(ctx, ctx.pre_jvm, ready, "the sensor was ready")
        base.run_scenarios(ctx, "java/pre", pre_sc, after)
        ctx.post_jvm = Jvm(ctx, "post")
        wait_agent(ctx, ctx.post_jvm, ctx.post_jvm.started, "the JVM was started")
        base.run_scenarios(ctx, "java/post", post_sc, after)
        bench_figures(ctx, ctx.post_jvm, "with the agent and the sensor")
    except Fail as e:
        R.record("java/setup", "FAIL", str(e))
    # a flush interval, so every count is out before the stop
    time.sleep(1.2)
    ctx.sensor.stop()
    base.run_after(after)
    # the agent stays in the JVMs; without the sensor they go on as before
    try:
        for jvm in (ctx.pre_jvm, getattr(ctx, "post_jvm", None)):
            if not jvm:
                raise Fail("no JVM started after the sensor")
            tok, _ = base.new_token(ctx)
            jvm.request("urlconn", "https://127.0.0.1:%d/java/after" % ctx.tls.port, tok)
            jvm.request("http2", "https://127.0.0.1:%d/java/after" % ctx.h2.port, tok)
        # the same JVM, same agent, no probe: the sensor's own share of the cost
        bench_figures(ctx, ctx.post_jvm, "with the agent, the sensor stopped")
        # the agent changes nothing the program prints
        for jvm in (ctx.pre_jvm, ctx.post_jvm):
            if jvm.foreign:
                raise Fail("JVM %s printed %d line(s) of its own, first: %r" % (
                    jvm.name, len(jvm.foreign), jvm.foreign[0][:120]))
        R.record("java/jvm_works_after_sensor_exit", "PASS")
    except Fail as e:
        R.record("java/jvm_works_after_sensor_exit", "FAIL", str(e))
    second_sensor(ctx)


def second_sensor(ctx):
    """A sensor started later finds the agent in place in a JVM hooked before."""
    first = ctx.sensor
    ctx.outputs += [b"".join(first.out_raw), b"".join(first.err_raw)]
    ctx.sensor = base.Sensor(ctx.workdir, ctx.key_path, extra=["--java"])
    why = ctx.sensor.wait_ready()
    if why:
        ctx.sensor.stop()
        R.record("java/second_sensor", "FAIL", why)
        return
    try:
        wait_agent(ctx, ctx.pre_jvm, time.monotonic(), "the second sensor was ready")
        post = java_requests(ctx, ctx.pre_jvm, "urlconn", ctx.tls, "/java/again")
        time.sleep(1.2)
        ctx.sensor.stop()
        post()
        R.record("java/second_sensor", "PASS")
    except Fail as e:
        R.record("java/second_sensor", "FAIL", str(e))


def group_no_java(ctx):
    """Without --java nothing is loaded into a JVM, and its requests are not seen."""
    names = ["nojava/not_attached", "nojava/no_secret_in_outputs"]
    ctx.sensor = base.Sensor(ctx.workdir, ctx.key_path)
    why = ctx.sensor.wait_ready()
    if why:
        ctx.sensor.stop()
        skip_or_fail_all(names, why)
        return
    try:
        jvm = Jvm(ctx, "nojava")
        tok, fp = base.new_token(ctx)
        jvm.request("urlconn", "https://127.0.0.1:%d/nojava" % ctx.tls.port, tok)
        jvm.request("http2", "https://127.0.0.1:%d/nojava" % ctx.h2.port, tok)
        bench_figures(ctx, jvm, "without --java")
        time.sleep(1.2)
        if jvm.maps_agent():
            raise Fail("the JVM maps libtokentap_java.so without --java")
        seen = [e for e in ctx.sensor.snapshot() if e.get("fingerprint") == fp]
        if seen:
            raise Fail("a JVM's request was reported without --java: %s" % seen[0].get("event"))
        with ctx.sensor.lock:
            if any(b"agent loaded" in l for l in ctx.sensor.err_raw):
                raise Fail("the sensor loaded an agent without --java")
        R.record("nojava/not_attached", "PASS")
    except Fail as e:
        R.record("nojava/not_attached", "FAIL", str(e))
    ctx.sensor.stop()


def run_group(name, fn):
    workdir = tempfile.mkdtemp(prefix="tokentap-e2e-java-")
    ctx = base.Ctx(workdir)
    ctx.jvms = []
    ctx.h2 = None
    try:
        base.make_cert(workdir)
        compile_client(ctx)
        ctx.tls = base.Server(workdir, "tls", True)
        ctx.h2 = base.Server(workdir, "h2", True, cmd=[base.NODE, os.path.join(HERE, "h2_server.js"),
                                                       os.path.join(workdir, "cert.pem"),
                                                       os.path.join(workdir, "key.pem")])
        fn(ctx)
        if ctx.sensor and ctx.sensor.rc is not None:
            for j in ctx.jvms:
                j.close(ctx)
            ctx.jvms = []
            hits = base.secret_hits(ctx)
            R.record("%s/no_secret_in_outputs" % name, "FAIL" if hits else "PASS", "; ".join(hits))
    except Fail as e:
        R.record("%s/setup" % name, "FAIL", str(e))
    finally:
        if ctx.sensor:
            ctx.sensor.stop()
        for j in ctx.jvms:
            j.close(ctx)
        for s in (ctx.tls, ctx.h2):
            if s:
                s.close()
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    def on_signal(sig, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        if not JAVA or not JAVAC:
            R.record("java", base.bpf_missing_status(),
                     "java/javac not installed (default-jdk)")
        elif os.geteuid() != 0:
            skip_or_fail_all(["java", "nojava"], "not root, cannot load BPF")
        elif not base.NODE:
            R.record("java", "FAIL", "node not installed (the HTTP/2 server)")
        else:
            only = os.environ.get("TOKENTAP_JAVA_ONLY", "java,nojava").split(",")
            if "java" in only:
                run_group("java", group_java)
            if "nojava" in only:
                run_group("nojava", group_no_java)
    except KeyboardInterrupt:
        R.record("interrupted", "FAIL")
    finally:
        base.kill_children()
    print("e2e-java: %d passed, %d failed, %d skipped" % (R.passed, R.failed, R.skipped), flush=True)
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
