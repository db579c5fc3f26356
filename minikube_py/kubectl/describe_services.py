"""``kubectl describe service``: how a Service is reached and which pods answer it.

Besides the spec (type, IP families, cluster IPs, ports with their target and node ports,
session affinity, traffic policies) the description lists, for each port, the ready
endpoints behind it as ``address:port``, read from the Service's EndpointSlices (those
labelled ``kubernetes.io/service-name=<name>``). kubectl shows at most three and counts the
rest: ``10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more...``.
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.errors import ApiError
from minikube_py.api.printers import dig, format_labels, items, mapping, text
from minikube_py.client.discovery import Resource
from minikube_py.client.protocol import ENDPOINT_SLICES, Object
from minikube_py.kubectl.describe_writer import (
    DescribeWriter,
    annotations_multiline,
    fetch_events,
    labels_multiline,
    new_description,
)
from minikube_py.kubectl.session import Session

SHOWN_ENDPOINTS = 3


async def describe_service(
    session: Session, resource: Resource, service: Object, show_events: bool = True
) -> str:
    meta, spec = mapping(service, "metadata"), mapping(service, "spec")
    slices = await _endpoint_slices(session, text(meta, "namespace"), text(meta, "name"))
    events = await fetch_events(session, service, "Service", wanted=show_events)
    w = new_description(meta)
    w.write(0, f"Selector:\t{format_labels(spec.get('selector'))}\n")
    w.write(0, f"Type:\t{text(spec, 'type')}\n")
    if text(spec, "ipFamilyPolicy"):
        w.write(0, f"IP Family Policy:\t{text(spec, 'ipFamilyPolicy')}\n")
    families = ",".join(str(family) for family in items(spec, "ipFamilies"))
    w.write(0, f"IP Families:\t{families or '<none>'}\n")
    w.write(0, f"IP:\t{text(spec, 'clusterIP')}\n")
    w.write(0, f"IPs:\t{','.join(str(ip) for ip in items(spec, 'clusterIPs')) or '<none>'}\n")
    if items(spec, "externalIPs"):
        w.write(0, f"External IPs:\t{','.join(str(ip) for ip in items(spec, 'externalIPs'))}\n")
    if text(spec, "loadBalancerIP"):
        w.write(0, f"Desired LoadBalancer IP:\t{text(spec, 'loadBalancerIP')}\n")
    if text(spec, "externalName"):
        w.write(0, f"External Name:\t{text(spec, 'externalName')}\n")
    ingress = items(service, "status", "loadBalancer", "ingress")
    if ingress:
        w.write(0, f"LoadBalancer Ingress:\t{_ingress(ingress)}\n")
    for port in items(spec, "ports"):
        name, protocol = text(port, "name") or "<unset>", text(port, "protocol")
        w.write(0, f"Port:\t{name}\t{dig(port, 'port', default=0)}/{protocol}\n")
        w.write(0, f"TargetPort:\t{text(port, 'targetPort')}/{protocol}\n")
        if dig(port, "nodePort", default=0):
            w.write(0, f"NodePort:\t{name}\t{port['nodePort']}/{protocol}\n")
        w.write(0, f"Endpoints:\t{endpoints_text(slices, text(port, 'name'))}\n")
    w.write(0, f"Session Affinity:\t{text(spec, 'sessionAffinity')}\n")
    for field, label in (
        ("externalTrafficPolicy", "External Traffic Policy"),
        ("internalTrafficPolicy", "Internal Traffic Policy"),
    ):
        if text(spec, field):
            w.write(0, f"{label}:\t{text(spec, field)}\n")
    if dig(spec, "healthCheckNodePort", default=0):
        w.write(0, f"HealthCheck NodePort:\t{spec['healthCheckNodePort']}\n")
    ranges = ",".join(str(r) for r in items(spec, "loadBalancerSourceRanges"))
    if ranges:
        w.write(0, f"LoadBalancer Source Ranges:\t{ranges}\n")
    if text(spec, "trafficDistribution"):
        w.write(0, f"Traffic Distribution:\t{text(spec, 'trafficDistribution')}\n")
    return w.render(events)


async def _endpoint_slices(session: Session, namespace: str, name: str) -> list[Object]:
    """The Service's EndpointSlices; none when they cannot be listed (kubectl goes on)."""
    params = {"labelSelector": f"kubernetes.io/service-name={name}"}
    try:
        listed = await session.get_json(ENDPOINT_SLICES.path(namespace), params)
    except ApiError:
        return []
    return [item for item in listed.get("items") or () if isinstance(item, dict)]


def _ingress(ingress: list[Any]) -> str:
    shown = []
    for entry in ingress:
        if text(entry, "ip"):
            mode = f" ({text(entry, 'ipMode')})" if text(entry, "ipMode") else ""
            shown.append(text(entry, "ip") + mode)
        else:
            shown.append(text(entry, "hostname"))
    return ", ".join(shown)


def endpoints_text(slices: list[Object], port_name: str) -> str:
    """The ready endpoints of the port named ``port_name``: at most three, then a count."""
    if not slices:
        return "<none>"
    shown: list[str] = []
    more, count = False, 0

    def add(address: str, endpoint: dict[str, Any]) -> None:
        nonlocal more, count
        if len(shown) == SHOWN_ENDPOINTS:
            more = True
        if dig(endpoint, "conditions", "ready", default=True) is False:
            return  # not ready; an unknown state counts as ready
        if not more:
            shown.append(address)
        count += 1

    for endpoint_slice in slices:
        ports = items(endpoint_slice, "ports")
        endpoints = items(endpoint_slice, "endpoints")
        if not ports:  # a headless Service may have no ports: addresses alone
            for endpoint in endpoints:
                add(text(endpoint, "addresses", 0), endpoint)
            continue
        for port in ports:
            if text(port, "name") != port_name:
                continue
            for endpoint in endpoints:
                address = text(endpoint, "addresses", 0)
                host = f"[{address}]" if ":" in address else address
                add(f"{host}:{dig(port, 'port', default=0)}", endpoint)
    result = ",".join(shown)
    return f"{result} + {count - SHOWN_ENDPOINTS} more..." if more else result


async def describe_endpoints(
    session: Session, resource: Resource, endpoints: Object, show_events: bool = True
) -> str:
    meta = mapping(endpoints, "metadata")
    events = await fetch_events(session, endpoints, "Endpoints", wanted=show_events)
    w = new_description(meta)
    w.write(0, "Subsets:\n")
    for subset in items(endpoints, "subsets"):
        for field, label in (
            ("addresses", "Addresses"),
            ("notReadyAddresses", "NotReadyAddresses"),
        ):
            shown = ",".join(text(address, "ip") for address in items(subset, field))
            w.write(1, f"{label}:\t{shown or '<none>'}\n")
        if items(subset, "ports"):
            w.write(1, "Ports:\n")
            w.write(2, "Name\tPort\tProtocol\n")
            w.write(2, "----\t----\t--------\n")
            for port in items(subset, "ports"):
                name = text(port, "name") or "<unset>"
                w.write(2, f"{name}\t{dig(port, 'port', default=0)}\t{text(port, 'protocol')}\n")
        w.write(0, "\n")
    return w.render(events)


async def describe_endpoint_slice(
    session: Session, resource: Resource, endpoint_slice: Object, show_events: bool = True
) -> str:
    meta = mapping(endpoint_slice, "metadata")
    events = await fetch_events(session, endpoint_slice, "EndpointSlice", wanted=show_events)
    w = new_description(meta)
    w.write(0, f"AddressType:\t{text(endpoint_slice, 'addressType')}\n")
    ports = items(endpoint_slice, "ports")
    w.write(0, "Ports:\n" if ports else "Ports: <unset>\n")
    if ports:
        w.write(1, "Name\tPort\tProtocol\n")
        w.write(1, "----\t----\t--------\n")
    for port in ports:
        number = str(port["port"]) if isinstance(port.get("port"), int) else "<unset>"
        w.write(1, f"{text(port, 'name') or '<unset>'}\t{number}\t{text(port, 'protocol')}\n")
    endpoints = items(endpoint_slice, "endpoints")
    w.write(0, "Endpoints:\n" if endpoints else "Endpoints: <none>\n")
    for endpoint in endpoints:
        addresses = ", ".join(str(a) for a in items(endpoint, "addresses")) or "<none>"
        w.write(1, f"- Addresses:\t{addresses}\n")
        w.write(2, "Conditions:\n")
        ready = dig(endpoint, "conditions", "ready")
        w.write(3, f"Ready:\t{'<unset>' if ready is None else str(bool(ready)).lower()}\n")
        w.write(2, f"Hostname:\t{text(endpoint, 'hostname') or '<unset>'}\n")
        if isinstance(endpoint.get("targetRef"), dict):
            target = endpoint["targetRef"]
            w.write(2, f"TargetRef:\t{text(target, 'kind')}/{text(target, 'name')}\n")
        w.write(2, f"NodeName:\t{text(endpoint, 'nodeName') or '<unset>'}\n")
        w.write(2, f"Zone:\t{text(endpoint, 'zone') or '<unset>'}\n")
    return w.render(events)


async def describe_ingress(
    session: Session, resource: Resource, ingress: Object, show_events: bool = True
) -> str:
    meta, spec = mapping(ingress, "metadata"), mapping(ingress, "spec")
    namespace = text(meta, "namespace")
    events = await fetch_events(session, ingress, "Ingress", wanted=show_events)
    w = DescribeWriter()
    w.write(0, f"Name:\t{text(meta, 'name')}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    w.write(0, f"Namespace:\t{namespace}\n")
    balancers = items(ingress, "status", "loadBalancer", "ingress")
    found = sorted({text(b, "ip") or text(b, "hostname") for b in balancers} - {""})
    w.write(0, f"Address:\t{','.join(found)}\n")
    w.write(0, f"Ingress Class:\t{text(spec, 'ingressClassName') or '<none>'}\n")
    default = mapping(spec, "defaultBackend")
    shown_default = await _backend(session, namespace, default) if default else "<default>"
    w.write(0, f"Default backend:\t{shown_default}\n")
    if items(spec, "tls"):
        w.write(0, "TLS:\n")
        for tls in items(spec, "tls"):
            hosts = ",".join(str(host) for host in items(tls, "hosts"))
            secret = text(tls, "secretName")
            w.write(1, f"{secret} terminates {hosts}\n" if secret else f"SNI routes {hosts}\n")
    w.write(0, "Rules:\n  Host\tPath\tBackends\n")
    w.write(1, "----\t----\t--------\n")
    rules = [rule for rule in items(spec, "rules") if isinstance(rule.get("http"), dict)]
    for rule in rules:
        w.write(1, f"{text(rule, 'host') or '*'}\t\n")
        for path in items(rule, "http", "paths"):
            shown = await _backend(session, namespace, mapping(path, "backend"))
            w.write(2, f"\t{text(path, 'path')} \t{shown}\n")
    if not rules:
        w.write(1, f"*\t*\t{shown_default}\n")
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    return w.render(events)


async def _backend(session: Session, namespace: str, backend: dict[str, Any]) -> str:
    """``service:port (endpoints)`` of a backend Service, or the resource it names."""
    service = mapping(backend, "service")
    if service:
        port = mapping(service, "port")
        name, number = text(service, "name"), dig(port, "number", default=0)
        named = f"{name}:{number or text(port, 'name')}"
        slices = await _endpoint_slices(session, namespace, name)
        try:
            found = await session.get_json(f"/api/v1/namespaces/{namespace}/services/{name}")
        except ApiError as error:
            return f"{named} (<error: {error.message}>)"
        port_name = ""
        for entry in items(found, "spec", "ports"):
            if (number and number == entry.get("port")) or (
                text(port, "name") and text(port, "name") == text(entry, "name")
            ):
                port_name = text(entry, "name")
        return f"{named} ({endpoints_text(slices, port_name)})"
    target = mapping(backend, "resource")
    if target:
        group = text(target, "apiGroup") if "apiGroup" in target else "<none>"
        return f"APIGroup: {group}, Kind: {text(target, 'kind')}, Name: {text(target, 'name')}"
    return ""
