"""A Deployment's status: counted from its ReplicaSets, written back only when it changed.

``kubectl rollout status`` reads it: ``observedGeneration`` (has the controller seen the
latest spec?), ``updatedReplicas`` (pods of the new template), ``replicas``,
``availableReplicas`` and the ``Progressing`` condition (``ProgressDeadlineExceeded`` makes it
fail). The counts add up the ReplicaSets' own statuses (``calculate_status``, upstream's
``calculateStatus``): ``replicas``, ``readyReplicas``, ``availableReplicas`` over all of
them, ``updatedReplicas`` of the new one, ``unavailableReplicas`` as the pods asked for that
are not available. Counts of zero are left out, as Go's ``omitempty`` leaves them.

Two writers use it: ``sync_deployment_status`` after a plain scale or while paused (only the
``Available`` condition moves), and ``sync_rollout_status`` after a rollout step, which also
brings ``Progressing`` up to date and — when nothing changed — says when to look again so a
stalled rollout is noticed once its ``progressDeadlineSeconds`` have passed.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from minikube_py.client.protocol import DEPLOYMENTS
from minikube_py.controllers.deployment_conditions import (
    availability_condition,
    has_progress_deadline,
    paused_condition,
    progress_check_after,
    rollout_conditions,
    set_deployment_condition,
)
from minikube_py.controllers.deployment_rollout import replica_count
from minikube_py.controllers.deployment_scaling import DeploymentContext, status_count

Object = dict[str, Any]


def _sum(replica_sets: Iterable[Object | None], field: str) -> int:
    return sum(status_count(rs, field) for rs in replica_sets if rs is not None)


def calculate_status(
    all_rss: list[Object | None], new_rs: Object | None, deployment: Object, now: float
) -> Object:
    """The status the Deployment should have, its stored conditions kept but ``Available``."""
    stored = deployment.get("status") or {}
    available = _sum(all_rss, "availableReplicas")
    values = {
        "observedGeneration": int((deployment.get("metadata") or {}).get("generation") or 0),
        "replicas": _sum(all_rss, "replicas"),
        "updatedReplicas": _sum([new_rs], "replicas"),
        "readyReplicas": _sum(all_rss, "readyReplicas"),
        "availableReplicas": available,
        "unavailableReplicas": max(0, replica_count(all_rss) - available),
    }
    status: Object = {key: value for key, value in values.items() if value}
    if stored.get("conditions"):
        status["conditions"] = copy.deepcopy(stored["conditions"])
    if stored.get("collisionCount") is not None:
        status["collisionCount"] = stored["collisionCount"]
    set_deployment_condition(status, availability_condition(deployment, available, now))
    return status


def same_status(first: Object, second: Object) -> bool:
    """Equal as upstream's DeepEqual of the typed status sees it (zero counts are absent)."""

    def normal(status: Object) -> Object:
        return {key: value for key, value in status.items() if value not in (0, None, [])}

    return normal(first) == normal(second)


async def write_status(ctx: DeploymentContext, deployment: Object, status: Object) -> None:
    """Write ``status`` (and the Deployment's metadata, as upstream's UpdateStatus carries
    it) through ``/status``; ``deployment`` becomes the stored object, as upstream's pointer
    does. A conflict raises, and the sync is retried on a fresh cache."""
    body = {**deployment, "apiVersion": "apps/v1", "kind": "Deployment", "status": status}
    namespace = deployment["metadata"]["namespace"]
    stored = await ctx.client.update_status(DEPLOYMENTS, namespace, body)
    deployment.clear()
    deployment.update(stored)


async def sync_deployment_status(
    ctx: DeploymentContext,
    all_rss: list[Object | None],
    new_rs: Object | None,
    deployment: Object,
) -> None:
    """Counts and ``Available`` only (upstream's syncDeploymentStatus)."""
    status = calculate_status(all_rss, new_rs, deployment, ctx.clock.now())
    if not same_status(deployment.get("status") or {}, status):
        await write_status(ctx, deployment, status)


async def sync_rollout_status(
    ctx: DeploymentContext,
    all_rss: list[Object | None],
    new_rs: Object | None,
    deployment: Object,
) -> float | None:
    """Counts and all conditions; when nothing changed, the seconds after which to look at
    the rollout again for its progress deadline (0: soon), else None."""
    now = ctx.clock.now()
    counted = calculate_status(all_rss, new_rs, deployment, now)
    status = rollout_conditions(deployment, counted, new_rs, all_rss, now)
    if same_status(deployment.get("status") or {}, status):
        return progress_check_after(deployment, status, now)
    await write_status(ctx, deployment, status)
    return None


async def check_paused_conditions(ctx: DeploymentContext, deployment: Object) -> None:
    """Say ``DeploymentPaused`` / ``DeploymentResumed`` in ``Progressing`` when that flipped
    (only for a Deployment with a progress deadline, as upstream)."""
    if not has_progress_deadline(deployment):
        return
    condition = paused_condition(deployment, ctx.clock.now())
    if condition is None:
        return
    status = copy.deepcopy(deployment.get("status") or {})
    set_deployment_condition(status, condition)
    await write_status(ctx, deployment, status)
