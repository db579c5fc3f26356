"""VolumeBinding: claims decide where a pod may run; WaitForFirstConsumer claims get their
volume on the node the scheduler chose, before the pod is bound."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from minikube_py.client import Client
from minikube_py.client.protocol import PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES, PODS
from minikube_py.controllers.persistentvolume import STORAGE_CLASSES
from minikube_py.scheduler.framework import CycleState, NodeInfo
from minikube_py.scheduler.plugins.volumebinding import VolumeBinding
from minikube_py.scheduler.queue import SchedulingQueue
from minikube_py.scheduler.scheduler import Scheduler
from tests.controllers.stepping import eventually
from tests.controllers.storage_harness import claim, events_of, get_claim, storage_controllers
from tests.controllers.storage_harness import volume as pv

from .helpers import api_only, node, pod
from .test_scheduler import add_node, node_of

Object = dict[str, Any]


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    async with api_only(tmp_path) as made:
        for name in ("node-a", "node-b"):
            await add_node(made, node(name))
        yield made


@contextlib.asynccontextmanager
async def scheduling(client: Client, root: Path | None = None) -> AsyncIterator[None]:
    scheduler = Scheduler(client, queue=SchedulingQueue(initial_backoff=0.05, max_backoff=0.2))
    task = asyncio.ensure_future(scheduler.run())
    try:
        async with storage_controllers(client, root):
            yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def storage_class(name: str, provisioner: str, *, mode: str = "WaitForFirstConsumer") -> Object:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name},
        "provisioner": provisioner,
        "volumeBindingMode": mode,
    }


def pod_with(name: str, claim_name: str) -> Object:
    volumes = [{"name": "data", "persistentVolumeClaim": {"claimName": claim_name}}]
    return pod(name, volumes=volumes)


def on_node(name: str) -> Object:
    return {
        "required": {
            "nodeSelectorTerms": [
                {
                    "matchExpressions": [
                        {"key": "kubernetes.io/hostname", "operator": "In", "values": [name]}
                    ]
                }
            ]
        }
    }


async def scheduled(client: Client, name: str) -> str | None:
    return await node_of(client, name)


async def failed_with(client: Client, name: str, text: str) -> bool:
    return any(r == "FailedScheduling" and text in m for r, m in await events_of(client, name))


async def test_a_wait_for_first_consumer_claim_is_provisioned_for_the_chosen_node(
    client: Client, tmp_path: Path
) -> None:
    async with scheduling(client, tmp_path):
        await client.create(
            STORAGE_CLASSES, None, storage_class("late", "k8s.io/minikube-hostpath")
        )
        await client.create(
            PERSISTENT_VOLUME_CLAIMS, "default", claim("data", storage_class="late")
        )
        await client.create(PODS, "default", pod_with("app", "data"))
        chosen = await eventually(lambda: scheduled(client, "app"), "the pod bound")
        found = await get_claim(client, "data")
        assert found is not None
        # bound before the pod was: the kubelet finds the volume ready
        assert found["status"]["phase"] == "Bound"
        assert found["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] == chosen


async def test_a_local_volume_takes_the_pod_to_its_node(client: Client) -> None:
    async with scheduling(client):
        await client.create(
            STORAGE_CLASSES, None, storage_class("local", "kubernetes.io/no-provisioner")
        )
        local = pv("disk", storage_class="local", source={"local": {"path": "/mnt/disk"}})
        local["spec"]["nodeAffinity"] = on_node("node-b")
        await client.create(PERSISTENT_VOLUMES, None, local)
        await client.create(
            PERSISTENT_VOLUME_CLAIMS, "default", claim("data", storage_class="local")
        )
        await client.create(PODS, "default", pod_with("app", "data"))
        assert await eventually(lambda: scheduled(client, "app"), "the pod bound") == "node-b"
        found = await get_claim(client, "data")
        assert found is not None and found["spec"]["volumeName"] == "disk"
        # a second pod of the same claim must follow the volume too
        await client.create(PODS, "default", pod_with("again", "data"))
        assert await eventually(lambda: scheduled(client, "again"), "bound") == "node-b"


async def test_unbound_immediate_and_missing_claims_keep_a_pod_pending(client: Client) -> None:
    async with scheduling(client):
        await client.create(PODS, "default", pod_with("lost", "nothing"))
        await eventually(
            lambda: failed_with(client, "lost", 'persistentvolumeclaim "nothing" not found'),
            "FailedScheduling for a missing claim",
        )
        await client.create(PERSISTENT_VOLUME_CLAIMS, "default", claim("data"))
        await client.create(PODS, "default", pod_with("app", "data"))
        unbound = "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims."
        await eventually(lambda: failed_with(client, "app", unbound), "unbound immediate")
        assert await scheduled(client, "app") is None
        await client.create(PERSISTENT_VOLUMES, None, pv("pv"))  # the binder binds it now
        assert await eventually(lambda: scheduled(client, "app"), "the pod bound")


async def test_no_volume_and_no_provisioner_means_no_node(client: Client) -> None:
    async with scheduling(client):
        await client.create(
            STORAGE_CLASSES, None, storage_class("local", "kubernetes.io/no-provisioner")
        )
        small = pv("small", "1Mi", storage_class="local", source={"local": {"path": "/mnt/x"}})
        await client.create(PERSISTENT_VOLUMES, None, small)
        await client.create(
            PERSISTENT_VOLUME_CLAIMS, "default", claim("data", storage_class="local")
        )
        await client.create(PODS, "default", pod_with("app", "data"))
        message = (
            "0/2 nodes are available: 2 node(s) didn't find available persistent volumes to bind."
        )
        await eventually(lambda: failed_with(client, "app", message), "FailedScheduling")


def test_pods_without_claims_skip_the_plugin() -> None:
    plugin = VolumeBinding.__new__(VolumeBinding)  # no caches needed: the pod asks nothing
    assert plugin.pre_filter(CycleState(), pod("plain")).code.value == "Skip"
    info = NodeInfo(node("node-a"))
    assert plugin.filter(CycleState(), pod("plain"), info).ok


async def test_a_bound_claim_admits_only_its_volumes_nodes(client: Client) -> None:
    plugin = VolumeBinding(client)
    runner = asyncio.ensure_future(plugin.run())
    try:
        local = pv("disk", source={"local": {"path": "/mnt/disk"}})
        local["spec"]["nodeAffinity"] = on_node("node-b")
        await client.create(PERSISTENT_VOLUMES, None, local)
        bound = claim("data", volume_name="disk")
        bound["metadata"]["annotations"] = {"pv.kubernetes.io/bind-completed": "yes"}
        await client.create(PERSISTENT_VOLUME_CLAIMS, "default", bound)
        await plugin.wait_synced()
        await eventually(lambda: plugin.claims.get("default/data") is not None, "cached")
        state, wanting = CycleState(), pod_with("app", "data")
        assert plugin.pre_filter(state, wanting).ok
        refused = plugin.filter(state, wanting, NodeInfo(node("node-a")))
        assert refused.reasons == ("node(s) had volume node affinity conflict",)
        assert refused.code.value == "UnschedulableAndUnresolvable"
        assert plugin.filter(state, wanting, NodeInfo(node("node-b"))).ok
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
