"""Informers: a live local copy of one collection, and callbacks when it changes.

A controller must not ask the API server for every object each time it thinks; it keeps a
cache. An informer fills it the way client-go's reflector does: *list* the collection, then
*watch* from the list's ``resourceVersion``, applying each event to the cache and telling the
registered handlers (``on_add``, ``on_update``, ``on_delete``). When a watch stream ends it
watches again from the last version it saw; when the server answers 410 ``Expired`` (that
version has left the server's window) it lists again and reconciles the cache with the fresh
list, reporting what was added, changed or deleted meanwhile. Other failures are retried with
a capped exponential backoff.

Handlers should only enqueue a key for a work queue — the controller's reconcile reads the
cache later (level-triggered, DESIGN.md). The cache is keyed by ``namespace/name`` (just
``name`` for cluster-scoped objects, as client-go's ``MetaNamespaceKeyFunc``) and indexed by
namespace and by label. Objects in it are shared: read them, do not mutate them.

The cache drops ``metadata.managedFields``, as upstream's controller manager and scheduler
do (client-go's ``TransformStripManagedFields``): nothing reads them from a cache, and they
are about a third of a pod. A write made from a cached object without them keeps the stored
ones (the API server's rule). ``keep_managed_fields=True`` keeps objects whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

from minikube_py.client.protocol import GVR, ApiError, Client, Object
from minikube_py.logs import get_logger

_log = get_logger("informer")

AddHandler = Callable[[Object], None]
UpdateHandler = Callable[[Object, Object], None]
DeleteHandler = Callable[[Object], None]

K = TypeVar("K", bound=Hashable)

_PAGE_SIZE = 500
_MIN_WATCH_SECONDS = 300  # as client-go: each watch lasts 5-10 minutes, then is renewed
_SHORT_WATCH_SECONDS = 1.0  # an empty stream shorter than this is a failure, retried later


def object_key(obj: Object) -> str:
    """``namespace/name``, or ``name`` for a cluster-scoped object."""
    metadata = obj.get("metadata") or {}
    namespace, name = metadata.get("namespace"), metadata.get("name", "")
    return f"{namespace}/{name}" if namespace else str(name)


class Informer:
    """List + watch one collection into a cache; ``run`` until cancelled."""

    def __init__(
        self,
        client: Client,
        gvr: GVR,
        namespace: str | None = None,
        *,
        label_selector: str = "",
        field_selector: str = "",
        max_backoff: float = 10.0,
        keep_managed_fields: bool = False,
    ) -> None:
        self.client = client
        self._keep_managed_fields = keep_managed_fields
        self.gvr = gvr
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.resource_version = ""  # the newest version applied to the cache
        self._max_backoff = max_backoff
        self._items: dict[str, Object] = {}
        self._by_namespace: dict[str, set[str]] = {}
        self._by_label: dict[tuple[str, str], set[str]] = {}
        self._add: list[AddHandler] = []
        self._update: list[UpdateHandler] = []
        self._delete: list[DeleteHandler] = []
        self._synced = asyncio.Event()

    # -- handlers -------------------------------------------------------------------------

    def on_add(self, handler: AddHandler) -> AddHandler:
        self._add.append(handler)
        return handler

    def on_update(self, handler: UpdateHandler) -> UpdateHandler:
        self._update.append(handler)
        return handler

    def on_delete(self, handler: DeleteHandler) -> DeleteHandler:
        self._delete.append(handler)
        return handler

    # -- the cache ------------------------------------------------------------------------

    @property
    def has_synced(self) -> bool:
        """Whether the first list is in the cache."""
        return self._synced.is_set()

    async def wait_synced(self) -> None:
        await self._synced.wait()

    def get(self, key: str) -> Object | None:
        return self._items.get(key)

    def keys(self) -> list[str]:
        return list(self._items)

    def items(self) -> list[Object]:
        return list(self._items.values())

    def by_namespace(self, namespace: str) -> list[Object]:
        return [self._items[k] for k in sorted(self._by_namespace.get(namespace, ()))]

    def by_label(self, key: str, value: str) -> list[Object]:
        return [self._items[k] for k in sorted(self._by_label.get((key, value), ()))]

    def __len__(self) -> int:
        return len(self._items)

    # -- running --------------------------------------------------------------------------

    async def run(self) -> None:
        """List, then watch; relist on 410; retry failures with backoff. Until cancelled."""
        delay = 0.0
        while True:
            try:
                await self._list_and_replace()
                delay = 0.0
                while True:  # a stream that ends normally is renewed from where it stopped
                    started = asyncio.get_running_loop().time()
                    if await self._watch():
                        delay = 0.0
                    elif asyncio.get_running_loop().time() - started < _SHORT_WATCH_SECONDS:
                        # an empty stream that ended at once: as client-go, do not spin
                        delay = await self._back_off(delay, "very short watch")
            except ApiError as error:
                if error.code != 410:
                    delay = await self._back_off(delay, error)
                # 410: our version left the server's window; list again at once
            except Exception as error:  # e.g. aiohttp.ClientError: never let the informer die
                delay = await self._back_off(delay, error)

    async def _back_off(self, delay: float, error: BaseException | str) -> float:
        delay = min(max(delay * 2, 0.1), self._max_backoff)
        _log.warning(
            "list/watch failed, retrying", resource=str(self.gvr), error=str(error), retry_in=delay
        )
        await asyncio.sleep(delay)
        return delay

    async def _list_and_replace(self) -> None:
        items: list[Object] = []
        token: str | None = None
        while True:
            page = await self.client.list(
                self.gvr,
                self.namespace,
                label_selector=self.label_selector,
                field_selector=self.field_selector,
                limit=_PAGE_SIZE,
                continue_token=token,
            )
            items += page.get("items") or []
            token = (page.get("metadata") or {}).get("continue") or None
            if token is None:
                break
        self._replace(items)
        self.resource_version = str(page["metadata"]["resourceVersion"])
        self._synced.set()

    async def _watch(self) -> int:
        """One watch stream, applied to the cache until it ends; how many events it carried."""
        timeout = random.randint(_MIN_WATCH_SECONDS, 2 * _MIN_WATCH_SECONDS)
        events = self.client.watch(
            self.gvr,
            self.namespace,
            resource_version=self.resource_version,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
            timeout_seconds=timeout,
        )
        count = 0
        async with contextlib.aclosing(events):
            async for event_type, obj in events:
                count += 1
                self._apply(event_type, obj)
                if version := _version(obj):
                    self.resource_version = version
        return count

    def _apply(self, event_type: str, obj: Object) -> None:
        key = object_key(obj)
        old = self._items.get(key)
        if event_type == "DELETED":
            if old is not None:
                self._remove(key, old)
                self._notify_delete(obj)
        elif event_type in ("ADDED", "MODIFIED"):
            self._store(key, obj, old)
            if old is None:
                self._notify_add(obj)
            else:
                self._notify_update(old, obj)

    def _replace(self, items: Iterable[Object]) -> None:
        """Make the cache the fresh list, and report the differences."""
        fresh = {object_key(obj): obj for obj in items}
        for key, gone in list(self._items.items()):
            if key not in fresh:
                self._remove(key, gone)
                self._notify_delete(gone)
        for key, obj in fresh.items():
            old = self._items.get(key)
            if old is not None and _version(old) == _version(obj):
                continue
            self._store(key, obj, old)
            if old is None:
                self._notify_add(obj)
            else:
                self._notify_update(old, obj)

    def _store(self, key: str, obj: Object, old: Object | None) -> None:
        if old is not None:
            self._unindex(key, old)
        if not self._keep_managed_fields:
            # the client's decoded objects are this informer's own: trimmed in place
            (obj.get("metadata") or {}).pop("managedFields", None)
        self._items[key] = obj
        metadata = obj.get("metadata") or {}
        self._by_namespace.setdefault(metadata.get("namespace") or "", set()).add(key)
        for label in (metadata.get("labels") or {}).items():
            self._by_label.setdefault(label, set()).add(key)

    def _remove(self, key: str, old: Object) -> None:
        self._unindex(key, old)
        del self._items[key]

    def _unindex(self, key: str, old: Object) -> None:
        metadata = old.get("metadata") or {}
        _discard(self._by_namespace, metadata.get("namespace") or "", key)
        for label in (metadata.get("labels") or {}).items():
            _discard(self._by_label, label, key)

    def _notify_add(self, obj: Object) -> None:
        for handler in self._add:
            self._call(handler, obj)

    def _notify_update(self, old: Object, new: Object) -> None:
        for handler in self._update:
            self._call(handler, old, new)

    def _notify_delete(self, obj: Object) -> None:
        for handler in self._delete:
            self._call(handler, obj)

    def _call(self, handler: Callable[..., None], *args: Object) -> None:
        try:
            handler(*args)
        except Exception:
            _log.exception("informer event handler failed", resource=str(self.gvr))


def _discard(index: dict[K, set[str]], index_key: K, key: str) -> None:
    members = index.get(index_key)
    if members is not None:
        members.discard(key)
        if not members:
            del index[index_key]


def _version(obj: Object) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")
