"""A small thread pool for blocking reads that answers the event loop in batches.

``loop.run_in_executor`` wakes the event loop once per finished call. For point reads that
wake-up costs more than the read, and under load (fifty clients reading at once) the loop
spends its time being woken. Here each worker takes every call that is waiting (up to
``_BATCH``), runs them one after another, and hands all their results to the loop in one
``call_soon_threadsafe``: the more concurrent the reads, the fewer wake-ups per read.

Each worker also owns per-thread state (the store's readers keep one database connection per
worker), created by ``make_state`` in the worker itself and released by ``drop_state`` when
the pool stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

S = TypeVar("S")
T = TypeVar("T")
_BATCH = 64
_STOP = object()


class ReadPool(Generic[S]):
    """Worker threads that run ``call(state)`` and resolve asyncio futures in batches."""

    def __init__(
        self,
        *,
        threads: int,
        name: str,
        make_state: Callable[[], S],
        drop_state: Callable[[S], None],
    ) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._stopped = False
        self._make_state = make_state
        self._drop_state = drop_state
        self._workers = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True)
            for i in range(threads)
        ]
        for worker in self._workers:
            worker.start()

    def submit(self, call: Callable[[S], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if self._stopped:
            future.set_exception(RuntimeError("the read pool is stopped"))
        else:
            self._queue.put((call, future, loop))
        return future

    def stop(self) -> None:
        """Let the workers finish what is queued, then end them (blocking)."""
        self._stopped = True
        for _ in self._workers:
            self._queue.put(_STOP)
        for worker in self._workers:
            worker.join()

    def _work(self) -> None:
        state = self._make_state()
        try:
            while True:
                items = [self._queue.get()]
                while items[-1] is not _STOP and len(items) < _BATCH:
                    try:
                        items.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                stop = items[-1] is _STOP
                calls = items[:-1] if stop else items
                if calls:
                    self._run(state, calls)
                if stop:
                    return
        finally:
            self._drop_state(state)

    def _run(self, state: S, calls: list[Any]) -> None:
        results: list[tuple[asyncio.Future[Any], bool, Any]] = []
        for call, future, _loop in calls:
            try:
                results.append((future, True, call(state)))
            except Exception as error:
                results.append((future, False, error))
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is left to answer
            calls[0][2].call_soon_threadsafe(_resolve, results)


def _resolve(results: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in results:
        if future.cancelled():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
