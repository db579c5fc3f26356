"""A ReplicaSet's status from its pods (upstream's calculateStatus)."""

from __future__ import annotations

from typing import Any

from minikube_py.api.stamps import rfc3339
from minikube_py.controllers.replicaset_status import (
    is_available,
    needs_status_update,
    recheck_after,
    replica_set_status,
)

Object = dict[str, Any]
NOW = 1_800_000_000.0


def stamp(seconds_ago: float) -> str:
    return rfc3339(NOW - seconds_ago)


def replica_set(
    replicas: int = 3, *, min_ready: int = 0, generation: int = 4, status: Object | None = None
) -> Object:
    return {
        "metadata": {"name": "web", "namespace": "default", "generation": generation},
        "spec": {
            "replicas": replicas,
            "minReadySeconds": min_ready,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web", "tier": "front"}}},
        },
        "status": status or {},
    }


def pod(
    name: str,
    *,
    ready_for: float | None = None,
    labels: dict[str, str] | None = None,
    phase: str = "Running",
    deleting: bool = False,
) -> Object:
    ready: Object = {"type": "Ready", "status": "False"}
    if ready_for is not None:
        ready = {"type": "Ready", "status": "True", "lastTransitionTime": stamp(ready_for)}
    meta: Object = {"name": name, "labels": labels or {"app": "web", "tier": "front"}}
    if deleting:
        meta["deletionTimestamp"] = stamp(0)
    return {"metadata": meta, "status": {"phase": phase, "conditions": [ready]}}


def test_counts_active_fully_labeled_ready_and_available_pods() -> None:
    pods = [
        pod("a", ready_for=100),
        pod("b", ready_for=5, labels={"app": "web", "tier": "front", "extra": "1"}),
        pod("c", labels={"app": "web"}),  # matched by the selector, lacks a template label
        pod("d", ready_for=100, phase="Succeeded"),
        pod("e", ready_for=100, deleting=True),
    ]
    status = replica_set_status(replica_set(min_ready=10), pods, NOW)
    assert status == {
        "replicas": 3,
        "fullyLabeledReplicas": 2,
        "readyReplicas": 2,
        "availableReplicas": 1,
        "observedGeneration": 4,
    }
    # An explicit minReadySeconds overrides the spec's.
    explicit = replica_set_status(replica_set(min_ready=10), pods, NOW, min_ready_seconds=0)
    assert explicit["availableReplicas"] == 2


def test_available_needs_strictly_more_than_min_ready_seconds() -> None:
    exactly = pod("a", ready_for=10)
    assert not is_available(exactly, 10, NOW)
    assert is_available(exactly, 10, NOW + 1)
    assert is_available(exactly, 0, NOW)
    assert not is_available(pod("b"), 0, NOW)
    stampless = pod("c", ready_for=10)
    del stampless["status"]["conditions"][0]["lastTransitionTime"]
    assert is_available(stampless, 0, NOW) and not is_available(stampless, 1, NOW)


def test_zero_counts_are_left_out_as_on_the_wire_but_replicas_stays() -> None:
    status = replica_set_status(
        replica_set(status={"readyReplicas": 2, "availableReplicas": 2}), [], NOW
    )
    assert status == {"replicas": 0, "observedGeneration": 4}


def test_failure_condition_reason_follows_the_direction_of_the_change() -> None:
    few = replica_set_status(replica_set(3), [pod("a")], NOW, manage_error="quota exceeded")
    assert few["conditions"] == [
        {
            "type": "ReplicaFailure",
            "status": "True",
            "lastTransitionTime": stamp(0),
            "reason": "FailedCreate",
            "message": "quota exceeded",
        }
    ]
    many = replica_set_status(replica_set(0), [pod("a")], NOW, manage_error="no")
    assert many["conditions"][0]["reason"] == "FailedDelete"


def test_failure_condition_is_kept_while_failing_and_removed_after() -> None:
    first = replica_set_status(replica_set(3), [], NOW, manage_error="quota exceeded")
    later = replica_set(3, status=first)
    again = replica_set_status(later, [], NOW + 60, manage_error="still exceeded")
    assert again["conditions"] == first["conditions"]  # the first failure's time and words
    healed = replica_set_status(later, [], NOW + 120)
    assert "conditions" not in healed


def test_other_conditions_survive() -> None:
    other = {"type": "Custom", "status": "True"}
    status = replica_set_status(
        replica_set(1, status={"conditions": [other]}), [], NOW, manage_error="x"
    )
    assert [c["type"] for c in status["conditions"]] == ["Custom", "ReplicaFailure"]


def test_needs_status_update_only_for_a_real_change() -> None:
    pods = [pod("a", ready_for=50), pod("b")]
    rs = replica_set(2)
    new = replica_set_status(rs, pods, NOW)
    assert needs_status_update(rs["status"], new)
    stored = replica_set(2, status=new)
    assert not needs_status_update(stored["status"], replica_set_status(stored, pods, NOW))
    # A new generation alone (say, scaled to the same size) is worth writing.
    bumped = replica_set(2, generation=5, status=new)
    assert needs_status_update(bumped["status"], replica_set_status(bumped, pods, NOW))
    assert needs_status_update(new, {**new, "conditions": [{"type": "ReplicaFailure"}]})


def test_recheck_after_min_ready_seconds_while_ready_pods_are_not_yet_available() -> None:
    pods = [pod("a", ready_for=2), pod("b", ready_for=100)]
    status = replica_set_status(replica_set(2, min_ready=30), pods, NOW)
    assert recheck_after(status, 30) == 30.0
    assert recheck_after(replica_set_status(replica_set(2), pods, NOW), 0) is None
    unready = replica_set_status(replica_set(2, min_ready=30), [pod("a")], NOW)
    assert recheck_after(unready, 30) is None
