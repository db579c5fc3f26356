"""Structural schemas: how a custom resource's OpenAPI schema shapes the objects stored.

A CustomResourceDefinition gives each version an OpenAPI v3 schema. Upstream requires it to be
*structural* — every field has a type, objects list their ``properties`` — so that the server
can do three things to every object a client writes, in this order:

1. **prune**: drop every field the schema does not declare, unless a node says
   ``x-kubernetes-preserve-unknown-fields: true``; ``apiVersion``, ``kind`` and ``metadata``
   always survive at the root and under ``x-kubernetes-embedded-resource`` nodes,
   ``metadata`` keeps only the fields of an ``ObjectMeta``, and a ``null`` where the schema is
   not ``nullable`` goes too. ``fieldValidation=Strict`` turns
   what would be pruned into ``strict decoding error: unknown field "spec.foo"``.
2. **default**: a missing property whose schema has a ``default`` gets a copy of it (and the
   defaults inside that value are applied too); on reads as well, so a default added to a CRD
   later shows on old objects.
3. **validate** (``validation_schema.py``): types, ``required``, ``enum``, bounds, lengths,
   patterns — answered with upstream's 422 messages.
"""

from __future__ import annotations

import copy
from typing import Any

Schema = dict[str, Any]

# ObjectMeta's fields: the rest of a custom resource's ``metadata`` is dropped, as upstream.
OBJECT_META_FIELDS = frozenset(
    (
        "name",
        "generateName",
        "namespace",
        "selfLink",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "managedFields",
    )
)
_RESOURCE_FIELDS = ("apiVersion", "kind", "metadata")


def prune(schema: Schema, obj: Any) -> list[str]:
    """Drop from a whole custom resource what ``schema`` does not declare; the dropped paths."""
    dropped: list[str] = []
    if isinstance(obj, dict):
        _prune_resource(schema, obj, "", dropped)
    return dropped


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _prune_resource(schema: Schema, obj: dict[str, Any], path: str, dropped: list[str]) -> None:
    """An object with ``apiVersion``/``kind``/``metadata`` (the root, or an embedded one)."""
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        for key in list(metadata):
            if key not in OBJECT_META_FIELDS:
                dropped.append(_join(_join(path, "metadata"), key))
                del metadata[key]
    properties = schema.get("properties") or {}
    _prune_fields(schema, obj, path, dropped, keep=_RESOURCE_FIELDS, properties=properties)


def _prune_fields(
    schema: Schema,
    obj: dict[str, Any],
    path: str,
    dropped: list[str],
    *,
    keep: tuple[str, ...] = (),
    properties: dict[str, Any],
) -> None:
    extra = schema.get("additionalProperties")
    preserve = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
    for key in list(obj):
        where = _join(path, key)
        if key in keep:
            continue
        known = properties.get(key, extra if isinstance(extra, dict) else None)
        if isinstance(known, dict) and obj[key] is None and not known.get("nullable"):
            del obj[key]  # upstream drops nulls the schema does not allow, without a word
        elif key in properties:
            _prune_value(properties[key], obj[key], where, dropped)
        elif isinstance(extra, dict):
            _prune_value(extra, obj[key], where, dropped)
        elif extra is True or preserve:
            continue
        else:
            dropped.append(where)
            del obj[key]


def _prune_value(schema: Any, value: Any, path: str, dropped: list[str]) -> None:
    if not isinstance(schema, dict):
        return
    if isinstance(value, dict):
        if schema.get("x-kubernetes-embedded-resource"):
            _prune_resource(schema, value, path, dropped)
        else:
            _prune_fields(schema, value, path, dropped, properties=schema.get("properties") or {})
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            _prune_value(schema["items"], item, f"{path}[{index}]", dropped)


def apply_defaults(schema: Schema, obj: Any) -> None:
    """Fill in ``default`` values of missing (or null, where not nullable) properties."""
    if not isinstance(schema, dict):
        return
    if isinstance(obj, dict):
        properties = schema.get("properties") or {}
        for key, prop in properties.items():
            if not isinstance(prop, dict) or "default" not in prop:
                continue
            if key not in obj or (obj[key] is None and not prop.get("nullable")):
                obj[key] = copy.deepcopy(prop["default"])
        extra = schema.get("additionalProperties")
        for key, value in obj.items():
            if key in properties:
                apply_defaults(properties[key], value)
            elif isinstance(extra, dict):
                apply_defaults(extra, value)
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        for item in obj:
            apply_defaults(schema["items"], item)


def unknown_fields(schema: Schema, obj: Any, *, drop: bool) -> list[str]:
    """What ``fieldValidation`` reports for a custom resource: the fields pruning drops."""
    if drop:
        return prune(schema, obj)
    return prune(schema, copy.deepcopy(obj))
