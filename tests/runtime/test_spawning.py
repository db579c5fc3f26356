"""The fast start path: vfork + setpriv for plain programs, spawn_leader for anything else."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from minikube_py.runtime import spawning
from minikube_py.runtime.process import ProcessRuntime
from minikube_py.runtime.protocol import ContainerConfig

from .process_helpers import finished, log_lines, no_leftovers, python, run, runtime, sandbox

__all__ = ["no_leftovers", "runtime", "sandbox"]

pytestmark = pytest.mark.skipif(spawning.SETPRIV is None, reason="setpriv is not installed")


def _script(path: Path, text: str) -> str:
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


def test_only_programs_the_kernel_will_plainly_run_take_the_fast_path(tmp_path: Path) -> None:
    assert spawning.plainly_executable(sys.executable)
    assert spawning.plainly_executable(_script(tmp_path / "ok", "#!/bin/sh\necho hi\n"))
    assert not spawning.plainly_executable(_script(tmp_path / "elf", "\x7fELF garbage"))
    assert not spawning.plainly_executable(_script(tmp_path / "none", "#!/no/such/sh\n"))
    assert not spawning.plainly_executable(_script(tmp_path / "text", "echo no shebang\n"))
    (tmp_path / "plain").write_text("#!/bin/sh\n")  # not executable
    assert not spawning.plainly_executable(str(tmp_path / "plain"))
    assert not spawning.plainly_executable(str(tmp_path / "missing"))


async def test_a_fast_started_container_is_its_own_session_and_logs_both_streams(
    runtime: ProcessRuntime, sandbox: str
) -> None:
    code = "import os, sys; print(os.getsid(0) == os.getpid()); print('err', file=sys.stderr)"
    container = await run(runtime, sandbox, python(code))
    status = await finished(runtime, container)
    assert (status.exit_code, status.reason) == (0, "Completed")
    lines = log_lines(runtime.log_path(container))
    assert ("stdout", "F", "True") in lines
    assert ("stderr", "F", "err") in lines


async def test_a_fast_started_container_killed_by_a_signal_reports_it(
    runtime: ProcessRuntime, sandbox: str
) -> None:
    container = await run(runtime, sandbox, python("import time; time.sleep(60)"))
    pid = (await runtime.container_status(container)).pid
    assert pid is not None and os.getsid(pid) == pid
    await runtime.stop_container(container, 0)
    status = await finished(runtime, container)
    assert (status.exit_code, status.signal, status.reason) == (137, 9, "Error")


async def test_a_container_with_stdin_still_starts_through_spawn_leader(
    runtime: ProcessRuntime, sandbox: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []
    real = spawning.spawn_piped

    async def counting(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("minikube_py.runtime.running.spawn_piped", counting)
    config = ContainerConfig(
        name="main", image="python", args=[sys.executable, "-c", "pass"], stdin=True
    )
    container = await run(runtime, sandbox, config)
    assert (await finished(runtime, container)).exit_code == 0
    assert calls == []
