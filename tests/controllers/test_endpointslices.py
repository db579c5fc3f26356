"""The EndpointSlice controller: a selecting Service's pods as slices of at most 100
endpoints, owned by the Service; and the ``kubernetes`` Service's own slice."""

from __future__ import annotations

from typing import Any

from minikube_py.api.catalog import builtin_registry
from minikube_py.apiserver.bootstrap import bootstrap
from minikube_py.client import Client
from minikube_py.client.protocol import ENDPOINT_SLICES, ENDPOINTS, EVENTS, PODS, SERVICES, Object
from minikube_py.controllers.endpoints_slices import plan_slices
from minikube_py.controllers.endpointslices import EndpointSliceController
from minikube_py.controllers.garbagecollector import GarbageCollector
from tests.clusters import bootstrapped_storage
from tests.controllers.stepping import eventually, turns
from tests.controllers.test_endpoints import NS, kubelet_reports, node, pod, running, service

SERVICE_NAME = "kubernetes.io/service-name"


async def slices_of(client: Client, name: str) -> list[Object]:
    listed = await client.list(ENDPOINT_SLICES, NS, label_selector=f"{SERVICE_NAME}={name}")
    return sorted(listed["items"], key=lambda s: s["metadata"]["name"])


def addresses(slices: list[Object]) -> list[str]:
    return sorted(a for s in slices for e in s.get("endpoints") or [] for a in e["addresses"])


async def slices_where(client: Client, name: str, check: Any) -> list[Object]:
    async def matching() -> list[Object] | None:
        found = await slices_of(client, name)
        return found if check(found) else None

    result: list[Object] = await eventually(matching, f"slices of {name}")
    return result


async def test_a_slice_lists_each_pod_with_its_conditions(client: Client) -> None:
    await node(client, zone="zone-a")
    svc = await service(
        client,
        "web",
        {"app": "web"},
        ports=[{"name": "http", "port": 80, "targetPort": "web", "appProtocol": "http"}],
    )
    ports = [{"name": "web", "containerPort": 8080}]
    ready = await pod(client, "a", {"app": "web"}, ip="10.1.0.1", ports=ports)
    await pod(client, "b", {"app": "web"}, ip="10.1.0.2", ready=False, ports=ports)
    await pod(client, "c", {"app": "web"}, ports=ports)  # no address: not listed
    async with running(client, EndpointSliceController(client)):
        [made] = await slices_where(
            client, "web", lambda s: addresses(s) == ["10.1.0.1", "10.1.0.2"]
        )
    meta = made["metadata"]
    assert meta["name"].startswith("web-") and meta["generateName"] == "web-"
    assert meta["labels"] == {
        "team": "a",
        SERVICE_NAME: "web",
        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
    }
    assert meta["ownerReferences"] == [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "name": "web",
            "uid": svc["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert "endpoints.kubernetes.io/last-change-trigger-time" in meta["annotations"]
    assert made["addressType"] == "IPv4"
    assert made["ports"] == [
        {"name": "http", "port": 8080, "protocol": "TCP", "appProtocol": "http"}
    ]
    first, second = made["endpoints"]
    assert first == {
        "addresses": ["10.1.0.1"],
        "conditions": {"ready": True, "serving": True, "terminating": False},
        "targetRef": {"kind": "Pod", "namespace": NS, "name": "a", "uid": ready["metadata"]["uid"]},
        "nodeName": "node-a",
        "zone": "zone-a",
    }
    assert second["conditions"] == {"ready": False, "serving": False, "terminating": False}


async def test_terminating_pods_stay_listed_not_ready(client: Client) -> None:
    await node(client)
    await service(client, "web", {"app": "web"})
    await pod(client, "a", {"app": "web"}, ip="10.1.0.1", terminationGracePeriodSeconds=30)
    async with running(client, EndpointSliceController(client)):
        await slices_where(client, "web", lambda s: addresses(s) == ["10.1.0.1"])
        await client.delete(PODS, NS, "a")

        def terminating(found: list[Object]) -> bool:
            endpoints = [e for s in found for e in s.get("endpoints") or []]
            return bool(endpoints) and endpoints[0]["conditions"]["terminating"]

        [made] = await slices_where(client, "web", terminating)
    assert made["endpoints"][0]["conditions"] == {
        "ready": False,
        "serving": True,
        "terminating": True,
    }


async def test_pods_resolving_a_named_port_differently_get_their_own_slices(
    client: Client,
) -> None:
    await node(client)
    await service(client, "n", {"app": "n"}, ports=[{"port": 80, "targetPort": "http"}])
    await pod(
        client, "a", {"app": "n"}, ip="10.1.0.1", ports=[{"name": "http", "containerPort": 1}]
    )
    await pod(
        client, "b", {"app": "n"}, ip="10.1.0.2", ports=[{"name": "http", "containerPort": 2}]
    )
    async with running(client, EndpointSliceController(client)):
        found = await slices_where(client, "n", lambda s: len(s) == 2 and len(addresses(s)) == 2)
    ports = {s["ports"][0]["port"]: addresses([s]) for s in found}
    assert ports == {1: ["10.1.0.1"], 2: ["10.1.0.2"]}
    assert found[0]["ports"][0]["name"] == ""  # upstream always writes the name, maybe empty


async def test_more_than_a_hundred_pods_take_two_slices(client: Client) -> None:
    await node(client)
    await service(client, "big", {"app": "big"})
    for number in range(101):
        await pod(
            client, f"p{number:03}", {"app": "big"}, ip=f"10.2.{number // 200}.{number % 200}"
        )
    async with running(client, EndpointSliceController(client)):
        found = await slices_where(client, "big", lambda s: len(addresses(s)) == 101)
    assert sorted(len(s["endpoints"]) for s in found) == [1, 100]


async def test_a_service_without_pods_has_a_placeholder_slice(client: Client) -> None:
    await service(client, "empty", {"app": "nothing"})
    async with running(client, EndpointSliceController(client)):
        [placeholder] = await slices_where(client, "empty", lambda s: len(s) == 1)
    assert placeholder["endpoints"] is None and placeholder["ports"] is None


async def test_a_relabelled_pod_leaves_and_the_slice_is_reused(client: Client) -> None:
    await node(client)
    await service(client, "web", {"app": "web"})
    await pod(client, "a", {"app": "web"}, ip="10.1.0.1")
    async with running(client, EndpointSliceController(client)):
        [before] = await slices_where(client, "web", lambda s: addresses(s) == ["10.1.0.1"])
        await client.patch(PODS, NS, "a", {"metadata": {"labels": {"app": "debug"}}})
        [after] = await slices_where(client, "web", lambda s: addresses(s) == [])
    # the emptied slice became the placeholder under its own name: no delete and create
    assert after["metadata"]["name"] == before["metadata"]["name"]
    assert after["endpoints"] is None


async def test_a_deleted_services_slices_are_garbage_collected(client: Client) -> None:
    await node(client)
    await service(client, "web", {"app": "web"})
    await pod(client, "a", {"app": "web"}, ip="10.1.0.1")
    async with running(client, EndpointSliceController(client), GarbageCollector(client)):
        await slices_where(client, "web", lambda s: addresses(s) == ["10.1.0.1"])
        await client.delete(SERVICES, NS, "web")

        async def collected() -> bool:
            return await slices_of(client, "web") == []

        await eventually(collected, "the slices collected with their Service")


async def test_selectorless_services_keep_their_hand_made_slices(client: Client) -> None:
    await service(client, "manual", None)
    handmade = await client.create(
        ENDPOINT_SLICES,
        NS,
        {
            "metadata": {"name": "manual-1", "labels": {SERVICE_NAME: "manual"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.9.9.9"]}],
        },
    )
    await service(client, "marker", {"app": "m"})
    async with running(client, EndpointSliceController(client)):
        await slices_where(client, "marker", lambda s: len(s) == 1)
        await turns()
    assert await slices_of(client, "manual") == [handmade]


async def test_no_write_when_nothing_changed(client: Client) -> None:
    await node(client)
    await service(client, "web", {"app": "web"})
    await pod(client, "a", {"app": "web"}, ip="10.1.0.1")
    controller = EndpointSliceController(client)
    async with running(client, controller):
        [made] = await slices_where(client, "web", lambda s: addresses(s) == ["10.1.0.1"])
        await kubelet_reports(client, "a", ip="10.1.0.1", phase="Running")  # the same again
        await client.patch(PODS, NS, "a", {"metadata": {"annotations": {"note": "x"}}})
        await eventually(
            lambda: controller.pods.get(f"{NS}/a")["metadata"].get("annotations"), "cache"
        )
        assert await controller.reconcile(f"{NS}/web") is None
        [after] = await slices_of(client, "web")
    assert after["metadata"]["resourceVersion"] == made["metadata"]["resourceVersion"]


async def test_pods_on_an_unknown_node_wait_for_it(client: Client) -> None:
    await service(client, "web", {"app": "web"})
    await pod(client, "a", {"app": "web"}, ip="10.1.0.1", node_name="late")
    async with running(client, EndpointSliceController(client)):

        async def warned() -> list[Object]:
            events = (await client.list(EVENTS, NS))["items"]
            return [e for e in events if e["reason"] == "FailedToUpdateEndpointSlices"]

        [event] = await eventually(warned, "a FailedToUpdateEndpointSlices event")
        assert event["type"] == "Warning" and event["involvedObject"]["kind"] == "Service"
        assert event["message"] == (
            "Error updating Endpoint Slices for Service default/web: "
            "skipping Pod a for Service default/web: Node late Not Found"
        )
        assert addresses(await slices_of(client, "web")) == []
        await node(client, "late")  # the retry, a second later, finds it
        await slices_where(client, "web", lambda s: addresses(s) == ["10.1.0.1"])


def test_new_endpoints_fill_the_slice_they_fit_best() -> None:
    svc = {
        "metadata": {"name": "s", "namespace": NS, "uid": "u"},
        "spec": {"selector": {"a": "b"}, "clusterIP": "10.0.0.1"},
    }
    nodes = {"n": {"metadata": {"name": "n"}}}

    def pods(count: int, start: int = 0) -> list[Object]:
        return [
            {
                "metadata": {"name": f"p{i:03}", "namespace": NS, "uid": f"u{i}"},
                "spec": {"nodeName": "n"},
                "status": {"podIP": f"10.0.1.{i}", "podIPs": [{"ip": f"10.0.1.{i}"}]},
            }
            for i in range(start, start + count)
        ]

    first = plan_slices(svc, pods(5), [], nodes.get, max_per_slice=3)
    assert [len(s["endpoints"]) for s in first.create] == [3, 2]
    existing = [
        {**s, "metadata": {**s["metadata"], "name": f"s-{i}"}} for i, s in enumerate(first.create)
    ]
    again = plan_slices(svc, pods(5), existing, nodes.get, max_per_slice=3)
    assert (again.create, again.update, again.delete) == ([], [], [])
    grown = plan_slices(svc, pods(6), existing, nodes.get, max_per_slice=3)
    assert grown.create == [] and grown.delete == []
    [filled] = grown.update  # the slice with room took the new pod
    assert filled["metadata"]["name"] == "s-1" and len(filled["endpoints"]) == 3


async def test_the_kubernetes_service_has_the_apiservers_endpoints(client: Client) -> None:
    # bootstrap ran with host 127.0.0.1 and port 8443 (tests/clusters.py)
    endpoints = await client.get(ENDPOINTS, NS, "kubernetes")
    assert endpoints["subsets"] == [
        {
            "addresses": [{"ip": "127.0.0.1"}],
            "ports": [{"name": "https", "port": 8443, "protocol": "TCP"}],
        }
    ]
    made = await client.get(ENDPOINT_SLICES, NS, "kubernetes")
    assert made["metadata"]["labels"] == {SERVICE_NAME: "kubernetes"}
    assert made["addressType"] == "IPv4"
    assert made["endpoints"] == [{"addresses": ["127.0.0.1"], "conditions": {"ready": True}}]
    assert made["ports"] == [{"name": "https", "port": 8443, "protocol": "TCP"}]


async def test_a_restart_on_another_port_brings_the_kubernetes_endpoints_along() -> None:
    async with bootstrapped_storage(builtin_registry()) as storage:  # made for 127.0.0.1:8443
        slices = storage.registry.get("discovery.k8s.io", "v1", "endpointslices")
        endpoints = storage.registry.get("", "v1", "endpoints")
        assert slices is not None and endpoints is not None
        await bootstrap(storage, host="127.0.0.1", port=8443)  # the same: nothing written
        before = await storage.get(slices, NS, "kubernetes")
        await bootstrap(storage, host="127.0.0.1", port=8443)
        assert await storage.get(slices, NS, "kubernetes") == before
        await bootstrap(storage, host="127.0.0.2", port=9443)
        moved = await storage.get(slices, NS, "kubernetes")
        assert moved["endpoints"][0]["addresses"] == ["127.0.0.2"]
        assert moved["ports"][0]["port"] == 9443
        [subset] = (await storage.get(endpoints, NS, "kubernetes"))["subsets"]
        assert subset["addresses"] == [{"ip": "127.0.0.2"}]
        assert subset["ports"][0]["port"] == 9443


async def test_slices_edited_by_someone_else_are_put_right(client: Client) -> None:
    await node(client)
    await service(client, "web", {"app": "web"})
    await pod(client, "a", {"app": "web"}, ip="10.1.0.1")
    async with running(client, EndpointSliceController(client)):
        [made] = await slices_where(client, "web", lambda s: addresses(s) == ["10.1.0.1"])
        name = made["metadata"]["name"]
        await client.patch(ENDPOINT_SLICES, NS, name, {"endpoints": [{"addresses": ["10.6.6.6"]}]})
        await slices_where(client, "web", lambda s: addresses(s) == ["10.1.0.1"])
        await client.patch(SERVICES, NS, "web", {"metadata": {"labels": {"team": "b"}}})
        [relabelled] = await slices_where(
            client, "web", lambda s: s[0]["metadata"]["labels"].get("team") == "b"
        )
    assert relabelled["metadata"]["name"] == name


def test_published_not_ready_pods_are_ready_and_named_by_their_subdomain() -> None:
    svc = {
        "metadata": {"name": "db", "namespace": NS, "uid": "u"},
        "spec": {"selector": {"a": "b"}, "clusterIP": "None", "publishNotReadyAddresses": True},
    }
    pending = {
        "metadata": {"name": "db-0", "namespace": NS, "uid": "p"},
        "spec": {"nodeName": "gone", "hostname": "db-0", "subdomain": "db"},
        "status": {"podIP": "10.0.1.1", "podIPs": [{"ip": "10.0.1.1"}]},
    }
    plan = plan_slices(svc, [pending], [], lambda _name: None)
    assert plan.problems == []  # publishing everything: even a pod on an unknown node
    [made] = plan.create
    assert made["metadata"]["labels"]["service.kubernetes.io/headless"] == ""
    assert made["ports"] == []
    [endpoint] = made["endpoints"]
    assert endpoint["conditions"] == {"ready": True, "serving": False, "terminating": False}
    assert endpoint["hostname"] == "db-0" and "zone" not in endpoint
