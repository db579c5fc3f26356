"""The scheduling queue: which pending pod gets the next scheduling cycle, and when.

Three places a pending pod can be, as in kube-scheduler:

- **active**: ready to try now, ordered by ``spec.priority`` (higher first), then by arrival;
- **backoff**: tried and failed recently; it waits 1 s, then 2 s, 4 s … up to 10 s per
  consecutive failure before it is active again;
- **unschedulable**: failed and nothing has changed since. A cluster event that might make it
  fit (a node added or updated, a pod deleted) moves it back: to backoff if its wait is not
  over, else to active. A pod parked there for 5 minutes is retried anyway (upstream's
  ``podMaxInUnschedulablePodsDuration``), in case an event was missed.

Which changes count as such events is decided at the end of this module, as upstream's
queueing hints do in small: a pod's own status-only update, or a node's heartbeat, does not.

The queue holds pod keys (``namespace/name``) and the latest pod object; it never sleeps. Time
comes from an injected clock, so tests step time by hand; the scheduler asks ``next_ready_in()``
how long to wait and ``pop()`` for the next pod.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .nodeinfo import pod_key as pod_key  # re-exported: the queue's key

Object = dict[str, Any]
Clock = Callable[[], float]


@dataclass
class _Entry:
    pod: Object
    attempts: int = 0
    backoff_until: float = 0.0
    parked_at: float = 0.0


class SchedulingQueue:
    def __init__(
        self,
        clock: Clock = time.monotonic,
        *,
        initial_backoff: float = 1.0,
        max_backoff: float = 10.0,
        max_unschedulable: float = 300.0,
    ) -> None:
        self._clock = clock
        self._initial = initial_backoff
        self._max = max_backoff
        self._max_unschedulable = max_unschedulable
        self._next_scan = math.inf  # when the longest-parked pod is due for a retry
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

    def add(self, pod: Object, *, activate: bool = True) -> None:
        """A new or changed pending pod. A change to a parked pod retries it (upstream too),
        unless ``activate`` is False: a status-only change cannot make it fit."""
        key = pod_key(pod)
        entry = self._entries.get(key)
        if entry is None:
            self._entries[key] = _Entry(pod)
            self._activate(key)
            return
        entry.pod = pod
        if activate and key in self._unschedulable:
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
        now = self._clock()
        entry.backoff_until = now + delay
        entry.parked_at = now
        self._unschedulable.add(key)
        self._next_scan = min(self._next_scan, now + self._max_unschedulable)

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
        deadlines = [self._entries[k].backoff_until for k in self._backoff]
        if self._unschedulable:
            deadlines.append(self._next_scan)
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - self._clock())

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
        if self._backoff:
            ready = [k for k in self._backoff if self._entries[k].backoff_until <= now]
            for key in ready:
                self._backoff.discard(key)
                self._activate(key)
        if now >= self._next_scan:  # a scan walks every parked pod: only when one is due
            limit = now - self._max_unschedulable
            stale = [k for k in self._unschedulable if self._entries[k].parked_at <= limit]
            for key in stale:
                self._unschedulable.discard(key)
                self._park_or_activate(key)
            oldest = min((self._entries[k].parked_at for k in self._unschedulable), default=None)
            self._next_scan = math.inf if oldest is None else oldest + self._max_unschedulable


# -- which changes can make a parked pod fit ------------------------------------------


def spec_changed(old: Object, new: Object) -> bool:
    """Upstream's isPodUpdated: a change beyond status and bookkeeping may make a pod fit."""
    old_meta, new_meta = old.get("metadata") or {}, new.get("metadata") or {}
    return old.get("spec") != new.get("spec") or any(
        old_meta.get(field) != new_meta.get(field)
        for field in ("labels", "annotations", "ownerReferences", "deletionTimestamp")
    )


def node_changed_for_scheduling(old: Object, new: Object) -> bool:
    """Upstream requeues on changes to allocatable, labels, taints, the cordon or conditions."""
    old_status, new_status = old.get("status") or {}, new.get("status") or {}
    return (
        old.get("spec") != new.get("spec")
        or (old.get("metadata") or {}).get("labels") != (new.get("metadata") or {}).get("labels")
        or old_status.get("allocatable") != new_status.get("allocatable")
        or _condition_statuses(old_status) != _condition_statuses(new_status)
    )


def _condition_statuses(status: Object) -> dict[str, str]:
    return {c.get("type", ""): c.get("status", "") for c in status.get("conditions") or []}
