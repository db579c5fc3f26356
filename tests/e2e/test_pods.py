"""Pods that really run, driven by the real kubectl against a one-node cluster.

Each test starts what a user would start (`kubectl run`, `kubectl apply -f`), waits with
`kubectl wait` or a bounded poll, and checks what the user would see: the pod's status and
events, its logs, a command run in it, the page it serves on its own address.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import Kubectl, network_plan

WAIT = "--timeout=60s"


def eventually(check: Callable[[], Any], *, seconds: float = 60.0, every: float = 0.2) -> Any:
    """``check()``'s first truthy result, polling until ``seconds`` pass (then fail)."""
    deadline = time.monotonic() + seconds
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"not reached within {seconds} s; last seen: {last!r}")


def pod(kubectl: Kubectl, name: str) -> Any:
    return kubectl.json("get", "pod", name)


def apply(kubectl: Kubectl, manifest: dict[str, Any]) -> None:
    kubectl.out("apply", "-f", "-", stdin=json.dumps(manifest))


def busybox(name: str, script: str, **spec: Any) -> dict[str, Any]:
    container = {"name": "main", "image": "busybox:1.36", "command": ["sh", "-c", script]}
    container.update(spec.pop("container", {}))
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [container], "terminationGracePeriodSeconds": 2, **spec},
    }


def container_status(kubectl: Kubectl, name: str) -> dict[str, Any]:
    statuses = pod(kubectl, name)["status"].get("containerStatuses") or [{}]
    return dict(statuses[0])


def status_column(kubectl: Kubectl, name: str) -> str:
    line = kubectl.out("get", "pod", name, "--no-headers")
    return line.split()[2]


def test_run_nginx_serves_the_welcome_page_on_its_pod_address(
    kubectl: Kubectl, unique: Any
) -> None:
    name = unique("web")
    kubectl.out("run", name, "--image=nginx", "--port=80")
    kubectl.out("wait", "--for=condition=Ready", f"pod/{name}", WAIT)
    wide = kubectl.out("get", "pod", name, "-o", "wide", "--no-headers").split()
    address, node = wide[5], wide[6]
    assert ipaddress.ip_address(address) in ipaddress.ip_network(network_plan(kubectl).pod_block)
    assert node == "minikube"
    with urllib.request.urlopen(f"http://{address}:80/", timeout=10) as answer:
        assert "Welcome to nginx!" in answer.read().decode()
    assert "GET / HTTP/1.1" in kubectl.out("logs", name)
    kubectl.out("delete", "pod", name, "--wait=true")


def test_logs_follow_exec_and_describe(kubectl: Kubectl, unique: Any) -> None:
    name = unique("talk")
    script = "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done"
    apply(kubectl, busybox(name, script))
    kubectl.out("wait", "--for=condition=Ready", f"pod/{name}", WAIT)
    eventually(lambda: "line 2" in kubectl.out("logs", name))
    assert kubectl.out("logs", name, "--tail=1").count("\n") == 1

    follower = kubectl.popen("logs", "-f", name)
    try:
        assert follower.stdout is not None
        seen = [follower.stdout.readline() for _ in range(3)]
        assert all(line.startswith("line ") for line in seen), seen
    finally:
        follower.kill()
        follower.wait()

    script = "echo out; echo err >&2; exit 3"
    done = kubectl.run("exec", name, "--", "sh", "-c", script, check=False)
    assert (done.returncode, done.stdout, done.stderr.splitlines()[0]) == (3, "out\n", "err")
    echoed = kubectl.out("exec", "-i", name, "--", "cat", stdin="through stdin\n")
    assert echoed == "through stdin\n"
    environment = kubectl.out("exec", name, "--", "env")
    assert f"HOSTNAME={name}" in environment.splitlines()

    described = kubectl.out("describe", "pod", name)
    for reason in ("Scheduled", "Pulled", "Created", "Started"):
        assert reason in described, described
    assert f"Successfully assigned default/{name} to minikube" in described
    kubectl.out("delete", "pod", name)


def test_delete_honours_the_grace_period(kubectl: Kubectl, unique: Any) -> None:
    name = unique("grace")
    apply(kubectl, busybox(name, "trap '' TERM; while true; do sleep 0.1; done"))
    kubectl.out("wait", "--for=condition=Ready", f"pod/{name}", WAIT)
    began = time.monotonic()
    deleting = kubectl.popen("delete", "pod", name)
    eventually(lambda: status_column(kubectl, name) == "Terminating", seconds=5)
    assert deleting.wait(30) == 0
    assert time.monotonic() - began >= 2.0  # SIGTERM ignored: SIGKILL only after the grace
    assert "NotFound" in kubectl.fails("get", "pod", name)


def test_a_crashing_container_backs_off(kubectl: Kubectl, unique: Any) -> None:
    name = unique("crash")
    apply(kubectl, busybox(name, "echo crashing; exit 1"))
    eventually(lambda: container_status(kubectl, name).get("restartCount", 0) >= 2, seconds=90)
    eventually(lambda: status_column(kubectl, name) in ("CrashLoopBackOff", "Error"))
    last = container_status(kubectl, name)["lastState"]["terminated"]
    assert (last["exitCode"], last["reason"]) == (1, "Error")
    assert "crashing" in kubectl.out("logs", name, "--previous")
    assert "Back-off restarting failed container main" in kubectl.out("describe", "pod", name)
    kubectl.out("delete", "pod", name)


def test_a_failing_liveness_probe_restarts_the_container(kubectl: Kubectl, unique: Any) -> None:
    name = unique("live")
    # Relative paths: a shell script's absolute paths are the host's in the process runtime.
    probe = {"exec": {"command": ["cat", "healthy"]}, "periodSeconds": 1, "failureThreshold": 1}
    script = "touch healthy; sleep 2; rm -f healthy; sleep 600"
    apply(kubectl, busybox(name, script, container={"livenessProbe": probe}))
    eventually(lambda: container_status(kubectl, name).get("restartCount", 0) >= 1, seconds=60)
    described = kubectl.out("describe", "pod", name)
    assert "Liveness probe failed" in described
    assert "Container main failed liveness probe, will be restarted" in described
    kubectl.out("delete", "pod", name)


def test_memory_over_the_limit_is_oom_killed(kubectl: Kubectl, unique: Any) -> None:
    name = unique("oom")
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "restartPolicy": "Never",
            "containers": [
                {
                    "name": "hog",
                    "image": "python:3.12",
                    "command": [
                        "python3",
                        "-c",
                        "import time; x = bytearray(300 * 2**20); time.sleep(60)",
                    ],
                    "resources": {"limits": {"memory": "64Mi"}},
                }
            ],
        },
    }
    apply(kubectl, manifest)
    terminated = eventually(
        lambda: (container_status(kubectl, name).get("state") or {}).get("terminated")
    )
    assert (terminated["reason"], terminated["exitCode"]) == ("OOMKilled", 137)
    assert status_column(kubectl, name) == "OOMKilled"
    kubectl.out("delete", "pod", name)


def test_a_pod_too_big_for_any_node_stays_pending(kubectl: Kubectl, unique: Any) -> None:
    name = unique("huge")
    cpus = os.cpu_count() or 1
    apply(
        kubectl,
        busybox(name, "sleep 600", container={"resources": {"requests": {"cpu": str(cpus * 10)}}}),
    )
    message = eventually(
        lambda: next(
            (
                event["message"]
                for event in kubectl.json(
                    "get", "events", "--field-selector", f"involvedObject.name={name}"
                )["items"]
                if event["reason"] == "FailedScheduling"
            ),
            None,
        )
    )
    assert message.startswith("0/1 nodes are available: 1 Insufficient cpu."), message
    assert pod(kubectl, name)["status"]["phase"] == "Pending"
    kubectl.out("delete", "pod", name)


@pytest.mark.parametrize("image", ["no-such-image-here:1.0"])
def test_an_unknown_image_ends_in_image_pull_back_off(
    kubectl: Kubectl, unique: Any, image: str
) -> None:
    name = unique("pull")
    kubectl.out("run", name, f"--image={image}")
    eventually(lambda: status_column(kubectl, name) in ("ErrImagePull", "ImagePullBackOff"))
    eventually(lambda: status_column(kubectl, name) == "ImagePullBackOff", seconds=60)
    waiting = container_status(kubectl, name)["state"]["waiting"]
    assert "minikube-py image build" in waiting["message"]
    kubectl.out("delete", "pod", name)


def test_a_host_port_answers_on_the_node_address(kubectl: Kubectl, unique: Any) -> None:
    name = unique("hostport")
    node = kubectl.json("get", "node", "minikube")
    internal = next(a for a in node["status"]["addresses"] if a["type"] == "InternalIP")
    with socket.socket() as probe:  # a port free on the node's address now
        probe.bind((internal["address"], 0))
        host_port = probe.getsockname()[1]
    port = {"containerPort": 8080, "hostPort": host_port}
    container = {"name": "app", "image": "gcr.io/google-samples/hello-app:1.0", "ports": [port]}
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [container], "terminationGracePeriodSeconds": 2},
    }
    apply(kubectl, manifest)
    kubectl.out("wait", "--for=condition=Ready", f"pod/{name}", WAIT)
    url = f"http://{internal['address']}:{host_port}/"
    # Ready without a readiness probe means started: the app may still be binding its port
    assert f"Hostname: {name}" in eventually(lambda: _page(url))
    kubectl.out("delete", "pod", name, "--wait=true")
    with pytest.raises(OSError):  # the relay went with the pod
        urllib.request.urlopen(url, timeout=10)


def _page(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return str(answer.read().decode())
    except OSError:
        return None
