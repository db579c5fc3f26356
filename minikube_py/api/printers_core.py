"""Printer columns of the kinds people look at most: pods and nodes.

The pod's STATUS is the subtle one. It is not ``status.phase``: ``kubectl get pods`` shows the
most telling reason it can find — an init container's progress (``Init:1/2``), a waiting
container's reason (``CrashLoopBackOff``, ``ImagePullBackOff``), a terminated one's
(``Completed``, ``Error``, ``ExitCode:3``), ``Terminating`` once a delete has begun — in the
order upstream's ``printPod`` tries them. READY counts ready containers, RESTARTS adds how
long ago the last restart happened ("3 (5m ago)"). A node's STATUS is its Ready condition,
with ``SchedulingDisabled`` added once it is cordoned; ROLES come from its
``node-role.kubernetes.io/<role>`` labels.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from minikube_py.api.printers import (
    AGE,
    NAME,
    Obj,
    condition,
    dig,
    integer,
    items,
    mapping,
    parse_time,
    since,
    text,
)
from minikube_py.api.resources import CellFunction, Column


def _restartable(container: Any) -> bool:
    """A sidecar: an init container with ``restartPolicy: Always`` that keeps running."""
    return text(container, "restartPolicy") == "Always"


def _finished_at(status: Any) -> datetime | None:
    return parse_time(dig(status, "lastState", "terminated", "finishedAt"))


def _later(current: datetime | None, candidate: datetime | None) -> datetime | None:
    if candidate is not None and (current is None or candidate > current):
        return candidate
    return current


def _terminated_reason(terminated: Any, prefix: str = "") -> str:
    if text(terminated, "reason"):
        return prefix + text(terminated, "reason")
    if integer(terminated, "signal"):
        return f"{prefix}Signal:{integer(terminated, 'signal')}"
    return f"{prefix}ExitCode:{integer(terminated, 'exitCode')}"


def pod_summary(pod: Obj) -> tuple[int, int, str, str]:
    """(ready, total, STATUS, RESTARTS) exactly as upstream's ``printPod`` computes them."""
    init_specs = {text(c, "name"): c for c in items(pod, "spec", "initContainers")}
    total = len(items(pod, "spec", "containers"))
    total += sum(1 for c in init_specs.values() if _restartable(c))
    ready = restarts = sidecar_restarts = 0
    last_restart: datetime | None = None
    last_sidecar_restart: datetime | None = None
    reason = text(pod, "status", "reason") or text(pod, "status", "phase")
    cond = condition(pod, "PodScheduled")
    if cond is not None and cond.get("reason") == "SchedulingGated":
        reason = "SchedulingGated"

    initializing = False
    n_init = len(items(pod, "spec", "initContainers"))
    for i, status in enumerate(items(pod, "status", "initContainerStatuses")):
        restarts += integer(status, "restartCount")
        last_restart = _later(last_restart, _finished_at(status))
        sidecar = _restartable(init_specs.get(text(status, "name")))
        if sidecar:
            sidecar_restarts += integer(status, "restartCount")
            last_sidecar_restart = _later(last_sidecar_restart, _finished_at(status))
        terminated, waiting = dig(status, "state", "terminated"), dig(status, "state", "waiting")
        if terminated is not None and integer(terminated, "exitCode") == 0:
            continue
        if sidecar and dig(status, "started") is True:
            ready += 1 if dig(status, "ready") is True else 0
            continue
        if terminated is not None:
            reason = _terminated_reason(terminated, "Init:")
        elif waiting is not None and text(waiting, "reason") not in ("", "PodInitializing"):
            reason = "Init:" + text(waiting, "reason")
        else:
            reason = f"Init:{i}/{n_init}"
        initializing = True
        break

    initialized = condition(pod, "Initialized")
    if not initializing or (initialized is not None and initialized.get("status") == "True"):
        restarts, last_restart = sidecar_restarts, last_sidecar_restart
        has_running = False
        for status in reversed(items(pod, "status", "containerStatuses")):
            restarts += integer(status, "restartCount")
            last_restart = _later(last_restart, _finished_at(status))
            terminated, waiting = (
                dig(status, "state", "terminated"),
                dig(status, "state", "waiting"),
            )
            if waiting is not None and text(waiting, "reason"):
                reason = text(waiting, "reason")
            elif terminated is not None:
                reason = _terminated_reason(terminated)
            elif dig(status, "ready") is True and dig(status, "state", "running") is not None:
                has_running = True
                ready += 1
        # A pod whose last container completed while another still runs is not "Completed".
        if reason == "Completed" and has_running:
            pod_ready = condition(pod, "Ready")
            reason = "Running" if pod_ready and pod_ready.get("status") == "True" else "NotReady"

    if dig(pod, "metadata", "deletionTimestamp") is not None:
        if text(pod, "status", "reason") == "NodeLost":
            reason = "Unknown"
        elif text(pod, "status", "phase") not in ("Succeeded", "Failed"):
            reason = "Terminating"

    restarts_text = str(restarts)
    if restarts and last_restart is not None:
        restarts_text = f"{restarts} ({since(last_restart)} ago)"
    return ready, total, reason, restarts_text


def _pod_ip(pod: Obj) -> str:
    # Fall back to the singular podIP for statuses written without the plural list.
    return text(pod, "status", "podIPs", 0, "ip") or text(pod, "status", "podIP") or "<none>"


def _readiness_gates(pod: Obj) -> str:
    gates = items(pod, "spec", "readinessGates")
    if not gates:
        return "<none>"
    true = 0
    for gate in gates:
        cond = condition(pod, text(gate, "conditionType"))
        true += 1 if cond is not None and cond.get("status") == "True" else 0
    return f"{true}/{len(gates)}"


POD_COLUMNS = (
    NAME,
    Column(
        "Ready",
        description="The aggregate readiness state of this pod for accepting traffic.",
        cell=lambda p: f"{pod_summary(p)[0]}/{pod_summary(p)[1]}",
    ),
    Column(
        "Status",
        description="The aggregate status of the containers in this pod.",
        cell=lambda p: pod_summary(p)[2],
    ),
    Column(
        "Restarts",
        description="The number of times the containers in this pod have been "
        "restarted and when the last container in this pod has restarted.",
        cell=lambda p: pod_summary(p)[3],
    ),
    AGE,
    Column("IP", priority=1, description="IP address allocated to the pod.", cell=_pod_ip),
    Column(
        "Node",
        priority=1,
        description="The node the pod is bound to.",
        cell=lambda p: text(p, "spec", "nodeName") or "<none>",
    ),
    Column(
        "Nominated Node",
        priority=1,
        description="The node preemption nominated.",
        cell=lambda p: text(p, "status", "nominatedNodeName") or "<none>",
    ),
    Column(
        "Readiness Gates",
        priority=1,
        description="Pod readiness gates that are true.",
        cell=_readiness_gates,
    ),
)


def _node_status(node: Obj) -> str:
    ready = condition(node, "Ready")
    states = [
        "Unknown" if ready is None else "Ready" if ready.get("status") == "True" else "NotReady"
    ]
    if dig(node, "spec", "unschedulable") is True:
        states.append("SchedulingDisabled")
    return ",".join(states)


_ROLE_PREFIX = "node-role.kubernetes.io/"


def _node_roles(node: Obj) -> str:
    roles: set[str] = set()
    for key, value in mapping(node, "metadata", "labels").items():
        if key.startswith(_ROLE_PREFIX) and key != _ROLE_PREFIX:
            roles.add(key.removeprefix(_ROLE_PREFIX))
        elif key == "kubernetes.io/role" and value:
            roles.add(str(value))
    return ",".join(sorted(roles)) or "<none>"


def _node_address(kind: str) -> CellFunction:
    def cell(node: Obj) -> str:
        for address in items(node, "status", "addresses"):
            if text(address, "type") == kind:
                return text(address, "address")
        return "<none>"

    return cell


def _node_info(field: str) -> CellFunction:
    return lambda node: text(node, "status", "nodeInfo", field) or "<unknown>"


NODE_COLUMNS = (
    NAME,
    Column("Status", description="The status of the node", cell=_node_status),
    Column("Roles", description="The roles of the node", cell=_node_roles),
    AGE,
    Column(
        "Version",
        description="Kubelet Version reported by the node.",
        cell=lambda n: text(n, "status", "nodeInfo", "kubeletVersion"),
    ),
    Column(
        "Internal-IP",
        priority=1,
        description="List of addresses reachable to the node.",
        cell=_node_address("InternalIP"),
    ),
    Column(
        "External-IP",
        priority=1,
        description="List of addresses reachable to the node.",
        cell=_node_address("ExternalIP"),
    ),
    Column(
        "OS-Image",
        priority=1,
        description="OS Image reported by the node.",
        cell=_node_info("osImage"),
    ),
    Column(
        "Kernel-Version",
        priority=1,
        description="Kernel Version reported by the node.",
        cell=_node_info("kernelVersion"),
    ),
    Column(
        "Container-Runtime",
        priority=1,
        description="ContainerRuntime Version reported by the node.",
        cell=_node_info("containerRuntimeVersion"),
    ),
)
