"""Several processes on one SQLite file: no lost update, one history, watches across processes.

The store promises that two processes may open the same durable SQLite file: writers in
different processes serialise on the database's write lock and on the revision counter, so
compare-and-swap still holds across them, and each process's watches see the other's writes
within about a second (its writer polls the revision counter when idle and reads any revisions
it did not write itself from the ``events`` table). The other processes here are
``store_child.py`` programs; the test process holds a store on the same file too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path

import pytest

from minikube_py.store import (
    AlreadyExists,
    EventType,
    Retention,
    SqlStore,
    WatchEvent,
    open_store,
)
from tests.store.store_child import Child

CAS_INCREMENTS = 200  # per child
COUNTERS = ["/counters/a", "/counters/b", "/counters/c"]
WATCH_WRITES = 60
WATCH_LATENCY_BOUND = 1.0  # seconds from the child's acknowledgement to the parent's event


async def open_file_store(db: Path) -> SqlStore:
    return await open_store(f"sqlite:///{db}", retention=Retention(interval_seconds=0))


class Collector:
    """Reads a watch into a list, noting when each event arrived."""

    def __init__(self) -> None:
        self.events: list[tuple[WatchEvent, float]] = []
        self.error: BaseException | None = None
        self._changed = asyncio.Event()

    async def run(self, store: SqlStore, prefix: str, from_revision: int) -> None:
        try:
            async with await store.watch(prefix, from_revision) as watch:
                async for event in watch:
                    self.events.append((event, time.time()))
                    self._changed.set()
        except BaseException as error:
            self.error = error
            self._changed.set()
            raise

    async def wait_for_revision(self, revision: int, within: float) -> None:
        """Wait until an event at ``revision`` or later has arrived."""

        async def condition() -> None:
            while not self.events or self.events[-1][0].revision < revision:
                if self.error is not None:
                    raise AssertionError(f"the watch ended: {self.error!r}")
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(condition(), within)
        except TimeoutError:
            newest = self.events[-1][0].revision if self.events else None
            raise AssertionError(
                f"watch did not reach revision {revision} within {within} s (newest {newest})"
            ) from None


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await asyncio.wait_for(task, 5)


def check_history(events: list[WatchEvent], first: int, last: int) -> None:
    """Events are exactly revisions first..last, once each, in order, and each key's events
    chain: an event's previous value is the value of that key's event before it."""
    assert [event.revision for event in events] == list(range(first, last + 1))
    previous: dict[str, WatchEvent] = {}
    for event in events:
        before = previous.get(event.key)
        if event.type == EventType.ADDED:
            assert before is None or before.type == EventType.DELETED, event
            assert event.prev_value is None, event
            assert event.create_revision == event.revision, event
        else:
            assert before is not None and before.type != EventType.DELETED, event
            assert event.prev_value == before.value, (before, event)
            assert event.create_revision == before.create_revision, (before, event)
        previous[event.key] = event


@pytest.mark.slow
async def test_two_processes_compare_and_swap_without_lost_updates(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    store = await open_file_store(db)
    collector = Collector()
    watch_task: asyncio.Task[None] | None = None
    try:
        for key in COUNTERS:
            await store.create(key, b"0")
        start = await store.current_revision()
        watch_task = asyncio.create_task(collector.run(store, "", 0))
        started = time.monotonic()
        async with (
            Child(
                "cas", str(db), str(CAS_INCREMENTS), *COUNTERS, stderr_path=tmp_path / "a.err"
            ) as first,
            Child(
                "cas", str(db), str(CAS_INCREMENTS), *COUNTERS, stderr_path=tmp_path / "b.err"
            ) as second,
        ):
            children = [first, second]
            for child in children:
                await child.wait_for(lambda lines: "ready" in lines, within=20)
            for child in children:  # both have the store open: start them together
                await child.send("go")
            for child in children:
                status = await child.finish(within=60)
                assert status == 0, f"child failed: {child.describe()}"
            results = [json.loads(child.lines[-1])["result"] for child in children]
        elapsed = time.monotonic() - started

        # Every increment a child was told succeeded is in the counters; none was lost.
        total = sum(sum(result["successes"].values()) for result in results)
        assert total == 2 * CAS_INCREMENTS
        for key in COUNTERS:
            kv = await store.get(key)
            successes = sum(result["successes"][key] for result in results)
            assert int(kv.value) == successes, f"{key}: {kv.value!r} after {successes} increments"
        final = await store.current_revision()
        assert final == start + total  # one revision per successful update, nothing else

        # Revisions handed out are unique across the two processes and are exactly the
        # revisions of the updates in the history.
        acked = [revision for result in results for revision in result["revisions"]]
        assert len(set(acked)) == len(acked) == total
        assert set(acked) == set(range(start + 1, final + 1))
        # ...and the two processes really wrote at the same time, not one after the other.
        first_revisions, second_revisions = (result["revisions"] for result in results)
        assert min(first_revisions) < max(second_revisions)
        assert min(second_revisions) < max(first_revisions)

        # The parent's watch, fed only by polling (the parent did not write meanwhile), saw the
        # whole history in order; each update added exactly one to the counter it changed.
        await collector.wait_for_revision(final, within=10)
        events = [event for event, _ in collector.events]
        check_history(events, 1, final)
        for event in events[start:]:
            assert event.type == EventType.MODIFIED
            assert event.value is not None and event.prev_value is not None
            assert int(event.value) == int(event.prev_value) + 1, event

        # A watch replaying from 0 reads the same history back from the table.
        replayed: list[WatchEvent] = []

        async def replay() -> None:
            async with await store.watch("", 0) as watch:
                async for event in watch:
                    replayed.append(event)
                    if event.revision == final:
                        return

        await asyncio.wait_for(replay(), 10)
        assert replayed == events
        conflicts = sum(result["conflicts"] for result in results)
        print(f"{total} increments, {conflicts} conflicts retried, {elapsed:.2f} s")
    finally:
        if watch_task is not None:
            await stop(watch_task)
        await store.close()


@pytest.mark.slow
@pytest.mark.parametrize("parent_writes", [False, True], ids=["parent-idle", "parent-writing"])
async def test_watch_sees_other_process_writes_within_a_second(
    tmp_path: Path, parent_writes: bool
) -> None:
    """The parent's watch on a prefix receives every write a child makes, in revision order,
    within a second of the child's acknowledgement. With ``parent_writes`` the parent writes
    under another prefix meanwhile, so its writer also meets the child's revisions as gaps
    before its own commits, not only when polling."""
    db = tmp_path / "state.db"
    store = await open_file_store(db)
    collector = Collector()
    everything = Collector()
    tasks: list[asyncio.Task[None]] = []
    try:
        start = await store.current_revision()
        assert start == 0  # check_history follows each key from its creation
        tasks.append(asyncio.create_task(collector.run(store, "/child/", start)))
        tasks.append(asyncio.create_task(everything.run(store, "", start)))
        async with Child(
            "write", str(db), "/child/", str(WATCH_WRITES), stderr_path=tmp_path / "child.err"
        ) as child:
            await child.wait_for(lambda lines: "ready" in lines, within=20)
            await child.send("go")
            parent_revisions: list[int] = []
            if parent_writes:

                async def write_meanwhile() -> None:
                    n = 0
                    while child.proc is not None and child.proc.returncode is None:
                        kv = await store.create(f"/parent/{n:05d}", b"p")
                        parent_revisions.append(kv.mod_revision)
                        n += 1
                        await asyncio.sleep(0.01)  # pacing of the workload, not a wait

                tasks.append(asyncio.create_task(write_meanwhile()))
            status = await child.finish(within=60)
            assert status == 0, f"child failed: {child.describe()}"
            acks = [line.split(" ") for line in child.lines[1:]]  # after "ready"
        assert len(acks) == WATCH_WRITES
        ack_revisions = [int(revision) for _, revision, _, _ in acks]
        await collector.wait_for_revision(max(ack_revisions), within=WATCH_LATENCY_BOUND + 5)

        # Every child write arrived, in revision order, as the child described it.
        received = collector.events
        assert [event.revision for event, _ in received] == sorted(ack_revisions)
        by_revision = {event.revision: (event, at) for event, at in received}
        latencies = []
        for key, revision, acked_at, kind in acks:
            event, arrived_at = by_revision[int(revision)]
            assert (event.key, event.type.name) == (key, kind)
            latencies.append(arrived_at - float(acked_at))
        late = [
            (ack[:2], round(latency, 3))
            for ack, latency in zip(acks, latencies, strict=True)
            if latency > WATCH_LATENCY_BOUND
        ]
        assert not late, f"events arrived more than {WATCH_LATENCY_BOUND} s after their ack: {late}"
        latencies.sort()

        # The unfiltered watch saw one gap-free history of both processes' writes.
        if parent_writes:
            # The writer ends by itself once the child has exited; cancelling it instead could
            # interrupt a create that commits after all, leaving it out of parent_revisions.
            await asyncio.wait_for(tasks[2], timeout=10)
            assert parent_revisions, "the parent wrote nothing while the child ran"
        final = await store.current_revision()
        await everything.wait_for_revision(final, within=5)
        events = [event for event, _ in everything.events]
        check_history(events, start + 1, final)
        parent_seen = [event.revision for event in events if event.key.startswith("/parent/")]
        assert parent_seen == parent_revisions
        print(
            f"{len(acks)} child writes, {len(parent_revisions)} parent writes; watch latency "
            f"median {latencies[len(latencies) // 2] * 1000:.0f} ms, "
            f"max {latencies[-1] * 1000:.0f} ms"
        )
    finally:
        for task in tasks:
            await stop(task)
        await store.close()


async def test_failing_writes_do_not_hide_another_processs_writes(tmp_path: Path) -> None:
    """A steady stream of writes that all fail (here AlreadyExists) must not stop a store
    from noticing what another store on the same file wrote."""
    db = tmp_path / "state.db"
    mine, other = await open_file_store(db), await open_file_store(db)
    stop = asyncio.Event()

    async def failing_writes() -> None:
        while not stop.is_set():
            with contextlib.suppress(AlreadyExists):
                await mine.create("/a/exists", b"again")
            await asyncio.sleep(0.02)  # paces the stream well below the poll interval

    try:
        await mine.create("/a/exists", b"1")
        watch = await mine.watch("/b/", await mine.current_revision())
        writer = asyncio.create_task(failing_writes())
        written = await other.create("/b/x", b"from the other store")
        event = await asyncio.wait_for(anext(watch), WATCH_LATENCY_BOUND)
        assert (event.key, event.revision) == ("/b/x", written.mod_revision)
        stop.set()
        await writer
        watch.close()
    finally:
        await mine.close()
        await other.close()
