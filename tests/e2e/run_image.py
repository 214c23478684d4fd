#!/usr/bin/env python3
"""End-to-end tests of the container image (make image): the sensor run from
it with podman and the host mounts the Helm chart gives it, capturing what
curl on the host sends.

Run as root from anywhere:  python3 tests/e2e/run_image.py
  TOKENTAP_IMAGE=ref        image to test (default: built now, localhost/tokentap:VERSION)
  TOKENTAP_REQUIRE_BPF=1    a missing requirement (root, podman, BPF) is a failure

podman needs two things on these machines, set up here: a containers.conf
without default ulimits (the VM forbids raising RLIMIT_NPROC/NOFILE), and
the hugetlb controller on its own cgroup v1 hierarchy (crun refuses a hybrid
host while a controller sits on cgroup2), with --cgroup-manager=cgroupfs.

Prints one PASS/FAIL/SKIP line per test and ends with
"e2e-image: N passed, M failed, K skipped"; exits non-zero when anything failed.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as e2e  # noqa: E402  (helpers of the sensor runner)
from run import CURL, REPO, Fail, Skip  # noqa: E402

R = e2e.R
PODMAN = shutil.which("podman") or "/usr/bin/podman"
LEAST = ["BPF", "PERFMON", "SYS_PTRACE", "DAC_READ_SEARCH"]
# the sensor's host mounts, as deploy/helm/tokentap/templates/sensor-daemonset.yaml
HOST_MOUNTS = ["/sys/kernel/tracing:/sys/kernel/tracing", "/sys/kernel/debug:/sys/kernel/debug",
               "/sys/fs/bpf:/sys/fs/bpf", "/sys/kernel/btf:/sys/kernel/btf:ro"]


def version():
    with open(os.path.join(REPO, "Makefile")) as f:
        m = re.search(r"^VERSION\s*:=\s*(\S+)", f.read(), re.M)
    return m.group(1) if m else "0"


def podman_env(workdir):
    conf = os.path.join(workdir, "containers.conf")
    with open(conf, "w") as f:
        f.write("[containers]\ndefault_ulimits = []\n")
    return dict(os.environ, CONTAINERS_CONF=conf)


def hugetlb_v1():
    """crun wants no controller left on cgroup2 of a hybrid host."""
    path = "/sys/fs/cgroup/hugetlb"
    if not os.path.isdir("/sys/fs/cgroup/unified") or os.path.ismount(path):
        return
    os.makedirs(path, exist_ok=True)
    subprocess.run(["mount", "-t", "cgroup", "-o", "hugetlb", "cgroup", path],
                   capture_output=True, timeout=10)


def podman(env, *args, timeout=120):
    return subprocess.run([PODMAN, "--cgroup-manager=cgroupfs"] + list(args), env=env,
                          capture_output=True, text=True, timeout=timeout)


def run_prefix(ctx, name, security):
    """podman run of the image's sensor, host PID namespace and network, the chart's mounts."""
    cmd = [PODMAN, "--cgroup-manager=cgroupfs", "run", "--rm", "--name", name, "--pid=host",
           # no entrypoint: the runner's command starts with /usr/bin/tokentap
           "--network=host", "--entrypoint=",
           # the work directory at the same path: key, state and outputs
           "-v", "%s:%s" % (ctx.workdir, ctx.workdir)] + security
    for m in HOST_MOUNTS:
        cmd += ["-v", m]
    return cmd + [ctx.image]


def with_sensor(ctx, name, security, body):
    sensor = e2e.Sensor(ctx.workdir, ctx.key_path, prefix=run_prefix(ctx, name, security),
                        extra=["--no-held-scan"])
    ctx.sensor = sensor
    try:
        why = sensor.wait_ready()
        if why:
            raise Fail(why)
        body(sensor)
    finally:
        sensor.stop()
        podman(ctx.env, "rm", "-f", name, timeout=60)
        ctx.outputs += [b"".join(sensor.out_raw), b"".join(sensor.err_raw)]


def curl_token(ctx, url, tls):
    tok, fp = e2e.new_token(ctx, "ghp")
    conf = e2e.curl_config(ctx, ['header = "Authorization: Bearer %s"' % tok])
    cmd = [CURL, "-sS", "--http1.1", "-o", "/dev/null", "-K", conf, url]
    if tls:
        cmd.insert(1, "-k")
    c = e2e.run_client(ctx, cmd)
    ev = e2e.seen_for(ctx, fp, c.pid)[0]
    e2e.check_fields(ev, {"pid": c.pid, "tls": tls, "exe": os.path.realpath(CURL)})
    return ev


def captures(ctx):
    def body(sensor):
        curl_token(ctx, "https://127.0.0.1:%d/image/tls" % ctx.tls.port, True)
        curl_token(ctx, "http://127.0.0.1:%d/image/plain" % ctx.plain.port, False)
    return body


def t_privileged(ctx):
    with_sensor(ctx, "tokentap-e2e-priv", ["--privileged"], captures(ctx))


def t_least_privilege(ctx):
    sec = ["--cap-drop=all", "--security-opt", "seccomp=unconfined"]
    for c in LEAST:
        sec += ["--cap-add", c]
    with_sensor(ctx, "tokentap-e2e-least", sec, captures(ctx))


def curl_image(ctx):
    """An image holding only curl and the libraries it loads, built like ours."""
    ref = "localhost/tokentap-e2e-curl:1"
    root = os.path.join(ctx.workdir, "curlroot")
    os.makedirs(os.path.join(root, "usr/bin"))
    os.makedirs(os.path.join(root, "etc/ssl/certs"))
    shutil.copy(os.path.realpath(CURL), os.path.join(root, "usr/bin/curl"))
    out = subprocess.run(["ldd", CURL], capture_output=True, text=True, timeout=30).stdout
    libs = re.findall(r"=> (/\S+)", out) + re.findall(r"^\s+(/\S+ld-linux\S*)", out, re.M)
    for lib in libs:
        dst = os.path.join(root, "usr" + lib if not lib.startswith("/usr/") else lib[1:])
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy(os.path.realpath(lib), dst)
    for d in ("lib", "lib64"):
        os.symlink("usr/" + d, os.path.join(root, d))
    tar = os.path.join(ctx.workdir, "curl.tar")
    subprocess.run(["tar", "-C", root, "-cf", tar, "."], check=True, timeout=60)
    p = podman(ctx.env, "import", tar, ref)
    if p.returncode != 0:
        raise Fail("podman import: %s" % p.stderr[-300:])
    return ref


STORAGE = "/var/lib/containers/storage"


def t_container_identity(ctx):
    """curl in a container: its container id, its image, and its path inside the container."""
    ref = curl_image(ctx)

    def body(sensor):
        tok, fp = e2e.new_token(ctx, "ghp")
        conf = e2e.curl_config(ctx, ['header = "Authorization: Bearer %s"' % tok])
        cidfile = os.path.join(ctx.workdir, "curl.cid")
        p = podman(ctx.env, "run", "--rm", "--network=host", "--cidfile", cidfile,
                   "-v", "%s:%s" % (ctx.workdir, ctx.workdir), ref, "/usr/bin/curl", "-sS",
                   "-o", "/dev/null", "-K", conf,
                   "http://127.0.0.1:%d/image/container" % ctx.plain.port)
        ctx.outputs += [p.stdout.encode(), p.stderr.encode()]
        if p.returncode != 0:
            raise Fail("curl in a container: %s" % p.stderr[-300:])
        with open(cidfile) as f:
            cid = f.read().strip()
        evs = sensor.wait_for(lambda e: e.get("event") == "token_seen" and e.get("fingerprint") == fp)
        if not evs:
            raise Fail("no token_seen from the container's curl")
        # the image comes from podman's container store, mounted read-only
        e2e.check_fields(evs[0], {"exe": "/usr/bin/curl", "container_id": cid, "tls": False,
                                  "image": ref})
    with_sensor(ctx, "tokentap-e2e-ctr", ["--privileged", "-v", "%s:%s:ro" % (STORAGE, STORAGE)], body)


def t_collector(ctx):
    """The image's collector serves, configured only through TOKENTAP_<FLAG>."""
    port = e2e.free_port()
    name = "tokentap-e2e-collector"
    p = subprocess.Popen(
        [PODMAN, "--cgroup-manager=cgroupfs", "run", "--rm", "--name", name, "--network=host",
         "--user", "65532:65532", "--read-only", "--tmpfs", "/var/lib/tokentap-collector:rw,mode=1777",
         "--entrypoint", "/usr/bin/tokentap-collector",
         "-e", "TOKENTAP_LISTEN=127.0.0.1:%d" % port, "-e", "TOKENTAP_INSECURE_NO_AUTH=1",
         "-e", "TOKENTAP_DB=/var/lib/tokentap-collector/c.db", ctx.image, "serve"],
        env=ctx.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if p.poll() is not None or time.monotonic() > deadline:
                raise Fail("collector not answering /healthz: %s" % p.stderr.read()[-300:])
            time.sleep(0.2)
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
            if b"# TYPE tokentap_collector_batches_total counter" not in r.read():
                raise Fail("no collector metrics")
    finally:
        podman(ctx.env, "stop", "-t", "5", name, timeout=60)
        try:
            p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()


TESTS = [("image/privileged_sensor_captures_host_curl", t_privileged),
         ("image/least_privilege_sensor_captures_host_curl", t_least_privilege),
         ("image/container_process_identity", t_container_identity),
         ("image/collector_serves_from_env", t_collector)]


def main():
    def on_signal(sig, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    names = [n for n, _ in TESTS] + ["image/no_secret_in_outputs"]
    if not e2e.preflight(names, needs=[(PODMAN, "podman not installed"), (CURL, "curl not installed")]):
        print("e2e-image: %d passed, %d failed, %d skipped" % (R.passed, R.failed, R.skipped))
        return 1 if R.failed else 0
    workdir = tempfile.mkdtemp(prefix="tokentap-image-")
    os.chmod(workdir, 0o755)
    ctx = e2e.Ctx(workdir)
    ctx.env = podman_env(workdir)
    os.environ["CONTAINERS_CONF"] = ctx.env["CONTAINERS_CONF"]
    # inside the image, the sensor is /usr/bin/tokentap
    os.environ["TOKENTAP_BIN"] = "/usr/bin/tokentap"
    try:
        hugetlb_v1()
        ctx.image = os.environ.get("TOKENTAP_IMAGE") or "localhost/tokentap:%s" % version()
        if not os.environ.get("TOKENTAP_IMAGE"):
            b = subprocess.run([os.path.join(REPO, "scripts", "build-image.sh"), version()],
                               cwd=REPO, env=ctx.env, capture_output=True, text=True, timeout=600)
            if b.returncode != 0:
                raise Fail("image build: %s" % (b.stderr or b.stdout)[-400:])
        e2e.make_cert(workdir)
        ctx.tls = e2e.Server(workdir, "tls", True)
        ctx.plain = e2e.Server(workdir, "plain", False)
        e2e.run_tests(ctx, TESTS, e2e.bpf_missing_status())
        e2e.record_secret_search(ctx, names[-1])
    except KeyboardInterrupt:
        R.record("interrupted", "FAIL")
    except Fail as e:
        R.record("image/setup", "FAIL", str(e))
    finally:
        for s in (ctx.tls, ctx.plain):
            if s:
                s.close()
        e2e.kill_children()
        shutil.rmtree(workdir, ignore_errors=True)
    print("e2e-image: %d passed, %d failed, %d skipped" % (R.passed, R.failed, R.skipped), flush=True)
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
