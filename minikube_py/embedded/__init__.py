"""The embedded cluster: a whole Kubernetes cluster inside a test, in a fraction of a second.

``Cluster`` (a ``with`` block; the cluster runs on a thread of its own) and ``AsyncCluster``
(``async with``, on the caller's loop) start the same cluster as ``minikube-py start`` —
API server, scheduler, kubelets running pods as real processes, controllers, service proxy,
DNS — with a test's defaults: an in-memory store, a temporary state directory and a
kubeconfig of its own, on a free port. Several run side by side in one process, each on its
own addresses, and leaving the block stops every process the cluster started.

The verbs take kinds spelled as kubectl takes them (``kinds.py``), manifests as ``kubectl
apply -f`` reads them (``manifests.py``) and apply them server-side (``applying.py``); they
wait by watching (``waiting.py``), and reach pods and services as ``kubectl logs`` / ``exec``
and ``minikube service --url`` do (``pods.py``, ``services.py``).
"""

from minikube_py.api.errors import ApiError
from minikube_py.cluster.settings import ClusterError
from minikube_py.embedded.asynccluster import AsyncCluster
from minikube_py.embedded.kinds import Resource
from minikube_py.embedded.pods import ExecResult
from minikube_py.embedded.threaded import Cluster
from minikube_py.embedded.waiting import WaitTimeout

__all__ = [
    "ApiError",
    "AsyncCluster",
    "Cluster",
    "ClusterError",
    "ExecResult",
    "Resource",
    "WaitTimeout",
]
