#!/usr/bin/env python3
"""End-to-end tests of the pod watcher: the real sensor loaded, a fake
Kubernetes API server on loopback (HTTPS, its own CA given with
--kube-ca-file), real curl processes put into cgroups named as kubelet
names them, and the real collector.

Run as root from anywhere:  python3 tests/e2e/run_kube.py
  TOKENTAP_BIN=path            sensor binary (default build/tokentap)
  TOKENTAP_COLLECTOR_BIN=path  collector binary (default build/tokentap-collector)
  TOKENTAP_REQUIRE_BPF=1       a sensor that cannot load is a failure, not a skip

Covers: the list and the names on events (JSON lines and the collector's
views), a pod added by the watch, a first sighting held until its pod is
known, a pod never known (pod UID alone, names filled in at the collector
later), a "pod restart" (new UID, same Deployment: same workload), a watch
that breaks, 410 Gone, a 401 after a token rotation, an API outage while
events keep arriving, the status counters, and a search of every output
for the raw credentials (the API token among them).

Prints one PASS/FAIL/SKIP line per test and ends with
"e2e-kube: N passed, M failed, K skipped"; exits non-zero on failure.
"""
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_kube_api as fk  # noqa: E402
import run as e2e  # noqa: E402
import run_collector as rc  # noqa: E402
from run import CURL, Fail, Skip  # noqa: E402

R = e2e.R
NODE = "kube-e2e-node"
NS = "payments"
WAIT = 15           # an event, a relist or a row; generous on a loaded machine


def cgroup2_root():
    """Where cgroup v2 is mounted: /sys/fs/cgroup, or .../unified on a hybrid host."""
    with open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            if len(parts) > 2 and parts[2] == "cgroup2":
                return parts[1]
    return None


def cid():
    return secrets.token_hex(32)


class Pod:
    """A pod of the fake API and the cgroups kubelet would make for its containers."""

    def __init__(self, name, owner=None, template_hash=None, containers=(("server", "registry.example/api:1.4"),)):
        self.uid = str(uuid.uuid4())
        self.name = name
        self.containers = [(n, img, cid()) for n, img in containers]
        self.obj = fk.pod(self.uid, name, NS, NODE, self.containers, owner, template_hash, sa="api-sa")

    def cgroup(self, ctx, i=0):
        rel = ("kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod%s.slice/"
               "cri-containerd-%s.scope" % (self.uid.replace("-", "_"), self.containers[i][2]))
        path = os.path.join(ctx.cg_root, rel)
        os.makedirs(path, exist_ok=True)
        ctx.cgroups.append(path)
        return path


class Ctx(rc.Ctx):
    def __init__(self, workdir):
        super().__init__(workdir)
        self.cg_root = cgroup2_root()
        self.cgroups = []
        self.api = None
        self.sensor = None
        self.coll = None
        self.tls = None
        self.api_token = "kt" + secrets.token_urlsafe(30)
        self.tokens.append(("API token", self.api_token))
        self.api_token_path = self.secret_file("kube-token", (self.api_token + "\n").encode())


def make_ca(ctx):
    """A CA and a server certificate for 127.0.0.1 signed by it."""
    d = ctx.workdir
    run = lambda args: subprocess.run(["openssl"] + args, capture_output=True, timeout=60, check=True)
    run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=tokentap e2e kube CA",
         "-keyout", d + "/ca.key", "-out", d + "/ca.crt"])
    run(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", d + "/api.key",
         "-out", d + "/api.csr"])
    with open(d + "/api.ext", "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    run(["x509", "-req", "-in", d + "/api.csr", "-CA", d + "/ca.crt", "-CAkey", d + "/ca.key",
         "-CAcreateserial", "-days", "1", "-extfile", d + "/api.ext", "-out", d + "/api.crt"])


def curl_in(ctx, pod, i=0):
    """curl with a fresh token from inside pod's container i: (client, fingerprint)."""
    tok, fp = ctx.new_token("ghp")
    conf = ctx.curl_config(['header = "Authorization: Bearer %s"' % tok])
    cg = pod.cgroup(ctx, i)
    # the shell joins the container's cgroup, then becomes curl: the exec is seen there
    script = 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"'
    c = e2e.Client(["/bin/sh", "-c", script, "sh", cg, CURL, "-sS", "-k", "--http1.1", "-o", "/dev/null",
                    "-K", conf, "https://127.0.0.1:%d/kube/x" % ctx.tls.port])
    c.finish(ctx)
    return c, fp


def seen(ctx, fp, pid, timeout=WAIT):
    evs = ctx.sensor.wait_for(lambda e: e.get("event") == "token_seen" and e.get("fingerprint") == fp
                              and e.get("pid") == pid, timeout)
    if not evs:
        raise Fail("no token_seen for %s from pid %d" % (fp, pid))
    return evs[0]


def names_of(pod, i=0, kind="Deployment", workload="api"):
    n, img, _ = pod.containers[i]
    return {"pod": pod.name, "pod_uid": pod.uid, "k8s_namespace": NS, "container": n, "image": img,
            "workload_kind": kind, "workload_name": workload, "service_account": "api-sa"}


def check(ev, want):
    bad = ["%s: expected %r, got %r" % (k, v, ev.get(k)) for k, v in want.items() if ev.get(k) != v]
    if bad:
        raise Fail("; ".join(bad))


def process_of(ctx, fp, pid, pred=lambda p: True, timeout=WAIT):
    """The collector's row for pid in the token view, once pred holds."""
    def got():
        d = rc.token_doc(ctx, ctx.coll, fp)
        for p in (d or {}).get("processes", []):
            if p.get("pid") == pid and pred(p):
                return p
        return None
    p = rc.wait_until(got, timeout, 0.2)
    if not p:
        d = rc.token_doc(ctx, ctx.coll, fp)
        raise Fail("collector: no matching process %d for %s: %r" % (pid, fp, (d or {}).get("processes")))
    ctx.outputs.append(("token view", repr(p).encode()))
    return p


def wait_for(pred, what, timeout=WAIT):
    if not rc.wait_until(pred, timeout, 0.1):
        raise Fail("timed out waiting for " + what)


# ---- the tests -------------------------------------------------------------------

def t_list(ctx):
    """A pod listed at start: every name on the event and in the collector."""
    p = ctx.pods["api1"]
    c, fp = curl_in(ctx, p)
    ev = seen(ctx, fp, c.pid)
    check(ev, names_of(p))
    if not any(k == "list" and s == 200 for k, s, _ in ctx.api.snapshot()):
        raise Fail("the sensor never listed the pods")
    w = [q for k, s, q in ctx.api.snapshot() if k == "watch" and s == 200]
    if not w or w[0].get("allowWatchBookmarks") != "true" or not w[0].get("resourceVersion"):
        raise Fail("no watch with bookmarks from the list's resourceVersion: %r" % w[:1])
    row = process_of(ctx, fp, c.pid, lambda r: r.get("pod"))
    check(row, names_of(p))
    out = rc.cli(ctx, ["token", fp, "--url", ctx.coll.url]).stdout.decode(errors="replace")
    if "workload %s/Deployment/api  pod %s  container server" % (NS, p.name) not in out:
        raise Fail("CLI token view without the workload line:\n" + out[-600:])


def t_watch_added(ctx):
    """A pod created after the list arrives by the watch."""
    p = Pod("worker-0", owner=("StatefulSet", "worker"), containers=(("w", "registry.example/worker:2"),))
    ctx.api.add(p.obj)
    time.sleep(0.5)
    c, fp = curl_in(ctx, p)
    check(seen(ctx, fp, c.pid), names_of(p, kind="StatefulSet", workload="worker"))


def t_held_until_known(ctx):
    """A process whose pod the watcher learns a moment later: its event waits for the names."""
    p = Pod("nightly-28012345-abcde", owner=("Job", "nightly-28012345"),
            containers=(("job", "registry.example/backup:7"),))
    c, fp = curl_in(ctx, p)
    ctx.api.add(p.obj)
    check(seen(ctx, fp, c.pid), names_of(p, kind="CronJob", workload="nightly"))


def t_unknown_then_enriched(ctx):
    """A pod unknown for longer than the hold: sent with the pod UID alone; the
    collector fills the names in when another process of the pod brings them."""
    p = Pod("api-5c6d7e8f9-qqqqq", owner=("ReplicaSet", "api-5c6d7e8f9"), template_hash="5c6d7e8f9")
    c, fp = curl_in(ctx, p)
    ev = seen(ctx, fp, c.pid)
    check(ev, {"pod_uid": p.uid})
    if "pod" in ev or "workload_name" in ev:
        raise Fail("names on the event of a pod nobody knows: %r" % ev)
    row = process_of(ctx, fp, c.pid)
    if row.get("pod"):
        raise Fail("collector row named before the pod was known")
    ctx.api.add(p.obj)
    time.sleep(0.5)
    c2, fp2 = curl_in(ctx, p)
    check(seen(ctx, fp2, c2.pid), names_of(p))
    # the first process's row gains the names the second one brought
    check(process_of(ctx, fp, c.pid, lambda r: r.get("pod")), names_of(p))


def t_held_token_named(ctx):
    """A token in the environment of a process in a pod: token_held names the pod."""
    p = ctx.pods["steady"]
    tok, fp = ctx.new_token("ghp")
    script = 'echo $$ > "$1/cgroup.procs" && exec /bin/sleep 2'
    c = e2e.Client(["/bin/sh", "-c", script, "sh", p.cgroup(ctx)], env={"GH_TOKEN": tok})
    try:
        # the shell, before it joins the pod's cgroup, holds it too: sleep's is the one
        evs = ctx.sensor.wait_for(lambda e: e.get("event") == "token_held" and e.get("fingerprint") == fp
                                  and e.get("pid") == c.pid and e.get("exe", "").endswith("/sleep"), WAIT)
    finally:
        c.finish(ctx)
    if not evs:
        raise Fail("no token_held for the token in the environment")
    check(evs[0], names_of(p, kind="Pod", workload="steady"))


def t_restart_same_workload(ctx):
    """A restarted pod (new UID, new ReplicaSet hash, same Deployment): same workload."""
    old = ctx.pods["api1"]
    ctx.api.delete(old.uid)
    new = Pod("api-9f8e7d6c5-zzzzz", owner=("ReplicaSet", "api-9f8e7d6c5"), template_hash="9f8e7d6c5")
    ctx.api.add(new.obj)
    time.sleep(0.5)
    tok, fp = ctx.new_token("ghp")
    conf = ctx.curl_config(['header = "Authorization: Bearer %s"' % tok])
    pids = []
    for p in (old, new):  # the old pod is deleted but kept a while for late events
        script = 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"'
        c = e2e.Client(["/bin/sh", "-c", script, "sh", p.cgroup(ctx), CURL, "-sS", "-k", "--http1.1",
                        "-o", "/dev/null", "-K", conf, "https://127.0.0.1:%d/kube/r" % ctx.tls.port])
        c.finish(ctx)
        pids.append(c.pid)
        check(seen(ctx, fp, c.pid), names_of(p))
    rows = [process_of(ctx, fp, pid, lambda r: r.get("pod")) for pid in pids]
    wl = {(r.get("k8s_namespace"), r.get("workload_kind"), r.get("workload_name"), r.get("container"))
          for r in rows}
    if len(wl) != 1 or len({r.get("pod_uid") for r in rows}) != 2:
        raise Fail("two pods of one Deployment are not one workload: %r" % wl)
    want = "k8s:%s/Deployment/api:%s" % (NS, old.containers[0][0])
    if {r.get("workload") for r in rows} != {want}:
        raise Fail("process workloads: expected %s, got %r" % (want, [r.get("workload") for r in rows]))

    # the console chart's split: both pods' requests under the one workload
    def split():
        d = rc.token_doc(ctx, ctx.coll, fp) or {}
        per = {}
        for u in d.get("usage_split", []):
            per[u.get("workload")] = per.get(u.get("workload"), 0) + u.get("count", 0)
        return per if sum(per.values()) >= 2 else None
    per = rc.wait_until(split, WAIT, 0.2)
    if per != {want: 2}:
        raise Fail("usage_split by workload: expected {%s: 2}, got %r" % (want, per or split()))


def t_watch_break(ctx):
    """A watch cut mid-stream: the sensor lists again and learns what it missed."""
    lists = ctx.api.count("list", 200)
    ctx.api.break_watches()
    p = Pod("web-1", owner=None, containers=(("web", "nginx:1.27"),))
    ctx.api.add(p.obj)
    wait_for(lambda: ctx.api.count("list", 200) > lists, "a list after the broken watch")
    time.sleep(0.5)
    c, fp = curl_in(ctx, p)
    check(seen(ctx, fp, c.pid), names_of(p, kind="Pod", workload="web-1"))


def t_gone_410(ctx):
    """A watch resumed from an expired resourceVersion gets 410: the sensor lists again."""
    lists = ctx.api.count("list", 200)
    p = Pod("agent-x1", owner=("DaemonSet", "agent"), containers=(("agent", "registry.example/agent:3"),))
    ctx.api.add(p.obj)
    ctx.api.expire()
    ctx.api.end_watches()  # a normal end: the sensor resumes from its last version...
    wait_for(lambda: ctx.api.count("list", 200) > lists, "a list after 410")  # ...gets 410, lists
    if not ctx.api.gone:
        raise Fail("the sensor listed again without resuming into a 410")
    resumed = [q for k, s, q in ctx.api.snapshot() if k == "watch" and s == 200]
    if len(resumed) < 2:
        raise Fail("the watch was not resumed after its normal end")
    time.sleep(0.5)
    c, fp = curl_in(ctx, p)
    check(seen(ctx, fp, c.pid), names_of(p, kind="DaemonSet", workload="agent"))


def t_token_rotation(ctx):
    """The API token rotates: the old one gets 401, the sensor reads the file again."""
    new = "kt" + secrets.token_urlsafe(30)
    ctx.tokens.append(("rotated API token", new))
    tmp = ctx.api_token_path + ".new"
    with open(tmp, "w") as f:
        f.write(new + "\n")
    os.replace(tmp, ctx.api_token_path)  # as kubelet's atomic writer does
    ctx.api.rotate(new)
    ok_before = ctx.api.count("watch", 200) + ctx.api.count("list", 200)
    ctx.api.end_watches()
    wait_for(lambda: ctx.api.count("watch", 401) + ctx.api.count("list", 401) > 0, "a 401")
    wait_for(lambda: ctx.api.count("watch", 200) + ctx.api.count("list", 200) > ok_before,
             "a request accepted with the new token")
    p = Pod("rotated-pod", containers=(("c", "busybox:1.36"),))
    ctx.api.add(p.obj)
    time.sleep(0.5)
    c, fp = curl_in(ctx, p)
    check(seen(ctx, fp, c.pid), names_of(p, kind="Pod", workload="rotated-pod"))


def t_outage(ctx):
    """The API server goes away: events keep their names from the cache; the
    sensor backs off, and catches up once the server is back."""
    p = ctx.pods["steady"]
    ctx.api.down()
    try:
        time.sleep(1.0)
        c, fp = curl_in(ctx, p)
        check(seen(ctx, fp, c.pid), names_of(p, kind="Pod", workload="steady"))
        time.sleep(2.0)  # a few failed attempts
    finally:
        ctx.api.up()
    late = Pod("after-outage", containers=(("c", "alpine:3.20"),))
    ctx.api.add(late.obj)
    lists = ctx.api.count("list", 200)
    # the backoff is at most 30 s
    wait_for(lambda: ctx.api.count("list", 200) > lists, "a list after the outage", 45)
    time.sleep(0.5)
    c, fp = curl_in(ctx, late)
    check(seen(ctx, fp, c.pid), names_of(late, kind="Pod", workload="after-outage"))


def t_status(ctx):
    """sensor_status reports the pod cache and the API errors."""
    def st():
        evs = [e for e in ctx.sensor.snapshot() if e.get("event") == "sensor_status"]
        return evs[-1] if evs else None
    wait_for(lambda: st() and st().get("kube_api_errors", 0) >= 2, "kube_api_errors >= 2 in sensor_status")
    s = st()
    if s.get("pods_cached", 0) < 5:
        raise Fail("pods_cached %r, expected the pods of the test" % s.get("pods_cached"))


TESTS = [
    ("kube/list", t_list),
    ("kube/watch_added", t_watch_added),
    ("kube/held_until_known", t_held_until_known),
    ("kube/unknown_then_enriched", t_unknown_then_enriched),
    ("kube/held_token_named", t_held_token_named),
    ("kube/restart_same_workload", t_restart_same_workload),
    ("kube/watch_break", t_watch_break),
    ("kube/gone_410", t_gone_410),
    ("kube/token_rotation", t_token_rotation),
    ("kube/outage", t_outage),
    ("kube/status", t_status),
]


def setup(ctx):
    make_ca(ctx)
    e2e.make_cert(ctx.workdir)
    ctx.tls = e2e.Server(ctx.workdir, "tls", True)
    ctx.api = fk.FakeApi(ctx.workdir + "/api.crt", ctx.workdir + "/api.key", NODE, ctx.api_token)
    ctx.pods = {
        "api1": Pod("api-7d4b9c8f6-x2x9z", owner=("ReplicaSet", "api-7d4b9c8f6"), template_hash="7d4b9c8f6"),
        "steady": Pod("steady", containers=(("c", "registry.example/steady:1"),)),
    }
    for p in ctx.pods.values():
        ctx.api.add(p.obj)
    # a pod of another node: the field selector keeps it out
    other = fk.pod(str(uuid.uuid4()), "elsewhere", NS, "other-node", [("c", "x", cid())])
    ctx.api.add(other)
    ctx.coll = rc.Collector(ctx, "collector")
    ctx.coll.start()
    ctx.sensor = e2e.Sensor(ctx.workdir, ctx.key_path, extra=[
        "--collector", ctx.coll.url, "--collector-token-file", ctx.token_path,
        "--node", NODE, "--kube-api", "https://127.0.0.1:%d" % ctx.api.port,
        "--kube-token-file", ctx.api_token_path, "--kube-ca-file", ctx.workdir + "/ca.crt"])
    why = ctx.sensor.wait_ready()
    if why:
        raise Skip(why)
    wait_for(lambda: ctx.api.count("watch", 200) > 0, "the first watch")


def cleanup(ctx):
    if ctx.sensor:
        ctx.sensor.stop()
        with ctx.sensor.lock:
            ctx.outputs += [b"".join(ctx.sensor.out_raw), b"".join(ctx.sensor.err_raw)]
    if ctx.coll:
        ctx.coll.stop()
        ctx.outputs.append(("collector log", rc.read_file(ctx.coll.err_path)))
    if ctx.tls:
        ctx.tls.close()
    if ctx.api:
        try:
            ctx.api.down()
        except Exception:
            pass
    # deepest first; a cgroup with a process left cannot go, and says so
    dirs = set()
    for path in ctx.cgroups:
        while path.startswith(ctx.cg_root + "/kubepods.slice"):
            dirs.add(path)
            path = os.path.dirname(path)
    for d in sorted(dirs, key=len, reverse=True):
        try:
            os.rmdir(d)
        except FileNotFoundError:
            pass
        except OSError as e:
            R.say("note: cannot remove cgroup %s: %s" % (d, e))


def main():
    def on_signal(sig, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    names = [n for n, _ in TESTS] + ["kube/no_secret_in_outputs"]
    status = e2e.bpf_missing_status()
    why = None
    if os.geteuid() != 0:
        why = "not root, cannot load BPF"
    elif not os.path.exists(CURL):
        why = "curl not installed"
    elif not cgroup2_root():
        why = "no cgroup v2 hierarchy mounted"
    if why:
        for n in names:
            R.record(n, status, why)
    elif not os.access(e2e.sensor_bin(), os.X_OK) or not os.access(rc.collector_bin(), os.X_OK):
        for n in names:
            R.record(n, "FAIL", "no sensor or collector binary (make all)")
    else:
        workdir = tempfile.mkdtemp(prefix="tokentap-kube-")
        ctx = Ctx(workdir)
        try:
            try:
                setup(ctx)
            except (Skip, Fail, subprocess.SubprocessError) as e:
                for n in names:
                    R.record(n, status if isinstance(e, Skip) else "FAIL", "setup: %s" % e)
                return 1 if R.failed else 0
            for name, fn in TESTS:
                try:
                    fn(ctx)
                    R.record(name, "PASS")
                except Skip as e:
                    R.record(name, status, str(e))
                except Fail as e:
                    R.record(name, "FAIL", str(e))
                except subprocess.TimeoutExpired:
                    R.record(name, "FAIL", "timed out")
        finally:
            cleanup(ctx)
            e2e.kill_children()
        ctx.outputs.append(("runner", "\n".join(R.lines).encode()))
        blobs = [(w, b) for w, b in ctx.outputs + ctx.snapshots]
        for root, _, files in os.walk(workdir):
            if root.startswith(ctx.secret_dir):
                continue
            for f in files:
                blobs.append((f, rc.read_file(os.path.join(root, f))))
        hits = sorted({label for label, raw in ctx.tokens for _, b in blobs if raw.encode() in b})
        R.record(names[-1], "FAIL" if hits else "PASS", ("raw credential in outputs: %s" % hits) if hits else "")
        shutil.rmtree(workdir, ignore_errors=True)
    R.say("e2e-kube: %d passed, %d failed, %d skipped" % (R.passed, R.failed, R.skipped))
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
