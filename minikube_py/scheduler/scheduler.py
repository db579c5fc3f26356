"""The Scheduler component: watches pods and nodes, and binds each pending pod to a node.

Two informers keep local caches of nodes and pods. Their handlers maintain one ``NodeInfo``
per node (the node plus the summed requests and host ports of the pods on it) and feed the
``SchedulingQueue`` with pods that are pending, unbound and addressed to this scheduler's
``schedulerName`` — pods for another scheduler stay Pending, as upstream.

The run loop pops a pod and runs one framework cycle, synchronously and without I/O. The
outcome is then written in the background, as upstream's *binding cycle* runs in its own
goroutine: either a ``Binding`` POSTed to ``pods/<name>/binding`` (the only way a scheduler
assigns a pod) and a ``Scheduled`` event, or a ``FailedScheduling`` event plus the pod's
``PodScheduled=False`` condition (reason ``Unschedulable``), after which the pod waits until a
node appears or changes, or a pod goes away. Up to ``max_binding`` writes are in flight at
once, so the store can commit them in groups.

A pod bound here is *assumed* onto its node at once, before the watch reports the binding, so
the next cycle already sees the node as fuller — upstream's scheduler cache does the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from typing import Any

from minikube_py.client import NODES, PODS, ApiError, Client, Informer, object_key
from minikube_py.client.events import EventRecorder
from minikube_py.logs import get_logger

from .conditions import REASON_ERROR, REASON_UNSCHEDULABLE, unschedulable_patch
from .framework import CycleState, FitError, NodeInfo, Profile, schedule_one
from .plugin import InformingPlugin, PreBindPlugin
from .plugins import default_profile
from .plugins.noderesources import requests_of
from .queue import Clock, SchedulingQueue, node_changed_for_scheduling, pod_key, spec_changed
from .resources import pod_requests

Object = dict[str, Any]
TERMINAL = ("Succeeded", "Failed")
_log = get_logger("scheduler")


def _spec(pod: Object) -> Object:
    return pod.get("spec") or {}


def scheduled_message(pod: Object, node: str) -> str:
    meta = pod["metadata"]
    return f"Successfully assigned {meta.get('namespace', 'default')}/{meta['name']} to {node}"


class Scheduler:
    """``await Scheduler(client).run()`` schedules until cancelled."""

    def __init__(
        self,
        client: Client,
        *,
        name: str = "default-scheduler",
        profile: Profile | None = None,
        seed: int | None = None,
        clock: Clock = time.monotonic,
        queue: SchedulingQueue | None = None,
        max_binding: int = 32,
    ) -> None:
        self.client = client
        self.name = name
        self.profile = profile or default_profile(client)
        self.rng = random.Random(seed)
        self.queue = queue or SchedulingQueue(clock)  # tests pass one with short backoffs
        self.recorder = EventRecorder(client, name)
        self.nodes: dict[str, NodeInfo] = {}
        self._node_list: list[NodeInfo] | None = None  # rebuilt when nodes come or go
        # pod key → (node, pod as counted, its requests): parsed once per pod, not per change
        self._placed: dict[str, tuple[str, Object, Counter[str]]] = {}
        self._wakeup = asyncio.Event()
        self._in_flight = asyncio.Semaphore(max_binding)
        self.node_informer = Informer(client, NODES)
        self.pod_informer = Informer(client, PODS)
        self.node_informer.on_add(self._node_changed)
        self.node_informer.on_update(self._node_updated)
        self.node_informer.on_delete(self._node_deleted)
        self.pod_informer.on_add(self._pod_changed)
        self.pod_informer.on_update(self._pod_updated)
        self.pod_informer.on_delete(self._pod_deleted)
        # plugins with caches of their own (VolumeBinding), and the PreBind ones
        self.informing = [p for p in self.profile.filters if isinstance(p, InformingPlugin)]
        self.pre_binders = [p for p in self.profile.filters if isinstance(p, PreBindPlugin)]
        for plugin in self.informing:
            plugin.on_change(self._retry)

    async def run(self) -> None:
        """Schedule until cancelled (DESIGN.md's long-lived component contract).

        The informers relist by themselves after a 410 or a broken stream; cancelling ``run``
        cancels them and every binding still in flight.
        """
        async with asyncio.TaskGroup() as group:
            group.create_task(self.node_informer.run())
            group.create_task(self.pod_informer.run())
            for plugin in self.informing:
                group.create_task(plugin.run())
            await self.node_informer.wait_synced()
            await self.pod_informer.wait_synced()
            for plugin in self.informing:
                await plugin.wait_synced()
            _log.info("scheduler started", nodes=len(self.nodes), pending=len(self.queue))
            while True:
                pod = self.queue.pop()
                if pod is None:
                    await self._wait()
                    continue
                try:
                    outcome = self.decide(pod)
                except Exception:  # a plugin's bug on one odd pod must not stop scheduling
                    _log.exception("scheduling cycle failed", pod=pod_key(pod))
                    self.queue.failed(pod_key(pod))
                    continue
                if outcome is not None:
                    await self._in_flight.acquire()
                    group.create_task(self._finish_and_release(pod, outcome))
                await asyncio.sleep(0)  # let watch events and bindings interleave with cycles

    async def schedule(self, pod: Object) -> None:
        """One whole cycle for ``pod``: decide, then bind it or record why it cannot be placed."""
        outcome = self.decide(pod)
        if outcome is not None:
            await self._finish(pod, outcome)

    def decide(self, pod: Object) -> str | FitError | None:
        """The scheduling cycle proper: a node name (the pod is assumed there), a ``FitError``
        (the pod is parked), or None when the pod is already assumed somewhere."""
        key = pod_key(pod)
        if key in self._placed:
            return None
        if self._node_list is None:
            self._node_list = list(self.nodes.values())
        state = CycleState()
        try:
            node = schedule_one(self.profile, pod, self._node_list, self.rng, state)
        except FitError as error:
            self.queue.failed(key)
            return error
        # assume before binding: the next cycle sees it (the requests the cycle parsed)
        self._place(key, node, pod, requests_of(state, pod))
        return node

    async def _wait(self) -> None:
        self._wakeup.clear()
        delay = self.queue.next_ready_in()
        with contextlib.suppress(TimeoutError):  # a backoff ran out
            async with asyncio.timeout(delay):
                await self._wakeup.wait()

    async def _finish_and_release(self, pod: Object, outcome: str | FitError) -> None:
        try:
            await self._finish(pod, outcome)
        except Exception:  # never let one pod's trouble stop the scheduler
            _log.exception("binding cycle failed", pod=pod_key(pod))
            key = pod_key(pod)
            if self._unplace(key):
                self.queue.failed(key)
                self._retry()
        finally:
            self._in_flight.release()

    async def _finish(self, pod: Object, outcome: str | FitError) -> None:
        if isinstance(outcome, FitError):
            await self._unschedulable(pod, str(outcome))
        else:
            await self._bind(pod, outcome)

    async def _bind(self, pod: Object, node: str) -> None:
        key, meta = pod_key(pod), pod["metadata"]
        namespace = meta.get("namespace", "default")
        binding: Object = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": meta["name"], "namespace": namespace},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        }
        if meta.get("uid"):  # as upstream's DefaultBinder: bind this pod, not a namesake
            binding["metadata"]["uid"] = meta["uid"]
        if not await self._pre_bind(pod, node):
            return
        try:
            await self.client.create(PODS, namespace, binding, subresource="binding")
        except ApiError as error:
            # Keep the placement only if the watch already shows the pod bound there (someone
            # else bound it first); otherwise the watch will place it when the news arrives.
            current = self.pod_informer.get(key)
            bound_to = _spec(current).get("nodeName") if current is not None else None
            if not bound_to or self._placed.get(key, ("",))[0] != bound_to:
                self._unplace(key)
            if error.code in (404, 409):  # deleted, or bound by someone else: nothing to do
                self.queue.delete(key)
                return
            self.queue.failed(key)
            self._retry()  # the world changed under us: retry
            # upstream's words for a failed Bind plugin; an error, not a verdict on the pod
            message = f'running Bind plugin "DefaultBinder": {error}'
            await self._unschedulable(pod, message, reason=REASON_ERROR)
            return
        self.queue.done(key)
        _log.debug("bound", pod=key, node=node)
        await self.recorder.record(
            pod, reason="Scheduled", message=scheduled_message(pod, node), action="Binding"
        )

    async def _pre_bind(self, pod: Object, node: str) -> bool:
        """Run the PreBind plugins; on a refusal the pod goes back to the queue (False)."""
        info = self.nodes.get(node)
        for plugin in self.pre_binders:
            if info is None:
                break
            try:
                await plugin.pre_bind(pod, info)
            except Exception as error:
                key = pod_key(pod)
                self._unplace(key)
                self.queue.failed(key)
                self._retry()
                message = f'running PreBind plugin "{plugin.name}": {error}'
                await self._unschedulable(pod, message, reason=REASON_ERROR)
                return False
        return True

    async def _unschedulable(
        self, pod: Object, message: str, *, reason: str = REASON_UNSCHEDULABLE
    ) -> None:
        """``FailedScheduling`` (aggregated by the recorder) and ``PodScheduled=False``."""
        key = pod_key(pod)
        await self.recorder.record(
            pod, reason="FailedScheduling", message=message, warning=True, action="Scheduling"
        )
        current = self.pod_informer.get(key) or pod
        patch = unschedulable_patch(current, message, reason=reason)
        if patch is None or _spec(current).get("nodeName"):
            return
        try:
            meta = current["metadata"]
            await self.client.patch(
                PODS,
                meta.get("namespace", "default"),
                meta["name"],
                patch,
                patch_type="strategic",
                subresource="status",
            )
        except ApiError as error:
            if error.code != 404:
                _log.warning("cannot set PodScheduled", pod=key, error=str(error))

    # -- informer handlers: bookkeeping only, never I/O -----------------------------------

    def _node_updated(self, old: Object, new: Object) -> None:
        # A heartbeat only touches conditions' timestamps: it cannot make a parked pod fit.
        self._node_changed(new, retry=node_changed_for_scheduling(old, new))

    def _node_changed(self, node: Object, *, retry: bool = True) -> None:
        name = node["metadata"]["name"]
        known = self.nodes.get(name)
        if known is not None:
            known.set_node(node)  # its pods stay counted; only the node half changes
            if not retry:
                return
        else:
            fresh = self.nodes[name] = NodeInfo(node)
            for placed_node, pod, requests in self._placed.values():
                if placed_node == name:
                    fresh.add_pod(pod, requests)
            self._node_list = None
        self._retry()

    def _node_deleted(self, node: Object) -> None:
        if self.nodes.pop(node["metadata"]["name"], None) is not None:
            self._node_list = None

    def _pod_updated(self, old: Object, new: Object) -> None:
        self._pod_changed(new, activate=spec_changed(old, new))

    def _pod_changed(self, pod: Object, *, activate: bool = True) -> None:
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
        if key in self._placed:
            return  # assumed here and being bound: the watch has not caught up yet
        if finished or pod["metadata"].get("deletionTimestamp"):
            self.queue.delete(key)
            return
        if (spec.get("schedulerName") or "default-scheduler") != self.name:
            return  # another scheduler's pod: it stays Pending for that one
        self.queue.add(pod, activate=activate)
        self._wakeup.set()

    def _pod_deleted(self, pod: Object) -> None:
        key = object_key(pod)
        self.queue.delete(key)
        if self._unplace(key):
            self._retry()

    def _place(
        self, key: str, node: str, pod: Object, requests: Counter[str] | None = None
    ) -> None:
        requests = pod_requests(pod) if requests is None else requests
        self._placed[key] = (node, pod, requests)
        if node in self.nodes:
            self.nodes[node].add_pod(pod, requests)

    def _unplace(self, key: str) -> bool:
        placed = self._placed.pop(key, None)
        if placed is None:
            return False
        node, pod, _requests = placed
        if node in self.nodes:
            self.nodes[node].remove_pod(pod)
        return True

    def _retry(self) -> None:
        self.queue.move_all_to_active_or_backoff()
        self._wakeup.set()
