"""pods/exec and pods/attach over a real WebSocket against a fake kubelet: channels, stdin and
its v5 close, exit codes, refusals before the upgrade, and cleanup when the client leaves."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from minikube_py.apiserver.pki import client_ssl_context
from tests.apiserver.fakestreams import FakeNodeStreams, Served, serving

POD = "/api/v1/namespaces/default/pods/web"
V5, V4 = "v5.channel.k8s.io", "v4.channel.k8s.io"


@pytest.fixture
def streams() -> FakeNodeStreams:
    return FakeNodeStreams()


@pytest.fixture
async def served(tmp_path: Path, streams: FakeNodeStreams) -> AsyncIterator[Served]:
    async with serving(tmp_path, streams) as served:
        await served.create_pod("web", "web")
        yield served


class Api:
    def __init__(self, served: Served, session: aiohttp.ClientSession) -> None:
        self.url, self.session = served.url, session
        self.ssl = client_ssl_context(served.pki)

    def path(self, sub: str, command: list[str], **flags: str) -> str:
        query = [("command", word) for word in command] + list(flags.items())
        return f"{POD}/{sub}?{urlencode(query)}"

    async def connect(
        self, command: list[str], protocol: str = V5, sub: str = "exec", **flags: str
    ) -> aiohttp.ClientWebSocketResponse:
        flags = {"stdout": "true", "stderr": "true", **flags}
        return await self.session.ws_connect(
            self.url + self.path(sub, command, **flags),
            protocols=(protocol,),
            ssl=self.ssl,
            autoping=False,
        )

    async def plain(self, method: str, path: str, **headers: str) -> tuple[int, Any]:
        async with self.session.request(
            method, self.url + path, ssl=self.ssl, headers=headers
        ) as response:
            return response.status, await response.json()


@pytest.fixture
async def api(served: Served) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(served, session)


async def frames(ws: aiohttp.ClientWebSocketResponse) -> list[bytes | str]:
    """Every data message until the server closes, which must be a normal closure."""
    seen: list[bytes | str] = []
    while True:
        message = await asyncio.wait_for(ws.receive(), 5)
        if message.type == aiohttp.WSMsgType.CLOSE:
            assert message.data == 1000
            await ws.close()
            return seen
        assert message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT)
        seen.append(message.data)


async def test_v5_output_then_success_then_normal_close(api: Api) -> None:
    ws = await api.connect(["echo", "hello", "world"])
    assert ws.protocol == V5
    assert await frames(ws) == [
        b"\x01",
        b"\x01hello world\n",
        b'\x03{"metadata":{},"status":"Success"}',
    ]


async def test_a_non_zero_exit_code_in_the_words_of_each_version(api: Api) -> None:
    ws = await api.connect(["sh", "-c", "exit 3"])
    seen = await frames(ws)
    assert seen[:2] == [b"\x01", b"\x02about to exit\n"]
    status = json.loads(seen[2][1:])
    assert status["reason"] == "NonZeroExitCode"
    assert status["message"] == (
        "command terminated with non-zero exit code: command terminated with exit code 3"
    )
    assert status["details"] == {"causes": [{"reason": "ExitCode", "message": "3"}]}
    old = json.loads((await frames(await api.connect(["sh", "-c", "exit 3"], V4)))[2][1:])
    assert old["message"] == (
        "command terminated with non-zero exit code: error executing command [sh -c exit 3], "
        "exit code 3"
    )


async def test_stdin_flows_and_the_v5_close_ends_it(api: Api, streams: FakeNodeStreams) -> None:
    ws = await api.connect(["cat"], stdin="true")
    await ws.send_bytes(b"\x00hi ")
    await ws.send_bytes(b"\x00there\n")
    await ws.send_bytes(b"\xff\x00")  # kubectl's "stdin is at its end"
    seen = await frames(ws)
    assert b"".join(frame[1:] for frame in seen if frame[:1] == b"\x01") == b"hi there\n"  # type: ignore[index]
    assert seen[-1] == b'\x03{"metadata":{},"status":"Success"}'
    assert streams.sessions[0].received == b"hi there\n"
    assert streams.sessions[0].stdin_closed.is_set()


async def test_text_frames_and_a_client_that_leaves(api: Api, streams: FakeNodeStreams) -> None:
    ws = await api.connect(["cat"], V4, stdin="True", stdout="True", stderr="True")
    await ws.send_str("\x00from python")  # what the Python client sends for str data
    assert (await ws.receive()).data == b"\x01"
    assert (await asyncio.wait_for(ws.receive(), 5)).data == b"\x01from python"
    await ws.close()
    session = streams.sessions[0]
    await asyncio.wait_for(session.killed.wait(), 5)  # the command does not outlive the client
    assert session.stdin_closed.is_set()


async def test_base64_protocol_and_resize(api: Api, streams: FakeNodeStreams) -> None:
    ws = await api.connect(["cat"], "v4.base64.channel.k8s.io", stdin="1", tty="1", stderr="false")
    await ws.send_str("4" + base64.b64encode(b'{"Width":80,"Height":24}').decode())
    await ws.send_str("0" + base64.b64encode(b"ok").decode())
    assert (await ws.receive()).data == "1"
    assert (await asyncio.wait_for(ws.receive(), 5)).data == "1" + base64.b64encode(b"ok").decode()
    assert streams.sessions[0].resizes == [(80, 24)]  # delivered before the later stdin
    assert streams.sessions[0].tty
    await ws.close()


async def test_only_requested_streams_and_big_output(api: Api) -> None:
    only_stderr = await frames(await api.connect(["both"], stdout="false"))
    assert only_stderr == [b"\x02", b"\x02to stderr\n", b'\x03{"metadata":{},"status":"Success"}']
    big = await frames(await api.connect(["big", "100000"]))
    sizes = [len(frame) - 1 for frame in big[1:-1]]
    assert sizes == [32768, 32768, 32768, 1696]


async def test_pings_are_answered(api: Api) -> None:
    ws = await api.connect(["sleep"])
    assert (await ws.receive()).data == b"\x01"
    await ws.ping(b"are you there")
    pong = await asyncio.wait_for(ws.receive(), 5)
    assert (pong.type, pong.data) == (aiohttp.WSMsgType.PONG, b"are you there")
    await ws.close()


async def test_attach_relays_the_containers_streams(api: Api) -> None:
    ws = await api.connect([], sub="attach", stdin="true")
    await ws.send_bytes(b"\x00typed")
    await ws.send_bytes(b"\xff\x00")
    seen = await frames(ws)
    assert seen == [b"\x01", b"\x01typed", b'\x03{"metadata":{},"status":"Success"}']


async def test_refusals_before_the_upgrade(served: Served, api: Api) -> None:
    await served.create_pod("done", "c", phase="Succeeded")
    status, body = await api.plain(
        "GET", "/api/v1/namespaces/default/pods/done/exec?command=ls&stdout=1"
    )
    assert (status, body["message"]) == (
        400,
        "cannot exec into a container in a completed pod; current phase is Succeeded",
    )
    status, body = await api.plain("GET", "/api/v1/namespaces/default/pods/done/attach?stdout=1")
    assert (
        body["message"]
        == "cannot attach a container in a completed pod; current phase is Succeeded"
    )
    await served.create_pod("pending", "c", node="")
    status, body = await api.plain("GET", "/api/v1/namespaces/default/pods/pending/exec?stdout=1")
    assert (status, body["message"]) == (400, "pod pending does not have a host assigned")
    status, body = await api.plain("GET", api.path("exec", ["ls"], container="nope", stdout="1"))
    assert (status, body["message"]) == (400, "container nope is not valid for pod web")
    status, body = await api.plain("GET", api.path("exec", ["ls"]))
    assert (status, body["message"]) == (
        400,
        "you must specify at least 1 of stdin, stdout, stderr",
    )


async def test_only_websocket_is_spoken(api: Api) -> None:
    path = api.path("exec", ["ls"], stdout="true")
    status, body = await api.plain(
        "POST",
        path,
        Connection="Upgrade",
        Upgrade="SPDY/3.1",
        **{"X-Stream-Protocol-Version": "v4.channel.k8s.io"},
    )
    assert (status, body["reason"]) == (400, "BadRequest")
    assert "only WebSocket" in body["message"] and "SPDY/3.1" in body["message"]
    status, body = await api.plain("GET", path)
    assert status == 400 and body["message"].startswith("Upgrade request required")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await api.connect(["ls"], "v3.channel.k8s.io")
    assert refused.value.status == 400


async def test_a_kubelet_that_cannot_start_the_command(api: Api) -> None:
    # v5: upstream upgrades first and reports on the error channel
    seen = await frames(await api.connect(["refuse"]))
    assert json.loads(seen[1][1:]) == {
        "metadata": {},
        "status": "Failure",
        "message": 'container "web" not found',
        "reason": "NotFound",
        "details": {"name": "web", "kind": "pods"},
        "code": 404,
    }
    # v4: the kubelet refuses before the upgrade
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await api.connect(["refuse"], V4)
    assert refused.value.status == 404


async def test_stopping_the_server_ends_open_streams(tmp_path: Path) -> None:
    streams = FakeNodeStreams(logs_by_container={("web", "web"): [b"a\n", b"b\n"]})
    streams.gate = asyncio.Event()  # never set: the followed log never ends by itself
    server = serving(tmp_path, streams)
    served = await server.__aenter__()
    stopped = False
    try:
        await served.create_pod("web", "web")
        async with aiohttp.ClientSession() as session:
            api = Api(served, session)
            log = await session.get(f"{served.url}{POD}/log?follow=true", ssl=api.ssl)
            assert await log.content.readany() == b"a\n"
            ws = await api.connect(["sleep"])
            assert (await ws.receive()).data == b"\x01"
            # aiohttp would wait its 5 s shutdown timeout for these two; they end at once
            stopped = True
            await asyncio.wait_for(server.__aexit__(None, None, None), 3)
            assert streams.sessions[0].killed.is_set()
            closed = await asyncio.wait_for(ws.receive(), 5)
            assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    finally:
        if not stopped:
            await server.__aexit__(None, None, None)
