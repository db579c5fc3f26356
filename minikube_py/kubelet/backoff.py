"""The backoff that spaces out the kubelet's retries.

A kubelet retries two things that keep failing: restarting a crashing container (the
``CrashLoopBackOff`` a user sees) and pulling an image that cannot be had
(``ImagePullBackOff``). Both use client-go's ``flowcontrol.Backoff``: the first retry waits
the initial delay (10 s), each further one twice as long, up to a cap (5 min); an entry whose
last failure is older than the reset window (10 min, twice the cap) starts over at 10 s again.

Every time-dependent decision reads a ``Clock`` (``minikube_py.clock``), never ``time``
directly, so tests run a five-minute crash loop in milliseconds with a ``FakeClock`` they
advance by hand.
"""

from __future__ import annotations

import attrs

from minikube_py.clock import Clock


@attrs.define
class _Entry:
    delay: float
    last_update: float


class Backoff:
    """Per-key exponential backoff, as client-go's ``flowcontrol.Backoff``."""

    def __init__(
        self, clock: Clock, *, initial: float = 10.0, maximum: float = 300.0, reset: float = 600.0
    ) -> None:
        self.clock = clock
        self.initial = initial
        self.maximum = maximum
        self.reset = reset
        self._entries: dict[str, _Entry] = {}

    def next(self, key: str, event_time: float) -> float:
        """Record a retry at ``event_time``; the delay the following one must wait."""
        entry = self._entries.get(key)
        if entry is None or event_time - entry.last_update > self.reset:
            entry = self._entries[key] = _Entry(self.initial, event_time)
        else:
            entry.delay = min(entry.delay * 2, self.maximum)
            entry.last_update = event_time
        return entry.delay

    def delay(self, key: str) -> float:
        """The current delay of ``key`` (0 if it has none)."""
        entry = self._entries.get(key)
        return entry.delay if entry is not None else 0.0

    def remaining_since(self, key: str, event_time: float) -> float:
        """Seconds still to wait counted from ``event_time`` (a container's exit); 0 if none.
        As upstream's ``IsInBackOffSince``: the delay runs from the failure itself."""
        entry = self._entries.get(key)
        if entry is None or self.clock.now() - entry.last_update > self.reset:
            return 0.0
        return max(0.0, event_time + entry.delay - self.clock.now())

    def remaining_since_update(self, key: str) -> float:
        """Seconds still to wait counted from the last ``next`` (an image pull's failure)."""
        entry = self._entries.get(key)
        if entry is None:
            return 0.0
        return self.remaining_since(key, entry.last_update)

    def forget(self, prefix: str) -> None:
        """Drop every entry of a pod (its keys start with its uid) once it is gone."""
        for key in [k for k in self._entries if k.startswith(prefix)]:
            del self._entries[key]


def go_duration(seconds: float) -> str:
    """A duration as Go prints one, truncated to milliseconds: ``10s``, ``5m0s``, ``1.5s``."""
    total_ms = int(seconds * 1000)
    if total_ms == 0:
        return "0s"
    if total_ms < 1000:
        return f"{total_ms}ms"
    minutes, rest_ms = divmod(total_ms, 60_000)
    hours, minutes = divmod(minutes, 60)
    whole, fraction = divmod(rest_ms, 1000)
    text = f"{whole}" + (f".{fraction:03d}".rstrip("0") if fraction else "") + "s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    return f"{minutes}m{text}" if minutes else text
