"""Turning one protobuf message into the dict the JSON API would have received.

The rule is "emit what upstream's JSON encoding of the decoded Go object would emit":

* Fields come out under their JSON names, in declaration order (Go's JSON order).
* A field kubectl left unset is not on the wire at all, so it is simply absent.
* Go *non-pointer* scalars are always on the wire, even when empty (gogo protobuf writes
  ``name: ""`` and ``paused: false``); their JSON tag has ``omitempty``, so zeros are dropped
  (mode ``OMIT_ZERO``). A *pointer* that is on the wire was set on purpose, zero or not
  (``replicas: 0``, ``automountServiceAccountToken: false``): mode ``KEEP_ZERO``.
* Nested messages that are present come out even when empty (``"status": {}``), as Go's JSON
  does for structs; ``meta.v1.Time`` and the other special types follow ``wellknown``.
* ``bytes`` become base64 text (``Secret.data``), as JSON carries them; maps become objects.
* Fields the schema does not know are skipped, as Go's decoder skips them: a newer kubectl
  may send fields added after 1.32.

A singular message field that appears twice is merged (protobuf's rule, which Go follows) by
decoding the concatenation of both occurrences.
"""

from __future__ import annotations

import base64
from typing import Any

from minikube_py.api.protobuf import wellknown, wire
from minikube_py.api.protobuf.schema import (
    INLINE,
    KEEP_ZERO,
    MAP,
    REPEATED,
    SCALARS,
    Field,
    fields,
)

# Kubernetes objects nest about a dozen messages deep; a RawExtension may embed a whole
# object again. Anything deeper is crafted input, refused before Python's own stack limit.
MAX_DEPTH = 64

_VARINT_TYPES = frozenset({"int32", "int64", "uint32", "uint64", "bool", "sint32", "sint64"})
_FIXED64_TYPES = frozenset({"fixed64", "sfixed64", "double"})
_FIXED32_TYPES = frozenset({"fixed32", "sfixed32", "float"})


class LocatedError(ValueError):
    """A defect, with the JSON path of the field it was found in (outermost first)."""

    def __init__(self, reason: str, path: list[str]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path

    def __str__(self) -> str:
        where = "".join(p if p.startswith("[") else f".{p}" for p in self.path).lstrip(".")
        return f"{where}: {self.reason}" if where else self.reason


def _at(error: ValueError, step: str) -> LocatedError:
    if isinstance(error, LocatedError):
        return LocatedError(error.reason, [step, *error.path])
    return LocatedError(str(error), [step])


def decode_message(message: str, data: bytes, depth: int = 0) -> Any:
    """The JSON value of ``data`` read as ``message``: a dict, or for the special types of
    ``wellknown`` a string, number, list or ``None`` (null)."""
    if depth > MAX_DEPTH:
        raise ValueError(f"messages are nested more than {MAX_DEPTH} deep")
    known = fields(message)
    raw: dict[int, Any] = {}
    for number, wire_type, value in wire.iter_fields(data):
        field = known.get(number)
        if field is None:
            continue
        try:
            _collect(raw, field, wire_type, value, depth)
        except ValueError as error:
            raise _at(error, field.name) from None
    if message in wellknown.SPECIAL:
        return wellknown.convert(message, raw, empty=not data)
    result: dict[str, Any] = {}
    inlined: list[dict[str, Any]] = []
    for field in known.values():
        if field.number not in raw:
            continue
        value = raw[field.number]
        if field.mode in (REPEATED, MAP) or field.type in SCALARS:
            if not value and field.mode != KEEP_ZERO:
                continue  # omitempty's zero, or an empty packed list (a nil Go slice)
            result[field.name] = _json(value) if field.type == "bytes" else value
            continue
        try:
            value = decode_message(field.type, value, depth + 1)
        except ValueError as error:
            raise _at(error, field.name) from None
        if field.mode == INLINE and isinstance(value, dict):
            inlined.append(value)
        elif value is not None:
            result[field.name] = value
    for child in inlined:  # Go's rule: a field of the outer struct wins over an embedded one
        for name, value in child.items():
            result.setdefault(name, value)
    return result


def _collect(raw: dict[int, Any], field: Field, wire_type: int, value: Any, depth: int) -> None:
    """Record one occurrence of ``field``: the last one wins for a scalar, occurrences of a
    message are concatenated (merged), repeated and map fields accumulate."""
    if field.mode == MAP:
        key, item = _map_entry(field, _bytes(wire_type, value), depth)
        raw.setdefault(field.number, {})[key] = item
    elif field.mode == REPEATED:
        items = raw.setdefault(field.number, [])
        if field.type in SCALARS:
            items.extend(_repeated_scalars(field.type, wire_type, value))
        else:
            try:
                items.append(decode_message(field.type, _bytes(wire_type, value), depth + 1))
            except ValueError as error:
                raise _at(error, f"[{len(items)}]") from None
    elif field.type in SCALARS:
        raw[field.number] = scalar(field.type, wire_type, value)
    else:
        raw[field.number] = raw.get(field.number, b"") + _bytes(wire_type, value)


def _map_entry(field: Field, entry: bytes, depth: int) -> tuple[str, Any]:
    """A map is a repeated message ``{1: key, 2: value}``; either may be left out (zero)."""
    key: Any = ""
    item: Any = None
    for number, wire_type, value in wire.iter_fields(entry):
        if number == 1:
            key = scalar(field.key, wire_type, value)
        elif number == 2:
            item = (
                scalar(field.type, wire_type, value)
                if field.type in SCALARS
                else _bytes(wire_type, value)
            )
    if field.type not in SCALARS:
        try:
            item = decode_message(field.type, item or b"", depth + 1)
        except ValueError as error:
            raise _at(error, str(key)) from None
    elif item is None:
        item = scalar(field.type, *_ZERO[field.type])
    return (key if isinstance(key, str) else str(key)), item


def _repeated_scalars(ftype: str, wire_type: int, value: Any) -> list[Any]:
    if wire_type == wire.BYTES and ftype not in ("string", "bytes"):
        # A packed run: numbers back to back in one length-delimited field.
        packed_wire = (
            wire.FIXED64
            if ftype in _FIXED64_TYPES
            else wire.FIXED32
            if ftype in _FIXED32_TYPES
            else wire.VARINT
        )
        return [scalar(ftype, packed_wire, n) for n in wire.iter_packed(value, packed_wire)]
    return [scalar(ftype, wire_type, value)]


def scalar(ftype: str, wire_type: int, value: Any) -> Any:
    """A scalar field's Python value (``bytes`` stay bytes until ``_json``)."""
    expected = (
        wire.VARINT
        if ftype in _VARINT_TYPES
        else wire.FIXED64
        if ftype in _FIXED64_TYPES
        else wire.FIXED32
        if ftype in _FIXED32_TYPES
        else wire.BYTES
    )
    if wire_type != expected:
        raise ValueError(f"a {ftype} field has wire type {wire_type}, not {expected}")
    if ftype == "string":
        # Go keeps invalid UTF-8 as is; its JSON encoder then writes U+FFFD for it.
        return value.decode("utf-8", errors="replace")
    if ftype == "bytes":
        return value
    if ftype == "bool":
        return value != 0
    if ftype in ("int32", "sfixed32"):
        return wire.signed(value, 32)
    if ftype in ("int64", "sfixed64"):
        return wire.signed(value, 64)
    if ftype == "uint32":
        return value & 0xFFFFFFFF
    if ftype == "sint32":
        return wire.zigzag(value & 0xFFFFFFFF)
    if ftype == "sint64":
        return wire.zigzag(value)
    if ftype in ("double", "float"):
        return wire.floating(value, wire_type)
    return value  # uint64, fixed32, fixed64


_ZERO: dict[str, tuple[int, Any]] = {
    t: (
        (wire.BYTES, b"")
        if t in ("string", "bytes")
        else (wire.FIXED64, 0)
        if t in _FIXED64_TYPES
        else (wire.FIXED32, 0)
        if t in _FIXED32_TYPES
        else (wire.VARINT, 0)
    )
    for t in SCALARS
}


def _bytes(wire_type: int, value: Any) -> bytes:
    if wire_type != wire.BYTES:
        raise ValueError(f"a message field has wire type {wire_type}, not {wire.BYTES}")
    return bytes(value)


def _json(value: Any) -> Any:
    """A ``bytes`` field's value as base64 text, as Go's JSON encodes ``[]byte``; lists and
    maps of them element-wise."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, list):
        return [_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _json(item) for key, item in value.items()}
    return value
