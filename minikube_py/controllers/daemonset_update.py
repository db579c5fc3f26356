"""What a DaemonSet sync does on each node: the pure decisions, no API calls.

**Managing** (upstream's ``podsShouldBeOnNode``). For each node, given whether the DaemonSet
should run there and the daemon pods targeting it:

- should run, no pod: the node needs a pod;
- should keep running: failed pods are deleted (the controller adds a back-off, so a pod that
  fails at once is not recreated in a hot loop), and of several running pods only the oldest
  stays — or, while surging, the oldest updated one and the oldest old one until the updated
  one is available;
- should not keep running (selector, affinity or an untolerated ``NoExecute`` taint): every
  pod there is deleted.

**Rolling update** (upstream's ``rollingUpdate``), for ``updateStrategy.type: RollingUpdate``:
the DaemonSet's nodes with an *old* pod (a ``controller-revision-hash`` label other than the
current one) are replaced a few at a time.

- Without surge (``maxSurge`` 0): an old pod is deleted (the managing step then makes the new
  one) only while fewer than ``maxUnavailable`` nodes lack an available pod; old pods that are
  not available anyway may always go.
- With surge: a new pod is first made *next to* the old one on up to ``maxSurge`` nodes, and
  the old one deleted once the new one is available.

``maxUnavailable`` and ``maxSurge`` are numbers or percentages of the desired node count,
rounded up; both zero would stall, so unavailability then defaults to one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from minikube_py.controllers.daemonset_history import HASH_LABEL
from minikube_py.controllers.ranking import ready_since

Object = dict[str, Any]
_PHASE_ORDER = {"Pending": 0, "Unknown": 1, "Running": 2}


def scaled_value(value: Any, total: int, *, round_up: bool = True) -> int:
    """An IntOrString of the API: ``3`` or ``"25%"`` of ``total`` (upstream's
    GetScaledValueFromIntOrPercent)."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    text = str(value)
    if not text.endswith("%"):
        return int(text)
    share = int(text[:-1]) * total / 100
    return math.ceil(share) if round_up else math.floor(share)


def _rolling(ds: Object) -> Object:
    strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return {}
    return strategy.get("rollingUpdate") or {"maxUnavailable": 1}


def surge_and_unavailable(ds: Object, desired: int) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) as node counts for ``desired`` nodes."""
    rolling = _rolling(ds)
    surge = scaled_value(rolling.get("maxSurge"), desired)
    unavailable = scaled_value(rolling.get("maxUnavailable"), desired)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def allows_surge(ds: Object) -> bool:
    """Upstream's AllowsSurge: maxSurge resolves to more than zero (against one node)."""
    return scaled_value(_rolling(ds).get("maxSurge"), 1) != 0


def is_updated(pod: Object, hash_: str) -> bool:
    return (
        bool(hash_) and ((pod.get("metadata") or {}).get("labels") or {}).get(HASH_LABEL) == hash_
    )


def is_available(pod: Object, min_ready_seconds: int, now: float) -> bool:
    since = ready_since(pod)
    return since is not None and (min_ready_seconds <= 0 or since + min_ready_seconds <= now)


def _created(pod: Object) -> str:
    return str((pod.get("metadata") or {}).get("creationTimestamp") or "")


def by_age(pods: Sequence[Object]) -> list[Object]:
    """Oldest first; for the same second, the further-along phase first (upstream's
    podByCreationTimestampAndPhase)."""

    def key(pod: Object) -> tuple[str, int, str]:
        phase = _PHASE_ORDER.get(str((pod.get("status") or {}).get("phase")), 0)
        return _created(pod), -phase, str(pod["metadata"].get("name"))

    return sorted(pods, key=key)


def _deleting(pod: Object) -> bool:
    return bool((pod.get("metadata") or {}).get("deletionTimestamp"))


@attrs.frozen
class NodeDecision:
    """What the managing step wants on one node."""

    needs_pod: bool = False
    delete: tuple[Object, ...] = ()
    failed: tuple[Object, ...] = ()  # failed pods seen (deleted unless backing off)


def manage_node(
    ds: Object,
    pods: Sequence[Object],
    *,
    run: bool,
    keep: bool,
    hash_: str,
    now: float,
) -> NodeDecision:
    """Upstream's podsShouldBeOnNode for one node (failed pods are left to the caller)."""
    if not keep:
        doomed = tuple(pod for pod in pods if not _deleting(pod))
        return NodeDecision(delete=doomed)
    if run and not pods:
        return NodeDecision(needs_pod=True)
    failed: list[Object] = []
    running: list[Object] = []
    delete: list[Object] = []
    for pod in pods:
        if _deleting(pod):
            continue
        phase = (pod.get("status") or {}).get("phase")
        if phase == "Failed":
            failed.append(pod)
        elif phase == "Succeeded":
            delete.append(pod)  # a daemon pod must not finish; make a new one
        else:
            running.append(pod)
    if not allows_surge(ds):
        delete.extend(by_age(running)[1:])
        return NodeDecision(delete=tuple(delete), failed=tuple(failed))
    oldest_new: Object | None = None
    oldest_old: Object | None = None
    for pod in by_age(running):
        if is_updated(pod, hash_) and oldest_new is None:
            oldest_new = pod
        elif not is_updated(pod, hash_) and oldest_old is None:
            oldest_old = pod
        else:
            delete.append(pod)
    if oldest_new is not None and oldest_old is not None:
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        if ready_since(oldest_old) is None or is_available(oldest_new, min_ready, now):
            delete.append(oldest_old)
    return NodeDecision(delete=tuple(delete), failed=tuple(failed))


def _updated_and_old(
    pods: Sequence[Object], hash_: str
) -> tuple[Object | None, Object | None, bool]:
    """(the updated pod, the old pod, whether there is at most one of each) among the live
    pods of a node (upstream's findUpdatedPodsOnNode)."""
    new: Object | None = None
    old: Object | None = None
    for pod in pods:
        if _deleting(pod):
            continue
        if is_updated(pod, hash_):
            if new is not None:
                return None, None, False
            new = pod
        else:
            if old is not None:
                return None, None, False
            old = pod
    return new, old, True


def rolling_update(
    ds: Object,
    node_pods: Mapping[str, Sequence[Object]],
    hash_: str,
    now: float,
) -> tuple[list[Object], list[str]]:
    """(old pods to delete, nodes needing a new pod next to the old one) for one step of a
    rolling update; ``node_pods`` has an entry (maybe empty) for every node that should run
    the DaemonSet, and the pods of the others."""
    desired = len(node_pods)
    max_surge, max_unavailable = surge_and_unavailable(ds, desired)
    min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
    to_delete: list[Object] = []
    if max_surge == 0:
        unavailable = 0
        replace_anyway: list[Object] = []
        candidates: list[Object] = []
        for node in sorted(node_pods):
            new, old, ok = _updated_and_old(node_pods[node], hash_)
            if not ok or (new is None) == (old is None):
                unavailable += 1  # the managing step sorts this node out first
            elif new is not None:
                unavailable += not is_available(new, min_ready, now)
            elif old is not None and not is_available(old, min_ready, now):
                replace_anyway.append(old)
            elif old is not None and unavailable < max_unavailable:
                candidates.append(old)
        room = max(0, min(max_unavailable - unavailable, len(candidates)))
        return replace_anyway + candidates[:room], []
    surged = 0
    needing: list[str] = []
    for node in sorted(node_pods):
        new, old, ok = _updated_and_old(node_pods[node], hash_)
        if not ok:
            surged += 1
        elif old is None:
            continue  # nothing old here; the managing step makes a pod if one is missing
        elif new is None:
            if not is_available(old, min_ready, now):
                needing.append(node)
            elif surged < max_surge:
                surged += 1
                needing.append(node)
        elif not is_available(new, min_ready, now):
            surged += 1
        else:
            to_delete.append(old)
    return to_delete, needing
