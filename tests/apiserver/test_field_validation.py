"""fieldValidation: unknown and duplicate fields refused (Strict), reported as warnings (Warn) or
ignored; fields of the wrong type refused in every mode, in upstream's words."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from minikube_py.api.schema import unknown_fields
from minikube_py.apiserver.pki import Pki, client_ssl_context
from minikube_py.cluster import running_cluster
from tests.clusters import API_CONTROLLERS, ephemeral_config

CMS = "/api/v1/namespaces/default/configmaps"


def test_unknown_fields_are_found_along_the_schema() -> None:
    deployment: dict[str, Any] = {
        "metadata": {"name": "x", "labels": {"any": "label"}, "bogus": 1},
        "spec": {"foo": 1, "template": {"spec": {"containers": [{"name": "c", "colour": 1}]}}},
    }
    found = unknown_fields("apps", "v1", "Deployment", deployment, drop=True)
    assert found == ["metadata.bogus", "spec.foo", "spec.template.spec.containers[0].colour"]
    assert "bogus" not in deployment["metadata"] and "foo" not in deployment["spec"]
    assert deployment["metadata"]["labels"] == {"any": "label"}  # maps take any key


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[aiohttp.ClientSession, str, Any]]:
    config = ephemeral_config(tmp_path, API_CONTROLLERS)
    async with running_cluster(config) as cluster, aiohttp.ClientSession() as session:
        yield session, cluster.url, client_ssl_context(Pki.at(tmp_path))


async def test_strict_warn_and_ignore(api: tuple[aiohttp.ClientSession, str, Any]) -> None:
    session, url, ssl = api

    def body(name: str) -> dict[str, Any]:
        return {"metadata": {"name": name}, "data": {"a": "b"}, "spec": {"oops": True}}

    strict = await session.post(f"{url}{CMS}?fieldValidation=Strict", json=body("s"), ssl=ssl)
    assert strict.status == 400
    assert (await strict.json())["message"] == (
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: '
        'strict decoding error: unknown field "spec"'
    )
    warn = await session.post(f"{url}{CMS}", json=body("w"), ssl=ssl)  # Warn is the default
    assert warn.status == 201 and "spec" not in await warn.json()
    assert warn.headers.getall("Warning") == ['299 - "unknown field \\"spec\\""']
    ignore = await session.post(f"{url}{CMS}?fieldValidation=Ignore", json=body("i"), ssl=ssl)
    assert ignore.status == 201 and "Warning" not in ignore.headers
    before = await (await session.get(f"{url}{CMS}/w", ssl=ssl)).json()
    patch = await session.patch(
        f"{url}{CMS}/w?fieldValidation=Strict",
        json={"spec": {"x": 1}},
        ssl=ssl,
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patch.status == 422  # a patch's strict errors are about the patch: Invalid
    status = await patch.json()
    assert status["message"].startswith(' "" is invalid: patch: Invalid value: "{')
    assert status["message"].endswith('strict decoding error: unknown field "spec"')
    after = await (await session.get(f"{url}{CMS}/w", ssl=ssl)).json()
    assert after == before
    bad = await session.post(f"{url}{CMS}?fieldValidation=Loose", json=body("b"), ssl=ssl)
    assert bad.status == 400


DEPLOYS = "/apis/apps/v1/namespaces/default/deployments"

# Upstream's integration test body (test/integration/apiserver/field_validation_test.go).
INVALID_JSON = """{
  "apiVersion": "apps/v1", "kind": "Deployment",
  "metadata": {"name": "dupename", "name": "%s", "labels": {"app": "nginx"},
               "unknownMeta": "metaVal"},
  "spec": {
    "unknown1": "val1", "unknownDupe": "valDupe", "unknownDupe": "valDupe2",
    "paused": true, "paused": false,
    "selector": {"matchLabels": {"app": "nginx"}},
    "template": {"metadata": {"labels": {"app": "nginx"}},
      "spec": {"containers": [{"name": "nginx", "image": "nginx:latest",
        "unknownNested": "val1", "imagePullPolicy": "Always", "imagePullPolicy": "Never"}]}}}}"""

INVALID_YAML = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: dupename
  name: %s
  unknownMeta: metaVal
  labels:
    app: nginx
spec:
  unknown1: val1
  unknownDupe: valDupe
  unknownDupe: valDupe2
  paused: true
  paused: false
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:latest
        unknownNested: val1
        imagePullPolicy: Always
        imagePullPolicy: Never"""

JSON_PROBLEMS = [
    'duplicate field "metadata.name"',
    'unknown field "metadata.unknownMeta"',
    'unknown field "spec.unknown1"',
    'unknown field "spec.unknownDupe"',  # unknown and repeated: reported as unknown only
    'duplicate field "spec.paused"',
    'unknown field "spec.template.spec.containers[0].unknownNested"',
    'duplicate field "spec.template.spec.containers[0].imagePullPolicy"',
]
YAML_LINES = [
    'line 5: key "name" already set in map',
    'line 12: key "unknownDupe" already set in map',
    'line 14: key "paused" already set in map',
    'line 28: key "imagePullPolicy" already set in map',
]
YAML_UNKNOWN = [  # in key order, as Go's YAML-to-JSON conversion sorts maps
    'unknown field "metadata.unknownMeta"',
    'unknown field "spec.template.spec.containers[0].unknownNested"',
    'unknown field "spec.unknown1"',
    'unknown field "spec.unknownDupe"',
]
CANNOT = 'Deployment in version "v1" cannot be handled as a Deployment: '


def warnings_of(response: aiohttp.ClientResponse) -> list[str]:
    texts = []
    for header in response.headers.getall("Warning", []):
        assert header.startswith('299 - "') and header.endswith('"'), header
        texts.append(header[7:-1].replace('\\"', '"'))
    return texts


async def send(
    api: tuple[aiohttp.ClientSession, str, Any],
    method: str,
    path: str,
    body: str,
    content_type: str = "application/json",
) -> tuple[int, Any, list[str]]:
    session, url, ssl = api
    async with session.request(
        method, f"{url}{path}", data=body.encode(), ssl=ssl, headers={"Content-Type": content_type}
    ) as response:
        return response.status, await response.json(), warnings_of(response)


@pytest.mark.parametrize("verb", ["POST", "PUT"])
async def test_duplicate_and_unknown_fields_in_json(
    api: tuple[aiohttp.ClientSession, str, Any], verb: str
) -> None:
    name = f"json-{verb.lower()}"
    if verb == "PUT":
        code, _, _ = await send(api, "POST", DEPLOYS, VALID_DEPLOYMENT % name)
        assert code == 201
    path = DEPLOYS if verb == "POST" else f"{DEPLOYS}/{name}"
    code, status, _ = await send(api, verb, f"{path}?fieldValidation=Strict", INVALID_JSON % name)
    assert code == 400 and status["reason"] == "BadRequest"
    assert status["message"] == CANNOT + "strict decoding error: " + ", ".join(JSON_PROBLEMS)
    code, obj, warnings = await send(api, verb, f"{path}?fieldValidation=Warn", INVALID_JSON % name)
    assert code in (200, 201) and warnings == JSON_PROBLEMS
    # the last of two equal keys wins, as in Go; unknown fields are dropped
    assert obj["metadata"]["name"] == name and obj["spec"]["paused"] is False
    assert "unknown1" not in obj["spec"] and "unknownMeta" not in obj["metadata"]
    assert obj["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "Never"
    code, obj, warnings = await send(
        api, "PUT", f"{DEPLOYS}/{name}?fieldValidation=Ignore", INVALID_JSON % name
    )
    assert code == 200 and warnings == [] and "unknownDupe" not in obj["spec"]


async def test_duplicate_and_unknown_fields_in_yaml(
    api: tuple[aiohttp.ClientSession, str, Any],
) -> None:
    body = INVALID_YAML % "yaml"
    code, status, _ = await send(
        api, "POST", f"{DEPLOYS}?fieldValidation=Strict", body, "application/yaml"
    )
    assert code == 400
    block = "yaml: unmarshal errors:\n  " + "\n  ".join(YAML_LINES)
    words = ", ".join([block, *YAML_UNKNOWN])
    assert status["message"] == f"{CANNOT}strict decoding error: {words}"
    code, obj, warnings = await send(api, "POST", DEPLOYS, body, "application/yaml")  # Warn
    assert code == 201 and warnings == YAML_LINES + YAML_UNKNOWN
    assert obj["metadata"]["name"] == "yaml" and obj["spec"]["paused"] is False
    code, _, warnings = await send(
        api, "PUT", f"{DEPLOYS}/yaml?fieldValidation=Ignore", body, "application/yaml"
    )
    assert code == 200 and warnings == []


VALID_DEPLOYMENT = """{"apiVersion": "apps/v1", "kind": "Deployment",
  "metadata": {"name": "%s", "labels": {"app": "nginx"}},
  "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "nginx"}},
    "template": {"metadata": {"labels": {"app": "nginx"}},
      "spec": {"containers": [{"name": "nginx", "image": "nginx:latest"}]}}}}"""


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        (
            '"replicas": 2',
            '"replicas": "2"',
            "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas "
            "of type int32",
        ),
        (
            '"replicas": 2',
            '"replicas": 1.5',
            "json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas "
            "of type int32",
        ),
        (
            '"labels": {"app": "nginx"}},\n  "spec"',
            '"labels": {"app": true}},\n  "spec"',
            "json: cannot unmarshal bool into Go struct field ObjectMeta.metadata.labels "
            "of type string",
        ),
        (
            '"image": "nginx:latest"',
            '"image": "nginx:latest", "livenessProbe": []',
            "json: cannot unmarshal array into Go struct field "
            "Container.spec.template.spec.containers.livenessProbe of type v1.Probe",
        ),
        (
            '"image": "nginx:latest"',
            '"image": "nginx:latest", "ports": {"containerPort": 80}',
            "json: cannot unmarshal object into Go struct field "
            "Container.spec.template.spec.containers.ports of type []v1.ContainerPort",
        ),
        (
            '"replicas": 2',
            '"replicas": 2, "strategy": {"rollingUpdate": {"maxSurge": true}}',
            "json: cannot unmarshal bool into Go value of type int32",  # IntOrString's own
        ),
    ],
)
async def test_wrong_types_are_400_in_every_mode(
    api: tuple[aiohttp.ClientSession, str, Any], field: str, value: str, error: str
) -> None:
    body = VALID_DEPLOYMENT.replace(field, value, 1) % "typed"
    assert body != VALID_DEPLOYMENT % "typed"
    for mode in ("Strict", "Warn", "Ignore"):
        code, status, _ = await send(api, "POST", f"{DEPLOYS}?fieldValidation={mode}", body)
        assert (code, status["reason"]) == (400, "BadRequest")
        assert status["message"] == CANNOT + error


async def test_values_go_accepts_are_accepted(api: tuple[aiohttp.ClientSession, str, Any]) -> None:
    """null fits any field; IntOrString takes both; Quantity a number; Time a string."""
    body = VALID_DEPLOYMENT.replace('"replicas": 2', '"replicas": null, "paused": null', 1)
    body = body.replace(
        '"image": "nginx:latest"',
        '"image": "nginx:latest", "resources": {"limits": {"cpu": 1, "memory": "64Mi"}}, '
        '"livenessProbe": {"httpGet": {"port": 8080}}, '
        '"readinessProbe": {"httpGet": {"port": "http"}}',
    )
    body = body.replace('"labels": {"app": "nginx"}}', '"creationTimestamp": null}', 1)
    code, obj, _ = await send(api, "POST", f"{DEPLOYS}?fieldValidation=Strict", body % "ok")
    assert code == 201, obj
    assert obj["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] == 1


async def test_strict_patches_name_the_patch(api: tuple[aiohttp.ClientSession, str, Any]) -> None:
    code, _, _ = await send(api, "POST", DEPLOYS, VALID_DEPLOYMENT % "patched")
    assert code == 201
    _, before, _ = await send(api, "GET", f"{DEPLOYS}/patched", "")
    merge = '{"spec": {"unknown1": 1, "paused": true, "paused": false}}'
    problems = ['duplicate field "spec.paused"', 'unknown field "spec.unknown1"']
    for content_type in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
        code, status, _ = await send(
            api, "PATCH", f"{DEPLOYS}/patched?fieldValidation=Strict", merge, content_type
        )
        assert (code, status["reason"]) == (422, "Invalid")
        assert status["message"].endswith("strict decoding error: " + ", ".join(problems))
        assert status["details"]["causes"][0]["field"] == "patch"
        # the value shown: the patched object (merge) or, as Go prints a map, the patch (SMP)
        shown = "map[spec:map[paused:false unknown1:1]]" if "strategic" in content_type else "{"
        assert status["message"].startswith(f' "" is invalid: patch: Invalid value: "{shown}')
    json_patch = (
        '[{"op": "add", "path": "/spec/unknown1", "value": 1, "foo": "bar"},'
        ' {"op": "add", "path": "/spec/paused", "path": "/spec/paused", "value": true}]'
    )
    code, status, _ = await send(
        api,
        "PATCH",
        f"{DEPLOYS}/patched?fieldValidation=Strict",
        json_patch,
        "application/json-patch+json",
    )
    assert code == 422
    assert status["message"].endswith(
        'strict decoding error: json patch unknown field "[0].foo", '
        'json patch duplicate field "[1].path", unknown field "spec.unknown1"'
    )
    _, after, _ = await send(api, "GET", f"{DEPLOYS}/patched", "")
    assert after == before  # nothing refused was stored
    code, obj, warnings = await send(
        api, "PATCH", f"{DEPLOYS}/patched", merge, "application/merge-patch+json"
    )
    assert code == 200 and warnings == problems and "unknown1" not in obj["spec"]
    code, obj, warnings = await send(
        api,
        "PATCH",
        f"{DEPLOYS}/patched",
        '{"spec": {"replicas": "3"}}',
        "application/merge-patch+json",
    )
    assert (code, obj["reason"]) == (422, "Invalid")
    assert obj["message"].endswith(
        "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas "
        "of type int32"
    )


# Upstream's applyInvalidBody: JSON (indented with tabs) sent as server-side apply YAML.
APPLY_INVALID = (
    '{\n\t\t"apiVersion": "apps/v1",\n\t\t"kind": "Deployment",\n\t\t"metadata": {\n'
    '\t\t\t"name": "%s",\n\t\t\t"labels": {"app": "nginx"}\n\t\t},\n\t\t"spec": {\n'
    '\t\t\t"paused": false,\n\t\t\t"paused": true,\n\t\t\t"selector": {\n'
    '\t\t\t\t"matchLabels": {\n\t\t\t\t\t"app": "nginx"\n\t\t\t\t}\n\t\t\t},\n'
    '\t\t\t"template": {\n\t\t\t\t"metadata": {\n\t\t\t\t\t"labels": {\n'
    '\t\t\t\t\t\t"app": "nginx"\n\t\t\t\t\t}\n\t\t\t\t},\n\t\t\t\t"spec": {\n'
    '\t\t\t\t\t"containers": [{\n\t\t\t\t\t\t"name":  "nginx",\n'
    '\t\t\t\t\t\t"image": "nginx:latest",\n\t\t\t\t\t\t"imagePullPolicy": "Never",\n'
    '\t\t\t\t\t\t"imagePullPolicy": "Always"\n\t\t\t\t\t}]\n\t\t\t\t}\n\t\t\t}\n\t\t}\n\t}'
)
APPLY_LINES = [
    'line 10: key "paused" already set in map',
    'line 27: key "imagePullPolicy" already set in map',
]


async def test_duplicate_fields_in_server_side_apply(
    api: tuple[aiohttp.ClientSession, str, Any],
) -> None:
    apply = "application/apply-patch+yaml"
    path = f"{DEPLOYS}/applied?fieldManager=mgr"
    code, status, _ = await send(
        api, "PATCH", f"{path}&fieldValidation=Strict", APPLY_INVALID % "applied", apply
    )
    assert (code, status["reason"]) == (400, "BadRequest")
    assert status["message"] == (
        "error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n  "
        + "\n  ".join(APPLY_LINES)
    )
    code, obj, warnings = await send(api, "PATCH", path, APPLY_INVALID % "applied", apply)
    assert code == 201 and warnings == APPLY_LINES, obj
    assert obj["spec"]["paused"] is True  # the last value wins
    code, _, warnings = await send(
        api, "PATCH", f"{path}&fieldValidation=Ignore", APPLY_INVALID % "applied", apply
    )
    assert code == 200 and warnings == []
