"""From an Ingress backend (a Service and a port) to the pod addresses that serve it.

ingress-nginx does not send traffic through a Service's ClusterIP: it reads the Service's
EndpointSlices itself and balances over the pods' addresses, round-robin. This module does the
same from the controller's informer caches, at request time, so a change of endpoints applies
to the next request:

1. the Service's port is the one whose ``port`` equals the backend's ``port.number``, or whose
   ``name`` equals its ``port.name``;
2. the EndpointSlices of the Service are those labelled ``kubernetes.io/service-name``; in
   each, the port with that Service port's name (both may be unnamed) gives the pods' port;
3. an endpoint counts when ``conditions.ready`` is true or unset (the API says unset means
   ready); its first address is used, as the addresses of one endpoint are fungible.

An ExternalName Service is reached at its ``externalName`` and the backend's port, as
ingress-nginx does. An empty answer means "no ready endpoint" (a missing Service, a port it
does not have, no slices): the proxy answers 503, as upstream.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from minikube_py.net.ingress_rules import Backend

Object = dict[str, Any]
SERVICE_NAME_LABEL = "kubernetes.io/service-name"

ServiceLookup = Callable[[str, str], Object | None]  # (namespace, name) → Service
SliceLookup = Callable[[str, str], list[Object]]  # (namespace, service) → its EndpointSlices


def service_port(service: Object, port: int | str) -> Object | None:
    """The entry of ``spec.ports`` an Ingress backend's port names."""
    for entry in (service.get("spec") or {}).get("ports") or []:
        if isinstance(port, int) and entry.get("port") == port:
            return dict(entry)
        if isinstance(port, str) and entry.get("name") == port:
            return dict(entry)
    return None


def ready_addresses(slices: list[Object], port_name: str) -> list[tuple[str, int]]:
    """The ``(address, port)`` of every ready endpoint for the named Service port."""
    found: list[tuple[str, int]] = []
    for endpoint_slice in slices:
        if endpoint_slice.get("addressType", "IPv4") not in ("IPv4", "IPv6"):
            continue
        number = next(
            (
                entry.get("port")
                for entry in endpoint_slice.get("ports") or []
                if (entry.get("name") or "") == port_name
                and (entry.get("protocol") or "TCP") == "TCP"
            ),
            None,
        )
        if not isinstance(number, int):
            continue
        for endpoint in endpoint_slice.get("endpoints") or []:
            addresses = endpoint.get("addresses") or []
            if addresses and (endpoint.get("conditions") or {}).get("ready") is not False:
                found.append((str(addresses[0]), number))
    return sorted(set(found))


class EndpointPicker:
    """Round-robin over the ready endpoints of each backend, read fresh on every pick."""

    def __init__(self, services: ServiceLookup, slices: SliceLookup) -> None:
        self._services = services
        self._slices = slices
        self._counters: dict[Backend, itertools.count[int]] = {}

    def endpoints(self, backend: Backend) -> list[tuple[str, int]]:
        service = self._services(backend.namespace, backend.service)
        if service is None:
            return []
        spec = service.get("spec") or {}
        if spec.get("type") == "ExternalName":  # the name itself, at the backend's port
            port = service_port(service, backend.port)
            number = port.get("port") if port else backend.port
            name = str(spec.get("externalName") or "")
            return [(name, number)] if name and isinstance(number, int) else []
        port = service_port(service, backend.port)
        if port is None:
            return []
        return ready_addresses(
            self._slices(backend.namespace, backend.service), str(port.get("name") or "")
        )

    def pick(self, backend: Backend, tries: int = 1) -> list[tuple[str, int]]:
        """Up to ``tries`` distinct endpoints, the next in turn first (later ones to retry)."""
        endpoints = self.endpoints(backend)
        if not endpoints:
            return []
        counter = self._counters.setdefault(backend, itertools.count())
        start = next(counter) % len(endpoints)
        rotated = endpoints[start:] + endpoints[:start]
        return rotated[:tries]
