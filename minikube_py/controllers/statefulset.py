"""The StatefulSet controller: pods with a stable identity, made and replaced in order.

A StatefulSet runs ``replicas`` pods that are *not* interchangeable: ``web-0``, ``web-1`` …
each with its own name, hostname and PersistentVolumeClaims, kept across restarts
(``statefulset_pods.py``). Its controller (upstream's ``pkg/controller/statefulset``)
reconciles each StatefulSet key:

1. **History.** Orphan ControllerRevisions matching the selector are adopted; the current
   template is (or becomes) the *update revision*; ``status.currentRevision`` names the
   *current* one (``statefulset_history.py``).
2. **Which pods are mine.** The namespace's pods whose name says they are members
   (``web-<n>``) are claimed by selector and ``ownerReferences`` as a ReplicaSet claims its
   pods (``claiming.py``): matching orphans adopted, owned pods that stopped matching released.
3. **The pass** (``statefulset_sync.py``): create missing pods (claims first), recreate failed
   ones, fix drifted identities, scale down from the highest ordinal — in order, one healthy pod
   before the next (OrderedReady), or all at once (Parallel); then replace old-revision pods
   (``statefulset_update.py``).
4. **Status** (``statefulset_status.py``), written when it changed, even after a failed write
   (then the key is retried); and old revisions past ``revisionHistoryLimit`` pruned.

Pod events wake the owning set (a pod turning ready with ``minReadySeconds`` wakes it again
when it will be available); an orphan pod wakes every set whose selector matches it. Pod names
are deterministic, so no expectations are needed: a create the cache has not caught up with
fails as already existing, and the key is retried.
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.selectors import LabelSelector
from minikube_py.client.informer import object_key
from minikube_py.client.protocol import (
    CONTROLLER_REVISIONS,
    PERSISTENT_VOLUME_CLAIMS,
    PODS,
    STATEFULSETS,
)
from minikube_py.controllers.claiming import claim_pods, controller_of
from minikube_py.controllers.controller import Controller
from minikube_py.controllers.informers import SharedInformers
from minikube_py.controllers.podcontrol import namespace_terminating
from minikube_py.controllers.ranking import is_ready
from minikube_py.controllers.statefulset_history import StatefulSetHistory
from minikube_py.controllers.statefulset_podcontrol import StatefulPodControl
from minikube_py.controllers.statefulset_pods import STATEFUL_SET, is_member, replicas
from minikube_py.controllers.statefulset_status import write_status
from minikube_py.controllers.statefulset_update import PassFailed, update_stateful_set

Object = dict[str, Any]


def _uid(obj: Object) -> Any:
    return (obj.get("metadata") or {}).get("uid")


def _min_ready(sts: Object) -> int:
    return int((sts.get("spec") or {}).get("minReadySeconds") or 0)


class StatefulSetController(Controller):
    """Reconciles StatefulSets against their pods, claims and revisions."""

    name = "statefulset"
    component = "statefulset-controller"
    workers = 5  # kube-controller-manager's --concurrent-statefulset-syncs

    # -- wiring -----------------------------------------------------------------------------

    def wire(self, informers: SharedInformers) -> None:
        self.sets = informers.get(STATEFULSETS)
        self.pods = informers.get(PODS)
        # read as caches only, as upstream: their changes wake no set
        self.claims = informers.get(PERSISTENT_VOLUME_CLAIMS)
        self.history = StatefulSetHistory(self.client, informers.get(CONTROLLER_REVISIONS))
        self.pod_control = StatefulPodControl(self.client, self.recorder, self.claims)
        self.watch(self.sets)
        self.pods.on_add(self._pod_added)
        self.pods.on_update(self._pod_updated)
        self.pods.on_delete(self._pod_deleted)

    def _pod_added(self, pod: Object) -> None:
        if pod["metadata"].get("deletionTimestamp"):
            self._pod_deleted(pod)
            return
        if controller_of(pod) is not None:
            if (sts := self._owner(pod)) is not None:
                self.enqueue(sts)
            return
        for sts in self._selecting(pod):
            self.enqueue(sts)

    def _pod_updated(self, old: Object, new: Object) -> None:
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return  # a resync: nothing changed
        if controller_of(old) != controller_of(new) and (was := self._owner(old)) is not None:
            self.enqueue(was)
        if controller_of(new) is not None:
            if (sts := self._owner(new)) is None:
                return
            self.enqueue(sts)
            if _min_ready(sts) > 0 and not is_ready(old) and is_ready(new):
                # come back when it will be available
                self.queue.add_after(object_key(sts), float(_min_ready(sts)))
            return
        labels_changed = old["metadata"].get("labels") != new["metadata"].get("labels")
        if labels_changed or controller_of(old) is not None:
            for sts in self._selecting(new):
                self.enqueue(sts)

    def _pod_deleted(self, pod: Object) -> None:
        if (sts := self._owner(pod)) is not None:
            self.enqueue(sts)

    def _owner(self, pod: Object) -> Object | None:
        """The cached StatefulSet a pod's controller reference names, if the same object."""
        reference = controller_of(pod)
        if reference is None or reference.get("kind") != "StatefulSet":
            return None
        sts = self.sets.get(f"{pod['metadata'].get('namespace')}/{reference.get('name')}")
        return sts if sts is not None and _uid(sts) == reference.get("uid") else None

    def _selecting(self, pod: Object) -> list[Object]:
        labels = pod["metadata"].get("labels")
        if not labels:
            return []
        found = []
        for sts in self.sets.by_namespace(pod["metadata"].get("namespace") or ""):
            selector = _selector(sts)
            if selector is not None and not selector.empty and selector.matches(labels):
                found.append(sts)
        if len(found) > 1:
            self.log.error("user error! more than one StatefulSet is selecting pods", labels=labels)
        return found

    # -- reconciling ------------------------------------------------------------------------

    async def reconcile(self, key: str) -> float | None:
        sts = self.sets.get(key)
        if sts is None:
            return None
        try:
            return await self._sync(key, sts)
        except Exception as error:
            if not namespace_terminating(error):
                raise
            # the namespace is being deleted, and the set with it: nothing more to make, and
            # nothing to report (upstream's controllers ignore this refusal as well)
            self.log.info("namespace terminating; nothing created", key=key)
            return None

    async def _sync(self, key: str, sts: Object) -> float | None:
        selector = _selector(sts)
        if selector is None:
            self.log.error("error converting StatefulSet selector", key=key)
            return None  # retrying cannot help; the next change of the set will
        revisions = await self._adopt_revisions(sts, selector)
        namespace = sts["metadata"]["namespace"]
        members = [p for p in self.pods.by_namespace(namespace) if is_member(sts, p)]
        pods = await claim_pods(self.client, sts, members, controller_kind=STATEFUL_SET)
        current, update, collisions = await self.history.revisions_for(sts, revisions)
        failure: PassFailed | None = None
        try:
            status = await update_stateful_set(
                sts,
                current,
                update,
                collisions,
                pods,
                control=self.pod_control,
                recorder=self.recorder,
                now=self.clock.now(),
            )
        except PassFailed as failed:
            failure, status = failed, failed.status
        try:
            await write_status(self.client, sts, status)
        finally:
            await self.history.truncate(sts, pods, revisions, (current, update))
        if failure is not None:
            raise failure.error
        if _min_ready(sts) > 0 and status.get("availableReplicas") != replicas(sts):
            return float(_min_ready(sts))
        return None

    async def _adopt_revisions(self, sts: Object, selector: LabelSelector) -> list[Object]:
        """The set's revisions, orphans among them adopted (if the set may adopt)."""
        revisions = self.history.owned(sts, selector)
        if not any(controller_of(r) is None for r in revisions):
            return revisions
        fresh = await self.client.get(
            STATEFULSETS, sts["metadata"]["namespace"], sts["metadata"]["name"]
        )
        if _uid(fresh) != _uid(sts) or fresh["metadata"].get("deletionTimestamp"):
            raise RuntimeError(f"can't adopt ControllerRevisions: {object_key(sts)} is going")
        adopted = []
        for revision in revisions:
            if controller_of(revision) is None:
                revision = await self.history.adopt(sts, revision)
            adopted.append(revision)
        return adopted


def _selector(sts: Object) -> LabelSelector | None:
    try:
        return LabelSelector.from_object((sts.get("spec") or {}).get("selector"))
    except ValueError:
        return None
