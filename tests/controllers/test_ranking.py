"""Active pods and the order in which a ReplicaSet deletes pods (upstream's
ActivePodsWithRanks), rule by rule."""

from __future__ import annotations

import random
from typing import Any

import pytest

from minikube_py.api.stamps import rfc3339
from minikube_py.controllers.ranking import (
    DELETION_COST_ANNOTATION,
    deletion_cost,
    filter_active,
    is_active,
    node_ranks,
    pods_to_delete,
)

Object = dict[str, Any]
NOW = 1_800_000_000.0


def stamp(seconds_ago: float) -> str:
    return rfc3339(NOW - seconds_ago)


def pod(
    name: str,
    *,
    node: str = "n1",
    phase: str = "Running",
    ready_for: float | None = 1000.0,
    age: float = 5000.0,
    restarts: int = 0,
    cost: str | None = None,
    uid: str | None = None,
    deleting: bool = False,
) -> Object:
    conditions = []
    if ready_for is not None:
        conditions.append(
            {"type": "Ready", "status": "True", "lastTransitionTime": stamp(ready_for)}
        )
    else:
        conditions.append({"type": "Ready", "status": "False"})
    meta: Object = {"name": name, "uid": uid or f"uid-{name}", "creationTimestamp": stamp(age)}
    if cost is not None:
        meta["annotations"] = {DELETION_COST_ANNOTATION: cost}
    if deleting:
        meta["deletionTimestamp"] = stamp(0)
    return {
        "metadata": meta,
        "spec": {"nodeName": node} if node else {},
        "status": {
            "phase": phase,
            "conditions": conditions,
            "containerStatuses": [{"name": "c", "restartCount": restarts}],
        },
    }


def names(pods: list[Object]) -> list[str]:
    return [p["metadata"]["name"] for p in pods]


def first_to_delete(*pods: Object, now: float | None = NOW) -> str:
    """Whichever order the pods come in, the same one goes first."""
    listed = list(pods)
    chosen = set()
    for _ in range(6):
        random.shuffle(listed)
        chosen.add(names(pods_to_delete(listed, listed, 1, now=now))[0])
    assert len(chosen) == 1, chosen
    return chosen.pop()


def test_active_pods_exclude_finished_and_deleting_ones() -> None:
    pods = [
        pod("run"),
        pod("pending", phase="Pending", node=""),
        pod("done", phase="Succeeded"),
        pod("failed", phase="Failed"),
        pod("going", deleting=True),
        pod("unknown", phase="Unknown"),
    ]
    assert names(filter_active(pods)) == ["run", "pending", "unknown"]
    assert not is_active(pod("going", deleting=True))


def test_unassigned_before_assigned_even_if_everything_else_says_otherwise() -> None:
    assert first_to_delete(pod("placed", phase="Pending"), pod("unplaced", node="")) == "unplaced"


def test_pending_before_unknown_before_running() -> None:
    running, unknown = pod("running"), pod("unknown", phase="Unknown", ready_for=None)
    pending = pod("pending", phase="Pending", ready_for=None)
    assert first_to_delete(running, unknown, pending) == "pending"
    assert first_to_delete(running, unknown) == "unknown"


def test_not_ready_before_ready() -> None:
    assert first_to_delete(pod("ready"), pod("unready", ready_for=None, age=99999)) == "unready"


def test_lower_deletion_cost_first_and_invalid_costs_count_as_zero() -> None:
    assert first_to_delete(pod("dear", cost="100"), pod("cheap", cost="-5")) == "cheap"
    # the cost outranks the node rank and restarts: "plain" (cost 0) goes before "dear"
    assert first_to_delete(pod("dear", cost="1", restarts=9), pod("plain")) == "plain"
    for invalid in ("+5", "007", "1.5", "abc", "", "2147483648"):
        assert deletion_cost(pod("x", cost=invalid)) == 0
    assert deletion_cost(pod("x", cost="-2147483648")) == -(2**31)
    assert deletion_cost(pod("x", cost="0")) == 0


def test_pods_on_crowded_nodes_go_first() -> None:
    a1, a2, b1 = pod("a1", node="a"), pod("a2", node="a"), pod("b1", node="b")
    others = [pod("a3", node="a"), pod("b-done", node="b", phase="Succeeded")]
    assert node_ranks([a1, b1], [a1, a2, b1, *others]) == [3, 1]
    chosen = pods_to_delete([a1, b1], [a1, a2, b1, *others], 1, now=NOW)
    assert names(chosen) == ["a1"]


def test_ready_for_less_time_first_on_a_logarithmic_scale() -> None:
    # 10 s and 1000 s apart by far more than a factor of two: the newly ready one goes.
    assert first_to_delete(pod("old", ready_for=1000), pod("new", ready_for=10)) == "new"
    # 600 s and 700 s share a base-2 bucket (2^39 ns): the uid decides, not the exact time.
    early = pod("early", ready_for=700, uid="a")
    late = pod("late", ready_for=600, uid="b")
    assert first_to_delete(early, late) == "early"
    # Without a reference time the exact times decide.
    assert first_to_delete(early, late, now=None) == "late"


def test_more_restarts_first() -> None:
    assert first_to_delete(pod("calm"), pod("flaky", restarts=3)) == "flaky"


def test_newer_first_and_missing_timestamps_first_of_all() -> None:
    assert first_to_delete(pod("old", age=100000), pod("young", age=60)) == "young"
    nameless = pod("stampless")
    del nameless["metadata"]["creationTimestamp"]
    assert first_to_delete(pod("young", age=60), nameless) == "stampless"


def test_rules_apply_in_order() -> None:
    pods = [
        pod("ready-old", age=90000, ready_for=80000),
        pod("ready-flaky", restarts=5),
        pod("unready", ready_for=None),
        pod("pending", phase="Pending", ready_for=None),
        pod("unscheduled", node="", phase="Pending", ready_for=None),
        pod("ready-new", ready_for=5, age=10),
    ]
    order = names(pods_to_delete(pods, pods, 5, now=NOW))
    assert order == ["unscheduled", "pending", "unready", "ready-new", "ready-flaky"]


@pytest.mark.parametrize("count", [0, -1])
def test_nothing_to_delete(count: int) -> None:
    assert pods_to_delete([pod("a")], [pod("a")], count, now=NOW) == []


def test_deleting_all_keeps_the_given_order() -> None:
    pods = [pod("b"), pod("a", node="")]
    assert names(pods_to_delete(pods, pods, 5, now=NOW)) == ["b", "a"]
