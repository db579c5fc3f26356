import random
from typing import Any

import pytest

from minikube_py.scheduler.framework import (
    SKIP,
    SUCCESS,
    CycleState,
    FitError,
    NodeInfo,
    Profile,
    Status,
    schedule_one,
    unschedulable,
)
from minikube_py.scheduler.plugins import default_profile

from .helpers import info, node, pod

GPU_TAINT = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}


def test_fit_error_message_is_upstreams_sorted_histogram() -> None:
    nodes = [
        info(node("minikube", taints=[GPU_TAINT])),
        info(node("minikube-m02", memory="1Gi")),
        info(node("minikube-m03", memory="1Gi")),
    ]
    with pytest.raises(FitError) as caught:
        schedule_one(default_profile(), pod(memory="2Gi"), nodes, random.Random(0))
    assert str(caught.value) == (
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, "
        "2 Insufficient memory. preemption: 0/3 nodes are available: "
        "1 Preemption is not helpful for scheduling, "
        "2 No preemption victims found for incoming pod.."
    )


def test_multiple_reasons_of_one_node_all_count() -> None:
    nodes = [info(node("a", cpu="1", memory="1Gi")), info(node("b", cpu="1", memory="1Gi"))]
    with pytest.raises(FitError) as caught:
        schedule_one(default_profile(), pod(cpu="2", memory="2Gi"), nodes, random.Random(0))
    assert str(caught.value) == (
        "0/2 nodes are available: 2 Insufficient cpu, 2 Insufficient memory. "
        "preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.."
    )


def test_no_nodes() -> None:
    with pytest.raises(FitError) as caught:
        schedule_one(default_profile(), pod(), [], random.Random(0))
    assert str(caught.value) == "no nodes available to schedule pods"


def test_picks_only_feasible_and_best_scored_node() -> None:
    nodes = [
        info(node("a", labels={"disk": "hdd"})),
        info(node("b", labels={"disk": "ssd"}), pod("old", cpu="3", memory="6Gi")),
        info(node("c", labels={"disk": "ssd"})),
    ]
    chosen = schedule_one(
        default_profile(), pod(cpu="1", nodeSelector={"disk": "ssd"}), nodes, random.Random(0)
    )
    assert chosen == "c"  # b is busier


def test_ties_are_random_but_seedable() -> None:
    nodes = [info(node(name)) for name in ("a", "b", "c", "d")]
    picks = {schedule_one(default_profile(), pod(), nodes, random.Random(s)) for s in range(40)}
    assert picks == {"a", "b", "c", "d"}
    first = [schedule_one(default_profile(), pod(), nodes, random.Random(7)) for _ in range(3)]
    assert len(set(first)) == 1


def test_node_info_tracks_placed_pods() -> None:
    n = info(node("a", cpu="1"))
    placed = pod(cpu="600m")
    n.add_pod(placed)
    with pytest.raises(FitError):
        schedule_one(default_profile(), pod(cpu="600m"), [n], random.Random(0))
    n.remove_pod(placed)
    assert schedule_one(default_profile(), pod(cpu="600m"), [n], random.Random(0)) == "a"


def test_pods_of_one_owner_spread_over_nodes() -> None:
    owner = [
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": "web",
            "uid": "rs-1",
            "controller": True,
        }
    ]
    nodes = [info(node(name)) for name in ("a", "b", "c")]
    by_name = {n.name: n for n in nodes}
    rng = random.Random(3)
    for index in range(6):
        replica = pod(f"web-{index}")
        replica["metadata"]["ownerReferences"] = owner
        by_name[schedule_one(default_profile(), replica, nodes, rng)].add_pod(replica)
    assert [n.owners["rs-1"] for n in nodes] == [2, 2, 2]


def test_reason_counts_sort_as_strings_as_upstream() -> None:
    # "10 …" sorts before "2 …": upstream sorts the formatted strings, not the counts.
    nodes = [info(node(f"t{i}", taints=[GPU_TAINT])) for i in range(2)]
    nodes += [info(node(f"m{i}", memory="1Gi")) for i in range(10)]
    with pytest.raises(FitError) as caught:
        schedule_one(default_profile(), pod(memory="2Gi"), nodes, random.Random(0))
    assert str(caught.value).startswith(
        "0/12 nodes are available: 10 Insufficient memory, "
        "2 node(s) had untolerated taint {dedicated: gpu}. preemption: "
    )


class Rejecting:
    """A PreFilter that turns every pod away, to see upstream's PreFilter message shape."""

    name = "Rejecting"

    def pre_filter(self, state: CycleState, pod: Any) -> Status:
        return unschedulable(self.name, "pod is not welcome", unresolvable=True)

    def filter(self, state: CycleState, pod: Any, node: NodeInfo) -> Status:
        raise AssertionError("never called after a PreFilter rejection")


def test_pre_filter_rejection_is_one_message_for_all_nodes() -> None:
    profile = default_profile()
    profile.filters = [Rejecting(), *profile.filters]
    nodes = [info(node("a")), info(node("b"))]
    with pytest.raises(FitError) as caught:
        schedule_one(profile, pod(), nodes, random.Random(0))
    assert str(caught.value) == (
        "0/2 nodes are available: pod is not welcome. preemption: 0/2 nodes are available: "
        "2 Preemption is not helpful for scheduling.."
    )


class Counting:
    """A filter whose PreFilter skips pods without the label ``checked``."""

    name = "Counting"

    def __init__(self) -> None:
        self.calls = 0

    def pre_filter(self, state: CycleState, pod: Any) -> Status:
        return SUCCESS if "checked" in (pod["metadata"].get("labels") or {}) else SKIP

    def filter(self, state: CycleState, pod: Any, node: NodeInfo) -> Status:
        self.calls += 1
        return SUCCESS


def test_pre_filter_skip_leaves_the_filter_out() -> None:
    counting = Counting()
    profile = Profile(filters=[counting])
    nodes = [info(node(name)) for name in ("a", "b", "c")]
    schedule_one(profile, pod(), nodes, random.Random(0))
    assert counting.calls == 0
    checked = pod()
    checked["metadata"]["labels"] = {"checked": "yes"}
    schedule_one(profile, checked, nodes, random.Random(0))
    assert counting.calls == 3


def test_large_clusters_stop_filtering_at_upstreams_share_and_rotate() -> None:
    counting = Counting()
    profile = Profile(filters=[counting])
    nodes = [info(node(f"n{i}")) for i in range(500)]
    checked = pod()
    checked["metadata"]["labels"] = {"checked": "yes"}
    schedule_one(profile, checked, nodes, random.Random(0))
    assert counting.calls == 230  # 500 nodes: 46 % (upstream's adaptive percentage)
    assert profile.next_start == 230  # the next cycle starts where this one stopped
