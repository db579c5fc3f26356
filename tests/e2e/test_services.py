"""Services through the real kubectl: ClusterIPs that balance, survive pods, and are found.

A Deployment of ``registry.k8s.io/echoserver`` (its page starts with ``Hostname: <pod>``, so
each answer names the pod that served it) sits behind a Service; requests go from this test
process to the Service's ClusterIP, as a program on a minikube host would after
``minikube tunnel``, and from pods (busybox's ``wget`` and ``nslookup``) by the Service's
environment variables and DNS names. Every request is a fresh connection, since the proxy
balances connections, not requests.

Ports below 1024 are where the cluster may bind them; otherwise (an unprivileged user) the
cluster listens at ``LOW_PORT_OFFSET + port`` and pods' programs are sent there by their
start-up hook: ``listen_port`` tells this test which one to use.
"""

from __future__ import annotations

import collections
import http.client
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from minikube_py.config import listen_port
from tests.e2e.conftest import Kubectl
from tests.e2e.test_pods import WAIT, eventually

HOSTNAME = re.compile(r"^Hostname: (\S+)", re.MULTILINE)


def echo_deployment(name: str, replicas: int = 3) -> dict[str, Any]:
    labels = {"app": name}
    probe = {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 1}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "terminationGracePeriodSeconds": 1,
                    "containers": [
                        {
                            "name": "echo",
                            "image": "registry.k8s.io/echoserver:1.10",
                            "ports": [{"name": "http", "containerPort": 8080}],
                            "readinessProbe": probe,
                        }
                    ],
                },
            },
        },
    }


def service(name: str, app: str = "", **spec: Any) -> dict[str, Any]:
    """A Service ``name`` on port 80 for the pods labelled ``app`` (default: ``name``)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {
            "selector": {"app": app or name},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            **spec,
        },
    }


def apply(kubectl: Kubectl, *objects: dict[str, Any]) -> None:
    kubectl.out(
        "apply",
        "-f",
        "-",
        stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}),
    )


def ready_addresses(kubectl: Kubectl, name: str) -> set[str]:
    """The ready endpoint addresses of Service ``name``, from its EndpointSlices."""
    slices = kubectl.json("get", "endpointslices", "-l", f"kubernetes.io/service-name={name}")[
        "items"
    ]
    return {
        address
        for piece in slices
        for endpoint in piece.get("endpoints") or []
        if (endpoint.get("conditions") or {}).get("ready")
        for address in endpoint["addresses"]
    }


def ask(host: str, port: int, path: str = "/") -> str:
    """One GET on a fresh connection: the pod that answered (echoserver's Hostname line)."""
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read().decode()
        assert response.status == 200, (response.status, body)
    finally:
        connection.close()
    match = HOSTNAME.search(body)
    assert match, body
    return match.group(1)


@pytest.fixture
def echo(kubectl: Kubectl, unique: Any) -> Iterator[str]:
    """A 3-replica echo Deployment behind a ClusterIP Service of the same name, all Ready."""
    name = unique("echo")
    apply(kubectl, echo_deployment(name), service(name))
    kubectl.out("rollout", "status", f"deployment/{name}", WAIT)
    eventually(lambda: len(ready_addresses(kubectl, name)) == 3)
    yield name
    kubectl.out("delete", "deployment,service", name, "--wait=true", WAIT)


def cluster_ip(kubectl: Kubectl, name: str) -> str:
    return str(kubectl.json("get", "service", name)["spec"]["clusterIP"])


def test_the_cluster_ip_balances_connections_over_every_ready_pod(
    kubectl: Kubectl, echo: str
) -> None:
    ip, port = cluster_ip(kubectl, echo), listen_port(80)
    counts = collections.Counter(ask(ip, port) for _ in range(300))
    pods = {
        p["metadata"]["name"] for p in kubectl.json("get", "pods", "-l", f"app={echo}")["items"]
    }
    assert set(counts) == pods and len(pods) == 3
    assert max(counts.values()) <= 2 * min(counts.values()), counts


def test_a_deleted_pod_is_replaced_behind_the_same_cluster_ip_without_failures(
    kubectl: Kubectl, echo: str
) -> None:
    ip, port = cluster_ip(kubectl, echo), listen_port(80)
    before = ready_addresses(kubectl, echo)
    victim = kubectl.json("get", "pods", "-l", f"app={echo}")["items"][0]
    kubectl.out("delete", "pod", victim["metadata"]["name"], "--wait=false")
    eventually(
        lambda: (
            (now := ready_addresses(kubectl, echo))
            and len(now) == 3
            and victim["status"]["podIP"] not in now
            and now != before
        )
    )
    assert cluster_ip(kubectl, echo) == ip
    served = {ask(ip, port) for _ in range(60)}  # none may fail: only ready pods are used
    assert victim["metadata"]["name"] not in served and len(served) == 3


def test_client_ip_affinity_sends_one_client_to_one_pod(kubectl: Kubectl, echo: str) -> None:
    kubectl.out(
        "patch", "service", echo, "-p", json.dumps({"spec": {"sessionAffinity": "ClientIP"}})
    )
    ip, port = cluster_ip(kubectl, echo), listen_port(80)
    first = ask(ip, port)
    assert {ask(ip, port) for _ in range(30)} == {first}


def test_a_service_without_ready_pods_refuses_at_once(kubectl: Kubectl, unique: Any) -> None:
    name = unique("empty")
    apply(kubectl, service(name))
    try:
        ip = cluster_ip(kubectl, name)
        with pytest.raises(ConnectionRefusedError):
            http.client.HTTPConnection(ip, listen_port(80), timeout=5).connect()
    finally:
        kubectl.out("delete", "service", name)


def test_a_load_balancer_service_gets_an_external_address_that_answers(
    kubectl: Kubectl, echo: str
) -> None:
    kubectl.out("patch", "service", echo, "-p", json.dumps({"spec": {"type": "LoadBalancer"}}))
    external = eventually(
        lambda: (
            kubectl.json("get", "service", echo)["status"].get("loadBalancer", {}).get("ingress")
        )
    )
    address = external[0]["ip"]
    assert address in kubectl.out("get", "service", echo)  # the EXTERNAL-IP column
    served = {ask(address, listen_port(80)) for _ in range(30)}
    assert len(served) == 3
    node_port = kubectl.json("get", "service", echo)["spec"]["ports"][0]["nodePort"]
    node = kubectl.json("get", "nodes")["items"][0]["status"]["addresses"][0]["address"]
    assert ask(node, node_port)


def _busybox(kubectl: Kubectl, name: str) -> None:
    kubectl.out("run", name, "--image=busybox:1.36", "--restart=Never", "--", "sleep", "3600")
    kubectl.out("wait", "--for=condition=Ready", f"pod/{name}", WAIT)


def test_a_pod_reaches_a_service_by_its_variables_and_its_names(
    kubectl: Kubectl, echo: str, unique: Any
) -> None:
    client = unique("client")
    _busybox(kubectl, client)  # made after the Service: it gets the Service's variables
    try:
        prefix = echo.upper().replace("-", "_")
        env = kubectl.out("exec", client, "--", "env")
        ip = cluster_ip(kubectl, echo)
        assert f"{prefix}_SERVICE_HOST={ip}" in env and f"{prefix}_SERVICE_PORT=80" in env
        assert f"{prefix}_PORT_80_TCP=tcp://{ip}:80" in env
        for url in (
            f"http://${prefix}_SERVICE_HOST:${prefix}_SERVICE_PORT/",
            f"http://{echo}/",
            f"http://{echo}.default/",
            f"http://{echo}.default.svc.cluster.local/",
        ):
            page = kubectl.out("exec", client, "--", "sh", "-c", f"wget -qO- {url}")
            assert HOSTNAME.search(page), (url, page)
    finally:
        kubectl.out("delete", "pod", client, "--wait=false")


def test_a_headless_service_resolves_to_its_pod_addresses(
    kubectl: Kubectl, echo: str, unique: Any
) -> None:
    headless = unique("headless")
    apply(kubectl, service(headless, echo, clusterIP="None"))
    client = unique("client")
    _busybox(kubectl, client)
    try:
        pods = {
            p["status"]["podIP"] for p in kubectl.json("get", "pods", "-l", f"app={echo}")["items"]
        }
        answer = eventually(
            lambda: (
                (out := kubectl.run("exec", client, "--", "nslookup", headless, check=False).stdout)
                and pods <= set(re.findall(r"Address: (\S+)", out))
                and out
            )
        )
        assert "Name:" in answer
    finally:
        kubectl.out("delete", "pod", client, "--wait=false")
        kubectl.out("delete", "service", headless)


def test_conflicting_ports_and_addresses_are_refused(kubectl: Kubectl, unique: Any) -> None:
    """Upstream's answers, and nothing stored: two ports alike, a node port or a ClusterIP
    another Service holds."""
    name = unique("bad")
    twice = service(name)
    twice["spec"]["ports"].append({"name": "again", "port": 80})
    error = kubectl.fails("apply", "-f", "-", stdin=json.dumps(twice))
    assert f'The Service "{name}" is invalid' in error and "spec.ports[1]: Duplicate value" in error
    first = unique("first")
    apply(kubectl, service(first, type="NodePort"))
    try:
        taken = kubectl.json("get", "service", first)["spec"]
        clash = service(name, type="NodePort")
        clash["spec"]["ports"][0]["nodePort"] = taken["ports"][0]["nodePort"]
        error = kubectl.fails("apply", "-f", "-", stdin=json.dumps(clash))
        assert "provided port is already allocated" in error
        same_ip = service(name, clusterIP=taken["clusterIP"])
        error = kubectl.fails("apply", "-f", "-", stdin=json.dumps(same_ip))
        assert "provided IP is already allocated" in error
        assert kubectl.run("get", "service", name, check=False).returncode != 0
        ip, port = taken["clusterIP"], listen_port(80)
        with pytest.raises(ConnectionRefusedError):  # no pods: the proxy still refuses
            http.client.HTTPConnection(ip, port, timeout=5).connect()
    finally:
        kubectl.out("delete", "service", first)
