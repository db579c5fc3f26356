"""The built-in images inside the real process runtime: a pod of nginx, redis and busybox."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from minikube_py.runtime.images.store import ImageStore
from minikube_py.runtime.process import ProcessRuntime
from minikube_py.runtime.protocol import ContainerConfig, SandboxConfig
from tests.runtime.test_images_harness import loopback_address


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[ProcessRuntime]:
    opened = ProcessRuntime(tmp_path / "runtime", ImageStore(tmp_path / "images"))
    try:
        yield opened
    finally:
        await opened.close()  # stops every container it started


async def listening(address: str, port: int) -> None:
    for _ in range(500):
        try:
            socket.create_connection((address, port), timeout=1).close()
            return
        except OSError:
            await asyncio.sleep(0.02)
    raise AssertionError(f"nothing listens on {address}:{port}")


async def execute(runtime: ProcessRuntime, container: str, *argv: str) -> tuple[int, bytes]:
    session = await runtime.exec(container, argv)
    output = b"".join([chunk async for _, chunk in session.output()])
    return await session.wait(), output


def nginx_port() -> int:
    start = int(Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text())
    return 80 if os.geteuid() == 0 or start <= 80 else 8080


async def test_a_pod_of_builtin_images(runtime: ProcessRuntime, tmp_path: Path) -> None:
    pod_ip, port = loopback_address(), nginx_port()
    sandbox = await runtime.create_sandbox(
        SandboxConfig(
            uid="uid-1",
            namespace="default",
            name="web",
            ip=pod_ip,
            hostname="web",
            directory=tmp_path / "pods" / "web",
        )
    )
    started = {}
    for config in (
        ContainerConfig(name="nginx", image="nginx:1.14.2", env={"NGINX_PORT": str(port)}),
        ContainerConfig(name="redis", image="redis:7"),
        ContainerConfig(name="box", image="busybox:1.28", command=["sleep", "3600"]),
    ):
        started[config.name] = await runtime.create_container(sandbox, config)
        await runtime.start_container(started[config.name])
    await listening(pod_ip, port)
    await listening(pod_ip, 6379)
    # The sidecar meets nginx at localhost, as containers of one pod do.
    code, page = await execute(runtime, started["box"], "wget", "-qO-", f"http://localhost:{port}/")
    assert code == 0 and b"Welcome to nginx!" in page
    assert await execute(runtime, started["redis"], "redis-cli", "SET", "k", "v") == (0, b"OK\n")
    assert await execute(runtime, started["redis"], "redis-cli", "GET", "k") == (0, b"v\n")
    assert await execute(runtime, started["box"], "hostname") == (0, b"web\n")
    for name in ("nginx", "redis"):
        await runtime.stop_container(started[name], 5)
        status = await runtime.container_status(started[name])
        assert (status.exit_code, status.reason) == (0, "Completed")
    log = runtime.log_path(started["nginx"]).read_text()
    assert '"GET / HTTP/1.1" 200 615 "-" "Wget" "-"' in log
