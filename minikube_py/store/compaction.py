"""Compaction: forgetting old history so the database stays the size of the live data.

Every write adds a row to ``events``; without compaction a heartbeat that rewrites 50 leases
every 2 seconds would grow the database by gigabytes — what happened to k3s's kine databases.
Like kube-apiserver's periodic etcd compaction, a background task picks a *compacted revision*
``K`` and deletes the history up to it, keeping at least the last ``min_revisions`` revisions
and everything written in the last ``min_age_seconds``. After that, a list or watch that needs
history at or before ``K`` gets ``Expired`` (HTTP 410) and its client lists afresh.

``K`` is recorded before any row is deleted, so no reader can mistake partly deleted history
for complete history. An event row at or before ``K`` survives while a newer event names it as
the value it replaced (at most one such row per key), because that is where the newer event's
previous value lives. Rows go in chunks, each its own short transaction on the writer thread,
so writes are never held up for long and never see "database is locked".
"""

from __future__ import annotations

import attrs
from sqlalchemy import Connection, func, select, update

from minikube_py.store import schema
from minikube_py.store.reading import compacted_revision, current_revision

_CHUNK = 2000


@attrs.frozen
class Retention:
    """How much history to keep, and how often to look."""

    min_revisions: int = 1000
    min_age_seconds: float = 300.0
    interval_seconds: float = 60.0


def choose_and_record(connection: Connection, retention: Retention, now: float) -> tuple[int, int]:
    """Pick the new compacted revision and record it; returns (previous, new)."""
    with connection.begin():
        previous = compacted_revision(connection)
        by_count = current_revision(connection) - retention.min_revisions
        ev = schema.events
        by_age = connection.execute(
            select(func.max(ev.c.revision)).where(ev.c.created_at < now - retention.min_age_seconds)
        ).scalar_one()
        target = min(by_count, by_age if by_age is not None else previous)
        if target <= previous:
            return previous, previous
        connection.execute(
            update(schema.meta).where(schema.meta.c.name == "compacted").values(value=str(target))
        )
        return previous, target


def delete_chunk(connection: Connection, *, after: int, upto: int) -> int:
    """Delete the history in ``(after, min(after + chunk, upto)]``; returns its upper end.

    A row that a retained event names as its ``prev_revision`` stays: it holds the value that
    event replaced. It goes with a later compaction, once that event is compacted too.
    """
    end = min(after + _CHUNK, upto)
    ev = schema.events
    still_needed = select(ev.c.prev_revision).where(ev.c.revision > upto)
    with connection.begin():
        connection.execute(
            ev.delete().where(
                ev.c.revision > after, ev.c.revision <= end, ev.c.revision.not_in(still_needed)
            )
        )
    return end
