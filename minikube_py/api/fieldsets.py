"""Field sets: which fields of an object a field manager owns, in upstream's ``fieldsV1`` form.

Server-side apply remembers, for every *field manager* (``kubectl``, a controller, …), the set
of field paths it set. A path is a sequence of elements, each written the way
structured-merge-diff writes it inside ``metadata.managedFields[].fieldsV1``:

- ``f:<name>`` — a field of a struct or a key of a map (``f:spec``, ``f:replicas``);
- ``k:{"name":"web"}`` — the element of an *associative* list (``x-kubernetes-list-type: map``)
  with those key values (``x-kubernetes-list-map-keys``), as compact JSON with sorted keys;
- ``v:"a"`` — the element of a *set* list (``x-kubernetes-list-type: set``) with that value;
- ``i:3`` — an element of a list known only by its position.

Encoded (``fieldsv1.py``), a set is a tree of JSON objects: a member with nothing below it
is ``{}``, a member that also has children carries ``".": {}``. Lists with
``x-kubernetes-list-type: atomic`` (or no list type at all) and maps marked
``x-kubernetes-map-type: atomic`` are owned whole: they are leaves. The schema is the kind's
OpenAPI definition (``schema.py``) or, for a custom resource, its OpenAPI v3 schema; where no
schema says anything, maps are walked key by key and lists are atomic — upstream's "deduced"
schema.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from minikube_py.api import schema as openapi
from minikube_py.api.resources import ResourceType

Schema = dict[str, Any] | None
Path = tuple[str, ...]
FieldSet = frozenset[Path]
_OBJECT_META = {"$ref": "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
# Key fields a client may leave out because the server defaults them (upstream's OpenAPI
# carries these defaults; the definitions shipped here do not).
_KEY_DEFAULTS = {"protocol": "TCP"}


def root_schema(rt: ResourceType) -> Schema:
    """The schema objects of ``rt`` are walked with (None: deduced from the values)."""
    if rt.schema is not None:
        return {
            **rt.schema,
            "properties": {**(rt.schema.get("properties") or {}), "metadata": _OBJECT_META},
        }
    name = openapi.definition_name(rt.group, rt.version, rt.kind)
    return {"$ref": f"#/$defs/{name}"} if name else None


def resolved(node: Schema) -> dict[str, Any]:
    if not node:
        return {}
    ref = node.get("$ref")
    return _definition(ref) if isinstance(ref, str) else node


@functools.cache
def _definition(ref: str) -> dict[str, Any]:
    return openapi.resolve({"$ref": ref})


def child(node: Schema, key: str) -> Schema:
    """The schema of field ``key`` of a struct or map."""
    found = resolved(node)
    properties = found.get("properties") or {}
    sub = properties.get(key, found.get("additionalProperties"))
    return sub if isinstance(sub, dict) else None


def items(node: Schema) -> Schema:
    sub = resolved(node).get("items")
    return sub if isinstance(sub, dict) else None


def list_type(node: Schema) -> tuple[str, tuple[str, ...]]:
    """``("map", keys)``, ``("set", ())`` or ``("atomic", ())`` for a list's schema.

    Without ``x-kubernetes-list-type`` a ``merge`` patch strategy makes the list associative
    (by its merge key) as upstream's schema conversion does; anything else is atomic.
    """
    found = resolved(node)
    kind = found.get("x-kubernetes-list-type")
    if kind == "map":
        return "map", tuple(found.get("x-kubernetes-list-map-keys") or ())
    if kind in ("set", "atomic"):
        return str(kind), ()
    if "merge" in str(found.get("x-kubernetes-patch-strategy", "")).split(","):
        key = found.get("x-kubernetes-patch-merge-key")
        return ("map", (str(key),)) if key else ("set", ())
    return "atomic", ()


def atomic_map(node: Schema) -> bool:
    return resolved(node).get("x-kubernetes-map-type") == "atomic"


def element(node: Schema, kind: str, keys: tuple[str, ...], item: Any, index: int) -> str:
    """The path element naming ``item`` of a list of type ``kind``."""
    if kind == "map" and isinstance(item, dict) and keys:
        values = {}
        for name in keys:
            if name in item:
                values[name] = item[name]
            elif name in _KEY_DEFAULTS:
                values[name] = _KEY_DEFAULTS[name]
        return "k:" + json.dumps(values, sort_keys=True, separators=(",", ":"))
    if kind == "set" and not isinstance(item, (dict, list)):
        return "v:" + json.dumps(item, separators=(",", ":"))
    return f"i:{index}"


def walk(node: Schema, value: Any, path: Path = ()) -> list[tuple[Path, Any, bool]]:
    """Every node below ``value`` (not ``value`` itself): its path, value, and whether a leaf."""
    found: list[tuple[Path, Any, bool]] = []
    _walk_into(node, value, path, found)
    return found


def _walk_into(node: Schema, value: Any, path: Path, found: list[tuple[Path, Any, bool]]) -> None:
    # A plain recursive function (not generators): this runs on every write.
    if isinstance(value, dict):
        if atomic_map(node):
            return
        for key, sub in value.items():
            here = (*path, f"f:{key}")
            sub_schema = child(node, key)
            if isinstance(sub, (dict, list)):
                found.append((here, sub, _is_leaf(sub_schema, sub)))
                _walk_into(sub_schema, sub, here, found)
            else:
                found.append((here, sub, True))
    elif isinstance(value, list):
        kind, keys = list_type(node)
        if kind == "atomic":
            return
        item_schema = items(node)
        for index, item in enumerate(value):
            here = (*path, element(node, kind, keys, item, index))
            if isinstance(item, (dict, list)):
                found.append((here, item, _is_leaf(item_schema, item)))
                _walk_into(item_schema, item, here, found)
            else:
                found.append((here, item, True))


def _is_leaf(node: Schema, value: Any) -> bool:
    if isinstance(value, dict):
        return atomic_map(node)
    if isinstance(value, list):
        return list_type(node)[0] == "atomic"
    return True


def undeclared(node: Schema, obj: Any) -> list[Path]:
    """Fields of ``obj`` its schema does not declare (upstream: "field not declared in schema").

    Free-form maps (no ``properties``) and ``x-kubernetes-preserve-unknown-fields`` take
    anything; ``apiVersion`` and ``kind`` are always declared at the top.
    """
    found: list[Path] = []
    if isinstance(obj, dict):
        rest = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
        _undeclared_into(node, rest, (), found)
    return found


def _undeclared_into(node: Schema, value: Any, path: Path, found: list[Path]) -> None:
    spec = resolved(node)
    if spec.get("x-kubernetes-preserve-unknown-fields"):
        return
    if isinstance(value, dict):
        properties, extra = spec.get("properties"), spec.get("additionalProperties")
        if properties is None and not isinstance(extra, dict):
            return  # free-form
        for key, sub in value.items():
            here = (*path, f"f:{key}")
            if (properties is None or key not in properties) and not isinstance(extra, dict):
                found.append(here)
            else:
                _undeclared_into(child(node, key), sub, here, found)
    elif isinstance(value, list) and isinstance(spec.get("items"), dict):
        kind, keys = list_type(node)
        for index, item in enumerate(value):
            here = (*path, element(node, kind, keys, item, index))
            _undeclared_into(items(node), item, here, found)


def applied_set(node: Schema, obj: Any) -> set[Path]:
    """What an applied configuration sets: its leaves and the list elements it names."""
    return {path for path, _value, leaf in walk(node, obj) if leaf or _is_element(path)}


def nodes(node: Schema, obj: Any, path: Path = ()) -> dict[Path, tuple[Any, bool]]:
    """Every node below ``obj`` by path, with its value and whether it is a leaf."""
    return {here: (value, leaf) for here, value, leaf in walk(node, obj, path)}


Changes = tuple[set[Path], set[Path], set[Path]]


def compare(node: Schema, old: Any, new: Any) -> Changes:
    """``(added, modified, removed)`` paths going from ``old`` to ``new``.

    Both objects are walked together and equal parts are skipped whole, so an update that
    changes one field costs about as much as that field, not as the object.
    """
    changes: Changes = (set(), set(), set())
    _compare_into(node, old, new, (), changes)
    return changes


def _compare_into(node: Schema, old: Any, new: Any, path: Path, changes: Changes) -> None:
    added, modified, removed = changes
    if not (isinstance(old, dict) and isinstance(new, dict)) or atomic_map(node):
        # Lists (whose element names depend on their items) and mixed kinds: compare the
        # paths of the two subtrees.
        before, after = nodes(node, old, path), nodes(node, new, path)
        added.update(after.keys() - before.keys())
        removed.update(before.keys() - after.keys())
        modified.update(
            here
            for here, (value, leaf) in after.items()
            if here in before and (leaf or before[here][1]) and before[here][0] != value
        )
        return
    for key in old.keys() | new.keys():
        if key in old and key in new and old[key] == new[key]:
            continue  # equal: no path below it changed
        here = (*path, f"f:{key}")
        sub_schema = child(node, key)
        if key not in old:
            added.add(here)
            added.update(nodes(sub_schema, new[key], here))
        elif key not in new:
            removed.add(here)
            removed.update(nodes(sub_schema, old[key], here))
        else:
            if _is_leaf(sub_schema, old[key]) or _is_leaf(sub_schema, new[key]):
                modified.add(here)
            _compare_into(sub_schema, old[key], new[key], here, changes)


def _is_element(path: Path) -> bool:
    return bool(path) and not path[-1].startswith("f:")


def path_string(path: Path) -> str:
    """A path as upstream prints it in conflicts: ``.spec.containers[name="web"].image``."""
    words = []
    for part in path:
        kind, _, rest = part.partition(":")
        if kind == "f":
            words.append(f".{rest}")
        elif kind == "k":
            keys = json.loads(rest)
            inner = ",".join(f"{name}={json.dumps(keys[name])}" for name in sorted(keys))
            words.append(f"[{inner}]")
        elif kind == "v":
            words.append(f"[={rest}]")
        else:
            words.append(f"[{rest}]")
    return "".join(words)


def under(path: Path, prefix: Path) -> bool:
    return path[: len(prefix)] == prefix
