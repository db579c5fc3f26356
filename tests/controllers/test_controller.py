"""Controllers: workers, requeues and wiring; and an example controller on a real API server.

``ConfigMapCounter`` is the whole recipe for a new controller: a name, a ``wire`` that takes
shared informers and says which events enqueue which keys, and a level-triggered
``reconcile`` that reads the caches and writes the difference.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from minikube_py.api.stamps import micro_time
from minikube_py.client import CONFIGMAPS, LEASES, NAMESPACES, PODS, Client, Object
from minikube_py.controllers import (
    Controller,
    ControllerManager,
    LeaderElector,
    SharedInformers,
    controller_key,
)
from tests.client.helpers import configmap
from tests.controllers.stepping import SteppingClock, eventually, turns

ANNOTATION = "example.minikube-py.io/configmaps"


class ConfigMapCounter(Controller):
    """Writes how many ConfigMaps a namespace holds into an annotation on the Namespace."""

    name = "configmap-counter"

    def __init__(self, client: Client) -> None:
        super().__init__()
        self.client = client

    def wire(self, informers: SharedInformers) -> None:
        self.namespaces = informers.get(NAMESPACES)
        self.configmaps = informers.get(CONFIGMAPS)
        self.watch(self.namespaces)
        self.watch(self.configmaps, key_of=lambda cm: cm["metadata"]["namespace"])

    async def reconcile(self, key: str) -> float | None:
        namespace = self.namespaces.get(key)
        if namespace is None:
            return None
        count = str(len(self.configmaps.by_namespace(key)))
        if (namespace["metadata"].get("annotations") or {}).get(ANNOTATION) != count:
            patch = {"metadata": {"annotations": {ANNOTATION: count}}}
            await self.client.patch(NAMESPACES, None, key, patch)
        return None


@contextlib.asynccontextmanager
async def running(runnable: Callable[[], Awaitable[None]]) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.ensure_future(runnable())
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_example_controller_counts_configmaps(client: Client) -> None:
    counter = ConfigMapCounter(client)
    manager = ControllerManager(client, [counter])
    await client.create(NAMESPACES, None, {"metadata": {"name": "team-a"}})
    await client.create(CONFIGMAPS, "team-a", configmap("one"))

    async def annotation() -> str | None:
        namespace = await client.get(NAMESPACES, None, "team-a")
        value: str | None = (namespace["metadata"].get("annotations") or {}).get(ANNOTATION)
        return value

    async with running(manager.run):
        await eventually(lambda: _equals(annotation(), "1"), "the count of existing ConfigMaps")
        await client.create(CONFIGMAPS, "team-a", configmap("two"))
        await client.create(CONFIGMAPS, "team-a", configmap("three"))
        await eventually(lambda: _equals(annotation(), "3"), "the count after two creates")
        await client.delete(CONFIGMAPS, "team-a", "one")
        await eventually(lambda: _equals(annotation(), "2"), "the count after a delete")
        default = await client.get(NAMESPACES, None, "default")
        present = (await client.list(CONFIGMAPS, "default"))["items"]  # kube-root-ca.crt
        assert default["metadata"]["annotations"][ANNOTATION] == str(len(present))
    assert counter.queue.shutting_down


async def _equals(value: Awaitable[Any], expected: Any) -> bool:
    return bool(await value == expected)


class Recorder(Controller):
    """Reconciles by calling ``behaviour``; records calls and overlapping reconciles."""

    name = "recorder"

    def __init__(
        self, behaviour: Callable[[str, int], Awaitable[float | None]], **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.behaviour = behaviour
        self.calls: list[str] = []
        self.active: set[str] = set()
        self.overlaps = 0

    async def reconcile(self, key: str) -> float | None:
        if key in self.active:
            self.overlaps += 1
        self.active.add(key)
        self.calls.append(key)
        try:
            return await self.behaviour(key, self.calls.count(key))
        finally:
            self.active.discard(key)


async def test_one_key_is_never_reconciled_twice_at_once() -> None:
    gate = asyncio.Event()

    async def blocked(key: str, _call: int) -> None:
        await gate.wait()

    controller = Recorder(blocked, workers=4)
    async with running(controller.run_workers):
        controller.queue.add("ns/a")
        await eventually(lambda: controller.calls == ["ns/a"], "the first reconcile")
        for _ in range(10):  # three idle workers, and the key added again and again
            controller.queue.add("ns/a")
            await turns(3)
        assert controller.calls == ["ns/a"]
        controller.queue.add("ns/b")  # another key does run alongside
        await eventually(lambda: controller.calls == ["ns/a", "ns/b"], "the other key")
        gate.set()
        await eventually(lambda: controller.calls.count("ns/a") == 2, "the re-added key")
        await turns(10)
    assert controller.calls.count("ns/a") == 2  # ten adds while busy: one more reconcile
    assert controller.overlaps == 0


async def test_shutting_the_queue_down_ends_the_workers() -> None:
    async def nothing(key: str, call: int) -> None:
        return None

    controller = Recorder(nothing, workers=3)
    task = asyncio.ensure_future(controller.run_workers())
    controller.queue.add("ns/a")
    await eventually(lambda: controller.calls == ["ns/a"], "the reconcile")
    controller.queue.shut_down()
    async with asyncio.timeout(5):
        await task


async def test_a_reconcile_cut_short_by_cancellation_is_queued_again() -> None:
    async def blocked(key: str, call: int) -> None:
        await asyncio.Event().wait()

    controller = Recorder(blocked)
    async with running(controller.run_workers):
        controller.queue.add("ns/a")
        await eventually(lambda: controller.calls == ["ns/a"], "the reconcile")
    assert len(controller.queue) == 1  # whoever runs the workers next reconciles it
    assert await controller.queue.get() == "ns/a"


async def test_a_failing_reconcile_backs_off_and_success_forgets() -> None:
    clock = SteppingClock()

    async def flaky(key: str, call: int) -> None:
        if call <= 2:
            raise RuntimeError(f"failure {call}")

    controller = Recorder(flaky, clock=clock)
    async with running(controller.run_workers):
        controller.queue.add("ns/a")
        await eventually(lambda: controller.queue.requeues("ns/a") == 1, "the first failure")
        clock.advance(0.005)
        await eventually(lambda: controller.queue.requeues("ns/a") == 2, "the second failure")
        clock.advance(0.009)
        await turns(10)
        assert len(controller.calls) == 2  # the second back-off is 10 ms
        clock.advance(0.001)
        await eventually(lambda: len(controller.calls) == 3, "the third try")
        await eventually(lambda: controller.queue.requeues("ns/a") == 0, "forgotten on success")


async def test_a_key_is_dropped_after_max_retries() -> None:
    clock = SteppingClock()

    async def broken(key: str, call: int) -> None:
        raise RuntimeError("always")

    controller = Recorder(broken, clock=clock)
    controller.max_retries = 2
    async with running(controller.run_workers):
        controller.queue.add("ns/a")
        await eventually(lambda: len(controller.calls) == 1, "the first try")
        clock.advance(1)
        await eventually(lambda: len(controller.calls) == 2, "the second try")
        clock.advance(1)
        await eventually(lambda: len(controller.calls) == 3, "the third try")
        await turns(10)
        clock.advance(2000)
        await turns(10)
        assert len(controller.calls) == 3
        assert controller.queue.requeues("ns/a") == 0


async def test_a_returned_number_requeues_after_that_many_seconds() -> None:
    clock = SteppingClock()

    async def later(key: str, call: int) -> float | None:
        return 30.0 if call == 1 else None

    controller = Recorder(later, clock=clock)
    async with running(controller.run_workers):
        controller.queue.add("ns/a")
        await eventually(lambda: clock.sleeping == 1, "the requeue timer")
        clock.advance(29.9)
        await turns(10)
        assert controller.calls == ["ns/a"]
        clock.advance(0.1)
        await eventually(lambda: controller.calls == ["ns/a", "ns/a"], "the requeue")
        clock.advance(100)
        await turns(10)
        assert controller.calls == ["ns/a", "ns/a"]


def _pod(name: str, owner_kind: str, owner: str, *, api_version: str = "apps/v1") -> Object:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "default",
            "ownerReferences": [
                {
                    "apiVersion": api_version,
                    "kind": owner_kind,
                    "name": owner,
                    "uid": f"uid-{owner}",
                    "controller": True,
                }
            ],
        },
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }


def test_controller_key_reads_the_controlling_owner() -> None:
    pod = _pod("p", "ReplicaSet", "web")
    assert controller_key(pod, "ReplicaSet", "apps") == "default/web"
    assert controller_key(pod, "ReplicaSet") is None  # wrong group
    assert controller_key(pod, "Job", "batch") is None
    assert controller_key(_pod("p", "ReplicationController", "rc", api_version="v1"),
                          "ReplicationController") == "default/rc"  # fmt: skip
    pod["metadata"]["ownerReferences"][0]["controller"] = False
    assert controller_key(pod, "ReplicaSet", "apps") is None


async def test_pod_events_enqueue_their_controlling_owner(client: Client) -> None:
    async def nothing(key: str, call: int) -> None:
        return None

    class PodOwners(Recorder):
        def wire(self, informers: SharedInformers) -> None:
            self.watch_owned(informers.get(PODS), "ReplicaSet", "apps")

    controller = PodOwners(nothing)
    manager = ControllerManager(client, [controller])
    async with running(manager.run):
        await client.create(PODS, "default", _pod("p1", "ReplicaSet", "web"))
        await client.create(PODS, "default", _pod("p2", "Job", "batch-job"))
        await eventually(lambda: controller.calls == ["default/web"], "the owner's key")
        # the pod changes controller: both the old and the new owner hear of it
        moved = await client.get(PODS, "default", "p1")
        moved["metadata"]["ownerReferences"][0].update(name="web-2", uid="uid-web-2")
        await client.update(PODS, "default", moved)
        await eventually(
            lambda: sorted(controller.calls[1:]) == ["default/web", "default/web-2"], "both owners"
        )
        await client.delete(PODS, "default", "p1", grace_period_seconds=0)
        await eventually(lambda: controller.calls.count("default/web-2") == 2, "the deletion")
    assert "default/batch-job" not in controller.calls


def test_controller_names_must_be_unique(client: Client) -> None:
    with pytest.raises(ValueError, match="unique"):
        ControllerManager(client, [ConfigMapCounter(client), ConfigMapCounter(client)])


async def test_the_manager_runs_controllers_only_while_it_leads(
    client: Client, clock: SteppingClock
) -> None:
    held = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "kube-controller-manager", "namespace": "kube-system"},
        "spec": {
            "holderIdentity": "another-manager",
            "leaseDurationSeconds": 15,
            "renewTime": micro_time(clock.now()),
        },
    }
    await client.create(LEASES, "kube-system", held)
    start = clock.now()
    elector = LeaderElector(client, identity="this-manager", clock=clock)
    manager = ControllerManager(client, [ConfigMapCounter(client)], elector=elector)

    async def counted() -> bool:
        namespace = await client.get(NAMESPACES, None, "default")
        return ANNOTATION in (namespace["metadata"].get("annotations") or {})

    async with running(manager.run):
        await clock.settle(1)
        await clock.step(10, sleepers=1)
        assert not await counted()  # the other manager's Lease is still fresh
        while not elector.is_leader:
            assert clock.now() < start + 30, "never took the lease over"
            await clock.step(0.5, sleepers=1)
        assert clock.now() >= start + 15
        await eventually(counted, "the controllers running under the Lease")
