"""FakeRuntime: the runtime protocol without processes."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from minikube_py.runtime.fake import FakeRuntime
from minikube_py.runtime.protocol import ContainerConfig, ContainerError, SandboxConfig


def sandbox(uid: str = "u1") -> SandboxConfig:
    return SandboxConfig(uid, "default", "web", "127.244.0.2", "web", Path("/tmp/none"))


async def test_container_runs_until_it_exits_or_is_stopped() -> None:
    fake = FakeRuntime()
    box = await fake.create_sandbox(sandbox())
    first = await fake.create_container(box, ContainerConfig("web", "nginx:1.27"))
    await fake.start_container(first)
    assert (await fake.container_status(first)).state == "running"
    waiting = asyncio.ensure_future(fake.wait_container(first))
    await asyncio.sleep(0)
    assert not waiting.done()
    fake.exit(first, 3)
    status = await waiting
    assert (status.state, status.exit_code, status.reason) == ("exited", 3, "Error")

    second = await fake.create_container(box, ContainerConfig("web", "nginx:1.27", attempt=1))
    await fake.start_container(second)
    await fake.stop_container(second, 30)
    stopped = await fake.wait_container(second)
    assert (stopped.exit_code, stopped.signal) == (143, 15)
    assert fake.stop_calls == [(second, 30)]


async def test_oom_and_exec() -> None:
    fake = FakeRuntime(exec_handler=lambda _id, command: 7 if command[0] == "false" else 0)
    box = await fake.create_sandbox(sandbox())
    container = await fake.create_container(box, ContainerConfig("web", "busybox"))
    await fake.start_container(container)
    assert await (await fake.exec(container, ["false"])).wait() == 7
    assert await (await fake.exec(container, ["true"])).wait() == 0
    fake.oom(container)
    status = await fake.container_status(container)
    assert (status.exit_code, status.reason) == (137, "OOMKilled")
    with pytest.raises(ContainerError):
        await fake.exec(container, ["true"])


async def test_images_resolve_like_the_process_runtime() -> None:
    fake = FakeRuntime(images=["example.com/mine:1"], fail_images=["nginx:broken"])
    assert (await fake.pull_image("nginx:1.14.2")).startswith("sha256:")
    assert (await fake.pull_image("example.com/mine:1")).startswith("sha256:")
    for bad in ("example.com/other:1", "nginx:broken"):
        with pytest.raises(ContainerError) as caught:
            await fake.pull_image(bad)
        assert caught.value.reason == "ErrImagePull"
        assert "minikube-py image build" in caught.value.message


async def test_five_thousand_containers_are_cheap() -> None:
    fake = FakeRuntime()
    began = time.perf_counter()
    for index in range(5000):
        box = await fake.create_sandbox(sandbox(f"u{index}"))
        container = await fake.create_container(box, ContainerConfig("web", "pause"))
        await fake.start_container(container)
    assert len(fake.running()) == 5000
    assert time.perf_counter() - began < 5  # well under a millisecond each
    await fake.close()
    assert fake.running() == []
