"""Pods as a Service's backends: which pods count, at what address, on which ports.

A Service selects pods by label; the Endpoints and EndpointSlice controllers both turn those
pods into lists of addresses that the service proxy and DNS read. The rules for one pod are
the same for both (upstream keeps them in ``k8s.io/endpointslice/util``), so they live here
once:

- **Does the pod count?** Not once it has finished (phase ``Succeeded`` or ``Failed``), not
  before its kubelet reported an address, and — unless the caller takes terminating pods —
  not once it is being deleted (``should_pod_be_in_endpoints``).
- **Its address** is its IPv4 ``status.podIPs`` entry (``status.podIP`` on older writers).
- **Its ports.** A service port's ``targetPort`` is a number, or the *name* of a container
  port; a name is looked up in each pod, so pods of one Service may serve it on different
  numbers, and a pod without that name does not serve that port at all (``resolve_ports``).
- **Its hostname** is published only when the pod's ``spec.subdomain`` names the Service
  (how a StatefulSet's pods get ``web-0.web.ns.svc`` DNS names).
- **Which Services a pod change concerns** (``services_to_update``): both controllers wake
  the Services whose selector matches the pod's old or new labels, and only when something
  they publish changed (readiness, address, deletion, labels).
"""

from __future__ import annotations

import ipaddress
from typing import Any

import attrs

from minikube_py.client.informer import Informer
from minikube_py.client.protocol import Object
from minikube_py.controllers.controller import Controller


@attrs.frozen
class ResolvedPort:
    """One service port as a pod serves it: the port number is the pod's (the target)."""

    name: str
    port: int
    protocol: str
    app_protocol: str | None = None


def _spec(obj: Object) -> dict[str, Any]:
    return obj.get("spec") or {}


def _meta(obj: Object) -> dict[str, Any]:
    return obj.get("metadata") or {}


def service_selector(service: Object) -> dict[str, str] | None:
    """The Service's selector map; ``None`` (selects nothing) when it has none. An empty map
    is ``None`` too: on the wire upstream omits it, so it never reaches the controllers."""
    selector = _spec(service).get("selector")
    return dict(selector) if isinstance(selector, dict) and selector else None


def selects(selector: dict[str, str], labels: dict[str, Any] | None) -> bool:
    labels = labels or {}
    return all(labels.get(key) == value for key, value in selector.items())


def service_pods(service: Object, pods: list[Object]) -> list[Object] | None:
    """The pods (of the Service's namespace) it selects; None when its endpoints are not
    the controllers' to keep: an ExternalName Service, or one without a selector (its
    Endpoints and slices, if any, are its user's)."""
    if (service.get("spec") or {}).get("type") == "ExternalName":
        return None
    selector = service_selector(service)
    if selector is None:
        return None
    return [p for p in pods if selects(selector, (p.get("metadata") or {}).get("labels"))]


def is_headless(service: Object) -> bool:
    """``clusterIP: None`` — or no cluster IP at all (upstream's ``!IsServiceIPSet``)."""
    return _spec(service).get("clusterIP") in (None, "", "None")


def is_pod_ready(pod: Object) -> bool:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return False


def pod_address(pod: Object) -> str | None:
    """The pod's IPv4 address (the cluster is single-stack IPv4), if it has one yet."""
    status = pod.get("status") or {}
    candidates = [entry.get("ip") for entry in status.get("podIPs") or []] or [status.get("podIP")]
    for candidate in candidates:
        try:
            if candidate and ipaddress.ip_address(candidate).version == 4:
                return str(ipaddress.ip_address(candidate))  # normalised, as upstream
        except ValueError:
            continue
    return None


def should_pod_be_in_endpoints(pod: Object, include_terminating: bool) -> bool:
    status = pod.get("status") or {}
    if status.get("phase") in ("Succeeded", "Failed"):
        return False
    if not status.get("podIP") and not status.get("podIPs"):
        return False
    return include_terminating or not _meta(pod).get("deletionTimestamp")


def should_set_hostname(pod: Object, service: Object) -> bool:
    return bool(
        _spec(pod).get("hostname")
        and _spec(pod).get("subdomain") == _meta(service).get("name")
        and _meta(pod).get("namespace") == _meta(service).get("namespace")
    )


def find_port(pod: Object, service_port: Object) -> int | None:
    """The pod's number for ``service_port``'s ``targetPort`` (upstream's FindPort): a number
    as it is; a name looked up in the containers, then in sidecars (restartable init
    containers), matching the protocol too; ``None`` if the pod has no such port."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    if not isinstance(target, str):
        return None
    protocol = service_port.get("protocol") or "TCP"
    spec = _spec(pod)
    sidecars = [c for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"]
    for container in [*(spec.get("containers") or []), *sidecars]:
        for port in container.get("ports") or []:
            if port.get("name") == target and (port.get("protocol") or "TCP") == protocol:
                return int(port["containerPort"])
    return None


def resolve_ports(service: Object, pod: Object) -> list[ResolvedPort]:
    """Each service port the pod serves, in the Service's order, with the pod's number."""
    resolved = []
    for service_port in _spec(service).get("ports") or []:
        number = find_port(pod, service_port)
        if number is None:
            continue  # upstream logs at V(4) and leaves the pod out of this port
        resolved.append(
            ResolvedPort(
                name=str(service_port.get("name") or ""),
                port=number,
                protocol=str(service_port.get("protocol") or "TCP"),
                app_protocol=service_port.get("appProtocol"),
            )
        )
    return resolved


def target_ref(pod: Object) -> Object:
    metadata = _meta(pod)
    return {
        "kind": "Pod",
        "namespace": metadata.get("namespace", ""),
        "name": metadata.get("name", ""),
        "uid": metadata.get("uid", ""),
    }


# -- which Services a pod event concerns ----------------------------------------------------


def services_selecting(
    services: Informer, namespace: str, labels: dict[str, Any] | None
) -> set[str]:
    """Keys of the namespace's Services whose selector matches ``labels``."""
    keys = set()
    for service in services.by_namespace(namespace):
        selector = service_selector(service)
        if selector is not None and selects(selector, labels):
            keys.add(f"{namespace}/{_meta(service).get('name')}")
    return keys


def _publishes_differently(old: Object, new: Object) -> bool:
    """Whether the pod changed in a way that changes its endpoint (podEndpointsChanged)."""
    if _meta(old).get("deletionTimestamp") != _meta(new).get("deletionTimestamp"):
        return True
    if is_pod_ready(old) != is_pod_ready(new):
        return True
    old_ips = [entry.get("ip") for entry in (old.get("status") or {}).get("podIPs") or []]
    new_ips = [entry.get("ip") for entry in (new.get("status") or {}).get("podIPs") or []]
    old_ip, new_ip = (old.get("status") or {}).get("podIP"), (new.get("status") or {}).get("podIP")
    return old_ips != new_ips or old_ip != new_ip


def services_to_update(services: Informer, old: Object, new: Object) -> set[str]:
    """The Services to sync for a pod update (upstream's GetServicesToUpdateOnPodChange): none
    if nothing they publish changed; on a label change the Services of the old labels and the
    new — all of them if the endpoint changed too, else those it left or joined."""
    if _meta(old).get("resourceVersion") == _meta(new).get("resourceVersion"):
        return set()  # a relist that found it unchanged
    namespace = str(_meta(new).get("namespace") or "")
    changed = _publishes_differently(old, new)
    labels_changed = _meta(old).get("labels") != _meta(new).get("labels") or any(
        _spec(old).get(field) != _spec(new).get(field) for field in ("hostname", "subdomain")
    )
    if not changed and not labels_changed:
        return set()
    current = services_selecting(services, namespace, _meta(new).get("labels"))
    if not labels_changed:
        return current
    previous = services_selecting(services, namespace, _meta(old).get("labels"))
    return current | previous if changed else current ^ previous


def watch_members(controller: Controller, services: Informer, pods: Informer) -> None:
    """Queue a Service's key when it changes, and the keys of the Services a pod concerns
    when the pod is added, changed or deleted — the wiring both controllers share."""
    controller.watch(services)

    def pod_added_or_deleted(pod: Object) -> None:
        namespace = str(_meta(pod).get("namespace") or "")
        for key in services_selecting(services, namespace, _meta(pod).get("labels")):
            controller.queue.add(key)

    def pod_updated(old: Object, new: Object) -> None:
        for key in services_to_update(services, old, new):
            controller.queue.add(key)

    pods.on_add(pod_added_or_deleted)
    pods.on_update(pod_updated)
    pods.on_delete(pod_added_or_deleted)
