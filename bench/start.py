"""How long a cluster takes to start.

Usage::

    python bench/start.py [--runs N] [--cli-runs N]

**AsyncCluster start (the embedded cluster, ephemeral store).** ``async with
minikube_py.AsyncCluster()`` until the body runs: a temporary state directory, an in-memory
SQLite store, certificates, the API server on a free port of 127.0.0.1, the network
components, the scheduler, one registered node with its kubelet, the controller manager.
That is what a test fixture pays per cluster. Goal (issue 9): p50 <= 150 ms. The peer in the
same run is the API server alone on the same kind of store — ``open_store("sqlite://")``, the
certificates, ``ApiServer.start()`` (bootstrap objects included) — the floor any cluster start
stands on; the ratio shows what the rest of the cluster adds. Runs alternate between the two
so that machine load hits both; one warm-up start of each (imports, the first certificate
key) is reported apart. Stop times are reported too: a fixture pays them as well.

**minikube-py start vs etcd.** ``python -m minikube_py start`` on a fresh profile (its own
HOME and MINIKUBE_PY_HOME, the default SQLite file store) until the real ``kubectl get nodes``
shows the node Ready — what a user waits for at a prompt — against etcd 3.4's own start until
its ``/health`` says healthy (``EtcdServer`` from store_vs_etcd.py), alternating, ``--runs``
of each (default 3) after one untimed start of each; each profile is deleted afterwards.
Goal (issue 9): <= 2x etcd alone. Beside them, the floor: a fresh interpreter that only
imports the libraries DESIGN.md chose for the server (aiohttp, SQLAlchemy, cryptography).
Skipped with a message where etcd or kubectl is missing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

Timing = tuple[float, float]  # (start seconds, stop seconds)


# -- AsyncCluster start, and the API server alone --------------------------------------------


async def cluster_start() -> Timing:
    from minikube_py import AsyncCluster

    started = time.perf_counter()
    cluster = AsyncCluster()
    await cluster.__aenter__()
    up = time.perf_counter()
    await cluster.stop()
    return up - started, time.perf_counter() - up


async def api_server_start() -> Timing:
    from minikube_py.apiserver.pki import ensure_pki
    from minikube_py.apiserver.server import ApiServer
    from minikube_py.store import open_store

    with tempfile.TemporaryDirectory(prefix="minikube-py-bench-") as directory:
        started = time.perf_counter()
        store, pki = await asyncio.gather(
            open_store("sqlite://"),
            asyncio.to_thread(ensure_pki, Path(directory), addresses=["127.0.0.1"]),
        )
        server = ApiServer(store, pki, host="127.0.0.1", port=0)
        await server.start()
        up = time.perf_counter()
        await server.stop()
        await store.close()
        return up - started, time.perf_counter() - up


# -- minikube-py start vs etcd 3.4 ------------------------------------------------------------


def cli_start(kubectl: str) -> float:
    """Seconds from launching ``minikube-py start`` on a fresh profile until ``kubectl get
    nodes`` shows it Ready; the profile is deleted afterwards."""
    import os
    import subprocess

    with tempfile.TemporaryDirectory(prefix="bench-start-") as home:
        env = {**os.environ, "HOME": home, "MINIKUBE_PY_HOME": f"{home}/.minikube_py"}
        env.pop("KUBECONFIG", None)
        # as on a user's machine, where pip compiled the bytecode: a shell that forbids writing
        # it would make every start compile the package from source
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        minikube = [sys.executable, "-m", "minikube_py"]
        started = time.perf_counter()
        try:
            subprocess.run(
                [*minikube, "start", "-p", "bench"], env=env, check=True, capture_output=True,
                timeout=120,
            )  # fmt: skip
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                nodes = subprocess.run(
                    [kubectl, "get", "nodes", "--no-headers"], env=env, capture_output=True,
                    text=True, timeout=30, check=False,
                )  # fmt: skip
                if " Ready " in nodes.stdout:
                    return time.perf_counter() - started
                time.sleep(0.05)
            raise RuntimeError(f"kubectl get nodes never showed Ready: {nodes.stdout}")
        finally:
            subprocess.run(
                [*minikube, "delete", "-p", "bench"], env=env, capture_output=True, timeout=120,
                check=False,
            )  # fmt: skip


def etcd_start(binary: str) -> float:
    from store_vs_etcd import EtcdServer

    with tempfile.TemporaryDirectory(prefix="bench-etcd-") as directory:
        started = time.perf_counter()
        with EtcdServer(binary, Path(directory)):
            return time.perf_counter() - started


# The libraries DESIGN.md chose for the server (aiohttp, SQLAlchemy, cryptography): a Python
# process that only imports them is the floor under any start of ours.
_FLOOR = "import aiohttp.web, sqlalchemy.engine, cryptography.x509"


def import_floor() -> float:
    """Seconds for a fresh interpreter to import the chosen libraries and exit."""
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", _FLOOR], env=env, check=True, timeout=60)
    return time.perf_counter() - started


def versus_etcd(runs: int) -> None:
    import shutil

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from store_vs_etcd import find_etcd

    etcd, kubectl = find_etcd(), shutil.which("kubectl")
    if etcd is None or kubectl is None:
        print("minikube-py start vs etcd: skipped, needs etcd and kubectl on PATH")
        return
    cli_start(kubectl)  # untimed: bytecode written, page cache warm, as for the etcd binary
    etcd_start(etcd)
    import_floor()
    ours, theirs, floors = [], [], []
    for _ in range(runs):
        theirs.append(etcd_start(etcd) * 1000)
        ours.append(cli_start(kubectl) * 1000)
        floors.append(import_floor() * 1000)
    mine, peer = statistics.median(ours), statistics.median(theirs)
    floor = statistics.median(floors)
    print(
        f"minikube-py start -> kubectl Ready  median {mine:7.0f} ms  "
        f"(runs: {', '.join(f'{t:.0f}' for t in ours)})"
    )
    print(
        f"etcd 3.4 start -> healthy (peer)    median {peer:7.0f} ms  "
        f"(runs: {', '.join(f'{t:.0f}' for t in theirs)})"
    )
    print(
        f"floor: python -c '{_FLOOR}'  median {floor:5.0f} ms = {floor / peer:.2f}x etcd "
        "(the chosen libraries' import alone, before any work)"
    )
    print(f"ratio minikube-py start / etcd: {mine / peer:.2f}x")
    print(f"goal minikube-py start <= 2x etcd: {'met' if mine <= 2 * peer else 'NOT met'}")


# -- reporting ---------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def show(name: str, warm_up: Timing, timings: list[Timing]) -> float:
    starts = [t[0] * 1000 for t in timings]
    stops = [t[1] * 1000 for t in timings]
    p50 = statistics.median(starts)
    print(
        f"{name:<28} start p50 {p50:7.1f} ms  p99 {percentile(starts, 0.99):7.1f} ms  "
        f"stop p50 {statistics.median(stops):7.1f} ms  (first start {warm_up[0] * 1000:.0f} ms)"
    )
    return p50


async def main(runs: int) -> None:
    import os

    print(f"minikube_py start-up, {runs} runs each, {os.cpu_count()} cores, {loop_name()}")
    subjects: dict[str, Callable[[], Awaitable[Timing]]] = {
        "AsyncCluster()": cluster_start,
        "API server alone (peer)": api_server_start,
    }
    warm = {name: await run() for name, run in subjects.items()}
    results: dict[str, list[Timing]] = {name: [] for name in subjects}
    for _ in range(runs):
        for name, run in subjects.items():
            results[name].append(await run())
    p50 = {name: show(name, warm[name], results[name]) for name in subjects}
    cluster, peer = p50["AsyncCluster()"], p50["API server alone (peer)"]
    print(f"ratio AsyncCluster / API server alone: {cluster / peer:.2f}x")
    print(f"goal AsyncCluster p50 <= 150 ms: {'met' if cluster <= 150 else 'NOT met'}")
    print()


def loop_name() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio loop"
    return "uvloop"


def run(runs: int, cli_runs: int) -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(main(runs))
    else:
        uvloop.run(main(runs))
    versus_etcd(cli_runs)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="measured starts of each")
    parser.add_argument(
        "--cli-runs", type=int, default=3, help="minikube-py start and etcd starts of each"
    )
    arguments = parser.parse_args()
    run(arguments.runs, arguments.cli_runs)
