"""The ReplicaSet controller: keep ``spec.replicas`` pods running, no more, no fewer.

A ReplicaSet says "``replicas`` pods like this ``template``, recognised by this ``selector``".
Its controller (upstream's ``pkg/controller/replicaset``) reconciles each ReplicaSet key:

1. **Which pods are mine.** The namespace's *active* pods from the pod cache (not finished, not
   being deleted), *claimed*: matching orphans adopted, owned pods that stopped matching
   released (``claiming.py``).
2. **Trust the cache?** Only if the creations and deletions asked for last time have all been
   seen by the pod informer (``Expectations``); otherwise a stale cache would make it create or
   delete the same pods twice. It still writes the status.
3. **Too few:** create the difference (at most ``burst_replicas`` per sync) in slow-start
   batches from the template (``PodControl``). **Too many:** delete those whose loss hurts
   least (``ranking.py``), ranked against the pods of the sibling ReplicaSets of the same
   Deployment so the survivors spread over the nodes.
4. **Status.** Replicas, fully labelled, ready and available pods, the observed generation and
   a ``ReplicaFailure`` condition, written through ``/status`` only when they changed; with
   ``minReadySeconds`` the key comes back when ready pods will have become available.

Pod events wake the owning ReplicaSet (and record what the expectations wait for); an orphan
pod wakes every ReplicaSet of its namespace whose selector matches it, which may adopt it.

The same class runs ReplicationControllers (``kind=REPLICATION_CONTROLLER``), as upstream does:
an RC is an older ReplicaSet whose ``spec.selector`` is a plain label map.
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.selectors import LabelSelector
from minikube_py.client.events import EventRecorder
from minikube_py.client.informer import object_key
from minikube_py.client.protocol import PODS, REPLICATION_CONTROLLERS, Client, Object
from minikube_py.clock import Clock
from minikube_py.controllers.claiming import claim_pods
from minikube_py.controllers.controller import Controller, controller_reference
from minikube_py.controllers.expectations import Expectations
from minikube_py.controllers.informers import SharedInformers
from minikube_py.controllers.podcontrol import REPLICA_SET, ControllerKind, PodControl
from minikube_py.controllers.ranking import filter_active, is_ready, pods_to_delete
from minikube_py.controllers.replicaset_status import (
    needs_status_update,
    recheck_after,
    replica_set_status,
)

BURST_REPLICAS = 500  # upstream's BurstReplicas: pods created or deleted per sync at most
STATUS_UPDATE_RETRIES = 1  # a refused status write is tried once more on a fresh read
REPLICATION_CONTROLLER = ControllerKind(REPLICATION_CONTROLLERS, "ReplicationController")
# (controller name as in --controllers, event source component) per kind, as upstream
_NAMES = {
    "ReplicaSet": ("replicaset", "replicaset-controller"),
    "ReplicationController": ("replicationcontroller", "replication-controller"),
}


def _spec(obj: Object) -> dict[str, Any]:
    return obj.get("spec") or {}


def desired_replicas(rs: Object) -> int:
    """``spec.replicas``, 1 when unset (the API server defaults it so)."""
    replicas = _spec(rs).get("replicas")
    return 1 if replicas is None else int(replicas)


class ReplicaSetController(Controller):
    """Reconciles ReplicaSets (or, with ``kind=REPLICATION_CONTROLLER``, ReplicationControllers)
    against their pods."""

    workers = 5  # kube-controller-manager's --concurrent-replicaset-syncs

    def __init__(
        self,
        client: Client,
        *,
        clock: Clock | None = None,
        recorder: EventRecorder | None = None,
        burst_replicas: int = BURST_REPLICAS,
        kind: ControllerKind = REPLICA_SET,
        workers: int | None = None,
    ) -> None:
        self.name, component = _NAMES[kind.kind]
        super().__init__(client, clock=clock, workers=workers)
        self.kind = kind
        self.burst_replicas = burst_replicas
        self.pod_control = PodControl(client, recorder or EventRecorder(client, component))
        self.expectations = Expectations(self.clock)

    # -- wiring -----------------------------------------------------------------------------

    def wire(self, informers: SharedInformers) -> None:
        self.sets = informers.get(self.kind.gvr)
        self.pods = informers.get(PODS)
        self.sets.on_add(self.enqueue)
        self.sets.on_update(self._set_updated)
        self.sets.on_delete(self._set_deleted)
        self.pods.on_add(self._pod_added)
        self.pods.on_update(self._pod_updated)
        self.pods.on_delete(self._pod_deleted)

    def _set_updated(self, old: Object, new: Object) -> None:
        if _uid(old) != _uid(new):  # deleted and made again between two events
            self._set_deleted(old)
        self.enqueue(new)

    def _set_deleted(self, rs: Object) -> None:
        # a new ReplicaSet of the same name must start without the old one's expectations
        self.expectations.delete(object_key(rs))
        self.enqueue(rs)

    def _pod_added(self, pod: Object) -> None:
        if pod["metadata"].get("deletionTimestamp"):
            self._pod_deleted(pod)  # seen for the first time already going: not a creation
            return
        reference = controller_reference(pod)
        if reference is not None:
            if (rs := self._resolve(pod, reference)) is not None:
                self.expectations.creation_observed(object_key(rs))
                self.enqueue(rs)
            return
        for rs in self._selecting(pod):  # an orphan: whoever matches may adopt it
            self.enqueue(rs)

    def _pod_updated(self, old: Object, new: Object) -> None:
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return
        labels_changed = old["metadata"].get("labels") != new["metadata"].get("labels")
        if new["metadata"].get("deletionTimestamp"):
            # a graceful deletion: replace the pod now, not when its kubelet has stopped it
            self._pod_deleted(new)
            if labels_changed:
                self._pod_deleted(old)
            return
        reference, old_reference = controller_reference(new), controller_reference(old)
        moved = reference != old_reference and old_reference is not None
        if moved and (previous := self._resolve(old, old_reference or {})) is not None:
            self.enqueue(previous)
        if reference is not None:
            if (rs := self._resolve(new, reference)) is None:
                return
            self.enqueue(rs)
            min_ready = int(_spec(rs).get("minReadySeconds") or 0)
            if min_ready > 0 and not is_ready(old) and is_ready(new):
                # come back when it is available; a second more against skew, as upstream
                self.queue.add_after(object_key(rs), min_ready + 1.0)
            return
        if labels_changed or reference != old_reference:
            for rs in self._selecting(new):
                self.enqueue(rs)

    def _pod_deleted(self, pod: Object) -> None:
        reference = controller_reference(pod)
        if reference is None or (rs := self._resolve(pod, reference)) is None:
            return  # nobody waits for an orphan's deletion
        self.expectations.deletion_observed(object_key(rs), object_key(pod))
        self.enqueue(rs)

    def _resolve(self, pod: Object, reference: Object) -> Object | None:
        """The cached controller a pod's reference names, if it is ours and the same object."""
        if reference.get("kind") != self.kind.kind:
            return None
        rs = self.sets.get(f"{pod['metadata'].get('namespace')}/{reference.get('name')}")
        return rs if rs is not None and _uid(rs) == reference.get("uid") else None

    def _selecting(self, pod: Object) -> list[Object]:
        """The namespace's controllers whose selector matches the pod (getPodReplicaSets)."""
        labels = pod["metadata"].get("labels")
        if not labels:
            return []
        found = []
        for rs in self.sets.by_namespace(pod["metadata"].get("namespace") or ""):
            selector = self._selector(rs)
            # an empty selector would select every pod: it matches nothing here
            if selector is not None and not selector.empty and selector.matches(labels):
                found.append(rs)
        if len(found) > 1:
            self.log.error(
                f"user error! more than one {self.kind.kind} is selecting pods with labels",
                labels=labels,
            )
        return found

    # -- reconciling ------------------------------------------------------------------------

    async def reconcile(self, key: str) -> float | None:
        cached = self.sets.get(key)
        if cached is None:
            self.log.debug("deleted", kind=self.kind.kind, key=key)
            self.expectations.delete(key)
            return None
        rs = self._as_replica_set(cached)
        needs_sync = self.expectations.satisfied(key)
        if self._selector(cached) is None:
            self.log.error("error converting pod selector to selector", key=key)
            return None  # retrying cannot help; the next change of the object will
        # every pod of the namespace: owned pods whose labels no longer match get released
        active = filter_active(self.pods.by_namespace(rs["metadata"]["namespace"]))
        pods = await claim_pods(self.client, rs, active, controller_kind=self.kind)
        manage_error: Exception | None = None
        if needs_sync and not rs["metadata"].get("deletionTimestamp"):
            manage_error = await self._manage_replicas(key, rs, pods)
        status = replica_set_status(
            rs, pods, self.clock.now(), manage_error=str(manage_error) if manage_error else None
        )
        updated = await self._write_status(cached, status)
        if manage_error is not None:
            raise manage_error  # after the status says so; the key backs off and comes back
        # upstream compares against the desired count, where recheck_after reads replicas
        desired = {**(updated.get("status") or {}), "replicas": desired_replicas(updated)}
        return recheck_after(desired, int(_spec(updated).get("minReadySeconds") or 0))

    async def _manage_replicas(self, key: str, rs: Object, pods: list[Object]) -> Exception | None:
        """Create or delete pods towards ``spec.replicas``; the first failure, if any."""
        need = desired_replicas(rs)
        difference = len(pods) - need
        if difference < 0:
            count = min(-difference, self.burst_replicas)
            # expected before sent: the informer may report a pod before create returns
            self.expectations.expect_creations(key, count)
            self.log.info("Too few replicas", key=key, need=need, creating=count)
            namespace, template = rs["metadata"]["namespace"], _spec(rs).get("template") or {}
            outcome = await self.pod_control.create_pods(
                namespace, template, rs, count, controller_kind=self.kind
            )
            if (skipped := count - outcome.done) > 0:  # never sent: never to be observed
                self.log.info("Slow-start failure. Skipping creation of pods", key=key, n=skipped)
                self.expectations.lower_expectations(key, add=skipped)
            return outcome.error
        if difference > 0:
            count = min(difference, self.burst_replicas)
            self.log.info("Too many replicas", key=key, need=need, deleting=count)
            doomed = pods_to_delete(pods, self._related_pods(rs), count, now=self.clock.now())
            self.expectations.expect_deletions_of(key, [object_key(pod) for pod in doomed])
            outcome = await self.pod_control.delete_pods(doomed, rs, controller_kind=self.kind)
            for pod in outcome.missed:  # never to be seen going: do not wait for them
                self.expectations.deletion_observed(key, object_key(pod))
            return outcome.error
        return None

    def _related_pods(self, rs: Object) -> list[Object]:
        """The pods of every ReplicaSet sharing ``rs``'s controller (its Deployment), each
        once; none for a ReplicaSet without one, as upstream (getIndirectlyRelatedPods)."""
        owner = controller_reference(rs)
        if owner is None:
            return []
        namespace = rs["metadata"]["namespace"]
        related: dict[Any, Object] = {}
        for sibling in self.sets.by_namespace(namespace):
            reference = controller_reference(sibling)
            selector = self._selector(sibling)
            if reference is None or reference.get("uid") != owner.get("uid") or selector is None:
                continue
            for pod in self.pods.by_namespace(namespace):
                if selector.matches(pod["metadata"].get("labels")):
                    related.setdefault(_uid(pod), pod)
        return list(related.values())

    async def _write_status(self, rs: Object, status: Object) -> Object:
        """Write ``status`` through ``/status`` if it differs; the object as stored after."""
        if not needs_status_update(rs.get("status") or {}, status):
            return rs
        current, namespace = rs, rs["metadata"]["namespace"]
        for _ in range(STATUS_UPDATE_RETRIES):
            try:
                return await self._put_status(current, status)
            except Exception as error:  # most likely a conflict with a newer version
                self.log.debug("status update failed", key=object_key(rs), error=str(error))
                current = await self.client.get(self.kind.gvr, namespace, rs["metadata"]["name"])
        return await self._put_status(current, status)

    async def _put_status(self, obj: Object, status: Object) -> Object:
        body = {**obj, "apiVersion": self.kind.api_version, "kind": self.kind.kind}
        namespace = obj["metadata"]["namespace"]
        return await self.client.update_status(self.kind.gvr, namespace, {**body, "status": status})

    # -- ReplicaSets and ReplicationControllers ---------------------------------------------

    def _as_replica_set(self, obj: Object) -> Object:
        """An RC seen as a ReplicaSet: its selector map as ``matchLabels``, as upstream's
        conversion does; a ReplicaSet as it is."""
        if self.kind.kind != "ReplicationController":
            return obj
        selector = _spec(obj).get("selector")
        converted = None if selector is None else {"matchLabels": selector}
        return {**obj, "spec": {**_spec(obj), "selector": converted}}

    def _selector(self, obj: Object) -> LabelSelector | None:
        """The parsed selector (a missing one selects nothing); ``None`` if it does not parse."""
        try:
            return LabelSelector.from_object(_spec(self._as_replica_set(obj)).get("selector"))
        except ValueError:
            return None


def _uid(obj: Object) -> Any:
    return (obj.get("metadata") or {}).get("uid")
