"""CronJob, Job and TTL-after-finished controllers together, as kube-controller-manager runs
them: the CronJob makes a Job on schedule, the Job controller its pod, the test (as kubelet)
ends the pod, the Job completes, the CronJob notes it, and the TTL controller removes it."""

from __future__ import annotations

import asyncio
import time

import pytest

from minikube_py.api.errors import ApiError
from minikube_py.client import CRONJOBS, JOBS, PODS, Client
from minikube_py.controllers import ControllerManager
from minikube_py.controllers.cronjob import CronJobController
from minikube_py.controllers.job import JobController
from minikube_py.controllers.ttlafterfinished import TTLAfterFinishedController
from tests.controllers.stepping import SteppingClock, eventually
from tests.controllers.test_cronjob import after, cron_job
from tests.controllers.test_job import finish


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(start=float(int(time.time()) + 1))


async def test_a_scheduled_run_from_cron_job_to_ttl(client: Client, clock: SteppingClock) -> None:
    controllers = [
        CronJobController(client, clock=clock),
        JobController(client, clock=clock),
        TTLAfterFinishedController(client, clock=clock),
    ]
    task = asyncio.ensure_future(ControllerManager(client, controllers).run())
    try:
        made = cron_job("* * * * *")
        made["spec"]["jobTemplate"]["spec"]["ttlSecondsAfterFinished"] = 30
        await client.create(CRONJOBS, "default", made)
        first = after(clock.now(), 60)
        clock.advance(first - clock.now() + 0.2)
        name = f"tick-{first // 60}"

        async def pod_of_run() -> list[dict[str, object]]:
            listed = await client.list(PODS, "default", label_selector=f"job-name={name}")
            return list(listed["items"])

        [pod] = await eventually(pod_of_run, "the run's pod")
        await finish(client, pod, clock)
        job = await eventually(lambda: _completed(client, name), "the job complete")

        async def noted() -> bool:
            status = (await client.get(CRONJOBS, "default", "tick")).get("status") or {}
            return not status.get("active") and bool(status.get("lastSuccessfulTime"))

        await eventually(noted, "the cron job noting the success")
        clock.advance(30)
        await eventually(lambda: _gone(client, name), "the job removed by its TTL")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert job["status"]["succeeded"] == 1


async def _completed(client: Client, name: str) -> dict[str, object] | None:
    job = await client.get(JOBS, "default", name)
    conditions = (job.get("status") or {}).get("conditions") or []
    done = any(c["type"] == "Complete" and c["status"] == "True" for c in conditions)
    return job if done else None


async def _gone(client: Client, name: str) -> bool:
    try:
        await client.get(JOBS, "default", name)
    except ApiError as error:
        return error.code == 404
    return False
