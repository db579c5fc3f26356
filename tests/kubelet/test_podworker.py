"""Pod worker details: probes through the seam, hooks, host network, config errors, OOM."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, ClassVar

from minikube_py.api.printers_core import pod_summary
from minikube_py.client import PODS

from .conftest import NODE, Cluster, condition, container_status, pod

Object = dict[str, Any]


class FakeProber:
    """Stands in for ``kubelet.probes``: the test decides each verdict by hand."""

    made: ClassVar[list[FakeProber]] = []

    def __init__(self, *args: Any, on_result: Callable[[str, bool, str], None], **kw: Any):
        self.container_id: str = args[3]
        self.on_result = on_result
        self.on_event = kw.get("on_event")
        FakeProber.made.append(self)

    async def run(self) -> None:
        await asyncio.Event().wait()


def probed(**probes: Object) -> list[Object]:
    return [{"name": "web", "image": "nginx:1.27", **probes}]


HTTP = {"httpGet": {"path": "/", "port": 80}}


async def status_of(cluster: Cluster, check: Callable[[Object], bool], what: str) -> Object:
    return await cluster.pod_where(check, what)


async def test_readiness_and_liveness_through_the_prober_seam(cluster: Cluster) -> None:
    FakeProber.made = []
    cluster.kubelet.prober_factory = FakeProber
    containers = probed(readinessProbe=HTTP, livenessProbe=HTTP)
    await cluster.client.create(PODS, "default", pod(containers=containers))
    unready = await status_of(
        cluster, lambda p: container_status(p).get("started") is True, "the container to start"
    )
    assert container_status(unready)["ready"] is False  # not ready until the probe says so
    assert condition(unready, "Ready")["message"] == "containers with unready status: [web]"
    assert pod_summary(unready)[:3] == (0, 1, "Running")

    prober = FakeProber.made[-1]
    prober.on_result("readiness", True, "")
    await status_of(cluster, lambda p: condition(p, "Ready").get("status") == "True", "Ready")

    assert prober.on_event is not None
    await prober.on_event(
        "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500"
    )
    prober.on_result(
        "liveness", False, "Liveness probe failed: HTTP probe failed with statuscode: 500"
    )
    restarted = await status_of(
        cluster, lambda p: container_status(p).get("restartCount") == 1, "the restart"
    )
    assert "running" in container_status(restarted)["state"]
    assert container_status(restarted)["ready"] is False  # a new instance starts unready
    assert FakeProber.made[-1].container_id != prober.container_id
    killing = await cluster.events("Killing")
    assert [e["message"] for e in killing] == [
        "Container web failed liveness probe, will be restarted"
    ]
    unhealthy = await cluster.events("Unhealthy")
    assert unhealthy[0]["type"] == "Warning"
    # a verdict about the old instance is ignored
    prober.on_result("liveness", False, "late")
    await asyncio.sleep(0)
    assert len(cluster.fake.running("web")) == 1


async def test_without_probes_module_probes_are_ignored(cluster: Cluster) -> None:
    cluster.kubelet.prober_factory = None
    await cluster.client.create(PODS, "default", pod(containers=probed(readinessProbe=HTTP)))
    await status_of(cluster, lambda p: condition(p, "Ready").get("status") == "True", "Ready")


async def test_failing_post_start_hook_kills_the_container(cluster: Cluster) -> None:
    cluster.fake.exec_handler = lambda _id, command: 1 if "fail" in command else 0
    hook = {"postStart": {"exec": {"command": ["sh", "-c", "fail"]}}}
    containers = [{"name": "web", "image": "nginx:1.27", "lifecycle": hook}]
    await cluster.client.create(PODS, "default", pod(containers=containers, restartPolicy="Never"))
    failed = await status_of(cluster, lambda p: p["status"].get("phase") == "Failed", "Failed")
    assert container_status(failed)["state"]["terminated"]["exitCode"] == 143
    events = await cluster.events("FailedPostStartHook")
    assert events[0]["message"].startswith(
        'Exec lifecycle hook ([sh -c fail]) for Container "web" in Pod "web_default('
    )
    killing = await cluster.events("Killing")
    assert killing[0]["message"] == "FailedPostStartHook"


async def test_pre_stop_hook_runs_before_the_stop(cluster: Cluster) -> None:
    hook = {"preStop": {"exec": {"command": ["nginx", "-s", "quit"]}}}
    containers = [{"name": "web", "image": "nginx:1.27", "lifecycle": hook}]
    await cluster.client.create(PODS, "default", pod(containers=containers))
    running = await status_of(cluster, lambda p: p["status"].get("phase") == "Running", "Running")
    instance = container_status(running)["containerID"].split("//")[1]
    await cluster.client.delete(PODS, "default", "web", grace_period_seconds=5)

    await cluster.until_gone("the pod to go")
    assert cluster.fake.exec_calls == [(instance, ("nginx", "-s", "quit"))]
    assert cluster.fake.stop_calls == [(instance, 5.0)]


async def test_host_network_pods_use_the_node_address(cluster: Cluster) -> None:
    await cluster.client.create(PODS, "default", pod(hostNetwork=True))
    running = await status_of(cluster, lambda p: p["status"].get("phase") == "Running", "Running")
    assert running["status"]["podIP"] == NODE.address
    assert len(cluster.kubelet.addresses) == 0


async def test_missing_config_map_is_create_container_config_error(cluster: Cluster) -> None:
    env = [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "x"}}}]
    containers = [{"name": "web", "image": "nginx:1.27", "env": env}]
    await cluster.client.create(PODS, "default", pod(containers=containers))
    waiting = await status_of(
        cluster,
        lambda p: (
            (container_status(p).get("state") or {}).get("waiting", {}).get("reason")
            == "CreateContainerConfigError"
        ),
        "CreateContainerConfigError",
    )
    assert (
        container_status(waiting)["state"]["waiting"]["message"] == 'configmap "settings" not found'
    )
    assert pod_summary(waiting)[2] == "CreateContainerConfigError"
    failed = await cluster.events("Failed")
    assert failed[0]["message"] == 'Error: configmap "settings" not found'


async def test_oom_killed_container_and_expanded_config(cluster: Cluster) -> None:
    containers = [
        {
            "name": "web",
            "image": "nginx:1.27",
            "command": ["echo", "$(NAME)"],
            "env": [{"name": "NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
            "resources": {"limits": {"memory": "64Mi"}},
        }
    ]
    await cluster.client.create(PODS, "default", pod(containers=containers, restartPolicy="Never"))
    await status_of(cluster, lambda p: p["status"].get("phase") == "Running", "Running")
    [instance] = cluster.fake.running("web")
    config = cluster.fake.containers[instance].config
    assert list(config.command) == ["echo", "web"]
    assert config.memory_limit == 64 * 2**20
    assert config.env["NAME"] == "web"
    assert (config.stdin, config.stdin_once, config.tty) == (False, False, False)
    cluster.fake.oom(instance)
    failed = await status_of(cluster, lambda p: p["status"].get("phase") == "Failed", "Failed")
    terminated = container_status(failed)["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (137, "OOMKilled")
    assert pod_summary(failed)[2] == "OOMKilled"
    assert failed["status"]["qosClass"] == "Burstable"


async def test_kubelet_answers_pod_and_previous_container(cluster: Cluster) -> None:
    await cluster.client.create(PODS, "default", pod())
    await status_of(cluster, lambda p: p["status"].get("phase") == "Running", "Running")
    first = cluster.kubelet.container_id("default", "web", "web")
    assert first is not None
    cluster.fake.exit(first, 1)
    await status_of(cluster, lambda p: container_status(p).get("restartCount") == 1, "restart")
    assert cluster.kubelet.container_id("default", "web", "web", previous=True) == first
    seen = cluster.kubelet.pod("default", "web")
    assert seen is not None and container_status(seen)["restartCount"] == 1
    assert cluster.kubelet.pod("default", "nope") is None
    assert cluster.kubelet.container_id("default", "web", "nope") is None


async def test_deleting_a_finished_pod_removes_it(cluster: Cluster) -> None:
    await cluster.client.create(PODS, "default", pod(restartPolicy="Never"))
    await status_of(cluster, lambda p: p["status"].get("phase") == "Running", "Running")
    cluster.fake.exit(cluster.fake.running("web")[0], 0)
    await status_of(cluster, lambda p: p["status"].get("phase") == "Succeeded", "Succeeded")
    await cluster.client.delete(PODS, "default", "web")

    await cluster.until_gone("the pod to go")
    assert cluster.fake.stop_calls == []  # nothing was running any more


async def test_real_probes_module_drives_readiness(cluster: Cluster) -> None:
    from minikube_py.kubelet.probes import prober_factory

    assert cluster.kubelet.prober_factory is prober_factory
    verdicts = {"ok": False}
    cluster.fake.exec_handler = lambda _id, _command: 0 if verdicts["ok"] else 1
    probe = {"exec": {"command": ["cat", "/tmp/healthy"]}, "periodSeconds": 5}
    await cluster.client.create(PODS, "default", pod(containers=probed(readinessProbe=probe)))
    await status_of(cluster, lambda p: container_status(p).get("started") is True, "started")
    verdicts["ok"] = True

    async def ready_after_a_period() -> bool:
        cluster.clock.advance(5)  # the next probe is due every periodSeconds
        return condition(await cluster.pod(), "Ready").get("status") == "True"

    await cluster.until(ready_after_a_period, "the probe to pass and the pod to be Ready")


async def test_sidecar_starts_before_the_next_init_and_runs_beside_the_app(
    cluster: Cluster,
) -> None:
    init = [
        {"name": "proxy", "image": "nginx:1.27", "restartPolicy": "Always"},
        {"name": "setup", "image": "busybox:1.36"},
    ]
    containers = [{"name": "web", "image": "nginx:1.27"}]
    spec = {"initContainers": init, "containers": containers, "restartPolicy": "Never"}
    await cluster.client.create(PODS, "default", pod(**spec))
    await cluster.until(lambda: _running(cluster, "setup"), "the second init container to run")
    assert cluster.fake.running("proxy")  # the sidecar keeps running
    cluster.fake.exit(cluster.fake.running("setup")[0], 0)
    running = await status_of(
        cluster, lambda p: condition(p, "Ready").get("status") == "True", "Ready"
    )
    assert pod_summary(running)[:3] == (2, 2, "Running")  # the sidecar counts as a container
    # a sidecar that exits is restarted even with restartPolicy Never
    cluster.fake.exit(cluster.fake.running("proxy")[0], 1)
    await status_of(
        cluster,
        lambda p: container_status(p, "proxy", "initContainerStatuses").get("restartCount") == 1,
        "the sidecar's restart",
    )
    # when the app ends the pod ends, and the sidecar is stopped
    cluster.fake.exit(cluster.fake.running("web")[0], 0)
    await status_of(cluster, lambda p: p["status"].get("phase") == "Succeeded", "Succeeded")
    assert cluster.fake.running() == []


async def _running(cluster: Cluster, name: str) -> bool:
    return bool(cluster.fake.running(name))


async def test_changed_image_restarts_the_container(cluster: Cluster) -> None:
    await cluster.client.create(PODS, "default", pod(restartPolicy="Never"))
    await status_of(cluster, lambda p: p["status"].get("phase") == "Running", "Running")
    patch = {"spec": {"containers": [{"name": "web", "image": "nginx:1.28"}]}}
    await cluster.client.patch(PODS, "default", "web", patch, patch_type="strategic")
    updated = await status_of(
        cluster, lambda p: container_status(p).get("image") == "nginx:1.28", "the new image"
    )
    assert container_status(updated)["restartCount"] == 1
    assert "running" in container_status(updated)["state"]
    killing = await cluster.events("Killing")
    assert killing[0]["message"] == "Container web definition changed, will be restarted"


async def test_stdin_stdin_once_and_tty_reach_the_runtime(cluster: Cluster) -> None:
    """`kubectl run -i` sets stdinOnce: the first attachment closing stdin ends the input."""
    container = {"name": "web", "image": "busybox", "stdin": True, "stdinOnce": True, "tty": True}
    await cluster.client.create(PODS, "default", pod(containers=[container]))
    await status_of(cluster, lambda p: p["status"].get("phase") == "Running", "Running")
    [instance] = cluster.fake.running("web")
    config = cluster.fake.containers[instance].config
    assert (config.stdin, config.stdin_once, config.tty) == (True, True, True)
