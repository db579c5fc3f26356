"""``persistentVolumeClaim`` volumes: a pod's claim, resolved to the directory of its volume.

A pod does not name storage directly; it names a claim, and the claim is bound (by the binder
or through the scheduler) to a PersistentVolume. Like upstream's volume manager
(``desired_state_of_world_populator.go``), the kubelet follows the chain before the pod's
containers start:

1. the claim, from the API server, in the pod's namespace; a claim being deleted is refused
   (its protection finalizer keeps it only for pods already using it);
2. it must be ``Bound`` and name its volume (``spec.volumeName``);
3. the volume must point back at this claim (``claimRef.uid``);
4. the volume's ``hostPath.path`` or ``local.path`` is the directory the containers mount —
   the same directory for every pod that uses the claim, so what one pod writes the next one
   reads. A ``hostPath`` of type ``""`` or ``DirectoryOrCreate`` is made if missing, a
   ``local`` path must exist (upstream's rules); other volume sources (NFS, CSI …) have no
   driver here, but a ``hostPath`` may point at any directory mounted on the host.

Any step that fails raises ``VolumeError``; the kubelet reports it as ``FailedMount`` and tries
again, so a pod whose claim binds a moment later starts then.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from minikube_py.client.protocol import (
    PERSISTENT_VOLUME_CLAIMS,
    PERSISTENT_VOLUMES,
    ApiError,
    Client,
)
from minikube_py.kubelet.projected import VolumeError

Object = dict[str, Any]
_CREATE_IF_MISSING = ("", "DirectoryOrCreate")


def claim_volumes(pod: Object) -> list[tuple[str, str, bool]]:
    """(volume name, claim name, read-only) of the pod's claim volumes."""
    found = []
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        source = volume.get("persistentVolumeClaim") if isinstance(volume, dict) else None
        if isinstance(source, dict) and isinstance(volume.get("name"), str):
            found.append(
                (volume["name"], str(source.get("claimName") or ""), bool(source.get("readOnly")))
            )
    return found


async def resolve_claims(client: Client, pod: Object) -> dict[str, Path]:
    """Volume name → host directory for each claim volume of ``pod``."""
    namespace = str(pod["metadata"].get("namespace") or "default")
    resolved = {}
    for volume_name, claim_name, _read_only in claim_volumes(pod):
        path = await _directory(client, namespace, claim_name)
        resolved[volume_name] = path
    return resolved


async def _directory(client: Client, namespace: str, name: str) -> Path:
    key = f"{namespace}/{name}"
    prefix = f"error processing PVC {key}"
    try:
        claim = await client.get(PERSISTENT_VOLUME_CLAIMS, namespace, name)
    except ApiError as error:
        raise VolumeError(f"{prefix}: failed to fetch PVC from API server: {error}") from None
    if claim["metadata"].get("deletionTimestamp"):
        raise VolumeError(f"{prefix}: can't start pod because PVC {key} is being deleted")
    phase = (claim.get("status") or {}).get("phase") or ""
    volume_name = (claim.get("spec") or {}).get("volumeName") or ""
    if phase != "Bound" or not volume_name:
        raise VolumeError(
            f'{prefix}: PVC {key} has non-bound phase ("{phase}") or empty '
            f'pvc.Spec.VolumeName ("{volume_name}")'
        )
    try:
        volume = await client.get(PERSISTENT_VOLUMES, None, volume_name)
    except ApiError as error:
        raise VolumeError(
            f"{prefix}: failed to fetch PV {volume_name} from API server: {error}"
        ) from None
    uid = ((volume.get("spec") or {}).get("claimRef") or {}).get("uid")
    if uid != claim["metadata"].get("uid"):
        raise VolumeError(
            f"{prefix}: found PV object {volume_name} but its ClaimRef.UID ({uid}) points to "
            f"a different PVC ({claim['metadata'].get('uid')})"
        )
    return await _source_path(volume)


async def _source_path(volume: Object) -> Path:
    spec, name = volume.get("spec") or {}, volume["metadata"]["name"]
    if isinstance(spec.get("hostPath"), dict):
        path = Path(str(spec["hostPath"].get("path") or ""))
        kind = str(spec["hostPath"].get("type") or "")
        if kind in _CREATE_IF_MISSING:
            await asyncio.to_thread(path.mkdir, parents=True, exist_ok=True)
        elif not await asyncio.to_thread(path.is_dir):
            raise VolumeError(
                f'MountVolume.SetUp failed for volume "{name}" : hostPath type check failed: '
                f"{path} is not a directory"
            )
        return path
    if isinstance(spec.get("local"), dict):
        path = Path(str(spec["local"].get("path") or ""))
        if not await asyncio.to_thread(path.exists):
            raise VolumeError(
                f'MountVolume.NewMounter initialization failed for volume "{name}" : '
                f'path "{path}" does not exist'
            )
        return path
    raise VolumeError(
        f'MountVolume.SetUp failed for volume "{name}" : this node has no driver for the '
        "volume's source (only hostPath and local volumes are supported)"
    )


def read_only_claims(pod: Object) -> frozenset[str]:
    """Names of the pod's claim volumes marked ``readOnly``: every mount of them is."""
    return frozenset(name for name, _claim, read_only in claim_volumes(pod) if read_only)
