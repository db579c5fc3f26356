"""A created object's managed fields, made in one pass (``created_fields``), are exactly what
the general way — compare with the empty object, keep the owned paths, encode — makes."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from minikube_py.api import fieldsets, fieldsv1
from minikube_py.api.catalog import builtin_registry
from minikube_py.api.resources import ResourceType
from minikube_py.apiserver import managedfields

REGISTRY = builtin_registry()
CORPUS = Path(__file__).parent.parent / "e2e" / "corpus" / "website-examples"


def general(rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    root = fieldsets.root_schema(rt)
    added, modified, _ = fieldsets.compare(root, managedfields.empty_like(obj), obj)
    return fieldsv1.encode(managedfields.owned(rt, added | modified, None))


def corpus() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(CORPUS.rglob("*.yaml")):
        for number, doc in enumerate(yaml.safe_load_all(path.read_text())):
            if isinstance(doc, dict) and doc.get("kind"):
                found.append((f"{path.relative_to(CORPUS)}#{number}", doc))
    return found


def resource(obj: dict[str, Any]) -> ResourceType | None:
    group, _, version = str(obj.get("apiVersion", "")).rpartition("/")
    return REGISTRY.by_kind(group, version, str(obj.get("kind")))


EXAMPLES = [(name, doc) for name, doc in corpus() if resource(doc) is not None]


def test_the_corpus_has_examples_of_many_kinds() -> None:
    assert len({doc["kind"] for _, doc in EXAMPLES}) >= 10


@pytest.mark.parametrize("name, obj", EXAMPLES, ids=[name for name, _ in EXAMPLES])
def test_every_website_example_gets_the_general_ways_fields(name: str, obj: dict[str, Any]) -> None:
    rt = resource(obj)
    assert rt is not None
    with_status = {**copy.deepcopy(obj), "status": {"phase": "Pending", "conditions": []}}
    for shown in (obj, with_status):
        assert managedfields.created_fields(rt, shown) == general(rt, shown)


def test_two_items_of_one_name_are_left_to_the_general_way() -> None:
    pod_type = REGISTRY.get("", "v1", "pods")
    assert pod_type is not None
    twins = [{"name": "web", "image": "a"}, {"name": "web", "image": "b"}]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": twins},
    }
    assert managedfields.created_fields(pod_type, pod) is None
    managedfields.record_update(pod_type, None, pod, manager="m")  # the general way then
    assert pod["metadata"]["managedFields"][0]["fieldsV1"] == general(pod_type, pod)


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=3))
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(
    data=st.dictionaries(st.text(max_size=4), _VALUES, max_size=4),
    labels=st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
)
def test_any_config_map_gets_the_general_ways_fields(
    data: dict[str, Any], labels: dict[str, str]
) -> None:
    config_maps = REGISTRY.get("", "v1", "configmaps")
    assert config_maps is not None
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "uid": "u", "labels": labels},
        "data": data,
        "extra": data,
    }
    assert managedfields.created_fields(config_maps, obj) == general(config_maps, obj)
