"""An Endpoints object's ``subsets``: addresses grouped by the ports they serve.

The core/v1 ``Endpoints`` object (the older of the two endpoint APIs; EndpointSlices are the
newer) lists a Service's backends as *subsets*: each a set of addresses — ready ones in
``addresses``, the others in ``notReadyAddresses`` — and the ports that every one of them
serves. Pods that resolve a named ``targetPort`` to different numbers therefore land in
different subsets.

``desired_subsets`` builds them as upstream's endpoints controller does: one single-address,
single-port subset per (pod, service port), then *repacked* (``RepackSubsets``) so addresses
that serve the same ports share a subset; an address both ready and not ready for a port
counts as ready. Upstream orders subsets and ports by a hash of their Go structs; here the
order is by content instead — equally arbitrary to a reader, and just as stable, so an
unchanged set of pods gives an equal list and no write.

An Endpoints object holds at most ``MAX_CAPACITY`` addresses; beyond that ``truncate`` keeps
ready ones first, spread in proportion over the subsets, as upstream.
"""

from __future__ import annotations

import json
import math
from typing import Any

from minikube_py.client.protocol import Object
from minikube_py.controllers.endpoints_pods import (
    ResolvedPort,
    is_headless,
    is_pod_ready,
    pod_address,
    resolve_ports,
    should_pod_be_in_endpoints,
    should_set_hostname,
    target_ref,
)

MAX_CAPACITY = 1000  # addresses per Endpoints object (upstream's maxCapacity)
OVER_CAPACITY = "endpoints.kubernetes.io/over-capacity"
TRUNCATED = "truncated"

_NO_PORT = ("", -1, "", None)  # upstream's sentinel port: a headless Service's portless subset
PortKey = tuple[str, int, str, str | None]
AddressKey = tuple[str, str]  # (ip, pod uid): two pods may share an IP over time


def endpoint_address(pod: Object, service: Object) -> Object | None:
    ip = pod_address(pod)
    if ip is None:
        return None
    address: Object = {"ip": ip}
    if should_set_hostname(pod, service):
        address["hostname"] = pod["spec"]["hostname"]
    if node := (pod.get("spec") or {}).get("nodeName"):
        address["nodeName"] = node
    address["targetRef"] = target_ref(pod)
    return address


def _port_key(port: ResolvedPort) -> PortKey:
    return (port.name, port.port, port.protocol, port.app_protocol)


def _port_object(key: PortKey) -> Object:
    name, number, protocol, app_protocol = key
    port: Object = {"port": number, "protocol": protocol}
    if name:
        port = {"name": name, **port}
    if app_protocol is not None:
        port["appProtocol"] = app_protocol
    return port


def desired_subsets(service: Object, pods: list[Object]) -> list[Object]:
    """The subsets the Service's selected ``pods`` make, repacked and in a stable order."""
    publish_not_ready = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
    has_ports = bool((service.get("spec") or {}).get("ports"))
    entries: list[tuple[Object, bool, PortKey]] = []
    for pod in pods:
        if not should_pod_be_in_endpoints(pod, publish_not_ready):
            continue
        address = endpoint_address(pod, service)
        if address is None:
            continue
        ready = publish_not_ready or is_pod_ready(pod)
        if not has_ports:
            if is_headless(service):  # a headless Service may have no ports at all
                entries.append((address, ready, _NO_PORT))
            continue
        entries.extend((address, ready, _port_key(port)) for port in resolve_ports(service, pod))
    return repack(entries)


def repack(entries: list[tuple[Object, bool, PortKey]]) -> list[Object]:
    """Group (address, ready, port) entries into subsets of addresses sharing their ports."""
    addresses: dict[AddressKey, Object] = {}
    readiness_by_port: dict[PortKey, dict[AddressKey, bool]] = {}
    for address, ready, port in entries:
        key = (address["ip"], (address.get("targetRef") or {}).get("uid", ""))
        addresses.setdefault(key, address)
        readiness = readiness_by_port.setdefault(port, {})
        readiness[key] = readiness.get(key, False) or ready  # ready for a port wins
    ports_by_members: dict[frozenset[tuple[AddressKey, bool]], list[PortKey]] = {}
    for port, readiness in readiness_by_port.items():
        ports_by_members.setdefault(frozenset(readiness.items()), []).append(port)
    subsets = []
    for members, ports in ports_by_members.items():
        subset: Object = {}
        ready_keys = sorted(key for key, ready in members if ready)
        not_ready_keys = sorted(key for key, ready in members if not ready)
        if ready_keys:
            subset["addresses"] = [addresses[key] for key in ready_keys]
        if not_ready_keys:
            subset["notReadyAddresses"] = [addresses[key] for key in not_ready_keys]
        real_ports = sorted((port for port in ports if port != _NO_PORT), key=_port_order)
        if real_ports:
            subset["ports"] = [_port_object(port) for port in real_ports]
        subsets.append(subset)
    return sorted(subsets, key=_order)


def _port_order(key: PortKey) -> tuple[str, int, str, str]:
    return (key[0], key[1], key[2], key[3] or "")


def _order(subset: Object) -> str:
    return json.dumps(subset, sort_keys=True)


def normalized(subsets: list[Object] | None) -> list[Object]:
    """Subsets as ``desired_subsets`` would order them, without the target pods'
    resourceVersions (a pod's unrelated change must not rewrite its Endpoints) and without
    empty lists: what two equal sets of subsets compare equal as."""
    result = []
    for subset in subsets or []:
        clean: Object = {}
        for field in ("addresses", "notReadyAddresses"):
            if entries := [_without_version(a) for a in subset.get(field) or []]:
                clean[field] = sorted(entries, key=_address_order)
        if ports := list(subset.get("ports") or []):
            clean["ports"] = sorted(ports, key=lambda p: _port_order(_key_of(p)))
        result.append(clean)
    return sorted(result, key=_order)


def _key_of(port: Object) -> PortKey:
    return (
        str(port.get("name") or ""),
        int(port.get("port") or 0),
        str(port.get("protocol") or "TCP"),
        port.get("appProtocol"),
    )


def _without_version(address: Object) -> Object:
    reference = address.get("targetRef")
    if not isinstance(reference, dict) or "resourceVersion" not in reference:
        return address
    return {**address, "targetRef": {k: v for k, v in reference.items() if k != "resourceVersion"}}


def _address_order(address: Object) -> tuple[str, str]:
    return (str(address.get("ip", "")), str((address.get("targetRef") or {}).get("uid", "")))


def truncate(subsets: list[Object]) -> tuple[list[Object], bool]:
    """At most ``MAX_CAPACITY`` addresses: not-ready ones go first; if the ready ones alone
    are too many, only ready ones stay. Each subset keeps its share (rounded up, the last
    ones get what is left). The subsets, and whether anything was cut."""
    total_ready = sum(len(s.get("addresses") or []) for s in subsets)
    total_not_ready = sum(len(s.get("notReadyAddresses") or []) for s in subsets)
    if total_ready + total_not_ready <= MAX_CAPACITY:
        return subsets, False
    cut_ready = total_ready > MAX_CAPACITY
    room = MAX_CAPACITY if cut_ready else MAX_CAPACITY - total_ready
    total = total_ready if cut_ready else total_not_ready
    left = room
    result = []
    for subset in subsets:
        field = "addresses" if cut_ready else "notReadyAddresses"
        entries: list[Any] = subset.get(field) or []
        share = min(math.ceil(len(entries) / total * room), left)
        kept = {**subset, field: entries[:share]}
        if cut_ready:
            kept.pop("notReadyAddresses", None)
        for name in ("addresses", "notReadyAddresses"):
            if name in kept and not kept[name]:
                del kept[name]
        left -= share  # room < total, so a share never exceeds its subset's count
        result.append(kept)
    return result, True
