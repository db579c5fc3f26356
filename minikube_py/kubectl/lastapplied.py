"""Client-side apply: the last-applied annotation and the three-way patch kubectl sends.

``kubectl apply`` (without ``--server-side``) remembers what it applied in the annotation
``kubectl.kubernetes.io/last-applied-configuration``: the manifest as compact JSON with sorted
keys (Go's encoder, so ``<`` is ``\\u003c`` and a newline ends it). The next apply compares
three versions of the object:

- *original*, the last-applied annotation of the live object;
- *modified*, the new manifest (carrying its own new annotation);
- *current*, the live object, with whatever the server and other clients put there.

The patch sets every field of *modified* that *current* lacks or holds differently, and
deletes (``null``) every field *original* had and *modified* no longer has. Fields set by
someone else (defaults, ``kubectl scale`` of a field the manifest never named) are kept,
because only what kubectl itself applied before is ever deleted. An empty patch is what
kubectl reports as ``unchanged``.

For built-in kinds the patch is a *strategic* merge patch: lists the schema marks
``x-kubernetes-patch-strategy: merge`` (containers, ports, env) are diffed element by element
by their merge key, a removed element becomes ``{"$patch": "delete", <key>: ...}``, a removed
scalar ``$deleteFromPrimitiveList/<field>``, and ``$setElementOrder/<field>`` keeps the
manifest's order; fields marked ``retainKeys`` (a Deployment's ``strategy``, volume sources)
get ``$retainKeys``. Custom resources have no such schema: for them kubectl sends a JSON merge
patch, where lists are replaced whole.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from minikube_py.api import schema

ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
Schema = dict[str, Any] | None
_MISSING = object()
_ORDER = "$setElementOrder/"
_DELETE_FROM = "$deleteFromPrimitiveList/"
_RETAIN = "$retainKeys"


def go_json(obj: Any) -> str:
    """``obj`` as Go's ``json.Encoder`` writes it: sorted keys, HTML characters escaped."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n"


def annotated(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest with its last-applied annotation: itself, without that annotation."""
    obj = copy.deepcopy(manifest)
    metadata = obj.setdefault("metadata", {})
    annotations = metadata.get("annotations") or {}
    annotations.pop(ANNOTATION, None)
    metadata["annotations"] = annotations  # kubectl's record keeps an empty map, as here
    recorded = go_json(obj)
    obj["metadata"]["annotations"] = {**annotations, ANNOTATION: recorded}
    return obj


def last_applied(live: dict[str, Any]) -> dict[str, Any] | None:
    """The configuration last applied to ``live`` (None when it has none or it is garbled)."""
    text = ((live.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION)
    if not text:
        return None
    try:
        found = json.loads(text)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def root_schema(api_version: str, kind: str) -> Schema:
    """The schema of a built-in kind (None for custom resources: no strategic patch)."""
    group, _, version = api_version.rpartition("/")
    name = schema.definition_name(group, version, kind)
    return {"$ref": f"#/$defs/{name}"} if name else None


def three_way_patch(
    original: dict[str, Any] | None,
    modified: dict[str, Any],
    current: dict[str, Any],
    node: Schema,
) -> dict[str, Any]:
    """The patch taking ``current`` to ``modified`` while deleting what ``original`` had;
    strategic when ``node`` (the kind's schema) is given, a JSON merge patch otherwise."""
    if node is None:  # no schema: maps merge, lists are replaced whole
        changes = _merge_diff(current, modified, deletions=False)
        return _combine(_merge_diff(original or {}, modified, deletions=True), changes, None)
    delta = _diff_maps(current, modified, node, deletions=False, changes=True)
    removals = _diff_maps(original or {}, modified, node, deletions=True, changes=False)
    return _combine(removals, delta, node)


# ------------------------------------------------------------------------ strategic merge


def _resolved(node: Schema) -> dict[str, Any]:
    return schema.resolve(node) if node else {}


def _field(node: Schema, key: str) -> Schema:
    resolved = _resolved(node)
    found = (resolved.get("properties") or {}).get(key, resolved.get("additionalProperties"))
    return found if isinstance(found, dict) else None


def _strategy(node: Schema) -> tuple[list[str], str | None]:
    """A field's patch strategies (``merge``, ``retainKeys``, ``replace``) and merge key —
    written beside a ``$ref`` (``strategy: {$ref, retainKeys}``) or in the definition."""
    found: dict[str, Any] = {}
    for layer in (_resolved(node), node or {}):
        found.update({k: v for k, v in layer.items() if k.startswith("x-kubernetes-patch")})
    strategies = str(found.get("x-kubernetes-patch-strategy") or "").split(",")
    return [s for s in strategies if s], found.get("x-kubernetes-patch-merge-key")


def _items(node: Schema) -> Schema:
    found = _resolved(node).get("items")
    return found if isinstance(found, dict) else None


def _diff_maps(
    original: dict[str, Any],
    modified: dict[str, Any],
    node: Schema,
    *,
    deletions: bool,
    changes: bool,
    retain: bool = False,
) -> dict[str, Any]:
    """The two-way strategic diff of two maps; ``deletions``/``changes`` choose which half."""
    patch: dict[str, Any] = {}
    for key, new in modified.items():
        old = original.get(key, _MISSING)
        if old is _MISSING or type(old) is not type(new):
            if changes:
                patch[key] = new
        elif isinstance(new, dict):
            field = _field(node, key)
            strategies, _ = _strategy(field)
            if "replace" in strategies:
                if changes and old != new:
                    patch[key] = new
                continue
            retain_keys = "retainKeys" in strategies
            sub = _diff_maps(
                old, new, field, deletions=deletions, changes=changes, retain=retain_keys
            )
            if sub:
                patch[key] = sub
        elif isinstance(new, list):
            _diff_list_field(key, old, new, _field(node, key), patch, deletions, changes)
        elif changes and old != new:
            patch[key] = new
    if deletions:
        patch.update({key: None for key in original if key not in modified})
    added = any(v is not None and k not in original for k, v in modified.items())
    if retain and modified and (patch or added):
        patch[_RETAIN] = sorted(k for k, v in modified.items() if v is not None)
    return patch


def _diff_list_field(
    key: str,
    old: list[Any],
    new: list[Any],
    field: Schema,
    patch: dict[str, Any],
    deletions: bool,
    changes: bool,
) -> None:
    strategies, merge_key = _strategy(field)
    if "merge" not in strategies:
        if changes and old != new:
            patch[key] = new
        return
    if not old and not new:
        return
    sample = (new or old)[0]
    if isinstance(sample, dict):
        merge = merge_key or ""
        items = _items(field)
        retain = "retainKeys" in strategies
        before = {item.get(merge): item for item in old if isinstance(item, dict)}
        listed: list[Any] = []
        for item in new:
            if not isinstance(item, dict):
                continue
            previous = before.get(item.get(merge))
            if previous is None:
                if changes:
                    listed.append(item)
                continue
            sub = _diff_maps(
                previous, item, items, deletions=deletions, changes=changes, retain=retain
            )
            if sub:
                listed.append({**sub, merge: item.get(merge)})
        same_order = [x.get(merge) for x in old if isinstance(x, dict)] == [
            x.get(merge) for x in new if isinstance(x, dict)
        ]
        if deletions:
            wanted = {item.get(merge) for item in new if isinstance(item, dict)}
            listed += [{merge: k, "$patch": "delete"} for k in before if k not in wanted]
        if listed:
            patch[key] = listed
        if (changes and (listed or not same_order)) or (deletions and listed):
            patch[_ORDER + key] = [{merge: item.get(merge)} for item in new]
        return
    added = [x for x in new if x not in old] if changes else []
    removed = [x for x in old if x not in new] if deletions else []
    if added:
        patch[key] = added
    if removed:
        patch[_DELETE_FROM + key] = removed
    if (changes and (added or old != new)) or (deletions and removed):
        patch[_ORDER + key] = list(new)


def _combine(base: dict[str, Any], extra: dict[str, Any], node: Schema) -> dict[str, Any]:
    """The deletions patch and the changes patch as one (``extra`` wins where both speak)."""
    result = dict(base)
    for key, value in extra.items():
        old = result.get(key, _MISSING)
        field = None if key.startswith("$") else _field(node, key)
        if isinstance(old, dict) and isinstance(value, dict):
            result[key] = _combine(old, value, field)
        elif isinstance(old, list) and isinstance(value, list) and _strategy(field)[1]:
            result[key] = _combine_lists(old, value, field)
        else:
            result[key] = value
    for key, order in list(result.items()):
        name = key[len(_ORDER) :] if key.startswith(_ORDER) else None
        if name is not None and isinstance(result.get(name), list):
            result[name] = _ordered(result[name], order, _strategy(_field(node, name))[1])
    return result


def _combine_lists(base: list[Any], extra: list[Any], field: Schema) -> list[Any]:
    merge = _strategy(field)[1]
    result = list(base)
    where = {x.get(merge): i for i, x in enumerate(result) if isinstance(x, dict)}
    for element in extra:
        index = where.get(element.get(merge)) if isinstance(element, dict) else None
        if index is None:
            result.append(element)
        else:
            result[index] = _combine(result[index], element, _items(field))
    return result


def _ordered(values: list[Any], order: Any, merge: str | None) -> list[Any]:
    """``values`` in the order ``$setElementOrder`` gives, the others (deletions) after."""
    if not isinstance(order, list):
        return values

    def identity(item: Any) -> Any:
        return item.get(merge) if merge and isinstance(item, dict) else item

    wanted = [identity(item) for item in order]
    rank = {key: i for i, key in enumerate(wanted) if isinstance(key, (str, int, float))}
    return sorted(values, key=lambda item: rank.get(identity(item), len(rank)))


# ---------------------------------------------------------------------- JSON merge patch


def _merge_diff(old: dict[str, Any], new: dict[str, Any], *, deletions: bool) -> dict[str, Any]:
    """Half of the RFC 7386 merge patch taking ``old`` to ``new``: only its deletions
    (``null`` for what ``new`` dropped), or only its additions and changes."""
    patch: dict[str, Any] = {}
    for key, value in new.items():
        before = old.get(key, _MISSING)
        if isinstance(before, dict) and isinstance(value, dict):
            sub = _merge_diff(before, value, deletions=deletions)
            if sub:
                patch[key] = sub
        elif (
            not deletions
            and value is not None
            and (before != value or type(before) is not type(value))
        ):
            patch[key] = value
    if deletions:
        patch.update({key: None for key in old if key not in new})
    return patch
