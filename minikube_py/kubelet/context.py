"""What every pod worker of one kubelet shares: the node, its runtime, clock and backoffs.

A kubelet runs one worker per pod; they all talk to the same API client and runtime, record
events as the same ``kubelet`` source, take addresses from the same node range and remember
the same images as present. ``NodeContext`` bundles that, so a worker needs one argument, and
tests build one directly. ``ProberFactory`` is the seam to the probes (``kubelet.probes``):
given a running container it returns something to ``run()`` until cancelled, which reports
each probe verdict through ``on_result(kind, ok, message)`` — ``kind`` is ``"liveness"``,
``"readiness"`` or ``"startup"``; it is called when a result crosses its threshold
(``failureThreshold`` failures or ``successThreshold`` successes in a row), with a message
like upstream's event (``Liveness probe failed: HTTP probe failed with statuscode: 500``);
``on_event(reason, message)`` records an Event for every failed attempt (``Unhealthy``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import attrs

from minikube_py.client.events import EventRecorder
from minikube_py.client.informer import Informer
from minikube_py.client.protocol import Client
from minikube_py.clock import Clock
from minikube_py.config import NodeConfig
from minikube_py.kubelet.backoff import Backoff
from minikube_py.kubelet.dns import ClusterNetworking, ResolverConfig
from minikube_py.kubelet.environment import EnvSource
from minikube_py.kubelet.hostports import HostPorts
from minikube_py.kubelet.ipam import PodAddresses
from minikube_py.kubelet.volumes import PodVolumes
from minikube_py.runtime.protocol import ContainerRuntime

Object = dict[str, Any]
ProbeCallback = Callable[[str, bool, str], None]
EventCallback = Callable[[str, str], Awaitable[None]]


class ProbeRunner(Protocol):
    async def run(self) -> None: ...


class ProberFactory(Protocol):
    def __call__(
        self,
        runtime: ContainerRuntime,
        pod: Object,
        container: Object,
        container_id: str,
        pod_ip: str,
        *,
        clock: Clock,
        on_result: ProbeCallback,
        on_event: EventCallback | None = None,
    ) -> ProbeRunner: ...


@attrs.define
class NodeContext:
    client: Client
    runtime: ContainerRuntime
    node: NodeConfig
    recorder: EventRecorder
    clock: Clock
    crash_backoff: Backoff
    image_backoff: Backoff
    addresses: PodAddresses
    directory: Path
    allocatable: dict[str, str]
    env_source: EnvSource
    host_ports: HostPorts
    prober_factory: ProberFactory | None = None
    present_images: dict[str, str] = attrs.field(factory=dict)  # image → id, pulled here
    # Where pods reach the API server (host, port): KUBERNETES_SERVICE_HOST / _PORT.
    api_endpoint: tuple[str, int] | None = None
    # Service discovery: the Services (for their environment variables), the cluster DNS and
    # network settings (None: pods keep their image's resolver file, no DNS variables) and
    # the node's own resolver file, read when the kubelet starts.
    services: Informer | None = None
    networking: ClusterNetworking | None = None
    host_resolver: ResolverConfig = attrs.field(factory=ResolverConfig)
    # how often limited emptyDirs are measured (upstream's --eviction-monitoring-period)
    eviction_period: float = 10.0
    volumes: PodVolumes = attrs.field(
        default=attrs.Factory(
            lambda ctx: PodVolumes(ctx.client, ctx.clock, ctx.allocatable), takes_self=True
        )
    )
