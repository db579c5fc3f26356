"""Routing: which resource, namespace, object and subresource a URL path names.

Kubernetes paths follow one grammar:

    /api/v1[/namespaces/{ns}]/{resource}[/{name}[/{subresource}]]              core group
    /apis/{group}/{version}[/namespaces/{ns}]/{resource}[/{name}[/{subresource}]]

with one twist: ``/api/v1/namespaces/{name}`` is itself an object (a Namespace), and
``/api/v1/namespaces/{name}/status`` its subresource, while ``/api/v1/namespaces/{ns}/pods``
is a collection in it. Everything else (discovery, ``/version``, health, OpenAPI) is matched
by the app before this.
"""

from __future__ import annotations

import attrs

from minikube_py.api import errors
from minikube_py.api.registry import Registry
from minikube_py.api.resources import ResourceType


@attrs.frozen
class Target:
    """What a resource request is about."""

    rt: ResourceType
    namespace: str | None  # None: cluster-scoped, or all namespaces for a list
    name: str | None  # None: the collection
    subresource: str | None = None


def parse(registry: Registry, path: str) -> Target | None:
    """The target of a resource path; None when the path is not a resource path at all.

    Raises 404 with upstream's message for an unknown group, version or resource.
    """
    parts = [part for part in path.split("/") if part]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if not rest:
        return None  # discovery of a group version
    namespace = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespaces = registry.get("", "v1", "namespaces")
        sub = rest[2]
        if not (group == "" and namespaces is not None and sub in namespaces.subresources):
            namespace, rest = rest[1], rest[2:]
    rt = registry.get(group, version, rest[0])
    if rt is None:
        raise errors.path_not_found()
    if len(rest) > 3:
        raise errors.path_not_found()
    name = rest[1] if len(rest) >= 2 else None
    subresource = rest[2] if len(rest) == 3 else None
    if subresource is not None and subresource not in rt.subresources:
        raise errors.path_not_found()
    if namespace is not None and not rt.namespaced:
        raise errors.path_not_found()
    if rt.namespaced and name is not None and namespace is None:
        raise errors.path_not_found()
    return Target(rt, namespace, name, subresource)
