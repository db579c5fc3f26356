"""The Deployment controller with the ReplicaSet controller against a real in-process API
server; ``Kubelet`` (deployment_harness.py) binds, readies and finishes deleting the pods.
"""

from __future__ import annotations

import asyncio
from typing import Any

from minikube_py.client import DEPLOYMENTS, Client
from tests.controllers.deployment_harness import (
    PodCounter,
    SpecCounter,
    cluster,
    condition,
    deployment,
    live_pods,
    messages,
    replica_sets,
    wait_rolled_out,
)
from tests.controllers.stepping import SteppingClock


async def test_creates_a_replica_set_with_the_template_hash_and_its_pods(
    client: Client, clock: SteppingClock
) -> None:
    async with cluster(client, clock):
        made = await client.create(DEPLOYMENTS, "default", deployment(3))
        done = await wait_rolled_out(client, 3)
        [rs] = await replica_sets(client)
        pods = await live_pods(client)
        scaled = await messages(client, "ScalingReplicaSet")
    hashed = rs["metadata"]["labels"]["pod-template-hash"]
    assert rs["metadata"]["name"] == f"web-{hashed}"
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": hashed}
    assert rs["spec"]["replicas"] == 3
    assert rs["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "web",
            "uid": made["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    annotations = rs["metadata"]["annotations"]
    assert annotations["deployment.kubernetes.io/revision"] == "1"
    assert annotations["deployment.kubernetes.io/desired-replicas"] == "3"
    assert annotations["deployment.kubernetes.io/max-replicas"] == "4"  # 3 + 25% rounded up
    assert {pod["metadata"]["labels"]["pod-template-hash"] for pod in pods} == {hashed}
    assert scaled == [f"Scaled up replica set web-{hashed} from 0 to 3"]
    status = done["status"]
    assert status["observedGeneration"] == 1 and status["readyReplicas"] == 3
    assert "unavailableReplicas" not in status
    available, progressing = condition(done, "Available"), condition(done, "Progressing")
    assert available and available["reason"] == "MinimumReplicasAvailable"
    assert progressing and progressing["reason"] == "NewReplicaSetAvailable"
    assert progressing["message"] == f'ReplicaSet "web-{hashed}" has successfully progressed.'


async def scale_to(client: Client, replicas: int) -> None:
    await client.patch(DEPLOYMENTS, "default", "web", {"spec": {"replicas": replicas}})


async def test_scaling_resizes_the_one_replica_set_without_a_rollout(
    client: Client, clock: SteppingClock
) -> None:
    async with cluster(client, clock):
        await client.create(DEPLOYMENTS, "default", deployment(2))
        await wait_rolled_out(client, 2)
        await scale_to(client, 5)
        await wait_rolled_out(client, 5, generation=2)
        await scale_to(client, 1)
        done = await wait_rolled_out(client, 1, generation=3)
        [rs] = await replica_sets(client)
        scaled = await messages(client, "ScalingReplicaSet")
    name = rs["metadata"]["name"]
    assert scaled == [
        f"Scaled up replica set {name} from 0 to 2",
        f"Scaled up replica set {name} from 2 to 5",
        f"Scaled down replica set {name} from 5 to 1",
    ]
    annotations = rs["metadata"]["annotations"]
    assert annotations["deployment.kubernetes.io/revision"] == "1"
    assert annotations["deployment.kubernetes.io/desired-replicas"] == "1"
    assert annotations["deployment.kubernetes.io/max-replicas"] == "2"
    assert done["status"]["observedGeneration"] == 3


async def test_a_template_change_rolls_within_max_surge_and_max_unavailable(
    client: Client, clock: SteppingClock
) -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    async with cluster(client, clock):
        await client.create(DEPLOYMENTS, "default", deployment(3, strategy=strategy))
        await wait_rolled_out(client, 3)
        counter, wanted = PodCounter(client), SpecCounter(client)
        counting = [asyncio.ensure_future(counter.run()), asyncio.ensure_future(wanted.run())]
        await counter.started.wait()
        await wanted.started.wait()
        await set_image(client, "nginx:1.28")
        done = await wait_rolled_out(client, 3, generation=2)
        for task in counting:
            task.cancel()
        await asyncio.gather(*counting, return_exceptions=True)
        old, new = await replica_sets(client)
        scaled = await messages(client, "ScalingReplicaSet")
    assert counter.moments and wanted.moments, "the rollout was watched"
    assert max(wanted.moments) == 4  # the ReplicaSets never ask for more than 3 + maxSurge
    assert max(total for total, _ in counter.moments) >= 4  # and the surge pod really ran
    assert min(ready for _, ready in counter.moments) == 3  # never below 3 - maxUnavailable
    images = {pod["spec"]["containers"][0]["image"] for pod in await live_pods(client)}
    assert images == {"nginx:1.28"}
    assert old["spec"]["replicas"] == 0 and new["spec"]["replicas"] == 3
    assert new["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert old["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    old_name, new_name = old["metadata"]["name"], new["metadata"]["name"]
    assert scaled == [
        f"Scaled up replica set {old_name} from 0 to 3",
        f"Scaled up replica set {new_name} from 0 to 1",
        f"Scaled down replica set {old_name} from 3 to 2",
        f"Scaled up replica set {new_name} from 1 to 2",
        f"Scaled down replica set {old_name} from 2 to 1",
        f"Scaled up replica set {new_name} from 2 to 3",
        f"Scaled down replica set {old_name} from 1 to 0",
    ]
    progressing = condition(done, "Progressing")
    assert progressing and progressing["reason"] == "NewReplicaSetAvailable"


async def set_image(client: Client, image: str, *, cause: str | None = None) -> None:
    patch: dict[str, Any] = {
        "spec": {"template": {"spec": {"containers": [{"name": "web", "image": image}]}}}
    }
    if cause is not None:
        patch["metadata"] = {"annotations": {"kubernetes.io/change-cause": cause}}
    await client.patch(DEPLOYMENTS, "default", "web", patch, patch_type="strategic")


async def test_the_deployment_carries_the_revision_of_its_new_replica_set(
    client: Client, clock: SteppingClock
) -> None:
    async with cluster(client, clock):
        await client.create(DEPLOYMENTS, "default", deployment(1))
        await wait_rolled_out(client, 1)
        await set_image(client, "nginx:1.28")
        done = await wait_rolled_out(client, 1, generation=2)
    assert done["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
