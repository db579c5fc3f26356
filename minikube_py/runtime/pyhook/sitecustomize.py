"""The start-up hook of Python containers: a pod's network and volumes, for unchanged programs.

A process-runtime container has neither a network nor a mount namespace: every pod shares the
host's loopback, where it owns one address (``$POD_IP``, e.g. 127.244.0.5), and its volumes
are directories on the host. This directory is put first on ``PYTHONPATH`` of every container,
so the interpreter imports this module at start-up (Python's ``site`` imports any
``sitecustomize`` it finds), and it makes Python programs behave as in a real pod:

- sockets follow the pod: wildcard and localhost binds use the pod address, localhost
  connections reach it, and cluster service names resolve (``_minikube_py_sockets``, with the
  resolver ``_minikube_py_dns``). Nothing changes without ``POD_IP`` (an IPv4 address). The
  patch is applied lazily, when the program first imports ``socket`` (an import hook), so
  programs that never touch the network pay nothing; ``uvloop`` is patched the same way when
  it is imported.
- file paths follow the pod's volume mounts (``_minikube_py_mounts``, imported only when the
  runtime sets ``MINIKUBE_PY_MOUNTS``), and so do the certificate files ``ssl`` loads, patched
  when ``ssl`` is first imported.

The siblings beside this file are imported by their top-level names (this directory is on
``sys.path``) and only when needed. Whatever goes wrong here is swallowed and the original
call made: the hook must never stop a program. Another ``sitecustomize`` further on
``sys.path`` (a distribution's, a virtualenv's) still runs after this one. This file must not
import minikube_py: it runs inside unrelated programs.
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


def _is_ipv4(text: str) -> bool:
    # (``_minikube_py_sockets`` has the same test; importing it here would cost every program)
    parts = text.split(".")
    return len(parts) == 4 and all(p.isdigit() and int(p) < 256 for p in parts)


def _patch_socket(socket: Any) -> None:
    import _minikube_py_sockets  # type: ignore[import-not-found,unused-ignore]

    _minikube_py_sockets.patch_socket(socket, POD_IP)


def _patch_uvloop(uvloop: Any) -> None:
    import _minikube_py_sockets  # type: ignore[import-not-found,unused-ignore]

    _minikube_py_sockets.patch_uvloop(uvloop, POD_IP)


def _follow_mounts(text: str, root: str) -> None:
    import _minikube_py_mounts  # type: ignore[import-not-found,unused-ignore]

    if _minikube_py_mounts.follow_mounts(text, root):
        _PATCHES["ssl"] = _minikube_py_mounts.patch_ssl


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
