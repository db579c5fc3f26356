"""Validation of Services: ports, types, traffic policies and the ClusterIP.

A Service gives a set of pods one stable address. It needs ports (unless it is headless or an
``ExternalName`` alias), each with a number in 1-65535, a supported protocol, a target port
that is a number or a port name, and (when there is more than one) a unique name. Its type
is ``ClusterIP``, ``NodePort``, ``LoadBalancer`` or ``ExternalName``; node ports live in
30000-32767 and only on ``NodePort`` and ``LoadBalancer`` Services. Once allocated, the
ClusterIP may not change.

Messages follow ``ValidateService`` and ``ValidateServiceUpdate`` of Kubernetes 1.32; the node
port range check is the message of upstream's port allocator, which runs in the registry.
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.errors import Cause
from minikube_py.api.meta import validate_labels
from minikube_py.api.validation_causes import (
    Rendered,
    as_dict,
    duplicate,
    forbidden,
    go_quote,
    go_string_list,
    has,
    invalid,
    is_int,
    items,
    mapping,
    not_supported,
    required,
    same,
    text,
)
from minikube_py.api.validation_containers import PROTOCOLS, choice, dns_label
from minikube_py.api.validation_formats import (
    is_dns1123_subdomain,
    is_ip,
    is_port_name,
    is_port_number,
)

TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
NODE_PORTS = range(30000, 32768)


def _headless(spec: dict[str, Any]) -> bool:
    return text(spec, "clusterIP") == "None"


def _port_key(protocol: str, port: Any) -> Rendered:
    """``%#v`` of the ``core.ServicePort`` upstream uses to find duplicate ports."""
    return Rendered(
        f'core.ServicePort{{Name:"", Protocol:{go_quote(protocol)}, '
        f"AppProtocol:(*string)(nil), Port:{port if is_int(port) else 0}, "
        'TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}'
    )


def _validate_port(port: Any, path: str, need_name: bool, names: set[str]) -> list[Cause]:
    name, causes = text(port, "name"), []
    if need_name and not name:
        causes.append(required(f"{path}.name"))
    elif name:
        causes += dns_label(name, f"{path}.name")
        if name in names:
            causes.append(duplicate(f"{path}.name", name))
        names.add(name)
    number = as_dict(port).get("port")
    number = number if is_int(number) else 0
    causes += [invalid(f"{path}.port", number, msg) for msg in is_port_number(number)]
    causes += choice(text(port, "protocol"), f"{path}.protocol", PROTOCOLS)
    target = as_dict(port).get("targetPort")
    if isinstance(target, str):
        causes += [invalid(f"{path}.targetPort", target, m) for m in is_port_name(target)]
    elif is_int(target):
        causes += [invalid(f"{path}.targetPort", target, m) for m in is_port_number(target)]
    return causes


def _validate_type(spec: dict[str, Any]) -> list[Cause]:
    kind, causes = text(spec, "type"), []
    if kind in ("LoadBalancer", "NodePort") and _headless(spec):
        causes.append(
            invalid("spec.clusterIP", "None", f"may not be set to 'None' for {kind} services")
        )
    if kind == "ExternalName":
        for key in ("clusterIPs", "ipFamilies", "ipFamilyPolicy"):
            if items(spec, key) or (key == "ipFamilyPolicy" and has(spec, key)):
                causes.append(forbidden(f"spec.{key}", "may not be set for ExternalName services"))
        name = text(spec, "externalName").removesuffix(".")
        if not name:
            causes.append(required("spec.externalName"))
        causes += [
            invalid("spec.externalName", name, m)
            for m in (is_dns1123_subdomain(name) if name else [])
        ]
    return causes


def _validate_cluster_ips(spec: dict[str, Any]) -> list[Cause]:
    cluster_ip, cluster_ips = text(spec, "clusterIP"), items(spec, "clusterIPs")
    causes: list[Cause] = []
    if cluster_ips and cluster_ip and cluster_ips[0] != cluster_ip:
        causes.append(
            invalid(
                "spec.clusterIPs", go_string_list(cluster_ips), "first value must match `clusterIP`"
            )
        )
    for index, address in enumerate(cluster_ips):
        if isinstance(address, str) and address != "None" and address:
            causes += [invalid(f"spec.clusterIPs[{index}]", address, m) for m in is_ip(address)]
    return causes


def _validate_node_ports(spec: dict[str, Any]) -> list[Cause]:
    kind, causes, seen = text(spec, "type"), [], set()
    for index, port in enumerate(items(spec, "ports")):
        node_port = as_dict(port).get("nodePort")
        if not is_int(node_port) or node_port == 0:
            continue
        at = f"spec.ports[{index}].nodePort"
        if kind == "ClusterIP":
            causes.append(forbidden(at, "may not be used when `type` is 'ClusterIP'"))
            continue
        if kind not in ("NodePort", "LoadBalancer"):
            continue
        if (text(port, "protocol"), node_port) in seen:
            causes.append(duplicate(at, node_port))
        seen.add((text(port, "protocol"), node_port))
        if node_port not in NODE_PORTS:
            causes.append(
                invalid(
                    at,
                    node_port,
                    "provided port is not in the valid range. "
                    "The range of valid ports is 30000-32767",
                )
            )
    return causes


def _accessible(spec: dict[str, Any]) -> bool:
    kind = text(spec, "type")
    return kind in ("NodePort", "LoadBalancer") or (
        kind == "ClusterIP" and bool(items(spec, "externalIPs"))
    )


def validate_service(obj: Any, old: Any) -> list[Cause]:
    spec = mapping(obj, "spec")
    if old is not None:
        spec = _normalize_cluster_ips(spec, mapping(old, "spec"))
    kind, ports = text(spec, "type"), items(spec, "ports")
    causes: list[Cause] = []
    if not ports and not _headless(spec) and kind != "ExternalName":
        causes.append(required("spec.ports"))
    causes += _validate_type(spec)
    names: set[str] = set()
    for index, port in enumerate(ports):
        causes += _validate_port(port, f"spec.ports[{index}]", len(ports) > 1, names)
    causes += validate_labels(mapping(spec, "selector"), "spec.selector")
    causes += choice(text(spec, "sessionAffinity"), "spec.sessionAffinity", ["ClientIP", "None"])
    if text(spec, "sessionAffinity") == "None" and has(spec, "sessionAffinityConfig"):
        causes.append(
            forbidden("spec.sessionAffinityConfig", "must not be set when session affinity is None")
        )
    causes += _validate_cluster_ips(spec)
    causes += choice(kind, "spec.type", TYPES)
    causes += _validate_node_ports(spec)
    seen = set()
    for index, port in enumerate(ports):
        key = (text(port, "protocol"), as_dict(port).get("port"))
        if key in seen:
            causes.append(duplicate(f"spec.ports[{index}]", _port_key(*key)))
        seen.add(key)
    policy = text(spec, "externalTrafficPolicy")
    if not _accessible(spec) and policy:
        causes.append(
            invalid(
                "spec.externalTrafficPolicy",
                policy,
                "may only be set for externally-accessible services",
            )
        )
    elif _accessible(spec):
        causes += choice(policy, "spec.externalTrafficPolicy", ["Cluster", "Local"])
    internal = spec.get("internalTrafficPolicy")
    if internal is None and kind in ("ClusterIP", "NodePort", "LoadBalancer"):
        causes.append(required("spec.internalTrafficPolicy"))
    elif internal is not None and internal not in ("Cluster", "Local"):
        causes.append(not_supported("spec.internalTrafficPolicy", internal, ["Cluster", "Local"]))
    return causes if old is None else causes + _validate_update(spec, mapping(old, "spec"))


def _normalize_cluster_ips(spec: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """The registry's ``normalizeClusterIPs`` on update, on a copy: a changed ``clusterIP``
    with unchanged ``clusterIPs`` changes both; a dropped one keeps the allocated addresses.
    """
    cluster_ip, old_ip = text(spec, "clusterIP"), text(before, "clusterIP")
    unchanged = same(spec.get("clusterIPs"), before.get("clusterIPs"))
    if cluster_ip == old_ip or not unchanged:
        return spec
    if cluster_ip:
        return {**spec, "clusterIPs": [cluster_ip]}
    return {**spec, "clusterIP": old_ip}


def _validate_update(spec: dict[str, Any], before: dict[str, Any]) -> list[Cause]:
    """``validateUpgradeDowngradeClusterIPs``: allocated addresses never move."""
    if "ExternalName" in (text(spec, "type"), text(before, "type")):
        return []
    if _headless(spec) and _headless(before):
        return []
    old_ips = [ip for ip in items(before, "clusterIPs") if isinstance(ip, str)]
    new_ips = [ip for ip in items(spec, "clusterIPs") if isinstance(ip, str)]
    if not text(spec, "clusterIP") and not new_ips:
        return []  # left empty: the registry carries the allocated addresses over
    shown = go_string_list(new_ips)
    if not new_ips and old_ips:
        return [invalid("spec.clusterIPs[0]", shown, "primary clusterIP can not be unset")]
    if len(new_ips) == len(old_ips):
        return [
            invalid(f"spec.clusterIPs[{i}]", shown, "may not change once set")
            for i, (a, b) in enumerate(zip(old_ips, new_ips, strict=True))
            if a != b
        ]
    if old_ips and new_ips[0] != old_ips[0]:
        return [invalid("spec.clusterIPs[0]", shown, "may not change once set")]
    return []
