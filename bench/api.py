"""Benchmark minikube_py's API server over HTTPS, next to etcd 3.4 in the same run.

Usage::

    python bench/api.py [--quick]

The API server is what every client of the cluster talks to (kubectl, controllers, kubelets,
informers), so its costs on top of the store decide how the whole cluster feels. This script
starts it as a real process -- ``python -m minikube_py serve --state-dir <tmp> --port 0
--address 127.0.0.1 --kubeconfig <tmp>/kubeconfig``, with the default durable SQLite store --
reads the ``minikube-py: serving https://HOST:PORT ...`` line it prints, and drives it with
aiohttp over HTTPS (the cluster CA, the admin client certificate from the state directory,
keep-alive connections opened before each phase). In the same run and with the same harness
code, it drives etcd 3.4 through its v3 HTTP/JSON gateway, using ``EtcdServer`` and ``EtcdKV``
from ``bench/store_vs_etcd.py``. What it measures, and why:

* **ConfigMap create / get / list / patch, 1 and 50 clients** -- closed loops (each client
  sends its next request when the previous one answered), latency p50 / p99 and throughput.
  One client shows the latency of a single request (one controller's read-modify-write); 50
  show how requests are batched and scheduled under load. Creates write 256-byte values, like
  the etcd puts; list reads a namespace of 100 ConfigMaps; patch is a JSON merge patch of
  ``data``, each client on its own objects so that they do not conflict with each other.
* **etcd puts and gets, 1 and 50 clients** -- the same closed loop on ``EtcdKV``, with
  256-byte values. A create is at least one durable write, so etcd's put rate is the yardstick
  for ours (goal: creates/s >= 0.5x etcd puts/s, at 50 clients and at 1 client).
* **Mutating p99 at 50 clients** -- create and patch; goal <= 50 ms (upstream's SLO for
  mutating calls is 1 s; a one-process cluster on loopback should do far better).
* **A cluster-wide list of 5,000 pods** -- ``GET /api/v1/pods`` after creating 5,000 minimal
  pods in 10 namespaces with 50 concurrent clients; median of several runs, timed until the
  whole body has arrived (the harness parses it afterwards, only to check the item count).
  That is what an informer's first list and ``kubectl get pods -A`` cost. Goal <= 250 ms.
  ``serve`` runs a whole cluster, whose scheduler is still busy with the new pods; the lists
  start once the server is nearly idle (at most 60 s later), and the server CPU of each list
  is reported beside its time.
* **Watch delivery latency, 100 watchers** -- 100 concurrent ``GET
  /api/v1/namespaces/bench/configmaps?watch=1&resourceVersion=<rv>`` streams while ConfigMaps
  are created at 100/s (open loop: started on a fixed schedule). Each object carries the
  ``perf_counter()`` at which its create was started; latency is create start to the event's
  arrival at one watcher, so it includes the commit and the fan-out to all 100 streams.
* **Start to ready** -- from spawning ``serve`` on a fresh state directory to ``/readyz``
  answering 200 (the URL is known once the process prints it; polled every 5 ms, bounded),
  median of 3; versus etcd on a fresh data directory from spawn to ``/health`` healthy, also
  polled every 5 ms, median of 3. Goal: serve <= 1.0x etcd. One untimed start of each comes
  first, so that both find their files in the page cache. ``serve`` children run with
  bytecode caching on and ``PYTHONPYCACHEPREFIX`` in the temporary directory: an installed
  package has compiled bytecode, and a ``PYTHONDONTWRITEBYTECODE`` in the environment would
  otherwise make every timed start recompile the whole package (about 0.1 s).

Caveats: etcd is reached over plain HTTP (its gateway on loopback), our API server over TLS
with client certificates, as Kubernetes clients reach it; the etcd figures include the
gateway's JSON hop. The harness is one Python process and one event loop, on the same cores as
the server: the table shows the CPU each side used during each phase, so a phase where the
harness itself saturates a core can be recognised. API responses are read but not parsed
(parsing is a client cost, and would steal CPU from the server on a 2-core machine); etcd's
adapter decodes its small JSON replies. The header reports CPU used by other processes during
the run, as ``store_vs_etcd.py`` does, and warns above 0.25 cores.

Both servers run on 127.0.0.1 only, in a temporary directory removed at the end; each child
is stopped by its pid (SIGTERM, then SIGKILL after 10 s) on every exit path, including errors,
Ctrl-C and SIGTERM, and Linux's parent-death signal stops them should this script be killed
outright. How long ``serve`` took to exit after SIGTERM is printed, or a warning if it had to
be killed. Every loop is bounded by a count and a deadline. ``--quick`` shrinks the durations
(not the 5,000 pods) so that the run stays under 45 seconds on 2 cores; a full run takes about
1.5 minutes. ``--pod-list-only`` runs just the 5,000-pod list (no etcd, no start timing), for
work on that one goal; ``--pod-list-runs N`` sets how many lists are timed. ``--start-only``
runs just the start-to-ready timing (etcd and serve, ``--starts N`` rounds each, default 3).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import itertools
import json
import math
import os
import re
import resource
import select
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
from store_vs_etcd import (
    REPO_ROOT,
    EtcdKV,
    EtcdServer,
    _die_with_parent,
    _terminate_as_interrupt,
    etcd_version,
    find_etcd,
    padded_value,
    percentile,
    print_table,
    process_cpu_seconds,
    progress,
    system_busy_seconds,
)

HTTP_TIMEOUT = 30.0  # per-request bound
READY_TIMEOUT = 60.0  # spawn to ready, for serve (EtcdServer has its own bound)
READY_POLL = 0.005  # seconds between readiness polls, for both servers
STOP_TIMEOUT = 10.0  # seconds between SIGTERM and SIGKILL
WATCH_DRAIN_TIMEOUT = 10.0  # how long watchers may lag behind the last create
PRELOAD_TIMEOUT = 180.0  # upper bound on creating the pods for the list benchmark
SETTLE_TIMEOUT = 60.0  # how long to let the server finish its work on them before the lists
SETTLED_CORES = 0.10
VALUE_SIZE = 256
NAMESPACE = "bench"
LIST_NAMESPACE = "bench-list"
SERVING = re.compile(r"minikube-py: serving (?P<url>https://\S+) \(kubeconfig: (?P<kc>.*)\)")
STAMP = re.compile(rb'"stamp":"([0-9.]+)\|')


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Params:
    """Sizes and durations of one run; every loop is bounded by both a count and a time."""

    write_seconds: float  # each create / patch / etcd put phase
    read_seconds: float  # each get / list / etcd get phase
    pod_list_runs: int
    watch_seconds: float
    max_ops: int = 200_000
    clients: tuple[int, ...] = (1, 50)
    list_objects: int = 100  # ConfigMaps in the namespace the list phase reads
    pods: int = 5_000
    pod_namespaces: int = 10
    pod_clients: int = 50
    watchers: int = 100
    watch_rate: float = 100.0  # creates per second during the watch benchmark
    starts: int = 3


FULL = Params(write_seconds=5.0, read_seconds=3.0, pod_list_runs=5, watch_seconds=5.0)
QUICK = Params(write_seconds=1.0, read_seconds=0.5, pod_list_runs=3, watch_seconds=2.0)


# --------------------------------------------------------------------------- the API server


def import_pki() -> ModuleType:
    """Import ``minikube_py.apiserver.pki``, preferring the checkout this script lives in."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import minikube_py.apiserver.pki as pki

    return pki


def admin_ssl_context(state_dir: Path) -> ssl.SSLContext:
    """The cluster CA and admin client certificate that ``serve`` wrote into ``state_dir``."""
    pki = import_pki()
    context: ssl.SSLContext = pki.client_ssl_context(pki.Pki.at(state_dir))
    return context


class ServeProcess:
    """``python -m minikube_py serve`` on loopback; a context manager that always stops it."""

    def __init__(self, workdir: Path, pycache: Path) -> None:
        self.state_dir = workdir / "state"
        self.url = ""
        self.ready_seconds = math.nan  # spawn to /readyz 200
        self.stop_seconds = math.nan  # SIGTERM to exit
        self.exit_code: int | None = None
        self._pycache = pycache
        self.ssl_context: ssl.SSLContext | None = None
        self._log_path = workdir / "serve.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def __enter__(self) -> ServeProcess:
        try:
            self._start()
            return self
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _start(self) -> None:
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        args = [
            sys.executable,
            "-m",
            "minikube_py",
            "serve",
            "--state-dir",
            str(self.state_dir),
            "--port",
            "0",
            "--address",
            "127.0.0.1",
            "--kubeconfig",
            str(self.state_dir / "kubeconfig"),
        ]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        # Compiled bytecode, as any installation has, kept out of the checkout.
        env["PYTHONPYCACHEPREFIX"] = str(self._pycache)
        started = time.perf_counter()
        deadline = time.monotonic() + READY_TIMEOUT
        with self._log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
                cwd=REPO_ROOT,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        line = self._first_line(deadline)
        match = SERVING.fullmatch(line.strip())
        if match is None:
            raise RuntimeError(f"serve printed {line!r}; log tail:\n{self._log_tail()}")
        self.url = match["url"]
        self.ssl_context = admin_ssl_context(self.state_dir)
        self._wait_ready(deadline)
        self.ready_seconds = time.perf_counter() - started

    def _first_line(self, deadline: float) -> str:
        """The first line ``serve`` prints (when it serves), read with a deadline."""
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        buffer = b""
        while b"\n" not in buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"serve printed no URL in time; log tail:\n{self._log_tail()}")
            readable, _, _ = select.select([fd], [], [], min(left, 0.5))
            if readable:
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise RuntimeError(
                        f"serve exited with {self._proc.wait(STOP_TIMEOUT)} before serving; "
                        f"log tail:\n{self._log_tail()}"
                    )
                buffer += chunk
        return buffer.split(b"\n", 1)[0].decode(errors="replace")

    def _wait_ready(self, deadline: float) -> None:
        assert self._proc is not None
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(
                    f"{self.url}/readyz", context=self.ssl_context, timeout=1.0
                ) as reply:
                    if reply.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(READY_POLL)
        raise RuntimeError(f"serve never answered /readyz 200; log tail:\n{self._log_tail()}")

    def stop(self) -> None:
        """SIGTERM by pid, SIGKILL if it does not exit in time, and reap it."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.poll() is None:
                began = time.perf_counter()
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=STOP_TIMEOUT)
                self.stop_seconds = time.perf_counter() - began
            self.exit_code = proc.returncode
        finally:
            if proc.stdout is not None:
                proc.stdout.close()

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self._proc.pid) if self._proc is not None else 0.0

    def _log_tail(self) -> str:
        try:
            return "\n".join(self._log_path.read_text(errors="replace").splitlines()[-15:])
        except OSError:
            return "(no log)"


class FinePollEtcd(EtcdServer):
    """``EtcdServer``, polling ``/health`` as often as ``ServeProcess`` polls ``/readyz``."""

    poll_interval = READY_POLL


class ApiClient:
    """The API server over HTTPS with the admin certificate; keep-alive connections."""

    def __init__(self, url: str, context: ssl.SSLContext, max_connections: int) -> None:
        self.url = url
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=max_connections, ssl=context),
            timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT),
        )
        # Watches are long-lived streams: no total timeout, one connection each.
        self.watch_session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, ssl=context),
            timeout=aiohttp.ClientTimeout(total=None, connect=HTTP_TIMEOUT),
        )

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        expect: int = 200,
    ) -> bytes:
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": content_type} if data is not None else None
        async with self.session.request(
            method, f"{self.url}{path}", data=data, headers=headers
        ) as response:
            payload = await response.read()
            if response.status != expect:
                raise RuntimeError(f"{method} {path}: HTTP {response.status}: {payload[:300]!r}")
            return payload

    async def close(self) -> None:
        await self.session.close()
        await self.watch_session.close()


def config_map(name: str, value: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": {"value": value},
    }


def pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "main", "image": "registry.k8s.io/pause:3.10"}]},
    }


CM_PATH = f"/api/v1/namespaces/{NAMESPACE}/configmaps"
VALUE = "x" * VALUE_SIZE


# --------------------------------------------------------------------------- harness


@dataclass
class Measured:
    """One closed-loop phase: which operation, how many clients, what it cost."""

    system: str  # "etcd" or "apiserver"
    operation: str
    clients: int
    ops: int
    elapsed: float
    latencies: list[float]  # seconds, sorted
    server_cpu: float  # CPU seconds the server process used during the phase
    harness_cpu: float  # CPU seconds this process used

    @property
    def rate(self) -> float:
        return self.ops / self.elapsed if self.elapsed else 0.0

    def p(self, pct: float) -> float:
        return percentile(self.latencies, pct) * 1e3


Op = Callable[[int, int], Awaitable[None]]  # (client number, operation number)


async def closed_loop(
    op: Op, clients: int, max_ops: int, seconds: float
) -> tuple[list[float], float]:
    """``clients`` loops calling ``op`` until ``max_ops`` or ``seconds``; (latencies, elapsed)."""
    counter = itertools.count()
    latencies: list[float] = []
    start = time.perf_counter()
    deadline = start + seconds

    async def client(number: int) -> None:
        while time.perf_counter() < deadline:
            i = next(counter)
            if i >= max_ops:
                return
            began = time.perf_counter()
            await op(number, i)
            latencies.append(time.perf_counter() - began)

    await asyncio.gather(*(client(n) for n in range(clients)))
    return sorted(latencies), time.perf_counter() - start


class Harness:
    """Runs phases against both servers and remembers what they measured."""

    def __init__(
        self,
        api: ApiClient,
        etcd: EtcdKV | None,  # None when only the API server is measured
        serve_cpu: Callable[[], float],
        etcd_cpu: Callable[[], float],
        params: Params,
    ) -> None:
        self.api = api
        self.etcd = etcd
        self.cpu = {"apiserver": serve_cpu, "etcd": etcd_cpu}
        self.params = params
        self.results: list[Measured] = []

    async def warm(self, system: str, clients: int) -> None:
        """Open ``clients`` keep-alive connections (TLS handshakes are not measured)."""
        if system == "etcd":
            assert self.etcd is not None
            await asyncio.gather(*(self.etcd.get("/warm-up") for _ in range(clients)))
        else:
            await asyncio.gather(*(self.api.call("GET", "/version") for _ in range(clients)))

    async def measure(
        self,
        system: str,
        operation: str,
        clients: int,
        op: Op,
        seconds: float,
        max_ops: int | None = None,
    ) -> Measured:
        progress(f"{system}: {operation}, {clients} client{'s' * (clients > 1)} ({seconds:g} s)")
        await self.warm(system, clients)
        server_before, own_before = self.cpu[system](), time.process_time()
        latencies, elapsed = await closed_loop(op, clients, max_ops or self.params.max_ops, seconds)
        result = Measured(
            system,
            operation,
            clients,
            len(latencies),
            elapsed,
            latencies,
            self.cpu[system]() - server_before,
            time.process_time() - own_before,
        )
        self.results.append(result)
        return result


@dataclass
class WatchResult:
    latencies: list[float]  # seconds, sorted
    expected: int  # watchers * writes
    writes: int
    elapsed: float  # seconds the write schedule actually took
    write_latencies: list[float]  # the creates' own latencies, sorted
    server_cpu: float
    harness_cpu: float


@dataclass
class Results:
    ops: list[Measured] = field(default_factory=list)
    pod_create: Measured | None = None
    pod_list_times: list[float] = field(default_factory=list)
    pod_list_bytes: int = 0
    pod_list_cpu: list[float] = field(default_factory=list)  # server CPU seconds per list
    pod_list_background: float = 0.0  # cores the server used just before the lists
    watch: WatchResult | None = None
    etcd_starts: list[float] = field(default_factory=list)
    serve_starts: list[float] = field(default_factory=list)


async def bench_requests(h: Harness, params: Params) -> None:
    """Creates vs etcd puts, gets vs etcd gets, then lists and patches; alternating systems so
    that drifting machine load hits both."""
    api, etcd = h.api, h.etcd
    assert etcd is not None
    put_value = padded_value(b"put|")
    created: list[str] = []
    put_keys: list[str] = []
    for clients in params.clients:

        async def put(_n: int, i: int, clients: int = clients) -> None:
            await etcd.put(f"/bench/put{clients}/{i:08d}", put_value)

        async def create(_n: int, i: int, clients: int = clients) -> None:
            await api.call("POST", CM_PATH, config_map(f"c{clients}-{i:08d}", VALUE), expect=201)

        puts = await h.measure("etcd", "put", clients, put, params.write_seconds)
        creates = await h.measure(
            "apiserver", "create ConfigMap", clients, create, params.write_seconds
        )
        put_keys += [f"/bench/put{clients}/{i:08d}" for i in range(puts.ops)]
        created += [f"c{clients}-{i:08d}" for i in range(creates.ops)]
    if len(created) < max(params.clients):
        raise RuntimeError(f"only {len(created)} ConfigMaps created, need {max(params.clients)}")

    async def etcd_get(_n: int, i: int) -> None:
        key = put_keys[(i * 7919) % len(put_keys)]
        if await etcd.get(key) is None:
            raise RuntimeError(f"etcd: key {key} missing")

    async def api_get(_n: int, i: int) -> None:
        await api.call("GET", f"{CM_PATH}/{created[(i * 7919) % len(created)]}")

    for clients in params.clients:
        await h.measure("etcd", "get", clients, etcd_get, params.read_seconds)
        await h.measure("apiserver", "get ConfigMap", clients, api_get, params.read_seconds)

    list_path = f"/api/v1/namespaces/{LIST_NAMESPACE}/configmaps"

    async def api_list(_n: int, _i: int) -> None:
        await api.call("GET", list_path)

    for clients in params.clients:
        await h.measure(
            "apiserver",
            f"list {params.list_objects} ConfigMaps",
            clients,
            api_list,
            params.read_seconds,
        )

    for clients in params.clients:
        # Each client patches its own objects, so clients never conflict with each other.
        mine = [created[n::clients] for n in range(clients)]

        async def patch(n: int, i: int, mine: list[list[str]] = mine) -> None:
            names = mine[n]
            await api.call(
                "PATCH",
                f"{CM_PATH}/{names[i % len(names)]}",
                {"data": {"patched": str(i)}},
                content_type="application/merge-patch+json",
            )

        await h.measure(
            "apiserver", "patch ConfigMap (merge)", clients, patch, params.write_seconds
        )


async def settle(cpu: Callable[[], float]) -> float:
    """Wait (at most ``SETTLE_TIMEOUT``) until the server is nearly idle, and return the
    cores it still uses. ``serve`` runs a whole cluster: just after 5,000 pods were created,
    its scheduler is still working through them (each unschedulable one gets a status write),
    which would be timed along with the lists."""
    deadline = time.perf_counter() + SETTLE_TIMEOUT
    busy = math.inf
    while time.perf_counter() < deadline:
        before = cpu()
        await asyncio.sleep(1.0)
        busy = cpu() - before
        if busy < SETTLED_CORES:
            break
    progress(f"apiserver: server settled at {busy:.2f} cores before the lists")
    return busy


async def ensure_default_account(api: ApiClient, namespace: str) -> None:
    """Pods need their namespace's ``default`` ServiceAccount (admission refuses them without
    it); ``serve`` alone runs no controller that would make it, so the harness does."""
    path = f"/api/v1/namespaces/{namespace}/serviceaccounts"
    try:
        await api.call("POST", path, {"metadata": {"name": "default"}}, expect=201)
    except RuntimeError as error:
        if "HTTP 409" not in str(error):  # made by a controller meanwhile: fine
            raise


async def bench_pods(h: Harness, params: Params, results: Results) -> None:
    """Create the pods with ``pod_clients`` clients, then time cluster-wide lists."""
    namespaces = [f"bench-pods-{n}" for n in range(params.pod_namespaces)]
    for namespace in namespaces:
        await h.api.call(
            "POST", "/api/v1/namespaces", {"metadata": {"name": namespace}}, expect=201
        )
        await ensure_default_account(h.api, namespace)

    async def create(_n: int, i: int) -> None:
        namespace = namespaces[i % len(namespaces)]
        await h.api.call(
            "POST", f"/api/v1/namespaces/{namespace}/pods", pod(f"pod-{i:05d}"), expect=201
        )

    made = await h.measure(
        "apiserver",
        f"create Pod ({params.pods} in total)",
        params.pod_clients,
        create,
        PRELOAD_TIMEOUT,
        max_ops=params.pods,
    )
    h.results.remove(made)  # reported on its own line, not in the table
    if made.ops != params.pods:
        raise RuntimeError(f"created only {made.ops}/{params.pods} pods")
    results.pod_create = made
    results.pod_list_background = await settle(h.cpu["apiserver"])
    progress(f"apiserver: list all {params.pods} pods x {params.pod_list_runs}")
    for _ in range(params.pod_list_runs):
        server_before = h.cpu["apiserver"]()
        start = time.perf_counter()
        body = await h.api.call("GET", "/api/v1/pods")
        results.pod_list_times.append(time.perf_counter() - start)
        results.pod_list_cpu.append(h.cpu["apiserver"]() - server_before)
        items = len(json.loads(body)["items"])
        if items != params.pods:
            raise RuntimeError(f"listed {items} pods, expected {params.pods}")
        results.pod_list_bytes = len(body)


async def bench_watch(h: Harness, params: Params) -> WatchResult:
    """``watchers`` watch streams on one namespace; open-loop creates at ``watch_rate``/s."""
    progress(
        f"apiserver: watch, {params.watchers} watchers at {params.watch_rate:g} creates/s "
        f"({params.watch_seconds:g} s)"
    )
    api = h.api
    await h.warm("apiserver", max(params.clients))
    writes = max(1, round(params.watch_rate * params.watch_seconds))
    listed = json.loads(await api.call("GET", f"{CM_PATH}?limit=1"))
    revision = listed["metadata"]["resourceVersion"]
    url = f"{api.url}{CM_PATH}?watch=1&resourceVersion={revision}"
    responses: list[aiohttp.ClientResponse] = []
    consumers: list[asyncio.Task[int]] = []
    creates: list[asyncio.Task[None]] = []
    latencies: list[float] = []
    write_latencies: list[float] = []
    try:
        for _ in range(params.watchers):
            response = await api.watch_session.get(url)
            responses.append(response)
            if response.status != 200:
                raise RuntimeError(f"watch: HTTP {response.status}")

        async def consume(response: aiohttp.ClientResponse) -> int:
            # One await per chunk, not per line, and a regex instead of a JSON parse: the
            # client's own work is part of the measured latency, so keep it small.
            received, pending = 0, b""
            async for chunk in response.content.iter_any():
                now = time.perf_counter()
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    found = STAMP.search(line)
                    if found is not None:
                        latencies.append(now - float(found[1]))
                        received += 1
                if received >= writes:
                    break
            return received

        async def stamped_create(i: int) -> None:
            began = time.perf_counter()
            stamp = f"{began:.9f}|".ljust(VALUE_SIZE, "x")
            body = config_map(f"w-{i:08d}", VALUE)
            body["data"]["stamp"] = stamp
            await api.call("POST", CM_PATH, body, expect=201)
            write_latencies.append(time.perf_counter() - began)

        consumers = [asyncio.create_task(consume(response)) for response in responses]
        server_before, own_before = h.cpu["apiserver"](), time.process_time()
        start = time.perf_counter()
        for i in range(writes):
            delay = start + i / params.watch_rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            creates.append(asyncio.create_task(stamped_create(i)))
        await asyncio.gather(*creates)
        elapsed = time.perf_counter() - start
        await asyncio.wait(consumers, timeout=WATCH_DRAIN_TIMEOUT)
        server_cpu = h.cpu["apiserver"]() - server_before
        harness_cpu = time.process_time() - own_before
        for consumer in consumers:
            if consumer.done() and not consumer.cancelled() and consumer.exception():
                raise RuntimeError("a watcher failed") from consumer.exception()
    finally:
        for task in itertools.chain(consumers, creates):
            task.cancel()
        await asyncio.gather(*consumers, *creates, return_exceptions=True)
        for response in responses:
            response.close()
    return WatchResult(
        sorted(latencies),
        writes * params.watchers,
        writes,
        elapsed,
        sorted(write_latencies),
        server_cpu,
        harness_cpu,
    )


async def run_pod_list(serve: ServeProcess, params: Params) -> Results:
    """Only the cluster-wide pod list (``--pod-list-only``): no etcd, no other phases."""
    assert serve.ssl_context is not None
    results = Results()
    api = ApiClient(serve.url, serve.ssl_context, params.pod_clients + 8)
    try:
        h = Harness(api, None, serve.cpu_seconds, lambda: 0.0, params)
        await bench_pods(h, params, results)
    finally:
        await api.close()
    return results


def print_pod_list(results: Results, params: Params) -> None:
    pods = results.pod_create
    assert pods is not None
    pod_list = statistics.median(results.pod_list_times) * 1e3
    print(
        f"pods: {pods.ops} created by {pods.clients} clients in {pods.elapsed:.1f} s "
        f"({pods.rate:,.0f}/s)"
    )
    print(
        f"list of all {params.pods} pods (GET /api/v1/pods, "
        f"{results.pod_list_bytes / 1e6:.1f} MB): median {pod_list:.0f} ms of "
        f"{len(results.pod_list_times)} (runs: {ms_list(results.pod_list_times)} ms); "
        f"server CPU per list: median {statistics.median(results.pod_list_cpu) * 1e3:.0f} ms "
        f"(server busy with other work before: {results.pod_list_background:.2f} cores)"
    )
    met = "met" if pod_list <= 250.0 else "NOT met"
    print(f"  [{met}] list of {params.pods} pods <= 250 ms: {pod_list:.0f} ms (median)")


async def run_load(
    etcd_url: str, serve: ServeProcess, etcd_cpu: Callable[[], float], params: Params
) -> Results:
    # Inside the loop, SIGTERM cancels this task (as asyncio.run does for Ctrl-C), so the
    # HTTP sessions are closed by the finally blocks below; the processes are stopped by main.
    loop = asyncio.get_running_loop()
    this_task = asyncio.current_task()
    assert this_task is not None and serve.ssl_context is not None
    loop.add_signal_handler(signal.SIGTERM, this_task.cancel)
    results = Results()
    connections = max(*params.clients, params.pod_clients) + 8
    try:
        api = ApiClient(serve.url, serve.ssl_context, connections)
        try:
            etcd = EtcdKV(etcd_url, max_connections=connections)
            try:
                for namespace in (NAMESPACE, LIST_NAMESPACE):
                    await api.call(
                        "POST", "/api/v1/namespaces", {"metadata": {"name": namespace}}, expect=201
                    )
                list_path = f"/api/v1/namespaces/{LIST_NAMESPACE}/configmaps"
                await asyncio.gather(
                    *(
                        api.call("POST", list_path, config_map(f"l-{i:04d}", VALUE), expect=201)
                        for i in range(params.list_objects)
                    )
                )
                h = Harness(api, etcd, serve.cpu_seconds, etcd_cpu, params)
                await bench_requests(h, params)
                await bench_pods(h, params, results)
                results.watch = await bench_watch(h, params)
                results.ops = h.results
            finally:
                await etcd.close()
        finally:
            await api.close()
        return results
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
        signal.signal(signal.SIGTERM, _terminate_as_interrupt)


def time_starts(etcd_binary: str, workdir: Path, params: Params, results: Results) -> None:
    """Start etcd and ``serve`` ``params.starts`` times each, alternating, on fresh directories,
    after one untimed start of each (which fills the page cache and compiles the bytecode)."""
    for n in range(params.starts + 1):
        progress(
            f"start to ready, {f'round {n}/{params.starts}' if n else 'warm-up'}: etcd, then serve"
        )
        directory = workdir / f"start-etcd-{n}"
        directory.mkdir()
        began = time.perf_counter()
        with FinePollEtcd(etcd_binary, directory):
            if n:
                results.etcd_starts.append(time.perf_counter() - began)
        with ServeProcess(workdir / f"start-serve-{n}", workdir / "pycache") as serve:
            if n:
                results.serve_starts.append(serve.ready_seconds)


# --------------------------------------------------------------------------- report


def find(results: Results, system: str, operation: str, clients: int) -> Measured:
    for measured in results.ops:
        if (measured.system, measured.operation, measured.clients) == (system, operation, clients):
            return measured
    raise KeyError((system, operation, clients))


def ms_list(values: Sequence[float]) -> str:
    return ", ".join(f"{v * 1e3:.0f}" for v in values)


def print_starts(results: Results, params: Params) -> tuple[float, float]:
    """Print the start-to-ready line; return the medians (serve, etcd) in seconds."""
    serve_start = statistics.median(results.serve_starts)
    etcd_start = statistics.median(results.etcd_starts)
    ratio = serve_start / etcd_start if etcd_start else math.inf
    print(
        f"start to ready, median of {params.starts}: serve {serve_start * 1e3:.0f} ms "
        f"(runs: {ms_list(results.serve_starts)}) vs etcd {etcd_start * 1e3:.0f} ms "
        f"(runs: {ms_list(results.etcd_starts)}); ratio {ratio:.3f}x"
    )
    return serve_start, etcd_start


def print_report(results: Results, params: Params, header: Sequence[str]) -> None:
    print()
    for text in header:
        print(text)
    print()
    rows = [
        ("system", "operation", "clients", "ops/s", "p50 ms", "p99 ms", "server CPU", "harness CPU")
    ]
    for m in results.ops:
        rows.append(
            (
                m.system,
                m.operation,
                str(m.clients),
                f"{m.rate:,.0f}",
                f"{m.p(50):.2f}",
                f"{m.p(99):.2f}",
                f"{m.server_cpu / m.elapsed:.2f} cores",
                f"{m.harness_cpu / m.elapsed:.2f} cores",
            )
        )
    print_table(rows, right=(2, 3, 4, 5, 6, 7))
    print()
    pods = results.pod_create
    assert pods is not None and results.watch is not None
    pod_list = statistics.median(results.pod_list_times) * 1e3
    print(
        f"pods: {pods.ops} created by {pods.clients} clients in {params.pod_namespaces} "
        f"namespaces in {pods.elapsed:.1f} s ({pods.rate:,.0f}/s, p50 {pods.p(50):.1f} ms, "
        f"p99 {pods.p(99):.1f} ms, server {pods.server_cpu / pods.elapsed:.2f} cores)"
    )
    print(
        f"list of all {params.pods} pods (GET /api/v1/pods, "
        f"{results.pod_list_bytes / 1e6:.1f} MB): median {pod_list:.0f} ms of "
        f"{len(results.pod_list_times)} (runs: {ms_list(results.pod_list_times)} ms); "
        f"server CPU per list: median {statistics.median(results.pod_list_cpu) * 1e3:.0f} ms "
        f"(server busy with other work before: {results.pod_list_background:.2f} cores)"
    )
    w = results.watch
    missed = w.expected - len(w.latencies)
    print(
        f"watch: {params.watchers} watchers, {w.writes} creates in {w.elapsed:.2f} s "
        f"(target {params.watch_rate:g}/s): {len(w.latencies)}/{w.expected} events delivered"
        f"{f' ({missed} MISSED)' if missed else ''}; latency create start to receipt "
        f"p50 {percentile(w.latencies, 50) * 1e3:.1f} ms, p99 "
        f"{percentile(w.latencies, 99) * 1e3:.1f} ms, max "
        f"{(w.latencies[-1] if w.latencies else math.nan) * 1e3:.1f} ms; the creates "
        f"themselves p50 {percentile(w.write_latencies, 50) * 1e3:.1f} ms, p99 "
        f"{percentile(w.write_latencies, 99) * 1e3:.1f} ms; server "
        f"{w.server_cpu / w.elapsed:.2f} cores, harness {w.harness_cpu / w.elapsed:.2f} cores"
    )
    serve_start, etcd_start = print_starts(results, params)
    print()
    print("Goals")
    goals: list[tuple[bool, str, str]] = []
    for clients in sorted(params.clients, reverse=True):
        creates = find(results, "apiserver", "create ConfigMap", clients)
        puts = find(results, "etcd", "put", clients)
        ratio = creates.rate / puts.rate if puts.rate else math.inf
        goals.append(
            (
                ratio >= 0.5,
                f"creates/s >= 0.5x etcd puts/s, {clients} client{'s' * (clients > 1)}",
                f"{ratio:.3f}x ({creates.rate:,.0f}/s vs {puts.rate:,.0f}/s)",
            )
        )
    most = max(params.clients)
    for operation in ("create ConfigMap", "patch ConfigMap (merge)"):
        m = find(results, "apiserver", operation, most)
        goals.append(
            (
                m.p(99) <= 50.0,
                f"{operation.split()[0]} p99 <= 50 ms at {most} clients",
                f"{m.p(99):.1f} ms",
            )
        )
    goals.append(
        (pod_list <= 250.0, f"list of {params.pods} pods <= 250 ms", f"{pod_list:.0f} ms (median)")
    )
    ratio = serve_start / etcd_start if etcd_start else math.inf
    goals.append(
        (
            ratio <= 1.0,
            "serve start-to-ready <= 1.0x etcd start-to-healthy",
            f"{ratio:.3f}x ({serve_start * 1e3:.0f} ms vs {etcd_start * 1e3:.0f} ms, medians)",
        )
    )
    for met, goal, detail in goals:
        print(f"  [{'met' if met else 'NOT met'}] {goal}: {detail}")


# --------------------------------------------------------------------------- main


def children_cpu_seconds() -> float:
    """CPU time of this process's terminated and reaped children (etcd, serve)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pod_list_only(params: Params) -> int:
    try:
        import_pki()
    except ImportError as exc:
        print(f"cannot import minikube_py: {exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    with tempfile.TemporaryDirectory(prefix="bench-api-", ignore_cleanup_errors=True) as tmp:
        workdir = Path(tmp)
        with ServeProcess(workdir / "serve", workdir / "pycache") as serve:
            progress(f"serve at {serve.url} (pid {serve.pid})")
            try:
                results = asyncio.run(run_pod_list(serve, params))
            except asyncio.CancelledError:
                raise KeyboardInterrupt("SIGTERM") from None
    print()
    print_pod_list(results, params)
    return 0


def start_only(etcd_binary: str, params: Params) -> int:
    """Just the start-to-ready timing, for work on that one goal."""
    results = Results()
    with tempfile.TemporaryDirectory(prefix="bench-api-", ignore_cleanup_errors=True) as tmp:
        time_starts(etcd_binary, Path(tmp), params, results)
    print()
    print_starts(results, params)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="short run (< 45 s) for a smoke test")
    parser.add_argument(
        "--pod-list-only",
        action="store_true",
        help="only the cluster-wide list of 5,000 pods (no etcd, no other phases)",
    )
    parser.add_argument("--pod-list-runs", type=int, help="how many pod lists to time")
    parser.add_argument(
        "--start-only",
        action="store_true",
        help="only start-to-ready of serve vs etcd (no load phases)",
    )
    parser.add_argument("--starts", type=int, help="how many starts of each to time")
    args = parser.parse_args(argv)
    params = QUICK if args.quick else FULL
    if args.pod_list_runs:
        params = dataclasses.replace(params, pod_list_runs=args.pod_list_runs)
    if args.starts:
        params = dataclasses.replace(params, starts=args.starts)
    if args.pod_list_only:
        return pod_list_only(params)

    etcd_binary = find_etcd()
    if etcd_binary is None:
        print("etcd not found: install it with `apt-get install etcd-server`", file=sys.stderr)
        return 2
    try:  # fail early, before starting anything
        import_pki()
    except ImportError as exc:
        print(f"cannot import minikube_py: {exc}", file=sys.stderr)
        return 2

    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    if args.start_only:
        return start_only(etcd_binary, params)
    started = time.perf_counter()
    busy_before, own_before = system_busy_seconds(), time.process_time()
    children_before = children_cpu_seconds()
    version = etcd_version(etcd_binary)
    results = Results()
    with contextlib.ExitStack() as stack:
        workdir = Path(
            stack.enter_context(
                tempfile.TemporaryDirectory(prefix="bench-api-", ignore_cleanup_errors=True)
            )
        )
        time_starts(etcd_binary, workdir, params, results)
        (workdir / "etcd").mkdir()
        progress(f"starting etcd {version} and serve in {workdir}")
        etcd = stack.enter_context(EtcdServer(etcd_binary, workdir / "etcd"))
        serve = stack.enter_context(ServeProcess(workdir / "serve", workdir / "pycache"))
        progress(f"etcd at {etcd.client_url}, serve at {serve.url} (pid {serve.pid})")
        try:
            load = asyncio.run(run_load(etcd.client_url, serve, etcd.cpu_seconds, params))
        except asyncio.CancelledError:  # SIGTERM while the loop ran
            raise KeyboardInterrupt("SIGTERM") from None
        load.etcd_starts, load.serve_starts = results.etcd_starts, results.serve_starts
        results = load
    # Every child has been reaped: what the machine did beyond us and them was someone else's.
    wall = time.perf_counter() - started
    ours = time.process_time() - own_before + children_cpu_seconds() - children_before
    others = system_busy_seconds() - busy_before - ours
    header = [
        f"api ({'quick' if args.quick else 'full'} run, {wall:.1f} s): minikube_py API server "
        f"(`python -m minikube_py serve`, durable SQLite, HTTPS + admin client certificate) "
        f"vs etcd {version} via its v3 HTTP/JSON gateway; aiohttp keep-alive; "
        f"{VALUE_SIZE}-byte values; {os.cpu_count()} CPUs",
        f"CPU used by other processes during the run: {max(others, 0.0) / wall:.2f} cores"
        + (" -- WARNING: machine was busy, numbers are noisy" if others / wall > 0.25 else ""),
        "server CPU / harness CPU: cores used by the server (etcd or serve) and by this "
        "harness during each phase",
    ]
    if serve.exit_code == 0:
        header.append(f"serve stopped {serve.stop_seconds:.2f} s after SIGTERM")
    else:
        header.append(
            f"WARNING: serve did not stop cleanly within {STOP_TIMEOUT:g} s of SIGTERM "
            f"(exit code {serve.exit_code}{', killed' if serve.exit_code == -9 else ''})"
        )
    print_report(results, params, header)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
