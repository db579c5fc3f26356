"""``Cluster``: the embedded cluster for synchronous code, running on a thread of its own.

A test written without asyncio (or one that calls blocking code: ``subprocess.run(kubectl)``,
``requests.get``, the official ``kubernetes`` client) cannot share its thread with the API
server: the server would stop answering while the test waits for it. So ``Cluster`` starts an
``AsyncCluster`` on a background thread with its own event loop (uvloop where installed) and
every method hands the matching ``AsyncCluster`` coroutine to that loop and waits for its
result. The logic is written once; only the thread crossing lives here.

Leaving the ``with`` block — normally or by an exception — stops the cluster, every pod
process with it, and joins the thread.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import concurrent.futures.thread  # registers its exit hook now, so ours runs before it
import threading
import weakref
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from minikube_py.client.protocol import Client, Object
from minikube_py.cluster.settings import ClusterError
from minikube_py.embedded.asynccluster import AsyncCluster
from minikube_py.embedded.kinds import Resource
from minikube_py.embedded.manifests import Manifest
from minikube_py.embedded.pods import ExecResult
from minikube_py.embedded.waiting import Condition

T = TypeVar("T")
# Clusters started and not stopped: stopped at interpreter exit, so that a forgotten
# ``stop()`` (a script without ``with``) does not leave pod processes behind its daemon thread.
_RUNNING: weakref.WeakSet[Cluster] = weakref.WeakSet()
START_SECONDS = 120.0  # a cold start imports most of the package; a loaded machine is slow
STOP_SECONDS = 120.0  # pods get their grace periods


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def _run(main: Coroutine[Any, Any, None]) -> None:
    """``asyncio.run`` on the thread: afterwards, tasks left over are cancelled and awaited,
    async generators closed and the default executor shut down before the loop closes."""
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(main)


class Cluster:
    """``with Cluster(nodes=2) as cluster: cluster.apply(...)``."""

    def __init__(
        self,
        nodes: int = 1,
        *,
        state_dir: str | Path | None = None,
        addons: Sequence[str] = (),
        store: str | None = None,
        **options: Any,
    ) -> None:
        self._cluster = AsyncCluster(
            nodes, state_dir=state_dir, addons=addons, store=store, **options
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None

    # -- starting and stopping -----------------------------------------------------------------

    def start(self) -> Cluster:
        if self._thread is not None:
            raise ClusterError("this cluster is already running")
        started: concurrent.futures.Future[None] = concurrent.futures.Future()

        async def main() -> None:
            self._stop = asyncio.Event()
            self._loop = asyncio.get_running_loop()
            try:
                async with self._cluster:
                    started.set_result(None)
                    await self._stop.wait()
            except BaseException as error:
                if not started.done():
                    started.set_exception(error)
                    return
                raise

        thread = threading.Thread(target=_run, args=(main(),), name="minikube-py", daemon=True)
        self._thread = thread
        _RUNNING.add(self)
        thread.start()
        try:
            started.result(timeout=START_SECONDS)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the cluster and join its thread (nothing if it is not running)."""
        loop, thread, stop = self._loop, self._thread, self._stop
        self._loop = self._thread = self._stop = None
        _RUNNING.discard(self)
        if thread is None:
            return
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=STOP_SECONDS)
        if thread.is_alive():
            raise ClusterError(f"the cluster did not stop within {STOP_SECONDS:g} s")

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def call(self, awaitable: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run a coroutine on the cluster's loop (``cluster.call(cluster.client.get(...))``)."""
        if self._loop is None:
            awaitable.close()
            raise ClusterError("the cluster is not running (use it inside `with`)")
        if threading.current_thread() is self._thread:  # waiting here would stop the loop
            awaitable.close()
            raise ClusterError(
                "a Cluster method was called on the cluster's own thread (from a wait_for "
                "predicate?); there, use the AsyncCluster (`cluster.async_cluster`)"
            )
        future = asyncio.run_coroutine_threadsafe(awaitable, self._loop)
        try:
            return future.result(timeout=timeout)
        except BaseException:
            future.cancel()
            raise

    def _run(self, make: Callable[[AsyncCluster], Coroutine[Any, Any, T]]) -> T:
        if self._loop is None:
            raise ClusterError("the cluster is not running (use it inside `with`)")
        return self.call(make(self._cluster))

    # -- the same surface as AsyncCluster (see there) ------------------------------------------

    @property
    def async_cluster(self) -> AsyncCluster:
        return self._cluster

    @property
    def client(self) -> Client:
        """The in-process client; its coroutines must run on the cluster's loop: ``call``."""
        return self._cluster.client

    @property
    def kubeconfig(self) -> Path:
        return self._cluster.kubeconfig

    @property
    def directory(self) -> Path:
        return self._cluster.directory

    @property
    def api_url(self) -> str:
        return self._cluster.api_url

    def resource(self, kind: str) -> Resource:
        return self._run(lambda c: c.resource(kind))

    def apply(self, manifest: Manifest, *, namespace: str = "default") -> list[Object]:
        return self._run(lambda c: c.apply(manifest, namespace=namespace))

    def get(self, kind: str, name: str, namespace: str = "default") -> Object:
        return self._run(lambda c: c.get(kind, name, namespace))

    def list(
        self, kind: str, namespace: str | None = None, label_selector: str | None = None
    ) -> list[Object]:
        return self._run(lambda c: c.list(kind, namespace, label_selector))

    def delete(self, kind: str, name: str, namespace: str = "default") -> Object:
        return self._run(lambda c: c.delete(kind, name, namespace))

    def wait_for(
        self,
        ref: str | tuple[str, str],
        condition: Condition,
        timeout: float = 60,
        *,
        namespace: str = "default",
    ) -> Object | None:
        return self._run(lambda c: c.wait_for(ref, condition, namespace=namespace, timeout=timeout))

    def logs(
        self, pod: str, container: str | None = None, namespace: str = "default", **options: Any
    ) -> str:
        return self._run(lambda c: c.logs(pod, container, namespace, **options))

    def exec(
        self,
        pod: str,
        command: str | Sequence[str],
        namespace: str = "default",
        container: str | None = None,
    ) -> ExecResult:
        return self._run(lambda c: c.exec(pod, command, namespace, container))

    def url(self, service: str, namespace: str = "default", port: int | str | None = None) -> str:
        return self._run(lambda c: c.url(service, namespace, port))


def _stop_forgotten_clusters() -> None:
    for cluster in list(_RUNNING):
        cluster.stop()


# Before the interpreter shuts down its thread pools (stopping uses them: ``to_thread``):
# threading runs these exit hooks in reverse order of registration, and ``concurrent.futures``
# registered its own above; plain ``atexit`` would run after them, too late.
getattr(threading, "_register_atexit", atexit.register)(_stop_forgotten_clusters)
