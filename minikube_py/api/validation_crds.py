"""Validating CustomResourceDefinitions: the mistakes upstream refuses with ``422 Invalid``.

A CRD is only useful if the server can derive a resource from it, so upstream checks that its
name is ``<plural>.<group>``, the group is a domain with a dot, the names are DNS labels (the
kind may have mixed case), the scope is ``Namespaced`` or ``Cluster``, there is at least one
version, exactly one of them is the storage version, and every version of a ``v1`` CRD has a
*structural* schema (an object at the root, a ``type`` on every field). ``defaults`` fills
what upstream's defaulting fills first (``singular``, ``listKind``, ``conversion``).
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.errors import Cause
from minikube_py.api.validation_causes import (
    IMMUTABLE,
    as_dict,
    invalid,
    items,
    not_supported,
    required,
    text,
)
from minikube_py.api.validation_formats import (
    is_dns1035_label,
    is_dns1123_subdomain,
)

SCOPES = ["Cluster", "Namespaced"]


def defaults(crd: dict[str, Any]) -> None:
    """Upstream's CRD defaulting (the parts clients notice)."""
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        return
    names = spec.get("names")
    if isinstance(names, dict) and isinstance(names.get("kind"), str) and names["kind"]:
        names.setdefault("singular", names["kind"].lower())
        names.setdefault("listKind", names["kind"] + "List")
    if not isinstance(spec.get("conversion"), dict):
        spec["conversion"] = {"strategy": "None"}
    # upstream's strategy: the storage version is recorded as stored the moment it is used
    stored = [v.get("name") for v in items(spec, "versions") if as_dict(v).get("storage")]
    status = crd.get("status")
    if len(stored) == 1 and isinstance(status, dict):
        known = status.get("storedVersions")
        known = known if isinstance(known, list) else []
        if stored[0] not in known:
            status["storedVersions"] = [*known, stored[0]]


def validate_crd(crd: Any, old: Any) -> list[Cause]:
    spec = as_dict(as_dict(crd).get("spec"))
    causes = _validate_name(crd, spec)
    group = text(spec, "group")
    if not group:
        causes.append(required("spec.group"))
    elif is_dns1123_subdomain(group):
        causes.append(invalid("spec.group", group, ",".join(is_dns1123_subdomain(group))))
    elif len(group.split(".")) < 2:
        causes.append(invalid("spec.group", group, "should be a domain with at least one dot"))
    scope = text(spec, "scope")
    if not scope:
        causes.append(required("spec.scope"))
    elif scope not in SCOPES:
        causes.append(not_supported("spec.scope", scope, SCOPES))
    causes += _validate_names(as_dict(spec.get("names")))
    causes += _validate_versions(items(spec, "versions"))
    if old is not None:
        before = as_dict(as_dict(old).get("spec"))
        for field in ("group", "scope"):
            if field in before and spec.get(field) != before.get(field):
                causes.append(invalid(f"spec.{field}", spec.get(field), IMMUTABLE))
    return causes


def _validate_name(crd: Any, spec: dict[str, Any]) -> list[Cause]:
    name = text(as_dict(as_dict(crd).get("metadata")), "name")
    wanted = f"{text(as_dict(spec.get('names')), 'plural')}.{text(spec, 'group')}"
    if name and name != wanted:
        return [invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group')]
    return []


def _validate_names(names: dict[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    path = "spec.names"
    for field in ("plural", "singular", "kind", "listKind"):
        value = text(names, field)
        if not value:
            causes.append(required(f"{path}.{field}"))
            continue
        mixed = field in ("kind", "listKind")
        problems = is_dns1035_label(value.lower() if mixed else value)
        if problems:
            prefix = "may have mixed case, but should otherwise match: " if mixed else ""
            causes.append(invalid(f"{path}.{field}", value, prefix + ",".join(problems)))
    for index, short in enumerate(items(names, "shortNames")):
        problems = is_dns1035_label(short) if isinstance(short, str) else ["must be a string"]
        if problems:
            causes.append(invalid(f"{path}.shortNames[{index}]", short, ",".join(problems)))
    kind = text(names, "kind")
    if kind and kind == text(names, "listKind"):
        causes.append(invalid(f"{path}.listKind", kind, "kind and listKind may not be the same"))
    return causes


def _validate_versions(versions: list[Any]) -> list[Cause]:
    causes: list[Cause] = []
    if not versions:
        causes.append(required("spec.versions", "must have at least one version"))
    seen: set[str] = set()
    storage = 0
    for index, version in enumerate(versions):
        version = as_dict(version)
        path = f"spec.versions[{index}]"
        name = text(version, "name")
        storage += bool(version.get("storage"))
        problems = is_dns1035_label(name)
        if problems:
            causes.append(invalid(f"{path}.name", name, ",".join(problems)))
        if name in seen:
            causes.append(invalid("spec.versions", versions, "must contain unique version names"))
        seen.add(name)
        causes += _validate_scale(as_dict(version.get("subresources")).get("scale"), path)
        schema = as_dict(version.get("schema")).get("openAPIV3Schema")
        schema_path = f"{path}.schema.openAPIV3Schema"
        if not isinstance(schema, dict):
            causes.append(required(schema_path, "schemas are required"))
        else:
            causes += _structural(schema, schema_path)
    if storage != 1 and versions:
        causes.append(
            invalid(
                "spec.versions", versions, "must have exactly one version marked as storage version"
            )
        )
    return causes


def _validate_scale(scale: Any, path: str) -> list[Cause]:
    """The scale subresource's paths must point into spec and status, as upstream checks."""
    if not isinstance(scale, dict):
        return []
    path = f"{path}.subresources.scale"
    causes: list[Cause] = []
    rules = (
        ("specReplicasPath", (".spec.",), "should be a json path under .spec", True),
        ("statusReplicasPath", (".status.",), "should be a json path under .status", True),
        ("labelSelectorPath", (".spec.", ".status."),
         "should be a json path under either .spec or .status", False),
    )  # fmt: skip
    for field, prefixes, message, needed in rules:
        value = scale.get(field)
        if not value:
            if needed:
                causes.append(required(f"{path}.{field}"))
        elif not isinstance(value, str) or not value.startswith(prefixes):
            causes.append(invalid(f"{path}.{field}", value, message))
    return causes


def _structural(schema: dict[str, Any], path: str) -> list[Cause]:
    """The structural rules clients trip over: an object at the root, a type everywhere."""
    kind = schema.get("type")
    if not kind:
        return [required(f"{path}.type", "must not be empty at the root")]
    if kind != "object":
        return [invalid(f"{path}.type", kind, "must be object at the root")]
    causes: list[Cause] = []
    _typed(schema, path, causes)
    return causes


def _typed(schema: dict[str, Any], path: str, causes: list[Cause]) -> None:
    for name, prop in as_dict(schema.get("properties")).items():
        _typed_node(prop, f"{path}.properties[{name}]", "for specified object fields", causes)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        _typed_node(extra, f"{path}.additionalProperties", "for specified object fields", causes)
    if isinstance(schema.get("items"), dict):
        _typed_node(schema["items"], f"{path}.items", "for specified array items", causes)


def _typed_node(schema: Any, path: str, where: str, causes: list[Cause]) -> None:
    if not isinstance(schema, dict):
        return
    free = schema.get("x-kubernetes-int-or-string") or schema.get(
        "x-kubernetes-preserve-unknown-fields"
    )
    if not schema.get("type") and not free:
        causes.append(required(f"{path}.type", f"must not be empty {where}"))
    _typed(schema, path, causes)
