"""Test helpers for the Deployment controller: a cluster of the Deployment and ReplicaSet
controllers on a real in-process API server, and a stand-in for the scheduler and kubelets.

There is no scheduler or kubelet in these tests, so ``Kubelet`` plays both: it binds every new
pod to a node, marks it Ready (unless told to leave some templates unready), and finishes the
graceful deletions the ReplicaSet controller asks for — all driven by a pod watch, so the
tests see the same sequence of states a real cluster would go through.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from minikube_py.api.stamps import rfc3339
from minikube_py.client import DEPLOYMENTS, EVENTS, PODS, REPLICASETS, ApiError, Client
from minikube_py.controllers import ControllerManager
from minikube_py.controllers.deployment import DeploymentController
from minikube_py.controllers.replicaset import ReplicaSetController
from tests.controllers.stepping import SteppingClock, eventually

Object = dict[str, Any]


def deployment(
    replicas: int = 3,
    *,
    image: str = "nginx:1.27",
    strategy: Object | None = None,
    **spec: Any,
) -> Object:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": strategy or {"type": "RollingUpdate"},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
            **spec,
        },
    }


class Kubelet:
    """Binds and readies new pods, completes graceful deletions; ``unready`` images stay
    unready (a broken version); ``hold_deletions`` leaves terminating pods in place."""

    def __init__(self, client: Client, clock: SteppingClock) -> None:
        self.client = client
        self.clock = clock
        self.unready: set[str] = set()
        self.hold_deletions = False

    async def run(self) -> None:
        listed = await self.client.list(PODS, "default")
        version = listed["metadata"]["resourceVersion"]
        async for event_type, pod in self.client.watch(PODS, "default", resource_version=version):
            if event_type != "DELETED":
                await self._handle(pod)

    async def _handle(self, pod: Object) -> None:
        meta, name = pod["metadata"], pod["metadata"]["name"]
        try:
            if meta.get("deletionTimestamp"):
                if not self.hold_deletions:
                    await self.client.delete(PODS, "default", name, grace_period_seconds=0)
                return
            if not pod["spec"].get("nodeName"):
                binding = {
                    "apiVersion": "v1",
                    "kind": "Binding",
                    "metadata": {"name": name},
                    "target": {"apiVersion": "v1", "kind": "Node", "name": "node-a"},
                }
                await self.client.create(PODS, "default", binding, subresource="binding")
                return
            image = pod["spec"]["containers"][0]["image"]
            if image in self.unready or (pod.get("status") or {}).get("phase") == "Running":
                return
            since = rfc3339(self.clock.now())
            condition = {"type": "Ready", "status": "True", "lastTransitionTime": since}
            patch = {"status": {"phase": "Running", "conditions": [condition]}}
            await self.client.patch(PODS, "default", name, patch, subresource="status")
        except ApiError as error:
            if error.code not in (404, 409):
                raise

    async def release(self) -> None:
        """Finish the deletions held so far."""
        self.hold_deletions = False
        for pod in (await self.client.list(PODS, "default"))["items"]:
            await self._handle(pod)


class PodCounter:
    """Watches the pods and notes, at every change, how many exist (not terminating) and how
    many of those are ready: the moments a rollout's budgets are about."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.pods: dict[str, Object] = {}
        self.moments: list[tuple[int, int]] = []
        self.started = asyncio.Event()

    async def run(self) -> None:
        listed = await self.client.list(PODS, "default")
        self.pods = {pod["metadata"]["name"]: pod for pod in listed["items"]}
        version = listed["metadata"]["resourceVersion"]
        self.started.set()
        async for event_type, pod in self.client.watch(PODS, "default", resource_version=version):
            name = pod["metadata"]["name"]
            if event_type == "DELETED":
                self.pods.pop(name, None)
            else:
                self.pods[name] = pod
            live = [p for p in self.pods.values() if not p["metadata"].get("deletionTimestamp")]
            self.moments.append((len(live), sum(1 for p in live if _ready(p))))


class SpecCounter:
    """Watches the ReplicaSets and notes, at every change, how many pods they ask for in all:
    what a rollout's maxSurge bounds. (Live pods may pass it for a moment, upstream too: an
    old ReplicaSet scaled down deletes its pod a little after the new one made its own.)"""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.wanted: dict[str, int] = {}
        self.moments: list[int] = []
        self.started = asyncio.Event()

    async def run(self) -> None:
        listed = await self.client.list(REPLICASETS, "default")
        for rs in listed["items"]:
            self.wanted[rs["metadata"]["name"]] = int(rs["spec"].get("replicas") or 0)
        self.started.set()
        version = listed["metadata"]["resourceVersion"]
        async for kind, rs in self.client.watch(REPLICASETS, "default", resource_version=version):
            name = rs["metadata"]["name"]
            if kind == "DELETED":
                self.wanted.pop(name, None)
            else:
                self.wanted[name] = int(rs["spec"].get("replicas") or 0)
            self.moments.append(sum(self.wanted.values()))


def _ready(pod: Object) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


@contextlib.asynccontextmanager
async def cluster(
    client: Client, clock: SteppingClock
) -> AsyncIterator[tuple[DeploymentController, Kubelet]]:
    """The Deployment and ReplicaSet controllers and a ``Kubelet``, stopped at the end."""
    controller = DeploymentController(client, clock=clock)
    replicasets = ReplicaSetController(client, clock=clock)
    kubelet = Kubelet(client, clock)
    tasks = [
        asyncio.ensure_future(ControllerManager(client, [controller, replicasets]).run()),
        asyncio.ensure_future(kubelet.run()),
    ]
    try:
        yield controller, kubelet
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def replica_sets(client: Client) -> list[Object]:
    items: list[Object] = (await client.list(REPLICASETS, "default"))["items"]
    return sorted(items, key=lambda rs: rs["metadata"]["creationTimestamp"])


async def live_pods(client: Client) -> list[Object]:
    items = (await client.list(PODS, "default"))["items"]
    return [pod for pod in items if not pod["metadata"].get("deletionTimestamp")]


async def wait_rolled_out(
    client: Client, replicas: int, *, generation: int | None = None
) -> Object:
    """The Deployment once its status says all ``replicas`` are updated and available."""

    async def check() -> Object | None:
        obj = await client.get(DEPLOYMENTS, "default", "web")
        status = obj.get("status") or {}
        done = (
            status.get("observedGeneration", 0) >= obj["metadata"]["generation"]
            and status.get("updatedReplicas", 0) == replicas
            and status.get("replicas", 0) == replicas
            and status.get("availableReplicas", 0) == replicas
            and (generation is None or obj["metadata"]["generation"] == generation)
        )
        return obj if done and len(await live_pods(client)) == replicas else None

    result: Object = await eventually(check, f"{replicas} replicas rolled out")
    return result


async def messages(client: Client, reason: str) -> list[str]:
    listed = (await client.list(EVENTS, "default"))["items"]
    found = [e for e in listed if e["reason"] == reason and e["involvedObject"]["name"] == "web"]
    found.sort(key=lambda e: (e["firstTimestamp"], e["metadata"]["name"]))
    return [e["message"] for e in found]


def condition(obj: Object, kind: str) -> Object | None:
    for item in (obj.get("status") or {}).get("conditions") or []:
        if item["type"] == kind:
            return dict(item)
    return None
