"""An emptyDir past its sizeLimit gets its pod evicted, as upstream's eviction manager does."""

from __future__ import annotations

from pathlib import Path

from minikube_py.client import PODS
from minikube_py.kubelet.eviction import disk_usage, size_limits

from .conftest import Cluster, pod


def limited_pod(limit: str = "4Ki") -> dict[str, object]:
    return pod(
        volumes=[
            {"name": "cache", "emptyDir": {"sizeLimit": limit}},
            {"name": "free", "emptyDir": {}},
        ]
    )


def test_limits_and_usage(tmp_path: Path) -> None:
    assert size_limits(limited_pod("1Mi")) == {"cache": ("1Mi", 1024 * 1024)}
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f").write_bytes(b"x" * 10_000)
    (tmp_path / "a" / "link").hardlink_to(tmp_path / "a" / "f")  # its blocks count once
    assert 10_000 <= disk_usage(tmp_path) < 20_000


async def test_a_volume_over_its_limit_evicts_the_pod(cluster: Cluster) -> None:
    await cluster.client.create(PODS, "default", limited_pod())
    running = await cluster.pod_where(lambda p: p["status"].get("phase") == "Running", "Running")
    worker = cluster.kubelet.workers[running["metadata"]["uid"]]
    cluster.clock.advance(10)  # within the limit: measured, nothing happens
    (worker.volumes["free"] / "big").write_bytes(b"x" * 100_000)  # no limit on this one
    (worker.volumes["cache"] / "small").write_bytes(b"x" * 1_000)
    cluster.clock.advance(10)
    assert (await cluster.pod())["status"]["phase"] == "Running"
    (worker.volumes["cache"] / "big").write_bytes(b"x" * 100_000)
    cluster.clock.advance(10)
    evicted = await cluster.pod_where(lambda p: p["status"].get("phase") == "Failed", "Evicted")
    message = 'Usage of EmptyDir volume "cache" exceeds the limit "4Ki". '
    assert (evicted["status"]["reason"], evicted["status"]["message"]) == ("Evicted", message)
    assert cluster.fake.running() == []
    [event] = await cluster.events("Evicted")
    assert (event["type"], event["message"]) == ("Warning", message)
