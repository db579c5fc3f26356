"""Benchmark pods: how fast the cluster places (and, later, starts) pods.

Usage::

    python bench/pods.py [--quick] [--section scheduler] [--profile]

Sections (``--section`` may be given several times; default: all of them):

* **scheduler** -- the scheduler alone, as upstream's scheduler_perf ``SchedulingBasic``
  measures it: 5,000 pods onto 500 nodes, no kubelet and no container runtime (a pod only has
  to be bound). An API server in this process (in-memory SQLite store, its own
  ``InProcessClient``, exactly what the cluster's components use; none of the cluster's own
  components) gets 500 Node objects (Ready, 4 CPUs, 32Gi, 110 pods) and then 5,000 pending
  pods with small requests (100m CPU, 128Mi), created by 50 concurrent clients. The garbage
  collector is then tuned as ``serve`` tunes it. Then ``Scheduler(client).run()`` starts, and
  the clock runs from its start (including its informers' first list of the 500 nodes and
  5,000 pods) until a watch opened before it has seen every pod bound. Each pod costs the
  scheduler a cycle (upstream's adaptive share of the nodes -- 230 of 500 -- filtered and
  scored), a binding and a ``Scheduled`` event. Goal: >= 300 pods/s, the
  issue's figure; upstream's scheduler_perf threshold for SchedulingBasic at 5,000 nodes is
  270 pods/s (on 5,000 nodes, where upstream scores 10 % of them, 500 nodes a pod), and the
  ratio to that figure is printed. The peer, measured in the same run on
  a fresh cluster of the same shape: the same 5,000 pods bound by POSTing ``pods/binding``
  directly, round-robin over the nodes, with as many requests in flight as the scheduler
  allows itself (32), timed the same way. Scheduler rate / raw binding rate is what scheduling
  (filtering, scoring, the queue, the informers and the ``Scheduled`` events) costs on top of
  the writes it cannot avoid.

The pod start latency and burst sections of issue 5 join as ``--section latency`` and
``--section burst`` once the kubelet and the process runtime are wired into the cluster; each
section is one ``run_<name>`` coroutine returning a ``Section`` (rows for the table and goals).

Caveats: everything runs in this one process and event loop on the same cores, as the cluster
itself would; the table shows the CPU this process used in each phase (1.00 cores = one core
busy). The header reports CPU used by other processes during the run and warns above 0.25
cores. ``--quick`` shrinks the run to 1,000 pods on 100 nodes (goals are still judged, at that
size). ``--profile`` prints the top functions of a cProfile of the scheduler phase.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import io
import pstats
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from store_vs_etcd import REPO_ROOT, progress, system_busy_seconds

if TYPE_CHECKING:
    from minikube_py.client import Client

UPSTREAM_THRESHOLD = 270.0  # scheduler_perf SchedulingBasic, 5,000 nodes, pods/s
GOAL_RATE = 300.0  # issue 5: the scheduler alone, pods/s
CREATE_CLIENTS = 50
BIND_IN_FLIGHT = 32  # the scheduler's own limit (Scheduler(max_binding=32))
PHASE_TIMEOUT = 300.0  # every wait is bounded
NAMESPACE = "bench"
SORT = "tottime"  # cProfile order for --profile


@dataclass(frozen=True)
class Params:
    nodes: int
    pods: int


FULL = Params(nodes=500, pods=5_000)
QUICK = Params(nodes=100, pods=1_000)


@dataclass
class Phase:
    """One timed phase: how many pods, how long, and the CPU this process used meanwhile."""

    name: str
    pods: int
    seconds: float
    cpu_seconds: float
    note: str = ""

    @property
    def rate(self) -> float:
        return self.pods / self.seconds if self.seconds else 0.0


@dataclass
class Section:
    title: str
    phases: list[Phase] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # printed under the table
    goals: list[tuple[bool, str, str]] = field(default_factory=list)  # (met, goal, detail)
    profile: str = ""


# --------------------------------------------------------------------------- a cluster


def import_minikube() -> None:
    """Prefer the checkout this script lives in over an installed package."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))


@contextlib.asynccontextmanager
async def api_server_only() -> AsyncIterator[Client]:
    """A throwaway API server (in-memory store, loopback port 0) without the cluster's own
    scheduler and kubelets, and an in-process client of it: what ``running_cluster`` builds
    first, so that the section can run the component it measures by itself."""
    from minikube_py.apiserver.pki import ensure_pki
    from minikube_py.apiserver.server import ApiServer
    from minikube_py.store import open_store

    with tempfile.TemporaryDirectory(prefix="bench-pods-") as directory:
        store = await open_store("sqlite://")
        try:
            pki = ensure_pki(Path(directory), addresses=["127.0.0.1"])
            server = ApiServer(store, pki, host="127.0.0.1", port=0)
            await server.start()
            client = server.client()
            try:
                yield client
            finally:
                await client.close()
                await server.stop()
        finally:
            await store.close()


def tune_garbage_collection() -> None:
    """What ``serve`` does once started (``cli._tune_garbage_collection``): the cluster under
    test runs as the served cluster would, not with an embedding program's defaults."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def node_object(name: str) -> dict[str, Any]:
    resources = {"cpu": "4", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "spec": {},
        "status": {
            "capacity": dict(resources),
            "allocatable": resources,
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
        },
    }


def pod_object(name: str) -> dict[str, Any]:
    container = {
        "name": "pause",
        "image": "pause",
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"containers": [container]},
    }


async def in_parallel(count: int, clients: int, work: Callable[[int], Awaitable[object]]) -> None:
    """``work(0) … work(count - 1)`` with at most ``clients`` running at once."""
    numbers = iter(range(count))

    async def worker() -> None:
        for number in numbers:
            await work(number)

    await asyncio.gather(*(worker() for _ in range(clients)))


async def populate(client: Client, params: Params) -> tuple[list[str], float]:
    """Nodes, then pending pods; the pods' creation rate for the report."""
    from minikube_py.client import NAMESPACES, NODES, PODS

    await client.create(NAMESPACES, None, {"metadata": {"name": NAMESPACE}})
    names = [f"node-{i:04d}" for i in range(params.nodes)]

    async def add_node(index: int) -> None:
        wanted = node_object(names[index])
        created = await client.create(NODES, None, wanted)
        created["status"] = wanted["status"]  # create drops status, as upstream's does
        await client.update_status(NODES, None, created)

    await in_parallel(params.nodes, CREATE_CLIENTS, add_node)
    started = time.perf_counter()
    await in_parallel(
        params.pods,
        CREATE_CLIENTS,
        lambda i: client.create(PODS, NAMESPACE, pod_object(f"pod-{i:05d}")),
    )
    return names, params.pods / (time.perf_counter() - started)


async def all_bound(client: Client, expected: int, resource_version: str) -> float:
    """Watch pods from ``resource_version`` until ``expected`` are bound; the finishing time."""
    from minikube_py.client import PODS

    bound: set[str] = set()
    events = client.watch(PODS, NAMESPACE, resource_version=resource_version)
    async with contextlib.aclosing(events):
        async for _type, obj in events:
            if (obj.get("spec") or {}).get("nodeName"):
                bound.add(obj["metadata"]["name"])
                if len(bound) >= expected:
                    return time.perf_counter()
    raise RuntimeError(f"the watch ended with {len(bound)}/{expected} pods bound")


async def timed_until_bound(
    client: Client, params: Params, start: Callable[[], Awaitable[None]]
) -> tuple[float, float]:
    """Seconds from ``start()`` until every pod is bound, and this process's CPU seconds."""
    from minikube_py.client import PODS

    listed = await client.list(PODS, NAMESPACE, limit=1)
    version = str(listed["metadata"]["resourceVersion"])
    watching = asyncio.create_task(all_bound(client, params.pods, version))
    await asyncio.sleep(0)  # let the watch open before the clock starts
    cpu = time.process_time()
    started = time.perf_counter()
    try:
        await start()
        finished = await asyncio.wait_for(watching, PHASE_TIMEOUT)
    finally:
        watching.cancel()
    return finished - started, time.process_time() - cpu


# --------------------------------------------------------------------------- the scheduler


async def scheduler_phase(params: Params, profile: bool) -> tuple[Phase, float, str]:
    from minikube_py.scheduler import Scheduler

    async with api_server_only() as client:
        _nodes, create_rate = await populate(client, params)
        tune_garbage_collection()
        scheduler = Scheduler(client, seed=1, max_binding=BIND_IN_FLIGHT)
        running: list[asyncio.Task[None]] = []
        profiler = cProfile.Profile() if profile else None

        async def start() -> None:
            if profiler is not None:
                profiler.enable()
            running.append(asyncio.create_task(scheduler.run()))

        try:
            seconds, cpu = await timed_until_bound(client, params, start)
        finally:
            if profiler is not None:
                profiler.disable()
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        report = ""
        if profiler is not None:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(SORT).print_stats(45)
            report = out.getvalue()
        phase = Phase(
            "Scheduler(client).run()",
            params.pods,
            seconds,
            cpu,
            "from start (informers' first list included) to the last pod bound",
        )
        return phase, create_rate, report


async def raw_binding_phase(params: Params) -> Phase:
    from minikube_py.client import PODS

    async with api_server_only() as client:
        nodes, _rate = await populate(client, params)
        tune_garbage_collection()

        async def bind(index: int) -> None:
            binding = {
                "apiVersion": "v1",
                "kind": "Binding",
                "metadata": {"name": f"pod-{index:05d}", "namespace": NAMESPACE},
                "target": {"apiVersion": "v1", "kind": "Node", "name": nodes[index % len(nodes)]},
            }
            await client.create(PODS, NAMESPACE, binding, subresource="binding")

        async def start() -> None:
            await in_parallel(params.pods, BIND_IN_FLIGHT, bind)

        seconds, cpu = await timed_until_bound(client, params, start)
        return Phase(
            "POST pods/binding directly (peer)",
            params.pods,
            seconds,
            cpu,
            f"{BIND_IN_FLIGHT} in flight, round-robin, no scheduling, no events",
        )


async def run_scheduler(params: Params, *, profile: bool = False) -> Section:
    section = Section(
        f"scheduler alone: {params.pods:,} pods onto {params.nodes} nodes "
        "(no kubelet, no runtime; bound is done)"
    )
    progress(f"scheduler: {params.nodes} nodes, {params.pods} pods, then Scheduler.run()")
    scheduled, create_rate, report = await scheduler_phase(params, profile)
    progress("peer: the same pods bound by POSTing pods/binding directly")
    raw = await raw_binding_phase(params)
    section.phases += [scheduled, raw]
    section.profile = report
    section.lines.append(
        f"pods were created beforehand by {CREATE_CLIENTS} clients at {create_rate:,.0f}/s"
    )
    section.goals.append(
        (
            scheduled.rate >= GOAL_RATE,
            f"scheduler >= {GOAL_RATE:.0f} pods/s",
            f"{scheduled.rate:,.0f} pods/s; {scheduled.rate / UPSTREAM_THRESHOLD:.2f}x upstream's "
            f"scheduler_perf SchedulingBasic threshold ({UPSTREAM_THRESHOLD:.0f} pods/s); "
            f"{scheduled.rate / raw.rate:.2f}x raw binding ({raw.rate:,.0f} pods/s, same run)",
        )
    )
    return section


# --------------------------------------------------------------------------- report, main

SECTIONS: dict[str, Callable[..., Coroutine[Any, Any, Section]]] = {"scheduler": run_scheduler}


def print_table(rows: Sequence[Sequence[str]], right: Sequence[int]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        cells = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print(" | ".join(cells).rstrip())
        if n == 0:
            print("-+-".join("-" * width for width in widths))


def print_section(section: Section) -> None:
    print()
    print(section.title)
    rows = [("phase", "pods", "seconds", "pods/s", "CPU (this process)", "what")]
    for p in section.phases:
        rows.append(
            (
                p.name,
                f"{p.pods:,}",
                f"{p.seconds:.2f}",
                f"{p.rate:,.0f}",
                f"{p.cpu_seconds / p.seconds:.2f} cores",
                p.note,
            )
        )
    print_table(rows, right=(1, 2, 3, 4))
    for line in section.lines:
        print(line)
    if section.profile:
        print()
        print(section.profile)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a smaller run for a smoke test")
    parser.add_argument(
        "--section", action="append", choices=sorted(SECTIONS), help="run only these sections"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the scheduler phase")
    args = parser.parse_args(argv)
    params = QUICK if args.quick else FULL
    import_minikube()

    started = time.perf_counter()
    busy_before, own_before = system_busy_seconds(), time.process_time()
    sections: list[Section] = []
    for name in args.section or list(SECTIONS):
        runner = SECTIONS[name]
        kwargs = {"profile": args.profile} if name == "scheduler" else {}
        sections.append(asyncio.run(runner(params, **kwargs)))
    wall = time.perf_counter() - started
    others = system_busy_seconds() - busy_before - (time.process_time() - own_before)
    print()
    print(
        f"pods ({'quick' if args.quick else 'full'} run, {wall:.1f} s): an API server in this "
        "process (in-memory SQLite, InProcessClient), one Python process and event loop"
    )
    print(
        f"CPU used by other processes during the run: {max(others, 0.0) / wall:.2f} cores"
        + (" -- WARNING: machine was busy, numbers are noisy" if others / wall > 0.25 else "")
    )
    for section in sections:
        print_section(section)
    print()
    print("Goals")
    for section in sections:
        for met, goal, detail in section.goals:
            print(f"  [{'met' if met else 'NOT met'}] {goal}: {detail}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
