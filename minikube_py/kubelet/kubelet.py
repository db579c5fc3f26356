"""``Kubelet``: the node agent's pod half — it runs the pods bound to its node.

A kubelet watches the pods whose ``spec.nodeName`` is its node (an informer with that field
selector, as upstream's config source does), and keeps one ``PodWorker`` per pod uid: a new
pod is first *admitted* (does it fit in what the node has left? ``admission.py``), then its
worker runs it until the pod is deleted. Every change of a pod object, and a periodic resync,
wakes that pod's worker; the worker does the rest (``podworker.py``).

What it shares with its workers — the runtime, the clock, the crash-loop and image back-offs,
the node's address range, the images already pulled — lives in one ``NodeContext``. Other parts
of the node ask it about pods: the log / exec streams (``pod``, ``container_id``) and the
probes, which plug in through ``prober_factory``.

Stopping (cancelling ``run``) stops the workers but leaves containers alone: stopping every
container is the runtime's ``close()``, which the cluster calls.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from minikube_py.client.events import EventRecorder
from minikube_py.client.informer import Informer, object_key
from minikube_py.client.protocol import PODS, SERVICES, Client
from minikube_py.clock import Clock, SystemClock
from minikube_py.config import NodeConfig
from minikube_py.kubelet.admission import admit, node_allocatable
from minikube_py.kubelet.backoff import Backoff
from minikube_py.kubelet.context import NodeContext, ProberFactory
from minikube_py.kubelet.dns import ClusterNetworking, read_resolv_conf
from minikube_py.kubelet.environment import EnvSource
from minikube_py.kubelet.hostports import HostPorts
from minikube_py.kubelet.ipam import PodAddresses
from minikube_py.kubelet.podworker import PodWorker
from minikube_py.kubelet.probes import prober_factory
from minikube_py.kubelet.watched import ConfigObjects, referenced
from minikube_py.logs import get_logger
from minikube_py.runtime.protocol import ContainerRuntime

Object = dict[str, Any]
_log = get_logger("kubelet")
_DONE_REMEMBERED = 4096


class Kubelet:
    """Runs the pods bound to ``node`` with ``runtime``; see the module docstring."""

    def __init__(
        self,
        client: Client,
        node: NodeConfig,
        runtime: ContainerRuntime,
        *,
        directory: Path,
        clock: Clock | None = None,
        backoff_initial: float = 10.0,
        backoff_max: float = 300.0,
        backoff_reset: float = 600.0,
        sync_period: float = 60.0,
        env_source: EnvSource | None = None,
        allocatable: dict[str, str] | None = None,
        api_endpoint: tuple[str, int] | None = None,
        networking: ClusterNetworking | None = None,
    ) -> None:
        """``api_endpoint``: where pods reach the API server, given to them as the
        ``kubernetes`` Service's variables (None: that Service's own ClusterIP and port).
        ``networking``: the cluster DNS and network settings (``dns.ClusterNetworking``)."""
        self.client = client
        self.node = node
        self.runtime = runtime
        self.clock = clock or SystemClock()
        self.sync_period = sync_period
        # the ConfigMaps and Secrets of the node's pods: environment and volumes, kept current
        self.config_objects = ConfigObjects(client)
        self.ctx = NodeContext(
            client=client,
            runtime=runtime,
            node=node,
            recorder=EventRecorder(client, "kubelet", host=node.name),
            clock=self.clock,
            crash_backoff=Backoff(
                self.clock, initial=backoff_initial, maximum=backoff_max, reset=backoff_reset
            ),
            image_backoff=Backoff(
                self.clock, initial=backoff_initial, maximum=backoff_max, reset=backoff_reset
            ),
            addresses=PodAddresses(node.pod_cidr),
            directory=directory,
            allocatable=allocatable or node_allocatable(node, directory),
            env_source=env_source or self.config_objects,
            host_ports=HostPorts(node.address),
            prober_factory=prober_factory,
            api_endpoint=api_endpoint,
            # upstream's kubelet watches every Service: their variables go into containers
            services=Informer(client, SERVICES),
            networking=networking,
        )
        self.ctx.volumes.reader = self.config_objects
        self.config_objects.on_change(self._config_changed)
        self.informer = Informer(client, PODS, field_selector=f"spec.nodeName={node.name}")
        self.informer.on_add(self._seen)
        self.informer.on_update(lambda _old, new: self._seen(new))
        self.informer.on_delete(self._deleted)
        self.workers: dict[str, PodWorker] = {}  # by pod uid
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._background: set[asyncio.Future[None]] = set()  # events in flight
        self._done: dict[str, None] = {}  # uids of pods removed lately, oldest first

    @property
    def prober_factory(self) -> ProberFactory | None:
        return self.ctx.prober_factory

    @prober_factory.setter
    def prober_factory(self, factory: ProberFactory | None) -> None:
        self.ctx.prober_factory = factory

    @property
    def addresses(self) -> PodAddresses:
        return self.ctx.addresses

    # -- questions from the node's other parts ------------------------------------------------

    def _worker(self, namespace: str, name: str) -> PodWorker | None:
        pod = self.informer.get(f"{namespace}/{name}")
        if pod is None:
            return None
        return self.workers.get(str(pod["metadata"].get("uid")))

    def pod(self, namespace: str, name: str) -> Object | None:
        """The pod as this kubelet knows it, with the status it last computed."""
        worker = self._worker(namespace, name)
        if worker is not None:
            return worker.current_pod()
        return self.informer.get(f"{namespace}/{name}")

    def container_id(
        self, namespace: str, pod: str, container: str, previous: bool = False
    ) -> str | None:
        """The runtime id of the container's current (or, with ``previous``, prior) instance."""
        worker = self._worker(namespace, pod)
        return worker.container_id(container, previous) if worker is not None else None

    async def wait_synced(self) -> None:
        await self.informer.wait_synced()

    # -- pods coming and going ----------------------------------------------------------------

    def _seen(self, pod: Object) -> None:
        uid = str(pod["metadata"].get("uid"))
        worker = self.workers.get(uid)
        if worker is not None:
            worker.update(pod)
            self.ctx.volumes.pod_changed(pod)  # downward-API files follow labels, annotations
            return
        if uid in self._done:
            return  # a late event about a pod this kubelet already removed
        active = [w.pod for w in self.workers.values() if not w.terminal and not w.finished]
        phase = (pod.get("status") or {}).get("phase")
        rejected = None
        if phase not in ("Succeeded", "Failed") and not pod["metadata"].get("deletionTimestamp"):
            rejected = admit(pod, active, self.ctx.allocatable)
        worker = PodWorker(self.ctx, pod, rejected=rejected)
        if rejected is not None:
            _log.info("pod rejected", pod=object_key(pod), reason=rejected[0])
            recording = asyncio.ensure_future(
                self.ctx.recorder.record(pod, reason=rejected[0], message=rejected[1], warning=True)
            )
            self._background.add(recording)
            recording.add_done_callback(self._background.discard)
        self.workers[uid] = worker
        task = asyncio.ensure_future(worker.run())
        self._tasks[uid] = task
        task.add_done_callback(lambda _task: self._finished(uid, worker))

    def _finished(self, uid: str, worker: PodWorker) -> None:
        if self.workers.get(uid) is worker:
            del self.workers[uid]
            self._tasks.pop(uid, None)
            self._done[uid] = None
            if len(self._done) > _DONE_REMEMBERED:
                del self._done[next(iter(self._done))]

    def _config_changed(self, kind: str, namespace: str, name: str) -> None:
        """A ConfigMap or Secret changed: rewrite the volumes that show it, and wake the pods
        that use it (one waiting for it in ``CreateContainerConfigError`` or ``FailedMount``
        starts at once, not at its next retry)."""
        self.ctx.volumes.object_changed(kind, namespace, name)
        for worker in list(self.workers.values()):
            meta = worker.pod["metadata"]
            if meta.get("namespace") == namespace and (kind, name) in referenced(worker.pod):
                worker.wake()

    def _deleted(self, pod: Object) -> None:
        worker = self.workers.get(str(pod["metadata"].get("uid")))
        if worker is not None:
            worker.removed(pod)

    # -- the component ----------------------------------------------------------------------

    async def run(self) -> None:
        """Run the pods of this node until cancelled."""
        _log.info("kubelet started", node=self.node.name, pod_cidr=self.node.pod_cidr)
        if self.ctx.networking is not None:
            path = self.ctx.networking.resolv_conf
            self.ctx.host_resolver = await asyncio.to_thread(read_resolv_conf, path)
        assert self.ctx.services is not None
        services = asyncio.ensure_future(self.ctx.services.run())
        config_objects = asyncio.ensure_future(self.config_objects.run())
        informer = asyncio.ensure_future(self.informer.run())
        try:
            while True:
                await self.clock.sleep(self.sync_period)
                for worker in list(self.workers.values()):
                    worker.wake()  # a periodic resync: level-triggered, nothing is missed
        finally:
            informer.cancel()
            tasks = [informer, services, config_objects, *self._tasks.values()]
            for task in tasks:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*tasks, return_exceptions=True)
            await self.ctx.host_ports.close_all()
            self.ctx.volumes.close()
            _log.info("kubelet stopped", node=self.node.name)
