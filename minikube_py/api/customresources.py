"""Custom resources: the resource types a CustomResourceDefinition asks the server to serve.

A CRD (``apiextensions.k8s.io/v1``) names a new kind — group, plural, singular, kind, short
names, categories, scope — and lists its versions. Each version that is ``served`` becomes one
``CustomResourceType`` in the registry, a ``ResourceType`` that also knows its CRD, the
*storage version* (exactly one version is stored; the others are the same objects seen under
another ``apiVersion``, conversion strategy ``None``), its OpenAPI schema (``schema``), its
``scale`` paths and its printer columns. Columns come from ``additionalPrinterColumns``,
evaluated with a small subset of kubectl's JSONPath (``.spec.cronSpec``, ``.a['b']``,
``.items[0]``, ``.conditions[?(@.type=="Ready")].status``); without them a CR shows NAME
and AGE, as upstream.
"""

from __future__ import annotations

import json
import re
from typing import Any

import attrs

from minikube_py.api.printers import AGE_DOC, NAME, since
from minikube_py.api.resources import Column, ResourceType

CRD_GROUP = "apiextensions.k8s.io"
CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


@attrs.frozen
class ScalePaths:
    """Where a custom resource keeps what its ``scale`` subresource shows."""

    spec_replicas: str
    status_replicas: str
    label_selector: str = ""


@attrs.frozen
class CustomResourceType(ResourceType):
    """One served version of a custom resource."""

    crd_name: str = ""
    storage_version: str = ""
    scale: ScalePaths | None = None
    terminating: bool = False  # its CRD is being deleted: no new objects


_KUBE_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(name: str) -> tuple[int, int, int, str]:
    """Upstream's kube-aware version order as a sort key: v2 > v1 > v1beta2 > v1beta1 >
    v1alpha1 > anything else (alphabetically)."""
    match = _KUBE_VERSION.match(name)
    if match is None:
        return (3, 0, 0, name)
    major, stage, minor = match.groups()
    rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return (rank, -int(major), -int(minor or 0), "")


def is_crd(rt: ResourceType) -> bool:
    return rt.group == CRD_GROUP and rt.kind == "CustomResourceDefinition"


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def storage_version(crd: dict[str, Any]) -> str:
    for version in (crd.get("spec") or {}).get("versions") or []:
        if isinstance(version, dict) and version.get("storage"):
            return str(version.get("name", ""))
    return ""


def types_from_crd(crd: dict[str, Any], *, unserved: bool = False) -> list[CustomResourceType]:
    """The resource types of a CRD's served versions (all versions with ``unserved``)."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    kind = str(names.get("kind", ""))
    stored = storage_version(crd)
    types = []
    for version in spec.get("versions") or []:
        if not isinstance(version, dict) or not (version.get("served") or unserved):
            continue
        subresources = version.get("subresources") or {}
        scale = subresources.get("scale")
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        types.append(
            CustomResourceType(
                group=str(spec.get("group", "")),
                version=str(version.get("name", "")),
                kind=kind,
                plural=str(names.get("plural", "")),
                singular=str(names.get("singular") or kind.lower()),
                namespaced=spec.get("scope") != "Cluster",
                short_names=_strings(names.get("shortNames")),
                categories=_strings(names.get("categories")),
                subresources=tuple(s for s in ("status", "scale") if s in subresources),
                columns=printer_columns(version.get("additionalPrinterColumns")),
                schema=schema if isinstance(schema, dict) else {"type": "object"},
                crd_name=str((crd.get("metadata") or {}).get("name", "")),
                storage_version=stored,
                scale=ScalePaths(
                    str(scale.get("specReplicasPath", "")),
                    str(scale.get("statusReplicasPath", "")),
                    str(scale.get("labelSelectorPath") or ""),
                )
                if isinstance(scale, dict)
                else None,
            )
        )
    # the first version of a group is its preferred one in discovery, as upstream orders them
    return sorted(types, key=lambda rt: version_priority(rt.version))


def printer_columns(definitions: Any) -> tuple[Column, ...]:
    """NAME, then the CRD's columns; NAME and AGE when it declares none, as upstream."""
    if not isinstance(definitions, list) or not definitions:
        return (NAME, Column("Age", type="date", description=AGE_DOC))
    columns = [NAME]
    for entry in definitions:
        if not isinstance(entry, dict):
            continue
        kind = str(entry.get("type", "string"))
        columns.append(
            Column(
                str(entry.get("name", "")),
                type=kind,
                description=str(entry.get("description", "")),
                priority=int(entry.get("priority") or 0),
                format=str(entry.get("format", "")),
                cell=_cell(str(entry.get("jsonPath", "")), kind),
            )
        )
    return tuple(columns)


def _cell(path: str, kind: str) -> Any:
    def cell(obj: dict[str, Any]) -> Any:
        found = jsonpath(obj, path)
        if not found or found[0] is None:
            return None
        return cell_for(kind, found[0])

    return cell


def cell_for(kind: str, value: Any) -> Any:
    """A column's cell as upstream's table convertor types it; None for a value of the wrong
    type (kubectl prints ``<none>``)."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "integer":
        return int(value) if number else None
    if kind == "number":
        return value if number else None
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    if kind == "date":
        return since(value) if isinstance(value, str) else None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, separators=(",", ":")) if not number else str(value)


_STEP = re.compile(
    r"""\.(?P<name>[A-Za-z0-9_\-$]+)"""
    r"""|\[['"](?P<quoted>[^'"]*)['"]\]"""
    r"""|\[(?P<index>-?\d+)\]"""
    r"""|\[(?P<all>\*)\]|\.\*"""
    r"""|\[\?\(@\.(?P<key>[A-Za-z0-9_\-.]+)\s*==\s*['"](?P<value>[^'"]*)['"]\)\]"""
)


def jsonpath(obj: Any, path: str) -> list[Any]:
    """The values ``path`` selects in ``obj`` (``{}`` around it optional); [] if none."""
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    values = [obj]
    position = 0
    while position < len(path):
        match = _STEP.match(path, position)
        if match is None:
            return []
        position = match.end()
        values = [found for value in values for found in _step(match, value)]
    return values


def _step(match: re.Match[str], value: Any) -> list[Any]:
    name = match.group("name") or match.group("quoted")
    if name is not None:
        return [value[name]] if isinstance(value, dict) and name in value else []
    if match.group("index") is not None:
        index = int(match.group("index"))
        ok = isinstance(value, list) and -len(value) <= index < len(value)
        return [value[index]] if ok else []
    if match.group("key") is not None:
        key, wanted = match.group("key"), match.group("value")
        items = value if isinstance(value, list) else []
        return [item for item in items if _text_at(item, key) == wanted]
    if isinstance(value, list):
        return list(value)
    return list(value.values()) if isinstance(value, dict) else []


def _text_at(item: Any, dotted: str) -> str | None:
    for part in dotted.split("."):
        if not isinstance(item, dict) or part not in item:
            return None
        item = item[part]
    return item if isinstance(item, str) else json.dumps(item)


def _parts(path: str) -> list[str]:
    return [part for part in path.split(".") if part]


def custom_scale(rt: CustomResourceType, obj: dict[str, Any]) -> tuple[int, int, str]:
    """Desired replicas, current replicas and the selector string the ``scale`` paths show."""
    assert rt.scale is not None
    found = [jsonpath(obj, path) for path in (rt.scale.spec_replicas, rt.scale.status_replicas)]
    counts = [v[0] if v and isinstance(v[0], int) and not isinstance(v[0], bool) else 0
              for v in found]  # fmt: skip
    selector = jsonpath(obj, rt.scale.label_selector) if rt.scale.label_selector else []
    return counts[0], counts[1], selector[0] if selector and isinstance(selector[0], str) else ""


def set_custom_replicas(rt: CustomResourceType, obj: dict[str, Any], replicas: int) -> None:
    """Write ``replicas`` where the CRD's ``specReplicasPath`` points (creating maps on the way)."""
    assert rt.scale is not None
    *parents, last = _parts(rt.scale.spec_replicas)
    node = obj
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[last] = replicas
