"""pods/binding as the scheduler uses it: nodeName and PodScheduled=True in one write."""

from __future__ import annotations

from typing import Any

import pytest

from minikube_py.client import PODS, ApiError, Client

from .helpers import pod
from .test_scheduler import client, pod_scheduled

__all__ = ["client"]  # the fixture, shared with test_scheduler


def binding(name: str, node: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": name},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    }


async def test_binding_sets_node_and_pod_scheduled_true_in_one_write(client: Client) -> None:
    created = await client.create(PODS, "default", pod("web"))
    unschedulable = {
        "type": "PodScheduled",
        "status": "False",
        "reason": "Unschedulable",
        "message": "0/1 nodes are available: 1 Too many pods.",
        "lastProbeTime": None,
        "lastTransitionTime": "2024-01-01T00:00:00Z",
    }
    await client.patch(
        PODS,
        "default",
        "web",
        {"status": {"conditions": [unschedulable]}},
        patch_type="strategic",
        subresource="status",
    )
    version = (await client.get(PODS, "default", "web"))["metadata"]["resourceVersion"]

    await client.create(PODS, "default", binding("web", "minikube-m02"), subresource="binding")

    bound = await client.get(PODS, "default", "web")
    assert bound["spec"]["nodeName"] == "minikube-m02"
    condition = pod_scheduled(bound)
    assert condition is not None
    assert condition["status"] == "True" and condition["lastProbeTime"] is None
    assert "reason" not in condition and "message" not in condition
    assert condition["lastTransitionTime"] != "2024-01-01T00:00:00Z"
    assert bound["metadata"]["uid"] == created["metadata"]["uid"]
    # one write: the revision moved once (nothing else writes in this cluster)
    assert int(bound["metadata"]["resourceVersion"]) == int(version) + 1

    with pytest.raises(ApiError) as caught:
        await client.create(PODS, "default", binding("web", "minikube"), subresource="binding")
    assert caught.value.code == 409
    assert 'already assigned to node "minikube-m02"' in str(caught.value)
