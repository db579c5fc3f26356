"""``/openapi/v2``: Swagger 2.0 in JSON, and in protobuf (gnostic's ``openapi.v2.Document``),
the only form kubectl reads."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from minikube_py.api import catalog
from minikube_py.api.errors import ApiError
from minikube_py.api.registry import Registry
from tests.apiserver.test_openapi import body, crontab, get, refs


@pytest.fixture
def registry() -> Registry:
    return catalog.builtin_registry()


def test_v2_is_swagger_with_definitions(registry: Registry) -> None:
    document = body(get(registry, "/openapi/v2"))
    assert document["swagger"] == "2.0"
    definitions = document["definitions"]
    spec = definitions["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"]
    assert spec["$ref"] == "#/definitions/io.k8s.api.apps.v1.DeploymentStrategy"
    assert spec["x-kubernetes-patch-strategy"] == "retainKeys"
    assert definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] == {
        "type": "string",
        "format": "int-or-string",
    }
    assert all(ref.startswith("#/definitions/") for ref in refs(document))
    with pytest.raises(ApiError) as refused:
        get(registry, "/openapi/v2", Accept="text/html")
    assert refused.value.code == 406


def fields(raw: bytes) -> list[tuple[int, Any]]:
    """A protobuf message's fields in order: (number, int or bytes); doubles left out."""
    found: list[tuple[int, Any]] = []
    at = 0

    def varint() -> int:
        nonlocal at
        value = shift = 0
        while True:
            byte = raw[at]
            at += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    while at < len(raw):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            found.append((number, varint()))
        elif wire == 2:
            size = varint()
            found.append((number, raw[at : at + size]))
            at += size
        else:
            assert wire == 1, wire
            at += 8
    return found


def test_v2_in_protobuf_as_kubectl_asks(registry: Registry) -> None:
    """gnostic's ``openapi.v2.Document``: swagger 1, info 2, definitions 9 (NamedSchema 1:
    name 1, Schema 2: description 4, type 22, properties 25, vendor extensions 31)."""
    registry.add(crontab())
    accept = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
    response = get(registry, "/openapi/v2", Accept=accept)
    assert response.content_type == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    assert isinstance(response.body, bytes)
    document = dict(fields(response.body))
    assert document[1] == b"2.0"
    named = [dict(fields(entry)) for number, entry in fields(document[9]) if number == 1]
    schemas = {entry[1].decode(): dict(fields(entry[2])) for entry in named}
    deployment = schemas["io.k8s.api.apps.v1.Deployment"]
    assert deployment[4].startswith(b"Deployment enables declarative updates")
    assert dict(fields(deployment[22])) == {1: b"object"}
    extension = dict(fields(deployment[31]))
    assert extension[1] == b"x-kubernetes-group-version-kind"
    assert orjson.loads(dict(fields(extension[2]))[2]) == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}
    ]
    properties = [dict(fields(p)) for _, p in fields(deployment[25])]
    assert [p[1] for p in properties] == [b"apiVersion", b"kind", b"metadata", b"spec", b"status"]
    spec = dict(fields(properties[3][2]))
    assert spec[1] == b"#/definitions/io.k8s.api.apps.v1.DeploymentSpec"
    assert "com.example.stable.v1.CronTab" in schemas
