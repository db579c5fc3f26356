"""The API server's object storage: Kubernetes semantics on top of the key-value store.

What the store knows is keys, bytes and revisions. What a client expects is more: names
unique per namespace, ``resourceVersion`` preconditions that turn into 409 Conflict, objects
with finalizers that are only *marked* for deletion until their finalizers are gone, no-op
updates that do not change ``resourceVersion``, patches applied to the latest version and
retried when someone else wrote in between, ``dryRun`` that runs everything but the write.
``Storage`` is that layer — upstream's generic registry store — and both the HTTP handlers
and the in-process client call it, so they cannot behave differently. What a DELETE means
(finalizers, grace periods, preconditions) is ``deletion``'s part.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from minikube_py.api import errors
from minikube_py.api.registry import Registry
from minikube_py.api.resources import ResourceType
from minikube_py.apiserver import (
    admission,
    deletion,
    managedfields,
    serviceaccounts,
    storageadmission,
)
from minikube_py.apiserver.allocation import ServiceAllocator
from minikube_py.apiserver.decoding import MAX_OBJECT_BYTES
from minikube_py.apiserver.listing import Lister, ListOptions
from minikube_py.apiserver.namespaces import NamespaceLifecycle, holds_content
from minikube_py.apiserver.objects import (
    Object,
    RecentWrites,
    json_copy,
    key,
    meta,
    read,
    stamped,
    write,
)
from minikube_py.apiserver.tokens import TokenIssuer
from minikube_py.apiserver.watchcache import WatchCache
from minikube_py.store import AlreadyExists, Conflict, NotFound, Store

_PATCH_RETRIES = 100  # upstream's GuaranteedUpdate retries until the request's deadline


class Storage:
    """Create, read, update, patch and delete objects of any registered resource."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        *,
        tokens: TokenIssuer | None = None,
        service_block: str = "127.96.0.0/16",
    ) -> None:
        self.store = store
        self.registry = registry
        self.tokens = tokens or TokenIssuer()
        self.lister = Lister(store)
        self._namespaces = registry.get("", "v1", "namespaces")
        self._services = registry.get("", "v1", "services")
        self.allocator = ServiceAllocator(self._all_services, network=service_block)
        self.namespaces = NamespaceLifecycle(self)
        self.recent = RecentWrites()

    def track_namespaces(self, cache: WatchCache) -> None:
        self.namespaces.track(cache)

    async def _all_services(self) -> list[Object]:
        assert self._services is not None
        items: list[Object] = (await self.list(self._services, None, ListOptions()))["items"]
        return items

    async def get(self, rt: ResourceType, namespace: str | None, name: str) -> Object:
        try:
            return read(rt, await self.store.get(key(rt, namespace, name)))
        except NotFound:
            raise errors.not_found(rt, name) from None

    async def list(self, rt: ResourceType, namespace: str | None, options: ListOptions) -> Object:
        return await self.lister.list(rt, namespace, options)

    async def create(
        self,
        rt: ResourceType,
        namespace: str | None,
        body: Any,
        *,
        dry_run: bool = False,
        manager: str | None = managedfields.DEFAULT_MANAGER,
    ) -> Object:
        """POST; ``manager`` None: the body's managedFields are already right (apply)."""
        if serviceaccounts.applies(rt):  # mutating admission that reads other objects
            await serviceaccounts.admit_pod(self, body, namespace=namespace)
        if storageadmission.applies(rt):  # DefaultStorageClass reads the StorageClasses
            await storageadmission.admit_claim(self, body)
        obj = admission.prepare_create(rt, body, namespace=namespace)
        if manager is not None:
            managedfields.record_update(rt, None, obj, manager=manager)
        if rt.namespaced:
            await self.namespaces.require_active(str(namespace))
        name = obj["metadata"]["name"]
        async with self._allocating(rt):
            if rt is self._services:
                await self.allocator.allocate(rt, obj, old=None)
            if dry_run:
                return obj
            try:
                k, value = key(rt, namespace, name), _sized(rt, obj)
                kv = await self.store.create(k, value)
                self.recent.remember(k, value, kv.mod_revision)
                return stamped(obj, kv.mod_revision)
            except AlreadyExists:
                raise errors.already_exists(rt, name) from None

    def _allocating(self, rt: ResourceType) -> contextlib.AbstractAsyncContextManager[Any]:
        """Services are written under the allocator's lock, so no address is handed out twice."""
        if rt is self._services:
            return self.allocator.lock
        return contextlib.nullcontext()

    async def update(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        body: Any,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
        manager: str | None = managedfields.DEFAULT_MANAGER,
    ) -> Object:
        """PUT: replace the object; a ``resourceVersion`` in the body is a precondition."""
        if not isinstance(body, dict):
            raise errors.bad_request(f"the body of the request was not a {rt.kind} object")
        body_name = meta(body).get("name")
        if body_name != name:
            raise errors.bad_request(
                f"the name of the object ({body_name}) does not match the name on the URL ({name})"
            )
        expected = meta(body).get("resourceVersion") or None
        return await self._modify(
            rt,
            namespace,
            name,
            lambda _old: json_copy(body),
            expected=expected,
            subresource=subresource,
            dry_run=dry_run,
            manager=manager,
        )

    async def patch(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        apply_patch: Callable[[Object], Object],
        *,
        subresource: str | None = None,
        dry_run: bool = False,
        internal: bool = False,
        manager: str | None = managedfields.DEFAULT_MANAGER,
    ) -> Object:
        """PATCH: ``apply_patch`` turns the current object into the new one; re-run on conflict.

        ``internal`` writes (a pod's binding) are the server's own and skip validation, whose
        update rules are for clients (a pod's spec is otherwise immutable).
        """
        return await self._modify(
            rt,
            namespace,
            name,
            apply_patch,
            expected=None,
            subresource=subresource,
            dry_run=dry_run,
            patched=True,
            validate=not internal,
            manager=manager,
        )

    async def _modify(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        change: Callable[[Object], Object],
        *,
        expected: str | None,
        subresource: str | None,
        dry_run: bool,
        patched: bool = False,
        validate: bool = True,
        manager: str | None = managedfields.DEFAULT_MANAGER,
    ) -> Object:
        k = key(rt, namespace, name)
        for attempt in range(_PATCH_RETRIES):
            # First try what this server wrote last; the compare-and-swap below catches it
            # being stale, and every retry reads the store.
            old = self.recent.read(rt, k) if attempt == 0 else None
            remembered = old is not None
            old = old or await self.get(rt, namespace, name)
            revision = int(old["metadata"]["resourceVersion"])
            new = change(json_copy(old))
            if patched:
                # a resourceVersion inside a patch is a precondition too
                expected = meta(new).get("resourceVersion") or None
                if expected == old["metadata"]["resourceVersion"]:
                    expected = None
            if expected is not None and expected != str(revision):
                if remembered:
                    continue
                raise errors.conflict(rt, name, errors.STALE)
            new = admission.prepare_update(
                rt, new, old, namespace=namespace, subresource=subresource, validate=validate
            )
            new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            if manager is not None:  # None: the change recorded its ownership (apply)
                managedfields.record_update(rt, old, new, manager=manager, subresource=subresource)
            async with self._allocating(rt):
                if rt is self._services:
                    await self.allocator.allocate(rt, new, old=old)
                if new == old or dry_run:
                    return new  # a no-op keeps its resourceVersion, as upstream
                metadata = new["metadata"]
                # the last finalizer gone from an object being deleted removes it — unless a
                # grace period still runs (a pod its kubelet is stopping: the kubelet's final
                # delete removes it), as upstream's ShouldDeleteDuringUpdate
                if (
                    metadata.get("deletionTimestamp")
                    and not metadata.get("finalizers")
                    and not metadata.get("deletionGracePeriodSeconds")
                    and not holds_content(rt, new)
                ):
                    return await self.remove(rt, namespace, name, revision)
                try:
                    value = _sized(rt, new)
                    kv = await self.store.update(k, value, expected_revision=revision)
                    self.recent.remember(k, value, kv.mod_revision)
                    return stamped(new, kv.mod_revision)
                except Conflict:
                    self.recent.forget(k)
                    if expected is not None and not remembered:
                        raise errors.conflict(rt, name, errors.STALE) from None
                except NotFound:
                    raise errors.not_found(rt, name) from None
        raise errors.conflict(rt, name, errors.STALE)

    async def delete(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        dry_run: bool = False,
    ) -> Object:
        """DELETE: remove the object, or mark it if finalizers must run first (``deletion``)."""
        return await deletion.delete(self, rt, namespace, name, options or {}, dry_run=dry_run)

    async def finalize(self, rt: ResourceType, obj: Object) -> Object:
        """Remove an object that was marked for deletion, whatever its finalizers."""
        metadata = obj["metadata"]
        return await self.remove(
            rt, metadata.get("namespace"), metadata["name"], int(metadata["resourceVersion"])
        )

    async def remove(
        self, rt: ResourceType, namespace: str | None, name: str, revision: int
    ) -> Object:
        """Delete the key at ``revision`` for good (compare-and-swap: 409 if it moved on)."""
        self.recent.forget(key(rt, namespace, name))
        try:
            kv = await self.store.delete(key(rt, namespace, name), expected_revision=revision)
        except NotFound:
            raise errors.not_found(rt, name) from None
        except Conflict:
            raise errors.conflict(rt, name, errors.STALE) from None
        return read(rt, kv)


def _sized(rt: ResourceType, obj: Object) -> bytes:
    """The stored form of ``obj``, refused as upstream's etcd refuses what is too large."""
    data = write(rt, obj)
    if len(data) > MAX_OBJECT_BYTES:
        raise errors.too_large("etcdserver: request is too large")
    return data
