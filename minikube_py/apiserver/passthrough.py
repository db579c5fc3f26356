"""Serving stored JSON without decoding it: the fast path of a big list.

A list of 5,000 pods is about 10 MB of JSON. Decoding every stored object into dicts only to
encode them again costs far more than reading them from the store, and usually nothing needs
the dicts: the served form of a built-in kind *is* its stored form (``objects.py``), but for
one thing — the ``resourceVersion``, which is not stored inside the object but stamped on it
at read time from the store's mod revision.

So the stamp is spliced into the bytes: ``"resourceVersion":"N"`` becomes the first field of
``metadata``. Finding ``metadata`` must not be fooled by a nested one (a Deployment's
``spec.template.metadata``) nor by text inside a string, so the splice only happens when
everything before ``"metadata":{`` is plain top-level ``"key":"value",`` pairs — what the
stored form of a built-in kind starts with (``apiVersion``, ``kind``). Anything else is
decoded and encoded as before: slower, never wrong.

Not every kind qualifies: custom resources get their served ``apiVersion`` and schema defaults
on read, and a few kinds are stored in another version (``api/conversion.py``). Those, and
every Table or field-selected list, go through the decoded path.
"""

from __future__ import annotations

import re
from typing import Any

from minikube_py.api.conversion import STORED_AS
from minikube_py.api.customresources import CustomResourceType
from minikube_py.api.resources import ResourceType
from minikube_py.apiserver.objects import Object, dump_json, read
from minikube_py.store import KeyValue

# The stored object's opening up to its top-level metadata, with only simple string pairs
# before it (no braces, brackets or escapes, so the match cannot start inside anything).
_METADATA = re.compile(rb'\{(?:"[^"\\{}\[\]]*":"[^"\\{}\[\]]*",)*"metadata":\{')


def served_as_stored(rt: ResourceType) -> bool:
    """Whether ``rt``'s objects are served exactly as stored, but for the resourceVersion."""
    if isinstance(rt, CustomResourceType):
        return False
    return (rt.group, rt.version, rt.kind) not in STORED_AS


Pieces = tuple[bytes | memoryview, ...]  # one served object's JSON, to be joined


def stamp(value: bytes, revision: int) -> Pieces | None:
    """The stored ``value`` with ``metadata.resourceVersion`` set, in pieces (joined once,
    with the whole list: copying 10 MB costs milliseconds each time); None when its shape is
    not the expected one (the caller then decodes it)."""
    found = _METADATA.match(value)
    if found is None:
        return None
    end = found.end()
    version = b'"resourceVersion":"%d"' % revision
    if value[end : end + 1] != b"}":  # an empty metadata takes no comma after the stamp
        version += b","
    view = memoryview(value)
    return view[:end], version, view[end:]


def served_pieces(rt: ResourceType, kv: KeyValue, decoded: Object | None = None) -> Pieces:
    """One stored object as the API serves it, in JSON (``decoded``: ``read(rt, kv)`` if the
    caller has it already)."""
    if served_as_stored(rt):
        stamped = stamp(kv.value, kv.mod_revision)
        if stamped is not None:
            return stamped
    return (dump_json(read(rt, kv) if decoded is None else decoded),)


def list_body(rt: ResourceType, metadata: dict[str, Any], items: list[Pieces]) -> bytes:
    """A ``<Kind>List`` around already-encoded items, shaped as the decoded path shapes it."""
    head = dump_json({"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": metadata})
    # head ends with the metadata's and the list's closing braces; reopen the list for items
    parts: list[bytes | memoryview] = [head[:-1], b',"items":[']
    comma = b""
    for pieces in items:
        parts.append(comma)
        parts.extend(pieces)
        comma = b","
    parts.append(b"]}")
    return b"".join(parts)
