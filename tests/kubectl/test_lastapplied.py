"""The client-side apply patch, checked against what kubectl 1.32 sends.

The expected patches below were captured from the real kubectl (``-v=9`` shows the request
body) applying the same manifests to a live object; each is also applied with the API
server's strategic merge, to show the object ends up as the manifest says.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from minikube_py.api.strategic import strategic_merge_patch
from minikube_py.kubectl.lastapplied import (
    ANNOTATION,
    annotated,
    go_json,
    last_applied,
    root_schema,
    three_way_patch,
)

DEPLOYMENTS = root_schema("apps/v1", "Deployment")


def deployment(replicas: int, containers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": containers},
            },
        },
    }


FIRST = deployment(
    2, [{"name": "web", "image": "nginx", "args": ["a"], "ports": [{"containerPort": 80}]}]
)
SECOND = deployment(
    3, [{"name": "web", "image": "nginx", "args": ["b"]}, {"name": "side", "image": "busybox"}]
)


def live(manifest: dict[str, Any]) -> dict[str, Any]:
    """``manifest`` as the server would keep it after an apply: annotated, defaulted."""
    obj = annotated(manifest)
    obj["metadata"].update(uid="u-1", resourceVersion="7", generation=1)
    obj["spec"]["progressDeadlineSeconds"] = 600
    obj["spec"]["strategy"] = {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
    }
    for container in obj["spec"]["template"]["spec"]["containers"]:
        container.update(imagePullPolicy="Always", terminationMessagePath="/dev/termination-log")
        for port in container.get("ports") or []:
            port.setdefault("protocol", "TCP")
    obj["status"] = {"replicas": manifest["spec"]["replicas"]}
    return obj


def apply(manifest: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    patch = three_way_patch(last_applied(current), annotated(manifest), current, DEPLOYMENTS)
    return strategic_merge_patch(copy.deepcopy(current), patch)


def test_annotation_is_kubectls_record() -> None:
    record = annotated(FIRST)["metadata"]["annotations"][ANNOTATION]
    assert record == (
        '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{},"labels":'
        '{"app":"web"},"name":"web","namespace":"default"},"spec":{"replicas":2,"selector":'
        '{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":'
        '{"containers":[{"args":["a"],"image":"nginx","name":"web","ports":[{"containerPort":'
        "80}]}]}}}}\n"
    )
    assert go_json({"a": "<b>&"}) == '{"a":"\\u003cb\\u003e\\u0026"}\n'
    # applying an annotated object again records the manifest, not the old record
    assert annotated(annotated(FIRST)) == annotated(FIRST)


def test_patch_is_the_one_kubectl_sends() -> None:
    current = live(FIRST)
    patch = three_way_patch(last_applied(current), annotated(SECOND), current, DEPLOYMENTS)
    annotation = annotated(SECOND)["metadata"]["annotations"]
    assert json.dumps(patch, sort_keys=True) == json.dumps(
        {
            "metadata": {"annotations": annotation},
            "spec": {
                "replicas": 3,
                "template": {
                    "spec": {
                        "$setElementOrder/containers": [{"name": "web"}, {"name": "side"}],
                        "containers": [
                            {"args": ["b"], "name": "web", "ports": None},
                            {"image": "busybox", "name": "side"},
                        ],
                    }
                },
            },
        },
        sort_keys=True,
    )
    back = three_way_patch(SECOND, annotated(FIRST), apply(SECOND, current), DEPLOYMENTS)
    assert back["spec"]["template"]["spec"]["containers"] == [
        {"args": ["a"], "name": "web", "ports": [{"containerPort": 80}]},
        {"$patch": "delete", "name": "side"},
    ]


def test_same_manifest_gives_an_empty_patch() -> None:
    current = live(FIRST)
    assert three_way_patch(last_applied(current), annotated(FIRST), current, DEPLOYMENTS) == {}


def test_applied_object_follows_the_manifest() -> None:
    result = apply(SECOND, live(FIRST))
    containers = result["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["web", "side"]
    assert containers[0]["args"] == ["b"] and "ports" not in containers[0]
    assert containers[0]["imagePullPolicy"] == "Always"  # a default, never applied: kept
    assert result["spec"]["replicas"] == 3
    recorded = copy.deepcopy(SECOND)
    recorded["metadata"]["annotations"] = {}  # kubectl's record keeps an empty map
    assert last_applied(result) == recorded


def test_fields_set_by_others_are_kept() -> None:
    manifest = copy.deepcopy(FIRST)
    del manifest["spec"]["replicas"]
    current = live({**FIRST, "spec": {**FIRST["spec"], "replicas": 2}})
    current["metadata"]["annotations"][ANNOTATION] = go_json(manifest)
    current["spec"]["replicas"] = 5  # kubectl scale
    current["metadata"]["annotations"]["team"] = "blue"
    changed = copy.deepcopy(manifest)
    changed["metadata"]["labels"]["tier"] = "api"
    result = apply(changed, current)
    assert result["spec"]["replicas"] == 5
    assert result["metadata"]["annotations"]["team"] == "blue"
    assert result["metadata"]["labels"] == {"app": "web", "tier": "api"}


def test_removed_fields_are_deleted() -> None:
    manifest = copy.deepcopy(FIRST)
    manifest["metadata"]["labels"]["tier"] = "web"
    manifest["metadata"]["finalizers"] = ["example.com/a", "example.com/b"]
    current = live(manifest)
    smaller = copy.deepcopy(FIRST)
    smaller["metadata"]["finalizers"] = ["example.com/b"]
    patch = three_way_patch(last_applied(current), annotated(smaller), current, DEPLOYMENTS)
    assert patch["metadata"]["labels"] == {"tier": None}
    assert patch["metadata"]["$deleteFromPrimitiveList/finalizers"] == ["example.com/a"]
    result = strategic_merge_patch(copy.deepcopy(current), patch)
    assert result["metadata"]["labels"] == {"app": "web"}
    assert result["metadata"]["finalizers"] == ["example.com/b"]


def test_retain_keys_when_the_strategy_changes() -> None:
    manifest = copy.deepcopy(FIRST)
    manifest["spec"]["strategy"] = {"type": "RollingUpdate"}
    current = live(manifest)
    recreate = copy.deepcopy(FIRST)
    recreate["spec"]["strategy"] = {"type": "Recreate"}
    patch = three_way_patch(last_applied(current), annotated(recreate), current, DEPLOYMENTS)
    assert patch["spec"]["strategy"] == {"$retainKeys": ["type"], "type": "Recreate"}
    result = strategic_merge_patch(copy.deepcopy(current), patch)
    assert result["spec"]["strategy"] == {"type": "Recreate"}


def test_custom_resources_get_a_json_merge_patch() -> None:
    assert root_schema("example.com/v1", "Widget") is None
    first = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"sizes": [1, 2], "color": "red", "owner": "me"},
    }
    current = annotated(first)
    current["spec"]["extra"] = "set by a controller"
    second = copy.deepcopy(first)
    second["spec"] = {"sizes": [3], "color": "red"}
    patch = three_way_patch(first, annotated(second), current, None)
    assert patch["spec"] == {"sizes": [3], "owner": None}
    assert "extra" not in patch["spec"]
    assert three_way_patch(second, annotated(second), annotated(second), None) == {}
