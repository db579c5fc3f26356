"""The scheduling framework: how one pod is matched to one node, in kube-scheduler's shape.

A scheduling *cycle* takes one pending pod and the cluster's nodes. Every **Filter** plugin
judges every node (can the pod run there at all?); a node that fails one filter is out, and the
failing plugin's *reasons* are remembered. Every **Score** plugin then rates the remaining
(feasible) nodes from 0 to 100; some plugins **normalize** their raw scores across nodes first.
Scores are multiplied by the plugin's *weight* and summed; the highest total wins, ties broken
at random (a seedable ``random.Random``). If no node is feasible the cycle raises ``FitError``,
whose message is upstream's histogram of reasons — ``0/3 nodes are available: 1 node(s) had
untolerated taint {dedicated: gpu}, 2 Insufficient memory.`` — followed by what the
**PostFilter** (preemption) found, the text users see in ``FailedScheduling`` events.

A **PreFilter** runs once per pod before the nodes are judged: it computes what its Filter
needs into the ``CycleState``, may reject the pod outright (then every node fails with its
message), or answers *skip* when the pod asks nothing of it (no nodeSelector, no host ports),
so that Filter is not called at all — upstream's Skip, and most of a cycle's speed.
``NodeInfo`` (``nodeinfo.py``) keeps what the plugins need about a node precomputed;
``plugin.py`` describes the extension points a plugin may implement.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .fiterror import FitError as FitError  # re-exported: the cycle's failure
from .fiterror import histogram_message as histogram_message
from .nodeinfo import NodeInfo as NodeInfo  # re-exported: plugins judge NodeInfos
from .plugin import SKIP as SKIP
from .plugin import SUCCESS as SUCCESS

# re-exported: what plugins are and answer, so that plugins import one module
from .plugin import BatchFilterPlugin as BatchFilterPlugin
from .plugin import BatchScorePlugin as BatchScorePlugin
from .plugin import Code as Code
from .plugin import CycleState as CycleState
from .plugin import FilterPlugin as FilterPlugin
from .plugin import NormalizingScorePlugin as NormalizingScorePlugin
from .plugin import PreFilterPlugin as PreFilterPlugin
from .plugin import PreScorePlugin as PreScorePlugin
from .plugin import ScorePlugin as ScorePlugin
from .plugin import Status as Status
from .plugin import unschedulable as unschedulable

Object = dict[str, Any]
MAX_NODE_SCORE = 100


class PostFilterPlugin(Protocol):
    """Runs when no node fits; returns its message for the ``FitError`` ("" for none)."""

    name: str

    def post_filter(
        self,
        state: CycleState,
        pod: Object,
        profile: Profile,
        nodes: Sequence[NodeInfo],
        statuses: dict[str, Status],
    ) -> str: ...


@dataclass
class Profile:
    """The plugins of one scheduler profile (``default-scheduler``) and their score weights."""

    filters: Sequence[FilterPlugin]
    scores: Sequence[tuple[ScorePlugin, int]] = ()
    post_filters: Sequence[PostFilterPlugin] = ()
    name: str = "default-scheduler"
    next_start: int = 0  # where the next cycle starts filtering, so all nodes take turns
    _plan: _Plan | None = field(default=None, repr=False)

    def plan(self) -> _Plan:
        """Which plugin does what, worked out once: ``isinstance`` on a Protocol is slow."""
        key = (tuple(map(id, self.filters)), tuple(id(s) for s, _ in self.scores))
        if self._plan is None or self._plan.key != key:
            self._plan = _Plan(key, self.filters, self.scores)
        return self._plan


class _Plan:
    def __init__(
        self,
        key: tuple[tuple[int, ...], tuple[int, ...]],
        filters: Sequence[FilterPlugin],
        scores: Sequence[tuple[ScorePlugin, int]],
    ) -> None:
        self.key = key
        self.filters = [(f, f if isinstance(f, PreFilterPlugin) else None) for f in filters]
        self.batch = {id(f) for f in filters if isinstance(f, BatchFilterPlugin)}
        self.scores = [
            (
                weight,
                scorer.pre_score if isinstance(scorer, PreScorePlugin) else None,
                scorer.score_nodes if isinstance(scorer, BatchScorePlugin) else None,
                scorer.score,
                scorer.normalize if isinstance(scorer, NormalizingScorePlugin) else None,
            )
            for scorer, weight in scores
        ]


def feasible_nodes_to_find(num_nodes: int) -> int:
    """Upstream's adaptive percentageOfNodesToScore: big clusters stop filtering early."""
    if num_nodes < 100:
        return num_nodes
    percentage = max(50 - num_nodes // 125, 5)
    return max(num_nodes * percentage // 100, 100)


def run_filters(
    filters: Sequence[FilterPlugin], state: CycleState, pod: Object, node: NodeInfo
) -> Status:
    """The first failing filter's status on ``node``, or ``SUCCESS``."""
    for plugin in filters:
        status = plugin.filter(state, pod, node)
        if status.code is not Code.SUCCESS:
            return status
    return SUCCESS


def _pre_filter(
    profile: Profile, state: CycleState, pod: Object, nodes: Sequence[NodeInfo]
) -> list[FilterPlugin]:
    """Run the PreFilters; the filters still to call per node. Raises on a rejection."""
    active: list[FilterPlugin] = []
    for plugin, pre in profile.plan().filters:
        if pre is not None:
            status = pre.pre_filter(state, pod)
            if status.code is Code.SKIP:
                continue
            if not status.ok:  # upstream: a PreFilter rejection applies to every node
                statuses = {n.name: status for n in nodes}
                post = _post_filter(profile, state, pod, nodes, statuses)
                raise FitError(
                    pod, len(nodes), statuses, pre_filter_msg=status.message, post_filter_msg=post
                )
        active.append(plugin)
    return active


def _post_filter(
    profile: Profile,
    state: CycleState,
    pod: Object,
    nodes: Sequence[NodeInfo],
    statuses: dict[str, Status],
) -> str:
    for plugin in profile.post_filters:
        message = plugin.post_filter(state, pod, profile, nodes, statuses)
        if message:
            return message
    return ""


def schedule_one(
    profile: Profile,
    pod: Object,
    nodes: Sequence[NodeInfo],
    rng: random.Random,
    state: CycleState | None = None,
) -> str:
    """The node name the pod should be bound to; raises ``FitError`` if none fits.

    ``state``: pass one to read what the plugins computed (the pod's requests) afterwards.
    """
    if not nodes:
        raise FitError(pod, 0, {})
    state = CycleState() if state is None else state
    filters = _pre_filter(profile, state, pod, nodes)
    feasible, failed = _find_feasible(profile, filters, state, pod, nodes)
    if not feasible:
        post = _post_filter(profile, state, pod, nodes, failed)
        raise FitError(pod, len(nodes), failed, post_filter_msg=post)
    if len(feasible) == 1:
        return feasible[0].name
    if not profile.scores:
        return rng.choice(feasible).name
    return _best(profile, state, pod, feasible, rng)


def _find_feasible(
    profile: Profile,
    filters: list[FilterPlugin],
    state: CycleState,
    pod: Object,
    nodes: Sequence[NodeInfo],
) -> tuple[list[NodeInfo], dict[str, Status]]:
    """Walk the nodes from where the last cycle stopped, wrapping around, until enough are
    feasible. Upstream judges node by node; here each filter judges a *batch* of nodes, as
    many as are still wanted, so a batch can never overshoot: the nodes judged, the verdicts
    and the order of the feasible ones are exactly those of the node-by-node walk."""
    count = len(nodes)
    wanted, start = feasible_nodes_to_find(count), profile.next_start % count
    order = (*nodes[start:], *nodes[:start])
    batch = profile.plan().batch
    feasible: list[NodeInfo] = []
    failed: dict[str, Status] = {}
    done = 0
    while done < count and len(feasible) < wanted:
        alive = list(order[done : done + wanted - len(feasible)])
        done += len(alive)
        for plugin in filters:
            if id(plugin) in batch:
                failures = plugin.filter_nodes(state, pod, alive)  # type: ignore[attr-defined]
            else:
                check = plugin.filter
                failures = {}
                for index, node in enumerate(alive):
                    status = check(state, pod, node)
                    if status.code is not Code.SUCCESS:
                        failures[index] = status
            if failures:
                for index, status in failures.items():
                    failed[alive[index].name] = status
                alive = [node for index, node in enumerate(alive) if index not in failures]
                if not alive:
                    break
        feasible += alive
    profile.next_start = (start + done) % count
    return feasible, failed


def _best(
    profile: Profile,
    state: CycleState,
    pod: Object,
    feasible: list[NodeInfo],
    rng: random.Random,
) -> str:
    totals = [0] * len(feasible)
    for weight, pre_score, score_nodes, score, normalize in profile.plan().scores:
        if pre_score is not None and not pre_score(state, pod):
            continue
        if score_nodes is not None:
            scores = score_nodes(state, pod, feasible)
        else:
            scores = [score(state, pod, n) for n in feasible]
        if min(scores) == max(scores):
            continue  # the same for every node (normalized too): it cannot change the winner
        if normalize is not None:
            named = {n.name: value for n, value in zip(feasible, scores, strict=True)}
            normalize(state, pod, named)
            scores = list(named.values())
        totals = [total + value * weight for total, value in zip(totals, scores, strict=True)]
    best = max(totals)
    return rng.choice([n.name for n, total in zip(feasible, totals, strict=True) if total == best])


def normalize_to_max(scores: dict[str, int], *, reverse: bool) -> None:
    """Upstream's DefaultNormalizeScore: scale to 0-100 by the highest score, maybe reversed."""
    highest = max(scores.values(), default=0)
    for name, raw in scores.items():
        if highest == 0:
            scores[name] = MAX_NODE_SCORE if reverse else 0
            continue
        scaled = MAX_NODE_SCORE * raw // highest
        scores[name] = MAX_NODE_SCORE - scaled if reverse else scaled
