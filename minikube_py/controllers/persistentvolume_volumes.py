"""The binder's decisions for one PersistentVolume (upstream's ``syncVolume``), and reclaiming.

- No ``claimRef``, or one without a uid (reserved for a claim that has not bound yet): the
  volume is ``Available``.
- Its claim exists and names it: ``Bound``. Its claim exists but names no volume yet: the
  claim's sync finishes the binding (it is queued). Its claim is bound elsewhere: a volume the
  binder chose is freed again; a provisioned one with ``Delete`` is released for deletion.
- Its claim is gone (or a new claim has its name but not its uid): the volume is
  ``Released`` and its ``persistentVolumeReclaimPolicy`` runs:

  * ``Retain``: nothing more. The data and the volume stay for an administrator, who deletes
    the volume or removes its ``claimRef`` to offer it again;
  * ``Delete``: a volume a provisioner made (``pv.kubernetes.io/provisioned-by`` not an
    in-tree ``kubernetes.io/`` one) is that provisioner's to delete. Others are deleted by
    upstream's in-tree plugins; the only deleter here is upstream's ``hostPath`` one, which
    removes paths under ``/tmp/`` and refuses others; any other volume has no deleter. A
    failure marks the volume ``Failed`` with a ``VolumeFailedDelete`` event, upstream's words;
  * ``Recycle`` (deprecated upstream): no recycler here, so ``Failed``.

"Remote storage" needs nothing special: a ``hostPath`` or ``local`` volume may point at any
mounted directory (an NFS or SSHFS mount on the host), and pods using it see that mount.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from typing import TYPE_CHECKING, Any

from minikube_py.client.protocol import PERSISTENT_VOLUMES, ApiError
from minikube_py.controllers.persistentvolume_binding import (
    PROVISIONED_BY,
    annotations_of,
    set_volume_phase,
    unbind_volume,
)

if TYPE_CHECKING:
    from minikube_py.controllers.persistentvolume import PersistentVolumeController

Object = dict[str, Any]
_DELETABLE_HOST_PATH = re.compile(r"^/tmp/.+")  # upstream's hostPath deleter's only paths


async def sync_volume(ctl: PersistentVolumeController, volume: Object) -> None:
    ref = (volume.get("spec") or {}).get("claimRef")
    if not ref or not ref.get("uid"):
        await set_volume_phase(ctl.client, volume, "Available")
        return
    claim = ctl.claims.get(f"{ref.get('namespace')}/{ref.get('name')}")
    if claim is not None and claim["metadata"].get("uid") != ref.get("uid"):
        claim = None  # the claim was deleted and another made under its name
    if claim is None:
        released = (volume.get("status") or {}).get("phase") in ("Released", "Failed")
        if released or not await ctl.claim_exists(ref):
            await _released(ctl, volume)
        return
    claimed_volume = (claim.get("spec") or {}).get("volumeName") or ""
    if not claimed_volume:
        ctl.enqueue_claim(claim)  # half-bound: the claim's sync completes it
    elif claimed_volume == volume["metadata"]["name"]:
        await set_volume_phase(ctl.client, volume, "Bound")
    elif (volume["spec"].get("persistentVolumeReclaimPolicy") == "Delete") and annotations_of(
        volume
    ).get(PROVISIONED_BY):
        await _released(ctl, volume)  # made for a claim that bound elsewhere: not needed
    else:
        # chosen by the binder: freed again; pre-bound by an administrator: keeps its
        # claimRef without the uid, reserved until that claim lets go of the other volume
        await unbind_volume(ctl.client, volume)


async def _released(ctl: PersistentVolumeController, volume: Object) -> None:
    phase = (volume.get("status") or {}).get("phase")
    if phase not in ("Released", "Failed"):
        ctl.log.info(
            "volume is released and reclaim policy will be executed",
            volume=volume["metadata"]["name"],
            policy=volume["spec"].get("persistentVolumeReclaimPolicy"),
        )
        volume = await set_volume_phase(ctl.client, volume, "Released")
    await _reclaim(ctl, volume)


async def _reclaim(ctl: PersistentVolumeController, volume: Object) -> None:
    policy = volume["spec"].get("persistentVolumeReclaimPolicy") or "Retain"
    if policy == "Retain":
        return
    if policy == "Recycle":
        await _failed(
            ctl, volume, "VolumeFailedRecycle", "No recycler plugin found for the volume!"
        )
        return
    if policy != "Delete":
        message = "Volume has unrecognized PersistentVolumeReclaimPolicy"
        await _failed(ctl, volume, "VolumeUnknownReclaimPolicy", message)
        return
    if (volume.get("status") or {}).get("phase") == "Failed":
        return  # reported; an administrator must look (upstream retries, to the same end)
    provisioner = annotations_of(volume).get(PROVISIONED_BY) or ""
    if provisioner and not provisioner.startswith("kubernetes.io/"):
        return  # an external provisioner's volume: it deletes it
    name = volume["metadata"]["name"]
    host_path = (volume["spec"].get("hostPath") or {}).get("path")
    if host_path is None:
        message = f'error getting deleter volume plugin for volume "{name}": ' + (
            "no deletable volume plugin matched"
        )
        await _failed(ctl, volume, "VolumeFailedDelete", message)
        return
    if not _DELETABLE_HOST_PATH.match(str(host_path)):
        message = (
            f'failed to create deleter for volume "{name}": host_path deleter only supports '
            f"/tmp/.+ but received provided {host_path}"
        )
        await _failed(ctl, volume, "VolumeFailedDelete", message)
        return
    try:
        await asyncio.to_thread(shutil.rmtree, str(host_path), ignore_errors=False)
    except FileNotFoundError:
        pass  # already gone: deleted is deleted
    except OSError as error:
        await _failed(ctl, volume, "VolumeFailedDelete", str(error))
        return
    ctl.log.info("volume deleted", volume=name, path=host_path)
    try:
        await ctl.client.delete(PERSISTENT_VOLUMES, None, name)
    except ApiError as error:
        if error.code != 404:
            raise


async def _failed(ctl: PersistentVolumeController, volume: Object, reason: str, text: str) -> None:
    if (volume.get("status") or {}).get("phase") != "Failed":
        await ctl.recorder.record(volume, reason=reason, message=text, warning=True)
    await set_volume_phase(ctl.client, volume, "Failed", text)
