"""The OpenAPI schemas of the built-in kinds, and the unknown fields they reveal.

Kubernetes publishes an OpenAPI definition for every kind; the ``kubernetes-validate`` package
ships those of 1.32 (``kubernetes-json-schema/v1.32.0-local/_definitions.json``, 1.3 MB, parsed
in milliseconds on first use). The API server uses them for *field validation*: a field the
schema does not know is dropped (``fieldValidation=Ignore``), dropped with a warning (``Warn``,
the default when a client does not say) or refused (``Strict``, what kubectl sends), with
upstream's words: ``strict decoding error: unknown field "spec.foo"``.

Objects are walked along the schema: ``$ref`` to named definitions, ``properties`` for
structs, ``additionalProperties`` for maps, ``items`` for lists; a schema that marks
``x-kubernetes-preserve-unknown-fields``, or says nothing about its fields, accepts anything.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Any

import orjson

_SOURCE = ("kubernetes_validate", "kubernetes-json-schema/v1.32.0-local/_definitions.json")


@functools.cache
def _definitions() -> dict[str, Any]:
    package, path = _SOURCE
    # Found, not imported: importing kubernetes_validate (and jsonschema with it) costs more
    # than parsing the file, and the API server reads this on its way to ready.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"the {package} package is not installed", name=package)
    raw = (Path(spec.submodule_search_locations[0]) / path).read_bytes()
    defs: dict[str, Any] = orjson.loads(raw)["$defs"]
    return defs


@functools.cache
def _by_kind() -> dict[tuple[str, str, str], str]:
    index: dict[tuple[str, str, str], str] = {}
    for name, definition in _definitions().items():
        for gvk in definition.get("x-kubernetes-group-version-kind") or []:
            index.setdefault((gvk.get("group", ""), gvk["version"], gvk["kind"]), name)
    return index


def definition_name(group: str, version: str, kind: str) -> str | None:
    return _by_kind().get((group, version, kind))


def definition(name: str) -> dict[str, Any] | None:
    """One named definition as shipped (shared: callers must not change it)."""
    return _definitions().get(name)


def unknown_fields(group: str, version: str, kind: str, obj: Any, *, drop: bool) -> list[str]:
    """Paths of the fields of ``obj`` its kind's schema does not know (removed if ``drop``)."""
    name = definition_name(group, version, kind)
    if name is None:
        return []
    found: list[str] = []
    _walk({"$ref": f"#/$defs/{name}"}, obj, "", found, drop)
    return found


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = _definitions()[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _walk(schema: dict[str, Any], value: Any, path: str, found: list[str], drop: bool) -> None:
    schema = resolve(schema)
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    if isinstance(value, dict):
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        if properties is None and not isinstance(extra, dict):
            return  # a free-form object
        for key in list(value):
            where = f"{path}.{key}" if path else key
            if properties is not None and key in properties:
                _walk(properties[key], value[key], where, found, drop)
            elif isinstance(extra, dict):
                _walk(extra, value[key], where, found, drop)
            else:
                found.append(where)
                if drop:
                    del value[key]
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            _walk(schema["items"], item, f"{path}[{index}]", found, drop)
