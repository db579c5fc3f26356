"""The controllers a cluster runs by default, as kube-controller-manager's ``--controllers=*``.

Upstream's controller manager starts a fixed list of controllers, each switchable by name
(``--controllers=*,-ttl``, ``ControllerSettings`` in ``minikube_py/config.py``).
``standard_controllers`` is that list here: the one place that says
which controllers a cluster runs and what each is given (the clock, the timings a test may
shorten). Adding a controller to the cluster is one line below.
"""

from __future__ import annotations

from pathlib import Path

from minikube_py.client.protocol import Client
from minikube_py.clock import Clock, SystemClock
from minikube_py.config import ControllerSettings
from minikube_py.controllers.controller import Controller
from minikube_py.controllers.cronjob import CronJobController
from minikube_py.controllers.daemonset import DaemonSetController
from minikube_py.controllers.deployment import DeploymentController
from minikube_py.controllers.endpoints import EndpointsController
from minikube_py.controllers.endpointslices import EndpointSliceController
from minikube_py.controllers.garbagecollector import GarbageCollector
from minikube_py.controllers.hostpath_provisioner import HostPathProvisioner
from minikube_py.controllers.job import JobController
from minikube_py.controllers.namespace import NamespaceController
from minikube_py.controllers.nodelifecycle import NodeLifecycleController
from minikube_py.controllers.persistentvolume import PersistentVolumeController
from minikube_py.controllers.pvprotection import PVCProtectionController, PVProtectionController
from minikube_py.controllers.replicaset import REPLICATION_CONTROLLER, ReplicaSetController
from minikube_py.controllers.rootca import RootCACertPublisher
from minikube_py.controllers.serviceaccounts import ServiceAccountsController
from minikube_py.controllers.statefulset import StatefulSetController
from minikube_py.controllers.taint_eviction import TaintEvictionController
from minikube_py.controllers.ttlafterfinished import TTLAfterFinishedController


def standard_controllers(
    client: Client,
    settings: ControllerSettings | None = None,
    *,
    ca_pem: str,
    clock: Clock | None = None,
    storage_root: Path | None = None,
) -> list[Controller]:
    """A new instance of every enabled controller, in the order upstream starts them;
    ``ca_pem`` is the cluster CA that pods are given to trust the API server with;
    ``storage_root`` the directory of provisioned volumes (None: no provisioner — minikube's
    ``storage-provisioner`` addon, which runs beside the controller manager)."""
    settings = settings or ControllerSettings()
    clock = clock or SystemClock()
    controllers: list[Controller] = [
        DeploymentController(client, clock=clock),
        ReplicaSetController(client, clock=clock),
        ReplicaSetController(client, clock=clock, kind=REPLICATION_CONTROLLER),
        DaemonSetController(client, clock=clock),
        StatefulSetController(client, clock=clock),
        JobController(client, clock=clock),
        CronJobController(client, clock=clock),
        TTLAfterFinishedController(client, clock=clock),
        GarbageCollector(client, clock=clock),
        NamespaceController(client, clock=clock),
        EndpointsController(client, clock=clock),
        EndpointSliceController(client, clock=clock),
        ServiceAccountsController(client, clock=clock),
        RootCACertPublisher(client, ca_pem, clock=clock),
        NodeLifecycleController(
            client,
            clock=clock,
            grace_period=settings.node_grace_period,
            monitor_period=settings.node_monitor_period,
        ),
        TaintEvictionController(client, clock=clock),
        PersistentVolumeController(client, clock=clock),
        PVCProtectionController(client, clock=clock),
        PVProtectionController(client, clock=clock),
    ]
    if storage_root is not None:
        controllers.append(HostPathProvisioner(client, root=storage_root, clock=clock))
    return [c for c in controllers if settings.enabled(c.name)]
