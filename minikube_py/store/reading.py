"""Reads: get, consistent paged lists, and the history that watch replay needs.

Reads run on a small thread pool, each in one read transaction, so they see one snapshot and
never wait for the writer (SQLite's WAL, PostgreSQL's REPEATABLE READ).

Listing at a revision ``R`` that is no longer the newest (the second page of a list, while
others write) needs the state as it was at ``R``. It is rebuilt from the two tables:

- a key whose current row has ``mod_revision <= R`` has not changed since: take the row;
- a key written after ``R`` (changed, deleted, or deleted and re-created) is found through its
  *first* event after ``R``: the value that event replaced (the event row at its
  ``prev_revision``) is exactly the value at ``R`` — or, if the event created the key, the key
  did not exist at ``R``.

Both come out of index range scans in key order and are merged, so a page costs the same
whether or not anything changed; history older than the compacted revision is ``Expired``.
"""

from __future__ import annotations

import builtins  # inside ``Reader``, ``list`` names its method
import functools
import heapq
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, func, select

from minikube_py.store import continuation, schema
from minikube_py.store.database import Database, read_options
from minikube_py.store.encryption import ValueCodec
from minikube_py.store.errors import Expired, NotFound, RevisionNotYet
from minikube_py.store.pool import ReadPool
from minikube_py.store.records import EventType, KeyValue, ListResult, WatchEvent

T = TypeVar("T")
_READ_THREADS = 4


def prefix_end(prefix: str) -> str | None:
    """The smallest key greater than every key starting with ``prefix`` (None: no bound)."""
    stripped = prefix.rstrip(chr(sys.maxunicode))  # the highest character cannot be raised
    if not stripped:
        return None
    return stripped[:-1] + chr(ord(stripped[-1]) + 1)


def current_revision(connection: Connection) -> int:
    query = select(schema.counter.c.revision).where(schema.counter.c.id == 1)
    return int(connection.execute(query).scalar_one())


def compacted_revision(connection: Connection) -> int:
    query = select(schema.meta.c.value).where(schema.meta.c.name == "compacted")
    return int(connection.execute(query).scalar_one())


def read_events(
    connection: Connection,
    codec: ValueCodec,
    *,
    prefix: str,
    after: int,
    upto: int,
    limit: int | None,
) -> tuple[list[WatchEvent], int]:
    """Events under ``prefix`` with ``after < revision <= upto`` in revision order, and
    the compacted revision (history is complete only if ``after >= compacted``)."""
    ev, prev = schema.events, schema.previous
    query = (
        select(ev, prev.c.value.label("prev_value"))
        .outerjoin(prev, prev.c.revision == ev.c.prev_revision)
        .where(ev.c.revision > after, ev.c.revision <= upto)
    )
    if prefix:
        query = query.where(ev.c.key >= prefix)
        end = prefix_end(prefix)
        if end is not None:
            query = query.where(ev.c.key < end)
    query = query.order_by(ev.c.revision)
    if limit:
        query = query.limit(limit)
    rows = connection.execute(query).all()
    compacted = compacted_revision(connection)
    events = [
        WatchEvent(
            EventType(row.type),
            row.key,
            codec.open_optional(row.key, row.value),
            row.revision,
            codec.open_optional(row.key, row.prev_value),
            row.create_revision,
        )
        for row in rows
    ]
    return events, compacted


def _in_transaction(read: Callable[[Connection], T], connection: Connection) -> T:
    with connection.begin():
        return read(connection)


_GET = select(schema.kv).where(schema.kv.c.key == bindparam("key"))


class Reader:
    """Runs read transactions off the event loop, each pool thread on its own connection
    (checking a connection out of the engine's pool for every read cost more than the read)."""

    def __init__(self, database: Database, codec: ValueCodec) -> None:
        self._database = database
        self._codec = codec
        options = read_options(database.dialect)
        self._pool: ReadPool[Connection] = ReadPool(
            threads=_READ_THREADS,
            name="store-read",
            make_state=lambda: database.engine.connect().execution_options(**options),
            drop_state=lambda connection: connection.close(),
        )

    def close(self) -> None:
        self._pool.stop()

    async def run(self, read: Callable[[Connection], T]) -> T:
        return await self._pool.submit(functools.partial(_in_transaction, read))

    async def get(self, key: str) -> KeyValue:
        def read(connection: Connection) -> KeyValue:
            row = connection.execute(_GET, {"key": key}).first()
            if row is None:
                raise NotFound(key)
            return KeyValue(
                key, self._codec.open(key, row.value), row.create_revision, row.mod_revision
            )

        return await self.run(read)

    async def list(
        self, prefix: str, limit: int, token: str | None, at_revision: int | None = None
    ) -> ListResult:
        secret = self._database.token_secret
        revision, after = (at_revision, None)
        if token:
            revision, after = continuation.decode(secret, prefix=prefix, token=token)

        def read(connection: Connection) -> ListResult:
            newest = current_revision(connection)
            at = newest if revision is None else revision
            compacted = compacted_revision(connection)
            if at < compacted:
                raise Expired(at, compacted)
            if at > newest:
                raise RevisionNotYet(at, newest)
            rows = self._list_at(connection, prefix, at, after, limit, newest)
            next_token = None
            if limit and len(rows) > limit:
                rows = rows[:limit]
                next_token = continuation.encode(
                    secret, prefix=prefix, revision=at, last_key=rows[-1].key
                )
            return ListResult(rows, at, next_token)

        return await self.run(read)

    def _list_at(
        self,
        connection: Connection,
        prefix: str,
        at: int,
        after: str | None,
        limit: int,
        newest: int,
    ) -> builtins.list[KeyValue]:
        kv, ev, prev = schema.kv, schema.events, schema.previous
        end = prefix_end(prefix)

        def in_range(column: Any) -> list[Any]:
            conditions = [column > after if after is not None else column >= prefix]
            if end is not None:
                conditions.append(column < end)
            return conditions

        unchanged = (
            select(kv).where(*in_range(kv.c.key), kv.c.mod_revision <= at).order_by(kv.c.key)
        )
        first_after = (
            select(ev.c.key, func.min(ev.c.revision).label("revision"))
            .where(*in_range(ev.c.key), ev.c.revision > at)
            .group_by(ev.c.key)
            .subquery()
        )
        changed = (
            select(ev, prev.c.value.label("prev_value"))
            .join(first_after, ev.c.revision == first_after.c.revision)
            .outerjoin(prev, prev.c.revision == ev.c.prev_revision)
            .where(ev.c.type != EventType.ADDED.value)
            .order_by(ev.c.key)
        )
        if limit:
            unchanged, changed = unchanged.limit(limit + 1), changed.limit(limit + 1)
        open_value = self._codec.open
        # Rows fetched at once, not one by one, and each made into a KeyValue once: with
        # thousands of rows (an informer's first list) the per-row overhead is most of the read.
        current = connection.execute(unchanged).all()
        if at >= newest:
            # At the newest revision nothing was written after `at`; skipping the query matters,
            # since SQLite answers it by scanning the whole history of the key range.
            return [KeyValue(k, open_value(k, v), c, m) for k, v, c, m in current]
        earlier = [
            (r.key, r.prev_value, r.create_revision, r.prev_revision)
            for r in connection.execute(changed)
        ]
        merged: builtins.list[KeyValue] = []
        last = None
        for k, v, c, m in heapq.merge(current, earlier, key=lambda row: row[0]):
            if k == last:
                continue  # only with a torn read; both halves describe the same state
            last = k
            merged.append(KeyValue(k, open_value(k, v), c, m))
        return merged
