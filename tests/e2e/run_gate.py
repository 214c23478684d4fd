#!/usr/bin/env python3
"""End-to-end tests of coverage from a process's first request: the exec
gate (--gate-exec) and the fast attachment of new TLS libraries
(--hold-unknown-tls), with the real sensor loaded. The gate-container
group runs clients in fresh podman images (podman set up as run_image.py
does; skipped without podman) and from tmpfs mounted in private mount
namespaces.

Run as root from anywhere:  python3 tests/e2e/run_gate.py
  TOKENTAP_BIN=path             sensor binary (default build/tokentap)
  TOKENTAP_TEST_HOOKS_BIN=path  sensor built with test hooks (default
                                build/tokentap-test-hooks; make build/tokentap-test-hooks)
  TOKENTAP_REQUIRE_BPF=1        a sensor that cannot load is a failure, not a skip

Helpers (sensor, servers, clients, fingerprints, the secret search) are
run.py's. Prints one line per test and ends with
"e2e-gate: N passed, M failed, K skipped".
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as base  # noqa: E402
import run_image as image  # noqa: E402  (podman as these machines need it)
from run import Fail, Skip, R  # noqa: E402

HERE = base.HERE
REPO = base.REPO
RUNS = 20
LIBSSL = "/usr/lib/x86_64-linux-gnu/libssl.so.3"
# A process that never finishes is the failure these bound; never a timing
# threshold on success.
HANG_TIMEOUT = 20


def hooks_bin():
    b = os.environ.get("TOKENTAP_TEST_HOOKS_BIN", "build/tokentap-test-hooks")
    return b if os.path.isabs(b) else os.path.join(REPO, b)


def usage_totals(ctx, fp):
    """Sum of token_usage counts per pid for fingerprint fp."""
    tot = {}
    for e in ctx.sensor.snapshot():
        if e.get("event") == "token_usage" and e.get("fingerprint") == fp:
            tot[e.get("pid")] = tot.get(e.get("pid"), 0) + e.get("count", 0)
    return tot


def fresh_copy(src, dst):
    """A new file (new inode) with src's content, executable."""
    if os.path.exists(dst):
        os.unlink(dst)
    shutil.copyfile(src, dst)
    os.chmod(dst, 0o755)


def fork_exec(path):
    """Runs path in a forked child without waiting for its exec (Popen and
    posix_spawn wait until the exec is done, which a held exec never is)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.execv(path, [path])
        finally:
            os._exit(127)
    return pid


def wait_pid(pid, timeout):
    """Exit status of pid, or None when it is still running after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.02)


def exact_counts(ctx, runs, n):
    """After the sensor stopped: every (fingerprint, pid) counted exactly n times."""
    def check():
        bad = []
        for fp, pid in runs:
            got = usage_totals(ctx, fp).get(pid, 0)
            if got != n:
                bad.append("pid %d: %d" % (pid, got))
        if bad:
            raise Fail("%d of %d runs not counted exactly %d times: %s"
                       % (len(bad), len(runs), n, ", ".join(bad)))
    return check


# ---- with --gate-exec -------------------------------------------------------------

def t_new_go_binary(ctx):
    """A static Go client copied to a new file and run at once, 20 times:
    both requests of every run counted."""
    if not ctx.go:
        raise Skip(ctx.go_err or "Go client not built")
    runs = []
    for i in range(RUNS):
        exe = os.path.join(ctx.workdir, "gonew%d" % i)
        tok, fp = base.new_token(ctx)
        fresh_copy(ctx.go[0], exe)
        c = base.run_client(ctx, [exe, "https://127.0.0.1:%d/g/go%d" % (ctx.tls.port, i), "2"],
                            {"TT_TOKEN": tok})
        runs.append((fp, c.pid))
    return exact_counts(ctx, runs, 2)


def t_new_dynamic_binary(ctx):
    """A dynamically linked client (curl) copied to a new file and run at
    once, 20 times: every request counted."""
    curl = os.path.realpath(base.CURL)
    base.need(curl, "curl")
    runs = []
    for i in range(RUNS):
        exe = os.path.join(ctx.workdir, "curlnew%d" % i)
        tok, fp = base.new_token(ctx)
        conf = base.curl_config(ctx, ['header = "Authorization: Bearer %s"' % tok])
        fresh_copy(curl, exe)
        c = base.run_client(ctx, [exe, "-sS", "-k", "--http1.1", "-o", "/dev/null", "-K", conf,
                                  "https://127.0.0.1:%d/g/curl%d" % (ctx.tls.port, i)])
        runs.append((fp, c.pid))
    return exact_counts(ctx, runs, 1)


def t_stopped_sensor(ctx):
    """The answer that makes the gate opt-in: while the sensor is stopped
    (SIGSTOP), the exec of a program already decided runs, the exec of a new
    one waits (the kernel has no deadline of its own); when the sensor is
    killed, the kernel releases it."""
    known = os.path.join(ctx.workdir, "known_true")
    fresh_copy("/bin/true", known)
    base.run_client(ctx, [known])  # decided from now on
    new = os.path.join(ctx.workdir, "new_true")
    fresh_copy("/bin/true", new)
    sensor = ctx.sensor.proc
    # whatever happens below, the sensor is killed: nothing waits for ever
    watchdog = threading.Timer(HANG_TIMEOUT, lambda: sensor.poll() is None and sensor.kill())
    watchdog.start()
    sensor.send_signal(signal.SIGSTOP)
    try:
        k = fork_exec(known)
        if wait_pid(k, HANG_TIMEOUT) != 0:
            raise Fail("the decided program did not run while the sensor was stopped")
        waiting = fork_exec(new)
        # It cannot finish while the sensor is stopped, however long we look.
        time.sleep(1)
        if wait_pid(waiting, 0) is not None:
            raise Fail("the new program ran while the sensor was stopped: the kernel "
                       "answered by itself (the gate could then be on by default)")
    finally:
        sensor.kill()
        sensor.wait(HANG_TIMEOUT)
        watchdog.cancel()
    rc = wait_pid(waiting, HANG_TIMEOUT)
    if rc is None:
        os.kill(waiting, signal.SIGKILL)
        raise Fail("the held exec was not released when the sensor was killed")
    if rc != 0:
        raise Fail("the held program exited %d after the sensor was killed" % rc)


# ---- containers: a filesystem mounted in another mount namespace ------------------

CONTAINER_RUNS = 5


def go_image(ctx, i):
    """A fresh image holding only a new copy of the static Go client."""
    ref = "localhost/tokentap-e2e-gate:%d" % i
    root = os.path.join(ctx.workdir, "goroot%d" % i)
    os.makedirs(os.path.join(root, "usr", "bin"))
    fresh_copy(ctx.go[0], os.path.join(root, "usr", "bin", "goclient"))
    tar = os.path.join(ctx.workdir, "goroot%d.tar" % i)
    subprocess.run(["tar", "-C", root, "-cf", tar, "."], check=True, timeout=60)
    p = image.podman(ctx.podman_env, "import", tar, ref)
    if p.returncode != 0:
        raise Fail("podman import: %s" % p.stderr[-300:])
    return ref


def t_container_first_requests(ctx):
    """A static Go client in a fresh container image (its own overlay root,
    mounted for the container only), two requests at once from its start,
    5 containers: both requests of every one counted, with the container id."""
    if not ctx.go:
        raise Skip(ctx.go_err or "Go client not built")
    if not os.access(image.PODMAN, os.X_OK):
        raise Skip("podman not installed")
    runs = []
    for i in range(CONTAINER_RUNS):
        ref = go_image(ctx, i)
        tok, fp = base.new_token(ctx)
        # the token reaches the container through a file, never through argv
        envf = os.path.join(ctx.workdir, "ctr%d.env" % i)
        with open(envf, "w") as f:
            f.write("TT_TOKEN=%s\n" % tok)
        cidfile = os.path.join(ctx.workdir, "ctr%d.cid" % i)
        p = image.podman(ctx.podman_env, "run", "--rm", "--network=host", "--cidfile", cidfile,
                         "--env-file", envf, ref, "/usr/bin/goclient",
                         "https://127.0.0.1:%d/c/ctr%d" % (ctx.tls.port, i), "2")
        ctx.outputs += [p.stdout.encode(), p.stderr.encode()]
        if p.returncode != 0:
            raise Fail("client in a container: %s" % p.stderr[-300:])
        with open(cidfile) as f:
            runs.append((fp, f.read().strip()))
        image.podman(ctx.podman_env, "rmi", "-f", ref, timeout=60)

    def check():
        bad = []
        for fp, cid in runs:
            evs = [e for e in ctx.sensor.snapshot()
                   if e.get("event") == "token_usage" and e.get("fingerprint") == fp]
            got = sum(e.get("count", 0) for e in evs)
            ids = sorted({str(e.get("container_id")) for e in evs})
            if got != 2 or ids != [cid]:
                bad.append("container %s: %d requests, container ids %s" % (cid[:12], got, ids))
        if bad:
            raise Fail("%d of %d containers not counted exactly twice with their id: %s"
                       % (len(bad), len(runs), "; ".join(bad)))
        st = base.last_status(ctx)
        R.say("INFO containers: gate_filesystems %s, gate_mount_namespaces %s, gate_decided %s, "
              "gate_timeouts %s" % (st.get("gate_filesystems"), st.get("gate_mount_namespaces"),
                                    st.get("gate_decided"), st.get("gate_timeouts")))
    return check


# $0: the mount point, $1: the client, $2: a fifo to wait on ("" for none);
# the rest are the client's arguments
PRIVATE_MOUNT = ('d="$0" c="$1" f="$2" && shift 2 && { [ -z "$f" ] || read x < "$f"; } && '
                 'mount -t tmpfs tmpfs "$d" && cp "$c" "$d/gc" && exec "$d/gc" "$@"')


def private_mount_client(ctx, i, fifo, tok):
    """unshare -m: a tmpfs mounted in the new namespace only (never visible
    to the sensor's), the Go client copied onto it and run from it."""
    unshare = shutil.which("unshare")
    base.need(unshare, "unshare")
    mnt = os.path.join(ctx.workdir, "priv%s%d" % ("w" if fifo else "", i))
    os.makedirs(mnt)
    cmd = [unshare, "-m", "--propagation", "private", "sh", "-c", PRIVATE_MOUNT, mnt, ctx.go[0],
           fifo, "https://127.0.0.1:%d/p/priv%d" % (ctx.tls.port, i), "2"]
    return subprocess.Popen(cmd, env=dict(os.environ, TT_TOKEN=tok), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def t_private_mount_reported(ctx):
    """The mount made at once after the namespace's first program (a race
    between that exec's notification and the mount): how many first
    requests of 20 are seen is reported, not asserted."""
    if not ctx.go:
        raise Skip(ctx.go_err or "Go client not built")
    runs = []
    for i in range(RUNS):
        tok, fp = base.new_token(ctx)
        p = private_mount_client(ctx, i, "", tok)
        out, err = p.communicate(timeout=HANG_TIMEOUT)
        ctx.outputs += [out, err]
        if p.returncode != 0:
            raise Fail("client exited %d: %s" % (p.returncode, err[-300:]))
        runs.append((fp, p.pid))

    def report():
        seen = sum(1 for fp, pid in runs if usage_totals(ctx, fp).get(pid, 0) == 2)
        R.say("INFO private tmpfs mounted at once in a new mount namespace: %d of %d runs "
              "with both requests seen" % (seen, len(runs)))
    return report


def t_private_mount_watched(ctx):
    """The namespace watched first (its shell ran, the sensor counted one
    more namespace), then the tmpfs mounted in it and the client run from
    it at once, 5 times: the mount notification marks the tmpfs before the
    client's exec, both requests of every run counted."""
    if not ctx.go:
        raise Skip(ctx.go_err or "Go client not built")
    runs = []
    for i in range(5):
        tok, fp = base.new_token(ctx)
        fifo = os.path.join(ctx.workdir, "go%d.fifo" % i)
        os.mkfifo(fifo)
        before = base.last_status(ctx).get("gate_mount_namespaces", 0)
        start = len(ctx.sensor.snapshot())
        p = private_mount_client(ctx, i, fifo, tok)
        try:
            if not base.status_after(ctx, start, lambda e: e.get("gate_mount_namespaces", 0) > before):
                raise Fail("the new mount namespace was not watched")
        finally:
            with open(fifo, "w") as f:
                f.write("go\n")
        out, err = p.communicate(timeout=HANG_TIMEOUT)
        ctx.outputs += [out, err]
        if p.returncode != 0:
            raise Fail("client exited %d: %s" % (p.returncode, err[-300:]))
        runs.append((fp, p.pid))
    return exact_counts(ctx, runs, 2)


# ---- the test build: an analysis that stalls -------------------------------------------

def t_gate_timeout(ctx):
    """The analysis stalls (test hook): new programs still run, allowed at
    the deadline, and counted in gate_timeouts."""
    runs = 3
    for i in range(runs):
        exe = os.path.join(ctx.workdir, "stall_true%d" % i)
        fresh_copy("/bin/true", exe)
        pid = fork_exec(exe)
        rc = wait_pid(pid, HANG_TIMEOUT)
        if rc is None:
            os.kill(pid, signal.SIGKILL)
            raise Fail("the exec was held past every deadline")
        if rc != 0:
            raise Fail("the new program exited %d" % rc)
    st = base.status_after(ctx, 0, lambda e: e.get("gate_timeouts", 0) >= runs)
    if not st:
        raise Fail("gate_timeouts: expected >= %d, got %s" % (runs, base.last_status(ctx).get("gate_timeouts")))


# ---- new TLS libraries -------------------------------------------------------------------

def mountns_curl_runs(ctx, tag):
    """Twenty curl runs, each in a new mount namespace whose libssl path holds
    a new copy of the library, each sending at once. Returns (fp, pid) pairs."""
    base.need(LIBSSL, "libssl.so.3")
    unshare = shutil.which("unshare")
    base.need(unshare, "unshare")
    runs = []
    for i in range(RUNS):
        copy = os.path.join(ctx.workdir, "libssl-%s-%d.so.3" % (tag, i))
        tok, fp = base.new_token(ctx)
        conf = base.curl_config(ctx, ['header = "Authorization: Bearer %s"' % tok])
        shutil.copyfile(LIBSSL, copy)
        script = 'mount --bind "$0" %s && exec "$@"' % LIBSSL
        c = base.run_client(ctx, [unshare, "-m", "--propagation", "private", "sh", "-c", script, copy,
                                  base.CURL, "-sS", "-k", "--http1.1", "-o", "/dev/null", "-K", conf,
                                  "https://127.0.0.1:%d/l/%s%d" % (ctx.tls.port, tag, i)])
        runs.append((fp, c.pid))
    return runs


def t_library_copy_reported(ctx):
    """Without --hold-unknown-tls: how many first requests of 20 are seen is
    reported, not asserted (it is a race against the client)."""
    runs = mountns_curl_runs(ctx, "race")

    def report():
        seen = sum(1 for fp, pid in runs if usage_totals(ctx, fp).get(pid, 0) >= 1)
        R.say("INFO library copy in a new mount namespace, no hold: %d of %d first requests seen"
              % (seen, len(runs)))
    return report


def t_library_copy_held(ctx):
    """With --hold-unknown-tls: every first request of 20 seen, exactly once."""
    return exact_counts(ctx, mountns_curl_runs(ctx, "held"), 1)


GROUPS = [
    ("gate", ["--gate-exec"], None, None, [
        ("new_static_go_binary_first_requests", t_new_go_binary),
        ("new_dynamic_binary_first_requests", t_new_dynamic_binary),
    ]),
    ("gate-container", ["--gate-exec"], None, None, [
        ("container_fresh_image_first_requests", t_container_first_requests),
        ("private_mount_watched_namespace", t_private_mount_watched),
        ("private_mount_at_once_reported", t_private_mount_reported),
    ]),
    # alone: it kills the sensor
    ("gate-stopped", ["--gate-exec"], None, None, [
        ("stopped_sensor_holds_new_execs_until_killed", t_stopped_sensor),
    ]),
    ("gate-stall", ["--gate-exec", "--gate-timeout-ms", "50"], hooks_bin,
     {"TOKENTAP_TEST_GATE_STALL_MS": "3000"}, [
        ("timeout_lets_execs_through", t_gate_timeout),
    ]),
    ("library", [], None, None, [
        ("mount_namespace_copy_no_hold", t_library_copy_reported),
    ]),
    ("library-hold", ["--hold-unknown-tls"], None, None, [
        ("mount_namespace_copy_held", t_library_copy_held),
    ]),
]


def run_group(name, args, binary_fn, env_extra, scenarios):
    full = ["%s/%s" % (name, n) for n, _ in scenarios] + ["%s/no_secret_in_outputs" % name]
    binary = binary_fn() if binary_fn else base.sensor_bin()

    if not base.preflight(full, binary=binary, build_hint="make all build/tokentap-test-hooks"):
        return
    workdir = tempfile.mkdtemp(prefix="tokentap-e2e-gate-")
    ctx = base.Ctx(workdir)
    try:
        base.make_cert(workdir)
        ctx.tls = base.Server(workdir, "tls", True)
        if name in ("gate", "gate-container"):
            base.build_go_clients(ctx)
        if name == "gate-container":
            ctx.podman_env = image.podman_env(workdir)
            image.hugetlb_v1()
        env = dict(os.environ, **(env_extra or {}))
        ctx.sensor = base.Sensor(workdir, ctx.key_path, extra=args, binary=binary, env=env)
        why = ctx.sensor.wait_ready()
        if why:
            ctx.sensor.stop()
            base.skip_or_fail_all(full, why)
            return
        after = []
        for n, fn in scenarios:
            try:
                post = fn(ctx)
                if post:
                    after.append(("%s/%s" % (name, n), post))
                else:
                    R.record("%s/%s" % (name, n), "PASS")
            except Skip as e:
                R.record("%s/%s" % (name, n), "SKIP", str(e))
            except Fail as e:
                R.record("%s/%s" % (name, n), "FAIL", str(e))
            except Exception as e:
                R.record("%s/%s" % (name, n), "FAIL", "%s: %s" % (type(e).__name__, e))
        # a flush interval, so every count is out before the stop
        time.sleep(1.2)
        ctx.sensor.stop()
        for n, post in after:
            try:
                post()
                R.record(n, "PASS")
            except Fail as e:
                R.record(n, "FAIL", str(e))
        hits = base.secret_hits(ctx)
        R.record("%s/no_secret_in_outputs" % name, "FAIL" if hits else "PASS", "; ".join(hits))
    except Fail as e:
        R.record("%s/setup" % name, "FAIL", str(e))
    finally:
        if ctx.sensor:
            if ctx.sensor.proc.poll() is None:
                ctx.sensor.proc.send_signal(signal.SIGCONT)
            ctx.sensor.stop()
        if ctx.tls:
            ctx.tls.close()
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    def on_signal(sig, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    only = os.environ.get("TOKENTAP_GATE_ONLY")
    try:
        for g in GROUPS:
            if not only or g[0] in only.split(","):
                run_group(*g)
    except KeyboardInterrupt:
        R.record("interrupted", "FAIL")
    finally:
        base.kill_children()
    print("e2e-gate: %d passed, %d failed, %d skipped" % (R.passed, R.failed, R.skipped), flush=True)
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
