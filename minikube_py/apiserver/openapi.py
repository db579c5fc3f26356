"""OpenAPI v3: enough of it for ``kubectl create -f``, ``apply`` and ``replace`` to validate.

With its default ``--validate=strict``, kubectl downloads ``/openapi/v3`` and checks, for the
kind it is about to send, whether the server's PATCH operation declares a ``fieldValidation``
query parameter. If it does, kubectl leaves validation to the server (``?fieldValidation=
Strict``). So the documents here list, per group version, each resource's object path with a
``patch`` operation carrying ``x-kubernetes-group-version-kind`` and that parameter — and no
schemas yet: full schemas (for ``kubectl explain``) come with the apply work.
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.registry import Registry
from minikube_py.api.resources import ResourceType

_FIELD_VALIDATION = {
    "name": "fieldValidation",
    "in": "query",
    "description": "how the server treats unknown or duplicate fields: Ignore, Warn or Strict",
    "schema": {"type": "string", "uniqueItems": True},
}


def _gv_path(group: str, version: str) -> str:
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def document(registry: Registry, path: str) -> dict[str, Any] | None:
    """The root index (``/openapi/v3``) or one group version's document; None if unknown."""
    relative = path.removeprefix("/openapi/v3").strip("/")
    versions = {(rt.group, rt.version) for rt in registry}
    if path.rstrip("/") == "/openapi/v3":
        return {
            "paths": {
                _gv_path(g, v): {"serverRelativeURL": f"/openapi/v3/{_gv_path(g, v)}"}
                for g, v in sorted(versions)
            }
        }
    for group, version in versions:
        if relative == _gv_path(group, version):
            return _group_version(registry.in_group_version(group, version))
    return None


def _item_path(rt: ResourceType) -> str:
    base = "/" + _gv_path(rt.group, rt.version)
    scope = "/namespaces/{namespace}" if rt.namespaced else ""
    return f"{base}{scope}/{rt.plural}/{{name}}"


def _group_version(types: list[ResourceType]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for rt in types:
        gvk = {"group": rt.group, "version": rt.version, "kind": rt.kind}
        operation = {
            "operationId": f"patch{rt.kind}",
            "parameters": [_FIELD_VALIDATION],
            "responses": {"200": {"description": "OK"}},
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": gvk,
        }
        paths[_item_path(rt)] = {"patch": operation}
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": {}},
    }
