"""The hostpath provisioner: the ``standard`` class, a directory and a PV per claim, deletion."""

from __future__ import annotations

import asyncio
import shutil
import stat
import tempfile
from pathlib import Path

from minikube_py.client import Client
from minikube_py.client.protocol import PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES
from minikube_py.controllers.hostpath_provisioner import HostPathProvisioner
from minikube_py.controllers.persistentvolume import STORAGE_CLASSES
from tests.controllers.stepping import eventually
from tests.controllers.storage_harness import (
    claim,
    events_of,
    get_claim,
    get_volume,
    phase_of_claim,
    phase_of_volume,
    storage_controllers,
    volume,
)

EXTERNAL = (
    "Waiting for a volume to be created either by the external provisioner "
    "'k8s.io/minikube-hostpath' or manually by the system administrator. If volume creation "
    "is delayed, please verify that the provisioner is running and correctly registered."
)


async def _equals(awaitable: object, wanted: object) -> bool:
    return bool(await awaitable == wanted)  # type: ignore[misc]


async def _has(awaitable: object, wanted: object) -> bool:
    return wanted in await awaitable  # type: ignore[misc]


async def _reasons(client: Client, name: str) -> list[str]:
    return [reason for reason, _message in await events_of(client, name)]


def storage_class(
    name: str, *, policy: str = "Delete", mode: str = "Immediate"
) -> dict[str, object]:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name},
        "provisioner": "k8s.io/minikube-hostpath",
        "reclaimPolicy": policy,
        "volumeBindingMode": mode,
    }


async def test_the_standard_class_is_made_once(client: Client, tmp_path: Path) -> None:
    provisioner = HostPathProvisioner(client, root=tmp_path)
    await provisioner.ensure_default_class()
    made = await client.get(STORAGE_CLASSES, None, "standard")
    assert made["provisioner"] == "k8s.io/minikube-hostpath"
    assert made["reclaimPolicy"] == "Delete"
    assert made["volumeBindingMode"] == "Immediate"
    assert made["metadata"]["annotations"] == {
        "storageclass.kubernetes.io/is-default-class": "true"
    }
    await client.patch(STORAGE_CLASSES, None, "standard", {"metadata": {"labels": {"mine": "1"}}})
    await provisioner.ensure_default_class()  # an existing class is left as the user has it
    again = await client.get(STORAGE_CLASSES, None, "standard")
    assert again["metadata"]["labels"]["mine"] == "1"


async def test_a_claim_of_standard_gets_a_directory_and_a_volume(
    client: Client, tmp_path: Path
) -> None:
    root = tmp_path / "hostpath-provisioner"
    async with storage_controllers(client, root):
        await eventually(lambda: _class_exists(client, "standard"), "the standard class")
        await client.create(
            PERSISTENT_VOLUME_CLAIMS, "default", claim("data", "3Gi", storage_class="standard")
        )
        await eventually(lambda: _equals(phase_of_claim(client, "data"), "Bound"), "bound")
        pvc = await get_claim(client, "data")
        assert pvc is not None
        name = f"pvc-{pvc['metadata']['uid']}"
        assert pvc["spec"]["volumeName"] == name
        marks = pvc["metadata"]["annotations"]
        assert marks["volume.kubernetes.io/storage-provisioner"] == "k8s.io/minikube-hostpath"
        assert marks["volume.beta.kubernetes.io/storage-provisioner"] == "k8s.io/minikube-hostpath"
        pv = await get_volume(client, name)
        assert pv is not None
        directory = root / "default" / "data"
        assert pv["spec"]["hostPath"]["path"] == str(directory)
        assert pv["spec"]["capacity"] == {"storage": "3Gi"}
        assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
        assert pv["spec"]["storageClassName"] == "standard"
        assert pv["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] == (
            "k8s.io/minikube-hostpath"
        )
        assert not pv["metadata"].get("ownerReferences")
        assert directory.is_dir() and stat.S_IMODE(directory.stat().st_mode) == 0o777
        reasons = await _reasons(client, "data")
        assert {"ExternalProvisioning", "Provisioning", "ProvisioningSucceeded"} <= set(reasons)
        assert ("ExternalProvisioning", EXTERNAL) in await events_of(client, "data")
        assert ("ProvisioningSucceeded", f"Successfully provisioned volume {name}") in (
            await events_of(client, "data")
        )
        # Delete: the directory and the volume go with the claim
        (directory / "file").write_text("x")
        await client.delete(PERSISTENT_VOLUME_CLAIMS, "default", "data")
        await eventually(lambda: _equals(get_volume(client, name), None), "the volume deleted")
        assert not directory.exists()


async def _class_exists(client: Client, name: str) -> bool:
    items = (await client.list(STORAGE_CLASSES))["items"]
    return any(item["metadata"]["name"] == name for item in items)


async def test_retain_keeps_directory_and_volume(client: Client, tmp_path: Path) -> None:
    async with storage_controllers(client, tmp_path):
        await client.create(STORAGE_CLASSES, None, storage_class("keep", policy="Retain"))
        await client.create(
            PERSISTENT_VOLUME_CLAIMS, "default", claim("data", storage_class="keep")
        )
        await eventually(lambda: _equals(phase_of_claim(client, "data"), "Bound"), "bound")
        pvc = await get_claim(client, "data")
        assert pvc is not None
        name = pvc["spec"]["volumeName"]
        await client.delete(PERSISTENT_VOLUME_CLAIMS, "default", "data")
        await eventually(lambda: _equals(phase_of_volume(client, name), "Released"), "Released")
        assert (tmp_path / "default" / "data").is_dir()


async def test_wait_for_first_consumer_waits_for_a_node(client: Client, tmp_path: Path) -> None:
    async with storage_controllers(client, tmp_path):
        await client.create(
            STORAGE_CLASSES, None, storage_class("late", mode="WaitForFirstConsumer")
        )
        await client.create(
            PERSISTENT_VOLUME_CLAIMS, "default", claim("data", storage_class="late")
        )
        waiting = (
            "WaitForFirstConsumer",
            "waiting for first consumer to be created before binding",
        )
        await eventually(lambda: _has(events_of(client, "data"), waiting), "WaitForFirstConsumer")
        assert await phase_of_claim(client, "data") == "Pending"
        assert (await client.list(PERSISTENT_VOLUMES))["items"] == []
        # what the scheduler's VolumeBinding plugin writes once it chose a node
        selected = {"metadata": {"annotations": {"volume.kubernetes.io/selected-node": "minikube"}}}
        await client.patch(PERSISTENT_VOLUME_CLAIMS, "default", "data", selected)
        await eventually(lambda: _equals(phase_of_claim(client, "data"), "Bound"), "bound")
        assert (tmp_path / "default" / "data").is_dir()


async def test_a_static_tmp_host_path_is_deleted_as_upstream(client: Client) -> None:
    directory = Path(tempfile.mkdtemp(prefix="minikube-py-pv-", dir="/tmp"))
    try:
        (directory / "file").write_text("x")
        async with storage_controllers(client):
            made = volume("scratch", policy="Delete", path=str(directory))
            await client.create(PERSISTENT_VOLUMES, None, made)
            await client.create(
                PERSISTENT_VOLUME_CLAIMS, "default", claim("a", volume_name="scratch")
            )
            await eventually(lambda: _equals(phase_of_claim(client, "a"), "Bound"), "bound")
            await client.delete(PERSISTENT_VOLUME_CLAIMS, "default", "a")
            await eventually(lambda: _equals(get_volume(client, "scratch"), None), "PV deleted")
            assert not await asyncio.to_thread(directory.exists)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
