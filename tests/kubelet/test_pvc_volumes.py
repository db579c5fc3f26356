"""``persistentVolumeClaim`` volumes: the claim's bound volume is the directory pods mount,
an unbound claim holds the pod back with FailedMount, and data outlives the pod."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from minikube_py.client import PODS, Client
from minikube_py.client.protocol import PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES
from minikube_py.kubelet.claimvolumes import read_only_claims, resolve_claims
from minikube_py.kubelet.projected import VolumeError
from minikube_py.kubelet.volumes import container_mounts
from tests.controllers.storage_harness import claim, storage_controllers, volume
from tests.runtime.process_helpers import no_leftovers  # noqa: F401 - a fixture

from .conftest import Cluster, pod
from .test_kubelet_process import real  # noqa: F401 - a fixture

Object = dict[str, Any]


def pod_with(name: str, claim_name: str, **spec: Any) -> Object:
    source: Object = {"claimName": claim_name}
    if spec.pop("read_only", False):
        source["readOnly"] = True
    made = pod(name, **spec)
    made["spec"]["volumes"] = [{"name": "data", "persistentVolumeClaim": source}]
    for container in made["spec"]["containers"]:
        container["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    return made


async def bind_by_hand(client: Client, claim_name: str, path: Path) -> None:
    """What the binder would do: the volume's claimRef, the claim's volumeName and phase."""
    made = await client.get(PERSISTENT_VOLUME_CLAIMS, "default", claim_name)
    pv = volume(f"pv-{claim_name}", path=str(path))
    pv["spec"]["claimRef"] = {
        "namespace": "default",
        "name": claim_name,
        "uid": made["metadata"]["uid"],
    }
    await client.create(PERSISTENT_VOLUMES, None, pv)
    made["spec"]["volumeName"] = pv["metadata"]["name"]
    made = await client.update(PERSISTENT_VOLUME_CLAIMS, "default", made)
    made["status"] = {"phase": "Bound"}
    await client.update_status(PERSISTENT_VOLUME_CLAIMS, "default", made)


async def test_a_bound_claim_resolves_to_its_volumes_directory(
    client: Client, tmp_path: Path
) -> None:
    await client.create(PERSISTENT_VOLUME_CLAIMS, "default", claim("data"))
    unbound = pod_with("web", "data")
    with pytest.raises(VolumeError) as caught:
        await resolve_claims(client, unbound)
    assert str(caught.value) == (
        'error processing PVC default/data: PVC default/data has non-bound phase ("Pending") '
        'or empty pvc.Spec.VolumeName ("")'
    )
    target = tmp_path / "volume"  # hostPath type "": made if missing
    await bind_by_hand(client, "data", target)
    assert await resolve_claims(client, unbound) == {"data": target}
    assert target.is_dir()
    with pytest.raises(VolumeError, match='persistentvolumeclaims "nothing" not found'):
        await resolve_claims(client, pod_with("web", "nothing"))


async def _bound(client: Client, name: str) -> bool:
    found = await client.get(PERSISTENT_VOLUME_CLAIMS, "default", name)
    return (found.get("status") or {}).get("phase") == "Bound"


def test_a_read_only_claim_makes_every_mount_read_only(tmp_path: Path) -> None:
    made = pod_with("web", "data", read_only=True)
    read_only = read_only_claims(made)
    assert read_only == frozenset({"data"})
    mounts = container_mounts(made["spec"]["containers"][0], {"data": tmp_path}, read_only)
    assert [(m.container_path, m.read_only) for m in mounts] == [("/data", True)]


async def test_an_unbound_claim_holds_the_pod_back_until_bound(
    cluster: Cluster, tmp_path: Path
) -> None:
    await cluster.client.create(PERSISTENT_VOLUME_CLAIMS, "default", claim("data"))
    await cluster.client.create(PODS, "default", pod_with("web", "data"))
    mounts = await cluster.until(lambda: cluster.events("FailedMount"), "FailedMount")
    assert "PVC default/data has non-bound phase" in mounts[0]["message"]
    async with storage_controllers(cluster.client):  # the binder binds it to this volume
        await cluster.client.create(
            PERSISTENT_VOLUMES, None, volume("pv", path=str(tmp_path / "pv"))
        )
        bound = await cluster.until(lambda: _bound(cluster.client, "data"), "the claim bound")
        assert bound

        async def running() -> bool:
            cluster.clock.advance(5)  # the kubelet retries a failed mount after a back-off
            phase = ((await cluster.pod()).get("status") or {}).get("phase")
            return phase == "Running"

        await cluster.until(running, "the pod running")
    assert (tmp_path / "pv").is_dir()


async def test_data_written_by_one_pod_is_read_by_the_next(
    real: Cluster,  # noqa: F811
    tmp_path: Path,
) -> None:
    await real.client.create(PERSISTENT_VOLUME_CLAIMS, "default", claim("data"))
    await bind_by_hand(real.client, "data", tmp_path / "store")
    writer = {"name": "web", "image": "busybox", "command": ["sh", "-c", "echo kept > /data/f"]}
    await real.client.create(
        PODS, "default", pod_with("writer", "data", restartPolicy="Never", containers=[writer])
    )
    await real.pod_where(
        lambda p: (p.get("status") or {}).get("phase") == "Succeeded", "the writer done", "writer"
    )
    await real.client.delete(PODS, "default", "writer")
    await real.until_gone("the writer gone", "writer")
    assert (tmp_path / "store" / "f").read_text() == "kept\n"
    reader = {
        "name": "web",
        "image": "busybox",
        "command": ["sh", "-c", 'test "$(cat /data/f)" = kept'],
    }
    await real.client.create(
        PODS, "default", pod_with("reader", "data", restartPolicy="Never", containers=[reader])
    )
    done = await real.pod_where(
        lambda p: (p.get("status") or {}).get("phase") in ("Succeeded", "Failed"),
        "the reader done",
        "reader",
    )
    assert done["status"]["phase"] == "Succeeded"
