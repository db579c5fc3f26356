"""The Deployment controller: roll a Deployment's pods from one template to the next.

A Deployment (upstream's ``pkg/controller/deployment``) never touches pods: it keeps one
ReplicaSet per template version and sets their sizes; the ReplicaSet controller does the
rest. Its wiring:

- a Deployment's own changes wake it;
- a ReplicaSet's changes wake its controlling Deployment; an orphan ReplicaSet wakes every
  Deployment of its namespace whose selector matches it, which may adopt it (and a Deployment
  releases ReplicaSets that stopped matching, as a ReplicaSet does with pods: ``claiming``);
- a pod's deletion wakes a Recreate Deployment once its last pod is gone: the new version may
  start.

A sync of a Deployment (``reconcile``, upstream's ``syncDeployment``) then picks one path:

- being deleted: only the status is brought up to date;
- paused, or only ``spec.replicas`` changed: ``sync`` — resize (proportionally during a
  rollout, ``deployment_scaling``), no new ReplicaSet, no rollout;
- otherwise a rollout step of its strategy (``deployment_rolling``).

The new ReplicaSet and its revision come from ``deployment_revision``, the status from
``deployment_status``. ``kubectl rollout undo`` needs nothing more: it writes an old template
back, and the ReplicaSet with that template becomes the new one under a new revision.
"""

from __future__ import annotations

import copy
from typing import Any

from minikube_py.api.selectors import LabelSelector
from minikube_py.client.informer import object_key
from minikube_py.client.protocol import DEPLOYMENTS, PODS, REPLICASETS, ApiError
from minikube_py.controllers.claiming import claim_replica_sets, controller_of
from minikube_py.controllers.controller import Controller
from minikube_py.controllers.deployment_revision import get_all_and_sync_revision
from minikube_py.controllers.deployment_rolling import rollout_recreate, rollout_rolling
from minikube_py.controllers.deployment_rollout import (
    DESIRED_REPLICAS_ANNOTATION,
    RECREATE,
    ROLLING_UPDATE,
    int_annotation,
    replicas_of,
)
from minikube_py.controllers.deployment_scaling import (
    DeploymentContext,
    cleanup_deployment,
    filter_active,
    scale,
)
from minikube_py.controllers.deployment_status import (
    check_paused_conditions,
    sync_deployment_status,
    write_status,
)
from minikube_py.controllers.deployment_util import DEPLOYMENT
from minikube_py.controllers.informers import SharedInformers

Object = dict[str, Any]
COMPONENT = "deployment-controller"


class DeploymentController(Controller):
    """Reconciles Deployments through their ReplicaSets."""

    name = "deployment"
    component = COMPONENT
    workers = 5  # kube-controller-manager's --concurrent-deployment-syncs
    max_retries = 15  # upstream's maxRetries: then the key waits for its next event

    # -- wiring -----------------------------------------------------------------------------

    def wire(self, informers: SharedInformers) -> None:
        self.deployments = informers.get(DEPLOYMENTS)
        self.replica_sets = informers.get(REPLICASETS)
        self.pods = informers.get(PODS)
        self.context = DeploymentContext(
            self.client, self.recorder, self.clock, self.replica_sets, self.log
        )
        self.watch(self.deployments)
        self.replica_sets.on_add(self._rs_added)
        self.replica_sets.on_update(self._rs_updated)
        self.replica_sets.on_delete(self._rs_deleted)
        self.pods.on_delete(self._pod_deleted)

    def _rs_added(self, rs: Object) -> None:
        if rs["metadata"].get("deletionTimestamp"):
            self._rs_deleted(rs)  # first seen already going (a restart): not a creation
            return
        reference = controller_of(rs)
        if reference is not None:
            if (deployment := self._resolve(rs, reference)) is not None:
                self.enqueue(deployment)
            return
        for deployment in self._selecting(rs):  # an orphan: whoever matches may adopt it
            self.enqueue(deployment)

    def _rs_updated(self, old: Object, new: Object) -> None:
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return  # a periodic resync: nothing new
        reference, old_reference = controller_of(new), controller_of(old)
        moved = reference != old_reference
        previous = None if old_reference is None else self._resolve(old, old_reference)
        if moved and previous is not None:
            self.enqueue(previous)
        if reference is not None:
            if (deployment := self._resolve(new, reference)) is not None:
                self.enqueue(deployment)
            return
        if moved or old["metadata"].get("labels") != new["metadata"].get("labels"):
            for deployment in self._selecting(new):
                self.enqueue(deployment)

    def _rs_deleted(self, rs: Object) -> None:
        reference = controller_of(rs)
        if reference is not None and (deployment := self._resolve(rs, reference)) is not None:
            self.enqueue(deployment)

    def _pod_deleted(self, pod: Object) -> None:
        """A Recreate Deployment whose last pod just went may now start its new version."""
        reference = controller_of(pod)
        if reference is None or reference.get("kind") != "ReplicaSet":
            return
        rs = self.replica_sets.get(f"{pod['metadata'].get('namespace')}/{reference.get('name')}")
        if rs is None or rs["metadata"].get("uid") != reference.get("uid"):
            return
        owner = controller_of(rs)
        deployment = None if owner is None else self._resolve(rs, owner)
        if deployment is None:
            return
        strategy = (deployment.get("spec") or {}).get("strategy") or {}
        if strategy.get("type") != RECREATE:
            return
        owned = self._replica_sets_of(deployment)
        if not any(self._pod_map(deployment, owned).values()):
            self.enqueue(deployment)

    def _resolve(self, obj: Object, reference: Object) -> Object | None:
        """The Deployment ``reference`` names, if it is one and the very same object."""
        if reference.get("kind") != "Deployment":
            return None
        found = self.deployments.get(f"{obj['metadata'].get('namespace')}/{reference.get('name')}")
        if found is None or found["metadata"].get("uid") != reference.get("uid"):
            return None
        return found

    def _selecting(self, rs: Object) -> list[Object]:
        """The Deployments of the namespace whose (non-empty) selector matches ``rs``."""
        labels = rs["metadata"].get("labels")
        if not labels:
            return []
        found = []
        for deployment in self.deployments.by_namespace(rs["metadata"].get("namespace") or ""):
            selector = _selector(deployment)
            if selector is not None and not selector.empty and selector.matches(labels):
                found.append(deployment)
        if len(found) > 1:
            self.log.info(
                "More than one deployment is selecting replica set", replica_set=object_key(rs)
            )
        return found

    def _replica_sets_of(self, deployment: Object) -> list[Object]:
        uid = deployment["metadata"].get("uid")
        return [
            rs
            for rs in self.replica_sets.by_namespace(deployment["metadata"]["namespace"])
            if (controller_of(rs) or {}).get("uid") == uid
        ]

    def _pod_map(self, deployment: Object, rs_list: list[Object]) -> dict[str, list[Object]]:
        """The Deployment's pods (by its selector) grouped by the uid of their ReplicaSet."""
        pod_map: dict[str, list[Object]] = {rs["metadata"]["uid"]: [] for rs in rs_list}
        selector = _selector(deployment)
        if selector is None:
            return pod_map
        for pod in self.pods.by_namespace(deployment["metadata"]["namespace"]):
            reference = controller_of(pod)
            if reference is None or not selector.matches(pod["metadata"].get("labels")):
                continue
            if (uid := reference.get("uid")) in pod_map:
                pod_map[uid].append(pod)
        return pod_map

    # -- reconciling ------------------------------------------------------------------------

    async def reconcile(self, key: str) -> float | None:
        try:
            return await self._sync_deployment(key)
        except ApiError as error:
            if error.code != 409 or error.reason != "Conflict":
                raise
            # A write met a newer version than the cache held: that version's event is on its
            # way (or came during this sync) and brings the key back, so no back-off.
            self.log.debug("deployment or replica set changed meanwhile", key=key)
            return None

    async def _sync_deployment(self, key: str) -> float | None:
        cached = self.deployments.get(key)
        if cached is None:
            self.log.debug("Deployment has been deleted", key=key)
            return None
        deployment = copy.deepcopy(cached)
        ctx = self.context
        selector = (deployment.get("spec") or {}).get("selector")
        if selector == {}:
            message = "This deployment is selecting all pods. A non-empty selector is required."
            await self.recorder.record(
                deployment, reason="SelectingAll", message=message, warning=True
            )
            status = deployment.get("status") or {}
            generation = int(deployment["metadata"].get("generation") or 0)
            if int(status.get("observedGeneration") or 0) < generation:
                await write_status(ctx, deployment, {**status, "observedGeneration": generation})
            return None
        if _selector(deployment) is None:
            raise ValueError(f"deployment {key} has invalid label selector")
        rs_list = await self._claim(deployment)
        if deployment["metadata"].get("deletionTimestamp"):
            new_rs, old_rss = await get_all_and_sync_revision(ctx, deployment, rs_list, False)
            await sync_deployment_status(ctx, [*old_rss, new_rs], new_rs, deployment)
            return None
        await check_paused_conditions(ctx, deployment)
        if deployment["spec"].get("paused") or await self._is_scaling_event(deployment, rs_list):
            await self._sync(deployment, rs_list)
            return None
        strategy = ((deployment.get("spec") or {}).get("strategy") or {}).get("type")
        if strategy == RECREATE:
            after = await rollout_recreate(
                ctx, deployment, rs_list, self._pod_map(deployment, rs_list)
            )
        elif strategy in (ROLLING_UPDATE, None):
            after = await rollout_rolling(ctx, deployment, rs_list)
        else:
            raise ValueError(f"unexpected deployment strategy type: {strategy}")
        if after == 0:
            # Right at the deadline: look again soon, backing off (upstream's AddRateLimited).
            self.queue.add_rate_limited(key)
            return None
        return after

    async def _claim(self, deployment: Object) -> list[Object]:
        namespace = deployment["metadata"]["namespace"]
        candidates = self.replica_sets.by_namespace(namespace)
        return await claim_replica_sets(
            self.client, deployment, candidates, controller_kind=DEPLOYMENT
        )

    async def _sync(self, deployment: Object, rs_list: list[Object]) -> None:
        """Resize without rolling out (upstream's ``sync``): paused, or only scaled."""
        ctx = self.context
        new_rs, old_rss = await get_all_and_sync_revision(ctx, deployment, rs_list, False)
        await scale(ctx, deployment, new_rs, old_rss)
        if deployment["spec"].get("paused"):
            await cleanup_deployment(ctx, old_rss, deployment)
        # The sizes just written are not in these objects; the next sync counts them.
        await sync_deployment_status(ctx, [*old_rss, new_rs], new_rs, deployment)

    async def _is_scaling_event(self, deployment: Object, rs_list: list[Object]) -> bool:
        """An active ReplicaSet was sized for another ``spec.replicas``: a resize, not a
        template change (upstream's isScalingEvent)."""
        new_rs, old_rss = await get_all_and_sync_revision(self.context, deployment, rs_list, False)
        for rs in filter_active([*old_rss, new_rs]):
            desired = int_annotation(rs, DESIRED_REPLICAS_ANNOTATION)
            if desired is not None and desired != replicas_of(deployment):
                return True
        return False


def _selector(deployment: Object) -> LabelSelector | None:
    try:
        return LabelSelector.from_object((deployment.get("spec") or {}).get("selector"))
    except ValueError:
        return None
