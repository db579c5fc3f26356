"""The proxy table: every Service's routes, by listener, kept cheaply up to date.

``proxy_routes.py`` translates one Service; this module does it for the whole cluster and
settles what the routes alone cannot: two Services wanting one listener (the first by
namespace/name keeps it — a stable rule — and the other is reported), and Services stored
under another address plan (a ClusterIP outside this cluster's service block may belong to
another cluster running beside it now, so it is not served, and is reported).

The proxy recomputes the table on every change, so the work must not grow with the number of
Services for a change to one of them: ``RouteCache`` keeps each Service's routes with the
resource versions they were made from (the Service's, its slices', the node addresses), and
only a Service whose inputs changed is translated again.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

from minikube_py.net.proxy_routes import (
    SERVICE_NAME_LABEL,
    ListenerKey,
    NodeInfo,
    Object,
    Route,
    ipv4,
    service_routes,
)

_Fingerprint = tuple[Any, ...]


def _version(obj: Object) -> str:
    """The resource version, or the object's identity where it has none (plain test dicts)."""
    return str((obj.get("metadata") or {}).get("resourceVersion") or id(obj))


class RouteCache:
    """Each Service's routes, remembered with what they were made from."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], tuple[_Fingerprint, list[Route], str | None]] = {}

    def routes(
        self,
        service: Object,
        slices: Sequence[Object],
        node_addresses: tuple[tuple[str, str], ...],
        block: ipaddress.IPv4Network | ipaddress.IPv6Network | None,
    ) -> tuple[list[Route], str | None]:
        """The Service's routes, or ``([], why)`` if it may not be served here."""
        metadata = service.get("metadata") or {}
        key = (str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))
        fingerprint = (
            _version(service),
            tuple(sorted(_version(s) for s in slices)),
            node_addresses,
            block,
        )
        entry = self._entries.get(key)
        if entry is not None and entry[0] == fingerprint:
            return entry[1], entry[2]
        routes: list[Route] = []
        problem = None
        cluster_ip = ipv4((service.get("spec") or {}).get("clusterIP"))
        if block is not None and cluster_ip and ipaddress.IPv4Address(cluster_ip) not in block:
            problem = f"the ClusterIP {cluster_ip} of {key[0]}/{key[1]} is outside {block}"
        else:
            try:
                routes = service_routes(service, slices, dict(node_addresses))
            except (AttributeError, TypeError, ValueError, KeyError) as error:
                # the API server validates Services, so this is a bug here or in it: that one
                # Service is not served, and is reported, the rest are
                problem = f"cannot read the Service {key[0]}/{key[1]}: {error!r}"
        self._entries[key] = (fingerprint, routes, problem)
        return routes, problem

    def keep_only(self, keys: set[tuple[str, str]]) -> None:
        """Forget the Services that are gone."""
        for key in [key for key in self._entries if key not in keys]:
            del self._entries[key]


def build_table(
    services: Iterable[Object],
    slices: Iterable[Object],
    nodes: Iterable[NodeInfo],
    *,
    extra_node_addresses: Iterable[str] = (),
    service_block: str | None = None,
    cache: RouteCache | None = None,
) -> tuple[dict[ListenerKey, Route], list[str]]:
    """All routes by listener, and a message for each problem (the module docstring)."""
    cache = cache or RouteCache()
    block = ipaddress.ip_network(service_block) if service_block else None
    by_service: dict[tuple[str, str], list[Object]] = {}
    for endpoint_slice in slices:
        metadata = endpoint_slice.get("metadata") or {}
        owner = (metadata.get("labels") or {}).get(SERVICE_NAME_LABEL)
        if owner:
            by_service.setdefault((metadata.get("namespace") or "", owner), []).append(
                endpoint_slice
            )
    addresses: dict[str, str] = {a: "" for a in extra_node_addresses if ipv4(a)}
    for node in nodes:
        for address in node.addresses:
            if ipv4(address) and address.startswith("127."):
                addresses[address] = node.name
    node_addresses = tuple(sorted(addresses.items()))
    table: dict[ListenerKey, Route] = {}
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    keyed = []
    for service in services:
        metadata = service.get("metadata") or {}
        keyed.append(((str(metadata.get("namespace") or ""), str(metadata.get("name"))), service))
    for key, service in sorted(keyed, key=lambda pair: pair[0]):
        seen.add(key)
        routes, problem = cache.routes(service, by_service.get(key, []), node_addresses, block)
        if problem:
            problems.append(problem)
        for route in routes:
            holder = table.get(route.key)
            if holder is None:
                table[route.key] = route
            elif holder.service != route.service:
                problems.append(
                    f"{route.protocol} {route.address}:{route.port} of {route.service} "
                    f"is already served for {holder.service}"
                )
    cache.keep_only(seen)
    return table, problems
