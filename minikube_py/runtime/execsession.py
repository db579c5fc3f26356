"""Exec sessions: a command run in a container's context, with its streams (``kubectl exec``).

The runtime resolves the command as it resolves a container's (PATH under the root, absolute
paths rewritten) and starts it with the container's working directory and environment, as the
leader of a session of its own, registered with the reaper like a container. Two shapes:

- without a terminal, stdout and stderr are separate pipes (streams 1 and 2), and stdin is a
  pipe when asked for — ``close_stdin`` closes it, which is how ``kubectl cp``'s ``tar xf -``
  learns that the archive ended;
- with ``tty``, the command gets a pseudo-terminal as stdin, stdout and stderr and as its
  controlling terminal, so output is merged on stream 1, line editing and ``isatty()`` work,
  ``resize`` sets the window size (TIOCSWINSZ, which also sends SIGWINCH), and ``close_stdin``
  types the end-of-file character (Ctrl-D), as a terminal user would.

When the command exits, whatever it left running in its session is killed and reaped (upstream
would leave it running in the container until the container stops; here it could not be found
again). The exit code is the process's, or 128 + the signal number that ended it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path

from .hygiene import Leader, clear_session, kill_session, spawn_leader
from .reaper import Reaper
from .terminal import (
    END_OF_INPUT,
    TerminalReader,
    resize_terminal,
    spawn_on_terminal,
    write_terminal,
)

DRAIN_TIMEOUT = 1.0  # how long output may keep coming after the command and its session ended
DRAIN_TURNS = 10  # ... and in how many waits of the event loop, at least
_End = None  # marks the end of one stream in the output queue


def exit_code(returncode: int) -> int:
    """asyncio's returncode (negative for a signal) as a container exit code."""
    return 128 - returncode if returncode < 0 else returncode


async def drain(readers: Sequence[asyncio.Future[None]]) -> set[asyncio.Future[None]]:
    """Wait for output readers to reach their end once a command and its session are over;
    return those still reading after ``DRAIN_TIMEOUT`` (an escaped process holds the pipe).

    The time is waited in ``DRAIN_TURNS`` slices, each started after the one before ended: an
    event loop that was itself held up past one deadline (a loaded machine, a long garbage
    collection) polls its descriptors before the next, so output written before the command
    ended is read, not cut off by a deadline that passed while nothing could run."""
    pending = {reader for reader in readers if not reader.done()}
    for _ in range(DRAIN_TURNS):
        if not pending:
            break
        _, pending = await asyncio.wait(pending, timeout=DRAIN_TIMEOUT / DRAIN_TURNS)
    return pending


class ProcessExecSession:
    """``ExecSession`` over a process started by ``start_exec``."""

    def __init__(self, leader: Leader, reaper: Reaper, *, master: int | None) -> None:
        self.pid = leader.pid
        self._leader = leader
        process = self._process = leader.process
        self._reaper = reaper
        self._master = master
        self._master_open = master is not None  # closed once, by ``_finish``
        self._queue: asyncio.Queue[tuple[int, bytes] | None] = asyncio.Queue()
        self._streams = 1 if master is not None else 2
        self._readers: list[asyncio.Future[None]] = []
        loop = asyncio.get_running_loop()
        if master is not None:
            terminal = TerminalReader(master, lambda data: self._queue.put_nowait((1, data)))
            terminal.closed.add_done_callback(lambda _: self._queue.put_nowait(_End))
            self._terminal: TerminalReader | None = terminal
            self._readers = [terminal.closed]
        else:
            assert process.stdout is not None and process.stderr is not None
            self._terminal = None
            self._readers = [
                loop.create_task(self._read_pipe(1, process.stdout)),
                loop.create_task(self._read_pipe(2, process.stderr)),
            ]
        self._finished: asyncio.Task[int] = loop.create_task(self._finish())

    def add_done_callback(self, callback: Callable[[ProcessExecSession], None]) -> None:
        self._finished.add_done_callback(lambda _: callback(self))

    async def _read_pipe(self, stream: int, reader: asyncio.StreamReader) -> None:
        try:
            while data := await reader.read(65536):
                try:
                    if stream == 1:
                        # stderr first when both pipes were ready together: a program
                        # complains before the output that follows (tar's "Cannot stat" before
                        # its archive's end), and a client that stops at the end of stdout
                        # (kubectl cp) would otherwise miss the complaint
                        await asyncio.sleep(0)
                finally:  # read is delivered, even if the drain's end cancels us meanwhile
                    self._queue.put_nowait((stream, data))
        finally:
            self._queue.put_nowait(_End)

    async def _finish(self) -> int:
        returncode = await self._leader.exited
        await clear_session(self.pid)
        self._reaper.unregister(self.pid)
        pending = await drain(self._readers)
        if self._terminal is not None:
            self._terminal.stop()  # ends the output even if an escaped process holds the slave
        if self._master is not None and self._master_open:
            self._master_open = False  # first: a write waiting on a full buffer must stop
            os.close(self._master)
        for reader in pending:  # a process that left the session still holds the pipe
            reader.cancel()
        self._leader.transport.close()
        return exit_code(returncode)

    def _typing(self) -> bool:
        return self._master_open

    async def write_stdin(self, data: bytes) -> None:
        if self._master is not None:
            await write_terminal(self._master, data, is_open=self._typing)
            return
        stdin = self._process.stdin
        if stdin is None or stdin.is_closing():
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            stdin.write(data)
            await stdin.drain()

    async def close_stdin(self) -> None:
        if self._master is not None:
            await self.write_stdin(END_OF_INPUT)
        elif self._process.stdin is not None and not self._process.stdin.is_closing():
            self._process.stdin.close()

    async def resize(self, width: int, height: int) -> None:
        if self._master is not None and self._master_open:
            resize_terminal(self._master, width, height)

    async def output(self) -> AsyncIterator[tuple[int, bytes]]:
        ended = 0
        while ended < self._streams:
            item = await self._queue.get()
            if item is _End:
                ended += 1
            else:
                yield item

    async def wait(self) -> int:
        return await asyncio.shield(self._finished)

    async def kill(self) -> None:
        if not self._finished.done():
            kill_session(self.pid)


async def start_exec(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    stdin: bool,
    tty: bool,
    reaper: Reaper,
) -> ProcessExecSession:
    """Start ``argv`` (already resolved) as the leader of a new session; see the docstring."""
    if tty:
        leader, master = await spawn_on_terminal(argv, cwd=cwd, env=env)
        reaper.register(leader.pid)
        return ProcessExecSession(leader, reaper, master=master)
    leader = await spawn_leader(
        argv,
        stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=cwd,
        env=env,
    )
    reaper.register(leader.pid)
    return ProcessExecSession(leader, reaper, master=None)
