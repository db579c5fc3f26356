"""A StatefulSet's status: how many pods, how ready, at which template revision.

Counted over the set's pods on every sync (upstream's ``computeReplicaStatus``):

- ``replicas``: pods created (the API server has given them a phase);
- ``readyReplicas``: Running with a true Ready condition; ``availableReplicas``: of those, ready
  for more than ``minReadySeconds``;
- ``currentReplicas`` / ``updatedReplicas``: live (not terminating) pods labelled with the
  current / update revision's name;
- ``currentRevision`` / ``updateRevision``: the revisions' names; ``collisionCount``;
  ``observedGeneration``: the spec generation these numbers answer.

A RollingUpdate is *complete* when all ``spec.replicas`` pods exist, are ready and are at the
update revision: the current revision becomes the update revision (``completeRollingUpdate``).
The status is written through ``/status`` only when a counted field or revision differs
(``inconsistentStatus``), retried on a conflict with a fresh read — keeping the larger
``collisionCount``, so a sync that started from a stale cached set cannot lower it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from minikube_py.client.protocol import STATEFULSETS, ApiError, Client
from minikube_py.controllers.statefulset_pods import (
    is_created,
    is_running_and_available,
    is_running_and_ready,
    is_terminating,
    pod_revision,
    replicas,
)

Object = dict[str, Any]
STATUS_RETRIES = 5  # client-go's retry.DefaultRetry steps
_COUNTS = ("replicas", "readyReplicas", "currentReplicas", "updatedReplicas", "availableReplicas")
# the fields upstream omits when zero or empty (everything but replicas and availableReplicas)
_OMIT_EMPTY = ("readyReplicas", "currentReplicas", "updatedReplicas", "observedGeneration")


def count(
    status: Object, pods: Iterable[Object], min_ready: int, now: float, current: str, update: str
) -> None:
    """Recount the replica numbers of ``status`` over ``pods`` (upstream's updateStatus)."""
    for field in _COUNTS:
        status[field] = 0
    for pod in pods:
        if is_created(pod):
            status["replicas"] += 1
        if is_running_and_ready(pod):
            status["readyReplicas"] += 1
            if is_running_and_available(pod, min_ready, now):
                status["availableReplicas"] += 1
        if is_created(pod) and not is_terminating(pod):
            revision = pod_revision(pod)
            status["currentReplicas"] += revision == current
            status["updatedReplicas"] += revision == update


def complete_rolling_update(sts: Object, status: Object) -> None:
    strategy = ((sts.get("spec") or {}).get("updateStrategy") or {}).get("type")
    want = replicas(sts)
    if (
        strategy == "RollingUpdate"
        and status["updatedReplicas"] == want
        and status["readyReplicas"] == want
        and status["replicas"] == want
    ):
        status["currentReplicas"] = status["updatedReplicas"]
        status["currentRevision"] = status["updateRevision"]


def inconsistent(sts: Object, status: Object) -> bool:
    """Whether ``status`` says anything the stored status does not."""
    stored = sts.get("status") or {}
    if int(status.get("observedGeneration") or 0) > int(stored.get("observedGeneration") or 0):
        return True
    fields = (*_COUNTS, "currentRevision", "updateRevision")
    return any((status.get(f) or 0) != (stored.get(f) or 0) for f in fields)


def printed(status: Object) -> Object:
    """As upstream serialises it: zero counts other than replicas/available left out."""
    return {k: v for k, v in status.items() if not (k in _OMIT_EMPTY and not v) and v != ""}


async def write_status(client: Client, sts: Object, status: Object) -> Object:
    """Complete a finished rolling update, then write ``status`` if it differs; the set as
    stored after. Conflicts are retried on a fresh read."""
    complete_rolling_update(sts, status)
    if not inconsistent(sts, status):
        return sts
    current = sts
    namespace, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
    for attempt in range(STATUS_RETRIES):
        # the count never goes down: a sync that read a stale set must not undo a collision
        stored = int((current.get("status") or {}).get("collisionCount") or 0)
        status["collisionCount"] = max(int(status.get("collisionCount") or 0), stored)
        body = {
            **current,
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "status": printed(status),
        }
        try:
            return await client.update_status(STATEFULSETS, namespace, body)
        except ApiError as error:
            if error.code != 409 or attempt == STATUS_RETRIES - 1:
                raise
        current = await client.get(STATEFULSETS, namespace, name)
    raise AssertionError("unreachable")
