"""``LocalBackend``: the API server's verbs for clients in its own process, without HTTP.

The in-process client (``minikube_py.client.inprocess``) may not import the API server — the
layers only point downward — so it is written against the small ``Backend`` protocol of the
client package, and this adapter satisfies it with the server's own ``Storage`` and
``WatchCache``. Each method does what the HTTP handler does for the same request: resolve the
resource as routing would (same 404s), call the same storage method (same admission,
validation and store path), serve a watch from the same watch cache with the same event
filtering (``watching.to_api_event``). Only the request parsing and the sockets are skipped.
"""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import AsyncGenerator
from typing import Any

from multidict import MultiDict

from minikube_py.api import errors
from minikube_py.api.resources import ResourceType
from minikube_py.apiserver import decoding, discovery, managedfields, subresources
from minikube_py.apiserver.listing import ListOptions
from minikube_py.apiserver.objects import Object, apply_patch
from minikube_py.apiserver.storage import Storage
from minikube_py.apiserver.watchcache import WatchCache
from minikube_py.apiserver.watching import open_watch
from minikube_py.client.inprocess import InProcessClient
from minikube_py.client.protocol import GVR


class LocalBackend:
    """Serves ``minikube_py.client.backend.Backend`` from a ``Storage`` and a ``WatchCache``."""

    def __init__(
        self, storage: Storage, cache: WatchCache, manager: str = managedfields.DEFAULT_MANAGER
    ) -> None:
        self.storage = storage
        self.cache = cache
        # the field manager of this client's writes, as a component's user agent names it
        # upstream (kube-controller-manager, kubelet, kube-scheduler)
        self.manager = manager

    def client(self) -> InProcessClient:
        return InProcessClient(self)

    def _resolve(
        self,
        gvr: GVR,
        namespace: str | None,
        name: str | None = None,
        subresource: str | None = None,
    ) -> ResourceType:
        """The resource type, refused exactly as ``routing.parse`` refuses its URL."""
        rt = self.storage.registry.get(gvr.group, gvr.version, gvr.resource)
        if rt is None or (namespace is not None and not rt.namespaced):
            raise errors.path_not_found()
        if rt.namespaced and name is not None and namespace is None:
            raise errors.path_not_found()
        if subresource is not None and subresource not in rt.subresources:
            raise errors.path_not_found()
        return rt

    async def get(self, gvr: GVR, namespace: str | None, name: str) -> Object:
        return await self.storage.get(self._resolve(gvr, namespace, name), namespace, name)

    async def list(
        self,
        gvr: GVR,
        namespace: str | None,
        *,
        label_selector: str,
        field_selector: str,
        limit: int,
        continue_token: str | None,
        resource_version: str,
    ) -> Object:
        if limit < 0:
            raise errors.bad_request("invalid limit: must not be negative")
        options = ListOptions(
            label_selector, field_selector, limit, continue_token or None, resource_version
        )
        return await self.storage.list(self._resolve(gvr, namespace), namespace, options)

    async def watch(
        self,
        gvr: GVR,
        namespace: str | None,
        *,
        resource_version: str,
        label_selector: str,
        field_selector: str,
        timeout_seconds: int | None,
    ) -> AsyncGenerator[tuple[str, Object], None]:
        """The events ``watching.serve_watch`` would write, one ``(type, object)`` each."""
        rt = self._resolve(gvr, namespace)
        options = ListOptions(label_selector, field_selector, resource_version=resource_version)
        stream = await open_watch(
            self.storage, self.cache, rt, namespace, options, timeout_seconds=timeout_seconds
        )
        async with contextlib.aclosing(stream):
            async for event in stream:
                yield event

    async def create(
        self,
        gvr: GVR,
        namespace: str | None,
        body: Object,
        *,
        name: str | None,
        subresource: str | None,
        dry_run: bool,
    ) -> Object:
        rt = self._resolve(gvr, namespace, name, subresource)
        if subresource in ("binding", "eviction") and name is not None:
            act = subresources.bind if subresource == "binding" else subresources.evict
            return await act(self.storage, rt, namespace, name, body, dry_run=dry_run)
        if subresource == "token" and name is not None:
            return await subresources.create_token(self.storage, rt, namespace, name, body)
        if subresource is not None:  # POST to the object itself or to its status: as upstream
            raise errors.method_not_allowed()
        return await self.storage.create(rt, namespace, body, dry_run=dry_run, manager=self.manager)

    async def update(
        self,
        gvr: GVR,
        namespace: str | None,
        name: str,
        body: Object,
        *,
        subresource: str | None,
        dry_run: bool,
    ) -> Object:
        rt = self._resolve(gvr, namespace, name, subresource)
        if subresource == "scale":
            return await subresources.update_scale(
                self.storage, rt, namespace, name, body, dry_run=dry_run
            )
        if subresource == "finalize":
            return await subresources.finalize(self.storage, rt, name, body, dry_run=dry_run)
        return await self.storage.update(
            rt,
            namespace,
            name,
            body,
            subresource=subresource,
            dry_run=dry_run,
            manager=self.manager,
        )

    async def patch(
        self,
        gvr: GVR,
        namespace: str | None,
        name: str,
        patch: Any,
        *,
        content_type: str,
        subresource: str | None,
        dry_run: bool,
    ) -> Object:
        rt = self._resolve(gvr, namespace, name, subresource)
        if subresource == "scale":
            return await subresources.patch_scale(
                self.storage,
                rt,
                namespace,
                name,
                patch,
                content_type=content_type,
                dry_run=dry_run,
            )
        return await self.storage.patch(
            rt,
            namespace,
            name,
            lambda old: apply_patch(content_type, old, patch),
            subresource=subresource,
            dry_run=dry_run,
            manager=self.manager,
        )

    async def server_preferred_resources(self) -> builtins.list[Object]:
        """What ``/api/v1`` and each group's preferred version answer, in that order."""
        registry = self.storage.registry
        lists = [discovery.api_resource_list(registry, "", "v1")]
        for group, versions in registry.groups().items():
            lists.append(discovery.api_resource_list(registry, group, versions[0]))
        return [listed for listed in lists if listed is not None]

    async def delete(
        self, gvr: GVR, namespace: str | None, name: str, options: Object, *, dry_run: bool
    ) -> Object:
        rt = self._resolve(gvr, namespace, name)
        checked = decoding.delete_options(MultiDict[str](), options)
        dry_run = dry_run or checked.get("dryRun") == ["All"]
        return await self.storage.delete(rt, namespace, name, checked, dry_run=dry_run)
