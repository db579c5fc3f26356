"""What every cluster has before anyone asks: its namespaces and the ``kubernetes`` Service.

Upstream's apiserver creates ``default``, ``kube-system``, ``kube-public`` and
``kube-node-lease`` at start, and the ``kubernetes`` Service in ``default`` — the address pods
use to reach the API — with Endpoints pointing at the apiserver itself. Objects that already
exist are left as they are, so a restart changes nothing. The namespaces are created together,
then the Service and its Endpoints together: each group shares one durable commit (the store
batches concurrent writes), which shortens the API server's way to ready.
"""

from __future__ import annotations

import asyncio
from typing import Any

from minikube_py.api import errors
from minikube_py.apiserver.storage import Storage

NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


async def _ensure(
    storage: Storage, plural: str, namespace: str | None, obj: dict[str, Any]
) -> None:
    rt = storage.registry.get("", "v1", plural)
    assert rt is not None, plural
    try:
        await storage.create(rt, namespace, obj)
    except errors.ApiError as error:
        if error.code != 409:
            raise


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
    )
    await asyncio.gather(service, endpoints)
