"""Rolling a StatefulSet's pods onto a new template, and the whole pass around it.

A changed ``spec.template`` is a new *update revision* (``statefulset_history.py``); pods
made from older revisions are replaced according to ``spec.updateStrategy``:

- **RollingUpdate** (the default): once the pass over replicas and condemned pods
  (``statefulset_sync.py``) went through — every replica in place and, for OrderedReady,
  available — the highest-ordinal pod not at the update revision is deleted, and the pass
  ends; the next pass recreates it from the new template (a pod in a free slot gets the
  update revision unless the partition keeps it at the current one) and, once it is healthy,
  moves on to the next lower ordinal. Pods whose index is below ``rollingUpdate.partition``
  stay at the current revision (a canary: ``partition: 2`` of 3 updates only ``web-2``).
  ``maxUnavailable`` (a number or a percentage of ``replicas``, rounded down, at least 1)
  belongs to the MaxUnavailableStatefulSet feature gate, alpha and off by default in 1.32:
  without it upstream updates one pod at a time, and so does this controller; a set that
  asks for it is updated as upstream with the gate on — up to that many pods down at once,
  highest ordinals first, counting the pods already unhealthy.
- **OnDelete**: nothing is deleted for an update; a pod a user deletes comes back from the
  update revision.

``update_stateful_set`` is upstream's ``updateStatefulSet``: it returns the status to write
(counted again after whatever the pass did) and raises what went wrong, with the status
attached, so the caller writes the status before retrying.
"""

from __future__ import annotations

from typing import Any

from minikube_py.client.events import EventRecorder
from minikube_py.client.protocol import ApiError
from minikube_py.controllers.daemonset_update import scaled_value
from minikube_py.controllers.statefulset_history import applied
from minikube_py.controllers.statefulset_podcontrol import StatefulPodControl
from minikube_py.controllers.statefulset_pods import is_healthy, is_terminating, pod_revision
from minikube_py.controllers.statefulset_status import count
from minikube_py.controllers.statefulset_sync import Pass, partition, scale
from minikube_py.logs import get_logger

Object = dict[str, Any]
_log = get_logger("controllers.statefulset")


class PassFailed(Exception):
    """A pass stopped on ``error``; ``status`` is what it counted up to there."""

    def __init__(self, error: Exception, status: Object) -> None:
        super().__init__(str(error))
        self.error = error
        self.status = status


async def update_stateful_set(
    sts: Object,
    current: Object,
    update: Object,
    collisions: int,
    pods: list[Object],
    *,
    control: StatefulPodControl,
    recorder: EventRecorder,
    now: float,
) -> Object:
    """One pass over ``pods``; the status it leaves (``PassFailed`` if a write failed)."""
    current_name, update_name = current["metadata"]["name"], update["metadata"]["name"]
    status: Object = {
        "observedGeneration": int(sts["metadata"].get("generation") or 0),
        "currentRevision": current_name,
        "updateRevision": update_name,
        "collisionCount": collisions,
    }
    run = Pass(
        sts=sts,
        current_set=applied(sts, current),
        update_set=applied(sts, update),
        current=current_name,
        update=update_name,
        control=control,
        recorder=recorder,
        now=now,
    )
    min_ready = run.min_ready
    count(status, pods, min_ready, now, current_name, update_name)
    partition(run, pods)
    if sts["metadata"].get("deletionTimestamp"):
        return status  # a set being deleted only reports
    try:
        stopped = await scale(run)
    except Exception as error:
        count(status, run.replicas + run.condemned, min_ready, now, current_name, update_name)
        raise PassFailed(error, status) from error
    count(status, run.replicas + run.condemned, min_ready, now, current_name, update_name)
    if stopped:
        return status
    strategy = (sts.get("spec") or {}).get("updateStrategy") or {}
    if strategy.get("type") == "OnDelete":
        return status  # pods are updated when a user deletes them
    rolling = strategy.get("rollingUpdate") or {}
    update_min = int(rolling.get("partition") or 0)
    try:
        if rolling.get("maxUnavailable") is None:
            await _roll(run, status, update_min)
        else:
            total = len(run.replicas)
            limit = max(1, scaled_value(rolling["maxUnavailable"], total, round_up=False))
            await _roll_many(run, status, update_min, limit)
    except Exception as error:
        raise PassFailed(error, status) from error
    return status


async def _roll(run: Pass, status: Object, update_min: int) -> None:
    """Delete the highest replica not at the update revision, unless one above is still
    coming back (upstream, with MaxUnavailableStatefulSet off)."""
    for index in range(len(run.replicas) - 1, update_min - 1, -1):
        pod = run.replicas[index]
        if pod_revision(pod) != run.update and not is_terminating(pod):
            await _replace(run, status, pod)
            return
        if not is_healthy(pod):
            return  # wait for the updated pod before taking down the next


async def _roll_many(run: Pass, status: Object, update_min: int, limit: int) -> None:
    """Delete up to ``limit`` replicas not at the update revision, highest first, less the
    ones already unavailable (upstream with MaxUnavailableStatefulSet on)."""
    unavailable = sum(1 for pod in run.replicas if not is_healthy(pod))
    budget = limit - unavailable
    for index in range(len(run.replicas) - 1, update_min - 1, -1):
        if budget <= 0:
            return
        pod = run.replicas[index]
        if pod_revision(pod) == run.update or is_terminating(pod):
            continue
        await _replace(run, status, pod)
        budget -= 1


async def _replace(run: Pass, status: Object, pod: Object) -> None:
    """Delete a pod of an older revision; the next pass makes it anew from the update."""
    _log.info(
        "Pod of StatefulSet is terminating for update",
        key=f"{run.sts['metadata']['namespace']}/{run.sts['metadata']['name']}",
        pod=pod["metadata"]["name"],
    )
    try:
        await run.control.delete_pod(run.sts, pod)
    except ApiError as error:
        if error.code != 404:
            raise
    status["currentReplicas"] -= 1
