"""The CronJob controller against a real in-process API server, driven by a fake clock.

The API server stamps ``creationTimestamp`` from the real clock, so each test starts its fake
clock a moment after the real now; the test then moves the fake clock to the scheduled times
and plays the Job controller by writing Job status (a Job is finished when its ``Complete`` or
``Failed`` condition is true).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from minikube_py.api.stamps import parse_time, rfc3339
from minikube_py.client import CRONJOBS, EVENTS, JOBS, Client
from minikube_py.controllers import ControllerManager
from minikube_py.controllers.cronjob import CronJobController
from tests.controllers.stepping import SteppingClock, eventually

Object = dict[str, Any]
SCHEDULED = "batch.kubernetes.io/cronjob-scheduled-timestamp"


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(start=float(int(time.time()) + 1))


def cron_job(schedule: str, **spec: Any) -> Object:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "tick", "namespace": "default"},
        "spec": {
            "schedule": schedule,
            **spec,
            "jobTemplate": {
                "metadata": {"labels": {"app": "tick"}, "annotations": {"team": "a"}},
                "spec": {
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "main", "image": "busybox"}],
                        }
                    }
                },
            },
        },
    }


@contextlib.asynccontextmanager
async def running(client: Client, clock: SteppingClock) -> AsyncIterator[CronJobController]:
    controller = CronJobController(client, clock=clock)
    task = asyncio.ensure_future(ControllerManager(client, [controller]).run())
    try:
        yield controller
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def jobs(client: Client) -> list[Object]:
    listed = (await client.list(JOBS, "default"))["items"]
    return sorted(listed, key=lambda job: job["metadata"]["name"])


async def wait_jobs(client: Client, names: list[str]) -> list[Object]:
    async def check() -> list[Object] | None:
        found = await jobs(client)
        return found if [j["metadata"]["name"] for j in found] == names else None

    result: list[Object] = await eventually(check, f"jobs {names}")
    return result


async def wait_status(client: Client, check: Any, what: str) -> Object:
    async def look() -> Object | None:
        obj = await client.get(CRONJOBS, "default", "tick")
        return obj if check(obj.get("status") or {}) else None

    result: Object = await eventually(look, what)
    return result


async def events(client: Client, reason: str) -> list[Object]:
    listed = (await client.list(EVENTS, "default"))["items"]
    return [e for e in listed if e["reason"] == reason and e["involvedObject"]["kind"] == "CronJob"]


async def finish(client: Client, name: str, at: float, *, failed: bool = False) -> None:
    """Play the Job controller: the Job ``name`` finished at ``at``."""
    kind = "Failed" if failed else "Complete"
    interim = "FailureTarget" if failed else "SuccessCriteriaMet"
    conditions = [
        {"type": t, "status": "True", "lastTransitionTime": rfc3339(at)} for t in (interim, kind)
    ]
    status: Object = {"startTime": rfc3339(at - 1), "conditions": conditions}
    if not failed:
        status["completionTime"] = rfc3339(at)
        status["succeeded"] = 1
    await client.patch(JOBS, "default", name, {"status": status}, subresource="status")


def after(moment: float, step: int) -> int:
    """The first multiple of ``step`` seconds strictly after ``moment``."""
    return (int(moment) // step + 1) * step


async def test_creates_a_job_at_each_scheduled_time(client: Client, clock: SteppingClock) -> None:
    async with running(client, clock):
        made = await client.create(CRONJOBS, "default", cron_job("*/5 * * * *"))
        created = parse_time(made["metadata"]["creationTimestamp"]) or 0.0
        first = after(max(created, clock.now()), 300)
        await asyncio.sleep(0.05)
        assert await jobs(client) == []  # nothing is due before the first scheduled time
        clock.advance(first - clock.now() + 0.2)
        [job] = await wait_jobs(client, [f"tick-{first // 60}"])
        cj = await wait_status(client, lambda s: s.get("active"), "an active job")
        await finish(client, job["metadata"]["name"], clock.now())
        # (as upstream, the sync that drops it from active sets lastSuccessfulTime one later)
        done = await wait_status(
            client,
            lambda s: not s.get("active") and s.get("lastSuccessfulTime"),
            "the job seen finished",
        )
        clock.advance(300)
        await wait_jobs(client, [f"tick-{first // 60}", f"tick-{first // 60 + 5}"])
        created_events = await eventually(lambda: events(client, "SuccessfulCreate"), "events")
        saw = await eventually(lambda: events(client, "SawCompletedJob"), "SawCompletedJob")
    meta = job["metadata"]
    assert meta["ownerReferences"] == [
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "name": "tick",
            "uid": made["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert meta["labels"]["app"] == "tick"
    assert meta["annotations"]["team"] == "a"
    assert meta["annotations"][SCHEDULED] == rfc3339(first)
    assert job["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox"
    [ref] = cj["status"]["active"]
    assert (ref["kind"], ref["name"], ref["uid"]) == ("Job", meta["name"], meta["uid"])
    assert cj["status"]["lastScheduleTime"] == rfc3339(first)
    assert done["status"]["lastSuccessfulTime"] == rfc3339(first + 0.2)
    assert f"Created job tick-{first // 60}" in [e["message"] for e in created_events]
    assert saw[0]["message"] == f"Saw completed job: tick-{first // 60}, status: Complete"


async def test_macro_in_a_time_zone(client: Client, clock: SteppingClock) -> None:
    zone = ZoneInfo("Asia/Tokyo")
    async with running(client, clock):
        await client.create(CRONJOBS, "default", cron_job("@daily", timeZone="Asia/Tokyo"))
        local = datetime.fromtimestamp(clock.now(), zone)
        midnight = datetime(local.year, local.month, local.day, tzinfo=zone).timestamp() + 86400
        await asyncio.sleep(0.05)
        clock.advance(midnight - clock.now() - 60)
        await asyncio.sleep(0.05)
        assert await jobs(client) == []
        clock.advance(60.2)
        [job] = await wait_jobs(client, [f"tick-{int(midnight) // 60}"])
    stamp = job["metadata"]["annotations"][SCHEDULED]
    assert stamp.endswith("T00:00:00+09:00")
    assert datetime.fromisoformat(stamp).timestamp() == midnight


async def test_forbid_skips_a_run_while_one_is_active(client: Client, clock: SteppingClock) -> None:
    async with running(client, clock):
        await client.create(CRONJOBS, "default", cron_job("* * * * *", concurrencyPolicy="Forbid"))
        first = after(clock.now(), 60)
        clock.advance(first - clock.now() + 0.2)
        [job] = await wait_jobs(client, [f"tick-{first // 60}"])
        await wait_status(client, lambda s: s.get("active"), "an active job")
        clock.advance(60)
        await eventually(lambda: events(client, "JobAlreadyActive"), "JobAlreadyActive")
        assert len(await jobs(client)) == 1
        await finish(client, job["metadata"]["name"], clock.now())
        # as upstream, the skipped time is still unmet: it runs as soon as the other finished
        await wait_jobs(client, [f"tick-{first // 60}", f"tick-{first // 60 + 1}"])
    [skipped] = await events(client, "JobAlreadyActive")
    assert skipped["message"] == (
        "Not starting job because prior execution is running and concurrency policy is Forbid"
    )


async def test_replace_deletes_the_running_job(client: Client, clock: SteppingClock) -> None:
    async with running(client, clock):
        await client.create(CRONJOBS, "default", cron_job("* * * * *", concurrencyPolicy="Replace"))
        first = after(clock.now(), 60)
        clock.advance(first - clock.now() + 0.2)
        await wait_jobs(client, [f"tick-{first // 60}"])
        await wait_status(client, lambda s: s.get("active"), "an active job")
        clock.advance(60)
        await wait_jobs(client, [f"tick-{first // 60 + 1}"])
        cj = await wait_status(
            client,
            lambda s: [r["name"] for r in s.get("active") or []] == [f"tick-{first // 60 + 1}"],
            "only the new job active",
        )
        deleted = await eventually(lambda: events(client, "SuccessfulDelete"), "delete event")
    assert deleted[0]["message"] == f"Deleted job tick-{first // 60}"
    assert cj["status"]["lastScheduleTime"] == rfc3339(first + 60)


async def test_history_limits_delete_the_oldest_finished_jobs(
    client: Client, clock: SteppingClock
) -> None:
    spec = {"successfulJobsHistoryLimit": 1, "failedJobsHistoryLimit": 1}
    async with running(client, clock):
        await client.create(CRONJOBS, "default", cron_job("* * * * *", **spec))
        first = after(clock.now(), 60) // 60
        clock.advance(first * 60 - clock.now() + 0.2)
        names = []
        for run, failed in enumerate((False, True, False, True, False)):
            name = f"tick-{first + run}"
            names.append(name)
            await eventually(lambda n=name: _exists(client, n), name)
            await finish(client, name, clock.now(), failed=failed)
            await wait_status(client, lambda s: not s.get("active"), "the job seen finished")
            clock.advance(60)
        # the newest succeeded and the newest failed stay; a sixth run was just created
        await wait_jobs(client, [f"tick-{first + 3}", f"tick-{first + 4}", f"tick-{first + 5}"])


async def _exists(client: Client, name: str) -> bool:
    return name in [job["metadata"]["name"] for job in await jobs(client)]


async def test_suspended_cron_job_creates_nothing(client: Client, clock: SteppingClock) -> None:
    async with running(client, clock):
        await client.create(CRONJOBS, "default", cron_job("* * * * *", suspend=True))
        clock.advance(180)
        await asyncio.sleep(0.1)
        assert await jobs(client) == []
        await client.patch(CRONJOBS, "default", "tick", {"spec": {"suspend": False}})
        # only the latest missed time runs, not every missed one
        [job] = await wait_jobs(client, [f"tick-{int(clock.now()) // 60}"])
    assert job["metadata"]["annotations"][SCHEDULED] == rfc3339(int(clock.now()) // 60 * 60)
