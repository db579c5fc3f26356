"""The Deployment controller when a rollout does not go to plan (with the ReplicaSet
controller, on a real in-process API server): a version whose pods never become ready runs
out of ``progressDeadlineSeconds`` on the fake clock, a scale in the middle of a stalled
rollout is shared out in proportion, and an orphan ReplicaSet with the Deployment's template
is adopted as its own.
"""

from __future__ import annotations

from typing import Any

from minikube_py.client import DEPLOYMENTS, REPLICASETS, Client
from minikube_py.controllers.deployment_util import pod_template_hash
from tests.controllers.deployment_harness import (
    cluster,
    condition,
    deployment,
    messages,
    replica_sets,
    wait_rolled_out,
)
from tests.controllers.stepping import SteppingClock, eventually

Object = dict[str, Any]


async def status_when(client: Client, what: str, check: Any) -> Object:
    async def probe() -> Object | None:
        obj = await client.get(DEPLOYMENTS, "default", "web")
        return obj if check(obj.get("status") or {}) else None

    result: Object = await eventually(probe, what)
    return result


async def test_a_rollout_that_stops_progressing_exceeds_its_deadline(
    client: Client, clock: SteppingClock
) -> None:
    async with cluster(client, clock) as (_, kubelet):
        kubelet.unready.add("nginx:broken")
        made = deployment(2, image="nginx:broken", progressDeadlineSeconds=30)
        await client.create(DEPLOYMENTS, "default", made)
        stalled = await status_when(
            client,
            "two unavailable pods",
            lambda s: s.get("replicas") == 2 and s.get("unavailableReplicas") == 2,
        )
        [rs] = await replica_sets(client)
        name = rs["metadata"]["name"]
        progressing = condition(stalled, "Progressing")
        assert progressing and progressing["status"] == "True"
        assert progressing["reason"] == "ReplicaSetUpdated"  # its pods appeared
        assert progressing["message"] == f'ReplicaSet "{name}" is progressing.'
        available = condition(stalled, "Available")
        assert available and available["reason"] == "MinimumReplicasUnavailable"
        assert available["message"] == "Deployment does not have minimum availability."
        # Nothing but the deployment's own deadline timer (30 s + 1 after the condition's
        # last update) is left to wake it.
        await eventually(lambda: clock.sleeping > 0, "the deadline check scheduled")
        clock.advance(31.5)
        timed_out = await status_when(
            client,
            "ProgressDeadlineExceeded",
            lambda s: any(c["reason"] == "ProgressDeadlineExceeded" for c in s["conditions"]),
        )
    progressing = condition(timed_out, "Progressing")
    assert progressing and progressing["status"] == "False"
    assert progressing["message"] == f'ReplicaSet "{name}" has timed out progressing.'


async def test_scaling_mid_rollout_shares_the_change_in_proportion(
    client: Client, clock: SteppingClock
) -> None:
    async with cluster(client, clock) as (_, kubelet):
        kubelet.unready.add("nginx:broken")
        await client.create(DEPLOYMENTS, "default", deployment(10))  # 25% surge / unavailable
        await wait_rolled_out(client, 10)
        image = [{"name": "web", "image": "nginx:broken"}]
        patch = {"spec": {"template": {"spec": {"containers": image}}}}
        await client.patch(DEPLOYMENTS, "default", "web", patch, patch_type="strategic")

        async def sizes(expected: tuple[int, int]) -> bool:
            found = await replica_sets(client)
            got = tuple(rs["spec"]["replicas"] for rs in found)
            settled = all(
                (rs.get("status") or {}).get("replicas", 0) == rs["spec"]["replicas"]
                for rs in found
            )
            return got == expected and settled

        # 13 pods at most, 8 available at least, and the new ones never become available.
        await eventually(lambda: sizes((8, 5)), "the rollout stalled at 8 old, 5 new")
        await client.patch(DEPLOYMENTS, "default", "web", {"spec": {"replicas": 15}})
        # 15 + 4 surge = 19 shared as 8:5 — 12 and 7
        await eventually(lambda: sizes((12, 7)), "scaled up in proportion")
        grown = await replica_sets(client)
        await client.patch(DEPLOYMENTS, "default", "web", {"spec": {"replicas": 5}})
        # 5 + 2 surge = 7: old loses round(12 * 7/19) - 12 = -8, new round(7 * 7/19) - 7 = -4
        await eventually(lambda: sizes((4, 3)), "scaled down in proportion")
        old, new = await replica_sets(client)
        scaled = await messages(client, "ScalingReplicaSet")
    old_name, new_name = old["metadata"]["name"], new["metadata"]["name"]
    assert scaled[-4:] == [
        f"Scaled up replica set {old_name} from 8 to 12",
        f"Scaled up replica set {new_name} from 5 to 7",
        f"Scaled down replica set {old_name} from 12 to 4",
        f"Scaled down replica set {new_name} from 7 to 3",
    ]
    for rs in grown:
        assert rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == "15"
        assert rs["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] == "19"
    for rs in (old, new):
        assert rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == "5"
        assert rs["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] == "7"


async def test_an_orphan_replica_set_with_the_template_is_adopted_as_the_new_one(
    client: Client, clock: SteppingClock
) -> None:
    spec = deployment(3)["spec"]
    orphan = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web-by-hand", "namespace": "default", "labels": {"app": "web"}},
        "spec": {"replicas": 1, "selector": spec["selector"], "template": spec["template"]},
    }
    async with cluster(client, clock):
        await client.create(REPLICASETS, "default", orphan)
        made = await client.create(DEPLOYMENTS, "default", deployment(3))
        await wait_rolled_out(client, 3)
        [adopted] = await replica_sets(client)
    assert adopted["metadata"]["name"] == "web-by-hand"
    [reference] = adopted["metadata"]["ownerReferences"]
    assert reference["uid"] == made["metadata"]["uid"] and reference["controller"] is True
    assert adopted["spec"]["replicas"] == 3
    assert adopted["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"


async def test_a_hash_collision_bumps_the_collision_count_and_the_name(
    client: Client, clock: SteppingClock
) -> None:
    made = deployment(1)
    stored = await client.create(DEPLOYMENTS, "default", made, dry_run=True)
    template = stored["spec"]["template"]
    taken = f"web-{pod_template_hash(template)}"
    squatter = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": taken, "namespace": "default", "labels": {"app": "other"}},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "other"}},
            "template": {
                "metadata": {"labels": {"app": "other"}},
                "spec": {"containers": [{"name": "other", "image": "busybox:1.36"}]},
            },
        },
    }
    async with cluster(client, clock):
        await client.create(REPLICASETS, "default", squatter)
        await client.create(DEPLOYMENTS, "default", made)
        done = await wait_rolled_out(client, 1)
        found = {rs["metadata"]["name"] for rs in await replica_sets(client)}
    assert done["status"]["collisionCount"] == 1
    assert found == {taken, f"web-{pod_template_hash(template, 1)}"}
