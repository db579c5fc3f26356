"""Benchmark service networking: what the service proxy and the Ingress cost a request.

Usage::

    python bench/network.py [--quick]

One cluster runs in this process (``running_cluster``: the API server over in-memory SQLite,
one node with the process runtime, the service proxy, and the Ingress addon), on the loop
``serve`` runs on (uvloop when installed). One pod runs ``hashicorp/http-echo`` (the built-in
image: a Python HTTP/1.1 server with keep-alive) behind a ClusterIP Service on port 80 and an
Ingress for the host ``bench.example``. The same load then goes three ways, each in the same
run and against the same pod:

* **direct**: to the pod's own address and port (``podIP:5678``) -- the peer;
* **ClusterIP**: to the Service's ``clusterIP:80``, through the service proxy;
* **Ingress**: to the control-plane node's address, port 80, ``Host: bench.example``, through
  the Ingress controller's reverse proxy.

(Port 80 is ``LOW_PORT_OFFSET + 80`` where the cluster may not bind low ports.)

The load comes from another process (``--load``, this script), so the client does not share
the cluster's interpreter: throughput is 8 keep-alive connections sending requests one after
another for a fixed count, requests/s over the whole run; latency is one keep-alive connection
sending requests one at a time, p50 and p99 of each request's round trip. Added latency is the
path's p50 (p99) minus the direct p50 (p99). Goals (issue 7): ClusterIP throughput >= 0.5x
direct and added p50 <= 0.3 ms; Ingress throughput >= 0.3x direct.

Caveat: the pod's server is Python, so the direct figure is what that server does on this
machine; a proxy in front of a faster server would show a lower ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from store_vs_etcd import REPO_ROOT, print_table, progress, system_busy_seconds

GOAL_PROXY_RATIO = 0.5
GOAL_ADDED_P50_MS = 0.3
GOAL_INGRESS_RATIO = 0.3
CONNECTIONS = 8
HOST = "bench.example"
NAME = "bench"
TIMEOUT = 120.0  # every wait is bounded


# --------------------------------------------------------------------------- the load process


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> None:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = head.split(b" ", 2)[1]
    if status != b"200":
        raise RuntimeError(f"answered {head.decode(errors='replace')!r}")
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)


async def _load(host: str, port: int, host_header: str, requests: int) -> dict[str, float]:
    request = f"GET / HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: bench\r\n\r\n".encode()

    async def connection(count: int, timings: list[float] | None) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for _ in range(count):
                started = time.perf_counter()
                await _request(reader, writer, request)
                if timings is not None:
                    timings.append(time.perf_counter() - started)
        finally:
            writer.close()

    await connection(50, None)  # warm: the server's thread, the proxy's route
    started = time.perf_counter()
    per_connection = requests // CONNECTIONS
    await asyncio.gather(*(connection(per_connection, None) for _ in range(CONNECTIONS)))
    rate = per_connection * CONNECTIONS / (time.perf_counter() - started)
    timings: list[float] = []
    await connection(requests // 2, timings)
    timings.sort()
    return {
        "rate": rate,
        "p50": statistics.median(timings) * 1000,
        "p99": timings[int(len(timings) * 0.99) - 1] * 1000,
    }


def run_load(host: str, port: int, host_header: str, requests: int) -> dict[str, float]:
    """The load, from a child process: its figures."""
    done = subprocess.run(
        [sys.executable, __file__, "--load", host, str(port), host_header, str(requests)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load on {host}:{port} failed: {done.stderr[-2000:]}")
    figures: dict[str, float] = json.loads(done.stdout)
    return figures


# --------------------------------------------------------------------------- the cluster


def manifests() -> list[dict[str, Any]]:
    labels = {"app": NAME}
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": NAME, "namespace": "default"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [
                            {
                                "name": "echo",
                                "image": "hashicorp/http-echo:1.0",
                                "args": ["-text=hello"],
                                "ports": [{"name": "http", "containerPort": 5678}],
                            }
                        ]
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": NAME, "namespace": "default"},
            "spec": {
                "selector": labels,
                "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": NAME, "namespace": "default"},
            "spec": {
                "ingressClassName": "nginx",
                "rules": [
                    {
                        "host": HOST,
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": NAME, "port": {"number": 80}}},
                                }
                            ]
                        },
                    }
                ],
            },
        },
    ]


async def _until(check: Any, what: str) -> Any:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{what}: not reached within {TIMEOUT:.0f} s")


async def measure(requests: int) -> dict[str, dict[str, float]]:
    from minikube_py.client import GVR
    from minikube_py.cluster import ClusterConfig, running_cluster
    from minikube_py.config import listen_port

    kinds = {
        "Deployment": GVR("apps", "v1", "deployments"),
        "Service": GVR("", "v1", "services"),
        "Ingress": GVR("networking.k8s.io", "v1", "ingresses"),
    }
    with tempfile.TemporaryDirectory(prefix="bench-network-") as directory:
        config = ClusterConfig(
            state_dir=Path(directory),
            port=0,
            address="127.0.0.1",
            store_url="sqlite://",
            kubeconfig=Path(directory) / "kubeconfig",
            addons=("ingress",),
        )
        async with running_cluster(config) as cluster:
            client = cluster.api_server.client("bench")
            for manifest in manifests():
                await client.create(kinds[manifest["kind"]], "default", manifest)
            progress("waiting for the pod, its endpoints and the Ingress")

            async def pod_ip() -> str | None:
                pods = await client.list(GVR("", "v1", "pods"), "default")
                for pod in pods["items"]:
                    ready = {c["type"]: c["status"] for c in pod["status"].get("conditions", [])}
                    if ready.get("Ready") == "True":
                        return str(pod["status"]["podIP"])
                return None

            direct_ip = await _until(pod_ip, "the echo pod Ready")
            service = await client.get(kinds["Service"], "default", NAME)

            async def ingress_ready() -> bool:
                ingress = await client.get(kinds["Ingress"], "default", NAME)
                return bool((ingress.get("status") or {}).get("loadBalancer", {}).get("ingress"))

            await _until(ingress_ready, "the Ingress served")
            node = cluster.network.node_address(0)
            paths = {
                "direct": (direct_ip, 5678),
                "ClusterIP": (service["spec"]["clusterIP"], listen_port(80)),
                "Ingress": (node, listen_port(80)),
            }
            figures = {}
            for path, (host, port) in paths.items():
                progress(f"{path}: {requests} requests to {host}:{port}")
                figures[path] = await asyncio.to_thread(run_load, host, port, HOST, requests)
            return figures


def report(figures: dict[str, dict[str, float]], seconds: float, busy: float) -> bool:
    direct = figures["direct"]
    rows = [["path", "requests/s", "vs direct", "p50 ms", "p99 ms", "added p50", "added p99"]]
    for path, f in figures.items():
        rows.append(
            [
                path,
                f"{f['rate']:,.0f}",
                f"{f['rate'] / direct['rate']:.2f}x",
                f"{f['p50']:.3f}",
                f"{f['p99']:.3f}",
                f"{f['p50'] - direct['p50']:+.3f} ms",
                f"{f['p99'] - direct['p99']:+.3f} ms",
            ]
        )
    print(f"\nnetwork ({seconds:.1f} s): one http-echo pod; load from a separate process")
    print(f"CPU used by other processes (the load, the pod, the rest): {busy:.2f} cores")
    print_table(rows, right=[1, 2, 3, 4, 5, 6])
    proxy, ingress = figures["ClusterIP"], figures["Ingress"]
    goals = [
        (
            proxy["rate"] / direct["rate"] >= GOAL_PROXY_RATIO,
            f"ClusterIP throughput >= {GOAL_PROXY_RATIO}x direct",
            f"{proxy['rate'] / direct['rate']:.2f}x",
        ),
        (
            proxy["p50"] - direct["p50"] <= GOAL_ADDED_P50_MS,
            f"ClusterIP added p50 <= {GOAL_ADDED_P50_MS} ms",
            f"{proxy['p50'] - direct['p50']:+.3f} ms",
        ),
        (
            ingress["rate"] / direct["rate"] >= GOAL_INGRESS_RATIO,
            f"Ingress throughput >= {GOAL_INGRESS_RATIO}x direct",
            f"{ingress['rate'] / direct['rate']:.2f}x",
        ),
    ]
    print("\nGoals")
    for met, goal, detail in goals:
        print(f"  [{'met' if met else 'NOT met'}] {goal}: {detail}")
    return all(met for met, _, _ in goals)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--load":
        host, port, host_header, requests = sys.argv[2:6]
        print(json.dumps(asyncio.run(_load(host, int(port), host_header, int(requests)))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a smaller run for a smoke test")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO_ROOT))
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    busy_before, started = system_busy_seconds(), time.monotonic()
    figures = runner(measure(2_000 if args.quick else 20_000))
    seconds = time.monotonic() - started
    busy = max(0.0, system_busy_seconds() - busy_before) / seconds
    return 0 if report(figures, seconds, busy) else 1


if __name__ == "__main__":
    sys.exit(main())
