"""Compaction: what history is kept, what a compacted revision means, and the disk bound."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from minikube_py.store import EventType, Expired, Retention, SqlStore, open_store


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_keeps_at_least_the_last_n_revisions(store_url: str) -> None:
    store = await open_store(
        store_url, retention=Retention(min_revisions=30, min_age_seconds=0, interval_seconds=0)
    )
    try:
        for i in range(100):
            await store.create(f"/registry/cm/ns/{i}", b"v")
        assert await store.compact() == 70
        assert await store.compact() == 70  # nothing new: nothing more to drop
        with pytest.raises(Expired):
            await store.watch("/registry/", 69)
        watch = await store.watch("/registry/", 70)
        async with watch:
            first = await asyncio.wait_for(anext(watch), 5)
        assert first.revision == 71
    finally:
        await store.close()


async def test_keeps_everything_younger_than_the_minimum_age(store_url: str) -> None:
    clock = FakeClock()
    store = await open_store(
        store_url,
        clock=clock,
        retention=Retention(min_revisions=0, min_age_seconds=300, interval_seconds=0),
    )
    try:
        for i in range(10):
            await store.create(f"/registry/leases/n/{i}", b"v")
        for _minute in range(1, 10):
            clock.now += 60
            for i in range(10):
                await store.update(f"/registry/leases/n/{i}", b"v", expected_revision=None)
        clock.now += 60
        # writes at minutes 0..9 (10 revisions each); now is minute 10: keep minutes 5..9
        assert await store.compact() == 50
    finally:
        await store.close()


async def test_history_after_compaction_still_knows_previous_values(store_url: str) -> None:
    store = await open_store(
        store_url, retention=Retention(min_revisions=2, min_age_seconds=0, interval_seconds=0)
    )
    try:
        await store.create("/registry/cm/ns/a", b"v1")
        await store.create("/registry/cm/ns/b", b"w1")
        middle = await store.current_revision()
        await store.update("/registry/cm/ns/a", b"v2", expected_revision=None)
        for i in range(5):
            await store.create(f"/registry/other/{i}", b"x")
        await store.delete("/registry/cm/ns/b", expected_revision=None)
        await store.update("/registry/cm/ns/a", b"v3", expected_revision=None)
        compacted = await store.compact()
        assert compacted == await store.current_revision() - 2
        watch = await store.watch("/registry/cm/", compacted)
        async with watch:
            events = [await asyncio.wait_for(anext(watch), 5) for _ in range(2)]
        assert [(e.type, e.prev_value) for e in events] == [
            (EventType.DELETED, b"w1"),
            (EventType.MODIFIED, b"v2"),
        ]
        with pytest.raises(Expired):
            await store.watch("/registry/cm/", middle)
    finally:
        await store.close()


async def test_compaction_runs_by_itself(store_url: str) -> None:
    store = await open_store(
        store_url, retention=Retention(min_revisions=1, min_age_seconds=0, interval_seconds=0.05)
    )
    try:
        for i in range(5):
            await store.create(f"/registry/cm/ns/{i}", b"v")

        async def compacted() -> None:
            while True:
                try:
                    await store.watch("/registry/", 3)
                except Expired:
                    return
                await asyncio.sleep(0.02)

        await asyncio.wait_for(compacted(), 10)
    finally:
        await store.close()


def _lease(node: int, round_: int) -> bytes:
    """A node heartbeat Lease as the API server would store it (about 470 bytes)."""
    return json.dumps(
        {
            "kind": "Lease",
            "apiVersion": "coordination.k8s.io/v1",
            "metadata": {
                "name": f"node-{node}",
                "namespace": "kube-node-lease",
                "uid": "3f1c2b4e-9d7a-4c1e-8f6b-2a9e5d7c1b3f",
                "creationTimestamp": "2026-11-26T15:00:00Z",
                "ownerReferences": [
                    {
                        "apiVersion": "v1",
                        "kind": "Node",
                        "name": f"node-{node}",
                        "uid": "7e2d9c4a-1b3f-4e5d-9a8c-6f1e2d3c4b5a",
                    }
                ],
            },
            "spec": {
                "holderIdentity": f"node-{node}",
                "leaseDurationSeconds": 40,
                "renewTime": f"2026-11-26T15:{round_ % 60:02}:{round_ % 59:02}.000000Z",
            },
        }
    ).encode()


@pytest.mark.slow
async def test_heartbeats_for_ten_minutes_stay_under_ten_megabytes(tmp_path: Path) -> None:
    """The kine failure mode: 50 leases rewritten every 2 s for 10 minutes (simulated time,
    default retention, compaction every simulated minute) while others read and watch."""
    clock = FakeClock()
    url = f"sqlite:///{tmp_path}/state.db"
    store: SqlStore = await open_store(url, clock=clock, retention=Retention(interval_seconds=0))
    keys = [f"/registry/leases/kube-node-lease/node-{i}" for i in range(50)]
    try:
        for i, key in enumerate(keys):
            await store.create(key, _lease(i, 0))
        watch = await store.watch("/registry/leases/", await store.current_revision())
        seen = 0
        all_seen = asyncio.Event()

        async def watcher() -> None:
            nonlocal seen
            async for _ in watch:
                seen += 1
                if seen == 300 * 50:
                    all_seen.set()

        async def lister() -> None:
            while True:
                assert len((await store.list("/registry/leases/", limit=20)).items) == 20

        tasks = [asyncio.create_task(watcher()), asyncio.create_task(lister())]
        for round_ in range(1, 301):  # 10 minutes of 2-second heartbeats
            await asyncio.gather(
                *(
                    store.update(k, _lease(i, round_), expected_revision=None)
                    for i, k in enumerate(keys)
                )
            )
            clock.now += 2
            if round_ % 30 == 0:
                await store.compact()
        await asyncio.wait_for(all_seen.wait(), 10)
        for task in tasks:
            assert not task.done(), task  # neither saw an error
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await store.close()
    size = _size_on_disk(tmp_path)
    assert size < 10 * 1024 * 1024, f"database files take {size} bytes"


def _size_on_disk(directory: Path) -> int:
    return sum(f.stat().st_size for f in directory.glob("state.db*"))
