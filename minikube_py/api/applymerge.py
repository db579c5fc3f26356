"""Merging an applied configuration into an object, and pruning what its applier dropped.

Server-side apply (``apiserver/applying.py``) merges what a client applies into the live
object the way the schema says each field combines:

- structs and maps key by key (``null`` means "absent"); maps marked
  ``x-kubernetes-map-type: atomic`` (a label selector) are replaced whole;
- associative lists (``x-kubernetes-list-type: map``) element by element, matched by their key
  fields, new elements appended; sets (``set``) by value, as a union;
- everything else — scalars, atomic lists — replaced by the applied value.

``prune`` then removes the fields the applier set last time and no longer sets, found by their
field-set paths (``fieldsets.py``), together with the maps and lists that leaves empty.
"""

from __future__ import annotations

import copy
from typing import Any

from minikube_py.api import fieldsets
from minikube_py.api.fieldsets import Path, Schema


def merge(node: Schema, live: Any, config: Any) -> Any:
    """``config`` merged into ``live``: structs and maps by key, lists by their list type."""
    if isinstance(config, dict):
        if fieldsets.atomic_map(node):
            return _without_nulls(config)
        result = dict(live) if isinstance(live, dict) else {}
        for key, value in config.items():
            if value is None:
                result.pop(key, None)  # applying null: the field is owned and absent
            else:
                result[key] = merge(fieldsets.child(node, key), result.get(key), value)
        return result
    if isinstance(config, list) and isinstance(live, list):
        kind, keys = fieldsets.list_type(node)
        if kind == "set":
            return copy.deepcopy(live) + [copy.deepcopy(x) for x in config if x not in live]
        if kind == "map":
            return _merge_associative(node, kind, keys, live, config)
    return _without_nulls(config)


def _without_nulls(value: Any) -> Any:
    """A copy of ``value`` without null map values (they mean "absent", as in Go's types)."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def _merge_associative(
    node: Schema, kind: str, keys: tuple[str, ...], live: list[Any], config: list[Any]
) -> list[Any]:
    item_schema = fieldsets.items(node)
    result = copy.deepcopy(live)
    names = [fieldsets.element(node, kind, keys, item, i) for i, item in enumerate(result)]
    for index, item in enumerate(config):
        name = fieldsets.element(node, kind, keys, item, index)
        if name in names and not name.startswith("i:"):
            at = names.index(name)
            result[at] = merge(item_schema, result[at], item)
        else:
            result.append(merge(item_schema, None, item))
            names.append(name)
    return result


def prune(node: Schema, obj: dict[str, Any], dropped: set[Path], owned: set[Path]) -> None:
    """Remove the ``dropped`` fields from ``obj``, except those with owned fields below them."""
    for path in sorted(dropped, key=len, reverse=True):
        if any(len(other) > len(path) and fieldsets.under(other, path) for other in owned):
            continue
        _remove(node, obj, path)


def _remove(node: Schema, obj: Any, path: Path) -> None:
    """Delete the value at ``path`` and the maps and lists its removal leaves empty."""
    trail: list[tuple[Any, Any]] = []  # (container, key or index) from the top
    value, schema = obj, node
    for part in path:
        found = _step(schema, value, part)
        if found is None:
            return
        key, schema = found
        trail.append((value, key))
        value = value[key]
    while trail:
        container, key = trail.pop()
        del container[key]
        if container or len(trail) < 2:
            return  # keep what still holds something, and metadata / spec themselves


def _step(node: Schema, value: Any, part: str) -> tuple[Any, Schema] | None:
    kind, _, rest = part.partition(":")
    if kind == "f" and isinstance(value, dict) and rest in value:
        return rest, fieldsets.child(node, rest)
    if kind != "f" and isinstance(value, list):
        list_kind, keys = fieldsets.list_type(node)
        for index, item in enumerate(value):
            if fieldsets.element(node, list_kind, keys, item, index) == part:
                return index, fieldsets.items(node)
    return None
