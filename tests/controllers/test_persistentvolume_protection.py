"""The pvc-protection and pv-protection finalizers: in-use storage is only marked for deletion."""

from __future__ import annotations

import asyncio

from minikube_py.client import Client
from minikube_py.client.protocol import PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES, PODS
from tests.controllers.stepping import eventually
from tests.controllers.storage_harness import (
    claim,
    get_claim,
    get_volume,
    phase_of_claim,
    storage_controllers,
    volume,
)


async def _equals(awaitable: object, wanted: object) -> bool:
    return bool(await awaitable == wanted)  # type: ignore[misc]


def pod_using(name: str, claim_name: str, *, node: str = "minikube") -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "nodeName": node,
            "containers": [{"name": "app", "image": "busybox"}],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim_name}}],
        },
    }


async def test_new_claims_and_volumes_carry_the_finalizers(client: Client) -> None:
    await client.create(PERSISTENT_VOLUMES, None, volume("pv"))
    await client.create(PERSISTENT_VOLUME_CLAIMS, "default", claim("data"))
    pv, pvc = await get_volume(client, "pv"), await get_claim(client, "data")
    assert pv is not None and pvc is not None
    assert pv["metadata"]["finalizers"] == ["kubernetes.io/pv-protection"]
    assert pvc["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]


async def test_a_claim_in_use_stays_until_its_pod_is_gone(client: Client) -> None:
    async with storage_controllers(client):
        await client.create(PERSISTENT_VOLUMES, None, volume("pv"))
        await client.create(PERSISTENT_VOLUME_CLAIMS, "default", claim("data"))
        await eventually(lambda: _equals(phase_of_claim(client, "data"), "Bound"), "bound")
        await client.create(PODS, "default", pod_using("app", "data"))
        await client.create(PODS, "default", pod_using("unscheduled", "data", node=""))
        await client.delete(PERSISTENT_VOLUME_CLAIMS, "default", "data")
        marked = await get_claim(client, "data")
        assert marked is not None and marked["metadata"].get("deletionTimestamp")
        # a bound volume is protected while its claim exists
        await client.delete(PERSISTENT_VOLUMES, None, "pv")
        # an absence cannot be waited for: give the controllers time to (wrongly) act
        await asyncio.sleep(0.3)
        assert await get_claim(client, "data") is not None
        assert await get_volume(client, "pv") is not None
        await client.delete(PODS, "default", "app", grace_period_seconds=0)
        await eventually(lambda: _equals(get_claim(client, "data"), None), "the claim gone")
        # the claim gone, the Retain volume is Released, no longer Bound: it may go too
        await eventually(lambda: _equals(get_volume(client, "pv"), None), "the volume gone")


async def test_a_finished_pod_still_holds_its_claim_until_deleted(client: Client) -> None:
    async with storage_controllers(client):
        await client.create(PERSISTENT_VOLUME_CLAIMS, "default", claim("data"))
        await client.create(PODS, "default", pod_using("job", "data"))
        status = {"status": {"phase": "Succeeded"}}
        await client.patch(PODS, "default", "job", status, subresource="status")
        await client.delete(PERSISTENT_VOLUME_CLAIMS, "default", "data")
        await asyncio.sleep(0.3)  # an absence: give the controller time to (wrongly) act
        assert await get_claim(client, "data") is not None
        await client.delete(PODS, "default", "job", grace_period_seconds=0)
        await eventually(lambda: _equals(get_claim(client, "data"), None), "the claim gone")


async def test_an_unbound_volume_goes_at_once(client: Client) -> None:
    async with storage_controllers(client):
        await client.create(PERSISTENT_VOLUMES, None, volume("free"))
        await client.delete(PERSISTENT_VOLUMES, None, "free")
        await eventually(lambda: _equals(get_volume(client, "free"), None), "the volume gone")
