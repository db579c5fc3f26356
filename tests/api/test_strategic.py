"""Strategic merge patch: keyed lists merge by key, and kubectl's directives are honoured."""

from __future__ import annotations

from typing import Any

from minikube_py.api.strategic import strategic_merge_patch


def pod(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": list(containers), **spec},
    }


def test_containers_merge_by_name_and_keep_their_other_fields() -> None:
    original = pod(
        {"name": "a", "image": "x:1", "ports": [{"containerPort": 80}]},
        {"name": "b", "image": "y:1"},
    )
    patched = strategic_merge_patch(
        original, {"spec": {"containers": [{"name": "a", "image": "x:2"}]}}
    )
    assert patched["spec"]["containers"] == [
        {"name": "a", "image": "x:2", "ports": [{"containerPort": 80}]},
        {"name": "b", "image": "y:1"},
    ]


def test_set_element_order_and_delete_directives() -> None:
    original = pod({"name": "a", "image": "x"}, {"name": "b", "image": "y"})
    patch = {
        "spec": {
            "$setElementOrder/containers": [{"name": "c"}, {"name": "a"}],
            "containers": [{"name": "b", "$patch": "delete"}, {"name": "c", "image": "z"}],
        }
    }
    patched = strategic_merge_patch(original, patch)
    assert [c["name"] for c in patched["spec"]["containers"]] == ["c", "a"]
    assert "$setElementOrder/containers" not in patched["spec"]


def test_primitive_lists_and_replace_and_retain_keys() -> None:
    original = pod({"name": "a", "image": "x"})
    original["metadata"]["finalizers"] = ["one", "two"]
    original["spec"]["volumes"] = [{"name": "v", "emptyDir": {}}]
    patched = strategic_merge_patch(
        original,
        {
            "metadata": {"finalizers": ["three"], "$deleteFromPrimitiveList/finalizers": ["one"]},
            "spec": {
                "volumes": [
                    {"name": "v", "configMap": {"name": "c"}, "$retainKeys": ["name", "configMap"]}
                ],
                "nodeSelector": {"$patch": "replace", "disk": "ssd"},
            },
        },
    )
    assert patched["metadata"]["finalizers"] == ["two", "three"]
    assert patched["spec"]["volumes"] == [{"name": "v", "configMap": {"name": "c"}}]
    assert patched["spec"]["nodeSelector"] == {"disk": "ssd"}


def test_lists_without_a_merge_key_are_replaced_and_null_deletes() -> None:
    original = pod({"name": "a", "image": "x", "args": ["1", "2"]}, hostname="h")
    patched = strategic_merge_patch(
        original,
        {
            "spec": {
                "hostname": None,
                "containers": [{"name": "a", "args": ["3"]}],
            }
        },
    )
    assert patched["spec"]["containers"][0]["args"] == ["3"]
    assert "hostname" not in patched["spec"]
