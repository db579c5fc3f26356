"""The service proxy against a running in-process cluster: real listeners, real connections.

Each test starts a cluster (its own address slot) with a ``ServiceProxy`` task, echo
endpoints on pod addresses, selector-less Services and hand-written EndpointSlices, and talks
to the ClusterIPs (node ports, load-balancer addresses) through real sockets.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ipaddress
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from minikube_py.client import ENDPOINT_SLICES, SERVICES
from minikube_py.config import LOW_PORT_OFFSET, may_bind_low_ports
from tests.controllers.stepping import eventually
from tests.net.support import (
    Echo,
    UdpEcho,
    answer,
    ask,
    create_service,
    endpoint,
    extra_proxy,
    listening,
    pod_address,
    proxied_cluster,
    write_slice,
)


@contextlib.asynccontextmanager
async def echoes(*servers: Echo) -> AsyncIterator[list[Echo]]:
    started: list[Echo] = []
    try:
        for server in servers:
            started.append(await server.start())
        yield started
    finally:
        for server in started:
            await server.close()


async def test_round_robin_over_three_endpoints(tmp_path: Path) -> None:
    async with proxied_cluster(tmp_path) as (running, proxy, client):
        net = running.network
        pods = [Echo(f"pod-{i}", pod_address(net, 0, 200 + i)) for i in range(3)]
        async with echoes(*pods):
            service = await create_service(client, "web", port=80)
            ip = service["spec"]["clusterIP"]
            await write_slice(client, "web", [endpoint(p.address) for p in pods])
            port = await listening(proxy, "TCP", ip, 80)
            counts = collections.Counter([await ask(ip, port) for _ in range(30)])
            assert counts == {"pod-0": 10, "pod-1": 10, "pod-2": 10}
            # the endpoint sees the caller's own address, as with upstream's DNAT
            assert set(pods[0].peers) == {"127.0.0.1"}


async def test_target_port_comes_from_the_slice_port_of_the_same_name(tmp_path: Path) -> None:
    async with proxied_cluster(tmp_path) as (running, proxy, client):
        pod = Echo("named", pod_address(running.network, 0, 201), port=9100)
        async with echoes(pod):
            service = await create_service(
                client,
                "named",
                ports=[
                    {"name": "http", "port": 8080, "targetPort": "web"},
                    {"name": "other", "port": 8081, "targetPort": 1},
                ],
            )
            ip = service["spec"]["clusterIP"]
            await write_slice(client, "named", [endpoint(pod.address)], port=9100, port_name="http")
            port = await listening(proxy, "TCP", ip, 8080)
            assert await ask(ip, port) == "named"
            # the slice has no port named "other": that Service port has no endpoints
            assert ("TCP", ip, 8081) not in proxy.listening()
            with pytest.raises(ConnectionRefusedError):
                await asyncio.open_connection(ip, 8081)


async def test_udp_service(tmp_path: Path) -> None:
    async with proxied_cluster(tmp_path) as (running, proxy, client):
        loop = asyncio.get_running_loop()
        address = pod_address(running.network, 0, 202)
        transport, echo = await loop.create_datagram_endpoint(
            lambda: UdpEcho("dns-pod"), local_addr=(address, 5353)
        )
        other = pod_address(running.network, 0, 203)
        replacement, _ = await loop.create_datagram_endpoint(
            lambda: UdpEcho("next-pod"), local_addr=(other, 5353)
        )
        try:
            service = await create_service(
                client, "udp", ports=[{"name": "dns", "port": 53, "protocol": "UDP"}]
            )
            ip = service["spec"]["clusterIP"]
            await write_slice(
                client, "udp", [endpoint(address)], port=5353, port_name="dns", protocol="UDP"
            )
            port = await listening(proxy, "UDP", ip, 53)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.setblocking(False)
                await loop.sock_connect(sock, (ip, port))
                for question in (b"one", b"two"):
                    await loop.sock_sendall(sock, question)
                    async with asyncio.timeout(5):
                        assert await loop.sock_recv(sock, 100) == b"dns-pod:" + question
                assert echo.peers == ["127.0.0.1", "127.0.0.1"]
                # the endpoint leaves: the client's flow ends, its next datagram goes on
                await write_slice(
                    client, "udp", [endpoint(other)], port=5353, port_name="dns", protocol="UDP"
                )

                async def moved() -> bool:
                    await loop.sock_sendall(sock, b"three")
                    try:  # a datagram in flight while the flow ends is lost, as UDP may be
                        async with asyncio.timeout(0.5):
                            return await loop.sock_recv(sock, 100) == b"next-pod:three"
                    except TimeoutError:
                        return False

                await eventually(moved, "the flow moved to the remaining endpoint")
            # a UDP Service without endpoints has no socket: the client hears "refused"
            empty = await create_service(
                client, "udp-empty", ports=[{"port": 5300, "protocol": "UDP"}]
            )
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.setblocking(False)
                await loop.sock_connect(sock, (empty["spec"]["clusterIP"], 5300))
                await loop.sock_sendall(sock, b"anyone?")
                with pytest.raises(ConnectionRefusedError):
                    async with asyncio.timeout(5):
                        await loop.sock_recv(sock, 100)
        finally:
            transport.close()
            replacement.close()


async def test_no_usable_endpoint_refuses_at_once(tmp_path: Path) -> None:
    async with proxied_cluster(tmp_path) as (running, proxy, client):
        pod = Echo("only", pod_address(running.network, 0, 203))
        async with echoes(pod):
            service = await create_service(client, "empty", port=8080)
            ip = service["spec"]["clusterIP"]
            started = time.monotonic()
            with pytest.raises(ConnectionRefusedError):
                await asyncio.open_connection(ip, 8080)
            assert time.monotonic() - started < 1.0
            # an endpoint that is not ready is no endpoint either
            await write_slice(client, "empty", [endpoint(pod.address, ready=False)])
            await write_slice(client, "empty", [endpoint(pod.address)], name="empty-ready")
            await listening(proxy, "TCP", ip, 8080)
            await client.delete(ENDPOINT_SLICES, "default", "empty-ready")
            await eventually(
                lambda: ("TCP", ip, 8080) not in proxy.listening(), "the listener closed"
            )
            with pytest.raises(ConnectionRefusedError):
                await asyncio.open_connection(ip, 8080)


async def test_terminating_but_serving_endpoints_are_used_when_none_is_ready(
    tmp_path: Path,
) -> None:
    async with proxied_cluster(tmp_path) as (running, proxy, client):
        net = running.network
        draining = Echo("draining", pod_address(net, 0, 204))
        gone = Echo("gone", pod_address(net, 0, 205))
        async with echoes(draining, gone):
            service = await create_service(client, "drain", port=8080)
            ip = service["spec"]["clusterIP"]
            await write_slice(
                client,
                "drain",
                [
                    endpoint(draining.address, ready=False, serving=True, terminating=True),
                    endpoint(gone.address, ready=False, serving=False, terminating=True),
                ],
            )
            port = await listening(proxy, "TCP", ip, 8080)
            assert {await ask(ip, port) for _ in range(4)} == {"draining"}


async def test_endpoint_removal_closes_its_connections_and_reroutes_quickly(
    tmp_path: Path,
) -> None:
    async with proxied_cluster(tmp_path) as (running, proxy, client):
        net = running.network
        pods = [Echo(f"pod-{i}", pod_address(net, 0, 206 + i)) for i in range(3)]
        async with echoes(*pods):
            service = await create_service(client, "moving", port=8080)
            ip = service["spec"]["clusterIP"]
            await write_slice(client, "moving", [endpoint(p.address) for p in pods])
            port = await listening(proxy, "TCP", ip, 8080)
            reader, writer = await asyncio.open_connection(ip, port)
            writer.write(b"who\n")
            victim = (await reader.readline()).decode().partition(":")[0]
            rest = [p for p in pods if p.name != victim]
            started = time.monotonic()
            await write_slice(client, "moving", [endpoint(p.address) for p in rest])
            written = time.monotonic()

            async def rerouted() -> bool:
                return all([await ask(ip, port) != victim for _ in range(3)])

            await eventually(rerouted, "new connections avoid the removed endpoint", 2.0)
            took = time.monotonic() - written
            async with asyncio.timeout(2):
                with contextlib.suppress(ConnectionResetError):  # a reset or an EOF: closed
                    assert await reader.read() == b""
            writer.close()
            print(f"rerouted {took * 1000:.1f} ms after the slice was written")
            assert took < 0.5, f"endpoint change took {took:.3f}s (write {written - started:.3f}s)"
            assert {await ask(ip, port) for _ in range(4)} == {p.name for p in rest}


async def test_client_ip_affinity_sticks(tmp_path: Path) -> None:
    async with proxied_cluster(tmp_path) as (running, proxy, client):
        net = running.network
        pods = [Echo(f"pod-{i}", pod_address(net, 0, 210 + i)) for i in range(3)]
        async with echoes(*pods):
            service = await create_service(
                client,
                "sticky",
                port=8080,
                sessionAffinity="ClientIP",
                sessionAffinityConfig={"clientIP": {"timeoutSeconds": 60}},
            )
            ip = service["spec"]["clusterIP"]
            await write_slice(client, "sticky", [endpoint(p.address) for p in pods])
            port = await listening(proxy, "TCP", ip, 8080)
            first = await ask(ip, port)
            assert {await ask(ip, port) for _ in range(9)} == {first}
            # another client address may land elsewhere, and keeps its own choice
            other = await ask(ip, port, source=net.node_address(5))
            assert {await ask(ip, port, source=net.node_address(5)) for _ in range(5)} == {other}
            # the chosen endpoint leaves: the client moves, and sticks to its new one
            await write_slice(
                client, "sticky", [endpoint(p.address) for p in pods if p.name != first]
            )

            async def moved() -> bool:
                return await ask(ip, port) != first

            await eventually(moved, "the client moved")
            second = await ask(ip, port)
            assert {await ask(ip, port) for _ in range(5)} == {second}


async def test_internal_traffic_policy_local_and_same_node_preference(tmp_path: Path) -> None:
    async with proxied_cluster(tmp_path, nodes=2) as (running, proxy, client):
        net = running.network
        first, second = (agent.node.name for agent in running.agents)
        here = Echo("on-first", pod_address(net, 0, 213))
        there = Echo("on-second", pod_address(net, 1, 213))
        async with echoes(here, there):
            local = await create_service(client, "local", port=8080, internalTrafficPolicy="Local")
            near = await create_service(client, "near", port=8080)
            for name in ("local", "near"):
                await write_slice(
                    client,
                    name,
                    [endpoint(here.address, node=first), endpoint(there.address, node=second)],
                )
            local_ip, near_ip = local["spec"]["clusterIP"], near["spec"]["clusterIP"]
            await listening(proxy, "TCP", local_ip, 8080)
            await listening(proxy, "TCP", near_ip, 8080)
            pod_on_second = pod_address(net, 1, 250)
            pod_on_first = pod_address(net, 0, 250)
            await eventually(
                lambda: proxy.topology.locate(pod_on_second) == (second, True), "both nodes"
            )
            for ip in (local_ip, near_ip):
                asked = {await ask(ip, 8080, source=pod_on_second) for _ in range(4)}
                assert asked == {"on-second"}
                asked = {await ask(ip, 8080, source=pod_on_first) for _ in range(4)}
                assert asked == {"on-first"}
            # the host counts as on the first node for Local, and is not steered for Cluster
            assert {await ask(local_ip, 8080) for _ in range(4)} == {"on-first"}
            assert {await ask(near_ip, 8080) for _ in range(4)} == {"on-first", "on-second"}
            # Local with no endpoint on the client's node: reset at once, never a hang
            await write_slice(client, "local", [endpoint(there.address, node=second)])

            async def turned_away() -> bool:
                return await answer(local_ip, 8080, source=pod_on_first) is None

            started = time.monotonic()
            await eventually(turned_away, "the pod on the first node turned away")
            assert time.monotonic() - started < 2.0
            assert await answer(local_ip, 8080, source=pod_on_second) == "on-second"


async def test_node_port_on_every_node_address(tmp_path: Path) -> None:
    async with proxied_cluster(tmp_path, nodes=2) as (running, proxy, client):
        net = running.network
        second = running.agents[1].node.name
        pod = Echo("np", pod_address(net, 1, 214))
        async with echoes(pod):
            service = await create_service(client, "np", port=8080, type="NodePort")
            local = await create_service(
                client, "np-local", port=8080, type="NodePort", externalTrafficPolicy="Local"
            )
            for name in ("np", "np-local"):
                await write_slice(client, name, [endpoint(pod.address, node=second)])
            node_port = service["spec"]["ports"][0]["nodePort"]
            local_port = local["spec"]["ports"][0]["nodePort"]
            for index in (0, 1):
                await listening(proxy, "TCP", net.node_address(index), node_port)
                assert await ask(net.node_address(index), node_port) == "np"
            # externalTrafficPolicy Local: only the node with the endpoint answers
            await listening(proxy, "TCP", net.node_address(1), local_port)
            assert await ask(net.node_address(1), local_port) == "np"
            with pytest.raises(ConnectionRefusedError):
                await asyncio.open_connection(net.node_address(0), local_port)


async def test_a_taken_address_is_logged_and_the_rest_is_served(tmp_path: Path) -> None:
    async with proxied_cluster(tmp_path) as (running, proxy, client):
        net = running.network
        pod = Echo("fine", pod_address(net, 0, 215))
        async with echoes(pod):
            squatted = str(ipaddress.ip_network(net.service_block)[250])
            squatter = socket.socket()
            squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            squatter.bind((squatted, 8080))
            squatter.listen()
            try:
                blocked = await create_service(client, "blocked", port=8080, clusterIP=squatted)
                good = await create_service(client, "good", port=8080)
                await write_slice(client, "blocked", [endpoint(pod.address)])
                # nonsense in a slice is skipped, never fatal
                await write_slice(
                    client,
                    "good",
                    [endpoint(pod.address), {"addresses": ["not-an-ip"]}, {"addresses": []}],
                )
                ip = good["spec"]["clusterIP"]
                port = await listening(proxy, "TCP", ip, 8080)
                assert await ask(ip, port) == "fine"
                assert ("TCP", squatted, 8080) not in proxy.listening()
            finally:
                squatter.close()
            # tried again at the next change (or after retry_seconds)
            blocked["metadata"]["labels"] = {"touched": "yes"}
            await client.update(SERVICES, "default", blocked)
            await listening(proxy, "TCP", squatted, 8080)
            assert await ask(squatted, 8080) == "fine"


async def test_services_the_proxy_must_leave_alone(tmp_path: Path) -> None:
    async with proxied_cluster(tmp_path) as (running, proxy, client):
        pod = Echo("x", pod_address(running.network, 0, 216))
        async with echoes(pod):
            body = {
                "metadata": {
                    "name": "in-process",
                    "annotations": {"minikube-py.io/in-process": "true"},
                },
                "spec": {"ports": [{"port": 8080, "targetPort": 9376}]},
            }
            inproc = await client.create(SERVICES, "default", body)
            normal = await create_service(client, "normal", port=8080)
            for name in ("in-process", "normal"):
                await write_slice(client, name, [endpoint(pod.address)])
            await listening(proxy, "TCP", normal["spec"]["clusterIP"], 8080)
            assert ("TCP", inproc["spec"]["clusterIP"], 8080) not in proxy.listening()


async def test_node_ports_follow_nodes_that_join(tmp_path: Path) -> None:
    async with proxied_cluster(tmp_path) as (running, proxy, client):
        net = running.network
        pod = Echo("joined", pod_address(net, 0, 217))
        async with echoes(pod):
            service = await create_service(client, "np", port=8080, type="NodePort")
            await write_slice(client, "np", [endpoint(pod.address)])
            node_port = service["spec"]["ports"][0]["nodePort"]
            await listening(proxy, "TCP", net.node_address(0), node_port)
            assert ("TCP", net.node_address(1), node_port) not in proxy.listening()
            await running.nodes.add()
            await listening(proxy, "TCP", net.node_address(1), node_port)
            assert await ask(net.node_address(1), node_port) == "joined"


async def test_low_ports_fall_back_when_they_may_not_be_bound(tmp_path: Path) -> None:
    async with (
        proxied_cluster(tmp_path) as (running, cluster_proxy, client),
        # the cluster's proxy falls back itself where this process may not bind low ports;
        # where it may, a second proxy is told it may not
        extra_proxy(running, low_ports=False)
        if may_bind_low_ports()
        else contextlib.nullcontext(cluster_proxy) as proxy,
    ):
        pod = Echo("low", pod_address(running.network, 0, 218))
        async with echoes(pod):
            service = await create_service(client, "low", port=80)
            ip = service["spec"]["clusterIP"]
            await write_slice(client, "low", [endpoint(pod.address)])
            port = await listening(proxy, "TCP", ip, 80)
            assert port == LOW_PORT_OFFSET + 80
            assert await ask(ip, port) == "low"


async def test_half_close_and_a_refusing_endpoint(tmp_path: Path) -> None:
    async with proxied_cluster(tmp_path) as (running, proxy, client):
        net = running.network
        pod = Echo("alive", pod_address(net, 0, 219))
        dead = pod_address(net, 0, 229)  # listed as ready, but nothing listens there
        async with echoes(pod):
            service = await create_service(client, "half", port=8080)
            ip = service["spec"]["clusterIP"]
            await write_slice(client, "half", [endpoint(dead), endpoint(pod.address)])
            port = await listening(proxy, "TCP", ip, 8080)
            for _ in range(4):  # the refusing endpoint is skipped, every time
                reader, writer = await asyncio.open_connection(ip, port)
                writer.write(b"last words")
                writer.write_eof()  # the client is done sending, still listening
                async with asyncio.timeout(5):
                    assert await reader.read() == b"alive:last words"
                writer.close()


def test_the_proxy_works_on_uvloop(tmp_path: Path) -> None:
    """``serve`` runs on uvloop, whose transports differ from asyncio's in small ways (one
    may read before it is told to): the core paths again, on it."""
    uvloop = pytest.importorskip("uvloop")

    async def scenario() -> None:
        async with proxied_cluster(tmp_path) as (running, proxy, client):
            net = running.network
            pods = [Echo(f"pod-{i}", pod_address(net, 0, 240 + i)) for i in range(3)]
            async with echoes(*pods):
                service = await create_service(client, "uv", port=8080)
                ip = service["spec"]["clusterIP"]
                await write_slice(client, "uv", [endpoint(p.address) for p in pods])
                port = await listening(proxy, "TCP", ip, 8080)
                counts = collections.Counter([await ask(ip, port) for _ in range(9)])
                assert counts == {"pod-0": 3, "pod-1": 3, "pod-2": 3}
                for _ in range(3):  # data and EOF at once, before the endpoint is connected
                    reader, writer = await asyncio.open_connection(ip, port)
                    writer.write(b"quick")
                    writer.write_eof()
                    async with asyncio.timeout(5):
                        assert (await reader.read()).endswith(b":quick")
                    writer.close()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(scenario())
