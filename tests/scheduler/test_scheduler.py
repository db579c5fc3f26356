"""The Scheduler against a real in-process API server, with three Node objects of our own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from minikube_py.client import EVENTS, NODES, PODS, Client, Informer
from minikube_py.scheduler.scheduler import Scheduler
from tests.client.helpers import bounded, in_process_client
from tests.clusters import ephemeral_config

from .helpers import node, pod

if TYPE_CHECKING:
    from minikube_py.cluster import RunningCluster

GPU_TAINT = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    from minikube_py.cluster import running_cluster

    running: RunningCluster
    async with running_cluster(ephemeral_config(tmp_path)) as running:
        made = in_process_client(running)
        try:
            yield made
        finally:
            await made.close()


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

        gpu = pod("gpu", tolerations=[{"key": "dedicated", "operator": "Exists"}])
        gpu["spec"]["nodeSelector"] = {"kubernetes.io/hostname": "minikube"}
        await client.create(PODS, "default", gpu)
        assert await until(lambda: node_of(client, "gpu"), "gpu bound") == "minikube"

        await client.create(PODS, "default", pod("big", memory="4Gi"))
        failed = await until(lambda: events_for(client, "big", "FailedScheduling"), "failure")
        assert failed[0]["type"] == "Warning"
        assert failed[0]["message"] == (
            "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, "
            "2 Insufficient memory."
        )
        assert await node_of(client, "big") is None

        other = pod("other", schedulerName="my-scheduler")
        await client.create(PODS, "default", other)

        await add_node(client, node("minikube-m04", memory="8Gi"))
        assert await until(lambda: node_of(client, "big"), "big bound") == "minikube-m04"
        assert await node_of(client, "other") is None  # another scheduler's pod stays Pending
    finally:
        await changes.close()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
