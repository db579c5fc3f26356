"""Resizing a Deployment's ReplicaSets: one at a time, all in proportion, or the old ones away.

Everything the Deployment controller does to pods it does by changing a ReplicaSet's
``spec.replicas`` (the ReplicaSet controller then makes or removes the pods), and each such
change is an Event on the Deployment, worded as upstream: ``ScalingReplicaSet`` "Scaled up
replica set web-5d7b9c6f4 from 0 to 3". With the size it records the Deployment size the
ReplicaSet was made for (``desired-replicas``, ``max-replicas``), which later proportional
scaling reads.

``scale`` is what a Deployment does when only its ``spec.replicas`` changed (or it is paused):
with one active ReplicaSet that one takes the whole size; in the middle of a rolling update
the change is shared among all active ReplicaSets in proportion to their sizes, the rounding
leftovers going to the largest (upstream's ``scale`` in sync.go).

``cleanup_deployment`` keeps at most ``revisionHistoryLimit`` old ReplicaSets, deleting the
oldest revisions first and only those already scaled to zero and settled.

``DeploymentContext`` carries what every step of a sync needs (the API client, the Event
recorder, the clock, the ReplicaSet cache), as the receiver of upstream's methods does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from minikube_py.api.stamps import parse_time
from minikube_py.client.events import EventRecorder
from minikube_py.client.informer import Informer
from minikube_py.client.protocol import REPLICASETS, ApiError, Client
from minikube_py.clock import Clock
from minikube_py.controllers.deployment_rollout import (
    DESIRED_REPLICAS_ANNOTATION,
    get_proportion,
    int_annotation,
    is_rolling_update,
    max_surge,
    replica_count,
    replicas_of,
    set_replicas_annotations,
)
from minikube_py.controllers.deployment_util import revision
from minikube_py.logs import get_logger

Object = dict[str, Any]
SCALING_REPLICA_SET = "ScalingReplicaSet"
_NO_LIMIT = 2**31 - 1  # math.MaxInt32: revisionHistoryLimit meaning "keep all"


@attrs.define
class DeploymentContext:
    """What the steps of a Deployment sync share."""

    client: Client
    recorder: EventRecorder
    clock: Clock
    replica_sets: Informer
    log: Any = attrs.field(factory=lambda: get_logger("controllers.deployment"))


def name_of(obj: Object | None) -> str:
    return str(((obj or {}).get("metadata") or {}).get("name") or "")


def key_of(obj: Object) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def status_count(obj: Object | None, field: str) -> int:
    return int(((obj or {}).get("status") or {}).get(field) or 0)


def filter_active(replica_sets: Iterable[Object | None]) -> list[Object]:
    """The ReplicaSets asked to run at least one pod (``FilterActiveReplicaSets``)."""
    return [rs for rs in replica_sets if rs is not None and replicas_of(rs) > 0]


def _created(rs: Object) -> float:
    moment = parse_time((rs.get("metadata") or {}).get("creationTimestamp"))
    return float("-inf") if moment is None else moment


def by_size(replica_sets: Iterable[Object], *, newer_first: bool) -> list[Object]:
    """Largest first; among equals newer first (``ReplicaSetsBySizeNewer``, for growing) or
    older first (``ReplicaSetsBySizeOlder``, for shrinking)."""
    ordered = sorted(replica_sets, key=lambda rs: (_created(rs), name_of(rs)), reverse=newer_first)
    return sorted(ordered, key=replicas_of, reverse=True)  # stable: keeps the age order


def find_active_or_latest(new_rs: Object | None, old_rss: Sequence[Object]) -> Object | None:
    """The one ReplicaSet with pods, or the newest if none has any; None if several have."""
    if new_rs is None and not old_rss:
        return None
    newest_first = sorted(old_rss, key=lambda rs: (_created(rs), name_of(rs)), reverse=True)
    active = filter_active([*newest_first, new_rs])
    if not active:
        return new_rs if new_rs is not None else newest_first[0]
    return active[0] if len(active) == 1 else None


def is_saturated(deployment: Object, rs: Object | None) -> bool:
    """The ReplicaSet is sized for the Deployment and all its pods are available."""
    if rs is None:
        return False
    desired = int_annotation(rs, DESIRED_REPLICAS_ANNOTATION)
    wanted = replicas_of(deployment)
    return (
        replicas_of(rs) == wanted
        and desired == wanted
        and status_count(rs, "availableReplicas") == wanted
    )


async def scale_replica_set(
    ctx: DeploymentContext, rs: Object, new_scale: int, deployment: Object, operation: str
) -> tuple[bool, Object]:
    """Set ``rs``'s size and replica annotations; ``(scaled, rs as stored)``. An Event on the
    Deployment says so when the size changed."""
    desired = replicas_of(deployment)
    maximum = desired + max_surge(deployment)
    size_changes = replicas_of(rs) != new_scale
    updated = {**rs, "metadata": {**rs["metadata"]}, "spec": {**(rs.get("spec") or {})}}
    updated["metadata"]["annotations"] = dict(rs["metadata"].get("annotations") or {})
    annotations_change = set_replicas_annotations(updated, desired, maximum)
    if not size_changes and not annotations_change:
        return False, rs
    old_scale = replicas_of(rs)
    updated["spec"]["replicas"] = new_scale
    stored = await ctx.client.update(
        REPLICASETS, rs["metadata"]["namespace"], {**updated, **_type_meta()}
    )
    if size_changes:
        message = (
            f"Scaled {operation} replica set {name_of(stored)} from {old_scale} to {new_scale}"
        )
        await ctx.recorder.record(deployment, reason=SCALING_REPLICA_SET, message=message)
    return size_changes, stored


async def scale_and_record(
    ctx: DeploymentContext, rs: Object, new_scale: int, deployment: Object
) -> tuple[bool, Object]:
    """``scale_replica_set`` up or down as the numbers say; nothing if the size is right."""
    if replicas_of(rs) == new_scale:
        return False, rs
    operation = "up" if replicas_of(rs) < new_scale else "down"
    return await scale_replica_set(ctx, rs, new_scale, deployment, operation)


async def scale(
    ctx: DeploymentContext, deployment: Object, new_rs: Object | None, old_rss: list[Object]
) -> None:
    """Bring the ReplicaSets' total to the Deployment's size (and surge) without a rollout."""
    desired = replicas_of(deployment)
    if (only := find_active_or_latest(new_rs, old_rss)) is not None:
        if replicas_of(only) != desired:
            await scale_and_record(ctx, only, desired, deployment)
        return
    if is_saturated(deployment, new_rs):
        # The new ReplicaSet carries the whole Deployment: the old ones may all go.
        for old in filter_active(old_rss):
            await scale_and_record(ctx, old, 0, deployment)
        return
    if not is_rolling_update(deployment):
        return
    active = filter_active([*old_rss, new_rs])
    allowed = desired + max_surge(deployment) if desired > 0 else 0
    to_add = allowed - replica_count(active)
    operation = ""
    if to_add > 0:
        active, operation = by_size(active, newer_first=True), "up"
    elif to_add < 0:
        active, operation = by_size(active, newer_first=False), "down"
    sizes: list[int] = []
    added = 0
    for rs in active:
        share = get_proportion(rs, deployment, to_add, added) if to_add else 0
        sizes.append(replicas_of(rs) + share)
        added += share
    if active and to_add:
        # What rounding left over goes to (or comes from) the largest ReplicaSet.
        sizes[0] = max(0, sizes[0] + to_add - added)
    for rs, size in zip(active, sizes, strict=True):
        await scale_replica_set(ctx, rs, size, deployment, operation)


def has_revision_history_limit(deployment: Object) -> bool:
    limit = (deployment.get("spec") or {}).get("revisionHistoryLimit")
    return limit is not None and int(limit) != _NO_LIMIT


async def cleanup_deployment(
    ctx: DeploymentContext, old_rss: Sequence[Object], deployment: Object
) -> None:
    """Delete the oldest old ReplicaSets beyond ``revisionHistoryLimit`` that run nothing."""
    if not has_revision_history_limit(deployment):
        return
    alive = [rs for rs in old_rss if not rs["metadata"].get("deletionTimestamp")]
    excess = len(alive) - int(deployment["spec"]["revisionHistoryLimit"])
    if excess <= 0:
        return
    ordered = sorted(alive, key=lambda rs: (revision(rs) or 0, _created(rs), name_of(rs)))
    ctx.log.debug("looking to clean up old replica sets", key=key_of(deployment), excess=excess)
    for rs in ordered[:excess]:
        generation = int(rs["metadata"].get("generation") or 0)
        settled = generation <= status_count(rs, "observedGeneration")
        if status_count(rs, "replicas") != 0 or replicas_of(rs) != 0 or not settled:
            continue  # still has pods, or its controller has not caught up yet
        ctx.log.info("deleting old replica set", key=key_of(deployment), replica_set=key_of(rs))
        try:
            await ctx.client.delete(REPLICASETS, rs["metadata"]["namespace"], name_of(rs))
        except ApiError as error:
            if error.code != 404:
                raise


def _type_meta() -> Object:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet"}
