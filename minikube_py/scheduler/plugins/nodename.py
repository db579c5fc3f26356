"""NodeName: a pod that names its node (``spec.nodeName``) may only go there.

Pods with ``nodeName`` already set are normally bound and never reach the scheduler; the filter
exists for completeness and for pods whose name was set by a client that still expects the
scheduler to check it. Upstream's reason text is kept word for word. Pods that name no node
skip the filter in PreFilter, so it costs nothing per node.
"""

from __future__ import annotations

from ..framework import SKIP, SUCCESS, CycleState, NodeInfo, Object, Status, unschedulable

NAME = "NodeName"
REASON = "node(s) didn't match the requested node name"


class NodeName:
    name = NAME

    def pre_filter(self, state: CycleState, pod: Object) -> Status:
        return SUCCESS if (pod.get("spec") or {}).get("nodeName") else SKIP

    def filter(self, state: CycleState, pod: Object, node: NodeInfo) -> Status:
        wanted = (pod.get("spec") or {}).get("nodeName")
        if not wanted or wanted == node.name:
            return SUCCESS
        return unschedulable(NAME, REASON, unresolvable=True)
