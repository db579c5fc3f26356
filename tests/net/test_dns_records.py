"""The cluster DNS's records from cached objects, without a cluster or sockets."""

from __future__ import annotations

from typing import Any

import dns.rcode
import pytest

from minikube_py.net.dns_catalog import DnsCatalog
from minikube_py.net.dns_records import Answer, ClusterZone, PodMode

DNS_IP = "127.96.0.10"


def service(name: str, namespace: str = "default", **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": namespace}, "spec": spec}


def endpoint_slice(
    name: str, service_name: str, endpoints: list[dict[str, Any]], ports: Any = None
) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": "default",
            "labels": {"kubernetes.io/service-name": service_name},
        },
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": ports,
    }


def make_zone(pods: PodMode = "insecure") -> tuple[ClusterZone, DnsCatalog]:
    catalog = DnsCatalog(clock=lambda: 1000.0)
    for namespace in ("default", "kube-system"):
        catalog.put_namespace({"metadata": {"name": namespace}})
    zone = ClusterZone(
        catalog,
        dns_ip=DNS_IP,
        pods=pods,
        hosts={"host.minikube.internal": "127.49.0.1"},
        owned_networks=("127.96.0.0/16", "127.244.0.0/16"),
    )
    return zone, catalog


@pytest.fixture
def zone() -> ClusterZone:
    made, catalog = make_zone()
    catalog.put_service(
        service(
            "web",
            clusterIP="127.96.0.20",
            clusterIPs=["127.96.0.20"],
            ports=[
                {"name": "http", "port": 80, "protocol": "TCP"},
                {"name": "dns", "port": 53, "protocol": "UDP"},
            ],
        )
    )
    catalog.put_service(
        service("db", clusterIP="None", ports=[{"name": "pg", "port": 5432, "protocol": "TCP"}])
    )
    catalog.put_slice(
        endpoint_slice(
            "db-abc",
            "db",
            [
                {"addresses": ["127.244.0.5"], "conditions": {"ready": True}, "hostname": "db-0"},
                {"addresses": ["127.244.0.6"], "conditions": {"ready": True}},
                {"addresses": ["127.244.0.7"], "conditions": {"ready": False}},
            ],
            [{"name": "pg", "port": 5433, "protocol": "TCP"}],
        )
    )
    catalog.put_service(service("ext", type="ExternalName", externalName="example.com"))
    return made


def answered(answer: Answer | None) -> list[tuple[str, str, str]]:
    assert answer is not None
    return sorted((r.name, r.rdtype, r.data) for r in answer.answer)


def test_a_service_name_is_its_cluster_ip(zone: ClusterZone) -> None:
    answer = zone.answer("web.default.svc.cluster.local.", "A")
    assert answer is not None and answer.rcode == dns.rcode.NOERROR
    assert answered(answer) == [("web.default.svc.cluster.local.", "A", "127.96.0.20")]
    assert answer.answer[0].ttl == 30
    # case-insensitive, answered in the question's spelling
    shouted = zone.answer("WEB.Default.SVC.cluster.local.", "A")
    assert answered(shouted) == [("WEB.Default.SVC.cluster.local.", "A", "127.96.0.20")]


def test_a_headless_service_is_its_ready_endpoints(zone: ClusterZone) -> None:
    assert [r[2] for r in answered(zone.answer("db.default.svc.cluster.local.", "A"))] == [
        "127.244.0.5",
        "127.244.0.6",
    ]
    by_hostname = zone.answer("db-0.db.default.svc.cluster.local.", "A")
    assert [r[2] for r in answered(by_hostname)] == ["127.244.0.5"]
    by_dashes = zone.answer("127-244-0-6.db.default.svc.cluster.local.", "A")
    assert [r[2] for r in answered(by_dashes)] == ["127.244.0.6"]
    not_ready = zone.answer("127-244-0-7.db.default.svc.cluster.local.", "A")
    assert not_ready is not None and not_ready.rcode == dns.rcode.NXDOMAIN


def test_publish_not_ready_addresses_publishes_every_endpoint() -> None:
    made, catalog = make_zone()
    catalog.put_service(service("db", clusterIP="None", publishNotReadyAddresses=True))
    catalog.put_slice(
        endpoint_slice(
            "db-1", "db", [{"addresses": ["127.244.0.7"], "conditions": {"ready": False}}]
        )
    )
    assert [r[2] for r in answered(made.answer("db.default.svc.cluster.local.", "A"))] == [
        "127.244.0.7"
    ]


def test_a_headless_service_without_ready_endpoints_is_nxdomain() -> None:
    made, catalog = make_zone()
    catalog.put_service(service("empty", clusterIP="None"))
    answer = made.answer("empty.default.svc.cluster.local.", "A")
    assert answer is not None and answer.rcode == dns.rcode.NXDOMAIN
    assert [r.rdtype for r in answer.authority] == ["SOA"]


def test_srv_for_named_ports(zone: ClusterZone) -> None:
    answer = zone.answer("_http._tcp.web.default.svc.cluster.local.", "SRV")
    assert answered(answer) == [
        (
            "_http._tcp.web.default.svc.cluster.local.",
            "SRV",
            "0 100 80 web.default.svc.cluster.local.",
        )
    ]
    assert answer is not None
    assert [(r.name, r.data) for r in answer.additional] == [
        ("web.default.svc.cluster.local.", "127.96.0.20")
    ]
    udp = zone.answer("_dns._udp.web.default.svc.cluster.local.", "SRV")
    assert [r[2] for r in answered(udp)] == ["0 100 53 web.default.svc.cluster.local."]
    wrong_protocol = zone.answer("_http._udp.web.default.svc.cluster.local.", "SRV")
    assert wrong_protocol is not None and wrong_protocol.rcode == dns.rcode.NXDOMAIN
    every_port = zone.answer("web.default.svc.cluster.local.", "SRV")
    assert len(answered(every_port)) == 2


def test_srv_of_a_headless_service_names_each_endpoint(zone: ClusterZone) -> None:
    answer = zone.answer("_pg._tcp.db.default.svc.cluster.local.", "SRV")
    # the endpoint's port (the target port), each endpoint weighted equally
    assert [r[2] for r in answered(answer)] == [
        "0 50 5433 127-244-0-6.db.default.svc.cluster.local.",
        "0 50 5433 db-0.db.default.svc.cluster.local.",
    ]
    assert answer is not None
    assert sorted(r.data for r in answer.additional) == ["127.244.0.5", "127.244.0.6"]


def test_external_name_is_a_cname(zone: ClusterZone) -> None:
    for qtype in ("A", "AAAA", "CNAME"):
        answer = zone.answer("ext.default.svc.cluster.local.", qtype)
        assert answered(answer) == [("ext.default.svc.cluster.local.", "CNAME", "example.com.")]
    srv = zone.answer("ext.default.svc.cluster.local.", "SRV")
    assert srv is not None and srv.rcode == dns.rcode.NOERROR and not srv.answer


def test_ptr_for_cluster_ips_and_endpoints(zone: ClusterZone) -> None:
    assert answered(zone.answer("20.0.96.127.in-addr.arpa.", "PTR")) == [
        ("20.0.96.127.in-addr.arpa.", "PTR", "web.default.svc.cluster.local.")
    ]
    assert [r[2] for r in answered(zone.answer("5.0.244.127.in-addr.arpa.", "PTR"))] == [
        "db-0.db.default.svc.cluster.local."
    ]
    assert [r[2] for r in answered(zone.answer("6.0.244.127.in-addr.arpa.", "PTR"))] == [
        "127-244-0-6.db.default.svc.cluster.local."
    ]
    unknown = zone.answer("99.0.96.127.in-addr.arpa.", "PTR")  # in the cluster's blocks
    assert unknown is not None and unknown.rcode == dns.rcode.NXDOMAIN
    assert zone.answer("1.1.168.192.in-addr.arpa.", "PTR") is None  # the host's business


def test_pod_names(zone: ClusterZone) -> None:
    insecure = zone.answer("1-2-3-4.default.pod.cluster.local.", "A")
    assert [r[2] for r in answered(insecure)] == ["1.2.3.4"]
    for bad in ("1-2-3.default.pod.cluster.local.", "1-2-3-4.nowhere.pod.cluster.local."):
        answer = zone.answer(bad, "A")
        assert answer is not None and answer.rcode == dns.rcode.NXDOMAIN
    verified, catalog = make_zone("verified")
    pod = {"metadata": {"name": "p", "namespace": "default"}, "status": {"podIP": "127.244.0.9"}}
    catalog.put_pod(pod)
    assert answered(verified.answer("127-244-0-9.default.pod.cluster.local.", "A"))
    other = verified.answer("127-244-0-8.default.pod.cluster.local.", "A")
    assert other is not None and other.rcode == dns.rcode.NXDOMAIN
    catalog.delete_pod(pod)
    gone = verified.answer("127-244-0-9.default.pod.cluster.local.", "A")
    assert gone is not None and gone.rcode == dns.rcode.NXDOMAIN


def test_nxdomain_and_nodata_carry_the_soa(zone: ClusterZone) -> None:
    for missing in (
        "nope.default.svc.cluster.local.",
        "web.nowhere.svc.cluster.local.",
        "web.default.svc.cluster.local.default.svc.cluster.local.",
        "something.cluster.local.",
    ):
        answer = zone.answer(missing, "A")
        assert answer is not None and answer.rcode == dns.rcode.NXDOMAIN, missing
        assert answer.authority[0].data.startswith("ns.dns.cluster.local. hostmaster.cluster")
        assert answer.authority[0].data.endswith(" 7200 1800 86400 30")
    for existing, qtype in (
        ("web.default.svc.cluster.local.", "AAAA"),
        ("web.default.svc.cluster.local.", "TXT"),
        ("default.svc.cluster.local.", "A"),
        ("svc.cluster.local.", "A"),
        ("cluster.local.", "A"),
    ):
        answer = zone.answer(existing, qtype)
        assert answer is not None and answer.rcode == dns.rcode.NOERROR, existing
        assert not answer.answer and answer.authority[0].rdtype == "SOA"


def test_the_zone_itself(zone: ClusterZone) -> None:
    version = zone.answer("dns-version.cluster.local.", "TXT")
    assert answered(version) == [("dns-version.cluster.local.", "TXT", '"1.1.0"')]
    assert version is not None and version.answer[0].ttl == 28800
    ns = zone.answer("cluster.local.", "NS")
    assert answered(ns) == [("cluster.local.", "NS", "ns.dns.cluster.local.")]
    assert ns is not None and ns.additional[0].data == DNS_IP
    assert [r[2] for r in answered(zone.answer("ns.dns.cluster.local.", "A"))] == [DNS_IP]
    assert [r[1] for r in answered(zone.answer("cluster.local.", "SOA"))] == ["SOA"]
    host = zone.answer("host.minikube.internal.", "A")
    assert [r[2] for r in answered(host)] == ["127.49.0.1"]


def test_names_outside_the_cluster_are_not_answered(zone: ClusterZone) -> None:
    assert zone.answer("example.com.", "A") is None
    assert zone.answer("cluster.local.example.com.", "A") is None


def test_the_catalog_follows_updates_and_deletes() -> None:
    made, catalog = make_zone()
    serial = catalog.serial
    web = service("web", clusterIP="127.96.0.20", ports=[{"port": 80}])
    catalog.put_service(web)
    assert catalog.serial > serial
    assert answered(made.answer("web.default.svc.cluster.local.", "A"))
    # an unnamed port makes no SRV record of its own name, but the service SRV lists it
    assert answered(made.answer("web.default.svc.cluster.local.", "SRV"))
    catalog.delete_service(web)
    gone = made.answer("web.default.svc.cluster.local.", "A")
    assert gone is not None and gone.rcode == dns.rcode.NXDOMAIN
    catalog.put_service(service("db", clusterIP="None"))
    slice_ = endpoint_slice("db-1", "db", [{"addresses": ["127.244.0.3"]}])
    catalog.put_slice(slice_)
    assert answered(made.answer("db.default.svc.cluster.local.", "A"))
    # the slice moves to another address: the old one is gone
    catalog.put_slice(endpoint_slice("db-1", "db", [{"addresses": ["127.244.0.4"]}]))
    assert [r[2] for r in answered(made.answer("db.default.svc.cluster.local.", "A"))] == [
        "127.244.0.4"
    ]
    catalog.delete_slice(slice_)
    empty = made.answer("db.default.svc.cluster.local.", "A")
    assert empty is not None and empty.rcode == dns.rcode.NXDOMAIN


def test_an_external_name_that_is_an_address_is_no_alias() -> None:
    made, catalog = make_zone()
    catalog.put_service(service("raw", type="ExternalName", externalName="192.0.2.7"))
    answer = made.answer("raw.default.svc.cluster.local.", "A")
    assert answer is not None and answer.rcode == dns.rcode.NXDOMAIN
