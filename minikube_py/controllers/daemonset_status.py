"""A DaemonSet's status: how many nodes should have its pod, and how those pods are doing.

Counted per node (upstream's ``updateDaemonSetStatus``), looking at the oldest daemon pod on
each node:

- ``desiredNumberScheduled``: nodes that should run the pod;
- ``currentNumberScheduled``: of those, nodes that have one; ``numberMisscheduled``: nodes
  that have one but should not;
- ``numberReady`` / ``numberAvailable``: nodes whose pod is ready / ready for
  ``minReadySeconds``; ``numberUnavailable`` the desired ones not available;
- ``updatedNumberScheduled``: nodes whose pod carries the current template's hash;
- ``observedGeneration``: the ``metadata.generation`` these numbers answer.

``kubectl rollout status daemonset/x`` waits for ``observedGeneration`` to reach the
generation and for the updated and available counts to reach the desired one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from minikube_py.controllers.daemonset_nodes import should_run
from minikube_py.controllers.daemonset_update import by_age, is_available, is_updated
from minikube_py.controllers.ranking import is_ready

Object = dict[str, Any]
COUNTS = (
    "currentNumberScheduled",
    "numberMisscheduled",
    "desiredNumberScheduled",
    "numberReady",
    "updatedNumberScheduled",
    "numberAvailable",
    "numberUnavailable",
)


def daemon_set_status(
    ds: Object,
    nodes: Sequence[Object],
    node_pods: Mapping[str, Sequence[Object]],
    hash_: str,
    now: float,
    *,
    observe_generation: bool = True,
) -> Object:
    """The new ``status`` of ``ds`` (keeping its conditions and collision count)."""
    counts = dict.fromkeys(COUNTS, 0)
    min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
    for node in nodes:
        run, _ = should_run(ds, node)
        pods = node_pods.get(node["metadata"]["name"]) or []
        if not run:
            counts["numberMisscheduled"] += bool(pods)
            continue
        counts["desiredNumberScheduled"] += 1
        if not pods:
            continue
        counts["currentNumberScheduled"] += 1
        pod = by_age(pods)[0]
        if is_ready(pod):
            counts["numberReady"] += 1
            counts["numberAvailable"] += is_available(pod, min_ready, now)
        counts["updatedNumberScheduled"] += is_updated(pod, hash_)
    counts["numberUnavailable"] = counts["desiredNumberScheduled"] - counts["numberAvailable"]
    status: Object = {
        key: value
        for key, value in (ds.get("status") or {}).items()
        if key in ("collisionCount", "conditions", "observedGeneration")
    }
    if observe_generation:
        status["observedGeneration"] = (ds.get("metadata") or {}).get("generation")
    status.update(counts)
    return status


def needs_update(old: Object, new: Object) -> bool:
    return any(old.get(key, 0) != new.get(key, 0) for key in (*COUNTS, "observedGeneration"))
