"""The pure parts of the DaemonSet controller: eligibility, per-node decisions, rolling update
steps and status counts."""

from __future__ import annotations

from typing import Any

from minikube_py.api.stamps import rfc3339
from minikube_py.controllers.daemonset_nodes import (
    daemon_tolerations,
    pin_to_node,
    should_run,
    target_node,
)
from minikube_py.controllers.daemonset_status import daemon_set_status
from minikube_py.controllers.daemonset_update import (
    manage_node,
    rolling_update,
    scaled_value,
    surge_and_unavailable,
)

Object = dict[str, Any]
NOW = 1_800_000_000.0


def ds(strategy: Object | None = None, **template_spec: Any) -> Object:
    spec: Object = {"template": {"spec": template_spec}}
    if strategy is not None:
        spec["updateStrategy"] = strategy
    return {"metadata": {"name": "agent", "generation": 3}, "spec": spec}


def node(name: str, labels: Any = None, taints: Any = None) -> Object:
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": {"taints": taints or []}}


def pod(
    name: str, hash_: str, *, ready: bool = True, created: str = "2026-01-01T00:00:00Z"
) -> Object:
    status: Object = {"phase": "Running"}
    if ready:
        status["conditions"] = [
            {"type": "Ready", "status": "True", "lastTransitionTime": rfc3339(NOW - 100)}
        ]
    labels = {"controller-revision-hash": hash_}
    return {
        "metadata": {"name": name, "labels": labels, "creationTimestamp": created},
        "spec": {"nodeName": name.split("-")[0]},
        "status": status,
    }


def test_eligibility_follows_selector_affinity_and_taints() -> None:
    assert should_run(ds(nodeSelector={"disk": "ssd"}), node("a", {"disk": "ssd"})) == (True, True)
    assert should_run(ds(nodeSelector={"disk": "ssd"}), node("a")) == (False, False)
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "cpu", "operator": "Gt", "values": ["4"]}]}
                ]
            }
        }
    }
    assert should_run(ds(affinity=affinity), node("a", {"cpu": "8"}))[0]
    assert not should_run(ds(affinity=affinity), node("a", {"cpu": "2"}))[0]
    no_schedule = [{"key": "gpu", "effect": "NoSchedule"}]
    assert should_run(ds(), node("a", taints=no_schedule)) == (False, True)  # keeps its pod
    no_execute = [{"key": "gpu", "effect": "NoExecute"}]
    assert should_run(ds(), node("a", taints=no_execute)) == (False, False)
    # the automatic daemon tolerations: a cordoned or unreachable node keeps its daemon
    cordoned = [
        {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"},
    ]
    assert should_run(ds(), node("a", taints=cordoned)) == (True, True)
    network = [{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}]
    assert should_run(ds(), node("a", taints=network))[0] is False
    assert should_run(ds(hostNetwork=True), node("a", taints=network))[0] is True
    assert should_run(ds(nodeName="b"), node("a")) == (False, False)


def test_daemon_tolerations_keep_the_users_own() -> None:
    mine = {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute", "tolerationSeconds": 5}
    added = daemon_tolerations({"tolerations": [mine]})
    assert added[0] == mine
    assert len([t for t in added if t["key"] == "node.kubernetes.io/not-ready"]) == 1
    assert len(added) == 6


def test_pinning_replaces_required_terms_and_is_read_back() -> None:
    affinity = pin_to_node(
        {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"x": 1}}}, "n7"
    )
    assert target_node({"spec": {"affinity": affinity}}) == "n7"
    assert target_node({"spec": {"nodeName": "n2", "affinity": affinity}}) == "n2"


def test_scaled_values_round_up() -> None:
    assert scaled_value("25%", 3) == 1 and scaled_value("50%", 3) == 2 and scaled_value(2, 9) == 2
    rolling = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}}
    assert surge_and_unavailable(ds(rolling), 4) == (0, 1)


def test_extra_pods_go_oldest_stays_and_failed_ones_are_reported() -> None:
    old = pod("a-1", "h", created="2026-01-01T00:00:00Z")
    young = pod("a-2", "h", created="2026-01-02T00:00:00Z")
    failed = {**pod("a-3", "h"), "status": {"phase": "Failed"}}
    decision = manage_node(ds(), [young, old, failed], run=True, keep=True, hash_="h", now=NOW)
    assert decision.delete == (young,) and decision.failed == (failed,)
    assert manage_node(ds(), [], run=True, keep=True, hash_="h", now=NOW).needs_pod
    assert manage_node(ds(), [old], run=False, keep=False, hash_="h", now=NOW).delete == (old,)


def test_rolling_update_replaces_within_max_unavailable() -> None:
    nodes = {f"n{i}": [pod(f"n{i}-old", "old")] for i in range(4)}
    rolling = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "50%"}}
    doomed, surge = rolling_update(ds(rolling), nodes, "new", NOW)
    assert len(doomed) == 2 and surge == []
    nodes["n0"] = [pod("n0-new", "new", ready=False)]  # one update still becoming ready
    doomed, _ = rolling_update(ds(rolling), nodes, "new", NOW)
    assert len(doomed) == 1
    nodes["n1"] = [pod("n1-old", "old", ready=False)]  # unavailable old pods go anyway
    doomed, _ = rolling_update(ds(rolling), nodes, "new", NOW)
    assert [p["metadata"]["name"] for p in doomed] == ["n1-old", "n2-old"]


def test_surge_adds_new_pods_first_then_removes_old_ones() -> None:
    rolling = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    nodes = {"n0": [pod("n0-old", "old")], "n1": [pod("n1-old", "old")]}
    assert rolling_update(ds(rolling), nodes, "new", NOW) == ([], ["n0"])
    nodes["n0"].append(pod("n0-new", "new", ready=False))
    assert rolling_update(ds(rolling), nodes, "new", NOW) == ([], [])
    nodes["n0"][1] = pod("n0-new", "new")
    doomed, surge = rolling_update(ds(rolling), nodes, "new", NOW)
    assert [p["metadata"]["name"] for p in doomed] == ["n0-old"] and surge == ["n1"]


def test_status_counts_per_node() -> None:
    nodes = [node("n0"), node("n1"), node("n2", taints=[{"key": "x", "effect": "NoExecute"}])]
    pods = {
        "n0": [pod("n0-a", "new")],
        "n1": [pod("n1-a", "old", ready=False)],
        "n2": [pod("n2-a", "new")],
    }
    status = daemon_set_status(ds(), nodes, pods, "new", NOW)
    assert status == {
        "observedGeneration": 3,
        "currentNumberScheduled": 2,
        "numberMisscheduled": 1,
        "desiredNumberScheduled": 2,
        "numberReady": 1,
        "updatedNumberScheduled": 1,
        "numberAvailable": 1,
        "numberUnavailable": 1,
    }
