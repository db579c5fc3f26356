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
frames must be encoded in the order they are sent. This module is the codec (bytes to frames
and back) and the public face of the frame types (``spdy_frames``) and header blocks
(``spdy_headers``), which it re-exports; framing only, no I/O (``portforward.py`` runs sessions
over it). Spec: chromium.org/spdy/spdy-protocol/
spdy-protocol-draft3-1.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable

from minikube_py.apiserver.spdy_frames import (
    CANCEL,
    FLAG_FIN,
    FLAG_UNIDIRECTIONAL,
    GOAWAY,
    HEADERS,
    INTERNAL_ERROR,
    INVALID_STREAM,
    MAX_LENGTH,
    PING,
    PROTOCOL_ERROR,
    REFUSED_STREAM,
    RST_STREAM,
    SETTINGS,
    STREAM_MASK,
    SYN_REPLY,
    SYN_STREAM,
    UNSUPPORTED_VERSION,
    VERSION,
    WINDOW_UPDATE,
    Data,
    Frame,
    GoAway,
    Headers,
    HeadersFrame,
    Ping,
    RstStream,
    Settings,
    SpdyError,
    SynReply,
    SynStream,
    WindowUpdate,
)
from minikube_py.apiserver.spdy_headers import DICTIONARY, pack_headers, unpack_headers

__all__ = [
    "CANCEL",
    "DICTIONARY",
    "FLAG_FIN",
    "FLAG_UNIDIRECTIONAL",
    "GOAWAY",
    "HEADERS",
    "INTERNAL_ERROR",
    "INVALID_STREAM",
    "MAX_LENGTH",
    "PING",
    "PROTOCOL_ERROR",
    "REFUSED_STREAM",
    "RST_STREAM",
    "SETTINGS",
    "SYN_REPLY",
    "SYN_STREAM",
    "UNSUPPORTED_VERSION",
    "VERSION",
    "WINDOW_UPDATE",
    "Codec",
    "Data",
    "Frame",
    "GoAway",
    "Headers",
    "HeadersFrame",
    "Ping",
    "RstStream",
    "Settings",
    "SpdyError",
    "SynReply",
    "SynStream",
    "WindowUpdate",
    "encode_all",
    "pack_headers",
    "unpack_headers",
]


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
            head = struct.pack("!II", frame.stream_id & STREAM_MASK, frame.flags << 24)
            return head[:5] + len(frame.data).to_bytes(3, "big") + frame.data
        if isinstance(frame, SynStream):
            body = struct.pack(
                "!IIBB",
                frame.stream_id & STREAM_MASK,
                frame.associated_to & STREAM_MASK,
                (frame.priority & 0x7) << 5,
                0,
            )
            return _control(SYN_STREAM, frame.flags, body + self.compress_headers(frame.headers))
        if isinstance(frame, SynReply | HeadersFrame):
            kind = SYN_REPLY if isinstance(frame, SynReply) else HEADERS
            body = struct.pack("!I", frame.stream_id & STREAM_MASK)
            return _control(kind, frame.flags, body + self.compress_headers(frame.headers))
        if isinstance(frame, RstStream):
            body = struct.pack("!II", frame.stream_id & STREAM_MASK, frame.status)
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
            body = struct.pack("!II", frame.last_good_stream_id & STREAM_MASK, frame.status)
            return _control(GOAWAY, 0, body)
        body = struct.pack("!II", frame.stream_id & STREAM_MASK, frame.delta & STREAM_MASK)
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
                frames.append(Data(first & STREAM_MASK, body, flags))
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
                    stream_id & STREAM_MASK,
                    self._headers(body[10:]),
                    flags,
                    associated & STREAM_MASK,
                    priority >> 5,
                )
            if kind in (SYN_REPLY, HEADERS):
                (stream_id,) = struct.unpack_from("!I", body)
                headers = self._headers(body[4:])
                if kind == SYN_REPLY:
                    return SynReply(stream_id & STREAM_MASK, headers, flags)
                return HeadersFrame(stream_id & STREAM_MASK, headers, flags)
            if kind == RST_STREAM:
                stream_id, status = struct.unpack_from("!II", body)
                return RstStream(stream_id & STREAM_MASK, status)
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
                return GoAway(last & STREAM_MASK, status)
            if kind == WINDOW_UPDATE:
                stream_id, delta = struct.unpack_from("!II", body)
                return WindowUpdate(stream_id & STREAM_MASK, delta & STREAM_MASK)
        except struct.error:
            raise SpdyError(f"truncated control frame of type {kind}") from None
        return None


def encode_all(codec: Codec, frames: Iterable[Frame]) -> bytes:
    return b"".join(codec.encode(frame) for frame in frames)
