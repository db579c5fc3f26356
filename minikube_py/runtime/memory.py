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
meaning not at all. Usage samples stay available (``usage``) for a metrics API.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import attrs

from ..logs import get_logger
from .hygiene import PAGE_SIZE, kill_session, scan

log = get_logger("runtime")


@attrs.define
class _Watched:
    sid: int  # the container's own session; it is what is killed past the limit
    limit: int | None
    execs: set[int] = attrs.field(factory=set)  # exec sessions, counted as in the cgroup


class MemoryWatcher:
    """Samples the memory of registered sessions; see the module docstring.

    ``on_killed(key, rss)`` is called after a session was killed for passing its limit."""

    def __init__(self, interval: float, on_killed: Callable[[str, int], None]) -> None:
        self.interval = interval
        self._on_killed = on_killed
        self._watched: dict[str, _Watched] = {}
        self._usage: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None

    def watch(self, key: str, sid: int, limit: int | None) -> None:
        """Start sampling session ``sid`` for the container ``key`` (killing it past ``limit``)."""
        self._watched[key] = _Watched(sid, limit)
        if limit is not None and (self._task is None or self._task.done()):
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

    def usage(self, key: str) -> int | None:
        """The container's last sampled memory (bytes of RSS), if it has been sampled."""
        return self._usage.get(key)

    def sample(self) -> None:
        """One pass: measure every watched session, kill those past their limit."""
        sessions = {sid for w in self._watched.values() for sid in (w.sid, *w.execs)}
        totals = dict.fromkeys(sessions, 0)
        for process in scan(sessions):
            totals[process.sid] += process.rss_pages * PAGE_SIZE
        for key, watched in list(self._watched.items()):
            rss = sum(totals[sid] for sid in (watched.sid, *watched.execs))
            self._usage[key] = rss
            if watched.limit is not None and rss > watched.limit:
                log.info("memory limit exceeded", key=key, rss=rss, limit=watched.limit)
                del self._watched[key]  # once: the exit path reports it
                self._on_killed(key, rss)
                kill_session(watched.sid)  # its exit then ends the exec sessions too

    async def _run(self) -> None:
        # Runs only while some container has a limit: the scan costs a read per process.
        while any(watched.limit is not None for watched in self._watched.values()):
            self.sample()
            await asyncio.sleep(self.interval)
        self._task = None

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._watched.clear()
