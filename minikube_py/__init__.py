"""minikube_py: a Kubernetes cluster in one Python process.

The API server speaks the real Kubernetes REST dialect, pods are real processes, services
real loopback listeners, volumes real directories, and etcd is replaced by an SQL store
(SQLite by default, PostgreSQL for bigger set-ups). See docs/ and the README.

The public API is the embedded cluster (``docs/embedded.md``)::

    with minikube_py.Cluster() as cluster:
        cluster.apply(manifest)
        cluster.wait_for("deployment/web", "Available")

``Cluster``, ``AsyncCluster``, ``ClusterError``, ``ApiError`` and ``WaitTimeout`` are loaded
on first use (``__getattr__`` below), so ``import minikube_py`` stays cheap for the command
line and for pytest, which loads the plugin of every installed package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["ApiError", "AsyncCluster", "Cluster", "ClusterError", "WaitTimeout", "__version__"]

if TYPE_CHECKING:
    from minikube_py.embedded import ApiError, AsyncCluster, Cluster, ClusterError, WaitTimeout


def __getattr__(name: str) -> Any:
    if name in __all__ and name != "__version__":
        return getattr(importlib.import_module("minikube_py.embedded"), name)
    raise AttributeError(f"module 'minikube_py' has no attribute {name!r}")
