"""The cluster's networking components: DNS, the service proxy, load-balancer addresses, Ingress.

Upstream runs these as pods and daemons beside the control plane: CoreDNS (the ``kube-dns``
Service), kube-proxy on every node, ``minikube tunnel`` for LoadBalancer addresses, and the
ingress-nginx addon. Here each is an API client in the cluster's process (``minikube_py.net``):

- ``ClusterDns`` answers ``cluster.local`` on the DNS Service's ClusterIP (the service block's
  .10). It starts before the nodes, since each kubelet tells its pods where it listens;
- ``ServiceProxy`` listens on every ClusterIP, node port and load-balancer address a Service
  needs (one proxy for all nodes: they share this machine's loopback);
- ``LoadBalancerAllocator`` gives type LoadBalancer Services an external address from the
  plan's load-balancer block, as ``minikube tunnel`` does;
- ``AddonManager`` (``addons.py``) runs the addons the cluster's addon record enables, today
  the ``ingress`` addon: an ``IngressController`` serving Ingresses on the control-plane
  node's address, ports 80 and 443, started and stopped live by ``addons enable|disable``.

``running_network`` starts them and stops them in reverse order. A port below 1024 that this
process may not bind is taken at ``LOW_PORT_OFFSET + port`` (``config.listen_port``); the
components say so in the log, and pods are told through their start-up hook's variables.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

import attrs

from minikube_py.cluster.addons import AddonManager, check_addons
from minikube_py.cluster.settings import ClusterConfig, ClusterError
from minikube_py.config import NetworkPlan, may_bind_low_ports, plan_nodes
from minikube_py.logs import get_logger

if TYPE_CHECKING:
    from minikube_py.apiserver.server import ApiServer
    from minikube_py.kubelet.dns import ClusterNetworking
    from minikube_py.net.dns import ClusterDns
    from minikube_py.net.ingress import IngressController
    from minikube_py.net.proxy import ServiceProxy

__all__ = ["Networking", "check_addons", "running_network"]

_log = get_logger("cluster")
READY_SECONDS = 30.0  # how long a component may take to listen


@attrs.frozen
class Networking:
    """The running networking components, and what the kubelets tell pods about them."""

    dns: ClusterDns
    proxy: ServiceProxy
    addons: AddonManager
    pods: ClusterNetworking  # the kubelets' --cluster-dns / --cluster-domain and the rest

    @property
    def ingress(self) -> IngressController | None:
        """The Ingress controller while the ``ingress`` addon runs."""
        return self.addons.ingress


@contextlib.asynccontextmanager
async def running_network(config: ClusterConfig, server: ApiServer) -> AsyncIterator[Networking]:
    from minikube_py.kubelet.dns import ClusterNetworking
    from minikube_py.net.dns import ClusterDns
    from minikube_py.net.ingress import IngressController
    from minikube_py.net.loadbalancer import LoadBalancerAllocator
    from minikube_py.net.proxy import ServiceProxy

    network = config.network or NetworkPlan()
    check_addons(config.addons)
    low_ports = may_bind_low_ports()
    names = ("coredns", "kube-proxy", "service-controller", "addon-manager")
    clients = [server.client(name) for name in names]
    dns = ClusterDns(clients[0], network)
    nodes = [node.address for node in plan_nodes(config.profile, config.nodes, network=network)]
    proxy = ServiceProxy(clients[1], network, node_addresses=nodes, low_ports=low_ports)
    allocator = LoadBalancerAllocator(clients[2], network)
    addons = AddonManager(
        clients[3],
        make_ingress=lambda: IngressController(
            server.client("ingress-nginx"), address=network.node_address(0), low_ports=low_ports
        ),
        initial=config.addons,
    )
    tasks: list[asyncio.Task[None]] = []
    try:
        tasks.append(asyncio.create_task(dns.run(), name="cluster dns"))
        await _ready(dns.wait_ready, tasks[-1], "the cluster DNS server")
        tasks.append(asyncio.create_task(proxy.run(), name="service proxy"))
        tasks.append(asyncio.create_task(allocator.run(), name="load balancer addresses"))
        tasks.append(asyncio.create_task(addons.run(), name="addon manager"))
        await _ready(addons.wait_ready, tasks[-1], "the addon manager")
        pods = ClusterNetworking.for_network(network, low_ports=low_ports)
        pods = attrs.evolve(pods, cluster_dns=(dns.address,), dns_port=dns.port)
        yield Networking(dns, proxy, addons, pods)
    finally:
        for task in reversed(tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for client in clients:
            await client.close()


async def _ready(wait: Callable[[], Awaitable[None]], task: asyncio.Task[None], what: str) -> None:
    """Wait for a component to listen; its failure to start is the cluster's, in one line."""
    waiting = asyncio.ensure_future(wait())
    done, _ = await asyncio.wait(
        {waiting, task}, timeout=READY_SECONDS, return_when=asyncio.FIRST_COMPLETED
    )
    if waiting in done:
        return
    waiting.cancel()
    if task in done and task.exception() is not None:
        raise ClusterError(f"{what} could not start: {task.exception()}") from None
    raise ClusterError(f"{what} did not start within {READY_SECONDS:.0f} s")
