"""The cluster manager: builds the components of one cluster and runs them together.

A cluster is a state directory (its store, certificates, images, pods, logs), a store, and
components that run until the cluster stops: the API server first, then the networking
components (the cluster DNS, the service proxy, load-balancer addresses, the Ingress addon:
``network.py``), then the scheduler and one node agent (kubelet) per node (``nodes.py``), then
the controller manager, each an API client of the server in this process. ``running_cluster``
starts them and stops them in reverse order; the CLI's ``serve`` / ``start`` and the embedded
``Cluster`` all go through it, so they cannot differ.

Start-up is ordered for a short time to ready, as upstream's: the API server is ready (its
``/readyz``) once it serves, and does not wait for kubelets or controllers. So only what the
API server needs is imported with this module; the kubelet, runtimes, scheduler and
controllers (most of the package) are imported on a worker thread after the server listens,
while the event loop already answers requests, and ``on_serving`` tells the caller the URL at
that moment. The nodes are registered before ``running_cluster`` yields.

``running_cluster`` lives in ``running.py`` and is imported on first use: the settings and
errors here are what the command line needs to parse flags and report, and they load fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from minikube_py.cluster.settings import ClusterConfig, ClusterError

if TYPE_CHECKING:
    from minikube_py.cluster.nodes import Nodes
    from minikube_py.cluster.running import RunningCluster, running_cluster

__all__ = ["ClusterConfig", "ClusterError", "Nodes", "RunningCluster", "running_cluster"]


def __getattr__(name: str) -> Any:
    if name in ("RunningCluster", "running_cluster"):
        return getattr(importlib.import_module(f"{__name__}.running"), name)
    if name == "Nodes":
        return importlib.import_module(f"{__name__}.nodes").Nodes
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
