"""The port-forward protocol over WebSocket channels: what the client libraries speak.

The official Python client (``kubernetes.stream.portforward``) opens a WebSocket on
``pods/NAME/portforward?ports=80&ports=5678`` with the ``v4.channel.k8s.io`` subprotocol
(``v4.base64.channel.k8s.io`` sends text frames, base64-encoded; no subprotocol means the
binary one). Every message starts with a channel byte, as for exec: port number ``i`` (in the
order of the query) has channel ``2i`` for its data, both ways, and ``2i + 1`` for errors, from
the server only. The server's first message on each of these channels is the port number as
two little-endian bytes, so the client can check which port is which.

Each port is one connection to the pod, dialled when the session starts. A failure goes out
on the error channel in upstream's words; the session ends (close code 1000) once every port's
connection is over, or when the client goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from aiohttp import WSMsgType, web

from minikube_py.apiserver import remotecommand
from minikube_py.apiserver.podexec import send_frame
from minikube_py.apiserver.portforward_relay import Dial, forwarding_error, relay
from minikube_py.apiserver.remotecommand import Protocol
from minikube_py.logs import get_logger
from minikube_py.runtime.protocol import ContainerError

_log = get_logger("apiserver")
PROTOCOLS = {
    "v4.channel.k8s.io": Protocol("v4.channel.k8s.io", 4),
    "v4.base64.channel.k8s.io": Protocol("v4.base64.channel.k8s.io", 4, base64=True),
}
_QUEUED = 64


def negotiate(offered_header: str) -> Protocol | None:
    """The client's first subprotocol that we speak; the binary one when it offered none."""
    offered = [name.strip() for name in offered_header.split(",") if name.strip()]
    if not offered:
        return Protocol("", 4)
    return next((PROTOCOLS[name] for name in offered if name in PROTOCOLS), None)


def query_ports(values: Sequence[str]) -> list[int]:
    """The ``ports`` query parameters (each may list several, comma-separated); ValueError
    in upstream's words."""
    if not values:
        raise ValueError('query parameter "port" is required')
    ports: list[int] = []
    for value in values:
        if not value:
            raise ValueError('query parameter "port" cannot be empty')
        for text in value.split(","):
            try:
                port = int(text)
                if not 0 <= port < 65536:
                    raise ValueError
            except ValueError:
                raise ValueError(f'unable to parse "{value}" as a port') from None
            if port < 1:
                raise ValueError(f'port "{value}" must be > 0')
            ports.append(port)
    return ports


class ChannelSession:
    """One WebSocket port-forward session: its ports, their connections, until all end."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        protocol: Protocol,
        ports: Sequence[int],
        dial: Dial,
        *,
        pod: str,
        uid: str,
    ) -> None:
        self.ws, self.protocol, self.ports, self.dial = ws, protocol, list(ports), dial
        self.pod, self.uid = pod, uid
        self.queues: list[asyncio.Queue[bytes | None]] = [
            asyncio.Queue(_QUEUED) for _ in self.ports
        ]
        self.finished = [False for _ in self.ports]

    async def send(self, channel: int, data: bytes) -> None:
        await send_frame(self.ws, self.protocol, channel, data)

    async def run(self) -> None:
        for index, port in enumerate(self.ports):
            number = port.to_bytes(2, "little")
            await self.send(2 * index, number)
            await self.send(2 * index + 1, number)
        forwards = [asyncio.ensure_future(self.forward(i)) for i in range(len(self.ports))]
        reading = asyncio.ensure_future(self.read())
        try:
            # the session is over when every port is, or when the client has gone
            everything: asyncio.Future[Any] = asyncio.gather(*forwards)
            await asyncio.wait({everything, reading}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (*forwards, reading):
                task.cancel()
            for task in (*forwards, reading):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            with contextlib.suppress(Exception):
                await self.ws.close(code=1000)

    async def read(self) -> None:
        async for message in self.ws:
            if message.type not in (WSMsgType.BINARY, WSMsgType.TEXT):
                continue
            try:
                decoded = remotecommand.decode(self.protocol, message.data)
            except remotecommand.ProtocolError as error:
                _log.info("bad port-forward message", pod=self.pod, error=str(error))
                continue
            if decoded is None or decoded.channel % 2 or decoded.channel // 2 >= len(self.ports):
                continue  # the error channels are the server's alone
            index = decoded.channel // 2
            if decoded.data and not self.finished[index]:
                await self.queues[index].put(decoded.data)
        for queue in self.queues:  # the client is gone: its side of every port has ended
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)

    async def received(self, index: int) -> AsyncIterator[bytes]:
        while (chunk := await self.queues[index].get()) is not None:
            yield chunk

    async def forward(self, index: int) -> None:
        port = self.ports[index]
        try:
            try:
                connection = await self.dial(port)
            except ContainerError as error:
                why = forwarding_error(port, self.pod, self.uid, error.message)
                _log.info("port-forward failed", pod=self.pod, port=port, error=why)
                await self.send(2 * index + 1, why.encode())
                return

            async def send(chunk: bytes) -> None:
                await self.send(2 * index, chunk)

            async def done() -> None:
                return None  # a channel has no half-close: the session's end says it

            await relay(connection, self.received(index), send, done, label=f"{self.pod}:{port}")
        finally:
            self.finished[index] = True
            while not self.queues[index].empty():  # frees the reader if it waits to queue
                self.queues[index].get_nowait()
