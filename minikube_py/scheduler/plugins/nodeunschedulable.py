"""NodeUnschedulable: cordoned nodes (``spec.unschedulable: true``) take no new pods.

``kubectl cordon`` sets the flag. A pod that tolerates the ``node.kubernetes.io/unschedulable``
NoSchedule taint (DaemonSet pods do) may still land there, as upstream allows.
"""

from __future__ import annotations

from ..framework import SUCCESS, CycleState, NodeInfo, Object, Status, unschedulable
from ..resources import tolerates

NAME = "NodeUnschedulable"
REASON = "node(s) were unschedulable"
TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


class NodeUnschedulable:
    name = NAME

    def filter(self, state: CycleState, pod: Object, node: NodeInfo) -> Status:
        if not (node.node.get("spec") or {}).get("unschedulable"):
            return SUCCESS
        tolerations = (pod.get("spec") or {}).get("tolerations") or []
        if any(tolerates(t, TAINT) for t in tolerations):
            return SUCCESS
        return unschedulable(NAME, REASON, unresolvable=True)
