"""The writer: one thread that turns concurrent writes into group commits.

A durable commit costs one fsync, a millisecond or more; doing one per write would cap the
whole cluster at a few hundred writes a second. So every write is queued to a single writer
thread, which takes everything waiting (up to ``_MAX_BATCH``), applies the writes in one
transaction — each still checked on its own (AlreadyExists, NotFound, Conflict) and given its
own revision — and commits once (``committing.py``). Callers are answered only after that
commit: throughput grows with concurrency while every acknowledgement stays durable.

The writer is also the feed of the watch hub. After a commit it hands the batch's events to the
event loop, *before* resolving the callers' futures, so a caller that wrote and then watches
cannot miss its own write. Other processes may write to the same database: every poll interval
the writer reads the revision counter, and whenever revisions appear that it did not write (a
gap) it reads them from the ``events`` table first, so watchers always see one gap-free, ordered
history.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import attrs
from sqlalchemy import Connection

from minikube_py.logs import get_logger
from minikube_py.store.applying import WriteOp
from minikube_py.store.committing import commit_batch, counter_query
from minikube_py.store.database import Database, write_connection
from minikube_py.store.encryption import ValueCodec
from minikube_py.store.errors import StoreClosed, StoreError
from minikube_py.store.reading import current_revision, read_events
from minikube_py.store.records import KeyValue, WatchEvent

_MAX_BATCH = 512
_log = get_logger("store")

Publish = Callable[[list[WatchEvent], bool], None]


@attrs.frozen
class _Job:
    """Work that must run alone on the write connection (compaction)."""

    run: Callable[[Connection], Any]
    future: asyncio.Future[Any]


_STOP = object()


class Writer:
    """Owns the write connection and the thread that uses it."""

    def __init__(
        self,
        database: Database,
        codec: ValueCodec,
        *,
        loop: asyncio.AbstractEventLoop,
        publish: Publish,
        clock: Callable[[], float],
        poll_interval: float,
        fed_revision: int,
    ) -> None:
        self._database = database
        self._codec = codec
        self._loop = loop
        self._publish = publish
        self._clock = clock
        self._poll_interval = poll_interval
        self._fed = fed_revision  # newest revision handed to the hub; owned by the thread
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._counter = counter_query(database.dialect)

    def start(self) -> None:
        self._thread.start()

    def submit(self, op: WriteOp) -> asyncio.Future[KeyValue]:
        future: asyncio.Future[KeyValue] = self._loop.create_future()
        if self._closed:
            future.set_exception(StoreClosed("the store is closed"))
        else:
            self._queue.put((op, future))
        return future

    def run_job(self, run: Callable[[Connection], Any]) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = self._loop.create_future()
        if self._closed:
            future.set_exception(StoreClosed("the store is closed"))
        else:
            self._queue.put(_Job(run, future))
        return future

    async def stop(self) -> None:
        """Finish every write queued so far, then end the thread."""
        self._closed = True
        self._queue.put(_STOP)
        await asyncio.to_thread(self._thread.join)

    # --- the thread -------------------------------------------------------------------

    def _run(self) -> None:
        engine = self._database.engine
        with write_connection(engine) as writer, engine.connect() as reader:
            checked = time.monotonic()
            while True:
                # Look for other processes' writes every poll interval, also when busy: a
                # stream of writes that all fail would otherwise hide them indefinitely.
                wait = self._poll_interval - (time.monotonic() - checked)
                try:
                    item = self._queue.get(timeout=max(wait, 0.0))
                except queue.Empty:
                    item = None
                if item is not None and self._handle(writer, reader, item) is _STOP:
                    return
                if time.monotonic() - checked >= self._poll_interval:
                    self._catch_up(reader)
                    checked = time.monotonic()

    def _handle(self, writer: Connection, reader: Connection, item: Any) -> Any:
        """Run one queue item — with every write queued behind it — and return _STOP if seen."""
        if isinstance(item, _Job):
            self._run_job(writer, item)
            return None
        if item is _STOP:
            return _STOP
        batch = [item]
        leftover = None
        while len(batch) < _MAX_BATCH:
            try:
                nxt = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(nxt, tuple):
                batch.append(nxt)
            else:
                leftover = nxt
                break
        self._write_batch(writer, reader, batch)
        return None if leftover is None else self._handle(writer, reader, leftover)

    def _run_job(self, writer: Connection, job: _Job) -> None:
        try:
            result = job.run(writer)
        except Exception as error:
            self._answer([(job.future, error)], [])
        else:
            self._answer([(job.future, result)], [])

    def _write_batch(
        self, writer: Connection, reader: Connection, batch: list[tuple[WriteOp, Any]]
    ) -> None:
        ops = [op for op, _ in batch]
        try:
            outcomes, events = commit_batch(
                writer, ops, counter=self._counter, codec=self._codec, now=self._clock()
            )
        except Exception as error:
            if len(ops) > 1:
                # One bad write must not fail its neighbours: retry each alone.
                for single in batch:
                    self._write_batch(writer, reader, [single])
                return
            _log.error("store write failed", key=ops[0].key, error=str(error))
            outcomes, events = [StoreError(f"write of {ops[0].key!r} failed: {error}")], []
        gap: list[WatchEvent] = []
        if events and events[0].revision != self._fed + 1:
            gap = self._read_gap(reader, upto=events[0].revision - 1)
        if events:
            self._fed = events[-1].revision
        self._answer(
            [(fut, out) for (_, fut), out in zip(batch, outcomes, strict=True)], gap + events
        )

    def _catch_up(self, reader: Connection) -> None:
        """Feed the hub with revisions other processes wrote since we last looked."""
        try:
            newest = current_revision(reader)
        except Exception as error:
            _log.warning("store poll failed", error=str(error))
            return
        finally:
            reader.rollback()
        if newest > self._fed:
            events = self._read_gap(reader, upto=newest)
            self._fed = newest
            self._answer([], events)

    def _read_gap(self, reader: Connection, *, upto: int) -> list[WatchEvent]:
        """Revisions after the last one fed to the hub, up to ``upto``, read from history.

        If they cannot be read (compacted already, or the database failed), watchers are
        ended with ``Expired`` so that their clients list afresh: a silent gap is never an
        option.
        """
        try:
            events, compacted = read_events(
                reader, self._codec, prefix="", after=self._fed, upto=upto, limit=None
            )
            lost = self._fed < compacted
        except Exception as error:
            _log.error("store could not read revisions for watchers", error=str(error))
            events, lost = [], True
        finally:
            reader.rollback()
        if lost:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._publish, [], True)
        return events

    def _answer(
        self, results: list[tuple[asyncio.Future[Any], Any]], events: list[WatchEvent]
    ) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is left to answer
            self._loop.call_soon_threadsafe(_deliver, self._publish, events, results)


def _deliver(
    publish: Publish, events: list[WatchEvent], results: list[tuple[asyncio.Future[Any], Any]]
) -> None:
    if events:
        publish(events, False)
    for future, outcome in results:
        if future.cancelled():
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
