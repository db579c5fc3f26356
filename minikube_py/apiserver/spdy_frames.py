"""SPDY/3.1 frames as values: what ``kubectl port-forward`` and the API server exchange.

SPDY multiplexes many *streams* over one connection. Everything on the wire is a *frame* with
an 8-byte header:

- a **data frame** (``Data``): a 0 bit, the 31-bit stream id, 8 bits of flags (``FIN`` = the
  sender's half of the stream is done), a 24-bit length, then that many payload bytes;
- a **control frame**: a 1 bit, the 15-bit version (3), a 16-bit type, flags, length, body:
  ``SYN_STREAM`` opens a stream (its id, priority and a block of name/value headers),
  ``SYN_REPLY`` accepts it, ``RST_STREAM`` aborts it, ``SETTINGS``, ``PING`` (echoed back by
  the peer), ``GOAWAY`` (no new streams), ``HEADERS`` and ``WINDOW_UPDATE``.

This module holds the frame types, flags and status codes as immutable records; turning them
into bytes and back is ``spdy.Codec``'s work. Import them from ``spdy``, which re-exports them.
"""

from __future__ import annotations

from collections.abc import Mapping

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
STREAM_MASK = 0x7FFFFFFF  # a stream id is 31 bits; the top bit tells control frames


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
