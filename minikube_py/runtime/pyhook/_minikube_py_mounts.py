"""A pod's volumes for Python programs: files at their mount paths, without a mount namespace.

In Kubernetes a container sees each volume at its ``mountPath``. Here a volume is a directory
on the host, and the runtime hands the process the table in ``MINIKUBE_PY_MOUNTS`` (JSON
``[[mount path, host path, read only], …]``); the start-up hook (``sitecustomize``) imports
this module only when it is set. An absolute path under a mount point (the longest one wins)
is then used at the volume's host path instead, so
``open("/var/run/secrets/kubernetes.io/serviceaccount/token")`` and the official client's
``load_incluster_config()`` work unchanged. That holds for ``open`` (``builtins`` and ``io``,
so pathlib's too); the ``os`` functions that take a path (``stat``, ``listdir``, ``scandir``,
``access``, ``readlink``, ``chdir``, ``mkdir``, ``remove``, ``rename`` …: ``_OS_CALLS``),
through which ``os.path``, ``shutil`` and pathlib go; ``os.path.realpath`` (pathlib's
``resolve``), which answers a container path while the result stays inside the volume; and
the certificate files ``ssl`` hands to OpenSSL (patched when ``ssl`` is first imported).

A write under a ``readOnly`` mount fails with ``EROFS`` ("Read-only file system"), as in a
container. Only mount paths move, as in the runtime's ``sh -c`` scripts (``/etc/hosts`` and
``/tmp/x`` stay the host's), and host paths inside a mount point all the same (the container
root, the volumes, the interpreter's files, all under a volume at ``/tmp``, say) are left
alone. Imports never go through the patched functions (the import system holds ``posix``
itself). A failure in a patched function falls back to the original call: this runs inside
unrelated programs, and for that reason imports nothing heavy (not even minikube_py).
"""

from __future__ import annotations

import contextlib
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at start-up, and only mypy needs it
    from typing import Any

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
    table: list[tuple[str, str, str, bool, tuple[str, ...]]] = []
    for point, host, read_only in mounts:
        inside = tuple(path + "/" for path in known if path.startswith(point + "/"))
        table.append((point, point + "/", host, read_only, inside))
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


def follow_mounts(text: str, root: str) -> bool:
    """Make file paths follow the mounts in ``text`` (``MINIKUBE_PY_MOUNTS``) of a container
    whose root is ``root``; False if the table has no mount to follow."""
    import builtins
    import io

    _TABLE[:] = build_table(text, root)
    if not _TABLE:
        return False
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
    return True


def patch_ssl(ssl: Any) -> None:
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
