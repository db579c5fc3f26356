"""Strategic merge patch: how ``kubectl apply`` and ``kubectl patch`` change built-in objects.

A JSON merge patch replaces lists whole, so patching one container's image would drop the
others. Kubernetes' *strategic* merge patch knows, from the OpenAPI schema, which lists are
keyed (``x-kubernetes-patch-merge-key``: containers by ``name``, ports by ``containerPort``)
and merges their elements by key instead. kubectl's patches also carry directives:

- ``$patch: replace`` / ``$patch: delete`` on a map or list element;
- ``$setElementOrder/<field>``: the order the merged list must have;
- ``$deleteFromPrimitiveList/<field>``: values to remove from a list of scalars;
- ``$retainKeys``: the only keys a map may keep (union types such as volume sources).

Maps merge recursively and ``null`` deletes a key, as in a merge patch.
"""

from __future__ import annotations

from typing import Any

from minikube_py.api import schema

Schema = dict[str, Any] | None
_ORDER = "$setElementOrder/"
_DELETE_FROM = "$deleteFromPrimitiveList/"


def strategic_merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``patch`` applied to ``target``, guided by the schema of ``target``'s kind."""
    group, _, version = str(target.get("apiVersion", "")).rpartition("/")
    name = schema.definition_name(group, version, str(target.get("kind", "")))
    root: Schema = {"$ref": f"#/$defs/{name}"} if name else None
    merged = _merge_map(root, target, patch)
    return merged if merged is not None else {}


def _resolved(node: Schema) -> dict[str, Any]:
    return schema.resolve(node) if node else {}


def _field(node: dict[str, Any], key: str) -> Schema:
    properties = node.get("properties") or {}
    found = properties.get(key, node.get("additionalProperties"))
    return found if isinstance(found, dict) else None


def _merge_map(node: Schema, original: Any, patch: dict[str, Any]) -> dict[str, Any] | None:
    """The merged map, or None when the patch deletes it."""
    resolved = _resolved(node)
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        replaced: dict[str, Any] = _without_directives(patch)
        return replaced
    result = dict(original) if isinstance(original, dict) else {}
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        field = _field(resolved, key)
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = _merge_map(field, result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _merge_list(field, result.get(key), value)
        else:
            result[key] = value
    for key, value in patch.items():
        if key.startswith(_DELETE_FROM) and isinstance(value, list):
            name = key[len(_DELETE_FROM) :]
            if isinstance(result.get(name), list):
                result[name] = [item for item in result[name] if item not in value]
        elif key.startswith(_ORDER) and isinstance(value, list):
            name = key[len(_ORDER) :]
            if isinstance(result.get(name), list):
                result[name] = _ordered(_field(resolved, name), result[name], value)
    return result


def _merge_list(node: Schema, original: Any, patch: list[Any]) -> list[Any]:
    resolved = _resolved(node)
    strategies = str(resolved.get("x-kubernetes-patch-strategy", "")).split(",")
    replace = any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch)
    if "merge" not in strategies or replace:
        return [_without_directives(x) for x in patch if not _is_replace_marker(x)]
    current = list(original) if isinstance(original, list) else []
    key = resolved.get("x-kubernetes-patch-merge-key")
    if key is None:  # a list of scalars: union
        return current + [x for x in patch if x not in current]
    items = resolved.get("items")
    for element in patch:
        if not isinstance(element, dict):
            continue
        index = next(
            (
                i
                for i, old in enumerate(current)
                if isinstance(old, dict) and old.get(key) == element.get(key)
            ),
            None,
        )
        if element.get("$patch") == "delete":
            if index is not None:
                del current[index]
        elif index is None:
            current.append(_without_directives(element))
        else:
            merged = _merge_map(items, current[index], element)
            if merged is not None:
                current[index] = merged
    return current


def _ordered(node: Schema, values: list[Any], order: list[Any]) -> list[Any]:
    key = _resolved(node).get("x-kubernetes-patch-merge-key")

    def identity(item: Any) -> Any:
        return item.get(key) if key is not None and isinstance(item, dict) else item

    wanted = [identity(item) for item in order]
    first = [v for w in wanted for v in values if identity(v) == w]
    return first + [v for v in values if identity(v) not in wanted]


def _is_replace_marker(item: Any) -> bool:
    return isinstance(item, dict) and item.get("$patch") == "replace" and len(item) == 1


def _without_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_directives(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_without_directives(item) for item in value]
    return value
