"""Copying one forwarded connection both ways: the part every port-forward protocol shares.

Whatever the client speaks (SPDY streams or WebSocket channels), each forwarded connection
ends up as a pair of byte pipes: the client's side (``Side``: what the client sends, and a way
to send it bytes and to say "no more") and a TCP connection to the pod's port, which the node's
kubelet dialled (``NodeStreams.port_forward``). ``relay`` copies both ways like upstream's
container runtime does (socat's rule): when one direction ends, the other gets a second to
finish, then both are closed.

The error text a client prints when the dial fails is upstream kubelet's:
``error forwarding port 5678 to pod web, uid 1b4…: dial tcp4 127.244.0.5:5678: connect:
connection refused`` (upstream names the pod sandbox; here the pod).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from minikube_py.logs import get_logger

_log = get_logger("apiserver")
CHUNK = 32 * 1024  # client-go's copy buffer; no message bigger than a client reads at once
GRACE_SECONDS = 1.0  # after one direction ends, how long the other may go on
Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]
Dial = Callable[[int], Awaitable[Connection]]


def forwarding_error(port: int, pod: str, uid: str, why: str) -> str:
    return f"error forwarding port {port} to pod {pod}, uid {uid}: {why}"


async def _to_pod(incoming: AsyncIterator[bytes], writer: asyncio.StreamWriter) -> None:
    async for chunk in incoming:
        writer.write(chunk)
        await writer.drain()
    if writer.can_write_eof():
        writer.write_eof()  # the client is done sending: say so, the pod may still answer


async def _to_client(
    reader: asyncio.StreamReader,
    send: Callable[[bytes], Awaitable[None]],
    done: Callable[[], Awaitable[None]],
) -> None:
    while chunk := await reader.read(CHUNK):
        await send(chunk)
    await done()


async def relay(
    connection: Connection,
    incoming: AsyncIterator[bytes],
    send: Callable[[bytes], Awaitable[None]],
    done: Callable[[], Awaitable[None]],
    *,
    aborted: asyncio.Event | None = None,
    label: str = "",
) -> None:
    """Copy ``incoming`` (the client's bytes, ending when it half-closes) to the pod and the
    pod's bytes to ``send``, then ``done()`` at the pod's end of output; stop at once when
    ``aborted`` is set (the client reset the stream). The pod connection is always closed."""
    reader, writer = connection
    tasks = {
        asyncio.ensure_future(_to_pod(incoming, writer)),
        asyncio.ensure_future(_to_client(reader, send, done)),
    }
    stop = asyncio.ensure_future((aborted or asyncio.Event()).wait())
    try:
        finished, pending = await asyncio.wait(tasks | {stop}, return_when=asyncio.FIRST_COMPLETED)
        if stop not in finished and pending - {stop}:
            # one direction ended: the other may finish within the grace period
            await asyncio.wait(pending, timeout=GRACE_SECONDS, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (*tasks, stop):
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                try:
                    await task
                except Exception as error:  # a side that went away: the copy is over anyway
                    _log.debug("port-forward copy ended", connection=label, error=str(error))
        writer.close()
        with contextlib.suppress(OSError, ConnectionError):
            await writer.wait_closed()
