"""A controller: a reconcile function, the wiring that feeds it keys, and workers that run it.

Every Kubernetes controller has the same shape (DESIGN.md, "Level-triggered reconciliation"):

1. **Wiring.** ``wire(informers)`` takes the shared informers the controller reads and
   registers handlers that only *enqueue keys*: a ReplicaSet's own key when it changes, and the
   key of a pod's controlling owner when the pod changes (``enqueue_controller_of``).
2. **Reconcile.** ``reconcile(key)`` reads the current state from the caches (never the
   event that triggered it), makes the world match the spec, and returns ``None`` when done
   or a number of seconds to be called again after (a deadline, ``minReadySeconds``).
3. **Workers.** ``workers`` tasks each loop: take a key from the ``WorkQueue``, reconcile it,
   and on an exception log it and bring the key back with a growing back-off
   (``add_rate_limited``); on success ``forget`` the back-off; then ``done``. The queue
   guarantees no key is reconciled by two workers at once.

A new controller is a subclass with a ``name``, a ``wire`` and a ``reconcile``; the
``ControllerManager`` (``manager.py``) does the rest. Upstream's worker counts are the
``--concurrent-*-syncs`` defaults of kube-controller-manager (5 for ReplicaSets, Deployments,
Jobs; 2 for DaemonSets; 20 for the garbage collector).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from minikube_py.api.errors import ApiError
from minikube_py.client.events import EventRecorder
from minikube_py.client.informer import Informer, object_key
from minikube_py.client.protocol import Client, Object
from minikube_py.clock import Clock, SystemClock
from minikube_py.controllers.informers import SharedInformers
from minikube_py.controllers.queue import QueueShutDown, WorkQueue
from minikube_py.logs import get_logger


class NotYet(Exception):
    """A reconcile that cannot finish yet for an ordinary reason — a StatefulSet's claim still
    being deleted (its namespace going, say) — and is tried again with back-off, like a
    failure, but logged as information: it is the cluster's course, not a fault."""


class Controller:
    """Subclass and set ``name``, ``workers``; override ``wire`` and ``reconcile``."""

    name = "controller"
    workers = 2
    # After this many failed tries in a row a key is dropped until its next event (upstream's
    # Deployment and Job controllers use 15); None retries forever, as the ReplicaSet's does.
    max_retries: int | None = None

    # the Events' source, as upstream's recorders name it ("deployment-controller"); "" : none
    component = ""
    client: Client
    recorder: EventRecorder

    def __init__(
        self,
        client: Client | None = None,
        *,
        clock: Clock | None = None,
        recorder: EventRecorder | None = None,
        workers: int | None = None,
    ) -> None:
        if client is not None:  # None: a controller that reads nothing (the runtime's tests)
            self.client = client
            self.recorder = recorder or EventRecorder(client, self.component or self.name)
        self.clock: Clock = clock or SystemClock()
        if workers is not None:
            self.workers = workers
        self.queue = WorkQueue(clock=self.clock)
        self.log = get_logger(f"controllers.{self.name}")

    # -- what a subclass provides -----------------------------------------------------------

    def wire(self, informers: SharedInformers) -> None:
        """Take the informers this controller reads and register enqueueing handlers."""

    async def reconcile(self, key: str) -> float | None:
        """Make the object ``key`` names right; ``None`` when done, else seconds to requeue."""
        raise NotImplementedError

    # -- wiring helpers ---------------------------------------------------------------------

    def enqueue(self, obj: Object) -> None:
        """Queue the object's own key."""
        self.queue.add(object_key(obj))

    def watch(
        self, informer: Informer, key_of: Callable[[Object], str | None] = object_key
    ) -> None:
        """Queue ``key_of(obj)`` (by default the object's own key; ``None``: nothing) whenever
        an object of ``informer`` is added, changed or deleted."""

        def enqueue(obj: Object) -> None:
            if key := key_of(obj):
                self.queue.add(key)

        informer.on_add(enqueue)
        informer.on_update(lambda _old, new: enqueue(new))
        informer.on_delete(enqueue)

    def enqueue_controller_of(self, obj: Object, kind: str, group: str = "") -> None:
        """Queue the key of ``obj``'s controlling owner if it is a ``kind`` in API ``group``."""
        if key := controller_key(obj, kind, group):
            self.queue.add(key)

    def watch_owned(self, informer: Informer, kind: str, group: str = "") -> None:
        """Queue the controlling owner (a ``kind`` of ``group``) of objects of ``informer``;
        on an update that changed the owner, both the old and the new one, as upstream."""

        def updated(old: Object, new: Object) -> None:
            self.enqueue_controller_of(new, kind, group)
            if controller_key(old, kind, group) != controller_key(new, kind, group):
                self.enqueue_controller_of(old, kind, group)

        informer.on_add(lambda obj: self.enqueue_controller_of(obj, kind, group))
        informer.on_update(updated)
        informer.on_delete(lambda obj: self.enqueue_controller_of(obj, kind, group))

    # -- running ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Run the workers until cancelled, then shut the queue down for good."""
        try:
            await self.run_workers()
        finally:
            self.queue.shut_down()

    async def run_workers(self) -> None:
        """Run ``workers`` worker loops until cancelled or the queue shuts down; the queue
        stays usable (a leader that lost its lease may run them again later)."""
        self.log.info("starting workers", controller=self.name, workers=self.workers)
        async with asyncio.TaskGroup() as group:
            for number in range(self.workers):
                group.create_task(self._work(), name=f"{self.name} worker {number}")

    async def _work(self) -> None:
        while True:
            try:
                key = await self.queue.get()
            except QueueShutDown:
                return
            try:
                await self.process(key)
            except asyncio.CancelledError:
                self.queue.add(key)  # unfinished: whoever runs the workers next does it again
                raise
            finally:
                self.queue.done(key)

    async def process(self, key: str) -> None:
        """One reconcile of ``key`` and what its outcome means for the queue."""
        try:
            requeue_after = await self.reconcile(key)
        except Exception as error:
            retries = self.queue.requeues(key)
            if self.max_retries is not None and retries >= self.max_retries:
                self.log.warning(
                    "dropping key out of the queue", controller=self.name, key=key, error=str(error)
                )
                self.queue.forget(key)
                return
            if isinstance(error, ApiError) and error.code in (404, 409):
                # a write raced another (a stale cache, a concurrent writer, the object deleted
                # meanwhile): the ordinary course of optimistic concurrency, not a fault — the
                # next reconcile reads afresh (and finds a deleted object gone)
                self.log.info("raced; requeued", controller=self.name, key=key, error=str(error))
            elif isinstance(error, NotYet):
                self.log.info("not yet; requeued", controller=self.name, key=key, error=str(error))
            else:
                self.log.exception(
                    "reconcile failed", controller=self.name, key=key, retries=retries
                )
            self.queue.add_rate_limited(key)
            return
        self.queue.forget(key)
        if requeue_after is not None:
            self.queue.add_after(key, requeue_after)


def controller_reference(obj: Object) -> Object | None:
    """The ownerReference with ``controller: true``, if any (at most one may have it)."""
    for reference in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if reference.get("controller"):
            return dict(reference)
    return None


def controller_key(obj: Object, kind: str, group: str = "") -> str | None:
    """``namespace/name`` of ``obj``'s controlling owner if it is a ``kind`` of ``group``
    (any version: ``apps/v1`` and ``apps/v1beta2`` name the same owner), else ``None``."""
    reference = controller_reference(obj)
    if reference is None or reference.get("kind") != kind:
        return None
    api_version = str(reference.get("apiVersion") or "")
    if (api_version.rpartition("/")[0] if "/" in api_version else "") != group:
        return None
    namespace = (obj.get("metadata") or {}).get("namespace")
    name = reference.get("name", "")
    return f"{namespace}/{name}" if namespace else str(name)
