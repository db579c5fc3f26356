"""The DaemonSet controller: one pod on every eligible node.

A DaemonSet runs a node agent (a log shipper, a network plugin, a monitoring exporter) once per
node. Its controller (upstream's ``pkg/controller/daemon``) reconciles each DaemonSet key:

1. **History.** The current template becomes (or already is) a ControllerRevision, whose hash
   labels the pods made from it (``daemonset_history.py``).
2. **Which pods are mine, on which node.** The namespace's pods matching the selector are
   claimed (adopted or released, ``claiming.py``) and grouped by the node each targets: its
   ``nodeName``, or for a pod not yet scheduled the node its affinity pins it to.
3. **Manage.** Per node (``daemonset_nodes.py`` decides eligibility, ``daemonset_update.py``
   what to do): make the missing pod, delete extras, failed pods (with a per-node back-off of
   1 s doubling to 15 min) and pods on nodes no longer eligible. A new pod is pinned to its
   node by node affinity and bound by the scheduler, as upstream does.
4. **Update.** With ``RollingUpdate``, old pods are replaced within ``maxUnavailable`` /
   ``maxSurge``; with ``OnDelete`` only when a user deletes them.
5. **Status** (``daemonset_status.py``), written through ``/status`` when it changed.

Creations and deletions are *expected* (``Expectations``) until the pod informer has seen
them, so a stale cache never makes two pods for one node. Node events wake every DaemonSet of
the cluster: a new node gets its pods, a relabelled or tainted one may gain or lose them.
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.selectors import LabelSelector
from minikube_py.client.events import EventRecorder
from minikube_py.client.informer import object_key
from minikube_py.client.protocol import (
    CONTROLLER_REVISIONS,
    DAEMONSETS,
    NODES,
    PODS,
    Client,
    Object,
)
from minikube_py.clock import Clock
from minikube_py.controllers.claiming import claim_pods
from minikube_py.controllers.controller import Controller, controller_key
from minikube_py.controllers.daemonset_history import HASH_LABEL, History
from minikube_py.controllers.daemonset_nodes import should_run, target_node
from minikube_py.controllers.daemonset_status import daemon_set_status, needs_update
from minikube_py.controllers.daemonset_sync import DAEMON_SET, FailedPodBackoff, sync_nodes
from minikube_py.controllers.daemonset_update import manage_node, rolling_update
from minikube_py.controllers.expectations import Expectations
from minikube_py.controllers.informers import SharedInformers
from minikube_py.controllers.podcontrol import PodControl, namespace_terminating


def _spec(obj: Object) -> dict[str, Any]:
    return obj.get("spec") or {}


class DaemonSetController(Controller):
    """Reconciles DaemonSets against nodes and their pods."""

    component = "daemonset-controller"
    name = "daemonset"
    workers = 2  # kube-controller-manager's --concurrent-daemonset-syncs

    def __init__(
        self,
        client: Client,
        *,
        clock: Clock | None = None,
        recorder: EventRecorder | None = None,
        workers: int | None = None,
    ) -> None:
        super().__init__(client, clock=clock, recorder=recorder, workers=workers)
        self.pod_control = PodControl(client, self.recorder)
        self.expectations = Expectations(self.clock)
        self.backoff = FailedPodBackoff()

    # -- wiring -----------------------------------------------------------------------------

    def wire(self, informers: SharedInformers) -> None:
        self.sets = informers.get(DAEMONSETS)
        self.pods = informers.get(PODS)
        self.nodes = informers.get(NODES)
        self.history = History(self.client, informers.get(CONTROLLER_REVISIONS))
        self.watch(self.sets)
        self.sets.on_delete(lambda ds: self.expectations.delete(object_key(ds)))
        self.pods.on_add(self._pod_added)
        self.pods.on_update(self._pod_updated)
        self.pods.on_delete(self._pod_deleted)
        # any node change may change where a DaemonSet should run; there are few of both
        self.nodes.on_add(lambda _node: self._enqueue_all())
        self.nodes.on_update(self._node_updated)
        self.nodes.on_delete(lambda _node: self._enqueue_all())

    def _enqueue_all(self) -> None:
        for ds in self.sets.items():
            self.enqueue(ds)

    def _node_updated(self, old: Object, new: Object) -> None:
        # a heartbeat alone changes nothing (upstream's shouldIgnoreNodeUpdate)
        if _node_shape(old) != _node_shape(new):
            self._enqueue_all()

    def _owner_key(self, pod: Object) -> str | None:
        return controller_key(pod, "DaemonSet", "apps")

    def _pod_added(self, pod: Object) -> None:
        if pod["metadata"].get("deletionTimestamp"):
            self._pod_deleted(pod)
            return
        if key := self._owner_key(pod):
            if self.sets.get(key) is not None:
                self.expectations.creation_observed(key)
                self.queue.add(key)
            return
        self._enqueue_selecting(pod)

    def _pod_updated(self, old: Object, new: Object) -> None:
        if new["metadata"].get("deletionTimestamp"):
            self._pod_deleted(new)
            return
        old_key, key = self._owner_key(old), self._owner_key(new)
        if old_key and old_key != key:
            self.queue.add(old_key)
        if key:
            self.queue.add(key)
            min_ready = int(_spec(self.sets.get(key) or {}).get("minReadySeconds") or 0)
            if min_ready > 0:
                self.queue.add_after(key, min_ready + 1.0)  # when it will have become available
        elif old["metadata"].get("labels") != new["metadata"].get("labels") or old_key:
            self._enqueue_selecting(new)

    def _pod_deleted(self, pod: Object) -> None:
        if key := self._owner_key(pod):
            self.expectations.deletion_observed(key, object_key(pod))
            self.queue.add(key)

    def _enqueue_selecting(self, pod: Object) -> None:
        labels = pod["metadata"].get("labels") or {}
        for ds in self.sets.by_namespace(pod["metadata"].get("namespace", "")):
            selector = _selector(ds)
            if selector is not None and not selector.empty and selector.matches(labels):
                self.enqueue(ds)

    # -- reconciling ------------------------------------------------------------------------

    async def reconcile(self, key: str) -> float | None:
        ds = self.sets.get(key)
        if ds is None:
            self.expectations.delete(key)
            return None
        try:
            return await self._sync(key, {**ds, "apiVersion": "apps/v1", "kind": "DaemonSet"})
        except Exception as error:
            if not namespace_terminating(error):
                raise
            # the namespace is being deleted, and the set with it: its revision or pods are
            # refused, which is nothing to report (upstream's controllers ignore it as well)
            self.log.info("namespace terminating; nothing created", key=key)
            return None

    async def _sync(self, key: str, ds: Object) -> float | None:
        selector = _selector(ds)
        if selector is None or selector.empty:
            message = "This daemon set is selecting all pods. A non-empty selector is required."
            await self.recorder.record(ds, reason="SelectingAll", message=message, warning=True)
            return None
        if ds["metadata"].get("deletionTimestamp"):
            return None
        nodes = self.nodes.items()
        current, old = await self.history.construct(ds, selector)
        hash_ = str((current["metadata"].get("labels") or {}).get(HASH_LABEL) or "")
        node_pods = await self._node_pods(ds)
        requeue: list[float] = []
        synced = self.expectations.satisfied(key)
        if synced:
            requeue += await self._manage(key, ds, nodes, node_pods, hash_)
            if self.expectations.satisfied(key) and _strategy(ds) == "RollingUpdate":
                await self._rolling_update(key, ds, nodes, hash_)
            await self.history.cleanup(ds, old, self.pods.by_namespace(ds["metadata"]["namespace"]))
            node_pods = await self._node_pods(ds)
        status = daemon_set_status(
            ds, nodes, node_pods, hash_, self.clock.now(), observe_generation=synced
        )
        if needs_update(ds.get("status") or {}, status):
            await self._write_status(ds, status)
        min_ready = int(_spec(ds).get("minReadySeconds") or 0)
        if min_ready > 0 and status["numberReady"] != status["numberAvailable"]:
            requeue.append(float(min_ready))
        return min(requeue) if requeue else None

    async def _node_pods(self, ds: Object) -> dict[str, list[Object]]:
        """The claimed pods of ``ds`` by target node (finished pods being deleted left out)."""
        namespace = ds["metadata"]["namespace"]
        candidates = [
            pod
            for pod in self.pods.by_namespace(namespace)
            if not (
                pod["metadata"].get("deletionTimestamp")
                and (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")
            )
        ]
        pods = await claim_pods(self.client, ds, candidates, controller_kind=DAEMON_SET)
        grouped: dict[str, list[Object]] = {}
        for pod in pods:
            if (node := target_node(pod)) is not None:
                grouped.setdefault(node, []).append(pod)
        return grouped

    async def _manage(
        self,
        key: str,
        ds: Object,
        nodes: list[Object],
        node_pods: dict[str, list[Object]],
        hash_: str,
    ) -> list[float]:
        needing: list[str] = []
        doomed: list[Object] = []
        requeue: list[float] = []
        now = self.clock.now()
        for node in nodes:
            name = node["metadata"]["name"]
            run, keep = should_run(ds, node)
            pods = node_pods.get(name, [])
            decision = manage_node(ds, pods, run=run, keep=keep, hash_=hash_, now=now)
            if decision.needs_pod:
                needing.append(name)
            doomed.extend(decision.delete)
            for pod in decision.failed:
                if (wait := self.backoff.wait(ds, name, now)) is not None:
                    requeue.append(wait)
                    continue
                message = (
                    f"Found failed daemon pod {pod['metadata']['namespace']}/"
                    f"{pod['metadata']['name']} on node {name}, will try to kill it"
                )
                await self.recorder.record(
                    ds, reason="FailedDaemonPod", message=message, warning=True
                )
                doomed.append(pod)
        # unscheduled pods for nodes that are gone would never be scheduled
        known = {node["metadata"]["name"] for node in nodes}
        for name, pods in node_pods.items():
            if name not in known:
                doomed.extend(p for p in pods if not _spec(p).get("nodeName"))
        await sync_nodes(self.pod_control, self.expectations, key, ds, doomed, needing, hash_)
        return requeue

    async def _rolling_update(self, key: str, ds: Object, nodes: list[Object], hash_: str) -> None:
        node_pods = await self._node_pods(ds)
        wanted: dict[str, list[Object]] = {}
        for node in nodes:
            name = node["metadata"]["name"]
            if should_run(ds, node)[0]:
                wanted[name] = node_pods.get(name, [])
        old_pods, needing = rolling_update(ds, wanted, hash_, self.clock.now())
        if old_pods or needing:
            self.log.info("rolling update", key=key, deleting=len(old_pods), surging=len(needing))
            await sync_nodes(self.pod_control, self.expectations, key, ds, old_pods, needing, hash_)

    async def _write_status(self, ds: Object, status: Object) -> None:
        namespace, name = ds["metadata"]["namespace"], ds["metadata"]["name"]
        try:
            await self.client.update_status(DAEMONSETS, namespace, {**ds, "status": status})
        except Exception as error:  # most likely a conflict; retry once on a fresh read
            self.log.debug("status update failed", key=f"{namespace}/{name}", error=str(error))
            fresh = await self.client.get(DAEMONSETS, namespace, name)
            await self.client.update_status(DAEMONSETS, namespace, {**fresh, "status": status})


def _node_shape(node: Object) -> tuple[Any, ...]:
    conditions = (node.get("status") or {}).get("conditions") or []
    states = sorted((str(c.get("type")), str(c.get("status"))) for c in conditions)
    return node["metadata"].get("labels"), _spec(node), states


def _strategy(ds: Object) -> str:
    return str((_spec(ds).get("updateStrategy") or {}).get("type") or "RollingUpdate")


def _selector(ds: Object) -> LabelSelector | None:
    try:
        return LabelSelector.from_object(_spec(ds).get("selector"))
    except ValueError:
        return None
