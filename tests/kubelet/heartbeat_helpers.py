"""A clock for the heartbeat tests (node status, lease) whose sleeps end only on request."""

from __future__ import annotations

import asyncio

from tests.client.helpers import bounded


class Ticker:
    """A clock and a sleep that returns only when the test lets it: each ``tick`` moves the
    time by the slept seconds and wakes the sleeper."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept: list[float] = []
        self._waiting: asyncio.Queue[asyncio.Future[None]] = asyncio.Queue()
        self._changed = asyncio.Condition()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.slept.append(seconds)
        await self._waiting.put(future)
        async with self._changed:
            self._changed.notify_all()
        await future

    async def asleep(self, count: int) -> None:
        """Wait until ``count`` sleeps have begun."""
        async with self._changed:
            await bounded(self._changed.wait_for(lambda: len(self.slept) >= count))

    async def tick(self) -> float:
        """Wait for the next sleep, end it; returns how long it was."""
        future = await bounded(self._waiting.get())
        self.now += self.slept[-1]
        future.set_result(None)
        return self.slept[-1]
