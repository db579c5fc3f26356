"""Printer columns of the networking kinds: services, endpoints, slices, ingresses, policies.

A service's row answers "how do I reach it?": its ClusterIP, its EXTERNAL-IP (``<none>`` for
ClusterIP and NodePort services without ``externalIPs``, ``<pending>`` for a LoadBalancer not
yet given an address, the DNS name for ExternalName) and its PORT(S), written ``80/TCP`` or
``80:30080/TCP`` when a node port is open. Endpoints and slices list at most three addresses
and then say how many more there are, as upstream does.
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.printers import (
    AGE,
    NAME,
    Obj,
    dig,
    format_labels,
    format_selector,
    integer,
    items,
    text,
    with_more,
)
from minikube_py.api.resources import Column


def _load_balancer(obj: Obj) -> str:
    """Ingress points of a load balancer, de-duplicated and sorted (upstream uses a set)."""
    found = set()
    for point in items(obj, "status", "loadBalancer", "ingress"):
        found.add(text(point, "ip") or text(point, "hostname"))
    found.discard("")
    # The API server prints "wide" tables, so the 16-character cut never applies here.
    return ",".join(sorted(found))


def _cluster_ip(svc: Obj) -> str:
    # Objects written before defaulting may carry only the singular field.
    return text(svc, "spec", "clusterIPs", 0) or text(svc, "spec", "clusterIP") or "<none>"


def _external_ip(svc: Obj) -> str:
    external = [str(ip) for ip in items(svc, "spec", "externalIPs")]
    kind = text(svc, "spec", "type")
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) or "<none>"
    if kind == "LoadBalancer":
        balancer = _load_balancer(svc)
        if external:
            return ",".join([*([balancer] if balancer else []), *external])
        return balancer or "<pending>"
    if kind == "ExternalName":
        return text(svc, "spec", "externalName")
    return "<unknown>"


def _ports(svc: Obj) -> str:
    pieces = []
    for port in items(svc, "spec", "ports"):
        protocol = text(port, "protocol") or "TCP"
        node_port = integer(port, "nodePort")
        number = integer(port, "port")
        pieces.append(
            f"{number}:{node_port}/{protocol}" if node_port > 0 else f"{number}/{protocol}"
        )
    return ",".join(pieces) or "<none>"


SERVICE_COLUMNS = (
    NAME,
    Column(
        "Type",
        description="type determines how the Service is exposed.",
        cell=lambda s: text(s, "spec", "type"),
    ),
    Column(
        "Cluster-IP", description="clusterIP is the IP address of the service.", cell=_cluster_ip
    ),
    Column(
        "External-IP",
        description="externalIPs is a list of IP addresses for which nodes in "
        "the cluster will also accept traffic for this service.",
        cell=_external_ip,
    ),
    Column(
        "Port(s)", description="The list of ports that are exposed by this service.", cell=_ports
    ),
    AGE,
    Column(
        "Selector",
        priority=1,
        description="Route service traffic to pods with label keys "
        "and values matching this selector.",
        cell=lambda s: format_labels(dig(s, "spec", "selector")),
    ),
)


def _host_port(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _endpoints(ep: Obj) -> str:
    subsets = items(ep, "subsets")
    if not subsets:
        return "<none>"
    shown: list[str] = []
    total = 0
    for subset in subsets:
        addresses = [text(a, "ip") for a in items(subset, "addresses")]
        ports = items(subset, "ports")
        if not ports:  # a headless service may have no ports
            total += len(addresses)
            shown.extend(addresses[: max(0, 3 - len(shown))])
            continue
        for port in ports:
            total += len(addresses)
            for ip in addresses:
                if len(shown) < 3:
                    shown.append(_host_port(ip, integer(port, "port")))
    return with_more(shown, total, empty="")


ENDPOINTS_COLUMNS = (
    NAME,
    Column(
        "Endpoints",
        description="The set of all endpoints is the union of all subsets.",
        cell=_endpoints,
    ),
    AGE,
)


def _slice_ports(es: Obj) -> str:
    ports: list[str] = []
    for port in items(es, "ports"):
        number = dig(port, "port")
        ports.append(str(number) if isinstance(number, int) else text(port, "name") or "*")
    return with_more(ports[:3], len(ports), empty="<unset>")


def _slice_endpoints(es: Obj) -> str:
    addresses = [str(a) for ep in items(es, "endpoints") for a in items(ep, "addresses")]
    return with_more(addresses[:3], len(addresses), empty="<unset>")


ENDPOINTSLICE_COLUMNS = (
    NAME,
    Column(
        "AddressType",
        description="addressType specifies the type of address carried by this EndpointSlice.",
        cell=lambda es: text(es, "addressType"),
    ),
    Column(
        "Ports",
        description="ports specifies the list of network ports exposed by each "
        "endpoint in this slice.",
        cell=_slice_ports,
    ),
    Column(
        "Endpoints",
        description="endpoints is a list of unique endpoints in this slice.",
        cell=_slice_endpoints,
    ),
    AGE,
)


def _hosts(ing: Obj) -> str:
    rules = items(ing, "spec", "rules")
    shown: list[str] = []
    more = False
    for rule in rules:
        # Like upstream: "more" only once a fourth rule is met with three hosts already shown.
        more = more or len(shown) == 3
        if not more and text(rule, "host"):
            shown.append(text(rule, "host"))
    if not shown:
        return "*"
    return f"{','.join(shown)} + {len(rules) - 3} more..." if more else ",".join(shown)


INGRESS_COLUMNS = (
    NAME,
    Column(
        "Class",
        description="The name of the IngressClass resource that should be used for "
        "additional configuration",
        cell=lambda i: text(i, "spec", "ingressClassName") or "<none>",
    ),
    Column(
        "Hosts",
        description="Hosts that incoming requests are matched against before the ingress rule",
        cell=_hosts,
    ),
    Column(
        "Address",
        description="Address is a list containing ingress points for the load-balancer",
        cell=_load_balancer,
    ),
    Column(
        "Ports",
        description="Ports of TLS configurations that open",
        cell=lambda i: "80, 443" if items(i, "spec", "tls") else "80",
    ),
    AGE,
)


def _ingress_class_parameters(ic: Obj) -> str:
    params: Any = dig(ic, "spec", "parameters")
    if params is None:
        return "<none>"
    kind = text(params, "kind")
    if dig(params, "apiGroup") is not None:
        kind += "." + text(params, "apiGroup")
    return f"{kind}/{text(params, 'name')}"


INGRESSCLASS_COLUMNS = (
    NAME,
    Column(
        "Controller",
        description="Controller that is responsible for handling this class",
        cell=lambda ic: text(ic, "spec", "controller"),
    ),
    Column(
        "Parameters",
        description="A reference to a resource with additional parameters",
        cell=_ingress_class_parameters,
    ),
    AGE,
)
NETWORKPOLICY_COLUMNS = (
    NAME,
    Column(
        "Pod-Selector",
        description="Selects the pods to which this NetworkPolicy object applies.",
        cell=lambda np: format_selector(dig(np, "spec", "podSelector", default={})),
    ),
    AGE,
)
