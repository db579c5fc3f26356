"""NodePorts: two pods cannot hold the same ``hostPort`` on one node.

A container port with ``hostPort`` claims (protocol, host IP, port) on its node; the wildcard
address 0.0.0.0 overlaps every address. ``NodeInfo`` keeps the node's claimed ports, so the
check is a few set lookups per node; pods without host ports skip the filter altogether. The
conflict is *resolvable*: evicting the pod holding the port would free it.
"""

from __future__ import annotations

from ..framework import SKIP, SUCCESS, CycleState, NodeInfo, Object, Status, unschedulable
from ..resources import host_ports, ports_conflict

NAME = "NodePorts"
REASON = "node(s) didn't have free ports for the requested pod ports"
_KEY = "NodePorts.wanted"


class NodePorts:
    name = NAME

    def pre_filter(self, state: CycleState, pod: Object) -> Status:
        wanted = state.data[_KEY] = host_ports(pod)
        return SUCCESS if wanted else SKIP

    def filter(self, state: CycleState, pod: Object, node: NodeInfo) -> Status:
        wanted = state.data.get(_KEY)
        if wanted is None:
            wanted = host_ports(pod)
        for port in wanted:
            if any(ports_conflict(port, used) for used in node.used_ports):
                return unschedulable(NAME, REASON)
        return SUCCESS
