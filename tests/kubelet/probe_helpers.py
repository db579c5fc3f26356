"""Fakes for the probe tests: a clock whose time moves only when told, and a runtime whose
``exec`` answers from a script instead of running processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any


async def settle(rounds: int = 50) -> None:
    """Let every task that can run do so, until all wait on the clock again."""
    for _ in range(rounds):
        await asyncio.sleep(0)


class FakeClock:
    """``clock()`` and ``sleep()`` for the probers; ``advance`` wakes sleepers in order."""

    def __init__(self) -> None:
        self.now = 100.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + seconds, future))
        await future

    async def advance(self, seconds: float) -> None:
        target = self.now + seconds
        await settle()
        while True:
            due = [entry for entry in self._sleepers if entry[0] <= target]
            if not due:
                break
            self.now = min(deadline for deadline, _ in due)
            for entry in [e for e in due if e[0] <= self.now]:
                self._sleepers.remove(entry)
                if not entry[1].done():
                    entry[1].set_result(None)
            await settle()
        self.now = target


class ScriptedSession:
    def __init__(self, code: int, output: bytes, hang: bool) -> None:
        self.code, self.data, self.hang = code, output, hang
        self.killed = asyncio.Event()

    async def write_stdin(self, data: bytes) -> None:
        raise NotImplementedError

    async def close_stdin(self) -> None:
        return None

    async def resize(self, width: int, height: int) -> None:
        return None

    async def output(self) -> AsyncIterator[tuple[int, bytes]]:
        if self.data:
            yield 1, self.data
        if self.hang:
            await self.killed.wait()

    async def wait(self) -> int:
        if self.hang:
            await self.killed.wait()
            return 137
        return self.code

    async def kill(self) -> None:
        self.killed.set()


class ScriptedRuntime:
    """Only ``exec``: ``script(command) -> (exit code, output)``; ``hang`` never finishes."""

    def __init__(self, script: Callable[[Sequence[str]], tuple[int, bytes]]) -> None:
        self.script = script
        self.commands: list[list[str]] = []
        self.hang = False

    async def exec(
        self, container_id: str, command: Sequence[str], *, stdin: bool = False, tty: bool = False
    ) -> ScriptedSession:
        self.commands.append(list(command))
        code, output = self.script(command)
        return ScriptedSession(code, output, self.hang)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(name)
