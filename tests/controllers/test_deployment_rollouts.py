"""Rollouts of the Deployment controller (with the ReplicaSet controller, on a real in-process
API server): Recreate, pause and resume, undo to an earlier template, and the clean-up of old
ReplicaSets beyond ``revisionHistoryLimit``.
"""

from __future__ import annotations

from typing import Any

from minikube_py.client import DEPLOYMENTS, Client
from tests.controllers.deployment_harness import (
    cluster,
    condition,
    deployment,
    live_pods,
    messages,
    replica_sets,
    wait_rolled_out,
)
from tests.controllers.stepping import SteppingClock, eventually

Object = dict[str, Any]
REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"


async def set_image(client: Client, image: str, *, cause: str | None = None) -> None:
    patch: Object = {
        "spec": {"template": {"spec": {"containers": [{"name": "web", "image": image}]}}}
    }
    if cause is not None:
        patch["metadata"] = {"annotations": {CHANGE_CAUSE: cause}}
    await client.patch(DEPLOYMENTS, "default", "web", patch, patch_type="strategic")


async def test_recreate_starts_the_new_version_only_once_every_old_pod_is_gone(
    client: Client, clock: SteppingClock
) -> None:
    async with cluster(client, clock) as (_, kubelet):
        await client.create(DEPLOYMENTS, "default", deployment(3, strategy={"type": "Recreate"}))
        await wait_rolled_out(client, 3)
        kubelet.hold_deletions = True  # old pods stay terminating until released
        await set_image(client, "nginx:1.28")

        async def old_scaled_down() -> bool:
            obj = await client.get(DEPLOYMENTS, "default", "web")
            status = obj.get("status") or {}
            [old] = await replica_sets(client)
            return bool(
                status.get("observedGeneration") == 2
                and "replicas" not in status
                and old["spec"]["replicas"] == 0
                and (old.get("status") or {}).get("replicas", 0) == 0
            )

        await eventually(old_scaled_down, "the old version scaled down, its pods terminating")
        # The deployment saw its old ReplicaSet empty, but pods still terminate: no new one.
        assert len(await replica_sets(client)) == 1
        assert await live_pods(client) == []
        await kubelet.release()
        await wait_rolled_out(client, 3, generation=2)
        old, new = await replica_sets(client)
        scaled = await messages(client, "ScalingReplicaSet")
    old_name, new_name = old["metadata"]["name"], new["metadata"]["name"]
    assert scaled == [
        f"Scaled up replica set {old_name} from 0 to 3",
        f"Scaled down replica set {old_name} from 3 to 0",
        f"Scaled up replica set {new_name} from 0 to 3",
    ]
    assert new["metadata"]["annotations"][REVISION] == "2"


async def test_a_paused_deployment_scales_but_does_not_roll_until_resumed(
    client: Client, clock: SteppingClock
) -> None:
    async with cluster(client, clock):
        await client.create(DEPLOYMENTS, "default", deployment(2))
        await wait_rolled_out(client, 2)
        await client.patch(DEPLOYMENTS, "default", "web", {"spec": {"paused": True}})
        await set_image(client, "nginx:1.28")
        await client.patch(DEPLOYMENTS, "default", "web", {"spec": {"replicas": 3}})

        async def scaled_while_paused() -> Object | None:
            obj = await client.get(DEPLOYMENTS, "default", "web")
            status = obj.get("status") or {}
            counts = (status.get("replicas"), status.get("availableReplicas"))
            seen = status.get("observedGeneration") == 4 and counts == (3, 3)
            return obj if seen else None

        paused = await eventually(scaled_while_paused, "the paused deployment scaled to 3")
        assert len(await replica_sets(client)) == 1  # scaled, not rolled
        assert "updatedReplicas" not in paused["status"]  # no pod runs the new template
        progressing = condition(paused, "Progressing")
        assert progressing and progressing["status"] == "Unknown"
        assert progressing["reason"] == "DeploymentPaused"
        assert progressing["message"] == "Deployment is paused"
        await client.patch(DEPLOYMENTS, "default", "web", {"spec": {"paused": False}})
        await wait_rolled_out(client, 3, generation=5)
        old, new = await replica_sets(client)
    images = {pod["spec"]["containers"][0]["image"] for pod in await live_pods(client)}
    assert images == {"nginx:1.28"}
    assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (0, 3)
    assert new["metadata"]["annotations"][REVISION] == "2"


async def undo(client: Client, to_revision: int) -> None:
    """What ``kubectl rollout undo --to-revision`` sends: the ReplicaSet's template without
    its pod-template-hash, and its annotations but the Deployment controller's own."""
    skipped = {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
    for rs in await replica_sets(client):
        if rs["metadata"]["annotations"][REVISION] == str(to_revision):
            template = rs["spec"]["template"]
            template["metadata"]["labels"].pop("pod-template-hash")
            annotations = {
                k: v for k, v in rs["metadata"]["annotations"].items() if k not in skipped
            }
            patch = [
                {"op": "replace", "path": "/spec/template", "value": template},
                {"op": "replace", "path": "/metadata/annotations", "value": annotations},
            ]
            await client.patch(DEPLOYMENTS, "default", "web", patch, patch_type="json")
            return
    raise AssertionError(f"no revision {to_revision}")


async def test_undo_makes_the_old_replica_set_new_again_under_a_new_revision(
    client: Client, clock: SteppingClock
) -> None:
    made = deployment(2)
    made["metadata"]["annotations"] = {CHANGE_CAUSE: "first"}
    async with cluster(client, clock):
        await client.create(DEPLOYMENTS, "default", made)
        await wait_rolled_out(client, 2)
        await set_image(client, "nginx:1.28", cause="second")
        await wait_rolled_out(client, 2, generation=2)
        first, second = await replica_sets(client)
        assert first["metadata"]["annotations"][CHANGE_CAUSE] == "first"
        assert second["metadata"]["annotations"][CHANGE_CAUSE] == "second"
        await undo(client, 1)
        await wait_rolled_out(client, 2, generation=3)
        replayed, retired = await replica_sets(client)
    assert replayed["metadata"]["uid"] == first["metadata"]["uid"]  # reused, not re-made
    assert replayed["metadata"]["annotations"][REVISION] == "3"
    assert replayed["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "1"
    assert replayed["metadata"]["annotations"][CHANGE_CAUSE] == "first"
    assert (replayed["spec"]["replicas"], retired["spec"]["replicas"]) == (2, 0)
    assert retired["metadata"]["annotations"][REVISION] == "2"
    images = {pod["spec"]["containers"][0]["image"] for pod in await live_pods(client)}
    assert images == {"nginx:1.27"}


async def test_old_replica_sets_beyond_the_history_limit_are_deleted(
    client: Client, clock: SteppingClock
) -> None:
    async with cluster(client, clock):
        await client.create(DEPLOYMENTS, "default", deployment(1, revisionHistoryLimit=1))
        await wait_rolled_out(client, 1)
        for generation, image in enumerate(["nginx:1.28", "nginx:1.29", "nginx:1.30"], start=2):
            await set_image(client, image)
            await wait_rolled_out(client, 1, generation=generation)

        async def two_left() -> list[Object] | None:
            found = await replica_sets(client)
            return found if len(found) == 2 else None

        kept = await eventually(two_left, "the history cut to one old ReplicaSet")
    revisions = [rs["metadata"]["annotations"][REVISION] for rs in kept]
    assert revisions == ["3", "4"]
    assert [rs["spec"]["template"]["spec"]["containers"][0]["image"] for rs in kept] == [
        "nginx:1.29",
        "nginx:1.30",
    ]
