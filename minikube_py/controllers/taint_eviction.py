"""Taint eviction: pods leave a node whose ``NoExecute`` taints they do not tolerate.

A taint with effect ``NoExecute`` does more than keep new pods away: it evicts running ones.
The node lifecycle controller puts ``node.kubernetes.io/unreachable:NoExecute`` on a node whose
kubelet went silent (``not-ready`` when the kubelet says it is not ready), and a user may add
their own. For every pod bound to a node with such taints (upstream's
``pkg/controller/tainteviction``):

- a taint no toleration of the pod matches: the pod is deleted at once;
- all tolerated, some with ``tolerationSeconds``: the pod is deleted that many seconds (the
  smallest of them) after the taint was first seen, unless the taint is gone by then;
- all tolerated without ``tolerationSeconds``: the pod stays for good.

The API server's ``DefaultTolerationSeconds`` admission gives every pod a 300-second toleration
of ``not-ready`` and ``unreachable``, which is why pods of a dead node go after five minutes.
Before deleting, the controller records a ``TaintManagerEviction`` Event ("Marking for deletion
Pod ns/name") and sets the pod's ``DisruptionTarget`` condition; a scheduled deletion that is
called off (the taint was removed) is an Event too ("Cancelling deletion of Pod ns/name").

Keys are pod keys; a node change queues the pods bound to it. A pod waiting out its toleration
comes back through the queue when its time is up, on the injected clock.
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.stamps import rfc3339
from minikube_py.client.events import EventRecorder
from minikube_py.client.informer import object_key
from minikube_py.client.protocol import NODES, PODS, ApiError, Client
from minikube_py.clock import Clock
from minikube_py.controllers.controller import Controller
from minikube_py.controllers.daemonset_nodes import tolerates, untolerated
from minikube_py.controllers.informers import SharedInformers

Object = dict[str, Any]
FOREVER = None


def no_execute_taints(node: Object | None) -> list[Object]:
    taints = ((node or {}).get("spec") or {}).get("taints") or []
    return [t for t in taints if t.get("effect") == "NoExecute"]


def min_toleration_seconds(taints: list[Object], tolerations: list[Object]) -> float | None:
    """The shortest ``tolerationSeconds`` among the tolerations used for ``taints`` (the first
    matching one per taint, as upstream's GetMatchingTolerations), ``None``: forever."""
    shortest: float | None = FOREVER
    for taint in taints:
        used = next((t for t in tolerations if tolerates(t, taint)), None)
        seconds = None if used is None else used.get("tolerationSeconds")
        if seconds is None:
            continue
        value = max(0.0, float(seconds))
        shortest = value if shortest is None else min(shortest, value)
    return shortest


class TaintEvictionController(Controller):
    """Deletes pods from nodes with ``NoExecute`` taints they do not (or no longer) tolerate."""

    component = "taint-eviction-controller"
    name = "taint-eviction-controller"
    workers = 2

    def __init__(
        self,
        client: Client,
        *,
        clock: Clock | None = None,
        recorder: EventRecorder | None = None,
        workers: int | None = None,
    ) -> None:
        super().__init__(client, clock=clock, recorder=recorder, workers=workers)
        self._scheduled: dict[str, float] = {}  # pod key → when its eviction was scheduled

    def wire(self, informers: SharedInformers) -> None:
        self.pods = informers.get(PODS)
        self.nodes = informers.get(NODES)
        self.watch(self.pods)
        self.nodes.on_add(self._node_changed)
        self.nodes.on_update(self._node_updated)
        self.nodes.on_delete(self._node_changed)

    def _node_updated(self, old: Object, new: Object) -> None:
        if no_execute_taints(old) != no_execute_taints(new):
            self._node_changed(new)

    def _node_changed(self, node: Object) -> None:
        name = node["metadata"]["name"]
        for pod in self.pods.items():
            if (pod.get("spec") or {}).get("nodeName") == name:
                self.enqueue(pod)

    async def reconcile(self, key: str) -> float | None:
        pod = self.pods.get(key)
        node_name = ((pod or {}).get("spec") or {}).get("nodeName")
        if pod is None or not node_name or pod["metadata"].get("deletionTimestamp"):
            self._scheduled.pop(key, None)  # gone or going: nothing to do (and no event)
            return None
        taints = no_execute_taints(self.nodes.get(str(node_name)))
        if not taints:
            await self._cancel(pod)
            return None
        tolerations = list((pod.get("spec") or {}).get("tolerations") or [])
        if untolerated(taints, tolerations, ("NoExecute",)):
            await self._evict(pod)
            return None
        seconds = min_toleration_seconds(taints, tolerations)
        if seconds is FOREVER:
            await self._cancel(pod)
            return None
        now = self.clock.now()
        since = self._scheduled.setdefault(key, now)
        if now >= since + seconds:
            await self._evict(pod)
            return None
        self.log.debug("eviction scheduled", pod=key, at=rfc3339(since + seconds))
        return since + seconds - now

    async def _cancel(self, pod: Object) -> None:
        key = object_key(pod)
        if self._scheduled.pop(key, None) is not None:
            await self.recorder.record(
                _as_pod(pod),
                reason="TaintManagerEviction",
                message=f"Cancelling deletion of Pod {key}",
            )

    async def _evict(self, pod: Object) -> None:
        key = object_key(pod)
        self._scheduled.pop(key, None)
        namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        self.log.info("deleting pod", pod=key, node=pod["spec"].get("nodeName"))
        await self.recorder.record(
            _as_pod(pod), reason="TaintManagerEviction", message=f"Marking for deletion Pod {key}"
        )
        condition = {
            "type": "DisruptionTarget",
            "status": "True",
            "reason": "DeletionByTaintManager",
            "message": "Taint manager: deleting due to NoExecute taint",
            "lastTransitionTime": rfc3339(self.clock.now()),
        }
        try:
            patch = {"status": {"conditions": [condition]}}  # merged by condition type
            await self.client.patch(
                PODS, namespace, name, patch, patch_type="strategic", subresource="status"
            )
            await self.client.delete(PODS, namespace, name)
        except ApiError as error:
            if error.code != 404:
                raise


def _as_pod(pod: Object) -> Object:
    return {**pod, "apiVersion": "v1", "kind": "Pod"}
