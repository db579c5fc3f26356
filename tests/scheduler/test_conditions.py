"""The PodScheduled=False patch: written once per new message, transition time kept."""

from __future__ import annotations

from minikube_py.scheduler.conditions import unschedulable_patch

from .helpers import pod


def with_condition(condition: dict[str, object]) -> dict[str, object]:
    obj = pod()
    obj["status"] = {"phase": "Pending", "conditions": [condition]}
    return obj


def test_first_failure_sets_the_condition() -> None:
    patch = unschedulable_patch(pod(), "0/1 nodes are available: 1 Too many pods.", timestamp="T1")
    assert patch == {
        "status": {
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": "0/1 nodes are available: 1 Too many pods.",
                    "lastProbeTime": None,
                    "lastTransitionTime": "T1",
                }
            ]
        }
    }


def test_same_message_again_writes_nothing() -> None:
    first = unschedulable_patch(pod(), "full", timestamp="T1")
    assert first is not None
    assert unschedulable_patch(with_condition(first["status"]["conditions"][0]), "full") is None


def test_new_message_keeps_the_transition_time() -> None:
    first = unschedulable_patch(pod(), "full", timestamp="T1")
    assert first is not None
    again = unschedulable_patch(
        with_condition(first["status"]["conditions"][0]), "fuller", timestamp="T2"
    )
    assert again is not None
    condition = again["status"]["conditions"][0]
    assert (condition["message"], condition["lastTransitionTime"]) == ("fuller", "T1")


def test_a_true_condition_flips_with_a_new_transition_time() -> None:
    scheduled = {"type": "PodScheduled", "status": "True", "lastTransitionTime": "T0"}
    patch = unschedulable_patch(with_condition(scheduled), "full", timestamp="T3")
    assert patch is not None
    assert patch["status"]["conditions"][0]["lastTransitionTime"] == "T3"


def test_a_refused_binding_is_a_scheduler_error_not_a_verdict() -> None:
    first = unschedulable_patch(pod(), "full", timestamp="T1")
    assert first is not None
    parked = with_condition(first["status"]["conditions"][0])
    patch = unschedulable_patch(parked, "full", reason="SchedulerError", timestamp="T2")
    assert patch is not None  # same message, other reason: still a change
    condition = patch["status"]["conditions"][0]
    assert (condition["reason"], condition["lastTransitionTime"]) == ("SchedulerError", "T1")
