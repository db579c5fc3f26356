"""``kubectl port-forward`` (pod and service) and the Python client's ``portforward`` against
the real cluster: an ``hashicorp/http-echo`` pod answers on 5678 (unprivileged), requests go
through the forwarded local port, and every kubectl started here is ended by its pid."""

from __future__ import annotations

import contextlib
import dataclasses
import select
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Kubectl

WAIT = "--timeout=60s"
SECONDS = 30.0


def _manifest(name: str) -> str:
    return f"""
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
  containers:
  - name: echo
    image: hashicorp/http-echo
    args: ["-text=hello from {name}"]
    ports: [{{containerPort: 5678}}]
    readinessProbe:  # Ready once it listens, not merely once its process started
      tcpSocket: {{port: 5678}}
      periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector: {{app: {name}}}
  ports: [{{port: 80, targetPort: 5678}}]
"""


@pytest.fixture
def echo(kubectl: Kubectl, unique: Any) -> Iterator[str]:
    """A running http-echo pod and a Service selecting it, both named as returned."""
    name = unique("pf")
    manifest = kubectl.write(f"{name}.yaml", _manifest(name))
    kubectl.out("apply", "-f", str(manifest))
    try:
        kubectl.out("wait", "--for=condition=Ready", f"pod/{name}", WAIT)
        yield name
    finally:
        kubectl.run("delete", "-f", str(manifest), "--wait=false", check=False)


def _line(process: subprocess.Popen[str], stream: Any, deadline: float) -> str:
    """The child's next output line, waiting at most until ``deadline``."""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
        if ready:
            return str(stream.readline())
        if process.poll() is not None:
            break
    return ""


@contextlib.contextmanager
def port_forward(kubectl: Kubectl, *args: str) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """``kubectl port-forward ARGS`` on 127.0.0.1 and a free local port, until the block ends
    (then terminated by its pid, killed if it lingers)."""
    process = kubectl.popen("port-forward", "--address=127.0.0.1", *args)
    try:
        line = _line(process, process.stdout, time.monotonic() + SECONDS)
        if not line.startswith("Forwarding from 127.0.0.1:"):
            process.kill()
            _, err = process.communicate(timeout=SECONDS)
            raise AssertionError(f"kubectl port-forward failed: {line}{err}")
        yield int(line.split()[2].rsplit(":", 1)[1]), process
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(SECONDS)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _get(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=SECONDS) as response:
        return str(response.read().decode())


@pytest.mark.parametrize("websockets", [True, False], ids=["tunnel", "spdy-upgrade"])
def test_kubectl_port_forward_to_a_pod(kubectl: Kubectl, echo: str, websockets: bool) -> None:
    if not websockets:  # kubectl's switch back to the plain SPDY upgrade of older versions
        env = {**kubectl.env, "KUBECTL_PORT_FORWARD_WEBSOCKETS": "false"}
        kubectl = dataclasses.replace(kubectl, env=env)
    with port_forward(kubectl, f"pod/{echo}", ":5678") as (port, _):
        for _ in range(3):  # one session, a new forwarded connection each time
            assert _get(port) == f"hello from {echo}\n"


def test_kubectl_port_forward_to_a_service(kubectl: Kubectl, echo: str) -> None:
    # kubectl resolves the Service to one of its pods itself, and port 80 to targetPort 5678
    with port_forward(kubectl, f"svc/{echo}", ":80") as (port, process):
        assert _get(port) == f"hello from {echo}\n"
        assert process.poll() is None


def test_kubectl_port_forward_to_a_closed_port(kubectl: Kubectl, echo: str) -> None:
    with port_forward(kubectl, f"pod/{echo}", ":5679") as (port, process):
        with pytest.raises(OSError):
            _get(port)
        # kubectl 1.32 prints the error the server sent, then gives the session up
        assert process.wait(SECONDS) == 1
        assert process.stderr is not None
        err = process.stderr.read()
    assert f"an error occurred forwarding {port} -> 5679: error forwarding port 5679 to pod" in err
    assert "connect: connection refused" in err
    assert "error: lost connection to pod" in err


def test_kubectl_port_forward_refuses_a_pod_not_running(kubectl: Kubectl, unique: Any) -> None:
    name = unique("pf-pending")
    kubectl.out(
        "run",
        name,
        "--image=hashicorp/http-echo",
        "--restart=Never",
        "--overrides",
        '{"spec": {"nodeSelector": {"nowhere": "true"}}}',
    )
    try:
        err = kubectl.fails("port-forward", f"pod/{name}", ":5678")
        assert "unable to forward port because pod is not running. Current status=Pending" in err
    finally:
        kubectl.run("delete", "pod", name, "--wait=false", check=False)


def test_python_client_port_forward(api_client: Any, echo: str) -> None:
    from kubernetes import client
    from kubernetes.stream import portforward

    core = client.CoreV1Api(api_client)
    forward = portforward(
        core.connect_get_namespaced_pod_portforward, echo, "default", ports="5678"
    )
    try:
        sock = forward.socket(5678)
        sock.settimeout(SECONDS)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: echo\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
        sock.close()
    finally:
        forward.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert body == f"hello from {echo}\n".encode()
    assert forward.error(5678) is None
