"""A whole cluster on an event loop of its own thread, for end-to-end tests that also call the
cluster object (stop a node's kubelet, add a node) while the real kubectl drives it.

The session cluster of ``conftest.py`` is a ``serve`` child process, which offers no such
handle. Running ``running_cluster`` on the test's own loop would not do either: a blocking
``subprocess.run(kubectl)`` would stop the very loop the API server answers on. So the cluster
gets a thread and a loop, and the test calls into it with ``ThreadedCluster.call(coroutine)``.
Whatever happens in the test, leaving the ``threaded_cluster`` block stops the cluster (every
pod process with it) and joins the thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

from minikube_py.cluster import ClusterConfig, RunningCluster, running_cluster

T = TypeVar("T")
START_SECONDS = 60.0


class ThreadedCluster:
    def __init__(self, loop: asyncio.AbstractEventLoop, cluster: RunningCluster) -> None:
        self.loop = loop
        self.cluster = cluster

    def call(self, make: Callable[[RunningCluster], Coroutine[Any, Any, T]]) -> T:
        """Run ``make(cluster)`` on the cluster's loop and return its result (60 s at most)."""
        future = asyncio.run_coroutine_threadsafe(make(self.cluster), self.loop)
        return future.result(timeout=START_SECONDS)


@contextlib.contextmanager
def threaded_cluster(config: ClusterConfig) -> Iterator[ThreadedCluster]:
    """Start the cluster on its own thread; stop it and join the thread on the way out."""
    started: concurrent.futures.Future[ThreadedCluster] = concurrent.futures.Future()
    stop: asyncio.Event | None = None

    async def main() -> None:
        nonlocal stop
        stop = asyncio.Event()
        try:
            async with running_cluster(config) as cluster:
                started.set_result(ThreadedCluster(asyncio.get_running_loop(), cluster))
                await stop.wait()
        except BaseException as error:
            if not started.done():
                started.set_exception(error)
            raise

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), name="cluster")
    thread.start()
    try:
        yield started.result(timeout=START_SECONDS)
    finally:
        if stop is not None:
            loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=120)
        loop.close()
        assert not thread.is_alive(), "the threaded cluster did not stop within 120 s"
