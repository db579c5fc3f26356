"""Which fields each Kubernetes message has: the data in ``schema.json``, loaded on first use.

Protobuf bytes carry field *numbers*, never names, so decoding needs the schema: for each
message (``apps.v1.DeploymentSpec``), each field's number, its JSON name, its type and a
*mode*. ``tools/protobuf_schema.py`` writes the file from the descriptors compiled into kubectl
(see its docstring for why there and not the ``.proto`` text).

Message names drop the Go import path: ``core.v1.Pod``, ``apps.v1.Deployment``,
``meta.v1.ObjectMeta``, ``intstr.IntOrString``, ``resource.Quantity``, ``runtime.RawExtension``.

The file is read on the first protobuf request, not at import: most clusters never get one,
and start-up should not pay for it.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any, NamedTuple

# Modes, as the generator writes them.
OMIT_ZERO = 0  # a Go non-pointer field: always on the wire, but JSON's omitempty drops zeros
KEEP_ZERO = 1  # a Go pointer (or a field without omitempty): present means set, zero included
REPEATED = 2
MAP = 3
INLINE = 4  # a Go struct embedded with json:",inline": its fields join the parent's

SCALARS = frozenset(
    {
        "double",
        "float",
        "int64",
        "uint64",
        "int32",
        "fixed64",
        "fixed32",
        "bool",
        "string",
        "bytes",
        "uint32",
        "sfixed32",
        "sfixed64",
        "sint32",
        "sint64",
    }
)
# The bodies that are not API objects with metadata but may still be sent on their own.
STANDALONE = frozenset({"meta.v1.DeleteOptions", "meta.v1.Status"})


class Field(NamedTuple):
    number: int
    name: str  # the JSON name
    type: str  # a scalar type or a message name; for a map, the value's type
    mode: int
    key: str = ""  # a map's key type


@functools.cache
def _messages() -> dict[str, list[list[Any]]]:
    text = resources.files(__package__).joinpath("schema.json").read_text(encoding="utf-8")
    messages: dict[str, list[list[Any]]] = json.loads(text)["messages"]
    return messages


@functools.cache
def fields(message: str) -> dict[int, Field]:
    """The message's fields by number, in declaration order (the order Go's JSON uses)."""
    result: dict[int, Field] = {}
    for number, name, ftype, mode in _messages()[message]:
        if mode == MAP:
            key, value = ftype
            result[number] = Field(number, name, value, mode, key)
        else:
            result[number] = Field(number, name, ftype, mode)
    return result


def has(message: str) -> bool:
    return message in _messages()


def object_message(api_version: str, kind: str) -> str:
    """The message of a top-level body: ``apps/v1`` + ``Deployment`` is
    ``apps.v1.Deployment``; ``v1`` is the core group; options and Status may come under any
    group version (client-go sends DeleteOptions in the group of the object it deletes)."""
    group, _, version = api_version.rpartition("/")
    # The package is the group's first DNS label: rbac.authorization.k8s.io is "rbac".
    package = group.split(".", 1)[0] if group else "core"
    for candidate in (f"{package}.{version}.{kind}", f"meta.v1.{kind}"):
        if candidate in STANDALONE:
            return candidate
        if has(candidate) and any(f.name == "metadata" for f in fields(candidate).values()):
            return candidate
    raise ValueError(
        f"no protobuf schema for {api_version or '(no apiVersion)'} {kind or '(no kind)'}"
    )
