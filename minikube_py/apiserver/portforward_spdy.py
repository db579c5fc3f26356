"""The port-forward protocol over SPDY (``portforward.k8s.io``): what ``kubectl port-forward``
speaks once its connection is upgraded (directly, or tunnelled in a WebSocket).

For every connection accepted on its local port, kubectl opens two SPDY streams with the same
``requestid`` header: an *error* stream (``streamtype: error``, which it half-closes at once —
it only reads it) and a *data* stream (``streamtype: data``), both with the remote ``port``.
The server accepts each stream with a ``SYN_REPLY``; once it has both, it asks the pod's
kubelet for a connection to that port and copies bytes between it and the data stream. A
failure goes on the error stream as text, which kubectl prints. The server closes both streams
(``FIN``) when forwarding ends; kubectl resets the data stream when it has read the end.
Streams whose partner never comes are given up after ``creation_timeout`` with upstream's
message. PINGs from the client (kubectl sends one every 10 s through a tunnel) are echoed.
No flow control is applied: kubectl's SPDY library (spdystream) neither sends nor heeds
WINDOW_UPDATE, so the windows are ignored in both directions, as upstream does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

import attrs

from minikube_py.apiserver import spdy
from minikube_py.apiserver.portforward_relay import CHUNK, Dial, forwarding_error, relay
from minikube_py.logs import get_logger
from minikube_py.runtime.protocol import ContainerError

_log = get_logger("apiserver")
_QUEUED_FRAMES = 64  # a stream's unread data frames before the connection's reader waits
STREAM_CREATION_TIMEOUT = 30.0  # upstream kubelet's default wait for a request's other stream


class Transport(Protocol):
    """The bytes of one SPDY connection, however they travel."""

    async def read(self) -> bytes:
        """The next bytes the client sent; ``b""`` once the connection has ended."""
        ...

    async def write(self, data: bytes) -> None: ...


@attrs.define(eq=False)
class Stream:
    id: int
    kind: str  # "data" or "error"
    port: int
    request: str
    incoming: asyncio.Queue[bytes | None] = attrs.field(
        factory=lambda: asyncio.Queue(_QUEUED_FRAMES)
    )
    reset: asyncio.Event = attrs.field(factory=asyncio.Event)
    closed: bool = False  # our half is done (FIN sent)

    async def received(self) -> AsyncIterator[bytes]:
        while (chunk := await self.incoming.get()) is not None:
            yield chunk


@attrs.define(eq=False)
class Pair:
    request: str
    data: Stream | None = None
    error: Stream | None = None
    complete: asyncio.Event = attrs.field(factory=asyncio.Event)


def stream_headers(headers: spdy.Headers) -> tuple[str, int]:
    """``(streamtype, port)`` of a new stream, or ValueError in upstream's words."""
    port_text = headers.get("port", "")
    if not port_text:
        raise ValueError('"port" header is required')
    try:
        port = int(port_text)
        if not 0 <= port < 65536:
            raise ValueError
    except ValueError:
        raise ValueError(f'unable to parse "{port_text}" as a port') from None
    if port < 1:
        raise ValueError(f'port "{port_text}" must be > 0')
    kind = headers.get("streamtype", "")
    if not kind:
        raise ValueError('"streamType" header is required')
    if kind not in ("data", "error"):
        raise ValueError(f'invalid stream type "{kind}"')
    return kind, port


class SpdySession:
    """One upgraded port-forward connection, until the client closes it."""

    def __init__(self, transport: Transport, dial: Dial, *, pod: str, uid: str) -> None:
        self.transport, self.dial, self.pod, self.uid = transport, dial, pod, uid
        self.creation_timeout = STREAM_CREATION_TIMEOUT
        self.codec = spdy.Codec()
        self.lock = asyncio.Lock()  # frames go out whole and in the order they were encoded
        self.streams: dict[int, Stream] = {}
        self.pairs: dict[str, Pair] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.last_stream = 0

    async def send(self, frame: spdy.Frame) -> None:
        async with self.lock:
            await self.transport.write(self.codec.encode(frame))

    async def run(self) -> None:
        try:
            while chunk := await self.transport.read():
                for frame in self.codec.feed(chunk):
                    await self.handle(frame)
        except spdy.SpdyError as error:
            _log.info("port-forward: bad SPDY from the client", pod=self.pod, error=str(error))
            with contextlib.suppress(Exception):
                await self.send(spdy.GoAway(self.last_stream, 1))
        finally:
            for task in self.tasks:
                task.cancel()
            for task in list(self.tasks):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    def spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def handle(self, frame: spdy.Frame) -> None:
        if isinstance(frame, spdy.SynStream):
            await self.open(frame)
        elif isinstance(frame, spdy.Data):
            stream = self.streams.get(frame.stream_id)
            if stream is not None and stream.kind == "data":  # error streams are ours to write
                if frame.data:
                    await stream.incoming.put(frame.data)
                if frame.fin:
                    await stream.incoming.put(None)
        elif isinstance(frame, spdy.RstStream):
            stream = self.streams.pop(frame.stream_id, None)
            if stream is not None:
                stream.reset.set()
                stream.closed = True  # nothing more may be sent on a reset stream
        elif isinstance(frame, spdy.Ping) and frame.id % 2 == 1:  # the client's: echo it
            await self.send(frame)
        # SETTINGS, WINDOW_UPDATE, HEADERS, GOAWAY and our own PINGs need no answer

    async def open(self, frame: spdy.SynStream) -> None:
        if frame.stream_id % 2 == 0 or frame.stream_id <= self.last_stream:
            await self.send(spdy.RstStream(frame.stream_id, spdy.PROTOCOL_ERROR))
            return
        self.last_stream = frame.stream_id
        try:
            kind, port = stream_headers(frame.headers)
        except ValueError as error:  # upstream resets a stream its handler refuses
            _log.info("port-forward: stream refused", pod=self.pod, error=str(error))
            await self.send(spdy.RstStream(frame.stream_id, spdy.CANCEL))
            return
        request = frame.headers.get("requestid") or self.guessed_request(frame.stream_id, kind)
        stream = Stream(frame.stream_id, kind, port, request)
        self.streams[stream.id] = stream
        await self.send(spdy.SynReply(stream.id))
        if frame.fin:
            await stream.incoming.put(None)
        pair = self.pairs.get(request)
        if pair is None:
            pair = self.pairs[request] = Pair(request)
            self.spawn(self.forward(pair))
        if getattr(pair, kind) is not None:
            why = f"{kind} stream already assigned"
            await self.write_error(pair, f"error processing stream for request {request}: {why}")
            return
        setattr(pair, kind, stream)
        if pair.data is not None and pair.error is not None:
            pair.complete.set()

    @staticmethod
    def guessed_request(stream_id: int, kind: str) -> str:
        # clients from before request ids open error then data streams with consecutive ids
        return str(stream_id if kind == "error" else stream_id - 2)

    async def write_error(self, pair: Pair, message: str) -> None:
        if pair.error is not None and not pair.error.closed:
            encoded = message.encode()
            for start in range(0, len(encoded), CHUNK):
                await self.send(spdy.Data(pair.error.id, encoded[start : start + CHUNK]))

    async def close(self, stream: Stream | None) -> None:
        if stream is not None and not stream.closed:
            stream.closed = True
            await self.send(spdy.Data(stream.id, b"", spdy.FLAG_FIN))

    async def forward(self, pair: Pair) -> None:
        """Wait for both streams of a request, then forward; close them when done."""
        try:
            try:
                async with asyncio.timeout(self.creation_timeout):
                    await pair.complete.wait()
            except TimeoutError:
                conn = f"conn={id(self):#x}, request={pair.request}"
                await self.write_error(pair, f"({conn}) timed out waiting for streams")
                return
            assert pair.data is not None
            await self.forward_data(pair, pair.data)
        finally:
            self.pairs.pop(pair.request, None)
            with contextlib.suppress(Exception):  # the client may be gone already
                await self.close(pair.data)
                await self.close(pair.error)
            for stream in (pair.data, pair.error):
                if stream is not None:
                    self.streams.pop(stream.id, None)
                    while not stream.incoming.empty():  # frees a reader waiting to queue more
                        stream.incoming.get_nowait()

    async def forward_data(self, pair: Pair, data: Stream) -> None:
        try:
            connection = await self.dial(data.port)
        except ContainerError as error:
            why = forwarding_error(data.port, self.pod, self.uid, error.message)
            _log.info("port-forward failed", pod=self.pod, port=data.port, error=why)
            await self.write_error(pair, why)
            return

        async def send(chunk: bytes) -> None:
            if not data.closed:
                await self.send(spdy.Data(data.id, chunk))

        await relay(
            connection,
            data.received(),
            send,
            lambda: self.close(data),
            aborted=data.reset,
            label=f"{self.pod}:{data.port} request {pair.request}",
        )


SessionFactory = Callable[[Transport], SpdySession]
