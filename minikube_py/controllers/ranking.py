"""Which pods count, and which a ReplicaSet removes first when it has too many.

A controller only counts *active* pods: a pod that has finished (phase ``Succeeded`` or
``Failed``) or is already being deleted (it has a ``deletionTimestamp``) no longer stands for
a replica, so a ReplicaSet makes a replacement while the old one is still shutting down
(upstream's ``FilterActivePods``).

When a ReplicaSet is scaled down it deletes the pods whose loss hurts least, comparing two pods
rule by rule until one rule tells them apart (upstream's ``ActivePodsWithRanks``):

1. a pod not yet scheduled to a node goes before a scheduled one;
2. ``Pending`` before ``Unknown`` before ``Running``;
3. a pod that is not ready before a ready one;
4. the lower ``controller.kubernetes.io/pod-deletion-cost`` annotation first (users set it);
5. a pod on a node crowded with related pods (its *rank*) before one on an emptier node, so
   the survivors spread out;
6. between two ready pods, the one ready for less time first;
7. the pod whose containers restarted more often first;
8. the newer pod (``creationTimestamp``) before the older one.

Rules 6 and 8 compare times on a logarithmic scale against "now" (the ``LogarithmicScaleDown``
feature, on by default since 1.22): pods ready for 5 and 7 minutes are alike, and among alike
pods the order falls to their uids, a pseudo-random choice, so repeated scale-downs do not
always pick the very youngest pods.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

from minikube_py.api.stamps import parse_time

Object = dict[str, Any]
DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"
# Upstream's podPhaseToOrdinal; any other phase (or none yet) reads as 0, like Pending.
_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}
# An int32 without a plus sign or leading zeros ("-0" and "-007" pass, as upstream).
_COST = re.compile(r"-[0-9]+|0|[1-9][0-9]*")


def is_active(pod: Object) -> bool:
    """Still a replica: not finished and not being deleted."""
    phase = (pod.get("status") or {}).get("phase")
    deleting = (pod.get("metadata") or {}).get("deletionTimestamp")
    return phase not in ("Succeeded", "Failed") and not deleting


def filter_active(pods: Iterable[Object]) -> list[Object]:
    return [pod for pod in pods if is_active(pod)]


def _ready_condition(pod: Object) -> Object | None:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type") == "Ready":
            return condition
    return None


def is_ready(pod: Object) -> bool:
    """The pod's ``Ready`` condition is ``True``."""
    condition = _ready_condition(pod)
    return condition is not None and condition.get("status") == "True"


def ready_since(pod: Object) -> float | None:
    """When a ready pod became ready (its condition's ``lastTransitionTime``), else None."""
    condition = _ready_condition(pod)
    if condition is None or condition.get("status") != "True":
        return None
    return parse_time(condition.get("lastTransitionTime"))


def deletion_cost(pod: Object) -> int:
    """The pod-deletion-cost annotation; 0 when absent or not a valid int32, as upstream."""
    value = ((pod.get("metadata") or {}).get("annotations") or {}).get(DELETION_COST_ANNOTATION)
    if not isinstance(value, str) or not _COST.fullmatch(value):
        return 0
    number = int(value)
    return number if -(2**31) <= number < 2**31 else 0


def max_restarts(pod: Object) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return max((int(s.get("restartCount") or 0) for s in statuses), default=0)


def _node(pod: Object) -> str:
    return str((pod.get("spec") or {}).get("nodeName") or "")


def node_ranks(pods: Sequence[Object], related_pods: Iterable[Object]) -> list[int]:
    """Each pod's rank: how many active related pods share its node (upstream's
    getPodsRankedByRelatedPodsOnSameNode; related pods usually include the pods themselves)."""
    on_node: dict[str, int] = {}
    for pod in related_pods:
        if is_active(pod):
            on_node[_node(pod)] = on_node.get(_node(pod), 0) + 1
    return [on_node.get(_node(pod), 0) for pod in pods]


def _after_or_zero(first: float | None, second: float | None) -> bool:
    """``first`` is later than ``second``; a missing time counts as the latest of all."""
    if first is None or second is None:
        return first is None
    return first > second


def _log_rank(moment: float, now: float) -> int:
    # Go measures the age in nanoseconds and truncates its base-2 logarithm.
    age = (now - moment) * 1e9
    return int(math.log2(age)) if age > 0 else -1


def _younger_first(
    first: float | None, second: float | None, a: Object, b: Object, now: float | None
) -> bool:
    if now is None or first is None or second is None:
        return _after_or_zero(first, second)
    difference = _log_rank(first, now) - _log_rank(second, now)
    if difference == 0:
        return _uid(a) < _uid(b)
    return difference < 0


def _uid(pod: Object) -> str:
    return str((pod.get("metadata") or {}).get("uid") or "")


def _created(pod: Object) -> float | None:
    return parse_time((pod.get("metadata") or {}).get("creationTimestamp"))


def delete_before(a: Object, b: Object, rank_a: int, rank_b: int, now: float | None) -> bool:
    """Whether ``a`` should be deleted before ``b`` (upstream's ActivePodsWithRanks.Less)."""
    node_a, node_b = _node(a), _node(b)
    if node_a != node_b and (not node_a or not node_b):
        return not node_a
    phase_a = _PHASE_ORDINAL.get((a.get("status") or {}).get("phase") or "", 0)
    phase_b = _PHASE_ORDINAL.get((b.get("status") or {}).get("phase") or "", 0)
    if phase_a != phase_b:
        return phase_a < phase_b
    ready_a, ready_b = is_ready(a), is_ready(b)
    if ready_a != ready_b:
        return not ready_a
    if (cost_a := deletion_cost(a)) != (cost_b := deletion_cost(b)):
        return cost_a < cost_b
    if rank_a != rank_b:
        return rank_a > rank_b
    if ready_a and ready_b and (since_a := ready_since(a)) != (since_b := ready_since(b)):
        return _younger_first(since_a, since_b, a, b, now)
    if (restarts_a := max_restarts(a)) != (restarts_b := max_restarts(b)):
        return restarts_a > restarts_b
    if (created_a := _created(a)) != (created_b := _created(b)):
        return _younger_first(created_a, created_b, a, b, now)
    return False


def pods_to_delete(
    pods: Sequence[Object], related_pods: Iterable[Object], count: int, *, now: float | None
) -> list[Object]:
    """The ``count`` pods of ``pods`` (a ReplicaSet's active pods) to delete first.

    ``related_pods`` are the pods the rank counts (upstream: the pods of every ReplicaSet of
    the same Deployment); ``now`` (the controller clock's time) is the reference of the
    logarithmic comparisons, None to compare times exactly. Sorting is skipped when all go.
    """
    if count <= 0:
        return []
    if count >= len(pods):
        return list(pods)
    ranks = node_ranks(pods, related_pods)

    def compare(x: tuple[Object, int], y: tuple[Object, int]) -> int:
        if delete_before(x[0], y[0], x[1], y[1], now):
            return -1
        return 1 if delete_before(y[0], x[0], y[1], x[1], now) else 0

    ordered = sorted(zip(pods, ranks, strict=True), key=functools.cmp_to_key(compare))
    return [pod for pod, _rank in ordered[:count]]
