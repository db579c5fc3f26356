"""The scheduler's picture of the cluster: its nodes, and the pods counted on each of them.

A scheduling cycle asks of every node what is left on it, so the scheduler keeps one
``NodeInfo`` per node (the node plus the summed requests and host ports of the pods on it),
updated from the watch as nodes and pods come, change and go.

A pod bound by this scheduler is *assumed* onto its node at once, before the watch reports the
binding, so the next cycle already sees the node as fuller — upstream's scheduler cache does
the same. A pod's requests are parsed once when it is placed, not on every change, and a node
that appears after its pods (a node informer behind the pod informer) picks them up.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from .nodeinfo import NodeInfo
from .resources import pod_requests

Object = dict[str, Any]


class SchedulerCache:
    """Nodes by name, and every placed pod (bound or assumed) with its node and requests."""

    def __init__(self) -> None:
        self.nodes: dict[str, NodeInfo] = {}
        self._node_list: list[NodeInfo] | None = None  # rebuilt when nodes come or go
        # pod key → (node, pod as counted, its requests): parsed once per pod, not per change
        self._placed: dict[str, tuple[str, Object, Counter[str]]] = {}

    def node_list(self) -> list[NodeInfo]:
        """The nodes, as the list a scheduling cycle walks."""
        if self._node_list is None:
            self._node_list = list(self.nodes.values())
        return self._node_list

    def node_of(self, key: str) -> str | None:
        """The node the pod ``key`` is counted on, None if it is on none."""
        placed = self._placed.get(key)
        return None if placed is None else placed[0]

    def set_node(self, node: Object) -> bool:
        """Add or update a node (its pods stay counted); True if the node is new."""
        name = node["metadata"]["name"]
        known = self.nodes.get(name)
        if known is not None:
            known.set_node(node)  # its pods stay counted; only the node half changes
            return False
        fresh = self.nodes[name] = NodeInfo(node)
        for placed_node, pod, requests in self._placed.values():
            if placed_node == name:
                fresh.add_pod(pod, requests)
        self._node_list = None
        return True

    def remove_node(self, name: str) -> None:
        if self.nodes.pop(name, None) is not None:
            self._node_list = None

    def place(self, key: str, node: str, pod: Object, requests: Counter[str] | None = None) -> None:
        """Count ``pod`` on ``node`` (``requests``: already parsed by the cycle)."""
        requests = pod_requests(pod) if requests is None else requests
        self._placed[key] = (node, pod, requests)
        if node in self.nodes:
            self.nodes[node].add_pod(pod, requests)

    def unplace(self, key: str) -> bool:
        """Stop counting the pod ``key``; False if it was not counted anywhere."""
        placed = self._placed.pop(key, None)
        if placed is None:
            return False
        node, pod, _requests = placed
        if node in self.nodes:
            self.nodes[node].remove_pod(pod)
        return True
