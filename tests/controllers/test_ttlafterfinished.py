"""The TTL-after-finished controller against a real in-process API server and a fake clock;
the tests play the Job controller by writing a finished Job's status."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from minikube_py.api.errors import ApiError
from minikube_py.api.stamps import rfc3339
from minikube_py.client import JOBS, Client
from minikube_py.controllers import ControllerManager
from minikube_py.controllers.ttlafterfinished import TTLAfterFinishedController
from tests.controllers.stepping import SteppingClock, eventually

Object = dict[str, Any]


class RecordingClient:
    """The real client, remembering the keyword arguments of every delete."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self.deletes: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def delete(self, gvr: Any, namespace: Any, name: str, **options: Any) -> Object:
        self.deletes.append((name, options))
        result: Object = await self._client.delete(gvr, namespace, name, **options)
        return result


@contextlib.asynccontextmanager
async def running(client: Any, clock: SteppingClock) -> AsyncIterator[None]:
    controller = TTLAfterFinishedController(client, clock=clock)
    task = asyncio.ensure_future(ControllerManager(client, [controller]).run())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def job(ttl: int | None) -> Object:
    spec: Object = {
        "template": {
            "spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "busybox"}]}
        }
    }
    if ttl is not None:
        spec["ttlSecondsAfterFinished"] = ttl
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi"}, "spec": spec}


async def finish(client: Client, at: float) -> None:
    conditions = [
        {"type": t, "status": "True", "lastTransitionTime": rfc3339(at)}
        for t in ("SuccessCriteriaMet", "Complete")
    ]
    status = {"startTime": rfc3339(at), "completionTime": rfc3339(at), "conditions": conditions}
    await client.patch(JOBS, "default", "pi", {"status": status}, subresource="status")


async def gone(client: Client) -> bool:
    try:
        await client.get(JOBS, "default", "pi")
    except ApiError as error:
        return error.code == 404
    return False


async def test_deletes_a_finished_job_when_its_ttl_passed(
    client: Client, clock: SteppingClock
) -> None:
    spy = RecordingClient(client)
    async with running(spy, clock):
        await client.create(JOBS, "default", job(100))
        await finish(client, clock.now())
        await clock.settle(1)  # the key waits on the clock for the TTL
        clock.advance(99)
        await clock.settle(1)
        assert not await gone(client)
        clock.advance(1)
        await eventually(lambda: gone(client), "the job deleted")
    [(name, options)] = spy.deletes
    assert name == "pi"
    assert options["propagation_policy"] == "Background"
    assert set(options["preconditions"]) == {"resourceVersion"}


async def test_ttl_zero_deletes_at_once_and_unfinished_or_no_ttl_stay(
    client: Client, clock: SteppingClock
) -> None:
    spy = RecordingClient(client)
    async with running(spy, clock):
        await client.create(JOBS, "default", job(0))
        await asyncio.sleep(0.05)
        assert not await gone(client)  # not finished yet
        await finish(client, clock.now())
        await eventually(lambda: gone(client), "the job deleted")
        await client.create(JOBS, "default", job(None))
        await finish(client, clock.now())
        clock.advance(10_000)
        await asyncio.sleep(0.05)
        assert not await gone(client)
    assert [name for name, _ in spy.deletes] == ["pi"]


async def test_a_longer_ttl_set_before_expiry_is_respected(
    client: Client, clock: SteppingClock
) -> None:
    async with running(client, clock):
        await client.create(JOBS, "default", job(60))
        await finish(client, clock.now())
        await clock.settle(1)
        await client.patch(JOBS, "default", "pi", {"spec": {"ttlSecondsAfterFinished": 120}})
        clock.advance(60)
        await asyncio.sleep(0.05)
        assert not await gone(client)
        clock.advance(60)
        await eventually(lambda: gone(client), "the job deleted")
