"""Helpers shared by the client tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from minikube_py.client import InProcessClient
    from minikube_py.cluster import RunningCluster

T = TypeVar("T")
WAIT = 10.0  # seconds any single wait in these tests may take before it is a failure


async def bounded(awaitable: Awaitable[T], seconds: float = WAIT) -> T:
    return await asyncio.wait_for(awaitable, seconds)


def in_process_client(cluster: RunningCluster) -> InProcessClient:
    from minikube_py.apiserver.local import LocalBackend

    server = cluster.api_server
    return LocalBackend(server.storage, server.cache).client()


def configmap(name: str, labels: dict[str, str] | None = None, **data: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if labels:
        metadata["labels"] = labels
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata}
    if data:
        obj["data"] = data
    return obj
