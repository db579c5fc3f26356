"""A tiny authoritative DNS server for tests: A and CNAME records over UDP and TCP.

It runs in a thread on a loopback address of the test's choosing, answers from a fixed zone,
remembers every name it was asked (so a test can check the search order), and can be told to
answer a name over UDP truncated (TC set, no records) so the client must retry over TCP.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator, Mapping


def _read_question(message: bytes) -> tuple[str, int, int]:
    """(name, qtype, end offset) of the first question."""
    labels, offset = [], 12
    while message[offset]:
        length = message[offset]
        labels.append(message[offset + 1 : offset + 1 + length].decode())
        offset += 1 + length
    qtype = struct.unpack_from("!H", message, offset + 1)[0]
    return ".".join(labels).lower(), qtype, offset + 5


def _name(text: str) -> bytes:
    return b"".join(bytes([len(p)]) + p.encode() for p in text.split(".") if p) + b"\0"


class FakeDns:
    """``zone``: name → list of IPv4 addresses, or ``"CNAME target"``."""

    def __init__(
        self, address: str, zone: Mapping[str, list[str] | str], truncate: frozenset[str]
    ) -> None:
        self.zone, self.truncate = dict(zone), truncate
        self.asked: list[str] = []
        self.tcp_asked: list[str] = []
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((address, 0))
        self.port = self.udp.getsockname()[1]
        self.tcp = socket.socket()
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((address, self.port))
        self.tcp.listen()
        self.address = address
        self._threads = [
            threading.Thread(target=self._serve_udp, daemon=True),
            threading.Thread(target=self._serve_tcp, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def answer(self, query: bytes, *, tcp: bool) -> bytes:
        name, qtype, end = _read_question(query)
        (self.tcp_asked if tcp else self.asked).append(name)
        records = b""
        count, rcode, flags = 0, 0, 0x8400  # response, authoritative
        if name in self.truncate and not tcp:
            flags |= 0x0200
        elif name not in self.zone:
            rcode = 3
        else:
            data = self.zone[name]
            if isinstance(data, str):
                target = _name(data.removeprefix("CNAME "))
                records = b"\xc0\x0c" + struct.pack("!HHIH", 5, 1, 30, len(target)) + target
                count = 1
            elif qtype == 1:
                for ip in data:
                    records += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 30, 4)
                    records += socket.inet_aton(ip)
                count = len(data)
        header = struct.pack("!HHHHHH", query[0] << 8 | query[1], flags | rcode, 1, count, 0, 0)
        return header + query[12:end] + records

    def _serve_udp(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                query, peer = self.udp.recvfrom(512)
                if not query:
                    return  # shut down
                self.udp.sendto(self.answer(query, tcp=False), peer)

    def _serve_tcp(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = self.tcp.accept()
                with connection:
                    prefix = connection.recv(2)
                    if len(prefix) < 2:
                        continue
                    length = struct.unpack("!H", prefix)[0]
                    query = b""
                    while len(query) < length:
                        chunk = connection.recv(length - len(query))
                        if not chunk:
                            break
                        query += chunk
                    reply = self.answer(query, tcp=True)
                    connection.sendall(struct.pack("!H", len(reply)) + reply)

    def close(self) -> None:
        # shutdown wakes the threads blocked in recvfrom/accept; then they end
        for sock in (self.udp, self.tcp):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in self._threads:
            thread.join(timeout=5)


@contextlib.contextmanager
def fake_dns(
    address: str, zone: Mapping[str, list[str] | str], truncate: frozenset[str] = frozenset()
) -> Iterator[FakeDns]:
    server = FakeDns(address, zone, truncate)
    try:
        yield server
    finally:
        server.close()
