"""Validation of Ingress and IngressClass (``networking.k8s.io/v1``).

An *Ingress* routes HTTP by host name and path to a backend (a Service port or some other
resource): hosts are DNS names (``shop.example``, or ``*.example`` for a wildcard), never IP
addresses; every path has a ``pathType`` and, for ``Exact`` and ``Prefix``, is a clean absolute
path. An *IngressClass* names the controller that serves Ingresses of that class
(``k8s.io/ingress-nginx``), which may not change afterwards, and optionally where its
settings live (``parameters``). NetworkPolicy, the group's third kind, is checked in
``validation_network_policy.py``.

Messages and field paths follow ``pkg/apis/networking/validation`` of Kubernetes 1.32, including
its leniency on update: an Ingress already stored with an invalid TLS secret name, or with a
broken rule under a wildcard host, may still be updated. Since 1.27 the deprecated
``kubernetes.io/ingress.class`` annotation may sit beside ``spec.ingressClassName`` when both say
the same; a creation with different values is refused. A status write (an ingress controller
reporting its address) is checked too: IPs must parse, host names must be DNS names.
"""

from __future__ import annotations

import re
from typing import Any

from minikube_py.api.errors import Cause
from minikube_py.api.validation_causes import (
    IMMUTABLE,
    Rendered,
    as_dict,
    byte_len,
    forbidden,
    invalid,
    is_int,
    items,
    mapping,
    not_supported,
    required,
    same,
    text,
    too_long,
)
from minikube_py.api.validation_formats import (
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_ip,
    is_path_segment_name,
    is_port_name,
    is_port_number,
)

CLASS_ANNOTATION = "kubernetes.io/ingress.class"
PATH_TYPES = ["Exact", "ImplementationSpecific", "Prefix"]  # sorted, as upstream lists them
BAD_PATH_PARTS = ("//", "/./", "/../", "%2f", "%2F")
BAD_PATH_ENDS = ("/..", "/.")
MAX_CONTROLLER = 250
BAD_IP = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
_HTTP_PATH = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+"  # RFC 3986 path characters
_WILDCARD = "\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"


def _is_ip(host: str) -> bool:
    """``netutils.ParseIPSloppy``: Go's parser, which also takes IPv4 with leading zeros."""
    if re.fullmatch(r"(\d+)\.(\d+)\.(\d+)\.(\d+)", host):
        return all(int(part) <= 255 for part in host.split("."))
    return "%" not in host and not is_ip(host)


def is_wildcard_subdomain(value: str) -> list[str]:
    """``IsWildcardDNS1123Subdomain``: ``*.`` followed by a DNS subdomain."""
    errors = ["must be no more than 253 characters"] if byte_len(value) > 253 else []
    if not re.fullmatch(_WILDCARD, value):
        errors.append(
            "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS "
            "subdomain, which must consist of lower case alphanumeric characters, '-' or '.' "
            f"and end with an alphanumeric character (e.g. '*.example.com', regex used for "
            f"validation is '{_WILDCARD}')"
        )
    return errors


def _host_errors(host: str) -> list[str]:
    return is_wildcard_subdomain(host) if "*" in host else is_dns1123_subdomain(host)


def _validate_backend(backend: Any, path: str) -> list[Cause]:
    """Exactly one of ``service`` (a name and a port name or number) and ``resource``."""
    service, resource = as_dict(backend).get("service"), as_dict(backend).get("resource")
    if service is not None and resource is not None:
        return [invalid(path, "", "cannot set both resource and service backends")]
    if resource is not None:
        return _validate_reference(resource, f"{path}.resource")
    if service is None:
        return [invalid(path, "", "resource or service backend is required")]
    name, causes = text(service, "name"), []
    if not name:
        causes.append(required(f"{path}.service.name"))
    causes += [invalid(f"{path}.service.name", name, m) for m in is_dns1035_label(name) if name]
    port = mapping(service, "port")
    port_name, number = text(port, "name"), port.get("number")
    number = number if is_int(number) else 0
    if port_name and number:
        causes.append(invalid(path, "", "cannot set both port name & port number"))
    elif port_name:
        at = f"{path}.service.port.name"
        causes += [invalid(at, port_name, msg) for msg in is_port_name(port_name)]
    elif number:
        at = f"{path}.service.port.number"
        causes += [invalid(at, number, msg) for msg in is_port_number(number)]
    else:
        causes.append(required(path, "port name or number is required"))
    return causes


def _validate_reference(ref: Any, path: str) -> list[Cause]:
    """A ``TypedLocalObjectReference`` (or IngressClass parameters): group, kind and name."""
    causes: list[Cause] = []
    group = as_dict(ref).get("apiGroup")
    if isinstance(group, str):
        causes += [invalid(f"{path}.apiGroup", group, m) for m in is_dns1123_subdomain(group)]
    for key in ("kind", "name"):
        value = text(ref, key)
        if not value:
            causes.append(required(f"{path}.{key}"))
        causes += [invalid(f"{path}.{key}", value, m) for m in is_path_segment_name(value)]
    return causes


def _validate_path(entry: Any, path: str) -> list[Cause]:
    kind, value = as_dict(entry).get("pathType"), text(entry, "path")
    if not isinstance(kind, str):
        return [required(f"{path}.pathType", "pathType must be specified")]
    causes, at = [], f"{path}.path"
    if kind in ("Exact", "Prefix"):
        if not value.startswith("/"):
            causes.append(invalid(at, value, "must be an absolute path"))
        causes += [
            invalid(at, value, f"must not contain '{s}'") for s in BAD_PATH_PARTS if s in value
        ]
        ends = [end for end in BAD_PATH_ENDS if value.endswith(end)]
        causes += [invalid(at, value, f"cannot end with '{end}'") for end in ends]
    elif kind == "ImplementationSpecific":
        if value and not value.startswith("/"):
            causes.append(invalid(at, value, "must be an absolute path"))
    else:
        causes.append(not_supported(f"{path}.pathType", kind, PATH_TYPES))
    return causes + _validate_backend(as_dict(entry).get("backend"), f"{path}.backend")


def _validate_rule_value(rule: Any, path: str) -> list[Cause]:
    http = as_dict(rule).get("http")
    if not isinstance(http, dict):
        return []
    paths = items(http, "paths")
    causes = [] if paths else [required(f"{path}.http.paths")]
    for index, entry in enumerate(paths):
        causes += _validate_path(entry, f"{path}.http.paths[{index}]")
    return causes


def _validate_rules(rules: list[Any], lenient_wildcards: bool) -> list[Cause]:
    causes: list[Cause] = []
    for index, rule in enumerate(rules):
        host, at = text(rule, "host"), f"spec.rules[{index}]"
        if host and _is_ip(host):
            causes.append(invalid(f"{at}.host", host, "must be a DNS name, not an IP address"))
        causes += [invalid(f"{at}.host", host, msg) for msg in (_host_errors(host) if host else [])]
        if not ("*" in host and lenient_wildcards):
            causes += _validate_rule_value(rule, at)
    return causes


def _validate_tls(tls: list[Any], lenient_secrets: bool) -> list[Cause]:
    causes: list[Cause] = []
    for index, entry in enumerate(tls):
        for host_index, host in enumerate(items(entry, "hosts")):
            host = host if isinstance(host, str) else ""
            at = f"spec.tls[{index}].hosts[{host_index}]"
            causes += [invalid(at, host, msg) for msg in _host_errors(host)]
        secret = text(entry, "secretName")
        if secret and not lenient_secrets:
            at = f"spec.tls[{index}].secretName"
            causes += [invalid(at, secret, msg) for msg in is_dns1123_subdomain(secret)]
    return causes


def _validate_status(status: Any) -> list[Cause]:
    """``ValidateIngressLoadBalancerStatus``: what an ingress controller reports."""
    causes: list[Cause] = []
    for index, entry in enumerate(items(mapping(status, "loadBalancer"), "ingress")):
        at, ip, host = (
            f"status.loadBalancer.ingress[{index}]",
            text(entry, "ip"),
            text(entry, "hostname"),
        )
        if ip and not _is_ip(ip):
            causes.append(invalid(f"{at}.ip", ip, BAD_IP))
        causes += [invalid(f"{at}.hostname", host, m) for m in is_dns1123_subdomain(host) if host]
        if host and _is_ip(host):
            causes.append(invalid(f"{at}.hostname", host, "must be a DNS name, not an IP address"))
    return causes


def validate_ingress(obj: Any, old: Any) -> list[Cause]:
    """``ValidateIngressCreate`` / ``ValidateIngressUpdate`` (and the status, when it changed)."""
    spec, before = mapping(obj, "spec"), mapping(old, "spec")
    rules, causes = items(spec, "rules"), []
    if not rules and spec.get("defaultBackend") is None:
        shown = "{}" if isinstance(spec.get("rules"), list) else "(nil)"
        causes.append(
            invalid(
                "spec",
                Rendered(f"[]networking.IngressRule{shown}"),
                "either `defaultBackend` or `rules` must be specified",
            )
        )
    if spec.get("defaultBackend") is not None:
        causes += _validate_backend(spec["defaultBackend"], "spec.defaultBackend")
    lenient_wildcards = any(
        "*" in text(rule, "host") and _validate_rule_value(rule, "")
        for rule in items(before, "rules")
    )
    causes += _validate_rules(rules, lenient_wildcards)
    lenient_secrets = any(
        is_dns1123_subdomain(text(tls, "secretName"))
        for tls in items(before, "tls")
        if text(tls, "secretName")
    )
    causes += _validate_tls(items(spec, "tls"), lenient_secrets)
    class_name = spec.get("ingressClassName")
    if isinstance(class_name, str):
        at = "spec.ingressClassName"
        causes += [invalid(at, class_name, msg) for msg in is_dns1123_subdomain(class_name)]
    annotations = mapping(mapping(obj, "metadata"), "annotations")
    annotation = annotations.get(CLASS_ANNOTATION)
    # On create only: an update may carry both while moving from one to the other.
    conflict = isinstance(annotation, str) and isinstance(class_name, str)
    if old is None and conflict and annotation != class_name:
        at = f"annotations.{CLASS_ANNOTATION}"
        detail = "must match `ingressClassName` when both are specified"
        causes.append(invalid(at, annotation, detail))
    if old is not None and not same(as_dict(obj).get("status"), as_dict(old).get("status")):
        causes += _validate_status(as_dict(obj).get("status"))
    return causes


def _domain_prefixed_path(value: str, path: str) -> list[Cause]:
    """``IsDomainPrefixedPath``: a DNS subdomain, ``/``, then URL path characters."""
    host, slash, rest = value.partition("/")
    if not host or not slash or not rest:
        return [invalid(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")')]
    causes = [invalid(path, host, msg) for msg in is_dns1123_subdomain(host)]
    if not re.fullmatch(_HTTP_PATH, rest):
        detail = f"Invalid path (regex used for validation is '{_HTTP_PATH}')"
        causes.append(invalid(path, rest, detail))
    return causes


def _validate_parameters(params: Any) -> list[Cause]:
    """``validateIngressClassParametersReference``: where the controller's settings live."""
    if not isinstance(params, dict):
        return []
    path = "spec.parameters"
    causes = _validate_reference(params, path)
    # The v1 defaulter fills an unset scope with "Cluster" before validation runs, so
    # upstream's "scope: Required value" cannot happen through the v1 API.
    scope = "Cluster" if params.get("scope") is None else params["scope"]
    namespace = params.get("namespace")
    if scope not in ("Cluster", "Namespace"):
        causes.append(not_supported(f"{path}.scope", scope, ["Cluster", "Namespace"]))
    elif scope == "Namespace" and isinstance(namespace, str):
        causes += [invalid(f"{path}.namespace", namespace, m) for m in is_dns1123_label(namespace)]
    elif scope == "Namespace":
        causes.append(required(f"{path}.namespace", "`parameters.scope` is set to 'Namespace'"))
    elif namespace is not None:
        causes.append(forbidden(f"{path}.namespace", "`parameters.scope` is set to 'Cluster'"))
    return causes


def validate_ingress_class(obj: Any, old: Any) -> list[Cause]:
    """``ValidateIngressClass`` / ``ValidateIngressClassUpdate``: the controller is for life."""
    spec, causes = mapping(obj, "spec"), []
    controller = text(spec, "controller")
    if old is not None and controller != text(mapping(old, "spec"), "controller"):
        causes.append(invalid("spec.controller", controller, IMMUTABLE))
    if not controller:
        causes.append(required("spec.controller"))
    else:
        if byte_len(controller) > MAX_CONTROLLER:
            causes.append(too_long("spec.controller", MAX_CONTROLLER))
        causes += _domain_prefixed_path(controller, "spec.controller")
    return causes + _validate_parameters(spec.get("parameters"))
