"""Field sets: paths walked along the schema, and their ``fieldsV1`` encoding."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minikube_py.api import fieldsets, fieldsv1
from minikube_py.api.catalog import builtin_registry
from minikube_py.api.fieldsv1 import FieldsError

REGISTRY = builtin_registry()
DEPLOY = REGISTRY.get("apps", "v1", "deployments")
POD = REGISTRY.get("", "v1", "pods")
assert DEPLOY and POD


def pod() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "labels": {"app": "web"}, "finalizers": ["a/b"]},
        "spec": {
            "containers": [
                {
                    "name": "web",
                    "image": "nginx",
                    "args": ["-x", "-y"],
                    "ports": [{"containerPort": 80}, {"containerPort": 53, "protocol": "UDP"}],
                }
            ],
            "tolerations": [{"key": "k", "operator": "Exists"}],
        },
    }


def test_applied_set_follows_list_types_of_the_schema() -> None:
    paths = fieldsets.applied_set(fieldsets.root_schema(POD), pod())
    container = ("f:spec", "f:containers", 'k:{"name":"web"}')
    assert container in paths  # an element of an associative list is itself a member
    assert (*container, "f:image") in paths
    assert (*container, "f:args") in paths  # atomic list: one leaf
    assert (*container, "f:args", "i:0") not in paths
    # ports are keyed by containerPort and protocol; a missing protocol is its default, TCP
    assert (*container, "f:ports", 'k:{"containerPort":80,"protocol":"TCP"}') in paths
    assert (*container, "f:ports", 'k:{"containerPort":53,"protocol":"UDP"}', "f:protocol") in paths
    assert ("f:metadata", "f:finalizers", 'v:"a/b"') in paths  # a set: by value
    assert ("f:spec", "f:tolerations") in paths  # atomic
    assert ("f:metadata", "f:labels", "f:app") in paths
    assert ("f:metadata", "f:labels") not in paths  # maps are not members when applied


def test_atomic_struct_is_a_leaf() -> None:
    deployment = {"spec": {"selector": {"matchLabels": {"app": "x"}}}}
    paths = fieldsets.applied_set(fieldsets.root_schema(DEPLOY), deployment)
    assert paths == {("f:spec", "f:selector")}


def test_unknown_schema_walks_maps_and_keeps_lists_whole() -> None:
    value = {"a": {"b": 1, "c": [1, 2]}}
    assert fieldsets.applied_set(None, value) == {("f:a", "f:b"), ("f:a", "f:c")}


def test_encode_decode_round_trip() -> None:
    paths = fieldsets.applied_set(fieldsets.root_schema(POD), pod())
    paths.add(("f:metadata", "f:labels"))  # a member with children: "."
    encoded = fieldsv1.encode(paths)
    assert encoded["f:metadata"]["f:labels"] == {".": {}, "f:app": {}}
    assert encoded["f:metadata"]["f:finalizers"] == {'v:"a/b"': {}}
    ports = encoded["f:spec"]["f:containers"]['k:{"name":"web"}']["f:ports"]
    assert ports['k:{"containerPort":80,"protocol":"TCP"}'] == {".": {}, "f:containerPort": {}}
    assert fieldsv1.decode(encoded) == paths


def test_set_algebra_is_plain_python_sets() -> None:
    a = fieldsv1.decode({"f:spec": {"f:replicas": {}, "f:paused": {}}})
    b = fieldsv1.decode({"f:spec": {"f:replicas": {}}})
    assert fieldsv1.encode(a - b) == {"f:spec": {"f:paused": {}}}
    assert fieldsv1.encode(a | b) == fieldsv1.encode(a)


@pytest.mark.parametrize(
    "garbage",
    [[], "x", {"f:a": 1}, {"x:a": {}}, {"k:[1]": {}}, {"i:one": {}}, {".": {}}, {"v:{": {}}],
)
def test_malformed_field_sets_are_refused(garbage: Any) -> None:
    with pytest.raises(FieldsError):
        fieldsv1.decode(garbage)


def test_compare_reports_added_modified_removed() -> None:
    root = fieldsets.root_schema(DEPLOY)
    old = {"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"replicas": 1}}
    new = {"metadata": {"labels": {"a": "1", "c": "3"}}, "spec": {"replicas": 2}}
    added, modified, removed = fieldsets.compare(root, old, new)
    assert added == {("f:metadata", "f:labels", "f:c")}
    assert modified == {("f:spec", "f:replicas")}
    assert removed == {("f:metadata", "f:labels", "f:b")}


def test_path_strings_as_upstream_prints_them() -> None:
    path = ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"web"}', "f:image")
    assert fieldsets.path_string(path) == '.spec.template.spec.containers[name="web"].image'
    ports = ("f:ports", 'k:{"port":80,"protocol":"TCP"}')
    assert fieldsets.path_string(ports) == '.ports[port=80,protocol="TCP"]'
    assert fieldsets.path_string(("f:finalizers", 'v:"x"')) == '.finalizers[="x"]'
    assert fieldsets.path_string(("f:args", "i:2")) == ".args[2]"


def test_custom_resource_schema_is_walked() -> None:
    crd_schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "items": {
                        "type": "array",
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["id"],
                        "items": {"type": "object", "properties": {"id": {"type": "string"}}},
                    }
                },
            }
        },
    }
    rt = REGISTRY.get("apps", "v1", "deployments")
    assert rt is not None
    custom = attrs.evolve(rt, schema=crd_schema)
    obj = {"metadata": {"finalizers": ["f"]}, "spec": {"items": [{"id": "a", "n": 1}]}}
    paths = fieldsets.applied_set(fieldsets.root_schema(custom), obj)
    assert ("f:spec", "f:items", 'k:{"id":"a"}', "f:n") in paths
    assert ("f:metadata", "f:finalizers", 'v:"f"') in paths  # metadata: ObjectMeta's schema


def test_undeclared_fields() -> None:
    root = fieldsets.root_schema(POD)
    obj = pod()
    obj["spec"]["containers"][0]["colour"] = "red"
    obj["metadata"]["labels"]["any"] = "label"  # a map takes any key
    obj["extra"] = 1
    assert fieldsets.undeclared(root, obj) == [
        ("f:spec", "f:containers", 'k:{"name":"web"}', "f:colour"),
        ("f:extra",),
    ]


def _compare_whole(node: Any, old: Any, new: Any) -> tuple[set[Any], set[Any], set[Any]]:
    """The definition ``compare`` must agree with: every node of both objects, diffed."""
    before, after = fieldsets.nodes(node, old), fieldsets.nodes(node, new)
    modified = {
        path
        for path, (value, leaf) in after.items()
        if path in before and (leaf or before[path][1]) and before[path][0] != value
    }
    return set(after) - set(before), modified, set(before) - set(after)


_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from(["a", "b"]))
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["name", "image", "a", "b"]), inner, max_size=3),
    ),
    max_leaves=8,
)
_containers = st.lists(
    st.fixed_dictionaries(
        {"name": st.sampled_from(["web", "db"])},
        optional={"image": _scalars, "args": st.lists(_scalars, max_size=2), "extra": _values},
    ),
    max_size=3,
)
_pods = st.fixed_dictionaries(
    {"metadata": st.fixed_dictionaries({}, optional={"labels": _values, "name": _scalars})},
    optional={
        "spec": st.fixed_dictionaries({}, optional={"containers": _containers}),
        "x": _values,
    },
)


@given(old=_pods, new=_pods)
@settings(max_examples=300, deadline=None)
def test_compare_skipping_equal_parts_agrees_with_diffing_every_node(old: Any, new: Any) -> None:
    node = fieldsets.root_schema(POD)
    assert fieldsets.compare(node, old, new) == _compare_whole(node, old, new)
