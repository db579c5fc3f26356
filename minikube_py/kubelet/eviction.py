"""Local storage eviction: a pod whose ``emptyDir`` outgrows its ``sizeLimit`` is evicted.

An ``emptyDir`` is scratch space on the node's disk. Its ``sizeLimit`` is not a quota the
file system enforces — writes past it succeed — but upstream's kubelet measures each limited
``emptyDir`` now and then (its eviction manager, every ``--eviction-monitoring-period``, 10 s)
and *evicts* the pod whose volume is over: every container is stopped, the pod ends
``Failed`` with reason ``Evicted`` and the message
``Usage of EmptyDir volume "cache" exceeds the limit "1Mi". ``, an ``Evicted`` warning Event
says the same, and a controller (a ReplicaSet, a Job) makes a new pod if it owns this one.

Usage is counted as ``du`` counts it (the blocks the files take), on a worker thread: a deep
directory tree is file-system work the event loop must not wait on.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from minikube_py.api.quantities import QuantityError, value

Object = dict[str, Any]
MONITORING_PERIOD = 10.0  # seconds: upstream's --eviction-monitoring-period
MESSAGE = 'Usage of EmptyDir volume "{name}" exceeds the limit "{limit}". '


def size_limits(pod: Object) -> dict[str, tuple[str, int]]:
    """The pod's limited ``emptyDir`` volumes: name → (the limit as written, in bytes)."""
    limits = {}
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        if not isinstance(volume, dict) or not isinstance(volume.get("emptyDir"), dict):
            continue
        limit = volume["emptyDir"].get("sizeLimit")
        if limit is None:
            continue
        try:
            limits[str(volume.get("name"))] = (str(limit), int(value(str(limit))))
        except QuantityError:
            continue  # validation refuses it; nothing to measure against
    return limits


def disk_usage(path: Path) -> int:
    """Bytes the files below ``path`` take on disk (``du``: 512-byte blocks), each counted
    once; what vanishes meanwhile is not counted (blocking)."""
    total, seen, pending = 0, set(), [str(path)]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                status = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if (status.st_dev, status.st_ino) in seen:
                continue  # hard links take their blocks once
            seen.add((status.st_dev, status.st_ino))
            total += status.st_blocks * 512
            if entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
    return total


async def exceeded(pod: Object, volumes: Mapping[str, Path]) -> str | None:
    """The eviction message for the first limited ``emptyDir`` of ``pod`` over its limit."""
    for name, (written, limit) in size_limits(pod).items():
        directory = volumes.get(name)
        if directory is None:
            continue
        if await asyncio.to_thread(disk_usage, directory) > limit:
            return MESSAGE.format(name=name, limit=written)
    return None
