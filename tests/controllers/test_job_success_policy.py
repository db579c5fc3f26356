"""A Job's ``successPolicy``: the rules alone, then the Job controller against a real in-process
API server (the tests play the kubelet, as in ``test_job.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from minikube_py.api.stamps import rfc3339
from minikube_py.client import JOBS, PODS, Client
from minikube_py.controllers.job_success_policy import match_success_policy
from tests.controllers.stepping import SteppingClock, eventually
from tests.controllers.test_job import (
    TRACKING,
    active,
    conditions,
    events,
    finish,
    job,
    pods_of,
    running,
    wait_active,
    wait_condition,
)

Object = dict[str, Any]
INDEX = "batch.kubernetes.io/job-completion-index"
HOLD = "example.com/hold"


def rules(*given: Object) -> Object:
    return {"rules": list(given)}


@pytest.mark.parametrize(
    ("policy", "succeeded", "expected"),
    [
        # succeededIndexes alone: every listed index
        (rules({"succeededIndexes": "0,2-3"}), {0, 2}, None),
        (rules({"succeededIndexes": "0,2-3"}), {0, 1, 2, 3}, "Matched rules at index 0"),
        # succeededCount alone: any indexes
        (rules({"succeededCount": 2}), {7}, None),
        (rules({"succeededCount": 2}), {1, 7}, "Matched rules at index 0"),
        # both: the count among the listed indexes only (the API reference's example)
        (rules({"succeededIndexes": "1-4", "succeededCount": 3}), {1, 3, 5}, None),
        (
            rules({"succeededIndexes": "1-4", "succeededCount": 3}),
            {1, 3, 4},
            "Matched rules at index 0",
        ),
        (
            rules({"succeededIndexes": "0,2-3", "succeededCount": 1}),
            {2},
            "Matched rules at index 0",
        ),
        # the first rule met names itself
        (
            rules({"succeededIndexes": "0"}, {"succeededCount": 1}, {"succeededCount": 1}),
            {4},
            "Matched rules at index 1",
        ),
        # an unreadable rule, or one wholly beyond completions, is skipped
        (rules({"succeededIndexes": "x"}, {"succeededCount": 1}), {4}, "Matched rules at index 1"),
        (rules({"succeededIndexes": "8-9"}), {4}, None),
        # nothing succeeded yet, or no policy
        (rules({"succeededCount": 1}), set(), None),
        (None, {0, 1}, None),
    ],
)
def test_rules(policy: Object | None, succeeded: set[int], expected: str | None) -> None:
    assert match_success_policy(policy, 8, succeeded) == expected


def indexed(policy: Object, *, completions: int, **spec: Any) -> Object:
    return job(
        completions=completions,
        parallelism=completions,
        completionMode="Indexed",
        successPolicy=policy,
        **spec,
    )


def by_index(pods: list[Object]) -> dict[int, Object]:
    return {int(p["metadata"]["annotations"][INDEX]): p for p in pods}


async def job_status(client: Client) -> Object:
    return (await client.get(JOBS, "default", "pi")).get("status") or {}


async def wait_indexes(client: Client, expected: str) -> Object:
    async def check() -> Object | None:
        found = await job_status(client)
        return found if found.get("completedIndexes") == expected else None

    result: Object = await eventually(check, f"completedIndexes {expected}")
    return result


async def test_succeeded_indexes_end_the_job_and_delete_the_rest(
    client: Client, clock: SteppingClock
) -> None:
    async with running(client, clock):
        await client.create(
            JOBS, "default", indexed(rules({"succeededIndexes": "1"}), completions=4)
        )
        pods = by_index(await wait_active(client, 4))
        await finish(client, pods[1], clock)
        done = await wait_condition(client, "Complete")
        deleted = await eventually(lambda: _at_least(events(client, "SuccessfulDelete"), 3), "")
        completed = await eventually(lambda: events(client, "Completed"), "Completed event")
    found = conditions(done)
    for kind in ("SuccessCriteriaMet", "Complete"):
        assert found[kind]["reason"] == "SuccessPolicy"
        assert found[kind]["message"] == "Matched rules at index 0"
    assert "FailureTarget" not in found and "Failed" not in found
    status = done["status"]
    assert status["completedIndexes"] == "1" and status["succeeded"] == 1
    assert "failed" not in status  # the deleted pods are not failures
    assert status["completionTime"] == found["Complete"]["lastTransitionTime"]
    assert status["uncountedTerminatedPods"] == {}
    # only the succeeded pod is left: the three unscheduled ones went at once
    assert [p["metadata"]["name"] for p in await pods_of(client)] == [pods[1]["metadata"]["name"]]
    assert {e["message"] for e in deleted} == {
        f"Deleted pod: {pods[i]['metadata']['name']}" for i in (0, 2, 3)
    }
    assert completed[0]["message"] == "Job completed"


async def _at_least(found: Any, count: int) -> Any:
    items = await found
    return items if len(items) >= count else None


async def test_succeeded_count_counts_any_indexes(client: Client, clock: SteppingClock) -> None:
    async with running(client, clock):
        await client.create(JOBS, "default", indexed(rules({"succeededCount": 2}), completions=5))
        pods = by_index(await wait_active(client, 5))
        await finish(client, pods[3], clock)
        status = await wait_indexes(client, "3")
        assert not status.get("conditions")  # one success is not enough
        await finish(client, pods[0], clock)
        done = await wait_condition(client, "Complete")
    assert done["status"]["completedIndexes"] == "0,3"
    assert conditions(done)["Complete"]["reason"] == "SuccessPolicy"


async def test_both_fields_count_only_the_listed_indexes(
    client: Client, clock: SteppingClock
) -> None:
    policy = rules({"succeededIndexes": "5"}, {"succeededIndexes": "0-2", "succeededCount": 2})
    async with running(client, clock):
        await client.create(JOBS, "default", indexed(policy, completions=6))
        pods = by_index(await wait_active(client, 6))
        await finish(client, pods[4], clock)  # not listed: does not count
        await wait_indexes(client, "4")
        await finish(client, pods[1], clock)
        status = await wait_indexes(client, "1,4")
        assert not status.get("conditions")
        await finish(client, pods[2], clock)
        done = await wait_condition(client, "Complete")
    found = conditions(done)
    assert found["SuccessCriteriaMet"]["message"] == "Matched rules at index 1"
    assert done["status"]["completedIndexes"] == "1,2,4" and done["status"]["succeeded"] == 3


async def test_running_pods_are_terminated_and_not_counted_as_failed(
    client: Client, clock: SteppingClock
) -> None:
    """Running pods are deleted once the policy is met: the Job says SuccessCriteriaMet while
    they terminate, and Complete only once none is left; their end is no failure. (Another
    finalizer holds the pods in their graceful deletion, as a kubelet still stopping them.)"""
    async with running(client, clock):
        policy = rules({"succeededIndexes": "0"})
        await client.create(JOBS, "default", indexed(policy, completions=3))
        pods = by_index(await wait_active(client, 3))
        for pod in pods.values():
            await _run(client, pod, clock)
        await finish(client, pods[0], clock)
        met = await wait_condition(client, "SuccessCriteriaMet")

        async def lingering() -> list[Object] | None:
            found = [p for p in await pods_of(client) if p["metadata"].get("deletionTimestamp")]
            untracked = all(TRACKING not in p["metadata"]["finalizers"] for p in found)
            return found if len(found) == 2 and untracked else None

        # the controller deleted them and let go of them without counting them
        stopping = await eventually(lingering, "two pods terminating, untracked")
        assert {p["metadata"]["name"] for p in stopping} == {
            pods[i]["metadata"]["name"] for i in (1, 2)
        }
        status = await job_status(client)
        assert status["terminating"] == 2 and not status.get("active")
        assert "Complete" not in conditions(await client.get(JOBS, "default", "pi"))
        for pod in stopping:  # the kubelet has stopped them: they end Failed
            await finish(client, pod, clock, exit_code=137)
        done = await wait_condition(client, "Complete")
        for pod in stopping:
            hold = {"metadata": {"finalizers": None}}
            await client.patch(PODS, "default", pod["metadata"]["name"], hold)
    assert conditions(met)["SuccessCriteriaMet"]["reason"] == "SuccessPolicy"
    assert conditions(done)["Complete"]["message"] == "Matched rules at index 0"
    assert "failed" not in done["status"] and done["status"]["succeeded"] == 1
    assert done["status"]["terminating"] == 0 and "active" not in done["status"]


async def _run(client: Client, pod: Object, clock: SteppingClock) -> None:
    """Play the scheduler and kubelet: bind ``pod``, make it Running and Ready, and hold it in
    its graceful deletion with a finalizer of our own."""
    name = pod["metadata"]["name"]
    target = {"apiVersion": "v1", "kind": "Node", "name": "n1"}
    binding = {"metadata": {"name": name}, "target": target}
    await client.create(PODS, "default", binding, subresource="binding")
    ready = {"type": "Ready", "status": "True", "lastTransitionTime": rfc3339(clock.now())}
    status = {"phase": "Running", "conditions": [ready]}
    await client.patch(PODS, "default", name, {"status": status}, subresource="status")
    hold = {"metadata": {"finalizers": [TRACKING, HOLD]}}
    await client.patch(PODS, "default", name, hold)


async def _no_finalizers(client: Client) -> bool:
    return all(
        TRACKING not in (p["metadata"].get("finalizers") or []) for p in await pods_of(client)
    )


async def _stopped_with(
    client: Client, clock: SteppingClock, *, backoff_limit: int, failing: tuple[int, ...]
) -> Object:
    """Start the Job, stop its controller, end the pods at once (index 0 succeeds, ``failing``
    fail), then start a fresh controller: it sees the success and the failures in one sync."""
    policy = rules({"succeededIndexes": "0"})
    async with running(client, clock):
        await client.create(
            JOBS, "default", indexed(policy, completions=4, backoffLimit=backoff_limit)
        )
        pods = by_index(await wait_active(client, 4))

        async def settled() -> bool:
            return (await job_status(client)).get("active") == 4

        await eventually(settled, "four active in the status")
    await finish(client, pods[0], clock)
    for index in failing:
        await finish(client, pods[index], clock, exit_code=1)
    async with running(client, clock):
        await eventually(lambda: _no_finalizers(client), "every pod handled")
        done = await eventually(lambda: _finished(client), "a final condition")
    assert active(await pods_of(client)) == []
    return done


async def _finished(client: Client) -> Object | None:
    obj = await client.get(JOBS, "default", "pi")
    found = conditions(obj) if obj.get("status") else {}
    return obj if {"Complete", "Failed"} & found.keys() else None


async def test_failures_past_the_backoff_limit_win_over_a_success_in_the_same_sync(
    client: Client, clock: SteppingClock
) -> None:
    done = await _stopped_with(client, clock, backoff_limit=1, failing=(1, 2))
    found = conditions(done)
    assert "SuccessCriteriaMet" not in found and "Complete" not in found
    assert found["FailureTarget"]["reason"] == "BackoffLimitExceeded"
    assert found["Failed"]["reason"] == "BackoffLimitExceeded"
    # the success still counts; the failed pods and the one deleted as the Job failed too
    assert done["status"]["completedIndexes"] == "0"
    assert done["status"]["failed"] == 3


async def test_failures_within_the_backoff_limit_let_the_success_policy_win(
    client: Client, clock: SteppingClock
) -> None:
    done = await _stopped_with(client, clock, backoff_limit=2, failing=(1, 2))
    found = conditions(done)
    assert "FailureTarget" not in found and "Failed" not in found
    assert found["Complete"]["reason"] == "SuccessPolicy"
    assert done["status"]["failed"] == 2  # the real failures count; the deleted pod does not
    assert done["status"]["completedIndexes"] == "0"
