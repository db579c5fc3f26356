"""Objects on their way between the wire and the store.

The store keeps JSON bytes under keys; clients see objects with a ``resourceVersion``. As in
upstream, the version is not stored inside the object: it is the store's mod revision, stamped
on every object read back (so it can never disagree with the store). This module holds those
conversions, the storage keys, and the patch formats clients send.
"""

from __future__ import annotations

import copy
import json
from types import MappingProxyType
from typing import Any

import jsonpatch
import orjson

from minikube_py.api import errors
from minikube_py.api.conversion import from_storage, storage_location, to_storage
from minikube_py.api.resources import ResourceType
from minikube_py.api.strategic import strategic_merge_patch
from minikube_py.api.typecheck import go_json_type, type_error
from minikube_py.apiserver import patchinput
from minikube_py.store import KeyValue
from minikube_py.store.keys import object_key, resource_prefix

Object = dict[str, Any]


def key(rt: ResourceType, namespace: str | None, name: str) -> str:
    group, plural = storage_location(rt)
    return object_key(group, plural, namespace if rt.namespaced else None, name)


def prefix(rt: ResourceType, namespace: str | None) -> str:
    group, plural = storage_location(rt)
    return resource_prefix(group, plural, namespace if rt.namespaced else None)


def read(rt: ResourceType, kv: KeyValue) -> Object:
    """A stored key-value as ``rt``'s version shows it, with its ``resourceVersion``."""
    return from_storage(rt, from_kv(kv))


class RecentWrites:
    """The stored bytes and revision of the objects this server wrote last, newest kept.

    An update starts from the current object; reading it back from the store costs a thread
    hop and a query per PATCH. What this server itself just wrote is usually still current, and
    when it is not (another API server process wrote since), the compare-and-swap on its
    revision fails and the update reads the store after all — so a stale entry costs a retry,
    never a lost write. Bytes, not dicts, so no caller can change a remembered object.
    """

    def __init__(self, capacity: int = 4096) -> None:
        self._capacity = capacity
        self._entries: dict[str, tuple[bytes, int]] = {}

    def remember(self, key: str, value: bytes, revision: int) -> None:
        self._entries.pop(key, None)  # re-insert: dicts keep insertion order, oldest first
        self._entries[key] = (value, revision)
        if len(self._entries) > self._capacity:
            del self._entries[next(iter(self._entries))]

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)

    def read(self, rt: ResourceType, key: str) -> Object | None:
        entry = self._entries.get(key)
        return None if entry is None else from_storage(rt, decode(*entry))


def write(rt: ResourceType, obj: Object) -> bytes:
    """``obj`` (in ``rt``'s version) as the store keeps it."""
    return encode(to_storage(rt, obj))


def dump_json(value: Any) -> bytes:
    """Compact JSON; orjson on the hot paths (it is several times faster than ``json``)."""
    try:
        return orjson.dumps(value)
    except TypeError:  # what orjson refuses (integers beyond 64 bits) the standard library takes
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def json_copy(value: Any) -> Any:
    """A deep copy of a JSON-shaped value, through orjson: about four times faster than
    ``copy.deepcopy`` on an object, which matters on every write's path."""
    try:
        return orjson.loads(orjson.dumps(value))
    except TypeError:  # integers beyond 64 bits
        return copy.deepcopy(value)


def load_json(raw: bytes, *, strict: bool = True) -> Any:
    """Parse JSON; what orjson refuses is parsed again by ``json`` for its error message."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw, parse_constant=_no_constants if strict else None)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def encode(obj: Object) -> bytes:
    """The stored form: compact JSON without ``resourceVersion``."""
    metadata = obj.get("metadata", {})
    if "resourceVersion" in metadata:
        obj = {**obj, "metadata": {k: v for k, v in metadata.items() if k != "resourceVersion"}}
    return dump_json(obj)


def decode(value: bytes, revision: int) -> Object:
    obj: Object = load_json(value, strict=False)
    obj.setdefault("metadata", {})["resourceVersion"] = str(revision)
    return obj


def stamped(obj: Object, revision: int) -> Object:
    """``obj`` as just written at ``revision`` (no need to parse the stored bytes again)."""
    obj["metadata"]["resourceVersion"] = str(revision)
    return obj


def from_kv(kv: KeyValue) -> Object:
    return decode(kv.value, kv.mod_revision)


def meta(obj: Object) -> dict[str, Any]:
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        metadata = obj["metadata"] = {}
    return metadata


def without(obj: Object, *fields: str) -> Object:
    return {k: v for k, v in obj.items() if k not in fields}


def spec_changed(old: Object, new: Object) -> bool:
    """Whether anything but metadata and status changed: what bumps ``generation``."""
    return without(old, "metadata", "status") != without(new, "metadata", "status")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: maps merge recursively, ``null`` deletes, the rest replaces."""
    if not isinstance(patch, dict):
        return json_copy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), value)
    return result


def json_patch(target: Object, operations: Any) -> Object:
    """RFC 6902 JSON patch (add / remove / replace / move / copy / test).

    What does not decode as a list of operations is a 400 (``patchinput.py``); an operation
    that cannot apply (a failed ``test``, a missing path, an unknown ``op``) is upstream's bare
    422, which keeps the library's reason to itself.
    """
    patchinput.check_json_patch(operations)
    try:
        patched = _GoJsonPatch([op or {} for op in operations]).apply(target)
    except (
        jsonpatch.JsonPatchException,
        jsonpatch.JsonPointerException,
        TypeError,
        KeyError,
        IndexError,
        ValueError,
    ):
        raise errors.ApiError(
            422, "Invalid", "the server rejected our request due to an error in our request"
        ) from None
    if not isinstance(patched, dict):
        what = go_json_type(patched)
        detail = f"json: cannot unmarshal {what} into Go value of type map[string]interface {{}}"
        raise patch_invalid(patched, detail)
    return patched


class _TypedTest(jsonpatch.TestOperation):
    """``test`` as Go compares values: ``1``, ``1.0`` and ``true`` are three different ones."""

    def apply(self, obj: Any) -> Any:
        obj = super().apply(obj)  # the library's test: equal by Python's ``==``
        found, part = self.pointer.to_last(obj)
        value = found if part is None else self.pointer.walk(found, part)
        if not _same(value, self.operation["value"]):
            raise jsonpatch.JsonPatchTestFailed("the values differ in type")
        return obj


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


class _GoJsonPatch(jsonpatch.JsonPatch):
    operations = MappingProxyType({**jsonpatch.JsonPatch.operations, "test": _TypedTest})


def merge_patch_object(target: Object, patch: Any) -> Object:
    """A merge patch as a PATCH request applies it: the patch must be a JSON object."""
    patchinput.check_merge_patch(patch)
    patched = merge_patch(target, patch)
    assert isinstance(patched, dict)
    return patched


def strategic_patch_object(target: Object, patch: Any) -> Object:
    """A strategic merge patch (kubectl's default) as a PATCH request applies it."""
    patchinput.check_strategic_patch(patch)
    if patch is None:
        return target  # Go decodes null into an empty patch: nothing changes
    return strategic_merge_patch(target, patch)


def patch_invalid(patched: Any, detail: str, *, value: str | None = None) -> errors.ApiError:
    """Upstream's 422 for a patch whose result does not decode: ``"" is invalid: patch: …``.

    The value shown is the patched object as JSON, or ``value`` when given (for a strategic
    merge patch upstream prints the patch itself, as Go prints a map).
    """
    text = dump_json(patched).decode() if value is None else value
    shown = json.dumps(text, ensure_ascii=False)  # Go's %q, nearly
    message = f"Invalid value: {shown}: {detail}"
    cause = {"reason": "FieldValueInvalid", "message": message, "field": "patch"}
    return errors.ApiError(
        422, "Invalid", f' "" is invalid: patch: {message}', details={"causes": [cause]}
    )


# The patch formats by Content-Type.
PATCHERS = {
    "application/json-patch+json": json_patch,
    "application/merge-patch+json": merge_patch_object,
    "application/strategic-merge-patch+json": strategic_patch_object,
}


def apply_patch(content_type: str, target: Object, patch: Any) -> Object:
    """Apply a PATCH body of ``content_type`` to ``target``; 415 / 400 on bad input."""
    patcher = PATCHERS.get(content_type)
    if patcher is None:
        raise unsupported_patch_type()
    try:
        patched = patcher(target, patch)
    except RecursionError:
        raise errors.bad_request("the patch is nested too deeply") from None
    # As upstream decodes the patched object again: a value of the wrong type is refused here.
    group, _, version = str(target.get("apiVersion", "")).rpartition("/")
    wrong = type_error(group, version, str(target.get("kind", "")), patched)
    if wrong is not None:
        raise patch_invalid(patched, wrong)
    return patched


# Server-side apply: not a function of (object, patch) alone, so ``applying.py`` serves it.
APPLY_PATCH = "application/apply-patch+yaml"


def unsupported_patch_type() -> errors.ApiError:
    return errors.ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join([*PATCHERS, APPLY_PATCH]),
    )
