"""Test helpers: a fake clock that knows who sleeps on it, and waiting for a condition.

A ``FakeClock`` moves only when told; a test that advances it must then let the woken tasks
run until they are asleep again before it looks at the outcome. With API calls in between
(an in-process client commits to SQLite off the event loop) no fixed number of loop turns is
enough, so ``SteppingClock`` counts its sleepers and ``step`` waits until the expected number
sleep again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from minikube_py.clock import FakeClock

WAIT = 10.0  # real seconds any single wait may take before the test fails


class SteppingClock(FakeClock):
    """A ``FakeClock`` that counts the tasks sleeping on it; one woken by ``advance`` no longer
    counts, even before it runs, so ``settle`` cannot mistake it for one asleep again."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        super().__init__(start)
        self._due: dict[object, float] = {}

    @property
    def sleeping(self) -> int:
        return len(self._due)

    async def sleep_until(self, moment: float) -> None:
        token = object()
        if moment > self.now():
            self._due[token] = moment
        try:
            await super().sleep_until(moment)
        finally:
            self._due.pop(token, None)

    def advance(self, seconds: float) -> None:
        super().advance(seconds)
        for token, moment in list(self._due.items()):
            if moment <= self.now():
                del self._due[token]

    async def settle(self, sleepers: int) -> None:
        """Until exactly ``sleepers`` tasks sleep on this clock."""
        await eventually(lambda: self.sleeping == sleepers, f"{sleepers} sleepers")

    async def step(self, seconds: float, *, sleepers: int, by: float = 0.5) -> None:
        """Advance ``seconds`` in increments of ``by``, settling after each."""
        moved = 0.0
        while moved < seconds - 1e-9:
            increment = min(by, seconds - moved)
            self.advance(increment)
            moved += increment
            await self.settle(sleepers)


async def eventually(
    check: Callable[[], Any] | Callable[[], Awaitable[Any]], what: str, seconds: float = WAIT
) -> Any:
    """Poll ``check`` (plain or async) until it returns something true; fail after ``seconds``."""
    try:
        async with asyncio.timeout(seconds):
            while True:
                result = check()
                if asyncio.iscoroutine(result):
                    result = await result
                if result:
                    return result
                await asyncio.sleep(0.001)
    except TimeoutError:
        pytest.fail(f"timed out waiting for {what}")


async def turns(count: int = 5) -> None:
    """Let the event loop run ``count`` times (for asserting that nothing happens)."""
    for _ in range(count):
        await asyncio.sleep(0)
