"""Plain-dict pods and nodes for the scheduler tests, and an API server without the
cluster's own scheduler and kubelets (``api_only``), so the scheduler under test is alone."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from minikube_py.apiserver.pki import ensure_pki
from minikube_py.apiserver.server import ApiServer
from minikube_py.client import Client
from minikube_py.scheduler.framework import NodeInfo
from minikube_py.store import open_store
from tests.clusters import seed_service_accounts


@contextlib.asynccontextmanager
async def api_only(directory: Path) -> AsyncIterator[Client]:
    """An in-memory API server on a free loopback port, and an in-process client of it."""
    store = await open_store("sqlite://")
    try:
        server = ApiServer(store, ensure_pki(directory, addresses=["127.0.0.1"]), port=0)
        await server.start()
        await seed_service_accounts(server.storage)  # what the controllers would have made
        client = server.client()
        try:
            yield client
        finally:
            await client.close()
            await server.stop()
    finally:
        await store.close()


Object = dict[str, Any]


def node(
    name: str,
    *,
    cpu: str = "4",
    memory: str = "8Gi",
    pods: int = 110,
    labels: dict[str, str] | None = None,
    taints: list[Object] | None = None,
    unschedulable: bool = False,
) -> Object:
    spec: Object = {}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    allocatable = {"cpu": cpu, "memory": memory, "pods": str(pods)}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": spec,
        "status": {"capacity": dict(allocatable), "allocatable": allocatable},
    }


def pod(
    name: str = "web",
    *,
    cpu: str | None = None,
    memory: str | None = None,
    **spec: Any,
) -> Object:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    container: Object = {"name": "app", "image": "nginx"}
    if requests:
        container["resources"] = {"requests": requests}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [container], **spec},
    }


def info(obj: Object, *pods: Object) -> NodeInfo:
    return NodeInfo(obj, pods)
