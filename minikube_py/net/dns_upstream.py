"""Names outside the cluster: asked of the host's own resolver, boundedly.

CoreDNS hands every name outside its zones to ``forward . /etc/resolv.conf``: the node's
resolvers. This cluster runs on the host itself, so it asks the host the way every program
on it does — ``getaddrinfo`` (``/etc/hosts``, then the host's DNS, as the host's name service
switch says) for ``A`` and ``AAAA``, ``getnameinfo`` for ``PTR``. Both run on the event
loop's worker threads, never on the loop; each question is limited in time, and at most
``concurrency`` are open at once (past that the answer is ``SERVFAIL`` at once, so a host
resolver that hangs cannot pile up threads). Other record types (``MX``, ``TXT``…) of outside
names are not resolvable this way and are ``REFUSED``: this is not a general recursive
resolver, only enough for pods to reach the world by name.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket

import dns.name
import dns.rcode
import dns.reversename

from minikube_py.net.dns_records import Answer, Record

UPSTREAM_TTL = 30  # what the host's resolver says is not cached here; keep clients' caches short


# getaddrinfo's errors that mean "no such name"
_NO_NAME = {socket.EAI_NONAME}
# … and those that mean "the name exists, without an address" (answered as NODATA)
_NO_DATA = {getattr(socket, "EAI_NODATA", None), getattr(socket, "EAI_ADDRFAMILY", None)}


class HostResolver:
    """Answers outside names from the host's resolver, at most ``concurrency`` at a time."""

    def __init__(self, *, timeout: float = 2.0, concurrency: int = 16) -> None:
        self.timeout = timeout
        self.concurrency = concurrency
        self._busy = 0  # lookups whose worker thread has not returned yet

    async def answer(self, qname: str, qtype: str) -> Answer:
        if qtype not in ("A", "AAAA", "PTR"):
            return Answer(dns.rcode.REFUSED)
        if self._busy >= self.concurrency:
            return Answer(dns.rcode.SERVFAIL)
        # The slot is given back when the lookup ends, not when we stop waiting for it: a
        # thread stuck in the host's resolver still holds one, so they cannot pile up.
        self._busy += 1
        lookup = asyncio.ensure_future(
            self._reverse(qname) if qtype == "PTR" else self._forward(qname, qtype)
        )
        lookup.add_done_callback(self._finished)
        try:
            async with asyncio.timeout(self.timeout):
                return await asyncio.shield(lookup)
        except TimeoutError:
            return Answer(dns.rcode.SERVFAIL)

    def _finished(self, lookup: asyncio.Future[Answer]) -> None:
        self._busy -= 1
        if not lookup.cancelled():
            lookup.exception()  # retrieved: a failed lookup was answered SERVFAIL already

    async def addresses(self, qname: str, qtype: str) -> list[Record]:
        """The ``A``/``AAAA`` records of ``qname`` (to follow an ExternalName's CNAME)."""
        result = await self.answer(qname, qtype)
        return list(result.answer)

    async def _forward(self, qname: str, qtype: str) -> Answer:
        host = qname.rstrip(".")
        if not host:
            return Answer(dns.rcode.NXDOMAIN)
        loop = asyncio.get_running_loop()
        try:
            # both families at once: a name with only IPv4 addresses is NODATA for AAAA
            infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except socket.gaierror as error:
            if error.errno in _NO_NAME:
                return Answer(dns.rcode.NXDOMAIN)
            if error.errno in _NO_DATA:
                return Answer(dns.rcode.NOERROR)
            return Answer(dns.rcode.SERVFAIL)
        except (OSError, UnicodeError):
            return Answer(dns.rcode.SERVFAIL)
        owner = qname if qname.endswith(".") else qname + "."
        version = 4 if qtype == "A" else 6
        found: dict[str, Record] = {}
        for info in infos:
            address = str(info[4][0]).split("%")[0]  # an IPv6 scope is no part of the record
            with contextlib.suppress(ValueError):
                if ipaddress.ip_address(address).version == version:
                    found[address] = Record(owner, qtype, UPSTREAM_TTL, address)
        return Answer(dns.rcode.NOERROR, tuple(found.values()))

    async def _reverse(self, qname: str) -> Answer:
        try:
            address = str(dns.reversename.to_address(dns.name.from_text(qname)))
        except Exception:
            return Answer(dns.rcode.NXDOMAIN)
        loop = asyncio.get_running_loop()
        try:
            host, _ = await loop.getnameinfo((address, 0), socket.NI_NAMEREQD)
        except socket.gaierror as error:
            code = dns.rcode.NXDOMAIN if error.errno in _NO_NAME else dns.rcode.SERVFAIL
            return Answer(code)
        except OSError:
            return Answer(dns.rcode.SERVFAIL)
        owner = qname if qname.endswith(".") else qname + "."
        return Answer(
            dns.rcode.NOERROR, (Record(owner, "PTR", UPSTREAM_TTL, host.rstrip(".") + "."),)
        )
