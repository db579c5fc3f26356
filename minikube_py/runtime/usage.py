"""Resource usage: how much CPU time and memory each container's processes use.

A real node learns this from each container's cgroup: ``cpuacct`` counts every nanosecond of
CPU the cgroup's processes ever used, ``memory`` their current working set. cAdvisor samples
those counters, and metrics-server (``kubectl top``) turns two samples into a rate. Without
cgroups the process runtime measures a container as the set of processes in its session and
its exec sessions (``hygiene`` puts each in its own), from ``/proc/<pid>/stat``:

- CPU seconds: user + system time of every member, plus the time of the members' children
  that already ended and were waited for (the kernel adds it to the parent's ``cutime`` and
  ``cstime``). A child reaped by someone outside the session takes its time with it, so the
  counter can fall behind a cgroup's; it never goes backwards (each sample keeps the larger
  of the new sum and the last one), as a cgroup counter does not;
- memory: the resident set size of the members, which counts shared pages once per process
  where a cgroup counts them once.

``measure`` takes one pass over ``/proc`` for all containers; the memory watcher (``memory``)
calls it on every pass, so memory limits and usage share one sampler. ``ProcessRuntime.usage``
returns the last ``Usage`` of a running container, for a metrics API.

CPU limits are best effort, which here means not enforced at all: throttling needs the cgroup
``cpu`` controller. A container may use every core of the machine whatever its limit says.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping

import attrs

from .hygiene import PAGE_SIZE, scan

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")  # the unit of /proc/<pid>/stat's times


@attrs.frozen
class Usage:
    """One sample of a container: CPU seconds used so far, resident memory now, and when
    (``time.time()``) it was taken."""

    cpu_seconds: float
    memory_bytes: int
    sampled_at: float


def measure(
    groups: Mapping[str, Collection[int]],
    *,
    now: float,
    previous: Mapping[str, Usage] | None = None,
) -> dict[str, Usage]:
    """The usage of each container ``key`` whose processes are the sessions ``groups[key]``,
    sampled at ``now``; ``previous`` samples keep the CPU counter from going backwards."""
    sessions = {sid for members in groups.values() for sid in members}
    ticks = dict.fromkeys(sessions, 0)
    pages = dict.fromkeys(sessions, 0)
    for process in scan(sessions):
        ticks[process.sid] += process.cpu_ticks
        pages[process.sid] += process.rss_pages
    earlier = previous or {}
    measured = {}
    for key, members in groups.items():
        cpu = sum(ticks[sid] for sid in members) / CLOCK_TICKS
        if key in earlier:
            cpu = max(cpu, earlier[key].cpu_seconds)
        memory = sum(pages[sid] for sid in members) * PAGE_SIZE
        measured[key] = Usage(cpu_seconds=cpu, memory_bytes=memory, sampled_at=now)
    return measured
