"""The Job controller against a real in-process API server; the tests play the kubelet by
patching pod status (phase, container exit codes and finish times from the fake clock).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from minikube_py.api.printers_workloads import JOB_COLUMNS
from minikube_py.api.stamps import rfc3339
from minikube_py.client import EVENTS, JOBS, PODS, Client
from minikube_py.controllers import ControllerManager
from minikube_py.controllers.job import JobController
from tests.controllers.stepping import SteppingClock, eventually

Object = dict[str, Any]
TRACKING = "batch.kubernetes.io/job-tracking"


def job(name: str = "pi", **spec: Any) -> Object:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            **spec,
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "main", "image": "busybox"}],
                },
            },
        },
    }


@contextlib.asynccontextmanager
async def running(client: Client, clock: SteppingClock) -> AsyncIterator[JobController]:
    controller = JobController(client, clock=clock)
    task = asyncio.ensure_future(ControllerManager(client, [controller]).run())
    try:
        yield controller
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def pods_of(client: Client, name: str = "pi") -> list[Object]:
    listed = (await client.list(PODS, "default", label_selector=f"job-name={name}"))["items"]
    return sorted(
        listed, key=lambda pod: pod["metadata"]["creationTimestamp"] + pod["metadata"]["name"]
    )


def active(pods: list[Object]) -> list[Object]:
    return [
        p
        for p in pods
        if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
        and not p["metadata"].get("deletionTimestamp")
    ]


async def wait_active(client: Client, count: int, name: str = "pi") -> list[Object]:
    async def check() -> tuple[list[Object]] | None:
        found = active(await pods_of(client, name))
        return (found,) if len(found) == count else None

    result: tuple[list[Object]] = await eventually(check, f"{count} active pods")
    return result[0]


async def finish(
    client: Client, pod: Object, clock: SteppingClock, *, exit_code: int = 0, **extra: Any
) -> None:
    """Play the kubelet: the pod's only container ended with ``exit_code``."""
    terminated = {
        "exitCode": exit_code,
        "reason": "Completed" if exit_code == 0 else "Error",
        "startedAt": rfc3339(clock.now() - 1),
        "finishedAt": rfc3339(clock.now()),
    }
    status = {
        "phase": "Succeeded" if exit_code == 0 else "Failed",
        "containerStatuses": [
            {
                "name": "main",
                "image": "busybox",
                "imageID": "",
                "ready": False,
                "restartCount": 0,
                "state": {"terminated": terminated},
            }
        ],
        **extra,
    }
    name = pod["metadata"]["name"]
    await client.patch(PODS, "default", name, {"status": status}, subresource="status")


async def wait_condition(client: Client, kind: str, name: str = "pi") -> Object:
    async def check() -> Object | None:
        obj = await client.get(JOBS, "default", name)
        for condition in (obj.get("status") or {}).get("conditions") or []:
            if condition["type"] == kind and condition["status"] == "True":
                return obj
        return None

    result: Object = await eventually(check, f"condition {kind}")
    return result


async def events(client: Client, reason: str, name: str = "pi") -> list[Object]:
    listed = (await client.list(EVENTS, "default"))["items"]
    return [
        e
        for e in listed
        if e["reason"] == reason
        and e["involvedObject"]["name"] == name
        and e["involvedObject"]["kind"] == "Job"
    ]


def conditions(obj: Object) -> dict[str, Object]:
    return {c["type"]: c for c in obj["status"].get("conditions") or []}


async def test_completions_run_at_most_parallelism_pods_at_once(
    client: Client, clock: SteppingClock
) -> None:
    async with running(client, clock):
        made = await client.create(JOBS, "default", job(completions=5, parallelism=2))
        uid = made["metadata"]["uid"]
        finished = 0
        while finished < 5:
            want = min(2, 5 - finished)
            pods = await wait_active(client, want)
            for pod in pods:
                meta = pod["metadata"]
                assert meta["labels"]["batch.kubernetes.io/controller-uid"] == uid
                assert meta["labels"]["batch.kubernetes.io/job-name"] == "pi"
                assert meta["labels"]["controller-uid"] == uid
                assert meta["labels"]["job-name"] == "pi"
                assert TRACKING in meta["finalizers"]
                assert meta["ownerReferences"] == [
                    {
                        "apiVersion": "batch/v1",
                        "kind": "Job",
                        "name": "pi",
                        "uid": uid,
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ]
            await finish(client, pods[0], clock)
            finished += 1
            # never more than parallelism pods at once, and never more than remain
            await eventually(
                lambda f=finished: _status_succeeded(client, f), f"{finished} succeeded"
            )
            assert len(active(await pods_of(client))) <= 2
        done = await wait_condition(client, "Complete")
        all_pods = await pods_of(client)
        created = await eventually(
            lambda: _at_least(events(client, "SuccessfulCreate"), 5), "create events"
        )
        completed = await eventually(lambda: events(client, "Completed"), "Completed event")
    status = done["status"]
    assert status["succeeded"] == 5 and status.get("failed") is None
    assert "active" not in status  # zero counters are omitted, as upstream's omitempty
    assert status["ready"] == 0 and status["terminating"] == 0
    assert status["uncountedTerminatedPods"] == {}
    assert status["startTime"] and status["completionTime"]
    found = conditions(done)
    assert found["SuccessCriteriaMet"]["reason"] == "CompletionsReached"
    assert found["Complete"]["reason"] == "CompletionsReached"
    assert found["Complete"]["message"] == "Reached expected number of succeeded pods"
    assert status["completionTime"] == found["Complete"]["lastTransitionTime"]
    assert len(all_pods) == 5  # exactly five pods ever: none was made twice
    assert all(TRACKING not in (p["metadata"].get("finalizers") or []) for p in all_pods)
    assert all(e["message"].startswith("Created pod: pi-") for e in created)
    assert completed[0]["message"] == "Job completed"
    # what `kubectl get jobs` prints from this status: STATUS, COMPLETIONS, DURATION
    cells = [column.cell(done) for column in JOB_COLUMNS if column.name in _PRINTED]
    assert cells == ["Complete", "5/5", "0s"]


_PRINTED = ("Status", "Completions", "Duration")


async def _status_succeeded(client: Client, count: int) -> bool:
    obj = await client.get(JOBS, "default", "pi")
    return int((obj.get("status") or {}).get("succeeded") or 0) >= count


async def _at_least(found: Any, count: int) -> Any:
    items = await found
    return items if len(items) >= count else None


async def test_backoff_limit_fails_the_job_after_exponential_backoff(
    client: Client, clock: SteppingClock
) -> None:
    async with running(client, clock):
        await client.create(JOBS, "default", job(backoffLimit=2))
        # first failure: the replacement waits 10 s, the second 20 s
        for delay in (10.0, 20.0):
            [pod] = await wait_active(client, 1)
            await finish(client, pod, clock, exit_code=1)
            await eventually(lambda: _no_active(client), "the failed pod counted")
            clock.advance(delay - 1)
            await asyncio.sleep(0.05)
            assert active(await pods_of(client)) == [], "created before the back-off ended"
            clock.advance(1)
        [pod] = await wait_active(client, 1)
        await finish(client, pod, clock, exit_code=1)
        failed = await wait_condition(client, "Failed")
        warnings = await eventually(lambda: events(client, "BackoffLimitExceeded"), "event")
    found = conditions(failed)
    assert found["FailureTarget"]["reason"] == "BackoffLimitExceeded"
    assert found["Failed"]["reason"] == "BackoffLimitExceeded"
    assert found["Failed"]["message"] == "Job has reached the specified backoff limit"
    assert failed["status"]["failed"] == 3 and "completionTime" not in failed["status"]
    assert warnings[0]["type"] == "Warning"
    assert len(await pods_of(client)) == 3


async def _no_active(client: Client) -> bool:
    obj = await client.get(JOBS, "default", "pi")
    status = obj.get("status") or {}
    return not status.get("active") and bool(status.get("failed"))


async def test_active_deadline_deletes_the_pods_and_fails(
    client: Client, clock: SteppingClock
) -> None:
    async with running(client, clock):
        await client.create(JOBS, "default", job(activeDeadlineSeconds=30, parallelism=2))
        await wait_active(client, 2)
        await clock.settle(1)  # the controller waits on the clock for the deadline
        clock.advance(30)
        failed = await wait_condition(client, "Failed")
        await eventually(lambda: events(client, "DeadlineExceeded"), "event")
        deleted = await eventually(
            lambda: _at_least(events(client, "SuccessfulDelete"), 2), "delete events"
        )
    found = conditions(failed)
    assert found["Failed"]["reason"] == "DeadlineExceeded"
    assert found["Failed"]["message"] == "Job was active longer than specified deadline"
    assert failed["status"]["failed"] == 2
    assert await pods_of(client) == []  # unscheduled pods go at once once uncounted
    assert all(e["message"].startswith("Deleted pod: pi-") for e in deleted)


async def test_indexed_job_gives_each_pod_an_index(client: Client, clock: SteppingClock) -> None:
    async with running(client, clock):
        await client.create(
            JOBS, "default", job(completions=3, parallelism=3, completionMode="Indexed")
        )
        pods = await wait_active(client, 3)
        by_index = {
            p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]: p
            for p in pods
        }
        assert sorted(by_index) == ["0", "1", "2"]
        await finish(client, by_index["2"], clock)
        await finish(client, by_index["0"], clock)
        await eventually(lambda: _completed_indexes(client, "0,2"), "indexes 0 and 2")
        await finish(client, by_index["1"], clock)
        done = await wait_condition(client, "Complete")
    assert done["status"]["completedIndexes"] == "0-2"
    assert done["status"]["succeeded"] == 3
    for index, pod in by_index.items():
        meta = pod["metadata"]
        assert meta["name"].startswith(f"pi-{index}-")
        assert meta["labels"]["batch.kubernetes.io/job-completion-index"] == index
        assert pod["spec"]["hostname"] == f"pi-{index}"
        [env] = [
            e for e in pod["spec"]["containers"][0]["env"] if e["name"] == "JOB_COMPLETION_INDEX"
        ]
        path = "metadata.annotations['batch.kubernetes.io/job-completion-index']"
        assert env["valueFrom"]["fieldRef"]["fieldPath"] == path


async def _completed_indexes(client: Client, expected: str) -> bool:
    obj = await client.get(JOBS, "default", "pi")
    return (obj.get("status") or {}).get("completedIndexes") == expected


async def test_pod_failure_policy_fails_the_job_on_an_exit_code(
    client: Client, clock: SteppingClock
) -> None:
    policy = {
        "rules": [
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
            {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}},
        ]
    }
    async with running(client, clock):
        await client.create(JOBS, "default", job(backoffLimit=6, podFailurePolicy=policy))
        [pod] = await wait_active(client, 1)
        # an ignored failure (evicted): replaced at once, not counted
        disruption = {
            "type": "DisruptionTarget",
            "status": "True",
            "reason": "EvictionByEvictionAPI",
        }
        await finish(client, pod, clock, exit_code=137, conditions=[disruption])
        # as upstream, an ignored failure still backs the next pod off by 10 s
        await eventually(lambda: _finalizer_gone(client, pod), "the failed pod handled")
        await clock.settle(1)
        clock.advance(10)
        [second] = await eventually(lambda: _new_active(client, pod), "a replacement")
        status = (await client.get(JOBS, "default", "pi"))["status"]
        assert not status.get("failed")
        await finish(client, second, clock, exit_code=42)
        failed = await wait_condition(client, "Failed")
    found = conditions(failed)
    name = second["metadata"]["name"]
    message = (
        f"Container main for pod default/{name} failed with exit code 42 matching FailJob rule "
        "at index 1"
    )
    assert found["Failed"]["reason"] == "PodFailurePolicy"
    assert found["Failed"]["message"] == message
    assert failed["status"]["failed"] == 1


async def _finalizer_gone(client: Client, pod: Object) -> bool:
    current = await client.get(PODS, "default", pod["metadata"]["name"])
    return TRACKING not in (current["metadata"].get("finalizers") or [])


async def _new_active(client: Client, old: Object) -> list[Object] | None:
    found = [
        p for p in active(await pods_of(client)) if p["metadata"]["uid"] != old["metadata"]["uid"]
    ]
    return found or None


async def test_suspend_deletes_active_pods_and_resume_restarts(
    client: Client, clock: SteppingClock
) -> None:
    async with running(client, clock):
        await client.create(JOBS, "default", job(parallelism=2, completions=4, suspend=True))
        suspended = await wait_condition(client, "Suspended")
        assert await pods_of(client) == [] and "startTime" not in suspended["status"]
        await client.patch(JOBS, "default", "pi", {"spec": {"suspend": False}})
        await wait_active(client, 2)
        await client.patch(JOBS, "default", "pi", {"spec": {"suspend": True}})
        await wait_active(client, 0)
        obj = await wait_condition(client, "Suspended")
        await eventually(lambda: events(client, "Resumed"), "Resumed")
        await eventually(lambda: _at_least(events(client, "Suspended"), 1), "Suspended")
    assert obj["status"].get("failed") is None  # deleted by suspension: not failures
    assert await pods_of(client) == []
    assert conditions(obj)["Suspended"]["reason"] == "JobSuspended"


async def test_a_deleted_job_lets_go_of_its_pods(client: Client, clock: SteppingClock) -> None:
    async with running(client, clock):
        await client.create(JOBS, "default", job(parallelism=2, completions=2))
        pods = await wait_active(client, 2)
        await eventually(lambda: _status_active(client, 2), "two active in the status")
        await client.delete(JOBS, "default", "pi", propagation_policy="Background")

        async def released() -> bool:
            current = await pods_of(client)
            return len(current) == 2 and all(
                TRACKING not in (p["metadata"].get("finalizers") or []) for p in current
            )

        await eventually(released, "finalizers removed")
    assert {p["metadata"]["name"] for p in await pods_of(client)} == {
        p["metadata"]["name"] for p in pods
    }


async def _status_active(client: Client, count: int) -> bool:
    obj = await client.get(JOBS, "default", "pi")
    return (obj.get("status") or {}).get("active") == count


async def test_a_job_managed_by_another_controller_is_left_alone(
    client: Client, clock: SteppingClock
) -> None:
    async with running(client, clock):
        await client.create(JOBS, "default", job("other", managedBy="example.com/queue"))
        await client.create(JOBS, "default", job("mine"))
        await wait_active(client, 1, "mine")
        await asyncio.sleep(0.05)
        assert await pods_of(client, "other") == []
        other = await client.get(JOBS, "default", "other")
    assert not other.get("status", {}).get("startTime")


async def test_a_failed_index_is_retried_with_the_same_index(
    client: Client, clock: SteppingClock
) -> None:
    key = "batch.kubernetes.io/job-completion-index"
    async with running(client, clock):
        spec = {"completions": 2, "parallelism": 2, "completionMode": "Indexed"}
        await client.create(JOBS, "default", job(**spec))
        pods = await wait_active(client, 2)
        by_index = {p["metadata"]["annotations"][key]: p for p in pods}
        await finish(client, by_index["1"], clock, exit_code=3)
        await eventually(lambda: _finalizer_gone(client, by_index["1"]), "the failure counted")
        await clock.settle(1)
        clock.advance(10)  # the first failure backs off 10 s
        [retry] = await eventually(lambda: _new_active(client, by_index["0"]), "a retry")
        assert retry["metadata"]["annotations"][key] == "1"
        await finish(client, by_index["0"], clock)
        await finish(client, retry, clock)
        done = await wait_condition(client, "Complete")
    assert done["status"]["failed"] == 1 and done["status"]["completedIndexes"] == "0,1"


async def test_without_completions_the_first_success_ends_the_job(
    client: Client, clock: SteppingClock
) -> None:
    async with running(client, clock):
        await client.create(JOBS, "default", job(parallelism=2))
        first, second = await wait_active(client, 2)
        await finish(client, first, clock)
        await eventually(lambda: _status_succeeded(client, 1), "one success")
        await asyncio.sleep(0.05)
        assert active(await pods_of(client)) == [second]  # no new pods once one succeeded
        await finish(client, second, clock)
        done = await wait_condition(client, "Complete")
    assert done["status"]["succeeded"] == 2
    assert [c.cell(done) for c in JOB_COLUMNS if c.name == "Completions" and c.cell] == ["2/1 of 2"]
