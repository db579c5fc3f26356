"""Three nodes, driven by the real kubectl: the scheduler's choices and the node commands.

This module starts its own cluster (`serve --nodes 3`), so node taints, cordons and drains never
disturb the session's one-node cluster. Its nodes are minikube's: ``minikube`` (the control
plane), ``minikube-m02`` and ``minikube-m03``, at .2 to .4 of its address slot's node block with
the pod ranges N.0/24 of its pod block (127.49.0.2 and 127.244.0.0/24 … in slot 0). Pods are
created directly (no controllers yet), so a drained pod is simply gone. After each test every
pod is deleted, so each test starts from empty nodes.
"""

from __future__ import annotations

import collections
import ipaddress
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Kubectl, Server, make_kubectl, network_plan, serving
from tests.e2e.test_pods import WAIT, apply, busybox, eventually, pod

NODES = ("minikube", "minikube-m02", "minikube-m03")
HOSTNAME = "kubernetes.io/hostname"
PREEMPTION = "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."


@pytest.fixture(scope="module")
def three_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    state = tmp_path_factory.mktemp("three-nodes")
    with serving(state, extra=("--nodes", "3", "--crash-backoff", "1")) as server:
        yield server
    assert server.exit_code == 0 and not server.killed, server.output_text()[-2000:]


@pytest.fixture(scope="module")
def kubectl3(three_nodes: Server, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return make_kubectl(three_nodes.kubeconfig, tmp_path_factory.mktemp("kubectl3"))


@pytest.fixture(autouse=True)
def clean_and_healthy(three_nodes: Server, kubectl3: Kubectl) -> Iterator[None]:
    """Each test starts on empty nodes; afterwards the server still runs, logged no internal
    error, and every pod is gone again."""
    start = three_nodes.log.stat().st_size if three_nodes.log.exists() else 0
    yield
    kubectl3.out("delete", "pods", "--all", "--wait=true", "--timeout=60s")
    errors, _ = three_nodes.error_lines(since=start)
    assert three_nodes.alive(), three_nodes.output_text()[-4000:]
    assert not errors, "\n".join(line[:3000] for line in errors[:5])


def _pinned(name: str, node: str, **spec: Any) -> dict[str, Any]:
    return busybox(name, "sleep 600", nodeSelector={HOSTNAME: node}, **spec)


def _node_of(kubectl: Kubectl, name: str) -> str:
    return str(pod(kubectl, name)["spec"].get("nodeName") or "")


def _failed_scheduling(kubectl: Kubectl, name: str) -> str:
    """The message of the pod's FailedScheduling event, once there is one."""
    selector = f"involvedObject.name={name},reason=FailedScheduling"

    def message() -> str | None:
        items = kubectl.json("get", "events", "--field-selector", selector)["items"]
        return str(items[-1]["message"]) if items else None

    found: str = eventually(message)
    return found


def _ready(kubectl: Kubectl, *names: str) -> None:
    kubectl.out("wait", "--for=condition=Ready", *(f"pod/{n}" for n in names), WAIT)


def test_three_nodes_ready_with_roles_addresses_and_pod_ranges(kubectl3: Kubectl) -> None:
    rows = [line.split() for line in kubectl3.out("get", "nodes", "-o", "wide").splitlines()]
    assert rows[0][:6] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP"]
    seen = [(row[0], row[1], row[2], row[5]) for row in rows[1:]]
    plan = network_plan(kubectl3)
    assert seen == [
        ("minikube", "Ready", "control-plane", plan.node_address(0)),
        ("minikube-m02", "Ready", "<none>", plan.node_address(1)),
        ("minikube-m03", "Ready", "<none>", plan.node_address(2)),
    ]
    assert all(row[4].startswith("v1.32.") for row in rows[1:])
    nodes = kubectl3.json("get", "nodes")["items"]
    assert [(n["spec"]["podCIDR"], n["spec"]["podCIDRs"]) for n in nodes] == [
        (plan.pod_cidr(index), [plan.pod_cidr(index)]) for index in range(3)
    ]
    assert [n["metadata"]["labels"][HOSTNAME] for n in nodes] == list(NODES)
    leases = kubectl3.out("get", "leases", "-n", "kube-node-lease", "-o", "name").split()
    assert sorted(leases) == [f"lease.coordination.k8s.io/{name}" for name in NODES]


def test_pods_without_an_owner_spread_over_the_nodes(kubectl3: Kubectl, unique: Any) -> None:
    # Upstream's default PodTopologySpread constraints only apply to pods a Service or a
    # controller selects; ownerless pods spread through NodeResourcesFit's least-allocated
    # score, which counts a pod without requests as 100m CPU and 200Mi: the emptier node wins.
    names = [unique("spread") for _ in range(6)]
    for name in names:
        manifest = busybox(name, "sleep 600")
        manifest["metadata"]["labels"] = {"app": "spread"}
        apply(kubectl3, manifest)
    _ready(kubectl3, *names)
    placed = collections.Counter(_node_of(kubectl3, name) for name in names)
    assert placed == {node: 2 for node in NODES}


def test_node_selector_is_honoured(kubectl3: Kubectl, unique: Any) -> None:
    names = [unique("pinned") for _ in range(3)]
    for name in names:
        apply(kubectl3, _pinned(name, "minikube-m03"))
    _ready(kubectl3, *names)
    for name in names:
        status = pod(kubectl3, name)["status"]
        assert _node_of(kubectl3, name) == "minikube-m03"
        plan = network_plan(kubectl3)
        assert status["hostIP"] == plan.node_address(2)
        assert ipaddress.ip_address(status["podIP"]) in ipaddress.ip_network(plan.pod_cidr(2))
    described = kubectl3.out("describe", "pod", names[0])
    assert f"Successfully assigned default/{names[0]} to minikube-m03" in described


def test_a_taint_keeps_pods_off_unless_tolerated(kubectl3: Kubectl, unique: Any) -> None:
    kubectl3.out("taint", "nodes", "minikube-m02", "dedicated=x:NoSchedule")
    try:
        intolerant = unique("intolerant")
        apply(kubectl3, _pinned(intolerant, "minikube-m02"))
        message = _failed_scheduling(kubectl3, intolerant)
        assert message == (
            "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: x}, "
            "2 node(s) didn't match Pod's node affinity/selector. " + PREEMPTION + "."
        )
        assert pod(kubectl3, intolerant)["status"]["phase"] == "Pending"

        tolerant = unique("tolerant")
        toleration = {"key": "dedicated", "operator": "Equal", "value": "x"}
        apply(kubectl3, _pinned(tolerant, "minikube-m02", tolerations=[toleration]))
        free = [unique("free") for _ in range(4)]
        for name in free:
            apply(kubectl3, busybox(name, "sleep 600"))
        _ready(kubectl3, tolerant, *free)
        assert _node_of(kubectl3, tolerant) == "minikube-m02"
        assert {_node_of(kubectl3, name) for name in free} <= {"minikube", "minikube-m03"}
        assert _node_of(kubectl3, intolerant) == ""
    finally:
        kubectl3.out("taint", "nodes", "minikube-m02", "dedicated-")
    # The taint's removal is a cluster event: the waiting pod is tried again and fits now.
    _ready(kubectl3, intolerant)
    assert _node_of(kubectl3, intolerant) == "minikube-m02"


def test_cordon_keeps_new_pods_off_until_uncordon(kubectl3: Kubectl, unique: Any) -> None:
    kubectl3.out("cordon", "minikube-m03")
    try:
        status = kubectl3.out("get", "node", "minikube-m03", "--no-headers").split()[1]
        assert status == "Ready,SchedulingDisabled"
        assert kubectl3.json("get", "node", "minikube-m03")["spec"]["unschedulable"] is True
        waiting = unique("waiting")
        apply(kubectl3, _pinned(waiting, "minikube-m03"))
        assert _failed_scheduling(kubectl3, waiting) == (
            "0/3 nodes are available: 1 node(s) were unschedulable, "
            "2 node(s) didn't match Pod's node affinity/selector. " + PREEMPTION + "."
        )
        others = [unique("elsewhere") for _ in range(4)]
        for name in others:
            apply(kubectl3, busybox(name, "sleep 600"))
        _ready(kubectl3, *others)
        assert {_node_of(kubectl3, name) for name in others} == {"minikube", "minikube-m02"}
    finally:
        kubectl3.out("uncordon", "minikube-m03")
    assert kubectl3.out("get", "node", "minikube-m03", "--no-headers").split()[1] == "Ready"
    _ready(kubectl3, waiting)
    assert _node_of(kubectl3, waiting) == "minikube-m03"


def test_drain_evicts_the_node_s_pods_and_leaves_it_cordoned(
    kubectl3: Kubectl, unique: Any
) -> None:
    doomed = [unique("doomed") for _ in range(2)]
    for name in doomed:
        apply(kubectl3, _pinned(name, "minikube-m02"))
    spared = unique("spared")
    apply(kubectl3, _pinned(spared, "minikube"))
    _ready(kubectl3, *doomed, spared)
    try:
        drained = kubectl3.run(
            "drain",
            "minikube-m02",
            "--ignore-daemonsets",
            "--force",
            "--delete-emptydir-data",
            "--timeout=60s",
            timeout=90,
        )
        lines = drained.stdout.splitlines()
        assert lines[0] == "node/minikube-m02 cordoned"
        assert lines[-1] == "node/minikube-m02 drained"
        for name in doomed:
            assert f"evicting pod default/{name}" in lines
            assert f"pod/{name} evicted" in lines
            assert "NotFound" in kubectl3.fails("get", "pod", name)  # no controller recreates
        warning = "Warning: deleting Pods that declare no controller: "
        assert warning in drained.stderr
        status = kubectl3.out("get", "node", "minikube-m02", "--no-headers").split()[1]
        assert status == "Ready,SchedulingDisabled"
        assert pod(kubectl3, spared)["status"]["phase"] == "Running"
    finally:
        kubectl3.out("uncordon", "minikube-m02")


def test_each_node_s_pods_answer_on_addresses_of_its_range(kubectl3: Kubectl, unique: Any) -> None:
    names = {node: unique("hello") for node in NODES}
    for node, name in names.items():
        manifest = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {
                "nodeSelector": {HOSTNAME: node},
                "terminationGracePeriodSeconds": 2,
                "containers": [
                    {
                        "name": "hello",
                        "image": "gcr.io/google-samples/hello-app:1.0",
                        "ports": [{"containerPort": 8080}],
                    }
                ],
            },
        }
        apply(kubectl3, manifest)
    _ready(kubectl3, *names.values())
    plan = network_plan(kubectl3)
    for index, (node, name) in enumerate(names.items()):
        wide = kubectl3.out("get", "pod", name, "-o", "wide", "--no-headers").split()
        address, placed = wide[5], wide[6]
        assert placed == node
        assert ipaddress.ip_address(address) in ipaddress.ip_network(plan.pod_cidr(index))
        with urllib.request.urlopen(f"http://{address}:8080/", timeout=10) as answer:
            text = answer.read().decode()
        assert text.splitlines() == ["Hello, world!", "Version: 1.0.0", f"Hostname: {name}"]


def test_a_node_port_answers_on_every_node_address(kubectl3: Kubectl, unique: Any) -> None:
    name = unique("np")
    kubectl3.out(
        "create", "deployment", name, "--image=hashicorp/http-echo", "--", "/http-echo", "-text=np"
    )
    kubectl3.out("expose", "deployment", name, "--type=NodePort", "--port=80", "--target-port=5678")
    kubectl3.out("rollout", "status", f"deployment/{name}", WAIT)
    try:
        node_port = kubectl3.json("get", "service", name)["spec"]["ports"][0]["nodePort"]
        plan = network_plan(kubectl3)
        for index in range(len(NODES)):
            url = f"http://{plan.node_address(index)}:{node_port}/"
            text = eventually(lambda url=url: _get(url))
            assert text == "np\n"
    finally:
        kubectl3.out("delete", "deployment,service", name, "--wait=true", WAIT)


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return str(answer.read().decode())
    except OSError:
        return None
