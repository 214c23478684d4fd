#!/usr/bin/env python3
"""End-to-end tests of TLS libraries found beyond the C ones: rustls in Rust
programs (built offline from Debian's crates by `make rust-clients`), plain
and stripped, and OpenSSL 3.3's SSL_write_ex2 through a stand-in library
(Debian 12 has no OpenSSL 3.3), with the real sensor loaded.

Run as root from anywhere:  python3 tests/e2e/run_rust.py
  TOKENTAP_BIN=path             sensor binary (default build/tokentap)
  TOKENTAP_RUST_CLIENTS=dir     the clients (default build/rust-clients)
  TOKENTAP_REQUIRE_BPF=1        a sensor that cannot load is a failure, not a skip
  TOKENTAP_REQUIRE_RUST=1       missing Rust clients are a failure, not a skip

Helpers (sensor, servers, clients, fingerprints, the secret search) are
run.py's. Prints one line per test and ends with
"e2e-rust: N passed, M failed, K skipped".
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
from run import Fail, Skip, R  # noqa: E402

HERE = base.HERE
REPO = base.REPO
N = 5
# lets the sensor attach to a new program before its first request
DELAY_MS = "1500"


def clients_dir():
    d = os.environ.get("TOKENTAP_RUST_CLIENTS", "build/rust-clients")
    return d if os.path.isabs(d) else os.path.join(REPO, d)


def rust_client(name):
    path = os.path.join(clients_dir(), name)
    if not os.access(path, os.X_OK):
        why = "%s not built (make rust-clients)" % path
        if os.environ.get("TOKENTAP_REQUIRE_RUST") == "1":
            raise Fail(why)
        raise Skip(why)
    return path


def usage_total(ctx, fp, pid):
    return sum(e.get("count", 0) for e in ctx.sensor.snapshot()
               if e.get("event") == "token_usage" and e.get("fingerprint") == fp and e.get("pid") == pid)


def exact_count(ctx, fp, pid, n):
    def after_stop():
        total = usage_total(ctx, fp, pid)
        if total != n:
            raise Fail("sum of token_usage counts for %s pid %d: expected %d, got %d" % (fp, pid, n, total))
    return after_stop


def rustls_captured(ctx, exe, cmd, path):
    """A Rust client sends N requests on one connection: one token_seen with
    the process, the destination and library, and exactly N counted."""
    tok, fp = base.new_token(ctx)
    port = ctx.tls.port
    c = base.run_client(ctx, cmd, {"TT_TOKEN": tok, "TT_DELAY_MS": DELAY_MS})
    if b"sent %d" % N not in c.out:
        raise Fail("client did not send %d requests: %s" % (N, c.out.decode(errors="replace").strip()))
    ev = base.seen_for(ctx, fp, c.pid)[0]
    base.check_fields(ev, {
        "exe": os.path.realpath(exe), "pid": c.pid, "uid": os.getuid(), "tls": True,
        "tls_library": "rustls", "dst": "127.0.0.1:%d" % port, "host": "localhost:%d" % port,
        "method": "GET", "path": path, "scheme": "Bearer", "header": "authorization"})
    return exact_count(ctx, fp, c.pid, N)


def make_ca_and_cert(workdir):
    """webpki (rustls 0.20) takes neither a CA certificate as the server's
    nor an IP address as the server name: a CA (ca.pem, what the clients
    trust) and a server certificate for localhost signed by it (cert.pem
    and key.pem, what http_server.py serves)."""
    def sh(*cmd):
        subprocess.run(list(cmd), capture_output=True, timeout=60, check=True, cwd=workdir)
    ext = os.path.join(workdir, "leaf.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n")
    sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=tokentap test CA",
       "-keyout", "ca.key", "-out", "ca.pem")
    sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "key.pem",
       "-out", "leaf.csr")
    sh("openssl", "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
       "-days", "1", "-extfile", ext, "-out", "cert.pem")


def cert(ctx):
    return os.path.join(ctx.workdir, "ca.pem")


def t_ureq(ctx):
    """ureq 2.6 (rustls::StreamOwned): <Writer as Write>::write."""
    exe = rust_client("tt-ureq-client")
    return rustls_captured(ctx, exe, [exe, "ureq", cert(ctx), "localhost", str(ctx.tls.port), str(N)],
                           "/v1/items")


def t_ureq_v0(ctx):
    """The same client built with v0 symbol names (_R...)."""
    exe = rust_client("tt-ureq-client-v0")
    return rustls_captured(ctx, exe, [exe, "ureq", cert(ctx), "localhost", str(ctx.tls.port), str(N)],
                           "/v1/items")


def t_rustls_write_vectored(ctx):
    """rustls used directly, the header block in four slices: write_vectored."""
    exe = rust_client("tt-ureq-client")
    return rustls_captured(ctx, exe, [exe, "vectored", cert(ctx), "localhost", str(ctx.tls.port), str(N)],
                           "/v1/items")


def t_reqwest(ctx):
    """reqwest 0.11 with rustls: hyper over tokio-rustls on a tokio runtime."""
    exe = rust_client("tt-reqwest-client")
    return rustls_captured(ctx, exe, [exe, cert(ctx), "https://localhost:%d/v1/items" % ctx.tls.port, str(N)],
                           "/v1/items")


def stripped_dark(ctx, exe, cmd):
    """A stripped copy: the requests succeed, nothing is captured, the
    sensor records the program as a stripped Rust program, and reports it
    as tls_uncovered with the cause rust_stripped."""
    tok, fp = base.new_token(ctx)
    c = base.run_client(ctx, cmd, {"TT_TOKEN": tok, "TT_DELAY_MS": DELAY_MS})
    if b"sent %d" % N not in c.out:
        raise Fail("client did not send %d requests: %s" % (N, c.out.decode(errors="replace").strip()))
    name = os.path.basename(exe)
    noted = ctx.sensor_note(lambda line: b"a stripped Rust program" in line and name.encode() in line)
    ctx.stripped_seen += 1
    want = ctx.stripped_seen
    # sensor_status counts the stripped Rust programs examined so far
    st = base.status_after(ctx, 0, lambda e: e.get("rust_stripped", 0) >= want)

    def after_stop():
        seen = [e for e in ctx.sensor.snapshot() if e.get("fingerprint") == fp]
        if seen:
            raise Fail("%d events for the stripped client's token, expected none" % len(seen))
        if not noted():
            raise Fail("the sensor did not record %s as a stripped Rust program" % name)
        if st is None:
            raise Fail("no sensor_status with rust_stripped >= %d" % want)
        # and the blind-spot report names it, with its cause
        unc = [e for e in ctx.sensor.snapshot() if e.get("event") == "tls_uncovered" and
               os.path.basename(e.get("exe", "")) == name]
        if not unc:
            raise Fail("no tls_uncovered event for %s" % name)
        causes = sorted({e.get("cause") for e in unc})
        if causes != ["rust_stripped"]:
            raise Fail("tls_uncovered for %s gave cause %s, expected rust_stripped" % (name, causes))
    return after_stop


def t_ureq_stripped(ctx):
    exe = rust_client("tt-ureq-client-stripped")
    return stripped_dark(ctx, exe, [exe, "ureq", cert(ctx), "localhost", str(ctx.tls.port), str(N)])


def t_reqwest_stripped(ctx):
    exe = rust_client("tt-reqwest-client-stripped")
    return stripped_dark(ctx, exe, [exe, cert(ctx), "https://localhost:%d/v1/items" % ctx.tls.port, str(N)])


# ---- SSL_write_ex2 through a stand-in libssl.so.3 ---------------------------------

class Sink:
    """A TCP server that reads and discards: the stand-in's records are not TLS."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._drain, args=(conn,), daemon=True).start()

    @staticmethod
    def _drain(conn):
        with conn:
            while conn.recv(65536):
                pass

    def close(self):
        self.stop = True
        self.sock.close()


def build_ex2(ctx):
    """The stand-in library, named libssl.so.3, and its client, built into
    the work dir before the sensor starts. Sets ctx.ex2 or ctx.ex2_err."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        ctx.ex2_err = "no C compiler"
        return
    d = os.path.join(ctx.workdir, "ex2")
    os.makedirs(d)
    lib = os.path.join(d, "libssl.so.3")
    exe = os.path.join(d, "ex2_client")
    src = os.path.join(HERE, "ssl_ex2")
    # -fPIC without -Bsymbolic, as OpenSSL builds: SSL_write_ex calls SSL_write_ex2 through the PLT
    steps = [[cc, "-O2", "-fPIC", "-shared", "-Wl,-soname,libssl.so.3", "-o", lib,
              os.path.join(src, "standin_ssl.c")],
             [cc, "-O2", "-o", exe, os.path.join(src, "ex2_client.c"), lib, "-Wl,-rpath," + d]]
    for cmd in steps:
        p = subprocess.run(cmd, capture_output=True, timeout=120)
        if p.returncode != 0:
            raise Fail("building the SSL_write_ex2 stand-in failed: %s" % p.stderr.decode(errors="replace")[-300:])
    ctx.ex2 = exe


def t_ssl_write_ex2(ctx):
    """N requests each with SSL_write_ex2, SSL_write_ex and SSL_write (both
    wrappers of SSL_write_ex2, as in OpenSSL 3.3): exactly 3N counted (the
    wrappers are not probed), bound to the socket by the record written
    inside the call."""
    if not getattr(ctx, "ex2", None):
        raise Skip(getattr(ctx, "ex2_err", None) or "stand-in not built")
    tok, fp = base.new_token(ctx)
    port = ctx.sink.port
    c = base.run_client(ctx, [ctx.ex2, str(port), str(N)], {"TT_TOKEN": tok, "TT_DELAY_MS": DELAY_MS})
    if b"sent %d" % (3 * N) not in c.out:
        raise Fail("client did not send %d requests: %s" % (3 * N, c.out.decode(errors="replace").strip()))
    ev = base.seen_for(ctx, fp, c.pid)[0]
    base.check_fields(ev, {
        "exe": os.path.realpath(ctx.ex2), "pid": c.pid, "tls": True, "tls_library": "openssl",
        "dst": "127.0.0.1:%d" % port, "host": "127.0.0.1:%d" % port, "method": "GET", "path": "/ex2"})
    return exact_count(ctx, fp, c.pid, 3 * N)


def stripped_copy_covered(ctx, name, cmd_of):
    """A stripped copy of a program already analysed with its symbols has
    its build id: the analysis is reused and the copy is covered. A new
    copy (new inode), so it is examined afresh."""
    src = rust_client(name + "-stripped")
    exe = os.path.join(ctx.workdir, name + "-stripped-copy")
    shutil.copyfile(src, exe)
    os.chmod(exe, 0o755)
    return rustls_captured(ctx, exe, cmd_of(exe), "/v1/items")


def t_ureq_stripped_copy(ctx):
    return stripped_copy_covered(
        ctx, "tt-ureq-client", lambda exe: [exe, "ureq", cert(ctx), "localhost", str(ctx.tls.port), str(N)])


# The stripped programs first: never seen with their symbols yet.
SCENARIOS = [
    ("ureq_stripped_uncovered", t_ureq_stripped),
    ("reqwest_stripped_uncovered", t_reqwest_stripped),
    ("ureq_write", t_ureq),
    ("ureq_write_v0_mangling", t_ureq_v0),
    ("rustls_write_vectored", t_rustls_write_vectored),
    ("reqwest_hyper", t_reqwest),
    ("ureq_stripped_copy_of_seen_build", t_ureq_stripped_copy),
    ("openssl_ssl_write_ex2", t_ssl_write_ex2),
]


def run_group(group):
    full = ["%s/%s" % (group, n) for n, _ in SCENARIOS] + ["%s/sensor_clean_exit" % group,
                                                           "%s/no_secret_in_outputs" % group]

    if not base.preflight(full):
        return
    workdir = tempfile.mkdtemp(prefix="tokentap-e2e-rust-")
    ctx = base.Ctx(workdir)
    ctx.sink = None
    ctx.stripped_seen = 0
    try:
        make_ca_and_cert(workdir)
        ctx.tls = base.Server(workdir, "tls", True)
        ctx.sink = Sink()
        build_ex2(ctx)
        # -v: the sensor logs what it attached and what it could not
        ctx.sensor = base.Sensor(workdir, ctx.key_path, extra=("-v",))

        def sensor_note(pred):
            """A check, run after the stop, that some stderr line matches."""
            return lambda: any(pred(line) for line in ctx.sensor.err_raw)
        ctx.sensor_note = sensor_note
        why = ctx.sensor.wait_ready()
        if why:
            ctx.sensor.stop()
            base.skip_or_fail_all(full, why)
            return
        after = []
        base.run_scenarios(ctx, group, SCENARIOS, after)
        base.finish_sensor_group(ctx, group, after)
    except Fail as e:
        R.record("%s/setup" % group, "FAIL", str(e))
    finally:
        if ctx.sensor:
            ctx.sensor.stop()
        if ctx.tls:
            ctx.tls.close()
        if ctx.sink:
            ctx.sink.close()
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    def on_signal(sig, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        run_group("rust")
    except KeyboardInterrupt:
        R.record("interrupted", "FAIL")
    finally:
        base.kill_children()
    print("e2e-rust: %d passed, %d failed, %d skipped" % (R.passed, R.failed, R.skipped), flush=True)
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
