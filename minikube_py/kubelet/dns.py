"""A pod's resolver configuration: which DNS servers, search path and options it gets.

Upstream's kubelet is told the cluster DNS address and domain (``--cluster-dns 10.96.0.10``,
``--cluster-domain cluster.local``) and the node's own resolver file (``--resolv-conf``), and
gives each pod an /etc/resolv.conf according to its ``dnsPolicy`` (``pkg/kubelet/network/dns``):

- ``ClusterFirst`` (the default): the cluster DNS is the only nameserver, the search path is
  ``<namespace>.svc.cluster.local svc.cluster.local cluster.local`` then the host's, and the
  options are ``ndots:5`` (a name with fewer than five dots tries the search path first).
  A ``hostNetwork`` pod gets ``Default`` instead;
- ``ClusterFirstWithHostNet``: the same, also for ``hostNetwork`` pods;
- ``Default``: the node's own resolver file as it is;
- ``None``: nothing but the pod's ``dnsConfig``.

``dnsConfig`` (nameservers, searches, options) is then merged in: duplicates dropped, an
option of the same name replaced. At most 3 nameservers and 32 search domains (2048
characters) are kept; cutting them is a ``DNSConfigForming`` warning, as upstream's. Without a
cluster DNS a ClusterFirst pod falls back to ``Default`` with a ``MissingClusterDNS`` warning.

The process runtime has no namespaces, so only programs that look for it read the file: the
kubelet also hands the pod's Python start-up hook the cluster DNS's real address and port,
the search path and ``ndots`` in its environment (``hook_env``; docs/networking.md).
Everything here but ``read_resolv_conf`` is pure.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

import attrs

from minikube_py.config import LOW_PORT_OFFSET, NetworkPlan, listen_port, may_bind_low_ports

Object = dict[str, Any]
DEFAULT_OPTIONS = ("ndots:5",)
MAX_NAMESERVERS = 3
MAX_SEARCH_PATHS = 32
MAX_SEARCH_CHARS = 2048
MAX_DOMAIN_LENGTH = 253  # a longer search domain makes some C libraries abort: dropped


@attrs.frozen
class ClusterNetworking:
    """What the kubelet tells pods about the cluster's network (its flags, in upstream)."""

    cluster_dns: tuple[str, ...] = ()  # --cluster-dns
    cluster_domain: str = "cluster.local"  # --cluster-domain
    dns_port: int = 53  # where the cluster DNS really listens (53 or the low-port fallback)
    resolv_conf: str = "/etc/resolv.conf"  # --resolv-conf: the base of Default pods' file
    # Where cluster listeners could not bind ports below 1024: the offset they use instead,
    # and the blocks whose addresses are cluster listeners (services, nodes, load balancers).
    low_port_offset: int | None = None
    cluster_blocks: tuple[str, ...] = ()

    @classmethod
    def for_network(
        cls, network: NetworkPlan, *, low_ports: bool | None = None
    ) -> ClusterNetworking:
        """The settings for a cluster with ``network``: DNS at the service block's .10."""
        low_ports = may_bind_low_ports() if low_ports is None else low_ports
        return cls(
            cluster_dns=(str(ipaddress.ip_network(network.service_block)[10]),),
            dns_port=listen_port(53, low_ports=low_ports),
            low_port_offset=None if low_ports else LOW_PORT_OFFSET,
            cluster_blocks=(
                network.service_block,
                network.node_block,
                network.load_balancer_block,
            ),
        )


@attrs.frozen
class ResolverConfig:
    """A resolv.conf's content: nameservers, search domains, options (``ndots:5``)."""

    servers: tuple[str, ...] = ()
    searches: tuple[str, ...] = ()
    options: tuple[str, ...] = ()

    def text(self) -> str:
        """The file, laid out as minikube's default runtime (Docker) writes a pod's and the
        Kubernetes docs show it: nameservers, then the search list, then the options."""
        lines = [f"nameserver {server}" for server in self.servers]
        if self.searches:
            lines.append("search " + " ".join(self.searches))
        if self.options:
            lines.append("options " + " ".join(self.options))
        return "".join(line + "\n" for line in lines)

    @property
    def ndots(self) -> int:
        """The ``ndots`` option (the last one wins, as in glibc), 1 when unset."""
        value = 1
        for option in self.options:
            name, _, number = option.partition(":")
            if name == "ndots" and number.isdigit():
                value = min(int(number), 15)  # glibc caps it at 15
        return value


def parse_resolv_conf(text: str) -> ResolverConfig:
    """Upstream's reading: nameservers accumulate, the last ``search`` and ``options`` win."""
    servers: list[str] = []
    searches: list[str] = []
    options: list[str] = []
    for line in text.splitlines():
        fields = line.strip().split()
        if not fields or fields[0].startswith("#"):
            continue
        if fields[0] == "nameserver" and len(fields) >= 2:
            servers.append(fields[1])
        elif fields[0] == "search":
            searches = [domain.removesuffix(".") for domain in fields[1:]]
        elif fields[0] == "options":
            options = fields[1:]
    return ResolverConfig(tuple(servers), tuple(searches), tuple(options))


def read_resolv_conf(path: str) -> ResolverConfig:
    """The node's resolver file (blocking; empty when there is none)."""
    if not path:
        return ResolverConfig()
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return parse_resolv_conf(file.read(10 << 20))
    except OSError:
        return ResolverConfig()


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _merge_options(existing: Sequence[str], extra: Sequence[Object]) -> tuple[str, ...]:
    merged: dict[str, str] = {}
    for option in existing:
        name, _, value = option.partition(":")
        merged[name] = value
    for item in extra:
        merged[str(item.get("name", ""))] = str(item.get("value") or "")
    return tuple(f"{name}:{value}" if value else name for name, value in merged.items() if name)


def _fit(config: ResolverConfig) -> tuple[ResolverConfig, list[tuple[str, str]]]:
    """Upstream's limits, with the ``DNSConfigForming`` warnings cutting them gives."""
    warnings: list[tuple[str, str]] = []
    servers = config.servers
    if len(servers) > MAX_NAMESERVERS:
        servers = servers[:MAX_NAMESERVERS]
        warnings.append(
            (
                "DNSConfigForming",
                "Nameserver limits were exceeded, some nameservers have been omitted, "
                f"the applied nameserver line is: {' '.join(servers)}",
            )
        )
    searches = list(config.searches[:MAX_SEARCH_PATHS])
    cut = len(config.searches) > MAX_SEARCH_PATHS
    kept = [domain for domain in searches if len(domain) <= MAX_DOMAIN_LENGTH]
    cut = cut or len(kept) < len(searches)
    while kept and len(" ".join(kept)) > MAX_SEARCH_CHARS:
        kept.pop()
        cut = True
    if cut:
        warnings.append(
            (
                "DNSConfigForming",
                "Search Line limits were exceeded, some search paths have been omitted, "
                f"the applied search line is: {' '.join(kept)}",
            )
        )
    return ResolverConfig(servers, tuple(kept), config.options), warnings


def pod_resolver(
    pod: Object, settings: ClusterNetworking, host: ResolverConfig
) -> tuple[ResolverConfig, list[tuple[str, str]]]:
    """The pod's resolver configuration and the warning Events ``(reason, message)`` due."""
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    warnings: list[tuple[str, str]] = []
    config = host
    cluster = policy == "ClusterFirstWithHostNet" or (
        policy not in ("Default", "None", "ClusterFirstWithHostNet") and not spec.get("hostNetwork")
    )
    if policy == "None":
        config = ResolverConfig()
    elif cluster and settings.cluster_dns:
        domain = settings.cluster_domain
        searches = host.searches
        if domain:
            namespace = meta.get("namespace") or "default"
            searches = (f"{namespace}.svc.{domain}", f"svc.{domain}", domain, *searches)
        config = ResolverConfig(settings.cluster_dns, _unique(searches), DEFAULT_OPTIONS)
    elif cluster:
        message = (
            "kubelet does not have ClusterDNS IP configured and cannot create Pod using "
            '"ClusterFirst" policy. Falling back to "Default" policy.'
        )
        pod_ref = f"{meta.get('name')}_{meta.get('namespace')}({meta.get('uid')})"
        warnings.append(("MissingClusterDNS", f'pod: "{pod_ref}". {message}'))
    extra = spec.get("dnsConfig")
    if extra:
        config = ResolverConfig(
            _unique([*config.servers, *(extra.get("nameservers") or [])]),
            _unique([*config.searches, *(extra.get("searches") or [])]),
            _merge_options(config.options, extra.get("options") or []),
        )
    config, forming = _fit(config)
    return config, warnings + forming


def hook_env(config: ResolverConfig, settings: ClusterNetworking) -> dict[str, str]:
    """What the Python start-up hook needs to resolve cluster names and reach cluster ports.

    The DNS variables are set only when the pod's nameservers include the cluster DNS (not for
    ``Default`` pods, or ``None`` pods naming other servers, which the hook leaves to the
    host's resolver); the low-port ones only when the cluster uses the fallback."""
    env: dict[str, str] = {}
    server = next((ip for ip in config.servers if ip in settings.cluster_dns), None)
    if server is not None:
        env["MINIKUBE_PY_DNS"] = f"{server}:{settings.dns_port}"
        env["MINIKUBE_PY_DNS_SEARCH"] = " ".join(config.searches)
        env["MINIKUBE_PY_DNS_NDOTS"] = str(config.ndots)
        env["MINIKUBE_PY_DNS_DOMAIN"] = settings.cluster_domain
    if settings.low_port_offset:
        env["MINIKUBE_PY_LOW_PORT_OFFSET"] = str(settings.low_port_offset)
        env["MINIKUBE_PY_CLUSTER_CIDRS"] = ",".join(settings.cluster_blocks)
    return env
