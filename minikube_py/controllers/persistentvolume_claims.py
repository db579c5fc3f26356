"""The binder's decisions for one PersistentVolumeClaim (upstream's ``syncClaim``).

A claim without ``pv.kubernetes.io/bind-completed`` is *unbound*:

- it names no volume: find the best match (``api/volumematching.py``) and bind it. If
  none fits: a claim without a class first gets the default class, if there is one now
  (upstream's retroactive default); a ``WaitForFirstConsumer`` claim that no scheduled pod
  asked for yet waits (event ``WaitForFirstConsumer``, or ``WaitForPodScheduled`` naming the
  pods that want it); a claim with a class asks for a volume to be provisioned; a claim without
  a class can only wait for an administrator's volume (``FailedBinding``). It stays ``Pending``.
- it names a volume (``spec.volumeName``): bind to it if the volume is free and fits
  (``VolumeMismatch`` if not), finish the binding if the volume already points back, wait if
  it does not exist yet or belongs to another claim.

Provisioning is always *external* here: the class's provisioner (the hostpath provisioner,
``k8s.io/minikube-hostpath``) is told by two annotations on the claim,
``volume.kubernetes.io/storage-provisioner`` and its ``beta`` twin, and the binder says so in
an ``ExternalProvisioning`` event. Upstream's in-tree ``kubernetes.io/…`` plugins do not exist
here, so such a class fails with upstream's ``ProvisioningFailed`` message.

A *bound* claim whose volume went away, or points at another claim, is ``Lost``.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from minikube_py.api.volumematching import (
    BETA_CLASS_ANNOTATION,
    best_match,
    claim_class,
    is_bound_to_claim,
    unsatisfied,
)
from minikube_py.client.protocol import PERSISTENT_VOLUME_CLAIMS
from minikube_py.controllers.persistentvolume_binding import (
    BETA_STORAGE_PROVISIONER,
    BOUND_BY_CONTROLLER,
    SELECTED_NODE,
    STORAGE_PROVISIONER,
    annotations_of,
    bind,
    set_claim_status,
)

if TYPE_CHECKING:
    from minikube_py.controllers.persistentvolume import PersistentVolumeController

Object = dict[str, Any]
NO_CLASS_MESSAGE = "no persistent volumes available for this claim and no storage class is set"
WAITING_MESSAGE = "waiting for first consumer to be created before binding"


def external_message(provisioner: str) -> str:
    return (
        f"Waiting for a volume to be created either by the external provisioner '{provisioner}' "
        "or manually by the system administrator. If volume creation is delayed, please verify "
        "that the provisioner is running and correctly registered."
    )


async def sync_claim(ctl: PersistentVolumeController, claim: Object) -> None:
    if annotations_of(claim).get("pv.kubernetes.io/bind-completed"):
        await _sync_bound(ctl, claim)
    else:
        await _sync_unbound(ctl, claim)


async def _sync_unbound(ctl: PersistentVolumeController, claim: Object) -> None:
    name = (claim.get("spec") or {}).get("volumeName") or ""
    if name:
        await _sync_named(ctl, claim, name)
        return
    delay = ctl.delay_binding(claim)
    volume = best_match(claim, ctl.volumes.items(), delay_binding=delay)
    if volume is not None:
        await bind(ctl.client, volume, claim)
        return
    if await _assign_default_class(ctl, claim):
        return  # the update brings the claim back with its class
    if delay and SELECTED_NODE not in annotations_of(claim):
        await _wait_for_consumer(ctl, claim)
    elif claim_class(claim):
        claim = await _provision(ctl, claim)
    else:
        await ctl.recorder.record(claim, reason="FailedBinding", message=NO_CLASS_MESSAGE)
    await set_claim_status(ctl.client, claim, "Pending", None)


async def _sync_named(ctl: PersistentVolumeController, claim: Object, name: str) -> None:
    volume = ctl.volumes.get(name)
    if volume is None:  # not made yet: wait for it
        await set_claim_status(ctl.client, claim, "Pending", None)
        return
    if not (volume.get("spec") or {}).get("claimRef"):
        if (problem := unsatisfied(volume, claim)) is not None:
            message = f'Cannot bind to requested volume "{name}": {problem}'
            await ctl.recorder.record(claim, reason="VolumeMismatch", message=message, warning=True)
            await set_claim_status(ctl.client, claim, "Pending", None)
            return
        await bind(ctl.client, volume, claim)
    elif is_bound_to_claim(volume, claim):
        await bind(ctl.client, volume, claim)  # the volume points back: finish
    else:
        message = f'volume "{name}" already bound to a different claim.'
        await ctl.recorder.record(claim, reason="FailedBinding", message=message, warning=True)
        if not annotations_of(claim).get(BOUND_BY_CONTROLLER):
            await set_claim_status(ctl.client, claim, "Pending", None)


async def _sync_bound(ctl: PersistentVolumeController, claim: Object) -> None:
    name = (claim.get("spec") or {}).get("volumeName") or ""
    volume = ctl.volumes.get(name) if name else None
    if not name:
        message = "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!"
        await _lost(ctl, claim, "ClaimLost", message)
    elif volume is None:
        message = "Bound claim has lost its PersistentVolume. Data on the volume is lost!"
        await _lost(ctl, claim, "ClaimLost", message)
    else:
        ref = (volume.get("spec") or {}).get("claimRef")
        if not ref or ref.get("uid") == claim["metadata"].get("uid"):
            await bind(ctl.client, volume, claim)  # repairs whatever half is missing
        else:
            message = "Two claims are bound to the same volume, this one is bound incorrectly"
            await _lost(ctl, claim, "ClaimMisbound", message)


async def _lost(ctl: PersistentVolumeController, claim: Object, reason: str, message: str) -> None:
    if (claim.get("status") or {}).get("phase") != "Lost":
        await ctl.recorder.record(claim, reason=reason, message=message, warning=True)
    await set_claim_status(ctl.client, claim, "Lost", None)


async def _assign_default_class(ctl: PersistentVolumeController, claim: Object) -> bool:
    """A claim created without any class gets today's default one (True: written)."""
    spec = claim.get("spec") or {}
    if "storageClassName" in spec and spec["storageClassName"] is not None:
        return False
    if BETA_CLASS_ANNOTATION in annotations_of(claim):
        return False
    default = ctl.default_class()
    if default is None:
        return False
    updated = copy.deepcopy(claim)
    updated["spec"]["storageClassName"] = default["metadata"]["name"]
    body = {**updated, "apiVersion": "v1", "kind": "PersistentVolumeClaim"}
    await ctl.client.update(PERSISTENT_VOLUME_CLAIMS, claim["metadata"]["namespace"], body)
    return True


async def _wait_for_consumer(ctl: PersistentVolumeController, claim: Object) -> None:
    waiting = ctl.unscheduled_pods_using(claim)
    if not waiting:
        await ctl.recorder.record(claim, reason="WaitForFirstConsumer", message=WAITING_MESSAGE)
        return
    if len(waiting) == 1:
        message = f"waiting for pod {waiting[0]} to be scheduled"
    else:
        message = f"waiting for pods {','.join(waiting)} to be scheduled"
    await ctl.recorder.record(claim, reason="WaitForPodScheduled", message=message)


async def _provision(ctl: PersistentVolumeController, claim: Object) -> Object:
    """Hand the claim to its class's provisioner; the claim as stored after."""
    name = claim_class(claim)
    storage_class = ctl.classes.get(name)
    if storage_class is None:
        message = f'storageclass.storage.k8s.io "{name}" not found'
        await ctl.recorder.record(claim, reason="ProvisioningFailed", message=message, warning=True)
        return claim
    provisioner = str(storage_class.get("provisioner") or "")
    if provisioner.startswith("kubernetes.io/"):
        message = f"no volume plugin matched name: {provisioner}"
        await ctl.recorder.record(claim, reason="ProvisioningFailed", message=message, warning=True)
        return claim
    marks = annotations_of(claim)
    if marks.get(STORAGE_PROVISIONER) != provisioner or BETA_STORAGE_PROVISIONER not in marks:
        updated = copy.deepcopy(claim)
        updated["metadata"]["annotations"] = {
            **marks,
            STORAGE_PROVISIONER: provisioner,
            BETA_STORAGE_PROVISIONER: provisioner,
        }
        body = {**updated, "apiVersion": "v1", "kind": "PersistentVolumeClaim"}
        claim = await ctl.client.update(
            PERSISTENT_VOLUME_CLAIMS, claim["metadata"]["namespace"], body
        )
    await ctl.recorder.record(
        claim, reason="ExternalProvisioning", message=external_message(provisioner)
    )
    return claim
