"""The ReplicaSet controller against a real in-process API server, with no scheduler and no
kubelet: the tests play those parts by binding pods to nodes and patching their status.

``client`` (tests/controllers/conftest.py) is a real API server behind an in-process client;
``clock`` a stepping fake clock the controller reads (minReadySeconds, expectations, requeues).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from minikube_py.api.stamps import rfc3339
from minikube_py.client import EVENTS, PODS, REPLICASETS, REPLICATION_CONTROLLERS, Client
from minikube_py.controllers import ControllerManager, SharedInformers
from minikube_py.controllers.podcontrol import REPLICA_SET, ControllerKind
from minikube_py.controllers.replicaset import REPLICATION_CONTROLLER, ReplicaSetController
from tests.controllers.stepping import SteppingClock, eventually

Object = dict[str, Any]
KEY = "default/web"
TEMPLATE_LABELS = {"app": "web", "tier": "front"}
DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"


def replica_set(replicas: int, *, min_ready_seconds: int = 0) -> Object:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "minReadySeconds": min_ready_seconds,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": TEMPLATE_LABELS},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }


@contextlib.asynccontextmanager
async def running(
    client: Client, clock: SteppingClock, kind: ControllerKind = REPLICA_SET
) -> AsyncIterator[ReplicaSetController]:
    """A ControllerManager running one ReplicaSet controller, cancelled at the end."""
    controller = ReplicaSetController(client, clock=clock, kind=kind)
    task = asyncio.ensure_future(ControllerManager(client, [controller]).run())
    try:
        yield controller
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def owned(client: Client, owner_uid: str) -> list[Object]:
    """The active pods (not being deleted) whose controller is ``owner_uid``."""
    pods = (await client.list(PODS, "default"))["items"]
    return [
        pod
        for pod in pods
        if not pod["metadata"].get("deletionTimestamp")
        and any(
            ref.get("uid") == owner_uid and ref.get("controller")
            for ref in pod["metadata"].get("ownerReferences") or []
        )
    ]


async def wait_owned(client: Client, owner_uid: str, count: int) -> list[Object]:
    async def check() -> list[Object] | None:
        pods = await owned(client, owner_uid)
        return pods if len(pods) == count else None

    result: list[Object] = await eventually(check, f"{count} owned pods")
    return result


async def wait_status(client: Client, expected: Object, gvr: Any = REPLICASETS) -> Object:
    async def check() -> Object | None:
        obj = await client.get(gvr, "default", "web")
        status = obj.get("status") or {}
        same = all(status.get(key) == value for key, value in expected.items())
        return obj if same else None

    result: Object = await eventually(check, f"status {expected}")
    return result


async def events(client: Client, reason: str) -> list[Object]:
    listed = (await client.list(EVENTS, "default"))["items"]
    return [e for e in listed if e["reason"] == reason and e["involvedObject"]["name"] == "web"]


async def make_ready(client: Client, name: str, since: float) -> None:
    condition = {"type": "Ready", "status": "True", "lastTransitionTime": rfc3339(since)}
    patch = {"status": {"phase": "Running", "conditions": [condition]}}
    await client.patch(PODS, "default", name, patch, subresource="status")


async def bind(client: Client, name: str, node: str) -> None:
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": name},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    }
    await client.create(PODS, "default", binding, subresource="binding")


async def test_creates_the_replicas_with_owner_references_and_events(
    client: Client, clock: SteppingClock
) -> None:
    async with running(client, clock) as controller:
        rs = await client.create(REPLICASETS, "default", replica_set(3))
        pods = await wait_owned(client, rs["metadata"]["uid"], 3)
        await wait_status(client, {"replicas": 3, "fullyLabeledReplicas": 3})
        created = await eventually(
            lambda: _at_least(events(client, "SuccessfulCreate"), 3), "three events"
        )
        await client.delete(REPLICASETS, "default", "web")
        await eventually(lambda: controller.expectations.get(KEY) is None, "forgotten")
    for pod in pods:
        meta = pod["metadata"]
        assert meta["generateName"] == "web-" and meta["name"].startswith("web-")
        assert meta["labels"] == TEMPLATE_LABELS
        assert meta["ownerReferences"] == [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "web",
                "uid": rs["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    names = sorted(pod["metadata"]["name"] for pod in pods)
    assert sorted(e["message"] for e in created) == [f"Created pod: {n}" for n in names]
    assert {e["source"]["component"] for e in created} == {"replicaset-controller"}
    assert {e["involvedObject"]["kind"] for e in created} == {"ReplicaSet"}


async def _at_least(found: Any, count: int) -> list[Object] | None:
    items: list[Object] = await found
    return items if len(items) >= count else None


async def test_scaling_down_deletes_unscheduled_then_unready_pods_first(
    client: Client, clock: SteppingClock
) -> None:
    async with running(client, clock):
        rs = await client.create(REPLICASETS, "default", replica_set(3))
        uid = rs["metadata"]["uid"]
        await wait_owned(client, uid, 3)
        await client.patch(REPLICASETS, "default", "web", {"spec": {"replicas": 5}})
        pods = await wait_owned(client, uid, 5)
        ready, unready = pods[0]["metadata"]["name"], pods[1]["metadata"]["name"]
        await bind(client, ready, "node-1")
        await bind(client, unready, "node-1")
        await make_ready(client, ready, clock.now())
        patch = {"status": {"phase": "Running"}}
        await client.patch(PODS, "default", unready, patch, subresource="status")
        await wait_status(client, {"replicas": 5, "readyReplicas": 1, "observedGeneration": 2})

        await client.patch(REPLICASETS, "default", "web", {"spec": {"replicas": 2}})
        survivors = await wait_owned(client, uid, 2)
        assert {pod["metadata"]["name"] for pod in survivors} == {ready, unready}
        await client.patch(REPLICASETS, "default", "web", {"spec": {"replicas": 1}})
        survivors = await wait_owned(client, uid, 1)
        assert survivors[0]["metadata"]["name"] == ready
        await wait_status(client, {"replicas": 1, "readyReplicas": 1, "observedGeneration": 4})
        deleted = await eventually(
            lambda: _at_least(events(client, "SuccessfulDelete"), 4), "four delete events"
        )
    # the bound pod is only marked for deletion (no kubelet here to finish it)
    terminating = await client.get(PODS, "default", unready)
    assert terminating["metadata"].get("deletionTimestamp")
    assert f"Deleted pod: {unready}" in {e["message"] for e in deleted}
    assert len(deleted) == 4


async def test_status_counts_ready_and_available_pods_after_min_ready_seconds(
    client: Client, clock: SteppingClock
) -> None:
    async with running(client, clock):
        rs = await client.create(REPLICASETS, "default", replica_set(2, min_ready_seconds=10))
        pods = await wait_owned(client, rs["metadata"]["uid"], 2)
        await wait_status(client, {"replicas": 2, "fullyLabeledReplicas": 2})
        for pod in pods:
            await make_ready(client, pod["metadata"]["name"], clock.now())
        stored = await wait_status(client, {"readyReplicas": 2, "observedGeneration": 1})
        assert "availableReplicas" not in stored["status"]  # ready for 0 of 10 seconds
        clock.advance(11)  # the pods' ready updates asked for a sync after 10 + 1 seconds
        await wait_status(client, {"replicas": 2, "readyReplicas": 2, "availableReplicas": 2})


async def test_an_orphan_matching_the_selector_is_adopted_and_counted(
    client: Client, clock: SteppingClock
) -> None:
    stray = {
        "metadata": {"name": "stray", "labels": {"app": "web"}},  # lacks the tier label
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
    }
    await client.create(PODS, "default", stray)
    async with running(client, clock):
        rs = await client.create(REPLICASETS, "default", replica_set(2))
        uid = rs["metadata"]["uid"]
        pods = await wait_owned(client, uid, 2)
        assert "stray" in {pod["metadata"]["name"] for pod in pods}
        await wait_status(client, {"replicas": 2, "fullyLabeledReplicas": 1})
        # an orphan appearing later wakes the ReplicaSet too; with a high deletion cost it
        # is not the one that goes when the ReplicaSet finds itself with three pods
        late = {
            "metadata": {
                "name": "late",
                "labels": TEMPLATE_LABELS,
                "annotations": {DELETION_COST: "1000"},
            },
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
        }
        await client.create(PODS, "default", late)
        await eventually(lambda: _deleted_one(client, pods), "one pod deleted")
        survivors = await wait_owned(client, uid, 2)
        assert "late" in {pod["metadata"]["name"] for pod in survivors}
    assert len((await client.list(PODS, "default"))["items"]) == 2


async def _deleted_one(client: Client, pods: list[Object]) -> bool:
    names = {pod["metadata"]["name"] for pod in (await client.list(PODS, "default"))["items"]}
    return len({pod["metadata"]["name"] for pod in pods} - names) == 1


async def test_a_pod_relabelled_out_of_the_selector_is_released_and_replaced(
    client: Client, clock: SteppingClock
) -> None:
    async with running(client, clock):
        rs = await client.create(REPLICASETS, "default", replica_set(2))
        uid = rs["metadata"]["uid"]
        pods = await wait_owned(client, uid, 2)
        debugged = pods[0]["metadata"]["name"]
        await client.patch(PODS, "default", debugged, {"metadata": {"labels": {"app": "debug"}}})
        replaced = await eventually(lambda: _replaced(client, uid, debugged), "a replacement")
        released = await client.get(PODS, "default", debugged)
        assert not released["metadata"].get("ownerReferences")
        assert debugged not in {pod["metadata"]["name"] for pod in replaced}
        # labelled back, the orphan wakes the ReplicaSet, is adopted again, and being costly
        # to delete it stays while one of the other two goes
        back = {"labels": {"app": "web"}, "annotations": {DELETION_COST: "100"}}
        await client.patch(PODS, "default", debugged, {"metadata": back})
        await eventually(lambda: _owns_only(client, uid, debugged), "the pod adopted back")


async def _owns_only(client: Client, uid: str, name: str) -> bool:
    pods = await owned(client, uid)
    return len(pods) == 2 and name in {pod["metadata"]["name"] for pod in pods}


async def _replaced(client: Client, uid: str, gone: str) -> list[Object] | None:
    pods = await owned(client, uid)
    names = {pod["metadata"]["name"] for pod in pods}
    return pods if len(pods) == 2 and gone not in names else None


async def test_a_deleted_pod_is_replaced_under_a_new_name(
    client: Client, clock: SteppingClock
) -> None:
    async with running(client, clock):
        rs = await client.create(REPLICASETS, "default", replica_set(2))
        uid = rs["metadata"]["uid"]
        pods = await wait_owned(client, uid, 2)
        victim = pods[0]["metadata"]["name"]
        await client.delete(PODS, "default", victim)
        await eventually(lambda: _replaced(client, uid, victim), "a replacement")
        await eventually(
            lambda: _at_least(events(client, "SuccessfulCreate"), 3), "the third create event"
        )


@contextlib.asynccontextmanager
async def cached(
    client: Client, clock: SteppingClock, replicas: int
) -> AsyncIterator[tuple[ReplicaSetController, SharedInformers]]:
    """A controller whose caches have seen a new ReplicaSet and then stopped following the
    API; the test calls ``reconcile`` itself (and may start the informers again)."""
    controller = ReplicaSetController(client, clock=clock)
    informers = SharedInformers(client)
    controller.wire(informers)
    await client.create(REPLICASETS, "default", replica_set(replicas))
    informers.start()
    await informers.wait_synced()
    await eventually(lambda: controller.sets.get(KEY), "the ReplicaSet in the cache")
    await informers.stop()
    try:
        yield controller, informers
    finally:
        await informers.stop()
        controller.queue.shut_down()


async def test_a_stale_cache_does_not_create_twice(client: Client, clock: SteppingClock) -> None:
    # the caches stay as they are: no pods in them, ever
    async with cached(client, clock, 3) as (controller, _):
        await controller.reconcile(KEY)
        assert len((await client.list(PODS, "default"))["items"]) == 3
        expectation = controller.expectations.get(KEY)
        assert expectation is not None and expectation.add == 3
        await controller.reconcile(KEY)  # the cache still shows no pods
        assert len((await client.list(PODS, "default"))["items"]) == 3
        clock.advance(301)  # upstream's 5 minutes: a stale cache is trusted again
        await controller.reconcile(KEY)
        assert len((await client.list(PODS, "default"))["items"]) == 6


async def test_the_informer_catching_up_satisfies_the_expectations(
    client: Client, clock: SteppingClock
) -> None:
    async with cached(client, clock, 2) as (controller, informers):
        await controller.reconcile(KEY)
        assert not controller.expectations.satisfied(KEY)
        informers.start()  # the relist reports the two new pods
        await eventually(lambda: controller.expectations.satisfied(KEY), "both pods seen")
        await controller.reconcile(KEY)
        assert len((await client.list(PODS, "default"))["items"]) == 2


async def test_a_replication_controller_runs_through_the_same_class(
    client: Client, clock: SteppingClock
) -> None:
    rc = {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": 2,
            "selector": {"app": "web"},
            "template": {
                "metadata": {"labels": TEMPLATE_LABELS},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }
    async with running(client, clock, REPLICATION_CONTROLLER) as controller:
        made = await client.create(REPLICATION_CONTROLLERS, "default", rc)
        pods = await wait_owned(client, made["metadata"]["uid"], 2)
        await wait_status(client, {"replicas": 2, "observedGeneration": 1}, REPLICATION_CONTROLLERS)
        created = await eventually(
            lambda: _at_least(events(client, "SuccessfulCreate"), 2), "two events"
        )
    assert controller.name == "replicationcontroller"
    assert {
        (r["apiVersion"], r["kind"]) for p in pods for r in p["metadata"]["ownerReferences"]
    } == {("v1", "ReplicationController")}
    assert {e["source"]["component"] for e in created} == {"replication-controller"}
    assert {e["involvedObject"]["kind"] for e in created} == {"ReplicationController"}


def deployment_replica_set(name: str, revision: str, replicas: int) -> Object:
    """A ReplicaSet as a Deployment ``web`` (not served here: only its uid matters) owns."""
    labels = {"app": "web", "revision": revision}
    rs = replica_set(replicas)
    rs["metadata"] = {
        "name": name,
        "namespace": "default",
        "ownerReferences": [
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": "web",
                "uid": "deployment-uid",
                "controller": True,
            }
        ],
    }
    rs["spec"]["selector"] = {"matchLabels": labels}
    rs["spec"]["template"]["metadata"]["labels"] = labels
    return rs


async def test_scaling_down_spreads_the_pods_of_one_deployment_over_the_nodes(
    client: Client, clock: SteppingClock
) -> None:
    async with running(client, clock):
        new = await client.create(REPLICASETS, "default", deployment_replica_set("web", "b", 2))
        old = await client.create(REPLICASETS, "default", deployment_replica_set("old", "a", 2))
        for pod in await wait_owned(client, old["metadata"]["uid"], 2):
            await bind(client, pod["metadata"]["name"], "node-1")
        # the cache lists pods by name and ties keep that order: crowd the second one
        alone, crowded = await wait_owned(client, new["metadata"]["uid"], 2)
        await bind(client, crowded["metadata"]["name"], "node-1")
        await bind(client, alone["metadata"]["name"], "node-2")
        await wait_status(client, {"replicas": 2, "observedGeneration": 1})
        # every other rule ties; node-1 holds three pods of the Deployment, node-2 one
        await client.patch(REPLICASETS, "default", "web", {"spec": {"replicas": 1}})
        await eventually(
            lambda: _bound_pod_deleting(client, crowded["metadata"]["name"]), "the crowded pod"
        )
        survivors = await wait_owned(client, new["metadata"]["uid"], 1)
    assert survivors[0]["metadata"]["name"] == alone["metadata"]["name"]


async def _bound_pod_deleting(client: Client, name: str) -> bool:
    pod = await client.get(PODS, "default", name)
    return bool(pod["metadata"].get("deletionTimestamp"))
