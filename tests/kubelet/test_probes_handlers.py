"""One probe attempt against real loopback servers: httpGet, tcpSocket, and their messages."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest

from minikube_py.kubelet.probing import resolve_port, run_probe
from minikube_py.runtime.protocol import ContainerRuntime

HOST = "127.0.0.1"
NO_RUNTIME = cast(ContainerRuntime, None)  # http and tcp probes never touch the runtime


class Server:
    def __init__(self) -> None:
        self.port = 0
        self.requests: list[list[str]] = []


async def handle(
    server: Server, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        head = (await reader.readuntil(b"\r\n\r\n")).decode().split("\r\n")
    except asyncio.IncompleteReadError:  # a tcpSocket probe: connects, sends nothing
        writer.close()
        return
    server.requests.append(head)
    path = head[0].split(" ")[1]
    answers = {
        "/ok": ("200 OK", "", "fine"),
        "/fail": ("500 Internal Server Error", "", "broken"),
        "/here": ("302 Found", "Location: /ok\r\n", ""),
        "/away": ("302 Found", "Location: http://127.0.0.2:1/\r\n", "moved"),
        "/loop": ("302 Found", "Location: /loop\r\n", ""),
        "/slow": ("", "", ""),
    }
    status, extra, body = answers.get(path, ("404 Not Found", "", ""))
    if not status:
        await asyncio.sleep(5)
    writer.write(f"HTTP/1.1 {status}\r\n{extra}Content-Length: {len(body)}\r\n\r\n{body}".encode())
    await writer.drain()
    writer.close()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server()
    listener = await asyncio.start_server(lambda r, w: handle(state, r, w), HOST, 0)
    state.port = listener.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        listener.close()
        await listener.wait_closed()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


async def probe(spec: dict[str, Any], container: dict[str, Any] | None = None) -> tuple[str, str]:
    return await run_probe(NO_RUNTIME, spec, container or {"name": "app"}, "c1", HOST)


def http(path: str, port: object, **extra: Any) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": port, **extra}}


async def test_http_success_and_status_failure(server: Server) -> None:
    assert await probe(http("/ok", server.port)) == ("success", "fine")
    assert await probe(http("/fail", server.port)) == (
        "failure",
        "HTTP probe failed with statuscode: 500",
    )
    request = server.requests[0]
    assert request[0] == "GET /ok HTTP/1.1"
    assert f"Host: {HOST}:{server.port}" in request
    assert "User-Agent: kube-probe/1.32" in request and "Accept: */*" in request


async def test_http_headers_and_host_override(server: Server) -> None:
    headers = [{"name": "Host", "value": "example.test"}, {"name": "X-Probe", "value": "1"}]
    assert (await probe(http("/ok", server.port, httpHeaders=headers)))[0] == "success"
    assert "Host: example.test" in server.requests[0] and "X-Probe: 1" in server.requests[0]


async def test_http_redirects_same_host_followed_other_host_warns(server: Server) -> None:
    assert await probe(http("/here", server.port)) == ("success", "fine")
    assert await probe(http("/away", server.port)) == (
        "warning",
        "Probe terminated redirects, Response body: moved",
    )
    outcome, message = await probe(http("/loop", server.port))
    assert outcome == "failure"
    assert message == f'Get "http://{HOST}:{server.port}/loop": stopped after 10 redirects'


async def test_http_connection_refused_reads_like_go() -> None:
    port = closed_port()
    assert await probe(http("/healthz", port)) == (
        "failure",
        f'Get "http://{HOST}:{port}/healthz": dial tcp {HOST}:{port}: connect: connection refused',
    )


async def test_http_timeout(server: Server) -> None:
    outcome, message = await probe({**http("/slow", server.port), "timeoutSeconds": 1})
    assert outcome == "failure"
    assert message == (
        f'Get "http://{HOST}:{server.port}/slow": context deadline exceeded'
        " (Client.Timeout exceeded while awaiting headers)"
    )


async def test_named_port_resolves_from_container_ports(server: Server) -> None:
    container = {"name": "app", "ports": [{"name": "http", "containerPort": server.port}]}
    assert await probe(http("/ok", "http"), container) == ("success", "fine")
    assert await probe(http("/ok", "nope"), container) == (
        "unknown",
        'strconv.Atoi: parsing "nope": invalid syntax',
    )
    with pytest.raises(ValueError, match="invalid port number: 70000"):
        resolve_port(70000, container)


async def test_tcp_socket(server: Server) -> None:
    assert await probe({"tcpSocket": {"port": server.port}}) == ("success", "")
    port = closed_port()
    assert await probe({"tcpSocket": {"port": port}}) == (
        "failure",
        f"dial tcp {HOST}:{port}: connect: connection refused",
    )


async def test_grpc_is_reported_unsupported() -> None:
    outcome, message = await probe({"grpc": {"port": 9000}})
    assert outcome == "unknown" and "gRPC" in message


async def test_https_probe_skips_certificate_verification(tmp_path: Path) -> None:
    from minikube_py.apiserver.pki import ensure_pki

    pki = ensure_pki(tmp_path / "pki", addresses=[HOST])  # signed by a CA the prober never saw
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki.server_cert, pki.server_key)
    state = Server()
    listener = await asyncio.start_server(lambda r, w: handle(state, r, w), HOST, 0, ssl=context)
    try:
        port = listener.sockets[0].getsockname()[1]
        assert await probe(http("/ok", port, scheme="HTTPS")) == ("success", "fine")
        assert await probe(http("/fail", port, scheme="HTTPS")) == (
            "failure",
            "HTTP probe failed with statuscode: 500",
        )
    finally:
        listener.close()
        await listener.wait_closed()
