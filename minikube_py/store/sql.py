"""``SqlStore``: the store itself, assembled from its parts.

``open_store(url)`` opens the database (``database.py``), starts the writer thread
(``writing.py``), the read pool (``reading.py``), the watch hub (``watching.py``) and the
periodic compaction (``compaction.py``), and returns one object with the ``Store`` API of
``backend.py``. The same code serves SQLite and PostgreSQL; what differs lives in
``database.py``. A store belongs to the event loop that opened it.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import functools
import time
from collections.abc import Callable

from minikube_py.logs import get_logger
from minikube_py.store import compaction
from minikube_py.store.applying import WriteOp
from minikube_py.store.compaction import Retention
from minikube_py.store.database import Database, open_database
from minikube_py.store.encryption import Encryption, ValueCodec
from minikube_py.store.errors import Expired, StoreClosed
from minikube_py.store.reading import Reader, compacted_revision, current_revision, read_events
from minikube_py.store.records import KeyValue, ListResult, WatchEvent
from minikube_py.store.watching import SqlWatch, WatchHub
from minikube_py.store.writing import Writer

_log = get_logger("store")


async def open_store(
    url: str,
    *,
    encryption: Encryption | None = None,
    retention: Retention | None = None,
    max_pending_events: int = 1000,
    clock: Callable[[], float] = time.time,
    poll_interval: float = 0.25,
) -> SqlStore:
    """Open (creating if needed) the store at ``url``; see ``database.py`` for URLs."""
    database = await asyncio.to_thread(open_database, url)
    store = SqlStore(
        database,
        encryption=encryption,
        retention=retention or Retention(),
        max_pending_events=max_pending_events,
        clock=clock,
        poll_interval=poll_interval,
    )
    await store.start()
    return store


class SqlStore:
    """The ``Store`` of ``backend.py`` over an SQLAlchemy database."""

    def __init__(
        self,
        database: Database,
        *,
        encryption: Encryption | None,
        retention: Retention,
        max_pending_events: int,
        clock: Callable[[], float],
        poll_interval: float,
    ) -> None:
        self._database = database
        self._codec = ValueCodec(encryption)
        self._retention = retention
        self._max_pending = max_pending_events
        self._clock = clock
        self._poll_interval = poll_interval
        self._reader = Reader(database, self._codec)
        self._hub: WatchHub | None = None
        self._writer: Writer | None = None
        self._compactor: asyncio.Task[None] | None = None
        self._closed = False

    async def start(self) -> None:
        revision = await self._reader.run(current_revision)
        self._hub = WatchHub(delivered=revision, max_pending=self._max_pending)
        self._writer = Writer(
            self._database,
            self._codec,
            loop=asyncio.get_running_loop(),
            publish=self._hub.publish,
            clock=self._clock,
            poll_interval=self._poll_interval,
            fed_revision=revision,
        )
        self._writer.start()
        if self._retention.interval_seconds > 0:
            self._compactor = asyncio.create_task(self._compact_periodically())
        _log.info("store opened", database=self._database.description, revision=revision)

    @property
    def description(self) -> str:
        return self._database.description

    @property
    def hub(self) -> WatchHub:
        assert self._hub is not None, "store not started"
        return self._hub

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosed("the store is closed")

    def _write(self, op: WriteOp) -> asyncio.Future[KeyValue]:
        assert self._writer is not None, "store not started"
        return self._writer.submit(op)

    async def create(self, key: str, value: bytes) -> KeyValue:
        return await self._write(WriteOp("create", key, value))

    async def get(self, key: str) -> KeyValue:
        self._check_open()
        return await self._reader.get(key)

    async def list(
        self,
        prefix: str,
        *,
        limit: int = 0,
        continue_token: str | None = None,
        revision: int | None = None,
    ) -> ListResult:
        self._check_open()
        return await self._reader.list(prefix, limit, continue_token, revision)

    async def update(self, key: str, value: bytes, *, expected_revision: int | None) -> KeyValue:
        return await self._write(WriteOp("update", key, value, expected_revision))

    async def delete(self, key: str, *, expected_revision: int | None) -> KeyValue:
        return await self._write(WriteOp("delete", key, None, expected_revision))

    async def current_revision(self) -> int:
        self._check_open()
        return await self._reader.run(current_revision)

    async def watch(self, prefix: str, from_revision: int) -> SqlWatch:
        self._check_open()
        compacted = await self._reader.run(compacted_revision)
        if from_revision < compacted:
            raise Expired(from_revision, compacted)
        return SqlWatch(self.hub, self._read_events, prefix=prefix, from_revision=from_revision)

    async def _read_events(
        self, prefix: str, after: int, upto: int, limit: int
    ) -> tuple[builtins.list[WatchEvent], int]:
        return await self._reader.run(
            lambda c: read_events(
                c, self._codec, prefix=prefix, after=after, upto=upto, limit=limit
            )
        )

    async def compact(self) -> int:
        """Apply the retention policy now; returns the compacted revision."""
        assert self._writer is not None, "store not started"
        now = self._clock()
        previous, target = await self._writer.run_job(
            lambda c: compaction.choose_and_record(c, self._retention, now)
        )
        done = previous
        while done < target:
            done = await self._writer.run_job(
                functools.partial(compaction.delete_chunk, after=done, upto=target)
            )
        if target > previous:
            _log.info("store compacted", compacted=target, previous=previous)
        return int(target)

    async def _compact_periodically(self) -> None:
        while True:
            await asyncio.sleep(self._retention.interval_seconds)
            try:
                await self.compact()
            except Exception as error:  # keep compacting later; a failure here is not fatal
                _log.warning("store compaction failed", error=str(error))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._compactor is not None:
            self._compactor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._compactor
        if self._writer is not None:
            await self._writer.stop()
        if self._hub is not None:
            self._hub.fail_all(None)
        await asyncio.to_thread(self._reader.close)
        await asyncio.to_thread(self._database.dispose)
        _log.info("store closed", database=self._database.description)
