"""Routes: what one Service asks of the proxy, from the Service and its EndpointSlices.

kube-proxy turns the cluster's Services and EndpointSlices into forwarding rules; this module
(and ``proxy_table.py`` for all Services at once) is that translation, with no I/O, so it can
be read and tested alone. Each *route* is one listener — a protocol, an address and a port —
and the backends a new connection to it may go to:

- every Service port gets a route on its ClusterIP (``kind="cluster"``);
- NodePort and LoadBalancer Services also get one on every node address at the node port
  (``kind="node"``), and LoadBalancer ingress IPs and ``externalIPs`` on the Service port
  (``kind="external"``).

Backends come from the Service's EndpointSlices (label ``kubernetes.io/service-name``); the
slice port with the Service port's *name* and protocol gives the endpoint port (that is how a
named ``targetPort`` reaches the proxy). Readiness follows upstream's ``CategorizeEndpoints``:
a connection goes to a *ready* endpoint; only when none is ready anywhere does it go to one
that is *serving and terminating* (a pod draining during a rollout). With a traffic policy
``Local`` the same rule is applied per node. A missing condition counts as ready and serving,
a missing ``terminating`` as false, as in kube-proxy's endpoint cache.

Skipped, as upstream: headless and ExternalName Services, Services labelled
``service.kubernetes.io/service-proxy-name`` (another proxy serves them), non-IPv4 slices, and
SCTP ports. Also skipped: Services annotated ``minikube-py.io/in-process: "true"`` — answered
inside the cluster process (the DNS Service), so no listener may take their address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs

Object = dict[str, Any]
RouteKind = Literal["cluster", "node", "external"]
ListenerKey = tuple[str, str, int]  # (protocol, address, Kubernetes port)

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
PROXY_NAME_LABEL = "service.kubernetes.io/service-proxy-name"
HEADLESS_LABEL = "service.kubernetes.io/headless"
IN_PROCESS_ANNOTATION = "minikube-py.io/in-process"
PROTOCOLS = ("TCP", "UDP")


@attrs.frozen
class Backend:
    """One endpoint of one Service port."""

    address: str
    port: int
    node: str = ""
    ready: bool = True
    serving: bool = True
    terminating: bool = False

    @property
    def target(self) -> tuple[str, int]:
        return (self.address, self.port)


@attrs.frozen
class Route:
    """What one listener serves; ``backends`` are its candidates for any client, ``local``
    (with a traffic policy ``Local`` on a ClusterIP) the candidates per client node."""

    service: str  # namespace/name
    port_name: str
    protocol: str
    kind: RouteKind
    address: str
    port: int
    backends: tuple[Backend, ...] = ()
    local: Mapping[str, tuple[Backend, ...]] | None = None
    affinity_seconds: float | None = None  # sessionAffinity ClientIP's timeout
    prefer_same_node: bool = False  # a ClusterIP with policy Cluster: see balancer.py
    known: frozenset[tuple[str, int]] = frozenset()  # every endpoint in the slices

    @property
    def key(self) -> ListenerKey:
        return (self.protocol, self.address, self.port)

    @property
    def balance_key(self) -> tuple[str, str, str]:
        """The Service port: its listeners share one rotation and one affinity table."""
        return (self.service, self.port_name, self.protocol)

    @property
    def usable(self) -> bool:
        """Whether anything can be served: without it the proxy does not listen at all, so
        clients get a connection refused at once (upstream's REJECT rule)."""
        return bool(self.backends) or any(self.local.values() if self.local else ())


@attrs.frozen
class NodeInfo:
    """What the proxy needs of a Node: its name, addresses and pod ranges."""

    name: str
    addresses: tuple[str, ...] = ()
    pod_cidrs: tuple[str, ...] = ()


def node_info(node: Object) -> NodeInfo:
    """A Node object's name, InternalIP addresses and ``spec.podCIDRs``."""
    spec, status = node.get("spec") or {}, node.get("status") or {}
    cidrs = list(spec.get("podCIDRs") or [])
    if spec.get("podCIDR") and spec["podCIDR"] not in cidrs:
        cidrs.insert(0, spec["podCIDR"])
    addresses = [
        str(entry.get("address"))
        for entry in status.get("addresses") or []
        if isinstance(entry, dict) and entry.get("type") == "InternalIP" and entry.get("address")
    ]
    name = str((node.get("metadata") or {}).get("name") or "")
    return NodeInfo(name, tuple(addresses), tuple(str(c) for c in cidrs))


def ipv4(text: Any) -> str | None:
    try:
        return str(ipaddress.IPv4Address(str(text)))
    except ValueError:
        return None


def proxied(service: Object) -> bool:
    """Whether the proxy serves this Service at all (the module docstring lists the rest)."""
    metadata, spec = service.get("metadata") or {}, service.get("spec") or {}
    if (metadata.get("annotations") or {}).get(IN_PROCESS_ANNOTATION) == "true":
        return False
    labels = metadata.get("labels") or {}
    if PROXY_NAME_LABEL in labels or HEADLESS_LABEL in labels:
        return False
    if spec.get("type") == "ExternalName":
        return False
    return ipv4(spec.get("clusterIP")) is not None


def _condition(conditions: Mapping[str, Any], name: str, missing: bool) -> bool:
    value = conditions.get(name)
    return missing if value is None else bool(value)


def _rank(backend: Backend) -> int:
    return 2 if backend.ready else 1 if backend.serving else 0


def slice_backends(slices: Iterable[Object], port_name: str, protocol: str) -> list[Backend]:
    """The endpoints of one Service port across its slices, one per address and port (the
    best-conditioned copy where slices overlap during an update), sorted for a stable order."""
    found: dict[tuple[str, int], Backend] = {}
    for endpoint_slice in slices:
        if endpoint_slice.get("addressType", "IPv4") != "IPv4":
            continue
        port = None
        for candidate in endpoint_slice.get("ports") or []:
            if not isinstance(candidate, dict):
                continue
            if (candidate.get("name") or "") == port_name and (
                candidate.get("protocol") or "TCP"
            ) == protocol:
                port = candidate.get("port")
        if not isinstance(port, int) or not 0 < port < 65536:
            continue
        for endpoint in endpoint_slice.get("endpoints") or []:
            if not isinstance(endpoint, dict) or not endpoint.get("addresses"):
                continue
            address = ipv4(endpoint["addresses"][0])
            if address is None:
                continue
            conditions = endpoint.get("conditions") or {}
            backend = Backend(
                address,
                port,
                node=str(endpoint.get("nodeName") or ""),
                ready=_condition(conditions, "ready", True),
                serving=_condition(conditions, "serving", True),
                terminating=_condition(conditions, "terminating", False),
            )
            old = found.get(backend.target)
            if old is None or _rank(backend) > _rank(old):
                found[backend.target] = backend
    return sorted(found.values(), key=lambda b: (ipaddress.IPv4Address(b.address), b.port))


def _usable(backends: Sequence[Backend]) -> tuple[Backend, ...]:
    """Upstream's rule: the ready endpoints, else the serving-and-terminating ones."""
    ready = tuple(b for b in backends if b.ready)
    return ready or tuple(b for b in backends if b.serving and b.terminating)


def _per_node(backends: Sequence[Backend]) -> dict[str, tuple[Backend, ...]]:
    nodes = sorted({b.node for b in backends if b.node})
    chosen = {node: _usable([b for b in backends if b.node == node]) for node in nodes}
    return {node: found for node, found in chosen.items() if found}


def _affinity(spec: Mapping[str, Any]) -> float | None:
    if spec.get("sessionAffinity") != "ClientIP":
        return None
    config = (spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}
    timeout = config.get("timeoutSeconds")
    return float(timeout) if isinstance(timeout, int) and timeout > 0 else 10800.0


def service_routes(
    service: Object, slices: Sequence[Object], node_addresses: Mapping[str, str]
) -> list[Route]:
    """Every route of one Service; ``node_addresses`` maps node address → node name."""
    if not proxied(service):
        return []
    metadata, spec = service.get("metadata") or {}, service.get("spec") or {}
    status = service.get("status") or {}
    name = f"{metadata.get('namespace', '')}/{metadata.get('name', '')}"
    cluster_ip = str(spec["clusterIP"])
    kind = spec.get("type") or "ClusterIP"
    external = [
        *(
            ipv4(entry.get("ip"))
            for entry in (status.get("loadBalancer") or {}).get("ingress") or []
            if isinstance(entry, dict) and kind == "LoadBalancer"
        ),
        *(ipv4(address) for address in spec.get("externalIPs") or []),
    ]
    external_addresses = sorted({a for a in external if a and a.startswith("127.")})
    internal_local = spec.get("internalTrafficPolicy") == "Local"
    external_local = spec.get("externalTrafficPolicy") == "Local"
    common: dict[str, Any] = {"service": name, "affinity_seconds": _affinity(spec)}
    routes: list[Route] = []
    for port in spec.get("ports") or []:
        protocol = port.get("protocol") or "TCP"
        number = port.get("port")
        if protocol not in PROTOCOLS or not isinstance(number, int):
            continue
        port_name = str(port.get("name") or "")
        found = slice_backends(slices, port_name, protocol)
        usable = _usable(found)
        per_node = _per_node(found)
        same = dict(
            common, port_name=port_name, protocol=protocol, known=frozenset(b.target for b in found)
        )
        routes.append(
            Route(
                kind="cluster",
                address=cluster_ip,
                port=number,
                backends=() if internal_local else usable,
                local=per_node if internal_local else None,
                prefer_same_node=not internal_local,
                **same,
            )
        )
        node_port = port.get("nodePort")
        if kind in ("NodePort", "LoadBalancer") and isinstance(node_port, int):
            for address, node in sorted(node_addresses.items()):
                backends = per_node.get(node, ()) if external_local else usable
                routes.append(
                    Route(kind="node", address=address, port=node_port, backends=backends, **same)
                )
        # a cloud load balancer sends Local traffic only to nodes with local endpoints (its
        # health check), and each of those to its own: together, every node's local choice
        everywhere = tuple(b for node in per_node.values() for b in node)
        for address in external_addresses:
            backends = everywhere if external_local else usable
            routes.append(
                Route(kind="external", address=address, port=number, backends=backends, **same)
            )
    return routes
