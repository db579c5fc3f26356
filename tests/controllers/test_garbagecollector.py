"""The garbage collector against a real in-process API server: background, foreground and
orphan deletion of a ReplicaSet's pods, and a dependent with two owners.

No ReplicaSet controller runs (but in the last test): the tests make the pods themselves, with
the ownerReferences that controller would give them, so that only the collector touches them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from minikube_py.client import CONFIGMAPS, NODES, PODS, REPLICASETS, ApiError, Client
from minikube_py.client.protocol import GVR
from minikube_py.controllers import ControllerManager
from minikube_py.controllers.garbagecollector import GarbageCollector
from minikube_py.controllers.gc_monitors import RESYNC_SECONDS
from minikube_py.controllers.replicaset import ReplicaSetController
from tests.controllers.stepping import SteppingClock, eventually
from tests.controllers.test_namespace import WIDGETS, serving_custom_resources, widget_served

Object = dict[str, Any]
PODTEMPLATES = GVR("", "v1", "podtemplates")
CRDS = GVR("apiextensions.k8s.io", "v1", "customresourcedefinitions")


@contextlib.asynccontextmanager
async def running(client: Client, clock: SteppingClock) -> AsyncIterator[GarbageCollector]:
    collector = GarbageCollector(client, clock=clock)
    manager = ControllerManager(client, [collector])
    task = asyncio.ensure_future(manager.run())
    try:
        await eventually(lambda: manager.informers.has_synced, "caches synced")
        yield collector
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def reference(owner: Object, *, block: bool = True, controller: bool = True) -> Object:
    return {
        "apiVersion": owner.get("apiVersion", "apps/v1"),
        "kind": owner.get("kind", "ReplicaSet"),
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": controller,
        "blockOwnerDeletion": block,
    }


async def replica_set(client: Client, name: str = "web") -> Object:
    body = {
        "metadata": {"name": name},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }
    created = await client.create(REPLICASETS, "default", body)
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", **created}


async def pod(client: Client, name: str, *owners: Object) -> Object:
    body = {
        "metadata": {"name": name, "labels": {"app": "web"}, "ownerReferences": list(owners)},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
    }
    return await client.create(PODS, "default", body)


async def exists(client: Client, gvr: GVR, name: str) -> bool:
    try:
        await client.get(gvr, "default", name)
    except ApiError as error:
        assert error.code == 404
        return False
    return True


async def names(client: Client, gvr: GVR) -> set[str]:
    return {item["metadata"]["name"] for item in (await client.list(gvr, "default"))["items"]}


async def test_background_deletion_takes_the_pods_with_the_replica_set(
    client: Client, clock: SteppingClock
) -> None:
    rs = await replica_set(client)
    await pod(client, "web-a", reference(rs))
    await pod(client, "web-b", reference(rs))
    await pod(client, "loner")
    async with running(client, clock):
        deleted = await client.delete(
            REPLICASETS, "default", "web", propagation_policy="Background"
        )
        assert not deleted["metadata"].get("finalizers")
        assert not await exists(client, REPLICASETS, "web")  # the owner goes at once
        await eventually(lambda: _without(client, {"web-a", "web-b"}), "dependents deleted")
        assert await exists(client, PODS, "loner")


async def _without(client: Client, gone: set[str]) -> bool:
    return not (await names(client, PODS)) & gone


async def test_a_dependent_whose_owner_vanished_before_the_collector_started_is_collected(
    client: Client, clock: SteppingClock
) -> None:
    rs = await replica_set(client)
    await pod(client, "web-a", reference(rs))
    await client.delete(REPLICASETS, "default", "web")  # no policy: background, as upstream
    assert await exists(client, PODS, "web-a")  # nobody collects without the collector
    async with running(client, clock):
        await eventually(lambda: _without(client, {"web-a"}), "orphan collected")


async def test_foreground_deletion_keeps_the_owner_until_blocking_dependents_are_gone(
    client: Client, clock: SteppingClock
) -> None:
    rs = await replica_set(client)
    await pod(client, "web-a", reference(rs))
    # a blocking dependent that cannot go yet: its own finalizer holds it
    held = await pod(client, "web-held", reference(rs))
    await client.patch(PODS, "default", "web-held", {"metadata": {"finalizers": ["example.com/x"]}})
    # a dependent that does not block: deleted, but not waited for
    free = {"metadata": {"name": "cfg", "ownerReferences": [reference(rs, block=False)]}}
    await client.create(CONFIGMAPS, "default", free)
    async with running(client, clock):
        marked = await client.delete(REPLICASETS, "default", "web", propagation_policy="Foreground")
        assert marked["metadata"]["finalizers"] == ["foregroundDeletion"]
        await eventually(lambda: _without(client, {"web-a"}), "dependent deleted")
        await eventually(lambda: _config_gone(client), "non-blocking dependent deleted")
        terminating = await client.get(PODS, "default", "web-held")
        assert terminating["metadata"].get("deletionTimestamp")
        await asyncio.sleep(0.1)
        owner = await client.get(REPLICASETS, "default", "web")
        assert owner["metadata"]["finalizers"] == ["foregroundDeletion"]  # still waiting
        await client.patch(PODS, "default", "web-held", {"metadata": {"finalizers": None}})
        await eventually(lambda: _rs_gone(client), "owner removed after its dependents")
    assert held["metadata"]["uid"]


async def _config_gone(client: Client) -> bool:
    return not await exists(client, CONFIGMAPS, "cfg")


async def _rs_gone(client: Client) -> bool:
    return not await exists(client, REPLICASETS, "web")


async def test_orphan_deletion_frees_the_dependents_and_keeps_them(
    client: Client, clock: SteppingClock
) -> None:
    rs = await replica_set(client)
    await pod(client, "web-a", reference(rs))
    await pod(client, "web-b", reference(rs))
    async with running(client, clock):
        marked = await client.delete(REPLICASETS, "default", "web", propagation_policy="Orphan")
        assert marked["metadata"]["finalizers"] == ["orphan"]
        await eventually(lambda: _rs_gone(client), "owner removed once dependents are orphaned")
        for name in ("web-a", "web-b"):
            kept = await client.get(PODS, "default", name)
            assert not kept["metadata"].get("ownerReferences")
            assert not kept["metadata"].get("deletionTimestamp")
        await asyncio.sleep(0.1)  # and the collector leaves the orphans alone
        assert await names(client, PODS) >= {"web-a", "web-b"}


async def test_a_dependent_with_another_live_owner_only_loses_the_dangling_reference(
    client: Client, clock: SteppingClock
) -> None:
    first, second = await replica_set(client, "first"), await replica_set(client, "second")
    await pod(client, "shared", reference(first), reference(second, controller=False))
    async with running(client, clock):
        await client.delete(REPLICASETS, "default", "first")

        async def one_reference() -> list[Object] | None:
            references = (await client.get(PODS, "default", "shared"))["metadata"].get(
                "ownerReferences"
            )
            return references if len(references) == 1 else None

        references = await eventually(one_reference, "dangling reference removed")
        assert references[0]["uid"] == second["metadata"]["uid"]
        assert not (await client.get(PODS, "default", "shared"))["metadata"].get(
            "deletionTimestamp"
        )
        await client.delete(REPLICASETS, "default", "second")
        await eventually(lambda: _without(client, {"shared"}), "collected when the last goes")


async def test_an_owner_recreated_under_the_same_name_is_not_the_owner(
    client: Client, clock: SteppingClock
) -> None:
    rs = await replica_set(client)
    await pod(client, "web-a", reference(rs))
    await client.delete(REPLICASETS, "default", "web")
    await replica_set(client)  # same name, another uid: the reference still dangles
    async with running(client, clock):
        await eventually(lambda: _without(client, {"web-a"}), "dependent of the old uid collected")
        assert await exists(client, REPLICASETS, "web")


@pytest.mark.parametrize("policy", ["Orphan", "Foreground"])
async def test_an_owner_without_dependents_is_removed(
    client: Client, clock: SteppingClock, policy: str
) -> None:
    await replica_set(client)
    async with running(client, clock):
        await client.delete(REPLICASETS, "default", "web", propagation_policy=policy)
        await eventually(lambda: _rs_gone(client), f"{policy} owner with no dependents removed")


async def test_custom_resources_own_and_are_owned(clock: SteppingClock) -> None:
    async with serving_custom_resources() as client, running(client, clock) as collector:
        await widget_served(client)  # after the collector started: it starts watching
        widget = await client.create(
            WIDGETS,
            "default",
            {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}},
        )
        owned = {"metadata": {"name": "cfg", "ownerReferences": [reference(widget)]}}
        await client.create(CONFIGMAPS, "default", owned)
        parent = await client.create(CONFIGMAPS, "default", {"metadata": {"name": "parent"}})
        parent = {"apiVersion": "v1", "kind": "ConfigMap", **parent}
        child = {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "child", "ownerReferences": [reference(parent)]},
        }
        await client.create(WIDGETS, "default", child)
        await client.delete(WIDGETS, "default", "w")
        await eventually(lambda: _config_gone(client), "configmap owned by a widget collected")
        await client.delete(CONFIGMAPS, "default", "parent")
        await eventually(lambda: _widgets_gone(client), "widgets owned by a configmap collected")
        assert WIDGETS in collector.monitors.watched  # it took a monitor to see the widgets
        await client.delete(CRDS, None, "widgets.example.com")

        def stopped() -> bool:
            # the CRD's events wake a re-discovery, which may still find it served: the
            # periodic one (30 s on the fake clock) does not
            clock.advance(RESYNC_SECONDS)
            return WIDGETS not in collector.monitors.watched

        await eventually(stopped, "monitor stopped")


async def _widgets_gone(client: Client) -> bool:
    return not await names(client, WIDGETS)


async def test_a_cluster_scoped_object_naming_a_namespaced_owner_is_left_alone(
    client: Client, clock: SteppingClock
) -> None:
    rs = await replica_set(client)
    body = {"metadata": {"name": "odd", "ownerReferences": [reference(rs)]}}
    await client.create(NODES, None, body)
    await client.delete(REPLICASETS, "default", "web")
    async with running(client, clock) as collector:
        await pod(client, "web-a", reference(rs))
        await eventually(lambda: _without(client, {"web-a"}), "the namespaced dependent collected")
        await eventually(lambda: not len(collector.queue), "nothing left to do")
        assert (await client.get(NODES, None, "odd"))["metadata"]["ownerReferences"]


async def test_a_kind_no_controller_watches_is_still_deleted_in_foreground_or_orphaned(
    client: Client, clock: SteppingClock
) -> None:
    template = {"template": {"spec": {"containers": [{"name": "c", "image": "nginx"}]}}}
    for name in ("fore", "orphan"):
        await client.create(PODTEMPLATES, "default", {"metadata": {"name": name}, **template})
    async with running(client, clock) as collector:
        await eventually(lambda: PODTEMPLATES in collector.monitors.watched, "found by discovery")
        await client.delete(PODTEMPLATES, "default", "fore", propagation_policy="Foreground")
        await client.delete(PODTEMPLATES, "default", "orphan", propagation_policy="Orphan")
        await eventually(lambda: _templates_gone(client), "both released by their finalizers")


async def _templates_gone(client: Client) -> bool:
    return not await names(client, PODTEMPLATES)


async def test_an_owner_of_an_unknown_kind_is_neither_trusted_nor_retried_in_a_hurry(
    client: Client, clock: SteppingClock
) -> None:
    ghost = {"apiVersion": "nowhere.example.com/v1", "kind": "Ghost", "name": "g", "uid": "u-1"}
    await pod(client, "haunted", ghost)
    async with running(client, clock) as collector:
        await eventually(lambda: collector.graph.get("u-1") is not None, "the virtual owner")
        # asleep on the clock: the periodic re-discovery, and the owner's look in 60 s
        await clock.settle(2)
        assert await exists(client, PODS, "haunted")  # not deleted on a guess
        assert collector.queue.requeues("delete/u-1") == 0  # no error back-off storm
        await clock.step(60, sleepers=2, by=30)  # looked at again, and again put off
        assert await exists(client, PODS, "haunted")


async def test_with_the_replica_set_controller_a_foreground_deletion_takes_its_pods_first(
    client: Client, clock: SteppingClock
) -> None:
    controllers = [ReplicaSetController(client, clock=clock), GarbageCollector(client, clock=clock)]
    task = asyncio.ensure_future(ControllerManager(client, controllers).run())
    try:
        await replica_set(client)
        await eventually(lambda: _pod_count(client, 2), "the ReplicaSet's two pods")
        pods = (await client.list(PODS, "default"))["items"]
        assert all(p["metadata"]["ownerReferences"][0]["blockOwnerDeletion"] for p in pods)
        await client.delete(REPLICASETS, "default", "web", propagation_policy="Foreground")
        await eventually(lambda: _rs_gone(client), "the ReplicaSet removed")
        assert await _pod_count(client, 0)  # none re-made while the owner was going
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _pod_count(client: Client, count: int) -> bool:
    return len(await names(client, PODS)) == count
