"""Paths inside volumes are refused when they would leave the volume, in upstream's words."""

from __future__ import annotations

from typing import Any

from minikube_py.api.catalog import builtin_registry
from minikube_py.api.validation import validate

PODS = builtin_registry().get("", "v1", "pods")


def causes(volume: dict[str, Any], mount: dict[str, Any] | None = None) -> list[str]:
    container: dict[str, Any] = {"name": "c", "image": "busybox"}
    if mount is not None:
        container["volumeMounts"] = [mount]
    pod = {"spec": {"containers": [container], "volumes": [{"name": "v", **volume}]}}
    return [f"{c.field}: {c.message}" for c in validate(PODS, pod)]


def test_item_paths_must_stay_inside_the_volume() -> None:
    items = [
        {"key": "a", "path": "../../etc/passwd"},
        {"key": "b", "path": "/etc/shadow"},
        {"key": "c", "path": "..data"},
        {"key": "", "path": "ok"},
        {"key": "d", "path": "fine/name", "mode": 0o1000},
    ]
    found = causes({"configMap": {"name": "cm", "items": items}})
    at = "spec.volumes[0].configMap.items"
    assert f"{at}[0].path: Invalid value: \"../../etc/passwd\": must not contain '..'" in found
    assert f'{at}[1].path: Invalid value: "/etc/shadow": must be a relative path' in found
    assert f"{at}[2].path: Invalid value: \"..data\": must not start with '..'" in found
    assert f"{at}[3].key: Required value" in found
    assert f"{at}[4].mode: Invalid value: 512: " in " ".join(found)
    assert not [c for c in found if "fine/name" in c]


def test_projected_and_downward_paths_are_checked_too() -> None:
    volume = {
        "projected": {
            "sources": [
                {"secret": {"name": "s", "items": [{"key": "k", "path": "a/../../b"}]}},
                {"downwardAPI": {"items": [{"path": "/abs", "fieldRef": {"fieldPath": "x"}}]}},
            ]
        }
    }
    found = causes(volume)
    assert any("projected.sources[0].secret.items[0].path" in c and "'..'" in c for c in found)
    assert any("projected.sources[1].downwardAPI.items[0].path" in c for c in found)


def test_sub_paths_must_descend() -> None:
    mount = {"name": "v", "mountPath": "/m", "subPath": "../x"}
    found = causes({"emptyDir": {}}, mount)
    at = "spec.containers[0].volumeMounts[0]"
    assert f"{at}.subPath: Invalid value: \"../x\": must not contain '..'" in found
    both = {"name": "v", "mountPath": "/m", "subPath": "a", "subPathExpr": "$(POD_NAME)"}
    found = causes({"emptyDir": {}}, both)
    assert f'{at}.subPathExpr: Invalid value: "$(POD_NAME)": ' in " ".join(found)
    fine = causes({"emptyDir": {}}, {"name": "v", "mountPath": "/m", "subPath": "logs/web"})
    assert not [c for c in fine if "volume" in c.lower()]
