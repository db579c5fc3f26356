"""Usage sampling: each container's CPU seconds and memory, measured from /proc."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from minikube_py.runtime.images.store import ImageStore
from minikube_py.runtime.process import ProcessRuntime
from minikube_py.runtime.usage import Usage, measure

from .process_helpers import finished, no_leftovers, python, run, sandbox, wait_for_log

__all__ = ["no_leftovers", "sandbox"]

MiB = 1024 * 1024
_ALLOCATE = (
    "import sys; data = b'x' * (64 * 1024 * 1024); print('ready', flush=True); sys.stdin.read()"
)


@pytest.fixture
async def runtime(no_leftovers: None, tmp_path: Path) -> AsyncIterator[ProcessRuntime]:
    opened = ProcessRuntime(
        tmp_path / "runtime",
        ImageStore(tmp_path / "images"),
        memory_poll_interval=0.02,
        usage_interval=0.05,
    )
    try:
        yield opened
    finally:
        await opened.close()


async def _sample(
    runtime: ProcessRuntime, container: str, *, after: float, cpu: float = 0.0
) -> Usage:
    """The first sample taken after the moment ``after`` (``time.time()``) that shows at
    least ``cpu`` seconds."""
    async with asyncio.timeout(10):
        while True:
            usage = runtime.usage(container)
            if usage is not None and usage.sampled_at > after and usage.cpu_seconds >= cpu:
                return usage
            # Polled: the sampler runs on its own schedule and signals nothing.
            await asyncio.sleep(0.01)


async def test_a_busy_container_shows_growing_cpu_seconds(
    runtime: ProcessRuntime, sandbox: str
) -> None:
    container = await run(runtime, sandbox, python("while True: pass"))
    first = await _sample(runtime, container, after=0)
    later = await _sample(runtime, container, after=first.sampled_at, cpu=first.cpu_seconds + 0.2)
    # At most a core's worth between two samples: the time is the container's own.
    elapsed = later.sampled_at - first.sampled_at
    assert 0.2 <= later.cpu_seconds - first.cpu_seconds <= elapsed + 0.1
    await runtime.stop_container(container, 0)
    await finished(runtime, container)
    assert runtime.usage(container) is None  # sampled while it runs, as a metrics API shows


async def test_memory_matches_an_allocation_without_any_limit(
    runtime: ProcessRuntime, sandbox: str
) -> None:
    container = await run(runtime, sandbox, python(_ALLOCATE, stdin=True))
    await wait_for_log(runtime, container, "ready")
    ready = await _sample(runtime, container, after=0)
    usage = await _sample(runtime, container, after=ready.sampled_at)
    # 64 MiB of touched pages plus the interpreter itself (about 10 MiB).
    assert 64 * MiB <= usage.memory_bytes <= 100 * MiB
    assert runtime.memory_usage(container) is not None
    await runtime.stop_container(container, 0)


def test_measure_sums_a_session_and_never_lets_cpu_go_back() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", _ALLOCATE],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,  # its own session, as a container's leader
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == b"ready\n"
        usage = measure({"c": (process.pid,), "gone": (2**22 + 1,)}, now=42.0)
        assert usage["c"].sampled_at == 42.0
        assert 64 * MiB <= usage["c"].memory_bytes <= 100 * MiB
        assert 0 < usage["c"].cpu_seconds < 5
        assert usage["gone"] == Usage(cpu_seconds=0.0, memory_bytes=0, sampled_at=42.0)
        kept = measure({"c": (process.pid,)}, now=43.0, previous={"c": Usage(1e6, 0, 42.0)})
        assert kept["c"].cpu_seconds == 1e6
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(5)
