"""Namespace lifecycle: no content in a namespace that is missing or being deleted.

Upstream's ``NamespaceLifecycle`` admission refuses to create objects in a namespace that does
not exist (404) or is ``Terminating`` (403), answering from an informer, not from etcd. Here the
answer comes from memory kept current by the watch cache, with a store read on a miss.

Deleting a namespace only marks it: ``deletionTimestamp`` set, phase ``Terminating``. Its
``spec.finalizers`` (``kubernetes``, put there at creation) keep it until the namespace
controller of the controller manager has deleted everything in it and removed that finalizer
through ``namespaces/{name}/finalize``; then the server removes the namespace
(``holds_content`` is the rule storage asks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from minikube_py.api import errors
from minikube_py.api.resources import ResourceType
from minikube_py.apiserver.objects import Object, decode, prefix

if TYPE_CHECKING:
    from minikube_py.apiserver.storage import Storage
    from minikube_py.apiserver.watchcache import WatchCache
    from minikube_py.store import WatchEvent


class NamespaceLifecycle:
    """Which namespaces exist and which are terminating."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._namespaces = storage.registry.get("", "v1", "namespaces")
        self._states: dict[str, bool] | None = None  # name -> terminating; None: not tracked

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
                # the cause by which controllers tell this refusal from others (a StatusCause's
                # type is serialised as "reason")
                details={
                    "causes": [
                        {
                            "reason": "NamespaceTerminating",
                            "message": f"namespace {namespace} is being terminated",
                            "field": "metadata.namespace",
                        }
                    ]
                },
            )


def holds_content(rt: ResourceType, obj: Object) -> bool:
    """Whether ``obj`` is a namespace whose ``spec.finalizers`` still hold it back: such a
    namespace is not removed when its last ``metadata.finalizers`` go (upstream's
    ``ShouldDeleteNamespaceDuringUpdate``), nor by a second delete."""
    return rt.kind == "Namespace" and bool((obj.get("spec") or {}).get("finalizers"))
