"""The new ReplicaSet of a Deployment, found or made, and the revision it carries.

Each sync first sorts the Deployment's ReplicaSets into the *new* one (its template equals the
Deployment's) and the *old* ones (``deployment_util``). The new one gets the next revision,
one above the highest old revision, in its ``deployment.kubernetes.io/revision`` annotation;
this is also how ``kubectl rollout undo`` works: it copies an old ReplicaSet's template back
into the Deployment, that ReplicaSet becomes the new one again, and so gets a fresh revision
(the old number moves into ``revision-history``).

When no ReplicaSet has the template yet and the strategy wants one, it is created, named
``<deployment>-<pod-template-hash>`` (``Progressing``: ``NewReplicaSetCreated``). If a
ReplicaSet of that name exists but is not this template's — a hash collision — the
Deployment's ``status.collisionCount`` goes up by one, which changes the hash the next sync
computes (upstream's getNewReplicaSet).
"""

from __future__ import annotations

import copy
from typing import Any

from minikube_py.client.protocol import REPLICASETS, ApiError
from minikube_py.controllers.claiming import controller_of
from minikube_py.controllers.deployment_conditions import (
    FAILED_RS_CREATE,
    FOUND_NEW_REPLICA_SET,
    NEW_REPLICA_SET_CREATED,
    PROGRESSING,
    created_message,
    failed_create_message,
    found_message,
    get_deployment_condition,
    has_progress_deadline,
    new_deployment_condition,
    set_deployment_condition,
)
from minikube_py.controllers.deployment_rollout import replicas_of
from minikube_py.controllers.deployment_scaling import (
    SCALING_REPLICA_SET,
    DeploymentContext,
    key_of,
    name_of,
)
from minikube_py.controllers.deployment_status import write_status
from minikube_py.controllers.deployment_util import (
    REVISION_ANNOTATION,
    equal_ignore_hash,
    find_new_replica_set,
    find_old_replica_sets,
    max_revision,
    new_replica_set,
    set_new_replica_set_annotations,
)

Object = dict[str, Any]


def set_deployment_revision(ctx: DeploymentContext, deployment: Object, revision: str) -> bool:
    """Put ``revision`` into the Deployment's own revision annotation; True if the status
    should be written for it.

    The annotation travels with a status write, as upstream's does (its Deployment
    ``/status`` keeps annotations).
    """
    annotations = deployment["metadata"].setdefault("annotations", {})
    if annotations.get(REVISION_ANNOTATION) == revision:
        return False
    annotations[REVISION_ANNOTATION] = revision
    return True


async def get_all_and_sync_revision(
    ctx: DeploymentContext, deployment: Object, rs_list: list[Object], create: bool
) -> tuple[Object | None, list[Object]]:
    """``(new ReplicaSet or None, all old ReplicaSets)``, the new one's revision brought up to
    date and, with ``create``, the new one made if missing."""
    _, all_old = find_old_replica_sets(deployment, rs_list)
    new_rs = await get_new_replica_set(ctx, deployment, rs_list, all_old, create)
    return new_rs, all_old


async def get_new_replica_set(
    ctx: DeploymentContext,
    deployment: Object,
    rs_list: list[Object],
    old_rss: list[Object],
    create: bool,
) -> Object | None:
    new_revision = str(max_revision(old_rss) + 1)
    existing = find_new_replica_set(deployment, rs_list)
    if existing is not None:
        return await _update_existing(ctx, deployment, existing, new_revision)
    if not create:
        return None
    rs = new_replica_set(deployment, old_rss, new_revision)
    namespace = deployment["metadata"]["namespace"]
    try:
        created = await ctx.client.create(REPLICASETS, namespace, rs)
    except ApiError as error:
        if error.code == 409 and error.reason == "AlreadyExists":
            found = ctx.replica_sets.get(f"{namespace}/{name_of(rs)}")
            if found is None:
                raise  # not in the cache yet: look again when it is
            if _ours_with_template(found, deployment):
                return found  # our own, from a create whose answer was lost: carry on
            await _bump_collision_count(ctx, deployment)
            raise
        message = failed_create_message(name_of(rs), str(error))
        if has_progress_deadline(deployment):
            status = copy.deepcopy(deployment.get("status") or {})
            condition = new_deployment_condition(
                PROGRESSING, "False", FAILED_RS_CREATE, message, ctx.clock.now()
            )
            set_deployment_condition(status, condition)
            await write_status(ctx, deployment, status)
        await ctx.recorder.record(
            deployment, reason=FAILED_RS_CREATE, message=message, warning=True
        )
        raise
    if (size := replicas_of(created)) > 0:
        message = f"Scaled up replica set {name_of(created)} from 0 to {size}"
        await ctx.recorder.record(deployment, reason=SCALING_REPLICA_SET, message=message)
    needs_update = set_deployment_revision(ctx, deployment, new_revision)
    status = copy.deepcopy(deployment.get("status") or {})
    if has_progress_deadline(deployment):
        message = created_message(name_of(created))
        condition = new_deployment_condition(
            PROGRESSING, "True", NEW_REPLICA_SET_CREATED, message, ctx.clock.now()
        )
        set_deployment_condition(status, condition)
        needs_update = True
    if needs_update:
        await write_status(ctx, deployment, status)
    return created


async def _update_existing(
    ctx: DeploymentContext, deployment: Object, existing: Object, new_revision: str
) -> Object:
    """Bring the new ReplicaSet's annotations and ``minReadySeconds`` up to date (that write
    is this sync's step), else record its revision and ``FoundNewReplicaSet``."""
    rs = copy.deepcopy(existing)
    annotated = set_new_replica_set_annotations(deployment, rs, new_revision, exists=True)
    min_ready = int((deployment.get("spec") or {}).get("minReadySeconds") or 0)
    if annotated or int(rs["spec"].get("minReadySeconds") or 0) != min_ready:
        rs["spec"]["minReadySeconds"] = min_ready
        body = {**rs, "apiVersion": "apps/v1", "kind": "ReplicaSet"}
        return await ctx.client.update(REPLICASETS, rs["metadata"]["namespace"], body)
    revision = (rs["metadata"].get("annotations") or {}).get(REVISION_ANNOTATION) or ""
    needs_update = set_deployment_revision(ctx, deployment, revision)
    status = copy.deepcopy(deployment.get("status") or {})
    if has_progress_deadline(deployment) and get_deployment_condition(status, PROGRESSING) is None:
        condition = new_deployment_condition(
            PROGRESSING, "True", FOUND_NEW_REPLICA_SET, found_message(name_of(rs)), ctx.clock.now()
        )
        set_deployment_condition(status, condition)
        needs_update = True
    if needs_update:
        await write_status(ctx, deployment, status)
    return rs


def _ours_with_template(rs: Object, deployment: Object) -> bool:
    reference = controller_of(rs)
    return (
        reference is not None
        and reference.get("uid") == deployment["metadata"].get("uid")
        and equal_ignore_hash(
            (rs.get("spec") or {}).get("template") or {},
            (deployment.get("spec") or {}).get("template") or {},
        )
    )


async def _bump_collision_count(ctx: DeploymentContext, deployment: Object) -> None:
    """Another template's ReplicaSet holds our name: change the hash by counting the clash."""
    status = copy.deepcopy(deployment.get("status") or {})
    status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
    try:
        await write_status(ctx, deployment, status)
    except ApiError:
        return  # the next sync tries again
    ctx.log.info(
        "Found a hash collision for deployment - bumping collisionCount to resolve it",
        key=key_of(deployment),
        collision_count=status["collisionCount"],
    )
