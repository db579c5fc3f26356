"""Kinds and object references as the embedded cluster's verbs take them.

Words are resolved by discovery (``minikube_py.client.discovery``, shared with the built-in
kubectl); here an unknown word becomes the embedded cluster's ``ClusterError``, and
``split_ref`` reads ``"deployment/web"`` or ``("deployment", "web")``.
"""

from __future__ import annotations

from typing import Any

from minikube_py.client import discovery
from minikube_py.client.discovery import Resource, find, find_kind, resources_of
from minikube_py.cluster.settings import ClusterError

__all__ = ["Resolver", "Resource", "find", "find_kind", "resources_of", "split_ref"]


class Resolver(discovery.Resolver):
    """Discovery's resolver, raising ``ClusterError`` for a word the server does not serve."""

    async def resource(self, word: str) -> Resource:
        try:
            return await super().resource(word)
        except discovery.UnknownResource as error:
            raise ClusterError(str(error)) from None


def split_ref(ref: Any) -> tuple[str, str]:
    """``"deployment/web"`` or ``("deployment", "web")`` → ``("deployment", "web")``."""
    if isinstance(ref, str):
        kind, slash, name = ref.partition("/")
        if slash and kind and name and "/" not in name:
            return kind, name
    elif isinstance(ref, tuple | list) and len(ref) == 2:
        kind, name = ref
        if isinstance(kind, str) and isinstance(name, str) and kind and name:
            return kind, name
    raise ClusterError(f"not a reference to an object (want 'kind/name' or (kind, name)): {ref!r}")
