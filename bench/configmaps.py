"""Benchmark ConfigMap updates: how soon a running pod's configMap volume shows a change.

Usage::

    python bench/configmaps.py [--quick]

A 1-node cluster (``running_cluster`` in this process, the real process runtime, as
``bench/pods.py`` builds it) runs one busybox pod (``sleep``) with a ConfigMap mounted at
``/etc/config``. Each of 200 rounds (``--quick``: 40) patches the ConfigMap's one key with a new
value through the in-process client and times, from just before the patch, until the file
seen through the container's root (``<root>/etc/config/value``: the mount's symlink, then
``..data``) holds the new value; it is read every millisecond from a thread. The path is
upstream's: the API server writes, the kubelet's ConfigMap informer sees the watch event, the
volume manager computes the payload and the atomic writer swaps ``..data``. p50 and p99;
goal: p99 <= 1 s (upstream's kubelet takes up to its sync period plus the cache's TTL: about a
minute by default).

The peer, measured in the same run: ``write_atomically`` alone writing the same volume's new
version (a fresh directory, the ``..data`` rename, the old version removed) in this process,
p50 / p99, and the ratio: what the API round trip, the watch and the kubelet's scheduling cost
on top of the file system work they cannot avoid.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from pathlib import Path

from pods import NAMESPACE, import_minikube, percentile, pod_cluster
from store_vs_etcd import print_table, progress


def busybox_with_config(name: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "containers": [
                {
                    "name": "main",
                    "image": "busybox:1.36",
                    "command": ["sleep", "3600"],
                    "volumeMounts": [{"name": "config", "mountPath": "/etc/config"}],
                }
            ],
            "volumes": [{"name": "config", "configMap": {"name": "settings"}}],
            "terminationGracePeriodSeconds": 1,
        },
    }


def wait_for_content(path: Path, wanted: bytes, done: threading.Event) -> None:
    """Read ``path`` every millisecond until it holds ``wanted`` (a thread: the loop runs on)."""
    while True:
        try:
            if path.read_bytes() == wanted:
                break
        except OSError:
            pass
        time.sleep(0.001)
    done.set()


async def through_the_pod(rounds: int) -> list[float]:
    from minikube_py.client import CONFIGMAPS, PODS

    async with pod_cluster(1) as (client, directory):
        await client.create(
            CONFIGMAPS, NAMESPACE, {"metadata": {"name": "settings"}, "data": {"value": "0"}}
        )
        await client.create(PODS, NAMESPACE, busybox_with_config("reader"))
        async with asyncio.timeout(60):
            while True:
                pod = await client.get(PODS, NAMESPACE, "reader")
                if (pod.get("status") or {}).get("phase") == "Running":
                    break
                await asyncio.sleep(0.05)
        uid = pod["metadata"]["uid"]
        roots = list(directory.glob(f"nodes/*/pods/{uid}/containers/main-*/rootfs"))
        path = roots[0] / "etc" / "config" / "value"
        progress(f"pod running; watching {path}")
        latencies = []
        for index in range(1, rounds + 1):
            wanted = f"value {index}".encode()
            done = threading.Event()
            began = time.perf_counter()
            reader = asyncio.ensure_future(asyncio.to_thread(wait_for_content, path, wanted, done))
            await client.patch(
                CONFIGMAPS, NAMESPACE, "settings", {"data": {"value": wanted.decode()}}
            )
            async with asyncio.timeout(10):
                await reader
            latencies.append(time.perf_counter() - began)
        return latencies


def writer_alone(rounds: int) -> list[float]:
    from minikube_py.kubelet.projected import write_atomically

    with tempfile.TemporaryDirectory(prefix="bench-configmaps-") as name:
        volume = Path(name) / "config"
        write_atomically(volume, {"value": (b"0", 0o644)})
        times = []
        for index in range(1, rounds + 1):
            began = time.perf_counter()
            write_atomically(volume, {"value": (f"value {index}".encode(), 0o644)})
            times.append(time.perf_counter() - began)
        return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 rounds instead of 200")
    rounds = 40 if parser.parse_args().quick else 200
    import_minikube()
    latencies = asyncio.run(through_the_pod(rounds))
    peer = writer_alone(rounds)
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    w50, w99 = percentile(peer, 0.5), percentile(peer, 0.99)
    print_table(
        [
            ["measure", "rounds", "p50", "p99", "max"],
            [
                "ConfigMap patch -> file in the pod",
                str(rounds),
                f"{p50 * 1000:.1f} ms",
                f"{p99 * 1000:.1f} ms",
                f"{max(latencies) * 1000:.1f} ms",
            ],
            [
                "peer: write_atomically alone",
                str(rounds),
                f"{w50 * 1000:.2f} ms",
                f"{w99 * 1000:.2f} ms",
                f"{max(peer) * 1000:.2f} ms",
            ],
        ],
        right=[1, 2, 3, 4],
    )
    print(f"ratio (pod / writer alone): p50 {p50 / w50:.0f}x, p99 {p99 / w99:.0f}x")
    met = p99 <= 1.0
    print(f"goal p99 <= 1 s: {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
