"""Running a cluster: ``running_cluster`` starts the components in order and stops them in
reverse (the package docstring, ``minikube_py/cluster/__init__.py``, tells the whole story)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import importlib
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from minikube_py.apiserver.kubeconfig import write_kubeconfig
from minikube_py.apiserver.pki import Pki, ensure_pki
from minikube_py.apiserver.server import ApiServer
from minikube_py.apiserver.tokens import TokenIssuer
from minikube_py.client import Client
from minikube_py.cluster.network import Networking, check_addons, running_network
from minikube_py.cluster.nodes import Nodes, running_nodes
from minikube_py.cluster.settings import ClusterConfig, ClusterError
from minikube_py.config import ControllerSettings, NetworkPlan
from minikube_py.logs import get_logger
from minikube_py.slots import NoFreeSlot, claimed_slot
from minikube_py.store import Encryption, SqlStore, load_or_create_key, open_store

if TYPE_CHECKING:  # imported after the API server serves: see _import_components
    from minikube_py.controllers.manager import ControllerManager
    from minikube_py.kubelet.agent import NodeAgent
    from minikube_py.runtime.protocol import NodeStreams

__all__ = [
    "ClusterConfig",
    "ClusterError",
    "Nodes",
    "RunningCluster",
    "running_cluster",
]

_log = get_logger("cluster")


@attrs.frozen
class RunningCluster:
    api_server: ApiServer
    kubeconfig: Path | None
    directory: Path
    nodes: Nodes
    controllers: ControllerManager
    network: NetworkPlan  # the address plan this cluster runs on
    networking: Networking  # its DNS server, service proxy and Ingress controller

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
    "minikube_py.kubelet.dns",
    "minikube_py.net.dns",
    "minikube_py.net.proxy",
    "minikube_py.net.loadbalancer",
    "minikube_py.net.ingress",
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
    check_addons(config.addons)
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
                    running_network(config, server) as networking,
                    running_nodes(
                        config,
                        client,
                        server.client("kube-scheduler"),
                        directory,
                        node_streams,
                        (server.host, server.port),
                        networking.pods,
                    ) as nodes,
                    _running_controllers(
                        config, server.client("kube-controller-manager"), pki, directory
                    ) as manager,
                ):
                    yield RunningCluster(
                        server, kubeconfig, directory, nodes, manager, network, networking
                    )
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


@contextlib.asynccontextmanager
async def _running_controllers(
    config: ClusterConfig, client: Client, pki: Pki, directory: Path
) -> AsyncIterator[ControllerManager]:
    """The controller manager, started once the nodes are registered (a ReplicaSet's pods
    then have somewhere to go) and stopped first, so nothing is recreated during shutdown."""
    from minikube_py.controllers.manager import ControllerManager
    from minikube_py.controllers.standard import standard_controllers

    settings = config.controllers or ControllerSettings()
    controllers = standard_controllers(
        client,
        settings,
        ca_pem=pki.ca_cert.read_text(),
        storage_root=directory / "storage" / "hostpath-provisioner",
    )
    manager = ControllerManager(client, controllers)
    task = asyncio.create_task(manager.run(), name="controller-manager")
    try:
        yield manager
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await client.close()
