"""The envelope around every Kubernetes protobuf body, and the one entry point.

A body sent as ``Content-Type: application/vnd.kubernetes.protobuf`` is::

    6b 38 73 00                    "k8s\\0", the magic that marks the format
    <runtime.Unknown message>      field 1 typeMeta {1: apiVersion, 2: kind}
                                   field 2 raw: the object's own message (Deployment ...)
                                   field 3 contentEncoding (always empty from client-go)
                                   field 4 contentType (empty, or the protobuf media type)

Protobuf messages do not say what they are, so the envelope names the type: ``apiVersion``
and ``kind`` pick the schema for ``raw``, and they are put back into the result because the
JSON form carries them in the object itself.
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.protobuf import decoder, schema, wire

MAGIC = b"k8s\x00"
MEDIA_TYPE = "application/vnd.kubernetes.protobuf"


def decode_request(body: bytes) -> dict[str, Any]:
    """The JSON-shaped object of a Kubernetes protobuf request body.

    Raises ``ValueError`` with a readable message for anything that is not a well-formed body
    of a known kind, and never anything else, whatever the bytes.
    """
    try:
        return _decode(bytes(body))
    except decoder.LocatedError as error:
        raise ValueError(f"invalid protobuf body at {error}") from None
    except ValueError as error:
        raise ValueError(f"invalid protobuf body: {error}") from None
    except RecursionError:  # defence in depth: MAX_DEPTH should make this unreachable
        raise ValueError("invalid protobuf body: nested too deeply") from None


def _decode(body: bytes) -> dict[str, Any]:
    if not body.startswith(MAGIC):
        raise ValueError(f"it does not start with the magic bytes {MAGIC!r}")
    type_meta = b""
    raw = b""
    encoding = content_type = ""
    for number, wire_type, value in wire.iter_fields(body[len(MAGIC) :]):
        if number == 1:
            type_meta = _bytes(wire_type, value, "typeMeta")
        elif number == 2:
            raw = _bytes(wire_type, value, "raw")
        elif number == 3:
            encoding = _bytes(wire_type, value, "contentEncoding").decode("utf-8", "replace")
        elif number == 4:
            content_type = _bytes(wire_type, value, "contentType").decode("utf-8", "replace")
    if encoding:
        raise ValueError(f"contentEncoding {encoding!r} is not supported")
    if content_type and content_type.split(";")[0].strip() != MEDIA_TYPE:
        raise ValueError(f"the envelope holds {content_type!r}, not {MEDIA_TYPE}")
    api_version = kind = ""
    for number, wire_type, value in wire.iter_fields(type_meta):
        if number == 1:
            api_version = _bytes(wire_type, value, "apiVersion").decode("utf-8", "replace")
        elif number == 2:
            kind = _bytes(wire_type, value, "kind").decode("utf-8", "replace")
    message = schema.object_message(api_version, kind)
    decoded = decoder.decode_message(message, raw)
    return {"apiVersion": api_version, "kind": kind, **decoded}


def _bytes(wire_type: int, value: int | bytes, name: str) -> bytes:
    if wire_type != wire.BYTES or not isinstance(value, bytes):
        raise ValueError(f"the envelope's {name} has wire type {wire_type}, not {wire.BYTES}")
    return value
