"""Structural schemas: pruning, defaulting and validation of custom resources, and columns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from minikube_py.api.customresources import cell_for, jsonpath, printer_columns, types_from_crd
from minikube_py.api.printers import cell_value, frozen_time
from minikube_py.api.structural import apply_defaults, prune, unknown_fields
from minikube_py.api.validation_schema import validate

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["image"],
            "properties": {
                "image": {"type": "string", "minLength": 2, "maxLength": 5},
                "replicas": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
                "ratio": {"type": "number", "exclusiveMaximum": True, "maximum": 1.5},
                "mode": {"type": "string", "enum": ["Fast", "Slow"]},
                "port": {"x-kubernetes-int-or-string": True},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "tags": {
                    "type": "array",
                    "maxItems": 2,
                    "minItems": 1,
                    "items": {"type": "string", "pattern": "^[a-z]+$"},
                },
                "limits": {"type": "object", "additionalProperties": {"type": "integer"}},
                "template": {
                    "type": "object",
                    "x-kubernetes-embedded-resource": True,
                    "properties": {
                        "data": {"type": "object", "properties": {"k": {"type": "string"}}}
                    },
                },
                "options": {
                    "type": "object",
                    "default": {},
                    "properties": {"debug": {"type": "boolean", "default": False}},
                },
                "nothing": {"type": "object"},
            },
        }
    },
}


def cr(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "stable.example.com/v1",
        "kind": "CronTab",
        "metadata": {"name": "x", "namespace": "default"},
        "spec": {"image": "nginx", **spec},
    }


def test_pruning_drops_undeclared_fields_and_keeps_preserved_ones() -> None:
    obj = cr(
        unknown=1,
        free={"anything": {"goes": [1]}},
        limits={"cpu": 2},
        nothing={"dropped": True},
        template={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "t", "x": 1},
                  "data": {"k": "v", "extra": "y"}, "other": 1},
    )  # fmt: skip
    obj["top"] = True
    obj["metadata"]["clusterName"] = "old"
    dropped = prune(SCHEMA, obj)
    assert sorted(dropped) == sorted(
        [
            "metadata.clusterName",
            "top",
            "spec.unknown",
            "spec.nothing.dropped",
            "spec.template.metadata.x",
            "spec.template.data.extra",
            "spec.template.other",
        ]
    )
    assert obj["spec"]["free"] == {"anything": {"goes": [1]}}
    assert obj["spec"]["limits"] == {"cpu": 2}
    assert obj["spec"]["template"] == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "t"},
        "data": {"k": "v"},
    }
    assert obj["apiVersion"] == "stable.example.com/v1" and obj["kind"] == "CronTab"


def test_unknown_fields_without_drop_leaves_the_object_alone() -> None:
    obj = cr(unknown=1)
    assert unknown_fields(SCHEMA, obj, drop=False) == ["spec.unknown"]
    assert obj["spec"]["unknown"] == 1
    assert unknown_fields(SCHEMA, obj, drop=True) == ["spec.unknown"]
    assert "unknown" not in obj["spec"]


def test_defaults_fill_missing_and_nested_values() -> None:
    obj = cr()
    apply_defaults(SCHEMA, obj)
    assert obj["spec"]["replicas"] == 1
    assert obj["spec"]["options"] == {"debug": False}  # defaults inside a default apply too
    given = cr(replicas=3, options={"debug": True})
    apply_defaults(SCHEMA, given)
    assert given["spec"]["replicas"] == 3 and given["spec"]["options"] == {"debug": True}
    nulled = cr(replicas=None, mode=None)
    assert prune(SCHEMA, nulled) == []  # nulls a schema does not allow go silently
    assert "mode" not in nulled["spec"]
    apply_defaults(SCHEMA, nulled)
    assert nulled["spec"]["replicas"] == 1
    assert messages(cr(mode=None)) == [
        'spec.mode: Invalid value: "": spec.mode in body must be of type string'
    ]


def messages(obj: dict[str, Any]) -> list[str]:
    return [f"{cause.field}: {cause.message}" for cause in validate(SCHEMA, obj)]


def test_a_valid_object_has_no_causes() -> None:
    assert messages(cr(replicas=3, ratio=1.2, mode="Fast", port="http", tags=["a"])) == []
    assert messages(cr(port=8080, replicas=2.0)) == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"replicas": "three"},
            'spec.replicas: Invalid value: "string": spec.replicas in body must be of type '
            'integer: "string"',
        ),
        (
            {"replicas": 1.5},
            'spec.replicas: Invalid value: "number": spec.replicas in body must be of type '
            'integer: "number"',
        ),
        (
            {"replicas": 15},
            "spec.replicas: Invalid value: 15: spec.replicas in body should be less than or "
            "equal to 10",
        ),
        (
            {"replicas": 0},
            "spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or "
            "equal to 1",
        ),
        (
            {"ratio": 1.5},
            "spec.ratio: Invalid value: 1.5: spec.ratio in body should be less than 1.5",
        ),
        (
            {"mode": "Medium"},
            'spec.mode: Unsupported value: "Medium": supported values: "Fast", "Slow"',
        ),
        ({"image": "n"}, 'spec.image: Invalid value: "n": spec.image in body should be at least '
                         "2 chars long"),
        ({"image": "toolong"}, "spec.image: Too long: may not be more than 5 bytes"),
        ({"tags": ["a", "b", "c"]}, "spec.tags: Too many: 3: must have at most 2 items"),
        (
            {"tags": ["A"]},
            "spec.tags[0]: Invalid value: \"A\": spec.tags[0] in body should match '^[a-z]+$'",
        ),
        (
            {"port": True},
            'spec.port: Invalid value: "boolean": spec.port in body must be of type '
            'integer-or-string: "boolean"',
        ),
        (
            {"limits": {"cpu": "2"}},
            'spec.limits.cpu: Invalid value: "string": spec.limits.cpu in body must be of type '
            'integer: "string"',
        ),
    ],
)  # fmt: skip
def test_violations_read_as_upstream(spec: dict[str, Any], message: str) -> None:
    assert messages(cr(**spec)) == [message]


def test_required_properties() -> None:
    obj = cr()
    del obj["spec"]["image"]
    assert messages(obj) == ["spec.image: Required value"]
    assert messages({**cr(), "spec": "text"}) == [
        'spec: Invalid value: "string": spec in body must be of type object: "string"'
    ]


def test_jsonpath_subset() -> None:
    obj = {
        "spec": {"cronSpec": "* * * * *", "labels": {"a.b/c": "x"}, "items": [{"n": 1}, {"n": 2}]},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }
    assert jsonpath(obj, ".spec.cronSpec") == ["* * * * *"]
    assert jsonpath(obj, "{.spec.items[1].n}") == [2]
    assert jsonpath(obj, ".spec.items[*].n") == [1, 2]
    assert jsonpath(obj, ".spec.labels['a.b/c']") == ["x"]
    assert jsonpath(obj, '.status.conditions[?(@.type=="Ready")].status') == ["True"]
    assert jsonpath(obj, ".spec.missing") == []


def test_printer_columns_and_cells() -> None:
    columns = printer_columns(
        [
            {"name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec"},
            {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        ]
    )
    assert [c.name for c in columns] == ["Name", "Spec", "Replicas", "Age"]
    obj = {"metadata": {"name": "x", "creationTimestamp": "2024-01-01T00:00:00Z"},
           "spec": {"cronSpec": "* * * * */5", "replicas": 2.0}}  # fmt: skip
    with frozen_time(datetime(2024, 1, 1, 0, 5, tzinfo=UTC)):
        cells = [cell_value(column, obj) for column in columns]
    assert cells == ["x", "* * * * */5", 2, "5m"]
    assert [c.name for c in printer_columns(None)] == ["Name", "Age"]
    assert cell_for("integer", "x") is None and cell_for("boolean", True) is True


def test_types_from_a_crd() -> None:
    crd = {
        "metadata": {"name": "crontabs.stable.example.com"},
        "spec": {
            "group": "stable.example.com",
            "scope": "Cluster",
            "names": {"plural": "crontabs", "kind": "CronTab", "shortNames": ["ct"]},
            "versions": [
                {"name": "v1", "served": True, "storage": False,
                 "schema": {"openAPIV3Schema": SCHEMA}},
                {"name": "v2", "served": True, "storage": True,
                 "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                                                          "statusReplicasPath": ".status.r"}}},
                {"name": "v3", "served": False, "storage": False},
            ],
        },
    }  # fmt: skip
    v2, v1 = types_from_crd(crd)  # the preferred (highest) version first, as discovery wants
    assert (v1.version, v1.singular, v1.namespaced, v1.short_names) == (
        "v1",
        "crontab",
        False,
        ("ct",),
    )
    assert v1.schema == SCHEMA and v1.storage_version == "v2"
    assert v2.subresources == ("status", "scale") and v2.scale is not None
    assert v2.scale.spec_replicas == ".spec.replicas"
    everything = types_from_crd(crd, unserved=True)
    assert [rt.version for rt in everything] == ["v3", "v2", "v1"]
