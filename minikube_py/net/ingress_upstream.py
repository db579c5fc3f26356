"""Connections from the Ingress proxy to pods: connecting, retrying, and keeping them.

nginx keeps idle connections to its upstreams (``upstream-keepalive-connections``) so that a
busy route does not pay a TCP handshake per request; ``Upstreams`` does the same, per pod
address. A kept connection may have been closed by the pod meanwhile, which shows only when
the next request finds no answer on it, so a request without a body that fails on a kept
connection is sent again on a fresh one. Requests with a body are always sent on a fresh
connection and never sent twice: their body is streamed from the client and cannot be
replayed.

Connecting takes at most 5 seconds (ingress-nginx's ``proxy-connect-timeout``), then the next
endpoint is tried (``proxy-next-upstream error timeout``); the response head must come within
60 seconds (``proxy-read-timeout``). ``Upstream`` carries the answer for the client when every
try failed: 502 Bad Gateway, or 504 when the backend accepted but did not answer.
"""

from __future__ import annotations

import asyncio

from minikube_py.net.ingress_http import BadMessage, Head, read_head

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 60.0
IDLE_PER_ENDPOINT = 32
Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]
Address = tuple[str, int]


class Upstream(Exception):
    """The backend failed before answering: 502 (or 504 on a timeout)."""

    def __init__(self, code: int, why: str) -> None:
        super().__init__(why)
        self.code = code


class Upstreams:
    """Connections to pods, with the idle ones kept per address for reuse."""

    def __init__(self) -> None:
        self._idle: dict[Address, list[Streams]] = {}

    async def send(
        self, endpoints: list[Address], head: Head, reusable: bool
    ) -> tuple[Address, Streams, Head | None]:
        """Connect to the first endpoint that answers and send the head; for a bodiless
        request also read the response head (retrying a kept connection the pod closed)."""
        why = "no endpoint"
        for address in endpoints:
            for pooled in (True, False):
                streams = self._pooled(address) if pooled and reusable else None
                if pooled and streams is None:
                    continue
                try:
                    if streams is None:
                        async with asyncio.timeout(CONNECT_TIMEOUT):
                            streams = await asyncio.open_connection(*address)
                except (OSError, TimeoutError) as error:
                    why = f"connect to {address[0]}:{address[1]}: {error or 'timed out'}"
                    continue
                try:
                    streams[1].write(head.encode())
                    await streams[1].drain()
                    if not reusable:
                        return address, streams, None
                    return address, streams, await response_head(streams[0], None, None)
                except TimeoutError:
                    streams[1].close()
                    raise Upstream(504, f"{address[0]}:{address[1]}: no response") from None
                except (OSError, BadMessage, asyncio.IncompleteReadError) as error:
                    streams[1].close()
                    why = f"{address[0]}:{address[1]}: {error or type(error).__name__}"
        raise Upstream(502, why)

    def _pooled(self, address: Address) -> Streams | None:
        connections = self._idle.get(address) or []
        while connections:
            reader, writer = connections.pop()
            if _open((reader, writer)):
                return reader, writer
            writer.close()
        return None

    def release(self, address: Address, streams: Streams, *, reuse: bool) -> None:
        """Keep a connection whose exchange ended cleanly; close any other, and those kept
        for the address that the pod has closed meanwhile."""
        kept = [pair for pair in self._idle.pop(address, []) if _open(pair) or _close(pair)]
        if reuse and len(kept) < IDLE_PER_ENDPOINT:
            kept.append(streams)
        else:
            streams[1].close()
        if kept:
            self._idle[address] = kept

    def close_idle(self) -> None:
        for connections in self._idle.values():
            for _, writer in connections:
                writer.close()
        self._idle.clear()


async def response_head(
    up_reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter | None,
    upgrade: str | None,
) -> Head:
    """The final response head; interim ones (100 Continue) go on to the client."""
    while True:
        async with asyncio.timeout(READ_TIMEOUT):
            response = await read_head(up_reader)
        if response is None:
            raise asyncio.IncompleteReadError(b"", None)
        code = response.first[1]
        if not code.startswith("1") or (code == "101" and upgrade is not None):
            return response
        if writer is not None and code != "101":
            writer.write(response.encode())
            await writer.drain()


def _open(streams: Streams) -> bool:
    return not streams[0].at_eof() and not streams[1].is_closing()


def _close(streams: Streams) -> bool:
    streams[1].close()
    return False
