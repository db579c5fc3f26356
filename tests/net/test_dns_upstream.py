"""Names outside the cluster, asked of the host's resolver: answers, limits, refusals."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import dns.rcode
import pytest

from minikube_py.net.dns_upstream import HostResolver


async def test_the_host_resolves_localhost() -> None:
    resolver = HostResolver()
    answer = await resolver.answer("localhost.", "A")
    assert answer.rcode == dns.rcode.NOERROR
    assert [(r.name, r.rdtype, r.data) for r in answer.answer] == [("localhost.", "A", "127.0.0.1")]
    # an AAAA question gets IPv6 addresses or none, never the IPv4 one nor NXDOMAIN
    six = await resolver.answer("localhost.", "AAAA")
    assert six.rcode == dns.rcode.NOERROR and all(r.rdtype == "AAAA" for r in six.answer)
    reverse = await resolver.answer("1.0.0.127.in-addr.arpa.", "PTR")
    assert reverse.rcode == dns.rcode.NOERROR and reverse.answer[0].data.startswith("localhost")


async def test_other_types_are_refused() -> None:
    for qtype in ("MX", "TXT", "SRV", "NS"):
        assert (await HostResolver().answer("localhost.", qtype)).rcode == dns.rcode.REFUSED


async def test_a_hanging_host_resolver_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    release = asyncio.Event()
    calls = []

    async def stuck(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        calls.append(host)
        await release.wait()
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.1", 0))]

    monkeypatch.setattr(loop, "getaddrinfo", stuck)
    resolver = HostResolver(timeout=0.1, concurrency=1)
    assert (await resolver.answer("slow.example.", "A")).rcode == dns.rcode.SERVFAIL
    # the stuck lookup still holds the only slot: the next question fails at once
    assert (await resolver.answer("next.example.", "A")).rcode == dns.rcode.SERVFAIL
    assert calls == ["slow.example"]
    release.set()
    for _ in range(10):  # the stuck lookup ends and gives its slot back
        await asyncio.sleep(0)
    answer = await resolver.answer("later.example.", "A")
    assert [r.data for r in answer.answer] == ["192.0.2.1"]


async def test_resolver_errors_become_dns_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    errors = {
        "missing.": socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
        "again.": socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
    }

    async def failing(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        raise errors[host + "."]

    monkeypatch.setattr(loop, "getaddrinfo", failing)
    resolver = HostResolver()
    assert (await resolver.answer("missing.", "A")).rcode == dns.rcode.NXDOMAIN
    assert (await resolver.answer("again.", "A")).rcode == dns.rcode.SERVFAIL
