"""The proxy alone, against a raw HTTP backend: body framing, keep-alive on both sides,
interim responses and reused backend connections. No cluster: a routing table and endpoint
lookups made by hand."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any
from unittest.mock import ANY

import attrs
import pytest

from minikube_py.net.ingress_endpoints import EndpointPicker
from minikube_py.net.ingress_http import framing, read_head, relay_body
from minikube_py.net.ingress_proxy import IngressProxy
from minikube_py.net.ingress_rules import build_table

LOOPBACK = "127.0.0.1"


@attrs.define
class RawBackend:
    """Answers by path: /close (body ends at close), /chunked, /length, /continue."""

    port: int = 0
    connections: int = 0
    writers: list[asyncio.StreamWriter] = attrs.field(factory=list)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while (head := await read_head(reader)) is not None:
                target = head.first[1]
                if target == "/continue" and head.get("expect") == "100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                sink = _Collect()
                await relay_body(reader, sink, *framing(head))
                if target == "/close":
                    writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end")
                    await writer.drain()
                    break
                if target == "/chunked":
                    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                    writer.write(b"3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n")
                else:
                    body = f"{head.first[0]} {target} {len(sink.data)}".encode()
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))
                    if head.first[0] != "HEAD":
                        writer.write(body)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


class _Collect:
    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data

    async def drain(self) -> None:
        pass


@attrs.define
class Running:
    backend: RawBackend
    port: int

    async def exchange(self, raw: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection(LOOPBACK, self.port)
        writer.write(raw)
        return reader, writer


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    backend = RawBackend()
    backend_server = await asyncio.start_server(backend.serve, LOOPBACK, 0)
    backend.port = backend_server.sockets[0].getsockname()[1]
    service = {"spec": {"ports": [{"name": "http", "port": 80}]}}
    endpoint_slice = {
        "ports": [{"name": "http", "port": backend.port}],
        "endpoints": [{"addresses": [LOOPBACK], "conditions": {"ready": True}}],
    }
    picker = EndpointPicker(lambda ns, name: service, lambda ns, name: [endpoint_slice])
    proxy = IngressProxy(picker)
    proxy.table = build_table([_ingress()])
    tasks: set[asyncio.Task[Any]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        with contextlib.suppress(asyncio.CancelledError):  # asyncio logs a cancelled handler
            await proxy.handle(reader, writer, scheme="http")

    proxy_server = await asyncio.start_server(handle, LOOPBACK, 0)
    try:
        yield Running(backend, proxy_server.sockets[0].getsockname()[1])
    finally:
        for server in (proxy_server, backend_server):
            server.close()
        for task in tasks:
            task.cancel()
        for writer in backend.writers:
            writer.close()
        proxy.upstreams.close_idle()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)


def _ingress() -> dict[str, Any]:
    backend = {"service": {"name": "raw", "port": {"number": 80}}}
    return {
        "metadata": {"name": "raw", "namespace": "default"},
        "spec": {
            "rules": [{"host": "raw", "http": {"paths": [{"path": "/", "backend": backend}]}}]
        },
    }


async def response(reader: asyncio.StreamReader, method: str = "GET") -> tuple[str, Any, bytes]:
    async with asyncio.timeout(5):
        head = await read_head(reader)
        assert head is not None
        body = _Collect()
        kind, length = framing(head, response_to=method)
        await relay_body(reader, body, kind, length, dechunk=True)
    return head.first[1], head, body.data


async def test_a_body_ending_at_close_is_rechunked_and_the_client_kept(running: Running) -> None:
    reader, writer = await running.exchange(b"GET /close HTTP/1.1\r\nHost: raw\r\n\r\n")
    status, head, body = await response(reader)
    assert (status, head.get("transfer-encoding"), body) == ("200", "chunked", b"until the end")
    writer.write(b"GET /length HTTP/1.1\r\nHost: raw\r\n\r\n")  # the same client connection
    assert (await response(reader))[2] == b"GET /length 0"
    writer.close()


async def test_http10_client_gets_a_chunked_body_unchunked(running: Running) -> None:
    reader, writer = await running.exchange(b"GET /chunked HTTP/1.0\r\nHost: raw\r\n\r\n")
    async with asyncio.timeout(5):
        answer = await reader.read()  # an HTTP/1.0 client reads to the close
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"chunked" not in head.lower() and b"Connection: close" in head
    assert body == b"abcdef"
    writer.close()


async def test_backend_connections_are_reused_and_a_closed_one_replaced(
    running: Running,
) -> None:
    reader, writer = await running.exchange(b"")
    for _ in range(3):
        writer.write(b"GET /length HTTP/1.1\r\nHost: raw\r\n\r\n")
        assert (await response(reader))[0] == "200"
    assert running.backend.connections == 1
    for backend_writer in running.backend.writers:  # the pod drops its idle connections
        backend_writer.close()
    writer.write(b"HEAD /length HTTP/1.1\r\nHost: raw\r\n\r\n")
    status, head, body = await response(reader, "HEAD")
    assert (status, body, head.get("content-length")) == ("200", b"", str(len(b"HEAD /length 0")))
    assert running.backend.connections == 2
    writer.close()


async def test_expect_continue_and_pipelined_requests(running: Running) -> None:
    reader, writer = await running.exchange(
        b"POST /continue HTTP/1.1\r\nHost: raw\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"
    )
    async with asyncio.timeout(5):
        interim = await read_head(reader)
    assert interim is not None and interim.first[1] == "100"
    writer.write(b"hello")
    assert (await response(reader))[2] == b"POST /continue 5"
    writer.write(b"GET /a HTTP/1.1\r\nHost: raw\r\n\r\n")
    writer.write(b"GET /b HTTP/1.1\r\nHost: raw\r\nConnection: close\r\n\r\n")
    assert (await response(reader))[2] == b"GET /a 0"
    _, head, body = await response(reader)
    assert body == b"GET /b 0" and head.get("connection") == "close"
    async with asyncio.timeout(5):
        assert await reader.read() == b""  # closed as asked
    writer.close()


async def test_an_absolute_target_names_the_host(running: Running) -> None:
    reader, writer = await running.exchange(
        b"GET http://raw/length?q=1 HTTP/1.1\r\nHost: elsewhere\r\n\r\n"
    )
    assert await response(reader) == ("200", ANY, b"GET /length?q=1 0")
    writer.write(b"GET /length HTTP/1.1\r\nHost: elsewhere\r\n\r\n")
    assert (await response(reader))[0] == "404"
    writer.close()
