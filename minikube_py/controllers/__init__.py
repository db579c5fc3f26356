"""Controllers: the loops that make the cluster's actual state match what its objects ask for.

A Deployment does nothing by itself; the Deployment controller sees it and creates a
ReplicaSet, whose controller creates pods, which the scheduler places and kubelets run. In
Kubernetes these controllers live in one program, kube-controller-manager; here in this
package, on a small runtime every controller shares:

- ``SharedInformers`` (``informers.py``): one watched cache per collection for all controllers;
- ``WorkQueue`` (``queue.py``): de-duplicated keys, never one key in two workers at once,
  delayed and rate-limited requeues;
- ``Controller`` (``controller.py``): a ``reconcile(key)``, its wiring and its workers;
- ``Expectations`` (``expectations.py``): creations and deletions not yet seen in the cache;
- ``LeaderElector`` (``leader.py``): only the holder of a Lease runs the controllers;
- ``ControllerManager`` (``manager.py``): runs them all, under the election if asked.

The controllers themselves are modules beside these, each a ``Controller`` subclass:
``replicaset.py`` (ReplicaSets and ReplicationControllers, on ``ranking``, ``podcontrol``,
``claiming`` and ``replicaset_status``) so far; the Deployment controller's pure parts are in
``deployment_util``, ``deployment_rollout`` and ``deployment_conditions``. Like every
component but the API server, they only talk to the API.
"""

from minikube_py.controllers.controller import Controller, controller_key, controller_reference
from minikube_py.controllers.expectations import Expectation, Expectations
from minikube_py.controllers.informers import SharedInformers
from minikube_py.controllers.leader import LeaderElector
from minikube_py.controllers.manager import ControllerManager
from minikube_py.controllers.queue import (
    ItemExponentialBackoff,
    QueueShutDown,
    RateLimiter,
    WorkQueue,
)
from minikube_py.controllers.replicaset import REPLICATION_CONTROLLER, ReplicaSetController

__all__ = [
    "REPLICATION_CONTROLLER",
    "Controller",
    "ControllerManager",
    "Expectation",
    "Expectations",
    "ItemExponentialBackoff",
    "LeaderElector",
    "QueueShutDown",
    "RateLimiter",
    "ReplicaSetController",
    "SharedInformers",
    "WorkQueue",
    "controller_key",
    "controller_reference",
]
