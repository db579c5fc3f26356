"""VolumeBinding: a pod's PersistentVolumeClaims decide where it may run, and get their volumes.

A pod that mounts claims can only run where their volumes can be used. Upstream's
``VolumeBinding`` plugin (``pkg/scheduler/framework/plugins/volumebinding``), in small:

- **PreFilter**: a claim that does not exist, or is being deleted, makes the pod
  unschedulable (``persistentvolumeclaim "data" not found``); so does a claim of an
  ``Immediate`` class that is not bound yet (``pod has unbound immediate
  PersistentVolumeClaims``) — the binder binds those without the scheduler. Claims of a
  ``WaitForFirstConsumer`` class that are not bound wait for this pod: they are *delayed*.
- **Filter**, per node: a bound claim's volume must admit the node (its ``nodeAffinity``:
  ``node(s) had volume node affinity conflict``); each delayed claim needs a free volume that
  fits and admits the node (``api/volumematching.py``), or a class whose provisioner can make
  one (any provisioner but ``kubernetes.io/no-provisioner``; ``allowedTopologies`` are not
  checked), else ``node(s) didn't find available persistent volumes to bind``.
- **PreBind**, once the node is chosen: a delayed claim with a fitting volume gets it (the
  volume's ``claimRef``, as the binder would write it); one to provision is annotated
  ``volume.kubernetes.io/selected-node: <node>``, which tells the provisioner to make it.
  Then the pod waits, up to ``bind_timeout`` (upstream's 600 s), until every claim is bound,
  and only then is it bound to the node — so its kubelet finds the volume ready.

The plugin keeps its own caches of claims, volumes and classes; their changes wake parked
pods (a claim just bound may be what a pod waited for).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import Callable

from minikube_py.api.volumematching import best_match, claim_class, claims_of_pod
from minikube_py.client import Client, Informer
from minikube_py.client.protocol import GVR, PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES

from ..framework import SKIP, SUCCESS, CycleState, NodeInfo, Object, Status, unschedulable
from .nodeaffinity import term_matches

NAME = "VolumeBinding"
STORAGE_CLASSES = GVR("storage.k8s.io", "v1", "storageclasses")
SELECTED_NODE = "volume.kubernetes.io/selected-node"
BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
NO_PROVISIONER = "kubernetes.io/no-provisioner"
UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims"
CONFLICT = "node(s) had volume node affinity conflict"
NOT_FOUND_VOLUMES = "node(s) didn't find available persistent volumes to bind"
MISSING_VOLUME = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"
BIND_TIMEOUT = 600.0  # seconds: kube-scheduler's bindTimeoutSeconds
_KEY = "VolumeBinding.claims"


def volume_admits(volume: Object, node: NodeInfo) -> bool:
    """The volume's required node affinity lets it be used on ``node`` (none: everywhere)."""
    required = (((volume.get("spec") or {}).get("nodeAffinity") or {}).get("required")) or {}
    terms = required.get("nodeSelectorTerms")
    return not terms or any(term_matches(term, node) for term in terms)


def is_bound(claim: Object) -> bool:
    """Fully bound, as upstream's ``isPVCFullyBound``: it names its volume and the binder
    has completed the binding."""
    marks = (claim.get("metadata") or {}).get("annotations") or {}
    return bool((claim.get("spec") or {}).get("volumeName")) and marks.get(BIND_COMPLETED) == "yes"


class VolumeBinding:
    name = NAME

    def __init__(self, client: Client, *, bind_timeout: float = BIND_TIMEOUT) -> None:
        self.client = client
        self.bind_timeout = bind_timeout
        self.claims = Informer(client, PERSISTENT_VOLUME_CLAIMS)
        self.volumes = Informer(client, PERSISTENT_VOLUMES)
        self.classes = Informer(client, STORAGE_CLASSES)
        self._callbacks: list[Callable[[], None]] = []
        self._tick = asyncio.Event()
        for informer in (self.claims, self.volumes, self.classes):
            informer.on_add(lambda _obj: self._changed())
            informer.on_update(lambda _old, _new: self._changed())
            informer.on_delete(lambda _obj: self._changed())

    # -- the caches -------------------------------------------------------------------------

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            for informer in (self.claims, self.volumes, self.classes):
                group.create_task(informer.run())

    async def wait_synced(self) -> None:
        for informer in (self.claims, self.volumes, self.classes):
            await informer.wait_synced()

    def on_change(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)

    def _changed(self) -> None:
        self._tick.set()
        self._tick = asyncio.Event()
        for callback in self._callbacks:
            callback()

    def _delayed(self, claim: Object) -> bool:
        storage_class = self.classes.get(claim_class(claim)) if claim_class(claim) else None
        return (storage_class or {}).get("volumeBindingMode") == "WaitForFirstConsumer"

    # -- the cycle --------------------------------------------------------------------------

    def pre_filter(self, state: CycleState, pod: Object) -> Status:
        names = claims_of_pod(pod)
        if not names:
            return SKIP
        namespace = pod["metadata"].get("namespace", "default")
        bound, delayed = [], []
        for name in names:
            claim = self.claims.get(f"{namespace}/{name}")
            if claim is None:
                message = f'persistentvolumeclaim "{name}" not found'
                return unschedulable(NAME, message, unresolvable=True)
            if claim["metadata"].get("deletionTimestamp"):
                message = f'persistentvolumeclaim "{name}" is being deleted'
                return unschedulable(NAME, message, unresolvable=True)
            if is_bound(claim):
                bound.append(claim)
            elif self._delayed(claim) and not (claim.get("spec") or {}).get("volumeName"):
                delayed.append(claim)
            else:  # an Immediate claim (or one naming its volume) is the binder's to bind
                return unschedulable(NAME, UNBOUND_IMMEDIATE, unresolvable=True)
        state.data[_KEY] = (bound, delayed)
        return SUCCESS

    def filter(self, state: CycleState, pod: Object, node: NodeInfo) -> Status:
        bound, delayed = state.data.get(_KEY) or ([], [])
        for claim in bound:
            volume = self.volumes.get(claim["spec"]["volumeName"])
            if volume is None:
                return unschedulable(NAME, MISSING_VOLUME, unresolvable=True)
            if not volume_admits(volume, node):
                return unschedulable(NAME, CONFLICT, unresolvable=True)
        if delayed and self._plan(delayed, node) is None:
            return unschedulable(NAME, NOT_FOUND_VOLUMES, unresolvable=True)
        return SUCCESS

    def _plan(
        self, delayed: list[Object], node: NodeInfo
    ) -> list[tuple[Object, Object | None]] | None:
        """For each delayed claim the free volume it gets on ``node``, or None to provision
        one; None if some claim can have neither."""
        taken: set[str] = set()
        plan: list[tuple[Object, Object | None]] = []
        for claim in delayed:
            free = [v for v in self.volumes.items() if v["metadata"]["name"] not in taken]
            volume = best_match(claim, free, node_fits=lambda v: volume_admits(v, node))
            if volume is not None:
                taken.add(volume["metadata"]["name"])
            else:
                storage_class = self.classes.get(claim_class(claim)) or {}
                if storage_class.get("provisioner") in (None, "", NO_PROVISIONER):
                    return None
            plan.append((claim, volume))
        return plan

    # -- before binding ---------------------------------------------------------------------

    async def pre_bind(self, pod: Object, node: NodeInfo) -> None:
        names = claims_of_pod(pod)
        if not names:
            return
        namespace = pod["metadata"].get("namespace", "default")
        claims = [self.claims.get(f"{namespace}/{name}") for name in names]
        delayed = [c for c in claims if c is not None and not is_bound(c)]
        if delayed:
            plan = self._plan(delayed, node)
            if plan is None:
                raise RuntimeError(f"binding volumes: {NOT_FOUND_VOLUMES}")
            for claim, volume in plan:
                await self._assign(claim, volume, node.name)
        await self._wait_bound(namespace, names)

    async def _assign(self, claim: Object, volume: Object | None, node: str) -> None:
        meta = claim["metadata"]
        if volume is None:  # the provisioner makes one for the chosen node
            patch = {"metadata": {"annotations": {SELECTED_NODE: node}}}
            await self.client.patch(
                PERSISTENT_VOLUME_CLAIMS, meta["namespace"], meta["name"], patch
            )
            return
        updated = copy.deepcopy(volume)
        updated["spec"]["claimRef"] = {
            "kind": "PersistentVolumeClaim",
            "namespace": meta["namespace"],
            "name": meta["name"],
            "uid": meta.get("uid"),
            "apiVersion": "v1",
            "resourceVersion": meta.get("resourceVersion"),
        }
        marks = updated["metadata"].get("annotations") or {}
        updated["metadata"]["annotations"] = {**marks, BOUND_BY_CONTROLLER: "yes"}
        body = {**updated, "apiVersion": "v1", "kind": "PersistentVolume"}
        await self.client.update(PERSISTENT_VOLUMES, None, body)

    async def _wait_bound(self, namespace: str, names: list[str]) -> None:
        try:
            async with asyncio.timeout(self.bind_timeout):
                while True:
                    tick = self._tick
                    claims = [self.claims.get(f"{namespace}/{name}") for name in names]
                    for name, claim in zip(names, claims, strict=True):
                        if claim is None:
                            raise RuntimeError(
                                f'binding volumes: persistentvolumeclaim "{name}" not found'
                            )
                    if all(is_bound(c) for c in claims if c is not None):
                        return
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(1.0):  # a backstop for a missed tick
                            await tick.wait()
        except TimeoutError:
            raise RuntimeError("binding volumes: context deadline exceeded") from None
