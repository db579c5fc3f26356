"""The two rollout strategies: RollingUpdate (a few pods at a time) and Recreate (all at once).

**RollingUpdate** (upstream's rolling.go) moves one step per sync, within two budgets:

1. *Grow the new ReplicaSet* as far as ``maxSurge`` allows: the ReplicaSets together may ask
   for at most ``spec.replicas + maxSurge`` pods.
2. *Shrink the old ones* as far as ``maxUnavailable`` allows: at least
   ``spec.replicas - maxUnavailable`` pods must stay available. Old pods that are not
   available anyway go first (``cleanup_unhealthy_replicas``: removing them costs no
   availability), then available ones, oldest ReplicaSet first.

Each step changes ``spec.replicas`` of some ReplicaSets; their pods come and go, the
ReplicaSet statuses change, and those changes wake the Deployment for the next step.

**Recreate** (recreate.go) scales every old ReplicaSet to zero, waits until no old pod is left
at all (not even one still terminating), and only then scales the new ReplicaSet up — so two
versions never run side by side.

Both end with the status (``sync_rollout_status``), and once the rollout is complete they
clean up old ReplicaSets beyond ``revisionHistoryLimit``.
"""

from __future__ import annotations

from typing import Any

from minikube_py.controllers.deployment_conditions import deployment_complete
from minikube_py.controllers.deployment_revision import get_all_and_sync_revision
from minikube_py.controllers.deployment_rollout import (
    max_unavailable,
    new_rs_new_replicas,
    replica_count,
    replicas_of,
)
from minikube_py.controllers.deployment_scaling import (
    DeploymentContext,
    cleanup_deployment,
    filter_active,
    scale_and_record,
    status_count,
)
from minikube_py.controllers.deployment_status import sync_rollout_status
from minikube_py.controllers.deployment_util import by_creation

Object = dict[str, Any]
_FINISHED_PHASES = ("Succeeded", "Failed")


async def rollout_rolling(
    ctx: DeploymentContext, deployment: Object, rs_list: list[Object]
) -> float | None:
    """One step of a rolling update; the seconds after which to look again, if any."""
    new_rs, old_rss = await get_all_and_sync_revision(ctx, deployment, rs_list, create=True)
    assert new_rs is not None  # created if missing, or the create raised
    all_rss: list[Object | None] = [*old_rss, new_rs]
    scaled_up, new_rs = await reconcile_new_replica_set(ctx, all_rss, new_rs, deployment)
    all_rss = [*old_rss, new_rs]
    if scaled_up:
        return await sync_rollout_status(ctx, all_rss, new_rs, deployment)
    active_old = filter_active(old_rss)
    if await reconcile_old_replica_sets(ctx, all_rss, active_old, new_rs, deployment):
        return await sync_rollout_status(ctx, all_rss, new_rs, deployment)
    if deployment_complete(deployment, deployment.get("status") or {}):
        await cleanup_deployment(ctx, old_rss, deployment)
    return await sync_rollout_status(ctx, all_rss, new_rs, deployment)


async def reconcile_new_replica_set(
    ctx: DeploymentContext, all_rss: list[Object | None], new_rs: Object, deployment: Object
) -> tuple[bool, Object]:
    """Grow (or, above ``spec.replicas``, shrink) the new ReplicaSet within the surge."""
    desired = replicas_of(deployment)
    if replicas_of(new_rs) == desired:
        return False, new_rs
    if replicas_of(new_rs) > desired:
        return await scale_and_record(ctx, new_rs, desired, deployment)
    others = [rs for rs in all_rss if rs is not None]
    target = new_rs_new_replicas(deployment, others, new_rs)
    return await scale_and_record(ctx, new_rs, target, deployment)


async def reconcile_old_replica_sets(
    ctx: DeploymentContext,
    all_rss: list[Object | None],
    old_rss: list[Object],
    new_rs: Object,
    deployment: Object,
) -> bool:
    """Shrink the old ReplicaSets as far as availability allows; True if any shrank."""
    if replica_count(old_rss) == 0:
        return False  # nothing left to take down
    min_available = replicas_of(deployment) - max_unavailable(deployment)
    new_unavailable = replicas_of(new_rs) - status_count(new_rs, "availableReplicas")
    # Pods of the new ReplicaSet not available yet must not count as available: a rollout
    # to a broken template must stop instead of taking every old pod down.
    max_scaled_down = replica_count(all_rss) - min_available - new_unavailable
    if max_scaled_down <= 0:
        return False
    old_rss, cleaned = await cleanup_unhealthy_replicas(ctx, old_rss, deployment, max_scaled_down)
    scaled = await scale_down_old_for_rolling_update(ctx, [*old_rss, new_rs], old_rss, deployment)
    return cleaned + scaled > 0


async def cleanup_unhealthy_replicas(
    ctx: DeploymentContext, old_rss: list[Object], deployment: Object, max_cleanup: int
) -> tuple[list[Object], int]:
    """Take away old ReplicaSets' unavailable pods first, at most ``max_cleanup`` of them."""
    result = by_creation(old_rss)
    total = 0
    for index, rs in enumerate(result):
        if total >= max_cleanup:
            break
        size, available = replicas_of(rs), status_count(rs, "availableReplicas")
        # more available than asked for: its status lags a scale-down not yet carried out.
        # Upstream errors here and retries with back-off; the ReplicaSet's next status
        # update brings the Deployment back anyway, so skip it without the noise.
        if size == 0 or available >= size:
            continue
        count = min(max_cleanup - total, size - available)
        _, result[index] = await scale_and_record(ctx, rs, size - count, deployment)
        total += count
    return result, total


async def scale_down_old_for_rolling_update(
    ctx: DeploymentContext, all_rss: list[Object], old_rss: list[Object], deployment: Object
) -> int:
    """Scale old ReplicaSets down, oldest first, while more than the minimum are available."""
    min_available = replicas_of(deployment) - max_unavailable(deployment)
    available = sum(status_count(rs, "availableReplicas") for rs in all_rss)
    if available <= min_available:
        return 0
    to_scale_down = available - min_available
    total = 0
    for rs in by_creation(old_rss):
        if total >= to_scale_down:
            break
        if replicas_of(rs) == 0:
            continue
        count = min(replicas_of(rs), to_scale_down - total)
        await scale_and_record(ctx, rs, replicas_of(rs) - count, deployment)
        total += count
    return total


async def rollout_recreate(
    ctx: DeploymentContext,
    deployment: Object,
    rs_list: list[Object],
    pod_map: dict[str, list[Object]],
) -> float | None:
    """One step of a Recreate rollout; the seconds after which to look again, if any."""
    new_rs, old_rss = await get_all_and_sync_revision(ctx, deployment, rs_list, create=False)
    all_rss: list[Object | None] = [*old_rss, new_rs]
    scaled_down = False
    for index, rs in enumerate(old_rss):
        if replicas_of(rs) == 0:
            continue
        scaled, old_rss[index] = await scale_and_record(ctx, rs, 0, deployment)
        scaled_down = scaled_down or scaled
    if scaled_down:
        return await sync_rollout_status(ctx, [*old_rss, new_rs], new_rs, deployment)
    if old_pods_running(new_rs, old_rss, pod_map):
        # Wait: a pod deletion (or a ReplicaSet status change) brings the Deployment back.
        return await sync_rollout_status(ctx, all_rss, new_rs, deployment)
    if new_rs is None:
        new_rs, old_rss = await get_all_and_sync_revision(ctx, deployment, rs_list, create=True)
        assert new_rs is not None
    _, new_rs = await scale_and_record(ctx, new_rs, replicas_of(deployment), deployment)
    if deployment_complete(deployment, deployment.get("status") or {}):
        await cleanup_deployment(ctx, old_rss, deployment)
    return await sync_rollout_status(ctx, [*old_rss, new_rs], new_rs, deployment)


def old_pods_running(
    new_rs: Object | None, old_rss: list[Object], pod_map: dict[str, list[Object]]
) -> bool:
    """Any old ReplicaSet still reports pods, or any pod of one is not finished (terminating
    pods count: their processes may still run)."""
    if sum(status_count(rs, "replicas") for rs in old_rss) > 0:
        return True
    new_uid = None if new_rs is None else new_rs["metadata"].get("uid")
    for uid, pods in pod_map.items():
        if uid == new_uid:
            continue
        for pod in pods:
            if (pod.get("status") or {}).get("phase") not in _FINISHED_PHASES:
                return True
    return False
