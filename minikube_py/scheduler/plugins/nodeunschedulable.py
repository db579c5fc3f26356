"""NodeUnschedulable: cordoned nodes (``spec.unschedulable: true``) take no new pods.

``kubectl cordon`` sets the flag. A pod that tolerates the ``node.kubernetes.io/unschedulable``
NoSchedule taint (DaemonSet pods do) may still land there, as upstream allows. The reason text
is upstream's word for word, and it is *unresolvable*: evicting pods would not uncordon the
node, so preemption says it would not help.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..framework import SUCCESS, CycleState, NodeInfo, Object, Status, unschedulable
from ..resources import tolerates

NAME = "NodeUnschedulable"
REASON = "node(s) were unschedulable"
TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


class NodeUnschedulable:
    name = NAME

    def filter_nodes(
        self, state: CycleState, pod: Object, nodes: Sequence[NodeInfo]
    ) -> dict[int, Status]:
        return {
            index: status
            for index, node in enumerate(nodes)
            if node.unschedulable and not (status := self.filter(state, pod, node)).ok
        }

    def filter(self, state: CycleState, pod: Object, node: NodeInfo) -> Status:
        if not node.unschedulable:
            return SUCCESS
        tolerations = (pod.get("spec") or {}).get("tolerations") or []
        if any(tolerates(t, TAINT) for t in tolerations):
            return SUCCESS
        return unschedulable(NAME, REASON, unresolvable=True)
