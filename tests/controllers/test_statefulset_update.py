"""StatefulSet updates: RollingUpdate in reverse ordinal order within a partition, OnDelete,
and the ControllerRevisions that ``kubectl rollout history/undo`` read and apply."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from minikube_py.client import PODS, Client
from minikube_py.client.protocol import CONTROLLER_REVISIONS, STATEFULSETS, ApiError
from minikube_py.controllers.statefulset_history import revision_data, revision_hash, revision_name
from tests.controllers.statefulset_harness import (
    make_ready,
    pods,
    running,
    stateful_set,
    wait_pods,
    wait_status,
)
from tests.controllers.stepping import SteppingClock, eventually

Object = dict[str, Any]
IMAGE = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.28"}]}}}}


@contextlib.asynccontextmanager
async def kubelet(client: Client, clock: SteppingClock) -> AsyncIterator[list[str]]:
    """Make every new pod Running and Ready; yields the names of the pods it saw made, in
    order (the first generation included)."""
    made: list[str] = []
    seen: set[str] = set()

    async def loop() -> None:
        while True:
            for name, pod in (await pods(client)).items():
                if pod["metadata"]["uid"] not in seen:
                    seen.add(pod["metadata"]["uid"])
                    made.append(name)
                if (pod.get("status") or {}).get("phase") != "Running":
                    with contextlib.suppress(ApiError):  # raced with a deletion
                        await make_ready(client, clock, name)
            await asyncio.sleep(0.005)

    task = asyncio.ensure_future(loop())
    try:
        yield made
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def revisions(client: Client) -> list[Object]:
    items = (await client.list(CONTROLLER_REVISIONS, "default"))["items"]
    return sorted(items, key=lambda r: r["revision"])


def image(pod: Object) -> str:
    return str(pod["spec"]["containers"][0]["image"])


async def test_rolling_update_replaces_pods_from_the_highest_ordinal(
    client: Client, clock: SteppingClock
) -> None:
    async with running(client, clock), kubelet(client, clock) as made:
        await client.create(STATEFULSETS, "default", stateful_set(3))
        first = await wait_status(client, readyReplicas=3, currentReplicas=3)
        old = first["status"]["currentRevision"]
        await client.patch(STATEFULSETS, "default", "web", IMAGE)
        done = await wait_status(
            client, observedGeneration=2, updatedReplicas=3, currentReplicas=3, readyReplicas=3
        )
        found = await pods(client)
    assert made == ["web-0", "web-1", "web-2", "web-2", "web-1", "web-0"]
    status = done["status"]
    assert status["currentRevision"] == status["updateRevision"] != old
    assert {image(p) for p in found.values()} == {"nginx:1.28"}
    labels = {p["metadata"]["labels"]["controller-revision-hash"] for p in found.values()}
    assert labels == {status["updateRevision"]}


async def test_partition_keeps_lower_ordinals_at_the_current_revision(
    client: Client, clock: SteppingClock
) -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}
    async with running(client, clock), kubelet(client, clock) as made:
        await client.create(STATEFULSETS, "default", stateful_set(3, updateStrategy=strategy))
        first = await wait_status(client, readyReplicas=3, currentReplicas=3)
        old = first["status"]["currentRevision"]
        await client.patch(STATEFULSETS, "default", "web", IMAGE)
        canary = await wait_status(
            client, observedGeneration=2, updatedReplicas=1, currentReplicas=2, readyReplicas=3
        )
        found = await pods(client)
        assert [image(found[f"web-{i}"]) for i in range(3)] == [
            "nginx:1.27",
            "nginx:1.27",
            "nginx:1.28",
        ]
        assert canary["status"]["currentRevision"] == old
        assert made[3:] == ["web-2"]
        # a pod below the partition deleted by hand comes back at the *current* revision
        await client.delete(PODS, "default", "web-0")
        await eventually(lambda: made.count("web-0") == 2, "web-0 recreated")
        again = await wait_pods(client, ["web-0", "web-1", "web-2"])
        assert image(again["web-0"]) == "nginx:1.27"
        patch = {"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}}
        await client.patch(STATEFULSETS, "default", "web", patch)
        done = await wait_status(
            client, observedGeneration=3, updatedReplicas=3, currentReplicas=3, readyReplicas=3
        )
    assert done["status"]["currentRevision"] == done["status"]["updateRevision"]
    assert made[-2:] == ["web-1", "web-0"]


async def test_on_delete_replaces_only_pods_a_user_deletes(
    client: Client, clock: SteppingClock
) -> None:
    async with running(client, clock), kubelet(client, clock) as made:
        spec = stateful_set(2, updateStrategy={"type": "OnDelete"})
        await client.create(STATEFULSETS, "default", spec)
        await wait_status(client, readyReplicas=2, currentReplicas=2)
        await client.patch(STATEFULSETS, "default", "web", IMAGE)
        pending = await wait_status(client, observedGeneration=2, currentReplicas=2)
        assert pending["status"]["updateRevision"] != pending["status"]["currentRevision"]
        assert "updatedReplicas" not in pending["status"]
        await client.delete(PODS, "default", "web-1")
        await eventually(lambda: made.count("web-1") == 2, "web-1 recreated")
        await wait_status(client, updatedReplicas=1, currentReplicas=1, readyReplicas=2)
        found = await pods(client)
    assert image(found["web-1"]) == "nginx:1.28" and image(found["web-0"]) == "nginx:1.27"
    assert made == ["web-0", "web-1", "web-1"]


async def test_revisions_support_rollout_history_and_undo(
    client: Client, clock: SteppingClock
) -> None:
    async with running(client, clock), kubelet(client, clock):
        sts = await client.create(STATEFULSETS, "default", stateful_set(1))
        first = (await wait_status(client, readyReplicas=1, currentReplicas=1))["status"]
        await client.patch(STATEFULSETS, "default", "web", IMAGE)
        await wait_status(client, updatedReplicas=1, currentReplicas=1, observedGeneration=2)
        one, two = await revisions(client)
        assert (one["metadata"]["name"], one["revision"]) == (first["currentRevision"], 1)
        assert two["revision"] == 2
        template = one["data"]["spec"]["template"]
        assert template["$patch"] == "replace" and template["spec"]["containers"][0]["image"] == (
            "nginx:1.27"
        )
        assert one["metadata"]["labels"]["app"] == "web"
        digest = one["metadata"]["labels"]["controller-revision-hash"]
        assert one["metadata"]["name"] == f"web-{digest}"
        (owner,) = one["metadata"]["ownerReferences"]
        assert owner["uid"] == sts["metadata"]["uid"] and owner["controller"] is True
        # what `kubectl rollout undo statefulset/web` does: patch the set with the data of
        # the revision before the latest
        await client.patch(STATEFULSETS, "default", "web", one["data"], patch_type="strategic")
        back = await wait_status(client, updatedReplicas=1, currentReplicas=1, observedGeneration=3)
        found = await pods(client)
    assert back["status"]["updateRevision"] == one["metadata"]["name"]
    assert image(found["web-0"]) == "nginx:1.27"
    after = await revisions(client)
    # the old revision was renumbered to the top, not copied
    assert [(r["metadata"]["name"], r["revision"]) for r in after] == [
        (two["metadata"]["name"], 2),
        (one["metadata"]["name"], 3),
    ]


async def test_revision_history_limit_prunes_unused_revisions(
    client: Client, clock: SteppingClock
) -> None:
    async with running(client, clock), kubelet(client, clock):
        await client.create(STATEFULSETS, "default", stateful_set(1, revisionHistoryLimit=1))
        await wait_status(client, readyReplicas=1, currentReplicas=1)
        for generation, tag in enumerate(("1.28", "1.29", "1.30"), start=2):
            patch = {
                "spec": {
                    "template": {"spec": {"containers": [{"name": "web", "image": f"nginx:{tag}"}]}}
                }
            }
            await client.patch(STATEFULSETS, "default", "web", patch)
            await wait_status(
                client, observedGeneration=generation, updatedReplicas=1, currentReplicas=1
            )
            await wait_status(client, readyReplicas=1)

        async def pruned() -> list[Object] | None:
            found = await revisions(client)
            return found if len(found) == 2 else None

        kept = await eventually(pruned, "two revisions left")
    assert [r["revision"] for r in kept] == [3, 4]


async def test_an_orphan_revision_is_adopted(client: Client, clock: SteppingClock) -> None:
    orphan = {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {"name": "web-old", "namespace": "default", "labels": {"app": "web"}},
        "data": {"spec": {"template": {"$patch": "replace"}}},
        "revision": 7,
    }
    await client.create(CONTROLLER_REVISIONS, "default", orphan)
    async with running(client, clock):
        sts = await client.create(STATEFULSETS, "default", stateful_set(1))
        await wait_pods(client, ["web-0"])

        async def adopted() -> list[Object] | None:
            found = await revisions(client)
            owned = [r for r in found if r["metadata"].get("ownerReferences")]
            return found if len(owned) == 2 else None

        found = await eventually(adopted, "the orphan adopted")
    assert [r["revision"] for r in found] == [7, 8]  # the new revision follows it
    assert found[0]["metadata"]["ownerReferences"][0]["uid"] == sts["metadata"]["uid"]


async def test_a_hash_collision_is_counted_and_hashed_anew(
    client: Client, clock: SteppingClock
) -> None:
    sts = await client.create(STATEFULSETS, "default", stateful_set(1))  # stored, defaulted
    taken = revision_name(sts, revision_hash(revision_data(sts), 0))
    squatter = {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {"name": taken, "namespace": "default", "labels": {"app": "other"}},
        "data": {"spec": {"template": {"$patch": "replace"}}},
        "revision": 1,
    }
    await client.create(CONTROLLER_REVISIONS, "default", squatter)
    async with running(client, clock):
        status = (await wait_status(client, replicas=1))["status"]
    assert status["collisionCount"] == 1
    assert status["updateRevision"] == revision_name(sts, revision_hash(revision_data(sts), 1))


async def test_max_unavailable_takes_that_many_pods_down_at_once(
    client: Client, clock: SteppingClock
) -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "50%"}}
    async with running(client, clock):
        async with kubelet(client, clock):
            made = stateful_set(4, updateStrategy=strategy, podManagementPolicy="Parallel")
            await client.create(STATEFULSETS, "default", made)
            await wait_status(client, readyReplicas=4, currentReplicas=4)
        # no kubelet from here: a replaced pod never becomes ready, so only the budget of
        # 50% of 4 = 2 pods may be replaced, the two highest
        await client.patch(STATEFULSETS, "default", "web", IMAGE)
        await wait_status(client, observedGeneration=2, updatedReplicas=2, currentReplicas=2)
        found = await pods(client)
    assert [image(found[f"web-{i}"]) for i in range(4)] == [
        "nginx:1.27",
        "nginx:1.27",
        "nginx:1.28",
        "nginx:1.28",
    ]
