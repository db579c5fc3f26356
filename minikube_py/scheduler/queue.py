"""The scheduling queue: which pending pod gets the next scheduling cycle, and when.

Three places a pending pod can be, as in kube-scheduler:

- **active**: ready to try now, ordered by ``spec.priority`` (higher first), then by arrival;
- **backoff**: tried and failed recently; it waits 1 s, then 2 s, 4 s … up to 10 s per
  consecutive failure before it is active again;
- **unschedulable**: failed and nothing has changed since. A cluster event that might make it
  fit (a node added or updated, a pod deleted) moves it back: to backoff if its wait is not
  over, else to active.

The queue holds pod keys (``namespace/name``) and the latest pod object; it never sleeps. Time
comes from an injected clock, so tests step time by hand; the scheduler asks ``next_ready_in()``
how long to wait and ``pop()`` for the next pod.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Object = dict[str, Any]
Clock = Callable[[], float]


@dataclass
class _Entry:
    pod: Object
    attempts: int = 0
    backoff_until: float = 0.0


def pod_key(pod: Object) -> str:
    meta = pod["metadata"]
    return f"{meta.get('namespace', 'default')}/{meta['name']}"


class SchedulingQueue:
    def __init__(
        self,
        clock: Clock = time.monotonic,
        *,
        initial_backoff: float = 1.0,
        max_backoff: float = 10.0,
    ) -> None:
        self._clock = clock
        self._initial = initial_backoff
        self._max = max_backoff
        self._entries: dict[str, _Entry] = {}
        self._active: list[tuple[int, int, str]] = []  # (-priority, arrival, key) heap
        self._active_keys: set[str] = set()
        self._backoff: set[str] = set()
        self._unschedulable: set[str] = set()
        self._arrival = itertools.count()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def add(self, pod: Object) -> None:
        """A new or changed pending pod. A change to a parked pod retries it (upstream too)."""
        key = pod_key(pod)
        entry = self._entries.get(key)
        if entry is None:
            self._entries[key] = _Entry(pod)
            self._activate(key)
            return
        entry.pod = pod
        if key in self._unschedulable:
            self._unschedulable.discard(key)
            self._park_or_activate(key)

    def delete(self, key: str) -> None:
        """The pod was deleted or bound: forget it wherever it is (heap entries go lazily)."""
        self._entries.pop(key, None)
        self._active_keys.discard(key)
        self._backoff.discard(key)
        self._unschedulable.discard(key)

    def pop(self) -> Object | None:
        """The next pod to schedule now, or None if none is ready."""
        self._flush_backoff()
        while self._active:
            _, _, key = heapq.heappop(self._active)
            if key in self._active_keys:
                self._active_keys.discard(key)
                entry = self._entries[key]
                entry.attempts += 1
                return entry.pod
        return None

    def done(self, key: str) -> None:
        """The pod was scheduled: drop it."""
        self.delete(key)

    def failed(self, key: str) -> None:
        """The pod did not fit: park it as unschedulable with its next backoff deadline."""
        entry = self._entries.get(key)
        if entry is None:
            return
        delay = min(self._initial * 2 ** max(entry.attempts - 1, 0), self._max)
        entry.backoff_until = self._clock() + delay
        self._unschedulable.add(key)

    def move_all_to_active_or_backoff(self) -> None:
        """A cluster event (node added/updated, pod deleted) may let parked pods fit."""
        parked, self._unschedulable = self._unschedulable, set()
        for key in parked:
            self._park_or_activate(key)

    def next_ready_in(self) -> float | None:
        """Seconds until a backed-off pod becomes active; 0 if one is active; None if never."""
        self._flush_backoff()
        if self._active_keys:
            return 0.0
        if not self._backoff:
            return None
        now = self._clock()
        return max(0.0, min(self._entries[k].backoff_until for k in self._backoff) - now)

    def pending(self) -> dict[str, list[str]]:
        """Where each pod is, for tests and the dashboard."""
        return {
            "active": sorted(self._active_keys),
            "backoff": sorted(self._backoff),
            "unschedulable": sorted(self._unschedulable),
        }

    def _park_or_activate(self, key: str) -> None:
        if self._entries[key].backoff_until > self._clock():
            self._backoff.add(key)
        else:
            self._activate(key)

    def _activate(self, key: str) -> None:
        if key in self._active_keys:
            return
        priority = int((self._entries[key].pod.get("spec") or {}).get("priority") or 0)
        heapq.heappush(self._active, (-priority, next(self._arrival), key))
        self._active_keys.add(key)

    def _flush_backoff(self) -> None:
        now = self._clock()
        ready = [k for k in self._backoff if self._entries[k].backoff_until <= now]
        for key in ready:
            self._backoff.discard(key)
            self._activate(key)
