"""The kubelet with the real process runtime: a pause pod runs as a process and stops."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest

from minikube_py.client import PODS, Client
from minikube_py.kubelet import Kubelet
from minikube_py.kubelet.streams import KubeletStreams
from minikube_py.runtime.images.store import ImageStore
from minikube_py.runtime.process import ProcessRuntime
from minikube_py.runtime.protocol import LogOptions
from tests.runtime.process_helpers import no_leftovers  # noqa: F401 - a fixture

from .conftest import NODE, Cluster, container_status, pod


@pytest.fixture
async def real(
    client: Client,
    tmp_path: Path,
    no_leftovers: None,  # noqa: F811
) -> AsyncIterator[Cluster]:
    runtime = ProcessRuntime(tmp_path / "runtime", ImageStore(tmp_path / "images"))
    kubelet = Kubelet(client, NODE, runtime, directory=tmp_path / "node")
    task = asyncio.ensure_future(kubelet.run())
    made = Cluster(client, kubelet, None, None)  # type: ignore[arg-type]
    try:
        yield made
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await made.close()
        await runtime.close()


async def test_pause_pod_runs_as_a_process_and_stops_on_delete(real: Cluster) -> None:
    await real.client.create(PODS, "default", pod(image="registry.k8s.io/pause:3.10"))
    running = await real.pod_where(
        lambda p: (p.get("status") or {}).get("phase") == "Running", "the pause pod to run"
    )
    instance = container_status(running)["containerID"].split("//")[1]
    status = await real.kubelet.runtime.container_status(instance)
    assert status.state == "running" and status.pid is not None
    assert psutil.pid_exists(status.pid)
    await real.client.delete(PODS, "default", "web", grace_period_seconds=5)

    await real.until_gone("the pod object to be removed")
    assert not psutil.pid_exists(status.pid) or psutil.Process(status.pid).status() == "zombie"


async def test_a_finished_pod_keeps_its_logs_until_it_is_deleted(real: Cluster) -> None:
    """`kubectl logs` of a Completed pod (a Job's, `kubectl run --rm -i`'s fallback) works."""
    container = {"name": "web", "image": "busybox", "command": ["echo", "hello"]}
    await real.client.create(PODS, "default", pod(restartPolicy="Never", containers=[container]))
    await real.pod_where(
        lambda p: (p.get("status") or {}).get("phase") == "Succeeded", "the pod to complete"
    )
    streams = KubeletStreams(real.kubelet.runtime, real.kubelet.pod)
    chunks = streams.logs("default", "web", "web", LogOptions())
    assert b"".join([chunk async for chunk in chunks]) == b"hello\n"
    directory = real.kubelet.ctx.directory / "pods" / str((await real.pod())["metadata"]["uid"])
    assert directory.is_dir()
    await real.client.delete(PODS, "default", "web")

    await real.until_gone("the pod object to be removed")
    await real.until(lambda: asyncio.sleep(0, not directory.exists()), "the pod directory to go")
