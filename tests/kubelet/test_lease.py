"""The node's heartbeat Lease, renewed on a fake clock against a real in-process API server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from minikube_py.api.stamps import micro_time
from minikube_py.client import LEASES, NODES, ApiError, Client
from minikube_py.kubelet.lease import NodeLease
from tests.client.helpers import in_process_client
from tests.clusters import ephemeral_config
from tests.kubelet.heartbeat_helpers import Ticker

if TYPE_CHECKING:
    from minikube_py.cluster import RunningCluster


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Client]:
    from minikube_py.cluster import running_cluster

    running: RunningCluster
    async with running_cluster(ephemeral_config(tmp_path / "cluster")) as running:
        made = in_process_client(running)
        try:
            yield made
        finally:
            await made.close()


def node(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}


async def test_renew_creates_the_lease_owned_by_the_node(api: Client) -> None:
    created = await api.create(NODES, None, node("lab"))
    lease = await NodeLease(api, "lab", clock=lambda: 1_800_000_000.5).renew()
    stored = await api.get(LEASES, "kube-node-lease", "lab")
    assert stored["metadata"]["uid"] == lease["metadata"]["uid"]
    assert stored["spec"]["holderIdentity"] == "lab"
    assert stored["spec"]["leaseDurationSeconds"] == 40
    assert stored["spec"]["renewTime"] == "2027-01-15T08:00:00.500000Z"
    assert stored["metadata"]["ownerReferences"] == [
        {"apiVersion": "v1", "kind": "Node", "name": "lab", "uid": created["metadata"]["uid"]}
    ]


async def test_run_renews_every_interval(api: Client) -> None:
    await api.create(NODES, None, node("lab"))
    ticker = Ticker()
    heartbeat = NodeLease(api, "lab", interval=10, clock=ticker, sleep=ticker.sleep)
    task = asyncio.create_task(heartbeat.run())
    try:
        await ticker.asleep(1)  # created, then asleep
        times = [(await api.get(LEASES, "kube-node-lease", "lab"))["spec"]["renewTime"]]
        for round_ in range(3):
            assert await ticker.tick() == 10
            # The renewal after a tick is written before the next sleep begins.
            await ticker.asleep(round_ + 2)
            times.append((await api.get(LEASES, "kube-node-lease", "lab"))["spec"]["renewTime"])
        assert times == sorted(times) and len(set(times)) == 4
        assert times[-1] == micro_time(ticker.now)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_owner_is_added_once_the_node_exists(api: Client) -> None:
    heartbeat = NodeLease(api, "late")
    lease = await heartbeat.renew()
    assert not lease["metadata"].get("ownerReferences")
    created = await api.create(NODES, None, node("late"))
    lease = await heartbeat.renew()
    assert lease["metadata"]["ownerReferences"][0]["uid"] == created["metadata"]["uid"]


class FlakyClient:
    """Fails the next ``failures`` lease updates with a server error."""

    def __init__(self, inner: Client, failures: int) -> None:
        self.inner, self.failures = inner, failures

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def update(self, gvr: Any, namespace: Any, obj: Any, **options: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise ApiError(500, "InternalError", "etcdserver: request timed out")
        return await self.inner.update(gvr, namespace, obj, **options)


async def test_failed_renewals_retry_with_growing_delays(api: Client) -> None:
    await api.create(NODES, None, node("lab"))
    ticker = Ticker()
    flaky = FlakyClient(api, failures=0)
    heartbeat = NodeLease(flaky, "lab", clock=ticker, sleep=ticker.sleep)
    task = asyncio.create_task(heartbeat.run())
    try:
        assert await ticker.tick() == 10  # created, then a normal interval
        flaky.failures = 3
        assert [await ticker.tick() for _ in range(4)] == [0.2, 0.4, 0.8, 10]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
