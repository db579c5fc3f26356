"""TCP forwarding: one listener per ClusterIP (or node, or load-balancer) address and port.

Each accepted connection is joined to a new connection to the endpoint the balancer picks,
and bytes are spliced both ways until both sides are done. The splice is two
``asyncio.Protocol`` objects wired to each other, the fastest way asyncio moves bytes: data a
side receives is written straight to the other side's transport (which sends it at once while
the socket takes it), and when one side's send buffer fills, reading on the other side is
paused until it drains — flow control without copying into an intermediate queue. A half-close
(one side's EOF) is passed on as a half-close, so request/response protocols that shut down
their sending side keep working.

The connection to the endpoint is made from the client's own address where the system allows
it (every 127/8 address is local), so a pod sees its real caller, as with upstream's
iptables proxy, which only rewrites the destination.

If the chosen endpoint refuses, up to two others are tried (as kube-proxy's old userspace mode
did) before the client's connection is reset; a client with no candidate at all (a ``Local``
policy and no endpoint on its node) is reset at once rather than left hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import sys
from collections.abc import Callable, Collection
from typing import cast

from minikube_py.logs import get_logger
from minikube_py.net.proxy_routes import Backend

Chooser = Callable[[str, Collection[tuple[str, int]]], Backend | None]

_log = get_logger("kube-proxy")
_ATTEMPTS = 3  # endpoints tried for one connection before giving up
_HIGH_WATER = 256 * 1024  # bytes buffered towards one side before the other side is paused
# Linux: take the source address now, the port only at connect (no port exhausted by bind)
_BIND_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)


def reset(transport: asyncio.Transport | None) -> None:
    """Close with a TCP reset, so the peer learns at once that the connection is gone."""
    if transport is None or transport.is_closing():
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class _Side(asyncio.Protocol):
    """One socket of a spliced pair; ``other`` is the socket its bytes go to."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.other: _Side | None = None
        self.eof = False

    def itself(self) -> _Side:
        """A protocol factory that makes this very protocol."""
        return self

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # a cast, not an isinstance check: uvloop's transports do not subclass asyncio's
        self.transport = cast(asyncio.Transport, transport)
        self.transport.set_write_buffer_limits(high=_HIGH_WATER)

    def data_received(self, data: bytes) -> None:
        if self.other is not None and self.other.transport is not None:
            self.other.transport.write(data)

    def eof_received(self) -> bool:
        self.eof = True
        other = self.other
        if other is None or other.transport is None or other.transport.is_closing():
            return False
        if other.eof:  # both directions are finished
            other.transport.close()
            return False
        if other.transport.can_write_eof():
            other.transport.write_eof()
        return True  # keep our socket open: the other direction may still be talking

    def connection_lost(self, exc: Exception | None) -> None:
        other = self.other
        if other is not None and other.transport is not None:
            if exc is None:
                other.transport.close()  # sends what is buffered, then FIN
            else:
                reset(other.transport)

    def pause_writing(self) -> None:
        if self.other is not None and self.other.transport is not None:
            self.other.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.other is not None and self.other.transport is not None:
            self.other.transport.resume_reading()


class _Inbound(_Side):
    """The client's side: picks an endpoint and connects to it on arrival."""

    def __init__(self, listener: TcpListener) -> None:
        super().__init__()
        self.listener = listener
        self.backend: Backend | None = None
        self.client = ""
        self._connecting: asyncio.Task[None] | None = None
        self._early: list[bytes] = []  # what the client sent before the endpoint answered

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        assert self.transport is not None
        self.transport.pause_reading()  # nothing to forward to yet (uvloop may read anyway)
        peer = transport.get_extra_info("peername")
        self.client = str(peer[0]) if peer else ""
        self.listener.connections.add(self)
        self._connecting = asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        refused: set[tuple[str, int]] = set()
        while len(refused) < _ATTEMPTS:
            backend = self.listener.choose(self.client, refused)
            if backend is None:
                break
            try:
                outbound = await _open(backend, self.client)
            except OSError as error:
                _log.debug(
                    "endpoint refused a connection",
                    endpoint=f"{backend.address}:{backend.port}",
                    error=error.strerror or str(error),
                )
                refused.add(backend.target)
                continue
            if self.transport is None or self.transport.is_closing():
                outbound.close()
                return
            self.backend = backend
            side = _Side()
            side.other = self
            # cancelled meanwhile (the client left), asyncio closes the new transport itself
            await asyncio.get_running_loop().connect_accepted_socket(side.itself, outbound)
            self.other = side
            if self.transport.is_closing():
                reset(side.transport)
            else:
                self._forward_early(side)
            return
        reset(self.transport)

    def _forward_early(self, side: _Side) -> None:
        assert self.transport is not None and side.transport is not None
        for data in self._early:
            side.transport.write(data)
        self._early.clear()
        if not self.eof:
            self.transport.resume_reading()
        elif side.transport.can_write_eof():
            side.transport.write_eof()

    def data_received(self, data: bytes) -> None:
        if self.other is None:
            self._early.append(data)
            if self.transport is not None:
                self.transport.pause_reading()
        else:
            super().data_received(data)

    def eof_received(self) -> bool:
        if self.other is None:  # passed on once the endpoint is connected
            self.eof = True
            return True
        return super().eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.listener.connections.discard(self)
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
        super().connection_lost(exc)

    def drop(self) -> None:
        """End both sides with a reset (the endpoint is gone, or the proxy stops)."""
        if self.other is not None:
            reset(self.other.transport)
        reset(self.transport)


async def _open(backend: Backend, client: str) -> socket.socket:
    """A socket connected to ``backend``, from the client's address where possible."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        if client and sys.platform == "linux":
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_IP, _BIND_NO_PORT, 1)
                sock.bind((client, 0))
        await asyncio.get_running_loop().sock_connect(sock, backend.target)
    except BaseException:
        sock.close()
        raise
    return sock


class TcpListener:
    """A TCP listener at ``address:port`` forwarding to the endpoints ``choose`` picks."""

    def __init__(self, address: str, port: int, choose: Chooser) -> None:
        self.address, self.port, self.choose = address, port, choose
        self.connections: set[_Inbound] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Listen; raises ``OSError`` if the address cannot be had."""
        self._server = await asyncio.get_running_loop().create_server(
            lambda: _Inbound(self), self.address, self.port, reuse_address=True, backlog=1024
        )

    def drop_missing(self, known: Collection[tuple[str, int]]) -> int:
        """Reset the connections to endpoints that are no longer in the Service's slices."""
        gone = [c for c in self.connections if c.backend and c.backend.target not in known]
        for connection in gone:
            connection.drop()
        return len(gone)

    async def close(self) -> None:
        """Stop listening and end every connection."""
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            connection.drop()
        self.connections.clear()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
