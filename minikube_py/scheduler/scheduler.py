"""The Scheduler component: watches pods and nodes, and binds each pending pod to a node.

Two informers keep local caches of nodes and pods. Their handlers maintain one ``NodeInfo``
per node (the node plus the summed requests and host ports of the pods on it) and feed the
``SchedulingQueue`` with pods that are pending, unbound and addressed to this scheduler's
``schedulerName``. The run loop pops a pod, runs one framework cycle and either POSTs a
``Binding`` to ``pods/<name>/binding`` (the only way a scheduler assigns a pod) or records
``FailedScheduling`` and parks the pod until a node appears or changes, or a pod goes away.

A pod bound here is *assumed* onto its node at once, before the watch reports the binding,
so the next cycle already sees the node as fuller — upstream's scheduler cache does the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from typing import Any

from minikube_py.client import EVENTS, NODES, PODS, ApiError, Client, Informer, object_key

from . import events
from .framework import FitError, NodeInfo, Profile, schedule_one
from .plugins import default_profile
from .queue import Clock, SchedulingQueue, pod_key

Object = dict[str, Any]
TERMINAL = ("Succeeded", "Failed")


def _spec(pod: Object) -> Object:
    return pod.get("spec") or {}


class Scheduler:
    def __init__(
        self,
        client: Client,
        *,
        name: str = "default-scheduler",
        profile: Profile | None = None,
        seed: int | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.client = client
        self.name = name
        self.profile = profile or default_profile()
        self.rng = random.Random(seed)
        self.queue = SchedulingQueue(clock)
        self.nodes: dict[str, NodeInfo] = {}
        self._placed: dict[str, tuple[str, Object]] = {}  # pod key → (node, pod as counted)
        self._wakeup = asyncio.Event()
        self.node_informer = Informer(client, NODES)
        self.pod_informer = Informer(client, PODS)
        self.node_informer.on_add(self._node_changed)
        self.node_informer.on_update(lambda _old, new: self._node_changed(new))
        self.node_informer.on_delete(self._node_deleted)
        self.pod_informer.on_add(self._pod_changed)
        self.pod_informer.on_update(lambda _old, new: self._pod_changed(new))
        self.pod_informer.on_delete(self._pod_deleted)

    async def run(self) -> None:
        """Schedule until cancelled (DESIGN.md's long-lived component contract)."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self.node_informer.run())
            group.create_task(self.pod_informer.run())
            await self.node_informer.wait_synced()
            await self.pod_informer.wait_synced()
            while True:
                pod = self.queue.pop()
                if pod is None:
                    await self._wait()
                    continue
                await self.schedule(pod)

    async def _wait(self) -> None:
        self._wakeup.clear()
        delay = self.queue.next_ready_in()
        with contextlib.suppress(TimeoutError):  # a backoff ran out
            await asyncio.wait_for(self._wakeup.wait(), delay)

    async def schedule(self, pod: Object) -> None:
        """One cycle for ``pod``: bind it, or record why it cannot be placed."""
        key = pod_key(pod)
        try:
            node = schedule_one(self.profile, pod, list(self.nodes.values()), self.rng)
        except FitError as error:
            self.queue.failed(key)
            await self._record(events.failed_scheduling(pod, str(error)))
            return
        self._place(key, node, pod)  # assume before binding: the next cycle sees it
        meta = pod["metadata"]
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": meta["name"], "namespace": meta.get("namespace", "default")},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        }
        try:
            await self.client.create(
                PODS, meta.get("namespace", "default"), binding, subresource="binding"
            )
        except ApiError as error:
            self._unplace(key)
            self.queue.failed(key)
            self.queue.move_all_to_active_or_backoff()  # the world changed under us: retry
            await self._record(events.failed_scheduling(pod, f"Binding rejected: {error}"))
            return
        self.queue.done(key)
        await self._record(events.scheduled(pod, node))

    async def _record(self, event: Object) -> None:
        namespace = event["metadata"]["namespace"]
        with contextlib.suppress(ApiError):  # events are best effort, as upstream's
            await self.client.create(EVENTS, namespace, event)

    # -- informer handlers: bookkeeping only, never I/O -----------------------------------

    def _node_changed(self, node: Object) -> None:
        name = node["metadata"]["name"]
        fresh = NodeInfo(node)
        for placed_node, pod in self._placed.values():
            if placed_node == name:
                fresh.add_pod(pod)
        self.nodes[name] = fresh
        self._retry()

    def _node_deleted(self, node: Object) -> None:
        self.nodes.pop(node["metadata"]["name"], None)

    def _pod_changed(self, pod: Object) -> None:
        key = object_key(pod)
        spec = _spec(pod)
        node = spec.get("nodeName")
        finished = (pod.get("status") or {}).get("phase") in TERMINAL
        if node:
            self.queue.delete(key)
            if finished:
                if self._unplace(key):
                    self._retry()  # a finished pod frees its requests
            elif key not in self._placed or self._placed[key][0] != node:
                self._unplace(key)
                self._place(key, node, pod)
            return
        if finished or pod["metadata"].get("deletionTimestamp"):
            return
        if (spec.get("schedulerName") or "default-scheduler") != self.name:
            return  # another scheduler's pod: it stays Pending for that one
        self.queue.add(pod)
        self._wakeup.set()

    def _pod_deleted(self, pod: Object) -> None:
        key = object_key(pod)
        self.queue.delete(key)
        self._unplace(key)
        self._retry()

    def _place(self, key: str, node: str, pod: Object) -> None:
        self._placed[key] = (node, pod)
        if node in self.nodes:
            self.nodes[node].add_pod(pod)

    def _unplace(self, key: str) -> bool:
        placed = self._placed.pop(key, None)
        if placed is None:
            return False
        node, pod = placed
        if node in self.nodes:
            self.nodes[node].remove_pod(pod)
        return True

    def _retry(self) -> None:
        self.queue.move_all_to_active_or_backoff()
        self._wakeup.set()
