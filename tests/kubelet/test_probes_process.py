"""Probes and the kubelet's streams against real containers of the process runtime."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from minikube_py.kubelet.probing import run_probe
from minikube_py.kubelet.streams import KubeletStreams
from minikube_py.runtime.process import ProcessRuntime
from minikube_py.runtime.protocol import ContainerConfig, LogOptions, SandboxConfig
from tests.runtime.process_helpers import no_leftovers, run, runtime

__all__ = ["no_leftovers", "runtime"]

POD_IP = "127.244.201.7"  # a pod address of its own, apart from other tests' pods
SERVER = """
import http.server, os, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/healthz" else 500)
        self.end_headers()
        self.wfile.write(b"checked")
    def log_message(self, *args):
        pass
server = http.server.HTTPServer((os.environ["POD_IP"], 8080), Handler)
print("serving", flush=True)
server.serve_forever()
"""
CONTAINER: dict[str, Any] = {"name": "web", "ports": [{"name": "http", "containerPort": 8080}]}


@pytest.fixture
async def web(runtime: ProcessRuntime, tmp_path: Path) -> str:
    sandbox = await runtime.create_sandbox(
        SandboxConfig("uid-p", "default", "web", POD_IP, "web", tmp_path / "pods" / "web")
    )
    config = ContainerConfig(name="web", image="python", args=[sys.executable, "-c", SERVER])
    container = await run(runtime, sandbox, config)
    deadline = time.monotonic() + 20
    probe = {"tcpSocket": {"port": 8080}}
    while (await run_probe(runtime, probe, CONTAINER, container, POD_IP))[0] != "success":
        assert time.monotonic() < deadline, "the server did not start listening"
        await asyncio.sleep(0.05)
    return container


async def test_http_probes_a_real_container(runtime: ProcessRuntime, web: str) -> None:
    healthy = {"httpGet": {"path": "/healthz", "port": "http"}}
    assert await run_probe(runtime, healthy, CONTAINER, web, POD_IP) == ("success", "checked")
    broken = {"httpGet": {"path": "/broken", "port": 8080}}
    assert await run_probe(runtime, broken, CONTAINER, web, POD_IP) == (
        "failure",
        "HTTP probe failed with statuscode: 500",
    )


async def test_exec_probes_run_in_the_container(runtime: ProcessRuntime, web: str) -> None:
    code = "import os, sys; print(os.environ['POD_IP']); sys.exit(1)"
    failing = {"exec": {"command": [sys.executable, "-c", code]}}
    assert await run_probe(runtime, failing, CONTAINER, web, POD_IP) == (
        "failure",
        f"{POD_IP}\n",
    )
    slow = {"exec": {"command": ["sleep", "30"]}, "timeoutSeconds": 1}
    assert await run_probe(runtime, slow, CONTAINER, web, POD_IP) == (
        "failure",
        'command "sleep 30" timed out',
    )  # and no_leftovers checks the timed-out command was killed


async def test_streams_read_the_runtime_log(runtime: ProcessRuntime, web: str) -> None:
    pod = {
        "metadata": {"name": "web", "namespace": "default"},
        "status": {
            "containerStatuses": [
                {"name": "web", "containerID": f"minikube-py://{web}", "state": {"running": {}}}
            ]
        },
    }
    streams = KubeletStreams(runtime, lambda _ns, _name: pod, poll_interval=0.02)
    logs = streams.logs("default", "web", "web", LogOptions(follow=True))
    assert await asyncio.wait_for(logs.__anext__(), 10) == b"serving\n"
    await runtime.stop_container(web, 5)
    assert [chunk async for chunk in logs] == []  # follow ends with the container
