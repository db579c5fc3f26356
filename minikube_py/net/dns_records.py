"""The answers of the cluster DNS: which records a name has, from the cached objects.

Kubernetes' DNS specification (github.com/kubernetes/dns, ``docs/specification.md``) and
CoreDNS's kubernetes plugin — what minikube runs, with ``pods insecure`` and ``ttl 30`` —
give the names inside the cluster domain (``cluster.local``):

- ``<svc>.<ns>.svc.<zone>``: ``A`` of the ClusterIP; of every published endpoint for a
  headless Service (no endpoint: ``NXDOMAIN``); a ``CNAME`` for an ExternalName Service.
- ``<endpoint>.<svc>.<ns>.svc.<zone>``: ``A`` of that endpoint, named by its ``hostname``
  (set for a pod with ``hostname`` and a ``subdomain`` naming the Service) or by its dashed
  address (``10-244-0-5``).
- ``_<port>._<proto>.<svc>.<ns>.svc.<zone>``: ``SRV`` per named port: to the Service name
  for a ClusterIP, to each endpoint's name for a headless Service, with their ``A`` records
  in the additional section; asked on ``<svc>.<ns>.svc.<zone>``, every port answers.
- ``<a-b-c-d>.<ns>.pod.<zone>``: ``A`` of ``a.b.c.d`` without checking a pod has it
  (``insecure``), only if one in ``<ns>`` has it (``verified``), or nothing (``disabled``).
- ``PTR`` under ``in-addr.arpa`` for ClusterIPs and published endpoint addresses.
- ``dns-version.<zone>`` ``TXT`` ``"1.1.0"``, the schema version CoreDNS serves; the zone's
  ``SOA`` and ``NS`` (``ns.dns.<zone>``, the DNS Service's address).

A name in the zone that does not exist is ``NXDOMAIN``, an existing one asked for another type
is ``NODATA`` (``NOERROR``, no answer); both carry the zone's ``SOA`` in the authority section
so resolvers cache the negative answer (its minimum is the TTL). Names are compared
case-insensitively; answers keep the question's spelling. ``answer`` returns ``None`` for a
name that is not the cluster's (the caller forwards it). Nothing here does I/O.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Literal

import attrs
import dns.name
import dns.rcode
import dns.reversename

from minikube_py.net.dns_catalog import DnsCatalog, ServiceEntry

SCHEMA_VERSION = "1.1.0"  # CoreDNS's DNSSchemaVersion
VERSION_TTL = 28800  # CoreDNS answers dns-version with this TTL
PodMode = Literal["insecure", "verified", "disabled"]
_REVERSE_ZONES = (dns.name.from_text("in-addr.arpa."), dns.name.from_text("ip6.arpa."))


@attrs.frozen
class Record:
    name: str  # absolute owner name
    rdtype: str  # "A", "SRV", …
    ttl: int
    data: str  # the record data in presentation format ("0 100 80 web.default.svc…")


@attrs.frozen
class Answer:
    rcode: dns.rcode.Rcode
    answer: tuple[Record, ...] = ()
    authority: tuple[Record, ...] = ()
    additional: tuple[Record, ...] = ()


@attrs.frozen
class _Target:
    host: str  # an address, or the external name of an ExternalName Service
    port: int  # -1: none
    name: str  # the name an SRV record points to


class _NotFound(Exception):
    """The name does not exist: NXDOMAIN."""


def _pod_address(label: str) -> str | None:
    """``10-244-0-5`` → ``10.244.0.5`` (IPv6 with dashes for colons), as CoreDNS reads it."""
    text = label.replace("-", ".") if label.count("-") == 3 and "--" not in label else None
    try:
        return str(ipaddress.ip_address(text or label.replace("-", ":")))
    except ValueError:
        return None


class ClusterZone:
    """Answers questions about the cluster domain and the cluster's reverse names."""

    def __init__(
        self,
        catalog: DnsCatalog,
        *,
        dns_ip: str,
        domain: str = "cluster.local",
        ttl: int = 30,
        pods: PodMode = "insecure",
        hosts: Mapping[str, str] | None = None,
        owned_networks: Iterable[str] = (),
    ) -> None:
        self.catalog = catalog
        self.dns_ip = dns_ip
        self.zone = dns.name.from_text(domain)
        self.domain = self.zone.to_text().lower()  # "cluster.local."
        self.ttl = ttl
        self.pods = pods
        self.hosts = {n.lower().rstrip("."): ip for n, ip in (hosts or {}).items()}
        self.owned = [ipaddress.ip_network(n) for n in owned_networks]

    def answer(self, qname: str, qtype: str) -> Answer | None:
        """The answer to ``qname``/``qtype`` (``"A"``, ``"SRV"``…); ``None`` if not ours."""
        name = dns.name.from_text(qname)
        owner = name.to_text()
        host = self.hosts.get(owner.lower().rstrip("."))
        if host is not None:  # minikube's Corefile ``hosts`` block, asked before the zone
            rrs = (Record(owner, "A", self.ttl, host),) if qtype == "A" else ()
            return Answer(dns.rcode.NOERROR, rrs)
        if name.is_subdomain(self.zone):
            try:
                return self._in_zone(name, owner, qtype)
            except (_NotFound, UnicodeDecodeError):
                return Answer(dns.rcode.NXDOMAIN, authority=(self._soa(self.domain),))
        if any(name.is_subdomain(zone) for zone in _REVERSE_ZONES):
            return self._reverse(name, owner, qtype)
        return None

    # -- the cluster domain ---------------------------------------------------------------

    def _soa(self, zone: str) -> Record:
        data = f"ns.dns.{zone} hostmaster.{zone} {self.catalog.serial} 7200 1800 86400 {self.ttl}"
        return Record(zone, "SOA", self.ttl, data)

    def _nodata(self, zone: str | None = None) -> Answer:
        return Answer(dns.rcode.NOERROR, authority=(self._soa(zone or self.domain),))

    def _in_zone(self, name: dns.name.Name, owner: str, qtype: str) -> Answer:
        labels = [label.decode("ascii").lower() for label in name.relativize(self.zone).labels]
        if not labels and qtype in ("SOA", "NS"):
            if qtype == "SOA":
                return Answer(dns.rcode.NOERROR, (self._soa(self.domain),))
            ns = f"ns.dns.{self.domain}"
            return Answer(
                dns.rcode.NOERROR,
                (Record(owner, "NS", self.ttl, ns),),
                additional=(Record(ns, "A", self.ttl, self.dns_ip),),
            )
        if labels == ["ns", "dns"]:
            rrs = (Record(owner, "A", self.ttl, self.dns_ip),) if qtype == "A" else ()
            return Answer(dns.rcode.NOERROR, rrs) if rrs else self._nodata()
        if labels == ["dns-version"]:
            if qtype != "TXT":
                return self._nodata()
            return Answer(
                dns.rcode.NOERROR, (Record(owner, "TXT", VERSION_TTL, f'"{SCHEMA_VERSION}"'),)
            )
        return self._typed(owner, qtype, self._targets(labels))

    def _typed(self, owner: str, qtype: str, targets: list[_Target]) -> Answer:
        """The records of ``qtype`` among what the name points at (none: NODATA)."""
        answer: dict[tuple[str, str], Record] = {}
        additional: dict[tuple[str, str], Record] = {}
        external = [t for t in targets if not _is_address(t.host)]
        if external and qtype in ("A", "AAAA", "CNAME"):
            record = Record(owner, "CNAME", self.ttl, external[0].host + ".")
            answer[("CNAME", record.data)] = record
        elif qtype in ("A", "AAAA"):
            version = 4 if qtype == "A" else 6
            for target in targets:
                if ipaddress.ip_address(target.host).version == version:
                    answer[(qtype, target.host)] = Record(owner, qtype, self.ttl, target.host)
        elif qtype == "SRV":
            found = {(t.name, t.port): t for t in targets if t not in external and t.port >= 0}
            weight = 100 // len(found) if found else 0
            for (target_name, port), target in found.items():
                data = f"0 {weight} {port} {target_name}"
                answer[("SRV", data)] = Record(owner, "SRV", self.ttl, data)
                kind = "A" if ipaddress.ip_address(target.host).version == 4 else "AAAA"
                additional[(target_name, target.host)] = Record(
                    target_name, kind, self.ttl, target.host
                )
        if not answer:
            return self._nodata()
        return Answer(dns.rcode.NOERROR, tuple(answer.values()), (), tuple(additional.values()))

    def _targets(self, labels: list[str]) -> list[_Target]:
        """What an in-zone name points at; ``[]`` for a name that exists without records."""
        if not labels or labels in (["svc"], ["pod"]):
            return []
        kind = labels[-1]
        if kind not in ("svc", "pod") or len(labels) > 5:
            raise _NotFound
        namespace = labels[-2] if len(labels) > 1 else ""
        if not self.catalog.namespace_exists(namespace):
            raise _NotFound
        if len(labels) == 2:
            return []  # <ns>.svc.<zone>: exists, holds no records itself
        if kind == "pod":
            return self._pod(labels[-3], namespace, len(labels))
        service = self.catalog.service(namespace, labels[-3])
        rest = labels[:-3]
        if service is None or len(rest) > 2:
            raise _NotFound
        found = self._service_targets(service, rest)
        if not found:
            raise _NotFound
        return found

    def _pod(self, label: str, namespace: str, count: int) -> list[_Target]:
        address = _pod_address(label)
        if self.pods == "disabled" or count != 3 or address is None:
            raise _NotFound
        if self.pods == "verified" and not self.catalog.pod_in_namespace(address, namespace):
            raise _NotFound
        return [_Target(address, -1, "")]

    def _service_targets(self, service: ServiceEntry, rest: list[str]) -> list[_Target]:
        if service.external_name is not None:  # an address is no name to alias (CoreDNS)
            external = service.external_name
            return [_Target(external, -1, "")] if not rest and not _is_address(external) else []
        endpoint = rest[0] if len(rest) == 1 else None
        port, protocol = (
            (rest[0].removeprefix("_"), rest[1].removeprefix("_")) if len(rest) == 2 else ("", "")
        )

        def matches(name: str, proto: str) -> bool:
            return not port or (port == name.lower() and protocol == proto.lower())

        base = f"{service.name}.{service.namespace}.svc.{self.domain}".lower()
        found = []
        if service.headless or endpoint is not None:
            for ep in self.catalog.endpoints(service):
                if endpoint is not None and endpoint != ep.hostname:
                    continue
                for p in ep.ports:
                    if matches(p.name, p.protocol):
                        found.append(_Target(ep.address, p.number, f"{ep.hostname}.{base}"))
            return found
        for p in service.ports:
            if matches(p.name, p.protocol):
                found += [_Target(ip, p.number, base) for ip in service.cluster_ips]
        return found

    # -- reverse names --------------------------------------------------------------------

    def _reverse(self, name: dns.name.Name, owner: str, qtype: str) -> Answer | None:
        try:
            address = str(dns.reversename.to_address(name))
        except Exception:  # a partial reverse name (a network, not an address)
            return None
        zone = "in-addr.arpa." if ipaddress.ip_address(address).version == 4 else "ip6.arpa."
        names = [n + "." for n, ip in self.hosts.items() if ip == address]
        for service in self.catalog.services_with_ip(address)[:1]:
            names.append(f"{service.name}.{service.namespace}.svc.{self.domain}")
        if not names:
            for service, endpoint in self.catalog.endpoints_with_ip(address):
                names.append(
                    f"{endpoint.hostname}.{service.name}.{service.namespace}.svc.{self.domain}"
                )
        if names:
            if qtype != "PTR":
                return self._nodata(zone)
            rrs = {n: Record(owner, "PTR", self.ttl, n) for n in names}
            return Answer(dns.rcode.NOERROR, tuple(rrs.values()))
        if any(ipaddress.ip_address(address) in network for network in self.owned):
            return Answer(dns.rcode.NXDOMAIN, authority=(self._soa(zone),))
        return None  # not a cluster address: the host's resolver may know it


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
