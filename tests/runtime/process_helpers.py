"""Fixtures and helpers for the process runtime's tests.

``runtime`` is a ``ProcessRuntime`` on a fresh image store; it is closed after the test, and
``no_leftovers`` then checks that no process the test started (container, grandchild,
supervisor, zombie) is still a descendant of the test process.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Collection, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from minikube_py.runtime.images.store import ImageStore
from minikube_py.runtime.process import ProcessRuntime
from minikube_py.runtime.protocol import ContainerConfig, ContainerStatus, SandboxConfig
from tests.processes import describe


def descendants(outside: Collection[int] = ()) -> set[int]:
    """This process's descendants, not counting the subtrees of the processes in ``outside``
    (another fixture's long-lived server and the pods it restarts are not this test's)."""
    found: set[int] = set()
    pending = [psutil.Process()]
    while pending:
        try:
            children = pending.pop().children()
        except psutil.NoSuchProcess:
            continue
        for child in children:
            if child.pid not in outside:
                found.add(child.pid)
                pending.append(child)
    return found


@pytest.fixture
def no_leftovers() -> Iterator[None]:
    before = descendants()
    yield
    deadline = time.monotonic() + 3
    while (left := descendants(before)) and time.monotonic() < deadline:
        time.sleep(0.02)
    described = []
    for pid in left:
        try:
            described.append(describe(psutil.Process(pid)))
            psutil.Process(pid).kill()  # by pid, and only what this test left behind
        except psutil.NoSuchProcess:
            continue
    assert not described, "left behind:\n" + "\n".join(described)


@pytest.fixture
async def runtime(no_leftovers: None, tmp_path: Path) -> AsyncIterator[ProcessRuntime]:
    opened = ProcessRuntime(
        tmp_path / "runtime", ImageStore(tmp_path / "images"), memory_poll_interval=0.02
    )
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def sandbox(runtime: ProcessRuntime, tmp_path: Path) -> str:
    return await runtime.create_sandbox(
        SandboxConfig(
            uid="uid-1",
            namespace="default",
            name="web",
            ip="127.244.0.7",
            hostname="web",
            directory=tmp_path / "pods" / "default_web_uid-1",
        )
    )


def python(code: str, *, name: str = "main", **options: Any) -> ContainerConfig:
    """A container of the ``python`` image running ``code``."""
    return ContainerConfig(name=name, image="python", args=[sys.executable, "-c", code], **options)


async def run(runtime: ProcessRuntime, sandbox: str, config: ContainerConfig) -> str:
    container = await runtime.create_container(sandbox, config)
    await runtime.start_container(container)
    return container


async def finished(runtime: ProcessRuntime, container: str, within: float = 10) -> ContainerStatus:
    return await asyncio.wait_for(runtime.wait_container(container), within)


def log_lines(path: Path) -> list[tuple[str, str, str]]:
    """(stream, tag, text) of each line of a CRI log file."""
    lines = []
    for line in path.read_text().splitlines():
        _, stream, tag, *text = line.split(" ", 3)
        lines.append((stream, tag, text[0] if text else ""))
    return lines


async def wait_for_log(runtime: ProcessRuntime, container: str, text: str) -> None:
    """Until ``text`` appears in the container's log (the program says it is ready)."""
    path = runtime.log_path(container)
    async with asyncio.timeout(10):
        # Polled: the log file is written by the runtime, which offers no event for it.
        while not (path.exists() and text in path.read_text()):  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def collect(session: object) -> tuple[dict[int, bytes], int]:
    """All output of an exec session per stream, and its exit code."""
    chunks: dict[int, bytes] = {1: b"", 2: b""}
    async with asyncio.timeout(10):
        async for stream, data in session.output():  # type: ignore[attr-defined]
            chunks[stream] += data
        code = await session.wait()  # type: ignore[attr-defined]
    return chunks, code
