"""Service addresses: ClusterIPs and NodePorts, handed out when a Service is written.

Upstream's service registry allocates a ClusterIP from the service range and a NodePort from
30000-32767 as part of creating the Service, so ``kubectl get svc`` shows them at once and two
Services can never share one. Here the range is a loopback block (DESIGN.md: 127.96.0.0/16,
``kubernetes`` = .1, DNS = .10), so every ClusterIP is an address the proxy can really listen
on. What is taken is read from the stored Services under a lock; a requested address or port
that is taken, or outside its range, is a 422 as upstream.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
from collections.abc import Awaitable, Callable
from typing import Any

from minikube_py.api import errors
from minikube_py.api.errors import Cause
from minikube_py.api.resources import ResourceType

ListServices = Callable[[], Awaitable[list[dict[str, Any]]]]
NODE_PORTS = range(30000, 32768)


class ServiceAllocator:
    def __init__(self, list_services: ListServices, *, network: str = "127.96.0.0/16") -> None:
        self._list = list_services
        self.network = ipaddress.ip_network(network)
        hosts = self.network.hosts()
        self.kubernetes_ip = str(next(hosts))  # .1
        self.dns_ip = str(self.network.network_address + 10)
        self.lock = asyncio.Lock()

    async def allocate(
        self, rt: ResourceType, service: dict[str, Any], *, old: dict[str, Any] | None
    ) -> None:
        """Fill in ``spec.clusterIP(s)`` and node ports; the caller holds ``lock``."""
        spec = service.setdefault("spec", {})
        me = (service["metadata"].get("namespace"), service["metadata"].get("name"))
        used_ips: set[Any] = set()
        used_ports: set[Any] = set()
        for other in await self._list():
            metadata = other.get("metadata", {})
            if (metadata.get("namespace"), metadata.get("name")) == me:
                continue
            other_spec = other.get("spec") or {}
            used_ips.update(other_spec.get("clusterIPs") or [other_spec.get("clusterIP")])
            used_ports.update(p.get("nodePort") for p in other_spec.get("ports") or [])
        name = service["metadata"].get("name", "")
        if spec.get("type") == "ExternalName":
            spec.pop("clusterIP", None)
            spec.pop("clusterIPs", None)
        elif old is None or not (old.get("spec") or {}).get("clusterIP"):
            spec["clusterIP"] = self._cluster_ip(rt, name, spec.get("clusterIP"), used_ips)
            spec["clusterIPs"] = [spec["clusterIP"]]
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            self._node_ports(rt, name, spec, used_ports)

    def _cluster_ip(self, rt: ResourceType, name: str, wanted: Any, used: set[Any]) -> str:
        if wanted == "None":
            return "None"  # headless
        if wanted:
            try:
                address = ipaddress.ip_address(str(wanted))
            except ValueError:
                raise _invalid(
                    rt,
                    name,
                    "spec.clusterIPs",
                    f'[]string{{"{wanted}"}}',
                    "must be a valid IP address",
                ) from None
            if address not in self.network:
                raise _invalid(
                    rt,
                    name,
                    "spec.clusterIPs",
                    f'[]string{{"{wanted}"}}',
                    f"failed to allocate IP {wanted}: the provided IP ({wanted}) is "
                    f"not in the valid range. The range of valid IPs is {self.network}",
                )
            if str(address) in used:
                raise _invalid(
                    rt,
                    name,
                    "spec.clusterIPs",
                    f'[]string{{"{wanted}"}}',
                    f"failed to allocate IP {wanted}: provided IP is already allocated",
                )
            return str(address)
        reserved = {self.kubernetes_ip, self.dns_ip}
        for address in self.network.hosts():
            text = str(address)
            if text not in used and text not in reserved:
                return text
        raise errors.ApiError(
            500,
            "InternalError",
            "Internal error occurred: failed to allocate a serviceIP: range is full",
        )

    def _node_ports(
        self, rt: ResourceType, name: str, spec: dict[str, Any], used: set[Any]
    ) -> None:
        for index, port in enumerate(spec.get("ports") or []):
            if not isinstance(port, dict):
                continue
            wanted = port.get("nodePort")
            if wanted:
                if wanted not in NODE_PORTS:
                    raise _invalid(
                        rt,
                        name,
                        f"spec.ports[{index}].nodePort",
                        str(wanted),
                        f"provided port is not in the valid range. The range of valid "
                        f"ports is {NODE_PORTS.start}-{NODE_PORTS.stop - 1}",
                    )
                if wanted in used:
                    raise _invalid(
                        rt,
                        name,
                        f"spec.ports[{index}].nodePort",
                        str(wanted),
                        "provided port is already allocated",
                    )
            else:
                free = [p for p in NODE_PORTS if p not in used]
                if not free:
                    raise errors.internal("failed to allocate a nodePort: range is full")
                port["nodePort"] = wanted = random.choice(free)
            used.add(wanted)


def _invalid(rt: ResourceType, name: str, field: str, value: str, message: str) -> errors.ApiError:
    return errors.invalid(
        rt, name, [Cause("FieldValueInvalid", f"Invalid value: {value}: {message}", field)]
    )
