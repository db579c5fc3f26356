"""Storage admission: the default StorageClass for new claims, and the protection finalizers.

Two of upstream's admission plugins shape every new PersistentVolumeClaim and PersistentVolume:

- ``DefaultStorageClass``: a claim created without ``spec.storageClassName`` (nor the old
  ``volume.beta.kubernetes.io/storage-class`` annotation) gets the default class's name —
  the class annotated ``storageclass.kubernetes.io/is-default-class: "true"``, the newest if
  several are. An explicit ``""`` means "no class, bind only to a volume without one" and is
  kept. Without a default class the claim is left as it is (the binder gives it the default
  later, should one appear).
- ``StorageObjectInUseProtection``: ``kubernetes.io/pvc-protection`` on every new claim and
  ``kubernetes.io/pv-protection`` on every new volume, so deleting one that is in use only
  marks it until the protection controllers (``controllers/pvprotection.py``) let it go.

``add_protection_finalizer`` needs nothing but the object (the admission chain calls it with
the other defaults); ``admit_claim`` reads the StorageClasses, so the storage layer awaits it
before the chain, as it does for the ServiceAccount plugin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from minikube_py.api.resources import ResourceType
from minikube_py.api.volumematching import default_class
from minikube_py.apiserver.listing import ListOptions

if TYPE_CHECKING:  # the storage calls this module, so only its type is imported
    from minikube_py.apiserver.storage import Storage

Object = dict[str, Any]
PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"
BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
_FINALIZERS = {"persistentvolumeclaims": PVC_PROTECTION, "persistentvolumes": PV_PROTECTION}


def applies(rt: ResourceType) -> bool:
    """Claims: the default-class plugin reads other objects for them."""
    return rt.group == "" and rt.plural == "persistentvolumeclaims"


def add_protection_finalizer(rt: ResourceType, obj: Object) -> None:
    """A new claim or volume gets its protection finalizer (once)."""
    if rt.group != "" or rt.plural not in _FINALIZERS:
        return
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        return
    finalizer = _FINALIZERS[rt.plural]
    finalizers = metadata.get("finalizers")
    if not isinstance(finalizers, list):
        finalizers = []
    if finalizer not in finalizers:
        metadata["finalizers"] = [*finalizers, finalizer]


async def admit_claim(storage: Storage, body: Any) -> None:
    """Set a new claim's class to the default one if it names none; a body that is not a
    claim is left for validation to refuse."""
    if not isinstance(body, dict) or not isinstance(body.get("spec"), dict):
        return
    if body["spec"].get("storageClassName") is not None:
        return  # a class, or "" on purpose
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and BETA_CLASS_ANNOTATION in (metadata.get("annotations") or {}):
        return
    rt = storage.registry.get("storage.k8s.io", "v1", "storageclasses")
    if rt is None:
        return
    classes = (await storage.list(rt, None, ListOptions()))["items"]
    default = default_class(classes)
    if default is not None:
        body["spec"]["storageClassName"] = default["metadata"]["name"]
