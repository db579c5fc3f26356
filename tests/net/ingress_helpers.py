"""What the Ingress controller's tests share: a cluster with the controller running, backend
HTTP servers on pod addresses, and hand-made Services with their EndpointSlices.

The Services have no selector, so no EndpointSlice controller touches the slices the tests
write (as for any Service without a selector); each slice lists the backend servers' addresses
the way the EndpointSlice controller would list ready pods.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import attrs
from aiohttp import web

from minikube_py.client import Client
from minikube_py.client.protocol import ENDPOINT_SLICES, INGRESSES, SERVICES
from minikube_py.cluster import RunningCluster, running_cluster
from minikube_py.net.ingress import IngressController
from tests.clusters import API_CONTROLLERS, ephemeral_config

Object = dict[str, Any]


@attrs.define
class Setup:
    running: RunningCluster
    client: Client
    controller: IngressController
    address: str
    task: asyncio.Task[None]

    async def stop_controller(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task

    @property
    def http(self) -> str:
        return f"http://{self.address}:{self.controller.http_port}"

    def pod_address(self, index: int) -> str:
        """An address in the cluster's pod block no pod has (.200 + index of node 0's /24)."""
        network = ipaddress.ip_network(self.running.network.pod_cidr(0))
        return str(network[200 + index])


@contextlib.asynccontextmanager
async def ingress_cluster(tmp_path: Path) -> AsyncIterator[Setup]:
    async with running_cluster(ephemeral_config(tmp_path, API_CONTROLLERS)) as running:
        address = running.network.node_address(0)
        client = running.api_server.client("ingress-nginx")
        controller = IngressController(client, address=address, http_port=0, https_port=0)
        task = asyncio.create_task(controller.run())
        try:
            async with asyncio.timeout(10):
                await controller.wait_ready()
            yield Setup(running, running.api_server.client("test"), controller, address, task)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@attrs.define
class BackendServer:
    """An aiohttp app on a pod address: echoes requests, streams, and echoes WebSockets."""

    name: str
    address: str
    port: int = 0
    release: asyncio.Event = attrs.field(factory=asyncio.Event)
    runner: web.AppRunner | None = None

    async def start(self) -> BackendServer:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/stream", self._stream)
        app.router.add_get("/ws", self._websocket)
        app.router.add_route("*", "/{tail:.*}", self._echo)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.address, 0)
        await site.start()
        self.port = self.runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _echo(self, request: web.Request) -> web.Response:
        body = await request.read()
        return web.json_response(
            {
                "service": self.name,
                "target": request.path_qs,
                "method": request.method,
                "headers": dict(request.headers),
                "body": len(body),
            }
        )

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)  # no length: chunked
        await response.write(b"first\n")
        async with asyncio.timeout(10):
            await self.release.wait()
        await response.write(b"second\n")
        await response.write_eof()
        return response

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        async for message in socket:
            if message.type == aiohttp.WSMsgType.TEXT:
                await socket.send_str(f"{self.name}: {message.data}")
        return socket


@contextlib.asynccontextmanager
async def backends(setup: Setup, *names: str) -> AsyncIterator[list[BackendServer]]:
    servers = [BackendServer(name, setup.pod_address(i)) for i, name in enumerate(names)]
    try:
        for server in servers:
            await server.start()
        yield servers
    finally:
        for server in servers:
            await server.stop()


async def make_service(
    client: Client,
    name: str,
    endpoints: list[tuple[str, int, bool]],
    *,
    port: int = 80,
    port_name: str = "http",
    namespace: str = "default",
) -> None:
    """A selector-less Service with one named port, and its EndpointSlice listing
    ``(address, port, ready)`` endpoints."""
    await client.create(
        SERVICES,
        namespace,
        {
            "metadata": {"name": name},
            "spec": {"ports": [{"name": port_name, "port": port, "protocol": "TCP"}]},
        },
    )
    await set_endpoints(client, name, endpoints, port_name=port_name, namespace=namespace)


async def set_endpoints(
    client: Client,
    service: str,
    endpoints: list[tuple[str, int, bool]],
    *,
    port_name: str = "http",
    namespace: str = "default",
) -> None:
    """Replace the Service's hand-made EndpointSlices with one per distinct target port."""
    for old in (await client.list(ENDPOINT_SLICES, namespace)).get("items") or []:
        if old["metadata"].get("labels", {}).get("kubernetes.io/service-name") == service:
            await client.delete(ENDPOINT_SLICES, namespace, old["metadata"]["name"])
    for index, target in enumerate(sorted({port for _, port, _ in endpoints})):
        await client.create(
            ENDPOINT_SLICES,
            namespace,
            {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {
                    "name": f"{service}-{index}",
                    "labels": {"kubernetes.io/service-name": service},
                },
                "addressType": "IPv4",
                "ports": [{"name": port_name, "port": target, "protocol": "TCP"}],
                "endpoints": [
                    {"addresses": [address], "conditions": {"ready": ready}}
                    for address, port, ready in endpoints
                    if port == target
                ],
            },
        )


def path(path: str, service: str, *, kind: str = "Prefix", port: int | str = 80) -> Object:
    port_spec = {"number": port} if isinstance(port, int) else {"name": port}
    return {
        "path": path,
        "pathType": kind,
        "backend": {"service": {"name": service, "port": port_spec}},
    }


async def make_ingress(
    client: Client,
    name: str,
    rules: list[Object],
    *,
    namespace: str = "default",
    **spec: Any,
) -> Object:
    body: Object = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "annotations": spec.pop("annotations", {})},
        "spec": {"rules": rules, **spec},
    }
    return await client.create(INGRESSES, namespace, body)


async def get_json(
    session: aiohttp.ClientSession, url: str, host: str, **headers: str
) -> tuple[int, Any]:
    async with session.get(url, headers={"Host": host, **headers}) as response:
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()
