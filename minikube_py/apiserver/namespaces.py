"""Namespace lifecycle: no content in a namespace that is missing or being deleted, and
emptying a deleted namespace until the namespace controller takes that job over.

Upstream's ``NamespaceLifecycle`` admission refuses to create objects in a namespace that does
not exist (404) or is ``Terminating`` (403), answering from an informer, not from etcd. Here the
answer comes from memory kept current by the watch cache, with a store read on a miss.

Deleting a namespace marks it ``Terminating``; something must then delete everything in it
and finally the namespace itself. Upstream that is the namespace controller in the controller
manager, and that is where this work moves when the controllers land. Until then the API
server does it itself, in the background: delete every namespaced object in the namespace,
wait until those with finalizers are gone too, then remove the namespace.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from minikube_py.api import errors
from minikube_py.apiserver.listing import ListOptions
from minikube_py.apiserver.objects import decode, prefix
from minikube_py.logs import get_logger

if TYPE_CHECKING:
    from minikube_py.apiserver.storage import Storage
    from minikube_py.apiserver.watchcache import WatchCache
    from minikube_py.store import WatchEvent

_log = get_logger("apiserver")
_PATIENCE_SECONDS = 120.0


class NamespaceLifecycle:
    """Which namespaces exist and which are terminating; empties deleted ones."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._namespaces = storage.registry.get("", "v1", "namespaces")
        self._states: dict[str, bool] | None = None  # name -> terminating; None: not tracked
        self._background: set[asyncio.Task[None]] = set()

    def track(self, cache: WatchCache) -> None:
        """Keep the namespace states in memory, fed by the watch cache's events."""
        assert self._namespaces is not None
        self._states = {}
        cache.add_listener(prefix(self._namespaces, None), self._note)

    def _note(self, event: WatchEvent | None) -> None:
        assert self._states is not None
        if event is None:  # the cache restarted: forget, and ask the store again
            self._states.clear()
            return
        name = event.key.rsplit("/", 1)[-1]
        if event.value is None:
            self._states.pop(name, None)
        else:
            metadata = decode(event.value, event.revision).get("metadata") or {}
            self._states[name] = bool(metadata.get("deletionTimestamp"))

    async def require_active(self, namespace: str) -> None:
        """404 for a missing namespace, 403 for one being deleted."""
        if self._namespaces is None:
            return
        states = self._states
        if states is not None and states.get(namespace) is False:
            return
        try:
            ns = await self._storage.get(self._namespaces, None, namespace)
        except errors.ApiError:
            raise errors.ApiError(
                404,
                "NotFound",
                f'namespaces "{namespace}" not found',
                details={"name": namespace, "kind": "namespaces"},
            ) from None
        terminating = bool(ns["metadata"].get("deletionTimestamp"))
        if states is not None:
            states[namespace] = terminating
        if terminating:
            raise errors.ApiError(
                403,
                "Forbidden",
                f"unable to create new content in namespace {namespace} because it is being "
                "terminated",
            )

    def empty_in_background(self, name: str) -> None:
        task = asyncio.create_task(empty_namespace(self._storage, name))
        self._background.add(task)
        task.add_done_callback(self._background.discard)


async def empty_namespace(storage: Storage, name: str) -> None:
    namespaces = storage.registry.get("", "v1", "namespaces")
    assert namespaces is not None
    delay, waited = 0.05, 0.0
    while waited < _PATIENCE_SECONDS:
        remaining = 0
        for rt in storage.registry:
            if not rt.namespaced or "delete" not in rt.verbs or "list" not in rt.verbs:
                continue
            for item in (await storage.list(rt, name, ListOptions()))["items"]:
                remaining += 1
                if item["metadata"].get("deletionTimestamp"):
                    continue  # its finalizers are running
                try:
                    await storage.delete(rt, name, item["metadata"]["name"])
                except errors.ApiError as error:
                    if error.code not in (404, 409):
                        raise
        if remaining == 0:
            break
        await asyncio.sleep(delay)  # objects with finalizers: give their owners time
        waited += delay
        delay = min(delay * 2, 2.0)
    try:
        current = await storage.get(namespaces, None, name)
        await storage.finalize(namespaces, current)
        _log.info("namespace deleted", key=name)
    except errors.ApiError as error:
        if error.code != 404:
            _log.warning("namespace deletion failed", key=name, error=error.message)
