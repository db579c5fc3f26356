"""The DNS transports alone: UDP and TCP framing, truncation, garbage, failing handlers."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import dns.asyncquery
import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pytest

from minikube_py.net.dns_server import DnsServer, reply

HOST = "127.0.0.1"


async def handler(query: dns.message.Message) -> dns.message.Message:
    """``many.test.`` has 60 addresses (too many for 512 bytes); ``boom.`` fails, ``slow.``
    hangs; every other name has one address."""
    name = query.question[0].name.to_text()
    if name == "boom.":
        raise RuntimeError("the handler broke")
    if name == "slow.":
        await asyncio.sleep(60)
    response = reply(query, dns.rcode.NOERROR)
    count = 60 if name == "many.test." else 1
    addresses = [f"10.0.{i // 250}.{i % 250 + 1}" for i in range(count)]
    response.answer.append(dns.rrset.from_text(name, 30, "IN", "A", *addresses))
    return response


@pytest.fixture
async def server() -> AsyncIterator[DnsServer]:
    made = DnsServer(handler, host=HOST, port=0, query_timeout=0.5, idle_timeout=2.0)
    await made.start()
    try:
        yield made
    finally:
        await made.stop()


async def test_udp_and_tcp_answer_on_one_port(server: DnsServer) -> None:
    query = dns.message.make_query("one.test.", "A")
    by_udp = await dns.asyncquery.udp(query, HOST, port=server.port, timeout=2)
    by_tcp = await dns.asyncquery.tcp(query, HOST, port=server.port, timeout=2)
    for response in (by_udp, by_tcp):
        assert response.id == query.id
        assert [rr.to_text() for rr in response.answer[0]] == ["10.0.0.1"]


async def test_a_large_udp_answer_is_truncated_unless_edns_allows_it(server: DnsServer) -> None:
    plain = dns.message.make_query("many.test.", "A")
    truncated = await dns.asyncquery.udp(plain, HOST, port=server.port, timeout=2)
    assert truncated.flags & dns.flags.TC
    full = await dns.asyncquery.tcp(plain, HOST, port=server.port, timeout=2)
    assert not full.flags & dns.flags.TC and len(full.answer[0]) == 60
    edns = dns.message.make_query("many.test.", "A", use_edns=0, payload=4096)
    whole = await dns.asyncquery.udp(edns, HOST, port=server.port, timeout=2)
    assert not whole.flags & dns.flags.TC and len(whole.answer[0]) == 60


async def test_garbage_is_ignored_and_the_server_keeps_answering(server: DnsServer) -> None:
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        raw.setblocking(False)
        for garbage in (b"", b"\x00", b"\xff" * 11, b"\x12\x34" + b"\x01" * 40):
            await loop.sock_sendto(raw, garbage, (HOST, server.port))
        # a response (QR set) is not answered either
        response = dns.message.make_response(dns.message.make_query("one.test.", "A"))
        await loop.sock_sendto(raw, response.to_wire(), (HOST, server.port))
        query = dns.message.make_query("one.test.", "A")
        await loop.sock_sendto(raw, query.to_wire(), (HOST, server.port))
        async with asyncio.timeout(2):
            data = await loop.sock_recv(raw, 4096)
    # the first datagram back answers the good query: nothing else was answered
    assert dns.message.from_wire(data).id == query.id
    # framed garbage over TCP, then a good question on the same connection
    reader, writer = await asyncio.open_connection(HOST, server.port)
    try:
        wire = query.to_wire()
        writer.write(b"\x00\x05hello" + len(wire).to_bytes(2, "big") + wire)
        await writer.drain()
        async with asyncio.timeout(2):
            length = int.from_bytes(await reader.readexactly(2), "big")
            assert dns.message.from_wire(await reader.readexactly(length)).id == query.id
    finally:
        writer.close()
    # and a connection that sends half a message and goes away leaves the server as it was
    _reader, writer = await asyncio.open_connection(HOST, server.port)
    writer.write(b"\x00\x40\x01")
    await writer.drain()
    writer.close()
    answer = await dns.asyncquery.tcp(query, HOST, port=server.port, timeout=2)
    assert answer.answer


async def test_tcp_answers_several_questions_on_one_connection(server: DnsServer) -> None:
    reader, writer = await asyncio.open_connection(HOST, server.port)
    try:
        queries = [dns.message.make_query(f"q{i}.test.", "A") for i in range(3)]
        for query in queries:
            wire = query.to_wire()
            writer.write(len(wire).to_bytes(2, "big") + wire)
        await writer.drain()
        ids = []
        async with asyncio.timeout(2):
            for _ in queries:
                length = int.from_bytes(await reader.readexactly(2), "big")
                ids.append(dns.message.from_wire(await reader.readexactly(length)).id)
        assert ids == [q.id for q in queries]
    finally:
        writer.close()


async def test_a_failing_or_hanging_handler_is_servfail(server: DnsServer) -> None:
    for name in ("boom.", "slow."):
        query = dns.message.make_query(name, "A")
        response = await dns.asyncquery.udp(query, HOST, port=server.port, timeout=3)
        assert response.rcode() == dns.rcode.SERVFAIL, name


async def test_several_questions_in_one_message_are_formerr(server: DnsServer) -> None:
    query = dns.message.make_query("one.test.", "A")
    query.question.append(dns.message.make_query("two.test.", "A").question[0])
    response = await dns.asyncquery.udp(query, HOST, port=server.port, timeout=2)
    assert response.rcode() == dns.rcode.FORMERR
