"""A pod's network for Python programs: its address for wildcard and localhost, its names.

In Kubernetes every pod has its own network namespace, so a program may bind ``0.0.0.0:8080``
and three replicas still run side by side, and ``localhost`` reaches the other containers of
the same pod. The process runtime has no namespaces: all pods share the host's loopback, where
each pod owns one address (``$POD_IP``, e.g. 127.244.0.5). The start-up hook
(``sitecustomize``, beside this file) imports this module when the program first imports
``socket`` and lets it patch the functions that choose an address, so the program's sockets
follow the pod:

- ``bind`` to ``0.0.0.0``, ``""``, ``localhost`` or ``127.0.0.1`` binds ``$POD_IP`` instead;
  an IPv6 socket binding ``::``, ``::1`` or ``localhost`` binds the IPv4-mapped pod address
  ``::ffff:$POD_IP`` (dual-stack: ``IPV6_V6ONLY`` is cleared first), so IPv4 clients reach it.
  A dual-stack server that opens one socket per family on the same port (asyncio's
  ``create_server(host=None)``) would then bind the pod address twice; the second socket gets a
  harmless ephemeral loopback port instead ("shadow"), and the first one serves both.
- ``connect`` / ``connect_ex`` to ``127.0.0.1``, ``::1`` or ``localhost`` reach ``$POD_IP``;
  ``getaddrinfo`` and ``gethostbyname`` answer ``localhost`` with ``$POD_IP``, so
  ``socket.create_connection``, ``http.client``, ``urllib`` and asyncio follow too.
- ``getaddrinfo``, ``gethostbyname`` and ``gethostbyname_ex`` resolve cluster names
  (``backend``, ``backend.shop``, ``backend.shop.svc.cluster.local``) through the cluster DNS
  with the pod's search path (``_minikube_py_dns``, imported at the first lookup); other names
  go to the host's resolver. Where the cluster's listeners could not bind ports below 1024
  (``MINIKUBE_PY_LOW_PORT_OFFSET`` set), a connection to a cluster address
  (``MINIKUBE_PY_CLUSTER_CIDRS``) at such a port goes to the offset port, so port 80 works.

``uvloop``, which connects through libuv rather than ``socket.connect``, gets its
``create_connection`` host rewritten the same way when it is imported.

A failure inside a patched function falls back to the original call: the hook must never stop
a program. Like the hook, this module must not import minikube_py or anything heavy.
"""

from __future__ import annotations

import contextlib
import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at start-up, and only mypy needs it
    from typing import Any

_DNS = os.environ.get("MINIKUBE_PY_DNS", "")
# Set only where the cluster's listeners could not have ports below 1024 (config.py).
_LOW_PORT_OFFSET = int(os.environ.get("MINIKUBE_PY_LOW_PORT_OFFSET") or 0)
_LOCAL_V4 = frozenset({"0.0.0.0", "", "localhost", "127.0.0.1"})
_LOCAL_V6 = frozenset({"::", "", "localhost", "::1", "::0"})
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "localhost.localdomain"})


def _is_ipv4(text: str) -> bool:
    parts = text.split(".")
    return len(parts) == 4 and all(p.isdigit() and int(p) < 256 for p in parts)


def _cluster_addresses(host: str) -> list[str] | None:
    """Cluster names (``web``, ``web.shop``, ``web.shop.svc.cluster.local``) by the pod's
    search path and cluster DNS (``$MINIKUBE_PY_DNS``); None for any other name. The resolver
    (``_minikube_py_dns``, beside this file) is imported at the first lookup only."""
    if not _DNS or not host or _is_ipv4(host) or ":" in host:
        return None
    import _minikube_py_dns  # type: ignore[import-not-found,unused-ignore]

    found: list[str] | None = _minikube_py_dns.lookup(host)
    return found


def patch_socket(socket: Any, pod_ip: str) -> None:
    """Replace the socket functions that decide which address a program uses, so that they
    follow the pod address ``pod_ip``."""
    import weakref

    mapped = f"::ffff:{pod_ip}"
    cls = socket.socket
    original_bind, original_connect = cls.bind, cls.connect
    original_connect_ex, original_getaddrinfo = cls.connect_ex, socket.getaddrinfo
    original_gethostbyname = socket.gethostbyname
    # port → the socket that took the pod address for a wildcard bind (see "shadow" above).
    claimed: dict[int, Any] = {}

    def host_of(address: Any) -> Any:
        if isinstance(address, tuple) and len(address) >= 2:
            host = address[0]
            return host.decode() if isinstance(host, bytes) else host
        return None

    def bind_target(sock: Any, address: Any) -> Any:
        host = host_of(address)
        if sock.family == socket.AF_INET and host in _LOCAL_V4:
            return (pod_ip, address[1])
        if sock.family == socket.AF_INET6 and host in _LOCAL_V6:
            try:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            except OSError:
                return None
            return (mapped, *address[1:])
        return None

    in_cluster = None
    if _LOW_PORT_OFFSET:
        import _minikube_py_dns  # type: ignore[import-not-found,unused-ignore]

        in_cluster = _minikube_py_dns.cluster_address_test()

    def connect_target(sock: Any, address: Any) -> Any:
        host = host_of(address)
        if sock.family == socket.AF_INET and host in ("127.0.0.1", "localhost"):
            return (pod_ip, address[1])
        if sock.family == socket.AF_INET6 and host in ("::1", "localhost"):
            return (mapped, *address[1:])
        if (
            in_cluster
            and sock.family == socket.AF_INET
            and 0 < address[1] < 1024
            and in_cluster(host)
        ):  # a ClusterIP's port 80 listens at LOW_PORT_OFFSET + 80
            return (host, _LOW_PORT_OFFSET + address[1])
        return address

    def holds_twin(sock: Any, port: int) -> bool:
        reference = claimed.get(port)
        other = reference() if reference is not None else None
        return (
            other is not None
            and other is not sock
            and other.family != sock.family
            and other.fileno() != -1
        )

    def bind(self: Any, address: Any) -> None:
        try:
            target = bind_target(self, address)
        except Exception:
            target = None
        if target is None:
            original_bind(self, address)
            return
        if target[1] and holds_twin(self, target[1]):
            # The other family's socket of this dual-stack server already has the pod
            # address on this port (a conflict that SO_REUSEADDR would only reveal at
            # listen()); park this one where it disturbs nobody.
            shadow = ("::1", 0) if self.family == socket.AF_INET6 else ("127.0.0.1", 0)
            with contextlib.suppress(OSError):
                original_bind(self, shadow)
            return
        original_bind(self, target)
        if target[1]:
            claimed[target[1]] = weakref.ref(self)

    def connect(self: Any, address: Any) -> None:
        with contextlib.suppress(Exception):
            address = connect_target(self, address)
        original_connect(self, address)

    def connect_ex(self: Any, address: Any) -> int:
        with contextlib.suppress(Exception):
            address = connect_target(self, address)
        code: int = original_connect_ex(self, address)
        return code

    original_gethostbyname_ex = socket.gethostbyname_ex

    def resolve(host: Any, family: int) -> Any:
        """The hosts to ask the host's resolver for instead of ``host``."""
        name = host.decode() if isinstance(host, bytes) else host
        if not isinstance(name, str):
            return [host]
        if name.lower() in _LOOPBACK_NAMES and family in (0, socket.AF_INET):
            return [pod_ip]
        if name in ("::1", "localhost") and family == socket.AF_INET6:
            return [mapped]
        if family in (0, socket.AF_INET):  # the cluster has IPv4 addresses only
            found = _cluster_addresses(name)
            return [host] if found is None else found  # [] for no such cluster name
        return [host]

    def unknown(hosts: Any) -> None:
        if not hosts:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    def getaddrinfo(
        host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> Any:
        hosts = [host]
        if not flags & socket.AI_NUMERICHOST:
            with contextlib.suppress(Exception):
                hosts = resolve(host, family)
        unknown(hosts)
        if len(hosts) == 1:
            return original_getaddrinfo(hosts[0], port, family, type, proto, flags)
        return [
            entry
            for each in hosts
            for entry in original_getaddrinfo(each, port, family, type, proto, flags)
        ]

    def gethostbyname(host: Any) -> str:
        hosts = [host]
        with contextlib.suppress(Exception):
            hosts = resolve(host, socket.AF_INET)
        unknown(hosts)
        answer: str = original_gethostbyname(hosts[0])
        return answer

    def gethostbyname_ex(host: Any) -> Any:
        hosts = [host]
        with contextlib.suppress(Exception):
            hosts = resolve(host, socket.AF_INET)
        unknown(hosts)
        if hosts == [host] or not all(_is_ipv4(each) for each in hosts):
            return original_gethostbyname_ex(hosts[0])
        return (host, [], hosts)

    cls.bind, cls.connect, cls.connect_ex = bind, connect, connect_ex
    socket.getaddrinfo, socket.gethostbyname = getaddrinfo, gethostbyname
    socket.gethostbyname_ex = gethostbyname_ex


def _to_pod(host: Any, pod_ip: str) -> Any:
    """``localhost`` and the loopback literals mean the pod; any other host stays."""
    if isinstance(host, str) and host.lower() in (*_LOOPBACK_NAMES, "::1"):
        return pod_ip
    return host


def patch_uvloop(uvloop: Any, pod_ip: str) -> None:
    """uvloop connects through libuv, past ``socket.connect``: rewrite its host argument.

    (Its servers bind Python sockets, which the socket patch already covers.)"""
    loop = uvloop.Loop
    original = loop.create_connection

    async def create_connection(
        self: Any,
        protocol_factory: Any,
        host: Any = None,
        port: Any = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        return await original(self, protocol_factory, _to_pod(host, pod_ip), port, *args, **kwargs)

    loop.create_connection = create_connection
