"""OpenAPI schemas as the API server publishes them, built from the shipped 1.32 definitions.

``schema.py`` reads Kubernetes' definitions in the JSON-schema dialect of the
``kubernetes-validate`` package: references look like ``#/$defs/<name>``, optional fields
are typed ``["integer", "null"]``, ``IntOrString`` and ``Quantity`` are ``oneOf`` unions and
``apiVersion`` / ``kind`` carry an ``enum``. The API server publishes them as upstream does:
OpenAPI 3.0 for ``/openapi/v3`` (references ``#/components/schemas/<name>``, one ``type``
string, a reference with siblings such as ``description`` wrapped as ``allOf: [{$ref}]``) or
Swagger 2.0 for ``/openapi/v2`` (``#/definitions/<name>``, siblings kept, the ``oneOf`` of
IntOrString and Quantity turned into strings, as upstream's v2 types them). Descriptions,
formats and every ``x-kubernetes-*`` extension (group-version-kind, patch strategy and merge
key, list type and map keys) pass through unchanged: kubectl computes strategic merge patches
and prints ``kubectl explain`` from them.

A custom resource's schema comes from its CustomResourceDefinition and is wrapped as the
apiextensions server does: ``apiVersion``, ``kind``, ``metadata`` (an ``ObjectMeta``
reference) and the group-version-kind are added, and a ``<Kind>List`` schema is made for it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from minikube_py.api import schema
from minikube_py.api.resources import ResourceType

V3 = "#/components/schemas/"
V2 = "#/definitions/"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
LIST_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"
_NESTED = ("items", "additionalProperties", "not")
_UNIONS = ("allOf", "anyOf", "oneOf")
_API_VERSION_DOC = (
    "APIVersion defines the versioned schema of this representation of an object. Servers "
    "should convert recognized schemas to the latest internal value, and may reject "
    "unrecognized values. More info: https://git.k8s.io/community/contributors/devel/"
    "sig-architecture/api-conventions.md#resources"
)
_KIND_DOC = (
    "Kind is a string value representing the REST resource this object represents. Servers "
    "may infer this from the endpoint the client submits requests to. Cannot be updated. In "
    "CamelCase. More info: https://git.k8s.io/community/contributors/devel/"
    "sig-architecture/api-conventions.md#types-kinds"
)
_METADATA_DOC = (
    "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/"
    "sig-architecture/api-conventions.md#metadata"
)


@functools.cache
def builtin(name: str, prefix: str) -> dict[str, Any] | None:
    """One shipped definition in the dialect of ``prefix`` (shared: never change it)."""
    source = schema.definition(name)
    return None if source is None else _convert(source, prefix)


def _convert(source: dict[str, Any], prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in source.items():
        if key == "$ref":
            out[key] = prefix + value.rsplit("/", 1)[-1]
        elif key == "type" and isinstance(value, list):
            types = [t for t in value if t != "null"]
            if types:
                out[key] = types[0]
        elif key == "enum":
            continue  # only apiVersion and kind have one, added by the JSON-schema export
        elif key == "properties":
            out[key] = {field: _convert(sub, prefix) for field, sub in value.items()}
        elif key in _NESTED and isinstance(value, dict):
            out[key] = _convert(value, prefix)
        elif key == "oneOf" and prefix == V2:
            out.update(_scalar_union(value))
        elif key == "oneOf" and _types(value[0]) == ["string"] and _has(value, "integer"):
            out["format"] = "int-or-string"  # IntOrString, as upstream's v3 marks it
            out[key] = [{"type": "integer"}, {"type": "string"}]
        elif key in _UNIONS:
            out[key] = [_convert(sub, prefix) for sub in value]
        else:
            out[key] = value
    if "$ref" in out and len(out) > 1 and prefix == V3:
        # OpenAPI 3.0 ignores the siblings of a $ref; upstream keeps them beside an allOf
        out["allOf"] = [{"$ref": out.pop("$ref")}]
    return out


def _scalar_union(branches: list[dict[str, Any]]) -> dict[str, Any]:
    """IntOrString (string or integer) and Quantity (string or number) in Swagger 2.0, which
    has no unions: a string, with the ``int-or-string`` format for the first, as upstream."""
    if _has(branches, "integer"):
        return {"type": "string", "format": "int-or-string"}
    return {"type": "string"}


def _has(branches: list[dict[str, Any]], kind: str) -> bool:
    return any(kind in _types(branch) for branch in branches)


def _types(branch: dict[str, Any]) -> list[str]:
    value = branch.get("type", [])
    return [value] if isinstance(value, str) else [t for t in value if t != "null"]


def custom_name(group: str, version: str, kind: str) -> str:
    """``com.example.stable.v1.CronTab``: the reversed group, as apiextensions names them."""
    return ".".join([*reversed(group.split(".")), version, kind])


def custom_resource(rt: ResourceType, prefix: str) -> dict[str, dict[str, Any]]:
    """The object and list schemas of a custom resource version, keyed by name."""
    gvk = [{"group": rt.group, "kind": rt.kind, "version": rt.version}]
    body = dict(rt.schema or {"type": "object"})
    properties = dict(body.get("properties") or {})
    properties["apiVersion"] = {"description": _API_VERSION_DOC, "type": "string"}
    properties["kind"] = {"description": _KIND_DOC, "type": "string"}
    properties["metadata"] = _ref(OBJECT_META, prefix, _METADATA_DOC)
    body["properties"] = properties
    body.setdefault("type", "object")
    body["x-kubernetes-group-version-kind"] = gvk
    name = custom_name(rt.group, rt.version, rt.kind)
    listing = {
        "description": f"{rt.kind}List is a list of {rt.kind}",
        "properties": {
            "apiVersion": properties["apiVersion"],
            "items": {
                "description": f"List of {rt.plural}. More info: https://git.k8s.io/community"
                "/contributors/devel/sig-architecture/api-conventions.md",
                "items": {"$ref": prefix + name},
                "type": "array",
            },
            "kind": properties["kind"],
            "metadata": _ref(LIST_META, prefix, "Standard list metadata."),
        },
        "required": ["items"],
        "type": "object",
        "x-kubernetes-group-version-kind": [{**gvk[0], "kind": f"{rt.kind}List"}],
    }
    return {name: body, f"{name}List": listing}


def _ref(name: str, prefix: str, description: str) -> dict[str, Any]:
    if prefix == V3:
        return {"allOf": [{"$ref": prefix + name}], "description": description}
    return {"$ref": prefix + name, "description": description}


def object_name(rt: ResourceType) -> str | None:
    """The schema name of a resource's kind: shipped for built-ins, made up for CRs."""
    if rt.schema is not None:
        return custom_name(rt.group, rt.version, rt.kind)
    return schema.definition_name(rt.group, rt.version, rt.kind)


def list_name(rt: ResourceType) -> str | None:
    if rt.schema is not None:
        return custom_name(rt.group, rt.version, rt.list_kind)
    return schema.definition_name(rt.group, rt.version, rt.list_kind)


def collect(
    types: Iterable[ResourceType], roots: Iterable[str], prefix: str
) -> dict[str, dict[str, Any]]:
    """Every schema the custom ``types`` and the named ``roots`` reach, sorted by name."""
    found: dict[str, dict[str, Any]] = {}
    for rt in types:
        if rt.schema is not None:
            found.update(custom_resource(rt, prefix))
    pending = list(roots) + [name for body in list(found.values()) for name in _refs(body)]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        body = builtin(name, prefix)
        if body is not None:
            found[name] = body
            pending.extend(_builtin_refs(name, prefix))
    return dict(sorted(found.items()))


@functools.cache
def _builtin_refs(name: str, prefix: str) -> tuple[str, ...]:
    return tuple(_refs(builtin(name, prefix)))


def _refs(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value.rsplit("/", 1)[-1]
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)
