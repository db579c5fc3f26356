"""Choosing an endpoint for a new connection: round-robin, client affinity, node locality.

A route (``proxy_routes.py``) lists the endpoints a connection may go to; the balancer picks
one per new connection (or UDP flow):

- **Round-robin** over the candidates, one rotation per Service port (its ClusterIP, node
  port and load-balancer listeners share it), so N connections spread evenly over N pods.
- **``sessionAffinity: ClientIP``**: a client address keeps its endpoint while that endpoint
  stays a candidate and the client came back within ``timeoutSeconds`` of its last
  connection (default 10800) — as upstream's iptables ``recent`` match, the timer restarts with
  every connection.
- **The client's node.** Clients are located by source address (``Topology``): an address in
  a node's ``spec.podCIDR`` is a pod on that node; a node's own address is that node; any
  other address (the host: 127.0.0.1, a browser, kubectl port-forward) counts as the first,
  control-plane node. With ``internalTrafficPolicy: Local`` only endpoints on the client's node
  are candidates. With the default ``Cluster`` policy a *pod* client goes to a ready endpoint
  on its own node when there is one ("kube-proxy can send the request to a pod on the same
  node"), else round-robin over all; the host is never steered, so requests from outside the
  pods spread over every pod. (Upstream's default has no such preference — it is what its
  ``trafficDistribution: PreferClose`` does per zone; ``prefer_same_node=False`` turns it
  off.)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Collection, Sequence

from minikube_py.net.proxy_routes import Backend, NodeInfo, Route

_PRUNE_EVERY = 1024  # affinity entries are forgotten lazily, once per so many new ones
_Sticky = tuple[tuple[str, str, str], str]  # (Service port, client address)


class Topology:
    """Which node a client address is on, from the Nodes' pod ranges and addresses."""

    def __init__(self, nodes: Sequence[NodeInfo], default_node: str = "") -> None:
        self.default_node = default_node or (nodes[0].name if nodes else "")
        self._cidrs = [
            (ipaddress.ip_network(cidr, strict=False), node.name)
            for node in nodes
            for cidr in node.pod_cidrs
            if _network(cidr)
        ]
        self._addresses = {address: node.name for node in nodes for address in node.addresses}
        self._cache: dict[str, tuple[str, bool]] = {}

    def locate(self, address: str) -> tuple[str, bool]:
        """``(node name, whether the client is a pod)``."""
        found = self._cache.get(address)
        if found is None:
            found = self._locate(address)
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[address] = found
        return found

    def _locate(self, address: str) -> tuple[str, bool]:
        if address in self._addresses:
            return self._addresses[address], False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return self.default_node, False
        for network, node in self._cidrs:
            if ip in network:
                return node, True
        return self.default_node, False


def _network(cidr: str) -> bool:
    try:
        ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    return True


class Balancer:
    """Picks endpoints; its state (rotations, affinities) outlives route changes."""

    def __init__(self, now: Callable[[], float], *, prefer_same_node: bool = True) -> None:
        self._now = now
        self.prefer_same_node = prefer_same_node
        self._turn: dict[tuple[str, str, str], int] = {}
        # (Service port, client address) → (endpoint, when the client last came, timeout)
        self._affinity: dict[_Sticky, tuple[tuple[str, int], float, float]] = {}
        self._added = 0

    def candidates(self, route: Route, node: str, is_pod: bool) -> tuple[Backend, ...]:
        """Where a client on ``node`` may go through ``route``."""
        if route.local is not None:
            return route.local.get(node, ())
        if route.prefer_same_node and is_pod and self.prefer_same_node:
            near = tuple(b for b in route.backends if b.node == node)
            if near:
                return near
        return route.backends

    def pick(
        self,
        route: Route,
        client: str,
        *,
        node: str,
        is_pod: bool,
        exclude: Collection[tuple[str, int]] = (),
    ) -> Backend | None:
        """An endpoint for a new connection from ``client``, or None if there is none;
        ``exclude``: endpoints that just refused this connection."""
        choices = self.candidates(route, node, is_pod)
        if exclude:
            choices = tuple(b for b in choices if b.target not in exclude)
        if not choices:
            return None
        now = self._now()
        sticky = (route.balance_key, client)
        if route.affinity_seconds is not None:
            remembered = self._affinity.get(sticky)
            if remembered is not None and now - remembered[1] <= route.affinity_seconds:
                for backend in choices:
                    if backend.target == remembered[0]:
                        self._affinity[sticky] = (backend.target, now, route.affinity_seconds)
                        return backend
        turn = self._turn.get(route.balance_key, -1) + 1
        self._turn[route.balance_key] = turn
        chosen = choices[turn % len(choices)]
        if route.affinity_seconds is not None:
            self._remember(sticky, chosen.target, now, route.affinity_seconds)
        return chosen

    def _remember(
        self, sticky: _Sticky, target: tuple[str, int], now: float, timeout: float
    ) -> None:
        self._affinity[sticky] = (target, now, timeout)
        self._added += 1
        if self._added % _PRUNE_EVERY == 0:  # bounded memory without a timer
            self._affinity = {
                key: value for key, value in self._affinity.items() if now - value[1] <= value[2]
            }

    def forget(self, services: Collection[tuple[str, str, str]]) -> None:
        """Drop the state of Service ports that no longer exist."""
        for key in [k for k in self._turn if k not in services]:
            del self._turn[key]
        self._affinity = {k: v for k, v in self._affinity.items() if k[0] in services}
