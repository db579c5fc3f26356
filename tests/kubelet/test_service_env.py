"""The ``kubernetes`` Service's discovery variables every container gets."""

from __future__ import annotations

from minikube_py.kubelet.environment import NoEnvSource, environment, kubernetes_service_env

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
