"""pods/portforward: TCP connections to a pod's ports, carried over the API server's connection.

Upstream's API server checks the pod (it exists, it has a node) and hands the request to that
node's kubelet, which dials the port inside the pod; here the kubelet's ``NodeStreams`` dials
(``port_forward``) and this module speaks to the client. Three ways to ask, all on
``…/pods/NAME/portforward``:

- **SPDY tunnelled in a WebSocket** — kubectl 1.31+ (``PortForwardWebsockets``): a WebSocket
  with the subprotocol ``SPDY/3.1+portforward.k8s.io`` whose binary messages carry the bytes
  of a SPDY/3.1 connection (``portforward_spdy.py``);
- **a SPDY upgrade** — older kubectl, and kubectl's fallback when the WebSocket upgrade fails:
  ``POST`` with ``Upgrade: SPDY/3.1`` and ``X-Stream-Protocol-Version: portforward.k8s.io``,
  answered with ``101 Switching Protocols``, then SPDY on the raw connection;
- **WebSocket channels** — the client libraries: ``?ports=…`` with ``v4.channel.k8s.io``
  (``portforward_channels.py``).

The pod must be running (kubectl refuses otherwise, in the words used here, before it asks).
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from aiohttp import web

from minikube_py.api import errors
from minikube_py.apiserver import kubelets
from minikube_py.apiserver.podexec import is_websocket
from minikube_py.apiserver.portforward_channels import ChannelSession, negotiate, query_ports
from minikube_py.apiserver.portforward_relay import Connection, Dial
from minikube_py.apiserver.portforward_spdy import SpdySession
from minikube_py.apiserver.routing import Target
from minikube_py.apiserver.storage import Storage
from minikube_py.logs import get_logger

_log = get_logger("apiserver")
SPDY_UPGRADE = "SPDY/3.1"
PORTFORWARD_V1 = "portforward.k8s.io"
TUNNEL_PREFIX = "SPDY/3.1+"  # a WebSocket subprotocol carrying the SPDY protocol after it
MAX_MESSAGE = 16 << 20
_RAW_QUEUED = 64  # received chunks waiting for the SPDY session before reading pauses


def _offered(request: web.Request, header: str) -> list[str]:
    values = request.headers.getall(header, [])
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def _no_common_protocol(offered: list[str]) -> errors.ApiError:
    # httpstream.Handshake's refusal (upstream answers 403 Forbidden)
    return errors.ApiError(
        403,
        "Forbidden",
        f"unable to upgrade: unable to negotiate protocol: client supports [{' '.join(offered)}],"
        f" server accepts [{PORTFORWARD_V1}]",
    )


async def serve_portforward(
    storage: Storage, node_streams: kubelets.NodeStreamsMap, request: web.Request, target: Target
) -> web.StreamResponse:
    """GET (or POST) pods/NAME/portforward, in any of the three protocols."""
    name, namespace = target.name, str(target.namespace)
    assert name is not None
    pod = await storage.get(target.rt, target.namespace, name)
    node = kubelets.node_of(pod)
    if not node:
        raise errors.bad_request(f"pod {name} does not have a host assigned")
    phase = (pod.get("status") or {}).get("phase") or "Pending"
    if phase != "Running":
        raise errors.bad_request(
            f"unable to forward port because pod is not running. Current status={phase}"
        )
    streams = kubelets.streams_of(node_streams, node)
    uid = str(pod["metadata"].get("uid", ""))

    async def dial(port: int) -> Connection:
        return await streams.port_forward(namespace, name, port)

    if is_websocket(request):
        offered = _offered(request, "Sec-WebSocket-Protocol")
        tunnelled = [p for p in offered if p.startswith(TUNNEL_PREFIX) and p.endswith(".k8s.io")]
        if tunnelled:
            return await _tunnel(request, tunnelled, dial, pod=name, uid=uid)
        return await _channels(request, offered, dial, pod=name, uid=uid)
    if request.headers.get("Upgrade", "").lower() == SPDY_UPGRADE.lower():
        return await _spdy_upgrade(request, dial, pod=name, uid=uid)
    raise errors.bad_request(
        "Upgrade request required: pods/portforward speaks SPDY/3.1 (directly or tunnelled "
        "in a WebSocket) or WebSocket channels (v4.channel.k8s.io)"
    )


async def _tunnel(
    request: web.Request, offered: list[str], dial: Dial, *, pod: str, uid: str
) -> web.StreamResponse:
    wanted = TUNNEL_PREFIX + PORTFORWARD_V1
    if wanted not in offered:
        raise _no_common_protocol([p.removeprefix(TUNNEL_PREFIX) for p in offered])
    ws = web.WebSocketResponse(protocols=(wanted,), max_msg_size=MAX_MESSAGE)
    await ws.prepare(request)
    with kubelets.tracked(request):
        try:
            await SpdySession(_WebSocketTransport(ws), dial, pod=pod, uid=uid).run()
        finally:
            await ws.close()
    return ws


async def _channels(
    request: web.Request, offered: list[str], dial: Dial, *, pod: str, uid: str
) -> web.StreamResponse:
    try:  # the API's option is "ports"; the kubelet's query parameter is "port"
        ports = query_ports(request.query.getall("ports", []) + request.query.getall("port", []))
    except ValueError as error:
        raise errors.bad_request(str(error)) from None
    protocol = negotiate(", ".join(offered))
    if protocol is None:
        raise errors.bad_request(
            f"requested protocol(s) are not supported: [{' '.join(offered)}]; "
            "supports [v4.channel.k8s.io v4.base64.channel.k8s.io]"
        )
    ws = web.WebSocketResponse(
        protocols=(protocol.name,) if protocol.name else (), max_msg_size=MAX_MESSAGE
    )
    await ws.prepare(request)
    with kubelets.tracked(request):
        await ChannelSession(ws, protocol, ports, dial, pod=pod, uid=uid).run()
    return ws


class _WebSocketTransport:
    """SPDY bytes in WebSocket binary messages (client-go's ``TunnelingConnection``): message
    boundaries mean nothing; a text message breaks the tunnel."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws

    async def read(self) -> bytes:
        while True:
            message = await self.ws.receive()
            if message.type == web.WSMsgType.BINARY:
                if message.data:
                    return bytes(message.data)
                continue
            if message.type == web.WSMsgType.TEXT:
                _log.info("port-forward tunnel: text message received; closing")
                return b""
            if message.type in (web.WSMsgType.PING, web.WSMsgType.PONG):
                continue  # answered by aiohttp
            return b""  # closing, closed or broken

    async def write(self, data: bytes) -> None:
        await self.ws.send_bytes(data)


class _RawFeed:
    """Takes the place of aiohttp's WebSocket reader after a SPDY upgrade: the bytes that
    follow the request, as they arrive. Reading from the socket pauses while too many chunks
    wait, so a client sending faster than the pods take it cannot fill the memory."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.chunks: asyncio.Queue[bytes] = asyncio.Queue()
        self.paused = False

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if data:
            self.chunks.put_nowait(bytes(data))
            if self.chunks.qsize() > _RAW_QUEUED and not self.paused:
                self.paused = True
                self.transport.pause_reading()
        return False, b""

    def feed_eof(self) -> None:
        self.chunks.put_nowait(b"")

    async def read(self) -> bytes:
        chunk = await self.chunks.get()
        if self.paused and self.chunks.qsize() <= _RAW_QUEUED // 2:
            self.paused = False
            if not self.transport.is_closing():
                self.transport.resume_reading()
        return chunk


class _RawTransport:
    def __init__(self, feed: _RawFeed, response: web.StreamResponse) -> None:
        self.feed, self.response = feed, response

    async def read(self) -> bytes:
        return await self.feed.read()

    async def write(self, data: bytes) -> None:
        await self.response.write(data)


async def _spdy_upgrade(
    request: web.Request, dial: Dial, *, pod: str, uid: str
) -> web.StreamResponse:
    offered = _offered(request, "X-Stream-Protocol-Version")
    if PORTFORWARD_V1 not in offered:
        raise _no_common_protocol(offered)
    if request.transport is None:
        raise errors.bad_request("the connection has closed")
    # aiohttp upgrades only to WebSocket: take the bytes after this request ourselves
    feed = _RawFeed(request.transport)
    request.protocol.set_parser(cast(Any, feed))
    response = web.StreamResponse(
        status=101,
        reason="Switching Protocols",
        headers={
            "Connection": "Upgrade",
            "Upgrade": SPDY_UPGRADE,
            "X-Stream-Protocol-Version": PORTFORWARD_V1,
        },
    )
    await response.prepare(request)
    with kubelets.tracked(request):
        try:
            await SpdySession(_RawTransport(feed, response), dial, pod=pod, uid=uid).run()
        finally:
            request.protocol.force_close()
            if request.transport is not None:
                request.transport.close()
    return response
