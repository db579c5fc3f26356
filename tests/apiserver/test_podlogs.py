"""pods/log through a real API server whose kubelet is a fake: options checked and passed on,
the container chosen as upstream chooses it, errors in upstream's words, follow streamed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from minikube_py.apiserver.pki import client_ssl_context
from minikube_py.runtime.protocol import ContainerError, LogOptions
from tests.apiserver.fakestreams import FakeNodeStreams, Served, serving

PODS = "/api/v1/namespaces/default/pods"


@pytest.fixture
def streams() -> FakeNodeStreams:
    return FakeNodeStreams(
        logs_by_container={
            ("web", "web"): [b"one\n", b"two\n", b"three\n"],
            ("duo", "b"): [b"from b\n"],
        }
    )


@pytest.fixture
async def served(tmp_path: Path, streams: FakeNodeStreams) -> AsyncIterator[Served]:
    async with serving(tmp_path, streams) as served:
        await served.create_pod("web", "web")
        await served.create_pod("duo", "a", "b", init=["setup"])
        yield served


@pytest.fixture
async def http(served: Served) -> AsyncIterator[Any]:
    ssl = client_ssl_context(served.pki)
    async with aiohttp.ClientSession() as session:

        async def get(path: str) -> aiohttp.ClientResponse:
            return await session.get(f"{served.url}{path}", ssl=ssl)

        yield get


async def status_of(response: aiohttp.ClientResponse) -> tuple[int, str, str]:
    body = await response.json()
    assert body["kind"] == "Status" and body["status"] == "Failure"
    return response.status, body["reason"], body["message"]


async def test_the_only_container_is_read_and_options_passed_on(
    http: Any, streams: FakeNodeStreams
) -> None:
    response = await http(f"{PODS}/web/log?tailLines=2&timestamps=true&sinceSeconds=60")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/plain"
    assert await response.read() == b"two\nthree\n"
    assert streams.log_requests == [
        ("default", "web", "web", LogOptions(timestamps=True, tail_lines=2, since_seconds=60))
    ]


async def test_more_options_and_a_named_container(http: Any, streams: FakeNodeStreams) -> None:
    query = "container=b&previous=1&limitBytes=10&sinceTime=2024-05-01T10:00:00%2B02:00"
    response = await http(f"{PODS}/duo/log?{query}&insecureSkipTLSVerifyBackend=true")
    assert response.status == 200 and await response.read() == b"from b\n"
    options = streams.log_requests[-1][3]
    assert options == LogOptions(previous=True, limit_bytes=10, since_time="2024-05-01T08:00:00Z")


async def test_several_containers_need_a_name(http: Any) -> None:
    assert await status_of(await http(f"{PODS}/duo/log")) == (
        400,
        "BadRequest",
        "a container name must be specified for pod duo, choose one of: [setup a b]",
    )
    assert await status_of(await http(f"{PODS}/duo/log?container=x")) == (
        400,
        "BadRequest",
        "container x is not valid for pod duo",
    )


async def test_invalid_options_are_refused_as_upstream(http: Any) -> None:
    response = await http(f"{PODS}/web/log?tailLines=-1")
    body = await response.json()
    assert response.status == 422 and body["reason"] == "Invalid"
    assert body["message"] == (
        'PodLogOptions "web" is invalid: tailLines: Invalid value: -1: '
        "must be greater than or equal to 0"
    )
    assert body["details"] == {
        "name": "web",
        "kind": "PodLogOptions",
        "causes": [
            {
                "reason": "FieldValueInvalid",
                "message": "Invalid value: -1: must be greater than or equal to 0",
                "field": "tailLines",
            }
        ],
    }
    both = await status_of(await http(f"{PODS}/web/log?sinceSeconds=0&limitBytes=0"))
    assert both == (
        422,
        "Invalid",
        'PodLogOptions "web" is invalid: [limitBytes: Invalid value: 0: must be greater than 0, '
        "sinceSeconds: Invalid value: 0: must be greater than 0]",
    )
    since = await http(f"{PODS}/web/log?sinceSeconds=5&sinceTime=2024-05-01T10:00:00Z")
    assert (await status_of(since))[2] == (
        'PodLogOptions "web" is invalid: : Forbidden: at most one of `sinceTime` or '
        "`sinceSeconds` may be specified"
    )
    assert await status_of(await http(f"{PODS}/web/log?tailLines=ten")) == (
        400,
        "BadRequest",
        'strconv.ParseInt: parsing "ten": invalid syntax',
    )


async def test_missing_pod_unscheduled_pod_and_absent_kubelet(
    served: Served, http: Any, streams: FakeNodeStreams
) -> None:
    assert await status_of(await http(f"{PODS}/nope/log")) == (
        404,
        "NotFound",
        'pods "nope" not found',
    )
    await served.create_pod("pending", "c", node="")
    nothing = await http(f"{PODS}/pending/log")
    assert nothing.status == 204 and await nothing.read() == b""
    await served.create_pod("elsewhere", "c", node="minikube-m02")
    assert await status_of(await http(f"{PODS}/elsewhere/log")) == (
        503,
        "ServiceUnavailable",
        'the kubelet of node "minikube-m02" does not answer yet',
    )
    assert streams.log_requests == []  # no kubelet was asked


async def test_a_kubelet_refusal_becomes_a_status(http: Any) -> None:
    assert await status_of(await http(f"{PODS}/duo/log?container=a")) == (
        400,
        "BadRequest",
        'container "a" in pod "duo" is waiting to start: ContainerCreating',
    )


async def test_a_refusal_made_before_reading_becomes_a_status(
    http: Any, streams: FakeNodeStreams, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real kubelet refuses when asked for the stream, not when it is read."""

    def refuse(namespace: str, pod: str, container: str, options: LogOptions) -> Any:
        where = f'container "{container}" in pod "{pod}"'
        raise ContainerError("BadRequest", f"{where} is waiting to start: ErrImagePull")

    monkeypatch.setattr(streams, "logs", refuse)
    assert await status_of(await http(f"{PODS}/web/log")) == (
        400,
        "BadRequest",
        'container "web" in pod "web" is waiting to start: ErrImagePull',
    )


async def test_follow_sends_each_chunk_as_it_comes(http: Any, streams: FakeNodeStreams) -> None:
    streams.gate = asyncio.Event()
    response = await http(f"{PODS}/web/log?follow=true")
    assert response.status == 200
    seen = b""
    for expected in (b"one\n", b"one\ntwo\n", b"one\ntwo\nthree\n"):
        # a chunk arrives before the kubelet has produced the next one: nothing is buffered
        while seen != expected:
            seen += await asyncio.wait_for(response.content.readany(), 5)
        streams.gate.set()
    assert await asyncio.wait_for(response.read(), 5) == b""  # the stream ends with the logs
