"""The in-process client: the API, called as functions, by components in the server's process.

Controllers, the scheduler and the kubelets of an embedded cluster share a process (and an
asyncio loop) with the API server. Sending them through HTTPS would cost a TLS handshake, a
request parse and two JSON round trips per call for nothing. ``InProcessClient`` instead calls
a ``Backend`` — the API server's own storage and watch cache behind a small adapter — so a
write still goes through the same admission, validation and store code as an HTTP request,
and a watch is served by the same watch cache, without the sockets.

What it keeps from the wire is isolation: a request body is copied (through JSON, as it would
be serialised) before the server sees it, so the server's defaulting never mutates the
caller's dict and a value that could not be sent over HTTP fails here too. Results are fresh
dicts decoded from the store, owned by the caller.
"""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import AsyncGenerator
from typing import Any

import orjson

from minikube_py.client.backend import Backend
from minikube_py.client.protocol import (
    GVR,
    NAMESPACES,
    PATCH_CONTENT_TYPES,
    Object,
    PatchType,
    delete_options,
    name_of,
    raise_watch_error,
)


def _wire_copy(value: Any) -> Any:
    """``value`` as the server would receive it over HTTP: serialised and parsed again
    (non-string keys become strings, as ``json.dumps`` makes them)."""
    return orjson.loads(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS))


class InProcessClient:
    """A ``Client`` over a ``Backend`` in the same process."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    async def get(self, gvr: GVR, namespace: str | None, name: str) -> Object:
        return await self._backend.get(gvr, namespace, name)

    async def list(
        self,
        gvr: GVR,
        namespace: str | None = None,
        *,
        label_selector: str = "",
        field_selector: str = "",
        limit: int = 0,
        continue_token: str | None = None,
        resource_version: str = "",
    ) -> Object:
        return await self._backend.list(
            gvr,
            namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            limit=limit,
            continue_token=continue_token,
            resource_version=resource_version,
        )

    async def watch(
        self,
        gvr: GVR,
        namespace: str | None = None,
        *,
        resource_version: str = "",
        label_selector: str = "",
        field_selector: str = "",
        timeout_seconds: int | None = None,
    ) -> AsyncGenerator[tuple[str, Object], None]:
        events = self._backend.watch(
            gvr,
            namespace,
            resource_version=resource_version,
            label_selector=label_selector,
            field_selector=field_selector,
            timeout_seconds=timeout_seconds,
        )
        # aclosing: whoever stops iterating early (break, cancellation) frees the subscription
        async with contextlib.aclosing(events):
            async for event_type, obj in events:
                if event_type == "ERROR":
                    raise_watch_error(obj)
                yield event_type, obj

    async def create(
        self,
        gvr: GVR,
        namespace: str | None,
        obj: Object,
        *,
        dry_run: bool = False,
        subresource: str | None = None,
    ) -> Object:
        name = None if subresource is None else name_of(obj)
        return await self._backend.create(
            gvr, namespace, _wire_copy(obj), name=name, subresource=subresource, dry_run=dry_run
        )

    async def update(
        self, gvr: GVR, namespace: str | None, obj: Object, *, dry_run: bool = False
    ) -> Object:
        return await self._backend.update(
            gvr, namespace, name_of(obj), _wire_copy(obj), subresource=None, dry_run=dry_run
        )

    async def update_status(
        self, gvr: GVR, namespace: str | None, obj: Object, *, dry_run: bool = False
    ) -> Object:
        return await self._backend.update(
            gvr, namespace, name_of(obj), _wire_copy(obj), subresource="status", dry_run=dry_run
        )

    async def patch(
        self,
        gvr: GVR,
        namespace: str | None,
        name: str,
        patch: Any,
        *,
        patch_type: PatchType = "merge",
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> Object:
        return await self._backend.patch(
            gvr,
            namespace,
            name,
            _wire_copy(patch),
            content_type=PATCH_CONTENT_TYPES[patch_type],
            subresource=subresource,
            dry_run=dry_run,
        )

    async def delete(
        self,
        gvr: GVR,
        namespace: str | None,
        name: str,
        *,
        propagation_policy: str | None = None,
        grace_period_seconds: int | None = None,
        preconditions: dict[str, str] | None = None,
        dry_run: bool = False,
    ) -> Object:
        options = delete_options(propagation_policy, grace_period_seconds, preconditions)
        return await self._backend.delete(gvr, namespace, name, options, dry_run=dry_run)

    async def finalize_namespace(self, namespace: Object) -> Object:
        return await self._backend.update(
            NAMESPACES,
            None,
            name_of(namespace),
            _wire_copy(namespace),
            subresource="finalize",
            dry_run=False,
        )

    async def server_preferred_resources(self) -> builtins.list[Object]:
        return await self._backend.server_preferred_resources()

    async def close(self) -> None:
        """Nothing to release: the backend belongs to the API server."""
