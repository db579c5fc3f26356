"""API clients: how every component except the API server reads and writes the cluster.

Only the API server touches the store (DESIGN.md, "One door to the data"). Everything else —
controllers, the scheduler, kubelets, the proxy, the CLI, users' tests — calls the Kubernetes
API through a ``Client`` (``protocol.py``): ``InProcessClient`` in the API server's own process
(same code path, no sockets), ``HttpClient`` from anywhere else (HTTPS, a kubeconfig's
credentials). An ``Informer`` keeps a live local cache of one collection on top of either.
Errors are ``ApiError``, the server's ``Status``, whichever client raised them.

The clients themselves are imported on first use (``HttpClient`` brings aiohttp, the
in-process one the API server's backend): a command line that only reads a file starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from minikube_py.api.errors import ApiError
from minikube_py.client.protocol import (
    CONFIGMAPS,
    CONTROLLER_REVISIONS,
    CRONJOBS,
    DAEMONSETS,
    DEPLOYMENTS,
    ENDPOINT_SLICES,
    ENDPOINTS,
    EVENTS,
    EVENTS_V1,
    GVR,
    INGRESSES,
    JOBS,
    LEASES,
    NAMESPACES,
    NODES,
    PERSISTENT_VOLUME_CLAIMS,
    PERSISTENT_VOLUMES,
    PODS,
    REPLICASETS,
    REPLICATION_CONTROLLERS,
    SECRETS,
    SERVICE_ACCOUNTS,
    SERVICES,
    STATEFULSETS,
    Client,
    Object,
)

if TYPE_CHECKING:
    from minikube_py.client.backend import Backend
    from minikube_py.client.http import HttpClient
    from minikube_py.client.informer import Informer, object_key
    from minikube_py.client.inprocess import InProcessClient
    from minikube_py.client.kubeconfig import Connection, KubeconfigError, load_kubeconfig

    from_kubeconfig = HttpClient.from_kubeconfig

_LAZY = {
    "Backend": "backend",
    "HttpClient": "http",
    "Informer": "informer",
    "object_key": "informer",
    "InProcessClient": "inprocess",
    "Connection": "kubeconfig",
    "KubeconfigError": "kubeconfig",
    "load_kubeconfig": "kubeconfig",
}


def __getattr__(name: str) -> Any:
    if name == "from_kubeconfig":
        return __getattr__("HttpClient").from_kubeconfig
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CONFIGMAPS",
    "CONTROLLER_REVISIONS",
    "CRONJOBS",
    "DAEMONSETS",
    "DEPLOYMENTS",
    "ENDPOINTS",
    "ENDPOINT_SLICES",
    "EVENTS",
    "EVENTS_V1",
    "GVR",
    "INGRESSES",
    "JOBS",
    "LEASES",
    "NAMESPACES",
    "NODES",
    "PERSISTENT_VOLUMES",
    "PERSISTENT_VOLUME_CLAIMS",
    "PODS",
    "REPLICASETS",
    "REPLICATION_CONTROLLERS",
    "SECRETS",
    "SERVICES",
    "SERVICE_ACCOUNTS",
    "STATEFULSETS",
    "ApiError",
    "Backend",
    "Client",
    "Connection",
    "HttpClient",
    "InProcessClient",
    "Informer",
    "KubeconfigError",
    "Object",
    "from_kubeconfig",
    "load_kubeconfig",
    "object_key",
]
