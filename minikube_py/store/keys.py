"""Storage keys: where each Kubernetes object lives in the store.

Kubernetes keeps objects in etcd under ``/registry/``; the store uses the same layout, so a
newcomer who knows ``etcdctl get --prefix /registry/`` recognises what they see:

- namespaced: ``/registry/<group>/<resource>/<namespace>/<name>``
- cluster-scoped: ``/registry/<group>/<resource>/<name>``
- the core group (``""``: pods, services, …) has no group segment: ``/registry/pods/default/web``

Listing "all pods" is then a prefix list of ``/registry/pods/`` and "pods in default" one of
``/registry/pods/default/``. Every prefix ends with ``/``, so ``default`` never matches
``default-2``. Segments may not be empty or contain ``/``, which would let one object's key
pose as another's; the API server validates names before they get here, this is the backstop.
"""

from __future__ import annotations

ROOT = "/registry/"


def _segments(*parts: str) -> str:
    for part in parts:
        if not part or "/" in part:
            raise ValueError(f"invalid key segment {part!r}: empty or containing '/'")
    return "".join(part + "/" for part in parts)


def resource_prefix(group: str, resource: str, namespace: str | None = None) -> str:
    """The prefix holding every object of a resource (in one namespace, if given)."""
    parts = [group] if group else []
    parts.append(resource)
    if namespace is not None:
        parts.append(namespace)
    return ROOT + _segments(*parts)


def object_key(group: str, resource: str, namespace: str | None, name: str) -> str:
    """The key of one object; ``namespace`` is None for cluster-scoped resources."""
    return resource_prefix(group, resource, namespace) + _segments(name)[:-1]
