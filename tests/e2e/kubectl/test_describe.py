"""Golden tests of the built-in ``kubectl describe``: real kubectl and the built-in one, on the
same objects of the session's cluster, must print the same description.

Each test makes what it describes in a namespace of its own, waits until it is steady (a pod
Ready, a rollout done, endpoints ready), so that nothing changes between the two runs but the
clock, and compares. ``describe_mask`` adds to ``golden.mask`` what varies with the clock in a
description: the spacing of the ``Events:`` table (its ``Age`` column may be a character wider
in one run) and generic resourceVersions. Everything else — column alignment, field order,
``<none>``/``<unset>`` — must match byte for byte.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from minikube_py.kubectl.describe_generic import smart_label
from minikube_py.kubectl.describe_nodes import quantity_text
from minikube_py.kubectl.describe_writer import DescribeWriter
from tests.e2e.conftest import Kubectl
from tests.e2e.kubectl.golden import Result, builtin, mask, real
from tests.e2e.test_pods import eventually


def describe_mask(text: str) -> str:
    """``mask`` plus: collapse the padding of the events table, mask resource versions."""
    text = re.sub(r"(Resource Version:\s+)\d+", r"\1<rv>", mask(text))
    lines = text.split("\n")
    in_events = False
    for i, line in enumerate(lines):
        if line.startswith("Events:"):
            in_events = True
        elif line and not line.startswith(" "):
            in_events = False
        if in_events:
            lines[i] = re.sub(r" {2,}", "  ", line)
    return "\n".join(lines)


def same(kubectl: Kubectl, *args: str, attempts: int = 1) -> Result:
    """Both kubectls print the same (after ``describe_mask``). ``attempts`` > 1 retries where
    the cluster may legitimately change between the two runs (other tests' pods on a node)."""
    shown = " ".join(args)
    for attempt in range(attempts):
        expected, got = real(kubectl, *args), builtin(kubectl, *args)
        if describe_mask(got.out) == describe_mask(expected.out) or attempt == attempts - 1:
            break
        time.sleep(1)
    assert describe_mask(got.out) == describe_mask(expected.out), f"kubectl {shown}: stdout"
    assert describe_mask(got.err) == describe_mask(expected.err), f"kubectl {shown}: stderr"
    assert got.code == expected.code, f"kubectl {shown}: exit {got.code}, kubectl {expected.code}"
    return expected


def apply(kubectl: Kubectl, namespace: str, manifest: dict[str, Any]) -> None:
    kubectl.out("apply", "-n", namespace, "-f", "-", stdin=json.dumps(manifest))


def pod_ready(kubectl: Kubectl, ns: str, name: str, restarts: int = 0) -> Callable[[], bool]:
    def check() -> bool:
        pod = kubectl.json("get", "pod", name, "-n", ns)
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in pod["status"].get("conditions") or ()
        )
        counts = [s.get("restartCount", 0) for s in pod["status"].get("containerStatuses") or ()]
        return ready and counts == [restarts]

    return check


# ------------------------------------------------------------------------------------ unit


def test_columns_align_per_block_as_go_tabwriter() -> None:
    w = DescribeWriter()
    w.write(0, "Name:\tweb\nIPs:\n")
    w.write(1, "IP:\t10.0.0.1\n")
    w.write(0, "Controlled By:\tReplicaSet/web\n")
    w.flush()  # the events table starts a block of its own
    w.write(0, "Events:\n  Type\tAge\n")
    w.write(1, "Normal\t5s\n")
    assert w.render() == (
        "Name:  web\nIPs:\n  IP:           10.0.0.1\nControlled By:  ReplicaSet/web\n"
        "Events:\n  Type    Age\n  Normal  5s\n"
    )


def test_labels_and_quantities_read_as_kubectl_writes_them() -> None:
    assert smart_label("apiVersion") == "API Version"
    assert smart_label("podCIDR") == "Pod CIDR"
    assert smart_label("some_field") == "some_field"
    assert quantity_text(Fraction(350, 1000), "100m") == "350m"
    assert quantity_text(Fraction(192 * 2**20), "64Mi") == "192Mi"
    assert quantity_text(Fraction(1500), "1Ki") == "1500"  # not a whole number of Ki
    assert quantity_text(Fraction(2000), "1") == "2k"
    assert quantity_text(Fraction(0), "1") == "0"


# ------------------------------------------------------------------------------------ pods


def test_describe_running_pod(kubectl: Kubectl, ns: str) -> None:
    kubectl.out("run", "web", "-n", ns, "--image=busybox", "--labels=app=web,tier=front",
                "--", "sleep", "3600")  # fmt: skip
    eventually(pod_ready(kubectl, ns, "web"))
    out = same(kubectl, "describe", "pod", "web", "-n", ns).out
    assert "Status:           Running" in out and "Started container web" in out


def test_describe_restarted_and_failed_containers(kubectl: Kubectl, ns: str) -> None:
    script = "if [ -f /data/once ]; then sleep 3600; else touch /data/once; exit 3; fi"
    container = {"name": "main", "image": "busybox", "command": ["sh", "-c", script]}
    container["volumeMounts"] = [{"name": "scratch", "mountPath": "/data"}]
    container["env"] = [{"name": "MODE", "value": "once"}]
    container["resources"] = {"requests": {"cpu": "50m"}, "limits": {"memory": "64Mi"}}
    spec = {"containers": [container], "volumes": [{"name": "scratch", "emptyDir": {}}]}
    apply(kubectl, ns, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "flaky"},
                        "spec": {**spec, "terminationGracePeriodSeconds": 1}})  # fmt: skip
    failing = {"name": "main", "image": "busybox", "command": ["sh", "-c", "exit 3"]}
    apply(kubectl, ns, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "failed"},
                        "spec": {"containers": [failing], "restartPolicy": "Never"}})  # fmt: skip
    eventually(pod_ready(kubectl, ns, "flaky", restarts=1))
    eventually(
        lambda: kubectl.json("get", "pod", "failed", "-n", ns)["status"]["phase"] == "Failed"
    )
    out = same(kubectl, "describe", "pod", "flaky", "-n", ns).out
    assert "Last State:     Terminated" in out and "Exit Code:    3" in out
    assert "Restart Count:  1" in out
    same(kubectl, "describe", "pod", "failed", "-n", ns)
    same(kubectl, "describe", "pods", "-n", ns)  # both, separated as kubectl separates them


# ------------------------------------------------------------------------------- workloads


def test_describe_deployment_replicasets_and_service(kubectl: Kubectl, ns: str) -> None:
    kubectl.out("create", "deployment", "shop", "-n", ns, "--image=busybox", "--replicas=2",
                "--port=8080", "--", "sleep", "3600")  # fmt: skip
    kubectl.out("set", "image", "deployment/shop", "-n", ns, "busybox=busybox:1.36")

    def rolled_out() -> bool:
        d = kubectl.json("get", "deployment", "shop", "-n", ns)
        status, rs = d["status"], kubectl.json("get", "rs", "-n", ns)["items"]
        return (
            status.get("observedGeneration") == d["metadata"]["generation"]
            and status.get("updatedReplicas") == status.get("availableReplicas") == 2
            and status.get("replicas") == 2
            and len(rs) == 2
            and all(r["status"].get("replicas", 0) == r["spec"]["replicas"] for r in rs)
        )

    eventually(rolled_out)
    out = same(kubectl, "describe", "deployment", "shop", "-n", ns).out
    assert "OldReplicaSets:  shop-" in out and "(0/0 replicas created)" in out
    same(kubectl, "describe", "rs", "-n", ns, "-l", "app=shop")
    kubectl.out("expose", "deployment", "shop", "-n", ns, "--port=80", "--target-port=8080")

    def endpoints_ready() -> bool:
        slices = kubectl.json("get", "endpointslices", "-n", ns)["items"]
        ready = [e for s in slices for e in s.get("endpoints") or () if e["conditions"]["ready"]]
        return len(ready) == 2

    eventually(endpoints_ready)
    out = same(kubectl, "describe", "service", "shop", "-n", ns).out
    assert re.search(r"Endpoints:\s+[\d.]+:8080,[\d.]+:8080\n", out)
    same(kubectl, "describe", "endpoints", "shop", "-n", ns)
    same(kubectl, "describe", "endpointslices", "-n", ns, "-l", "kubernetes.io/service-name=shop")
    kubectl.out("create", "ingress", "shop", "-n", ns, "--rule=shop.test/*=shop:80",
                "--default-backend=shop:80")  # fmt: skip
    out = same(kubectl, "describe", "ingress", "shop", "-n", ns).out
    assert "shop.test" in out and "shop:80 (" in out
    same(kubectl, "describe", "all", "-n", ns)


def test_describe_statefulset_daemonset_and_job(kubectl: Kubectl, ns: str) -> None:
    template = {"metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "db", "image": "busybox",
                                         "command": ["sleep", "3600"]}]}}  # fmt: skip
    selector = {"matchLabels": {"app": "db"}}
    apply(kubectl, ns, {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
                        "spec": {"serviceName": "db", "replicas": 1, "selector": selector,
                                 "template": template}})  # fmt: skip
    apply(kubectl, ns, {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
                        "spec": {"selector": selector, "template": template}})  # fmt: skip
    kubectl.out("create", "job", "once", "-n", ns, "--image=busybox", "--", "sh", "-c", "exit 0")
    kubectl.out("create", "cronjob", "nightly", "-n", ns, "--image=busybox",
                "--schedule=0 3 * * *", "--", "echo", "hi")  # fmt: skip

    def steady() -> bool:
        sts = kubectl.json("get", "statefulset", "db", "-n", ns)["status"]
        ds = kubectl.json("get", "daemonset", "agent", "-n", ns)["status"]
        job = kubectl.json("get", "job", "once", "-n", ns)["status"]
        complete = any(c["type"] == "Complete" for c in job.get("conditions") or ())
        return (sts.get("readyReplicas") == 1 and ds.get("numberReady", 0) >= 1
                and ds.get("numberReady") == ds.get("desiredNumberScheduled") and complete
                and job.get("succeeded") == 1 and not job.get("active"))  # fmt: skip

    try:
        eventually(steady)
        same(kubectl, "describe", "statefulset", "db", "-n", ns)
        same(kubectl, "describe", "daemonset", "agent", "-n", ns)
        out = same(kubectl, "describe", "job", "once", "-n", ns).out
        assert "Completed At:" in out and "0 Active (0 Ready) / 1 Succeeded / 0 Failed" in out
        same(kubectl, "describe", "cronjob", "nightly", "-n", ns)
    finally:
        # Gone before its namespace goes: the DaemonSet controller logs an error when it
        # finds its namespace terminating (upstream's treats that as expected).
        kubectl.run("delete", "daemonset", "agent", "-n", ns, "--wait=true", check=False)


# ----------------------------------------------------------------------- the other kinds


def test_describe_node(kubectl: Kubectl) -> None:
    out = same(kubectl, "describe", "node", "minikube", attempts=3).out
    assert "Non-terminated Pods:" in out and "Allocated resources:" in out


def test_describe_configmap_namespace_and_generic(kubectl: Kubectl, ns: str) -> None:
    kubectl.out("create", "configmap", "settings", "-n", ns, "--from-literal=mode=fast")
    kubectl.out("label", "configmap", "settings", "-n", ns, "team=a", "tier=b")
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": "lock", "labels": {"app": "x"},
                          "annotations": {"note": "hi"}},
             "spec": {"holderIdentity": "me", "leaseDurationSeconds": 30}}  # fmt: skip
    apply(kubectl, ns, lease)
    out = same(kubectl, "describe", "configmap", "settings", "-n", ns).out
    assert "Data\n====\nmode:\n----\nfast\n" in out
    kubectl.out("create", "quota", "small", "-n", ns, "--hard=pods=5,cpu=2")
    limits = {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "limits"},
              "spec": {"limits": [{"type": "Container", "max": {"cpu": "1"},
                                   "default": {"cpu": "500m"}}]}}  # fmt: skip
    apply(kubectl, ns, limits)
    out = same(kubectl, "describe", "namespace", ns).out
    assert "Resource Quotas" in out and "Resource Limits" in out
    same(kubectl, "describe", "quota", "small", "-n", ns)
    same(kubectl, "describe", "limitrange", "limits", "-n", ns)
    kubectl.out("create", "secret", "generic", "creds", "-n", ns, "--from-literal=password=abc")
    out = same(kubectl, "describe", "secret", "creds", "-n", ns).out
    assert "password:  3 bytes" in out
    kubectl.out("create", "serviceaccount", "robot", "-n", ns)
    same(kubectl, "describe", "serviceaccount", "robot", "-n", ns)
    out = same(kubectl, "describe", "lease", "lock", "-n", ns).out
    assert "Holder Identity:" in out and "API Version:" in out


def test_describe_not_found_prefix_and_usage(kubectl: Kubectl, ns: str) -> None:
    for name in ("app-one", "app-two", "other"):
        kubectl.out("create", "configmap", name, "-n", ns, f"--from-literal=k={name}")
    result = same(kubectl, "describe", "pod", "nothing-here", "-n", ns)
    assert result.code == 1 and "(NotFound)" in result.err
    out = same(kubectl, "describe", "configmap", "app", "-n", ns).out  # a name prefix
    assert "app-one" in out and "app-two" in out and "other" not in out
    same(kubectl, "describe", "configmap", "app-one", "missing", "-n", ns)
    same(kubectl, "describe", "configmap", "-n", ns, "-l", "nothing=here")
    same(kubectl, "describe", "configmaps/other", "-n", ns)
    same(kubectl, "describe")
    same(kubectl, "describe", "configmap", "other", "-l", "a=b", "-n", ns)


def test_describe_claim_volume_and_class(kubectl: Kubectl, ns: str) -> None:
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
             "spec": {"accessModes": ["ReadWriteOnce"],
                      "resources": {"requests": {"storage": "1Gi"}}}}  # fmt: skip
    apply(kubectl, ns, claim)

    def bound() -> str:
        found = kubectl.json("get", "pvc", "data", "-n", ns)
        return (
            str(found["spec"].get("volumeName", ""))
            if found["status"].get("phase") == "Bound"
            else ""
        )

    volume = eventually(bound)
    out = same(kubectl, "describe", "pvc", "data", "-n", ns).out
    assert "Status:        Bound" in out and "Access Modes:  RWO" in out
    same(kubectl, "describe", "pv", volume)
    storage_class = kubectl.json("get", "pvc", "data", "-n", ns)["spec"]["storageClassName"]
    same(kubectl, "describe", "storageclass", storage_class)
