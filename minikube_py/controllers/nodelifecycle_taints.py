"""The taints the node lifecycle controller keeps on nodes, and how it groups nodes in zones.

Two sets of taints follow a node's health (upstream's ``pkg/controller/nodelifecycle``):

- **NoSchedule, by condition** ("taint nodes by condition"): each troubled condition becomes a
  ``NoSchedule`` taint so the scheduler keeps new pods away — ``Ready`` ``False`` →
  ``node.kubernetes.io/not-ready``, ``Ready`` ``Unknown`` → ``unreachable``, ``MemoryPressure``
  / ``DiskPressure`` / ``PIDPressure`` / ``NetworkUnavailable`` ``True`` → ``memory-pressure``
  / ``disk-pressure`` / ``pid-pressure`` / ``network-unavailable``, and ``spec.unschedulable``
  (a cordon) → ``unschedulable``. They come and go with the conditions.
- **NoExecute, by readiness**: ``not-ready`` (Ready ``False``) or ``unreachable`` (Ready
  ``Unknown``), stamped with ``timeAdded``; these evict pods (``taint_eviction.py``). They go
  when the node is ready again.

Nodes are grouped in zones (the ``topology.kubernetes.io/region`` and ``zone`` labels). A zone
whose nodes are all not ready is in *full disruption*; one with more than two not-ready nodes
and at least 55 % of them in *partial disruption*. When every zone is fully disrupted the
controller suspects itself or the network rather than the nodes and evicts nothing — a
one-node cluster whose only node stops reporting keeps its pods, as in Kubernetes.
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.stamps import rfc3339
from minikube_py.controllers.daemonset_nodes import (
    DISK_PRESSURE,
    MEMORY_PRESSURE,
    NETWORK_UNAVAILABLE,
    NOT_READY,
    PID_PRESSURE,
    UNREACHABLE,
    UNSCHEDULABLE,
)

Object = dict[str, Any]
CONDITION_TAINTS: dict[tuple[str, str], str] = {
    ("Ready", "False"): NOT_READY,
    ("Ready", "Unknown"): UNREACHABLE,
    ("MemoryPressure", "True"): MEMORY_PRESSURE,
    ("DiskPressure", "True"): DISK_PRESSURE,
    ("PIDPressure", "True"): PID_PRESSURE,
    ("NetworkUnavailable", "True"): NETWORK_UNAVAILABLE,
}
_MANAGED_NO_SCHEDULE = {*CONDITION_TAINTS.values(), UNSCHEDULABLE}
UNHEALTHY_ZONE_THRESHOLD = 0.55
NORMAL, PARTIAL, FULL = "Normal", "PartialDisruption", "FullDisruption"


def _taints(node: Object) -> list[Object]:
    return list((node.get("spec") or {}).get("taints") or [])


def conditions(node: Object) -> list[Object]:
    return list((node.get("status") or {}).get("conditions") or [])


def condition(node: Object, kind: str) -> Object | None:
    return next((c for c in conditions(node) if c.get("type") == kind), None)


def no_schedule_taints(node: Object) -> list[Object] | None:
    """The node's taints with the condition NoSchedule taints brought up to date, or ``None``
    when they already are (upstream's doNoScheduleTaintingPass)."""
    wanted = [
        key
        for c in conditions(node)
        if (key := CONDITION_TAINTS.get((str(c.get("type")), str(c.get("status"))))) is not None
    ]
    if (node.get("spec") or {}).get("unschedulable"):
        wanted.append(UNSCHEDULABLE)
    current = _taints(node)
    managed = {
        t["key"]
        for t in current
        if t.get("effect") == "NoSchedule" and t.get("key") in _MANAGED_NO_SCHEDULE
    }
    if managed == set(wanted):
        return None
    kept = [
        t
        for t in current
        if not (
            t.get("effect") == "NoSchedule" and t.get("key") in _MANAGED_NO_SCHEDULE - set(wanted)
        )
    ]
    added = [
        {"key": key, "effect": "NoSchedule"} for key in dict.fromkeys(wanted) if key not in managed
    ]
    return kept + added


def no_execute_taints(
    node: Object, ready: str, now: float, *, allowed: bool
) -> list[Object] | None:
    """The node's taints with the readiness NoExecute taint for Ready status ``ready``, or
    ``None`` when they need no change. A first such taint only if ``allowed`` (the zone is not
    in disruption); swapping ``unreachable`` for ``not-ready`` or back always, as upstream."""
    wanted = {"False": NOT_READY, "Unknown": UNREACHABLE}.get(ready)
    current = _taints(node)
    present = {t["key"] for t in current if _readiness_no_execute(t)}
    target = {wanted} if wanted is not None and (present or allowed) else set()
    if present == target:
        return None
    kept = [t for t in current if not _readiness_no_execute(t)]
    if wanted not in target:
        return kept
    return [*kept, {"key": wanted, "effect": "NoExecute", "timeAdded": rfc3339(now)}]


def _readiness_no_execute(taint: Object) -> bool:
    return taint.get("effect") == "NoExecute" and taint.get("key") in (NOT_READY, UNREACHABLE)


def without_no_execute(node: Object) -> list[Object] | None:
    """The node's taints less the readiness NoExecute ones, or ``None`` if it has none."""
    current = _taints(node)
    kept = [t for t in current if not _readiness_no_execute(t)]
    return None if len(kept) == len(current) else kept


def zone_key(node: Object) -> str:
    """Region and zone, as upstream's GetZoneKey (empty when the node has neither)."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    region = labels.get("topology.kubernetes.io/region") or labels.get(
        "failure-domain.beta.kubernetes.io/region", ""
    )
    zone = labels.get("topology.kubernetes.io/zone") or labels.get(
        "failure-domain.beta.kubernetes.io/zone", ""
    )
    return f"{region}:\x00:{zone}" if region or zone else ""


def zone_state(ready: int, not_ready: int) -> str:
    """Upstream's ComputeZoneState."""
    if not_ready > 0 and ready == 0:
        return FULL
    if not_ready > 2 and not_ready / (ready + not_ready) >= UNHEALTHY_ZONE_THRESHOLD:
        return PARTIAL
    return NORMAL
