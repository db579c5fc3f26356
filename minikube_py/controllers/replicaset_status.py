"""A ReplicaSet's status: what its pods amount to right now (upstream's calculateStatus).

After each sync a ReplicaSet reports, over its claimed active pods:

- ``replicas``: how many there are (``kubectl get rs`` CURRENT);
- ``fullyLabeledReplicas``: how many carry every label of the pod template (a pod adopted by
  selector may lack some);
- ``readyReplicas``: how many are ready (READY);
- ``availableReplicas``: how many have been ready for at least ``minReadySeconds``, judged
  by the ``Ready`` condition's ``lastTransitionTime`` — Deployments roll on by this number;
- ``observedGeneration``: the ``metadata.generation`` of the spec these numbers answer;
- a ``ReplicaFailure`` condition while creating (reason ``FailedCreate``) or deleting
  (``FailedDelete``) pods fails, removed once a sync manages its pods again.

The status is written only when it changed (``needs_status_update``): a resync that finds
nothing new writes nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from minikube_py.api.stamps import parse_time, rfc3339
from minikube_py.controllers.ranking import is_active, is_ready

Object = dict[str, Any]
REPLICA_FAILURE = "ReplicaFailure"
_COUNTS = ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas")


def is_available(pod: Object, min_ready_seconds: int, now: float) -> bool:
    """Ready, and (with ``min_ready_seconds``) ready since strictly more than that long ago."""
    if not is_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            since = parse_time(condition.get("lastTransitionTime"))
            return since is not None and since + min_ready_seconds < now
    return False


def _labels_match(template_labels: dict[str, Any], labels: Any) -> bool:
    labels = labels if isinstance(labels, dict) else {}
    return all(labels.get(key) == value for key, value in template_labels.items())


def replica_set_status(
    rs: Object,
    pods: Iterable[Object],
    now: float,
    *,
    min_ready_seconds: int | None = None,
    manage_error: str | None = None,
) -> Object:
    """The status ``rs`` should have given its claimed ``pods`` at ``now`` (Unix seconds).

    ``min_ready_seconds`` defaults to ``rs.spec.minReadySeconds``; ``manage_error`` is the
    message of this sync's failure to create or delete pods, if it had one.
    """
    spec = rs.get("spec") or {}
    if min_ready_seconds is None:
        min_ready_seconds = int(spec.get("minReadySeconds") or 0)
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    active = [pod for pod in pods if is_active(pod)]
    counts = {
        "replicas": len(active),
        "fullyLabeledReplicas": sum(
            _labels_match(template_labels, (p.get("metadata") or {}).get("labels")) for p in active
        ),
        "readyReplicas": sum(is_ready(p) for p in active),
        "availableReplicas": sum(is_available(p, min_ready_seconds, now) for p in active),
    }
    status: Object = copy.deepcopy(rs.get("status") or {})
    for key, value in counts.items():
        # Go omits these zeros on the wire (omitempty), all but replicas.
        if value or key == "replicas":
            status[key] = value
        else:
            status.pop(key, None)
    generation = (rs.get("metadata") or {}).get("generation")
    if generation:
        status["observedGeneration"] = generation
    conditions = [c for c in status.get("conditions") or [] if isinstance(c, dict)]
    failing = any(c.get("type") == REPLICA_FAILURE for c in conditions)
    if manage_error is not None and not failing:
        desired = spec.get("replicas")
        difference = len(active) - (1 if desired is None else int(desired))
        reason = "FailedCreate" if difference < 0 else "FailedDelete" if difference > 0 else ""
        condition = {
            "type": REPLICA_FAILURE,
            "status": "True",
            "lastTransitionTime": rfc3339(now),
            "reason": reason,
            "message": manage_error,
        }
        conditions.append({key: value for key, value in condition.items() if value})
    elif manage_error is None and failing:
        conditions = [c for c in conditions if c.get("type") != REPLICA_FAILURE]
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)
    return status


def needs_status_update(old: Object, new: Object) -> bool:
    """Whether ``new`` (from ``replica_set_status``) differs from the stored ``old`` status in
    anything upstream writes for: the four counts, the observed generation, the conditions."""
    for key in (*_COUNTS, "observedGeneration"):
        if int(old.get(key) or 0) != int(new.get(key) or 0):
            return True
    return (old.get("conditions") or []) != (new.get("conditions") or [])


def recheck_after(status: Object, min_ready_seconds: int) -> float | None:
    """Seconds after which to sync again because ready pods will have become available (all
    ready, not all available yet, as upstream requeues), else None."""
    replicas = int(status.get("replicas") or 0)
    ready, available = int(status.get("readyReplicas") or 0), status.get("availableReplicas")
    if min_ready_seconds > 0 and ready == replicas and int(available or 0) != replicas:
        return float(min_ready_seconds)
    return None
