"""Storage semantics without HTTP: names, preconditions, no-op updates, finalizers, status."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from minikube_py.api import errors
from minikube_py.api.catalog import builtin_registry
from minikube_py.apiserver.listing import ListOptions
from minikube_py.apiserver.storage import Storage
from tests.clusters import bootstrapped_storage

REGISTRY = builtin_registry()
CM = REGISTRY.get("", "v1", "configmaps")
DEPLOY = REGISTRY.get("apps", "v1", "deployments")
SVC = REGISTRY.get("", "v1", "services")
NS = REGISTRY.get("", "v1", "namespaces")
assert CM and DEPLOY and SVC and NS


@pytest.fixture
async def storage() -> AsyncIterator[Storage]:
    async with bootstrapped_storage(REGISTRY) as storage:
        yield storage


def deployment(name: str = "web") -> dict[str, object]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }


async def test_create_fills_server_fields_and_defaults(storage: Storage) -> None:
    created = await storage.create(DEPLOY, "default", deployment())
    metadata = created["metadata"]
    assert metadata["namespace"] == "default" and metadata["generation"] == 1
    assert metadata["uid"] and metadata["creationTimestamp"] and metadata["resourceVersion"]
    assert created["spec"]["replicas"] == 1
    assert created["spec"]["strategy"]["rollingUpdate"] == {
        "maxSurge": "25%",
        "maxUnavailable": "25%",
    }


async def test_generate_name_gets_a_five_character_suffix(storage: Storage) -> None:
    created = await storage.create(CM, "default", {"metadata": {"generateName": "job-"}})
    name = created["metadata"]["name"]
    assert name.startswith("job-") and len(name) == len("job-") + 5


async def test_a_missing_namespace_is_not_found(storage: Storage) -> None:
    with pytest.raises(errors.ApiError) as raised:
        await storage.create(CM, "nowhere", {"metadata": {"name": "x"}})
    assert raised.value.code == 404 and 'namespaces "nowhere" not found' in raised.value.message


async def test_updates_honour_resource_version_and_skip_no_ops(storage: Storage) -> None:
    created = await storage.create(CM, "default", {"metadata": {"name": "c"}, "data": {"a": "1"}})
    same = await storage.update(CM, "default", "c", created)
    assert same["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    changed = await storage.update(CM, "default", "c", {**created, "data": {"a": "2"}})
    assert changed["metadata"]["resourceVersion"] != created["metadata"]["resourceVersion"]
    with pytest.raises(errors.ApiError) as raised:
        await storage.update(CM, "default", "c", {**created, "data": {"a": "3"}})
    assert raised.value.code == 409 and raised.value.reason == "Conflict"


async def test_a_different_uid_is_refused_and_a_missing_one_filled_in(storage: Storage) -> None:
    created = await storage.create(DEPLOY, "default", deployment())
    uid = created["metadata"]["uid"]
    unnamed = {**created, "metadata": {k: v for k, v in created["metadata"].items() if k != "uid"}}
    unnamed["metadata"]["labels"] = {"a": "b"}
    kept = await storage.update(DEPLOY, "default", "web", unnamed)
    assert kept["metadata"]["uid"] == uid
    # a writer naming another uid means an object re-made under this name: refused, also
    # on /status (the kubelet's and the controllers' guard)
    for subresource in (None, "status"):
        stale = {**kept, "metadata": {**kept["metadata"], "uid": "not-" + uid}}
        with pytest.raises(errors.ApiError) as raised:
            await storage.update(DEPLOY, "default", "web", stale, subresource=subresource)
        assert raised.value.code == 422
        assert "metadata.uid" in str(raised.value) and "field is immutable" in str(raised.value)
    assert (await storage.get(DEPLOY, "default", "web"))["metadata"]["uid"] == uid


async def test_spec_changes_bump_generation_and_status_is_separate(storage: Storage) -> None:
    created = await storage.create(DEPLOY, "default", deployment())
    status = {**created, "status": {"replicas": 5}, "spec": {**created["spec"], "replicas": 9}}
    after_status = await storage.update(DEPLOY, "default", "web", status, subresource="status")
    assert after_status["status"] == {"replicas": 5}
    assert after_status["spec"]["replicas"] == 1  # /status ignores the spec
    assert after_status["metadata"]["generation"] == 1
    spec = {**after_status, "spec": {**after_status["spec"], "replicas": 3}, "status": {}}
    after_spec = await storage.update(DEPLOY, "default", "web", spec)
    assert after_spec["spec"]["replicas"] == 3
    assert after_spec["status"] == {"replicas": 5}  # the main resource ignores the status
    assert after_spec["metadata"]["generation"] == 2


async def test_finalizers_hold_deletion_until_removed(storage: Storage) -> None:
    await storage.create(CM, "default", {"metadata": {"name": "f", "finalizers": ["x/y"]}})
    marked = await storage.delete(CM, "default", "f")
    assert marked["metadata"]["deletionTimestamp"]
    still = await storage.get(CM, "default", "f")
    released = {**still, "metadata": {**still["metadata"], "finalizers": []}}
    await storage.update(CM, "default", "f", released)
    with pytest.raises(errors.ApiError) as raised:
        await storage.get(CM, "default", "f")
    assert raised.value.code == 404


async def test_delete_preconditions(storage: Storage) -> None:
    await storage.create(CM, "default", {"metadata": {"name": "p"}})
    with pytest.raises(errors.ApiError) as raised:
        await storage.delete(CM, "default", "p", {"preconditions": {"uid": "other"}})
    assert raised.value.code == 409 and "Precondition failed: UID" in raised.value.message
    await storage.get(CM, "default", "p")


async def test_dry_run_writes_nothing(storage: Storage) -> None:
    await storage.create(CM, "default", {"metadata": {"name": "d"}}, dry_run=True)
    with pytest.raises(errors.ApiError):
        await storage.get(CM, "default", "d")


async def test_services_get_distinct_cluster_ips_and_node_ports(storage: Storage) -> None:
    def service(name: str, **spec: object) -> dict[str, object]:
        return {"metadata": {"name": name}, "spec": {"ports": [{"port": 80}], **spec}}

    one = await storage.create(SVC, "default", service("one", type="NodePort"))
    two = await storage.create(SVC, "default", service("two"))
    assert one["spec"]["clusterIP"] != two["spec"]["clusterIP"]
    assert one["spec"]["clusterIP"].startswith("127.96.")
    assert 30000 <= one["spec"]["ports"][0]["nodePort"] <= 32767
    with pytest.raises(errors.ApiError) as raised:
        await storage.create(SVC, "default", service("three", clusterIP=one["spec"]["clusterIP"]))
    assert raised.value.code == 422 and "already allocated" in raised.value.message
    headless = await storage.create(SVC, "default", service("four", clusterIP="None"))
    assert headless["spec"]["clusterIP"] == "None"


async def test_lists_filter_by_labels_and_page(storage: Storage) -> None:
    for i in range(7):
        labels = {"tier": "a" if i % 2 else "b"}
        await storage.create(CM, "default", {"metadata": {"name": f"l{i}", "labels": labels}})
    listed = await storage.list(CM, "default", ListOptions(label_selector="tier=a"))
    assert [i["metadata"]["name"] for i in listed["items"]] == ["l1", "l3", "l5"]
    first = await storage.list(CM, "default", ListOptions(limit=3))
    assert len(first["items"]) == 3 and first["metadata"]["continue"]
    rest = await storage.list(
        CM, "default", ListOptions(limit=10, continue_token=first["metadata"]["continue"])
    )
    names = [i["metadata"]["name"] for i in first["items"] + rest["items"]]
    assert names == sorted(f"l{i}" for i in range(7))
