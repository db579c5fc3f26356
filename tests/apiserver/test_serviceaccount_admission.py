"""The ServiceAccount admission: every new pod runs as an existing account, with its token."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from minikube_py.apiserver import serviceaccounts
from minikube_py.client import ApiError, Client
from minikube_py.client.protocol import NAMESPACES, PODS, SERVICE_ACCOUNTS
from tests.clusters import in_process_client

Object = dict[str, Any]
MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    async with in_process_client() as made:  # the bootstrap namespaces have `default`
        yield made


def pod(name: str = "web", **spec: Any) -> Object:
    return {
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "web", "image": "nginx"}], **spec},
    }


def access_volumes(created: Object) -> list[Object]:
    return [
        v for v in created["spec"].get("volumes") or [] if v["name"].startswith("kube-api-access-")
    ]


async def test_a_pod_runs_as_default_with_the_api_access_volume(client: Client) -> None:
    init = [{"name": "setup", "image": "busybox"}]
    created = await client.create(PODS, "default", pod(initContainers=init))
    spec = created["spec"]
    assert spec["serviceAccountName"] == "default"
    assert spec["serviceAccount"] == "default"
    (volume,) = access_volumes(created)
    assert re.fullmatch(r"kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}", volume["name"])
    assert volume["projected"] == {
        "defaultMode": 420,
        "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {
                "configMap": {
                    "name": "kube-root-ca.crt",
                    "items": [{"key": "ca.crt", "path": "ca.crt"}],
                }
            },
            {
                "downwardAPI": {
                    "items": [
                        {
                            "path": "namespace",
                            "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                        }
                    ]
                }
            },
        ],
    }
    wanted = {"name": volume["name"], "readOnly": True, "mountPath": MOUNT}
    for container in [*spec["initContainers"], *spec["containers"]]:
        assert container["volumeMounts"] == [wanted]


@pytest.mark.parametrize(
    ("on_pod", "on_account", "mounted"),
    [(False, None, False), (None, False, False), (True, False, True), (None, True, True)],
)
async def test_automount_the_pod_wins_then_the_account(
    client: Client, on_pod: bool | None, on_account: bool | None, mounted: bool
) -> None:
    account: Object = {"metadata": {"name": "robot"}}
    if on_account is not None:
        account["automountServiceAccountToken"] = on_account
    await client.create(SERVICE_ACCOUNTS, "default", account)
    spec: Object = {"serviceAccountName": "robot"}
    if on_pod is not None:
        spec["automountServiceAccountToken"] = on_pod
    created = await client.create(PODS, "default", pod(**spec))
    assert created["spec"]["serviceAccountName"] == "robot"
    assert bool(access_volumes(created)) is mounted
    mounts = created["spec"]["containers"][0].get("volumeMounts") or []
    assert any(m["mountPath"] == MOUNT for m in mounts) is mounted


async def test_a_missing_account_refuses_the_pod_as_upstream(client: Client) -> None:
    with pytest.raises(ApiError) as refused:
        await client.create(PODS, "default", pod(serviceAccountName="robot"))
    assert refused.value.code == 403
    assert refused.value.reason == "Forbidden"
    assert refused.value.message == (
        'pods "web" is forbidden: error looking up service account default/robot: '
        'serviceaccount "robot" not found'
    )
    with pytest.raises(ApiError):
        await client.get(PODS, "default", "web")


async def test_a_missing_namespace_is_a_404_first(client: Client) -> None:
    with pytest.raises(ApiError) as refused:
        await client.create(PODS, "nowhere", pod())
    assert refused.value.code == 404
    assert refused.value.message == 'namespaces "nowhere" not found'


async def test_the_default_account_is_waited_for_a_little(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serviceaccounts, "RETRY_INTERVAL", 0.01)
    await client.create(NAMESPACES, None, {"metadata": {"name": "fresh"}})
    with pytest.raises(ApiError) as refused:  # no controller: it never comes
        await client.create(PODS, "fresh", pod())
    assert "error looking up service account fresh/default" in refused.value.message

    async def controller() -> None:  # made while the admission looks again
        await asyncio.sleep(0.02)
        await client.create(SERVICE_ACCOUNTS, "fresh", {"metadata": {"name": "default"}})

    maker = asyncio.ensure_future(controller())
    created = await client.create(PODS, "fresh", pod())
    await maker
    assert created["spec"]["serviceAccountName"] == "default"


async def test_a_mount_of_its_own_at_the_path_is_kept(client: Client) -> None:
    own = {"name": "mine", "mountPath": MOUNT}
    containers = [
        {"name": "a", "image": "nginx", "volumeMounts": [own]},
        {"name": "b", "image": "nginx"},
    ]
    created = await client.create(
        PODS, "default", pod(containers=containers, volumes=[{"name": "mine", "emptyDir": {}}])
    )
    first, second = created["spec"]["containers"]
    assert first["volumeMounts"] == [own]
    assert second["volumeMounts"][0]["name"].startswith("kube-api-access-")
    assert len(access_volumes(created)) == 1


async def test_an_api_access_volume_the_pod_has_is_reused(client: Client) -> None:
    """A pod spec copied from a running pod already has one: no second volume is added."""
    first = await client.create(PODS, "default", pod("first"))
    copied = pod("second", volumes=access_volumes(first))
    created = await client.create(PODS, "default", copied)
    assert access_volumes(created) == access_volumes(first)
    mount = created["spec"]["containers"][0]["volumeMounts"]
    assert mount == [
        {"name": access_volumes(first)[0]["name"], "readOnly": True, "mountPath": MOUNT}
    ]


async def test_the_accounts_image_pull_secrets_are_copied(client: Client) -> None:
    account = {"metadata": {"name": "puller"}, "imagePullSecrets": [{"name": "registry"}]}
    await client.create(SERVICE_ACCOUNTS, "default", account)
    created = await client.create(PODS, "default", pod(serviceAccountName="puller"))
    assert created["spec"]["imagePullSecrets"] == [{"name": "registry"}]
    own = pod("own", serviceAccountName="puller", imagePullSecrets=[{"name": "mine"}])
    created = await client.create(PODS, "default", own)
    assert created["spec"]["imagePullSecrets"] == [{"name": "mine"}]


async def test_updates_are_not_changed(client: Client) -> None:
    created = await client.create(PODS, "default", pod(automountServiceAccountToken=False))
    created["metadata"]["labels"] = {"a": "b"}
    updated = await client.update(PODS, "default", created)
    assert not access_volumes(updated)
    assert updated["spec"]["serviceAccountName"] == "default"
