"""Memory limits: a watcher that samples each container's memory and kills it past its limit.

On a real node the kernel enforces ``resources.limits.memory`` through the container's cgroup:
an allocation past the limit invokes the OOM killer, the container dies by SIGKILL, and the
kubelet reports ``OOMKilled`` with exit code 137. Without cgroups (they need root), the process
runtime samples instead: every ``interval`` seconds it sums the resident set size of every
process in each container's session and its exec sessions (one pass over ``/proc`` for all
containers) and, past the limit, SIGKILLs the container and reports the same. Sampling means
a fast allocation can overshoot the limit for up to one interval before it is caught; a real
cgroup never lets it. The resident set size is read from ``/proc/<pid>/stat`` in the same pass
that finds the sessions' members (psutil reads the same field but knows no session ids).

CPU limits are not enforced: throttling needs the cgroup cpu controller. They are best effort,
meaning not at all. Each pass also records every container's CPU seconds and memory
(``usage``); containers without a limit are sampled every ``usage_interval`` seconds only,
for a metrics API.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable

import attrs

from ..logs import get_logger
from .hygiene import kill_session
from .usage import Usage, measure

log = get_logger("runtime")


@attrs.define
class _Watched:
    sid: int  # the container's own session; it is what is killed past the limit
    limit: int | None
    execs: set[int] = attrs.field(factory=set)  # exec sessions, counted as in the cgroup


class MemoryWatcher:
    """Samples the memory of registered sessions; see the module docstring.

    ``on_killed(key, rss)`` is called after a session was killed for passing its limit."""

    def __init__(
        self,
        interval: float,
        on_killed: Callable[[str, int], None],
        *,
        usage_interval: float = 10.0,
    ) -> None:
        self.interval = interval
        self.usage_interval = usage_interval
        self._on_killed = on_killed
        self._watched: dict[str, _Watched] = {}
        self._usage: dict[str, Usage] = {}
        self._task: asyncio.Task[None] | None = None

    def watch(self, key: str, sid: int, limit: int | None) -> None:
        """Start sampling session ``sid`` for the container ``key`` (killing it past ``limit``)."""
        self._watched[key] = _Watched(sid, limit)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def add_exec(self, key: str, sid: int) -> None:
        """Count exec session ``sid`` into container ``key``'s memory, as its cgroup would."""
        if key in self._watched:
            self._watched[key].execs.add(sid)

    def remove_exec(self, key: str, sid: int) -> None:
        if key in self._watched:
            self._watched[key].execs.discard(sid)

    def unwatch(self, key: str) -> None:
        self._watched.pop(key, None)
        self._usage.pop(key, None)

    def usage(self, key: str) -> Usage | None:
        """The container's last sample (CPU seconds, bytes of RSS), if it has been sampled."""
        return self._usage.get(key)

    def sample(self) -> None:
        """One pass: measure every watched session, kill those past their limit."""
        groups = {key: (w.sid, *w.execs) for key, w in self._watched.items()}
        self._usage.update(measure(groups, now=time.time(), previous=self._usage))
        for key, watched in list(self._watched.items()):
            rss = self._usage[key].memory_bytes
            if watched.limit is not None and rss > watched.limit:
                log.info("memory limit exceeded", key=key, rss=rss, limit=watched.limit)
                del self._watched[key]  # once: the exit path reports it
                self._on_killed(key, rss)
                kill_session(watched.sid)  # its exit then ends the exec sessions too

    async def _run(self) -> None:
        # A pass every interval while some container has a limit; otherwise only every
        # usage_interval, since the scan costs a system call per process on the machine.
        last = -math.inf
        while self._watched:
            now = time.monotonic()
            limited = any(watched.limit is not None for watched in self._watched.values())
            if limited or now - last >= self.usage_interval:
                self.sample()
                last = now
            await asyncio.sleep(self.interval)
        self._task = None

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._watched.clear()
