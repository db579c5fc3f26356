"""pods/exec and pods/attach: a command's (or a container's) streams over a WebSocket.

The request names the streams it wants (``stdin``, ``stdout``, ``stderr``, ``tty``), the
``command`` (repeated, one argument each) and the ``container``. Before upgrading, the API
server does what upstream does before it dials the kubelet: read the pod, pick the container,
require a node — and refuse a pod that has completed, with kubectl's words. Only WebSocket is
spoken: a SPDY upgrade (kubectl's fallback, tried only when the WebSocket upgrade failed) gets
a ``Status`` saying so. Then a session runs (``remotecommand.py`` has the channel protocol):

- client messages on channel 0 go to the command's stdin, a v5 ``[255, 0]`` closes it (the
  end of ``kubectl cp``'s tar stream), channel 4 carries terminal sizes;
- the command's stdout and stderr go out on channels 1 and 2 as they come;
- when they end, the exit code goes out on channel 3 as the version's ``Status`` and the
  server closes with code 1000 (normal closure), which clients read as "all delivered".

A client that goes away ends the session: its stdin is closed and the command killed, so no
process outlives the connection that started it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable

import attrs
from aiohttp import WSMsgType, web

from minikube_py.api import errors
from minikube_py.apiserver import decoding, kubelets, remotecommand
from minikube_py.apiserver.remotecommand import Protocol
from minikube_py.apiserver.routing import Target
from minikube_py.apiserver.storage import Storage
from minikube_py.logs import get_logger
from minikube_py.runtime.protocol import ContainerError, ExecSession

_log = get_logger("apiserver")
_UPGRADE = re.compile(r"(^|.*,\s*)upgrade($|\s*,)")  # upstream's test of the Connection header
_Starter = Callable[[], Awaitable[ExecSession]]
MAX_MESSAGE = 16 << 20  # a client's stdin message (kubectl sends at most 32 KiB at a time)


@attrs.frozen
class StreamOptions:
    """``PodExecOptions`` / ``PodAttachOptions`` from the query."""

    container: str
    command: tuple[str, ...]
    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool


def stream_options(request: web.Request) -> StreamOptions:
    query = request.query
    tty = decoding.flag(query, "tty")
    return StreamOptions(
        container=query.get("container", ""),
        command=tuple(query.getall("command", ())),
        stdin=decoding.flag(query, "stdin"),
        stdout=decoding.flag(query, "stdout"),
        # a terminal has one output stream: upstream drops stderr when tty is set
        stderr=decoding.flag(query, "stderr") and not tty,
        tty=tty,
    )


def is_websocket(request: web.Request) -> bool:
    if request.headers.get("Upgrade", "").lower() != "websocket":
        return False
    return bool(_UPGRADE.match(request.headers.get("Connection", "").lower()))


def _not_websocket(request: web.Request, subresource: str) -> errors.ApiError:
    upgrade = request.headers.get("Upgrade", "")
    protocols = ", ".join(remotecommand.SUPPORTED)
    if upgrade:
        return errors.bad_request(
            f"pods/{subresource}: this API server speaks only WebSocket ({protocols}); "
            f"the {upgrade} upgrade is not supported"
        )
    return errors.bad_request(
        f"Upgrade request required: pods/{subresource} is a WebSocket stream ({protocols})"
    )


async def serve_stream(
    storage: Storage, node_streams: kubelets.NodeStreamsMap, request: web.Request, target: Target
) -> web.StreamResponse:
    """GET (or POST) pods/exec and pods/attach."""
    name, sub, namespace = target.name, str(target.subresource), str(target.namespace)
    assert name is not None
    options = stream_options(request)
    pod = await storage.get(target.rt, target.namespace, name)
    container = kubelets.choose_container(pod, options.container)
    node = kubelets.node_of(pod)
    if not node:
        raise errors.bad_request(f"pod {name} does not have a host assigned")
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):  # kubectl checks this itself, in these words
        verb = "exec into" if sub == "exec" else "attach"
        raise errors.bad_request(
            f"cannot {verb} a container in a completed pod; current phase is {phase}"
        )
    if not (options.stdin or options.stdout or options.stderr):
        raise errors.bad_request("you must specify at least 1 of stdin, stdout, stderr")
    streams = kubelets.streams_of(node_streams, node)
    if not is_websocket(request):
        raise _not_websocket(request, sub)
    offered = request.headers.get("Sec-WebSocket-Protocol", "")
    protocol = remotecommand.negotiate(offered)
    if protocol is None:
        raise errors.bad_request(remotecommand.unsupported_message(offered))

    async def start() -> ExecSession:
        if sub == "exec":
            return await streams.exec(
                namespace, name, container, options.command, stdin=options.stdin, tty=options.tty
            )
        return await streams.attach(
            namespace, name, container, stdin=options.stdin, tty=options.tty
        )

    session: ExecSession | None = None
    if protocol.version < 5:
        # before v5 upstream proxies the upgrade to the kubelet, which refuses before upgrading
        try:
            session = await start()
        except ContainerError as error:
            raise kubelets.container_failure(error, pod=name) from None
    ws = web.WebSocketResponse(
        protocols=(protocol.name,) if protocol.name else (), max_msg_size=MAX_MESSAGE
    )
    try:
        await ws.prepare(request)
    except BaseException:
        if session is not None:
            await _end(session)
        raise
    with kubelets.tracked(request):
        await Session(ws, protocol, options, sub, pod=name).run(session, start)
    return ws


async def _end(session: ExecSession) -> None:
    with contextlib.suppress(Exception):
        await session.close_stdin()
    with contextlib.suppress(Exception):
        await session.kill()


class Session:
    """One upgraded connection: pumps the streams both ways until the command ends."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        protocol: Protocol,
        options: StreamOptions,
        sub: str,
        *,
        pod: str,
    ) -> None:
        self.ws = ws
        self.pod = pod
        self.protocol = protocol
        self.options = options
        self.sub = sub
        self.resizes = remotecommand.ResizeReader()
        self.ended = False  # the command has ended and its exit code is known
        self.finishing = False  # the status is sent, the closing handshake under way

    async def send(self, channel: int, data: bytes) -> None:
        await send_frame(self.ws, self.protocol, channel, data)

    async def run(self, session: ExecSession | None, start: _Starter) -> None:
        # upstream's "connection established" signal: an empty message on the lowest
        # writable channel
        first = (
            remotecommand.STDOUT
            if self.options.stdout
            else remotecommand.STDERR
            if self.options.stderr
            else remotecommand.ERROR
        )
        try:
            await self.send(first, b"")
        except BaseException:
            if session is not None:  # the client left at once: the command must not stay
                await _end(session)
            raise
        if session is None:
            try:
                session = await start()
            except ContainerError as error:
                await self.finish(self.failure(error))
                return
        output = asyncio.create_task(self.relay_output(session))
        try:
            await self.read_input(session, output)
        finally:
            # The input ends when the connection closes: ours, once the status is out (then
            # the closing handshake must be let finish), or the client's (then stop the rest)
            if not self.finishing:
                output.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await output
            if not self.ended:
                await _end(session)

    async def read_input(self, session: ExecSession, output: asyncio.Task[None]) -> None:
        """Client messages until the connection closes (ours after the status, or theirs)."""
        async for message in self.ws:
            if message.type not in (WSMsgType.BINARY, WSMsgType.TEXT):
                continue  # pings are answered by aiohttp itself
            try:
                decoded = remotecommand.decode(self.protocol, message.data)
            except remotecommand.ProtocolError as error:
                _log.info("bad exec stream message", error=str(error))
                continue
            if decoded is None or output.done():
                continue  # after the end, input is discarded, as upstream does
            try:
                await self.deliver(session, decoded)
            except (OSError, ContainerError) as error:  # the command stopped reading
                _log.debug("exec input not delivered", error=str(error))

    async def deliver(self, session: ExecSession, message: remotecommand.Message) -> None:
        if message.channel == remotecommand.STDIN and self.options.stdin:
            if message.closes:
                await session.close_stdin()
            elif message.data:
                await session.write_stdin(message.data)
        elif message.channel == remotecommand.RESIZE and self.options.tty:
            for width, height in self.resizes.feed(message.data):
                await session.resize(width, height)

    async def relay_output(self, session: ExecSession) -> None:
        """The command's output as it comes, then its status, then the closing handshake."""
        status: bytes | None
        try:
            async for stream, data in session.output():
                wanted = (
                    self.options.stdout if stream == remotecommand.STDOUT else self.options.stderr
                )
                if wanted:
                    for piece in remotecommand.chunks(data):
                        await self.send(stream, piece)
            code = await session.wait()
            self.ended = True
        except ContainerError as error:
            status = self.failure(error)
        else:
            status = self.final_status(code)
        await self.finish(status)

    def failure(self, error: ContainerError) -> bytes:
        failed = kubelets.container_failure(error, pod=self.pod)
        return remotecommand.failure(
            self.protocol,
            code=failed.code,
            reason=failed.reason,
            message=failed.message,
            details=failed.details,
        )

    def final_status(self, code: int) -> bytes | None:
        if code == 0 or self.sub == "attach":  # upstream reports a finished attach as Success
            return remotecommand.success(self.protocol)
        return remotecommand.exit_failure(self.protocol, code, self.options.command)

    async def finish(self, status: bytes | None) -> None:
        if status is not None:
            await self.send(remotecommand.ERROR, status)
        self.finishing = True
        await self.ws.close(code=1000)


async def send_frame(
    ws: web.WebSocketResponse, protocol: Protocol, channel: int, data: bytes
) -> None:
    """One channel message, in the text or binary frame the subprotocol uses."""
    frame = remotecommand.encode(protocol, channel, data)
    if isinstance(frame, str):
        await ws.send_str(frame)
    else:
        await ws.send_bytes(frame)
