"""The garbage collector's monitors beyond the usual kinds: every other deletable resource.

Any object may own or be owned, and any object may be deleted with ``--cascade=orphan`` or
``--cascade=foreground`` — after which it is held by a finalizer only the collector removes.
So upstream's collector watches *every* resource discovery lists with the ``list``,
``watch`` and ``delete`` verbs (events aside), and re-reads discovery every 30 seconds to start
monitors for new resources (a CRD just established) and stop those no longer served.

The kinds most controllers share (pods, ReplicaSets, …, ``gc_resources.MONITORED``) come from
the shared informers; ``Monitors`` runs an informer of its own for each other resource, at
the group's preferred version. A CRD being added, changed or deleted triggers a re-discovery
at once rather than at the next period. The informers run only while the collector's workers
do (``running``); the first discovery's monitors have their first list before the workers
start, so that an orphaning never misses a dependent the cache has not listed yet.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from minikube_py.client.informer import Informer
from minikube_py.client.protocol import GVR, ApiError, Client, Object
from minikube_py.clock import Clock
from minikube_py.controllers.gc_resources import CRDS, MONITORED, Resource, ResourceMap
from minikube_py.controllers.informers import SharedInformers
from minikube_py.logs import get_logger

RESYNC_SECONDS = 30.0  # upstream's garbage collector re-reads discovery this often
_SYNC_PATIENCE_SECONDS = 30.0  # how long the first lists of new monitors are waited for
_IGNORED = {GVR("", "v1", "events"), GVR("events.k8s.io", "v1", "events")}  # as upstream
_log = get_logger("controllers.garbagecollector")


def deletable(lists: list[Object]) -> set[Resource]:
    """The resources of discovery's lists that the collector can watch and delete."""
    found: set[Resource] = set()
    for listed in lists:
        group, _, version = str(listed.get("groupVersion") or "").rpartition("/")
        for entry in listed.get("resources") or []:
            name = str(entry.get("name") or "")
            gvr = GVR(group, version, name)
            if "/" in name or gvr in _IGNORED:
                continue
            if {"list", "watch", "delete"} <= set(entry.get("verbs") or []):
                found.add(Resource(gvr, str(entry.get("kind")), bool(entry.get("namespaced"))))
    return found


class Monitors:
    """An informer, wired by ``monitor``, per deletable resource not in ``MONITORED``."""

    def __init__(
        self,
        client: Client,
        resources: ResourceMap,
        monitor: Callable[[Informer, Resource], None],
        clock: Clock,
    ) -> None:
        self.client = client
        self.resources = resources
        self.clock = clock
        self._monitor = monitor
        self._shared = {(r.gvr.group, r.gvr.resource) for r in MONITORED}
        self._informers: dict[Resource, Informer] = {}
        self._tasks: dict[Resource, asyncio.Task[None]] = {}  # the informers running now
        self._wake = asyncio.Event()

    def wire(self, informers: SharedInformers) -> None:
        crds = informers.get(CRDS)
        crds.on_add(lambda _crd: self._wake.set())
        crds.on_update(lambda _old, _new: self._wake.set())
        crds.on_delete(lambda _crd: self._wake.set())

    @property
    def watched(self) -> list[GVR]:
        return sorted((r.gvr for r in self._tasks), key=str)

    async def sync(self) -> None:
        """Discover; start monitors for new resources (and wait for their first lists), stop
        those of resources no longer served."""
        try:
            lists = await self.client.server_preferred_resources()
        except ApiError as error:
            _log.warning("discovery failed; monitors unchanged", error=error.message)
            return
        wanted = {r for r in deletable(lists) if (r.gvr.group, r.gvr.resource) not in self._shared}
        for resource in set(self._informers) - wanted:
            del self._informers[resource]
            if (task := self._tasks.pop(resource, None)) is not None:
                task.cancel()
            _log.info("stopped monitoring", resource=str(resource.gvr))
        started: list[Informer] = []
        for resource in wanted - set(self._tasks):
            informer = self._informers.get(resource)
            if informer is None:  # kept across leaderships: a relist then reports deletions
                informer = self._informers[resource] = Informer(self.client, resource.gvr)
                self.resources.add(resource)
                self._monitor(informer, resource)
            self._tasks[resource] = asyncio.get_running_loop().create_task(
                informer.run(), name=f"garbagecollector monitor {resource.gvr}"
            )
            started.append(informer)
        try:
            async with asyncio.timeout(_SYNC_PATIENCE_SECONDS):
                for informer in started:
                    await informer.wait_synced()
        except TimeoutError:
            _log.warning("monitors not synced in time; going on", resources=len(started))

    async def _resync(self) -> None:
        while True:
            woken = asyncio.ensure_future(self._wake.wait())
            period = asyncio.ensure_future(self.clock.sleep(RESYNC_SECONDS))
            try:
                await asyncio.wait({woken, period}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                woken.cancel()
                period.cancel()
            self._wake.clear()
            await self.sync()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The monitors, synced once, then re-synced until the block ends."""
        self._wake.clear()
        resync: asyncio.Task[None] | None = None
        try:
            await self.sync()
            resync = asyncio.ensure_future(self._resync())
            yield
        finally:
            tasks = list(self._tasks.values()) + ([resync] if resync is not None else [])
            self._tasks.clear()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
