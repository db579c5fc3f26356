"""The proxy's pure parts: Services + EndpointSlices → routes, and the balancer's choices."""

from __future__ import annotations

from typing import Any

from minikube_py.net.balancer import Balancer, Topology
from minikube_py.net.proxy_routes import Backend, NodeInfo, node_info, slice_backends
from minikube_py.net.proxy_table import RouteCache, build_table

Object = dict[str, Any]


def service(name: str, ip: str, *ports: Object, **spec: Any) -> Object:
    annotations = spec.pop("annotations", {})
    return {
        "metadata": {"name": name, "namespace": "shop", "annotations": annotations},
        "spec": {"clusterIP": ip, "ports": list(ports) or [{"port": 80}], **spec},
        "status": spec.pop("status", {}),
    }


def endpoint_slice(service: str, *endpoints: Object, ports: Any = None, **extra: Any) -> Object:
    return {
        "metadata": {
            "name": f"{service}-{len(endpoints)}",
            "namespace": "shop",
            "labels": {"kubernetes.io/service-name": service},
        },
        "addressType": extra.get("addressType", "IPv4"),
        "endpoints": list(endpoints),
        "ports": ports if ports is not None else [{"name": "", "port": 9376, "protocol": "TCP"}],
    }


def ep(address: str, node: str = "", **conditions: bool) -> Object:
    return {"addresses": [address], "nodeName": node or None, "conditions": conditions}


NODES = [
    NodeInfo("m1", ("127.49.0.2",), ("127.244.0.0/24",)),
    NodeInfo("m2", ("127.49.0.3",), ("127.244.1.0/24",)),
]


def test_a_cluster_ip_route_per_port_with_the_slice_port_of_the_same_name() -> None:
    svc = service(
        "web",
        "127.96.0.5",
        {"name": "http", "port": 80, "protocol": "TCP"},
        {"name": "dns", "port": 53, "protocol": "UDP"},
        {"name": "sctp", "port": 99, "protocol": "SCTP"},
    )
    ports = [
        {"name": "http", "port": 8080, "protocol": "TCP"},
        {"name": "dns", "port": 5353, "protocol": "UDP"},
    ]
    table, problems = build_table(
        [svc], [endpoint_slice("web", ep("127.244.0.9"), ports=ports)], NODES
    )
    assert problems == []
    assert set(table) == {("TCP", "127.96.0.5", 80), ("UDP", "127.96.0.5", 53)}
    assert table[("TCP", "127.96.0.5", 80)].backends == (Backend("127.244.0.9", 8080),)
    assert table[("UDP", "127.96.0.5", 53)].backends == (Backend("127.244.0.9", 5353),)


def test_readiness_follows_upstream() -> None:
    # missing conditions: ready and serving; not terminating
    assert slice_backends([endpoint_slice("a", ep("127.244.0.2"))], "", "TCP")[0].ready
    found = slice_backends(
        [
            endpoint_slice(
                "a",
                ep("127.244.0.2", ready=False, serving=True, terminating=True),
                ep("127.244.0.3", ready=False, serving=False, terminating=True),
                ep("127.244.0.4", ready=False),
            )
        ],
        "",
        "TCP",
    )
    table, _ = build_table(
        [service("a", "127.96.0.6")], [endpoint_slice("a", *map(_raw, found))], NODES
    )
    route = table[("TCP", "127.96.0.6", 80)]
    assert [b.address for b in route.backends] == ["127.244.0.2"]  # serving + terminating
    table, _ = build_table(
        [service("a", "127.96.0.6")],
        [endpoint_slice("a", ep("127.244.0.4", ready=False), ep("127.244.0.5"))],
        NODES,
    )
    assert [b.address for b in table[("TCP", "127.96.0.6", 80)].backends] == ["127.244.0.5"]
    assert table[("TCP", "127.96.0.6", 80)].known == {
        ("127.244.0.4", 9376),
        ("127.244.0.5", 9376),
    }


def _raw(backend: Backend) -> Object:
    return ep(
        backend.address,
        ready=backend.ready,
        serving=backend.serving,
        terminating=backend.terminating,
    )


def test_no_usable_endpoint_means_no_listener() -> None:
    table, _ = build_table(
        [service("a", "127.96.0.7")], [endpoint_slice("a", ep("127.244.0.2", ready=False))], NODES
    )
    assert not table[("TCP", "127.96.0.7", 80)].usable


def test_overlapping_slices_and_nonsense_are_merged_or_skipped() -> None:
    slices = [
        endpoint_slice("a", ep("127.244.0.2", ready=False), {"addresses": []}, {"x": 1}),
        endpoint_slice("a", ep("127.244.0.2"), ep("not-an-ip")),
        endpoint_slice("a", ep("127.244.0.3"), ports=[{"name": "", "port": None}]),
        endpoint_slice("a", ep("fd00::1"), addressType="IPv6"),
    ]
    found = slice_backends(slices, "", "TCP")
    assert found == [Backend("127.244.0.2", 9376)]


def test_node_ports_external_addresses_and_traffic_policies() -> None:
    svc = service(
        "lb",
        "127.96.0.8",
        {"port": 80, "nodePort": 30080},
        type="LoadBalancer",
        externalTrafficPolicy="Local",
        internalTrafficPolicy="Local",
        externalIPs=["127.51.0.1", "10.0.0.1"],
        status={"loadBalancer": {"ingress": [{"ip": "127.50.0.1"}]}},
    )
    slices = [endpoint_slice("lb", ep("127.244.1.5", "m2"), ep("127.244.1.6", "m2", ready=False))]
    table, _ = build_table([svc], slices, NODES)
    assert set(table) == {
        ("TCP", "127.96.0.8", 80),
        ("TCP", "127.49.0.2", 30080),
        ("TCP", "127.49.0.3", 30080),
        ("TCP", "127.50.0.1", 80),
        ("TCP", "127.51.0.1", 80),
    }
    cluster = table[("TCP", "127.96.0.8", 80)]
    assert cluster.local == {"m2": (Backend("127.244.1.5", 9376, "m2"),)}
    assert cluster.usable and not cluster.prefer_same_node
    assert not table[("TCP", "127.49.0.2", 30080)].usable  # no endpoint on m1
    assert table[("TCP", "127.49.0.3", 30080)].usable
    assert table[("TCP", "127.50.0.1", 80)].backends == cluster.local["m2"]


def test_skipped_services_and_conflicts() -> None:
    slices = [endpoint_slice(name, ep("127.244.0.2")) for name in "abcdef"]
    services = [
        service("a", "None"),
        service("b", "127.96.0.9", annotations={"minikube-py.io/in-process": "true"}),
        service("c", "127.96.0.9"),
        service("d", "127.96.0.9"),  # the same address and port as c: c keeps it
        service("e", "10.96.0.1"),  # another plan's address
        {"metadata": {"name": "f", "namespace": "shop"}, "spec": {"type": "ExternalName"}},
    ]
    table, problems = build_table(services, slices, NODES, service_block="127.96.0.0/16")
    assert {route.service for route in table.values()} == {"shop/c"}
    assert len(problems) == 2
    assert "shop/d" in problems[0] and "10.96.0.1" in problems[1]


def test_node_info_reads_internal_ips_and_pod_cidrs() -> None:
    node = {
        "metadata": {"name": "m1"},
        "spec": {"podCIDR": "127.244.0.0/24", "podCIDRs": ["127.244.0.0/24"]},
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": "127.49.0.2"},
                {"type": "Hostname", "address": "m1"},
            ]
        },
    }
    assert node_info(node) == NodeInfo("m1", ("127.49.0.2",), ("127.244.0.0/24",))


def test_topology_locates_pods_nodes_and_the_host() -> None:
    topology = Topology(NODES, "m1")
    assert topology.locate("127.244.1.7") == ("m2", True)
    assert topology.locate("127.49.0.3") == ("m2", False)
    assert topology.locate("127.0.0.1") == ("m1", False)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _route(**spec: Any) -> Any:
    svc = service("a", "127.96.0.10", **spec)
    slices = [
        endpoint_slice("a", *(ep(f"127.244.{n % 2}.{n}", f"m{n % 2 + 1}") for n in (2, 3, 4)))
    ]
    table, _ = build_table([svc], slices, NODES)
    return table[("TCP", "127.96.0.10", 80)]


def test_round_robin_is_fair_and_pods_prefer_their_node() -> None:
    balancer, route = Balancer(Clock()), _route()
    picks = [balancer.pick(route, "127.0.0.1", node="m1", is_pod=False) for _ in range(9)]
    assert sorted(b.address for b in picks if b) == sorted(
        ["127.244.0.2", "127.244.1.3", "127.244.0.4"] * 3
    )
    local = {balancer.pick(route, "127.244.1.9", node="m2", is_pod=True) for _ in range(4)}
    assert {b.address for b in local if b} == {"127.244.1.3"}
    balancer.prefer_same_node = False
    spread = {balancer.pick(route, "127.244.1.9", node="m2", is_pod=True) for _ in range(6)}
    assert len(spread) == 3
    # an endpoint that refused is not tried again for that connection
    every = {b.target for b in route.backends}
    assert balancer.pick(route, "127.0.0.1", node="m1", is_pod=False, exclude=every) is None


def test_client_ip_affinity_expires_after_its_timeout() -> None:
    clock = Clock()
    balancer = Balancer(clock)
    route = _route(
        sessionAffinity="ClientIP", sessionAffinityConfig={"clientIP": {"timeoutSeconds": 30}}
    )
    first = balancer.pick(route, "127.0.0.1", node="m1", is_pod=False)
    for _ in range(5):
        clock.now += 20  # each connection restarts the timer
        assert balancer.pick(route, "127.0.0.1", node="m1", is_pod=False) == first
    clock.now += 31
    assert balancer.pick(route, "127.0.0.1", node="m1", is_pod=False) != first
    assert _route(sessionAffinity="ClientIP").affinity_seconds == 10800


def test_the_cache_translates_only_services_whose_inputs_changed() -> None:
    cache = RouteCache()
    services = [service(name, f"127.96.0.{20 + i}") for i, name in enumerate("abc")]
    slices = [endpoint_slice(name, ep("127.244.0.2")) for name in "abc"]
    for obj in [*services, *slices]:
        obj["metadata"]["resourceVersion"] = "1"
    first, _ = build_table(services, slices, NODES, cache=cache)
    slices[1] = endpoint_slice("b", ep("127.244.0.3"))
    slices[1]["metadata"]["resourceVersion"] = "2"
    second, _ = build_table(services, slices, NODES, cache=cache)
    a, b = ("TCP", "127.96.0.20", 80), ("TCP", "127.96.0.21", 80)
    assert second[a] is first[a]  # not translated again
    assert [x.address for x in second[b].backends] == ["127.244.0.3"]
    third, _ = build_table(services[:1], slices, NODES, cache=cache)
    assert set(third) == {a}


def test_an_unreadable_service_is_reported_and_the_others_served() -> None:
    broken = service("broken", "127.96.0.30", "not a port")  # type: ignore[arg-type]
    fine = service("fine", "127.96.0.31")
    slices = [endpoint_slice(name, ep("127.244.0.2")) for name in ("broken", "fine")]
    table, problems = build_table([broken, fine], slices, NODES)
    assert set(table) == {("TCP", "127.96.0.31", 80)}
    assert len(problems) == 1 and "shop/broken" in problems[0]
