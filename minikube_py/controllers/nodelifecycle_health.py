"""When did we last hear from a node? The node lifecycle controller's view of node health.

A kubelet proves it is alive two ways: it renews its Lease in ``kube-node-lease`` every 10 s,
and it posts the node's status (with a fresh ``lastHeartbeatTime`` on its conditions) when
something changed or every 5 minutes. The controller does not trust the timestamps written in
those objects — the kubelet's clock may be off — but notes *on its own clock* when it saw
either move (upstream's ``nodeHealthData.probeTimestamp``). A node not heard from for the grace
period (40 s; 60 s for a node that never posted a Ready condition) gets its ``Ready``,
``MemoryPressure``, ``DiskPressure`` and ``PIDPressure`` conditions set to ``Unknown`` —
reason ``NodeStatusUnknown``, "Kubelet stopped posting node status." (``NodeStatusNeverUpdated``,
"Kubelet never posted node status.", for a condition the node never had).
``NetworkUnavailable`` is left alone: the network plugin owns it.
"""

from __future__ import annotations

import copy
from typing import Any

import attrs

from minikube_py.api.stamps import rfc3339
from minikube_py.controllers.nodelifecycle_taints import condition

Object = dict[str, Any]
STARTUP_GRACE_PERIOD = 60.0  # upstream's --node-startup-grace-period
MONITORED = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")


@attrs.define
class NodeHealth:
    """What the controller last saw of one node, and when (on its own clock)."""

    probe_timestamp: float
    ready_transition: float
    heartbeat: Any = None  # the Ready condition's lastHeartbeatTime as last seen
    ready_status: Any = None
    renew_time: Any = None  # the Lease's renewTime as last seen


def observe(
    health: NodeHealth | None, node: Object, lease: Object | None, now: float
) -> NodeHealth:
    """``health`` brought up to date with the node and its Lease (upstream's first half of
    tryUpdateNodeHealth): a changed heartbeat or a newer renewal counts as hearing from it."""
    ready = condition(node, "Ready")
    heartbeat = None if ready is None else ready.get("lastHeartbeatTime")
    status = None if ready is None else ready.get("status")
    if health is None:
        health = NodeHealth(now, now, heartbeat, status)
    elif heartbeat != health.heartbeat:  # only the kubelet moves it; our Unknown does not
        if status != health.ready_status:
            health.ready_transition = now
        health.probe_timestamp = now
        health.heartbeat, health.ready_status = heartbeat, status
    renew = ((lease or {}).get("spec") or {}).get("renewTime")
    if renew is not None and renew != health.renew_time:
        health.renew_time = renew
        health.probe_timestamp = now
    return health


def grace_period(node: Object, monitor_grace: float, startup_grace: float) -> float:
    return startup_grace if condition(node, "Ready") is None else monitor_grace


def unknown_conditions(node: Object, now: float) -> list[Object] | None:
    """The node's conditions with the monitored ones set to Unknown, or ``None`` if they
    already are (upstream's second half of tryUpdateNodeHealth)."""
    conditions = copy.deepcopy(list((node.get("status") or {}).get("conditions") or []))
    created = (node.get("metadata") or {}).get("creationTimestamp")
    changed = False
    for kind in MONITORED:
        current = next((c for c in conditions if c.get("type") == kind), None)
        if current is None:
            conditions.append(
                {
                    "type": kind,
                    "status": "Unknown",
                    "reason": "NodeStatusNeverUpdated",
                    "message": "Kubelet never posted node status.",
                    "lastHeartbeatTime": created,
                    "lastTransitionTime": rfc3339(now),
                }
            )
            changed = True
        elif current.get("status") != "Unknown":
            current.update(
                status="Unknown",
                reason="NodeStatusUnknown",
                message="Kubelet stopped posting node status.",
                lastTransitionTime=rfc3339(now),
            )
            changed = True
    return conditions if changed else None
