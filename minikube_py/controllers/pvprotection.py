"""Storage object in use protection: a claim a pod uses, or a volume a claim holds, stays.

Deleting a PersistentVolumeClaim that a running pod mounts would pull the data from under it.
Upstream prevents that with two finalizers, which admission (``StorageObjectInUseProtection``,
here ``apiserver/storageadmission.py``) puts on every new claim and volume:

- ``kubernetes.io/pvc-protection`` on a claim: a deleted claim is only marked
  (``Terminating`` in ``kubectl get pvc``) until the ``pvc-protection`` controller sees that no
  pod uses it any more — no pod scheduled to a node, and not yet finished, has a
  ``persistentVolumeClaim`` volume naming it — and removes the finalizer;
- ``kubernetes.io/pv-protection`` on a volume: a deleted volume stays until the
  ``pv-protection`` controller sees it is no longer ``Bound`` to a claim.

Before it lets a claim go the controller asks the API server for the namespace's pods, not only
its cache, as upstream does: a pod created a moment ago must not lose its claim.
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.volumematching import claims_of_pod
from minikube_py.client.informer import object_key
from minikube_py.client.protocol import (
    PERSISTENT_VOLUME_CLAIMS,
    PERSISTENT_VOLUMES,
    PODS,
    Client,
)
from minikube_py.clock import Clock
from minikube_py.controllers.controller import Controller
from minikube_py.controllers.informers import SharedInformers

Object = dict[str, Any]
PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"


def _deleting_with(obj: Object, finalizer: str) -> bool:
    meta = obj.get("metadata") or {}
    return bool(meta.get("deletionTimestamp")) and finalizer in (meta.get("finalizers") or [])


def pod_uses_claim(pod: Object, claim_name: str) -> bool:
    """Upstream's ``podUsesPVC``: only scheduled pods count (a kubelet refuses to start a pod
    whose claim is being deleted). A finished pod still counts, as upstream: a completed
    Job's pod holds its claim until the pod itself is deleted."""
    if not (pod.get("spec") or {}).get("nodeName"):
        return False
    return claim_name in claims_of_pod(pod)


async def remove_finalizer(client: Client, gvr: Any, obj: Object, finalizer: str) -> None:
    meta = obj["metadata"]
    kept = [f for f in meta.get("finalizers") or [] if f != finalizer]
    body = {**obj, "metadata": {**meta, "finalizers": kept}}
    await client.update(gvr, meta.get("namespace"), body)


class PVCProtectionController(Controller):
    """Removes ``kubernetes.io/pvc-protection`` from a deleted claim once no pod uses it."""

    name = "pvc-protection"
    component = "pvc-protection-controller"
    workers = 1

    def __init__(self, client: Client, *, clock: Clock | None = None) -> None:
        super().__init__(client, clock=clock)

    def wire(self, informers: SharedInformers) -> None:
        self.claims = informers.get(PERSISTENT_VOLUME_CLAIMS)
        self.pods = informers.get(PODS)
        self.watch(self.claims)
        # a pod that goes may free the claims it used
        self.pods.on_delete(self._pod_claims)

    def _pod_claims(self, pod: Object) -> None:
        namespace = pod["metadata"].get("namespace")
        for name in claims_of_pod(pod):
            self.queue.add(f"{namespace}/{name}")

    async def reconcile(self, key: str) -> float | None:
        claim = self.claims.get(key)
        if claim is None or not _deleting_with(claim, PVC_PROTECTION):
            return None
        namespace, name = claim["metadata"]["namespace"], claim["metadata"]["name"]
        if any(pod_uses_claim(pod, name) for pod in self.pods.by_namespace(namespace)):
            return None  # the pod's change or deletion brings the key back
        live = (await self.client.list(PODS, namespace))["items"]
        if any(pod_uses_claim(pod, name) for pod in live):
            return None
        self.log.info("removing protection finalizer from claim", claim=key)
        await remove_finalizer(self.client, PERSISTENT_VOLUME_CLAIMS, claim, PVC_PROTECTION)
        return None


class PVProtectionController(Controller):
    """Removes ``kubernetes.io/pv-protection`` from a deleted volume once it is not bound."""

    name = "pv-protection"
    component = "pv-protection-controller"
    workers = 1

    def __init__(self, client: Client, *, clock: Clock | None = None) -> None:
        super().__init__(client, clock=clock)

    def wire(self, informers: SharedInformers) -> None:
        self.volumes = informers.get(PERSISTENT_VOLUMES)
        self.watch(self.volumes)

    async def reconcile(self, key: str) -> float | None:
        volume = self.volumes.get(key)
        if volume is None or not _deleting_with(volume, PV_PROTECTION):
            return None
        if (volume.get("status") or {}).get("phase") == "Bound":
            return None  # its phase changes when its claim goes, which brings the key back
        self.log.info("removing protection finalizer from volume", volume=object_key(volume))
        await remove_finalizer(self.client, PERSISTENT_VOLUMES, volume, PV_PROTECTION)
        return None
