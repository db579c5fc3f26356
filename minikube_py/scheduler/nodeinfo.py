"""NodeInfo: one node as the scheduler sees it, with running totals of the pods placed there.

A scheduling cycle asks thousands of small questions ("does this pod fit on that node?"), so
the answers must not walk the node's pods or re-parse its object each time. ``NodeInfo`` keeps
them precomputed, as upstream's ``framework.NodeInfo`` does:

- from the Node object (recomputed by ``set_node`` when the node changes): allocatable
  resources, labels, taints split into hard (NoSchedule, NoExecute) and soft
  (PreferNoSchedule), and the ``spec.unschedulable`` flag;
- from the pods placed on it (updated by ``add_pod`` / ``remove_pod``): the sum of their
  requests, the same sum with upstream's defaults for pods that request nothing (what scoring
  uses, so best-effort pods still count), their host ports, the pods of each owner, and the
  pods themselves by key (what preemption would need).

Pod updates on a node never rebuild it: a node's heartbeat changes only the node half. CPU,
memory and the pod count, which every cycle reads on every node, are also kept as plain ints
(``cpu_allocatable``, ``cpu_requested`` …): attribute reads are the cheapest thing Python has.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from .resources import HostPort, allocatable_of, host_ports, owner_uid, pod_requests

Object = dict[str, Any]
# Upstream's defaults for a pod without requests, when *scoring* (never when filtering).
DEFAULT_MILLI_CPU = 100
DEFAULT_MEMORY = 200 * 1024 * 1024
HARD_EFFECTS = ("NoSchedule", "NoExecute")


def pod_key(pod: Object) -> str:
    meta = pod["metadata"]
    return f"{meta.get('namespace', 'default')}/{meta['name']}"


def non_zero(requests: Counter[str]) -> tuple[int, int]:
    """CPU (millicores) and memory a pod counts for when scoring."""
    return requests.get("cpu") or DEFAULT_MILLI_CPU, requests.get("memory") or DEFAULT_MEMORY


class NodeInfo:
    """One node plus the running totals of the pods assigned to it."""

    __slots__ = (
        "allocatable",
        "cpu_allocatable",
        "cpu_requested",
        "hard_taints",
        "labels",
        "memory_allocatable",
        "memory_requested",
        "name",
        "node",
        "non_zero_cpu",
        "non_zero_memory",
        "owners",
        "pod_requests",
        "pods",
        "pods_allocatable",
        "requested",
        "soft_taints",
        "unschedulable",
        "used_ports",
    )

    def __init__(self, node: Object, pods: Iterable[Object] = ()) -> None:
        self.set_node(node)
        self.requested: Counter[str] = Counter()
        self.cpu_requested = 0
        self.memory_requested = 0
        self.non_zero_cpu = 0
        self.non_zero_memory = 0
        self.used_ports: Counter[HostPort] = Counter()
        self.owners: Counter[str] = Counter()  # pods per controller uid, for spreading
        self.pods: dict[str, Object] = {}
        self.pod_requests: dict[str, Counter[str]] = {}  # as counted, so removal needs no parse
        for pod in pods:
            self.add_pod(pod)

    @property
    def pod_count(self) -> int:
        return len(self.pods)

    def set_node(self, node: Object) -> None:
        """The node object changed (labels, taints, capacity, cordon): refresh that half."""
        self.node = node
        self.name: str = node["metadata"]["name"]
        self.labels: dict[str, str] = node["metadata"].get("labels") or {}
        self.allocatable: dict[str, int] = allocatable_of(node)
        self.cpu_allocatable = self.allocatable.get("cpu", 0)
        self.memory_allocatable = self.allocatable.get("memory", 0)
        self.pods_allocatable = self.allocatable.get("pods", 110)
        spec = node.get("spec") or {}
        taints: list[Object] = list(spec.get("taints") or [])
        self.hard_taints = [t for t in taints if t.get("effect") in HARD_EFFECTS]
        self.soft_taints = [t for t in taints if t.get("effect") == "PreferNoSchedule"]
        self.unschedulable = bool(spec.get("unschedulable"))

    def add_pod(self, pod: Object, requests: Counter[str] | None = None) -> None:
        key = pod_key(pod)
        if key in self.pods:
            self.remove_pod(self.pods[key])
        requests = pod_requests(pod) if requests is None else requests
        self.pods[key] = pod
        self.pod_requests[key] = requests
        self.requested.update(requests)
        self.cpu_requested += requests.get("cpu", 0)
        self.memory_requested += requests.get("memory", 0)
        cpu, memory = non_zero(requests)
        self.non_zero_cpu += cpu
        self.non_zero_memory += memory
        ports = host_ports(pod)
        if ports:
            self.used_ports.update(ports)
        uid = owner_uid(pod)
        if uid:
            self.owners[uid] += 1

    def remove_pod(self, pod: Object) -> None:
        key = pod_key(pod)
        counted = self.pods.pop(key, None)
        if counted is None:
            return
        requests = self.pod_requests.pop(key)
        self.requested.subtract(requests)
        self.requested = +self.requested
        self.cpu_requested -= requests.get("cpu", 0)
        self.memory_requested -= requests.get("memory", 0)
        cpu, memory = non_zero(requests)
        self.non_zero_cpu -= cpu
        self.non_zero_memory -= memory
        ports = host_ports(counted)
        if ports:
            self.used_ports.subtract(ports)
            self.used_ports = +self.used_ports  # drop ports no pod uses any more
        uid = owner_uid(counted)
        if uid:
            self.owners[uid] -= 1

    def without(self, keys: Iterable[str]) -> NodeInfo:
        """A copy without some pods: what the node would look like after evicting them."""
        gone = set(keys)
        return NodeInfo(self.node, (p for k, p in self.pods.items() if k not in gone))
