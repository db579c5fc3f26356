"""The binding cycle: writing down what a scheduling cycle decided for a pod.

A scheduling cycle only decides, in memory. Its outcome is written afterwards, as upstream's
*binding cycle* runs in its own goroutine, so the next cycle need not wait for the store:

- a node: the PreBind plugins run first (VolumeBinding binds the pod's claims), then a
  ``Binding`` is POSTed to ``pods/<name>/binding`` (the only way a scheduler assigns a pod)
  and a ``Scheduled`` event recorded;
- a ``FitError``: a ``FailedScheduling`` event plus the pod's ``PodScheduled=False``
  condition (reason ``Unschedulable``), after which the pod waits in the queue until a node
  appears or changes, or a pod goes away.

When a write fails the pod was already assumed onto its node (``cache``): the binding cycle
takes it off again and hands it back to the queue, unless the pod is gone or someone else
bound it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from minikube_py.client import PODS, ApiError, Client, Informer
from minikube_py.client.events import EventRecorder
from minikube_py.logs import get_logger

from .cache import SchedulerCache
from .conditions import REASON_ERROR, REASON_UNSCHEDULABLE, unschedulable_patch
from .framework import FitError
from .plugin import PreBindPlugin
from .queue import SchedulingQueue, pod_key

Object = dict[str, Any]
_log = get_logger("scheduler")


def scheduled_message(pod: Object, node: str) -> str:
    meta = pod["metadata"]
    return f"Successfully assigned {meta.get('namespace', 'default')}/{meta['name']} to {node}"


class BindingCycle:
    """Writes a scheduler's decisions through ``client``; ``retry`` wakes its parked pods."""

    def __init__(
        self,
        client: Client,
        recorder: EventRecorder,
        pods: Informer,
        cache: SchedulerCache,
        queue: SchedulingQueue,
        pre_binders: Sequence[PreBindPlugin],
        retry: Callable[[], None],
    ) -> None:
        self.client, self.recorder, self.pods = client, recorder, pods
        self.cache, self.queue, self.pre_binders = cache, queue, pre_binders
        self.retry = retry

    async def finish(self, pod: Object, outcome: str | FitError) -> None:
        """Bind ``pod`` to the node ``outcome`` names, or record why it fits nowhere."""
        if isinstance(outcome, FitError):
            await self.unschedulable(pod, str(outcome))
        else:
            await self.bind(pod, outcome)

    async def bind(self, pod: Object, node: str) -> None:
        key, meta = pod_key(pod), pod["metadata"]
        namespace = meta.get("namespace", "default")
        binding: Object = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": meta["name"], "namespace": namespace},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        }
        if meta.get("uid"):  # as upstream's DefaultBinder: bind this pod, not a namesake
            binding["metadata"]["uid"] = meta["uid"]
        if not await self._pre_bind(pod, node):
            return
        try:
            await self.client.create(PODS, namespace, binding, subresource="binding")
        except ApiError as error:
            # Keep the placement only if the watch already shows the pod bound there (someone
            # else bound it first); otherwise the watch will place it when the news arrives.
            current = self.pods.get(key)
            bound_to = (current.get("spec") or {}).get("nodeName") if current is not None else None
            if not bound_to or self.cache.node_of(key) != bound_to:
                self.cache.unplace(key)
            if error.code in (404, 409):  # deleted, or bound by someone else: nothing to do
                self.queue.delete(key)
                return
            self.queue.failed(key)
            self.retry()  # the world changed under us: retry
            # upstream's words for a failed Bind plugin; an error, not a verdict on the pod
            message = f'running Bind plugin "DefaultBinder": {error}'
            await self.unschedulable(pod, message, reason=REASON_ERROR)
            return
        self.queue.done(key)
        _log.debug("bound", pod=key, node=node)
        await self.recorder.record(
            pod, reason="Scheduled", message=scheduled_message(pod, node), action="Binding"
        )

    async def _pre_bind(self, pod: Object, node: str) -> bool:
        """Run the PreBind plugins; on a refusal the pod goes back to the queue (False)."""
        info = self.cache.nodes.get(node)
        for plugin in self.pre_binders:
            if info is None:
                break
            try:
                await plugin.pre_bind(pod, info)
            except Exception as error:
                key = pod_key(pod)
                self.cache.unplace(key)
                self.queue.failed(key)
                self.retry()
                message = f'running PreBind plugin "{plugin.name}": {error}'
                await self.unschedulable(pod, message, reason=REASON_ERROR)
                return False
        return True

    async def unschedulable(
        self, pod: Object, message: str, *, reason: str = REASON_UNSCHEDULABLE
    ) -> None:
        """``FailedScheduling`` (aggregated by the recorder) and ``PodScheduled=False``."""
        key = pod_key(pod)
        await self.recorder.record(
            pod, reason="FailedScheduling", message=message, warning=True, action="Scheduling"
        )
        current = self.pods.get(key) or pod
        patch = unschedulable_patch(current, message, reason=reason)
        if patch is None or (current.get("spec") or {}).get("nodeName"):
            return
        try:
            meta = current["metadata"]
            await self.client.patch(
                PODS,
                meta.get("namespace", "default"),
                meta["name"],
                patch,
                patch_type="strategic",
                subresource="status",
            )
        except ApiError as error:
            if error.code != 404:
                _log.warning("cannot set PodScheduled", pod=key, error=str(error))
