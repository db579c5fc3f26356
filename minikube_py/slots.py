"""Address slots: which block of loopback each running cluster takes.

Every cluster on a machine shares one 127.0.0.0/8, so two clusters with the same address plan
would collide: both would give a pod 127.244.0.2 and both service proxies would want
127.96.0.1:443. minikube meets the same problem with Docker networks, giving each profile its
own subnet (192.168.49.0/24, 192.168.58.0/24, …). Here the loopback range is cut into numbered
slots, each a whole DESIGN.md address plan of its own:

    slot k    nodes 127.49.k.0/24    pods 127.(244-k).0.0/16    ClusterIPs 127.(96+k).0.0/16
              LoadBalancer addresses 127.50.k.0/24

Slot 0 is DESIGN.md's table (nodes 127.49.0.2…, pods 127.244.N.0/24, ClusterIPs 127.96.0.0/16).
A cluster claims the lowest free slot by holding an exclusive ``flock`` on
``slot-<k>.lock`` in a per-user run directory for as long as it runs; the kernel drops the
lock when the process ends, however it ends, so a crashed cluster never leaves its slot taken.
A test session that starts clusters side by side (or two profiles) thus gets disjoint
addresses without being told.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from minikube_py.config import NetworkPlan

SLOTS = 32  # 127.213-244 for pods and 127.96-127 for services stay disjoint


class NoFreeSlot(Exception):
    """Every address slot is held by a running cluster."""


def plan_for_slot(slot: int) -> NetworkPlan:
    """The address plan of slot ``slot`` (0 is DESIGN.md's default plan)."""
    if not 0 <= slot < SLOTS:
        raise ValueError(f"an address slot is between 0 and {SLOTS - 1}, not {slot}")
    return NetworkPlan(
        node_block=f"127.49.{slot}.0/24",
        pod_block=f"127.{244 - slot}.0.0/16",
        service_block=f"127.{96 + slot}.0.0/16",
        load_balancer_block=f"127.50.{slot}.0/24",
        slot=slot,
    )


def run_directory() -> Path:
    """Where the slot locks live: per user, so users of one machine do not share locks
    (their clusters could still collide on addresses; MINIKUBE_PY_RUN_DIR shares one)."""
    configured = os.environ.get("MINIKUBE_PY_RUN_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"minikube-py-{os.getuid()}"


@contextlib.contextmanager
def claimed_slot(preferred: int = 0) -> Iterator[NetworkPlan]:
    """Hold the first free slot from ``preferred`` on (wrapping round) while the block runs."""
    directory = run_directory()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    for offset in range(SLOTS):
        slot = (preferred + offset) % SLOTS
        lock = open(directory / f"slot-{slot}.lock", "a+")  # noqa: SIM115 - held while running
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        try:
            lock.seek(0)
            lock.truncate()
            lock.write(f"minikube-py (pid {os.getpid()})")
            lock.flush()
            yield plan_for_slot(slot)
        finally:
            lock.close()
        return
    raise NoFreeSlot(
        f"all {SLOTS} address slots are taken by running clusters (locks in {directory}); "
        "stop one first"
    )
