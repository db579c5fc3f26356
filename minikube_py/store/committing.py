"""One group commit: a batch of writes applied in a single database transaction.

The writer thread (``writing.py``) collects the writes that are waiting and hands them here as
one batch. A commit then costs a handful of statements, however many writes it carries:

1. read the revision counter — on PostgreSQL with a row lock, so that writers in other
   processes take their turns and revisions commit in order;
2. read the current rows of every key the batch touches, in one query;
3. pass each write through ``apply`` (``applying.py``) in order, against the rows as the
   writes before it left them, so a create followed by an update of the same key in one batch
   behaves as it would in two commits. A write that fails its own check (``AlreadyExists``,
   ``NotFound``, ``Conflict``, an undecryptable value) gets that error as its answer and uses
   no revision; the others get one revision each, in queue order;
4. store what changed: the ``kv`` rows (bulk deletes, updates and inserts of only the keys
   whose row changed), one history row per revision in ``events``, and the new counter.

The answers and events are returned, not delivered: the writer sends them to the event loop
once the transaction has committed, so nobody hears of a write that could still roll back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, bindparam, select, update

from minikube_py.store import schema
from minikube_py.store.applying import Stored, WriteOp, apply
from minikube_py.store.encryption import ValueCodec
from minikube_py.store.errors import AlreadyExists, Conflict, EncryptionError, NotFound, StoreError
from minikube_py.store.records import KeyValue, WatchEvent

_kv = schema.kv
_SELECT_ROWS = select(_kv).where(_kv.c.key.in_(bindparam("keys", expanding=True)))
_UPDATE_ROW = (
    _kv.update()
    .where(_kv.c.key == bindparam("k"))
    .values(value=bindparam("v"), create_revision=bindparam("c"), mod_revision=bindparam("m"))
)
_DELETE_ROW = _kv.delete().where(_kv.c.key == bindparam("k"))
_SET_REVISION = (
    update(schema.counter).where(schema.counter.c.id == 1).values(revision=bindparam("revision"))
)


def counter_query(dialect: str) -> Select[Any]:
    """The read of the revision counter that opens every commit on ``dialect``."""
    query = select(schema.counter.c.revision).where(schema.counter.c.id == 1)
    if dialect == "postgresql":
        # The row lock serialises writers across processes, so revisions commit in order.
        query = query.with_for_update()
    return query


def _store_rows(
    writer: Connection, before: dict[str, Stored], after: dict[str, Stored | None]
) -> None:
    """Bring ``kv`` from ``before`` to ``after`` (only keys whose row changed)."""
    inserts, updates, deletes = [], [], []
    for key, row in after.items():
        old = before.get(key)
        if row is old:
            continue
        if row is None:
            deletes.append({"k": key})
        elif old is None:
            inserts.append({"key": key, **row._asdict()})
        else:
            updates.append(
                {"k": key, "v": row.value, "c": row.create_revision, "m": row.mod_revision}
            )
    if deletes:
        writer.execute(_DELETE_ROW, deletes)
    if updates:
        writer.execute(_UPDATE_ROW, updates)
    if inserts:
        writer.execute(_kv.insert(), inserts)


def commit_batch(
    writer: Connection,
    ops: list[WriteOp],
    *,
    counter: Select[Any],
    codec: ValueCodec,
    now: float,
) -> tuple[list[KeyValue | StoreError], list[WatchEvent]]:
    """Apply ``ops`` in one transaction: one read of their keys, a few bulk writes.

    Returns one answer per op (its ``KeyValue``, or the ``StoreError`` it failed with) and the
    events of the writes that succeeded. A database failure raises and rolls back everything.
    """
    outcomes: list[KeyValue | StoreError] = []
    events: list[WatchEvent] = []
    history: list[dict[str, Any]] = []
    with writer.begin():
        revision: int = writer.execute(counter).scalar_one()
        keys = list({op.key: None for op in ops})
        before = {
            row.key: Stored(row.value, row.create_revision, row.mod_revision)
            for row in writer.execute(_SELECT_ROWS, {"keys": keys})
        }
        after: dict[str, Stored | None] = dict(before)
        for op in ops:
            try:
                applied = apply(op, after.get(op.key), revision + 1, codec=codec, now=now)
            except (AlreadyExists, NotFound, Conflict, EncryptionError) as error:
                outcomes.append(error)
                continue
            revision += 1
            after[op.key] = applied.row
            outcomes.append(applied.answer)
            events.append(applied.event)
            history.append(applied.history)
        if history:
            _store_rows(writer, before, after)
            writer.execute(schema.events.insert(), history)
            writer.execute(_SET_REVISION, {"revision": revision})
    return outcomes, events
