"""Benchmark minikube_py's SQL store against etcd 3.4, through one shared harness.

Usage::

    python bench/store_vs_etcd.py [--quick]

What it measures, for each system, and why:

* **Durable puts/s, 1 writer** -- a single sequential client writing distinct keys with
  256-byte values.  This is bounded by commit latency (an fsync per write for both systems),
  i.e. what one controller loop doing read-modify-write sees.
* **Durable puts/s, 50 writers** -- 50 concurrent clients.  This shows whether commits are
  batched (etcd batches raft/WAL writes; our store group-commits), which is what a busy
  apiserver with many controllers needs.
* **Gets/s** -- point reads of existing keys, from one sequential client and from 50
  concurrent clients (the apiserver's GET path).
* **List of N keys under one prefix** -- time to read all of them (median of several runs).
  Lists back every informer resync and ``kubectl get``; for etcd it is one range request with
  ``range_end`` set to the end of the prefix.  The goal compares throughput (etcd_time / ours).
* **Watch delivery latency p50/p99** -- 100 watchers on one prefix while a writer issues
  100 puts/s (open loop: puts are started on a fixed schedule, not after the previous one
  finishes).  Each value starts with the ``time.perf_counter()`` at which its put was started;
  latency is "put started" to "this watcher received the event", so it includes the commit.

Both systems are driven by the same Python functions through an adapter class per system
(``put`` / ``get`` / ``list_prefix`` / ``open_watch``).  etcd is reached through its v3
HTTP/JSON gateway (``/v3/kv/put``, ``/v3/kv/range``, ``/v3/watch``; keys and values are
base64) with aiohttp, one streaming ``POST /v3/watch`` connection per watcher.  Our store is
used in-process, opened in durable file mode (``sqlite:///<tmpdir>/state.db``: WAL,
``synchronous=FULL``).  Both keep their data in the same temporary directory, so both pay the
same disk's fsync cost.

Caveats: the etcd numbers include the gateway's JSON/HTTP hop and this process's JSON/base64
decoding, so they understate what a native gRPC client gets from etcd; our store pays no
network hop at all.  The harness runs in one asyncio loop, so with many watchers or writers
the Python client itself is part of what is measured -- equally for both systems.

etcd (Debian's ``etcd-server``) is started as a child process listening on 127.0.0.1 only,
on free ports chosen at run time, in a temporary data directory.  It is always terminated
(by its pid) and the directory removed at the end, including on errors and Ctrl-C.
``--quick`` shrinks all durations and counts so the whole run takes well under 30 seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import math
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, ModuleType, TracebackType
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp

if TYPE_CHECKING:  # imported for real by import_store(), which reports a missing store nicely
    from minikube_py.store import Store, Watch

REPO_ROOT = Path(__file__).resolve().parent.parent
ETCD_DEFAULT_PATH = "/usr/bin/etcd"
ETCD_READY_TIMEOUT = 20.0  # seconds to wait for /health after spawning etcd
ETCD_STOP_TIMEOUT = 10.0  # seconds between SIGTERM and SIGKILL
HTTP_TIMEOUT = 30.0  # per-request bound for unary etcd requests
WATCH_DRAIN_TIMEOUT = 10.0  # how long watchers may lag behind the last put
PRELOAD_TIMEOUT = 300.0  # upper bound on writing the keys for the list benchmark
VALUE_SIZE = 256


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Params:
    """Sizes and durations of one run; every loop is bounded by both a count and a time."""

    put_seconds: float
    put_max_ops: int
    get_seconds: float
    get_max_ops: int
    list_keys: int
    list_runs: int
    watch_seconds: float
    writers: int = 50
    readers: int = 50
    watchers: int = 100
    watch_rate: float = 100.0  # puts per second during the watch benchmark


FULL = Params(
    put_seconds=5.0,
    put_max_ops=200_000,
    get_seconds=3.0,
    get_max_ops=500_000,
    list_keys=10_000,
    list_runs=5,
    watch_seconds=5.0,
)
QUICK = Params(
    put_seconds=1.0,
    put_max_ops=50_000,
    get_seconds=0.75,
    get_max_ops=100_000,
    list_keys=2_000,
    list_runs=3,
    watch_seconds=1.5,
)


# --------------------------------------------------------------------------- adapters


class WatchStream(Protocol):
    """An established watch; ``events`` yields ``(key, value)`` for puts under the prefix."""

    def events(self) -> AsyncIterator[tuple[str, bytes]]: ...

    async def close(self) -> None: ...


class KV(Protocol):
    """The operations the harness needs, implemented once per system."""

    name: str

    async def put(self, key: str, value: bytes) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def list_prefix(self, prefix: str) -> list[tuple[str, bytes]]: ...

    async def open_watch(self, prefix: str) -> WatchStream: ...

    async def close(self) -> None: ...


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text)


def prefix_end(prefix: bytes) -> bytes:
    """The smallest key greater than every key starting with ``prefix`` (etcd range_end)."""
    buf = bytearray(prefix)
    while buf:
        if buf[-1] < 0xFF:
            buf[-1] += 1
            return bytes(buf)
        buf.pop()
    return b"\x00"  # etcd: range_end "\0" means "all keys >= key"


class EtcdWatchStream:
    """One streaming ``POST /v3/watch`` response, read as newline-delimited JSON."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def events(self) -> AsyncIterator[tuple[str, bytes]]:
        # Read whatever has arrived and split it ourselves: one await per chunk instead of
        # one per line keeps this client's overhead (part of the measured latency) small.
        pending = b""
        async for chunk in self._response.content.iter_any():
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                for item in self._parse(line):
                    yield item

    @staticmethod
    def _parse(line: bytes) -> list[tuple[str, bytes]]:
        if not line.strip():
            return []
        message = json.loads(line)
        if "error" in message:
            raise RuntimeError(f"etcd watch error: {message['error']}")
        result = message.get("result", {})
        if result.get("canceled"):
            raise RuntimeError(f"etcd watch canceled: {result}")
        return [
            (_unb64(event["kv"]["key"]).decode(), _unb64(event["kv"].get("value", "")))
            for event in result.get("events", ())
            if event.get("type", "PUT") == "PUT"
        ]

    async def close(self) -> None:
        self._response.close()


class EtcdKV:
    """etcd through its v3 HTTP/JSON gateway."""

    name = "etcd"

    def __init__(self, client_url: str, max_connections: int) -> None:
        self._url = client_url
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=max_connections),
            timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT),
        )
        # Watches are long-lived streams: no total timeout, one connection each.
        self._watch_session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0),
            timeout=aiohttp.ClientTimeout(total=None, connect=HTTP_TIMEOUT),
        )

    async def _call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self._session.post(f"{self._url}{path}", json=body) as response:
            if response.status != 200:
                text = await response.text()
                raise RuntimeError(f"etcd {path}: HTTP {response.status}: {text[:200]}")
            result: dict[str, Any] = await response.json(content_type=None)
            return result

    async def put(self, key: str, value: bytes) -> None:
        await self._call("/v3/kv/put", {"key": _b64(key.encode()), "value": _b64(value)})

    async def get(self, key: str) -> bytes | None:
        result = await self._call("/v3/kv/range", {"key": _b64(key.encode())})
        kvs = result.get("kvs")
        if not kvs:
            return None
        return _unb64(kvs[0].get("value", ""))

    async def list_prefix(self, prefix: str) -> list[tuple[str, bytes]]:
        raw = prefix.encode()
        body = {"key": _b64(raw), "range_end": _b64(prefix_end(raw))}
        result = await self._call("/v3/kv/range", body)
        return [
            (_unb64(kv["key"]).decode(), _unb64(kv.get("value", "")))
            for kv in result.get("kvs", ())
        ]

    async def open_watch(self, prefix: str) -> WatchStream:
        raw = prefix.encode()
        body = {"create_request": {"key": _b64(raw), "range_end": _b64(prefix_end(raw))}}
        response = await self._watch_session.post(f"{self._url}/v3/watch", json=body)
        try:
            if response.status != 200:
                raise RuntimeError(f"etcd /v3/watch: HTTP {response.status}")
            # The first message confirms the watch; events may only be expected after it.
            first = await asyncio.wait_for(response.content.readline(), HTTP_TIMEOUT)
            created = json.loads(first).get("result", {})
            if not created.get("created"):
                raise RuntimeError(f"etcd /v3/watch: expected created response, got {first!r}")
        except BaseException:
            response.close()
            raise
        return EtcdWatchStream(response)

    async def close(self) -> None:
        await self._session.close()
        await self._watch_session.close()


class StoreWatchStream:
    """A watch on our store; deletions (no value) are skipped, the harness only puts."""

    def __init__(self, watch: Watch) -> None:
        self._watch = watch

    async def events(self) -> AsyncIterator[tuple[str, bytes]]:
        async for event in self._watch:
            if event.value is not None:
                yield event.key, event.value

    async def close(self) -> None:
        self._watch.close()


class StoreKV:
    """minikube_py.store, in-process, durable SQLite file mode."""

    name = "minikube_py"

    def __init__(self, store: Store, store_module: ModuleType) -> None:
        self._store = store
        self._mod = store_module  # for its exception classes

    @classmethod
    async def open(cls, db_path: Path) -> StoreKV:
        store_module = import_store()
        store: Store = await store_module.open_store(f"sqlite:///{db_path}")
        return cls(store, store_module)

    async def put(self, key: str, value: bytes) -> None:
        # etcd's put is an upsert; ours splits it into create and update.
        try:
            await self._store.create(key, value)
        except self._mod.AlreadyExists:
            await self._store.update(key, value, expected_revision=None)

    async def get(self, key: str) -> bytes | None:
        try:
            kv = await self._store.get(key)
        except self._mod.NotFound:
            return None
        return kv.value

    async def list_prefix(self, prefix: str) -> list[tuple[str, bytes]]:
        items: list[tuple[str, bytes]] = []
        token: str | None = None
        for _ in range(1_000_000):  # bounded: follows continue tokens if the store pages
            result = await self._store.list(prefix, limit=0, continue_token=token)
            items.extend((kv.key, kv.value) for kv in result.items)
            token = result.continue_token
            if not token:
                return items
        raise RuntimeError("store list did not terminate")

    async def open_watch(self, prefix: str) -> WatchStream:
        revision = await self._store.current_revision()
        return StoreWatchStream(await self._store.watch(prefix, revision))

    async def close(self) -> None:
        await self._store.close()


def import_store() -> ModuleType:
    """Import ``minikube_py.store``, preferring the checkout this script lives in."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import minikube_py.store as store_module

    return store_module


# --------------------------------------------------------------------------- harness


def padded_value(head: bytes) -> bytes:
    return head.ljust(VALUE_SIZE, b"x")[:VALUE_SIZE]


def stamped_value() -> bytes:
    """A 256-byte value whose first field is the perf_counter() at which it was made."""
    return padded_value(b"%.9f|" % time.perf_counter())


def stamp_of(value: bytes) -> float:
    return float(value[: value.index(b"|")])


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = min(len(sorted_values), max(1, math.ceil(pct / 100.0 * len(sorted_values))))
    return sorted_values[rank - 1]


async def run_puts(
    db: KV, prefix: str, workers: int, max_ops: int, seconds: float
) -> tuple[int, float]:
    """``workers`` clients put distinct keys until ``max_ops`` or ``seconds``; (ops, elapsed)."""
    counter = itertools.count()
    value = padded_value(b"put|")
    start = time.perf_counter()
    deadline = start + seconds

    async def worker() -> int:
        done = 0
        while time.perf_counter() < deadline:
            i = next(counter)
            if i >= max_ops:
                break
            await db.put(f"{prefix}{i:08d}", value)
            done += 1
        return done

    counts = await asyncio.gather(*(worker() for _ in range(workers)))
    return sum(counts), time.perf_counter() - start


async def run_gets(
    db: KV, keys: Sequence[str], workers: int, max_ops: int, seconds: float
) -> tuple[int, float]:
    """``workers`` clients get random existing keys; returns (ops, elapsed)."""
    if not keys:
        raise RuntimeError(f"{db.name}: no keys to read (the put phase wrote none)")
    counter = itertools.count()
    start = time.perf_counter()
    deadline = start + seconds

    async def worker(seed: int) -> int:
        rng = random.Random(seed)
        done = 0
        while time.perf_counter() < deadline and next(counter) < max_ops:
            key = rng.choice(keys)
            if await db.get(key) is None:
                raise RuntimeError(f"{db.name}: key {key!r} missing")
            done += 1
        return done

    counts = await asyncio.gather(*(worker(seed) for seed in range(workers)))
    return sum(counts), time.perf_counter() - start


async def bench_list(db: KV, params: Params) -> list[float]:
    """Write ``list_keys`` keys under a fresh prefix, then time listing them; seconds per run."""
    prefix = "/bench/list/"
    written, _ = await run_puts(db, prefix, params.writers, params.list_keys, PRELOAD_TIMEOUT)
    if written != params.list_keys:
        raise RuntimeError(f"{db.name}: preloaded only {written}/{params.list_keys} keys")
    timings: list[float] = []
    for _ in range(params.list_runs):
        start = time.perf_counter()
        items = await db.list_prefix(prefix)
        timings.append(time.perf_counter() - start)
        if len(items) != params.list_keys:
            raise RuntimeError(f"{db.name}: listed {len(items)} keys, expected {params.list_keys}")
    return timings


@dataclass
class WatchResult:
    latencies: list[float]  # seconds, sorted
    expected: int  # watchers * writes
    writes: int
    elapsed: float  # seconds the write schedule actually took


async def bench_watch(db: KV, params: Params) -> WatchResult:
    """``watchers`` watches on one prefix; open-loop puts at ``watch_rate``/s; delivery latency."""
    prefix = "/bench/watch/"
    writes = max(1, round(params.watch_rate * params.watch_seconds))
    streams: list[WatchStream] = []
    consumers: list[asyncio.Task[int]] = []
    puts: list[asyncio.Task[None]] = []
    latencies: list[float] = []
    try:
        for _ in range(params.watchers):
            streams.append(await db.open_watch(prefix))

        async def consume(stream: WatchStream) -> int:
            received = 0
            async for _key, value in stream.events():
                latencies.append(time.perf_counter() - stamp_of(value))
                received += 1
                if received >= writes:
                    break
            return received

        async def stamped_put(key: str) -> None:
            await db.put(key, stamped_value())

        consumers = [asyncio.create_task(consume(stream)) for stream in streams]
        start = time.perf_counter()
        for i in range(writes):
            delay = start + i / params.watch_rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            puts.append(asyncio.create_task(stamped_put(f"{prefix}{i:08d}")))
        await asyncio.gather(*puts)
        elapsed = time.perf_counter() - start
        if consumers:
            await asyncio.wait(consumers, timeout=WATCH_DRAIN_TIMEOUT)
        for consumer in consumers:
            if consumer.done() and not consumer.cancelled() and consumer.exception():
                raise RuntimeError(f"{db.name}: watcher failed") from consumer.exception()
    finally:
        for task in itertools.chain(consumers, puts):
            task.cancel()
        await asyncio.gather(*consumers, *puts, return_exceptions=True)
        for stream in streams:
            await stream.close()
    latencies.sort()
    return WatchResult(latencies, writes * params.watchers, writes, elapsed)


@dataclass
class SystemResult:
    name: str
    put1: float = 0.0  # puts/s
    put_many: float = 0.0
    get1: float = 0.0  # gets/s
    get_many: float = 0.0
    list_times: list[float] = field(default_factory=list)  # seconds
    watch: WatchResult | None = None
    get_keys: list[str] = field(default_factory=list)  # written by phase_put1, read by gets

    @property
    def list_median(self) -> float:
        return statistics.median(self.list_times)


async def phase_put1(db: KV, result: SystemResult, params: Params) -> None:
    progress(f"{db.name}: puts, 1 writer ({params.put_seconds:g} s)")
    ops, elapsed = await run_puts(db, "/bench/put1/", 1, params.put_max_ops, params.put_seconds)
    result.put1 = ops / elapsed
    result.get_keys = [f"/bench/put1/{i:08d}" for i in range(ops)]


async def phase_put_many(db: KV, result: SystemResult, params: Params) -> None:
    progress(f"{db.name}: puts, {params.writers} writers ({params.put_seconds:g} s)")
    ops, elapsed = await run_puts(
        db, "/bench/putn/", params.writers, params.put_max_ops, params.put_seconds
    )
    result.put_many = ops / elapsed


async def phase_get1(db: KV, result: SystemResult, params: Params) -> None:
    progress(f"{db.name}: gets, 1 reader ({params.get_seconds:g} s)")
    ops, elapsed = await run_gets(db, result.get_keys, 1, params.get_max_ops, params.get_seconds)
    result.get1 = ops / elapsed


async def phase_get_many(db: KV, result: SystemResult, params: Params) -> None:
    progress(f"{db.name}: gets, {params.readers} readers ({params.get_seconds:g} s)")
    ops, elapsed = await run_gets(
        db, result.get_keys, params.readers, params.get_max_ops, params.get_seconds
    )
    result.get_many = ops / elapsed


async def phase_list(db: KV, result: SystemResult, params: Params) -> None:
    progress(f"{db.name}: list of {params.list_keys} keys x {params.list_runs}")
    result.list_times = await bench_list(db, params)


async def phase_watch(db: KV, result: SystemResult, params: Params) -> None:
    progress(
        f"{db.name}: watch, {params.watchers} watchers at {params.watch_rate:g} puts/s "
        f"({params.watch_seconds:g} s)"
    )
    result.watch = await bench_watch(db, params)


PHASES = (phase_put1, phase_put_many, phase_get1, phase_get_many, phase_list, phase_watch)


async def bench_systems(systems: Sequence[KV], params: Params) -> list[SystemResult]:
    """Run every phase on each system in turn, so slow drifts in machine load (or disk
    state) hit both systems alike instead of whichever happens to run second."""
    results = [SystemResult(db.name) for db in systems]
    for phase in PHASES:
        for db, result in zip(systems, results, strict=True):
            await phase(db, result, params)
    return results


def print_table(rows: Sequence[Sequence[str]], right: Sequence[int]) -> None:
    """Rows as a table with a rule under the first; columns in ``right`` right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        cells = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print(" | ".join(cells).rstrip())
        if n == 0:
            print("-+-".join("-" * width for width in widths))


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- etcd process


def free_ports(count: int) -> list[int]:
    """Distinct free TCP ports on 127.0.0.1 (held open together so they differ)."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
        return ports


def _die_with_parent() -> None:
    """In the child: ask Linux to SIGTERM etcd if this benchmark dies without cleaning up."""
    with contextlib.suppress(Exception):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class EtcdServer:
    """A single-member etcd on loopback in ``workdir``; a context manager that always stops it."""

    poll_interval = 0.05  # seconds between /health polls while waiting for etcd to start

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.client_url = ""
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> EtcdServer:
        try:
            for attempt in range(3):  # a chosen port can be taken between probe and bind
                if self._start(attempt):
                    return self
            raise RuntimeError(f"etcd did not start; log tail:\n{self._log_tail()}")
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def _log_path(self) -> Path:
        return self.workdir / "etcd.log"

    def _start(self, attempt: int) -> bool:
        client_port, peer_port = free_ports(2)
        self.client_url = f"http://127.0.0.1:{client_port}"
        peer_url = f"http://127.0.0.1:{peer_port}"
        data_dir = self.workdir / f"etcd-data-{attempt}"
        args = [
            self.binary,
            "--name=bench",
            f"--data-dir={data_dir}",
            f"--listen-client-urls={self.client_url}",
            f"--advertise-client-urls={self.client_url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=bench={peer_url}",
            "--initial-cluster-state=new",
            "--logger=zap",
            "--log-outputs=stderr",
            "--log-level=warn",
        ]
        # ETCD_* variables would conflict with (or override) the flags above.
        env = {k: v for k, v in os.environ.items() if not k.startswith("ETCD_")}
        with self._log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        if self._wait_ready():
            return True
        self.stop()
        return False

    def _wait_ready(self) -> bool:
        """Poll /health until it reports healthy, etcd exits, or the deadline passes."""
        assert self._proc is not None
        deadline = time.monotonic() + ETCD_READY_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.client_url}/health", timeout=1.0) as reply:
                    if json.load(reply).get("health") == "true":
                        return True
            except (OSError, ValueError, urllib.error.URLError):
                pass
            time.sleep(self.poll_interval)
        return False

    def stop(self) -> None:
        """Terminate etcd by its pid (SIGTERM, then SIGKILL) and reap it."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=ETCD_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=ETCD_STOP_TIMEOUT)

    def cpu_seconds(self) -> float:
        """CPU time etcd has used so far (Linux /proc), 0.0 if unknown."""
        if self._proc is None:
            return 0.0
        return process_cpu_seconds(self._proc.pid)

    def _log_tail(self) -> str:
        try:
            return "\n".join(self._log_path.read_text(errors="replace").splitlines()[-15:])
        except OSError:
            return "(no log)"


def process_cpu_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def system_busy_seconds() -> float:
    """CPU time all processes on this machine have used (Linux /proc/stat), 0.0 if unknown."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return 0.0
    # user nice system idle iowait irq softirq steal: all but idle and iowait are busy time.
    ticks = [int(x) for x in first[1:9]]
    busy = sum(ticks) - ticks[3] - ticks[4]
    return busy / os.sysconf("SC_CLK_TCK")


def find_etcd() -> str | None:
    found = shutil.which("etcd")
    if found:
        return found
    return ETCD_DEFAULT_PATH if os.access(ETCD_DEFAULT_PATH, os.X_OK) else None


def etcd_version(binary: str) -> str:
    try:
        out = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    first = out.splitlines()[0] if out else ""
    return first.removeprefix("etcd Version:").strip() or "unknown"


# --------------------------------------------------------------------------- report


@dataclass
class Row:
    """One line of the table; ``goal``/``met`` are empty/None for informational rows."""

    metric: str
    ours: float
    etcd: float
    unit: str  # "/s" (higher is better) or "ms" (lower is better)
    goal: str = ""  # for the Goals section
    goal_short: str = "-"  # for the table's goal column
    met: bool | None = None
    detail: str = ""

    @property
    def ratio(self) -> float:
        return self.ours / self.etcd if self.etcd else float("inf")


def fmt(value: float, unit: str) -> str:
    return f"{value:.2f} ms" if unit == "ms" else f"{value:,.0f}/s"


def min_ratio_row(metric: str, ours: float, etcd: float, minimum: float) -> Row:
    row = Row(metric, ours, etcd, "/s", f"{metric} >= {minimum:.1f}x etcd", f">= {minimum:.1f}x")
    row.met = row.ratio >= minimum
    row.detail = f"{row.ratio:.2f}x"
    return row


def build_rows(ours: SystemResult, etcd: SystemResult, params: Params) -> list[Row]:
    assert ours.watch is not None and etcd.watch is not None
    ours_ms, etcd_ms = ours.list_median * 1e3, etcd.list_median * 1e3
    speedup = etcd_ms / ours_ms if ours_ms else float("inf")
    p50 = (percentile(ours.watch.latencies, 50) * 1e3, percentile(etcd.watch.latencies, 50) * 1e3)
    p99 = (percentile(ours.watch.latencies, 99) * 1e3, percentile(etcd.watch.latencies, 99) * 1e3)
    return [
        min_ratio_row(f"puts/s, {params.writers} writers", ours.put_many, etcd.put_many, 1.0),
        min_ratio_row("puts/s, 1 writer", ours.put1, etcd.put1, 0.5),
        min_ratio_row("gets/s, 1 reader", ours.get1, etcd.get1, 1.0),
        min_ratio_row(f"gets/s, {params.readers} readers", ours.get_many, etcd.get_many, 1.0),
        Row(
            f"list {params.list_keys} keys, median of {params.list_runs}",
            ours_ms,
            etcd_ms,
            "ms",
            goal="list throughput (etcd time / our time) >= 1.0x",
            goal_short="<= 1.0x (time)",
            met=speedup >= 1.0,
            detail=f"{speedup:.2f}x ({ours_ms:.1f} ms vs {etcd_ms:.1f} ms)",
        ),
        Row(f"watch latency p50, {params.watchers} watchers", *p50, "ms"),
        Row(
            f"watch latency p99, {params.watchers} watchers",
            *p99,
            "ms",
            goal="watch p99 <= 10 ms",
            goal_short="ours <= 10 ms",
            met=p99[0] <= 10.0,
            detail=f"{p99[0]:.2f} ms",
        ),
    ]


def print_report(
    ours: SystemResult, etcd: SystemResult, params: Params, header: Sequence[str]
) -> None:
    rows = build_rows(ours, etcd, params)
    table = [("metric", "minikube_py", "etcd", "ratio ours/etcd", "goal")]
    for row in rows:
        better = "higher" if row.unit == "/s" else "lower"
        table.append(
            (
                row.metric,
                fmt(row.ours, row.unit),
                fmt(row.etcd, row.unit),
                f"{row.ratio:.2f}x ({better} is better)",
                row.goal_short,
            )
        )
    print()
    for text in header:
        print(text)
    print()
    print_table(table, right=[i for i in range(len(table[0])) if i not in (0, 3, 4)])
    print()
    for result in (ours, etcd):
        assert result.watch is not None
        w = result.watch
        missed = w.expected - len(w.latencies)
        worst = w.latencies[-1] * 1e3 if w.latencies else float("nan")
        print(
            f"{result.name} watch: {len(w.latencies)}/{w.expected} events delivered"
            f"{f' ({missed} MISSED)' if missed else ''}, max {worst:.2f} ms; "
            f"{w.writes} puts in {w.elapsed:.2f} s (target {params.watch_rate:g}/s)"
        )
    print()
    print("Goals")
    for row in rows:
        if row.met is not None:
            print(f"  [{'met' if row.met else 'NOT met'}] {row.goal}: {row.detail}")


# --------------------------------------------------------------------------- main


async def run_all(
    client_url: str, workdir: Path, params: Params
) -> tuple[SystemResult, SystemResult]:
    # Inside the loop, SIGTERM cancels this task (as asyncio.run does for Ctrl-C), so the
    # store and the HTTP sessions are closed by the finally blocks below.
    loop = asyncio.get_running_loop()
    this_task = asyncio.current_task()
    assert this_task is not None
    loop.add_signal_handler(signal.SIGTERM, this_task.cancel)
    try:
        ours_kv = await StoreKV.open(workdir / "state.db")
        try:
            etcd_kv = EtcdKV(client_url, max_connections=max(params.writers, params.readers) + 8)
            try:
                ours, etcd = await bench_systems([ours_kv, etcd_kv], params)
            finally:
                await etcd_kv.close()
        finally:
            await ours_kv.close()
        return ours, etcd
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
        signal.signal(signal.SIGTERM, _terminate_as_interrupt)


def _terminate_as_interrupt(signum: int, frame: FrameType | None) -> None:
    """Outside the event loop, SIGTERM takes the same cleanup path as Ctrl-C."""
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="short run (< 30 s) for a smoke test")
    args = parser.parse_args(argv)
    params = QUICK if args.quick else FULL

    etcd_binary = find_etcd()
    if etcd_binary is None:
        print("etcd not found: install it with `apt-get install etcd-server`", file=sys.stderr)
        return 2
    try:  # fail early, before starting etcd
        if not hasattr(import_store(), "open_store"):
            raise ImportError("minikube_py.store has no open_store")
    except ImportError as exc:
        print(f"cannot import minikube_py.store.open_store: {exc}", file=sys.stderr)
        return 2

    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    started = time.perf_counter()
    busy_before, own_before = system_busy_seconds(), time.process_time()
    version = etcd_version(etcd_binary)
    with contextlib.ExitStack() as stack:
        workdir = Path(
            stack.enter_context(
                tempfile.TemporaryDirectory(prefix="store-vs-etcd-", ignore_cleanup_errors=True)
            )
        )
        progress(f"starting etcd {version} in {workdir}")
        etcd = stack.enter_context(EtcdServer(etcd_binary, workdir))
        progress(f"etcd ready at {etcd.client_url}")
        try:
            ours, etcd_result = asyncio.run(run_all(etcd.client_url, workdir, params))
        except asyncio.CancelledError:  # SIGTERM while the loop ran
            raise KeyboardInterrupt("SIGTERM") from None
        etcd_cpu = etcd.cpu_seconds()
    wall = time.perf_counter() - started
    # CPU other processes used meanwhile: both systems share the machine with them.
    others = system_busy_seconds() - busy_before - (time.process_time() - own_before) - etcd_cpu
    header = [
        f"store_vs_etcd ({'quick' if args.quick else 'full'} run, {wall:.1f} s): "
        f"minikube_py store, sqlite file mode (durable), in-process "
        f"vs etcd {version} via its v3 HTTP/JSON gateway; {VALUE_SIZE}-byte values; "
        f"{os.cpu_count()} CPUs",
        f"CPU used by other processes during the run: {max(others, 0.0) / wall:.2f} cores"
        + (" -- WARNING: machine was busy, numbers are noisy" if others / wall > 0.25 else ""),
    ]
    print_report(ours, etcd_result, params, header)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
