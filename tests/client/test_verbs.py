"""Every verb, against a real cluster, through both clients: they must behave the same."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from minikube_py.client import (
    CONFIGMAPS,
    DEPLOYMENTS,
    GVR,
    NAMESPACES,
    PODS,
    ApiError,
    Client,
)
from tests.client.helpers import configmap

NS = "default"


def deployment(name: str, replicas: int = 2) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]},
            },
        },
    }


async def test_configmap_crud(client: Client) -> None:
    created = await client.create(CONFIGMAPS, NS, configmap("settings", color="blue"))
    assert created["metadata"]["uid"]
    assert created["metadata"]["namespace"] == NS
    version = created["metadata"]["resourceVersion"]

    fetched = await client.get(CONFIGMAPS, NS, "settings")
    assert fetched == created

    fetched["data"]["color"] = "green"
    updated = await client.update(CONFIGMAPS, NS, fetched)
    assert updated["data"] == {"color": "green"}
    assert int(updated["metadata"]["resourceVersion"]) > int(version)

    merged = await client.patch(CONFIGMAPS, NS, "settings", {"data": {"size": "L"}})
    assert merged["data"] == {"color": "green", "size": "L"}
    operations = [{"op": "remove", "path": "/data/color"}]
    patched = await client.patch(CONFIGMAPS, NS, "settings", operations, patch_type="json")
    assert patched["data"] == {"size": "L"}

    deleted = await client.delete(CONFIGMAPS, NS, "settings")
    assert deleted["metadata"]["name"] == "settings"
    with pytest.raises(ApiError) as caught:
        await client.get(CONFIGMAPS, NS, "settings")
    assert (caught.value.code, caught.value.reason) == (404, "NotFound")


async def test_error_codes(client: Client) -> None:
    with pytest.raises(ApiError) as caught:
        await client.get(CONFIGMAPS, NS, "missing")
    assert (caught.value.code, caught.value.reason) == (404, "NotFound")
    assert caught.value.message == 'configmaps "missing" not found'

    first = await client.create(CONFIGMAPS, NS, configmap("one", a="1"))
    with pytest.raises(ApiError) as caught:
        await client.create(CONFIGMAPS, NS, configmap("one", a="2"))
    assert (caught.value.code, caught.value.reason) == (409, "AlreadyExists")

    await client.patch(CONFIGMAPS, NS, "one", {"data": {"a": "3"}})
    stale = copy.deepcopy(first)
    stale["data"]["a"] = "4"
    with pytest.raises(ApiError) as caught:
        await client.update(CONFIGMAPS, NS, stale)
    assert (caught.value.code, caught.value.reason) == (409, "Conflict")

    with pytest.raises(ApiError) as caught:
        await client.delete(CONFIGMAPS, NS, "one", preconditions={"uid": "not-the-uid"})
    assert (caught.value.code, caught.value.reason) == (409, "Conflict")

    with pytest.raises(ApiError) as caught:
        await client.delete(CONFIGMAPS, NS, "missing")
    assert caught.value.code == 404

    with pytest.raises(ApiError) as caught:
        await client.get(GVR("", "v1", "nothings"), NS, "x")
    assert caught.value.code == 404

    with pytest.raises(ApiError) as caught:
        await client.create(CONFIGMAPS, NS, {"metadata": {"name": "Not_Valid"}})
    assert (caught.value.code, caught.value.reason) == (422, "Invalid")

    with pytest.raises(ValueError, match="name may not be empty"):
        await client.update(CONFIGMAPS, NS, {"metadata": {}})


async def test_list_with_label_selector_and_pages(client: Client) -> None:
    for index in range(5):
        tier = "web" if index % 2 == 0 else "db"
        await client.create(CONFIGMAPS, NS, configmap(f"cm-{index}", {"tier": tier}))

    web = await client.list(CONFIGMAPS, NS, label_selector="tier=web")
    assert web["kind"] == "ConfigMapList"
    assert [i["metadata"]["name"] for i in web["items"]] == ["cm-0", "cm-2", "cm-4"]
    assert int(web["metadata"]["resourceVersion"]) > 0
    others = await client.list(CONFIGMAPS, NS, label_selector="tier!=web,tier")
    assert [i["metadata"]["name"] for i in others["items"]] == ["cm-1", "cm-3"]

    names: list[str] = []
    token = None
    pages = 0
    while True:
        page = await client.list(
            CONFIGMAPS, NS, label_selector="tier", limit=2, continue_token=token
        )
        pages += 1
        assert len(page["items"]) <= 2
        names += [i["metadata"]["name"] for i in page["items"]]
        token = page["metadata"].get("continue")
        if not token:
            break
    assert names == [f"cm-{index}" for index in range(5)]
    assert pages == 3

    by_name = await client.list(CONFIGMAPS, NS, field_selector="metadata.name=cm-3")
    assert [i["metadata"]["name"] for i in by_name["items"]] == ["cm-3"]

    namespaces = await client.list(NAMESPACES)
    assert "kube-system" in {i["metadata"]["name"] for i in namespaces["items"]}

    with pytest.raises(ApiError) as caught:
        await client.list(CONFIGMAPS, NS, label_selector="tier in (web")
    assert caught.value.code == 400


async def test_update_status_leaves_spec_alone(client: Client) -> None:
    created = await client.create(DEPLOYMENTS, NS, deployment("web", replicas=2))
    assert created["metadata"]["generation"] == 1

    changed = copy.deepcopy(created)
    changed["spec"]["replicas"] = 7
    changed["status"] = {"replicas": 2, "observedGeneration": 1}
    updated = await client.update_status(DEPLOYMENTS, NS, changed)
    assert updated["spec"]["replicas"] == 2
    assert updated["status"]["replicas"] == 2
    assert updated["metadata"]["generation"] == 1

    # ... and the main resource leaves the status alone
    changed = copy.deepcopy(updated)
    changed["spec"]["replicas"] = 3
    changed["status"] = {"replicas": 99}
    updated = await client.update(DEPLOYMENTS, NS, changed)
    assert updated["spec"]["replicas"] == 3
    assert updated["status"]["replicas"] == 2
    assert updated["metadata"]["generation"] == 2

    patched = await client.patch(
        DEPLOYMENTS, NS, "web", {"status": {"readyReplicas": 1}}, subresource="status"
    )
    assert patched["status"]["readyReplicas"] == 1
    assert patched["spec"]["replicas"] == 3


async def test_dry_run_and_input_left_untouched(client: Client) -> None:
    body = configmap("draft", color="red")
    original = copy.deepcopy(body)
    preview = await client.create(CONFIGMAPS, NS, body, dry_run=True)
    assert preview["metadata"]["name"] == "draft"
    assert body == original  # the server's defaulting never reaches the caller's dict
    with pytest.raises(ApiError):
        await client.get(CONFIGMAPS, NS, "draft")

    await client.create(CONFIGMAPS, NS, body)
    assert body == original
    await client.delete(CONFIGMAPS, NS, "draft", dry_run=True)
    assert (await client.get(CONFIGMAPS, NS, "draft"))["data"] == {"color": "red"}


async def test_delete_with_finalizers_marks_then_removes(client: Client) -> None:
    body = configmap("kept")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    await client.create(CONFIGMAPS, NS, body)

    marked = await client.delete(CONFIGMAPS, NS, "kept", propagation_policy="Background")
    assert marked["metadata"]["deletionTimestamp"]
    assert (await client.get(CONFIGMAPS, NS, "kept"))["metadata"]["finalizers"] == [
        "example.com/hold"
    ]
    await client.patch(CONFIGMAPS, NS, "kept", {"metadata": {"finalizers": None}})
    with pytest.raises(ApiError) as caught:
        await client.get(CONFIGMAPS, NS, "kept")
    assert caught.value.code == 404

    await client.create(CONFIGMAPS, NS, configmap("other"))
    with pytest.raises(ApiError) as caught:
        await client.delete(CONFIGMAPS, NS, "other", propagation_policy="Sometimes")
    assert (caught.value.code, caught.value.reason) == (400, "BadRequest")


async def test_binding_a_pod_through_its_subresource(client: Client) -> None:
    # Addressed to a scheduler that does not run, so the cluster's own leaves it to the test.
    spec = {"schedulerName": "by-hand", "containers": [{"name": "c", "image": "busybox"}]}
    pod = {"metadata": {"name": "p"}, "spec": spec}
    await client.create(PODS, NS, pod)
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "p"},
        "target": {"apiVersion": "v1", "kind": "Node", "name": "node-1"},
    }
    await client.create(PODS, NS, binding, subresource="binding")
    assert (await client.get(PODS, NS, "p"))["spec"]["nodeName"] == "node-1"
    with pytest.raises(ApiError) as caught:
        await client.create(PODS, NS, binding, subresource="binding")
    assert caught.value.code == 409


async def test_scale_subresource_reads_and_writes_replicas(client: Client) -> None:
    labels = {"app": "s"}
    deployment = {
        "metadata": {"name": "s"},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }
    await client.create(DEPLOYMENTS, NS, deployment)
    scale = await client.patch(DEPLOYMENTS, NS, "s", {"spec": {"replicas": 4}}, subresource="scale")
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 4
    assert scale["status"]["selector"] == "app=s"
    assert (await client.get(DEPLOYMENTS, NS, "s"))["spec"]["replicas"] == 4
