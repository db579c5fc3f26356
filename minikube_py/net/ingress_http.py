"""Just enough HTTP/1.1 for a reverse proxy: message heads, and bodies relayed as they come.

A proxy need not understand a body, only where it ends (RFC 9112, section 6): after
``Content-Length`` bytes, after the last chunk of a ``Transfer-Encoding: chunked`` body, or —
for a response with neither — when the server closes. Bodies are copied piece by piece
(``CHUNK`` bytes at most, waiting for the receiver to drain), so a large or endless body never
sits in memory, and chunks reach the client as the backend sends them. A body that ends at
close is re-framed as chunked for an HTTP/1.1 client, so its connection can be kept.

Anything malformed raises ``BadMessage``: the proxy answers 400 (or 502 for a backend) and
closes that one connection; it never takes the listener down.
"""

from __future__ import annotations

import asyncio
from typing import Literal, Protocol

import attrs

CHUNK = 64 * 1024
MAX_HEAD = 32 * 1024  # bytes of request line + headers, as nginx's large_client_header_buffers
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "upgrade",
}
Framing = Literal["none", "length", "chunked", "close"]


class Sink(Protocol):
    """Where a body goes: an ``asyncio.StreamWriter``, or something that drops it."""

    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...


class BadMessage(Exception):
    """The peer sent something that is not HTTP/1.x."""


@attrs.define
class Head:
    """A request line (method, target, version) or status line (version, code, reason)."""

    first: tuple[str, str, str]
    headers: list[tuple[str, str]]

    def get(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), None)

    def tokens(self, name: str) -> set[str]:
        """The comma-separated tokens of every ``name`` header, lower-cased."""
        name = name.lower()
        return {
            token.strip().lower()
            for key, value in self.headers
            if key.lower() == name
            for token in value.split(",")
            if token.strip()
        }

    def encode(self) -> bytes:
        lines = [" ".join(self.first).rstrip(" ")]
        lines += [f"{key}: {value}" for key, value in self.headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def read_head(reader: asyncio.StreamReader) -> Head | None:
    """The next message head; None if the peer closed cleanly before sending one."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        if not error.partial.strip():
            return None
        raise BadMessage("connection closed in the middle of a message head") from None
    except asyncio.LimitOverrunError:
        raise BadMessage("message head too large") from None
    if len(raw) > MAX_HEAD:
        raise BadMessage("message head too large")
    lines = raw.decode("latin-1").split("\r\n")
    while lines and not lines[0]:  # RFC 9112 2.2: ignore empty lines before a request line
        lines.pop(0)
    if not lines:
        return None
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not (parts[0].startswith("HTTP/1.") or parts[-1].startswith("HTTP/1.")):
        raise BadMessage(f"not an HTTP/1.x message: {lines[0][:80]!r}")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip() or line[0] in " \t":
            raise BadMessage(f"malformed header line {line[:80]!r}")
        headers.append((name, value.strip()))
    return Head((parts[0], parts[1], parts[2] if len(parts) > 2 else ""), headers)


def framing(head: Head, *, response_to: str | None = None) -> tuple[Framing, int]:
    """How the body of a request (``response_to`` None) or of a response to that method ends."""
    if response_to is not None:
        code = head.first[1]
        if response_to == "HEAD" or code.startswith("1") or code in ("204", "304"):
            return "none", 0
    if "chunked" in head.tokens("transfer-encoding"):
        return "chunked", 0
    length = head.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise BadMessage(f"invalid Content-Length {length!r}")
        return ("length", int(length)) if int(length) else ("none", 0)
    return ("close", 0) if response_to is not None else ("none", 0)


async def relay_body(
    reader: asyncio.StreamReader,
    writer: Sink,
    kind: Framing,
    length: int = 0,
    *,
    rechunk: bool = False,
    dechunk: bool = False,
) -> None:
    """Copy one body from ``reader`` to ``writer`` as it arrives (``rechunk``: a body that ends
    at close is sent chunked, for an HTTP/1.1 client; ``dechunk``: a chunked body is sent as
    bare bytes, for an HTTP/1.0 one, which cannot read chunks and takes close as the end)."""
    if kind == "length":
        await _copy_exactly(reader, writer, length)
    elif kind == "chunked":
        while True:
            line = await reader.readuntil(b"\r\n")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BadMessage("malformed chunk size") from None
            if not dechunk:
                writer.write(line)
            if size == 0:
                while True:  # trailers, then the empty line that ends the body
                    trailer = await reader.readuntil(b"\r\n")
                    if not dechunk:
                        writer.write(trailer)
                    if trailer == b"\r\n":
                        break
                await writer.drain()
                return
            await _copy_exactly(reader, writer, size)
            end = await reader.readexactly(2)
            if end != b"\r\n":
                raise BadMessage("chunk not followed by CRLF")
            if not dechunk:
                writer.write(end)
    elif kind == "close":
        while data := await reader.read(CHUNK):
            writer.write(b"%x\r\n%s\r\n" % (len(data), data) if rechunk else data)
            await writer.drain()
        if rechunk:
            writer.write(b"0\r\n\r\n")
            await writer.drain()


async def _copy_exactly(reader: asyncio.StreamReader, writer: Sink, count: int) -> None:
    while count > 0:
        data = await reader.read(min(count, CHUNK))
        if not data:
            raise asyncio.IncompleteReadError(b"", count)
        writer.write(data)
        count -= len(data)
        await writer.drain()


async def splice(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy bytes one way until the reader ends, then half-close the writer (Upgrade, 101)."""
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass
