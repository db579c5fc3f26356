"""The node lifecycle controller's pure parts: taints from conditions, readiness NoExecute
taints, zone states, and the node health bookkeeping."""

from __future__ import annotations

from typing import Any

from minikube_py.controllers.nodelifecycle_health import observe, unknown_conditions
from minikube_py.controllers.nodelifecycle_taints import (
    FULL,
    NORMAL,
    PARTIAL,
    no_execute_taints,
    no_schedule_taints,
    zone_key,
    zone_state,
)

Object = dict[str, Any]
NOW = 1_800_000_000.0
NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"


def node(conditions: dict[str, str], taints: Any = None, **spec: Any) -> Object:
    return {
        "metadata": {"name": "n1", "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"taints": taints or [], **spec},
        "status": {
            "conditions": [
                {"type": kind, "status": status, "lastHeartbeatTime": "2026-01-01T00:00:00Z"}
                for kind, status in conditions.items()
            ]
        },
    }


def keys(taints: list[Object] | None) -> set[tuple[str, str]]:
    return {(t["key"], t["effect"]) for t in taints or []}


def test_conditions_and_cordons_become_no_schedule_taints() -> None:
    user = {"key": "gpu", "effect": "NoSchedule"}
    sick = node({"Ready": "False", "DiskPressure": "True"}, [user], unschedulable=True)
    assert keys(no_schedule_taints(sick)) == {
        ("gpu", "NoSchedule"),
        (NOT_READY, "NoSchedule"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    }
    stale = [user, {"key": UNREACHABLE, "effect": "NoSchedule"}]
    assert keys(no_schedule_taints(node({"Ready": "True"}, stale))) == {("gpu", "NoSchedule")}
    assert no_schedule_taints(node({"Ready": "True"}, [user])) is None


def test_readiness_no_execute_taints_are_added_swapped_and_removed() -> None:
    added = no_execute_taints(node({"Ready": "False"}), "False", NOW, allowed=True)
    assert keys(added) == {(NOT_READY, "NoExecute")}
    assert added is not None and added[0]["timeAdded"] == "2027-01-15T08:00:00Z"
    swapped = no_execute_taints(node({"Ready": "Unknown"}, added), "Unknown", NOW, allowed=False)
    assert keys(swapped) == {(UNREACHABLE, "NoExecute")}  # a swap needs no permission
    assert no_execute_taints(node({"Ready": "Unknown"}), "Unknown", NOW, allowed=False) is None
    assert no_execute_taints(node({"Ready": "True"}, swapped), "True", NOW, allowed=True) == []


def test_zone_states() -> None:
    assert zone_state(0, 1) == FULL
    assert zone_state(2, 3) == PARTIAL and zone_state(1, 2) == NORMAL
    labels = {"topology.kubernetes.io/region": "eu", "topology.kubernetes.io/zone": "a"}
    assert zone_key({"metadata": {"labels": labels}}) == "eu:\x00:a"


def test_health_moves_with_heartbeats_and_renewals_only() -> None:
    ready = node({"Ready": "True"})
    health = observe(None, ready, None, NOW)
    health = observe(health, ready, None, NOW + 30)
    assert health.probe_timestamp == NOW  # nothing moved
    lease = {"spec": {"renewTime": "2027-01-15T08:00:40.000000Z"}}
    assert observe(health, ready, lease, NOW + 40).probe_timestamp == NOW + 40
    conditions = unknown_conditions(ready, NOW + 90)
    assert conditions is not None
    by_type = {c["type"]: c for c in conditions}
    assert by_type["Ready"]["reason"] == "NodeStatusUnknown"
    assert by_type["MemoryPressure"]["reason"] == "NodeStatusNeverUpdated"
    assert by_type["MemoryPressure"]["message"] == "Kubelet never posted node status."
    assert unknown_conditions({**ready, "status": {"conditions": conditions}}, NOW + 95) is None
