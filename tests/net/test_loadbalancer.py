"""Load-balancer addresses: assigned from the cluster's block, shown in the Service's status,
served by the proxy, released when the Service stops being a LoadBalancer or is deleted.

The cluster runs its own ``LoadBalancerAllocator`` and ``ServiceProxy``; the test watches
what they do."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from minikube_py.client import EVENTS, SERVICES, Client
from minikube_py.net.loadbalancer import ingress_addresses
from tests.controllers.stepping import eventually
from tests.net.support import (
    Echo,
    ask,
    create_service,
    endpoint,
    pod_address,
    proxied_cluster,
    write_slice,
)
from tests.net.support import listening as proxy_listening


async def addresses(client: Client, name: str) -> list[str]:
    return ingress_addresses(await client.get(SERVICES, "default", name))


async def test_load_balancer_address_is_assigned_served_and_released(tmp_path: Path) -> None:
    async with proxied_cluster(tmp_path) as (running, proxy, client):
        net = running.network
        block = ipaddress.ip_network(net.load_balancer_block)
        pod = Echo("lb", pod_address(net, 0, 220))
        await pod.start()
        try:
            await create_service(client, "front", port=8080, type="LoadBalancer")
            await write_slice(client, "front", [endpoint(pod.address)])
            found = await eventually(lambda: addresses(client, "front"), "an address")
            assert found == [str(next(block.hosts()))]
            service = await client.get(SERVICES, "default", "front")
            assert service["status"]["loadBalancer"]["ingress"][0]["ipMode"] == "VIP"
            ip = found[0]
            port = await proxy_listening(proxy, "TCP", ip, 8080)
            assert await ask(ip, port) == "lb"
            node_port = service["spec"]["ports"][0]["nodePort"]
            assert await ask(net.node_address(0), node_port) == "lb"

            # a second one takes the next address; a requested one is honoured
            await create_service(client, "second", port=8080, type="LoadBalancer")
            wanted = str(block[77])
            await create_service(
                client, "asked", port=8080, type="LoadBalancer", loadBalancerIP=wanted
            )
            assert await eventually(lambda: addresses(client, "second"), "another") == [
                str(block[2])
            ]
            assert await eventually(lambda: addresses(client, "asked"), "asked") == [wanted]
            # a class names another implementation: left alone
            await create_service(
                client,
                "classy",
                port=8080,
                type="LoadBalancer",
                loadBalancerClass="example.com/other",
            )

            # no longer a LoadBalancer: the status is cleared and the proxy stops there
            await client.patch(
                SERVICES,
                "default",
                "front",
                {
                    "spec": {
                        "type": "ClusterIP",
                        "ports": [{"port": 8080, "targetPort": 9376}],
                        "externalTrafficPolicy": None,
                        "allocateLoadBalancerNodePorts": None,
                    }
                },
            )

            async def released() -> bool:
                return await addresses(client, "front") == []

            await eventually(released, "the address released")
            await eventually(
                lambda: ("TCP", ip, 8080) not in proxy.listening(), "the listener closed"
            )

            async def reasons() -> set[str]:
                events = await client.list(EVENTS, "default")
                return {
                    e["reason"] for e in events["items"] if e["involvedObject"]["name"] == "front"
                }

            wanted_reasons = {
                "EnsuringLoadBalancer",
                "EnsuredLoadBalancer",
                "DeletedLoadBalancer",
            }

            async def recorded() -> bool:
                return wanted_reasons <= await reasons()

            await eventually(recorded, "the Events")
            assert await addresses(client, "classy") == []

            # the freed address goes to the next Service that wants one
            await create_service(client, "third", port=8080, type="LoadBalancer")
            assert await eventually(lambda: addresses(client, "third"), "reused") == [ip]
        finally:
            await pod.close()
