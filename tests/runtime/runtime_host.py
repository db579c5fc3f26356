"""A program hosting a ProcessRuntime, for the hygiene test that SIGKILLs it.

It starts a container whose command forks a grandchild that ignores SIGTERM, a pause
container and an exec session with a background job, prints the pids involved as one JSON
line, and then waits to be killed.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from minikube_py.runtime.images.store import ImageStore
from minikube_py.runtime.process import ProcessRuntime
from minikube_py.runtime.protocol import ContainerConfig, SandboxConfig

FORKER = """
import os, signal, time
if os.fork() == 0:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print('grandchild', os.getpid(), flush=True)
    time.sleep(120)
    os._exit(0)
time.sleep(120)
"""


async def main(directory: Path) -> None:
    runtime = ProcessRuntime(directory / "runtime", ImageStore(directory / "images"))
    pod = await runtime.create_sandbox(
        SandboxConfig("u", "default", "host", "127.244.0.5", "host", directory / "pod")
    )
    forker = await runtime.create_container(
        pod, ContainerConfig(name="forker", image="python", args=[sys.executable, "-c", FORKER])
    )
    await runtime.start_container(forker)
    pause = await runtime.create_container(pod, ContainerConfig(name="pause", image="pause"))
    await runtime.start_container(pause)
    session = await runtime.exec(pause, ["sh", "-c", "sleep 120 & echo $!; sleep 120"])
    exec_job = b""
    async for _, data in session.output():
        exec_job += data
        if exec_job.endswith(b"\n"):
            break
    log = runtime.log_path(forker)
    while not (log.exists() and b"grandchild" in log.read_bytes()):  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    grandchild = int(log.read_text().split()[-1])
    pids = {
        "host": os.getpid(),
        "supervisor": runtime.supervisor_pid,
        "containers": [
            (await runtime.container_status(forker)).pid,
            (await runtime.container_status(pause)).pid,
            grandchild,
            session.pid,
            int(exec_job),
        ],
    }
    print(json.dumps(pids), flush=True)
    await asyncio.sleep(120)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
