"""How kubectl names a resource and an object in what it prints.

kubectl's messages name an object by its kind, lower-cased, and its API group:
``deployment.apps/web created``, ``service/web exposed`` (the core group has no suffix),
``ingress.networking.k8s.io "web" deleted``. ``-o name`` prints the same ``kind.group/name``.
"""

from __future__ import annotations

from minikube_py.client.discovery import Resource


def kind_group(resource: Resource) -> str:
    """``deployment.apps``, ``pod``: the kind lower-cased, with the group when it has one."""
    kind = resource.kind.lower()
    return f"{kind}.{resource.gvr.group}" if resource.gvr.group else kind


def object_name(resource: Resource, name: str) -> str:
    """``deployment.apps/web``: what ``-o name`` and the create/apply messages print."""
    return f"{kind_group(resource)}/{name}"


def quoted_name(resource: Resource, name: str) -> str:
    """``deployment.apps "web"``: how ``delete`` and errors name an object."""
    return f'{kind_group(resource)} "{name}"'
