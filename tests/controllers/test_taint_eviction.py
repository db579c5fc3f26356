"""The taint eviction controller alone: a user's NoExecute taint on a node, pods with and
without tolerations, time on a fake clock."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from minikube_py.client import EVENTS, NODES, PODS, Client
from minikube_py.controllers import ControllerManager
from minikube_py.controllers.taint_eviction import (
    TaintEvictionController,
    min_toleration_seconds,
)
from tests.controllers.stepping import SteppingClock, eventually, turns

Object = dict[str, Any]
TAINT = {"key": "maintenance", "value": "yes", "effect": "NoExecute"}


def toleration(seconds: int | None = None, **fields: Any) -> Object:
    found: Object = {"key": "maintenance", "operator": "Exists", "effect": "NoExecute", **fields}
    if seconds is not None:
        found["tolerationSeconds"] = seconds
    return found


async def make_pod(client: Client, name: str, tolerations: list[Object]) -> None:
    spec = {"nodeName": "n1", "containers": [{"name": "c", "image": "app:1"}]}
    if tolerations:
        spec["tolerations"] = tolerations
    await client.create(PODS, "default", {"metadata": {"name": name}, "spec": spec})


async def deleting(client: Client, name: str) -> bool:
    try:
        pod = await client.get(PODS, "default", name)
    except Exception:
        return True
    return bool(pod["metadata"].get("deletionTimestamp"))


async def set_taints(client: Client, taints: list[Object]) -> None:
    await client.patch(NODES, None, "n1", {"spec": {"taints": taints}})


@contextlib.asynccontextmanager
async def running(client: Client, clock: SteppingClock) -> AsyncIterator[TaintEvictionController]:
    controller = TaintEvictionController(client, clock=clock)
    task = asyncio.ensure_future(ControllerManager(client, [controller]).run())
    try:
        yield controller
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_the_shortest_matching_toleration_counts() -> None:
    taints = [TAINT, {"key": "other", "effect": "NoExecute"}]
    both = [toleration(60), {"key": "other", "operator": "Exists", "tolerationSeconds": 30}]
    assert min_toleration_seconds(taints, both) == 30
    assert min_toleration_seconds(taints, [toleration(), {"operator": "Exists"}]) is None
    assert min_toleration_seconds([TAINT], [toleration(-5)]) == 0


async def test_pods_go_at_once_after_their_toleration_or_never(
    client: Client, clock: SteppingClock
) -> None:
    await client.create(NODES, None, {"metadata": {"name": "n1"}})
    await make_pod(client, "intolerant", [])
    await make_pod(client, "minute", [toleration(60)])
    await make_pod(client, "forever", [toleration()])
    await make_pod(client, "wrong-value", [toleration(operator="Equal", value="no")])
    async with running(client, clock):
        await set_taints(client, [TAINT])
        await eventually(lambda: deleting(client, "intolerant"), "the intolerant pod deleted")
        await eventually(lambda: deleting(client, "wrong-value"), "a non-matching value deleted")
        await clock.settle(1)  # the "minute" pod's eviction waits on the clock
        clock.advance(59)
        await turns(20)
        assert not await deleting(client, "minute")
        clock.advance(1)
        await eventually(lambda: deleting(client, "minute"), "the pod deleted after 60 s")
        await turns(20)
        assert not await deleting(client, "forever")
    pod = await client.get(PODS, "default", "minute")
    target = next(c for c in pod["status"]["conditions"] if c["type"] == "DisruptionTarget")
    assert target["reason"] == "DeletionByTaintManager"
    events = (await client.list(EVENTS, "default"))["items"]
    marked = sorted(
        e["involvedObject"]["name"] for e in events if e["reason"] == "TaintManagerEviction"
    )
    assert marked == ["intolerant", "minute", "wrong-value"]


async def test_removing_the_taint_cancels_a_scheduled_eviction(
    client: Client, clock: SteppingClock
) -> None:
    await client.create(NODES, None, {"metadata": {"name": "n1"}})
    await make_pod(client, "minute", [toleration(60)])
    async with running(client, clock):
        await set_taints(client, [TAINT])
        await clock.settle(1)
        clock.advance(30)
        await set_taints(client, [])

        async def cancelled() -> Object | None:
            events = (await client.list(EVENTS, "default"))["items"]
            return next((e for e in events if e["reason"] == "TaintManagerEviction"), None)

        event = await eventually(cancelled, "a cancel event")
        assert event["message"] == "Cancelling deletion of Pod default/minute"
        clock.advance(60)
        await turns(20)
        assert not await deleting(client, "minute")
