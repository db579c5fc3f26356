"""ConfigMaps and Secrets through the node's informers: the environment (``envFrom`` with its
prefix, invalid keys skipped with upstream's event text, Secrets decoded), volumes written with
their modes, rewritten atomically when the object or the pod's labels change, and kept when a
refresh fails — against an in-process API server."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from minikube_py.client.protocol import CONFIGMAPS, SECRETS, Client
from minikube_py.clock import SystemClock
from minikube_py.kubelet.environment import ConfigError, environment
from minikube_py.kubelet.projected import VolumeError
from minikube_py.kubelet.volumes import PodVolumes
from minikube_py.kubelet.watched import ConfigObjects, referenced


@pytest.fixture
async def objects(client: Client) -> AsyncIterator[ConfigObjects]:
    watched = ConfigObjects(client)
    task = asyncio.ensure_future(watched.run())
    for informer in watched.informers.values():
        await informer.wait_synced()
    yield watched
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _eventually(check: Callable[[], bool], seconds: float = 2.0) -> None:
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110 - files and caches change without an event to await
            await asyncio.sleep(0.01)


def _pod(volumes: list[dict[str, Any]], **meta: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "namespace": "default", "uid": "u-1", **meta},
        "spec": {"containers": [{"name": "c"}], "volumes": volumes},
    }


async def test_env_from_with_prefix_invalid_keys_and_secrets(
    client: Client, objects: ConfigObjects
) -> None:
    await client.create(
        CONFIGMAPS,
        "default",
        {"metadata": {"name": "cm"}, "data": {"mode": "fast"}},
    )
    secret = base64.b64encode(b"hunter2").decode()
    await client.create(SECRETS, "default", {"metadata": {"name": "s"}, "data": {"pw": secret}})
    await _eventually(lambda: len(objects.informers["secret"]) > 0)
    container = {
        "name": "c",
        "envFrom": [
            {"configMapRef": {"name": "cm"}, "prefix": "APP_"},
            {"secretRef": {"name": "s"}},
        ],
        "env": [{"name": "MODE", "value": "$(APP_mode)!"}],
    }
    warnings: list[tuple[str, str]] = []
    env = await environment(
        _pod([]),
        container,
        pod_ip="",
        host_ip="",
        allocatable={},
        source=objects,
        warnings=warnings,
    )
    assert env == {"APP_mode": "fast", "pw": "hunter2", "MODE": "fast!"}
    assert warnings == []
    # 1.32's relaxed names: only "=" or a control character is invalid, which the API server
    # refuses in ConfigMap keys already; a source that has one anyway is skipped with the event
    env = await environment(
        _pod([]),
        {"name": "c", "envFrom": [{"configMapRef": {"name": "cm"}, "prefix": "APP_"}]},
        pod_ip="",
        host_ip="",
        allocatable={},
        source=_Odd(),
        warnings=warnings,
    )
    assert env == {"APP_ok": "1"}
    assert warnings == [
        (
            "InvalidEnvironmentVariableNames",
            "Keys [APP_bad=key] from the EnvFrom configmap default/cm were skipped since they "
            "are considered invalid environment variable names.",
        )
    ]
    missing = {"name": "c", "envFrom": [{"secretRef": {"name": "nope"}}]}
    with pytest.raises(ConfigError, match=r'^secret "nope" not found$'):
        await environment(_pod([]), missing, pod_ip="", host_ip="", allocatable={}, source=objects)


async def test_volumes_follow_their_config_map_and_the_pods_labels(
    client: Client, objects: ConfigObjects, tmp_path: Path
) -> None:
    volumes = PodVolumes(client, SystemClock(), {}, reader=objects)
    objects.on_change(volumes.object_changed)
    labels = {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}
    pod = _pod(
        [
            {
                "name": "conf",
                "configMap": {"name": "app", "items": [{"key": "k", "path": "dir/k"}]},
            },
            {"name": "creds", "secret": {"secretName": "db", "defaultMode": 0o400}},
            {"name": "info", "downwardAPI": {"items": [labels]}},
        ],
        labels={"tier": "web"},
    )
    assert referenced(pod) == {("configmap", "app"), ("secret", "db")}
    with pytest.raises(
        VolumeError,
        match=re.escape('MountVolume.SetUp failed for volume "conf" : configmap "app" not found'),
    ):
        await volumes.prepare(pod, tmp_path)
    await client.create(CONFIGMAPS, "default", {"metadata": {"name": "app"}, "data": {"k": "v1"}})
    token = base64.b64encode(b"pw").decode()
    await client.create(SECRETS, "default", {"metadata": {"name": "db"}, "data": {"pw": token}})
    await _eventually(lambda: objects.informers["secret"].get("default/db") is not None)
    try:
        prepared = await volumes.prepare(pod, tmp_path)
        conf, creds, info = prepared["conf"], prepared["creds"], prepared["info"]
        assert (conf / "dir" / "k").read_text() == "v1"
        assert (creds / "pw").read_bytes() == b"pw" and (
            creds / "pw"
        ).stat().st_mode & 0o777 == 0o400
        assert (info / "labels").read_text() == 'tier="web"'
        await client.patch(CONFIGMAPS, "default", "app", {"data": {"k": "v2"}})
        await _eventually(lambda: (conf / "dir" / "k").read_text() == "v2", seconds=1.0)
        assert sorted(p.name for p in conf.iterdir() if not p.name.startswith("..")) == ["dir"]
        volumes.pod_changed(_pod(pod["spec"]["volumes"], labels={"tier": "db"}))
        await _eventually(lambda: (info / "labels").read_text() == 'tier="db"', seconds=1.0)
        await client.delete(CONFIGMAPS, "default", "app")  # upstream keeps the files it had
        await _eventually(lambda: objects.informers["configmap"].get("default/app") is None)
        await asyncio.sleep(0.05)
        assert (conf / "dir" / "k").read_text() == "v2"
    finally:
        volumes.release("u-1")
        volumes.close()


class _Odd:
    async def config_map(self, namespace: str, name: str) -> dict[str, str] | None:
        return {"ok": "1", "bad=key": "x"}

    async def secret(self, namespace: str, name: str) -> dict[str, str] | None:
        return None
