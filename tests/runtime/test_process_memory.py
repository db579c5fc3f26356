"""Memory limits: a container past its limit is killed and reported as OOMKilled (137)."""

from __future__ import annotations

import asyncio
import sys

from minikube_py.runtime.process import ProcessRuntime

from .process_helpers import finished, no_leftovers, python, run, runtime, sandbox

__all__ = ["no_leftovers", "runtime", "sandbox"]

MiB = 1024 * 1024


async def test_a_container_over_its_memory_limit_is_oom_killed(
    runtime: ProcessRuntime, sandbox: str
) -> None:
    # Touch every page (a bytes multiplication writes them), 10 MiB at a time.
    code = (
        "import time\n"
        "chunks = []\n"
        "for _ in range(20):\n"
        "    chunks.append(b'x' * (10 * 1024 * 1024))\n"
        "    time.sleep(0.02)\n"
        "time.sleep(30)\n"
    )
    container = await run(runtime, sandbox, python(code, memory_limit=50 * MiB))
    status = await finished(runtime, container)
    assert (status.exit_code, status.signal, status.reason) == (137, 9, "OOMKilled")
    usage = runtime.memory_usage(container)
    assert usage is None  # no longer sampled once it ended


async def test_a_container_within_its_limit_is_sampled_not_killed(
    runtime: ProcessRuntime, sandbox: str
) -> None:
    code = (
        "import time; data = b'x' * (5 * 1024 * 1024); print('ready', flush=True); time.sleep(0.5)"
    )
    container = await run(runtime, sandbox, python(code, memory_limit=200 * MiB))
    status = await finished(runtime, container)
    assert (status.exit_code, status.reason) == (0, "Completed")


async def test_usage_is_sampled_while_running(runtime: ProcessRuntime, sandbox: str) -> None:
    code = "import time; data = b'x' * (20 * 1024 * 1024); time.sleep(30)"
    container = await run(runtime, sandbox, python(code, memory_limit=500 * MiB))
    async with asyncio.timeout(5):
        while (runtime.memory_usage(container) or 0) < 20 * MiB:  # noqa: ASYNC110 - sampled
            await asyncio.sleep(0.01)
    await runtime.stop_container(container, 0)


async def test_exec_sessions_count_into_the_container_memory(
    runtime: ProcessRuntime, sandbox: str
) -> None:
    container = await run(
        runtime, sandbox, python("import time; time.sleep(30)", memory_limit=60 * MiB)
    )
    hog = "import time; data = b'x' * (100 * 1024 * 1024); time.sleep(30)"
    session = await runtime.exec(container, [sys.executable, "-c", hog])
    status = await finished(runtime, container)
    assert (status.exit_code, status.reason) == (137, "OOMKilled")
    assert await asyncio.wait_for(session.wait(), 5) == 137  # it ended with its container
