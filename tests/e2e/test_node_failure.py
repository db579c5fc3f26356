"""Nodes that fail and nodes that join, seen through the real kubectl.

Each test runs a cluster of its own on a thread (``threaded.py``) with shortened timings —
heartbeats every 0.5 s, a node silent for 3 s is Unknown (upstream: 40 s) — because it needs
the cluster object itself: to stop one node's kubelet (a node failure) or to add a node. Pods
run on the fake runtime (the control plane's behaviour is what is tested; ``test_pods.py``
runs real processes).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from minikube_py.cluster import RunningCluster
from minikube_py.config import ControllerSettings
from minikube_py.kubelet.agent import AgentTimings
from tests.clusters import ephemeral_config
from tests.e2e.conftest import Kubectl, make_kubectl
from tests.e2e.test_pods import eventually
from tests.e2e.threaded import ThreadedCluster, threaded_cluster

FAST = AgentTimings(lease_interval=0.5, status_interval=0.5, crash_backoff=1.0)
QUICK_CONTROLLERS = ControllerSettings(node_grace_period=3.0, node_monitor_period=0.5)


@pytest.fixture
def three_nodes(tmp_path: Path) -> Iterator[tuple[ThreadedCluster, Kubectl]]:
    config = attrs.evolve(
        ephemeral_config(tmp_path / "cluster"),
        nodes=3,
        runtime="fake",
        timings=FAST,
        controllers=QUICK_CONTROLLERS,
    )
    with threaded_cluster(config) as cluster:
        assert cluster.cluster.kubeconfig is not None
        yield cluster, make_kubectl(cluster.cluster.kubeconfig, tmp_path)


def pods_by_node(kubectl: Kubectl, selector: str) -> dict[str, list[str]]:
    """Running pods (not being deleted) per node."""
    nodes: dict[str, list[str]] = {}
    for pod in kubectl.json("get", "pods", "-l", selector)["items"]:
        if pod["status"].get("phase") == "Running" and not pod["metadata"].get("deletionTimestamp"):
            nodes.setdefault(pod["spec"]["nodeName"], []).append(pod["metadata"]["name"])
    return nodes


def test_the_pods_of_a_failed_node_move_to_the_others(
    three_nodes: tuple[ThreadedCluster, Kubectl],
) -> None:
    cluster, kubectl = three_nodes
    template_tolerations = [
        {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 2}
        for key in ("node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready")
    ]
    kubectl.out("create", "deployment", "web", "--image=nginx", "--replicas=6")
    patch = {"spec": {"template": {"spec": {"tolerations": template_tolerations}}}}
    kubectl.out("patch", "deployment", "web", "-p", json.dumps(patch))
    kubectl.out("rollout", "status", "deployment/web", "--timeout=60s")
    before = pods_by_node(kubectl, "app=web")
    assert sum(map(len, before.values())) == 6
    victim = "minikube-m02"
    assert before.get(victim), f"no pod was placed on {victim}: {before}"

    async def stop(running: RunningCluster) -> None:
        await running.nodes.stop(victim)

    cluster.call(stop)

    def node_ready() -> str:
        conditions = kubectl.json("get", "node", victim)["status"]["conditions"]
        return next(c["status"] for c in conditions if c["type"] == "Ready")

    eventually(lambda: node_ready() == "Unknown", seconds=30)

    def taints() -> list[tuple[str, str]]:
        found = kubectl.json("get", "node", victim)["spec"].get("taints") or []
        return [(t["key"], t["effect"]) for t in found]

    eventually(lambda: ("node.kubernetes.io/unreachable", "NoExecute") in taints())
    assert ("node.kubernetes.io/unreachable", "NoSchedule") in taints()
    assert "NotReady" in kubectl.out("get", "node", victim, "--no-headers")

    def moved() -> dict[str, list[str]] | None:
        now = pods_by_node(kubectl, "app=web")
        return now if sum(map(len, now.values())) == 6 and victim not in now else None

    after = eventually(moved, seconds=60)
    assert set(after) <= {"minikube", "minikube-m03"}
    events = kubectl.out("get", "events", "--field-selector", "reason=TaintManagerEviction")
    assert "Marking for deletion Pod default/" in events


def test_a_daemon_set_covers_a_node_added_later(
    three_nodes: tuple[ThreadedCluster, Kubectl],
) -> None:
    cluster, kubectl = three_nodes
    manifest: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "agent", "image": "busybox:1.36"}]},
            },
        },
    }
    kubectl.out("apply", "-f", "-", stdin=json.dumps(manifest))
    kubectl.out("rollout", "status", "daemonset/agent", "--timeout=60s")
    assert set(pods_by_node(kubectl, "app=agent")) == {"minikube", "minikube-m02", "minikube-m03"}

    async def add(running: RunningCluster) -> str:
        return (await running.nodes.add()).node.name

    added = cluster.call(add)
    assert added == "minikube-m04"
    covered = eventually(lambda: (n := pods_by_node(kubectl, "app=agent")) and len(n) == 4 and n)
    assert all(len(pods) == 1 for pods in covered.values())
    columns = kubectl.out("get", "daemonset", "agent", "--no-headers").split()
    assert columns[1:4] == ["4", "4", "4"]  # DESIRED CURRENT READY
