"""Projected volumes: the service-account volume's files, written atomically, kept fresh."""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path
from typing import Any

import pytest

from minikube_py.apiserver.tokens import TokenIssuer
from minikube_py.client import CONFIGMAPS, PODS, SECRETS, ApiError, Client
from minikube_py.kubelet.projected import VolumeError, payload, write_atomically
from minikube_py.kubelet.tokens import TokenManager
from minikube_py.kubelet.volumes import PROJECTED
from minikube_py.runtime.protocol import Mount
from tests.clusters import TEST_CA_PEM

from .conftest import Cluster, pod

Object = dict[str, Any]
MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


def issuer(client: Client) -> TokenIssuer:
    """The in-process API server's token issuer (the one its authenticator asks)."""
    tokens: TokenIssuer = client._backend.storage.tokens  # type: ignore[attr-defined]
    return tokens


def api_access(made: Object) -> str:
    (name,) = [v["name"] for v in made["spec"]["volumes"] if "projected" in v]
    return str(name)


async def running(cluster: Cluster, name: str = "web") -> Object:
    return await cluster.pod_where(
        lambda p: (p.get("status") or {}).get("phase") == "Running", f"{name} running", name
    )


def volume_dir(cluster: Cluster, made: Object) -> Path:
    pod_dir = cluster.kubelet.ctx.directory / "pods" / made["metadata"]["uid"]
    return cluster.kubelet.ctx.volumes.projected_directory(made, pod_dir, api_access(made))


async def test_the_service_account_volume_holds_token_ca_and_namespace(cluster: Cluster) -> None:
    made = await cluster.client.create(PODS, "default", pod())
    await running(cluster)
    directory = volume_dir(cluster, made)
    assert sorted(os.listdir(directory))[-4:] == ["..data", "ca.crt", "namespace", "token"]
    user = issuer(cluster.client).review((directory / "token").read_text())
    assert user is not None and user.name == "system:serviceaccount:default:default"
    assert (directory / "ca.crt").read_text() == TEST_CA_PEM
    assert (directory / "namespace").read_text() == "default"
    assert (directory / "token").stat().st_mode & 0o777 == 0o644
    (container,) = cluster.fake.containers.values()
    assert Mount(directory, MOUNT, read_only=True) in container.config.mounts


async def test_automount_false_gives_no_volume(cluster: Cluster) -> None:
    made = await cluster.client.create(PODS, "default", pod(automountServiceAccountToken=False))
    await running(cluster)
    assert not made["spec"].get("volumes")
    pod_dir = cluster.kubelet.ctx.directory / "pods" / made["metadata"]["uid"]
    assert not cluster.kubelet.ctx.volumes.projected_directory(made, pod_dir, "any").exists()
    assert not (pod_dir / "volumes" / PROJECTED).exists()
    (container,) = cluster.fake.containers.values()
    assert container.config.mounts == []


async def test_a_missing_ca_config_map_is_failed_mount_until_it_exists(cluster: Cluster) -> None:
    await cluster.client.delete(CONFIGMAPS, "default", "kube-root-ca.crt")
    made = await cluster.client.create(PODS, "default", pod())
    (event,) = await cluster.until(lambda: cluster.events("FailedMount"), "FailedMount")
    assert event["type"] == "Warning"
    assert event["message"] == (
        f'MountVolume.SetUp failed for volume "{api_access(made)}" : '
        'configmap "kube-root-ca.crt" not found'
    )
    assert not cluster.fake.containers
    config_map = {"metadata": {"name": "kube-root-ca.crt"}, "data": {"ca.crt": "published"}}
    await cluster.client.create(CONFIGMAPS, "default", config_map)
    cluster.clock.advance(60)  # the worker's retry
    await running(cluster)
    assert (volume_dir(cluster, made) / "ca.crt").read_text() == "published"


async def test_the_token_is_renewed_at_80_percent_of_its_life(cluster: Cluster) -> None:
    made = await cluster.client.create(PODS, "default", pod())
    await running(cluster)
    token_file = volume_dir(cluster, made) / "token"
    first = token_file.read_text()
    uid = made["metadata"]["uid"]
    due = cluster.kubelet.ctx.volumes.tokens.refresh_at(uid)
    assert due == pytest.approx(cluster.clock.now() + 0.8 * 3607, abs=5)
    cluster.clock.advance(0.7 * 3607)
    await asyncio.sleep(0.05)  # room for a refresh that must not happen: nothing to wait for
    assert token_file.read_text() == first  # not due yet
    cluster.clock.advance(0.15 * 3607)
    renewed = await cluster.until(
        lambda: _changed(token_file, first), "the token file replaced by a new token"
    )
    assert issuer(cluster.client).review(renewed) is not None
    await cluster.client.delete(PODS, "default", "web", grace_period_seconds=0)
    await cluster.until_gone("the pod removed")
    await cluster.until(
        lambda: _none(cluster.kubelet.ctx.volumes.tokens.refresh_at(uid)), "tokens forgotten"
    )


async def _changed(path: Path, before: str) -> str | None:
    text = await asyncio.to_thread(path.read_text)
    return text if text != before else None


async def _none(value: object) -> bool:
    return value is None


# -- the payload and the writer alone ---------------------------------------------------------


async def test_config_map_secret_and_downward_sources(client: Client, tmp_path: Path) -> None:
    await client.create(
        CONFIGMAPS, "default", {"metadata": {"name": "app"}, "data": {"a": "1", "b": "2"}}
    )
    secret = {"metadata": {"name": "pw"}, "data": {"p": base64.b64encode(b"s3cr3t").decode()}}
    await client.create(SECRETS, "default", secret)
    volume = {
        "name": "all",
        "projected": {
            "defaultMode": 0o600,
            "sources": [
                {"configMap": {"name": "app", "items": [{"key": "b", "path": "conf/b.txt"}]}},
                {"secret": {"name": "pw"}},
                {"configMap": {"name": "absent", "optional": True}},
                {
                    "downwardAPI": {
                        "items": [
                            {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                            {
                                "path": "name",
                                "fieldRef": {"fieldPath": "metadata.name"},
                                "mode": 0o400,
                            },
                        ]
                    }
                },
            ],
        },
    }
    the_pod = {
        "metadata": {
            "name": "p",
            "namespace": "default",
            "uid": "u",
            "labels": {"z": "1", "a": 'q"'},
        }
    }
    files = await payload(
        volume, the_pod, client=client, tokens=TokenManager(client, _NoClock()), allocatable={}
    )
    assert files == {
        "conf/b.txt": (b"2", 0o600),
        "p": (b"s3cr3t", 0o600),
        "labels": (b'a="q\\""\nz="1"', 0o600),
        "name": (b"p", 0o400),
    }
    volume["projected"]["sources"] = [{"configMap": {"name": "app", "items": [{"key": "c"}]}}]
    with pytest.raises(VolumeError, match="configmap references non-existent config key: c"):
        await payload(
            volume, the_pod, client=client, tokens=TokenManager(client, _NoClock()), allocatable={}
        )


async def test_a_token_request_for_a_missing_account_is_a_volume_error(client: Client) -> None:
    volume = {"name": "t", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}}
    the_pod = {
        "metadata": {"name": "p", "namespace": "default", "uid": "u"},
        "spec": {"serviceAccountName": "ghost"},
    }
    with pytest.raises(VolumeError, match="failed to fetch token"):
        await payload(
            volume, the_pod, client=client, tokens=TokenManager(client, _NoClock()), allocatable={}
        )
    with pytest.raises(ApiError):
        await client.get(PODS, "default", "p")


class _NoClock:
    def now(self) -> float:
        return 0.0

    async def sleep(self, seconds: float) -> None:
        raise AssertionError("not used")

    async def sleep_until(self, moment: float) -> None:
        raise AssertionError("not used")


def test_writes_swap_the_data_link_atomically(tmp_path: Path) -> None:
    volume = tmp_path / "v"
    assert write_atomically(volume, {"a": (b"1", 0o644), "dir/b": (b"2", 0o600)})
    first = os.readlink(volume / "..data")
    assert first.startswith("..") and (volume / first).is_dir()
    assert os.readlink(volume / "a") == "..data/a"
    assert os.readlink(volume / "dir") == "..data/dir"
    assert (volume / "dir" / "b").read_bytes() == b"2"
    assert (volume / "dir" / "b").stat().st_mode & 0o777 == 0o600
    assert not write_atomically(volume, {"a": (b"1", 0o644), "dir/b": (b"2", 0o600)})
    assert os.readlink(volume / "..data") == first  # unchanged: nothing rewritten
    assert write_atomically(volume, {"a": (b"changed", 0o644)})
    second = os.readlink(volume / "..data")
    assert second != first and not (volume / first).exists()
    assert (volume / "a").read_bytes() == b"changed"
    assert not (volume / "dir").exists() and not (volume / "dir").is_symlink()
    assert sorted(os.listdir(volume)) == sorted(["..data", second, "a"])
