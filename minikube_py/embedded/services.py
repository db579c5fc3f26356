"""A Service's URL from the host, as ``minikube service NAME --url`` prints it.

A NodePort or LoadBalancer Service is reached at ``http://<node address>:<nodePort>`` (every
node listens on its node ports; the first node's address is the one minikube prints). Any
other Service with a ClusterIP is reached at ``http://<clusterIP>:<port>`` — unlike a real
cluster's, the ClusterIPs here are loopback addresses the host can dial. A port below 1024 is
listened on at its documented fallback where the process may not bind it
(``minikube_py.config.listen_port``).
"""

from __future__ import annotations

from typing import Any

from minikube_py.client.protocol import Object
from minikube_py.cluster.settings import ClusterError
from minikube_py.config import NetworkPlan, listen_port


def _port(service: Object, wanted: int | str | None) -> dict[str, Any]:
    name = service["metadata"]["name"]
    ports = [p for p in (service.get("spec") or {}).get("ports") or () if isinstance(p, dict)]
    if not ports:
        raise ClusterError(f'service "{name}" has no ports')
    if wanted is None:
        return ports[0]
    for port in ports:
        if wanted in (port.get("port"), port.get("name")):
            return port
    raise ClusterError(f'service "{name}" has no port {wanted!r}')


def service_url(service: Object, network: NetworkPlan, port: int | str | None = None) -> str:
    """The URL the host reaches ``service`` at (its ``port``: number or name; default the
    first)."""
    spec = service.get("spec") or {}
    chosen = _port(service, port)
    name = service["metadata"]["name"]
    if spec.get("type") in ("NodePort", "LoadBalancer") and chosen.get("nodePort"):
        return f"http://{network.node_address(0)}:{chosen['nodePort']}"
    cluster_ip = spec.get("clusterIP")
    if not cluster_ip or cluster_ip == "None":
        raise ClusterError(f'service "{name}" is headless: it has no address to reach')
    return f"http://{cluster_ip}:{listen_port(int(chosen['port']))}"
