"""CustomResourceDefinitions through a real in-process server: served, validated, deleted."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from minikube_py.api.errors import ApiError
from minikube_py.client.protocol import GVR
from tests.clusters import API_CONTROLLERS, ephemeral_config

if TYPE_CHECKING:
    from minikube_py.client import InProcessClient
    from minikube_py.cluster import RunningCluster

CRDS = GVR("apiextensions.k8s.io", "v1", "customresourcedefinitions")
CRONTABS = GVR("stable.example.com", "v1", "crontabs")
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "cronSpec": {
                    "type": "string",
                    "pattern": r"^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$",
                },
                "image": {"type": "string"},
                "replicas": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
                "labels": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            },
            "required": ["image"],
        },
        "status": {
            "type": "object",
            "properties": {"replicas": {"type": "integer"}, "selector": {"type": "string"}},
        },
    },
}


def crontab_crd(**version: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "crontabs.stable.example.com"},
        "spec": {
            "group": "stable.example.com",
            "scope": "Namespaced",
            "names": {
                "plural": "crontabs",
                "singular": "crontab",
                "kind": "CronTab",
                "shortNames": ["ct"],
                "categories": ["all"],
            },
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": copy.deepcopy(SCHEMA)},
                    **version,
                }
            ],
        },
    }


def crontab(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "stable.example.com/v1",
        "kind": "CronTab",
        "metadata": {"name": name},
        "spec": {"cronSpec": "* * * * */5", "image": "my-cron-image", **spec},
    }


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[RunningCluster]:
    from minikube_py.cluster import running_cluster

    config = ephemeral_config(tmp_path, API_CONTROLLERS)
    async with running_cluster(config) as running:
        yield running


@pytest.fixture
def client(cluster: RunningCluster) -> InProcessClient:
    from minikube_py.apiserver.local import LocalBackend

    server = cluster.api_server
    return LocalBackend(server.storage, server.cache).client()


async def established(client: InProcessClient, name: str) -> dict[str, Any]:
    """The CRD once its Established condition is True (a bounded wait)."""
    for _ in range(200):
        crd = await client.get(CRDS, None, name)
        conditions = (crd.get("status") or {}).get("conditions") or []
        if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
            return crd
        await asyncio.sleep(0.01)
    raise AssertionError(f"{name} was not established: {crd.get('status')}")


async def test_a_crd_is_served_established_and_named(client: InProcessClient) -> None:
    await client.create(CRDS, None, crontab_crd())
    crd = await established(client, "crontabs.stable.example.com")
    status = crd["status"]
    assert status["acceptedNames"]["kind"] == "CronTab"
    assert status["acceptedNames"]["listKind"] == "CronTabList"
    assert status["storedVersions"] == ["v1"]
    reasons = {c["type"]: c["reason"] for c in status["conditions"]}
    assert reasons == {"NamesAccepted": "NoConflicts", "Established": "InitialNamesAccepted"}
    assert crd["spec"]["conversion"] == {"strategy": "None"}
    created = await client.create(CRONTABS, "default", crontab("a"))
    assert created["apiVersion"] == "stable.example.com/v1"
    assert created["spec"]["replicas"] == 1  # the schema's default
    assert created["metadata"]["generation"] == 1
    listed = await client.list(CRONTABS, "default")
    assert [item["metadata"]["name"] for item in listed["items"]] == ["a"]


async def test_unknown_fields_are_pruned_and_preserved_where_asked(
    client: InProcessClient,
) -> None:
    await client.create(CRDS, None, crontab_crd())
    await established(client, "crontabs.stable.example.com")
    body = crontab("p", someRandomField=42, labels={"free": {"form": True}})
    body["extra"] = "x"
    body["metadata"]["bogus"] = "y"
    created = await client.create(CRONTABS, "default", body)
    assert "someRandomField" not in created["spec"]
    assert "extra" not in created
    assert "bogus" not in created["metadata"]
    assert created["spec"]["labels"] == {"free": {"form": True}}


async def test_schema_violations_are_422_with_upstreams_words(client: InProcessClient) -> None:
    await client.create(CRDS, None, crontab_crd())
    await established(client, "crontabs.stable.example.com")
    with pytest.raises(ApiError) as caught:
        await client.create(CRONTABS, "default", crontab("bad", replicas="three"))
    assert caught.value.code == 422
    assert caught.value.message == (
        'CronTab.stable.example.com "bad" is invalid: spec.replicas: Invalid value: "string": '
        'spec.replicas in body must be of type integer: "string"'
    )
    with pytest.raises(ApiError) as caught:
        await client.create(CRONTABS, "default", crontab("bad", replicas=15, cronSpec="* * * *"))
    assert "spec.replicas: Invalid value: 15: spec.replicas in body should be less than or " \
        "equal to 10" in caught.value.message  # fmt: skip
    assert "spec.cronSpec in body should match" in caught.value.message
    missing = crontab("bad")
    del missing["spec"]["image"]
    with pytest.raises(ApiError) as caught:
        await client.create(CRONTABS, "default", missing)
    assert caught.value.message.endswith("is invalid: spec.image: Required value")
    with pytest.raises(ApiError):
        await client.get(CRONTABS, "default", "bad")  # nothing was stored


async def test_two_versions_share_objects_and_show_their_own_api_version(
    client: InProcessClient,
) -> None:
    crd = crontab_crd()
    v2 = copy.deepcopy(crd["spec"]["versions"][0]) | {"name": "v2", "storage": False}
    crd["spec"]["versions"].append(v2)
    await client.create(CRDS, None, crd)
    await established(client, "crontabs.stable.example.com")
    await client.create(GVR("stable.example.com", "v2", "crontabs"), "default", crontab("two") |
                        {"apiVersion": "stable.example.com/v2"})  # fmt: skip
    as_v1 = await client.get(CRONTABS, "default", "two")
    assert as_v1["apiVersion"] == "stable.example.com/v1"
    as_v2 = await client.get(GVR("stable.example.com", "v2", "crontabs"), "default", "two")
    assert as_v2["apiVersion"] == "stable.example.com/v2"
    # v2 stops being served: its endpoint goes, v1 keeps the object
    current = await client.get(CRDS, None, "crontabs.stable.example.com")
    current["spec"]["versions"][1]["served"] = False
    await client.update(CRDS, None, current)
    for _ in range(200):
        try:
            await client.get(GVR("stable.example.com", "v2", "crontabs"), "default", "two")
        except ApiError as error:
            assert error.message == "the server could not find the requested resource"
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("v2 is still served")
    assert (await client.get(CRONTABS, "default", "two"))["metadata"]["name"] == "two"


async def test_status_subresource_and_scale(client: InProcessClient) -> None:
    scale = {
        "specReplicasPath": ".spec.replicas",
        "statusReplicasPath": ".status.replicas",
        "labelSelectorPath": ".status.selector",
    }
    await client.create(CRDS, None, crontab_crd(subresources={"status": {}, "scale": scale}))
    await established(client, "crontabs.stable.example.com")
    created = await client.create(CRONTABS, "default", crontab("s") | {"status": {"replicas": 9}})
    assert "status" not in created  # status is written through /status only
    created["spec"]["image"] = "other"
    created["status"] = {"replicas": 5}
    updated = await client.update(CRONTABS, "default", created)
    assert "status" not in updated and updated["metadata"]["generation"] == 2
    updated["status"] = {"replicas": 2, "selector": "app=cron"}
    updated["spec"]["image"] = "ignored"
    with_status = await client.update_status(CRONTABS, "default", updated)
    assert with_status["status"] == {"replicas": 2, "selector": "app=cron"}
    assert with_status["spec"]["image"] == "other"
    assert with_status["metadata"]["generation"] == 2
    scaled = await client.patch(CRONTABS, "default", "s", {"spec": {"replicas": 4}},
                                subresource="scale")  # fmt: skip
    assert scaled["kind"] == "Scale"
    assert scaled["spec"] == {"replicas": 4}
    assert scaled["status"] == {"replicas": 2, "selector": "app=cron"}
    assert (await client.get(CRONTABS, "default", "s"))["spec"]["replicas"] == 4


async def test_a_name_clash_is_not_accepted(client: InProcessClient) -> None:
    await client.create(CRDS, None, crontab_crd())
    await established(client, "crontabs.stable.example.com")
    crd = crontab_crd()
    crd["metadata"]["name"] = "crontabz.stable.example.com"
    crd["spec"]["names"] = {"plural": "crontabz", "kind": "CronTab"}
    await client.create(CRDS, None, crd)
    for _ in range(200):
        status = (await client.get(CRDS, None, "crontabz.stable.example.com")).get("status")
        if (status or {}).get("conditions"):
            break
        await asyncio.sleep(0.01)
    assert status is not None
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["NamesAccepted"]["status"] == "False"
    assert conditions["NamesAccepted"]["reason"] == "KindConflict"
    assert conditions["NamesAccepted"]["message"] == '"CronTab" is already in use'
    assert conditions["Established"] == conditions["Established"] | {
        "status": "False",
        "reason": "NotAccepted",
    }
    with pytest.raises(ApiError) as caught:
        await client.list(GVR("stable.example.com", "v1", "crontabz"), "default")
    assert caught.value.code == 404  # nothing is served for it
    # the CRD holding the kind goes: the other one's names are accepted after all
    await client.delete(CRDS, None, "crontabs.stable.example.com")
    accepted = await established(client, "crontabz.stable.example.com")
    assert accepted["status"]["acceptedNames"]["plural"] == "crontabz"
    assert (await client.list(GVR("stable.example.com", "v1", "crontabz"), "default"))[
        "items"
    ] == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda crd: crd["metadata"].update(name="crontab.stable.example.com"),
            'metadata.name: Invalid value: "crontab.stable.example.com": must be '
            'spec.names.plural+"."+spec.group',
        ),
        (
            lambda crd: crd["spec"].update(scope="Global"),
            'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"',
        ),
        (
            lambda crd: crd["spec"]["versions"][0].update(storage=False),
            "must have exactly one version marked as storage version",
        ),
        (
            lambda crd: crd["spec"]["versions"][0].pop("schema"),
            "spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required",
        ),
        (
            lambda crd: crd["spec"]["versions"][0].update(
                subresources={
                    "scale": {
                        "specReplicasPath": ".replicas",
                        "statusReplicasPath": ".status.replicas",
                    }
                }
            ),
            'spec.versions[0].subresources.scale.specReplicasPath: Invalid value: ".replicas": '
            "should be a json path under .spec",
        ),
        (
            lambda crd: crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"][
                "spec"
            ].pop("type"),
            "spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: "
            "must not be empty for specified object fields",
        ),
        (
            lambda crd: crd["spec"].update(versions=[]),
            "spec.versions: Required value: must have at least one version",
        ),
    ],
)
async def test_bad_crds_are_refused(client: InProcessClient, change: Any, message: str) -> None:
    crd = crontab_crd()
    change(crd)
    with pytest.raises(ApiError) as caught:
        await client.create(CRDS, None, crd)
    assert caught.value.code == 422
    assert message in caught.value.message


async def test_deleting_a_crd_deletes_its_objects_first(client: InProcessClient) -> None:
    await client.create(CRDS, None, crontab_crd())
    await established(client, "crontabs.stable.example.com")
    await client.create(CRONTABS, "default", crontab("gone"))
    marked = await client.delete(CRDS, None, "crontabs.stable.example.com")
    assert "customresourcecleanup.apiextensions.k8s.io" in marked["metadata"]["finalizers"]
    for _ in range(300):
        try:
            await client.get(CRDS, None, "crontabs.stable.example.com")
        except ApiError as error:
            assert error.code == 404
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the CRD was not deleted")
    # the server stops serving the resource once it sees the deletion (as upstream's CRD
    # handler does, from its watch): a moment after the CRD itself is gone
    for _ in range(300):
        try:
            await client.list(CRONTABS, "default")
        except ApiError as error:
            assert error.code == 404
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the resource is still served after its CRD was deleted")
    # created again, the resource is empty: the objects were deleted, not hidden
    await client.create(CRDS, None, crontab_crd())
    await established(client, "crontabs.stable.example.com")
    assert (await client.list(CRONTABS, "default"))["items"] == []


async def test_a_terminating_crd_takes_no_new_objects(client: InProcessClient) -> None:
    await client.create(CRDS, None, crontab_crd())
    await established(client, "crontabs.stable.example.com")
    held = crontab("held")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    await client.create(CRONTABS, "default", held)
    await client.delete(CRDS, None, "crontabs.stable.example.com")
    for _ in range(200):
        crd = await client.get(CRDS, None, "crontabs.stable.example.com")
        conditions = {c["type"]: c for c in crd["status"]["conditions"]}
        held_now = await client.get(CRONTABS, "default", "held")
        if "Terminating" in conditions and held_now["metadata"].get("deletionTimestamp"):
            break
        await asyncio.sleep(0.01)
    assert conditions["Terminating"]["reason"] == "InstanceDeletionInProgress"
    assert conditions["Terminating"]["message"] == "CustomResource deletion is in progress"
    with pytest.raises(ApiError) as caught:
        await client.create(CRONTABS, "default", crontab("new"))
    assert caught.value.code == 405
    assert caught.value.message == (
        "create not allowed while custom resource definition is terminating"
    )
    # the object's own finalizer goes: the object, then the CRD, go too
    await client.patch(CRONTABS, "default", "held", {"metadata": {"finalizers": None}})
    for _ in range(500):
        try:
            await client.get(CRDS, None, "crontabs.stable.example.com")
        except ApiError as error:
            assert error.code == 404
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the CRD was not deleted after its last object went")


async def test_custom_resources_are_served_again_after_a_restart(tmp_path: Path) -> None:
    from minikube_py.apiserver.local import LocalBackend
    from minikube_py.cluster import ClusterConfig, running_cluster

    config = ClusterConfig(
        state_dir=tmp_path,
        port=0,
        address="127.0.0.1",
        store_url=f"sqlite:///{tmp_path}/state.db",
        kubeconfig=tmp_path / "kubeconfig",
    )
    async with running_cluster(config) as first:
        server = first.api_server
        client = LocalBackend(server.storage, server.cache).client()
        await client.create(CRDS, None, crontab_crd())
        await established(client, "crontabs.stable.example.com")
        await client.create(CRONTABS, "default", crontab("kept"))
    async with running_cluster(config) as second:
        server = second.api_server
        client = LocalBackend(server.storage, server.cache).client()
        # no waiting: the server syncs stored CRDs before it serves
        kept = await client.get(CRONTABS, "default", "kept")
        assert kept["spec"]["image"] == "my-cron-image"
