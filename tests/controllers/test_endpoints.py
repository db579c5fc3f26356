"""The Endpoints controller: each selecting Service's pod addresses, as upstream writes them.

The tests play the kubelet: they create pods bound to a node and patch their status (an
address, a Ready condition) as a kubelet would. The helpers here serve the EndpointSlice
tests too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from minikube_py.client import ApiError, Client
from minikube_py.client.protocol import ENDPOINTS, EVENTS, NODES, PODS, SERVICES, Object
from minikube_py.controllers import Controller, ControllerManager
from minikube_py.controllers.endpoints import EndpointsController
from minikube_py.controllers.endpoints_subsets import MAX_CAPACITY, repack, truncate
from tests.controllers.stepping import eventually, turns

NS = "default"


@contextlib.asynccontextmanager
async def running(client: Client, *controllers: Controller) -> AsyncIterator[ControllerManager]:
    manager = ControllerManager(client, list(controllers))
    task = asyncio.ensure_future(manager.run())
    try:
        await manager.informers.wait_synced()
        yield manager
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def node(client: Client, name: str = "node-a", zone: str | None = None) -> Object:
    labels = {"topology.kubernetes.io/zone": zone} if zone else {}
    return await client.create(NODES, None, {"metadata": {"name": name, "labels": labels}})


async def service(
    client: Client, name: str, selector: dict[str, str] | None, **spec: Any
) -> Object:
    body: Object = {"metadata": {"name": name, "labels": {"team": "a"}}, "spec": dict(spec)}
    if selector is not None:
        body["spec"]["selector"] = selector
    body["spec"].setdefault("ports", [{"name": "web", "port": 80, "targetPort": 8080}])
    if body["spec"]["ports"] is None:
        del body["spec"]["ports"]
    return await client.create(SERVICES, NS, body)


async def pod(
    client: Client,
    name: str,
    labels: dict[str, str],
    *,
    ip: str | None = None,
    ready: bool = True,
    ports: list[Object] | None = None,
    node_name: str = "node-a",
    **spec: Any,
) -> Object:
    """A pod on ``node_name``; with ``ip``, running there as its kubelet would report it."""
    container = {"name": "c", "image": "busybox", "ports": ports or []}
    body = {
        "metadata": {"name": name, "labels": labels},
        "spec": {"nodeName": node_name, "containers": [container], **spec},
    }
    made = await client.create(PODS, NS, body)
    if ip is not None:
        made = await kubelet_reports(client, name, ip=ip, ready=ready)
    return made


async def kubelet_reports(
    client: Client, name: str, *, ip: str, ready: bool = True, phase: str = "Running"
) -> Object:
    condition = {
        "type": "Ready",
        "status": "True" if ready else "False",
        "lastTransitionTime": "2026-01-01T00:00:00Z",
    }
    status = {"phase": phase, "podIP": ip, "podIPs": [{"ip": ip}], "conditions": [condition]}
    return await client.patch(PODS, NS, name, {"status": status}, subresource="status")


async def get(client: Client, gvr: Any, name: str) -> Object | None:
    try:
        return await client.get(gvr, NS, name)
    except ApiError as error:
        assert error.code == 404
        return None


def ips(subset: Object, field: str = "addresses") -> list[str]:
    return [address["ip"] for address in subset.get(field) or []]


async def endpoints_where(client: Client, name: str, check: Any) -> Object:
    async def matching() -> Object | None:
        found = await get(client, ENDPOINTS, name)
        return found if found is not None and check(found) else None

    result: Object = await eventually(matching, f"endpoints {name}")
    return result


async def test_ready_and_not_ready_pods(client: Client) -> None:
    await node(client)
    await service(client, "web", {"app": "web"})
    ready = await pod(client, "a", {"app": "web"}, ip="10.1.0.1")
    await pod(client, "b", {"app": "web"}, ip="10.1.0.2", ready=False)
    await pod(client, "c", {"app": "web"})  # no address yet
    await pod(client, "d", {"app": "other"}, ip="10.1.0.4")
    await pod(client, "e", {"app": "web"}, ip="10.1.0.5")
    await kubelet_reports(client, "e", ip="10.1.0.5", phase="Succeeded")
    async with running(client, EndpointsController(client)):
        made = await endpoints_where(client, "web", lambda e: e.get("subsets"))
    [subset] = made["subsets"]
    assert ips(subset) == ["10.1.0.1"]
    assert ips(subset, "notReadyAddresses") == ["10.1.0.2"]
    assert subset["ports"] == [{"name": "web", "port": 8080, "protocol": "TCP"}]
    assert subset["addresses"][0] == {
        "ip": "10.1.0.1",
        "nodeName": "node-a",
        "targetRef": {
            "kind": "Pod",
            "namespace": NS,
            "name": "a",
            "uid": ready["metadata"]["uid"],
        },
    }
    assert made["metadata"]["labels"] == {"team": "a"}
    # the earliest change it publishes: the pods' Ready transitions predate the Service
    trigger = made["metadata"]["annotations"]["endpoints.kubernetes.io/last-change-trigger-time"]
    assert trigger == "2026-01-01T00:00:00Z"
    assert "ownerReferences" not in made["metadata"]  # upstream deletes them itself


async def test_named_target_port_is_resolved_per_pod(client: Client) -> None:
    await node(client)
    ports = [{"name": "web", "port": 80, "targetPort": "http"}]
    await service(client, "named", {"app": "n"}, ports=ports)
    await pod(
        client, "a", {"app": "n"}, ip="10.1.0.1", ports=[{"name": "http", "containerPort": 8080}]
    )
    await pod(
        client, "b", {"app": "n"}, ip="10.1.0.2", ports=[{"name": "http", "containerPort": 9090}]
    )
    await pod(
        client, "c", {"app": "n"}, ip="10.1.0.3", ports=[{"name": "other", "containerPort": 1}]
    )
    async with running(client, EndpointsController(client)):
        made = await endpoints_where(client, "named", lambda e: len(e.get("subsets") or []) == 2)
    served = {subset["ports"][0]["port"]: ips(subset) for subset in made["subsets"]}
    assert served == {8080: ["10.1.0.1"], 9090: ["10.1.0.2"]}  # c lacks the port: left out


async def test_publish_not_ready_addresses_lists_every_pod_as_ready(client: Client) -> None:
    await node(client)
    await service(client, "all", {"app": "x"}, publishNotReadyAddresses=True)
    await pod(client, "a", {"app": "x"}, ip="10.1.0.1", ready=False)
    await pod(client, "b", {"app": "x"}, ip="10.1.0.2", terminationGracePeriodSeconds=30)
    await client.delete(PODS, NS, "b")  # terminating, still there
    async with running(client, EndpointsController(client)):
        made = await endpoints_where(client, "all", lambda e: e.get("subsets"))
    [subset] = made["subsets"]
    assert ips(subset) == ["10.1.0.1", "10.1.0.2"]
    assert "notReadyAddresses" not in subset


async def test_terminating_pods_are_left_out(client: Client) -> None:
    await node(client)
    await service(client, "web", {"app": "web"})
    await pod(client, "a", {"app": "web"}, ip="10.1.0.1")
    await pod(client, "b", {"app": "web"}, ip="10.1.0.2", terminationGracePeriodSeconds=30)
    async with running(client, EndpointsController(client)):
        await endpoints_where(client, "web", lambda e: len(ips(e["subsets"][0])) == 2)
        await client.delete(PODS, NS, "b")
        await endpoints_where(client, "web", lambda e: ips(e["subsets"][0]) == ["10.1.0.1"])


async def test_headless_service_without_ports(client: Client) -> None:
    await node(client)
    await service(client, "db", {"app": "db"}, clusterIP="None", ports=None)
    await pod(client, "db-0", {"app": "db"}, ip="10.1.0.1", hostname="db-0", subdomain="db")
    await pod(client, "db-1", {"app": "db"}, ip="10.1.0.2", hostname="db-1", subdomain="other")
    async with running(client, EndpointsController(client)):
        made = await endpoints_where(client, "db", lambda e: e.get("subsets"))
    assert made["metadata"]["labels"] == {"team": "a", "service.kubernetes.io/headless": ""}
    [subset] = made["subsets"]
    assert "ports" not in subset
    hostnames = {a["ip"]: a.get("hostname") for a in subset["addresses"]}
    assert hostnames == {"10.1.0.1": "db-0", "10.1.0.2": None}  # only where subdomain = service


async def test_selectorless_and_external_name_services_are_left_alone(client: Client) -> None:
    await service(client, "manual", None)
    handmade = await client.create(
        ENDPOINTS,
        NS,
        {"metadata": {"name": "manual"}, "subsets": [{"addresses": [{"ip": "10.9.9.9"}]}]},
    )
    await service(client, "ext", None, type="ExternalName", externalName="example.com", ports=None)
    await service(client, "marker", {"app": "m"})
    async with running(client, EndpointsController(client)):
        await endpoints_where(client, "marker", lambda e: True)
        await turns()
    assert await get(client, ENDPOINTS, "manual") == handmade
    assert await get(client, ENDPOINTS, "ext") is None


async def test_a_relabelled_pod_leaves_and_a_deleted_service_takes_its_endpoints(
    client: Client,
) -> None:
    await node(client)
    await service(client, "web", {"app": "web"})
    await pod(client, "a", {"app": "web"}, ip="10.1.0.1")
    await pod(client, "b", {"app": "web"}, ip="10.1.0.2")
    async with running(client, EndpointsController(client)):
        await endpoints_where(client, "web", lambda e: len(ips(e["subsets"][0])) == 2)
        await client.patch(PODS, NS, "b", {"metadata": {"labels": {"app": "debug"}}})
        await endpoints_where(client, "web", lambda e: ips(e["subsets"][0]) == ["10.1.0.1"])
        await client.delete(SERVICES, NS, "web")
        await eventually(lambda: _gone(client, "web"), "endpoints deleted with the service")


async def _gone(client: Client, name: str) -> bool:
    return await get(client, ENDPOINTS, name) is None


async def test_leftover_endpoints_are_deleted_at_start_but_leader_records_kept(
    client: Client,
) -> None:
    await client.create(ENDPOINTS, NS, {"metadata": {"name": "orphan"}})
    leader = {"control-plane.alpha.kubernetes.io/leader": "{}"}
    await client.create(ENDPOINTS, NS, {"metadata": {"name": "lock", "annotations": leader}})
    async with running(client, EndpointsController(client)):
        await eventually(lambda: _gone(client, "orphan"), "the orphan deleted")
        await turns()
        assert await get(client, ENDPOINTS, "lock") is not None


async def test_no_write_when_nothing_changed(client: Client) -> None:
    await node(client)
    await service(client, "web", {"app": "web"})
    await pod(client, "a", {"app": "web"}, ip="10.1.0.1")
    controller = EndpointsController(client)
    async with running(client, controller):
        made = await endpoints_where(client, "web", lambda e: e.get("subsets"))
        # a change the Endpoints do not show, then a resync
        await client.patch(PODS, NS, "a", {"metadata": {"annotations": {"note": "x"}}})
        await eventually(lambda: _annotated(controller), "the cache has the change")
        assert await controller.reconcile(f"{NS}/web") is None
        after = await get(client, ENDPOINTS, "web")
    assert after is not None
    assert after["metadata"]["resourceVersion"] == made["metadata"]["resourceVersion"]


def _annotated(controller: EndpointsController) -> bool:
    cached = controller.pods.get(f"{NS}/a")
    return bool(cached and (cached["metadata"].get("annotations") or {}).get("note"))


class RefusingClient:
    """Delegates to a client but refuses to create Endpoints (a broken API server)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def create(self, gvr: Any, namespace: str | None, obj: Object, **kwargs: Any) -> Object:
        if gvr == ENDPOINTS:
            raise ApiError(500, "InternalError", "the store is on fire")
        return await self._client.create(gvr, namespace, obj, **kwargs)


async def test_a_failed_write_is_a_warning_event(client: Client) -> None:
    await service(client, "web", {"app": "web"})
    refusing: Any = RefusingClient(client)
    async with running(client, EndpointsController(refusing)):

        async def warned() -> list[Object]:
            events = (await client.list(EVENTS, NS))["items"]
            return [e for e in events if e["reason"] == "FailedToCreateEndpoint"]

        [event] = await eventually(warned, "a FailedToCreateEndpoint event")
    assert event["type"] == "Warning"
    assert event["involvedObject"]["kind"] == "Endpoints"
    assert event["source"]["component"] == "endpoint-controller"
    assert event["message"] == (
        "Failed to create endpoint for service default/web: the store is on fire"
    )


# -- the subsets alone ----------------------------------------------------------------------


def _address(ip: str, uid: str) -> Object:
    return {"ip": ip, "targetRef": {"kind": "Pod", "name": uid, "namespace": NS, "uid": uid}}


def test_repacking_groups_addresses_serving_the_same_ports() -> None:
    http, metrics = ("http", 80, "TCP", None), ("metrics", 9100, "TCP", None)
    a, b = _address("10.0.0.1", "a"), _address("10.0.0.2", "b")
    subsets = repack([(a, True, http), (a, True, metrics), (b, False, http), (b, True, http)])
    expected = [
        {"addresses": [a, b], "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]},
        {"addresses": [a], "ports": [{"name": "metrics", "port": 9100, "protocol": "TCP"}]},
    ]  # b is ready for http once in two: ready wins
    assert sorted(subsets, key=str) == sorted(expected, key=str)


def test_truncation_keeps_ready_addresses_first() -> None:
    ready = [_address(f"10.0.{i // 250}.{i % 250}", f"r{i}") for i in range(900)]
    not_ready = [_address(f"10.1.{i // 250}.{i % 250}", f"n{i}") for i in range(300)]
    subsets = [{"addresses": ready, "notReadyAddresses": not_ready, "ports": []}]
    kept, cut = truncate(subsets)
    assert cut
    assert len(kept[0]["addresses"]) == 900
    assert len(kept[0]["notReadyAddresses"]) == MAX_CAPACITY - 900
    assert truncate([{"addresses": ready}]) == ([{"addresses": ready}], False)
