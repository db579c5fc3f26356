"""A real in-process API server, a Node object, and a kubelet on the fake runtime."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from minikube_py.client import EVENTS, NODES, PODS, ApiError, Client, Informer
from minikube_py.config import NodeConfig
from minikube_py.kubelet import FakeClock, Kubelet
from minikube_py.runtime.fake import FakeRuntime
from tests.client.helpers import bounded
from tests.clusters import in_process_client

Object = dict[str, Any]
NODE = NodeConfig(
    name="minikube", address="127.49.0.2", pod_cidr="127.244.0.0/24", cpu="4", memory="8Gi"
)


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    """The API server's storage and watch cache behind an in-process client, with no
    scheduler and no kubelet of its own (a whole cluster would run both): the test's
    kubelet is the only one, on a Node object the test made."""
    async with in_process_client() as made:
        await made.create(NODES, None, node_object(NODE))
        yield made


def node_object(node: NodeConfig) -> Object:
    allocatable = {"cpu": node.cpu, "memory": node.memory, "pods": str(node.pods)}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": node.name, "labels": {"kubernetes.io/hostname": node.name}},
        "spec": {"podCIDR": node.pod_cidr, "podCIDRs": [node.pod_cidr]},
        "status": {"capacity": allocatable, "allocatable": allocatable},
    }


def pod(name: str = "web", *, image: str = "nginx:1.27", **spec: Any) -> Object:
    containers = spec.pop("containers", None) or [{"name": "web", "image": image}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"nodeName": NODE.name, "containers": containers, **spec},
    }


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> FakeRuntime:
    return FakeRuntime(clock=clock.now)


class Cluster:
    """The pieces of one test: client, kubelet, runtime, clock, and waiting for changes."""

    def __init__(self, client: Client, kubelet: Kubelet, fake: FakeRuntime, clock: FakeClock):
        self.client = client
        self.kubelet = kubelet
        self.fake = fake
        self.clock = clock
        self.changed = asyncio.Event()
        self.informers = [Informer(client, PODS), Informer(client, EVENTS)]
        for informer in self.informers:
            informer.on_add(lambda _obj: self.changed.set())
            informer.on_update(lambda _old, _new: self.changed.set())
            informer.on_delete(lambda _obj: self.changed.set())
        self.tasks = [asyncio.ensure_future(i.run()) for i in self.informers]

    async def until(self, check: Callable[[], Awaitable[Any]], what: str) -> Any:
        async def loop() -> Any:
            while True:
                self.changed.clear()
                if result := await check():
                    return result
                with contextlib.suppress(TimeoutError):
                    # a container exit or a clock step changes no API object by itself
                    await asyncio.wait_for(self.changed.wait(), 0.05)

        try:
            return await bounded(loop())
        except TimeoutError:
            pytest.fail(f"timed out waiting for {what}")

    async def pod(self, name: str = "web") -> Object:
        return await self.client.get(PODS, "default", name)

    async def until_gone(self, what: str, name: str = "web") -> None:
        """Until the pod object is removed (a GET answers 404)."""

        async def gone() -> bool:
            try:
                await self.pod(name)
            except ApiError as error:
                return error.code == 404
            return False

        await self.until(gone, what)

    async def pod_where(
        self, check: Callable[[Object], bool], what: str, name: str = "web"
    ) -> Object:
        async def probe() -> Object | None:
            try:
                current = await self.pod(name)
            except Exception:
                return None
            return current if check(current) else None

        result: Object = await self.until(probe, what)
        return result

    async def events(self, reason: str, name: str = "web") -> list[Object]:
        listed = await self.client.list(EVENTS, "default")
        return [
            e
            for e in listed["items"]
            if e["reason"] == reason and e["involvedObject"]["name"] == name
        ]

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


@pytest.fixture
async def cluster(
    client: Client, fake: FakeRuntime, clock: FakeClock, tmp_path: Path
) -> AsyncIterator[Cluster]:
    kubelet = Kubelet(client, NODE, fake, directory=tmp_path / "node", clock=clock)
    task = asyncio.ensure_future(kubelet.run())
    made = Cluster(client, kubelet, fake, clock)
    try:
        yield made
    finally:
        task.cancel()
        # A worker may be stopping on the fake clock (a grace period, a back-off): move time
        # on while waiting, and fail rather than hang if the kubelet still does not stop.
        for _step in range(100):
            done, _ = await asyncio.wait({task}, timeout=0.1)
            if done:
                break
            clock.advance(60)
        else:
            stacks = io.StringIO()
            for pending in asyncio.all_tasks():
                if not pending.done():
                    pending.print_stack(file=stacks)
            pytest.fail(
                f"the kubelet did not stop within 10 s; pending tasks:\n{stacks.getvalue()}"
            )
        await made.close()


def container_status(pod_obj: Object, name: str = "web", key: str = "containerStatuses") -> Object:
    for status in (pod_obj.get("status") or {}).get(key) or []:
        if status["name"] == name:
            return dict(status)
    return {}


def condition(pod_obj: Object, kind: str) -> Object:
    for cond in (pod_obj.get("status") or {}).get("conditions") or []:
        if cond["type"] == kind:
            return dict(cond)
    return {}
