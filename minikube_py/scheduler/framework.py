"""The scheduling framework: how one pod is matched to one node, in kube-scheduler's shape.

A scheduling *cycle* takes one pending pod and the cluster's nodes. Every **Filter** plugin
judges every node (can the pod run there at all?); a node that fails one filter is out, and the
failing plugin's *reasons* are remembered. Every **Score** plugin then rates the remaining
(feasible) nodes from 0 to 100; some plugins **normalize** their raw scores across nodes first.
Scores are multiplied by the plugin's *weight* and summed; the highest total wins, ties broken
at random (a seedable ``random.Random``). If no node is feasible the cycle raises ``FitError``,
whose message is upstream's histogram of reasons — ``0/3 nodes are available: 1 node(s) had
untolerated taint {dedicated: gpu}, 2 Insufficient memory.`` — the text users see in
``FailedScheduling`` events.

``NodeInfo`` keeps what the plugins need about a node precomputed (allocatable resources, the
sum of its pods' requests, its used host ports), so a cycle never walks a node's pods again.
``CycleState`` carries what a plugin's PreFilter computed once per pod to its Filter calls.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol, runtime_checkable

from .resources import HostPort, allocatable_of, host_ports, owner_uid, pod_requests

Object = dict[str, Any]
MAX_NODE_SCORE = 100


class Code(Enum):
    SUCCESS = "Success"
    UNSCHEDULABLE = "Unschedulable"
    # Unresolvable: preemption cannot help (upstream distinguishes it; we keep the label).
    UNRESOLVABLE = "UnschedulableAndUnresolvable"
    ERROR = "Error"


@dataclass(frozen=True)
class Status:
    """A plugin's verdict; ``reasons`` are upstream's exact texts, counted by ``FitError``."""

    code: Code = Code.SUCCESS
    reasons: tuple[str, ...] = ()
    plugin: str = ""

    @property
    def ok(self) -> bool:
        return self.code is Code.SUCCESS


SUCCESS = Status()


def unschedulable(plugin: str, *reasons: str, unresolvable: bool = False) -> Status:
    code = Code.UNRESOLVABLE if unresolvable else Code.UNSCHEDULABLE
    return Status(code, reasons, plugin)


class NodeInfo:
    """One node plus the running totals of the pods assigned to it."""

    __slots__ = ("allocatable", "name", "node", "owners", "pod_count", "requested", "used_ports")

    def __init__(self, node: Object, pods: Iterable[Object] = ()) -> None:
        self.node = node
        self.name: str = node["metadata"]["name"]
        self.allocatable: dict[str, int] = allocatable_of(node)
        self.requested: Counter[str] = Counter()
        self.pod_count = 0
        self.used_ports: Counter[HostPort] = Counter()
        self.owners: Counter[str] = Counter()  # pods per controller uid, for spreading
        for pod in pods:
            self.add_pod(pod)

    def add_pod(self, pod: Object) -> None:
        self.requested.update(pod_requests(pod))
        self.pod_count += 1
        self.used_ports.update(host_ports(pod))
        uid = owner_uid(pod)
        if uid:
            self.owners[uid] += 1

    def remove_pod(self, pod: Object) -> None:
        self.requested.subtract(pod_requests(pod))
        self.pod_count -= 1
        self.used_ports.subtract(host_ports(pod))
        self.used_ports = +self.used_ports  # drop ports no pod uses any more
        uid = owner_uid(pod)
        if uid:
            self.owners[uid] -= 1


@dataclass
class CycleState:
    """Scratch space for one pod's cycle (e.g. its summed requests, computed once)."""

    data: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class PreFilterPlugin(Protocol):
    name: str

    def pre_filter(self, state: CycleState, pod: Object) -> Status: ...


class FilterPlugin(Protocol):
    name: str

    def filter(self, state: CycleState, pod: Object, node: NodeInfo) -> Status: ...


class ScorePlugin(Protocol):
    name: str

    def score(self, state: CycleState, pod: Object, node: NodeInfo) -> int: ...


@runtime_checkable
class NormalizingScorePlugin(ScorePlugin, Protocol):
    def normalize(self, state: CycleState, pod: Object, scores: dict[str, int]) -> None: ...


class FitError(Exception):
    """No node fits; ``str()`` is upstream's aggregated ``FailedScheduling`` message."""

    def __init__(self, pod: Object, num_nodes: int, statuses: dict[str, Status]) -> None:
        self.pod = pod
        self.num_nodes = num_nodes
        self.statuses = statuses  # node name → the filter status that rejected it
        super().__init__(self.message())

    def histogram(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for status in self.statuses.values():
            counts.update(status.reasons)
        return counts

    def message(self) -> str:
        # Upstream formats "<count> <reason>" and sorts those strings lexically.
        if self.num_nodes == 0:  # upstream's ErrNoNodesAvailable
            return "no nodes available to schedule pods"
        parts = sorted(f"{count} {reason}" for reason, count in self.histogram().items())
        text = f"0/{self.num_nodes} nodes are available:"
        if parts:
            text += " " + ", ".join(parts) + "."
        return text


@runtime_checkable
class PreScorePlugin(Protocol):
    def pre_score(self, state: CycleState, pod: Object) -> bool:
        """False: nothing to score for this pod (upstream's Skip), so the plugin sits out."""
        ...


@dataclass
class Profile:
    """The plugins of one scheduler profile (``default-scheduler``) and their score weights."""

    filters: Sequence[FilterPlugin]
    scores: Sequence[tuple[ScorePlugin, int]] = ()
    name: str = "default-scheduler"
    next_start: int = 0  # where the next cycle starts filtering, so all nodes take turns


def feasible_nodes_to_find(num_nodes: int) -> int:
    """Upstream's adaptive percentageOfNodesToScore: big clusters stop filtering early."""
    if num_nodes < 100:
        return num_nodes
    percentage = max(50 - num_nodes // 125, 5)
    return max(num_nodes * percentage // 100, 100)


def schedule_one(
    profile: Profile, pod: Object, nodes: Sequence[NodeInfo], rng: random.Random
) -> str:
    """The node name the pod should be bound to; raises ``FitError`` if none fits."""
    state = CycleState()
    for plugin in profile.filters:
        if isinstance(plugin, PreFilterPlugin):
            status = plugin.pre_filter(state, pod)
            if not status.ok:  # upstream: a PreFilter rejection applies to every node
                raise FitError(pod, len(nodes), {n.name: status for n in nodes})
    feasible: list[NodeInfo] = []
    failed: dict[str, Status] = {}
    wanted, count, processed = feasible_nodes_to_find(len(nodes)), len(nodes), 0
    for offset in range(count):
        node = nodes[(profile.next_start + offset) % count]
        processed += 1
        for plugin in profile.filters:
            status = plugin.filter(state, pod, node)
            if status.code is not Code.SUCCESS:
                failed[node.name] = status
                break
        else:
            feasible.append(node)
            if len(feasible) >= wanted:
                break
    profile.next_start = (profile.next_start + processed) % count if count else 0
    if not feasible:
        raise FitError(pod, len(nodes), failed)
    if len(feasible) == 1 or not profile.scores:
        return rng.choice(feasible).name if len(feasible) > 1 else feasible[0].name
    totals = dict.fromkeys((n.name for n in feasible), 0)
    for scorer, weight in profile.scores:
        if isinstance(scorer, PreScorePlugin) and not scorer.pre_score(state, pod):
            continue
        scores = {n.name: scorer.score(state, pod, n) for n in feasible}
        if isinstance(scorer, NormalizingScorePlugin):
            scorer.normalize(state, pod, scores)
        for name, value in scores.items():
            totals[name] += value * weight
    best = max(totals.values())
    return rng.choice([name for name, total in totals.items() if total == best])


def normalize_to_max(scores: dict[str, int], *, reverse: bool) -> None:
    """Upstream's DefaultNormalizeScore: scale to 0-100 by the highest score, maybe reversed."""
    highest = max(scores.values(), default=0)
    for name, raw in scores.items():
        if highest == 0:
            scores[name] = MAX_NODE_SCORE if reverse else 0
            continue
        scaled = MAX_NODE_SCORE * raw // highest
        scores[name] = MAX_NODE_SCORE - scaled if reverse else scaled
