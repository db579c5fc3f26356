"""Server-side apply and managedFields through ``Storage``, without HTTP."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from minikube_py.api import errors
from minikube_py.api.catalog import builtin_registry
from minikube_py.apiserver import applying, lastapplied, managedfields
from minikube_py.apiserver.storage import Storage
from tests.clusters import bootstrapped_storage

REGISTRY = builtin_registry()
DEPLOY = REGISTRY.get("apps", "v1", "deployments")
CM = REGISTRY.get("", "v1", "configmaps")
assert DEPLOY and CM


@pytest.fixture
async def storage() -> AsyncIterator[Storage]:
    async with bootstrapped_storage(REGISTRY) as storage:
        yield storage


def config(replicas: int | None = 2, image: str = "nginx", **labels: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": image}]},
        },
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web", **labels}},
        "spec": spec,
    }


async def apply(
    storage: Storage, body: dict[str, Any], manager: str = "kubectl", *, force: bool = False
) -> tuple[dict[str, Any], int]:
    return await applying.server_side_apply(
        storage, DEPLOY, "default", "web", copy.deepcopy(body), manager=manager, force=force
    )


def entries(obj: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["manager"], e["operation"]): e for e in obj["metadata"]["managedFields"]}


async def test_apply_creates_then_reapply_is_a_no_op(storage: Storage) -> None:
    created, code = await apply(storage, config())
    assert code == 201
    assert created["spec"]["replicas"] == 2 and created["spec"]["revisionHistoryLimit"] == 10
    entry = entries(created)[("kubectl", "Apply")]
    assert entry["apiVersion"] == "apps/v1" and entry["fieldsType"] == "FieldsV1"
    assert entry["time"]
    assert "f:revisionHistoryLimit" not in entry["fieldsV1"]["f:spec"]  # defaults: unowned
    again, code = await apply(storage, config())
    assert code == 200
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    stored = await storage.get(DEPLOY, "default", "web")
    assert stored["metadata"]["managedFields"] == created["metadata"]["managedFields"]


async def test_conflict_names_the_field_and_the_manager(storage: Storage) -> None:
    await apply(storage, config())
    await storage.patch(
        DEPLOY,
        "default",
        "web",
        lambda obj: {**obj, "spec": {**obj["spec"], "replicas": 5}},
        manager="hpa",
    )
    with pytest.raises(errors.ApiError) as caught:
        await apply(storage, config(replicas=3))
    error = caught.value
    assert error.code == 409 and error.reason == "Conflict"
    assert error.message == (
        'Apply failed with 1 conflict: conflict with "hpa" using apps/v1: .spec.replicas'
    )
    assert error.details == {
        "causes": [
            {
                "reason": "FieldManagerConflict",
                "message": 'conflict with "hpa" using apps/v1',
                "field": ".spec.replicas",
            }
        ]
    }
    assert (await storage.get(DEPLOY, "default", "web"))["spec"]["replicas"] == 5


async def test_several_conflicts_are_listed_by_manager(storage: Storage) -> None:
    await apply(storage, config(), "alice")
    with pytest.raises(errors.ApiError) as caught:
        await apply(storage, config(replicas=4, image="httpd"), "bob")
    assert caught.value.message == (
        'Apply failed with 2 conflicts: conflicts with "alice":\n'
        "- .spec.replicas\n"
        '- .spec.template.spec.containers[name="web"].image'
    )


async def test_force_takes_the_fields_over(storage: Storage) -> None:
    await apply(storage, config(), "alice")
    forced, _ = await apply(storage, config(replicas=4), "bob", force=True)
    assert forced["spec"]["replicas"] == 4
    owners = entries(forced)
    assert "f:replicas" not in owners[("alice", "Apply")]["fieldsV1"]["f:spec"]
    assert "f:replicas" in owners[("bob", "Apply")]["fieldsV1"]["f:spec"]


async def test_a_field_left_out_is_removed(storage: Storage) -> None:
    await apply(storage, config(tier="front"))
    applied, _ = await apply(storage, config())
    assert applied["metadata"]["labels"] == {"app": "web"}
    # replicas left out: removed, then defaulted again by admission
    applied, _ = await apply(storage, config(replicas=None))
    assert applied["spec"]["replicas"] == 1


async def test_shared_ownership_keeps_a_field(storage: Storage) -> None:
    await apply(storage, config(tier="front"), "alice")
    await apply(storage, config(tier="front"), "bob")  # same value: shared, no conflict
    applied, _ = await apply(storage, config(), "alice")
    assert applied["metadata"]["labels"] == {"app": "web", "tier": "front"}
    applied, _ = await apply(storage, config(), "bob")
    assert applied["metadata"]["labels"] == {"app": "web"}  # nobody owns it any more


async def test_dry_run_writes_nothing(storage: Storage) -> None:
    _, code = await applying.server_side_apply(
        storage, DEPLOY, "default", "web", config(), manager="kubectl", force=False, dry_run=True
    )
    assert code == 201
    with pytest.raises(errors.ApiError) as caught:
        await storage.get(DEPLOY, "default", "web")
    assert caught.value.code == 404


async def test_applied_configuration_is_checked(storage: Storage) -> None:
    wrong = {**config(), "apiVersion": "apps/v1beta1"}
    with pytest.raises(errors.ApiError) as caught:
        await apply(storage, wrong)
    assert caught.value.message == (
        "Incorrect version specified in apply patch. Specified patch version: apps/v1beta1, "
        "expected: apps/v1"
    )
    sent = config()
    sent["metadata"]["managedFields"] = []
    with pytest.raises(errors.ApiError) as caught:
        await apply(storage, sent)
    assert caught.value.message == "metadata.managedFields must be nil"


def test_field_manager_is_required_for_apply_and_force_only_for_apply() -> None:
    with pytest.raises(errors.ApiError) as caught:
        applying.patch_options({}, "application/apply-patch+yaml")
    assert caught.value.code == 422
    assert caught.value.message == (
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required '
        "for apply patch"
    )
    with pytest.raises(errors.ApiError) as caught:
        applying.patch_options({"force": "true"}, "application/merge-patch+json")
    assert "force: Forbidden: may not be specified for non-apply patch" in caught.value.message
    assert applying.patch_options({"fieldManager": "m", "force": "true"}, applying.APPLY_PATCH)


async def test_updates_move_fields_between_managers(storage: Storage) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}
    created = await storage.create(CM, "default", copy.deepcopy(body), manager="maker")
    assert created["metadata"]["managedFields"] == [
        {
            "manager": "maker",
            "operation": "Update",
            "apiVersion": "v1",
            "time": created["metadata"]["managedFields"][0]["time"],
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {".": {}, "f:a": {}}},
        }
    ]
    changed = copy.deepcopy(created)
    changed["data"] = {"a": "2", "b": "3"}
    updated = await storage.update(CM, "default", "c", changed, manager="editor")
    owners = entries(updated)
    assert owners[("maker", "Update")]["fieldsV1"] == {"f:data": {}}  # the map, not "a" now
    assert owners[("editor", "Update")]["fieldsV1"] == {"f:data": {"f:a": {}, "f:b": {}}}
    # an update by a manager that changes nothing keeps the object as it was
    same = await storage.update(CM, "default", "c", copy.deepcopy(updated), manager="idle")
    assert same["metadata"]["resourceVersion"] == updated["metadata"]["resourceVersion"]


async def test_garbage_managed_fields_from_a_client_are_ignored(storage: Storage) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}
    updated = await storage.create(CM, "default", body, manager="maker")
    for garbage in ([{"manager": "x", "operation": "Bogus"}], "nonsense", []):
        sent = copy.deepcopy(updated)
        sent["metadata"]["managedFields"] = garbage
        sent["data"]["a"] = f"{len(str(garbage))}"
        updated = await storage.update(CM, "default", "c", sent, manager="maker")
        assert [e["manager"] for e in updated["metadata"]["managedFields"]] == ["maker"]
    # [{}] resets them: only this write's changes are recorded
    sent = copy.deepcopy(updated)
    sent["metadata"]["managedFields"] = [{}]
    sent["data"]["b"] = "new"
    reset = await storage.update(CM, "default", "c", sent, manager="resetter")
    assert [e["fieldsV1"] for e in reset["metadata"]["managedFields"]] == [{"f:data": {"f:b": {}}}]


def test_manager_from_the_user_agent() -> None:
    assert managedfields.manager_from(None, "kubectl/v1.32.0 (linux/amd64) kubernetes/abc") == (
        "kubectl"
    )
    assert managedfields.manager_from("mine", "kubectl/v1.32.0") == "mine"
    assert managedfields.manager_from(None, "") == "unknown"
    with pytest.raises(errors.ApiError) as caught:
        managedfields.request_manager({"fieldManager": "x" * 129}, "", "CreateOptions")
    assert caught.value.code == 422


async def test_kubectl_may_take_over_what_it_applied_client_side(storage: Storage) -> None:
    """Fields in the last-applied annotation do not conflict for the manager "kubectl"."""
    body = config()
    body["metadata"]["annotations"] = {lastapplied.ANNOTATION: json.dumps(config())}
    await storage.create(DEPLOY, "default", body, manager="kubectl-client-side-apply")
    with pytest.raises(errors.ApiError) as caught:
        await apply(storage, config(replicas=3), "someone-else")
    assert caught.value.code == 409
    applied, _ = await apply(storage, config(replicas=3), "kubectl")
    assert applied["spec"]["replicas"] == 3
    recorded = json.loads(applied["metadata"]["annotations"][lastapplied.ANNOTATION])
    assert recorded["spec"]["replicas"] == 3  # the annotation follows what was applied


async def test_at_most_ten_update_managers(storage: Storage) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}}
    obj = await storage.create(CM, "default", body, manager="m0")
    for number in range(1, 13):
        changed = copy.deepcopy(obj)
        changed["data"][f"k{number}"] = "v"
        obj = await storage.update(CM, "default", "c", changed, manager=f"m{number}")
    names = [entry["manager"] for entry in obj["metadata"]["managedFields"]]
    assert len(names) == 10 and names.count("ancient-changes") == 1
    owned = set()
    for entry in obj["metadata"]["managedFields"]:
        owned |= set(entry["fieldsV1"].get("f:data", {}))
    assert owned >= {f"f:k{number}" for number in range(1, 13)}  # nothing lost, only merged


async def test_undeclared_fields_are_refused_as_upstream(storage: Storage) -> None:
    body = config()
    body["metadata"]["namespace"] = "default"
    body["spec"]["template"]["spec"]["containers"][0]["colour"] = "red"
    with pytest.raises(errors.ApiError) as caught:
        await apply(storage, body)
    assert caught.value.code == 400
    assert caught.value.message == (
        "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): "
        '.spec.template.spec.containers[name="web"].colour: field not declared in schema'
    )
