"""The cluster manager: builds the components of one cluster and runs them together.

A cluster is a state directory (its store, certificates, images, pods, logs), a store, and
components that run until the cluster stops: the API server first, then the scheduler and one
node agent (kubelet) per node, then the controller manager, each an API client of the server
in this process; the service proxy joins when its issue lands. ``running_cluster`` starts them
and stops them in reverse order; the CLI's ``serve`` / ``start`` and the embedded ``Cluster``
all go through it, so they cannot differ.

Start-up is ordered for a short time to ready, as upstream's: the API server is ready (its
``/readyz``) once it serves, and does not wait for kubelets or controllers. So only what the
API server needs is imported with this module; the kubelet, runtimes, scheduler and
controllers (most of the package) are imported on a worker thread after the server listens,
while the event loop already answers requests, and ``on_serving`` tells the caller the URL at
that moment. The nodes are registered before ``running_cluster`` yields.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import importlib
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import attrs

from minikube_py.apiserver.kubeconfig import write_kubeconfig
from minikube_py.apiserver.pki import Pki, ensure_pki
from minikube_py.apiserver.server import ApiServer
from minikube_py.apiserver.tokens import TokenIssuer
from minikube_py.client import Client
from minikube_py.config import ControllerSettings, NetworkPlan, NodeConfig, plan_nodes
from minikube_py.logs import get_logger
from minikube_py.slots import NoFreeSlot, claimed_slot
from minikube_py.store import Encryption, SqlStore, load_or_create_key, open_store

if TYPE_CHECKING:  # imported after the API server serves: see _import_components
    from minikube_py.controllers.manager import ControllerManager
    from minikube_py.kubelet.agent import AgentTimings, NodeAgent
    from minikube_py.runtime.images.store import ImageStore
    from minikube_py.runtime.protocol import ContainerRuntime, NodeStreams

_log = get_logger("cluster")


class ClusterError(Exception):
    """A cluster cannot start as configured; the message says why, in one line."""


@attrs.frozen
class ClusterConfig:
    """Everything needed to start one cluster."""

    profile: str = "minikube"
    state_dir: Path | None = None  # default: ~/.minikube_py/profiles/<profile>
    address: str | None = None  # where the API server listens; None: the first node's address
    network: NetworkPlan | None = None  # None: the first free address slot (minikube_py.slots)
    port: int = 8443  # 0: a free port
    store_url: str | None = None  # default: SQLite in the state directory
    kubeconfig: Path | None = None  # None: merge into the user's kubeconfig
    write_kubeconfig: bool = True
    nodes: int = 1
    cpus: str | None = None  # per node, a quantity; None: the machine's
    memory: str | None = None
    # "process": containers are real processes; "fake": pods run at once without processes
    # (kwok's idea), for control-plane tests and benchmarks at scale.
    runtime: Literal["process", "fake"] = "process"
    timings: AgentTimings | None = None  # None: the kubelet's defaults (upstream's)
    crash_backoff: float | None = None  # overrides ``timings.crash_backoff`` (a CLI flag)
    controllers: ControllerSettings | None = None  # None: the defaults

    def agent_timings(self) -> AgentTimings:
        from minikube_py.kubelet.agent import AgentTimings

        timings = self.timings or AgentTimings()
        if self.crash_backoff is not None:
            timings = attrs.evolve(timings, crash_backoff=self.crash_backoff)
        return timings

    @property
    def directory(self) -> Path:
        home = Path(os.environ.get("MINIKUBE_PY_HOME", Path.home() / ".minikube_py"))
        return (self.state_dir or home / "profiles" / self.profile).resolve()


@attrs.frozen
class RunningCluster:
    api_server: ApiServer
    kubeconfig: Path | None
    directory: Path
    nodes: Nodes
    controllers: ControllerManager
    network: NetworkPlan  # the address plan this cluster runs on

    @property
    def url(self) -> str:
        return self.api_server.url

    @property
    def agents(self) -> list[NodeAgent]:
        return self.nodes.agents


@contextlib.contextmanager
def _exclusive(directory: Path) -> Iterator[None]:
    """Hold the state directory's lock: two clusters on one directory would corrupt it."""
    lock = open(directory / "cluster.lock", "a+")  # noqa: SIM115 - held for the whole run
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or "another process"
        lock.close()
        raise ClusterError(
            f"the state directory {directory} is in use by {holder}; stop it first or use "
            "another --profile / --state-dir"
        ) from None
    lock.seek(0)
    lock.truncate()
    lock.write(f"minikube-py (pid {os.getpid()})")
    lock.flush()
    try:
        yield None
    finally:
        lock.close()


@contextlib.contextmanager
def _network(config: ClusterConfig) -> Iterator[NetworkPlan]:
    """The cluster's address plan: the configured one, or the first free address slot."""
    if config.network is not None:
        yield config.network
        return
    try:
        with claimed_slot() as plan:
            yield plan
    except NoFreeSlot as error:
        raise ClusterError(str(error)) from None


# Imported on a worker thread once the API server serves (the module docstring says why).
_COMPONENTS = (
    "minikube_py.kubelet.agent",
    "minikube_py.runtime.fake",
    "minikube_py.runtime.process",
    "minikube_py.runtime.images.store",
    "minikube_py.scheduler.scheduler",
    "minikube_py.controllers.manager",
    "minikube_py.controllers.standard",
)


async def _import_components() -> None:
    """Import the components on a worker thread, so that the API server answers meanwhile."""

    def load() -> None:
        for name in _COMPONENTS:
            importlib.import_module(name)

    await asyncio.to_thread(load)


@contextlib.asynccontextmanager
async def running_cluster(
    config: ClusterConfig, *, on_serving: Callable[[str, Path | None], None] | None = None
) -> AsyncIterator[RunningCluster]:
    """Start the cluster, yield it while it runs, stop it on exit. ``on_serving(url,
    kubeconfig)`` is called as soon as the API server serves, before the nodes and controllers
    start."""
    directory = config.directory
    directory.mkdir(parents=True, exist_ok=True)
    with _exclusive(directory), _network(config) as network:
        address = config.address or network.node_address(0)
        config = attrs.evolve(config, network=network, address=address)
        key = load_or_create_key(directory / "encryption.key")
        url = config.store_url or f"sqlite:///{directory / 'state.db'}"
        store, pki = await _open_store_and_pki(config, directory, url, key)
        try:
            tokens = TokenIssuer(load_or_create_key(directory / "sa.key"))
            node_streams: dict[str, NodeStreams] = {}  # filled as the node agents are made
            server = ApiServer(
                store,
                pki,
                host=address,
                port=config.port,
                service_block=network.service_block,
                tokens=tokens,
                node_streams=node_streams,
            )
            try:
                await server.start()
            except OSError as error:
                raise ClusterError(
                    f"cannot listen on {address}:{config.port}: {error.strerror}"
                ) from None
            try:
                kubeconfig = None
                if config.write_kubeconfig:
                    kubeconfig = write_kubeconfig(
                        profile=config.profile, server=server.url, pki=pki, path=config.kubeconfig
                    )
                if on_serving is not None:
                    on_serving(server.url, kubeconfig)
                await _import_components()
                client = server.client("kubelet")
                async with (
                    _running_nodes(
                        config,
                        client,
                        server.client("kube-scheduler"),
                        directory,
                        node_streams,
                        (server.host, server.port),
                    ) as nodes,
                    _running_controllers(
                        config, server.client("kube-controller-manager"), pki
                    ) as manager,
                ):
                    yield RunningCluster(server, kubeconfig, directory, nodes, manager, network)
            finally:
                await server.stop()
        finally:
            await store.close()


async def _open_store_and_pki(
    config: ClusterConfig, directory: Path, url: str, key: bytes
) -> tuple[SqlStore, Pki]:
    """The store and the certificates at the same time: on a fresh directory both are mostly
    fsyncs (the schema, the keys), which wait on the disk without holding the GIL."""
    addresses = [config.address or "127.0.0.1", "127.0.0.1"]
    store, pki = await asyncio.gather(
        open_store(url, encryption=Encryption(key)),
        asyncio.to_thread(ensure_pki, directory, addresses=addresses),
        return_exceptions=True,
    )
    if isinstance(store, BaseException):
        raise store
    if isinstance(pki, BaseException):
        await store.close()
        raise pki
    return store, pki


def _runtime(config: ClusterConfig, node_dir: Path, images: ImageStore) -> ContainerRuntime:
    if config.runtime == "fake":
        from minikube_py.runtime.fake import FakeRuntime

        return FakeRuntime(node_dir / "runtime")
    from minikube_py.runtime.process import ProcessRuntime

    return ProcessRuntime(node_dir / "runtime", images)


@contextlib.asynccontextmanager
async def _running_controllers(
    config: ClusterConfig, client: Client, pki: Pki
) -> AsyncIterator[ControllerManager]:
    """The controller manager, started once the nodes are registered (a ReplicaSet's pods
    then have somewhere to go) and stopped first, so nothing is recreated during shutdown."""
    from minikube_py.controllers.manager import ControllerManager
    from minikube_py.controllers.standard import standard_controllers

    settings = config.controllers or ControllerSettings()
    controllers = standard_controllers(client, settings, ca_pem=pki.ca_cert.read_text())
    manager = ControllerManager(client, controllers)
    task = asyncio.create_task(manager.run(), name="controller-manager")
    try:
        yield manager
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await client.close()


class Nodes:
    """The cluster's node agents and the scheduler: nodes can join and fail while it runs."""

    def __init__(
        self,
        config: ClusterConfig,
        client: Client,
        directory: Path,
        streams: dict[str, NodeStreams],
        api_endpoint: tuple[str, int],
    ) -> None:
        from minikube_py.runtime.images.store import ImageStore

        self.config, self.client, self.directory, self.streams = config, client, directory, streams
        self.api_endpoint = api_endpoint  # where pods reach the API server
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
async def _running_nodes(
    config: ClusterConfig,
    client: Client,
    scheduler_client: Client,
    directory: Path,
    streams: dict[str, NodeStreams],
    api_endpoint: tuple[str, int],
) -> AsyncIterator[Nodes]:
    """The scheduler and a node agent per node, registered before the cluster counts as up;
    on the way out the agents stop first, then every container, then the scheduler."""
    from minikube_py.scheduler.scheduler import Scheduler

    nodes = Nodes(config, client, directory, streams, api_endpoint)
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
