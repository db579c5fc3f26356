"""Making and removing a controller's pods, and saying so in Events.

A ReplicaSet (or a Job, a DaemonSet …) makes its pods from the *pod template* in its spec: the
template's labels, annotations, finalizers and spec, a name the API server completes from
``generateName: "<owner>-"``, and an ``ownerReference`` naming the owner as the pod's
*controller* (``controller: true``) whose deletion the pod blocks while the garbage collector
works in foreground (``blockOwnerDeletion: true``) — upstream's ``GetPodFromTemplate``.

Creating many pods at once that would all fail the same way (a quota, an admission webhook)
floods the API server and the event log, so creation goes in *slow-start* batches: one pod,
then two, four, eight … each batch in parallel, stopping after the first batch with a failure
(upstream's ``slowStartBatch``). The controller retries later, starting again from one.

Every pod made or removed is an Event on the owner, worded as upstream: ``SuccessfulCreate``
``Created pod: web-7xk2p``, ``FailedCreate`` ``Error creating: <why>``, ``SuccessfulDelete``
``Deleted pod: web-7xk2p``, ``FailedDelete`` ``Error deleting: <why>``.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Sequence
from typing import Any, NamedTuple

import attrs

from minikube_py.client.events import EventRecorder
from minikube_py.client.protocol import GVR, PODS, REPLICASETS, ApiError, Client
from minikube_py.logs import get_logger

Object = dict[str, Any]
SLOW_START_INITIAL_BATCH_SIZE = 1
_MAX_NAME = 253  # a pod name is a DNS subdomain
_log = get_logger("podcontrol")


class ControllerKind(NamedTuple):
    """The kind of a controlling object, and where it lives in the API."""

    gvr: GVR
    kind: str

    @property
    def api_version(self) -> str:
        return self.gvr.api_version


REPLICA_SET = ControllerKind(REPLICASETS, "ReplicaSet")


@attrs.frozen
class Outcome:
    """What a batch of creates or deletes achieved.

    ``done`` pods were created or deleted; ``error`` is the first failure (None when all went
    well); ``missed`` are the pods a delete did not remove (already gone, or failed), for
    which a controller lowers the deletions it expects to observe.
    """

    done: int
    error: Exception | None = None
    missed: tuple[Object, ...] = ()


def controller_reference(owner: Object, kind: ControllerKind) -> Object:
    """The ``ownerReference`` that makes ``owner`` a pod's controller."""
    meta = owner.get("metadata") or {}
    return {
        "apiVersion": kind.api_version,
        "kind": kind.kind,
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def pod_from_template(
    template: Object, owner: Object, *, controller_kind: ControllerKind
) -> Object:
    """A new pod from ``template`` (a PodTemplateSpec), controlled by ``owner``."""
    template_meta = template.get("metadata") or {}
    name = str((owner.get("metadata") or {}).get("name") or "")
    # "<name>-" reads better; a name already at the length limit keeps no room for the dash.
    prefix = f"{name}-" if len(name) < _MAX_NAME else name
    metadata: Object = {
        "generateName": prefix,
        "labels": dict(template_meta.get("labels") or {}),
        "annotations": dict(template_meta.get("annotations") or {}),
        "finalizers": list(template_meta.get("finalizers") or []),
        "ownerReferences": [controller_reference(owner, controller_kind)],
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {key: value for key, value in metadata.items() if value},
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def namespace_terminating(error: Exception) -> bool:
    """Whether a create was refused because its namespace is being deleted: nothing to
    report then, as upstream (the Status cause's type is serialised as ``reason``)."""
    causes = ((getattr(error, "details", None) or {}).get("causes")) or []
    return any(isinstance(c, dict) and c.get("reason") == "NamespaceTerminating" for c in causes)


class PodControl:
    """Creates and deletes a controller's pods through ``client``, with Events on the owner."""

    def __init__(self, client: Client, recorder: EventRecorder) -> None:
        self.client = client
        self.recorder = recorder

    async def create_pods(
        self,
        namespace: str,
        template: Object,
        owner: Object,
        count: int,
        *,
        controller_kind: ControllerKind = REPLICA_SET,
    ) -> Outcome:
        """Create ``count`` pods from ``template`` in slow-start batches (1, 2, 4, …); stop
        after the first batch in which a create failed. A create refused because the namespace
        is terminating counts as done, as upstream: every later one would be refused too."""
        subject = _with_kind(owner, controller_kind)
        pod = pod_from_template(template, owner, controller_kind=controller_kind)
        done, remaining = 0, count
        batch = min(remaining, SLOW_START_INITIAL_BATCH_SIZE)
        while batch > 0:
            errors = await asyncio.gather(
                *(self._create(namespace, pod, subject) for _ in range(batch))
            )
            failures = [error for error in errors if error is not None]
            done += batch - len(failures)
            if failures:
                return Outcome(done, failures[0])
            remaining -= batch
            batch = min(2 * batch, remaining)
        return Outcome(done)

    async def _create(self, namespace: str, pod: Object, owner: Object) -> Exception | None:
        if not (pod["metadata"].get("labels")):
            return ValueError("unable to create pods, no labels")
        try:
            made = await self.client.create(PODS, namespace, copy.deepcopy(pod))
        except Exception as error:  # any failure (refusal, lost connection) is the owner's news
            if namespace_terminating(error):
                return None
            await self.recorder.record(
                owner, reason="FailedCreate", message=f"Error creating: {error}", warning=True
            )
            return error
        name = made["metadata"]["name"]
        _log.info("created pod", key=_key(owner), pod=f"{namespace}/{name}")
        await self.recorder.record(owner, reason="SuccessfulCreate", message=f"Created pod: {name}")
        return None

    async def delete_pods(
        self,
        pods: Sequence[Object],
        owner: Object,
        *,
        controller_kind: ControllerKind = REPLICA_SET,
    ) -> Outcome:
        """Delete ``pods`` in parallel; a pod already gone is missed, not a failure."""
        subject = _with_kind(owner, controller_kind)
        results = await asyncio.gather(*(self._delete(pod, subject) for pod in pods))
        missed = tuple(pod for pod, (deleted, _) in zip(pods, results, strict=True) if not deleted)
        failures = [error for _, error in results if error is not None]
        return Outcome(len(pods) - len(missed), failures[0] if failures else None, missed)

    async def _delete(self, pod: Object, owner: Object) -> tuple[bool, Exception | None]:
        meta = pod.get("metadata") or {}
        namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        _log.info("deleting pod", key=_key(owner), pod=f"{namespace}/{name}")
        try:
            await self.client.delete(PODS, namespace, name)
        except Exception as error:
            if isinstance(error, ApiError) and error.code == 404:
                return False, None
            await self.recorder.record(
                owner, reason="FailedDelete", message=f"Error deleting: {error}", warning=True
            )
            wrapped = RuntimeError(f"unable to delete pods: {error}")
            wrapped.__cause__ = error  # the API's own error stays at hand
            return False, wrapped
        await self.recorder.record(owner, reason="SuccessfulDelete", message=f"Deleted pod: {name}")
        return True, None


def _with_kind(owner: Object, kind: ControllerKind) -> Object:
    """The owner as Events must name it: objects from a list may lack apiVersion and kind."""
    return {**owner, "apiVersion": kind.api_version, "kind": kind.kind}


def _key(obj: Object) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"
