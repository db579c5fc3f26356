"""The service proxy: kube-proxy for loopback.

Upstream's kube-proxy watches Services, EndpointSlices and Nodes and programs the kernel
(iptables, IPVS, nftables) so that a packet to a ClusterIP reaches a pod. Here every
ClusterIP, node address and load-balancer address is a loopback address of this machine, so
the proxy simply *listens* on each ``address:port`` a Service needs and forwards every
connection (or UDP flow) to an endpoint (``proxy_tcp.py``, ``proxy_udp.py``).

It is an API client like any other component: three informers keep Services, EndpointSlices
and Nodes in memory, and every change wakes one sync, which recomputes the wanted listeners
(``proxy_table.py`` and ``proxy_routes.py``, pure) and reconciles the open ones with them:

- a listener that is no longer wanted is closed, with its connections;
- a wanted listener gets its new route at once, so new connections see endpoint changes as
  soon as the watch delivers them (milliseconds), and connections to endpoints that left the
  Service's slices are reset;
- a missing listener is opened. A Service port with no usable endpoint has *no* listener, so
  a client is refused at once (upstream's REJECT) instead of hanging.

Ports below 1024 need privilege; without it a listener takes ``LOW_PORT_OFFSET + port``
(``minikube_py.config.listen_port``) and the proxy says so once. An address that cannot be
bound (another program holds it) is logged and tried again at the next change, and at the
latest after ``retry_seconds``; the rest of the Services are served meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection, Sequence

from minikube_py.client import ENDPOINT_SLICES, NODES, SERVICES, Client, Informer
from minikube_py.config import LOW_PORT_OFFSET, NetworkPlan, listen_port
from minikube_py.logs import get_logger
from minikube_py.net.balancer import Balancer, Topology
from minikube_py.net.proxy_routes import Backend, ListenerKey, NodeInfo, Route
from minikube_py.net.proxy_routes import node_info as read_node
from minikube_py.net.proxy_table import RouteCache, build_table
from minikube_py.net.proxy_tcp import TcpListener
from minikube_py.net.proxy_udp import UdpListener

_log = get_logger("kube-proxy")
CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"


class _Served:
    """An open listener and the route it currently serves."""

    def __init__(self, route: Route, listener: TcpListener | UdpListener) -> None:
        self.route, self.listener = route, listener
        self.open = False  # listening yet


class ServiceProxy:
    """Listeners for every Service's addresses, kept in step with the API; ``run`` until
    cancelled. ``node_addresses``: where node ports listen besides the Nodes' InternalIPs."""

    def __init__(
        self,
        client: Client,
        network: NetworkPlan,
        *,
        node_addresses: Sequence[str] = (),
        prefer_same_node: bool = True,
        low_ports: bool | None = None,
        udp_idle_timeout: float = 30.0,
        retry_seconds: float = 10.0,
    ) -> None:
        self.client, self.network = client, network
        self.node_addresses = tuple(node_addresses)
        self._low_ports = low_ports
        self._udp_idle = udp_idle_timeout
        self._retry_seconds = retry_seconds
        self.balancer = Balancer(_loop_time, prefer_same_node=prefer_same_node)
        self.topology = Topology([])
        self._services = Informer(client, SERVICES)
        self._slices = Informer(client, ENDPOINT_SLICES)
        self._nodes = Informer(client, NODES)
        self._served: dict[ListenerKey, _Served] = {}
        self._routes = RouteCache()
        self._failed: dict[ListenerKey, str] = {}  # listener → why it could not be opened
        self._reported: set[str] = set()  # table problems already logged
        self._low_port_said = False
        self._dirty = asyncio.Event()
        self._retry: asyncio.TimerHandle | None = None
        self.synced = asyncio.Event()  # set after the first sync: tests and the cluster wait

    # -- what tests and the cluster may look at ---------------------------------------------

    def listening(self) -> dict[ListenerKey, tuple[str, int]]:
        """Every open listener (protocol, address, Service port) → the address really bound
        (its port differs for ports below 1024 without privilege)."""
        return {
            key: (key[1], self._bind_port(key[2]))
            for key, served in self._served.items()
            if served.open
        }

    # -- running ----------------------------------------------------------------------------

    async def run(self) -> None:
        informers = (self._services, self._slices, self._nodes)
        for informer in informers:
            informer.on_add(lambda _obj: self._dirty.set())
            informer.on_update(lambda _old, _new: self._dirty.set())
            informer.on_delete(lambda _obj: self._dirty.set())
        tasks = [
            asyncio.create_task(informer.run(), name=f"kube-proxy {informer.gvr.resource}")
            for informer in informers
        ]
        try:
            await asyncio.gather(*(informer.wait_synced() for informer in informers))
            _log.info("service proxy started", node_addresses=list(self.node_addresses))
            while True:
                self._dirty.clear()
                try:
                    await self._sync()
                except Exception:  # a bug must not take every Service down with it
                    _log.exception("proxy sync failed; trying again")
                    self._schedule_retry()
                self.synced.set()
                await self._dirty.wait()
        finally:
            if self._retry is not None:
                self._retry.cancel()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for key in list(self._served):
                await self._close(key, "the proxy stops")

    async def _sync(self) -> None:
        nodes = [read_node(node) for node in self._nodes.items()]
        self.topology = Topology(nodes, self._default_node(nodes))
        table, problems = build_table(
            self._services.items(),
            self._slices.items(),
            nodes,
            extra_node_addresses=self.node_addresses,
            service_block=self.network.service_block,
            cache=self._routes,
        )
        for problem in problems:
            if problem not in self._reported:
                self._reported.add(problem)
                _log.warning("service not proxied", reason=problem)
        self.balancer.forget({route.balance_key for route in table.values()})
        wanted = {key: route for key, route in table.items() if route.usable}
        for key in [key for key in self._served if key not in wanted]:
            await self._close(key, "no endpoints" if key in table else "service gone")
        self._failed = {key: why for key, why in self._failed.items() if key in wanted}
        for key, route in wanted.items():
            served = self._served.get(key)
            if served is None:
                await self._open(route)
                continue
            served.route = route
            dropped = served.listener.drop_missing(route.known)
            if dropped:
                _log.info(
                    "closed connections to removed endpoints", key=route.service, count=dropped
                )
        if self._failed:
            self._schedule_retry()

    def _schedule_retry(self) -> None:
        if self._retry is None:
            loop = asyncio.get_running_loop()
            self._retry = loop.call_later(self._retry_seconds, self._retry_now)

    def _retry_now(self) -> None:
        self._retry = None
        self._dirty.set()

    def _default_node(self, nodes: Sequence[NodeInfo]) -> str:
        """The node the host counts as on: the first node address's, else the control plane."""
        for node in nodes:
            if self.node_addresses and self.node_addresses[0] in node.addresses:
                return node.name
        for obj in self._nodes.items():
            if CONTROL_PLANE_LABEL in ((obj.get("metadata") or {}).get("labels") or {}):
                return str(obj["metadata"]["name"])
        return min((node.name for node in nodes), default="")

    # -- listeners --------------------------------------------------------------------------

    def _bind_port(self, port: int) -> int:
        return listen_port(port, low_ports=self._low_ports)

    async def _open(self, route: Route) -> None:
        port = self._bind_port(route.port)
        if port != route.port and not self._low_port_said:
            self._low_port_said = True
            _log.warning(
                f"this process may not listen on ports below 1024: Service ports below 1024 "
                f"listen on {LOW_PORT_OFFSET} + port instead (80 on {LOW_PORT_OFFSET + 80})"
            )
        listener: TcpListener | UdpListener
        if route.protocol == "UDP":
            listener = UdpListener(
                route.address, port, _Choose(self, route.key), idle_timeout=self._udp_idle
            )
        else:
            listener = TcpListener(route.address, port, _Choose(self, route.key))
        # registered before it listens: a client may arrive while ``start`` finishes
        served = self._served[route.key] = _Served(route, listener)
        where = f"{route.protocol} {route.address}:{port}"
        try:
            await listener.start()
        except OSError as error:
            del self._served[route.key]
            why = error.strerror or str(error)
            if self._failed.get(route.key) != why:
                _log.warning("cannot listen", key=route.service, address=where, error=why)
            self._failed[route.key] = why
            return
        self._failed.pop(route.key, None)
        served.open = True
        _log.info("listener opened", key=route.service, address=where, kind=route.kind)

    async def _close(self, key: ListenerKey, why: str) -> None:
        served = self._served.pop(key)
        await served.listener.close()
        where = f"{key[0]} {key[1]}:{self._bind_port(key[2])}"
        _log.info("listener closed", key=served.route.service, address=where, reason=why)

    def pick(
        self, key: ListenerKey, client: str, exclude: Collection[tuple[str, int]]
    ) -> Backend | None:
        """The endpoint for a new connection from ``client`` to the listener ``key``."""
        served = self._served.get(key)
        if served is None:
            return None
        node, is_pod = self.topology.locate(client)
        return self.balancer.pick(served.route, client, node=node, is_pod=is_pod, exclude=exclude)


class _Choose:
    """A listener's way back to the proxy's current route and balancer."""

    def __init__(self, proxy: ServiceProxy, key: ListenerKey) -> None:
        self.proxy, self.key = proxy, key

    def __call__(self, client: str, exclude: Collection[tuple[str, int]]) -> Backend | None:
        return self.proxy.pick(self.key, client, exclude)


def _loop_time() -> float:
    return asyncio.get_running_loop().time()
