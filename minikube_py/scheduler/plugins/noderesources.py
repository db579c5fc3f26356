"""NodeResourcesFit and NodeResourcesBalancedAllocation: does the pod fit, and how well.

The filter compares the pod's effective requests (see ``resources.py``) with what is left of
the node's allocatable resources after the requests of the pods already there; each resource
that does not fit gives upstream's reason ``Insufficient <name>``, and a full node gives
``Too many pods``. Only resources the pod requests are checked.

Scoring, on CPU and memory: *least allocated* prefers emptier nodes (spreading load), *balanced
allocation* prefers nodes whose CPU and memory would be used in equal proportion. A pod without
requests counts as 100m CPU and 200Mi memory when scoring, as upstream does, so best-effort pods
still spread.
"""

from __future__ import annotations

from collections import Counter

from ..framework import MAX_NODE_SCORE, SUCCESS, CycleState, NodeInfo, Object, Status, unschedulable
from ..resources import pod_requests

FIT = "NodeResourcesFit"
BALANCED = "NodeResourcesBalancedAllocation"
DEFAULT_MILLI_CPU = 100
DEFAULT_MEMORY = 200 * 1024 * 1024
SCORED = ("cpu", "memory")
_KEY = "NodeResourcesFit.requests"
_NON_ZERO_KEY = "NodeResourcesFit.nonZeroRequests"
_FRACTIONS_KEY = "NodeResources.fractions"


def _requests(state: CycleState, pod: Object) -> Counter[str]:
    cached: Counter[str] | None = state.data.get(_KEY)
    if cached is None:
        cached = state.data[_KEY] = pod_requests(pod)
    return cached


def _non_zero(requests: Counter[str]) -> dict[str, int]:
    return {
        "cpu": requests.get("cpu") or DEFAULT_MILLI_CPU,
        "memory": requests.get("memory") or DEFAULT_MEMORY,
    }


def _fractions(state: CycleState, pod: Object, node: NodeInfo) -> tuple[float, float]:
    """CPU and memory shares used after placing the pod; both scorers need them, so the
    first computes them and the second reads them from the cycle state."""
    cache: dict[str, tuple[float, float]] | None = state.data.get(_FRACTIONS_KEY)
    if cache is None:
        cache = state.data[_FRACTIONS_KEY] = {}
    elif node.name in cache:
        return cache[node.name]
    wanted: dict[str, int] | None = state.data.get(_NON_ZERO_KEY)
    if wanted is None:
        wanted = state.data[_NON_ZERO_KEY] = _non_zero(_requests(state, pod))
    shares = []
    for resource in SCORED:
        capacity = node.allocatable.get(resource, 0)
        used = node.requested.get(resource, 0) + wanted[resource]
        shares.append(min(used / capacity, 1.0) if capacity else 1.0)
    result = cache[node.name] = (shares[0], shares[1])
    return result


class NodeResourcesFit:
    name = FIT

    def pre_filter(self, state: CycleState, pod: Object) -> Status:
        _requests(state, pod)
        return SUCCESS

    def filter(self, state: CycleState, pod: Object, node: NodeInfo) -> Status:
        reasons = []
        if node.pod_count + 1 > node.allocatable.get("pods", 110):
            reasons.append("Too many pods")
        for resource, wanted in sorted(_requests(state, pod).items()):
            free = node.allocatable.get(resource, 0) - node.requested.get(resource, 0)
            if wanted > 0 and wanted > free:
                reasons.append(f"Insufficient {resource}")
        return unschedulable(FIT, *reasons) if reasons else SUCCESS

    def score(self, state: CycleState, pod: Object, node: NodeInfo) -> int:
        """LeastAllocated: the mean over CPU and memory of the free share after placing."""
        cpu, memory = _fractions(state, pod, node)
        free = (2.0 - cpu - memory) / 2
        return int(free * MAX_NODE_SCORE)


class BalancedAllocation:
    name = BALANCED

    def score(self, state: CycleState, pod: Object, node: NodeInfo) -> int:
        cpu, memory = _fractions(state, pod, node)
        # Upstream: 1 - standard deviation of the fractions; for two it is half their gap.
        return int((1.0 - abs(cpu - memory) / 2) * MAX_NODE_SCORE)
