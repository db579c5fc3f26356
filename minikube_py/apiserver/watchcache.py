"""The watch cache: one store watch shared by every client's watch.

Every controller, informer and ``kubectl get -w`` holds a watch open. Giving each its own store
watch would multiply the store's fan-out work by the number of clients; upstream's apiserver
instead keeps a *cacher* per resource, fed by one etcd watch, holding a window of recent events.
Here one ``WatchCache`` follows ``/registry/`` as a whole and keeps the last ``capacity``
events. A client watch starts from a revision: the events after it still in the window are
replayed, then live ones follow. A revision older than the window is ``Expired`` (HTTP 410),
and the client lists again — exactly what happens upstream after etcd compaction.

A subscriber that cannot keep up is closed (its client re-watches from its last revision); if
the store watch itself ends, all subscribers are closed and the cache starts afresh.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable

import attrs

from minikube_py.logs import get_logger
from minikube_py.store import Expired, Store, StoreClosed, StoreError, Watch, WatchEvent

_log = get_logger("apiserver")


class Subscriber:
    """One client's view of the cache: events under a prefix, after a revision."""

    def __init__(self, cache: WatchCache, prefix: str, after: int, max_pending: int) -> None:
        self.prefix = prefix
        self._cache = cache
        self._after = after
        self._max_pending = max_pending
        self._pending: deque[WatchEvent] = deque()
        self._wake = asyncio.Event()
        self.closed = False

    def offer(self, event: WatchEvent) -> None:
        if event.revision <= self._after or not event.key.startswith(self.prefix):
            return
        self._pending.append(event)
        if len(self._pending) > self._max_pending:
            _log.warning("watch subscriber too slow, closing", prefix=self.prefix)
            self.close()
        self._wake.set()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._cache.unsubscribe(self)
            self._wake.set()

    async def next(self, wait_seconds: float | None = None) -> WatchEvent | None:
        """The next event; None when closed or after ``wait_seconds`` without one."""
        while not self._pending:
            if self.closed:
                return None
            self._wake.clear()
            try:
                # asyncio.timeout, not wait_for: 3.11's wait_for loses a cancellation that
                # arrives as the event is set, and a cancelled watcher would run on.
                async with asyncio.timeout(wait_seconds):
                    await self._wake.wait()
            except TimeoutError:
                return None
        return self._pending.popleft()

    @property
    def revision(self) -> int:
        """The newest revision the cache has seen (for bookmarks)."""
        return self._cache.revision


class WatchCache:
    """A window of recent store events and the subscribers that follow them."""

    def __init__(self, store: Store, *, capacity: int = 10_000, max_pending: int = 10_000) -> None:
        self._store = store
        self._capacity = capacity
        self._max_pending = max_pending
        self._events: deque[WatchEvent] = deque()
        # the newest value in the window of each key, so that an event's ``prev_value`` can
        # be the very bytes of the event before it: the window then holds each version once
        self._values: dict[str, bytes] = {}
        # by the first part of their prefix (``pods`` of ``/registry/pods/ns/``, ``apps`` of
        # ``/registry/apps/deployments/``), so an event is offered only to the watchers of its
        # resource or group: dozens of informers watch other kinds
        self._subscribers: dict[str, set[Subscriber]] = {}
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[tuple[str, Callable[[WatchEvent | None], None]]] = []
        self.oldest = 0  # events after this revision are all in the window
        self.revision = 0

    async def start(self) -> None:
        self.revision = self.oldest = await self._store.current_revision()
        watch = await self._store.watch("/registry/", self.revision)
        self._task = asyncio.create_task(self._pump(watch))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for subscriber in self._all_subscribers():
            subscriber.close()

    def add_listener(self, prefix: str, listener: Callable[[WatchEvent | None], None]) -> None:
        """Call ``listener`` with every event under ``prefix``, in order (it must not block),
        and with None when the cache restarts and events may have been missed."""
        self._listeners.append((prefix, listener))

    def subscribe(self, prefix: str, after: int) -> Subscriber:
        """Follow events under ``prefix`` after revision ``after``; ``Expired`` if too old."""
        if after < self.oldest:
            raise Expired(after, self.oldest)
        subscriber = Subscriber(self, prefix, after, self._max_pending)
        for event in self._events:
            subscriber.offer(event)
        self._subscribers.setdefault(_resource(prefix), set()).add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        group = self._subscribers.get(_resource(subscriber.prefix))
        if group is not None:
            group.discard(subscriber)

    def _all_subscribers(self) -> list[Subscriber]:
        return [subscriber for group in self._subscribers.values() for subscriber in group]

    async def _pump(self, watch: Watch) -> None:
        while True:
            try:
                async for event in watch:
                    self._record(event)
                return  # the store closed
            except StoreClosed:
                return
            except StoreError as error:
                _log.warning("watch cache restarting", error=str(error))
            # The store watch failed: nobody can be told what happened in between.
            for subscriber in self._all_subscribers():
                subscriber.close()
            for _prefix, listener in self._listeners:
                listener(None)
            self._events.clear()
            self._values.clear()
            self.revision = self.oldest = await self._store.current_revision()
            watch = await self._store.watch("/registry/", self.revision)

    def _record(self, event: WatchEvent) -> None:
        event = self._shared(event)
        self._events.append(event)
        if len(self._events) > self._capacity:
            gone = self._events.popleft()
            self.oldest = gone.revision
            if gone.value is not None and self._values.get(gone.key) is gone.value:
                del self._values[gone.key]
        self.revision = event.revision
        for prefix, listener in self._listeners:
            if event.key.startswith(prefix):
                listener(event)
        for resource in (_resource(event.key), ""):
            group = self._subscribers.get(resource)
            if group:
                for subscriber in list(group):
                    subscriber.offer(event)

    def _shared(self, event: WatchEvent) -> WatchEvent:
        """``event``, its ``prev_value`` the window's copy of those bytes if it has one."""
        previous = self._values.pop(event.key, None)
        if event.value is not None:
            self._values[event.key] = event.value
        if previous is None or previous is event.prev_value or previous != event.prev_value:
            return event
        return attrs.evolve(event, prev_value=previous)


def _resource(key: str) -> str:
    """The first part below the root: ``pods`` for ``/registry/pods/ns/name`` or the prefix
    ``/registry/pods/``, the group for other groups' keys; "" for ``/registry/`` itself, whose
    watchers are offered every event. A watcher's own prefix check still decides."""
    parts = key.split("/", 3)
    return parts[2] if len(parts) > 3 else ""
