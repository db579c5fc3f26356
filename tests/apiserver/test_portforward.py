"""pods/portforward against a real API server whose kubelet is a fake that dials a local echo
server: the real kubectl through the SPDY-in-WebSocket tunnel and through the plain SPDY
upgrade, the Python client's WebSocket channels, and a hand-made SPDY client for the edges
(errors on the error stream, pings, refused streams)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest

from minikube_py.apiserver import spdy
from minikube_py.apiserver.pki import client_ssl_context
from minikube_py.kubelet.streams import dial
from minikube_py.runtime.protocol import ContainerError
from tests.apiserver.fakestreams import FakeNodeStreams, Served, serving

SECONDS = 30.0
ECHO_PORT, CLOSED_PORT, MIRROR_PORT = 5678, 5679, 5680  # the pod's ports, as clients name them


class PortStreams(FakeNodeStreams):
    """A kubelet whose pods have one open port: ``ECHO_PORT`` reaches ``echo_address``."""

    echo_address: tuple[str, int] = ("127.0.0.1", 0)
    mirror_address: tuple[str, int] = ("127.0.0.1", 0)
    closed_address: tuple[str, int] = ("127.0.0.1", 0)
    dialled: list[tuple[str, str, int]]

    async def port_forward(
        self, namespace: str, pod: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        self.dialled.append((namespace, pod, port))
        if port == ECHO_PORT:
            return await asyncio.open_connection(*self.echo_address)
        if port == MIRROR_PORT:
            return await asyncio.open_connection(*self.mirror_address)
        if port == CLOSED_PORT:
            return await dial(*self.closed_address, seconds=5)
        raise ContainerError("Unavailable", f"dial tcp4 127.0.0.1:{port}: connect: refused")


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The pod's server: one line in, ``pong:`` and the line back, then it hangs up."""
    try:
        line = await reader.readline()
        writer.write(b"pong:" + line)
        await writer.drain()
    finally:
        writer.close()


async def _mirror(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The pod's other server: everything back until the client is done, then it hangs up."""
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    finally:
        writer.close()


def _closed_port() -> int:
    with socket.socket() as probe:  # bound then released: nobody listens there now
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def streams() -> AsyncIterator[PortStreams]:
    server = await asyncio.start_server(_answer, "127.0.0.1", 0)
    mirror = await asyncio.start_server(_mirror, "127.0.0.1", 0)
    fake = PortStreams()
    fake.dialled = []
    fake.echo_address = ("127.0.0.1", server.sockets[0].getsockname()[1])
    fake.mirror_address = ("127.0.0.1", mirror.sockets[0].getsockname()[1])
    fake.closed_address = ("127.0.0.1", _closed_port())
    try:
        yield fake
    finally:
        for listening in (server, mirror):
            listening.close()
            await listening.wait_closed()


@pytest.fixture
async def served(tmp_path: Path, streams: PortStreams) -> AsyncIterator[Served]:
    async with serving(tmp_path / "server", streams) as served:
        await served.create_pod("web", "web")
        await served.create_pod("waiting", "web", phase="Pending")
        yield served


async def _through(port: int, line: bytes = b"hi\n") -> bytes:
    """One connection to a forwarded local port: a line out, everything back until EOF."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(line)
        await writer.drain()
        return await reader.read()
    finally:
        writer.close()


def _kubectl() -> str:
    binary = shutil.which("kubectl")
    if binary is None:
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail("kubectl is not on PATH (CI=true: failing instead of skipping)")
        pytest.skip("kubectl is not on PATH")
    return binary


@contextlib.asynccontextmanager
async def _port_forward(
    served: Served, tmp_path: Path, *args: str, websockets: bool = True
) -> AsyncIterator[tuple[int, asyncio.subprocess.Process]]:
    """``kubectl port-forward ARGS`` running, with the local port it reports."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBECTL_")}
    env.update(HOME=str(home), KUBECONFIG=str(served.kubeconfig), NO_PROXY="*")
    if not websockets:  # kubectl's switch back to the plain SPDY upgrade
        env["KUBECTL_PORT_FORWARD_WEBSOCKETS"] = "false"
    process = await asyncio.create_subprocess_exec(
        _kubectl(),
        f"--cache-dir={tmp_path / 'cache'}",
        "port-forward",
        "--address=127.0.0.1",
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(SECONDS):
            line = (await process.stdout.readline()).decode()
        assert line.startswith("Forwarding from 127.0.0.1:"), line
        yield int(line.split()[2].rsplit(":", 1)[1]), process
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
        async with asyncio.timeout(SECONDS):
            await process.wait()


@pytest.mark.parametrize("websockets", [True, False], ids=["tunnel", "spdy-upgrade"])
async def test_kubectl_port_forward(
    served: Served, streams: PortStreams, tmp_path: Path, websockets: bool
) -> None:
    async with _port_forward(
        served, tmp_path, "pod/web", f":{ECHO_PORT}", websockets=websockets
    ) as (
        port,
        _,
    ):
        # several connections over the one session, one after another and at once
        assert await _through(port) == b"pong:hi\n"
        answers = await asyncio.gather(*(_through(port, b"n%d\n" % i) for i in range(5)))
        assert answers == [b"pong:n%d\n" % i for i in range(5)]
    assert streams.dialled == [("default", "web", ECHO_PORT)] * 6


@pytest.mark.parametrize("websockets", [True, False], ids=["tunnel", "spdy-upgrade"])
async def test_kubectl_port_forward_carries_megabytes_and_half_closes(
    served: Served, tmp_path: Path, websockets: bool
) -> None:
    payload = bytes(range(256)) * 8192  # 2 MiB, far past any window or message size
    args = ("pod/web", f":{MIRROR_PORT}")
    async with _port_forward(served, tmp_path, *args, websockets=websockets) as (port, _):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:

            async def upload() -> None:
                writer.write(payload)
                await writer.drain()
                writer.write_eof()  # our half ends; the pod's answer must still come back

            async with asyncio.timeout(SECONDS):
                _, echoed = await asyncio.gather(upload(), reader.read())
        finally:
            writer.close()
    assert echoed == payload


async def test_kubectl_prints_the_error_of_a_port_nobody_listens_on(
    served: Served, streams: PortStreams, tmp_path: Path
) -> None:
    async with _port_forward(served, tmp_path, "pod/web", f":{CLOSED_PORT}") as (port, process):
        assert await _through(port) == b""
        assert process.stderr is not None
        async with asyncio.timeout(SECONDS):
            # kubectl 1.32 prints the error stream's text, then ends the whole session
            err = (await process.stderr.read()).decode()
            assert await process.wait() == 1
    closed = streams.closed_address[1]
    assert (
        f"an error occurred forwarding {port} -> {CLOSED_PORT}: error forwarding port "
        f"{CLOSED_PORT} to pod web, uid " in err
    )
    assert f": dial tcp4 127.0.0.1:{closed}: connect: connection refused" in err
    assert err.rstrip().endswith("error: lost connection to pod")


async def test_kubectl_refuses_a_pod_not_running(served: Served, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    process = await asyncio.create_subprocess_exec(
        _kubectl(),
        "port-forward",
        "pod/waiting",
        f":{ECHO_PORT}",
        env={**os.environ, "HOME": str(home), "KUBECONFIG": str(served.kubeconfig)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(SECONDS):
        _, err = await process.communicate()
    assert process.returncode == 1
    expected = "unable to forward port because pod is not running. Current status=Pending"
    assert expected in err.decode()


# ------------------------------------------------------------- the server's own refusals


def _session(served: Served) -> aiohttp.ClientSession:
    context = client_ssl_context(served.pki)
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context))


async def test_the_server_refuses_a_pod_not_running_and_plain_requests(served: Served) -> None:
    async with _session(served) as session:
        url = f"{served.url}/api/v1/namespaces/default/pods/waiting/portforward"
        async with session.post(url) as response:
            assert response.status == 400
            body: dict[str, Any] = await response.json()
        assert body["message"] == (
            "unable to forward port because pod is not running. Current status=Pending"
        )
        async with session.post(url.replace("waiting", "web")) as response:
            assert response.status == 400
            assert "Upgrade request required" in (await response.json())["message"]


# ------------------------------------------------------------------ the Python client


def _python_client_forward(served: Served) -> tuple[bytes, str | None, str | None]:
    from kubernetes import client, config
    from kubernetes.stream import portforward

    api_client = config.new_client_from_config(config_file=str(served.kubeconfig))
    try:
        core = client.CoreV1Api(api_client)
        forward = portforward(
            core.connect_get_namespaced_pod_portforward,
            "web",
            "default",
            ports=f"{ECHO_PORT},{CLOSED_PORT}",
        )
        try:
            sock = forward.socket(ECHO_PORT)
            sock.settimeout(SECONDS)
            sock.sendall(b"from python\n")
            answer = b""
            while chunk := sock.recv(1024):  # the pod hangs up after its answer
                answer += chunk
            sock.close()
            closed = forward.socket(CLOSED_PORT)
            closed.settimeout(SECONDS)
            assert closed.recv(1024) == b""  # its error closes the port's socket
            return answer, forward.error(ECHO_PORT), forward.error(CLOSED_PORT)
        finally:
            forward.close()
    finally:
        api_client.close()


async def test_python_client_port_forward(served: Served, streams: PortStreams) -> None:
    answer, no_error, error = await asyncio.to_thread(_python_client_forward, served)
    assert answer == b"pong:from python\n"
    assert no_error is None
    assert error is not None
    assert error.startswith(f"error forwarding port {CLOSED_PORT} to pod web, uid ")
    assert error.endswith("connect: connection refused")


# ------------------------------------------------------- a hand-made SPDY tunnel client


class Tunnel:
    """A SPDY client over the WebSocket tunnel, frame by frame."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws, self.codec = ws, spdy.Codec()
        self.pending: list[spdy.Frame] = []

    async def send(self, *frames: spdy.Frame) -> None:
        await self.ws.send_bytes(spdy.encode_all(self.codec, frames))

    async def next(self) -> spdy.Frame:
        async with asyncio.timeout(SECONDS):
            while not self.pending:
                message = await self.ws.receive()
                assert message.type == aiohttp.WSMsgType.BINARY, message
                self.pending += self.codec.feed(message.data)
        return self.pending.pop(0)


@contextlib.asynccontextmanager
async def _tunnel(served: Served) -> AsyncIterator[Tunnel]:
    async with _session(served) as session:
        url = f"{served.url}/api/v1/namespaces/default/pods/web/portforward"
        async with session.ws_connect(url, protocols=("SPDY/3.1+portforward.k8s.io",)) as ws:
            assert ws.protocol == "SPDY/3.1+portforward.k8s.io"
            yield Tunnel(ws)


def _headers(kind: str, port: int, request: str) -> dict[str, str]:
    return {"streamtype": kind, "port": str(port), "requestid": request}


async def test_spdy_streams_pings_and_refusals(served: Served) -> None:
    async with _tunnel(served) as tunnel:
        await tunnel.send(spdy.Ping(1))
        assert await tunnel.next() == spdy.Ping(1)
        # a stream without a port is reset; one with an even (server) id too
        await tunnel.send(spdy.SynStream(1, {"streamtype": "data"}))
        assert await tunnel.next() == spdy.RstStream(1, spdy.CANCEL)
        await tunnel.send(spdy.SynStream(4, _headers("data", ECHO_PORT, "0")))
        assert await tunnel.next() == spdy.RstStream(4, spdy.PROTOCOL_ERROR)
        # error stream (half-closed at once, as kubectl does) and data stream of request 7
        await tunnel.send(spdy.SynStream(3, _headers("error", ECHO_PORT, "7"), spdy.FLAG_FIN))
        assert await tunnel.next() == spdy.SynReply(3, {})
        await tunnel.send(spdy.SynStream(5, _headers("data", ECHO_PORT, "7")))
        assert await tunnel.next() == spdy.SynReply(5, {})
        await tunnel.send(spdy.Data(5, b"spdy\n"))
        assert await tunnel.next() == spdy.Data(5, b"pong:spdy\n")
        # the pod hung up: the data stream ends, then the error stream, with no error text
        assert await tunnel.next() == spdy.Data(5, b"", spdy.FLAG_FIN)
        await tunnel.send(spdy.RstStream(5, spdy.CANCEL))
        assert await tunnel.next() == spdy.Data(3, b"", spdy.FLAG_FIN)


async def test_a_stream_whose_partner_never_comes_times_out(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    from minikube_py.apiserver import portforward_spdy

    monkeypatch.setattr(portforward_spdy, "STREAM_CREATION_TIMEOUT", 0.2)
    async with _tunnel(served) as tunnel:
        await tunnel.send(spdy.SynStream(1, _headers("error", ECHO_PORT, "0"), spdy.FLAG_FIN))
        assert await tunnel.next() == spdy.SynReply(1, {})
        frame = await tunnel.next()
        assert isinstance(frame, spdy.Data)
        assert frame.data.decode().endswith(", request=0) timed out waiting for streams")
        assert await tunnel.next() == spdy.Data(1, b"", spdy.FLAG_FIN)


# ------------------------------------------------------------------- the kubelet's side


async def test_the_kubelet_dials_the_pods_address(streams: PortStreams) -> None:
    from minikube_py.kubelet.streams import KubeletStreams

    host, port = streams.echo_address
    pods = {
        "web": {"metadata": {"name": "web"}, "status": {"phase": "Running", "podIP": host}},
        "done": {"metadata": {"name": "done"}, "status": {"phase": "Succeeded", "podIP": host}},
        "new": {"metadata": {"name": "new"}, "status": {"phase": "Pending"}},
    }
    kubelet = KubeletStreams(cast(Any, None), lambda namespace, name: pods.get(name))
    reader, writer = await kubelet.port_forward("default", "web", port)
    try:
        writer.write(b"kubelet\n")
        assert await reader.read() == b"pong:kubelet\n"
    finally:
        writer.close()
    for name in ("done", "new", "gone"):
        with pytest.raises(ContainerError) as refused:
            await kubelet.port_forward("default", name, port)
        assert (refused.value.reason, refused.value.message) == (
            "NotFound",
            f'pod not found ("{name}_default")',
        )
    closed = streams.closed_address[1]
    with pytest.raises(ContainerError) as failed:
        await kubelet.port_forward("default", "web", closed)
    assert (failed.value.reason, failed.value.message) == (
        "Unavailable",
        f"dial tcp4 {host}:{closed}: connect: connection refused",
    )
