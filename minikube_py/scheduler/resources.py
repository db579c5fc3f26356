"""What a pod asks of a node: its resource requests and host ports, computed as upstream does.

A pod's *effective request* is not simply the sum of its containers. Init containers run one
after another before the app containers, so an ordinary init container only needs to fit on its
own: the pod needs the larger of "the biggest init container" and "all app containers". Sidecars
(init containers with ``restartPolicy: Always``) keep running beside everything started after
them, so their requests accumulate — into the app containers' total and into every later init
container's need. ``spec.overhead`` (the sandbox's own cost, set by a RuntimeClass) is added on
top. CPU is counted in millicores, every other resource in whole units (bytes for memory).
"""

from __future__ import annotations

import functools
from collections import Counter
from typing import Any

from minikube_py.api.quantities import milli_value, value

Object = dict[str, Any]
HostPort = tuple[str, str, int]  # (protocol, host IP, port)
WILDCARD_IP = "0.0.0.0"


def amount(resource: str, quantity: Any) -> int:
    if isinstance(quantity, str):  # the usual case: a few distinct strings, parsed once each
        return _parsed(resource == "cpu", quantity)
    return milli_value(quantity) if resource == "cpu" else value(quantity)


@functools.lru_cache(maxsize=4096)
def _parsed(milli: bool, quantity: str) -> int:
    return milli_value(quantity) if milli else value(quantity)


def resource_list(values: Object | None) -> Counter[str]:
    return Counter({name: amount(name, q) for name, q in (values or {}).items()})


def _container_requests(container: Object) -> Counter[str]:
    return resource_list((container.get("resources") or {}).get("requests"))


def _max_into(target: Counter[str], other: Counter[str]) -> None:
    for name, amount_ in other.items():
        if amount_ > target.get(name, 0):
            target[name] = amount_


def pod_requests(pod: Object) -> Counter[str]:
    """The pod's effective requests, by resource name (only those above zero)."""
    spec = pod.get("spec") or {}
    total: Counter[str] = Counter()
    for container in spec.get("containers") or []:
        total.update(_container_requests(container))
    sidecars: Counter[str] = Counter()
    init_peak: Counter[str] = Counter()
    for container in spec.get("initContainers") or []:
        own = _container_requests(container)
        if container.get("restartPolicy") == "Always":
            total.update(own)
            sidecars.update(own)
            need = Counter(sidecars)
        else:
            need = own + sidecars
        _max_into(init_peak, need)
    _max_into(total, init_peak)
    total.update(resource_list(spec.get("overhead")))
    return +total


def allocatable_of(node: Object) -> dict[str, int]:
    status = node.get("status") or {}
    return dict(resource_list(status.get("allocatable") or status.get("capacity")))


def host_ports(pod: Object) -> list[HostPort]:
    ports: list[HostPort] = []
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            number = int(port.get("hostPort") or 0)
            if number > 0:
                ip = port.get("hostIP") or WILDCARD_IP
                ports.append((port.get("protocol") or "TCP", ip, number))
    return ports


def ports_conflict(wanted: HostPort, used: HostPort) -> bool:
    """Same protocol and port, and the addresses overlap (the wildcard overlaps everything)."""
    if wanted[0] != used[0] or wanted[2] != used[2]:
        return False
    return WILDCARD_IP in (wanted[1], used[1]) or wanted[1] == used[1]


def owner_uid(pod: Object) -> str:
    for ref in (pod.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid") or "")
    return ""


def tolerates(toleration: Object, taint: Object) -> bool:
    """Upstream's ToleratesTaint: empty effect matches all, Exists matches any value."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True  # an empty key with Exists tolerates every taint
    return operator == "Equal" and (toleration.get("value") or "") == (taint.get("value") or "")
