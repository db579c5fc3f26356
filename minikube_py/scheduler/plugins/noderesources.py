"""NodeResourcesFit and NodeResourcesBalancedAllocation: does the pod fit, and how well.

The filter compares the pod's effective requests (see ``resources.py``) with what is left of
the node's allocatable resources after the requests of the pods already there; each resource
that does not fit gives upstream's reason ``Insufficient <name>``, and a full node gives
``Too many pods``. Only resources the pod requests are checked. These failures are
*resolvable*: evicting lower-priority pods could make room, so preemption looks at them.

Scoring, on CPU and memory, with upstream's integer arithmetic: *least allocated* prefers
emptier nodes (spreading load) and counts a pod without requests as 100m CPU and 200Mi memory,
on the node's side too (``NodeInfo.non_zero_*``), so best-effort pods still spread; *balanced
allocation* prefers nodes whose CPU and memory would be used in equal proportion, on the real
requests.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ..framework import MAX_NODE_SCORE, SUCCESS, CycleState, NodeInfo, Object, Status, unschedulable
from ..nodeinfo import non_zero
from ..resources import pod_requests

FIT = "NodeResourcesFit"
BALANCED = "NodeResourcesBalancedAllocation"
_KEY = "NodeResourcesFit.requests"
_FIT_KEY = "NodeResourcesFit.cpuMemoryOthers"


def requests_of(state: CycleState, pod: Object) -> Counter[str]:
    """The pod's effective requests, computed once per cycle."""
    cached: Counter[str] | None = state.data.get(_KEY)
    if cached is None:
        cached = state.data[_KEY] = pod_requests(pod)
    return cached


def _least_requested(requested: int, capacity: int) -> int:
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


class NodeResourcesFit:
    name = FIT

    def pre_filter(self, state: CycleState, pod: Object) -> Status:
        requests = requests_of(state, pod)
        others = any(resource not in ("cpu", "memory") for resource in requests)
        state.data[_FIT_KEY] = (requests.get("cpu", 0), requests.get("memory", 0), others)
        return SUCCESS

    def filter_nodes(
        self, state: CycleState, pod: Object, nodes: Sequence[NodeInfo]
    ) -> dict[int, Status]:
        wanted: tuple[int, int, bool] | None = state.data.get(_FIT_KEY)
        if wanted is None or wanted[2]:  # no PreFilter, or more than CPU and memory
            failures = ((i, self.filter(state, pod, n)) for i, n in enumerate(nodes))
            return {index: status for index, status in failures if not status.ok}
        cpu, memory, _ = wanted
        return {
            index: self.filter(state, pod, node)
            for index, node in enumerate(nodes)
            if len(node.pods) >= node.pods_allocatable
            or cpu > node.cpu_allocatable - node.cpu_requested
            or memory > node.memory_allocatable - node.memory_requested
        }

    def filter(self, state: CycleState, pod: Object, node: NodeInfo) -> Status:
        wanted: tuple[int, int, bool] | None = state.data.get(_FIT_KEY)
        if wanted is not None:  # the common case, checked with plain ints
            cpu, memory, others = wanted
            if (
                not others
                and len(node.pods) < node.pods_allocatable
                and cpu <= node.cpu_allocatable - node.cpu_requested
                and memory <= node.memory_allocatable - node.memory_requested
            ):
                return SUCCESS
        reasons = []
        if len(node.pods) >= node.pods_allocatable:
            reasons.append("Too many pods")
        for resource, amount in requests_of(state, pod).items():
            if resource == "cpu":
                free = node.cpu_allocatable - node.cpu_requested
            elif resource == "memory":
                free = node.memory_allocatable - node.memory_requested
            else:
                free = node.allocatable.get(resource, 0) - node.requested.get(resource, 0)
            if amount > free:
                reasons.append(f"Insufficient {resource}")
        return unschedulable(FIT, *sorted(reasons)) if reasons else SUCCESS

    def score(self, state: CycleState, pod: Object, node: NodeInfo) -> int:
        """LeastAllocated: the mean over CPU and memory of the share left free after placing."""
        return self.score_nodes(state, pod, (node,))[0]

    def score_nodes(self, state: CycleState, pod: Object, nodes: Sequence[NodeInfo]) -> list[int]:
        cpu, memory = non_zero(requests_of(state, pod))
        scores: list[int] = []
        append = scores.append  # the loop runs for every feasible node of every cycle
        for node in nodes:
            cpu_capacity, memory_capacity = node.cpu_allocatable, node.memory_allocatable
            if cpu_capacity and memory_capacity:
                cpu_used, memory_used = node.non_zero_cpu + cpu, node.non_zero_memory + memory
                cpu_score = (
                    (cpu_capacity - cpu_used) * MAX_NODE_SCORE // cpu_capacity
                    if cpu_used <= cpu_capacity
                    else 0
                )
                memory_score = (
                    (memory_capacity - memory_used) * MAX_NODE_SCORE // memory_capacity
                    if memory_used <= memory_capacity
                    else 0
                )
                append((cpu_score + memory_score) // 2)
            elif cpu_capacity:
                append(_least_requested(node.non_zero_cpu + cpu, cpu_capacity))
            elif memory_capacity:
                append(_least_requested(node.non_zero_memory + memory, memory_capacity))
            else:
                append(0)
        return scores


class BalancedAllocation:
    name = BALANCED

    def score(self, state: CycleState, pod: Object, node: NodeInfo) -> int:
        return self.score_nodes(state, pod, (node,))[0]

    def score_nodes(self, state: CycleState, pod: Object, nodes: Sequence[NodeInfo]) -> list[int]:
        wanted = requests_of(state, pod)
        cpu, memory = wanted.get("cpu", 0), wanted.get("memory", 0)
        scores: list[int] = []
        append = scores.append
        for node in nodes:
            cpu_capacity, memory_capacity = node.cpu_allocatable, node.memory_allocatable
            if not (cpu_capacity and memory_capacity):
                append(MAX_NODE_SCORE)  # fewer than two resources: no deviation
                continue
            cpu_share = (node.cpu_requested + cpu) / cpu_capacity
            memory_share = (node.memory_requested + memory) / memory_capacity
            cpu_share = 1.0 if cpu_share > 1.0 else cpu_share
            memory_share = 1.0 if memory_share > 1.0 else memory_share
            # Upstream: 1 - the standard deviation of the shares; for two, half their gap.
            append(int((1.0 - abs(cpu_share - memory_share) / 2) * MAX_NODE_SCORE))
        return scores
