"""Watches: replay then live, strict order, prefixes, compaction, slow and many watchers."""

from __future__ import annotations

import asyncio

import pytest

from minikube_py.store import (
    EventType,
    Expired,
    Retention,
    SqlStore,
    WatchEvent,
    WatchOverflow,
    open_store,
)
from minikube_py.store.sql import SqlWatch

TIMEOUT = 10.0


async def _take(watch: SqlWatch, count: int) -> list[WatchEvent]:
    async def take() -> list[WatchEvent]:
        return [await anext(watch) for _ in range(count)]

    return await asyncio.wait_for(take(), TIMEOUT)


async def test_live_events_carry_type_value_and_previous_value(store: SqlStore) -> None:
    watch = await store.watch("/registry/pods/", await store.current_revision())
    async with watch:
        created = await store.create("/registry/pods/ns/a", b"v1")
        updated = await store.update("/registry/pods/ns/a", b"v2", expected_revision=None)
        deleted = await store.delete("/registry/pods/ns/a", expected_revision=None)
        events = await _take(watch, 3)
    assert [(e.type, e.value, e.prev_value, e.revision) for e in events] == [
        (EventType.ADDED, b"v1", None, created.mod_revision),
        (EventType.MODIFIED, b"v2", b"v1", updated.mod_revision),
        (EventType.DELETED, None, b"v2", deleted.mod_revision),
    ]
    assert {e.create_revision for e in events} == {created.create_revision}


async def test_watch_replays_history_after_the_revision_then_goes_live(store: SqlStore) -> None:
    first = await store.create("/registry/pods/ns/a", b"1")
    second = await store.update("/registry/pods/ns/a", b"2", expected_revision=None)
    await store.create("/registry/services/ns/s", b"elsewhere")
    third = await store.create("/registry/pods/ns/b", b"3")
    watch = await store.watch("/registry/pods/", first.mod_revision)
    async with watch:
        replayed = await _take(watch, 2)
        live = await store.create("/registry/pods/ns/c", b"4")
        (event,) = await _take(watch, 1)
    assert [e.revision for e in replayed] == [second.mod_revision, third.mod_revision]
    assert event.revision == live.mod_revision


async def test_a_long_replay_is_read_in_pages_and_joins_live_events_without_gaps(
    store: SqlStore,
) -> None:
    start = await store.current_revision()
    await asyncio.gather(*(store.create(f"/registry/cm/ns/{i:05}", b"v") for i in range(2500)))
    watch = await store.watch("/registry/cm/", start)
    async with watch:
        writer = asyncio.gather(
            *(store.create(f"/registry/cm/live/{i:03}", b"v") for i in range(300))
        )
        events = await _take(watch, 2800)
        await writer
    revisions = [e.revision for e in events]
    assert revisions == list(range(start + 1, start + 2801))


async def test_watch_sees_only_its_prefix(store: SqlStore) -> None:
    watch = await store.watch("/registry/pods/ns/", await store.current_revision())
    async with watch:
        await store.create("/registry/pods/nsx/other", b"no")
        await store.create("/registry/pods/ns/mine", b"yes")
        (event,) = await _take(watch, 1)
    assert event.key == "/registry/pods/ns/mine"


async def test_concurrent_writes_reach_every_watcher_in_revision_order(store: SqlStore) -> None:
    start = await store.current_revision()
    watches = [await store.watch("/registry/", start) for _ in range(5)]
    await asyncio.gather(*(store.create(f"/registry/x/{i}", b"v") for i in range(300)))
    for watch in watches:
        revisions = [e.revision for e in await _take(watch, 300)]
        assert revisions == list(range(start + 1, start + 301))
        watch.close()


async def test_a_closed_watch_ends_iteration(store: SqlStore) -> None:
    watch = await store.watch("/registry/", 0)
    watch.close()
    with pytest.raises(StopAsyncIteration):
        await anext(watch)


async def test_watch_from_a_compacted_revision_is_expired(store_url: str) -> None:
    store = await open_store(store_url, retention=Retention(min_revisions=5, min_age_seconds=0))
    try:
        for i in range(20):
            await store.create(f"/registry/cm/ns/{i}", b"v")
        compacted = await store.compact()
        assert compacted == 15
        with pytest.raises(Expired):
            await store.watch("/registry/", compacted - 1)
        watch = await store.watch("/registry/", compacted)
        async with watch:
            assert [e.revision for e in await _take(watch, 5)] == [16, 17, 18, 19, 20]
    finally:
        await store.close()


async def test_a_slow_watcher_is_ended_without_holding_up_writers_or_others(
    store_url: str,
) -> None:
    store = await open_store(store_url, max_pending_events=50)
    try:
        start = await store.current_revision()
        slow = await store.watch("/registry/", start)
        fast = await store.watch("/registry/", start)
        received: list[int] = []

        async def consume() -> None:
            async for event in fast:
                received.append(event.revision)
                if len(received) == 200:
                    return

        consumer = asyncio.create_task(consume())
        for i in range(200):  # sequential: the fast consumer keeps up, the slow one never reads
            await store.create(f"/registry/x/{i}", b"v")
        await asyncio.wait_for(consumer, TIMEOUT)
        assert received == list(range(start + 1, start + 201))
        with pytest.raises(WatchOverflow):
            async for _ in slow:
                pass
        assert store.hub.watch_count == 1
        fast.close()
    finally:
        await store.close()


async def test_a_thousand_watchers_on_one_process(store: SqlStore) -> None:
    start = await store.current_revision()
    watches = [await store.watch(f"/registry/cm/ns{i % 10}/", start) for i in range(1000)]
    assert store.hub.watch_count == 1000
    for i in range(20):
        await store.create(f"/registry/cm/ns{i % 10}/k{i}", b"v")
    for i, watch in enumerate(watches):
        events = await _take(watch, 2)
        assert [e.key for e in events] == [
            f"/registry/cm/ns{i % 10}/k{i % 10}",
            f"/registry/cm/ns{i % 10}/k{i % 10 + 10}",
        ]
        watch.close()
    assert store.hub.watch_count == 0


async def test_closing_the_store_ends_its_watches(store_url: str) -> None:
    store = await open_store(store_url)
    watch = await store.watch("/registry/", 0)
    waiting = asyncio.create_task(anext(watch))
    await store.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(waiting, TIMEOUT)
