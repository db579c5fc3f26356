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

import time
from collections.abc import AsyncGenerator
from typing import Any

from multidict import MultiDict

from minikube_py.api import errors
from minikube_py.api.resources import ResourceType
from minikube_py.apiserver import decoding
from minikube_py.apiserver.listing import Filter, ListOptions
from minikube_py.apiserver.objects import PATCHERS, Object, prefix
from minikube_py.apiserver.storage import Storage
from minikube_py.apiserver.subresources import SPECIAL
from minikube_py.apiserver.watchcache import WatchCache
from minikube_py.apiserver.watching import to_api_event
from minikube_py.client.inprocess import InProcessClient
from minikube_py.client.protocol import GVR
from minikube_py.store import Expired


class LocalBackend:
    """Serves ``minikube_py.client.backend.Backend`` from a ``Storage`` and a ``WatchCache``."""

    def __init__(self, storage: Storage, cache: WatchCache) -> None:
        self.storage = storage
        self.cache = cache

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
        if subresource in SPECIAL:
            raise errors.method_not_allowed(
                f"the {subresource} subresource is only served over HTTP for now"
            )
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
        selection = Filter.build(rt, ListOptions(label_selector, field_selector))
        initial: list[Object] = []
        if resource_version in ("", "0"):
            listed = await self.storage.list(
                rt, namespace, ListOptions(label_selector, field_selector)
            )
            after, initial = int(listed["metadata"]["resourceVersion"]), listed["items"]
        else:
            try:
                after = int(resource_version)
            except ValueError:
                raise errors.bad_request(f"invalid resource version: {resource_version}") from None
        try:
            subscriber = self.cache.subscribe(prefix(rt, namespace), after)
        except Expired as error:
            gone = errors.gone(f"too old resource version: {after} ({error.compacted})")
            yield "ERROR", gone.status()
            return
        deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
        try:
            for obj in initial:
                yield "ADDED", obj
            while True:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                event = await subscriber.next(wait_seconds=left)
                if event is None:
                    if subscriber.closed:
                        break
                    continue
                shown = to_api_event(event, selection)
                if shown is not None:
                    yield shown
        finally:
            subscriber.close()

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
        if subresource is not None:  # POST to the object itself or to its status: as upstream
            raise errors.method_not_allowed()
        return await self.storage.create(rt, namespace, body, dry_run=dry_run)

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
        return await self.storage.update(
            rt, namespace, name, body, subresource=subresource, dry_run=dry_run
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
        patcher = PATCHERS.get(content_type)
        if patcher is None:
            raise errors.ApiError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format - accepted media types "
                f"include: {', '.join(PATCHERS)}",
            )
        return await self.storage.patch(
            rt,
            namespace,
            name,
            lambda old: patcher(old, patch),
            subresource=subresource,
            dry_run=dry_run,
        )

    async def delete(
        self, gvr: GVR, namespace: str | None, name: str, options: Object, *, dry_run: bool
    ) -> Object:
        rt = self._resolve(gvr, namespace, name)
        checked = decoding.delete_options(MultiDict[str](), options)
        dry_run = dry_run or checked.get("dryRun") == ["All"]
        return await self.storage.delete(rt, namespace, name, checked, dry_run=dry_run)
