"""``kubectl describe pod``: a pod's placement, its containers' states, volumes and events.

The pod's own fields come first (node, start time, labels, status, addresses, owner), then
each container as its spec and its status merged: image and image ID, ports, command, the
current and last state (so a crash shows ``Last State: Terminated`` with its exit code),
readiness, restarts, resources, probes, environment and mounts. Then the pod's conditions,
volumes, QoS class, node selector, tolerations and events. ``pod_template`` prints the same
container and volume sections for the pod template of a Deployment or a ReplicaSet.
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.printers import dig, format_selector, items, mapping, since, text
from minikube_py.api.quantities import QuantityError, parse_quantity
from minikube_py.client.discovery import Resource
from minikube_py.client.protocol import Object
from minikube_py.kubectl.describe_containers import containers, resources, volumes
from minikube_py.kubectl.describe_writer import (
    DescribeWriter,
    annotations_multiline,
    controlled_by,
    fetch_events,
    go_time,
    labels_multiline,
    new_description,
    tolerations_multiline,
)
from minikube_py.kubectl.session import Session

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"


async def describe_pod(
    session: Session, resource: Resource, pod: Object, show_events: bool = True
) -> str:
    # kubectl leaves the kind out of the event search for pods, and looks for a static pod's
    # events under the uid of its manifest (its mirror pod annotation).
    mirror = text(pod, "metadata", "annotations", MIRROR_ANNOTATION)
    events = await fetch_events(session, pod, None, uid=mirror, wanted=show_events)
    meta, spec, status = mapping(pod, "metadata"), mapping(pod, "spec"), mapping(pod, "status")
    fields = [("Priority", spec["priority"])] if isinstance(spec.get("priority"), int) else []
    for field, label in (
        ("priorityClassName", "Priority Class Name"),
        ("runtimeClassName", "Runtime Class Name"),
        ("serviceAccountName", "Service Account"),
    ):
        if text(spec, field):
            fields.append((label, text(spec, field)))
    node = text(spec, "nodeName")
    fields.append(("Node", f"{node}/{text(status, 'hostIP')}" if node else "<none>"))
    if status.get("startTime"):
        fields.append(("Start Time", go_time(status["startTime"])))
    w = new_description(meta, *fields)
    phase = text(status, "phase")
    if meta.get("deletionTimestamp") and phase not in ("Failed", "Succeeded"):
        w.write(0, f"Status:\tTerminating (lasts {since(meta['deletionTimestamp'])})\n")
        w.write(0, f"Termination Grace Period:\t{meta.get('deletionGracePeriodSeconds', 0)}s\n")
    else:
        w.write(0, f"Status:\t{phase}\n")
    for field in ("reason", "message"):
        if text(status, field):
            w.write(0, f"{field.title()}:\t{text(status, field)}\n")
    seccomp = dig(spec, "securityContext", "seccompProfile")
    if isinstance(seccomp, dict):
        w.write(0, f"SeccompProfile:\t{text(seccomp, 'type')}\n")
        if text(seccomp, "type") == "Localhost":
            w.write(0, f"LocalhostProfile:\t{text(seccomp, 'localhostProfile')}\n")
    w.write(0, f"IP:\t{text(status, 'podIP')}\n")
    ips = items(status, "podIPs")
    if ips:
        w.write(0, "IPs:\n")
        for entry in ips:
            w.write(1, f"IP:\t{text(entry, 'ip')}\n")
    else:
        w.write(0, "IPs:\t<none>\n")
    controlled_by(w, pod)
    if text(status, "nominatedNodeName"):
        w.write(0, f"NominatedNodeName:\t{text(status, 'nominatedNodeName')}\n")
    if isinstance(spec.get("resources"), dict):
        w.write(0, "Resources:\n")
        resources(w, spec["resources"], 1)
    if items(spec, "initContainers"):
        containers(
            w,
            "Init Containers",
            items(spec, "initContainers"),
            items(status, "initContainerStatuses"),
            "",
            pod,
        )
    containers(
        w, "Containers", items(spec, "containers"), items(status, "containerStatuses"), "", pod
    )
    if items(spec, "ephemeralContainers"):
        containers(
            w,
            "Ephemeral Containers",
            items(spec, "ephemeralContainers"),
            items(status, "ephemeralContainerStatuses"),
            "",
            pod,
        )
    conditions = {text(c, "type"): text(c, "status") for c in items(status, "conditions")}
    if items(spec, "readinessGates"):
        w.write(0, "Readiness Gates:\n  Type\tStatus\n")
        for gate in items(spec, "readinessGates"):
            kind = text(gate, "conditionType")
            w.write(1, f"{kind} \t{conditions.get(kind, '<none>')} \n")
    if conditions:
        w.write(0, "Conditions:\n  Type\tStatus\n")
        for condition in items(status, "conditions"):
            w.write(1, f"{text(condition, 'type')} \t{text(condition, 'status')} \n")
    volumes(w, items(spec, "volumes"), "")
    w.write(0, f"QoS Class:\t{text(status, 'qosClass') or qos_class(pod)}\n")
    labels_multiline(w, "Node-Selectors", spec.get("nodeSelector"))
    tolerations_multiline(w, "Tolerations", spec.get("tolerations"))
    topology_spread(w, items(spec, "topologySpreadConstraints"), "")
    return w.render(events)


def qos_class(pod: Object) -> str:
    """The QoS class of a pod whose status does not carry one (``qos.ComputePodQOS``)."""
    requests: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    guaranteed = True
    for container in items(pod, "spec", "containers") + items(pod, "spec", "initContainers"):
        own_requests = mapping(container, "resources", "requests")
        own_limits = mapping(container, "resources", "limits")
        for name in ("cpu", "memory"):
            if _nonzero(own_requests.get(name)):
                requests[name] = True
            if _nonzero(own_limits.get(name)):
                limits[name] = True
        if not all(_nonzero(own_limits.get(name)) for name in ("cpu", "memory")):
            guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    return "Guaranteed" if guaranteed and len(limits) == 2 else "Burstable"


def _nonzero(quantity: Any) -> bool:
    try:
        return quantity is not None and parse_quantity(quantity) != 0
    except QuantityError:
        return False


def pod_template(w: DescribeWriter, template: Any) -> None:
    """``Pod Template:`` of a workload: its labels, containers, volumes and scheduling."""
    w.write(0, "Pod Template:\n")
    if not isinstance(template, dict):
        w.write(1, "<unset>")
        return
    meta, spec = mapping(template, "metadata"), mapping(template, "spec")
    labels_multiline(w, "  Labels", meta.get("labels"))
    if mapping(meta, "annotations"):
        annotations_multiline(w, "  Annotations", meta["annotations"])
    if text(spec, "serviceAccountName"):
        w.write(1, f"Service Account:\t{text(spec, 'serviceAccountName')}\n")
    if items(spec, "initContainers"):
        containers(w, "Init Containers", items(spec, "initContainers"), [], "  ", None)
    containers(w, "Containers", items(spec, "containers"), [], "  ", None)
    volumes(w, items(spec, "volumes"), "  ")
    topology_spread(w, items(spec, "topologySpreadConstraints"), "  ")
    if text(spec, "priorityClassName"):
        w.write(1, f"Priority Class Name:\t{text(spec, 'priorityClassName')}\n")
    labels_multiline(w, "  Node-Selectors", spec.get("nodeSelector"))
    tolerations_multiline(w, "  Tolerations", spec.get("tolerations"))


def topology_spread(w: DescribeWriter, constraints: list[Any], space: str) -> None:
    """``zone:DoNotSchedule when max skew 1 is exceeded for selector app=web``, a line each."""
    if not constraints:
        return
    w.write(0, f"{space}Topology Spread Constraints:\t")
    for i, constraint in enumerate(sorted(constraints, key=lambda c: text(c, "topologyKey"))):
        if i:
            w.write(0, f"{space}\t")
        line = f"{text(constraint, 'topologyKey')}:{text(constraint, 'whenUnsatisfiable')}"
        line += f" when max skew {dig(constraint, 'maxSkew', default=0)} is exceeded"
        if isinstance(constraint.get("labelSelector"), dict):
            line += f" for selector {format_selector(constraint['labelSelector'])}"
        w.write(0, line + "\n")
