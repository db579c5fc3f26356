"""The Job controller's pure parts: completed-index lists, the pod failure policy, back-off."""

from __future__ import annotations

from typing import Any

import pytest

from minikube_py.controllers.job_backoff import BackoffRecord, BackoffStore
from minikube_py.controllers.job_failure_policy import match_pod_failure_policy
from minikube_py.controllers.job_indexes import (
    duplicated_index_pods,
    first_pending_indexes,
    format_indexes,
    indexed_template,
    parse_indexes,
)

Object = dict[str, Any]


@pytest.mark.parametrize(
    ("indexes", "text"),
    [
        ([], ""),
        ([0], "0"),
        ([0, 1], "0,1"),
        ([0, 1, 2], "0-2"),
        ([7, 0, 2, 3, 4, 9, 8], "0,2-4,7-9"),
    ],
)
def test_completed_indexes_round_trip(indexes: list[int], text: str) -> None:
    assert format_indexes(indexes) == text
    assert parse_indexes(text, 10) == set(indexes)


def test_parse_ignores_indexes_beyond_completions() -> None:
    assert parse_indexes("1,3-6", 5) == {1, 3, 4}


def pod(index: str | None = None, *, phase: str = "Running", name: str = "p") -> Object:
    annotations = {} if index is None else {"batch.kubernetes.io/job-completion-index": index}
    return {
        "metadata": {
            "name": name,
            "annotations": annotations,
            "creationTimestamp": "2026-01-01T00:00:00Z",
        },
        "status": {"phase": phase},
    }


def test_pending_indexes_skip_succeeded_and_running() -> None:
    assert first_pending_indexes(3, 6, {0, 2}, [pod("1"), pod("9")]) == [3, 4, 5]
    assert first_pending_indexes(1, 3, set(), [], [pod("0")]) == [1]


def test_duplicated_and_invalid_indexes_are_removed() -> None:
    pending, running = pod("1", phase="Pending", name="a"), pod("1", name="b")
    remove, keep = duplicated_index_pods([pending, running, pod(None, name="c")], 3)
    assert [p["metadata"]["name"] for p in remove] == ["c", "a"]
    assert keep == [running]


def test_indexed_template() -> None:
    template = {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "m"}]}}
    made, generate_name = indexed_template(template, "job", 3)
    assert generate_name == "job-3-"
    assert made["spec"]["hostname"] == "job-3"
    assert made["metadata"]["labels"] == {"a": "b", "batch.kubernetes.io/job-completion-index": "3"}
    assert made["spec"]["containers"][0]["env"][0]["name"] == "JOB_COMPLETION_INDEX"
    assert template["spec"]["containers"][0] == {"name": "m"}  # the Job's own stays untouched
    _, long_name = indexed_template(template, "x" * 63, 12)
    assert len(long_name) == 58 and long_name.endswith("-12-")


def failed_pod(
    code: int, *, container: str = "main", conditions: list[Object] | None = None
) -> Object:
    return {
        "metadata": {"name": "p", "namespace": "ns"},
        "status": {
            "phase": "Failed",
            "conditions": conditions or [],
            "containerStatuses": [
                {"name": "side", "state": {"terminated": {"exitCode": 0}}},
                {"name": container, "state": {"terminated": {"exitCode": code}}},
            ],
        },
    }


POLICY = {
    "rules": [
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
        {
            "action": "FailJob",
            "onExitCodes": {"containerName": "main", "operator": "In", "values": [42]},
        },
        {"action": "Count", "onExitCodes": {"operator": "NotIn", "values": [1, 2]}},
    ]
}


def test_pod_failure_policy_rules_in_order() -> None:
    verdict = match_pod_failure_policy(POLICY, failed_pod(42))
    assert verdict.fail_job_message == (
        "Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1"
    )
    assert match_pod_failure_policy(POLICY, failed_pod(42, container="other")).action == "Count"
    evicted = failed_pod(42, conditions=[{"type": "DisruptionTarget", "status": "True"}])
    assert match_pod_failure_policy(POLICY, evicted) == (None, False, "Ignore")
    assert match_pod_failure_policy(POLICY, failed_pod(1)) == (None, True, None)
    assert match_pod_failure_policy(None, failed_pod(1)) == (None, True, None)


def finished_at(phase: str, seconds: str) -> Object:
    finished = f"2026-01-01T00:00:{seconds}Z"
    return {
        "metadata": {},
        "status": {
            "phase": phase,
            "containerStatuses": [{"state": {"terminated": {"finishedAt": finished}}}],
        },
    }


def test_backoff_doubles_from_ten_seconds_up_to_six_minutes() -> None:
    assert BackoffRecord(0, None).remaining(100.0) == 0
    assert BackoffRecord(1, 100.0).remaining(104.0) == 6.0
    assert BackoffRecord(3, 100.0).remaining(100.0) == 40.0
    assert BackoffRecord(10, 100.0).remaining(100.0) == 360.0
    assert BackoffRecord(2, 100.0).remaining(130.0) == 0


def test_backoff_record_counts_failures_after_the_last_success() -> None:
    store = BackoffStore()
    record = store.next_record("k", [], [finished_at("Failed", "01"), finished_at("Failed", "05")])
    assert record.failures_after_last_success == 2
    store.update("k", record)
    record = store.next_record("k", [finished_at("Succeeded", "10")], [finished_at("Failed", "20")])
    assert record.failures_after_last_success == 1
    assert record.last_failure_time == record.last_failure_time  # set, from the pod
    assert store.next_record("k", [finished_at("Succeeded", "30")], []) == BackoffRecord(0, None)
