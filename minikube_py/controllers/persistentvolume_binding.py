"""The writes that bind a PersistentVolume and a PersistentVolumeClaim, and set their phases.

A binding is two pointers that must agree: the volume's ``spec.claimRef`` (namespace, name
and uid of the claim) and the claim's ``spec.volumeName``. Upstream's binder writes them in a
fixed order, each step idempotent, so a crash or a conflict half-way leaves a state the next
sync recognises and finishes (``bind`` in ``pv_controller.go``):

1. the volume's ``claimRef``; if the binder chose the pair (the volume did not already name
   the claim) it marks the volume ``pv.kubernetes.io/bound-by-controller: "yes"``;
2. the volume's phase ``Bound``;
3. the claim's ``volumeName`` (``bound-by-controller`` again when the binder chose it) and
   ``pv.kubernetes.io/bind-completed: "yes"`` — from then on the claim counts as bound;
4. the claim's phase ``Bound``, with the volume's capacity and access modes in its status.

Phases: a volume is ``Available`` (free, or reserved by a ``claimRef`` without uid),
``Bound``, ``Released`` (its claim is gone) or ``Failed`` (reclaiming went wrong; the reason
in ``status.message``); a claim is ``Pending``, ``Bound`` or ``Lost`` (its volume went away).
Every phase change stamps ``status.lastPhaseTransitionTime`` on the volume, as upstream 1.31+.
"""

from __future__ import annotations

import copy
from typing import Any

from minikube_py.api.stamps import now_rfc3339
from minikube_py.client.protocol import PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES, Client

Object = dict[str, Any]
BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"


def annotations_of(obj: Object) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def claim_reference(claim: Object) -> Object:
    meta = claim["metadata"]
    return {
        "kind": "PersistentVolumeClaim",
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "apiVersion": "v1",
        "resourceVersion": meta.get("resourceVersion"),
    }


def _annotate(obj: Object, key: str, value: str) -> None:
    obj["metadata"].setdefault("annotations", {})
    obj["metadata"]["annotations"] = {**(obj["metadata"]["annotations"] or {}), key: value}


def _named(obj: Object, kind: str) -> Object:
    return {**obj, "apiVersion": "v1", "kind": kind}


async def bind_volume_to_claim(client: Client, volume: Object, claim: Object) -> Object:
    """Step 1: the volume points at the claim (by uid too); the stored volume after."""
    ref = (volume.get("spec") or {}).get("claimRef") or {}
    wanted = claim_reference(claim)
    meta = claim["metadata"]
    if (
        ref.get("uid") == meta.get("uid")
        and ref.get("name") == meta.get("name")
        and ref.get("namespace") == meta.get("namespace")
    ):
        return volume
    chose = not (
        ref
        and ref.get("name") == meta.get("name")
        and ref.get("namespace") == meta.get("namespace")
    )
    updated = copy.deepcopy(volume)
    updated["spec"]["claimRef"] = wanted
    if chose:
        _annotate(updated, BOUND_BY_CONTROLLER, "yes")
    return await client.update(PERSISTENT_VOLUMES, None, _named(updated, "PersistentVolume"))


async def set_volume_phase(client: Client, volume: Object, phase: str, message: str = "") -> Object:
    """Write the volume's phase (and message) if they differ; the stored volume after."""
    status = volume.get("status") or {}
    if status.get("phase") == phase and (status.get("message") or "") == message:
        return volume
    new_status = {**status, "phase": phase}
    if status.get("phase") != phase:
        new_status["lastPhaseTransitionTime"] = now_rfc3339()
    if message:
        new_status["message"] = message
    else:
        new_status.pop("message", None)
    body = _named({**volume, "status": new_status}, "PersistentVolume")
    return await client.update_status(PERSISTENT_VOLUMES, None, body)


async def bind_claim_to_volume(client: Client, claim: Object, volume: Object) -> Object:
    """Step 3: the claim names the volume and says the binding is complete."""
    name = volume["metadata"]["name"]
    spec = claim.get("spec") or {}
    done = annotations_of(claim).get(BIND_COMPLETED) == "yes"
    if spec.get("volumeName") == name and done:
        return claim
    updated = copy.deepcopy(claim)
    if spec.get("volumeName") != name:
        updated["spec"]["volumeName"] = name
        _annotate(updated, BOUND_BY_CONTROLLER, "yes")
    _annotate(updated, BIND_COMPLETED, "yes")
    namespace = claim["metadata"]["namespace"]
    body = _named(updated, "PersistentVolumeClaim")
    return await client.update(PERSISTENT_VOLUME_CLAIMS, namespace, body)


async def set_claim_status(
    client: Client, claim: Object, phase: str, volume: Object | None
) -> Object:
    """The claim's phase, with the volume's capacity and access modes (none without one)."""
    status = dict(claim.get("status") or {})
    new = {**status, "phase": phase}
    if volume is None:
        new.pop("accessModes", None)
        new.pop("capacity", None)
    else:
        new["accessModes"] = list((volume.get("spec") or {}).get("accessModes") or [])
        new["capacity"] = dict((volume.get("spec") or {}).get("capacity") or {})
    if new == status:
        return claim
    namespace = claim["metadata"]["namespace"]
    body = _named({**claim, "status": new}, "PersistentVolumeClaim")
    return await client.update_status(PERSISTENT_VOLUME_CLAIMS, namespace, body)


async def bind(client: Client, volume: Object, claim: Object) -> None:
    """All four steps; an error leaves a state the next sync finishes."""
    volume = await bind_volume_to_claim(client, volume, claim)
    volume = await set_volume_phase(client, volume, "Bound")
    claim = await bind_claim_to_volume(client, claim, volume)
    await set_claim_status(client, claim, "Bound", volume)


async def unbind_volume(client: Client, volume: Object) -> None:
    """Undo a binding the claim does not share: a volume the binder chose is freed entirely,
    one an administrator pre-bound keeps its ``claimRef`` without the uid (still reserved)."""
    updated = copy.deepcopy(volume)
    if annotations_of(volume).get(BOUND_BY_CONTROLLER):
        updated["spec"].pop("claimRef", None)
        updated["metadata"]["annotations"].pop(BOUND_BY_CONTROLLER, None)
    else:
        ref = dict(updated["spec"].get("claimRef") or {})
        ref.pop("uid", None)
        updated["spec"]["claimRef"] = ref
    stored = await client.update(PERSISTENT_VOLUMES, None, _named(updated, "PersistentVolume"))
    await set_volume_phase(client, stored, "Available")
