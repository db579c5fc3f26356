"""Pod admission: whether a pod bound to this node fits in what the node has left.

The scheduler already checked that the pod fits, but it may have decided on old information
(two schedulers, a node that shrank, a pod bound by hand through ``spec.nodeName``), so the
kubelet checks again before running anything, as upstream's ``canAdmitPod``: the number of
pods, and the cpu and memory *requests* of the pod against the node's allocatable minus the
requests of the pods already admitted. A pod's request is the larger of its app containers'
sum and its largest init container (they run one at a time), plus the pod overhead.

A pod that does not fit is rejected for good — phase Failed, reason ``OutOfcpu`` /
``OutOfmemory`` / ``OutOfpods`` and upstream's message, e.g. ``Pod was rejected: Node didn't
have enough resource: cpu, requested: 3000, used: 1500, capacity: 4000``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from minikube_py.api.quantities import QuantityError, milli_value, value
from minikube_py.config import NodeConfig
from minikube_py.kubelet import machine

Object = dict[str, Any]


def node_allocatable(node: NodeConfig, directory: Path) -> dict[str, str]:
    """What the node offers to pods: what its Node object reports (``machine.capacity``;
    minikube reserves nothing, so allocatable is capacity), so both sides count alike."""
    directory.mkdir(parents=True, exist_ok=True)
    return machine.capacity(node, directory)


def _amount(resource: str, text: Any) -> int:
    try:
        return milli_value(text) if resource == "cpu" else value(text)
    except QuantityError:
        return 0


def _container_requests(container: Object) -> dict[str, int]:
    requests = (container.get("resources") or {}).get("requests") or {}
    return {r: _amount(r, requests[r]) for r in ("cpu", "memory") if r in requests}


def pod_requests(pod: Object) -> dict[str, int]:
    """The pod's effective requests: cpu in millicores, memory in bytes."""
    spec = pod.get("spec") or {}
    total = {"cpu": 0, "memory": 0}
    for container in spec.get("containers") or []:
        for resource, amount in _container_requests(container).items():
            total[resource] += amount
    for container in spec.get("initContainers") or []:
        for resource, amount in _container_requests(container).items():
            total[resource] = max(total[resource], amount)
    for resource, text in (spec.get("overhead") or {}).items():
        if resource in total:
            total[resource] += _amount(resource, text)
    return total


def admit(
    pod: Object, admitted: Iterable[Object], allocatable: dict[str, str]
) -> tuple[str, str] | None:
    """None if ``pod`` fits next to ``admitted``; else ``(reason, message)`` for the rejection."""
    others = list(admitted)
    capacity_pods = _amount("pods", allocatable.get("pods", "110"))
    if len(others) + 1 > capacity_pods:
        return "OutOfpods", _message("pods", 1, len(others), capacity_pods)
    wanted = pod_requests(pod)
    if not any(wanted.values()):
        return None  # asks for nothing: fits whatever the others use (no sum over them)
    used = {"cpu": 0, "memory": 0}
    for other in others:
        for resource, amount in pod_requests(other).items():
            used[resource] += amount
    for resource in ("cpu", "memory"):
        capacity = _amount(resource, allocatable.get(resource, "0"))
        if wanted[resource] and used[resource] + wanted[resource] > capacity:
            return f"OutOf{resource}", _message(
                resource, wanted[resource], used[resource], capacity
            )
    return None


def _message(resource: str, requested: int, used: int, capacity: int) -> str:
    return (
        f"Node didn't have enough resource: {resource}, requested: {requested}, "
        f"used: {used}, capacity: {capacity}"
    )
