"""The parts of an EndpointSlice: its endpoints, ports, labels and owner.

An EndpointSlice (``discovery.k8s.io/v1``) lists some endpoints of one Service that share
one list of ``ports``. Each endpoint is one pod: its address, its ``conditions`` (``ready``;
``serving`` = the pod is Ready; ``terminating`` = it is being deleted — terminating pods stay
listed, not ready, so proxies can drain them), its ``nodeName``, the node's ``zone``, a
``targetRef`` to the pod and, for pods whose subdomain names the Service, a ``hostname``.

A slice made by the EndpointSlice controller is named ``<service>-<random>``, owned by its
Service (so the garbage collector removes it with the Service), and labelled with the
Service's labels plus ``kubernetes.io/service-name`` and
``endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io`` — the labels
readers select a Service's slices by. These builders mirror upstream's ``k8s.io/endpointslice``
``utils.go``; ``endpoints_slices.py`` plans with them.
"""

from __future__ import annotations

from typing import Any

from minikube_py.client.protocol import Object
from minikube_py.controllers.endpoints_pods import (
    ResolvedPort,
    is_headless,
    is_pod_ready,
    pod_address,
    should_set_hostname,
    target_ref,
)

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
CONTROLLER_NAME = "endpointslice-controller.k8s.io"
HEADLESS_LABEL = "service.kubernetes.io/headless"
ZONE_LABEL = "topology.kubernetes.io/zone"
ADDRESS_TYPE = "IPv4"  # the cluster is single-stack IPv4
_RESERVED = frozenset({SERVICE_NAME_LABEL, MANAGED_BY_LABEL, HEADLESS_LABEL})

EndpointKey = tuple[tuple[str, ...], str, str, str]
PortsKey = tuple[tuple[str, int, str, str], ...]


def _meta(obj: Object) -> dict[str, Any]:
    return obj.get("metadata") or {}


def slice_ports(ports: list[ResolvedPort]) -> list[Object]:
    made = []
    for port in ports:
        entry: Object = {"name": port.name, "port": port.port, "protocol": port.protocol}
        if port.app_protocol is not None:
            entry["appProtocol"] = port.app_protocol
        made.append(entry)
    return made


def ports_key(ports: list[Object] | None) -> PortsKey:
    """What makes two lists of ports the same, whatever their order."""
    return tuple(
        sorted(
            (
                str(p.get("name") or ""),
                int(p.get("port") or 0),
                str(p.get("protocol") or "TCP"),
                str(p.get("appProtocol") or ""),
            )
            for p in ports or []
        )
    )


def pod_endpoint(pod: Object, node: Object | None, service: Object) -> Object:
    """The endpoint of one pod (upstream's podToEndpoint)."""
    serving = is_pod_ready(pod)
    terminating = bool(_meta(pod).get("deletionTimestamp"))
    publish = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
    address = pod_address(pod)
    endpoint: Object = {
        "addresses": [address] if address else [],
        # ready is never true for a terminating pod, unless the Service publishes all
        "conditions": {
            "ready": publish or (serving and not terminating),
            "serving": serving,
            "terminating": terminating,
        },
    }
    if should_set_hostname(pod, service):
        endpoint["hostname"] = pod["spec"]["hostname"]
    endpoint["targetRef"] = target_ref(pod)
    if node_name := (pod.get("spec") or {}).get("nodeName"):
        endpoint["nodeName"] = node_name
    if node is not None and (zone := (_meta(node).get("labels") or {}).get(ZONE_LABEL)):
        endpoint["zone"] = zone
    return endpoint


def endpoint_key(endpoint: Object) -> EndpointKey:
    """What makes two endpoints the same one (upstream's hashEndpoint)."""
    reference = endpoint.get("targetRef") or {}
    return (
        tuple(sorted(endpoint.get("addresses") or [])),
        str(endpoint.get("hostname") or ""),
        str(reference.get("namespace") or ""),
        str(reference.get("name") or ""),
    )


def same_beyond_key(one: Object, other: Object) -> bool:
    """Whether two endpoints of the same key agree on everything else a reader sees."""
    for field in ("nodeName", "zone"):
        if one.get(field) != other.get(field):
            return False
    conditions, others = one.get("conditions") or {}, other.get("conditions") or {}
    if any(conditions.get(c) != others.get(c) for c in ("ready", "serving", "terminating")):
        return False
    return _unversioned(one.get("targetRef")) == _unversioned(other.get("targetRef"))


def _unversioned(reference: Object | None) -> Object:
    """A reference without its resourceVersion: a pod's unrelated change is no change."""
    return {k: v for k, v in (reference or {}).items() if k != "resourceVersion"}


def slice_labels(service: Object, existing: Object | None = None) -> tuple[dict[str, str], bool]:
    """The labels a slice of ``service`` carries (its Service's, but the reserved ones, plus
    the service name, manager and headless marker); and whether ``existing``'s differ in the
    ones copied from the Service."""
    copied = {k: v for k, v in (_meta(service).get("labels") or {}).items() if k not in _RESERVED}
    had = {}
    if existing is not None:
        had = {k: v for k, v in (_meta(existing).get("labels") or {}).items() if k not in _RESERVED}
    labels = dict(copied)
    if is_headless(service):
        labels[HEADLESS_LABEL] = ""
    labels[SERVICE_NAME_LABEL] = _meta(service)["name"]
    labels[MANAGED_BY_LABEL] = CONTROLLER_NAME
    return labels, existing is not None and had != copied


def owner_reference(service: Object) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "name": _meta(service)["name"],
        "uid": _meta(service).get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def owned_by(endpoint_slice: Object, service: Object) -> bool:
    uid = _meta(service).get("uid")
    return any(
        ref.get("uid") == uid and ref.get("kind") == "Service" and ref.get("apiVersion") == "v1"
        for ref in _meta(endpoint_slice).get("ownerReferences") or []
    )


def new_slice(service: Object, ports: list[Object]) -> Object:
    metadata = _meta(service)
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "generateName": f"{metadata['name']}-",
            "namespace": metadata.get("namespace"),
            "labels": slice_labels(service)[0],
            "ownerReferences": [owner_reference(service)],
        },
        "addressType": ADDRESS_TYPE,
        "endpoints": [],
        "ports": list(ports),
    }
