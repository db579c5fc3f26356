"""Watches: history replay, then live events, in strict revision order.

A watch is how Kubernetes components learn about change: list once, then watch from the
list's revision. Here a watch has two phases:

1. *Replay*: events after ``from_revision`` up to the revision the hub had delivered when the
   watch began, read from the ``events`` table a page at a time.
2. *Live*: events the writer hands to the in-process ``WatchHub`` — pushed, never polled —
   which appends each to the buffer of every watch whose prefix matches.

A watch registers with the hub *before* it replays, so nothing falls between the two phases.
The hub never waits for a consumer: a watch whose buffer passes ``max_pending`` events is
ended with ``WatchOverflow`` (its consumer lists again), so one slow watcher cannot hold up
writers or other watchers. Watches are grouped by prefix, so fan-out costs one prefix test per
distinct prefix plus one append per interested watcher.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType

from minikube_py.logs import get_logger
from minikube_py.store.errors import Expired, StoreError, WatchOverflow
from minikube_py.store.records import WatchEvent

_REPLAY_PAGE = 1000
_log = get_logger("store")

# Reads events under a prefix in (after, upto], at most N: (events, compacted revision)
ReadEvents = Callable[[str, int, int, int], Awaitable[tuple[list[WatchEvent], int]]]


class WatchHub:
    """Fans events out to the live watches of one process; runs on the event loop."""

    def __init__(self, *, delivered: int, max_pending: int) -> None:
        self.delivered = delivered
        self.max_pending = max_pending
        self._by_prefix: dict[str, set[SqlWatch]] = {}

    def add(self, watch: SqlWatch) -> None:
        self._by_prefix.setdefault(watch.prefix, set()).add(watch)

    def remove(self, watch: SqlWatch) -> None:
        group = self._by_prefix.get(watch.prefix)
        if group is not None:
            group.discard(watch)
            if not group:
                del self._by_prefix[watch.prefix]

    def publish(self, events: list[WatchEvent], history_lost: bool) -> None:
        if history_lost:
            # Revisions we never saw were compacted: nobody can be told the truth any more.
            self.fail_all(Expired(self.delivered, compacted=self.delivered + 1))
            return
        for prefix, group in list(self._by_prefix.items()):
            matching = [event for event in events if event.key.startswith(prefix)]
            if matching:
                for watch in list(group):
                    watch.push(matching)
        self.delivered = events[-1].revision

    def fail_all(self, error: StoreError | None) -> None:
        for group in list(self._by_prefix.values()):
            for watch in list(group):
                watch.end(error)

    @property
    def watch_count(self) -> int:
        return sum(len(group) for group in self._by_prefix.values())


class SqlWatch:
    """One consumer's stream; see the module docstring for its two phases."""

    def __init__(
        self, hub: WatchHub, read_events: ReadEvents, *, prefix: str, from_revision: int
    ) -> None:
        self.prefix = prefix
        self._hub = hub
        self._read_events = read_events
        self._cursor = from_revision  # newest revision handed to the consumer
        self._replay_cursor = from_revision  # newest revision read back from history
        self._replay_upto = hub.delivered
        self._replayed: deque[WatchEvent] = deque()
        self._live: deque[WatchEvent] = deque()
        self._wake = asyncio.Event()
        self._error: StoreError | None = None
        self._ended = False
        hub.add(self)

    def push(self, events: list[WatchEvent]) -> None:
        self._live.extend(events)
        if len(self._live) > self._hub.max_pending:
            _log.warning("watch overflow", prefix=self.prefix, pending=len(self._live))
            self.end(WatchOverflow(self.prefix, len(self._live)))
        self._wake.set()

    def end(self, error: StoreError | None = None) -> None:
        if not self._ended:
            self._ended, self._error = True, error
            self._live.clear()
            self._hub.remove(self)
            self._wake.set()

    def close(self) -> None:
        self.end(None)

    def __aiter__(self) -> SqlWatch:
        return self

    async def __anext__(self) -> WatchEvent:
        while True:
            if self._ended:
                if self._error is not None:
                    raise self._error
                raise StopAsyncIteration
            if self._replayed:
                return self._hand_out(self._replayed.popleft())
            if self._replay_cursor < self._replay_upto:
                await self._replay_page()
                continue
            while self._live:
                event = self._live.popleft()
                if event.revision > self._cursor:
                    return self._hand_out(event)
            self._wake.clear()
            await self._wake.wait()

    def _hand_out(self, event: WatchEvent) -> WatchEvent:
        self._cursor = event.revision
        return event

    async def _replay_page(self) -> None:
        after = self._replay_cursor
        try:
            events, compacted = await self._read_events(
                self.prefix, after, self._replay_upto, _REPLAY_PAGE
            )
        except StoreError as error:
            self.end(error)
            return
        if after < compacted:
            self.end(Expired(after, compacted))
            return
        self._replayed.extend(events)
        full = len(events) == _REPLAY_PAGE
        self._replay_cursor = events[-1].revision if full else self._replay_upto

    async def __aenter__(self) -> SqlWatch:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
