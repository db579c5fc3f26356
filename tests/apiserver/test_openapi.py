"""The OpenAPI documents: the v3 index and its hashes, group-version documents with upstream's
shape (paths, operations, schemas), custom resources, caching headers, and the v2 document."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from minikube_py.api import catalog
from minikube_py.api.registry import Registry
from minikube_py.api.resources import ResourceType
from minikube_py.apiserver import openapi

COMPONENTS = "#/components/schemas/"
CRONTAB_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "description": "what the cron tab runs",
            "properties": {"cronSpec": {"type": "string"}, "replicas": {"type": "integer"}},
        }
    },
}


def crontab(schema_: dict[str, Any] | None = None, version: str = "v1") -> ResourceType:
    return ResourceType(
        group="stable.example.com",
        version=version,
        kind="CronTab",
        plural="crontabs",
        singular="crontab",
        namespaced=True,
        subresources=("status",),
        schema=schema_ if schema_ is not None else CRONTAB_SCHEMA,
    )


@pytest.fixture
def registry() -> Registry:
    return catalog.builtin_registry()


def get(registry: Registry, url: str, **headers: str) -> web.Response:
    request = make_mocked_request("GET", url, headers=headers)
    response = openapi.respond(registry, request)
    assert isinstance(response, web.Response)
    return response


def body(response: web.Response) -> Any:
    assert isinstance(response.body, bytes)
    return orjson.loads(response.body)


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


# -- the index -----------------------------------------------------------------------------------


def test_the_index_lists_every_group_version_with_its_hash(registry: Registry) -> None:
    paths = body(get(registry, "/openapi/v3"))["paths"]
    assert set(paths) == {
        f"api/{rt.version}" if not rt.group else f"apis/{rt.group}/{rt.version}" for rt in registry
    }
    url = paths["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/apps/v1?hash=")
    digest = url.split("hash=")[1]
    assert len(digest) == 128 and digest == digest.upper()  # SHA-512, upper-case hex
    document = get(registry, url)
    assert document.status == 200
    assert document.headers["ETag"] == f'"{digest}"'
    assert document.headers["Cache-Control"] == "public, immutable"
    assert document.headers["Vary"] == "Accept"


def test_a_stale_hash_is_redirected_to_the_current_document(registry: Registry) -> None:
    url = body(get(registry, "/openapi/v3"))["paths"]["apis/apps/v1"]["serverRelativeURL"]
    with pytest.raises(web.HTTPMovedPermanently) as moved:
        get(registry, "/openapi/v3/apis/apps/v1?hash=0123ABCD")
    assert moved.value.location == url


def test_without_a_hash_there_is_no_immutable_caching(registry: Registry) -> None:
    response = get(registry, "/openapi/v3/apis/apps/v1")
    assert response.status == 200 and "Cache-Control" not in response.headers


def test_a_known_etag_gets_304(registry: Registry) -> None:
    etag = get(registry, "/openapi/v3/api/v1").headers["ETag"]
    assert get(registry, "/openapi/v3/api/v1", **{"If-None-Match": etag}).status == 304
    index_etag = get(registry, "/openapi/v3").headers["ETag"]
    assert get(registry, "/openapi/v3", **{"If-None-Match": index_etag}).status == 304


def test_unknown_group_versions_and_protobuf_are_refused(registry: Registry) -> None:
    from minikube_py.api.errors import ApiError

    with pytest.raises(ApiError) as missing:
        get(registry, "/openapi/v3/apis/nothing.example.com/v1")
    assert missing.value.code == 404
    protobuf = "application/com.github.proto-openapi.spec.v3@v1.0+protobuf"
    with pytest.raises(ApiError) as refused:
        get(registry, "/openapi/v3/api/v1", Accept=protobuf)
    assert refused.value.code == 406
    assert get(registry, "/openapi/v3/api/v1", Accept=f"{protobuf}, */*").status == 200


# -- schemas -------------------------------------------------------------------------------------


def test_schemas_are_openapi_3_with_upstreams_names(registry: Registry) -> None:
    schemas = openapi.document(registry, "apps", "v1")["components"]["schemas"]
    deployment = schemas["io.k8s.api.apps.v1.Deployment"]
    assert deployment["type"] == "object"
    assert deployment["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}
    ]
    assert "enum" not in deployment["properties"]["kind"]  # the JSON-schema export adds one
    strategy = schemas["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"]
    assert strategy == {
        "allOf": [{"$ref": COMPONENTS + "io.k8s.api.apps.v1.DeploymentStrategy"}],
        "description": "The deployment strategy to use to replace existing pods with new ones.",
        "x-kubernetes-patch-strategy": "retainKeys",
    }
    replicas = schemas["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["replicas"]
    assert replicas["type"] == "integer" and replicas["format"] == "int32"
    containers = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    assert containers["x-kubernetes-list-type"] == "map"
    assert containers["items"] == {"$ref": COMPONENTS + "io.k8s.api.core.v1.Container"}
    assert schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] == {
        "format": "int-or-string",
        "oneOf": [{"type": "integer"}, {"type": "string"}],
    }
    assert schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"]["oneOf"] == [
        {"type": "string"},
        {"type": "number"},
    ]


@pytest.mark.parametrize("group_version", ["api/v1", "apis/apps/v1", "apis/batch/v1"])
def test_every_reference_resolves_inside_the_document(
    registry: Registry, group_version: str
) -> None:
    group, _, version = group_version.removeprefix("api/").removeprefix("apis/").rpartition("/")
    document = openapi.document(registry, group, version)
    schemas = document["components"]["schemas"]
    found = set(refs(document))
    assert found and all(ref.startswith(COMPONENTS) for ref in found)
    assert {ref.removeprefix(COMPONENTS) for ref in found} <= set(schemas)
    for name, value in schemas.items():
        assert not isinstance(value.get("type"), list), name


# -- paths ---------------------------------------------------------------------------------------


def test_paths_and_operations_follow_upstream(registry: Registry) -> None:
    paths = openapi.document(registry, "apps", "v1")["paths"]
    item = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]
    assert set(item) == {"parameters", "get", "put", "patch", "delete"}
    patch = item["patch"]
    assert patch["operationId"] == "patchAppsV1NamespacedDeployment"
    assert patch["x-kubernetes-action"] == "patch"
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "apps",
        "kind": "Deployment",
        "version": "v1",
    }
    names = [p["name"] for p in patch["parameters"]]
    assert {"dryRun", "fieldManager", "fieldValidation", "force"} <= set(names)
    content = patch["requestBody"]["content"]
    assert "application/strategic-merge-patch+json" in content
    ok = patch["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": COMPONENTS + "io.k8s.api.apps.v1.Deployment"}
    collection = paths["/apis/apps/v1/namespaces/{namespace}/deployments"]
    assert collection["get"]["x-kubernetes-action"] == "list"
    assert collection["post"]["requestBody"]["content"]["*/*"]["schema"]["$ref"].endswith(
        ".Deployment"
    )
    assert collection["delete"]["x-kubernetes-action"] == "deletecollection"
    every = paths["/apis/apps/v1/deployments"]["get"]
    assert every["operationId"] == "listAppsV1DeploymentForAllNamespaces"
    scale = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"]
    assert scale["operationId"] == "patchAppsV1NamespacedDeploymentScale"
    assert scale["x-kubernetes-group-version-kind"]["kind"] == "Scale"
    status = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status"]
    assert set(status) == {"parameters", "get", "put", "patch"}


def test_cluster_scoped_kinds_have_no_namespace(registry: Registry) -> None:
    paths = openapi.document(registry, "", "v1")["paths"]
    node = paths["/api/v1/nodes/{name}"]
    assert [p["name"] for p in node["parameters"]] == ["name", "pretty"]
    assert node["get"]["operationId"] == "readCoreV1Node"
    assert "/api/v1/namespaces/{namespace}/nodes" not in paths
    rbac = openapi.document(registry, "rbac.authorization.k8s.io", "v1")["paths"]
    role = rbac["/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}"]["get"]
    assert role["operationId"] == "readRbacAuthorizationV1ClusterRole"
    assert role["tags"] == ["rbacAuthorization_v1"]


# -- custom resources ----------------------------------------------------------------------------


def test_a_custom_resource_is_published_with_its_schema(registry: Registry) -> None:
    registry.add(crontab())
    paths = body(get(registry, "/openapi/v3"))["paths"]
    url = paths["apis/stable.example.com/v1"]["serverRelativeURL"]
    document = body(get(registry, url))
    schemas = document["components"]["schemas"]
    tab = schemas["com.example.stable.v1.CronTab"]
    assert tab["x-kubernetes-group-version-kind"] == [
        {"group": "stable.example.com", "kind": "CronTab", "version": "v1"}
    ]
    assert tab["properties"]["spec"] == CRONTAB_SCHEMA["properties"]["spec"]
    assert tab["properties"]["metadata"]["allOf"] == [
        {"$ref": COMPONENTS + "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    ]
    assert set(tab["properties"]) == {"apiVersion", "kind", "metadata", "spec"}
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" in schemas
    listing = schemas["com.example.stable.v1.CronTabList"]
    assert listing["properties"]["items"]["items"] == {
        "$ref": COMPONENTS + "com.example.stable.v1.CronTab"
    }
    item = document["paths"]["/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}"]
    content = item["patch"]["requestBody"]["content"]
    assert "application/merge-patch+json" in content
    assert "application/strategic-merge-patch+json" not in content  # not for custom resources
    assert set(CRONTAB_SCHEMA["properties"]) == {"spec"}  # the CRD's schema is not changed


def test_a_changed_custom_resource_gets_a_new_hash_and_document() -> None:
    """Registries with the same types but another CRD schema: as after a CRD update."""
    before = body(get(Registry([*catalog.builtin_types(), crontab()]), "/openapi/v3"))["paths"]
    changed = {**CRONTAB_SCHEMA, "properties": {"spec": {"type": "object"}, "extra": {}}}
    registry = Registry([*catalog.builtin_types(), crontab(changed)])
    after = body(get(registry, "/openapi/v3"))["paths"]
    group_version = "apis/stable.example.com/v1"
    assert after[group_version] != before[group_version]
    assert after["apis/apps/v1"] == before["apis/apps/v1"]  # the others keep their addresses
    document = body(get(registry, after[group_version]["serverRelativeURL"]))
    tab = document["components"]["schemas"]["com.example.stable.v1.CronTab"]
    assert "extra" in tab["properties"]
    with pytest.raises(web.HTTPMovedPermanently):  # the old address leads to the new one
        get(registry, before[group_version]["serverRelativeURL"])
    gone = body(get(catalog.builtin_registry(), "/openapi/v3"))["paths"]
    assert group_version not in gone


def test_the_hash_does_not_depend_on_the_process() -> None:
    """Two registries built alike give the same addresses: kubectl's cache outlives servers."""
    first = openapi.index(catalog.builtin_registry())
    assert first == openapi.index(catalog.builtin_registry())
