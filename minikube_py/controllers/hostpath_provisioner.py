"""minikube's storage provisioner: a directory on the host for every claim of class ``standard``.

Dynamic provisioning means a claim needs no administrator: its StorageClass names a
*provisioner*, a program that makes a volume for it. minikube ships one, ``storage-provisioner``
(provisioner name ``k8s.io/minikube-hostpath``), together with the default class ``standard``;
this is its counterpart, an API client like the others that also works on the host's file
system, as minikube's does on its node:

- **the class**: at start it makes sure ``standard`` exists — the default class
  (``storageclass.kubernetes.io/is-default-class: "true"``), ``reclaimPolicy: Delete``,
  ``volumeBindingMode: Immediate``, as minikube's ``default-storageclass`` addon makes it;
- **provisioning**: a claim the binder handed to ``k8s.io/minikube-hostpath`` (its
  ``volume.kubernetes.io/storage-provisioner`` annotation), not bound yet, of a class with this
  provisioner — and, for ``WaitForFirstConsumer`` classes, once the scheduler chose a node
  (``volume.kubernetes.io/selected-node``) — gets the directory ``<root>/<namespace>/<claim>``
  (mode 0777, so any pod's user may write) and a PersistentVolume ``pvc-<claim uid>``:
  ``hostPath`` on that directory, the claim's access modes and requested size, the class's
  reclaim policy, a ``claimRef`` to the claim and ``pv.kubernetes.io/provisioned-by``. The
  binder then completes the binding. Events ``Provisioning`` and ``ProvisioningSucceeded`` on
  the claim, as the provisioner library upstream writes them;
- **deleting**: a volume it made, ``Released`` with policy ``Delete``, loses its directory
  and then its PersistentVolume object. ``Retain`` keeps both.

The directory is named by claim, as minikube names it, so a claim made again under the same
name after a ``Retain`` finds the old files. Every node of this cluster runs on one host, so a
volume here is usable from any node and needs no node affinity.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from minikube_py.api.volumematching import claim_class
from minikube_py.client.events import EventRecorder
from minikube_py.client.protocol import PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES, Client
from minikube_py.clock import Clock
from minikube_py.controllers.controller import Controller
from minikube_py.controllers.informers import SharedInformers
from minikube_py.controllers.persistentvolume import STORAGE_CLASSES
from minikube_py.controllers.persistentvolume_binding import (
    PROVISIONED_BY,
    SELECTED_NODE,
    STORAGE_PROVISIONER,
    annotations_of,
    claim_reference,
)

Object = dict[str, Any]
PROVISIONER = "k8s.io/minikube-hostpath"
DEFAULT_CLASS = "standard"
IDENTITY_ANNOTATION = "hostPathProvisionerIdentity"  # minikube's mark on the volumes it made
_CLAIM, _VOLUME = "claim:", "volume:"


def standard_class() -> Object:
    """The StorageClass minikube's ``default-storageclass`` addon creates."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": DEFAULT_CLASS,
            "labels": {"addonmanager.kubernetes.io/mode": "EnsureExists"},
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": PROVISIONER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
    }


class HostPathProvisioner(Controller):
    """Provisions ``hostPath`` volumes under ``root`` for claims of its classes."""

    name = "storage-provisioner"
    workers = 1

    def __init__(
        self, client: Client, *, root: Path, clock: Clock | None = None, identity: str = ""
    ) -> None:
        super().__init__(client, clock=clock)
        self.root = Path(root)
        self.identity = identity or "minikube"
        # the provisioner library's event source: <provisioner>_<host>_<unique id>
        self.component = f"{PROVISIONER}_{self.identity}_{uuid.uuid4()}"
        self.recorder = EventRecorder(client, self.component)

    def wire(self, informers: SharedInformers) -> None:
        self.claims = informers.get(PERSISTENT_VOLUME_CLAIMS)
        self.volumes = informers.get(PERSISTENT_VOLUMES)
        self.classes = informers.get(STORAGE_CLASSES)
        self.watch(self.claims, lambda claim: _CLAIM + _key(claim))
        self.watch(self.volumes, lambda volume: _VOLUME + volume["metadata"]["name"])

    async def run_workers(self) -> None:
        await self.ensure_default_class()
        await super().run_workers()

    async def ensure_default_class(self) -> None:
        """Create ``standard`` unless a class of that name exists (the user's wins)."""
        try:
            await self.client.create(STORAGE_CLASSES, None, standard_class())
            self.log.info("default storage class created", storage_class=DEFAULT_CLASS)
        except Exception as error:  # AlreadyExists most likely; anything else is logged
            if getattr(error, "code", None) != 409:
                self.log.warning("cannot create the default storage class", error=str(error))

    async def reconcile(self, key: str) -> float | None:
        if key.startswith(_VOLUME):
            volume = self.volumes.get(key.removeprefix(_VOLUME))
            if volume is not None and self._should_delete(volume):
                await self._delete(volume)
            return None
        claim = self.claims.get(key.removeprefix(_CLAIM))
        if claim is not None and self._should_provision(claim):
            await self._provision(claim)
        return None

    # -- provisioning -----------------------------------------------------------------------

    def _should_provision(self, claim: Object) -> bool:
        if (claim.get("spec") or {}).get("volumeName"):
            return False
        if claim["metadata"].get("deletionTimestamp"):
            return False
        if annotations_of(claim).get(STORAGE_PROVISIONER) != PROVISIONER:
            return False
        storage_class = self.classes.get(claim_class(claim))
        if storage_class is None or storage_class.get("provisioner") != PROVISIONER:
            return False
        delayed = storage_class.get("volumeBindingMode") == "WaitForFirstConsumer"
        if delayed and not annotations_of(claim).get(SELECTED_NODE):
            return False  # the scheduler has not chosen a node yet
        return self.volumes.get(volume_name(claim)) is None  # made already

    async def _provision(self, claim: Object) -> None:
        key = _key(claim)
        await self.recorder.record(
            claim,
            reason="Provisioning",
            message=f'External provisioner is provisioning volume for claim "{key}"',
        )
        storage_class = self.classes.get(claim_class(claim)) or {}
        directory = self.root / claim["metadata"]["namespace"] / claim["metadata"]["name"]
        await asyncio.to_thread(_make_directory, directory)
        spec = claim.get("spec") or {}
        size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "0")
        volume: Object = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {
                "name": volume_name(claim),
                "annotations": {
                    PROVISIONED_BY: PROVISIONER,
                    IDENTITY_ANNOTATION: self.identity,
                },
            },
            "spec": {
                "accessModes": list(spec.get("accessModes") or []),
                "capacity": {"storage": size},
                "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy") or "Delete",
                "storageClassName": claim_class(claim),
                "volumeMode": spec.get("volumeMode") or "Filesystem",
                "claimRef": claim_reference(claim),
                "hostPath": {"path": str(directory), "type": ""},
            },
        }
        if options := storage_class.get("mountOptions"):
            volume["spec"]["mountOptions"] = list(options)
        try:
            await self.client.create(PERSISTENT_VOLUMES, None, volume)
        except Exception as error:
            if getattr(error, "code", None) == 409:
                return  # made by an earlier try the cache had not seen yet
            message = f'failed to provision volume with StorageClass "{claim_class(claim)}": '
            await self.recorder.record(
                claim, reason="ProvisioningFailed", message=message + str(error), warning=True
            )
            raise
        self.log.info("volume provisioned", claim=key, path=str(directory))
        await self.recorder.record(
            claim,
            reason="ProvisioningSucceeded",
            message=f"Successfully provisioned volume {volume_name(claim)}",
        )

    # -- deleting ---------------------------------------------------------------------------

    def _should_delete(self, volume: Object) -> bool:
        return (
            annotations_of(volume).get(PROVISIONED_BY) == PROVISIONER
            and (volume.get("status") or {}).get("phase") == "Released"
            and (volume.get("spec") or {}).get("persistentVolumeReclaimPolicy") == "Delete"
        )

    async def _delete(self, volume: Object) -> None:
        name = volume["metadata"]["name"]
        path = (volume["spec"].get("hostPath") or {}).get("path")
        if path and self._ours(Path(path)):
            await asyncio.to_thread(shutil.rmtree, path, True)
        else:
            self.log.warning("not removing a path outside the root", volume=name, path=path)
        try:
            await self.client.delete(PERSISTENT_VOLUMES, None, name)
        except Exception as error:
            if getattr(error, "code", None) != 404:
                raise
        self.log.info("volume deleted", volume=name, path=path)

    def _ours(self, path: Path) -> bool:
        """Only directories under the root are ever removed, whatever a volume says."""
        try:
            return path.resolve().is_relative_to(self.root.resolve()) and path != self.root
        except OSError:
            return False


def volume_name(claim: Object) -> str:
    return f"pvc-{claim['metadata']['uid']}"


def _key(obj: Object) -> str:
    return f"{obj['metadata'].get('namespace')}/{obj['metadata'].get('name')}"


def _make_directory(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o777)  # any pod's user must be able to write, as on minikube
