"""``fieldsV1``: a field set as JSON, the form ``metadata.managedFields`` carries.

A set of paths (``fieldsets.py``) is written as a tree of JSON objects: each path element is
a key, a member with nothing below it is ``{}``, and a member that also has children carries
``".": {}`` (``{"f:spec": {"f:replicas": {}, "f:template": {".": {}, ...}}}``). Keys are
sorted and ``"."`` comes first, as structured-merge-diff writes them, so equal sets encode to
equal bytes. ``decode`` reads one back and refuses anything that is not a well-formed set.
"""

from __future__ import annotations

import json
from typing import Any

from minikube_py.api.fieldsets import (
    FieldSet,
    Path,
    Schema,
    atomic_map,
    child,
    element,
    items,
    list_type,
)


class FieldsError(ValueError):
    """A ``fieldsV1`` value that is not a well-formed field set."""


def encode(fields: set[Path] | FieldSet) -> dict[str, Any]:
    """A field set as ``fieldsV1`` JSON."""
    tree: dict[str, Any] = {}
    for path in fields:
        node = tree
        for part in path:
            node = node.setdefault(part, {})
        node["."] = {}
    return _tidy(tree)


def _tidy(tree: dict[str, Any]) -> dict[str, Any]:
    """Members without children become ``{}``; the rest keep ``"."`` first, then sorted."""
    result: dict[str, Any] = {}
    if "." in tree and len(tree) > 1:
        result["."] = {}
    for key in sorted(k for k in tree if k != "."):
        sub = tree[key]
        result[key] = {} if set(sub) == {"."} else _tidy(sub)
    return result


def decode(fields: Any) -> set[Path]:
    """``fieldsV1`` JSON as a field set; ``FieldsError`` if it is not one."""
    if not isinstance(fields, dict):
        raise FieldsError("fieldsV1 must be a JSON object")
    found: set[Path] = set()
    _decode_into(fields, (), found)
    return found


def _decode_into(tree: dict[str, Any], path: Path, found: set[Path]) -> None:
    for key, sub in tree.items():
        if not isinstance(sub, dict):
            raise FieldsError(f"the value of {key!r} must be a JSON object")
        if key == ".":
            if not path:
                raise FieldsError('"." is not allowed at the top of a field set')
            found.add(path)
            continue
        _check_element(key)
        here = (*path, key)
        if sub:
            _decode_into(sub, here, found)
        else:
            found.add(here)


def _check_element(key: str) -> None:
    kind, colon, rest = key.partition(":")
    if not colon or kind not in ("f", "k", "v", "i"):
        raise FieldsError(f"unknown path element {key!r}")
    try:
        if kind == "k" and not isinstance(json.loads(rest), dict):
            raise FieldsError(f"the key of {key!r} must be a JSON object")
        if kind == "v":
            json.loads(rest)
        if kind == "i":
            int(rest)
    except ValueError:
        raise FieldsError(f"malformed path element {key!r}") from None


class _Repeated(Exception):
    """Two list items with one name: their paths merge, which ``encode`` does for us."""


def encoded_below(node: Schema, value: Any) -> dict[str, Any] | None:
    """``encode`` of every node below ``value`` (what ``walk`` finds), built in one pass —
    a created object's fields without a path tuple per field; None if two items of a list
    share a name (then ``encode(walk(...))`` merges them)."""
    try:
        return _members(node, value)
    except _Repeated:
        return None


def _members(node: Schema, value: Any) -> dict[str, Any]:
    members: dict[str, Any] = {}
    if isinstance(value, dict):
        if not atomic_map(node):
            for key, sub in value.items():
                _add_member(members, f"f:{key}", child(node, key), sub)
    elif isinstance(value, list):
        kind, keys = list_type(node)
        if kind != "atomic":
            item_schema = items(node)
            for index, item in enumerate(value):
                _add_member(members, element(node, kind, keys, item, index), item_schema, item)
    return {name: members[name] for name in sorted(members)}


def _add_member(members: dict[str, Any], name: str, node: Schema, value: Any) -> None:
    if name in members:
        raise _Repeated(name)
    below = _members(node, value) if isinstance(value, (dict, list)) else {}
    members[name] = {".": {}, **below} if below else {}
