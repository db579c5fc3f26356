"""The cluster DNS against a real in-process cluster, asked over real UDP and TCP sockets."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import attrs
import dns.asyncquery
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.reversename
import pytest

from minikube_py.client import ENDPOINT_SLICES, PODS, SERVICES, Client
from minikube_py.cluster import RunningCluster, running_cluster
from minikube_py.config import NetworkPlan
from minikube_py.net.dns import IN_PROCESS_ANNOTATION, ClusterDns
from tests.clusters import API_CONTROLLERS, ephemeral_config

WAIT = 5.0  # seconds a change may take to be answered (it takes milliseconds)


@attrs.frozen
class Dns:
    cluster: RunningCluster
    server: ClusterDns
    client: Client

    async def ask(self, name: str, rdtype: str = "A", *, tcp: bool = False) -> dns.message.Message:
        query = dns.message.make_query(name, rdtype)
        send = dns.asyncquery.tcp if tcp else dns.asyncquery.udp
        return await send(query, self.server.address, port=self.server.port, timeout=2)


@contextlib.asynccontextmanager
async def serving(server: ClusterDns) -> AsyncIterator[None]:
    task = asyncio.create_task(server.run())
    try:
        ready = asyncio.create_task(server.wait_ready())
        async with asyncio.timeout(10):
            await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            ready.cancel()
            task.result()  # raises what stopped it
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def cluster_dns(tmp_path: Path) -> AsyncIterator[Dns]:
    """A cluster and the DNS server it runs (on the kube-dns ClusterIP, port 53 where this
    process may bind it); the test's own client writes the objects it asks about."""
    async with running_cluster(ephemeral_config(tmp_path, API_CONTROLLERS)) as running:
        client = running.api_server.client("dns-test")
        try:
            yield Dns(running, running.networking.dns, client)
        finally:
            await client.close()


async def eventually(check: Callable[[], Awaitable[Any]], what: str) -> Any:
    try:
        async with asyncio.timeout(WAIT):
            while True:
                if result := await check():
                    return result
                await asyncio.sleep(0.01)
    except TimeoutError:
        pytest.fail(f"timed out waiting for {what}")


def records(response: dns.message.Message, section: str = "answer") -> list[tuple[str, str]]:
    """(type, data) of every record in a section, sorted."""
    return sorted(
        (dns.rdatatype.to_text(rrset.rdtype), rr.to_text())
        for rrset in getattr(response, section)
        for rr in rrset
    )


async def test_the_dns_service_and_what_it_serves(cluster_dns: Dns) -> None:
    network: NetworkPlan = cluster_dns.cluster.network
    address = str(ipaddress.ip_network(network.service_block).network_address + 10)
    assert cluster_dns.server.address == address
    assert cluster_dns.server.port in (53, 64512 + 53)

    async def service() -> dict[str, Any] | None:
        with contextlib.suppress(Exception):
            return await cluster_dns.client.get(SERVICES, "kube-system", "kube-dns")
        return None

    kube_dns = await eventually(service, "the kube-dns Service")
    assert kube_dns["spec"]["clusterIP"] == address
    assert "selector" not in kube_dns["spec"]
    assert [(p["name"], p["port"], p["protocol"]) for p in kube_dns["spec"]["ports"]] == [
        ("dns", 53, "UDP"),
        ("dns-tcp", 53, "TCP"),
        ("metrics", 9153, "TCP"),
    ]
    assert kube_dns["metadata"]["labels"]["k8s-app"] == "kube-dns"
    assert kube_dns["metadata"]["annotations"][IN_PROCESS_ANNOTATION] == "true"

    # the DNS Service names itself, and the kubernetes Service is there from the start
    answer = await cluster_dns.ask("kube-dns.kube-system.svc.cluster.local.")
    assert records(answer) == [("A", address)]
    assert answer.flags & dns.flags.AA
    kubernetes = await cluster_dns.ask("kubernetes.default.svc.cluster.local.", tcp=True)
    kubernetes_ip = str(ipaddress.ip_network(network.service_block).network_address + 1)
    assert records(kubernetes) == [("A", kubernetes_ip)]
    version = await cluster_dns.ask("dns-version.cluster.local.", "TXT", tcp=True)
    assert records(version) == [("TXT", '"1.1.0"')]


async def test_a_new_service_answers_at_once_and_its_deletion_too(cluster_dns: Dns) -> None:
    service = {
        "metadata": {"name": "backend", "namespace": "default"},
        "spec": {"ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]},
    }
    made = await cluster_dns.client.create(SERVICES, "default", service)
    ip = made["spec"]["clusterIP"]
    name = "backend.default.svc.cluster.local."

    async def answered() -> bool:
        return records(await cluster_dns.ask(name)) == [("A", ip)]

    await eventually(answered, "the new Service's A record")
    srv = await cluster_dns.ask("_http._tcp." + name, "SRV")
    assert records(srv) == [("SRV", f"0 100 8080 {name}")]
    assert records(srv, "additional") == [("A", ip)]
    reverse = await cluster_dns.ask(dns.reversename.from_address(ip).to_text(), "PTR", tcp=True)
    assert records(reverse) == [("PTR", name)]
    nodata = await cluster_dns.ask(name, "AAAA")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer
    assert records(nodata, "authority")[0][0] == "SOA"

    await cluster_dns.client.delete(SERVICES, "default", "backend")

    async def gone() -> bool:
        return (await cluster_dns.ask(name)).rcode() == dns.rcode.NXDOMAIN

    await eventually(gone, "NXDOMAIN for the deleted Service")
    missing = await cluster_dns.ask(name)
    assert records(missing, "authority")[0][0] == "SOA"


async def test_a_headless_service_resolves_to_its_ready_endpoints(cluster_dns: Dns) -> None:
    pod_block = ipaddress.ip_network(cluster_dns.cluster.network.pod_block)
    ready, other, unready = (str(pod_block.network_address + i) for i in (5, 6, 7))
    await cluster_dns.client.create(
        SERVICES,
        "default",
        {
            "metadata": {"name": "db", "namespace": "default"},
            "spec": {"clusterIP": "None", "ports": [{"name": "pg", "port": 5432}]},
        },
    )
    await cluster_dns.client.create(
        ENDPOINT_SLICES,
        "default",
        {
            "metadata": {
                "name": "db-hand-made",
                "namespace": "default",
                "labels": {"kubernetes.io/service-name": "db"},
            },
            "addressType": "IPv4",
            "endpoints": [
                {"addresses": [ready], "conditions": {"ready": True}, "hostname": "db-0"},
                {"addresses": [other], "conditions": {"ready": True}},
                {"addresses": [unready], "conditions": {"ready": False}},
            ],
            "ports": [{"name": "pg", "port": 5432, "protocol": "TCP"}],
        },
    )
    name = "db.default.svc.cluster.local."

    async def both() -> bool:
        return records(await cluster_dns.ask(name)) == sorted([("A", ready), ("A", other)])

    await eventually(both, "the headless Service's endpoint addresses")
    assert records(await cluster_dns.ask("db-0." + name)) == [("A", ready)]
    dashed = other.replace(".", "-")
    srv = await cluster_dns.ask("_pg._tcp." + name, "SRV", tcp=True)
    assert records(srv) == sorted(
        [("SRV", f"0 50 5432 db-0.{name}"), ("SRV", f"0 50 5432 {dashed}.{name}")]
    )
    reverse = await cluster_dns.ask(dns.reversename.from_address(ready).to_text(), "PTR")
    assert records(reverse) == [("PTR", f"db-0.{name}")]


async def test_external_names_pods_and_missing_names(cluster_dns: Dns) -> None:
    await cluster_dns.client.create(
        SERVICES,
        "default",
        {
            "metadata": {"name": "outside", "namespace": "default"},
            "spec": {"type": "ExternalName", "externalName": "localhost"},
        },
    )

    async def cname() -> dns.message.Message | None:
        answer = await cluster_dns.ask("outside.default.svc.cluster.local.")
        return answer if answer.answer else None

    answer = await eventually(cname, "the ExternalName's CNAME")
    # the CNAME, then its target's address from the host's resolver (/etc/hosts)
    assert records(answer) == [("A", "127.0.0.1"), ("CNAME", "localhost.")]

    pod = await cluster_dns.ask("127-244-3-4.default.pod.cluster.local.")
    assert records(pod) == [("A", "127.244.3.4")]
    for missing in ("nothing.default.svc.cluster.local.", "x.no-such-namespace.svc.cluster.local."):
        response = await cluster_dns.ask(missing)
        assert response.rcode() == dns.rcode.NXDOMAIN, missing
        assert records(response, "authority")[0][0] == "SOA"


async def test_names_outside_the_cluster_go_to_the_host(cluster_dns: Dns) -> None:
    answer = await cluster_dns.ask("localhost.")
    assert records(answer) == [("A", "127.0.0.1")]
    assert answer.flags & dns.flags.RA and not answer.flags & dns.flags.AA
    refused = await cluster_dns.ask("localhost.", "MX")
    assert refused.rcode() == dns.rcode.REFUSED


async def test_garbage_does_not_stop_it(cluster_dns: Dns) -> None:
    loop = asyncio.get_running_loop()
    target = (cluster_dns.server.address, cluster_dns.server.port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        raw.setblocking(False)
        for garbage in (b"\x00", b"\xab" * 30, bytes(range(256))):
            await loop.sock_sendto(raw, garbage, target)
    # a framed message that is no DNS message, then a question on the same connection
    reader, writer = await asyncio.open_connection(*target)
    try:
        query = dns.message.make_query("kubernetes.default.svc.cluster.local.", "A")
        writer.write(b"\x00\x03abc" + len(query.to_wire()).to_bytes(2, "big") + query.to_wire())
        await writer.drain()
        async with asyncio.timeout(2):
            length = int.from_bytes(await reader.readexactly(2), "big")
            assert dns.message.from_wire(await reader.readexactly(length)).id == query.id
    finally:
        writer.close()
    answer = await cluster_dns.ask("kubernetes.default.svc.cluster.local.")
    assert answer.rcode() == dns.rcode.NOERROR and answer.answer
    answer = await cluster_dns.ask("kubernetes.default.svc.cluster.local.", tcp=True)
    assert answer.rcode() == dns.rcode.NOERROR and answer.answer


async def test_pods_verified_answers_only_for_existing_pods(cluster_dns: Dns) -> None:
    verified = ClusterDns(cluster_dns.client, cluster_dns.cluster.network, pods="verified", port=0)
    pod = {
        "metadata": {"name": "p", "namespace": "default"},
        # bound to a node that does not exist: no kubelet runs it, the test writes its status
        "spec": {"nodeName": "elsewhere", "containers": [{"name": "c", "image": "pause"}]},
    }
    await cluster_dns.client.create(PODS, "default", pod)
    made = await cluster_dns.client.get(PODS, "default", "p")
    made["status"] = {"phase": "Running", "podIP": "127.244.9.9", "podIPs": [{"ip": "127.244.9.9"}]}
    await cluster_dns.client.update_status(PODS, "default", made)
    async with serving(verified):
        asker = Dns(cluster_dns.cluster, verified, cluster_dns.client)

        async def found() -> bool:
            answer = await asker.ask("127-244-9-9.default.pod.cluster.local.")
            return records(answer) == [("A", "127.244.9.9")]

        await eventually(found, "the verified pod record")
        other = await asker.ask("127-244-9-8.default.pod.cluster.local.")
        assert other.rcode() == dns.rcode.NXDOMAIN


async def test_a_taken_port_53_falls_back_to_the_offset_port(cluster_dns: Dns) -> None:
    if cluster_dns.server.port != 53:
        pytest.skip("this process may not bind port 53: the fixture's server already fell back")
    # the fixture's server holds 53 on the DNS address; a second one must say so and move
    second = ClusterDns(cluster_dns.client, cluster_dns.cluster.network, port=53)
    async with serving(second):
        assert second.port == 64512 + 53
        asker = Dns(cluster_dns.cluster, second, cluster_dns.client)
        answer = await asker.ask("kubernetes.default.svc.cluster.local.", tcp=True)
        assert answer.answer


async def test_before_its_caches_are_filled_a_missing_name_is_servfail() -> None:
    # never run: its informers have listed nothing, so "no such name" cannot be known yet
    server = ClusterDns(cast(Client, object()), NetworkPlan())
    missing = dns.message.make_query("web.default.svc.cluster.local.", "A")
    assert (await server.handle(missing)).rcode() == dns.rcode.SERVFAIL
    # what needs no cache is answered
    version = dns.message.make_query("dns-version.cluster.local.", "TXT")
    assert records(await server.handle(version)) == [("TXT", '"1.1.0"')]
    chaos = dns.message.make_query("version.bind.", "TXT", rdclass="CH")
    assert (await server.handle(chaos)).rcode() == dns.rcode.REFUSED


async def test_an_existing_dns_service_is_marked_in_process(cluster_dns: Dns) -> None:
    client = cluster_dns.client

    async def annotations() -> dict[str, str]:
        with contextlib.suppress(Exception):
            found = await client.get(SERVICES, "kube-system", "kube-dns")
            return dict(found["metadata"].get("annotations") or {})
        return {}

    await eventually(annotations, "the kube-dns Service")
    # as left by something else: without the annotation the service proxy would take its port
    unmark = {"metadata": {"annotations": {IN_PROCESS_ANNOTATION: None}}}
    await client.patch(SERVICES, "kube-system", "kube-dns", unmark)
    assert IN_PROCESS_ANNOTATION not in await annotations()
    again = ClusterDns(client, cluster_dns.cluster.network, port=0)
    async with serving(again):

        async def marked() -> bool:
            return (await annotations()).get(IN_PROCESS_ANNOTATION) == "true"

        await eventually(marked, "the annotation back on kube-dns")
