"""From an Ingress backend to pod addresses: Service ports, EndpointSlices, readiness."""

from __future__ import annotations

from typing import Any

from minikube_py.net.ingress_endpoints import EndpointPicker
from minikube_py.net.ingress_rules import Backend

Object = dict[str, Any]

SERVICE: Object = {
    "spec": {
        "ports": [
            {"name": "http", "port": 80, "targetPort": "web"},
            {"name": "admin", "port": 9000},
        ]
    }
}


def endpoint(address: str, ready: bool | None) -> Object:
    conditions = {} if ready is None else {"ready": ready}
    return {"addresses": [address], "conditions": conditions}


SLICES: list[Object] = [
    {
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 8080}, {"name": "admin", "port": 9999}],
        "endpoints": [endpoint("10.0.0.1", True), endpoint("10.0.0.2", None)],
    },
    {  # pods whose named targetPort resolves to another number are in a slice of their own
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 8081}],
        "endpoints": [endpoint("10.0.0.3", True), endpoint("10.0.0.4", False)],
    },
    {"addressType": "FQDN", "ports": [{"name": "http", "port": 1}], "endpoints": []},
]


def picker(service: Object | None = SERVICE) -> EndpointPicker:
    return EndpointPicker(lambda namespace, name: service, lambda namespace, name: SLICES)


def test_ready_endpoints_of_the_named_service_port() -> None:
    by_number = picker().endpoints(Backend("default", "svc", 80))
    assert by_number == [("10.0.0.1", 8080), ("10.0.0.2", 8080), ("10.0.0.3", 8081)]
    assert picker().endpoints(Backend("default", "svc", "admin")) == [
        ("10.0.0.1", 9999),
        ("10.0.0.2", 9999),
    ]
    assert picker().endpoints(Backend("default", "svc", 8080)) == []  # not a Service port
    assert picker(None).endpoints(Backend("default", "svc", 80)) == []  # no such Service


def test_round_robin_with_the_rest_as_retries() -> None:
    chosen = picker()
    firsts = [chosen.pick(Backend("default", "svc", 80), 3) for _ in range(4)]
    assert [first[0][0] for first in firsts] == ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.1"]
    assert all(len(set(first)) == 3 for first in firsts)


def test_external_name_services_are_reached_by_name() -> None:
    external = {"spec": {"type": "ExternalName", "externalName": "example.org"}}
    assert picker(external).endpoints(Backend("default", "ext", 443)) == [("example.org", 443)]
    assert picker(external).endpoints(Backend("default", "ext", "https")) == []
