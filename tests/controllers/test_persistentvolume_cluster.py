"""Storage in a whole in-process cluster: the scheduler, a kubelet running real processes and
the storage controllers together — WaitForFirstConsumer through to data that outlives pods."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from minikube_py.client import Client
from minikube_py.client.protocol import PERSISTENT_VOLUME_CLAIMS, PODS
from minikube_py.cluster import running_cluster
from minikube_py.controllers.persistentvolume import STORAGE_CLASSES
from tests.clusters import API_CONTROLLERS, ephemeral_config
from tests.controllers.stepping import eventually
from tests.controllers.storage_harness import claim, events_of, storage_controllers

Object = dict[str, Any]
WAIT = 60.0  # real processes on a busy machine


def busybox(name: str, script: str) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "restartPolicy": "Never",
            "containers": [
                {
                    "name": "main",
                    "image": "busybox",
                    "command": ["sh", "-c", script],
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                }
            ],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
        },
    }


async def phase(client: Client, name: str) -> str | None:
    pod = await client.get(PODS, "default", name)
    found = (pod.get("status") or {}).get("phase")
    return found if found in ("Succeeded", "Failed") else None


async def test_wait_for_first_consumer_and_data_that_outlives_pods(tmp_path: Path) -> None:
    root = tmp_path / "storage" / "hostpath-provisioner"
    async with running_cluster(ephemeral_config(tmp_path, API_CONTROLLERS)) as running:
        client = running.api_server.client("storage-test")
        async with storage_controllers(client, root):
            late = {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {"name": "late"},
                "provisioner": "k8s.io/minikube-hostpath",
                "reclaimPolicy": "Delete",
                "volumeBindingMode": "WaitForFirstConsumer",
            }
            await client.create(STORAGE_CLASSES, None, late)
            await client.create(
                PERSISTENT_VOLUME_CLAIMS, "default", claim("data", storage_class="late")
            )
            waiting = (
                "WaitForFirstConsumer",
                "waiting for first consumer to be created before binding",
            )
            await eventually(lambda: _has(events_of(client, "data"), waiting), "waiting", WAIT)
            await client.create(PODS, "default", busybox("writer", "echo kept > /data/f"))
            assert await eventually(lambda: phase(client, "writer"), "writer", WAIT) == "Succeeded"
            pvc = await client.get(PERSISTENT_VOLUME_CLAIMS, "default", "data")
            assert pvc["status"]["phase"] == "Bound"
            node = pvc["metadata"]["annotations"]["volume.kubernetes.io/selected-node"]
            writer = await client.get(PODS, "default", "writer")
            assert writer["spec"]["nodeName"] == node
            assert (root / "default" / "data" / "f").read_text() == "kept\n"
            reader = busybox("reader", 'test "$(cat /data/f)" = kept')
            await client.create(PODS, "default", reader)
            assert await eventually(lambda: phase(client, "reader"), "reader", WAIT) == "Succeeded"
        await client.close()


async def _has(awaitable: object, wanted: object) -> bool:
    return wanted in await awaitable  # type: ignore[misc]
