"""Printer columns of the storage kinds: volumes, claims, storage classes, CSI objects.

A volume's row says what it offers and to whom it belongs: CAPACITY, ACCESS MODES (written
``RWO,ROX``), RECLAIM POLICY, STATUS (``Terminating`` once a delete has begun) and CLAIM
(``namespace/name``). A claim shows its volume's capacity and modes only once bound. The
default storage class is printed ``standard (default)``.
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.printers import (
    AGE,
    NAME,
    Obj,
    dig,
    items,
    mapping,
    name,
    text,
)
from minikube_py.api.resources import CellFunction, Column

_MODES = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)


def access_modes(modes: list[Any]) -> str:
    """``GetAccessModesAsString``: short forms in a fixed order, duplicates dropped."""
    return ",".join(short for mode, short in _MODES if mode in modes)


def _storage_class(obj: Obj) -> str:
    # The beta annotation predates spec.storageClassName and still wins when present.
    beta = mapping(obj, "metadata", "annotations").get("volume.beta.kubernetes.io/storage-class")
    return str(beta) if beta is not None else text(obj, "spec", "storageClassName")


def _phase(obj: Obj) -> str:
    if dig(obj, "metadata", "deletionTimestamp") is not None:
        return "Terminating"
    return text(obj, "status", "phase")


def _unset(*path: str) -> CellFunction:
    return lambda obj: text(obj, *path, default="<unset>")


def _pv_claim(pv: Obj) -> str:
    ref = dig(pv, "spec", "claimRef")
    return "" if ref is None else f"{text(ref, 'namespace')}/{text(ref, 'name')}"


PV_COLUMNS = (
    NAME,
    Column(
        "Capacity",
        description="capacity is the description of the persistent volume's "
        "resources and capacity.",
        cell=lambda pv: text(pv, "spec", "capacity", "storage", default="0"),
    ),
    Column(
        "Access Modes",
        description="accessModes contains all ways the volume can be mounted.",
        cell=lambda pv: access_modes(items(pv, "spec", "accessModes")),
    ),
    Column(
        "Reclaim Policy",
        description="persistentVolumeReclaimPolicy defines what happens to "
        "a persistent volume when released from its claim.",
        cell=lambda pv: text(pv, "spec", "persistentVolumeReclaimPolicy"),
    ),
    Column(
        "Status",
        description="phase indicates if a volume is available, bound to a claim, "
        "or released by a claim.",
        cell=_phase,
    ),
    Column(
        "Claim",
        description="claimRef is part of a bi-directional binding between "
        "PersistentVolume and PersistentVolumeClaim.",
        cell=_pv_claim,
    ),
    Column("StorageClass", description="StorageClass of the pv", cell=_storage_class),
    Column(
        "VolumeAttributesClass",
        description="VolumeAttributesClass of the pv",
        cell=_unset("spec", "volumeAttributesClassName"),
    ),
    Column(
        "Reason",
        description="reason is a brief CamelCase string that describes any failure.",
        cell=lambda pv: text(pv, "status", "reason"),
    ),
    AGE,
    Column(
        "VolumeMode",
        priority=1,
        description="volumeMode defines if a volume is intended to "
        "be used with a formatted filesystem or to remain in raw block state.",
        cell=_unset("spec", "volumeMode"),
    ),
)


def _bound(pvc: Obj) -> bool:
    # Capacity and access modes are the volume's, so they show only once a volume is bound.
    return bool(text(pvc, "spec", "volumeName"))


PVC_COLUMNS = (
    NAME,
    Column(
        "Status",
        description="phase represents the current phase of PersistentVolumeClaim.",
        cell=_phase,
    ),
    Column(
        "Volume",
        description="volumeName is the binding reference to the PersistentVolume "
        "backing this claim.",
        cell=lambda pvc: text(pvc, "spec", "volumeName"),
    ),
    Column(
        "Capacity",
        description="capacity represents the actual resources of the underlying volume.",
        cell=lambda pvc: (
            text(pvc, "status", "capacity", "storage", default="0") if _bound(pvc) else ""
        ),
    ),
    Column(
        "Access Modes",
        description="accessModes contains the actual access modes the volume backing the PVC has.",
        cell=lambda pvc: access_modes(items(pvc, "status", "accessModes")) if _bound(pvc) else "",
    ),
    Column("StorageClass", description="StorageClass of the pvc", cell=_storage_class),
    Column(
        "VolumeAttributesClass",
        description="VolumeAttributesClass of the pvc",
        cell=_unset("spec", "volumeAttributesClassName"),
    ),
    AGE,
    Column(
        "VolumeMode",
        priority=1,
        description="volumeMode defines what type of volume is required by the claim.",
        cell=_unset("spec", "volumeMode"),
    ),
)


def _storage_class_name(sc: Obj) -> str:
    annotations = mapping(sc, "metadata", "annotations")
    default = any(
        annotations.get(key) == "true"
        for key in (
            "storageclass.kubernetes.io/is-default-class",
            "storageclass.beta.kubernetes.io/is-default-class",
        )
    )
    return name(sc) + (" (default)" if default else "")


def _flag(*path: str, default: bool) -> CellFunction:
    return lambda obj: dig(obj, *path) if isinstance(dig(obj, *path), bool) else default


STORAGECLASS_COLUMNS = (
    Column("Name", format="name", description=NAME.description, cell=_storage_class_name),
    Column(
        "Provisioner",
        description="provisioner indicates the type of the provisioner.",
        cell=lambda sc: text(sc, "provisioner"),
    ),
    Column(
        "ReclaimPolicy",
        description="reclaimPolicy controls the reclaimPolicy for "
        "dynamically provisioned PersistentVolumes of this storage class.",
        cell=lambda sc: text(sc, "reclaimPolicy", default="Delete"),
    ),
    Column(
        "VolumeBindingMode",
        description="volumeBindingMode indicates how "
        "PersistentVolumeClaims should be provisioned and bound.",
        cell=lambda sc: text(sc, "volumeBindingMode", default="Immediate"),
    ),
    Column(
        "AllowVolumeExpansion",
        description="allowVolumeExpansion shows whether the storage class allow volume expand.",
        cell=_flag("allowVolumeExpansion", default=False),
    ),
    AGE,
)


def _token_requests(driver: Obj) -> str:
    requests = dig(driver, "spec", "tokenRequests")
    if not isinstance(requests, list):
        return "<unset>"
    return ",".join(text(r, "audience") for r in requests)


CSIDRIVER_COLUMNS = (
    NAME,
    Column(
        "AttachRequired",
        type="boolean",
        description="attachRequired indicates this CSI volume driver requires an attach operation.",
        cell=_flag("spec", "attachRequired", default=True),
    ),
    Column(
        "PodInfoOnMount",
        type="boolean",
        description="podInfoOnMount indicates this CSI "
        "volume driver requires additional pod information during mount operations.",
        cell=_flag("spec", "podInfoOnMount", default=False),
    ),
    Column(
        "StorageCapacity",
        type="boolean",
        description="storageCapacity indicates that the "
        "CSI volume driver wants pod scheduling to consider the storage capacity.",
        cell=_flag("spec", "storageCapacity", default=False),
    ),
    Column(
        "TokenRequests",
        description="tokenRequests indicates the CSI driver needs pods' "
        "service account tokens it is mounting volume for.",
        cell=_token_requests,
    ),
    Column(
        "RequiresRepublish",
        type="boolean",
        description="requiresRepublish indicates the CSI "
        "driver wants NodePublishVolume being periodically called.",
        cell=_flag("spec", "requiresRepublish", default=False),
    ),
    Column(
        "Modes",
        description="volumeLifecycleModes defines what kind of volumes this CSI "
        "volume driver supports.",
        cell=lambda d: (
            ",".join(str(m) for m in items(d, "spec", "volumeLifecycleModes")) or "<none>"
        ),
    ),
    AGE,
)
CSINODE_COLUMNS = (
    NAME,
    Column(
        "Drivers",
        type="integer",
        description="Drivers indicates the number of CSI drivers registered on the node",
        cell=lambda n: len(items(n, "spec", "drivers")),
    ),
    AGE,
)
VOLUMEATTACHMENT_COLUMNS = (
    NAME,
    # Upstream marks this column as a name column too; kept for fidelity.
    Column(
        "Attacher",
        format="name",
        description="attacher indicates the name of the volume "
        "driver that MUST handle this request.",
        cell=lambda va: text(va, "spec", "attacher"),
    ),
    Column(
        "PV",
        description="persistentVolumeName represents the name of the persistent volume to attach.",
        cell=lambda va: text(va, "spec", "source", "persistentVolumeName"),
    ),
    Column(
        "Node",
        description="nodeName represents the node that the volume should be attached to.",
        cell=lambda va: text(va, "spec", "nodeName"),
    ),
    Column(
        "Attached",
        type="boolean",
        description="attached indicates the volume is successfully attached.",
        cell=_flag("status", "attached", default=False),
    ),
    AGE,
)
