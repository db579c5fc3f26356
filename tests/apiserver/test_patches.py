"""PATCH over HTTP: JSON patch and merge patch on several kinds and on ``scale``, and bad
patches of every type refused with upstream's code while the stored object stays as it was."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from minikube_py.api.errors import ApiError
from minikube_py.apiserver.objects import json_patch
from minikube_py.apiserver.pki import Pki, client_ssl_context
from minikube_py.cluster import running_cluster
from tests.clusters import API_CONTROLLERS, ephemeral_config

JSON_PATCH = "application/json-patch+json"
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
REJECTED = "the server rejected our request due to an error in our request"


class Api:
    def __init__(self, session: aiohttp.ClientSession, url: str, ssl: Any) -> None:
        self.session, self.url, self.ssl = session, url, ssl

    async def call(
        self, method: str, path: str, body: Any = None, content_type: str = "application/json"
    ) -> tuple[int, Any]:
        data = body if isinstance(body, bytes) else None if body is None else json.dumps(body)
        async with self.session.request(
            method,
            f"{self.url}{path}",
            data=data,
            ssl=self.ssl,
            headers={"Content-Type": content_type},
        ) as response:
            return response.status, await response.json()

    async def get(self, path: str) -> Any:
        code, obj = await self.call("GET", path)
        assert code == 200, obj
        return obj

    async def patch(self, path: str, patch: Any, content_type: str) -> tuple[int, Any]:
        return await self.call("PATCH", path, patch, content_type)


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    config = ephemeral_config(tmp_path, API_CONTROLLERS)
    async with running_cluster(config) as cluster, aiohttp.ClientSession() as session:
        yield Api(session, cluster.url, client_ssl_context(Pki.at(tmp_path)))


NS = "/api/v1/namespaces/default"
APPS = "/apis/apps/v1/namespaces/default"


def deployment(name: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }


KINDS: dict[str, tuple[str, dict[str, Any]]] = {
    "configmap": (f"{NS}/configmaps", {"kind": "ConfigMap", "data": {"k": "v"}}),
    "secret": (f"{NS}/secrets", {"kind": "Secret", "stringData": {"k": "v"}}),
    "service": (
        f"{NS}/services",
        {"kind": "Service", "spec": {"ports": [{"port": 80}], "selector": {"app": "x"}}},
    ),
    "serviceaccount": (f"{NS}/serviceaccounts", {"kind": "ServiceAccount"}),
    "namespace": ("/api/v1/namespaces", {"kind": "Namespace"}),
    "deployment": (f"{APPS}/deployments", deployment("d")),
}


async def create(api: Api, kind: str, name: str) -> str:
    collection, template = KINDS[kind]
    body = json.loads(json.dumps(template))
    body.setdefault("apiVersion", "v1")
    body["metadata"] = {"name": name, "labels": {"keep": "yes"}}
    code, created = await api.call("POST", collection, body)
    assert code == 201, created
    return f"{collection}/{name}"


def own_labels(obj: dict[str, Any]) -> dict[str, str]:
    """The labels a client set (a namespace also carries the one the server adds)."""
    labels = dict(obj["metadata"].get("labels") or {})
    labels.pop("kubernetes.io/metadata.name", None)
    return labels


@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_json_patch_operations_on_every_kind(api: Api, kind: str) -> None:
    path = await create(api, kind, f"jp-{kind}")
    operations = [
        {"op": "test", "path": "/metadata/labels/keep", "value": "yes"},
        {"op": "add", "path": "/metadata/labels/a", "value": "1"},
        {"op": "copy", "from": "/metadata/labels/a", "path": "/metadata/labels/b"},
        {"op": "add", "path": "/metadata/annotations", "value": {}},
        {"op": "move", "from": "/metadata/labels/b", "path": "/metadata/annotations/moved"},
        {"op": "replace", "path": "/metadata/labels/a", "value": "2"},
        {"op": "remove", "path": "/metadata/labels/keep"},
    ]
    code, patched = await api.patch(path, operations, JSON_PATCH)
    assert code == 200, patched
    assert own_labels(patched) == {"a": "2"}
    assert patched["metadata"]["annotations"] == {"moved": "1"}
    assert own_labels(await api.get(path)) == {"a": "2"}


@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_merge_patch_on_every_kind(api: Api, kind: str) -> None:
    path = await create(api, kind, f"mp-{kind}")
    patch = {"metadata": {"labels": {"keep": None, "new": "x"}, "annotations": {"a": "b"}}}
    code, patched = await api.patch(path, patch, MERGE)
    assert code == 200, patched
    assert own_labels(patched) == {"new": "x"}
    assert patched["metadata"]["annotations"] == {"a": "b"}


async def test_patches_on_scale(api: Api) -> None:
    code, _ = await api.call("POST", f"{APPS}/deployments", deployment("web"))
    assert code == 201
    scale = f"{APPS}/deployments/web/scale"
    code, patched = await api.patch(
        scale,
        [
            {"op": "test", "path": "/spec/replicas", "value": 1},
            {"op": "replace", "path": "/spec/replicas", "value": 3},
        ],
        JSON_PATCH,
    )
    assert code == 200 and patched["kind"] == "Scale" and patched["spec"]["replicas"] == 3
    code, patched = await api.patch(scale, {"spec": {"replicas": 5}}, MERGE)
    assert code == 200 and patched["spec"]["replicas"] == 5
    assert (await api.get(f"{APPS}/deployments/web"))["spec"]["replicas"] == 5
    before = await api.get(f"{APPS}/deployments/web")
    for other in (1, 5.0, True):  # Go compares JSON values: 5.0 and true are not 5
        code, status = await api.patch(
            scale, [{"op": "test", "path": "/spec/replicas", "value": other}], JSON_PATCH
        )
        assert (code, status["message"]) == (422, REJECTED), other
    code, status = await api.patch(scale, {"spec": {"replicas": "many"}}, MERGE)
    assert (code, status["reason"]) == (422, "Invalid")
    assert status["message"].endswith(
        "json: cannot unmarshal string into Go struct field ScaleSpec.spec.replicas of type int32"
    )
    assert await api.get(f"{APPS}/deployments/web") == before


# (content type, body, expected code, expected message or None)
MALFORMED: list[tuple[str, bytes, int, str | None]] = [
    (JSON_PATCH, b"[{", 400, None),
    (
        JSON_PATCH,
        b"{}",
        400,
        "error decoding patch: json: cannot unmarshal object into Go value of type "
        "[]handlers.jsonPatchOp",
    ),
    (
        JSON_PATCH,
        b"[5]",
        400,
        "error decoding patch: json: cannot unmarshal number into Go value of type "
        "handlers.jsonPatchOp",
    ),
    (
        JSON_PATCH,
        b'[{"op": 1, "path": "/data"}]',
        400,
        "error decoding patch: json: cannot unmarshal number into Go struct field "
        "jsonPatchOp.op of type string",
    ),
    (JSON_PATCH, b'[{"path": "/data/k", "value": "x"}]', 422, REJECTED),  # op missing
    (JSON_PATCH, b'[{"op": "explode", "path": "/data/k"}]', 422, REJECTED),
    (JSON_PATCH, b'[{"op": "add", "path": "data/k", "value": "x"}]', 422, REJECTED),
    (JSON_PATCH, b'[{"op": "remove", "path": "/data/missing"}]', 422, REJECTED),
    (JSON_PATCH, b'[{"op": "replace", "path": "/nope/deeper", "value": 1}]', 422, REJECTED),
    (JSON_PATCH, b'[{"op": "test", "path": "/data/k", "value": "other"}]', 422, REJECTED),
    (JSON_PATCH, b'[{"op": "move", "from": "/data/none", "path": "/data/k2"}]', 422, REJECTED),
    (MERGE, b'{"data": ', 400, None),
    (MERGE, b"null", 400, "Invalid JSON Patch"),
    (
        MERGE,
        b"[]",
        400,
        "error decoding patch: json: cannot unmarshal array into Go value of type "
        "map[string]interface {}",
    ),
    (
        MERGE,
        b'"text"',
        400,
        "error decoding patch: json: cannot unmarshal string into Go value of type "
        "map[string]interface {}",
    ),
    (MERGE, b'{"data": {"k": 5}}', 422, None),  # a value of the wrong type
    (STRATEGIC, b"{{", 400, None),
    (
        STRATEGIC,
        b"[1]",
        400,
        "json: cannot unmarshal array into Go value of type map[string]interface {}",
    ),
    (
        STRATEGIC,
        b'{"data": {"$patch": "explode"}}',
        400,
        "unknown patch type: explode in map: map[$patch:explode]",
    ),
    (STRATEGIC, b'{"$retainKeys": "data"}', 400, "invalid patch format of retainKeys"),
    (
        STRATEGIC,
        b'{"$setElementOrder/data": 1}',
        400,
        "invalid patch format of setElementOrder list",
    ),
    ("application/x-yaml-patch", b"{}", 415, None),
]


@pytest.mark.parametrize(("content_type", "body", "code", "message"), MALFORMED)
async def test_malformed_patches_change_nothing(
    api: Api, content_type: str, body: bytes, code: int, message: str | None
) -> None:
    path = await create(api, "configmap", "target")
    before = await api.get(path)
    got, status = await api.patch(path, body, content_type)
    assert got == code, status
    assert status["kind"] == "Status" and status["code"] == code
    if message is not None:
        assert status["message"] == message
    assert await api.get(path) == before  # same resourceVersion, same content


async def test_null_strategic_patch_is_a_no_op(api: Api) -> None:
    path = await create(api, "configmap", "nothing")
    before = await api.get(path)
    code, patched = await api.patch(path, b"null", STRATEGIC)
    assert code == 200 and patched == before


async def test_patches_that_break_rules_change_nothing(api: Api) -> None:
    code, _ = await api.call("POST", f"{APPS}/deployments", deployment("rules"))
    assert code == 201
    path = f"{APPS}/deployments/rules"
    before = await api.get(path)
    # invalid result: 422 naming the field
    code, status = await api.patch(path, {"spec": {"replicas": -1}}, MERGE)
    assert (code, status["reason"]) == (422, "Invalid")
    assert "spec.replicas" in status["message"]
    # an immutable field: a Deployment's selector
    code, status = await api.patch(
        path,
        [{"op": "replace", "path": "/spec/selector/matchLabels/app", "value": "x"}],
        JSON_PATCH,
    )
    assert (code, status["reason"]) == (422, "Invalid")
    assert "field is immutable" in status["message"]
    # another name than the URL's
    code, status = await api.patch(path, {"metadata": {"name": "other"}}, STRATEGIC)
    assert 400 <= code < 500, status
    assert await api.get(path) == before

    cm = await create(api, "configmap", "frozen")
    code, _ = await api.patch(cm, {"immutable": True}, MERGE)
    assert code == 200
    frozen = await api.get(cm)
    code, status = await api.patch(cm, {"data": {"k": "changed"}}, STRATEGIC)
    assert (code, status["reason"]) == (422, "Invalid")
    assert "field is immutable when `immutable` is set" in status["message"]
    assert await api.get(cm) == frozen


async def test_malformed_apply_patches_change_nothing(api: Api) -> None:
    path = await create(api, "configmap", "applied")
    before = await api.get(path)
    for body in (b"a: [b\n", b"- just\n- a list\n", b"kind: ConfigMap\n\tbad: tab\n"):
        code, status = await api.call(
            "PATCH", f"{path}?fieldManager=test", body, content_type=APPLY
        )
        assert 400 <= code < 500 and status["kind"] == "Status", (body, status)
    assert await api.get(path) == before


def test_json_patch_test_compares_as_go_does() -> None:
    """Python's ``1 == True == 1.0``; Go's JSON patch tells the three apart."""
    target = {"n": 1, "list": [1, {"flag": False}]}
    assert json_patch(target, [{"op": "test", "path": "/n", "value": 1}]) == target
    for value in (True, 1.0):
        with pytest.raises(ApiError) as refused:
            json_patch(target, [{"op": "test", "path": "/n", "value": value}])
        assert (refused.value.code, refused.value.message) == (422, REJECTED)
    with pytest.raises(ApiError):
        json_patch(target, [{"op": "test", "path": "/list", "value": [True, {"flag": 0}]}])
