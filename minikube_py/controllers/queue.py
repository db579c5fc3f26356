"""The work queue: object keys waiting for a controller's reconcile, as client-go's workqueue.

Informer event handlers do not act; they put the key of the object that needs attention
(``"namespace/name"``) in a queue, and a controller's workers take keys out one at a time.
Three promises make that safe and cheap:

- **De-duplication.** A key waiting is waiting once, however many events named it: ten
  changes to one Deployment in a burst cost one reconcile, which reads the latest state.
- **One at a time per key.** A key taken by a worker is *processing* until the worker calls
  ``done(key)``. Added again meanwhile, it is only marked *dirty*, and goes back in the queue
  at ``done`` — so a key is never reconciled by two workers at once, yet the change that
  arrived mid-reconcile is not lost.
- **Later, and backing off.** ``add_after`` brings a key back after a delay (a requeue, a
  deadline), measured on an injectable ``Clock``; ``add_rate_limited`` does so after a per-key
  delay that doubles with each failure (5 ms, 10 ms, … up to 1000 s, the per-item part of
  client-go's default controller rate limiter) until ``forget`` says the key succeeded.

``shut_down`` stops the queue: ``get`` hands out what is still queued, then raises
``QueueShutDown`` so the workers end.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Protocol

from minikube_py.clock import Clock, SystemClock


class QueueShutDown(Exception):
    """``get`` on a queue that is shut down and empty: the worker should exit."""


class RateLimiter(Protocol):
    """How long a key waits before its next try, given its failures so far."""

    def when(self, key: str) -> float: ...

    def forget(self, key: str) -> None: ...

    def requeues(self, key: str) -> int: ...


class ItemExponentialBackoff:
    """``base * 2**failures`` seconds, capped: client-go's ItemExponentialFailureRateLimiter."""

    def __init__(self, base: float = 0.005, cap: float = 1000.0) -> None:
        self.base = base
        self.cap = cap
        self._failures: dict[str, int] = {}

    def when(self, key: str) -> float:
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        if failures > 62:  # as client-go: past any cap, and no need for huge integers
            return self.cap
        return min(self.base * (1 << failures), self.cap)

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)

    def requeues(self, key: str) -> int:
        return self._failures.get(key, 0)


class WorkQueue:
    """A de-duplicating, delaying, rate-limited queue of keys for one controller's workers."""

    def __init__(self, *, clock: Clock | None = None, rate_limiter: RateLimiter | None = None):
        self.clock: Clock = clock or SystemClock()
        self.rate_limiter: RateLimiter = rate_limiter or ItemExponentialBackoff()
        self._queue: deque[str] = deque()  # the order keys are handed out in
        self._dirty: set[str] = set()  # keys that need a reconcile (queued, or re-added)
        self._processing: set[str] = set()  # keys a worker holds
        self._getters: deque[asyncio.Future[None]] = deque()
        self._waiting: dict[str, float] = {}  # add_after: key -> when it is due
        self._timers: set[asyncio.Task[None]] = set()
        self._shutting_down = False

    def __len__(self) -> int:
        """Keys queued for a worker (not those being processed or waiting for their time)."""
        return len(self._queue)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    # -- now ------------------------------------------------------------------------------

    def add(self, key: str) -> None:
        """Mark ``key`` as needing a reconcile; no-op if it already waits (or we shut down)."""
        if self._shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        if key in self._processing:
            return  # done(key) queues it again, so no two workers hold one key
        self._queue.append(key)
        self._wake_one()

    async def get(self) -> str:
        """The next key, waiting for one; raises ``QueueShutDown`` once shut down and empty."""
        while not self._queue:
            if self._shutting_down:
                raise QueueShutDown("the work queue is shut down")
            getter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._getters.append(getter)
            try:
                await getter
            except asyncio.CancelledError:
                if getter.done() and not getter.cancelled():
                    self._wake_one()  # we were woken for a key we will not take: pass it on
                raise
        key = self._queue.popleft()
        self._processing.add(key)
        self._dirty.discard(key)
        return key

    def done(self, key: str) -> None:
        """The worker finished ``key``; if it was added meanwhile, it is queued again."""
        self._processing.discard(key)
        if key in self._dirty:
            self._queue.append(key)
            self._wake_one()

    def shut_down(self) -> None:
        """Stop accepting keys and timers; waiting ``get`` calls raise ``QueueShutDown``."""
        self._shutting_down = True
        for timer in self._timers:
            timer.cancel()
        self._waiting.clear()
        while self._getters:
            getter = self._getters.popleft()
            if not getter.done():
                getter.set_result(None)

    def _wake_one(self) -> None:
        while self._getters:
            getter = self._getters.popleft()
            if not getter.done():
                getter.set_result(None)
                return

    # -- later ----------------------------------------------------------------------------

    def add_after(self, key: str, seconds: float) -> None:
        """``add(key)`` once ``seconds`` have passed on the clock; the earliest time wins."""
        if self._shutting_down:
            return
        if seconds <= 0:
            self.add(key)
            return
        due = self.clock.now() + seconds
        if key in self._waiting and self._waiting[key] <= due:
            return  # already coming back sooner
        self._waiting[key] = due
        timer = asyncio.get_running_loop().create_task(self._add_when_due(key, due))
        self._timers.add(timer)
        timer.add_done_callback(self._timers.discard)

    async def _add_when_due(self, key: str, due: float) -> None:
        await self.clock.sleep_until(due)
        if self._waiting.get(key) == due:  # not superseded by an earlier add_after
            del self._waiting[key]
            self.add(key)

    def add_rate_limited(self, key: str) -> None:
        """Bring ``key`` back after its back-off: 5 ms, doubling per failure, up to 1000 s."""
        self.add_after(key, self.rate_limiter.when(key))

    def forget(self, key: str) -> None:
        """``key`` succeeded: its next failure backs off from the start again."""
        self.rate_limiter.forget(key)

    def requeues(self, key: str) -> int:
        """How many times ``key`` was rate-limited since it was last forgotten."""
        return self.rate_limiter.requeues(key)
