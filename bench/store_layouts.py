"""Kine's one append-only table against our current-state table plus event log, on SQLite.

Usage::

    python bench/store_layouts.py [--explain]

Why: kine (k3s's etcd shim) keeps every write as a row of one table and finds the current
value of a key as "the row with the highest id for that name". Its users report that this
gets slow as the table grows. Our store (``minikube_py/store/schema.py``) instead keeps the
current state in ``kv`` (one row per live key) and the history in ``events``. This script
measures the two *layouts* side by side, with plain ``sqlite3`` and hand-written SQL, so
that neither SQLAlchemy nor our Python code is part of the numbers.

The two layouts:

* **A, kine-style**: ``kine(id INTEGER PRIMARY KEY AUTOINCREMENT, name, created, deleted,
  create_revision, prev_revision, value, old_value)`` with an index on ``(name, id)``. Every
  write appends a row that carries the new value and, like kine, the value it replaced.
  A get reads the row ``id = (SELECT max(id) ... WHERE name = ?)``; a list is
  ``id IN (SELECT max(id) ... WHERE name >= lo AND name < hi GROUP BY name) AND deleted = 0
  ORDER BY name``, which has to visit every historical row of every key in the range.
  A write reads the key's current row, then appends.
* **B, ours**: ``kv(key PRIMARY KEY, value, create_revision, mod_revision)`` plus
  ``events(revision PRIMARY KEY, key, type, create_revision, prev_revision, value,
  created_at)`` with an index on ``(key, revision)``, plus the one-row ``counter`` that our
  writers bump. A write bumps the counter, reads the key's ``kv`` row, appends an event and
  upserts ``kv``, in one transaction. A get is a primary-key lookup in ``kv``; a list is a
  range scan of ``kv``.

Data: 10,000 keys ``/registry/pods/ns-XX/pod-YYYY`` under 100 namespaces, 500-byte random
values, each key written H times (H = 1 and H = 20): kine's read cost grows with the history
it keeps, ours should not. The H rounds are interleaved (every key is written once per
round, in a shuffled order), as writes arrive in a real cluster. Loading uses one big
transaction per round; its speed is not measured.

Measured, for each layout and H (both databases are files in one temporary directory,
``journal_mode=WAL``, ``synchronous=FULL``, and the WAL settings of
``minikube_py/store/database.py``; one connection each):

* **point get/s**: 5,000 gets of random existing keys, one statement each.
* **list 1 ns/s**: 300 lists of a random namespace (100 keys, all rows fetched).
* **list all, ms**: time to list all 10,000 keys (all rows fetched).
* **B, older revision**: the same two lists, but B reads at an *older* revision, as
  ``Reader._list_at`` in ``minikube_py/store/reading.py`` does for the later pages of a paged
  list when writes happened in between: the ``kv`` rows not modified after it *and* the
  "first event after the revision, per key" query on ``events``, which SQLite answers by
  scanning the ``(key, revision)`` index over the key range, i.e. its whole history. (At the
  newest revision — every first page — ``reading.py`` skips that query; the plain B rows are
  that case.) A runs its one list query again, so its two rows also show the run's noise.
* **durable update/s**: one writer, one ``BEGIN IMMEDIATE ... COMMIT`` per write (so one
  fsync per write), batches of 300 updates of random existing keys. Bounded mostly by the
  fsync, and the WAL checkpoints it triggers.
* **file, MB**: database size after loading, with the WAL checkpointed and truncated. Both
  layouts hold every value twice once a key has history (kine: ``value`` and the next
  row's ``old_value``; ours: ``events`` and ``kv``); at H = 1 kine holds it once.

Each read figure is the median of 5 passes (7 for the full list), the update figure the
median of 3 batches; passes alternate between A and B so that other load on the machine
affects both alike. The ratio column is B/A: above 1 means B is faster for the "/s" rows;
below 1 means B is faster (ms) or smaller (MB) for the others.

Caveats: kine compacts old rows in the background (by default keeping about the last 1,000
revisions), so H = 20 for every key is what a kine database looks like when writes outpace
compaction, not in a quiet cluster; our ``events`` table is compacted too. Kine's real
queries also fetch the current and compacted revision and ``old_value`` with every list;
the A queries here leave those out, which only favours A. The fsync-bound update row is
the noisiest (run it a few times before reading much into a ratio near 1).
``--explain`` prints SQLite's query plan for each read query.
"""

from __future__ import annotations

import argparse
import heapq
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

NAMESPACES = 100
PODS_PER_NAMESPACE = 100
VALUE_BYTES = 500
HISTORY_DEPTHS = (1, 20)
GETS = 5_000
NAMESPACE_LISTS = 300
FULL_LISTS = 7  # the median of this many is reported
UPDATES = 300
READ_REPEATS = 5  # passes over the same gets / namespace lists; the median pass is reported
UPDATE_REPEATS = 3  # batches of UPDATES durable writes; the median batch is reported
SEED = 20240601

ALL_LO, ALL_HI = "/registry/pods/", "/registry/pods0"  # "0" is the byte after "/"

Row = tuple[object, ...]


def namespace_range(ns: int) -> tuple[str, str]:
    prefix = f"/registry/pods/ns-{ns:02d}/"
    return prefix, prefix[:-1] + "0"


KEYS = [
    f"/registry/pods/ns-{ns:02d}/pod-{pod:04d}"
    for ns in range(NAMESPACES)
    for pod in range(PODS_PER_NAMESPACE)
]


class Values:
    """Random 500-byte values, cut from one random pool so that making them is cheap."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._pool = rng.randbytes(1 << 20)

    def next(self) -> bytes:
        start = self._rng.randrange(len(self._pool) - VALUE_BYTES)
        return self._pool[start : start + VALUE_BYTES]


def connect(path: Path) -> sqlite3.Connection:
    """A connection configured like the store's (``minikube_py/store/database.py``)."""
    connection = sqlite3.connect(path, isolation_level=None)  # we issue BEGIN/COMMIT
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA journal_size_limit = 1048576")
    connection.execute("PRAGMA wal_autocheckpoint = 256")
    return connection


class Kine:
    """Layout A: one append-only table; the current row of a key is its max(id)."""

    label = "A kine-style"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.db = connection
        self.db.executescript(
            """
            CREATE TABLE kine (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL,
                created INTEGER,
                deleted INTEGER,
                create_revision INTEGER,
                prev_revision INTEGER,
                value BLOB,
                old_value BLOB
            );
            CREATE INDEX kine_name_id ON kine (name, id);
            """
        )

    GET_SQL = """
        SELECT name, value, create_revision, id FROM kine
        WHERE id = (SELECT max(id) FROM kine WHERE name = ?) AND deleted = 0
    """
    LIST_SQL = """
        SELECT name, value, create_revision, id FROM kine
        WHERE id IN (SELECT max(id) FROM kine WHERE name >= ? AND name < ? GROUP BY name)
          AND deleted = 0
        ORDER BY name
    """
    CURRENT_SQL = """
        SELECT id, create_revision, value FROM kine
        WHERE id = (SELECT max(id) FROM kine WHERE name = ?)
    """

    def load(self, writes: Sequence[tuple[int, str, bytes]], state: dict[str, Row]) -> None:
        """Append ``(revision, key, value)`` writes; ``state`` maps key -> (create, mod, value)
        as of before these writes, and is updated."""
        rows = []
        for revision, key, value in writes:
            previous = state.get(key)
            if previous is None:
                rows.append((revision, key, 1, 0, revision, 0, value, None))
                state[key] = (revision, revision, value)
            else:
                created, mod, old = previous
                rows.append((revision, key, 0, 0, created, mod, value, old))
                state[key] = (created, revision, value)
        self.db.execute("BEGIN")
        self.db.executemany("INSERT INTO kine VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        self.db.execute("COMMIT")

    def get(self, key: str) -> Row | None:
        return self.db.execute(self.GET_SQL, (key,)).fetchone()

    def list(self, lo: str, hi: str) -> list[Row]:
        return self.db.execute(self.LIST_SQL, (lo, hi)).fetchall()

    def list_as_reader(self, lo: str, hi: str) -> list[Row]:
        return self.list(lo, hi)  # kine's list is this one query

    def update(self, key: str, value: bytes) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        mod, created, old = self.db.execute(self.CURRENT_SQL, (key,)).fetchone()
        self.db.execute(
            "INSERT INTO kine (name, created, deleted, create_revision, prev_revision, value,"
            " old_value) VALUES (?, 0, 0, ?, ?, ?, ?)",
            (key, created, mod, value, old),
        )
        self.db.execute("COMMIT")

    def plans(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        return {"get": (self.GET_SQL, (KEYS[0],)), "list": (self.LIST_SQL, (ALL_LO, ALL_HI))}


class Ours:
    """Layout B: current state in ``kv``, history in ``events``."""

    label = "B kv+events"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.db = connection
        self.db.executescript(
            """
            CREATE TABLE kv (
                key TEXT PRIMARY KEY,
                value BLOB NOT NULL,
                create_revision INTEGER NOT NULL,
                mod_revision INTEGER NOT NULL
            );
            CREATE TABLE events (
                revision INTEGER PRIMARY KEY,
                key TEXT NOT NULL,
                type INTEGER NOT NULL,
                create_revision INTEGER NOT NULL,
                prev_revision INTEGER NOT NULL,
                value BLOB,
                created_at REAL NOT NULL
            );
            CREATE INDEX events_key_revision ON events (key, revision);
            CREATE TABLE counter (id INTEGER PRIMARY KEY, revision INTEGER NOT NULL);
            INSERT INTO counter VALUES (1, 0);
            """
        )

    GET_SQL = "SELECT key, value, create_revision, mod_revision FROM kv WHERE key = ?"
    LIST_SQL = """
        SELECT key, value, create_revision, mod_revision FROM kv
        WHERE key >= ? AND key < ? ORDER BY key
    """
    UPSERT_SQL = """
        INSERT INTO kv VALUES (?, ?, ?, ?)
        ON CONFLICT (key) DO UPDATE SET value = excluded.value,
            mod_revision = excluded.mod_revision
    """
    EVENT_SQL = "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)"

    def load(self, writes: Sequence[tuple[int, str, bytes]], state: dict[str, Row]) -> None:
        now = time.time()
        events, upserts = [], []
        for revision, key, value in writes:
            previous = state.get(key)
            if previous is None:
                created, kind, prev = revision, 0, 0
            else:
                created, prev, _ = previous
                kind = 1
            state[key] = (created, revision, value)
            events.append((revision, key, kind, created, prev, value, now))
            upserts.append((key, value, created, revision))
        self.db.execute("BEGIN")
        self.db.executemany(self.EVENT_SQL, events)
        self.db.executemany(self.UPSERT_SQL, upserts)
        self.db.execute("UPDATE counter SET revision = ? WHERE id = 1", (writes[-1][0],))
        self.db.execute("COMMIT")

    def get(self, key: str) -> Row | None:
        return self.db.execute(self.GET_SQL, (key,)).fetchone()

    def list(self, lo: str, hi: str) -> list[Row]:
        return self.db.execute(self.LIST_SQL, (lo, hi)).fetchall()

    # What ``Reader._list_at`` in ``minikube_py/store/reading.py`` runs for a list at an older
    # revision ``at`` (a later page): the unchanged ``kv`` rows, plus the value at ``at`` of
    # every key written after it, found through its first event after ``at``.
    UNCHANGED_SQL = """
        SELECT key, value, create_revision, mod_revision FROM kv
        WHERE key >= ? AND key < ? AND mod_revision <= ? ORDER BY key
    """
    CHANGED_SQL = """
        SELECT e.key, p.value, e.create_revision, e.prev_revision
        FROM events AS e
        JOIN (SELECT key, min(revision) AS revision FROM events
              WHERE key >= ? AND key < ? AND revision > ? GROUP BY key) AS f
          ON e.revision = f.revision
        LEFT JOIN events AS p ON p.revision = e.prev_revision
        WHERE e.type != 0
        ORDER BY e.key
    """

    def list_as_reader(self, lo: str, hi: str) -> list[Row]:
        self.db.execute("BEGIN")
        (newest,) = self.db.execute("SELECT revision FROM counter WHERE id = 1").fetchone()
        at = newest - 1  # one write since the first page
        unchanged = self.db.execute(self.UNCHANGED_SQL, (lo, hi, at)).fetchall()
        changed = self.db.execute(self.CHANGED_SQL, (lo, hi, at)).fetchall()
        self.db.execute("COMMIT")
        return list(heapq.merge(unchanged, changed, key=lambda row: row[0]))

    def update(self, key: str, value: bytes) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        (revision,) = self.db.execute(
            "UPDATE counter SET revision = revision + 1 WHERE id = 1 RETURNING revision"
        ).fetchone()
        created, prev = self.db.execute(
            "SELECT create_revision, mod_revision FROM kv WHERE key = ?", (key,)
        ).fetchone()
        self.db.execute(self.EVENT_SQL, (revision, key, 1, created, prev, value, time.time()))
        self.db.execute(self.UPSERT_SQL, (key, value, created, revision))
        self.db.execute("COMMIT")

    def plans(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        return {
            "get": (self.GET_SQL, (KEYS[0],)),
            "list": (self.LIST_SQL, (ALL_LO, ALL_HI)),
            "list as reader, unchanged": (self.UNCHANGED_SQL, (ALL_LO, ALL_HI, 0)),
            "list as reader, changed": (self.CHANGED_SQL, (ALL_LO, ALL_HI, 0)),
        }


Layout = Kine | Ours


def build(layout_class: type[Layout], history: int, path: Path) -> tuple[Layout, float]:
    """Create and load one database; return it and its size in MB."""
    rng = random.Random(SEED)  # the same keys and values for both layouts
    values = Values(rng)
    layout = layout_class(connect(path))
    state: dict[str, Row] = {}
    revision = 0
    for _ in range(history):
        order = KEYS[:]
        rng.shuffle(order)
        writes = []
        for key in order:
            revision += 1
            writes.append((revision, key, values.next()))
        layout.load(writes, state)
    layout.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = path.stat().st_size + Path(f"{path}-wal").stat().st_size
    # Warm the caches, and check that every read sees the data.
    for key in KEYS:
        assert layout.get(key) is not None
    assert len(layout.list(ALL_LO, ALL_HI)) == len(KEYS)
    assert len(layout.list(*namespace_range(0))) == PODS_PER_NAMESPACE
    # One revision back, the newest write is undone: one key fewer if it was a creation.
    assert len(layout.list_as_reader(ALL_LO, ALL_HI)) in (len(KEYS), len(KEYS) - 1)
    return layout, size / 1e6


def alternate(
    layouts: Sequence[Layout], action: Callable[[Layout, int], object], repeats: int
) -> list[float]:
    """The median seconds of ``action(layout, pass)`` over ``repeats`` passes per layout.

    Passes alternate between the layouts, so that a change in the machine's load during the
    run (other processes, the disk's write-back) affects both alike."""
    timings: list[list[float]] = [[] for _ in layouts]
    for number in range(repeats):
        for index, layout in enumerate(layouts):
            start = time.perf_counter()
            action(layout, number)
            timings[index].append(time.perf_counter() - start)
    return [statistics.median(times) for times in timings]


def measure(history: int, *, explain: bool) -> list[dict[str, float]]:
    """Build both layouts with ``history`` writes per key, measure them, remove them."""
    rng = random.Random(SEED + history)
    values = Values(rng)
    with tempfile.TemporaryDirectory(prefix="store-layouts-") as directory:
        built = [
            build(cls, history, Path(directory) / f"{cls.__name__}.db") for cls in (Kine, Ours)
        ]
        layouts = [layout for layout, _ in built]
        results: list[dict[str, float]] = [{"size_mb": size} for _, size in built]

        if explain:
            for layout in layouts:
                for name, (sql, params) in layout.plans().items():
                    print(f"  {layout.label}, H={history}, {name}:")
                    for row in layout.db.execute("EXPLAIN QUERY PLAN " + sql, params):
                        print(f"    {row[-1]}")

        def record(metric: str, figures: list[float]) -> None:
            for result, value in zip(results, figures, strict=True):
                result[metric] = value

        keys = [rng.choice(KEYS) for _ in range(GETS)]
        seconds = alternate(layouts, lambda lay, _: [lay.get(key) for key in keys], READ_REPEATS)
        record("get", [GETS / s for s in seconds])

        ranges = [namespace_range(rng.randrange(NAMESPACES)) for _ in range(NAMESPACE_LISTS)]
        for name in ("list", "list_as_reader"):
            seconds = alternate(
                layouts,
                lambda lay, _, name=name: [getattr(lay, name)(lo, hi) for lo, hi in ranges],
                READ_REPEATS,
            )
            record(f"{name}_ns", [NAMESPACE_LISTS / s for s in seconds])
            seconds = alternate(
                layouts, lambda lay, _, name=name: getattr(lay, name)(ALL_LO, ALL_HI), FULL_LISTS
            )
            record(f"{name}_all_ms", [1000 * s for s in seconds])

        writes = [(rng.choice(KEYS), values.next()) for _ in range(UPDATES * UPDATE_REPEATS)]

        def update_batch(layout: Layout, number: int) -> None:
            for key, value in writes[number * UPDATES : (number + 1) * UPDATES]:
                layout.update(key, value)

        seconds = alternate(layouts, update_batch, UPDATE_REPEATS)
        record("update", [UPDATES / s for s in seconds])
        for layout in layouts:
            layout.db.close()
    return results


METRICS = (
    ("get", "point get /s", "{:,.0f}"),
    ("list_ns", f"list 1 ns ({PODS_PER_NAMESPACE} keys) /s", "{:,.0f}"),
    ("list_all_ms", f"list all {len(KEYS):,} keys, ms", "{:,.1f}"),
    ("list_as_reader_ns", "  list 1 ns, B older revision /s", "{:,.0f}"),
    ("list_as_reader_all_ms", "  list all, B older revision, ms", "{:,.1f}"),
    ("update", "durable update /s (1 writer)", "{:,.0f}"),
    ("size_mb", "database file, MB", "{:,.1f}"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--explain", action="store_true", help="print SQLite's query plans")
    args = parser.parse_args()

    started = time.perf_counter()
    print(
        f"SQLite {sqlite3.sqlite_version}, {len(KEYS):,} keys in {NAMESPACES} namespaces, "
        f"{VALUE_BYTES}-byte values, WAL + synchronous=FULL, temp dir under "
        f"{tempfile.gettempdir()}, {os.cpu_count()} CPUs"
    )
    header = f"{'H':>3}  {'metric':<31} {Kine.label:>14} {Ours.label:>14} {'B/A':>8}"
    lines = [header, "-" * len(header)]
    for history in HISTORY_DEPTHS:
        a, b = measure(history, explain=args.explain)
        for key, title, fmt in METRICS:
            ratio = b[key] / a[key]
            lines.append(
                f"{history:>3}  {title:<31} {fmt.format(a[key]):>14} "
                f"{fmt.format(b[key]):>14} {ratio:>8.2f}"
            )
        lines.append("")
    print("\n".join(lines).rstrip())
    print(
        "B/A: above 1 = B faster for '/s' rows; below 1 = B faster (ms) or smaller (MB).\n"
        f"total {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
