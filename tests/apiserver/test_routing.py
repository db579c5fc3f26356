"""Paths to targets, and how selectors turn store events into watch events."""

from __future__ import annotations

import json

import pytest

from minikube_py.api import errors
from minikube_py.api.catalog import builtin_registry
from minikube_py.apiserver.listing import Filter, ListOptions
from minikube_py.apiserver.routing import parse
from minikube_py.apiserver.watching import to_api_event
from minikube_py.store import EventType, WatchEvent

REGISTRY = builtin_registry()


def test_paths_name_resource_namespace_object_and_subresource() -> None:
    t = parse(REGISTRY, "/apis/apps/v1/namespaces/default/deployments/web/scale")
    assert t is not None and (t.rt.kind, t.namespace, t.name, t.subresource) == (
        "Deployment",
        "default",
        "web",
        "scale",
    )
    t = parse(REGISTRY, "/api/v1/pods")
    assert t is not None and (t.rt.kind, t.namespace, t.name) == ("Pod", None, None)
    t = parse(REGISTRY, "/api/v1/namespaces/kube-system")
    assert t is not None and (t.rt.kind, t.name) == ("Namespace", "kube-system")
    t = parse(REGISTRY, "/api/v1/namespaces/kube-system/status")
    assert t is not None and (t.rt.kind, t.name, t.subresource) == (
        "Namespace",
        "kube-system",
        "status",
    )
    t = parse(REGISTRY, "/api/v1/namespaces/kube-system/pods")
    assert t is not None and (t.rt.kind, t.namespace, t.name) == ("Pod", "kube-system", None)
    assert parse(REGISTRY, "/apis/apps/v1") is None  # discovery, not a resource


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/widgets",
        "/apis/nope.io/v1/things",
        "/apis/apps/v1/namespaces/default/deployments/web/teleport",
        "/api/v1/namespaces/default/nodes",  # nodes are cluster-scoped
        "/apis/apps/v1/deployments/web",  # a namespaced object needs its namespace
    ],
)
def test_unknown_or_malformed_resource_paths_are_404(path: str) -> None:
    with pytest.raises(errors.ApiError) as raised:
        parse(REGISTRY, path)
    assert raised.value.code == 404
    assert raised.value.message == "the server could not find the requested resource"


def _event(kind: EventType, new: dict | None, old: dict | None) -> WatchEvent:
    encode = lambda obj: json.dumps(obj).encode() if obj is not None else None  # noqa: E731
    return WatchEvent(kind, "/registry/configmaps/default/x", encode(new), 9, encode(old), 1)


def test_selector_transitions_become_added_and_deleted() -> None:
    rt = REGISTRY.get("", "v1", "configmaps")
    assert rt is not None
    selection = Filter.build(rt, ListOptions(label_selector="app=web"))
    web = {"metadata": {"name": "x", "labels": {"app": "web"}}}
    other = {"metadata": {"name": "x", "labels": {"app": "db"}}}
    shown = to_api_event(_event(EventType.MODIFIED, web, other), selection)
    assert shown is not None and shown[0] == "ADDED"
    shown = to_api_event(_event(EventType.MODIFIED, other, web), selection)
    assert shown is not None and shown[0] == "DELETED"
    assert to_api_event(_event(EventType.MODIFIED, other, other), selection) is None
    shown = to_api_event(_event(EventType.DELETED, None, web), selection)
    assert shown is not None and shown[0] == "DELETED"
    assert shown[1]["metadata"]["resourceVersion"] == "9"
