"""Long responses from the API server: a log stream, and exec's channels over a WebSocket.

``kubectl logs -f`` is a plain GET whose body never ends until the container does; it is read
chunk by chunk and written out as it comes. ``kubectl exec`` opens a WebSocket on
``pods/NAME/exec`` with the subprotocol ``v5.channel.k8s.io`` and multiplexes the command's
streams over it: every binary message starts with a channel byte — 0 stdin, 1 stdout,
2 stderr, 3 the final ``Status``, 4 terminal resizes — and ``[255, 0]`` says "stdin is at its
end". The error channel's ``Status`` decides the outcome: ``Success``; ``Failure`` with reason
``NonZeroExitCode`` and a cause ``ExitCode`` (kubectl prints ``command terminated with exit
code N`` and exits with N); any other ``Failure`` is an error with its message.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import BinaryIO, TextIO

import aiohttp

from minikube_py.api.errors import ApiError
from minikube_py.kubectl.session import KubectlError, Session

STDIN, STDOUT, STDERR, ERROR, RESIZE = range(5)
CLOSE_STREAM = 255
EXEC_PROTOCOL = "v5.channel.k8s.io"
CHUNK = 32 * 1024  # what kubectl sends of stdin at a time


class ExitCodeError(Exception):
    """The remote command ended with a non-zero exit code."""

    def __init__(self, code: int) -> None:
        super().__init__(f"command terminated with exit code {code}")
        self.code = code


def error_of(status: int, raw: bytes) -> ApiError:
    """The ``ApiError`` an error response's ``Status`` body describes."""
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("kind") == "Status":
        return ApiError(
            int(body.get("code") or status),
            str(body.get("reason") or "Unknown"),
            str(body.get("message") or ""),
            details=body.get("details"),
        )
    text = raw.decode("utf-8", "replace").strip()
    return ApiError(status, "Unknown", text or f"HTTP {status}")


def _url(session: Session, path: str) -> str:
    return session.client.base_url + path


@asynccontextmanager
async def open_stream(
    session: Session, path: str, params: list[tuple[str, str]]
) -> AsyncIterator[aiohttp.ClientResponse]:
    """A GET whose body is read as it comes (no overall time limit: ``logs -f`` may run for
    hours); an error response raises its ``ApiError``."""
    options = session.client.request_options()
    connect = options["timeout"].total
    options["timeout"] = aiohttp.ClientTimeout(total=None, sock_connect=connect)
    async with session.client.session().get(
        _url(session, path), params=params, headers={"Accept": "*/*"}, **options
    ) as response:
        if response.status >= 400:
            raise error_of(response.status, await response.read())
        yield response


class TextSink:
    """Bytes to an output stream: as they are to a real file's binary buffer (a command's or a
    container's output need not be text), else decoded as UTF-8 across chunk boundaries."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._buffer: BinaryIO | None = getattr(stream, "buffer", None)
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def write(self, data: bytes) -> None:
        if self._buffer is not None:
            self.stream.flush()  # what was written as text before goes first
            self._buffer.write(data)
            self._buffer.flush()
            return
        text = self._decoder.decode(data)
        if text:
            self.stream.write(text)
            self.stream.flush()


def _exit_outcome(message: bytes) -> None:
    """Raise what the error channel's ``Status`` says went wrong (nothing on success)."""
    try:
        status = json.loads(message)
    except ValueError:
        raise KubectlError(f"error stream protocol error: invalid status in {message!r}") from None
    if status.get("status") == "Success":
        return
    if status.get("status") != "Failure":
        raise KubectlError("error stream protocol error: unknown error")
    if status.get("reason") == "NonZeroExitCode":
        causes = (status.get("details") or {}).get("causes") or []
        value = next((c.get("message") for c in causes if c.get("reason") == "ExitCode"), None)
        if value is None:
            raise KubectlError("error stream protocol error: no ExitCode cause given")
        try:
            code = int(value)
        except ValueError:
            raise KubectlError(
                f'error stream protocol error: invalid exit code value "{value}"'
            ) from None
        raise ExitCodeError(code)
    raise KubectlError(str(status.get("message") or ""))


async def run_exec(
    session: Session,
    path: str,
    params: list[tuple[str, str]],
    stdin: AsyncIterator[bytes] | None,
    *,
    sizes: AsyncIterator[tuple[int, int]] | None = None,
) -> None:
    """One exec session: stdin (if any) in, stdout and stderr out, until the command ends;
    ``sizes`` are the local terminal's (columns, lines), first and after every change.
    Raises ``ExitCodeError`` for a non-zero exit, ``ApiError``/``KubectlError`` for failures."""
    options = session.client.request_options()
    http = session.client.session()
    try:
        ws = await http.ws_connect(
            _url(session, path),
            params=params,
            protocols=(EXEC_PROTOCOL,),
            timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=10.0),
            server_hostname=options["server_hostname"],
            max_msg_size=0,
        )
    except aiohttp.WSServerHandshakeError:
        # kubectl falls back to SPDY here and shows that attempt's error ``Status``; this server
        # refuses the same way without an upgrade, so one plain GET tells us why
        async with http.get(_url(session, path), params=params, **options) as response:
            raise error_of(response.status, await response.read()) from None
    sinks = {STDOUT: TextSink(session.out), STDERR: TextSink(session.err)}
    async with ws:
        senders = [asyncio.create_task(_feed(ws, stdin))] if stdin is not None else []
        if sizes is not None:
            senders.append(asyncio.create_task(_resize(ws, sizes)))
        try:
            status = await _read(ws, sinks)
        finally:
            for task in senders:  # the command may end before its input does
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError, OSError):
                    await task
    if status:  # nothing on the error channel means success, as client-go reads it
        _exit_outcome(status)


async def _feed(ws: aiohttp.ClientWebSocketResponse, stdin: AsyncIterator[bytes]) -> None:
    """Our input to the command, then "stdin is at its end" — also when reading it failed,
    so that a command reading to the end (``cat``) ends too."""
    with contextlib.suppress(OSError):
        async for data in stdin:
            for start in range(0, len(data), CHUNK):
                await ws.send_bytes(bytes((STDIN,)) + data[start : start + CHUNK])
    await ws.send_bytes(bytes((CLOSE_STREAM, STDIN)))


async def _resize(
    ws: aiohttp.ClientWebSocketResponse, sizes: AsyncIterator[tuple[int, int]]
) -> None:
    async for width, height in sizes:
        size = json.dumps({"Width": width, "Height": height}).encode()
        await ws.send_bytes(bytes((RESIZE,)) + size)


async def _read(ws: aiohttp.ClientWebSocketResponse, sinks: dict[int, TextSink]) -> bytes | None:
    status: bytes | None = None
    async for message in ws:
        if message.type == aiohttp.WSMsgType.BINARY:
            data: bytes = message.data
        elif message.type == aiohttp.WSMsgType.TEXT:
            data = str(message.data).encode()
        else:
            break
        if not data:
            continue
        channel, payload = data[0], data[1:]
        if channel in sinks:
            sinks[channel].write(payload)
        elif channel == ERROR:
            status = (status or b"") + payload
    return status
