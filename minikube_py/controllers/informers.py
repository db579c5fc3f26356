"""Shared informers: one cache per collection, however many controllers read it.

The ReplicaSet, Deployment, DaemonSet, Job, garbage-collector and node-lifecycle controllers
all watch pods. Were each to run its own ``Informer`` (``minikube_py.client.informer``), the
API server would serve six watches of the same collection and the process would hold six
copies of every pod. Like client-go's ``SharedInformerFactory``, ``SharedInformers`` hands out
one ``Informer`` per (resource, namespace) — every controller that asks for pods gets the same
one and registers its own event handlers on it.

The order is: controllers ask for their informers and register handlers (wiring), then
``start()`` runs every informer as a task, ``wait_synced()`` waits until each has its first
list in its cache (a controller must not decide from a half-filled cache), and ``stop()``
cancels them. An informer asked for after ``start()`` is started by the next ``start()``.
"""

from __future__ import annotations

import asyncio

from minikube_py.client.informer import Informer
from minikube_py.client.protocol import GVR, Client
from minikube_py.logs import get_logger

_log = get_logger("controllers.informers")


class SharedInformers:
    """One ``Informer`` per (GVR, namespace or all namespaces), run together."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self._informers: dict[tuple[GVR, str | None], Informer] = {}
        self._tasks: dict[tuple[GVR, str | None], asyncio.Task[None]] = {}

    def get(self, gvr: GVR, namespace: str | None = None) -> Informer:
        """The informer of ``gvr`` in ``namespace`` (``None``: every namespace), made once."""
        key = (gvr, namespace)
        informer = self._informers.get(key)
        if informer is None:
            informer = Informer(self.client, gvr, namespace)
            self._informers[key] = informer
        return informer

    def informers(self) -> list[Informer]:
        return list(self._informers.values())

    def start(self) -> None:
        """Run every informer not yet running, each as its own task."""
        loop = asyncio.get_running_loop()
        for key, informer in self._informers.items():
            if key not in self._tasks or self._tasks[key].done():
                self._tasks[key] = loop.create_task(
                    informer.run(), name=f"informer {key[0]} {key[1] or '*'}"
                )
                _log.debug("informer started", resource=str(key[0]), namespace=key[1])

    async def wait_synced(self) -> None:
        """Until every informer has listed its collection once."""
        for informer in list(self._informers.values()):
            await informer.wait_synced()

    @property
    def has_synced(self) -> bool:
        return all(informer.has_synced for informer in self._informers.values())

    async def stop(self) -> None:
        """Cancel every informer task and wait until they ended."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
