"""What every cluster has before anyone asks: its namespaces and the ``kubernetes`` Service.

Upstream's apiserver creates ``default``, ``kube-system``, ``kube-public`` and
``kube-node-lease`` at start, and the ``kubernetes`` Service in ``default`` — the address pods
use to reach the API — with an Endpoints object and an EndpointSlice, both named
``kubernetes``, pointing at the apiserver itself (upstream's endpoint reconciler and its
EndpointsAdapter: the Endpoints labelled ``endpointslice.kubernetes.io/skip-mirror``, the
slice labelled only ``kubernetes.io/service-name``). The Service has no selector, so the
endpoint controllers leave both alone. Objects that already exist are left as they are, so a
restart changes nothing — but the Endpoints and the slice are brought up to date when the
server now listens elsewhere (another port, a restart with ``port=0``). The namespaces are
created together, then the Service and its endpoints together: each group shares one durable
commit (the store batches concurrent writes), which shortens the API server's way to ready.
"""

from __future__ import annotations

import asyncio
from typing import Any

from minikube_py.api import errors
from minikube_py.apiserver.storage import Storage

NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


async def _ensure(
    storage: Storage,
    plural: str,
    namespace: str | None,
    obj: dict[str, Any],
    *,
    group_version: tuple[str, str] = ("", "v1"),
    current: tuple[str, ...] = (),
) -> None:
    """Create ``obj``; if it exists, leave it — but for its ``current`` fields, which are
    made what ``obj`` says when they differ."""
    rt = storage.registry.get(*group_version, plural)
    assert rt is not None, plural
    try:
        await storage.create(rt, namespace, obj)
        return
    except errors.ApiError as error:
        if error.code != 409:
            raise
    if not current:
        return
    name = obj["metadata"]["name"]
    existing = await storage.get(rt, namespace, name)
    if all(existing.get(field) == obj.get(field) for field in current):
        return

    def refresh(old: dict[str, Any]) -> dict[str, Any]:
        return {**old, **{field: obj.get(field) for field in current}}

    await storage.patch(rt, namespace, name, refresh)


async def bootstrap(storage: Storage, *, host: str, port: int) -> None:
    await asyncio.gather(
        *(_ensure(storage, "namespaces", None, {"metadata": {"name": name}}) for name in NAMESPACES)
    )
    labels = {"component": "apiserver", "provider": "kubernetes"}
    service = _ensure(
        storage,
        "services",
        "default",
        {
            "metadata": {"name": "kubernetes", "labels": labels},
            "spec": {
                "clusterIP": storage.allocator.kubernetes_ip,
                "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}],
                "sessionAffinity": "None",
                "type": "ClusterIP",
            },
        },
    )
    endpoints = _ensure(
        storage,
        "endpoints",
        "default",
        {
            "metadata": {
                "name": "kubernetes",
                "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
            },
            "subsets": [
                {
                    "addresses": [{"ip": host}],
                    "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
                }
            ],
        },
        current=("subsets",),
    )
    endpoint_slice = _ensure(
        storage,
        "endpointslices",
        "default",
        {
            "metadata": {
                "name": "kubernetes",
                "labels": {"kubernetes.io/service-name": "kubernetes"},
            },
            "addressType": "IPv4",
            "endpoints": [{"addresses": [host], "conditions": {"ready": True}}],
            "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
        },
        group_version=("discovery.k8s.io", "v1"),
        current=("endpoints", "ports"),
    )
    await asyncio.gather(service, endpoints, endpoint_slice)
