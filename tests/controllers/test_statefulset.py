"""The StatefulSet controller against a real in-process API server, nothing else running: the
tests play the scheduler and kubelet (``statefulset_harness.py``)."""

from __future__ import annotations

from typing import Any

from minikube_py.client import PODS, Client
from minikube_py.client.protocol import STATEFULSETS
from tests.controllers.statefulset_harness import (
    bind,
    events,
    finish_deletion,
    live,
    make_ready,
    pods,
    running,
    set_phase,
    stateful_set,
    wait_pods,
    wait_status,
)
from tests.controllers.stepping import SteppingClock, eventually

Object = dict[str, Any]


async def test_ordered_ready_makes_one_pod_at_a_time_with_its_identity(
    client: Client, clock: SteppingClock
) -> None:
    async with running(client, clock):
        sts = await client.create(STATEFULSETS, "default", stateful_set(3))
        await wait_pods(client, ["web-0"])
        # the pass that made web-0 has written its status: web-1 waits for web-0
        await wait_status(client, replicas=1, observedGeneration=1)
        assert await live(client) == ["web-0"]
        await make_ready(client, clock, "web-0")
        await wait_pods(client, ["web-0", "web-1"])
        await wait_status(client, replicas=2)
        await make_ready(client, clock, "web-1")
        found = await wait_pods(client, ["web-0", "web-1", "web-2"])
        await make_ready(client, clock, "web-2")
        status = (await wait_status(client, readyReplicas=3))["status"]
    assert status["replicas"] == 3 and status["availableReplicas"] == 3
    assert status["currentReplicas"] == 3 and status["updatedReplicas"] == 3
    assert status["currentRevision"] == status["updateRevision"]
    assert status["currentRevision"].startswith("web-")
    assert status["collisionCount"] == 0
    pod = found["web-2"]
    assert pod["metadata"]["labels"] == {
        "app": "web",
        "statefulset.kubernetes.io/pod-name": "web-2",
        "apps.kubernetes.io/pod-index": "2",
        "controller-revision-hash": status["updateRevision"],
    }
    assert pod["spec"]["hostname"] == "web-2" and pod["spec"]["subdomain"] == "web"
    (reference,) = pod["metadata"]["ownerReferences"]
    assert reference == {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "name": "web",
        "uid": sts["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
    created = await events(client, "SuccessfulCreate")
    assert sorted(created) == [
        f"create Pod web-{i} in StatefulSet web successful" for i in range(3)
    ]


async def test_scale_down_deletes_highest_first_waiting_for_each(
    client: Client, clock: SteppingClock
) -> None:
    async with running(client, clock):
        await client.create(STATEFULSETS, "default", stateful_set(3))
        for count in (1, 2, 3):
            name = f"web-{count - 1}"
            await wait_pods(client, [f"web-{i}" for i in range(count)])
            await bind(client, name)  # bound: deleting it waits for the kubelet
            await make_ready(client, clock, name)
        await wait_status(client, readyReplicas=3)
        await client.patch(STATEFULSETS, "default", "web", {"spec": {"replicas": 1}})

        async def terminating() -> list[str]:
            found = await pods(client)
            return sorted(n for n, p in found.items() if p["metadata"].get("deletionTimestamp"))

        assert await eventually(terminating, "a pod terminating") == ["web-2"]
        await wait_status(client, observedGeneration=2)
        assert await terminating() == ["web-2"]  # web-1 waits until web-2 is gone
        await finish_deletion(client, "web-2")
        assert await eventually(terminating, "web-1 terminating") == ["web-1"]
        await finish_deletion(client, "web-1")
        await wait_pods(client, ["web-0"])
        await wait_status(client, replicas=1, readyReplicas=1)
    deleted = await events(client, "SuccessfulDelete")
    assert sorted(deleted) == [f"delete Pod web-{i} in StatefulSet web successful" for i in (1, 2)]


async def test_parallel_makes_and_removes_pods_all_at_once(
    client: Client, clock: SteppingClock
) -> None:
    async with running(client, clock):
        await client.create(
            STATEFULSETS, "default", stateful_set(4, podManagementPolicy="Parallel")
        )
        await wait_pods(client, ["web-0", "web-1", "web-2", "web-3"])  # none of them ready
        await client.patch(STATEFULSETS, "default", "web", {"spec": {"replicas": 1}})
        await wait_pods(client, ["web-0"])
        status = (await wait_status(client, replicas=1))["status"]
    assert "readyReplicas" not in status  # zero: left out, as upstream's omitempty


async def test_a_deleted_or_failed_pod_comes_back_under_its_name(
    client: Client, clock: SteppingClock
) -> None:
    async with running(client, clock):
        await client.create(STATEFULSETS, "default", stateful_set(2))
        await wait_pods(client, ["web-0"])
        await make_ready(client, clock, "web-0")
        await wait_pods(client, ["web-0", "web-1"])
        await make_ready(client, clock, "web-1")
        await wait_status(client, readyReplicas=2)
        first = (await pods(client))["web-0"]["metadata"]["uid"]
        await client.delete(PODS, "default", "web-0")

        async def replaced(name: str, uid: str) -> bool:
            pod = (await pods(client)).get(name)
            return pod is not None and pod["metadata"]["uid"] != uid

        await eventually(lambda: replaced("web-0", first), "web-0 recreated")
        await make_ready(client, clock, "web-0")
        await wait_status(client, readyReplicas=2)
        failed = (await pods(client))["web-1"]["metadata"]["uid"]
        await set_phase(client, clock, "web-1", "Failed", ready=False)
        await eventually(lambda: replaced("web-1", failed), "web-1 recreated")
    warnings = await events(client, "RecreatingFailedPod")
    assert warnings == ["StatefulSet default/web is recreating failed Pod web-1"]


async def test_start_ordinal_names_the_pods(client: Client, clock: SteppingClock) -> None:
    async with running(client, clock):
        spec = stateful_set(2, podManagementPolicy="Parallel", ordinals={"start": 5})
        await client.create(STATEFULSETS, "default", spec)
        found = await wait_pods(client, ["web-5", "web-6"])
        await client.patch(STATEFULSETS, "default", "web", {"spec": {"ordinals": {"start": 6}}})
        await wait_pods(client, ["web-6", "web-7"])
    assert found["web-6"]["metadata"]["labels"]["apps.kubernetes.io/pod-index"] == "6"


async def test_adopts_a_matching_orphan_and_releases_a_stray(
    client: Client, clock: SteppingClock
) -> None:
    orphan = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web-0", "namespace": "default", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
    }
    await client.create(PODS, "default", orphan)
    async with running(client, clock):
        # OnDelete: the adopted pod, of no known revision, is not replaced by an update
        spec = stateful_set(1, updateStrategy={"type": "OnDelete"})
        sts = await client.create(STATEFULSETS, "default", spec)

        async def adopted() -> bool:
            pod = (await pods(client))["web-0"]
            references = pod["metadata"].get("ownerReferences") or []
            return [r["uid"] for r in references] == [sts["metadata"]["uid"]]

        await eventually(adopted, "web-0 adopted")
        await make_ready(client, clock, "web-0")
        # once it is Running and Ready, an update gives it the identity label it lacked
        await eventually(
            lambda: _label(client, "web-0", "statefulset.kubernetes.io/pod-name"), "identity"
        )
        await client.patch(PODS, "default", "web-0", {"metadata": {"labels": {"app": "other"}}})

        async def released() -> bool:
            pod = (await pods(client))["web-0"]
            return not pod["metadata"].get("ownerReferences")

        await eventually(released, "web-0 released")
    assert "update Pod web-0 in StatefulSet web successful" in await events(
        client, "SuccessfulUpdate"
    )


async def _label(client: Client, name: str, label: str) -> str | None:
    pod = (await pods(client)).get(name) or {}
    labels: dict[str, str] = (pod.get("metadata") or {}).get("labels") or {}
    return labels.get(label)


async def test_min_ready_seconds_holds_the_next_pod(client: Client, clock: SteppingClock) -> None:
    async with running(client, clock):
        await client.create(STATEFULSETS, "default", stateful_set(2, minReadySeconds=10))
        await wait_pods(client, ["web-0"])
        await make_ready(client, clock, "web-0")
        await wait_status(client, readyReplicas=1, availableReplicas=0)
        assert await live(client) == ["web-0"]
        await clock.settle(1)  # the set's requeue sleeps until web-0 will be available
        await clock.step(11, sleepers=1, by=11)
        await wait_pods(client, ["web-0", "web-1"])
        await wait_status(client, availableReplicas=1)


async def test_nothing_is_written_when_nothing_changed(
    client: Client, clock: SteppingClock
) -> None:
    async with running(client, clock) as controller:
        await client.create(STATEFULSETS, "default", stateful_set(1))
        await wait_pods(client, ["web-0"])
        await make_ready(client, clock, "web-0")
        before = await wait_status(client, readyReplicas=1, currentReplicas=1)
        pod_before = (await pods(client))["web-0"]
        await controller.reconcile("default/web")
        await controller.reconcile("default/web")
    after = await client.get(STATEFULSETS, "default", "web")
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    pod_after = (await pods(client))["web-0"]
    assert pod_after["metadata"]["resourceVersion"] == pod_before["metadata"]["resourceVersion"]


async def test_a_finished_pod_is_recreated_but_one_still_going_is_waited_for(
    client: Client, clock: SteppingClock
) -> None:
    async with running(client, clock) as controller:
        await client.create(STATEFULSETS, "default", stateful_set(1))
        first = (await wait_pods(client, ["web-0"]))["web-0"]
        await set_phase(client, clock, "web-0", "Succeeded", ready=False)

        async def replaced(uid: str) -> Object | None:
            pod = (await pods(client)).get("web-0")
            return pod if pod is not None and pod["metadata"]["uid"] != uid else None

        second = await eventually(lambda: replaced(first["metadata"]["uid"]), "web-0 recreated")
        await bind(client, "web-0")
        await client.delete(PODS, "default", "web-0")  # graceful: bound to a node
        await set_phase(client, clock, "web-0", "Failed", ready=False)
        await wait_status(client, replicas=1, observedGeneration=1)
        await controller.reconcile("default/web")  # would fail creating a pod of that name
        assert (await pods(client))["web-0"]["metadata"]["uid"] == second["metadata"]["uid"]
        await finish_deletion(client, "web-0")
        await eventually(lambda: replaced(second["metadata"]["uid"]), "web-0 recreated again")
    assert await events(client, "RecreatingTerminatedPod") == [
        "StatefulSet default/web is recreating terminated Pod web-0"
    ]
    assert await events(client, "RecreatingFailedPod") == []  # it was already going
