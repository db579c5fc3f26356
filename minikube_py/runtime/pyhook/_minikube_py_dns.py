"""Cluster names for Python programs in pods: a small DNS stub resolver.

In a Kubernetes pod, ``getaddrinfo("backend")`` reads the pod's /etc/resolv.conf (written by
the kubelet: ``search shop.svc.cluster.local svc.cluster.local cluster.local``, ``options
ndots:5``, the cluster DNS as nameserver) and asks the cluster DNS. A process-runtime pod is an
ordinary host process whose C library reads the *host's* /etc/resolv.conf, so the start-up
hook (``sitecustomize``) asks this module first. The kubelet hands it the pod's resolver
settings in the environment:

- ``MINIKUBE_PY_DNS``: ``ip:port`` of the cluster DNS (the port differs from 53 where the
  cluster may not bind low ports);
- ``MINIKUBE_PY_DNS_SEARCH``: the pod's search list, space-separated;
- ``MINIKUBE_PY_DNS_NDOTS``: the pod's ``ndots`` (glibc's default is 1);
- ``MINIKUBE_PY_DNS_DOMAIN``: the cluster domain (``cluster.local``).

The search list is applied as glibc applies it: a name ending in a dot is absolute; a name
with fewer than ``ndots`` dots tries each search domain first and then itself, any other name
itself first. Only candidates inside the cluster domain are asked of the cluster DNS (A
records over UDP, again over TCP when the answer is truncated); when none of them exists the
hook falls back to the host's resolver with the name as given, so ``pypi.org`` still works.
An answer that is only a CNAME to a name outside the cluster (an ExternalName Service) hands
that name to the host's resolver. Positive answers are kept for their TTL (at most 30 s).

The hook imports this module only when a program looks up a name, so pod start-up pays
nothing; it must not import minikube_py or anything heavy.
"""

from __future__ import annotations

import _socket
import contextlib
import os
import struct
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

TYPE_A, TYPE_CNAME, CLASS_IN = 1, 5, 1
NXDOMAIN = 3
TIMEOUT = 1.0  # per attempt; a loopback server answers in well under a millisecond
ATTEMPTS = 2
MAX_TTL = 30.0
_CACHE: dict[str, tuple[float, list[str]]] = {}


def _server(text: str) -> tuple[str, int] | None:
    host, _, port = text.rpartition(":")
    return (host, int(port)) if host and port.isdigit() else None


SERVER = _server(os.environ.get("MINIKUBE_PY_DNS", ""))
SEARCH = os.environ.get("MINIKUBE_PY_DNS_SEARCH", "").split()
NDOTS = int(os.environ.get("MINIKUBE_PY_DNS_NDOTS") or 1)
DOMAIN = os.environ.get("MINIKUBE_PY_DNS_DOMAIN", "cluster.local").strip(".").lower()
POD_IP = os.environ.get("POD_IP", "")


def candidates(name: str, search: list[str], ndots: int) -> list[str]:
    """The names to try for ``name``, in glibc's order."""
    if name.endswith("."):
        return [name[:-1]]
    searched = [f"{name}.{domain.strip('.')}" for domain in search if domain.strip(".")]
    return [*searched, name] if name.count(".") < ndots else [name, *searched]


def in_domain(name: str, domain: str) -> bool:
    return bool(domain) and (name == domain or name.endswith("." + domain))


def encode_query(name: str, ident: int) -> bytes:
    """A recursive query for ``name``'s A records (ValueError for a name DNS cannot carry)."""
    labels = name.encode("idna" if not name.isascii() else "ascii").split(b".")
    if not all(0 < len(label) < 64 for label in labels):
        raise ValueError(f"not a DNS name: {name!r}")
    question = b"".join(bytes([len(label)]) + label for label in labels) + b"\0"
    return (
        struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0)
        + question
        + struct.pack("!HH", TYPE_A, CLASS_IN)
    )


def _skip_name(message: bytes, offset: int) -> int:
    while True:
        length = message[offset]
        if length >= 0xC0:  # a compression pointer ends the name
            return offset + 2
        if length == 0:
            return offset + 1
        offset += 1 + length


def _read_name(message: bytes, offset: int) -> str:
    labels: list[str] = []
    for _ in range(128):  # bounded: a pointer loop in a bad message must not hang us
        length = message[offset]
        if length >= 0xC0:
            offset = ((length & 0x3F) << 8) | message[offset + 1]
            continue
        if length == 0:
            break
        labels.append(message[offset + 1 : offset + 1 + length].decode("ascii", "replace"))
        offset += 1 + length
    return ".".join(labels).lower()


def decode_answer(message: bytes, ident: int) -> tuple[int, bool, list[str], list[str], float]:
    """``(rcode, truncated, A addresses, CNAME targets, TTL)`` of a response to ``ident``."""
    got, flags, questions, answers = struct.unpack_from("!HHHH", message)
    if got != ident or not flags & 0x8000:
        raise ValueError("not the answer to this query")
    offset = 12
    for _ in range(questions):
        offset = _skip_name(message, offset) + 4
    addresses: list[str] = []
    aliases: list[str] = []
    ttl = MAX_TTL
    for _ in range(answers):
        offset = _skip_name(message, offset)
        kind, klass, record_ttl, length = struct.unpack_from("!HHIH", message, offset)
        offset += 10
        if klass == CLASS_IN and kind == TYPE_A and length == 4:
            addresses.append(".".join(str(byte) for byte in message[offset : offset + 4]))
            ttl = min(ttl, float(record_ttl))
        elif klass == CLASS_IN and kind == TYPE_CNAME:
            aliases.append(_read_name(message, offset))
        offset += length
    return flags & 0xF, bool(flags & 0x0200), addresses, aliases, ttl


def _exchange_udp(server: tuple[str, int], query: bytes, ident: int) -> Any:
    sock = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
    try:
        if POD_IP:  # the server sees the pod as the asker, as in a real cluster
            with contextlib.suppress(OSError):
                sock.bind((POD_IP, 0))
        sock.connect(server)  # connected: a server that is not there refuses at once
        for _ in range(ATTEMPTS):
            sock.settimeout(TIMEOUT)
            sock.send(query)
            try:
                while True:
                    try:
                        return decode_answer(sock.recv(65535), ident)
                    except (ValueError, struct.error, IndexError):
                        continue  # a stray or broken datagram: keep waiting for ours
            except TimeoutError:
                continue
        raise TimeoutError("the cluster DNS did not answer")
    finally:
        sock.close()


def _exchange_tcp(server: tuple[str, int], query: bytes, ident: int) -> Any:
    sock = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    try:
        sock.settimeout(TIMEOUT * ATTEMPTS)
        sock.connect(server)
        sock.sendall(struct.pack("!H", len(query)) + query)
        data = b""
        while len(data) < 2 or len(data) < 2 + struct.unpack_from("!H", data)[0]:
            chunk = sock.recv(65537)
            if not chunk:
                raise ConnectionError("the cluster DNS closed the connection")
            data += chunk
        return decode_answer(data[2:], ident)
    finally:
        sock.close()


def query(name: str, server: tuple[str, int]) -> tuple[int, list[str], list[str], float]:
    """Ask ``server`` for ``name``'s A records: ``(rcode, addresses, CNAME targets, TTL)``."""
    ident = int.from_bytes(os.urandom(2), "big")
    message = encode_query(name, ident)
    rcode, truncated, addresses, aliases, ttl = _exchange_udp(server, message, ident)
    if truncated:
        rcode, _, addresses, aliases, ttl = _exchange_tcp(server, message, ident)
    return rcode, addresses, aliases, ttl


def cluster_address_test() -> Any:
    """A test of "is this IPv4 address in ``$MINIKUBE_PY_CLUSTER_CIDRS``" (the service,
    node and LoadBalancer blocks), for the hook's low-port rewrite."""
    blocks = []
    for cidr in os.environ.get("MINIKUBE_PY_CLUSTER_CIDRS", "").split(","):
        address, _, bits = cidr.strip().partition("/")
        with contextlib.suppress(OSError, ValueError):
            mask = (0xFFFFFFFF << (32 - int(bits))) & 0xFFFFFFFF
            blocks.append((_ipv4(address) & mask, mask))

    def test(host: Any) -> bool:
        try:
            number = _ipv4(host)
        except (OSError, TypeError, ValueError):
            return False
        return any(number & mask == network for network, mask in blocks)

    return test


def _ipv4(text: str) -> int:
    value: int = struct.unpack("!I", _socket.inet_aton(text))[0]
    if text.count(".") != 3:
        raise ValueError(text)  # inet_aton also takes "127.1"; a socket address never is
    return value


def resolve(name: str) -> tuple[str, list[str]] | None:
    """``(the name that answered, its addresses)`` from the cluster DNS, ``(external name,
    [])`` for a CNAME leaving the cluster, or None when the cluster does not know ``name``.
    Raises OSError when the cluster DNS cannot be asked, ValueError for a name DNS cannot
    carry."""
    if SERVER is None:
        return None
    for candidate in candidates(name.lower(), SEARCH, NDOTS):
        asked = candidate
        for _ in range(8):  # a bounded CNAME chain inside the cluster domain
            if not in_domain(asked, DOMAIN):
                break
            _, addresses, aliases, ttl = query(asked, SERVER)
            if addresses:
                _CACHE[name.lower()] = (time.monotonic() + ttl, addresses)
                return candidate, addresses
            if not aliases:
                break  # NXDOMAIN or no data: the next candidate, as glibc goes on
            if not in_domain(aliases[-1], DOMAIN):
                return aliases[-1], []
            asked = aliases[-1]
    return None


def lookup(name: str) -> list[str] | None:
    """``resolve`` for the hook: the addresses, ``[external name]`` for the host's resolver
    to resolve, ``[]`` for a name of the cluster domain that does not exist (an error at
    once); None for any other name the cluster does not know (the host's resolver's)."""
    cached = _CACHE.get(name.lower())
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    try:
        found = resolve(name)
    except (OSError, ValueError, struct.error, IndexError):
        return None  # no cluster DNS to ask: the host's resolver answers instead
    if found is None:
        # A name inside the cluster domain is the cluster's alone: no such name ([]).
        return [] if in_domain(name.lower().rstrip("."), DOMAIN) else None
    return found[1] or [found[0]]
