"""The HTTP client: the Kubernetes REST API over HTTPS, for components in other processes.

A node agent in its own process, a test driving a cluster from outside, or any script calls
the API server the way ``kubectl`` does: ``GET /apis/apps/v1/namespaces/default/deployments``
with JSON bodies, authenticated by a client certificate (mutual TLS) or a bearer token. One
``aiohttp`` session keeps connections alive between requests. An error response is a
``Status`` body; it is raised as the same ``ApiError`` the in-process client raises. A watch
is a long ``GET ...?watch=true`` answered with a stream of JSON lines. ``httpwire`` holds
those translations (errors, query parameters, the watch stream); this module is the client.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import ssl
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import aiohttp

from minikube_py.client import httpwire
from minikube_py.client.kubeconfig import load_kubeconfig
from minikube_py.client.protocol import (
    GVR,
    NAMESPACES,
    PATCH_CONTENT_TYPES,
    Object,
    PatchType,
    delete_options,
    name_of,
)


class HttpClient:
    """A ``Client`` for an API server at ``base_url`` (``https://127.49.0.2:8443``)."""

    def __init__(
        self,
        base_url: str,
        *,
        ssl_context: ssl.SSLContext | None = None,
        ca: Path | str | None = None,
        cert: Path | str | None = None,
        key: Path | str | None = None,
        token: str | None = None,
        namespace: str = "default",
        request_timeout: float = 60.0,
        tls_server_name: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.namespace = namespace  # the kubeconfig context's namespace, for callers' defaults
        if ssl_context is None and self.base_url.startswith("https:"):
            ssl_context = ssl.create_default_context(cafile=str(ca) if ca else None)
            if cert is not None:
                ssl_context.load_cert_chain(cert, key)
        self._ssl = ssl_context
        self._headers = {"Accept": "application/json", "User-Agent": "minikube-py/client"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._server_hostname = tls_server_name
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_kubeconfig(
        cls, path: Path | str | None = None, context: str | None = None
    ) -> HttpClient:
        """A client for a kubeconfig's context (default: ``$KUBECONFIG``, current context)."""
        connection = load_kubeconfig(path, context)
        return cls(
            connection.server,
            ssl_context=connection.ssl_context,
            token=connection.token,
            namespace=connection.namespace,
            tls_server_name=connection.tls_server_name,
        )

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # limit=0: every informer holds a watch connection open; none may starve the rest
            connector = aiohttp.TCPConnector(
                ssl=self._ssl if self._ssl is not None else True, limit=0
            )
            self._session = aiohttp.ClientSession(connector=connector, headers=self._headers)
        return self._session

    def session(self) -> aiohttp.ClientSession:
        """The keep-alive session, for streams the verbs do not cover (logs, exec, port-forward);
        its requests carry the authentication headers. Pass ``request_options()`` to each."""
        return self._client()

    def request_options(self) -> dict[str, Any]:
        """The per-request options every call to this server needs (timeout, TLS name)."""
        return {"timeout": self._timeout, "server_hostname": self._server_hostname}

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        accept: str | None = None,
    ) -> bytes:
        """Any request to the server, answered with the response body; errors as ``ApiError``.
        ``accept`` asks for another representation (a ``Table``, plain text)."""
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": content_type} if data is not None else {}
        if accept is not None:
            headers["Accept"] = accept
        async with self._client().request(
            method,
            self.base_url + path,
            params=params,
            data=data,
            headers=headers or None,
            **self.request_options(),
        ) as response:
            raw = await response.read()
            if response.status >= 400:
                raise httpwire.error(response.status, raw)
            return raw

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> Object:
        raw = await self.request(method, path, params=params, body=body, content_type=content_type)
        result: Object = json.loads(raw)
        return result

    async def get(self, gvr: GVR, namespace: str | None, name: str) -> Object:
        return await self._request("GET", gvr.path(namespace, name))

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
        params = httpwire.query(
            labelSelector=label_selector,
            fieldSelector=field_selector,
            limit=limit,
            resourceVersion=resource_version,
            **{"continue": continue_token},
        )
        return await self._request("GET", gvr.path(namespace), params=params)

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
        params = httpwire.query(
            watch=True,
            resourceVersion=resource_version,
            labelSelector=label_selector,
            fieldSelector=field_selector,
        )
        if timeout_seconds is not None:
            params["timeoutSeconds"] = str(timeout_seconds)
        # No read timeout: a watch on a quiet collection may carry nothing for a long time.
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._timeout.total)
        async with self._client().get(
            self.base_url + gvr.path(namespace),
            params=params,
            timeout=timeout,
            server_hostname=self._server_hostname,
        ) as response:
            if response.status >= 400:
                raise httpwire.error(response.status, await response.read())
            async with contextlib.aclosing(httpwire.watch_events(response)) as events:
                async for event in events:
                    yield event

    async def create(
        self,
        gvr: GVR,
        namespace: str | None,
        obj: Object,
        *,
        dry_run: bool = False,
        subresource: str | None = None,
    ) -> Object:
        params = httpwire.query(dryRun="All" if dry_run else "")
        if subresource is None:
            path = gvr.path(namespace)
        else:
            path = gvr.path(namespace, name_of(obj), subresource)
        return await self._request("POST", path, params=params, body=obj)

    async def update(
        self, gvr: GVR, namespace: str | None, obj: Object, *, dry_run: bool = False
    ) -> Object:
        path = gvr.path(namespace, name_of(obj))
        params = httpwire.query(dryRun="All" if dry_run else "")
        return await self._request("PUT", path, params=params, body=obj)

    async def update_status(
        self, gvr: GVR, namespace: str | None, obj: Object, *, dry_run: bool = False
    ) -> Object:
        path = gvr.path(namespace, name_of(obj), "status")
        params = httpwire.query(dryRun="All" if dry_run else "")
        return await self._request("PUT", path, params=params, body=obj)

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
        return await self._request(
            "PATCH",
            gvr.path(namespace, name, subresource),
            params=httpwire.query(dryRun="All" if dry_run else ""),
            body=patch,
            content_type=PATCH_CONTENT_TYPES[patch_type],
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
        if dry_run:
            options["dryRun"] = ["All"]
        return await self._request("DELETE", gvr.path(namespace, name), body=options)

    async def finalize_namespace(self, namespace: Object) -> Object:
        path = NAMESPACES.path(None, name_of(namespace), "finalize")
        return await self._request("PUT", path, body=namespace)

    async def server_preferred_resources(self) -> builtins.list[Object]:
        """``/api/v1``, then each group's preferred version named by ``/apis``."""
        versions = (await self._request("GET", "/api")).get("versions") or []
        lists = [await self._request("GET", f"/api/{version}") for version in versions[:1]]
        for group in (await self._request("GET", "/apis")).get("groups") or []:
            preferred = (group.get("preferredVersion") or {}).get("groupVersion")
            if preferred:
                lists.append(await self._request("GET", f"/apis/{preferred}"))
        return lists

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
