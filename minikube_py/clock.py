"""An injectable clock: every time-dependent decision of a component reads one.

Kubelets (crash-loop back-off, probes), controllers (``minReadySeconds``, progress deadlines,
CronJob schedules) and the node lifecycle all decide by the time. Each takes a ``Clock``
instead of calling ``time`` directly: ``SystemClock`` in a running cluster, ``FakeClock`` in
tests, which moves only when a test calls ``advance`` — so a five-minute back-off or a
ten-minute schedule runs in milliseconds, and exactly.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol


class Clock(Protocol):
    """Wall-clock seconds (``time.time()`` values) and sleeping on the same time line."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...

    async def sleep_until(self, moment: float) -> None:
        """Until the clock reads ``moment``: unlike ``sleep(moment - now())``, time that passes
        before the sleep begins is not slept again."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    async def sleep_until(self, moment: float) -> None:
        await self.sleep(moment - self.now())


class FakeClock:
    """A clock that moves only when told to: ``advance`` wakes the sleepers that are due."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        await self.sleep_until(self._now + seconds)

    async def sleep_until(self, moment: float) -> None:
        if moment <= self._now:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (moment, next(self._order), future))
        await future

    def advance(self, seconds: float) -> None:
        self._now += seconds
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)
