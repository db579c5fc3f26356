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

* **start** -- pod start latency: 100 ``registry.k8s.io/pause:3.10`` pods created one after
  another on a 1-node cluster (``running_cluster`` in this process, the real process runtime,
  the in-process client for creates and for the watch), each timed from just before its create
  to the moment a watch opened beforehand sees it ``Running`` (which the kubelet writes only
  once its process was spawned); p50 and p99. The peer, in the same run: the time
  ``subprocess.Popen`` takes to start the pause image's own command line (its ``/pause``
  shell script), and the ratio. Goal: p99 <= 100 ms (upstream's
  SLO is 5 s).
* **burst** -- 300 pause pods created at once by 50 clients on a 3-node cluster, until the watch
  has seen every one Running: >= 60 pods/s (all within 5 s); and the cluster process's memory
  per running pod (USS growth over the burst / 300, container processes excluded, since they
  are other processes) <= 200 KB. Peers in the same run: the same burst with the fake runtime
  (the control plane alone) and 300 plain ``Popen`` starts of the pause program.
  Both real-pod sections print the live pause processes (psutil) when the last pod was Running
  and the processes left after the cluster stopped (none may be), and run on uvloop as
  ``serve`` does. One untimed pod first materialises the image and starts the runtime's
  supervisor, once per cluster.

Each section is one ``run_<name>`` coroutine returning a ``Section`` (rows for the table and
goals).

Caveats: everything runs in this one process and event loop on the same cores, as the cluster
itself would; the table shows the CPU this process used in each phase (1.00 cores = one core
busy). The header reports CPU used by other processes during the run and warns above 0.25
cores; the pods' own processes count as "other processes". ``--quick`` shrinks the runs to
1,000 pods on 100 nodes, 30 starts and a burst of 90 (goals are still judged, at that size).
``--profile`` prints the top functions of a cProfile of each section's timed phase.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import io
import math
import os
import pstats
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from store_vs_etcd import REPO_ROOT, print_table, progress, system_busy_seconds

if TYPE_CHECKING:
    from minikube_py.client import Client

UPSTREAM_THRESHOLD = 270.0  # scheduler_perf SchedulingBasic, 5,000 nodes, pods/s
GOAL_RATE = 300.0  # issue 5: the scheduler alone, pods/s
GOAL_BURST_RATE = 60.0  # issue 5: 300 pods Running within 5 s
CREATE_CLIENTS = 50
BIND_IN_FLIGHT = 32  # the scheduler's own limit (Scheduler(max_binding=32))
PHASE_TIMEOUT = 300.0  # every wait is bounded
NAMESPACE = "bench"
SORT = "tottime"  # cProfile order for --profile
# The pause image as pod specs name it (kubelet density tests too): tagged, so the pull policy
# is IfNotPresent and the node pulls it once, not once per pod as for an untagged `pause`.
PAUSE_IMAGE = "registry.k8s.io/pause:3.10"


@dataclass(frozen=True)
class Params:
    nodes: int
    pods: int
    start_pods: int = 100  # the start section's pods, one after another
    burst_pods: int = 300  # the burst section's pods, all at once
    burst_nodes: int = 3


FULL = Params(nodes=500, pods=5_000)
QUICK = Params(nodes=100, pods=1_000, start_pods=30, burst_pods=90)


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


async def make_namespace(client: Client) -> None:
    """The bench namespace and its ``default`` ServiceAccount, without which the API server
    refuses pods (its controller would make it too, a moment later, where controllers run)."""
    from minikube_py.api.errors import ApiError
    from minikube_py.client import NAMESPACES, SERVICE_ACCOUNTS

    await client.create(NAMESPACES, None, {"metadata": {"name": NAMESPACE}})
    try:
        await client.create(SERVICE_ACCOUNTS, NAMESPACE, {"metadata": {"name": "default"}})
    except ApiError as error:
        if error.code != 409:  # made by the controller first
            raise


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
    from minikube_py.client import NODES, PODS

    await make_namespace(client)
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


# --------------------------------------------------------------------------- real pods


def pause_pod(name: str) -> dict[str, Any]:
    """A ``pause`` pod without requests: 300 of them with the scheduler section's 100m each
    would not fit on a 2-core machine's nodes."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"containers": [{"name": "pause", "image": PAUSE_IMAGE}]},
    }


class RunningWatch:
    """One watch on the namespace's pods: when each pod was first seen ``Running``."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.seen: dict[str, float] = {}
        self._waiters: dict[str, asyncio.Future[float]] = {}
        self._count_waiters: list[tuple[int, asyncio.Future[float]]] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> RunningWatch:
        from minikube_py.client import PODS

        listed = await self.client.list(PODS, NAMESPACE, limit=1)
        version = str(listed["metadata"]["resourceVersion"])
        self._task = asyncio.create_task(self._run(version))
        await asyncio.sleep(0)  # let the watch open before anything is timed
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self, version: str) -> None:
        from minikube_py.client import PODS

        events = self.client.watch(PODS, NAMESPACE, resource_version=version)
        async with contextlib.aclosing(events):
            async for _type, obj in events:
                name = obj["metadata"]["name"]
                if (obj.get("status") or {}).get("phase") != "Running" or name in self.seen:
                    continue
                now = self.seen[name] = time.perf_counter()
                waiter = self._waiters.pop(name, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(now)
                for count, future in self._count_waiters:
                    if len(self.seen) >= count and not future.done():
                        future.set_result(now)

    async def running(self, name: str) -> float:
        """The moment ``name`` was first seen Running (waits for it)."""
        if name in self.seen:
            return self.seen[name]
        future = self._waiters.setdefault(name, asyncio.get_running_loop().create_future())
        return await asyncio.wait_for(future, PHASE_TIMEOUT)

    async def all_running(self, count: int) -> float:
        """The moment the ``count``-th pod was seen Running (waits for it)."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._count_waiters.append((count, future))
        if len(self.seen) >= count:
            return max(self.seen.values())
        return await asyncio.wait_for(future, PHASE_TIMEOUT)


def pause_processes(directory: Path) -> list[int]:
    """Pids of live pause programs started from a container root under ``directory`` (the
    proof that Running means a process runs: zombies and other programs do not count)."""
    import psutil

    found = []
    marker = str(directory)
    for process in psutil.process_iter(["pid", "cmdline", "status"]):
        cmdline = process.info["cmdline"] or []
        if process.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        if any(arg.startswith(marker) and arg.endswith("/pause") for arg in cmdline):
            found.append(process.info["pid"])
    return found


def leftovers(directory: Path) -> list[int]:
    """Processes that outlived the cluster: our descendants, and anything naming its
    directory."""
    import psutil

    me = psutil.Process()
    pids = {child.pid for child in me.children(recursive=True)}
    return sorted(pids | set(pause_processes(directory)))


def uss() -> int:
    """This process's unique set size (memory no other process shares), after a collection."""
    import psutil

    gc.collect()
    return int(psutil.Process().memory_full_info().uss)


def rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


@contextlib.asynccontextmanager
async def pod_cluster(nodes: int, runtime: str = "process") -> AsyncIterator[tuple[Client, Path]]:
    """A whole cluster (API server, scheduler, ``nodes`` node agents with ``runtime``) in this
    process, as the tests build it, with the bench namespace; its client and directory."""
    from minikube_py.cluster import ClusterConfig, running_cluster

    with tempfile.TemporaryDirectory(prefix="bench-pods-") as name:
        directory = Path(name)
        config = ClusterConfig(
            state_dir=directory,
            port=0,
            address="127.0.0.1",
            store_url="sqlite://",
            write_kubeconfig=False,
            nodes=nodes,
            runtime=runtime,  # type: ignore[arg-type]
        )
        async with running_cluster(config) as cluster:
            client = cluster.api_server.client()
            try:
                await make_namespace(client)
                yield client, cluster.directory
            finally:
                await client.close()


async def warm_up(client: Client, watch: RunningWatch) -> None:
    """One pod first, untimed: the pause image is materialised and the runtime's supervisor
    started once per cluster, not per pod."""
    from minikube_py.client import PODS

    await client.create(PODS, NAMESPACE, pause_pod("warm-up"))
    await watch.running("warm-up")


def pause_program(directory: Path) -> list[str]:
    """The pause image's command line on the host, as the peer runs it (its ``/pause`` script
    at the image root's path)."""
    from minikube_py.runtime.images.store import ImageStore

    image = ImageStore(directory / "images").get("pause")
    program, *arguments = image.config.get("Entrypoint") or []
    return [str(image.root) + program, *arguments]


def spawn_plain(argv: list[str]) -> subprocess.Popen[bytes]:
    """The peer's start: what ``subprocess`` needs to have the program running (``Popen``
    returns once the child has exec'd), with pipes for its output and its own session."""
    return subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def stop_plain(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:  # the whole session, as the runtime stops a container
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    for process in processes:
        process.communicate()


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (p99 of 100 values is the 99th smallest)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


# --------------------------------------------------------------------------- start latency


async def run_start(params: Params, *, profile: bool = False) -> Section:
    from minikube_py.client import PODS

    count = params.start_pods
    section = Section(
        f"pod start latency: {count} pause pods one after another on 1 node, process runtime "
        "(create -> Running through a watch, in-process client)"
    )
    progress(f"start: {count} pause pods, one after another, on a 1-node cluster")
    latencies: list[float] = []
    cpu = time.process_time()
    began = time.perf_counter()
    async with pod_cluster(1) as (client, directory), RunningWatch(client) as watch:
        await warm_up(client, watch)
        tune_garbage_collection()
        profiler = cProfile.Profile() if profile else None
        cpu = time.process_time()
        began = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        for index in range(count):
            name = f"start-{index:03d}"
            created = time.perf_counter()
            await client.create(PODS, NAMESPACE, pause_pod(name))
            latencies.append(await watch.running(name) - created)
        if profiler is not None:
            profiler.disable()
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        section.profile = profile_report(profiler)
        running = len(pause_processes(directory)) - 1  # the warm-up pod's
    left = leftovers(directory)
    progress("peer: the same program started with plain subprocess")
    peer: list[float] = []
    processes: list[subprocess.Popen[bytes]] = []
    # The image in a store of its own: the cluster's directory is gone once it stopped.
    with tempfile.TemporaryDirectory(prefix="bench-pods-") as name:
        argv = pause_program(Path(name))
        try:
            for _ in range(count):
                started = time.perf_counter()
                processes.append(spawn_plain(argv))
                peer.append(time.perf_counter() - started)
        finally:
            stop_plain(processes)
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    peer50, peer99 = percentile(peer, 0.5), percentile(peer, 0.99)
    section.phases.append(
        Phase(
            "create -> Running, one at a time",
            count,
            seconds,
            cpu,
            f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms",
        )
    )
    section.lines += [
        f"peer (same run): subprocess.Popen({' '.join(Path(a).name for a in argv)}) "
        f"p50 {peer50 * 1000:.1f} ms, p99 {peer99 * 1000:.1f} ms; "
        f"pod start / plain start: p50 {p50 / peer50:.1f}x, p99 {p99 / peer99:.1f}x",
        f"pause processes running when the last pod was Running: {running}/{count}; "
        f"processes left after the cluster stopped: {len(left)}" + (f" ({left})" if left else ""),
    ]
    section.goals.append(
        (
            p99 <= 0.100 and running == count and not left,
            "pod start p99 <= 100 ms",
            f"p99 {p99 * 1000:.1f} ms (p50 {p50 * 1000:.1f} ms; upstream's SLO is 5 s); "
            f"{p50 / peer50:.1f}x plain subprocess at p50",
        )
    )
    return section


# --------------------------------------------------------------------------- burst


def profile_report(profiler: cProfile.Profile | None) -> str:
    if profiler is None:
        return ""
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(SORT).print_stats(45)
    if os.environ.get("BENCH_PROFILE_OUT"):  # for pstats' callers/callees views
        profiler.dump_stats(os.environ["BENCH_PROFILE_OUT"])
    return out.getvalue()


async def burst_phase(
    params: Params, runtime: str, profiler: cProfile.Profile | None = None
) -> tuple[Phase, int, int, int, list[int]]:
    """All pods created at once by ``CREATE_CLIENTS`` clients; until the watch saw every pod
    Running. Also the cluster process's USS growth and the pause processes then running."""
    from minikube_py.client import PODS

    count = params.burst_pods
    async with pod_cluster(params.burst_nodes, runtime) as (client, directory):
        async with RunningWatch(client) as watch:
            await warm_up(client, watch)
            tune_garbage_collection()
            before = uss()
            rss_before = rss()
            cpu = time.process_time()
            started = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            try:
                await in_parallel(
                    count,
                    CREATE_CLIENTS,
                    lambda i: client.create(PODS, NAMESPACE, pause_pod(f"burst-{i:03d}")),
                )
                finished = await watch.all_running(count + 1)
            finally:
                if profiler is not None:
                    profiler.disable()
            seconds, cpu = finished - started, time.process_time() - cpu
            running = len(pause_processes(directory)) - (runtime == "process")
            grown = uss() - before
            rss_grown = rss() - rss_before
        note = "50 clients create, until the watch saw the last pod Running"
        phase = Phase(f"burst, {runtime} runtime", count, seconds, cpu, note)
    return phase, grown, rss_grown, running, leftovers(directory)


async def run_burst(params: Params, *, profile: bool = False) -> Section:
    count, nodes = params.burst_pods, params.burst_nodes
    section = Section(
        f"burst: {count} pause pods created at once ({CREATE_CLIENTS} clients) on {nodes} nodes "
        "(in-process client; clock from the first create to the watch seeing the last Running)"
    )
    progress(f"burst: {count} pause pods at once on {nodes} nodes, process runtime")
    profiler = cProfile.Profile() if profile else None
    burst, grown, rss_grown, running, left = await burst_phase(params, "process", profiler)
    section.profile = profile_report(profiler)
    progress("peer: the same burst with the fake runtime (no processes)")
    fake, *_ = await burst_phase(params, "fake")
    progress(f"peer: {count} starts of the pause program with plain subprocess")
    with tempfile.TemporaryDirectory(prefix="bench-pods-") as name:
        argv = pause_program(Path(name))
        processes: list[subprocess.Popen[bytes]] = []
        cpu = time.process_time()
        started = time.perf_counter()
        try:
            for _ in range(count):
                processes.append(spawn_plain(argv))
            plain = Phase(
                "plain subprocess.Popen (peer)",
                count,
                time.perf_counter() - started,
                time.process_time() - cpu,
                "one after another, no cluster",
            )
        finally:
            stop_plain(processes)
    section.phases += [burst, fake, plain]
    per_pod = grown / count
    section.lines += [
        f"cluster process CPU per pod: {burst.cpu_seconds / count * 1000:.1f} ms with the "
        f"process runtime, {fake.cpu_seconds / count * 1000:.1f} ms with the fake runtime",
        f"process burst / plain starts: {burst.rate / plain.rate:.2f}x the rate; "
        f"process / fake runtime: {burst.rate / fake.rate:.2f}x",
        f"cluster process memory: USS +{grown / 1024:,.0f} KiB (RSS +{rss_grown / 1024:,.0f} KiB)"
        f" for {count} running pods = {per_pod / 1024:.0f} KiB per pod (container processes "
        "excluded: they are other processes)",
        f"pause processes running when the last pod was Running: {running}/{count}; "
        f"processes left after the cluster stopped: {len(left)}" + (f" ({left})" if left else ""),
    ]
    section.goals += [
        (
            burst.rate >= GOAL_BURST_RATE and running == count and not left,
            f"{count} pods Running at >= {GOAL_BURST_RATE:.0f} pods/s (300 within 5 s)",
            f"{burst.seconds:.2f} s, {burst.rate:,.0f} pods/s; {burst.rate / fake.rate:.2f}x the "
            f"fake runtime ({fake.rate:,.0f} pods/s), {burst.rate / plain.rate:.2f}x plain "
            f"subprocess starts ({plain.rate:,.0f}/s)",
        ),
        (
            per_pod <= 200 * 1024,
            "cluster memory per running pod <= 200 KB",
            f"{per_pod / 1024:.0f} KiB (USS growth / {count})",
        ),
    ]
    return section


# --------------------------------------------------------------------------- report, main

SECTIONS: dict[str, Callable[..., Coroutine[Any, Any, Section]]] = {
    "scheduler": run_scheduler,
    "start": run_start,
    "burst": run_burst,
}


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


def run_loop(main: Coroutine[Any, Any, Section], *, serve_loop: bool) -> Section:
    """Run a section; the real-pod sections on the loop ``serve`` runs on (uvloop where it is
    installed), since they measure the whole cluster as a user starts it."""
    if serve_loop:
        with contextlib.suppress(ImportError):
            import uvloop

            return uvloop.run(main)
    return asyncio.run(main)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a smaller run for a smoke test")
    parser.add_argument(
        "--section", action="append", choices=sorted(SECTIONS), help="run only these sections"
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile each section's timed phase"
    )
    args = parser.parse_args(argv)
    params = QUICK if args.quick else FULL
    import_minikube()

    started = time.perf_counter()
    busy_before, own_before = system_busy_seconds(), time.process_time()
    sections: list[Section] = []
    for name in args.section or list(SECTIONS):
        runner = SECTIONS[name]
        sections.append(
            run_loop(runner(params, profile=args.profile), serve_loop=name != "scheduler")
        )
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
