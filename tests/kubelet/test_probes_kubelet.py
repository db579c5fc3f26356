"""The probers plugged into the kubelet (``prober_factory``): readiness sets the pod's Ready
condition, a failing liveness probe restarts the container with upstream's events."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from minikube_py.client import PODS
from tests.kubelet.conftest import Cluster, condition, container_status, pod


def probed_pod(kind: str, **timing: int) -> dict[str, Any]:
    probe = {"exec": {"command": ["check", kind]}, **timing}
    return pod(containers=[{"name": "web", "image": "nginx", f"{kind}Probe": probe}])


def answers(failing: set[str]) -> Callable[[str, Sequence[str]], int]:
    def handler(_container: str, command: Sequence[str]) -> int:
        return 1 if command[-1] in failing else 0

    return handler


async def test_readiness_probe_sets_the_ready_condition(cluster: Cluster) -> None:
    failing = {"readiness"}
    cluster.fake.exec_handler = answers(failing)
    await cluster.client.create(PODS, "default", probed_pod("readiness"))
    await cluster.pod_where(
        lambda p: "running" in container_status(p).get("state", {}), "the container running"
    )

    async def probed() -> bool:
        return bool(cluster.fake.exec_calls)

    await cluster.until(probed, "a first, failing readiness attempt")
    not_ready = await cluster.pod_where(
        lambda p: condition(p, "Ready").get("status") == "False", "not ready"
    )
    assert container_status(not_ready)["ready"] is False
    failing.clear()
    ready = await advancing(cluster, lambda p: condition(p, "Ready").get("status") == "True")
    assert condition(ready, "ContainersReady")["status"] == "True"
    assert container_status(ready)["ready"] is True


async def test_failing_liveness_probe_restarts_the_container(cluster: Cluster) -> None:
    cluster.fake.exec_handler = answers({"liveness"})
    await cluster.client.create(PODS, "default", probed_pod("liveness", failureThreshold=2))
    await cluster.pod_where(
        lambda p: "running" in container_status(p).get("state", {}), "the container running"
    )
    restarted = await advancing(cluster, lambda p: container_status(p).get("restartCount", 0) > 0)
    assert container_status(restarted)["lastState"]["terminated"]["exitCode"] == 143
    killing = await cluster.events("Killing")
    assert killing[0]["message"] == "Container web failed liveness probe, will be restarted"
    unhealthy = await cluster.events("Unhealthy")
    assert unhealthy[0]["message"] == "Liveness probe failed: "
    assert unhealthy[0]["type"] == "Warning"


async def advancing(cluster: Cluster, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """Move the clock a probe period at a time until the pod passes ``check``: the probers'
    next attempts come due whenever they happen to be waiting."""

    async def step() -> dict[str, Any] | None:
        cluster.clock.advance(10)
        current = await cluster.pod()
        return current if check(current) else None

    result: dict[str, Any] = await cluster.until(step, "the probes' verdict")
    return result
