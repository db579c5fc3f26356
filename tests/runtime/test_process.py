"""The process runtime's container lifecycle: create, start, exit, stop, remove."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import psutil
import pytest

from minikube_py.runtime.images.store import ImageStore
from minikube_py.runtime.process import ProcessRuntime
from minikube_py.runtime.protocol import ContainerConfig, ContainerError, SandboxConfig

from .process_helpers import (
    collect,
    finished,
    no_leftovers,
    python,
    run,
    runtime,
    sandbox,
    wait_for_log,
)

__all__ = ["no_leftovers", "runtime", "sandbox"]  # fixtures used by name


async def test_pause_runs_until_stopped_and_exits_completed(
    runtime: ProcessRuntime, sandbox: str
) -> None:
    container = await run(runtime, sandbox, ContainerConfig(name="pause", image="pause"))
    status = await runtime.container_status(container)
    assert status.state == "running" and status.pid is not None
    assert status.image_id.startswith("sha256:") and status.started_at is not None
    leader = psutil.Process(status.pid)
    assert os.getpgid(status.pid) == status.pid  # its own process group (and session)
    assert leader.cwd().endswith("/rootfs")
    await wait_for_catching_sigterm(status.pid)
    await runtime.stop_container(container, 10)
    status = await runtime.container_status(container)
    assert (status.state, status.exit_code, status.reason, status.signal) == (
        "exited",
        0,
        "Completed",
        None,
    )
    assert status.finished_at is not None and status.pid is None


async def wait_for_catching_sigterm(pid: int) -> None:
    """Until the process has installed its SIGTERM handler (a signal before it would kill)."""
    async with asyncio.timeout(10):
        while True:
            status = Path(f"/proc/{pid}/status").read_text()  # noqa: ASYNC240 - /proc is fast
            for line in status.splitlines():
                if line.startswith("SigCgt:") and int(line.split()[1], 16) & (1 << 14):
                    return
            await asyncio.sleep(0.01)


@pytest.mark.parametrize(
    ("code", "exit_code", "signal_number", "reason"),
    [
        ("pass", 0, None, "Completed"),
        ("import sys; sys.exit(3)", 3, None, "Error"),
        ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", 137, 9, "Error"),
        ("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", 139, 11, "Error"),
    ],
)
async def test_exit_codes_and_signals(
    runtime: ProcessRuntime,
    sandbox: str,
    code: str,
    exit_code: int,
    signal_number: int | None,
    reason: str,
) -> None:
    status = await finished(runtime, await run(runtime, sandbox, python(code)))
    assert (status.state, status.exit_code, status.signal, status.reason) == (
        "exited",
        exit_code,
        signal_number,
        reason,
    )


async def test_termination_message_is_read_and_capped(
    runtime: ProcessRuntime, sandbox: str
) -> None:
    # The program finds the file at its container path under $MINIKUBE_PY_ROOT.
    code = (
        "import os\n"
        "path = os.environ['MINIKUBE_PY_ROOT'] + '/dev/termination-log'\n"
        "open(path, 'w').write('bye ' * 2000)\n"
        "raise SystemExit(1)\n"
    )
    status = await finished(runtime, await run(runtime, sandbox, python(code)))
    assert status.message is not None and status.message.startswith("bye bye")
    assert len(status.message) == 4096
    # A relative path from the workdir "/" lands in the root's tmp/: the file it names.
    custom = python(
        "open('tmp/msg', 'w').write('custom')", name="custom", termination_message_path="/tmp/msg"
    )
    status = await finished(runtime, await run(runtime, sandbox, custom))
    assert (status.message, status.reason) == ("custom", "Completed")
    silent = await finished(runtime, await run(runtime, sandbox, python("pass", name="silent")))
    assert silent.message is None


async def test_stop_waits_for_a_handled_sigterm(runtime: ProcessRuntime, sandbox: str) -> None:
    code = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *a: sys.exit(7))\n"
        "print('ready', flush=True)\n"
        "time.sleep(30)\n"
    )
    container = await run(runtime, sandbox, python(code))
    await wait_for_log(runtime, container, "ready")
    await asyncio.wait_for(runtime.stop_container(container, 10), 5)
    status = await runtime.container_status(container)
    assert (status.exit_code, status.signal, status.reason) == (7, None, "Error")


async def test_stop_kills_after_the_grace_period_when_sigterm_is_ignored(
    runtime: ProcessRuntime, sandbox: str
) -> None:
    code = (
        "import signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ready', flush=True)\n"
        "time.sleep(30)\n"
    )
    container = await run(runtime, sandbox, python(code))
    await wait_for_log(runtime, container, "ready")
    loop = asyncio.get_running_loop()
    started = loop.time()
    await runtime.stop_container(container, 0.3)
    took = loop.time() - started
    status = await runtime.container_status(container)
    assert (status.exit_code, status.signal, status.reason) == (137, 9, "Error")
    assert 0.3 <= took < 3


async def test_leftover_processes_die_with_the_leader(
    runtime: ProcessRuntime, sandbox: str
) -> None:
    code = (
        "import os, signal, sys, time\n"
        "if os.fork() == 0:\n"
        "    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "    print(os.getpid(), flush=True)\n"
        "    time.sleep(60)\n"
        "    os._exit(0)\n"
        "time.sleep(0.2)\n"
    )
    container = await run(runtime, sandbox, python(code))
    status = await finished(runtime, container)
    assert status.exit_code == 0
    grandchild = int(runtime.log_path(container).read_text().split()[-1])
    assert not psutil.pid_exists(grandchild)  # killed and reaped, not a zombie


async def test_unknown_image_fails_with_err_image_pull(
    runtime: ProcessRuntime, sandbox: str
) -> None:
    with pytest.raises(ContainerError) as raised:
        await runtime.create_container(sandbox, ContainerConfig(name="x", image="no-such:1"))
    assert raised.value.reason == "ErrImagePull"
    assert "minikube-py image build" in raised.value.message
    with pytest.raises(ContainerError) as raised:
        await runtime.pull_image("UPPER/Case")
    assert raised.value.reason == "InvalidImageName"
    assert await runtime.pull_image("python:3.12") == await runtime.pull_image("python")


async def test_missing_executable_is_a_start_error(runtime: ProcessRuntime, sandbox: str) -> None:
    config = ContainerConfig(name="x", image="python", command=["no-such-program", "arg"])
    container = await runtime.create_container(sandbox, config)
    with pytest.raises(ContainerError) as raised:
        await runtime.start_container(container)
    assert raised.value.reason == "RunContainerError"
    assert raised.value.message.endswith(
        'unable to start container process: exec: "no-such-program": executable file not '
        "found in $PATH: unknown"
    )
    status = await runtime.container_status(container)
    assert (status.state, status.exit_code, status.reason) == ("exited", 128, "StartError")
    assert status.started_at == 0.0  # upstream leaves it unset: 1970 in pod status
    assert status.message == raised.value.message


async def test_an_image_without_a_command_cannot_be_created(
    runtime: ProcessRuntime, sandbox: str
) -> None:
    runtime.images.add("example.com/empty:1", {"data.txt": b"x"}, {"Entrypoint": [], "Cmd": []})
    with pytest.raises(ContainerError) as raised:
        await runtime.create_container(
            sandbox, ContainerConfig(name="e", image="example.com/empty:1")
        )
    assert raised.value.reason == "CreateContainerError"
    assert raised.value.message.endswith("no command specified")


async def test_remove_keeps_the_log_until_the_sandbox_goes(
    runtime: ProcessRuntime, sandbox: str, tmp_path: Path
) -> None:
    first = await run(runtime, sandbox, python("print('first attempt')", attempt=0))
    await finished(runtime, first)
    with pytest.raises(ContainerError) as raised:  # one name and attempt, one container
        await runtime.create_container(sandbox, python("pass", attempt=0))
    assert "is reserved for" in raised.value.message
    root = runtime.log_path(first)
    await runtime.remove_container(first)
    assert runtime.log_path(first) == root and "first attempt" in root.read_text()
    assert not (tmp_path / "pods" / "default_web_uid-1" / "containers" / "main-0").exists()
    with pytest.raises(ContainerError) as raised:
        await runtime.container_status(first)
    assert raised.value.reason == "NotFound"
    running = await run(runtime, sandbox, ContainerConfig(name="pause", image="pause"))
    await runtime.remove_sandbox(sandbox)  # stops what still runs
    assert not (tmp_path / "pods" / "default_web_uid-1").exists()
    with pytest.raises(ContainerError):
        runtime.log_path(first)
    with pytest.raises(ContainerError):
        await runtime.container_status(running)


async def test_close_stops_everything(runtime: ProcessRuntime, sandbox: str) -> None:
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    containers = [await run(runtime, sandbox, python(code, name=f"c{i}")) for i in range(3)]
    pids = [(await runtime.container_status(c)).pid for c in containers]
    await asyncio.wait_for(runtime.close(), 5)
    assert not any(pid is not None and psutil.pid_exists(pid) for pid in pids)
    for container in containers:
        assert (await runtime.container_status(container)).exit_code == 137
    with pytest.raises(ContainerError):
        await runtime.create_sandbox(
            SandboxConfig("u", "n", "p", "127.0.0.1", "p", Path("/nonexistent"))
        )


def test_the_runtime_works_on_uvloop(no_leftovers: None, tmp_path: Path) -> None:
    """The CLI runs the cluster on uvloop: spawning, exit codes, exec and close work there."""
    uvloop = pytest.importorskip("uvloop")

    async def scenario() -> tuple[int | None, int, bytes]:
        runtime = ProcessRuntime(tmp_path / "rt", ImageStore(tmp_path / "images"))
        try:
            pod = await runtime.create_sandbox(
                SandboxConfig("u", "default", "p", "127.244.0.9", "p", tmp_path / "pod")
            )
            code = "import os, signal, time; os.fork() or time.sleep(60); raise SystemExit(4)"
            container = await run(runtime, pod, python(code))
            exited = await finished(runtime, container)
            pause = await run(runtime, pod, ContainerConfig(name="pause", image="pause"))
            session = await runtime.exec(pause, ["sh", "-c", "echo hi; exit 5"])
            chunks, code_ = await collect(session)
            return exited.exit_code, code_, chunks[1]
        finally:
            await runtime.close()

    assert uvloop.run(scenario()) == (4, 5, b"hi\n")


async def test_a_program_the_kernel_cannot_run_is_a_start_error(
    runtime: ProcessRuntime, sandbox: str
) -> None:
    runtime.images.add("example.com/bad:1", {"bin/bad": b"\x7fELF garbage"}, {"Cmd": ["/bin/bad"]})
    container = await runtime.create_container(
        sandbox, ContainerConfig(name="bad", image="example.com/bad:1")
    )
    with pytest.raises(ContainerError) as raised:
        await runtime.start_container(container)
    assert raised.value.message.endswith('exec: "/bin/bad": exec format error: unknown')
    assert (await runtime.container_status(container)).reason == "StartError"
