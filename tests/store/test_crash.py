"""An acknowledged write survives the writer being SIGKILLed at any moment.

A child process (``store_child.py crash``) writes to the durable SQLite store from several
concurrent writers — so acknowledgements come out of group commits — and reports each
acknowledged write on its stdout. The test lets it run, kills it with SIGKILL at a random
moment, then reopens the file and checks that every acknowledged write is there, that the
history is gap-free and agrees with the current state, and that SQLite finds the file intact.
The rounds share one file, so each round also starts from a file the previous round crashed.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from minikube_py.store import EventType, Retention, SqlStore, WatchEvent, open_store
from tests.store.store_child import Child

ROUNDS = 20
MAX_EXTRA_DELAY = 0.3  # seconds the child keeps writing after the first acknowledgements


class Ack:
    """One acknowledged write, as the child reported it: ``key revision version``."""

    def __init__(self, line: str) -> None:
        key, revision, version = line.split(" ")
        self.key = key
        self.revision = int(revision)
        self.version = int(version)

    def __repr__(self) -> str:
        return f"Ack({self.key!r}, revision={self.revision}, version={self.version})"


async def history(store: SqlStore, within: float = 20) -> tuple[int, list[WatchEvent]]:
    """The current revision and every event up to it, replayed by a watch from 0."""
    revision = await store.current_revision()
    events: list[WatchEvent] = []

    async def collect() -> None:
        if revision == 0:
            return
        async with await store.watch("", 0) as watch:
            async for event in watch:
                events.append(event)
                if event.revision >= revision:
                    return

    await asyncio.wait_for(collect(), within)
    return revision, events


async def check_store(db: Path, acks: list[Ack], context: str) -> None:
    """Every acknowledged write is in the reopened store; history and state agree."""
    store = await open_store(f"sqlite:///{db}", retention=Retention(interval_seconds=0))
    try:
        revision, events = await history(store)
        state = await asyncio.wait_for(store.list(""), 20)
        rechecked = [await asyncio.wait_for(store.get(ack.key), 5) for ack in acks[-5:]]
    finally:
        await store.close()

    # The history is gap-free: every revision up to the current one, once, in order.
    revisions = [event.revision for event in events]
    assert revisions == list(range(1, revision + 1)), f"{context}: history has gaps or repeats"

    # Every acknowledged write is the event at the revision it was acknowledged with.
    by_revision = {event.revision: event for event in events}
    assert len({ack.revision for ack in acks}) == len(acks), f"{context}: a revision acked twice"
    for ack in acks:
        assert ack.revision <= revision, f"{context}: {ack} is newer than the store ({revision})"
        event = by_revision[ack.revision]
        assert event.key == ack.key, f"{context}: {ack} but revision holds {event.key!r}"
        expected_type = EventType.ADDED if ack.version == 1 else EventType.MODIFIED
        assert event.type == expected_type, f"{context}: {ack} recorded as {event.type}"
        assert event.value is not None
        assert json.loads(event.value)["version"] == ack.version, f"{context}: {ack} value"

    # The current state is exactly what the history leads to (no delete in this test).
    last: dict[str, WatchEvent] = {}
    for event in events:
        assert event.type != EventType.DELETED
        last[event.key] = event
    current = {kv.key: kv for kv in state.items}
    assert state.revision == revision
    assert set(current) == set(last), f"{context}: keys differ from the history's"
    for key, kv in current.items():
        assert kv.mod_revision == last[key].revision, f"{context}: {key} mod_revision"
        assert kv.value == last[key].value, f"{context}: {key} value"
    newest_ack: dict[str, Ack] = {}
    for ack in acks:
        if ack.key not in newest_ack or ack.revision > newest_ack[ack.key].revision:
            newest_ack[ack.key] = ack
    for key, ack in newest_ack.items():
        kv = current[key]
        # Later unacknowledged writes to the key may have committed too, never fewer.
        assert kv.mod_revision >= ack.revision, f"{context}: {key} went back before {ack}"
        assert json.loads(kv.value)["version"] >= ack.version, f"{context}: {key} lost {ack}"
    for kv in rechecked:
        assert kv == current[kv.key]

    # SQLite agrees that the file is sound.
    connection = sqlite3.connect(db)
    try:
        result = connection.execute("PRAGMA integrity_check").fetchall()
    finally:
        connection.close()
    assert result == [("ok",)], f"{context}: integrity_check says {result}"


@pytest.mark.slow
async def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    db = tmp_path / "state.db"
    acks: list[Ack] = []
    started = time.monotonic()
    for round_ in range(ROUNDS):
        min_acks = rng.randint(3, 40)
        delay = rng.uniform(0, MAX_EXTRA_DELAY)
        context = f"round {round_} (seed {seed}, {min_acks} acks + {delay:.3f} s)"
        async with Child(
            "crash", str(db), f"r{round_:02d}", stderr_path=tmp_path / f"child-{round_}.err"
        ) as child:

            def enough(lines: list[str], n: int = min_acks) -> bool:
                return len(lines) >= n

            await child.wait_for(enough, within=20)
            await asyncio.sleep(delay)  # the kill lands at a random point of its writing
            await child.killed()
            assert child.proc is not None
            assert child.proc.returncode == -signal.SIGKILL, f"{context}: {child.describe()}"
            round_acks = [Ack(line) for line in child.lines]
        assert len(round_acks) >= min_acks
        acks.extend(round_acks)
        await check_store(db, acks, context)
    elapsed = time.monotonic() - started
    print(f"{ROUNDS} crash rounds, {len(acks)} acknowledged writes, {elapsed:.1f} s")
