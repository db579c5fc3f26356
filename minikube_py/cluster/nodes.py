"""The cluster's nodes: one node agent (kubelet) and container runtime per node, and the
scheduler that places pods on them.

``running_nodes`` registers every planned node before the cluster counts as up, runs each
agent as a task, and on the way out stops the agents first, then every container, then the
scheduler. ``Nodes`` lets a running cluster gain a node (``minikube-py node add``) or lose one
as a machine would (``node stop``: its kubelet goes silent, its containers stay).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from minikube_py.client import Client
from minikube_py.cluster.settings import ClusterConfig, ClusterError
from minikube_py.config import NodeConfig, plan_nodes

if TYPE_CHECKING:
    from minikube_py.kubelet.agent import NodeAgent
    from minikube_py.kubelet.dns import ClusterNetworking
    from minikube_py.runtime.images.store import ImageStore
    from minikube_py.runtime.protocol import ContainerRuntime, NodeStreams


def _runtime(config: ClusterConfig, node_dir: Path, images: ImageStore) -> ContainerRuntime:
    if config.runtime == "fake":
        from minikube_py.runtime.fake import FakeRuntime

        return FakeRuntime(node_dir / "runtime")
    from minikube_py.runtime.process import ProcessRuntime

    return ProcessRuntime(node_dir / "runtime", images)


class Nodes:
    """The cluster's node agents and the scheduler: nodes can join and fail while it runs."""

    def __init__(
        self,
        config: ClusterConfig,
        client: Client,
        directory: Path,
        streams: dict[str, NodeStreams],
        api_endpoint: tuple[str, int],
        networking: ClusterNetworking | None = None,
    ) -> None:
        from minikube_py.runtime.images.store import ImageStore

        self.config, self.client, self.directory, self.streams = config, client, directory, streams
        self.api_endpoint = api_endpoint  # where pods reach the API server
        self.networking = networking  # the cluster DNS and addresses the kubelets tell pods
        self.images = ImageStore(directory / "images")
        self.agents: list[NodeAgent] = []
        self.tasks: dict[str, asyncio.Task[None]] = {}  # the task running each node's agent

    def prepare(self, node: NodeConfig) -> NodeAgent:
        """A node agent for ``node`` with its own runtime, not yet registered or running."""
        from minikube_py.kubelet.agent import NodeAgent

        node_dir = self.directory / "nodes" / node.name
        agent = NodeAgent(
            self.client,
            node,
            _runtime(self.config, node_dir, self.images),
            profile=self.config.profile,
            directory=node_dir,
            timings=self.config.agent_timings(),
            api_endpoint=self.api_endpoint,
            networking=self.networking,
        )
        self.streams[node.name] = agent.streams
        self.agents.append(agent)
        return agent

    def start(self, agent: NodeAgent) -> None:
        """Run a registered agent until the cluster stops (or ``stop`` fails it)."""
        name = agent.node.name
        self.tasks[name] = asyncio.create_task(agent.run(), name=f"node {name}")

    async def add(self) -> NodeAgent:
        """A new node after the last (``minikube-m0N``, the next address and pod CIDR),
        registered and running (later ``minikube-py node add``)."""
        config = self.config
        planned = plan_nodes(
            config.profile,
            len(self.agents) + 1,
            network=config.network,
            cpu=config.cpus,
            memory=config.memory,
        )
        agent = self.prepare(planned[-1])
        await agent.register()
        self.start(agent)
        return agent

    async def stop(self, name: str) -> None:
        """Stop one node's kubelet, as if the machine had dropped off the network: its Lease
        and status go stale and its containers keep running unmanaged, so the node lifecycle
        controller sees a node failure (later ``minikube-py node stop``)."""
        task = self.tasks.get(name)
        if task is None:
            raise ClusterError(f"no node {name!r} in this cluster")
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def running_nodes(
    config: ClusterConfig,
    client: Client,
    scheduler_client: Client,
    directory: Path,
    streams: dict[str, NodeStreams],
    api_endpoint: tuple[str, int],
    networking: ClusterNetworking | None = None,
) -> AsyncIterator[Nodes]:
    """The scheduler and a node agent per node, registered before the cluster counts as up;
    on the way out the agents stop first, then every container, then the scheduler."""
    from minikube_py.scheduler.scheduler import Scheduler

    nodes = Nodes(config, client, directory, streams, api_endpoint, networking)
    planned = plan_nodes(
        config.profile, config.nodes, network=config.network, cpu=config.cpus, memory=config.memory
    )
    agents = [nodes.prepare(node) for node in planned]
    scheduler = asyncio.create_task(Scheduler(scheduler_client).run(), name="scheduler")
    try:
        await asyncio.gather(*(agent.register() for agent in agents))
        for agent in agents:
            nodes.start(agent)
        yield nodes
    finally:
        for task in [*reversed(nodes.tasks.values()), scheduler]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for agent in nodes.agents:
            await agent.runtime.close()
        streams.clear()
        await client.close()
        await scheduler_client.close()
