"""The cluster DNS: CoreDNS's kubernetes plugin, in-process, for ``cluster.local``.

Every Kubernetes cluster runs a DNS server (CoreDNS on minikube) behind the ``kube-dns``
Service in ``kube-system``, at the service range's tenth address (10.96.0.10; here the
cluster's service block's .10), and every pod's ``/etc/resolv.conf`` names it. It is an API
client like any other: informers keep Services, EndpointSlices and Namespaces (and pods, for
``pods verified``) in a local cache, and each question is answered from that cache
(``dns_catalog.py``, ``dns_records.py``), so a new Service answers as soon as its watch event
arrives — nothing polls.

``ClusterDns`` makes sure the ``kube-dns`` Service exists (no selector: no pod serves it; it
carries ``minikube-py.io/in-process: "true"``, which tells the service proxy not to listen on
its ClusterIP, because this server listens there itself), then serves DNS over UDP and TCP on
``<dns ip>:53`` (``dns_server.py``). Where port 53 cannot be bound (no privilege), it uses
``LOW_PORT_OFFSET + 53`` on the same address, as every low-port cluster listener does, and says
so. Names outside the cluster go to the host's resolver (``dns_upstream.py``), as CoreDNS's
``forward . /etc/resolv.conf``; an ExternalName's CNAME target is resolved there too.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import random
from collections.abc import Callable, Mapping
from typing import Any

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from minikube_py.client import (
    ENDPOINT_SLICES,
    GVR,
    NAMESPACES,
    PODS,
    SERVICES,
    ApiError,
    Client,
)
from minikube_py.client.informer import Informer
from minikube_py.config import LOW_PORT_OFFSET, NetworkPlan, listen_port
from minikube_py.logs import get_logger
from minikube_py.net.dns_catalog import DnsCatalog
from minikube_py.net.dns_records import Answer, ClusterZone, PodMode, Record
from minikube_py.net.dns_server import DnsServer, reply
from minikube_py.net.dns_upstream import HostResolver

_log = get_logger("dns")

IN_PROCESS_ANNOTATION = "minikube-py.io/in-process"  # the service proxy skips such Services
SERVICE_NAME, SERVICE_NAMESPACE = "kube-dns", "kube-system"


def dns_ip(network: NetworkPlan) -> str:
    """The DNS Service's ClusterIP: the service block's tenth address (10.96.0.10 upstream)."""
    return str(ipaddress.ip_network(network.service_block).network_address + 10)


def dns_service(address: str) -> dict[str, Any]:
    """The ``kube-dns`` Service as minikube's CoreDNS addon has it, without a selector."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": SERVICE_NAME,
            "namespace": SERVICE_NAMESPACE,
            "labels": {
                "k8s-app": "kube-dns",
                "kubernetes.io/cluster-service": "true",
                "kubernetes.io/name": "CoreDNS",
            },
            "annotations": {
                "prometheus.io/port": "9153",
                "prometheus.io/scrape": "true",
                IN_PROCESS_ANNOTATION: "true",
            },
        },
        "spec": {
            "clusterIP": address,
            "clusterIPs": [address],
            "ports": [
                {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153},
            ],
        },
    }


class ClusterDns:
    """The cluster's DNS server; ``run()`` until cancelled. ``address``:``port`` is where it
    listens (``port`` is final once ``wait_ready()`` returned)."""

    def __init__(
        self,
        client: Client,
        network: NetworkPlan,
        *,
        domain: str = "cluster.local",
        ttl: int = 30,  # minikube's Corefile says ``ttl 30`` (the plugin's default is 5)
        pods: PodMode = "insecure",
        port: int | None = None,  # None: 53, or its fallback where 53 cannot be bound
        hosts: Mapping[str, str] | None = None,  # None: host.minikube.internal, as minikube
        upstream: HostResolver | None = None,
    ) -> None:
        self.client = client
        self.network = network
        self.address = dns_ip(network)
        self.port = listen_port(53) if port is None else port
        if port is None and self.port != 53:
            _log.warning(
                f"port 53 needs privilege this process lacks; the cluster DNS listens on "
                f"{self.address}:{self.port} instead (programs that can only ask port 53 "
                "cannot use it)",
                key=f"{SERVICE_NAMESPACE}/{SERVICE_NAME}",
            )
        self.catalog = DnsCatalog()
        gateway = str(ipaddress.ip_network(network.node_block).network_address + 1)
        self.zone = ClusterZone(
            self.catalog,
            dns_ip=self.address,
            domain=domain,
            ttl=ttl,
            pods=pods,
            hosts={"host.minikube.internal": gateway} if hosts is None else hosts,
            owned_networks=(network.service_block, network.pod_block),
        )
        self.upstream = upstream or HostResolver()
        self._informers = [
            self._informer(SERVICES, self.catalog.put_service, self.catalog.delete_service),
            self._informer(ENDPOINT_SLICES, self.catalog.put_slice, self.catalog.delete_slice),
            self._informer(NAMESPACES, self.catalog.put_namespace, self.catalog.delete_namespace),
        ]
        if pods == "verified":
            self._informers.append(
                self._informer(PODS, self.catalog.put_pod, self.catalog.delete_pod)
            )
        self._serving = asyncio.Event()

    def _informer(
        self, gvr: GVR, put: Callable[[Any], None], delete: Callable[[Any], None]
    ) -> Informer:
        informer = Informer(self.client, gvr)
        informer.on_add(put)
        informer.on_update(lambda _old, new: put(new))
        informer.on_delete(delete)
        return informer

    @property
    def synced(self) -> bool:
        return all(informer.has_synced for informer in self._informers)

    async def wait_ready(self) -> None:
        """Until it listens and its caches hold the first lists."""
        await self._serving.wait()
        for informer in self._informers:
            await informer.wait_synced()

    async def run(self) -> None:
        server = DnsServer(self.handle, host=self.address, port=self.port)
        tasks = [
            asyncio.create_task(i.run(), name=f"dns informer {i.gvr}") for i in self._informers
        ]
        tasks.append(asyncio.create_task(self._ensure_service(), name="dns service"))
        try:
            await self._listen(server)
            self._serving.set()
            await asyncio.Future()  # serve until cancelled
        finally:
            self._serving.clear()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await server.stop()

    async def _listen(self, server: DnsServer) -> None:
        try:
            await server.start()
        except OSError as error:
            if not 0 < self.port < 1024:
                raise
            fallback = LOW_PORT_OFFSET + self.port
            _log.warning(
                f"cannot listen on {self.address}:{self.port} ({error.strerror}); the cluster "
                f"DNS listens on {self.address}:{fallback} instead",
                key=f"{SERVICE_NAMESPACE}/{SERVICE_NAME}",
            )
            server.port = fallback
            await server.start()
        self.port = server.port
        _log.info(
            "cluster DNS serving",
            key=f"{SERVICE_NAMESPACE}/{SERVICE_NAME}",
            address=f"{self.address}:{self.port}",
            domain=self.zone.domain,
        )

    async def _ensure_service(self) -> None:
        """Create ``kube-dns`` if missing; retried until it is there (the API may be busy)."""
        key = f"{SERVICE_NAMESPACE}/{SERVICE_NAME}"
        delay = 0.1
        while True:
            try:
                try:
                    await self.client.create(SERVICES, SERVICE_NAMESPACE, dns_service(self.address))
                    _log.info("created the DNS Service", key=key)
                except ApiError as error:
                    if error.code != 409:
                        raise
                    await self._adopt_service(key)  # it exists: a restart of the cluster
                return
            except ApiError as error:
                _log.warning("cannot create the DNS Service", key=key, error=str(error))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    async def _adopt_service(self, key: str) -> None:
        """An existing ``kube-dns`` gets the in-process annotation (so the proxy leaves its
        address to us); one on another address is reported, not changed."""
        existing = await self.client.get(SERVICES, SERVICE_NAMESPACE, SERVICE_NAME)
        metadata = existing.get("metadata") or {}
        if (metadata.get("annotations") or {}).get(IN_PROCESS_ANNOTATION) != "true":
            patch = {"metadata": {"annotations": {IN_PROCESS_ANNOTATION: "true"}}}
            await self.client.patch(SERVICES, SERVICE_NAMESPACE, SERVICE_NAME, patch)
        if (existing.get("spec") or {}).get("clusterIP") != self.address:
            _log.warning(
                f"the DNS Service has the address {existing['spec'].get('clusterIP')}, but the "
                f"cluster DNS listens on {self.address}",
                key=key,
            )

    # -- answering ------------------------------------------------------------------------

    async def handle(self, query: dns.message.Message) -> dns.message.Message:
        """The response to one parsed question (the transports call this)."""
        question = query.question[0]
        if question.rdclass != dns.rdataclass.IN:
            return reply(query, dns.rcode.REFUSED)
        qname, qtype = question.name.to_text(), dns.rdatatype.to_text(question.rdtype)
        answer = self.zone.answer(qname, qtype)
        if answer is None:  # not a cluster name: the host's resolver
            response = _response(query, await self.upstream.answer(qname, qtype))
            response.flags |= dns.flags.RA
            return response
        if answer.rcode == dns.rcode.NXDOMAIN and not self.synced:
            return reply(query, dns.rcode.SERVFAIL)  # as CoreDNS: cannot know yet
        if qtype in ("A", "AAAA"):
            answer = await self._follow_cname(answer, qtype)
        response = _response(query, answer)
        response.flags |= dns.flags.AA
        return response

    async def _follow_cname(self, answer: Answer, qtype: str) -> Answer:
        """An ExternalName's CNAME with its target's addresses, as CoreDNS adds them."""
        cnames = [r for r in answer.answer if r.rdtype == "CNAME"]
        if not cnames:
            return answer
        target = cnames[0].data
        inside = self.zone.answer(target, qtype)
        found = list(inside.answer) if inside is not None else []
        if inside is None:
            with contextlib.suppress(Exception):
                found = await self.upstream.addresses(target, qtype)
        return Answer(answer.rcode, (*answer.answer, *found), answer.authority, answer.additional)


def _response(query: dns.message.Message, answer: Answer) -> dns.message.Message:
    response = reply(query, answer.rcode)
    response.answer = _rrsets(answer.answer, shuffle=True)
    response.authority = _rrsets(answer.authority)
    response.additional += _rrsets(answer.additional)
    return response


def _rrsets(records: tuple[Record, ...], *, shuffle: bool = False) -> list[dns.rrset.RRset]:
    """Records grouped into RRsets; addresses in random order, as CoreDNS's ``loadbalance``."""
    groups: dict[tuple[str, str], list[Record]] = {}
    for record in records:
        groups.setdefault((record.name.lower(), record.rdtype), []).append(record)
    rrsets = []
    for group in groups.values():
        if shuffle and group[0].rdtype in ("A", "AAAA"):
            random.shuffle(group)
        first = group[0]
        rrsets.append(
            dns.rrset.from_text(first.name, first.ttl, "IN", first.rdtype, *(r.data for r in group))
        )
    return rrsets
