"""Running the storage controllers against the test API server, and small object builders."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from minikube_py.client import ApiError, Client
from minikube_py.client.protocol import EVENTS, PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES
from minikube_py.controllers import ControllerManager
from minikube_py.controllers.controller import Controller
from minikube_py.controllers.hostpath_provisioner import HostPathProvisioner
from minikube_py.controllers.persistentvolume import PersistentVolumeController
from minikube_py.controllers.pvprotection import PVCProtectionController, PVProtectionController

Object = dict[str, Any]


@contextlib.asynccontextmanager
async def storage_controllers(
    client: Client, root: Path | None = None
) -> AsyncIterator[list[Controller]]:
    """The binder, both protection controllers and (with ``root``) the provisioner."""
    controllers: list[Controller] = [
        PersistentVolumeController(client),
        PVCProtectionController(client),
        PVProtectionController(client),
    ]
    if root is not None:
        controllers.append(HostPathProvisioner(client, root=root))
    task = asyncio.ensure_future(ControllerManager(client, controllers).run())
    try:
        yield controllers
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def volume(
    name: str,
    size: str = "1Gi",
    *,
    modes: tuple[str, ...] = ("ReadWriteOnce",),
    storage_class: str = "",
    path: str = "/srv/volumes/x",
    policy: str = "Retain",
    labels: dict[str, str] | None = None,
    claim: tuple[str, str] | None = None,
    source: Object | None = None,
) -> Object:
    spec: Object = {
        "capacity": {"storage": size},
        "accessModes": list(modes),
        "persistentVolumeReclaimPolicy": policy,
        **(source or {"hostPath": {"path": path}}),
    }
    if storage_class:
        spec["storageClassName"] = storage_class
    if claim:
        spec["claimRef"] = {"namespace": claim[0], "name": claim[1]}
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": spec,
    }


def claim(
    name: str,
    size: str = "1Gi",
    *,
    modes: tuple[str, ...] = ("ReadWriteOnce",),
    storage_class: str | None = "",
    volume_name: str = "",
    selector: Object | None = None,
) -> Object:
    spec: Object = {"accessModes": list(modes), "resources": {"requests": {"storage": size}}}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    if volume_name:
        spec["volumeName"] = volume_name
    if selector is not None:
        spec["selector"] = selector
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name},
        "spec": spec,
    }


async def get_claim(client: Client, name: str, namespace: str = "default") -> Object | None:
    try:
        return await client.get(PERSISTENT_VOLUME_CLAIMS, namespace, name)
    except ApiError as error:
        assert error.code == 404
        return None


async def get_volume(client: Client, name: str) -> Object | None:
    try:
        return await client.get(PERSISTENT_VOLUMES, None, name)
    except ApiError as error:
        assert error.code == 404
        return None


async def phase_of_claim(client: Client, name: str) -> str | None:
    found = await get_claim(client, name)
    return None if found is None else (found.get("status") or {}).get("phase")


async def phase_of_volume(client: Client, name: str) -> str | None:
    found = await get_volume(client, name)
    return None if found is None else (found.get("status") or {}).get("phase")


async def events_of(client: Client, name: str, namespace: str = "default") -> list[tuple[str, str]]:
    """(reason, message) of the Events about the object called ``name``."""
    items = (await client.list(EVENTS, namespace))["items"]
    return [
        (event["reason"], event["message"])
        for event in items
        if event["involvedObject"].get("name") == name
    ]
