"""The cluster's shape: its nodes, the simulated network's address plan, its controllers.

Real minikube gives node N the address 192.168.49.(N+1) and the pod range 10.244.(N-1).0/24;
services get ClusterIPs from 10.96.0.0/12. minikube_py keeps the same shape on loopback, where
all of 127.0.0.0/8 reaches this machine without root (see DESIGN.md's table):

    node addresses   127.49.0.2, 127.49.0.3, …      (the API server listens on the first)
    pod addresses    127.244.N.0/24 for node N (0-based), pods from .2 upwards
    ClusterIPs       127.96.0.0/16 (``kubernetes`` = .1, DNS = .10)

Nodes are named as minikube names them: the profile name for the first, then
``<profile>-m02``, ``<profile>-m03`` …. Every component reads these records instead of
computing addresses itself; clusters running side by side take disjoint plans, one per
address slot (``minikube_py.slots``).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Collection

import attrs

KUBERNETES_VERSION = "v1.32.0"  # the version every component reports (kubelet, discovery)

MAX_NODES = 250  # one /24 of node addresses, and one pod /24 per node in a /16


@attrs.frozen
class NetworkPlan:
    """Address blocks of one cluster (a profile); several profiles take disjoint blocks."""

    node_block: str = "127.49.0.0/24"
    pod_block: str = "127.244.0.0/16"
    service_block: str = "127.96.0.0/16"
    # external addresses for type LoadBalancer Services (what ``minikube tunnel`` provides)
    load_balancer_block: str = "127.50.0.0/24"
    slot: int = 0  # which address slot (minikube_py.slots) this plan is

    def node_address(self, index: int) -> str:
        """The address of node ``index`` (0-based): .2, .3, … as minikube's."""
        return str(ipaddress.ip_network(self.node_block)[index + 2])

    def pod_cidr(self, index: int) -> str:
        """The /24 pod range of node ``index``."""
        block = ipaddress.ip_network(self.pod_block)
        return str(list(block.subnets(new_prefix=24))[index]) if index < 256 else ""


def node_name(profile: str, index: int) -> str:
    """``minikube``, ``minikube-m02``, ``minikube-m03`` … for ``profile`` ``minikube``."""
    return profile if index == 0 else f"{profile}-m{index + 1:02d}"


@attrs.frozen
class NodeConfig:
    """One node: its name, address and pod range, and what it offers to pods.

    ``cpu`` and ``memory`` are Kubernetes quantities (``"2"``, ``"4Gi"``); ``None`` means the
    machine's own (psutil), as a real kubelet reports the host it runs on.
    """

    name: str
    address: str
    pod_cidr: str
    control_plane: bool = False
    cpu: str | None = None
    memory: str | None = None
    pods: int = 110
    ephemeral_storage: str | None = None
    labels: dict[str, str] = attrs.field(factory=dict)
    taints: tuple[dict[str, str], ...] = ()


def plan_nodes(
    profile: str,
    count: int,
    *,
    network: NetworkPlan | None = None,
    cpu: str | None = None,
    memory: str | None = None,
) -> list[NodeConfig]:
    """The ``count`` nodes of a profile, the first one the control plane."""
    if not 1 <= count <= MAX_NODES:
        raise ValueError(f"a cluster has between 1 and {MAX_NODES} nodes, not {count}")
    network = network or NetworkPlan()
    return [
        NodeConfig(
            name=node_name(profile, index),
            address=network.node_address(index),
            pod_cidr=network.pod_cidr(index),
            control_plane=index == 0,
            cpu=cpu,
            memory=memory,
        )
        for index in range(count)
    ]


@attrs.frozen
class ControllerSettings:
    """What the controllers are told; upstream's defaults, shorter in tests."""

    # which controllers run, as upstream's --controllers flag: "*" all of them, a name one,
    # "-name" not that one (``("*", "-deployment")``: all but the Deployment controller)
    controllers: Collection[str] = ("*",)
    # --node-monitor-grace-period: how long a node may be silent before it is Unknown
    node_grace_period: float = 40.0
    # --node-monitor-period: how often the node lifecycle controller looks
    node_monitor_period: float = 5.0

    def enabled(self, name: str) -> bool:
        if f"-{name}" in self.controllers:
            return False
        return name in self.controllers or "*" in self.controllers


# Ports below 1024 need privilege (root, CAP_NET_BIND_SERVICE, or a lowered
# net.ipv4.ip_unprivileged_port_start). Where a cluster listener (a ClusterIP's port 80, DNS on
# 53, the Ingress on 80/443) cannot have its port, it listens on LOW_PORT_OFFSET + port of the
# same address instead (80 → 64592): above Linux's ephemeral range (32768-60999), so outgoing
# connections never hold them. Pods' Python programs are sent there by their start-up hook.
LOW_PORT_OFFSET = 64512


def may_bind_low_ports() -> bool:
    """Whether this process may listen on ports below 1024."""
    if os.geteuid() == 0:
        return True
    try:
        with open("/proc/sys/net/ipv4/ip_unprivileged_port_start") as file:
            return int(file.read()) <= 1
    except (OSError, ValueError):
        return False


def listen_port(port: int, *, low_ports: bool | None = None) -> int:
    """The port a cluster listener for ``port`` really uses (the fallback above if needed)."""
    if port >= 1024 or (may_bind_low_ports() if low_ports is None else low_ports):
        return port
    return LOW_PORT_OFFSET + port
