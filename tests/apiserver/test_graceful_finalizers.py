"""A pod on a node with a finalizer: its grace period, the kubelet's final delete and the last
finalizer's removal, as upstream's registry orders them (CheckGracefulDelete,
ShouldDeleteDuringUpdate)."""

from __future__ import annotations

from typing import Any

import pytest

from minikube_py.api.errors import ApiError
from minikube_py.client import PODS, Client
from tests.clusters import in_process_client


def pod() -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "finalizers": ["example.com/hold"]},
        "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "busybox:1.36"}]},
    }


async def release(client: Client) -> None:
    await client.patch(PODS, "default", "p", {"metadata": {"finalizers": None}})


async def test_the_last_finalizer_waits_for_the_kubelet_s_final_delete() -> None:
    async with in_process_client() as client:
        await client.create(PODS, "default", pod())
        marked = await client.delete(PODS, "default", "p")
        assert marked["metadata"]["deletionGracePeriodSeconds"] == 30
        # the kubelet stops it; a later delete cannot lengthen the grace period
        again = await client.delete(PODS, "default", "p", grace_period_seconds=60)
        assert again["metadata"]["deletionGracePeriodSeconds"] == 30
        # its final delete shortens the grace period to 0, the finalizer still holds it …
        final = await client.delete(PODS, "default", "p", grace_period_seconds=0)
        assert final["metadata"]["deletionGracePeriodSeconds"] == 0
        # … until the last finalizer's removal takes it away
        await release(client)
        with pytest.raises(ApiError) as gone:
            await client.get(PODS, "default", "p")
        assert gone.value.code == 404


async def test_a_finalizer_removed_during_the_grace_period_leaves_the_pod_to_its_kubelet() -> None:
    async with in_process_client() as client:
        await client.create(PODS, "default", pod())
        await client.delete(PODS, "default", "p")
        await release(client)  # the grace period still runs: the pod stays
        assert (await client.get(PODS, "default", "p"))["metadata"]["deletionTimestamp"]
        await client.delete(PODS, "default", "p", grace_period_seconds=0)  # the kubelet's
        with pytest.raises(ApiError):
            await client.get(PODS, "default", "p")


async def test_a_pod_that_has_ended_is_deleted_without_grace() -> None:
    async with in_process_client() as client:
        await client.create(PODS, "default", pod())
        await client.patch(
            PODS, "default", "p", {"status": {"phase": "Succeeded"}}, subresource="status"
        )
        marked = await client.delete(PODS, "default", "p")
        assert marked["metadata"]["deletionGracePeriodSeconds"] == 0
        await release(client)
        with pytest.raises(ApiError):
            await client.get(PODS, "default", "p")
