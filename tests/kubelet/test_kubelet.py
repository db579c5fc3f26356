"""The kubelet against a real in-process API server, with the fake runtime and a fake clock."""

from __future__ import annotations

import ipaddress

from minikube_py.api.printers_core import pod_summary
from minikube_py.client import PODS

from .conftest import NODE, Cluster, condition, container_status, pod


def phase(obj: dict[str, object]) -> object:
    return (obj.get("status") or {}).get("phase")  # type: ignore[attr-defined]


def waiting_reason(obj: dict[str, object], name: str = "web") -> str:
    state = container_status(obj, name).get("state") or {}
    return str((state.get("waiting") or {}).get("reason", ""))


def printed(obj: dict[str, object]) -> str:
    return pod_summary(obj)[2]


async def test_pod_becomes_running_with_an_address_and_conditions(cluster: Cluster) -> None:
    await cluster.client.create(PODS, "default", pod())
    running = await cluster.pod_where(
        lambda p: phase(p) == "Running" and condition(p, "Ready").get("status") == "True",
        "the pod to be Running and Ready",
    )
    status = running["status"]
    assert ipaddress.ip_address(status["podIP"]) in ipaddress.ip_network(NODE.pod_cidr)
    assert status["podIP"] == "127.244.0.2"  # the first pod gets .2, as minikube's
    assert status["podIPs"] == [{"ip": status["podIP"]}]
    assert status["hostIP"] == NODE.address and status["hostIPs"] == [{"ip": NODE.address}]
    assert status["startTime"].endswith("Z")
    assert status["qosClass"] == "BestEffort"
    types = [c["type"] for c in status["conditions"]]
    assert types == [
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ]
    assert all(c["status"] == "True" for c in status["conditions"])
    web = container_status(running)
    assert web["ready"] is True and web["started"] is True and web["restartCount"] == 0
    assert web["containerID"].startswith("minikube-py://")
    assert web["imageID"].startswith("sha256:")
    assert "running" in web["state"] and web["lastState"] == {}
    assert printed(running) == "Running"
    assert (
        cluster.kubelet.container_id("default", "web", "web") == web["containerID"].split("//")[1]
    )
    # the events of a start, worded as upstream's
    reasons = {r: await cluster.events(r) for r in ("Pulling", "Pulled", "Created", "Started")}
    assert reasons["Pulling"][0]["message"] == 'Pulling image "nginx:1.27"'
    assert reasons["Pulled"][0]["message"].startswith('Successfully pulled image "nginx:1.27" in ')
    assert reasons["Created"][0]["message"] == "Created container: web"
    assert reasons["Started"][0]["message"] == "Started container web"
    assert reasons["Started"][0]["involvedObject"]["fieldPath"] == "spec.containers{web}"
    assert reasons["Started"][0]["source"] == {"component": "kubelet", "host": NODE.name}


async def test_second_pod_of_the_same_image_finds_it_present(cluster: Cluster) -> None:
    await cluster.client.create(PODS, "default", pod("a"))
    await cluster.pod_where(lambda p: phase(p) == "Running", "a Running", name="a")
    await cluster.client.create(PODS, "default", pod("b"))
    second = await cluster.pod_where(lambda p: phase(p) == "Running", "b Running", name="b")
    assert second["status"]["podIP"] == "127.244.0.3"
    pulled = await cluster.events("Pulled", name="b")
    assert pulled[0]["message"] == 'Container image "nginx:1.27" already present on machine'
    assert await cluster.events("Pulling", name="b") == []


async def test_init_containers_run_in_order_then_the_app(cluster: Cluster) -> None:
    init = [{"name": "one", "image": "busybox:1.36"}, {"name": "two", "image": "busybox:1.36"}]
    await cluster.client.create(PODS, "default", pod(initContainers=init))
    first = await cluster.pod_where(
        lambda p: "running" in container_status(p, "one", "initContainerStatuses").get("state", {}),
        "the first init container to run",
    )
    assert printed(first) == "Init:0/2"
    assert phase(first) == "Pending"
    assert condition(first, "Initialized")["reason"] == "ContainersNotInitialized"
    assert condition(first, "Initialized")["message"] == (
        "containers with incomplete status: [one two]"
    )
    assert container_status(first, "web")["state"] == {"waiting": {"reason": "PodInitializing"}}
    assert cluster.fake.running() == [cluster.kubelet.container_id("default", "web", "one")]

    cluster.fake.exit(cluster.fake.running("one")[0], 0)
    second = await cluster.pod_where(
        lambda p: "running" in container_status(p, "two", "initContainerStatuses").get("state", {}),
        "the second init container to run",
    )
    assert printed(second) == "Init:1/2"
    done = container_status(second, "one", "initContainerStatuses")["state"]["terminated"]
    assert done["exitCode"] == 0 and done["reason"] == "Completed"

    cluster.fake.exit(cluster.fake.running("two")[0], 0)
    running = await cluster.pod_where(lambda p: phase(p) == "Running", "the app to run")
    assert condition(running, "Initialized")["status"] == "True"
    assert printed(running) == "Running"


async def test_failing_init_container_with_never_fails_the_pod(cluster: Cluster) -> None:
    init = [{"name": "setup", "image": "busybox:1.36"}]
    await cluster.client.create(PODS, "default", pod(initContainers=init, restartPolicy="Never"))
    await cluster.until(lambda: _has_running(cluster, "setup"), "the init container to run")
    cluster.fake.exit(cluster.fake.running("setup")[0], 2)
    failed = await cluster.pod_where(lambda p: phase(p) == "Failed", "the pod to fail")
    assert printed(failed) == "Init:Error"
    assert cluster.fake.running("web") == []


async def _has_running(cluster: Cluster, name: str) -> bool:
    return bool(cluster.fake.running(name))


async def test_never_and_exit_1_is_failed_error(cluster: Cluster) -> None:
    await cluster.client.create(PODS, "default", pod(restartPolicy="Never"))
    await cluster.pod_where(lambda p: phase(p) == "Running", "Running")
    cluster.fake.exit(cluster.fake.running("web")[0], 1)
    failed = await cluster.pod_where(lambda p: phase(p) == "Failed", "Failed")
    terminated = container_status(failed)["state"]["terminated"]
    assert terminated["exitCode"] == 1 and terminated["reason"] == "Error"
    assert terminated["containerID"].startswith("minikube-py://")
    assert printed(failed) == "Error"
    assert condition(failed, "Ready")["reason"] == "ContainersNotReady"
    assert condition(failed, "PodReadyToStartContainers")["status"] == "False"
    assert len(cluster.kubelet.addresses) == 0  # a finished pod gives its address back


async def test_on_failure_and_exit_0_is_succeeded_completed(cluster: Cluster) -> None:
    await cluster.client.create(PODS, "default", pod(restartPolicy="OnFailure"))
    await cluster.pod_where(lambda p: phase(p) == "Running", "Running")
    cluster.fake.exit(cluster.fake.running("web")[0], 0)
    done = await cluster.pod_where(lambda p: phase(p) == "Succeeded", "Succeeded")
    assert printed(done) == "Completed"
    assert condition(done, "Ready")["reason"] == "PodCompleted"


async def test_crash_loop_backs_off_doubling(cluster: Cluster) -> None:
    await cluster.client.create(PODS, "default", pod())
    await cluster.pod_where(lambda p: phase(p) == "Running", "Running")

    # first crash: restarted at once (restart 1)
    cluster.fake.exit(cluster.fake.running("web")[0], 1)
    await cluster.pod_where(
        lambda p: (
            container_status(p).get("restartCount") == 1
            and "running" in container_status(p)["state"]
        ),
        "the first restart",
    )
    # every further crash waits 10 s, 20 s, 40 s … before the restart
    for restarts, delay in ((2, 10), (3, 20), (4, 40)):
        cluster.fake.exit(cluster.fake.running("web")[0], 1)
        looping = await cluster.pod_where(
            lambda p: waiting_reason(p) == "CrashLoopBackOff",
            "CrashLoopBackOff",
        )
        assert printed(looping) == "CrashLoopBackOff"
        assert phase(looping) == "Running"
        waiting = container_status(looping)["state"]["waiting"]
        uid = looping["metadata"]["uid"]
        assert waiting["message"] == (
            f"back-off {delay}s restarting failed container=web pod=web_default({uid})"
        )
        assert container_status(looping)["lastState"]["terminated"]["exitCode"] == 1
        cluster.clock.advance(delay - 1)
        assert cluster.fake.running("web") == []  # not yet
        cluster.clock.advance(1)
        await cluster.pod_where(
            lambda p, n=restarts: (
                container_status(p).get("restartCount") == n
                and "running" in container_status(p)["state"]
            ),
            f"restart {restarts}",
        )
    backoff = await cluster.events("BackOff")
    uid = (await cluster.pod())["metadata"]["uid"]
    assert backoff[0]["message"] == (
        f"Back-off restarting failed container web in pod web_default({uid})"
    )
    assert backoff[0]["type"] == "Warning"


async def test_unknown_image_is_err_image_pull_then_backoff(cluster: Cluster) -> None:
    await cluster.client.create(PODS, "default", pod(image="example.com/nothing:1"))
    pulling = await cluster.pod_where(
        lambda p: waiting_reason(p) == "ErrImagePull",
        "ErrImagePull",
    )
    assert printed(pulling) == "ErrImagePull"
    assert "minikube-py image build" in container_status(pulling)["state"]["waiting"]["message"]
    failed = await cluster.events("Failed")
    assert any(
        e["message"].startswith('Failed to pull image "example.com/nothing:1": ') for e in failed
    )
    # a pass within the back-off (any wake-up, here a label change) says ImagePullBackOff
    await cluster.client.patch(PODS, "default", "web", {"metadata": {"labels": {"a": "b"}}})
    backoff = await cluster.pod_where(
        lambda p: waiting_reason(p) == "ImagePullBackOff",
        "ImagePullBackOff",
    )
    message = container_status(backoff)["state"]["waiting"]["message"]
    assert message.startswith('Back-off pulling image "example.com/nothing:1": ErrImagePull: ')
    assert printed(backoff) == "ImagePullBackOff"
    # after the back-off it pulls again (and fails again). The status says ErrImagePull only
    # until the next pass, so a poller may miss it: the pull's Events are the evidence.
    cluster.clock.advance(10)

    async def pulled_twice() -> bool:
        pulling, failing = await cluster.events("Pulling"), await cluster.events("Failed")
        return [e["count"] for e in pulling] == [2] and sum(e["count"] for e in failing) >= 2

    await cluster.until(pulled_twice, "a second pull, aggregated into one Pulling Event")
    again = await cluster.pod()
    assert waiting_reason(again) in ("ErrImagePull", "ImagePullBackOff")


async def test_delete_stops_containers_and_removes_the_pod(cluster: Cluster) -> None:
    await cluster.client.create(PODS, "default", pod(terminationGracePeriodSeconds=7))
    running = await cluster.pod_where(lambda p: phase(p) == "Running", "Running")
    instance = container_status(running)["containerID"].split("//")[1]
    await cluster.client.delete(PODS, "default", "web")

    await cluster.until_gone("the pod object to be removed")
    assert cluster.fake.running() == []
    assert (instance, 7.0) in cluster.fake.stop_calls  # the pod's grace period
    killing = await cluster.events("Killing")
    assert killing[0]["message"] == "Stopping container web"
    assert len(cluster.kubelet.addresses) == 0
    assert cluster.fake.sandboxes == {}


async def test_pod_that_does_not_fit_is_rejected(cluster: Cluster) -> None:
    big = [{"name": "web", "image": "nginx", "resources": {"requests": {"cpu": "5"}}}]
    await cluster.client.create(PODS, "default", pod(containers=big))
    rejected = await cluster.pod_where(lambda p: phase(p) == "Failed", "the rejection")
    assert rejected["status"]["reason"] == "OutOfcpu"
    assert rejected["status"]["message"] == (
        "Pod was rejected: Node didn't have enough resource: cpu, requested: 5000, used: 0, "
        "capacity: 4000"
    )
    assert printed(rejected) == "OutOfcpu"
    assert cluster.fake.containers == {}


async def test_active_deadline_fails_the_pod(cluster: Cluster) -> None:
    await cluster.client.create(PODS, "default", pod(activeDeadlineSeconds=30))
    await cluster.pod_where(lambda p: phase(p) == "Running", "Running")
    cluster.clock.advance(30)
    failed = await cluster.pod_where(lambda p: phase(p) == "Failed", "DeadlineExceeded")
    assert failed["status"]["reason"] == "DeadlineExceeded"
    assert failed["status"]["message"] == (
        "Pod was active on the node longer than the specified deadline"
    )
    assert cluster.fake.running() == []
    killing = await cluster.events("Killing")
    assert killing[0]["message"] == "Stopping container web"
    deadline = await cluster.events("DeadlineExceeded")
    assert deadline[0]["type"] == "Warning"


async def test_force_deleted_pod_is_stopped_and_forgotten(cluster: Cluster) -> None:
    await cluster.client.create(PODS, "default", pod())
    await cluster.pod_where(lambda p: phase(p) == "Running", "Running")
    await cluster.client.delete(PODS, "default", "web", grace_period_seconds=0)

    async def stopped() -> bool:
        return not cluster.fake.running() and not cluster.kubelet.workers

    await cluster.until(stopped, "the containers to stop and the worker to end")
    assert cluster.fake.sandboxes == {} and len(cluster.kubelet.addresses) == 0


async def test_pod_bound_later_is_picked_up(cluster: Cluster) -> None:
    unbound = pod("later")
    del unbound["spec"]["nodeName"]
    await cluster.client.create(PODS, "default", unbound)
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "later", "namespace": "default"},
        "target": {"apiVersion": "v1", "kind": "Node", "name": NODE.name},
    }
    await cluster.client.create(PODS, "default", binding, subresource="binding")
    await cluster.pod_where(lambda p: phase(p) == "Running", "the bound pod to run", name="later")
