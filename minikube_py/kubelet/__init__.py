"""The kubelet: the agent on every node that runs the pods bound to it.

Upstream's kubelet registers its Node, keeps a heartbeat Lease, and — the part in this
package's ``kubelet.py`` and ``podworker.py`` — runs each pod bound to the node: admits it,
gives it an address (``ipam.py``), pulls images, starts init containers in order and then the
app containers, restarts them with back-off (``backoff.py``), runs hooks and probes, kills
them gracefully when the pod is deleted, and reports all of it in the pod's status
(``status.py``) and as Events. Containers get their environment from ``environment.py``.
It talks to the cluster only through the API client, and to containers only through the
container runtime protocol (``minikube_py.runtime``), so the same kubelet drives real
processes or the fake runtime.
"""

from minikube_py.clock import Clock, FakeClock, SystemClock
from minikube_py.kubelet.backoff import Backoff
from minikube_py.kubelet.context import NodeContext, ProberFactory, ProbeRunner
from minikube_py.kubelet.environment import ConfigError, EnvSource, NoEnvSource
from minikube_py.kubelet.ipam import PodAddresses
from minikube_py.kubelet.kubelet import Kubelet
from minikube_py.kubelet.podworker import PodWorker

__all__ = [
    "Backoff",
    "Clock",
    "ConfigError",
    "EnvSource",
    "FakeClock",
    "Kubelet",
    "NoEnvSource",
    "NodeContext",
    "PodAddresses",
    "PodWorker",
    "ProbeRunner",
    "ProberFactory",
    "SystemClock",
]
