"""Exec: commands in a container's context, with stdin, exit codes, a terminal, and tar."""

from __future__ import annotations

import io
import sys
import tarfile
from pathlib import Path

import pytest

from minikube_py.runtime.process import ProcessRuntime
from minikube_py.runtime.protocol import ContainerConfig, ContainerError

from .process_helpers import collect, finished, no_leftovers, python, run, runtime, sandbox

__all__ = ["no_leftovers", "runtime", "sandbox"]


async def pause(runtime: ProcessRuntime, sandbox: str) -> str:
    return await run(runtime, sandbox, ContainerConfig(name="pause", image="pause"))


async def test_exec_with_stdin_and_exit_code(runtime: ProcessRuntime, sandbox: str) -> None:
    container = await pause(runtime, sandbox)
    code = (
        "import os, sys\n"
        "data = sys.stdin.read()\n"
        "sys.stdout.write(data.upper())\n"
        "sys.stderr.write(os.getcwd() + ' ' + os.environ['POD_IP'])\n"
        "sys.exit(3)\n"
    )
    session = await runtime.exec(container, [sys.executable, "-c", code], stdin=True)
    await session.write_stdin(b"hello ")
    await session.write_stdin(b"exec")
    await session.close_stdin()
    chunks, code_ = await collect(session)
    assert code_ == 3
    assert chunks[1] == b"HELLO EXEC"
    root = runtime.log_path(container).parent.parent.parent / "containers" / "pause-0" / "rootfs"
    assert chunks[2] == f"{root} 127.244.0.7".encode()


async def test_exec_reports_a_signal_as_128_plus_n(runtime: ProcessRuntime, sandbox: str) -> None:
    container = await pause(runtime, sandbox)
    session = await runtime.exec(container, ["sh", "-c", "kill -TERM $$"])
    _, code = await collect(session)
    assert code == 143


async def test_exec_kill_ends_the_command(runtime: ProcessRuntime, sandbox: str) -> None:
    container = await pause(runtime, sandbox)
    session = await runtime.exec(container, ["sh", "-c", "sleep 60 & sleep 60"])
    await session.kill()
    _, code = await collect(session)
    assert code == 137


async def test_exec_with_a_terminal(runtime: ProcessRuntime, sandbox: str) -> None:
    container = await pause(runtime, sandbox)
    code = (
        "import os, sys\n"
        "line = sys.stdin.readline()\n"
        "size = os.get_terminal_size(0)\n"
        "print('tty', os.isatty(1), size.columns, size.lines, os.environ['TERM'], line.strip())\n"
        "print('to stderr', file=sys.stderr)\n"
    )
    session = await runtime.exec(container, [sys.executable, "-c", code], stdin=True, tty=True)
    await session.resize(100, 30)
    await session.write_stdin(b"go\n")
    chunks, exit_code = await collect(session)
    assert exit_code == 0
    assert b"tty True 100 30 xterm go" in chunks[1]
    assert b"to stderr" in chunks[1] and chunks[2] == b""  # one merged stream


async def test_exec_tty_end_of_input(runtime: ProcessRuntime, sandbox: str) -> None:
    container = await pause(runtime, sandbox)
    session = await runtime.exec(container, ["cat"], stdin=True, tty=True)
    await session.write_stdin(b"typed\n")
    await session.close_stdin()  # Ctrl-D at the start of a line: end of input for cat
    chunks, exit_code = await collect(session)
    assert exit_code == 0 and chunks[1].count(b"typed") == 2  # the echo, then cat's copy


async def test_exec_resolves_commands_and_paths_in_the_container(
    runtime: ProcessRuntime, sandbox: str
) -> None:
    script = b'#!/bin/sh\necho "tool $1"\ncat "$1"\n'
    runtime.images.add(
        "example.com/tools:1",
        {"opt/bin/tool": script, "data/file.txt": b"inside the image\n"},
        {"Entrypoint": ["sleep"], "Cmd": ["60"], "Env": ["PATH=/opt/bin"], "WorkingDir": "/data"},
    )
    container = await run(
        runtime, sandbox, ContainerConfig(name="tools", image="example.com/tools:1")
    )
    session = await runtime.exec(container, ["tool", "/data/file.txt"])
    chunks, exit_code = await collect(session)
    assert exit_code == 0, chunks
    lines = chunks[1].decode().splitlines()
    assert lines[0].startswith("tool /") and lines[0].endswith("/rootfs/data/file.txt")
    assert lines[1] == "inside the image"
    session = await runtime.exec(container, ["sh", "-c", "pwd; echo $PATH"])
    chunks, _ = await collect(session)
    cwd, path = chunks[1].decode().splitlines()
    assert cwd.endswith("/rootfs/data")
    assert path.split(":")[0].endswith("/rootfs/opt/bin") and path.endswith(":/usr/bin:/bin")
    await runtime.stop_container(container, 0)


async def test_exec_of_a_missing_command_fails_as_upstream(
    runtime: ProcessRuntime, sandbox: str
) -> None:
    container = await pause(runtime, sandbox)
    with pytest.raises(ContainerError) as raised:
        await runtime.exec(container, ["no-such-command"])
    assert raised.value.reason == "InternalError"
    assert raised.value.message.startswith('failed to exec in container: failed to start exec "')
    assert 'exec: "no-such-command": executable file not found in $PATH: unknown' in (
        raised.value.message
    )


async def test_exec_in_a_stopped_container_is_refused(
    runtime: ProcessRuntime, sandbox: str
) -> None:
    container = await run(runtime, sandbox, python("pass"))
    await finished(runtime, container)
    with pytest.raises(ContainerError) as raised:
        await runtime.exec(container, ["true"])
    assert (raised.value.reason, raised.value.message) == (
        "NotFound",
        'container not found ("main")',
    )


async def test_tar_through_exec_copies_files_both_ways(
    runtime: ProcessRuntime, sandbox: str, tmp_path: Path
) -> None:
    """What ``kubectl cp`` does: ``tar xf - -C DIR`` fed on stdin, ``tar cf - FILE`` read."""
    container = await pause(runtime, sandbox)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        data = b"copied in\n" * 1000
        info = tarfile.TarInfo("notes.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    session = await runtime.exec(container, ["tar", "xf", "-", "-C", "/tmp"], stdin=True)
    await session.write_stdin(archive.getvalue())
    await session.close_stdin()
    chunks, exit_code = await collect(session)
    assert exit_code == 0, chunks[2]
    session = await runtime.exec(container, ["tar", "cf", "-", "-C", "/tmp", "notes.txt"])
    chunks, exit_code = await collect(session)
    assert exit_code == 0, chunks[2]
    with tarfile.open(fileobj=io.BytesIO(chunks[1])) as tar:
        member = tar.extractfile("notes.txt")
        assert member is not None and member.read() == data
