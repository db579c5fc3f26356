"""The pod network for Python programs: wildcard and localhost mean the pod's own address.

In Kubernetes every pod has its own network namespace, so a program may bind ``0.0.0.0:8080``
and three replicas still run side by side, and ``localhost`` reaches the other containers of
the same pod. The process runtime has no namespaces: all pods share the host's loopback, where
each pod owns one address (``$POD_IP``, e.g. 127.244.0.5). This directory is put first on
``PYTHONPATH`` of every container, so the interpreter imports this module at start-up (Python's
``site`` imports any ``sitecustomize`` it finds) and the program's sockets follow the pod:

- ``bind`` to ``0.0.0.0``, ``""``, ``localhost`` or ``127.0.0.1`` binds ``$POD_IP`` instead;
  an IPv6 socket binding ``::``, ``::1`` or ``localhost`` binds the IPv4-mapped pod address
  ``::ffff:$POD_IP`` (dual-stack: ``IPV6_V6ONLY`` is cleared first), so IPv4 clients reach it.
  A dual-stack server that opens one socket per family on the same port (asyncio's
  ``create_server(host=None)``) would then bind the pod address twice; the second socket gets a
  harmless ephemeral loopback port instead ("shadow"), and the first one serves both.
- ``connect`` / ``connect_ex`` to ``127.0.0.1``, ``::1`` or ``localhost`` reach ``$POD_IP``;
  ``getaddrinfo`` and ``gethostbyname`` answer ``localhost`` with ``$POD_IP``, so
  ``socket.create_connection``, ``http.client``, ``urllib`` and asyncio follow too.

Nothing happens without ``POD_IP`` (an IPv4 address). The patch is applied lazily, when the
program first imports ``socket`` (an import hook), so programs that never touch the network pay
nothing; ``uvloop``, which connects through libuv rather than ``socket.connect``, gets its
``create_connection`` host rewritten the same way when it is imported. Whatever goes wrong
here is swallowed: the hook must never stop a program.
Another ``sitecustomize`` further on ``sys.path`` (a distribution's, a virtualenv's) still
runs after this one. This file must not import minikube_py: it runs inside unrelated programs.
"""

from __future__ import annotations

import contextlib
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at start-up, and only mypy needs it
    from typing import Any

POD_IP = os.environ.get("POD_IP", "")
_LOCAL_V4 = frozenset({"0.0.0.0", "", "localhost", "127.0.0.1"})
_LOCAL_V6 = frozenset({"::", "", "localhost", "::1", "::0"})
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "localhost.localdomain"})


def _is_ipv4(text: str) -> bool:
    parts = text.split(".")
    return len(parts) == 4 and all(p.isdigit() and int(p) < 256 for p in parts)


def _cluster_address(host: str) -> str | None:
    """SEAM — resolves cluster service names (``web``, ``web.default.svc.cluster.local``).

    Cluster DNS arrives with a later issue; until then every name goes to the host resolver.
    """
    return None


def _patch_socket(socket: Any) -> None:
    """Replace the socket functions that decide which address a program uses."""
    import weakref

    pod_ip = POD_IP
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

    def connect_target(sock: Any, address: Any) -> Any:
        host = host_of(address)
        if sock.family == socket.AF_INET and host in ("127.0.0.1", "localhost"):
            return (pod_ip, address[1])
        if sock.family == socket.AF_INET6 and host in ("::1", "localhost"):
            return (mapped, *address[1:])
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

    def resolve(host: Any, family: int) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if not isinstance(name, str):
            return host
        if name.lower() in _LOOPBACK_NAMES and family in (0, socket.AF_INET):
            return pod_ip
        if name in ("::1", "localhost") and family == socket.AF_INET6:
            return mapped
        return _cluster_address(name) or host

    def getaddrinfo(
        host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> Any:
        with contextlib.suppress(Exception):
            host = resolve(host, family)
        return original_getaddrinfo(host, port, family, type, proto, flags)

    def gethostbyname(host: Any) -> str:
        with contextlib.suppress(Exception):
            host = resolve(host, socket.AF_INET)
        answer: str = original_gethostbyname(host)
        return answer

    cls.bind, cls.connect, cls.connect_ex = bind, connect, connect_ex
    socket.getaddrinfo, socket.gethostbyname = getaddrinfo, gethostbyname


def _to_pod(host: Any) -> Any:
    """``localhost`` and the loopback literals mean the pod; any other host stays."""
    if isinstance(host, str) and host.lower() in (*_LOOPBACK_NAMES, "::1"):
        return POD_IP
    return host


def _patch_uvloop(uvloop: Any) -> None:
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
        return await original(self, protocol_factory, _to_pod(host), port, *args, **kwargs)

    loop.create_connection = create_connection


# module → what to do right after it is first imported
_PATCHES: dict[str, Any] = {"socket": _patch_socket, "uvloop": _patch_uvloop}


class _PatchOnImport:
    """A meta-path finder that lets the modules in ``_PATCHES`` load normally, then patches
    them; it leaves ``sys.meta_path`` once every one of them is done."""

    @classmethod
    def find_spec(cls, name: str, path: Any = None, target: Any = None) -> Any:
        if name not in _PATCHES:
            return None
        for finder in sys.meta_path:
            if finder is cls or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader, _PATCHES.pop(name))  # type: ignore[assignment]
                if not _PATCHES:
                    sys.meta_path.remove(cls)  # safe: a spec ends the import system's loop
                return spec
        return None


class _PatchingLoader:
    """Wraps a module's real loader to patch the module once it has run."""

    def __init__(self, loader: Any, patch: Any) -> None:
        self._loader, self._patch = loader, patch

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        with contextlib.suppress(Exception):
            self._patch(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


def _install() -> None:
    if not _is_ipv4(POD_IP):
        return
    for name in [name for name in _PATCHES if name in sys.modules]:
        _PATCHES.pop(name)(sys.modules[name])
    if _PATCHES:
        sys.meta_path.insert(0, _PatchOnImport)


def _chain() -> None:
    """Run the next ``sitecustomize`` on sys.path, which this module hides by its name."""
    from importlib.machinery import PathFinder

    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    module = type(sys)("sitecustomize")
    module.__file__ = spec.origin
    module.__spec__ = spec
    module.__loader__ = spec.loader
    spec.loader.exec_module(module)


with contextlib.suppress(Exception):
    _install()
try:
    _chain()
except Exception as error:  # as site.py words it for a broken sitecustomize
    print(f"Error in sitecustomize; set PYTHONVERBOSE for traceback:\n{error!r}", file=sys.stderr)
