"""Closing a container's log and its descriptors: once, by their owner, whatever happened.

A ``serve`` once hung 30 s at SIGTERM on ``OSError: [Errno 9] Bad file descriptor`` from
``LogWriter.close()`` in ``supervise``: a start cancelled on uvloop while its pipes were handed
to the loop left a file object that still believed it owned a pipe descriptor libuv had
closed; when it was finalized it closed whatever file had that number by then, a log. These
tests make each step of that story happen on purpose.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from minikube_py.runtime.images.store import ImageStore
from minikube_py.runtime.logfiles import LogWriter, parse_line
from minikube_py.runtime.process import ProcessRuntime
from minikube_py.runtime.protocol import SandboxConfig
from minikube_py.runtime.terminal import open_terminal, write_terminal

from .process_helpers import finished, no_leftovers, python, run

__all__ = ["no_leftovers"]

SLEEPER = "import time; print('up', flush=True); time.sleep(60)"


def descriptors_of(path: Path) -> list[int]:
    """This process's descriptors open on ``path``."""
    found = []
    for entry in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{entry}") == str(path):
                found.append(int(entry))
        except OSError:  # the listing's own descriptor, gone already
            continue
    return found


def steal(path: Path) -> None:
    """Close the descriptor a writer holds on ``path`` behind its back, as a stale owner of
    the same number would."""
    [descriptor] = descriptors_of(path)
    os.close(descriptor)


def test_close_is_idempotent_and_survives_a_descriptor_closed_by_someone_else(
    tmp_path: Path,
) -> None:
    log = tmp_path / "0.log"
    writer = LogWriter(log, max_bytes=10**6)
    writer.write("stdout", b"kept\nunfinished")
    steal(log)
    writer.write("stdout", b" more\n")  # fails inside: that output is dropped, not raised
    writer.close()
    writer.close()
    writer.write("stderr", b"after the end\n")  # a reader still draining: ignored
    assert writer.closed
    assert [parse_line(line).content for line in log.read_bytes().splitlines()] == [b"kept"]  # type: ignore[union-attr]


@contextlib.asynccontextmanager
async def bounded(tmp_path: Path) -> AsyncIterator[tuple[ProcessRuntime, str]]:
    """A runtime and a sandbox; closing it fails after 10 s instead of hanging, since what
    these tests break is what a close waits for."""
    opened = ProcessRuntime(tmp_path / "rt", ImageStore(tmp_path / "images"))
    try:
        pod = await opened.create_sandbox(
            SandboxConfig("u", "default", "p", "127.244.0.9", "p", tmp_path / "pod")
        )
        yield opened, pod
    finally:
        async with asyncio.timeout(10):
            await opened.close()


async def test_the_exit_is_recorded_when_the_log_cannot_be_closed(
    no_leftovers: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_close(self: LogWriter) -> None:
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))

    monkeypatch.setattr(LogWriter, "close", failing_close)
    async with bounded(tmp_path) as (runtime, pod):
        container = await run(runtime, pod, python(SLEEPER))
        # stop_container waits for the recorded exit: this used to wait forever
        async with asyncio.timeout(10):
            await runtime.stop_container(container, 5)
        status = await runtime.container_status(container)
        assert (status.state, status.exit_code) == ("exited", 143)


async def test_a_stolen_log_descriptor_does_not_hold_the_stop(
    no_leftovers: None, tmp_path: Path
) -> None:
    async with bounded(tmp_path) as (runtime, pod):
        container = await run(runtime, pod, python(SLEEPER))
        log = runtime.log_path(container)
        async with asyncio.timeout(10):
            while b"up" not in log.read_bytes():  # noqa: ASYNC110 - the runtime has no log event
                await asyncio.sleep(0.01)
        steal(log)
        async with asyncio.timeout(10):
            await runtime.stop_container(container, 5)
        assert (await finished(runtime, container)).exit_code == 143


def test_a_start_cancelled_midway_closes_no_other_file(no_leftovers: None, tmp_path: Path) -> None:
    """The serve's story, on uvloop as ``serve`` runs: a start is cancelled at its first wait
    (while its pipes are handed to the loop); a file opened right after gets the lowest free
    number, which is one of those pipes' if the start abandoned them half-owned; after a
    garbage collection that file must still be open, and no process of the start is left."""
    uvloop = pytest.importorskip("uvloop")

    async def scenario() -> None:
        runtime = ProcessRuntime(tmp_path / "rt", ImageStore(tmp_path / "images"))
        try:
            pod = await runtime.create_sandbox(
                SandboxConfig("u", "default", "p", "127.244.0.9", "p", tmp_path / "pod")
            )
            container = await runtime.create_container(pod, python(SLEEPER))
            start = asyncio.ensure_future(runtime.start_container(container))
            await asyncio.sleep(0)  # the start runs to its first wait
            start.cancel()
            with pytest.raises(asyncio.CancelledError):
                await start
            del start
            victim = open(tmp_path / "victim.log", "ab", buffering=0)  # noqa: SIM115, ASYNC230
            for _ in range(5):  # let the abandoned start finish, if it goes on
                await asyncio.sleep(0.01)
            gc.collect()
            await asyncio.sleep(0.01)
            os.fstat(victim.fileno())  # EBADF if a stale owner closed its number
            victim.write(b"still mine\n")
            victim.close()  # what failed in LogWriter.close()
        finally:
            await runtime.close()

    uvloop.run(scenario())
    assert (tmp_path / "victim.log").read_bytes() == b"still mine\n"


async def test_typing_stops_when_the_terminal_is_closed_meanwhile(tmp_path: Path) -> None:
    """A write waiting on a full terminal must not go on into the file that gets the
    master's number after its owner closed it."""
    master, slave = open_terminal()
    try:
        is_open = True
        typing = asyncio.ensure_future(
            write_terminal(master, b"x" * 1_000_000, is_open=lambda: is_open)
        )
        await asyncio.sleep(0)  # its first step fills the terminal's input buffer, then waits
        assert not typing.done()
        is_open = False
        os.close(master)
        other = open(tmp_path / "other", "ab", buffering=0)  # noqa: SIM115, ASYNC230
        try:
            async with asyncio.timeout(5):
                await typing
            assert (tmp_path / "other").read_bytes() == b""
        finally:
            other.close()
    finally:
        os.close(slave)
