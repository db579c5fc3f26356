"""A pod's network and volumes for Python programs: its address, and its mounts at their paths.

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
- ``getaddrinfo``, ``gethostbyname`` and ``gethostbyname_ex`` resolve cluster names
  (``backend``, ``backend.shop``, ``backend.shop.svc.cluster.local``) through the cluster DNS
  with the pod's search path (``_minikube_py_dns``, imported at the first lookup); other names
  go to the host's resolver. Where the cluster's listeners could not bind ports below 1024
  (``MINIKUBE_PY_LOW_PORT_OFFSET`` set), a connection to a cluster address
  (``MINIKUBE_PY_CLUSTER_CIDRS``) at such a port goes to the offset port, so port 80 works.

Nothing happens without ``POD_IP`` (an IPv4 address). The patch is applied lazily, when the
program first imports ``socket`` (an import hook), so programs that never touch the network pay
nothing; ``uvloop``, which connects through libuv rather than ``socket.connect``, gets its
``create_connection`` host rewritten the same way when it is imported.

Files follow the pod's volume mounts the same way. A container has no mount namespace here:
its volumes are directories on the host, and the runtime hands their table to the process in
``MINIKUBE_PY_MOUNTS`` (JSON ``[[mount path, host path, read only], …]``). An absolute path
under a mount point (the longest one wins) is used at the volume's host path instead, so
``open("/var/run/secrets/kubernetes.io/serviceaccount/token")`` and the official client's
``load_incluster_config()`` work unchanged. This covers:

- ``open`` (``builtins`` and ``io``, so pathlib's too);
- the ``os`` functions that take a path (``open``, ``stat``, ``lstat``, ``listdir``,
  ``scandir``, ``access``, ``readlink``, ``chdir``, and those that change a file: ``mkdir``,
  ``remove``, ``rename`` …), through which ``os.path``, ``shutil`` and pathlib go;
- ``os.path.realpath`` (pathlib's ``resolve``), which answers a container path while the
  result stays inside the volume;
- the certificate files ``ssl`` hands to OpenSSL (``load_verify_locations``,
  ``load_cert_chain``; patched when ``ssl`` is first imported).

A write under a ``readOnly`` mount fails with ``EROFS`` ("Read-only file system"), as in a
container. Only mount paths move, as in the runtime's ``sh -c`` scripts: ``/etc/hosts`` or
``/tmp/x`` stay the host's. Host paths that lie inside a mount point all the same (the
container root, the volumes, the interpreter's files, all under a volume mounted at ``/tmp``,
say) are left alone. Imports never go through the patched functions (the import system holds
``posix`` itself), and nothing changes without ``MINIKUBE_PY_MOUNTS``.

Whatever goes wrong here is swallowed and the original call made: the hook must never stop a
program. Another ``sitecustomize`` further on ``sys.path`` (a distribution's, a virtualenv's)
still runs after this one. This file must not import minikube_py: it runs inside unrelated
programs.
"""

from __future__ import annotations

import contextlib
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at start-up, and only mypy needs it
    from typing import Any

POD_IP = os.environ.get("POD_IP", "")
MOUNTS = os.environ.get("MINIKUBE_PY_MOUNTS", "")
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


# ---- files: the pod's volumes at their mount paths ----

# (mount point, mount point + "/", host path, read only, host paths inside the mount point to
# leave alone + "/"), longest mount point first: the first match is the most specific.
_TABLE: list[tuple[str, str, str, bool, tuple[str, ...]]] = []
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_TRUNC


def parse_mounts(text: str) -> list[tuple[str, str, bool]]:
    """The runtime's mount table: JSON ``[[mount path, host path, read only], …]``.

    What the runtime writes (compact, no escapes in the paths) is read by splitting it at the
    quotes, since importing ``json`` would cost more than all the rest of the hook; anything
    else goes to ``json``."""
    parts = text.split('"')
    count = (len(parts) - 1) // 4
    if "\\" not in text and count and len(parts) == 4 * count + 1 and parts[0] == "[[":
        entries = []
        for index in range(count):
            point, comma, host, tail = parts[4 * index + 1 : 4 * index + 5]
            end = "]]" if index == count - 1 else "],["
            if comma != "," or tail not in (",true" + end, ",false" + end):
                break
            entries.append((point, host, tail == ",true" + end))
        else:
            return entries
    import json

    return [(str(point), str(host), bool(flag)) for point, host, flag in json.loads(text)]


def build_table(text: str, root: str) -> list[tuple[str, str, str, bool, tuple[str, ...]]]:
    """``_TABLE`` for the JSON ``text`` of a container whose root is ``root``."""
    mounts = [
        ("/" + point.strip("/"), host.rstrip("/"), bool(read_only))
        for point, host, read_only in parse_mounts(text)
        if point.strip("/") and host.startswith("/")
    ]
    # Paths this process knows as host paths. Under a mount point they would be captured
    # (a volume at /tmp while the pod's directory is under /tmp), so they stay as they are.
    known = {root, sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix}
    known.update(host for _, host, _ in mounts)
    known = {path.rstrip("/") for path in known if path.startswith("/")}
    table = [
        (
            point,
            point + "/",
            host,
            read_only,
            tuple(path + "/" for path in known if path.startswith(point + "/")),
        )
        for point, host, read_only in mounts
    ]
    table.sort(key=lambda entry: len(entry[0]), reverse=True)
    return table


def locate(path: str) -> tuple[str, bool] | None:
    """``(host path, read only)`` for an absolute container ``path`` in a mount, else None."""
    if "//" in path or "/." in path:
        path = "/" + os.path.normpath(path).lstrip("/")
    for point, below, host, read_only, keep in _TABLE:
        if path.startswith(below) or path == point:
            if keep and (path + "/").startswith(keep):
                return None
            return host + path[len(point) :], read_only
    return None


def _translate(value: Any) -> tuple[Any, bool] | None:
    """``locate`` for any path argument (str, bytes, path-like), in the argument's type."""
    if isinstance(value, str):
        return locate(value) if value[:1] == "/" else None
    if isinstance(value, bytes):
        if value[:1] != b"/":
            return None
        found = locate(os.fsdecode(value))
        return None if found is None else (os.fsencode(found[0]), found[1])
    if isinstance(value, int) or not hasattr(type(value), "__fspath__"):
        return None  # a file descriptor, None, or not a path at all
    path = os.fspath(value)
    return _translate(path) if isinstance(path, (str, bytes)) else None


def _host_path(value: Any) -> Any:
    """``value`` moved to its volume if it lies in one (no read-only check)."""
    try:
        found = _translate(value)
    except Exception:
        return value
    return value if found is None else found[0]


def _moved(
    args: tuple[Any, ...], kwargs: dict[str, Any], positions: tuple[int, ...], names: Any
) -> tuple[tuple[Any, ...], dict[str, Any], Any]:
    """The arguments with their paths moved, and the first one that lies in a read-only
    mount (or None)."""
    refused = None
    for index in positions:
        if index < len(args):
            found = _translate(args[index])
            if found is not None:
                if found[1] and refused is None:
                    refused = args[index]
                args = (*args[:index], found[0], *args[index + 1 :])
    if kwargs:
        for name in names:
            if name in kwargs:
                found = _translate(kwargs[name])
                if found is not None:
                    if found[1] and refused is None:
                        refused = kwargs[name]
                    kwargs = {**kwargs, name: found[0]}
    return args, kwargs, refused


def _read_only(path: Any) -> Any:
    import errno

    raise OSError(errno.EROFS, os.strerror(errno.EROFS), path)


def _follow(
    function: Any,
    positions: tuple[int, ...] = (0,),
    names: tuple[str, ...] = ("path",),
    writes: Any = None,
    refuse: Any = _read_only,
) -> Any:
    """``function`` with its path arguments (at ``positions``, or by keyword in ``names``)
    moved to the volumes they lie in. ``writes`` (True, or a predicate of the moved
    arguments) says whether the call changes the file system: under a read-only mount it is
    then answered by ``refuse(container path)`` instead of being made."""

    def follow(*args: Any, **kwargs: Any) -> Any:
        refused = None
        try:
            moved, named, read_only = _moved(args, kwargs, positions, names)
            if read_only is not None and (writes is True or (writes and writes(moved, named))):
                refused = read_only
            args, kwargs = moved, named
        except Exception:
            refused = None
        if refused is not None:
            return refuse(refused)
        return function(*args, **kwargs)

    follow.__name__ = follow.__qualname__ = function.__name__
    follow.__doc__ = function.__doc__
    follow.__wrapped__ = function  # type: ignore[attr-defined]
    return follow


def _opens_for_writing(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    mode = args[1] if len(args) > 1 else kwargs.get("mode", "r")
    return isinstance(mode, str) and not set(mode).isdisjoint("wax+")


def _flags_write(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    flags = args[1] if len(args) > 1 else kwargs["flags"]
    if flags & _WRITE_FLAGS:
        return True
    # O_CREAT alone writes only when the file is missing, as the kernel decides it.
    return bool(flags & os.O_CREAT) and not os.path.lexists(args[0])


def _access_writes(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    mode = args[1] if len(args) > 1 else kwargs["mode"]
    return bool(mode & os.W_OK)


def _denied(path: Any) -> bool:
    return False  # os.access(W_OK) on a read-only file system


# os function → (path positions, their keywords, writes); anything that writes must say so.
_OS_CALLS: dict[str, tuple[tuple[int, ...], tuple[str, ...], Any]] = {
    "open": ((0,), ("path",), _flags_write),
    "stat": ((0,), ("path",), None),
    "lstat": ((0,), ("path",), None),
    "listdir": ((0,), ("path",), None),
    "scandir": ((0,), ("path",), None),
    "readlink": ((0,), ("path",), None),
    "chdir": ((0,), ("path",), None),
    "access": ((0,), ("path",), _access_writes),
    "mkdir": ((0,), ("path",), True),
    "rmdir": ((0,), ("path",), True),
    "remove": ((0,), ("path",), True),
    "unlink": ((0,), ("path",), True),
    "rename": ((0, 1), ("src", "dst"), True),
    "replace": ((0, 1), ("src", "dst"), True),
    "chmod": ((0,), ("path",), True),
    "utime": ((0,), ("path",), True),
    "truncate": ((0,), ("path",), True),
    "symlink": ((1,), ("dst",), True),  # the link's target is its content, not a path used
    "link": ((0, 1), ("src", "dst"), True),
}


def _realpath(function: Any) -> Any:
    """``os.path.realpath`` (and pathlib's ``resolve``) of a path in a volume: resolved in
    the volume, and given back as a container path while it stays inside the volume."""

    def realpath(filename: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            found = _translate(filename)
        except Exception:
            found = None
        if found is None:
            return function(filename, *args, **kwargs)
        real = function(found[0], *args, **kwargs)
        with contextlib.suppress(Exception):
            for point, _, host, _, _ in _TABLE:
                inside = function(host) if isinstance(real, str) else None
                if inside is not None and (real == inside or real.startswith(inside + "/")):
                    return point + real[len(inside) :]
        return real

    realpath.__name__ = realpath.__qualname__ = function.__name__
    realpath.__wrapped__ = function  # type: ignore[attr-defined]
    return realpath


def _follow_mounts(text: str, root: str) -> None:
    """Make file paths follow the mounts in ``text`` (``MINIKUBE_PY_MOUNTS``)."""
    import builtins
    import io

    _TABLE[:] = build_table(text, root)
    if not _TABLE:
        return
    shared = builtins.open is io.open
    io.open = _follow(io.open, (0,), ("file",), _opens_for_writing)
    builtins.open = (
        io.open if shared else _follow(builtins.open, (0,), ("file",), _opens_for_writing)
    )
    # Who asks ``os.stat in os.supports_dir_fd`` (shutil, os.fwalk) must still get yes.
    groups = (os.supports_dir_fd, os.supports_fd, os.supports_follow_symlinks)
    for name, (positions, names, writes) in _OS_CALLS.items():
        original = getattr(os, name, None)
        if original is None:
            continue
        refuse = _denied if name == "access" else _read_only
        wrapper = _follow(original, positions, names, writes, refuse)
        for group in (*groups, os.supports_effective_ids):
            if original in group:
                group.add(wrapper)
        setattr(os, name, wrapper)
    os.path.realpath = _realpath(os.path.realpath)
    _PATCHES["ssl"] = _patch_ssl


def _patch_ssl(ssl: Any) -> None:
    """Certificates a program names by their container path (the service account's
    ``ca.crt``) are read by OpenSSL, past ``open``: move those paths too."""
    context = ssl.SSLContext
    verify, chain = context.load_verify_locations, context.load_cert_chain

    def load_verify_locations(
        self: Any, cafile: Any = None, capath: Any = None, cadata: Any = None
    ) -> Any:
        return verify(self, _host_path(cafile), _host_path(capath), cadata)

    def load_cert_chain(self: Any, certfile: Any, keyfile: Any = None, password: Any = None) -> Any:
        return chain(self, _host_path(certfile), _host_path(keyfile), password)

    context.load_verify_locations = load_verify_locations
    context.load_cert_chain = load_cert_chain


# module → what to do right after it is first imported (``_install`` fills it)
_PATCHES: dict[str, Any] = {}


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
    if _is_ipv4(POD_IP):
        _PATCHES.update(socket=_patch_socket, uvloop=_patch_uvloop)
    if MOUNTS:
        with contextlib.suppress(Exception):
            _follow_mounts(MOUNTS, os.environ.get("MINIKUBE_PY_ROOT", ""))
    for name in [name for name in _PATCHES if name in sys.modules]:
        with contextlib.suppress(Exception):
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
