"""Host ports: the node's address relays to the pod's, TCP only, all or none, closed with the
pod. Everything listens on loopback addresses."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from minikube_py.kubelet.hostports import HostPortError, HostPorts, Mapping, mappings

NODE = "127.0.0.1"
POD = "127.0.0.2"


def free_port(address: str) -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def echo() -> AsyncIterator[int]:
    """A pod's server on POD: answers each line upper-cased until the client half-closes."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            writer.write(line.upper())
            await writer.drain()
        writer.write(b"bye\n")
        writer.close()

    server = await asyncio.start_server(serve, POD, 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()


@pytest.fixture
async def ports() -> AsyncIterator[HostPorts]:
    opened = HostPorts(NODE)
    try:
        yield opened
    finally:
        await opened.close_all()


def test_mappings_come_from_every_container_but_not_for_host_network() -> None:
    pod = {
        "spec": {
            "initContainers": [
                {"ports": [{"containerPort": 53, "hostPort": 5353, "protocol": "UDP"}]}
            ],
            "containers": [
                {"ports": [{"containerPort": 80, "hostPort": 8080}, {"containerPort": 81}]}
            ],
        }
    }
    assert mappings(pod) == [Mapping(5353, 53, "UDP"), Mapping(8080, 80, "TCP")]
    assert mappings({"spec": {**pod["spec"], "hostNetwork": True}}) == []


async def test_a_connection_to_the_host_port_reaches_the_pod(ports: HostPorts, echo: int) -> None:
    host_port = free_port(NODE)
    await ports.open("uid-1", POD, [Mapping(host_port, echo)])
    reader, writer = await asyncio.open_connection(NODE, host_port)
    writer.write(b"hello\n")
    assert await reader.readline() == b"HELLO\n"
    writer.write_eof()  # the half-close travels to the pod, whose answer still comes back
    assert await reader.read() == b"bye\n"
    writer.close()


async def test_closing_ends_the_listener_and_open_connections(ports: HostPorts, echo: int) -> None:
    host_port = free_port(NODE)
    await ports.open("uid-1", POD, [Mapping(host_port, echo)])
    reader, writer = await asyncio.open_connection(NODE, host_port)
    writer.write(b"x\n")
    assert await reader.readline() == b"X\n"
    await ports.close("uid-1")
    assert await asyncio.wait_for(reader.read(), 5) == b""  # relayed connection closed
    writer.close()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection(NODE, host_port)


async def test_nothing_listening_in_the_pod_closes_the_client(ports: HostPorts) -> None:
    host_port = free_port(NODE)
    await ports.open("uid-1", POD, [Mapping(host_port, free_port(POD))])
    reader, writer = await asyncio.open_connection(NODE, host_port)
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()


async def test_a_taken_port_fails_all_of_the_pod_s_ports(ports: HostPorts, echo: int) -> None:
    first, taken = free_port(NODE), socket.socket()
    taken.bind((NODE, 0))
    taken.listen()
    try:
        busy = int(taken.getsockname()[1])
        with pytest.raises(HostPortError, match=f"cannot open hostPort {busy} on {NODE}"):
            await ports.open("uid-1", POD, [Mapping(first, echo), Mapping(busy, echo)])
        with pytest.raises(ConnectionRefusedError):  # the first one was closed again
            await asyncio.open_connection(NODE, first)
    finally:
        taken.close()


async def test_udp_host_ports_are_refused_by_name(ports: HostPorts) -> None:
    with pytest.raises(HostPortError, match="hostPort 5353/UDP: only TCP"):
        await ports.open("uid-1", POD, [Mapping(5353, 53, "UDP")])
