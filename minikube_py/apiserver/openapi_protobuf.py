"""The Swagger 2.0 document in protobuf, the only form in which kubectl reads ``/openapi/v2``.

kubectl fetches ``/openapi/v2`` with ``Accept: application/com.github.proto-openapi.spec.v2@
v1.0+protobuf`` and decodes it as gnostic's ``openapi.v2.Document`` message: for
``kubectl explain --output=plaintext-openapiv2``, and during ``kubectl apply`` of a custom
resource (it looks for the kind's PATCH content types there, finds none, and sends a JSON merge
patch). This module writes that message from the JSON document by hand — the protobuf wire
format is small: each field is a key (field number and wire type) followed by a varint, eight
bytes (a double) or a length-prefixed byte string (text or a nested message).

Only the parts kubectl reads are written: ``swagger``, ``info`` and the ``definitions`` with
every schema keyword Swagger 2.0 has. Extensions (``x-kubernetes-group-version-kind`` and
friends) and free values (``default``, ``enum``, ``example``) travel as YAML text, as gnostic
stores them; JSON is valid YAML.
"""

from __future__ import annotations

import struct
from typing import Any

import orjson

ACCEPTED = (  # what kubectl asks for, and its newer spelling
    "application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
)
# What the answer says it is: "@" is no token character, Go's media type parser refuses it.
MEDIA_TYPE = ACCEPTED[1]
# Schema fields by JSON keyword: (field number, kind); the numbers are gnostic's.
_TEXT = {"$ref": 1, "format": 2, "title": 3, "description": 4, "pattern": 13, "discriminator": 26}
_DOUBLE = {"multipleOf": 6, "maximum": 7, "minimum": 9}
_BOOL = {"exclusiveMaximum": 8, "exclusiveMinimum": 10, "uniqueItems": 16, "readOnly": 27}
_INT = {
    "maxLength": 11,
    "minLength": 12,
    "maxItems": 14,
    "minItems": 15,
    "maxProperties": 17,
    "minProperties": 18,
}
_FREE = {"default": 5, "example": 30}  # an ``Any`` holding YAML
_REQUIRED, _ENUM, _ADDITIONAL, _TYPE, _ITEMS, _ALL_OF, _PROPERTIES, _EXTENSION = (
    19, 20, 21, 22, 23, 24, 25, 31,
)  # fmt: skip


def encode_document(document: dict[str, Any]) -> bytes:
    """``openapi.v2.Document``: swagger (1), info (2: title 1, version 2), definitions (9)."""
    info = document.get("info") or {}
    out = bytearray()
    out += _text(1, str(document.get("swagger", "2.0")))
    out += _message(
        2, _text(1, str(info.get("title", ""))) + _text(2, str(info.get("version", "")))
    )
    definitions = b"".join(
        _named_schema(name, body) for name, body in (document.get("definitions") or {}).items()
    )
    out += _message(9, definitions)
    return bytes(out)


def _named_schema(name: str, body: dict[str, Any]) -> bytes:
    """A ``NamedSchema`` (name 1, value 2) as field 1 of its parent's list."""
    return _message(1, _text(1, name) + _message(2, encode_schema(body)))


def encode_schema(schema: dict[str, Any]) -> bytes:
    """One ``openapi.v2.Schema``; keywords Swagger 2.0 lacks (``oneOf``, ``nullable``) drop."""
    out = bytearray()
    for key, value in schema.items():
        if key in _TEXT and isinstance(value, str):
            out += _text(_TEXT[key], value)
        elif key in _DOUBLE and isinstance(value, int | float):
            out += _key(_DOUBLE[key], 1) + struct.pack("<d", float(value))
        elif key in _BOOL and isinstance(value, bool):
            out += _key(_BOOL[key], 0) + _varint(int(value))
        elif key in _INT and isinstance(value, int):
            out += _key(_INT[key], 0) + _varint(value)
        elif key in _FREE:
            out += _message(_FREE[key], _yaml(value))
        elif key == "required" and isinstance(value, list):
            out += b"".join(_text(_REQUIRED, str(field)) for field in value)
        elif key == "enum" and isinstance(value, list):
            out += b"".join(_message(_ENUM, _yaml(item)) for item in value)
        elif key == "additionalProperties" and isinstance(value, dict):
            out += _message(_ADDITIONAL, _message(1, encode_schema(value)))
        elif key == "additionalProperties" and isinstance(value, bool):
            out += _message(_ADDITIONAL, _key(2, 0) + _varint(int(value)))
        elif key == "type":
            types = value if isinstance(value, list) else [value]
            out += _message(_TYPE, b"".join(_text(1, str(t)) for t in types))
        elif key == "items" and isinstance(value, dict | list):
            items = value if isinstance(value, list) else [value]
            out += _message(_ITEMS, b"".join(_message(1, encode_schema(i)) for i in items))
        elif key == "allOf" and isinstance(value, list):
            out += b"".join(_message(_ALL_OF, encode_schema(part)) for part in value)
        elif key == "properties" and isinstance(value, dict):
            named = b"".join(_named_schema(field, sub) for field, sub in value.items())
            out += _message(_PROPERTIES, named)
        elif key.startswith("x-"):
            out += _message(_EXTENSION, _text(1, key) + _message(2, _yaml(value)))
    return bytes(out)


def _yaml(value: Any) -> bytes:
    """A gnostic ``Any`` carrying ``value`` as YAML text (field 2)."""
    return _text(2, orjson.dumps(value).decode())


def _key(field: int, wire_type: int) -> bytes:
    return _varint(field << 3 | wire_type)


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64 values take ten bytes, two's complement
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _message(field: int, payload: bytes) -> bytes:
    return _key(field, 2) + _varint(len(payload)) + payload


def _text(field: int, value: str) -> bytes:
    return _message(field, value.encode())
