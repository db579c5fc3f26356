"""Environment variables, the downward API and $(VAR) expansion, as upstream builds them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from minikube_py.kubelet.environment import (
    ConfigError,
    NoEnvSource,
    environment,
    expand,
    expand_command,
)

Object = dict[str, Any]
ALLOCATABLE = {"cpu": "4", "memory": "8Gi"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$(A)", "a"),
        ("x$(A)y$(B)z", "xaybz"),
        ("$$(A)", "$(A)"),  # escaped
        ("$$$(A)", "$a"),
        ("$(MISSING)", "$(MISSING)"),  # undefined stays as written
        ("$(A", "$(A"),  # unterminated
        ("$A", "$A"),  # only $(…) is a reference
        ("a$", "a$"),
        ("$$", "$"),
        ("$()", "$()"),
        ("100%$(A)", "100%a"),
    ],
)
def test_expand_as_upstream(text: str, expected: str) -> None:
    assert expand(text, {"A": "a", "B": "b"}) == expected


def pod(**container: Any) -> Object:
    return {
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "uid": "1234",
            "labels": {"app": "web"},
            "annotations": {"team": "blue"},
        },
        "spec": {
            "nodeName": "minikube",
            "serviceAccountName": "builder",
            "containers": [{"name": "web", "image": "nginx", **container}],
        },
    }


async def build(obj: Object, container: Object | None = None) -> dict[str, str]:
    return await environment(
        obj,
        container or obj["spec"]["containers"][0],
        pod_ip="127.244.0.5",
        host_ip="127.49.0.2",
        allocatable=ALLOCATABLE,
        source=NoEnvSource(),
    )


async def test_values_expand_earlier_variables_only() -> None:
    env = [
        {"name": "HOST", "value": "db"},
        {"name": "URL", "value": "postgres://$(HOST):$(PORT)/x"},
        {"name": "PORT", "value": "5432"},
    ]
    assert await build(pod(env=env)) == {
        "HOST": "db",
        "URL": "postgres://db:$(PORT)/x",  # PORT comes later: left as written
        "PORT": "5432",
    }


async def test_downward_api_field_refs() -> None:
    paths = {
        "NAME": "metadata.name",
        "NS": "metadata.namespace",
        "UID": "metadata.uid",
        "APP": "metadata.labels['app']",
        "TEAM": "metadata.annotations['team']",
        "NONE": "metadata.labels['nope']",
        "NODE": "spec.nodeName",
        "SA": "spec.serviceAccountName",
        "IP": "status.podIP",
        "IPS": "status.podIPs",
        "HOST_IP": "status.hostIP",
    }
    env = [{"name": k, "valueFrom": {"fieldRef": {"fieldPath": v}}} for k, v in paths.items()]
    assert await build(pod(env=env)) == {
        "NAME": "web",
        "NS": "shop",
        "UID": "1234",
        "APP": "web",
        "TEAM": "blue",
        "NONE": "",
        "NODE": "minikube",
        "SA": "builder",
        "IP": "127.244.0.5",
        "IPS": "127.244.0.5",
        "HOST_IP": "127.49.0.2",
    }


def resource(name: str, ref: str, divisor: str | None = None) -> Object:
    field: Object = {"resource": ref}
    if divisor:
        field["divisor"] = divisor
    return {"name": name, "valueFrom": {"resourceFieldRef": field}}


async def test_resource_field_refs_round_up() -> None:
    resources = {"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"cpu": "1500m"}}
    env = [
        resource("CPU_REQUEST", "requests.cpu"),  # 250m → 1 (rounded up to whole cores)
        resource("CPU_REQUEST_M", "requests.cpu", "1m"),
        resource("CPU_LIMIT", "limits.cpu"),
        resource("MEM_REQUEST", "requests.memory"),
        resource("MEM_REQUEST_MI", "requests.memory", "1Mi"),
        resource("MEM_LIMIT_GI", "limits.memory", "1Gi"),  # unset: the node's allocatable
    ]
    assert await build(pod(env=env, resources=resources)) == {
        "CPU_REQUEST": "1",
        "CPU_REQUEST_M": "250",
        "CPU_LIMIT": "2",
        "MEM_REQUEST": str(64 * 2**20),
        "MEM_REQUEST_MI": "64",
        "MEM_LIMIT_GI": "8",
    }


async def test_config_map_and_secret_refs_are_a_config_error_until_config_lands() -> None:
    env = [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "x"}}}]
    with pytest.raises(ConfigError, match='configmap "settings" not found'):
        await build(pod(env=env))


class Source:
    def __init__(self, maps: Mapping[str, Mapping[str, str]]) -> None:
        self.maps = maps

    async def config_map(self, namespace: str, name: str) -> Mapping[str, str] | None:
        return self.maps.get(name)

    async def secret(self, namespace: str, name: str) -> Mapping[str, str] | None:
        return None


async def test_an_env_source_feeds_env_from_and_key_refs() -> None:
    container = {
        "name": "web",
        "envFrom": [{"configMapRef": {"name": "settings"}, "prefix": "S_"}],
        "env": [
            {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "m"}}},
            {
                "name": "OPT",
                "valueFrom": {"secretKeyRef": {"name": "s", "key": "k", "optional": True}},
            },
        ],
    }
    obj = pod()
    source = Source({"settings": {"m": "fast"}})
    env = await environment(
        obj, container, pod_ip="", host_ip="", allocatable=ALLOCATABLE, source=source
    )
    assert env == {"S_m": "fast", "MODE": "fast"}
    container["env"][0]["valueFrom"]["configMapKeyRef"]["key"] = "nope"
    with pytest.raises(ConfigError, match="couldn't find key nope in ConfigMap shop/settings"):
        await environment(
            obj, container, pod_ip="", host_ip="", allocatable=ALLOCATABLE, source=source
        )


async def test_command_and_args_expand_from_the_environment() -> None:
    container = {
        "name": "web",
        "command": ["sh", "-c", "echo $(GREETING) $$(GREETING) $(UNSET)"],
        "args": ["--port=$(PORT)"],
        "env": [{"name": "GREETING", "value": "hi"}, {"name": "PORT", "value": "80"}],
    }
    env = await build(pod(), container)
    assert expand_command(container, env) == (
        ["sh", "-c", "echo hi $(GREETING) $(UNSET)"],
        ["--port=80"],
    )
