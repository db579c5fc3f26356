"""Helpers for the service proxy tests: a cluster with a running proxy, echo endpoints, slices.

``proxied_cluster`` is an in-process cluster (its own address slot, no controllers), which
runs its ``ServiceProxy`` and load-balancer allocator itself; on the way out it checks that
the proxy closed every listener. ``extra_proxy`` runs a second proxy with other options.
``Echo`` is a tiny TCP (and ``UdpEcho`` a UDP) server on a pod address that answers
``<name>:<what it got>``, so a test sees which endpoint served it. Services are selector-less
and their EndpointSlices are written by the test, as the EndpointSlice controller would.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import attrs
import pytest

from minikube_py.client import ENDPOINT_SLICES, SERVICES, Client
from minikube_py.cluster import RunningCluster, running_cluster
from minikube_py.config import ControllerSettings, NetworkPlan
from minikube_py.net.proxy import ServiceProxy
from tests.clusters import ephemeral_config
from tests.controllers.stepping import eventually

Object = dict[str, Any]


@contextlib.asynccontextmanager
async def proxied_cluster(
    tmp_path: Path, *, nodes: int = 1
) -> AsyncIterator[tuple[RunningCluster, ServiceProxy, Client]]:
    """A cluster without controllers, its own service proxy and a test client; on a clean
    exit, checks that the stopped proxy left nothing listening."""
    config = attrs.evolve(ephemeral_config(tmp_path, ControllerSettings(())), nodes=nodes)
    async with running_cluster(config) as running:
        proxy = running.networking.proxy
        client = running.api_server.client("test")
        try:
            await eventually(lambda: proxy.synced.is_set(), "the proxy's first sync")
            yield running, proxy, client
            opened = proxy.listening()
        finally:
            await client.close()
    assert proxy.listening() == {}
    for (protocol, _, _), (address, port) in opened.items():
        if protocol == "TCP":
            with pytest.raises(ConnectionRefusedError):
                await asyncio.open_connection(address, port)


@contextlib.asynccontextmanager
async def extra_proxy(running: RunningCluster, **options: Any) -> AsyncIterator[ServiceProxy]:
    """A second ``ServiceProxy`` on the cluster, with other options (it cannot have the
    listeners the cluster's own proxy holds: those it logs and retries)."""
    client = running.api_server.client("kube-proxy-2")
    proxy = ServiceProxy(
        client, running.network, node_addresses=[running.network.node_address(0)], **options
    )
    task = asyncio.create_task(proxy.run())
    try:
        await eventually(lambda: proxy.synced.is_set() or task.done(), "the first sync")
        if task.done():
            task.result()
        yield proxy
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.close()
    assert proxy.listening() == {}


def pod_address(network: NetworkPlan, node: int, host: int) -> str:
    """An address in node ``node``'s pod range that no pod takes in these tests (.200+)."""
    return str(ipaddress.ip_network(network.pod_cidr(node))[host])


class Echo:
    """A TCP server answering every chunk with ``<name>:<chunk>``; ``peers``: who came."""

    def __init__(self, name: str, address: str, port: int = 9376) -> None:
        self.name, self.address, self.port = name, address, port
        self.peers: list[str] = []
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> Echo:
        self.server = await asyncio.start_server(self._serve, self.address, self.port)
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.peers.append(writer.get_extra_info("peername")[0])
        self.writers.add(writer)
        try:
            while data := await reader.read(65536):
                writer.write(self.name.encode() + b":" + data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            self.writers.discard(writer)
            writer.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            for writer in list(self.writers):
                writer.close()
            await self.server.wait_closed()


class UdpEcho(asyncio.DatagramProtocol):
    def __init__(self, name: str) -> None:
        self.name = name
        self.transport: asyncio.DatagramTransport | None = None
        self.peers: list[str] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # 3.11's selector datagram transport does not subclass DatagramTransport
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.peers.append(addr[0])
        assert self.transport is not None
        self.transport.sendto(self.name.encode() + b":" + data, addr)


async def ask(address: str, port: int, *, source: str | None = None) -> str:
    """Connect, say ``hi``, return the name of the endpoint that answered."""
    async with asyncio.timeout(5):
        reader, writer = await asyncio.open_connection(
            address, port, local_addr=(source, 0) if source else None
        )
        try:
            writer.write(b"hi\n")
            line = await reader.readline()
        finally:
            writer.close()
    name, _, rest = line.decode().partition(":")
    if rest != "hi\n":
        raise ValueError(f"not an echo: {line!r}")
    return name


async def answer(address: str, port: int, *, source: str | None = None) -> str | None:
    """As ``ask``, but None when the connection is reset or closed without an answer."""
    try:
        return await ask(address, port, source=source)
    except (ConnectionResetError, ConnectionRefusedError, ValueError):
        return None


def endpoint(address: str, *, node: str = "", ready: bool = True, **conditions: bool) -> Object:
    made: Object = {"addresses": [address], "conditions": {"ready": ready, **conditions}}
    if node:
        made["nodeName"] = node
    return made


async def write_slice(
    client: Client,
    service: str,
    endpoints: list[Object],
    *,
    port: int = 9376,
    port_name: str = "",
    protocol: str = "TCP",
    name: str | None = None,
    namespace: str = "default",
) -> Object:
    """Create or replace the EndpointSlice ``name`` (``<service>-abc``) of ``service``."""
    body: Object = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": name or f"{service}-abc",
            "labels": {"kubernetes.io/service-name": service},
        },
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": [{"name": port_name, "port": port, "protocol": protocol}],
    }
    try:
        old = await client.get(ENDPOINT_SLICES, namespace, body["metadata"]["name"])
    except Exception:
        return await client.create(ENDPOINT_SLICES, namespace, body)
    body["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
    return await client.update(ENDPOINT_SLICES, namespace, body)


async def create_service(
    client: Client, name: str, *, port: int = 80, namespace: str = "default", **spec: Any
) -> Object:
    """A selector-less Service ``name`` with one port (its name ``""``, target 9376)."""
    ports = spec.pop("ports", [{"port": port, "targetPort": 9376, "protocol": "TCP"}])
    body = {"metadata": {"name": name}, "spec": {"ports": ports, **spec}}
    return await client.create(SERVICES, namespace, body)


async def listening(proxy: ServiceProxy, protocol: str, address: str, port: int) -> int:
    """Wait until the proxy listens for ``address:port``; the port it really bound."""
    key = (protocol, address, port)
    found = await eventually(lambda: proxy.listening().get(key), f"a listener on {key}")
    return int(found[1])
