"""The interpreter start-up hook for Python containers (see ``sitecustomize``).

The process runtime puts this directory first on a container's ``PYTHONPATH``; only
``sitecustomize.py`` and its ``_minikube_py_*.py`` siblings (imported by their top-level names
when a program needs them) matter there: nothing imports this package's ``__init__`` in a
container. ``directory()`` is what the runtime calls to get that path.
"""

from __future__ import annotations

import contextlib
import importlib.util
import py_compile
from pathlib import Path

HOOK = Path(__file__).with_name("sitecustomize.py")
# The hook and the siblings it imports when needed (sockets, mounts, the DNS resolver).
FILES = (HOOK, *sorted(HOOK.parent.glob("_minikube_py_*.py")))


def directory() -> Path:
    """The directory to put first on ``PYTHONPATH``, with the hook's bytecode made current.

    Every Python container imports the hook at start-up (and most a sibling or two soon
    after); compiling them once here keeps that at well under a millisecond even where
    ``PYTHONDONTWRITEBYTECODE`` stops the containers from caching them themselves. A read-only
    installation just compiles per start, as before.
    """
    for source in FILES:
        cached = Path(importlib.util.cache_from_source(str(source)))
        with contextlib.suppress(OSError):
            if not cached.exists() or cached.stat().st_mtime < source.stat().st_mtime:
                py_compile.compile(str(source), cfile=str(cached), doraise=True)
    return HOOK.parent
