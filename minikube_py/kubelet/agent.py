"""A node agent: everything one node of the cluster runs, put together.

A real node runs one kubelet process that does three jobs at once: it keeps its Node object
registered and its status current (``node.py``), renews its heartbeat Lease so the control
plane knows it is alive (``lease.py``), and runs the pods bound to it (``kubelet.py``). It also
answers the API server's requests for logs and exec (``streams.py``; upstream's port 10250).
``NodeAgent`` is that kubelet process in small: the cluster makes one per node and runs
``run()``; the API server reaches its streams through ``agent.streams``.

The node registers before pods are run, as upstream: a pod bound to a node that is not yet
registered waits in the kubelet's informer until then.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import attrs

from minikube_py.client.protocol import Client
from minikube_py.config import NodeConfig
from minikube_py.kubelet.dns import ClusterNetworking
from minikube_py.kubelet.kubelet import Kubelet
from minikube_py.kubelet.lease import NodeLease
from minikube_py.kubelet.node import NodeStatusManager
from minikube_py.kubelet.streams import KubeletStreams
from minikube_py.runtime.protocol import ContainerRuntime


@attrs.frozen
class AgentTimings:
    """The node's clocks, shorter in tests: upstream's defaults otherwise."""

    lease_interval: float = 10.0  # nodeLeaseRenewInterval
    status_interval: float = 10.0  # nodeStatusUpdateFrequency
    crash_backoff: float = 10.0  # the first CrashLoopBackOff / ImagePullBackOff delay
    crash_backoff_max: float = 300.0
    eviction_period: float = 10.0  # --eviction-monitoring-period: emptyDir sizeLimits


class NodeAgent:
    """One node's kubelet: its Node, its Lease, its pods and its streams."""

    def __init__(
        self,
        client: Client,
        node: NodeConfig,
        runtime: ContainerRuntime,
        *,
        profile: str,
        directory: Path,
        timings: AgentTimings | None = None,
        api_endpoint: tuple[str, int] | None = None,
        networking: ClusterNetworking | None = None,
    ) -> None:
        """``api_endpoint``: the API server's (host, port), which pods get as
        ``KUBERNETES_SERVICE_HOST`` / ``KUBERNETES_SERVICE_PORT`` (None: the ``kubernetes``
        Service's ClusterIP and port). ``networking``: the cluster DNS and network settings
        (``ClusterNetworking.for_network(plan)``)."""
        timings = timings or AgentTimings()
        self.node = node
        self.runtime = runtime
        self.status = NodeStatusManager(
            client,
            node,
            profile=profile,
            state_dir=directory,
            check_interval=timings.status_interval,
        )
        self.lease = NodeLease(client, node.name, interval=timings.lease_interval)
        self.kubelet = Kubelet(
            client,
            node,
            runtime,
            directory=directory,
            backoff_initial=timings.crash_backoff,
            backoff_max=timings.crash_backoff_max,
            api_endpoint=api_endpoint,
            networking=networking,
        )
        self.kubelet.ctx.eviction_period = timings.eviction_period
        self.streams = KubeletStreams(runtime, self.kubelet.pod)

    async def register(self) -> None:
        """Register the Node (once); ``run`` does it too, this lets a cluster wait for it."""
        if self.status.registered is None:
            await self.status.register()

    async def run(self) -> None:
        """Keep the node registered, alive and running its pods, until cancelled."""
        await self.register()
        async with asyncio.TaskGroup() as group:
            group.create_task(self.status.run())
            group.create_task(self.lease.run())
            group.create_task(self.kubelet.run())
