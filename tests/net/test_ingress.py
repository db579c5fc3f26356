"""The Ingress controller in a running cluster: routing, answers, headers, status and Events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from minikube_py.client.protocol import EVENTS, INGRESSES
from minikube_py.net.ingress_status import INGRESS_CLASSES
from tests.controllers.stepping import eventually
from tests.net.ingress_helpers import (
    Setup,
    backends,
    get_json,
    ingress_cluster,
    make_ingress,
    make_service,
    path,
    set_endpoints,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "e2e" / "corpus" / "website-examples"


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    async with ingress_cluster(tmp_path) as made:
        yield made


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as made:
        yield made


async def answered(
    session: aiohttp.ClientSession, setup: Setup, host: str, target: str, status: int
) -> Any:
    """Wait until the proxy answers ``status`` for ``host`` + ``target`` (the controller
    applies a new Ingress a moment after it is written); the answer."""

    async def check() -> Any:
        code, body = await get_json(session, setup.http + target, host)
        return body if code == status else None

    return await eventually(check, f"{status} for {host}{target}")


async def test_host_and_path_routing_across_two_services(
    setup: Setup, session: aiohttp.ClientSession
) -> None:
    async with backends(setup, "web", "api") as (web, api):
        await make_service(setup.client, "web", [(web.address, web.port, True)])
        await make_service(setup.client, "api", [(api.address, api.port, True)])
        await make_ingress(
            setup.client,
            "shop",
            [
                {
                    "host": "shop.example",
                    "http": {"paths": [path("/", "web"), path("/api", "api")]},
                },
                {"host": "*.shop.example", "http": {"paths": [path("/", "api")]}},
            ],
        )
        body = await answered(session, setup, "shop.example", "/api/items?x=1", 200)
        assert (body["service"], body["target"]) == ("api", "/api/items?x=1")
        body = await answered(session, setup, "shop.example", "/apix", 200)
        assert body["service"] == "web"  # Prefix matches whole path elements
        body = await answered(session, setup, "eu.shop.example:80", "/", 200)
        assert body["service"] == "api"  # wildcard host; the port of the Host is ignored
        assert body["headers"]["Host"] == "eu.shop.example:80"  # passed through
        await answered(session, setup, "a.eu.shop.example", "/", 404)  # one label only
        await answered(session, setup, "elsewhere.example", "/", 404)


async def test_class_status_and_events(setup: Setup) -> None:
    klass = await setup.client.get(INGRESS_CLASSES, None, "nginx")
    assert klass["spec"]["controller"] == "k8s.io/ingress-nginx"
    assert klass["metadata"]["annotations"]["ingressclass.kubernetes.io/is-default-class"] == "true"
    rules = [{"host": "a.example", "http": {"paths": [path("/", "x")]}}]
    await make_ingress(setup.client, "no-class", rules)  # the default class takes it
    await make_ingress(setup.client, "other", rules, ingressClassName="traefik")
    await make_ingress(
        setup.client, "legacy", rules, annotations={"kubernetes.io/ingress.class": "nginx"}
    )
    wanted = [{"ip": setup.address}]

    async def balancer(name: str) -> Any:
        ingress = await setup.client.get(INGRESSES, "default", name)
        return (ingress.get("status") or {}).get("loadBalancer", {}).get("ingress")

    await eventually(lambda: _equal(balancer("no-class"), wanted), "status of no-class")
    await eventually(lambda: _equal(balancer("legacy"), wanted), "status of legacy")
    assert await balancer("other") is None

    async def synced() -> bool:
        events = (await setup.client.list(EVENTS, "default"))["items"]
        return any(
            event["involvedObject"]["name"] == "no-class"
            and event["reason"] == "Sync"
            and event["message"] == "Scheduled for sync"
            and event["source"]["component"] == "nginx-ingress-controller"
            for event in events
        )

    await eventually(synced, "the Sync event")
    # moved to another class, the Ingress is no longer served: its address goes
    await setup.client.patch(
        INGRESSES, "default", "no-class", {"spec": {"ingressClassName": "traefik"}}
    )
    await eventually(lambda: _equal(balancer("no-class"), None), "status cleared")
    # a stopped controller takes its address off the Ingresses it served
    await setup.stop_controller()
    assert await balancer("legacy") is None


async def _equal(value: Any, wanted: Any) -> bool:
    return bool(await value == wanted)


async def test_404_503_502_and_default_backend(
    setup: Setup, session: aiohttp.ClientSession
) -> None:
    async with backends(setup, "fallback") as (fallback,):
        await make_service(setup.client, "fallback", [(fallback.address, fallback.port, True)])
        await make_service(setup.client, "empty", [])
        await make_service(setup.client, "dead", [(setup.pod_address(50), 1, True)])
        await make_service(setup.client, "unready", [(fallback.address, fallback.port, False)])
        await make_ingress(
            setup.client,
            "errors",
            [
                {
                    "host": "errors.example",
                    "http": {
                        "paths": [
                            path("/empty", "empty"),
                            path("/missing", "no-such-service"),
                            path("/dead", "dead"),
                            path("/unready", "unready"),
                            path("/bad-port", "fallback", port=8080),
                        ]
                    },
                }
            ],
            defaultBackend={"service": {"name": "fallback", "port": {"name": "http"}}},
        )
        page = await answered(session, setup, "errors.example", "/empty", 503)
        assert "503 Service Temporarily Unavailable" in page
        await answered(session, setup, "errors.example", "/missing", 503)
        await answered(session, setup, "errors.example", "/unready", 503)
        await answered(session, setup, "errors.example", "/bad-port", 503)
        assert "502 Bad Gateway" in await answered(session, setup, "errors.example", "/dead", 502)
        body = await answered(session, setup, "errors.example", "/elsewhere", 200)
        assert body["service"] == "fallback"  # the Ingress's defaultBackend for its host
        assert "404 Not Found" in await answered(session, setup, "nowhere.example", "/", 404)
        # an endpoint that becomes ready is used by the next request
        await set_endpoints(setup.client, "unready", [(fallback.address, fallback.port, True)])
        await answered(session, setup, "errors.example", "/unready", 200)


async def test_forwarded_headers_and_request_bodies(
    setup: Setup, session: aiohttp.ClientSession
) -> None:
    async with backends(setup, "echo") as (echo,):
        await make_service(setup.client, "echo", [(echo.address, echo.port, True)])
        await make_ingress(
            setup.client, "echo", [{"host": "echo.example", "http": {"paths": [path("/", "echo")]}}]
        )
        body = await answered(session, setup, "echo.example", "/", 200)
        headers = body["headers"]
        assert headers["X-Forwarded-For"] == headers["X-Real-IP"] == "127.0.0.1"
        assert headers["X-Forwarded-Host"] == "echo.example"
        assert headers["X-Forwarded-Port"] == str(setup.controller.http_port)
        assert headers["X-Forwarded-Proto"] == "http"
        assert len(headers["X-Request-ID"]) == 32
        _, body = await get_json(session, setup.http, "echo.example", **{"X-Request-ID": "abc"})
        assert body["headers"]["X-Request-ID"] == "abc"  # the client's id is kept
        big = b"x" * (3 * 1024 * 1024)
        url = setup.http + "/upload"
        async with session.post(url, data=big, headers={"Host": "echo.example"}) as response:
            assert (await response.json())["body"] == len(big)

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(5):
                yield b"y" * 1000

        async with session.post(url, data=chunks(), headers={"Host": "echo.example"}) as response:
            assert (await response.json())["body"] == 5000  # a chunked request body


async def test_streamed_response_and_websocket(
    setup: Setup, session: aiohttp.ClientSession
) -> None:
    async with backends(setup, "live") as (live,):
        await make_service(setup.client, "live", [(live.address, live.port, True)])
        await make_ingress(
            setup.client, "live", [{"host": "live.example", "http": {"paths": [path("/", "live")]}}]
        )
        await answered(session, setup, "live.example", "/", 200)
        async with session.get(setup.http + "/stream", headers={"Host": "live.example"}) as got:
            assert got.headers["Transfer-Encoding"] == "chunked"
            async with asyncio.timeout(5):  # the first chunk arrives before the second exists
                assert await got.content.readline() == b"first\n"
            live.release.set()
            assert await got.content.read() == b"second\n"
        url = setup.http + "/ws"
        async with session.ws_connect(url, headers={"Host": "live.example"}) as socket:
            for word in ("hello", "again"):
                await socket.send_str(word)
                assert (await socket.receive_str()) == f"live: {word}"


async def test_round_robin_over_ready_endpoints(
    setup: Setup, session: aiohttp.ClientSession
) -> None:
    async with backends(setup, "one", "two", "three") as servers:
        endpoints = [(server.address, server.port, server.name != "three") for server in servers]
        await make_service(setup.client, "pool", endpoints)
        await make_ingress(
            setup.client, "pool", [{"host": "pool.example", "http": {"paths": [path("/", "pool")]}}]
        )
        await answered(session, setup, "pool.example", "/", 200)
        seen = [
            (await get_json(session, setup.http, "pool.example"))[1]["service"] for _ in range(6)
        ]
        assert seen.count("one") == seen.count("two") == 3  # "three" is not ready


async def test_the_minikube_tutorial(setup: Setup, session: aiohttp.ClientSession) -> None:
    """kubernetes.io "Set up Ingress on Minikube with the NGINX Ingress Controller": its
    example-ingress.yaml, then the /v2 path to web2."""
    manifest = yaml.safe_load((EXAMPLES / "service/networking/example-ingress.yaml").read_text())
    async with backends(setup, "web", "web2") as (web, web2):
        await make_service(setup.client, "web", [(web.address, web.port, True)], port=8080)
        await make_service(setup.client, "web2", [(web2.address, web2.port, True)], port=8080)
        await setup.client.create(INGRESSES, "default", manifest)
        body = await answered(session, setup, "hello-world.example", "/", 200)
        assert body["service"] == "web"
        manifest["spec"]["rules"][0]["http"]["paths"].append(path("/v2", "web2", port=8080))
        # as `kubectl apply -f example-ingress.yaml` with the /v2 path added
        await setup.client.patch(
            INGRESSES, "default", "example-ingress", {"spec": manifest["spec"]}
        )

        async def web2() -> bool:
            _, body = await get_json(session, setup.http + "/v2", "hello-world.example")
            return isinstance(body, dict) and body["service"] == "web2"

        await eventually(web2, "/v2 served by web2")


async def test_garbage_never_crashes_the_proxy(
    setup: Setup, session: aiohttp.ClientSession
) -> None:
    for garbage in (b"\x16\x03\x01\x00\xff nonsense\r\n\r\n", b"GET / SPDY/9\r\n\r\n", b"\r\n\r\n"):
        reader, writer = await asyncio.open_connection(setup.address, setup.controller.http_port)
        writer.write(garbage)
        async with asyncio.timeout(5):
            answer = await reader.read()
        writer.close()
        assert answer == b"" or answer.startswith(b"HTTP/1.1 400 Bad Request")
    # plain HTTP to the HTTPS port: the handshake fails, the listener stays
    reader, writer = await asyncio.open_connection(setup.address, setup.controller.https_port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    async with asyncio.timeout(5):
        await reader.read()
    writer.close()
    reader, writer = await asyncio.open_connection(setup.address, setup.controller.http_port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
    async with asyncio.timeout(5):
        assert (await reader.read()).startswith(b"HTTP/1.1 400")
    writer.close()
    await make_ingress(
        setup.client,
        "odd",
        [{"host": "odd.example", "http": {"paths": [path("/", "x", kind="Exact")]}}],
        defaultBackend={"resource": {"apiGroup": "example.com", "kind": "Bucket", "name": "b"}},
    )
    await answered(session, setup, "odd.example", "/", 503)  # no such Service
    await answered(session, setup, "odd.example", "/y", 404)  # a resource backend: not served
