"""The controller manager: many controllers, one set of shared caches, one process.

kube-controller-manager is a single program that runs dozens of controllers — ReplicaSet,
Deployment, Job, namespace, garbage collector, node lifecycle … — over one shared informer
factory. ``ControllerManager`` is that program's core here:

1. at construction every controller ``wire``\\ s itself to the shared informers (asks for the
   caches it reads and registers handlers that enqueue keys);
2. ``run()`` starts the informers, waits until every cache holds its first list (a controller
   deciding from a half-filled cache would, say, create pods that already exist), then runs
   every controller's workers side by side until cancelled;
3. on cancellation it stops the workers and the informers and shuts the queues down.

Given a ``LeaderElector`` it does steps 2 and 3 only while it holds the Lease, and campaigns again
if it loses it; the queues keep their keys in between, the caches are listed afresh.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from minikube_py.client.protocol import Client
from minikube_py.controllers.controller import Controller
from minikube_py.controllers.informers import SharedInformers
from minikube_py.controllers.leader import LeaderElector
from minikube_py.logs import get_logger

_log = get_logger("controllers.manager")


class ControllerManager:
    """Runs ``controllers`` over shared informers, optionally only while leading."""

    def __init__(
        self,
        client: Client,
        controllers: Sequence[Controller],
        *,
        elector: LeaderElector | None = None,
        informers: SharedInformers | None = None,
    ) -> None:
        self.client = client
        self.controllers = list(controllers)
        self.elector = elector
        self.informers = informers or SharedInformers(client)
        names = [controller.name for controller in self.controllers]
        if len(set(names)) != len(names):
            raise ValueError(f"controller names must be unique: {names}")
        for controller in self.controllers:
            controller.wire(self.informers)

    def controller(self, name: str) -> Controller:
        """The controller called ``name``."""
        for controller in self.controllers:
            if controller.name == name:
                return controller
        raise KeyError(name)

    async def run(self) -> None:
        """Until cancelled: lead (or campaign, then lead) and run every controller."""
        try:
            if self.elector is None:
                await self._lead()
                return
            while True:
                await self.elector.run(self._lead)
                _log.warning("leader election lost; campaigning again", lease=self.elector.name)
        finally:
            for controller in self.controllers:
                controller.queue.shut_down()

    async def _lead(self) -> None:
        self.informers.start()
        try:
            await self.informers.wait_synced()
            _log.info("caches synced", controllers=[c.name for c in self.controllers])
            async with asyncio.TaskGroup() as group:
                for controller in self.controllers:
                    group.create_task(controller.run_workers(), name=controller.name)
        finally:
            await self.informers.stop()
