"""The Scheduler against a real in-process API server, with three Node objects of our own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from minikube_py.client import EVENTS, NODES, PODS, Client, Informer
from minikube_py.scheduler.queue import SchedulingQueue
from minikube_py.scheduler.scheduler import Scheduler
from tests.client.helpers import bounded

from .helpers import api_only, node, pod

GPU_TAINT = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    async with api_only(tmp_path) as made:
        yield made


async def add_node(client: Client, obj: dict[str, Any]) -> None:
    created = await client.create(NODES, None, obj)
    if created.get("status", {}).get("allocatable") != obj["status"]["allocatable"]:
        created["status"] = obj["status"]  # in case create drops status, as for most kinds
        await client.update_status(NODES, None, created)


class Changes:
    """Wakes waiters whenever a pod or an event changes: wait-for-condition without sleeps."""

    def __init__(self, client: Client) -> None:
        self.changed = asyncio.Event()
        self.informers = [Informer(client, PODS), Informer(client, EVENTS)]
        for informer in self.informers:
            informer.on_add(lambda _obj: self.changed.set())
            informer.on_update(lambda _old, _new: self.changed.set())
        self.tasks = [asyncio.create_task(i.run()) for i in self.informers]

    async def until(self, check: Callable[[], Awaitable[Any]], what: str) -> Any:
        async def loop() -> Any:
            while True:
                self.changed.clear()
                if result := await check():
                    return result
                await self.changed.wait()

        try:
            return await bounded(loop())
        except TimeoutError:
            pytest.fail(f"timed out waiting for {what}")

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def node_of(client: Client, name: str) -> str | None:
    obj = await client.get(PODS, "default", name)
    return obj["spec"].get("nodeName")  # type: ignore[no-any-return]


async def events_for(client: Client, name: str, reason: str) -> list[dict[str, Any]]:
    found = await client.list(EVENTS, "default")
    return [
        e for e in found["items"] if e["involvedObject"]["name"] == name and e["reason"] == reason
    ]


def pod_scheduled(obj: dict[str, Any]) -> dict[str, Any] | None:
    for condition in obj.get("status", {}).get("conditions") or []:
        if condition["type"] == "PodScheduled":
            return condition  # type: ignore[no-any-return]
    return None


async def condition_of(client: Client, name: str) -> dict[str, Any] | None:
    return pod_scheduled(await client.get(PODS, "default", name))


BIG_MESSAGE = (
    "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, "
    "2 Insufficient memory. preemption: 0/3 nodes are available: "
    "1 Preemption is not helpful for scheduling, "
    "2 No preemption victims found for incoming pod.."
)


async def test_scheduler_places_pods_and_explains_failures(client: Client) -> None:
    await add_node(client, node("minikube", taints=[GPU_TAINT]))
    await add_node(client, node("minikube-m02", cpu="2", memory="2Gi", labels={"disk": "ssd"}))
    await add_node(client, node("minikube-m03", cpu="2", memory="2Gi"))
    scheduler = Scheduler(client, seed=1)
    task = asyncio.create_task(scheduler.run())
    changes = Changes(client)
    until = changes.until
    try:
        await client.create(PODS, "default", pod("web", nodeSelector={"disk": "ssd"}))
        assert await until(lambda: node_of(client, "web"), "web bound") == "minikube-m02"
        scheduled = await until(lambda: events_for(client, "web", "Scheduled"), "Scheduled")
        assert scheduled[0]["message"] == "Successfully assigned default/web to minikube-m02"
        assert scheduled[0]["source"]["component"] == "default-scheduler"
        assert scheduled[0]["type"] == "Normal"
        condition = await condition_of(client, "web")
        assert condition is not None and condition["status"] == "True"
        assert condition["lastTransitionTime"] and "reason" not in condition

        gpu = pod("gpu", tolerations=[{"key": "dedicated", "operator": "Exists"}])
        gpu["spec"]["nodeSelector"] = {"kubernetes.io/hostname": "minikube"}
        await client.create(PODS, "default", gpu)
        assert await until(lambda: node_of(client, "gpu"), "gpu bound") == "minikube"

        await client.create(PODS, "default", pod("big", memory="4Gi"))
        failed = await until(lambda: events_for(client, "big", "FailedScheduling"), "failure")
        assert failed[0]["type"] == "Warning"
        assert failed[0]["message"] == BIG_MESSAGE
        condition = await until(lambda: condition_of(client, "big"), "PodScheduled=False")
        assert (condition["status"], condition["reason"], condition["message"]) == (
            "False",
            "Unschedulable",
            BIG_MESSAGE,
        )
        assert await node_of(client, "big") is None

        await client.create(PODS, "default", pod("other", schedulerName="my-scheduler"))

        await add_node(client, node("minikube-m04", memory="8Gi"))
        assert await until(lambda: node_of(client, "big"), "big bound") == "minikube-m04"
        condition = await condition_of(client, "big")
        assert condition is not None and condition["status"] == "True"
        assert "message" not in condition and "reason" not in condition
        # another scheduler's pod stays Pending, untouched: no node, no condition, no event
        other = await client.get(PODS, "default", "other")
        assert other["spec"].get("nodeName") is None and pod_scheduled(other) is None
        assert await events_for(client, "other", "FailedScheduling") == []
    finally:
        await changes.close()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_repeated_failures_aggregate_into_one_event(client: Client) -> None:
    await add_node(client, node("minikube", cpu="1"))
    queue = SchedulingQueue(initial_backoff=0.01, max_backoff=0.01)
    scheduler = Scheduler(client, seed=1, queue=queue)
    task = asyncio.create_task(scheduler.run())
    changes = Changes(client)
    message = (
        "0/1 nodes are available: 1 Insufficient cpu. "
        "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.."
    )
    try:
        await client.create(PODS, "default", pod("big", cpu="2"))
        await changes.until(lambda: events_for(client, "big", "FailedScheduling"), "failure")
        condition = await changes.until(lambda: condition_of(client, "big"), "PodScheduled")
        # A node change that could matter (its labels) retries the pod: same verdict again.
        for round_ in range(2):
            obj = await client.get(NODES, None, "minikube")
            obj["metadata"]["labels"]["round"] = str(round_)
            await client.update(NODES, None, obj)

            async def counted(expected: int = round_ + 2) -> list[dict[str, Any]]:
                found = await events_for(client, "big", "FailedScheduling")
                return found if found and found[0].get("count") == expected else []

            await changes.until(counted, f"count {round_ + 2}")
        events = await events_for(client, "big", "FailedScheduling")
        assert len(events) == 1 and events[0]["message"] == message
        # the condition was written once: the same message does not rewrite the pod
        again = await condition_of(client, "big")
        assert again == condition
    finally:
        await changes.close()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


class Exploding:
    """A filter with a bug that only one pod triggers."""

    name = "Exploding"

    def filter(self, state: Any, obj: dict[str, Any], info_: Any) -> Any:
        if obj["metadata"]["name"] == "bad":
            raise RuntimeError("plugin bug")
        from minikube_py.scheduler.framework import SUCCESS

        return SUCCESS


async def test_a_failing_cycle_parks_the_pod_and_scheduling_goes_on(client: Client) -> None:
    from minikube_py.scheduler.framework import Profile

    await add_node(client, node("minikube"))
    scheduler = Scheduler(client, seed=1, profile=Profile(filters=[Exploding()]))
    task = asyncio.create_task(scheduler.run())
    changes = Changes(client)
    try:
        await client.create(PODS, "default", pod("bad"))
        await client.create(PODS, "default", pod("good"))
        assert await changes.until(lambda: node_of(client, "good"), "good bound") == "minikube"
        assert await node_of(client, "bad") is None
        assert scheduler.queue.pending()["unschedulable"] == ["default/bad"]
        assert not task.done()
    finally:
        await changes.close()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
