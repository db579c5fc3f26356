"""UDP forwarding: datagram *flows* from a client address to one endpoint.

UDP has no connections, so the proxy keeps what the kernel's connection tracking keeps for
upstream's kube-proxy: a flow per client address and port. The first datagram of a new client
picks an endpoint (round-robin, affinity — the balancer's rules) and opens a socket connected
to it, from the client's own address where possible; later datagrams of that client follow
the same flow, and the endpoint's replies go back to the client from the Service address, so
the client sees its answer come from where it sent. A flow ends after ``idle_timeout``
seconds without traffic (conntrack's 30 s for UDP), when its endpoint refuses (an ICMP port
unreachable) or when its endpoint leaves the Service (upstream clears those conntrack entries
too).

A datagram for which no endpoint can be chosen is dropped, as upstream drops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Collection
from typing import cast

from minikube_py.logs import get_logger
from minikube_py.net.proxy_routes import Backend
from minikube_py.net.proxy_tcp import Chooser

_log = get_logger("kube-proxy")
_QUEUED = 64  # datagrams held while a new flow's socket is being set up
Address = tuple[str, int]


class _Flow(asyncio.DatagramProtocol):
    """One client's datagrams to one endpoint, and the replies back."""

    def __init__(self, listener: UdpListener, client: Address, backend: Backend) -> None:
        self.listener, self.client, self.backend = listener, client, backend
        self.transport: asyncio.DatagramTransport | None = None
        self._queued: list[bytes] = []
        self._closed = False
        loop = asyncio.get_running_loop()
        self._last = loop.time()
        self._timer = loop.call_later(listener.idle_timeout, self._expire)
        self._opening = loop.create_task(self._open())

    async def _open(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        try:
            with contextlib.suppress(OSError):
                sock.bind((self.client[0], 0))
            sock.connect(self.backend.target)  # UDP: only sets the peer, never waits
            await asyncio.get_running_loop().create_datagram_endpoint(lambda: self, sock=sock)
        except OSError as error:
            sock.close()
            _log.debug("cannot open a UDP flow", endpoint=str(self.backend.target), error=error)
            self.close()
        except BaseException:
            sock.close()
            raise

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # 3.11's selector datagram transport (and uvloop's) do not subclass DatagramTransport
        self.transport = datagrams = cast(asyncio.DatagramTransport, transport)
        if self._closed:
            datagrams.close()
            return
        for data in self._queued:
            datagrams.sendto(data)
        self._queued.clear()

    def send(self, data: bytes) -> None:
        self._last = asyncio.get_running_loop().time()
        if self.transport is not None:
            self.transport.sendto(data)
        elif len(self._queued) < _QUEUED:
            self._queued.append(data)

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self._last = asyncio.get_running_loop().time()
        self.listener.reply(data, self.client)

    def error_received(self, exc: Exception) -> None:
        if isinstance(exc, ConnectionRefusedError):
            self.close()  # nothing listens at the endpoint: the next datagram picks again

    def _expire(self) -> None:
        loop = asyncio.get_running_loop()
        idle = loop.time() - self._last
        if idle >= self.listener.idle_timeout:
            self.close()
        else:
            self._timer = loop.call_later(self.listener.idle_timeout - idle, self._expire)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._timer.cancel()
        if not self._opening.done() and self._opening is not asyncio.current_task():
            self._opening.cancel()
        if self.transport is not None:
            self.transport.close()
        if self.listener.flows.get(self.client) is self:
            del self.listener.flows[self.client]


class UdpListener(asyncio.DatagramProtocol):
    """A UDP socket at ``address:port`` forwarding each client's flow to an endpoint."""

    def __init__(
        self, address: str, port: int, choose: Chooser, *, idle_timeout: float = 30.0
    ) -> None:
        self.address, self.port, self.choose = address, port, choose
        self.idle_timeout = idle_timeout
        self.flows: dict[Address, _Flow] = {}
        self.transport: asyncio.DatagramTransport | None = None

    async def start(self) -> None:
        """Bind; raises ``OSError`` if the address cannot be had."""
        await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: self, local_addr=(self.address, self.port)
        )

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # 3.11's selector datagram transport (and uvloop's) do not subclass DatagramTransport
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Address) -> None:
        flow = self.flows.get(addr)
        if flow is None:
            backend = self.choose(addr[0], ())
            if backend is None:
                return
            flow = self.flows[addr] = _Flow(self, addr, backend)
        flow.send(data)

    def reply(self, data: bytes, client: Address) -> None:
        if self.transport is not None:
            self.transport.sendto(data, client)

    def drop_missing(self, known: Collection[tuple[str, int]]) -> int:
        """End the flows to endpoints that are no longer in the Service's slices."""
        gone = [flow for flow in self.flows.values() if flow.backend.target not in known]
        for flow in gone:
            flow.close()
        return len(gone)

    async def close(self) -> None:
        for flow in list(self.flows.values()):
            flow.close()
        if self.transport is not None:
            self.transport.close()
            self.transport = None
