"""SPDY/3.1 framing: the binary protocol under ``kubectl port-forward``.

SPDY multiplexes many *streams* over one connection (a TCP connection after an HTTP
``Upgrade: SPDY/3.1``, or a WebSocket whose binary messages carry the same bytes). Everything
on the wire is a *frame* with an 8-byte header:

- a **data frame**: a 0 bit, the 31-bit stream id, 8 bits of flags (``FIN`` = the sender's
  half of the stream is done), a 24-bit length, then that many payload bytes;
- a **control frame**: a 1 bit, the 15-bit version (3), a 16-bit type, flags, length, body:
  ``SYN_STREAM`` opens a stream (its id, priority and a block of name/value headers),
  ``SYN_REPLY`` accepts it, ``RST_STREAM`` aborts it, ``SETTINGS``, ``PING`` (echoed back by
  the peer), ``GOAWAY`` (no new streams), ``HEADERS`` and ``WINDOW_UPDATE``.

Header blocks (``count``, then length-prefixed names and values, all 32-bit big-endian; a
value holding several values separates them with NUL) are zlib-compressed, and the two
directions of a connection each keep ONE compression context for their whole life, primed with
the fixed dictionary from the specification: so the codec for a connection is stateful and
frames must be encoded in the order they are sent. This module is framing only, no I/O
(``portforward.py`` runs sessions over it). Spec: chromium.org/spdy/spdy-protocol/
spdy-protocol-draft3-1.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Mapping

import attrs

VERSION = 3
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS = 1, 2, 3, 4
PING, GOAWAY, HEADERS, WINDOW_UPDATE = 6, 7, 8, 9
FLAG_FIN = 0x01
FLAG_UNIDIRECTIONAL = 0x02  # SYN_STREAM only; for SETTINGS 0x01 means "clear settings"
# RST_STREAM status codes
PROTOCOL_ERROR, INVALID_STREAM, REFUSED_STREAM, UNSUPPORTED_VERSION, CANCEL = 1, 2, 3, 4, 5
INTERNAL_ERROR = 6
MAX_LENGTH = (1 << 24) - 1  # the 24-bit length field
_STREAM_MASK = 0x7FFFFFFF


def _words(text: str) -> list[str]:
    return [text] if text == "200 OK" else text.split(" ")


def _dictionary() -> bytes:
    """The SPDY/3 header compression dictionary, as the draft-3 specification (section 2.6.10.1)
    lists it: length-prefixed header names and common values, then a run of raw text
    (status codes, dates, content types). 1423 bytes; data from the specification."""
    # the header names and values of the dictionary's first part, space-separated
    names = (
        "options head post put delete trace accept accept-charset accept-encoding "
        "accept-language accept-ranges age allow authorization cache-control connection "
        "content-base content-encoding content-language content-length content-location "
        "content-md5 content-range content-type date etag expect expires from host if-match "
        "if-modified-since if-none-match if-range if-unmodified-since last-modified location "
        "max-forwards pragma proxy-authenticate proxy-authorization range referer retry-after "
        "server te trailer transfer-encoding upgrade user-agent vary via warning "
        "www-authenticate method get status|200 OK|version HTTP/1.1 url public set-cookie "
        "keep-alive origin"
    )
    words = [word for part in names.split("|") for word in _words(part)]
    tail = (
        "100101201202205206300302303304305306307402405406407408409410411412413414415416417"
        "502504505203 Non-Authoritative Information204 No Content301 Moved Permanently"
        "400 Bad Request401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error"
        "501 Not Implemented503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct "
        "Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,"
        "image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
        "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8"
        "charset=iso-8859-1,utf-,*,enq=0."
    )
    prefixed = b"".join(struct.pack("!I", len(word)) + word.encode() for word in words)
    return prefixed + tail.encode()


DICTIONARY = _dictionary()


class SpdyError(Exception):
    """Bytes that are not SPDY/3: the connection cannot go on."""


Headers = Mapping[str, str]  # lowercase names; several values NUL-separated


@attrs.frozen
class Data:
    stream_id: int
    data: bytes = b""
    flags: int = 0

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)


@attrs.frozen
class SynStream:
    stream_id: int
    headers: Headers
    flags: int = 0
    associated_to: int = 0
    priority: int = 0  # 3 bits, 0 the highest

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)


@attrs.frozen
class SynReply:
    stream_id: int
    headers: Headers = attrs.field(factory=dict)
    flags: int = 0


@attrs.frozen
class HeadersFrame:
    stream_id: int
    headers: Headers
    flags: int = 0


@attrs.frozen
class RstStream:
    stream_id: int
    status: int


@attrs.frozen
class Settings:
    entries: tuple[tuple[int, int, int], ...] = ()  # (flags, id, value)
    flags: int = 0


@attrs.frozen
class Ping:
    id: int


@attrs.frozen
class GoAway:
    last_good_stream_id: int
    status: int = 0  # 0 OK, 1 PROTOCOL_ERROR, 2 INTERNAL_ERROR


@attrs.frozen
class WindowUpdate:
    stream_id: int
    delta: int


Frame = (
    Data | SynStream | SynReply | HeadersFrame | RstStream | Settings | Ping | GoAway | WindowUpdate
)


def pack_headers(headers: Headers) -> bytes:
    """An uncompressed name/value block."""
    parts = [struct.pack("!I", len(headers))]
    for name, value in headers.items():
        raw_name, raw_value = name.lower().encode(), value.encode()
        parts += [struct.pack("!I", len(raw_name)), raw_name]
        parts += [struct.pack("!I", len(raw_value)), raw_value]
    return b"".join(parts)


def unpack_headers(block: bytes) -> dict[str, str]:
    """An uncompressed name/value block; a repeated name gets its values NUL-joined."""
    try:
        (count,), offset = struct.unpack_from("!I", block), 4
        headers: dict[str, str] = {}
        for _ in range(count):
            fields = []
            for _ in range(2):
                (length,) = struct.unpack_from("!I", block, offset)
                offset += 4
                if offset + length > len(block):
                    raise SpdyError("truncated header block")
                fields.append(block[offset : offset + length].decode("utf-8", "replace"))
                offset += length
            name = fields[0].lower()
            if not name:
                raise SpdyError("empty header name")
            headers[name] = f"{headers[name]}\0{fields[1]}" if name in headers else fields[1]
    except struct.error:
        raise SpdyError("truncated header block") from None
    return headers


def _control(kind: int, flags: int, body: bytes) -> bytes:
    if len(body) > MAX_LENGTH:
        raise SpdyError("control frame too large")
    return struct.pack("!HHI", 0x8000 | VERSION, kind, (flags << 24) | len(body)) + body


class Codec:
    """One end of a SPDY connection: encodes what it sends, parses what it receives. Each
    direction has its own zlib context, which is why one ``Codec`` serves one connection."""

    def __init__(self) -> None:
        self._compress = zlib.compressobj(9, zlib.DEFLATED, 15, zdict=DICTIONARY)
        self._decompress = zlib.decompressobj(zdict=DICTIONARY)
        self._buffer = bytearray()

    # ------------------------------------------------------------------ sending

    def compress_headers(self, headers: Headers) -> bytes:
        # a sync flush ends every block on a byte boundary, so the peer can decode it alone
        raw = pack_headers(headers)
        return self._compress.compress(raw) + self._compress.flush(zlib.Z_SYNC_FLUSH)

    def encode(self, frame: Frame) -> bytes:
        """The frame's bytes; header blocks go through this connection's compressor, so
        frames must be sent in the order they were encoded."""
        if isinstance(frame, Data):
            if len(frame.data) > MAX_LENGTH:
                raise SpdyError("data frame too large")
            head = struct.pack("!II", frame.stream_id & _STREAM_MASK, frame.flags << 24)
            return head[:5] + len(frame.data).to_bytes(3, "big") + frame.data
        if isinstance(frame, SynStream):
            body = struct.pack(
                "!IIBB",
                frame.stream_id & _STREAM_MASK,
                frame.associated_to & _STREAM_MASK,
                (frame.priority & 0x7) << 5,
                0,
            )
            return _control(SYN_STREAM, frame.flags, body + self.compress_headers(frame.headers))
        if isinstance(frame, SynReply | HeadersFrame):
            kind = SYN_REPLY if isinstance(frame, SynReply) else HEADERS
            body = struct.pack("!I", frame.stream_id & _STREAM_MASK)
            return _control(kind, frame.flags, body + self.compress_headers(frame.headers))
        if isinstance(frame, RstStream):
            body = struct.pack("!II", frame.stream_id & _STREAM_MASK, frame.status)
            return _control(RST_STREAM, 0, body)
        if isinstance(frame, Settings):
            entries = b"".join(
                struct.pack("!II", (flags << 24) | (key & 0xFFFFFF), value)
                for flags, key, value in frame.entries
            )
            return _control(SETTINGS, frame.flags, struct.pack("!I", len(frame.entries)) + entries)
        if isinstance(frame, Ping):
            return _control(PING, 0, struct.pack("!I", frame.id))
        if isinstance(frame, GoAway):
            body = struct.pack("!II", frame.last_good_stream_id & _STREAM_MASK, frame.status)
            return _control(GOAWAY, 0, body)
        body = struct.pack("!II", frame.stream_id & _STREAM_MASK, frame.delta & _STREAM_MASK)
        return _control(WINDOW_UPDATE, 0, body)

    # ---------------------------------------------------------------- receiving

    def feed(self, data: bytes) -> list[Frame]:
        """The frames completed by ``data`` (a partial frame waits for more bytes). Unknown
        control frame types are skipped, as the specification asks."""
        self._buffer += data
        frames: list[Frame] = []
        while len(self._buffer) >= 8:
            first, second = struct.unpack_from("!II", self._buffer)
            length = second & 0xFFFFFF
            if len(self._buffer) < 8 + length:
                break
            flags, body = second >> 24, bytes(self._buffer[8 : 8 + length])
            del self._buffer[: 8 + length]
            if not first & 0x80000000:
                frames.append(Data(first & _STREAM_MASK, body, flags))
                continue
            version, kind = (first >> 16) & 0x7FFF, first & 0xFFFF
            if version != VERSION:
                raise SpdyError(f"unsupported SPDY version {version}")
            frame = self._control(kind, flags, body)
            if frame is not None:
                frames.append(frame)
        return frames

    def _headers(self, block: bytes) -> dict[str, str]:
        try:
            raw = self._decompress.decompress(block)
        except zlib.error as error:
            raise SpdyError(f"bad header block: {error}") from None
        return unpack_headers(raw)

    def _control(self, kind: int, flags: int, body: bytes) -> Frame | None:
        try:
            if kind == SYN_STREAM:
                stream_id, associated, priority = struct.unpack_from("!IIB", body)
                return SynStream(
                    stream_id & _STREAM_MASK,
                    self._headers(body[10:]),
                    flags,
                    associated & _STREAM_MASK,
                    priority >> 5,
                )
            if kind in (SYN_REPLY, HEADERS):
                (stream_id,) = struct.unpack_from("!I", body)
                headers = self._headers(body[4:])
                if kind == SYN_REPLY:
                    return SynReply(stream_id & _STREAM_MASK, headers, flags)
                return HeadersFrame(stream_id & _STREAM_MASK, headers, flags)
            if kind == RST_STREAM:
                stream_id, status = struct.unpack_from("!II", body)
                return RstStream(stream_id & _STREAM_MASK, status)
            if kind == SETTINGS:
                (count,) = struct.unpack_from("!I", body)
                entries = []
                for index in range(count):
                    head, value = struct.unpack_from("!II", body, 4 + 8 * index)
                    entries.append((head >> 24, head & 0xFFFFFF, value))
                return Settings(tuple(entries), flags)
            if kind == PING:
                return Ping(struct.unpack_from("!I", body)[0])
            if kind == GOAWAY:
                last, status = struct.unpack_from("!II", body) if len(body) >= 8 else (0, 0)
                if len(body) == 4:  # SPDY/2-style GOAWAY without a status
                    (last,) = struct.unpack_from("!I", body)
                return GoAway(last & _STREAM_MASK, status)
            if kind == WINDOW_UPDATE:
                stream_id, delta = struct.unpack_from("!II", body)
                return WindowUpdate(stream_id & _STREAM_MASK, delta & _STREAM_MASK)
        except struct.error:
            raise SpdyError(f"truncated control frame of type {kind}") from None
        return None


def encode_all(codec: Codec, frames: Iterable[Frame]) -> bytes:
    return b"".join(codec.encode(frame) for frame in frames)
