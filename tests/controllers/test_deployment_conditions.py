"""A Deployment's Available, Progressing and ReplicaFailure conditions, and the progress
deadline, with time from a FakeClock."""

from __future__ import annotations

from typing import Any

from minikube_py.api.stamps import rfc3339
from minikube_py.clock import FakeClock
from minikube_py.controllers.deployment_conditions import (
    AVAILABLE,
    PROGRESSING,
    REPLICA_FAILURE,
    availability_condition,
    created_message,
    deployment_complete,
    deployment_progressing,
    deployment_timed_out,
    failed_create_message,
    found_message,
    get_deployment_condition,
    new_deployment_condition,
    paused_condition,
    progress_check_after,
    rollout_conditions,
    set_deployment_condition,
)

Object = dict[str, Any]
START = 1_800_000_000.0


def deployment(
    *,
    status: Object | None = None,
    deadline: int | None = 600,
    paused: bool = False,
    generation: int = 2,
) -> Object:
    spec: Object = {
        "replicas": 4,
        "paused": paused,
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1},
        },
    }
    if deadline is not None:
        spec["progressDeadlineSeconds"] = deadline
    return {
        "metadata": {"name": "web", "generation": generation},
        "spec": spec,
        "status": status or {},
    }


def counts(replicas: int, updated: int, ready: int, available: int, generation: int = 2) -> Object:
    return {
        "replicas": replicas,
        "updatedReplicas": updated,
        "readyReplicas": ready,
        "availableReplicas": available,
        "observedGeneration": generation,
    }


def progressing(reason: str, updated_at: float, status: str = "True") -> Object:
    return new_deployment_condition(PROGRESSING, status, reason, "...", updated_at)


def test_messages_quote_names_as_go_does() -> None:
    assert created_message("web-6d4cf56db6") == 'Created new replica set "web-6d4cf56db6"'
    assert found_message("web-6d4cf56db6") == 'Found new replica set "web-6d4cf56db6"'
    assert failed_create_message("web-1", "quota") == (
        'Failed to create new replica set "web-1": quota'
    )


def test_set_condition_keeps_the_transition_time_while_the_status_holds() -> None:
    status: Object = {}
    set_deployment_condition(status, progressing("NewReplicaSetCreated", START))
    set_deployment_condition(status, progressing("NewReplicaSetCreated", START + 5))
    assert status["conditions"][0]["lastUpdateTime"] == rfc3339(START)  # same reason: no change
    set_deployment_condition(status, progressing("ReplicaSetUpdated", START + 9))
    (condition,) = status["conditions"]
    assert condition["reason"] == "ReplicaSetUpdated"
    assert (condition["lastTransitionTime"], condition["lastUpdateTime"]) == (
        rfc3339(START),
        rfc3339(START + 9),
    )
    set_deployment_condition(status, progressing("ProgressDeadlineExceeded", START + 20, "False"))
    assert status["conditions"][0]["lastTransitionTime"] == rfc3339(START + 20)


def test_complete_and_progressing() -> None:
    assert deployment_complete(deployment(), counts(4, 4, 4, 4))
    assert not deployment_complete(deployment(), counts(5, 4, 4, 4))
    assert not deployment_complete(deployment(), counts(4, 4, 4, 4, generation=1))
    before = deployment(status=counts(5, 2, 3, 3))
    assert not deployment_progressing(before, counts(5, 2, 3, 3))
    assert deployment_progressing(before, counts(5, 3, 3, 3))  # one more updated
    assert deployment_progressing(before, counts(4, 2, 3, 3))  # one old pod fewer
    assert deployment_progressing(before, counts(5, 2, 4, 3))  # one more ready
    assert deployment_progressing(before, counts(5, 2, 3, 4))  # one more available


def test_the_deadline_counts_from_the_last_update_of_the_progressing_condition() -> None:
    clock = FakeClock(START)
    status = {"conditions": [progressing("ReplicaSetUpdated", clock.now())]}
    clock.advance(600)
    assert not deployment_timed_out(deployment(), status, clock.now())  # not yet past
    clock.advance(1)
    assert deployment_timed_out(deployment(), status, clock.now())
    assert not deployment_timed_out(deployment(deadline=None), status, clock.now())
    assert not deployment_timed_out(deployment(deadline=2**31 - 1), status, clock.now())
    done = {"conditions": [progressing("NewReplicaSetAvailable", START)]}
    assert not deployment_timed_out(deployment(), done, clock.now())
    stalled = {"conditions": [progressing("ProgressDeadlineExceeded", clock.now(), "False")]}
    assert deployment_timed_out(deployment(), stalled, clock.now())
    assert not deployment_timed_out(deployment(), {}, clock.now())


def test_availability_needs_replicas_minus_max_unavailable() -> None:
    enough = availability_condition(deployment(), 3, START)
    assert (enough["type"], enough["status"], enough["reason"], enough["message"]) == (
        AVAILABLE,
        "True",
        "MinimumReplicasAvailable",
        "Deployment has minimum availability.",
    )
    short = availability_condition(deployment(), 2, START)
    assert (short["status"], short["reason"], short["message"]) == (
        "False",
        "MinimumReplicasUnavailable",
        "Deployment does not have minimum availability.",
    )


def test_pausing_and_resuming() -> None:
    paused = paused_condition(deployment(paused=True), START)
    assert paused is not None
    assert (paused["status"], paused["reason"], paused["message"]) == (
        "Unknown",
        "DeploymentPaused",
        "Deployment is paused",
    )
    already = deployment(paused=True, status={"conditions": [paused]})
    assert paused_condition(already, START) is None
    resumed = paused_condition(deployment(status={"conditions": [paused]}), START)
    assert resumed is not None
    assert (resumed["reason"], resumed["message"]) == ("DeploymentResumed", "Deployment is resumed")
    timed_out = {"conditions": [progressing("ProgressDeadlineExceeded", START, "False")]}
    assert paused_condition(deployment(paused=True, status=timed_out), START) is None


NEW_RS: Object = {"metadata": {"name": "web-6d4cf56db6"}, "status": {}}


def test_rollout_conditions_report_progress_success_and_timeout() -> None:
    stored = {**counts(5, 2, 3, 3), "conditions": [progressing("NewReplicaSetCreated", START)]}
    d = deployment(status=stored)
    moved = rollout_conditions(d, {**stored, **counts(5, 3, 3, 3)}, NEW_RS, [NEW_RS], START + 30)
    condition = get_deployment_condition(moved, PROGRESSING)
    assert condition is not None
    assert (condition["reason"], condition["message"]) == (
        "ReplicaSetUpdated",
        'ReplicaSet "web-6d4cf56db6" is progressing.',
    )
    assert condition["lastUpdateTime"] == rfc3339(START + 30)
    assert condition["lastTransitionTime"] == rfc3339(START)

    done = rollout_conditions(d, {**stored, **counts(4, 4, 4, 4)}, NEW_RS, [NEW_RS], START + 40)
    condition = get_deployment_condition(done, PROGRESSING)
    assert condition is not None
    assert (condition["reason"], condition["message"]) == (
        "NewReplicaSetAvailable",
        'ReplicaSet "web-6d4cf56db6" has successfully progressed.',
    )

    stuck = rollout_conditions(d, stored, None, [], START + 601)
    condition = get_deployment_condition(stuck, PROGRESSING)
    assert condition is not None
    assert (condition["status"], condition["reason"], condition["message"]) == (
        "False",
        "ProgressDeadlineExceeded",
        'Deployment "web" has timed out progressing.',
    )
    # Not yet at the deadline: unchanged.
    assert rollout_conditions(d, stored, None, [], START + 600) == stored


def test_rollout_conditions_without_a_deadline_and_with_replica_failures() -> None:
    stored = {**counts(4, 4, 4, 4), "conditions": [progressing("ReplicaSetUpdated", START)]}
    no_deadline = rollout_conditions(deployment(status=stored, deadline=None), stored, None, [], 0)
    assert "conditions" not in no_deadline
    failure = {
        "type": REPLICA_FAILURE,
        "status": "True",
        "lastTransitionTime": rfc3339(START),
        "reason": "FailedCreate",
        "message": 'pods "web-1" is forbidden: exceeded quota',
    }
    failing_rs = {"metadata": {"name": "web-1"}, "status": {"conditions": [failure]}}
    d = deployment(status=stored)
    status = rollout_conditions(d, stored, None, [failing_rs], START)
    promoted = get_deployment_condition(status, REPLICA_FAILURE)
    assert promoted == {**failure, "lastUpdateTime": rfc3339(START)}
    healed = rollout_conditions(d, status, None, [NEW_RS], START)
    assert get_deployment_condition(healed, REPLICA_FAILURE) is None


def test_a_stalled_rollout_is_checked_again_at_its_deadline() -> None:
    stored = {**counts(5, 2, 3, 3), "conditions": [progressing("ReplicaSetUpdated", START)]}
    d = deployment(status=stored)
    assert progress_check_after(d, stored, START + 180) == 421.0  # 420 left, plus one
    assert progress_check_after(d, stored, START + 599.5) == 0.0  # due: now
    assert progress_check_after(d, counts(4, 4, 4, 4), START) is None  # complete
    assert progress_check_after(deployment(deadline=None, status=stored), stored, START) is None
