"""Attaching to a running container: its own output from now on, and its stdin.

``kubectl attach`` (and ``kubectl run -i``) connect to the container's main process rather
than start a new one. The runtime's output pumps hand every chunk they log to each attached
session as well, so an attachment sees stdout (stream 1) and stderr (stream 2) as they come,
from the moment it attached, until the container exits or the session detaches (``kill``;
the container goes on running). Its stdin is the container's stdin pipe, which exists only
when the container asked for it (``stdin: true``); ``close_stdin`` closes it only for a
``stdinOnce`` container, as upstream, so that ``echo hi | kubectl run -i … -- cat`` ends.
A container with ``tty: true`` has a pseudo-terminal instead: the attachment types into it,
``resize`` sizes it, closing stdin types Ctrl-D, and its output is all stream 1.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from .containers import Container
from .protocol import ContainerError
from .terminal import END_OF_INPUT, resize_terminal, write_terminal


class Attachment:
    """An ``ExecSession`` bound to a running container's own streams."""

    def __init__(self, container: Container, *, stdin: bool) -> None:
        if stdin and not container.config.stdin:
            raise ContainerError(
                "BadRequest", f"container {container.config.name} does not have stdin enabled"
            )
        self._container = container
        self._stdin = stdin
        self._queue: asyncio.Queue[tuple[int, bytes] | None] = asyncio.Queue()
        container.listeners.add(self._queue)
        self._detached = asyncio.Event()

    def _pipe(self) -> asyncio.StreamWriter | None:
        leader = self._container.leader
        if not self._stdin or leader is None or self._detached.is_set():
            return None
        pipe = leader.process.stdin
        return None if pipe is None or pipe.is_closing() else pipe

    def _terminal(self) -> int | None:
        return None if self._detached.is_set() else self._container.terminal

    async def write_stdin(self, data: bytes) -> None:
        terminal = self._terminal()
        if terminal is not None:
            if self._stdin:
                # asked before each write: the container may end (and its master's number be
                # reused) while this waits on a full input buffer
                await write_terminal(terminal, data, is_open=lambda: self._terminal() == terminal)
            return
        pipe = self._pipe()
        if pipe is not None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                pipe.write(data)
                await pipe.drain()

    async def close_stdin(self) -> None:
        if not self._container.config.stdin_once:
            return  # the container's stdin stays open for the next attach
        if self._terminal() is not None:
            await self.write_stdin(END_OF_INPUT)
        elif (pipe := self._pipe()) is not None:
            pipe.close()

    async def resize(self, width: int, height: int) -> None:
        terminal = self._terminal()
        if terminal is not None:
            resize_terminal(terminal, width, height)

    async def output(self) -> AsyncIterator[tuple[int, bytes]]:
        if self._container.exited.is_set():
            return
        while (item := await self._queue.get()) is not None:
            yield item

    async def wait(self) -> int:
        """The container's exit code once it ends, or 0 after a detach."""
        ended = asyncio.ensure_future(self._container.exited.wait())
        detached = asyncio.ensure_future(self._detached.wait())
        try:
            await asyncio.wait({ended, detached}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ended.cancel()
            detached.cancel()
        code = self._container.exit_code
        return code if self._container.exited.is_set() and code is not None else 0

    async def kill(self) -> None:
        """Detach: the container goes on running, this session's output ends."""
        if not self._detached.is_set():
            self._detached.set()
            self._container.listeners.discard(self._queue)
            self._queue.put_nowait(None)
