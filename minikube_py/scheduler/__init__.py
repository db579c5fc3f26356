"""The scheduler: assigns each pending pod to a node, as kube-scheduler does.

``framework`` runs one scheduling cycle (filter every node, score the feasible ones, pick the
best) over ``plugins``, one module per upstream plugin; ``nodeinfo`` keeps each node's running
totals; ``resources`` computes what a pod asks of a node; ``queue`` orders pending pods and
backs off the ones that did not fit; ``conditions`` writes the pod's PodScheduled condition;
``scheduler`` is the long-lived component that watches pods and nodes and binds pods through
the API (``await Scheduler(client).run()``), keeping what it placed in ``cache`` and binding
through ``binding`` (the bind, its Event, and what a failed bind undoes).
"""

from minikube_py.scheduler.scheduler import Scheduler

__all__ = ["Scheduler"]
