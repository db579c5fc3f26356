"""Helpers for the StatefulSet controller tests: a set to make, the controller running, and
the parts a test plays itself — the scheduler (binding a pod to a node, after which deleting
it is graceful) and the kubelet (marking a pod Running and Ready, finishing a deletion)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from minikube_py.api.stamps import rfc3339
from minikube_py.client import EVENTS, PODS, Client
from minikube_py.client.protocol import STATEFULSETS
from minikube_py.controllers import ControllerManager
from minikube_py.controllers.statefulset import StatefulSetController
from tests.controllers.stepping import SteppingClock, eventually

Object = dict[str, Any]


def stateful_set(replicas: int = 3, *, image: str = "nginx:1.27", **spec: Any) -> Object:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "serviceName": "web",
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
            **spec,
        },
    }


def claim_template(name: str = "www") -> Object:
    return {
        "metadata": {"name": name, "labels": {"kind": "data"}},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }


@contextlib.asynccontextmanager
async def running(client: Client, clock: SteppingClock) -> AsyncIterator[StatefulSetController]:
    controller = StatefulSetController(client, clock=clock)
    task = asyncio.ensure_future(ControllerManager(client, [controller]).run())
    try:
        yield controller
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def pods(client: Client) -> dict[str, Object]:
    """Every pod of the namespace by name (terminating ones included)."""
    return {p["metadata"]["name"]: p for p in (await client.list(PODS, "default"))["items"]}


async def live(client: Client) -> list[str]:
    found = await pods(client)
    return sorted(n for n, p in found.items() if not p["metadata"].get("deletionTimestamp"))


async def wait_pods(client: Client, names: list[str]) -> dict[str, Object]:
    async def check() -> dict[str, Object] | None:
        found = await pods(client)
        return found if sorted(found) == sorted(names) else None

    result: dict[str, Object] = await eventually(check, f"exactly pods {names}")
    return result


async def wait_status(client: Client, **expected: Any) -> Object:
    async def check() -> Object | None:
        sts = await client.get(STATEFULSETS, "default", "web")
        status = sts.get("status") or {}
        return sts if all(status.get(k) == v for k, v in expected.items()) else None

    result: Object = await eventually(check, f"status {expected}")
    return result


async def bind(client: Client, name: str, node: str = "node-1") -> None:
    """Play the scheduler: from now on deleting the pod waits for its kubelet."""
    target = {"apiVersion": "v1", "kind": "Node", "name": node}
    binding = {"metadata": {"name": name}, "target": target}
    await client.create(PODS, "default", binding, subresource="binding")


async def set_phase(
    client: Client, clock: SteppingClock, name: str, phase: str, *, ready: bool
) -> None:
    """Play the kubelet: report the pod's phase and Ready condition."""
    condition = {
        "type": "Ready",
        "status": "True" if ready else "False",
        "lastTransitionTime": rfc3339(clock.now()),
    }
    status = {"phase": phase, "conditions": [condition]}
    await client.patch(PODS, "default", name, {"status": status}, subresource="status")


async def make_ready(client: Client, clock: SteppingClock, *names: str) -> None:
    for name in names:
        await set_phase(client, clock, name, "Running", ready=True)


async def finish_deletion(client: Client, name: str) -> None:
    """Play the kubelet confirming a graceful deletion."""
    await client.delete(PODS, "default", name, grace_period_seconds=0)


async def events(client: Client, reason: str | None = None) -> list[str]:
    """The messages of the events on the set, oldest first, optionally of one reason."""
    items = (await client.list(EVENTS, "default"))["items"]
    items = [e for e in items if e["involvedObject"].get("kind") == "StatefulSet"]
    items.sort(key=lambda e: (e.get("firstTimestamp") or "", e["metadata"]["name"]))
    return [e["message"] for e in items if reason is None or e["reason"] == reason]
