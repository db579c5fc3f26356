"""The PersistentVolume binder: pairs claims with volumes and reclaims released volumes.

A PersistentVolumeClaim (PVC) is a namespaced request for storage; a PersistentVolume (PV) is
cluster-wide storage that exists, or is made for a claim by a provisioner. Upstream's
``persistentvolume-binder`` controller (``pkg/controller/volume/persistentvolume``) keeps the
two in step, and so does this one:

- ``api/volumematching.py``: which volume fits which claim;
- ``persistentvolume_binding.py``: the writes that bind them, and the phases;
- ``persistentvolume_claims.py``: what to do about one claim (bind, provision, wait);
- ``persistentvolume_volumes.py``: what to do about one volume (its phase, reclaiming).

Claims and volumes share one work queue, their keys told apart by a prefix (``claim:ns/name``,
``volume:name``). A claim or volume change queues it and its counterpart; a volume that became
free, and a new StorageClass, queue the claims still pending. Pending claims are also looked at
again every 15 seconds, upstream's resync period, so a claim waiting for an administrator's
volume or a provisioner is never forgotten. Events come from ``persistentvolume-controller``.
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.volumematching import claim_class, claims_of_pod, default_class
from minikube_py.client.protocol import (
    GVR,
    PERSISTENT_VOLUME_CLAIMS,
    PERSISTENT_VOLUMES,
    PODS,
    ApiError,
    Client,
)
from minikube_py.clock import Clock
from minikube_py.controllers.controller import Controller
from minikube_py.controllers.informers import SharedInformers
from minikube_py.controllers.persistentvolume_claims import sync_claim
from minikube_py.controllers.persistentvolume_volumes import sync_volume

Object = dict[str, Any]
STORAGE_CLASSES = GVR("storage.k8s.io", "v1", "storageclasses")
RESYNC = 15.0  # seconds: upstream's --pvclaimbinder-sync-period
_CLAIM, _VOLUME = "claim:", "volume:"


class PersistentVolumeController(Controller):
    """Binds PersistentVolumeClaims to PersistentVolumes and reclaims released volumes."""

    name = "persistentvolume-binder"
    component = "persistentvolume-controller"
    workers = 1  # upstream runs one claim worker and one volume worker

    def __init__(self, client: Client, *, clock: Clock | None = None) -> None:
        super().__init__(client, clock=clock)

    def wire(self, informers: SharedInformers) -> None:
        self.volumes = informers.get(PERSISTENT_VOLUMES)
        self.claims = informers.get(PERSISTENT_VOLUME_CLAIMS)
        self.classes = informers.get(STORAGE_CLASSES)
        self.pods = informers.get(PODS)
        self.volumes.on_add(self._volume_changed)
        self.volumes.on_update(lambda _old, new: self._volume_changed(new))
        self.volumes.on_delete(self._volume_changed)
        self.claims.on_add(self._claim_changed)
        self.claims.on_update(lambda _old, new: self._claim_changed(new))
        self.claims.on_delete(self._claim_changed)
        self.classes.on_add(lambda _class: self._pending_claims())

    # -- wiring -----------------------------------------------------------------------------

    def enqueue_claim(self, claim: Object) -> None:
        meta = claim["metadata"]
        self.queue.add(f"{_CLAIM}{meta.get('namespace')}/{meta.get('name')}")

    def _volume_changed(self, volume: Object) -> None:
        self.queue.add(_VOLUME + volume["metadata"]["name"])
        ref = (volume.get("spec") or {}).get("claimRef")
        if ref:
            self.queue.add(f"{_CLAIM}{ref.get('namespace')}/{ref.get('name')}")
        else:
            self._pending_claims()  # a free volume may be what a waiting claim needs

    def _claim_changed(self, claim: Object) -> None:
        self.enqueue_claim(claim)
        if name := (claim.get("spec") or {}).get("volumeName"):
            self.queue.add(_VOLUME + name)
        for volume in self.volumes.items():  # volumes that point at it (made for it)
            ref = (volume.get("spec") or {}).get("claimRef") or {}
            if ref.get("name") == claim["metadata"].get("name") and ref.get("namespace") == claim[
                "metadata"
            ].get("namespace"):
                self.queue.add(_VOLUME + volume["metadata"]["name"])

    def _pending_claims(self) -> None:
        for claim in self.claims.items():
            if (claim.get("status") or {}).get("phase") in (None, "Pending"):
                self.enqueue_claim(claim)

    # -- what the sync modules ask ----------------------------------------------------------

    def default_class(self) -> Object | None:
        return default_class(self.classes.items())

    def delay_binding(self, claim: Object) -> bool:
        """The claim's class binds on first consumer (a missing class binds at once)."""
        name = claim_class(claim)
        storage_class = self.classes.get(name) if name else None
        mode = (storage_class or {}).get("volumeBindingMode")
        return mode == "WaitForFirstConsumer"

    def unscheduled_pods_using(self, claim: Object) -> list[str]:
        """``namespace/name`` of the pods not yet scheduled that use the claim, sorted."""
        namespace, name = claim["metadata"].get("namespace"), claim["metadata"].get("name")
        return sorted(
            f"{namespace}/{pod['metadata']['name']}"
            for pod in self.pods.by_namespace(str(namespace))
            if not (pod.get("spec") or {}).get("nodeName") and name in claims_of_pod(pod)
        )

    async def claim_exists(self, ref: Object) -> bool:
        """Ask the API server before releasing a volume: a claim just made (a provisioner's
        volume is often seen first) may not be in the cache yet."""
        try:
            claim = await self.client.get(
                PERSISTENT_VOLUME_CLAIMS, str(ref.get("namespace")), str(ref.get("name"))
            )
        except ApiError as error:
            if error.code == 404:
                return False
            raise
        return bool(claim["metadata"].get("uid") == ref.get("uid"))

    # -- reconciling ------------------------------------------------------------------------

    async def reconcile(self, key: str) -> float | None:
        if key.startswith(_VOLUME):
            volume = self.volumes.get(key.removeprefix(_VOLUME))
            if volume is not None:
                await sync_volume(self, volume)
            return None
        claim = self.claims.get(key.removeprefix(_CLAIM))
        if claim is None:
            return None
        await sync_claim(self, claim)
        bound = (claim.get("metadata") or {}).get("annotations") or {}
        return None if bound.get("pv.kubernetes.io/bind-completed") else RESYNC
