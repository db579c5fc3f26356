"""Service discovery by environment variables: every Service of the pod's namespace, and the
``kubernetes`` Service's, which every container gets."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from minikube_py.client import PODS, SERVICES, Client
from minikube_py.kubelet import FakeClock, Kubelet
from minikube_py.kubelet.environment import NoEnvSource, environment, kubernetes_service_env
from minikube_py.kubelet.service_env import pod_service_env, service_env, service_variables
from minikube_py.runtime.fake import FakeRuntime
from tests.kubelet.conftest import NODE, pod

Object = dict[str, Any]

POD = {"metadata": {"name": "p", "namespace": "default"}, "spec": {"containers": []}}


def test_the_variables_point_at_the_api_server() -> None:
    assert kubernetes_service_env("127.0.0.1", 8443) == {
        "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        "KUBERNETES_SERVICE_PORT": "8443",
        "KUBERNETES_SERVICE_PORT_HTTPS": "8443",
        "KUBERNETES_PORT": "tcp://127.0.0.1:8443",
        "KUBERNETES_PORT_443_TCP": "tcp://127.0.0.1:8443",
        "KUBERNETES_PORT_443_TCP_PROTO": "tcp",
        "KUBERNETES_PORT_443_TCP_PORT": "8443",
        "KUBERNETES_PORT_443_TCP_ADDR": "127.0.0.1",
    }


async def test_the_containers_own_values_win_and_may_refer_to_them() -> None:
    container = {
        "name": "c",
        "env": [
            {"name": "KUBERNETES_SERVICE_PORT", "value": "1"},
            {"name": "URL", "value": "https://$(KUBERNETES_SERVICE_HOST):443"},
        ],
    }
    env = await environment(
        POD,
        container,
        pod_ip="127.244.0.2",
        host_ip="127.49.0.2",
        allocatable={},
        source=NoEnvSource(),
        services=kubernetes_service_env("127.0.0.1", 8443),
    )
    assert env["KUBERNETES_SERVICE_PORT"] == "1"
    assert env["URL"] == "https://127.0.0.1:443"
    assert env["KUBERNETES_SERVICE_HOST"] == "127.0.0.1"
    assert env["KUBERNETES_PORT_443_TCP_PORT"] == "8443"


async def test_no_endpoint_no_variables() -> None:
    env = await environment(
        POD,
        {"name": "c"},
        pod_ip="",
        host_ip="",
        allocatable={},
        source=NoEnvSource(),
    )
    assert env == {}


# -- every Service of the namespace (service_env.py) ------------------------------------------


def svc(name: str, namespace: str, cluster_ip: str, *ports: dict[str, Any]) -> Object:
    return {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"clusterIP": cluster_ip, "ports": list(ports)},
    }


KUBERNETES = svc("kubernetes", "default", "127.96.0.1", {"name": "https", "port": 443})
REDIS = svc(
    "redis-primary",
    "shop",
    "127.96.0.11",
    {"name": "redis", "port": 6379},
    {"name": "metrics", "port": 9121, "protocol": "UDP"},
)


def test_a_service_gives_upstreams_variables() -> None:
    assert service_variables(REDIS) == {
        "REDIS_PRIMARY_SERVICE_HOST": "127.96.0.11",
        "REDIS_PRIMARY_SERVICE_PORT": "6379",
        "REDIS_PRIMARY_SERVICE_PORT_REDIS": "6379",
        "REDIS_PRIMARY_SERVICE_PORT_METRICS": "9121",
        "REDIS_PRIMARY_PORT": "tcp://127.96.0.11:6379",
        "REDIS_PRIMARY_PORT_6379_TCP": "tcp://127.96.0.11:6379",
        "REDIS_PRIMARY_PORT_6379_TCP_PROTO": "tcp",
        "REDIS_PRIMARY_PORT_6379_TCP_PORT": "6379",
        "REDIS_PRIMARY_PORT_6379_TCP_ADDR": "127.96.0.11",
        "REDIS_PRIMARY_PORT_9121_UDP": "udp://127.96.0.11:9121",
        "REDIS_PRIMARY_PORT_9121_UDP_PROTO": "udp",
        "REDIS_PRIMARY_PORT_9121_UDP_PORT": "9121",
        "REDIS_PRIMARY_PORT_9121_UDP_ADDR": "127.96.0.11",
    }


def test_only_the_pods_namespace_and_the_kubernetes_service_count() -> None:
    headless = svc("db", "shop", "None", {"port": 5432})
    external = {"metadata": {"name": "ext", "namespace": "shop"}, "spec": {"type": "ExternalName"}}
    elsewhere = svc("web", "other", "127.96.0.12", {"port": 80})
    other_kubernetes = svc("kubernetes", "other", "127.96.0.13", {"port": 1})
    services = [KUBERNETES, REDIS, headless, external, elsewhere, other_kubernetes]
    env = service_env(services, "shop")
    assert env["KUBERNETES_SERVICE_HOST"] == "127.96.0.1"
    assert env["KUBERNETES_SERVICE_PORT_HTTPS"] == "443"
    assert env["REDIS_PRIMARY_SERVICE_HOST"] == "127.96.0.11"
    assert not any(name.startswith(("DB_", "EXT_", "WEB_")) for name in env)


def test_enable_service_links_false_keeps_only_the_kubernetes_service() -> None:
    pod = {"metadata": {"namespace": "shop"}, "spec": {"enableServiceLinks": False}}
    env = pod_service_env(pod, [KUBERNETES, REDIS])
    assert env == service_variables(KUBERNETES)


def test_the_api_endpoint_overrides_the_kubernetes_service() -> None:
    overrides = {"kubernetes": kubernetes_service_env("127.49.0.2", 8443)}
    env = service_env([KUBERNETES, REDIS], "shop", overrides=overrides)
    assert env["KUBERNETES_SERVICE_HOST"] == "127.49.0.2"
    assert env["KUBERNETES_PORT_443_TCP_PORT"] == "8443"
    assert env["REDIS_PRIMARY_SERVICE_PORT"] == "6379"
    # given even before the Service exists, as pods have always had them
    assert service_env([], "shop", overrides=overrides) == overrides["kubernetes"]


async def test_a_container_gets_the_services_that_exist_when_it_starts(
    client: Client, fake: FakeRuntime, clock: FakeClock, tmp_path: Path
) -> None:
    """The kubelet's Service informer feeds the variables; a later Service is not seen."""
    created = await client.create(
        SERVICES,
        "default",
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "backend"},
            "spec": {"selector": {"app": "b"}, "ports": [{"name": "http", "port": 80}]},
        },
    )
    ip = created["spec"]["clusterIP"]
    kubelet = Kubelet(client, NODE, fake, directory=tmp_path / "node", clock=clock)
    task = asyncio.ensure_future(kubelet.run())
    try:
        spec = {
            "containers": [
                {
                    "name": "web",
                    "image": "nginx",
                    "env": [
                        {
                            "name": "URL",
                            "value": "http://$(BACKEND_SERVICE_HOST):$(BACKEND_SERVICE_PORT)",
                        }
                    ],
                }
            ]
        }
        await client.create(PODS, "default", pod(**spec))

        async def started() -> Any:
            for container in fake.containers.values():
                return container.config
            return None

        config = await _poll(started)
        assert config.env["BACKEND_SERVICE_HOST"] == ip
        assert config.env["BACKEND_PORT_80_TCP"] == f"tcp://{ip}:80"
        assert config.env["URL"] == f"http://{ip}:80"
        assert config.resolv_conf is None  # no cluster networking given: the image's own
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _poll(check: Any) -> Any:
    for _ in range(1000):  # bounded: 10 s
        if result := await check():
            return result
        await asyncio.sleep(0.01)
    raise TimeoutError("the container did not start")
