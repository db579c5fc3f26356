"""Lists served from the stored bytes say exactly what the decoded lists say."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from minikube_py.api.catalog import builtin_registry
from minikube_py.apiserver.bootstrap import bootstrap
from minikube_py.apiserver.handlers import send_json
from minikube_py.apiserver.listing import ListOptions
from minikube_py.apiserver.passthrough import served_as_stored, stamp
from minikube_py.apiserver.storage import Storage
from minikube_py.store.sql import SqlStore
from tests.clusters import bootstrapped_storage

REGISTRY = builtin_registry()
CM = REGISTRY.get("", "v1", "configmaps")
DEPLOY = REGISTRY.get("apps", "v1", "deployments")
EVENT = REGISTRY.get("", "v1", "events")
EVENT2 = REGISTRY.get("events.k8s.io", "v1", "events")
HPA1 = REGISTRY.get("autoscaling", "v1", "horizontalpodautoscalers")
HPA2 = REGISTRY.get("autoscaling", "v2", "horizontalpodautoscalers")
assert CM and DEPLOY and EVENT and EVENT2 and HPA1 and HPA2


@pytest.fixture
async def storage() -> AsyncIterator[Storage]:
    async with bootstrapped_storage(REGISTRY) as storage:
        yield storage


def joined(pieces: Any) -> bytes:
    return b"".join(pieces)


def test_the_version_becomes_the_first_field_of_metadata() -> None:
    value = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{}}'
    assert joined(stamp(value, 42)) == (
        b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"resourceVersion":"42","name":"a"},'
        b'"data":{}}'
    )
    empty = b'{"kind":"X","metadata":{}}'
    assert orjson.loads(joined(stamp(empty, 7))) == {
        "kind": "X",
        "metadata": {"resourceVersion": "7"},
    }


@pytest.mark.parametrize(
    "value",
    [
        # a nested metadata first: the template's, not the object's
        b'{"spec":{"template":{"metadata":{}}},"metadata":{"name":"a"}}',
        # text that looks like the field, inside an escaped string
        b'{"kind":"a\\",\\"metadata\\":{","metadata":{"name":"a"}}',
        # a value before metadata that is not a plain string
        b'{"kind":1,"metadata":{"name":"a"}}',
        b'{"kind":"X"}',
    ],
)
def test_an_unexpected_shape_is_left_to_the_decoder(value: bytes) -> None:
    assert stamp(value, 1) is None


def test_converted_kinds_are_not_served_as_stored() -> None:
    assert served_as_stored(CM) and served_as_stored(HPA2) and served_as_stored(EVENT)
    assert not served_as_stored(HPA1) and not served_as_stored(EVENT2)


async def same_lists(storage: Storage, rt: Any, namespace: str | None, **options: Any) -> Any:
    chosen = ListOptions(**options)
    decoded = await storage.list(rt, namespace, chosen)
    raw = orjson.loads(await storage.lister.list_json(rt, namespace, chosen))
    assert raw == decoded
    return raw


async def test_lists_match_with_selectors_and_pages(storage: Storage) -> None:
    for i in range(7):
        labels = {"tier": "a" if i % 2 else "b"}
        await storage.create(CM, "default", {"metadata": {"name": f"l{i}", "labels": labels}})
    everything = await same_lists(storage, CM, None)
    assert len(everything["items"]) >= 7
    assert all(item["metadata"]["resourceVersion"] for item in everything["items"])
    labelled = await same_lists(storage, CM, "default", label_selector="tier=a")
    assert [i["metadata"]["name"] for i in labelled["items"]] == ["l1", "l3", "l5"]
    named = await same_lists(storage, CM, "default", field_selector="metadata.name=l4")
    assert [i["metadata"]["name"] for i in named["items"]] == ["l4"]
    first = await same_lists(storage, CM, "default", limit=3)
    token = first["metadata"]["continue"]
    rest = await same_lists(storage, CM, "default", limit=10, continue_token=token)
    names = [i["metadata"]["name"] for i in first["items"] + rest["items"]]
    assert names == sorted(f"l{i}" for i in range(7))
    at = first["metadata"]["resourceVersion"]
    await same_lists(storage, CM, "default", resource_version=at, resource_version_match="Exact")


async def test_lists_match_for_converted_and_nested_kinds(storage: Storage) -> None:
    labels = {"app": "web"}
    template = {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c"}]}}
    template["spec"]["containers"][0]["image"] = "nginx"
    deployment = {"metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": labels}}}
    deployment["spec"]["template"] = template
    await storage.create(DEPLOY, "default", deployment)
    hpa = {
        "metadata": {"name": "web"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "maxReplicas": 3,
            "targetCPUUtilizationPercentage": 50,
        },
    }
    await storage.create(HPA1, "default", hpa)
    event = {
        "metadata": {"name": "e1"},
        "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
        "reason": "Scheduled",
        "message": "assigned",
    }
    await storage.create(EVENT, "default", event)
    for rt in (DEPLOY, HPA1, HPA2, EVENT, EVENT2):
        listed = await same_lists(storage, rt, "default")
        assert len(listed["items"]) == 1, rt.plural
    v1 = await same_lists(storage, HPA1, "default")
    assert v1["items"][0]["spec"]["targetCPUUtilizationPercentage"] == 50


async def test_a_big_body_is_sent_whole_in_slices() -> None:
    body = orjson.dumps({"items": ["x" * 1000] * 5000})  # about 5 MB

    async def handler(request: web.Request) -> web.StreamResponse:
        return await send_json(request, body)

    app = web.Application()
    app.router.add_get("/", handler)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/")
        assert response.headers["Content-Length"] == str(len(body))
        assert response.content_type == "application/json"
        assert await response.read() == body


async def test_pages_at_an_older_revision_match_on_every_database(store: SqlStore) -> None:
    storage = Storage(store, REGISTRY)
    await bootstrap(storage, host="127.0.0.1", port=8443)
    for i in range(6):
        await storage.create(CM, "default", {"metadata": {"name": f"c{i}"}, "data": {"v": "0"}})
    first = await same_lists(storage, CM, "default", limit=2)
    # writes after the first page: the next pages still show the state the first one saw
    changed = await storage.get(CM, "default", "c3")
    await storage.update(CM, "default", "c3", {**changed, "data": {"v": "1"}})
    await storage.delete(CM, "default", "c4")
    await storage.create(CM, "default", {"metadata": {"name": "c2a"}})
    token = first["metadata"]["continue"]
    rest = await same_lists(storage, CM, "default", continue_token=token)
    assert [item["metadata"]["name"] for item in rest["items"]] == ["c2", "c3", "c4", "c5"]
    assert rest["items"][1]["data"] == {"v": "0"}
    assert rest["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
