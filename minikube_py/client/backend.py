"""The ``Backend`` seam: what the in-process client needs from an API server in its process.

The layers only import downward (DESIGN.md): the API server may use the client package, never
the reverse. So the in-process client does not know the API server's ``Storage`` or
``WatchCache``; it knows this protocol, and the API server hands it an object that satisfies
it (``minikube_py.apiserver.local.LocalBackend``). A backend runs what an HTTP request would
run — resolving the resource, admission, validation, the store write — with the request's
parameters as arguments instead of a URL and a body.

Its watch yields exactly the events a watch stream carries, ``ERROR`` events included; turning
an ``ERROR`` into an exception is the client's job, as it is for the HTTP client.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator
from typing import Any, Protocol

from minikube_py.client.protocol import GVR, Object


class Backend(Protocol):
    """The API server's verbs, in-process. Arguments follow the URL and query of a request."""

    async def get(self, gvr: GVR, namespace: str | None, name: str) -> Object: ...

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
    ) -> Object: ...

    def watch(
        self,
        gvr: GVR,
        namespace: str | None,
        *,
        resource_version: str,
        label_selector: str,
        field_selector: str,
        timeout_seconds: int | None,
    ) -> AsyncGenerator[tuple[str, Object], None]:
        """The events of a watch stream, as ``(type, object)``; an ERROR's object is a Status."""
        ...

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
        """POST to the collection, or (``name`` and ``subresource``) to an object's subresource."""
        ...

    async def update(
        self,
        gvr: GVR,
        namespace: str | None,
        name: str,
        body: Object,
        *,
        subresource: str | None,
        dry_run: bool,
    ) -> Object: ...

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
        """``content_type`` is the patch's media type, as in the HTTP request."""
        ...

    async def delete(
        self, gvr: GVR, namespace: str | None, name: str, options: Object, *, dry_run: bool
    ) -> Object:
        """``options`` is a ``DeleteOptions`` body."""
        ...

    async def server_preferred_resources(self) -> builtins.list[Object]:
        """The ``APIResourceList`` of each group's preferred version, as discovery serves it."""
        ...
