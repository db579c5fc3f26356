"""The Scheduler component: watches pods and nodes, and binds each pending pod to a node.

Two informers keep local caches of nodes and pods. Their handlers keep the scheduler's
``SchedulerCache`` current (one ``NodeInfo`` per node: the node plus the summed requests and
host ports of the pods on it) and feed the ``SchedulingQueue`` with pods that are pending,
unbound and addressed to this scheduler's ``schedulerName`` — pods for another scheduler stay
Pending, as upstream.

The run loop pops a pod and runs one framework cycle, synchronously and without I/O, against
the ``SchedulerCache`` (``cache``), where the chosen node counts the pod at once. The outcome
is then written in the background by the ``BindingCycle`` (``binding``): a ``Binding`` and a
``Scheduled`` event, or a ``FailedScheduling`` event and the pod's ``PodScheduled=False``
condition. Up to ``max_binding`` writes are in flight at once, so the store can commit them in
groups.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from typing import Any

from minikube_py.client import NODES, PODS, Client, Informer, object_key
from minikube_py.client.events import EventRecorder
from minikube_py.logs import get_logger

from .binding import BindingCycle
from .cache import SchedulerCache
from .framework import CycleState, FitError, Profile, schedule_one
from .plugin import InformingPlugin, PreBindPlugin
from .plugins import default_profile
from .plugins.noderesources import requests_of
from .queue import Clock, SchedulingQueue, node_changed_for_scheduling, pod_key, spec_changed

Object = dict[str, Any]
TERMINAL = ("Succeeded", "Failed")
_log = get_logger("scheduler")


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
        self.cache = SchedulerCache()
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
        self.binding = BindingCycle(
            client,
            self.recorder,
            self.pod_informer,
            self.cache,
            self.queue,
            self.pre_binders,
            self._retry,
        )

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
            _log.info("scheduler started", nodes=len(self.cache.nodes), pending=len(self.queue))
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
            await self.binding.finish(pod, outcome)

    def decide(self, pod: Object) -> str | FitError | None:
        """The scheduling cycle proper: a node name (the pod is assumed there), a ``FitError``
        (the pod is parked), or None when the pod is already assumed somewhere."""
        key = pod_key(pod)
        if self.cache.node_of(key) is not None:
            return None
        state = CycleState()
        try:
            node = schedule_one(self.profile, pod, self.cache.node_list(), self.rng, state)
        except FitError as error:
            self.queue.failed(key)
            return error
        # assume before binding: the next cycle sees it (the requests the cycle parsed)
        self.cache.place(key, node, pod, requests_of(state, pod))
        return node

    async def _wait(self) -> None:
        self._wakeup.clear()
        delay = self.queue.next_ready_in()
        with contextlib.suppress(TimeoutError):  # a backoff ran out
            async with asyncio.timeout(delay):
                await self._wakeup.wait()

    async def _finish_and_release(self, pod: Object, outcome: str | FitError) -> None:
        try:
            await self.binding.finish(pod, outcome)
        except Exception:  # never let one pod's trouble stop the scheduler
            _log.exception("binding cycle failed", pod=pod_key(pod))
            key = pod_key(pod)
            if self.cache.unplace(key):
                self.queue.failed(key)
                self._retry()
        finally:
            self._in_flight.release()

    # -- informer handlers: bookkeeping only, never I/O -----------------------------------

    def _node_updated(self, old: Object, new: Object) -> None:
        # A heartbeat only touches conditions' timestamps: it cannot make a parked pod fit.
        self._node_changed(new, retry=node_changed_for_scheduling(old, new))

    def _node_changed(self, node: Object, *, retry: bool = True) -> None:
        # a new node may fit any parked pod; a known one only if it changed in a way that counts
        if self.cache.set_node(node) or retry:
            self._retry()

    def _node_deleted(self, node: Object) -> None:
        self.cache.remove_node(node["metadata"]["name"])

    def _pod_updated(self, old: Object, new: Object) -> None:
        self._pod_changed(new, activate=spec_changed(old, new))

    def _pod_changed(self, pod: Object, *, activate: bool = True) -> None:
        key = object_key(pod)
        spec = pod.get("spec") or {}
        node = spec.get("nodeName")
        finished = (pod.get("status") or {}).get("phase") in TERMINAL
        if node:
            self.queue.delete(key)
            if finished:
                if self.cache.unplace(key):
                    self._retry()  # a finished pod frees its requests
            elif self.cache.node_of(key) != node:
                self.cache.unplace(key)
                self.cache.place(key, node, pod)
            return
        if self.cache.node_of(key) is not None:
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
        if self.cache.unplace(key):
            self._retry()

    def _retry(self) -> None:
        self.queue.move_all_to_active_or_backoff()
        self._wakeup.set()
