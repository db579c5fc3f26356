"""DNS over UDP and TCP: the transports of the cluster DNS, around any question handler.

A DNS server listens on one address and port twice: UDP, one question per datagram, whose
answer must fit the client's buffer — 512 bytes, or what the client announced in an EDNS
``OPT`` record — else it is cut and the TC (truncated) bit set, telling the client to ask
again over TCP; and TCP, where each message is preceded by its length in two bytes and a
client may send several questions on one connection (RFC 1035 4.2, RFC 7766).

``DnsServer`` parses each message (dnspython), hands the question to ``handler`` and sends
back what it answers. Whatever arrives, the server keeps serving: datagrams that do not parse
(or are responses, not questions) are dropped, a handler that fails or takes longer than
``query_timeout`` is answered ``SERVFAIL``, UDP questions being answered at once and TCP
connections are capped, and an idle TCP connection is closed after ``idle_timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import dns.flags
import dns.message
import dns.opcode
import dns.rcode

from minikube_py.logs import get_logger

_log = get_logger("dns")

Handler = Callable[[dns.message.Message], Awaitable[dns.message.Message]]
OUR_PAYLOAD = 1232  # the EDNS buffer size we announce (the DNS flag day 2020 value)


def reply(query: dns.message.Message, rcode: dns.rcode.Rcode) -> dns.message.Message:
    """An empty response to ``query`` with ``rcode``."""
    response = dns.message.make_response(query, our_payload=OUR_PAYLOAD)
    response.set_rcode(rcode)
    return response


class DnsServer:
    """UDP and TCP listeners on ``host``:``port`` (0: a free port, the same for both)."""

    def __init__(
        self,
        handler: Handler,
        *,
        host: str,
        port: int,
        query_timeout: float = 5.0,
        idle_timeout: float = 10.0,
        max_udp_queries: int = 256,
        max_tcp_connections: int = 128,
    ) -> None:
        self.handler = handler
        self.host, self.port = host, port
        self.query_timeout, self.idle_timeout = query_timeout, idle_timeout
        self.max_udp_queries, self.max_tcp_connections = max_udp_queries, max_tcp_connections
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # UDP answers in progress
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Bind UDP then TCP on the same port; ``OSError`` if either cannot be had."""
        loop = asyncio.get_running_loop()
        for _attempt in range(5 if self.port == 0 else 1):
            udp, _ = await loop.create_datagram_endpoint(
                lambda: _Datagrams(self), local_addr=(self.host, self.port)
            )
            port = udp.get_extra_info("sockname")[1]
            try:
                self._tcp = await asyncio.start_server(self._serve_connection, self.host, port)
            except OSError:
                udp.close()
                if self.port != 0:
                    raise
                continue  # a free UDP port whose TCP twin is taken: try another
            self._udp, self.port = udp, port
            return
        raise OSError(f"no port free for both UDP and TCP on {self.host}")

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
        tasks = [*self._tasks, *self._connections]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._tcp is not None:
            await self._tcp.wait_closed()

    # -- one message ----------------------------------------------------------------------

    async def respond(self, wire: bytes, *, limit: int | None) -> bytes | None:
        """The wire answer to ``wire`` (``None``: drop it); ``limit`` is UDP's, or None."""
        try:
            query = dns.message.from_wire(wire)
        except Exception:  # not a DNS message: nobody to answer
            return None
        if query.flags & dns.flags.QR:
            return None  # a response, not a question: answering it could start a loop
        if query.opcode() != dns.opcode.QUERY:
            response = reply(query, dns.rcode.NOTIMP)
        elif len(query.question) != 1:
            response = reply(query, dns.rcode.FORMERR)
        else:
            response = await self._answer(query)
        size = 65535 if limit is None else max(limit, query.payload if query.edns >= 0 else 512)
        try:
            return response.to_wire(max_size=size, prefer_truncation=True)
        except Exception:
            _log.exception("cannot encode a DNS answer", question=str(query.question[0]))
            return reply(query, dns.rcode.SERVFAIL).to_wire()

    async def _answer(self, query: dns.message.Message) -> dns.message.Message:
        try:
            async with asyncio.timeout(self.query_timeout):
                return await self.handler(query)
        except TimeoutError:
            _log.warning("DNS question timed out", question=str(query.question[0]))
        except Exception:
            _log.exception("DNS question failed", question=str(query.question[0]))
        return reply(query, dns.rcode.SERVFAIL)

    # -- UDP ------------------------------------------------------------------------------

    def datagram(self, data: bytes, address: tuple[str, int]) -> None:
        if len(self._tasks) >= self.max_udp_queries or self._udp is None:
            return  # overloaded: the client asks again, as over a lossy network
        task = asyncio.get_running_loop().create_task(self._answer_datagram(data, address))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer_datagram(self, data: bytes, address: tuple[str, int]) -> None:
        answer = await self.respond(data, limit=512)
        if answer is not None and self._udp is not None and not self._udp.is_closing():
            self._udp.sendto(answer, address)

    # -- TCP ------------------------------------------------------------------------------

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if len(self._connections) >= self.max_tcp_connections or task is None:
            writer.close()
            return
        self._connections.add(task)
        try:
            while True:
                async with asyncio.timeout(self.idle_timeout):
                    length = int.from_bytes(await reader.readexactly(2), "big")
                    wire = await reader.readexactly(length)
                answer = await self.respond(wire, limit=None)
                if answer is not None:
                    writer.write(len(answer).to_bytes(2, "big") + answer)
                    async with asyncio.timeout(self.idle_timeout):
                        await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass  # idle, closed by the client, or gone: the connection ends
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self.server = server

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.server.datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        pass  # an ICMP error about an earlier answer's client: nothing to do
