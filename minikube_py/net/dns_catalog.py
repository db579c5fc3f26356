"""What the cluster DNS knows: Services, their endpoints, namespaces and pods, indexed.

CoreDNS's kubernetes plugin never asks the API server while it answers a query: informers keep
a local copy of the Services and EndpointSlices (and, for ``pods verified``, the pods), and
each query is a lookup in that copy. ``DnsCatalog`` is that copy, reduced to what names need
and indexed both ways — by ``(namespace, name)`` for forward names and by IP address for
``PTR`` queries. The informers' handlers call ``put_*`` / ``delete_*`` with the raw objects;
nothing here does I/O, so it is tested by feeding it dicts.

An endpoint is *ready* when its slice's ``conditions.ready`` is true or absent (as CoreDNS
reads EndpointSlices); a Service with ``publishNotReadyAddresses`` publishes the others too.
Slices name their Service with the ``kubernetes.io/service-name`` label; slices of the
``FQDN`` address type carry no address a DNS record could hold and are skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import attrs

Key = tuple[str, str]  # (namespace, name)
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


@attrs.frozen
class Port:
    name: str  # "" for an unnamed port
    protocol: str  # "TCP", "UDP", "SCTP"
    number: int  # -1 where an endpoint slice lists no port (CoreDNS's sentinel)


@attrs.frozen
class ServiceEntry:
    namespace: str
    name: str
    cluster_ips: tuple[str, ...]  # empty for headless and ExternalName Services
    headless: bool
    external_name: str | None  # set for type ExternalName
    ports: tuple[Port, ...]
    publish_not_ready: bool


@attrs.frozen
class Endpoint:
    address: str
    hostname: str  # the slice's ``hostname``, else the address with dashes (CoreDNS)
    ready: bool
    ports: tuple[Port, ...]


@attrs.frozen
class _Slice:
    service: Key
    endpoints: tuple[Endpoint, ...]


def dashed(address: str) -> str:
    """``10.0.0.3`` → ``10-0-0-3`` (and ``:`` → ``-`` for IPv6), CoreDNS's endpoint name."""
    return address.replace(".", "-").replace(":", "-")


def _ports(raw: Any, *, default: int | None = None) -> tuple[Port, ...]:
    ports = []
    for port in raw or []:
        if not isinstance(port, dict):
            continue
        number = port.get("port", default)
        if isinstance(number, int):
            ports.append(
                Port(str(port.get("name") or ""), str(port.get("protocol") or "TCP"), number)
            )
    return tuple(ports)


def _key(obj: dict[str, Any]) -> Key | None:
    metadata = obj.get("metadata") or {}
    namespace, name = metadata.get("namespace"), metadata.get("name")
    return (namespace, name) if isinstance(namespace, str) and isinstance(name, str) else None


def service_entry(obj: dict[str, Any]) -> ServiceEntry | None:
    """The DNS view of a Service object; ``None`` for an object without a name."""
    key = _key(obj)
    if key is None:
        return None
    spec = obj.get("spec") or {}
    external = spec.get("externalName") if spec.get("type") == "ExternalName" else None
    cluster_ip = spec.get("clusterIP")
    ips = [ip for ip in spec.get("clusterIPs") or [cluster_ip] if ip and ip != "None"]
    return ServiceEntry(
        namespace=key[0],
        name=key[1],
        cluster_ips=() if external else tuple(str(ip) for ip in ips),
        headless=external is None and cluster_ip == "None",
        external_name=str(external).rstrip(".") if external else None,
        ports=_ports(spec.get("ports")),
        publish_not_ready=bool(spec.get("publishNotReadyAddresses")),
    )


def _slice(obj: dict[str, Any]) -> _Slice | None:
    key = _key(obj)
    service = ((obj.get("metadata") or {}).get("labels") or {}).get(SERVICE_NAME_LABEL)
    if key is None or not service or obj.get("addressType") == "FQDN":
        return None
    ports = _ports(obj.get("ports"), default=-1) or (Port("", "TCP", -1),)
    endpoints = []
    for endpoint in obj.get("endpoints") or []:
        if not isinstance(endpoint, dict):
            continue
        ready = (endpoint.get("conditions") or {}).get("ready")
        for address in endpoint.get("addresses") or []:
            endpoints.append(
                Endpoint(
                    address=str(address),
                    hostname=str(endpoint.get("hostname") or dashed(str(address))).lower(),
                    ready=ready is None or bool(ready),
                    ports=ports,
                )
            )
    return _Slice((key[0], str(service)), tuple(endpoints))


def _lower(key: Key) -> Key:
    return (key[0].lower(), key[1].lower())


class DnsCatalog:
    """The indexed cluster view the DNS answers from; ``serial`` changes with every change."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.serial = int(clock())  # CoreDNS's SOA serial: when its cache last changed
        self._services: dict[Key, ServiceEntry] = {}
        self._slices: dict[Key, _Slice] = {}
        self._slices_of: dict[Key, set[Key]] = {}  # service key → slice keys
        self._namespaces: set[str] = set()
        self._pods: dict[Key, tuple[str, ...]] = {}  # pod key → its addresses
        self._pod_ips: dict[str, set[Key]] = {}  # address → the pods on it

    def _changed(self) -> None:
        self.serial = max(self.serial + 1, int(self._clock()))

    # -- updates from informers ---------------------------------------------------------

    def put_service(self, obj: dict[str, Any]) -> None:
        entry = service_entry(obj)
        if entry is not None:
            self._services[_lower((entry.namespace, entry.name))] = entry
            self._changed()

    def delete_service(self, obj: dict[str, Any]) -> None:
        key = _key(obj)
        if key is not None and self._services.pop(_lower(key), None) is not None:
            self._changed()

    def put_slice(self, obj: dict[str, Any]) -> None:
        key = _key(obj)
        if key is None:
            return
        self.delete_slice(obj)
        made = _slice(obj)
        if made is not None:
            self._slices[key] = made
            self._slices_of.setdefault(_lower(made.service), set()).add(key)
        self._changed()

    def delete_slice(self, obj: dict[str, Any]) -> None:
        key = _key(obj)
        old = self._slices.pop(key, None) if key is not None else None
        if old is not None and key is not None:
            members = self._slices_of.get(_lower(old.service), set())
            members.discard(key)
            if not members:
                self._slices_of.pop(_lower(old.service), None)
            self._changed()

    def put_namespace(self, obj: dict[str, Any]) -> None:
        name = (obj.get("metadata") or {}).get("name")
        if isinstance(name, str):
            self._namespaces.add(name.lower())
            self._changed()

    def delete_namespace(self, obj: dict[str, Any]) -> None:
        self._namespaces.discard(str((obj.get("metadata") or {}).get("name", "")).lower())
        self._changed()

    def put_pod(self, obj: dict[str, Any]) -> None:
        key = _key(obj)
        if key is None:
            return
        self.delete_pod(obj)
        status = obj.get("status") or {}
        ips = [p.get("ip") for p in status.get("podIPs") or [] if isinstance(p, dict)]
        addresses = tuple(str(ip) for ip in ips or [status.get("podIP")] if ip)
        self._pods[key] = addresses
        for address in addresses:
            self._pod_ips.setdefault(address, set()).add(_lower(key))

    def delete_pod(self, obj: dict[str, Any]) -> None:
        key = _key(obj)
        if key is None:
            return
        for address in self._pods.pop(key, ()):
            pods = self._pod_ips.get(address, set())
            pods.discard(_lower(key))
            if not pods:
                self._pod_ips.pop(address, None)

    # -- lookups (names compared case-insensitively, as the DNS spec says) ---------------

    def namespace_exists(self, namespace: str) -> bool:
        return namespace.lower() in self._namespaces

    def service(self, namespace: str, name: str) -> ServiceEntry | None:
        return self._services.get((namespace.lower(), name.lower()))

    def endpoints(self, service: ServiceEntry) -> list[Endpoint]:
        """The endpoints DNS publishes for ``service``: ready ones, or all with
        ``publishNotReadyAddresses``."""
        found = []
        for key in sorted(self._slices_of.get(_lower((service.namespace, service.name)), ())):
            for endpoint in self._slices[key].endpoints:
                if endpoint.ready or service.publish_not_ready:
                    found.append(endpoint)
        return found

    def services_with_ip(self, address: str) -> list[ServiceEntry]:
        return [s for s in self._services.values() if address in s.cluster_ips]

    def endpoints_with_ip(self, address: str) -> list[tuple[ServiceEntry, Endpoint]]:
        """Each published endpoint on ``address`` with its Service (for ``PTR``)."""
        found = []
        for made in self._slices.values():
            service = self._services.get(_lower(made.service))
            if service is None:
                continue
            for endpoint in made.endpoints:
                if endpoint.address == address and (endpoint.ready or service.publish_not_ready):
                    found.append((service, endpoint))
        return found

    def pod_in_namespace(self, address: str, namespace: str) -> bool:
        return any(pod[0] == namespace.lower() for pod in self._pod_ips.get(address, ()))
