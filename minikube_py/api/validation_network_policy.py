"""Validation of NetworkPolicy (``networking.k8s.io/v1``): ports, peers and policy types.

A NetworkPolicy selects pods (``spec.podSelector``) and lists who may reach them (``ingress``
rules, each with ``from`` peers and ``ports``) and whom they may reach (``egress`` rules with
``to`` peers). A port is a number (optionally the start of a range up to ``endPort``) or a
named container port; a peer selects pods, namespaces or both, or is one IP block
(``cidr`` minus ``except`` sub-blocks), never an IP block mixed with selectors.
``policyTypes`` names which directions the policy governs.

Messages and field paths follow ``ValidateNetworkPolicy`` of Kubernetes 1.32 (whose CIDR check
is still the plain "not a valid CIDR"; 1.33 reworded it).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from minikube_py.api.errors import Cause
from minikube_py.api.validation_causes import (
    Rendered,
    as_dict,
    forbidden,
    go_quote,
    invalid,
    is_int,
    items,
    mapping,
    not_supported,
    required,
    text,
)
from minikube_py.api.validation_formats import is_port_name, is_port_number
from minikube_py.api.validation_selectors import validate_label_selector

PROTOCOLS = ["TCP", "UDP", "SCTP"]
POLICY_TYPES = ["Ingress", "Egress"]


def _validate_port(port: Any, path: str) -> list[Cause]:
    protocol, number, end = (as_dict(port).get(key) for key in ("protocol", "port", "endPort"))
    causes: list[Cause] = []
    if isinstance(protocol, str) and protocol not in PROTOCOLS:
        causes.append(not_supported(f"{path}.protocol", protocol, PROTOCOLS))
    end = end if is_int(end) else None
    if is_int(number):
        causes += [invalid(f"{path}.port", number, msg) for msg in is_port_number(number)]
        if end is not None:
            if end < number:
                causes.append(
                    invalid(f"{path}.endPort", end, "must be greater than or equal to `port`")
                )
            causes += [invalid(f"{path}.endPort", end, msg) for msg in is_port_number(end)]
    elif isinstance(number, str):
        if end is not None:
            detail = "may not be specified when `port` is non-numeric"
            causes.append(invalid(f"{path}.endPort", end, detail))
        causes += [invalid(f"{path}.port", number, msg) for msg in is_port_name(number)]
    elif end is not None:
        causes.append(
            invalid(f"{path}.endPort", end, "may not be specified when `port` is not specified")
        )
    return causes


def _network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """``netutils.ParseCIDRSloppy``: host bits may be set (``10.0.0.1/8`` is ``10.0.0.0/8``),
    IPv4 parts may have leading zeros, and the prefix is a bit count, never a netmask.
    """
    address, _, bits = cidr.partition("/")
    if not bits.isascii() or not bits.isdigit() or "%" in address:
        return None
    if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", address):
        address = ".".join(str(int(part)) for part in address.split("."))
    try:
        return ipaddress.ip_network(f"{address}/{int(bits)}", strict=False)
    except ValueError:
        return None


def _validate_ip_block(block: Any, path: str) -> list[Cause]:
    cidr = text(block, "cidr")
    if not cidr:
        return [required(f"{path}.cidr")]
    network = _network(cidr)
    if network is None:
        return [invalid(f"{path}.cidr", cidr, "not a valid CIDR")]
    causes: list[Cause] = []
    for index, value in enumerate(items(block, "except")):
        at, value = f"{path}.except[{index}]", value if isinstance(value, str) else ""
        excluded = _network(value)
        if excluded is None:
            causes.append(invalid(at, value, "not a valid CIDR"))
            return causes  # upstream stops at the first unparsable exception
        inside = excluded.version == network.version and excluded.network_address in network
        if not inside or network.prefixlen >= excluded.prefixlen:
            causes.append(invalid(at, value, "must be a strict subset of `cidr`"))
    return causes


def _validate_peer(peer: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    present = [
        key
        for key in ("podSelector", "namespaceSelector", "ipBlock")
        if as_dict(peer).get(key) is not None
    ]
    for key in present:
        if key == "ipBlock":
            causes += _validate_ip_block(peer[key], f"{path}.ipBlock")
        else:
            causes += validate_label_selector(peer[key], f"{path}.{key}")
    if not present:
        causes.append(required(path, "must specify a peer"))
    elif len(present) > 1 and "ipBlock" in present:
        causes.append(forbidden(path, "may not specify both ipBlock and another peer"))
    return causes


def validate_network_policy(obj: Any, old: Any) -> list[Cause]:
    """``ValidateNetworkPolicySpec``: the same rules on create and on update."""
    spec = mapping(obj, "spec")
    causes = validate_label_selector(mapping(spec, "podSelector"), "spec.podSelector")
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        for index, rule in enumerate(items(spec, direction)):
            at = f"spec.{direction}[{index}]"
            for port_index, port in enumerate(items(rule, "ports")):
                causes += _validate_port(port, f"{at}.ports[{port_index}]")
            for peer_index, peer in enumerate(items(rule, peers)):
                causes += _validate_peer(peer, f"{at}.{peers}[{peer_index}]")
    types = items(spec, "policyTypes")
    if len(types) > len(POLICY_TYPES):
        shown = ", ".join(go_quote(str(kind)) for kind in types)
        rendered = Rendered(f"[]networking.PolicyType{{{shown}}}")
        detail = "may not specify more than two policyTypes"
        return [*causes, invalid("spec.policyTypes", rendered, detail)]
    for index, kind in enumerate(types):
        if kind not in POLICY_TYPES:
            causes.append(not_supported(f"spec.policyTypes[{index}]", kind, POLICY_TYPES))
    return causes
