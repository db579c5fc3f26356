"""Service discovery by environment variables: what a container learns of the Services.

Before cluster DNS, Kubernetes told each container where the Services are through its
environment, in the style of Docker's container links, and it still does. For every Service
of the pod's namespace that exists when the container starts and has a ClusterIP (headless
Services, ``clusterIP: None``, and ExternalName ones have none), a Service ``redis-primary``
with port 6379 gives::

    REDIS_PRIMARY_SERVICE_HOST=10.96.0.11
    REDIS_PRIMARY_SERVICE_PORT=6379              (the first port)
    REDIS_PRIMARY_SERVICE_PORT_<PORTNAME>=6379   (each named port)
    REDIS_PRIMARY_PORT=tcp://10.96.0.11:6379     (the first port, Docker's special case)
    REDIS_PRIMARY_PORT_6379_TCP=tcp://10.96.0.11:6379
    REDIS_PRIMARY_PORT_6379_TCP_PROTO=tcp
    REDIS_PRIMARY_PORT_6379_TCP_PORT=6379
    REDIS_PRIMARY_PORT_6379_TCP_ADDR=10.96.0.11

The name is upper-cased with ``-`` turned into ``_``. The ``kubernetes`` Service of the
``default`` namespace is always included, so a client library finds the API server; the
pod's ``enableServiceLinks: false`` drops every other Service (upstream's kubelet,
``getServiceEnvVarMap`` and ``pkg/kubelet/envvars``). A Service created after the container
started is not seen until the container restarts: that is why DNS is the better way.

Pure functions of the Services handed in; the kubelet reads them from its Service informer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Object = dict[str, Any]
# Upstream's "master services": always given to pods, from the default namespace.
MASTER_SERVICES = frozenset({"kubernetes"})


def variable_name(name: str) -> str:
    """``redis-primary`` → ``REDIS_PRIMARY``, as upstream's ``makeEnvVariableName``."""
    return name.replace("-", "_").upper()


def has_cluster_ip(service: Object) -> bool:
    """Upstream's ``IsServiceIPSet``: a ClusterIP that is neither empty nor ``None``."""
    cluster_ip = (service.get("spec") or {}).get("clusterIP") or ""
    return cluster_ip not in ("", "None")


def _join(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def service_variables(service: Object) -> dict[str, str]:
    """The variables one Service gives (none without a ClusterIP or a port)."""
    spec = service.get("spec") or {}
    ports = spec.get("ports") or []
    if not has_cluster_ip(service) or not ports:
        return {}
    prefix = variable_name(str(service["metadata"]["name"]))
    host = str(spec["clusterIP"])
    variables = {
        f"{prefix}_SERVICE_HOST": host,
        f"{prefix}_SERVICE_PORT": str(ports[0].get("port", "")),
    }
    for port in ports:  # every named port (only the first may be unnamed)
        if port.get("name"):
            name = f"{prefix}_SERVICE_PORT_{variable_name(str(port['name']))}"
            variables[name] = str(port.get("port", ""))
    for index, port in enumerate(ports):  # Docker's link variables
        protocol = str(port.get("protocol") or "TCP")
        number = port.get("port", "")
        url = f"{protocol.lower()}://{_join(host, int(number or 0))}"
        if index == 0:
            variables[f"{prefix}_PORT"] = url
        port_prefix = f"{prefix}_PORT_{number}_{protocol.upper()}"
        variables[port_prefix] = url
        variables[f"{port_prefix}_PROTO"] = protocol.lower()
        variables[f"{port_prefix}_PORT"] = str(number)
        variables[f"{port_prefix}_ADDR"] = host
    return variables


def service_env(
    services: Iterable[Object],
    namespace: str,
    *,
    enable_service_links: bool = True,
    overrides: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, str]:
    """The discovery variables for a container of a pod in ``namespace``.

    ``services``: the Services of that namespace and of ``default`` (more do no harm).
    ``overrides``: variables to give instead of a Service's own, by name, whether or not it
    exists (the kubelet may give ``kubernetes`` the API server's own address and port).
    """
    chosen: dict[str, Object] = {}
    for service in services:
        meta = service.get("metadata") or {}
        name = str(meta.get("name", ""))
        if not has_cluster_ip(service):
            continue
        if meta.get("namespace") == "default" and name in MASTER_SERVICES:
            chosen.setdefault(name, service)
        elif meta.get("namespace") == namespace and enable_service_links:
            chosen[name] = service
    overrides = overrides or {}
    result: dict[str, str] = {}
    for name in sorted(chosen.keys() | overrides.keys()):
        result.update(overrides[name] if name in overrides else service_variables(chosen[name]))
    return result


def pod_service_env(
    pod: Object,
    services: Iterable[Object],
    overrides: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, str]:
    """``service_env`` for ``pod``: its namespace and its ``enableServiceLinks`` (default on)."""
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    links = spec.get("enableServiceLinks")
    return service_env(
        services,
        str(meta.get("namespace") or "default"),
        enable_service_links=links is None or bool(links),
        overrides=overrides,
    )
