"""The protobuf wire format: how a message is laid out as bytes, with no schema involved.

A message is a flat run of *fields*. Each starts with a varint key, ``number << 3 | wire
type``, then the value, whose length the wire type tells:

* 0, varint: an integer in 7-bit groups, low group first, high bit set on all but the last
  byte (``int32``, ``int64``, ``bool`` ...; negative ``int32``/``int64`` take ten bytes);
* 1, fixed 8 bytes (``double``, ``fixed64``); 5, fixed 4 bytes (``float``, ``fixed32``);
* 2, length-delimited: a varint length, then that many bytes (``string``, ``bytes``, a nested
  message, a map entry, or a packed run of numbers).

Wire types 3 and 4 (proto2 "groups") are not used by Kubernetes, so they are errors here. A
field may repeat; the schema says whether that means "a list" or "the last one wins".

Everything that can go wrong with untrusted bytes (a truncated varint, a length past the end,
a varint longer than ten bytes) raises ``ValueError``; nothing here loops more than once per
input byte.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

VARINT, FIXED64, BYTES, FIXED32 = 0, 1, 2, 5
MAX_VARINT_BYTES = 10  # 64 bits in 7-bit groups
MASK64 = (1 << 64) - 1


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """The unsigned 64-bit varint at ``pos`` and the position after it."""
    result = shift = 0
    start = pos
    while pos < len(data):
        if pos - start == MAX_VARINT_BYTES:
            raise ValueError("a varint is longer than ten bytes")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            # Bits past 64 in a tenth byte are dropped, as Go's decoder drops them.
            return result & MASK64, pos
        shift += 7
    raise ValueError("the message ends inside a varint")


def iter_fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) for each field: an int for varints and fixed-size
    values (their little-endian bits), bytes for length-delimited ones."""
    pos, size = 0, len(data)
    while pos < size:
        key, pos = read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0 or number > 0x1FFFFFFF:
            raise ValueError(f"invalid field number {number}")
        value: int | bytes
        if wire == VARINT:
            value, pos = read_varint(data, pos)
        elif wire == BYTES:
            length, pos = read_varint(data, pos)
            if length > size - pos:
                raise ValueError(
                    f"field {number} claims {length} bytes but only {size - pos} remain"
                )
            value, pos = data[pos : pos + length], pos + length
        elif wire in (FIXED64, FIXED32):
            width = 8 if wire == FIXED64 else 4
            if width > size - pos:
                raise ValueError(f"field {number} is cut short")
            value, pos = int.from_bytes(data[pos : pos + width], "little"), pos + width
        else:
            raise ValueError(f"field {number} has unsupported wire type {wire}")
        yield number, wire, value


def iter_packed(data: bytes, wire: int) -> Iterator[int]:
    """The numbers of a packed repeated field: varints, or fixed-size little-endian values."""
    pos = 0
    if wire == VARINT:
        while pos < len(data):
            value, pos = read_varint(data, pos)
            yield value
        return
    width = 8 if wire == FIXED64 else 4
    if len(data) % width:
        raise ValueError(f"a packed run of {width}-byte values has {len(data)} bytes")
    for start in range(0, len(data), width):
        yield int.from_bytes(data[start : start + width], "little")


def signed(value: int, bits: int) -> int:
    """Two's complement reinterpretation of the low ``bits`` bits (Go's ``int32(v)``)."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def zigzag(value: int) -> int:
    """``sint32``/``sint64``: 0, -1, 1, -2 ... are stored as 0, 1, 2, 3 ..."""
    return (value >> 1) ^ -(value & 1)


def floating(bits: int, wire: int) -> float:
    """A ``double`` (8 bytes) or ``float`` (4 bytes) from its little-endian bits."""
    if wire == FIXED64:
        value: float = struct.unpack("<d", bits.to_bytes(8, "little"))[0]
    else:
        value = struct.unpack("<f", bits.to_bytes(4, "little"))[0]
    if value != value or value in (float("inf"), float("-inf")):
        # JSON has no NaN or infinity; Go's encoder refuses them too.
        raise ValueError("a floating-point field is NaN or infinite")
    return value
