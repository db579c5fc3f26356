"""Attach: a running container's own output from now on, and its stdin."""

from __future__ import annotations

import asyncio

import pytest

from minikube_py.runtime.process import ProcessRuntime
from minikube_py.runtime.protocol import ContainerConfig, ContainerError

from .process_helpers import (
    collect,
    log_lines,
    no_leftovers,
    python,
    run,
    runtime,
    sandbox,
    wait_for_log,
)

__all__ = ["no_leftovers", "runtime", "sandbox"]

ECHO = (
    "import sys\n"
    "print('ready', flush=True)\n"
    "for line in sys.stdin:\n"
    "    print('got', line.strip(), flush=True)\n"
    "    print('err', line.strip(), file=sys.stderr, flush=True)\n"
    "raise SystemExit(6)\n"
)


async def test_attach_writes_stdin_and_reads_new_output(
    runtime: ProcessRuntime, sandbox: str
) -> None:
    container = await run(runtime, sandbox, python(ECHO, stdin=True, stdin_once=True))
    await wait_for_log(runtime, container, "ready")
    session = await runtime.attach(container, stdin=True)
    await session.write_stdin(b"one\n")
    await session.write_stdin(b"two\n")
    await session.close_stdin()  # stdinOnce: the container's stdin closes, the loop ends
    chunks, code = await collect(session)
    assert code == 6
    assert b"ready" not in chunks[1]  # only what came after attaching
    assert chunks[1] == b"got one\ngot two\n" and chunks[2] == b"err one\nerr two\n"


async def test_detaching_leaves_the_container_running(
    runtime: ProcessRuntime, sandbox: str
) -> None:
    container = await run(runtime, sandbox, python(ECHO, stdin=True))
    await wait_for_log(runtime, container, "ready")
    session = await runtime.attach(container, stdin=True)
    await session.close_stdin()  # not stdinOnce: the container's stdin stays open
    await session.kill()
    chunks, code = await collect(session)
    assert (chunks, code) == ({1: b"", 2: b""}, 0)
    await asyncio.sleep(0)
    assert (await runtime.container_status(container)).state == "running"
    again = await runtime.attach(container, stdin=True)
    await again.write_stdin(b"three\n")
    async with asyncio.timeout(5):
        async for stream, data in again.output():
            assert (stream, data) == (1, b"got three\n")
            break
    await runtime.stop_container(container, 0)


async def test_attach_to_stdin_needs_a_container_with_stdin(
    runtime: ProcessRuntime, sandbox: str
) -> None:
    container = await run(runtime, sandbox, ContainerConfig(name="pause", image="pause"))
    with pytest.raises(ContainerError) as raised:
        await runtime.attach(container, stdin=True)
    assert raised.value.reason == "BadRequest"
    watching = await runtime.attach(container)  # output only is fine
    await runtime.stop_container(container, 0)
    chunks, code = await collect(watching)
    assert code == 137 and chunks == {1: b"", 2: b""}  # the container's own exit code


async def test_a_tty_container_gets_a_terminal_to_attach_to(
    runtime: ProcessRuntime, sandbox: str
) -> None:
    code = (
        "import os, sys\n"
        "print('ready', os.isatty(0), os.isatty(1), flush=True)\n"
        "line = sys.stdin.readline()\n"
        "size = os.get_terminal_size(1)\n"
        "print('size', size.columns, size.lines, 'line', line.strip(), flush=True)\n"
        "print('on stderr', file=sys.stderr, flush=True)\n"
    )
    config = python(code, stdin=True, stdin_once=True, tty=True)
    container = await run(runtime, sandbox, config)
    await wait_for_log(runtime, container, "ready True True")
    session = await runtime.attach(container, stdin=True, tty=True)
    await session.resize(120, 40)
    await session.write_stdin(b"hello\n")
    chunks, code_ = await collect(session)
    assert code_ == 0
    assert b"size 120 40 line hello" in chunks[1] and b"on stderr" in chunks[1]
    assert chunks[2] == b""
    lines = log_lines(runtime.log_path(container))
    assert ("stdout", "F", "on stderr") in lines  # a terminal's output is logged as stdout
    assert all(stream == "stdout" for stream, _, _ in lines)
