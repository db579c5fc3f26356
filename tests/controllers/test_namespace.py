"""The namespace controller against a real in-process API server (with its CRD controller, so
that custom resources are served): a deleted namespace is emptied, then removed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from minikube_py.api.catalog import builtin_registry
from minikube_py.apiserver.bootstrap import bootstrap
from minikube_py.apiserver.crds import CrdController
from minikube_py.apiserver.local import LocalBackend
from minikube_py.apiserver.storage import Storage
from minikube_py.apiserver.watchcache import WatchCache
from minikube_py.client import CONFIGMAPS, NAMESPACES, PODS, SERVICE_ACCOUNTS, ApiError, Client
from minikube_py.client.protocol import GVR
from minikube_py.controllers import ControllerManager
from minikube_py.controllers.namespace import NamespaceController
from minikube_py.controllers.namespace_deleter import FINALIZER_ESTIMATE_SECONDS
from minikube_py.store import open_store
from tests.clusters import seed_service_accounts
from tests.controllers.stepping import SteppingClock, eventually

Object = dict[str, Any]
CRDS = GVR("apiextensions.k8s.io", "v1", "customresourcedefinitions")
WIDGETS = GVR("example.com", "v1", "widgets")
WIDGET_CRD: Object = {
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": True,
                    }
                },
            }
        ],
    },
}


@contextlib.asynccontextmanager
async def serving_custom_resources() -> AsyncIterator[Client]:
    """An in-process API server that also serves custom resources (its CRD controller runs)."""
    store = await open_store("sqlite://")
    cache = WatchCache(store)
    storage = Storage(store, builtin_registry())
    storage.track_namespaces(cache)
    crds = CrdController(storage)
    try:
        await cache.start()
        await crds.start(cache)
        await bootstrap(storage, host="127.0.0.1", port=8443)
        await seed_service_accounts(storage)
        yield LocalBackend(storage, cache).client()
    finally:
        await crds.stop()
        await cache.stop()
        await store.close()


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    async with serving_custom_resources() as made:
        yield made


@contextlib.asynccontextmanager
async def running(client: Client, clock: SteppingClock) -> AsyncIterator[NamespaceController]:
    controller = NamespaceController(client, clock=clock)
    task = asyncio.ensure_future(ControllerManager(client, [controller]).run())
    try:
        yield controller
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def widget_served(client: Client) -> None:
    await client.create(CRDS, None, WIDGET_CRD)

    async def served() -> bool:
        try:
            await client.list(WIDGETS, "default")
        except ApiError:
            return False
        return True

    await eventually(served, "widgets served")


async def gone(client: Client, name: str) -> bool:
    try:
        await client.get(NAMESPACES, None, name)
    except ApiError as error:
        return error.code == 404
    return False


def conditions(namespace: Object) -> dict[str, Object]:
    return {c["type"]: c for c in (namespace.get("status") or {}).get("conditions") or []}


async def fill(client: Client, name: str) -> None:
    await client.create(NAMESPACES, None, {"metadata": {"name": name}})
    # what the serviceaccount controller would make: admission wants it before pods
    await client.create(SERVICE_ACCOUNTS, name, {"metadata": {"name": "default"}})
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    await client.create(PODS, name, pod)
    await client.create(CONFIGMAPS, name, {"metadata": {"name": "settings"}, "data": {"a": "1"}})


async def test_deleting_marks_terminating_and_nothing_empties_it_without_the_controller(
    client: Client,
) -> None:
    await fill(client, "shop")
    marked = await client.delete(NAMESPACES, None, "shop")
    assert marked["status"]["phase"] == "Terminating"
    assert marked["spec"]["finalizers"] == ["kubernetes"]
    with pytest.raises(ApiError) as refused:
        await client.create(CONFIGMAPS, "shop", {"metadata": {"name": "late"}})
    assert refused.value.code == 403
    # a second delete while it holds content: answered with the namespace, which stays
    again = await client.delete(NAMESPACES, None, "shop")
    assert again["metadata"]["deletionTimestamp"] == marked["metadata"]["deletionTimestamp"]
    await asyncio.sleep(0.05)
    assert len((await client.list(CONFIGMAPS, "shop"))["items"]) == 1
    assert not await gone(client, "shop")


async def test_a_deleted_namespace_is_emptied_of_everything_then_removed(
    client: Client, clock: SteppingClock
) -> None:
    await widget_served(client)
    await fill(client, "shop")
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    await client.create(WIDGETS, "shop", widget)
    await fill(client, "other")
    async with running(client, clock):
        await client.delete(NAMESPACES, None, "shop")
        await eventually(lambda: gone(client, "shop"), "namespace shop removed")
    for gvr in (PODS, CONFIGMAPS, WIDGETS, SERVICE_ACCOUNTS):
        assert (await client.list(gvr, "shop"))["items"] == []
    # a namespace not deleted keeps its content
    assert len((await client.list(CONFIGMAPS, "other"))["items"]) == 1
    assert (await client.get(NAMESPACES, None, "other"))["status"]["phase"] == "Active"


async def test_content_with_a_finalizer_holds_the_namespace_with_conditions_saying_why(
    client: Client, clock: SteppingClock
) -> None:
    await fill(client, "shop")
    held = {"metadata": {"name": "held", "finalizers": ["example.com/keep"]}}
    await client.create(CONFIGMAPS, "shop", held)
    async with running(client, clock) as controller:
        await client.delete(NAMESPACES, None, "shop")

        async def waiting() -> Object | None:
            namespace = await client.get(NAMESPACES, None, "shop")
            found = conditions(namespace)
            remaining = found.get("NamespaceFinalizersRemaining", {})
            return namespace if remaining.get("status") == "True" else None

        namespace = await eventually(waiting, "NamespaceFinalizersRemaining")
        found = conditions(namespace)
        assert namespace["status"]["phase"] == "Terminating"
        assert found["NamespaceFinalizersRemaining"]["reason"] == "SomeFinalizersRemain"
        assert found["NamespaceFinalizersRemaining"]["message"] == (
            "Some content in the namespace has finalizers remaining: "
            "example.com/keep in 1 resource instances"
        )
        assert found["NamespaceContentRemaining"]["reason"] == "SomeResourcesRemain"
        assert found["NamespaceContentRemaining"]["message"] == (
            "Some resources are remaining: configmaps. has 1 resource instances"
        )
        assert found["NamespaceDeletionContentFailure"]["status"] == "False"
        assert found["NamespaceDeletionContentFailure"]["reason"] == "ContentDeleted"
        assert found["NamespaceDeletionDiscoveryFailure"]["status"] == "False"
        assert (await client.list(PODS, "shop"))["items"] == []
        # whoever holds the finalizer lets go; the controller looks again after its estimate
        await client.patch(CONFIGMAPS, "shop", "held", {"metadata": {"finalizers": None}})
        await asyncio.sleep(0.05)
        assert not await gone(client, "shop")  # not before the requeue is due
        clock.advance(FINALIZER_ESTIMATE_SECONDS // 2 + 1)
        await eventually(lambda: gone(client, "shop"), "namespace shop removed")
        assert controller.queue.requeues("shop") == 0


async def test_finalize_subresource_takes_only_the_finalizers(client: Client) -> None:
    await client.create(NAMESPACES, None, {"metadata": {"name": "shop", "labels": {"a": "b"}}})
    namespace = await client.get(NAMESPACES, None, "shop")
    namespace["metadata"]["labels"] = {"changed": "yes"}
    namespace["spec"]["finalizers"] = ["example.com/mine", "kubernetes"]
    finalized = await client.finalize_namespace(namespace)
    assert finalized["spec"]["finalizers"] == ["example.com/mine", "kubernetes"]
    assert finalized["metadata"]["labels"]["a"] == "b"
    await client.delete(NAMESPACES, None, "shop")
    finalized["spec"]["finalizers"] = []
    stale = finalized["metadata"]["resourceVersion"]
    with pytest.raises(ApiError) as conflict:  # its resourceVersion is a precondition
        await client.finalize_namespace(finalized)
    assert conflict.value.code == 409
    current = await client.get(NAMESPACES, None, "shop")
    assert current["metadata"]["resourceVersion"] != stale
    current["spec"]["finalizers"] = []
    await client.finalize_namespace(current)
    assert await gone(client, "shop")  # finalized while being deleted: the server removes it
