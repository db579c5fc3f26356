"""Batch filters and scorers give exactly the verdicts of the node-by-node methods.

The framework judges nodes in batches for speed (``filter_nodes``, ``score_nodes``); these
tests build a varied cluster and check, plugin by plugin and for whole cycles, that nothing
changes compared with calling ``filter`` / ``score`` once per node.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from minikube_py.scheduler.framework import (
    CycleState,
    FitError,
    NodeInfo,
    Profile,
    Status,
    schedule_one,
)
from minikube_py.scheduler.plugins import (
    BalancedAllocation,
    NodeResourcesFit,
    NodeUnschedulable,
    TaintToleration,
    default_profile,
)

from .helpers import info, node, pod

TAINTS = [
    {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
    {"key": "spot", "value": "", "effect": "PreferNoSchedule"},
]


def cluster(seed: int, count: int = 300) -> list[NodeInfo]:
    rng = random.Random(seed)
    nodes = []
    for index in range(count):
        obj = node(
            f"n{index:03d}",
            cpu=rng.choice(["1", "2", "4"]),
            memory=rng.choice(["1Gi", "4Gi"]),
            pods=rng.choice([3, 110]),
            taints=[t for t in TAINTS if rng.random() < 0.2],
            unschedulable=rng.random() < 0.1,
        )
        placed = [
            pod(f"p{index}-{i}", cpu="300m", memory="256Mi") for i in range(rng.randint(0, 3))
        ]
        nodes.append(info(obj, *placed))
    return nodes


def incoming(rng: random.Random, index: int) -> dict[str, Any]:
    made = pod(
        f"in-{index}",
        cpu=rng.choice([None, "100m", "900m", "3", "8"]),
        memory=rng.choice([None, "128Mi", "2Gi"]),
    )
    if rng.random() < 0.3:
        made["spec"]["tolerations"] = [{"key": "dedicated", "operator": "Exists"}]
    return made


class OneByOne:
    """A filter plugin without ``filter_nodes``: the framework must call it per node."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name = inner, inner.name

    def filter(self, state: CycleState, pod_: dict[str, Any], node_: NodeInfo) -> Status:
        return self.inner.filter(state, pod_, node_)  # type: ignore[no-any-return]


@pytest.mark.parametrize("plugin", [NodeUnschedulable(), TaintToleration(), NodeResourcesFit()])
def test_filter_nodes_matches_filter(plugin: Any) -> None:
    nodes, rng = cluster(1), random.Random(2)
    for index in range(20):
        wanted = incoming(rng, index)
        state = CycleState()
        if hasattr(plugin, "pre_filter"):
            plugin.pre_filter(state, wanted)
        batch = plugin.filter_nodes(state, wanted, nodes)
        single = {
            i: s for i, n in enumerate(nodes) if not (s := plugin.filter(state, wanted, n)).ok
        }
        assert batch == single


@pytest.mark.parametrize("plugin", [NodeResourcesFit(), BalancedAllocation(), TaintToleration()])
def test_score_nodes_matches_score(plugin: Any) -> None:
    nodes, rng = cluster(3), random.Random(4)
    for index in range(20):
        wanted = incoming(rng, index)
        state = CycleState()
        assert plugin.score_nodes(state, wanted, nodes) == [
            plugin.score(state, wanted, n) for n in nodes
        ]


def test_whole_cycles_match_node_by_node_filtering() -> None:
    batched = default_profile()
    one_by_one = default_profile()
    # Only the filters without a PreFilter can be wrapped without hiding their PreFilter.
    one_by_one.filters = [
        OneByOne(f) if f.name in ("NodeUnschedulable", "TaintToleration") else f
        for f in one_by_one.filters
    ]
    nodes_a, nodes_b = cluster(5), cluster(5)
    rng_a, rng_b, pods_rng = random.Random(6), random.Random(6), random.Random(7)
    outcomes = 0
    for index in range(60):
        wanted = incoming(pods_rng, index)
        results = []
        for profile, nodes, rng in ((batched, nodes_a, rng_a), (one_by_one, nodes_b, rng_b)):
            try:
                results.append(schedule_one(profile, wanted, nodes, rng))
            except FitError as error:
                results.append(str(error))
        assert results[0] == results[1]
        assert batched.next_start == one_by_one.next_start
        if not results[0].startswith("0/"):
            outcomes += 1
            for nodes in (nodes_a, nodes_b):
                next(n for n in nodes if n.name == results[0]).add_pod(wanted)
    assert 0 < outcomes < 60  # both paths were exercised


def test_profile_plan_follows_changed_plugins() -> None:
    profile = Profile(filters=[NodeUnschedulable()])
    first = profile.plan()
    assert profile.plan() is first
    profile.filters = [TaintToleration()]
    assert profile.plan() is not first
