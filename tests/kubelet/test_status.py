"""Pod status as pure functions: phase, conditions, container statuses and QoS class."""

from __future__ import annotations

from typing import Any

import pytest

from minikube_py.api.printers_core import pod_summary
from minikube_py.kubelet.status import (
    ContainerView,
    Terminated,
    container_status,
    phase,
    pod_status,
    qos_class,
    rfc3339,
)

Object = dict[str, Any]
T0 = 1_800_000_000.0


def pod(restart: str = "Always", **spec: Any) -> Object:
    return {
        "metadata": {"name": "web", "namespace": "default", "uid": "u"},
        "spec": {"restartPolicy": restart, "containers": [{"name": "web"}], **spec},
    }


def running(name: str = "web", ready: bool = True) -> ContainerView:
    return ContainerView(name, "nginx", state="running", started_at=T0, ready=ready, started=True)


def ended(code: int, name: str = "web", reason: str | None = None) -> ContainerView:
    run = Terminated(code, reason or ("Completed" if code == 0 else "Error"), T0, T0 + 1, "abc")
    return ContainerView(name, "nginx", state="terminated", terminated=run)


def crash_looping(name: str = "web") -> ContainerView:
    run = Terminated(1, "Error", T0, T0 + 1, "abc")
    return ContainerView(name, "nginx", reason="CrashLoopBackOff", last=run, restart_count=3)


@pytest.mark.parametrize(
    ("restart", "views", "expected"),
    [
        ("Always", [running()], "Running"),
        ("Always", [ContainerView("web", "nginx")], "Pending"),
        ("Always", [running(), ContainerView("b", "x")], "Pending"),
        ("Always", [crash_looping()], "Running"),
        ("Always", [ended(0)], "Running"),  # about to be restarted
        ("Never", [ended(0)], "Succeeded"),
        ("Never", [ended(1)], "Failed"),
        ("Never", [ended(0), ended(1, "b")], "Failed"),
        ("Never", [ended(0), running("b")], "Running"),
        ("OnFailure", [ended(0)], "Succeeded"),
        ("OnFailure", [crash_looping()], "Running"),
    ],
)
def test_phase(restart: str, views: list[ContainerView], expected: str) -> None:
    assert phase(pod(restart), [], views) == expected


def test_init_containers_keep_the_pod_pending_or_fail_it() -> None:
    assert phase(pod(), [running("init")], [ContainerView("web", "x")]) == "Pending"
    assert phase(pod("Never"), [ended(1, "init")], [ContainerView("web", "x")]) == "Failed"
    assert phase(pod("OnFailure"), [crash_looping("init")], [ContainerView("w", "x")]) == "Pending"
    assert phase(pod(), [ended(0, "init")], [running()]) == "Running"


def test_terminated_container_status_fields() -> None:
    run = Terminated(137, "OOMKilled", T0, T0 + 5, "abc", signal=9, message="out of memory")
    view = ContainerView("web", "nginx", state="terminated", terminated=run, image_id="sha256:1")
    status = container_status(view)
    assert status["state"] == {
        "terminated": {
            "exitCode": 137,
            "reason": "OOMKilled",
            "signal": 9,
            "message": "out of memory",
            "startedAt": rfc3339(T0),
            "finishedAt": rfc3339(T0 + 5),
            "containerID": "minikube-py://abc",
        }
    }
    assert status["lastState"] == {} and status["ready"] is False
    assert rfc3339(T0) == "2027-01-15T08:00:00Z"


def full(obj: Object, init: list[ContainerView], app: list[ContainerView]) -> Object:
    status = pod_status(
        obj,
        init,
        app,
        pod_ip="127.244.0.2",
        host_ip="127.49.0.2",
        start_time=T0,
        sandbox_ready=True,
        now=T0 + 10,
    )
    return {**obj, "status": status}


def conditions(obj: Object) -> dict[str, Object]:
    return {c["type"]: c for c in obj["status"]["conditions"]}


def test_unready_container_conditions_and_printer() -> None:
    obj = full(pod(), [], [running(ready=False)])
    found = conditions(obj)
    assert found["Ready"]["reason"] == "ContainersNotReady"
    assert found["Ready"]["message"] == "containers with unready status: [web]"
    assert found["ContainersReady"]["status"] == "False"
    assert found["PodScheduled"]["status"] == "True"
    assert pod_summary(obj)[:3] == (0, 1, "Running")


def test_printer_words_for_each_state() -> None:
    init_spec = pod(initContainers=[{"name": "init"}])
    cases = [
        (
            full(
                init_spec, [running("init")], [ContainerView("web", "x", reason="PodInitializing")]
            ),
            "Init:0/1",
        ),
        (
            full(
                init_spec, [ended(0, "init")], [ContainerView("web", "x", reason="PodInitializing")]
            ),
            "PodInitializing",
        ),
        (
            full(init_spec, [crash_looping("init")], [ContainerView("web", "x")]),
            "Init:CrashLoopBackOff",
        ),
        (full(pod(), [], [ContainerView("web", "x")]), "ContainerCreating"),
        (full(pod(), [], [crash_looping()]), "CrashLoopBackOff"),
        (full(pod("Never"), [], [ended(0)]), "Completed"),
        (full(pod("Never"), [], [ended(1)]), "Error"),
        (full(pod("Never"), [], [ended(137, reason="OOMKilled")]), "OOMKilled"),
    ]
    for obj, word in cases:
        assert pod_summary(obj)[2] == word


def test_transition_times_move_only_when_a_condition_changes() -> None:
    first = full(pod(), [], [running(ready=False)])
    later = pod_status(
        first,
        [],
        [running(ready=False)],
        pod_ip="127.244.0.2",
        host_ip="127.49.0.2",
        start_time=T0,
        sandbox_ready=True,
        now=T0 + 100,
    )
    assert later["conditions"] == first["status"]["conditions"]
    ready = pod_status(
        first,
        [],
        [running()],
        pod_ip="127.244.0.2",
        host_ip="127.49.0.2",
        start_time=T0,
        sandbox_ready=True,
        now=T0 + 100,
    )
    stamps = {c["type"]: c["lastTransitionTime"] for c in ready["conditions"]}
    assert stamps["Ready"] == rfc3339(T0 + 100)
    assert stamps["Initialized"] == rfc3339(T0 + 10)


def resources(
    requests: dict[str, str] | None = None, limits: dict[str, str] | None = None
) -> Object:
    out: Object = {}
    if requests:
        out["requests"] = requests
    if limits:
        out["limits"] = limits
    return {"name": "c", "resources": out}


@pytest.mark.parametrize(
    ("containers", "expected"),
    [
        ([{"name": "c"}], "BestEffort"),
        ([resources({"cpu": "0"})], "BestEffort"),  # zero amounts do not count
        ([resources({"cpu": "100m"})], "Burstable"),
        ([resources(limits={"cpu": "1", "memory": "1Gi"})], "Guaranteed"),
        ([resources({"cpu": "1", "memory": "1Gi"}, {"cpu": "1", "memory": "1Gi"})], "Guaranteed"),
        ([resources({"cpu": "500m", "memory": "1Gi"}, {"cpu": "1", "memory": "1Gi"})], "Burstable"),
        ([resources(limits={"cpu": "1"})], "Burstable"),  # memory limit missing
        ([resources(limits={"cpu": "1", "memory": "1Gi"}), {"name": "d"}], "Burstable"),
        ([resources({"ephemeral-storage": "1Gi"})], "BestEffort"),  # only cpu and memory count
    ],
)
def test_qos_class(containers: list[Object], expected: str) -> None:
    assert qos_class({"spec": {"containers": containers}}) == expected


def test_qos_class_counts_init_containers() -> None:
    guaranteed = resources(limits={"cpu": "1", "memory": "1Gi"})
    spec = {"containers": [guaranteed], "initContainers": [{"name": "i"}]}
    assert qos_class({"spec": spec}) == "Burstable"
